//! The CI gate: `audit check` formats parsed back and validated, exit codes, a baseline round
//! trip, the PostgreSQL-restored fixture, and `audit export`.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::support::pg::pg;
use crate::support::{
    audit, audit_in_repo, expected_findings, finding_kinds, incident, path_str, run,
};

fn check_json(extra: &[&str]) -> (i32, Value) {
    let mut c = audit_in_repo();
    c.args(["check", "--format", "json"]).args(extra);
    let r = run(c);
    (
        r.code,
        serde_json::from_str(&r.stdout)
            .unwrap_or_else(|e| panic!("{e}: {} {}", r.stdout, r.stderr)),
    )
}

fn fingerprints(v: &Value) -> BTreeSet<String> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn check_runs_every_check_and_exits_1_on_the_incident() {
    let (code, v) = check_json(&[]);
    assert_eq!(code, 1);
    assert_eq!(v["exit_code"], 1);
    assert_eq!(v["command"], "check");
    // Kind by kind, what the fixture's generator injected (truth.json's expected_findings).
    let (mut want, total) = expected_findings();
    let mut got: std::collections::BTreeMap<String, u64> = Default::default();
    for k in finding_kinds(&v) {
        *got.entry(k.to_string()).or_default() += 1;
    }
    want.retain(|_, n| *n > 0);
    assert_eq!(got, want);
    assert_eq!(v["findings"].as_array().unwrap().len(), total);
    assert_eq!(v["summary"]["by_kind"]["missing_in_log"]["high"], 1);
    // Sources and clocks are part of the report.
    assert_eq!(v["sources"]["events"]["rows"], 6671);
    assert_eq!(v["clock"]["bot_20251018_145959.log"]["zone"], "+04:00");
    // Thresholds: only info findings left → 0.
    let (code, _) = check_json(&["--fail-on", "high"]);
    assert_eq!(code, 1, "785194 is high");
    let (code, v) = check_json(&[
        "--since",
        "2025-10-18T03:00:00Z",
        "--until",
        "2025-10-18T11:00:00Z",
    ]);
    assert_eq!(
        code, 0,
        "before 11:00 UTC only the low process gap remains: {}",
        v["findings"]
    );
}

#[test]
fn junit_has_one_testcase_per_check_and_failures_for_what_fails() {
    let mut c = audit_in_repo();
    c.args(["check", "--format", "junit"]);
    let r = run(c);
    assert_eq!(r.code, 1);
    let doc = roxmltree::Document::parse(&r.stdout).expect("well-formed XML");
    let suite = doc
        .descendants()
        .find(|n| n.has_tag_name("testsuite"))
        .expect("testsuite");
    let cases: Vec<roxmltree::Node> = suite
        .children()
        .filter(|n| n.has_tag_name("testcase"))
        .collect();
    let names: Vec<&str> = cases.iter().map(|n| n.attribute("name").unwrap()).collect();
    assert_eq!(
        names,
        vec![
            "skew",
            "missing-logs",
            "inversions",
            "lifetimes",
            "duplicates"
        ]
    );
    let failed: Vec<&str> = cases
        .iter()
        .filter(|n| n.children().any(|c| c.has_tag_name("failure")))
        .map(|n| n.attribute("name").unwrap())
        .collect();
    assert_eq!(failed, vec!["missing-logs", "duplicates"]);
    assert_eq!(suite.attribute("failures"), Some("2"));
    assert_eq!(suite.attribute("tests"), Some("5"));
    let text = cases[1]
        .descendants()
        .find(|n| n.has_tag_name("failure"))
        .unwrap()
        .text()
        .unwrap();
    assert!(
        text.contains("db:785194") && text.contains("bot_20251018_145959.log:909"),
        "{text}"
    );
}

