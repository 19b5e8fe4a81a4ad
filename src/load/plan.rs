//! The read plan: how each log file's first pass reads it and whether a check goes in time
//! slices, decided once, before anything is read, from the question, the files' sizes and the
//! [`Tuning`]. This is the one place that knows the sizes at which `audit` reads differently.
//!
//! - A window or a signal (not both) over a file of at least twice [`Tuning::sample_bytes`]:
//!   its first pass keeps every n-th event (n = size / sample_bytes, so a file of any size keeps
//!   about as many for clock detection), and a plain file is searched rather than parsed; what
//!   the question selects is read back afterwards, so memory follows the question.
//! - A check over more than [`Tuning::slice_bytes`] of logs read with PostgreSQL (or no events
//!   source) goes in slices of [`Tuning::slice_us`] over one shared first pass, which samples
//!   every plain file at one rate from their total size (`.gz` files keep every event: a gzip
//!   stream cannot be entered midway to read a slice's events back).

use std::path::PathBuf;

use crate::error::AuditError;
use crate::source::logs::{self, Pass, Take};
use crate::timeline::FilterSpec;

use super::sources::{EventsSpec, SourcePlan};

/// The sizes at which `audit` reads differently. The defaults are here; settings.rs takes
/// `AUDIT_SAMPLE_BYTES`, `AUDIT_SEEK` and `AUDIT_SLICE_MINUTES` from the environment (the tests
/// use them to take the big-file paths on small files).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// Files of at least twice this are sampled on a windowed or signal question's first pass.
    pub sample_bytes: u64,
    /// Search big plain files instead of parsing them (sampled).
    pub seek: bool,
    /// A check over more log bytes than this goes in time slices.
    pub slice_bytes: u64,
    /// The length of a slice.
    pub slice_us: i64,
    /// Slices of this length whatever the size (`Some(0)`: never slice).
    pub forced_slice_us: Option<i64>,
}

impl Default for Tuning {
    fn default() -> Tuning {
        Tuning {
            sample_bytes: 64 << 20,
            seek: true,
            slice_bytes: 1 << 30,
            slice_us: 6 * 3600 * 1_000_000,
            forced_slice_us: None,
        }
    }
}

/// What a load is asked, beside the sources.
#[derive(Debug, Clone, Default)]
pub struct Question {
    pub filter: FilterSpec,
    /// Read log times in the display zone (`--no-align`).
    pub no_align: bool,
    /// What is loaded around the window (checks need the twins just outside it to judge the
    /// rows inside it).
    pub margin_us: i64,
    /// The plain messages the filter selects are wanted (timeline, export): all of them without
    /// a window or signal, else those read back. Checks want none.
    pub messages: bool,
}

/// How every log file is read.
#[derive(Debug, Clone)]
pub struct ReadPlan {
    pub paths: Vec<PathBuf>,
    /// One per path.
    pub passes: Vec<Pass>,
    /// Their size on disk (gzip: compressed).
    pub bytes: u64,
}

impl ReadPlan {
    /// The plan of one load of `sources` for `q`; `sliced`: the shared first pass of a
    /// time-sliced check.
    pub fn new(
        sources: &SourcePlan,
        q: &Question,
        tuning: &Tuning,
        sliced: bool,
    ) -> Result<ReadPlan, AuditError> {
        let paths = logs::discover(&sources.logs)?;
        let sizes: Vec<u64> = paths.iter().map(|p| size_of(p)).collect();
        let total: u64 = sizes.iter().sum();
        let f = &q.filter;
        // Plain messages only ever match a window or a signal (they carry no symbol, position
        // or correlation): without those filters a timeline shows all of them, checks none.
        let filters_messages = f.window.is_some() || f.signal.is_some();
        let take = match q.messages && !filters_messages {
            true => Take::EVERYTHING,
            false => Take::STRUCTURED,
        };
        // A window or a signal, not both: one short question.
        let short = f.window.is_some() != f.signal.is_some();
        let unit = tuning.sample_bytes.max(1);
        let passes = paths
            .iter()
            .zip(&sizes)
            .map(|(path, &size)| {
                let gzip = is_gzip(path);
                let basis = match (sliced, gzip) {
                    (true, true) => 0,
                    (true, false) => total,
                    (false, _) if short => size,
                    (false, _) => 0,
                };
                let every = u32::try_from(basis / unit).unwrap_or(u32::MAX);
                if take.messages || every < 2 {
                    Pass::Parse(take)
                } else if !sliced && short && !gzip && tuning.seek {
                    Pass::Search { unit, every }
                } else {
                    Pass::Parse(Take::sampled(every))
                }
            })
            .collect();
        Ok(ReadPlan {
            paths,
            passes,
            bytes: total,
        })
    }

