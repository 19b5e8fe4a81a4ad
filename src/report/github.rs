//! GitHub Actions workflow commands: one `::error`/`::warning`/`::notice` annotation per
//! finding, on its log line when it has one.

use std::fmt::Write as _;

use super::machine::locations;
use crate::checks::{Finding, Severity};
use crate::timeline::Timeline;

/// Data escaping of workflow commands.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Property escaping (also `:` and `,`).
fn prop(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(t: &Timeline, findings: &[Finding]) -> String {
    let mut s = String::new();
    for f in findings {
        let cmd = match f.severity {
            Severity::High => "error",
            Severity::Medium => "warning",
            Severity::Low | Severity::Info => "notice",
        };
        let (file, line) = locations(t, f).into_iter().next().unwrap_or_default();
        let _ = writeln!(
            s,
            "::{cmd} file={},line={},title={}::{}",
            prop(&file),
            line,
            prop(&format!("audit {} ({})", f.kind, f.severity)),
            data(&format!("{} [{}]", f.explanation, f.fingerprint))
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workflow_command_escaping() {
        assert_eq!(data("50% done\nnext"), "50%25 done%0Anext");
        assert_eq!(prop("a:b,c"), "a%3Ab%2Cc");
    }
}
