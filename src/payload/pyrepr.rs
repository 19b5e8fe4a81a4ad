//! Parser for the Python-literal subset the trading bot prints with
//! `f"{event_type}: {data}"`, where `data` is a dict.
//!
//! The target is the value `serde_json::from_str(json.dumps(data))` gives
//! (after the bot turns `Decimal` into `float`), because the other side of
//! every comparison is PostgreSQL's jsonb copy of the same dict. Where JSON
//! has no equivalent the mapping is:
//! - `inf`, `-inf`, `nan` (also inside `Decimal(...)`) → the strings
//!   `"Infinity"`, `"-Infinity"`, `"NaN"`;
//! - lists, tuples, sets → arrays; non-string dict keys → their `json.dumps`
//!   key text (`1` → `"1"`, `True` → `"true"`, `None` → `"null"`);
//! - `datetime.datetime(...)` / `datetime.date(...)` → their `str()` text;
//! - enum reprs `<Cls.NAME: value>` → `value`;
//! - any other call, or a `<...>` repr that is not an enum → its source text.
//!
//! The scanner works on bytes, allocates only for the values it builds, and
//! never nests deeper than [`MAX_DEPTH`], so no input can overflow the stack.

use memchr::memchr3;
use rustc_hash::FxHashMap;
use serde_json::{Map, Number, Value};

use super::number::{float_value, float_via_repr, json_number, plain_repr, py_float_repr};

/// Deepest nesting accepted; deeper input is an error rather than a stack overflow.
pub const MAX_DEPTH: usize = 256;

/// Why a literal did not parse, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message} at byte {offset}")]
pub struct ReprError {
    /// Byte offset into the parsed input.
    pub offset: usize,
    pub message: String,
}

/// Parses `input` as exactly one literal; whitespace around it is allowed.
pub fn parse(input: &str) -> Result<Value, ReprError> {
    let mut p = Parser::new(input);
    p.skip_ws();
    let value = p.value(0)?;
    p.skip_ws();
    if p.pos < p.b.len() {
        return Err(p.err("unexpected text after the literal"));
    }
    Ok(value)
}

/// Parses one literal at the start of `input` (leading whitespace allowed) and
/// returns it with the number of bytes consumed, trailing whitespace excluded.
pub fn parse_prefix(input: &str) -> Result<(Value, usize), ReprError> {
    let mut p = Parser::new(input);
    p.skip_ws();
    let value = p.value(0)?;
    Ok((value, p.pos))
}

fn err_at(offset: usize, message: impl Into<String>) -> ReprError {
    ReprError {
        offset,
        message: message.into(),
    }
}

#[derive(Clone, Copy, Default)]
struct Prefix {
    raw: bool,
    bytes: bool,
}

fn string_prefix(word: &str) -> Option<Prefix> {
    let is = |p: &str| word.eq_ignore_ascii_case(p);
    if is("u") {
        Some(Prefix::default())
    } else if is("b") {
        Some(Prefix {
            raw: false,
            bytes: true,
        })
    } else if is("r") {
        Some(Prefix {
            raw: true,
            bytes: false,
        })
    } else if is("rb") || is("br") {
        Some(Prefix {
            raw: true,
            bytes: true,
        })
    } else {
        None
    }
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn closer_of(c: u8) -> u8 {
    match c {
        b'(' => b')',
        b'[' => b']',
        _ => b'}',
    }
}

/// `Decimal(str)` syntax: optional sign, digits with `_`, exponent, or the
/// special values (`NaN`, `sNaN` with payload, `Inf`, `Infinity`).
fn parse_decimal(s: &str) -> Option<f64> {
    let t = s.trim();
    let owned;
    let t = if t.contains('_') {
        owned = t.replace('_', "");
        owned.as_str()
    } else {
        t
    };
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, t.get(1..)?),
        Some(b'+') => (false, t.get(1..)?),
        _ => (false, t),
    };
    if body.starts_with(|c: char| c.is_ascii_alphabetic()) {
        let lower = body.to_ascii_lowercase();
        if let Some(rest) = lower
            .strip_prefix("snan")
            .or_else(|| lower.strip_prefix("nan"))
        {
            return rest.bytes().all(|c| c.is_ascii_digit()).then_some(f64::NAN);
        }
        if lower == "inf" || lower == "infinity" {
            return Some(if neg {
                f64::NEG_INFINITY
            } else {
                f64::INFINITY
            });
        }
        return None;
    }
    // Rust's float syntax is wider than Decimal's only in words like `inf`.
    if !body
        .bytes()
        .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
    {
        return None;
    }
    let f: f64 = body.parse().ok()?;
    Some(if neg { -f } else { f })
}

/// The correctly rounded float of `Decimal(...)` source text.
fn exact_float(src: &str) -> Option<f64> {
    let open = src.find('(')?;
    let mut p = Parser::new(src);
    p.pos = open;
    p.decimal_call().map(|(f, _)| f)
}

/// str() of a UTC offset in microseconds: `+HH:MM`, plus `:SS[.ffffff]` when needed.
fn format_offset(micros: i64) -> String {
    let sign = if micros < 0 { '-' } else { '+' };
    let a = micros.unsigned_abs();
    let (h, rem) = (a / 3_600_000_000, a % 3_600_000_000);
    let (m, rem) = (rem / 60_000_000, rem % 60_000_000);
    let (s, us) = (rem / 1_000_000, rem % 1_000_000);
    if us != 0 {
        format!("{sign}{h:02}:{m:02}:{s:02}.{us:06}")
    } else if s != 0 {
        format!("{sign}{h:02}:{m:02}:{s:02}")
    } else {
        format!("{sign}{h:02}:{m:02}")
    }
}

/// Microseconds per `timedelta` argument, in positional order.
const TIMEDELTA_UNITS: [(&str, i64); 7] = [
    ("days", 86_400_000_000),
    ("seconds", 1_000_000),
    ("microseconds", 1),
    ("milliseconds", 1_000),
    ("minutes", 60_000_000),
    ("hours", 3_600_000_000),
    ("weeks", 604_800_000_000),
];

struct Parser<'a> {
    src: &'a str,
    b: &'a [u8],
    pos: usize,
    /// Set when the depth limit fires, so fallbacks do not retry a doomed parse.
    too_deep: bool,
    /// What skipping the `<...>` or bracket group opening at a byte gave: its end, or why it
    /// failed. A repr that does not parse falls back to skipping its text from its start, so
    /// nested ones failing at every level would rescan the inner text once per level (O(n ×
    /// depth): seconds for a 1 MiB line); an enclosing skip jumps over a known group instead,
    /// and fails as the inner one did (it would reach the same unbalanced text).
    skipped: FxHashMap<usize, Result<usize, ReprError>>,
}

