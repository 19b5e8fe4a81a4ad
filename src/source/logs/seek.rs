//! Seek, don't scan: the first pass of a windowed question over a big plain file, without
//! parsing the file.
//!
//! A window's checks need a few file-wide facts besides the window's own records: the typed
//! lines (lock lines — a process's stretch, a second PID in one file —, signals, flushes) and
//! the processes' `bot_started`/`bot_stopped` events wherever they are, the file's first and
//! last record, the line numbers, a time index to seek the window with, and some events for
//! clock detection. A parse finds them at ~1 GB/s per core; here the file is only
//! searched ([`NEEDLES`], Aho-Corasick), its newlines counted and its UTF-8 checked, in
//! parallel segments (~4.5 GB/s on two cores, most of it the kernel's copy), and only what
//! that finds is parsed:
//!
//! - every line holding a needle whose message starts with it (after decoration), whole,
//!   with its continuation lines, through the same [`Assembler`] a full pass uses;
//! - one record start per [`Geometry::mark_every`] bytes (its naive time and line): the index
//!   the window is read back through, like the full pass's every-1024th-record marks;
//! - the record before each lock line and the last record (a process's stretch ends there);
//! - [`Geometry::probes`] evenly spread stretches of [`Geometry::probe_bytes`], parsed whole:
//!   the events clock detection starts from (then the window's, read back, refine it).
//!
//! Counts that need every record parsed (records, messages by level, malformed events) cover
//! only the parsed bytes, which `FileStats::parsed_bytes` says; lines, orphan lines and
//! invalid UTF-8 lines are counted over the whole file. The index sees time going backwards
//! only where it is visible between marks: an index that goes backwards makes the window's
//! read-back read the whole file, as a full pass's does.
//!
//! What a search found is kept between runs ([`super::index`]): asked again about an
//! unchanged file, only the kept records are read (and parsed again) — not the file.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};
use rayon::prelude::*;

use super::reader;
use super::record::{
    Assembler, FileStats, Mark, Take, is_lifecycle, parse_header_at, parse_timestamp,
};
use super::typed::{self, Typed};
use crate::rows::{Chunk, ChunkSource, Kind};

/// What every record a first pass must keep whole starts its message with (after the emoji a
/// line may carry): the typed lines' fixed texts ([`typed::classify`]) and the lifecycle
/// events' names. A hit is only a candidate: its line is parsed and classified as a full pass
/// would.
pub const NEEDLES: [&str; 12] = [
    "Lock acquired for ",
    "Lock released for ",
    "Found stale lock",
    "Another instance",
    "Received signal",
    "Shutdown initiated",
    "EventLogger ",
    "Event queue full",
    "Executing signal",
    "Position #",
    "bot_started:",
    "bot_stopped:",
];

fn needles() -> Option<&'static AhoCorasick> {
    static AC: OnceLock<Option<AhoCorasick>> = OnceLock::new();
    AC.get_or_init(|| {
        AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostFirst)
            .build(NEEDLES)
            .ok()
    })
    .as_ref()
}

/// Sizes of the search: segments searched in parallel, index spacing, probes.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    /// Bytes of a file one task searches (a multiple of `mark_every`).
    pub segment: u64,
    /// One index mark per this many bytes.
    pub mark_every: u64,
    /// Stretches parsed whole for clock detection, spread evenly over the file.
    pub probes: u64,
    pub probe_bytes: u64,
    /// Bytes read at a time (a longer line grows the buffer).
    pub block: usize,
}

impl Geometry {
    /// From the sampling unit (`SAMPLE_BYTES`, 64 MiB; the tests lower it): 32 MiB segments,
    /// a mark every 128 KiB, 64 probes of 256 KiB (16 MiB parsed per file, whatever its size).
    pub fn for_unit(unit: u64) -> Geometry {
        let mark_every = (unit / 512).max(256);
        let segment = (unit / 2 / mark_every).max(1) * mark_every;
        Geometry {
            segment,
            mark_every,
            probes: 64,
            probe_bytes: (unit / 256).max(4096),
            block: 4 << 20,
        }
    }
}

/// What the search of a file gave: the rows a first pass keeps (typed lines, lifecycle
/// events, the probes' events), the index, and the counts (see the module's notes).
pub struct Seeked {
    pub chunk: Chunk,
    pub stats: FileStats,
    pub marks: Vec<Mark>,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    /// The file was not searched: an earlier search's index said where everything is.
    pub from_index: bool,
}

/// What one segment's search found. Line numbers count from 1 at the segment's first line.
#[derive(Default)]
struct Segment {
    /// Newlines that end the lines this segment owns (those starting in its byte range).
    newlines: u64,
    /// The last owned line is the file's last and ends without a newline.
    unterminated: bool,
    /// Owned lines whose bytes are not UTF-8 (their offsets).
    invalid: Vec<u64>,
    /// The first record at or after each mark boundary: offset, naive time, newlines before
    /// it in the segment.
    marks: Vec<(u64, i64, u64)>,
    /// Typed lines and lifecycle events, whole.
    chunk: Option<Chunk>,
    /// Each of those records' bytes `[start, end)` and the newlines before it in the segment.
    spans: Vec<(u64, u64, u64)>,
}

/// A line of `buf` from `start`: its end (without the newline) and the index after it.
fn line_at(buf: &[u8], start: usize) -> (usize, usize) {
    match memchr::memchr(b'\n', &buf[start..]) {
        Some(k) => (start + k, start + k + 1),
        None => (buf.len(), buf.len()),
    }
}

fn timestamp(line: &[u8]) -> Option<(i64, usize)> {
    parse_timestamp(line.strip_suffix(b"\r").unwrap_or(line))
}

