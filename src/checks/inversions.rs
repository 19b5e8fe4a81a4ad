//! `inversions`: three orders of the correlated rows — the epoch inside the correlation id
//! (when `open_position` started), `created_at` (when its event was logged), and `id` (when
//! the row was inserted) — and every pair on which they disagree, classified with evidence:
//!
//! - `clock_anomaly`: a row's created_at precedes its own epoch beyond tolerance — a clock
//!   or a foreign writer, never an ordinary run;
//! - `multiple_writers`: the two rows were written while different processes were alive;
//! - `overlapping_operations`: A started before B and finished after it — operations take
//!   seconds, so this is benign in one process;
//! - `queue_bypass`: only the id order disagrees (created_at and epoch agree) and an
//!   `Event queue full, logging directly` line or a flush boundary explains it.
//!
//! When the epoch order and created_at order disagree, the id order is explained too
//! (`details.id_order`).

use super::matching::Matching;
use super::{Finding, FindingKind, LogRef, ProcessRef, Severity};
use crate::rows::Coverage;
use crate::timeline::View;

#[derive(Debug, Clone)]
pub struct Params {
    /// created_at may precede its epoch by this much before it is an anomaly (µs).
    pub epoch_tolerance_us: i64,
    /// Pairs further apart than this in created_at are not compared (µs).
    pub max_span_us: i64,
    /// A queue-full line this close to a row's created_at explains its direct write (µs).
    pub bypass_tolerance_us: i64,
    pub logs: Vec<Coverage>,
    pub window: Option<crate::time::UtcRange>,
    /// Each log file's clock as applied: a correlation epoch is its writer's host reading of
    /// UTC, placed on the DB's clock with that host's skew.
    pub clocks: Vec<crate::timeline::ClockEntry>,
}

struct Row {
    i: usize,
    id: i64,
    epoch: i64,
    created: i64,
}

fn hms(us: i64) -> String {
    chrono::DateTime::from_timestamp_micros(us)
        .unwrap_or_default()
        .format("%H:%M:%S%.6f")
        .to_string()
}

/// The queue-full line nearest to `t` (within tolerance) in a log file alive at `t`.
fn queue_full_near(v: &View<'_>, t: i64, tol: i64) -> Option<LogRef> {
    let mut best: Option<(i64, LogRef)> = None;
    for i in 0..v.len() {
        let ti = v.ts_utc.get(i).unwrap_or(0);
        if ti < t - tol {
            continue;
        }
        if ti > t + tol {
            break;
        }
        if v.s("kind", i) == Some("queue_full") {
            let d = (ti - t).abs();
            if best.as_ref().is_none_or(|(bd, _)| d < *bd) {
                best = Some((
                    d,
                    LogRef {
                        file: v.s("file", i).unwrap_or_default().to_string(),
                        line: v.line.get(i).unwrap_or(0),
                        copy: false,
                    },
                ));
            }
        }
    }
    best.map(|(_, l)| l)
}

/// The flush line that reports writing `id` (its `last_ids` names it), if any.
fn flush_naming(v: &View<'_>, id: i64) -> Option<LogRef> {
    let needle = format!("[{id},");
    (0..v.len()).find_map(|i| {
        (v.s("kind", i) == Some("flush_wrote")
            && v.s("payload", i).is_some_and(|p| p.contains(&needle)))
        .then(|| LogRef {
            file: v.s("file", i).unwrap_or_default().to_string(),
            line: v.line.get(i).unwrap_or(0),
            copy: false,
        })
    })
}

fn writer_at(logs: &[Coverage], t: i64) -> Vec<&Coverage> {
    // A copy's stretch is its primary's process writing a second file, not another writer.
    logs.iter()
        .filter(|c| c.copy_of.is_none() && c.start <= t && t <= c.end)
        .collect()
}

/// The host skew of the process that wrote row `i` at its created_at: the file of its log
/// twin, else the one file alive then; zero when neither says.
fn writer_skew(v: &View<'_>, m: &Matching, p: &Params, i: usize, created: i64) -> i64 {
    let file = m
        .twin_of(i)
        .and_then(|t| v.s("file", t.log))
        .map(str::to_string)
        .or_else(|| match writer_at(&p.logs, created).as_slice() {
            [one] => Some(one.file.clone()),
            _ => None,
        });
    file.and_then(|f| p.clocks.iter().find(|c| c.role == "log" && c.source == f))
        .and_then(|c| c.host_skew_us(created))
        .unwrap_or(0)
}

