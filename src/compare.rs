//! `callflow compare`: the baseline and some of a scenario's variants run on
//! common random numbers, and what each variant changes, with confidence
//! intervals.
//!
//! Owns the pairing and the differences: every run uses the same master
//! seed and replication numbers, so replication *i* of every run draws from
//! the same ChaCha8 streams (seed, replication, purpose) — the same calls
//! at the same instants with the same participants, durations and
//! modalities, wherever a variant leaves the scenario's people alone (see
//! [`crate::engine::workload`]). Each figure is then compared replication by
//! replication: the difference *variant − baseline* of replication *i*, and
//! a 95% Student-t interval over those differences
//! ([`crate::stats::paired_difference`]). The day-to-day variation both runs
//! share (a busy morning, a long meeting) cancels in each difference, so
//! the interval is far narrower than two independent intervals would give;
//! a variant that changes nothing gives exactly zero with a zero width.
//! Whether the workload really was the same is checked, not assumed: the
//! calls each replication draws are fingerprinted in both runs.
//!
//! What is compared (compare.json, documented in docs/compare.md): traffic
//! per segment; the Internet bytes that cannot move, by why they are there
//! ([`Reason`]); peak utilization per link and direction; the calls whose
//! path changed (per kind and pair of groups, from the path labels every
//! partial counts); offered, blocked, failed and rerouted calls; and per
//! call kind the quality-related figures of the summary ([`call_metrics`]).
//!
//! Leaves out simulation and summaries ([`crate::run`], [`crate::metrics`])
//! and writing files: [`compare`] returns every file's bytes for
//! [`crate::output::write_dir_atomic`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::engine::{CallKind, Workload};
use crate::metrics::summary::CallSummary;
use crate::metrics::{Partial, PathKey, PathLabel, Reason, Summary, summarize};
use crate::model::{Scenario, Segment, Topology};
use crate::run::{self, RunRequest, RunResult};
use crate::stats::{CiError, ConfidenceInterval, paired_difference};
use crate::validate::Study;

/// The `schema` value of compare.json.
pub const SCHEMA: &str = "callflow-compare/1";

/// What to compare.
#[derive(Debug, Clone, Default)]
pub struct CompareRequest {
    /// The variants to compare with the baseline, in order (`"baseline"`
    /// compares the baseline with itself). Repeated names count once.
    pub variants: Vec<String>,
    /// Override the scenario's seed (every run uses it).
    pub seed: Option<u64>,
    /// Override the scenario's number of replications (every run uses it).
    pub replications: Option<u32>,
    /// Worker threads.
    pub jobs: Option<usize>,
    /// Show a progress bar.
    pub progress: bool,
}

/// Why a comparison failed.
#[derive(Debug, thiserror::Error)]
pub enum CompareError {
    /// A variant the scenario does not define.
    #[error("the scenario has no variant \"{name}\" (it has: {})", known.join(", "))]
    NoVariant {
        /// The name asked for.
        name: String,
        /// The names it has, `baseline` first.
        known: Vec<String>,
    },
    /// No variant was named.
    #[error("name at least one variant to compare with the baseline (it has: {})", known.join(", "))]
    NoVariants {
        /// The names it has, `baseline` first.
        known: Vec<String>,
    },
    /// A run failed.
    #[error("running {run}: {source}")]
    Run {
        /// Which run.
        run: String,
        /// Why.
        source: run::RunError,
    },
    /// A replication could not be summarized.
    #[error("summarizing {run}: {why}")]
    Summary {
        /// Which run.
        run: String,
        /// Why.
        why: String,
    },
    /// A difference no interval could be computed for.
    #[error(transparent)]
    Statistics(#[from] CiError),
    /// A file could not be produced.
    #[error("writing {file}: {why}")]
    Write {
        /// Which file.
        file: String,
        /// Why.
        why: String,
    },
}

/// A finished comparison.
#[derive(Debug)]
pub struct CompareResult {
    /// compare.json's contents.
    pub comparison: Comparison,
    /// The results directory's files (name, contents), in a fixed order;
    /// names under `baseline/` and `<variant>/` are each run's own files.
    pub files: Vec<(String, Vec<u8>)>,
}

/// compare.json: see docs/compare.md.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// The contract version, [`SCHEMA`].
    pub schema: &'static str,
    /// The topology's name.
    pub topology: String,
    /// The scenario's name.
    pub scenario: String,
    /// The master seed every run used.
    pub seed: u64,
    /// Replications per run.
    pub replications: u32,
    /// The baseline's figures.
    pub baseline: RunFigures,
    /// Each variant against the baseline, in the order asked.
    pub variants: Vec<VariantComparison>,
}

