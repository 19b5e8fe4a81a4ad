//! A command line people already know how to use: clap's whole errors (tip, possible values,
//! usage), help with examples, shell completions, a man page, and a pipe that closes early
//! being no error.

use std::io::Read;
use std::process::{Command as StdCommand, Stdio};

use crate::support::{audit, audit_in_repo, root, run};

/// Every command `audit --help` must list, in the order clap prints them.
const COMMANDS: [&str; 14] = [
    "timeline",
    "skew",
    "missing-logs",
    "inversions",
    "lifetimes",
    "duplicates",
    "explain",
    "watch",
    "check",
    "report",
    "baseline",
    "export",
    "completions",
    "man",
];

#[test]
fn a_mistyped_command_gets_clap_s_tip_and_usage() {
    let mut c = audit();
    c.arg("timelin");
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stdout.is_empty(), "{}", r.stdout);
    for needle in [
        "error: unrecognized subcommand 'timelin'",
        "tip: a similar subcommand exists: 'timeline'",
        "Usage: audit [OPTIONS] <COMMAND>",
        "For more information, try '--help'.",
    ] {
        assert!(
            r.stderr.contains(needle),
            "`{needle}` not in:\n{}",
            r.stderr
        );
    }
}

#[test]
fn a_value_outside_the_choices_lists_the_possible_values() {
    let mut c = audit();
    c.args(["check", "--format", "xml"]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("error: invalid value 'xml' for '--format <FORMAT>'"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("[possible values: table, json, junit, sarif, github, markdown]"),
        "{}",
        r.stderr
    );
    // A flag clap does not know: the tip names the one that exists.
    let mut c = audit();
    c.args(["timeline", "--signl", "1"]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("tip: a similar argument exists: '--signal'"),
        "{}",
        r.stderr
    );
    // A required flag left out: clap names it and shows the usage.
    let mut c = audit();
    c.arg("report");
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("--html <FILE>") && r.stderr.contains("Usage: audit report"));
}

#[test]
fn a_bare_audit_prints_help_with_every_command() {
    // Truly bare: no --no-config either (an argument would make it a missing command).
    let r = run(audit_in_repo());
    // clap's convention for a missing command: the help, on stderr, exit 2.
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("Usage: audit [OPTIONS] <COMMAND>"),
        "{}",
        r.stderr
    );
    let listed: Vec<&str> = r
        .stderr
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .filter(|l| l.starts_with("  ") && !l.starts_with("   "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let mut want: Vec<&str> = COMMANDS.to_vec();
    want.push("help");
    assert_eq!(listed, want, "{}", r.stderr);
    // Only global flags: clap says a command is missing and names them all.
    let r = run(audit());
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .contains("[subcommands: timeline, skew, missing-logs,"),
        "{}",
        r.stderr
    );
    // `audit baseline` alone lists its own subcommand the same way.
    let mut c = audit();
    c.arg("baseline");
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("write"), "{}", r.stderr);
}

#[test]
fn every_command_s_help_ends_with_examples_of_itself() {
    for cmd in COMMANDS {
        let mut c = audit();
        c.args([cmd, "--help"]);
        let r = run(c);
        assert_eq!(r.code, 0, "{cmd}: {}", r.stderr);
        let examples: Vec<&str> = r
            .stdout
            .lines()
            .skip_while(|l| *l != "Examples:")
            .skip(1)
            .collect();
        assert!(
            !examples.is_empty(),
            "{cmd} --help has no Examples:\n{}",
            r.stdout
        );
        let own = format!("audit {cmd}");
        assert!(
            examples.iter().any(|l| l.trim_start().starts_with(&own)),
            "{cmd}: no example runs `{own}`: {examples:?}"
        );
    }
    // The top-level help has them too.
    let mut c = audit();
    c.arg("--help");
    let r = run(c);
    assert!(
        r.stdout
            .contains("\nExamples:\n  audit timeline --signal 4869992")
    );
}

