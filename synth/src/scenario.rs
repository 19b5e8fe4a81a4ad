//! What to generate: a [`Scenario`] is the processes that ran (each one log file), the
//! periods a writer without a log file was inserting rows, and the [`Faults`] to inject.
//! [`Scenario::plan`] lays out the usual shape — two processes with a restart between them —
//! and turns the structural faults (overlap, ghost writer, skewed or changing host clocks)
//! into processes and periods; the counted faults (lost lines, lost batches, duplicates) are
//! injected while generating.

use chrono::{DateTime, Duration, FixedOffset, Utc};

use super::SynthError;
use super::faults::{CopyGapFault, Faults};
use super::model::Level;
use super::rng::Rng;
use super::timefmt::format_offset;

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ending {
    /// SIGTERM: `Received signal 15`, `Shutdown initiated...`, `bot_stopped`, a final flush,
    /// `Lock released`.
    Clean,
    /// Killed (SIGKILL, OOM): the log just stops; events still queued never reach the DB.
    Killed,
    /// Still running when the data was collected: the log ends after its last flush.
    Running,
}

/// The delay between `log_event` taking `created_at` and its log line being written, by
/// default: uniform 0–3 ms.
pub const DEFAULT_JITTER_US: i64 = 3_000;

/// How wrong a host's clock is. Its reading of the true instant T is
/// `T + skew + drift·(T − origin) + Σ steps at or before T`, the origin being the start of
/// the process it runs (see [`Process::host_reading_us`]). The default is an exact clock
/// with the usual 0–3 ms delay of a log line behind its row.
#[derive(Debug, Clone, PartialEq)]
pub struct HostClock {
    /// The error at the origin, µs.
    pub skew_us: i64,
    /// How fast it runs: +50 gains 50 µs per true second.
    pub drift_ppm: f64,
    /// An event's log line is written a uniform 0..=jitter_us after its `created_at` is
    /// taken (never before).
    pub jitter_us: i64,
    /// NTP corrections: at that true instant the clock jumps by that many µs (negative: it
    /// goes back).
    pub steps: Vec<(DateTime<Utc>, i64)>,
    /// The instant the skew is measured at: the process's start, or (processes sharing one
    /// host, `host-clock` without a process number) the first one's, so the host's clock goes
    /// on drifting across restarts as a real one does.
    pub origin: Option<DateTime<Utc>>,
}

impl Default for HostClock {
    fn default() -> HostClock {
        HostClock {
            origin: None,
            skew_us: 0,
            drift_ppm: 0.0,
            jitter_us: DEFAULT_JITTER_US,
            steps: Vec::new(),
        }
    }
}

/// `drift_ppm` over `dt_us`, rounded to the µs (exactly 0 without drift).
fn drift_us(drift_ppm: f64, dt_us: i64) -> i64 {
    if drift_ppm == 0.0 {
        0
    } else {
        (dt_us as f64 * drift_ppm * 1e-6).round() as i64
    }
}

/// A host clock ready to read: [`HostClock`] with its origin and steps in µs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostFn {
    pub origin_us: i64,
    pub skew_us: i64,
    pub drift_ppm: f64,
    /// (true instant, jump), sorted by instant.
    pub steps: Vec<(i64, i64)>,
}

impl HostFn {
    /// An exact clock.
    pub fn exact() -> HostFn {
        HostFn::default()
    }

    /// The clock's error at true instant `t` (µs), drift rounded to the µs.
    pub fn error_us(&self, t: i64) -> i64 {
        let mut e = self.skew_us + drift_us(self.drift_ppm, t - self.origin_us);
        for &(at, d) in &self.steps {
            if at > t {
                break;
            }
            e += d;
        }
        e
    }

    /// Its reading of true instant `t` (µs).
    pub fn read(&self, t: i64) -> i64 {
        t + self.error_us(t)
    }

    /// The error at `t` in µs, unrounded (for the truth's offsets).
    pub fn error_exact_us(&self, t: i64) -> f64 {
        let steps: i64 = self
            .steps
            .iter()
            .filter(|(at, _)| *at <= t)
            .map(|(_, d)| d)
            .sum();
        (self.skew_us + steps) as f64 + self.drift_ppm * 1e-6 * (t - self.origin_us) as f64
    }
}

