//! Every clap type. Shared option groups are flattened into each command; values are checked
//! here, at the edge (zones, windows, dates), before any work starts.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::clock::LogTzRule;
use crate::report::Format as ReportFormat;

use crate::time::{WindowSpec, Zone, parse_date};

#[derive(Debug, Parser)]
#[command(
    name = "audit",
    version,
    about = "Reconcile a trading bot's monitoring.events with its log files on one UTC timeline",
    long_about = "Reconcile a trading bot's monitoring.events with its log files on one UTC timeline.\n\n\
Every source is read on its own clock (DB created_at is absolute but shown in the session zone; \
log lines are naive local time) and placed on UTC before anything is compared. Every output says \
which offsets were applied and where they came from.\n\n\
Exit codes: 0 ok, 1 findings at or above the threshold, 2 error (bad input, unreachable DB), \
130 interrupted.",
    arg_required_else_help = true,
    after_help = EXAMPLES_AUDIT
)]
pub struct Cli {
    /// Config file [default: ./audit.toml when present]
    #[arg(long, global = true, value_name = "FILE", env = "AUDIT_CONFIG")]
    pub config: Option<PathBuf>,
    /// Ignore ./audit.toml
    #[arg(long, global = true)]
    pub no_config: bool,
    /// No banners, warnings or progress on stderr
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Neither read nor write the index of big log files kept between runs
    /// (in $AUDIT_CACHE_DIR, else $XDG_CACHE_HOME/audit, else ~/.cache/audit)
    #[arg(long, global = true)]
    pub no_cache: bool,
    #[command(subcommand)]
    pub command: Command,
}

// `Examples:` of each command's help: the everyday command lines, runnable from the repo root
// (its audit.toml names the bundled incident).
const EXAMPLES_AUDIT: &str = "\
Examples:
  audit timeline --signal 4869992              the merged timeline of one signal, on UTC
  audit missing-logs --window 14:07-14:08      DB rows with no log line, after alignment
  audit check --last 24h --write sarif=audit.sarif --write junit=audit.xml
  audit completions bash > ~/.local/share/bash-completion/completions/audit
  audit man | man -l -";
const EXAMPLES_TIMELINE: &str = "\
Examples:
  audit timeline --signal 4869992
  audit timeline --window 14:07-14:08 --date 2025-10-18 --wide
  audit --no-config timeline --db \"$DATABASE_URL\" --logs monitoring_logs/ --symbol RSRUSDT
  audit timeline --format jsonl | jq -c 'select(.source == \"db\")'
  audit timeline --count";
const EXAMPLES_EXPLAIN: &str = "\
Examples:
  audit explain --signal 4869992
  audit explain db:785194
  audit explain bot_20251018_145959.log:909
  audit explain --window 14:07-14:08 --date 2025-10-18 --format markdown >> \"$GITHUB_STEP_SUMMARY\"";
const EXAMPLES_WATCH: &str = "\
Examples:
  audit --no-config watch --db \"$DATABASE_URL\" --logs monitoring_logs/
  audit --no-config watch --db \"$DATABASE_URL\" --logs monitoring_logs/ --since 2025-10-18T00:00:00Z --format json
  audit watch --exec 'curl -s -X POST -d @- https://alerts.example/hook' --fail-on high";
const EXAMPLES_SKEW: &str = "\
Examples:
  audit skew
  audit --no-config skew --events events.csv --logs monitoring_logs/ --format json";
const EXAMPLES_MISSING: &str = "\
Examples:
  audit missing-logs --window 14:07-14:08
  audit missing-logs --direction db-only --fail-on high";
const EXAMPLES_INVERSIONS: &str = "\
Examples:
  audit inversions --signal 4869992
  audit inversions --format json | jq '.findings[].class'";
const EXAMPLES_LIFETIMES: &str = "\
Examples:
  audit lifetimes
  audit lifetimes --min-gap-s 300";
const EXAMPLES_DUPLICATES: &str = "\
Examples:
  audit duplicates
  audit duplicates --interval-ms 1000 --format markdown";
const EXAMPLES_CHECK: &str = "\
Examples:
  audit check
  audit check --last 24h --baseline audit-baseline.json --fail-on high
  audit check --write sarif=audit.sarif --write junit=audit.xml --write html=report.html
  audit check --format markdown >> \"$GITHUB_STEP_SUMMARY\"";
const EXAMPLES_REPORT: &str = "\
Examples:
  audit report --html report.html
  audit report --window 14:07-14:08 --html minute.html";
