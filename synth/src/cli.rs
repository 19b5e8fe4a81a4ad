//! `audit-gen`'s command line: the arguments, the scenario they ask for, and the summary it
//! prints. The binary is a thin `main` over [`run`], and the tests call [`run`] with the
//! arguments they would pass the binary, so both go through this one path. Exit codes: 0
//! written (or help shown), 2 error.

use std::ffi::OsString;
use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use clap::{Parser, ValueEnum};

use super::timefmt;
use super::{Fault, Faults, Output, Params, Scenario, SynthError, generate};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Preset {
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
pub struct Args {
    /// Directory to write into (created; reused only if it holds an earlier scenario)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A ready-made scenario; the flags below override its values
    #[arg(long, value_enum)]
    pub preset: Option<Preset>,
    /// Random seed
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Start of the scenario (RFC 3339) [default: 2025-10-18T03:00:00Z]
    #[arg(long, value_name = "TIME", value_parser = parse_start)]
    pub start: Option<DateTime<Utc>>,
    /// Length in hours [default: 1]
    #[arg(long, value_name = "H")]
    pub hours: Option<f64>,
    /// Events per minute of each live process [default: 60]
    #[arg(long, value_name = "EVENTS_PER_MIN")]
    pub rate: Option<f64>,
    /// MiB of non-event log lines over all files [default: 2]
    #[arg(long, value_name = "N")]
    pub log_mib: Option<f64>,
    /// Offset events.csv shows created_at in (the psql session's zone) [default: +03:00]
    #[arg(long, value_name = "+HH:MM", value_parser = parse_offset, allow_hyphen_values = true)]
    pub display_tz: Option<FixedOffset>,
    /// The hosts' naive log offset [default: +04:00]
    #[arg(long, value_name = "+HH:MM", value_parser = parse_offset, allow_hyphen_values = true)]
    pub log_tz: Option<FixedOffset>,
    /// Also write events.sql (schema + INSERTs with explicit ids, for psql)
    #[arg(long)]
    pub sql: bool,
    /// A fault to inject (repeatable); the spellings are in `--help` and docs/synth.md.
    #[arg(
        long = "fault",
        value_name = "FAULT",
        help = "A fault to inject (repeatable): lost-log-lines=N, lost-db-batch=N, duplicates=N, \
overlap, ghost-writer, skewed-host=+HH:MM, offset-change[=+HH:MM], \
host-clock=[N:]SKEW_MS[,DRIFT_PPM[,JITTER_MS]] (process N's host, 1-based; every host without N), \
ntp-step=[N:]MS[@FRACTION] (process N's host, the first's without N, jumps MS at FRACTION of its \
life, default 0.5), db-clock=SKEW_MS[,DRIFT_PPM], db-down (the last-started process's inserts all fail)"
    )]
    pub faults: Vec<Fault>,
    /// Print nothing but errors
    #[arg(short, long)]
    pub quiet: bool,
}

fn parse_start(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("`{s}` is not an RFC 3339 time like 2025-10-18T03:00:00Z: {e}"))
}

fn parse_offset(s: &str) -> Result<FixedOffset, String> {
    timefmt::parse_offset(s).ok_or_else(|| format!("`{s}` is not a UTC offset like +04:00"))
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

/// Why [`run`] wrote nothing.
#[derive(Debug)]
pub enum Error {
    /// Arguments clap refused, or `--help`/`--version` (exit code 0).
    Usage(clap::Error),
    /// A scenario that could not be planned or written.
    Synth(SynthError),
}

impl Error {
    /// The binary's exit code: 0 for `--help`/`--version`, 2 otherwise.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Usage(e) if !e.use_stderr() => 0,
            _ => 2,
        }
    }
}

/// The one line the binary prints on stderr: clap's first line, or `error: …`.
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Usage(e) => {
                let text = e.render().to_string();
                f.write_str(text.lines().next().unwrap_or("invalid arguments"))
            }
            Error::Synth(e) => write!(f, "error: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// `audit-gen ARGS` (`argv[0]` the program name): writes the scenario and, unless
/// `--quiet`, its summary on `stdout`.
pub fn run<I, T>(argv: I, stdout: &mut dyn Write) -> Result<Output, Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let args = Args::try_parse_from(argv).map_err(Error::Usage)?;
    let mut faults = Faults::default();
    for f in &args.faults {
        faults.add(*f);
    }
    let out = params(&args)
        .map_err(SynthError::invalid)
        .and_then(|p| Scenario::plan(&p, &faults))
        .and_then(|s| generate(&s, &args.out))
        .map_err(Error::Synth)?;
    if !args.quiet {
        // The scenario is written; a closed stdout loses only the summary.
        let _ = stdout.write_all(summary(&out).as_bytes());
    }
    Ok(out)
}