/// The database server's clock, which stamps `created_at`: its reading of the true instant
/// T is `T + skew + drift·(T − scenario start)`. Exact by default (`created_at` = T).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct DbClock {
    pub skew_us: i64,
    pub drift_ppm: f64,
}

/// Which copy of a process's log lost a stretch of its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LostCopy {
    /// `monitoring_logs/bot_*.log`, the `tee` of stdout (tee died, the disk was full).
    Tee,
    /// `logs/trading_bot.log*`, the RotatingFileHandler's (its write failed, a member was
    /// cut by hand).
    Handler,
}

/// A stretch (true instants, UTC) of a process's records one copy of its log lacks; the other
/// copy has them. Nothing happens to the DB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CopyGap {
    pub lost_from: LostCopy,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The bot's second copy of its log: `logs/trading_bot.log` through a `RotatingFileHandler`
/// (every process appends to it; it rolls at `max_bytes` into `.1` … `.backups`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HandlerCopy {
    /// `maxBytes`: a record that would take the file to this size or past it (the file not
    /// empty) first rolls it. 0: never rolls.
    pub max_bytes: u64,
    /// `backupCount`: members `.1` … `.backups` are kept. 0: never rolls.
    pub backups: u32,
    /// Members `.K` and older were gzipped by hand (`trading_bot.log.K.gz`).
    pub gzip_from: Option<u32>,
}

impl Default for HandlerCopy {
    /// The bot's: 100 MiB × 10, nothing gzipped.
    fn default() -> HandlerCopy {
        HandlerCopy {
            max_bytes: 100 << 20,
            backups: 10,
            gzip_from: None,
        }
    }
}

/// One bot process: one `monitoring_logs/bot_YYYYMMDD_HHMMSS.log`.
#[derive(Debug, Clone)]
pub struct Process {
    pub pid: u32,
    /// When the shell started it (`tee` names the file after this, in local time).
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The host's naive log clock (`+04:00`: asctime is UTC+4 with no offset written).
    pub log_offset: FixedOffset,
    /// The host's clock changes to this offset at this instant (DST, a moved host).
    pub offset_change: Option<(DateTime<Utc>, FixedOffset)>,
    pub ending: Ending,
    /// It found a stale lock file on start (another instance's lock was removed).
    pub stale_lock: bool,
    /// Its host's clock error (exact by default).
    pub clock: HostClock,
    /// The database refused every one of its inserts (it was down, or unreachable from this
    /// host, for the process's whole life): each flush logs `batch write failed`.
    pub db_down: bool,
    /// Its `LOG_LEVEL`: records below it are written to neither copy of its log. `Debug`
    /// (the default) lets every record the generator makes through.
    pub level: Level,
    /// Stretches one copy of its log lacks (needs [`Scenario::handler`]).
    pub copy_gaps: Vec<CopyGap>,
}

impl Process {
    /// `bot_YYYYMMDD_HHMMSS.log`, from the start as its host's clock reads it, in the host's
    /// local time.
    pub fn file_name(&self) -> String {
        let t = self.start.timestamp_micros();
        let read = self.host_fn().read(t);
        let local = DateTime::from_timestamp_micros(read)
            .unwrap_or(self.start)
            .with_timezone(&self.log_offset);
        format!("bot_{}.log", local.format("%Y%m%d_%H%M%S"))
    }

    /// Its host clock, ready to read (origin: the process's start).
    pub fn host_fn(&self) -> HostFn {
        let mut steps: Vec<(i64, i64)> = self
            .clock
            .steps
            .iter()
            .map(|(at, d)| (at.timestamp_micros(), *d))
            .collect();
        steps.sort_unstable();
        HostFn {
            origin_us: self.clock.origin.unwrap_or(self.start).timestamp_micros(),
            skew_us: self.clock.skew_us,
            drift_ppm: self.clock.drift_ppm,
            steps,
        }
    }

    /// The host's reading of true instant `t` (µs since the epoch, UTC).
    pub fn host_reading_us(&self, t: i64) -> i64 {
        self.host_fn().read(t)
    }
}

