//! Reading log files fast: large blocks instead of a read per line, and one file split into
//! parts parsed in parallel. A part starts at the first record that begins at or after its
//! nominal start and runs until the first record that begins at or after the next part's,
//! so every record is parsed exactly once; line numbers are fixed up afterwards from the
//! lines each part saw. `.gz` files are one part (a gzip stream cannot be entered midway).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

use rayon::prelude::*;

use super::record::{Assembler, FileStats, Mark, Take, parse_timestamp};
use crate::rows::{Chunk, ChunkSource};

/// Bytes read at a time.
const BLOCK: usize = 4 << 20;
/// Nominal size of a part of a plain file.
const PART: u64 = 32 << 20;

/// What one part (or a whole stream) yielded.
pub struct Parsed {
    pub chunk: Chunk,
    pub stats: FileStats,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    pub marks: Vec<Mark>,
    /// Lines this part owns (for the line numbers of the parts after it).
    pub(super) lines: u32,
}

thread_local! {
    /// One read buffer per thread, reused: freeing and re-faulting 4 MiB per part (the
    /// allocator returns it to the OS) cost more than parsing on a day of logs.
    static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Feeds every line of `r` (starting at byte `offset`) to `a`, in blocks. With `stop_at`,
/// stops before the first record that starts at or after that offset. With `skip_to_record`,
/// ignores everything before the first record start (the previous part owns it).
fn feed_into<R: Read>(
    buf: &mut Vec<u8>,
    mut r: R,
    mut offset: u64,
    a: &mut Assembler,
    stop_at: Option<u64>,
    mut skip_to_record: bool,
    mut skip_partial_line: bool,
) -> io::Result<u64> {
    if buf.len() < BLOCK {
        buf.resize(BLOCK, 0);
    }
    let mut filled = 0usize;
    // How much of the partial line at the front of `buf` is known to hold no newline: a long
    // line arriving in small reads (a gzip stream, a pipe) is searched once, not again from
    // its start after every read (quadratic: 1.7 s for an 8 MiB line in 64 KiB reads).
    let mut scanned = 0usize;
    let mut eof = false;
    loop {
        if !eof && filled < buf.len() {
            let n = r.read(&mut buf[filled..]).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("after line {} (byte {offset}): {e}", a.lines_seen()),
                )
            })?;
            if n == 0 {
                eof = true;
            }
            filled += n;
        }
        let mut start = 0usize;
        while let Some(k) = memchr::memchr(b'\n', &buf[start.max(scanned)..filled]) {
            let nl = start.max(scanned) + k - start;
            let line = &buf[start..start + nl];
            let at = offset;
            offset += (nl + 1) as u64;
            start += nl + 1;
            if skip_partial_line {
                skip_partial_line = false;
                continue;
            }
            let ts = parse_timestamp(line.strip_suffix(b"\r").unwrap_or(line));
            let header = ts.is_some();
            if skip_to_record {
                if !header {
                    continue;
                }
                skip_to_record = false;
            }
            if header && stop_at.is_some_and(|s| at >= s) {
                return Ok(at);
            }
            a.line_parsed(line, at, ts);
        }
        if start == 0 && filled == buf.len() {
            // A line longer than the buffer: grow it.
            scanned = filled;
            buf.resize(buf.len() * 2, 0);
            continue;
        }
        buf.copy_within(start..filled, 0);
        filled -= start;
        scanned = filled;
        if eof {
            if filled > 0 && !skip_partial_line {
                let line = &buf[..filled];
                let header = Assembler::starts_record(line.strip_suffix(b"\r").unwrap_or(line));
                let skipped = skip_to_record && !header;
                let past_end = header && stop_at.is_some_and(|s| offset >= s);
                if !skipped && !past_end {
                    a.line(line, offset);
                }
                offset += filled as u64;
            }
            return Ok(offset);
        }
    }
}

fn feed<R: Read>(
    r: R,
    offset: u64,
    a: &mut Assembler,
    stop_at: Option<u64>,
    skip_to_record: bool,
    skip_partial_line: bool,
) -> io::Result<u64> {
    BUFFER.with(|b| {
        let mut buf = b.take();
        let out = feed_into(
            &mut buf,
            r,
            offset,
            a,
            stop_at,
            skip_to_record,
            skip_partial_line,
        );
        b.replace(buf);
        out
    })
}

/// Parses a whole stream (a `.gz`, or a small file) as one part.
pub fn parse_reader<R: Read>(r: R, name: &str, take: Take<'_>) -> io::Result<Parsed> {
    let mut a = Assembler::new(
        Chunk::new(ChunkSource::Log, Some(name.to_string())),
        take,
        1,
    );
    let end = feed(r, 0, &mut a, None, false, false)?;
    let mut p = Parsed::from(a);
    p.stats.bytes = end;
    Ok(p)
}

impl From<Assembler> for Parsed {
    /// Closes the last record and keeps what the assembler gathered.
    fn from(a: Assembler) -> Parsed {
        let lines = a.lines_seen();
        let a = a.finish();
        Parsed {
            chunk: a.chunk,
            stats: a.stats,
            first_ts: a.first_ts,
            last_ts: a.last_ts,
            marks: a.marks,
            lines,
        }
    }
}