const EXAMPLES_BASELINE: &str = "\
Examples:
  audit baseline write --baseline audit-baseline.json
  audit check --baseline audit-baseline.json";
const EXAMPLES_EXPORT: &str = "\
Examples:
  audit export --parquet timeline.parquet --jsonl timeline.jsonl
  audit export --last 24h --parquet lake/ --partition day
  duckdb -c \"SELECT date, count(*) FROM read_parquet('lake/*/*.parquet', hive_partitioning = true) GROUP BY 1\"";
const EXAMPLES_COMPLETIONS: &str = "\
Examples:
  audit completions bash > ~/.local/share/bash-completion/completions/audit
  audit completions zsh > \"${fpath[1]}/_audit\"
  audit completions fish > ~/.config/fish/completions/audit.fish
  audit completions powershell >> $PROFILE";
const EXAMPLES_MAN: &str = "\
Examples:
  audit man | man -l -
  audit man > /usr/local/share/man/man1/audit.1";

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The merged timeline of DB rows and log records, ordered by UTC
    #[command(after_help = EXAMPLES_TIMELINE)]
    Timeline(TimelineArgs),
    /// Detect each source's clock offset from the data (twins, correlation epochs)
    #[command(after_help = EXAMPLES_SKEW)]
    Skew(SkewArgs),
    /// DB rows with no log line, and log event lines with no DB row — after alignment
    #[command(name = "missing-logs", after_help = EXAMPLES_MISSING)]
    MissingLogs(MissingArgs),
    /// Pairs whose correlation-epoch, created_at and id orders disagree, classified
    #[command(after_help = EXAMPLES_INVERSIONS)]
    Inversions(InversionsArgs),
    /// Process lifetimes: overlaps, gaps, lock trouble, DB writes while no process was alive
    #[command(after_help = EXAMPLES_LIFETIMES)]
    Lifetimes(LifetimesArgs),
    /// The same event written more than once
    #[command(after_help = EXAMPLES_DUPLICATES)]
    Duplicates(DuplicatesArgs),
    /// What happened to a signal, position, window, DB row or log line: the story with its evidence
    #[command(after_help = EXAMPLES_EXPLAIN)]
    Explain(ExplainArgs),
    /// Follow the database and the logs as the bot writes them; each finding once, when settled
    #[command(after_help = EXAMPLES_WATCH)]
    Watch(WatchArgs),
    /// Every check over a time range, for CI: summary, findings, baseline, exit code
    #[command(after_help = EXAMPLES_CHECK)]
    Check(CheckArgs),
    /// Every check, drawn: one self-contained HTML page (lanes, marks, findings, clocks, rows)
    #[command(after_help = EXAMPLES_REPORT)]
    Report(ReportArgs),
    /// Baselines of accepted findings
    #[command(subcommand, after_help = EXAMPLES_BASELINE)]
    Baseline(BaselineCmd),
    /// The merged, aligned timeline as Parquet / JSON Lines with provenance on every row
    #[command(after_help = EXAMPLES_EXPORT)]
    Export(ExportArgs),
    /// Print a shell completion script on stdout
    #[command(after_help = EXAMPLES_COMPLETIONS)]
    Completions {
        /// The shell to complete in
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) on stdout
    #[command(after_help = EXAMPLES_MAN)]
    Man,
}

/// `audit check` and `audit baseline write`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub common: CheckOpts,
    /// Findings whose fingerprint is in this baseline are accepted and do not fail the job [default: `[check] baseline`]
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "Output",
        env = "AUDIT_BASELINE"
    )]
    pub baseline: Option<PathBuf>,
    /// Also write the report in --format to FILE (the table still goes to the terminal)
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub output: Option<PathBuf>,
    /// Also write the self-contained HTML report (what `audit report --html` writes) to FILE
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub html: Option<PathBuf>,
    /// Also write the report as FORMAT to FILE (repeatable; FORMAT: table, json, junit, sarif,
    /// github, markdown, html). Every file appears whole or not at all; the terminal output is
    /// unchanged
    #[arg(long = "write", value_name = "FORMAT=FILE", value_parser = parse_write, help_heading = "Output")]
    pub write: Vec<WriteSpec>,
}

/// What `--write FORMAT=FILE` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteFormat {
    /// A findings format (what `--format` prints).
    Findings(ReportFormat),
    /// The self-contained HTML page of `audit report`.
    Html,
}

/// One `--write FORMAT=FILE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteSpec {
    pub format: WriteFormat,
    pub path: PathBuf,
}

