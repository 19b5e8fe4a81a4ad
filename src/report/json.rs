//! `--format json`: one object, `{"version":1, "sources":{…}, "clock":{…}, …}`, stable field
//! names; instants as RFC 3339 UTC with microseconds.

use serde_json::{Map, Value, json};

use super::View;
use crate::time::rfc3339_micros;
use crate::timeline::{SCHEMA, Timeline};

/// The `sources` and `clock` sections every JSON output starts with.
pub fn header(t: &Timeline) -> (Value, Value) {
    let sources = serde_json::to_value(&t.sources).unwrap_or(Value::Null);
    let mut clock = Map::new();
    for c in &t.clocks {
        let key = match c.role.as_str() {
            "log" => c.source.clone(),
            "display" => "db".to_string(),
            other => format!("db.{other}"),
        };
        let mut entry = serde_json::to_value(c).unwrap_or(Value::Null);
        if let Some(obj) = entry.as_object_mut() {
            let first = c
                .offsets
                .first()
                .and_then(|o| crate::time::parse_offset_us(o));
            obj.insert("offset_s".into(), json!(first.map(seconds)));
            if let Some(Value::Object(p)) = obj.remove("provenance") {
                obj.extend(p);
            }
        }
        clock.insert(key, entry);
    }
    (sources, Value::Object(clock))
}

/// An offset in µs as JSON seconds: a whole number when it is whole seconds (`14400`), else
/// to the millisecond (`14405.123`).
pub fn seconds(us: i64) -> Value {
    let ms = (us as f64 / 1000.0).round() as i64;
    if ms % 1000 == 0 {
        json!(ms / 1000)
    } else {
        json!(ms as f64 / 1000.0)
    }
}

/// One timeline row as a JSON object with every schema column.
pub fn row(v: &View<'_>, i: usize) -> Value {
    let mut m = Map::new();
    for (name, _, _) in SCHEMA {
        let val = match name {
            "ts_utc" => json!(v.ts_utc.get(i).map(rfc3339_micros)),
            "corr_epoch" => json!(v.corr_epoch.get(i).map(rfc3339_micros)),
            "line" => json!(v.line.get(i)),
            "pid" => json!(v.pid.get(i)),
            "byte_offset" => json!(v.byte_offset.get(i)),
            "event_id" => json!(v.event_id.get(i)),
            "signal_id" => json!(v.signal_id.get(i)),
            "position_id" => json!(v.position_id.get(i)),
            "payload_hash" => json!(v.payload_hash.get(i).map(|h| format!("{h:016x}"))),
            other => json!(v.s(other, i)),
        };
        m.insert(name.to_string(), val);
    }
    Value::Object(m)
}

pub fn timeline(t: &Timeline, v: &View<'_>, filter: Value) -> Value {
    let (sources, clock) = header(t);
    let rows: Vec<Value> = (0..v.len()).map(|i| row(v, i)).collect();
    json!({
        "version": 1,
        "command": "timeline",
        "sources": sources,
        "clock": clock,
        "filter": filter,
        "rows": rows,
    })
}
