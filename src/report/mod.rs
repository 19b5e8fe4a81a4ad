//! Renderers. Each format is one file; every findings format reads one [`Report`] (the
//! engine's answer, its verdict, and what the command adds), so no renderer computes a finding
//! or decides a pass. The timeline has its own (table, JSON, CSV) over the frame.

pub mod banner;
pub mod csv;
pub mod findings;
pub mod github;
pub mod html;
pub mod json;
pub mod junit;
pub mod machine;
pub mod markdown;
pub mod sarif;
pub mod story;
pub mod summary;
pub mod table;

pub use crate::timeline::View;

use std::collections::BTreeMap;

use crate::checks::Finding;
use crate::engine::baseline::Comparison;
use crate::engine::{Checked, Verdict};
use crate::timeline::Timeline;

/// Findings accepted by an `[[accept]]` rule of audit.toml: fingerprint → why (the rule,
/// its reason, its expiry), as every format says it.
pub type Accepted = BTreeMap<String, String>;

/// How findings are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    /// JUnit XML: one testcase per check
    Junit,
    /// SARIF 2.1.0: one result per finding
    Sarif,
    /// GitHub Actions workflow annotations
    Github,
    /// A GitHub job summary (>> $GITHUB_STEP_SUMMARY): verdict, clocks, findings with evidence
    Markdown,
}

/// One answer to render: a command's findings over its timeline, the verdict on them, and
/// what the command adds (tables above the findings, fields of the JSON document).
pub struct Report<'a> {
    pub command: &'a str,
    pub timeline: &'a Timeline,
    pub findings: &'a [Finding],
    pub verdict: Verdict<'a>,
    /// Printed above the findings list in the table format.
    pub table: String,
    /// Added to the JSON document.
    pub json: findings::Extra<'a>,
    /// The baseline it was compared with (SARIF's `baselineState`), apart from the verdict,
    /// which may also accept findings by rule.
    pub baseline: Option<&'a Comparison>,
    /// Findings accepted by `[[accept]]` rules (they fail nothing; every format says so).
    pub accepted: Option<&'a Accepted>,
}

impl<'a> Report<'a> {
    /// The report of an engine run, with nothing added yet.
    pub fn of(command: &'a str, checked: &'a Checked, verdict: Verdict<'a>) -> Report<'a> {
        Report {
            command,
            timeline: &checked.prepared.timeline,
            findings: &checked.findings,
            verdict,
            table: String::new(),
            json: serde_json::json!({}).into(),
            baseline: verdict.baseline,
            accepted: None,
        }
    }
}

/// Renders a report in a format.
pub fn render(r: Report<'_>, format: Format) -> anyhow::Result<String> {
    let Report {
        command,
        timeline: t,
        findings,
        verdict,
        table,
        json,
        baseline,
        accepted,
    } = r;
    let empty = Accepted::new();
    let accepted = accepted.unwrap_or(&empty);
    Ok(match format {
        Format::Table => {
            let mut s = table::header(t);
            s.push('\n');
            s.push_str(&table);
            s.push_str(&findings::list(findings, accepted));
            s.push_str(&findings::counts(findings));
            s.push('\n');
            s
        }
        Format::Json => {
            let mut s =
                serde_json::to_string_pretty(&findings::document(command, t, findings, json))?;
            s.push('\n');
            s
        }
        Format::Junit => junit::render(findings, &|f| verdict.fails(f), 0.0),
        Format::Sarif => {
            let state = |f: &Finding| -> Option<&'static str> {
                baseline.map(|b| if b.is_new(f) { "new" } else { "unchanged" })
            };
            let resolved = baseline.map_or(0, |b| b.resolved.len());
            let mut doc = sarif::render(t, findings, &state, resolved);
            sarif::suppress(&mut doc, accepted);
            let mut s = serde_json::to_string_pretty(&doc)?;
            s.push('\n');
            s
        }
        Format::Github => github::render(t, findings),
        Format::Markdown => markdown::render(command, t, findings, &verdict, accepted),
    })
}
