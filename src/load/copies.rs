//! One stream, many files. The bot writes every record twice: to its `bot_*.log` (a `tee` of
//! its output, one file per start) and to `logs/trading_bot.log` (a RotatingFileHandler: every
//! start appends, members roll into `.1` … `.N`, old ones may be gzipped). Files, or stretches
//! of a file, holding the same records are copies of one process's stream.
//!
//! Copies are found by content, never by name: a record is its timestamp text, level, logger
//! and first message line (continuation lines are left out: the tee also catches `print()` and
//! stderr output there), numbered by occurrence in its file. One hash per record and one hash
//! table over all of them: a record is owned by the first file that holds it, in priority
//! order (a per-process file first, then rotation sets and files spanning restarts; then
//! discovery order), and its other occurrences are its copies. Nothing is compared pairwise.
//!
//! What follows from it:
//! - every record counts once: copies are dropped before the checks see the rows (the lock
//!   and stop lines of a copy stay: they delimit its stretches, [`super::coverage_of`]);
//! - a copy's stretch of a stream is not a process of its own (`Coverage::copy_of`), and a
//!   per-process file that ended early is extended by what its copy kept;
//! - a stretch one copy holds and another lacks is a [`CopyGap`]: evidence of which copy to
//!   trust for which interval, not lost lines.

use std::hash::{Hash, Hasher};
use std::path::Path;

use rayon::prelude::*;
use rustc_hash::{FxHashMap, FxHasher};

use crate::rows::{Chunk, Coverage, Kind};
use crate::source::logs::{LogFile, rotation_key};

/// A stretch of a stream's records one copy lacks and another holds.
#[derive(Debug, Clone, PartialEq)]
pub struct CopyGap {
    /// The process whose records they are.
    pub pid: Option<u32>,
    /// The copy that lacks them: the file, or the members of a rotation set written meanwhile.
    pub missing_from: Vec<String>,
    /// The missing copy's last record before them (file, line).
    pub before: Option<(String, u32)>,
    /// The file holding the first of them, and the line of that record.
    pub present_in: String,
    pub first_line: u32,
    /// Every file holding some of them (a rotation member may roll over inside the stretch).
    pub present_in_all: Vec<String>,
    /// First and last of them on UTC.
    pub from_us: i64,
    pub to_us: i64,
    pub records: usize,
}

/// What the copies among a set of log files are, found by [`find`].
#[derive(Debug, Clone, Default)]
pub struct Copies {
    /// The files' names, in load order.
    names: Vec<String>,
    /// Per file, the rows to keep (empty: every row).
    keep: Vec<Vec<bool>>,
    /// (owner file, owner line, copy file, copy line), sorted: a record's lines in the copies.
    twins: Vec<(u32, u32, u32, u32)>,
    /// Per file: the PID of a per-process file (one lock line, or none at all).
    own_pid: Vec<Option<Option<u32>>>,
    /// (copy, primary): file indices, each pair once, sorted.
    relations: Vec<(usize, usize)>,
    pub gaps: Vec<CopyGap>,
}

/// What a record is, whichever file holds it.
fn record_hash(c: &Chunk, i: usize) -> u64 {
    let mut h = FxHasher::default();
    c.ts_local[i].hash(&mut h);
    c.level[i].hash(&mut h);
    c.logger[i].hash(&mut h);
    let m = &c.message[i];
    m.split('\n').next().unwrap_or(m).hash(&mut h);
    h.finish()
}

/// Each row's identity in its file: its record hash and its occurrence among equal records.
fn keys(c: &Chunk) -> Vec<u64> {
    let mut seen: FxHashMap<u64, u32> = FxHashMap::default();
    (0..c.len())
        .map(|i| {
            let base = record_hash(c, i);
            let n = seen.entry(base).or_insert(0);
            *n += 1;
            if *n == 1 {
                base
            } else {
                let mut h = FxHasher::default();
                (base, *n).hash(&mut h);
                h.finish()
            }
        })
        .collect()
}

/// Rows of a copy kept though they repeat the primary's: the lines that delimit its stretches.
fn structural(k: Kind) -> bool {
    matches!(
        k,
        Kind::LockAcquired | Kind::LockReleased | Kind::ShutdownInitiated | Kind::SignalReceived
    )
}

