//! `audit explain`: the incident told in one page with its evidence, and `explain db:ID` /
//! `FILE:LINE` on generated scenarios for each thing a row can be (lost line, lost batch,
//! foreign writer, duplicate, fine), scored against the generator's truth.

use std::path::PathBuf;
use std::sync::OnceLock;

use audit_gen::Truth;
use serde_json::Value;

use crate::support::scenario::generate;
use crate::support::{audit, audit_in_repo, run};

fn explain_incident(extra: &[&str]) -> crate::support::Run {
    let mut c = audit_in_repo();
    c.args(["explain", "--signal", "4869992"]).args(extra);
    run(c)
}

#[test]
fn the_incident_in_one_page() {
    let r = explain_incident(&[]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let text = &r.stdout;
    assert!(text.lines().count() <= 60, "{} lines", text.lines().count());
    // The clocks: +03:00 and +04:00 are the same minute, and the naive reading's count.
    assert!(text.contains("shown in +03:00"), "{text}");
    assert!(text.contains("written in +04:00"), "{text}");
    assert!(text.contains("the DB's 14:07 and the log's 15:07 are the same minute (11:07 UTC)"));
    let naive = text
        .lines()
        .find(|l| l.contains("Read naively"))
        .expect("naive vs aligned");
    assert!(naive.contains("look unlogged; aligned, 2 do"), "{naive}");
    // 785194 tied to line 909, queue full, direct write.
    let lost = text
        .lines()
        .find(|l| l.contains("HIGH missing_in_log") && l.contains("785194"))
        .expect("785194's finding");
    assert!(
        lost.contains("line 909 is `Event queue full, logging directly`"),
        "{lost}"
    );
    assert!(lost.contains("db:785194") && lost.contains("bot_20251018_145959.log:909"));
    // 785223: the refused second call, overlapping the first in one process.
    assert!(text.lines().any(|l| {
        l.contains("DB row 785223 (position_error RSRUSDT: Position creation returned None)")
    }));
    assert!(
        text.lines()
            .any(|l| l.contains("785194/785223 is two overlapping operations in one process"))
    );
    // Both processes with their PIDs, the 15-minute gap: no concurrent process.
    let alone = text
        .lines()
        .find(|l| l.contains("No second process was alive"))
        .expect("ruled out: a second process");
    for needle in [
        "PID 52817",
        "PID 41233",
        "15.0 min",
        "not a concurrent process",
    ] {
        assert!(alone.contains(needle), "{needle}: {alone}");
    }
    // FLMUSDT 785168/785173: one event inserted twice.
    assert!(
        text.lines()
            .any(|l| l.contains("785168/785173 is one event inserted twice"))
    );
    // Every section, in order.
    let at = |h: &str| {
        text.find(&format!("\n{h}\n"))
            .unwrap_or_else(|| panic!("no {h}"))
    };
    assert!(at("Clocks") < at("Path") && at("Path") < at("Findings"));
    assert!(at("Findings") < at("Ruled out") && at("Ruled out") < at("Open"));
}

#[test]
fn the_json_story_carries_its_evidence_and_check_s_fingerprints() {
    let r = explain_incident(&["--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["version"], 1);
    assert_eq!(v["command"], "explain");
    assert_eq!(v["subject"]["of"]["signal"], 4869992);
    let story = v["story"].as_array().unwrap();
    for (k, s) in story.iter().enumerate() {
        assert_eq!(s["step"], k as u64 + 1);
        assert!(
            ["clock", "path", "finding", "ruled_out", "open"]
                .contains(&s["kind"].as_str().unwrap())
        );
    }
    // Every fingerprint the story cites is one `check` reports for the same rows.
    let mut c = audit_in_repo();
    c.args(["--quiet", "check", "--format", "json"]);
    let check: Value = serde_json::from_str(&run(c).stdout).unwrap();
    let known: Vec<&str> = check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    let cited: Vec<&str> = story
        .iter()
        .flat_map(|s| s["fingerprints"].as_array().unwrap())
        .map(|f| f.as_str().unwrap())
        .collect();
    assert!(cited.len() >= 4, "{cited:?}");
    for fp in cited {
        assert!(known.contains(&fp), "{fp} is not one of check's");
    }
    let md = explain_incident(&["--format", "markdown"]);
    assert!(md.stdout.starts_with("## audit explain --signal 4869992"));
    assert!(md.stdout.contains("\n### Ruled out\n"));
}

#[test]
fn a_subject_that_does_not_exist_is_one_line_and_exit_2() {
    let mut c = audit_in_repo();
    c.args(["explain", "db:1"]);
    run(c).assert_one_error_line(&["db:1", "nothing in these sources matches it"]);
    let mut c = audit_in_repo();
    c.args(["explain", "nonsense"]);
    run(c).assert_one_error_line(&["nonsense", "not a subject"]);
    let mut c = audit_in_repo();
    c.args(["explain"]);
    run(c).assert_one_error_line(&["what to explain"]);
}

struct World {
    dir: PathBuf,
    truth: Truth,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("explain-world");
        let truth = generate(
            &dir,
            &[
                "--seed",
                "17",
                "--hours",
                "1",
                "--fault",
                "lost-log-lines=5",
                "--fault",
                "lost-db-batch=2",
                "--fault",
                "duplicates=3",
                "--fault",
                "ghost-writer",
            ],
        );
        World { dir, truth }
    })
}

fn explain(subject: &str) -> Value {
    let w = world();
    let mut c = audit();
    c.args(["--quiet", "explain", subject, "--events"])
        .arg(w.dir.join("events.csv"))
        .arg("--logs")
        .arg(w.dir.join("monitoring_logs"))
        .args(["--format", "json"]);
    let r = run(c);
    assert!(
        r.code == 0 || r.code == 1,
        "{subject}: exit {}: {}",
        r.code,
        r.stderr
    );
    serde_json::from_str(&r.stdout).unwrap()
}

fn steps<'a>(v: &'a Value, kind: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
    v["story"]
        .as_array()
        .unwrap()
        .iter()
        .filter(move |s| s["kind"] == kind)
}