fn parse_part(
    path: &Path,
    name: &str,
    take: Take<'_>,
    start: u64,
    end: Option<u64>,
) -> io::Result<Parsed> {
    let mut f = File::open(path)?;
    // From one byte before the part: if it is a newline, the part begins at a line start.
    let from = start.saturating_sub(1);
    f.seek(SeekFrom::Start(from))?;
    let mut a = Assembler::new(
        Chunk::new(ChunkSource::Log, Some(name.to_string())),
        take,
        1,
    );
    let stop = feed(f, from, &mut a, end, start > 0, start > 0)?;
    // The bytes this part owns, give or take the partial record it shares with the next.
    crate::progress::inc(stop.saturating_sub(start));
    Ok(Parsed::from(a))
}

/// Parses a plain file in parallel parts and stitches them together.
pub fn parse_file(path: &Path, name: &str, take: Take<'_>) -> io::Result<Parsed> {
    let size = std::fs::metadata(path)?.len();
    let parts = size.div_ceil(PART).max(1);
    if parts == 1 {
        let p = parse_reader(File::open(path)?, name, take)?;
        crate::progress::inc(size);
        return Ok(p);
    }
    let bounds: Vec<u64> = (0..parts).map(|k| k * PART).collect();
    let results: Vec<Parsed> = bounds
        .par_iter()
        .enumerate()
        .map(|(k, &s)| parse_part(path, name, take, s, bounds.get(k + 1).copied()))
        .collect::<io::Result<_>>()?;
    let mut it = results.into_iter();
    let Some(mut all) = it.next() else {
        return parse_reader(File::open(path)?, name, take);
    };
    let mut chunks = Vec::with_capacity(it.len());
    for mut p in it {
        let base = all.lines;
        for l in p.chunk.line.iter_mut().flatten() {
            *l += base;
        }
        for m in &mut p.marks {
            m.line += base;
        }
        if let (Some(prev), Some(first)) = (all.last_ts, p.first_ts) {
            if first < prev {
                all.stats.backwards_steps += 1;
            }
        }
        all.marks.append(&mut p.marks);
        let s = &mut all.stats;
        let q = &p.stats;
        s.lines += q.lines;
        s.records += q.records;
        s.continuation_lines += q.continuation_lines;
        s.invalid_utf8_lines += q.invalid_utf8_lines;
        s.orphan_lines += q.orphan_lines;
        s.malformed_events += q.malformed_events;
        s.backwards_steps += q.backwards_steps;
        s.truncated_records += q.truncated_records;
        s.messages.merge(&q.messages);
        s.events_not_parsed += q.events_not_parsed;
        all.first_ts = all.first_ts.or(p.first_ts);
        all.last_ts = p.last_ts.or(all.last_ts);
        all.lines += p.lines;
        chunks.push(p.chunk);
    }
    all.chunk.append_all(chunks);
    // Marks were taken every MARK_EVERY records of each part; keep them sorted by offset.
    all.marks.sort_by_key(|m| m.offset);
    all.marks.dedup_by_key(|m| m.offset);
    all.stats.bytes = size;
    Ok(all)
}

/// Parses the records of `[from, to)` of a plain file (`range`: from, to, the line number of
/// `from`, which must be a record start, e.g. a mark), with what they held counted. Used to
/// bring back what a first pass did not keep, and to parse a search's probes. `progress`: the
/// bytes count on the progress bar (not for reads its total does not include).
pub fn parse_range(
    path: &Path,
    name: &str,
    (from, to, first_line): (u64, Option<u64>, u32),
    take: Take<'_>,
    progress: bool,
) -> io::Result<(Chunk, FileStats)> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(from))?;
    let mut a = Assembler::new(
        Chunk::new(ChunkSource::Log, Some(name.to_string())),
        take,
        first_line,
    );
    let stop = feed(
        f.take(to.map_or(u64::MAX, |t| t.saturating_sub(from).saturating_add(1 << 20))),
        from,
        &mut a,
        to,
        false,
        false,
    )?;
    if progress {
        crate::progress::inc(stop.saturating_sub(from));
    }
    let mut a = a.finish();
    a.stats.bytes = stop.saturating_sub(from);
    Ok((a.chunk, a.stats))
}

