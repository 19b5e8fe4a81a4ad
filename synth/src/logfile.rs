//! Writes one `monitoring_logs/bot_*.log`: Python logging's
//! `%(asctime)s - %(name)s - %(levelname)s - %(message)s` with asctime in the host's naive
//! local time (`2025-10-18 15:07:13,510`, msecs truncated), continuation lines for tracebacks
//! and banners, and chatter merged in time order. Byte-oriented and buffered: a day's
//! 850 MiB is mostly this loop.
//!
//! Records are written in true-time order; each shows its host clock's reading of the instant
//! it is written (`Process::host_fn`) in the zone offset of that instant. The sink also notes,
//! for the truth, which records fall in each stretch between two clock steps or offset
//! changes.
//!
//! Every line written is part of a logging record: its first line (the header) or a
//! continuation line of its message (a traceback, the start banner, a status table). The
//! generator writes no bare `print` output. A record is rendered once and then routed: to
//! the tee file unless the process's `LOG_LEVEL` filters it or the tee lost it (a copy gap),
//! and, with the handler copy on, the same bytes to the handler writer (`handler`) unless
//! the level filters it or the handler lost it.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::mpsc::SyncSender;

use super::activity::Activity;
use super::chatter::Chatter;
use super::handler::{HBatch, HRec, NO_GAP, Tag};
use super::model::{Level, Line};
use super::scenario::{HostFn, LostCopy, Process};

/// Days since 1970-01-01 → (year, month, day) (Howard Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM-DD HH:MM:SS` of a naive µs value, cached per second.
struct Stamp {
    sec: i64,
    text: [u8; 19],
}

fn two(out: &mut [u8], v: u32) {
    out[0] = b'0' + (v / 10 % 10) as u8;
    out[1] = b'0' + (v % 10) as u8;
}

impl Stamp {
    fn write(&mut self, local_us: i64, out: &mut Vec<u8>) {
        let sec = local_us.div_euclid(1_000_000);
        if sec != self.sec {
            self.sec = sec;
            let (y, m, d) = civil_from_days(sec.div_euclid(86_400));
            let s = sec.rem_euclid(86_400) as u32;
            let t = &mut self.text;
            let y = y.clamp(0, 9999) as u32;
            two(&mut t[0..2], y / 100);
            two(&mut t[2..4], y % 100);
            t[4] = b'-';
            two(&mut t[5..7], m);
            t[7] = b'-';
            two(&mut t[8..10], d);
            t[10] = b' ';
            two(&mut t[11..13], s / 3600);
            t[13] = b':';
            two(&mut t[14..16], s / 60 % 60);
            t[16] = b':';
            two(&mut t[17..19], s % 60);
        }
        out.extend_from_slice(&self.text);
        let ms = (local_us.rem_euclid(1_000_000) / 1000) as u32;
        out.extend_from_slice(&[
            b',',
            b'0' + (ms / 100) as u8,
            b'0' + (ms / 10 % 10) as u8,
            b'0' + (ms % 10) as u8,
        ]);
    }
}

/// The records of one stretch of a file between two clock discontinuities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegSpan {
    pub first_line: u32,
    /// True instant the record is written, UTC µs.
    pub first_t: i64,
    pub last_line: u32,
    pub last_t: i64,
}

/// The record being rendered: where it starts in the buffer and where it goes.
#[derive(Debug, Clone, Copy)]
struct Cur {
    t: i64,
    start: usize,
    /// Written to the tee file.
    tee: bool,
    /// Written to the handler copy…
    handler: bool,
    /// …or, lost by the handler in a copy gap, only noted to it.
    phantom: bool,
    /// The copy gap it falls in (`NO_GAP`: none).
    gap: u16,
    tag: Tag,
    lines: u32,
}

/// Records sent to the handler writer in batches of about this many bytes.
const BATCH_BYTES: usize = 1 << 16;

