//! `LOG_LEVEL` (`--fault log-level=[N:]LEVEL`), end to end: a process at WARNING writes no
//! INFO or DEBUG record to either copy, the rows whose line it kept out are
//! `filtered_by_level` and not `missing_in_log`, and its edges are not clean.

mod common;

use std::collections::{BTreeSet, HashMap};

use audit_gen::truth::parse_us;
use audit_gen::{Ending, HandlerCopy, Level, Params, Scenario, Truth, generate, score};
use common::*;
use serde_json::{Value, json};

fn params(seed: u64) -> Params {
    let mut p = Params::new(seed);
    p.chatter_bytes = 500 << 10;
    p.handler = Some(HandlerCopy {
        max_bytes: 300 << 10,
        backups: 20,
        gzip_from: Some(2),
    });
    p
}

fn levels_of(recs: &[Vec<u8>]) -> BTreeSet<String> {
    recs.iter().map(|r| level(r)).collect()
}

#[test]
fn a_warning_process_writes_no_info_record_and_its_rows_are_filtered_not_lost() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let p = params(4);
    let f = faults(&[
        "log-level=2:WARNING",
        "lost-log-lines=30",
        "lost-db-batch=2",
        "duplicates=2",
    ]);
    let s = Scenario::plan(&p, &f).unwrap();
    let t = generate(&s, &dir).unwrap().truth;
    let tee = tee_records(&dir, &t);

    // Process 1 writes every level; process 2 only WARNING and ERROR.
    assert_eq!(
        levels_of(&tee[0].1),
        BTreeSet::from(["DEBUG", "INFO", "WARNING", "ERROR"].map(String::from))
    );
    assert_eq!(
        levels_of(&tee[1].1),
        BTreeSet::from(["WARNING", "ERROR"].map(String::from))
    );
    assert_eq!(t.files[0].level, Level::Debug);
    assert_eq!(t.files[1].level, Level::Warning);
    assert!(t.files[1].filtered_records > 1000);
    assert_eq!(t.files[0].filtered_records, 0);
    // No lock line: its file starts with its first record written, not a clean start.
    assert!(t.files[0].clean_start && t.files[0].clean_stop);
    assert!(!t.files[1].clean_start && !t.files[1].clean_stop);
    let text = String::from_utf8_lossy(&read(&dir.join("monitoring_logs").join(&t.files[1].name)))
        .into_owned();
    assert!(!text.contains("Lock acquired") && !text.contains("EventLogger flushing"));
    // Its start is its first record written (hosts at +04:00, exact clocks).
    let first_us = (naive_ms(&tee[1].1[0]) - 4 * 3_600_000) * 1000;
    assert_eq!(parse_us(&t.files[1].start_utc), Some(first_us));
    assert!(first_us > parse_us(&s.processes[1].start.to_rfc3339()).unwrap() + 1_000_000);

    // The handler copy is filtered alike: the same records as the tee files.
    let handler: Vec<Vec<u8>> = members(&dir, &t)
        .iter()
        .flat_map(|(_, b)| records(b))
        .collect();
    let tee_all: Vec<Vec<u8>> = tee.iter().flat_map(|(_, r)| r.clone()).collect();
    assert_eq!(multiset(&handler), multiset(&tee_all));

    // The filtered rows: every INFO (and CRITICAL) row process 2 wrote, none missing_in_log.
    let p2 = parse_us(&s.processes[1].start.to_rfc3339()).unwrap();
    let want: BTreeSet<i64> = rows(&dir)
        .into_iter()
        .filter(|(_, sev, at)| *at >= p2 && (sev == "INFO" || sev == "CRITICAL"))
        .map(|(id, ..)| id)
        .collect();
    let got: BTreeSet<i64> = t.filtered_by_level.iter().copied().collect();
    assert!(want.len() > 1000);
    assert_eq!(got, want);
    assert_eq!(t.files[1].filtered_rows as usize, want.len());
    assert_eq!(t.counts.filtered_by_level as usize, want.len());
    let missing: BTreeSet<i64> = t.missing_in_log.iter().map(|r| r.id).collect();
    assert!(got.is_disjoint(&missing));
    // Lost lines were picked among lines that would be written: all 30 exist.
    assert_eq!(t.counts.lost_log_lines, 30);
    assert_eq!(t.counts.duplicates, 2);
    // A line without a row is listed only when it was written.
    for l in &t.missing_in_db {
        assert!(l.line > 0);
    }
}

#[test]
fn a_process_stopped_cleanly_at_warning_has_no_clean_stop() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = params(6);
    p.handler = None;
    let s = Scenario::plan(&p, &faults(&["log-level=1:WARNING", "lost-log-lines=10"])).unwrap();
    let t = generate(&s, &tmp.path().join("s")).unwrap().truth;
    assert_eq!(t.files[0].ending, Ending::Clean);
    assert!(!t.files[0].clean_start && !t.files[0].clean_stop);
    assert!(t.files[1].clean_start);
    // Its file ends with its last record written, before the (INFO) shutdown records.
    let end = parse_us(&t.files[0].end_utc).unwrap();
    assert!(end < parse_us(&s.processes[0].end.to_rfc3339()).unwrap());
    assert!(t.missing_in_log.iter().all(|r| r.covered));
}

