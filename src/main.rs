//! The `callflow` command: parse arguments, load, run, write, pick the exit code.
//!
//! Exit codes: 0 success; 1 a failure while running or writing results;
//! 2 invalid input (bad files or bad arguments). Documented in README.md.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand, ValueEnum};

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
    /// Trace a scenario's probes hop by hop: forward and return paths, every
    /// decision, and a verdict for each flow or participant.
    #[command(
        after_help = "Examples:\n  callflow trace topologies/multi-site.toml scenarios/multi-site.toml\n  callflow trace topologies/teaching/asymmetric-a.toml scenarios/teaching.toml --probe asymmetric-a --svg asym.svg\n  callflow trace topologies/seed-online.toml scenarios/seed-tables.toml --format json"
    )]
    Trace {
        /// The topology file.
        topology: PathBuf,
        /// The scenario file with the probes.
        scenario: PathBuf,
        /// Only this probe.
        #[arg(long)]
        probe: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value = "text")]
        format: TraceFormat,
        /// Also draw the traced paths over the four segment lanes to this SVG file.
        #[arg(long)]
        svg: Option<PathBuf>,
    },
    /// Draw a topology in the four segment lanes: your network, Internet,
    /// ExpressRoute, Microsoft network.
    #[command(
        after_help = "Examples:\n  callflow graph topologies/multi-site.toml --out multi-site.svg\n  callflow graph topologies/multi-site.toml --format dot | dot -Tpng -o multi-site.png\n\nThe SVG has tooltips with each element's, link's and circuit's details."
    )]
    Graph {
        /// The topology file.
        topology: PathBuf,
        /// What to write: an SVG drawing, or Graphviz DOT.
        #[arg(long, value_enum, default_value = "svg")]
        format: GraphFormat,
        /// Write to this file (atomically) instead of standard output.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Simulate a scenario's day: calls placed, paths negotiated, traffic
    /// added up per link and segment; writes a results directory.
    #[command(
        after_help = "Examples:\n  callflow run topologies/multi-site.toml scenarios/multi-site.toml\n  callflow run topologies/multi-site.toml scenarios/multi-site.toml --variant no-expressroute --replications 5 --jobs 2 --out results/no-er\n\nWrites DIR (default results/<scenario>/) whole or not at all: manifest.json, summary.json,\nlinks.csv, segments.csv, calls.csv, timeseries.csv, topology.svg, trace.json (and report.html\nwith --report). Same inputs and seed give byte-identical files,\nwhatever --jobs is."
    )]
    Run {
        /// The topology file.
        topology: PathBuf,
        /// The scenario file.
        scenario: PathBuf,
        /// The results directory (default: results/<scenario name>/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override the scenario's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Override the scenario's number of replications.
        #[arg(long)]
        replications: Option<u32>,
        /// Worker threads (default: one per core). Results do not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// Run one of the scenario's variants instead of the baseline.
        #[arg(long)]
        variant: Option<String>,
        /// No progress bar and no summary on the terminal.
        #[arg(long)]
        quiet: bool,
        /// Also write report.html (see `callflow report`) into the results directory.
        #[arg(long)]
        report: bool,
    },
    /// Make one self-contained HTML page from a results directory: topology,
    /// charts over time, tables, the probes' call flows, findings and fixes.
    #[command(
        after_help = "Examples:\n  callflow report results/multi-site\n  callflow report results/multi-site --out multi-site.html\n\nThe page is built only from DIR's files and loads nothing from anywhere. See docs/report.md."
    )]
    Report {
        /// The results directory (written by `callflow run`).
        dir: PathBuf,
        /// Write the page here (atomically) instead of DIR/report.html.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// How `trace` prints.
#[derive(Clone, Copy, clap::ValueEnum)]
enum TraceFormat {
    /// Hop-by-hop text for people.
    Text,
    /// The documented JSON document (docs/trace-json.md).
    Json,
}

/// The drawing formats of `callflow graph`.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum GraphFormat {
    /// SVG, laid out in the four lanes.
    Svg,
    /// Graphviz DOT, one cluster per lane.
    Dot,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Validate { topology, scenario } => validate_command(topology, scenario),
        Command::Trace {
            topology,
            scenario,
            probe,
            format,
            svg,
        } => trace_command(topology, scenario, probe, format, svg),
        Command::Graph {
            topology,
            format,
            out,
        } => graph_command(topology, format, out),
        Command::Run {
            topology,
            scenario,
            out,
            seed,
            replications,
            jobs,
            variant,
            quiet,
            report,
        } => {
            let request = callflow::run::RunRequest {
                variant,
                seed,
                replications,
                jobs,
                progress: !quiet,
            };
            run_command(topology, scenario, out, request, quiet, report)
        }
        Command::Report { dir, out } => report_command(dir, out),
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

fn trace_command(
    topology: PathBuf,
    scenario: PathBuf,
    probe: Option<String>,
    format: TraceFormat,
    svg: Option<PathBuf>,
) -> Result<(), Failure> {
    let study = validate::load_study(&topology, &scenario)?;
    let (t, s) = (&study.topology, &study.scenario);
    if let Some(name) = &probe
        && !s.probes.iter().any(|p| &p.name == name)
    {
        let known: Vec<&str> = s.probes.iter().map(|p| p.name.as_str()).collect();
        return Err(Failure::Invalid(format!(
            "error: the scenario has no probe \"{name}\" (it has: {})\n",
            known.join(", ")
        )));
    }
    let traces = callflow::trace::trace_probes(t, s, probe.as_deref());
    match format {
        TraceFormat::Text => print!("{}", callflow::trace::render_text(t, &traces)),
        TraceFormat::Json => {
            let doc = callflow::trace::document(t, s, &traces);
            println!(
                "{}",
                serde_json::to_string_pretty(&doc).map_err(|e| Failure::Other(e.into()))?
            );
        }
    }
    if let Some(path) = svg {
        let drawing = callflow::render::trace_svg(t, &traces);
        callflow::output::write_atomic(&path, drawing.as_bytes())
            .with_context(|| format!("writing {}", path.display()))
            .map_err(Failure::Other)?;
    }
    Ok(())
}

fn graph_command(
    topology: PathBuf,
    format: GraphFormat,
    out: Option<PathBuf>,
) -> Result<(), Failure> {
    let t = validate::load_topology(&topology)?;
    let text = match format {
        GraphFormat::Svg => callflow::render::topology_svg(&t),
        GraphFormat::Dot => callflow::render::topology_dot(&t),
    };
    match out {
        Some(path) => callflow::output::write_atomic(&path, text.as_bytes())
            .with_context(|| format!("writing {}", path.display()))
            .map_err(Failure::Other),
        None => {
            use std::io::Write;
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(text.as_bytes())
                .and_then(|()| stdout.flush())
                .context("writing to standard output")
                .map_err(Failure::Other)
        }
    }
}

fn run_command(
    topology: PathBuf,
    scenario: PathBuf,
    out: Option<PathBuf>,
    request: callflow::run::RunRequest,
    quiet: bool,
    report: bool,
) -> Result<(), Failure> {
    let study = validate::load_study(&topology, &scenario)?;
    if request.jobs == Some(0) {
        return Err(Failure::Invalid(
            "error: --jobs must be at least 1\n".into(),
        ));
    }
    let result = callflow::run::run(&study, &request).map_err(|e| match e {
        callflow::run::RunError::NoVariant(_) => Failure::Invalid(format!("error: {e}\n")),
        other => Failure::Other(other.into()),
    })?;
    let dir = out.unwrap_or_else(|| {
        let mut name = study.scenario.name.clone();
        if let Some(v) = &request.variant {
            name.push('-');
            name.push_str(v);
        }
        PathBuf::from("results").join(name)
    });
    let mut files = result.files;
    if report {
        let page = callflow::report::render(&callflow::report::ResultsDir::from_files(&files))
            .map_err(|e| Failure::Other(anyhow::anyhow!("making report.html: {e}")))?;
        files.push(("report.html".into(), page.into_bytes()));
    }
    callflow::output::write_dir_atomic(&dir, &files)
        .map_err(|e| Failure::Other(anyhow::anyhow!("writing {}: {e}", dir.display())))?;
    if !quiet {
        print!("{}", callflow::run::terminal_summary(&result.summary));
        println!("\n  results in {}", dir.display());
    }
    Ok(())
}

fn report_command(dir: PathBuf, out: Option<PathBuf>) -> Result<(), Failure> {
    use callflow::report::{ReportError, ResultsDir, render};
    let page = ResultsDir::read(&dir)
        .and_then(|files| render(&files))
        .map_err(|e| match e {
            ReportError::Read { .. } => Failure::Other(e.into()),
            invalid => Failure::Invalid(format!("error: {invalid}\n")),
        })?;
    let path = out.unwrap_or_else(|| dir.join("report.html"));
    callflow::output::write_atomic(&path, page.as_bytes())
        .with_context(|| format!("writing {}", path.display()))
        .map_err(Failure::Other)?;
    println!("report in {}", path.display());
    Ok(())
}
