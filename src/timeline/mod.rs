//! The merged timeline: one polars DataFrame, one schema, every row on UTC.
//!
//! Data flows one way: sources fill [`Chunk`]s, [`Timeline::build`] places log rows on UTC
//! with their file's clock, applies the [`Filter`], orders by `ts_utc`, and freezes the result
//! into a DataFrame whose columns are listed once, in [`SCHEMA`].

mod select;
mod view;

use polars::prelude::*;
use serde::Serialize;

use crate::time::Provenance;

use crate::clock::SourceClock;

use crate::rows::{Chunk, ChunkSource};
use crate::source::events::{Events, EventsInfo};
use crate::source::logs::{LogFile, LogInfo};
use crate::time::{Zoned, format_offset, rfc3339_micros};
pub use select::{Filter, FilterSpec, names_signal, select, signal_positions};
pub use view::View;

/// The timeline's columns: name, polars type, meaning. The one place they are defined;
/// `docs/timeline.md` documents the same list.
pub const SCHEMA: [(&str, &str, &str); 23] = [
    (
        "ts_utc",
        "datetime[μs, UTC]",
        "the instant on the aligned UTC axis",
    ),
    (
        "local_time",
        "str",
        "the source's own reading: the log's asctime as written; created_at as psql shows it in the display zone",
    ),
    (
        "utc_offset",
        "str",
        "offset of that reading: applied to the log line, or the display zone's for the DB",
    ),
    ("source", "str", "db | log"),
    ("source_ref", "str", "db:<id> or <file>:<line>"),
    ("file", "str?", "log file name"),
    ("line", "u32?", "1-based line of the record's first line"),
    (
        "byte_offset",
        "u64?",
        "byte offset of that line (in the decompressed stream for .gz)",
    ),
    ("event_id", "i64?", "monitoring.events.id"),
    (
        "process",
        "str?",
        "the process a log record belongs to: its log file (and PID when a file holds several)",
    ),
    ("pid", "u32?", "PID from the file's `Lock acquired` line"),
    (
        "kind",
        "str",
        "event | lock_acquired | lock_released | stale_lock | another_instance | signal_received | shutdown_initiated | signal_executing | position_opened | queue_full | flush_started | flush_wrote | batch_write_failed | malformed_event | message",
    ),
    (
        "event_type",
        "str?",
        "DB event_type, or the event type of an EventLogger line",
    ),
    ("level", "str?", "log level, or DB severity"),
    ("logger", "str?", "logger name (module path)"),
    ("symbol", "str?", "trading symbol"),
    (
        "signal_id",
        "i64?",
        "signal id (correlation id, payload or typed line)",
    ),
    (
        "position_id",
        "i64?",
        "position id (column, payload or typed line)",
    ),
    ("correlation_id", "str?", "DB correlation_id"),
    (
        "corr_epoch",
        "datetime[μs, UTC]?",
        "the UTC epoch inside the correlation id (start of open_position)",
    ),
    (
        "message",
        "str",
        "log message with continuation lines; DB error_message (empty when the row has none)",
    ),
    (
        "payload",
        "str?",
        "canonical JSON (sorted keys) of the event data or a typed line's fields",
    ),
    (
        "payload_hash",
        "u64?",
        "fingerprint of an event payload with numbers compared as floats: equal for a DB row and its log twin",
    ),
];

/// One source's clock as applied, for every output's clock section.
#[derive(Debug, Clone, Serialize)]
pub struct ClockEntry {
    /// `db` or a log file name.
    pub source: String,
    /// `display` (how DB times are shown), `storage` (naive created_at), or `log`.
    pub role: String,
    pub zone: String,
    /// The offset(s) in force over the source's rows, e.g. `+04:00`, or for a clock that is off
    /// and drifting each stretch's first and last, `+04:00:05.120`, `+04:00:05.310`.
    pub offsets: Vec<String>,
    pub provenance: Provenance,
    /// A log file's stretches of one continuous offset, on UTC (one unless its clock steps).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<ClockSegment>,
    /// Where a log file's clock steps.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<ClockStep>,
}

