//! `truth.json`: what was really written and what went wrong, from the generator's own
//! knowledge — the answers the checks should give. Everything a check reports by id or by
//! `file:line` is listed by id or `file:line` here; instants are RFC 3339 UTC with µs.
//!
//! Coverage flags say whether a check can judge an item: `covered` (a row written while some
//! log file was being written; the 2 s grace — the default `--grace-ms` — applies only to an
//! edge that is not clean: a file that holds its process's `Lock acquired` is covered from its
//! first record, one that ends cleanly up to its last, a killed or still-running one up to
//! 2 s before its last) and `db_covered` (a log line inside the DB's span, first to last
//! `created_at`, 2 s from its ends).
//!
//! Each file's `clock` is its true clock as `audit` reports it: the offset
//! `naive log time − created_at` of an event at an instant (host reading + zone − DB clock
//! reading, seconds), piecewise linear between steps (NTP steps, offset changes).
//!
//! With the handler copy (`logs/trading_bot.log*`): `streams` (each process's tee file and
//! the handler members holding its records), `handler_files`/`handler_members`, `copy_gaps`
//! (stretches one copy lacks and the other has). With `log-level`: each file's `level` and
//! `filtered_by_level` (rows whose line the level kept out; not `missing_in_log`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::SynthError;
use super::faults::Faults;
use super::model::Level;
use super::scenario::Ending;

/// Why a DB row has no log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RowCause {
    /// Injected: the log line was not written.
    LostLogLine,
    /// The second insert of an injected duplicate.
    DuplicateCopy,
    /// Written by the writer without a log file.
    Ghost,
}

/// Why a log event line has no DB row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineCause {
    /// Injected: its batch's `executemany` failed.
    FailedBatch,
    /// The process was killed with the event still queued.
    UnflushedAtKill,
    /// The database was down for the process's whole life: every flush failed.
    DbDown,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LogRef {
    pub file: String,
    pub line: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RowFault {
    pub id: i64,
    pub event_type: String,
    pub created_utc: String,
    pub cause: RowCause,
    pub covered: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LineFault {
    /// The tee file and its line; a line the tee lost (a copy gap) is named in the handler
    /// member that holds it.
    pub file: String,
    pub line: u32,
    pub event_type: String,
    pub created_utc: String,
    pub cause: LineCause,
    pub db_covered: bool,
    /// The same record in the other copy (a handler member), when there is one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<LogRef>,
}

/// A stretch of a file read with one offset.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OffsetSpan {
    pub offset: String,
    pub from_line: u32,
    pub from_utc: String,
}

/// A stretch of a file's clock between two steps: the offset `naive log time − created_at`
/// of an event at instant t is `offset_start_s + drift_ppm·1e-6·(t − from_utc)`. Instants are
/// the DB clock's readings (the axis `created_at` gives, the only one the product has).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockSegment {
    /// First and last record written in it (the record's first line).
    pub from_line: u32,
    pub to_line: u32,
    /// Those records' instants on the DB's clock (µs).
    pub from_utc: String,
    pub to_utc: String,
    /// The offset at `from_utc` and at `to_utc`, seconds (µs precision), on the DB's clock.
    pub offset_start_s: f64,
    pub offset_end_s: f64,
    /// The offset's slope against true time: host drift − DB drift.
    pub drift_ppm: f64,
}

/// A discontinuity of a file's clock: an NTP step, or the zone offset changing (a whole hour,
/// or whatever the change is).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockStep {
    /// The first record written after it.
    pub line: u32,
    /// The instant it happens, on the DB's clock.
    pub at_utc: String,
    /// The offset just before and just after it, seconds.
    pub before_s: f64,
    pub after_s: f64,
}

/// A file's true clock against `created_at`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FileClock {
    pub segments: Vec<ClockSegment>,
    pub steps: Vec<ClockStep>,
}

impl FileClock {
    /// The offset (seconds) the truth gives at true instant `t_us`: the segment holding it,
    /// else the nearest one's line extended.
    pub fn offset_at(&self, t_us: i64) -> Option<f64> {
        segment_offset(&self.segments, t_us)
    }
}

/// An RFC 3339 instant as µs since the epoch.
pub fn parse_us(s: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|t| t.timestamp_micros())
}

