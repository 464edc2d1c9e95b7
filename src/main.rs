//! The `callflow` command: parse arguments, load, run, write, pick the exit code.
//!
//! Exit codes: 0 success; 1 a failure while running or writing results;
//! 2 invalid input (bad files or bad arguments). Documented in README.md.
//! Standard output closed early by its reader (`callflow trace … | head`)
//! is not a failure: the command stops writing and exits 0, quietly.

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
        after_help = "Examples:\n  callflow trace topologies/multi-site.toml scenarios/multi-site.toml\n  callflow trace topologies/teaching/asymmetric-a.toml scenarios/teaching/asymmetric-a.toml --probe media\n  callflow trace topologies/seed/online.toml scenarios/seed-tables.toml --format json"
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
        after_help = "Examples:\n  callflow run topologies/multi-site.toml scenarios/multi-site.toml\n  callflow run topologies/multi-site.toml scenarios/multi-site.toml --variant no-expressroute --replications 5 --jobs 2 --out results/no-er\n\nWrites DIR (default results/<scenario>/) whole or not at all: manifest.json, summary.json,\nlinks.csv, segments.csv, calls.csv, timeseries.csv, sizing.json, topology.svg,\ntrace.json (and report.html with --report). Same inputs and seed give byte-identical files,\nwhatever --jobs is. With --shard I/N, writes only shard I's partial results (partial.json,\nmanifest.json) for `callflow merge` (docs/scale-out.md)."
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
        /// Run only shard I of N (from 0) and write a partial results
        /// directory for `callflow merge`; `auto` reads a Slurm array's or a
        /// Kubernetes Indexed Job's environment (docs/scale-out.md).
        #[arg(long, value_name = "I/N|auto")]
        shard: Option<String>,
        /// The number of shards, for `--shard auto` when the environment
        /// does not give it (Kubernetes: the Job's completions).
        #[arg(long, value_name = "N")]
        shards: Option<u32>,
        /// Also write report.html (see `callflow report`) into the results directory.
        #[arg(long)]
        report: bool,
    },
    /// Merge the partial results of `callflow run --shard` into the results
    /// directory the unsharded run writes, byte for byte.
    #[command(
        after_help = "Examples:\n  callflow merge results/day/part-0 results/day/part-1 results/day/part-2 --out results/day/results\n\nRun it from the directory the shards ran in: the inputs are read again from the paths\nthe parts name, and refused if they changed. Refuses parts of different inputs, variants,\nseeds or versions, and a missing or duplicated shard, naming it (exit code 2)."
    )]
    Merge {
        /// The part directories, one per shard.
        #[arg(required = true)]
        parts: Vec<PathBuf>,
        /// The results directory to write.
        #[arg(long)]
        out: PathBuf,
        /// No summary on the terminal.
        #[arg(long)]
        quiet: bool,
    },
    /// Expand the scenario's [sweep] (variants × seeds; the baseline alone
    /// without one) into one `callflow run … --shard I/N` line per shard, for
    /// GNU parallel, a Slurm job array or a Kubernetes Indexed Job.
    #[command(
        after_help = "Examples:\n  callflow sweep topologies/multi-site.toml scenarios/multi-site.toml --shards 4 --out sweep > jobs.txt\n  parallel < jobs.txt\n  callflow sweep topologies/multi-site.toml scenarios/multi-site.toml --shards 4 --out sweep --merges | parallel\n\nEach run's parts go to ROOT/<variant>/seed-<seed>/part-<I>, its merged results to\nROOT/<variant>/seed-<seed>/results. See docs/scale-out.md."
    )]
    Sweep {
        /// The topology file.
        topology: PathBuf,
        /// The scenario file.
        scenario: PathBuf,
        /// Shards per run.
        #[arg(long, default_value_t = 1)]
        shards: u32,
        /// Where the runs' directories go.
        #[arg(long, default_value = "sweep")]
        out: PathBuf,
        /// Override the scenario's number of replications in every run.
        #[arg(long)]
        replications: Option<u32>,
        /// Print the merge commands (one per run) instead of the shard jobs.
        #[arg(long)]
        merges: bool,
    },
    /// Time the engine on a synthetic enterprise (HQ with ExpressRoute,
    /// branches, home workers): wall time, legs/s, events/s, peak memory.
    #[command(
        after_help = "Examples:\n  callflow bench\n  callflow bench --users 10000 --sites 20 --hours 8 --replications 2 --jobs 2\n\nBuild with --release to measure anything meaningful."
    )]
    Bench {
        /// Users in all.
        #[arg(long, default_value_t = 100_000)]
        users: u32,
        /// Sites, headquarters included.
        #[arg(long, default_value_t = 200)]
        sites: u32,
        /// Simulated hours.
        #[arg(long, default_value_t = 8)]
        hours: u32,
        /// Replications.
        #[arg(long, default_value_t = 1)]
        replications: u32,
        /// Worker threads (default: one per core).
        #[arg(long)]
        jobs: Option<usize>,
        /// Write the synthetic enterprise's topology.toml and scenario.toml
        /// into this directory instead of timing it (for sharded benchmarks:
        /// scripts/bench-shards.sh).
        #[arg(long, value_name = "DIR")]
        write: Option<PathBuf>,
    },
    /// Run the baseline and some of the scenario's variants on common random
    /// numbers and report what each changes, with 95% confidence intervals.
    #[command(
        after_help = "Examples:\n  callflow compare topologies/multi-site.toml scenarios/multi-site.toml --variant no-expressroute --variant er-500\n  callflow compare topologies/multi-site.toml scenarios/multi-site.toml --variant second-circuit --replications 5 --jobs 2 --out results/london\n\nWrites DIR (default results/<scenario>-compare/) whole or not at all: compare.json\n(docs/compare.md), compare.csv, manifest.json, and each run's own files under baseline/ and\n<variant>/. Every run uses the same seed and replication numbers, so replication i of each\ndraws the same calls; differences are paired per replication."
    )]
    Compare {
        /// The topology file.
        topology: PathBuf,
        /// The scenario file.
        scenario: PathBuf,
        /// A variant to compare with the baseline (repeat for several; `baseline` compares the baseline with itself).
        #[arg(long = "variant", required = true)]
        variants: Vec<String>,
        /// The results directory (default: results/<scenario name>-compare/).
        #[arg(long)]
        out: Option<PathBuf>,
        /// Override the scenario's seed (every run uses it).
        #[arg(long)]
        seed: Option<u64>,
        /// Override the scenario's number of replications (every run uses it).
        #[arg(long)]
        replications: Option<u32>,
        /// Worker threads (default: one per core). Results do not depend on it.
        #[arg(long)]
        jobs: Option<usize>,
        /// No progress bar and no table on the terminal.
        #[arg(long)]
        quiet: bool,
        /// Also write report.html: the baseline's run with the comparison.
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
            shard,
            shards,
            report,
        } => {
            let request = callflow::run::RunRequest {
                variant,
                seed,
                replications,
                jobs,
                progress: !quiet,
            };
            match shard {
                Some(_) if report => Err(Failure::Invalid(
                    "error: --report goes with a whole run; make the report after `callflow merge`\n".into(),
                )),
                Some(spec) => shard_command(topology, scenario, out, request, &spec, shards, quiet),
                None if shards.is_some() => Err(Failure::Invalid(
                    "error: --shards goes with --shard auto\n".into(),
                )),
                None => run_command(topology, scenario, out, request, quiet, report),
            }
        }
        Command::Merge { parts, out, quiet } => merge_command(&parts, out, quiet),
        Command::Sweep {
            topology,
            scenario,
            shards,
            out,
            replications,
            merges,
        } => sweep_command(topology, scenario, shards, out, replications, merges),
        Command::Compare {
            topology,
            scenario,
            variants,
            out,
            seed,
            replications,
            jobs,
            quiet,
            report,
        } => {
            let request = callflow::compare::CompareRequest {
                variants,
                seed,
                replications,
                jobs,
                progress: !quiet,
            };
            compare_command(topology, scenario, out, request, quiet, report)
        }
        Command::Bench {
            users,
            sites,
            hours,
            replications,
            jobs,
            write,
        } => bench_command(users, sites, hours, replications, jobs, write),
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
    let text = match scenario {
        None => {
            let t = validate::load_topology(&topology)?;
            format!(
                "{}: valid\n{}\n",
                topology.display(),
                callflow::summary::topology(&t)
            )
        }
        Some(scenario) => {
            let study = validate::load_study(&topology, &scenario)?;
            format!(
                "{}: valid\n{}\n{}: valid\n{}\n",
                topology.display(),
                callflow::summary::topology(&study.topology),
                scenario.display(),
                callflow::summary::scenario(&study)
            )
        }
    };
    print_out(&text)
}

