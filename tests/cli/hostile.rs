//! Hostile and broken inputs (tests/corpus, written by make.py; the large cases are made
//! here): unusable input is one error line naming what and where, exit 2; usable input with
//! damage goes on, says what was lost on stderr, and counts it in `--format json` sources.

use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;

use serde_json::Value;

use crate::support::{
    audit, finding_kinds, incident, json, path_str, root, rows, run, utc_times_in_order,
};

fn corpus(name: &str) -> String {
    path_str(&root().join("tests/corpus").join(name))
}

fn log_timeline(path: &str) -> (Value, String) {
    let mut c = audit();
    c.args([
        "timeline", "--logs", path, "--log-tz", "UTC", "--format", "json",
    ]);
    let r = run(c);
    assert_eq!(r.code, 0, "{path}: {}", r.stderr);
    (serde_json::from_str(&r.stdout).unwrap(), r.stderr)
}

fn unusable(args: &[&str], needles: &[&str]) {
    let mut c = audit();
    c.args(args);
    let r = run(c);
    r.assert_one_error_line(needles);
    assert!(r.stdout.is_empty(), "no partial output: {}", r.stdout);
}

#[test]
fn an_empty_log_is_a_warning() {
    let (v, err) = log_timeline(&corpus("empty.log"));
    assert!(rows(&v).is_empty());
    assert!(err.contains("warning: empty.log: empty file"), "{err}");
}

#[test]
fn a_png_is_not_a_log() {
    unusable(
        &["timeline", "--logs", &corpus("not_a_log.png")],
        &["not_a_log.png", "not a log file", "starts with a timestamp"],
    );
}

#[test]
fn binary_junk_is_not_a_log() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("junk.log");
    let junk: Vec<u8> = (0..200_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    std::fs::write(&p, junk).unwrap();
    unusable(
        &["timeline", "--logs", &path_str(&p)],
        &["junk.log", "not a log file"],
    );
}

#[test]
fn time_going_backwards_is_counted_and_rows_still_ordered() {
    let (v, err) = log_timeline(&corpus("backwards.log"));
    assert_eq!(v["sources"]["logs"][0]["backwards_steps"], 1);
    assert!(
        err.contains("1 records timed earlier than the one before them"),
        "{err}"
    );
    assert_eq!(utc_times_in_order(&v).len(), 6);
}

#[test]
fn an_unbalanced_or_absurdly_nested_repr_is_a_malformed_event() {
    let (v, err) = log_timeline(&corpus("repr_unbalanced.log"));
    assert_eq!(v["sources"]["logs"][0]["malformed_events"], 1);
    assert_eq!(rows(&v)[0]["kind"], "malformed_event");
    assert_eq!(rows(&v)[1]["kind"], "event");
    assert!(
        err.contains("1 event lines whose Python dict does not parse"),
        "{err}"
    );
    // 10 000 nested brackets: refused by the depth limit, not a stack overflow.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("deep.log");
    let deep = format!(
        "2025-10-18 15:00:01,000 - core.event_logger - INFO - x: {{'a': {}}}\n",
        "[".repeat(10_000)
    );
    std::fs::write(&p, deep).unwrap();
    let (v, _) = log_timeline(&path_str(&p));
    assert_eq!(rows(&v)[0]["kind"], "malformed_event");
    assert!(
        rows(&v)[0]["payload"]
            .as_str()
            .unwrap()
            .contains("nesting deeper than 256")
    );
}

#[test]
fn a_corrupt_gzip_is_an_error() {
    unusable(
        &[
            "timeline",
            "--logs",
            &corpus("corrupt.log.gz"),
            "--log-tz",
            "UTC",
        ],
        &["corrupt.log.gz", "cannot decompress"],
    );
}

#[test]
fn a_fifty_megabyte_line_is_kept_to_the_cap_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("long.log");
    let mut f = std::fs::File::create(&p).unwrap();
    f.write_all(b"2025-10-18 15:00:01,000 - m - INFO - ")
        .unwrap();
    f.write_all(&vec![b'x'; 50 << 20]).unwrap();
    f.write_all(b"\n2025-10-18 15:00:02,000 - m - INFO - after\n")
        .unwrap();
    drop(f);
    let (v, err) = log_timeline(&path_str(&p));
    assert_eq!(v["sources"]["logs"][0]["truncated_records"], 1);
    let msg = rows(&v)[0]["message"].as_str().unwrap();
    assert!(msg.len() < (1 << 20) + 100, "{}", msg.len());
    assert!(
        msg.ends_with("more bytes not kept]"),
        "{}",
        &msg[msg.len() - 60..]
    );
    assert_eq!(rows(&v)[1]["message"], "after");
    assert!(err.contains("records longer than 1 MiB"), "{err}");
}

