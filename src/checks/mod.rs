//! The forensic checks. Each is a pure function of the timeline and its parameters: no I/O,
//! no printing, no clock reads. They return [`Finding`]s with their evidence; renderers print.

pub mod clock;
pub mod copies;
pub mod duplicates;
pub mod inversions;
pub mod lifetimes;
pub mod matching;
pub mod missing;
#[cfg(test)]
pub mod testkit;

use std::fmt;

use serde::Serialize;

use crate::time::rfc3339_micros;

/// What was found. The names are part of the output contract (docs/findings.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    MissingInLog,
    MissingInDb,
    NoLogCoverage,
    CorrelationInversion,
    ProcessOverlap,
    ProcessGap,
    UnattributedActivity,
    DuplicateEvent,
    ClockOffsetChange,
    ClockUnsettled,
    NoDbCoverage,
    LogCopyGap,
    LogLevelFiltered,
}

impl FindingKind {
    pub const ALL: [FindingKind; 13] = [
        FindingKind::MissingInLog,
        FindingKind::MissingInDb,
        FindingKind::NoLogCoverage,
        FindingKind::NoDbCoverage,
        FindingKind::LogCopyGap,
        FindingKind::LogLevelFiltered,
        FindingKind::CorrelationInversion,
        FindingKind::ProcessOverlap,
        FindingKind::ProcessGap,
        FindingKind::UnattributedActivity,
        FindingKind::DuplicateEvent,
        FindingKind::ClockOffsetChange,
        FindingKind::ClockUnsettled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::MissingInLog => "missing_in_log",
            FindingKind::MissingInDb => "missing_in_db",
            FindingKind::NoLogCoverage => "no_log_coverage",
            FindingKind::CorrelationInversion => "correlation_inversion",
            FindingKind::ProcessOverlap => "process_overlap",
            FindingKind::ProcessGap => "process_gap",
            FindingKind::UnattributedActivity => "unattributed_activity",
            FindingKind::DuplicateEvent => "duplicate_event",
            FindingKind::ClockOffsetChange => "clock_offset_change",
            FindingKind::ClockUnsettled => "clock_unsettled",
            FindingKind::NoDbCoverage => "no_db_coverage",
            FindingKind::LogCopyGap => "log_copy_gap",
            FindingKind::LogLevelFiltered => "log_level_filtered",
        }
    }
}

impl fmt::Display for FindingKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A check: the command that runs it alone, and the finding kinds it produces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Check {
    Skew,
    MissingLogs,
    Inversions,
    Lifetimes,
    Duplicates,
}

impl Check {
    /// Every check, in report order.
    pub const ALL: [Check; 5] = [
        Check::Skew,
        Check::MissingLogs,
        Check::Inversions,
        Check::Lifetimes,
        Check::Duplicates,
    ];

    /// Its command's name (a JUnit testcase, a SARIF rule group).
    pub const fn name(self) -> &'static str {
        match self {
            Check::Skew => "skew",
            Check::MissingLogs => "missing-logs",
            Check::Inversions => "inversions",
            Check::Lifetimes => "lifetimes",
            Check::Duplicates => "duplicates",
        }
    }
}

impl FindingKind {
    /// The check that produces this kind.
    pub fn check(self) -> Check {
        match self {
            FindingKind::MissingInLog
            | FindingKind::MissingInDb
            | FindingKind::NoLogCoverage
            | FindingKind::NoDbCoverage
            | FindingKind::LogCopyGap
            | FindingKind::LogLevelFiltered => Check::MissingLogs,
            FindingKind::CorrelationInversion => Check::Inversions,
            FindingKind::ProcessOverlap
            | FindingKind::ProcessGap
            | FindingKind::UnattributedActivity => Check::Lifetimes,
            FindingKind::DuplicateEvent => Check::Duplicates,
            FindingKind::ClockOffsetChange | FindingKind::ClockUnsettled => Check::Skew,
        }
    }
}