/// True when the record whose first line is `line` is one a first pass keeps without
/// sampling: a typed line or a lifecycle event (not any other event line).
fn kept_whole(line: &[u8], ts: (i64, usize)) -> bool {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = String::from_utf8_lossy(line);
    let h = parse_header_at(&text, ts);
    if is_lifecycle(h.message) {
        return true;
    }
    !typed::is_event_line(h.message)
        && !matches!(
            typed::classify(h.logger.unwrap_or(""), h.message),
            Typed::Other
        )
}

/// Ends the kept record still open at `end`.
fn close_span(seg: &mut Segment, end: u64) {
    if let Some(s) = seg.spans.last_mut().filter(|s| s.1 == 0) {
        s.1 = end;
    }
}

/// Searches the lines that start in `[start, end)` of the first `size` bytes of `path` (a
/// file still being written is read as it was when its size was taken).
fn scan_segment(
    path: &Path,
    name: &str,
    (start, end, size): (u64, u64, u64),
    g: &Geometry,
    ac: &AhoCorasick,
) -> io::Result<Segment> {
    let mut f = File::open(path)?;
    // From one byte before: if it is a newline, the segment starts at a line start.
    let from = start.saturating_sub(1);
    f.seek(SeekFrom::Start(from))?;
    let mut f = f.take(size.saturating_sub(from));
    let mut buf = vec![0u8; g.block.max(1)];
    let mut filled = 0usize;
    let mut base = from;
    let mut eof = false;
    let mut skip_partial = start > 0;
    let mut seg = Segment::default();
    let mut a = Assembler::new(
        Chunk::new(ChunkSource::Log, Some(name.to_string())),
        Take::STRUCTURED,
        1,
    );
    let mut kept = 0usize;
    // The next mark boundary to look for, and whether its search goes on from the previous
    // block (it passed lines without a timestamp up to the block's end).
    let mut boundary = start.div_ceil(g.mark_every) * g.mark_every;
    let mut searching = false;
    // A kept record whose continuation lines may go on in the next block.
    let mut open = false;
    loop {
        if !eof && filled < buf.len() {
            let n = f.read(&mut buf[filled..])?;
            eof = n == 0;
            filled += n;
        }
        if skip_partial {
            match memchr::memchr(b'\n', &buf[..filled]) {
                Some(k) => {
                    buf.copy_within(k + 1..filled, 0);
                    filled -= k + 1;
                    base += (k + 1) as u64;
                    skip_partial = false;
                }
                None if eof => break,
                None => {
                    base += filled as u64;
                    filled = 0;
                    if base >= end {
                        // No line starts in this segment (a file without newlines would
                        // otherwise be read to its end by every segment).
                        break;
                    }
                    continue;
                }
            }
        }
        // Whole lines only (the last, unterminated line of the file at its end).
        let e = if eof {
            filled
        } else {
            match memchr::memrchr(b'\n', &buf[..filled]) {
                Some(k) => k + 1,
                None if filled == buf.len() => {
                    buf.resize(buf.len() * 2, 0);
                    continue;
                }
                None => continue,
            }
        };
        let r = &buf[..e];
        // The lines this segment owns: those starting before `end`.
        let owned = match end.saturating_sub(base).min(e as u64) as usize {
            0 => 0,
            cut => line_at(r, cut - 1).1,
        };
        let mut at = 0usize;
        // A kept record's continuation lines at the head of this block.
        if open {
            while at < e {
                let (le, next) = line_at(r, at);
                if timestamp(&r[at..le]).is_some() {
                    break;
                }
                a.line_parsed(&r[at..le], base + at as u64, None);
                at = next;
            }
            open = at >= e && !eof;
            if !open {
                close_span(&mut seg, base + at as u64);
            }
        }
        // Newlines counted so far in this block (up to `counted`).
        let mut counted = 0usize;
        let count_to = |seg: &mut Segment, counted: &mut usize, to: usize| -> u64 {
            let to = to.min(owned).max(*counted);
            seg.newlines += bytecount::count(&r[*counted..to], b'\n') as u64;
            *counted = to;
            seg.newlines
        };
        // Candidates: hits (at their line's start) and mark boundaries, in file order.
        let mut items: Vec<(usize, bool)> = Vec::new();
        if searching {
            items.push((0, true));
        }
        while boundary < end && boundary < base + owned as u64 {
            // (A boundary inside the partial line skipped at the start: the first line.)
            items.push((boundary.saturating_sub(base) as usize, true));
            boundary += g.mark_every;
        }
        let mut last_line = usize::MAX;
        for m in ac.find_iter(&r[..owned]) {
            let ls = memchr::memrchr(b'\n', &r[..m.start()]).map_or(0, |k| k + 1);
            if ls != last_line {
                items.push((ls, false));
                last_line = ls;
            }
        }
        items.sort_unstable();
        searching = false;
        for (pos, is_mark) in items {
            if is_mark {
                // The first line starting at or after `pos`, then the first record from there.
                let mut ls = if pos == 0 { 0 } else { line_at(r, pos - 1).1 };
                loop {
                    if ls >= owned {
                        // Past what this segment owns: the next segment marks it.
                        if ls >= e && !eof && owned == e {
                            searching = base + (e as u64) < end;
                        }
                        break;
                    }
                    let (le, next) = line_at(r, ls);
                    if let Some((ts, _)) = timestamp(&r[ls..le]) {
                        let nl = count_to(&mut seg, &mut counted, ls);
                        if seg.marks.last().is_none_or(|m| m.0 != base + ls as u64) {
                            seg.marks.push((base + ls as u64, ts, nl));
                        }
                        break;
                    }
                    ls = next;
                }
                continue;
            }
            if pos < at {
                // Inside the kept record carried over from the previous block.
                continue;
            }
            let (le, next) = line_at(r, pos);
            let Some(ts) = timestamp(&r[pos..le]) else {
                continue;
            };
            if !kept_whole(&r[pos..le], ts) {
                continue;
            }
            let nl = count_to(&mut seg, &mut counted, pos);
            a.resume_at(u32::try_from(nl + 1).unwrap_or(u32::MAX));
            a.line_parsed(&r[pos..le], base + pos as u64, Some(ts));
            seg.spans.push((base + pos as u64, 0, nl));
            kept += 1;
            // Its continuation lines, up to the next record (perhaps in the next block).
            let mut ls = next;
            open = !eof;
            while ls < e {
                let (le, next) = line_at(r, ls);
                if timestamp(&r[ls..le]).is_some() {
                    open = false;
                    break;
                }
                a.line_parsed(&r[ls..le], base + ls as u64, None);
                ls = next;
            }
            at = ls;
            if !open {
                close_span(&mut seg, base + at as u64);
            }
        }
        count_to(&mut seg, &mut counted, owned);
        if eof && owned == e && e > 0 && r[e - 1] != b'\n' {
            seg.unterminated = true;
        }
        // UTF-8: the block at once; where it fails, the line there is counted and the search
        // goes on after it.
        let mut from = 0;
        while let Err(bad) = simdutf8::compat::from_utf8(&r[from..owned]) {
            let at = from + bad.valid_up_to();
            let ls = memchr::memrchr(b'\n', &r[..at]).map_or(0, |k| k + 1);
            seg.invalid.push(base + ls as u64);
            from = line_at(r, at).1;
        }
        crate::progress::inc(owned as u64);
        let done = eof || (base + e as u64 >= end && !open && !searching);
        if done {
            break;
        }
        buf.copy_within(e..filled, 0);
        filled -= e;
        base += e as u64;
    }
    if kept > 0 {
        seg.chunk = Some(a.finish().chunk);
    }
    Ok(seg)
}