/// One run's headline figures (means over replications).
#[derive(Debug, Clone, Serialize)]
pub struct RunFigures {
    /// `baseline` or the variant's name.
    pub name: String,
    /// The run's input digest (its partials carry it).
    pub digest: String,
    /// Bytes per segment.
    pub segment_bytes: BTreeMap<&'static str, f64>,
    /// Internet bytes per reason.
    pub internet_by_reason: BTreeMap<&'static str, f64>,
    /// Offered calls, all kinds.
    pub offered: f64,
    /// Blocked calls, all kinds.
    pub blocked: f64,
    /// Failed calls, all kinds.
    pub failed: f64,
}

/// A figure in both runs and their paired difference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Delta {
    /// The baseline's mean over replications.
    pub baseline: f64,
    /// The variant's mean over replications.
    pub variant: f64,
    /// The mean of the per-replication differences, variant − baseline.
    pub difference: f64,
    /// The half-width of its 95% interval (`null` for one replication).
    pub half_width: Option<f64>,
    /// Whether the interval excludes zero.
    pub significant: bool,
}

/// A count with its 95% interval over replications.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Count {
    /// The mean over replications.
    pub mean: f64,
    /// The half-width (`null` for one replication).
    pub half_width: Option<f64>,
}

/// One variant against the baseline.
#[derive(Debug, Clone, Serialize)]
pub struct VariantComparison {
    /// The variant's name.
    pub name: String,
    /// What it changes.
    pub description: Option<String>,
    /// The variant's headline figures.
    pub figures: RunFigures,
    /// Whether every replication drew exactly the same calls as the
    /// baseline's (common random numbers held).
    pub same_workload: bool,
    /// Per segment: bytes, mean, peak and P95 bitrates.
    pub segments: BTreeMap<&'static str, SegmentDelta>,
    /// Internet traffic that cannot move, by reason, and what could.
    pub cannot_move: CannotMove,
    /// Links whose traffic or capacity differs, in the baseline's link
    /// order, then links only the variant has.
    pub links: Vec<LinkDelta>,
    /// Calls whose path changed.
    pub path_changed: PathChanged,
    /// Call outcomes, all kinds (`all`) and per kind.
    pub calls: BTreeMap<&'static str, OutcomeDelta>,
    /// Per kind, the figures of [`call_metrics`] (a figure is left out
    /// when a replication of either run has no value for it).
    pub quality: BTreeMap<&'static str, BTreeMap<&'static str, Delta>>,
}

/// A segment's traffic in both runs.
#[derive(Debug, Clone, Serialize)]
pub struct SegmentDelta {
    /// Bytes over the run.
    pub bytes: Delta,
    /// Mean bitrate.
    pub mean_bps: Delta,
    /// Peak resolution-bin bitrate.
    pub peak_bps: Delta,
    /// 95th percentile resolution-bin bitrate.
    pub p95_bps: Delta,
}

/// The Internet segment's bytes by reason.
#[derive(Debug, Clone, Serialize)]
pub struct CannotMove {
    /// Per reason that keeps traffic on the Internet whatever the circuit.
    pub by_reason: BTreeMap<&'static str, Delta>,
    /// Those reasons together.
    pub total: Delta,
    /// The Internet bytes of the tenant's sites and Online partners: what
    /// a circuit could take.
    pub could_move: Delta,
}

/// One link direction in both runs.
#[derive(Debug, Clone, Serialize)]
pub struct LinkDelta {
    /// The link's name.
    pub link: String,
    /// `"<a name> -> <b name>"`.
    pub direction: String,
    /// `both`, `baseline` or `variant`: which runs have the link.
    pub present_in: &'static str,
    /// Capacity each way in the baseline (0: absent).
    pub baseline_capacity_bps: u64,
    /// Capacity each way in the variant (0: absent).
    pub variant_capacity_bps: u64,
    /// Bytes over the run (0 where absent).
    pub bytes: Delta,
    /// Peak resolution-bin bitrate (0 where absent).
    pub peak_bps: Delta,
    /// Peak utilization, when the link has a capacity in both runs.
    pub peak_utilization: Option<Delta>,
}

/// Calls whose path changed between the runs.
#[derive(Debug, Clone, Serialize)]
pub struct PathChanged {
    /// All kinds.
    pub all: Count,
    /// Per kind.
    pub by_kind: BTreeMap<&'static str, Count>,
    /// The largest changes, summed over replications: per kind and pair of
    /// groups, the calls per path in each run (at most [`MAX_CHANGES`]).
    pub changes: Vec<PathChange>,
}

/// How many changes [`PathChanged::changes`] lists.
pub const MAX_CHANGES: usize = 20;

/// Calls of one kind between two groups whose paths differ.
#[derive(Debug, Clone, Serialize)]
pub struct PathChange {
    /// The call kind.
    pub kind: &'static str,
    /// Caller and callee, organizer and participant, or one group twice.
    pub groups: [String; 2],
    /// Calls whose path changed, all replications.
    pub changed: u64,
    /// Calls per path label in the baseline, all replications.
    pub baseline: BTreeMap<String, u64>,
    /// Calls per path label in the variant, all replications.
    pub variant: BTreeMap<String, u64>,
}

