//! What every command says on stderr before its answer: one line of the clocks it applied
//! and why, then a warning for each clock it could not settle or that the data contradicts, and
//! for each damaged source (what was lost or repaired, and how much).

use std::io::Write;

use crate::load::ClockDecision;
use crate::timeline::{ClockEntry, SourcesInfo, Timeline};

/// The clocks applied to every source and why, a line each (and one per step of a log file's
/// clock): zone, skew, drift, steps, spread, anchors, confidence, or why it is not settled.
pub fn banner(clocks: &[ClockEntry]) -> String {
    let mut s = String::from("clocks:");
    for c in clocks {
        s.push('\n');
        s.push_str(&crate::report::table::clock_line(c));
    }
    s
}

/// One line per stream written to several files: the primary copy, then the files holding the
/// same records (a rotation set shortened to its suffixes), e.g.
/// `copies: bot_20251018_070604.log + trading_bot.log.3, .2 (PID 41233)`.
pub fn copy_lines(sources: &SourcesInfo) -> Vec<String> {
    let order = |name: &str| sources.logs.iter().position(|l| l.name == name);
    let mut lines = Vec::new();
    for l in sources
        .logs
        .iter()
        .filter(|l| !l.copies.is_empty() && l.copy_of.is_empty())
    {
        let mut names: Vec<&str> = l.copies.iter().map(String::as_str).collect();
        names.sort_by_key(|n| order(n));
        let mut shown: Vec<String> = Vec::new();
        let mut base: Option<&str> = None;
        for n in names {
            let stem = n.strip_suffix(".gz").unwrap_or(n);
            let (b, suffix) = match stem.rsplit_once(".log.") {
                Some((b, k)) if k.bytes().all(|c| c.is_ascii_digit()) => {
                    (Some(b), &n[b.len() + 4..])
                }
                _ => (None, n),
            };
            match (b, base) {
                (Some(b), Some(prev)) if b == prev => shown.push(suffix.to_string()),
                _ => shown.push(n.to_string()),
            }
            base = b.or_else(|| n.strip_suffix(".log"));
        }
        let pids: Vec<String> = l
            .carried_pid
            .iter()
            .chain(&l.pids)
            .map(u32::to_string)
            .collect();
        let who = match pids.len() {
            0 => String::new(),
            1 => format!(" (PID {})", pids[0]),
            _ => format!(" (PIDs {})", pids.join(", ")),
        };
        lines.push(format!("copies: {} + {}{who}", l.name, shown.join(", ")));
    }
    lines
}

/// One line per file written above INFO, or whose level was given: its rows below that level
/// have no line by design, e.g.
/// `level: bot_20251018_080300.log: logging level WARNING (inferred: 0 INFO among 520 records)`.
pub fn level_lines(sources: &SourcesInfo) -> Vec<String> {
    sources
        .logs
        .iter()
        .filter_map(|l| {
            let level = l.level.as_deref()?;
            let by = l.level_by.as_deref().unwrap_or("");
            let given = !by.starts_with("inferred");
            (given || !matches!(level, "INFO" | "DEBUG"))
                .then(|| format!("level: {}: logging level {level} ({by})", l.name))
        })
        .collect()
}

/// Prints the banner on stderr unless quiet.
pub fn print_banner(
    t: &Timeline,
    decisions: &[ClockDecision],
    quiet: bool,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    if !quiet {
        writeln!(err, "{}", banner(&t.clocks))?;
        for line in copy_lines(&t.sources)
            .into_iter()
            .chain(level_lines(&t.sources))
        {
            writeln!(err, "{line}")?;
        }
        warn_clocks(t, decisions, err)?;
    }
    Ok(())
}

