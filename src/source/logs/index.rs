//! What the search of a big file ([`super::seek`]) found, kept between runs: an investigator
//! asks dozens of windowed questions an hour of the same files, and a file searched once is,
//! until it changes, only seeked afterwards — the index says where the window is, which line
//! numbers its records have, and where the records every question needs are (typed lines,
//! lifecycle events); those are read and parsed again from the file itself, never taken from
//! the index, so a record that is not where the index says makes it stale and the file is
//! searched again.
//!
//! One JSON file per log file under `$AUDIT_CACHE_DIR`, else `$XDG_CACHE_HOME/audit`, else
//! `~/.cache/audit`; it holds the log's path, size, modification time, inode, and offsets,
//! lengths, line numbers and naive times — no log text. Any change to the file (size, mtime,
//! inode) makes it stale; indexes not written for 30 days are removed when another is written.
//! `--no-cache` neither reads nor writes it. A cache that cannot be
//! written (read-only home, full disk) is skipped without a word: it only saves time.

use std::fs::Metadata;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::record::{FileStats, Mark};
use super::seek::{Found, Geometry};
use crate::rows::{Chunk, ChunkSource};

/// Bumped whenever what the search keeps, or how, changes.
const FORMAT: u32 = 1;

static OFF: AtomicBool = AtomicBool::new(false);

/// `--no-cache`: no index is read or written.
pub fn disable(off: bool) {
    OFF.store(off, Ordering::Relaxed);
}

#[derive(Serialize, Deserialize, PartialEq)]
struct Key {
    format: u32,
    audit: String,
    path: String,
    size: u64,
    modified_ns: i128,
    inode: u64,
    device: u64,
    mark_every: u64,
}

#[derive(Serialize, Deserialize)]
struct Stored {
    key: Key,
    lines: u64,
    orphan_lines: u64,
    invalid_utf8_lines: u64,
    backwards_steps: u64,
    first_ts: Option<i64>,
    last_ts: Option<i64>,
    /// (naive time, offset, line)
    marks: Vec<(i64, u64, u32)>,
    /// (offset, length, line) of each kept record.
    spans: Vec<(u64, u64, u32)>,
}

/// Where indexes are kept, unless `--no-cache`.
pub fn dir() -> Option<PathBuf> {
    if OFF.load(Ordering::Relaxed) {
        return None;
    }
    let from = |v: &str| {
        std::env::var_os(v)
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
    };
    from("AUDIT_CACHE_DIR")
        .or_else(|| from("XDG_CACHE_HOME").map(|d| d.join("audit")))
        .or_else(|| from("HOME").map(|h| h.join(".cache").join("audit")))
}

fn key(dir: &Path, path: &Path, meta: &Metadata, g: &Geometry) -> Option<(Key, PathBuf)> {
    use std::os::unix::fs::MetadataExt;
    let canonical = std::fs::canonicalize(path).ok()?;
    let shown = canonical.to_string_lossy().into_owned();
    let file = dir.join(format!(
        "{:x}.json",
        Sha256::digest(canonical.as_os_str().as_encoded_bytes())
    ));
    let key = Key {
        format: FORMAT,
        audit: env!("CARGO_PKG_VERSION").to_string(),
        path: shown,
        size: meta.len(),
        modified_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
        inode: meta.ino(),
        device: meta.dev(),
        mark_every: g.mark_every,
    };
    Some((key, file))
}