/// The offset of segments at `t_us`: the segment that holds it, else the nearest by time.
pub(crate) fn segment_offset(segs: &[ClockSegment], t_us: i64) -> Option<f64> {
    let mut best: Option<(i64, f64)> = None;
    for s in segs {
        let (Some(a), Some(b)) = (parse_us(&s.from_utc), parse_us(&s.to_utc)) else {
            continue;
        };
        let dist = if t_us < a {
            a - t_us
        } else if t_us > b {
            t_us - b
        } else {
            0
        };
        let v = s.offset_start_s + s.drift_ppm * 1e-6 * (t_us - a) as f64 / 1e6;
        if best.is_none_or(|(d, _)| dist < d) {
            best = Some((dist, v));
        }
    }
    best.map(|b| b.1)
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FileTruth {
    pub name: String,
    pub pid: u32,
    pub ending: Ending,
    /// First and last record (UTC, the ms the lines show).
    pub start_utc: String,
    pub end_utc: String,
    pub offsets: Vec<OffsetSpan>,
    pub lines: u32,
    pub records: u64,
    pub bytes: u64,
    pub event_lines: u64,
    pub invalid_utf8_lines: u64,
    /// DB rows this process inserted.
    pub db_rows: u64,
    /// The file's clock against `created_at` (empty in a version-1 truth).
    #[serde(default)]
    pub clock: FileClock,
    /// The process's `LOG_LEVEL`: the lowest level it writes. `DEBUG` without the
    /// `log-level` fault (the generator's DEBUG chatter gets through).
    #[serde(default = "debug")]
    pub level: Level,
    /// Records the level kept out of the file (and of the handler copy)…
    #[serde(default)]
    pub filtered_records: u64,
    /// …and DB rows whose line it kept out (their ids are in `Truth::filtered_by_level`).
    #[serde(default)]
    pub filtered_rows: u64,
    /// The file holds its process's `✅ Lock acquired` record: covered from its first record.
    #[serde(default = "yes")]
    pub clean_start: bool,
    /// The process stopped cleanly and the file holds a shutdown record (`Received signal
    /// 15`, `Shutdown initiated...`, `Lock released`): covered up to its last record.
    #[serde(default = "yes")]
    pub clean_stop: bool,
}

fn debug() -> Level {
    Level::Debug
}

fn yes() -> bool {
    true
}

/// One process's log, in each copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stream {
    pub pid: u32,
    /// The tee file (`monitoring_logs/…`), then the handler members (`logs/…`) holding its
    /// records, oldest first.
    pub files: Vec<String>,
}

/// A member of the handler copy (`logs/`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandlerMember {
    pub name: String,
    pub gzip: bool,
    pub records: u64,
    pub lines: u32,
    /// Uncompressed.
    pub bytes: u64,
    /// On disk (compressed for a `.gz`).
    pub stored_bytes: u64,
    /// First and last record (UTC, the ms the lines show).
    pub start_utc: String,
    pub end_utc: String,
    /// Whose records it holds (PIDs, and their tee files), in order of their first record
    /// in it.
    pub pids: Vec<u32>,
    pub copy_of: Vec<String>,
}

/// A stretch of one process's records one copy of its log lacks and the other has. Not lost
/// events: the bot wrote them, and its rows are in the DB as usual.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CopyGap {
    pub pid: u32,
    /// The copy that lacks them: the tee file, or the handler member(s) that were being
    /// written meanwhile.
    pub missing_from: Vec<String>,
    /// The copy that has them: the handler member holding the first of them, or the tee
    /// file…
    pub present_in: String,
    /// …and every file holding some of them (a handler member may roll over inside the
    /// stretch).
    pub present_in_all: Vec<String>,
    /// The first and last record missing (UTC, the ms the lines show).
    pub from_utc: String,
    pub to_utc: String,
    pub records: u64,
}

/// Two processes alive at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Overlap {
    /// The earlier-started first.
    pub files: [String; 2],
    pub start_utc: String,
    pub end_utc: String,
}

/// No process alive.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Gap {
    pub after: String,
    pub before: String,
    pub start_utc: String,
    pub end_utc: String,
    pub seconds: f64,
}