/// Call outcomes in both runs.
#[derive(Debug, Clone, Serialize)]
pub struct OutcomeDelta {
    /// Offered.
    pub offered: Delta,
    /// Completed.
    pub completed: Delta,
    /// Rerouted by admission control.
    pub rerouted: Delta,
    /// Blocked.
    pub blocked: Delta,
    /// Failed.
    pub failed: Delta,
}

/// A per-kind figure of the summary, by name: how compare reads it from a
/// replication's [`CallSummary`].
pub type CallMetric = (&'static str, fn(&CallSummary) -> Option<f64>);

/// The per-call-kind figures compared under `quality`: the summary's
/// setup times and media-path shares. Figures added to [`CallSummary`]
/// (latency, jitter, loss, MOS) join the comparison by a line here.
pub fn call_metrics() -> Vec<CallMetric> {
    vec![
        ("setup_mean_ms", |c| c.setup_ms.mean),
        ("setup_p95_ms", |c| c.setup_ms.p95),
        ("relay_share", |c| c.media_paths.relay.share),
        ("relay_relay_share", |c| c.media_paths.relay_relay.share),
        ("tcp_share", |c| c.media_paths.tcp),
        ("latency_mean_ms", |c| c.quality.latency_ms.mean),
        ("latency_p95_ms", |c| c.quality.latency_ms.p95),
        ("jitter_mean_ms", |c| c.quality.jitter_ms.mean),
        ("jitter_p95_ms", |c| c.quality.jitter_ms.p95),
        ("loss_mean", |c| c.quality.loss.mean),
        ("loss_p95", |c| c.quality.loss.p95),
        ("mos_mean", |c| c.quality.mos.mean),
        ("mos_p5", |c| c.quality.mos.p5),
        ("poor_share", |c| c.quality.poor_share),
        ("meets_client_target", |c| {
            c.quality.meets_targets.client_to_microsoft_edge
        }),
        ("meets_customer_edge_target", |c| {
            c.quality.meets_targets.customer_edge_to_microsoft_edge
        }),
    ]
}

/// The names a scenario accepts for `--variant`: `baseline`, then its
/// variants in file order.
pub fn known_variants(study: &Study) -> Vec<String> {
    std::iter::once("baseline".to_string())
        .chain(study.variants.iter().map(|v| v.name.clone()))
        .collect()
}

/// One run and what compare needs of it.
struct Run {
    name: String,
    result: RunResult,
    /// One summary per replication, in replication order.
    per_rep: Vec<Summary>,
    /// Per replication, a fingerprint of the calls drawn.
    workload: Vec<[u8; 32]>,
    /// The scenario's group names, by index.
    groups: Vec<String>,
}

/// Runs the baseline and every variant asked for on common random numbers
/// and compares them.
pub fn compare(study: &Study, req: &CompareRequest) -> Result<CompareResult, CompareError> {
    let known = known_variants(study);
    let mut names: Vec<String> = Vec::new();
    for name in &req.variants {
        if !known.contains(name) {
            return Err(CompareError::NoVariant {
                name: name.clone(),
                known,
            });
        }
        if !names.contains(name) {
            names.push(name.clone());
        }
    }
    if names.is_empty() {
        return Err(CompareError::NoVariants { known });
    }
    let seed = req.seed.unwrap_or(study.scenario.seed);
    let replications = req.replications.unwrap_or(study.scenario.replications);
    let request = |variant: &str| RunRequest {
        variant: (variant != "baseline").then(|| variant.to_string()),
        seed: Some(seed),
        replications: Some(replications),
        jobs: req.jobs,
        progress: req.progress,
    };
    let baseline = execute(study, "baseline", &request("baseline"))?;
    let mut variants = Vec::new();
    let mut runs = Vec::new();
    for name in &names {
        let run = execute(study, name, &request(name))?;
        let description = study
            .variants
            .iter()
            .find(|v| &v.name == name)
            .and_then(|v| v.description.clone());
        variants.push(versus(&baseline, &run, description)?);
        runs.push(run);
    }
    let comparison = Comparison {
        schema: SCHEMA,
        topology: study.topology.name.clone(),
        scenario: study.scenario.name.clone(),
        seed,
        replications,
        baseline: figures(&baseline),
        variants,
    };
    let files = files(study, &comparison, &baseline, &runs)?;
    Ok(CompareResult { comparison, files })
}

fn execute(study: &Study, name: &str, req: &RunRequest) -> Result<Run, CompareError> {
    let wrap = |source| CompareError::Run {
        run: name.to_string(),
        source,
    };
    let (t, s) = run::models(study, req).map_err(wrap)?;
    let result = run::run(study, req).map_err(wrap)?;
    let per_rep = result
        .partials
        .iter()
        .map(|p| summarize(t, &s, std::slice::from_ref(p)))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| CompareError::Summary {
            run: name.to_string(),
            why: e.to_string(),
        })?;
    let workload = result
        .partials
        .iter()
        .map(|p| workload_fingerprint(t, &s, p.replication))
        .collect();
    Ok(Run {
        name: name.to_string(),
        result,
        per_rep,
        workload,
        groups: s.groups.iter().map(|g| g.name.clone()).collect(),
    })
}

