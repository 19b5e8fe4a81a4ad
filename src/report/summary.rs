//! `audit check`'s summary: findings counted per check and kind, by severity, with how many
//! fail the run.

use comfy_table::{Table, presets};
use serde_json::json;

use crate::checks::{Check, Finding, FindingKind, Severity};
use crate::engine::Verdict;

pub fn counts_json(findings: &[Finding]) -> serde_json::Value {
    let mut by_kind = serde_json::Map::new();
    for k in FindingKind::ALL {
        let mut sev = serde_json::Map::new();
        for s in [
            Severity::High,
            Severity::Medium,
            Severity::Low,
            Severity::Info,
        ] {
            let n = findings
                .iter()
                .filter(|f| f.kind == k && f.severity == s)
                .count();
            if n > 0 {
                sev.insert(s.as_str().into(), json!(n));
            }
        }
        if !sev.is_empty() {
            by_kind.insert(k.as_str().into(), serde_json::Value::Object(sev));
        }
    }
    json!({ "total": findings.len(), "by_kind": by_kind })
}

pub fn table(findings: &[Finding], verdict: &Verdict<'_>) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "check",
        "finding kind",
        "high",
        "medium",
        "low",
        "info",
        "fails the job",
    ]);
    for check in Check::ALL {
        for k in FindingKind::ALL.iter().filter(|k| k.check() == check) {
            let n = |s: Severity| {
                findings
                    .iter()
                    .filter(|f| f.kind == *k && f.severity == s)
                    .count()
                    .to_string()
            };
            let failing = findings
                .iter()
                .filter(|f| f.kind == *k && verdict.fails(f))
                .count();
            t.add_row(vec![
                check.name().to_string(),
                k.as_str().to_string(),
                n(Severity::High),
                n(Severity::Medium),
                n(Severity::Low),
                n(Severity::Info),
                failing.to_string(),
            ]);
        }
    }
    t.to_string()
}