/// A period (UTC) when the writer without a log file inserts rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Everything that decides the generated files. Same scenario, same bytes.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub seed: u64,
    pub start: DateTime<Utc>,
    pub duration: Duration,
    /// Events per minute of each live writer (the mix is in `model`).
    pub rate_per_min: f64,
    /// The psql session's offset `events.csv` is written in (`+03:00` → `…+03`).
    pub display_offset: FixedOffset,
    /// Bytes of non-event log lines over all files (split by each process's lifetime).
    pub chatter_bytes: u64,
    pub processes: Vec<Process>,
    pub ghost: Vec<Window>,
    pub faults: Faults,
    /// Also write `events.sql`.
    pub write_sql: bool,
    /// The clock that stamps `created_at` (exact by default).
    pub db_clock: DbClock,
    /// Also write the RotatingFileHandler copy, `logs/trading_bot.log*`.
    pub handler: Option<HandlerCopy>,
}

/// The knobs of [`Scenario::plan`].
#[derive(Debug, Clone)]
pub struct Params {
    pub seed: u64,
    pub start: DateTime<Utc>,
    pub duration: Duration,
    pub rate_per_min: f64,
    pub display_offset: FixedOffset,
    /// The hosts' usual naive log offset.
    pub log_offset: FixedOffset,
    pub chatter_bytes: u64,
    /// When the first process stops and the second starts [default: halfway].
    pub restart_at: Option<Duration>,
    /// Downtime between them [default: 5 % of the duration, 90 s .. 6 min].
    pub restart_gap: Option<Duration>,
    pub write_sql: bool,
    /// Also write `logs/trading_bot.log*` [default: no].
    pub handler: Option<HandlerCopy>,
}

/// A whole-hour offset; `h` is a constant within ±14 at every call site.
fn offset_h(h: i32) -> FixedOffset {
    FixedOffset::east_opt(h * 3600).expect("whole hours within ±14")
}

impl Params {
    /// A small scenario: one hour from 2025-10-18 03:00 UTC, psql in +03:00, hosts in +04:00.
    pub fn new(seed: u64) -> Params {
        Params {
            seed,
            start: DateTime::parse_from_rfc3339("2025-10-18T03:00:00Z")
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
            duration: Duration::hours(1),
            rate_per_min: 60.0,
            display_offset: offset_h(3),
            log_offset: offset_h(4),
            chatter_bytes: 2 << 20,
            restart_at: None,
            restart_gap: None,
            write_sql: false,
            handler: None,
        }
    }

    /// The benchmark day: 24 h from 03:06:04 UTC, ~200 000 rows, ~850 MiB of logs in two
    /// files (`bot_20251018_070604.log` until a restart at 10:59:59 UTC,
    /// `bot_20251018_145959.log` after it), as in the incident.
    pub fn day(seed: u64) -> Params {
        Params {
            start: DateTime::parse_from_rfc3339("2025-10-18T03:06:04Z")
                .map(|t| t.with_timezone(&Utc))
                .unwrap_or_default(),
            duration: Duration::hours(24),
            rate_per_min: 139.0,
            chatter_bytes: 800 << 20,
            // Process 1 stops at 10:59:56.5 UTC, process 2 starts at 10:59:59 (14:59:59 at +04:00).
            restart_at: Some(Duration::milliseconds(
                (7 * 3600 + 53 * 60 + 53) * 1000 + 750,
            )),
            restart_gap: Some(Duration::milliseconds(2_500)),
            ..Params::new(seed)
        }
    }
}

fn frac(d: Duration, f: f64) -> Duration {
    Duration::microseconds((d.num_microseconds().unwrap_or(i64::MAX) as f64 * f) as i64)
}

fn ms_to_us(ms: f64) -> i64 {
    (ms * 1000.0).round() as i64
}

/// `log-level`, in order (a later one wins for the same process).
fn apply_level_faults(processes: &mut [Process], faults: &Faults) -> Result<(), SynthError> {
    let n = processes.len();
    for l in &faults.log_levels {
        for i in targets(n, l.process, "log-level")? {
            processes[i].level = l.level;
        }
    }
    Ok(())
}