/// Bytes [`record_before`] reads at a time.
const BACK_STEP: u64 = 64 << 10;

/// The last record that starts before `before` (a line start, or the file's size): its
/// offset, naive time, and the newlines from it to `before`. Reads backwards in growing steps.
/// Backwards in `step`s ([`BACK_STEP`]: a record of a GiB before it costs a read, not a GiB of
/// memory).
fn record_before(path: &Path, before: u64, step: u64) -> io::Result<Option<(u64, i64, u64)>> {
    use std::os::unix::fs::FileExt;
    const HEAD: usize = 64;
    let f = File::open(path)?;
    let mut buf = vec![0u8; step.max(1) as usize];
    // The first bytes from `end` on, and the newlines in `[end, before)`.
    let mut after: Vec<u8> = Vec::new();
    let mut newlines = 0u64;
    let mut end = before;
    while end > 0 {
        let from = end.saturating_sub(step.max(1));
        let block = &mut buf[..(end - from) as usize];
        f.read_exact_at(block, from)?;
        let block = &*block;
        let head = |ls: usize| -> Vec<u8> {
            let mut h = block[ls..block.len().min(ls + HEAD)].to_vec();
            h.extend(after.iter().take(HEAD - h.len()));
            h
        };
        // Line starts: after each newline (not `before` itself), and the file's first byte.
        let starts = memchr::memrchr_iter(b'\n', block)
            .map(|k| k + 1)
            .chain((from == 0).then_some(0));
        for ls in starts {
            if from + ls as u64 >= before {
                continue;
            }
            let h = head(ls);
            let (le, _) = line_at(&h, 0);
            if let Some((ts, _)) = timestamp(&h[..le]) {
                let nl = newlines + bytecount::count(&block[ls..], b'\n') as u64;
                return Ok(Some((from + ls as u64, ts, nl)));
            }
        }
        newlines += bytecount::count(block, b'\n') as u64;
        after = head(0);
        end = from;
    }
    Ok(None)
}

/// What the search of a whole file found (or the index kept from an earlier search): the
/// kept records and where they are, the index, the whole-file counts.
pub struct Found {
    pub chunk: Chunk,
    /// `bytes`, `lines`, `orphan_lines`, `invalid_utf8_lines`, `backwards_steps`.
    pub stats: FileStats,
    pub marks: Vec<Mark>,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    /// Each kept record's offset, length in bytes and line.
    pub spans: Vec<(u64, u64, u32)>,
}

/// The first pass of a big plain file by search (see the module's notes), or, when the file
/// was searched before and has not changed since, from what that search kept
/// ([`super::index`]). `None` when the file has no record at all (the full pass says what
/// it is instead).
pub fn first_pass(path: &Path, name: &str, g: &Geometry) -> io::Result<Option<Seeked>> {
    first_pass_in(path, name, g, super::index::dir().as_deref())
}

/// [`first_pass`] with the index kept in `cache` (none: searched every time).
pub fn first_pass_in(
    path: &Path,
    name: &str,
    g: &Geometry,
    cache: Option<&Path>,
) -> io::Result<Option<Seeked>> {
    let meta = std::fs::metadata(path)?;
    let index = cache.and_then(|dir| super::index::load(dir, path, &meta, g));
    // A read that fails is the index's fault as much as the file's: searching tells which.
    let kept = index.and_then(|k| reread(path, name, k).ok().flatten());
    let from_index = kept.is_some();
    if from_index {
        // The progress bar counts the files' bytes: this one is done without reading them.
        crate::progress::inc(meta.len());
    }
    let found = match kept {
        Some(found) => found,
        None => {
            let Some(found) = search(path, name, g, meta.len())? else {
                return Ok(None);
            };
            if let Some(dir) = cache {
                super::index::store(dir, path, &meta, g, &found);
            }
            found
        }
    };
    let mut s = with_probes(path, name, g, found)?;
    s.from_index = from_index;
    Ok(Some(s))
}