#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A log record as evidence: its file and the 1-based line of its first line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct LogRef {
    pub file: String,
    pub line: u32,
    /// The same record in another copy of the stream (the handler copy of a tee line, or the
    /// reverse): shown beside the primary copy's line, never part of the fingerprint.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub copy: bool,
}

impl LogRef {
    /// A line of a file.
    pub fn at(file: impl Into<String>, line: u32) -> LogRef {
        LogRef {
            file: file.into(),
            line,
            copy: false,
        }
    }
}

/// A process as evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProcessRef {
    pub file: String,
    pub pid: Option<u32>,
    pub start_utc: String,
    pub end_utc: String,
}

impl ProcessRef {
    /// A log file's (a process's) coverage as evidence.
    pub fn of(c: &crate::rows::Coverage) -> ProcessRef {
        ProcessRef {
            file: c.file.clone(),
            pid: c.pid,
            start_utc: rfc3339_micros(c.start),
            end_utc: rfc3339_micros(c.end),
        }
    }
}

/// One finding with its evidence. Field names are the same for every kind.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub severity: Severity,
    /// Same input → same fingerprint, whatever the run time or ordering.
    pub fingerprint: String,
    pub at_utc: String,
    #[serde(skip)]
    pub at_us: i64,
    pub explanation: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_id: Option<i64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub event_ids: Vec<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log: Option<LogRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub logs: Vec<LogRef>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub processes: Vec<ProcessRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    /// Kind-specific facts (an interval, a measured delta, the reasons of a class).
    #[serde(skip_serializing_if = "serde_json::Value::is_null")]
    pub details: serde_json::Value,
    /// `new` or `accepted`, when compared with a baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<&'static str>,
    /// For a finding about a run of DB rows: what a check over time slices needs to join the
    /// pieces each slice saw ([`join_runs`]).
    #[serde(skip)]
    pub run: Option<Run>,
}

impl Finding {
    /// A finding with its identity; evidence is added with the builder methods.
    pub fn new(kind: FindingKind, severity: Severity, at_us: i64, explanation: String) -> Finding {
        Finding {
            kind,
            severity,
            fingerprint: String::new(),
            at_utc: rfc3339_micros(at_us),
            at_us,
            explanation,
            event_id: None,
            event_ids: Vec::new(),
            log: None,
            logs: Vec::new(),
            processes: Vec::new(),
            class: None,
            details: serde_json::Value::Null,
            baseline: None,
            run: None,
        }
    }

    /// Computes the fingerprint from the kind and the evidence (never from run time).
    pub fn sealed(mut self) -> Finding {
        let mut h = Fnv::new();
        h.write(self.kind.as_str());
        if let Some(c) = &self.class {
            h.write(c);
        }
        let mut ids: Vec<i64> = self.event_ids.clone();
        ids.extend(self.event_id);
        ids.sort_unstable();
        for id in ids {
            h.write(&id.to_string());
        }
        let mut logs: Vec<&LogRef> = (self.logs.iter().chain(self.log.as_ref()))
            .filter(|l| !l.copy)
            .collect();
        logs.sort();
        for l in logs {
            h.write(&l.file);
            h.write(&l.line.to_string());
        }
        if self.event_id.is_none()
            && self.event_ids.is_empty()
            && self.log.is_none()
            && self.logs.is_empty()
        {
            // Findings about processes or intervals: their identity is what they name.
            for p in &self.processes {
                h.write(&p.file);
                h.write(&p.start_utc);
            }
            h.write(&self.at_utc);
        }
        self.fingerprint = format!("{:016x}", h.0);
        self
    }
}

/// Which run-of-rows finding a [`Run`] belongs to (how its explanation is written).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RunOf {
    /// Rows no log file covers (missing.rs).
    NoCoverage,
    /// Rows outside every process's life (lifetimes.rs).
    NoProcess,
    /// Rows written while a process was alive that none of its batches holds (lifetimes.rs).
    Foreign,
}

