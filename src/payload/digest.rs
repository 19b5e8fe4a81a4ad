//! A DB payload read once: its canonical text, its [`super::payload_hash`] and the top-level
//! fields that name a signal, a position and a symbol.
//!
//! Every DB row's `event_data` goes through here, and building a `serde_json::Value` (a
//! `String` per key, a B-tree per object) then printing it again was half of a whole-day
//! load's CPU. What jsonb prints — objects of plain strings, integers and short decimals — is
//! read here in one pass over borrowed bytes; anything else (an escape, an exponent, a number
//! the shortest float printer would spell differently, a repeated key, invalid JSON) goes
//! through `serde_json::Value`, so both paths give the same bytes and the same hash, which the
//! tests check on random documents.

use serde_json::Value;

use crate::payload::canon::Canon;

use crate::payload::fields;
use crate::payload::number::plain_number;

/// The top-level keys ingest reads from a payload when the row's own column is empty.
const KEYS: [&str; 3] = ["signal_id", "position_id", "symbol"];

/// A payload read: canonical JSON (keys sorted, no spaces, numbers as serde_json prints them),
/// its hash, and the top-level values ingest may need.
#[derive(Debug)]
pub struct Digest<'a> {
    pub canonical: String,
    pub hash: u64,
    top: Top<'a>,
}

#[derive(Debug)]
enum Top<'a> {
    /// The JSON texts of `KEYS`' values, when present.
    Spans([Option<&'a str>; 3]),
    Value(Value),
}

impl Digest<'_> {
    /// Reads a payload; None when it is not JSON.
    pub fn of(text: &str) -> Option<Digest<'_>> {
        Fast::digest(text).or_else(|| {
            let v: Value = serde_json::from_str(text).ok()?;
            let (canonical, hash) = super::identity(&v);
            Some(Digest {
                canonical,
                hash,
                top: Top::Value(v),
            })
        })
    }

    fn top(&self, k: usize) -> Option<Value> {
        match &self.top {
            Top::Spans(s) => s[k].and_then(|t| serde_json::from_str(t).ok()),
            Top::Value(v) => v.get(KEYS[k]).cloned(),
        }
    }

    /// `fields::int_field(payload, "signal_id")`.
    pub fn signal_id(&self) -> Option<i64> {
        self.top(0).as_ref().and_then(fields::int_value)
    }

    /// `fields::int_field(payload, "position_id")`.
    pub fn position_id(&self) -> Option<i64> {
        self.top(1).as_ref().and_then(fields::int_value)
    }

    /// `fields::str_field(payload, "symbol")`.
    pub fn symbol(&self) -> Option<String> {
        self.top(2).as_ref().and_then(fields::str_value)
    }
}

/// The one-pass reader. Every method returns None where the input leaves the plain subset;
/// the caller then takes the `Value` path, which decides what the text is.
struct Fast<'a> {
    t: &'a str,
    s: &'a [u8],
    c: Canon,
    /// Objects and arrays open around the current value: deeper than [`MAX_DEPTH`] goes to
    /// serde_json (which refuses past 128), so a hostile payload cannot exhaust the stack.
    depth: usize,
}

const MAX_DEPTH: usize = 64;

impl<'a> Fast<'a> {
    fn digest(text: &'a str) -> Option<Digest<'a>> {
        let mut f = Fast {
            t: text,
            s: text.as_bytes(),
            c: Canon::with_capacity(text.len()),
            depth: 0,
        };
        let start = f.ws(0);
        let mut top = [None; 3];
        let end = f.value(start, Some(&mut top))?;
        if f.ws(end) != f.s.len() {
            return None;
        }
        let (canonical, hash) = f.c.finish();
        Some(Digest {
            canonical,
            hash,
            top: Top::Spans(top),
        })
    }

    fn ws(&self, mut i: usize) -> usize {
        while matches!(self.s.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            i += 1;
        }
        i
    }

    /// The text between two ASCII bytes (or the end).
    fn text(&self, a: usize, b: usize) -> &'a str {
        self.t.get(a..b).unwrap_or_default()
    }

