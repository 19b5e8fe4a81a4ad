//! One log file → records. A record starts at a line that begins with a timestamp; the lines
//! after it that do not (tracebacks, banners, print output) belong to it.
//!
//! Header shapes (REFERENCE.md):
//! - `2025-10-18 15:07:13,510 - core.event_logger - INFO - message`
//! - `2025-10-18 15:07:13,510 - INFO - [core.event_logger] message`
//! - any other line that starts with a timestamp: a record without logger/level.

use std::borrow::Cow;
use std::io::{self, BufRead};

use serde::Serialize;

use super::typed::{self, Typed};
use crate::rows::{Chunk, Kind, Row};

/// Longest message kept per record (first line + continuation lines); the rest is counted in
/// the message itself (`[... N more bytes]`), never silently cut.
const MAX_MESSAGE: usize = 1 << 20;

const LEVELS: [&str; 8] = [
    "DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", "WARN", "FATAL", "TRACE",
];

/// A parsed first line of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header<'a> {
    /// The naive local time, µs as if it were UTC.
    pub ts_local: i64,
    /// The timestamp exactly as written.
    pub ts_text: &'a str,
    pub logger: Option<&'a str>,
    pub level: Option<&'a str>,
    pub message: &'a str,
}

fn digits(b: &[u8]) -> Option<i64> {
    let mut v = 0i64;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + i64::from(c - b'0');
    }
    Some(v)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

thread_local! {
    /// The last date parsed and its day number: consecutive lines share their date.
    static LAST_DATE: std::cell::Cell<([u8; 10], i64)> = const { std::cell::Cell::new(([0; 10], 0)) };
}

/// `YYYY-MM-DD HH:MM:SS[,mmm|.ffffff]` at the start of `b`: (µs as if UTC, bytes used).
pub fn parse_timestamp(b: &[u8]) -> Option<(i64, usize)> {
    if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !(b[10] == b' ' || b[10] == b'T') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (h, mi, s) = (
        digits(&b[11..13])?,
        digits(&b[14..16])?,
        digits(&b[17..19])?,
    );
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let (cached, cached_days) = LAST_DATE.with(|c| c.get());
    let days = if cached[..] == b[..10] {
        cached_days
    } else {
        let (y, mo, d) = (digits(&b[0..4])?, digits(&b[5..7])?, digits(&b[8..10])?);
        if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) {
            return None;
        }
        let days = days_from_civil(y, mo, d);
        let mut key = [0u8; 10];
        key.copy_from_slice(&b[..10]);
        LAST_DATE.with(|c| c.set((key, days)));
        days
    };
    let mut used = 19;
    let mut micros = 0i64;
    if b.len() > 20 && (b[19] == b',' || b[19] == b'.') && b[20].is_ascii_digit() {
        let mut n = 0;
        let mut scale = 100_000;
        while 20 + n < b.len() && b[20 + n].is_ascii_digit() && n < 9 {
            if n < 6 {
                micros += i64::from(b[20 + n] - b'0') * scale;
                scale /= 10;
            }
            n += 1;
        }
        used = 20 + n;
    }
    let secs = days * 86_400 + h * 3600 + mi * 60 + s;
    Some((secs * 1_000_000 + micros, used))
}

/// Splits at the first `" - "` (a byte scan: this runs on every line of a day's logs).
fn split_dash(s: &str) -> Option<(&str, &str)> {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(k) = memchr::memchr(b'-', &b[from..]) {
        let at = from + k;
        if at > 0 && b[at - 1] == b' ' && b.get(at + 1) == Some(&b' ') {
            return Some((&s[..at - 1], &s[at + 2..]));
        }
        from = at + 1;
    }
    None
}

fn is_level(s: &str) -> bool {
    LEVELS.contains(&s)
}

/// Parses a record's first line, or None if the line does not start with a timestamp.
pub fn parse_header<'a>(line: &'a str) -> Option<Header<'a>> {
    let ts = parse_timestamp(line.as_bytes())?;
    Some(parse_header_at(line, ts))
}

