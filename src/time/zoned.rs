//! A zone and where it came from: what every source's reading is placed with, and what every
//! output says it applied.

use std::fmt;

use serde::Serialize;

use super::Zone;

/// Where a clock's zone came from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Provenance {
    /// The user said so: a flag or the config file.
    Given { by: String },
    /// Estimated from anchors in the data.
    Detected {
        anchors: usize,
        spread_ms: f64,
        detail: String,
    },
    /// Taken from the other log files of the same host (no twins of its own): the files it
    /// was taken from, and why they are trusted.
    Borrowed { from: Vec<String>, why: String },
    /// Nobody said and nothing was detected: a guess, shown loudly. A log file read on an
    /// assumed clock is not judged (`clock_unsettled`).
    Assumed { why: String },
    /// `--no-align`: log times read as if written in the display zone, the way a person
    /// comparing psql output with a log file by eye reads them.
    Unaligned,
    /// The PostgreSQL server's `TimeZone` setting: what psql showed the user.
    Server { setting: String, source: String },
    /// The offset written inside the snapshot's `created_at` text.
    Snapshot,
    /// The values are absolute (`timestamptz`); no zone is needed to place them.
    Absolute,
}

impl Provenance {
    pub fn is_assumed(&self) -> bool {
        matches!(self, Provenance::Assumed { .. })
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provenance::Given { by } => write!(f, "given by {by}"),
            Provenance::Detected {
                anchors,
                spread_ms,
                detail,
            } => {
                write!(
                    f,
                    "detected from {anchors} anchors, spread ±{spread_ms:.1} ms, {detail}"
                )
            }
            Provenance::Borrowed { from, why } => {
                write!(f, "borrowed from {} ({why})", from.join(", "))
            }
            Provenance::Assumed { why } => write!(f, "ASSUMED: {why}"),
            Provenance::Unaligned => {
                f.write_str("NOT ALIGNED (--no-align): read as if written in the display zone")
            }
            Provenance::Server { setting, source } => {
                write!(f, "server TimeZone = {setting} ({source})")
            }
            Provenance::Snapshot => f.write_str("offset written in the snapshot"),
            Provenance::Absolute => f.write_str("absolute (timestamptz)"),
        }
    }
}

/// A zone with its provenance: how a source's naive readings are read (the DB's display
/// zone, a naive `created_at`'s zone), or a log file's zone before its clock is modelled.
#[derive(Debug, Clone, PartialEq)]
pub struct Zoned {
    pub zone: Zone,
    pub provenance: Provenance,
}

impl Zoned {
    pub fn new(zone: Zone, provenance: Provenance) -> Zoned {
        Zoned { zone, provenance }
    }
}
