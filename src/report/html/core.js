// core.js — the embedded data decoded into typed arrays, per-lane indexes, formatting, and the
// page's state. Loaded first; chart.js and panels.js use what it defines.

const STARTED = performance.now();
const DATA = JSON.parse(document.getElementById("audit-data").textContent);
const D = DATA.dict;
const R = DATA.rows;
const N = R.dt.length;

// Absolute µs since the epoch (exact in a double up to 2^53 µs, year 2255).
const TS = new Float64Array(N);
{
  let t = DATA.t0;
  for (let i = 0; i < N; i++) { t += R.dt[i]; TS[i] = t; }
}
const KIND = D.kind;
const OFFSET_S = D.offset.map(parseOffset);

// Mark categories: what colour a row gets on the chart.
const CAT = { DB: 0, DB_ALONE: 1, LOG_EVENT: 2, LOG_ALONE: 3, LOG_TYPED: 4, MALFORMED: 5 };
const CAT_INFO = [
  ["DB row with its log line", "#2f6fdf"],
  ["DB row without a log line", "#f08c00"],
  ["log event line with its DB row", "#2b9348"],
  ["log event line without a DB row", "#e8590c"],
  ["typed log record (lock, signal, flush, queue full …)", "#8a63d2"],
  ["malformed event line", "#c92a2a"],
];
const CATS = new Uint8Array(N);
for (let i = 0; i < N; i++) {
  const k = KIND[R.k[i]];
  const db = R.f[i] === 0;
  if (db) CATS[i] = R.tw[i] >= 0 ? CAT.DB : CAT.DB_ALONE;
  else if (k === "event") CATS[i] = R.tw[i] >= 0 ? CAT.LOG_EVENT : CAT.LOG_ALONE;
  else if (k === "malformed_event") CATS[i] = CAT.MALFORMED;
  else CATS[i] = CAT.LOG_TYPED;
}

// The offsets each side was read with (the table's column headers name a single one).
const DB_OFFSETS = [], LOG_OFFSETS = [];
{
  const seen = [new Set(), new Set()];
  for (let i = 0; i < N; i++) seen[R.f[i] === 0 ? 0 : 1].add(R.o[i]);
  for (const o of seen[0]) DB_OFFSETS.push(D.offset[o]);
  for (const o of seen[1]) LOG_OFFSETS.push(D.offset[o]);
}

// Rows of each lane, in time order (the rows are already ordered by UTC).
const LANES = DATA.lanes;
const LANE_ROWS = LANES.map(() => []);
for (let i = 0; i < N; i++) LANE_ROWS[R.lane[i]].push(i);
const LANE_IDX = LANE_ROWS.map((a) => Int32Array.from(a));
const LANE_TS = LANE_IDX.map((idx) => Float64Array.from(idx, (i) => TS[i]));

const SEVERITIES = ["high", "medium", "low", "info"];
const KIND_COLOUR = {
  missing_in_log: "#e03131",
  missing_in_db: "#f76707",
  no_log_coverage: "#868e96",
  correlation_inversion: "#7048e8",
  process_overlap: "#c2255c",
  process_gap: "#1098ad",
  unattributed_activity: "#a61e4d",
  duplicate_event: "#d9480f",
  clock_offset_change: "#5c940d",
  clock_unsettled: "#e67700",
  no_db_coverage: "#495057",
  log_copy_gap: "#1c7ed6",
  log_level_filtered: "#adb5bd",
};
const FINDINGS = DATA.findings;
const FINDING_BY_ID = new Map(FINDINGS.map((f) => [f.id, f]));

// What the page shows now.
const state = {
  view: { a: 0, b: 1 },
  win: null, // { a, b } µs, half-open
  finding: null, // selected finding id
  evidence: new Set(), // rows of the selected finding's evidence
  focusRow: -1, // a row picked in the table or by an evidence link
  hoverRow: -1,
  hiddenSeverities: new Set(),
};

// `+04:00`, `+0400`, and `+04:00:05.123` (a clock seconds off its zone), in seconds.
function parseOffset(s) {
  const m = /^([+-])(\d\d):?(\d\d)(?::?(\d\d(?:\.\d+)?))?$/.exec(s || "");
  if (!m) return 0;
  const v = (+m[2]) * 3600 + (+m[3]) * 60 + (+(m[4] || 0));
  return m[1] === "-" ? -v : v;
}

function lowerBound(arr, x) {
  let lo = 0, hi = arr.length;
  while (lo < hi) { const mid = (lo + hi) >> 1; if (arr[mid] < x) lo = mid + 1; else hi = mid; }
  return lo;
}

const pad = (n, w) => String(n).padStart(w, "0");

// Parts of an instant (µs) on a clock `offsetS` east of UTC.
function parts(us, offsetS) {
  const shifted = us + offsetS * 1e6;
  const ms = Math.floor(shifted / 1000);
  const d = new Date(ms);
  return {
    date: `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`,
    hms: `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`,
    ms: pad(d.getUTCMilliseconds(), 3),
    us: pad(Math.round(shifted - ms * 1000), 3),
  };
}

function fmtUtc(us, digits) {
  const p = parts(us, 0);
  if (digits === 0) return p.hms;
  if (digits === 3) return `${p.hms}.${p.ms}`;
  return `${p.hms}.${p.ms}${p.us}`;
}

function fmtDate(us) { return parts(us, 0).date; }

function fmtSpan(us) {
  const a = Math.abs(us);
  if (a < 1e3) return `${Math.round(us)} µs`;
  if (a < 1e6) return `${+(us / 1e3).toFixed(1)} ms`;
  if (a < 120e6) return `${+(us / 1e6).toFixed(2)} s`;
  if (a < 7200e6) return `${+(us / 60e6).toFixed(1)} min`;
  return `${+(us / 3600e6).toFixed(1)} h`;
}

function shortOffset(o) { return (o || "").replace(/:00$/, ""); }

const isDb = (i) => R.f[i] === 0;

// A row's reading on its own clock, as `audit timeline` prints it: the DB in the display zone
// with its offset, the log's asctime as written (comma, milliseconds).
function localReading(i, full) {
  const off = D.offset[R.o[i]];
  const p = parts(TS[i], OFFSET_S[R.o[i]]);
  const day = full ? `${p.date} ` : "";
  if (isDb(i)) return `${day}${p.hms}.${p.ms}${full ? p.us : ""}${shortOffset(off)}`;
  return `${day}${p.hms},${p.ms}`;
}

function sourceRef(i) {
  return isDb(i) ? `db:${R.r[i]}` : `${D.file[R.f[i]]}:${R.r[i]}`;
}

function eventLabel(i) {
  const k = KIND[R.k[i]];
  const e = D.type[R.e[i]];
  if (e && k === "event") return e;
  if (e) return `${e} (${k})`;
  return k === "message" ? "" : k;
}

function laneName(j) {
  const l = LANES[j];
  return l.pid ? `${l.name} (PID ${l.pid})` : l.name;
}

function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

const SVG_NS = "http://www.w3.org/2000/svg";
function svg(tag, attrs) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  return e;
}
