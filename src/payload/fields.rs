//! The fields every source agrees on: symbol, position id, signal id, the correlation id and
//! the UTC epoch inside it, read from a payload or a text; and whether a payload or a text
//! names a number.

use serde_json::Value;

/// `open_position_{signal_id}_{epoch}`: the only correlation-id form the bot writes.
/// Returns the signal id (None when the bot wrote `None`) and the epoch in µs (UTC).
pub fn parse_correlation(id: &str) -> Option<(Option<i64>, i64)> {
    let rest = id.strip_prefix("open_position_")?;
    let (signal, epoch) = rest.rsplit_once('_')?;
    let signal = if signal == "None" {
        None
    } else {
        Some(signal.parse().ok()?)
    };
    Some((signal, parse_epoch_micros(epoch)?))
}

/// A Python float of seconds (`1760785632.851694`, `1760785633.5`) to µs, exactly: the digits
/// are read as a decimal, not through f64, so the 6th decimal survives.
pub fn parse_epoch_micros(s: &str) -> Option<i64> {
    let (int, frac) = s.split_once('.').unwrap_or((s, ""));
    if int.is_empty() || !int.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) || frac.len() > 9 {
        return None;
    }
    let secs: i64 = int.parse().ok()?;
    let mut micros: i64 = 0;
    for b in frac.bytes().chain(std::iter::repeat(b'0')).take(6) {
        micros = micros * 10 + i64::from(b - b'0');
    }
    secs.checked_mul(1_000_000)?.checked_add(micros)
}

/// An integer field of a payload, whether written as a number or a numeric string.
pub fn int_field(v: &Value, key: &str) -> Option<i64> {
    int_value(v.get(key)?)
}

/// A payload value as an integer: a number without fraction, or a numeric string.
pub fn int_value(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| {
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9e15)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A string field of a payload.
pub fn str_field(v: &Value, key: &str) -> Option<String> {
    str_value(v.get(key)?)
}

/// A payload value as a non-empty string.
pub fn str_value(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// True when `n` appears in the payload as an integer value or a string holding exactly it —
/// anywhere, at any depth (a wave's signal list, a nested request).
pub fn mentions_int(v: &Value, n: i64) -> bool {
    match v {
        Value::Number(x) => x.as_i64() == Some(n),
        Value::String(s) => s.trim().parse::<i64>().ok() == Some(n),
        Value::Array(a) => a.iter().any(|x| mentions_int(x, n)),
        Value::Object(o) => o.values().any(|x| mentions_int(x, n)),
        _ => false,
    }
}

/// True when the decimal digits of `n` stand alone in free text: not part of a longer number
/// (`14869992`, `4869992.5`) — `#4869992`, `signal 4869992:` and `[4869992, ...]` count.
pub fn text_mentions_int(text: &str, n: i64) -> bool {
    let needle = n.to_string();
    let bytes = text.as_bytes();
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    finder.find_iter(bytes).any(|at| {
        let before = at.checked_sub(1).map(|i| bytes[i]);
        let after = bytes.get(at + needle.len()).copied();
        let digitish = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_digit());
        let digit_at = |k: Option<usize>| digitish(k.and_then(|k| bytes.get(k).copied()));
        let end = at + needle.len();
        let part_of_number = digitish(before)
            || digitish(after)
            // 0.4869992 / 2025-4869992: a fraction or a range
            || (matches!(before, Some(b'.' | b'-')) && digit_at(at.checked_sub(2)))
            // 4869992.5: an integer part
            || (after == Some(b'.') && digit_at(Some(end + 1)));
        !part_of_number
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn correlation_ids_of_the_incident() {
        assert_eq!(
            parse_correlation("open_position_4869992_1760785632.851694"),
            Some((Some(4869992), 1_760_785_632_851_694))
        );
        assert_eq!(
            parse_correlation("open_position_4869992_1760785633.507987"),
            Some((Some(4869992), 1_760_785_633_507_987))
        );
        // Python drops trailing zeros; None signal ids exist.
        assert_eq!(
            parse_correlation("open_position_None_1760785633.5"),
            Some((None, 1_760_785_633_500_000))
        );
        assert_eq!(
            parse_correlation("open_position_12_1760785633"),
            Some((Some(12), 1_760_785_633_000_000))
        );
        for bad in [
            "close_position_1_2",
            "open_position_x_1.0",
            "open_position_1_",
            "open_position_1_1.2.3",
            "",
        ] {
            assert_eq!(parse_correlation(bad), None, "{bad}");
        }
    }

    #[test]
    fn epoch_digits_are_exact() {
        // f64 would turn .851694 into .851693999...; the decimal read must not.
        assert_eq!(
            parse_epoch_micros("1760785632.851694"),
            Some(1_760_785_632_851_694)
        );
        assert_eq!(parse_epoch_micros("1.0000009"), Some(1_000_000));
        assert_eq!(parse_epoch_micros("abc"), None);
    }

    #[test]
    fn payload_fields_and_mentions() {
        let v = json!({"symbol": "RSRUSDT", "position_id": 1318, "signal_id": "4869992",
                       "wave": {"signal_ids": [4869990, 4869992]}, "price": 0.0051});
        assert_eq!(int_field(&v, "position_id"), Some(1318));
        assert_eq!(int_field(&v, "signal_id"), Some(4869992));
        assert_eq!(str_field(&v, "symbol").as_deref(), Some("RSRUSDT"));
        assert!(mentions_int(&v, 4869990));
        assert!(!mentions_int(&v, 4869));
    }

    #[test]
    fn free_text_mentions_need_number_boundaries() {
        let n = 4869992;
        for yes in [
            "Executing signal #4869992: RSRUSDT",
            "signal 4869992",
            "[4869991, 4869992]",
            "4869992",
            "id=4869992.",
        ] {
            assert!(text_mentions_int(yes, n), "{yes}");
        }
        for no in [
            "14869992",
            "48699921",
            "price 4869992.5",
            "0.4869992",
            "2025-4869992",
        ] {
            assert!(!text_mentions_int(no, n), "{no}");
        }
    }
}
