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

/// The list view; a finding an `[[accept]]` rule accepts says which and why.
pub fn list(findings: &[Finding], accepted: &super::Accepted) -> String {
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
        let state = match (accepted.get(&f.fingerprint), f.baseline) {
            (Some(why), _) => format!(" (accepted by {why})"),
            (None, Some("accepted")) => " (accepted by baseline)".to_string(),
            (None, Some("new")) => " (NEW)".to_string(),
            _ => String::new(),
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
pub fn document<'a>(
    command: &str,
    t: &Timeline,
    findings: &'a [Finding],
    extra: Extra<'a>,
) -> Document<'a> {
    let (sources, clock) = super::json::header(t);
    let mut head = serde_json::Map::new();
    head.insert("version".into(), json!(1));
    head.insert("command".into(), json!(command));
    head.insert("sources".into(), sources);
    head.insert("clock".into(), clock);
    if let Value::Object(e) = extra.fields {
        head.extend(e);
    }
    Document {
        head,
        findings,
        more: extra.arrays,
    }
}

/// What a command adds to its JSON document: fields, and big arrays made while written.
pub struct Extra<'a> {
    pub fields: Value,
    pub arrays: Vec<(&'a str, LazyArray<'a>)>,
}

impl From<Value> for Extra<'_> {
    fn from(fields: Value) -> Self {
        Extra {
            fields,
            arrays: Vec::new(),
        }
    }
}

/// A findings document, serialized as it is written: the same JSON a `serde_json::Value` of it
/// gives (keys in order at every level), but the findings and the big arrays (`more`) become
/// values one element at a time. A whole day's `missing-logs --format json` built ~0.2 GB of
/// `Value` trees for its 200 000 twins before.
pub struct Document<'a> {
    head: serde_json::Map<String, Value>,
    findings: &'a [Finding],
    more: Vec<(&'a str, LazyArray<'a>)>,
}

impl serde::Serialize for Document<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut keys: Vec<&str> = self.head.keys().map(String::as_str).collect();
        keys.push("findings");
        keys.extend(self.more.iter().map(|(k, _)| *k));
        keys.sort_unstable();
        keys.dedup();
        let mut m = s.serialize_map(Some(keys.len()))?;
        for k in keys {
            if k == "findings" {
                m.serialize_entry(k, &EachAsValue(self.findings))?;
            } else if let Some((_, a)) = self.more.iter().find(|(n, _)| *n == k) {
                m.serialize_entry(k, a)?;
            } else if let Some(v) = self.head.get(k) {
                m.serialize_entry(k, v)?;
            }
        }
        m.end()
    }
}

/// A JSON array whose elements are made when written (`at(i)` for `i` in `0..len`).
pub struct LazyArray<'a> {
    pub len: usize,
    pub at: Box<dyn Fn(usize) -> Value + 'a>,
}

impl serde::Serialize for LazyArray<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.len))?;
        for i in 0..self.len {
            seq.serialize_element(&(self.at)(i))?;
        }
        seq.end()
    }
}

/// Each element through its own `serde_json::Value` (keys sorted, as a `Value` of the whole
/// list had them), one at a time.
struct EachAsValue<'a, T>(&'a [T]);

impl<T: serde::Serialize> serde::Serialize for EachAsValue<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{Error, SerializeSeq};
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for x in self.0 {
            let v = serde_json::to_value(x).map_err(S::Error::custom)?;
            seq.serialize_element(&v)?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::LogRef;

    /// The streamed document is byte for byte the `serde_json::Value` of the same content.
    #[test]
    fn a_streamed_document_is_the_value_document() {
        let t =
            Timeline::build(None, Vec::new(), &[], &crate::timeline::Filter::default()).unwrap();
        let mut f = Finding::new(
            FindingKind::MissingInDb,
            Severity::Medium,
            1_000_000,
            "a.log:7 logged x".into(),
        );
        f.log = Some(LogRef {
            file: "a.log".into(),
            line: 7,
            copy: false,
        });
        f.details = json!({ "zeta": 1, "alpha": [1, 2] });
        let findings = vec![
            f.sealed(),
            Finding::new(FindingKind::ProcessGap, Severity::Low, 5, "gap".into()).sealed(),
        ];
        let rows: Vec<(i64, f64)> = vec![(3, 0.5), (1, -1.25)];
        let lazy = LazyArray {
            len: rows.len(),
            at: Box::new(|i| json!({ "event_id": rows[i].0, "delta_ms": rows[i].1 })),
        };
        let extra = json!({ "summary": { "b": 2, "a": 1 }, "exit_code": 1 });
        let streamed = serde_json::to_string_pretty(&document(
            "missing-logs",
            &t,
            &findings,
            Extra {
                fields: extra.clone(),
                arrays: vec![("twins", lazy)],
            },
        ))
        .unwrap();
        let (sources, clock) = super::super::json::header(&t);
        let mut whole = json!({
            "version": 1,
            "command": "missing-logs",
            "sources": sources,
            "clock": clock,
            "findings": findings,
            "twins": rows.iter().map(|r| json!({ "event_id": r.0, "delta_ms": r.1 })).collect::<Vec<_>>(),
        });
        whole
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        assert_eq!(streamed, serde_json::to_string_pretty(&whole).unwrap());
        assert!(streamed.contains("\"twins\""));
    }
}