impl<'a> Parser<'a> {
    fn new(src: &'a str) -> Self {
        Parser {
            src,
            b: src.as_bytes(),
            pos: 0,
            too_deep: false,
            skipped: FxHashMap::default(),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    fn peek_at(&self, i: usize) -> Option<u8> {
        self.b.get(i).copied()
    }

    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0c) = self.peek() {
            self.pos += 1;
        }
    }

    /// Slices only ever fall on ASCII delimiters, so `get` cannot miss; the
    /// fallback just keeps this total.
    fn text(&self, start: usize, end: usize) -> &'a str {
        self.src.get(start..end).unwrap_or("")
    }

    fn err(&self, message: impl Into<String>) -> ReprError {
        err_at(self.pos, message)
    }

    fn unexpected(&self) -> ReprError {
        match self.src.get(self.pos..).and_then(|s| s.chars().next()) {
            Some(c) => self.err(format!("unexpected character {c:?}")),
            None if self.pos < self.b.len() => self.err("unexpected byte"),
            None => self.err("unexpected end of input"),
        }
    }

    fn expected(&self, close: u8, open: usize) -> ReprError {
        let close = char::from(close);
        if self.pos >= self.b.len() {
            self.err(format!("missing '{close}' for the bracket at byte {open}"))
        } else {
            self.err(format!("expected ',' or '{close}'"))
        }
    }

    fn nested(&mut self, depth: usize) -> Result<usize, ReprError> {
        if depth >= MAX_DEPTH {
            self.too_deep = true;
            return Err(self.err(format!("nesting deeper than {MAX_DEPTH} levels")));
        }
        Ok(depth + 1)
    }

    fn value(&mut self, depth: usize) -> Result<Value, ReprError> {
        match self.peek() {
            Some(b'[') => self.list(depth),
            Some(b'(') => self.tuple(depth),
            Some(b'{') => self.braces(depth),
            Some(b'\'' | b'"') => self.string(self.pos, Prefix::default()).map(Value::String),
            Some(b'0'..=b'9' | b'-' | b'+' | b'.') => self.number(),
            Some(b'<') => self.angle(depth),
            Some(c) if is_ident_start(c) => self.word(depth),
            _ => Err(self.unexpected()),
        }
    }

    /// Items up to `close`; `need_sep` is true when an item was already read.
    /// Returns whether any comma was seen, which tells `(x)` from `(x,)`.
    fn items(
        &mut self,
        close: u8,
        open: usize,
        inner: usize,
        items: &mut Vec<Value>,
        mut need_sep: bool,
    ) -> Result<bool, ReprError> {
        let mut comma = false;
        loop {
            self.skip_ws();
            if self.eat(close) {
                return Ok(comma);
            }
            if need_sep {
                if !self.eat(b',') {
                    return Err(self.expected(close, open));
                }
                comma = true;
                need_sep = false;
                continue;
            }
            items.push(self.value(inner)?);
            need_sep = true;
        }
    }

    fn list(&mut self, depth: usize) -> Result<Value, ReprError> {
        let inner = self.nested(depth)?;
        let open = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        self.items(b']', open, inner, &mut items, false)?;
        Ok(Value::Array(items))
    }

    fn tuple(&mut self, depth: usize) -> Result<Value, ReprError> {
        let inner = self.nested(depth)?;
        let open = self.pos;
        self.pos += 1;
        let mut items = Vec::new();
        let comma = self.items(b')', open, inner, &mut items, false)?;
        // `(x)` is just a parenthesised `x`; only `(x,)` is a tuple.
        if !comma && items.len() == 1 {
            if let Some(v) = items.pop() {
                return Ok(v);
            }
        }
        Ok(Value::Array(items))
    }

    /// `{}` is a dict; after the first item a `:` means dict, anything else a set.
    fn braces(&mut self, depth: usize) -> Result<Value, ReprError> {
        let inner = self.nested(depth)?;
        let open = self.pos;
        self.pos += 1;
        self.skip_ws();
        if self.eat(b'}') {
            return Ok(Value::Object(Map::new()));
        }
        let key_start = self.pos;
        let first = self.value(inner)?;
        let key_end = self.pos;
        self.skip_ws();
        if !self.eat(b':') {
            let mut items = vec![first];
            self.items(b'}', open, inner, &mut items, true)?;
            return Ok(Value::Array(items));
        }
        let mut key = self.key_string(first, key_start, key_end);
        let mut map = Map::new();
        loop {
            self.skip_ws();
            let v = self.value(inner)?;
            // Last duplicate wins, as in json.loads and jsonb.
            map.insert(key, v);
            self.skip_ws();
            if self.eat(b',') {
                self.skip_ws();
                if self.eat(b'}') {
                    break;
                }
            } else if self.eat(b'}') {
                break;
            } else {
                return Err(self.expected(b'}', open));
            }
            let ks = self.pos;
            let k = self.value(inner)?;
            key = self.key_string(k, ks, self.pos);
            self.skip_ws();
            if !self.eat(b':') {
                return Err(self.err("expected ':' after dict key"));
            }
        }
        Ok(Value::Object(map))
    }

    /// json.dumps' key text for a non-string key.
    fn key_string(&self, key: Value, start: usize, end: usize) -> String {
        match key {
            Value::String(s) => s,
            Value::Bool(true) => "true".to_owned(),
            Value::Bool(false) => "false".to_owned(),
            Value::Null => "null".to_owned(),
            Value::Number(n) if n.is_f64() => {
                let src = self.text(start, end);
                if src.starts_with(|c: char| c.is_ascii_digit() || matches!(c, '-' | '+' | '.')) {
                    // A literal's text is already repr(), which json.dumps
                    // uses for int and float keys (big ints keep all digits).
                    src.trim_start_matches('+').to_owned()
                } else {
                    // Decimal: repr() of the float the bot converts it to.
                    py_float_repr(exact_float(src).or(n.as_f64()).unwrap_or(f64::NAN))
                }
            }
            Value::Number(n) => n.to_string(),
            // Tuple keys have no json.dumps form; keep their source text.
            Value::Array(_) | Value::Object(_) => self.text(start, end).to_owned(),
        }
    }

    /// A quoted string; `self.pos` is at the quote, `start` at the prefix (for errors).
    fn string(&mut self, start: usize, prefix: Prefix) -> Result<String, ReprError> {
        let Some(quote) = self.peek() else {
            return Err(self.unexpected());
        };
        self.pos += 1;
        let mut seg = self.pos;
        let mut out: Vec<u8> = Vec::new();
        let mut escaped = false;
        loop {
            let rest = self.b.get(self.pos..).unwrap_or(&[]);
            let Some(i) = memchr3(quote, b'\\', b'\n', rest) else {
                return Err(err_at(start, "unterminated string"));
            };
            let at = self.pos + i;
            match self.peek_at(at) {
                Some(c) if c == quote => {
                    self.pos = at + 1;
                    if !escaped {
                        return Ok(self.text(seg, at).to_owned());
                    }
                    out.extend_from_slice(self.b.get(seg..at).unwrap_or(&[]));
                    // Bytes escapes can form invalid UTF-8; str escapes never do.
                    return Ok(String::from_utf8(out)
                        .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()));
                }
                Some(b'\\') if prefix.raw => {
                    // In raw strings a backslash only shields the next character.
                    self.pos = at + 2;
                }
                Some(b'\\') => {
                    escaped = true;
                    out.extend_from_slice(self.b.get(seg..at).unwrap_or(&[]));
                    self.pos = at + 1;
                    self.escape(&mut out, prefix.bytes, start, at)?;
                    seg = self.pos;
                }
                _ => return Err(err_at(start, "unterminated string")),
            }
        }
    }

    /// One escape; `self.pos` is just past the backslash at `esc`.
    fn escape(
        &mut self,
        out: &mut Vec<u8>,
        bytes: bool,
        start: usize,
        esc: usize,
    ) -> Result<(), ReprError> {
        let Some(c) = self.peek() else {
            return Err(err_at(start, "unterminated string"));
        };
        self.pos += 1;
        let byte = match c {
            b'\n' => return Ok(()),
            b'\\' | b'\'' | b'"' => c,
            b'n' => b'\n',
            b'r' => b'\r',
            b't' => b'\t',
            b'a' => 0x07,
            b'b' => 0x08,
            b'f' => 0x0c,
            b'v' => 0x0b,
            b'0'..=b'7' => {
                let mut v = u32::from(c - b'0');
                for _ in 0..2 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            v = v * 8 + u32::from(d - b'0');
                            self.pos += 1;
                        }
                        _ => break,
                    }
                }
                return self.push_code(out, v, bytes, esc);
            }
            b'x' => {
                let v = self.hex(2, esc)?;
                return self.push_code(out, v, bytes, esc);
            }
            b'u' if !bytes => {
                let v = self.hex(4, esc)?;
                self.push_unicode(out, v);
                return Ok(());
            }
            b'U' if !bytes => {
                let v = self.hex(8, esc)?;
                if v > 0x10_FFFF {
                    return Err(err_at(esc, "\\U escape beyond U+10FFFF"));
                }
                self.push_unicode(out, v);
                return Ok(());
            }
            _ => {
                // Python keeps unknown escapes (and \N{...}) verbatim.
                self.pos -= 1;
                b'\\'
            }
        };
        out.push(byte);
        Ok(())
    }

    fn hex(&mut self, n: usize, esc: usize) -> Result<u32, ReprError> {
        let end = self.pos.saturating_add(n);
        let digits = self.b.get(self.pos..end).unwrap_or(&[]);
        let mut v: u32 = 0;
        for &d in digits {
            let Some(x) = char::from(d).to_digit(16) else {
                break;
            };
            v = (v << 4) | x;
        }
        if digits.len() != n || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(err_at(
                esc,
                format!("truncated escape: {n} hex digits needed"),
            ));
        }
        self.pos = end;
        Ok(v)
    }

    fn push_code(
        &mut self,
        out: &mut Vec<u8>,
        v: u32,
        bytes: bool,
        esc: usize,
    ) -> Result<(), ReprError> {
        if bytes {
            let Ok(byte) = u8::try_from(v) else {
                return Err(err_at(esc, "octal escape above \\377 in bytes"));
            };
            out.push(byte);
        } else {
            let mut buf = [0u8; 4];
            let ch = char::from_u32(v).unwrap_or('\u{FFFD}');
            out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
        }
        Ok(())
    }

    /// A code point from `\u`/`\U`. json.dumps writes a Python surrogate pair as
    /// `\ud83d\ude00`, which JSON readers join into one character, so a high
    /// surrogate escape directly followed by a low one is joined here too;
    /// any other surrogate becomes U+FFFD.
    fn push_unicode(&mut self, out: &mut Vec<u8>, v: u32) {
        let ch = if (0xD800..0xDC00).contains(&v) {
            self.low_surrogate()
                .and_then(|lo| char::from_u32(0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00)))
        } else {
            char::from_u32(v)
        };
        let mut buf = [0u8; 4];
        let ch = ch.unwrap_or('\u{FFFD}');
        out.extend_from_slice(ch.encode_utf8(&mut buf).as_bytes());
    }

    fn low_surrogate(&mut self) -> Option<u32> {
        if self.peek() != Some(b'\\') {
            return None;
        }
        let n = match self.peek_at(self.pos + 1)? {
            b'u' => 4,
            b'U' => 8,
            _ => return None,
        };
        let from = self.pos + 2;
        let digits = self.b.get(from..from + n)?;
        let s = std::str::from_utf8(digits).ok()?;
        let v = u32::from_str_radix(s, 16).ok()?;
        if !(0xDC00..0xE000).contains(&v) || !digits.iter().all(u8::is_ascii_hexdigit) {
            return None;
        }
        self.pos = from + n;
        Some(v)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value, ReprError> {
        let start = self.pos;
        let neg = self.peek() == Some(b'-');
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.pos += 1;
        }
        if self.peek().is_some_and(is_ident_start) {
            return match self.ident() {
                "inf" => Ok(float_value(if neg {
                    f64::NEG_INFINITY
                } else {
                    f64::INFINITY
                })),
                "nan" => Ok(float_value(f64::NAN)),
                _ => Err(err_at(start, "invalid number")),
            };
        }
        let int_digits = self.digits();
        let mut float = false;
        if self.eat(b'.') {
            float = true;
            if int_digits + self.digits() == 0 {
                return Err(err_at(start, "invalid number"));
            }
        } else if int_digits == 0 {
            return Err(err_at(start, "invalid number"));
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some(b'-' | b'+')) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(err_at(start, "invalid number exponent"));
            }
            float = true;
        }
        if self.peek().is_some_and(|c| is_ident_char(c) || c == b'.') {
            return Err(err_at(start, "invalid number"));
        }
        let text = self.text(start, self.pos);
        if float {
            // Python's repr is valid JSON text; other spellings (`5.`, `.5`,
            // `+1.5`, overflow to inf) fall back to Rust's exact parse.
            if let Some(n) = json_number(text) {
                return Ok(Value::Number(n));
            }
            return match text.parse::<f64>() {
                Ok(f) => Ok(float_value(f)),
                Err(_) => Err(err_at(start, "invalid number")),
            };
        }
        let int = if neg {
            text.parse::<i64>().ok().map(Number::from)
        } else {
            text.parse::<u64>().ok().map(Number::from)
        };
        if let Some(n) = int {
            return Ok(Value::Number(n));
        }
        // Python ints are unbounded: serde_json reads json.dumps' digits as
        // f64, and past f64's range not at all, so those keep their digits.
        let digits = text.trim_start_matches('+');
        Ok(match json_number(digits) {
            Some(n) => Value::Number(n),
            None => Value::String(digits.to_owned()),
        })
    }

    /// `[A-Za-z0-9_]*` from `self.pos`.
    fn ident(&mut self) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(is_ident_char) {
            self.pos += 1;
        }
        self.text(start, self.pos)
    }

    /// `name(.name)*` from `self.pos`.
    fn dotted(&mut self) -> &'a str {
        let start = self.pos;
        self.ident();
        while self.peek() == Some(b'.') && self.peek_at(self.pos + 1).is_some_and(is_ident_start) {
            self.pos += 1;
            self.ident();
        }
        self.text(start, self.pos)
    }

    /// A bare word: a constant, a string prefix, or the name of a call.
    fn word(&mut self, depth: usize) -> Result<Value, ReprError> {
        let start = self.pos;
        let first = self.ident();
        if matches!(self.peek(), Some(b'\'' | b'"')) {
            let Some(prefix) = string_prefix(first) else {
                return Err(err_at(start, format!("unknown string prefix '{first}'")));
            };
            return self.string(start, prefix).map(Value::String);
        }
        self.pos = start;
        let name = self.dotted();
        if self.peek() == Some(b'(') {
            return self.call(start, name, depth);
        }
        match name {
            "True" => Ok(Value::Bool(true)),
            "False" => Ok(Value::Bool(false)),
            "None" => Ok(Value::Null),
            "inf" => Ok(float_value(f64::INFINITY)),
            "nan" => Ok(float_value(f64::NAN)),
            _ => {
                let shown = name.get(..40).unwrap_or(name);
                Err(err_at(start, format!("unknown identifier '{shown}'")))
            }
        }
    }

    /// `name(...)`; `self.pos` is at the `(`.
    fn call(&mut self, start: usize, name: &str, depth: usize) -> Result<Value, ReprError> {
        let open = self.pos;
        let known = match name {
            "Decimal" | "decimal.Decimal" => self.decimal_value(),
            "datetime.datetime" => self.datetime_call(true).map(Value::String),
            "datetime.date" => self.datetime_call(false).map(Value::String),
            "set" | "frozenset" => return self.set_call(start, depth),
            _ => None,
        };
        if let Some(v) = known {
            return Ok(v);
        }
        // Not a shape we model (or model fully): keep the call's source text.
        self.pos = open;
        self.skip_balanced(depth)?;
        Ok(Value::String(self.text(start, self.pos).to_owned()))
    }

    /// `set()`, `frozenset()` and `frozenset({...})` → arrays, like set displays.
    fn set_call(&mut self, start: usize, depth: usize) -> Result<Value, ReprError> {
        let open = self.pos;
        self.pos += 1;
        self.skip_ws();
        if self.eat(b')') {
            return Ok(Value::Array(Vec::new()));
        }
        if self.peek() == Some(b'{') {
            let inner = self.value(depth)?;
            self.skip_ws();
            if matches!(inner, Value::Array(_)) && self.eat(b')') {
                return Ok(inner);
            }
        }
        self.pos = open;
        self.skip_balanced(depth)?;
        Ok(Value::String(self.text(start, self.pos).to_owned()))
    }

    /// `Decimal('…')` or `Decimal(number)`, as the float the bot converts it to.
    /// `Decimal(…)` as the bot's json.dumps writes it: the float it converts it to.
    fn decimal_value(&mut self) -> Option<Value> {
        let (f, literal) = self.decimal_call()?;
        if let Some(n) = literal.and_then(plain_repr).and_then(|r| json_number(&r)) {
            return Some(Value::Number(n));
        }
        Some(float_via_repr(f))
    }

    /// The float of `Decimal(…)`, and the argument's text when it is a quoted literal without
    /// escapes.
    fn decimal_call(&mut self) -> Option<(f64, Option<&'a str>)> {
        self.pos += 1;
        self.skip_ws();
        let (f, literal) = match self.peek()? {
            b'\'' | b'"' => {
                let open = self.pos;
                let s = self.string(self.pos, Prefix::default()).ok()?;
                let raw = self.text(open + 1, self.pos.saturating_sub(1));
                (parse_decimal(&s)?, (raw == s).then_some(raw))
            }
            _ => match self.number().ok()? {
                Value::Number(n) => (n.as_f64()?, None),
                Value::String(s) => (parse_decimal(&s)?, None),
                _ => return None,
            },
        };
        self.skip_ws();
        self.eat(b')').then_some((f, literal))
    }

    /// An integer argument of a datetime/timedelta repr.
    fn int_arg(&mut self) -> Option<i64> {
        let start = self.pos;
        if matches!(self.peek(), Some(b'-' | b'+')) {
            self.pos += 1;
        }
        if self.digits() == 0 || self.peek().is_some_and(|c| is_ident_char(c) || c == b'.') {
            return None;
        }
        self.text(start, self.pos).parse().ok()
    }

    /// After an argument: `,` (loop on) or `)` (done). None on anything else.
    fn arg_end(&mut self) -> Option<bool> {
        self.skip_ws();
        if self.eat(b',') {
            Some(false)
        } else if self.eat(b')') {
            Some(true)
        } else {
            None
        }
    }

    /// `datetime.datetime(y, m, d[, H, M, S, us], tzinfo=…, fold=…)` or
    /// `datetime.date(y, m, d)` → `str()` of it. None when the shape or the
    /// time zone is not one we can render exactly.
    fn datetime_call(&mut self, with_time: bool) -> Option<String> {
        self.pos += 1;
        let mut f = [0i64; 7];
        let mut n = 0usize;
        let mut offset: Option<i64> = None;
        loop {
            self.skip_ws();
            if self.eat(b')') {
                break;
            }
            if self.peek().is_some_and(is_ident_start) {
                let kw = self.ident();
                self.skip_ws();
                if !self.eat(b'=') {
                    return None;
                }
                self.skip_ws();
                match kw {
                    "tzinfo" if with_time => offset = self.tzinfo()?,
                    "fold" if with_time => {
                        self.int_arg()?;
                    }
                    _ => return None,
                }
            } else {
                *f.get_mut(n)? = self.int_arg()?;
                n += 1;
            }
            if self.arg_end()? {
                break;
            }
        }
        let [year, month, day, hour, minute, second, micro] = f;
        let valid = n >= 3
            && (with_time || n == 3)
            && (1..=9999).contains(&year)
            && (1..=12).contains(&month)
            && (1..=31).contains(&day)
            && (0..24).contains(&hour)
            && (0..60).contains(&minute)
            && (0..60).contains(&second)
            && (0..1_000_000).contains(&micro);
        if !valid {
            return None;
        }
        let date = format!("{year:04}-{month:02}-{day:02}");
        if !with_time {
            return Some(date);
        }
        let frac = if micro != 0 {
            format!(".{micro:06}")
        } else {
            String::new()
        };
        let off = offset.map(format_offset).unwrap_or_default();
        Some(format!(
            "{date} {hour:02}:{minute:02}:{second:02}{frac}{off}"
        ))
    }

    /// The `tzinfo=` value: Some(None) for naive, Some(Some(µs)) for a fixed offset.
    fn tzinfo(&mut self) -> Option<Option<i64>> {
        let rest = self.b.get(self.pos..)?;
        // pytz.utc prints as `<UTC>`.
        if rest.starts_with(b"<UTC>") {
            self.pos += 5;
            return Some(Some(0));
        }
        if !rest.first().copied().is_some_and(is_ident_start) {
            return None;
        }
        match self.dotted() {
            "None" => Some(None),
            "datetime.timezone.utc" | "timezone.utc" => Some(Some(0)),
            "datetime.timezone" | "timezone" if self.peek() == Some(b'(') => {
                self.pos += 1;
                self.skip_ws();
                let off = self.timedelta()?;
                // An optional zone name follows; str() shows only the offset.
                if !self.arg_end()? {
                    self.skip_ws();
                    if matches!(self.peek(), Some(b'\'' | b'"')) {
                        self.string(self.pos, Prefix::default()).ok()?;
                        if !self.arg_end()? {
                            self.skip_ws();
                            if !self.eat(b')') {
                                return None;
                            }
                        }
                    } else if !self.eat(b')') {
                        return None;
                    }
                }
                (off.abs() < 86_400_000_000).then_some(Some(off))
            }
            _ => None,
        }
    }

    /// `datetime.timedelta(...)` in microseconds.
    fn timedelta(&mut self) -> Option<i64> {
        if !matches!(self.dotted(), "datetime.timedelta" | "timedelta") || !self.eat(b'(') {
            return None;
        }
        let mut total: i64 = 0;
        let mut positional = 0usize;
        loop {
            self.skip_ws();
            if self.eat(b')') {
                break;
            }
            let unit = if self.peek().is_some_and(is_ident_start) {
                let kw = self.ident();
                self.skip_ws();
                if !self.eat(b'=') {
                    return None;
                }
                self.skip_ws();
                TIMEDELTA_UNITS.iter().find(|(k, _)| *k == kw)?.1
            } else {
                positional += 1;
                TIMEDELTA_UNITS.get(positional - 1)?.1
            };
            total = total.checked_add(self.int_arg()?.checked_mul(unit)?)?;
            if self.arg_end()? {
                break;
            }
        }
        Some(total)
    }

    /// Skips a bracketed group without building values (for raw call text).
    /// Iterative, with its own bracket stack, so it cannot overflow either.
    fn skip_balanced(&mut self, depth: usize) -> Result<(), ReprError> {
        let open = self.pos;
        let out = self.skip_balanced_from(open, depth);
        self.skipped.insert(open, out.clone().map(|()| self.pos));
        out
    }

    fn skip_balanced_from(&mut self, open: usize, depth: usize) -> Result<(), ReprError> {
        let mut stack = [0u8; MAX_DEPTH];
        let mut sp = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'(' | b'[' | b'{' => {
                    if let Some(known) = self.skipped.get(&self.pos).filter(|_| sp > 0) {
                        // A group skipped before: the stack is as it was after it.
                        self.pos = known.clone()?;
                        continue;
                    }
                    let slot = if depth + sp < MAX_DEPTH {
                        stack.get_mut(sp)
                    } else {
                        None
                    };
                    let Some(slot) = slot else {
                        self.too_deep = true;
                        return Err(self.err(format!("nesting deeper than {MAX_DEPTH} levels")));
                    };
                    *slot = closer_of(c);
                    sp += 1;
                    self.pos += 1;
                }
                b')' | b']' | b'}' => {
                    let want = sp.checked_sub(1).and_then(|i| stack.get(i)).copied();
                    if want != Some(c) {
                        return Err(self.err(format!("mismatched '{}'", char::from(c))));
                    }
                    sp = sp.saturating_sub(1);
                    self.pos += 1;
                    if sp == 0 {
                        return Ok(());
                    }
                }
                b'\'' | b'"' => {
                    self.skip_quoted()?;
                }
                _ => self.pos += 1,
            }
        }
        Err(self.err(format!("missing ')' for the call at byte {open}")))
    }

    fn skip_quoted(&mut self) -> Result<(), ReprError> {
        let start = self.pos;
        let Some(quote) = self.peek() else {
            return Err(self.unexpected());
        };
        self.pos += 1;
        loop {
            let rest = self.b.get(self.pos..).unwrap_or(&[]);
            let Some(i) = memchr3(quote, b'\\', b'\n', rest) else {
                return Err(err_at(start, "unterminated string"));
            };
            let at = self.pos + i;
            match self.peek_at(at) {
                Some(c) if c == quote => {
                    self.pos = at + 1;
                    return Ok(());
                }
                Some(b'\\') => self.pos = at + 2,
                _ => return Err(err_at(start, "unterminated string")),
            }
        }
    }

    /// `<Cls.NAME: value>` → value; any other `<...>` repr → its text.
    fn angle(&mut self, depth: usize) -> Result<Value, ReprError> {
        let start = self.pos;
        self.pos += 1;
        let name_start = self.pos;
        let mut dotted = false;
        while let Some(c) = self.peek() {
            if c == b'.' {
                dotted = true;
            } else if !(is_ident_char(c) || c == b'|') {
                break;
            }
            self.pos += 1;
        }
        if dotted
            && self.pos > name_start
            && self.peek() == Some(b':')
            && self.peek_at(self.pos + 1) == Some(b' ')
        {
            let inner = self.nested(depth)?;
            self.pos += 2;
            self.skip_ws();
            let enum_value = self.value(inner).and_then(|v| {
                self.skip_ws();
                if self.eat(b'>') {
                    Ok(v)
                } else {
                    Err(self.err("expected '>'"))
                }
            });
            match enum_value {
                Ok(v) => return Ok(v),
                Err(e) if self.too_deep => return Err(e),
                // A custom repr that only looks like an enum: keep its text.
                Err(_) => {}
            }
        }
        self.pos = start;
        self.skip_angle()?;
        Ok(Value::String(self.text(start, self.pos).to_owned()))
    }

    fn skip_angle(&mut self) -> Result<(), ReprError> {
        let open = self.pos;
        let out = self.skip_angle_from(open);
        self.skipped.insert(open, out.clone().map(|()| self.pos));
        out
    }

    fn skip_angle_from(&mut self, open: usize) -> Result<(), ReprError> {
        let mut level = 0usize;
        while let Some(c) = self.peek() {
            match c {
                b'<' => {
                    if let Some(known) = self.skipped.get(&self.pos).filter(|_| level > 0) {
                        // A `<...>` skipped before: the level is as it was after it.
                        self.pos = known.clone()?;
                        continue;
                    }
                    level += 1;
                    self.pos += 1;
                }
                b'>' => {
                    level = level.saturating_sub(1);
                    self.pos += 1;
                    if level == 0 {
                        return Ok(());
                    }
                }
                b'\'' | b'"' => self.skip_quoted()?,
                _ => self.pos += 1,
            }
        }
        Err(self.err(format!("missing '>' for the '<' at byte {open}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Value {
        serde_json::from_str(text).expect("test expectation is valid JSON")
    }

    /// Python repr on the left, json.dumps of the same object on the right.
    const CASES: &[(&str, &str)] = &[
        // scalars
        ("0", "0"),
        ("-5", "-5"),
        ("+7", "7"),
        ("18446744073709551615", "18446744073709551615"),
        ("18446744073709551616", "18446744073709551616"),
        ("-9223372036854775808", "-9223372036854775808"),
        ("-9223372036854775809", "-9223372036854775809"),
        ("1.0", "1.0"),
        ("-0.0", "-0.0"),
        ("0.1", "0.1"),
        ("1e-05", "1e-05"),
        ("3.5E+20", "3.5e+20"),
        ("1.7976931348623157e+308", "1.7976931348623157e+308"),
        ("5.", "5.0"),
        (".5", "0.5"),
        ("inf", r#""Infinity""#),
        ("-inf", r#""-Infinity""#),
        ("nan", r#""NaN""#),
        ("True", "true"),
        ("False", "false"),
        ("None", "null"),
        // strings
        ("'plain'", r#""plain""#),
        ("\"it's\"", r#""it's""#),
        (r"'it\'s'", r#""it's""#),
        (
            r#"'\\ \' \" \n \r \t \a \b \f \v \0'"#,
            r#""\\ ' \" \n \r \t \u0007 \b \f \u000b \u0000""#,
        ),
        (r"'\x41\u00e9\U0001F600\101\7'", r#""Aé😀A\u0007""#),
        (r"'\ud83d\ude00'", r#""😀""#),
        (r"'\ud83d'", r#""\ufffd""#),
        (r"'\ude00x'", r#""\ufffdx""#),
        (r"'\ud83d\ud83d\ude00'", r#""\ufffd😀""#),
        (r"'\q\N{DASH}'", r#""\\q\\N{DASH}""#),
        ("'line\\\ncontinued'", r#""linecontinued""#),
        ("'héllo ✅'", r#""héllo ✅""#),
        ("''", r#""""#),
        (r"b'abc\xc3\xa9\n'", r#""abcé\n""#),
        (r"b'\xff'", r#""\ufffd""#),
        (r"b'\u00e9'", r#""\\u00e9""#),
        (r"r'a\nb\''", r#""a\\nb\\'""#),
        (r"u'x'", r#""x""#),
        (r"Rb'\x'", r#""\\x""#),
        (r"BR'\x'", r#""\\x""#),
        // containers
        ("[]", "[]"),
        ("[1, 2,]", "[1, 2]"),
        ("[ 1 ,\n 2 ]", "[1, 2]"),
        ("()", "[]"),
        ("(1,)", "[1]"),
        ("(1)", "1"),
        ("((1, 2))", "[1, 2]"),
        ("(1, 'a', None)", r#"[1, "a", null]"#),
        ("{}", "{}"),
        ("{1, 2}", "[1, 2]"),
        ("{'b', 'a',}", r#"["b", "a"]"#),
        ("{(1, 2), 3}", "[[1, 2], 3]"),
        ("set()", "[]"),
        ("frozenset()", "[]"),
        ("frozenset({1, 2})", "[1, 2]"),
        ("{'a': [1, {'b': (2,)}],}", r#"{"a": [1, {"b": [2]}]}"#),
        // non-string keys as json.dumps writes them
        (
            "{1: 'a', 1.5: 'b', True: 'c', False: 'd', None: 'e'}",
            r#"{"1": "a", "1.5": "b", "true": "c", "false": "d", "null": "e"}"#,
        ),
        (
            "{1e-05: 1, 1e+16: 2, 100.0: 3}",
            r#"{"1e-05": 1, "1e+16": 2, "100.0": 3}"#,
        ),
        (
            "{-3: 1, inf: 2, nan: 3}",
            r#"{"-3": 1, "Infinity": 2, "NaN": 3}"#,
        ),
        (
            "{123456789012345678901234567890: 1}",
            r#"{"123456789012345678901234567890": 1}"#,
        ),
        ("{Decimal('1.50'): 1}", r#"{"1.5": 1}"#),
        ("{1: 'int', '1': 'str'}", r#"{"1": "int", "1": "str"}"#),
        // Decimal → float
        ("Decimal('0.0051')", "0.0051"),
        ("Decimal(\"1E+2\")", "100.0"),
        ("decimal.Decimal('-0')", "-0.0"),
        ("Decimal('1_000.5')", "1000.5"),
        ("Decimal(5)", "5.0"),
        ("Decimal('NaN')", r#""NaN""#),
        ("Decimal('sNaN')", r#""NaN""#),
        ("Decimal('-Infinity')", r#""-Infinity""#),
        ("Decimal('Inf')", r#""Infinity""#),
        // datetimes as str()
        (
            "datetime.datetime(2025, 10, 18, 11, 7, 3, 123000, tzinfo=datetime.timezone.utc)",
            r#""2025-10-18 11:07:03.123000+00:00""#,
        ),
        (
            "datetime.datetime(2025, 10, 18, 11, 7, tzinfo=datetime.timezone(datetime.timedelta(seconds=14400)))",
            r#""2025-10-18 11:07:00+04:00""#,
        ),
        (
            "datetime.datetime(2025, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=68400), 'EST'))",
            r#""2025-01-02 03:04:05-05:00""#,
        ),
        (
            "datetime.datetime(2025, 1, 2, 3, 4, tzinfo=datetime.timezone(datetime.timedelta(seconds=19830)))",
            r#""2025-01-02 03:04:00+05:30:30""#,
        ),
        (
            "datetime.datetime(2025, 1, 2, 3, 4, 5, 6, fold=1)",
            r#""2025-01-02 03:04:05.000006""#,
        ),
        (
            "datetime.datetime(2025, 10, 18, 0, 0)",
            r#""2025-10-18 00:00:00""#,
        ),
        (
            "datetime.datetime(2025, 10, 18, 0, 0, tzinfo=<UTC>)",
            r#""2025-10-18 00:00:00+00:00""#,
        ),
        ("datetime.date(2025, 10, 18)", r#""2025-10-18""#),
        // unrenderable zone: keep the call text
        (
            "datetime.datetime(2025, 10, 18, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='Europe/Berlin'))",
            r#""datetime.datetime(2025, 10, 18, 0, 0, tzinfo=zoneinfo.ZoneInfo(key='Europe/Berlin'))""#,
        ),
        (
            "datetime.date(2025, 13, 1)",
            r#""datetime.date(2025, 13, 1)""#,
        ),
        // enums and other reprs
        (
            "<EventType.POSITION_CREATED: 'position_created'>",
            r#""position_created""#,
        ),
        ("<Side.BUY: 1>", "1"),
        ("<Perm.R|W: 6>", "6"),
        (
            "<object object at 0x7f3a>",
            r#""<object object at 0x7f3a>""#,
        ),
        (
            "<function f.<locals>.g at 0x1>",
            r#""<function f.<locals>.g at 0x1>""#,
        ),
        ("<Order.x: id=5>", r#""<Order.x: id=5>""#),
        (
            "UUID('0c1d2e3f-0000-4000-8000-000000000000')",
            r#""UUID('0c1d2e3f-0000-4000-8000-000000000000')""#,
        ),
        (
            "datetime.timedelta(seconds=5)",
            r#""datetime.timedelta(seconds=5)""#,
        ),
        (
            "Foo(a=[1, (2, ')')], b={'}': 1})",
            r#""Foo(a=[1, (2, ')')], b={'}': 1})""#,
        ),
        ("set([1])", r#""set([1])""#),
        // a realistic event payload
        (
            "{'position_id': 1318, 'symbol': 'RSRUSDT', 'exchange': 'binance', 'side': 'long', \
             'entry_price': 0.0051, 'quantity': Decimal('19607.84'), 'leverage': 10, \
             'stop_loss': None, 'atomic': True, 'tags': ('wave', 'v2'), 'meta': {}, \
             'created_at': datetime.datetime(2025, 10, 18, 11, 7, 3, 123000, tzinfo=datetime.timezone.utc), \
             'event': <EventType.POSITION_CREATED: 'position_created'>, 'pnl': -1.5e-05}",
            r#"{"position_id": 1318, "symbol": "RSRUSDT", "exchange": "binance", "side": "long",
                "entry_price": 0.0051, "quantity": 19607.84, "leverage": 10,
                "stop_loss": null, "atomic": true, "tags": ["wave", "v2"], "meta": {},
                "created_at": "2025-10-18 11:07:03.123000+00:00",
                "event": "position_created", "pnl": -1.5e-05}"#,
        ),
    ];

    #[test]
    fn parses_like_json_dumps() {
        for (input, expected) in CASES {
            let got = parse(input).unwrap_or_else(|e| panic!("{input:?}: {e}"));
            assert_eq!(got, json(expected), "input {input:?}");
        }
    }

    #[test]
    fn int_and_float_number_kinds_match_serde_json() {
        // serde_json keeps 1 and 1.0 apart; so must we.
        for (input, is_f64) in [("1", false), ("1.0", true), ("-1", false), ("1e2", true)] {
            let v = parse(input).expect("valid number");
            let n = v.as_number().expect("a number");
            assert_eq!(n.is_f64(), is_f64, "{input}");
        }
        let big = parse("123456789012345678901234567890").expect("big int");
        assert!(big.is_f64());
        let huge = "9".repeat(400);
        assert_eq!(parse(&huge).expect("huge int"), Value::String(huge));
    }

    #[test]
    fn rejects_bad_input_with_offsets() {
        let cases: &[(&str, usize, &str)] = &[
            ("", 0, "end of input"),
            ("   ", 3, "end of input"),
            ("[1, 2", 5, "missing ']'"),
            ("{'a': 1", 7, "missing '}'"),
            ("(1, 2", 5, "missing ')'"),
            ("[1 2]", 3, "expected ',' or ']'"),
            ("{'a' 1}", 5, "expected ',' or '}'"),
            ("{'a': 1, 'b'}", 12, "expected ':'"),
            ("{1: 2, 3}", 8, "expected ':'"),
            ("[,]", 1, "unexpected character ','"),
            ("[1,,2]", 3, "unexpected character ','"),
            ("]", 0, "unexpected character ']'"),
            ("'abc", 0, "unterminated string"),
            ("['a', 'b]", 6, "unterminated string"),
            ("'a\nb'", 0, "unterminated string"),
            ("'abc\\", 0, "unterminated string"),
            (r"'\x4'", 1, "truncated escape"),
            (r"'\u12g4'", 1, "truncated escape"),
            (r"'\U00110000'", 1, "beyond U+10FFFF"),
            (r"b'\777'", 2, "above \\377"),
            ("foo", 0, "unknown identifier 'foo'"),
            ("[true]", 1, "unknown identifier 'true'"),
            ("f'x'", 0, "unknown string prefix"),
            ("1 2", 2, "unexpected text after"),
            ("{'a': 1}}", 8, "unexpected text after"),
            ("1.2.3", 0, "invalid number"),
            ("12abc", 0, "invalid number"),
            ("1e", 0, "invalid number exponent"),
            ("-", 0, "invalid number"),
            ("-foo", 0, "invalid number"),
            (".", 0, "invalid number"),
            ("Foo(1, [2)", 9, "mismatched ')'"),
            ("Foo(1", 5, "missing ')'"),
            ("Foo('a)", 4, "unterminated string"),
            ("<object at 0x1", 14, "missing '>'"),
            ("<E.A: 1", 7, "missing '>'"),
            ("@", 0, "unexpected character '@'"),
            ("✅", 0, "unexpected character '✅'"),
        ];
        for &(input, offset, message) in cases {
            let e = parse(input).expect_err(input);
            assert_eq!(e.offset, offset, "{input:?}: {e}");
            assert!(e.message.contains(message), "{input:?}: {e}");
        }
    }

    #[test]
    fn error_displays_offset() {
        let e = parse("[1 2]").expect_err("bad list");
        assert_eq!(e.to_string(), "expected ',' or ']' at byte 3");
    }

    #[test]
    fn parse_prefix_reports_consumed_bytes() {
        let cases: &[(&str, &str, usize)] = &[
            ("{'a': 1} trailing", r#"{"a": 1}"#, 8),
            ("  [1]  ", "[1]", 5),
            ("'x'y", r#""x""#, 3),
            ("Foo(1) rest", r#""Foo(1)""#, 6),
            ("1,2", "1", 1),
        ];
        for &(input, expected, used) in cases {
            let (v, n) = parse_prefix(input).expect(input);
            assert_eq!(v, json(expected), "{input:?}");
            assert_eq!(n, used, "{input:?}");
        }
        assert_eq!(parse_prefix("]").expect_err("bad").offset, 0);
    }

    #[test]
    fn depth_limit_is_an_error_not_a_stack_overflow() {
        for open in ["[", "(", "{", "{'k': ", "<E.A: ", "frozenset(", "Foo("] {
            let deep = open.repeat(10_000);
            let e = parse(&deep).expect_err(open);
            assert!(e.message.contains("nesting deeper than 256"), "{open}: {e}");
        }
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let over = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert_eq!(parse(&over).expect_err("too deep").offset, MAX_DEPTH);
    }

    // Regression (pathological input, reviewed for the pyrepr target, whose 4 KiB inputs are
    // too short to time out): a repr that does not parse falls back to skipping its text, and
    // nested ones failing at every level rescanned the inner text once per level. 255 enum
    // reprs around 1 MiB took 4.2 s in a debug build; 4 MiB would take ~17 s.
    #[test]
    fn nested_reprs_failing_at_every_level_are_skipped_in_linear_time() {
        let tail = "x".repeat(4 << 20);
        let list = "1, ".repeat(1 << 20);
        let cases = [
            format!("{}{tail}", "<a.b: ".repeat(255)),
            format!("{}{tail}>", "<a.b: ".repeat(255)),
            format!("{}'{tail}'", "<a.b: ".repeat(255)),
            format!("{}{tail}", "[<a.b: ".repeat(127)),
            format!("{}{list}1{}", "frozenset({".repeat(120), "} x)".repeat(120)),
            format!("{}{list}1{}", "<a.b: Foo(".repeat(120), ") x>".repeat(120)),
        ];
        let started = std::time::Instant::now();
        for (k, text) in cases.iter().enumerate() {
            match parse(text) {
                Ok(Value::String(s)) => assert_eq!(s.len(), text.len(), "case {k}"),
                Ok(other) => panic!("case {k}: {:?}", other.to_string().get(..80)),
                Err(e) => assert!(e.message.starts_with("missing '>'"), "case {k}: {e}"),
            }
        }
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
        // What the skips give is unchanged: the text of the outermost repr.
        let v = parse("<a.b: <c.d: [Foo(1 x)]> y>").unwrap();
        assert_eq!(v, json(r#""<a.b: <c.d: [Foo(1 x)]> y>""#));
        let v = parse("frozenset({frozenset({1}), 2} x)").unwrap();
        assert_eq!(v, json(r#""frozenset({frozenset({1}), 2} x)""#));
    }

    #[test]
    fn plain_decimal_reprs_are_spelled_like_python() {
        for (text, want) in [
            ("0.0096648", Some("0.0096648")),
            ("3.883", Some("3.883")),
            ("-12.50", Some("-12.5")),
            ("+007", Some("7.0")),
            ("100", Some("100.0")),
            ("5.", Some("5.0")),
            ("-0", Some("-0.0")),
            ("0.000", Some("0.0")),
            ("0.0001", Some("0.0001")),
            ("123456789012345", Some("123456789012345.0")),
            // Python prints these in exponent form, or they need more than 15 digits.
            ("0.00001", None),
            ("1234567890123456", None),
            ("0.1234567890123456", None),
            ("1e5", None),
            ("1_000", None),
            (".5", None),
            ("", None),
            ("NaN", None),
        ] {
            assert_eq!(plain_repr(text).as_deref(), want, "{text}");
            if let Some(w) = want {
                let f = parse_decimal(text).unwrap();
                assert_eq!(py_float_repr(f), w, "{text}");
            }
        }
        // Through the parser: a literal with an escape is read by the float path.
        let v = parse(r"{'a': Decimal('0.0051'), 'b': Decimal('0\x2e5'), 'c': Decimal( '7' )}");
        assert_eq!(v.unwrap(), json(r#"{"a": 0.0051, "b": 0.5, "c": 7.0}"#));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]
        #[test]
        fn plain_reprs_equal_the_float_path(
            int in "0{0,2}[0-9]{1,9}",
            frac in proptest::option::of("0{0,5}[0-9]{0,10}0{0,2}"),
            sign in "[-+]?",
        ) {
            let text = match &frac {
                Some(f) => format!("{sign}{int}.{f}"),
                None => format!("{sign}{int}"),
            };
            let f = parse_decimal(&text).unwrap();
            if let Some(r) = plain_repr(&text) {
                proptest::prop_assert_eq!(r, py_float_repr(f));
            }
        }
    }

    const TORTURE: &str = "{'a': [1, -2.5e-05, (3,), {4, 5}, set()], \"b\\x41\\u00e9\\ud83d\\ude00\": \
        {True: None, 1.5: Decimal('0.0051'), (1, 'x'): b'\\xff'}, 'dt': datetime.datetime(2025, 10, 18, \
        11, 7, 3, 123000, tzinfo=datetime.timezone(datetime.timedelta(days=-1, seconds=72000), 'X')), \
        'd': datetime.date(2025, 1, 1), 'e': <EventType.X: 'x'>, 'o': <object at 0x1>, \
        'c': Foo(1, [2, {'k': ')'}]), 'r': r'\\q', 'n': -inf, 'm': nan, 'big': 123456789012345678901234567890}";

    #[test]
    fn torture_literal_parses() {
        let v = parse(TORTURE).expect("torture literal");
        assert_eq!(v["dt"], json(r#""2025-10-18 11:07:03.123000-04:00""#));
        assert_eq!(v["bAé😀"]["(1, 'x')"], json(r#""\ufffd""#));
        assert_eq!(v["c"], json(r#""Foo(1, [2, {'k': ')'}])""#));
        assert_eq!(v["r"], json(r#""\\q""#));
    }

    #[test]
    fn never_panics_on_prefixes_or_mutations() {
        let len = TORTURE.len();
        let mut checked = 0usize;
        let mut check = |s: &str| {
            match parse(s) {
                Ok(_) => {}
                Err(e) => assert!(e.offset <= s.len(), "{s:?}: {e}"),
            }
            if let Ok((_, used)) = parse_prefix(s) {
                assert!(used <= s.len(), "{s:?}");
            }
            checked += 1;
        };
        for i in 0..=len {
            if let Some(prefix) = TORTURE.get(..i) {
                check(prefix);
            }
        }
        let bytes = TORTURE.as_bytes();
        let replacements = b"'\"\\[](){}<>,:.-+e0x uU\n#";
        for i in 0..len {
            let mut deleted = bytes.to_vec();
            deleted.remove(i);
            if let Ok(s) = std::str::from_utf8(&deleted) {
                check(s);
            }
            for &r in replacements {
                let mut m = bytes.to_vec();
                m[i] = r;
                if let Ok(s) = std::str::from_utf8(&m) {
                    check(s);
                }
            }
        }
        assert!(checked > len * replacements.len());
    }
}
