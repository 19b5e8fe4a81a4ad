//! The bot's event payloads as values, printed the two ways the bot's data shows them:
//! Python's `repr(dict)` (the log line `f"{event_type}: {data}"`) and PostgreSQL's jsonb text
//! of `json.dumps(data)` with `Decimal` turned into `float` (the `event_data` column as
//! `\copy ... CSV` or `event_data::text` prints it).
//!
//! Exactness: float reprs are Python's (shortest round-trip digits, scientific below 1e-4
//! and from 1e16); string reprs follow CPython's `unicode_repr` — the printable test is exact
//! for ASCII, Latin-1 and the format/separator blocks listed in [`py_printable`], which
//! covers every character the generator writes. jsonb text follows PostgreSQL: keys sorted
//! by length then bytes, `": "` and `", "`, numbers as `numeric` prints json.dumps' text.

use std::fmt::Write as _;

/// A Python value as the bot's event dicts hold them.
#[derive(Debug, Clone, PartialEq)]
pub enum Py {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// `Decimal(text)`, with `text` as `str(Decimal)` prints it (trailing zeros kept).
    Decimal(String),
    Str(String),
    List(Vec<Py>),
    Tuple(Vec<Py>),
    /// Insertion-ordered, like a Python dict.
    Dict(Vec<(String, Py)>),
}

impl Py {
    pub fn str(s: impl Into<String>) -> Py {
        Py::Str(s.into())
    }

    /// A dict from `(key, value)` pairs, in order.
    pub fn dict<K: Into<String>>(items: impl IntoIterator<Item = (K, Py)>) -> Py {
        Py::Dict(items.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// The value of `key` in a dict.
    pub fn get(&self, key: &str) -> Option<&Py> {
        match self {
            Py::Dict(items) => items.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// `repr(value)`.
    pub fn repr(&self) -> String {
        let mut s = String::with_capacity(128);
        self.write_repr(&mut s);
        s
    }

    pub fn write_repr(&self, out: &mut String) {
        match self {
            Py::None => out.push_str("None"),
            Py::Bool(true) => out.push_str("True"),
            Py::Bool(false) => out.push_str("False"),
            Py::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Py::Float(f) => out.push_str(&float_repr(*f)),
            Py::Decimal(text) => {
                out.push_str("Decimal('");
                out.push_str(text);
                out.push_str("')");
            }
            Py::Str(s) => str_repr(s, out),
            Py::List(items) => {
                out.push('[');
                seq_repr(items, out);
                out.push(']');
            }
            Py::Tuple(items) => {
                out.push('(');
                seq_repr(items, out);
                if items.len() == 1 {
                    out.push(',');
                }
                out.push(')');
            }
            Py::Dict(items) => {
                out.push('{');
                for (i, (k, v)) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    str_repr(k, out);
                    out.push_str(": ");
                    v.write_repr(out);
                }
                out.push('}');
            }
        }
    }

    /// jsonb's text of `json.dumps(value)` (Decimal → float).
    pub fn jsonb(&self) -> String {
        let mut s = String::with_capacity(128);
        self.write_jsonb(&mut s);
        s
    }

    pub fn write_jsonb(&self, out: &mut String) {
        match self {
            Py::None => out.push_str("null"),
            Py::Bool(true) => out.push_str("true"),
            Py::Bool(false) => out.push_str("false"),
            Py::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Py::Float(f) => numeric_text(*f, out),
            Py::Decimal(text) => match decimal_to_float(text) {
                Some(f) => numeric_text(f, out),
                None => out.push_str("null"),
            },
            Py::Str(s) => jsonb_str(s, out),
            Py::List(items) | Py::Tuple(items) => {
                out.push('[');
                for (i, v) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    v.write_jsonb(out);
                }
                out.push(']');
            }
            Py::Dict(items) => {
                let mut sorted: Vec<&(String, Py)> = items.iter().collect();
                sorted
                    .sort_by(|a, b| (a.0.len(), a.0.as_bytes()).cmp(&(b.0.len(), b.0.as_bytes())));
                out.push('{');
                for (i, (k, v)) in sorted.into_iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    jsonb_str(k, out);
                    out.push_str(": ");
                    v.write_jsonb(out);
                }
                out.push('}');
            }
        }
    }
}

fn seq_repr(items: &[Py], out: &mut String) {
    for (i, v) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        v.write_repr(out);
    }
}

/// `float(Decimal(text))`: the correctly rounded double of the decimal text.
pub fn decimal_to_float(text: &str) -> Option<f64> {
    let t = text.trim();
    let ok = !t.is_empty()
        && t.bytes()
            .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'-' | b'+' | b'e' | b'E'));
    if !ok {
        return None;
    }
    t.parse::<f64>().ok().filter(|f| f.is_finite())
}