/// Every `--write` format, as spelled on the command line.
pub const WRITE_FORMATS: &str = "table, json, junit, sarif, github, markdown, html";

fn parse_write(s: &str) -> Result<WriteSpec, String> {
    let Some((name, path)) = s.split_once('=') else {
        return Err(format!(
            "expected FORMAT=FILE, e.g. sarif=audit.sarif (FORMAT: {WRITE_FORMATS})"
        ));
    };
    if path.is_empty() {
        return Err(format!("no file after `{name}=`"));
    }
    let format = if name.eq_ignore_ascii_case("html") {
        WriteFormat::Html
    } else {
        WriteFormat::Findings(
            ReportFormat::from_str(name, true)
                .map_err(|_| format!("unknown format `{name}` (one of {WRITE_FORMATS})"))?,
        )
    };
    Ok(WriteSpec {
        format,
        path: PathBuf::from(path),
    })
}

/// `audit report`: the same sources, clocks, range and thresholds as `audit check`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub sources: SourceOpts,
    #[command(flatten)]
    pub clock: ClockOpts,
    #[command(flatten)]
    pub filter: FilterOpts,
    #[command(flatten)]
    pub range: RangeOpts,
    #[command(flatten)]
    pub params: CheckParams,
    /// Write the report to FILE: one HTML file with everything inline, to open offline
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub html: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum BaselineCmd {
    /// Run every check and write (or replace) the baseline with what it finds
    Write(CheckArgs),
}

/// Time range of `audit check` (default: everything the sources cover).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Range")]
pub struct RangeOpts {
    /// From this instant (RFC 3339, e.g. 2025-10-18T00:00:00Z)
    #[arg(long, value_name = "TIME", value_parser = parse_instant_arg)]
    pub since: Option<chrono::DateTime<chrono::Utc>>,
    /// Until this instant (exclusive)
    #[arg(long, value_name = "TIME", value_parser = parse_instant_arg)]
    pub until: Option<chrono::DateTime<chrono::Utc>>,
    /// The last DURATION before now (24h, 90m, 7d)
    #[arg(long, value_name = "DURATION", value_parser = parse_duration_arg, conflicts_with_all = ["since", "until"])]
    pub last: Option<chrono::Duration>,
}

/// Thresholds and tolerances of the checks: a flag, else its environment variable, else
/// `[check]` in audit.toml, else the default (the same for every check command).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Check")]
pub struct CheckParams {
    /// Largest |log − created_at − lag| of a twin, in ms [default: from the measured spread, at least 100]
    #[arg(long, value_name = "MS", env = "AUDIT_TOLERANCE_MS")]
    pub tolerance_ms: Option<u64>,
    /// Rows this close to the first or last record of a log file are not accused, in ms [default: 2000]
    #[arg(long, value_name = "MS", env = "AUDIT_GRACE_MS")]
    pub grace_ms: Option<u64>,
    /// Downtime shorter than this is a restart, not a gap, in seconds [default: 60]
    #[arg(long, value_name = "SECS", env = "AUDIT_MIN_GAP_S")]
    pub min_gap_s: Option<u64>,
    /// Duplicates: rows of the same identity further apart than this are separate events, in ms [default: 5000]
    #[arg(long, value_name = "MS", env = "AUDIT_INTERVAL_MS")]
    pub interval_ms: Option<u64>,
    /// Inversions: how far created_at may precede its own correlation epoch, in ms [default: 50]
    #[arg(long, value_name = "MS", env = "AUDIT_EPOCH_TOLERANCE_MS")]
    pub epoch_tolerance_ms: Option<u64>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub sources: SourceOpts,
    #[command(flatten)]
    pub clock: ClockOpts,
    #[command(flatten)]
    pub filter: FilterOpts,
    #[command(flatten)]
    pub range: RangeOpts,
    /// Write the timeline as Parquet: one FILE, or with --partition a directory
    #[arg(
        long,
        value_name = "FILE|DIR",
        help_heading = "Output",
        required_unless_present = "jsonl"
    )]
    pub parquet: Option<PathBuf>,
    /// Split the Parquet output by the UTC date of each row: DIR/date=YYYY-MM-DD/part-0.parquet
    /// (Hive-style, one table for DuckDB, Spark or Trino)
    #[arg(
        long,
        value_enum,
        value_name = "BY",
        help_heading = "Output",
        requires = "parquet"
    )]
    pub partition: Option<Partition>,
    /// Write the timeline as JSON Lines
    #[arg(long, value_name = "FILE", help_heading = "Output")]
    pub jsonl: Option<PathBuf>,
}

