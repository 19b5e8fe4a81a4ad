//! Log parsing through the binary, on the hand-made files of fixtures/logs (see make.py):
//! each expectation below is read off the file's text.

use serde_json::Value;

use crate::support::{audit, json, logs_fixture, path_str, rows, run};

fn timeline_of(path: &str, extra: &[&str]) -> Value {
    let mut c = audit();
    c.args([
        "timeline", "--logs", path, "--log-tz", "+04:00", "--format", "json",
    ])
    .args(extra);
    json(c)
}

fn log_info<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["sources"]["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("no source {name} in {}", v["sources"]))
}

#[test]
fn multiline_records_keep_tracebacks_banners_and_print_output() {
    let v = timeline_of(&path_str(&logs_fixture("multiline.log")), &[]);
    let info = log_info(&v, "multiline.log");
    // 14 lines: 1 banner before any record, 5 records, 8 continuation lines.
    assert_eq!(info["lines"], 14);
    assert_eq!(info["records"], 5);
    assert_eq!(info["orphan_lines"], 1);
    assert_eq!(info["continuation_lines"], 8);
    assert_eq!(info["pids"], serde_json::json!([52817]));
    let r = rows(&v);
    assert_eq!(r.len(), 5);
    // Every record carries the file's PID and its first line number.
    assert!(r.iter().all(|x| x["pid"] == 52817), "{r:?}");
    let lines: Vec<u64> = r.iter().map(|x| x["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![2, 6, 7, 12, 14]);
    // The traceback is part of the ERROR record.
    let err = &r[2];
    assert_eq!(err["level"], "ERROR");
    assert!(
        err["message"]
            .as_str()
            .unwrap()
            .ends_with("ConnectionResetError: [Errno 104] Connection reset by peer")
    );
    assert_eq!(err["message"].as_str().unwrap().lines().count(), 5);
    // The alternative format: `ts - LEVEL - [logger] message`.
    assert_eq!(r[3]["logger"], "monitoring.health");
    assert_eq!(r[3]["level"], "INFO");
    // Emoji survive; naive +04:00 becomes UTC.
    assert_eq!(
        r[0]["message"].as_str().unwrap().lines().next().unwrap(),
        "🚀 Starting trading bot"
    );
    assert_eq!(r[0]["ts_utc"], "2025-10-18T11:00:02.100000Z");
    assert_eq!(r[0]["local_time"], "2025-10-18 15:00:02,100");
    assert_eq!(r[0]["utc_offset"], "+04:00");
    // The event line's Python dict became canonical JSON (Decimal → number, True → true).
    let ev = &r[4];
    assert_eq!(ev["kind"], "event");
    assert_eq!(ev["event_type"], "bot_started");
    let payload: Value = serde_json::from_str(ev["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["limit"], 0.0051);
    assert_eq!(payload["ok"], true);
    assert_eq!(payload["note"], "it's \"quoted\"");
    assert_eq!(payload["nested"]["a"], serde_json::json!([1, 2.5, null]));
    // The lock line is typed.
    assert_eq!(r[1]["kind"], "lock_acquired");
}

#[test]
fn invalid_utf8_is_counted_not_fatal() {
    let v = timeline_of(&path_str(&logs_fixture("invalid_utf8.log")), &[]);
    let info = log_info(&v, "invalid_utf8.log");
    assert_eq!(info["invalid_utf8_lines"], 2);
    assert_eq!(info["records"], 3);
    let r = rows(&v);
    assert!(r[0]["message"].as_str().unwrap().contains('\u{FFFD}'));
    assert!(
        r[1]["message"]
            .as_str()
            .unwrap()
            .starts_with("next\ntail of a cut emoji")
    );
}

#[test]
fn crlf_endings_and_a_record_cut_at_end_of_file() {
    let v = timeline_of(&path_str(&logs_fixture("crlf_cut.log")), &[]);
    let r = rows(&v);
    assert_eq!(r.len(), 3);
    assert_eq!(r[1]["message"], "two\n  continued");
    // The cut event line is kept and counted as malformed, not dropped.
    assert_eq!(r[2]["kind"], "malformed_event");
    assert_eq!(r[2]["event_type"], "position_created");
    assert_eq!(log_info(&v, "crlf_cut.log")["malformed_events"], 1);
}

#[test]
fn rotated_and_gzipped_files_are_found_in_a_directory() {
    let v = timeline_of(&path_str(&logs_fixture("rotated")), &[]);
    let names: Vec<&str> = v["sources"]["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        // A rotation set from its oldest member to the live file.
        vec![
            "trading_bot.log.2.gz",
            "trading_bot.log.1",
            "trading_bot.log"
        ]
    );
    let r = rows(&v);
    assert_eq!(r.len(), 1 + 5 + 1);
    // Ordered by UTC across files: the gzipped oldest first, the newest last.
    assert_eq!(r.first().unwrap()["message"], "oldest");
    assert_eq!(r.last().unwrap()["message"], "newest");
    // A file spanning a restart is cut at each lock line: two processes.
    let procs: Vec<&str> = r
        .iter()
        .filter(|x| x["file"] == "trading_bot.log.1")
        .map(|x| x["process"].as_str().unwrap())
        .collect();
    assert_eq!(
        procs,
        vec![
            "trading_bot.log.1 (PID 41233)",
            "trading_bot.log.1 (PID 41233)",
            "trading_bot.log.1 (PID 41233)",
            "trading_bot.log.1 (PID 52817)",
            "trading_bot.log.1 (PID 52817)"
        ]
    );
    // The live file has no lock line: its record goes on with the process `.1` ended with.
    let newest = r.last().unwrap();
    assert_eq!(newest["file"], "trading_bot.log");
    assert_eq!(newest["pid"], 52817, "{newest}");
}

#[test]
fn a_glob_selects_files() {
    let pattern = format!("{}/trading_bot.log.*", path_str(&logs_fixture("rotated")));
    let v = timeline_of(&pattern, &[]);
    assert_eq!(v["sources"]["logs"].as_array().unwrap().len(), 2);
}

#[test]
fn truncated_gzip_is_an_error_naming_the_file() {
    let mut c = audit();
    c.args([
        "timeline",
        "--logs",
        &path_str(&logs_fixture("truncated.log.gz")),
        "--log-tz",
        "+04:00",
    ]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "one line: {}", r.stderr);
    assert!(
        r.stderr.contains("truncated.log.gz") && r.stderr.contains("decompress"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.is_empty(), "no partial timeline on stdout");
}

#[test]
fn lines_before_the_first_record_are_counted() {
    let v = timeline_of(&path_str(&logs_fixture("orphans.log")), &[]);
    assert_eq!(log_info(&v, "orphans.log")["orphan_lines"], 2);
    assert_eq!(rows(&v).len(), 1);
}

#[test]
fn gz_and_plain_copies_of_a_file_parse_the_same() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let src = std::fs::read(logs_fixture("multiline.log")).unwrap();
    let gz_path = dir.path().join("multiline.log.gz");
    let mut e = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz_path).unwrap(),
        flate2::Compression::default(),
    );
    e.write_all(&src).unwrap();
    e.finish().unwrap();
    let plain = timeline_of(&path_str(&logs_fixture("multiline.log")), &[]);
    let gz = timeline_of(&path_str(&gz_path), &[]);
    let strip = |v: &Value| -> Vec<Value> {
        rows(v)
            .iter()
            .map(|r| {
                let mut r = r.clone();
                for k in ["file", "source_ref", "process"] {
                    r.as_object_mut().unwrap().remove(k);
                }
                r
            })
            .collect()
    };
    assert_eq!(strip(&plain), strip(&gz));
    assert_eq!(log_info(&gz, "multiline.log.gz")["gzip"], true);
}