/// A fingerprint of every call replication `replication` of a scenario
/// draws: equal fingerprints, the same calls.
pub fn workload_fingerprint(t: &Topology, s: &Scenario, replication: u32) -> [u8; 32] {
    let mut h = Sha256::new();
    for call in Workload::new(t, s, replication) {
        h.update(call.at.as_micros().to_le_bytes());
        h.update(call.duration.as_micros().to_le_bytes());
        h.update([call.kind as u8]);
        h.update(s.group(call.organizer).name.as_bytes());
        for p in &call.participants {
            h.update(s.group(p.group).name.as_bytes());
            h.update(p.joins.as_micros().to_le_bytes());
            h.update(p.leaves.as_micros().to_le_bytes());
        }
        let m = call.modalities;
        h.update([
            u8::from(m.video),
            u8::from(m.sharing),
            u8::from(m.file_transfer),
        ]);
    }
    h.finalize().into()
}

/// Rounds a quantity with a unit to 3 decimals.
fn unit(x: f64) -> f64 {
    round(x, 1e3)
}

/// Rounds a dimensionless ratio to 6 decimals.
fn ratio(x: f64) -> f64 {
    round(x, 1e6)
}

fn round(x: f64, scale: f64) -> f64 {
    let r = (x * scale).round() / scale;
    if r == 0.0 { 0.0 } else { r }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// The paired difference of per-replication values, rounded with `r`.
fn delta(base: &[f64], var: &[f64], r: fn(f64) -> f64) -> Result<Delta, CiError> {
    let d = paired_difference(var, base)?;
    Ok(Delta {
        baseline: r(mean(base)),
        variant: r(mean(var)),
        difference: r(d.mean),
        half_width: d.half_width.map(r),
        significant: d.excludes_zero(),
    })
}

fn count(values: &[f64]) -> Result<Count, CiError> {
    let c = ConfidenceInterval::from_samples(values)?;
    Ok(Count {
        mean: unit(c.mean),
        half_width: c.half_width.map(unit),
    })
}

fn figures(run: &Run) -> RunFigures {
    let s = &run.result.summary;
    RunFigures {
        name: run.name.clone(),
        digest: s.run.inputs_digest.clone(),
        segment_bytes: Segment::ALL
            .iter()
            .map(|&seg| (seg.key(), s.segments.get(seg).bytes))
            .collect(),
        internet_by_reason: s
            .internet_by_reason
            .iter()
            .map(|(k, v)| (*k, v.bytes))
            .collect(),
        offered: s.calls.all.offered,
        blocked: s.calls.all.blocked,
        failed: s.calls.all.failed,
    }
}

fn versus(
    base: &Run,
    var: &Run,
    description: Option<String>,
) -> Result<VariantComparison, CompareError> {
    let per = |run: &Run, f: &dyn Fn(&Summary) -> f64| -> Vec<f64> {
        run.per_rep.iter().map(f).collect()
    };
    let both = |f: &dyn Fn(&Summary) -> f64, r: fn(f64) -> f64| -> Result<Delta, CiError> {
        delta(&per(base, f), &per(var, f), r)
    };

    let mut segments = BTreeMap::new();
    for seg in Segment::ALL {
        segments.insert(
            seg.key(),
            SegmentDelta {
                bytes: both(&|s| s.segments.get(seg).bytes, unit)?,
                mean_bps: both(&|s| s.segments.get(seg).mean_bps, unit)?,
                peak_bps: both(&|s| s.segments.get(seg).peak_bps, unit)?,
                p95_bps: both(&|s| s.segments.get(seg).p95_bps, unit)?,
            },
        );
    }

    let reason_bytes = |p: &Partial, r: Reason| p.segment_reason(Segment::Internet, r).bytes();
    let per_reason = |run: &Run, pick: &dyn Fn(Reason) -> bool| -> Vec<f64> {
        run.result
            .partials
            .iter()
            .map(|p| {
                Reason::ALL
                    .iter()
                    .filter(|r| pick(**r))
                    .map(|&r| reason_bytes(p, r))
                    .sum::<u64>() as f64
            })
            .collect()
    };
    let reason_delta = |pick: &dyn Fn(Reason) -> bool| {
        delta(&per_reason(base, pick), &per_reason(var, pick), unit)
    };
    let mut by_reason = BTreeMap::new();
    for r in Reason::ALL.into_iter().filter(|r| *r != Reason::Other) {
        by_reason.insert(r.word(), reason_delta(&|x| x == r)?);
    }
    let cannot_move = CannotMove {
        by_reason,
        total: reason_delta(&|x| x != Reason::Other)?,
        could_move: reason_delta(&|x| x == Reason::Other)?,
    };

    let links = links(base, var)?;
    let path_changed = path_changed(base, var)?;

    let mut calls = BTreeMap::new();
    let pick_calls = |kind: Option<CallKind>| {
        move |s: &Summary| -> CallSummary {
            match kind {
                Some(k) => s.calls.by_kind[k.word()].clone(),
                None => s.calls.all.clone(),
            }
        }
    };
    for kind in std::iter::once(None).chain(CallKind::ALL.into_iter().map(Some)) {
        let pick = pick_calls(kind);
        let o = |f: fn(&CallSummary) -> f64| both(&|s| f(&pick(s)), unit);
        calls.insert(
            kind.map_or("all", CallKind::word),
            OutcomeDelta {
                offered: o(|c| c.offered)?,
                completed: o(|c| c.completed)?,
                rerouted: o(|c| c.rerouted)?,
                blocked: o(|c| c.blocked)?,
                failed: o(|c| c.failed)?,
            },
        );
    }

    let mut quality = BTreeMap::new();
    for kind in CallKind::ALL {
        let mut figures = BTreeMap::new();
        for (name, metric) in call_metrics() {
            let values = |run: &Run| -> Option<Vec<f64>> {
                run.per_rep
                    .iter()
                    .map(|s| metric(&s.calls.by_kind[kind.word()]))
                    .collect()
            };
            if let (Some(b), Some(v)) = (values(base), values(var)) {
                let r: fn(f64) -> f64 = if name.ends_with("_share") {
                    ratio
                } else {
                    unit
                };
                figures.insert(name, delta(&b, &v, r)?);
            }
        }
        quality.insert(kind.word(), figures);
    }

    Ok(VariantComparison {
        name: var.name.clone(),
        description,
        figures: figures(var),
        same_workload: base.workload == var.workload,
        segments,
        cannot_move,
        links,
        path_changed,
        calls,
        quality,
    })
}

/// Links matched by name and direction; those that carried nothing and
/// kept their capacity in both runs are left out.
fn links(base: &Run, var: &Run) -> Result<Vec<LinkDelta>, CiError> {
    let key = |l: &crate::metrics::summary::LinkSummary| (l.name.clone(), l.direction.clone());
    let mut order: Vec<(String, String)> = base.result.summary.links.iter().map(key).collect();
    let in_base: BTreeSet<(String, String)> = order.iter().cloned().collect();
    order.extend(
        var.result
            .summary
            .links
            .iter()
            .map(key)
            .filter(|k| !in_base.contains(k)),
    );
    let index = |run: &Run| -> BTreeMap<(String, String), usize> {
        run.result
            .summary
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| (key(l), i))
            .collect()
    };
    let (bi, vi) = (index(base), index(var));
    let mut out = Vec::new();
    for k in order {
        let (b, v) = (bi.get(&k).copied(), vi.get(&k).copied());
        let values = |run: &Run, i: Option<usize>, f: &dyn Fn(f64, f64) -> f64| -> Vec<f64> {
            run.per_rep
                .iter()
                .map(|s| {
                    i.map_or(0.0, |i| {
                        let l = &s.links[i];
                        f(l.traffic.bytes, l.traffic.peak_bps)
                    })
                })
                .collect()
        };
        let bytes = delta(
            &values(base, b, &|x, _| x),
            &values(var, v, &|x, _| x),
            unit,
        )?;
        let peak = delta(
            &values(base, b, &|_, p| p),
            &values(var, v, &|_, p| p),
            unit,
        )?;
        let capacity =
            |run: &Run, i: Option<usize>| i.map_or(0, |i| run.result.summary.links[i].capacity_bps);
        let (bc, vc) = (capacity(base, b), capacity(var, v));
        if bytes.baseline == 0.0 && bytes.variant == 0.0 && bc == vc {
            continue;
        }
        let peak_utilization = match (b, v) {
            (Some(b), Some(v)) if bc > 0 && vc > 0 => {
                let u = |run: &Run, i: usize| -> Vec<f64> {
                    run.per_rep
                        .iter()
                        .map(|s| s.links[i].peak_utilization.unwrap_or(0.0))
                        .collect()
                };
                Some(delta(&u(base, b), &u(var, v), ratio)?)
            }
            _ => None,
        };
        out.push(LinkDelta {
            link: k.0,
            direction: k.1,
            present_in: match (b, v) {
                (Some(_), Some(_)) => "both",
                (Some(_), None) => "baseline",
                _ => "variant",
            },
            baseline_capacity_bps: bc,
            variant_capacity_bps: vc,
            bytes,
            peak_bps: peak,
            peak_utilization,
        });
    }
    Ok(out)
}

