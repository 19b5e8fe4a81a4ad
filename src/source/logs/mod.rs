//! Log files: discovery (`--logs` file, directory or glob), gzip, parallel parsing (one rayon
//! task per file), and each file's process identity (its lock line's PID).

pub mod index;
#[cfg(test)]
pub(crate) mod props;
pub mod reader;
pub mod record;
pub mod seek;
pub mod typed;

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::error::AuditError;
use crate::rows::{Chunk, ChunkSource, Kind};
pub use record::{FileStats, Mark, Take};

/// One parsed log file.
#[derive(Debug, Clone)]
pub struct LogFile {
    pub info: LogInfo,
    /// Its rows: every record, or (first pass of most commands) events and typed lines only.
    pub chunk: Chunk,
    /// Sparse time index: every [`record::MARK_EVERY`]th record's start.
    pub marks: Vec<Mark>,
    /// Naive times of the first and last record.
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    /// True when every record is in `chunk`.
    pub complete: bool,
    /// True when not every event line is in `chunk` (a sampled or searched first pass).
    pub sampled: bool,
}

/// What a log file is and what it held.
#[derive(Debug, Clone, Serialize)]
pub struct LogInfo {
    /// The file name, as used in `file:line` references.
    pub name: String,
    pub path: String,
    pub gzip: bool,
    /// PIDs from `Lock acquired ... (PID: n)` lines, in order.
    pub pids: Vec<u32>,
    /// A rotated member's first records before any lock line: the PID of the process the
    /// member before it ended with.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carried_pid: Option<u32>,
    /// The next member of its rotation set goes on with its last process: its end is a roll,
    /// not a stop.
    #[serde(skip)]
    pub continued: bool,
    /// The files whose records this one copies (a handler member names the `bot_*.log` of each
    /// process it holds): found by content (`load::copies`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub copy_of: Vec<String>,
    /// The files holding copies of this one's records.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub copies: Vec<String>,
    /// The logging level it was written at (`DEBUG`, `INFO`, `WARNING`, `ERROR`, `CRITICAL`):
    /// given, or inferred from its records (`load::levels`); None when it cannot be told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// How the level was decided, with its evidence.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level_by: Option<String>,
    /// The records contradict a given level, or are too few to tell one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub level_warning: Option<String>,
    #[serde(flatten)]
    pub stats: FileStats,
}

impl LogInfo {
    /// A file as read: what discovery and the copies and levels passes add comes later.
    pub fn new(
        name: String,
        path: String,
        gzip: bool,
        pids: Vec<u32>,
        stats: FileStats,
    ) -> LogInfo {
        LogInfo {
            name,
            path,
            gzip,
            pids,
            carried_pid: None,
            continued: false,
            copy_of: Vec::new(),
            copies: Vec::new(),
            level: None,
            level_by: None,
            level_warning: None,
            stats,
        }
    }
}

/// True for names a bot log can have: `*.log`, rotated `*.log.1`, and either gzipped.
pub fn is_log_name(name: &str) -> bool {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    if name.ends_with(".log") {
        return true;
    }
    match name.rsplit_once(".log.") {
        Some((_, n)) => !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()),
        None => false,
    }
}

/// Where a file stands in a rotation set (`trading_bot.log.10` … `.1`, then `trading_bot.log`;
/// `.gz` members alike): its directory, its base name, and its age (the oldest first, the live
/// file last). Files that are not rotation members sort by name.
pub fn rotation_key(p: &Path) -> (PathBuf, String, i64) {
    let dir = p.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = p
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bare = name.strip_suffix(".gz").unwrap_or(&name);
    if let Some((base, n)) = bare.rsplit_once(".log.") {
        if let Ok(n) = n.parse::<i64>() {
            return (dir, format!("{base}.log"), -n);
        }
    }
    (dir, bare.to_string(), 0)
}

