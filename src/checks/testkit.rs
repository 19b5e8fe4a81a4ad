//! A builder of small timelines for the checks' unit tests: rows at millisecond offsets from
//! 2025-10-18 11:07:00 UTC; log rows are already on UTC.

use crate::time::Provenance;

use crate::clock::SourceClock;

use crate::rows::{Chunk, ChunkSource, Kind, Row};
use crate::source::events::{Events, EventsInfo};
use crate::source::logs::{FileStats, LogFile, LogInfo};
use crate::time::Zone;
use crate::timeline::{Filter, Timeline, View};

pub const BASE_US: i64 = 1_760_785_620_000_000; // 2025-10-18T11:07:00Z

pub fn at(ms: f64) -> i64 {
    BASE_US + (ms * 1000.0).round() as i64
}

#[derive(Default)]
pub struct Tb {
    db: Vec<Row>,
    logs: Vec<(String, Vec<Row>)>,
}

impl Tb {
    pub fn new() -> Tb {
        Tb::default()
    }

    /// A DB event row.
    pub fn db(mut self, id: i64, event_type: &str, payload: &str, ms: f64) -> Tb {
        self.db.push(Row {
            ts_utc: at(ms),
            event_id: Some(id),
            kind: Kind::Event,
            event_type: Some(event_type.into()),
            payload: Some(payload.into()),
            payload_hash: crate::payload::payload_hash_text(payload),
            message: payload.into(),
            ..Row::default()
        });
        self
    }

    /// A DB event row of `severity` (its `level` column).
    pub fn db_at(self, id: i64, event_type: &str, severity: &str, ms: f64) -> Tb {
        let mut t = self.db(id, event_type, &format!(r#"{{"id":{id}}}"#), ms);
        if let Some(r) = t.db.last_mut() {
            r.level = Some(severity.into());
        }
        t
    }

    /// A DB row with a correlation epoch (ms offset too) and a signal.
    pub fn db_corr(mut self, id: i64, event_type: &str, ms: f64, epoch_ms: f64, signal: i64) -> Tb {
        self.db.push(Row {
            ts_utc: at(ms),
            event_id: Some(id),
            kind: Kind::Event,
            event_type: Some(event_type.into()),
            payload: Some(format!("{{\"signal_id\":{signal},\"id\":{id}}}")),
            payload_hash: crate::payload::payload_hash_text(&format!(
                "{{\"signal_id\":{signal},\"id\":{id}}}"
            )),
            signal_id: Some(signal),
            correlation_id: Some(format!(
                "open_position_{signal}_{}",
                at(epoch_ms) as f64 / 1e6
            )),
            corr_epoch: Some(at(epoch_ms)),
            ..Row::default()
        });
        self
    }

    /// A log record of `kind` in `file` at `line`.
    pub fn log(
        mut self,
        file: &str,
        line: u32,
        kind: Kind,
        event_type: Option<&str>,
        payload: Option<&str>,
        ms: f64,
    ) -> Tb {
        let row = Row {
            ts_utc: at(ms),
            ts_local: at(ms),
            line: Some(line),
            byte_offset: Some(u64::from(line) * 100),
            kind,
            event_type: event_type.map(str::to_string),
            payload: payload.map(str::to_string),
            payload_hash: if kind == Kind::Event {
                payload.and_then(crate::payload::payload_hash_text)
            } else {
                None
            },
            message: event_type
                .map_or(String::new(), |e| format!("{e}: {}", payload.unwrap_or(""))),
            ..Row::default()
        };
        match self.logs.iter_mut().find(|(f, _)| f == file) {
            Some((_, rows)) => rows.push(row),
            None => self.logs.push((file.to_string(), vec![row])),
        }
        self
    }

    /// An event log line (the twin shape).
    pub fn log_event(self, file: &str, line: u32, event_type: &str, payload: &str, ms: f64) -> Tb {
        self.log(file, line, Kind::Event, Some(event_type), Some(payload), ms)
    }

    pub fn build(self) -> Timeline {
        let mut db = Chunk::new(ChunkSource::Db, None);
        for r in self.db {
            db.push(r);
        }
        let span = db.ts_utc.iter().fold(None, |a: Option<(i64, i64)>, &t| {
            Some(a.map_or((t, t), |(x, y)| (x.min(t), y.max(t))))
        });
        let utc = SourceClock::new(Zone::UTC, Provenance::Given { by: "test".into() });
        let events = Events {
            info: EventsInfo {
                kind: "test".into(),
                origin: "test".into(),
                rows: db.len(),
                skipped: vec![],
                missing_columns: vec![],
                extra_columns: vec![],
                span,
                live_until: None,
            },
            storage: crate::source::events::Storage::Absolute,
            display: crate::time::Zoned::new(utc.zone(), utc.provenance.clone()),
            chunk: db,
        };
        let logs: Vec<LogFile> = self
            .logs
            .into_iter()
            .map(|(f, rows)| {
                let mut c = Chunk::new(ChunkSource::Log, Some(f.clone()));
                for r in rows {
                    c.push(r);
                }
                LogFile {
                    info: LogInfo::new(f.clone(), f, false, vec![], FileStats::default()),
                    first_ts: c.ts_local.iter().min().copied(),
                    last_ts: c.ts_local.iter().max().copied(),
                    chunk: c,
                    marks: vec![],
                    complete: true,
                    sampled: false,
                }
            })
            .collect();
        let clocks = vec![utc; logs.len()];
        Timeline::build(Some(events), logs, &clocks, &Filter::default()).expect("frame")
    }
}

/// The DB id of a timeline row.
pub fn id_of(v: &View<'_>, row: usize) -> i64 {
    v.event_id.get(row).unwrap_or(-1)
}

/// The log line of a timeline row.
pub fn line_of(v: &View<'_>, row: usize) -> u32 {
    v.line.get(row).unwrap_or(0)
}