/// Calls per (kind, group names) and path label, in one replication.
type Cells = BTreeMap<(u8, [String; 2]), BTreeMap<PathLabel, u64>>;

fn cells(paths: &BTreeMap<PathKey, u64>, groups: &[String]) -> Cells {
    let name = |g: u32| groups.get(g as usize).cloned().unwrap_or_default();
    let mut out: Cells = BTreeMap::new();
    for (k, n) in paths {
        let cell = (k.kind, [name(k.groups[0]), name(k.groups[1])]);
        *out.entry(cell).or_default().entry(k.label).or_insert(0) += n;
    }
    out
}

/// Calls in a cell whose path differs: on common random numbers the same
/// calls fall in the same cell in both runs, and calls of a cell share
/// their endpoints, so the calls that cannot be matched to a call on the
/// same path in the other run changed path. Exact when each run puts a
/// cell's calls on one path (the usual case); never more than the truth
/// otherwise.
fn changed_in(b: Option<&BTreeMap<PathLabel, u64>>, v: Option<&BTreeMap<PathLabel, u64>>) -> u64 {
    let empty = BTreeMap::new();
    let (b, v) = (b.unwrap_or(&empty), v.unwrap_or(&empty));
    let total = |m: &BTreeMap<PathLabel, u64>| m.values().sum::<u64>();
    let overlap: u64 = b
        .iter()
        .map(|(label, n)| (*n).min(v.get(label).copied().unwrap_or(0)))
        .sum();
    total(b).max(total(v)) - overlap
}

