//! Rows of `monitoring.events`, whether read from PostgreSQL or from a snapshot file, become
//! timeline rows here — one conversion, so both paths give the same timeline.

use serde::Serialize;

use crate::payload::fields;
use crate::rows::{Chunk, ChunkSource, Kind, Row};
use crate::time::{Zoned, psql_text};

/// The columns `audit` reads from `monitoring.events`. `id`, `event_type` and `created_at` are
/// required; the rest may be missing from older tables or partial snapshots.
pub const REQUIRED_COLUMNS: [&str; 3] = ["id", "event_type", "created_at"];
pub const OPTIONAL_COLUMNS: [&str; 5] = [
    "event_data",
    "correlation_id",
    "position_id",
    "symbol",
    "severity",
];
/// Read when present, to show errors in the timeline.
pub const MESSAGE_COLUMN: &str = "error_message";
/// Columns of the real table that `audit` does not need (not reported as unexpected).
pub const UNUSED_COLUMNS: [&str; 3] = ["order_id", "exchange", "stack_trace"];

/// One DB row's fields as read.
#[derive(Debug, Clone, Copy)]
pub struct DbFields<'a> {
    pub id: i64,
    pub event_type: &'a str,
    pub event_data: Option<&'a str>,
    pub correlation_id: Option<&'a str>,
    pub position_id: Option<i64>,
    pub symbol: Option<&'a str>,
    pub severity: Option<&'a str>,
    pub error_message: Option<&'a str>,
    /// µs since the epoch, UTC.
    pub created_at: i64,
}

/// Where the events came from, and how they were read.
#[derive(Debug, Clone, Serialize)]
pub struct EventsInfo {
    /// `postgresql` or `csv` / `parquet` / `jsonl`.
    pub kind: String,
    /// The URL with the password masked, or the file path.
    pub origin: String,
    /// Rows read into the timeline (after pushed-down filters).
    pub rows: usize,
    /// Rows that could not be used, with the reason; never silently dropped.
    pub skipped: Vec<Skipped>,
    /// Columns the source lacks (their values are null).
    pub missing_columns: Vec<String>,
    /// Columns that are not part of monitoring.events (ignored).
    pub extra_columns: Vec<String>,
    /// First and last created_at of the whole source (µs, UTC), when known.
    #[serde(skip)]
    pub span: Option<(i64, i64)>,
    /// A live database: the time it was asked (µs, UTC). It answers for log lines up to then;
    /// a snapshot only up to its newest row.
    #[serde(skip)]
    pub live_until: Option<i64>,
}

/// A row that could not be read, with where and why.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    pub at: String,
    pub reason: String,
}

/// How the DB's `created_at` is stored.
#[derive(Debug, Clone, PartialEq)]
pub enum Storage {
    /// `timestamptz`: absolute instants.
    Absolute,
    /// `timestamp without time zone`: wall-clock readings in this zone.
    Naive(Zoned),
}

/// Events loaded from one source, with their clocks.
#[derive(Debug, Clone)]
pub struct Events {
    pub info: EventsInfo,
    pub storage: Storage,
    /// The zone the user saw these rows in (psql's session zone, or the snapshot's offset).
    pub display: Zoned,
    pub chunk: Chunk,
}

impl Events {
    pub fn empty_chunk() -> Chunk {
        Chunk::new(ChunkSource::Db, None)
    }
}

/// Converts one DB row. `local_text` is the created_at text as the source wrote it (snapshots);
/// without it, created_at is printed as psql would print it in the display zone.
pub fn db_row(f: DbFields<'_>, display: &Zoned, local_text: Option<String>) -> Row {
    let digest = f.event_data.and_then(crate::payload::Digest::of);
    let corr = f.correlation_id.and_then(fields::parse_correlation);
    let signal_id = corr
        .and_then(|(s, _)| s)
        .or_else(|| digest.as_ref().and_then(|d| d.signal_id()));
    let position_id = f
        .position_id
        .or_else(|| digest.as_ref().and_then(|d| d.position_id()));
    let symbol = f
        .symbol
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .or_else(|| digest.as_ref().and_then(|d| d.symbol()));
    let payload_hash = digest.as_ref().map(|d| d.hash);
    let payload = match digest {
        Some(d) => Some(d.canonical),
        None => f.event_data.map(str::to_string),
    };
    // The payload is in its own column; a DB row's message is its error, when it has one.
    let message = f
        .error_message
        .filter(|m| !m.is_empty())
        .map(str::to_string)
        .unwrap_or_default();
    let created = chrono::DateTime::from_timestamp_micros(f.created_at).unwrap_or_default();
    Row {
        ts_utc: f.created_at,
        ts_local: 0,
        local_time: local_text.unwrap_or_else(|| psql_text(created, &display.zone)),
        event_id: Some(f.id),
        kind: Kind::Event,
        event_type: Some(f.event_type.to_string()),
        level: Some(
            f.severity
                .filter(|s| !s.is_empty())
                .unwrap_or("INFO")
                .to_ascii_uppercase(),
        ),
        symbol,
        signal_id,
        position_id,
        correlation_id: f.correlation_id.map(str::to_string),
        corr_epoch: corr.map(|(_, e)| e),
        message,
        payload,
        payload_hash,
        ..Row::default()
    }
}
