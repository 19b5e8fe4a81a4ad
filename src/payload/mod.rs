//! The identity of an event payload: what makes a DB row's `event_data` (jsonb text of
//! `json.dumps(data)`) and its log line's dict (Python's `repr(data)`) the same event.
//!
//! Both sides are reduced to one canonical JSON text (keys sorted, no spaces, numbers as
//! serde_json prints them) and a 64-bit hash of it with numbers compared as floats. One tagged
//! walk defines the hash (`canon::Canon`); the one-pass readers of jsonb ([`digest`]) and of
//! dict reprs ([`pyfast`]) write it while they read, and everything they leave to the full
//! parsers (`serde_json`, [`pyrepr`]) goes through [`identity`], the same walk over a parsed
//! value. How numbers are spelled on each side, Python's float repr among them, is in one
//! place (`number`). [`fields`] reads what a payload names (signal, position, symbol).

pub(crate) mod canon;
pub mod digest;
pub mod fields;
pub(crate) mod number;
pub mod pyfast;
pub mod pyrepr;

use serde_json::Value;

pub use digest::Digest;

/// The canonical text and the hash of a parsed payload: `canon::Canon`'s walk over it (the
/// same bytes and the same hash the one-pass readers write).
pub fn identity(v: &Value) -> (String, u64) {
    let mut c = canon::Canon::with_capacity(64);
    c.value(v);
    c.finish()
}

/// Canonical JSON text of a payload: keys sorted (serde_json's default map), no spaces.
/// Two payloads are the same event data exactly when their canonical texts are equal.
pub fn canonical(v: &Value) -> String {
    v.to_string()
}

/// The identity of a payload for twin matching: canonical JSON with every number as f64.
/// The log side is Python's repr of the dict, the DB side PostgreSQL's jsonb text of
/// `json.dumps` of it; jsonb prints `1e-05` as `0.00001` and big floats as integers, so
/// numbers only compare equal once both sides are floats.
pub fn payload_key(text: &str) -> Option<String> {
    fn norm(v: Value) -> Value {
        match v {
            // jsonb has no negative zero: Python's -0.0 comes back as 0.0.
            Value::Number(n) => n
                .as_f64()
                .map(|f| if f == 0.0 { 0.0 } else { f })
                .and_then(serde_json::Number::from_f64)
                .map_or(Value::Number(n), Value::Number),
            Value::Array(a) => Value::Array(a.into_iter().map(norm).collect()),
            Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, norm(v))).collect()),
            other => other,
        }
    }
    serde_json::from_str::<Value>(text)
        .ok()
        .map(|v| norm(v).to_string())
}

/// A 64-bit fingerprint of a payload with the same equality as [`payload_key`] (keys sorted,
/// numbers as floats, no negative zero), computed once at ingest from the parsed value so
/// matching never parses JSON again. FxHash (word at a time) over a tagged walk of the value;
/// it lives for one run (and in exports), never in baselines.
pub fn payload_hash(v: &Value) -> u64 {
    let mut c = canon::Canon::hash_only();
    c.value(v);
    c.finish().1
}

/// [`payload_hash`] of a JSON text, when it parses.
pub fn payload_hash_text(text: &str) -> Option<u64> {
    serde_json::from_str::<Value>(text)
        .ok()
        .map(|v| payload_hash(&v))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_text_sorts_keys_and_drops_spaces() {
        let v = json!({"b": 1, "a": [1, 2], "s": "q\"\u{1}é"});
        // The walk writes serde_json's own text, and hashes what the hash-only walk hashes.
        assert_eq!(identity(&v), (v.to_string(), payload_hash(&v)));
        assert_eq!(
            canonical(&json!({"b": 1, "a": [1, 2]})),
            r#"{"a":[1,2],"b":1}"#
        );
    }

    #[test]
    fn payload_keys_equal_across_python_repr_and_jsonb_number_spellings() {
        // jsonb prints json.dumps' 1e-05 as 0.00001 and 1.3042279608514274e+17 as an integer.
        let log = r#"{"a":1e-05,"b":1.3042279608514274e+17,"c":[1,2.5],"d":"x"}"#;
        let db = r#"{"a": 0.00001, "b": 130422796085142740, "c": [1, 2.5], "d": "x"}"#;
        assert_eq!(payload_key(log), payload_key(db));
        assert_ne!(payload_key(r#"{"a":1}"#), payload_key(r#"{"a":2}"#));
        // Decimal('-0E-8') and -0.0 are stored by jsonb as 0.0.
        assert_eq!(payload_key(r#"{"a":-0.0}"#), payload_key(r#"{"a": 0.0}"#));
        assert_eq!(payload_key("not json"), None);
        let h = |t: &str| payload_hash_text(t).unwrap();
        assert_eq!(h(log), h(db));
        assert_eq!(h(r#"{"a":-0.0}"#), h(r#"{"a": 0.0}"#));
        assert_ne!(h(r#"{"a":1}"#), h(r#"{"a":2}"#));
        assert_ne!(h(r#"{"a":"1"}"#), h(r#"{"a":1}"#));
        assert_ne!(h(r#"{"ab":1}"#), h(r#"{"a":{"b":1}}"#));
    }
}