fn path_changed(base: &Run, var: &Run) -> Result<PathChanged, CiError> {
    let mut per_kind: Vec<Vec<f64>> = vec![Vec::new(); CallKind::ALL.len()];
    // Per cell with changes: calls changed, and calls per label in each run.
    type Sides = (u64, BTreeMap<PathLabel, u64>, BTreeMap<PathLabel, u64>);
    let mut summed: BTreeMap<(u8, [String; 2]), Sides> = BTreeMap::new();
    for (bp, vp) in base.result.partials.iter().zip(&var.result.partials) {
        let (bc, vc) = (
            cells(bp.paths(), &base.groups),
            cells(vp.paths(), &var.groups),
        );
        let keys: BTreeSet<&(u8, [String; 2])> = bc.keys().chain(vc.keys()).collect();
        let mut changed = vec![0u64; CallKind::ALL.len()];
        for cell in keys {
            let n = changed_in(bc.get(cell), vc.get(cell));
            changed[usize::from(cell.0) % CallKind::ALL.len()] += n;
            if n > 0 {
                let entry = summed.entry(cell.clone()).or_default();
                entry.0 += n;
                for (label, k) in bc.get(cell).into_iter().flatten() {
                    *entry.1.entry(*label).or_insert(0) += k;
                }
                for (label, k) in vc.get(cell).into_iter().flatten() {
                    *entry.2.entry(*label).or_insert(0) += k;
                }
            }
        }
        for (i, n) in changed.into_iter().enumerate() {
            per_kind[i].push(n as f64);
        }
    }
    let all: Vec<f64> = (0..per_kind.first().map_or(0, Vec::len))
        .map(|r| per_kind.iter().map(|k| k[r]).sum())
        .collect();
    let mut by_kind = BTreeMap::new();
    for (i, kind) in CallKind::ALL.iter().enumerate() {
        by_kind.insert(kind.word(), count(&per_kind[i])?);
    }
    let labels = |m: &BTreeMap<PathLabel, u64>| -> BTreeMap<String, u64> {
        m.iter().map(|(l, n)| (l.describe(), *n)).collect()
    };
    let mut changes: Vec<PathChange> = summed
        .into_iter()
        .map(|((kind, groups), (changed, b, v))| PathChange {
            kind: CallKind::ALL[usize::from(kind) % CallKind::ALL.len()].word(),
            groups,
            changed,
            baseline: labels(&b),
            variant: labels(&v),
        })
        .collect();
    changes.sort_by(|a, b| {
        b.changed
            .cmp(&a.changed)
            .then_with(|| a.kind.cmp(b.kind))
            .then_with(|| a.groups.cmp(&b.groups))
    });
    changes.truncate(MAX_CHANGES);
    Ok(PathChanged {
        all: count(&all)?,
        by_kind,
        changes,
    })
}

/// The compare directory's manifest.
#[derive(Debug, Serialize)]
struct Manifest {
    schema: &'static str,
    callflow_version: &'static str,
    command: String,
    seed: u64,
    replications: u32,
    variants: Vec<String>,
    inputs: Vec<run::InputHash>,
    /// Each run's input digest, by run name.
    runs: BTreeMap<String, String>,
}

fn json<T: Serialize>(file: &str, value: &T) -> Result<Vec<u8>, CompareError> {
    let mut out = serde_json::to_vec_pretty(value).map_err(|e| CompareError::Write {
        file: file.to_string(),
        why: e.to_string(),
    })?;
    out.push(b'\n');
    Ok(out)
}

