//! `audit-gen` scenarios through the real `audit` binary: the generated files parse cleanly,
//! and what `audit` reads (counts, clocks, the database loaded from events.sql) is what
//! truth.json says was written.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::Value;

use crate::support::pg::pg;
use crate::support::scenario::{audit_gen, check, generate};
use crate::support::{
    audit, comparable_findings, events_not_parsed, finding_kinds, findings_json, json, path_str,
    rows,
};

const ALL_FAULTS: [&str; 14] = [
    "--fault",
    "lost-log-lines=6",
    "--fault",
    "lost-db-batch=2",
    "--fault",
    "duplicates=3",
    "--fault",
    "overlap",
    "--fault",
    "ghost-writer",
    "--fault",
    "skewed-host=+05:30",
    "--fault",
    "offset-change",
];

fn timeline(dir: &Path, extra: &[&str]) -> Value {
    let mut c = audit();
    c.args(["--quiet", "timeline", "--logs"])
        .arg(dir.join("monitoring_logs"))
        .args(["--format", "json"])
        .args(extra);
    json(c)
}

#[test]
fn generated_logs_parse_cleanly_and_timeline_counts_match_the_truth() {
    let mut scenarios: Vec<Vec<&str>> = vec![vec!["--seed", "21", "--hours", "0.5"]];
    let mut all = vec!["--seed", "22", "--hours", "1", "--log-mib", "3"];
    all.extend(ALL_FAULTS);
    scenarios.push(all);
    for args in scenarios {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let truth = generate(dir, &args);
        let csv = path_str(&dir.join("events.csv"));
        let v = timeline(dir, &["--events", &csv]);
        let logs = v["sources"]["logs"].as_array().unwrap();
        assert_eq!(logs.len(), truth.files.len(), "{args:?}");
        let mut records = 0;
        for l in logs {
            let name = l["name"].as_str().unwrap();
            let f = truth
                .file(name)
                .unwrap_or_else(|| panic!("{name} not in truth"));
            assert_eq!(l["malformed_events"], 0, "{name}");
            assert_eq!(l["orphan_lines"], 0, "{name}");
            assert_eq!(l["lines"], f.lines, "{name}: lines");
            assert_eq!(l["records"], f.records, "{name}: records");
            assert_eq!(l["bytes"], f.bytes, "{name}: bytes");
            assert_eq!(l["invalid_utf8_lines"], f.invalid_utf8_lines, "{name}");
            assert_eq!(l["pids"], serde_json::json!([f.pid]), "{name}");
            records += f.records;
        }
        assert_eq!(v["sources"]["events"]["rows"], truth.counts.db_rows);
        assert_eq!(
            v["sources"]["events"]["skipped"].as_array().map(Vec::len),
            Some(0)
        );
        let r = rows(&v);
        assert_eq!(r.len() as u64, truth.counts.db_rows + records, "{args:?}");
        // Every DB row of every type, and every event line, is on the timeline.
        let mut by_type: BTreeMap<String, u64> = BTreeMap::new();
        let mut event_lines = 0u64;
        for x in r {
            match (x["source"].as_str(), x["kind"].as_str()) {
                (Some("db"), _) => {
                    *by_type
                        .entry(x["event_type"].as_str().unwrap().to_string())
                        .or_default() += 1
                }
                (Some("log"), Some("event")) => event_lines += 1,
                _ => {}
            }
        }
        assert_eq!(by_type, truth.counts.by_type, "{args:?}");
        assert_eq!(event_lines, truth.counts.log_event_lines, "{args:?}");
    }
}

