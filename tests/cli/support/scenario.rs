//! Synthetic scenarios for the tests: `audit-gen` (the real binary) writes them, and the
//! checks run on them through the real `audit` binary.

use std::path::Path;

use assert_cmd::Command;
use audit::synth::Truth;
use serde_json::Value;

use super::{audit, path_str};

/// Runs `audit-gen --out DIR ARGS` and reads back its truth.json.
pub fn generate(dir: &Path, args: &[&str]) -> Truth {
    let out = Command::cargo_bin("audit-gen")
        .expect("audit-gen binary")
        .arg("--out")
        .arg(dir)
        .arg("--quiet")
        .args(args)
        .output()
        .expect("run audit-gen");
    assert!(
        out.status.success(),
        "audit-gen {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Truth::load(&dir.join("truth.json")).expect("truth.json")
}

/// `audit CMD --events DIR/events.csv --logs DIR/monitoring_logs --format json EXTRA`,
/// parsed; exit 0 (clean) and 1 (findings) are both answers.
pub fn check(cmd: &str, dir: &Path, extra: &[&str]) -> Value {
    let mut c = audit();
    c.args(["--quiet", cmd, "--events"])
        .arg(dir.join("events.csv"))
        .arg("--logs")
        .arg(dir.join("monitoring_logs"))
        .args(["--format", "json"])
        .args(extra);
    let out = c.output().expect("run audit");
    let code = out.status.code().unwrap_or(-1);
    assert!(
        code == 0 || code == 1,
        "audit {cmd} on {} exited {code}: {}",
        path_str(dir),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("audit {cmd}: not JSON: {e}"))
}
