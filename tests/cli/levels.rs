//! What a log can hold: a bot run at `LOG_LEVEL=WARNING` (or ERROR) writes no INFO event
//! line and no lock line (`audit_gen::score::levels_suite`). Each scenario is checked through
//! the real binary and scored against the generator's truth: the rows a level kept out are one
//! `log_level_filtered` finding per file, never `missing_in_log`; the real losses are found
//! exactly, both ways; no process gap, overlap or foreign writer is made of the absent lines.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

use audit_gen::Truth;
use audit_gen::score::{self, Tally};
use serde_json::Value;

use crate::support::scenario::{check, write_suite};
use crate::support::{audit, path_str};

struct Case {
    name: &'static str,
    dir: PathBuf,
    truth: Truth,
    doc: Value,
}

fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        write_suite("levels", score::levels_suite())
            .into_iter()
            .map(|w| Case {
                name: w.name,
                doc: check("check", &w.dir, &[]),
                dir: w.dir,
                truth: w.truth,
            })
            .collect()
    })
}

fn case(prefix: &str) -> &'static Case {
    cases()
        .iter()
        .find(|c| c.name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no scenario {prefix} in levels_suite"))
}

fn kinds(doc: &Value, kind: &str) -> usize {
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["kind"] == kind)
        .count()
}

fn assert_exact(name: &str, t: &BTreeMap<String, Tally>) {
    for (k, tally) in t {
        assert!(
            tally.recall() == 1.0 && tally.precision() >= 0.99,
            "{name}: {k}: {tally:?}"
        );
    }
}

#[test]
fn the_suite_covers_one_file_all_files_and_error_level() {
    let cs = cases();
    assert_eq!(cs.len(), 3);
    let above = |c: &Case| c.truth.files.iter().filter(|f| f.filtered_rows > 0).count();
    assert_eq!(above(case("level-one-warning")), 1);
    assert!(case("level-one-warning").truth.files.len() >= 3);
    assert_eq!(
        above(case("level-all-warning")),
        case("level-all-warning").truth.files.len()
    );
    assert!(
        case("level-error")
            .truth
            .files
            .iter()
            .any(|f| f.level.as_str() == "ERROR" && f.filtered_rows > 0)
    );
    for c in cs {
        assert!(
            !c.truth.missing_in_log.is_empty(),
            "{}: no real loss",
            c.name
        );
        assert!(
            !c.truth.missing_in_db.is_empty(),
            "{}: no real loss",
            c.name
        );
    }
}

#[test]
fn every_level_is_told_and_its_rows_are_filtered_not_missing() {
    for c in cases() {
        assert_exact(c.name, &score::levels(&c.truth, &c.doc));
        assert_exact(c.name, &score::missing_logs(&c.truth, &c.doc));
        // One finding per file whose level kept rows out, and info.
        let files = c.truth.files.iter().filter(|f| f.filtered_rows > 0).count();
        assert_eq!(kinds(&c.doc, "log_level_filtered"), files, "{}", c.name);
        for f in c.doc["findings"].as_array().unwrap() {
            if f["kind"] == "log_level_filtered" {
                assert_eq!(f["severity"], "info");
                let n = f["event_ids"].as_array().unwrap().len() as u64;
                assert_eq!(f["details"]["rows"], n);
                let by_type: u64 = f["details"]["by_type"]
                    .as_object()
                    .unwrap()
                    .values()
                    .map(|v| v.as_u64().unwrap())
                    .sum();
                assert_eq!(by_type, n, "{}", c.name);
            }
        }
    }
}

#[test]
fn no_gap_overlap_or_foreign_writer_is_made_of_the_absent_lines() {
    for c in cases() {
        assert_exact(c.name, &score::lifetimes(&c.truth, &c.doc));
    }
}

#[test]
fn the_summary_keeps_a_setting_apart_from_a_loss() {
    let c = case("level-one-warning");
    let doc = check("missing-logs", &c.dir, &[]);
    let total = &doc["summary"]["aligned"]["total"];
    let filtered = c.truth.filtered_by_level.len() as u64;
    assert_eq!(total["filtered_by_level"], filtered, "{total}");
    assert_eq!(
        total["missing_in_log"],
        c.truth.missing_in_log.len() as u64,
        "{total}"
    );
}

#[test]
fn a_level_given_against_the_records_wins_and_says_so() {
    let c = case("level-one-warning");
    let warned = c
        .truth
        .files
        .iter()
        .find(|f| f.filtered_rows > 0)
        .expect("a WARNING file");
    // Pinned at INFO, the WARNING file's INFO rows are judged as lost: the flag wins.
    let mut cmd = audit();
    cmd.args(["check", "--events"])
        .arg(c.dir.join("events.csv"))
        .arg("--logs")
        .arg(c.dir.join("monitoring_logs"))
        .args(["--log-level", &format!("{}=INFO", warned.name)])
        .args(["--format", "json"]);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", path_str(&c.dir));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.lines().any(|l| l.starts_with("warning: ")
            && l.contains(&warned.name)
            && l.contains("says INFO")
            && l.contains("the flag wins")),
        "{stderr}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let log = doc["sources"]["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == warned.name.as_str())
        .unwrap();
    assert_eq!(log["level"], "INFO");
    assert_eq!(kinds(&doc, "log_level_filtered"), 0);
    // Every row the level explained is judged again: those inside the file's records are
    // missing now; those just outside them (`at_edges`) are outside any file's coverage.
    let explained = c.doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "log_level_filtered")
        .unwrap();
    let edges = explained["details"]["at_edges"].as_u64().unwrap();
    assert_eq!(explained["details"]["rows"], warned.filtered_rows);
    assert_eq!(
        kinds(&doc, "missing_in_log") as u64,
        kinds(&c.doc, "missing_in_log") as u64 + warned.filtered_rows - edges,
    );
    // Inferred, the banner says the level and its evidence.
    let mut cmd = audit();
    cmd.args(["missing-logs", "--events"])
        .arg(c.dir.join("events.csv"))
        .arg("--logs")
        .arg(c.dir.join("monitoring_logs"));
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.lines().any(|l| l.starts_with(&format!(
            "level: {}: logging level WARNING (inferred: 0 INFO among",
            warned.name
        ))),
        "{stderr}"
    );
}
