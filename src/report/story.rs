//! `audit explain`: the answer told as a story — clocks, the subject's path, the findings with
//! their causes, what is ruled out, what is open. Every step is built from what the engine
//! already found (its findings, processes, summaries and the aligned timeline) and carries its
//! evidence: DB ids, `file:line`, finding fingerprints. No second logic: a claim the engine did
//! not make is not told.

use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Value, json};

use rustc_hash::FxHashMap;

use crate::checks::lifetimes::Process;
use crate::checks::matching::Matching;
use crate::checks::missing::Summary;
use crate::checks::{Finding, FindingKind, LogRef, Severity};
use crate::engine::Checked;
use crate::time::{hm, hms};
use crate::timeline::{Timeline, View};

/// What the story is about, as located before the engine ran.
#[derive(Debug, Clone)]
pub struct Subject {
    /// How the user named it: `--signal 4869992`, `db:785194`, `bot_…log:909`.
    pub label: String,
    /// Its kind and value, for JSON: `{"signal": 4869992}`.
    pub json: Value,
    pub event_ids: BTreeSet<i64>,
    pub logs: BTreeSet<(String, u32)>,
    /// Its first and last instant (µs, UTC).
    pub first: i64,
    pub last: i64,
    /// The scope the engine was run over (µs, UTC).
    pub scope: (i64, i64),
    /// Rows of the neighbourhood that are the subject's too, whatever their source: those in
    /// this window, naming this signal or one of these positions, or with this correlation id
    /// (the log lines a DB-only search for the subject could not see).
    pub window: Option<(i64, i64)>,
    pub signal: Option<i64>,
    pub positions: BTreeSet<i64>,
    pub correlation: Option<String>,
}

impl Subject {
    /// A finding as a subject: its rows and lines, 10 minutes either side.
    pub fn of_finding(f: &Finding) -> Subject {
        const AROUND_US: i64 = 10 * 60 * 1_000_000;
        let event_ids: BTreeSet<i64> = f.event_id.iter().chain(&f.event_ids).copied().collect();
        let logs: BTreeSet<(String, u32)> = f
            .log
            .iter()
            .chain(&f.logs)
            .filter(|l| !l.copy)
            .map(|l| (l.file.clone(), l.line))
            .collect();
        Subject {
            label: format!("{} {}", f.kind, f.fingerprint),
            json: json!({ "fingerprint": f.fingerprint }),
            event_ids,
            logs,
            first: f.at_us,
            last: f.at_us,
            scope: (f.at_us - AROUND_US, f.at_us + AROUND_US),
            window: None,
            signal: None,
            positions: BTreeSet::new(),
            correlation: None,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub step: usize,
    pub kind: &'static str,
    pub text: String,
    pub event_ids: Vec<i64>,
    pub logs: Vec<LogRef>,
    pub fingerprints: Vec<String>,
}

/// What a story is told from: an engine run's answer.
#[derive(Clone, Copy)]
pub struct Parts<'a> {
    pub timeline: &'a Timeline,
    pub findings: &'a [Finding],
    pub matching: &'a Matching,
    pub processes: &'a [Process],
    pub aligned: &'a Summary,
    /// The naive reading's counts over the same rows (None: not told).
    pub naive: Option<&'a Summary>,
}

impl<'a> Parts<'a> {
    pub fn of(c: &'a Checked) -> Parts<'a> {
        Parts {
            timeline: &c.prepared.timeline,
            findings: &c.findings,
            matching: &c.matching,
            processes: &c.processes,
            aligned: &c.aligned,
            naive: c.naive.as_ref(),
        }
    }
}

/// The timeline's rows by DB id and by `file:line`, built once for many stories.
pub struct RowIndex {
    by_event: FxHashMap<i64, usize>,
    by_line: FxHashMap<(String, u32), usize>,
}

impl RowIndex {
    pub fn new(v: &View<'_>) -> RowIndex {
        let mut by_event = FxHashMap::default();
        let mut by_line = FxHashMap::default();
        for i in 0..v.len() {
            if v.s("source", i) == Some("db") {
                if let Some(id) = v.event_id.get(i) {
                    by_event.insert(id, i);
                }
            } else if let (Some(f), Some(l)) = (v.s("file", i), v.line.get(i)) {
                by_line.insert((f.to_string(), l), i);
            }
        }
        RowIndex { by_event, by_line }
    }

