//! `[[accept]]` rules of audit.toml: findings the team lives with until a date are reported
//! as accepted and fail nothing; a rule whose date has come fails the run, naming itself.
//!
//! On the incident (README): 785173 (position_created FLMUSDT, 11:07:07.200 UTC) is missing in
//! the log as the second copy of a duplicate insert (medium), the duplicate itself is medium,
//! and 785194 (position_created RSRUSDT, 11:07:15.103 UTC) missing in the log is high.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::{audit_with_config, incident, path_str, run};

const DUPLICATE: &str = r#"
[[accept]]
kind = "duplicate_event"
reason = "FLMUSDT double insert, fixed in bot 2.3"
until = "2999-01-01"
"#;

/// The second copy's missing line: narrowed by event type and a UTC time of day (an unquoted
/// TOML date is a date too).
const SECOND_COPY: &str = r#"
[[accept]]
kind = "missing_in_log"
reason = "the second copy of a duplicate has no line of its own"
until = 2999-01-01
event_type = "position_created"
time = "11:07:07-11:07:08"
"#;

fn config(dir: &Path, rules: &[&str]) -> PathBuf {
    let inc = incident();
    let mut text = format!(
        "[sources]\nevents = {:?}\nlogs = [{:?}]\n",
        path_str(&inc.join("events.csv")),
        path_str(&inc.join("monitoring_logs"))
    );
    for r in rules {
        text.push_str(r);
    }
    let p = dir.join("audit.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn check(cfg: &Path, args: &[&str]) -> crate::support::Run {
    let mut c = audit_with_config(cfg);
    c.arg("check").args(args);
    run(c)
}

#[test]
fn accepted_findings_are_reported_as_accepted_and_fail_nothing() {
    let dir = tempfile::tempdir().unwrap();
    // 785194 is a position_created too, but at 11:07:15: a rule for position_error at that
    // time accepts nothing.
    let wrong_type = r#"
[[accept]]
kind = "missing_in_log"
reason = "not this one"
until = "2999-01-01"
event_type = "position_error"
time = "11:07:15-11:07:16"
"#;
    let cfg = config(dir.path(), &[DUPLICATE, SECOND_COPY, wrong_type]);
    let r = check(&cfg, &[]);
    assert_eq!(r.code, 1, "785194 still fails: {}", r.stderr);
    assert!(
        r.stdout
            .contains("exit 1: 1 new finding(s) at or above medium"),
        "{}",
        r.stdout
    );
    let name = format!("{} [[accept]]", cfg.display());
    assert!(
        r.stdout.contains(&format!(
            "db:785173 db:785168 bot_20251018_145959.log:765 (accepted by {name} #2 (the second copy of a duplicate has no line of its own, until 2999-01-01))"
        )),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(&format!(
        "{name} #1: accepts 1 duplicate_event finding(s) until 2999-01-01"
    )));
    assert!(
        r.stdout.contains(&format!(
            "{name} #3: accepts no missing_in_log finding until 2999-01-01 — not this one"
        )),
        "{}",
        r.stdout
    );

    let r = check(&cfg, &["--format", "json"]);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let accepted: Vec<u64> = v["accept"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["accepted"].as_u64().unwrap())
        .collect();
    assert_eq!(accepted, [1, 1, 0]);
    assert_eq!(v["accept"][1]["time"], "11:07:07-11:07:08");
    assert_eq!(v["exit_code"], 1);
    // Still all six findings: accepted is not hidden.
    assert_eq!(v["findings"].as_array().unwrap().len(), 6);

    // Accept 785194 as well (its real type and time): the gate passes.
    let it = r#"
[[accept]]
kind = "missing_in_log"
reason = "queue-full bypass, bot issue 4312"
until = "2999-01-01"
event_type = "position_created"
time = "11:07:15-11:07:16"
"#;
    let cfg = config(dir.path(), &[DUPLICATE, SECOND_COPY, it]);
    let r = check(&cfg, &[]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("exit 0: no new finding at or above medium")
    );
    // SARIF marks the accepted results suppressed, with the rule as the justification.
    let r = check(&cfg, &["--format", "sarif"]);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap();
    let suppressed: Vec<&Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r.get("suppressions").is_some())
        .collect();
    assert_eq!(suppressed.len(), 3);
    assert!(
        suppressed
            .iter()
            .all(|r| r["suppressions"][0]["kind"] == "external")
    );
    assert!(suppressed.iter().any(|r| {
        r["suppressions"][0]["justification"]
            .as_str()
            .unwrap()
            .contains("queue-full bypass, bot issue 4312")
    }));
    // The Markdown summary says why each is accepted.
    let r = check(&cfg, &["--format", "markdown"]);
    assert!(
        r.stdout
            .starts_with("## audit check: ✅ no new finding at or above medium")
    );
    assert_eq!(r.stdout.matches("| accepted: ").count(), 3, "{}", r.stdout);
}

#[test]
fn an_expired_rule_fails_the_run_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let expired = r#"
[[accept]]
kind = "process_gap"
reason = "nightly restart"
until = "2020-03-01"
"#;
    let cfg = config(dir.path(), &[DUPLICATE, expired]);
    let out = dir.path().join("audit.sarif");
    let r = check(&cfg, &["--write", &format!("sarif={}", path_str(&out))]);
    r.assert_one_error_line(&[
        "[[accept]] #2",
        "\"process_gap\"",
        "nightly restart",
        "expired on 2020-03-01",
    ]);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    assert!(!out.exists(), "no report from a run that failed");
    // Rules are the gate's: the timeline still answers.
    let mut c = audit_with_config(&cfg);
    c.args(["timeline", "--signal", "4869992", "--format", "json"]);
    assert_eq!(run(c).code, 0);
    // A rule that cannot be right is refused the same way.
    let typo = "\n[[accept]]\nkind = \"process_gapp\"\nreason = \"r\"\nuntil = \"2999-01-01\"\n";
    let cfg = config(dir.path(), &[typo]);
    check(&cfg, &[]).assert_one_error_line(&["[[accept]] #1", "unknown kind", "process_gap"]);
}
