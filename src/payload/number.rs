//! Numbers as the two sides spell them: Python's `repr(float)` (the log line's dict), the
//! plain decimals a `Decimal(...)` repr holds, and the number texts serde_json prints exactly
//! as written (jsonb's and the canonical form's). The one float repr of the crate.

use serde_json::{Number, Value};

/// json.dumps' spelling of a non-finite float.
pub(crate) fn non_finite(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "Infinity"
    } else {
        "-Infinity"
    }
}

/// JSON has no non-finite numbers, so those become json.dumps' spellings as strings.
pub(crate) fn float_value(f: f64) -> Value {
    Number::from_f64(f).map_or_else(|| Value::String(non_finite(f).to_owned()), Value::Number)
}

/// The Number serde_json reads from json.dumps' text `text`. serde_json's
/// default float reader is not always correctly rounded, so the only way to
/// agree with it bit for bit is to hand it the same text.
pub(crate) fn json_number(text: &str) -> Option<Number> {
    text.parse::<Number>().ok()
}

/// A float as the bot's json.dumps writes it (`repr`) and serde_json reads it back.
pub(crate) fn float_via_repr(f: f64) -> Value {
    match json_number(&py_float_repr(f)) {
        Some(n) if f.is_finite() => Value::Number(n),
        _ => float_value(f),
    }
}

/// `repr(float(text))` without formatting a float, for the plain decimals Decimal reprs hold
/// (`'0.0096648'`, `'-12.50'`): when the text has at most 15 significant digits, the float
/// nearest to it prints those same digits (shortest round trip), so only the spelling is
/// Python's: no leading or trailing zeros, `.0` on integral values, fixed notation between
/// 1e-4 and 1e16. Anything else (exponents, `_`, more digits, smaller or bigger) is None.
/// [`py_float_repr`] of the parsed float took 6 % of a day's ingest.
pub(crate) fn plain_repr(text: &str) -> Option<String> {
    let (neg, body) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    if int.is_empty() || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int = int.trim_start_matches('0');
    let frac = frac.trim_end_matches('0');
    let lead = if int.is_empty() {
        frac.len() - frac.trim_start_matches('0').len()
    } else {
        0
    };
    let significant = int.len() + frac.len() - lead;
    if significant > 15 || lead > 3 {
        return None;
    }
    let sign = if neg { "-" } else { "" };
    let int = if int.is_empty() { "0" } else { int };
    let frac = if frac.is_empty() { "0" } else { frac };
    Some(format!("{sign}{int}.{frac}"))
}

/// Python's `repr(float)`: shortest round-trip digits, scientific notation
/// below 1e-4 or from 1e16 on, and always a `.0` on integral values.
pub(crate) fn py_float_repr(f: f64) -> String {
    if !f.is_finite() {
        return non_finite(f).to_owned();
    }
    // Rust's `{:e}` is shortest round-trip too, but breaks ties between two
    // equally close candidates upward where Python rounds half to even;
    // Rust's fixed-precision form rounds half to even, so redo it at the
    // same length and keep that when it still round-trips.
    let short = format!("{f:e}");
    let len = short
        .split('e')
        .next()
        .map_or(1, |m| m.bytes().filter(u8::is_ascii_digit).count());
    let even = format!("{:.*e}", len.saturating_sub(1), f);
    let sci = if even.parse::<f64>() == Ok(f) {
        even
    } else {
        short
    };
    let Some((mant, exp)) = sci.split_once('e') else {
        return sci;
    };
    let Ok(exp) = exp.parse::<i32>() else {
        return sci;
    };
    let (sign, mant) = match mant.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    if (-4..16).contains(&exp) {
        if exp < 0 {
            let zeros = "0".repeat(usize::try_from(-exp - 1).unwrap_or(0));
            return format!("{sign}0.{zeros}{digits}");
        }
        let point = usize::try_from(exp).unwrap_or(0) + 1;
        return match (digits.get(..point), digits.get(point..)) {
            (Some(int), Some(frac)) if !frac.is_empty() => format!("{sign}{int}.{frac}"),
            _ => {
                let zeros = "0".repeat(point.saturating_sub(digits.len()));
                format!("{sign}{digits}{zeros}.0")
            }
        };
    }
    let (first, rest) = digits.split_at_checked(1).unwrap_or((&digits, ""));
    let frac = if rest.is_empty() {
        String::new()
    } else {
        format!(".{rest}")
    };
    let esign = if exp < 0 { '-' } else { '+' };
    format!("{sign}{first}{frac}e{esign}{:02}", exp.unsigned_abs())
}

/// A number spelled `-?(0|[1-9][0-9]*)(\.[0-9]+)?` from `i` of `s` that serde_json prints with
/// exactly this text: an integer of at most 18 digits (not `-0`, a float there), or a decimal
/// of at most 15 significant digits (so the shortest float that prints it is it) without
/// trailing zeros and with at most three zeros after `0.` (serde_json prints 1e-6 and smaller
/// in exponent form). Its end and its float; None for anything else (the caller's slow path
/// decides), including what follows it.
pub(crate) fn plain_number(s: &[u8], i: usize) -> Option<(usize, f64)> {
    let neg = s.get(i) == Some(&b'-');
    let int_start = i + usize::from(neg);
    let mut j = int_start;
    while s.get(j).is_some_and(u8::is_ascii_digit) {
        j += 1;
    }
    let int = s.get(int_start..j)?;
    if int.is_empty() || (int.len() > 1 && int[0] == b'0') {
        return None;
    }
    let mut frac: &[u8] = &[];
    if s.get(j) == Some(&b'.') {
        let f0 = j + 1;
        j = f0;
        while s.get(j).is_some_and(u8::is_ascii_digit) {
            j += 1;
        }
        frac = s.get(f0..j)?;
        if frac.is_empty() {
            return None;
        }
    }
    let text = std::str::from_utf8(s.get(i..j)?).ok()?;
    let value = if frac.is_empty() {
        if int.len() > 18 || (neg && int == b"0") {
            return None;
        }
        text.parse::<i64>().ok()? as f64
    } else {
        let lead = if int == b"0" {
            frac.iter().take_while(|&&b| b == b'0').count()
        } else {
            0
        };
        let significant = if int == b"0" {
            frac.len() - lead
        } else {
            int.len() + frac.len()
        };
        let trailing_zero = frac.len() > 1 && frac.last() == Some(&b'0');
        if significant > 15 || lead > 3 || trailing_zero {
            return None;
        }
        text.parse::<f64>().ok()?
    };
    Some((j, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn py_float_repr_matches_python() {
        let cases: &[(f64, &str)] = &[
            (1.0, "1.0"),
            (1.5, "1.5"),
            (-0.0, "-0.0"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123.456, "123.456"),
            (-2.5e-300, "-2.5e-300"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (f64::INFINITY, "Infinity"),
            // exact tie between ...842 and ...843: Python rounds half to even
            (1050666722789084.2, "1050666722789084.2"),
        ];
        for &(f, want) in cases {
            assert_eq!(py_float_repr(f), want, "{f}");
        }
    }
}
