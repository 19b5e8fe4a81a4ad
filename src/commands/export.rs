//! `audit export`: the merged, aligned timeline as Parquet and/or JSON Lines, with provenance
//! on every row (source file and its sha256, line, byte offset; DB id), for DuckDB, pandas or
//! a SIEM. The columns are the timeline's (docs/timeline.md) plus `source_path` and
//! `source_sha256` (docs/export.md). `--partition day` writes one Parquet file per UTC date,
//! Hive-style (`DIR/date=YYYY-MM-DD/part-0.parquet`), so DuckDB, Spark or Trino read the
//! directory as one table with a `date` column.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;

use anyhow::Context;
use polars::prelude::{BooleanChunked, Column, DataFrame, NewChunkedArray, ParquetWriter};
use sha2::{Digest, Sha256};

use super::Outcome;
use crate::cli::{ExportArgs, Partition};
use crate::config::Config;
use crate::error::AuditError;
use crate::load::{Question, ReadPlan};
use crate::report::{self, View};
use crate::settings::Settings;
use crate::timeline::Timeline;

fn sha256_file(path: &Path) -> Result<String, AuditError> {
    let shown = path.display().to_string();
    let mut f = File::open(path).map_err(|e| AuditError::input(&shown, e.to_string()))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .map_err(|e| AuditError::input(&shown, e.to_string()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:x}", h.finalize()))
}

/// (path, sha256) of every row's source: the log file, or the snapshot file; a database has
/// a path (its URL without password) and no hash.
/// Per row: (source paths, source hashes).
type Provenance = (Vec<Option<String>>, Vec<Option<String>>);

fn provenance(t: &Timeline) -> Result<Provenance, AuditError> {
    let mut by_name: HashMap<String, (String, String)> = HashMap::new();
    for l in &t.sources.logs {
        by_name.insert(
            l.name.clone(),
            (l.path.clone(), sha256_file(Path::new(&l.path))?),
        );
    }
    let events = t.sources.events.as_ref().map(|e| {
        let hash = if e.kind == "postgresql" {
            None
        } else {
            sha256_file(Path::new(&e.origin)).ok()
        };
        (e.origin.clone(), hash)
    });
    let files = t
        .frame
        .column("file")
        .and_then(|c| c.str().cloned())
        .map_err(|e| AuditError::usage(e.to_string()))?;
    let mut paths = Vec::with_capacity(files.len());
    let mut hashes = Vec::with_capacity(files.len());
    for f in files.iter() {
        match f {
            Some(name) => {
                let (p, h) = by_name.get(name).cloned().unwrap_or_default();
                paths.push(Some(p));
                hashes.push(Some(h));
            }
            None => {
                paths.push(events.as_ref().map(|e| e.0.clone()));
                hashes.push(events.as_ref().and_then(|e| e.1.clone()));
            }
        }
    }
    Ok((paths, hashes))
}

pub fn run(
    args: &ExportArgs,
    config: &Config,
    quiet: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<Outcome> {
    let s = Settings::of_export(
        &args.sources,
        &args.clock,
        &args.filter,
        &args.range,
        config,
    )?;
    if let (Some(dir), Some(_)) = (&args.parquet, args.partition) {
        if dir.is_file() {
            return Err(AuditError::input(
                dir.display().to_string(),
                "is a file: --partition day writes a directory of date=YYYY-MM-DD/part-0.parquet",
            )
            .into());
        }
    }
    let q = Question {
        filter: s.filter.clone(),
        no_align: s.no_align,
        margin_us: 0,
        messages: true,
    };
    let plan = ReadPlan::new(&s.sources, &q, &s.tuning, false)?;
    let loaded = crate::load::load(&s.sources, &q, &plan)?;
    let decisions = loaded.decisions.clone();
    let clocks = loaded.log_clocks();
    let t = Timeline::build(loaded.events, loaded.logs, &clocks, &loaded.scope)
        .context("cannot build the timeline frame")?;
    crate::report::banner::print_banner(&t, &decisions, quiet, err)?;
    let (paths, hashes) = provenance(&t)?;
    if let Some(path) = &args.parquet {
        let mut df = t.frame.clone();
        df.with_column(Column::new("source_path".into(), paths.clone()))?;
        df.with_column(Column::new("source_sha256".into(), hashes.clone()))?;
        match args.partition {
            None => {
                let mut partial = crate::output::Partial::create(path)?;
                ParquetWriter::new(&mut partial.file)
                    .finish(&mut df)
                    .with_context(|| format!("writing {}", path.display()))?;
                partial.commit()?;
                writeln!(out, "wrote {} rows to {}", df.height(), path.display())?;
            }
            Some(Partition::Day) => {
                let days = by_day(&t, &df)?;
                write_partitions(path, days, df.height(), out)?;
            }
        }
    }
    if let Some(path) = &args.jsonl {
        let v = View::new(&t)?;
        let mut partial = crate::output::Partial::create(path)?;
        let mut w = BufWriter::new(&mut partial.file);
        for i in 0..v.len() {
            let mut row = report::json::row(&v, i);
            if let Some(o) = row.as_object_mut() {
                o.insert("source_path".into(), serde_json::json!(paths[i]));
                o.insert("source_sha256".into(), serde_json::json!(hashes[i]));
            }
            serde_json::to_writer(&mut w, &row)?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
        drop(w);
        partial.commit()?;
        writeln!(out, "wrote {} rows to {}", v.len(), path.display())?;
    }
    Ok(Outcome::Clean)
}

/// Hive's name for the partition of rows whose key is null.
const NULL_PARTITION: &str = "__HIVE_DEFAULT_PARTITION__";

/// The frame split by the UTC date of each row's `ts_utc`: partition value → its rows, in
/// timeline order.
fn by_day(t: &Timeline, df: &DataFrame) -> anyhow::Result<BTreeMap<String, DataFrame>> {
    let v = View::new(t)?;
    let days: Vec<String> = (0..v.len())
        .map(|i| {
            v.ts_utc
                .get(i)
                .and_then(chrono::DateTime::from_timestamp_micros)
                .map_or_else(
                    || NULL_PARTITION.to_string(),
                    |d| d.date_naive().to_string(),
                )
        })
        .collect();
    let mut distinct: Vec<&String> = days.iter().collect();
    distinct.sort();
    distinct.dedup();
    let mut out = BTreeMap::new();
    for day in distinct {
        let mask = BooleanChunked::from_iter_values("mask".into(), days.iter().map(|d| d == day));
        out.insert(day.clone(), df.filter(&mask)?);
    }
    Ok(out)
}

/// `dir/date=YYYY-MM-DD/part-0.parquet` for each day. Every file is written under a temporary
/// name first and all are renamed together at the end, so an error leaves no partial day; a
/// day this export has no rows for is left as it was.
fn write_partitions(
    dir: &Path,
    days: BTreeMap<String, DataFrame>,
    rows: usize,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let shown = dir.display().to_string();
    if dir.is_file() {
        return Err(AuditError::input(
            &shown,
            "is a file: --partition day writes a directory of date=YYYY-MM-DD/part-0.parquet",
        )
        .into());
    }
    let mut partials = Vec::with_capacity(days.len());
    for (day, mut df) in days {
        let sub = dir.join(format!("date={day}"));
        std::fs::create_dir_all(&sub)
            .map_err(|e| AuditError::input(sub.display().to_string(), e.to_string()))?;
        let file = sub.join("part-0.parquet");
        let mut partial = crate::output::Partial::create(&file)?;
        ParquetWriter::new(&mut partial.file)
            .finish(&mut df)
            .with_context(|| format!("writing {}", file.display()))?;
        partials.push(partial);
    }
    let n = partials.len();
    for p in partials {
        p.commit()?;
    }
    writeln!(
        out,
        "wrote {rows} rows to {shown} in {n} partition(s) (date=YYYY-MM-DD/part-0.parquet)"
    )?;
    Ok(())
}