    /// The rows of `s`, in time order.
    fn rows(&self, s: &Subject, v: &View<'_>) -> Vec<usize> {
        let mut rows: Vec<usize> = s
            .event_ids
            .iter()
            .filter_map(|id| self.by_event.get(id).copied())
            .chain(s.logs.iter().filter_map(|k| self.by_line.get(k).copied()))
            .collect();
        let by_value = s.window.is_some()
            || s.signal.is_some()
            || !s.positions.is_empty()
            || s.correlation.is_some();
        if by_value {
            rows.extend((0..v.len()).filter(|&i| {
                let t = v.ts_utc.get(i).unwrap_or(0);
                let kept = v.s("source", i) == Some("db") || v.s("kind", i) != Some("message");
                kept && (s.window.is_some_and(|(a, b)| a <= t && t < b)
                    || (s.signal.is_some() && v.signal_id.get(i) == s.signal)
                    || v.position_id
                        .get(i)
                        .is_some_and(|p| s.positions.contains(&p))
                    || s.correlation.is_some()
                        && v.s("correlation_id", i) == s.correlation.as_deref())
            }));
        }
        rows.sort_by_key(|&i| (v.ts_utc.get(i).unwrap_or(0), i));
        rows.dedup();
        rows
    }
}

pub struct Story<'a> {
    pub subject: &'a Subject,
    pub steps: Vec<Step>,
    /// The findings in scope (the same contract and fingerprints as `check`).
    pub findings: Vec<&'a Finding>,
    pub timeline: &'a Timeline,
}

/// The hour and minute `offset` (`+03:00`, or `+04:00:05.120` for a clock off by seconds)
/// reads at `us`.
fn local_hm(us: i64, offset: &str) -> String {
    hm(us + crate::time::parse_offset_us(offset).unwrap_or(0))
}

fn touches(f: &Finding, s: &Subject) -> bool {
    f.event_id
        .iter()
        .chain(&f.event_ids)
        .any(|id| s.event_ids.contains(id))
        || f.log
            .iter()
            .chain(&f.logs)
            .any(|l| s.logs.contains(&(l.file.clone(), l.line)))
}

fn ids_of(f: &Finding) -> Vec<i64> {
    let mut ids: Vec<i64> = f.event_id.iter().chain(&f.event_ids).copied().collect();
    ids.dedup();
    ids
}

fn logs_of(f: &Finding) -> Vec<LogRef> {
    f.log
        .iter()
        .chain(&f.logs)
        .filter(|l| !l.copy)
        .cloned()
        .collect()
}

/// The cause a missing row's finding states, when it states one.
fn has_cause(f: &Finding) -> bool {
    let e = &f.explanation;
    e.contains("Event queue full")
        || e.contains("second copy")
        || e.contains("batch write failed")
        || e.contains("unattributed_activity")
        || e.contains("another writer")
}

impl<'a> Story<'a> {
    /// The story of one `explain` run.
    pub fn build(subject: &'a Subject, checked: &'a Checked) -> anyhow::Result<Story<'a>> {
        let parts = Parts::of(checked);
        let v = View::new(parts.timeline)?;
        let index = RowIndex::new(&v);
        Ok(Story::tell(subject, parts, &v, &index))
    }

    /// The story of `subject` from `parts` (the findings of its scope only).
    pub fn tell(
        subject: &'a Subject,
        parts: Parts<'a>,
        v: &View<'_>,
        index: &RowIndex,
    ) -> Story<'a> {
        let t = parts.timeline;
        let mut steps: Vec<Step> = Vec::new();
        let mut push = |kind: &'static str,
                        text: String,
                        event_ids: Vec<i64>,
                        logs: Vec<LogRef>,
                        fingerprints: Vec<String>| {
            let step = steps.len() + 1;
            steps.push(Step {
                step,
                kind,
                text,
                event_ids,
                logs,
                fingerprints,
            });
        };

