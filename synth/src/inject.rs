//! The counted faults, chosen with their own random stream (so adding one does not change the
//! rest of the scenario) and away from the edges of a process's life (at least 15 s), where a
//! check may rightly withhold judgement:
//! - duplicates: an event queued twice (same dict, same created_at), logged once;
//! - lost DB batches: a flush whose `executemany` fails — rows gone, log lines kept;
//! - lost log lines: a row inserted whose log line was never written;
//! - the database down for a process's whole life: every flush of it fails.
//!
//! Each kind avoids the others' events, so every injected fault stays visible; duplicates and
//! lost lines are picked among events whose line the writer's level lets through (a row both
//! filtered and "lost" could be neither).

use super::activity::{Activity, WriterKind};
use super::eventlogger::Batch;
use super::model::Level;
use super::rng::Rng;

/// Event types that name an entity and happen once: the duplicates worth noticing.
const DUP_TYPES: [&str; 5] = [
    "position_created",
    "order_filled",
    "stop_loss_placed",
    "trailing_stop_activated",
    "order_placed",
];

const MARGIN: i64 = 15_000_000;

fn inside(a: &Activity, t: i64) -> bool {
    a.first_record + MARGIN <= t && t <= a.stop - MARGIN
}

fn is_process(a: &Activity) -> bool {
    matches!(a.kind, WriterKind::Process(_))
}

/// Queues a second copy of `n` events a few ms after the first; returns how many. Half of
/// them (rounded up) are `position_created`, the incident's pattern (FLMUSDT, position 1317).
/// Writers marked in `down` (the DB refuses their inserts) get none: no copy would be seen.
/// `levels`: each writer's level (events below it are not candidates).
pub fn duplicates(
    acts: &mut [Activity],
    down: &[bool],
    levels: &[Level],
    n: usize,
    rng: &mut Rng,
) -> usize {
    let mut created: Vec<(usize, usize)> = Vec::new();
    let mut others: Vec<(usize, usize)> = Vec::new();
    for (w, a) in acts.iter().enumerate() {
        if !is_process(a) || down.get(w).copied().unwrap_or(false) {
            continue;
        }
        for (i, e) in a.events.iter().enumerate() {
            if DUP_TYPES.contains(&e.event_type)
                && e.logged
                && e.level() >= levels[w]
                && inside(a, e.created)
            {
                if e.event_type == "position_created" {
                    created.push((w, i));
                } else {
                    others.push((w, i));
                }
            }
        }
    }
    let from_created = n.div_ceil(2).min(created.len());
    let mut chosen: Vec<(usize, usize)> = rng
        .sample(created.len(), from_created)
        .into_iter()
        .map(|k| created[k])
        .collect();
    chosen.extend(
        rng.sample(others.len(), n - from_created)
            .into_iter()
            .map(|k| others[k]),
    );
    for (group, &(w, i)) in chosen.iter().enumerate() {
        let a = &mut acts[w];
        let mut copy = a.events[i].clone();
        a.events[i].dup = Some((group as u32, false));
        copy.dup = Some((group as u32, true));
        copy.enqueued = copy.created + rng.range(2_000, 60_000);
        copy.logged = false;
        a.events.push(copy);
    }
    for a in acts.iter_mut() {
        a.events.sort_by_key(|e| e.enqueued);
    }
    chosen.len()
}

/// Fails every flush of the writers marked in `down` (the database refuses the connection);
/// returns how many.
pub fn db_down(batches: &mut [Batch], down: &[bool]) -> usize {
    let mut n = 0;
    for b in batches.iter_mut() {
        if down.get(b.writer).copied().unwrap_or(false) {
            b.failed = true;
            b.down = true;
            n += 1;
        }
    }
    n
}

/// Fails `n` periodic flushes (of those not failed already); returns how many.
pub fn failed_batches(acts: &[Activity], batches: &mut [Batch], n: usize, rng: &mut Rng) -> usize {
    let cands: Vec<usize> = batches
        .iter()
        .enumerate()
        .filter(|(_, b)| {
            let a = &acts[b.writer];
            is_process(a)
                && !b.failed
                && !b.last
                && b.events.len() >= 2
                && inside(a, b.flush_at)
                && b.events
                    .iter()
                    .all(|&e| a.events[e].dup.is_none() && a.events[e].logged)
        })
        .map(|(k, _)| k)
        .collect();
    let picked = rng.sample(cands.len(), n);
    for &k in &picked {
        batches[cands[k]].failed = true;
    }
    picked.len()
}

/// Drops the log line of `n` inserted rows whose line the writer's level (`levels`) lets
/// through; returns how many.
pub fn lost_log_lines(
    acts: &mut [Activity],
    batches: &[Batch],
    levels: &[Level],
    n: usize,
    rng: &mut Rng,
) -> usize {
    let mut cands: Vec<(usize, usize)> = Vec::new();
    for b in batches.iter().filter(|b| !b.failed) {
        let a = &acts[b.writer];
        if !is_process(a) {
            continue;
        }
        for &e in &b.events {
            let ev = &a.events[e];
            let lifecycle = matches!(ev.event_type, "bot_started" | "bot_stopped");
            if ev.logged
                && ev.dup.is_none()
                && !lifecycle
                && ev.level() >= levels[b.writer]
                && inside(a, ev.created)
            {
                cands.push((b.writer, e));
            }
        }
    }
    cands.sort_unstable();
    let picked = rng.sample(cands.len(), n);
    for &k in &picked {
        let (w, e) = cands[k];
        acts[w].events[e].logged = false;
    }
    picked.len()
}
