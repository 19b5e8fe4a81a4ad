//! The forensic checks on the incident, judged against the fixture's truth (truth.json, written
//! by the generator that knows what it injected) and the facts the seed report quotes.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::support::pg::pg;
use crate::support::{audit, audit_in_repo, incident, path_str, run};

fn truth() -> Value {
    serde_json::from_str(&std::fs::read_to_string(incident().join("truth.json")).unwrap()).unwrap()
}

/// Runs a check command from the repo root (audit.toml: the CSV snapshot + both logs).
fn check(args: &[&str]) -> Value {
    let mut c = audit_in_repo();
    c.args(args).args(["--format", "json"]);
    let r = run(c);
    assert!(
        r.code == 0 || r.code == 1,
        "{args:?}: exit {} {}",
        r.code,
        r.stderr
    );
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", r.stdout))
}

fn findings<'a>(v: &'a Value, kind: &str) -> Vec<&'a Value> {
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == kind)
        .collect()
}

fn ids(f: &Value) -> BTreeSet<i64> {
    let mut s: BTreeSet<i64> = f["event_ids"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_i64)
        .collect();
    s.extend(f["event_id"].as_i64());
    s
}

#[test]
fn skew_detects_the_three_clocks() {
    let v = check(&["skew"]);
    for file in ["bot_20251018_070604.log", "bot_20251018_145959.log"] {
        let s = &v["skew"][file];
        assert_eq!(s["zone"], "+04:00", "{file}: {s}");
        assert_eq!(s["offset_s"], 4 * 3600);
        assert_eq!(s["confidence"], "high");
        assert_eq!(
            s["segments"].as_array().unwrap().len(),
            1,
            "no offset change inside {file}"
        );
        // Every event line of the file is a twin (truth: all but the two faults are logged).
        assert_eq!(s["anchors"], s["candidates"]);
        assert!(s["spread_ms"].as_f64().unwrap() < 2.0);
        assert_eq!(s["pin"], format!("--log-tz '{file}=+04:00'"));
        assert_eq!(v["clock"][file]["method"], "detected");
    }
    assert_eq!(v["clock"]["db"]["zone"], "+03:00");
    // created_at trails its own epoch (open_position's start, UTC) in every row that has one:
    // the anchors are exactly the fixture's rows with an `open_position_<signal>_<epoch>`
    // correlation id, and the smallest lag is the fixture's own.
    let (anchors, min_lag_ms) = epoch_lags_of_the_fixture();
    assert!(anchors > 0 && min_lag_ms > 0.0, "{anchors} {min_lag_ms}");
    let epoch = &v["skew"]["db"]["epoch_check"];
    assert_eq!(epoch["anchors"], anchors, "{epoch}");
    let got = epoch["min_lag_ms"].as_f64().unwrap();
    assert!((got - min_lag_ms).abs() < 0.001, "{got} vs {min_lag_ms}");
    assert!(epoch["negative"].as_array().unwrap().is_empty());
}

/// From events.csv, read on its own: how many rows carry an `open_position_<signal>_<epoch>`
/// correlation id, and the smallest `created_at − epoch` among them, in ms.
fn epoch_lags_of_the_fixture() -> (usize, f64) {
    let mut lags: Vec<f64> = Vec::new();
    for r in crate::support::incident_csv() {
        let Some(rest) = r["correlation_id"].strip_prefix("open_position_") else {
            continue;
        };
        let (signal, epoch) = rest.rsplit_once('_').expect("signal_epoch");
        assert!(signal == "None" || signal.parse::<u64>().is_ok(), "{rest}");
        // `1760785632.851694`: whole seconds and µs, read as decimals.
        let (s, us) = epoch.split_once('.').unwrap_or((epoch, "0"));
        let us = format!("{us:0<6}");
        let epoch_us = s.parse::<i64>().unwrap() * 1_000_000 + us.parse::<i64>().unwrap();
        // psql's `2025-10-18 14:07:15.103807+03`.
        let created = chrono::DateTime::parse_from_str(&r["created_at"], "%Y-%m-%d %H:%M:%S%.f%#z")
            .unwrap_or_else(|e| panic!("{}: {e}", r["created_at"]));
        lags.push((created.timestamp_micros() - epoch_us) as f64 / 1000.0);
    }
    let min = lags.iter().copied().fold(f64::INFINITY, f64::min);
    (lags.len(), min)
}

