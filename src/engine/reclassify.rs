//! What one check explains of another's findings, applied after every check has run, so a
//! single-check command and `check` say the same of every finding.

use crate::checks::{Finding, FindingKind, Severity};

/// A row another writer wrote is not a lost log line: its `missing_in_log` finding says so and
/// drops to info, pointing at the `unattributed_activity` finding that accounts for it.
pub(super) fn explain_foreign_rows(findings: &mut [Finding]) {
    let foreign: std::collections::HashMap<i64, String> = findings
        .iter()
        .filter(|f| f.kind == FindingKind::UnattributedActivity)
        .flat_map(|f| {
            f.event_ids
                .iter()
                .map(move |id| (*id, f.fingerprint.clone()))
        })
        .collect();
    for f in findings
        .iter_mut()
        .filter(|f| f.kind == FindingKind::MissingInLog)
    {
        if let Some(fp) = f.event_id.and_then(|id| foreign.get(&id)) {
            f.severity = Severity::Info;
            f.explanation.push_str(&format!(
                "; no live process wrote it (unattributed_activity {fp}): another writer's row, not a lost log line"
            ));
        }
    }
}

/// Downtime and rows without a process near a file whose clock is not settled are not judged:
/// that file's process may have been alive then. They stay, as info, saying so.
pub(super) fn spare_unsettled(findings: &mut [Finding], spans: &[(String, i64, i64)]) {
    if spans.is_empty() {
        return;
    }
    for f in findings.iter_mut().filter(|f| {
        matches!(
            f.kind,
            FindingKind::ProcessGap | FindingKind::UnattributedActivity
        ) && f.severity > Severity::Info
    }) {
        let end = f.at_us
            + f.details["gap_s"]
                .as_f64()
                .map_or(0, |s| (s * 1e6) as i64)
                .max(f.run.as_ref().map_or(0, |r| r.last - f.at_us));
        let near: Vec<&str> = spans
            .iter()
            .filter(|(_, a, b)| *a <= end && f.at_us <= *b)
            .map(|(n, ..)| n.as_str())
            .collect();
        if near.is_empty() {
            continue;
        }
        f.severity = Severity::Info;
        f.explanation.push_str(&format!(
            "; not judged: the clock of {} is not settled, and its process may have been alive then",
            near.join(", ")
        ));
    }
}

/// Rows a file's logging level explains (`log_level_filtered`, just outside its records where
/// the level also hides its lock lines) are that process's, not another writer's: they leave
/// `unattributed_activity`, and a finding left with none goes.
pub(super) fn spare_filtered(findings: &mut Vec<Finding>) {
    let explained: std::collections::HashMap<i64, String> = findings
        .iter()
        .filter(|f| f.kind == FindingKind::LogLevelFiltered)
        .flat_map(|f| {
            let file = f.log.as_ref().map(|l| l.file.clone()).unwrap_or_default();
            f.event_ids.iter().map(move |id| (*id, file.clone()))
        })
        .collect();
    if explained.is_empty() {
        return;
    }
    findings.retain_mut(|f| {
        if f.kind != FindingKind::UnattributedActivity {
            return true;
        }
        let before = f.event_ids.len();
        let mut files: Vec<String> = Vec::new();
        f.event_ids.retain(|id| match explained.get(id) {
            Some(file) => {
                if !files.contains(file) {
                    files.push(file.clone());
                }
                false
            }
            None => true,
        });
        if f.event_ids.is_empty() {
            return false;
        }
        if f.event_ids.len() < before {
            f.explanation.push_str(&format!(
                "; {} more row(s) of that time are {}'s, whose logging level kept their lines out (log_level_filtered)",
                before - f.event_ids.len(),
                files.join(", ")
            ));
            *f = f.clone().sealed();
        }
        true
    });
}