fn files(
    study: &Study,
    c: &Comparison,
    baseline: &Run,
    runs: &[Run],
) -> Result<Vec<(String, Vec<u8>)>, CompareError> {
    let base_req = RunRequest {
        seed: Some(c.seed),
        replications: Some(c.replications),
        ..RunRequest::default()
    };
    let base_manifest = run::manifest(study, &base_req, &study.scenario);
    let mut command = format!(
        "callflow compare {}",
        base_manifest
            .inputs
            .iter()
            .map(|i| i.path.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    );
    for v in &c.variants {
        let _ = write!(command, " --variant {}", v.name);
    }
    let _ = write!(
        command,
        " --seed {} --replications {}",
        c.seed, c.replications
    );
    let manifest = Manifest {
        schema: "callflow-compare-manifest/1",
        callflow_version: env!("CARGO_PKG_VERSION"),
        command,
        seed: c.seed,
        replications: c.replications,
        variants: c.variants.iter().map(|v| v.name.clone()).collect(),
        inputs: base_manifest.inputs,
        runs: std::iter::once(baseline)
            .chain(runs)
            .map(|r| (r.name.clone(), r.result.summary.run.inputs_digest.clone()))
            .collect(),
    };
    let mut files = vec![
        (
            "manifest.json".to_string(),
            json("manifest.json", &manifest)?,
        ),
        ("compare.json".to_string(), json("compare.json", c)?),
        ("compare.csv".to_string(), csv(c)?),
    ];
    for run in std::iter::once(baseline).chain(runs.iter().filter(|r| r.name != "baseline")) {
        for (name, bytes) in &run.result.files {
            files.push((format!("{}/{name}", run.name), bytes.clone()));
        }
    }
    Ok(files)
}

/// compare.csv: one row per variant and figure.
fn csv(c: &Comparison) -> Result<Vec<u8>, CompareError> {
    #[derive(Serialize)]
    struct Row<'a> {
        variant: &'a str,
        section: &'a str,
        item: String,
        figure: &'a str,
        baseline: f64,
        value: f64,
        difference: f64,
        half_width: Option<f64>,
        significant: bool,
    }
    let mut rows = Vec::new();
    for v in &c.variants {
        let mut push = |section: &'static str, item: String, figure: &'static str, d: &Delta| {
            rows.push(Row {
                variant: &v.name,
                section,
                item,
                figure,
                baseline: d.baseline,
                value: d.variant,
                difference: d.difference,
                half_width: d.half_width,
                significant: d.significant,
            });
        };
        for (seg, d) in &v.segments {
            push("segment", seg.to_string(), "bytes", &d.bytes);
            push("segment", seg.to_string(), "mean_bps", &d.mean_bps);
            push("segment", seg.to_string(), "peak_bps", &d.peak_bps);
            push("segment", seg.to_string(), "p95_bps", &d.p95_bps);
        }
        for (r, d) in &v.cannot_move.by_reason {
            push("cannot-move", r.to_string(), "internet_bytes", d);
        }
        push(
            "cannot-move",
            "total".into(),
            "internet_bytes",
            &v.cannot_move.total,
        );
        push(
            "could-move",
            "other".into(),
            "internet_bytes",
            &v.cannot_move.could_move,
        );
        for l in &v.links {
            let item = format!("{} {}", l.link, l.direction);
            push("link", item.clone(), "bytes", &l.bytes);
            push("link", item.clone(), "peak_bps", &l.peak_bps);
            if let Some(u) = &l.peak_utilization {
                push("link", item, "peak_utilization", u);
            }
        }
        for (kind, o) in &v.calls {
            push("calls", kind.to_string(), "offered", &o.offered);
            push("calls", kind.to_string(), "completed", &o.completed);
            push("calls", kind.to_string(), "rerouted", &o.rerouted);
            push("calls", kind.to_string(), "blocked", &o.blocked);
            push("calls", kind.to_string(), "failed", &o.failed);
        }
        for (kind, figures) in &v.quality {
            for (figure, d) in figures {
                push("quality", kind.to_string(), figure, d);
            }
        }
        let changed = |n: &Count| Delta {
            baseline: 0.0,
            variant: n.mean,
            difference: n.mean,
            half_width: n.half_width,
            significant: n.half_width.is_some_and(|h| n.mean.abs() > h),
        };
        for (kind, n) in &v.path_changed.by_kind {
            push("path-changed", kind.to_string(), "calls", &changed(n));
        }
        push(
            "path-changed",
            "all".into(),
            "calls",
            &changed(&v.path_changed.all),
        );
    }
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row).map_err(|e| CompareError::Write {
            file: "compare.csv".into(),
            why: e.to_string(),
        })?;
    }
    w.into_inner().map_err(|e| CompareError::Write {
        file: "compare.csv".into(),
        why: e.to_string(),
    })
}

