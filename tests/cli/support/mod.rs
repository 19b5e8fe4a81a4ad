//! Shared test support: the real binary, the repo's fixtures, a real PostgreSQL.

pub mod pg;
pub mod scenario;

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn incident() -> PathBuf {
    root().join("fixtures/rsrusdt-2025-10-18")
}

pub fn logs_fixture(name: &str) -> PathBuf {
    root().join("fixtures/logs").join(name)
}

/// The binary with nothing leaking in from the developer's environment: no `AUDIT_*`
/// variable (a threshold, a config file, a read-plan size), no DATABASE_URL, no PGTZ. Big
/// files' indexes kept between runs go under the target directory, not ~/.cache.
fn isolated() -> Command {
    let mut c = Command::cargo_bin("audit").expect("binary");
    for k in leaking() {
        c.env_remove(k);
    }
    c.env("AUDIT_CACHE_DIR", cache_dir());
    c
}

/// What a test run must not inherit: every `AUDIT_*` variable, DATABASE_URL and PGTZ.
fn leaking() -> Vec<std::ffi::OsString> {
    let mut v: Vec<std::ffi::OsString> = std::env::vars_os()
        .map(|(k, _)| k)
        .filter(|k| k.to_string_lossy().starts_with("AUDIT_"))
        .collect();
    v.extend(["DATABASE_URL".into(), "PGTZ".into()]);
    v
}

fn cache_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("audit-cache")
}

/// [`isolated`]'s environment for a std `Command` (a spawned child with pipes, or `script`
/// running the binary on a pseudo-terminal): the same variables removed, the same cache.
pub fn isolate(c: &mut std::process::Command) -> &mut std::process::Command {
    for k in leaking() {
        c.env_remove(k);
    }
    c.env("AUDIT_CACHE_DIR", cache_dir())
}

/// The binary as a std `Command`, isolated like [`audit`]'s (no `--no-config` added).
pub fn audit_std() -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("audit"));
    isolate(&mut c);
    c
}

/// The binary with no config file (and nothing from the environment, see [`isolated`]).
pub fn audit() -> Command {
    let mut c = isolated();
    c.arg("--no-config");
    c
}

/// The binary reading the config file `config`.
pub fn audit_with_config(config: &Path) -> Command {
    let mut c = isolated();
    c.arg("--config").arg(config);
    c
}

/// The binary run from the repo root, reading the repo's audit.toml (the README's first command).
pub fn audit_in_repo() -> Command {
    let mut c = isolated();
    c.current_dir(root());
    c
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn run(mut c: Command) -> Run {
    let out = c.output().expect("run audit");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Run {
    fn stdout_json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                &self.stdout[..self.stdout.len().min(500)]
            )
        })
    }

    /// An unusable input: exit 2, one line on stderr holding each of `needles`, no panic.
    pub fn assert_one_error_line(&self, needles: &[&str]) {
        assert_eq!(self.code, 2, "exit {}: {}", self.code, self.stderr);
        assert_eq!(
            self.stderr.trim_end().lines().count(),
            1,
            "one line: {}",
            self.stderr
        );
        for n in needles {
            assert!(self.stderr.contains(n), "`{n}` not in {}", self.stderr);
        }
        assert!(!self.stderr.contains("panicked"), "{}", self.stderr);
    }
}

/// Runs and parses `--format json` output, asserting exit 0.
pub fn json(c: Command) -> Value {
    let r = run(c);
    assert_eq!(r.code, 0, "exit {}\nstderr: {}", r.code, r.stderr);
    r.stdout_json()
}

/// The JSON document of a findings command that ran to the end: exit 0 (clean) or 1 (findings).
pub fn findings_json(c: Command) -> Value {
    let r = run(c);
    assert!(
        matches!(r.code, 0 | 1),
        "exit {}\nstderr: {}",
        r.code,
        r.stderr
    );
    r.stdout_json()
}

/// The `rows` of a timeline JSON output.
pub fn rows(v: &Value) -> &Vec<Value> {
    v["rows"].as_array().expect("rows array")
}

pub fn path_str(p: &Path) -> String {
    p.display().to_string()
}

/// The kinds of a findings document's findings, in order.
pub fn finding_kinds(v: &Value) -> Vec<&str> {
    v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| f["kind"].as_str().expect("a kind"))
        .collect()
}

/// A findings document's findings as two runs over the same data must give them: a clock
/// change's explanation counts the anchors its own run used (a sampled first pass has fewer),
/// so it is left out; its place, its fingerprint and every other finding stay.
pub fn comparable_findings(v: &Value) -> Vec<Value> {
    v["findings"]
        .as_array()
        .expect("findings array")
        .iter()
        .map(|f| {
            let mut f = f.clone();
            if f["kind"] == "clock_offset_change" {
                f.as_object_mut().unwrap().remove("explanation");
            }
            f
        })
        .collect()
}

/// Event lines a sampled first pass counted without parsing, over every log file.
pub fn events_not_parsed(v: &Value) -> u64 {
    v["sources"]["logs"]
        .as_array()
        .expect("logs array")
        .iter()
        .map(|l| l["events_not_parsed"].as_u64().unwrap_or(0))
        .sum()
}

/// A timeline's `ts_utc` column, asserted to be in order.
pub fn utc_times_in_order(v: &Value) -> Vec<&str> {
    let ts: Vec<&str> = rows(v)
        .iter()
        .map(|r| r["ts_utc"].as_str().unwrap())
        .collect();
    let mut sorted = ts.clone();
    sorted.sort();
    assert_eq!(ts, sorted, "rows in UTC order");
    ts
}

/// The incident's `events.csv` (`\copy monitoring.events TO … CSV HEADER`) as records of named
/// fields, read by a small RFC 4180 reader of the tests' own (quoted fields, `""` inside them,
/// newlines inside quotes), not by the product's CSV source: the counts the tests expect
/// are derived from the fixture, not from audit.
pub fn incident_csv() -> Vec<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(incident().join("events.csv")).expect("events.csv");
    let mut records: Vec<Vec<String>> = Vec::new();
    let (mut record, mut field) = (Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => record.push(std::mem::take(&mut field)),
            (false, '\r') => {}
            (false, '\n') => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            (false, c) => field.push(c),
        }
    }
    assert!(!quoted, "events.csv ends inside a quoted field");
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    let mut it = records.into_iter();
    let header = it.next().expect("a header");
    it.map(|r| {
        assert_eq!(r.len(), header.len(), "{r:?}");
        header.iter().cloned().zip(r).collect()
    })
    .collect()
}

/// The incident's truth.json, written by the generator that injected its faults.
pub fn incident_truth() -> Value {
    serde_json::from_str(&std::fs::read_to_string(incident().join("truth.json")).unwrap()).unwrap()
}

/// What `audit check` must report on the incident with default settings, by kind (truth.json's
/// `expected_findings`, each count derived by the generator from what it injected), and the
/// total, asserted to be their sum.
pub fn expected_findings() -> (std::collections::BTreeMap<String, u64>, usize) {
    let t = incident_truth();
    let e = &t["expected_findings"];
    let by_kind: std::collections::BTreeMap<String, u64> = e["by_kind"]
        .as_object()
        .expect("truth.json: expected_findings.by_kind")
        .iter()
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect();
    let total = by_kind.values().sum::<u64>() as usize;
    assert_eq!(e["total"], total, "truth.json: total is the sum of by_kind");
    (by_kind, total)
}
