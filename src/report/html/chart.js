// chart.js — lanes (SVG), marks (canvas, aggregated into pixel columns when there are more
// marks than pixels), twin links, findings (SVG markers and bands), the axis, zoom, pan,
// window selection and the hover tooltip.

const AXIS_H = 30, FIND_H = 26, LANE_H = 34;
const MIN_SPAN_US = 500; // zoom down to half a millisecond across the plot
const LINK_MAX = 4000; // twin links drawn when at most this many DB rows are in view
const plotEl = document.getElementById("plot");
const canvas = document.getElementById("marks");
const bgSvg = document.getElementById("bg");
const fgSvg = document.getElementById("fg");
const tooltip = document.getElementById("tooltip");
const layout = { w: 600, h: 200, k: 1 };
let drawCount = 0;

function laneY(j) { return AXIS_H + FIND_H + j * LANE_H; }
const xOf = (t) => (t - state.view.a) * layout.k;
const tOf = (x) => state.view.a + x / layout.k;

function fullRange() {
  let a = DATA.t0, b = DATA.t1;
  for (const l of LANES) if (l.kind === "process") { a = Math.min(a, l.start); b = Math.max(b, l.end); }
  for (const f of FINDINGS) { a = Math.min(a, f.span[0]); b = Math.max(b, f.span[1]); }
  const pad = Math.max((b - a) * 0.02, 5e5);
  return { a: a - pad, b: b + pad };
}

function setView(a, b) {
  const full = fullRange();
  let span = Math.max(b - a, MIN_SPAN_US);
  span = Math.min(span, (full.b - full.a) * 1.5);
  const mid = (a + b) / 2;
  state.view = { a: mid - span / 2, b: mid + span / 2 };
  draw();
}

function zoomAt(t, factor) {
  const { a, b } = state.view;
  setView(t - (t - a) * factor, t + (b - t) * factor);
}

function resize() {
  layout.w = Math.max(200, plotEl.clientWidth);
  layout.h = laneY(LANES.length) + 6;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.round(layout.w * dpr);
  canvas.height = Math.round(layout.h * dpr);
  for (const e of [canvas, bgSvg, fgSvg]) { e.style.width = `${layout.w}px`; e.style.height = `${layout.h}px`; }
  for (const s of [bgSvg, fgSvg]) { s.setAttribute("width", layout.w); s.setAttribute("height", layout.h); }
  plotEl.style.height = `${layout.h}px`;
  const labels = document.getElementById("lane-labels");
  labels.style.height = `${layout.h}px`;
  labels.replaceChildren(
    el("div", { class: "lane-label axis", style: `top:0;height:${AXIS_H}px`, text: "UTC" }),
    el("div", { class: "lane-label", style: `top:${AXIS_H}px;height:${FIND_H}px`, text: "findings" }),
    ...LANES.map((l, j) => el("div", {
      class: `lane-label ${l.kind}`, style: `top:${laneY(j)}px;height:${LANE_H}px`,
      title: [laneName(j), l.detail, laneSub(j)].filter(Boolean).join("\n"),
    }, el("span", { text: l.name }), el("small", { text: laneSub(j) }))),
  );
}

function laneSub(j) {
  const l = LANES[j];
  const n = LANE_IDX[j].length;
  if (l.kind === "process") return `${l.pid ? `PID ${l.pid} · ` : ""}${fmtUtc(l.start, 0)}–${fmtUtc(l.end, 0)} · ${n} rec.`;
  if (l.kind === "ghost") return n ? `${n} rows` : "none";
  return `${n} rows`;
}

function draw() {
  const t0 = performance.now();
  layout.k = layout.w / (state.view.b - state.view.a);
  drawBackground();
  const marks = drawMarks();
  drawForeground();
  drawCount++;
  canvas.dataset.marks = marks;
  canvas.dataset.draws = drawCount;
  canvas.dataset.drawMs = (performance.now() - t0).toFixed(1);
  canvas.dataset.view = `${Math.round(state.view.a)},${Math.round(state.view.b)}`;
  const { a, b } = state.view;
  document.getElementById("view-label").textContent =
    `${fmtDate(a)} ${fmtUtc(a, 3)} – ${fmtUtc(b, 3)} UTC (${fmtSpan(b - a)}) · ${marks} rows in view`;
}

