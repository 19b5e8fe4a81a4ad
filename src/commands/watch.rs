//! `audit watch`: live reconciliation. Every `--poll` it runs every check over the stretch
//! still open (from what it last settled, less the checks' 10-minute margin, to now), and
//! reports each finding once, as soon as both sources have moved past it by the settle time:
//! the DB's newest row and the logs' newest record are both later than the finding plus
//! EventLogger's flush interval, the grace and the twin tolerance. The findings are `check`'s
//! own (the same engine, contract and fingerprints). Memory follows the stretch, not how long
//! it runs. A source that fails (a database down, a session killed) is one warning, and the
//! next pass reconnects, with a backoff; nothing is settled meanwhile, so nothing is lost.

use std::collections::HashMap;
use std::io::Write;
use std::time::{Duration, Instant};

use super::Outcome;
use crate::checks::Finding;
use crate::checks::missing::Direction;
use crate::cli::WatchArgs;
use crate::config::Config;
use crate::error::AuditError;
use crate::report::Format;
use crate::settings::Settings;
use crate::time::UtcRange;

/// EventLogger flushes every 5 s; a batch can be a second late.
const FLUSH_US: i64 = 6_000_000;
/// Each pass reads back this far before what it last settled: inversions compare rows up to
/// 10 minutes apart, and a twin across the edge must be seen.
const BACK_US: i64 = 10 * 60 * 1_000_000;

fn at(us: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// How far behind both sources' newest data a finding must be to be final.
fn settle_us(args: &WatchArgs, s: &Settings) -> i64 {
    match args.settle {
        Some(secs) => (secs * 1e6) as i64,
        None => {
            FLUSH_US
                + s.params.grace_ms as i64 * 1000
                + s.params.tolerance_ms.unwrap_or(100) as i64 * 1000
                + 1_000_000
        }
    }
}

/// A pass is run at least this often even when no log file changed (rows the database gained
/// alone can settle too: a stopped process's tail, another writer's rows).
const IDLE_PASS: Duration = Duration::from_secs(30);

/// What the log files look like now: each one's path, size and modification time. An
/// unchanged picture means no log line was written since the last pass.
fn logs_picture(
    paths: &[std::path::PathBuf],
) -> Vec<(std::path::PathBuf, u64, Option<std::time::SystemTime>)> {
    crate::source::logs::discover(paths)
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            let m = std::fs::metadata(&p).ok();
            let len = m.as_ref().map_or(0, |m| m.len());
            let mtime = m.and_then(|m| m.modified().ok());
            (p, len, mtime)
        })
        .collect()
}

/// Sleeps `d`, waking early for a stop request.
fn nap(d: Duration) {
    let until = Instant::now() + d;
    while Instant::now() < until && !crate::output::stop_requested() {
        std::thread::sleep(Duration::from_millis(50).min(until - Instant::now()));
    }
}

