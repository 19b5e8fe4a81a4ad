//! Scores a check's `--format json` findings against a scenario's [`Truth`]: true positives,
//! false positives and false negatives per finding kind, with examples of each mismatch.
//!
//! What counts as the truth of each kind (run with the checks' default parameters, no
//! window):
//! - `missing_in_log`: rows without a log line written while a log file was `covered`;
//!   `no_log_coverage`: the same rows written while none was; `missing_in_db`: log event
//!   lines without a row, inside the DB's span (`db_covered`); `no_db_coverage`: the same
//!   lines outside it (in practice a database down for a process's life, `db_down`);
//! - `duplicate_event`: each injected duplicate, as its set of ids;
//! - `correlation_inversion`: each pair of rows whose orders disagree; and, of those, the
//!   pairs written by two different writers (the class `multiple_writers` claims that);
//! - `process_overlap` (two files, interval to the ms), `process_gap` (longer than the 60 s
//!   default, its two files and interval to the ms), `unattributed_activity` (ghost rows
//!   written while no process was alive, by id).
//!
//! The clocks a document reports (`clock.<file>`) are scored by [`clock`], against each
//! file's true clock; [`clock_suite`] draws scenarios across the range of clock errors.
//! The two copies of the log (`log_copy_gap` findings, `sources.logs[].copy_of`/`copies`) are
//! scored by [`copies`] ([`copies_suite`]), the processes' logging levels
//! (`log_level_filtered` findings, `sources.logs[].level`) by [`levels`] ([`levels_suite`]).
//!
//! A log line of the truth is one record wherever it is: a finding that cites the handler
//! copy of a `missing_in_db` line (`LineFault::copies`) cites the line.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Debug;

use serde_json::Value;

use super::faults::{CopyGapFault, LogLevelFault};
use super::truth::Truth;
use super::{Fault, Faults, HandlerCopy, Level, Params};

mod clocks;
mod copies;
mod levels;

pub use clocks::{ClockScore, FileClockScore, clock, clock_suite, db_down_case};
pub use copies::copies;
pub use levels::levels;

/// The default `audit lifetimes --min-gap-s`.
pub const MIN_GAP_S: f64 = 60.0;

/// Counts of one comparison, with a few examples of each kind of miss.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Tally {
    pub tp: usize,
    pub fp: usize,
    #[serde(rename = "fn")]
    pub fn_: usize,
    pub fp_examples: Vec<String>,
    pub fn_examples: Vec<String>,
}

pub(crate) const EXAMPLES: usize = 4;

impl Tally {
    /// Compares two sets of items.
    pub fn of<T: Ord + Debug>(expected: BTreeSet<T>, found: BTreeSet<T>) -> Tally {
        let fp: Vec<&T> = found.difference(&expected).collect();
        let fn_: Vec<&T> = expected.difference(&found).collect();
        Tally {
            tp: found.intersection(&expected).count(),
            fp: fp.len(),
            fn_: fn_.len(),
            fp_examples: fp.iter().take(EXAMPLES).map(|x| format!("{x:?}")).collect(),
            fn_examples: fn_
                .iter()
                .take(EXAMPLES)
                .map(|x| format!("{x:?}"))
                .collect(),
        }
    }

    pub fn add(&mut self, other: &Tally, label: &str) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
        for (mine, theirs) in [
            (&mut self.fp_examples, &other.fp_examples),
            (&mut self.fn_examples, &other.fn_examples),
        ] {
            for x in theirs {
                if mine.len() < EXAMPLES {
                    mine.push(format!("{label}: {x}"));
                }
            }
        }
    }

    /// TP / (TP + FP); 1 when nothing was claimed.
    pub fn precision(&self) -> f64 {
        if self.tp + self.fp == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fp) as f64
        }
    }

    /// TP / (TP + FN); 1 when there was nothing to find.
    pub fn recall(&self) -> f64 {
        if self.tp + self.fn_ == 0 {
            1.0
        } else {
            self.tp as f64 / (self.tp + self.fn_) as f64
        }
    }
}

