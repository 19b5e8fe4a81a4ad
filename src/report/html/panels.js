// panels.js — the findings list, the clock panel, the window table, the URL fragment
// (`#click=finding-3`, `#window=14:07-14:08`) and start-up.

const ROW_CAP = 1500; // table rows rendered at once (the window may hold more)
const findingsEl = document.getElementById("findings");
const tbody = document.querySelector("#rows tbody");

function findingItem(f) {
  const evidence = el("span", { class: "evidence" });
  for (const e of f.evidence) {
    if (e.row === null || e.row === undefined) {
      evidence.append(el("span", { class: "chip missing", title: "not among the embedded rows (a plain log message, or outside the loaded range): see the file itself", text: e.label }), " ");
    } else {
      evidence.append(el("a", {
        class: "chip", href: `#row-${e.row}`, "data-row": e.row, text: e.label,
        title: "show this row in the table",
        onclick: (ev) => { ev.preventDefault(); ev.stopPropagation(); selectFinding(f.id, { scroll: false, zoom: false }); focusRow(e.row, { scroll: true }); },
      }), " ");
    }
  }
  if (f.evidence_total > f.evidence.length) evidence.append(el("span", { class: "more", text: `… ${f.evidence_total} in all` }));
  const head = el("a", {
    class: "finding-head", href: `#${f.id}`, title: "show it on the chart and its evidence in the table",
    onclick: (ev) => { ev.preventDefault(); selectFinding(f.id, { scroll: true }); },
  },
  el("span", { class: `sev sev-${f.severity}`, text: f.severity.toUpperCase() }), " ",
  el("i", { class: "swatch round", style: `background:${KIND_COLOUR[f.kind]}` }), " ",
  el("b", { text: f.kind }), f.class ? ` [${f.class}]` : "", " ",
  el("span", { class: "when", text: `${fmtUtc(f.at, 3)} UTC` }),
  f.baseline ? el("span", { class: `baseline ${f.baseline}`, text: f.baseline === "new" ? "NEW" : "accepted by baseline" }) : null);
  const li = el("li", { id: f.id, class: `finding sev-${f.severity}`, "data-kind": f.kind, "data-severity": f.severity },
    head, el("p", { class: "explanation", text: f.explanation }));
  for (const a of f.also || []) li.append(el("p", { class: "also", text: `also: ${a}` }));
  li.append(el("p", { class: "evidence-line" }, "evidence: ", evidence));
  if (f.processes.length) li.append(el("p", { class: "procs", text: `processes: ${f.processes.join(", ")}` }));
  li.append(el("p", { class: "fp", text: `fingerprint ${f.fingerprint}` }));
  if (f.story && f.story.length) {
    // The same story `audit explain` tells for this finding's rows and lines.
    const heads = { clock: "Clocks", path: "Path", finding: "Findings", ruled_out: "Ruled out", open: "Open" };
    const story = el("details", { class: "story" }, el("summary", { text: "the story (audit explain)" }));
    let last = null;
    let list = null;
    for (const s of f.story) {
      if (s.kind !== last) {
        story.append(el("h4", { text: heads[s.kind] || s.kind }));
        list = el("ol", { class: "story-steps" });
        story.append(list);
        last = s.kind;
      }
      list.append(el("li", { text: s.text }));
    }
    li.append(story);
  }
  return li;
}

function renderFindings() {
  findingsEl.replaceChildren(...FINDINGS.map(findingItem));
  const bySev = SEVERITIES.map((s) => [s, FINDINGS.filter((f) => f.severity === s).length]);
  document.getElementById("findings-count").textContent = FINDINGS.length
    ? `(${FINDINGS.length}: ${bySev.filter(([, n]) => n).map(([s, n]) => `${n} ${s}`).join(", ")})` : "(none)";
  if (!FINDINGS.length) findingsEl.append(el("li", { class: "none", text: "no findings: every check passed on this range" }));
  const filters = bySev.filter(([, n]) => n).map(([s, n]) => el("label", { class: "filter" },
    el("input", {
      type: "checkbox", checked: "checked",
      onchange: (ev) => {
        if (ev.target.checked) state.hiddenSeverities.delete(s); else state.hiddenSeverities.add(s);
        for (const li of findingsEl.querySelectorAll(`li.sev-${s}`)) li.hidden = !ev.target.checked;
        draw();
      },
    }), ` ${s} (${n})`));
  document.getElementById("finding-filters").replaceChildren(...filters);
}

