//! The vocabulary every layer shares: a [`Chunk`] of rows (columnar, filled by the readers
//! before any clock is applied), one [`Row`] on its way into it, its [`Kind`], and the
//! [`Coverage`] of a log file (the instants a process's records span, on UTC).
//!
//! Readers push straight into a chunk's column vectors (no intermediate row structs), one
//! chunk per log file or DB read; `timeline::Timeline::build` places log rows on UTC and
//! turns the chunks into the one polars frame.

use std::fmt;

/// What a row is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A DB row, or an EventLogger line `event_type: {dict}` (the DB row's log twin).
    Event,
    /// A line that looked like an event line but whose dict did not parse.
    MalformedEvent,
    LockAcquired,
    LockReleased,
    StaleLock,
    AnotherInstance,
    SignalReceived,
    ShutdownInitiated,
    SignalExecuting,
    PositionOpened,
    QueueFull,
    FlushStarted,
    FlushWrote,
    BatchWriteFailed,
    /// Any other log record.
    #[default]
    Message,
}

impl Kind {
    pub const ALL: [Kind; 15] = [
        Kind::Event,
        Kind::MalformedEvent,
        Kind::LockAcquired,
        Kind::LockReleased,
        Kind::StaleLock,
        Kind::AnotherInstance,
        Kind::SignalReceived,
        Kind::ShutdownInitiated,
        Kind::SignalExecuting,
        Kind::PositionOpened,
        Kind::QueueFull,
        Kind::FlushStarted,
        Kind::FlushWrote,
        Kind::BatchWriteFailed,
        Kind::Message,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Event => "event",
            Kind::MalformedEvent => "malformed_event",
            Kind::LockAcquired => "lock_acquired",
            Kind::LockReleased => "lock_released",
            Kind::StaleLock => "stale_lock",
            Kind::AnotherInstance => "another_instance",
            Kind::SignalReceived => "signal_received",
            Kind::ShutdownInitiated => "shutdown_initiated",
            Kind::SignalExecuting => "signal_executing",
            Kind::PositionOpened => "position_opened",
            Kind::QueueFull => "queue_full",
            Kind::FlushStarted => "flush_started",
            Kind::FlushWrote => "flush_wrote",
            Kind::BatchWriteFailed => "batch_write_failed",
            Kind::Message => "message",
        }
    }

    pub fn parse(s: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a chunk's rows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkSource {
    Db,
    Log,
}

impl ChunkSource {
    pub fn as_str(self) -> &'static str {
        match self {
            ChunkSource::Db => "db",
            ChunkSource::Log => "log",
        }
    }
}

/// From how many rows [`Chunk::append_all`] gathers each column on its own task.
pub const GATHER_IN_PARALLEL: usize = 1 << 16;

/// Column vectors of timeline rows. All vectors have the same length.
#[derive(Debug, Clone)]
pub struct Chunk {
    pub source: ChunkSource,
    /// The log file name, for log chunks.
    pub file: Option<String>,
    /// DB rows: the absolute instant (µs since the epoch, UTC). Log rows: 0 until aligned.
    pub ts_utc: Vec<i64>,
    /// Log rows: the naive reading (µs as if it were UTC). DB rows: unused (0).
    pub ts_local: Vec<i64>,
    /// The source's own reading as text: the log's asctime, or created_at as psql shows it.
    pub local_time: Vec<String>,
    pub line: Vec<Option<u32>>,
    pub byte_offset: Vec<Option<u64>>,
    pub event_id: Vec<Option<i64>>,
    pub pid: Vec<Option<u32>>,
    pub kind: Vec<Kind>,
    pub event_type: Vec<Option<String>>,
    pub level: Vec<Option<String>>,
    pub logger: Vec<Option<String>>,
    pub symbol: Vec<Option<String>>,
    pub signal_id: Vec<Option<i64>>,
    pub position_id: Vec<Option<i64>>,
    pub correlation_id: Vec<Option<String>>,
    /// The epoch inside the correlation id, µs since the epoch (UTC).
    pub corr_epoch: Vec<Option<i64>>,
    pub message: Vec<String>,
    /// Canonical JSON (sorted keys) of the event payload.
    pub payload: Vec<Option<String>>,
    /// The payload's 64-bit identity (`payload::payload_hash`: equal for a DB row and its log
    /// twin; events only).
    pub payload_hash: Vec<Option<u64>>,
}

