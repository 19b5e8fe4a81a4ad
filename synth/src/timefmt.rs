//! The generator's own spellings of time, so it shares no code with the audit it tests: UTC
//! offsets (`+04:00`) and RFC 3339 instants with microseconds.

use chrono::{DateTime, FixedOffset};

/// `+04:00`, `+0400`, `+4` or `-03:30` (at most ±15:59), the spellings `audit` accepts.
pub fn parse_offset(s: &str) -> Option<FixedOffset> {
    let sign = match s.as_bytes().first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let rest = &s[1..];
    let (h, m) = match rest.split_once(':') {
        Some(hm) => hm,
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let digits = |t: &str| (1..=2).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_digit());
    if !digits(h) || !digits(m) {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if h > 15 || m > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (h * 3600 + m * 60))
}

/// `+04:00` (chrono's spelling; the offsets here are whole minutes).
pub fn format_offset(off: FixedOffset) -> String {
    off.to_string()
}

/// `2025-10-18T03:00:00.000000Z` from microseconds since the epoch.
pub fn rfc3339_micros(us: i64) -> String {
    DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_parse_and_print() {
        for (text, secs, printed) in [
            ("+04:00", 4 * 3600, "+04:00"),
            ("+0400", 4 * 3600, "+04:00"),
            ("+4", 4 * 3600, "+04:00"),
            ("-03:30", -(3 * 3600 + 1800), "-03:30"),
            ("+05:30", 5 * 3600 + 1800, "+05:30"),
            ("+00:00", 0, "+00:00"),
            ("-0:0", 0, "+00:00"),
        ] {
            let o = parse_offset(text).unwrap_or_else(|| panic!("{text}"));
            assert_eq!(o.local_minus_utc(), secs, "{text}");
            assert_eq!(format_offset(o), printed, "{text}");
        }
        for bad in [
            "", "+", "4", "+16:00", "+04:60", "+123", "+1:2:3", "+04:0x", "UTC",
        ] {
            assert_eq!(parse_offset(bad), None, "{bad}");
        }
    }

    #[test]
    fn instants_print_with_microseconds() {
        assert_eq!(rfc3339_micros(0), "1970-01-01T00:00:00.000000Z");
        assert_eq!(
            rfc3339_micros(1_760_756_400_000_001),
            "2025-10-18T03:00:00.000001Z"
        );
    }
}