/// `copy-gap` and `handler-gap`: the first process's without a number.
fn apply_copy_gaps(processes: &mut [Process], faults: &Faults) -> Result<(), SynthError> {
    let n = processes.len();
    let all = [
        (LostCopy::Tee, &faults.copy_gaps, "copy-gap"),
        (LostCopy::Handler, &faults.handler_gaps, "handler-gap"),
    ];
    for (lost_from, gaps, what) in all {
        for g in gaps.iter() {
            let CopyGapFault {
                process,
                minutes,
                at,
            } = *g;
            let i = targets(n, Some(process.unwrap_or(1)), what)?[0];
            let pr = &mut processes[i];
            let start = pr.start + frac(pr.end - pr.start, at.unwrap_or(0.5));
            pr.copy_gaps.push(CopyGap {
                lost_from,
                start,
                end: start + Duration::microseconds((minutes * 60e6).round() as i64),
            });
        }
    }
    Ok(())
}

/// The processes a fault names: `Some(n)` the n-th (1-based, as `Scenario::processes`
/// lists them), `None` every one.
fn targets(n: usize, process: Option<usize>, what: &str) -> Result<Vec<usize>, SynthError> {
    match process {
        None => Ok((0..n).collect()),
        Some(k) if (1..=n).contains(&k) => Ok(vec![k - 1]),
        Some(k) => Err(SynthError::invalid(format!(
            "--fault {what}: there is no process {k} (this scenario has {n})"
        ))),
    }
}

/// `host-clock` (in order, a later one overriding an earlier one for the same process) and
/// `ntp-step` (added up).
fn apply_clock_faults(processes: &mut [Process], faults: &Faults) -> Result<(), SynthError> {
    let n = processes.len();
    let first = processes.iter().map(|p| p.start).min();
    for h in &faults.host_clocks {
        for i in targets(n, h.process, "host-clock")? {
            let c = &mut processes[i].clock;
            // Every process: one host, one clock running through its restarts.
            c.origin = if h.process.is_none() { first } else { None };
            c.skew_us = ms_to_us(h.skew_ms);
            c.drift_ppm = h.drift_ppm;
            if let Some(j) = h.jitter_ms {
                c.jitter_us = ms_to_us(j);
            }
        }
    }
    for st in &faults.ntp_steps {
        // Default: the first process.
        for i in targets(n, Some(st.process.unwrap_or(1)), "ntp-step")? {
            let pr = &mut processes[i];
            let at = pr.start + frac(pr.end - pr.start, st.at.unwrap_or(0.5));
            pr.clock.steps.push((at, ms_to_us(st.ms)));
        }
    }
    for pr in processes.iter_mut() {
        pr.clock.steps.sort_by_key(|s| s.0);
    }
    Ok(())
}