#[test]
fn skew_finds_each_files_offset_and_where_it_changes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let truth = generate(
        dir,
        &[
            "--seed",
            "23",
            "--hours",
            "1",
            "--fault",
            "skewed-host=+05:30",
            "--fault",
            "offset-change=+05:00",
            "--fault",
            "overlap",
        ],
    );
    let v = check("skew", dir, &[]);
    let mut changes = 0;
    for f in &truth.files {
        let s = &v["skew"][&f.name];
        assert_eq!(s["confidence"], "high", "{}: {s}", f.name);
        // The fit's segments: each anchored stretch, with its whole-zone offset.
        let segs = s["fit"].as_array().unwrap();
        let got: Vec<&str> = segs.iter().map(|x| x["offset"].as_str().unwrap()).collect();
        let want: Vec<&str> = f.offsets.iter().map(|o| o.offset.as_str()).collect();
        assert_eq!(got, want, "{}", f.name);
        assert_eq!(s["zone"], want[0], "{}", f.name);
        for (k, o) in f.offsets.iter().enumerate().skip(1) {
            // The change is found between the last twin before it and the first after it.
            let before = segs[k - 1]["last_line"].as_u64().unwrap();
            let after = segs[k]["first_line"].as_u64().unwrap();
            let at = u64::from(o.from_line);
            assert!(
                before < at && at <= after,
                "{}: {before} < {at} <= {after}",
                f.name
            );
            let finding = v["findings"]
                .as_array()
                .unwrap()
                .iter()
                .find(|x| x["kind"] == "clock_offset_change" && x["log"]["file"] == f.name.as_str())
                .unwrap_or_else(|| panic!("no clock_offset_change for {}", f.name));
            assert_eq!(finding["log"]["line"], after);
            changes += 1;
        }
    }
    assert_eq!(changes, 1);
    assert_eq!(truth.files.len(), 3);
    assert!(truth.files.iter().any(|f| f.offsets[0].offset == "+05:30"));
}

fn files_of(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for sub in [dir.to_path_buf(), dir.join("monitoring_logs")] {
        for e in std::fs::read_dir(&sub).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

#[test]
fn the_same_seed_writes_the_same_bytes() {
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let mut args = vec!["--seed", "24", "--hours", "0.5", "--sql"];
    args.extend(ALL_FAULTS);
    generate(a.path(), &args);
    generate(b.path(), &args);
    args[1] = "25";
    generate(c.path(), &args);
    let (fa, fb, fc) = (files_of(a.path()), files_of(b.path()), files_of(c.path()));
    // 3 logs (the overlap adds a process), events.csv, events.sql, truth.json.
    assert_eq!(fa.len(), 6, "{:?}", fa.keys());
    assert!(fa == fb, "same seed, different bytes");
    assert!(
        fa["events.csv"] != fc["events.csv"],
        "another seed, same rows"
    );
    // Generating again into the same directory replaces the scenario (no stale events.sql).
    generate(a.path(), &["--seed", "25", "--hours", "0.5"]);
    let again: Vec<String> = files_of(a.path()).into_keys().collect();
    assert_eq!(again.len(), 4, "{again:?}");
    assert!(!again.contains(&"events.sql".to_string()));
}

#[test]
fn events_sql_loads_and_the_database_gives_the_csv_timeline() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut args = vec!["--seed", "26", "--hours", "0.5", "--sql"];
    args.extend(ALL_FAULTS);
    let truth = generate(dir, &args);
    let db = pg().load("synth", &[&dir.join("events.sql")]);
    let count = pg()
        .psql_on(
            &db,
            &[
                "-c",
                "SELECT count(*), count(DISTINCT id) FROM monitoring.events",
            ],
        )
        .unwrap();
    assert_eq!(
        count.trim(),
        format!("{0}|{0}", truth.counts.db_rows),
        "rows loaded"
    );
    // The sequence continues after the explicit ids.
    let next = pg()
        .psql_on(
            &db,
            &[
                "-c",
                "SELECT nextval('monitoring.events_id_seq') > max(id) FROM monitoring.events",
            ],
        )
        .unwrap();
    assert_eq!(next.trim(), "t");
    let url = pg().url(&db);
    let csv = path_str(&dir.join("events.csv"));
    // The same display zone for both, so psql-style local times compare too.
    let from_db = timeline(dir, &["--db", &url, "--tz", "+03:00"]);
    let from_csv = timeline(dir, &["--events", &csv, "--tz", "+03:00"]);
    assert_eq!(from_db["sources"]["events"]["kind"], "postgresql");
    assert_eq!(from_db["sources"]["events"]["rows"], truth.counts.db_rows);
    let (a, b) = (rows(&from_db), rows(&from_csv));
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x, y, "a row differs between PostgreSQL and events.csv");
    }
}