    /// The length of a slice, when a check over `sources` (no window) runs in slices: logs over
    /// [`Tuning::slice_bytes`] read with PostgreSQL, or with no events source (a snapshot file is
    /// read whole by polars anyway); or what `forced_slice_us` says.
    pub fn slice_length(sources: &SourcePlan, tuning: &Tuning) -> Result<Option<i64>, AuditError> {
        if let Some(len) = tuning.forced_slice_us {
            return Ok((len > 0).then_some(len));
        }
        if matches!(sources.events, EventsSpec::File(..)) {
            return Ok(None);
        }
        let bytes: u64 = logs::discover(&sources.logs)?
            .iter()
            .map(|p| size_of(p))
            .sum();
        Ok((bytes > tuning.slice_bytes).then_some(tuning.slice_us))
    }
}

fn size_of(p: &std::path::Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

fn is_gzip(p: &std::path::Path) -> bool {
    p.extension().is_some_and(|e| e == "gz")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sizes at which audit reads differently, at those sizes (sparse files: no disk is
    /// written): `cargo test` otherwise takes these paths only through lowered `AUDIT_*`
    /// values, so a changed default or an off-by-one at the edge would pass it.
    #[test]
    fn the_production_thresholds_decide_at_their_real_sizes() {
        let t = Tuning::default();
        assert_eq!(
            (t.sample_bytes, t.seek, t.slice_bytes, t.slice_us),
            (64 << 20, true, 1 << 30, 6 * 3600 * 1_000_000),
            "docs/config.md and docs/reliability.md state these defaults"
        );
        assert_eq!(t.forced_slice_us, None);
        let dir = tempfile::tempdir().unwrap();
        let sized = |name: &str, len: u64| {
            let p = dir.path().join(name);
            std::fs::File::create(&p).unwrap().set_len(len).unwrap();
            p
        };
        let plan = |logs: Vec<PathBuf>| SourcePlan {
            events: EventsSpec::None,
            logs,
            log_rules: Vec::new(),
            level_rules: Vec::new(),
            display_tz: None,
        };
        // A check slices over more than 1 GiB of logs, not at 1 GiB.
        let at = plan(vec![sized("at.log", 1 << 30)]);
        assert_eq!(ReadPlan::slice_length(&at, &t).unwrap(), None);
        let over = plan(vec![sized("over.log", (1 << 30) + 1)]);
        assert_eq!(
            ReadPlan::slice_length(&over, &t).unwrap(),
            Some(6 * 3600 * 1_000_000)
        );
        // A signal's first pass searches a plain file of twice 64 MiB, parses one a byte
        // smaller whole; with AUDIT_SEEK=0 the big one is parsed, sampled 1 in 2.
        let q = Question {
            filter: FilterSpec {
                signal: Some(4869992),
                ..FilterSpec::default()
            },
            ..Question::default()
        };
        let files = plan(vec![
            sized("big.log", 128 << 20),
            sized("small.log", (128 << 20) - 1),
        ]);
        let p = ReadPlan::new(&files, &q, &t, false).unwrap();
        assert_eq!(
            p.passes,
            vec![
                Pass::Search {
                    unit: 64 << 20,
                    every: 2
                },
                Pass::Parse(Take::STRUCTURED)
            ]
        );
        let parse = Tuning { seek: false, ..t };
        let p = ReadPlan::new(&files, &q, &parse, false).unwrap();
        assert_eq!(p.passes[0], Pass::Parse(Take::sampled(2)));
    }
}
