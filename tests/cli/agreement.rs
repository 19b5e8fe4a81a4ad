//! One engine: a single-check command is `check` restricted to that check. On every scenario
//! of the accuracy suite and on the incident, with a `[check]` in audit.toml that is not the
//! default, each single-check command's JSON findings are exactly `check`'s findings of its
//! kinds: the same fingerprints, severities, explanations and evidence.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::accuracy::cases;
use crate::support::{audit_with_config, findings_json, incident, path_str};

/// Every single-check command and the finding kinds it reports.
const COMMANDS: [(&str, &[&str]); 5] = [
    ("skew", &["clock_offset_change"]),
    (
        "missing-logs",
        &["missing_in_log", "missing_in_db", "no_log_coverage"],
    ),
    ("inversions", &["correlation_inversion"]),
    (
        "lifetimes",
        &["process_overlap", "process_gap", "unattributed_activity"],
    ),
    ("duplicates", &["duplicate_event"]),
];

/// Not the defaults (2000, 60, 5000, 50): every threshold a check reads is moved (a downtime
/// must last an hour to be a gap, which takes the suite's process_gap findings away).
const CHECK: &str =
    "[check]\ngrace_ms = 500\nmin_gap_s = 3600\ninterval_ms = 2500\nepoch_tolerance_ms = 10\n";

/// An audit.toml for `events` and `logs` with `check` as its [check] section.
fn config(dir: &Path, events: &Path, logs: &Path, check: &str) -> std::path::PathBuf {
    let p = dir.join("audit.toml");
    let text = format!(
        "[sources]\nevents = {:?}\nlogs = [{:?}]\n\n{check}",
        path_str(events),
        path_str(logs)
    );
    std::fs::write(&p, text).expect("write audit.toml");
    p
}

fn findings(config: &Path, cmd: &str) -> Vec<Value> {
    let mut c = audit_with_config(config);
    c.args(["--quiet", cmd, "--format", "json"]);
    let doc = findings_json(c);
    doc["findings"].as_array().expect("findings").clone()
}

fn kind(f: &Value) -> &str {
    f["kind"].as_str().expect("a kind")
}

/// `check`'s findings, and asserts each single command gives exactly its share of them.
fn assert_agreement(name: &str, config: &Path) -> Vec<Value> {
    let all = findings(config, "check");
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for (cmd, kinds) in COMMANDS {
        let want: Vec<&Value> = all.iter().filter(|f| kinds.contains(&kind(f))).collect();
        let got = findings(config, cmd);
        let got: Vec<&Value> = got.iter().collect();
        assert_eq!(
            got.len(),
            want.len(),
            "{name}: `audit {cmd}` gives {} findings, `audit check` {} of its kinds",
            got.len(),
            want.len()
        );
        for (g, w) in got.iter().zip(&want) {
            assert_eq!(g, w, "{name}: `audit {cmd}` and `audit check` disagree");
        }
        seen.extend(kinds.iter().copied());
    }
    // Every kind check reports belongs to one of the commands.
    for f in &all {
        assert!(
            seen.contains(kind(f)),
            "{name}: no command reports {}",
            kind(f)
        );
    }
    all
}

#[test]
fn each_single_check_command_gives_checks_findings_of_its_kinds() {
    let tmp = tempfile::tempdir().unwrap();
    let mut moved = 0;
    let mut kinds: BTreeSet<String> = BTreeSet::new();
    for c in cases() {
        let dir = tmp.path().join(c.name);
        std::fs::create_dir_all(&dir).unwrap();
        let events = c.dir.join("events.csv");
        let logs = c.dir.join("monitoring_logs");
        let all = assert_agreement(c.name, &config(&dir, &events, &logs, CHECK));
        // With the defaults too; and the [check] section is honoured: some scenario answers
        // otherwise with it.
        let default_dir = dir.join("default");
        std::fs::create_dir_all(&default_dir).unwrap();
        let defaults = assert_agreement(c.name, &config(&default_dir, &events, &logs, ""));
        moved += usize::from(defaults != all);
        kinds.extend(all.iter().chain(&defaults).map(|f| kind(f).to_string()));
    }
    assert!(
        moved > 0,
        "the non-default [check] changed no scenario's findings"
    );
    // The suite exercises every check's kinds, so every command is compared on something.
    for k in [
        "missing_in_log",
        "missing_in_db",
        "correlation_inversion",
        "process_overlap",
        "process_gap",
        "unattributed_activity",
        "duplicate_event",
        "clock_offset_change",
    ] {
        assert!(kinds.contains(k), "no scenario has a {k} finding");
    }
}

#[test]
fn the_incident_agrees_too() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = incident();
    let all = assert_agreement(
        "incident",
        &config(
            tmp.path(),
            &dir.join("events.csv"),
            &dir.join("monitoring_logs"),
            CHECK,
        ),
    );
    assert!(!all.is_empty());
}

/// The exit code and the JUnit report come from one verdict: for every command and threshold,
/// exit 1 exactly when the JUnit report has a failure, and its failing findings are those at
/// or above `--fail-on`.
#[test]
fn junit_failures_and_the_exit_code_agree_for_every_command_and_threshold() {
    let dir = incident();
    for (cmd, _) in COMMANDS.iter().chain([&("check", &[][..])]) {
        for fail_on in ["low", "high"] {
            let base = |format: &str| {
                let mut c = crate::support::audit();
                c.args(["--quiet", cmd, "--events"])
                    .arg(dir.join("events.csv"))
                    .arg("--logs")
                    .arg(dir.join("monitoring_logs"))
                    .args(["--fail-on", fail_on, "--format", format]);
                c
            };
            let json = crate::support::run(base("json"));
            let doc: Value = serde_json::from_str(&json.stdout).expect("json");
            let order = ["info", "low", "medium", "high"];
            let at = |s: &str| order.iter().position(|x| *x == s).unwrap();
            let failing = doc["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| at(f["severity"].as_str().unwrap()) >= at(fail_on))
                .count();
            let junit = crate::support::run(base("junit"));
            let xml = roxmltree::Document::parse(&junit.stdout).expect("junit xml");
            let listed: usize = xml
                .descendants()
                .filter(|n| n.has_tag_name("failure"))
                .map(|n| {
                    let m = n.attribute("message").unwrap();
                    m.split(' ').next().unwrap().parse::<usize>().unwrap()
                })
                .sum();
            assert_eq!(
                listed, failing,
                "{cmd} --fail-on {fail_on}: JUnit lists {listed}"
            );
            assert_eq!(json.code, junit.code, "{cmd} --fail-on {fail_on}");
            assert_eq!(
                junit.code,
                i32::from(failing > 0),
                "{cmd} --fail-on {fail_on}: {failing} failing finding(s)"
            );
        }
    }
}
