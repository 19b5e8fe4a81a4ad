//! An event line's dict read once: the canonical JSON, [`super::payload_hash`] and the
//! top-level fields, straight from the Python repr, for what the bot's event lines hold.
//!
//! [`super::pyrepr::parse`] builds a `serde_json::Value` (a `String` per key, a B-tree per
//! dict) that ingest then prints and hashes: a fifth of a day's ingest CPU. Dicts of quoted
//! keys, strings without backslashes or double quotes, ints of at most 18 digits, floats whose
//! repr is what serde_json prints (at most 15 significant digits, no exponent, at most three
//! zeros after `0.`), `Decimal('…')` of a plain literal, `None`, `True`, `False`, lists and
//! nested dicts are read here; anything else returns None and goes through `pyrepr::parse`,
//! which decides what the text is. A property test holds the two equal on generated reprs.

use serde_json::Value;

use crate::payload::canon::Canon;

use crate::payload::fields;
use crate::payload::number::plain_number;

/// The top-level keys ingest reads from an event's dict.
const KEYS: [&str; 3] = ["symbol", "position_id", "signal_id"];
/// Deeper dicts and lists go through `pyrepr::parse` (bounded there too).
const MAX_DEPTH: usize = 32;

/// An event dict read in one pass.
#[derive(Debug, Clone)]
pub struct Payload {
    pub canonical: String,
    pub hash: u64,
    /// The canonical JSON text of each of [`KEYS`]' values, where present.
    top: [Option<(usize, usize)>; 3],
}

impl Payload {
    fn top(&self, k: usize) -> Option<Value> {
        let (a, b) = self.top[k]?;
        serde_json::from_str(self.canonical.get(a..b)?).ok()
    }

    /// `fields::str_field(dict, "symbol")`.
    pub fn symbol(&self) -> Option<String> {
        self.top(0).as_ref().and_then(fields::str_value)
    }

    /// `fields::int_field(dict, "position_id")`.
    pub fn position_id(&self) -> Option<i64> {
        self.top(1).as_ref().and_then(fields::int_value)
    }

    /// `fields::int_field(dict, "signal_id")`.
    pub fn signal_id(&self) -> Option<i64> {
        self.top(2).as_ref().and_then(fields::int_value)
    }
}

/// Reads a dict repr (`{'k': v, …}`, spaces around it allowed); None where it leaves the plain
/// subset.
pub fn digest(text: &str) -> Option<Payload> {
    let mut r = Reader {
        t: text,
        s: text.as_bytes(),
        c: Canon::with_capacity(text.len()),
        depth: 0,
        top: [None; 3],
    };
    let start = r.ws(0);
    if r.s.get(start) != Some(&b'{') {
        return None;
    }
    let end = r.value(start, true)?;
    if r.ws(end) != r.s.len() {
        return None;
    }
    let (canonical, hash) = r.c.finish();
    Some(Payload {
        canonical,
        hash,
        top: r.top,
    })
}

struct Reader<'a> {
    t: &'a str,
    s: &'a [u8],
    c: Canon,
    depth: usize,
    top: [Option<(usize, usize)>; 3],
}

fn delimiter(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b',' | b'}' | b']' | b' '))
}

impl<'a> Reader<'a> {
    fn ws(&self, mut i: usize) -> usize {
        while self.s.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    }

