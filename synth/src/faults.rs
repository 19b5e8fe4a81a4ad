//! The faults a scenario can carry, and their `--fault` spellings. Counted faults (lost
//! lines, lost batches, duplicates) and a database down are injected while generating
//! (`inject`); structural ones (overlap, ghost writer, skewed or changing host offsets, host
//! and DB clock errors, a process's logging level, a copy of the log losing a stretch) shape
//! the processes and the scenario (`Scenario::plan`).

use std::fmt;
use std::str::FromStr;

use chrono::FixedOffset;

use super::model::Level;
use super::timefmt::{format_offset, parse_offset};

/// Faults counted per scenario, injected while generating; the structural ones are kept
/// here too so a scenario can say what was injected.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Faults {
    /// DB rows whose log line is not written.
    pub lost_log_lines: usize,
    /// Flushes that fail: `EventLogger batch write failed` + traceback, rows never inserted.
    pub lost_db_batches: usize,
    /// The same event dict inserted twice, logged once.
    pub duplicates: usize,
    /// A second instance runs while the first is alive.
    pub overlap: bool,
    /// A writer without a log file: rows while no process is alive, and rows interleaved
    /// with a live one.
    pub ghost_writer: bool,
    /// The second process's host writes its log in this offset.
    #[serde(with = "opt_offset")]
    pub skewed_host: Option<FixedOffset>,
    /// The first process's host clock changes 60 % into its file…
    pub offset_change: bool,
    /// …to this offset [default: one hour ahead of the host's].
    #[serde(with = "opt_offset")]
    pub offset_change_to: Option<FixedOffset>,
    /// Host clock errors, in order (a later one wins for the same process).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub host_clocks: Vec<HostClockFault>,
    /// NTP steps of host clocks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ntp_steps: Vec<NtpStep>,
    /// The DB server's clock error (it stamps `created_at`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub db_clock: Option<DbClockFault>,
    /// The database refuses every insert of the process that starts last.
    #[serde(default, skip_serializing_if = "is_false")]
    pub db_down: bool,
    /// Processes started with `LOG_LEVEL` set (a later one wins for the same process).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub log_levels: Vec<LogLevelFault>,
    /// Stretches the tee copy (`monitoring_logs/bot_*.log`) lost and the handler copy kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub copy_gaps: Vec<CopyGapFault>,
    /// Stretches the handler copy (`logs/trading_bot.log*`) lost and the tee copy kept.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handler_gaps: Vec<CopyGapFault>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// `host-clock=[N:]SKEW_MS[,DRIFT_PPM[,JITTER_MS]]`: process N's host clock (every
/// process's without N) is SKEW_MS off at the process's start and drifts DRIFT_PPM; its log
/// lines trail their rows by 0..JITTER_MS [default: 3].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HostClockFault {
    /// 1-based, as `Scenario::processes` lists them; none: every process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<usize>,
    pub skew_ms: f64,
    #[serde(default)]
    pub drift_ppm: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_ms: Option<f64>,
}

/// `ntp-step=[N:]MS[@FRACTION]`: process N's host clock (the first's without N) jumps by MS
/// (negative: back) at FRACTION of its life [default: 0.5].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NtpStep {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<usize>,
    pub ms: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<f64>,
}

/// `log-level=[N:]LEVEL`: process N (every process without N) runs with `LOG_LEVEL=LEVEL`:
/// its records below LEVEL are written to neither copy of its log.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LogLevelFault {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<usize>,
    pub level: Level,
}

/// `copy-gap=[N:]MINUTES[@FRACTION]` / `handler-gap=[N:]MINUTES[@FRACTION]`: one copy of
/// process N's log (the first's without N) lacks MINUTES of its records from FRACTION of its
/// life [default: 0.5]; the other copy has them.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CopyGapFault {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<usize>,
    pub minutes: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<f64>,
}

/// `db-clock=SKEW_MS[,DRIFT_PPM]`: the DB server's clock is SKEW_MS off at the scenario's
/// start and drifts DRIFT_PPM.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DbClockFault {
    pub skew_ms: f64,
    #[serde(default)]
    pub drift_ppm: f64,
}

