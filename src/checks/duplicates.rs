//! `duplicates`: the same event written more than once — the FLMUSDT 1317 pattern.
//!
//! Identity, strongest first: the same correlation id (one `open_position` call); the same
//! position for `position_created` (a position is created once); an identical payload that
//! names an entity (symbol, position, order or signal) with the identical `created_at` — one
//! event dict inserted twice. The same payload a few seconds later is another event (a price
//! that came back to the same tick).
//! Periodic payloads that name nothing (health checks) are not duplicates of each other.

use std::collections::BTreeMap;

use super::matching::Matching;
use super::{Finding, FindingKind, LogRef, Severity};
use crate::timeline::View;

/// Event types that happen once per position. (Not `position_closed`: the bot emits it from
/// two code paths with different payloads, both logged — two events, not one written twice.)
const ONE_SHOT: [&str; 1] = ["position_created"];

#[derive(Debug, Clone)]
pub struct Params {
    /// Rows further apart than this are separate events.
    pub interval_us: i64,
    /// Only findings inside this range are reported.
    pub window: Option<crate::time::UtcRange>,
}

fn names_entity(payload: &serde_json::Value) -> bool {
    ["symbol", "position_id", "order_id", "signal_id"]
        .iter()
        .any(|k| payload.get(k).is_some_and(|v| !v.is_null()))
}

/// Finds groups of DB rows that are one event written several times.
pub fn check(v: &View<'_>, m: &Matching, p: &Params) -> Vec<Finding> {
    // Candidate identities per row.
    let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for i in 0..v.len() {
        if v.s("source", i) != Some("db") {
            continue;
        }
        let Some(et) = v.s("event_type", i) else {
            continue;
        };
        if let Some(c) = v.s("correlation_id", i) {
            groups
                .entry((et.to_string(), format!("correlation_id={c}")))
                .or_default()
                .push(i);
        } else if let (true, Some(pos)) = (ONE_SHOT.contains(&et), v.position_id.get(i)) {
            groups
                .entry((et.to_string(), format!("position_id={pos}")))
                .or_default()
                .push(i);
        } else if let Some(text) = v.s("payload", i) {
            let named =
                serde_json::from_str::<serde_json::Value>(text).is_ok_and(|j| names_entity(&j));
            if let (true, Some(k)) = (named, v.payload_hash.get(i)) {
                // The same dict inserted twice carries the same created_at; the same payload at
                // another instant is another event (a price back at the same tick).
                let at = v.ts_utc.get(i).unwrap_or(0);
                groups
                    .entry((et.to_string(), format!("payload={k}@{at}")))
                    .or_default()
                    .push(i);
            }
        }
    }
    let mut findings = Vec::new();
    for ((et, identity), rows) in groups {
        // Split the group into runs of rows within the interval of each other.
        let mut run: Vec<usize> = Vec::new();
        let mut flush = |run: &mut Vec<usize>| {
            if run.len() > 1 {
                findings.push(finding(v, m, &et, &identity, run));
            }
            run.clear();
        };
        for r in rows {
            let t = v.ts_utc.get(r).unwrap_or(0);
            if let Some(&last) = run.last() {
                if t - v.ts_utc.get(last).unwrap_or(0) > p.interval_us {
                    flush(&mut run);
                }
            }
            run.push(r);
        }
        flush(&mut run);
    }
    findings.retain(|f| {
        p.window.is_none_or(|w| {
            w.start.timestamp_micros() <= f.at_us && f.at_us < w.end.timestamp_micros()
        })
    });
    super::sort(&mut findings);
    findings
}

