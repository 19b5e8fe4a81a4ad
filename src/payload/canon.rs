//! A payload's canonical JSON and fingerprint written while it is read: what the one-pass
//! readers of jsonb text ([`super::digest`]) and of Python dict reprs ([`super::pyfast`])
//! share, and what [`super::identity`] gives a parsed value ([`Canon::value`]). The text is
//! `serde_json::Value::to_string` of the payload (keys sorted, no spaces); the hash is a tagged
//! walk over the same value, defined here once: `n`/`t`/`f` for null and booleans, `#` and
//! the float's bits for a number (negative zero as zero: jsonb has none), `s`, length and bytes
//! for a string, the bracket and the member count for a list or an object, each key as its
//! length and bytes.

use std::hash::Hasher;

use rustc_hash::FxHasher;
use serde_json::Value;

/// The canonical text and the fingerprint, written value by value in canonical order.
pub(crate) struct Canon {
    out: String,
    h: FxHasher,
    /// False: the hash alone ([`Canon::hash_only`]); nothing is written to `out`.
    text: bool,
}

impl Canon {
    pub fn with_capacity(n: usize) -> Canon {
        Canon {
            out: String::with_capacity(n),
            h: FxHasher::default(),
            text: true,
        }
    }

    /// A walk that only hashes (the text stays empty).
    pub fn hash_only() -> Canon {
        Canon {
            out: String::new(),
            h: FxHasher::default(),
            text: false,
        }
    }

    /// Bytes written so far (where the next value starts).
    pub fn len(&self) -> usize {
        self.out.len()
    }

    /// A string whose text needs no escape in JSON.
    pub fn string(&mut self, body: &str) {
        self.out.push('"');
        self.out.push_str(body);
        self.out.push('"');
        self.h.write_u8(b's');
        self.h.write_usize(body.len());
        self.h.write(body.as_bytes());
    }

    /// A string whose JSON text (quotes and escapes) is `json` and whose value is `raw`.
    pub fn escaped_string(&mut self, json: &str, raw: &str) {
        if self.text {
            self.out.push_str(json);
        }
        self.h.write_u8(b's');
        self.h.write_usize(raw.len());
        self.h.write(raw.as_bytes());
    }

    /// A number spelled `text`, whose float is `f`.
    pub fn number(&mut self, text: &str, f: f64) {
        self.out.push_str(text);
        self.h.write_u8(b'#');
        // Negative zero hashes as zero (jsonb has none).
        self.h
            .write_u64(if f == 0.0 { 0.0f64 } else { f }.to_bits());
    }

    /// `true`, `false` or `null`, with its tag.
    pub fn literal(&mut self, json: &str, tag: u8) {
        self.out.push_str(json);
        self.h.write_u8(tag);
    }

    /// `{` or `[` of a value with `n` members.
    pub fn open(&mut self, bracket: u8, n: usize) {
        self.out.push(char::from(bracket));
        self.h.write_u8(bracket);
        self.h.write_usize(n);
    }

    pub fn close(&mut self, bracket: u8) {
        self.out.push(char::from(bracket));
    }

    /// The separator before every member but the first.
    pub fn comma(&mut self, k: usize) {
        if k > 0 {
            self.out.push(',');
        }
    }

    /// An object member's key (its value follows).
    pub fn key(&mut self, key: &str) {
        self.out.push('"');
        self.out.push_str(key);
        self.out.push_str("\":");
        self.h.write_usize(key.len());
        self.h.write(key.as_bytes());
    }

    /// A member's key whose JSON text (quotes and escapes) is `json`.
    pub fn escaped_key(&mut self, json: &str, raw: &str) {
        if self.text {
            self.out.push_str(json);
            self.out.push(':');
        }
        self.h.write_usize(raw.len());
        self.h.write(raw.as_bytes());
    }

    /// A parsed value, whole: the walk every reader's output must equal.
    pub fn value(&mut self, v: &Value) {
        match v {
            Value::Null => self.literal("null", b'n'),
            Value::Bool(true) => self.literal("true", b't'),
            Value::Bool(false) => self.literal("false", b'f'),
            Value::Number(n) => {
                let f = n.as_f64().unwrap_or(f64::NAN);
                match self.text {
                    true => self.number(&n.to_string(), f),
                    false => self.number("", f),
                }
            }
            Value::String(s) => match self.text {
                true => self.escaped_string(&json_text(s), s),
                false => self.escaped_string("", s),
            },
            Value::Array(a) => {
                self.open(b'[', a.len());
                for (k, x) in a.iter().enumerate() {
                    self.comma(k);
                    self.value(x);
                }
                self.close(b']');
            }
            Value::Object(o) => {
                self.open(b'{', o.len());
                for (k, (key, x)) in o.iter().enumerate() {
                    self.comma(k);
                    match self.text {
                        true => self.escaped_key(&json_text(key), key),
                        false => self.escaped_key("", key),
                    }
                    self.value(x);
                }
                self.close(b'}');
            }
        }
    }

    pub fn finish(self) -> (String, u64) {
        (self.out, self.h.finish())
    }
}

/// A string as JSON text, quoted and escaped the way serde_json prints it.
fn json_text(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}
