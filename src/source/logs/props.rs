//! Property tests of the two round trips the log parsers promise: a record header the bot's
//! `logging` formatter writes reads back field for field, and a Python value printed with
//! `repr` reads back as the JSON value `json.dumps` would give (Decimal → float).
//!
//! Case counts are modest so `cargo test` stays fast; the fuzz targets (fuzz/) cover the
//! inputs no formatter writes.

use audit_gen::py::{Py, decimal_to_float};
use chrono::{NaiveDate, NaiveDateTime};
use proptest::prelude::*;
use serde_json::{Map, Number, Value};

use super::record::parse_header;
use crate::payload::{payload_key, pyrepr};

const LEVELS: [&str; 8] = [
    "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "WARN", "FATAL", "TRACE",
];

fn instant() -> impl Strategy<Value = NaiveDateTime> {
    // Years 1000..=9999: the asctime format has exactly four year digits.
    let day = (1000i32..=9999, 1u32..=12, 1u32..=31)
        .prop_filter_map("a real date", |(y, m, d)| NaiveDate::from_ymd_opt(y, m, d));
    (day, 0u32..24, 0u32..60, 0u32..60, 0u32..1000)
        .prop_map(|(d, h, mi, s, ms)| d.and_hms_milli_opt(h, mi, s, ms).expect("valid time"))
}

fn logger() -> impl Strategy<Value = String> {
    "[A-Za-z_][A-Za-z0-9_.]{0,30}"
        .prop_filter("not a level name", |l| !LEVELS.contains(&l.as_str()))
}

fn level() -> impl Strategy<Value = &'static str> {
    prop::sample::select(&LEVELS[..])
}

/// Any text on one line: ` - ` separators, brackets, emoji, `\r`, controls; no `\n`.
fn message() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just(" - ".to_owned()),
        Just("[x] ".to_owned()),
        Just("✅ ".to_owned()),
        Just("🚀".to_owned()),
        Just("-".to_owned()),
        "[^\n]{0,12}",
    ];
    prop::collection::vec(piece, 0..8).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn header_round_trip_logger_first(
        at in instant(),
        logger in logger(),
        level in level(),
        message in message(),
    ) {
        let ts = at.format("%Y-%m-%d %H:%M:%S,%3f").to_string();
        let line = format!("{ts} - {logger} - {level} - {message}");
        let h = parse_header(&line).expect("a header");
        prop_assert_eq!(h.ts_text, ts.as_str());
        prop_assert_eq!(h.ts_local, at.and_utc().timestamp_micros());
        prop_assert_eq!(h.logger, Some(logger.as_str()));
        prop_assert_eq!(h.level, Some(level));
        prop_assert_eq!(h.message, message.as_str());
    }

    #[test]
    fn header_round_trip_level_first(
        at in instant(),
        logger in "[A-Za-z_][A-Za-z0-9_.]{0,30}",
        level in level(),
        message in message(),
    ) {
        let ts = at.format("%Y-%m-%d %H:%M:%S,%3f").to_string();
        let line = format!("{ts} - {level} - [{logger}] {message}");
        let h = parse_header(&line).expect("a header");
        prop_assert_eq!(h.ts_local, at.and_utc().timestamp_micros());
        prop_assert_eq!(h.logger, Some(logger.as_str()));
        prop_assert_eq!(h.level, Some(level));
        prop_assert_eq!(h.message, message.as_str());
    }
}

/// A Python value with the JSON value `json.loads(json.dumps(value))` gives for it.
pub(crate) fn py_value() -> impl Strategy<Value = (Py, Value)> {
    let float = prop_oneof![
        any::<f64>().prop_filter("finite", |f| f.is_finite()),
        -1e6f64..1e6,
        Just(0.1),
        Just(1e16),
        Just(1e-5),
    ];
    let decimal = "-?[0-9]{1,12}(\\.[0-9]{1,12})?([eE][-+]?[0-9]{1,2})?";
    let leaf = prop_oneof![
        Just((Py::None, Value::Null)),
        any::<bool>().prop_map(|b| (Py::Bool(b), Value::Bool(b))),
        any::<i64>().prop_map(|i| (Py::Int(i), Value::from(i))),
        float.prop_map(|f| (Py::Float(f), Value::from(f))),
        decimal.prop_map(|t| {
            let f = decimal_to_float(&t).expect("a decimal that fits a float");
            (
                Py::Decimal(t),
                Value::Number(Number::from_f64(f).expect("finite")),
            )
        }),
        any::<String>().prop_map(|s| (Py::Str(s.clone()), Value::String(s))),
        "['\"\\\\ a\t\r\n\u{0}\u{7f}\u{85}\u{a0}\u{200b}\u{2028}é😀]{0,12}"
            .prop_map(|s| (Py::Str(s.clone()), Value::String(s))),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(|v| {
                let (py, js): (Vec<_>, Vec<_>) = v.into_iter().unzip();
                (Py::List(py), Value::Array(js))
            }),
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| {
                let (py, js): (Vec<_>, Vec<_>) = v.into_iter().unzip();
                (Py::Tuple(py), Value::Array(js))
            }),
            prop::collection::vec((any::<String>(), inner), 0..6).prop_map(|v| {
                let mut map = Map::new();
                let mut items = Vec::new();
                for (k, (py, js)) in v {
                    // Last duplicate wins, as in a dict display.
                    map.insert(k.clone(), js);
                    items.push((k, py));
                }
                (Py::Dict(items), Value::Object(map))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn python_repr_round_trip((py, want) in py_value()) {
        let text = py.repr();
        let got = pyrepr::parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(got, want, "{}", text);
    }
}

/// The generator's two sides of one event: the repr its log line holds, read back by the
/// audit's parser, is the payload of the jsonb text its database row holds.
#[test]
fn reprs_parse_back_to_the_jsonb_value() {
    let d = Py::dict([
        ("s", Py::str("it's \"both\" \\ 🚀\u{a0}")),
        ("p", Py::Decimal("0.000100".into())),
        ("x", Py::Float(1e-5)),
        ("t", Py::Tuple(vec![Py::Int(1), Py::Float(1e17)])),
        ("n", Py::dict([("k", Py::None), ("b", Py::Bool(false))])),
    ]);
    let parsed = pyrepr::parse(&d.repr()).expect("repr parses");
    assert_eq!(
        payload_key(&parsed.to_string()),
        payload_key(&d.jsonb()),
        "{}",
        d.repr()
    );
}