/// The open file, its counters and its clock.
pub struct Sink {
    w: BufWriter<File>,
    pub buf: Vec<u8>,
    stamp: Stamp,
    offset_us: i64,
    change: Option<(i64, i64)>,
    clock: HostFn,
    /// Sorted true instants where the clock steps or the offset changes…
    boundaries: Vec<i64>,
    /// …the stretch the last record fell in…
    seg: usize,
    /// …and the records of each stretch (boundaries + 1 of them).
    segs: Vec<Option<SegSpan>>,
    pub line: u32,
    pub records: u64,
    pub bytes: u64,
    pub change_line: Option<u32>,
    pub first: Option<i64>,
    pub last: i64,
    pub invalid_utf8_lines: u64,
    /// Records the level kept out of both copies.
    pub filtered: u64,
    level: Level,
    /// The copy gaps: true µs [start, end) and the copy that lost them.
    gaps: Vec<(i64, i64, LostCopy)>,
    handler: Option<SyncSender<HBatch>>,
    out: HBatch,
    cur: Option<Cur>,
}

impl Sink {
    fn create(path: &Path, pr: &Process, handler: Option<SyncSender<HBatch>>) -> io::Result<Sink> {
        let clock = pr.host_fn();
        let mut boundaries: Vec<i64> = clock.steps.iter().map(|s| s.0).collect();
        boundaries.extend(pr.offset_change.map(|(at, _)| at.timestamp_micros()));
        boundaries.sort_unstable();
        let segs = vec![None; boundaries.len() + 1];
        Ok(Sink {
            w: BufWriter::with_capacity(1 << 20, File::create(path)?),
            buf: Vec::with_capacity(1 << 18),
            stamp: Stamp {
                sec: i64::MIN,
                text: [0; 19],
            },
            offset_us: i64::from(pr.log_offset.local_minus_utc()) * 1_000_000,
            change: pr.offset_change.map(|(at, o)| {
                (
                    at.timestamp_micros(),
                    i64::from(o.local_minus_utc()) * 1_000_000,
                )
            }),
            clock,
            boundaries,
            seg: 0,
            segs,
            line: 0,
            records: 0,
            bytes: 0,
            change_line: None,
            first: None,
            last: 0,
            invalid_utf8_lines: 0,
            filtered: 0,
            level: pr.level,
            gaps: pr
                .copy_gaps
                .iter()
                .map(|g| {
                    (
                        g.start.timestamp_micros(),
                        g.end.timestamp_micros(),
                        g.lost_from,
                    )
                })
                .collect(),
            handler,
            out: HBatch::default(),
            cur: None,
        })
    }

    /// Starts a record at `t` (UTC µs) at `level`: its header up to the message. Returns its
    /// line in the tee file, 0 when it is not written there (filtered by the level, or in a
    /// stretch the tee lost).
    pub fn begin(&mut self, t: i64, level: Level, logger: &str, alt: bool) -> io::Result<u32> {
        self.close();
        if self.buf.len() >= 1 << 18 {
            self.spill()?;
        }
        let enabled = level >= self.level;
        if !enabled {
            self.filtered += 1;
        }
        let (gap, lost) = match self.gaps.iter().position(|g| g.0 <= t && t < g.1) {
            Some(k) => (k as u16, Some(self.gaps[k].2)),
            None => (NO_GAP, None),
        };
        let tee = enabled && lost != Some(LostCopy::Tee);
        let to_handler = enabled && self.handler.is_some();
        self.cur = Some(Cur {
            t,
            start: self.buf.len(),
            tee,
            handler: to_handler && lost != Some(LostCopy::Handler),
            phantom: to_handler && lost == Some(LostCopy::Handler),
            gap,
            tag: Tag::None,
            lines: 1,
        });
        if let Some((at, off)) = self.change {
            if t >= at {
                self.offset_us = off;
                self.change = None;
                self.change_line = Some(self.line + 1);
            }
        }
        while self.seg < self.boundaries.len() && t >= self.boundaries[self.seg] {
            self.seg += 1;
        }
        if tee {
            self.line += 1;
            self.records += 1;
            let ms = t - t.rem_euclid(1000);
            self.first.get_or_insert(ms);
            self.last = ms;
            let line = self.line;
            match &mut self.segs[self.seg] {
                Some(sp) => {
                    sp.last_line = line;
                    sp.last_t = t;
                }
                none => {
                    *none = Some(SegSpan {
                        first_line: line,
                        first_t: t,
                        last_line: line,
                        last_t: t,
                    })
                }
            }
        }
        self.stamp
            .write(self.clock.read(t) + self.offset_us, &mut self.buf);
        if alt {
            // `%(asctime)s - %(levelname)s - [%(name)s] %(message)s`
            self.buf.extend_from_slice(b" - ");
            self.buf.extend_from_slice(level.as_str().as_bytes());
            self.buf.extend_from_slice(b" - [");
            self.buf.extend_from_slice(logger.as_bytes());
            self.buf.extend_from_slice(b"] ");
        } else {
            self.buf.extend_from_slice(b" - ");
            self.buf.extend_from_slice(logger.as_bytes());
            self.buf.extend_from_slice(b" - ");
            self.buf.extend_from_slice(level.as_str().as_bytes());
            self.buf.extend_from_slice(b" - ");
        }
        Ok(if tee { self.line } else { 0 })
    }

