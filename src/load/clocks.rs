//! Each log file's clock, decided once per load: a zone given by a flag or audit.toml,
//! else detected from the data, else an assumption every output flags.

use chrono::{DateTime, Utc};

use crate::clock::skew::{self, DbTwins, Estimate};
use crate::clock::{LogTzRule, SourceClock, log_clock};
use crate::error::AuditError;
use crate::rows::{Chunk, Kind};
use crate::source::logs::{self, LogFile};
use crate::time::{Provenance, Zone, Zoned};

use super::Loaded;
use super::readback::merge_ranges;
use super::slices::Reuse;
use super::sources::SourcePlan;

/// How each log file's clock was decided (for `audit skew` and every banner).
#[derive(Debug, Clone)]
pub struct ClockDecision {
    pub file: String,
    pub clock: SourceClock,
    /// The detection result when detection ran (also when a flag overrode it).
    pub estimate: Option<Estimate>,
    /// Set when the data contradicts a zone the user gave.
    pub warning: Option<String>,
}

/// Decides each log file's clock: a flag/config rule, else detection from DB twins, else an
/// assumption that every output flags. `--no-align` reads them in the display zone.
pub(super) fn decide_clocks(
    logs: &[LogFile],
    rules: &[LogTzRule],
    twins: Option<&DbTwins>,
    no_align: bool,
    display: &Zoned,
) -> Vec<ClockDecision> {
    use rayon::prelude::*;
    logs.par_iter()
        .map(|l| {
            let name = &l.info.name;
            let empty = DbTwins::default();
            let estimate = Some(skew::estimate(&l.chunk, twins.unwrap_or(&empty))).filter(|e| e.candidates > 0);
            let given = log_clock(name, rules);
            let clock = if no_align {
                SourceClock::new(display.zone, Provenance::Unaligned)
            } else if !given.provenance.is_assumed() {
                given
            } else {
                match estimate.as_ref().and_then(SourceClock::detected) {
                    Some(c) => c,
                    None => SourceClock::new(
                        Zone::UTC,
                        Provenance::Assumed {
                            why: format!(
                                "no zone given for {name} and no DB twins to detect it; pass --log-tz '{name}=+HH:MM'"
                            ),
                        },
                    ),
                }
            };
            let warning = match (&clock.provenance, estimate.as_ref()) {
                (Provenance::Given { by }, Some(e)) if e.confidence >= skew::Confidence::Medium && clock.changes.is_empty() => e
                    .offset()
                    .filter(|o| clock.zone != Zone::Fixed(*o))
                    .map(|o| format!("{name}: {by} says {}, but {} DB/log twins put it at {}", clock.zone, e.anchors, crate::time::format_offset(o))),
                _ => None,
            };
            ClockDecision { file: name.clone(), clock, estimate, warning }
        })
        .collect()
}

/// The span of instants a set of log files can cover: their naive times ± 14 h.
pub(super) fn possible_span(logs: &[LogFile]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let lo = logs.iter().filter_map(|l| l.first_ts).min()?;
    let hi = logs.iter().filter_map(|l| l.last_ts).max()?;
    pad_span((lo, hi))
}

/// Naive first/last times ± 14 h (every real offset), as instants.
pub(super) fn pad_span((lo, hi): (i64, i64)) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let pad = 14 * 3600 * 1_000_000 + 60_000_000;
    Some((
        DateTime::from_timestamp_micros(lo - pad)?,
        DateTime::from_timestamp_micros(hi + pad + 1)?,
    ))
}

/// The clocks of a time-sliced run, decided once from the shared first pass (`loaded` is the
/// first load that filled `reuse`). Where the samples bracket an offset change, the events
/// between the two samples around it are read back and detection runs again, so the change
/// lands between the same two lines a full pass puts it (as a window's read-back does). Every
/// later load with `reuse` places its rows with these clocks and detects nothing.
pub fn settle_clocks(
    reuse: &mut Reuse,
    plan: &SourcePlan,
    loaded: &Loaded,
    no_align: bool,
) -> Result<(), AuditError> {
    let mut decisions = loaded.decisions.clone();
    if let (Some(logs), false) = (reuse.logs.as_mut(), no_align) {
        // Each round can place a change the previous one did not see; a file has few.
        for _ in 0..4 {
            let mut more = false;
            for (l, d) in logs.iter_mut().zip(&decisions) {
                if !l.sampled || d.clock.changes.is_empty() {
                    continue;
                }
                let ranges = merge_ranges(change_brackets(&l.chunk, &d.clock));
                let everywhere = [(i64::MIN, i64::MAX)];
                let want = logs::Take {
                    events_within: Some(&everywhere),
                    ..logs::Take::STRUCTURED
                };
                let mut c = l.read_back(&ranges, &want)?;
                more |= !c.is_empty();
                l.chunk.append(&mut c);
            }
            if !more {
                break;
            }
            decisions = decide_clocks(
                logs,
                &plan.log_rules,
                reuse.twins.as_ref(),
                no_align,
                &loaded.display,
            );
        }
    }
    reuse.decisions = Some(decisions);
    // Anchors were for detection only; the slices detect nothing.
    reuse.twins = None;
    Ok(())
}

/// For each offset change of `clock`: the bytes from the last kept event before its line to
/// the first kept event at or after it (a sampled file's events between them were skipped).
pub(super) fn change_brackets(c: &Chunk, clock: &SourceClock) -> Vec<(u64, Option<u64>, u32)> {
    let events: Vec<(u32, u64)> = (0..c.len())
        .filter(|&i| c.kind[i] == Kind::Event)
        .filter_map(|i| Some((c.line[i]?, c.byte_offset[i]?)))
        .collect();
    clock
        .changes
        .iter()
        .map(|&(line, _)| {
            let before = events.iter().filter(|e| e.0 < line).max();
            let after = events.iter().filter(|e| e.0 >= line).min();
            (
                before.map_or(0, |e| e.1),
                after.map(|e| e.1),
                before.map_or(1, |e| e.0),
            )
        })
        .collect()
}