// Process bars, overlap and gap bands, interval findings, the selected window.
function drawBackground() {
  const kids = [];
  const top = AXIS_H, bottom = layout.h;
  const band = (a, b, cls, colour, title) => {
    const x0 = Math.max(-10, xOf(a)), x1 = Math.min(layout.w + 10, xOf(b));
    if (x1 < 0 || x0 > layout.w) return;
    const r = svg("rect", { x: x0, y: top, width: Math.max(1, x1 - x0), height: bottom - top, class: cls });
    if (colour) r.setAttribute("fill", colour);
    if (title) r.append(Object.assign(svg("title"), { textContent: title }));
    kids.push(r);
  };
  for (const f of FINDINGS) {
    if (f.span[1] <= f.span[0] || state.hiddenSeverities.has(f.severity)) continue;
    const cls = f.kind === "process_overlap" ? "band overlap" : f.kind === "process_gap" ? "band gap" : "band interval";
    band(f.span[0], f.span[1], cls, KIND_COLOUR[f.kind], `${f.kind}: ${fmtUtc(f.span[0], 3)} – ${fmtUtc(f.span[1], 3)} UTC (${fmtSpan(f.span[1] - f.span[0])})`);
  }
  LANES.forEach((l, j) => {
    kids.push(svg("rect", { x: 0, y: laneY(j), width: layout.w, height: LANE_H, class: `lane-bg ${j % 2 ? "odd" : "even"}` }));
    if (l.kind !== "process") return;
    const x0 = Math.max(-5, xOf(l.start)), x1 = Math.min(layout.w + 5, xOf(l.end));
    if (x1 < 0 || x0 > layout.w) return;
    kids.push(svg("rect", { x: x0, y: laneY(j) + 3, width: Math.max(2, x1 - x0), height: LANE_H - 6, rx: 3, class: "process-bar" }));
  });
  if (DATA.window) {
    // The checked range: rows loaded around it (for twins across its edges) are drawn, but
    // findings are only looked for inside it.
    band(state.view.a - 1, DATA.window[0], "band outside", null, "outside the checked range");
    band(DATA.window[1], state.view.b + 1, "band outside", null, "outside the checked range");
  }
  if (state.win) band(state.win.a, state.win.b, "band window", null, "the window shown in the table");
  if (state.view.a < DATA.t0 || state.view.b > DATA.t1) {
    // Outside the loaded rows: shaded, so an empty stretch is not read as silence.
    band(state.view.a - 1, DATA.t0, "band outside", null, "before the first row");
    band(DATA.t1, state.view.b + 1, "band outside", null, "after the last row");
  }
  bgSvg.replaceChildren(...kids);
}

// Marks on the canvas; returns how many rows the view holds.
function drawMarks() {
  const ctx = canvas.getContext("2d");
  const dpr = canvas.width / layout.w;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, layout.w, layout.h);
  const { a, b } = state.view;
  const W = Math.ceil(layout.w);
  let total = 0;
  const visible = [];
  LANE_IDX.forEach((idx, j) => {
    const ts = LANE_TS[j];
    const lo = lowerBound(ts, a), hi = lowerBound(ts, b);
    const n = hi - lo;
    total += n;
    visible.push([lo, hi]);
    if (!n) return;
    const y = laneY(j) + 5, h = LANE_H - 10;
    if (n > W * 2) {
      // Aggregated: one column per pixel, height by sqrt(count) (busy and quiet stretches stay
      // apart at a day's scale); a tick above a column holding rows without their twin.
      const counts = new Uint32Array(W), alone = new Uint8Array(W);
      let max = 1;
      for (let p = lo; p < hi; p++) {
        const x = Math.min(W - 1, ((ts[p] - a) * layout.k) | 0);
        const c = ++counts[x];
        if (c > max) max = c;
        const cat = CATS[idx[p]];
        if (cat === CAT.DB_ALONE || cat === CAT.LOG_ALONE || cat === CAT.MALFORMED) alone[x] = 1;
      }
      const sm = Math.sqrt(max);
      ctx.fillStyle = LANES[j].kind === "db" || LANES[j].kind === "ghost" ? "#2f6fdf" : "#2b9348";
      for (let x = 0; x < W; x++) {
        if (!counts[x]) continue;
        const hh = Math.max(2, (h * Math.sqrt(counts[x])) / sm);
        ctx.fillRect(x, y + h - hh, 1, hh);
      }
      ctx.fillStyle = CAT_INFO[CAT.DB_ALONE][1];
      for (let x = 0; x < W; x++) if (alone[x]) ctx.fillRect(x, y - 3, 1, 3);
      return;
    }
    const wide = n < W / 6 ? 3 : n < W ? 2 : 1;
    for (let p = lo; p < hi; p++) {
      const i = idx[p];
      const cat = CATS[i];
      const x = (ts[p] - a) * layout.k;
      ctx.fillStyle = CAT_INFO[cat][1];
      if (cat === CAT.LOG_TYPED) ctx.fillRect(x - wide / 2, y + h / 3, wide, (2 * h) / 3);
      else ctx.fillRect(x - wide / 2, y, wide, h);
    }
  });
  drawLinks(ctx, visible);
  drawRings(ctx);
  return total;
}