pub(crate) fn findings<'a>(doc: &'a Value, kind: &str) -> impl Iterator<Item = &'a Value> + 'a {
    let kind = kind.to_string();
    doc["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(move |f| f["kind"] == kind.as_str())
}

pub(crate) fn ids(f: &Value) -> Vec<i64> {
    let mut v: Vec<i64> = f["event_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_i64)
        .collect();
    v.extend(f["event_id"].as_i64());
    v
}

fn log_ref(v: &Value) -> Option<(String, u64)> {
    Some((v["file"].as_str()?.to_string(), v["line"].as_u64()?))
}

/// An RFC 3339 instant to the ms (the granularity log lines have), as `…T03:37:02.898Z`.
fn ms(s: &str) -> Option<String> {
    chrono::DateTime::parse_from_rfc3339(s).ok().map(|t| {
        t.with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    })
}

/// `audit missing-logs`: per finding kind.
pub fn missing_logs(t: &Truth, doc: &Value) -> BTreeMap<String, Tally> {
    let mut out = BTreeMap::new();
    // Rows whose line the level kept out are not missing lines (the truth never lists them
    // as such; a hand-edited one is held to it too).
    let filtered: BTreeSet<i64> = t.filtered_by_level.iter().copied().collect();
    let exp_log: BTreeSet<i64> = t
        .missing_in_log
        .iter()
        .filter(|r| r.covered && !filtered.contains(&r.id))
        .map(|r| r.id)
        .collect();
    // Its own row only: `event_ids` of a missing_in_log finding names the logged sibling.
    let got_log: BTreeSet<i64> = findings(doc, "missing_in_log")
        .filter_map(|f| f["event_id"].as_i64())
        .collect();
    out.insert("missing_in_log".into(), Tally::of(exp_log, got_log));
    let exp_cov: BTreeSet<i64> = t
        .missing_in_log
        .iter()
        .filter(|r| !r.covered)
        .map(|r| r.id)
        .collect();
    let got_cov: BTreeSet<i64> = findings(doc, "no_log_coverage").flat_map(ids).collect();
    out.insert("no_log_coverage".into(), Tally::of(exp_cov, got_cov));
    // The other copy of each line (a handler member's) is the line.
    let canon: HashMap<(String, u64), (String, u64)> = t
        .missing_in_db
        .iter()
        .flat_map(|l| {
            l.copies.iter().map(move |c| {
                (
                    (c.file.clone(), u64::from(c.line)),
                    (l.file.clone(), u64::from(l.line)),
                )
            })
        })
        .collect();
    let exp_db: BTreeSet<(String, u64)> = t
        .missing_in_db
        .iter()
        .filter(|l| l.db_covered)
        .map(|l| (l.file.clone(), u64::from(l.line)))
        .collect();
    let got_db: BTreeSet<(String, u64)> = findings(doc, "missing_in_db")
        .filter_map(|f| log_ref(&f["log"]))
        .map(|r| canon.get(&r).cloned().unwrap_or(r))
        .collect();
    out.insert("missing_in_db".into(), Tally::of(exp_db, got_db));
    // Log event lines without a row where the DB holds no rows to judge them by: every line
    // of `missing_in_db` that is not `db_covered`, whatever its cause. The product cannot
    // tell a database down from another reason a row is missing, only that the DB's span
    // does not reach the line, so the truth is the coverage, not the cause; in generated
    // scenarios these are the `db_down` lines after the DB's newest row (the faults that
    // lose rows otherwise are placed well inside the DB's span). A finding names its lines
    // in `log` and/or `logs`.
    let exp_nodb: BTreeSet<(String, u64)> = t
        .missing_in_db
        .iter()
        .filter(|l| !l.db_covered)
        .map(|l| (l.file.clone(), u64::from(l.line)))
        .collect();
    // Every place each expected line is (itself, and its copies).
    type Place = (String, u64);
    let places: Vec<(Place, Vec<Place>)> = t
        .missing_in_db
        .iter()
        .filter(|l| !l.db_covered)
        .map(|l| {
            let me = (l.file.clone(), u64::from(l.line));
            let mut at = vec![me.clone()];
            at.extend(l.copies.iter().map(|c| (c.file.clone(), u64::from(c.line))));
            (me, at)
        })
        .collect();
    // A finding is one stretch of a file: its first line in `log`, its last in `logs`, how many
    // lines it counts in `details.lines`. The expected lines inside a stretch are found; lines
    // it counts beyond them are false.
    let mut got_nodb: BTreeSet<(String, u64)> = BTreeSet::new();
    let mut extra: Vec<(String, u64)> = Vec::new();
    for f in findings(doc, "no_db_coverage") {
        let Some((file, from)) = log_ref(&f["log"]) else {
            continue;
        };
        let to = f["logs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(log_ref)
            .map(|(_, l)| l)
            .max()
            .unwrap_or(from);
        let inside: Vec<(String, u64)> = places
            .iter()
            .filter(|(_, at)| {
                at.iter()
                    .any(|(fl, l)| *fl == file && from <= *l && *l <= to)
            })
            .map(|(me, _)| me.clone())
            .collect();
        let counted = f["details"]["lines"]
            .as_u64()
            .unwrap_or(inside.len() as u64);
        for k in 0..counted.saturating_sub(inside.len() as u64) {
            extra.push((format!("{file} (stretch {from}-{to}, extra {k})"), 0));
        }
        got_nodb.extend(inside);
    }
    got_nodb.extend(extra);
    out.insert("no_db_coverage".into(), Tally::of(exp_nodb, got_nodb));
    out
}

/// `audit duplicates`: groups of ids.
pub fn duplicates(t: &Truth, doc: &Value) -> BTreeMap<String, Tally> {
    let norm = |mut v: Vec<i64>| {
        v.sort_unstable();
        v
    };
    let exp: BTreeSet<Vec<i64>> = t.duplicates.iter().cloned().map(norm).collect();
    let got: BTreeSet<Vec<i64>> = findings(doc, "duplicate_event")
        .map(|f| norm(ids(f)))
        .collect();
    BTreeMap::from([("duplicate_event".to_string(), Tally::of(exp, got))])
}

/// `audit inversions`: the pairs, and the pairs it calls `multiple_writers`.
pub fn inversions(t: &Truth, doc: &Value) -> BTreeMap<String, Tally> {
    let pair = |mut v: Vec<i64>| {
        v.sort_unstable();
        v
    };
    let exp: BTreeSet<Vec<i64>> = t.inversions.iter().map(|i| pair(i.ids.to_vec())).collect();
    let got: BTreeSet<Vec<i64>> = findings(doc, "correlation_inversion")
        .map(|f| pair(ids(f)))
        .collect();
    let exp_mw: BTreeSet<Vec<i64>> = t
        .inversions
        .iter()
        .filter(|i| i.class == "multiple_writers")
        .map(|i| pair(i.ids.to_vec()))
        .collect();
    let got_mw: BTreeSet<Vec<i64>> = findings(doc, "correlation_inversion")
        .filter(|f| f["class"] == "multiple_writers")
        .map(|f| pair(ids(f)))
        .collect();
    BTreeMap::from([
        ("correlation_inversion".to_string(), Tally::of(exp, got)),
        (
            "correlation_inversion[multiple_writers]".to_string(),
            Tally::of(exp_mw, got_mw),
        ),
    ])
}

/// `audit lifetimes`: overlaps, gaps, unattributed rows.
pub fn lifetimes(t: &Truth, doc: &Value) -> BTreeMap<String, Tally> {
    type Span = (String, String, Option<String>, Option<String>);
    let exp_ov: BTreeSet<Span> = t
        .overlaps
        .iter()
        .map(|o| {
            let mut f = o.files.clone();
            f.sort();
            let [a, b] = f;
            (a, b, ms(&o.start_utc), ms(&o.end_utc))
        })
        .collect();
    let two_files = |f: &Value| -> Option<(String, String)> {
        let p = f["processes"].as_array()?;
        let mut names: Vec<String> = p
            .iter()
            .filter_map(|x| x["file"].as_str().map(str::to_string))
            .collect();
        if names.len() != 2 {
            return None;
        }
        names.sort();
        Some((names[0].clone(), names[1].clone()))
    };
    let got_ov: BTreeSet<Span> = findings(doc, "process_overlap")
        .filter_map(|f| {
            let (a, b) = two_files(f)?;
            let d = &f["details"];
            Some((
                a,
                b,
                d["overlap_start_utc"].as_str().and_then(ms),
                d["overlap_end_utc"].as_str().and_then(ms),
            ))
        })
        .collect();
    let exp_gap: BTreeSet<Span> = t
        .gaps
        .iter()
        .filter(|g| g.seconds > MIN_GAP_S)
        .map(|g| {
            (
                g.after.clone(),
                g.before.clone(),
                ms(&g.start_utc),
                ms(&g.end_utc),
            )
        })
        .collect();
    let got_gap: BTreeSet<Span> = findings(doc, "process_gap")
        .filter_map(|f| {
            let p = f["processes"].as_array()?;
            let d = &f["details"];
            Some((
                p.first()?["file"].as_str()?.to_string(),
                p.get(1)?["file"].as_str()?.to_string(),
                d["gap_start_utc"].as_str().and_then(ms),
                d["gap_end_utc"].as_str().and_then(ms),
            ))
        })
        .collect();
    let exp_un: BTreeSet<i64> = t.unattributed.iter().copied().collect();
    let got_un: BTreeSet<i64> = findings(doc, "unattributed_activity")
        .flat_map(ids)
        .collect();
    BTreeMap::from([
        ("process_overlap".to_string(), Tally::of(exp_ov, got_ov)),
        ("process_gap".to_string(), Tally::of(exp_gap, got_gap)),
        (
            "unattributed_activity".to_string(),
            Tally::of(exp_un, got_un),
        ),
    ])
}

/// The checks scored, with the `audit` subcommand that runs each.
pub const CHECKS: [&str; 4] = ["missing-logs", "inversions", "lifetimes", "duplicates"];

/// Scores one check's JSON document.
pub fn score(check: &str, t: &Truth, doc: &Value) -> BTreeMap<String, Tally> {
    match check {
        "missing-logs" => missing_logs(t, doc),
        "inversions" => inversions(t, doc),
        "lifetimes" => lifetimes(t, doc),
        "duplicates" => duplicates(t, doc),
        _ => BTreeMap::new(),
    }
}

/// A scenario of the accuracy suite.
#[derive(Debug, Clone)]
pub struct SuiteCase {
    pub name: &'static str,
    pub params: Params,
    pub faults: Faults,
}

/// The accuracy suite: each fault on its own, then all together; 2 h each at 60 events/min.
pub fn suite() -> Vec<SuiteCase> {
    let case = |name: &'static str, seed: u64, faults: &[Fault]| {
        let mut p = Params::new(seed);
        p.duration = chrono::Duration::hours(2);
        let mut f = Faults::default();
        for x in faults {
            f.add(*x);
        }
        SuiteCase {
            name,
            params: p,
            faults: f,
        }
    };
    // A constant: a typo here must fail loudly, not drop two of the seven scenarios.
    let o = chrono::FixedOffset::east_opt(5 * 3600 + 30 * 60).expect("+05:30 is an offset");
    vec![
        case(
            "lost-lines-and-batches",
            11,
            &[Fault::LostLogLines(8), Fault::LostDbBatch(2)],
        ),
        case("duplicates", 12, &[Fault::Duplicates(5)]),
        case("overlap", 13, &[Fault::Overlap, Fault::LostLogLines(3)]),
        case("ghost-writer", 14, &[Fault::GhostWriter]),
        case(
            "offset-change",
            15,
            &[Fault::OffsetChange(None), Fault::LostDbBatch(1)],
        ),
        case(
            "skewed-host",
            16,
            &[Fault::SkewedHost(o), Fault::Duplicates(2)],
        ),
        case(
            "everything",
            17,
            &[
                Fault::LostLogLines(5),
                Fault::LostDbBatch(2),
                Fault::Duplicates(3),
                Fault::Overlap,
                Fault::GhostWriter,
                Fault::SkewedHost(o),
                Fault::OffsetChange(None),
            ],
        ),
    ]
}

/// A 2 h case at 60 events/min.
fn two_hours(name: &'static str, seed: u64, faults: Vec<Fault>) -> SuiteCase {
    let mut p = Params::new(seed);
    p.duration = chrono::Duration::hours(2);
    let mut f = Faults::default();
    for x in faults {
        f.add(x);
    }
    SuiteCase {
        name,
        params: p,
        faults: f,
    }
}

fn level(process: Option<usize>, level: Level) -> Fault {
    Fault::LogLevel(LogLevelFault { process, level })
}

/// The logging-level suite, 2 h each at 60 events/min, each with about 3 % of the event lines
/// the levels let through and 1 % of the flushes lost (counts fixed from the measured
/// mix: about 56 event lines a minute per process, 4 % of them WARNING, 0.1 % ERROR; a flush
/// every 5 s): one process at WARNING among processes at INFO (with an overlap: three
/// processes), every process at WARNING, and one process at ERROR beside one at INFO.
/// `score::levels` scores them; `missing-logs` must not call their filtered rows
/// `missing_in_log`.
pub fn levels_suite() -> Vec<SuiteCase> {
    vec![
        two_hours(
            "level-one-warning: process 2 at WARNING, processes 1 and 3 (an overlap) at INFO; 3 % of written lines, 1 % of flushes lost",
            31,
            vec![
                Fault::Overlap,
                level(None, Level::Info),
                level(Some(2), Level::Warning),
                Fault::LostLogLines(135),
                Fault::LostDbBatch(16),
            ],
        ),
        two_hours(
            "level-all-warning: every process at WARNING; 3 % of written lines, 1 % of flushes lost",
            32,
            vec![
                level(None, Level::Warning),
                Fault::LostLogLines(9),
                Fault::LostDbBatch(14),
            ],
        ),
        two_hours(
            "level-error: process 1 at ERROR, process 2 at INFO; 3 % of written lines, 1 % of flushes lost",
            33,
            vec![
                level(None, Level::Info),
                level(Some(1), Level::Error),
                Fault::LostLogLines(100),
                Fault::LostDbBatch(14),
            ],
        ),
    ]
}

/// The two-copies suite, 2 h each at 60 events/min with both copies written (the tee file per
/// process and `logs/trading_bot.log*`) and about 3 % of the event lines lost (from both
/// copies: the bot never wrote them): members of 512 KiB, 10 kept, `.4` and older gzipped,
/// with an overlap (two processes in one member); the tee copy of process 1 losing 10
/// minutes (`copy-gap=10`); the handler copy losing 10 minutes of process 1
/// (`handler-gap=10`). `score::copies` scores them.
pub fn copies_suite() -> Vec<SuiteCase> {
    let with = |mut c: SuiteCase, h: HandlerCopy| {
        c.params.handler = Some(h);
        c
    };
    let gap = CopyGapFault {
        process: None,
        minutes: 10.0,
        at: None,
    };
    let mib = HandlerCopy {
        max_bytes: 1 << 20,
        backups: 10,
        gzip_from: Some(3),
    };
    vec![
        with(
            two_hours(
                "copies-rotated: both copies, 512 KiB members (10 kept, .4 and older gzipped), an overlap; 3 % of lines lost",
                41,
                vec![Fault::Overlap, Fault::LostLogLines(230)],
            ),
            HandlerCopy {
                max_bytes: 512 << 10,
                backups: 10,
                gzip_from: Some(4),
            },
        ),
        with(
            two_hours(
                "copies-tee-gap: the tee copy of process 1 lost 10 minutes (copy-gap=10), 1 MiB members, .3 and older gzipped; 3 % of lines lost",
                42,
                vec![Fault::CopyGap(gap), Fault::LostLogLines(195)],
            ),
            mib,
        ),
        with(
            two_hours(
                "copies-handler-gap: the handler copy lost 10 minutes of process 1 (handler-gap=10), 1 MiB members, .3 and older gzipped; 3 % of lines lost",
                43,
                vec![Fault::HandlerGap(gap), Fault::LostLogLines(195)],
            ),
            mib,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tallies_count_and_rate() {
        let t = Tally::of(BTreeSet::from([1, 2, 3]), BTreeSet::from([2, 3, 4]));
        assert_eq!((t.tp, t.fp, t.fn_), (2, 1, 1));
        assert!((t.precision() - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(t.fp_examples, vec!["4"]);
        assert_eq!(t.fn_examples, vec!["1"]);
        let empty = Tally::of(BTreeSet::<i32>::new(), BTreeSet::new());
        assert_eq!((empty.precision(), empty.recall()), (1.0, 1.0));
        let mut sum = Tally::default();
        sum.add(&t, "a");
        sum.add(&t, "b");
        assert_eq!((sum.tp, sum.fp, sum.fn_), (4, 2, 2));
        assert_eq!(sum.fp_examples, vec!["a: 4", "b: 4"]);
    }

    /// The seven scenarios of docs/accuracy.md's table, by name and seed: a scenario that stops
    /// being built (it used to depend on an offset parsing) shrinks the accuracy report silently.
    #[test]
    fn the_suite_has_its_seven_scenarios() {
        let got: Vec<(&str, u64)> = suite().iter().map(|c| (c.name, c.params.seed)).collect();
        assert_eq!(
            got,
            vec![
                ("lost-lines-and-batches", 11),
                ("duplicates", 12),
                ("overlap", 13),
                ("ghost-writer", 14),
                ("offset-change", 15),
                ("skewed-host", 16),
                ("everything", 17),
            ]
        );
        // Both skewed scenarios write the second host's log at +05:30 (19 800 s east).
        let skew = chrono::FixedOffset::east_opt(19_800);
        assert_eq!(suite()[5].faults.skewed_host, skew);
        assert_eq!(suite()[6].faults.skewed_host, skew);
    }

    #[test]
    fn the_suite_plans() {
        for c in suite()
            .into_iter()
            .chain(levels_suite())
            .chain(copies_suite())
        {
            let s = super::super::Scenario::plan(&c.params, &c.faults);
            assert!(s.is_ok(), "{}: {:?}", c.name, s.err());
        }
    }
}
