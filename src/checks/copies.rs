//! Copies of one stream that disagree (`load::copies`): a stretch of records one copy holds and
//! another lacks is a `log_copy_gap` (low), so the reader knows which copy to trust for which
//! interval. Those records are read from the copy that has them: never missing lines.

use super::{Finding, FindingKind, LogRef, Severity};
use crate::load::{Copies, CopyGap};
use crate::time::hms;
use crate::time::{UtcRange, rfc3339_micros};

/// One finding per gap in `window`.
pub fn gaps(gaps: &[CopyGap], window: Option<UtcRange>) -> Vec<Finding> {
    let inside = |g: &CopyGap| {
        window.is_none_or(|w| {
            g.from_us < w.end.timestamp_micros() && w.start.timestamp_micros() <= g.to_us
        })
    };
    gaps.iter()
        .filter(|g| inside(g))
        .map(|g| {
            let pid = g.pid.map_or_else(|| "an unknown process".to_string(), |p| format!("PID {p}"));
            let missing = g.missing_from.join(", ");
            let mut f = Finding::new(
                FindingKind::LogCopyGap,
                Severity::Low,
                g.from_us,
                format!(
                    "{} records of {pid} (events and typed lines; plain messages are not compared) from {} to {} UTC are in {} but not in {missing}, another copy of the same stream: that copy lost them (its writer died, a disk filled, a member was lost). They are read from {}, not reported as missing",
                    g.records,
                    hms(g.from_us),
                    hms(g.to_us),
                    g.present_in_all.join(", "),
                    g.present_in,
                ),
            );
            f.log = Some(LogRef::at(&g.present_in, g.first_line));
            f.logs = match &g.before {
                Some((file, line)) => vec![LogRef::at(file, *line)],
                None => g.missing_from.iter().map(|m| LogRef::at(m, 0)).collect(),
            };
            f.details = serde_json::json!({
                "pid": g.pid,
                "missing_from": g.missing_from,
                "present_in": g.present_in,
                "present_in_all": g.present_in_all,
                "from_utc": rfc3339_micros(g.from_us),
                "to_utc": rfc3339_micros(g.to_us),
                "records": g.records,
            });
            f.sealed()
        })
        .collect()
}

/// Each finding's log lines, followed by the same records in the other copies (`copy`: shown,
/// never part of the fingerprint).
pub fn cite(findings: &mut [Finding], copies: &Copies) {
    if !copies.any() {
        return;
    }
    // A copy gap names its copies already: the line before the gap has a twin by definition.
    for f in findings
        .iter_mut()
        .filter(|f| f.kind != FindingKind::LogCopyGap)
    {
        let mut extra: Vec<LogRef> = Vec::new();
        for r in f.log.iter().chain(&f.logs).filter(|r| !r.copy) {
            for (file, line) in copies.twins_of(&r.file, r.line) {
                let c = LogRef {
                    file,
                    line,
                    copy: true,
                };
                if !extra.contains(&c) {
                    extra.push(c);
                }
            }
        }
        f.logs.extend(extra);
    }
}