    /// Writes and hashes the value at `i` (no leading space); returns where it ends. At the
    /// top level, `top` receives the texts of `KEYS`' values.
    fn value(&mut self, i: usize, top: Option<&mut [Option<&'a str>; 3]>) -> Option<usize> {
        match *self.s.get(i)? {
            b'{' | b'[' if self.depth >= MAX_DEPTH => None,
            b'{' => {
                self.depth += 1;
                let end = self.object(i, top);
                self.depth -= 1;
                end
            }
            b'[' => {
                self.depth += 1;
                let end = self.array(i);
                self.depth -= 1;
                end
            }
            b'"' => {
                let end = self.string(i)?;
                self.c.string(self.text(i + 1, end - 1));
                Some(end)
            }
            b't' => self.literal(i, "true", b't'),
            b'f' => self.literal(i, "false", b'f'),
            b'n' => self.literal(i, "null", b'n'),
            _ => self.number(i),
        }
    }

    fn literal(&mut self, i: usize, word: &str, tag: u8) -> Option<usize> {
        let end = i + word.len();
        (self.s.get(i..end)? == word.as_bytes()).then_some(())?;
        self.c.literal(word, tag);
        Some(end)
    }

    /// The end of the string starting at `i` (past its closing quote); None on an escape or a
    /// control character.
    fn string(&self, i: usize) -> Option<usize> {
        let rest = self.s.get(i + 1..)?;
        let q = memchr::memchr2(b'"', b'\\', rest)?;
        if rest[q] == b'\\' || rest[..q].iter().any(|&b| b < 0x20) {
            return None;
        }
        Some(i + 1 + q + 1)
    }

    /// Members of an object or elements of an array: where each value starts and ends (and its
    /// key).
    #[allow(clippy::type_complexity)]
    fn members(
        &self,
        i: usize,
        close: u8,
        keyed: bool,
    ) -> Option<(Vec<(&'a str, usize, usize)>, usize)> {
        let mut items = Vec::new();
        let mut j = self.ws(i + 1);
        if self.s.get(j) == Some(&close) {
            return Some((items, j + 1));
        }
        loop {
            let mut key = "";
            if keyed {
                (self.s.get(j) == Some(&b'"')).then_some(())?;
                let end = self.string(j)?;
                key = self.text(j + 1, end - 1);
                j = self.ws(end);
                (self.s.get(j) == Some(&b':')).then_some(())?;
                j = self.ws(j + 1);
            }
            let end = self.skip(j)?;
            items.push((key, j, end));
            j = self.ws(end);
            match *self.s.get(j)? {
                b',' => j = self.ws(j + 1),
                c if c == close => return Some((items, j + 1)),
                _ => return None,
            }
        }
    }

    /// The end of the value at `i`, without writing it (it is checked when written).
    fn skip(&self, i: usize) -> Option<usize> {
        match *self.s.get(i)? {
            b'"' => self.string(i),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut j = i;
                loop {
                    match *self.s.get(j)? {
                        b'"' => {
                            j = self.string(j)?;
                            continue;
                        }
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Some(j + 1);
                            }
                        }
                        _ => {}
                    }
                    j += 1;
                }
            }
            _ => {
                let n = self.s[i..]
                    .iter()
                    .position(|b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                    .unwrap_or(self.s.len() - i);
                (n > 0).then_some(i + n)
            }
        }
    }

