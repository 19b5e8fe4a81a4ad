//! What a writer (a process, or the ghost) produces: `log_event` calls ([`Event`], each a
//! DB row and, usually, its log twin) and the typed lines around them ([`Line`]: signal
//! executions, position opens, lock and shutdown lines). Times are µs since the epoch, UTC.

use super::py::Py;
use super::text::Symbol;

/// A log level as Python's logging prints it, in its order (DEBUG < INFO < WARNING < ERROR):
/// a record's level, and the threshold a process's `LOG_LEVEL` sets.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    Debug,
    Info,
    Warning,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
        }
    }

    /// `DEBUG`, `INFO`, `WARNING` (`WARN` too, as `getattr(logging, …)` accepts it),
    /// `ERROR`; any case (a convenience: Python wants upper case).
    pub fn parse(s: &str) -> Option<Level> {
        match s.trim().to_ascii_uppercase().as_str() {
            "DEBUG" => Some(Level::Debug),
            "INFO" => Some(Level::Info),
            "WARNING" | "WARN" => Some(Level::Warning),
            "ERROR" => Some(Level::Error),
            _ => None,
        }
    }
}

impl std::fmt::Display for Level {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A non-event log record a writer emits (chatter is generated separately, while writing).
#[derive(Debug, Clone)]
pub struct Line {
    pub t: i64,
    pub level: Level,
    pub logger: &'static str,
    pub msg: String,
    /// Continuation lines (a traceback, a banner), joined with `\n`.
    pub cont: Option<String>,
    /// Set on the `EventLogger batch write failed` record of a batch (its index).
    pub failed_batch: Option<usize>,
}

/// One `log_event` call.
#[derive(Debug, Clone)]
pub struct Event {
    pub writer: usize,
    /// The true instant `log_event` took `datetime.now(UTC)`; the row's `created_at` is the
    /// DB clock's reading of it (`Scenario::db_reading_us`).
    pub created: i64,
    /// When it entered the queue (later than `created` only for a duplicate's second copy).
    pub enqueued: i64,
    /// The log twin is written this long after `created` (0..=the host's jitter, 3 ms by
    /// default).
    pub lag: i64,
    pub event_type: &'static str,
    pub data: Py,
    pub severity: &'static str,
    pub correlation_id: Option<String>,
    /// The correlation id's epoch (µs), for position_created/position_error: the writer's
    /// host clock reading of the instant `open_position` started.
    pub epoch: Option<i64>,
    pub position_id: Option<i64>,
    pub order_id: Option<String>,
    pub symbol: Option<String>,
    pub exchange: Option<String>,
    pub error_message: Option<String>,
    pub stack_trace: Option<String>,
    /// Its log line is written.
    pub logged: bool,
    /// Part of an injected duplicate: (group, this is the second copy).
    pub dup: Option<(u32, bool)>,
}

impl Event {
    /// The log level of the twin: ERROR/WARNING for those severities, INFO otherwise.
    pub fn level(&self) -> Level {
        match self.severity {
            "ERROR" => Level::Error,
            "WARNING" => Level::Warning,
            _ => Level::Info,
        }
    }
}

/// Ids that come from the database's sequences, shared by every writer.
#[derive(Debug, Clone)]
pub struct Counters {
    pub position: i64,
    pub signal: i64,
    pub order: i64,
}

#[derive(Debug, Clone)]
pub struct Position {
    pub id: i64,
    pub sym: &'static Symbol,
    pub exchange: &'static str,
    pub long: bool,
    pub entry: i64,
    pub price: i64,
    pub qty: String,
    pub qty_f: f64,
    pub stop: i64,
    pub trailing: bool,
    pub best: i64,
    pub opened: i64,
    pub close_at: i64,
}

/// The decimal text of `ticks` with `dec` decimals as `str(Decimal(str(float)))` gives it:
/// trailing zeros dropped, at least one decimal.
pub fn decimal_text(ticks: i64, dec: u32) -> String {
    let scale = 10i64.pow(dec);
    let sign = if ticks < 0 { "-" } else { "" };
    let a = ticks.abs();
    let mut frac = format!("{:0width$}", a % scale, width = dec as usize);
    while frac.len() > 1 && frac.ends_with('0') {
        frac.pop();
    }
    if frac.is_empty() {
        frac.push('0');
    }
    format!("{sign}{}.{frac}", a / scale)
}

/// `round(x, places)` as a float that never prints as `-0.0` (or below 1e-4 unless zero,
/// where jsonb and json.dumps would spell it differently).
pub fn rounded(x: f64, places: i32) -> f64 {
    let s = 10f64.powi(places);
    let r = (x * s).round() / s;
    if r == 0.0 || r.abs() < 1e-4 { 0.0 } else { r }
}