    /// Ends the current physical line.
    pub fn end(&mut self) {
        self.buf.push(b'\n');
    }

    /// Continuation lines (text joined with `\n`).
    pub fn cont(&mut self, text: &str) {
        let tee = self.cur.is_some_and(|c| c.tee);
        for l in text.split('\n') {
            if tee {
                self.line += 1;
            }
            if let Some(c) = &mut self.cur {
                c.lines += 1;
            }
            self.buf.extend_from_slice(l.as_bytes());
            self.end();
        }
    }

    /// Names what the current record is, for the handler copy's truth.
    pub fn tag(&mut self, tag: Tag) {
        if let Some(c) = &mut self.cur {
            c.tag = tag;
        }
    }

    /// The current record holds invalid UTF-8 (counted when it is written).
    pub fn invalid_utf8(&mut self) {
        if self.cur.is_some_and(|c| c.tee) {
            self.invalid_utf8_lines += 1;
        }
    }

    /// Bytes of the current record so far, written or not.
    pub fn record_len(&self) -> u64 {
        self.cur.map_or(0, |c| (self.buf.len() - c.start) as u64)
    }

    /// Done with the current record: its bytes go to the handler copy if it takes them, and
    /// leave the buffer if the tee does not.
    fn close(&mut self) {
        let Some(c) = self.cur.take() else {
            return;
        };
        if c.handler || c.phantom {
            if c.handler {
                self.out.data.extend_from_slice(&self.buf[c.start..]);
            }
            self.out.recs.push(HRec {
                t: c.t,
                tag: c.tag,
                gap: c.gap,
                write: c.handler,
                lines: c.lines,
                end: self.out.data.len(),
            });
            if self.out.data.len() >= BATCH_BYTES || self.out.recs.len() >= 4096 {
                self.send();
            }
        }
        if !c.tee {
            self.buf.truncate(c.start);
        }
    }

    fn send(&mut self) {
        let batch = std::mem::take(&mut self.out);
        if batch.recs.is_empty() {
            return;
        }
        if let Some(tx) = &self.handler {
            if tx.send(batch).is_err() {
                // The handler writer stopped (its error is reported by it): the tee goes on.
                self.handler = None;
            }
        }
    }