pub fn check(v: &View<'_>, m: &Matching, p: &Params) -> Vec<Finding> {
    let mut rows: Vec<Row> = (0..v.len())
        .filter(|&i| v.s("source", i) == Some("db"))
        .filter_map(|i| {
            let created = v.ts_utc.get(i)?;
            Some(Row {
                i,
                id: v.event_id.get(i)?,
                // The epoch is the writer's host clock; created_at the DB's.
                epoch: v.corr_epoch.get(i)? - writer_skew(v, m, p, i, created),
                created,
            })
        })
        .collect();
    rows.sort_by_key(|r| (r.epoch, r.id));
    let mut out = Vec::new();
    for (k, a) in rows.iter().enumerate() {
        for b in &rows[k + 1..] {
            if b.epoch - a.epoch > p.max_span_us {
                break;
            }
            if (a.created - b.created).abs() > p.max_span_us {
                continue;
            }
            // a.epoch <= b.epoch by construction.
            let created_inverted = a.epoch < b.epoch && a.created > b.created;
            let id_vs_created = (a.id < b.id) != (a.created < b.created) && a.created != b.created;
            if !created_inverted && !id_vs_created {
                continue;
            }
            if let Some(f) = classify(v, m, p, a, b, created_inverted) {
                out.push(f);
            }
        }
    }
    out.retain(|f| {
        p.window.is_none_or(|w| {
            w.start.timestamp_micros() <= f.at_us && f.at_us < w.end.timestamp_micros()
        })
    });
    super::sort(&mut out);
    out
}

