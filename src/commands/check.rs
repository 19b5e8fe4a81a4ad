//! `audit check`: every check over a time range, for a CI job against a nightly snapshot —
//! a summary of what was read and applied, the findings, the baseline comparison, an exit
//! code (0 clean, 1 new findings at or above --fail-on, 2 error), and CI report formats.
//! `audit baseline write` runs the same and keeps what it found.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use super::Outcome;
use crate::checks::missing::Direction;
use crate::cli::CheckArgs;
use crate::config::Config;
use crate::engine::{self, Checked, Verdict, baseline};
use crate::error::AuditError;
use crate::report::{self, Format, Report};
use crate::settings::Settings;

/// `--baseline`, else `[check] baseline`.
fn baseline_path(args: &CheckArgs, settings: &Settings) -> Option<PathBuf> {
    args.baseline.clone().or_else(|| settings.baseline.clone())
}

/// `audit baseline write`: the current findings become the accepted set.
pub fn write_baseline(
    args: &CheckArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    if args.html.is_some() {
        return Err(AuditError::usage(
            "--html belongs to audit check and audit report, not to audit baseline write",
        )
        .into());
    }
    let settings = Settings::of_check(&args.common, config)?;
    let Some(path) = baseline_path(args, &settings) else {
        return Err(AuditError::usage(
            "audit baseline write needs --baseline FILE (or [check] baseline in audit.toml)",
        )
        .into());
    };
    let Checked {
        findings, prepared, ..
    } = engine::run(&settings.request(Direction::Both, false), None)?;
    report::banner::print_banner(
        &prepared.timeline,
        &prepared.loaded_meta.decisions,
        quiet,
        err,
    )?;
    let previous = baseline::load(&path).ok();
    let b = baseline::from_findings(&findings);
    baseline::write(&path, &b)?;
    let (added, removed) = match &previous {
        Some(p) => {
            let c = baseline::compare(p, &findings);
            (findings.len() - c.accepted.len(), c.resolved.len())
        }
        None => (findings.len(), 0),
    };
    writeln!(
        out,
        "wrote {} accepted finding(s) to {} ({added} new, {removed} dropped since the previous baseline)",
        b.findings.len(),
        path.display()
    )?;
    Ok(Outcome::Clean)
}

pub fn run(
    args: &CheckArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let started = Instant::now();
    let settings = Settings::of_check(&args.common, config)?;
    let mut checked = engine::run(
        &settings.request(Direction::Both, args.html.is_some()),
        None,
    )?;
    report::banner::print_banner(
        &checked.prepared.timeline,
        &checked.prepared.loaded_meta.decisions,
        quiet,
        err,
    )?;
    let comparison = match baseline_path(args, &settings) {
        Some(p) => Some((
            p.clone(),
            baseline::compare(&baseline::load(&p)?, &checked.findings),
        )),
        None => None,
    };
    if let Some((_, c)) = &comparison {
        for f in &mut checked.findings {
            f.baseline = Some(if c.is_new(f) { "new" } else { "accepted" });
        }
    }
    let findings = &checked.findings;
    let fail_on = settings.fail_on;
    let verdict = Verdict {
        fail_on,
        baseline: comparison.as_ref().map(|(_, c)| c),
    };
    let failing = verdict.failing(findings).len();
    let outcome = Outcome::of(&verdict, findings);
    let exit_code = i32::from(outcome == Outcome::Findings);

    let mut extra_table = format!("{}\n", report::summary::table(findings, &verdict));
    if let Some((p, c)) = &comparison {
        extra_table.push_str(&format!(
            "baseline {}: {} accepted, {} new, {} resolved\n",
            p.display(),
            c.accepted.len(),
            findings.iter().filter(|f| c.is_new(f)).count(),
            c.resolved.len()
        ));
        for r in &c.resolved {
            extra_table.push_str(&format!(
                "  resolved: {} {} {} ({})\n",
                r.kind, r.at_utc, r.explanation, r.fingerprint
            ));
        }
    }
    extra_table.push('\n');
    let baseline_json = comparison.as_ref().map(|(p, c)| {
        json!({
            "path": p.display().to_string(),
            "accepted": c.accepted,
            "new": findings.iter().filter(|f| c.is_new(f)).map(|f| &f.fingerprint).collect::<Vec<_>>(),
            "resolved": c.resolved,
        })
    });
    let json_extra = json!({
        "summary": report::summary::counts_json(findings),
        "baseline": baseline_json,
        "fail_on": fail_on,
        "exit_code": exit_code,
        "elapsed_s": started.elapsed().as_secs_f64(),
    });
    let format = args.common.format;
    let tail = match failing {
        0 => format!("exit 0: no new finding at or above {fail_on}\n"),
        n => format!("exit 1: {n} new finding(s) at or above {fail_on}\n"),
    };
    let report_in = |format: Format| -> anyhow::Result<String> {
        let mut r = Report::of("check", &checked, verdict);
        r.table = extra_table.clone();
        r.json = json_extra.clone().into();
        let mut text = report::render(r, format)?;
        if format == Format::Table {
            text.push_str(&tail);
        }
        Ok(text)
    };
    match &args.output {
        Some(path) => {
            crate::output::write(path, report_in(format)?.as_bytes())?;
            out.write_all(report_in(Format::Table)?.as_bytes())?;
        }
        None => out.write_all(report_in(format)?.as_bytes())?,
    }
    if let Some(path) = &args.html {
        let stats = report::html::write(&checked, path)?;
        if !quiet {
            writeln!(err, "{}", stats.describe(path))?;
        }
    }
    Ok(outcome)
}
