//! The bot's second copy of its log: `logs/trading_bot.log`, written by a
//! `RotatingFileHandler` (`maxBytes`, `backupCount`) that every process appends to. Each tee
//! writer (`logfile`) sends this writer the records it renders, in batches, over a bounded
//! channel; this writer merges the processes' records in true-time order (ties: the process
//! listed first) and writes them, rolling the file over as Python does:
//!
//! - before writing a record (its header, message and continuation lines, with the final
//!   `\n`) into a non-empty file whose size plus the record's would reach `maxBytes`
//!   (`pos + len >= maxBytes`), it closes the file, renames `.i` → `.i+1` for
//!   `i = backupCount−1 … 1` (the one renamed onto `.backupCount` is gone), renames the file
//!   to `.1` and opens a fresh `trading_bot.log`; with `maxBytes` or `backupCount` 0 it never
//!   rolls;
//! - Python counts the record's length in characters, this writer in bytes: a real member
//!   holding emoji may pass `maxBytes` by a few bytes, a generated one never does (only a
//!   single record longer than `maxBytes`, alone in its member, is larger);
//! - afterwards, members `.K` and older are gzipped "by hand" (`trading_bot.log.K.gz`: the
//!   member's name and its last record's second in the gzip header).
//!
//! Two processes alive at once share one rotation here; a real pair of RotatingFileHandlers on
//! one file would each keep writing to its own open file after the other renamed it (not
//! modelled).

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;

use super::scenario::HandlerCopy;

/// No copy gap.
pub const NO_GAP: u16 = u16::MAX;
/// The handler's file, `logs/trading_bot.log`.
pub const BASE: &str = "trading_bot.log";

/// What a record is, for the truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tag {
    None,
    /// The log twin of the process's event at this index.
    Event(u32),
    /// The `EventLogger batch write failed` record of the process's batch at this index.
    Failed(u32),
}

/// One record of a batch: its bytes end at `end` in the batch's data.
#[derive(Debug, Clone, Copy)]
pub struct HRec {
    /// The true instant it is written, UTC µs.
    pub t: i64,
    pub tag: Tag,
    /// The copy gap of its process it falls in (`NO_GAP`: none).
    pub gap: u16,
    /// Written; false: the handler lost it (only noted, no bytes).
    pub write: bool,
    pub lines: u32,
    pub end: usize,
}

/// Records of one process, in the order it wrote them.
#[derive(Debug, Default)]
pub struct HBatch {
    pub recs: Vec<HRec>,
    pub data: Vec<u8>,
}

/// One process's records, as its tee writer sends them.
pub struct Input {
    pub rx: Receiver<HBatch>,
    /// Its events and copy gaps (to size the report).
    pub events: usize,
    pub gaps: usize,
}

/// A member the rotation kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// As it is finally named: `trading_bot.log`, `trading_bot.log.3`, `trading_bot.log.7.gz`.
    pub name: String,
    pub gzip: bool,
    pub records: u64,
    pub lines: u32,
    /// Uncompressed, and as stored.
    pub bytes: u64,
    pub stored_bytes: u64,
    /// First and last record, UTC µs truncated to the ms (0 for an empty member).
    pub first_us: i64,
    pub last_us: i64,
    /// The processes (indices) whose records it holds, in order of their first record in it.
    pub processes: Vec<usize>,
}

/// The records of one copy gap of a process, as the handler saw them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GapStat {
    pub records: u64,
    pub first_us: i64,
    pub last_us: i64,
    /// Members (indices into `HandlerReport::members`) that hold them (a tee gap) or were
    /// open when they should have been written (a handler gap), oldest first.
    pub members: Vec<usize>,
    /// Some of them are in (or should have been in) a member the rotation deleted.
    pub rotated_out: bool,
}

/// What was written.
#[derive(Debug, Clone, Default)]
pub struct HandlerReport {
    /// Kept members, oldest first (`.N` … `.1`, then `trading_bot.log`).
    pub members: Vec<Member>,
    /// Members the rotation deleted (beyond `backupCount`).
    pub dropped: usize,
    /// Per process, per event: its twin's (member, line) in a kept member.
    pub event_refs: Vec<Vec<Option<(usize, u32)>>>,
    /// Per process: (batch, member, line) of each `batch write failed` record kept.
    pub failed_refs: Vec<Vec<(usize, usize, u32)>>,
    /// Per process, per copy gap.
    pub gaps: Vec<Vec<GapStat>>,
}

/// The name of the member at rotation position `pos` (0: the live file).
pub fn member_name(pos: usize) -> String {
    if pos == 0 {
        BASE.to_string()
    } else {
        format!("{BASE}.{pos}")
    }
}