/// Writes `text` to standard output. A reader that stops early (`| head`)
/// closes the pipe: that ends the output, not the command, so a broken
/// pipe counts as success and prints nothing more.
fn print_out(text: &str) -> Result<(), Failure> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure::Other(
            anyhow::Error::new(e).context("writing to standard output"),
        )),
        _ => Ok(()),
    }
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
        TraceFormat::Text => print_out(&callflow::trace::render_text(t, &traces))?,
        TraceFormat::Json => {
            let doc = callflow::trace::document(t, s, &traces);
            let mut text =
                serde_json::to_string_pretty(&doc).map_err(|e| Failure::Other(e.into()))?;
            text.push('\n');
            print_out(&text)?;
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
        None => print_out(&text),
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
    check_counts(request.jobs, request.replications)?;
    let result = callflow::run::run(&study, &request).map_err(|e| match e {
        callflow::run::RunError::NoVariant(_) => Failure::Invalid(format!("error: {e}\n")),
        other => Failure::Other(other.into()),
    })?;
    let dir = out.unwrap_or_else(|| default_dir(&study.scenario.name, request.variant.as_deref()));
    let mut files = result.files;
    if report {
        let page = report_page(&files)?;
        files.push(("report.html".into(), page));
    }
    callflow::output::write_dir_atomic(&dir, &files)
        .map_err(|e| Failure::Other(anyhow::anyhow!("writing {}: {e}", dir.display())))?;
    if !quiet {
        print_out(&format!(
            "{}\n  results in {}\n",
            callflow::run::terminal_summary(&result.summary),
            dir.display()
        ))?;
    }
    Ok(())
}

