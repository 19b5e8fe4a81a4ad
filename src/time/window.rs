//! `--window` and `--date`: a time range typed by a person, read in a display zone.
//!
//! `14:07-14:08` is the minute a person saw in psql. It means nothing until a zone and a date
//! are attached, so parsing (syntax, checked at the edge by clap) and resolving (zone + date →
//! a half-open UTC range) are two steps.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Utc};

use super::zone::{Zone, four_digit_year, parse_offset};

/// One end of a window as typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bound {
    /// `14:07` or `14:07:15.250`: a wall-clock time in the display zone on the window's date.
    Time(NaiveTime),
    /// `2025-10-18 14:07`: a wall-clock time in the display zone.
    Local(NaiveDateTime),
    /// `2025-10-18T14:07:00+03:00` or `...Z`: an absolute instant.
    Absolute(DateTime<Utc>),
}

/// A parsed `--window` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSpec {
    start: Bound,
    end: Bound,
    text: String,
}

/// A resolved window: `[start, end)` in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UtcRange {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl UtcRange {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.start <= t && t < self.end
    }
}

impl fmt::Display for WindowSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl WindowSpec {
    /// A window between two instants (`audit check --since/--until/--last`).
    pub fn absolute(start: DateTime<Utc>, end: DateTime<Utc>) -> WindowSpec {
        WindowSpec {
            start: Bound::Absolute(start),
            end: Bound::Absolute(end),
            text: format!("{}..{}", start.to_rfc3339(), end.to_rfc3339()),
        }
    }

    /// True when the window needs a date (both ends are bare times).
    pub fn needs_date(&self) -> bool {
        matches!(self.start, Bound::Time(_)) || matches!(self.end, Bound::Time(_))
    }

    /// Attaches the display zone and, for bare times, a date.
    pub fn resolve(&self, zone: &Zone, date: Option<NaiveDate>) -> Result<UtcRange, String> {
        let at = |b: Bound| -> Result<DateTime<Utc>, String> {
            match b {
                Bound::Absolute(t) => Ok(t),
                Bound::Local(l) => Ok(zone.to_utc(l).instant()),
                Bound::Time(t) => {
                    let d = date.ok_or_else(|| {
                        format!(
                            "--window `{}` has no date; add --date YYYY-MM-DD",
                            self.text
                        )
                    })?;
                    Ok(zone.to_utc(d.and_time(t)).instant())
                }
            }
        };
        let start = at(self.start)?;
        let end = at(self.end)?;
        if end <= start {
            return Err(format!(
                "--window `{}` ends before it starts (read in {zone}); windows are start-end on one date, or use full timestamps: 2025-10-18T23:50..2025-10-19T00:10",
                self.text
            ));
        }
        Ok(UtcRange { start, end })
    }
}

fn parse_time(s: &str) -> Option<NaiveTime> {
    let s = s.trim();
    ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(s, f).ok())
}

fn parse_bound(s: &str) -> Option<Bound> {
    let s = s.trim();
    if let Some(t) = parse_time(s) {
        return Some(Bound::Time(t));
    }
    // Absolute: RFC 3339 with Z or an offset (also with a space instead of T).
    let spaced = s.replacen(' ', "T", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&spaced) {
        return Some(Bound::Absolute(t.with_timezone(&Utc)));
    }
    // psql style `2025-10-18 14:07:15.103+03` or `...+03:00`.
    if let Some(pos) = s.rfind(['+', '-']).filter(|&p| p > 10) {
        if let (Some(l), Some(off)) = (parse_local(&s[..pos]), parse_offset(&s[pos..])) {
            return Some(Bound::Absolute((l - off).and_utc()));
        }
    }
    if let Some(l) = s.strip_suffix('Z').and_then(parse_local) {
        return Some(Bound::Absolute(l.and_utc()));
    }
    parse_local(s).map(Bound::Local)
}

fn parse_local(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ]
    .iter()
    .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
    .or_else(|| {
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
    })
    .filter(|l| four_digit_year(l.date()))
}

/// The length a single bound stands for: `14:07` is a minute, `14:07:15` a second.
fn implied_span(s: &str) -> Duration {
    match s.trim().matches(':').count() {
        1 => Duration::minutes(1),
        _ => Duration::seconds(1),
    }
}