/// A stretch of a log file read with one continuous offset: offset(t) = `offset_start_s` +
/// `drift_ppm`·1e-6·(t − `from_utc`), between its first and last record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockSegment {
    pub from_line: u32,
    pub to_line: u32,
    pub from_utc: String,
    pub to_utc: String,
    pub offset_start_s: f64,
    pub offset_end_s: f64,
    pub drift_ppm: f64,
    #[serde(skip)]
    pub from_us: i64,
    #[serde(skip)]
    pub to_us: i64,
}

/// A step of a log file's clock: from `line` on, its offset is `after_s` instead of `before_s`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClockStep {
    pub line: u32,
    pub at_utc: String,
    pub before_s: f64,
    pub after_s: f64,
    /// When the records around it fit the step in places more than a second apart: the
    /// instants it lies between, and the lines of the first and last place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window_utc: Option<[String; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub between_lines: Option<[u32; 2]>,
    #[serde(skip)]
    pub at_us: i64,
}

impl ClockEntry {
    /// How far a log file's host clock is off the DB's at instant `t` (µs): its offset there
    /// less the whole quarter hours of its zone. What the host's own UTC readings (a
    /// correlation id's epoch) must lose to be on the DB's clock. None for other sources.
    pub fn host_skew_us(&self, t: i64) -> Option<i64> {
        let seg = self
            .segments
            .iter()
            .rev()
            .find(|s| s.from_us <= t)
            .or_else(|| self.segments.first())?;
        let off = seg.offset_start_s * 1e6 + seg.drift_ppm * 1e-6 * (t - seg.from_us) as f64;
        let quarter = 900e6;
        Some((off - (off / quarter).round() * quarter).round() as i64)
    }
}

/// Every source that went into a timeline, with its counts.
#[derive(Debug, Clone, Serialize)]
pub struct SourcesInfo {
    pub events: Option<EventsInfo>,
    pub logs: Vec<LogInfo>,
}

/// The merged, ordered, aligned timeline.
#[derive(Debug, Clone)]
pub struct Timeline {
    pub frame: DataFrame,
    pub clocks: Vec<ClockEntry>,
    pub sources: SourcesInfo,
}

/// Places a log chunk's naive readings on UTC with its file's clock ([`SourceClock::utc`], the
/// one place a naive reading becomes an instant).
pub fn align(chunk: &mut Chunk, clock: &SourceClock) {
    for ((u, &l), line) in chunk
        .ts_utc
        .iter_mut()
        .zip(&chunk.ts_local)
        .zip(&chunk.line)
    {
        *u = clock.utc(l, line.unwrap_or(0));
    }
}

/// Seconds with microseconds, as JSON shows an offset.
fn seconds(us: i64) -> f64 {
    us as f64 / 1e6
}

