//! The CSV snapshot reader on arbitrary file contents, with the default configuration (and,
//! when that asks for one, a `--db-tz`): it returns Ok or Err, never panics.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use audit::time::Zone;
use audit::source::snapshot::{SnapshotConfig, load};
use libfuzzer_sys::fuzz_target;

fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        std::env::temp_dir().join(format!("audit-fuzz-snapshot-{}.csv", std::process::id()))
    })
}

fuzz_target!(|data: &[u8]| {
    let path = path();
    std::fs::write(path, data).expect("write the fuzz input to a temp file");
    let Err(e) = load(path, &SnapshotConfig::default()) else {
        return;
    };
    if e.to_string().contains("--db-tz") {
        let zone: Zone = "Europe/Moscow".parse().expect("IANA zone");
        let cfg = SnapshotConfig {
            db_tz: Some((zone, "fuzz".into())),
            display_tz: None,
        };
        let _ = load(path, &cfg);
    }
});