/// A finding about a run of DB rows, as a check over one time window saw it: only the window's
/// rows are in the run, so a check over consecutive windows sees a long run in pieces, which
/// [`join_runs`] joins into the finding one pass over the whole range gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub of: RunOf,
    /// What the run falls in (the gap between files, between processes, or the process):
    /// pieces with the same `of` and key are one run.
    pub key: String,
    pub first: i64,
    pub last: i64,
    /// The process's flush lines (a foreign-writer run says how many it was checked against).
    pub flush_lines: usize,
}

impl Run {
    fn explain(&self, rows: usize) -> String {
        match self.of {
            RunOf::NoCoverage => missing::no_coverage_text(self, rows),
            RunOf::NoProcess => lifetimes::no_process_text(self, rows),
            RunOf::Foreign => lifetimes::foreign_text(self, rows),
        }
    }
}

/// Joins the pieces of runs that time slices saw apart (same kind of run, same key) into one
/// finding each: rows together, from the first piece's start to the last one's end, its
/// explanation written again and its fingerprint sealed again. Other findings pass through.
pub fn join_runs(findings: Vec<Finding>) -> Vec<Finding> {
    let mut out: Vec<Finding> = Vec::with_capacity(findings.len());
    let mut at: std::collections::HashMap<(RunOf, String), usize> = Default::default();
    for f in findings {
        let Some(r) = f.run.clone() else {
            out.push(f);
            continue;
        };
        match at.get(&(r.of, r.key.clone())) {
            None => {
                at.insert((r.of, r.key), out.len());
                out.push(f);
            }
            Some(&k) => {
                let g = &mut out[k];
                let Some(joined) = g.run.as_mut() else {
                    continue;
                };
                joined.first = joined.first.min(r.first);
                joined.last = joined.last.max(r.last);
                g.event_ids.extend(f.event_ids);
                g.at_us = g.at_us.min(f.at_us);
            }
        }
    }
    for f in out.iter_mut() {
        let Some(r) = f.run.clone() else { continue };
        f.explanation = r.explain(f.event_ids.len());
        f.at_utc = rfc3339_micros(f.at_us);
        if r.of == RunOf::Foreign {
            f.details["batches"] = serde_json::json!(r.flush_lines);
        }
    }
    out.into_iter().map(Finding::sealed).collect()
}

