//! The bundled incident, end to end from the repo root (the README's first command), checked
//! against facts read independently from the fixture files.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::support::{
    audit, audit_in_repo, comparable_findings, findings_json, incident, json, path_str, rows, run,
    utc_times_in_order,
};

/// The fixture's DB rows, read from events.csv with polars directly (not through audit).
struct DbRow {
    id: i64,
    correlation_id: Option<String>,
    position_id: Option<i64>,
    data: Value,
    created_at: String,
}

fn db_rows() -> Vec<DbRow> {
    use polars::prelude::*;
    let df = CsvReadOptions::default()
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(incident().join("events.csv")))
        .unwrap()
        .finish()
        .unwrap();
    let col = |n: &str| df.column(n).unwrap().str().unwrap().clone();
    let (id, corr, pos, data, created) = (
        col("id"),
        col("correlation_id"),
        col("position_id"),
        col("event_data"),
        col("created_at"),
    );
    (0..df.height())
        .map(|i| DbRow {
            id: id.get(i).unwrap().parse().unwrap(),
            correlation_id: corr.get(i).map(str::to_string),
            position_id: pos.get(i).map(|p| p.parse().unwrap()),
            data: data
                .get(i)
                .map_or(Value::Null, |d| serde_json::from_str(d).unwrap()),
            created_at: created.get(i).unwrap().to_string(),
        })
        .collect()
}

fn mentions(v: &Value, n: i64) -> bool {
    match v {
        Value::Number(x) => x.as_i64() == Some(n),
        Value::String(s) => s.parse::<i64>().ok() == Some(n),
        Value::Array(a) => a.iter().any(|x| mentions(x, n)),
        Value::Object(o) => o.values().any(|x| mentions(x, n)),
        _ => false,
    }
}

fn timeline(args: &[&str]) -> Value {
    let mut c = audit_in_repo();
    c.arg("timeline").args(args).args(["--format", "json"]);
    json(c)
}