fn stops(c: &Chunk) -> bool {
    c.kind.iter().any(|&k| {
        matches!(
            k,
            Kind::LockReleased | Kind::ShutdownInitiated | Kind::SignalReceived
        )
    })
}

/// Which files belong together: a rotation set (`x.log`, `x.log.1`, … in one directory, when
/// a numbered member is there) is one copy; any other file is one on its own.
fn groups(paths: &[&Path]) -> Vec<usize> {
    let keys: Vec<_> = paths.iter().map(|p| rotation_key(p)).collect();
    // Per (directory, base name): its first file, and whether a numbered member is there.
    let mut sets: FxHashMap<(&std::path::Path, &str), (usize, bool)> = FxHashMap::default();
    for (i, k) in keys.iter().enumerate() {
        let e = sets
            .entry((k.0.as_path(), k.1.as_str()))
            .or_insert((i, false));
        e.1 |= k.2 != 0;
    }
    keys.iter()
        .enumerate()
        .map(|(i, k)| match sets[&(k.0.as_path(), k.1.as_str())] {
            (first, true) => first,
            _ => i,
        })
        .collect()
}

/// Finds the copies among `logs` (rows aligned on UTC). `window`: where gaps are reported
/// (records are followed over everything loaded); `events_complete`: every event line of the
/// loaded range is in every file (else only typed lines are compared for gaps).
pub fn find(logs: &[LogFile], window: Option<(i64, i64)>, events_complete: bool) -> Copies {
    let n = logs.len();
    let names: Vec<String> = logs.iter().map(|l| l.info.name.clone()).collect();
    let mut out = Copies {
        names,
        keep: vec![Vec::new(); n],
        ..Copies::default()
    };
    if n < 2 {
        return out;
    }
    let _t = crate::timing::phase("logs: copies");
    let paths: Vec<&Path> = logs.iter().map(|l| Path::new(&l.info.path)).collect();
    let group = groups(&paths);
    let mut size: FxHashMap<usize, usize> = FxHashMap::default();
    for &g in &group {
        *size.entry(g).or_insert(0) += 1;
    }
    let alone = |i: usize| size[&group[i]] == 1;
    out.own_pid = (0..n)
        .map(|i| {
            let info = &logs[i].info;
            (alone(i) && info.pids.len() <= 1 && info.carried_pid.is_none())
                .then(|| info.pids.first().copied())
        })
        .collect();
    let keys: Vec<Vec<u64>> = logs.par_iter().map(|l| keys(&l.chunk)).collect();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by_key(|&i| (out.own_pid[i].is_none(), i));

    // Owners and copies: one table over every record.
    let total: usize = keys.iter().map(Vec::len).sum();
    let mut owner: FxHashMap<u64, (u32, u32)> = FxHashMap::default();
    owner.reserve(total);
    let mut twins_rows: Vec<(u32, u32, u32, u32)> = Vec::new();
    for &f in &order {
        for (r, &k) in keys[f].iter().enumerate() {
            match owner.entry(k) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert((f as u32, r as u32));
                }
                std::collections::hash_map::Entry::Occupied(e) => {
                    let (of, or) = *e.get();
                    twins_rows.push((of, or, f as u32, r as u32));
                }
            }
        }
    }
    drop(owner);
    if twins_rows.is_empty() {
        return out;
    }
    twins_rows.sort_unstable();
    for &(_, _, f, r) in &twins_rows {
        let (f, r) = (f as usize, r as usize);
        let keep = &mut out.keep[f];
        if keep.is_empty() {
            *keep = vec![true; logs[f].chunk.len()];
        }
        keep[r] = structural(logs[f].chunk.kind[r]);
    }
    let line = |f: u32, r: u32| logs[f as usize].chunk.line[r as usize].unwrap_or(0);
    out.twins = twins_rows
        .iter()
        .map(|&(of, or, f, r)| (of, line(of, or), f, line(f, r)))
        .collect();
    out.twins.sort_unstable();

    // Which file copies which: records in common, or a PID stretch of a per-process file's PID.
    let mut rel: Vec<(usize, usize)> = twins_rows
        .iter()
        .filter(|t| group[t.0 as usize] != group[t.2 as usize])
        .map(|t| (t.2 as usize, t.0 as usize))
        .collect();
    rel.sort_unstable();
    rel.dedup();
    let twinned: Vec<usize> = {
        let mut v: Vec<usize> = rel.iter().map(|r| r.0).collect();
        v.dedup();
        v
    };
    let mut by_pid: FxHashMap<u32, Vec<usize>> = FxHashMap::default();
    for p in 0..n {
        if let Some(Some(pid)) = out.own_pid[p] {
            by_pid.entry(pid).or_default().push(p);
        }
    }
    let span = |f: usize| {
        let t = &logs[f].chunk.ts_utc;
        Some((*t.iter().min()?, *t.iter().max()?))
    };
    // A member of a copy with no record in common with any file (written while the other copy
    // was lost) copies the per-process file of the PIDs its lock lines give it, over the same
    // time. Only then: while two processes overlap, a shared rotation set's rows take the
    // latest lock line's PID, which is not always theirs.
    let lone =
        (0..n).filter(|&c| !twinned.contains(&c) && twinned.iter().any(|&o| group[o] == group[c]));
    for c in lone.collect::<Vec<_>>() {
        let mut pids: Vec<u32> = logs[c].chunk.pid.iter().flatten().copied().collect();
        pids.sort_unstable();
        pids.dedup();
        for pid in pids {
            for &p in by_pid.get(&pid).into_iter().flatten() {
                let overlap = match (span(c), span(p)) {
                    (Some(a), Some(b)) => a.0 <= b.1 && b.0 <= a.1,
                    _ => false,
                };
                if group[p] != group[c] && overlap {
                    rel.push((c, p));
                }
            }
        }
    }
    rel.sort_unstable();
    rel.dedup();
    out.relations = rel;

    out.gaps = gaps(logs, &group, &twins_rows, &out, window, events_complete);
    out
}