/// A log file's clock as applied: its offsets, its stretches between steps and the steps, read
/// off its records (the first and last record of each stretch).
pub fn log_clock_entry(lf: &LogFile, clock: &SourceClock) -> ClockEntry {
    let c = &lf.chunk;
    let last_line = u32::try_from(lf.info.stats.lines).unwrap_or(u32::MAX);
    let mut segments: Vec<ClockSegment> = Vec::new();
    let mut steps: Vec<ClockStep> = Vec::new();
    let mut offsets: Vec<String> = Vec::new();
    let mut push_offset = |us: i64| {
        let text = crate::time::format_offset_us(us);
        if offsets.last() != Some(&text) {
            offsets.push(text);
        }
    };
    for (k, p) in clock.pieces.iter().enumerate() {
        let from_line = if k == 0 { 1 } else { p.first_line };
        let to_line = clock
            .pieces
            .get(k + 1)
            .map_or(last_line, |n| n.first_line.saturating_sub(1));
        // The piece's first and last record among the rows kept (the file's own first and last
        // record at its ends).
        let mut first: Option<(i64, u32)> = match k {
            0 => lf.first_ts.map(|t| (t, 1)),
            _ => p.first_local.map(|t| (t, p.first_line)),
        };
        let mut last: Option<(i64, u32)> = (k + 1 == clock.pieces.len())
            .then_some(lf.last_ts.map(|t| (t, last_line)))
            .flatten();
        for i in 0..c.len() {
            let line = c.line[i].unwrap_or(0);
            if line < from_line || line > to_line {
                continue;
            }
            let t = c.ts_local[i];
            if first.is_none_or(|(_, l)| line < l) && k > 0 && p.first_local.is_none() {
                first = Some((t, line));
            }
            if last.is_none_or(|(_, l)| line > l) && k + 1 < clock.pieces.len() {
                last = Some((t, line));
            }
        }
        let (Some((t0, _)), Some((t1, _))) = (first, last) else {
            continue;
        };
        let (u0, u1) = (p.utc(t0), p.utc(t1));
        let (o0, o1) = (t0 - u0, t1 - u1);
        if p.zone.is_fixed() {
            push_offset(o0);
            push_offset(o1);
        } else {
            // A named zone: every offset it takes over the piece's records, with the skew.
            for i in 0..c.len() {
                let line = c.line[i].unwrap_or(0);
                if (from_line..=to_line).contains(&line) {
                    push_offset(c.ts_local[i] - p.utc(c.ts_local[i]));
                }
            }
        }
        if !segments.is_empty() {
            // Between the last record on the old clock and the first on the new one: the
            // middle of that gap is as near as the records can place it.
            let at = match p.before_local {
                Some(b) => {
                    let before = clock.pieces[k - 1].utc(b).min(u0);
                    before + (u0 - before) / 2
                }
                None => u0,
            };
            let window = p.window.map(|w| {
                let a = clock.pieces[k - 1].utc(w.from_local);
                let b = p.utc(w.to_local).max(a);
                (
                    [rfc3339_micros(a), rfc3339_micros(b)],
                    [w.from_line, w.to_line],
                )
            });
            steps.push(ClockStep {
                window_utc: window.as_ref().map(|w| w.0.clone()),
                between_lines: window.map(|w| w.1),
                line: from_line,
                at_utc: rfc3339_micros(at),
                before_s: seconds(t0 - clock.pieces[k - 1].utc(t0)),
                after_s: seconds(o0),
                at_us: at,
            });
        }
        segments.push(ClockSegment {
            from_line,
            to_line,
            from_utc: rfc3339_micros(u0),
            to_utc: rfc3339_micros(u1),
            offset_start_s: seconds(o0),
            offset_end_s: seconds(o1),
            drift_ppm: p.drift_ppm,
            from_us: u0,
            to_us: u1,
        });
    }
    let mut seen: Vec<String> = Vec::new();
    offsets.retain(|o| {
        let new = !seen.contains(o);
        seen.push(o.clone());
        new
    });
    ClockEntry {
        source: lf.info.name.clone(),
        role: "log".into(),
        zone: clock.zone().to_string(),
        offsets,
        provenance: clock.provenance.clone(),
        segments,
        steps,
    }
}

