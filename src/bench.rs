//! `callflow bench`: how fast the engine simulates a synthetic enterprise.
//!
//! Owns the benchmark's steps — generate the enterprise ([`crate::synth`]),
//! validate it, run it, summarize it — the counts it reports (call legs,
//! events, resolutions) and the process's peak memory. Leaves out the wall
//! clock: the library never reads one, so the binary times each step and
//! hands the durations to [`report`].

use std::fmt::Write;
use std::time::Duration;

use crate::diag::SourceFile;
use crate::engine::{self, CallKind, RunOptions};
use crate::metrics::summarize;
use crate::synth::Enterprise;
use crate::validate::{self, Study};

/// Why a benchmark could not run.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The generated enterprise did not validate (a generator bug).
    #[error("the synthetic enterprise does not validate:\n{0}")]
    Invalid(String),
    /// The engine failed.
    #[error(transparent)]
    Run(#[from] engine::RunError),
    /// The results could not be summarized.
    #[error("summarizing: {0}")]
    Summary(#[from] crate::metrics::SummaryError),
}

/// The enterprise generated and validated, ready to run.
pub struct Prepared {
    /// Its size.
    pub enterprise: Enterprise,
    /// The validated models.
    pub study: Study,
}

/// Generates and validates the enterprise.
pub fn prepare(enterprise: Enterprise) -> Result<Prepared, BenchError> {
    let topology = SourceFile::new("synthetic.toml", enterprise.topology_toml());
    let scenario = SourceFile::new(
        "synthetic-scenario.toml",
        enterprise.scenario_toml("synthetic.toml"),
    );
    let study = validate::study_from_sources(topology, scenario)
        .map_err(|d| BenchError::Invalid(format!("{d:?}")))?;
    Ok(Prepared { enterprise, study })
}

/// What a run did, counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Offered call legs over all replications (a meeting counts once per
    /// participant who joins).
    pub legs: u64,
    /// Events the engine processed over all replications.
    pub events: u64,
    /// Path pieces resolved (cache misses).
    pub resolutions: usize,
}

/// Runs the prepared enterprise's replications on `jobs` threads.
pub fn simulate(
    p: &Prepared,
    jobs: Option<usize>,
) -> Result<(Counts, engine::RunOutput), BenchError> {
    let (t, s) = (&p.study.topology, &p.study.scenario);
    let opts = RunOptions {
        jobs,
        progress: false,
        replications: None,
        digest: "bench".into(),
    };
    let out = engine::run(t, s, &opts)?;
    let legs = out
        .partials
        .iter()
        .flat_map(|part| CallKind::ALL.map(|k| part.calls(k).offered()))
        .sum();
    let counts = Counts {
        legs,
        events: out.counters.iter().map(|c| c.events).sum(),
        resolutions: out.resolved,
    };
    Ok((counts, out))
}

/// Summarizes a run as `callflow run` would (part of the work measured).
pub fn summarize_run(p: &Prepared, out: &engine::RunOutput) -> Result<(), BenchError> {
    summarize(&p.study.topology, &p.study.scenario, &out.partials)?;
    Ok(())
}

/// Wall time of each step, measured by the caller.
#[derive(Debug, Clone, Copy, Default)]
pub struct Timings {
    /// Generating and validating the enterprise.
    pub prepare: Duration,
    /// The engine's run.
    pub simulate: Duration,
    /// Summarizing.
    pub summarize: Duration,
}

/// The benchmark's report: the enterprise, wall times, the counts and
/// rates, peak memory.
pub fn report(e: &Enterprise, jobs: Option<usize>, c: &Counts, t: &Timings) -> String {
    let mut out = String::new();
    let total = t.prepare + t.simulate + t.summarize;
    let per_s = |n: u64| n as f64 / t.simulate.as_secs_f64().max(1e-9);
    let _ = writeln!(
        out,
        "synthetic enterprise: {} users, {} sites, {} h, {} replication{}, jobs {}",
        e.users,
        e.sites,
        e.hours,
        e.replications,
        if e.replications == 1 { "" } else { "s" },
        jobs.map_or("default (one per core)".to_string(), |j| j.to_string())
    );
    let _ = writeln!(out, "wall time:      {:.3} s", total.as_secs_f64());
    let _ = writeln!(
        out,
        "  generate and validate {:.3} s, simulate {:.3} s, summarize {:.3} s",
        t.prepare.as_secs_f64(),
        t.simulate.as_secs_f64(),
        t.summarize.as_secs_f64()
    );
    let _ = writeln!(out, "simulated legs: {}", c.legs);
    let _ = writeln!(out, "legs/s:         {:.0}", per_s(c.legs));
    let _ = writeln!(out, "events:         {}", c.events);
    let _ = writeln!(out, "events/s:       {:.0}", per_s(c.events));
    let _ = writeln!(out, "resolutions:    {} (cache misses)", c.resolutions);
    let _ = writeln!(
        out,
        "peak RSS:       {}",
        peak_rss_kib().map_or("unknown".to_string(), |k| format!(
            "{:.1} MiB",
            k as f64 / 1024.0
        ))
    );
    out
}

/// The process's peak resident set (VmHWM), in KiB, where the system
/// reports it (Linux); `None` elsewhere.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm(&status)
}

fn parse_vm_hwm(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().strip_suffix("kB"))
        .and_then(|n| n.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_hwm_is_read_in_kib() {
        let status =
            "Name:\tcallflow\nVmPeak:\t  123456 kB\nVmHWM:\t   45678 kB\nVmRSS:\t 40000 kB\n";
        assert_eq!(parse_vm_hwm(status), Some(45_678));
        assert_eq!(parse_vm_hwm("Name:\tx\n"), None);
    }

    #[test]
    fn a_small_enterprise_runs_and_counts_its_legs() {
        let e = Enterprise {
            hours: 1,
            ..Enterprise::new(200, 3)
        };
        let p = prepare(e).unwrap();
        let (c, out) = simulate(&p, Some(1)).unwrap();
        summarize_run(&p, &out).unwrap();
        let requests: u64 = out.counters.iter().map(|c| c.requests).sum();
        // Every request is at least one leg; meetings add one per joiner.
        assert!(
            c.legs >= requests && requests > 0,
            "{c:?}, {requests} requests"
        );
        assert!(c.events >= c.legs);
        assert!(c.resolutions > 0);
        let text = report(&p.enterprise, Some(1), &c, &Timings::default());
        assert!(text.contains(&format!("simulated legs: {}", c.legs)));
        assert!(text.contains("resolutions:"));
    }
}
