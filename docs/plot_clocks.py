#!/usr/bin/env python3
"""docs/clocks.svg: a log file's offset against time, as the generator made it and as `audit`
measured it, for a host that drifts and for a host whose clock NTP steps.

Run from the repo root (`just clocks-figure`): it builds nothing itself, it runs
`cargo run -q -p audit-gen` and `cargo run -q --bin audit`, reads the truth and
`audit missing-logs --format json` (the clock sections and every twin's residual), and writes
a self-contained SVG with no dependencies.
"""
import json
import os
import subprocess
import sys
import tempfile
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "clocks.svg")

CASES = [
    ("A host 6.4 s fast, drifting +35 ppm", ["--seed", "51", "--hours", "2",
        "--fault", "host-clock=1:6400,35,2"]),
    ("A host 2.2 s slow that NTP steps: +3.0 s, then −1.8 s", ["--seed", "52", "--hours", "2",
        "--fault", "host-clock=1:-2200,-12,2", "--fault", "ntp-step=1:3000@0.35",
        "--fault", "ntp-step=1:-1800@0.7"]),
]


def run(args, **kw):
    return subprocess.run(args, cwd=ROOT, check=True, capture_output=True, text=True, **kw)


def us(ts):
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1_000_000)


def panel(title, truth, doc, x0, y0, w, h):
    """One panel's SVG: the first file's offset less its zone's whole hours, in seconds."""
    f = truth["files"][0]
    name = f["name"]
    clock = doc["clock"][name]
    zone = round(f["clock"]["segments"][0]["offset_start_s"] / 900) * 900
    pts_true = []
    for s in f["clock"]["segments"]:
        a, b = us(s["from_utc"]), us(s["to_utc"])
        pts_true.append([(a, s["offset_start_s"] - zone), (b, s["offset_end_s"] - zone)])
    pts_est = []
    for s in clock["segments"]:
        a, b = us(s["from_utc"]), us(s["to_utc"])
        pts_est.append([(a, s["offset_start_s"] - zone), (b, s["offset_end_s"] - zone)])
    # Every twin: the offset the estimate gives at its line, plus its residual.
    twins = []
    for t in doc.get("twins", []):
        if t["log"]["file"] != name:
            continue
        twins.append(t)
    ts = [p[0] for seg in pts_true + pts_est for p in seg]
    vs = [p[1] for seg in pts_true + pts_est for p in seg]
    tmin, tmax = min(ts), max(ts)
    vmin, vmax = min(vs), max(vs)
    pad = max(0.15, (vmax - vmin) * 0.15)
    vmin, vmax = vmin - pad, vmax + pad

    def X(t):
        return x0 + 60 + (t - tmin) / (tmax - tmin) * (w - 80)

    def Y(v):
        return y0 + 30 + (vmax - v) / (vmax - vmin) * (h - 70)

    out = [f'<text x="{x0 + 60}" y="{y0 + 18}" font-size="14" font-weight="bold">{title}</text>']
    # Axes and grid.
    out.append(f'<line x1="{x0+60}" y1="{y0+h-40}" x2="{x0+w-20}" y2="{y0+h-40}" stroke="#888"/>')
    out.append(f'<line x1="{x0+60}" y1="{y0+30}" x2="{x0+60}" y2="{y0+h-40}" stroke="#888"/>')
    steps = 6
    for k in range(steps + 1):
        v = vmin + (vmax - vmin) * k / steps
        out.append(f'<line x1="{x0+60}" y1="{Y(v):.1f}" x2="{x0+w-20}" y2="{Y(v):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{x0+55}" y="{Y(v)+4:.1f}" font-size="11" text-anchor="end">{v:+.2f} s</text>')
    for k in range(5):
        t = tmin + (tmax - tmin) * k / 4
        label = datetime.utcfromtimestamp(t / 1e6).strftime("%H:%M")
        anchor = "end" if k == 4 else "middle"
        out.append(f'<text x="{X(t):.1f}" y="{y0+h-24}" font-size="11" text-anchor="{anchor}">{label} UTC</text>')
    out.append(f'<text x="{x0+15}" y="{y0+h/2}" font-size="11" transform="rotate(-90 {x0+15} {y0+h/2})" text-anchor="middle">offset − {int(zone//3600):+d} h (s)</text>')
    # The truth: thin grey; the estimate: thick blue; steps: red marks.
    for seg in pts_true:
        (a, va), (b, vb) = seg
        out.append(f'<line x1="{X(a):.1f}" y1="{Y(va):.1f}" x2="{X(b):.1f}" y2="{Y(vb):.1f}" stroke="#999" stroke-width="7" stroke-linecap="round" opacity="0.45"/>')
    for seg in pts_est:
        (a, va), (b, vb) = seg
        out.append(f'<line x1="{X(a):.1f}" y1="{Y(va):.1f}" x2="{X(b):.1f}" y2="{Y(vb):.1f}" stroke="#1864ab" stroke-width="2"/>')
    for st in clock.get("steps", []):
        t = us(st["at_utc"])
        out.append(f'<line x1="{X(t):.1f}" y1="{y0+30}" x2="{X(t):.1f}" y2="{y0+h-40}" stroke="#c92a2a" stroke-dasharray="4 3"/>')
        out.append(f'<text x="{X(t)+4:.1f}" y="{y0+44}" font-size="11" fill="#c92a2a">line {st["line"]}: {st["after_s"]-st["before_s"]:+.3f} s</text>')
    n = len(twins)
    out.append(f'<text x="{x0+w-20}" y="{y0+18}" font-size="11" text-anchor="end">{name}: {n} twins, {len(clock["segments"])} segment(s)</text>')
    return out