    /// The text between two ASCII bytes (or the end).
    fn text(&self, a: usize, b: usize) -> &'a str {
        self.t.get(a..b).unwrap_or_default()
    }

    /// The end (past the closing quote) of the string at `i`; None on a backslash, a control
    /// character or a double quote inside (which JSON would escape).
    fn string(&self, i: usize) -> Option<usize> {
        let q = *self.s.get(i)?;
        if q != b'\'' && q != b'"' {
            return None;
        }
        let rest = self.s.get(i + 1..)?;
        let k = memchr::memchr(q, rest)?;
        let body = &rest[..k];
        if body.iter().any(|&b| b == b'\\' || b == b'"' || b < 0x20) {
            return None;
        }
        Some(i + 1 + k + 1)
    }

    /// Writes and hashes the value at `i`; returns where it ends.
    fn value(&mut self, i: usize, top_level: bool) -> Option<usize> {
        match *self.s.get(i)? {
            b'{' | b'[' if self.depth >= MAX_DEPTH => None,
            b'{' => {
                self.depth += 1;
                let end = self.dict(i, top_level);
                self.depth -= 1;
                end
            }
            b'[' => {
                self.depth += 1;
                let end = self.list(i);
                self.depth -= 1;
                end
            }
            b'\'' | b'"' => {
                let end = self.string(i)?;
                self.c.string(self.text(i + 1, end - 1));
                Some(end)
            }
            b'N' => self.word(i, "None", "null", b'n'),
            b'T' => self.word(i, "True", "true", b't'),
            b'F' => self.word(i, "False", "false", b'f'),
            b'D' => self.decimal(i),
            _ => self.number(i),
        }
    }

    fn word(&mut self, i: usize, word: &str, json: &str, tag: u8) -> Option<usize> {
        let end = i + word.len();
        (self.s.get(i..end)? == word.as_bytes() && delimiter(self.s.get(end))).then_some(())?;
        self.c.literal(json, tag);
        Some(end)
    }

    /// `Decimal('0.0096648')`: the float the bot's json.dumps writes, spelled by
    /// [`super::pyrepr::plain_repr`].
    fn decimal(&mut self, i: usize) -> Option<usize> {
        let open = i + "Decimal(".len();
        (self.s.get(i..open)? == b"Decimal(").then_some(())?;
        let end = self.string(open)?;
        (self.s.get(end) == Some(&b')') && delimiter(self.s.get(end + 1))).then_some(())?;
        let repr = super::number::plain_repr(self.text(open + 1, end - 1))?;
        let f: f64 = repr.parse().ok()?;
        self.c.number(&repr, f);
        Some(end + 1)
    }

    /// An int or a float repr that serde_json prints the same ([`plain_number`]).
    fn number(&mut self, i: usize) -> Option<usize> {
        let (end, f) = plain_number(self.s, i)?;
        delimiter(self.s.get(end)).then_some(())?;
        self.c.number(self.text(i, end), f);
        Some(end)
    }

    /// Where each member's value starts and ends (and its key), checking only the shape; the
    /// values are read when written, and must end where the shape said.
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
                let end = self.string(j)?;
                key = self.text(j + 1, end - 1);
                j = end;
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

    /// The end of the value at `i` without writing it.
    fn skip(&self, i: usize) -> Option<usize> {
        match *self.s.get(i)? {
            b'\'' | b'"' => self.string(i),
            b'{' | b'[' => {
                let mut depth = 0usize;
                let mut j = i;
                loop {
                    match *self.s.get(j)? {
                        b'\'' | b'"' => {
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
            b'D' => {
                let open = i + "Decimal(".len();
                let end = self.string(open)?;
                (self.s.get(end) == Some(&b')')).then_some(end + 1)
            }
            _ => {
                let n = self.s[i..]
                    .iter()
                    .position(|&b| delimiter(Some(&b)))
                    .unwrap_or(self.s.len() - i);
                (n > 0).then_some(i + n)
            }
        }
    }

    fn dict(&mut self, i: usize, top_level: bool) -> Option<usize> {
        let (mut members, end) = self.members(i, b'}', true)?;
        members.sort_unstable_by(|a, b| a.0.cmp(b.0));
        if members.windows(2).any(|w| w[0].0 == w[1].0) {
            return None;
        }
        self.c.open(b'{', members.len());
        for (k, &(key, at, stop)) in members.iter().enumerate() {
            self.c.comma(k);
            self.c.key(key);
            let from = self.c.len();
            (self.value(at, false)? == stop).then_some(())?;
            if top_level {
                if let Some(slot) = KEYS.iter().position(|&w| w == key) {
                    self.top[slot] = Some((from, self.c.len()));
                }
            }
        }
        self.c.close(b'}');
        Some(end)
    }

    fn list(&mut self, i: usize) -> Option<usize> {
        let (items, end) = self.members(i, b']', false)?;
        self.c.open(b'[', items.len());
        for (k, &(_, at, stop)) in items.iter().enumerate() {
            self.c.comma(k);
            (self.value(at, false)? == stop).then_some(())?;
        }
        self.c.close(b']');
        Some(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payload::pyrepr;

    /// What the `Value` path gives: the reference.
    fn by_value(text: &str) -> Option<(String, u64, [Option<String>; 3])> {
        let v = pyrepr::parse(text).ok().filter(Value::is_object)?;
        let (canonical, hash) = crate::payload::identity(&v);
        Some((
            canonical,
            hash,
            [
                fields::str_field(&v, "symbol"),
                fields::int_field(&v, "position_id").map(|x| x.to_string()),
                fields::int_field(&v, "signal_id").map(|x| x.to_string()),
            ],
        ))
    }

    fn by_digest(text: &str) -> Option<(String, u64, [Option<String>; 3])> {
        let p = digest(text)?;
        let top = [
            p.symbol(),
            p.position_id().map(|x| x.to_string()),
            p.signal_id().map(|x| x.to_string()),
        ];
        Some((p.canonical, p.hash, top))
    }

    #[test]
    fn the_bots_dicts_are_read_in_one_pass_as_the_value_path_reads_them() {
        for t in [
            "{'position_id': 1227, 'symbol': '1000PEPEUSDT', 'activation_price': Decimal('0.0096648'), 'stop_price': Decimal('0.0098534'), 'callback_rate': 1.54}",
            "{'symbol': 'RSRUSDT', 'exchange': 'binance', 'position_id': 1318, 'signal_id': 4869992, 'side': 'long', 'quantity': Decimal('16170.0'), 'entry_price': Decimal('0.006183'), 'stop_loss': 0.00605934, 'leverage': 5, 'atomic': True, 'note': None, 'tags': ['wave', 'auto']}",
            "{'reason': \"user's cancel\", 'nested': {'a': [1, -2, 0.5], 'b': {}}, 'empty': [], 'signal_id': '4869992'}",
            "  {'pid': 1}  ",
            "{}",
        ] {
            assert!(digest(t).is_some(), "{t}");
            assert_eq!(by_digest(t), by_value(t), "{t}");
        }
    }

    #[test]
    fn other_reprs_are_left_to_the_value_path() {
        for t in [
            "{'a': 1e-05}",
            "{'a': 'it\\'s'}",
            "{'a': 'say \"hi\"'}",
            "{'a': (1, 2)}",
            "{'a': {1, 2}}",
            "{1: 'x'}",
            "{1: 2, 31: 4}",
            "{'a': Decimal( '1')}",
            "{'a': Decimal('1E+3')}",
            "{'a': datetime.date(2025, 1, 1)}",
            "{'a': 12345678901234567890}",
            "{'a': 1.50}",
            "{'a': 3.0000000000000001}",
            "{'a': 0.00001}",
            "{'a': 1, 'a': 2}",
            "{'a': b'x'}",
            "{'a': -0}",
            "{'a': 1j}",
            "{'a': 1}x",
            "[1, 2]",
        ] {
            assert!(digest(t).is_none(), "{t}");
        }
    }

    use audit_gen::py::Py;
    use proptest::prelude::*;

    /// Values as the bot's event dicts hold them, mostly inside the plain subset.
    fn plain() -> impl Strategy<Value = Py> {
        prop_oneof![
            2 => Just(Py::None),
            2 => any::<bool>().prop_map(Py::Bool),
            4 => (-10_000_000_000i64..10_000_000_000).prop_map(Py::Int),
            1 => any::<i64>().prop_map(Py::Int),
            4 => (-1e6f64..1e6).prop_map(Py::Float),
            1 => any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Py::Float),
            4 => "-?[0-9]{1,9}(\\.[0-9]{1,9})?".prop_map(Py::Decimal),
            2 => "[0-9]{1,8}".prop_map(Py::Str),
            4 => "[a-zA-Z0-9 _'é😀.-]{0,10}".prop_map(Py::Str),
        ]
    }

    fn key() -> impl Strategy<Value = String> {
        prop_oneof![
            6 => "[a-z_]{0,10}",
            2 => Just("symbol".to_string()),
            2 => Just("position_id".to_string()),
            2 => Just("signal_id".to_string()),
            1 => any::<String>(),
        ]
    }

    fn dict() -> impl Strategy<Value = Py> {
        let value = plain().prop_recursive(3, 24, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Py::List),
                prop::collection::vec((key(), inner), 0..5).prop_map(Py::Dict),
            ]
        });
        let any_value = crate::source::logs::props::py_value().prop_map(|(p, _)| p);
        prop::collection::vec((key(), prop_oneof![12 => value, 1 => any_value]), 0..7)
            .prop_map(Py::Dict)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        /// Wherever the one-pass reader answers, it answers what `pyrepr::parse` gives (and it
        /// answers on most of these: the count is checked below).
        #[test]
        fn one_pass_equals_the_value_path(d in dict()) {
            let text = d.repr();
            if let Some(got) = by_digest(&text) {
                prop_assert_eq!(Some(got), by_value(&text), "{}", text);
            }
        }
    }

    #[test]
    fn most_generated_dicts_take_the_one_pass_reader() {
        use proptest::strategy::ValueTree;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = dict();
        let fast = (0..1000)
            .filter(|_| {
                let d = strategy.new_tree(&mut runner).expect("a dict").current();
                digest(&d.repr()).is_some()
            })
            .count();
        assert!(fast > 250, "only {fast} of 1000 on the fast path");
    }
}
