//! The `audit` binary: parse arguments, run, map the outcome to an exit code.
//! 0 clean, 1 findings, 2 error (one line on stderr).

use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe};
use std::process::ExitCode;

use audit::cli::Cli;
use audit::commands::{self, Outcome};
use audit::error::Secrets;
use clap::Parser;

/// glibc's malloc spent ~15 % of a day's `audit check` consolidating and unlinking chunks.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return usage_error(e),
    };
    audit::output::install_interrupt_handler();
    let secrets = Secrets::from_env_and_args();
    install_panic_hook(secrets.clone());
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut err = io::stderr();
    // A panic is a bug in audit: the hook prints one scrubbed line, the unwinding removes
    // unfinished output files, and the run ends with 2 like any other error.
    let result = panic::catch_unwind(AssertUnwindSafe(|| {
        if std::env::var_os("AUDIT_TEST_PANIC").is_some_and(|v| v == "1") {
            // Lets the tests prove that a panic's message is scrubbed of passwords.
            panic!(
                "test panic, args: {}",
                std::env::args().collect::<Vec<_>>().join(" ")
            );
        }
        commands::run(&cli, &mut out, &mut err).and_then(|o| {
            out.flush()?;
            Ok(o)
        })
    }));
    audit::progress::finish_all();
    let Ok(result) = result else {
        return ExitCode::from(2);
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Findings) => ExitCode::from(1),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(
                err,
                "error: {}",
                secrets.scrub(&one_line(&format!("{e:#}")))
            );
            ExitCode::from(2)
        }
    }
}

/// clap's own answer to a command line it did not run: `--help` and `--version` on stdout
/// (exit 0, also into a pipe that closes), anything else whole on stderr with exit 2 — the
/// tip ("a similar subcommand exists"), the possible values, the usage line. A bare `audit`
/// is such an error: clap prints the help, with the list of commands.
///
/// The one exception is a value our own parsers refused (`--window 25:00`, `--tz +99:00`):
/// their message already names the flag, the value and what is wrong, so it stays one line
/// without clap's generic "For more information, try '--help'" footer.
fn usage_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if !e.use_stderr() {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    if e.kind() == ErrorKind::ValueValidation {
        let text = e.render().to_string();
        let first = text
            .lines()
            .find(|l| !l.trim().is_empty())
            .unwrap_or("invalid arguments");
        eprintln!("{first}");
    } else {
        let _ = e.print();
    }
    ExitCode::from(2)
}

/// One line on stderr for a panic, without the default hook's backtrace hint and with every
/// password masked.
fn install_panic_hook(secrets: Secrets) {
    panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "(no message)".to_string());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        audit::progress::finish_all();
        eprintln!(
            "error: internal error, a bug in audit (please report it): {}{at}",
            secrets.scrub(&one_line(&msg))
        );
    }));
}

/// `audit timeline | head` closes the pipe early: that is not an error. serde_json's error
/// hides the io::Error it wraps from `source()`, so it is asked for the kind directly.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
            || c.downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(io::ErrorKind::BrokenPipe))
    })
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}
