//! What to generate: a [`Scenario`] is the processes that ran (each one log file), the
//! periods a writer without a log file was inserting rows, and the [`Faults`] to inject.
//! [`Scenario::plan`] lays out the usual shape — two processes with a restart between them —
//! and turns the structural faults (overlap, ghost writer, skewed or changing host clocks)
//! into processes and periods; the counted faults (lost lines, lost batches, duplicates) are
//! injected while generating.

use chrono::{DateTime, Duration, FixedOffset, Utc};

use super::SynthError;
use super::faults::Faults;
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
}

impl Process {
    /// `bot_YYYYMMDD_HHMMSS.log`, from the start in the host's local time.
    pub fn file_name(&self) -> String {
        let local = self.start.with_timezone(&self.log_offset);
        format!("bot_{}.log", local.format("%Y%m%d_%H%M%S"))
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

impl Scenario {
    /// The usual shape: process 1 from the start until a clean restart, process 2 from the
    /// restart to the end (still running); then the structural faults:
    /// - overlap: a third process starts 30 % into process 1's life (finding process 1's
    ///   lock stale), runs up to 20 min alongside it, and is killed;
    /// - ghost writer: rows inside the restart gap and during a stretch of process 2;
    /// - skewed host: process 2's host writes its log in that offset;
    /// - offset change: process 1's host clock changes 60 % into its life.
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
            },
            Process {
                pid: next_pid(&mut rng),
                start: p2_start,
                end,
                log_offset: faults.skewed_host.unwrap_or(p.log_offset),
                offset_change: None,
                ending: Ending::Running,
                stale_lock: false,
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
        };
        s.validate()?;
        Ok(s)
    }

    pub fn end(&self) -> DateTime<Utc> {
        self.start + self.duration
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
        Ok(())
    }
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
