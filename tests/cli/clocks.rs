//! Real clocks, drawn across their ranges rather than picked: log hosts off by −10 s … +10 s,
//! drifting −50 … +50 ppm, with millisecond jitter; NTP steps of either sign from 0.5 s to
//! 5 s anywhere in a file, sometimes two; a DB server stamping `created_at` up to 2 s away
//! with its own drift; 2–5 % of log lines and about 1 % of batches lost
//! (`audit_gen::score::clock_suite`), and a database that was down for a whole process. Each
//! scenario goes through the real binary (`audit check --format json`, no flags, nothing
//! pinned) and is scored against the generator's truth: `missing-logs` exact both ways, every
//! file's offset within 5 ms of the truth over all its segments, every step found within 1 s.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use audit_gen::Truth;
use audit_gen::score::{self, Tally};
use serde_json::Value;

use crate::support::scenario::{check, write_suite};

/// Drawn scenarios (plus the fixed database-down one): enough to spread over the ranges, few
/// enough for a test run.
const DRAWN: usize = 40;
/// The draw's seed: fixed, so a failure is a scenario anyone can generate again
/// (`audit_gen::score::clock_suite(SEED, DRAWN)`).
const SEED: u64 = 2026;

struct Case {
    name: &'static str,
    truth: Truth,
    doc: Value,
}

/// Every case generated and checked once per test process.
fn cases() -> &'static [Case] {
    static CASES: OnceLock<Vec<Case>> = OnceLock::new();
    CASES.get_or_init(|| {
        write_suite("clocks", score::clock_suite(SEED, DRAWN))
            .into_iter()
            .map(|w| Case {
                name: w.name,
                doc: check("check", &w.dir, &[]),
                truth: w.truth,
            })
            .collect()
    })
}

#[test]
fn the_draw_covers_the_ranges() {
    // What the suite promises to exercise, read back from the truth of what was generated.
    let cs = cases();
    assert_eq!(cs.len(), DRAWN + 1);
    let mut offsets: Vec<f64> = Vec::new();
    let mut drifts: Vec<f64> = Vec::new();
    let mut steps: Vec<f64> = Vec::new();
    for c in cs {
        for f in &c.truth.files {
            for s in &f.clock.segments {
                // The part of the offset that is not a whole quarter hour.
                let q = (s.offset_start_s / 900.0).round() * 900.0;
                offsets.push(s.offset_start_s - q);
                drifts.push(s.drift_ppm);
            }
            steps.extend(
                f.clock
                    .steps
                    .iter()
                    .map(|s| s.after_s - s.before_s)
                    .filter(|d| d.abs() < 600.0),
            );
        }
    }
    let span = |v: &[f64]| {
        (
            v.iter().copied().fold(f64::INFINITY, f64::min),
            v.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        )
    };
    let (lo, hi) = span(&offsets);
    assert!(lo < -4.0 && hi > 4.0, "offsets off the zone {lo} .. {hi} s");
    let (lo, hi) = span(&drifts);
    assert!(lo < -20.0 && hi > 20.0, "drifts {lo} .. {hi} ppm");
    assert!(
        steps.iter().any(|s| *s < -0.4) && steps.iter().any(|s| *s > 0.4),
        "{steps:?}"
    );
    assert!(steps.len() >= 4, "{} steps", steps.len());
}

#[test]
fn missing_logs_is_exact_both_ways_on_real_clocks() {
    let mut total: BTreeMap<String, Tally> = BTreeMap::new();
    for c in cases() {
        for (kind, t) in score::missing_logs(&c.truth, &c.doc) {
            total.entry(kind).or_default().add(&t, c.name);
        }
    }
    let mut report = String::new();
    for (kind, t) in &total {
        report.push_str(&format!(
            "{kind}: TP {} FP {} FN {} precision {:.2} % recall {:.2} %; FP e.g. {:?}; FN e.g. {:?}\n",
            t.tp,
            t.fp,
            t.fn_,
            t.precision() * 100.0,
            t.recall() * 100.0,
            t.fp_examples,
            t.fn_examples
        ));
    }
    for kind in ["missing_in_log", "missing_in_db", "no_db_coverage"] {
        let t = &total[kind];
        assert!(
            t.tp > 0,
            "{kind}: the suite injects nothing to find\n{report}"
        );
        assert_eq!(t.recall(), 1.0, "{kind}: recall\n{report}");
        assert!(t.precision() >= 0.99, "{kind}: precision\n{report}");
    }
}