def main():
    panels = []
    with tempfile.TemporaryDirectory() as tmp:
        for k, (title, args) in enumerate(CASES):
            d = os.path.join(tmp, f"case{k}")
            run(["cargo", "run", "-q", "-p", "audit-gen", "--", "--out", d, "--quiet", *args])
            truth = json.load(open(os.path.join(d, "truth.json")))
            r = subprocess.run(
                ["cargo", "run", "-q", "--bin", "audit", "--", "--no-config", "-q", "missing-logs",
                 "--events", os.path.join(d, "events.csv"), "--logs", os.path.join(d, "monitoring_logs"),
                 "--format", "json"], cwd=ROOT, capture_output=True, text=True)
            if r.returncode not in (0, 1):
                sys.exit(r.stderr)
            doc = json.loads(r.stdout)
            panels.append((title, truth, doc))
    W, H = 900, 300
    svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H * len(panels) + 40}" font-family="sans-serif">',
           f'<rect width="100%" height="100%" fill="white"/>']
    for k, (title, truth, doc) in enumerate(panels):
        svg += panel(title, truth, doc, 0, k * H, W, H)
    y = H * len(panels) + 20
    svg.append(f'<line x1="60" y1="{y}" x2="90" y2="{y}" stroke="#999" stroke-width="7" opacity="0.45"/>')
    svg.append(f'<text x="96" y="{y+4}" font-size="12">the generator\'s truth</text>')
    svg.append(f'<line x1="260" y1="{y}" x2="290" y2="{y}" stroke="#1864ab" stroke-width="2"/>')
    svg.append(f'<text x="296" y="{y+4}" font-size="12">what audit measured (its segments)</text>')
    svg.append(f'<line x1="560" y1="{y-8}" x2="560" y2="{y+8}" stroke="#c92a2a" stroke-dasharray="4 3"/>')
    svg.append(f'<text x="566" y="{y+4}" font-size="12">a step it found, at its line</text>')
    svg.append('</svg>')
    with open(OUT, "w") as f:
        f.write("\n".join(svg) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
