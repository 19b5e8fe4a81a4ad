//! `audit-gen`: writes a synthetic scenario (logs, events.csv, events.sql, truth.json) with
//! known ground truth, for testing and benchmarking `audit`. All the work is in
//! [`audit::synth`]; this is its command line. Exit codes: 0 written, 2 error.

use std::path::PathBuf;
use std::process::ExitCode;

use audit::synth::{Fault, Faults, Params, Scenario, generate};
use chrono::{DateTime, Duration, FixedOffset, Utc};
use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Preset {
    /// The benchmark day: 24 h, ~200 000 rows, ~850 MiB of logs, 2 processes
    Day,
}

#[derive(Debug, Parser)]
#[command(
    name = "audit-gen",
    version,
    about = "Write a synthetic trading-bot scenario with known ground truth",
    long_about = "Write a synthetic trading-bot scenario with known ground truth: \
monitoring_logs/bot_*.log (naive local times of each host), events.csv (psql \\copy CSV in the \
display offset), optionally events.sql, and truth.json (what the checks should find).\n\n\
The same seed and flags always give the same bytes.\n\n\
Example: audit-gen --out /tmp/s --fault lost-log-lines=5 --fault overlap --fault ghost-writer"
)]
struct Args {
    /// Directory to write into (created; reused only if it holds an earlier scenario)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// A ready-made scenario; the flags below override its values
    #[arg(long, value_enum)]
    preset: Option<Preset>,
    /// Random seed
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Start of the scenario (RFC 3339) [default: 2025-10-18T03:00:00Z]
    #[arg(long, value_name = "TIME", value_parser = parse_start)]
    start: Option<DateTime<Utc>>,
    /// Length in hours [default: 1]
    #[arg(long, value_name = "H")]
    hours: Option<f64>,
    /// Events per minute of each live process [default: 60]
    #[arg(long, value_name = "EVENTS_PER_MIN")]
    rate: Option<f64>,
    /// MiB of non-event log lines over all files [default: 2]
    #[arg(long, value_name = "N")]
    log_mib: Option<f64>,
    /// Offset events.csv shows created_at in (the psql session's zone) [default: +03:00]
    #[arg(long, value_name = "+HH:MM", value_parser = parse_offset, allow_hyphen_values = true)]
    display_tz: Option<FixedOffset>,
    /// The hosts' naive log offset [default: +04:00]
    #[arg(long, value_name = "+HH:MM", value_parser = parse_offset, allow_hyphen_values = true)]
    log_tz: Option<FixedOffset>,
    /// Also write events.sql (schema + INSERTs with explicit ids, for psql)
    #[arg(long)]
    sql: bool,
    /// A fault to inject (repeatable): lost-log-lines=N, lost-db-batch=N, duplicates=N,
    /// overlap, ghost-writer, skewed-host=+HH:MM, offset-change[=+HH:MM]
    #[arg(long = "fault", value_name = "FAULT")]
    faults: Vec<Fault>,
    /// Print nothing but errors
    #[arg(short, long)]
    quiet: bool,
}

fn parse_start(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{s}` is not an RFC 3339 time like 2025-10-18T03:00:00Z: {e}"))
}

fn parse_offset(s: &str) -> Result<FixedOffset, String> {
    audit::time::parse_offset(s).ok_or_else(|| format!("`{s}` is not a UTC offset like +04:00"))
}

fn params(a: &Args) -> Result<Params, String> {
    let mut p = match a.preset {
        Some(Preset::Day) => Params::day(a.seed),
        None => Params::new(a.seed),
    };
    if let Some(t) = a.start {
        p.start = t;
    }
    if let Some(h) = a.hours {
        if !(h > 0.0 && h <= 24.0 * 31.0) {
            return Err(format!("--hours {h}: expected more than 0 and at most 744"));
        }
        p.duration = Duration::microseconds((h * 3600e6) as i64);
        if a.preset.is_some() {
            // The preset's restart is at a fixed time of day; keep it inside a shorter span.
            p.restart_at = p
                .restart_at
                .filter(|r| *r < p.duration - Duration::minutes(5));
        }
    }
    if let Some(r) = a.rate {
        p.rate_per_min = r;
    }
    if let Some(m) = a.log_mib {
        if !(0.0..=1e6).contains(&m) {
            return Err(format!("--log-mib {m}: expected 0 .. 1000000"));
        }
        p.chatter_bytes = (m * 1_048_576.0) as u64;
    }
    if let Some(o) = a.display_tz {
        p.display_offset = o;
    }
    if let Some(o) = a.log_tz {
        p.log_offset = o;
    }
    p.write_sql = a.sql;
    Ok(p)
}

fn mib(b: u64) -> String {
    format!("{:.1} MiB", b as f64 / 1_048_576.0)
}

fn main() -> ExitCode {
    let args = match Args::try_parse() {
        Ok(a) => a,
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.render().to_string();
            eprintln!("{}", text.lines().next().unwrap_or("invalid arguments"));
            return ExitCode::from(2);
        }
    };
    let mut faults = Faults::default();
    for f in &args.faults {
        faults.add(*f);
    }
    let result = params(&args)
        .map_err(audit::synth::SynthError::invalid)
        .and_then(|p| Scenario::plan(&p, &faults))
        .and_then(|s| generate(&s, &args.out));
    let out = match result {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if !args.quiet {
        let t = &out.truth;
        let c = &t.counts;
        let faults = t.faults.names();
        println!(
            "audit-gen: seed {}, {} .. {}, faults: {}",
            t.seed,
            t.start_utc,
            t.end_utc,
            if faults.is_empty() {
                "none".to_string()
            } else {
                faults.join(", ")
            }
        );
        println!(
            "wrote {} in {:.2} s",
            out.dir.display(),
            out.elapsed.as_secs_f64()
        );
        for f in &t.files {
            let offs: Vec<String> = f.offsets.iter().map(|o| o.offset.clone()).collect();
            println!(
                "  monitoring_logs/{}  {} lines, {}, {} event lines, clock {}",
                f.name,
                f.lines,
                mib(f.bytes),
                f.event_lines,
                offs.join(" → ")
            );
        }
        println!(
            "  events.csv  {} rows, {} (created_at in {})",
            c.db_rows,
            mib(c.csv_bytes),
            t.display_offset
        );
        if let Some(b) = c.sql_bytes {
            println!("  events.sql  {}", mib(b));
        }
        println!(
            "  truth.json  {} rows without log line, {} log lines without row, {} duplicate groups, {} overlaps, {} gaps, {} ghost rows ({} unattributed), {} inversion pairs",
            t.missing_in_log.len(),
            t.missing_in_db.len(),
            t.duplicates.len(),
            t.overlaps.len(),
            t.gaps.len(),
            t.ghost_rows.len(),
            t.unattributed.len(),
            t.inversions.len()
        );
    }
    ExitCode::SUCCESS
}