impl Timeline {
    /// Filters, orders and freezes. Logs are already aligned; `log_clocks[i]` is the clock
    /// that aligned `logs[i]`.
    pub fn build(
        events: Option<Events>,
        logs: Vec<LogFile>,
        log_clocks: &[SourceClock],
        filter: &Filter,
    ) -> PolarsResult<Timeline> {
        let _t = crate::timing::phase("timeline: build frame");
        let mut clocks = Vec::new();
        if let Some(ev) = &events {
            if let crate::source::events::Storage::Naive(c) = &ev.storage {
                clocks.push(ClockEntry {
                    source: "db".into(),
                    role: "storage".into(),
                    zone: c.zone.to_string(),
                    offsets: Vec::new(),
                    provenance: c.provenance.clone(),
                    segments: Vec::new(),
                    steps: Vec::new(),
                });
            }
        }
        for (lf, clock) in logs.iter().zip(log_clocks) {
            clocks.push(log_clock_entry(lf, clock));
        }
        let display = events.as_ref().map(|e| e.display.clone());
        if let Some(d) = &display {
            // Distinct offsets in the order they first appear, formatted once each.
            let mut seen: Vec<chrono::FixedOffset> = Vec::new();
            if let Some(ev) = &events {
                for &t in &ev.chunk.ts_utc {
                    let at = chrono::DateTime::from_timestamp_micros(t).unwrap_or_default();
                    let o = d.zone.offset_at(at);
                    if !seen.contains(&o) {
                        seen.push(o);
                    }
                }
            }
            let offsets: Vec<String> = seen.into_iter().map(format_offset).collect();
            clocks.insert(
                0,
                ClockEntry {
                    source: "db".into(),
                    role: "display".into(),
                    zone: d.zone.to_string(),
                    offsets,
                    provenance: d.provenance.clone(),
                    segments: Vec::new(),
                    steps: Vec::new(),
                },
            );
        }

        let mut chunks: Vec<&Chunk> = Vec::new();
        if let Some(ev) = &events {
            chunks.push(&ev.chunk);
        }
        chunks.extend(logs.iter().map(|l| &l.chunk));
        let sel = crate::timing::phase("timeline: select");
        let masks = select(&chunks, filter);
        drop(sel);

        // Order: ts_utc, DB before log at the same µs, then id / file order / line.
        let mut order: Vec<(usize, usize)> = chunks
            .iter()
            .zip(&masks)
            .enumerate()
            .flat_map(|(ci, (c, m))| (0..c.len()).filter(move |&i| m[i]).map(move |i| (ci, i)))
            .collect();
        {
            // The keys once, then a parallel unstable sort: the row index ends every key, so
            // no two are equal and the order is the stable sort's.
            use rayon::prelude::*;
            let mut keyed: Vec<(i64, usize, i64, u32, usize)> = order
                .iter()
                .map(|&(ci, i)| {
                    let c = chunks[ci];
                    (
                        c.ts_utc[i],
                        ci,
                        c.event_id[i].unwrap_or(0),
                        c.line[i].unwrap_or(0),
                        i,
                    )
                })
                .collect();
            keyed.par_sort_unstable();
            order = keyed.into_iter().map(|k| (k.1, k.4)).collect();
        }

        drop(chunks);
        let _f = crate::timing::phase("timeline: freeze");
        // Move the rows into the frame (each string is moved once, never cloned).
        let mut events = events;
        let mut logs = logs;
        let mut owned: Vec<Chunk> = Vec::with_capacity(logs.len() + 1);
        if let Some(ev) = events.as_mut() {
            owned.push(std::mem::replace(
                &mut ev.chunk,
                Chunk::new(ChunkSource::Db, None),
            ));
        }
        for l in &mut logs {
            let empty = Chunk::new(ChunkSource::Log, l.chunk.file.clone());
            owned.push(std::mem::replace(&mut l.chunk, empty));
        }
        let multi_pid: Vec<String> = logs
            .iter()
            .filter(|l| l.info.pids.len() > 1)
            .map(|l| l.info.name.clone())
            .collect();
        let frame = freeze(&mut owned, &order, display.as_ref(), &multi_pid)?;
        let sources = SourcesInfo {
            events: events.map(|e| e.info),
            logs: logs.into_iter().map(|l| l.info).collect(),
        };
        Ok(Timeline {
            frame,
            clocks,
            sources,
        })
    }

    pub fn height(&self) -> usize {
        self.frame.height()
    }
}