struct Stream {
    rx: Receiver<HBatch>,
    batch: HBatch,
    pos: usize,
    from: usize,
    done: bool,
}

impl Stream {
    /// Its next record is at hand (false: the process has no more).
    fn ready(&mut self) -> bool {
        while self.pos >= self.batch.recs.len() {
            if self.done {
                return false;
            }
            match self.rx.recv() {
                Ok(b) => {
                    self.batch = b;
                    self.pos = 0;
                    self.from = 0;
                }
                Err(_) => self.done = true,
            }
        }
        true
    }
}

/// Counters of a member while it is written (by its sequence number: the k-th opened).
#[derive(Debug, Clone, Default)]
struct Stats {
    records: u64,
    lines: u32,
    bytes: u64,
    first: Option<i64>,
    last: i64,
    processes: Vec<usize>,
}

/// Gap counters while writing: member sequence numbers.
#[derive(Debug, Clone, Default)]
struct GapAcc {
    records: u64,
    first: Option<i64>,
    last: i64,
    seqs: Vec<usize>,
}

struct Writer {
    dir: PathBuf,
    cfg: HandlerCopy,
    /// Every member opened, by sequence number.
    stats: Vec<Stats>,
    file: Option<BufWriter<File>>,
}

impl Writer {
    fn rolls(&self) -> bool {
        self.cfg.max_bytes > 0 && self.cfg.backups > 0
    }

    fn path(&self, pos: usize) -> PathBuf {
        self.dir.join(member_name(pos))
    }

    /// The member a record written now goes to (opened if none is).
    fn current(&mut self) -> io::Result<usize> {
        if self.file.is_none() {
            let f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(self.path(0))?;
            self.file = Some(BufWriter::with_capacity(1 << 20, f));
            self.stats.push(Stats::default());
        }
        Ok(self.stats.len() - 1)
    }

    /// The member open now, or the one the next record will open.
    fn open_or_next(&self) -> usize {
        if self.file.is_some() {
            self.stats.len() - 1
        } else {
            self.stats.len()
        }
    }

    /// `doRollover`: close, shift `.i` → `.i+1`, the live file → `.1`.
    fn roll(&mut self) -> io::Result<()> {
        if let Some(mut f) = self.file.take() {
            f.flush()?;
        }
        let n = self.cfg.backups as usize;
        for i in (1..n).rev() {
            let (src, dst) = (self.path(i), self.path(i + 1));
            if src.exists() {
                if dst.exists() {
                    fs::remove_file(&dst)?;
                }
                fs::rename(&src, &dst)?;
            }
        }
        let dst = self.path(1);
        if dst.exists() {
            fs::remove_file(&dst)?;
        }
        fs::rename(self.path(0), dst)
    }

    /// Writes one record; returns (member, its first line there).
    fn write(
        &mut self,
        t: i64,
        bytes: &[u8],
        lines: u32,
        process: usize,
    ) -> io::Result<(usize, u32)> {
        let len = bytes.len() as u64;
        if self.rolls() && self.file.is_some() {
            let pos = self.stats.last().map_or(0, |s| s.bytes);
            if pos > 0 && pos + len >= self.cfg.max_bytes {
                self.roll()?;
            }
        }
        let seq = self.current()?;
        if let Some(f) = &mut self.file {
            f.write_all(bytes)?;
        }
        let st = &mut self.stats[seq];
        let line = st.lines + 1;
        st.lines += lines;
        st.records += 1;
        st.bytes += len;
        let ms = t - t.rem_euclid(1000);
        st.first.get_or_insert(ms);
        st.last = ms;
        if !st.processes.contains(&process) {
            st.processes.push(process);
        }
        Ok((seq, line))
    }
}

fn note(acc: &mut GapAcc, t: i64, seq: usize) {
    acc.records += 1;
    let ms = t - t.rem_euclid(1000);
    acc.first.get_or_insert(ms);
    acc.last = ms;
    if !acc.seqs.contains(&seq) {
        acc.seqs.push(seq);
    }
}

/// Gzips `path` into `path.gz` (the member's name and `mtime` in the header) and removes it;
/// returns the compressed size.
fn gzip(path: &Path, name: &str, mtime: u32) -> io::Result<u64> {
    let data = fs::read(path)?;
    let gz = path.with_file_name(format!("{name}.gz"));
    let out = BufWriter::new(File::create(&gz)?);
    let mut enc = flate2::GzBuilder::new()
        .filename(name)
        .mtime(mtime)
        .write(out, flate2::Compression::default());
    enc.write_all(&data)?;
    enc.finish()?.flush()?;
    fs::remove_file(path)?;
    Ok(fs::metadata(&gz)?.len())
}