/// What was written: files, their sizes and clocks, and the truth's counts.
pub fn summary(out: &Output) -> String {
    let t = &out.truth;
    let c = &t.counts;
    let faults = t.faults.names();
    let mut s = format!(
        "audit-gen: seed {}, {} .. {}, faults: {}\n",
        t.seed,
        t.start_utc,
        t.end_utc,
        if faults.is_empty() {
            "none".to_string()
        } else {
            faults.join(", ")
        }
    );
    s += &format!(
        "wrote {} in {:.2} s\n",
        out.dir.display(),
        out.elapsed.as_secs_f64()
    );
    let clocks = !(t.faults.host_clocks.is_empty()
        && t.faults.ntp_steps.is_empty()
        && t.faults.db_clock.is_none());
    for f in &t.files {
        let offs: Vec<String> = f.offsets.iter().map(|o| o.offset.clone()).collect();
        let mut clock = offs.join(" → ");
        if let (true, Some(a), Some(b)) =
            (clocks, f.clock.segments.first(), f.clock.segments.last())
        {
            clock += &format!(
                " (vs created_at {:+.3} s .. {:+.3} s, {:+.1} ppm, {} step{})",
                a.offset_start_s,
                b.offset_end_s,
                a.drift_ppm,
                f.clock.steps.len(),
                if f.clock.steps.len() == 1 { "" } else { "s" }
            );
        }
        s += &format!(
            "  monitoring_logs/{}  {} lines, {}, {} event lines, clock {}\n",
            f.name,
            f.lines,
            mib(f.bytes),
            f.event_lines,
            clock
        );
    }
    s += &format!(
        "  events.csv  {} rows, {} (created_at in {})\n",
        c.db_rows,
        mib(c.csv_bytes),
        t.display_offset
    );
    if let Some(b) = c.sql_bytes {
        s += &format!("  events.sql  {}\n", mib(b));
    }
    s += &format!(
        "  truth.json  {} rows without log line, {} log lines without row, {} duplicate groups, {} overlaps, {} gaps, {} ghost rows ({} unattributed), {} inversion pairs\n",
        t.missing_in_log.len(),
        t.missing_in_db.len(),
        t.duplicates.len(),
        t.overlaps.len(),
        t.gaps.len(),
        t.ghost_rows.len(),
        t.unattributed.len(),
        t.inversions.len()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_args(args: &[&str], stdout: &mut Vec<u8>) -> Result<Output, Error> {
        run(
            std::iter::once("audit-gen").chain(args.iter().copied()),
            stdout,
        )
    }

    #[test]
    fn help_exits_0_and_bad_arguments_2() {
        let mut stdout = Vec::new();
        let e = run_args(&["--help"], &mut stdout).unwrap_err();
        assert_eq!(e.exit_code(), 0);
        let e = run_args(&["--out", "/nonexistent/x", "--fault", "rain"], &mut stdout).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert!(
            e.to_string().starts_with("error: invalid value 'rain'"),
            "{e}"
        );
        let e = run_args(&["--out", "/nonexistent/x", "--hours", "0"], &mut stdout).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        assert_eq!(
            e.to_string(),
            "error: --hours 0: expected more than 0 and at most 744"
        );
        assert!(stdout.is_empty());
    }

    #[test]
    fn a_run_prints_what_it_wrote_unless_quiet() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        let dir = dir.to_str().unwrap();
        let args = ["--out", dir, "--hours", "0.25", "--log-mib", "0", "--sql"];
        let mut stdout = Vec::new();
        let out = run_args(&args, &mut stdout).unwrap();
        assert_eq!(String::from_utf8(stdout).unwrap(), summary(&out));
        let text = summary(&out);
        assert!(text.starts_with("audit-gen: seed 1, 2025-10-18T03:00:00.000000Z .. 2025-10-18T03:15:00.000000Z, faults: none\n"), "{text}");
        assert!(text.contains("\n  events.sql  "), "{text}");
        let mut quiet = Vec::new();
        run_args(&[&args[..], &["--quiet"]].concat(), &mut quiet).unwrap();
        assert!(quiet.is_empty());
    }

    #[test]
    fn clock_faults_from_the_command_line() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        let args = [
            "--out",
            dir.to_str().unwrap(),
            "--hours",
            "0.5",
            "--log-mib",
            "0",
            "--fault",
            "host-clock=2:-4000,25,1",
            "--fault",
            "ntp-step=2:1500@0.5",
            "--fault",
            "db-clock=800",
            "--fault",
            "db-down",
        ];
        let mut stdout = Vec::new();
        let out = run_args(&args, &mut stdout).unwrap();
        let text = String::from_utf8(stdout).unwrap();
        assert!(
            text.contains(
                "faults: host-clock=2:-4000,25,1, ntp-step=2:1500@0.5, db-clock=800, db-down\n"
            ),
            "{text}"
        );
        // Process 2: 4 s slow, the DB 0.8 s fast, +4 h: 14395.2 s at its start.
        assert!(
            text.contains("clock +04:00 (vs created_at +14395.200 s .."),
            "{text}"
        );
        let t = &out.truth;
        assert_eq!(t.files[1].clock.steps.len(), 1);
        assert_eq!(t.files[1].db_rows, 0);
        assert!(t.counts.db_down_batches > 0);
    }
}
