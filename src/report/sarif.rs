//! SARIF 2.1.0: one result per finding, the stable fingerprint in `partialFingerprints`, log
//! evidence as physical locations (file:line), DB-only findings located at the events source.

use serde_json::{Value, json};

use super::machine::{describe, level, locations};
use crate::checks::{Finding, FindingKind};
use crate::timeline::Timeline;

pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// `baseline_state(f)`: `new` / `unchanged` when a baseline was given.
pub fn render(
    t: &Timeline,
    findings: &[Finding],
    baseline_state: &dyn Fn(&Finding) -> Option<&'static str>,
    resolved: usize,
) -> Value {
    let rules: Vec<Value> = FindingKind::ALL
        .iter()
        .map(|k| {
            json!({
                "id": k.as_str(),
                "name": k.as_str(),
                "shortDescription": { "text": describe(*k) },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|f| {
            let locs: Vec<Value> = locations(t, f)
                .into_iter()
                .map(|(uri, line)| {
                    json!({ "physicalLocation": { "artifactLocation": { "uri": uri }, "region": { "startLine": line } } })
                })
                .collect();
            let mut ids: Vec<i64> = f.event_id.into_iter().collect();
            ids.extend(&f.event_ids);
            let mut r = json!({
                "ruleId": f.kind.as_str(),
                "ruleIndex": FindingKind::ALL.iter().position(|k| *k == f.kind).unwrap_or(0),
                "level": level(f.severity),
                "message": { "text": f.explanation },
                "locations": locs,
                "partialFingerprints": { "auditFingerprint/v1": f.fingerprint },
                "properties": {
                    "severity": f.severity.as_str(),
                    "at_utc": f.at_utc,
                    "event_ids": ids,
                    "class": f.class,
                },
            });
            if let (Some(state), Some(obj)) = (baseline_state(f), r.as_object_mut()) {
                obj.insert("baselineState".into(), json!(state));
            }
            r
        })
        .collect();
    json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "audit",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
            "properties": { "resolved_since_baseline": resolved },
        }],
    })
}

/// Marks the results of findings accepted by an `[[accept]]` rule as suppressed (SARIF
/// §3.35, an `external` suppression with the rule as its justification), so code scanning
/// shows them as dismissed rather than open.
pub fn suppress(doc: &mut Value, accepted: &super::Accepted) {
    if accepted.is_empty() {
        return;
    }
    let Some(results) = doc["runs"][0]["results"].as_array_mut() else {
        return;
    };
    for r in results {
        let fp = r["partialFingerprints"]["auditFingerprint/v1"]
            .as_str()
            .unwrap_or_default();
        if let Some(why) = accepted.get(fp) {
            r["suppressions"] = json!([{ "kind": "external", "justification": why }]);
        }
    }
}
