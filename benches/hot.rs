//! Micro-benchmarks of the hot paths: `cargo bench --bench hot`. The whole-day comparison
//! against other tools is `just bench` (benches/bench_day.py).

use std::hint::black_box;

use audit::checks::matching::match_twins;
use audit::clock::SourceClock;
use audit::payload::fields;
use audit::payload::pyrepr;
use audit::payload::{Digest, payload_hash};
use audit::rows::{Chunk, ChunkSource, Kind, Row};
use audit::source::events::Storage;
use audit::source::events::{Events, EventsInfo};
use audit::source::logs::record::{Assembler, Take, parse_header, parse_timestamp};
use audit::source::logs::typed;
use audit::source::logs::{FileStats, LogFile, LogInfo};
use audit::time::Provenance;
use audit::time::Zone;
use audit::timeline::{Filter, Timeline, View};

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
    audit::payload::canonical(&v).len()
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
        let mut a = Assembler::new(Chunk::new(ChunkSource::Log, None), Take::STRUCTURED, 1);
        let mut off = 0u64;
        for l in &lines {
            a.line(l.as_bytes(), off);
            off += l.len() as u64 + 1;
        }
        a.finish().stats.records
    });
}

/// Twin matching over 20 000 DB rows of five event types and their log lines (2-4 ms later,
/// one in 50 missing, one in 40 written twice), the timeline built beforehand.
#[divan::bench]
fn matching(bencher: divan::Bencher) {
    const TYPES: [&str; 5] = [
        "position_updated",
        "order_placed",
        "stop_loss_updated",
        "trailing_stop_updated",
        "order_cancelled",
    ];
    let base = 1_760_785_620_000_000i64;
    let row = |kind: Kind, id: i64, ms: i64| {
        let et = TYPES[(id % 5) as usize];
        let payload = format!("{{\"id\":{},\"price\":{}.5}}", id / 7, id % 13);
        Row {
            ts_utc: base + ms * 1000,
            ts_local: base + ms * 1000,
            event_id: (kind == Kind::Event && ms % 2 == 0).then_some(id),
            kind,
            event_type: Some(et.to_string()),
            payload_hash: audit::payload::payload_hash_text(&payload),
            payload: Some(payload),
            ..Row::default()
        }
    };
    let mut db = Chunk::new(ChunkSource::Db, None);
    let mut log = Chunk::new(ChunkSource::Log, Some("bot.log".into()));
    for id in 0..20_000i64 {
        let ms = id * 40;
        db.push(row(Kind::Event, id, ms));
        if id % 40 == 0 {
            db.push(row(Kind::Event, id, ms));
        }
        if id % 50 != 0 {
            let mut r = row(Kind::Event, id, ms + 2 + id % 3);
            r.event_id = None;
            r.line = Some(id as u32 + 1);
            log.push(r);
        }
    }
    let utc = SourceClock::new(Zone::UTC, Provenance::Given { by: "bench".into() });
    let events = Events {
        info: EventsInfo {
            kind: "bench".into(),
            origin: "bench".into(),
            rows: db.len(),
            skipped: vec![],
            missing_columns: vec![],
            extra_columns: vec![],
            span: None,
            live_until: None,
        },
        storage: Storage::Absolute,
        display: audit::time::Zoned::new(utc.zone(), utc.provenance.clone()),
        chunk: db,
    };
    let file = LogFile {
        info: LogInfo::new(
            "bot.log".into(),
            "bot.log".into(),
            false,
            vec![],
            FileStats::default(),
        ),
        first_ts: log.ts_local.first().copied(),
        last_ts: log.ts_local.last().copied(),
        chunk: log,
        marks: vec![],
        complete: true,
        sampled: false,
    };
    let t = Timeline::build(Some(events), vec![file], &[utc], &Filter::default()).expect("frame");
    let v = View::new(&t).expect("view");
    // Every logged row finds its line: 20 000 less the 400 never logged.
    let paired = match_twins(&v, 100_000, 0).pairs.len();
    assert_eq!(paired, 19_600, "the bench's timeline is not what it claims");
    bencher.bench(|| match_twins(black_box(&v), 100_000, 0).pairs.len());
}