#[test]
fn every_files_offset_is_within_5_ms_and_every_step_is_found_within_1_s() {
    let mut steps = 0;
    let mut failures: Vec<String> = Vec::new();
    for c in cases() {
        let s = score::clock(&c.truth, &c.doc);
        if !s.unestimated.is_empty() {
            failures.push(format!("{}: no clock for {:?}", c.name, s.unestimated));
        }
        if s.max_error_ms > 5.0 {
            failures.push(format!(
                "{}: an offset {:.1} ms off the truth: {:?}",
                c.name,
                s.max_error_ms,
                s.files
                    .iter()
                    .map(|f| (&f.file, f.max_error_ms, &f.worst_at_utc))
                    .collect::<Vec<_>>()
            ));
        }
        if (s.steps_missed, s.steps_extra) != (0, 0) {
            failures.push(format!(
                "{}: steps missed {:?}, invented {:?}",
                c.name,
                s.files
                    .iter()
                    .flat_map(|f| f.missed_examples.iter())
                    .collect::<Vec<_>>(),
                s.files
                    .iter()
                    .flat_map(|f| f.extra_examples.iter())
                    .collect::<Vec<_>>()
            ));
        }
        steps += s.steps_found;
        // Each step is one clock_offset_change finding of its file, at the step's line.
        for f in &c.truth.files {
            let lines: Vec<u64> = c.doc["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|x| {
                    x["kind"] == "clock_offset_change" && x["log"]["file"] == f.name.as_str()
                })
                .map(|x| x["log"]["line"].as_u64().unwrap())
                .collect();
            let reported: Vec<u64> = c.doc["clock"][f.name.as_str()]["steps"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|x| x["line"].as_u64().unwrap())
                .collect();
            if lines != reported || lines.len() != f.clock.steps.len() {
                failures.push(format!(
                    "{}: {}: findings at {lines:?}, clock steps at {reported:?}, {} true",
                    c.name,
                    f.name,
                    f.clock.steps.len()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases:\n{}",
        failures.len(),
        cases().len(),
        failures.join("\n")
    );
    assert!(steps >= 4, "only {steps} steps in the suite");
}

#[test]
fn a_database_down_for_a_process_fails_the_gate_and_misjudges_nothing() {
    let c = cases().last().expect("the database-down case");
    assert!(c.name.contains("down"), "{}", c.name);
    let findings = c.doc["findings"].as_array().unwrap();
    let kinds = |k: &str| {
        findings
            .iter()
            .filter(|f| f["kind"] == k)
            .collect::<Vec<_>>()
    };
    // The process whose rows never reached the DB is on its host's clock, borrowed.
    let down = &c.truth.files.last().unwrap().name;
    let clock = &c.doc["clock"][down.as_str()];
    assert_eq!(clock["method"], "borrowed", "{clock}");
    assert!(kinds("clock_unsettled").is_empty());
    // Its lines are not thousands of lost rows: they are what the DB cannot answer for, and a
    // stretch that long fails the gate.
    let nodb = kinds("no_db_coverage");
    assert!(!nodb.is_empty());
    assert!(nodb.iter().any(|f| f["severity"] == "medium"));
    assert_eq!(c.doc["exit_code"], 1);
    // The downtime between the processes is the real one, not hours from a guessed clock.
    for g in kinds("process_gap") {
        let want = &c.truth.gaps;
        let secs = g["details"]["gap_s"].as_f64().unwrap();
        assert!(
            want.iter().any(|w| (w.seconds - secs).abs() < 1.0),
            "gap {secs} s, truth {:?}",
            want.iter().map(|w| w.seconds).collect::<Vec<_>>()
        );
    }
}

#[test]
fn the_clocks_accuse_nobody_else() {
    // Hosts seconds off a DB that is off too: a correlation epoch (the host's reading) is
    // placed with its host's clock before it is compared with created_at, and no process is
    // invented or lost. Only what was injected is at medium or above: lost lines and rows,
    // the DB's silence while it was down, and the steps themselves.
    let allowed = [
        "missing_in_log",
        "missing_in_db",
        "no_db_coverage",
        "clock_offset_change",
    ];
    let mut wrong: Vec<String> = Vec::new();
    for c in cases() {
        for f in c.doc["findings"].as_array().unwrap() {
            let kind = f["kind"].as_str().unwrap();
            let high = matches!(f["severity"].as_str(), Some("medium" | "high"));
            if (high && !allowed.contains(&kind)) || f["class"] == "clock_anomaly" {
                wrong.push(format!("{}: {kind} {}", c.name, f["explanation"]));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} false accusations:\n{}",
        wrong.len(),
        wrong[..wrong.len().min(8)].join("\n")
    );
}

#[test]
fn a_file_whose_clock_cannot_be_settled_is_said_not_judged_and_fails_the_gate() {
    // Another host's log (its own directory, no row of this DB, no UTC "now" in its lines):
    // nothing gives, detects or lends it a clock.
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    crate::support::scenario::generate(&a, &["--seed", "31", "--hours", "1"]);
    crate::support::scenario::generate(
        &b,
        &[
            "--seed",
            "32",
            "--hours",
            "1",
            "--start",
            "2025-10-18T03:20:00Z",
        ],
    );
    let other = a.join("other");
    std::fs::create_dir_all(&other).unwrap();
    let first = std::fs::read_dir(b.join("monitoring_logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .min()
        .unwrap();
    std::fs::copy(&first, other.join("host2_bot.log")).unwrap();
    let run = |cmd: &str| {
        let mut c = crate::support::audit();
        c.args([cmd, "--events"])
            .arg(a.join("events.csv"))
            .arg("--logs")
            .arg(a.join("monitoring_logs"))
            .arg("--logs")
            .arg(&other)
            .args(["--format", "json"]);
        crate::support::run(c)
    };
    let r = run("check");
    assert_eq!(r.code, 1, "{}", r.stderr);
    let doc: Value = serde_json::from_str(&r.stdout).unwrap();
    let findings = doc["findings"].as_array().unwrap();
    let unsettled: Vec<&Value> = findings
        .iter()
        .filter(|f| f["kind"] == "clock_unsettled")
        .collect();
    assert_eq!(unsettled.len(), 1, "{findings:#?}");
    assert_eq!(unsettled[0]["severity"], "high");
    assert_eq!(unsettled[0]["log"]["file"], "host2_bot.log");
    assert!(
        unsettled[0]["explanation"]
            .as_str()
            .unwrap()
            .contains("--log-tz 'host2_bot.log=")
    );
    assert_eq!(doc["clock"]["host2_bot.log"]["method"], "assumed");
    // Its lines are not judged on a guessed clock, and no downtime is judged near it.
    assert!(
        findings
            .iter()
            .all(|f| f["log"]["file"] != "host2_bot.log" || f["kind"] == "clock_unsettled")
    );
    assert!(
        findings
            .iter()
            .all(|f| f["kind"] != "process_gap" || f["severity"] == "info")
    );
    // A single-check command says the same on stderr.
    let r = run("missing-logs");
    assert!(
        r.stderr.contains("host2_bot.log") && r.stderr.contains("ASSUMED"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_zone_pinned_on_a_host_seconds_off_still_finds_its_twins() {
    // The host is 6.4 s fast and drifts: pinning its zone must not turn every twin into a
    // lost line (the seed's "60 % lost", measured in seconds). The zone is the user's; the
    // twins measure the rest.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let truth = crate::support::scenario::generate(
        dir,
        &[
            "--seed",
            "41",
            "--hours",
            "1",
            "--fault",
            "host-clock=6400,35,2",
            "--fault",
            "lost-log-lines=8",
            "--fault",
            "lost-db-batch=2",
        ],
    );
    for extra in [&[][..], &["--log-tz", "+04:00"][..]] {
        let doc = check("check", dir, extra);
        for (kind, t) in score::missing_logs(&truth, &doc) {
            if kind == "no_db_coverage" || kind == "no_log_coverage" {
                continue;
            }
            assert!(t.tp > 0, "{extra:?} {kind}: nothing injected");
            assert_eq!((t.fp, t.fn_), (0, 0), "{extra:?} {kind}: {t:?}");
        }
        let file = &truth.files[0].name;
        let c = &doc["clock"][file.as_str()];
        let want = if extra.is_empty() {
            "detected"
        } else {
            "given"
        };
        assert_eq!(c["method"], want, "{c}");
        // +04:00 and 6.4 s: the applied offset says both.
        assert!(
            c["offsets"][0].as_str().unwrap().starts_with("+04:00:06."),
            "{c}"
        );
    }
}
