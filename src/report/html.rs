//! `--html FILE`: one self-contained page of the whole picture — process lanes, DB rows and log
//! records on one UTC axis, findings in colour, the clock panel, a window table. Everything is
//! inline (CSS, JS, SVG, data), so the file can be attached to a ticket and opened offline.
//!
//! The page is drawn from a JSON payload (`payload::build`) of what `audit check` produced;
//! the script and style live beside this file (`html/*.js`, `html/page.css`).

mod payload;

use std::fmt::Write as _;
use std::path::Path;

pub use payload::{Input, MESSAGE_CHARS};

use crate::engine::Checked;

const CSS: &str = include_str!("html/page.css");
/// Concatenated in this order into one `<script>`: shared state and formatting, the chart,
/// the panels (findings, clocks, table) and the start-up code.
const SCRIPTS: [&str; 3] = [
    include_str!("html/core.js"),
    include_str!("html/chart.js"),
    include_str!("html/panels.js"),
];

/// What a written report holds.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub rows: usize,
    pub findings: usize,
    pub pairs: usize,
    pub lanes: usize,
    pub bytes: usize,
}

impl Stats {
    /// `wrote report.html (2.1 MiB): 47 557 rows, 6 667 twins, 5 findings`
    pub fn describe(&self, path: &Path) -> String {
        format!(
            "wrote {} ({:.1} MiB): {} rows on {} lanes, {} twin pairs, {} findings — open it in a browser (no network needed)",
            path.display(),
            self.bytes as f64 / (1024.0 * 1024.0),
            self.rows,
            self.lanes,
            self.pairs,
            self.findings
        )
    }
}

/// Renders the page of an engine run and writes it to `path` (whole or not at all, like every
/// file audit writes).
pub fn write(checked: &Checked, path: &Path) -> anyhow::Result<Stats> {
    let (page, stats) = page(checked)?;
    crate::output::write(path, page.as_bytes())?;
    Ok(stats)
}

/// The page of an engine run, in memory (`audit check --write html=FILE` writes it with the
/// run's other files, all at once).
pub fn page(checked: &Checked) -> anyhow::Result<(String, Stats)> {
    let _t = crate::timing::phase("report: html");
    let meta = &checked.prepared.loaded_meta;
    let input = Input {
        timeline: &checked.prepared.timeline,
        findings: &checked.findings,
        matching: &checked.matching,
        processes: &checked.processes,
        decisions: &meta.decisions,
        aligned: &checked.aligned,
        naive: checked.naive.as_ref(),
        window: meta.filter.window,
        lag_us: meta.lag_us,
        tolerance_us: meta.tolerance_us,
    };
    render(&input)
}

/// Renders the page.
pub fn render(input: &Input<'_>) -> anyhow::Result<(String, Stats)> {
    let (data, counts) = payload::build(input)?;
    let title = data.head["title"]
        .as_str()
        .unwrap_or("audit report")
        .to_string();
    let json = serde_json::to_string(&data)?;
    drop(data);
    let mut page = String::with_capacity(json.len() + 64 * 1024);
    let _ = write!(
        page,
        r#"<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="audit {version}">
<title>audit report — {title}</title>
<style>
{CSS}</style>
</head>
<body>
<header>
  <h1>audit report</h1>
  <p id="subtitle">{title}</p>
  <noscript><p class="warn">This page draws its chart and tables with JavaScript; enable it to read the report (nothing is fetched from the network).</p></noscript>
</header>
<section id="chart-section" aria-label="timeline chart">
  <div id="toolbar">
    <button type="button" id="zoom-all" title="the whole range">whole range</button>
    <button type="button" id="zoom-in" title="zoom in (or the mouse wheel)">+</button>
    <button type="button" id="zoom-out" title="zoom out">−</button>
    <span id="view-label"></span>
    <span class="hint">wheel: zoom · drag: pan · shift+drag (or drag on the axis): select a window · click a finding marker</span>
  </div>
  <div id="chart">
    <div id="lane-labels"></div>
    <div id="plot">
      <svg id="bg" aria-hidden="true"></svg>
      <canvas id="marks"></canvas>
      <svg id="fg"></svg>
    </div>
  </div>
  <div id="legend"></div>
  <div id="tooltip" role="tooltip" hidden></div>
</section>
<main id="main">
<div id="panels">
  <section id="findings-section" aria-label="findings">
    <h2>Findings <span id="findings-count"></span></h2>
    <div id="finding-filters"></div>
    <ol id="findings"></ol>
  </section>
  <section id="clock-section" aria-label="clocks">
    <h2>Clocks</h2>
    <div id="clocks"></div>
    <h3>Naive vs aligned</h3>
    <div id="counts"></div>
  </section>
</div>
<section id="table-section" aria-label="rows of the window">
  <h2>Rows of the window</h2>
  <form id="window-form">
    <label>window (<span id="window-zone"></span>, half-open) <input id="window-input" size="28" placeholder="14:07-14:08"></label>
    <button type="submit">show</button>
    <span id="window-label"></span>
  </form>
  <p class="note" id="table-note"></p>
  <div id="table-wrap"><table id="rows"><thead></thead><tbody></tbody></table></div>
</section>
<footer><p id="footer"></p></footer>
</main>
<script type="application/json" id="audit-data">{data}</script>
<script>
"use strict";
"#,
        version = env!("CARGO_PKG_VERSION"),
        title = escape_html(&title),
        data = escape_script(&json),
    );
    for s in SCRIPTS {
        page.push_str(s);
        page.push('\n');
    }
    page.push_str("</script>\n</body>\n</html>\n");
    let stats = Stats {
        rows: counts.rows,
        findings: counts.findings,
        pairs: counts.pairs,
        lanes: counts.lanes,
        bytes: page.len(),
    };
    Ok((page, stats))
}

/// Text for HTML content and attributes.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// JSON inside `<script>`: a `<` (only ever inside a JSON string) becomes `\u003c`, so no
/// `</script>` or `<!--` in a log message can end the block early.
fn escape_script(json: &str) -> String {
    json.replace('<', "\\u003c")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_log_message_cannot_close_the_data_block() {
        let j = serde_json::to_string(
            &serde_json::json!({"m": "</script><script>alert(1)</script><!--"}),
        )
        .unwrap();
        let e = escape_script(&j);
        assert!(!e.contains("</script"), "{e}");
        assert!(!e.contains("<!--"), "{e}");
        let back: serde_json::Value = serde_json::from_str(&e).unwrap();
        assert_eq!(back["m"], "</script><script>alert(1)</script><!--");
    }

    #[test]
    fn html_text_is_escaped() {
        assert_eq!(
            escape_html(r#"<b>"a" & 'b'</b>"#),
            "&lt;b&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/b&gt;"
        );
    }
}