#[test]
fn error_level_and_every_process() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = params(8);
    p.handler = None;
    let t = generate(
        &Scenario::plan(&p, &faults(&["log-level=ERROR", "lost-log-lines=5"])).unwrap(),
        &tmp.path().join("s"),
    )
    .unwrap()
    .truth;
    for (name, recs) in tee_records(&tmp.path().join("s"), &t) {
        assert_eq!(
            levels_of(&recs),
            BTreeSet::from(["ERROR".to_string()]),
            "{name}"
        );
    }
    // Every row but the ERROR ones is filtered.
    let errors = rows(&tmp.path().join("s"))
        .iter()
        .filter(|(_, sev, _)| sev == "ERROR")
        .count() as u64;
    assert_eq!(t.counts.filtered_by_level + errors, t.counts.db_rows);
    // Fewer ERROR lines than asked to lose: only those that would be written are lost.
    assert!(t.counts.lost_log_lines <= errors);
}

/// A document reporting the truth's levels (DEBUG files as INFO, the product's view) and a
/// `log_level_filtered` finding for the one file whose level kept rows out.
fn doc_of(t: &Truth) -> Value {
    let logs: Vec<Value> = t
        .files
        .iter()
        .map(|f| {
            let level = if f.level == Level::Debug {
                "INFO"
            } else {
                f.level.as_str()
            };
            json!({ "name": f.name, "level": level })
        })
        .collect();
    let mut findings = Vec::new();
    let with_rows: Vec<_> = t.files.iter().filter(|f| f.filtered_rows > 0).collect();
    assert_eq!(with_rows.len(), 1);
    for f in with_rows {
        let ids = &t.filtered_by_level;
        findings.push(json!({
            "kind": "log_level_filtered", "severity": "info",
            "log": { "file": f.name, "line": 1 },
            "event_ids": ids,
            "details": { "level": f.level.as_str(), "rows": ids.len(), "by_type": {} }
        }));
    }
    json!({ "sources": { "logs": logs }, "findings": findings })
}

fn tallies(
    m: &std::collections::BTreeMap<String, score::Tally>,
) -> HashMap<String, (usize, usize, usize)> {
    m.iter()
        .map(|(k, t)| (k.clone(), (t.tp, t.fp, t.fn_)))
        .collect()
}

#[test]
fn levels_scores_the_truth_perfectly_and_finds_what_is_off() {
    let tmp = tempfile::tempdir().unwrap();
    let mut p = params(4);
    p.handler = None;
    let t = generate(
        &Scenario::plan(&p, &faults(&["log-level=INFO", "log-level=2:WARNING"])).unwrap(),
        &tmp.path().join("s"),
    )
    .unwrap()
    .truth;
    let n = t.filtered_by_level.len();
    let doc = doc_of(&t);
    let s = tallies(&score::levels(&t, &doc));
    assert_eq!(s["log_level"], (2, 0, 0));
    assert_eq!(s["log_level_filtered"], (1, 0, 0));
    assert_eq!(s["log_level_filtered[rows]"], (n, 0, 0));
    // missing-logs expects none of them.
    let s = tallies(&score::missing_logs(&t, &json!({ "findings": [] })));
    assert_eq!(s["missing_in_log"], (0, 0, 0));

    // Process 2 read as INFO, one row left out, one row of process 1 claimed.
    let mut bad = doc.clone();
    bad["sources"]["logs"][1]["level"] = json!("INFO");
    let ids = bad["findings"][0]["event_ids"].as_array_mut().unwrap();
    ids.remove(0);
    ids.push(json!(1));
    bad["findings"][0]["details"]["level"] = json!("ERROR");
    let s = tallies(&score::levels(&t, &bad));
    assert_eq!(s["log_level"], (1, 1, 1));
    assert_eq!(s["log_level_filtered"], (0, 1, 1));
    assert_eq!(s["log_level_filtered[rows]"], (n - 1, 1, 1));
}

#[test]
fn the_levels_suite_generates_what_it_says() {
    let tmp = tempfile::tempdir().unwrap();
    for (k, c) in score::levels_suite().into_iter().enumerate() {
        let s = Scenario::plan(&c.params, &c.faults).unwrap();
        let t = generate(&s, &tmp.path().join(format!("l{k}")))
            .unwrap()
            .truth;
        let levels: Vec<Level> = t.files.iter().map(|f| f.level).collect();
        let want = match k {
            0 => vec![Level::Info, Level::Warning, Level::Info],
            1 => vec![Level::Warning, Level::Warning],
            _ => vec![Level::Error, Level::Info],
        };
        assert_eq!(levels, want, "{}", c.name);
        let lost = t.counts.lost_log_lines as f64
            / (t.counts.log_event_lines + t.counts.lost_log_lines) as f64;
        assert!((0.02..0.045).contains(&lost), "{}: {lost}", c.name);
        assert!(t.counts.lost_db_batches >= 14, "{}", c.name);
        assert!(!t.filtered_by_level.is_empty(), "{}", c.name);
        let filtered: BTreeSet<i64> = t.filtered_by_level.iter().copied().collect();
        assert!(
            t.missing_in_log.iter().all(|r| !filtered.contains(&r.id)),
            "{}",
            c.name
        );
    }
}
