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

/// Prints the banner on stderr unless quiet.
pub fn print_banner(
    t: &Timeline,
    decisions: &[ClockDecision],
    quiet: bool,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    if !quiet {
        writeln!(err, "{}", banner(&t.clocks))?;
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
