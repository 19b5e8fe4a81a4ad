//! What the first pass left out and the question selects, read back: a window's messages and
//! a sampled file's events by the time index, a signal's records and its positions' events by a
//! byte search; and the DB rows of a signal's positions.

use std::collections::HashSet;

use crate::error::AuditError;
use crate::rows::Chunk;
use crate::source::db::{DbSession, Pushdown};
use crate::source::events::Events;
use crate::source::logs::{self, LogFile};
use crate::time::Zone;
use crate::timeline::{Filter, align, signal_positions};

use super::clocks::ClockDecision;
use super::window::naive_interval;

/// Reads back, for each file, what the first pass left out and the filter selects: the plain
/// messages a window or signal filter can select (when `messages`), and a sampled file's
/// events inside the window. Aligns them with the file's clock and adds them to its rows.
pub(super) fn bring_back(
    logs: &mut [LogFile],
    decisions: &[ClockDecision],
    f: &Filter,
    messages: bool,
    naive_zone: Option<Zone>,
) -> Result<(), AuditError> {
    for (l, d) in logs.iter_mut().zip(decisions) {
        let mut within: Vec<(i64, i64)> = Vec::new();
        let mut events_within: Vec<(i64, i64)> = Vec::new();
        let ranges = if let Some(n) = f.signal {
            l.ranges_containing(&[n.to_string().as_bytes()])?
        } else if let Some(w) = &f.window {
            // The window in this file's naive time: every offset its clock uses (an hour more
            // where DST is near); for a sampled file's events also in the zone the naive reading
            // uses.
            let aligned = naive_interval(w, &d.clock.zones(), d.clock.skew_bound_us());
            within.push(aligned);
            events_within.push(aligned);
            let mut ranges = l.ranges_between(aligned.0, aligned.1);
            if let (Some(z), true) = (naive_zone, l.sampled) {
                let naive = naive_interval(w, &[z], 0);
                events_within.push(naive);
                ranges.extend(l.ranges_between(naive.0, naive.1));
            }
            merge_ranges(ranges)
        } else {
            Vec::new()
        };
        if ranges.is_empty() {
            continue;
        }
        let want = logs::Take {
            messages,
            messages_within: (!within.is_empty()).then_some(within.as_slice()),
            events_within: (!events_within.is_empty()).then_some(events_within.as_slice()),
            ..logs::Take::STRUCTURED
        };
        let mut more = l.read_back(&ranges, &want)?;
        align(&mut more, &d.clock);
        l.chunk.append(&mut more);
    }
    Ok(())
}

/// What an event line names position `p` with: the dict's key, its value an int or a string.
/// (`Position #N … opened` lines are typed lines, which every first pass keeps.)
pub(super) fn position_needles(positions: &[i64]) -> Vec<String> {
    positions
        .iter()
        .flat_map(|p| {
            [
                format!("'position_id': {p}"),
                format!("'position_id': '{p}'"),
            ]
        })
        .collect()
}

/// For each file, the records that contain any of `needles` and that the first pass did not
/// keep: a sampled file's events, and (`messages_of: Some(signal)`) the plain messages that
/// mention the signal.
pub(super) fn read_back_containing(
    logs: &mut [LogFile],
    decisions: &[ClockDecision],
    groups: &[(Vec<String>, Option<i64>)],
) -> Result<(), AuditError> {
    use rayon::prelude::*;
    if groups.iter().all(|(n, _)| n.is_empty()) {
        return Ok(());
    }
    // Files in parallel: each is one read for every group's needles, then a parse of each
    // group's stretches in turn (events a group brought back are not brought back again).
    logs.par_iter_mut()
        .zip(decisions.par_iter())
        .try_for_each(|(l, d)| -> Result<(), AuditError> {
            let wanted: Vec<bool> = groups
                .iter()
                .map(|(_, m)| l.sampled || m.is_some())
                .collect();
            if !wanted.contains(&true) {
                return Ok(());
            }
            let bytes: Vec<Vec<&[u8]>> = groups
                .iter()
                .zip(&wanted)
                .map(|((n, _), w)| match w {
                    true => n.iter().map(|n| n.as_bytes()).collect(),
                    false => Vec::new(),
                })
                .collect();
            let refs: Vec<&[&[u8]]> = bytes.iter().map(Vec::as_slice).collect();
            let found = l.ranges_containing_each(&refs)?;
            for ((_, messages_of), ranges) in groups.iter().zip(found) {
                let ranges = merge_ranges(ranges);
                if ranges.is_empty() {
                    continue;
                }
                let everywhere = [(i64::MIN, i64::MAX)];
                let want = logs::Take {
                    messages: messages_of.is_some(),
                    messages_mentioning: *messages_of,
                    events_within: Some(&everywhere),
                    ..logs::Take::STRUCTURED
                };
                let mut more = l.read_back(&ranges, &want)?;
                align(&mut more, &d.clock);
                l.chunk.append(&mut more);
            }
            Ok(())
        })
}

/// Byte ranges `[from, to)` (None: to the end) merged where they touch or overlap, so no
/// record is read twice.
pub(super) fn merge_ranges(mut r: Vec<(u64, Option<u64>, u32)>) -> Vec<(u64, Option<u64>, u32)> {
    r.sort_by_key(|x| x.0);
    let mut out: Vec<(u64, Option<u64>, u32)> = Vec::new();
    for x in r {
        match out.last_mut() {
            Some(last) if last.1.is_none_or(|end| x.0 <= end) => {
                last.1 = match (last.1, x.1) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => out.push(x),
        }
    }
    out
}

/// The DB rows of a filter: pushed down as bound parameters; for a signal, a second pass for
/// the positions its rows (DB and log) name.
pub(super) fn pushdown(filter: &Filter) -> Pushdown {
    Pushdown {
        start: filter.window.map(|w| w.start),
        end: filter.window.map(|w| w.end),
        symbol: filter.symbol.clone(),
        position: filter.position,
        correlation: filter.correlation.clone(),
        signal: filter.signal,
        positions: None,
    }
}

/// For a signal: a second pass for the rows of the positions its rows (DB and log) name.
pub(super) fn fetch_signal_positions(
    session: &mut DbSession,
    filter: &Filter,
    chunk: &mut Chunk,
    log_chunks: &[&Chunk],
) -> Result<(), AuditError> {
    if filter.signal.is_none() {
        return Ok(());
    }
    let mut all = vec![&*chunk];
    all.extend(log_chunks.iter().copied());
    let positions = signal_positions(&all, filter);
    if positions.is_empty() {
        return Ok(());
    }
    let mut q = pushdown(filter);
    q.signal = None;
    q.positions = Some(positions);
    let mut more = Events::empty_chunk();
    session.fetch(&q, &mut more)?;
    let seen: HashSet<i64> = chunk.event_id.iter().flatten().copied().collect();
    let keep: Vec<bool> = more
        .event_id
        .iter()
        .map(|id| id.is_none_or(|id| !seen.contains(&id)))
        .collect();
    more.retain(&keep);
    chunk.append(&mut more);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_ranges_merge_where_they_touch_or_overlap() {
        let r = merge_ranges(vec![
            (500, Some(900), 50),
            (0, Some(100), 1),
            (100, Some(200), 10),
            (150, Some(180), 15),
            (800, None, 80),
            (2000, Some(3000), 200),
        ]);
        assert_eq!(r, vec![(0, Some(200), 1), (500, None, 50)]);
        assert!(merge_ranges(Vec::new()).is_empty());
    }
}