// Matched pairs: a line from each DB row to its log line, when few enough are in view.
function drawLinks(ctx, visible) {
  const [lo, hi] = visible[0];
  if (hi - lo > LINK_MAX || hi === lo) return;
  ctx.strokeStyle = "rgba(73, 80, 87, 0.45)";
  ctx.lineWidth = 1;
  ctx.beginPath();
  const idx = LANE_IDX[0];
  for (let p = lo; p < hi; p++) {
    const i = idx[p], tw = R.tw[i];
    if (tw < 0) continue;
    ctx.moveTo(xOf(TS[i]), laneY(0) + LANE_H - 5);
    ctx.lineTo(xOf(TS[tw]), laneY(R.lane[tw]) + 5);
  }
  ctx.stroke();
}

// The selected finding's evidence and the focused row, ringed.
function drawRings(ctx) {
  const ring = (i, colour, r) => {
    const x = xOf(TS[i]);
    if (x < -r || x > layout.w + r) return;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.beginPath();
    ctx.arc(x, laneY(R.lane[i]) + LANE_H / 2, r, 0, 2 * Math.PI);
    ctx.stroke();
  };
  const f = state.finding && FINDING_BY_ID.get(state.finding);
  if (f && state.evidence.size <= 5000) for (const i of state.evidence) ring(i, KIND_COLOUR[f.kind], 7);
  if (state.focusRow >= 0) ring(state.focusRow, "#000", 10);
}

// The axis, finding markers, the hovered row's cursor.
function drawForeground() {
  const kids = [svg("rect", { x: 0, y: 0, width: layout.w, height: AXIS_H, class: "axis-bg" })];
  const { a, b } = state.view;
  const step = tickStep((b - a) / (layout.w / 110));
  const digits = step >= 60e6 ? -1 : step >= 1e6 ? 0 : step >= 1e3 ? 3 : 6;
  for (let t = Math.ceil(a / step) * step; t <= b; t += step) {
    const x = xOf(t);
    kids.push(svg("line", { x1: x, x2: x, y1: AXIS_H - 6, y2: layout.h, class: "tick" }));
    const label = digits < 0 ? fmtUtc(t, 0).slice(0, 5) : fmtUtc(t, digits);
    const txt = svg("text", { x: x + 3, y: 13, class: "tick-label" });
    txt.textContent = label;
    kids.push(txt);
    if (t % 86400e6 === 0 || t === Math.ceil(a / step) * step) {
      const d = svg("text", { x: x + 3, y: 25, class: "tick-date" });
      d.textContent = fmtDate(t);
      kids.push(d);
    }
  }
  for (const f of FINDINGS) {
    if (state.hiddenSeverities.has(f.severity)) continue;
    const x = xOf(f.at);
    if (x < -8 || x > layout.w + 8) continue;
    kids.push(findingMarker(f, x, AXIS_H + FIND_H / 2));
  }
  if (state.hoverRow >= 0) {
    const x = xOf(TS[state.hoverRow]);
    kids.push(svg("line", { x1: x, x2: x, y1: AXIS_H, y2: layout.h, class: "cursor" }));
  }
  if (drag && drag.mode === "select") {
    const x0 = Math.min(drag.x0, drag.x), x1 = Math.max(drag.x0, drag.x);
    kids.push(svg("rect", { x: x0, y: AXIS_H, width: x1 - x0, height: layout.h - AXIS_H, class: "selecting" }));
  }
  fgSvg.replaceChildren(...kids);
}

function findingMarker(f, x, y) {
  const r = { high: 7, medium: 6, low: 5, info: 4.5 }[f.severity];
  const colour = KIND_COLOUR[f.kind];
  const m = f.severity === "high"
    ? svg("path", { d: `M${x} ${y - r} L${x + r} ${y} L${x} ${y + r} L${x - r} ${y} Z` })
    : svg("circle", { cx: x, cy: y, r });
  m.setAttribute("class", `marker sev-${f.severity}${state.finding === f.id ? " selected" : ""}`);
  m.setAttribute("fill", f.severity === "info" ? "#fff" : colour);
  m.setAttribute("stroke", colour);
  m.dataset.finding = f.id;
  const title = svg("title");
  title.textContent = `${f.severity.toUpperCase()} ${f.kind} ${fmtUtc(f.at, 3)} UTC`;
  m.append(title);
  return m;
}

