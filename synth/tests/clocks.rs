//! Host clocks, the DB clock and a database down, end to end: the bytes written agree with
//! the clock truth.json states, and a scenario without clock faults is the same bytes as
//! before clocks existed.

use std::collections::HashMap;
use std::path::Path;

use audit_gen::score::{self, SuiteCase};
use audit_gen::truth::{ClockSegment, LineCause, parse_us};
use audit_gen::{Fault, Faults, Params, Scenario, Truth, generate};
use chrono::{DateTime, NaiveDateTime};
use serde_json::{Value, json};

fn faults(spec: &[&str]) -> Faults {
    let mut f = Faults::default();
    for s in spec {
        f.add(s.parse::<Fault>().unwrap_or_else(|e| panic!("{s}: {e}")));
    }
    f
}

fn small(seed: u64) -> Params {
    let mut p = Params::new(seed);
    p.chatter_bytes = 300 << 10;
    p
}

fn write(dir: &Path, p: &Params, f: &Faults) -> (Scenario, Truth) {
    let s = Scenario::plan(p, f).unwrap();
    let out = generate(&s, dir).unwrap();
    (s, out.truth)
}

/// A record line's naive time, µs (as if UTC); None for a continuation line.
fn naive_us(line: &[u8]) -> Option<i64> {
    let head = std::str::from_utf8(line.get(..23)?).ok()?;
    NaiveDateTime::parse_from_str(head, "%Y-%m-%d %H:%M:%S,%3f")
        .ok()
        .map(|t| t.and_utc().timestamp_micros())
}

/// Every line of a log file, 1-based (index 0 unused).
fn lines(path: &Path) -> Vec<Vec<u8>> {
    let bytes = std::fs::read(path).unwrap();
    let mut v = vec![Vec::new()];
    v.extend(bytes.split(|&b| b == b'\n').map(<[u8]>::to_vec));
    v
}

/// PostgreSQL CSV records (quoted fields may hold newlines; quotes doubled).
fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rec = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => rec.push(std::mem::take(&mut field)),
            (false, '\n') => {
                rec.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut rec));
            }
            (false, c) => field.push(c),
        }
    }
    out
}

/// A twin's identity both sides can read: the event type and its order id (or, for
/// `position_created`, its position id).
type Key = (String, String);

/// The rows by key (keys held by one row only), with their `created_at` (µs).
fn keyed_rows(dir: &Path) -> HashMap<Key, i64> {
    let text = std::fs::read_to_string(dir.join("events.csv")).unwrap();
    let mut out: HashMap<Key, Option<i64>> = HashMap::new();
    for r in csv_records(&text).into_iter().skip(1) {
        let id = if r[1] == "position_created" {
            &r[4]
        } else {
            &r[5]
        };
        if id.is_empty() {
            continue;
        }
        let at = DateTime::parse_from_str(&r[11], "%Y-%m-%d %H:%M:%S%.f%#z")
            .unwrap_or_else(|e| panic!("{}: {e}", r[11]));
        out.entry((r[1].clone(), id.clone()))
            .and_modify(|v| *v = None)
            .or_insert(Some(at.timestamp_micros()));
    }
    out.into_iter().filter_map(|(k, v)| Some((k, v?))).collect()
}

/// (line, naive µs, key) of each event line with an order id (or a position_created).
fn keyed_lines(path: &Path) -> Vec<(u32, i64, Key)> {
    let ls = lines(path);
    let mut out = Vec::new();
    for (k, l) in ls.iter().enumerate() {
        let text = String::from_utf8_lossy(l);
        let Some(p) = text.find(" - core.event_logger - ") else {
            continue;
        };
        let tail = &text[p + 23..];
        let Some((_, msg)) = tail.split_once(" - ") else {
            continue;
        };
        let Some((etype, data)) = msg.split_once(": {") else {
            continue;
        };
        let (field, quote) = if etype == "position_created" {
            ("'position_id': ", "")
        } else {
            ("'order_id': '", "'")
        };
        let Some(i) = data.find(field) else {
            continue;
        };
        let rest = &data[i + field.len()..];
        let id: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if id.is_empty() || !rest[id.len()..].starts_with(quote) {
            continue;
        }
        out.push((k as u32, naive_us(l).unwrap(), (etype.to_string(), id)));
    }
    out
}

