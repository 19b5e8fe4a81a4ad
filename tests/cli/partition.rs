//! `audit export --partition day` (Hive-style `date=YYYY-MM-DD/part-0.parquet`) read back and
//! compared with the timeline, and `audit export --since/--until/--last`.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::{DataFrame, ParquetReader, SerReader};
use serde_json::Value;

use crate::support::{audit, audit_in_repo, path_str, rows, run};

/// A log written at +04:00 whose lines fall on three UTC dates: local 02:00 on the 18th is
/// 22:00 UTC on the 17th; local 04:00 is midnight UTC, the first instant of the 18th; local
/// 03:59:59.999 on the 19th is the last millisecond of the 18th; local 04:00 on the 19th opens
/// the 19th.
const LOG: &str = "\
2025-10-18 02:00:00,000 - bot - INFO - a
2025-10-18 04:00:00,000 - bot - INFO - b
2025-10-18 12:00:00,000 - bot - INFO - c
2025-10-19 03:59:59,999 - bot - INFO - d
2025-10-19 04:00:00,000 - bot - INFO - e
";

fn read(path: &Path) -> DataFrame {
    ParquetReader::new(std::fs::File::open(path).unwrap())
        .finish()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn strings(df: &DataFrame, col: &str) -> Vec<String> {
    df.column(col)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap_or_default().to_string())
        .collect()
}

/// Every partition of a Hive-style directory: date → its rows.
fn partitions(dir: &Path) -> BTreeMap<String, DataFrame> {
    let mut out = BTreeMap::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        let day = name
            .strip_prefix("date=")
            .unwrap_or_else(|| panic!("not a partition: {name}"))
            .to_string();
        let files: Vec<String> = std::fs::read_dir(e.path())
            .unwrap()
            .map(|f| f.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(files, ["part-0.parquet"], "{name}");
        out.insert(day, read(&e.path().join("part-0.parquet")));
    }
    out
}

#[test]
fn rows_go_to_the_partition_of_their_utc_date() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bot_20251018_020000.log");
    std::fs::write(&log, LOG).unwrap();
    let lake = dir.path().join("lake");
    let mut c = audit();
    c.args(["export", "--logs", &path_str(&log), "--log-tz", "+04:00"])
        .args(["--parquet", &path_str(&lake), "--partition", "day"]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("wrote 5 rows"), "{}", r.stdout);
    let parts = partitions(&lake);
    let by_day: Vec<(&str, Vec<String>)> = parts
        .iter()
        .map(|(d, df)| (d.as_str(), strings(df, "message")))
        .collect();
    assert_eq!(
        by_day,
        [
            ("2025-10-17", vec!["a".to_string()]),
            ("2025-10-18", ["b", "c", "d"].map(String::from).to_vec()),
            ("2025-10-19", vec!["e".to_string()]),
        ]
    );
    // The partition value is the directory's (Hive style), not a column of the file.
    assert!(parts["2025-10-18"].column("date").is_err());
    assert!(parts["2025-10-18"].column("source_sha256").is_ok());

    // --since/--until: the UTC day of the 18th, the same three rows.
    let jl = dir.path().join("day.jsonl");
    let mut c = audit();
    c.args(["export", "--logs", &path_str(&log), "--log-tz", "+04:00"])
        .args([
            "--since",
            "2025-10-18T00:00:00Z",
            "--until",
            "2025-10-19T00:00:00Z",
        ])
        .args(["--jsonl", &path_str(&jl)]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let day: Vec<Value> = std::fs::read_to_string(&jl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let msgs: Vec<&str> = day.iter().map(|r| r["message"].as_str().unwrap()).collect();
    assert_eq!(msgs, ["b", "c", "d"]);
    assert_eq!(day[0]["ts_utc"], "2025-10-18T00:00:00.000000Z");
    // --last reaches from now: nothing from 2025 is in the last hour.
    let mut c = audit();
    c.args(["export", "--logs", &path_str(&log), "--log-tz", "+04:00"])
        .args(["--last", "1h", "--jsonl", &path_str(&jl)]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(std::fs::read_to_string(&jl).unwrap(), "");

    // Exporting again replaces the partitions it writes and leaves the others.
    let mut c = audit();
    c.args(["export", "--logs", &path_str(&log), "--log-tz", "+04:00"])
        .args(["--since", "2025-10-19T00:00:00Z"])
        .args(["--parquet", &path_str(&lake), "--partition", "day"]);
    assert_eq!(run(c).code, 0);
    let again = partitions(&lake);
    assert_eq!(again.len(), 3);
    assert_eq!(strings(&again["2025-10-19"], "message"), ["e"]);
    assert_eq!(strings(&again["2025-10-17"], "message"), ["a"]);
}

#[test]
fn the_partitioned_incident_reads_back_as_the_timeline() {
    let dir = tempfile::tempdir().unwrap();
    let lake = dir.path().join("lake");
    let mut c = audit_in_repo();
    c.args(["export", "--window", "14:07-14:08"]).args([
        "--parquet",
        &path_str(&lake),
        "--partition",
        "day",
    ]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let parts = partitions(&lake);
    // 14:07 at +03:00 is 11:07 UTC on the 18th: one partition.
    assert_eq!(parts.keys().collect::<Vec<_>>(), ["2025-10-18"]);
    let df = &parts["2025-10-18"];
    let mut c = audit_in_repo();
    c.args(["timeline", "--window", "14:07-14:08", "--format", "json"]);
    let tl = crate::support::json(c);
    let want: Vec<&str> = rows(&tl)
        .iter()
        .map(|r| r["source_ref"].as_str().unwrap())
        .collect();
    assert!(want.len() > 466, "466 DB rows and their log lines");
    assert_eq!(
        strings(df, "source_ref"),
        want,
        "the same rows, in the same order"
    );
    let events: Vec<Option<i64>> = df
        .column("event_id")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect();
    let want_events: Vec<Option<i64>> = rows(&tl).iter().map(|r| r["event_id"].as_i64()).collect();
    assert_eq!(events, want_events);
    assert_eq!(
        strings(df, "payload"),
        rows(&tl)
            .iter()
            .map(|r| r["payload"].as_str().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    );
}

#[test]
fn partition_flags_that_cannot_work_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("t.parquet");
    std::fs::write(&file, b"x").unwrap();
    // --partition names a directory.
    let mut c = audit_in_repo();
    c.args([
        "export",
        "--window",
        "14:07-14:08",
        "--parquet",
        &path_str(&file),
    ])
    .args(["--partition", "day"]);
    run(c).assert_one_error_line(&["t.parquet", "is a file"]);
    // --partition without --parquet: clap names what is missing.
    let mut c = audit_in_repo();
    c.args([
        "export",
        "--jsonl",
        &path_str(&dir.path().join("t.jsonl")),
        "--partition",
        "day",
    ]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.contains("required arguments were not provided"),
        "{}",
        r.stderr
    );
    // A range and a window are two answers to one question.
    let mut c = audit_in_repo();
    c.args(["export", "--window", "14:07-14:08", "--last", "1h"])
        .args(["--jsonl", &path_str(&dir.path().join("t.jsonl"))]);
    run(c).assert_one_error_line(&["--window", "--since/--until/--last"]);
}