function tickStep(minStep) {
  const steps = [1e2, 2e2, 5e2, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7, 15e6, 3e7,
    6e7, 12e7, 3e8, 6e8, 9e8, 18e8, 36e8, 72e8, 108e8, 216e8, 432e8, 864e8];
  return steps.find((s) => s >= minStep) || 864e8 * Math.ceil(minStep / 864e8);
}

// What is under the pointer: a finding marker, a row, a pixel column of many rows, a process.
function hit(x, y) {
  if (y >= AXIS_H && y < AXIS_H + FIND_H) {
    let best = null, bd = 9;
    for (const f of FINDINGS) {
      if (state.hiddenSeverities.has(f.severity)) continue;
      const d = Math.abs(xOf(f.at) - x);
      if (d < bd) { bd = d; best = f; }
    }
    return best && { finding: best };
  }
  const j = Math.floor((y - AXIS_H - FIND_H) / LANE_H);
  if (j < 0 || j >= LANES.length) return null;
  const ts = LANE_TS[j], idx = LANE_IDX[j];
  const lo = lowerBound(ts, state.view.a), hi = lowerBound(ts, state.view.b);
  if (hi - lo > layout.w * 2) {
    const t0 = tOf(Math.floor(x)), t1 = tOf(Math.floor(x) + 1);
    const n = lowerBound(ts, t1) - lowerBound(ts, t0);
    if (n) return { bucket: { lane: j, n, t0, t1 } };
  } else {
    const t = tOf(x);
    let p = lowerBound(ts, t), best = -1, bd = 6;
    for (const q of [p - 1, p]) {
      if (q < lo || q >= hi) continue;
      const d = Math.abs(xOf(ts[q]) - x);
      if (d < bd) { bd = d; best = idx[q]; }
    }
    if (best >= 0) return { row: best };
  }
  const l = LANES[j];
  if (l.kind === "process" && tOf(x) >= l.start && tOf(x) <= l.end) return { lane: j };
  return null;
}

function rowTooltip(i) {
  const db = isDb(i);
  const bits = [D.type[R.e[i]] || KIND[R.k[i]], D.level[R.l[i]], D.symbol[R.s[i]], R.p[i] ? `pos ${R.p[i]}` : ""].filter(Boolean);
  let s = `<b>${fmtUtc(TS[i], 6)} UTC</b> ${fmtDate(TS[i])}<br>`
    + `${db ? "DB shows" : "log wrote"} <b>${escapeHtml(localReading(i, true))}</b> (${escapeHtml(D.offset[R.o[i]])})<br>`
    + `${escapeHtml(sourceRef(i))} · ${escapeHtml(bits.join(" · "))}<br><span class="msg">${escapeHtml(R.m[i])}</span>`;
  const tw = R.tw[i];
  if (tw >= 0) {
    const d = (TS[tw] - TS[i]) / 1000;
    s += `<br>twin: ${escapeHtml(sourceRef(tw))} — ${isDb(tw) ? "DB shows" : "log wrote"} ${escapeHtml(localReading(tw, false))}, ${d >= 0 ? "+" : ""}${d.toFixed(3)} ms`;
  } else if (KIND[R.k[i]] === "event") {
    s += `<br><i>no twin</i>`;
  }
  return s;
}

function showTooltip(h, ev) {
  if (!h) { tooltip.hidden = true; return; }
  let html;
  if (h.finding) {
    const f = h.finding;
    html = `<b>${f.severity.toUpperCase()} ${escapeHtml(f.kind)}</b> ${fmtUtc(f.at, 3)} UTC<br>${escapeHtml(f.explanation.slice(0, 300))}<br><i>click: show it and its evidence</i>`;
  } else if (h.row !== undefined) {
    html = rowTooltip(h.row);
  } else if (h.bucket) {
    const b = h.bucket;
    html = `<b>${b.n} rows</b> of ${escapeHtml(laneName(b.lane))}<br>${fmtUtc(b.t0, 3)} – ${fmtUtc(b.t1, 3)} UTC<br><i>zoom in to see each row</i>`;
  } else {
    const l = LANES[h.lane];
    html = `<b>${escapeHtml(laneName(h.lane))}</b><br>alive ${fmtDate(l.start)} ${fmtUtc(l.start, 3)} – ${fmtUtc(l.end, 3)} UTC (${fmtSpan(l.end - l.start)})`
      + `<br>lock: ${escapeHtml(l.lock || "—")} · ended by: ${escapeHtml(l.ended_by ? `${l.ended_by} (${l.ended_at})` : "— (no shutdown line)")}`
      + `<br>DB rows meanwhile: ${l.db_rows}${l.lock_trouble.length ? `<br>lock trouble: ${escapeHtml(l.lock_trouble.join(", "))}` : ""}`;
  }
  tooltip.innerHTML = html;
  tooltip.hidden = false;
  const x = Math.min(ev.clientX + 14, window.innerWidth - 430);
  tooltip.style.left = `${Math.max(0, x)}px`;
  tooltip.style.top = `${Math.min(ev.clientY + 16, window.innerHeight - tooltip.offsetHeight - 4)}px`;
}

