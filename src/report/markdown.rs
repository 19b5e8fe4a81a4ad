//! `--format markdown`: a GitHub job summary (`>> $GITHUB_STEP_SUMMARY`) — the verdict first,
//! then the sources, the clocks applied and why, and the findings with their evidence. Every
//! cell is escaped (a log message may hold `|`, `<` or a newline) and the findings table stops
//! at [`MAX_ROWS`]: GitHub refuses a step summary over 1 MiB.

use std::fmt::Write as _;

use super::Accepted;
use super::findings::{counts, evidence};
use crate::checks::Finding;
use crate::engine::Verdict;
use crate::timeline::Timeline;

/// Findings listed in the table; the rest are counted below it.
pub const MAX_ROWS: usize = 500;

/// Text safe in a Markdown table cell: no column break, no line break, no HTML.
pub fn cell(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '|' => o.push_str("\\|"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '&' => o.push_str("&amp;"),
            '\n' => o.push_str("<br>"),
            '\r' => {}
            c if c.is_control() => o.push(' '),
            c => o.push(c),
        }
    }
    o
}

/// Text in a code span of a table cell (backticks cannot be escaped inside one).
fn code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'").replace('|', "\\|"))
}

pub fn render(
    command: &str,
    t: &Timeline,
    findings: &[Finding],
    verdict: &Verdict<'_>,
    accepted: &Accepted,
) -> String {
    let mut s = String::new();
    let failing = verdict.failing(findings).len();
    let fail_on = verdict.fail_on;
    let _ = match failing {
        0 => writeln!(
            s,
            "## audit {command}: ✅ no new finding at or above {fail_on}"
        ),
        n => writeln!(
            s,
            "## audit {command}: ❌ {n} new finding(s) at or above {fail_on}"
        ),
    };
    let _ = writeln!(s);
    let mut line = cell(&counts(findings));
    let by_rule = findings
        .iter()
        .filter(|f| accepted.contains_key(&f.fingerprint))
        .count();
    if by_rule > 0 {
        let _ = write!(line, "; {by_rule} accepted by `[[accept]]` rules");
    }
    let _ = writeln!(s, "{line}\n");

    let _ = writeln!(s, "### Sources\n");
    if let Some(e) = &t.sources.events {
        let _ = writeln!(
            s,
            "- events: {} ({}, {} rows read)",
            code(&e.origin),
            cell(&e.kind),
            e.rows
        );
    }
    for l in &t.sources.logs {
        let _ = writeln!(
            s,
            "- log: {} ({} records, {} lines)",
            code(&l.name),
            l.stats.records,
            l.stats.lines
        );
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "### Clocks\n");
    let _ = writeln!(s, "| source | offset | zone | how it was decided |");
    let _ = writeln!(s, "|---|---|---|---|");
    for c in &t.clocks {
        let what = match c.role.as_str() {
            "display" => "db (shown in)".to_string(),
            "storage" => "db created_at (naive, written in)".to_string(),
            _ => c.source.clone(),
        };
        let offsets = if c.offsets.is_empty() {
            c.zone.clone()
        } else {
            c.offsets.join(", ")
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} |",
            cell(&what),
            cell(&offsets),
            cell(&c.zone),
            cell(&c.provenance.to_string())
        );
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "### Findings\n");
    if findings.is_empty() {
        let _ = writeln!(s, "No findings.");
        return s;
    }
    let _ = writeln!(
        s,
        "| verdict | severity | kind | at (UTC) | evidence | explanation |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for f in findings.iter().take(MAX_ROWS) {
        let state = if let Some(why) = accepted.get(&f.fingerprint) {
            format!("accepted: {}", cell(why))
        } else if verdict.fails(f) {
            "❌ fails".to_string()
        } else if !verdict.is_new(f) {
            "accepted by baseline".to_string()
        } else {
            format!("below {fail_on}")
        };
        let kind = match &f.class {
            Some(c) => format!("{} [{}]", f.kind, c),
            None => f.kind.to_string(),
        };
        let at = f.at_utc.replace('T', " ");
        let _ = writeln!(
            s,
            "| {state} | {} | {} | {} | {} | {} |",
            f.severity,
            cell(&kind),
            cell(at.trim_end_matches('Z')),
            code(&evidence(f)),
            cell(&f.explanation)
        );
    }
    if findings.len() > MAX_ROWS {
        let _ = writeln!(
            s,
            "\n{} more finding(s) not listed here: see the JSON or SARIF report.",
            findings.len() - MAX_ROWS
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table_or_inject_html() {
        assert_eq!(cell("a|b\nc<d>&"), "a\\|b<br>c&lt;d&gt;&amp;");
        assert_eq!(code("x`y|z"), "`x'y\\|z`");
    }
}