mod opt_offset {
    use chrono::FixedOffset;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(o: &Option<FixedOffset>, s: S) -> Result<S::Ok, S::Error> {
        match o {
            Some(o) => s.serialize_str(&super::format_offset(*o)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<FixedOffset>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        s.map(|t| {
            super::parse_offset(&t)
                .ok_or_else(|| serde::de::Error::custom(format!("bad offset `{t}`")))
        })
        .transpose()
    }
}

/// One `--fault` value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    LostLogLines(usize),
    LostDbBatch(usize),
    Duplicates(usize),
    Overlap,
    GhostWriter,
    SkewedHost(FixedOffset),
    OffsetChange(Option<FixedOffset>),
    HostClock(HostClockFault),
    NtpStep(NtpStep),
    DbClock(DbClockFault),
    DbDown,
    LogLevel(LogLevelFault),
    CopyGap(CopyGapFault),
    HandlerGap(CopyGapFault),
}

impl Faults {
    pub fn add(&mut self, f: Fault) {
        match f {
            Fault::LostLogLines(n) => self.lost_log_lines += n,
            Fault::LostDbBatch(n) => self.lost_db_batches += n,
            Fault::Duplicates(n) => self.duplicates += n,
            Fault::Overlap => self.overlap = true,
            Fault::GhostWriter => self.ghost_writer = true,
            Fault::SkewedHost(o) => self.skewed_host = Some(o),
            Fault::OffsetChange(o) => {
                self.offset_change = true;
                self.offset_change_to = o;
            }
            Fault::HostClock(h) => self.host_clocks.push(h),
            Fault::NtpStep(st) => self.ntp_steps.push(st),
            Fault::DbClock(d) => self.db_clock = Some(d),
            Fault::DbDown => self.db_down = true,
            Fault::LogLevel(l) => self.log_levels.push(l),
            Fault::CopyGap(g) => self.copy_gaps.push(g),
            Fault::HandlerGap(g) => self.handler_gaps.push(g),
        }
    }

    /// Short names of what is injected, for reports.
    pub fn names(&self) -> Vec<String> {
        let mut v = Vec::new();
        let mut n = |name: &str, k: usize| {
            if k > 0 {
                v.push(format!("{name}={k}"));
            }
        };
        n("lost-log-lines", self.lost_log_lines);
        n("lost-db-batch", self.lost_db_batches);
        n("duplicates", self.duplicates);
        if self.overlap {
            v.push("overlap".into());
        }
        if self.ghost_writer {
            v.push("ghost-writer".into());
        }
        if let Some(o) = self.skewed_host {
            v.push(format!("skewed-host={}", format_offset(o)));
        }
        match (self.offset_change, self.offset_change_to) {
            (true, Some(o)) => v.push(format!("offset-change={}", format_offset(o))),
            (true, None) => v.push("offset-change".into()),
            _ => {}
        }
        for h in &self.host_clocks {
            v.push(Fault::HostClock(*h).to_string());
        }
        for st in &self.ntp_steps {
            v.push(Fault::NtpStep(*st).to_string());
        }
        if let Some(d) = self.db_clock {
            v.push(Fault::DbClock(d).to_string());
        }
        if self.db_down {
            v.push("db-down".into());
        }
        for l in &self.log_levels {
            v.push(Fault::LogLevel(*l).to_string());
        }
        for g in &self.copy_gaps {
            v.push(Fault::CopyGap(*g).to_string());
        }
        for g in &self.handler_gaps {
            v.push(Fault::HandlerGap(*g).to_string());
        }
        v
    }
}

impl FromStr for Fault {
    type Err = String;