let drag = null;
function pointerXY(ev) {
  const r = fgSvg.getBoundingClientRect();
  return [ev.clientX - r.left, ev.clientY - r.top];
}

function setupChart() {
  fgSvg.addEventListener("wheel", (ev) => {
    ev.preventDefault();
    const [x] = pointerXY(ev);
    zoomAt(tOf(x), Math.exp(Math.max(-3, Math.min(3, ev.deltaY * (ev.deltaMode ? 40 : 1) * 0.0015))));
  }, { passive: false });
  fgSvg.addEventListener("pointerdown", (ev) => {
    const [x, y] = pointerXY(ev);
    const select = ev.shiftKey || y < AXIS_H;
    drag = { mode: select ? "select" : "pan", x0: x, x, view: { ...state.view }, moved: false };
    fgSvg.setPointerCapture(ev.pointerId);
  });
  fgSvg.addEventListener("pointermove", (ev) => {
    const [x, y] = pointerXY(ev);
    if (!drag) { showTooltip(hit(x, y), ev); return; }
    drag.x = x;
    if (Math.abs(x - drag.x0) > 3) drag.moved = true;
    tooltip.hidden = true;
    if (drag.mode === "pan") {
      const dt = (drag.x0 - x) / layout.k;
      state.view = { a: drag.view.a + dt, b: drag.view.b + dt };
      draw();
    } else drawForeground();
  });
  fgSvg.addEventListener("pointerup", (ev) => {
    const [x, y] = pointerXY(ev);
    const d = drag;
    drag = null;
    if (!d) return;
    if (d.mode === "select" && d.moved) {
      const a = tOf(Math.min(d.x0, x)), b = tOf(Math.max(d.x0, x));
      setWindow(a, b, { scroll: false });
      return;
    }
    if (!d.moved) {
      const h = hit(x, y);
      if (h && h.finding) selectFinding(h.finding.id, { from: "chart" });
      else if (h && h.row !== undefined) focusRow(h.row, { scroll: false });
    }
    drawForeground();
  });
  fgSvg.addEventListener("pointerleave", () => { tooltip.hidden = true; });
  fgSvg.addEventListener("dblclick", (ev) => { const [x] = pointerXY(ev); zoomAt(tOf(x), 0.25); });
  document.getElementById("zoom-all").addEventListener("click", () => { const f = fullRange(); setView(f.a, f.b); });
  document.getElementById("zoom-in").addEventListener("click", () => zoomAt((state.view.a + state.view.b) / 2, 0.5));
  document.getElementById("zoom-out").addEventListener("click", () => zoomAt((state.view.a + state.view.b) / 2, 2));
  let pending = 0;
  window.addEventListener("resize", () => {
    cancelAnimationFrame(pending);
    pending = requestAnimationFrame(() => { resize(); draw(); });
  });
}

function legend() {
  const items = CAT_INFO.map(([label, colour]) => el("span", { class: "legend-item" },
    el("i", { class: "swatch", style: `background:${colour}` }), label));
  items.push(el("span", { class: "legend-item" }, el("i", { class: "swatch process" }), "process alive (its log's first to last record)"));
  items.push(el("span", { class: "legend-item" }, el("i", { class: "swatch link" }), "DB row ↔ its log line (twins, when zoomed in)"));
  const kinds = [...new Set(FINDINGS.map((f) => f.kind))];
  for (const k of kinds) items.push(el("span", { class: "legend-item" }, el("i", { class: "swatch round", style: `background:${KIND_COLOUR[k]}` }), k));
  items.push(el("span", { class: "legend-item" }, "◆ high · ● medium · • low · ○ info"));
  document.getElementById("legend").replaceChildren(...items);
}