/// Parses the records an earlier search kept (`index`), from their spans. `None` when one of
/// them is not (or no longer) a record the search keeps: the file changed, search it again.
fn reread(path: &Path, name: &str, index: Found) -> io::Result<Option<Found>> {
    use std::os::unix::fs::FileExt;
    // Records close together are read at once (a syscall costs about what copying 16 KiB does).
    let mut groups: Vec<std::ops::Range<usize>> = Vec::new();
    let spans = &index.spans;
    let mut start = 0;
    for i in 1..=spans.len() {
        let cut = i == spans.len() || {
            let (prev, next) = (spans[i - 1], spans[i]);
            next.0 > prev.0 + prev.1 + (16 << 10) || next.0 + next.1 - spans[start].0 > 4 << 20
        };
        if cut {
            if start < i {
                groups.push(start..i);
            }
            start = i;
        }
    }
    // Groups parsed in batches (one chunk, one buffer each) spread over the cores.
    let per = groups.len().div_ceil(64).max(16);
    let batches: Vec<&[std::ops::Range<usize>]> = groups.chunks(per).collect();
    let f = File::open(path)?;
    let parsed: Vec<Option<Chunk>> = batches
        .par_iter()
        .map(|batch| -> io::Result<Option<Chunk>> {
            let mut a = Assembler::new(
                Chunk::new(ChunkSource::Log, Some(name.to_string())),
                Take::STRUCTURED,
                1,
            );
            let mut buf = Vec::new();
            for g in batch.iter() {
                let from = spans[g.start].0;
                let last = spans[g.end - 1];
                buf.resize((last.0 + last.1 - from) as usize, 0);
                f.read_exact_at(&mut buf, from)?;
                for &(offset, len, line) in &spans[g.clone()] {
                    let at = (offset - from) as usize;
                    let rec = &buf[at..at + len as usize];
                    a.resume_at(line);
                    let mut ls = 0;
                    while ls < rec.len() {
                        let (le, next) = line_at(rec, ls);
                        a.line(&rec[ls..le], offset + ls as u64);
                        ls = next;
                    }
                }
            }
            let chunk = a.finish().chunk;
            // Each span must still be one record the search keeps, where the index says: the
            // rows are checked once parsed (parsing them twice to check first cost as much).
            let spans = batch.iter().flat_map(|g| &spans[g.clone()]);
            let lifecycle = |i: usize| {
                matches!(
                    chunk.event_type[i].as_deref(),
                    Some("bot_started" | "bot_stopped")
                )
            };
            let mut n = 0;
            for (i, &(offset, _, line)) in spans.enumerate() {
                let same = i < chunk.len()
                    && chunk.byte_offset[i] == Some(offset)
                    && chunk.line[i] == Some(line)
                    && (!matches!(chunk.kind[i], Kind::Event | Kind::MalformedEvent)
                        || lifecycle(i));
                if !same {
                    return Ok(None);
                }
                n += 1;
            }
            Ok((n == chunk.len()).then_some(chunk))
        })
        .collect::<io::Result<_>>()?;
    let Some(parts) = parsed.into_iter().collect::<Option<Vec<Chunk>>>() else {
        return Ok(None);
    };
    let mut chunk = Chunk::new(ChunkSource::Log, Some(name.to_string()));
    chunk.append_all(parts);
    Ok(Some(Found { chunk, ..index }))
}