fn freeze(
    chunks: &mut [Chunk],
    order: &[(usize, usize)],
    display: Option<&Zoned>,
    multi_pid: &[String],
) -> PolarsResult<DataFrame> {
    let n = order.len();
    /// One column of every chunk, moved out: its arrow column is built from it in `order` and
    /// the strings are freed with it, so building columns in parallel never holds more string
    /// data than one at a time did.
    fn move_col<T: Default>(
        chunks: &mut [Chunk],
        f: impl Fn(&mut Chunk) -> &mut Vec<T>,
    ) -> Vec<Vec<T>> {
        chunks.iter_mut().map(|c| std::mem::take(f(c))).collect()
    }
    fn texts(name: &str, cols: Vec<Vec<String>>, order: &[(usize, usize)]) -> Column {
        let v: Vec<&str> = order.iter().map(|&(ci, i)| cols[ci][i].as_str()).collect();
        Column::new(name.into(), v)
    }
    fn opt_texts(name: &str, cols: Vec<Vec<Option<String>>>, order: &[(usize, usize)]) -> Column {
        let v: Vec<Option<&str>> = order
            .iter()
            .map(|&(ci, i)| cols[ci][i].as_deref())
            .collect();
        Column::new(name.into(), v)
    }
    fn copy_col<T: Copy>(
        chunks: &[Chunk],
        order: &[(usize, usize)],
        f: impl Fn(&Chunk) -> &Vec<T>,
    ) -> Vec<T> {
        order.iter().map(|&(ci, i)| f(&chunks[ci])[i]).collect()
    }
    use rayon::prelude::*;
    // The text columns are moved out of the chunks first; then every column, text or derived,
    // is built on its own task (deriving the small ones in turn beforehand was a quarter of a
    // day's frame build).
    let local_time = move_col(chunks, |c| &mut c.local_time);
    let event_type = move_col(chunks, |c| &mut c.event_type);
    let level = move_col(chunks, |c| &mut c.level);
    let logger = move_col(chunks, |c| &mut c.logger);
    let symbol = move_col(chunks, |c| &mut c.symbol);
    let correlation_id = move_col(chunks, |c| &mut c.correlation_id);
    let message = move_col(chunks, |c| &mut c.message);
    let payload = move_col(chunks, |c| &mut c.payload);
    let ro: &[Chunk] = chunks;
    // Offsets: a few distinct ones, formatted once each; every row points at its text.
    let utc_offset = move || {
        let offset_secs: Vec<Option<i32>> = order
            .par_iter()
            .map(|&(ci, i)| {
                let c = &ro[ci];
                match c.source {
                    ChunkSource::Db => display.map(|d| {
                        let t = chrono::DateTime::from_timestamp_micros(c.ts_utc[i])
                            .unwrap_or_default();
                        d.zone.offset_at(t).local_minus_utc()
                    }),
                    ChunkSource::Log => {
                        let secs = (c.ts_local[i] - c.ts_utc[i]) / 1_000_000;
                        i32::try_from(secs).ok()
                    }
                }
            })
            .collect();
        let mut distinct: Vec<i32> = offset_secs.iter().flatten().copied().collect();
        distinct.sort_unstable();
        distinct.dedup();
        let spelled: Vec<String> = distinct
            .iter()
            .map(|&o| {
                chrono::FixedOffset::east_opt(o)
                    .map(format_offset)
                    .unwrap_or_default()
            })
            .collect();
        let offsets: Vec<&str> = offset_secs
            .iter()
            .map(|o| {
                o.and_then(|o| distinct.binary_search(&o).ok())
                    .map_or("", |k| spelled[k].as_str())
            })
            .collect();
        Column::new("utc_offset".into(), offsets)
    };
    let source_ref = move || {
        let refs: Vec<String> = order
            .par_iter()
            .map(|&(ci, i)| {
                let c = &ro[ci];
                match (c.source, &c.file) {
                    (ChunkSource::Db, _) => format!("db:{}", c.event_id[i].unwrap_or_default()),
                    (ChunkSource::Log, Some(f)) => {
                        format!("{f}:{}", c.line[i].unwrap_or_default())
                    }
                    (ChunkSource::Log, None) => format!("log:{}", c.line[i].unwrap_or_default()),
                }
            })
            .collect();
        Column::new("source_ref".into(), refs)
    };
    // Processes: the file name, or for a file spanning restarts "file (PID n)": a few distinct
    // texts, each row pointing at its own.
    let process = move || {
        let mut names: Vec<(usize, Option<u32>, String)> = Vec::new();
        let process_of: Vec<Option<usize>> = order
            .iter()
            .map(|&(ci, i)| {
                let c = &ro[ci];
                let f = c.file.as_ref()?;
                let pid = c.pid[i].filter(|_| multi_pid.iter().any(|m| m == f));
                Some(
                    match names.iter().position(|(n, p, _)| *n == ci && *p == pid) {
                        Some(k) => k,
                        None => {
                            let text = match pid {
                                Some(p) => format!("{f} (PID {p})"),
                                None => f.clone(),
                            };
                            names.push((ci, pid, text));
                            names.len() - 1
                        }
                    },
                )
            })
            .collect();
        let process: Vec<Option<&str>> = process_of
            .iter()
            .map(|k| k.map(|k| names[k].2.as_str()))
            .collect();
        Column::new("process".into(), process)
    };
    // Every column is copied into its arrow buffers on its own task, in schema order.
    type Build<'a> = Box<dyn FnOnce() -> Column + Send + 'a>;
    let builds: Vec<Build<'_>> = vec![
        Box::new(move || {
            Int64Chunked::from_vec("ts_utc".into(), copy_col(ro, order, |c| &c.ts_utc))
                .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                .into_column()
        }),
        Box::new(move || texts("local_time", local_time, order)),
        Box::new(utc_offset),
        Box::new(move || {
            let v: Vec<&str> = order
                .iter()
                .map(|&(ci, _)| ro[ci].source.as_str())
                .collect();
            Column::new("source".into(), v)
        }),
        Box::new(source_ref),
        Box::new(move || {
            let v: Vec<Option<&str>> = order
                .iter()
                .map(|&(ci, _)| ro[ci].file.as_deref())
                .collect();
            Column::new("file".into(), v)
        }),
        Box::new(move || Column::new("line".into(), copy_col(ro, order, |c| &c.line))),
        Box::new(move || {
            Column::new(
                "byte_offset".into(),
                copy_col(ro, order, |c| &c.byte_offset),
            )
        }),
        Box::new(move || Column::new("event_id".into(), copy_col(ro, order, |c| &c.event_id))),
        Box::new(process),
        Box::new(move || Column::new("pid".into(), copy_col(ro, order, |c| &c.pid))),
        Box::new(move || {
            let v: Vec<&str> = order
                .iter()
                .map(|&(ci, i)| ro[ci].kind[i].as_str())
                .collect();
            Column::new("kind".into(), v)
        }),
        Box::new(move || opt_texts("event_type", event_type, order)),
        Box::new(move || opt_texts("level", level, order)),
        Box::new(move || opt_texts("logger", logger, order)),
        Box::new(move || opt_texts("symbol", symbol, order)),
        Box::new(move || Column::new("signal_id".into(), copy_col(ro, order, |c| &c.signal_id))),
        Box::new(move || {
            Column::new(
                "position_id".into(),
                copy_col(ro, order, |c| &c.position_id),
            )
        }),
        Box::new(move || opt_texts("correlation_id", correlation_id, order)),
        Box::new(move || {
            let v = copy_col(ro, order, |c| &c.corr_epoch);
            Int64Chunked::from_iter_options("corr_epoch".into(), v.into_iter())
                .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                .into_column()
        }),
        Box::new(move || texts("message", message, order)),
        Box::new(move || opt_texts("payload", payload, order)),
        Box::new(move || {
            Column::new(
                "payload_hash".into(),
                copy_col(ro, order, |c| &c.payload_hash),
            )
        }),
    ];
    let columns: Vec<Column> = builds.into_par_iter().map(|b| b()).collect();
    debug_assert_eq!(columns.len(), SCHEMA.len());
    DataFrame::new(n, columns)
}

#[cfg(test)]
mod tests {
    use super::SCHEMA;

    #[test]
    fn docs_list_every_column() {
        let doc = include_str!("../../docs/timeline.md");
        for (name, _, _) in SCHEMA {
            assert!(
                doc.contains(&format!("| `{name}` |")),
                "docs/timeline.md lacks column {name}"
            );
        }
    }
}