        // 1. Clocks.
        let db = t
            .clocks
            .iter()
            .find(|c| c.source == "db" && c.role == "display");
        let logs: Vec<_> = t.clocks.iter().filter(|c| c.role == "log").collect();
        let db_off = db.and_then(|c| c.offsets.first().cloned());
        let mut clock = String::new();
        if let Some(c) = db {
            clock.push_str(&format!(
                "The DB's times are shown in {} ({})",
                db_off.as_deref().unwrap_or(&c.zone),
                c.provenance
            ));
        }
        let log_offs: BTreeSet<String> = logs
            .iter()
            .filter_map(|c| c.offsets.first().cloned())
            .collect();
        for c in &logs {
            if !clock.is_empty() {
                clock.push_str("; ");
            }
            let how = c.provenance.to_string();
            clock.push_str(&format!(
                "{} was written in {} ({})",
                c.source,
                c.offsets.join(", "),
                how.split(", ").next().unwrap_or(&how)
            ));
        }
        if let (Some(d), Some(l)) = (&db_off, log_offs.iter().next()) {
            if Some(d.as_str()) != Some(l.as_str()) {
                clock.push_str(&format!(
                    ". So the DB's {} and the log's {} are the same minute ({} UTC)",
                    local_hm(subject.first, d),
                    local_hm(subject.first, l),
                    hm(subject.first)
                ));
            }
        }
        if let Some(n) = parts.naive {
            let a = &parts.aligned.total;
            clock.push_str(&format!(
                ". Read naively (log times taken in the DB's zone), {} of {} DB rows from {} to {} UTC look unlogged; aligned, {} do",
                n.total.missing_in_log,
                a.db_rows,
                hm(subject.scope.0),
                hm(subject.scope.1),
                a.missing_in_log
            ));
        }
        clock.push('.');
        push("clock", clock, Vec::new(), Vec::new(), Vec::new());