/// Searches the whole file (see the module's notes).
fn search(path: &Path, name: &str, g: &Geometry, size: u64) -> io::Result<Option<Found>> {
    let Some(ac) = needles() else {
        return Ok(None);
    };
    let bounds: Vec<u64> = (0..size.div_ceil(g.segment).max(1))
        .map(|k| k * g.segment)
        .collect();
    let segments: Vec<Segment> = bounds
        .par_iter()
        .enumerate()
        .map(|(k, &s)| {
            let end = bounds.get(k + 1).copied().unwrap_or(u64::MAX);
            scan_segment(path, name, (s, end, size), g, ac)
        })
        .collect::<io::Result<_>>()?;

    let mut stats = FileStats {
        bytes: size,
        ..FileStats::default()
    };
    let mut marks: Vec<Mark> = Vec::new();
    let mut chunks: Vec<Chunk> = Vec::new();
    let mut spans: Vec<(u64, u64, u32)> = Vec::new();
    let mut invalid: Vec<u64> = Vec::new();
    let mut before = 0u64;
    let mut unterminated = false;
    let line = |n: u64| u32::try_from(n + 1).unwrap_or(u32::MAX);
    for s in segments {
        for &(offset, ts, nl) in &s.marks {
            if marks.last().is_none_or(|m| m.offset != offset) {
                marks.push(Mark {
                    ts_local: ts,
                    offset,
                    line: line(before + nl),
                });
            }
        }
        if let Some(mut c) = s.chunk {
            let base = u32::try_from(before).unwrap_or(u32::MAX);
            for l in c.line.iter_mut().flatten() {
                *l = l.saturating_add(base);
            }
            chunks.push(c);
        }
        spans.extend(
            s.spans
                .iter()
                .map(|&(from, to, nl)| (from, to - from, line(before + nl))),
        );
        invalid.extend(s.invalid);
        before += s.newlines;
        unterminated |= s.unterminated;
    }
    stats.lines = before + u64::from(unterminated);
    let Some(first) = marks.first().copied() else {
        return Ok(None);
    };
    stats.orphan_lines = u64::from(first.line) - 1;
    stats.invalid_utf8_lines = invalid.iter().filter(|&&o| o >= first.offset).count() as u64;
    let mut chunk = Chunk::new(ChunkSource::Log, Some(name.to_string()));
    chunk.append_all(chunks);

    // The record before each lock line, and the last record: where a process's stretch ends.
    let mut extra: Vec<Mark> = Vec::new();
    for i in 0..chunk.len() {
        if chunk.kind[i] != Kind::LockAcquired {
            continue;
        }
        let (Some(at), Some(l)) = (chunk.byte_offset[i], chunk.line[i]) else {
            continue;
        };
        if let Some((offset, ts, nl)) = record_before(path, at, BACK_STEP)? {
            let line = u32::try_from(u64::from(l).saturating_sub(nl)).unwrap_or(0);
            extra.push(Mark {
                ts_local: ts,
                offset,
                line,
            });
        }
    }
    let last = record_before(path, size, BACK_STEP)?;
    if let Some((offset, ts, nl)) = last {
        // Newlines at and after it; a last line without one is a line too.
        let after = nl + u64::from(stats.lines > before);
        extra.push(Mark {
            ts_local: ts,
            offset,
            line: u32::try_from(stats.lines + 1 - after).unwrap_or(u32::MAX),
        });
    }
    marks.extend(extra);
    marks.sort_by_key(|m| m.offset);
    marks.dedup_by_key(|m| m.offset);
    stats.backwards_steps = marks
        .windows(2)
        .filter(|w| w[1].ts_local < w[0].ts_local)
        .count() as u64;
    Ok(Some(Found {
        chunk,
        stats,
        marks,
        first_ts: Some(first.ts_local),
        last_ts: last.map(|l| l.1),
        spans,
    }))
}

