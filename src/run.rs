//! `callflow run`: a study's scenario (or one of its variants) simulated,
//! summarized and turned into the files of a results directory.
//!
//! Owns the glue between the engine and the outputs: which seed and how
//! many replications, the digest that ties every partial result to its
//! inputs, the manifest, the files' contents, and the short summary printed
//! on the terminal. The files are returned as bytes; the binary writes them
//! all at once with [`crate::output::write_dir_atomic`], so a results
//! directory lands whole or not at all.
//!
//! Leaves out simulation ([`crate::engine`]) and aggregation ([`crate::metrics`]).

use std::fmt::Write;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::engine::sim::Counters;
use crate::engine::{self, RunOptions};
use crate::metrics::{Partial, Summary, summarize};
use crate::model::{Scenario, Segment, Topology};
use crate::validate::Study;

/// What to run.
#[derive(Debug, Clone, Default)]
pub struct RunRequest {
    /// The variant to run (`None` or `"baseline"`: the scenario as written).
    pub variant: Option<String>,
    /// Override the scenario's seed.
    pub seed: Option<u64>,
    /// Override the scenario's number of replications.
    pub replications: Option<u32>,
    /// Worker threads.
    pub jobs: Option<usize>,
    /// Show a progress bar.
    pub progress: bool,
}

/// A finished run.
#[derive(Debug)]
pub struct RunResult {
    /// The summary (also `summary.json`).
    pub summary: Summary,
    /// The partial result of each replication.
    pub partials: Vec<Partial>,
    /// The engine's counters per replication.
    pub counters: Vec<Counters>,
    /// The results directory's files, name and contents, in a fixed order.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Why a run failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The variant does not exist.
    #[error("the scenario has no variant \"{0}\"")]
    NoVariant(String),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] engine::RunError),
    /// The partials could not be summarized.
    #[error("summarizing: {0}")]
    Summary(String),
    /// A file could not be produced.
    #[error("writing {file}: {why}")]
    Write {
        /// Which file.
        file: &'static str,
        /// Why.
        why: String,
    },
}

/// The manifest: what produced a results directory.
#[derive(Debug, Serialize)]
pub struct Manifest {
    /// Format version.
    pub schema: &'static str,
    /// callflow's version.
    pub callflow_version: &'static str,
    /// The canonical command (paths as given; only options that change results).
    pub command: String,
    /// The variant run.
    pub variant: String,
    /// The master seed.
    pub seed: u64,
    /// Replications.
    pub replications: u32,
    /// Each input file: path, size and SHA-256.
    pub inputs: Vec<InputHash>,
    /// The digest every partial result carries.
    pub digest: String,
}

/// One input file's fingerprint.
#[derive(Debug, Serialize)]
pub struct InputHash {
    /// The path as given.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// The models a request runs: the baseline or a variant, with the seed and
/// replications it asks for.
pub fn models<'s>(
    study: &'s Study,
    req: &RunRequest,
) -> Result<(&'s Topology, Scenario), RunError> {
    let name = req.variant.as_deref().unwrap_or("baseline");
    let (t, s) = study
        .models(name)
        .ok_or_else(|| RunError::NoVariant(name.to_string()))?;
    let mut s = s.clone();
    if let Some(seed) = req.seed {
        s.seed = seed;
    }
    if let Some(r) = req.replications {
        s.replications = r;
    }
    Ok((t, s))
}