/// Expands `--logs` values: a file is taken as is; a directory gives its log files (not
/// recursive); anything else is a glob pattern. Without duplicates, in order: by directory and
/// name, a rotation set from its oldest member to the live file (`rotation_key`).
pub fn discover(specs: &[PathBuf]) -> Result<Vec<PathBuf>, AuditError> {
    let mut out = Vec::new();
    for spec in specs {
        let shown = spec.display().to_string();
        if spec.is_file() {
            out.push(spec.clone());
        } else if spec.is_dir() {
            let rd =
                std::fs::read_dir(spec).map_err(|e| AuditError::input(&shown, e.to_string()))?;
            let mut found = Vec::new();
            for entry in rd {
                let entry = entry.map_err(|e| AuditError::input(&shown, e.to_string()))?;
                let p = entry.path();
                if p.is_file()
                    && p.file_name()
                        .and_then(|n| n.to_str())
                        .is_some_and(is_log_name)
                {
                    found.push(p);
                }
            }
            if found.is_empty() {
                return Err(AuditError::input(
                    &shown,
                    "directory holds no log files (*.log, *.log.N, *.gz)",
                ));
            }
            out.extend(found);
        } else if shown.contains(['*', '?', '[']) {
            let paths = glob::glob(&shown)
                .map_err(|e| AuditError::input(&shown, format!("bad glob: {e}")))?;
            let mut n = 0;
            for p in paths {
                let p = p.map_err(|e| AuditError::input(&shown, e.to_string()))?;
                if p.is_file() {
                    out.push(p);
                    n += 1;
                }
            }
            if n == 0 {
                return Err(AuditError::input(&shown, "no file matches this pattern"));
            }
        } else {
            return Err(AuditError::input(&shown, "no such file or directory"));
        }
    }
    out.sort_by_key(|p| (rotation_key(p), p.clone()));
    out.dedup();
    Ok(out)
}

/// A rotated member that does not begin with a lock line continues the process the member
/// before it ended with: its first records take that PID (`carried_pid`). Files in the order
/// [`discover`] gives; each rotation set in turn.
fn carry_pids(paths: &[PathBuf], files: &mut [LogFile]) {
    for k in 1..files.len() {
        let (a, b) = (rotation_key(&paths[k - 1]), rotation_key(&paths[k]));
        if a.0 != b.0 || a.1 != b.1 {
            continue;
        }
        let prev = &files[k - 1];
        let Some(last) = prev.info.pids.last().copied().or(prev.info.carried_pid) else {
            continue;
        };
        files[k - 1].info.continued = true;
        let f = &mut files[k];
        let first_lock = lock_offsets(&f.chunk).first().map(|l| l.0);
        f.info.carried_pid = Some(last);
        carry(&mut f.chunk, first_lock, last);
    }
}

/// Gives `pid` to the rows before `first_lock` (all of them when there is none).
fn carry(chunk: &mut Chunk, first_lock: Option<u64>, pid: u32) {
    for (p, off) in chunk.pid.iter_mut().zip(&chunk.byte_offset) {
        if first_lock.is_none_or(|l| off.unwrap_or(0) < l) {
            *p = Some(pid);
        }
    }
}

/// A reader that reports the bytes it reads to the progress bar.
struct Counted<R>(R);

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.0.read(buf)?;
        crate::progress::inc(n as u64);
        Ok(n)
    }
}

fn open(path: &Path) -> Result<(Box<dyn Read + Send>, bool), AuditError> {
    let shown = path.display().to_string();
    let f = File::open(path).map_err(|e| AuditError::input(&shown, e.to_string()))?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    if gz {
        // Progress counts the compressed bytes (the bar's total is the files' size).
        let counted = Counted(f);
        Ok((Box::new(flate2::read::MultiGzDecoder::new(counted)), true))
    } else {
        Ok((Box::new(f), false))
    }
}

/// The name used in references: the file name, or the whole path when two files share a name.
fn display_names(paths: &[PathBuf]) -> Vec<String> {
    let names: Vec<String> = paths
        .iter()
        .map(|p| {
            p.file_name().map_or_else(
                || p.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            )
        })
        .collect();
    names
        .iter()
        .zip(paths)
        .map(|(n, p)| {
            if names.iter().filter(|m| *m == n).count() > 1 {
                p.display().to_string()
            } else {
                n.clone()
            }
        })
        .collect()
}

/// How a file's first pass reads it. `load::plan` decides it for every file, once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Parsed, keeping what the [`Take`] says.
    Parse(Take<'static>),
    /// Searched, not parsed (a window or a signal over a big plain file): its typed lines found
    /// by their fixed texts and its events sampled by probes every `unit` bytes
    /// ([`seek::first_pass`]); parsed with `Take::sampled(every)` where the search cannot be
    /// used.
    Search { unit: u64, every: u32 },
}