#[test]
fn bash_completions_parse_and_know_the_commands_and_flags() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = audit();
    c.args(["completions", "bash"]);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let script = dir.path().join("audit.bash");
    std::fs::write(&script, &r.stdout).unwrap();
    let syntax = StdCommand::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .expect("bash");
    assert!(
        syntax.status.success(),
        "bash -n: {}",
        String::from_utf8_lossy(&syntax.stderr)
    );
    for needle in [
        "complete -F",
        "missing-logs",
        "--signal",
        "--write",
        "--partition",
    ] {
        assert!(r.stdout.contains(needle), "`{needle}` not completed");
    }
    // Sourced into an interactive-like shell, the function completes `audit mis` to the command.
    let probe = format!(
        "source {}; COMP_WORDS=(audit mis); COMP_CWORD=1; COMP_LINE='audit mis'; COMP_POINT=9; _audit audit mis audit; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let out = StdCommand::new("bash")
        .arg("-c")
        .arg(probe)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "missing-logs");
    for shell in ["zsh", "fish", "powershell"] {
        let mut c = audit();
        c.args(["completions", shell]);
        let r = run(c);
        assert_eq!(r.code, 0, "{shell}: {}", r.stderr);
        assert!(r.stdout.contains("missing-logs"), "{shell}");
    }
    let mut c = audit();
    c.args(["completions", "tcsh"]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("[possible values: bash"), "{}", r.stderr);
}

#[test]
fn the_man_page_is_roff_starting_with_th() {
    let mut c = audit();
    c.arg("man");
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.starts_with(".TH audit 1 "), "{}", &r.stdout[..80]);
    assert!(!r.stdout.contains(".SH EXTRA"), "the examples are EXAMPLES");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH OPTIONS",
        ".SH SUBCOMMANDS",
        ".SH EXAMPLES\n.nf\n  audit timeline \\-\\-signal 4869992",
        ".SH \"EXIT STATUS\"\n.TP\n0\n",
        ".TP\n130\ninterrupted",
    ] {
        assert!(r.stdout.contains(section), "{section}");
    }
    for cmd in COMMANDS {
        // roff escapes the hyphen of missing-logs.
        assert!(r.stdout.contains(&cmd.replace('-', "\\-")), "{cmd}");
    }
    // The page renders where a roff formatter is installed (groff is on Debian's base).
    if let Ok(out) = StdCommand::new("groff")
        .args(["-man", "-Tutf8", "-ww"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(r.stdout.as_bytes())?;
            child.wait_with_output()
        })
    {
        assert!(out.status.success());
        let text = String::from_utf8_lossy(&out.stdout);
        // (A word only: the formatter justifies lines and overstrikes headings.)
        assert!(text.contains("Reconcile"), "{text}");
    }
}

/// Runs `audit ARGS` in the repo (the incident, through its audit.toml), reads `keep` bytes
/// of stdout and closes the pipe; the exit code and stderr.
fn close_after(args: &[&str], keep: usize) -> (Option<i32>, String) {
    let mut child = crate::support::audit_std()
        .current_dir(root())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn audit");
    let mut stdout = child.stdout.take().unwrap();
    let mut buf = vec![0u8; keep];
    stdout.read_exact(&mut buf).expect("the first bytes");
    // What `head -c 100` does: stop reading and close.
    drop(stdout);
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (child.wait().unwrap().code(), stderr)
}

#[test]
fn a_pipe_that_closes_early_is_exit_0_and_silent_in_every_format() {
    // The whole incident timeline is megabytes in every format: far more than a pipe holds,
    // so audit is still writing when the reader goes away.
    for format in ["table", "json", "csv", "jsonl"] {
        let (code, stderr) = close_after(&["timeline", "--format", format], 100);
        assert_eq!(code, Some(0), "{format}: {stderr}");
        assert_eq!(stderr, "", "{format}");
    }
    // The completions and the man page are generated in memory, then written.
    for args in [&["completions", "bash"][..], &["man"][..]] {
        let (code, stderr) = close_after(args, 10);
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
        assert_eq!(stderr, "");
    }
    // And a full run into a pipe still prints everything (the check of the whole output).
    let mut c = audit_in_repo();
    c.args(["timeline", "--format", "jsonl"]);
    let r = run(c);
    assert_eq!(r.code, 0);
    let rows = r.stdout.lines().count();
    let mut c = audit_in_repo();
    c.args(["timeline", "--count", "--format", "json"]);
    let total = crate::support::json(c)["total"].as_u64().unwrap();
    assert_eq!(rows as u64, total, "one JSON Lines row per timeline row");
    assert!(
        r.stdout
            .lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );
}