fn seg_of(segs: &[ClockSegment], line: u32) -> &ClockSegment {
    segs.iter()
        .find(|s| s.from_line <= line && line <= s.to_line)
        .unwrap_or_else(|| panic!("line {line} in no segment"))
}

fn us(s: &str) -> i64 {
    parse_us(s).unwrap()
}

#[test]
fn lines_show_the_host_clock_the_truth_states() {
    let tmp = tempfile::tempdir().unwrap();
    // Jitter 0: a line shows exactly its host's reading of the row's instant, truncated.
    let f = faults(&[
        "host-clock=1:7200,-31,0",
        "host-clock=2:-4321.5,45,0",
        "ntp-step=-2100@0.4",
        "ntp-step=1:3300@0.8",
        "ntp-step=2:900@0.3",
        "offset-change",
    ]);
    let (s, t) = write(tmp.path(), &small(5), &f);
    assert_eq!(t.version, 2);
    for (pr, ft) in s.processes.iter().zip(&t.files) {
        let ls = lines(&tmp.path().join("monitoring_logs").join(&ft.name));
        let c = &ft.clock;
        // The DB clock is exact: the drift is the host's, and a record written at true
        // instant t shows t + offset(t), truncated to the ms.
        for seg in &c.segments {
            assert_eq!(seg.drift_ppm, pr.clock.drift_ppm, "{}", ft.name);
            for (line, at, off) in [
                (seg.from_line, &seg.from_utc, seg.offset_start_s),
                (seg.to_line, &seg.to_utc, seg.offset_end_s),
            ] {
                let want = us(at) + (off * 1e6).round() as i64;
                let got = naive_us(&ls[line as usize]).unwrap();
                assert!(
                    (want - 1_001..=want + 1).contains(&got),
                    "{} line {line}: shows {got}, expected {want} truncated",
                    ft.name
                );
            }
            let span = us(&seg.to_utc) - us(&seg.from_utc);
            let slope = seg.offset_start_s + seg.drift_ppm * 1e-6 * span as f64 / 1e6;
            assert!((slope - seg.offset_end_s).abs() < 2e-6, "{seg:?}");
        }
        // At each step the naive time jumps by the step (plus the time between the two
        // records on the host's clock), ±1 ms of truncation.
        let n_steps = pr.clock.steps.len() + usize::from(pr.offset_change.is_some());
        assert_eq!(c.steps.len(), n_steps, "{}", ft.name);
        assert_eq!(c.segments.len(), n_steps + 1, "{}", ft.name);
        for (k, st) in c.steps.iter().enumerate() {
            let (before, after) = (&c.segments[k], &c.segments[k + 1]);
            assert_eq!(st.line, after.from_line);
            assert!(before.to_line < st.line);
            let (t1, t2) = (us(&before.to_utc), us(&after.from_utc));
            assert!(t1 < us(&st.at_utc) && us(&st.at_utc) <= t2);
            let jump = naive_us(&ls[st.line as usize]).unwrap()
                - naive_us(&ls[before.to_line as usize]).unwrap();
            let want = (t2 - t1) as f64 * (1.0 + pr.clock.drift_ppm * 1e-6)
                + (st.after_s - st.before_s) * 1e6;
            assert!(
                (jump as f64 - want).abs() <= 1_001.0,
                "{} step at line {}: jumps {jump} µs, expected {want}",
                ft.name,
                st.line
            );
            assert!((st.before_s - before.offset_end_s).abs() < 0.01);
        }
    }
    // The sizes: p1 −2.1 s, the offset change +1 h, +3.3 s; p2 +0.9 s.
    let sizes = |i: usize| -> Vec<f64> {
        t.files[i]
            .clock
            .steps
            .iter()
            .map(|s| ((s.after_s - s.before_s) * 1e3).round() / 1e3)
            .collect()
    };
    assert_eq!(sizes(0), vec![-2.1, 3600.0, 3.3]);
    assert_eq!(sizes(1), vec![0.9]);
    // The file is named by the host's clock: 07:00:07 (7.2 s fast) and 3.3 s behind…
    assert_eq!(t.files[0].name, "bot_20251018_070007.log");
    assert_eq!(t.files[1].offsets[0].offset, "+04:00");
}