    /// `lost-log-lines=5`, `lost-db-batch[=1]`, `duplicates=3`, `overlap`, `ghost-writer`,
    /// `skewed-host=+05:30`, `offset-change[=+05:00]`, `host-clock=[N:]SKEW_MS[,DRIFT_PPM[,JITTER_MS]]`,
    /// `ntp-step=[N:]MS[@FRACTION]`, `db-clock=SKEW_MS[,DRIFT_PPM]`, `db-down`,
    /// `log-level=[N:]LEVEL`, `copy-gap=[N:]MINUTES[@FRACTION]`,
    /// `handler-gap=[N:]MINUTES[@FRACTION]`.
    fn from_str(s: &str) -> Result<Fault, String> {
        let (name, value) = match s.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (s.trim(), None),
        };
        let count = |default: usize| -> Result<usize, String> {
            match value {
                None => Ok(default),
                Some(v) => v
                    .parse()
                    .map_err(|_| format!("--fault {name}: `{v}` is not a count")),
            }
        };
        let offset = |v: &str| {
            parse_offset(v).ok_or_else(|| {
                format!("--fault {name}: `{v}` is not a UTC offset (expected like +05:30)")
            })
        };
        let no_value = |f: Fault| match value {
            None => Ok(f),
            Some(v) => Err(format!("--fault {name} takes no value (got `{v}`)")),
        };
        match name {
            "lost-log-lines" => Ok(Fault::LostLogLines(count(5)?)),
            "lost-db-batch" | "lost-db-batches" => Ok(Fault::LostDbBatch(count(1)?)),
            "duplicates" => Ok(Fault::Duplicates(count(3)?)),
            "overlap" => no_value(Fault::Overlap),
            "ghost-writer" => no_value(Fault::GhostWriter),
            "skewed-host" => Ok(Fault::SkewedHost(offset(value.unwrap_or("+05:30"))?)),
            "offset-change" => Ok(Fault::OffsetChange(value.map(offset).transpose()?)),
            "host-clock" => host_clock(value.unwrap_or_default()).map(Fault::HostClock),
            "ntp-step" => ntp_step(value.unwrap_or_default()).map(Fault::NtpStep),
            "db-clock" => db_clock(value.unwrap_or_default()).map(Fault::DbClock),
            "db-down" => no_value(Fault::DbDown),
            "log-level" => log_level(value.unwrap_or_default()).map(Fault::LogLevel),
            "copy-gap" => copy_gap(name, value.unwrap_or_default()).map(Fault::CopyGap),
            "handler-gap" => copy_gap(name, value.unwrap_or_default()).map(Fault::HandlerGap),
            other => Err(format!(
                "unknown fault `{other}`; expected lost-log-lines=N, lost-db-batch=N, duplicates=N, overlap, ghost-writer, skewed-host=+HH:MM, offset-change[=+HH:MM], host-clock=[N:]SKEW_MS[,DRIFT_PPM[,JITTER_MS]], ntp-step=[N:]MS[@FRACTION], db-clock=SKEW_MS[,DRIFT_PPM], db-down, log-level=[N:]LEVEL, copy-gap=[N:]MINUTES[@FRACTION] or handler-gap=[N:]MINUTES[@FRACTION]"
            )),
        }
    }
}

/// A finite number within ±`max`.
fn number(fault: &str, what: &str, text: &str, max: f64) -> Result<f64, String> {
    let t = text.trim();
    match t.parse::<f64>() {
        Ok(x) if x.is_finite() && x.abs() <= max => Ok(x),
        Ok(_) => Err(format!("--fault {fault}: {what} `{t}` is beyond ±{max}")),
        Err(_) => Err(format!("--fault {fault}: {what} `{t}` is not a number")),
    }
}

/// `N:` before a value: a process number (1-based).
fn process_prefix<'a>(fault: &str, v: &'a str) -> Result<(Option<usize>, &'a str), String> {
    match v.split_once(':') {
        None => Ok((None, v)),
        Some((n, rest)) => match n.trim().parse::<usize>() {
            Ok(k) if k >= 1 => Ok((Some(k), rest)),
            _ => Err(format!(
                "--fault {fault}: `{n}` is not a process number (1, 2, …)"
            )),
        },
    }
}

