//! Reading generated files back: log records (a header line and its continuation lines),
//! gzipped handler members, `events.csv`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

use audit_gen::{Fault, Faults, Truth};
use chrono::{DateTime, NaiveDateTime};

pub fn faults(spec: &[&str]) -> Faults {
    let mut f = Faults::default();
    for s in spec {
        f.add(s.parse::<Fault>().unwrap_or_else(|e| panic!("{s}: {e}")));
    }
    f
}

/// Runs `audit-gen` (the library entry point the binary runs) into `dir`.
pub fn gen_cli(dir: &Path, args: &[&str]) -> Truth {
    let argv = ["audit-gen", "--quiet", "--out", dir.to_str().unwrap()]
        .into_iter()
        .chain(args.iter().copied());
    audit_gen::cli::run(argv, &mut Vec::new()).unwrap().truth
}

/// A file's bytes, gunzipped when its name ends in `.gz`.
pub fn read(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if path.extension().is_some_and(|e| e == "gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        raw
    }
}

/// The line starts with a `YYYY-MM-DD HH:MM:SS,mmm` timestamp: a record's first line.
pub fn is_header(l: &[u8]) -> bool {
    l.len() >= 23
        && l[..23].iter().enumerate().all(|(i, &b)| match i {
            4 | 7 => b == b'-',
            10 => b == b' ',
            13 | 16 => b == b':',
            19 => b == b',',
            _ => b.is_ascii_digit(),
        })
}

/// The records of a log (each with its lines' newlines). A file must start with a header.
pub fn records(bytes: &[u8]) -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = Vec::new();
    for l in bytes.split_inclusive(|&b| b == b'\n') {
        if is_header(l) || out.is_empty() {
            assert!(is_header(l), "a file starts inside a record");
            out.push(l.to_vec());
        } else {
            out.last_mut().unwrap().extend_from_slice(l);
        }
    }
    out
}

/// A record's timestamp as if UTC, ms.
pub fn naive_ms(rec: &[u8]) -> i64 {
    let head = std::str::from_utf8(&rec[..23]).unwrap();
    NaiveDateTime::parse_from_str(head, "%Y-%m-%d %H:%M:%S,%3f")
        .unwrap()
        .and_utc()
        .timestamp_millis()
}

/// A record's level: the field after the stamp in either format
/// (`ts - name - LEVEL - msg`, `ts - LEVEL - [name] msg`).
pub fn level(rec: &[u8]) -> String {
    let text = String::from_utf8_lossy(&rec[23..]);
    let parts: Vec<&str> = text.splitn(4, " - ").collect();
    let is_level = |s: &str| matches!(s, "DEBUG" | "INFO" | "WARNING" | "ERROR" | "CRITICAL");
    if is_level(parts[1]) {
        parts[1].to_string()
    } else {
        assert!(is_level(parts[2]), "no level in {text}");
        parts[2].to_string()
    }
}

/// Counts of each distinct record.
pub fn multiset(recs: &[Vec<u8>]) -> HashMap<Vec<u8>, usize> {
    let mut m = HashMap::new();
    for r in recs {
        *m.entry(r.clone()).or_insert(0) += 1;
    }
    m
}

/// The records of `a` not in `b`, counted with multiplicity.
pub fn minus(a: &[Vec<u8>], b: &[Vec<u8>]) -> Vec<Vec<u8>> {
    let mut left = multiset(b);
    let mut out = Vec::new();
    for r in a {
        match left.get_mut(r) {
            Some(n) if *n > 0 => *n -= 1,
            _ => out.push(r.clone()),
        }
    }
    out
}

/// PostgreSQL CSV records (quoted fields may hold newlines; quotes doubled).
pub fn csv_records(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rec = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => rec.push(std::mem::take(&mut field)),
            (false, '\n') => {
                rec.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut rec));
            }
            (false, c) => field.push(c),
        }
    }
    out
}

/// (id, severity, created_at µs) of every row of `events.csv`.
pub fn rows(dir: &Path) -> Vec<(i64, String, i64)> {
    let text = std::fs::read_to_string(dir.join("events.csv")).unwrap();
    csv_records(&text)
        .into_iter()
        .skip(1)
        .map(|r| {
            let at = DateTime::parse_from_str(&r[11], "%Y-%m-%d %H:%M:%S%.f%#z")
                .unwrap_or_else(|e| panic!("{}: {e}", r[11]));
            (r[0].parse().unwrap(), r[8].clone(), at.timestamp_micros())
        })
        .collect()
}

/// Every handler member of the truth, oldest first: (name, bytes).
pub fn members(dir: &Path, t: &Truth) -> Vec<(String, Vec<u8>)> {
    t.handler_files
        .iter()
        .map(|n| (n.clone(), read(&dir.join("logs").join(n))))
        .collect()
}

/// Every tee file's records, by name.
pub fn tee_records(dir: &Path, t: &Truth) -> Vec<(String, Vec<Vec<u8>>)> {
    t.files
        .iter()
        .map(|f| {
            (
                f.name.clone(),
                records(&read(&dir.join("monitoring_logs").join(&f.name))),
            )
        })
        .collect()
}