/// FNV-1a, 64 bit: stable across Rust versions and platforms (std's hasher is not).
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
    fn write(&mut self, s: &str) {
        for b in s.as_bytes().iter().chain(std::iter::once(&0xffu8)) {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// Orders findings for output: by time, then kind, then fingerprint (stable across runs).
pub fn sort(findings: &mut [Finding]) {
    findings
        .sort_by(|a, b| (a.at_us, a.kind, &a.fingerprint).cmp(&(b.at_us, b.kind, &b.fingerprint)));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(of: RunOf, key: &str, first: i64, last: i64, ids: &[i64]) -> Finding {
        let run = Run {
            of,
            key: key.into(),
            first,
            last,
            flush_lines: 7,
        };
        let kind = match of {
            RunOf::NoCoverage => FindingKind::NoLogCoverage,
            _ => FindingKind::UnattributedActivity,
        };
        let mut f = Finding::new(kind, Severity::High, first, run.explain(ids.len()));
        f.event_ids = ids.to_vec();
        f.run = Some(run);
        f.sealed()
    }

    #[test]
    fn pieces_of_one_run_join_into_the_finding_one_pass_writes() {
        let h = 3_600_000_000;
        let pieces = vec![
            piece(RunOf::NoProcess, "after a ended", h, 2 * h, &[1, 2]),
            piece(RunOf::NoCoverage, "after a.log ended", h, h, &[9]),
            piece(RunOf::NoProcess, "after a ended", 2 * h + 1, 3 * h, &[3]),
            piece(RunOf::NoProcess, "before b started", 4 * h, 4 * h, &[4]),
        ];
        let whole = piece(RunOf::NoProcess, "after a ended", h, 3 * h, &[1, 2, 3]);
        let joined = join_runs(pieces);
        assert_eq!(joined.len(), 3, "{joined:#?}");
        let j = &joined[0];
        assert_eq!(j.event_ids, vec![1, 2, 3]);
        assert_eq!(j.at_us, h);
        assert_eq!(j.explanation, whole.explanation);
        assert!(
            j.explanation
                .starts_with("3 DB row(s) from 01:00:00.000 to 03:00:00.000")
        );
        assert_eq!(j.fingerprint, whole.fingerprint);
        // Other runs (another kind, another key) pass through as they were.
        assert_eq!(joined[1].event_ids, vec![9]);
        assert_eq!(joined[2].event_ids, vec![4]);
    }

    #[test]
    fn a_foreign_writer_run_keeps_its_process_flush_count() {
        let a = piece(RunOf::Foreign, "a.log (PID 1)", 10, 20, &[5]);
        let b = piece(RunOf::Foreign, "a.log (PID 1)", 30, 40, &[6, 7]);
        let j = join_runs(vec![a, b]);
        assert_eq!(j.len(), 1);
        assert!(
            j[0].explanation.contains("(7 flush lines)"),
            "{}",
            j[0].explanation
        );
        assert!(j[0].explanation.starts_with("3 DB row(s)"));
        assert_eq!(j[0].details["batches"], 7);
    }

    #[test]
    fn fingerprints_depend_on_evidence_not_order_or_wording() {
        let a = Finding {
            event_ids: vec![2, 1],
            ..Finding::new(FindingKind::DuplicateEvent, Severity::Low, 5, "x".into())
        }
        .sealed();
        let b = Finding {
            event_ids: vec![1, 2],
            ..Finding::new(
                FindingKind::DuplicateEvent,
                Severity::High,
                5,
                "other words".into(),
            )
        }
        .sealed();
        let c = Finding {
            event_ids: vec![1, 3],
            ..Finding::new(FindingKind::DuplicateEvent, Severity::Low, 5, "x".into())
        }
        .sealed();
        assert_eq!(a.fingerprint, b.fingerprint);
        assert_ne!(a.fingerprint, c.fingerprint);
        assert_eq!(a.fingerprint.len(), 16);
    }

    fn refs(l: &[(&str, u32)]) -> Vec<LogRef> {
        l.iter().map(|(f, n)| LogRef::at(*f, *n)).collect()
    }

    /// Literal fingerprints, one finding of each kind: changing the hash, the fields it covers
    /// or their order silently would break every baseline. The values were not taken from
    /// this code: docs/fingerprint.py implements docs/findings.md ("How a fingerprint is
    /// computed") on its own (FNV-1a 64, offset basis 0xcbf29ce484222325, prime 0x100000001b3,
    /// over kind, class, the sorted DB ids in decimal, the sorted (file, line) log references
    /// but copies, each field's UTF-8 followed by a 0xff byte; when a finding has neither ids
    /// nor log references: each process's file and start_utc, then at_utc). Where
    /// docs/findings.md prints an example of the kind, its evidence is used here, and the
    /// script recomputes that example's printed fingerprint (`python3 docs/fingerprint.py`);
    /// the others use small evidence of their own, computed with the same script.
    #[test]
    fn fingerprints_are_pinned() {
        use FindingKind as K;
        let f = |kind, ids: &[i64], logs: &[(&str, u32)]| Finding {
            event_ids: ids.to_vec(),
            logs: refs(logs),
            ..Finding::new(kind, Severity::Info, 0, String::new())
        };
        let inversion = Finding {
            class: Some("overlapping_operations".into()),
            ..f(
                K::CorrelationInversion,
                &[785223, 785194],
                &[("bot_20251018_145959.log", 909)],
            )
        };
        let missing_in_log = Finding {
            event_id: Some(785194),
            log: Some(LogRef::at("bot_20251018_145959.log", 909)),
            ..f(K::MissingInLog, &[], &[])
        };
        // Only processes and a time: the process's file and start, then at_utc.
        let gap_at = 1_760_760_000 * 1_000_000; // 2025-10-18T04:00:00Z
        let process_only = Finding {
            processes: vec![ProcessRef {
                file: "a.log".into(),
                pid: Some(1),
                start_utc: "2025-10-18T03:00:00.000000Z".into(),
                end_utc: "2025-10-18T03:30:00.000000Z".into(),
            }],
            ..Finding::new(K::ProcessGap, Severity::Low, gap_at, String::new())
        };
        // A copy's line is shown, never hashed: the same value as without it.
        let mut with_copy = f(K::LogCopyGap, &[], &[("bot_a.log", 7)]);
        with_copy.logs.push(LogRef {
            copy: true,
            ..LogRef::at("trading_bot.log", 9)
        });
        let cases = [
            // docs/findings.md's examples.
            (missing_in_log, "26f4f061db4c9d61"),
            (
                f(
                    K::MissingInDb,
                    &[],
                    &[
                        ("bot_20251018_071706.log", 3246),
                        ("bot_20251018_071706.log", 3234),
                    ],
                ),
                "e3fec445b8ea67be",
            ),
            (inversion, "b6c8edae8ca7aa4f"),
            (
                f(
                    K::ProcessOverlap,
                    &[],
                    &[
                        ("bot_20251018_071706.log", 6),
                        ("bot_20251018_070000.log", 5),
                    ],
                ),
                "5a67244677aa2f82",
            ),
            (
                f(
                    K::ProcessGap,
                    &[],
                    &[
                        ("bot_20251018_070604.log", 37561),
                        ("bot_20251018_145959.log", 1),
                    ],
                ),
                "43ba3ad0c6c37ea9",
            ),
            (
                f(
                    K::DuplicateEvent,
                    &[785173, 785168],
                    &[("bot_20251018_145959.log", 765)],
                ),
                "d8b5771cda334b6b",
            ),
            (
                f(
                    K::ClockOffsetChange,
                    &[],
                    &[("bot_20251018_070000.log", 7954)],
                ),
                "c4cf081041b99343",
            ),
            (
                f(
                    K::NoDbCoverage,
                    &[],
                    &[
                        ("bot_20251018_073133.log", 15697),
                        ("bot_20251018_073133.log", 10),
                    ],
                ),
                "5cbdaf05233e2940",
            ),
            (
                f(
                    K::LogCopyGap,
                    &[],
                    &[
                        ("trading_bot.log.3.gz", 7321),
                        ("bot_20251018_070000.log", 7316),
                    ],
                ),
                "2099b76c7fff5e21",
            ),
            (
                f(K::ClockUnsettled, &[], &[("host2_bot.log", 5)]),
                "f963799219a19538",
            ),
            // Kinds whose example in the doc is shortened (or absent): evidence of their own.
            (
                f(K::NoLogCoverage, &[779300, 779299, 779301], &[]),
                "36991f1b77eee92e",
            ),
            (
                f(K::UnattributedActivity, &[42, 7], &[]),
                "50e1f7a397d70dac",
            ),
            (
                f(K::LogLevelFiltered, &[12, 11], &[("bot_a.log", 1)]),
                "3b320f7aca4094ec",
            ),
            (process_only, "be25ded6b895256d"),
            (with_copy, "ffacc8221edddd09"),
        ];
        let mut kinds = std::collections::BTreeSet::new();
        for (finding, want) in cases {
            kinds.insert(finding.kind.as_str());
            let got = finding.sealed();
            assert_eq!(got.fingerprint, want, "{:?}", got.kind);
        }
        assert_eq!(kinds.len(), 13, "one finding of each kind: {kinds:?}");
    }
}