/// The manifest of a request: inputs hashed, the command canonicalized.
pub fn manifest(study: &Study, req: &RunRequest, s: &Scenario) -> Manifest {
    let inputs: Vec<InputHash> = study
        .inputs
        .iter()
        .map(|f| InputHash {
            path: f.path.clone(),
            bytes: f.text.len() as u64,
            sha256: hex(&Sha256::digest(f.text.as_bytes())),
        })
        .collect();
    let variant = req.variant.clone().unwrap_or_else(|| "baseline".into());
    let mut command = format!(
        "callflow run {}",
        inputs
            .iter()
            .map(|i| i.path.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    if variant != "baseline" {
        let _ = write!(command, " --variant {variant}");
    }
    let _ = write!(
        command,
        " --seed {} --replications {}",
        s.seed, s.replications
    );
    let mut h = Sha256::new();
    h.update(env!("CARGO_PKG_VERSION").as_bytes());
    for i in &inputs {
        h.update(i.sha256.as_bytes());
    }
    h.update(variant.as_bytes());
    h.update(s.seed.to_le_bytes());
    let digest = hex(&h.finalize())[..16].to_string();
    Manifest {
        schema: "callflow-manifest/1",
        callflow_version: env!("CARGO_PKG_VERSION"),
        command,
        variant,
        seed: s.seed,
        replications: s.replications,
        inputs,
        digest,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Runs a request and produces every file of its results directory.
pub fn run(study: &Study, req: &RunRequest) -> Result<RunResult, RunError> {
    let (t, s) = models(study, req)?;
    let manifest = manifest(study, req, &s);
    let opts = RunOptions {
        jobs: req.jobs,
        progress: req.progress,
        replications: None,
        digest: manifest.digest.clone(),
    };
    let out = engine::run(t, &s, &opts)?;
    finish(t, &s, &manifest, out.partials, out.counters)
}

/// Summarizes the partials of every replication of a run and produces its
/// files: the end of `callflow run` and of `callflow merge`, which is what
/// makes a merged directory the same, byte for byte, as an unsharded one.
pub fn finish(
    t: &Topology,
    s: &Scenario,
    manifest: &Manifest,
    partials: Vec<Partial>,
    counters: Vec<Counters>,
) -> Result<RunResult, RunError> {
    let summary = summarize(t, s, &partials).map_err(|e| RunError::Summary(e.to_string()))?;
    let files = files(t, s, manifest, &summary)?;
    Ok(RunResult {
        summary,
        partials,
        counters,
        files,
    })
}

/// The files of a results directory: what produced it, the results, and
/// two files drawn from the inputs alone so the directory describes itself
/// (`topology.svg`, the four-lane drawing; `trace.json`, every probe traced).
pub fn files(
    t: &Topology,
    s: &Scenario,
    manifest: &Manifest,
    summary: &Summary,
) -> Result<Vec<(String, Vec<u8>)>, RunError> {
    let w = |file: &'static str| {
        move |e: crate::metrics::WriteError| RunError::Write {
            file,
            why: e.to_string(),
        }
    };
    let mut manifest_json = serde_json::to_vec_pretty(manifest).map_err(|e| RunError::Write {
        file: "manifest.json",
        why: e.to_string(),
    })?;
    manifest_json.push(b'\n');
    Ok(vec![
        ("manifest.json".into(), manifest_json),
        (
            "summary.json".into(),
            summary.to_json().map_err(w("summary.json"))?,
        ),
        (
            "links.csv".into(),
            summary.links_csv().map_err(w("links.csv"))?,
        ),
        (
            "segments.csv".into(),
            summary.segments_csv().map_err(w("segments.csv"))?,
        ),
        (
            "calls.csv".into(),
            summary.calls_csv().map_err(w("calls.csv"))?,
        ),
        (
            "timeseries.csv".into(),
            summary.timeseries_csv().map_err(w("timeseries.csv"))?,
        ),
        (
            "sizing.json".into(),
            summary.sizing_json().map_err(w("sizing.json"))?,
        ),
        (
            "topology.svg".into(),
            crate::render::topology_svg(t).into_bytes(),
        ),
        ("trace.json".into(), trace_json(t, s)?),
    ])
}

/// `trace.json`: every probe of the scenario traced, the same document
/// `callflow trace --format json` prints.
pub fn trace_json(t: &Topology, s: &Scenario) -> Result<Vec<u8>, RunError> {
    let traces = crate::trace::trace_probes(t, s, None);
    let mut json =
        serde_json::to_vec_pretty(&crate::trace::document(t, s, &traces)).map_err(|e| {
            RunError::Write {
                file: "trace.json",
                why: e.to_string(),
            }
        })?;
    json.push(b'\n');
    Ok(json)
}

/// A few lines for the terminal: segments, the busiest links, calls.
pub fn terminal_summary(s: &Summary) -> String {
    let mut out = String::new();
    let mbps = |bps: f64| bps / 1e6;
    let _ = writeln!(
        out,
        "{} / {}: {} replication{}, {:.1} h simulated",
        s.run.topology,
        s.run.scenario,
        s.run.replications,
        if s.run.replications == 1 { "" } else { "s" },
        s.run.duration_s / 3600.0
    );
    let _ = writeln!(
        out,
        "\n  segment        GB       mean Mbps   peak Mbps   p95 Mbps"
    );
    for seg in Segment::ALL {
        let tr = s.segments.get(seg);
        let _ = writeln!(
            out,
            "  {:<12} {:>8.2}  {:>10.2}  {:>10.2}  {:>9.2}",
            seg.key(),
            tr.bytes / 1e9,
            mbps(tr.mean_bps),
            mbps(tr.peak_bps),
            mbps(tr.p95_bps)
        );
    }
    let mut busiest: Vec<_> = s
        .links
        .iter()
        .filter(|l| l.peak_utilization.is_some())
        .collect();
    busiest.sort_by(|a, b| {
        b.peak_utilization
            .partial_cmp(&a.peak_utilization)
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.name.cmp(&b.name))
    });
    let _ = writeln!(out, "\n  busiest links (peak utilization)");
    for l in busiest.iter().take(5) {
        let _ = writeln!(
            out,
            "  {:<24} {:<34} {:>7.1}%  ({:.2} of {:.0} Mbps)",
            l.name,
            l.direction,
            l.peak_utilization.unwrap_or(0.0) * 100.0,
            mbps(l.traffic.peak_bps),
            l.capacity_bps as f64 / 1e6
        );
    }
    let _ = writeln!(
        out,
        "\n  calls           offered  completed  rerouted  blocked  failed"
    );
    for (kind, c) in
        std::iter::once(("all", &s.calls.all)).chain(s.calls.by_kind.iter().map(|(k, v)| (*k, v)))
    {
        let _ = writeln!(
            out,
            "  {:<14} {:>8.1}  {:>9.1}  {:>8.1}  {:>7.1}  {:>6.1}",
            kind, c.offered, c.completed, c.rerouted, c.blocked, c.failed
        );
    }
    let _ = writeln!(
        out,
        "\n  concurrency: mean {:.1} calls, peak {:.1}",
        s.concurrency.mean, s.concurrency.peak
    );
    out.push_str(&s.sizing.terminal_lines());
    out
}