impl FromStr for WindowSpec {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let t = text.trim();
        let bad = |why: &str| {
            format!(
                "invalid --window `{text}`: {why} (examples: 14:07-14:08, 14:07:10-14:07:20.5, 14:07, 2025-10-18T11:07:00Z..2025-10-18T11:08:00Z)"
            )
        };
        if t.is_empty() {
            return Err(bad("empty"));
        }
        let (a, b) = if let Some((a, b)) = t.split_once("..") {
            (a, b)
        } else if let Some((a, b)) = t.split_once('-').filter(|(a, _)| parse_time(a).is_some()) {
            (a, b)
        } else {
            // A single time stands for its own minute or second.
            let start = parse_bound(t).ok_or_else(|| bad("not a time or timestamp"))?;
            let Bound::Time(st) = start else {
                return Err(bad("a single timestamp is not a range; write START..END"));
            };
            let end = st.overflowing_add_signed(implied_span(t)).0;
            if end <= st {
                return Err(bad(
                    "the implied range crosses midnight; write START..END with dates",
                ));
            }
            return Ok(WindowSpec {
                start,
                end: Bound::Time(end),
                text: t.to_string(),
            });
        };
        let start =
            parse_bound(a).ok_or_else(|| bad(&format!("start `{}` is not a time", a.trim())))?;
        let end =
            parse_bound(b).ok_or_else(|| bad(&format!("end `{}` is not a time", b.trim())))?;
        if let (Bound::Time(s), Bound::Time(e)) = (start, end) {
            if e <= s {
                return Err(bad("it ends before it starts"));
            }
        }
        Ok(WindowSpec {
            start,
            end,
            text: t.to_string(),
        })
    }
}

/// A point in time given on the command line: RFC 3339 (`2025-10-18T11:00:00Z`,
/// `2025-10-18 14:00:00+03:00`) or a naive `2025-10-18 14:00` read in UTC.
pub fn parse_instant(s: &str) -> Result<DateTime<Utc>, String> {
    match parse_bound(s) {
        Some(Bound::Absolute(t)) => Ok(t),
        Some(Bound::Local(l)) => Ok(l.and_utc()),
        _ => Err(format!(
            "invalid time `{s}` (expected e.g. 2025-10-18T11:00:00Z or 2025-10-18 14:00:00+03:00)"
        )),
    }
}

/// `24h`, `90m`, `7d`, `30s`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let bad = || format!("invalid duration `{s}` (expected e.g. 24h, 90m, 7d)");
    let (num, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?);
    let n: i64 = num.parse().map_err(|_| bad())?;
    // The try_ constructors: the plain ones panic past ±i64::MAX ms.
    let d = match unit {
        "s" => Duration::try_seconds(n),
        "m" | "min" => Duration::try_minutes(n),
        "h" => Duration::try_hours(n),
        "d" => Duration::try_days(n),
        _ => return Err(bad()),
    };
    match d {
        Some(d) if n > 0 => Ok(d),
        _ => Err(bad()),
    }
}

