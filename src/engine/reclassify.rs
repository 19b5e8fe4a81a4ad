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