// Centre the chart on a finding, show its evidence in the table (and, from the list, scroll
// the page to it).
function selectFinding(id, opts) {
  const f = FINDING_BY_ID.get(id);
  if (!f) return;
  opts = { scroll: false, zoom: true, ...opts };
  state.finding = id;
  state.evidence = new Set(f.evidence.filter((e) => e.row !== null && e.row !== undefined).map((e) => e.row));
  for (const li of findingsEl.querySelectorAll("li.selected")) li.classList.remove("selected");
  const li = document.getElementById(id);
  li.classList.add("selected");
  const story = li.querySelector("details.story");
  if (story) story.open = true;
  if (opts.from === "chart") findingsEl.scrollTop = li.offsetTop - findingsEl.offsetTop - 8;
  const [a, b] = f.span;
  const span = b - a;
  // The window: the finding's span, padded; at least 4 s around an instant.
  const pad = Math.max(span * 0.1, 2e6);
  state.win = { a: a - pad, b: b + pad };
  if (opts.zoom) {
    const vpad = Math.max(span * 0.5, 3e6);
    setView(a - vpad, b + vpad);
  }
  state.focusRow = -1;
  const first = [...state.evidence].sort((x, y) => x - y)[0];
  renderTable(first);
  draw();
  document.body.dataset.clicked = id;
  if (opts.scroll) scrollToEvidence(first);
}

function scrollToEvidence(row) {
  const tr = row === undefined ? null : document.getElementById(`row-${row}`);
  const target = tr || document.getElementById("table-section");
  target.scrollIntoView({ block: "center", inline: "nearest" });
  document.getElementById("main").scrollLeft = 0;
  // Whether the row now shows inside the scrolling part of the page (below the chart).
  const r = target.getBoundingClientRect(), m = document.getElementById("main").getBoundingClientRect();
  document.body.dataset.evidenceVisible = tr && r.top >= m.top && r.bottom <= m.bottom ? "1" : "0";
  document.body.dataset.scrollTop = Math.round(document.getElementById("main").scrollTop);
  document.body.dataset.scrolledTo = tr ? tr.id : "table-section";
}

// One row, from an evidence link or a click on its mark.
function focusRow(i, opts) {
  state.focusRow = i;
  if (!state.win || TS[i] < state.win.a || TS[i] >= state.win.b) state.win = { a: TS[i] - 2e6, b: TS[i] + 2e6 };
  const x = xOf(TS[i]);
  if (x < 0 || x > layout.w) setView(TS[i] - (state.view.b - state.view.a) / 2, TS[i] + (state.view.b - state.view.a) / 2);
  renderTable(i);
  draw();
  if (opts.scroll) scrollToEvidence(i);
}

function setWindow(a, b, opts) {
  state.win = { a, b };
  state.focusRow = -1;
  renderTable();
  draw();
  if (opts && opts.scroll) document.getElementById("table-section").scrollIntoView({ block: "start" });
}

// The rows of the window, as `audit timeline --window` prints them (from what is embedded).
function renderTable(around) {
  const head = document.querySelector("#rows thead");
  const label = (what, o) => (o.length === 1 ? `${what} (${o[0]})` : what);
  head.replaceChildren(el("tr", {}, ...["UTC", label("DB shows", DB_OFFSETS), label("log wrote", LOG_OFFSETS), "source", "level", "event", "symbol", "pos", "message", "twin"].map((h) => el("th", { text: h }))));
  const note = document.getElementById("table-note");
  const wl = document.getElementById("window-label");
  if (!state.win) {
    tbody.replaceChildren();
    note.textContent = "Select a window: shift+drag on the chart (or drag on its axis), type one above, or click a finding.";
    wl.textContent = "";
    return;
  }
  const { a, b } = state.win;
  const lo = lowerBound(TS, a), hi = lowerBound(TS, b);
  let from = lo, to = hi;
  if (hi - lo > ROW_CAP) {
    from = around !== undefined && around >= lo && around < hi ? Math.max(lo, Math.min(around - ROW_CAP / 2, hi - ROW_CAP)) : lo;
    to = from + ROW_CAP;
  }
  const zone = DATA.display.offset ? OFFSET_S[D.offset.indexOf(DATA.display.offset)] ?? parseOffset(DATA.display.offset) : 0;
  const dz = (t) => { const p = parts(t, zone); return `${p.date} ${p.hms}.${p.ms}`; };
  wl.textContent = `${fmtDate(a)} ${fmtUtc(a, 3)} .. ${fmtUtc(b, 3)} UTC = ${dz(a)} .. ${dz(b)} (${DATA.display.offset || "UTC"}) · ${hi - lo} rows`;
  note.textContent = hi - lo > ROW_CAP
    ? `Showing rows ${from - lo + 1}–${to - lo} of ${hi - lo} in the window (narrow it to see the others).`
    : "";
  const frag = document.createDocumentFragment();
  const multiDay = fmtDate(a) !== fmtDate(b - 1);
  for (let i = from; i < to; i++) {
    const db = isDb(i);
    const tw = R.tw[i];
    const twin = tw >= 0 ? el("a", {
      href: `#row-${tw}`, text: `${isDb(tw) ? sourceRef(tw) : `line ${R.r[tw]}`} (${tidyMs((TS[tw] - TS[i]) / 1000)} ms)`,
      title: `its twin: ${sourceRef(tw)}, ${isDb(tw) ? "DB shows" : "log wrote"} ${localReading(tw, true)}`,
      onclick: (ev) => { ev.preventDefault(); focusRow(tw, { scroll: true }); },
    }) : (KIND[R.k[i]] === "event" ? "—" : "");
    const tr = el("tr", {
      id: `row-${i}`,
      class: [db ? "db" : "log", state.evidence.has(i) ? "evidence" : "", i === state.focusRow ? "focus" : ""].filter(Boolean).join(" "),
      onmouseenter: () => { state.hoverRow = i; drawForeground(); },
      onmouseleave: () => { state.hoverRow = -1; drawForeground(); },
    },
    el("td", { class: "t", text: (multiDay ? `${fmtDate(TS[i])} ` : "") + fmtUtc(TS[i], 3) }),
    el("td", { class: "t", text: db ? localReading(i, false) : "" }),
    el("td", { class: "t", text: db ? "" : localReading(i, false) }),
    el("td", { text: sourceRef(i) }),
    el("td", { text: D.level[R.l[i]] }),
    el("td", { text: eventLabel(i) }),
    el("td", { text: D.symbol[R.s[i]] }),
    el("td", { text: R.p[i] ? R.p[i] : "" }),
    el("td", { class: "msg", text: R.m[i], title: R.m[i] }),
    el("td", { class: "twin" }, twin));
    frag.append(tr);
  }
  tbody.replaceChildren(frag);
  document.body.dataset.evidenceRows = tbody.querySelectorAll("tr.evidence").length;
  if (hi === lo) note.textContent = "No embedded row in this window.";
}