/// A pair of correlated rows whose orders disagree.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inversion {
    /// Ordered by (epoch, id), as the check lists them.
    pub ids: [i64; 2],
    /// Their epoch order and created_at order disagree.
    pub epoch_vs_created: bool,
    /// Their id order and created_at order disagree.
    pub id_vs_created: bool,
    /// The true cause: `multiple_writers` (different writers), `overlapping_operations`
    /// (one writer, operations that overlapped), `requeued_duplicate` (one writer, an
    /// injected duplicate inserted after rows created later).
    pub class: String,
    /// Who wrote each row: a log file name, or `ghost`.
    pub writers: [String; 2],
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Counts {
    pub db_rows: u64,
    pub log_files: u64,
    pub log_lines: u64,
    pub log_records: u64,
    pub log_event_lines: u64,
    pub log_bytes: u64,
    pub csv_bytes: u64,
    pub sql_bytes: Option<u64>,
    /// Faults actually injected (fewer than asked when a scenario has too few candidates).
    pub lost_log_lines: u64,
    pub lost_db_batches: u64,
    pub duplicates: u64,
    pub ghost_rows: u64,
    /// Flushes that failed because the database was down (`db-down`).
    #[serde(default)]
    pub db_down_batches: u64,
    /// Rows per event type.
    pub by_type: BTreeMap<String, u64>,
    /// Members of the handler copy kept, and their records and bytes (uncompressed).
    #[serde(default)]
    pub handler_files: u64,
    #[serde(default)]
    pub handler_records: u64,
    #[serde(default)]
    pub handler_bytes: u64,
    /// Members the rotation deleted (beyond the backup count): the handler copy no longer
    /// reaches back to the first records.
    #[serde(default)]
    pub handler_deleted: u64,
    /// Rows whose line the process's level kept out, and records it kept out.
    #[serde(default)]
    pub filtered_by_level: u64,
    #[serde(default)]
    pub filtered_records: u64,
}

/// The format's version: 2 added `files[].clock`, the `db_down` line cause and
/// `counts.db_down_batches`, changed `covered` (no grace at a clean edge) and made the
/// instants of rows (`created_utc`) `created_at` as the DB clock stamped it.
pub const VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Truth {
    pub version: u32,
    pub generator: String,
    pub seed: u64,
    pub start_utc: String,
    pub end_utc: String,
    /// The offset `events.csv` shows created_at in.
    pub display_offset: String,
    pub rate_per_min: f64,
    pub faults: Faults,
    pub counts: Counts,
    pub files: Vec<FileTruth>,
    /// DB rows without a log line.
    pub missing_in_log: Vec<RowFault>,
    /// Log event lines without a DB row.
    pub missing_in_db: Vec<LineFault>,
    /// Ids of each duplicated event (the logged one first).
    pub duplicates: Vec<Vec<i64>>,
    pub overlaps: Vec<Overlap>,
    pub gaps: Vec<Gap>,
    /// Ghost rows `audit lifetimes` should attribute to no process: every ghost row (while
    /// no process was alive, or interleaving with a live one's logged batches).
    pub unattributed: Vec<i64>,
    /// Every ghost row.
    pub ghost_rows: Vec<i64>,
    /// `EventLogger batch write failed` records.
    pub batch_failures: Vec<LogRef>,
    pub inversions: Vec<Inversion>,
    /// Each process's log in each copy (the tee file alone without the handler copy).
    #[serde(default)]
    pub streams: Vec<Stream>,
    /// The handler copy's members, in rotation order (oldest first: `.N` … `.1`, then
    /// `trading_bot.log`), as named on disk (`.gz` included)…
    #[serde(default)]
    pub handler_files: Vec<String>,
    /// …and what each holds.
    #[serde(default)]
    pub handler_members: Vec<HandlerMember>,
    /// Stretches one copy lacks and the other has.
    #[serde(default)]
    pub copy_gaps: Vec<CopyGap>,
    /// DB rows whose log line the writing process's level kept out (sorted ids); not in
    /// `missing_in_log`.
    #[serde(default)]
    pub filtered_by_level: Vec<i64>,
}

impl Truth {
    pub fn load(path: &Path) -> Result<Truth, SynthError> {
        let text = std::fs::read_to_string(path).map_err(|e| SynthError::io(path, e))?;
        serde_json::from_str(&text)
            .map_err(|e| SynthError::invalid(format!("{}: not a truth.json: {e}", path.display())))
    }

