//! Scores what a `--format json` document says about each process's logging level against
//! the truth's `files[].level` and `filtered_by_level`.
//!
//! The document's shape:
//!
//! ```json
//! { "sources": { "logs": [ { "name": "bot_20251018_080300.log", "level": "WARNING", "…": "…" } ] },
//!   "findings": [
//!     { "kind": "log_level_filtered", "severity": "info",
//!       "log": { "file": "bot_20251018_080300.log", "line": 1 },
//!       "event_ids": [786001, 786002],
//!       "details": { "level": "WARNING", "rows": 2, "by_type": { "health_check": 1, "balance_updated": 1 } } } ] }
//! ```
//!
//! A finding names its file in `log.file` (else `details.file`, else its first
//! `processes[].file`). Levels compare as classes: `DEBUG` and `INFO` are one (no event line
//! is below INFO, so neither filters a row; a file's DEBUG chatter may or may not show), and
//! `WARN` is `WARNING`.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::super::truth::Truth;
use super::copies::{base, source_name, sources};
use super::{Tally, findings, ids};

/// A level's class for scoring: `INFO` for DEBUG and INFO, else the level upper-cased.
pub(crate) fn class(level: &str) -> String {
    match level.trim().to_ascii_uppercase().as_str() {
        "DEBUG" | "INFO" | "NOTSET" => "INFO".to_string(),
        "WARN" => "WARNING".to_string(),
        other => other.to_string(),
    }
}

fn finding_file(f: &Value) -> Option<String> {
    f["log"]["file"]
        .as_str()
        .or_else(|| f["details"]["file"].as_str())
        .or_else(|| f["processes"].as_array()?.first()?.get("file")?.as_str())
        .map(|s| base(s).to_string())
}

/// `log_level`: (file, level class) of every tee file against `sources.logs[].level` (handler
/// members and files the truth does not know are not scored). `log_level_filtered`: (file,
/// level class) of each file whose level kept out the line of at least one DB row, against
/// the findings (`details.level`). `log_level_filtered[rows]`: the ids of those rows against
/// the findings' `event_ids` (and `event_id`).
pub fn levels(t: &Truth, doc: &Value) -> BTreeMap<String, Tally> {
    let known: BTreeSet<&str> = t.files.iter().map(|f| f.name.as_str()).collect();
    let exp_level: BTreeSet<(String, String)> = t
        .files
        .iter()
        .map(|f| (f.name.clone(), class(f.level.as_str())))
        .collect();
    let got_level: BTreeSet<(String, String)> = sources(doc)
        .filter_map(|s| {
            let name = source_name(s)?;
            known
                .contains(name.as_str())
                .then(|| Some((name, class(s["level"].as_str()?))))
                .flatten()
        })
        .collect();
    let exp_files: BTreeSet<(String, String)> = t
        .files
        .iter()
        .filter(|f| f.filtered_rows > 0)
        .map(|f| (f.name.clone(), class(f.level.as_str())))
        .collect();
    let got_files: BTreeSet<(String, String)> = findings(doc, "log_level_filtered")
        .filter_map(|f| {
            Some((
                finding_file(f)?,
                class(f["details"]["level"].as_str().unwrap_or("?")),
            ))
        })
        .collect();
    let exp_rows: BTreeSet<i64> = t.filtered_by_level.iter().copied().collect();
    let got_rows: BTreeSet<i64> = findings(doc, "log_level_filtered").flat_map(ids).collect();
    BTreeMap::from([
        ("log_level".to_string(), Tally::of(exp_level, got_level)),
        (
            "log_level_filtered".to_string(),
            Tally::of(exp_files, got_files),
        ),
        (
            "log_level_filtered[rows]".to_string(),
            Tally::of(exp_rows, got_rows),
        ),
    ])
}