impl Scenario {
    /// The usual shape: process 1 from the start until a clean restart, process 2 from the
    /// restart to the end (still running); then the structural faults:
    /// - overlap: a third process starts 30 % into process 1's life (finding process 1's
    ///   lock stale), runs up to 20 min alongside it, and is killed;
    /// - ghost writer: rows inside the restart gap and during a stretch of process 2;
    /// - skewed host: process 2's host writes its log in that offset;
    /// - offset change: process 1's host clock changes 60 % into its life;
    /// - host clocks, NTP steps, the DB clock: set on the processes (numbered from 1 in the
    ///   order above: 1, 2, the overlap's 3) and the scenario;
    /// - DB down: every insert of the process that starts last fails.
    pub fn plan(p: &Params, faults: &Faults) -> Result<Scenario, SynthError> {
        if p.duration < Duration::minutes(10) {
            return Err(SynthError::invalid(
                "a scenario needs at least 10 minutes (--hours 0.17)",
            ));
        }
        if !(p.rate_per_min > 0.0 && p.rate_per_min <= 6000.0) {
            return Err(SynthError::invalid(format!(
                "--rate {} must be > 0 and at most 6000 events per minute",
                p.rate_per_min
            )));
        }
        let mut rng = Rng::new(p.seed).fork(0x5CE7A);
        let start = p.start;
        let end = start + p.duration;
        let gap = p.restart_gap.unwrap_or_else(|| {
            frac(p.duration, 0.05).clamp(Duration::seconds(90), Duration::minutes(6))
        });
        let restart = start + p.restart_at.unwrap_or_else(|| frac(p.duration, 0.5));
        let p1_end = restart - frac(gap, 0.5);
        let p2_start = restart + frac(gap, 0.5);
        if p1_end <= start + Duration::minutes(4) || p2_start >= end - Duration::minutes(4) {
            return Err(SynthError::invalid(
                "the restart leaves a process with less than 4 minutes",
            ));
        }
        let mut pid = rng.range(20_000, 60_000) as u32;
        let mut next_pid = |rng: &mut Rng| {
            pid += rng.range(50, 4000) as u32;
            pid
        };
        let mut processes = vec![
            Process {
                pid: next_pid(&mut rng),
                start,
                end: p1_end,
                log_offset: p.log_offset,
                offset_change: None,
                ending: Ending::Clean,
                stale_lock: false,
                clock: HostClock::default(),
                db_down: false,
                level: Level::Debug,
                copy_gaps: Vec::new(),
            },
            Process {
                pid: next_pid(&mut rng),
                start: p2_start,
                end,
                log_offset: faults.skewed_host.unwrap_or(p.log_offset),
                offset_change: None,
                ending: Ending::Running,
                stale_lock: false,
                clock: HostClock::default(),
                db_down: false,
                level: Level::Debug,
                copy_gaps: Vec::new(),
            },
        ];
        let p1_len = p1_end - start;
        if faults.offset_change {
            let to = match faults.offset_change_to {
                Some(o) => o,
                None => FixedOffset::east_opt(p.log_offset.local_minus_utc() + 3600)
                    .ok_or_else(|| SynthError::invalid("the host offset + 1 h is beyond ±14:00"))?,
            };
            processes[0].offset_change = Some((start + frac(p1_len, 0.6), to));
        }
        if faults.overlap {
            let o_start = start + frac(p1_len, 0.3);
            let o_len = frac(p1_len, 0.35).min(Duration::minutes(20));
            processes.push(Process {
                pid: next_pid(&mut rng),
                start: o_start,
                end: o_start + o_len,
                log_offset: p.log_offset,
                offset_change: None,
                ending: Ending::Killed,
                stale_lock: true,
                clock: HostClock::default(),
                db_down: false,
                level: Level::Debug,
                copy_gaps: Vec::new(),
            });
        }
        let mut ghost = Vec::new();
        if faults.ghost_writer {
            if gap >= Duration::seconds(40) {
                ghost.push(Window {
                    start: p1_end + frac(gap, 0.2),
                    end: p2_start - frac(gap, 0.2),
                });
            }
            let p2_len = end - p2_start;
            let g0 = p2_start + frac(p2_len, 0.3);
            ghost.push(Window {
                start: g0,
                end: g0 + frac(p2_len, 0.2).min(Duration::minutes(10)),
            });
        }
        apply_clock_faults(&mut processes, faults)?;
        apply_level_faults(&mut processes, faults)?;
        apply_copy_gaps(&mut processes, faults)?;
        if faults.db_down {
            // The process that starts last (the second, after the restart, even with an
            // overlap's third one).
            if let Some(last) = processes.iter_mut().max_by_key(|pr| pr.start) {
                last.db_down = true;
            }
        }
        let db_clock = faults.db_clock.map_or(DbClock::default(), |d| DbClock {
            skew_us: ms_to_us(d.skew_ms),
            drift_ppm: d.drift_ppm,
        });
        let s = Scenario {
            seed: p.seed,
            start,
            duration: p.duration,
            rate_per_min: p.rate_per_min,
            display_offset: p.display_offset,
            chatter_bytes: p.chatter_bytes,
            processes,
            ghost,
            faults: faults.clone(),
            write_sql: p.write_sql,
            db_clock,
            handler: p.handler,
        };
        s.validate()?;
        Ok(s)
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.start + self.duration
    }

    /// The DB server's reading of true instant `t` (µs): the `created_at` it stamps.
    pub fn db_reading_us(&self, t: i64) -> i64 {
        t + self.db_clock.skew_us
            + drift_us(self.db_clock.drift_ppm, t - self.start.timestamp_micros())
    }

