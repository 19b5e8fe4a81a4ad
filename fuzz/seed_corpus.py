#!/usr/bin/env python3
"""Writes the committed seed corpus (fuzz/corpus/<target>/) from the bundled fixtures.

Small on purpose (well under 1 MB): real lines of every shape the parsers meet, a few
hand-made edge cases, nothing grown by the fuzzer. Run from anywhere: python3 fuzz/seed_corpus.py
"""
import hashlib
import os
import re
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
FIX = os.path.join(ROOT, "fixtures")
INCIDENT = os.path.join(FIX, "rsrusdt-2025-10-18")
LOGS = [
    os.path.join(INCIDENT, "monitoring_logs", "bot_20251018_070604.log"),
    os.path.join(INCIDENT, "monitoring_logs", "bot_20251018_145959.log"),
]


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    name = hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def lines(path):
    with open(path, "rb") as f:
        return f.read().split(b"\n")


def log_records():
    for path in LOGS:
        ls = lines(path)
        write("log_records", b"\n".join(ls[:40]) + b"\n")
        # The records around each traceback (continuation lines).
        for k in [i for i, l in enumerate(ls) if l.startswith(b"Traceback")][:2]:
            write("log_records", b"\n".join(ls[max(0, k - 3) : k + 12]))
        # One record of each event type and typed line, three at a time.
        seen, picked = set(), []
        for l in ls:
            m = re.match(rb"\S+ \S+ - \S+ - \w+ - (?:\W*\s*)?([a-z_]+: \{|[A-Z]\w+ \w+)", l)
            if m and m.group(1) not in seen and len(l) < 2000:
                seen.add(m.group(1))
                picked.append(l)
        for i in range(0, len(picked), 3):
            write("log_records", b"\r\n".join(picked[i : i + 3]))
    for root, _, files in os.walk(os.path.join(FIX, "logs")):
        for name in files:
            if ".log" in name and not name.endswith(".gz"):
                with open(os.path.join(root, name), "rb") as f:
                    write("log_records", f.read())
    for text in [
        "2025-10-18 15:07:13,510 - WARNING - [websocket.client] reconnect - attempt 2",
        "2025-10-18T15:07:13.510123 plain text",
        "2024-02-29 23:59:60,999 - m - ERROR - a - b - c -",
        "banner\n2025-10-18 15:00:00 - x - INFO - \nmore\n",
    ]:
        write("log_records", text)


def pyrepr():
    seen = set()
    for path in LOGS:
        for l in lines(path):
            m = re.search(rb" - ([a-z_]+): (\{.*)$", l)
            if m and m.group(1) not in seen and len(l) < 2000:
                seen.add(m.group(1))
                write("pyrepr", m.group(2))
    for text in [
        "{'a': 1, 'b': -2.5e-07, 'c': True, 'd': None, 'e': (1,), 'f': [], 'g': {1, 2}}",
        "{'s': 'it\\'s', 't': \"say \\\"hi\\\"\", 'u': '\\x00\\u00e9\\U0001f600\\ud83d\\ude00', 'r': r'\\d+', 'b': b'\\xff'}",
        "{'p': Decimal('0.0051'), 'q': Decimal('-Infinity'), 'n': Decimal('NaN'), 'x': inf, 'y': -inf, 'z': nan}",
        "{'at': datetime.datetime(2025, 10, 18, 14, 7, 15, 103000, tzinfo=datetime.timezone(datetime.timedelta(seconds=10800))), 'd': datetime.date(2025, 10, 18)}",
        "{'side': <Side.BUY: 'buy'>, 'obj': <object at 0x7f>, 'call': Foo(1, [2], {'k': (3,)}), 's': frozenset({1})}",
        "{1: 'int key', 2.5: 'float', True: 'bool', None: 'none', (1, 2): 'tuple', Decimal('1.10'): 'dec'}",
        "{'big': 123456789012345678901234567890, 'neg': -9223372036854775809, 'f': 1e400}",
        "[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]",
        "position_created: {'position_id': 1318, 'symbol': 'RSRUSDT'}",
        "✅ Lock acquired for 'trading_bot' (PID: 41233)",
        "EventLogger wrote 2 events to DB (last_ids=[id=785223:position_error, id=785224:order_placed])",
        "Executing signal #4869992: RSRUSDT on binance (week: 71, month: 64)",
        "✅ Position #1318 for RSRUSDT opened ATOMICALLY at $0.0051",
        "Received signal <Signals.SIGTERM: 15>",
    ]:
        write("pyrepr", text)


def clock():
    for text in [
        "14:07-14:08\n+03:00\n2025-10-18",
        "14:07\nEurope/Moscow\n2025-10-18",
        "14:07:10-14:07:20.5\nUTC+3\n2025-03-30",
        "2025-10-18T11:07:00Z..2025-10-18T11:08:00Z\nZ\n",
        "2025-10-18 14:07:00+03..2025-10-18 14:08:00+03\n-0330\n2025-10-18",
        "2025-10-18T14:07:00+03:00..2025-10-18T14:08+03:00\nGMT-3\n",
        "2025-10-18 14:07..2025-10-18 14:08\nAmerica/New_York\n2025-11-02",
        "01:30-02:30\nEurope/Berlin\n2025-03-30",
        "23:59:59.999999\n+15:59\n2025-12-31",
        "24h\n90m\n7d",
        "2025-10-18 14:00:00+03:00\n30s\n10min",
    ]:
        write("clock", text)


def snapshot_csv():
    ls = lines(os.path.join(INCIDENT, "events.csv"))
    header = ls[0]
    write("snapshot_csv", b"\n".join(ls[:21]) + b"\n")
    with_errors = [l for l in ls[1:] if b"ERROR" in l or b"WARNING" in l][:10]
    write("snapshot_csv", b"\n".join([header] + with_errors) + b"\n")
    # Naive created_at (needs --db-tz), CRLF line ends, and an empty/absent value.
    naive = [re.sub(rb"\+03$", b"", l) for l in ls[1:6]]
    write("snapshot_csv", b"\r\n".join([header] + naive) + b"\r\n")
    write("snapshot_csv", header + b"\n1,x,,,,,,,,,,\n2,y,{},,,,,,,,,2025-10-18T11:07:00Z\n")
    write("snapshot_csv", b"id,event_type,created_at\n1,a,2025-10-18 14:07:15.103+03\n")


if __name__ == "__main__":
    shutil.rmtree(os.path.join(HERE, "corpus"), ignore_errors=True)
    log_records()
    pyrepr()
    clock()
    snapshot_csv()
