//! The `callflow` command: parse arguments, load, run, write, pick the exit code.
//!
//! Exit codes: 0 success; 1 a failure while running or writing results;
//! 2 invalid input (bad files or bad arguments). Documented in README.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use callflow::validate::{self, LoadError};

/// Invalid input: bad files or bad arguments.
const EXIT_INVALID: u8 = 2;
/// A failure while running or writing results.
const EXIT_FAILURE: u8 = 1;

#[derive(Parser)]
#[command(
    name = "callflow",
    version,
    about = "Simulate how Skype for Business and Teams calls flow across your network, the Internet, ExpressRoute and Microsoft",
    after_help = "Examples:\n  callflow validate topologies/multi-site.toml scenarios/multi-site.toml\n  callflow graph topologies/multi-site.toml --format svg --out multi-site.svg\n\nExit codes: 0 success, 1 failure while running or writing, 2 invalid input."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check a topology (and a scenario) and report every problem at once.
    #[command(
        after_help = "Examples:\n  callflow validate topologies/online.toml\n  callflow validate topologies/multi-site.toml scenarios/multi-site.toml"
    )]
    Validate {
        /// The topology file.
        topology: PathBuf,
        /// The scenario file (checked with every variant it defines).
        scenario: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate { topology, scenario } => validate_command(topology, scenario),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Invalid(problems)) => {
            eprint!("{problems}");
            ExitCode::from(EXIT_INVALID)
        }
        Err(Failure::Other(e)) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// How a command failed, which decides the exit code.
enum Failure {
    /// The input is invalid: the rendered problems.
    Invalid(String),
    /// Anything else.
    Other(anyhow::Error),
}

impl From<LoadError> for Failure {
    fn from(e: LoadError) -> Self {
        match e {
            LoadError::Invalid(invalid) => {
                Failure::Invalid(format!("{}{invalid}\n", invalid.render()))
            }
            read @ LoadError::Read { .. } => Failure::Invalid(format!("error: {read}\n")),
        }
    }
}

fn validate_command(topology: PathBuf, scenario: Option<PathBuf>) -> Result<(), Failure> {
    match scenario {
        None => {
            let t = validate::load_topology(&topology)?;
            println!("{}: valid", topology.display());
            println!("{}", callflow::summary::topology(&t));
        }
        Some(scenario) => {
            let study = validate::load_study(&topology, &scenario)?;
            println!("{}: valid", topology.display());
            println!("{}", callflow::summary::topology(&study.topology));
            println!("{}: valid", scenario.display());
            println!("{}", callflow::summary::scenario(&study));
        }
    }
    Ok(())
}
