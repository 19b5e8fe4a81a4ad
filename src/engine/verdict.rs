//! The verdict of a run: which findings fail it (at or above `--fail-on`, and new against the
//! baseline), and so the exit code. Every output that says pass or fail asks this: the exit
//! code, the table's last line, JUnit's failures and SARIF's baseline states agree by
//! construction.

use crate::checks::{Finding, Severity};

use super::baseline::Comparison;

/// `--fail-on` unless told otherwise.
pub const DEFAULT_FAIL_ON: Severity = Severity::Medium;

/// What `--fail-on` and the baseline say about each finding.
#[derive(Debug, Clone, Copy)]
pub struct Verdict<'a> {
    pub fail_on: Severity,
    pub baseline: Option<&'a Comparison>,
}

impl Verdict<'_> {
    /// Not accepted by the baseline (every finding, without one).
    pub fn is_new(&self, f: &Finding) -> bool {
        self.baseline.is_none_or(|b| b.is_new(f))
    }

    /// This finding fails the run.
    pub fn fails(&self, f: &Finding) -> bool {
        f.severity >= self.fail_on && self.is_new(f)
    }

    /// The findings that fail the run.
    pub fn failing<'f>(&self, findings: &'f [Finding]) -> Vec<&'f Finding> {
        findings.iter().filter(|f| self.fails(f)).collect()
    }

    /// True when any finding fails the run (exit 1).
    pub fn failed(&self, findings: &[Finding]) -> bool {
        findings.iter().any(|f| self.fails(f))
    }
}