/// The index of `path` if one was kept for exactly this file (same size, mtime, inode) and
/// the same index spacing. Its records' rows are not in it: [`super::seek`] parses them again.
pub fn load(dir: &Path, path: &Path, meta: &Metadata, g: &Geometry) -> Option<Found> {
    let (key, file) = key(dir, path, meta, g)?;
    let text = std::fs::read(&file).ok()?;
    let s: Stored = serde_json::from_slice(&text).ok()?;
    if s.key != key || !plausible(&s) || !marks_hold(path, &s.marks) {
        return None;
    }
    let stats = FileStats {
        bytes: key.size,
        lines: s.lines,
        orphan_lines: s.orphan_lines,
        invalid_utf8_lines: s.invalid_utf8_lines,
        backwards_steps: s.backwards_steps,
        ..FileStats::default()
    };
    Some(Found {
        chunk: Chunk::new(ChunkSource::Log, None),
        stats,
        marks: s
            .marks
            .into_iter()
            .map(|(ts_local, offset, line)| Mark {
                ts_local,
                offset,
                line,
            })
            .collect(),
        first_ts: s.first_ts,
        last_ts: s.last_ts,
        spans: s.spans,
    })
}

/// Spans and marks in order, inside the file, not overlapping: an index that is not is not
/// used (the spans' records are checked again when they are read; this keeps a damaged index
/// from asking for absurd reads).
fn plausible(s: &Stored) -> bool {
    let size = s.key.size;
    let spans_ok = s
        .spans
        .iter()
        .all(|&(o, len, _)| len > 0 && o.checked_add(len).is_some_and(|e| e <= size))
        && s.spans.windows(2).all(|w| w[0].0 + w[0].1 <= w[1].0);
    let marks_ok = !s.marks.is_empty()
        && s.marks.iter().all(|m| m.1 < size)
        && s.marks
            .windows(2)
            .all(|w| w[0].1 < w[1].1 && w[0].2 <= w[1].2);
    spans_ok && marks_ok && s.lines >= u64::from(s.marks.last().map_or(0, |m| m.2))
}

/// A few marks (spread over the file) read back: each must be a record start with its time.
fn marks_hold(path: &Path, marks: &[(i64, u64, u32)]) -> bool {
    use std::os::unix::fs::FileExt;
    let Ok(f) = std::fs::File::open(path) else {
        return false;
    };
    let step = marks.len().div_ceil(16).max(1);
    marks.iter().step_by(step).all(|&(ts, offset, _)| {
        let from = offset.saturating_sub(1);
        let mut buf = [0u8; 64];
        let Ok(n) = f.read_at(&mut buf, from) else {
            return false;
        };
        let (before, line) = if offset == 0 {
            (true, &buf[..n])
        } else {
            (n > 0 && buf[0] == b'\n', &buf[1.min(n)..n])
        };
        before && super::record::parse_timestamp(line).is_some_and(|t| t.0 == ts)
    })
}

/// Indexes not written for [`KEEP_DAYS`] are removed (logs come and go: a nightly CI job's
/// files each get one).
const KEEP_DAYS: u64 = 30;

fn prune(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let old = std::time::Duration::from_secs(KEEP_DAYS * 86_400);
    for e in entries.flatten() {
        let p = e.path();
        let stale = e
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > old);
        if stale && p.extension().is_some_and(|x| x == "json") {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// Keeps what the search of `path` found (written to a temporary file, then renamed: a
/// reader never sees half of one). Failures are ignored.
pub fn store(dir: &Path, path: &Path, meta: &Metadata, g: &Geometry, found: &Found) {
    let Some((key, file)) = key(dir, path, meta, g) else {
        return;
    };
    let s = Stored {
        key,
        lines: found.stats.lines,
        orphan_lines: found.stats.orphan_lines,
        invalid_utf8_lines: found.stats.invalid_utf8_lines,
        backwards_steps: found.stats.backwards_steps,
        first_ts: found.first_ts,
        last_ts: found.last_ts,
        marks: found
            .marks
            .iter()
            .map(|m| (m.ts_local, m.offset, m.line))
            .collect(),
        spans: found.spans.clone(),
    };
    let write = || -> std::io::Result<()> {
        let dir = file.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir)?;
        prune(dir);
        let tmp = file.with_extension(format!(
            "{}.{:?}.tmp",
            std::process::id(),
            std::thread::current().id()
        ));
        let written = std::fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(&serde_json::to_vec(&s)?))
            .and_then(|()| std::fs::rename(&tmp, &file));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    };
    let _ = write();
}
