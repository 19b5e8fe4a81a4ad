#!/usr/bin/env python3
"""Recomputes a finding's fingerprint from its JSON, as docs/findings.md ("How a fingerprint is
computed") defines it, independently of audit's Rust code.

    python3 docs/fingerprint.py              # every example of docs/findings.md: recomputed == printed?
    python3 docs/fingerprint.py f.json ...   # findings documents (or single findings) from audit

The literal fingerprints pinned in src/checks/mod.rs (test `fingerprints_are_pinned`) were
computed with this script and compared with the examples below.
"""
import json
import re
import sys

OFFSET = 0xCBF29CE484222325
PRIME = 0x100000001B3
MASK = (1 << 64) - 1


def fnv1a(fields):
    """FNV-1a 64 over each field's UTF-8 bytes, every field followed by one 0xff byte (a byte
    UTF-8 never contains, so `ab`,`c` and `a`,`bc` differ)."""
    h = OFFSET
    for s in fields:
        for b in s.encode("utf-8") + b"\xff":
            h ^= b
            h = (h * PRIME) & MASK
    return f"{h:016x}"


def fields(f):
    out = [f["kind"]]
    if f.get("class") is not None:
        out.append(f["class"])
    ids = list(f.get("event_ids", []))
    if f.get("event_id") is not None:
        ids.append(f["event_id"])
    out += [str(i) for i in sorted(ids)]
    refs = list(f.get("logs", []))
    if f.get("log") is not None:
        refs.append(f["log"])
    refs = sorted((r["file"], r["line"]) for r in refs if not r.get("copy", False))
    for file, line in refs:
        out += [file, str(line)]
    if not ids and not refs:
        # Findings about processes or intervals: what they name, then when.
        for p in f.get("processes", []):
            out += [p["file"], p["start_utc"]]
        out.append(f["at_utc"])
    return out


def fingerprint(f):
    return fnv1a(fields(f))


def doc_examples(path="docs/findings.md"):
    """The JSON blocks of 'One real example of each' that are findings (have a fingerprint)."""
    text = open(path, encoding="utf-8").read()
    for block in re.findall(r"```json\n(.*?)\n```", text, re.S):
        try:
            v = json.loads(block)
        except json.JSONDecodeError:
            continue  # shortened with … (long id lists): not recomputable
        if isinstance(v, dict) and "fingerprint" in v:
            yield v


def main(argv):
    bad = 0
    if len(argv) > 1:
        found = []
        for p in argv[1:]:
            v = json.load(open(p, encoding="utf-8"))
            found += v.get("findings", [v]) if isinstance(v, dict) else v
    else:
        found = list(doc_examples())
    for f in found:
        if not all(isinstance(i, int) for i in f.get("event_ids", [])):
            print(f"--  {f['kind']:<22} printed {f['fingerprint']} (id list shortened in the doc: not recomputable)")
            continue
        got = fingerprint(f)
        ok = got == f["fingerprint"]
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} {f['kind']:<22} printed {f['fingerprint']} recomputed {got}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