pub fn run(
    args: &WatchArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let o = &args.common;
    let settings = Settings::of_check(o, config)?;
    if settings.filter.window.is_some() || o.range.until.is_some() {
        return Err(AuditError::usage(
            "audit watch follows what is written from --since (or now) on: --window and --until do not apply",
        )
        .into());
    }
    let format = match o.format {
        Format::Json => Format::Json,
        Format::Table => {
            use std::io::IsTerminal;
            if std::io::stdout().is_terminal() {
                Format::Table
            } else {
                Format::Json
            }
        }
        other => {
            return Err(AuditError::usage(format!(
                "audit watch writes jsonl (--format json) or table lines, not {other:?}"
            ))
            .into());
        }
    };
    let settle = settle_us(args, &settings);
    let poll = Duration::from_secs_f64(args.poll.max(0.05));
    let start = settings.range.map_or_else(
        || chrono::Utc::now().timestamp_micros(),
        |r| r.start.timestamp_micros(),
    );
    crate::output::stop_on_interrupt();

    let mut settled_until = start;
    let mut seen: HashMap<String, i64> = HashMap::new();
    let mut reported: Vec<Finding> = Vec::new();
    let mut backoff = Duration::from_secs(1);
    let mut failing = false;
    let mut bannered = false;
    let mut last_picture = None;
    let mut last_pass = Instant::now();
    loop {
        let stopping = crate::output::stop_requested();
        // Idle: no log line written since the last pass, and not yet time for the periodic one.
        let picture = logs_picture(&settings.sources.logs);
        if !stopping
            && !failing
            && last_picture.as_ref() == Some(&picture)
            && last_pass.elapsed() < IDLE_PASS
        {
            nap(poll);
            continue;
        }
        last_picture = Some(picture);
        last_pass = Instant::now();
        let now = chrono::Utc::now().timestamp_micros();
        let mut req = settings.request(Direction::Both, false);
        req.range = Some(UtcRange {
            start: at(settled_until - BACK_US),
            end: at(now + 60_000_000),
        });
        match crate::engine::run(&req, None) {
            Err(e) => {
                if !quiet && !failing {
                    writeln!(
                        err,
                        "warning: watch: {}; retrying every {} s until it answers",
                        format!("{e:#}")
                            .split_whitespace()
                            .collect::<Vec<_>>()
                            .join(" "),
                        backoff.as_secs()
                    )?;
                }
                failing = true;
                if stopping {
                    break;
                }
                nap(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(30));
                continue;
            }
            Ok(checked) => {
                if failing && !quiet {
                    writeln!(err, "watch: the sources answer again; resuming")?;
                }
                failing = false;
                backoff = Duration::from_secs(1);
                let meta = &checked.prepared.loaded_meta;
                if !bannered {
                    crate::report::banner::print_banner(
                        &checked.prepared.timeline,
                        &meta.decisions,
                        quiet,
                        err,
                    )?;
                    bannered = true;
                }
                // Final where both sources have moved past it; everything, when stopping.
                let db_end = meta.db_span.map(|s| s.1);
                let log_end = meta.coverage.iter().map(|c| c.end).max();
                let upto = if stopping {
                    i64::MAX
                } else {
                    match (db_end, log_end) {
                        (Some(d), Some(l)) => d.min(l) - settle,
                        (Some(d), None) => d - settle,
                        (None, Some(l)) => l - settle,
                        (None, None) => settled_until,
                    }
                };
                let mut fresh: Vec<&Finding> = checked
                    .findings
                    .iter()
                    .filter(|f| f.at_us >= settled_until - BACK_US && f.at_us < upto)
                    .filter(|f| !seen.contains_key(&f.fingerprint))
                    .collect();
                fresh.sort_by_key(|f| f.at_us);
                for f in fresh {
                    seen.insert(f.fingerprint.clone(), f.at_us);
                    emit(f, format, out)?;
                    if let Some(cmd) = &args.exec {
                        exec(cmd, f, err)?;
                    }
                    reported.push(f.clone());
                }
                if upto != i64::MAX {
                    settled_until = settled_until.max(upto);
                }
                // What can no longer come back: older than every pass will read.
                seen.retain(|_, t| *t >= settled_until - 2 * BACK_US);
                reported.retain(|f| {
                    f.at_us >= settled_until - 2 * BACK_US || f.severity >= settings.fail_on
                });
            }
        }
        if stopping {
            break;
        }
        nap(poll);
    }
    let verdict = crate::engine::Verdict {
        fail_on: settings.fail_on,
        baseline: None,
    };
    Ok(Outcome::of(&verdict, &reported))
}

fn emit(f: &Finding, format: Format, out: &mut dyn Write) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer(&mut *out, f)?;
            out.write_all(b"\n")?;
        }
        _ => {
            writeln!(
                out,
                "{:<6} {} {} UTC  {}",
                f.severity.as_str().to_uppercase(),
                f.kind,
                &f.at_utc.get(11..23).unwrap_or(&f.at_utc),
                f.explanation
            )?;
        }
    }
    out.flush()?;
    Ok(())
}

/// `--exec CMD`: `sh -c CMD` with the finding's JSON on stdin, once per finding.
fn exec(cmd: &str, f: &Finding, err: &mut dyn Write) -> anyhow::Result<()> {
    use std::process::{Command, Stdio};
    let mut child = Command::new("sh")
        .args(["-c", cmd])
        .stdin(Stdio::piped())
        .spawn()
        .map_err(|e| AuditError::usage(format!("--exec `{cmd}`: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = serde_json::to_writer(&mut stdin, f);
        let _ = stdin.write_all(b"\n");
    }
    let status = child.wait()?;
    if !status.success() {
        writeln!(
            err,
            "warning: --exec `{cmd}` exited {status} for finding {}",
            f.fingerprint
        )?;
    }
    Ok(())
}