#[test]
fn bad_faults_and_foreign_directories_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    // What the binary would exit with and print on stderr.
    let run = |args: &[&str]| match audit_gen(args.iter().copied()) {
        Ok(_) => (0, String::new()),
        Err(e) => (e.exit_code(), e.to_string()),
    };
    let out = path_str(&tmp.path().join("x"));
    let (code, err) = run(&["--out", &out, "--fault", "rain"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown fault `rain`"), "{err}");
    let (code, err) = run(&["--out", &out, "--hours", "0.05"]);
    assert_eq!(code, 2);
    assert!(err.contains("at least 10 minutes"), "{err}");
    std::fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
    let (code, err) = run(&["--out", &path_str(tmp.path())]);
    assert_eq!(code, 2);
    assert!(err.contains("notes.txt"), "{err}");
    assert!(tmp.path().join("notes.txt").exists());
}

/// A windowed question over big files searches them on the first pass (typed lines by their
/// fixed texts, newlines counted, an index, a few stretches parsed for clock detection) and
/// reads the window back whole: the findings must be exactly those of a full parse. The same
/// holds for the parsed, sampled first pass (`AUDIT_SEEK=0`, and what `.gz` files get).
#[test]
fn a_sampled_first_pass_finds_what_a_full_one_finds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut args = vec!["--seed", "23", "--hours", "1", "--log-mib", "3"];
    args.extend(ALL_FAULTS);
    generate(dir, &args);
    let csv = path_str(&dir.join("events.csv"));
    let logs = path_str(&dir.join("monitoring_logs"));
    // None: a full parse; Some(seek): files over 128 KiB searched ("1") or sampled ("0").
    let run = |first_pass: Option<&str>, cmd: &[&str]| -> Value {
        let mut c = audit();
        c.args(["--quiet"])
            .args(cmd)
            .args(["--events", &csv, "--logs", &logs, "--format", "json"]);
        if let Some(seek) = first_pass {
            c.env("AUDIT_SAMPLE_BYTES", "65536").env("AUDIT_SEEK", seek);
        }
        findings_json(c)
    };
    // What each kind of first pass leaves in `sources`: a search parses a small part of each
    // file, a sampled parse counts the event lines it did not parse.
    let shows_its_pass = |v: &Value, seek: &str| {
        let logs = v["sources"]["logs"].as_array().unwrap();
        assert!(logs.len() >= 2);
        let (mut all, mut read) = (0, 0);
        for l in logs {
            let (bytes, parsed) = (l["bytes"].as_u64().unwrap(), l["parsed_bytes"].as_u64());
            if seek == "1" {
                assert!(parsed.is_some_and(|p| p > 0 && p < bytes), "{l}");
            } else {
                assert!(parsed.is_none(), "{l}");
            }
            all += bytes;
            read += parsed.unwrap_or(bytes);
        }
        if seek == "1" {
            assert!(read * 4 < all, "{read} of {all} bytes parsed");
        }
        if seek == "0" {
            let not_parsed = events_not_parsed(v);
            assert!(not_parsed > 1000, "the files were sampled: {not_parsed}");
        }
    };
    let range = [
        "--since",
        "2025-10-18 03:20:00+00",
        "--until",
        "2025-10-18 03:40:00+00",
    ];
    let check: Vec<&str> = std::iter::once("check").chain(range).collect();
    let full = run(None, &check);
    // Only a clock change's explanation may differ (see `comparable_findings`).
    let comparable = comparable_findings;
    let kinds = finding_kinds(&full);
    assert!(kinds.contains(&"clock_offset_change"), "{kinds:?}");
    assert!(kinds.contains(&"missing_in_log"), "{kinds:?}");
    let window = [
        "missing-logs",
        "--window",
        "06:25-06:35",
        "--date",
        "2025-10-18",
    ];
    let full_window = run(None, &window);
    let mut tl = vec!["timeline"];
    tl.extend(&window[1..]);
    let full_timeline = run(None, &tl);
    assert!(rows(&full_timeline).len() > 100);
    let full_lines: Vec<u64> = full_window["sources"]["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["lines"].as_u64().unwrap())
        .collect();

    // A signal: its records are found by a byte search, its positions' events by their key.
    let text = std::fs::read_to_string(dir.join("events.csv")).unwrap();
    let at = text.find("open_position_").expect("a position was opened") + "open_position_".len();
    let signal: String = text[at..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    let sig = ["timeline", "--signal", &signal];
    let full_signal = run(None, &sig);
    let log_rows = rows(&full_signal)
        .iter()
        .filter(|r| r["source"] == "log")
        .count();
    let with_position = rows(&full_signal)
        .iter()
        .filter(|r| r["source"] == "log" && !r["position_id"].is_null())
        .count();
    assert!(
        log_rows > 2 && with_position > 0,
        "{log_rows} {with_position}"
    );

    for seek in ["1", "0"] {
        let sampled = run(Some(seek), &check);
        shows_its_pass(&sampled, seek);
        assert_eq!(comparable(&full), comparable(&sampled), "AUDIT_SEEK={seek}");

        let sampled = run(Some(seek), &window);
        shows_its_pass(&sampled, seek);
        assert_eq!(comparable(&full_window), comparable(&sampled), "{seek}");
        assert_eq!(full_window["summary"], sampled["summary"], "{seek}");
        // Lines are counted over the whole file either way.
        let lines: Vec<u64> = sampled["sources"]["logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["lines"].as_u64().unwrap())
            .collect();
        assert_eq!(lines, full_lines, "{seek}");

        let sampled = run(Some(seek), &tl);
        assert_eq!(rows(&full_timeline), rows(&sampled), "{seek}");
        // Asked again, the searched files' indexes (kept between runs) are used; without
        // them (`--no-cache`) the files are searched again: the same rows either way.
        let uncached: Vec<&str> = std::iter::once("--no-cache").chain(tl.clone()).collect();
        let from_index = |v: &Value| -> Vec<bool> {
            v["sources"]["logs"]
                .as_array()
                .unwrap()
                .iter()
                .map(|l| l["from_index"] == true)
                .collect()
        };
        let searched = run(Some(seek), &uncached);
        assert_eq!(rows(&full_timeline), rows(&searched));
        assert!(!from_index(&searched).contains(&true));
        if seek == "1" {
            assert!(
                !from_index(&sampled).contains(&false),
                "asked before: indexed"
            );
        }

        let sampled = run(Some(seek), &sig);
        shows_its_pass(&sampled, seek);
        assert_eq!(rows(&full_signal), rows(&sampled), "{seek}");
    }
    // The table's header says which files were searched rather than parsed.
    let out = audit()
        .args(window)
        .args(["--events", &csv, "--logs", &logs])
        .env("AUDIT_SAMPLE_BYTES", "65536")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let searched = text
        .lines()
        .filter(|l| l.contains(" lines indexed by an earlier run, "))
        .count();
    assert!(searched >= 2, "{text}");
    assert!(
        text.contains(&format!(
            "({} lines indexed by an earlier run, ",
            full_lines[0]
        )),
        "{text}"
    );
}

/// The naive counts come from the aligned frame (no window) or from a frame of their own (a
/// window): a window wider than the data must give the same counts as none.
#[test]
fn naive_counts_agree_with_and_without_a_window() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut args = vec!["--seed", "24", "--hours", "1"];
    args.extend(ALL_FAULTS);
    generate(dir, &args);
    let summary = |extra: &[&str]| -> Value {
        let mut c = audit();
        c.args(["--quiet", "missing-logs", "--format", "json", "--events"])
            .arg(dir.join("events.csv"))
            .arg("--logs")
            .arg(dir.join("monitoring_logs"))
            .args(extra);
        findings_json(c)["summary"].clone()
    };
    let whole = summary(&[]);
    let wide = summary(&["--window", "2025-10-17T00:00:00Z..2025-10-20T00:00:00Z"]);
    assert_eq!(whole["naive"], wide["naive"]);
    assert_eq!(whole["aligned"], wide["aligned"]);
    // The skewed host and the offset change make the naive reading differ.
    assert_ne!(whole["naive"]["total"], whole["aligned"]["total"]);
}

/// `audit check` over big logs runs in time slices (the first pass shared, the clocks decided
/// once, each slice loading its own rows). Forced here with 5-minute slices over a sampled
/// first pass: the findings, their order and the counts must be those of one pass over the
/// whole range, including the runs of rows that cross slice edges (joined again).
#[test]
fn a_sliced_check_finds_what_one_pass_finds() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let mut args = vec!["--seed", "27", "--hours", "3", "--log-mib", "6", "--sql"];
    args.extend(ALL_FAULTS);
    generate(dir, &args);
    let db = pg().load("sliced", &[&dir.join("events.sql")]);
    let url = pg().url(&db);
    let logs = path_str(&dir.join("monitoring_logs"));
    let run = |sliced: bool, extra: &[&str]| -> Value {
        let mut c = audit();
        c.args(["--quiet", "check", "--db", &url, "--logs", &logs])
            .args(["--format", "json"])
            .args(extra);
        if sliced {
            c.env("AUDIT_SLICE_MINUTES", "5")
                .env("AUDIT_SAMPLE_BYTES", "65536");
        }
        findings_json(c)
    };
    // Only a clock change's explanation may differ (see `comparable_findings`).
    let comparable = comparable_findings;
    let span_s = |f: &Value| -> i64 {
        let ids = f["event_ids"].as_array().map_or(0, Vec::len);
        let text = f["explanation"].as_str().unwrap_or_default();
        // "N DB row(s) from HH:MM:SS.mmm to HH:MM:SS.mmm UTC ..."
        let times: Vec<i64> = text
            .split(' ')
            .filter(|w| w.len() == 12 && w.as_bytes()[2] == b':')
            .map(|w| {
                let p: Vec<f64> = w.split(':').map(|x| x.parse().unwrap()).collect();
                (p[0] * 3600.0 + p[1] * 60.0 + p[2]) as i64
            })
            .collect();
        assert!(ids > 0 && times.len() >= 2, "{text}");
        times[1] - times[0]
    };
    for extra in [
        &[][..],
        &[
            "--since",
            "2025-10-18 04:10:00+00",
            "--until",
            "2025-10-18 05:40:00+00",
        ][..],
    ] {
        let whole = run(false, extra);
        let sliced = run(true, extra);
        let not_parsed = events_not_parsed(&sliced);
        assert!(
            not_parsed > 1000,
            "the first pass was sampled: {not_parsed}"
        );
        let kinds = finding_kinds(&whole);
        let expected: &[&str] = if extra.is_empty() {
            &[
                "missing_in_log",
                "missing_in_db",
                "duplicate_event",
                "process_overlap",
            ]
        } else {
            &["missing_in_log", "no_log_coverage"]
        };
        for k in expected
            .iter()
            .chain(&["unattributed_activity", "clock_offset_change"])
        {
            assert!(kinds.contains(k), "{extra:?}: {k} in {kinds:?}");
        }
        // A run longer than a slice: its pieces were joined.
        let longest = whole["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["kind"] == "unattributed_activity" || f["kind"] == "no_log_coverage")
            .map(span_s)
            .max()
            .unwrap();
        assert!(longest > 5 * 60, "{extra:?}: longest run {longest} s");
        assert_eq!(comparable(&whole), comparable(&sliced), "{extra:?}");
        assert_eq!(whole["summary"], sliced["summary"], "{extra:?}");
        if extra.is_empty() {
            // Every row once (a range's one pass also counts the rows of its margins).
            assert_eq!(
                whole["sources"]["events"]["rows"],
                sliced["sources"]["events"]["rows"]
            );
        }
    }

    // A rotated .gz among them: not sampled (its events come from the first pass, never read
    // back), the rest as before.
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(dir.join("monitoring_logs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.sort();
    let plain = names.pop().unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(format!("{}.gz", plain.display())).unwrap(),
        flate2::Compression::fast(),
    );
    std::io::copy(&mut std::fs::File::open(&plain).unwrap(), &mut gz).unwrap();
    gz.finish().unwrap();
    std::fs::remove_file(&plain).unwrap();
    let whole = run(false, &[]);
    let sliced = run(true, &[]);
    let gz_name = format!("{}.gz", plain.file_name().unwrap().to_string_lossy());
    let gz_source = sliced["sources"]["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == gz_name.as_str())
        .expect("the .gz file was read");
    assert_eq!(gz_source["events_not_parsed"].as_u64().unwrap_or(0), 0);
    assert!(
        whole["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.to_string().contains(&gz_name)),
        "the .gz file's lines are evidence"
    );
    assert_eq!(comparable(&whole), comparable(&sliced), "with a .gz");
    assert_eq!(whole["summary"], sliced["summary"], "with a .gz");
}
