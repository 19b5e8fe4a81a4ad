//! The faults a scenario can carry, and their `--fault` spellings. Counted faults (lost
//! lines, lost batches, duplicates) are injected while generating (`inject`); structural ones
//! (overlap, ghost writer, skewed or changing host clocks) shape the processes
//! (`Scenario::plan`).

use std::fmt;
use std::str::FromStr;

use chrono::FixedOffset;

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
        v
    }
}

impl FromStr for Fault {
    type Err = String;

    /// `lost-log-lines=5`, `lost-db-batch[=1]`, `duplicates=3`, `overlap`, `ghost-writer`,
    /// `skewed-host=+05:30`, `offset-change[=+05:00]`.
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
            other => Err(format!(
                "unknown fault `{other}`; expected lost-log-lines=N, lost-db-batch=N, duplicates=N, overlap, ghost-writer, skewed-host=+HH:MM or offset-change[=+HH:MM]"
            )),
        }
    }
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
        ] {
            let f: Fault = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(f.to_string(), text);
        }
        for bad in ["lost-log-lines=x", "overlap=2", "skewed-host=5", "rain"] {
            assert!(bad.parse::<Fault>().is_err(), "{bad}");
        }
    }
}