/// The stretches a copy lacks. Per stream (the owner row's PID) and per copy of it (a group),
/// the stream's records in time order: runs the copy lacks between two it holds are gaps, and
/// so is the tail a per-process file lacks when it never stopped cleanly (the tee died). What
/// a copy lacks before its first record is not: a rotation set's oldest members are deleted.
fn gaps(
    logs: &[LogFile],
    group: &[usize],
    twins_rows: &[(u32, u32, u32, u32)],
    copies: &Copies,
    window: Option<(i64, i64)>,
    events_complete: bool,
) -> Vec<CopyGap> {
    let compared = |k: Kind| match k {
        Kind::Message => false,
        Kind::Event | Kind::MalformedEvent => events_complete,
        _ => true,
    };
    // Every owner record compared: (stream, t, file, row).
    let dropped: rustc_hash::FxHashSet<(u32, u32)> =
        twins_rows.iter().map(|t| (t.2, t.3)).collect();
    let mut recs: Vec<(Option<u32>, usize, i64, u32, u32)> = Vec::new();
    for (f, l) in logs.iter().enumerate() {
        let c = &l.chunk;
        for r in 0..c.len() {
            if !compared(c.kind[r]) || dropped.contains(&(f as u32, r as u32)) {
                continue;
            }
            let pid = c.pid[r];
            // Records of no known process form a stream per copy.
            let anon = if pid.is_none() { group[f] } else { usize::MAX };
            recs.push((pid, anon, c.ts_utc[r], f as u32, r as u32));
        }
    }
    recs.sort_unstable();
    // A record's copies: the twins of (file, row), by owner.
    let twins_of = |f: u32, r: u32| {
        let a = twins_rows.partition_point(|t| (t.0, t.1) < (f, r));
        let b = twins_rows.partition_point(|t| (t.0, t.1) <= (f, r));
        &twins_rows[a..b]
    };
    let line = |f: usize, r: usize| logs[f].chunk.line[r].unwrap_or(0);
    // Each member's span on UTC (its rows), to name the members a gap fell in.
    let span: Vec<Option<(i64, i64)>> = logs
        .iter()
        .map(|l| {
            let t = &l.chunk.ts_utc;
            Some((*t.iter().min()?, *t.iter().max()?))
        })
        .collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < recs.len() {
        let stream = (recs[start].0, recs[start].1);
        let end = start + recs[start..].partition_point(|x| (x.0, x.1) == stream);
        let rs = &recs[start..end];
        start = end;
        // Where each record is: (group → (file, row)) for the owner and its copies.
        let placed: Vec<Vec<(usize, usize, usize)>> = rs
            .iter()
            .map(|&(_, _, _, f, r)| {
                std::iter::once((f, r))
                    .chain(twins_of(f, r).iter().map(|t| (t.2, t.3)))
                    .map(|(f, r)| (group[f as usize], f as usize, r as usize))
                    .collect()
            })
            .collect();
        let mut gs: Vec<usize> = placed.iter().flatten().map(|p| p.0).collect();
        gs.sort_unstable();
        gs.dedup();
        if gs.len() < 2 {
            continue;
        }
        for &g in &gs {
            let at = |k: usize| placed[k].iter().find(|p| p.0 == g).map(|p| (p.1, p.2));
            let Some(first) = (0..rs.len()).find(|&k| at(k).is_some()) else {
                continue;
            };
            let last = (0..rs.len())
                .rev()
                .find(|&k| at(k).is_some())
                .unwrap_or(first);
            let members: Vec<usize> = (0..logs.len()).filter(|&f| group[f] == g).collect();
            let own = members.len() == 1 && copies.own_pid[members[0]].is_some();
            // The tail counts only for a per-process file that never stopped cleanly.
            let upto = if own && !stops(&logs[members[0]].chunk) {
                rs.len()
            } else {
                last + 1
            };
            let mut k = first;
            let mut before = at(first);
            while k < upto {
                if let Some(p) = at(k) {
                    before = Some(p);
                    k += 1;
                    continue;
                }
                let from = k;
                while k < upto && at(k).is_none() {
                    k += 1;
                }
                let run = &rs[from..k];
                let (from_us, to_us) = (run[0].2, run[run.len() - 1].2);
                if window.is_some_and(|(a, b)| to_us < a || from_us >= b) {
                    continue;
                }
                let mut all: Vec<String> = run
                    .iter()
                    .map(|x| logs[x.3 as usize].info.name.clone())
                    .collect();
                all.dedup();
                all.sort();
                all.dedup();
                let mut missing_from: Vec<String> = members
                    .iter()
                    .filter(|&&m| span[m].is_some_and(|(a, b)| a <= to_us && from_us <= b))
                    .map(|&m| logs[m].info.name.clone())
                    .collect();
                if missing_from.is_empty() {
                    missing_from.extend(before.map(|(f, _)| logs[f].info.name.clone()));
                }
                let (f0, r0) = (run[0].3 as usize, run[0].4 as usize);
                out.push(CopyGap {
                    pid: stream.0,
                    missing_from,
                    before: before.map(|(f, r)| (logs[f].info.name.clone(), line(f, r))),
                    present_in: logs[f0].info.name.clone(),
                    first_line: line(f0, r0),
                    present_in_all: all,
                    from_us,
                    to_us,
                    records: run.len(),
                });
            }
        }
    }
    out.sort_by(|a, b| (a.from_us, &a.present_in).cmp(&(b.from_us, &b.present_in)));
    out
}