/// [`parse_header`] for a line whose timestamp is already parsed.
pub fn parse_header_at(line: &str, (ts_local, used): (i64, usize)) -> Header<'_> {
    parse_rest(line, ts_local, used)
}

fn parse_rest<'a>(line: &'a str, ts_local: i64, used: usize) -> Header<'a> {
    let ts_text = &line[..used];
    let rest = &line[used..];
    let plain = |msg: &'a str| Header {
        ts_local,
        ts_text,
        logger: None,
        level: None,
        message: msg,
    };
    let Some(after) = rest.strip_prefix(" - ") else {
        return plain(rest.trim_start());
    };
    let (first, tail) = match split_dash(after) {
        Some((a, b)) => (a, Some(b)),
        None => (after.strip_suffix(" -").unwrap_or(after), None),
    };
    if is_level(first) {
        // `ts - LEVEL - [name] message`
        let tail = tail.unwrap_or("");
        if let Some(inner) = tail.strip_prefix('[') {
            if let Some((name, msg)) = inner.split_once(']') {
                return Header {
                    ts_local,
                    ts_text,
                    logger: Some(name),
                    level: Some(first),
                    message: msg.strip_prefix(' ').unwrap_or(msg),
                };
            }
        }
        return Header {
            ts_local,
            ts_text,
            logger: None,
            level: Some(first),
            message: tail,
        };
    }
    // `ts - name - LEVEL - message`
    if let Some(tail) = tail {
        let (lvl, msg) = match split_dash(tail) {
            Some((l, m)) => (l, m),
            None => (tail.strip_suffix(" -").unwrap_or(tail), ""),
        };
        if is_level(lvl) {
            return Header {
                ts_local,
                ts_text,
                logger: Some(first),
                level: Some(lvl),
                message: msg,
            };
        }
    }
    plain(after)
}

/// What one file held, counted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileStats {
    pub bytes: u64,
    pub lines: u64,
    pub records: u64,
    /// Lines that belong to the record above (tracebacks, banners, print output).
    pub continuation_lines: u64,
    /// Lines with bytes that are not UTF-8 (decoded with U+FFFD replacements).
    pub invalid_utf8_lines: u64,
    /// Lines before the first timestamped record: not on the timeline (no time to place them).
    pub orphan_lines: u64,
    /// Event lines whose dict did not parse (kept as `malformed_event` records).
    pub malformed_events: u64,
    /// Records whose time is earlier than the record before them.
    pub backwards_steps: u64,
    /// Messages longer than the per-record cap (the excess is counted in the message).
    pub truncated_records: u64,
    /// Plain messages (records that are neither events nor typed lines), by level: counted
    /// even when they are not kept as rows.
    pub messages: LevelCounts,
    /// Event lines a sampled first pass counted without parsing (outside the window asked
    /// about; the window's own are read back whole).
    #[serde(skip_serializing_if = "is_zero")]
    pub events_not_parsed: u64,
    /// Set when the file was searched rather than parsed (a windowed question over a big
    /// file, [`super::seek`]): the bytes whose records were parsed. `bytes`, `lines`,
    /// `orphan_lines` and `invalid_utf8_lines` still cover the whole file; `records`,
    /// `continuation_lines`, `messages`, `malformed_events` and `truncated_records` only these
    /// bytes; `backwards_steps` what the sparse index saw.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parsed_bytes: Option<u64>,
    /// The search's results came from the index an earlier run kept (the file unchanged).
    #[serde(skip_serializing_if = "is_false")]
    pub from_index: bool,
}

