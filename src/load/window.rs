//! A window as the user wrote it, resolved: its date, its UTC range in the display zone, the
//! naive interval a file's records of it can be in, and the margin loaded around it.

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::AuditError;
use crate::time::{UtcRange, Zone};
use crate::timeline::{Filter, FilterSpec};

/// The date of a bare-time window: `--date`, or the one local date the data covers.
pub(super) fn window_date(
    f: &FilterSpec,
    zone: &Zone,
    span: Option<(i64, i64)>,
) -> Result<Option<NaiveDate>, AuditError> {
    if f.date.is_some() || !f.window.as_ref().is_some_and(|w| w.needs_date()) {
        return Ok(f.date);
    }
    let Some((a, b)) = span else {
        return Err(AuditError::usage(
            "--window has no date and the sources hold no rows to take it from; add --date YYYY-MM-DD",
        ));
    };
    let day = |t: i64| {
        zone.local(DateTime::<Utc>::from_timestamp_micros(t).unwrap_or_default())
            .date()
    };
    let (first, last) = (day(a), day(b));
    if first == last {
        Ok(Some(first))
    } else {
        Err(AuditError::usage(format!(
            "--window {} has no date and the data spans {first} .. {last} ({zone}); add --date YYYY-MM-DD",
            f.window
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default()
        )))
    }
}

pub(super) fn resolve_filter(
    f: &FilterSpec,
    zone: &Zone,
    date: Option<NaiveDate>,
) -> Result<Filter, AuditError> {
    let window: Option<UtcRange> = match &f.window {
        Some(w) => Some(w.resolve(zone, date).map_err(AuditError::usage)?),
        None => None,
    };
    Ok(Filter {
        window,
        symbol: f.symbol.as_ref().map(|s| s.trim().to_ascii_uppercase()),
        position: f.position,
        correlation: f.correlation.clone(),
        signal: f.signal,
    })
}

/// `[lo, hi]` in naive µs: where records of the UTC window `w` can be in a file read in any of
/// `zones`. Each zone's offsets are looked at from two hours before the window to two hours
/// after it (hourly, or daily over a long window: a DST period lasts months); a second of
/// slack where every zone keeps one offset there (fixed offsets, `Etc/UTC`, Moscow), an hour
/// where a transition is near, for the local hour a change repeats or skips (an hour for
/// every IANA zone made a one-minute window read two hours of a file back); and `skew_us`, the
/// most the file's clock is off its zones.
pub(super) fn naive_interval(w: &UtcRange, zones: &[Zone], skew_us: i64) -> (i64, i64) {
    const HOUR: i64 = 3_600_000_000;
    let (start, end) = (w.start.timestamp_micros(), w.end.timestamp_micros());
    let (from, to) = (start - 2 * HOUR, end + 2 * HOUR);
    let step = ((to - from) / 10_000).clamp(HOUR, 24 * HOUR);
    let instants: Vec<i64> = (0..)
        .map(|k| from + k * step)
        .take_while(|&t| t < to)
        .chain([start, end, to])
        .collect();
    let mut offs: Vec<i64> = Vec::new();
    let mut steady = true;
    for z in zones {
        let of = |t: i64| {
            let at = chrono::DateTime::from_timestamp_micros(t).unwrap_or_default();
            i64::from(z.offset_at(at).local_minus_utc()) * 1_000_000
        };
        let seen: Vec<i64> = match z {
            Zone::Fixed(_) => vec![of(start)],
            Zone::Iana(_) => instants.iter().map(|&t| of(t)).collect(),
        };
        steady &= seen.iter().all(|&o| o == seen[0]);
        offs.extend(seen);
    }
    offs.sort_unstable();
    let margin = if steady { 1_000_000 } else { HOUR } + skew_us;
    let lo = start + offs.first().copied().unwrap_or(0) - margin;
    let hi = end + offs.last().copied().unwrap_or(0) + margin;
    (lo, hi)
}

/// An absolute `--window`/range widened by `margin_us` (None for anything else).
pub(super) fn widen_spec(f: &FilterSpec, margin_us: i64) -> Option<UtcRange> {
    let w = f.window.as_ref()?;
    if w.needs_date() {
        return None;
    }
    let r = w.resolve(&Zone::UTC, None).ok()?;
    Some(UtcRange {
        start: r.start - chrono::Duration::microseconds(margin_us),
        end: r.end + chrono::Duration::microseconds(margin_us),
    })
}

pub(super) fn widen(f: &Filter, margin_us: i64) -> Filter {
    let mut w = f.clone();
    if let Some(r) = &mut w.window {
        r.start -= chrono::Duration::microseconds(margin_us);
        r.end += chrono::Duration::microseconds(margin_us);
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_naive_interval_covers_every_zone_and_its_slack() {
        let w = UtcRange {
            start: "2025-10-18T11:07:00Z".parse().unwrap(),
            end: "2025-10-18T11:08:00Z".parse().unwrap(),
        };
        let plus = |h: i32| Zone::Fixed(chrono::FixedOffset::east_opt(h * 3600).unwrap());
        let (lo, hi) = naive_interval(&w, &[plus(4), plus(3)], 0);
        let at = |s: &str| {
            chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                .unwrap()
                .and_utc()
                .timestamp_micros()
        };
        // 14:07 in +03:00 minus a second, 15:08 in +04:00 plus a second.
        assert_eq!(lo, at("2025-10-18 14:06:59"));
        assert_eq!(hi, at("2025-10-18 15:08:01"));
        // IANA zones without a transition near the window: the same second of slack.
        let iana = |n: &str| Zone::Iana(n.parse().unwrap());
        let (lo, hi) = naive_interval(&w, &[iana("Etc/UTC"), iana("Europe/Moscow")], 0);
        assert_eq!(
            (lo, hi),
            (at("2025-10-18 11:06:59"), at("2025-10-18 14:08:01"))
        );
        // Berlin leaves summer time at 2025-10-26 01:00 UTC: a window an hour before it takes
        // both offsets and an hour of slack.
        let near = UtcRange {
            start: "2025-10-25T23:59:00Z".parse().unwrap(),
            end: "2025-10-26T00:00:00Z".parse().unwrap(),
        };
        let (lo, hi) = naive_interval(&near, &[iana("Europe/Berlin")], 0);
        assert_eq!(
            (lo, hi),
            (at("2025-10-25 23:59:00"), at("2025-10-26 03:00:00"))
        );
        // A window from spring to autumn whose ends are both in winter time still sees the
        // summer offset inside it.
        let long = UtcRange {
            start: "2025-03-01T00:00:00Z".parse().unwrap(),
            end: "2025-11-01T00:00:00Z".parse().unwrap(),
        };
        let (lo, hi) = naive_interval(&long, &[iana("Europe/Berlin")], 0);
        assert_eq!(
            (lo, hi),
            (at("2025-03-01 00:00:00"), at("2025-11-01 03:00:00"))
        );
    }
}
