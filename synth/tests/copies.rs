//! The RotatingFileHandler copy (`logs/trading_bot.log*`), end to end: it holds exactly the
//! tee copies' records, merged in time order and rolled as the truth says; a copy gap's
//! records are in one copy only; turning the copy on changes nothing else.

mod common;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use audit_gen::score;
use audit_gen::truth::parse_us;
use audit_gen::{HandlerCopy, Params, Scenario, Truth, generate};
use common::*;
use serde_json::{Value, json};

fn handler_params(seed: u64, max_bytes: u64, gzip_from: Option<u32>) -> Params {
    let mut p = Params::new(seed);
    p.chatter_bytes = 700 << 10;
    p.handler = Some(HandlerCopy {
        max_bytes,
        backups: 20,
        gzip_from,
    });
    p
}

fn write(dir: &Path, p: &Params, spec: &[&str]) -> Truth {
    let s = Scenario::plan(p, &faults(spec)).unwrap();
    generate(&s, dir).unwrap().truth
}

/// Assigns each handler record to the tee file whose next unread record it is (the handler
/// must be a merge of the tee files, each in its own order); returns per handler record the
/// tee file's index, `None` for a record no tee file has next.
fn merge_sources(tee: &[(String, Vec<Vec<u8>>)], handler: &[Vec<u8>]) -> Vec<Option<usize>> {
    let mut next = vec![0usize; tee.len()];
    handler
        .iter()
        .map(|r| {
            let i = (0..tee.len()).find(|&i| tee[i].1.get(next[i]) == Some(r))?;
            next[i] += 1;
            Some(i)
        })
        .collect()
}

#[test]
fn the_handler_copy_holds_exactly_the_tee_copies_records() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let max = 256 << 10;
    let t = write(
        &dir,
        &handler_params(5, max, Some(3)),
        &[
            "overlap",
            "lost-log-lines=20",
            "lost-db-batch=2",
            "skewed-host=+05:30",
        ],
    );
    assert!(t.handler_files.len() >= 5, "{:?}", t.handler_files);
    assert_eq!(t.counts.handler_deleted, 0);
    let mems = members(&dir, &t);
    let tee = tee_records(&dir, &t);

    // Rotation order and names: oldest first, the live file last, `.3` and older gzipped.
    let n = mems.len();
    for (k, (name, bytes)) in mems.iter().enumerate() {
        let pos = n - 1 - k;
        let want = match pos {
            0 => "trading_bot.log".to_string(),
            p if p >= 3 => format!("trading_bot.log.{p}.gz"),
            p => format!("trading_bot.log.{p}"),
        };
        assert_eq!(name, &want);
        // Members start at a record and stay below maxBytes (no record here is that long).
        assert!(is_header(bytes), "{name} starts inside a record");
        assert!((bytes.len() as u64) < max, "{name}: {} bytes", bytes.len());
        let m = &t.handler_members[k];
        assert_eq!(m.bytes, bytes.len() as u64);
        assert_eq!(m.records, records(bytes).len() as u64);
        assert_eq!(
            m.lines as usize,
            bytes.iter().filter(|&&b| b == b'\n').count()
        );
    }
    // Each member was rolled because the next record would have reached maxBytes.
    for w in mems.windows(2) {
        let first_next = records(&w[1].1)[0].len();
        assert!(
            w[0].1.len() + first_next >= max as usize,
            "{} rolled early",
            w[0].0
        );
    }

    // The same records, byte for byte, merged: each tee file's in its own order.
    let all: Vec<Vec<u8>> = mems.iter().flat_map(|(_, b)| records(b)).collect();
    let tee_all: Vec<Vec<u8>> = tee.iter().flat_map(|(_, r)| r.clone()).collect();
    assert_eq!(all.len(), tee_all.len());
    assert_eq!(multiset(&all), multiset(&tee_all));
    let src = merge_sources(&tee, &all);
    assert!(
        src.iter().all(Option::is_some),
        "the handler is not a merge of the tee files"
    );

    // Streams: each process's tee file, then the members holding its records.
    let mut k = 0;
    let mut holds: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); tee.len()];
    for (m, (_, bytes)) in mems.iter().enumerate() {
        for _ in records(bytes) {
            holds[src[k].unwrap()].insert(m);
            k += 1;
        }
    }
    for (i, st) in t.streams.iter().enumerate() {
        let want: Vec<String> = std::iter::once(tee[i].0.clone())
            .chain(holds[i].iter().map(|&m| mems[m].0.clone()))
            .collect();
        assert_eq!(st.files, want);
        assert_eq!(st.pid, t.files[i].pid);
    }
    // Restarts append: process 2's first record follows process 1's last in the copy.
    assert!(t.handler_members.iter().any(|m| m.pids.len() > 1));

    // The handler copy of a line without a row is the same text.
    let line_of = |file: &str, line: u32| -> Vec<u8> {
        let path = if file.starts_with("trading_bot.log") {
            dir.join("logs").join(file)
        } else {
            dir.join("monitoring_logs").join(file)
        };
        read(&path)
            .split(|&b| b == b'\n')
            .nth(line as usize - 1)
            .unwrap()
            .to_vec()
    };
    let mut copied = 0;
    for l in &t.missing_in_db {
        for c in &l.copies {
            assert_eq!(line_of(&l.file, l.line), line_of(&c.file, c.line));
            copied += 1;
        }
    }
    assert!(copied > 0);
    assert_eq!(t.copy_gaps.len(), 0);
}

