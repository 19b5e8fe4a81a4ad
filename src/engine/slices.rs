//! Every check over a long range, in time slices over one shared first pass of the logs:
//! memory follows the slice, the findings are those of one pass.

use polars::prelude::DataFrame;

use super::{Checked, MARGIN_US, Request, check_loaded};
use crate::checks::matching::Matching;
use crate::checks::{self, Finding};
use crate::error::AuditError;
use crate::load::{self, Question, ReadPlan};
use crate::time::{UtcRange, WindowSpec};
use crate::timeline::{ClockEntry, FilterSpec, Timeline, View};

/// Every check over a long range in memory that follows the slice, not the range: the logs are
/// read once (sampled) and the clocks decided once for the whole run; then each slice of `len`
/// loads its own DB rows and reads back its own log events (with the checks' margin around
/// it), and is checked like a `--since/--until` run. The findings are those of one pass over
/// the whole range: each is reported by the slice its time falls in, and runs of rows that
/// cross a slice edge are joined ([`checks::join_runs`]).
pub(super) fn run_sliced(
    req: &Request,
    filter: &FilterSpec,
    range: Option<(i64, i64)>,
    len: i64,
) -> anyhow::Result<Checked> {
    let plan = &req.sources;
    let no_align = req.no_align;
    let margin = MARGIN_US;
    let mut reuse = load::Reuse::default();
    // The first load reads the logs (sampled) and decides the clocks; its window holds nothing.
    let at = |us: i64| chrono::DateTime::from_timestamp_micros(us).unwrap_or_default();
    let probe = FilterSpec {
        window: Some(WindowSpec::absolute(at(0), at(1))),
        ..filter.clone()
    };
    let probe = Question {
        filter: probe,
        no_align,
        margin_us: 0,
        messages: false,
    };
    let read = ReadPlan::new(plan, &probe, &req.tuning, true)?;
    let mut first = load::load_with(plan, &probe, &read, Some(&mut reuse))?;
    let span = [first.db_span(), first.logs_span()]
        .into_iter()
        .flatten()
        .reduce(|a, b| (a.0.min(b.0), a.1.max(b.1)));
    // Its logs are the first pass (moved, not copied: a week's typed lines are ~0.4 GB).
    reuse.keep_logs(std::mem::take(&mut first.logs));
    load::settle_clocks(&mut reuse, plan, &first, no_align)?;
    // Processes once, from the whole first pass (their lock, end, lock trouble and flush lines
    // are typed lines, never sampled), over the range and its margin as one pass sees them:
    // whichever slice a process starts or ends in, every slice judges rows against the same.
    let procs = match reuse.first_pass() {
        Some((mut logs, clocks)) => {
            // Copies count once here too (the first pass's events are sampled: only typed
            // lines tell where a copy ends).
            let copies = load::copies::find(&logs, None, false);
            copies.apply(&mut logs);
            let mut coverage = load::coverage_of(&logs, &clocks);
            copies.mark(&mut coverage);
            let frame = crate::timeline::Filter {
                window: range.map(|(s, e)| UtcRange {
                    start: at(s.saturating_sub(margin)),
                    end: at(e.saturating_add(margin)),
                }),
                ..crate::timeline::Filter::default()
            };
            let t = Timeline::build(None, logs, &clocks, &frame)?;
            checks::lifetimes::processes(&View::new(&t)?, &coverage)
        }
        None => Vec::new(),
    };
    let mut findings: Vec<Finding> = Vec::new();
    drop(first);
    let (lo, hi) = match (span, range) {
        (Some((a, b)), Some((s, e))) => (a.max(s), (b + 1).min(e)),
        (Some((a, b)), None) => (a, b + 1),
        (None, Some((s, e))) => (s, e),
        (None, None) => (0, 1),
    };
    // The slices read back about every byte once more: a bar over the files' size.
    if read.bytes > 256 << 20 {
        crate::progress::start(read.bytes, "checking");
    }
    let mut last: Option<Checked> = None;
    let mut aligned: Option<checks::missing::Summary> = None;
    let mut clocks: Vec<ClockEntry> = Vec::new();
    let mut db_rows = 0usize;
    let mut start = lo;
    while start < hi.max(lo + 1) {
        let end = start.saturating_add(len).min(hi.max(lo + 1));
        let one = FilterSpec {
            window: Some(WindowSpec::absolute(at(start), at(end))),
            ..filter.clone()
        };
        let one = Question {
            filter: one,
            no_align,
            margin_us: margin,
            messages: false,
        };
        let loaded = load::load_with(plan, &one, &read, Some(&mut reuse))?;
        let mut c = check_loaded(req, loaded, false, Some(&procs))?;
        findings.append(&mut c.findings);
        db_rows += c.aligned.total.db_rows;
        aligned = Some(match aligned {
            None => c.aligned.clone(),
            Some(a) => checks::missing::add(a, &c.aligned),
        });
        merge_clocks(&mut clocks, &c.prepared.timeline.clocks);
        last = Some(c);
        start = end;
    }
    crate::progress::finish();
    let Some(mut checked) = last else {
        return Err(AuditError::usage("internal: a sliced check ran no slice").into());
    };
    let mut findings = checks::missing::join_level_filtered(checks::join_runs(findings));
    // A finding two slices both saw (a clock change is found from the first row after its line
    // that a slice holds): once, at its earliest time.
    findings.sort_by(|a, b| {
        a.fingerprint
            .cmp(&b.fingerprint)
            .then(a.at_us.cmp(&b.at_us))
    });
    findings.dedup_by(|b, a| a.fingerprint == b.fingerprint);
    checked.findings = findings;
    if let Some(a) = aligned {
        checked.aligned = a;
    }
    // What the renderers read of the timeline: its sources and clocks, for the whole range. Its
    // rows were the last slice's; they are not kept.
    let t = &mut checked.prepared.timeline;
    t.frame = DataFrame::empty();
    t.clocks = clocks;
    if let Some(e) = t.sources.events.as_mut() {
        e.rows = db_rows;
    }
    checked.matching = Matching::default();
    checked.prepared.loaded_meta.filter.window = range.map(|(s, e)| UtcRange {
        start: at(s),
        end: at(e),
    });
    Ok(checked)
}

/// The clock entries of one more slice: the offsets each source applied there are added.
fn merge_clocks(into: &mut Vec<ClockEntry>, more: &[ClockEntry]) {
    for e in more {
        match into
            .iter_mut()
            .find(|x| x.source == e.source && x.role == e.role)
        {
            Some(x) => {
                for o in &e.offsets {
                    if !x.offsets.contains(o) {
                        x.offsets.push(o.clone());
                    }
                }
            }
            None => into.push(e.clone()),
        }
    }
}