#[test]
fn missing_logs_in_the_psql_minute_aligned_and_naive() {
    let v = check(&["missing-logs", "--window", "14:07-14:08"]);
    // Aligned: exactly the rows the fixture gave no log line (truth.json).
    let want: BTreeSet<i64> = truth()["missing_in_log"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_i64)
        .collect();
    let got: BTreeSet<i64> = findings(&v, "missing_in_log")
        .iter()
        .flat_map(|f| f["event_id"].as_i64())
        .collect();
    assert_eq!(got, want);
    assert_eq!(got, BTreeSet::from([785173, 785194]));
    assert!(findings(&v, "missing_in_db").is_empty());
    assert!(findings(&v, "no_log_coverage").is_empty());
    let a = &v["summary"]["aligned"];
    assert_eq!(a["total"]["db_rows"], 466);
    assert_eq!(a["total"]["twins"], 464);
    assert_eq!(a["by_type"]["position_created"]["db_rows"], 5);
    assert_eq!(a["by_type"]["position_created"]["twins"], 3);
    // Naive: the seed's reading — DB 14:07 against the 14:07 lines of the 07:06 log: 2
    // position_created lines (COTIUSDT, LPTUSDT), and not one of them the same event.
    let n = &v["summary"]["naive"];
    assert_eq!(n["by_type"]["position_created"]["log_lines"], 2);
    assert_eq!(n["total"]["twins"], 0);
    // The duplicate's finding names its logged sibling.
    let dup = findings(&v, "missing_in_log")
        .into_iter()
        .find(|f| f["event_id"] == 785173)
        .unwrap();
    assert_eq!(dup["event_ids"], serde_json::json!([785168]));
    assert_eq!(dup["severity"], "medium");
    let open_q = findings(&v, "missing_in_log")
        .into_iter()
        .find(|f| f["event_id"] == 785194)
        .unwrap();
    assert_eq!(open_q["severity"], "high");
    assert_eq!(open_q["processes"][0]["file"], "bot_20251018_145959.log");
}

#[test]
fn every_twin_found_is_the_fixtures_twin() {
    // Over the whole day, the matcher's pairs are exactly truth.json's twins.
    let v = check(&["missing-logs"]);
    let t = truth();
    let twins = t["twins"].as_object().unwrap();
    let logged = twins.values().filter(|x| !x.is_null()).count();
    assert_eq!(v["summary"]["aligned"]["total"]["twins"], logged);
    assert_eq!(v["summary"]["aligned"]["total"]["db_rows"], twins.len());
    assert_eq!(findings(&v, "missing_in_log").len(), 2);
    assert_eq!(v["summary"]["aligned"]["loose_twins"], 0);
    // Pair by pair: each DB row's log line is the one the generator wrote for it.
    for p in v["twins"].as_array().unwrap() {
        let id = p["event_id"].as_i64().unwrap().to_string();
        let want = &twins[&id];
        let file = want["file"].as_str().unwrap().rsplit('/').next().unwrap();
        assert_eq!(
            (p["log"]["file"].as_str().unwrap(), &p["log"]["line"]),
            (file, &want["line"]),
            "row {id}"
        );
        assert_eq!(p["loose"], false, "row {id} matched on its whole payload");
    }
}