    fn spill(&mut self) -> io::Result<()> {
        self.bytes += self.buf.len() as u64;
        self.w.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Closes the last record (call before reading the counters).
    fn close_last(&mut self) {
        self.close();
        self.send();
        self.handler = None;
    }

    fn finish(mut self) -> io::Result<()> {
        self.close_last();
        self.spill()?;
        self.w.flush()
    }
}

/// What was written, for the ground truth.
#[derive(Debug, Clone)]
pub struct LogReport {
    pub name: String,
    pub lines: u32,
    pub records: u64,
    pub bytes: u64,
    pub event_lines: u64,
    pub chatter_records: u64,
    pub invalid_utf8_lines: u64,
    /// First and last record, UTC µs truncated to the ms the line shows.
    pub first_us: i64,
    pub last_us: i64,
    /// First line written with the changed offset.
    pub change_line: Option<u32>,
    /// Per event of the writer: the line of its log twin (0: none written).
    pub event_line: Vec<u32>,
    /// (batch index, line) of each `batch write failed` record.
    pub failed_batch_lines: Vec<(usize, u32)>,
    /// The `✅ Lock acquired` record (the file holds its process's start).
    pub lock_line: Option<u32>,
    /// A shutdown record (`Received signal 15`, `Shutdown initiated...`, `Lock released`) is
    /// in the file.
    pub shutdown_written: bool,
    /// Records the process's level kept out of both copies.
    pub filtered_records: u64,
    /// Sorted true instants of the clock's steps and offset change…
    pub boundaries: Vec<i64>,
    /// …and the records of each stretch around them (`boundaries.len() + 1`; None: empty).
    pub segments: Vec<Option<SegSpan>>,
}

enum Item<'a> {
    Event(usize),
    Line(&'a Line),
}

/// The shutdown records of a clean stop.
fn is_shutdown(msg: &str) -> bool {
    msg.starts_with("🛑 Received signal 15")
        || msg.starts_with("Shutdown initiated")
        || msg.starts_with("✅ Lock released")
}

/// Writes the log of process `pr` (activity `a`, its flush lines) with `chatter_bytes` of
/// chatter from `chatter`; with `handler`, sends every record the level lets through to the
/// handler writer as well.
pub fn write(
    path: &Path,
    pr: &Process,
    a: &Activity,
    flush: &[Line],
    mut chatter: Chatter,
    handler: Option<SyncSender<HBatch>>,
) -> io::Result<LogReport> {
    let mut items: Vec<(i64, u32, Item<'_>)> = Vec::with_capacity(a.events.len() + a.lines.len());
    for (i, e) in a.events.iter().enumerate() {
        if e.logged {
            items.push((e.created + e.lag, 1, Item::Event(i)));
        }
    }
    for l in &a.lines {
        items.push((l.t, 0, Item::Line(l)));
    }
    for l in flush {
        items.push((l.t, 2, Item::Line(l)));
    }
    items.sort_by_key(|(t, k, _)| (*t, *k));

    let mut sink = Sink::create(path, pr, handler)?;
    let mut event_line = vec![0u32; a.events.len()];
    let mut failed_batch_lines = Vec::new();
    let mut lock_line = None;
    let mut shutdown_written = false;
    let mut event_lines = 0u64;
    let mut repr = String::with_capacity(512);
    for (t, _, item) in &items {
        while chatter.next_at() <= *t {
            chatter.emit(&mut sink)?;
        }
        match item {
            Item::Event(i) => {
                let e = &a.events[*i];
                let line = sink.begin(*t, e.level(), "core.event_logger", false)?;
                sink.tag(Tag::Event(*i as u32));
                event_line[*i] = line;
                if line != 0 {
                    event_lines += 1;
                }
                repr.clear();
                repr.push_str(e.event_type);
                repr.push_str(": ");
                e.data.write_repr(&mut repr);
                sink.buf.extend_from_slice(repr.as_bytes());
                sink.end();
            }
            Item::Line(l) => {
                let line = sink.begin(*t, l.level, l.logger, false)?;
                if let Some(k) = l.failed_batch {
                    sink.tag(Tag::Failed(k as u32));
                    if line != 0 {
                        failed_batch_lines.push((k, line));
                    }
                }
                if line != 0 {
                    if lock_line.is_none() && l.msg.starts_with("✅ Lock acquired") {
                        lock_line = Some(line);
                    }
                    shutdown_written |= is_shutdown(&l.msg);
                }
                sink.buf.extend_from_slice(l.msg.as_bytes());
                sink.end();
                if let Some(c) = &l.cont {
                    sink.cont(c);
                }
            }
        }
    }
    while chatter.next_at() < i64::MAX {
        chatter.emit(&mut sink)?;
    }
    sink.close_last();
    let report = LogReport {
        name: pr.file_name(),
        lines: sink.line,
        records: sink.records,
        bytes: sink.bytes + sink.buf.len() as u64,
        event_lines,
        chatter_records: chatter.records,
        invalid_utf8_lines: sink.invalid_utf8_lines,
        first_us: sink.first.unwrap_or_default(),
        last_us: sink.last,
        change_line: sink.change_line,
        event_line,
        failed_batch_lines,
        lock_line,
        shutdown_written,
        filtered_records: sink.filtered,
        boundaries: std::mem::take(&mut sink.boundaries),
        segments: std::mem::take(&mut sink.segs),
    };
    sink.finish()?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_and_stamps() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(20_379), (2025, 10, 18));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
        let mut s = Stamp {
            sec: i64::MIN,
            text: [0; 19],
        };
        let mut out = Vec::new();
        // 2025-10-18 11:07:13.510999 UTC shown at +04:00: msecs truncate, never round.
        s.write(1_760_785_633_510_999 + 4 * 3_600_000_000, &mut out);
        assert_eq!(String::from_utf8(out).unwrap(), "2025-10-18 15:07:13,510");
    }
}
