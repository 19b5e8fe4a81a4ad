//! Accuracy of the checks against ground truth: the scenarios of `audit_gen::score::suite`
//! (each fault alone, then all together) are generated once, every check runs on each through
//! the real binary (`--format json`, no window, default parameters), and its findings are
//! scored against truth.json per finding kind. Every kind must reach recall 100 % and
//! precision ≥ 99 % over the whole suite. `just accuracy` writes the same numbers to
//! docs/accuracy.md.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::OnceLock;

use audit_gen::score::{self, Tally};
use audit_gen::{Scenario, Truth, generate};

use crate::support::scenario::check;

pub struct Case {
    pub name: &'static str,
    pub dir: PathBuf,
    pub truth: Truth,
}

/// The suite's scenarios, generated once per test process.
pub fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        let root = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("accuracy");
        score::suite()
            .into_iter()
            .map(|c| {
                let dir = root.join(c.name);
                let s = Scenario::plan(&c.params, &c.faults)
                    .unwrap_or_else(|e| panic!("{}: {e}", c.name));
                let out = generate(&s, &dir).unwrap_or_else(|e| panic!("{}: {e}", c.name));
                Case {
                    name: c.name,
                    dir,
                    truth: out.truth,
                }
            })
            .collect()
    })
}

/// One finding kind over the suite: the total and each scenario's share.
#[derive(Default)]
struct Scored {
    total: Tally,
    per_case: Vec<(&'static str, Tally)>,
}

type Results = BTreeMap<String, Scored>;

/// Runs `check` on every scenario (once per test process) and scores it.
fn results(check_name: &'static str) -> &'static Results {
    static CACHE: [OnceLock<Results>; 4] = [const { OnceLock::new() }; 4];
    let k = score::CHECKS
        .iter()
        .position(|c| *c == check_name)
        .expect("a scored check");
    CACHE[k].get_or_init(|| {
        let mut out: Results = BTreeMap::new();
        for c in cases() {
            let doc = check(check_name, &c.dir, &[]);
            for (kind, t) in score::score(check_name, &c.truth, &doc) {
                let s = out.entry(kind).or_default();
                s.total.add(&t, c.name);
                s.per_case.push((c.name, t));
            }
        }
        out
    })
}

fn describe(kind: &str, s: &Scored) -> String {
    let t = &s.total;
    let mut m = format!(
        "{kind}: TP {} FP {} FN {} precision {:.2} % recall {:.2} %\n",
        t.tp,
        t.fp,
        t.fn_,
        100.0 * t.precision(),
        100.0 * t.recall()
    );
    for (name, c) in &s.per_case {
        if c.fp + c.fn_ > 0 {
            let _ = writeln!(
                m,
                "  {name}: TP {} FP {} FN {}; FP e.g. {:?}; FN e.g. {:?}",
                c.tp, c.fp, c.fn_, c.fp_examples, c.fn_examples
            );
        }
    }
    m
}

/// Recall 100 %, precision ≥ 99 % for `kind` of `check_name` over every scenario.
fn assert_accurate(check_name: &'static str, kind: &str) {
    let r = results(check_name);
    let s = r
        .get(kind)
        .unwrap_or_else(|| panic!("{check_name} has no scored kind {kind}"));
    let text = describe(kind, s);
    eprintln!("{check_name} {text}");
    assert!(
        s.total.tp > 0,
        "{check_name} {kind}: the suite injects nothing to find"
    );
    assert!(
        s.total.recall() == 1.0 && s.total.precision() >= 0.99,
        "{check_name} {text}"
    );
}

#[test]
fn missing_logs_finds_rows_without_log_lines() {
    assert_accurate("missing-logs", "missing_in_log");
}

#[test]
fn missing_logs_finds_rows_written_without_log_coverage() {
    assert_accurate("missing-logs", "no_log_coverage");
}

#[test]
fn missing_logs_finds_log_lines_without_rows() {
    assert_accurate("missing-logs", "missing_in_db");
}

#[test]
fn duplicates_finds_every_injected_duplicate_and_nothing_else() {
    assert_accurate("duplicates", "duplicate_event");
}

#[test]
fn inversions_finds_every_pair_whose_orders_disagree() {
    assert_accurate("inversions", "correlation_inversion");
}

#[test]
fn inversions_calls_multiple_writers_what_two_writers_wrote() {
    assert_accurate("inversions", "correlation_inversion[multiple_writers]");
}

#[test]
fn lifetimes_finds_overlapping_processes() {
    assert_accurate("lifetimes", "process_overlap");
}

#[test]
fn lifetimes_finds_the_gaps_between_processes() {
    assert_accurate("lifetimes", "process_gap");
}

#[test]
fn lifetimes_finds_rows_no_known_process_wrote() {
    assert_accurate("lifetimes", "unattributed_activity");
}

#[test]
fn the_suite_injects_what_it_says() {
    for c in cases() {
        let t = &c.truth;
        let f = &t.faults;
        assert_eq!(
            t.counts.lost_log_lines as usize, f.lost_log_lines,
            "{}",
            c.name
        );
        assert_eq!(
            t.counts.lost_db_batches as usize, f.lost_db_batches,
            "{}",
            c.name
        );
        assert_eq!(t.counts.duplicates as usize, f.duplicates, "{}", c.name);
        assert_eq!(t.duplicates.len(), f.duplicates, "{}", c.name);
        assert_eq!(t.batch_failures.len(), f.lost_db_batches, "{}", c.name);
        assert_eq!(!t.overlaps.is_empty(), f.overlap, "{}", c.name);
        assert_eq!(!t.ghost_rows.is_empty(), f.ghost_writer, "{}", c.name);
        assert_eq!(!t.unattributed.is_empty(), f.ghost_writer, "{}", c.name);
        assert_eq!(
            t.files.iter().any(|x| x.offsets.len() > 1),
            f.offset_change,
            "{}",
            c.name
        );
    }
}