/// Warnings about clocks: assumed zones, and given zones the data contradicts.
pub fn warn_clocks(
    t: &Timeline,
    decisions: &[ClockDecision],
    err: &mut dyn Write,
) -> std::io::Result<()> {
    for c in t.clocks.iter().filter(|c| c.provenance.is_assumed()) {
        writeln!(err, "warning: {}: {}", c.source, c.provenance)?;
    }
    for w in decisions.iter().filter_map(|d| d.warning.as_ref()) {
        writeln!(err, "warning: {w}")?;
    }
    warn_sources(&t.sources, err)
}

/// One warning line per damaged source: what was lost or repaired, and how much. Nothing is
/// dropped silently; the same counts are in `--format json` under `sources`.
pub fn warn_sources(sources: &SourcesInfo, err: &mut dyn Write) -> std::io::Result<()> {
    if let Some(e) = &sources.events {
        if let Some(first) = e.skipped.first() {
            writeln!(
                err,
                "warning: {}: {} rows skipped (first: {}: {})",
                e.origin,
                e.skipped.len(),
                first.at,
                first.reason
            )?;
        }
        if !e.missing_columns.is_empty() && e.kind != "postgresql" {
            writeln!(
                err,
                "warning: {}: no column(s) {}: read as empty",
                e.origin,
                e.missing_columns.join(", ")
            )?;
        }
    }
    for l in &sources.logs {
        if let Some(w) = &l.level_warning {
            writeln!(err, "warning: {w}")?;
        }
        let s = &l.stats;
        let mut parts = Vec::new();
        if s.bytes == 0 {
            parts.push("empty file".to_string());
        }
        let mut count = |n: u64, what: &str| {
            if n > 0 {
                parts.push(format!("{n} {what}"));
            }
        };
        count(
            s.invalid_utf8_lines,
            "lines with invalid UTF-8 (read with U+FFFD)",
        );
        count(
            s.orphan_lines,
            "lines before the first timestamp (not on the timeline)",
        );
        count(
            s.malformed_events,
            "event lines whose Python dict does not parse (kept as malformed_event)",
        );
        count(
            s.truncated_records,
            "records longer than 1 MiB (cut, the rest counted)",
        );
        if s.parsed_bytes.is_some() {
            count(
                s.backwards_steps,
                "times the file's time index goes backwards (its window read back from the whole file)",
            );
        } else {
            count(
                s.backwards_steps,
                "records timed earlier than the one before them (kept, ordered by time)",
            );
        }
        if !parts.is_empty() {
            writeln!(err, "warning: {}: {}", l.name, parts.join("; "))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::logs::LogInfo;

    fn log(name: &str, pids: &[u32], copy_of: &[&str], copies: &[&str]) -> LogInfo {
        let mut l = LogInfo::new(
            name.into(),
            format!("/x/{name}"),
            name.ends_with(".gz"),
            pids.to_vec(),
            Default::default(),
        );
        l.copy_of = copy_of.iter().map(|s| s.to_string()).collect();
        l.copies = copies.iter().map(|s| s.to_string()).collect();
        l
    }

    #[test]
    fn one_line_per_stream_with_the_rotation_set_shortened_oldest_first() {
        let bot = "bot_20251018_070604.log";
        let sources = SourcesInfo {
            events: None,
            logs: vec![
                // Listed in the order discovery gives: per-process files, then the rotation
                // set from the oldest member to the live file.
                log(
                    bot,
                    &[41233],
                    &[],
                    &[
                        "trading_bot.log",
                        "trading_bot.log.2",
                        "trading_bot.log.3.gz",
                    ],
                ),
                log("bot_20251018_090000.log", &[41300], &[], &[]),
                log("trading_bot.log.3.gz", &[41233], &[bot], &[]),
                log("trading_bot.log.2", &[], &[bot], &[]),
                log("trading_bot.log", &[], &[bot], &[]),
            ],
        };
        assert_eq!(
            copy_lines(&sources),
            vec![format!(
                "copies: {bot} + trading_bot.log.3.gz, .2, trading_bot.log (PID 41233)"
            )]
        );
    }
}