/// Reads every file's first pass in parallel (and large plain files in parallel parts), each
/// as its [`Pass`] says. Any unreadable file is an error: a timeline with a hole where a file
/// should be must not be presented as complete. What a pass did not keep is counted, and read
/// back when a question needs it ([`LogFile::read_back`]).
pub fn load(paths: &[PathBuf], passes: &[Pass]) -> Result<Vec<LogFile>, AuditError> {
    let names = display_names(paths);
    let mut files: Vec<LogFile> = paths
        .par_iter()
        .zip(names.par_iter())
        .zip(passes.par_iter())
        .map(|((path, name), pass)| match *pass {
            Pass::Parse(take) => load_one(path, name, take),
            Pass::Search { unit, every } => {
                let g = seek::Geometry::for_unit(unit);
                let found = seek::first_pass(path, name, &g).map_err(|e| {
                    AuditError::input(path.display().to_string(), format!("cannot read: {e}"))
                })?;
                match found {
                    Some(s) => Ok(seeked(path, name, s)),
                    None => load_one(path, name, Take::sampled(every)),
                }
            }
        })
        .collect::<Result<_, _>>()?;
    carry_pids(paths, &mut files);
    Ok(files)
}

/// A file's first pass by search ([`seek::first_pass`]): like a sampled one, not complete.
fn seeked(path: &Path, name: &str, s: seek::Seeked) -> LogFile {
    let mut stats = s.stats;
    stats.from_index = s.from_index;
    let lines = u32::try_from(stats.lines).unwrap_or(u32::MAX);
    let parsed = reader::Parsed {
        chunk: s.chunk,
        stats,
        first_ts: s.first_ts,
        last_ts: s.last_ts,
        marks: s.marks,
        lines,
    };
    // Like a sampled pass: not every event is in it.
    log_file(
        name,
        path.display().to_string(),
        false,
        parsed,
        (false, true),
    )
}

/// A read-back range longer than this is parsed in pieces, in parallel.
const SPLIT_BYTES: u64 = 32 << 20;

fn load_one(path: &Path, name: &str, take: Take<'_>) -> Result<LogFile, AuditError> {
    let gzip = path.extension().is_some_and(|e| e == "gz");
    let shown = path.display().to_string();
    let parsed = if gzip {
        let (r, _) = open(path)?;
        reader::parse_reader(r, name, take)
    } else {
        reader::parse_file(path, name, take)
    }
    .map_err(|e| {
        let what = if gzip {
            "cannot decompress"
        } else {
            "cannot read"
        };
        AuditError::input(&shown, format!("{what}: {e}"))
    })?;
    if parsed.stats.records == 0 && parsed.stats.lines > 0 {
        // Bytes, but not one line that starts with a timestamp: a PNG, a dump, the wrong file.
        return Err(AuditError::input(
            &shown,
            format!(
                "not a log file: none of its {} lines ({} bytes) starts with a timestamp like 2025-10-18 15:07:13,510",
                parsed.stats.lines, parsed.stats.bytes
            ),
        ));
    }
    let whole = take.messages && !take.is_sampled();
    Ok(log_file(
        name,
        shown,
        gzip,
        parsed,
        (whole, take.is_sampled()),
    ))
}

/// A parsed (or searched) file with its process identity: the PIDs of its lock lines, given
/// to its rows. `(complete, sampled)`: every record is in it; not every event is.
fn log_file(
    name: &str,
    path: String,
    gzip: bool,
    parsed: reader::Parsed,
    (complete, sampled): (bool, bool),
) -> LogFile {
    let mut chunk = parsed.chunk;
    let locks = lock_offsets(&chunk);
    let pids = locks.iter().map(|(_, p)| *p).collect();
    assign_pids(&mut chunk, &locks);
    LogFile {
        info: LogInfo::new(name.to_string(), path, gzip, pids, parsed.stats),
        chunk,
        marks: parsed.marks,
        first_ts: parsed.first_ts,
        last_ts: parsed.last_ts,
        complete,
        sampled,
    }
}

/// The lock lines of a file: (byte offset, PID), in order.
fn lock_offsets(chunk: &Chunk) -> Vec<(u64, u32)> {
    (0..chunk.len())
        .filter(|&i| chunk.kind[i] == Kind::LockAcquired)
        .filter_map(|i| Some((chunk.byte_offset[i]?, chunk.pid[i]?)))
        .collect()
}