/// `--date 2025-10-18`.
pub fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .filter(|d| four_digit_year(*d))
        .ok_or_else(|| format!("invalid --date `{s}` (expected YYYY-MM-DD)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;

    fn moscow() -> Zone {
        "Europe/Moscow".parse().unwrap()
    }
    fn day() -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(2025, 10, 18)
    }

    #[test]
    fn psql_minute_is_read_in_the_display_zone() {
        let w: WindowSpec = "14:07-14:08".parse().unwrap();
        assert!(w.needs_date());
        let r = w.resolve(&moscow(), day()).unwrap();
        assert_eq!(r.start.to_rfc3339(), "2025-10-18T11:07:00+00:00");
        assert_eq!(r.end.to_rfc3339(), "2025-10-18T11:08:00+00:00");
        // Half-open: the end minute's first instant is out.
        assert!(r.contains(r.start));
        assert!(!r.contains(r.end));
    }

    #[test]
    fn single_minute_and_seconds_with_fractions() {
        let r = "14:07"
            .parse::<WindowSpec>()
            .unwrap()
            .resolve(&moscow(), day())
            .unwrap();
        assert_eq!((r.end - r.start).num_seconds(), 60);
        let r = "14:07:10-14:07:20.5"
            .parse::<WindowSpec>()
            .unwrap()
            .resolve(&Zone::UTC, day())
            .unwrap();
        assert_eq!((r.end - r.start).num_milliseconds(), 10_500);
    }

    #[test]
    fn full_timestamps_need_no_date() {
        for text in [
            "2025-10-18T11:07:00Z..2025-10-18T11:08:00Z",
            "2025-10-18 14:07:00+03..2025-10-18 14:08:00+03",
            "2025-10-18T14:07:00+03:00..2025-10-18T14:08+03:00",
        ] {
            let w: WindowSpec = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert!(!w.needs_date(), "{text}");
            let r = w.resolve(&Zone::UTC, None).unwrap();
            assert_eq!(r.start.to_rfc3339(), "2025-10-18T11:07:00+00:00", "{text}");
            assert_eq!(r.end.to_rfc3339(), "2025-10-18T11:08:00+00:00", "{text}");
        }
        let r = "2025-10-18 14:07..2025-10-18 14:08"
            .parse::<WindowSpec>()
            .unwrap()
            .resolve(&moscow(), None)
            .unwrap();
        assert_eq!(r.start.to_rfc3339(), "2025-10-18T11:07:00+00:00");
    }

    #[test]
    fn bad_windows_say_what_is_wrong() {
        for (text, needle) in [
            ("14:08-14:07", "ends before it starts"),
            ("25:00-26:00", "not a time"),
            ("", "empty"),
            ("noon-ish", "not a time"),
            ("14:07-", "not a time"),
            ("2025-10-18T11:07:00Z", "not a range"),
        ] {
            let err = text.parse::<WindowSpec>().unwrap_err();
            assert!(err.contains(needle), "{text}: {err}");
        }
        let w: WindowSpec = "14:07-14:08".parse().unwrap();
        assert!(w.resolve(&moscow(), None).unwrap_err().contains("--date"));
        assert!(parse_date("18.10.2025").is_err());
    }

    // Regression (fuzz target `clock`, crash-246c6994): `--date +262142-12-31` was read (chrono
    // takes signed years of six digits) and resolving a window on it in a zone west of UTC
    // panicked with "`NaiveDateTime - FixedOffset` out of range".
    #[test]
    fn date_beyond_four_digit_years_is_rejected_not_a_panic() {
        for text in [
            "+262142-12-31",
            "-262143-01-01",
            "+10000-01-01",
            "20000-01-01",
        ] {
            assert!(parse_date(text).is_err(), "{text}");
        }
        let w: WindowSpec = "14:07-14:08".parse().unwrap();
        let west: Zone = "-15:59".parse().unwrap();
        let east: Zone = "+15:59".parse().unwrap();
        for (date, zone) in [("9999-12-31", west), ("0000-01-01", east)] {
            let r = w.resolve(&zone, parse_date(date).ok()).unwrap();
            assert_eq!((r.end - r.start).num_seconds(), 60, "{date}");
        }
    }

    // Regression (found reviewing the same path as crash-246c6994): a psql-style time at the
    // end of chrono's range minus its offset panicked in `parse_instant` and `--window`.
    #[test]
    fn instant_beyond_four_digit_years_is_rejected_not_a_panic() {
        for text in [
            "-262143-01-01 00:00:00+15",
            "+262142-12-31 23:59:59-15",
            "+262142-12-31 23:59",
            "-262143-01-01",
        ] {
            assert!(parse_instant(text).is_err(), "{text}");
            assert!(
                format!("{text}..2025-10-18T00:00:00Z")
                    .parse::<WindowSpec>()
                    .is_err(),
                "{text}"
            );
        }
        assert!(parse_instant("9999-12-31 23:59:59-15").is_ok());
        assert!(parse_instant("0000-01-01 00:00:00+15").is_ok());
    }

    // Regression (found reviewing `parse_duration` for the `clock` target): `--last
    // 99999999999999h` panicked in chrono's `Duration::hours` ("TimeDelta::hours out of bounds").
    #[test]
    fn duration_beyond_chrono_range_is_an_error_not_a_panic() {
        for text in [
            "99999999999999h",
            "9999999999999999d",
            "9223372036854775807s",
            "999999999999999m",
        ] {
            assert!(parse_duration(text).is_err(), "{text}");
        }
        assert_eq!(
            parse_duration("106751991d").unwrap().num_days(),
            106_751_991
        );
    }

    /// Property test: a typed `start-end` resolves to a range of its length.
    mod props {
        use super::*;
        use proptest::prelude::*;

        /// `HH:MM` or `HH:MM:SS` for a second of the day, and the second it stands for.
        fn typed_time() -> impl Strategy<Value = (String, u32)> {
            (0u32..86_400, any::<bool>()).prop_map(|(t, with_seconds)| {
                let (h, m, s) = (t / 3600, t / 60 % 60, t % 60);
                if with_seconds {
                    (format!("{h:02}:{m:02}:{s:02}"), t)
                } else {
                    (format!("{h:02}:{m:02}"), t - s)
                }
            })
        }

        /// Two typed times, the earlier first.
        fn typed_range() -> impl Strategy<Value = ((String, u32), (String, u32))> {
            (typed_time(), typed_time())
                .prop_filter("an empty range", |(x, y)| x.1 != y.1)
                .prop_map(|(x, y)| if x.1 < y.1 { (x, y) } else { (y, x) })
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(256))]

            #[test]
            fn typed_ranges_resolve_to_their_length(
                ((a, at), (b, bt)) in typed_range(),
                offset in -(15 * 3600 + 59 * 60)..=(15 * 3600 + 59 * 60),
            ) {
                let text = format!("{a}-{b}");
                let w: WindowSpec = text.parse().map_err(TestCaseError::fail)?;
                prop_assert!(w.needs_date());
                let zone = Zone::fixed_seconds(offset / 60 * 60).expect("offset in range");
                let r = w.resolve(&zone, day()).map_err(TestCaseError::fail)?;
                prop_assert_eq!((r.end - r.start).num_seconds(), i64::from(bt - at), "{}", text);
                let local = zone.local(r.start);
                prop_assert_eq!(local.date(), day().expect("date"));
                prop_assert_eq!(local.time().num_seconds_from_midnight(), at);
            }
        }
    }
}
