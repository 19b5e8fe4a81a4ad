//! Micro-benchmarks of the hot paths: `cargo bench --bench hot`. The whole-day comparison
//! against other tools is `just bench` (benches/bench_day.py).

use std::hint::black_box;

use audit::source::fields::{self, Digest, payload_hash};
use audit::source::logs::pyrepr;
use audit::source::logs::record::{Assembler, Keep, parse_header, parse_timestamp};
use audit::source::logs::typed;
use audit::timeline::{Chunk, ChunkSource};

fn main() {
    divan::main();
}

const EVENT: &str = "2025-10-18 15:07:13,510 - core.event_logger - INFO - position_created: {'symbol': 'RSRUSDT', 'exchange': 'binance', 'position_id': 1318, 'signal_id': 4869992, 'side': 'long', 'quantity': Decimal('16170.0'), 'entry_price': Decimal('0.006183'), 'stop_loss': 0.00605934, 'leverage': 5, 'atomic': True, 'note': None, 'tags': ['wave', 'auto']}";
const CHATTER: &str = "2025-10-18 15:07:13,511 - websocket.binance_stream - INFO - 📊 Price update RSRUSDT: 0.006183 (bid 0.006182, ask 0.006184)";

#[divan::bench]
fn timestamp() -> Option<(i64, usize)> {
    parse_timestamp(black_box(CHATTER.as_bytes()))
}

#[divan::bench]
fn header() -> usize {
    parse_header(black_box(CHATTER)).map_or(0, |h| h.message.len())
}

#[divan::bench]
fn classify_chatter() -> bool {
    let h = parse_header(CHATTER).expect("header");
    matches!(
        typed::classify(black_box(h.logger.unwrap_or("")), black_box(h.message)),
        typed::Typed::Other
    )
}

#[divan::bench]
fn classify_event() -> bool {
    let h = parse_header(EVENT).expect("header");
    matches!(
        typed::classify(black_box(h.logger.unwrap_or("")), black_box(h.message)),
        typed::Typed::Event { .. }
    )
}

#[divan::bench]
fn python_repr_dict() -> usize {
    let dict = &EVENT[EVENT.find('{').expect("dict")..];
    pyrepr::parse(black_box(dict)).map_or(0, |v| v.as_object().map_or(0, |o| o.len()))
}

#[divan::bench]
fn fingerprint() -> u64 {
    let dict = &EVENT[EVENT.find('{').expect("dict")..];
    let v = pyrepr::parse(dict).expect("dict");
    payload_hash(black_box(&v))
}

/// A DB row's `event_data` as jsonb prints it.
const JSONB: &str = r#"{"side": "sell", "type": "limit", "price": 58033.4, "amount": 0.0, "symbol": "BTCUSDT", "exchange": "binance", "order_id": "8393891104", "position_id": 1273, "reduce_only": true}"#;

/// A DB payload the way ingest reads it: canonical text, fingerprint, top-level fields.
#[divan::bench]
fn db_payload_digest() -> usize {
    let d = Digest::of(black_box(JSONB)).expect("json");
    d.canonical.len() + d.position_id().map_or(0, |p| p as usize) + (d.hash as usize & 1)
}

/// The same through `serde_json::Value` (the path `Digest` leaves for unusual payloads).
#[divan::bench]
fn db_payload_value() -> usize {
    let v: serde_json::Value = serde_json::from_str(black_box(JSONB)).expect("json");
    fields::canonical(&v).len()
        + fields::int_field(&v, "position_id").map_or(0, |p| p as usize)
        + (payload_hash(&v) as usize & 1)
}

/// Record splitting: 10 000 lines (1 in 20 an event, some continuation lines), structured keep.
#[divan::bench]
fn split_records(bencher: divan::Bencher) {
    let mut lines: Vec<String> = Vec::new();
    for i in 0..10_000 {
        lines.push(if i % 20 == 0 {
            EVENT.to_string()
        } else {
            CHATTER.to_string()
        });
        if i % 97 == 0 {
            lines.push("Traceback (most recent call last):".to_string());
        }
    }
    bencher.bench(|| {
        let mut a = Assembler::new(Chunk::new(ChunkSource::Log, None), Keep::Structured, 1);
        let mut off = 0u64;
        for l in &lines {
            a.line(l.as_bytes(), off);
            off += l.len() as u64 + 1;
        }
        a.finish().stats.records
    });
}