fn host_clock(v: &str) -> Result<HostClockFault, String> {
    const F: &str = "host-clock";
    let (process, rest) = process_prefix(F, v)?;
    let parts: Vec<&str> = rest.split(',').collect();
    if parts.len() > 3 || rest.trim().is_empty() {
        return Err(format!(
            "--fault {F}: expected [N:]SKEW_MS[,DRIFT_PPM[,JITTER_MS]] (got `{v}`)"
        ));
    }
    let skew_ms = number(F, "skew (ms)", parts[0], 86_400_000.0)?;
    let drift_ppm = parts
        .get(1)
        .map(|p| number(F, "drift (ppm)", p, 1000.0))
        .transpose()?
        .unwrap_or(0.0);
    let jitter_ms = parts
        .get(2)
        .map(|p| number(F, "jitter (ms)", p, 1000.0))
        .transpose()?;
    if jitter_ms.is_some_and(|j| j < 0.0) {
        return Err(format!("--fault {F}: a jitter cannot be negative"));
    }
    Ok(HostClockFault {
        process,
        skew_ms,
        drift_ppm,
        jitter_ms,
    })
}

fn ntp_step(v: &str) -> Result<NtpStep, String> {
    const F: &str = "ntp-step";
    let (process, rest) = process_prefix(F, v)?;
    let (ms, at) = match rest.split_once('@') {
        Some((m, a)) => (m, Some(a)),
        None => (rest, None),
    };
    if ms.trim().is_empty() {
        return Err(format!(
            "--fault {F}: expected [N:]MS[@FRACTION] (got `{v}`)"
        ));
    }
    let ms = number(F, "step (ms)", ms, 3_600_000.0)?;
    if ms == 0.0 {
        return Err(format!("--fault {F}: a step of 0 ms"));
    }
    let at = at.map(|a| number(F, "fraction", a, 1.0)).transpose()?;
    if at.is_some_and(|a| a <= 0.0 || a >= 1.0) {
        return Err(format!(
            "--fault {F}: the fraction of the process's life must be between 0 and 1"
        ));
    }
    Ok(NtpStep { process, ms, at })
}

fn log_level(v: &str) -> Result<LogLevelFault, String> {
    const F: &str = "log-level";
    let (process, rest) = process_prefix(F, v)?;
    let level = Level::parse(rest).ok_or_else(|| {
        format!(
            "--fault {F}: expected [N:]LEVEL, LEVEL one of DEBUG, INFO, WARNING, ERROR (got `{v}`)"
        )
    })?;
    Ok(LogLevelFault { process, level })
}

/// `[N:]MINUTES[@FRACTION]` of `copy-gap` and `handler-gap`.
fn copy_gap(fault: &str, v: &str) -> Result<CopyGapFault, String> {
    let (process, rest) = process_prefix(fault, v)?;
    let (minutes, at) = match rest.split_once('@') {
        Some((m, a)) => (m, Some(a)),
        None => (rest, None),
    };
    if minutes.trim().is_empty() {
        return Err(format!(
            "--fault {fault}: expected [N:]MINUTES[@FRACTION] (got `{v}`)"
        ));
    }
    let minutes = number(fault, "length (minutes)", minutes, 44_640.0)?;
    if minutes <= 0.0 {
        return Err(format!(
            "--fault {fault}: the length must be more than 0 minutes"
        ));
    }
    let at = at.map(|a| number(fault, "fraction", a, 1.0)).transpose()?;
    if at.is_some_and(|a| a <= 0.0 || a >= 1.0) {
        return Err(format!(
            "--fault {fault}: the fraction of the process's life must be between 0 and 1"
        ));
    }
    Ok(CopyGapFault {
        process,
        minutes,
        at,
    })
}