/// Adds the probes to what the search found: whole stretches parsed for clock detection.
fn with_probes(path: &Path, name: &str, g: &Geometry, found: Found) -> io::Result<Seeked> {
    let Found {
        chunk,
        mut stats,
        marks,
        first_ts,
        last_ts,
        ..
    } = found;
    let size = stats.bytes;

    // Probes: whole stretches for clock detection.
    let mut probes: Vec<(u64, Option<u64>, u32)> = Vec::new();
    for k in 0..g.probes {
        let target = size / g.probes * k;
        let i = marks
            .partition_point(|m| m.offset <= target)
            .saturating_sub(1);
        let from = marks[i];
        if probes
            .last()
            .is_some_and(|p| p.1.is_none_or(|t| t > from.offset))
        {
            continue;
        }
        let to = marks[i..]
            .iter()
            .find(|m| m.offset >= from.offset + g.probe_bytes)
            .map(|m| m.offset);
        probes.push((from.offset, to, from.line));
    }
    let parsed: Vec<(Chunk, FileStats)> = probes
        .par_iter()
        .map(|&range| reader::parse_range(path, name, range, Take::STRUCTURED, false))
        .collect::<io::Result<_>>()?;
    // The probes' rows the search did not keep (their events; typed lines and lifecycle
    // events are already there, the same records parsed the same way), merged in file order.
    let mut extra = Chunk::new(ChunkSource::Log, Some(name.to_string()));
    let mut parsed_bytes = 0u64;
    let kept = |o: Option<u64>| chunk.byte_offset.binary_search(&o).is_ok();
    for (mut c, st) in parsed {
        let new: Vec<bool> = c.byte_offset.iter().map(|&o| !kept(o)).collect();
        c.retain(&new);
        extra.append(&mut c);
        parsed_bytes += st.bytes;
        stats.records += st.records;
        stats.continuation_lines += st.continuation_lines;
        stats.malformed_events += st.malformed_events;
        stats.truncated_records += st.truncated_records;
        stats.messages.merge(&st.messages);
    }
    let mut from_extra = Vec::with_capacity(chunk.len() + extra.len());
    let (mut i, mut j) = (0, 0);
    while i < chunk.len() || j < extra.len() {
        let take =
            j < extra.len() && (i == chunk.len() || extra.byte_offset[j] < chunk.byte_offset[i]);
        from_extra.push(take);
        if take {
            j += 1;
        } else {
            i += 1;
        }
    }
    let out = Chunk::interleave(chunk, extra, &from_extra);
    stats.parsed_bytes = Some(parsed_bytes);
    Ok(Seeked {
        chunk: out,
        stats,
        first_ts,
        last_ts,
        marks,
        from_index: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;
    use std::io::Write;

    /// A file with what the search must get right: orphan lines (one holding a needle), typed
    /// lines with emoji, two lock lines (a restart), lifecycle events, events (not kept),
    /// needles in the middle of messages and in tracebacks, CRLF lines, invalid UTF-8, a line
    /// longer than a segment, and a last typed line without a newline.
    fn sample() -> Vec<u8> {
        let mut out: Vec<u8> = Vec::new();
        out.extend_from_slice(b"orphan banner\norphan Lock acquired for 'x' (PID: 9)\n");
        let mut ms = 0u64;
        let mut line = |out: &mut Vec<u8>, logger: &str, msg: &[u8], end: &[u8]| {
            ms += 37;
            let t = format!(
                "2025-10-18 15:{:02}:{:02},{:03} - {logger} - INFO - ",
                ms / 60_000,
                ms / 1000 % 60,
                ms % 1000
            );
            out.extend_from_slice(t.as_bytes());
            out.extend_from_slice(msg);
            out.extend_from_slice(end);
        };
        line(
            &mut out,
            "utils.single_instance",
            "✅ Lock acquired for 'trading_bot' (PID: 7)".as_bytes(),
            b"\n",
        );
        line(
            &mut out,
            "core.event_logger",
            b"bot_started: {'pid': 7}",
            b"\n",
        );
        for i in 0..400 {
            let plain = format!("tick {i}");
            line(&mut out, "m", plain.as_bytes(), b"\n");
            if i % 7 == 0 {
                let e = format!("order_placed: {{'id': {i}, 'position_id': {}}}", i / 3);
                line(&mut out, "core.event_logger", e.as_bytes(), b"\n");
            }
            if i % 11 == 0 {
                line(&mut out, "m", b"Traceback follows", b"\n");
                out.extend_from_slice(
                    b"  Lock acquired for 'y' (PID: 3)\n  Position #5 for X opened\n",
                );
            }
            if i % 13 == 0 {
                let w = format!("EventLogger wrote 3 events (last_ids=[id={i}:order_placed])");
                line(&mut out, "core.event_logger", w.as_bytes(), b"\n");
                out.extend_from_slice(b"    continued Executing signal #1: A\n");
            }
            if i % 17 == 0 {
                line(
                    &mut out,
                    "m",
                    b"later: Executing signal #9: Z is mid-message",
                    b"\n",
                );
            }
            if i % 19 == 0 {
                line(
                    &mut out,
                    "m",
                    "🚀 Executing signal #4869992: RSRUSDT on binance".as_bytes(),
                    b"\r\n",
                );
            }
            if i % 23 == 0 {
                line(&mut out, "m", b"bad \xff\xfe bytes", b"\n");
                out.extend_from_slice(b"  more \xc3 bad\n");
            }
            if i % 29 == 0 {
                line(
                    &mut out,
                    "m",
                    b"Position #12 for BTCUSDT opened at $1",
                    b"\n",
                );
            }
            if i == 100 {
                let long = format!("Found stale lock {}", "z".repeat(3000));
                line(&mut out, "m", long.as_bytes(), b"\n");
            }
            if i == 250 {
                line(
                    &mut out,
                    "core.event_logger",
                    b"bot_stopped: {'pid': 7}",
                    b"\n",
                );
                line(
                    &mut out,
                    "m",
                    b"Lock acquired for 'trading_bot' (PID: 8)",
                    b"\n",
                );
                line(
                    &mut out,
                    "core.event_logger",
                    b"bot_started: {'pid': 8}",
                    b"\n",
                );
            }
        }
        line(&mut out, "m", b"Lock released for 'trading_bot'", b"");
        out
    }

    type Row = (Option<u32>, Option<u64>, Kind, i64, String, Option<String>);

    fn rows(c: &Chunk) -> Vec<Row> {
        (0..c.len())
            .map(|i| {
                (
                    c.line[i],
                    c.byte_offset[i],
                    c.kind[i],
                    c.ts_local[i],
                    c.message[i].clone(),
                    c.payload[i].clone(),
                )
            })
            .collect()
    }

    #[test]
    fn a_search_finds_what_a_full_parse_keeps_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let bytes = sample();
        std::fs::write(&path, &bytes).unwrap();
        let read = || File::open(&path).unwrap();
        let full = reader::parse_reader(read(), "x.log", Take::STRUCTURED).unwrap();
        let every = reader::parse_reader(read(), "x.log", Take::EVERYTHING).unwrap();
        let lifecycle = |c: &Chunk, i: usize| {
            matches!(
                c.event_type[i].as_deref(),
                Some("bot_started" | "bot_stopped")
            )
        };
        let whole = |c: &Chunk| -> Vec<Row> {
            let keep: Vec<bool> = (0..c.len())
                .map(|i| {
                    !matches!(c.kind[i], Kind::Event | Kind::MalformedEvent) || lifecycle(c, i)
                })
                .collect();
            rows(&c.select(&keep))
        };
        let want = whole(&full.chunk);
        // Typed lines, both lock lines, lifecycle events and the last line are all there;
        // nothing from the orphans, the tracebacks or the mid-message needles.
        let kinds = |k: Kind| want.iter().filter(|r| r.2 == k).count();
        assert_eq!(kinds(Kind::LockAcquired), 2);
        assert_eq!(kinds(Kind::LockReleased), 1);
        assert_eq!(kinds(Kind::SignalExecuting), 400 / 19 + 1);
        assert!(kinds(Kind::FlushWrote) > 20 && kinds(Kind::StaleLock) == 1);
        let starts: HashMap<u64, (u32, i64)> = (0..every.chunk.len())
            .map(|i| {
                let c = &every.chunk;
                (
                    c.byte_offset[i].unwrap(),
                    (c.line[i].unwrap(), c.ts_local[i]),
                )
            })
            .collect();
        let mut geometries = Vec::new();
        for block in [64, 97, 1000, 1 << 20] {
            for (mark_every, k) in [(256, 1), (256, 3), (1024, 2), (1 << 20, 1)] {
                geometries.push(Geometry {
                    segment: mark_every * k,
                    mark_every,
                    probes: 0,
                    probe_bytes: 0,
                    block,
                });
            }
        }
        for g in &geometries {
            let s = first_pass_in(&path, "x.log", g, None).unwrap().unwrap();
            assert_eq!(whole(&s.chunk), want, "{g:?}");
            assert_eq!(s.stats.lines, full.stats.lines, "{g:?}");
            assert_eq!(s.stats.orphan_lines, 2, "{g:?}");
            assert_eq!(
                s.stats.invalid_utf8_lines, full.stats.invalid_utf8_lines,
                "{g:?}"
            );
            assert_eq!(
                (s.first_ts, s.last_ts),
                (full.first_ts, full.last_ts),
                "{g:?}"
            );
            assert_eq!(s.stats.backwards_steps, 0);
            // Every mark is a record start, with its line and time; one per boundary at least.
            for m in &s.marks {
                assert_eq!(
                    starts.get(&m.offset),
                    Some(&(m.line, m.ts_local)),
                    "{g:?} {m:?}"
                );
            }
            // The first record at or after each boundary is marked.
            let offsets: Vec<u64> = s.marks.iter().map(|m| m.offset).collect();
            let mut boundary = 0;
            while boundary < bytes.len() as u64 {
                if let Some(first) = starts.keys().filter(|&&o| o >= boundary).min() {
                    assert!(offsets.contains(first), "{g:?} {boundary}");
                }
                boundary += g.mark_every;
            }
            // The record before each lock line and the last one are marked.
            for (i, _) in want
                .iter()
                .enumerate()
                .filter(|(_, r)| r.2 == Kind::LockAcquired)
            {
                let at = want[i].1.unwrap();
                // (The first lock line is the first record: nothing before it.)
                if let Some(before) = starts.keys().filter(|&&o| o < at).max() {
                    assert!(offsets.contains(before), "{g:?}");
                }
            }
            assert!(offsets.contains(starts.keys().max().unwrap()), "{g:?}");
        }
        assert!(full.stats.invalid_utf8_lines >= 2 * (400 / 23));
    }

    /// The index kept between runs: used while the file is unchanged, with the same results
    /// as a search; a file that changed — even with its size, mtime and inode kept — is
    /// searched again.
    #[test]
    fn an_index_seeks_while_the_file_is_unchanged_and_is_dropped_when_it_changes() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        let path = dir.path().join("x.log");
        std::fs::write(&path, sample()).unwrap();
        let g = Geometry {
            segment: 2048,
            mark_every: 512,
            probes: 3,
            probe_bytes: 1000,
            block: 700,
        };
        let summary = |s: &Seeked| {
            (
                rows(&s.chunk),
                s.marks.clone(),
                (s.first_ts, s.last_ts),
                serde_json::to_string(&s.stats).unwrap(),
            )
        };
        let searched = first_pass_in(&path, "x.log", &g, None).unwrap().unwrap();
        let first = first_pass_in(&path, "x.log", &g, Some(&cache))
            .unwrap()
            .unwrap();
        assert!(!first.from_index && !searched.from_index);
        assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 1);
        let again = first_pass_in(&path, "x.log", &g, Some(&cache))
            .unwrap()
            .unwrap();
        assert!(again.from_index);
        assert_eq!(summary(&again), summary(&searched));
        // Another index spacing is another index.
        let other = Geometry {
            mark_every: 256,
            ..g
        };
        assert!(
            !first_pass_in(&path, "x.log", &other, Some(&cache))
                .unwrap()
                .unwrap()
                .from_index
        );
        assert!(
            !first_pass_in(&path, "x.log", &g, Some(&cache))
                .unwrap()
                .unwrap()
                .from_index
        );
        assert!(
            first_pass_in(&path, "x.log", &g, Some(&cache))
                .unwrap()
                .unwrap()
                .from_index
        );

        // One kept record's text changed in place, size and mtime put back: the index is
        // stale (its record is no longer a lock line) and the file is searched again.
        let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
        let mut bytes = std::fs::read(&path).unwrap();
        let at = memchr::memmem::find(&bytes, b"Lock acquired for 'trading_bot' (PID: 8)").unwrap();
        bytes[at..at + 4].copy_from_slice(b"Lack");
        {
            use std::os::unix::fs::FileExt;
            let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
            f.write_all_at(&bytes[at..at + 4], at as u64).unwrap();
            f.set_modified(mtime).unwrap();
        }
        let fresh = first_pass_in(&path, "x.log", &g, None).unwrap().unwrap();
        let kinds = |s: &Seeked| {
            s.chunk
                .kind
                .iter()
                .filter(|k| **k == Kind::LockAcquired)
                .count()
        };
        assert_eq!(kinds(&fresh), 1);
        let after = first_pass_in(&path, "x.log", &g, Some(&cache))
            .unwrap()
            .unwrap();
        assert!(!after.from_index);
        assert_eq!(summary(&after), summary(&fresh));
        // Appended to (the bot still writing): the size says so.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"\n2025-10-18 16:00:00,000 - m - INFO - Lock released for 'trading_bot'\n")
            .unwrap();
        drop(f);
        let grown = first_pass_in(&path, "x.log", &g, Some(&cache))
            .unwrap()
            .unwrap();
        assert!(!grown.from_index);
        assert_eq!(
            grown.last_ts,
            Some(16 * 3_600_000_000 + 1_760_745_600_000_000)
        );
        let indexed = || {
            first_pass_in(&path, "x.log", &g, Some(&cache))
                .unwrap()
                .unwrap()
        };
        assert!(indexed().from_index);

        // A damaged index is not used: cut short, a span past the file's end, a mark whose
        // time is not its record's.
        let file = std::fs::read_dir(&cache)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let good = std::fs::read(&file).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&good).unwrap();
        let mut past_end = v.clone();
        past_end["spans"][0][1] = serde_json::json!(1u64 << 40);
        let mut wrong_mark = v.clone();
        let ts = wrong_mark["marks"][0][0].as_i64().unwrap();
        wrong_mark["marks"][0][0] = serde_json::json!(ts + 1000);
        let damaged = [
            good[..good.len() / 2].to_vec(),
            serde_json::to_vec(&past_end).unwrap(),
            serde_json::to_vec(&wrong_mark).unwrap(),
        ];
        let want = summary(&first_pass_in(&path, "x.log", &g, None).unwrap().unwrap());
        for bad in damaged {
            std::fs::write(&file, &bad).unwrap();
            let s = indexed();
            assert!(!s.from_index);
            assert_eq!(summary(&s), want);
        }
        assert!(indexed().from_index);
    }

    /// The record before any line start (or the end), read backwards in steps of any size,
    /// is the one a full parse puts there, with the newlines between.
    #[test]
    fn the_record_before_a_line_is_found_backwards_in_steps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        let bytes = sample();
        std::fs::write(&path, &bytes).unwrap();
        let every =
            reader::parse_reader(File::open(&path).unwrap(), "x.log", Take::EVERYTHING).unwrap();
        let records: Vec<(u64, i64)> = (0..every.chunk.len())
            .map(|i| (every.chunk.byte_offset[i].unwrap(), every.chunk.ts_local[i]))
            .collect();
        let mut befores: Vec<u64> = memchr::memchr_iter(b'\n', &bytes)
            .map(|k| k as u64 + 1)
            .collect();
        befores.insert(0, 0);
        befores.push(bytes.len() as u64);
        for step in [1, 7, 64, 300, 4096, 1 << 20] {
            for &b in befores.iter().step_by(if step < 64 { 37 } else { 1 }) {
                let want = records.iter().rev().find(|r| r.0 < b).map(|&(o, ts)| {
                    let nl = bytes[o as usize..b as usize]
                        .iter()
                        .filter(|&&c| c == b'\n')
                        .count() as u64;
                    (o, ts, nl)
                });
                assert_eq!(record_before(&path, b, step).unwrap(), want, "{step} {b}");
            }
        }
    }

    /// A file still being written is searched as it was when its size was taken: what was
    /// appended since is not half-read.
    #[test]
    fn a_growing_file_is_read_up_to_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let bytes = sample();
        let cut = memchr::memchr(b'\n', &bytes[bytes.len() / 2..]).unwrap() + bytes.len() / 2 + 1;
        let (whole, prefix) = (dir.path().join("whole.log"), dir.path().join("prefix.log"));
        std::fs::write(&whole, &bytes).unwrap();
        std::fs::write(&prefix, &bytes[..cut]).unwrap();
        let g = Geometry {
            segment: 1024,
            mark_every: 512,
            probes: 0,
            probe_bytes: 0,
            block: 300,
        };
        let of = |f: Found| (rows(&f.chunk), f.marks, f.stats.lines, f.last_ts, f.spans);
        let grown = search(&whole, "x.log", &g, cut as u64).unwrap().unwrap();
        let then = search(&prefix, "x.log", &g, cut as u64).unwrap().unwrap();
        assert_eq!(of(grown), of(then));
    }

    /// Indexes not written for a month are removed when another is written; others stay.
    #[test]
    fn old_indexes_are_pruned() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");
        std::fs::create_dir_all(&cache).unwrap();
        let month = std::time::Duration::from_secs(31 * 86_400);
        let day = std::time::Duration::from_secs(86_400);
        for (name, age) in [
            ("old.json", month),
            ("recent.json", day),
            ("notes.txt", month),
        ] {
            let p = cache.join(name);
            std::fs::write(&p, b"{}").unwrap();
            let f = std::fs::File::options().write(true).open(&p).unwrap();
            f.set_modified(std::time::SystemTime::now() - age).unwrap();
        }
        let path = dir.path().join("x.log");
        std::fs::write(&path, sample()).unwrap();
        let g = Geometry {
            segment: 4096,
            mark_every: 1024,
            probes: 1,
            probe_bytes: 1000,
            block: 4096,
        };
        first_pass_in(&path, "x.log", &g, Some(&cache))
            .unwrap()
            .unwrap();
        let mut left: Vec<String> = std::fs::read_dir(&cache)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left.len(), 3, "{left:?}");
        assert!(!left.contains(&"old.json".to_string()));
        assert!(
            left.contains(&"recent.json".to_string()) && left.contains(&"notes.txt".to_string())
        );
    }

    #[test]
    fn probes_bring_whole_stretches_in_file_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.log");
        std::fs::write(&path, sample()).unwrap();
        let full =
            reader::parse_reader(File::open(&path).unwrap(), "x.log", Take::STRUCTURED).unwrap();
        let by_offset: HashMap<u64, Row> = rows(&full.chunk)
            .into_iter()
            .map(|r| (r.1.unwrap(), r))
            .collect();
        let g = Geometry {
            segment: 2048,
            mark_every: 512,
            probes: 5,
            probe_bytes: 1500,
            block: 300,
        };
        let s = first_pass_in(&path, "x.log", &g, None).unwrap().unwrap();
        let got = rows(&s.chunk);
        assert!(
            got.windows(2).all(|w| w[0].1 < w[1].1),
            "in file order, once each"
        );
        for r in &got {
            assert_eq!(by_offset.get(&r.1.unwrap()), Some(r));
        }
        let events = got.iter().filter(|r| r.2 == Kind::Event).count();
        let lifecycle = 3;
        assert!(events > lifecycle, "the probes' events: {events}");
        assert!(
            events
                < full
                    .chunk
                    .kind
                    .iter()
                    .filter(|k| **k == Kind::Event)
                    .count()
        );
        assert!(s.stats.parsed_bytes.is_some_and(|b| b >= 5 * 1500));
        assert!(s.stats.records > 0);
    }
}
