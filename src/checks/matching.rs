//! Twin matching: which DB row and which log line are the same event.
//!
//! A twin has the same event type and the same payload (compared whole, numbers as floats),
//! and lies within a tolerance in aligned time. Matching is one-to-one and greedy by
//! closeness: a log line cannot explain two rows; when two rows could take one line, the
//! closest pair wins (ties: lower id, earlier line). Rows left over get a second, looser
//! chance: same type and equal key fields (symbol, position, signal) where both have them —
//! a payload that changed in serialization still finds its line.

use rustc_hash::FxHashMap as HashMap;

use crate::timeline::View;

/// One matched pair: timeline row indices and `log − db` in µs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    pub db: usize,
    pub log: usize,
    pub delta_us: i64,
    /// Matched on key fields only, not on the whole payload.
    pub loose: bool,
}

/// The result over a whole timeline.
#[derive(Debug, Clone, Default)]
pub struct Matching {
    pub pairs: Vec<Pair>,
    /// DB event rows without a twin.
    pub db_unmatched: Vec<usize>,
    /// Log event lines (incl. malformed ones) without a twin.
    pub log_unmatched: Vec<usize>,
    /// For each timeline row, the index into `pairs` of its pair.
    pub pair_of: HashMap<usize, usize>,
}

impl Matching {
    pub fn twin_of(&self, row: usize) -> Option<&Pair> {
        self.pair_of.get(&row).map(|&p| &self.pairs[p])
    }
}

struct Item {
    row: usize,
    t: i64,
    /// Tie-break: DB id or log line order.
    order: (String, i64),
}

/// Which rows are already taken, by position in the DB / log row lists.
struct Used<'a> {
    db: Vec<bool>,
    log: Vec<bool>,
    db_pos: &'a HashMap<usize, usize>,
    log_pos: &'a HashMap<usize, usize>,
}

impl Used<'_> {
    /// Takes both rows if both are free.
    fn take(&mut self, db_row: usize, log_row: usize) -> bool {
        let (d, l) = (self.db_pos[&db_row], self.log_pos[&log_row]);
        if self.db[d] || self.log[l] {
            return false;
        }
        self.db[d] = true;
        self.log[l] = true;
        true
    }
}

/// Greedy one-to-one assignment within one group; both sides sorted by time.
fn assign(
    db: &[Item],
    log: &[Item],
    tol_us: i64,
    lag_us: i64,
    out: &mut Vec<Pair>,
    used: &mut Used<'_>,
) {
    let mut cands: Vec<(i64, usize, usize, i64)> = Vec::new();
    let mut lo = 0usize;
    for (di, d) in db.iter().enumerate() {
        let (from, to) = (d.t + lag_us - tol_us, d.t + lag_us + tol_us);
        while lo < log.len() && log[lo].t < from {
            lo += 1;
        }
        let mut k = lo;
        while k < log.len() && log[k].t <= to {
            let delta = log[k].t - d.t;
            cands.push(((delta - lag_us).abs(), di, k, delta));
            k += 1;
        }
    }
    cands.sort_by(|a, b| {
        (a.0, &db[a.1].order, &log[a.2].order).cmp(&(b.0, &db[b.1].order, &log[b.2].order))
    });
    for (_, di, li, delta) in cands {
        if used.take(db[di].row, log[li].row) {
            out.push(Pair {
                db: db[di].row,
                log: log[li].row,
                delta_us: delta,
                loose: false,
            });
        }
    }
}

