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
use super::{Fault, Faults, HandlerCopy, Output, Params, Scenario, SynthError, generate};

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
    /// Also write the RotatingFileHandler copy of every process's records,
    /// logs/trading_bot.log (and its rolled members .1 … .N)
    #[arg(long)]
    pub handler_copy: bool,
    /// The handler's maxBytes: a record that would take the file to this size rolls it first
    /// (K, M, G or KiB, MiB, GiB: ×1024) [default: 100 MiB]
    #[arg(long, value_name = "BYTES", value_parser = parse_bytes, requires = "handler_copy")]
    pub handler_max_bytes: Option<u64>,
    /// The handler's backupCount: members .1 … .N are kept [default: 10]
    #[arg(long, value_name = "N", requires = "handler_copy")]
    pub handler_backups: Option<u32>,
    /// Members .K and older were gzipped by hand (trading_bot.log.K.gz)
    #[arg(long, value_name = "K", value_parser = clap::value_parser!(u32).range(1..), requires = "handler_copy")]
    pub handler_gzip_from: Option<u32>,
    /// A fault to inject (repeatable); the spellings are in `--help` and docs/synth.md.
    #[arg(
        long = "fault",
        value_name = "FAULT",
        help = "A fault to inject (repeatable): lost-log-lines=N, lost-db-batch=N, duplicates=N, \
overlap, ghost-writer, skewed-host=+HH:MM, offset-change[=+HH:MM], \
host-clock=[N:]SKEW_MS[,DRIFT_PPM[,JITTER_MS]] (process N's host, 1-based; every host without N), \
ntp-step=[N:]MS[@FRACTION] (process N's host, the first's without N, jumps MS at FRACTION of its \
life, default 0.5), db-clock=SKEW_MS[,DRIFT_PPM], db-down (the last-started process's inserts all fail), \
log-level=[N:]LEVEL (process N, every process without N, runs with LOG_LEVEL=DEBUG|INFO|WARNING|ERROR), \
copy-gap=[N:]MINUTES[@FRACTION] (the tee copy of process N, the first without N, loses MINUTES of \
records from FRACTION of its life, default 0.5; needs --handler-copy), \
handler-gap=[N:]MINUTES[@FRACTION] (the handler copy loses them instead)"
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

/// `1048576`, `1M`, `1MiB`, `512K`, `2G` (binary multiples).
fn parse_bytes(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let mul: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kib" => 1 << 10,
        "m" | "mib" => 1 << 20,
        "g" | "gib" => 1 << 30,
        _ => return Err(format!("`{s}` is not a size like 1048576, 512K or 1MiB")),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mul))
        .ok_or_else(|| format!("`{s}` is not a size like 1048576, 512K or 1MiB"))
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
    if a.handler_copy {
        let d = HandlerCopy::default();
        p.handler = Some(HandlerCopy {
            max_bytes: a.handler_max_bytes.unwrap_or(d.max_bytes),
            backups: a.handler_backups.unwrap_or(d.backups),
            gzip_from: a.handler_gzip_from,
        });
    }
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
    let levels = !t.faults.log_levels.is_empty();
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
        let level = if levels {
            format!(
                ", level {} ({} records filtered)",
                f.level, f.filtered_records
            )
        } else {
            String::new()
        };
        s += &format!(
            "  monitoring_logs/{}  {} lines, {}, {} event lines, clock {}{level}\n",
            f.name,
            f.lines,
            mib(f.bytes),
            f.event_lines,
            clock
        );
    }
    for m in &t.handler_members {
        s += &format!(
            "  logs/{}  {} lines, {}{}, records of {}\n",
            m.name,
            m.lines,
            mib(m.bytes),
            if m.gzip {
                format!(" ({} gzipped)", mib(m.stored_bytes))
            } else {
                String::new()
            },
            m.copy_of.join(", ")
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
    if !t.filtered_by_level.is_empty() || !t.copy_gaps.is_empty() {
        s += &format!(
            "              {} rows whose line the level filtered, {} copy gaps ({} records)\n",
            t.filtered_by_level.len(),
            t.copy_gaps.len(),
            t.copy_gaps.iter().map(|g| g.records).sum::<u64>()
        );
    }
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
    fn handler_copy_and_level_from_the_command_line() {
        assert_eq!(parse_bytes("1048576"), Ok(1 << 20));
        assert_eq!(parse_bytes("512K"), Ok(512 << 10));
        assert_eq!(parse_bytes("1MiB"), Ok(1 << 20));
        assert_eq!(parse_bytes("2g"), Ok(2 << 30));
        assert!(parse_bytes("1.5M").is_err() && parse_bytes("M").is_err());
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        let dir = dir.to_str().unwrap();
        let mut stdout = Vec::new();
        // The handler's settings need the handler copy.
        let e = run_args(&["--out", dir, "--handler-backups", "3"], &mut stdout).unwrap_err();
        assert_eq!(e.exit_code(), 2);
        let args = [
            "--out",
            dir,
            "--hours",
            "0.5",
            "--log-mib",
            "0.4",
            "--handler-copy",
            "--handler-max-bytes",
            "100K",
            "--handler-backups",
            "3",
            "--handler-gzip-from",
            "2",
            "--fault",
            "log-level=2:WARNING",
            "--fault",
            "copy-gap=3",
        ];
        let out = run_args(&args, &mut stdout).unwrap();
        let text = String::from_utf8(stdout).unwrap();
        let t = &out.truth;
        assert_eq!(
            t.handler_files,
            [
                "trading_bot.log.3.gz",
                "trading_bot.log.2.gz",
                "trading_bot.log.1",
                "trading_bot.log"
            ]
        );
        assert!(t.counts.handler_deleted > 0);
        assert!(
            text.contains("faults: log-level=2:WARNING, copy-gap=3\n"),
            "{text}"
        );
        assert!(text.contains("\n  logs/trading_bot.log.3.gz  "), "{text}");
        assert!(text.contains(", level WARNING ("), "{text}");
        assert_eq!(t.copy_gaps.len(), 1);
        assert!(
            out.files
                .iter()
                .any(|f| f.ends_with("logs/trading_bot.log.2.gz"))
        );
        // A run without the copy in the same directory leaves no `logs/` behind.
        run_args(
            &["--out", dir, "--hours", "0.25", "--quiet"],
            &mut Vec::new(),
        )
        .unwrap();
        assert!(!tmp.path().join("s/logs").exists());
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