fn classify(
    v: &View<'_>,
    m: &Matching,
    p: &Params,
    a: &Row,
    b: &Row,
    created_inverted: bool,
) -> Option<Finding> {
    let mut reasons: Vec<String> = Vec::new();
    let mut logs: Vec<LogRef> = Vec::new();
    let name = |r: &Row| format!("{} {}", r.id, v.s("event_type", r.i).unwrap_or("?"),);
    // 1. Clock anomaly: created_at before its own epoch.
    let anomalous: Vec<&Row> = [a, b]
        .into_iter()
        .filter(|r| r.created < r.epoch - p.epoch_tolerance_us)
        .collect();
    // 2. Writers alive at each created_at.
    let wa = writer_at(&p.logs, a.created);
    let wb = writer_at(&p.logs, b.created);
    // Who wrote each row: the file holding its log twin when it has one (that process called
    // log_event), else whichever processes were alive then.
    let twin_file = |r: &Row| {
        m.twin_of(r.i)
            .and_then(|t| v.s("file", t.log))
            .map(str::to_string)
    };
    let (one_writer, two_writers, writers): (bool, bool, Vec<String>) =
        match (twin_file(a), twin_file(b)) {
            (Some(x), Some(y)) => (x == y, x != y, vec![x, y]),
            _ => {
                let alive: Vec<String> =
                    wa.iter().chain(wb.iter()).map(|c| c.file.clone()).collect();
                let one = wa.len() == 1 && wb.len() == 1 && wa[0].file == wb[0].file;
                let two = !one
                    && !alive.is_empty()
                    && (wa.len() > 1
                        || wb.len() > 1
                        || wa.first().map(|c| &c.file) != wb.first().map(|c| &c.file));
                (one, two, alive)
            }
        };

    // The id order: which row was inserted out of created_at order, and why.
    let (early_created, late_created) = if a.created <= b.created {
        (a, b)
    } else {
        (b, a)
    };
    let id_inverted = late_created.id < early_created.id;
    let mut id_note = serde_json::Value::Null;
    if id_inverted {
        // The later-created row got the lower id: it was inserted first — a direct write.
        let bypass = queue_full_near(v, late_created.created, p.bypass_tolerance_us);
        match &bypass {
            Some(l) => {
                reasons.push(format!(
                    "row {} got the lower id though created later: it was written directly, bypassing the queue (`Event queue full, logging directly` at {}:{})",
                    late_created.id, l.file, l.line
                ));
                logs.push(l.clone());
            }
            None => {
                if let Some(l) = flush_naming(v, early_created.id) {
                    reasons.push(format!(
                        "row {} was flushed in a later batch ({}:{}) than row {}",
                        early_created.id, l.file, l.line, late_created.id
                    ));
                    logs.push(l);
                } else {
                    reasons.push(format!(
                        "row {} got the lower id though created later, and no queue-full line or flush boundary explains it",
                        late_created.id
                    ));
                }
            }
        }
        id_note = serde_json::json!({
            "inverted": true,
            "explained_by": if bypass.is_some() { Some("queue_bypass") } else if logs.is_empty() { None } else { Some("flush_boundary") },
        });
    }

    let class = if !anomalous.is_empty() {
        for r in &anomalous {
            reasons.insert(0, format!(
                "row {} was created at {} UTC, {:.3} s BEFORE its own open_position started ({}): a clock error or a foreign writer",
                r.id,
                hms(r.created),
                (r.epoch - r.created) as f64 / 1e6,
                hms(r.epoch)
            ));
        }
        "clock_anomaly"
    } else if two_writers {
        let mut w = writers.clone();
        w.dedup();
        reasons.insert(
            0,
            format!(
                "the rows were written by different processes ({})",
                w.join(", ")
            ),
        );
        "multiple_writers"
    } else if created_inverted {
        reasons.insert(
            0,
            format!(
                "{} started at {} and finished at {}; {} started at {} and finished at {}: the first operation was still running when the second began and ended (operations take seconds){}",
                name(a),
                hms(a.epoch),
                hms(a.created),
                name(b),
                hms(b.epoch),
                hms(b.created),
                if one_writer { format!(", all in one process ({})", writers[0]) } else { String::new() }
            ),
        );
        "overlapping_operations"
    } else if id_note.get("explained_by").is_some_and(|e| !e.is_null()) {
        "queue_bypass"
    } else {
        // Only the id order disagrees and nothing explains it.
        "multiple_writers"
    };
    let severity = match class {
        "clock_anomaly" | "multiple_writers" => Severity::High,
        _ => Severity::Info,
    };
    let signal = |r: &Row| {
        v.signal_id
            .get(r.i)
            .map(|s| format!(" (signal {s})"))
            .unwrap_or_default()
    };
    let mut f = Finding::new(
        FindingKind::CorrelationInversion,
        severity,
        a.created.min(b.created),
        format!(
            "rows {}{} and {}{} disagree in order ({}): {}",
            a.id,
            signal(a),
            b.id,
            signal(b),
            if created_inverted {
                "epoch vs created_at"
            } else {
                "id vs created_at"
            },
            reasons.first().cloned().unwrap_or_default()
        ),
    );
    f.event_ids = vec![a.id, b.id];
    f.logs = logs;
    f.class = Some(class.to_string());
    f.processes = wa
        .iter()
        .chain(wb.iter())
        .map(|c| ProcessRef::of(c))
        .collect::<Vec<_>>();
    f.processes.dedup_by(|x, y| x.file == y.file);
    f.details = serde_json::json!({
        "reasons": reasons,
        "orders": {
            "epoch": [a.id, b.id],
            "created_at": if a.created <= b.created { [a.id, b.id] } else { [b.id, a.id] },
            "id": if a.id <= b.id { [a.id, b.id] } else { [b.id, a.id] },
        },
        "id_order": id_note,
    });
    Some(f.sealed())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{Tb, at};
    use crate::rows::Kind;

    fn params(logs: Vec<Coverage>) -> Params {
        Params {
            epoch_tolerance_us: 50_000,
            max_span_us: 600_000_000,
            bypass_tolerance_us: 100_000,
            logs,
            window: None,
            clocks: Vec::new(),
        }
    }

    #[test]
    fn the_seed_pair_is_overlapping_operations_with_a_queue_bypass() {
        // 785194: started 12.851694, created 15.103 (written directly);
        // 785223: started 13.507987, created 13.510, queued, flushed later.
        let t = Tb::new()
            .db_corr(785194, "position_created", 15_103.0, 12_851.694, 4869992)
            .db_corr(785223, "position_error", 13_510.0, 13_507.987, 4869992)
            .log("bot.log", 100, Kind::QueueFull, None, None, 15_103.0)
            .build();
        let v = View::new(&t).unwrap();
        let cov = vec![Coverage {
            file: "bot.log".into(),
            pid: Some(7),
            start: at(-60_000.0),
            end: at(60_000.0),
            clean_start: false,
            clean_end: false,
            copy_of: None,
        }];
        let f = check(
            &v,
            &crate::checks::matching::match_twins(&v, 100_000, 0),
            &params(cov),
        );
        assert_eq!(f.len(), 1, "{f:#?}");
        assert_eq!(f[0].class.as_deref(), Some("overlapping_operations"));
        assert_eq!(f[0].event_ids, vec![785194, 785223]);
        assert_eq!(
            f[0].logs,
            vec![LogRef {
                file: "bot.log".into(),
                line: 100,
                copy: false,
            }]
        );
        assert_eq!(f[0].details["id_order"]["explained_by"], "queue_bypass");
        assert_eq!(f[0].severity, Severity::Info);
    }

    #[test]
    fn created_before_its_own_epoch_is_a_clock_anomaly() {
        let t = Tb::new()
            .db_corr(1, "position_created", 1_000.0, 5_000.0, 1)
            .db_corr(2, "position_created", 6_000.0, 2_000.0, 2)
            .build();
        let v = View::new(&t).unwrap();
        let f = check(
            &v,
            &crate::checks::matching::match_twins(&v, 100_000, 0),
            &params(vec![]),
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].class.as_deref(), Some("clock_anomaly"));
        assert_eq!(f[0].severity, Severity::High);
    }

    /// a.log (PID 1) and b.log (PID 2), both alive over the first 10 s.
    fn two_live_processes() -> Vec<Coverage> {
        [("a.log", 1), ("b.log", 2)]
            .into_iter()
            .map(|(file, pid)| Coverage {
                file: file.into(),
                pid: Some(pid),
                start: at(0.0),
                end: at(10_000.0),
                clean_start: false,
                clean_end: false,
                copy_of: None,
            })
            .collect()
    }

    #[test]
    fn rows_written_under_two_live_processes_are_multiple_writers() {
        let t = Tb::new()
            .db_corr(1, "position_created", 9_000.0, 1_000.0, 1)
            .db_corr(2, "position_created", 3_000.0, 2_000.0, 2)
            .build();
        let v = View::new(&t).unwrap();
        let f = check(
            &v,
            &crate::checks::matching::match_twins(&v, 100_000, 0),
            &params(two_live_processes()),
        );
        assert_eq!(f[0].class.as_deref(), Some("multiple_writers"));
    }

    #[test]
    fn the_writer_is_the_file_with_the_log_twin_not_whoever_was_alive() {
        // Two processes alive, but both rows were logged by a.log: one writer.
        let t = Tb::new()
            .db_corr(1, "position_created", 9_000.0, 1_000.0, 1)
            .db_corr(2, "position_created", 3_000.0, 2_000.0, 2)
            .log_event(
                "a.log",
                10,
                "position_created",
                r#"{"signal_id":1,"id":1}"#,
                9_001.0,
            )
            .log_event(
                "a.log",
                5,
                "position_created",
                r#"{"signal_id":2,"id":2}"#,
                3_001.0,
            )
            .build();
        let v = View::new(&t).unwrap();
        let f = check(
            &v,
            &crate::checks::matching::match_twins(&v, 100_000, 0),
            &params(two_live_processes()),
        );
        assert_eq!(
            f[0].class.as_deref(),
            Some("overlapping_operations"),
            "{f:#?}"
        );
    }

    #[test]
    fn orders_that_agree_are_not_reported() {
        let t = Tb::new()
            .db_corr(1, "position_created", 3_000.0, 1_000.0, 1)
            .db_corr(2, "position_created", 4_000.0, 2_000.0, 2)
            .build();
        let v = View::new(&t).unwrap();
        assert!(
            check(
                &v,
                &crate::checks::matching::match_twins(&v, 100_000, 0),
                &params(vec![])
            )
            .is_empty()
        );
    }
}