        // 2. Path: the subject's rows and lines in UTC order, twins linked.
        let rows = index.rows(subject, v);
        let m = parts.matching;
        let mut shown: BTreeSet<usize> = BTreeSet::new();
        const MAX_PATH: usize = 12;
        let mut told = 0usize;
        for &i in &rows {
            if shown.contains(&i) {
                continue;
            }
            let pair = m.twin_of(i);
            let twin = pair.map(|p| if p.db == i { p.log } else { p.db });
            shown.insert(i);
            if let Some(k) = twin {
                shown.insert(k);
            }
            told += 1;
            if told > MAX_PATH {
                continue;
            }
            let at = v.ts_utc.get(i).unwrap_or(0);
            let what = |k: usize| {
                let et = v
                    .s("event_type", k)
                    .unwrap_or_else(|| v.s("kind", k).unwrap_or(""));
                let mut w = match v.s("symbol", k) {
                    Some(s) => format!("{et} {s}"),
                    None => et.to_string(),
                };
                // The row's own word for what went wrong.
                let reason = v
                    .s("payload", k)
                    .and_then(|p| serde_json::from_str::<Value>(p).ok())
                    .and_then(|p| p.get("reason").and_then(Value::as_str).map(str::to_string));
                if let Some(r) = reason {
                    w.push_str(&format!(": {r}"));
                }
                w
            };
            let log_ref = |k: usize| LogRef {
                file: v.s("file", k).unwrap_or_default().to_string(),
                line: v.line.get(k).unwrap_or(0),
                copy: false,
            };
            let (db_row, log_row) = match v.s("source", i) {
                Some("db") => (Some(i), twin),
                _ => (twin, Some(i)),
            };
            let text = match (db_row, log_row) {
                (Some(d), Some(l)) => format!(
                    "{} UTC: DB row {} ({}) — logged at {}:{}, {:+.1} ms",
                    hms(at),
                    v.event_id.get(d).unwrap_or(0),
                    what(d),
                    log_ref(l).file,
                    log_ref(l).line,
                    pair.map_or(0, |p| p.delta_us) as f64 / 1000.0
                ),
                (Some(d), None) => format!(
                    "{} UTC: DB row {} ({}) — no log line",
                    hms(at),
                    v.event_id.get(d).unwrap_or(0),
                    what(d)
                ),
                (None, Some(l)) if matches!(v.s("kind", l), Some("event" | "malformed_event")) => {
                    format!(
                        "{} UTC: {}:{} logged {} — no DB row",
                        hms(at),
                        log_ref(l).file,
                        log_ref(l).line,
                        what(l)
                    )
                }
                (None, Some(l)) => format!(
                    "{} UTC: {}:{} {}",
                    hms(at),
                    log_ref(l).file,
                    log_ref(l).line,
                    crate::report::table::first_line(v.s("message", l).unwrap_or(""), 90)
                ),
                (None, None) => continue,
            };
            let ids: Vec<i64> = db_row.and_then(|d| v.event_id.get(d)).into_iter().collect();
            let logs: Vec<LogRef> = log_row.map(log_ref).into_iter().collect();
            push("path", text, ids, logs, Vec::new());
        }
        if told > MAX_PATH {
            push(
                "path",
                format!(
                    "… and {} more rows and lines: `audit timeline {}` shows them all",
                    told - MAX_PATH,
                    subject.label
                ),
                Vec::new(),
                Vec::new(),
                Vec::new(),
            );
        }
        // The process that wrote them.
        let procs = parts.processes;
        let writer = procs
            .iter()
            .find(|p| p.start <= subject.first && subject.first <= p.end)
            .or_else(|| {
                procs.iter().min_by_key(|p| {
                    (p.start - subject.first)
                        .abs()
                        .min((p.end - subject.first).abs())
                })
            });
        if let Some(p) = writer {
            let lock = match (&p.lock, p.start_inferred) {
                (Some(l), _) => format!(" (lock acquired at {}:{})", l.file, l.line),
                (None, true) => " (no lock line: its start is its first record)".into(),
                (None, false) => String::new(),
            };
            let end = match (&p.ended_by, &p.ended_at) {
                (Some(by), Some(at)) => format!(", ended by {by} at {}:{}", at.file, at.line),
                _ => String::new(),
            };
            push(
                "path",
                format!(
                    "Written by {}, alive from {} to {} UTC{lock}{end}",
                    p.name(),
                    hms(p.start),
                    hms(p.end)
                ),
                Vec::new(),
                p.lock.iter().chain(&p.ended_at).cloned().collect(),
                Vec::new(),
            );
        }

        // 3. Findings in scope that touch the subject, each with its cause.
        let findings: Vec<&Finding> = parts
            .findings
            .iter()
            .filter(|f| subject.scope.0 <= f.at_us && f.at_us <= subject.scope.1)
            .collect();
        for f in findings.iter().filter(|f| touches(f, subject)) {
            if matches!(f.kind, FindingKind::DuplicateEvent) {
                continue; // told under "ruled out"
            }
            if f.kind == FindingKind::CorrelationInversion
                && matches!(
                    f.class.as_deref(),
                    Some("overlapping_operations" | "queue_bypass")
                )
            {
                continue; // told under "ruled out"
            }
            push(
                "finding",
                format!(
                    "{} {}: {}",
                    f.severity.as_str().to_uppercase(),
                    f.kind,
                    f.explanation
                ),
                ids_of(f),
                logs_of(f),
                vec![f.fingerprint.clone()],
            );
        }

