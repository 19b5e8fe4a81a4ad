//! What a time-sliced run carries from one slice's load to the next.

use crate::clock::SourceClock;
use crate::clock::skew::DbTwins;
use crate::rows::Kind;
use crate::source::logs::LogFile;
use crate::time::UtcRange;
use crate::timeline::align;

use super::clocks::ClockDecision;

/// What a time-sliced run carries from one slice's load to the next: the first pass over the
/// logs (every file read once, sampled), the DB anchors, and the clocks, decided once for the
/// whole run ([`super::settle_clocks`]) so every slice places its rows the same way.
#[derive(Default)]
pub struct Reuse {
    /// The logs' first pass (each load places its rows on UTC again).
    pub(super) logs: Option<Vec<LogFile>>,
    pub(super) twins: Option<DbTwins>,
    pub(super) decisions: Option<Vec<ClockDecision>>,
}

impl Reuse {
    /// Keeps the first load's logs (the first pass) for the loads after it.
    pub fn keep_logs(&mut self, logs: Vec<LogFile>) {
        self.logs = Some(logs);
    }

    /// What a load of `window` needs of the first pass: once the clocks are settled, only the
    /// rows that land in it, and the lock lines (a file's stretches per PID); the marks whole.
    pub(super) fn logs_for(&self, window: &Option<UtcRange>) -> Option<Vec<LogFile>> {
        let logs = self.logs.as_ref()?;
        let (Some(decisions), Some(w)) = (self.decisions.as_ref(), window) else {
            return Some(logs.clone());
        };
        let (lo, hi) = (w.start.timestamp_micros(), w.end.timestamp_micros());
        Some(
            logs.iter()
                .zip(decisions)
                .map(|(l, d)| {
                    let c = &l.chunk;
                    let keep: Vec<bool> = (0..c.len())
                        .map(|i| {
                            let t = d.clock.utc(c.ts_local[i], c.line[i].unwrap_or(0));
                            c.kind[i] == Kind::LockAcquired || (lo <= t && t < hi)
                        })
                        .collect();
                    LogFile {
                        info: l.info.clone(),
                        chunk: c.select(&keep),
                        marks: l.marks.clone(),
                        first_ts: l.first_ts,
                        last_ts: l.last_ts,
                        complete: l.complete,
                        sampled: l.sampled,
                    }
                })
                .collect(),
        )
    }

    /// The clocks [`super::settle_clocks`] decided.
    pub fn decisions(&self) -> &[ClockDecision] {
        self.decisions.as_deref().unwrap_or_default()
    }

    /// The shared first pass (every typed line, lifecycle events, sampled events), placed on
    /// UTC with the settled clocks, and those clocks.
    pub fn first_pass(&self) -> Option<(Vec<LogFile>, Vec<SourceClock>)> {
        let (logs, decisions) = (self.logs.as_ref()?, self.decisions.as_ref()?);
        let clocks: Vec<SourceClock> = decisions.iter().map(|d| d.clock.clone()).collect();
        let mut logs = logs.clone();
        for (l, c) in logs.iter_mut().zip(&clocks) {
            align(&mut l.chunk, c);
        }
        Some((logs, clocks))
    }
}