fn db_clock(v: &str) -> Result<DbClockFault, String> {
    const F: &str = "db-clock";
    let parts: Vec<&str> = v.split(',').collect();
    if parts.len() > 2 || v.trim().is_empty() {
        return Err(format!(
            "--fault {F}: expected SKEW_MS[,DRIFT_PPM] (got `{v}`)"
        ));
    }
    Ok(DbClockFault {
        skew_ms: number(F, "skew (ms)", parts[0], 86_400_000.0)?,
        drift_ppm: parts
            .get(1)
            .map(|p| number(F, "drift (ppm)", p, 1000.0))
            .transpose()?
            .unwrap_or(0.0),
    })
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::LostLogLines(n) => write!(f, "lost-log-lines={n}"),
            Fault::LostDbBatch(n) => write!(f, "lost-db-batch={n}"),
            Fault::Duplicates(n) => write!(f, "duplicates={n}"),
            Fault::Overlap => f.write_str("overlap"),
            Fault::GhostWriter => f.write_str("ghost-writer"),
            Fault::SkewedHost(o) => write!(f, "skewed-host={}", format_offset(*o)),
            Fault::OffsetChange(Some(o)) => write!(f, "offset-change={}", format_offset(*o)),
            Fault::OffsetChange(None) => f.write_str("offset-change"),
            Fault::HostClock(h) => {
                f.write_str("host-clock=")?;
                if let Some(n) = h.process {
                    write!(f, "{n}:")?;
                }
                write!(f, "{}", h.skew_ms)?;
                if h.drift_ppm != 0.0 || h.jitter_ms.is_some() {
                    write!(f, ",{}", h.drift_ppm)?;
                }
                if let Some(j) = h.jitter_ms {
                    write!(f, ",{j}")?;
                }
                Ok(())
            }
            Fault::NtpStep(st) => {
                f.write_str("ntp-step=")?;
                if let Some(n) = st.process {
                    write!(f, "{n}:")?;
                }
                write!(f, "{}", st.ms)?;
                if let Some(a) = st.at {
                    write!(f, "@{a}")?;
                }
                Ok(())
            }
            Fault::DbClock(d) => {
                write!(f, "db-clock={}", d.skew_ms)?;
                if d.drift_ppm != 0.0 {
                    write!(f, ",{}", d.drift_ppm)?;
                }
                Ok(())
            }
            Fault::DbDown => f.write_str("db-down"),
            Fault::LogLevel(l) => {
                f.write_str("log-level=")?;
                if let Some(n) = l.process {
                    write!(f, "{n}:")?;
                }
                f.write_str(l.level.as_str())
            }
            Fault::CopyGap(g) | Fault::HandlerGap(g) => {
                f.write_str(if matches!(self, Fault::CopyGap(_)) {
                    "copy-gap="
                } else {
                    "handler-gap="
                })?;
                if let Some(n) = g.process {
                    write!(f, "{n}:")?;
                }
                write!(f, "{}", g.minutes)?;
                if let Some(a) = g.at {
                    write!(f, "@{a}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_values_parse_and_print() {
        for text in [
            "lost-log-lines=5",
            "lost-db-batch=1",
            "duplicates=3",
            "overlap",
            "ghost-writer",
            "skewed-host=+05:30",
            "offset-change=+05:00",
            "offset-change",
            "host-clock=7200",
            "host-clock=-3.5,12",
            "host-clock=2:7.2,-31,1.5",
            "host-clock=0,0,0",
            "ntp-step=-2100@0.4",
            "ntp-step=3:500",
            "db-clock=1300,-12",
            "db-clock=-800",
            "db-down",
            "log-level=WARNING",
            "log-level=2:ERROR",
            "log-level=DEBUG",
            "copy-gap=10",
            "copy-gap=2:2.5@0.3",
            "handler-gap=10@0.6",
        ] {
            let f: Fault = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(f.to_string(), text);
        }
        for bad in [
            "lost-log-lines=x",
            "overlap=2",
            "skewed-host=5",
            "rain",
            "host-clock",
            "host-clock=x",
            "host-clock=1,2,3,4",
            "host-clock=0:5",
            "host-clock=5,0,-1",
            "host-clock=5,2000",
            "ntp-step=0",
            "ntp-step=500@1.5",
            "ntp-step=500@0",
            "ntp-step=inf",
            "db-clock=",
            "db-clock=1,2,3",
            "db-down=1",
            "log-level",
            "log-level=LOUD",
            "log-level=CRITICAL",
            "log-level=0:INFO",
            "copy-gap",
            "copy-gap=0",
            "copy-gap=-3",
            "copy-gap=10@1",
            "handler-gap=x",
        ] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
        // WARN and any case are read as Python's getattr(logging, …) would.
        let f: Fault = "log-level=1:warn".parse().unwrap();
        assert_eq!(f.to_string(), "log-level=1:WARNING");
    }
}