// `14:07-14:08`, `14:07`, `14:07:13.2-14:07:15`, with an optional `YYYY-MM-DD ` before: read
// in the display zone, like `--window`.
function parseWindow(text) {
  const m = /^\s*(?:(\d{4}-\d\d-\d\d)[ T])?(\d\d?:\d\d(?::\d\d(?:\.\d+)?)?)(?:\s*(?:-|\.\.)\s*(\d\d?:\d\d(?::\d\d(?:\.\d+)?)?))?\s*$/.exec(text);
  if (!m) return null;
  const zone = DATA.display.offset ? parseOffset(DATA.display.offset) : 0;
  const date = m[1] || parts(TS[0] ?? DATA.t0, zone).date;
  const at = (hms) => {
    const [h, mi, s = "0"] = hms.split(":");
    const [d, mo, y] = [date.slice(8, 10), date.slice(5, 7), date.slice(0, 4)];
    return Date.UTC(+y, +mo - 1, +d, +h, +mi) * 1000 + parseFloat(s) * 1e6 - zone * 1e6;
  };
  const a = at(m[2]);
  const b = m[3] ? at(m[3]) : a + (m[2].split(":").length === 2 ? 60e6 : 1e6);
  return b > a ? { a, b } : null;
}

// An offset in seconds as `+04:00` or `+04:00:05.123`.
function fmtOffset(s) {
  const ms = Math.round(Math.abs(s) * 1000);
  const sign = s < 0 ? "-" : "+";
  const pad = (n, w) => String(n).padStart(w, "0");
  const hm = `${sign}${pad(Math.floor(ms / 3600000), 2)}:${pad(Math.floor((ms % 3600000) / 60000), 2)}`;
  const rest = ms % 60000;
  return rest ? `${hm}:${pad(Math.floor(rest / 1000), 2)}.${pad(rest % 1000, 3)}` : hm;
}

// `+0.0`, never `-0.0`: a lag within ±0.05 ms is no lag.
function tidyMs(ms) {
  const v = Math.abs(ms) < 0.05 ? 0 : ms;
  return `${v >= 0 ? "+" : ""}${v.toFixed(1)}`;
}

