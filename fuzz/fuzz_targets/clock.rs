//! The `--window`, `--tz`/`--log-tz`/`--db-tz`, `--date`, `--since`/`--until` and `--last`
//! parsers on arbitrary text. Line 1 is the window, line 2 a zone, line 3 a date; every
//! parser also sees every line, and a parsed window is resolved in the parsed zone and in
//! the zones at the ends of the offset range, on the dates at the ends of what can be typed.
#![no_main]

use audit::time::{WindowSpec, Zone, parse_date, parse_duration, parse_instant, parse_offset};
use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.splitn(3, '\n');
    let (w, z, d) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
    );
    for s in [w, z, d] {
        let _ = parse_offset(s);
        let _ = parse_date(s);
        let _ = parse_instant(s);
        let _ = parse_duration(s);
        let _ = s.parse::<Zone>();
    }
    let Ok(window) = w.parse::<WindowSpec>() else {
        return;
    };
    assert_eq!(window.to_string(), w.trim());
    let mut zones = vec![
        Zone::UTC,
        Zone::fixed_seconds(15 * 3600 + 59 * 60).expect("+15:59"),
        Zone::fixed_seconds(-(15 * 3600 + 59 * 60)).expect("-15:59"),
        "Europe/Moscow".parse().expect("IANA zone"),
        "America/New_York".parse().expect("IANA zone"),
    ];
    zones.extend(z.parse::<Zone>().ok());
    // The incident's date and the first and last a date can be typed as (four-digit years).
    let mut dates = vec![None];
    for (y, m, d) in [(2025, 10, 18), (0, 1, 1), (9999, 12, 31)] {
        dates.push(NaiveDate::from_ymd_opt(y, m, d));
    }
    dates.extend(parse_date(d).ok().map(Some));
    for zone in &zones {
        for date in &dates {
            if let Ok(r) = window.resolve(zone, *date) {
                assert!(r.start < r.end);
            }
        }
    }
});
