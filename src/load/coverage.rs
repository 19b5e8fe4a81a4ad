//! What each log file (each process in it) covers on UTC, under a set of clocks.

use crate::clock::SourceClock;
use crate::rows::Kind;
use crate::source::logs::LogFile;

use super::clocks::ClockDecision;

/// Each log file's (and, in a file spanning restarts, each PID's) first and last record on UTC.
pub fn coverage_of(logs: &[LogFile], clocks: &[SourceClock]) -> Vec<crate::rows::Coverage> {
    use crate::rows::Coverage;
    let mut out: Vec<Coverage> = Vec::new();
    for (k, (l, clock)) in logs.iter().zip(clocks).enumerate() {
        let (Some(first), Some(last)) = (l.first_ts, l.last_ts) else {
            continue;
        };
        let last_line = u32::try_from(l.info.stats.lines).unwrap_or(u32::MAX);
        let (start, mut end) = (clock.utc(first, 1), clock.utc(last, last_line));
        // A rotated member's end is a roll: its process goes on in the next member, from that
        // member's first record (files come in rotation order, `logs::discover`).
        let rolled = l.info.continued;
        if let (true, Some(next), Some(nc)) = (rolled, logs.get(k + 1), clocks.get(k + 1)) {
            if let Some(t) = next.first_ts {
                end = end.max(nc.utc(t, 1));
            }
        }
        let c = &l.chunk;
        let locks: Vec<usize> = (0..c.len())
            .filter(|&i| c.kind[i] == Kind::LockAcquired)
            .collect();
        // A clean stop: the shutdown lines (typed lines and the lifecycle event are never
        // sampled away).
        let stops = |i: usize| {
            matches!(
                c.kind[i],
                Kind::LockReleased | Kind::ShutdownInitiated | Kind::SignalReceived
            ) || (c.kind[i] == Kind::Event && c.event_type[i].as_deref() == Some("bot_stopped"))
        };
        if l.info.pids.len() <= 1 && l.info.carried_pid.is_none() {
            out.push(Coverage {
                file: l.info.name.clone(),
                pid: l.info.pids.first().copied(),
                start,
                end,
                clean_start: !locks.is_empty(),
                clean_end: rolled || (0..c.len()).any(stops),
                copy_of: None,
            });
            continue;
        }
        // A file spanning restarts (or a rotated member going on with the process the member
        // before it ended with): one stretch per PID, cut at each lock line; each ends at the
        // last record (kept row or index mark) before the next lock line.
        // Every time placed with `clock` (not the chunk's ts_utc): the naive counts ask for
        // the coverage under a clock the rows were not aligned with.
        let at = |i: usize| clock.utc(c.ts_local[i], c.line[i].unwrap_or(0));
        let mut points: Vec<(u64, i64)> = (0..c.len())
            .filter_map(|i| Some((c.byte_offset[i]?, at(i))))
            .collect();
        points.extend(
            l.marks
                .iter()
                .map(|m| (m.offset, clock.utc(m.ts_local, m.line))),
        );
        points.sort_unstable();
        let cuts: Vec<(u64, Option<u32>, i64)> = std::iter::once((0u64, l.info.carried_pid, start))
            .chain(
                locks
                    .iter()
                    .map(|&i| (c.byte_offset[i].unwrap_or(0), c.pid[i], at(i))),
            )
            .collect();
        for (k, &(from, pid, t0)) in cuts.iter().enumerate() {
            let to = cuts.get(k + 1).map_or(u64::MAX, |x| x.0);
            let t1 = points
                .iter()
                .filter(|(o, _)| *o >= from && *o < to)
                .map(|(_, t)| *t)
                .max();
            let t1 = if k + 1 == cuts.len() { Some(end) } else { t1 };
            if let Some(t1) = t1 {
                if k == 0 && from == to {
                    continue;
                }
                let stopped = (0..c.len())
                    .any(|i| stops(i) && c.byte_offset[i].is_some_and(|o| o >= from && o < to));
                out.push(Coverage {
                    file: l.info.name.clone(),
                    pid,
                    start: t0,
                    end: t1.max(t0),
                    // Every stretch but the one before the first lock line starts at one, or
                    // goes on from the member before.
                    clean_start: k > 0 || l.info.carried_pid.is_some(),
                    clean_end: stopped || (rolled && k + 1 == cuts.len()),
                    copy_of: None,
                });
            }
        }
    }
    out
}

/// First and last record of the logs on UTC.
pub(super) fn logs_span(logs: &[LogFile], decisions: &[ClockDecision]) -> Option<(i64, i64)> {
    logs.iter()
        .zip(decisions)
        .filter_map(|(l, d)| {
            let last_line = u32::try_from(l.info.stats.lines).unwrap_or(u32::MAX);
            Some((
                d.clock.utc(l.first_ts?, 1),
                d.clock.utc(l.last_ts?, last_line),
            ))
        })
        .reduce(|(a, b), (c, e)| (a.min(c), b.max(e)))
}
