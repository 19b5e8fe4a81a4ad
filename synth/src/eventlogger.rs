//! The EventLogger's worker: it flushes the queue every 5 s, or as soon as 100 events are
//! waiting, with one `executemany` per batch of at most 100. Ids come from the table's
//! sequence at INSERT time, so they follow flush order across every writer — which is why id
//! order and created_at order disagree when two writers interleave.

use std::collections::VecDeque;

use super::activity::{Activity, WriterKind};
use super::model::{Level, Line};
use super::rng::Rng;
use super::text::{REFUSED, batch_traceback, refused_traceback};

const INTERVAL: i64 = 5_000_000;
const BATCH: usize = 100;

/// One `executemany`.
#[derive(Debug, Clone)]
pub struct Batch {
    pub writer: usize,
    /// `EventLogger flushing N events`.
    pub flush_at: i64,
    /// When the rows take their ids.
    pub insert_at: i64,
    /// `EventLogger wrote …` or `batch write failed`.
    pub done_at: i64,
    /// Indices into the writer's events, in queue order.
    pub events: Vec<usize>,
    /// The shutdown / end-of-data flush (not a candidate for injected failures).
    pub last: bool,
    pub failed: bool,
    /// Failed because the database refused the connection (it was down).
    pub down: bool,
}

/// The flushes of one writer. Events must be sorted by enqueue time.
pub fn batches(a: &Activity, writer: usize, rng: &mut Rng) -> Vec<Batch> {
    let ev = &a.events;
    let n = ev.len();
    let mut out = Vec::new();
    let mut queue: VecDeque<usize> = VecDeque::new();
    let mut next = 0usize;
    let mut last = a.worker_start;
    let mut cut = |queue: &mut VecDeque<usize>, at: i64, last_flush: bool, rng: &mut Rng| {
        let take = queue.len().min(BATCH);
        let dur = 3_000 + take as i64 * rng.range(100, 400);
        out.push(Batch {
            writer,
            flush_at: at,
            insert_at: at + dur / 2,
            done_at: at + dur,
            events: queue.drain(..take).collect(),
            last: last_flush,
            failed: false,
            down: false,
        });
        at + dur
    };
    loop {
        let deadline = last + INTERVAL;
        let need = BATCH.saturating_sub(queue.len());
        let full_at = (need > 0)
            .then(|| next + need - 1)
            .filter(|&k| k < n && ev[k].enqueued <= deadline)
            .map(|k| (ev[k].enqueued + rng.range(200, 2_000)).max(last));
        let flush_at = match (need, full_at) {
            (0, _) => last,
            (_, Some(t)) => t,
            _ => deadline,
        };
        if flush_at >= a.stop {
            break;
        }
        while next < n && ev[next].enqueued <= flush_at {
            queue.push_back(next);
            next += 1;
        }
        if queue.is_empty() {
            last = flush_at;
            continue;
        }
        last = cut(&mut queue, flush_at, false, rng);
    }
    if a.final_flush {
        while next < n && ev[next].enqueued <= a.stop {
            queue.push_back(next);
            next += 1;
        }
        let mut at = a.stop.max(last);
        while !queue.is_empty() {
            at = cut(&mut queue, at, true, rng) + 200;
        }
    }
    out
}

/// Gives every inserted row its id: batches in INSERT order over all writers, rows in queue
/// order. Returns per writer, per event, the id (None: never inserted).
pub fn assign_ids(
    batches: &[Batch],
    events_per_writer: &[usize],
    first_id: i64,
) -> Vec<Vec<Option<i64>>> {
    let mut ids: Vec<Vec<Option<i64>>> = events_per_writer.iter().map(|&n| vec![None; n]).collect();
    let mut order: Vec<&Batch> = batches.iter().filter(|b| !b.failed).collect();
    order.sort_by_key(|b| (b.insert_at, b.writer));
    let mut id = first_id;
    for b in order {
        for &e in &b.events {
            ids[b.writer][e] = Some(id);
            id += 1;
        }
    }
    ids
}