#[test]
fn readme_first_command_shows_the_14_07_and_15_07_readings_side_by_side() {
    let mut c = audit_in_repo();
    c.args(["timeline", "--signal", "4869992"]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = &r.stdout;
    // The clock section names every applied offset and where it came from.
    assert!(out.contains("db (shown in): +03:00"), "{out}");
    // Nobody configured the logs' zone: it is detected, and the output says from what.
    let clock_line = out
        .lines()
        .find(|l| {
            l.trim_start()
                .starts_with("bot_20251018_145959.log: +04:00")
        })
        .expect("clock line of the 14:59:59 log");
    assert!(clock_line.contains("detected from"), "{clock_line}");
    // 785223 is the same instant on all three clocks: DB 14:07:13.510 (+03), log 15:07:13,510 (+04), 11:07:13.510 UTC.
    let db_line = out
        .lines()
        .find(|l| l.contains("db:785223"))
        .expect("row 785223");
    assert!(
        db_line.contains("11:07:13.510") && db_line.contains("14:07:13.510+03"),
        "{db_line}"
    );
    let log_line = out
        .lines()
        .find(|l| l.contains("15:07:13,510") && l.contains("position_error"))
        .expect("the position_error log line");
    assert!(log_line.contains("11:07:13.510"), "{log_line}");
    assert!(out.contains("db:785194"));
}

#[test]
fn signal_4869992_is_its_rows_and_the_position_it_opened() {
    let v = timeline(&["--signal", "4869992"]);
    let all = db_rows();
    // Independently: rows naming the signal, then every row of the positions they name.
    let direct: Vec<&DbRow> = all
        .iter()
        .filter(|r| {
            r.correlation_id
                .as_deref()
                .is_some_and(|c| c.starts_with("open_position_4869992_"))
                || mentions(&r.data, 4869992)
        })
        .collect();
    let positions: BTreeSet<i64> = direct
        .iter()
        .filter_map(|r| r.position_id.or_else(|| r.data["position_id"].as_i64()))
        .collect();
    assert_eq!(
        positions,
        BTreeSet::from([1318]),
        "signal 4869992 opened position 1318"
    );
    let expected: BTreeSet<i64> = all
        .iter()
        .filter(|r| {
            direct.iter().any(|d| d.id == r.id)
                || r.position_id
                    .or_else(|| r.data["position_id"].as_i64())
                    .is_some_and(|p| positions.contains(&p))
        })
        .map(|r| r.id)
        .collect();
    let got: BTreeSet<i64> = rows(&v)
        .iter()
        .filter_map(|r| r["event_id"].as_i64())
        .collect();
    assert_eq!(got, expected);
    assert!(got.contains(&785194) && got.contains(&785223));

    // Log side: only the process that was alive at 11:07 UTC, never the 07:06 one.
    let files: BTreeSet<&str> = rows(&v).iter().filter_map(|r| r["file"].as_str()).collect();
    assert_eq!(files, BTreeSet::from(["bot_20251018_145959.log"]));
    let exec = rows(&v)
        .iter()
        .find(|r| {
            r["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("Executing signal #4869992: RSRUSDT"))
        })
        .expect("the Executing signal line");
    assert_eq!(exec["local_time"], "2025-10-18 15:07:13,155");
    assert_eq!(exec["ts_utc"], "2025-10-18T11:07:13.155000Z");

    // The timeline is ordered by UTC.
    utc_times_in_order(&v);

    // The seed's two rows, on the UTC axis, with their correlation epochs.
    let by_id = |id: i64| {
        rows(&v)
            .iter()
            .find(|r| r["event_id"] == id)
            .unwrap()
            .clone()
    };
    let (a, b) = (by_id(785194), by_id(785223));
    assert_eq!(a["corr_epoch"], "2025-10-18T11:07:12.851694Z");
    assert_eq!(b["corr_epoch"], "2025-10-18T11:07:13.507987Z");
    assert!(
        a["ts_utc"]
            .as_str()
            .unwrap()
            .starts_with("2025-10-18T11:07:15.103")
    );
    assert!(
        b["ts_utc"]
            .as_str()
            .unwrap()
            .starts_with("2025-10-18T11:07:13.510")
    );
    assert_eq!(
        a["local_time"],
        all.iter().find(|r| r.id == 785194).unwrap().created_at
    );
}

#[test]
fn the_psql_minute_14_07_holds_466_db_rows_and_five_position_created() {
    let v = timeline(&["--window", "14:07-14:08"]);
    let db: Vec<&Value> = rows(&v).iter().filter(|r| r["source"] == "db").collect();
    assert_eq!(db.len(), 466);
    // Independently: created_at text in [14:07, 14:08) as psql printed it (+03).
    let expected = db_rows()
        .iter()
        .filter(|r| {
            r.created_at.as_str() >= "2025-10-18 14:07:00"
                && r.created_at.as_str() < "2025-10-18 14:08:00"
        })
        .count();
    assert_eq!(expected, 466);
    let created: BTreeSet<i64> = db
        .iter()
        .filter(|r| r["event_type"] == "position_created")
        .map(|r| r["event_id"].as_i64().unwrap())
        .collect();
    assert_eq!(
        created,
        BTreeSet::from([785168, 785173, 785194, 785245, 785249])
    );
    // Its log rows come from the process alive then, at 15:07 log time.
    let log_files: BTreeSet<&str> = rows(&v).iter().filter_map(|r| r["file"].as_str()).collect();
    assert_eq!(log_files, BTreeSet::from(["bot_20251018_145959.log"]));
    assert!(rows(&v).iter().filter(|r| r["source"] == "log").all(|r| {
        r["local_time"]
            .as_str()
            .unwrap()
            .starts_with("2025-10-18 15:07:")
    }));
}

#[test]
fn the_07_06_logs_14_07_lines_are_an_hour_before_the_db_minute() {
    let v = timeline(&["--window", "13:07-13:08"]);
    let coti = rows(&v)
        .iter()
        .find(|r| {
            r["event_type"] == "position_created"
                && r["source"] == "log"
                && r["symbol"] == "COTIUSDT"
        })
        .expect("COTIUSDT position_created in the 07:06 log");
    assert_eq!(coti["file"], "bot_20251018_070604.log");
    assert_eq!(coti["local_time"], "2025-10-18 14:07:12,079");
    assert_eq!(coti["ts_utc"], "2025-10-18T10:07:12.079000Z");
    assert_eq!(coti["position_id"], 1275);
    let lpt = rows(&v)
        .iter()
        .find(|r| {
            r["event_type"] == "position_created"
                && r["source"] == "log"
                && r["symbol"] == "LPTUSDT"
        })
        .expect("LPTUSDT");
    assert_eq!(lpt["local_time"], "2025-10-18 14:07:17,107");
    assert_eq!(lpt["position_id"], 1277);
}

#[test]
fn a_given_zone_the_data_contradicts_is_warned_about() {
    let mut c = audit_in_repo();
    c.args([
        "timeline", "--signal", "4869992", "--log-tz", "+03:00", "--format", "csv",
    ]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains("bot_20251018_145959.log: --log-tz +03:00 says +03:00, but 801 DB/log twins put it at +04:00"),
        "{}",
        r.stderr
    );
}

#[test]
fn count_totals_agree_with_the_rows_and_the_sources() {
    // Without a filter, plain messages are counted while parsing (never materialized).
    let v = timeline(&["--count"]);
    let records: u64 = v["sources"]["logs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["records"].as_u64().unwrap())
        .sum();
    assert_eq!(v["total"].as_u64().unwrap(), 6671 + records);
    let sum: u64 = v["counts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["rows"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, v["total"].as_u64().unwrap());
    // With a window, the count is exactly the rows the timeline prints.
    let counted = timeline(&["--count", "--window", "14:07-14:08"]);
    let printed = timeline(&["--window", "14:07-14:08"]);
    assert_eq!(
        counted["total"].as_u64().unwrap() as usize,
        rows(&printed).len()
    );
    let errors = counted["counts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["level"] == "ERROR")
        .map(|c| c["rows"].as_u64().unwrap())
        .sum::<u64>() as usize;
    assert_eq!(
        errors,
        rows(&printed)
            .iter()
            .filter(|r| r["level"] == "ERROR")
            .count()
    );
}

/// The incident's real log lines searched instead of parsed (forced with AUDIT_SAMPLE_BYTES:
/// its files are 5 MiB and 0.5 MiB): a windowed check, a window's missing logs and timeline,
/// and the signal are those of a full parse — searched, and asked again, from the index.
#[test]
fn searching_the_incident_logs_finds_what_parsing_them_finds() {
    let events = path_str(&incident().join("events.csv"));
    let logs = path_str(&incident().join("monitoring_logs"));
    let cache = tempfile::tempdir().unwrap();
    let run = |seek: bool, cmd: &[&str]| -> Value {
        let mut c = audit();
        c.arg("--quiet")
            .args(cmd)
            .args(["--events", &events, "--logs", &logs, "--format", "json"])
            .env("AUDIT_CACHE_DIR", cache.path());
        if seek {
            c.env("AUDIT_SAMPLE_BYTES", "65536");
        }
        findings_json(c)
    };
    let sources = |v: &Value, key: &str| -> Vec<Value> {
        v["sources"]["logs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l[key].clone())
            .collect()
    };
    let questions: [&[&str]; 4] = [
        &[
            "check",
            "--since",
            "2025-10-18 10:30:00+00",
            "--until",
            "2025-10-18 12:30:00+00",
        ],
        &[
            "missing-logs",
            "--window",
            "14:07-14:08",
            "--date",
            "2025-10-18",
        ],
        &[
            "timeline",
            "--window",
            "14:00-14:10",
            "--date",
            "2025-10-18",
        ],
        &["timeline", "--signal", "4869992"],
    ];
    for (k, q) in questions.iter().enumerate() {
        let full = run(false, q);
        assert!(sources(&full, "parsed_bytes").iter().all(Value::is_null));
        for again in [false, true] {
            let searched = run(true, q);
            let parsed = sources(&searched, "parsed_bytes");
            assert!(
                parsed.iter().all(|p| p.as_u64().is_some_and(|p| p > 0)),
                "{q:?}"
            );
            // The first question of this test on these files searches them; the rest use
            // the index.
            let indexed = sources(&searched, "from_index");
            assert_eq!(
                indexed.contains(&Value::Bool(true)),
                k > 0 || again,
                "{q:?}"
            );
            assert_eq!(sources(&searched, "lines"), sources(&full, "lines"));
            if q[0] == "timeline" {
                assert!(rows(&full).len() > 10, "{q:?}");
                assert_eq!(rows(&full), rows(&searched), "{q:?}");
            } else {
                assert!(!full["findings"].as_array().unwrap().is_empty(), "{q:?}");
                assert_eq!(comparable_findings(&full), comparable_findings(&searched));
                assert_eq!(full["summary"], searched["summary"], "{q:?}");
            }
        }
    }
}