#[test]
fn twins_differ_by_the_truths_offset_on_the_db_clock() {
    let tmp = tempfile::tempdir().unwrap();
    let f = faults(&[
        "host-clock=-8500,38,2",
        "ntp-step=2:-4700@0.55",
        "db-clock=1700,-17",
    ]);
    let (s, t) = write(tmp.path(), &small(6), &f);
    let rows = keyed_rows(tmp.path());
    for (pr, ft) in s.processes.iter().zip(&t.files) {
        let drift = pr.clock.drift_ppm - s.db_clock.drift_ppm;
        let checked = keyed_lines(&tmp.path().join("monitoring_logs").join(&ft.name))
            .into_iter()
            .filter_map(|(line, naive, key)| Some((line, naive, *rows.get(&key)?)))
            .map(|(line, naive, created)| {
                let seg = seg_of(&ft.clock.segments, line);
                assert_eq!(seg.drift_ppm, drift);
                // created_at is within 2 s of the true instant: 2 s × 55 ppm ≈ 0.1 ms.
                let off = seg.offset_start_s
                    + seg.drift_ppm * 1e-6 * (created - us(&seg.from_utc)) as f64 / 1e6;
                let got = (naive - created) as f64 / 1e6;
                // The line trails by 0..2 ms of jitter and shows its ms truncated.
                assert!(
                    got >= off - 0.0012 && got <= off + 0.0022,
                    "{} line {line}: naive − created_at {got}, offset {off}",
                    ft.name
                );
            })
            .count();
        assert!(checked >= 50, "{}: {checked} twins", ft.name);
    }
    // A correlation id's epoch is the writer's host reading of the start of open_position,
    // 0.3–2.5 s before the true instant of its position_created.
    let mut writer: HashMap<i64, usize> = HashMap::new();
    for (i, ft) in t.files.iter().enumerate() {
        for (_, _, (etype, pos)) in keyed_lines(&tmp.path().join("monitoring_logs").join(&ft.name))
        {
            if etype == "position_created" {
                writer.insert(pos.parse().unwrap(), i);
            }
        }
    }
    let text = std::fs::read_to_string(tmp.path().join("events.csv")).unwrap();
    let mut n = 0;
    for r in csv_records(&text).into_iter().skip(1) {
        if r[1] != "position_created" {
            continue;
        }
        let Some(&i) = writer.get(&r[4].parse::<i64>().unwrap()) else {
            continue;
        };
        let epoch: f64 = r[3].rsplit('_').next().unwrap().parse().unwrap();
        let created = DateTime::parse_from_str(&r[11], "%Y-%m-%d %H:%M:%S%.f%#z")
            .unwrap()
            .timestamp_micros();
        let host = s.processes[i].host_fn();
        // The true instant, to well under a ms: created_at less the DB clock's error.
        let t_true = created - (s.db_reading_us(created) - created);
        if host
            .steps
            .iter()
            .any(|&(at, _)| at > t_true - 3_000_000 && at <= t_true)
        {
            continue;
        }
        let read_epoch = (epoch * 1e6).round() as i64;
        let lead = (t_true - (read_epoch - host.error_us(t_true))) as f64 / 1e6;
        assert!((0.29..=2.51).contains(&lead), "{}: {lead}", r[3]);
        n += 1;
    }
    assert!(n >= 5, "{n}");
}