/// Refuses a zero `--jobs` or `--replications`, which would run nothing.
fn check_counts(jobs: Option<usize>, replications: Option<u32>) -> Result<(), Failure> {
    for (flag, zero) in [
        ("--jobs", jobs == Some(0)),
        ("--replications", replications == Some(0)),
    ] {
        if zero {
            return Err(Failure::Invalid(format!(
                "error: {flag} must be at least 1\n"
            )));
        }
    }
    Ok(())
}

/// The default results directory of a request: results/<scenario>[-<variant>].
fn default_dir(scenario: &str, variant: Option<&str>) -> PathBuf {
    let mut name = scenario.to_string();
    if let Some(v) = variant {
        name.push('-');
        name.push_str(v);
    }
    PathBuf::from("results").join(name)
}

fn shard_command(
    topology: PathBuf,
    scenario: PathBuf,
    out: Option<PathBuf>,
    request: callflow::run::RunRequest,
    spec: &str,
    shards: Option<u32>,
    quiet: bool,
) -> Result<(), Failure> {
    use callflow::shard::{self, Shard};
    let invalid = |e: shard::ShardError| Failure::Invalid(format!("error: {e}\n"));
    check_counts(request.jobs, request.replications)?;
    let which = if spec == "auto" {
        Shard::from_env(|k| std::env::var(k).ok(), shards).map_err(invalid)?
    } else if shards.is_some() {
        return Err(Failure::Invalid(
            "error: --shards goes with --shard auto (--shard I/N names the count)\n".into(),
        ));
    } else {
        spec.parse::<Shard>().map_err(invalid)?
    };
    let study = validate::load_study(&topology, &scenario)?;
    let ran = shard::run_shard(&study, &request, which).map_err(|e| {
        if e.is_invalid_input() {
            Failure::Invalid(format!("error: shard {which}: {e}\n"))
        } else {
            Failure::Other(anyhow::anyhow!("shard {which} failed: {e}"))
        }
    })?;
    let dir = out.unwrap_or_else(|| {
        default_dir(&study.scenario.name, request.variant.as_deref())
            .join(format!("part-{}", which.index))
    });
    callflow::output::write_dir_atomic(&dir, &ran.files).map_err(|e| {
        Failure::Other(anyhow::anyhow!(
            "shard {which} failed: writing {}: {e}",
            dir.display()
        ))
    })?;
    if !quiet {
        let groups = if ran.work.groups.is_empty() {
            String::new()
        } else {
            format!(", {} calling group(s)", ran.work.groups.len())
        };
        print_out(&format!(
            "shard {which}: replications {:?}{groups} (split by {}); part in {}\n",
            ran.work.replications,
            ran.work.split.word(),
            dir.display()
        ))?;
    }
    Ok(())
}

fn merge_command(parts: &[PathBuf], out: PathBuf, quiet: bool) -> Result<(), Failure> {
    let merged = callflow::shard::merge(parts).map_err(|e| match e {
        callflow::shard::MergeError::Run(e) => Failure::Other(e.into()),
        callflow::shard::MergeError::Load(e) => Failure::from(e),
        other => Failure::Invalid(format!("error: {other}\n")),
    })?;
    callflow::output::write_dir_atomic(&out, &merged.result.files)
        .map_err(|e| Failure::Other(anyhow::anyhow!("writing {}: {e}", out.display())))?;
    if !quiet {
        print_out(&format!(
            "{}\n  merged {} parts into {}\n",
            callflow::run::terminal_summary(&merged.result.summary),
            parts.len(),
            out.display()
        ))?;
    }
    Ok(())
}

