//! Log files: discovery (`--logs` file, directory or glob), gzip, parallel parsing (one rayon
//! task per file), and each file's process identity (its lock line's PID).

pub mod pyrepr;
pub mod record;
pub mod typed;

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::Serialize;

use crate::error::AuditError;
use crate::timeline::{Chunk, ChunkSource, Kind};
pub use record::FileStats;

/// One parsed log file.
#[derive(Debug, Clone)]
pub struct LogFile {
    pub info: LogInfo,
    pub chunk: Chunk,
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
    #[serde(flatten)]
    pub stats: FileStats,
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

/// Expands `--logs` values: a file is taken as is; a directory gives its log files (not
/// recursive); anything else is a glob pattern. Sorted, without duplicates.
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
    out.sort();
    out.dedup();
    Ok(out)
}

fn open(path: &Path) -> Result<(Box<dyn Read + Send>, bool), AuditError> {
    let shown = path.display().to_string();
    let f = File::open(path).map_err(|e| AuditError::input(&shown, e.to_string()))?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    if gz {
        Ok((Box::new(flate2::read::MultiGzDecoder::new(f)), true))
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

/// Parses every file in parallel. Any unreadable file is an error: a timeline with a hole
/// where a file should be must not be presented as complete.
pub fn load(paths: &[PathBuf]) -> Result<Vec<LogFile>, AuditError> {
    let names = display_names(paths);
    paths
        .par_iter()
        .zip(names.par_iter())
        .map(|(path, name)| load_one(path, name))
        .collect()
}

fn load_one(path: &Path, name: &str) -> Result<LogFile, AuditError> {
    let (reader, gzip) = open(path)?;
    let mut chunk = Chunk::new(ChunkSource::Log, Some(name.to_string()));
    let mut stats = FileStats::default();
    record::parse_stream(
        BufReader::with_capacity(256 * 1024, reader),
        &mut chunk,
        &mut stats,
    )
    .map_err(|e| {
        let what = if gzip {
            "cannot decompress"
        } else {
            "cannot read"
        };
        AuditError::input(path.display().to_string(), format!("{what}: {e}"))
    })?;
    let pids = assign_pids(&mut chunk);
    Ok(LogFile {
        info: LogInfo {
            name: name.to_string(),
            path: path.display().to_string(),
            gzip,
            pids,
            stats,
        },
        chunk,
    })
}

/// One `bot_*.log` is one process: with a single lock line, its PID belongs to every record
/// (the banner before the lock line included). A file with several lock lines (a rotated
/// `trading_bot.log` spanning restarts) is cut at each one; records before the first get none.
fn assign_pids(chunk: &mut Chunk) -> Vec<u32> {
    let pids: Vec<u32> = chunk
        .kind
        .iter()
        .zip(&chunk.pid)
        .filter(|(k, _)| **k == Kind::LockAcquired)
        .filter_map(|(_, p)| *p)
        .collect();
    match pids.as_slice() {
        [] => {}
        [one] => chunk.pid.iter_mut().for_each(|p| *p = Some(*one)),
        _ => {
            let mut current = None;
            for (k, p) in chunk.kind.iter().zip(chunk.pid.iter_mut()) {
                if *k == Kind::LockAcquired {
                    current = *p;
                }
                *p = current;
            }
        }
    }
    pids
}

#[cfg(test)]
mod tests {
    use super::*;

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
