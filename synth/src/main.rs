//! `audit-gen`: writes a synthetic scenario (logs, events.csv, events.sql, truth.json) with
//! known ground truth, for testing and benchmarking `audit`. All the work is in the
//! [`audit_gen`] library, its command line in [`audit_gen::cli`]. Exit codes: 0 written, 2
//! error.

use std::process::ExitCode;

use audit_gen::cli::{self, Error};

fn main() -> ExitCode {
    let Err(e) = cli::run(std::env::args_os(), &mut std::io::stdout().lock()) else {
        return ExitCode::SUCCESS;
    };
    match &e {
        // --help, --version: clap prints them (in colour on a terminal).
        Error::Usage(u) if !u.use_stderr() => {
            let _ = u.print();
        }
        _ => eprintln!("{e}"),
    }
    ExitCode::from(e.exit_code())
}