/// Python's `repr(float)`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf" } else { "-inf" }.into();
    }
    let (neg, digits, exp) = shortest_digits(f);
    let sign = if neg { "-" } else { "" };
    if (-4..16).contains(&exp) {
        return format!("{sign}{}", fixed(&digits, exp, true));
    }
    let (first, rest) = digits.split_at(1);
    let frac = if rest.is_empty() {
        String::new()
    } else {
        format!(".{rest}")
    };
    let esign = if exp < 0 { '-' } else { '+' };
    format!("{sign}{first}{frac}e{esign}{:02}", exp.unsigned_abs())
}

/// The shortest round-trip decimal digits of a finite float and the decimal exponent of the
/// first digit (`1.5e-7` → ("15", -7)). Rust's `{:e}` is shortest round-trip too but breaks
/// exact ties upward where Python's dtoa rounds half to even; its fixed-precision form rounds
/// half to even, so the same length is redone that way and kept when it still round-trips.
fn shortest_digits(f: f64) -> (bool, String, i32) {
    if f == 0.0 {
        return (f.is_sign_negative(), "0".into(), 0);
    }
    let short = format!("{:e}", f.abs());
    let len = short
        .split('e')
        .next()
        .map_or(1, |m| m.bytes().filter(u8::is_ascii_digit).count());
    let even = format!("{:.*e}", len.saturating_sub(1), f.abs());
    let sci = if even.parse::<f64>() == Ok(f.abs()) {
        even
    } else {
        short
    };
    let (mant, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mant.chars().filter(char::is_ascii_digit).collect();
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    (
        f.is_sign_negative(),
        digits.to_string(),
        exp.parse().unwrap_or(0),
    )
}

/// Digits placed around the point for exponent `exp`; `point_zero` adds Python's `.0` to
/// integral values (numeric's text of an integral float from exponent form has none).
fn fixed(digits: &str, exp: i32, point_zero: bool) -> String {
    if exp < 0 {
        let zeros = "0".repeat(usize::try_from(-exp - 1).unwrap_or(0));
        return format!("0.{zeros}{digits}");
    }
    let point = usize::try_from(exp).unwrap_or(0) + 1;
    if point < digits.len() {
        format!("{}.{}", &digits[..point], &digits[point..])
    } else {
        let zeros = "0".repeat(point - digits.len());
        let tail = if point_zero { ".0" } else { "" };
        format!("{digits}{zeros}{tail}")
    }
}

/// How jsonb prints a number json.dumps wrote as `repr(f)`: the same text in fixed notation;
/// `numeric` expands exponent forms (`1e-05` → `0.00001`, `1.5e+16` → `15000000000000000`).
/// Non-finite floats have no JSON form (json.dumps' `NaN` is rejected by PostgreSQL): null.
fn numeric_text(f: f64, out: &mut String) {
    if !f.is_finite() {
        out.push_str("null");
        return;
    }
    let (neg, digits, exp) = shortest_digits(f);
    if neg && digits != "0" {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        out.push_str(&fixed(&digits, exp, true));
    } else {
        out.push_str(&fixed(&digits, exp, false));
    }
}

/// CPython's `str.isprintable()` for one character, for the blocks the generator can write:
/// controls, Latin-1's non-printables, the general-punctuation spaces and format characters,
/// private use, BOM and specials. Letters, symbols and emoji elsewhere are printable.
pub fn py_printable(c: char) -> bool {
    let u = u32::from(c);
    !matches!(u,
        0x00..=0x1f
        | 0x7f..=0xa0
        | 0xad
        | 0x034f
        | 0x061c
        | 0x1680
        | 0x180e
        | 0x2000..=0x200f
        | 0x2028..=0x202f
        | 0x205f..=0x206f
        | 0x3000
        | 0xd800..=0xf8ff
        | 0xfeff
        | 0xfff0..=0xfffb
        | 0xfffe..=0xffff
        | 0xe0000..=0xe007f
        | 0xf0000..=0x10ffff)
}

/// CPython's `repr(str)`: single quotes unless the text has `'` and no `"`.
pub fn str_repr(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if py_printable(c) => out.push(c),
            c => {
                let u = u32::from(c);
                let _ = if u <= 0xff {
                    write!(out, "\\x{u:02x}")
                } else if u <= 0xffff {
                    write!(out, "\\u{u:04x}")
                } else {
                    write!(out, "\\U{u:08x}")
                };
            }
        }
    }
    out.push(quote);
}

