//! Time vocabulary every layer shares: zones ([`Zone`]: fixed offsets and IANA names with
//! DST), offsets as text, the user's windows and ranges ([`WindowSpec`], [`UtcRange`]), and
//! how instants are written (psql's `timestamptz` text, RFC 3339 with microseconds), and a zone
//! with where it came from ([`Zoned`]). No source and no clock model: those are above.

mod window;
mod zone;
mod zoned;

pub use window::{UtcRange, WindowSpec, parse_date, parse_duration, parse_instant};
pub use zone::{
    LocalMapping, Zone, format_offset, format_offset_us, four_digit_year, parse_offset,
    parse_offset_us,
};
pub use zoned::{Provenance, Zoned};

/// `2025-10-18T11:07:13.510000Z`: the form every machine-readable output uses for instants.
pub fn rfc3339_micros(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// `11:07:13.510`: an instant's UTC time of day to the millisecond, as explanations say it.
pub fn hms(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .format("%H:%M:%S%.3f")
        .to_string()
}

/// `11:07`: an instant's UTC hour and minute.
pub fn hm(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .format("%H:%M")
        .to_string()
}

/// Formats an instant the way psql prints a `timestamptz` in a session zone:
/// `2025-10-18 14:07:15.103+03` (fraction without trailing zeros, offset hours, minutes if any).
pub fn psql_text(t: chrono::DateTime<chrono::Utc>, zone: &Zone) -> String {
    use chrono::{Datelike, Timelike};
    let off = zone.offset_at(t);
    let local = t.naive_utc() + off;
    // Hand-formatted digit by digit: this runs once per DB row (strftime parses its pattern each
    // time, and `write!` was 5 % of a day's DB load).
    fn digits(s: &mut String, v: u32, width: usize) {
        let mut buf = [b'0'; 10];
        let mut v = v;
        let mut k = buf.len();
        while v > 0 || buf.len() - k < width {
            k -= 1;
            buf[k] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        s.extend(buf[k..].iter().map(|&b| char::from(b)));
    }
    let mut s = String::with_capacity(32);
    let year = local.year();
    if year < 0 {
        s.push('-');
    }
    digits(&mut s, year.unsigned_abs(), 4);
    s.push('-');
    digits(&mut s, local.month(), 2);
    s.push('-');
    digits(&mut s, local.day(), 2);
    s.push(' ');
    digits(&mut s, local.hour(), 2);
    s.push(':');
    digits(&mut s, local.minute(), 2);
    s.push(':');
    digits(&mut s, local.second(), 2);
    let micros = local.and_utc().timestamp_subsec_micros();
    if micros != 0 {
        let mut frac = micros;
        let mut width = 6;
        while frac % 10 == 0 {
            frac /= 10;
            width -= 1;
        }
        s.push('.');
        digits(&mut s, frac, width);
    }
    let secs = off.local_minus_utc();
    s.push(if secs < 0 { '-' } else { '+' });
    let a = secs.unsigned_abs();
    digits(&mut s, a / 3600, 2);
    if a % 3600 != 0 {
        s.push(':');
        digits(&mut s, (a % 3600) / 60, 2);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn psql_text_matches_what_the_report_pasted() {
        let z: Zone = "Europe/Moscow".parse().unwrap();
        let t = chrono::Utc
            .with_ymd_and_hms(2025, 10, 18, 11, 7, 15)
            .unwrap()
            + chrono::Duration::microseconds(103_000);
        assert_eq!(psql_text(t, &z), "2025-10-18 14:07:15.103+03");
        let kolkata: Zone = "Asia/Kolkata".parse().unwrap();
        let t0 = chrono::Utc
            .with_ymd_and_hms(2025, 10, 18, 11, 7, 15)
            .unwrap();
        assert_eq!(psql_text(t0, &kolkata), "2025-10-18 16:37:15+05:30");
    }
}
