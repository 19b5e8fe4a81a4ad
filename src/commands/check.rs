//! `audit check`: every check over a time range, for a CI job against a nightly snapshot —
//! a summary of what was read and applied, the findings, the baseline comparison, an exit
//! code (0 clean, 1 new findings at or above --fail-on, 2 error), and CI report formats.
//! `audit baseline write` runs the same and keeps what it found.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;

use super::Outcome;
use crate::checks::missing::Direction;
use crate::cli::{CheckArgs, WriteFormat};
use crate::config::Config;
use crate::engine::{self, Checked, Verdict, baseline};
use crate::error::AuditError;
use crate::report::{self, Accepted, Format, Report};
use crate::settings::{Accept, Settings};
use crate::timeline::View;

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
    if args.html.is_some() || !args.write.is_empty() {
        return Err(AuditError::usage(
            "--html and --write belong to audit check and audit report, not to audit baseline write",
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

/// Every file this run writes besides the terminal output: `--output` (in `--format`),
/// `--html`, each `--write FORMAT=FILE`. Checked before anything is read: a file named twice,
/// or a directory that does not exist, is an error now rather than after the run.
fn files_to_write(args: &CheckArgs) -> Result<Vec<(PathBuf, WriteFormat)>, AuditError> {
    let mut files: Vec<(PathBuf, WriteFormat)> = Vec::new();
    if let Some(p) = &args.output {
        files.push((p.clone(), WriteFormat::Findings(args.common.format)));
    }
    if let Some(p) = &args.html {
        files.push((p.clone(), WriteFormat::Html));
    }
    files.extend(args.write.iter().map(|w| (w.path.clone(), w.format)));
    let mut seen = BTreeSet::new();
    for (p, _) in &files {
        if !seen.insert(p) {
            return Err(AuditError::usage(format!(
                "{} is named by two outputs (--write, --output, --html): one file, one format",
                p.display()
            )));
        }
        if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            if !dir.is_dir() {
                return Err(AuditError::input(
                    p.display().to_string(),
                    "its directory does not exist",
                ));
            }
        }
    }
    Ok(files)
}

/// The event types of a finding's rows and lines, for rules narrowed by `event_type`.
struct EventTypes<'a> {
    by_id: HashMap<i64, &'a str>,
    by_line: HashMap<(&'a str, u32), &'a str>,
}

impl<'a> EventTypes<'a> {
    fn new(v: &'a View<'a>) -> EventTypes<'a> {
        let mut by_id = HashMap::new();
        let mut by_line = HashMap::new();
        for i in 0..v.len() {
            let Some(et) = v.s("event_type", i) else {
                continue;
            };
            if let Some(id) = v.event_id.get(i) {
                by_id.insert(id, et);
            }
            if let (Some(file), Some(line)) = (v.s("file", i), v.line.get(i)) {
                by_line.insert((file, line), et);
            }
        }
        EventTypes { by_id, by_line }
    }

    fn of(&self, f: &crate::checks::Finding) -> Vec<&'a str> {
        let ids = f.event_id.iter().chain(&f.event_ids);
        let lines = f.log.iter().chain(&f.logs);
        let mut out: Vec<&str> = ids
            .filter_map(|id| self.by_id.get(id).copied())
            .chain(lines.filter_map(|l| self.by_line.get(&(l.file.as_str(), l.line)).copied()))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

/// The findings `rules` accept (fingerprint → why; the first rule that matches names it), and
/// how many each rule accepted.
fn accept(rules: &[Accept], checked: &Checked) -> anyhow::Result<(Accepted, Vec<usize>)> {
    let mut accepted = Accepted::new();
    let mut counts = vec![0; rules.len()];
    if rules.is_empty() {
        return Ok((accepted, counts));
    }
    let v = View::new(&checked.prepared.timeline)?;
    let types = rules
        .iter()
        .any(|r| r.event_type.is_some())
        .then(|| EventTypes::new(&v));
    for f in &checked.findings {
        let ets = types.as_ref().map(|t| t.of(f)).unwrap_or_default();
        if let Some((i, r)) = rules.iter().enumerate().find(|(_, r)| r.matches(f, &ets)) {
            accepted.insert(f.fingerprint.clone(), r.why());
            counts[i] += 1;
        }
    }
    Ok((accepted, counts))
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
    // An expired rule fails the run before anything is read.
    let rules = crate::settings::accept_rules(config, chrono::Utc::now().date_naive())?;
    let files = files_to_write(args)?;
    let html = files.iter().any(|(_, f)| *f == WriteFormat::Html);
    let mut checked = engine::run(&settings.request(Direction::Both, html), None)?;
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
    let (accepted, rule_counts) = accept(&rules, &checked)?;
    // The verdict accepts what the baseline accepts and what a rule accepts; the baseline's
    // own comparison (SARIF's baselineState, the resolved list) stays as it is.
    let mut gate = comparison
        .as_ref()
        .map(|(_, c)| c.clone())
        .unwrap_or_default();
    gate.accepted.extend(accepted.keys().cloned());
    let findings = &checked.findings;
    let fail_on = settings.fail_on;
    let verdict = Verdict {
        fail_on,
        baseline: (comparison.is_some() || !accepted.is_empty()).then_some(&gate),
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
    for (r, n) in rules.iter().zip(&rule_counts) {
        let what = match n {
            0 => format!("accepts no {} finding", r.kind),
            n => format!("accepts {n} {} finding(s)", r.kind),
        };
        extra_table.push_str(&format!(
            "{}: {what} until {} — {}\n",
            r.name,
            r.until,
            r.reason.trim()
        ));
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
    let rules_json: Vec<serde_json::Value> = rules
        .iter()
        .zip(&rule_counts)
        .map(|(r, n)| {
            let accepted: Vec<&String> = findings
                .iter()
                .filter(|f| accepted.get(&f.fingerprint) == Some(&r.why()))
                .map(|f| &f.fingerprint)
                .collect();
            json!({
                "rule": r.index,
                "kind": r.kind.as_str(),
                "reason": r.reason.trim(),
                "until": r.until.to_string(),
                "event_type": r.event_type,
                "class": r.class,
                "time": r.time.map(|(a, b)| format!("{}-{}", a.format("%H:%M:%S"), b.format("%H:%M:%S"))),
                "accepted": n,
                "fingerprints": accepted,
            })
        })
        .collect();
    let json_extra = json!({
        "summary": report::summary::counts_json(findings),
        "baseline": baseline_json,
        "accept": rules_json,
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
        r.baseline = comparison.as_ref().map(|(_, c)| c);
        r.accepted = Some(&accepted);
        let mut text = report::render(r, format)?;
        if format == Format::Table {
            text.push_str(&tail);
        }
        Ok(text)
    };
    // Every file rendered first, then written together: all of them or none.
    let mut bytes: Vec<(PathBuf, Vec<u8>)> = Vec::with_capacity(files.len());
    let mut pages = Vec::new();
    for (path, what) in &files {
        match what {
            WriteFormat::Findings(f) => bytes.push((path.clone(), report_in(*f)?.into_bytes())),
            WriteFormat::Html => {
                let (page, stats) = report::html::page(&checked)?;
                bytes.push((path.clone(), page.into_bytes()));
                pages.push((path, stats));
            }
        }
    }
    crate::output::write_all(&bytes)?;
    drop(bytes);
    if !quiet {
        for (path, stats) in pages {
            writeln!(err, "{}", stats.describe(path))?;
        }
    }
    // `--output FILE` keeps its old meaning: the file in --format, the table on the terminal.
    let shown = match args.output {
        Some(_) => Format::Table,
        None => format,
    };
    out.write_all(report_in(shown)?.as_bytes())?;
    Ok(outcome)
}