#[test]
fn sarif_validates_against_the_2_1_0_schema_and_keeps_fingerprints() {
    let mut c = audit_in_repo();
    c.args(["check", "--format", "sarif"]);
    let r = run(c);
    assert_eq!(r.code, 1);
    let sarif: Value = serde_json::from_str(&r.stdout).unwrap();
    let mut schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            crate::support::root().join("tests/schemas/sarif-schema-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // The official schema's `language` patterns end in a bare `]?`, which strict ECMA-262
    // regex parsers reject when they check the schema itself; escaping it keeps its meaning.
    fn fix(v: &mut Value, n: &mut usize) {
        match v {
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    if k == "pattern" && x == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                        *x = Value::from("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$");
                        *n += 1;
                    } else {
                        fix(x, n);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(|x| fix(x, n)),
            _ => {}
        }
    }
    let mut fixed = 0;
    fix(&mut schema, &mut fixed);
    assert!(fixed >= 1);
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "SARIF invalid: {errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let (_, v) = check_json(&[]);
    let from_json = fingerprints(&v);
    let from_sarif: BTreeSet<String> = results
        .iter()
        .map(|r| {
            r["partialFingerprints"]["auditFingerprint/v1"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(from_sarif, from_json);
    // Log evidence becomes a physical location file:line.
    let q = results
        .iter()
        .find(|r| r["properties"]["event_ids"] == serde_json::json!([785194]))
        .expect("785194");
    assert_eq!(q["level"], "error");
    let loc = &q["locations"][0]["physicalLocation"];
    assert!(
        loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("monitoring_logs/bot_20251018_145959.log")
    );
    assert_eq!(loc["region"]["startLine"], 909);
}

#[test]
fn github_annotations_one_per_finding() {
    let mut c = audit_in_repo();
    c.args(["check", "--format", "github"]);
    let r = run(c);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), expected_findings().1);
    assert!(lines.iter().all(|l| l.starts_with("::error ")
        || l.starts_with("::warning ")
        || l.starts_with("::notice ")));
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("::error ")).count(),
        1
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("bot_20251018_145959.log,line=909,"))
    );
}

#[test]
fn output_file_gets_the_report_and_the_terminal_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("audit.sarif");
    let mut c = audit_in_repo();
    c.args(["check", "--format", "sarif", "--output", &path_str(&out)]);
    let r = run(c);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .contains("exit 1: 3 new finding(s) at or above medium"),
        "{}",
        r.stdout
    );
    let sarif: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
}

/// A copy of the incident where one logged row has lost its log line.
fn incident_with_a_lost_line(dir: &Path) -> (String, String) {
    let logs = dir.join("monitoring_logs");
    std::fs::create_dir_all(&logs).unwrap();
    for f in ["bot_20251018_070604.log", "bot_20251018_145959.log"] {
        std::fs::copy(incident().join("monitoring_logs").join(f), logs.join(f)).unwrap();
    }
    // truth.json: row 785245 (OGNUSDT position_created) is logged at this line; drop it.
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(incident().join("truth.json")).unwrap())
            .unwrap();
    let line = truth["twins"]["785245"]["line"].as_u64().unwrap() as usize;
    let p = logs.join("bot_20251018_145959.log");
    let text = std::fs::read_to_string(&p).unwrap();
    let kept: Vec<&str> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| i + 1 != line)
        .map(|(_, l)| l)
        .collect();
    assert!(
        text.lines()
            .nth(line - 1)
            .unwrap()
            .contains("position_created")
    );
    std::fs::write(&p, kept.join("\n") + "\n").unwrap();
    (path_str(&incident().join("events.csv")), path_str(&logs))
}