/// Merges the processes' records into `dir/trading_bot.log*`, rotating and gzipping as `cfg`
/// says.
pub fn write(dir: &Path, cfg: &HandlerCopy, inputs: Vec<Input>) -> io::Result<HandlerReport> {
    let np = inputs.len();
    let mut event_refs: Vec<Vec<Option<(usize, u32)>>> =
        inputs.iter().map(|i| vec![None; i.events]).collect();
    let mut failed: Vec<Vec<(usize, usize, u32)>> = vec![Vec::new(); np];
    let mut gaps: Vec<Vec<GapAcc>> = inputs
        .iter()
        .map(|i| vec![GapAcc::default(); i.gaps])
        .collect();
    let mut streams: Vec<Stream> = inputs
        .into_iter()
        .map(|i| Stream {
            rx: i.rx,
            batch: HBatch::default(),
            pos: 0,
            from: 0,
            done: false,
        })
        .collect();
    let mut w = Writer {
        dir: dir.to_path_buf(),
        cfg: *cfg,
        stats: Vec::new(),
        file: None,
    };
    loop {
        let mut best: Option<(i64, usize)> = None;
        for (i, st) in streams.iter_mut().enumerate() {
            if st.ready() {
                let t = st.batch.recs[st.pos].t;
                if best.is_none_or(|(b, _)| t < b) {
                    best = Some((t, i));
                }
            }
        }
        let Some((_, i)) = best else {
            break;
        };
        let st = &mut streams[i];
        let r = st.batch.recs[st.pos];
        let bytes = &st.batch.data[st.from..r.end];
        st.from = r.end;
        st.pos += 1;
        let seq = if r.write {
            let (seq, line) = w.write(r.t, bytes, r.lines, i)?;
            match r.tag {
                Tag::Event(e) => {
                    if let Some(x) = event_refs[i].get_mut(e as usize) {
                        *x = Some((seq, line));
                    }
                }
                Tag::Failed(k) => failed[i].push((k as usize, seq, line)),
                Tag::None => {}
            }
            seq
        } else {
            w.open_or_next()
        };
        if let Some(acc) = gaps[i].get_mut(usize::from(r.gap)) {
            note(acc, r.t, seq);
        }
    }
    if let Some(mut f) = w.file.take() {
        f.flush()?;
    }

    // Final positions: the last opened is the live file, each older one a place further.
    let opened = w.stats.len();
    let keep = if w.rolls() {
        cfg.backups as usize + 1
    } else {
        1
    };
    let first_kept = opened.saturating_sub(keep);
    let mut index_of = vec![None; opened];
    let mut members = Vec::new();
    for (seq, st) in w.stats.iter().enumerate().skip(first_kept) {
        let pos = opened - 1 - seq;
        let mut name = member_name(pos);
        let plain = w.path(pos);
        let zip = pos >= 1 && cfg.gzip_from.is_some_and(|k| pos >= k as usize);
        let stored = if zip {
            let mtime = (st.last.div_euclid(1_000_000)).clamp(0, i64::from(u32::MAX)) as u32;
            let n = gzip(&plain, &name, mtime)?;
            name.push_str(".gz");
            n
        } else {
            fs::metadata(&plain)?.len()
        };
        index_of[seq] = Some(members.len());
        members.push(Member {
            name,
            gzip: zip,
            records: st.records,
            lines: st.lines,
            bytes: st.bytes,
            stored_bytes: stored,
            first_us: st.first.unwrap_or_default(),
            last_us: st.last,
            processes: st.processes.clone(),
        });
    }
    let kept = |seq: usize| index_of.get(seq).copied().flatten();
    let event_refs = event_refs
        .into_iter()
        .map(|v| {
            v.into_iter()
                .map(|r| r.and_then(|(seq, line)| Some((kept(seq)?, line))))
                .collect()
        })
        .collect();
    let failed_refs = failed
        .into_iter()
        .map(|v| {
            v.into_iter()
                .filter_map(|(k, seq, line)| Some((k, kept(seq)?, line)))
                .collect()
        })
        .collect();
    let gaps = gaps
        .into_iter()
        .map(|v| {
            v.into_iter()
                .map(|a| GapStat {
                    records: a.records,
                    first_us: a.first.unwrap_or_default(),
                    last_us: a.last,
                    members: a.seqs.iter().filter_map(|&s| kept(s)).collect(),
                    rotated_out: a.seqs.iter().any(|&s| kept(s).is_none()),
                })
                .collect()
        })
        .collect();
    Ok(HandlerReport {
        members,
        dropped: first_kept,
        event_refs,
        failed_refs,
        gaps,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::sync::mpsc::sync_channel;

    use super::*;

    /// Record k: `rec k` padded with `x` to `len` bytes, the last a newline.
    fn record(k: usize, len: usize) -> Vec<u8> {
        let mut r = format!("rec {k} ").into_bytes();
        r.resize(len - 1, b'x');
        r.push(b'\n');
        r
    }

    fn read(path: &Path) -> Vec<u8> {
        let raw = fs::read(path).unwrap();
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

    /// Runs the writer over one process's records.
    fn run(dir: &Path, cfg: HandlerCopy, recs: &[Vec<u8>]) -> HandlerReport {
        let (tx, rx) = sync_channel(recs.len() + 1);
        let mut b = HBatch::default();
        for (k, r) in recs.iter().enumerate() {
            b.data.extend_from_slice(r);
            b.recs.push(HRec {
                t: k as i64 * 1000,
                tag: Tag::Event(k as u32),
                gap: NO_GAP,
                write: true,
                lines: 1,
                end: b.data.len(),
            });
            if k % 7 == 6 {
                tx.send(std::mem::take(&mut b)).unwrap();
            }
        }
        tx.send(b).unwrap();
        drop(tx);
        let input = Input {
            rx,
            events: recs.len(),
            gaps: 0,
        };
        write(dir, &cfg, vec![input]).unwrap()
    }

    #[test]
    fn members_roll_like_a_rotating_file_handler() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        // 300 records of 40..=400 bytes, one of 2500 (larger than maxBytes) near the end.
        let mut recs: Vec<Vec<u8>> = (0..300).map(|k| record(k, 40 + (k * 37) % 361)).collect();
        recs[285] = record(285, 2500);
        let cfg = HandlerCopy {
            max_bytes: 1000,
            backups: 6,
            gzip_from: Some(4),
        };
        let rep = run(dir, cfg, &recs);

        // Kept: the live file and .1 … .6, oldest first; .4 and older gzipped.
        let names: Vec<&str> = rep.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "trading_bot.log.6.gz",
                "trading_bot.log.5.gz",
                "trading_bot.log.4.gz",
                "trading_bot.log.3",
                "trading_bot.log.2",
                "trading_bot.log.1",
                "trading_bot.log"
            ]
        );
        let mut on_disk: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        on_disk.sort();
        let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(on_disk, want);

        // Python's rule, checked independently: the records, cut wherever the next record
        // would take a non-empty file to maxBytes or past it.
        let mut members: Vec<Vec<usize>> = vec![Vec::new()];
        let mut size = 0usize;
        for (k, r) in recs.iter().enumerate() {
            if size > 0 && size + r.len() >= 1000 {
                members.push(Vec::new());
                size = 0;
            }
            members.last_mut().unwrap().push(k);
            size += r.len();
        }
        assert!(members.len() > 7, "{} members", members.len());
        assert_eq!(rep.dropped, members.len() - 7);
        let kept = &members[members.len() - 7..];
        for (m, ks) in rep.members.iter().zip(kept) {
            let bytes = read(&dir.join(&m.name));
            let expect: Vec<u8> = ks.iter().flat_map(|&k| recs[k].clone()).collect();
            assert_eq!(bytes, expect, "{}", m.name);
            assert_eq!(m.bytes, bytes.len() as u64);
            assert_eq!(m.records, ks.len() as u64);
            // At most maxBytes, unless it is one record larger than that.
            assert!(
                bytes.len() <= 1000 || (ks.len() == 1 && recs[ks[0]].len() > 1000),
                "{}: {} bytes",
                m.name,
                bytes.len()
            );
            if m.gzip {
                assert!(m.stored_bytes < m.bytes);
            }
        }
        // The long record is alone in its member.
        assert!(kept.iter().any(|ks| ks == &[285]));
        // Twins' places: the first record of the live file is on its line 1; records of
        // deleted members have none.
        let live = rep.members.len() - 1;
        assert_eq!(rep.event_refs[0][kept[6][0]], Some((live, 1)));
        assert_eq!(rep.event_refs[0][kept[6][1]], Some((live, 2)));
        assert_eq!(rep.event_refs[0][0], None);
    }

    #[test]
    fn no_backups_or_no_max_never_rolls() {
        let recs: Vec<Vec<u8>> = (0..50).map(|k| record(k, 100)).collect();
        for cfg in [
            HandlerCopy {
                max_bytes: 1000,
                backups: 0,
                gzip_from: Some(1),
            },
            HandlerCopy {
                max_bytes: 0,
                backups: 3,
                gzip_from: None,
            },
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let rep = run(tmp.path(), cfg, &recs);
            assert_eq!(rep.members.len(), 1);
            assert_eq!(rep.members[0].name, "trading_bot.log");
            assert_eq!(rep.members[0].bytes, 5000);
            assert_eq!(rep.dropped, 0);
        }
    }
}