fn is_false(b: &bool) -> bool {
    !b
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Record counts by level, in `LEVELS` order, then records without a level.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LevelCounts(pub [u64; 9]);

impl LevelCounts {
    pub fn add(&mut self, level: Option<&str>) {
        let k = level
            .and_then(|l| LEVELS.iter().position(|x| *x == l))
            .unwrap_or(LEVELS.len());
        self.0[k] += 1;
    }

    pub fn merge(&mut self, other: &LevelCounts) {
        for (a, b) in self.0.iter_mut().zip(other.0) {
            *a += b;
        }
    }

    /// (level, count) for the levels seen; `None` for records without a level.
    pub fn iter(&self) -> impl Iterator<Item = (Option<&'static str>, u64)> + '_ {
        self.0
            .iter()
            .enumerate()
            .filter(|(_, n)| **n > 0)
            .map(|(k, n)| (LEVELS.get(k).copied(), *n))
    }

    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

impl Serialize for LevelCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(None)?;
        for (l, n) in self.iter() {
            m.serialize_entry(l.unwrap_or(""), &n)?;
        }
        m.end()
    }
}

struct Pending {
    line: u32,
    offset: u64,
    ts_local: i64,
    ts_text: String,
    logger: Option<String>,
    level: Option<String>,
    first: String,
    typed: Typed,
    /// Continuation lines, joined with '\n'.
    rest: String,
    dropped_bytes: usize,
}

/// A point of a file's sparse time index: a record start, its naive time and line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    pub ts_local: i64,
    pub offset: u64,
    pub line: u32,
}

/// Records between two marks of the sparse index.
pub const MARK_EVERY: u64 = 1024;

/// What one read of a log file keeps as rows — a file's first pass, or a byte range read back
/// ([`super::LogFile::read_back`]); everything else is counted, never dropped silently. Every
/// read of a log takes one; `load::plan` decides them.
///
/// A first pass keeps events and typed lines (every check needs them) and plain messages only
/// when asked: on a day of logs those are 95 % of the records and most of the bytes, and most
/// questions never print them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Take<'a> {
    /// Plain messages.
    pub messages: bool,
    /// Only every n-th event line is parsed and kept (0 and 1: all), the rest counted; a
    /// process's lifecycle lines always. A big file's first pass, for clock detection: a
    /// question's events are read back afterwards, whole.
    pub every: u32,
    /// Reading back: plain messages only when their naive time is in one of these …
    pub messages_within: Option<&'a [(i64, i64)]>,
    /// … and mention this number (what a signal selects them by).
    pub messages_mentioning: Option<i64>,
    /// Reading back a sampled file: the event lines whose naive time is in one of these that
    /// its first pass did not keep.
    pub events_within: Option<&'a [(i64, i64)]>,
}

impl Take<'_> {
    /// Events and typed lines; plain messages are counted.
    pub const STRUCTURED: Take<'static> = Take {
        messages: false,
        every: 1,
        messages_within: None,
        messages_mentioning: None,
        events_within: None,
    };
    /// Every record.
    pub const EVERYTHING: Take<'static> = Take {
        messages: true,
        ..Take::STRUCTURED
    };

    /// [`Take::STRUCTURED`], with every `n`-th event line.
    pub fn sampled(n: u32) -> Take<'static> {
        Take {
            every: n,
            ..Take::STRUCTURED
        }
    }

    /// Only some event lines are kept.
    pub fn is_sampled(&self) -> bool {
        self.every > 1
    }

    /// What a first pass keeps of this (the read-back filters apply after parsing).
    fn pass(&self) -> (bool, u32) {
        (self.messages, self.every.max(1))
    }
}

/// Turns lines into records: a record starts at a timestamped line; the lines after it
/// belong to it. Fed line by line (without the newline), with the line's byte offset.
pub struct Assembler {
    /// Plain messages are kept.
    messages: bool,
    /// Every n-th event line is kept.
    every: u32,
    pub chunk: Chunk,
    pub stats: FileStats,
    pending: Option<Pending>,
    /// The record being skipped (not kept) is still open: its continuation lines are counted.
    skipping: bool,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    pub marks: Vec<Mark>,
    line_no: u32,
    /// Event lines seen (for sampling).
    events_seen: u64,
    /// The start of the record being read: marked when a lock line follows it, and at the end
    /// (a process's last record ends its stretch of the file, whatever the first pass kept).
    current: Option<Mark>,
}

impl Assembler {
    /// `first_line` is the 1-based number the next line gets.
    pub fn new(chunk: Chunk, take: Take<'_>, first_line: u32) -> Assembler {
        let (messages, every) = take.pass();
        Assembler {
            messages,
            every,
            chunk,
            stats: FileStats::default(),
            pending: None,
            skipping: false,
            first_ts: None,
            last_ts: None,
            marks: Vec::new(),
            line_no: first_line.saturating_sub(1),
            events_seen: 0,
            current: None,
        }
    }

