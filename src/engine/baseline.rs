//! Baselines: findings a team has looked at and accepted. A nightly job fails only on what is
//! new; what disappeared is listed as resolved. Findings are identified by their fingerprint
//! (same evidence → same fingerprint), never by wording or time of run.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::checks::Finding;
use crate::error::AuditError;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Baseline {
    pub version: u32,
    pub findings: Vec<Entry>,
}

/// What a baseline keeps of a finding: its identity, and enough to read it back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub fingerprint: String,
    pub kind: String,
    pub severity: String,
    pub at_utc: String,
    pub explanation: String,
}

/// A run compared with a baseline.
#[derive(Debug, Clone, Default)]
pub struct Comparison {
    pub accepted: BTreeSet<String>,
    /// Baseline entries no longer found.
    pub resolved: Vec<Entry>,
}

impl Comparison {
    pub fn is_new(&self, f: &Finding) -> bool {
        !self.accepted.contains(&f.fingerprint)
    }
}

pub fn load(path: &Path) -> Result<Baseline, AuditError> {
    let shown = path.display().to_string();
    let text =
        std::fs::read_to_string(path).map_err(|e| AuditError::input(&shown, e.to_string()))?;
    let b: Baseline = serde_json::from_str(&text)
        .map_err(|e| AuditError::input(&shown, format!("not an audit baseline: {e}")))?;
    if b.version != 1 {
        return Err(AuditError::input(
            &shown,
            format!(
                "baseline version {} is not supported (expected 1)",
                b.version
            ),
        ));
    }
    Ok(b)
}

pub fn from_findings(findings: &[Finding]) -> Baseline {
    let mut entries: Vec<Entry> = findings
        .iter()
        .map(|f| Entry {
            fingerprint: f.fingerprint.clone(),
            kind: f.kind.as_str().to_string(),
            severity: f.severity.as_str().to_string(),
            at_utc: f.at_utc.clone(),
            explanation: f.explanation.clone(),
        })
        .collect();
    entries.sort_by(|a, b| {
        (&a.at_utc, &a.kind, &a.fingerprint).cmp(&(&b.at_utc, &b.kind, &b.fingerprint))
    });
    entries.dedup_by(|a, b| a.fingerprint == b.fingerprint);
    Baseline {
        version: 1,
        findings: entries,
    }
}

pub fn write(path: &Path, b: &Baseline) -> Result<(), AuditError> {
    let shown = path.display().to_string();
    let mut text =
        serde_json::to_string_pretty(b).map_err(|e| AuditError::input(&shown, e.to_string()))?;
    text.push('\n');
    let _ = shown;
    crate::output::write(path, text.as_bytes())
}

pub fn compare(b: &Baseline, findings: &[Finding]) -> Comparison {
    let found: BTreeSet<&str> = findings.iter().map(|f| f.fingerprint.as_str()).collect();
    let accepted = b
        .findings
        .iter()
        .filter(|e| found.contains(e.fingerprint.as_str()))
        .map(|e| e.fingerprint.clone())
        .collect();
    let resolved = b
        .findings
        .iter()
        .filter(|e| !found.contains(e.fingerprint.as_str()))
        .cloned()
        .collect();
    Comparison { accepted, resolved }
}
