//! `audit completions SHELL` and `audit man`: generated from the clap definition itself
//! (clap_complete, clap_mangen), so they always name the flags this binary takes.

use std::io::Write;

use clap::CommandFactory;

use super::Outcome;
use crate::cli::Cli;

/// The completion script for `shell`, on `out`.
pub fn completions(shell: clap_complete::Shell, out: &mut dyn Write) -> anyhow::Result<Outcome> {
    // clap_complete panics when its writer fails; into memory first, so a closed pipe is an
    // ordinary write error (and exit 0) rather than a panic.
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "audit", &mut buf);
    out.write_all(&buf)?;
    Ok(Outcome::Clean)
}

/// The man page audit(1) in roff, on `out`: the description, the global options, the
/// commands, the examples and the exit codes (each command's flags are in its `--help`).
pub fn man(out: &mut dyn Write) -> anyhow::Result<Outcome> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut buf)?;
    let page = sections(&th_first(&String::from_utf8_lossy(&buf)));
    out.write_all(page.as_bytes())?;
    Ok(Outcome::Clean)
}

/// clap_mangen opens with the definition of the `Aq` string (an apostrophe on any troff), then
/// `.TH`. The title line comes first in a man page (`man`, `file` and `lexgrog` look for it
/// there); the definition only has to precede its first use, so it follows the title.
fn th_first(page: &str) -> String {
    let Some(at) = page.find("\n.TH ") else {
        return page.to_string();
    };
    let th_end = page[at + 1..]
        .find('\n')
        .map_or(page.len(), |e| at + 1 + e + 1);
    let mut out = String::with_capacity(page.len());
    out.push_str(&page[at + 1..th_end]);
    out.push_str(&page[..at + 1]);
    out.push_str(&page[th_end..]);
    out
}

/// What a man page has and clap_mangen leaves out or names otherwise: the examples of
/// `--help` (its `EXTRA` section) as `EXAMPLES`, in no-fill mode so their columns stay, and an
/// `EXIT STATUS` section.
fn sections(page: &str) -> String {
    const EXTRA: &str = ".SH EXTRA\nExamples:\n";
    const EXIT: &str = ".SH \"EXIT STATUS\"\n\
.TP\n0\nno finding at or above the threshold (\\-\\-fail\\-on) that a baseline or rule does not accept\n\
.TP\n1\nfindings at or above the threshold\n\
.TP\n2\nan error: bad input, an unreachable database, a wrong schema, an expired [[accept]] rule, a command line that does not parse\n\
.TP\n130\ninterrupted (Ctrl\\-C); half\\-written output files are removed\n";
    let mut out = page.to_string();
    if let Some(at) = out.find(EXTRA) {
        let body = at + EXTRA.len();
        let end = out[body..]
            .find("\n.SH ")
            .map_or(out.len(), |e| body + e + 1);
        let examples = format!(".SH EXAMPLES\n.nf\n{}.fi\n", &out[body..end]);
        out.replace_range(at..end, &examples);
    }
    let at = out.find(".SH VERSION").unwrap_or(out.len());
    out.insert_str(at, EXIT);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_title_line_moves_first_and_nothing_is_lost() {
        let page = ".ie \\n(.g .ds Aq \\(aq\n.el .ds Aq '\n.TH audit 1 \"x\"\n.SH NAME\n";
        let got = th_first(page);
        assert!(got.starts_with(".TH audit 1 \"x\"\n.ie "), "{got}");
        assert!(got.ends_with(".el .ds Aq '\n.SH NAME\n"), "{got}");
        assert_eq!(got.len(), page.len());
        assert_eq!(th_first(".TH a 1\n"), ".TH a 1\n");
    }

    #[test]
    fn examples_and_exit_status_sections() {
        let page = ".TH a 1\n.SH EXTRA\nExamples:\n  a b\n.SH VERSION\nv1\n";
        let got = sections(page);
        assert!(
            got.contains(".SH EXAMPLES\n.nf\n  a b\n.fi\n.SH \"EXIT STATUS\"\n"),
            "{got}"
        );
        assert!(
            got.ends_with(
                "interrupted (Ctrl\\-C); half\\-written output files are removed\n.SH VERSION\nv1\n"
            ),
            "{got}"
        );
    }
}