    /// True when `bytes` (a line without its newline) starts a record.
    pub fn starts_record(bytes: &[u8]) -> bool {
        parse_timestamp(bytes).is_some()
    }

    pub fn lines_seen(&self) -> u32 {
        self.line_no
    }

    /// Closes the open record and numbers the next line `first_line`: for feeding records
    /// picked out of a file rather than all of it ([`super::seek`]). The stats and marks then
    /// describe only what was fed.
    pub fn resume_at(&mut self, first_line: u32) {
        self.close();
        self.line_no = first_line.saturating_sub(1);
    }

    /// One line, without its newline (a trailing `\r` is removed here).
    pub fn line(&mut self, raw: &[u8], offset: u64) {
        let bytes = raw.strip_suffix(b"\r").unwrap_or(raw);
        let ts = parse_timestamp(bytes);
        self.line_parsed(raw, offset, ts);
    }

    /// One line whose leading timestamp (if any) the caller already parsed.
    pub fn line_parsed(&mut self, raw: &[u8], offset: u64, ts: Option<(i64, usize)>) {
        self.line_no = self.line_no.saturating_add(1);
        self.stats.lines += 1;
        let bytes = raw.strip_suffix(b"\r").unwrap_or(raw);
        let Some(ts) = ts else {
            if self.pending.is_none() && !self.skipping {
                self.stats.orphan_lines += 1;
                return;
            }
            self.stats.continuation_lines += 1;
            let text = self.decode(bytes);
            // A skipped record's continuation is only counted (and checked for UTF-8 above).
            let Some(p) = self.pending.as_mut() else {
                return;
            };
            if p.first.len() + p.rest.len() + text.len() < MAX_MESSAGE {
                if !p.rest.is_empty() {
                    p.rest.push('\n');
                }
                p.rest.push_str(&text);
            } else {
                p.dropped_bytes += text.len() + 1;
            }
            return;
        };
        self.close();
        let text = self.decode(bytes);
        let h = parse_header_at(&text, ts);
        if self.last_ts.is_some_and(|t| h.ts_local < t) {
            self.stats.backwards_steps += 1;
        }
        self.last_ts = Some(h.ts_local);
        self.first_ts.get_or_insert(h.ts_local);
        let here = Mark {
            ts_local: h.ts_local,
            offset,
            line: self.line_no,
        };
        let previous = self.current.replace(here);
        if self.stats.records % MARK_EVERY == 0 {
            self.marks.push(here);
        }
        self.stats.records += 1;
        if self.every > 1 {
            // A process's start and end are never sampled away: its lifetime reads them. (Only
            // event lines are looked at for that: plain messages are 95 % of the records.)
            if typed::is_event_line(h.message) && !is_lifecycle(h.message) {
                self.events_seen += 1;
                if (self.events_seen - 1) % u64::from(self.every) != 0 {
                    self.stats.events_not_parsed += 1;
                    self.skipping = true;
                    return;
                }
            }
        }
        let typed = typed::classify(h.logger.unwrap_or(""), h.message);
        if let (Typed::LockAcquired { .. }, Some(m)) = (&typed, previous) {
            // Before this record's own mark, if it has one: marks stay in file order.
            let at = self.marks.len() - usize::from(self.marks.last() == Some(&here));
            if at == 0 || self.marks[at - 1].offset != m.offset {
                self.marks.insert(at, m);
            }
        }
        if matches!(typed, Typed::Other) {
            self.stats.messages.add(h.level);
        }
        if matches!(typed, Typed::Other) && !self.messages {
            self.skipping = true;
            return;
        }
        let (first, dropped_bytes) = capped(h.message);
        self.pending = Some(Pending {
            line: self.line_no,
            offset,
            ts_local: h.ts_local,
            ts_text: h.ts_text.to_string(),
            logger: h.logger.map(str::to_string),
            level: h.level.map(str::to_string),
            first: first.to_string(),
            typed,
            rest: String::new(),
            dropped_bytes,
        });
    }