fn sweep_command(
    topology: PathBuf,
    scenario: PathBuf,
    shards: u32,
    out: PathBuf,
    replications: Option<u32>,
    merges: bool,
) -> Result<(), Failure> {
    let study = validate::load_study(&topology, &scenario)?;
    let plan = callflow::shard::sweep(&study, &topology, &scenario, shards, replications, &out)
        .map_err(|e| Failure::Invalid(format!("error: {e}\n")))?;
    let lines = if merges { &plan.merges } else { &plan.jobs };
    let mut text = String::new();
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .context("writing to standard output")
        .map_err(Failure::Other)
}

fn bench_command(
    users: u32,
    sites: u32,
    hours: u32,
    replications: u32,
    jobs: Option<usize>,
    write: Option<PathBuf>,
) -> Result<(), Failure> {
    use callflow::bench;
    use std::time::Instant;
    if jobs == Some(0) || hours == 0 || replications == 0 || sites == 0 {
        return Err(Failure::Invalid(
            "error: --jobs, --hours, --replications and --sites must be at least 1\n".into(),
        ));
    }
    let enterprise = callflow::synth::Enterprise {
        hours,
        replications,
        ..callflow::synth::Enterprise::new(users, sites)
    };
    if let Some(dir) = write {
        let files = vec![
            (
                "topology.toml".to_string(),
                enterprise.topology_toml().into_bytes(),
            ),
            (
                "scenario.toml".to_string(),
                enterprise.scenario_toml("topology.toml").into_bytes(),
            ),
        ];
        return callflow::output::write_dir_atomic(&dir, &files)
            .map_err(|e| Failure::Other(anyhow::anyhow!("writing {}: {e}", dir.display())));
    }
    let fail = |e: bench::BenchError| Failure::Other(e.into());
    let start = Instant::now();
    let prepared = bench::prepare(enterprise).map_err(fail)?;
    let prepare = start.elapsed();
    let start = Instant::now();
    let (counts, out) = bench::simulate(&prepared, jobs).map_err(fail)?;
    let simulate = start.elapsed();
    let start = Instant::now();
    bench::summarize_run(&prepared, &out).map_err(fail)?;
    let summarize = start.elapsed();
    let timings = bench::Timings {
        prepare,
        simulate,
        summarize,
    };
    print_out(&bench::report(
        &prepared.enterprise,
        jobs,
        &counts,
        &timings,
    ))
}

fn compare_command(
    topology: PathBuf,
    scenario: PathBuf,
    out: Option<PathBuf>,
    request: callflow::compare::CompareRequest,
    quiet: bool,
    report: bool,
) -> Result<(), Failure> {
    use callflow::compare::{CompareError, compare, terminal_table};
    let study = validate::load_study(&topology, &scenario)?;
    check_counts(request.jobs, request.replications)?;
    let result = compare(&study, &request).map_err(|e| match e {
        CompareError::NoVariant { .. } | CompareError::NoVariants { .. } => {
            Failure::Invalid(format!("error: {e}\n"))
        }
        other => Failure::Other(other.into()),
    })?;
    let dir = out.unwrap_or_else(|| {
        PathBuf::from("results").join(format!("{}-compare", study.scenario.name))
    });
    let mut files = result.files;
    if report {
        // The page shows the baseline's run with the comparison beside it.
        let mut page_files: Vec<(String, Vec<u8>)> = files
            .iter()
            .filter_map(|(name, bytes)| {
                name.strip_prefix("baseline/")
                    .map(|n| (n.to_string(), bytes.clone()))
            })
            .collect();
        page_files.extend(files.iter().filter(|(n, _)| n == "compare.json").cloned());
        let page = report_page(&page_files)?;
        files.push(("report.html".into(), page));
    }
    callflow::output::write_dir_atomic(&dir, &files)
        .map_err(|e| Failure::Other(anyhow::anyhow!("writing {}: {e}", dir.display())))?;
    if !quiet {
        print_out(&format!(
            "{}\n  results in {}\n",
            terminal_table(&result.comparison),
            dir.display()
        ))?;
    }
    Ok(())
}

/// report.html for a results directory's files, before they are written.
fn report_page(files: &[(String, Vec<u8>)]) -> Result<Vec<u8>, Failure> {
    callflow::report::render(&callflow::report::ResultsDir::from_files(files))
        .map(String::into_bytes)
        .map_err(|e| Failure::Other(anyhow::anyhow!("making report.html: {e}")))
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
