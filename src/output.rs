//! Files `audit` writes (reports, baselines, exports) appear whole or not at all: they are
//! written next to their destination under a temporary name and renamed when complete. On
//! Ctrl-C the temporary files are removed and the process exits with 130.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::AuditError;

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Set by `audit watch`: SIGINT and SIGTERM then ask it to stop ([`stop_requested`]) instead
/// of ending the process, so it can settle what can be settled and print it.
static WATCHING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
static STOP: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// From now on an interrupt is a request to stop (`audit watch`).
pub fn stop_on_interrupt() {
    WATCHING.store(true, std::sync::atomic::Ordering::SeqCst);
}

/// An interrupt came while [`stop_on_interrupt`] was in force.
pub fn stop_requested() -> bool {
    STOP.load(std::sync::atomic::Ordering::SeqCst)
}

/// Installs the Ctrl-C (and SIGTERM) handler (once, from main).
pub fn install_interrupt_handler() {
    let _ = ctrlc::set_handler(|| {
        if WATCHING.load(std::sync::atomic::Ordering::SeqCst) {
            STOP.store(true, std::sync::atomic::Ordering::SeqCst);
            return;
        }
        crate::progress::finish_all();
        if let Ok(p) = PENDING.lock() {
            for f in p.iter() {
                let _ = std::fs::remove_file(f);
            }
        }
        eprintln!("interrupted");
        std::process::exit(130);
    });
}

/// A file being written; call [`Partial::commit`] when it is complete.
/// Dropped without a commit (an error on the way), the temporary file is removed.
pub struct Partial {
    tmp: PathBuf,
    dest: PathBuf,
    pub file: File,
    committed: bool,
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_file(&self.tmp);
        }
        if let Ok(mut p) = PENDING.lock() {
            p.retain(|x| x != &self.tmp);
        }
    }
}

impl Partial {
    pub fn create(dest: &Path) -> Result<Partial, AuditError> {
        let shown = dest.display().to_string();
        let name = dest
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "out".into());
        let tmp = dest.with_file_name(format!(".{name}.{}.partial", std::process::id()));
        if let Ok(mut p) = PENDING.lock() {
            p.push(tmp.clone());
        }
        let file = File::create(&tmp).map_err(|e| {
            // Nothing was created: nothing for Ctrl-C to remove.
            if let Ok(mut p) = PENDING.lock() {
                p.retain(|x| x != &tmp);
            }
            AuditError::input(&shown, e.to_string())
        })?;
        Ok(Partial {
            tmp,
            dest: dest.to_path_buf(),
            file,
            committed: false,
        })
    }

    pub fn commit(mut self) -> Result<(), AuditError> {
        let shown = self.dest.display().to_string();
        self.file
            .sync_all()
            .map_err(|e| AuditError::input(&shown, e.to_string()))?;
        std::fs::rename(&self.tmp, &self.dest)
            .map_err(|e| AuditError::input(&shown, e.to_string()))?;
        self.committed = true;
        Ok(())
    }
}

/// Writes `bytes` to `dest` whole or not at all.
pub fn write(dest: &Path, bytes: &[u8]) -> Result<(), AuditError> {
    let mut p = Partial::create(dest)?;
    p.file
        .write_all(bytes)
        .map_err(|e| AuditError::input(dest.display().to_string(), e.to_string()))?;
    p.commit()
}

/// Writes several files as one: every file is written under its temporary name and synced
/// first, and only then are they renamed into place, so an error on the way (a full disk, an
/// unwritable directory, Ctrl-C) leaves none of them rather than some.
pub fn write_all(files: &[(PathBuf, Vec<u8>)]) -> Result<(), AuditError> {
    let mut partials = Vec::with_capacity(files.len());
    for (dest, bytes) in files {
        let shown = || dest.display().to_string();
        let mut p = Partial::create(dest)?;
        p.file
            .write_all(bytes)
            .and_then(|()| p.file.sync_all())
            .map_err(|e| AuditError::input(shown(), e.to_string()))?;
        partials.push(p);
    }
    for p in partials {
        p.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tests look at the one PENDING list: one at a time.
    static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn a_file_appears_whole_or_not_at_all() {
        let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("report.json");
        {
            let mut p = Partial::create(&dest).unwrap();
            p.file.write_all(b"half").unwrap();
            assert!(!dest.exists(), "not visible before commit");
            // dropped: an error on the way
        }
        let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert!(left.is_empty(), "{left:?}");
        assert!(PENDING.lock().unwrap().is_empty());
        write(&dest, b"whole").unwrap();
        assert_eq!(std::fs::read(&dest).unwrap(), b"whole");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn several_files_appear_together_or_not_at_all() {
        let _one = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let ok = dir.path().join("a.sarif");
        // The second file's directory does not exist: neither file may appear.
        let bad = dir.path().join("missing/b.xml");
        let err = write_all(&[(ok.clone(), b"a".to_vec()), (bad, b"b".to_vec())]).unwrap_err();
        assert!(err.to_string().contains("missing/b.xml"), "{err}");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
        assert!(PENDING.lock().unwrap().is_empty());
        let other = dir.path().join("b.xml");
        write_all(&[(ok.clone(), b"a".to_vec()), (other.clone(), b"b".to_vec())]).unwrap();
        assert_eq!(std::fs::read(&ok).unwrap(), b"a");
        assert_eq!(std::fs::read(&other).unwrap(), b"b");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
