//! What the clocks themselves say:
//! - `clock_offset_change`: a log file whose clock steps inside it (an NTP correction, a VM
//!   resumed, DST, a host that moved). The file is already aligned piece by piece; the finding
//!   says where, by how much and why, so nobody is surprised by a jump in local times.
//! - `clock_unsettled`: a log file whose clock could be neither given, detected nor borrowed.
//!   Its lines are not judged (a finding on an assumed clock is a false accusation), and
//!   saying so fails the gate (no finding because of it would be a false acquittal).

use super::{Finding, FindingKind, LogRef, Severity};
use crate::time::{Provenance, format_offset_us};
use crate::timeline::{ClockEntry, View};

/// One finding per step, placed at the first record at or after its line.
/// `placed_only`: leave out a step none of `v`'s rows comes after (one time slice's view).
pub fn offset_changes(v: &View<'_>, clocks: &[ClockEntry], placed_only: bool) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in clocks.iter().filter(|c| c.role == "log") {
        let file = c.source.as_str();
        for st in &c.steps {
            let at = (0..v.len())
                .find(|&i| {
                    v.s("file", i) == Some(file) && v.line.get(i).is_some_and(|l| l >= st.line)
                })
                .and_then(|i| v.ts_utc.get(i));
            if placed_only && at.is_none() {
                continue;
            }
            let at = at.unwrap_or(st.at_us);
            let (before, after) = (
                (st.before_s * 1e6).round() as i64,
                (st.after_s * 1e6).round() as i64,
            );
            let step = after - before;
            // Within a minute of a whole quarter hour: a zone change, else the clock was set.
            let zone_like = step.abs() >= 840_000_000
                && (step.rem_euclid(900_000_000) < 60_000_000
                    || step.rem_euclid(900_000_000) > 840_000_000);
            let why = if zone_like {
                "DST, or the host moved"
            } else if step < 0 {
                "the host's clock was set back (an NTP correction, a VM resumed)"
            } else {
                "the host's clock was set forward (an NTP correction, a VM resumed)"
            };
            let unsure = match (&st.between_lines, &st.window_utc) {
                (Some([a, b]), _) if a != b => format!(
                    " (the records between lines {a} and {b} fit it in more than one place; it is somewhere there)"
                ),
                (_, Some([a, b])) => format!(
                    " (somewhere from {} to {} UTC: no record was written in between)",
                    a.get(11..23).unwrap_or(a),
                    b.get(11..23).unwrap_or(b)
                ),
                _ => String::new(),
            };
            let mut f = Finding::new(
                FindingKind::ClockOffsetChange,
                Severity::Medium,
                at,
                format!(
                    "{file}: the clock offset changes from {} to {} at line {}{unsure} ({:+.3} s): {why}; each part is aligned with its own offset",
                    format_offset_us(before),
                    format_offset_us(after),
                    st.line,
                    step as f64 / 1e6
                ),
            );
            f.log = Some(LogRef {
                file: file.to_string(),
                line: st.line,
                copy: false,
            });
            f.details = serde_json::json!({
                "from": format_offset_us(before),
                "to": format_offset_us(after),
                "from_s": st.before_s,
                "to_s": st.after_s,
                "step_s": step as f64 / 1e6,
            });
            if let Some(b) = st.between_lines {
                f.details["between_lines"] = serde_json::json!(b);
            }
            out.push(f.sealed());
        }
    }
    super::sort(&mut out);
    out
}

/// One finding per log file whose clock is not settled: what is not judged, and the flag that
/// pins it. Placed at the file's first record (on the assumed clock; nothing better is known).
pub fn unsettled(v: &View<'_>, clocks: &[ClockEntry]) -> Vec<Finding> {
    let mut out = Vec::new();
    for c in clocks.iter().filter(|c| c.role == "log") {
        let Provenance::Assumed { why } = &c.provenance else {
            continue;
        };
        let file = c.source.as_str();
        let mut first: Option<(i64, u32)> = None;
        let mut events = 0usize;
        for i in 0..v.len() {
            if v.s("file", i) != Some(file) {
                continue;
            }
            if first.is_none() {
                first = Some((v.ts_utc.get(i).unwrap_or(0), v.line.get(i).unwrap_or(1)));
            }
            if matches!(v.s("kind", i), Some("event" | "malformed_event")) {
                events += 1;
            }
        }
        let (at, line) = first
            .or_else(|| c.segments.first().map(|s| (s.from_us, s.from_line)))
            .unwrap_or((0, 1));
        let mut f = Finding::new(
            FindingKind::ClockUnsettled,
            Severity::High,
            at,
            format!(
                "{file}: its clock cannot be settled ({why}); its {events} event line(s) and the DB rows of its time are not judged — a finding on a guessed clock would be a false accusation. Pin it with --log-tz '{file}=ZONE' (or [clock] log_tz in audit.toml)"
            ),
        );
        f.log = Some(LogRef {
            file: file.to_string(),
            line,
            copy: false,
        });
        f.details =
            serde_json::json!({ "event_lines": events, "pin": format!("--log-tz '{file}=ZONE'") });
        out.push(f.sealed());
    }
    out
}