#[test]
fn ten_thousand_tiny_files_in_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..10_000 {
        std::fs::write(
            dir.path().join(format!("bot_{i:05}.log")),
            format!(
                "2025-10-18 15:{:02}:{:02},000 - m - INFO - file {i}\n",
                (i / 60) % 60,
                i % 60
            ),
        )
        .unwrap();
    }
    let mut c = audit();
    c.args([
        "timeline",
        "--logs",
        &path_str(dir.path()),
        "--log-tz",
        "UTC",
        "--count",
        "--format",
        "json",
    ]);
    let v = json(c);
    assert_eq!(v["total"], 10_000);
    assert_eq!(v["sources"]["logs"].as_array().unwrap().len(), 10_000);
}

#[test]
fn a_log_line_from_a_year_the_db_does_not_cover_accuses_nothing() {
    let mut c = audit();
    c.args([
        "missing-logs",
        "--events",
        &path_str(&incident().join("events.csv")),
        "--logs",
        &corpus("future_year.log"),
        "--log-tz",
        "UTC",
        "--format",
        "json",
    ]);
    let r = run(c);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let kinds = finding_kinds(&v);
    assert!(!kinds.contains(&"missing_in_db"), "{kinds:?}");
    assert!(
        !kinds.contains(&"missing_in_log"),
        "no log file covers 2025: {kinds:?}"
    );
    assert!(kinds.contains(&"no_log_coverage"));
}

#[test]
fn csv_snapshots_with_broken_shapes() {
    unusable(
        &["timeline", "--events", &corpus("csv_missing_required.csv")],
        &["csv_missing_required.csv", "missing column(s) created_at"],
    );
    unusable(
        &["timeline", "--events", &corpus("csv_bad_timestamp.csv")],
        &["row 1 (id 7)", "`yesterday at noon` is not a timestamp"],
    );

    let mut c = audit();
    c.args([
        "timeline",
        "--events",
        &corpus("csv_extra_and_missing_optional.csv"),
        "--format",
        "json",
    ]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        v["sources"]["events"]["extra_columns"],
        serde_json::json!(["colour"])
    );
    assert!(
        v["sources"]["events"]["missing_columns"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "event_data")
    );
    assert!(r.stderr.contains("no column(s) event_data"), "{}", r.stderr);
    assert_eq!(rows(&v).len(), 1);

    let mut c = audit();
    c.args([
        "timeline",
        "--events",
        &corpus("csv_nulls.csv"),
        "--format",
        "json",
    ]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let skipped = v["sources"]["events"]["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 2);
    assert_eq!(skipped[0]["reason"], "created_at is empty");
    assert_eq!(skipped[1]["reason"], "id or event_type is empty");
    assert_eq!(rows(&v).len(), 1);
    assert!(
        r.stderr
            .contains("2 rows skipped (first: row 1: created_at is empty)"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_parquet_snapshot_with_other_types() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("odd.parquet");
    // created_at as plain integers (epoch seconds): not a timestamp audit can place.
    let mut df = df!(
        "id" => [1i64, 2],
        "event_type" => ["a", "b"],
        "created_at" => [1_760_785_633i64, 1_760_785_634],
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&p).unwrap())
        .finish(&mut df)
        .unwrap();
    unusable(
        &["timeline", "--events", &path_str(&p)],
        &["odd.parquet", "row 1 (id 1)", "is not a timestamp"],
    );
    // ids as floats are refused by name.
    let p2 = dir.path().join("floatids.parquet");
    let mut df =
        df!("id" => [1.5f64], "event_type" => ["a"], "created_at" => ["2025-10-18 14:07:15+03"])
            .unwrap();
    ParquetWriter::new(std::fs::File::create(&p2).unwrap())
        .finish(&mut df)
        .unwrap();
    unusable(
        &["timeline", "--events", &path_str(&p2)],
        &["floatids.parquet", "column id", "not an integer"],
    );
}

#[test]
fn a_closed_pipe_is_not_an_error() {
    // `audit timeline … | head -1`
    let mut child = crate::support::audit_std()
        .current_dir(root())
        .args(["timeline", "--window", "14:00-14:30", "--format", "csv"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with("ts_utc,"));
    // The reader is gone: the next writes fail with EPIPE.
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains("error"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