    fn decode<'b>(&mut self, bytes: &'b [u8]) -> Cow<'b, str> {
        match simdutf8::basic::from_utf8(bytes) {
            Ok(s) => Cow::Borrowed(s),
            Err(_) => {
                self.stats.invalid_utf8_lines += 1;
                String::from_utf8_lossy(bytes)
            }
        }
    }

    fn close(&mut self) {
        self.skipping = false;
        if let Some(p) = self.pending.take() {
            emit(p, &mut self.chunk, &mut self.stats);
        }
    }

    /// Closes the last record.
    pub fn finish(mut self) -> Assembler {
        self.close();
        if let Some(m) = self.current.take() {
            if self.marks.last().is_none_or(|l| l.offset != m.offset) {
                self.marks.push(m);
            }
        }
        self
    }
}

/// A process's start or end (`bot_started: {…}`, `bot_stopped: {…}`): never sampled away, its
/// lifetime reads them.
pub fn is_lifecycle(message: &str) -> bool {
    let m = message.trim_start();
    m.starts_with("bot_started:") || m.starts_with("bot_stopped:")
}

/// A first line cut to [`MAX_MESSAGE`] bytes (at a char boundary), and how many bytes it lost.
fn capped(message: &str) -> (&str, usize) {
    let mut end = message.len().min(MAX_MESSAGE);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    let kept = message.get(..end).unwrap_or("");
    (kept, message.len() - kept.len())
}

/// Splits a stream into records and appends them to `chunk` (every record kept). Returns an
/// I/O error with the line it happened at (a truncated `.gz` surfaces here).
pub fn parse_stream<R: BufRead>(
    mut r: R,
    chunk: &mut Chunk,
    stats: &mut FileStats,
) -> io::Result<()> {
    let mut a = Assembler::new(
        std::mem::replace(chunk, Chunk::new(chunk.source, chunk.file.clone())),
        Take::EVERYTHING,
        1,
    );
    let mut buf = Vec::with_capacity(4096);
    let mut offset = 0u64;
    loop {
        buf.clear();
        let n = r.read_until(b'\n', &mut buf).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("after line {} (byte {offset}): {e}", a.lines_seen()),
            )
        })?;
        if n == 0 {
            break;
        }
        let line = buf.strip_suffix(b"\n").unwrap_or(&buf);
        a.line(line, offset);
        offset += n as u64;
    }
    let mut a = a.finish();
    a.stats.bytes = offset;
    *chunk = a.chunk;
    *stats = a.stats;
    Ok(())
}