#[test]
fn baseline_round_trip_fails_only_on_what_is_new() {
    let dir = tempfile::tempdir().unwrap();
    let base = path_str(&dir.path().join("baseline.json"));
    let csv = path_str(&incident().join("events.csv"));
    let logs = path_str(&incident().join("monitoring_logs"));
    let mut c = audit();
    c.args([
        "baseline",
        "write",
        "--baseline",
        &base,
        "--events",
        &csv,
        "--logs",
        &logs,
    ]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let wrote = format!("wrote {} accepted finding(s)", expected_findings().1);
    assert!(r.stdout.contains(&wrote), "{}", r.stdout);

    let mut c = audit();
    c.args([
        "check",
        "--baseline",
        &base,
        "--events",
        &csv,
        "--logs",
        &logs,
        "--format",
        "json",
    ]);
    let r = run(c);
    assert_eq!(r.code, 0, "everything accepted: {}", r.stdout);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert!(
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["baseline"] == "accepted")
    );

    // A new fault: one more row loses its log line.
    let (csv2, logs2) = incident_with_a_lost_line(dir.path());
    let mut c = audit();
    c.args([
        "check",
        "--baseline",
        &base,
        "--events",
        &csv2,
        "--logs",
        &logs2,
        "--format",
        "json",
    ]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let new: Vec<&Value> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["baseline"] == "new")
        .collect();
    assert_eq!(new.len(), 1, "{new:#?}");
    assert_eq!(new[0]["kind"], "missing_in_log");
    assert_eq!(new[0]["event_id"], 785245);
    assert_eq!(v["baseline"]["new"].as_array().unwrap().len(), 1);
    assert!(v["baseline"]["resolved"].as_array().unwrap().is_empty());
}

#[test]
fn errors_exit_2_and_an_unreadable_source_is_not_a_pass() {
    let mut c = audit();
    c.args([
        "check",
        "--events",
        "/nonexistent.csv",
        "--logs",
        &path_str(&incident().join("monitoring_logs")),
    ]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("error: /nonexistent.csv"),
        "{}",
        r.stderr
    );
    let mut c = audit_in_repo();
    c.args(["check", "--baseline", "/nonexistent/baseline.json"]);
    assert_eq!(run(c).code, 2);
}

#[test]
fn check_against_the_postgresql_restored_fixture_matches_the_snapshot() {
    let dir = incident();
    let db = pg().load("check", &[&dir.join("schema.sql"), &dir.join("events.sql")]);
    let mut c = audit();
    c.args([
        "check",
        "--db",
        &pg().url(&db),
        "--logs",
        &path_str(&dir.join("monitoring_logs")),
        "--format",
        "json",
    ]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let (_, from_csv) = check_json(&[]);
    assert_eq!(fingerprints(&v), fingerprints(&from_csv));
    assert_eq!(v["sources"]["events"]["kind"], "postgresql");
}

#[test]
fn export_writes_parquet_and_jsonl_with_provenance() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let pq = dir.path().join("t.parquet");
    let jl = dir.path().join("t.jsonl");
    let mut c = audit_in_repo();
    c.args([
        "export",
        "--window",
        "14:07-14:08",
        "--parquet",
        &path_str(&pq),
        "--jsonl",
        &path_str(&jl),
    ]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<Value> = std::fs::read_to_string(&jl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    use polars::prelude::SerReader;
    let df = polars::prelude::ParquetReader::new(std::fs::File::open(&pq).unwrap())
        .finish()
        .unwrap();
    assert_eq!(df.height(), lines.len());
    assert_eq!(lines.iter().filter(|l| l["source"] == "db").count(), 466);
    let log_path = incident().join("monitoring_logs/bot_20251018_145959.log");
    let want = format!("{:x}", Sha256::digest(std::fs::read(&log_path).unwrap()));
    let row = lines
        .iter()
        .find(|l| l["file"] == "bot_20251018_145959.log")
        .unwrap();
    assert_eq!(row["source_sha256"], want);
    assert!(row["line"].as_u64().unwrap() > 0 && row["byte_offset"].as_u64().is_some());
    let db = lines.iter().find(|l| l["source"] == "db").unwrap();
    let csv_hash = format!(
        "{:x}",
        Sha256::digest(std::fs::read(incident().join("events.csv")).unwrap())
    );
    assert_eq!(db["source_sha256"], csv_hash);
    assert!(df.column("source_sha256").is_ok() && df.column("ts_utc").is_ok());
}