#[test]
fn turning_the_copy_on_changes_no_other_file() {
    let args = [
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
    ];
    let tmp = tempfile::tempdir().unwrap();
    let plain = tmp.path().join("plain");
    let copy = tmp.path().join("copy");
    let debug = tmp.path().join("debug");
    let a = gen_cli(&plain, &args);
    let with: Vec<&str> = args
        .iter()
        .copied()
        .chain([
            "--handler-copy",
            "--handler-max-bytes",
            "100K",
            "--handler-gzip-from",
            "2",
        ])
        .collect();
    let b = gen_cli(&copy, &with);
    // LOG_LEVEL=DEBUG filters nothing the generator writes.
    let lvl: Vec<&str> = args
        .iter()
        .copied()
        .chain(["--fault", "log-level=DEBUG"])
        .collect();
    let c = gen_cli(&debug, &lvl);
    for t in [&a, &c] {
        assert!(t.handler_files.is_empty() && t.handler_members.is_empty());
    }
    assert!(b.handler_files.len() > 3);
    for f in &a.files {
        let name = Path::new("monitoring_logs").join(&f.name);
        for other in [&copy, &debug] {
            assert!(
                read(&plain.join(&name)) == read(&other.join(&name)),
                "{}",
                f.name
            );
        }
    }
    for name in ["events.csv", "events.sql"] {
        for other in [&copy, &debug] {
            assert!(read(&plain.join(name)) == read(&other.join(name)), "{name}");
        }
    }
    // The truth's findings are the same (the copy only adds where each line is copied).
    for t in [&b, &c] {
        let ids = |t: &Truth| t.missing_in_log.iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids(&a), ids(t));
        let lines = |t: &Truth| {
            t.missing_in_db
                .iter()
                .map(|l| (l.file.clone(), l.line))
                .collect::<Vec<_>>()
        };
        assert_eq!(lines(&a), lines(t));
        assert_eq!(a.batch_failures, t.batch_failures);
        assert_eq!(a.duplicates, t.duplicates);
    }
    assert!(b.missing_in_db.iter().all(|l| l.copies.len() == 1));
    assert!(b.missing_in_db.iter().all(|l| l.file.starts_with("bot_")));
}

/// Naive local ms (hosts at +04:00, exact clocks) → UTC µs.
fn utc_us(rec: &[u8]) -> i64 {
    (naive_ms(rec) - 4 * 3_600_000) * 1000
}