/// The terminal table: per variant, what moved and what it changed.
pub fn terminal_table(c: &Comparison) -> String {
    let mut out = String::new();
    let pm = |d: &Delta, scale: f64| match d.half_width {
        Some(h) => format!("{:+.3} ± {:.3}", d.difference / scale, h / scale),
        None => format!("{:+.3}", d.difference / scale),
    };
    let _ = writeln!(
        out,
        "{} / {}: baseline against {} variant{}, {} replication{} each on common random numbers (seed {})",
        c.topology,
        c.scenario,
        c.variants.len(),
        if c.variants.len() == 1 { "" } else { "s" },
        c.replications,
        if c.replications == 1 { "" } else { "s" },
        c.seed
    );
    for v in &c.variants {
        let _ = writeln!(
            out,
            "\n{}{}{}",
            v.name,
            v.description
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default(),
            if v.same_workload {
                ""
            } else {
                "  (its workload differs: differences include other calls)"
            }
        );
        let _ = writeln!(
            out,
            "  segment        baseline GB  variant GB   change GB (95% CI)"
        );
        for seg in Segment::ALL {
            let d = &v.segments[seg.key()].bytes;
            let _ = writeln!(
                out,
                "  {:<12} {:>12.3} {:>11.3}   {}{}",
                seg.key(),
                d.baseline / 1e9,
                d.variant / 1e9,
                pm(d, 1e9),
                if d.significant { " *" } else { "" }
            );
        }
        let _ = writeln!(
            out,
            "  Internet that cannot move (GB, variant): {:.3}",
            v.cannot_move.total.variant / 1e9
        );
        for (r, d) in &v.cannot_move.by_reason {
            if d.baseline != 0.0 || d.variant != 0.0 {
                let _ = writeln!(
                    out,
                    "    {:<22} {:>10.3}  change {}",
                    r,
                    d.variant / 1e9,
                    pm(d, 1e9)
                );
            }
        }
        let _ = writeln!(
            out,
            "  calls whose path changed: {:.1} per replication",
            v.path_changed.all.mean
        );
        let all = &v.calls["all"];
        let _ = writeln!(
            out,
            "  blocked {}  failed {}  rerouted {}",
            pm(&all.blocked, 1.0),
            pm(&all.failed, 1.0),
            pm(&all.rerouted, 1.0)
        );
        let mut links: Vec<(&LinkDelta, &Delta)> = v
            .links
            .iter()
            .filter_map(|l| l.peak_utilization.as_ref().map(|u| (l, u)))
            .filter(|(_, u)| u.difference != 0.0)
            .collect();
        links.sort_by(|a, b| {
            b.1.difference
                .abs()
                .total_cmp(&a.1.difference.abs())
                .then_with(|| a.0.link.cmp(&b.0.link))
                .then_with(|| a.0.direction.cmp(&b.0.direction))
        });
        if !links.is_empty() {
            let _ = writeln!(out, "  peak utilization changes");
        }
        for (l, u) in links.iter().take(5) {
            let _ = writeln!(
                out,
                "    {:<22} {:<34} {:>6.1}% -> {:>6.1}%",
                l.link,
                l.direction,
                u.baseline * 100.0,
                u.variant * 100.0
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::{CallOutcome, MediaPath, MediaPathKind};

    fn label(segments: u8, outcome: CallOutcome) -> PathLabel {
        let media = MediaPath {
            kind: MediaPathKind::Relay,
            tcp: false,
        };
        PathLabel::new(segments, Some(media), &outcome)
    }

    #[test]
    fn calls_that_cannot_be_matched_on_the_same_path_changed() {
        let er = label(0b1101, CallOutcome::Completed);
        let inet = label(0b1011, CallOutcome::Completed);
        let b = BTreeMap::from([(er, 7), (inet, 3)]);
        let v = BTreeMap::from([(inet, 10)]);
        assert_eq!(changed_in(Some(&b), Some(&v)), 7);
        assert_eq!(changed_in(Some(&b), Some(&b)), 0);
        // A cell only one run has: all of its calls changed.
        assert_eq!(changed_in(Some(&b), None), 10);
        assert_eq!(changed_in(None, Some(&v)), 10);
        assert_eq!(
            er.describe(),
            "customer+expressroute+microsoft relay/udp completed"
        );
    }

    #[test]
    fn a_paired_delta_of_equal_runs_is_zero_with_zero_width() {
        let d = delta(&[1.0, 5.0, 9.0], &[1.0, 5.0, 9.0], unit).unwrap();
        assert_eq!(
            (d.difference, d.half_width, d.significant),
            (0.0, Some(0.0), false)
        );
        let d = delta(&[10.0, 30.0], &[12.0, 32.5], unit).unwrap();
        assert_eq!((d.baseline, d.variant, d.difference), (20.0, 22.25, 2.25));
        assert!(d.half_width.unwrap() > 0.0);
    }
}
