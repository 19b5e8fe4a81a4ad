//! Findings, for people (a list: severity, kind, time, evidence, then the explanation) and
//! for machines (the stable JSON contract of docs/findings.md).

use std::fmt::Write as _;

use serde_json::{Value, json};

use crate::checks::{Finding, FindingKind, Severity};
use crate::timeline::Timeline;

/// The evidence of a finding in one short line: db ids and file:line references.
pub fn evidence(f: &Finding) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut ids: Vec<i64> = f.event_id.into_iter().collect();
    ids.extend(&f.event_ids);
    match ids.len() {
        0 => {}
        1..=6 => parts.push(
            ids.iter()
                .map(|i| format!("db:{i}"))
                .collect::<Vec<_>>()
                .join(" "),
        ),
        n => parts.push(format!("db:{}..db:{} ({n} rows)", ids[0], ids[n - 1])),
    }
    for l in f.log.iter().chain(&f.logs) {
        parts.push(format!("{}:{}", l.file, l.line));
    }
    parts.join(" ")
}

/// The list view.
pub fn list(findings: &[Finding]) -> String {
    let mut s = String::new();
    if findings.is_empty() {
        s.push_str("no findings\n");
        return s;
    }
    for f in findings {
        let at = f.at_utc.get(11..23).unwrap_or(&f.at_utc);
        let class = f
            .class
            .as_ref()
            .map(|c| format!(" [{c}]"))
            .unwrap_or_default();
        let state = match f.baseline {
            Some("accepted") => " (accepted by baseline)",
            Some("new") => " (NEW)",
            _ => "",
        };
        let _ = writeln!(
            s,
            "{:<6} {}{} {} UTC  {}{state}",
            f.severity.as_str().to_uppercase(),
            f.kind,
            class,
            at,
            evidence(f)
        );
        let _ = writeln!(s, "       {}", f.explanation);
        if let Some(reasons) = f.details.get("reasons").and_then(Value::as_array) {
            for r in reasons.iter().skip(1).filter_map(Value::as_str) {
                let _ = writeln!(s, "       also: {r}");
            }
        }
    }
    s
}

/// Counts by kind and severity, one line.
pub fn counts(findings: &[Finding]) -> String {
    let mut parts = Vec::new();
    for k in FindingKind::ALL {
        let n = findings.iter().filter(|f| f.kind == k).count();
        if n > 0 {
            parts.push(format!("{n} {k}"));
        }
    }
    let by_sev: Vec<String> = [
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ]
    .iter()
    .map(|s| (s, findings.iter().filter(|f| f.severity == *s).count()))
    .filter(|(_, n)| *n > 0)
    .map(|(s, n)| format!("{n} {s}"))
    .collect();
    if parts.is_empty() {
        "0 findings".into()
    } else {
        format!(
            "{} findings: {} ({})",
            findings.len(),
            parts.join(", "),
            by_sev.join(", ")
        )
    }
}

/// The JSON document every check command prints: version, sources, clock, findings, plus
/// the command's own sections.
pub fn document(command: &str, t: &Timeline, findings: &[Finding], extra: Value) -> Value {
    let (sources, clock) = super::json::header(t);
    let mut doc = json!({
        "version": 1,
        "command": command,
        "sources": sources,
        "clock": clock,
        "findings": findings,
    });
    if let (Some(d), Value::Object(e)) = (doc.as_object_mut(), extra) {
        d.extend(e);
    }
    doc
}
