//! The discrete-event engine: `callflow run`'s replications.
//!
//! Owns the machinery that moves a run through simulated time: the set of
//! pending events ([`queue`]), the seeded random streams every stochastic
//! choice draws from ([`rng`]), the calls a replication places ([`call`],
//! drawn by [`workload`]), path resolution cached per endpoint class
//! ([`resolve`]), two-party media resolved ahead in parallel (`prefetch`),
//! call admission control ([`cac`]) and the event loop of one replication
//! ([`sim`]). [`run`] ties them together: it builds the routing state of
//! every failure epoch, resolves ahead, runs the replications in parallel
//! on a rayon pool of `jobs` threads, and returns their partial results in
//! replication order, so the outcome is the same for any thread count.
//!
//! Leaves out output: [`crate::metrics`] summarizes partials and writes files.

pub mod cac;
pub mod call;
pub mod path_quality;
mod prefetch;
pub mod queue;
pub mod resolve;
pub mod rng;
pub mod sim;
pub mod workload;

pub use call::{CallKind, CallRequest, Participant};
pub use workload::Workload;

use std::collections::BTreeSet;

use rayon::prelude::*;

use crate::metrics::Partial;
use crate::model::{LinkId, Scenario, Topology};
use crate::net::routing::Routing;
use crate::time::SimTime;
use resolve::Resolver;
use sim::{Counters, Reroutes, SimError, World, replicate};

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Worker threads (`None`: rayon's default, one per core).
    pub jobs: Option<usize>,
    /// Draw a progress bar on stderr (hidden anyway off a terminal).
    pub progress: bool,
    /// Only these replications (sharded runs); all when `None`.
    pub replications: Option<Vec<u32>>,
    /// Digest of the inputs, stamped on every partial.
    pub digest: String,
}

/// What a run produced.
#[derive(Debug)]
pub struct RunOutput {
    /// One partial result per replication run, in replication order.
    pub partials: Vec<Partial>,
    /// The engine's own counters per replication.
    pub counters: Vec<Counters>,
    /// How many path pieces were resolved (distinct cache entries).
    pub resolved: usize,
}

/// Why a run failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RunError {
    /// A replication did not finish.
    #[error(transparent)]
    Sim(#[from] SimError),
    /// The thread pool could not be built.
    #[error("cannot start {0} worker threads")]
    Threads(usize),
}

/// The routing epochs of a scenario: when each starts and which links are
/// down in it, the first (no failures) at time zero.
pub fn epochs(s: &Scenario) -> Vec<(SimTime, BTreeSet<LinkId>)> {
    let mut times: BTreeSet<SimTime> = BTreeSet::from([SimTime::ZERO]);
    for f in &s.failures {
        times.insert(SimTime::ZERO + f.at);
        times.insert(SimTime::ZERO + f.until);
    }
    times
        .into_iter()
        .map(|t| {
            let down = s
                .failures
                .iter()
                .filter(|f| SimTime::ZERO + f.at <= t && t < SimTime::ZERO + f.until)
                .map(|f| f.link)
                .collect();
            (t, down)
        })
        .collect()
}

/// Runs a scenario's replications (or the chosen ones).
pub fn run(t: &Topology, s: &Scenario, opts: &RunOptions) -> Result<RunOutput, RunError> {
    run_resolving(t, s, opts, true)
}

/// [`run`] with every piece resolved afresh, never from the cache: slower,
/// and there only so tests can prove the cache changes no result.
pub fn run_uncached(t: &Topology, s: &Scenario, opts: &RunOptions) -> Result<RunOutput, RunError> {
    run_resolving(t, s, opts, false)
}

fn run_resolving(
    t: &Topology,
    s: &Scenario,
    opts: &RunOptions,
    caching: bool,
) -> Result<RunOutput, RunError> {
    let timeline = epochs(s);
    let mut states: Vec<BTreeSet<LinkId>> = Vec::new();
    let mut epochs = Vec::new();
    for (at, down) in timeline {
        let index = match states.iter().position(|d| *d == down) {
            Some(i) => i,
            None => {
                states.push(down.clone());
                states.len() - 1
            }
        };
        epochs.push((at, index, down));
    }
    let routings: Vec<Routing> = states
        .iter()
        .map(|down| Routing::compute(t, down))
        .collect();
    let world = World {
        topology: t,
        scenario: s,
        resolver: if caching {
            Resolver::new(t, s, routings)
        } else {
            Resolver::uncached(t, s, routings)
        },
        epochs,
        basis: s.bitrate_basis,
        reroutes: Reroutes {
            internet: s.reroute.internet,
            pstn: s.reroute.pstn,
            voicemail: s.reroute.voicemail,
        },
        step_budget: step_budget(s),
    };
    let reps: Vec<u32> = opts
        .replications
        .clone()
        .unwrap_or_else(|| (0..s.replications).collect());
    let seconds = s.duration.as_micros() / 1_000_000;
    let bar = progress_bar(opts.progress, reps.len() as u64 * seconds);
    let jobs = opts.jobs.unwrap_or(0);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .build()
        .map_err(|_| RunError::Threads(jobs))?;
    if caching && pool.current_num_threads() > 1 {
        pool.install(|| prefetch::two_party(&world, &reps));
    }
    let results: Vec<Result<(Partial, Counters), SimError>> = pool.install(|| {
        reps.par_iter()
            .map(|&r| replicate(&world, r, &|secs| bar.inc(secs)))
            .collect()
    });
    bar.finish_and_clear();
    let mut partials = Vec::with_capacity(results.len());
    let mut counters = Vec::with_capacity(results.len());
    for (r, result) in reps.iter().zip(results) {
        let (mut p, c) = result?;
        p.replication = *r;
        p.digest = opts.digest.clone();
        partials.push(p);
        counters.push(c);
    }
    Ok(RunOutput {
        partials,
        counters,
        resolved: world.resolver.cached(),
    })
}

/// A budget far above any sane run's event count: four events per
/// expected call leg plus a floor, times ten.
fn step_budget(s: &Scenario) -> u64 {
    let legs: f64 = s
        .groups
        .iter()
        .map(|g| {
            let r = s.persona(g.persona).rates;
            let per_user = r.peer_to_peer * 2.0
                + r.federated * 2.0
                + r.pstn
                + r.broadcast
                + r.meetings * s.persona(g.persona).mean_meeting_size();
            per_user * g.count as f64
        })
        .sum();
    ((legs * 4.0) as u64 + 1_000_000).saturating_mul(10)
}

fn progress_bar(show: bool, len: u64) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} simulating [{bar:40}] {percent}% of simulated time × replications, ETA {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}