/// How `audit export --partition` splits the Parquet output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Partition {
    /// One directory per UTC date: `date=YYYY-MM-DD/part-0.parquet`
    Day,
}

/// What every check command shares: sources, clocks, scope, thresholds and output.
#[derive(Debug, Args)]
pub struct CheckOpts {
    #[command(flatten)]
    pub sources: SourceOpts,
    #[command(flatten)]
    pub clock: ClockOpts,
    #[command(flatten)]
    pub filter: FilterOpts,
    #[command(flatten)]
    pub range: RangeOpts,
    #[command(flatten)]
    pub params: CheckParams,
    /// Output format
    #[arg(long, value_enum, default_value_t = FindingsFormat::Table, help_heading = "Output")]
    pub format: FindingsFormat,
    /// Exit 1 when a finding of this severity or higher is reported [default: medium, or `[check] fail_on`]
    #[arg(long, value_enum, help_heading = "Output", env = "AUDIT_FAIL_ON")]
    pub fail_on: Option<crate::checks::Severity>,
}

pub use crate::report::Format as FindingsFormat;

/// `audit watch`.
#[derive(Debug, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub common: CheckOpts,
    /// Seconds between passes over the sources
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 1.0,
        help_heading = "Watch"
    )]
    pub poll: f64,
    /// Seconds both sources must have moved past a finding before it is reported [default and least: 10 s (a live database's newest rows are not judged) + tolerance + 1 s]
    #[arg(long, value_name = "SECS", help_heading = "Watch")]
    pub settle: Option<f64>,
    /// Run `sh -c CMD` once per finding, its JSON on stdin
    #[arg(long, value_name = "CMD", help_heading = "Watch")]
    pub exec: Option<String>,
}

/// `audit explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// db:ID (a DB row) or FILE:LINE (a log record); or name it with --signal, --position,
    /// --correlation or --window
    #[arg(value_name = "SUBJECT")]
    pub subject: Option<String>,
    #[command(flatten)]
    pub common: CheckOpts,
}

#[derive(Debug, Args)]
pub struct SkewArgs {
    #[command(flatten)]
    pub common: CheckOpts,
}

#[derive(Debug, Args)]
pub struct MissingArgs {
    #[command(flatten)]
    pub common: CheckOpts,
    /// Which side to report
    #[arg(long, value_enum, default_value_t = crate::checks::missing::Direction::Both, help_heading = "Check")]
    pub direction: crate::checks::missing::Direction,
}

#[derive(Debug, Args)]
pub struct InversionsArgs {
    #[command(flatten)]
    pub common: CheckOpts,
}

#[derive(Debug, Args)]
pub struct LifetimesArgs {
    #[command(flatten)]
    pub common: CheckOpts,
}

#[derive(Debug, Args)]
pub struct DuplicatesArgs {
    #[command(flatten)]
    pub common: CheckOpts,
}

#[derive(Debug, Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    pub sources: SourceOpts,
    #[command(flatten)]
    pub clock: ClockOpts,
    #[command(flatten)]
    pub filter: FilterOpts,
    #[command(flatten)]
    pub output: OutputOpts,
}

/// Where the events and logs come from.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Sources")]
pub struct SourceOpts {
    /// PostgreSQL URL of the database holding monitoring.events [fallback: DATABASE_URL]
    #[arg(long, value_name = "URL", conflicts_with = "events")]
    pub db: Option<String>,
    /// A snapshot of monitoring.events: .csv (psql \copy CSV HEADER), .parquet or .jsonl
    #[arg(long, value_name = "FILE")]
    pub events: Option<PathBuf>,
    /// Log file, directory or glob (repeatable): bot_*.log, rotated *.log.N, .gz
    #[arg(long, value_name = "PATH")]
    pub logs: Vec<PathBuf>,
    /// Logging level the logs were written at: LEVEL for every file, or GLOB=LEVEL (repeatable);
    /// inferred from the records when not given
    #[arg(long = "log-level", value_name = "[GLOB=]LEVEL", value_parser = parse_log_level)]
    pub log_level: Vec<crate::load::levels::LevelRule>,
    /// Seconds to wait for the database to answer a connection
    #[arg(long, value_name = "SECS")]
    pub connect_timeout: Option<u64>,
    /// Statement timeout of the read-only session, in seconds
    #[arg(long, value_name = "SECS")]
    pub statement_timeout: Option<u64>,
}