        // 4. Ruled out.
        if !findings
            .iter()
            .any(|f| f.kind == FindingKind::ProcessOverlap)
        {
            let alive: Vec<_> = procs
                .iter()
                .filter(|p| p.start <= subject.scope.1 && subject.scope.0 <= p.end)
                .collect();
            if let [only] = alive.as_slice() {
                let before = procs
                    .iter()
                    .filter(|q| q.end <= only.start)
                    .max_by_key(|q| q.end);
                let prev = before.map(|q| {
                    format!(
                        "; before it, {} ended at {} UTC{}, {:.1} min before {} started: a restart, not a concurrent process",
                        q.name(),
                        hms(q.end),
                        q.ended_by.as_deref().map(|b| format!(" ({b})")).unwrap_or_default(),
                        (only.start - q.end) as f64 / 60e6,
                        only.name()
                    )
                });
                let gap_fp: Vec<String> = parts
                    .findings
                    .iter()
                    .filter(|f| f.kind == FindingKind::ProcessGap)
                    .map(|f| f.fingerprint.clone())
                    .collect();
                push(
                    "ruled_out",
                    format!(
                        "No second process was alive: {} is the only bot process from {} to {} UTC{}",
                        only.name(),
                        hms(subject.scope.0.max(only.start)),
                        hms(subject.scope.1.min(only.end)),
                        prev.unwrap_or_default()
                    ),
                    Vec::new(),
                    before
                        .into_iter()
                        .flat_map(|q| q.ended_at.clone())
                        .chain(only.lock.clone())
                        .collect(),
                    gap_fp,
                );
            }
        }
        for f in &findings {
            let said = match (f.kind, f.class.as_deref()) {
                (FindingKind::CorrelationInversion, Some("overlapping_operations")) => {
                    "is two overlapping operations in one process, not a clock error or a second writer"
                }
                (FindingKind::CorrelationInversion, Some("queue_bypass")) => {
                    "is a direct write that jumped EventLogger's queue, not a clock error or a second writer"
                }
                (FindingKind::DuplicateEvent, _) => "is one event inserted twice, not two events",
                _ => continue,
            };
            let ids = ids_of(f);
            let names: Vec<String> = ids.iter().map(i64::to_string).collect();
            push(
                "ruled_out",
                format!("{} {said}: {}", names.join("/"), f.explanation),
                ids,
                logs_of(f),
                vec![f.fingerprint.clone()],
            );
        }