    fn object(&mut self, i: usize, top: Option<&mut [Option<&'a str>; 3]>) -> Option<usize> {
        let (mut members, end) = self.members(i, b'}', true)?;
        // serde_json's map is a BTreeMap: keys in byte order; a repeated key keeps its last
        // value there, so it leaves the plain subset here.
        members.sort_unstable_by(|a, b| a.0.cmp(b.0));
        if members.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
        self.c.open(b'{', members.len());
        let mut top = top;
        for (k, &(key, at, end)) in members.iter().enumerate() {
            self.c.comma(k);
            self.c.key(key);
            (self.value(at, None)? == end).then_some(())?;
            if let Some(t) = top.as_deref_mut() {
                if let Some(slot) = KEYS.iter().position(|&w| w == key) {
                    t[slot] = Some(self.text(at, end));
                }
            }
        }
        self.c.close(b'}');
        Some(end)
    }

    fn array(&mut self, i: usize) -> Option<usize> {
        let (items, end) = self.members(i, b']', false)?;
        self.c.open(b'[', items.len());
        for (k, &(_, at, end)) in items.iter().enumerate() {
            self.c.comma(k);
            (self.value(at, None)? == end).then_some(())?;
        }
        self.c.close(b']');
        Some(end)
    }

    /// A number: as written when serde_json prints it the same ([`plain_number`]), else
    /// through serde_json's own parse and print.
    fn number(&mut self, i: usize) -> Option<usize> {
        let delimited = |end: usize| {
            matches!(
                self.s.get(end),
                None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            )
        };
        match plain_number(self.s, i) {
            Some((end, f)) if delimited(end) => {
                self.c.number(self.text(i, end), f);
                Some(end)
            }
            _ => {
                let end = self.skip(i)?;
                let n: serde_json::Number = serde_json::from_str(self.text(i, end)).ok()?;
                self.c
                    .number(&n.to_string(), n.as_f64().unwrap_or(f64::NAN));
                Some(end)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What the `Value` path gives: the reference the one-pass reader must equal.
    fn by_value(text: &str) -> Option<(String, u64, [Option<String>; 3])> {
        let v: Value = serde_json::from_str(text).ok()?;
        let top = [
            fields::int_field(&v, "signal_id").map(|x| x.to_string()),
            fields::int_field(&v, "position_id").map(|x| x.to_string()),
            fields::str_field(&v, "symbol"),
        ];
        let (canonical, hash) = crate::payload::identity(&v);
        Some((canonical, hash, top))
    }

    fn by_digest(text: &str) -> Option<(String, u64, [Option<String>; 3])> {
        let d = Digest::of(text)?;
        let top = [
            d.signal_id().map(|x| x.to_string()),
            d.position_id().map(|x| x.to_string()),
            d.symbol(),
        ];
        Some((d.canonical, d.hash, top))
    }

    fn took_fast_path(text: &str) -> bool {
        Fast::digest(text).is_some()
    }

    #[test]
    fn jsonb_payloads_take_the_fast_path_and_equal_the_value_path() {
        for t in [
            r#"{"symbol": "ETHUSDT", "pnl_percent": 3.04, "position_id": 1273, "current_price": 2353.98}"#,
            r#"{"side": "sell", "price": 58033.4, "amount": 0.0, "reduce_only": true, "x": null}"#,
            r#"{"wave": {"signal_ids": [4869990, 4869992], "n": -3}, "signal_id": "4869992"}"#,
            r#"{"a": -0.5, "b": 0.0001, "c": 123.0, "d": [], "e": {}, "é": "ü"}"#,
            r#"[1, 2.5, "x"]"#,
            "17",
        ] {
            assert!(took_fast_path(t), "{t}");
            assert_eq!(by_digest(t), by_value(t), "{t}");
        }
    }

    #[test]
    fn deep_nesting_is_refused_without_exhausting_the_stack() {
        // Within the limit both paths agree; far past it (jsonb accepts thousands of levels)
        // the payload is not JSON to serde_json either, and nothing overflows.
        let nested = |n: usize| format!("{}1{}", "[".repeat(n), "]".repeat(n));
        for n in [1, 63, 64, 65, 127, 128, 129, 100_000] {
            let t = nested(n);
            assert_eq!(by_digest(&t), by_value(&t), "{n}");
        }
        assert!(by_digest(&nested(100)).is_some());
        assert!(by_digest(&nested(100_000)).is_none());
    }

    #[test]
    fn spellings_outside_the_plain_subset_go_through_serde() {
        for t in [
            r#"{"a": 1e-05}"#,
            r#"{"a": 0.00001}"#,
            r#"{"a": 0.000001}"#,
            r#"{"a": 1.50}"#,
            r#"{"a": -0}"#,
            r#"{"a": 12345678901234567890}"#,
            r#"{"a": 1234567890.1234567}"#,
            r#"{"a": "say \"hi\""}"#,
            r#"{"a": 1, "a": 2}"#,
        ] {
            assert_eq!(by_digest(t), by_value(t), "{t}");
            assert!(by_digest(t).is_some(), "{t}");
        }
        for bad in [
            "",
            "{",
            r#"{"a": }"#,
            r#"{"a": 01}"#,
            "[1,]",
            "{} x",
            "tru",
            r#"{"a":1.}"#,
        ] {
            assert_eq!(by_digest(bad), None, "{bad}");
        }
    }

    /// Numbers spelled every way JSON allows, including the ones jsonb and Python write.
    fn number() -> impl Strategy<Value = String> {
        prop_oneof![
            any::<i64>().prop_map(|n| n.to_string()),
            any::<u64>().prop_map(|n| n.to_string()),
            (any::<i32>(), 0u32..9).prop_map(|(n, d)| format!("{n}.{}", "0".repeat(d as usize))),
            (-1e6f64..1e6).prop_map(|f| f.to_string()),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(|f| format!("{f:?}")),
            (0u32..7, 1u32..99999, 0u32..3).prop_map(|(z, d, t)| format!(
                "0.{}{d}{}",
                "0".repeat(z as usize),
                "0".repeat(t as usize)
            )),
            (any::<i16>(), -30i32..30).prop_map(|(m, e)| format!("{m}e{e}")),
            // Long digit strings: decimals a float cannot hold, so the shortest print differs.
            ("[1-9][0-9]{0,21}", 1usize..22).prop_map(|(d, p)| {
                let p = p.min(d.len() - 1).max(1);
                if d.len() < 2 {
                    d
                } else {
                    format!("{}.{}", &d[..p], &d[p..])
                }
            }),
            Just("-0".to_string()),
            Just("-0.0".to_string()),
            Just("0.0".to_string()),
        ]
    }

    fn string() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z_]{0,8}",
            "[a-zé ü\\\\\"\\n\\t]{0,6}",
            Just("signal_id".to_string()),
            Just("position_id".to_string()),
            Just("symbol".to_string()),
        ]
        .prop_map(|s| serde_json::to_string(&s).unwrap_or_default())
    }

    fn json() -> impl Strategy<Value = String> {
        let leaf = prop_oneof![
            number(),
            string(),
            Just("true".to_string()),
            Just("false".to_string()),
            Just("null".to_string()),
        ];
        leaf.prop_recursive(3, 24, 6, |inner| {
            prop_oneof![
                (prop::collection::vec(inner.clone(), 0..6), any::<bool>()).prop_map(
                    |(v, spaced)| format!("[{}]", v.join(if spaced { ", " } else { "," }))
                ),
                (
                    prop::collection::vec((string(), inner), 0..6),
                    any::<bool>()
                )
                    .prop_map(|(v, spaced)| {
                        let sep = if spaced { ", " } else { "," };
                        let colon = if spaced { ": " } else { ":" };
                        let body: Vec<String> = v
                            .into_iter()
                            .map(|(k, x)| format!("{k}{colon}{x}"))
                            .collect();
                        format!("{{{}}}", body.join(sep))
                    }),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn one_pass_equals_the_value_path(t in json(), pad in "[ \\n]{0,2}") {
            let t = format!("{pad}{t}{pad}");
            prop_assert_eq!(by_digest(&t), by_value(&t));
        }

        #[test]
        fn cut_documents_are_not_json_either_way(t in json(), cut in 0usize..40) {
            let cut = t.len().saturating_sub(cut + 1);
            if let Some(t) = t.get(..cut) {
                prop_assert_eq!(by_digest(t), by_value(t));
            }
        }
    }
}