/// Clock zones. Offsets are given as +04:00 / UTC+4, or IANA names (DST-aware).
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Clocks")]
pub struct ClockOpts {
    /// Zone of naive log times: ZONE for every file, or GLOB=ZONE per file (repeatable)
    #[arg(long = "log-tz", value_name = "[GLOB=]ZONE", value_parser = parse_log_tz)]
    pub log_tz: Vec<LogTzRule>,
    /// Zone of a naive `timestamp` created_at (timestamptz needs none)
    #[arg(long = "db-tz", value_name = "ZONE", value_parser = parse_zone)]
    pub db_tz: Option<Zone>,
    /// Display zone: how --window is read and DB times shown [default: the DB's TimeZone, or the snapshot's offset]
    #[arg(long = "tz", value_name = "ZONE", value_parser = parse_zone)]
    pub tz: Option<Zone>,
    /// Do not align: read log times as if written in the display zone (what comparing psql
    /// output with a log by eye does), to show the naive result next to the aligned one
    #[arg(long)]
    pub no_align: bool,
}

/// Which rows.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Filters")]
pub struct FilterOpts {
    /// A signal: rows naming it (correlation id, payload, wave list, log text) and the positions it opened
    #[arg(long, value_name = "ID")]
    pub signal: Option<i64>,
    /// A position id
    #[arg(long, value_name = "ID")]
    pub position: Option<i64>,
    /// A symbol, e.g. RSRUSDT
    #[arg(long, value_name = "SYMBOL")]
    pub symbol: Option<String>,
    /// An exact correlation id
    #[arg(long, value_name = "ID")]
    pub correlation: Option<String>,
    /// Time window in the display zone, half-open: 14:07-14:08, 14:07, or START..END timestamps
    #[arg(long, value_name = "WINDOW", value_parser = parse_window)]
    pub window: Option<WindowSpec>,
    /// Date of a --window given as bare times, when the data spans several days
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = parse_date_arg)]
    pub date: Option<NaiveDate>,
}

impl FilterOpts {
    /// The filters as the lower layers take them.
    pub fn spec(&self) -> crate::timeline::FilterSpec {
        crate::timeline::FilterSpec {
            signal: self.signal,
            position: self.position,
            symbol: self.symbol.clone(),
            correlation: self.correlation.clone(),
            window: self.window.clone(),
            date: self.date,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
    /// One JSON object per row (the columns of `audit export --jsonl`, without provenance)
    Jsonl,
}

/// How results are printed.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Output")]
pub struct OutputOpts {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
    /// Show whole messages in the table (default: first line, cut to fit)
    #[arg(long)]
    pub wide: bool,
    /// Count the rows instead of printing them: per source, kind and level
    #[arg(long)]
    pub count: bool,
}

fn parse_zone(s: &str) -> Result<Zone, String> {
    s.parse()
}

fn parse_log_level(s: &str) -> Result<crate::load::levels::LevelRule, String> {
    crate::load::levels::LevelRule::parse(s, "--log-level")
}

fn parse_log_tz(s: &str) -> Result<LogTzRule, String> {
    LogTzRule::parse(s, "--log-tz")
}

fn parse_window(s: &str) -> Result<WindowSpec, String> {
    s.parse()
}

fn parse_instant_arg(s: &str) -> Result<chrono::DateTime<chrono::Utc>, String> {
    crate::time::parse_instant(s)
}

fn parse_duration_arg(s: &str) -> Result<chrono::Duration, String> {
    crate::time::parse_duration(s)
}

fn parse_date_arg(s: &str) -> Result<NaiveDate, String> {
    parse_date(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bad_values_fail_at_parse_time() {
        for args in [
            vec!["audit", "timeline", "--window", "14:08-14:07"],
            vec!["audit", "timeline", "--window", "25:00-26:00"],
            vec!["audit", "timeline", "--log-tz", "Mars/Base"],
            vec!["audit", "timeline", "--date", "18.10.2025"],
            vec![
                "audit",
                "timeline",
                "--db",
                "postgres://x",
                "--events",
                "e.csv",
            ],
        ] {
            assert!(Cli::try_parse_from(&args).is_err(), "{args:?}");
        }
        let ok = Cli::try_parse_from([
            "audit",
            "timeline",
            "--signal",
            "4869992",
            "--log-tz",
            "bot_*.log=+04:00",
        ])
        .unwrap();
        let Command::Timeline(t) = ok.command else {
            panic!("timeline")
        };
        assert_eq!(t.filter.signal, Some(4869992));
        assert_eq!(t.clock.log_tz.len(), 1);
    }
}
