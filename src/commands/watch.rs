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

/// Each pass reads back this far before what it last settled: inversions compare rows up to
/// 10 minutes apart, and a twin across the edge must be seen.
const BACK_US: i64 = 10 * 60 * 1_000_000;

fn at(us: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_micros(us).unwrap_or_default()
}

/// How far behind both sources' newest data a finding must be to be final: no less than the
/// checks themselves wait (a live database's newest 10 s, EventLogger's flush interval and
/// more, are not judged; nor a file's last `--grace-ms`), plus the twin tolerance and a second.
/// A shorter `--settle` would declare final what the checks have not judged yet, and lose it:
/// it is raised, and said.
fn settle_us(args: &WatchArgs, s: &Settings, err: &mut dyn Write) -> std::io::Result<i64> {
    let least = crate::checks::missing::FLUSH_US.max(s.params.grace_ms as i64 * 1000)
        + s.params.tolerance_ms.unwrap_or(100) as i64 * 1000
        + 1_000_000;
    Ok(match args.settle {
        Some(secs) if ((secs * 1e6) as i64) < least => {
            writeln!(
                err,
                "warning: --settle {secs} s is shorter than the checks wait for the newest data; using {:.1} s",
                least as f64 / 1e6
            )?;
            least
        }
        Some(secs) => (secs * 1e6) as i64,
        None => least,
    })
}

/// Catching up from `--since`, a pass covers at most this much: memory follows the stretch.
const CATCH_UP_US: i64 = 15 * 60 * 1_000_000;

/// How long findings wait for a log's clock to settle before they are reported with it
/// unsettled (`clock_unsettled` says so then).
const CLOCK_WAIT: Duration = Duration::from_secs(300);

/// A pass is run at least this often even when no log file changed (rows the database gained
/// alone can settle too: a stopped process's tail, another writer's rows).
const IDLE_PASS: Duration = Duration::from_secs(30);

/// What the log files look like now: each one's path, size, modification time and inode. An
/// unchanged picture means no log line was written since the last pass.
fn logs_picture(paths: &[std::path::PathBuf]) -> Picture {
    crate::source::logs::discover(paths)
        .unwrap_or_default()
        .into_iter()
        .map(|p| {
            use std::os::unix::fs::MetadataExt;
            let m = std::fs::metadata(&p).ok();
            let len = m.as_ref().map_or(0, |m| m.len());
            let inode = m.as_ref().map_or(0, |m| m.ino());
            let mtime = m.and_then(|m| m.modified().ok());
            (p, len, mtime, inode)
        })
        .collect()
}

/// Each log file's path, size, modification time and inode.
type Picture = Vec<(std::path::PathBuf, u64, Option<std::time::SystemTime>, u64)>;

/// What happened to the log files between two pictures that a reader should know: a file gone
/// (deleted, or rotated out of the set) or shrunk (truncated, as copytruncate does). New files
/// and rotated members need no word: each pass reads what the directory holds.
fn picture_changes(before: &Picture, now: &Picture) -> Vec<String> {
    let mut out = Vec::new();
    for (path, len, _, inode) in before {
        match now.iter().find(|(p, ..)| p == path) {
            None => out.push(format!(
                "{} is gone (deleted, or rotated away): what it held is no longer read",
                path.display()
            )),
            // Another file under the same name is a rotation by rename: nothing was lost.
            Some((_, l, _, i)) if l < len && i == inode => out.push(format!(
                "{} shrank from {len} to {l} bytes (truncated, as copytruncate does): read again from its start",
                path.display()
            )),
            _ => {}
        }
    }
    out
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
    let settle = settle_us(args, &settings, err)?;
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
    let mut behind = false;
    let mut clock_wait: Option<Instant> = None;
    let mut said_waiting = false;
    loop {
        let stopping = crate::output::stop_requested();
        // Idle: no log line written since the last pass, and not yet time for the periodic one.
        let picture = logs_picture(&settings.sources.logs);
        if !stopping
            && !failing
            && !behind
            && last_picture.as_ref() == Some(&picture)
            && last_pass.elapsed() < IDLE_PASS
        {
            nap(poll);
            continue;
        }
        if !quiet {
            if let Some(before) = &last_picture {
                for w in picture_changes(before, &picture) {
                    writeln!(err, "warning: watch: {w}")?;
                }
            }
        }
        last_picture = Some(picture);
        last_pass = Instant::now();
        let now = chrono::Utc::now().timestamp_micros();
        // Catching up (from --since, or after the sources were down): an hour a pass, and
        // everything in it is final — anything written for it has been written by now, and
        // each pass loads the checks' margin past its end.
        let end = (settled_until + CATCH_UP_US).min(now + 60_000_000);
        let catching_up = end < now - settle;
        let mut req = settings.request(Direction::Both, false);
        req.range = Some(UtcRange {
            start: at(settled_until - BACK_US),
            end: at(end),
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
                // Final where both sources have moved past it; everything, when stopping.
                let db_end = meta.db_span.map(|s| s.1);
                let log_end = meta.coverage.iter().map(|c| c.end).max();
                // A log whose clock is not settled yet (no twins so far): its findings wait,
                // for up to CLOCK_WAIT, for the twins that will settle it.
                let unsettled = !meta.unjudged.is_empty();
                // The clocks banner: at the first pass, and again once they settle.
                let just_settled = !unsettled && clock_wait.take().is_some();
                if just_settled && !quiet {
                    writeln!(err, "watch: every log's clock is settled; findings follow")?;
                }
                if !bannered || just_settled {
                    crate::report::banner::print_banner(
                        &checked.prepared.timeline,
                        &meta.decisions,
                        quiet,
                        err,
                    )?;
                    bannered = true;
                }
                if unsettled {
                    let since = *clock_wait.get_or_insert_with(Instant::now);
                    if !quiet && !said_waiting {
                        writeln!(
                            err,
                            "watch: waiting for the clock of {} to settle (no DB twins yet); findings wait",
                            meta.unjudged.join(", ")
                        )?;
                        said_waiting = true;
                    }
                    if !stopping && since.elapsed() < CLOCK_WAIT {
                        nap(poll);
                        continue;
                    }
                }
                let upto = if stopping {
                    i64::MAX
                } else if catching_up {
                    end
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
                    // Only what lies past what was settled: a finding before it was judged by an
                    // earlier pass (one that appears there now comes from a source that changed
                    // since, e.g. a truncated file, and is not news).
                    .filter(|f| f.at_us >= settled_until && f.at_us < upto)
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
                // Caught up: neither source holds anything past this pass (the DB's newest row
                // of the whole table, each log file's last record), so nothing before now can
                // still change.
                let data_end = db_end.max(log_end);
                if catching_up && data_end.is_none_or(|d| d <= end) {
                    settled_until = settled_until.max(now - settle);
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
        behind = catching_up && !failing;
        if !behind {
            nap(poll);
        }
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
