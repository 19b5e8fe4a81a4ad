//! JUnit XML: one testsuite, one testcase per check; a testcase fails when it has findings at
//! or above the threshold that the baseline does not accept, and lists them.

use std::fmt::Write as _;

use super::machine::{CHECKS, check_of};
use crate::checks::{Finding, Severity};

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&apos;"),
            // XML 1.0 forbids most control characters even escaped.
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => o.push('\u{FFFD}'),
            c => o.push(c),
        }
    }
    o
}

/// `failing(f)`: does this finding fail the job (new and at or above the threshold)?
pub fn render(findings: &[Finding], failing: &dyn Fn(&Finding) -> bool, elapsed_s: f64) -> String {
    let failures = CHECKS
        .iter()
        .filter(|c| {
            findings
                .iter()
                .any(|f| check_of(f.kind) == **c && failing(f))
        })
        .count();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"audit\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{elapsed_s:.3}\">",
        CHECKS.len()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"audit\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{elapsed_s:.3}\">",
        CHECKS.len()
    );
    for check in CHECKS {
        let mine: Vec<&Finding> = findings
            .iter()
            .filter(|f| check_of(f.kind) == check)
            .collect();
        let bad: Vec<&&Finding> = mine.iter().filter(|f| failing(f)).collect();
        let _ = writeln!(
            s,
            "    <testcase classname=\"audit\" name=\"{check}\" time=\"0\">"
        );
        if !bad.is_empty() {
            let worst = bad
                .iter()
                .map(|f| f.severity)
                .max()
                .unwrap_or(Severity::Info);
            let _ = writeln!(
                s,
                "      <failure message=\"{} finding(s), worst {worst}\" type=\"{}\">",
                bad.len(),
                esc(bad[0].kind.as_str())
            );
            for f in &bad {
                let _ = writeln!(s, "{}", esc(&line(f)));
            }
            s.push_str("      </failure>\n");
        }
        let rest: Vec<&&Finding> = mine.iter().filter(|f| !failing(f)).collect();
        if !rest.is_empty() {
            s.push_str("      <system-out>");
            for f in rest {
                let _ = writeln!(s, "{}", esc(&line(f)));
            }
            s.push_str("</system-out>\n");
        }
        s.push_str("    </testcase>\n");
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}

fn line(f: &Finding) -> String {
    format!(
        "[{}] {} {} {} ({}): {}",
        f.severity,
        f.kind,
        f.at_utc,
        super::findings::evidence(f),
        f.fingerprint,
        f.explanation
    )
}
