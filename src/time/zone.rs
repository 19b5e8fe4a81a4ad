//! Time zones as the user writes them (`+04:00`, `UTC+3`, `Europe/Moscow`) and the one
//! conversion every source needs: a naive local reading to an absolute UTC instant.

use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc,
};

/// A clock's zone: a fixed offset, or an IANA zone whose offset follows DST rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Zone {
    Fixed(FixedOffset),
    Iana(chrono_tz::Tz),
}

/// How a naive local time maps to UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalMapping {
    /// Exactly one instant.
    Single(DateTime<Utc>),
    /// The hour repeated at a DST fall-back: both readings are possible; the earlier is used.
    Ambiguous(DateTime<Utc>, DateTime<Utc>),
    /// The hour skipped at a DST spring-forward: no such local time existed; read with the
    /// offset in force just before the gap.
    Gap(DateTime<Utc>),
}

impl LocalMapping {
    pub fn instant(self) -> DateTime<Utc> {
        match self {
            LocalMapping::Single(t) | LocalMapping::Ambiguous(t, _) | LocalMapping::Gap(t) => t,
        }
    }
}

impl Zone {
    pub const UTC: Zone = Zone::Fixed(match FixedOffset::east_opt(0) {
        Some(z) => z,
        None => unreachable!(),
    });

    pub fn fixed_seconds(secs: i32) -> Option<Zone> {
        FixedOffset::east_opt(secs).map(Zone::Fixed)
    }

    /// Reads a naive wall-clock time written in this zone.
    pub fn to_utc(&self, local: NaiveDateTime) -> LocalMapping {
        match self {
            Zone::Fixed(off) => LocalMapping::Single(Utc.from_utc_datetime(&(local - *off))),
            Zone::Iana(tz) => match tz.from_local_datetime(&local) {
                LocalResult::Single(t) => LocalMapping::Single(t.with_timezone(&Utc)),
                LocalResult::Ambiguous(a, b) => {
                    let (a, b) = (a.with_timezone(&Utc), b.with_timezone(&Utc));
                    LocalMapping::Ambiguous(a.min(b), a.max(b))
                }
                LocalResult::None => {
                    // Use the offset in force a few hours before: the wall clock had not jumped yet.
                    let before = local - chrono::Duration::hours(3);
                    let off = tz
                        .offset_from_local_datetime(&before)
                        .earliest()
                        .map_or_else(|| tz.offset_from_utc_datetime(&before).fix(), |o| o.fix());
                    LocalMapping::Gap(Utc.from_utc_datetime(&(local - off)))
                }
            },
        }
    }

    /// The offset in force at an instant, in seconds east of UTC.
    pub fn offset_at(&self, t: DateTime<Utc>) -> FixedOffset {
        match self {
            Zone::Fixed(off) => *off,
            Zone::Iana(tz) => tz.offset_from_utc_datetime(&t.naive_utc()).fix(),
        }
    }

    /// The wall-clock reading of an instant in this zone.
    pub fn local(&self, t: DateTime<Utc>) -> NaiveDateTime {
        t.naive_utc() + self.offset_at(t)
    }

    /// True when the offset can change (an IANA zone with DST or history).
    pub fn is_fixed(&self) -> bool {
        matches!(self, Zone::Fixed(_))
    }
}

/// `+04:00`, `+0400`, `+04`, `-03:30`, `UTC`, `Z`, `UTC+4`, `GMT-3`, or an IANA name.
impl FromStr for Zone {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        if t.is_empty() {
            return Err("empty time zone".into());
        }
        if t.eq_ignore_ascii_case("utc")
            || t.eq_ignore_ascii_case("z")
            || t.eq_ignore_ascii_case("gmt")
        {
            return Ok(Zone::UTC);
        }
        let upper = t.to_ascii_uppercase();
        let offset_text = if t.starts_with('+') || t.starts_with('-') {
            Some(t)
        } else if (upper.starts_with("UTC") || upper.starts_with("GMT"))
            && t[3..].starts_with(['+', '-'])
        {
            Some(&t[3..])
        } else {
            None
        };
        if let Some(o) = offset_text {
            return parse_offset(o).map(Zone::Fixed).ok_or_else(|| {
                format!("invalid UTC offset `{t}` (expected like +04:00, -0330, UTC+3)")
            });
        }
        t.parse::<chrono_tz::Tz>().map(Zone::Iana).map_err(|_| {
            format!("unknown time zone `{t}` (expected an offset like +04:00 or an IANA name like Europe/Moscow)")
        })
    }
}

