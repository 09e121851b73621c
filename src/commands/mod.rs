//! One module per subcommand; each returns an [`ExitStatus`](crate::ExitStatus).

mod audit;
mod check;
mod demo;
mod diagram;
mod diff;
mod fleet;
mod import;
mod lint;
mod listen;
mod plan;
mod ports;
mod report;
mod rules;

use std::io::Write;

use clap::CommandFactory;

use crate::ExitStatus;
use crate::cli::{Cli, Command};

/// Runs one subcommand.
pub fn run(command: Command) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Ports(args) => ports::run(&args),
        Command::Plan(args) => plan::run(&args),
        Command::Rules(args) => rules::run(&args),
        Command::Diff(args) => diff::run(&args),
        Command::Check(args) => check::run(&args),
        Command::Listen(args) => listen::run(&args),
        Command::Demo(args) => demo::run(&args),
        Command::Diagram(args) => diagram::run(&args),
        Command::Report(args) => report::run(&args),
        Command::Audit(args) => audit::run(&args),
        Command::Lint(args) => lint::run(&args),
        Command::Import(args) => import::run(&args),
        Command::Fleet(command) => fleet::run(&command),
        Command::Completions { shell } => {
            let mut cmd = Cli::command();
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut cmd, "rdsports", &mut out);
            std::io::stdout().lock().write_all(&out)?;
            Ok(ExitStatus::Ok)
        }
        Command::Man => {
            let mut out = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut out)?;
            std::io::stdout().lock().write_all(&out)?;
            Ok(ExitStatus::Ok)
        }
    }
}