/// Matches every DB event row with a log event line. `lag_us` is the expected `log − db`
/// (the measured median lag), `tol_us` the largest accepted distance from it.
pub fn match_twins(v: &View<'_>, tol_us: i64, lag_us: i64) -> Matching {
    let mut db_rows: Vec<usize> = Vec::new();
    let mut log_rows: Vec<usize> = Vec::new();
    for i in 0..v.len() {
        let kind = v.s("kind", i).unwrap_or_default();
        match (v.s("source", i), kind) {
            (Some("db"), "event") => db_rows.push(i),
            (Some("log"), "event" | "malformed_event") => log_rows.push(i),
            _ => {}
        }
    }
    let db_pos: HashMap<usize, usize> = db_rows.iter().enumerate().map(|(k, &r)| (r, k)).collect();
    let log_pos: HashMap<usize, usize> =
        log_rows.iter().enumerate().map(|(k, &r)| (r, k)).collect();
    let mut used = Used {
        db: vec![false; db_rows.len()],
        log: vec![false; log_rows.len()],
        db_pos: &db_pos,
        log_pos: &log_pos,
    };
    let item = |row: usize| -> Item {
        let order = match v.event_id.get(row) {
            Some(id) => (String::new(), id),
            None => (
                v.s("file", row).unwrap_or_default().to_string(),
                i64::from(v.line.get(row).unwrap_or(0)),
            ),
        };
        Item {
            row,
            t: v.ts_utc.get(row).unwrap_or(0),
            order,
        }
    };

    // Pass 1: whole payloads.
    type Groups = HashMap<(String, u64), (Vec<Item>, Vec<Item>)>;
    let mut groups: Groups = HashMap::default();
    let key = |row: usize| -> Option<(String, u64)> {
        let et = v.s("event_type", row)?;
        Some((et.to_string(), v.payload_hash.get(row)?))
    };
    for &r in &db_rows {
        if let Some(k) = key(r) {
            groups.entry(k).or_default().0.push(item(r));
        }
    }
    for &r in &log_rows {
        if v.s("kind", r) != Some("event") {
            continue;
        }
        if let Some(k) = key(r) {
            groups.entry(k).or_default().1.push(item(r));
        }
    }
    let mut pairs = Vec::new();
    let mut keys: Vec<&(String, u64)> = groups.keys().collect();
    keys.sort();
    for k in keys {
        let (d, l) = &groups[k];
        if !d.is_empty() && !l.is_empty() {
            assign(d, l, tol_us, lag_us, &mut pairs, &mut used);
        }
    }

    // Pass 2: leftovers, by type and key fields.
    let mut loose: HashMap<String, (Vec<Item>, Vec<Item>)> = HashMap::default();
    for (k, &r) in db_rows.iter().enumerate() {
        if !used.db[k] {
            if let Some(et) = v.s("event_type", r) {
                loose.entry(et.to_string()).or_default().0.push(item(r));
            }
        }
    }
    for (k, &r) in log_rows.iter().enumerate() {
        if !used.log[k] {
            if let Some(et) = v.s("event_type", r) {
                loose.entry(et.to_string()).or_default().1.push(item(r));
            }
        }
    }
    let mut types: Vec<&String> = loose.keys().collect();
    types.sort();
    for et in types {
        let (d, l) = &loose[et];
        if d.is_empty() || l.is_empty() {
            continue;
        }
        // Key fields must agree where both sides have them.
        let compatible = |a: usize, b: usize| -> bool {
            let same_s = |n: &str| match (v.s(n, a), v.s(n, b)) {
                (Some(x), Some(y)) => x == y,
                _ => true,
            };
            let same_i = |x: Option<i64>, y: Option<i64>| x.is_none() || y.is_none() || x == y;
            same_s("symbol")
                && same_i(v.position_id.get(a), v.position_id.get(b))
                && same_i(v.signal_id.get(a), v.signal_id.get(b))
        };
        // Log lines by time: each row looks only at the lines inside its tolerance window
        // (a naive pass leaves ~190 000 rows of a day here; all pairs would be quadratic).
        let mut by_t: Vec<&Item> = l.iter().collect();
        by_t.sort_by_key(|x| x.t);
        let mut cands: Vec<(i64, usize, usize, i64)> = Vec::new();
        for di in d {
            let from = by_t.partition_point(|x| x.t < di.t + lag_us - tol_us);
            for li in by_t[from..]
                .iter()
                .take_while(|x| x.t <= di.t + lag_us + tol_us)
            {
                let delta = li.t - di.t;
                if compatible(di.row, li.row) {
                    cands.push(((delta - lag_us).abs(), di.row, li.row, delta));
                }
            }
        }
        cands.sort();
        for (_, dr, lr, delta) in cands {
            if used.take(dr, lr) {
                pairs.push(Pair {
                    db: dr,
                    log: lr,
                    delta_us: delta,
                    loose: true,
                });
            }
        }
    }

    let db_unmatched = db_rows
        .iter()
        .enumerate()
        .filter(|(k, _)| !used.db[*k])
        .map(|(_, &r)| r)
        .collect();
    let log_unmatched = log_rows
        .iter()
        .enumerate()
        .filter(|(k, _)| !used.log[*k])
        .map(|(_, &r)| r)
        .collect();
    let mut pair_of = HashMap::default();
    for (p, pair) in pairs.iter().enumerate() {
        pair_of.insert(pair.db, p);
        pair_of.insert(pair.log, p);
    }
    Matching {
        pairs,
        db_unmatched,
        log_unmatched,
        pair_of,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::testkit::{Tb, id_of, line_of};

    /// (pairs as (db id, log line, loose), unmatched db ids, unmatched log lines)
    type Outcome = (Vec<(i64, u32, bool)>, Vec<i64>, Vec<u32>);

    fn pairs(t: &crate::timeline::Timeline, tol_ms: i64) -> Outcome {
        let v = View::new(t).unwrap();
        let m = match_twins(&v, tol_ms * 1000, 0);
        let mut p: Vec<(i64, u32, bool)> = m
            .pairs
            .iter()
            .map(|p| (id_of(&v, p.db), line_of(&v, p.log), p.loose))
            .collect();
        p.sort();
        let d = m.db_unmatched.iter().map(|&r| id_of(&v, r)).collect();
        let l = m.log_unmatched.iter().map(|&r| line_of(&v, r)).collect();
        (p, d, l)
    }

    #[test]
    fn microsecond_db_time_matches_a_millisecond_log_line_truncated_below_it() {
        // created_at 13.510400, the log line written 0 ms later prints 13,510: the log is earlier.
        let t = Tb::new()
            .db(1, "position_error", r#"{"s":"RSRUSDT"}"#, 13_510.4)
            .log_event(
                "a.log",
                7,
                "position_error",
                r#"{"s": "RSRUSDT"}"#,
                13_510.0,
            )
            .build();
        assert_eq!(pairs(&t, 100).0, vec![(1, 7, false)]);
    }

    #[test]
    fn two_rows_that_could_take_one_line_the_closest_wins() {
        // Identical payloads 4 ms apart (a double insert); one log line 1 ms after the first.
        let t = Tb::new()
            .db(10, "position_created", r#"{"p":1317}"#, 4_211.0)
            .db(11, "position_created", r#"{"p":1317}"#, 4_215.0)
            .log_event("a.log", 3, "position_created", r#"{"p":1317}"#, 4_212.0)
            .build();
        let (p, d, l) = pairs(&t, 100);
        assert_eq!(p, vec![(10, 3, false)]);
        assert_eq!(d, vec![11]);
        assert!(l.is_empty());
    }

    #[test]
    fn equal_timestamps_break_ties_by_id_and_line() {
        let t = Tb::new()
            .db(21, "e", r#"{"x":1}"#, 100.0)
            .db(20, "e", r#"{"x":1}"#, 100.0)
            .log_event("a.log", 9, "e", r#"{"x":1}"#, 100.0)
            .log_event("a.log", 8, "e", r#"{"x":1}"#, 100.0)
            .build();
        assert_eq!(pairs(&t, 100).0, vec![(20, 8, false), (21, 9, false)]);
    }

    #[test]
    fn beyond_tolerance_is_not_a_twin_and_payload_decides_within_a_burst() {
        let t = Tb::new()
            .db(1, "order_cancelled", r#"{"o":"a"}"#, 0.0)
            .db(2, "order_cancelled", r#"{"o":"b"}"#, 0.0)
            .log_event("a.log", 1, "order_cancelled", r#"{"o":"b"}"#, 1.0)
            .log_event("a.log", 2, "order_cancelled", r#"{"o":"a"}"#, 1.0)
            .log_event("a.log", 3, "e", r#"{"z":1}"#, 500.0)
            .db(3, "e", r#"{"z":1}"#, 0.0)
            .build();
        let (p, d, l) = pairs(&t, 100);
        assert_eq!(p, vec![(1, 2, false), (2, 1, false)]);
        assert_eq!(d, vec![3]);
        assert_eq!(l, vec![3]);
    }

    #[test]
    fn leftovers_match_loosely_on_key_fields_only_when_compatible() {
        // The payload differs (a field added on one side) but type and time agree.
        let t = Tb::new()
            .db(1, "stop_loss_placed", r#"{"symbol":"X","price":1.5}"#, 0.0)
            .log_event(
                "a.log",
                1,
                "stop_loss_placed",
                r#"{"symbol":"X","price":1.5,"extra":true}"#,
                2.0,
            )
            .build();
        assert_eq!(pairs(&t, 100).0, vec![(1, 1, true)]);
    }
}