/// One `bot_*.log` is one process: with a single lock line, its PID belongs to every record
/// (the banner before the lock line included). A file with several lock lines (a rotated
/// `trading_bot.log` spanning restarts) is cut at each one; records before the first get none.
fn assign_pids(chunk: &mut Chunk, locks: &[(u64, u32)]) {
    match locks {
        [] => {}
        [(_, one)] => chunk.pid.iter_mut().for_each(|p| *p = Some(*one)),
        _ => {
            for (p, off) in chunk.pid.iter_mut().zip(&chunk.byte_offset) {
                let off = off.unwrap_or(0);
                *p = locks
                    .iter()
                    .take_while(|(o, _)| *o <= off)
                    .last()
                    .map(|(_, pid)| *pid);
            }
        }
    }
}

impl LogFile {
    /// Gives rows read back from this file their PIDs, as its first pass did: by its lock
    /// lines, and before the first one the PID carried from the member before it.
    fn give_pids(&self, chunk: &mut Chunk) {
        let locks = lock_offsets(&self.chunk);
        assign_pids(chunk, &locks);
        if let Some(carried) = self.info.carried_pid {
            carry(chunk, locks.first().map(|l| l.0), carried);
        }
    }

    /// Brings back what the first pass did not keep from the byte ranges `[from, to)` (record
    /// starts taken from the sparse index): the plain messages when `messages`, and — for a
    /// sampled file — the event lines whose naive time is in `events` that it did not parse.
    /// With PIDs; aligned later like every row. Rows already kept are not repeated.
    pub fn read_back(
        &self,
        ranges: &[(u64, Option<u64>, u32)],
        want: &Take<'_>,
    ) -> Result<Chunk, AuditError> {
        let path = Path::new(&self.info.path);
        let mut out = Chunk::new(ChunkSource::Log, Some(self.info.name.clone()));
        let messages = want.messages;
        let events = want.events_within.filter(|_| self.sampled);
        let inside = |ivs: &[(i64, i64)], t: i64| ivs.iter().any(|&(lo, hi)| lo <= t && t <= hi);
        if self.complete || (!messages && events.is_none()) {
            return Ok(out);
        }
        let keep = if messages {
            Take::EVERYTHING
        } else {
            Take::STRUCTURED
        };
        let shown = self.info.path.clone();
        let parts: Vec<Chunk> = if self.info.gzip {
            // No seeking into a gzip stream: parse it again, whole.
            let (r, _) = open(path)?;
            vec![
                reader::parse_reader(r, &self.info.name, keep)
                    .map_err(|e| AuditError::input(&shown, e.to_string()))?
                    .chunk,
            ]
        } else {
            self.split_at_marks(ranges, SPLIT_BYTES)
                .par_iter()
                .map(|&range| {
                    reader::parse_range(path, &self.info.name, range, keep, true).map(|(c, _)| c)
                })
                .collect::<std::io::Result<_>>()
                .map_err(|e| AuditError::input(&shown, format!("cannot read: {e}")))?
        };
        let is_event = |k: Kind| matches!(k, Kind::Event | Kind::MalformedEvent);
        let kept: std::collections::HashSet<u64> = if events.is_some() {
            (0..self.chunk.len())
                .filter(|&i| is_event(self.chunk.kind[i]))
                .filter_map(|i| self.chunk.byte_offset[i])
                .collect()
        } else {
            Default::default()
        };
        for mut c in parts {
            let keep: Vec<bool> = (0..c.len())
                .map(|i| match c.kind[i] {
                    Kind::Message => {
                        messages
                            && want
                                .messages_within
                                .is_none_or(|w| inside(w, c.ts_local[i]))
                            && want.messages_mentioning.is_none_or(|n| {
                                crate::payload::fields::text_mentions_int(&c.message[i], n)
                            })
                    }
                    k if is_event(k) => events.is_some_and(|w| {
                        inside(w, c.ts_local[i])
                            && c.byte_offset[i].is_some_and(|o| !kept.contains(&o))
                    }),
                    _ => false,
                })
                .collect();
            c.retain(&keep);
            out.append(&mut c);
        }
        self.give_pids(&mut out);
        Ok(out)
    }