    /// The DB clock's error at `t` in µs, unrounded (for the truth's offsets).
    pub fn db_error_exact_us(&self, t: i64) -> f64 {
        self.db_clock.skew_us as f64
            + self.db_clock.drift_ppm * 1e-6 * (t - self.start.timestamp_micros()) as f64
    }

    /// Checks what a hand-built scenario could get wrong.
    pub fn validate(&self) -> Result<(), SynthError> {
        if self.processes.is_empty() {
            return Err(SynthError::invalid("a scenario needs at least one process"));
        }
        let mut names = std::collections::HashSet::new();
        let mut pids = std::collections::HashSet::new();
        for pr in &self.processes {
            if pr.end - pr.start < Duration::minutes(2) {
                return Err(SynthError::invalid(format!(
                    "process {} lives less than 2 minutes",
                    pr.pid
                )));
            }
            let offsets = std::iter::once(pr.log_offset).chain(pr.offset_change.map(|(_, o)| o));
            for o in offsets {
                if o.local_minus_utc().abs() > 14 * 3600 {
                    return Err(SynthError::invalid(format!(
                        "log offset {} is beyond ±14:00",
                        format_offset(o)
                    )));
                }
            }
            if let Some((at, _)) = pr.offset_change {
                if at <= pr.start + Duration::minutes(1) || at >= pr.end - Duration::minutes(1) {
                    return Err(SynthError::invalid(format!(
                        "process {}: the offset change must fall inside its life",
                        pr.pid
                    )));
                }
            }
            validate_clock(pr)?;
            validate_gaps(pr, self.handler.is_some())?;
            if !names.insert(pr.file_name()) {
                return Err(SynthError::invalid(format!(
                    "two processes would write {}",
                    pr.file_name()
                )));
            }
            if !pids.insert(pr.pid) {
                return Err(SynthError::invalid(format!("PID {} used twice", pr.pid)));
            }
        }
        for w in &self.ghost {
            if w.end <= w.start {
                return Err(SynthError::invalid("an empty ghost-writer window"));
            }
        }
        let d = self.db_clock;
        if d.skew_us.abs() > MAX_SKEW_US || !drift_ok(d.drift_ppm) {
            return Err(SynthError::invalid(format!(
                "the DB clock (skew {} µs, drift {} ppm) is beyond ±1 day or ±1000 ppm",
                d.skew_us, d.drift_ppm
            )));
        }
        Ok(())
    }
}

/// Copy gaps: only with a second copy to keep what the first lost, inside the process's life
/// (ending before it does), not overlapping each other.
fn validate_gaps(pr: &Process, handler: bool) -> Result<(), SynthError> {
    let bad = |what: &str| Err(SynthError::invalid(format!("process {}: {what}", pr.pid)));
    if pr.copy_gaps.is_empty() {
        return Ok(());
    }
    if !handler {
        return bad(
            "a copy gap (copy-gap, handler-gap) needs the handler copy (--handler-copy): without it there is no other copy to hold the records",
        );
    }
    let mut spans: Vec<(DateTime<Utc>, DateTime<Utc>)> = Vec::new();
    for g in &pr.copy_gaps {
        if g.end <= g.start || g.start <= pr.start || g.end >= pr.end {
            return bad("a copy gap must fall inside its life and end before it does");
        }
        if spans.iter().any(|(a, b)| g.start < *b && *a < g.end) {
            return bad("two copy gaps overlap");
        }
        spans.push((g.start, g.end));
    }
    Ok(())
}

/// The largest clock errors a scenario accepts (the hosts', the DB's).
const MAX_SKEW_US: i64 = 86_400_000_000;
const MAX_DRIFT_PPM: f64 = 1000.0;

/// Finite and within ±1000 ppm (NaN is not).
fn drift_ok(ppm: f64) -> bool {
    ppm.is_finite() && ppm.abs() <= MAX_DRIFT_PPM
}