#[test]
fn a_db_down_world_has_no_rows_of_its_last_process() {
    let tmp = tempfile::tempdir().unwrap();
    let c = score::db_down_case();
    let mut p = c.params.clone();
    p.chatter_bytes = 200 << 10;
    let (s, t) = write(tmp.path(), &p, &c.faults);
    assert!(!s.processes[0].db_down && s.processes[1].db_down);
    assert!(t.files[0].db_rows > 1000);
    assert_eq!(t.files[1].db_rows, 0);
    let second = &t.files[1].name;
    let lost: Vec<_> = t
        .missing_in_db
        .iter()
        .filter(|l| &l.file == second)
        .collect();
    assert_eq!(lost.len() as u64, t.files[1].event_lines);
    assert!(
        lost.iter()
            .all(|l| l.cause == LineCause::DbDown && !l.db_covered)
    );
    let failures = t
        .batch_failures
        .iter()
        .filter(|b| &b.file == second)
        .count();
    assert_eq!(failures as u64, t.counts.db_down_batches);
    assert!(failures > 300, "{failures}");
    let log = std::fs::read_to_string(tmp.path().join("monitoring_logs").join(second)).unwrap();
    assert!(!log.contains("EventLogger wrote"));
    assert!(log.contains("batch write failed: [Errno 111] Connect call failed"));
    assert!(log.contains("\nConnectionRefusedError: [Errno 111]"));

    // missing-logs' no_db_coverage is scored by stretch: a finding names its first line in
    // `log`, its last in `logs` and counts its lines in `details.lines`.
    let refs: Vec<Value> = lost
        .iter()
        .map(|l| json!({"file": l.file, "line": l.line}))
        .collect();
    let n = refs.len();
    let doc = json!({"findings": [
        {"kind": "no_db_coverage", "log": refs[0], "logs": [refs[n / 2 - 1]], "details": {"lines": n / 2}},
        {"kind": "no_db_coverage", "log": refs[n / 2], "logs": [refs[n - 1]], "details": {"lines": n - n / 2}},
    ]});
    let tally = &score::score("missing-logs", &t, &doc)["no_db_coverage"];
    assert_eq!((tally.tp, tally.fp, tally.fn_), (lost.len(), 0, 0));
    // A stretch that counts more lines than it holds is as many false ones.
    let doc = json!({"findings": [
        {"kind": "no_db_coverage", "log": refs[0], "logs": [refs[n - 1]], "details": {"lines": n + 3}},
    ]});
    let tally = &score::score("missing-logs", &t, &doc)["no_db_coverage"];
    assert_eq!((tally.tp, tally.fp, tally.fn_), (lost.len(), 3, 0));
    let none = &score::score("missing-logs", &t, &json!({"findings": []}))["no_db_coverage"];
    assert_eq!(none.fn_, lost.len());
}

#[test]
fn the_grace_applies_only_to_edges_that_are_not_clean() {
    let tmp = tempfile::tempdir().unwrap();
    // 300 events a minute: rows every 0.2 s, so every 2 s edge holds some.
    let mut p = small(4);
    p.rate_per_min = 300.0;
    let mut s = Scenario::plan(&p, &Faults::default()).unwrap();
    let (p1, p2) = (s.processes[0].clone(), s.processes[1].clone());
    let secs = chrono::Duration::seconds;
    // A writer without a log file around process 1's clean end, process 2's start and its
    // end (still running).
    for (a, b) in [
        (p1.end - secs(20), p1.end + secs(5)),
        (p2.start, p2.start + secs(20)),
        (p2.end - secs(30), p2.end),
    ] {
        s.ghost.push(audit_gen::Window { start: a, end: b });
    }
    let t = generate(&s, tmp.path()).unwrap().truth;
    let (f1, f2) = (&t.files[0], &t.files[1]);
    let (first2, last1, last2) = (us(&f2.start_utc), us(&f1.end_utc), us(&f2.end_utc));
    let mut seen = [0; 4];
    for r in &t.missing_in_log {
        let c = us(&r.created_utc);
        let expect = if c <= last1 {
            // Up to the very last record of the clean end.
            seen[0] += usize::from(c > last1 - 2_000_000);
            true
        } else if c < first2 {
            false
        } else if c <= last2 - 2_000_000 {
            // From process 2's first record (it holds its `Lock acquired`).
            seen[1] += usize::from(c < first2 + 2_000_000);
            true
        } else {
            // The last 2 s of a still-running process: not covered.
            seen[2] += 1;
            false
        };
        seen[3] += 1;
        assert_eq!(r.covered, expect, "row {} at {}", r.id, r.created_utc);
    }
    assert!(seen[0] > 0 && seen[1] > 0 && seen[2] > 0, "{seen:?}");
}