#[test]
fn a_copy_gap_is_in_one_copy_only() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let p = handler_params(9, 400 << 10, Some(2));
    let spec = [
        "lost-log-lines=15",
        "lost-db-batch=2",
        "copy-gap=6",
        "handler-gap=2:4@0.3",
    ];
    let t = write(&dir, &p, &spec);
    assert_eq!(t.copy_gaps.len(), 2, "{:?}", t.copy_gaps);
    let tee = tee_records(&dir, &t);
    let mems = members(&dir, &t);
    let handler: Vec<Vec<u8>> = mems.iter().flat_map(|(_, b)| records(b)).collect();
    let tee_all: Vec<Vec<u8>> = tee.iter().flat_map(|(_, r)| r.clone()).collect();

    // The tee of process 1 lost a stretch the handler has.
    let g = &t.copy_gaps[0];
    assert_eq!(g.pid, t.files[0].pid);
    assert_eq!(g.missing_from, vec![t.files[0].name.clone()]);
    let (from, to) = (parse_us(&g.from_utc).unwrap(), parse_us(&g.to_utc).unwrap());
    assert!(to - from > 5 * 60_000_000, "{g:?}");
    let only_handler = minus(&handler, &tee_all);
    assert_eq!(only_handler.len() as u64, g.records);
    assert!(
        only_handler
            .iter()
            .all(|r| (from..=to).contains(&utc_us(r)))
    );
    assert!(tee[0].1.iter().all(|r| !(from..=to).contains(&utc_us(r))));
    // Where the handler has them: the members named, each holding some.
    let mut holding = BTreeSet::new();
    for (name, bytes) in &mems {
        if records(bytes).iter().any(|r| only_handler.contains(r)) {
            holding.insert(name.clone());
        }
    }
    assert_eq!(holding, g.present_in_all.iter().cloned().collect());
    assert_eq!(g.present_in, g.present_in_all[0]);

    // The handler lost a stretch of process 2 the tee has.
    let h = &t.copy_gaps[1];
    assert_eq!(h.pid, t.files[1].pid);
    assert_eq!(h.present_in, t.files[1].name);
    let (from, to) = (parse_us(&h.from_utc).unwrap(), parse_us(&h.to_utc).unwrap());
    let only_tee = minus(&tee_all, &handler);
    assert_eq!(only_tee.len() as u64, h.records);
    assert!(only_tee.iter().all(|r| (from..=to).contains(&utc_us(r))));
    let in_window: Vec<&Vec<u8>> = tee[1]
        .1
        .iter()
        .filter(|r| (from..=to).contains(&utc_us(r)))
        .collect();
    assert_eq!(in_window.len() as u64, h.records);
    // The member(s) named were being written meanwhile.
    for m in &h.missing_from {
        let hm = t.handler_members.iter().find(|x| &x.name == m).unwrap();
        let (a, b) = (
            parse_us(&hm.start_utc).unwrap(),
            parse_us(&hm.end_utc).unwrap(),
        );
        assert!(a <= to && from <= b, "{m} was not written during the gap");
    }

    // The DB is untouched, and the lost lines and rows are those of the scenario without
    // the gaps: the copies' stretches are not lost events.
    let tmp2 = tempfile::tempdir().unwrap();
    let plain = tmp2.path().join("s");
    let u = write(&plain, &p, &spec[..2]);
    assert!(read(&dir.join("events.csv")) == read(&plain.join("events.csv")));
    let ids = |t: &Truth| t.missing_in_log.iter().map(|r| r.id).collect::<Vec<_>>();
    assert_eq!(ids(&t), ids(&u));
    let key = |t: &Truth| {
        t.missing_in_db
            .iter()
            .map(|l| (l.event_type.clone(), l.created_utc.clone()))
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(key(&t), key(&u));
}

#[test]
fn a_gap_without_a_handler_copy_or_outside_the_life_is_refused() {
    let p = Params::new(1);
    let e = Scenario::plan(&p, &faults(&["copy-gap=5"])).unwrap_err();
    assert!(e.to_string().contains("--handler-copy"), "{e}");
    let mut p = Params::new(1);
    p.handler = Some(HandlerCopy::default());
    assert!(Scenario::plan(&p, &faults(&["copy-gap=5"])).is_ok());
    // 40 minutes from the middle of a 28-minute life.
    assert!(Scenario::plan(&p, &faults(&["copy-gap=40"])).is_err());
    assert!(Scenario::plan(&p, &faults(&["handler-gap=3:5"])).is_err());
    assert!(Scenario::plan(&p, &faults(&["copy-gap=5@0.3", "handler-gap=5@0.4"])).is_err());
}

/// A document reporting the truth's copies: a finding per gap, `copy_of`/`copies` on the
/// sources (paths under `logs/`, one `copy_of` as a string).
fn doc_of(t: &Truth) -> Value {
    let mut logs: Vec<Value> = Vec::new();
    for st in &t.streams {
        logs.push(json!({ "name": st.files[0], "copies": st.files[1..] }));
    }
    for m in &t.handler_members {
        let copy_of = if m.copy_of.len() == 1 {
            json!(m.copy_of[0])
        } else {
            json!(m.copy_of)
        };
        logs.push(
            json!({ "name": m.name, "path": format!("/x/logs/{}", m.name), "copy_of": copy_of }),
        );
    }
    let findings: Vec<Value> = t
        .copy_gaps
        .iter()
        .map(|g| {
            json!({
                "kind": "log_copy_gap",
                "log": { "file": g.present_in, "line": 1 },
                "logs": [ { "file": g.missing_from[0], "line": 1 } ],
                "details": { "missing_from": g.missing_from[0], "present_in": g.present_in,
                             "from_utc": g.from_utc, "to_utc": g.to_utc, "records": g.records }
            })
        })
        .collect();
    json!({ "sources": { "logs": logs }, "findings": findings })
}