#[test]
fn the_seed_pair_is_overlapping_operations_not_a_second_process() {
    let v = check(&["inversions"]);
    let pair = findings(&v, "correlation_inversion")
        .into_iter()
        .find(|f| ids(f) == BTreeSet::from([785194, 785223]))
        .expect("785194/785223 classified");
    assert_eq!(pair["class"], "overlapping_operations");
    assert_eq!(pair["severity"], "info");
    // Its id order is explained by the direct write the fixture logged.
    let direct = &truth()["direct_writes"][0];
    assert_eq!(direct["id"], 785194);
    assert_eq!(pair["details"]["id_order"]["explained_by"], "queue_bypass");
    let warn_line = direct["warning"]["line"].as_u64().unwrap();
    assert!(
        pair["logs"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["file"] == "bot_20251018_145959.log" && l["line"] == warn_line)
    );
    // One process wrote both.
    let procs: BTreeSet<&str> = pair["processes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["file"].as_str())
        .collect();
    assert_eq!(procs, BTreeSet::from(["bot_20251018_145959.log"]));
    // Nothing in the incident is a clock anomaly or a second writer.
    assert!(
        findings(&v, "correlation_inversion")
            .iter()
            .all(|f| f["class"] != "clock_anomaly" && f["class"] != "multiple_writers")
    );
}

#[test]
fn lifetimes_two_processes_no_overlap_one_gap() {
    let v = check(&["lifetimes"]);
    let procs = v["processes"].as_array().unwrap();
    assert_eq!(procs.len(), 2);
    let t = truth();
    for (p, want) in procs.iter().zip(t["processes"].as_array().unwrap()) {
        assert_eq!(p["pid"], want["pid"]);
        assert_eq!(
            p["start_utc"].as_str().unwrap()[..23],
            want["first_record"]["utc"].as_str().unwrap()[..23]
        );
        assert_eq!(
            p["end_utc"].as_str().unwrap()[..23],
            want["last_record"]["utc"].as_str().unwrap()[..23]
        );
    }
    assert!(findings(&v, "process_overlap").is_empty());
    assert!(findings(&v, "unattributed_activity").is_empty());
    let gaps = findings(&v, "process_gap");
    assert_eq!(gaps.len(), 1);
    assert_eq!(
        gaps[0]["details"]["gap_start_utc"].as_str().unwrap()[..23],
        t["gap_utc"][0].as_str().unwrap()[..23]
    );
    assert_eq!(
        gaps[0]["details"]["gap_end_utc"].as_str().unwrap()[..23],
        t["gap_utc"][1].as_str().unwrap()[..23]
    );
    assert_eq!(procs[0]["ended_by"], "signal received");
    assert!(
        procs[1]["ended_by"].is_null(),
        "the 14:59:59 process was still running"
    );
}

#[test]
fn the_flmusdt_duplicate_and_nothing_else() {
    let v = check(&["duplicates"]);
    let d = findings(&v, "duplicate_event");
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(ids(d[0]), BTreeSet::from([785168, 785173]));
    let twin = &truth()["faults"][0]["twin_of_original"];
    assert_eq!(
        d[0]["logs"],
        serde_json::json!([{"file": "bot_20251018_145959.log", "line": twin["line"]}])
    );
}

#[test]
fn findings_are_the_same_from_postgresql_and_from_the_snapshot() {
    let dir = incident();
    let db = pg().load(
        "forensics",
        &[&dir.join("schema.sql"), &dir.join("events.sql")],
    );
    let url = pg().url(&db);
    let logs = path_str(&dir.join("monitoring_logs"));
    let csv = path_str(&dir.join("events.csv"));
    for cmd in [
        &["missing-logs", "--window", "14:07-14:08"][..],
        &["inversions"],
        &["lifetimes"],
        &["duplicates"],
        &["skew"],
    ] {
        let mut by: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
        for (name, src) in [
            ("db", ["--db", url.as_str()]),
            ("csv", ["--events", csv.as_str()]),
        ] {
            let mut c = audit();
            c.args(cmd)
                .args(src)
                .args(["--logs", &logs, "--format", "json"]);
            let r = run(c);
            assert!(r.code <= 1, "{cmd:?} {name}: {}", r.stderr);
            let v: Value = serde_json::from_str(&r.stdout).unwrap();
            by.insert(name, v["findings"].as_array().unwrap().clone());
        }
        assert_eq!(by["db"], by["csv"], "{cmd:?}");
    }
}

#[test]
fn fingerprints_are_stable_across_runs_and_windows() {
    let whole = check(&["missing-logs"]);
    let minute = check(&["missing-logs", "--window", "14:07-14:08"]);
    let fp = |v: &Value| -> BTreeSet<String> {
        findings(v, "missing_in_log")
            .iter()
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(fp(&whole), fp(&minute));
    assert_eq!(
        fp(&minute),
        fp(&check(&["missing-logs", "--window", "14:07-14:08"]))
    );
}

#[test]
fn exit_codes_follow_the_threshold() {
    let mut c = audit_in_repo();
    c.args(["duplicates"]);
    assert_eq!(
        run(c).code,
        1,
        "a medium finding fails the default --fail-on medium"
    );
    let mut c = audit_in_repo();
    c.args(["duplicates", "--fail-on", "high"]);
    assert_eq!(run(c).code, 0);
    let mut c = audit_in_repo();
    c.args(["inversions"]);
    assert_eq!(run(c).code, 0, "info findings do not fail");
}
