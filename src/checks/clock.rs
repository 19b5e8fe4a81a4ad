//! `clock_offset_change`: a log file whose clock offset changes inside it (DST, a host that
//! moved), as detection found it. The file is already aligned per segment; the finding says
//! where and why, so nobody is surprised by a jump in local times.

use super::{Finding, FindingKind, LogRef, Severity};
use crate::clock::skew::Estimate;
use crate::time::format_offset;
use crate::timeline::View;

/// One finding per change, placed at the first record after it.
/// `placed_only`: leave out a change none of `v`'s rows comes after (one time slice's view).
pub fn offset_changes(
    v: &View<'_>,
    estimates: &[(String, Option<Estimate>)],
    placed_only: bool,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (file, est) in estimates {
        let Some(e) = est.as_ref().filter(|e| e.segments.len() > 1) else {
            continue;
        };
        for w in e.segments.windows(2) {
            let at = (0..v.len())
                .find(|&i| {
                    v.s("file", i) == Some(file.as_str())
                        && v.line.get(i).is_some_and(|l| l >= w[1].first_line)
                })
                .and_then(|i| v.ts_utc.get(i));
            if placed_only && at.is_none() {
                continue;
            }
            let at = at.unwrap_or(0);
            let mut f = Finding::new(
                FindingKind::ClockOffsetChange,
                Severity::Medium,
                at,
                format!(
                    "{file}: the clock offset changes from {} (lines {}–{}, {} anchors) to {} (lines {}–{}, {} anchors): DST, or the host moved; each part is aligned with its own offset",
                    format_offset(w[0].offset),
                    w[0].first_line,
                    w[0].last_line,
                    w[0].anchors,
                    format_offset(w[1].offset),
                    w[1].first_line,
                    w[1].last_line,
                    w[1].anchors
                ),
            );
            f.log = Some(LogRef {
                file: file.clone(),
                line: w[1].first_line,
            });
            f.details = serde_json::json!({ "from": format_offset(w[0].offset), "to": format_offset(w[1].offset) });
            out.push(f.sealed());
        }
    }
    super::sort(&mut out);
    out
}