fn tallies(
    m: &std::collections::BTreeMap<String, score::Tally>,
) -> HashMap<String, (usize, usize, usize)> {
    m.iter()
        .map(|(k, t)| (k.clone(), (t.tp, t.fp, t.fn_)))
        .collect()
}

#[test]
fn copies_scores_the_truth_perfectly_and_finds_what_is_off() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("s");
    let t = write(
        &dir,
        &handler_params(9, 400 << 10, Some(2)),
        &["overlap", "copy-gap=6", "handler-gap=2:4@0.3"],
    );
    let doc = doc_of(&t);
    let s = tallies(&score::copies(&t, &doc));
    let of: usize = t.handler_members.iter().map(|m| m.copy_of.len()).sum();
    let copies: usize = t.streams.iter().map(|s| s.files.len() - 1).sum();
    assert_eq!(s["log_copy_gap"], (2, 0, 0));
    assert_eq!(s["copy_of"], (of, 0, 0));
    assert_eq!(s["copies"], (copies, 0, 0));

    // One gap reported with the copies swapped, one stretch moved an hour away, one member
    // naming the wrong primary: each is missed, and each claim extra.
    let mut bad = doc.clone();
    let f = &mut bad["findings"];
    let d0 = f[0]["details"].clone();
    f[0]["details"]["missing_from"] = d0["present_in"].clone();
    f[0]["details"]["present_in"] = d0["missing_from"].clone();
    let late = |s: &Value| {
        let us = parse_us(s.as_str().unwrap()).unwrap() + 3_600_000_000;
        json!(
            chrono::DateTime::from_timestamp_micros(us)
                .unwrap()
                .to_rfc3339()
        )
    };
    let d1 = f[1]["details"].clone();
    f[1]["details"]["from_utc"] = late(&d1["from_utc"]);
    f[1]["details"]["to_utc"] = late(&d1["to_utc"]);
    let n = t.streams.len();
    bad["sources"]["logs"][n]["copy_of"] = json!("bot_19991231_000000.log");
    // A stretch reported in two pieces is one gap found, not an extra.
    let mut split = doc.clone();
    let piece = split["findings"][0].clone();
    split["findings"].as_array_mut().unwrap().push(piece);
    let s = tallies(&score::copies(&t, &bad));
    assert_eq!(s["log_copy_gap"], (0, 2, 2));
    let first = t.handler_members[0].copy_of.len();
    assert_eq!(s["copy_of"], (of - first, 1, first));
    let s = tallies(&score::copies(&t, &split));
    assert_eq!(s["log_copy_gap"], (2, 0, 0));

    // missing-logs: a missing_in_db finding citing the handler's copy of the line is the line.
    let u = write(
        &tmp.path().join("u"),
        &handler_params(5, 400 << 10, None),
        &["lost-db-batch=2"],
    );
    let l = u.missing_in_db.iter().find(|l| l.db_covered).unwrap();
    let c = &l.copies[0];
    let doc = json!({ "findings": [
        { "kind": "missing_in_db", "log": { "file": c.file, "line": c.line } } ] });
    let s = tallies(&score::missing_logs(&u, &doc));
    let expected = u.missing_in_db.iter().filter(|l| l.db_covered).count();
    assert_eq!(s["missing_in_db"], (1, 0, expected - 1));
}

#[test]
fn the_copies_suite_generates_and_scores_itself() {
    let tmp = tempfile::tempdir().unwrap();
    for (k, c) in score::copies_suite().into_iter().enumerate() {
        let dir = tmp.path().join(format!("c{k}"));
        let s = Scenario::plan(&c.params, &c.faults).unwrap();
        let t = generate(&s, &dir).unwrap().truth;
        assert!(
            t.handler_files.len() >= 4,
            "{}: {:?}",
            c.name,
            t.handler_files
        );
        assert!(t.handler_members.iter().any(|m| m.gzip), "{}", c.name);
        assert_eq!(t.counts.handler_deleted, 0, "{}", c.name);
        let lost = t.counts.lost_log_lines as f64
            / (t.counts.log_event_lines + t.counts.lost_log_lines) as f64;
        assert!((0.02..0.04).contains(&lost), "{}: {lost}", c.name);
        let gaps = usize::from(k > 0);
        assert_eq!(t.copy_gaps.len(), gaps, "{}", c.name);
        let s = tallies(&score::copies(&t, &doc_of(&t)));
        assert_eq!(s["log_copy_gap"], (gaps, 0, 0), "{}", c.name);
        assert_eq!(s["copy_of"].1 + s["copy_of"].2, 0, "{}", c.name);
    }
}
