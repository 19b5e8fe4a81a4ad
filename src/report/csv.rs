//! `--format csv`: one row per timeline row, every column of the schema, RFC 4180 quoting.

use std::io::{self, Write};

use super::View;
use crate::time::rfc3339_micros;
use crate::timeline::SCHEMA;

fn field(out: &mut dyn Write, v: &str) -> io::Result<()> {
    if v.contains([',', '"', '\n', '\r']) {
        write!(out, "\"{}\"", v.replace('"', "\"\""))
    } else {
        out.write_all(v.as_bytes())
    }
}

pub fn timeline(v: &View<'_>, out: &mut dyn Write) -> io::Result<()> {
    let names: Vec<&str> = SCHEMA.iter().map(|c| c.0).collect();
    writeln!(out, "{}", names.join(","))?;
    let opt = |x: Option<String>| x.unwrap_or_default();
    for i in 0..v.len() {
        let cells: Vec<String> = names
            .iter()
            .map(|&n| match n {
                "ts_utc" => opt(v.ts_utc.get(i).map(rfc3339_micros)),
                "corr_epoch" => opt(v.corr_epoch.get(i).map(rfc3339_micros)),
                "line" | "pid" => opt((if n == "line" { v.line } else { v.pid })
                    .get(i)
                    .map(|x| x.to_string())),
                "byte_offset" => opt(v.byte_offset.get(i).map(|x| x.to_string())),
                "event_id" => opt(v.event_id.get(i).map(|x| x.to_string())),
                "signal_id" => opt(v.signal_id.get(i).map(|x| x.to_string())),
                "position_id" => opt(v.position_id.get(i).map(|x| x.to_string())),
                "payload_hash" => opt(v.payload_hash.get(i).map(|h| format!("{h:016x}"))),
                other => v.s(other, i).unwrap_or_default().to_string(),
            })
            .collect();
        for (k, c) in cells.iter().enumerate() {
            if k > 0 {
                out.write_all(b",")?;
            }
            field(out, c)?;
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}