fn finding(v: &View<'_>, m: &Matching, et: &str, identity: &str, run: &[usize]) -> Finding {
    let ids: Vec<i64> = run
        .iter()
        .map(|&r| v.event_id.get(r).unwrap_or(0))
        .collect();
    let t0 = v.ts_utc.get(run[0]).unwrap_or(0);
    let span_ms = (v.ts_utc.get(*run.last().unwrap_or(&run[0])).unwrap_or(t0) - t0) as f64 / 1000.0;
    let same_payload = run
        .iter()
        .all(|&r| v.s("payload", r) == v.s("payload", run[0]));
    let twins: Vec<LogRef> = run
        .iter()
        .filter_map(|&r| m.twin_of(r))
        .map(|p| LogRef {
            file: v.s("file", p.log).unwrap_or_default().to_string(),
            line: v.line.get(p.log).unwrap_or(0),
            copy: false,
        })
        .collect();
    let logged = match twins.len() {
        0 => "none of them has a log line".to_string(),
        n if n == run.len() => {
            format!("each has its own log line ({n}): the event was logged {n} times too")
        }
        n => format!(
            "only {n} of them has a log line: logged once, inserted {} times",
            run.len()
        ),
    };
    let what = match (v.s("symbol", run[0]), v.position_id.get(run[0])) {
        (Some(s), Some(p)) => format!("{et} {s} position {p}"),
        (Some(s), None) => format!("{et} {s}"),
        _ => et.to_string(),
    };
    let ids_text: Vec<String> = ids.iter().map(i64::to_string).collect();
    let mut f = Finding::new(
        FindingKind::DuplicateEvent,
        if twins.len() < run.len() {
            Severity::Medium
        } else {
            Severity::Low
        },
        t0,
        format!(
            "{what} written {} times (rows {}) within {span_ms:.3} ms, same {}{}; {logged}",
            run.len(),
            ids_text.join(", "),
            identity
                .split('=')
                .next()
                .unwrap_or("identity")
                .replace('_', " "),
            if same_payload {
                " and identical payload"
            } else {
                ""
            },
        ),
    );
    f.event_ids = ids;
    f.logs = twins;
    f.details = serde_json::json!({ "identity": identity.split('=').next(), "same_payload": same_payload, "span_ms": span_ms });
    f.sealed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::matching::match_twins;
    use crate::checks::testkit::Tb;

    fn run(t: &crate::timeline::Timeline) -> Vec<Finding> {
        let v = View::new(t).unwrap();
        let m = match_twins(&v, 100_000, 0);
        check(
            &v,
            &m,
            &Params {
                interval_us: 5_000_000,
                window: None,
            },
        )
    }

    #[test]
    fn one_logged_event_inserted_twice() {
        let p = r#"{"symbol":"FLMUSDT","position_id":1317}"#;
        let t = Tb::new()
            .db(785168, "position_created", p, 4_211.0)
            .db(785173, "position_created", p, 4_211.0)
            .log_event("bot.log", 40, "position_created", p, 4_212.0)
            .build();
        let f = run(&t);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].event_ids, vec![785168, 785173]);
        assert_eq!(
            f[0].logs,
            vec![LogRef {
                file: "bot.log".into(),
                line: 40,
                copy: false,
            }]
        );
        assert!(
            f[0].explanation.contains("logged once, inserted 2 times"),
            "{}",
            f[0].explanation
        );
    }

    #[test]
    fn the_same_payload_at_another_instant_is_another_event() {
        let p = r#"{"symbol":"X","position_id":5,"price":1.5}"#;
        let t = Tb::new()
            .db(1, "position_updated", p, 0.0)
            .db(2, "position_updated", p, 1_900.0)
            .build();
        assert!(run(&t).is_empty());
    }

    #[test]
    fn periodic_payloads_naming_nothing_and_distant_repeats_are_not_duplicates() {
        let hb = r#"{"status":"ok"}"#;
        let p = r#"{"symbol":"X"}"#;
        let t = Tb::new()
            .db(1, "health_check", hb, 0.0)
            .db(2, "health_check", hb, 1_000.0)
            .db(3, "signal_skipped", p, 0.0)
            .db(4, "signal_skipped", p, 60_000.0)
            .build();
        assert!(run(&t).is_empty());
    }
}
