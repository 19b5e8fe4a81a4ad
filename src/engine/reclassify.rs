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
