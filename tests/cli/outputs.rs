//! Several outputs from one run (`audit check --write FORMAT=FILE`, repeatable, written all
//! together) and the Markdown job summary (`--format markdown`), on the bundled incident.
//!
//! What the incident gives (README, docs/incident.md): six findings — 785194 missing in the
//! log (high), the FLMUSDT second copy 785173 missing in the log and its duplicate (medium
//! each), two classified inversions (info) and the 15-minute process gap (low). At the default
//! `--fail-on medium` three fail the run, in two checks (missing-logs, duplicates).

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::support::{audit_in_repo, path_str, run};

/// The OASIS SARIF 2.1.0 schema of tests/schemas, as tests/cli/ci.rs compiles it.
fn sarif_errors(sarif: &Value) -> Vec<String> {
    let mut schema: Value = serde_json::from_str(
        &std::fs::read_to_string(
            crate::support::root().join("tests/schemas/sarif-schema-2.1.0.json"),
        )
        .unwrap(),
    )
    .unwrap();
    // The schema's `language` pattern ends in a bare `]?` that strict regex parsers refuse.
    fn fix(v: &mut Value) {
        match v {
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    if k == "pattern" && x == "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$" {
                        *x = Value::from("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}\\]?$");
                    } else {
                        fix(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(fix),
            _ => {}
        }
    }
    fix(&mut schema);
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    validator
        .iter_errors(sarif)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn files_in(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

fn fingerprints(findings: &Value) -> BTreeSet<String> {
    findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn one_run_writes_valid_sarif_junit_html_and_markdown() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| path_str(&dir.path().join(name));
    let mut c = audit_in_repo();
    c.args([
        "check",
        "--format",
        "json",
        "--write",
        &format!("sarif={}", p("audit.sarif")),
        "--write",
        &format!("junit={}", p("audit.xml")),
        "--write",
        &format!("html={}", p("report.html")),
        "--write",
        &format!("markdown={}", p("summary.md")),
    ]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    // Exactly the four files: no temporary file left beside them.
    assert_eq!(
        files_in(dir.path()),
        BTreeSet::from(["audit.sarif", "audit.xml", "report.html", "summary.md"].map(String::from))
    );
    // The terminal output is what --format json prints without --write.
    let terminal: Value = serde_json::from_str(&r.stdout).expect("stdout is the JSON report");
    let mut c = audit_in_repo();
    c.args(["check", "--format", "json"]);
    let alone = run(c);
    let alone: Value = serde_json::from_str(&alone.stdout).unwrap();
    assert_eq!(terminal["findings"], alone["findings"]);
    assert_eq!(fingerprints(&terminal["findings"]).len(), 6);

    let sarif: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("audit.sarif")).unwrap())
            .unwrap();
    let errors = sarif_errors(&sarif);
    assert!(errors.is_empty(), "SARIF invalid: {errors:#?}");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    let from_sarif: BTreeSet<String> = results
        .iter()
        .map(|r| {
            r["partialFingerprints"]["auditFingerprint/v1"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(from_sarif, fingerprints(&terminal["findings"]));

    let xml = std::fs::read_to_string(dir.path().join("audit.xml")).unwrap();
    let doc = roxmltree::Document::parse(&xml).expect("JUnit is well-formed XML");
    let suites = doc.root_element();
    assert_eq!(suites.tag_name().name(), "testsuites");
    let cases: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter_map(|n| n.attribute("name"))
        .collect();
    for check in [
        "skew",
        "missing-logs",
        "inversions",
        "lifetimes",
        "duplicates",
    ] {
        assert!(cases.contains(&check), "no testcase {check}: {cases:?}");
    }
    assert_eq!(
        suites.attribute("tests"),
        Some(cases.len().to_string().as_str()),
        "one testcase per check"
    );
    assert_eq!(
        suites.attribute("failures"),
        Some("2"),
        "missing-logs and duplicates"
    );
    let failed: BTreeSet<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .filter(|n| n.children().any(|c| c.has_tag_name("failure")))
        .filter_map(|n| n.attribute("name"))
        .collect();
    assert_eq!(failed, BTreeSet::from(["missing-logs", "duplicates"]));

    // The HTML is the page `audit report --html` writes for the same sources, byte for byte.
    let page = std::fs::read(dir.path().join("report.html")).unwrap();
    assert!(page.starts_with(b"<!DOCTYPE html>"));
    let mut c = audit_in_repo();
    c.args(["report", "--html", &p("alone.html")]);
    assert_eq!(run(c).code, 0);
    assert!(
        page == std::fs::read(dir.path().join("alone.html")).unwrap(),
        "check --write html differs from audit report --html"
    );
    // The Markdown file is what --format markdown prints.
    let mut c = audit_in_repo();
    c.args(["check", "--format", "markdown"]);
    let md = run(c);
    assert_eq!(
        md.stdout,
        std::fs::read_to_string(dir.path().join("summary.md")).unwrap()
    );
}

#[test]
fn write_refuses_what_cannot_work_before_reading_anything() {
    let dir = tempfile::tempdir().unwrap();
    let a = path_str(&dir.path().join("a.out"));
    // An unknown format: one line naming it and the formats there are.
    let mut c = audit_in_repo();
    c.args(["check", "--write", &format!("xml={a}")]);
    let r = run(c);
    r.assert_one_error_line(&[
        "--write",
        "unknown format `xml`",
        "sarif",
        "markdown",
        "html",
    ]);
    let mut c = audit_in_repo();
    c.args(["check", "--write", "sarif"]);
    run(c).assert_one_error_line(&["expected FORMAT=FILE"]);
    // One file named twice.
    let mut c = audit_in_repo();
    c.args([
        "check",
        "--write",
        &format!("sarif={a}"),
        "--write",
        &format!("junit={a}"),
    ]);
    run(c).assert_one_error_line(&["a.out", "named by two outputs"]);
    // A directory that does not exist: said now, not after the run.
    let mut c = audit_in_repo();
    c.args([
        "check",
        "--write",
        &format!("sarif={a}"),
        "--write",
        &format!("junit={}", path_str(&dir.path().join("nowhere/a.xml"))),
    ]);
    run(c).assert_one_error_line(&["nowhere/a.xml", "directory does not exist"]);
    assert!(files_in(dir.path()).is_empty(), "nothing written");
    // A baseline is not a report.
    let mut c = audit_in_repo();
    c.args([
        "baseline",
        "write",
        "--baseline",
        &path_str(&dir.path().join("b.json")),
        "--write",
        &format!("sarif={a}"),
    ]);
    run(c).assert_one_error_line(&["--write", "audit baseline write"]);
}

/// The cells of a Markdown table row, split at unescaped `|`.
fn cells(row: &str) -> Vec<String> {
    let inner = row.trim().trim_start_matches('|').trim_end_matches('|');
    let mut out = vec![String::new()];
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                out.last_mut().unwrap().push('|');
                chars.next();
            }
            '|' => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out.iter().map(|c| c.trim().to_string()).collect()
}

/// The rows of the Markdown table under `### {heading}`, header first, separator left out.
fn table(md: &str, heading: &str) -> Vec<Vec<String>> {
    md.lines()
        .skip_while(|l| *l != format!("### {heading}"))
        .skip(1)
        .skip_while(|l| l.is_empty())
        .take_while(|l| l.starts_with('|'))
        .filter(|l| !l.starts_with("|---"))
        .map(cells)
        .collect()
}

#[test]
fn markdown_summary_has_the_verdict_the_clocks_and_the_findings_with_evidence() {
    let mut c = audit_in_repo();
    c.args(["check", "--format", "markdown"]);
    let r = run(c);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let md = &r.stdout;
    assert_eq!(
        md.lines().next(),
        Some("## audit check: ❌ 3 new finding(s) at or above medium")
    );
    let clocks = table(md, "Clocks");
    assert_eq!(
        clocks[0],
        ["source", "offset", "zone", "how it was decided"]
    );
    // The snapshot's +03:00, and each log's +04:00 detected from its twins.
    assert_eq!(clocks[1][..3], ["db (shown in)", "+03:00", "+03:00"]);
    assert_eq!(clocks[1][3], "offset written in the snapshot");
    for (row, file) in clocks[2..]
        .iter()
        .zip(["bot_20251018_070604.log", "bot_20251018_145959.log"])
    {
        assert_eq!(row[..2], [file, "+04:00"]);
        assert!(row[3].starts_with("detected from"), "{row:?}");
    }
    assert_eq!(clocks.len(), 4, "the header and three clocks");

    let findings = table(md, "Findings");
    assert_eq!(
        findings[0],
        [
            "verdict",
            "severity",
            "kind",
            "at (UTC)",
            "evidence",
            "explanation"
        ]
    );
    let rows = &findings[1..];
    assert_eq!(rows.len(), 6);
    assert!(rows.iter().all(|r| r.len() == 6), "{rows:?}");
    let fails: Vec<&str> = rows
        .iter()
        .filter(|r| r[0] == "❌ fails")
        .map(|r| r[2].as_str())
        .collect();
    assert_eq!(
        fails,
        ["missing_in_log", "duplicate_event", "missing_in_log"]
    );
    // 785194: the incident's open question, high, at 14:07:15.103 (+03) = 11:07:15.103 UTC,
    // logged around line 909 (`Event queue full, logging directly`).
    let q = rows
        .iter()
        .find(|r| r[2] == "missing_in_log" && r[4].starts_with("`db:785194 "))
        .expect("785194");
    assert_eq!(q[..3], ["❌ fails", "high", "missing_in_log"]);
    assert!(q[3].starts_with("2025-10-18 11:07:15.103"), "{q:?}");
    assert_eq!(q[4], "`db:785194 bot_20251018_145959.log:909`");
    // The gap (low) and the inversions (info) do not fail at medium, and say so.
    let gap = rows.iter().find(|r| r[2] == "process_gap").unwrap();
    assert_eq!(gap[..2], ["below medium", "low"]);
    assert!(
        rows.iter()
            .any(|r| r[2] == "correlation_inversion [overlapping_operations]")
    );

    // --fail-on high: one fails; a single-check command gives its own summary.
    let mut c = audit_in_repo();
    c.args(["check", "--format", "markdown", "--fail-on", "high"]);
    let r = run(c);
    assert!(
        r.stdout
            .starts_with("## audit check: ❌ 1 new finding(s) at or above high\n")
    );
    let mut c = audit_in_repo();
    c.args(["duplicates", "--format", "markdown"]);
    let r = run(c);
    assert_eq!(r.code, 1);
    assert!(
        r.stdout
            .starts_with("## audit duplicates: ❌ 1 new finding(s) at or above medium\n")
    );
    let dup = table(&r.stdout, "Findings");
    assert_eq!(dup.len(), 2);
    assert_eq!(
        dup[1][4],
        "`db:785168 db:785173 bot_20251018_145959.log:765`"
    );
    // A clean window says so, and lists no table.
    let mut c = audit_in_repo();
    c.args(["check", "--format", "markdown", "--window", "14:05-14:06"]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout
            .starts_with("## audit check: ✅ no new finding at or above medium\n")
    );
    assert!(r.stdout.contains("### Findings\n\nNo findings.\n"));
}