/// FNV-1a, 64 bits: a stable hash of a file's bytes.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn hashes(dir: &Path) -> Vec<(String, u64, u64)> {
    let mut v = Vec::new();
    for sub in ["", "monitoring_logs"] {
        let mut names: Vec<_> = std::fs::read_dir(dir.join(sub))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file() && !p.ends_with("truth.json"))
            .collect();
        names.sort();
        for p in names {
            let b = std::fs::read(&p).unwrap();
            let name = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            v.push((name, fnv(&b), b.len() as u64));
        }
    }
    v
}

/// A file's name, FNV-1a hash and length.
type Pin = (&'static str, u64, u64);

#[test]
fn scenarios_without_clock_faults_are_the_bytes_they_always_were() {
    // Pinned from the generator before host and DB clocks existed (commit 6f0720d):
    // `audit-gen --seed 7 --hours 0.5 --log-mib 0.3 --sql --fault lost-log-lines=5
    // --fault lost-db-batch=1 --fault duplicates=2 --fault overlap --fault ghost-writer
    // --fault skewed-host=+05:30 --fault offset-change` and `--hours 0.25 --log-mib 0.2 --sql`.
    let pins: [(&[&str], &[Pin]); 2] = [
        (
            &[
                "--seed",
                "7",
                "--hours",
                "0.5",
                "--log-mib",
                "0.3",
                "--sql",
                "--fault",
                "lost-log-lines=5",
                "--fault",
                "lost-db-batch=1",
                "--fault",
                "duplicates=2",
                "--fault",
                "overlap",
                "--fault",
                "ghost-writer",
                "--fault",
                "skewed-host=+05:30",
                "--fault",
                "offset-change",
            ],
            &[
                ("events.csv", 0x63ab_d824_987e_39f5, 432_865),
                ("events.sql", 0xc453_838c_288a_eeba, 496_491),
                (
                    "monitoring_logs/bot_20251018_070000.log",
                    0xfaf5_d437_c2ab_01ba,
                    329_076,
                ),
                (
                    "monitoring_logs/bot_20251018_070416.log",
                    0x315d_5a9a_28a7_9496,
                    116_641,
                ),
                (
                    "monitoring_logs/bot_20251018_084545.log",
                    0x8112_35a6_f051_9d66,
                    345_039,
                ),
            ],
        ),
        (
            &["--hours", "0.25", "--log-mib", "0.2", "--sql"],
            &[
                ("events.csv", 0x27ed_28fd_1328_c350, 163_663),
                ("events.sql", 0x4d55_bfd4_ff51_8115, 188_590),
                (
                    "monitoring_logs/bot_20251018_070000.log",
                    0x0b16_8e1e_484c_b4c9,
                    209_463,
                ),
                (
                    "monitoring_logs/bot_20251018_070815.log",
                    0xd999_e565_ccf3_6190,
                    203_350,
                ),
            ],
        ),
    ];
    for (args, want) in pins {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("s");
        let argv = ["audit-gen", "--quiet", "--out", dir.to_str().unwrap()]
            .into_iter()
            .chain(args.iter().copied());
        audit_gen::cli::run(argv, &mut Vec::new()).unwrap();
        let got = hashes(&dir);
        let want: Vec<(String, u64, u64)> = want
            .iter()
            .map(|(n, h, l)| (n.to_string(), *h, *l))
            .collect();
        assert_eq!(got, want, "{args:?}");
    }
}

/// A document reporting exactly the truth's clocks.
fn doc_of(t: &Truth) -> Value {
    let mut clock = serde_json::Map::new();
    for f in &t.files {
        clock.insert(f.name.clone(), serde_json::to_value(&f.clock).unwrap());
    }
    json!({ "clock": clock, "findings": [] })
}

#[test]
fn clock_scores_the_truth_perfectly_and_finds_what_is_off() {
    let tmp = tempfile::tempdir().unwrap();
    let f = faults(&[
        "host-clock=2500,20",
        "ntp-step=-1800@0.3",
        "ntp-step=2:4000@0.6",
        "db-clock=-900,5",
    ]);
    let (_, t) = write(tmp.path(), &small(3), &f);
    let doc = doc_of(&t);
    let sc = score::clock(&t, &doc);
    assert!(sc.max_error_ms < 1e-3, "{sc:?}");
    assert_eq!((sc.steps_found, sc.steps_missed, sc.steps_extra), (2, 0, 0));
    assert!(sc.unestimated.is_empty());
    // Samples: each segment's ends and 5 points between, none within 1 s of a step.
    assert!(sc.samples >= 4 * 6, "{}", sc.samples);

    // 5 ms off over the first file's first segment; its step missed; a step made up in the
    // second file, and its real one 20 % too small.
    let mut bad = doc.clone();
    let f1 = t.files[0].name.clone();
    let f2 = t.files[1].name.clone();
    let seg = &mut bad["clock"][&f1]["segments"][0];
    seg["offset_start_s"] = json!(seg["offset_start_s"].as_f64().unwrap() + 0.005);
    bad["clock"][&f1]["steps"] = json!([]);
    let st = &mut bad["clock"][&f2]["steps"][0];
    st["after_s"] = json!(st["before_s"].as_f64().unwrap() + 3.2);
    bad["clock"][&f2]["steps"].as_array_mut().unwrap().push(
        json!({"line": 10, "at_utc": "2025-10-18T03:40:00Z", "before_s": 0.0, "after_s": 1.0}),
    );
    let sc = score::clock(&t, &bad);
    assert!((sc.files[0].max_error_ms - 5.0).abs() < 1e-3, "{sc:?}");
    assert!(sc.files[1].max_error_ms < 1e-3);
    assert_eq!((sc.steps_found, sc.steps_missed, sc.steps_extra), (0, 2, 2));
    // The step's size within 10 %: found again.
    let st = &mut bad["clock"][&f2]["steps"][0];
    st["after_s"] = json!(st["before_s"].as_f64().unwrap() + 3.7);
    let sc = score::clock(&t, &bad);
    assert_eq!((sc.steps_found, sc.steps_missed, sc.steps_extra), (1, 1, 1));
    // A file the document says nothing about.
    bad["clock"].as_object_mut().unwrap().remove(&f2);
    let sc = score::clock(&t, &bad);
    assert_eq!(sc.unestimated, vec![f2]);
}

fn drawn(c: &SuiteCase) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
    let f = &c.faults;
    (
        f.host_clocks.iter().map(|h| h.skew_ms).collect(),
        f.host_clocks.iter().map(|h| h.drift_ppm).collect(),
        f.host_clocks.iter().filter_map(|h| h.jitter_ms).collect(),
        f.ntp_steps.iter().map(|s| s.ms).collect(),
    )
}