fn emit(p: Pending, chunk: &mut Chunk, stats: &mut FileStats) {
    let typed = p.typed;
    let mut row = Row {
        ts_local: p.ts_local,
        local_time: p.ts_text,
        line: Some(p.line),
        byte_offset: Some(p.offset),
        level: p.level,
        ..Row::default()
    };
    match typed {
        Typed::Event { event_type, data } => {
            row.kind = Kind::Event;
            row.symbol = data.symbol();
            row.position_id = data.position_id();
            row.signal_id = data.signal_id();
            row.payload_hash = Some(data.hash());
            row.payload = Some(data.into_canonical());
            row.event_type = Some(event_type);
        }
        Typed::MalformedEvent { event_type, error } => {
            stats.malformed_events += 1;
            row.kind = Kind::MalformedEvent;
            row.event_type = Some(event_type);
            row.payload = Some(serde_json::json!({ "error": error.to_string() }).to_string());
        }
        Typed::LockAcquired { name, pid } => {
            row.kind = Kind::LockAcquired;
            row.pid = Some(pid);
            row.payload = Some(serde_json::json!({ "lock": name, "pid": pid }).to_string());
        }
        Typed::LockReleased { name } => {
            row.kind = Kind::LockReleased;
            row.payload = Some(serde_json::json!({ "lock": name }).to_string());
        }
        Typed::StaleLock => row.kind = Kind::StaleLock,
        Typed::AnotherInstance { pid } => {
            row.kind = Kind::AnotherInstance;
            row.payload = pid.map(|pid| serde_json::json!({ "pid": pid }).to_string());
        }
        Typed::SignalReceived { signal } => {
            row.kind = Kind::SignalReceived;
            row.payload = Some(serde_json::json!({ "signal": signal }).to_string());
        }
        Typed::ShutdownInitiated => row.kind = Kind::ShutdownInitiated,
        Typed::SignalExecuting {
            signal_id,
            symbol,
            exchange,
        } => {
            row.kind = Kind::SignalExecuting;
            row.signal_id = Some(signal_id);
            row.symbol = Some(symbol);
            row.payload = Some(serde_json::json!({ "exchange": exchange }).to_string());
        }
        Typed::PositionOpened {
            position_id,
            symbol,
            price,
        } => {
            row.kind = Kind::PositionOpened;
            row.position_id = Some(position_id);
            row.symbol = Some(symbol);
            row.payload = Some(serde_json::json!({ "price": price }).to_string());
        }
        Typed::QueueFull => row.kind = Kind::QueueFull,
        Typed::FlushStarted { count } => {
            row.kind = Kind::FlushStarted;
            row.payload = Some(serde_json::json!({ "count": count }).to_string());
        }
        Typed::FlushWrote { count, last_ids } => {
            row.kind = Kind::FlushWrote;
            row.payload =
                Some(serde_json::json!({ "count": count, "last_ids": last_ids }).to_string());
        }
        Typed::BatchWriteFailed { error } => {
            row.kind = Kind::BatchWriteFailed;
            row.payload = Some(serde_json::json!({ "error": error }).to_string());
        }
        Typed::Other => row.kind = Kind::Message,
    }
    row.logger = p.logger;
    let mut message = p.first;
    if !p.rest.is_empty() {
        message.push('\n');
        message.push_str(&p.rest);
    }
    if p.dropped_bytes > 0 {
        stats.truncated_records += 1;
        message.push_str(&format!("\n[... {} more bytes not kept]", p.dropped_bytes));
    }
    row.message = message;
    chunk.push(row);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rows::ChunkSource;

    #[test]
    fn headers_of_both_formats_and_plain_lines() {
        let h = parse_header(
            "2025-10-18 15:07:13,510 - core.event_logger - INFO - position_error: {'a': 1}",
        )
        .unwrap();
        assert_eq!(h.ts_text, "2025-10-18 15:07:13,510");
        assert_eq!(h.logger, Some("core.event_logger"));
        assert_eq!(h.level, Some("INFO"));
        assert_eq!(h.message, "position_error: {'a': 1}");

        let h = parse_header(
            "2025-10-18 15:07:13,510 - WARNING - [websocket.client] reconnect - attempt 2",
        )
        .unwrap();
        assert_eq!(
            (h.logger, h.level, h.message),
            (
                Some("websocket.client"),
                Some("WARNING"),
                "reconnect - attempt 2"
            )
        );

        // A message that itself contains " - " keeps it.
        let h = parse_header("2025-10-18 15:07:13,510 - __main__ - ERROR - a - b - c").unwrap();
        assert_eq!(h.message, "a - b - c");

        let h = parse_header("2025-10-18 15:07:13.5 something else").unwrap();
        assert_eq!(
            (h.logger, h.level, h.message),
            (None, None, "something else")
        );

        for not in [
            "Traceback (most recent call last):",
            "  File \"x.py\", line 1",
            "=====",
            "",
            "2025-13-01 00:00:00,000 - x",
            "2025-02-30 00:00:00 - x",
        ] {
            assert!(parse_header(not).is_none(), "{not}");
        }
    }

    #[test]
    fn timestamps_to_micros() {
        let (t, used) = parse_timestamp(b"2025-10-18 15:07:13,510 - x").unwrap();
        assert_eq!(used, 23);
        let want = chrono::NaiveDate::from_ymd_opt(2025, 10, 18)
            .unwrap()
            .and_hms_milli_opt(15, 7, 13, 510)
            .unwrap()
            .and_utc()
            .timestamp_micros();
        assert_eq!(t, want);
        let (t6, used) = parse_timestamp(b"2025-10-18T15:07:13.510123").unwrap();
        assert_eq!((t6 - want, used), (123, 26));
        let (t0, used) = parse_timestamp(b"2024-02-29 00:00:00 x").unwrap();
        assert_eq!(used, 19);
        assert_eq!(t0 % 1_000_000, 0);
    }

    #[test]
    fn continuation_lines_join_their_record_and_orphans_are_counted() {
        let text = "banner before logging\n\
2025-10-18 15:00:02,001 - __main__ - INFO - Starting\n\
================\n\
2025-10-18 15:00:03,002 - core.x - ERROR - boom\r\n\
Traceback (most recent call last):\n\
  File \"x.py\", line 1\n\
ValueError: bad\n\
2025-10-18 15:00:04,003 - core.event_logger - INFO - bot_started: {'pid': 1}";
        let mut chunk = Chunk::new(ChunkSource::Log, Some("t.log".into()));
        let mut st = FileStats::default();
        parse_stream(text.as_bytes(), &mut chunk, &mut st).unwrap();
        assert_eq!(st.lines, 8);
        assert_eq!(st.records, 3);
        assert_eq!(st.orphan_lines, 1);
        assert_eq!(st.continuation_lines, 4);
        assert_eq!(chunk.line, vec![Some(2), Some(4), Some(8)]);
        assert_eq!(chunk.message[0], "Starting\n================");
        assert_eq!(chunk.message[1].lines().count(), 4);
        assert!(!chunk.message[1].contains('\r'));
        assert_eq!(chunk.kind[2], Kind::Event);
        assert_eq!(chunk.event_type[2].as_deref(), Some("bot_started"));
        assert_eq!(chunk.payload[2].as_deref(), Some(r#"{"pid":1}"#));
        // Byte offsets point at each record's first line.
        let second = text.find("2025-10-18 15:00:03").unwrap() as u64;
        assert_eq!(chunk.byte_offset[1], Some(second));
    }

    #[test]
    fn invalid_utf8_is_decoded_lossily_and_counted() {
        let mut bytes = b"2025-10-18 15:00:02,001 - m - INFO - price \xff\xfe ok\n".to_vec();
        bytes.extend_from_slice(b"tail \xc3\n");
        let mut chunk = Chunk::new(ChunkSource::Log, None);
        let mut st = FileStats::default();
        parse_stream(&bytes[..], &mut chunk, &mut st).unwrap();
        assert_eq!(st.invalid_utf8_lines, 2);
        assert_eq!(chunk.len(), 1);
        assert!(chunk.message[0].contains('\u{FFFD}'));
        assert!(chunk.message[0].ends_with("tail \u{FFFD}"));
    }

    // Regression (pathological input, reviewed for the log_records target): the cap applied to
    // continuation lines only, so a 50 MiB first line was kept whole in the row's message.
    #[test]
    fn first_line_longer_than_the_cap_is_cut_and_counted() {
        let head = "2025-10-18 15:00:02,001 - m - INFO - ";
        let text = format!("{head}{}é\ncontinued\n", "x".repeat(MAX_MESSAGE - 1));
        let mut chunk = Chunk::new(ChunkSource::Log, None);
        let mut st = FileStats::default();
        parse_stream(text.as_bytes(), &mut chunk, &mut st).unwrap();
        assert_eq!(st.truncated_records, 1);
        // `é` straddles the cap: the cut falls before it.
        assert_eq!(
            chunk.message[0],
            format!(
                "{}\n[... 12 more bytes not kept]",
                "x".repeat(MAX_MESSAGE - 1)
            )
        );
    }

    #[test]
    fn records_split_across_small_buffers() {
        // A BufReader with a 7-byte buffer splits every line; records must not notice.
        let text = "2025-10-18 15:00:02,001 - m - INFO - first line that is long\ncontinued here\n2025-10-18 15:00:02,002 - m - INFO - second";
        let r = io::BufReader::with_capacity(7, text.as_bytes());
        let mut chunk = Chunk::new(ChunkSource::Log, None);
        let mut st = FileStats::default();
        parse_stream(r, &mut chunk, &mut st).unwrap();
        assert_eq!(
            chunk.message,
            vec![
                "first line that is long\ncontinued here".to_string(),
                "second".into()
            ]
        );
    }
}