/// The naive times of a plain file's first and last record, from 64 KiB at each end —
/// without parsing it (for the DB anchors query that runs while the file is parsed).
pub fn peek_span(path: &Path) -> Option<(i64, i64)> {
    const EDGE: u64 = 64 << 10;
    let mut f = File::open(path).ok()?;
    let size = f.metadata().ok()?.len();
    let mut head = vec![0u8; EDGE.min(size) as usize];
    f.read_exact(&mut head).ok()?;
    let first = head
        .split(|b| *b == b'\n')
        .find_map(|l| parse_timestamp(l).map(|t| t.0))?;
    f.seek(SeekFrom::Start(size.saturating_sub(EDGE))).ok()?;
    let mut tail = Vec::new();
    f.read_to_end(&mut tail).ok()?;
    let last = tail
        .split(|b| *b == b'\n')
        .filter_map(|l| parse_timestamp(l).map(|t| t.0))
        .next_back()?;
    Some((first, last.max(first)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn write(dir: &Path, text: &str) -> std::path::PathBuf {
        let p = dir.join("x.log");
        std::fs::File::create(&p)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        p
    }

    /// Hands out at most `n` bytes per read, as a gzip stream or a pipe does.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.1.min(buf.len()).min(self.0.len());
            let (head, rest) = self.0.split_at(n);
            buf[..n].copy_from_slice(head);
            self.0 = rest;
            Ok(n)
        }
    }

    // Regression (pathological input, reviewed for the log_records target, whose in-memory
    // reads hand over everything at once): a line longer than the block was searched for its
    // newline from its start after every read; a 50 MiB line in 64 KiB reads took ~1 minute.
    #[test]
    fn fifty_mib_line_in_small_reads_is_searched_once() {
        let mut data = b"2025-10-18 15:00:00,000 - m - INFO - ".to_vec();
        data.resize(data.len() + (50 << 20), b'x');
        data.extend_from_slice(b"\n2025-10-18 15:00:01,000 - m - INFO - next\n");
        let started = std::time::Instant::now();
        let p = parse_reader(Trickle(&data, 64 << 10), "x.log", Take::EVERYTHING).unwrap();
        // Linear takes ~1 s in a debug build; the quadratic search took a minute.
        assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
        assert_eq!((p.stats.records, p.stats.lines), (2, 2));
        assert_eq!(p.stats.truncated_records, 1);
        assert_eq!(p.chunk.message[1], "next");
    }

    #[test]
    fn parts_give_the_same_records_as_one_stream() {
        // Records with continuation lines, split at every possible byte into two parts.
        let mut text = String::new();
        for i in 0..40 {
            text.push_str(&format!(
                "2025-10-18 15:00:{:02},{:03} - m - INFO - rec {i}\n",
                i % 60,
                i
            ));
            if i % 3 == 0 {
                text.push_str(&format!("  continuation of {i}\n"));
            }
        }
        text.push_str("2025-10-18 15:01:00,000 - m - INFO - last without newline");
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), &text);
        let whole = parse_reader(File::open(&p).unwrap(), "x.log", Take::EVERYTHING).unwrap();
        for cut in 1..text.len() as u64 {
            let a = parse_part(&p, "x.log", Take::EVERYTHING, 0, Some(cut)).unwrap();
            let mut b = parse_part(&p, "x.log", Take::EVERYTHING, cut, None).unwrap();
            for l in b.chunk.line.iter_mut().flatten() {
                *l += a.lines;
            }
            let mut lines = a.chunk.line.clone();
            lines.extend(b.chunk.line.clone());
            let mut msgs = a.chunk.message.clone();
            msgs.extend(b.chunk.message.clone());
            assert_eq!(lines, whole.chunk.line, "cut at {cut}");
            assert_eq!(msgs, whole.chunk.message, "cut at {cut}");
            assert_eq!(
                a.stats.lines + b.stats.lines,
                whole.stats.lines,
                "cut at {cut}"
            );
            assert_eq!(
                a.stats.continuation_lines + b.stats.continuation_lines,
                whole.stats.continuation_lines
            );
        }
    }

    #[test]
    fn structured_keeps_events_and_typed_lines_and_counts_the_rest() {
        let text = "2025-10-18 15:00:00,000 - m - INFO - chatter\n  more chatter\n\
2025-10-18 15:00:01,000 - utils.single_instance - INFO - ✅ Lock acquired for 'trading_bot' (PID: 7)\n\
2025-10-18 15:00:02,000 - core.event_logger - INFO - bot_started: {'a': 1}\n";
        let dir = tempfile::tempdir().unwrap();
        let p = write(dir.path(), text);
        let s = parse_reader(File::open(&p).unwrap(), "x.log", Take::STRUCTURED).unwrap();
        assert_eq!(s.stats.records, 3);
        assert_eq!(s.stats.lines, 4);
        assert_eq!(s.stats.continuation_lines, 1);
        assert_eq!(s.chunk.line, vec![Some(3), Some(4)]);
        assert_eq!(
            s.first_ts.map(|t| t % 86_400_000_000),
            Some(15 * 3600 * 1_000_000)
        );
        // The marks index the first record.
        assert_eq!(s.marks[0].offset, 0);
        // A range brings the plain message back with its line number.
        let range = (0, Some(s.chunk.byte_offset[0].unwrap()), 1);
        let (c, st) = parse_range(&p, "x.log", range, Take::EVERYTHING, false).unwrap();
        assert_eq!((st.records, st.lines, st.continuation_lines), (1, 2, 1));
        assert_eq!(c.message, vec!["chatter\n  more chatter".to_string()]);
        assert_eq!(c.line, vec![Some(1)]);
    }
}