    /// `ranges` cut at marks into pieces of at least `size` bytes, so that one long range is
    /// parsed on every core (a mark is a record start with a known line number).
    fn split_at_marks(
        &self,
        ranges: &[(u64, Option<u64>, u32)],
        size: u64,
    ) -> Vec<(u64, Option<u64>, u32)> {
        let mut out = Vec::with_capacity(ranges.len());
        for &(from, to, line) in ranges {
            let (mut start, mut first) = (from, line);
            let k = self.marks.partition_point(|m| m.offset <= from);
            for m in &self.marks[k..] {
                if to.is_some_and(|t| m.offset >= t) {
                    break;
                }
                if m.offset - start >= size {
                    out.push((start, Some(m.offset), first));
                    (start, first) = (m.offset, m.line);
                }
            }
            out.push((start, to, first));
        }
        out
    }

    /// The byte ranges holding records whose naive time is in `[lo, hi]`, from the sparse
    /// index: from the last mark at or before `lo` to the first mark after `hi`. Files whose
    /// time goes backwards are read whole.
    pub fn ranges_between(&self, lo: i64, hi: i64) -> Vec<(u64, Option<u64>, u32)> {
        let Some(first) = self.marks.first() else {
            return Vec::new();
        };
        if self.info.stats.backwards_steps > 0 {
            return vec![(first.offset, None, first.line)];
        }
        let start = self
            .marks
            .iter()
            .rev()
            .find(|m| m.ts_local <= lo)
            .unwrap_or(first);
        let end = self
            .marks
            .iter()
            .find(|m| m.ts_local > hi)
            .map(|m| m.offset);
        if end.is_some_and(|e| e <= start.offset) {
            return Vec::new();
        }
        vec![(start.offset, end, start.line)]
    }

    /// The byte ranges of the records containing any of `needles` (a signal id in a message or
    /// a traceback, a position's key): one read of the file, a memchr scan per needle, then
    /// each hit's stretch between marks.
    pub fn ranges_containing(
        &self,
        needles: &[&[u8]],
    ) -> Result<Vec<(u64, Option<u64>, u32)>, AuditError> {
        Ok(self
            .ranges_containing_each(&[needles])?
            .pop()
            .unwrap_or_default())
    }

    /// [`Self::ranges_containing`] for several groups of needles in one read of the file: the
    /// ranges of each group.
    #[allow(clippy::type_complexity)]
    pub fn ranges_containing_each(
        &self,
        groups: &[&[&[u8]]],
    ) -> Result<Vec<Vec<(u64, Option<u64>, u32)>>, AuditError> {
        let needles: Vec<(&[u8], usize)> = groups
            .iter()
            .enumerate()
            .flat_map(|(g, ns)| ns.iter().filter(|n| !n.is_empty()).map(move |n| (*n, g)))
            .collect();
        let mut out = vec![Vec::new(); groups.len()];
        if self.marks.is_empty() || needles.is_empty() {
            return Ok(out);
        }
        if self.info.gzip {
            for (_, g) in &needles {
                out[*g] = vec![(0, None, 1)];
            }
            return Ok(out);
        }
        let shown = self.info.path.clone();
        let size = std::fs::metadata(&self.info.path)
            .map_err(|e| AuditError::input(&shown, e.to_string()))?
            .len();
        let hits = search(Path::new(&self.info.path), size, SEGMENT, &needles)
            .map_err(|e| AuditError::input(&shown, e.to_string()))?;
        for (g, h) in hits {
            let k = self.marks.partition_point(|m| m.offset <= h);
            let start = self.marks[k.saturating_sub(1)];
            let end = self.marks.get(k).map(|m| m.offset);
            let ranges = &mut out[g];
            if ranges
                .last()
                .is_none_or(|r: &(u64, Option<u64>, u32)| r.0 != start.offset)
            {
                ranges.push((start.offset, end, start.line));
            }
        }
        Ok(out)
    }
}

/// Bytes of a file searched on one task (the search of a day's biggest file on one thread was
/// the longest step of a signal's timeline).
const SEGMENT: u64 = 64 << 20;