/// True for a date with a four-digit year (0000-9999), the only ones a log line, Python's
/// `datetime` or a person writes. Dates typed or read are checked with this at the edge: chrono
/// also reads `+262142-12-31`, where moving by a UTC offset overflows its range and panics.
pub fn four_digit_year(d: NaiveDate) -> bool {
    (0..=9999).contains(&d.year())
}

/// `+04:00`, `+0400`, `+04`, `+4`, `-03:30`; at most ±15:59.
pub fn parse_offset(s: &str) -> Option<FixedOffset> {
    let (sign, rest) = match s.as_bytes().first()? {
        b'+' => (1, &s[1..]),
        b'-' => (-1, &s[1..]),
        _ => return None,
    };
    if rest.is_empty() || !rest.bytes().all(|b| b.is_ascii_digit() || b == b':') {
        return None;
    }
    let (h, m) = if let Some((h, m)) = rest.split_once(':') {
        (h, m)
    } else if rest.len() == 4 {
        rest.split_at(2)
    } else {
        (rest, "0")
    };
    if h.is_empty() || h.len() > 2 || m.is_empty() || m.len() > 2 {
        return None;
    }
    let h: i32 = h.parse().ok()?;
    let m: i32 = m.parse().ok()?;
    if h > 15 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// `+04:00` style, the way every output of this tool writes offsets.
pub fn format_offset(off: FixedOffset) -> String {
    let secs = off.local_minus_utc();
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    format!("{sign}{:02}:{:02}", a / 3600, (a % 3600) / 60)
}

/// [`parse_offset`], and the `+04:00:05.123` form of [`format_offset_us`]: µs east of UTC.
pub fn parse_offset_us(s: &str) -> Option<i64> {
    let (head, rest) = match s.get(6..) {
        Some(r) if s.len() > 6 && r.starts_with(':') => (&s[..6], Some(&r[1..])),
        _ => (s, None),
    };
    let base = i64::from(parse_offset(head)?.local_minus_utc()) * 1_000_000;
    let Some(rest) = rest else {
        return Some(base);
    };
    let (sec, frac) = rest.split_once('.').unwrap_or((rest, ""));
    if sec.len() != 2
        || frac.len() > 6
        || !sec.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let mut us: i64 = sec.parse::<i64>().ok()? * 1_000_000;
    let mut scale = 100_000;
    for b in frac.bytes() {
        us += i64::from(b - b'0') * scale;
        scale /= 10;
    }
    Some(if base < 0 || head.starts_with('-') {
        base - us
    } else {
        base + us
    })
}

/// A whole offset to the millisecond, µs in: `+04:00` when it is whole minutes (to the ms),
/// else `+04:00:05.123` (the seconds and milliseconds past the minute, as Python prints a UTC
/// offset that is not whole minutes).
pub fn format_offset_us(us: i64) -> String {
    let ms = (us as f64 / 1000.0).round() as i64;
    let sign = if ms < 0 { '-' } else { '+' };
    let a = ms.unsigned_abs();
    let (h, m) = (a / 3_600_000, (a % 3_600_000) / 60_000);
    let rest = a % 60_000;
    if rest == 0 {
        format!("{sign}{h:02}:{m:02}")
    } else {
        format!("{sign}{h:02}:{m:02}:{:02}.{:03}", rest / 1000, rest % 1000)
    }
}

impl fmt::Display for Zone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Zone::Fixed(off) if off.local_minus_utc() == 0 => f.write_str("UTC"),
            Zone::Fixed(off) => f.write_str(&format_offset(*off)),
            Zone::Iana(tz) => f.write_str(tz.name()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_to_the_millisecond_read_back() {
        for us in [
            0i64,
            4 * 3_600_000_000,
            4 * 3_600_000_000 + 5_123_000,
            -(3 * 3_600_000_000 + 1_800_000_000 + 7_001_000),
            -250_000,
            59_999_000,
        ] {
            let text = format_offset_us(us);
            assert_eq!(parse_offset_us(&text), Some(us), "{text}");
        }
        assert_eq!(
            format_offset_us(4 * 3_600_000_000 + 5_123_400),
            "+04:00:05.123"
        );
        assert_eq!(format_offset_us(4 * 3_600_000_000 + 400), "+04:00");
        assert_eq!(format_offset_us(-250_000), "-00:00:00.250");
        assert_eq!(parse_offset_us("+04:00"), Some(4 * 3_600_000_000));
        assert_eq!(parse_offset_us("+04:00:5"), None);
    }
    use chrono::NaiveDate;

    fn naive(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").unwrap()
    }

    #[test]
    fn parses_the_spellings_users_write() {
        let cases = [
            ("+04:00", 4 * 3600),
            ("+0400", 4 * 3600),
            ("+04", 4 * 3600),
            ("+4", 4 * 3600),
            ("-03:30", -(3 * 3600 + 1800)),
            ("UTC+3", 3 * 3600),
            ("utc-5", -5 * 3600),
            ("GMT+4", 4 * 3600),
            ("UTC", 0),
            ("Z", 0),
        ];
        for (text, secs) in cases {
            let z: Zone = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(z, Zone::fixed_seconds(secs).unwrap(), "{text}");
        }
        assert_eq!(
            "Europe/Moscow".parse::<Zone>().unwrap(),
            Zone::Iana(chrono_tz::Europe::Moscow)
        );
    }

    #[test]
    fn rejects_nonsense_with_a_reason() {
        for bad in [
            "",
            "+25:00",
            "+04:60",
            "Mars/Olympus",
            "+4:00:00",
            "UTC+",
            "4",
        ] {
            let err = bad.parse::<Zone>().unwrap_err();
            assert!(!err.is_empty(), "{bad}");
        }
        assert!(
            "Mars/Olympus"
                .parse::<Zone>()
                .unwrap_err()
                .contains("Mars/Olympus")
        );
    }

    #[test]
    fn incident_clocks_read_the_same_instant() {
        // REFERENCE.md: epoch 1760785633.507987 = 11:07:13.508 UTC; psql (+03) 14:07:13.510; log (+04) 15:07:13,510.
        let log: Zone = "+04:00".parse().unwrap();
        let db: Zone = "Europe/Moscow".parse().unwrap();
        let t = log.to_utc(naive("2025-10-18 15:07:13.510")).instant();
        assert_eq!(t.to_rfc3339(), "2025-10-18T11:07:13.510+00:00");
        assert_eq!(db.local(t), naive("2025-10-18 14:07:13.510"));
        assert_eq!(format_offset(db.offset_at(t)), "+03:00");
    }

    #[test]
    fn dst_fall_back_is_ambiguous_and_spring_forward_is_a_gap() {
        let berlin: Zone = "Europe/Berlin".parse().unwrap();
        // 2025-10-26 02:30 happened twice in Berlin.
        match berlin.to_utc(naive("2025-10-26 02:30:00")) {
            LocalMapping::Ambiguous(a, b) => {
                assert_eq!(a.to_rfc3339(), "2025-10-26T00:30:00+00:00");
                assert_eq!(b.to_rfc3339(), "2025-10-26T01:30:00+00:00");
            }
            other => panic!("expected ambiguous, got {other:?}"),
        }
        // 2025-03-30 02:30 never happened in Berlin.
        match berlin.to_utc(naive("2025-03-30 02:30:00")) {
            LocalMapping::Gap(t) => assert_eq!(t.to_rfc3339(), "2025-03-30T01:30:00+00:00"),
            other => panic!("expected gap, got {other:?}"),
        }
        let d = NaiveDate::from_ymd_opt(2025, 7, 1)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap();
        assert_eq!(
            berlin.to_utc(d).instant().to_rfc3339(),
            "2025-07-01T10:00:00+00:00"
        );
    }

    #[test]
    fn offsets_print_with_sign_and_minutes() {
        assert_eq!(
            format_offset(FixedOffset::east_opt(4 * 3600).unwrap()),
            "+04:00"
        );
        assert_eq!(
            format_offset(FixedOffset::east_opt(-(3 * 3600 + 1800)).unwrap()),
            "-03:30"
        );
        assert_eq!(Zone::UTC.to_string(), "UTC");
    }
}
