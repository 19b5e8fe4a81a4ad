//! `audit lifetimes`: every process's life, and what is wrong with them together.

use std::io::Write;

use comfy_table::{Table, presets};

use super::{Outcome, finish, one_check};
use crate::checks::Check;
use crate::checks::lifetimes::Process;
use crate::checks::missing::Direction;
use crate::cli::LifetimesArgs;
use crate::config::Config;
use crate::engine::Verdict;
use crate::report::Report;

pub fn run(
    args: &LifetimesArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let o = &args.common;
    let (s, checked) = one_check(
        o,
        config,
        Check::Lifetimes,
        Direction::Both,
        false,
        quiet,
        err,
    )?;
    let verdict = Verdict {
        fail_on: s.fail_on,
        baseline: None,
    };
    let mut r = Report::of("lifetimes", &checked, verdict);
    r.table = table(&checked.processes);
    r.json = serde_json::json!({ "processes": checked.processes }).into();
    finish(r, o.format, out)
}

fn table(procs: &[Process]) -> String {
    let mut t = Table::new();
    t.load_preset(presets::UTF8_FULL_CONDENSED);
    t.set_header(vec![
        "process (log file)",
        "PID",
        "first record (UTC)",
        "last record (UTC)",
        "ended by",
        "lock trouble",
        "DB rows meanwhile",
    ]);
    for p in procs {
        t.add_row(vec![
            p.files.join(" + "),
            p.pid.map(|x| x.to_string()).unwrap_or_default(),
            p.start_utc
                .replace('T', " ")
                .trim_end_matches('Z')
                .to_string(),
            p.end_utc
                .replace('T', " ")
                .trim_end_matches('Z')
                .to_string(),
            match (&p.ended_by, &p.ended_at) {
                (Some(b), Some(a)) => format!("{b} (line {})", a.line),
                _ => "— (no shutdown line)".into(),
            },
            p.lock_trouble
                .iter()
                .map(|l| format!("line {}", l.line))
                .collect::<Vec<_>>()
                .join(", "),
            p.db_rows.to_string(),
        ]);
    }
    format!("{t}\n\n")
}
