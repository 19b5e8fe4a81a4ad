//! Synthetic scenarios for the tests: the generator's command line (`audit_gen::cli::run`, the
//! code the `audit-gen` binary runs) writes them, and the checks run on them through the real
//! `audit` binary.

use std::ffi::OsString;
use std::path::Path;

use audit_gen::cli::{self, Error};
use audit_gen::{Output, Truth};
use serde_json::Value;

use super::{audit, path_str};

/// `audit-gen ARGS`, as the binary runs it, its summary dropped.
pub fn audit_gen<T: Into<OsString>>(args: impl IntoIterator<Item = T>) -> Result<Output, Error> {
    let argv = std::iter::once(OsString::from("audit-gen")).chain(args.into_iter().map(Into::into));
    cli::run(argv, &mut std::io::sink())
}

/// `audit-gen --out DIR --quiet ARGS`, and its truth.json read back.
pub fn generate(dir: &Path, args: &[&str]) -> Truth {
    let mut argv: Vec<OsString> = vec!["--out".into(), dir.into(), "--quiet".into()];
    argv.extend(args.iter().map(OsString::from));
    if let Err(e) = audit_gen(argv) {
        panic!("audit-gen {args:?} failed: {e}");
    }
    Truth::load(&dir.join("truth.json")).expect("truth.json")
}

/// `audit CMD --events DIR/events.csv --logs DIR/monitoring_logs --format json EXTRA`,
/// parsed; exit 0 (clean) and 1 (findings) are both answers.
pub fn check(cmd: &str, dir: &Path, extra: &[&str]) -> Value {
    check_logs(cmd, dir, &["monitoring_logs"], extra)
}

/// [`check`] with `--logs DIR/SUB` for each of `logs` (`monitoring_logs`, the handler's `logs`).
pub fn check_logs(cmd: &str, dir: &Path, logs: &[&str], extra: &[&str]) -> Value {
    let mut c = audit();
    c.args(["--quiet", cmd, "--events"])
        .arg(dir.join("events.csv"));
    for l in logs {
        c.arg("--logs").arg(dir.join(l));
    }
    c.args(["--format", "json"]).args(extra);
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

/// One case of a generator suite, written to disk.
pub struct Written {
    pub name: &'static str,
    pub dir: std::path::PathBuf,
    pub truth: Truth,
}

/// Every case of `suite` planned and written by the generator's library, each under
/// `target/tmp/ROOT/case-K`.
pub fn write_suite(root: &str, suite: Vec<audit_gen::score::SuiteCase>) -> Vec<Written> {
    let root = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(root);
    suite
        .into_iter()
        .enumerate()
        .map(|(k, c)| {
            let dir = root.join(format!("case-{k}"));
            let s = audit_gen::Scenario::plan(&c.params, &c.faults)
                .unwrap_or_else(|e| panic!("{}: {e}", c.name));
            let out = audit_gen::generate(&s, &dir).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            Written {
                name: c.name,
                dir,
                truth: out.truth,
            }
        })
        .collect()
}
