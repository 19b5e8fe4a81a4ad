//! One stream, many files: the tee copy (`monitoring_logs/bot_*.log`, one per start) and the
//! RotatingFileHandler copy (`logs/trading_bot.log`, rolled into `.1` … `.N`, old members
//! gzipped) of the same records (`audit_gen::score::copies_suite`). Each scenario is checked
//! through the real binary with the tee files alone, the handler copy alone and both, and
//! scored against the generator's truth: a record counts once, copies are named, and a
//! stretch one copy lost is one `log_copy_gap`, never missing lines.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use audit_gen::Truth;
use audit_gen::score::{self, Tally};
use serde_json::Value;

use crate::support::scenario::{check_logs, write_suite};

const TEE: &[&str] = &["monitoring_logs"];
const HANDLER: &[&str] = &["logs"];
const BOTH: &[&str] = &["monitoring_logs", "logs"];

struct Case {
    name: &'static str,
    truth: Truth,
    tee: Value,
    handler: Value,
    both: Value,
}

fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        write_suite("copies", score::copies_suite())
            .into_iter()
            .map(|w| Case {
                name: w.name,
                tee: check_logs("check", &w.dir, TEE, &[]),
                handler: check_logs("check", &w.dir, HANDLER, &[]),
                both: check_logs("check", &w.dir, BOTH, &[]),
                truth: w.truth,
            })
            .collect()
    })
}

fn case(prefix: &str) -> &'static Case {
    cases()
        .iter()
        .find(|c| c.name.starts_with(prefix))
        .unwrap_or_else(|| panic!("no scenario {prefix} in copies_suite"))
}

fn findings<'a>(doc: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |f| f["kind"] == kind)
}

