//! A payload's canonical JSON and fingerprint written while it is read: what the one-pass
//! readers of jsonb text ([`super::digest`]) and of Python dict reprs
//! ([`super::logs::pyfast`]) share. The text is `serde_json::Value::to_string` of the payload
//! (keys sorted, no spaces); the hash is [`super::fields::payload_hash`]'s walk over it.

use std::hash::Hasher;

use rustc_hash::FxHasher;

/// The canonical text and the fingerprint, written value by value in canonical order.
pub(crate) struct Canon {
    out: String,
    h: FxHasher,
}

impl Canon {
    pub fn with_capacity(n: usize) -> Canon {
        Canon {
            out: String::with_capacity(n),
            h: FxHasher::default(),
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

    pub fn finish(self) -> (String, u64) {
        (self.out, self.h.finish())
    }
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