/// A host clock the truth can state: bounded errors, a jitter of at most 1 s, steps of at most
/// an hour inside the process's life (a minute from its ends, like an offset change), none at
/// the instant of another step or of the offset change.
fn validate_clock(pr: &Process) -> Result<(), SynthError> {
    let c = &pr.clock;
    let bad = |what: String| Err(SynthError::invalid(format!("process {}: {what}", pr.pid)));
    if c.skew_us.abs() > MAX_SKEW_US || !drift_ok(c.drift_ppm) {
        return bad(format!(
            "host clock skew {} µs / drift {} ppm beyond ±1 day / ±1000 ppm",
            c.skew_us, c.drift_ppm
        ));
    }
    if !(0..=1_000_000).contains(&c.jitter_us) {
        return bad(format!("jitter {} µs outside 0 .. 1 s", c.jitter_us));
    }
    let mut instants: Vec<DateTime<Utc>> = pr.offset_change.iter().map(|(at, _)| *at).collect();
    for &(at, d) in &c.steps {
        if d == 0 || d.abs() > 3_600_000_000 {
            return bad(format!(
                "a clock step of {d} µs (expected 1 µs .. 1 h, either sign)"
            ));
        }
        if at <= pr.start + Duration::minutes(1) || at >= pr.end - Duration::minutes(1) {
            return bad("a clock step must fall inside its life, a minute from its ends".into());
        }
        if instants.contains(&at) {
            return bad("two clock steps (or a step and the offset change) at one instant".into());
        }
        instants.push(at);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_day_layout_names_the_incident_files() {
        let s = Scenario::plan(&Params::day(1), &Faults::default()).unwrap();
        let names: Vec<String> = s.processes.iter().map(Process::file_name).collect();
        assert_eq!(
            names,
            vec!["bot_20251018_070604.log", "bot_20251018_145959.log"]
        );
        assert_eq!(s.processes[0].ending, Ending::Clean);
        assert!(s.ghost.is_empty());
    }

    #[test]
    fn structural_faults_become_processes_and_windows() {
        let mut f = Faults::default();
        for x in [
            "overlap",
            "ghost-writer",
            "skewed-host=+05:30",
            "offset-change",
        ] {
            f.add(x.parse().unwrap());
        }
        let s = Scenario::plan(&Params::new(3), &f).unwrap();
        assert_eq!(s.processes.len(), 3);
        let o = &s.processes[2];
        assert!(o.start > s.processes[0].start && o.end < s.processes[0].end);
        assert_eq!(o.ending, Ending::Killed);
        assert_eq!(format_offset(s.processes[1].log_offset), "+05:30");
        assert_eq!(
            s.processes[0].offset_change.map(|(_, o)| format_offset(o)),
            Some("+05:00".to_string())
        );
        // One window inside the restart gap, one while process 2 is alive.
        assert_eq!(s.ghost.len(), 2);
        assert!(s.ghost[0].start > s.processes[0].end && s.ghost[0].end < s.processes[1].start);
        assert!(s.ghost[1].start > s.processes[1].start);
    }

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_host_clock_reads_skew_drift_and_steps() {
        // 7.2 s fast at 03:00, +50 ppm, back 2.1 s at 03:10 and forward 0.5 s at 03:20.
        let start = at("2025-10-18T03:00:00Z");
        let clock = HostClock {
            skew_us: 7_200_000,
            drift_ppm: 50.0,
            jitter_us: 0,
            origin: None,
            steps: vec![
                (at("2025-10-18T03:20:00Z"), 500_000),
                (at("2025-10-18T03:10:00Z"), -2_100_000),
            ],
        };
        let mut pr = Process {
            pid: 1,
            start,
            end: at("2025-10-18T04:00:00Z"),
            log_offset: offset_h(4),
            offset_change: None,
            ending: Ending::Clean,
            stale_lock: false,
            clock,
            db_down: false,
            level: Level::Debug,
            copy_gaps: Vec::new(),
        };
        let h = pr.host_fn();
        let us = |s: &str| at(s).timestamp_micros();
        let t0 = start.timestamp_micros();
        assert_eq!(h.read(t0), t0 + 7_200_000);
        // 600 s later: +30 ms of drift; the step is at this very instant: applied.
        let t = us("2025-10-18T03:10:00Z");
        assert_eq!(h.error_us(t - 1), 7_200_000 + 30_000);
        assert_eq!(h.error_us(t), 7_200_000 + 30_000 - 2_100_000);
        // 1 h: +180 ms of drift, both steps.
        let t = us("2025-10-18T04:00:00Z");
        assert_eq!(h.read(t), t + 7_200_000 + 180_000 - 2_100_000 + 500_000);
        // 1.5 s at 50 ppm: 75 µs.
        assert_eq!(h.error_us(t0 + 1_500_000), 7_200_075);
        assert!((h.error_exact_us(t) - h.error_us(t) as f64).abs() < 1.0);
        // The file is named by the host's reading of the start, in its zone.
        assert_eq!(pr.file_name(), "bot_20251018_070007.log");
        pr.clock.skew_us = -1;
        assert_eq!(pr.file_name(), "bot_20251018_065959.log");
        assert_eq!(pr.host_reading_us(t0), t0 - 1);
        // An exact clock reads true time.
        let exact = HostFn::exact();
        assert_eq!(exact.read(t0), t0);
    }

    #[test]
    fn the_db_clock_stamps_created_at() {
        let mut f = Faults::default();
        f.add("db-clock=-1500,20".parse().unwrap());
        let s = Scenario::plan(&Params::new(1), &f).unwrap();
        let t0 = s.start.timestamp_micros();
        assert_eq!(s.db_reading_us(t0), t0 - 1_500_000);
        // Half an hour later: +36 ms.
        assert_eq!(
            s.db_reading_us(t0 + 1_800_000_000),
            t0 + 1_800_000_000 - 1_500_000 + 36_000
        );
        let s = Scenario::plan(&Params::new(1), &Faults::default()).unwrap();
        assert_eq!(s.db_reading_us(t0 + 5), t0 + 5);
    }

    #[test]
    fn clock_faults_set_the_processes_clocks() {
        let mut f = Faults::default();
        for x in [
            "overlap",
            "host-clock=1500,-20",
            "host-clock=2:-3000,10,0.5",
            "ntp-step=-2100@0.4",
            "ntp-step=3:800",
            "db-down",
        ] {
            f.add(x.parse().unwrap());
        }
        let s = Scenario::plan(&Params::new(3), &f).unwrap();
        let c: Vec<&HostClock> = s.processes.iter().map(|p| &p.clock).collect();
        assert_eq!(
            (c[0].skew_us, c[0].drift_ppm, c[0].jitter_us),
            (1_500_000, -20.0, 3_000)
        );
        assert_eq!(
            (c[1].skew_us, c[1].drift_ppm, c[1].jitter_us),
            (-3_000_000, 10.0, 500)
        );
        assert_eq!(c[2].skew_us, 1_500_000);
        let p1 = &s.processes[0];
        assert_eq!(
            c[0].steps,
            vec![(p1.start + frac(p1.end - p1.start, 0.4), -2_100_000)]
        );
        assert!(c[1].steps.is_empty());
        let p3 = &s.processes[2];
        assert_eq!(
            c[2].steps,
            vec![(p3.start + frac(p3.end - p3.start, 0.5), 800_000)]
        );
        // The database is down for the process that starts last: the second, not the
        // overlap's third.
        let down: Vec<bool> = s.processes.iter().map(|p| p.db_down).collect();
        assert_eq!(down, vec![false, true, false]);

        let mut f = Faults::default();
        f.add("host-clock=4:100".parse().unwrap());
        let e = Scenario::plan(&Params::new(3), &f).unwrap_err();
        assert!(e.to_string().contains("no process 4"), "{e}");
        // A step a few seconds from a process's end is refused.
        let mut f = Faults::default();
        f.add("ntp-step=900@0.999".parse().unwrap());
        assert!(Scenario::plan(&Params::new(3), &f).is_err());
    }

    #[test]
    fn impossible_scenarios_are_refused() {
        let mut p = Params::new(1);
        p.duration = Duration::minutes(5);
        assert!(Scenario::plan(&p, &Faults::default()).is_err());
        let mut p = Params::new(1);
        p.rate_per_min = 0.0;
        assert!(Scenario::plan(&p, &Faults::default()).is_err());
    }
}