/// (kind, severity, fingerprint) of every finding.
fn identities(doc: &Value) -> BTreeSet<(String, String, String)> {
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["kind"].as_str().unwrap_or_default().to_string(),
                f["severity"].as_str().unwrap_or_default().to_string(),
                f["fingerprint"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Ids a kind of finding names.
fn ids(doc: &Value, kind: &str) -> BTreeSet<i64> {
    findings(doc, kind)
        .filter_map(|f| f["event_id"].as_i64())
        .collect()
}

fn assert_exact(name: &str, what: &str, t: &BTreeMap<String, Tally>) {
    for (k, tally) in t {
        assert!(
            tally.recall() == 1.0 && tally.precision() >= 0.99,
            "{name} ({what}): {k}: {tally:?}"
        );
    }
}

#[test]
fn the_suite_has_its_three_worlds() {
    // What the tests below stand on: rotation with gzipped members, and a gap in each copy.
    let cs = cases();
    assert_eq!(cs.len(), 3);
    let rotated = case("copies-rotated");
    assert!(
        rotated.truth.handler_files.len() >= 4,
        "{:?}",
        rotated.truth.handler_files
    );
    assert!(
        rotated
            .truth
            .handler_files
            .iter()
            .any(|f| f.ends_with(".gz"))
    );
    assert!(rotated.truth.copy_gaps.is_empty());
    assert_eq!(case("copies-tee-gap").truth.copy_gaps.len(), 1);
    assert_eq!(case("copies-handler-gap").truth.copy_gaps.len(), 1);
}

#[test]
fn both_directories_give_the_per_process_answer_with_the_same_fingerprints() {
    let c = case("copies-rotated");
    let (tee, both) = (identities(&c.tee), identities(&c.both));
    assert!(!tee.is_empty());
    assert_eq!(
        tee.symmetric_difference(&both).collect::<Vec<_>>(),
        Vec::<&(String, String, String)>::new(),
        "tee alone and both copies disagree"
    );
    // The evidence names the primary copy and cites the other under `logs`.
    let cited = findings(&c.both, "missing_in_db")
        .chain(findings(&c.both, "correlation_inversion"))
        .chain(findings(&c.both, "process_overlap"))
        .filter(|f| {
            f["logs"].as_array().into_iter().flatten().any(|l| {
                l["copy"] == true
                    && l["file"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with("trading_bot.log")
            })
        })
        .count();
    assert!(cited > 0, "no finding cites the handler copy of its lines");
    for f in c.both["findings"].as_array().unwrap() {
        if let Some(l) = f["log"].as_object() {
            assert!(
                l["file"].as_str().unwrap().starts_with("bot_"),
                "a finding's own line is in the copy, not the primary: {f}"
            );
        }
    }
}

#[test]
fn every_copy_is_named_both_ways() {
    for c in cases() {
        for doc in [&c.both] {
            let t = score::copies(&c.truth, doc);
            for k in ["copy_of", "copies"] {
                let tally = &t[k];
                assert!(
                    tally.recall() == 1.0 && tally.precision() == 1.0,
                    "{}: {k}: {tally:?}",
                    c.name
                );
            }
        }
        // One copy alone names no copies.
        for doc in [&c.tee, &c.handler] {
            for s in doc["sources"]["logs"].as_array().unwrap() {
                assert!(
                    s.get("copy_of").is_none() && s.get("copies").is_none(),
                    "{}: {s}",
                    c.name
                );
            }
        }
    }
}

#[test]
fn the_handler_copy_alone_gives_the_same_missing_rows_and_no_invented_overlap() {
    // Whole, the handler copy alone gives the truth: rolled members continue one another (a
    // row at a roll is judged), gzipped members are read in their place.
    let c = case("copies-tee-gap");
    assert_exact(
        c.name,
        "handler alone",
        &score::missing_logs(&c.truth, &c.handler),
    );
    assert!(findings(&c.handler, "process_overlap").next().is_none());
    assert!(findings(&c.handler, "log_copy_gap").next().is_none());

    // With two processes writing one rotation set at once, its rows cannot all be told
    // apart: it may not accuse what the tee files accuse, but it says so (no_log_coverage),
    // never invents a missing row, and invents no overlap.
    let c = case("copies-rotated");
    for kind in ["missing_in_log", "missing_in_db"] {
        let (h, t) = (ids(&c.handler, kind), ids(&c.tee, kind));
        assert!(h.is_subset(&t), "{kind}: {:?}", h.difference(&t));
        let said: BTreeSet<i64> = findings(&c.handler, "no_log_coverage")
            .flat_map(|f| f["event_ids"].as_array().cloned().unwrap_or_default())
            .filter_map(|v| v.as_i64())
            .collect();
        let unsaid: Vec<&i64> = t.difference(&h).filter(|id| !said.contains(id)).collect();
        assert!(unsaid.is_empty(), "{kind}: dropped silently: {unsaid:?}");
        assert!(t.difference(&h).count() <= 2, "{kind}");
    }
    assert!(findings(&c.handler, "process_overlap").count() <= c.truth.overlaps.len());
    // Gzipped members were read, in order, as copies of the tee files.
    let gz: Vec<&Value> = c.both["sources"]["logs"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["gzip"] == true)
        .collect();
    assert!(!gz.is_empty());
    assert!(
        gz.iter()
            .all(|s| s["copy_of"].as_array().is_some_and(|a| !a.is_empty()))
    );
}

#[test]
fn a_copy_that_lost_ten_minutes_is_one_gap_and_no_missing_line() {
    for prefix in ["copies-tee-gap", "copies-handler-gap"] {
        let c = case(prefix);
        let gaps: Vec<&Value> = findings(&c.both, "log_copy_gap").collect();
        assert_eq!(gaps.len(), 1, "{}: {gaps:#?}", c.name);
        assert_eq!(gaps[0]["severity"], "low");
        let t = score::copies(&c.truth, &c.both);
        let g = &t["log_copy_gap"];
        assert_eq!((g.tp, g.fp, g.fn_), (1, 0, 0), "{}: {g:?}", c.name);
        // The records of the gap are read from the copy that has them: every missing line and
        // row is the truth's, both ways.
        assert_exact(
            c.name,
            "both copies",
            &score::missing_logs(&c.truth, &c.both),
        );
        // And the process is one, whole, with no gap or overlap made up at the hole.
        let lt = score::lifetimes(&c.truth, &c.both);
        for (k, tally) in &lt {
            assert_eq!((tally.fn_, tally.fp), (0, 0), "{}: {k}: {tally:?}", c.name);
        }
        assert!(findings(&c.both, "unattributed_activity").next().is_none());
    }
}

#[test]
fn a_gap_in_the_handler_copy_changes_nothing_else() {
    // The tee files are whole: what both copies give is what they give, plus the gap.
    let c = case("copies-handler-gap");
    let tee = identities(&c.tee);
    let mut both = identities(&c.both);
    both.retain(|f| f.0 != "log_copy_gap");
    assert_eq!(tee, both);
}
