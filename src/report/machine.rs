//! What the CI renderers (JUnit, SARIF, GitHub annotations) share: where a finding points in
//! the files that were read, and which check produced it.

use crate::checks::{Check, Finding, FindingKind, Severity};
use crate::timeline::Timeline;

/// The check (a JUnit testcase, a SARIF rule group) a finding kind belongs to.
pub fn check_of(kind: FindingKind) -> &'static str {
    kind.check().name()
}

/// Every check, in report order.
pub const CHECKS: [&str; 5] = [
    Check::ALL[0].name(),
    Check::ALL[1].name(),
    Check::ALL[2].name(),
    Check::ALL[3].name(),
    Check::ALL[4].name(),
];

/// One line describing a finding kind (SARIF rule text, JUnit headers).
pub fn describe(kind: FindingKind) -> &'static str {
    match kind {
        FindingKind::MissingInLog => {
            "A DB row has no log line although a log file was being written at that moment"
        }
        FindingKind::MissingInDb => {
            "An event log line has no DB row although the DB covers that moment"
        }
        FindingKind::NoLogCoverage => {
            "DB rows were written when no log file covers that time (not evidence of lost lines)"
        }
        FindingKind::CorrelationInversion => {
            "Correlated rows whose epoch, created_at and id orders disagree, classified"
        }
        FindingKind::ProcessOverlap => "Two instances of a single-instance bot were alive at once",
        FindingKind::ProcessGap => "No bot process was alive for a while (downtime)",
        FindingKind::UnattributedActivity => "DB rows that no known process can have written",
        FindingKind::DuplicateEvent => "The same event was written more than once",
        FindingKind::NoDbCoverage => {
            "Log event lines written when the DB has no rows (a stale snapshot, a database that was down)"
        }
        FindingKind::LogCopyGap => {
            "Two copies of one log stream disagree: records one holds are absent from the other"
        }
        FindingKind::LogLevelFiltered => {
            "DB rows whose log line the file's logging level keeps out (a setting, not a loss)"
        }
        FindingKind::ClockUnsettled => {
            "A log file's clock could not be settled: its lines and the rows it would cover are not judged"
        }
        FindingKind::ClockOffsetChange => {
            "A log file's clock offset changes inside it (DST or a host that moved)"
        }
    }
}

/// SARIF/GitHub level of a severity.
pub fn level(s: Severity) -> &'static str {
    match s {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The path a log file was read from (as the user gave it), by its reference name.
pub fn log_path(t: &Timeline, name: &str) -> String {
    t.sources
        .logs
        .iter()
        .find(|l| l.name == name)
        .map_or_else(|| name.to_string(), |l| l.path.clone())
}

/// Where a finding points: its log lines (path, line), or the events source for DB-only ones.
pub fn locations(t: &Timeline, f: &Finding) -> Vec<(String, u32)> {
    let mut out: Vec<(String, u32)> = f
        .log
        .iter()
        .chain(&f.logs)
        .map(|l| (log_path(t, &l.file), l.line.max(1)))
        .collect();
    if out.is_empty() {
        let events = t.sources.events.as_ref().map(|e| match e.kind.as_str() {
            "postgresql" => "monitoring.events".to_string(),
            _ => e.origin.clone(),
        });
        out.push((events.unwrap_or_else(|| "monitoring.events".into()), 1));
    }
    out
}