impl Chunk {
    pub fn new(source: ChunkSource, file: Option<String>) -> Chunk {
        Chunk {
            source,
            file,
            ts_utc: Vec::new(),
            ts_local: Vec::new(),
            local_time: Vec::new(),
            line: Vec::new(),
            byte_offset: Vec::new(),
            event_id: Vec::new(),
            pid: Vec::new(),
            kind: Vec::new(),
            event_type: Vec::new(),
            level: Vec::new(),
            logger: Vec::new(),
            symbol: Vec::new(),
            signal_id: Vec::new(),
            position_id: Vec::new(),
            correlation_id: Vec::new(),
            corr_epoch: Vec::new(),
            message: Vec::new(),
            payload: Vec::new(),
            payload_hash: Vec::new(),
        }
    }

    pub fn len(&self) -> usize {
        self.kind.len()
    }

    pub fn is_empty(&self) -> bool {
        self.kind.is_empty()
    }

    /// Room for `n` more rows in every column (one allocation each instead of doublings).
    pub fn reserve(&mut self, n: usize) {
        self.ts_utc.reserve(n);
        self.ts_local.reserve(n);
        self.local_time.reserve(n);
        self.line.reserve(n);
        self.byte_offset.reserve(n);
        self.event_id.reserve(n);
        self.pid.reserve(n);
        self.kind.reserve(n);
        self.event_type.reserve(n);
        self.level.reserve(n);
        self.logger.reserve(n);
        self.symbol.reserve(n);
        self.signal_id.reserve(n);
        self.position_id.reserve(n);
        self.correlation_id.reserve(n);
        self.corr_epoch.reserve(n);
        self.message.reserve(n);
        self.payload.reserve(n);
        self.payload_hash.reserve(n);
    }

    /// Appends one row. Every source goes through this, so the columns cannot drift apart.
    pub fn push(&mut self, r: Row) {
        self.ts_utc.push(r.ts_utc);
        self.ts_local.push(r.ts_local);
        self.local_time.push(r.local_time);
        self.line.push(r.line);
        self.byte_offset.push(r.byte_offset);
        self.event_id.push(r.event_id);
        self.pid.push(r.pid);
        self.kind.push(r.kind);
        self.event_type.push(r.event_type);
        self.level.push(r.level);
        self.logger.push(r.logger);
        self.symbol.push(r.symbol);
        self.signal_id.push(r.signal_id);
        self.position_id.push(r.position_id);
        self.correlation_id.push(r.correlation_id);
        self.corr_epoch.push(r.corr_epoch);
        self.message.push(r.message);
        self.payload.push(r.payload);
        self.payload_hash.push(r.payload_hash);
    }

    /// Moves every row of `other` to the end of this chunk.
    pub fn append(&mut self, other: &mut Chunk) {
        self.ts_utc.append(&mut other.ts_utc);
        self.ts_local.append(&mut other.ts_local);
        self.local_time.append(&mut other.local_time);
        self.line.append(&mut other.line);
        self.byte_offset.append(&mut other.byte_offset);
        self.event_id.append(&mut other.event_id);
        self.pid.append(&mut other.pid);
        self.kind.append(&mut other.kind);
        self.event_type.append(&mut other.event_type);
        self.level.append(&mut other.level);
        self.logger.append(&mut other.logger);
        self.symbol.append(&mut other.symbol);
        self.signal_id.append(&mut other.signal_id);
        self.position_id.append(&mut other.position_id);
        self.correlation_id.append(&mut other.correlation_id);
        self.corr_epoch.append(&mut other.corr_epoch);
        self.message.append(&mut other.message);
        self.payload.append(&mut other.payload);
        self.payload_hash.append(&mut other.payload_hash);
    }