/// Where the needles start in the first `size` bytes of `path`, with their group, sorted:
/// `segment`-sized pieces searched in parallel, each reading `longest - 1` bytes past its end
/// so a hit across an edge is found (twice at most; deduplicated here).
fn search(
    path: &Path,
    size: u64,
    segment: u64,
    needles: &[(&[u8], usize)],
) -> std::io::Result<Vec<(usize, u64)>> {
    let starts: Vec<u64> = (0..size.div_ceil(segment).max(1))
        .map(|k| k * segment)
        .collect();
    let found: Vec<Vec<(usize, u64)>> = starts
        .par_iter()
        .map(|&from| search_segment(path, from, segment, needles))
        .collect::<std::io::Result<_>>()?;
    let mut hits: Vec<(usize, u64)> = found.into_iter().flatten().collect();
    hits.sort_unstable();
    hits.dedup();
    Ok(hits)
}

/// Where the needles start (with their group) in `len` bytes of `path` from `from`, reading
/// `longest - 1` bytes more for a hit that starts inside and ends past the end.
fn search_segment(
    path: &Path,
    from: u64,
    len: u64,
    needles: &[(&[u8], usize)],
) -> std::io::Result<Vec<(usize, u64)>> {
    let mut f = File::open(path)?;
    f.seek(SeekFrom::Start(from))?;
    let finders: Vec<(memchr::memmem::Finder<'_>, usize)> = needles
        .iter()
        .map(|(n, g)| (memchr::memmem::Finder::new(n), *g))
        .collect();
    let longest = needles.iter().map(|n| n.0.len()).max().unwrap_or(1);
    let mut f = f.take(len + longest as u64 - 1);
    let mut hits: Vec<(usize, u64)> = Vec::new();
    let mut buf = vec![0u8; 8 << 20];
    let mut carry = 0usize;
    let mut base = from;
    loop {
        let n = f.read(&mut buf[carry..])?;
        if n == 0 {
            break;
        }
        let len = carry + n;
        for (finder, g) in &finders {
            hits.extend(finder.find_iter(&buf[..len]).map(|h| (*g, base + h as u64)));
        }
        // Keep the last longest-1 bytes so a hit across two reads is found.
        let keep = longest.saturating_sub(1).min(len);
        buf.copy_within(len - keep..len, 0);
        base += (len - keep) as u64;
        carry = keep;
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_in_segments_finds_every_hit_once_across_edges() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.log");
        // Hits of "abc" at 0, 5, 9 (across the edge at 10 with 4-byte segments too) and "zz"
        // in another group at 13.
        std::fs::write(&p, b"abc..abc.abc.zz..").unwrap();
        let needles: [(&[u8], usize); 2] = [(b"abc", 0), (b"zz", 1)];
        let want = vec![(0, 0), (0, 5), (0, 9), (1, 13)];
        for segment in [1, 2, 3, 4, 5, 10, 64] {
            assert_eq!(
                search(&p, 17, segment, &needles).unwrap(),
                want,
                "{segment}"
            );
        }
    }

    #[test]
    fn long_read_back_ranges_are_cut_at_marks() {
        let mark = |offset: u64, line: u32| Mark {
            ts_local: 0,
            offset,
            line,
        };
        let f = LogFile {
            info: LogInfo::new(
                "a.log".into(),
                "a.log".into(),
                false,
                Vec::new(),
                FileStats::default(),
            ),
            chunk: Chunk::new(crate::rows::ChunkSource::Log, None),
            marks: (0..10).map(|k| mark(k * 100, 1 + k as u32 * 10)).collect(),
            first_ts: None,
            last_ts: None,
            complete: false,
            sampled: true,
        };
        // [50, 950) in pieces of at least 300 bytes: cut at the marks 400 and 700.
        assert_eq!(
            f.split_at_marks(&[(50, Some(950), 6)], 300),
            vec![
                (50, Some(400), 6),
                (400, Some(700), 41),
                (700, Some(950), 71)
            ]
        );
        // To the end of the file; short ranges stay whole.
        assert_eq!(
            f.split_at_marks(&[(0, Some(100), 1), (600, None, 61)], 250),
            vec![(0, Some(100), 1), (600, Some(900), 61), (900, None, 91)]
        );
    }

    #[test]
    fn log_names_include_rotated_and_gzipped() {
        for yes in [
            "bot_20251018_070604.log",
            "trading_bot.log.1",
            "trading_bot.log.10.gz",
            "bot.log.gz",
        ] {
            assert!(is_log_name(yes), "{yes}");
        }
        for no in ["events.csv", "bot.log.bak", "notes.txt", "bot.log.", "x.gz"] {
            assert!(!is_log_name(no), "{no}");
        }
    }
}