fn span(v: &[f64]) -> (f64, f64) {
    v.iter()
        .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)))
}

#[test]
fn the_clock_suite_is_deterministic_and_covers_its_ranges() {
    let cases = score::clock_suite(7, 40);
    assert_eq!(cases.len(), 41);
    let again = score::clock_suite(7, 40);
    let key = |c: &SuiteCase| (c.name, c.faults.clone(), c.params.seed, c.params.duration);
    assert!(cases.iter().map(key).eq(again.iter().map(key)));
    // Case k does not depend on n; another seed draws other cases.
    assert!(
        score::clock_suite(7, 3)[..3]
            .iter()
            .map(key)
            .eq(cases[..3].iter().map(key))
    );
    assert_ne!(score::clock_suite(8, 1)[0].name, cases[0].name);
    assert!(cases[40].name.starts_with("clock-db-down"));
    assert!(cases[40].faults.db_down);

    let drawn_cases = &cases[..40];
    let (mut skew, mut drift, mut jitter, mut steps) = (vec![], vec![], vec![], vec![]);
    let (mut db_skew, mut db_drift, mut exact_db) = (vec![], vec![], 0);
    let (mut per_file, mut minutes, mut lost_pct) = (vec![], vec![], vec![]);
    for c in drawn_cases {
        assert!(c.name.starts_with("clock-"), "{}", c.name);
        assert!(c.name.len() < 250, "{}", c.name);
        let (s, d, j, st) = drawn(c);
        skew.extend(s);
        drift.extend(d);
        jitter.extend(j);
        steps.extend(st);
        match c.faults.db_clock {
            Some(d) => {
                db_skew.push(d.skew_ms);
                db_drift.push(d.drift_ppm);
            }
            None => exact_db += 1,
        }
        let m = c.params.duration.num_minutes();
        minutes.push(m as f64);
        lost_pct.push(c.faults.lost_log_lines as f64 / (56.0 * m as f64) * 100.0);
        assert!(c.faults.lost_db_batches >= 7 && c.faults.lost_db_batches <= 15);
        // Every case plans; every step falls 2 minutes from its file's ends.
        let s = Scenario::plan(&c.params, &c.faults).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        for pr in &s.processes {
            per_file.push(pr.clock.steps.len());
            for (at, d) in &pr.clock.steps {
                assert!(*at >= pr.start + chrono::Duration::minutes(2), "{}", c.name);
                assert!(*at <= pr.end - chrono::Duration::minutes(2), "{}", c.name);
                assert!((500_000..=5_000_000).contains(&d.abs()), "{}", c.name);
            }
            if let [a, b] = pr.clock.steps[..] {
                assert!(b.0 - a.0 >= chrono::Duration::minutes(3), "{}", c.name);
            }
        }
    }
    let within = |v: &[f64], lo: f64, hi: f64, reach: f64, what: &str| {
        let (a, b) = span(v);
        assert!(
            a >= lo && b <= hi,
            "{what}: {a} .. {b} outside {lo} .. {hi}"
        );
        assert!(
            a <= lo + reach && b >= hi - reach,
            "{what}: {a} .. {b} does not span {lo} .. {hi}"
        );
    };
    within(&skew, -10_000.0, 10_000.0, 2_000.0, "host skew ms");
    within(&drift, -50.0, 50.0, 10.0, "host drift ppm");
    within(&jitter, 0.0, 3.0, 0.5, "jitter ms");
    let sizes: Vec<f64> = steps.iter().map(|s| s.abs()).collect();
    within(&sizes, 500.0, 5_000.0, 700.0, "step size ms");
    assert!(steps.iter().any(|&s| s < 0.0) && steps.iter().any(|&s| s > 0.0));
    assert!(per_file.contains(&0) && per_file.contains(&1) && per_file.contains(&2));
    within(&db_skew, -2_000.0, 2_000.0, 500.0, "db skew ms");
    within(&db_drift, -20.0, 20.0, 5.0, "db drift ppm");
    assert!((5..=25).contains(&exact_db), "{exact_db} exact DB clocks");
    within(&minutes, 60.0, 120.0, 12.0, "minutes");
    within(&lost_pct, 1.9, 5.1, 0.7, "lost lines %");
}

#[test]
fn a_drawn_case_generates_and_its_truth_scores_itself() {
    let c = &score::clock_suite(11, 2)[1];
    let tmp = tempfile::tempdir().unwrap();
    let mut p = c.params.clone();
    p.chatter_bytes = 200 << 10;
    let (s, t) = write(tmp.path(), &p, &c.faults);
    assert_eq!(t.counts.lost_log_lines as usize, c.faults.lost_log_lines);
    assert_eq!(t.counts.lost_db_batches as usize, c.faults.lost_db_batches);
    for (pr, f) in s.processes.iter().zip(&t.files) {
        assert_eq!(f.clock.steps.len(), pr.clock.steps.len(), "{}", c.name);
    }
    let sc = score::clock(&t, &doc_of(&t));
    assert!(sc.max_error_ms < 1e-3 && sc.steps_missed == 0 && sc.steps_extra == 0);
}