impl Copies {
    /// True when some file copies another.
    pub fn any(&self) -> bool {
        !self.relations.is_empty()
    }

    /// Drops every copied record from the files (a copy keeps the lines that delimit its
    /// stretches). To be applied once, to the rows [`find`] saw.
    pub fn apply(&self, logs: &mut [LogFile]) {
        for (l, keep) in logs.iter_mut().zip(&self.keep) {
            if !keep.is_empty() && keep.len() == l.chunk.len() {
                l.chunk.retain(keep);
            }
        }
    }

    /// Records each file's copies and what it copies in its info.
    pub fn describe(&self, logs: &mut [LogFile]) {
        for &(c, p) in &self.relations {
            let (cn, pn) = (self.names[c].clone(), self.names[p].clone());
            if !logs[c].info.copy_of.contains(&pn) {
                logs[c].info.copy_of.push(pn);
            }
            if !logs[p].info.copies.contains(&cn) {
                logs[p].info.copies.push(cn);
            }
        }
    }

    /// The lines of the same record in the other copies, of a line of `file`.
    pub fn twins_of(&self, file: &str, line: u32) -> Vec<(String, u32)> {
        let Some(f) = self.names.iter().position(|n| n == file) else {
            return Vec::new();
        };
        let f = f as u32;
        let a = self.twins.partition_point(|t| (t.0, t.1) < (f, line));
        self.twins[a..]
            .iter()
            .take_while(|t| (t.0, t.1) == (f, line))
            .map(|t| (self.names[t.2 as usize].clone(), t.3))
            .collect()
    }