/// The worker's lines for one process's batches (ids must be assigned).
pub fn flush_lines(a: &Activity, batches: &[(usize, &Batch)], ids: &[Option<i64>]) -> Vec<Line> {
    let mut out = Vec::new();
    if !matches!(a.kind, WriterKind::Process(_)) {
        return out;
    }
    for &(k, b) in batches {
        out.push(Line {
            t: b.flush_at,
            level: Level::Info,
            logger: "core.event_logger",
            msg: format!("EventLogger flushing {} events", b.events.len()),
            cont: None,
            failed_batch: None,
        });
        if b.failed {
            let (msg, cont) = if b.down {
                (
                    format!("EventLogger batch write failed: {REFUSED}"),
                    refused_traceback(),
                )
            } else {
                (
                    "EventLogger batch write failed: connection was closed in the middle of operation".into(),
                    batch_traceback(),
                )
            };
            out.push(Line {
                t: b.done_at,
                level: Level::Error,
                logger: "core.event_logger",
                msg,
                cont: Some(cont),
                failed_batch: Some(k),
            });
            continue;
        }
        let tail: Vec<String> = b
            .events
            .iter()
            .skip(b.events.len().saturating_sub(3))
            .map(|&e| {
                format!(
                    "id={}:{}",
                    ids[e].unwrap_or_default(),
                    a.events[e].event_type
                )
            })
            .collect();
        out.push(Line {
            t: b.done_at,
            level: Level::Info,
            logger: "core.event_logger",
            msg: format!(
                "EventLogger wrote {} events to DB (last_ids=[{}])",
                b.events.len(),
                tail.join(", ")
            ),
            cont: None,
            failed_batch: None,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Event;
    use crate::py::Py;

    fn ev(t: i64) -> Event {
        Event {
            writer: 0,
            created: t,
            enqueued: t,
            lag: 0,
            event_type: "e",
            data: Py::dict([("t", Py::Int(t))]),
            severity: "INFO",
            correlation_id: None,
            epoch: None,
            position_id: None,
            order_id: None,
            symbol: None,
            exchange: None,
            error_message: None,
            stack_trace: None,
            logged: true,
            dup: None,
        }
    }

    fn activity(times: &[i64], stop: i64, final_flush: bool) -> Activity {
        Activity {
            kind: WriterKind::Process(0),
            events: times.iter().map(|&t| ev(t)).collect(),
            lines: Vec::new(),
            worker_start: 0,
            stop,
            final_flush,
            first_record: 0,
        }
    }

    #[test]
    fn flushes_every_five_seconds_or_at_a_hundred() {
        // 3 events in the first 5 s, then a burst of 150 within 1 s.
        let mut times = vec![1_000_000, 2_000_000, 4_000_000];
        times.extend((0..150).map(|i| 6_000_000 + i * 5_000));
        let a = activity(&times, 60_000_000, true);
        let b = batches(&a, 0, &mut Rng::new(1));
        let sizes: Vec<usize> = b.iter().map(|x| x.events.len()).collect();
        assert_eq!(sizes[0], 3);
        assert!((5_000_000..5_100_000).contains(&b[0].flush_at));
        // The burst fills a batch of 100 before the next deadline, then the rest.
        assert_eq!(sizes[1], 100);
        assert!(b[1].flush_at < b[0].done_at + INTERVAL);
        assert_eq!(sizes.iter().sum::<usize>(), 153);
        // FIFO: queue order is enqueue order.
        let all: Vec<usize> = b.iter().flat_map(|x| x.events.clone()).collect();
        assert!(all.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn a_killed_writer_loses_its_queue_and_ids_follow_insert_order() {
        let a = activity(&[1_000_000, 7_000_000, 9_000_000], 9_500_000, false);
        let b = batches(&a, 0, &mut Rng::new(1));
        // Flushed at 5 s: the first; the next deadline (10 s) comes after the kill.
        assert_eq!(b.iter().map(|x| x.events.len()).sum::<usize>(), 1);
        let c = activity(&[3_000_000], 9_500_000, true);
        let mut bc = batches(&c, 1, &mut Rng::new(2));
        let mut all = b.clone();
        all.append(&mut bc);
        let ids = assign_ids(&all, &[3, 1], 100);
        // Writer 1's row (flushed at ~5 s, like writer 0's first) and writer 0's rows
        // interleave by INSERT time; the unflushed one has none.
        assert_eq!((ids[0][1], ids[0][2]), (None, None));
        let mut got: Vec<i64> = ids.iter().flatten().flatten().copied().collect();
        got.sort_unstable();
        assert_eq!(got, vec![100, 101]);
    }
}