    /// Moves every row of `parts`, in order, to the end of this chunk: each column is
    /// gathered on its own task (the copy and the fresh pages it touches were 7 % of a day's
    /// DB load on one core).
    /// Under [`GATHER_IN_PARALLEL`] rows they are appended on the calling thread: a scope
    /// waits for the pool, which may be busy parsing log files (a one-minute window's DB rows,
    /// read in 1 ms, waited 0.45 s for a day's parse).
    pub fn append_all(&mut self, parts: Vec<Chunk>) {
        fn cat<T>(dst: &mut Vec<T>, srcs: Vec<Vec<T>>, n: usize) {
            dst.reserve(n);
            for mut s in srcs {
                dst.append(&mut s);
            }
        }
        let n: usize = parts.iter().map(Chunk::len).sum();
        let mut parts = parts;
        if n < GATHER_IN_PARALLEL {
            self.reserve(n);
            for p in &mut parts {
                self.append(p);
            }
            return;
        }
        macro_rules! gather {
            ($($col:ident),*) => {{
                $(let $col: Vec<_> = parts.iter_mut().map(|p| std::mem::take(&mut p.$col)).collect();)*
                rayon::scope(|s| {
                    $(
                        let dst = &mut self.$col;
                        s.spawn(move |_| cat(dst, $col, n));
                    )*
                });
            }};
        }
        gather!(
            ts_utc,
            ts_local,
            local_time,
            line,
            byte_offset,
            event_id,
            pid,
            kind,
            event_type,
            level,
            logger,
            symbol,
            signal_id,
            position_id,
            correlation_id,
            corr_epoch,
            message,
            payload,
            payload_hash
        );
    }

    /// The rows of `a` and `b` moved into one chunk, each keeping its order: the `k`-th row
    /// is `b`'s next when `from_b[k]`, else `a`'s next (`from_b` has one entry per row of
    /// both). Column by column, so at most one column is held twice.
    pub fn interleave(a: Chunk, b: Chunk, from_b: &[bool]) -> Chunk {
        fn mix<T>(a: Vec<T>, b: Vec<T>, from_b: &[bool]) -> Vec<T> {
            let mut out = Vec::with_capacity(a.len() + b.len());
            let (mut a, mut b) = (a.into_iter(), b.into_iter());
            for &take_b in from_b {
                let next = if take_b { b.next() } else { a.next() };
                out.extend(next);
            }
            out
        }
        Chunk {
            source: a.source,
            file: a.file,
            ts_utc: mix(a.ts_utc, b.ts_utc, from_b),
            ts_local: mix(a.ts_local, b.ts_local, from_b),
            local_time: mix(a.local_time, b.local_time, from_b),
            line: mix(a.line, b.line, from_b),
            byte_offset: mix(a.byte_offset, b.byte_offset, from_b),
            event_id: mix(a.event_id, b.event_id, from_b),
            pid: mix(a.pid, b.pid, from_b),
            kind: mix(a.kind, b.kind, from_b),
            event_type: mix(a.event_type, b.event_type, from_b),
            level: mix(a.level, b.level, from_b),
            logger: mix(a.logger, b.logger, from_b),
            symbol: mix(a.symbol, b.symbol, from_b),
            signal_id: mix(a.signal_id, b.signal_id, from_b),
            position_id: mix(a.position_id, b.position_id, from_b),
            correlation_id: mix(a.correlation_id, b.correlation_id, from_b),
            corr_epoch: mix(a.corr_epoch, b.corr_epoch, from_b),
            message: mix(a.message, b.message, from_b),
            payload: mix(a.payload, b.payload, from_b),
            payload_hash: mix(a.payload_hash, b.payload_hash, from_b),
        }
    }

