//! `audit report --html`: the incident's page rendered for real in headless Chromium — the
//! chart drawn, the findings listed, a click on a finding zooming the chart and scrolling the
//! table to its evidence — with screenshots kept under `target/tmp/html-report/`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{audit_in_repo, path_str, run};

/// Where the page and the screenshots stay after the run (cargo's per-target temp directory).
fn output_dir() -> PathBuf {
    let d = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report");
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Chromium, or one line saying how to get it: this test never skips silently.
fn chromium() -> PathBuf {
    if let Some(p) = std::env::var_os("AUDIT_CHROMIUM") {
        return PathBuf::from(p);
    }
    for name in ["chromium", "chromium-browser", "google-chrome"] {
        if let Some(dir) = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
            .find(|d| d.join(name).is_file())
        {
            return dir.join(name);
        }
    }
    panic!(
        "headless Chromium is needed for the HTML report test and was not found: install it with `apt-get install -y chromium` (bash .ci/run does), or point AUDIT_CHROMIUM at the binary"
    );
}

/// Runs headless Chromium on `url` with a fresh profile and no network use; returns stdout.
fn chromium_run(url: &str, mode: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=1400,1000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(mode)
        .arg(url)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "chromium {mode:?} {url}: {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium {mode:?} {url} did not finish in 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    reader.join().unwrap()
}

/// The DevTools protocol over `--remote-debugging-pipe` (fd 3 in, fd 4 out, messages ended by
/// NUL), wired to two FIFOs: no WebSocket client needed.
struct Cdp {
    child: std::process::Child,
    tx: std::fs::File,
    rx: std::io::BufReader<std::fs::File>,
    next: u64,
    session: Option<String>,
}

impl Cdp {
    fn open(url: &str, dir: &Path) -> Cdp {
        use std::fs::OpenOptions;
        let (fin, fout) = (dir.join("cdp-in"), dir.join("cdp-out"));
        for f in [&fin, &fout] {
            let st = Command::new("mkfifo").arg(f).status().expect("mkfifo");
            assert!(st.success());
        }
        let profile = dir.join("profile");
        let script = "exec \"$0\" --headless --no-sandbox --disable-gpu --disable-quic \
             --no-first-run --disable-background-networking --disable-component-update \
             --disable-sync --hide-scrollbars --window-size=1400,1000 --remote-debugging-pipe \
             --user-data-dir=\"$1\" \"$2\" 3<\"$3\" 4>\"$4\"";
        let child = Command::new("bash")
            .args(["-c", script])
            .arg(chromium())
            .arg(&profile)
            .arg(url)
            .arg(&fin)
            .arg(&fout)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        let tx = OpenOptions::new().write(true).open(&fin).unwrap();
        let rx = std::io::BufReader::new(std::fs::File::open(&fout).unwrap());
        Cdp {
            child,
            tx,
            rx,
            next: 0,
            session: None,
        }
    }

    /// Sends one command and returns its result (events in between are skipped).
    fn call(&mut self, method: &str, params: Value) -> Value {
        use std::io::{BufRead, Write};
        self.next += 1;
        let mut msg = serde_json::json!({"id": self.next, "method": method, "params": params});
        if let Some(s) = &self.session {
            msg["sessionId"] = Value::String(s.clone());
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.tx.write_all(&bytes).unwrap();
        loop {
            let mut buf = Vec::new();
            let n = self.rx.read_until(0, &mut buf).unwrap();
            assert!(n > 0, "chromium closed the pipe during {method}");
            buf.pop();
            let v: Value = serde_json::from_slice(&buf).unwrap();
            if v["id"] == self.next {
                assert!(v.get("error").is_none(), "{method}: {}", v["error"]);
                return v["result"].clone();
            }
        }
    }

    fn eval(&mut self, expression: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            serde_json::json!({"expression": expression, "returnByValue": true}),
        );
        r["result"]["value"].clone()
    }
}

impl Drop for Cdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Opens the page, waits for its script, presses and releases the left button over the
/// finding `id`'s entry (scrolled into view first, as a person would), and returns the DOM.
fn click_and_dump(page: &Path, id: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut cdp = Cdp::open(&file_url(page, ""), dir.path());
    let targets = cdp.call("Target.getTargets", serde_json::json!({}));
    let target = targets["targetInfos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "page")
        .expect("a page target")["targetId"]
        .clone();
    let attached = cdp.call(
        "Target.attachToTarget",
        serde_json::json!({"targetId": target, "flatten": true}),
    );
    cdp.session = Some(attached["sessionId"].as_str().unwrap().to_string());
    let deadline = Instant::now() + Duration::from_secs(60);
    while cdp.eval("document.body ? document.body.dataset.ready || '' : ''") != "1" {
        assert!(
            Instant::now() < deadline,
            "the page's script did not finish"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let at = cdp.eval(&format!(
        "(() => {{ const a = document.querySelector('#{id} .finding-head'); \
         a.scrollIntoView({{block: 'center'}}); const r = a.getBoundingClientRect(); \
         return [r.left + Math.min(40, r.width / 2), r.top + r.height / 2]; }})()"
    ));
    let (x, y) = (at[0].as_f64().unwrap(), at[1].as_f64().unwrap());
    // What is under that point is the entry itself (nothing covers it).
    let hit = cdp.eval(&format!(
        "(() => {{ const e = document.elementFromPoint({x}, {y}); return e && e.closest('li') ? e.closest('li').id : ''; }})()"
    ));
    assert_eq!(hit, id, "the entry is under ({x}, {y})");
    for kind in ["mouseMoved", "mousePressed", "mouseReleased"] {
        cdp.call(
            "Input.dispatchMouseEvent",
            serde_json::json!({"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1}),
        );
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while cdp.eval("document.body.dataset.clicked || ''") != id {
        assert!(Instant::now() < deadline, "the click did not select {id}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let dom = cdp.eval("document.documentElement.outerHTML");
    dom.as_str().unwrap().to_string()
}

fn file_url(p: &Path, fragment: &str) -> String {
    format!("file://{}{fragment}", p.canonicalize().unwrap().display())
}

/// The value of `name="…"` in the first tag of `dom` that starts with `tag_start`.
fn attr(dom: &str, tag_start: &str, name: &str) -> Option<String> {
    let at = dom.find(tag_start)?;
    let tag = &dom[at..at + dom[at..].find('>')?];
    let key = format!(" {name}=\"");
    let v = &tag[tag.find(&key)? + key.len()..];
    Some(v[..v.find('"')?].to_string())
}

/// The payload embedded in the page.
fn payload(html: &str) -> Value {
    let open = r#"<script type="application/json" id="audit-data">"#;
    let start = html.find(open).expect("data block") + open.len();
    let end = start + html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..end]).expect("payload is JSON")
}

fn screenshot(page: &Path, fragment: &str, out: &Path) {
    let _ = std::fs::remove_file(out);
    chromium_run(
        &file_url(page, fragment),
        &[&format!("--screenshot={}", out.display())],
    );
    let png = std::fs::read(out).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{}", out.display());
    // A blank 1400x1000 page compresses to ~6 KB; the drawn report is hundreds of KB.
    assert!(
        png.len() > 50_000,
        "{} looks blank ({} bytes)",
        out.display(),
        png.len()
    );
    eprintln!("screenshot: {}", out.display());
}

#[test]
fn incident_report_draws_the_chart_and_a_click_on_a_finding_scrolls_to_its_evidence() {
    let dir = output_dir();
    let page = dir.join("incident.html");
    let mut c = audit_in_repo();
    c.args(["report", "--html", &path_str(&page)]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with("wrote "), "{}", r.stdout);
    let html = std::fs::read_to_string(&page).unwrap();

    // Self-contained: nothing is loaded from anywhere else.
    for needle in ["src=\"http", "href=\"http", "url(http", "@import", "<link "] {
        assert!(!html.contains(needle), "the page references {needle}");
    }

    // The page carries what `audit check` found, in its order, and the naive/aligned counts
    // of `audit missing-logs` on the same range.
    let data = payload(&html);
    let mut c = audit_in_repo();
    c.args(["check", "--format", "json"]);
    let check: Value = serde_json::from_str(&run(c).stdout).unwrap();
    let fp = |v: &Value| -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|f| f["fingerprint"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(fp(&data["findings"]), fp(&check["findings"]));
    let mut c = audit_in_repo();
    c.args(["missing-logs", "--format", "json"]);
    let missing: Value = serde_json::from_str(&run(c).stdout).unwrap();
    assert_eq!(
        data["counts"]["aligned"],
        missing["summary"]["aligned"]["total"]
    );
    assert_eq!(
        data["counts"]["naive"],
        missing["summary"]["naive"]["total"]
    );
    let lanes: Vec<&str> = data["lanes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        lanes,
        [
            "monitoring.events",
            "DB writes, no live process",
            "bot_20251018_070604.log",
            "bot_20251018_145959.log"
        ]
    );
    let rows = data["rows"]["dt"].as_array().unwrap().len();
    assert_eq!(rows, data["rows"]["m"].as_array().unwrap().len());

    // The finding to click: 785194, the row without its log line.
    let findings = data["findings"].as_array().unwrap();
    let target = findings
        .iter()
        .find(|f| f["kind"] == "missing_in_log" && f["evidence"][0]["label"] == "db:785194")
        .expect("the 785194 finding");
    let id = target["id"].as_str().unwrap();
    let at = target["at"].as_i64().unwrap();

    // Opened as is: every row drawn (aggregated into pixel columns over the whole range),
    // every finding listed.
    let dom = chromium_run(&file_url(&page, ""), &["--dump-dom"]);
    assert_eq!(
        attr(&dom, "<body", "data-ready").as_deref(),
        Some("1"),
        "the script did not finish"
    );
    let marks: usize = attr(&dom, "<canvas id=\"marks\"", "data-marks")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(marks, rows, "rows in the first view");
    for f in findings {
        let li = format!("<li id=\"{}\"", f["id"].as_str().unwrap());
        assert!(dom.contains(&li), "{li} missing from the list");
    }
    assert!(dom.contains("process_gap") && dom.contains("bot_20251018_145959.log:909"));

    // A real click: the mouse pressed and released over the finding's entry, through the
    // DevTools protocol, then the page's DOM as it stands after the click.
    let dom = click_and_dump(&page, id);
    assert_eq!(attr(&dom, "<body", "data-clicked").as_deref(), Some(id));
    let li_class = attr(&dom, &format!("<li id=\"{id}\""), "class").unwrap();
    assert!(li_class.contains("selected"), "{li_class}");
    // The click opens the finding's story: what `audit explain` tells for its rows.
    let entry = &dom[dom.find(&format!("<li id=\"{id}\"")).unwrap()..];
    let entry = &entry[..entry[1..]
        .find("<li id=\"finding-")
        .map_or(entry.len(), |e| e + 1)];
    let story = &entry[entry.find("<details class=\"story\"").expect("a story")..];
    assert!(
        story.starts_with("<details class=\"story\" open=\"\""),
        "{}",
        &story[..80]
    );
    for told in [
        "So the DB's 14:07 and the log's 15:07 are the same minute",
        "DB row 785194 (position_created RSRUSDT) — no log line",
        "No second process was alive",
    ] {
        assert!(story.contains(told), "{told}: {story}");
    }
    // The chart is zoomed onto it.
    let view = attr(&dom, "<canvas id=\"marks\"", "data-view").unwrap();
    let (a, b) = view.split_once(',').unwrap();
    let (a, b): (i64, i64) = (a.parse().unwrap(), b.parse().unwrap());
    assert!(
        a <= at && at <= b && b - a < 60_000_000,
        "view {a}..{b} around {at}"
    );
    let marks: usize = attr(&dom, "<canvas id=\"marks\"", "data-marks")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        marks > 0 && marks < rows,
        "{marks} marks in the zoomed view"
    );
    // The table shows its evidence highlighted, and the page scrolled to it.
    let evidence_rows: Vec<&str> = dom
        .split("<tr ")
        .skip(1)
        .filter(|t| t[..t.find('>').unwrap()].contains("evidence"))
        .collect();
    assert!(
        evidence_rows.iter().any(|t| t.contains(">db:785194<")),
        "785194 highlighted"
    );
    assert!(
        evidence_rows
            .iter()
            .any(|t| t.contains(">bot_20251018_145959.log:909<")),
        "line 909 highlighted"
    );
    let scrolled = attr(&dom, "<body", "data-scrolled-to").unwrap();
    assert!(
        evidence_rows
            .iter()
            .any(|t| t.starts_with(&format!("id=\"{scrolled}\""))),
        "scrolled to {scrolled}"
    );
    assert_eq!(
        attr(&dom, "<body", "data-evidence-visible").as_deref(),
        Some("1")
    );
    let top: u32 = attr(&dom, "<body", "data-scroll-top")
        .unwrap()
        .parse()
        .unwrap();
    assert!(top > 0, "the page did not scroll");

    screenshot(&page, "", &dir.join("incident.png"));
    screenshot(
        &page,
        &format!("#click={id}"),
        &dir.join("incident-finding.png"),
    );
}

#[test]
fn check_writes_the_same_page_as_a_side_output() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("check.html");
    let mut c = audit_in_repo();
    c.args(["check", "--html", &path_str(&page)]);
    let r = run(c);
    assert_eq!(
        r.code, 1,
        "the incident's high finding still fails the job: {}",
        r.stderr
    );
    assert!(r.stdout.contains("exit 1:"), "{}", r.stdout);
    assert!(
        r.stderr.contains("wrote ") && r.stderr.contains("check.html"),
        "{}",
        r.stderr
    );
    let data = payload(&std::fs::read_to_string(&page).unwrap());
    assert_eq!(
        data["findings"].as_array().unwrap().len(),
        crate::support::expected_findings().1
    );
    assert!(
        data["counts"]["naive"]["twins"].as_u64().unwrap()
            < data["counts"]["aligned"]["twins"].as_u64().unwrap()
    );

    let mut c = audit_in_repo();
    c.args([
        "baseline",
        "write",
        "--baseline",
        &path_str(&dir.path().join("b.json")),
        "--html",
        &path_str(&page),
    ]);
    assert_eq!(
        run(c).code,
        2,
        "--html is refused where it would be ignored"
    );
}