/// PostgreSQL's `escape_json`: `\"`, `\\`, `\b\f\n\r\t`, other controls as `\u00xx`;
/// everything else (DEL, non-ASCII) as UTF-8.
pub fn jsonb_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn float_reprs_match_python() {
        // Left: the float; right: python3 -c 'print(repr(x))' (CPython 3.11).
        let cases: [(f64, &str); 22] = [
            (0.1, "0.1"),
            (1.0 / 3.0, "0.3333333333333333"),
            (100.0, "100.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (1e-4, "0.0001"),
            (1e-5, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (123456789012345.6, "123456789012345.6"),
            (0.0051, "0.0051"),
            (-2.5, "-2.5"),
            (5e-324, "5e-324"),
            (f64::MAX, "1.7976931348623157e+308"),
            (9007199254740993.0, "9007199254740992.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1760785632.851694, "1760785632.851694"),
            (1760785633.5, "1760785633.5"),
            (1760785633.0, "1760785633.0"),
            (2.675, "2.675"),
            (1e22, "1e+22"),
            (12345.678901234567, "12345.678901234567"),
            (0.000123, "0.000123"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(f), want, "{f:e}");
        }
        assert_eq!(float_repr(0.0), "0.0");
        assert_eq!(float_repr(-0.0), "-0.0");
        assert_eq!(float_repr(f64::NAN), "nan");
        assert_eq!(float_repr(f64::NEG_INFINITY), "-inf");
    }

    #[test]
    fn str_reprs_match_python() {
        // Right: python3 -c 'print(repr(s))'.
        let cases = [
            ("plain", "'plain'"),
            ("it's", "\"it's\""),
            ("say \"hi\"", "'say \"hi\"'"),
            ("both ' and \"", "'both \\' and \"'"),
            ("back\\slash", "'back\\\\slash'"),
            ("tab\there", "'tab\\there'"),
            ("nl\nx", "'nl\\nx'"),
            ("cr\r", "'cr\\r'"),
            ("\u{0}\u{1f}\u{7f}", "'\\x00\\x1f\\x7f'"),
            ("\u{80}\u{a0}\u{ad}\u{e9}", "'\\x80\\xa0\\xadé'"),
            ("🚀 emoji ✅", "'🚀 emoji ✅'"),
            ("\u{200b}\u{2028}\u{feff}", "'\\u200b\\u2028\\ufeff'"),
            ("Привет", "'Привет'"),
            ("\u{e000}", "'\\ue000'"),
            ("⚠️", "'⚠️'"),
        ];
        for (s, want) in cases {
            let mut out = String::new();
            str_repr(s, &mut out);
            assert_eq!(out, want, "{s:?}");
        }
    }

    fn sample() -> Py {
        Py::dict([
            ("a", Py::Int(1)),
            ("b", Py::List(vec![Py::Int(1), Py::Float(2.5), Py::None])),
            ("c", Py::Tuple(vec![Py::Int(1)])),
            ("d", Py::Tuple(vec![])),
            ("e", Py::Bool(true)),
            ("f", Py::Decimal("0.00510".into())),
            ("g", Py::dict([("x", Py::str("y"))])),
        ])
    }

    #[test]
    fn dict_repr_matches_python() {
        assert_eq!(
            sample().repr(),
            "{'a': 1, 'b': [1, 2.5, None], 'c': (1,), 'd': (), 'e': True, 'f': Decimal('0.00510'), 'g': {'x': 'y'}}"
        );
    }

    #[test]
    fn jsonb_text_matches_postgresql() {
        assert_eq!(
            sample().jsonb(),
            r#"{"a": 1, "b": [1, 2.5, null], "c": [1], "d": [], "e": true, "f": 0.0051, "g": {"x": "y"}}"#
        );
        // psql: SELECT '<json.dumps of this dict>'::jsonb (PostgreSQL 15): keys by length then
        // bytes, numbers expanded out of exponent form, DEL and U+2028 raw.
        let d = Py::dict([
            ("zeta", Py::Int(1)),
            ("a", Py::List(vec![Py::Int(1), Py::Float(2.5), Py::None])),
            ("bb", Py::Tuple(vec![Py::Int(1)])),
            ("e", Py::Bool(true)),
            ("f", Py::Decimal("0.00510".into())),
            (
                "g",
                Py::dict([
                    ("yy", Py::str("y")),
                    ("x", Py::str("q\"\\\n\t\u{1}\u{7f} é 🚀 \u{2028}")),
                ]),
            ),
            ("small", Py::Float(1e-5)),
            ("tiny", Py::Float(1.5e-7)),
            ("big", Py::Float(1.5e16)),
            ("huge", Py::Float(1e22)),
            ("int", Py::Int(12345678901234)),
            ("neg", Py::Float(-0.25)),
            ("zero", Py::Float(0.0)),
            ("ten", Py::Float(10.0)),
        ]);
        assert_eq!(
            d.jsonb(),
            "{\"a\": [1, 2.5, null], \"e\": true, \"f\": 0.0051, \"g\": {\"x\": \"q\\\"\\\\\\n\\t\\u0001\u{7f} é 🚀 \u{2028}\", \"yy\": \"y\"}, \"bb\": [1], \"big\": 15000000000000000, \"int\": 12345678901234, \"neg\": -0.25, \"ten\": 10.0, \"huge\": 10000000000000000000000, \"tiny\": 0.00000015, \"zero\": 0.0, \"zeta\": 1, \"small\": 0.00001}"
        );
    }
}