    pub fn file(&self, name: &str) -> Option<&FileTruth> {
        self.files.iter().find(|f| f.name == name)
    }
}

/// One correlated DB row, for [`inversions`].
#[derive(Debug, Clone)]
pub struct CorrRow {
    pub id: i64,
    pub epoch: i64,
    pub created: i64,
    pub writer: String,
    /// An injected duplicate (either copy).
    pub duplicate: bool,
}

/// Every pair of correlated rows whose epoch, created_at and id orders disagree, within
/// `max_span_us` of each other (operations take seconds; nothing real is further apart).
pub fn inversions(mut rows: Vec<CorrRow>, max_span_us: i64) -> Vec<Inversion> {
    rows.sort_by_key(|r| (r.epoch, r.id));
    let mut out = Vec::new();
    for (k, a) in rows.iter().enumerate() {
        for b in &rows[k + 1..] {
            if b.epoch - a.epoch > max_span_us {
                break;
            }
            if (a.created - b.created).abs() > max_span_us {
                continue;
            }
            let epoch_vs_created = a.epoch < b.epoch && a.created > b.created;
            let id_vs_created = (a.id < b.id) != (a.created < b.created) && a.created != b.created;
            if !epoch_vs_created && !id_vs_created {
                continue;
            }
            let class = if a.writer != b.writer {
                "multiple_writers"
            } else if epoch_vs_created {
                "overlapping_operations"
            } else if a.duplicate || b.duplicate {
                "requeued_duplicate"
            } else {
                // One writer, FIFO ids: cannot happen; kept visible if it ever does.
                "unexplained"
            };
            out.push(Inversion {
                ids: [a.id, b.id],
                epoch_vs_created,
                id_vs_created,
                class: class.to_string(),
                writers: [a.writer.clone(), b.writer.clone()],
            });
        }
    }
    out
}

/// Periods when no interval of `lives` (name, start, end) covers time, between the first
/// start and the last end: (after, before, start, end).
pub fn gaps(lives: &[(String, i64, i64)]) -> Vec<(String, String, i64, i64)> {
    let mut order: Vec<&(String, i64, i64)> = lives.iter().collect();
    order.sort_by_key(|l| (l.1, l.2));
    let mut out = Vec::new();
    let mut reach: Option<(&str, i64)> = None;
    for (name, start, end) in order {
        if let Some((who, until)) = reach {
            if *start > until {
                out.push((who.to_string(), name.clone(), until, *start));
            }
        }
        match reach {
            Some((_, until)) if until >= *end => {}
            _ => reach = Some((name, *end)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: i64, epoch: i64, created: i64, writer: &str) -> CorrRow {
        CorrRow {
            id,
            epoch,
            created,
            writer: writer.into(),
            duplicate: false,
        }
    }

    #[test]
    fn inversion_pairs_and_their_causes() {
        let rows = vec![
            // One writer, overlapping operations: 1 started first, finished last.
            row(1, 0, 3_000, "a"),
            row(2, 1_000, 2_000, "a"),
            // Two writers: id order disagrees with created_at.
            row(10, 100_000, 101_000, "a"),
            row(9, 100_500, 102_000, "b"),
            // Agreeing orders: nothing.
            row(20, 200_000, 201_000, "a"),
            row(21, 200_500, 202_000, "a"),
        ];
        let inv = inversions(rows, 600_000_000);
        let got: Vec<([i64; 2], &str)> = inv.iter().map(|i| (i.ids, i.class.as_str())).collect();
        assert!(got.contains(&([1, 2], "overlapping_operations")), "{got:?}");
        assert!(got.contains(&([10, 9], "multiple_writers")), "{got:?}");
        assert!(
            !got.iter()
                .any(|(ids, _)| ids.contains(&20) && ids.contains(&21))
        );
    }

    #[test]
    fn gaps_skip_periods_another_process_covers() {
        // b lives inside a; c starts after a ended: one gap, after a (not after b).
        let lives = vec![
            ("a".to_string(), 0, 100),
            ("b".to_string(), 30, 60),
            ("c".to_string(), 150, 200),
        ];
        assert_eq!(gaps(&lives), vec![("a".into(), "c".into(), 100, 150)]);
    }
}