fn names(s: &Value, id: i64) -> bool {
    s["event_ids"]
        .as_array()
        .is_some_and(|a| a.iter().any(|x| x.as_i64() == Some(id)))
}

#[test]
fn a_lost_log_line_is_told_as_missing() {
    let w = world();
    let row = w
        .truth
        .missing_in_log
        .iter()
        .find(|r| r.covered)
        .expect("a lost line the logs cover");
    let v = explain(&format!("db:{}", row.id));
    assert!(
        steps(&v, "path")
            .any(|s| names(s, row.id) && s["text"].as_str().unwrap().ends_with("— no log line")),
        "{v:#}"
    );
    assert!(
        steps(&v, "finding")
            .any(|s| names(s, row.id) && s["text"].as_str().unwrap().contains("missing_in_log")),
        "{v:#}"
    );
}

#[test]
fn a_row_of_a_lost_batch_is_told_from_its_log_line() {
    let w = world();
    let line = w
        .truth
        .missing_in_db
        .iter()
        .find(|l| l.db_covered)
        .expect("a line of a lost batch");
    let v = explain(&format!("{}:{}", line.file, line.line));
    let told = steps(&v, "finding")
        .find(|s| s["text"].as_str().unwrap().contains("missing_in_db"))
        .unwrap_or_else(|| panic!("{v:#}"));
    let text = told["text"].as_str().unwrap();
    assert!(
        text.contains(&format!("{}:{}", line.file, line.line)),
        "{text}"
    );
    assert!(text.contains("batch write failed"), "{text}");
    assert!(steps(&v, "path").any(|s| s["text"].as_str().unwrap().ends_with("— no DB row")));
}

#[test]
fn a_row_no_logged_process_wrote_is_told_as_another_writer() {
    let w = world();
    let id = *w.truth.unattributed.first().expect("a ghost row");
    let v = explain(&format!("db:{id}"));
    assert!(
        steps(&v, "finding").any(|s| names(s, id)
            && s["text"]
                .as_str()
                .unwrap()
                .contains("unattributed_activity")),
        "{v:#}"
    );
}

#[test]
fn a_duplicate_insert_is_ruled_out_as_two_events() {
    let w = world();
    let group = w.truth.duplicates.first().expect("a duplicate");
    let v = explain(&format!("db:{}", group[1]));
    assert!(
        steps(&v, "ruled_out").any(|s| group.iter().all(|&id| names(s, id))
            && s["text"]
                .as_str()
                .unwrap()
                .contains("is one event inserted twice")),
        "{v:#}"
    );
}

#[test]
fn a_fine_row_is_logged_at_its_line() {
    let w = world();
    // A row no fault touched: not lost, not a ghost, not duplicated.
    let bad: std::collections::BTreeSet<i64> = w
        .truth
        .missing_in_log
        .iter()
        .map(|r| r.id)
        .chain(w.truth.ghost_rows.iter().copied())
        .chain(w.truth.duplicates.iter().flatten().copied())
        .collect();
    let events = std::fs::read_to_string(w.dir.join("events.csv")).unwrap();
    let id: i64 = events
        .lines()
        .skip(200)
        .filter_map(|l| l.split(',').next()?.parse().ok())
        .find(|id| !bad.contains(id))
        .unwrap();
    let v = explain(&format!("db:{id}"));
    let path = steps(&v, "path")
        .find(|s| names(s, id))
        .unwrap_or_else(|| panic!("{v:#}"));
    let text = path["text"].as_str().unwrap();
    assert!(
        text.contains("— logged at bot_") && text.ends_with(" ms"),
        "{text}"
    );
    let delta: f64 = text
        .rsplit(", ")
        .next()
        .unwrap()
        .trim_end_matches(" ms")
        .parse()
        .unwrap();
    assert!(delta.abs() < 50.0, "{text}");
    assert_eq!(path["logs"].as_array().unwrap().len(), 1);
    assert!(!steps(&v, "finding").any(|s| names(s, id)), "{v:#}");
}

#[test]
fn colour_on_a_terminal_and_never_with_no_color() {
    // `script` gives the binary a terminal (util-linux, in every Debian base).
    let bin = assert_cmd::cargo::cargo_bin("audit");
    let on_tty = |no_color: bool| {
        let cmd = format!(
            "{}{} explain --signal 4869992",
            if no_color { "NO_COLOR=1 " } else { "" },
            bin.display()
        );
        let out = std::process::Command::new("script")
            .args(["-qec", &cmd, "/dev/null"])
            .current_dir(crate::support::root())
            .env_remove("NO_COLOR")
            .output()
            .expect("script(1) runs the binary on a terminal");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = on_tty(false);
    assert!(
        coloured.contains("\x1b[1;31mHIGH\x1b[0m missing_in_log"),
        "{coloured}"
    );
    assert!(coloured.contains("\x1b[1;4mRuled out\x1b[0m"), "{coloured}");
    let plain = on_tty(true);
    assert!(
        plain.contains("HIGH missing_in_log") && !plain.contains('\x1b'),
        "{plain}"
    );
    // Piped: no colour either.
    assert!(!explain_incident(&[]).stdout.contains('\x1b'));
}