        // 5. Open: what the findings accuse without a stated cause. `--window` is read in the
        // DB's display zone.
        let display = db_off.clone().unwrap_or_else(|| "+00:00".into());
        let window = |a: i64, b: i64| {
            let day = chrono::DateTime::from_timestamp_micros(
                a + crate::time::parse_offset_us(&display).unwrap_or(0),
            )
            .unwrap_or_default()
            .format("%Y-%m-%d");
            format!(
                "--window {}-{} --date {day}",
                local_hm(a, &display),
                local_hm(b, &display)
            )
        };
        let open: Vec<&&Finding> = findings
            .iter()
            .filter(|f| f.severity >= Severity::Medium && !has_cause(f))
            .filter(|f| f.kind != FindingKind::DuplicateEvent)
            .collect();
        let (mine, others): (Vec<&&Finding>, Vec<&&Finding>) =
            open.into_iter().partition(|f| touches(f, subject));
        for f in &mine {
            let at = f.at_us;
            push(
                "open",
                format!(
                    "{} {} at {} UTC has no cause in these sources (no queue-full line, failed batch, copy or other writer explains it); next: `audit timeline {}` around it, and the bot's own logs beyond these files",
                    f.severity.as_str().to_uppercase(),
                    f.kind,
                    hms(at),
                    window(at - 60_000_000, at + 60_000_000),
                ),
                ids_of(f),
                logs_of(f),
                vec![f.fingerprint.clone()],
            );
        }
        if !others.is_empty() {
            push(
                "open",
                format!(
                    "{} other finding(s) of medium or high severity near it have no stated cause: `audit check {}` lists them",
                    others.len(),
                    window(subject.scope.0, subject.scope.1 + 60_000_000)
                ),
                Vec::new(),
                Vec::new(),
                others.iter().map(|f| f.fingerprint.clone()).collect(),
            );
        }
        if mine.is_empty() && others.is_empty() {
            push(
                "open",
                format!(
                    "Nothing in {}–{} UTC is left without a cause in these sources.",
                    hm(subject.scope.0),
                    hm(subject.scope.1)
                ),
                Vec::new(),
                Vec::new(),
                Vec::new(),
            );
        }
        Story {
            subject,
            steps,
            findings,
            timeline: t,
        }
    }

    /// The story as text (`markdown`: headers and lists for a ticket).
    pub fn text(&self, markdown: bool) -> String {
        self.render(markdown, false)
    }

    /// The text with ANSI colour (bold headers, severities in colour, evidence dimmed): for a
    /// terminal, and only when `NO_COLOR` is not set (the caller decides).
    pub fn coloured(&self) -> String {
        self.render(false, true)
    }

    fn render(&self, markdown: bool, colour: bool) -> String {
        let paint = |code: &str, text: &str| -> String {
            if colour {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_string()
            }
        };
        let s = self.subject;
        let mut out = String::new();
        let title = format!(
            "audit explain {}: {} – {} UTC",
            s.label,
            hms(s.first),
            hms(s.last)
        );
        if markdown {
            out.push_str(&format!("## {title}\n"));
        } else {
            out.push_str(&paint("1", &title));
            out.push('\n');
        }
        let heads = [
            ("clock", "Clocks"),
            ("path", "Path"),
            ("finding", "Findings"),
            ("ruled_out", "Ruled out"),
            ("open", "Open"),
        ];
        for (kind, head) in heads {
            let steps: Vec<&Step> = self.steps.iter().filter(|x| x.kind == kind).collect();
            if steps.is_empty() {
                continue;
            }
            if markdown {
                out.push_str(&format!("\n### {head}\n\n"));
            } else {
                out.push_str(&format!("\n{}\n", paint("1;4", head)));
            }
            for st in steps {
                let mut ev: Vec<String> = st.event_ids.iter().map(|i| format!("db:{i}")).collect();
                ev.extend(st.logs.iter().map(|l| format!("{}:{}", l.file, l.line)));
                ev.extend(st.fingerprints.iter().cloned());
                let evidence = if ev.is_empty() || kind == "path" {
                    String::new()
                } else if markdown {
                    format!(" — `{}`", ev.join("` `"))
                } else {
                    paint("2", &format!(" [{}]", ev.join(" ")))
                };
                if markdown {
                    out.push_str(&format!("{}. {}{evidence}\n", st.step, st.text));
                } else {
                    let text = match st.text.split_once(' ') {
                        Some((sev @ ("HIGH" | "MEDIUM" | "LOW" | "INFO"), rest)) if colour => {
                            let code = match sev {
                                "HIGH" => "1;31",
                                "MEDIUM" => "33",
                                "LOW" => "36",
                                _ => "2",
                            };
                            format!("{} {rest}", paint(code, sev))
                        }
                        _ => st.text.clone(),
                    };
                    out.push_str(&format!("{:>3}. {text}{evidence}\n", st.step));
                }
            }
        }
        out
    }

    pub fn json(&self) -> anyhow::Result<String> {
        let t = self.timeline;
        let doc = json!({
            "version": 1,
            "command": "explain",
            "subject": {
                "label": self.subject.label,
                "of": self.subject.json,
                "from_utc": crate::time::rfc3339_micros(self.subject.first),
                "to_utc": crate::time::rfc3339_micros(self.subject.last),
                "scope": {
                    "from_utc": crate::time::rfc3339_micros(self.subject.scope.0),
                    "to_utc": crate::time::rfc3339_micros(self.subject.scope.1),
                },
                "event_ids": self.subject.event_ids,
            },
            "clock": t.clocks,
            "story": self.steps,
            "findings": self.findings,
        });
        Ok(serde_json::to_string_pretty(&doc)? + "\n")
    }
}