    /// Marks the stretches of copies in `cov` (a copy's stretch of a PID some per-process file
    /// it copies holds, or of no PID over such a file's time), extends a per-process file that
    /// ended early by the tail its copy kept, and puts the primaries first: a row is vouched
    /// for by the primary copy before any other.
    pub fn mark(&self, cov: &mut [Coverage]) {
        if !self.any() {
            return;
        }
        let index = |name: &str| self.names.iter().position(|n| n == name);
        let snapshot = cov.to_vec();
        // How long file `p`'s stretches overlap [a, b].
        let overlap = |p: usize, a: i64, b: i64| -> i64 {
            snapshot
                .iter()
                .filter(|o| o.file == self.names[p])
                .map(|o| {
                    (b.min(o.end) - a.max(o.start)).max(0) + i64::from(a <= o.end && o.start <= b)
                })
                .sum()
        };
        for c in cov.iter_mut() {
            let Some(f) = index(&c.file) else { continue };
            let related: Vec<(usize, Option<u32>)> = self
                .relations
                .iter()
                .filter(|r| r.0 == f)
                .filter_map(|r| Some((r.1, self.own_pid.get(r.1).copied().flatten()?)))
                .collect();
            if related.is_empty() {
                continue;
            }
            // The primary of the stretch's PID, over the same time.
            let mut found = related
                .iter()
                .find(|(p, pid)| pid.is_some() && *pid == c.pid && overlap(*p, c.start, c.end) > 0)
                .map(|(p, _)| *p);
            // No process of that PID has a file then: a shared rotation set gives its rows the
            // latest lock line's PID, not always theirs. The related primary alive the longest
            // over the stretch.
            let pid_alive = c.pid.is_some_and(|pid| {
                (0..self.names.len())
                    .any(|p| self.own_pid[p] == Some(Some(pid)) && overlap(p, c.start, c.end) > 0)
            });
            if found.is_none() && !pid_alive {
                found = related
                    .iter()
                    .map(|(p, _)| (overlap(*p, c.start, c.end), *p))
                    .filter(|(o, _)| *o > 0)
                    .max_by_key(|(o, p)| (*o, std::cmp::Reverse(*p)))
                    .map(|(_, p)| p);
            }
            c.copy_of = found.map(|p| self.names[p].clone());
        }
        // A per-process file whose copy goes on after it ends: the gap at its tail.
        for g in &self.gaps {
            let [m] = g.missing_from.as_slice() else {
                continue;
            };
            let copy_end = cov
                .iter()
                .filter(|c| c.copy_of.as_deref() == Some(m) && c.end >= g.to_us)
                .map(|c| c.clean_end)
                .next();
            if let Some(p) = cov
                .iter_mut()
                .find(|c| c.file == *m && c.copy_of.is_none() && c.end < g.to_us)
            {
                p.end = g.to_us;
                p.clean_end = copy_end.unwrap_or(false);
            }
        }
        cov.sort_by_key(|c| c.copy_of.is_some());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn rotation_sets_are_one_copy() {
        let p: Vec<PathBuf> = [
            "m/bot_1.log",
            "m/bot_2.log",
            "l/trading_bot.log.2",
            "l/trading_bot.log.1",
            "l/trading_bot.log",
            "x/trading_bot.log",
        ]
        .iter()
        .map(PathBuf::from)
        .collect();
        let refs: Vec<&Path> = p.iter().map(PathBuf::as_path).collect();
        assert_eq!(groups(&refs), vec![0, 1, 2, 2, 2, 5]);
    }
}