function renderClocks() {
  const rows = DATA.clocks.flatMap((c) => {
    const e = c.estimate;
    const what = c.role === "display" ? "db (shown in)" : c.role === "storage" ? "db created_at (naive)" : c.source;
    const segs = (c.steps || []).map((s) => `step at line ${s.line} (${s.at_utc.slice(11, 23)} UTC): ${fmtOffset(s.before_s)} → ${fmtOffset(s.after_s)}`).join("; ");
    const first = e && e.segments.length ? e.segments[0] : null;
    const main = el("tr", { class: `main${c.assumed ? " assumed" : ""}` },
      el("td", { text: what }),
      el("td", { text: (c.offsets.length ? c.offsets.join(" → ") : c.zone) }),
      el("td", { text: c.method || "" }),
      el("td", { text: e ? e.anchors : "" }),
      el("td", { text: e ? `±${e.spread_ms.toFixed(1)} ms` : "" }),
      el("td", { text: first ? `${tidyMs(first.skew_ms)} ms, ${tidyMs(first.drift_ppm)} ppm` : "" }),
      el("td", { text: e ? `${Math.round(e.agreement * 100)} %` : "" }),
      el("td", { text: e ? e.confidence : "" }));
    const how = el("tr", { class: c.assumed ? "assumed" : "" }, el("td", {
      class: "how", colspan: 8,
      text: c.provenance + (c.warning ? ` — warning: ${c.warning}` : "") + (segs ? ` — ${segs}` : ""),
    }));
    return [main, how];
  });
  document.getElementById("clocks").replaceChildren(el("table", { class: "small" },
    el("thead", {}, el("tr", {}, ...["source", "offset", "method", "anchors", "spread", "skew, drift", "agree", "confidence"].map((h) => el("th", { text: h })))),
    el("tbody", {}, ...rows)));
  const c = DATA.counts;
  const cols = ["db_rows", "log_lines", "twins", "missing_in_log", "missing_in_db", "no_log_coverage"];
  const line = (label, t) => el("tr", {}, el("td", { text: label }), ...cols.map((k) => el("td", { text: t ? t[k] : "—" })));
  const byType = el("details", {}, el("summary", { text: "by event type" }), el("table", { class: "small" },
    el("thead", {}, el("tr", {}, ...["event type", "DB rows", "log lines (naive)", "log lines (aligned)", "twins", "missing in log", "missing in DB"].map((h) => el("th", { text: h })))),
    el("tbody", {}, ...c.by_type.map((r) => el("tr", {}, ...r.map((v) => el("td", { text: v === null ? "—" : v })))))));
  document.getElementById("counts").replaceChildren(
    el("p", { class: "note", text: `twins: same event type and payload, |(log − created_at) − (${tidyMs(c.lag_ms)} ms)| ≤ ${c.tolerance_ms.toFixed(0)} ms, one-to-one. Naive: log times read as if written in the DB's display zone (what comparing psql output with a log by eye does).` }),
    el("table", { class: "small", id: "counts-table" },
      el("thead", {}, el("tr", {}, ...["", "DB rows", "log event lines", "twins", "missing in log", "missing in DB", "no log coverage"].map((h) => el("th", { text: h })))),
      el("tbody", {}, line("aligned (clocks above)", c.aligned), line("naive (log time read as DB time)", c.naive))),
    byType);
}

function applyFragment() {
  const params = new URLSearchParams(location.hash.replace(/^#/, ""));
  const w = params.get("window");
  if (w) { const r = parseWindow(w); if (r) { setView(r.a - (r.b - r.a) * 0.1, r.b + (r.b - r.a) * 0.1); setWindow(r.a, r.b); } }
  const click = params.get("click");
  if (click && FINDING_BY_ID.has(click)) {
    // A scripted click on the finding's list entry (what the browser test drives).
    document.querySelector(`#${click} .finding-head`).click();
  }
}

function init() {
  document.getElementById("window-zone").textContent = DATA.display.zone ? `display zone ${DATA.display.zone}` : "UTC";
  document.getElementById("footer").textContent =
    `audit ${DATA.audit} · ${N} rows embedded: every DB row and every structured log record (events, lock, signal, flush, queue-full lines) the checks read. `
    + `${DATA.not_embedded.plain_messages} plain log messages were counted but not kept by the check pipeline, so the window table shows no plain messages — `
    + `\`audit timeline --window …\` prints them. Messages are cut at ${DATA.not_embedded.message_chars} characters. Nothing on this page is fetched from the network.`;
  document.getElementById("window-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const r = parseWindow(document.getElementById("window-input").value);
    const input = document.getElementById("window-input");
    input.classList.toggle("bad", !r);
    if (r) { setView(r.a - (r.b - r.a) * 0.1, r.b + (r.b - r.a) * 0.1); setWindow(r.a, r.b); }
  });
  renderFindings();
  renderClocks();
  legend();
  resize();
  const f = fullRange();
  state.view = f;
  setupChart();
  draw();
  renderTable();
  // Script time (decode, index, first draw), and the time from navigation start to the first
  // drawn chart, which includes the browser reading the file.
  document.body.dataset.loadMs = (performance.now() - STARTED).toFixed(0);
  document.body.dataset.openMs = performance.now().toFixed(0);
  applyFragment();
  window.addEventListener("hashchange", applyFragment);
  document.body.dataset.ready = "1";
}

init();
