//! The `rdsports` binary: command-line glue over the library crates.
//!
//! `cli` holds the clap definitions, `input` reads files and prints diagnostics, and
//! `commands/<verb>.rs` runs one subcommand and returns an [`ExitStatus`].

/// mimalloc: the audit of large rule sets and the plans of large farms allocate many small
/// pieces; glibc's allocator spent a third of their time in malloc and free.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cli;
mod commands;
mod error;
mod input;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::Parser;

/// How a command ended; `main` turns it into the documented exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: everything is fine.
    Ok,
    /// 1: the command worked and found problems (blocked flows, audit failures).
    Findings,
    /// 2: bad input or usage.
    BadInput,
}

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    let status = match commands::run(cli.command) {
        Ok(status) => status,
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let mut err = io::stderr().lock();
            if let Some(user) = e.downcast_ref::<error::UserError>() {
                let _ = err.write_all(user.render().as_bytes());
                return ExitCode::from(2);
            }
            let _ = writeln!(err, "error: {e}");
            for cause in e.chain().skip(1) {
                let _ = writeln!(err, "  caused by: {cause}");
            }
            ExitStatus::BadInput
        }
    };
    ExitCode::from(match status {
        ExitStatus::Ok => 0,
        ExitStatus::Findings => 1,
        ExitStatus::BadInput => 2,
    })
}

/// A closed pipe (`rdsports plan | head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain()
        .filter_map(|c| c.downcast_ref::<io::Error>())
        .any(|io| io.kind() == io::ErrorKind::BrokenPipe || is_windows_closed_pipe(io))
}

/// Windows reports a reader that went away (`rdsports plan | more`, `| Select-Object -First`)
/// as ERROR_NO_DATA (232, "the pipe is being closed") or ERROR_PIPE_NOT_CONNECTED (233), not
/// always as a broken pipe.
fn is_windows_closed_pipe(error: &io::Error) -> bool {
    cfg!(windows) && matches!(error.raw_os_error(), Some(232 | 233))
}
