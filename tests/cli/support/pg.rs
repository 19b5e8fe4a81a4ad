//! A real PostgreSQL for the tests: `DATABASE_URL` when set (a server the tests may create
//! databases on), otherwise a throwaway cluster started from the installed server binaries
//! (initdb + postgres on 127.0.0.1 and a private socket dir; as root, run as `postgres`),
//! stopped by a watchdog when the test process exits. No mocks. Tests of the server's
//! authentication use [`own_pg`]: always a cluster whose passwords the tests set.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

pub struct Pg {
    /// postgres://user:password@host:port — without a database name.
    base: String,
    /// True for the throwaway cluster: TCP logins need the password (scram-sha-256).
    pub password_auth: bool,
    /// psql to use for admin work and fixture loading.
    psql: PathBuf,
    admin_db: String,
}

static PG: OnceLock<Result<Pg, String>> = OnceLock::new();
/// The test cluster's password. Tests check it never appears in audit's output.
pub const PASSWORD: &str = "Pw-4-audit-tests";
static SEQ: AtomicUsize = AtomicUsize::new(0);

/// The shared server; panics with one line saying how to get one.
pub fn pg() -> &'static Pg {
    match PG.get_or_init(start) {
        Ok(pg) => pg,
        Err(e) => panic!("{e}"),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Directory of initdb/postgres/psql: `pg_config --bindir`, the newest /usr/lib/postgresql/*/bin, or PATH.
fn bindir() -> Option<PathBuf> {
    if let Ok(o) = Command::new("pg_config").arg("--bindir").output() {
        let p = PathBuf::from(String::from_utf8_lossy(&o.stdout).trim());
        if p.join("initdb").is_file() {
            return Some(p);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_string_lossy().parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").is_file().then_some((v, bin))
        })
        .collect();
    versions.sort();
    if let Some((_, b)) = versions.pop() {
        return Some(b);
    }
    let which = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
        .ok()?;
    let p = PathBuf::from(String::from_utf8_lossy(&which.stdout).trim());
    p.parent().filter(|_| p.is_file()).map(Path::to_path_buf)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or(54329)
}

fn run_as_pg(root: bool, prog: &Path) -> Command {
    if root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(prog);
        c
    } else {
        Command::new(prog)
    }
}

fn start() -> Result<Pg, String> {
    if let Ok(url) = std::env::var("DATABASE_URL").map(|u| u.trim().to_string()) {
        if !url.is_empty() {
            let psql = bindir()
                .map(|b| b.join("psql"))
                .filter(|p| p.is_file())
                .unwrap_or_else(|| "psql".into());
            let (base, db) = match url.rsplit_once('/') {
                Some((b, d)) if b.contains("://") && !b.ends_with('/') => (
                    b.to_string(),
                    d.split('?').next().unwrap_or("postgres").to_string(),
                ),
                _ => (url.clone(), "postgres".to_string()),
            };
            return Ok(Pg {
                base,
                psql,
                password_auth: false,
                admin_db: if db.is_empty() { "postgres".into() } else { db },
            });
        }
    }
    cluster()
}

static OWN: OnceLock<Result<Pg, String>> = OnceLock::new();

/// A server whose authentication the tests set up (scram-sha-256 on TCP with [`PASSWORD`]):
/// the shared one when it is the throwaway cluster, else (DATABASE_URL set) a throwaway
/// cluster of its own. Panics with one line when none can be started: a test that needs it
/// fails, it never passes without running.
pub fn own_pg() -> &'static Pg {
    if pg().password_auth {
        return pg();
    }
    match OWN.get_or_init(cluster) {
        Ok(pg) => pg,
        Err(e) => panic!("this test needs a server of its own (DATABASE_URL is not one): {e}"),
    }
}

/// A throwaway cluster from the installed server binaries.
fn cluster() -> Result<Pg, String> {
    let Some(bin) = bindir() else {
        return Err("PostgreSQL server binaries (initdb, postgres) not found: install them (Debian: apt-get install -y postgresql) or set DATABASE_URL to a server the tests may create databases on".into());
    };
    let root = is_root();
    let dir = std::env::temp_dir().join(format!(
        "audit-pg-{}-{}",
        std::process::id(),
        SEQ.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    if root {
        let ok = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err("running as root but cannot hand the cluster dir to the `postgres` user (is the postgresql package installed?)".into());
        }
    }
    let data = dir.join("data");
    // TCP logins need the password (so a wrong one is refused, as on a real server); the
    // private socket trusts.
    let pwfile = dir.join("pw");
    std::fs::write(&pwfile, format!("{PASSWORD}\n"))
        .map_err(|e| format!("cannot write {}: {e}", pwfile.display()))?;
    if root {
        let _ = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&pwfile)
            .status();
    }
    let out = run_as_pg(root, &bin.join("initdb"))
        .args(["-D"])
        .arg(&data)
        .args([
            "-U",
            "audit_test",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",
        ])
        .arg(format!("--pwfile={}", pwfile.display()))
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("initdb: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let port = free_port();
    let opts = format!(
        "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
        dir.display()
    );
    let out = run_as_pg(root, &bin.join("pg_ctl"))
        .args(["-D"])
        .arg(&data)
        .args(["-w", "-t", "60", "-l"])
        .arg(dir.join("server.log"))
        .args(["-o", &opts, "start"])
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("pg_ctl: {e}"))?;
    if !out.status.success() {
        let log = std::fs::read_to_string(dir.join("server.log")).unwrap_or_default();
        return Err(format!(
            "pg_ctl start failed: {} {}",
            String::from_utf8_lossy(&out.stderr).trim(),
            log.trim()
        ));
    }
    // Watchdog: stop the cluster and delete it when this test process is gone.
    let stop = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {runas}{pg_ctl} -D {data} stop -m immediate >/dev/null 2>&1; rm -rf {dir}",
        pid = std::process::id(),
        runas = if root { "runuser -u postgres -- " } else { "" },
        pg_ctl = bin.join("pg_ctl").display(),
        data = data.display(),
        dir = dir.display(),
    );
    Command::new("setsid")
        .args(["sh", "-c", &stop])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .or_else(|_| {
            Command::new("sh")
                .args(["-c", &stop])
                .stdin(Stdio::null())
                .spawn()
        })
        .map_err(|e| format!("cannot start the cluster watchdog: {e}"))?;
    let pg = Pg {
        base: format!("postgres://audit_test:{PASSWORD}@127.0.0.1:{port}"),
        psql: bin.join("psql"),
        password_auth: true,
        admin_db: "postgres".into(),
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while pg.psql_admin("SELECT 1").is_err() {
        if Instant::now() > deadline {
            return Err("the test cluster did not accept connections within 30 s".into());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(pg)
}

impl Pg {
    pub fn url(&self, db: &str) -> String {
        format!("{}/{db}", self.base)
    }

    /// The same URL with the password replaced (or removed when `pw` is None).
    pub fn url_with_password(&self, db: &str, pw: Option<&str>) -> String {
        let without = self.base.replacen(&format!(":{PASSWORD}@"), "@", 1);
        match pw {
            Some(p) => {
                without.replacen("://audit_test@", &format!("://audit_test:{p}@"), 1) + "/" + db
            }
            None => format!("{without}/{db}"),
        }
    }

    fn psql_admin(&self, sql: &str) -> Result<String, String> {
        self.psql_on(&self.admin_db, &["-c", sql])
    }

    /// Runs psql on a database; returns stdout, or stderr as the error.
    pub fn psql_on(&self, db: &str, args: &[&str]) -> Result<String, String> {
        let out = Command::new(&self.psql)
            .arg(self.url(db))
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-At"])
            .args(args)
            .env_remove("PGTZ")
            .output()
            .map_err(|e| format!("psql: {e}"))?;
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout).into_owned())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }

    /// A new, empty database; returns its name.
    pub fn create_db(&self, hint: &str) -> String {
        let name = format!(
            "audit_{}_{}_{}",
            hint,
            std::process::id(),
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        self.psql_admin(&format!("CREATE DATABASE {name}"))
            .unwrap_or_else(|e| panic!("CREATE DATABASE {name}: {e}"));
        name
    }

    /// A new database loaded from SQL files with psql (as a user would load the fixture).
    pub fn load(&self, hint: &str, files: &[&Path]) -> String {
        let db = self.create_db(hint);
        let mut args: Vec<String> = Vec::new();
        for f in files {
            args.push("-f".into());
            args.push(f.display().to_string());
        }
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        self.psql_on(&db, &refs)
            .unwrap_or_else(|e| panic!("loading {files:?} into {db}: {e}"));
        db
    }
}

/// A psql session that holds `ACCESS EXCLUSIVE` on monitoring.events until dropped: any
/// read of the table blocks behind it (a long migration, a stuck VACUUM FULL).
pub struct TableLock {
    child: std::process::Child,
}

impl Pg {
    pub fn lock_events(&self, db: &str) -> TableLock {
        use std::io::Write;
        let child = Command::new(&self.psql)
            .arg(self.url(db))
            .args(["-X", "-q"])
            .env_remove("PGTZ")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("psql");
        // Owned by the guard at once: killed and waited for on every path out.
        let mut lock = TableLock { child };
        lock.child
            .stdin
            .as_mut()
            .unwrap()
            .write_all(
                b"BEGIN; LOCK TABLE monitoring.events IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(300);\n",
            )
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let held = self
                .psql_on(db, &["-c", "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'events' AND l.mode = 'AccessExclusiveLock' AND l.granted"])
                .unwrap_or_default();
            if held.trim() == "1" {
                return lock;
            }
            assert!(Instant::now() < deadline, "the lock was not taken in 30 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until a backend named `audit` is waiting on a lock in `db`.
    pub fn wait_for_blocked_audit(&self, db: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let n = self
                .psql_on(db, &["-c", &format!("SELECT count(*) FROM pg_stat_activity WHERE datname = '{db}' AND application_name = 'audit' AND wait_event_type = 'Lock'")])
                .unwrap_or_default();
            if n.trim() == "1" {
                return;
            }
            assert!(Instant::now() < deadline, "audit never blocked on the lock");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Runs SQL on a database as the admin user; panics with psql's message on failure.
    pub fn admin_on(&self, db: &str, sql: &str) -> String {
        self.psql_on(db, &["-c", sql])
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

impl Drop for TableLock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