    /// A copy of the rows whose mask entry is true.
    pub fn select(&self, keep: &[bool]) -> Chunk {
        fn f<T: Clone>(v: &[T], keep: &[bool]) -> Vec<T> {
            v.iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(x, _)| x.clone())
                .collect()
        }
        Chunk {
            source: self.source,
            file: self.file.clone(),
            ts_utc: f(&self.ts_utc, keep),
            ts_local: f(&self.ts_local, keep),
            local_time: f(&self.local_time, keep),
            line: f(&self.line, keep),
            byte_offset: f(&self.byte_offset, keep),
            event_id: f(&self.event_id, keep),
            pid: f(&self.pid, keep),
            kind: f(&self.kind, keep),
            event_type: f(&self.event_type, keep),
            level: f(&self.level, keep),
            logger: f(&self.logger, keep),
            symbol: f(&self.symbol, keep),
            signal_id: f(&self.signal_id, keep),
            position_id: f(&self.position_id, keep),
            correlation_id: f(&self.correlation_id, keep),
            corr_epoch: f(&self.corr_epoch, keep),
            message: f(&self.message, keep),
            payload: f(&self.payload, keep),
            payload_hash: f(&self.payload_hash, keep),
        }
    }

    /// Keeps the rows whose mask entry is true.
    pub fn retain(&mut self, keep: &[bool]) {
        fn f<T>(v: &mut Vec<T>, keep: &[bool]) {
            let mut i = 0;
            v.retain(|_| {
                let k = keep[i];
                i += 1;
                k
            });
        }
        f(&mut self.ts_utc, keep);
        f(&mut self.ts_local, keep);
        f(&mut self.local_time, keep);
        f(&mut self.line, keep);
        f(&mut self.byte_offset, keep);
        f(&mut self.event_id, keep);
        f(&mut self.pid, keep);
        f(&mut self.kind, keep);
        f(&mut self.event_type, keep);
        f(&mut self.level, keep);
        f(&mut self.logger, keep);
        f(&mut self.symbol, keep);
        f(&mut self.signal_id, keep);
        f(&mut self.position_id, keep);
        f(&mut self.correlation_id, keep);
        f(&mut self.corr_epoch, keep);
        f(&mut self.message, keep);
        f(&mut self.payload, keep);
        f(&mut self.payload_hash, keep);
    }
}

/// The instants a log file (a process within it) covers, on UTC: its first and last record,
/// and whether they are a clean start (its `Lock acquired` line) and a clean stop (its shutdown
/// lines): a clean edge needs no grace, the process was alive and logging right up to it.
#[derive(Debug, Clone, PartialEq)]
pub struct Coverage {
    pub file: String,
    pub pid: Option<u32>,
    pub start: i64,
    pub end: i64,
    pub clean_start: bool,
    pub clean_end: bool,
    /// A stretch of a copy of another file's stream (the handler copy of a `bot_*.log`): the
    /// primary file. It vouches for rows after the primaries do, and is not a process of its own.
    pub copy_of: Option<String>,
}

/// One row on its way into a [`Chunk`].
#[derive(Debug, Clone, Default)]
pub struct Row {
    pub ts_utc: i64,
    pub ts_local: i64,
    pub local_time: String,
    pub line: Option<u32>,
    pub byte_offset: Option<u64>,
    pub event_id: Option<i64>,
    pub pid: Option<u32>,
    pub kind: Kind,
    pub event_type: Option<String>,
    pub level: Option<String>,
    pub logger: Option<String>,
    pub symbol: Option<String>,
    pub signal_id: Option<i64>,
    pub position_id: Option<i64>,
    pub correlation_id: Option<String>,
    pub corr_epoch: Option<i64>,
    pub message: String,
    pub payload: Option<String>,
    pub payload_hash: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(ids: std::ops::Range<i64>) -> Chunk {
        let mut c = Chunk::new(ChunkSource::Db, None);
        for id in ids {
            c.push(Row {
                ts_utc: id * 10,
                local_time: format!("t{id}"),
                event_id: Some(id),
                payload: (id % 2 == 0).then(|| format!("{{\"id\":{id}}}")),
                payload_hash: Some(id as u64),
                ..Row::default()
            });
        }
        c
    }

    #[test]
    fn append_all_keeps_the_parts_in_order_in_every_column() {
        // A few rows (appended in turn) and enough for a task per column.
        for (a, b, end) in [(3, 7, 10), (20_000, 50_000, 80_000)] {
            assert_eq!(end >= GATHER_IN_PARALLEL as i64, end > 10);
            check_append_all(a, b, end);
        }
    }

    fn check_append_all(a: i64, b: i64, end: i64) {
        let mut c = part(0..a);
        c.append_all(vec![part(a..b), part(b..b), part(b..end)]);
        let whole = part(0..end);
        assert_eq!(c.len(), end as usize);
        assert_eq!(c.ts_utc, whole.ts_utc);
        assert_eq!(c.local_time, whole.local_time);
        assert_eq!(c.event_id, whole.event_id);
        assert_eq!(c.payload, whole.payload);
        assert_eq!(c.payload_hash, whole.payload_hash);
        assert_eq!(c.message.len(), end as usize);
        assert_eq!(c.kind.len(), end as usize);
    }
}
