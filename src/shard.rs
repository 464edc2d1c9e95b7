//! Sharded runs: `callflow run --shard I/N`, `callflow merge` and the job
//! lists of `callflow sweep`.
//!
//! Owns how a run's work is split into shards, the partial results
//! directory a shard writes, the checks a merge makes before it trusts a
//! set of parts, and the expansion of a sweep into one command line per
//! shard. Leaves out simulation ([`crate::engine`]), summaries
//! ([`crate::metrics`]) and the files of a results directory
//! ([`crate::run::finish`], which a merge calls exactly as a run does, so
//! every file a run writes, now or later, comes out of a merge too).
//!
//! # How a run splits
//!
//! A run is one (variant, seed) with `R` replications. With `N ≤ R` shards,
//! shard `i` runs the replications `r` with `r mod N = i` (round robin, so
//! shards differ by at most one replication). A replication's result
//! depends only on (inputs, seed, replication), so this split is exact.
//!
//! With `N > R`, each shard runs every replication for a share of the user
//! groups that place calls (groups at other organizations place none). A
//! call belongs to the shard of the group that places it: the caller of a
//! two-party or PSTN call, the organizer of a meeting, the attendee of a
//! broadcast; its other parties (any group) take part in that shard. Groups
//! are dealt largest first to the shard with the fewest users so far (ties:
//! lower group index, lower shard index). A shard runs the scenario with the
//! other groups' call rates set to zero: they still answer calls and join
//! meetings, they place none. Every (group, kind) arrival process draws from
//! random sub-streams of its own (see [`crate::engine::workload`]), so a
//! group's calls are the same whichever other groups run beside it, and the
//! recorder only adds exact integers, so the shards' partials of a
//! replication sum to the unsharded one, bit for bit — as long as no call
//! can change what happens to another.
//!
//! In this model one call changes another's fate only through a shared
//! link's load while the run is going on. *Capacity-limited* means exactly
//! that: a link whose load the simulation consults while it runs. A link
//! with an SfB bandwidth policy is one (call admission control admits,
//! reroutes or blocks a call by the audio and video already on it); and,
//! since every call's predicted quality includes the queueing delay its
//! links' current load causes (docs/quality.md), so is every link with a
//! capacity that calls of two shards can cross. Peer-to-peer callees and
//! meeting participants come from every group of the tenant, and every
//! call reaches Microsoft's services, so a split by groups is refused,
//! naming the link ([`coupling_link`]), whenever at least two shards place
//! calls. Replications and variants split exactly in every case.
//!
//! # Partial results directory
//!
//! A shard writes a directory, whole or not at all, holding `partial.json`
//! ([`PartFile`]: format, callflow version, input digest and fingerprints,
//! variant, seed, replications, shard `I/N`, how the run was split, the work
//! done, and the serialized [`Partial`] of each replication run) and
//! `manifest.json`, the manifest of the whole run. A merge reads the parts,
//! checks they belong together, re-reads the input files the manifest names
//! (paths relative to the merge's working directory, fingerprints checked),
//! and produces the results directory with [`crate::run::finish`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::engine::{self, RunOptions};
use crate::metrics::Partial;
use crate::model::{GroupId, LinkId, Place, Rates, Scenario, Segment, Topology};
use crate::run::{self, Manifest, RunError, RunRequest, RunResult};
use crate::validate::{self, LoadError, Study};

/// The format of `partial.json`; a merge refuses any other.
pub const PART_SCHEMA: &str = "callflow-partial-results/1";

/// The name of a part's main file.
pub const PART_FILE: &str = "partial.json";

/// One shard of `count`: `index` counts from 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    /// Which shard, from 0.
    pub index: u32,
    /// How many shards.
    pub count: u32,
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    /// `I/N` with `0 ≤ I < N`.
    fn from_str(text: &str) -> Result<Shard, ShardError> {
        let bad = || ShardError::Spec(format!("--shard {text:?} is not I/N (say 0/4)"));
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        Shard::new(index, count)
    }
}

impl Shard {
    /// Shard `index` of `count`, checked.
    pub fn new(index: u32, count: u32) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError::Spec(
                "the shard count must be at least 1".into(),
            ));
        }
        if index >= count {
            return Err(ShardError::Spec(format!(
                "shard index {index} is not below the shard count {count} (indices run from 0 to {})",
                count - 1
            )));
        }
        Ok(Shard { index, count })
    }

    /// The shard a job array's task is, from its environment (`var` reads
    /// a variable), with `count` from `--shards`.
    ///
    /// - Slurm: index = (`SLURM_ARRAY_TASK_ID` − `SLURM_ARRAY_TASK_MIN`) /
    ///   `SLURM_ARRAY_TASK_STEP` (minimum 0 and step 1 when unset), so
    ///   `--array=0-7` and `--array=1-8` both give shards 0 to 7; count =
    ///   `SLURM_ARRAY_TASK_COUNT`, which must agree with `count` if both are
    ///   given.
    /// - Kubernetes Indexed Job: index = `JOB_COMPLETION_INDEX` (from 0);
    ///   the count is not in the environment, so `count` is required (the
    ///   Job's `completions`).
    pub fn from_env(
        var: impl Fn(&str) -> Option<String>,
        count: Option<u32>,
    ) -> Result<Shard, ShardError> {
        let number =
            |name: &str| -> Result<Option<u32>, ShardError> {
                match var(name) {
                    None => Ok(None),
                    Some(v) if v.trim().is_empty() => Ok(None),
                    Some(v) => v.trim().parse().map(Some).map_err(|_| {
                        ShardError::Spec(format!("{name}={v:?} is not a whole number"))
                    }),
                }
            };
        if let Some(id) = number("SLURM_ARRAY_TASK_ID")? {
            let min = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(0);
            let step = number("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1).max(1);
            if id < min || (id - min) % step != 0 {
                return Err(ShardError::Spec(format!(
                    "SLURM_ARRAY_TASK_ID={id} is not in the array starting at SLURM_ARRAY_TASK_MIN={min} with step {step}"
                )));
            }
            let index = (id - min) / step;
            let env_count = number("SLURM_ARRAY_TASK_COUNT")?;
            let count = match (env_count, count) {
                (Some(a), Some(b)) if a != b => {
                    return Err(ShardError::Spec(format!(
                        "SLURM_ARRAY_TASK_COUNT={a} but --shards {b}: the array must have one task per shard"
                    )));
                }
                (Some(a), _) | (None, Some(a)) => a,
                (None, None) => {
                    return Err(ShardError::Spec(
                        "SLURM_ARRAY_TASK_COUNT is not set: pass --shards N".into(),
                    ));
                }
            };
            return Shard::new(index, count);
        }
        if let Some(index) = number("JOB_COMPLETION_INDEX")? {
            let count = count.ok_or_else(|| {
                ShardError::Spec(
                    "JOB_COMPLETION_INDEX gives the index only: pass --shards N (the Job's completions)"
                        .into(),
                )
            })?;
            return Shard::new(index, count);
        }
        Err(ShardError::Spec(
            "--shard auto needs SLURM_ARRAY_TASK_ID (a Slurm job array) or JOB_COMPLETION_INDEX (a Kubernetes Indexed Job) in the environment"
                .into(),
        ))
    }
}

/// How a run is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Split {
    /// Each shard runs some replications whole.
    Replications,
    /// Each shard runs every replication for some of the calling groups.
    Groups,
}

impl Split {
    /// The word used in `partial.json` and messages.
    pub fn word(self) -> &'static str {
        match self {
            Split::Replications => "replications",
            Split::Groups => "groups",
        }
    }
}

/// One shard's share of a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Work {
    /// How the run is split.
    pub split: Split,
    /// The replications this shard runs.
    pub replications: Vec<u32>,
    /// For a split by groups, the groups whose calls this shard places, in
    /// index order (empty otherwise).
    pub groups: Vec<GroupId>,
}

/// Why a shard cannot run.
#[derive(Debug, thiserror::Error)]
pub enum ShardError {
    /// A bad `--shard`, `--shards` or job-array environment.
    #[error("{0}")]
    Spec(String),
    /// A split by groups would not be exact.
    #[error(
        "cannot split {replications} replication{s} into {shards} shards by user groups: link \"{link}\" {why}, and calls placed by groups in different shards can share it, so one shard's calls would change what happens to another's; use at most {replications} shard{s} (one or more replications each) or more replications",
        s = if *.replications == 1 { "" } else { "s" }
    )]
    Coupled {
        /// The link that couples the shards.
        link: String,
        /// What the simulation reads of it while it runs.
        why: &'static str,
        /// The run's replications.
        replications: u32,
        /// The shards asked for.
        shards: u32,
    },
    /// The run itself failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// `partial.json` could not be produced.
    #[error("writing {PART_FILE}: {0}")]
    Write(String),
}

impl ShardError {
    /// Whether the input (arguments, files) is at fault rather than the run.
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            ShardError::Spec(_)
                | ShardError::Coupled { .. }
                | ShardError::Run(RunError::NoVariant(_))
        )
    }
}

/// The first link that makes a split by groups inexact, if any, and what
/// the simulation reads of it while it runs (see the module docs): a link
/// with a bandwidth policy (call admission control) first, as the coupling
/// that changes calls' outcomes; else a link of the Microsoft network, whose
/// load every call's predicted quality reads (every call of the tenant
/// signals to or relays through Microsoft's services).
pub fn coupling_link(t: &Topology) -> Option<(LinkId, &'static str)> {
    let cac = t
        .links()
        .find(|&l| t.link(l).bandwidth_policy.is_some())
        .map(|l| (l, "has a bandwidth policy (call admission control)"));
    cac.or_else(|| {
        t.links()
            .find(|&l| t.link(l).segment == Segment::Microsoft)
            .map(|l| {
                (
                    l,
                    "has a capacity whose load sets the queueing delay, and so the predicted quality, of every call crossing it",
                )
            })
    })
}

/// Whether a group places calls: it is the tenant's and its persona has a
/// positive rate of some kind.
fn places_calls(s: &Scenario, g: GroupId) -> bool {
    let group = s.group(g);
    let r = s.persona(group.persona).rates;
    !matches!(group.place, Place::Organization(_))
        && [r.peer_to_peer, r.meetings, r.pstn, r.federated, r.broadcast]
            .iter()
            .any(|&x| x > 0.0)
}

/// Shard `shard`'s share of a run of `s` on `t` (see the module docs).
pub fn plan(t: &Topology, s: &Scenario, shard: Shard) -> Result<Work, ShardError> {
    let r = s.replications;
    if shard.count <= r {
        return Ok(Work {
            split: Split::Replications,
            replications: (0..r).filter(|x| x % shard.count == shard.index).collect(),
            groups: vec![],
        });
    }
    let owners = group_owners(s, shard.count);
    let busy = owners
        .iter()
        .flatten()
        .collect::<std::collections::BTreeSet<_>>();
    if busy.len() > 1
        && let Some((link, why)) = coupling_link(t)
    {
        return Err(ShardError::Coupled {
            link: t.link(link).name.clone(),
            why,
            replications: r,
            shards: shard.count,
        });
    }
    Ok(Work {
        split: Split::Groups,
        replications: (0..r).collect(),
        groups: s
            .group_ids()
            .filter(|g| owners[g.0 as usize] == Some(shard.index))
            .collect(),
    })
}

/// The shard of each group (`None`: it places no calls): largest first to
/// the shard with the fewest users so far.
fn group_owners(s: &Scenario, count: u32) -> Vec<Option<u32>> {
    let mut callers: Vec<GroupId> = s.group_ids().filter(|&g| places_calls(s, g)).collect();
    callers.sort_by_key(|&g| (std::cmp::Reverse(s.group(g).count), g.0));
    let mut load = vec![0u64; count as usize];
    let mut owners = vec![None; s.groups.len()];
    for g in callers {
        let (i, _) = load
            .iter()
            .enumerate()
            .min_by_key(|&(i, users)| (*users, i))
            .expect("at least one shard");
        load[i] += u64::from(s.group(g).count);
        owners[g.0 as usize] = Some(i as u32);
    }
    owners
}

/// `s` with every group outside `keep` placing no calls (they still take
/// part in calls placed by others): each such group gets a copy of its
/// persona with all rates zero, added after the scenario's own personas.
fn only_callers(s: &Scenario, keep: &[GroupId]) -> Scenario {
    let mut out = s.clone();
    for g in s.group_ids() {
        if keep.contains(&g) || !places_calls(s, g) {
            continue;
        }
        let mut quiet = s.persona(s.group(g).persona).clone();
        quiet.rates = Rates {
            peer_to_peer: 0.0,
            meetings: 0.0,
            pstn: 0.0,
            federated: 0.0,
            broadcast: 0.0,
        };
        out.personas.push(quiet);
        let id = out.personas.len() - 1;
        out.groups[g.0 as usize].persona.0 = id as _;
    }
    out
}

/// One input file's fingerprint, as in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartInput {
    /// The path as given.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
}

/// The work a part did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartWork {
    /// The replications run.
    pub replications: Vec<u32>,
    /// For a split by groups, the names of the groups whose calls it placed.
    pub groups: Vec<String>,
}

/// `partial.json`: everything a merge needs from one shard.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartFile {
    /// [`PART_SCHEMA`].
    pub schema: String,
    /// The callflow version that wrote it.
    pub callflow_version: String,
    /// The input digest (the manifest's), also stamped on every partial.
    pub digest: String,
    /// The whole run's canonical command (the manifest's).
    pub command: String,
    /// The input files' fingerprints.
    pub inputs: Vec<PartInput>,
    /// The variant run.
    pub variant: String,
    /// The master seed.
    pub seed: u64,
    /// The whole run's replications.
    pub replications: u32,
    /// Which shard this is.
    pub shard: Shard,
    /// How the run was split.
    pub split: Split,
    /// What this shard ran.
    pub work: PartWork,
    /// One partial per replication run, in replication order.
    pub partials: Vec<Partial>,
}

/// What a shard produced.
#[derive(Debug)]
pub struct ShardRun {
    /// The shard's share.
    pub work: Work,
    /// The part directory's files: `partial.json`, `manifest.json`.
    pub files: Vec<(String, Vec<u8>)>,
}

/// Runs one shard of a request: the part directory's files.
pub fn run_shard(study: &Study, req: &RunRequest, shard: Shard) -> Result<ShardRun, ShardError> {
    let (t, s) = run::models(study, req)?;
    let manifest = run::manifest(study, req, &s);
    let work = plan(t, &s, shard)?;
    let scenario = match work.split {
        Split::Replications => s.clone(),
        Split::Groups => only_callers(&s, &work.groups),
    };
    let opts = RunOptions {
        jobs: req.jobs,
        progress: req.progress,
        replications: Some(work.replications.clone()),
        digest: manifest.digest.clone(),
    };
    let out = engine::run(t, &scenario, &opts).map_err(RunError::from)?;
    let part = PartFile {
        schema: PART_SCHEMA.into(),
        callflow_version: manifest.callflow_version.into(),
        digest: manifest.digest.clone(),
        command: manifest.command.clone(),
        inputs: manifest
            .inputs
            .iter()
            .map(|i| PartInput {
                path: i.path.clone(),
                bytes: i.bytes,
                sha256: i.sha256.clone(),
            })
            .collect(),
        variant: manifest.variant.clone(),
        seed: manifest.seed,
        replications: manifest.replications,
        shard,
        split: work.split,
        work: PartWork {
            replications: work.replications.clone(),
            groups: work
                .groups
                .iter()
                .map(|&g| s.group(g).name.clone())
                .collect(),
        },
        partials: out.partials,
    };
    // Compact: a partial holds every bin of every link, and indentation
    // would triple its size.
    let mut part_json = serde_json::to_vec(&part).map_err(|e| ShardError::Write(e.to_string()))?;
    part_json.push(b'\n');
    let files = vec![
        (PART_FILE.to_string(), part_json),
        ("manifest.json".to_string(), pretty(&manifest)?),
    ];
    Ok(ShardRun { work, files })
}

/// Pretty JSON with a final newline, as the results directory's manifest.
fn pretty<T: Serialize>(value: &T) -> Result<Vec<u8>, ShardError> {
    let mut out = serde_json::to_vec_pretty(value).map_err(|e| ShardError::Write(e.to_string()))?;
    out.push(b'\n');
    Ok(out)
}

/// Why parts do not merge. Every variant but [`MergeError::Run`] is a
/// problem with the parts or inputs given (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    /// No part was given.
    #[error("no parts to merge")]
    NoParts,
    /// A part could not be read.
    #[error("cannot read part {path}: {why}")]
    Read {
        /// The part's directory.
        path: String,
        /// Why.
        why: String,
    },
    /// A part is not one this build wrote.
    #[error("part {path} was written by callflow {found}; this is callflow {ours}: rerun it")]
    Version {
        /// The part's directory.
        path: String,
        /// The version that wrote it.
        found: String,
        /// This build's.
        ours: String,
    },
    /// Two parts of different runs.
    #[error("part {path} is not of the same run as part {first}: its {what} {theirs}, not {ours}")]
    Mismatch {
        /// The part that differs.
        path: String,
        /// The first part given.
        first: String,
        /// What differs, with its verb (`inputs are`, `seed is`, …).
        what: &'static str,
        /// The first part's value.
        ours: String,
        /// This part's value.
        theirs: String,
    },
    /// The same shard twice.
    #[error("shard {index}/{count} is given twice: {first} and {second}")]
    Duplicate {
        /// The shard index.
        index: u32,
        /// The shard count.
        count: u32,
        /// One part.
        first: String,
        /// The other.
        second: String,
    },
    /// A shard is missing.
    #[error("shard {index}/{count} is missing; run it alone with:\n  {rerun}")]
    Missing {
        /// The shard index.
        index: u32,
        /// The shard count.
        count: u32,
        /// The command that produces it.
        rerun: String,
    },
    /// An input file changed since the shards ran.
    #[error(
        "input {path} has changed since the shards ran (SHA-256 {expected} then, {found} now): merge with the inputs they ran on"
    )]
    InputChanged {
        /// The input's path.
        path: String,
        /// Its fingerprint in the parts.
        expected: String,
        /// Its fingerprint now.
        found: String,
    },
    /// The inputs could not be loaded again.
    #[error("reloading the inputs: {0}")]
    Load(#[from] LoadError),
    /// The parts' contents do not add up.
    #[error("part {path}: {why}")]
    Content {
        /// The part.
        path: String,
        /// What is wrong.
        why: String,
    },
    /// Producing the results failed.
    #[error(transparent)]
    Run(#[from] RunError),
}

/// A part read from disk.
#[derive(Debug)]
pub struct Part {
    /// Its directory, as given.
    pub path: String,
    /// Its `partial.json`.
    pub file: PartFile,
}

/// Reads a part directory.
pub fn read_part(dir: &Path) -> Result<Part, MergeError> {
    let path = dir.display().to_string();
    let read = |why: String| MergeError::Read {
        path: path.clone(),
        why,
    };
    let bytes =
        std::fs::read(dir.join(PART_FILE)).map_err(|e| read(format!("{PART_FILE}: {e}")))?;
    // The schema and version first, so a part of another build is named as
    // such rather than as a field this build does not know.
    let head: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| read(format!("{PART_FILE}: {e}")))?;
    let field = |name: &str| head.get(name).and_then(|v| v.as_str()).unwrap_or("?");
    if field("schema") != PART_SCHEMA {
        return Err(read(format!(
            "{PART_FILE} has format {:?}, not {PART_SCHEMA:?}",
            field("schema")
        )));
    }
    let ours = env!("CARGO_PKG_VERSION");
    if field("callflow_version") != ours {
        return Err(MergeError::Version {
            path,
            found: field("callflow_version").to_string(),
            ours: ours.to_string(),
        });
    }
    let file: PartFile =
        serde_json::from_value(head).map_err(|e| read(format!("{PART_FILE}: {e}")))?;
    Shard::new(file.shard.index, file.shard.count).map_err(|e| read(e.to_string()))?;
    Ok(Part { path, file })
}

/// The merged run: its manifest's request and result.
#[derive(Debug)]
pub struct Merged {
    /// The request the parts were shards of.
    pub request: RunRequest,
    /// The results, as `callflow run` would have produced them.
    pub result: RunResult,
}

/// Merges part directories into the whole run's results (see the module
/// docs for the checks made).
pub fn merge(dirs: &[PathBuf]) -> Result<Merged, MergeError> {
    let parts = dirs
        .iter()
        .map(|d| read_part(d))
        .collect::<Result<Vec<_>, _>>()?;
    let first = parts.first().ok_or(MergeError::NoParts)?;
    let f = &first.file;
    for p in &parts[1..] {
        let g = &p.file;
        let mismatch = |what: &'static str, ours: String, theirs: String| {
            (ours != theirs).then(|| MergeError::Mismatch {
                path: p.path.clone(),
                first: first.path.clone(),
                what,
                ours,
                theirs,
            })
        };
        let inputs = |i: &[PartInput]| {
            i.iter()
                .map(|x| format!("{} (SHA-256 {})", x.path, x.sha256))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let checks = [
            mismatch("inputs are", inputs(&f.inputs), inputs(&g.inputs)),
            mismatch("variant is", f.variant.clone(), g.variant.clone()),
            mismatch("seed is", f.seed.to_string(), g.seed.to_string()),
            mismatch(
                "number of replications is",
                f.replications.to_string(),
                g.replications.to_string(),
            ),
            mismatch(
                "shard count is",
                f.shard.count.to_string(),
                g.shard.count.to_string(),
            ),
            mismatch("split is", f.split.word().into(), g.split.word().into()),
            mismatch("input digest is", f.digest.clone(), g.digest.clone()),
        ];
        if let Some(e) = checks.into_iter().flatten().next() {
            return Err(e);
        }
    }
    let count = f.shard.count;
    let mut by_index: Vec<Option<&Part>> = vec![None; count as usize];
    for p in &parts {
        let slot = &mut by_index[p.file.shard.index as usize];
        if let Some(other) = slot {
            return Err(MergeError::Duplicate {
                index: p.file.shard.index,
                count,
                first: other.path.clone(),
                second: p.path.clone(),
            });
        }
        *slot = Some(p);
    }
    if let Some(index) = by_index.iter().position(Option::is_none) {
        return Err(MergeError::Missing {
            index: index as u32,
            count,
            rerun: rerun_command(first, index as u32),
        });
    }

    // Reload the inputs the parts name, refusing any that changed.
    let [topology, scenario] = match f.inputs.as_slice() {
        [t, s] => [t, s],
        other => {
            return Err(MergeError::Content {
                path: first.path.clone(),
                why: format!(
                    "names {} input files, not a topology and a scenario",
                    other.len()
                ),
            });
        }
    };
    let study = validate::load_study(Path::new(&topology.path), Path::new(&scenario.path))?;
    let request = RunRequest {
        variant: Some(f.variant.clone()),
        seed: Some(f.seed),
        replications: Some(f.replications),
        jobs: None,
        progress: false,
    };
    let (t, s) = run::models(&study, &request).map_err(|e| MergeError::Content {
        path: first.path.clone(),
        why: e.to_string(),
    })?;
    let manifest = run::manifest(&study, &request, &s);
    for (then, now) in f.inputs.iter().zip(&manifest.inputs) {
        if then.sha256 != now.sha256 {
            return Err(MergeError::InputChanged {
                path: then.path.clone(),
                expected: then.sha256.clone(),
                found: now.sha256.clone(),
            });
        }
    }
    check_manifest(first, &manifest)?;

    let partials = combine(&parts, f.replications)?;
    let result = run::finish(t, &s, &manifest, partials, vec![])?;
    Ok(Merged { request, result })
}

/// The command that produces shard `index` again, from `part`'s.
fn rerun_command(part: &Part, index: u32) -> String {
    let dir = Path::new(&part.path);
    let theirs = format!("part-{}", part.file.shard.index);
    let out = match dir.file_name() {
        Some(name) if name.to_string_lossy() == theirs => dir
            .with_file_name(format!("part-{index}"))
            .display()
            .to_string(),
        _ => "<a new directory>".to_string(),
    };
    format!(
        "{} --shard {index}/{} --out {}",
        part.file.command,
        part.file.shard.count,
        quote(&out)
    )
}

fn check_manifest(part: &Part, manifest: &Manifest) -> Result<(), MergeError> {
    if part.file.digest != manifest.digest {
        return Err(MergeError::Content {
            path: part.path.clone(),
            why: format!(
                "its input digest {} is not {} (the inputs as they are now)",
                part.file.digest, manifest.digest
            ),
        });
    }
    Ok(())
}

/// One partial per replication: a split by replications concatenates, a
/// split by groups adds the shards of each replication.
fn combine(parts: &[Part], replications: u32) -> Result<Vec<Partial>, MergeError> {
    let mut merged: Vec<Option<Partial>> = vec![None; replications as usize];
    for p in parts {
        let content = |why: String| MergeError::Content {
            path: p.path.clone(),
            why,
        };
        let ran: Vec<u32> = p.file.partials.iter().map(|x| x.replication).collect();
        if ran != p.file.work.replications {
            return Err(content(format!(
                "holds replications {ran:?} but says it ran {:?}",
                p.file.work.replications
            )));
        }
        for partial in &p.file.partials {
            let slot = merged
                .get_mut(partial.replication as usize)
                .ok_or_else(|| {
                    content(format!(
                        "replication {} is out of range",
                        partial.replication
                    ))
                })?;
            match (slot.as_mut(), p.file.split) {
                (None, _) => *slot = Some(partial.clone()),
                (Some(whole), Split::Groups) => {
                    whole.merge(partial).map_err(|e| content(e.to_string()))?
                }
                (Some(_), Split::Replications) => {
                    return Err(content(format!(
                        "replication {} is in another part too",
                        partial.replication
                    )));
                }
            }
        }
    }
    merged
        .into_iter()
        .enumerate()
        .map(|(r, p)| {
            p.ok_or_else(|| MergeError::Content {
                path: parts[0].path.clone(),
                why: format!("no part holds replication {r}"),
            })
        })
        .collect()
}

/// A word for a shell command line, quoted when it needs to be.
pub fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// One run of a sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepRun {
    /// The variant (`baseline` for the scenario as written).
    pub variant: String,
    /// The seed.
    pub seed: u64,
    /// Where its parts go: `<root>/<variant>/seed-<seed>`.
    pub dir: PathBuf,
}

/// A sweep expanded: its runs, one command per shard, one merge per run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SweepPlan {
    /// The runs, variants outer, seeds inner.
    pub runs: Vec<SweepRun>,
    /// One `callflow run … --shard I/N` line per shard of every run.
    pub jobs: Vec<String>,
    /// One `callflow merge …` line per run.
    pub merges: Vec<String>,
}

/// Expands a study's sweep (or, without one, the baseline with the
/// scenario's seed) into shard jobs and merges. Checks every job's split
/// first, so a split that would not be exact is refused before anything
/// runs.
pub fn sweep(
    study: &Study,
    topology: &Path,
    scenario: &Path,
    shards: u32,
    replications: Option<u32>,
    root: &Path,
) -> Result<SweepPlan, ShardError> {
    let (variants, seeds) = match &study.scenario.sweep {
        Some(sw) => (sw.variants.clone(), sw.seeds.clone()),
        None => (vec!["baseline".to_string()], vec![study.scenario.seed]),
    };
    Shard::new(0, shards)?;
    let inputs = format!(
        "{} {}",
        quote(&topology.display().to_string()),
        quote(&scenario.display().to_string())
    );
    let mut out = SweepPlan {
        runs: vec![],
        jobs: vec![],
        merges: vec![],
    };
    for variant in &variants {
        for &seed in &seeds {
            let req = RunRequest {
                variant: Some(variant.clone()),
                seed: Some(seed),
                replications,
                jobs: None,
                progress: false,
            };
            let (t, s) = run::models(study, &req)?;
            for index in 0..shards {
                plan(
                    t,
                    &s,
                    Shard {
                        index,
                        count: shards,
                    },
                )?;
            }
            let dir = root.join(variant).join(format!("seed-{seed}"));
            let mut common = format!(
                "callflow run {inputs} --variant {} --seed {seed}",
                quote(variant)
            );
            if let Some(r) = replications {
                let _ = write!(common, " --replications {r}");
            }
            let mut parts = Vec::new();
            for index in 0..shards {
                let part = dir.join(format!("part-{index}")).display().to_string();
                out.jobs.push(format!(
                    "{common} --shard {index}/{shards} --quiet --out {}",
                    quote(&part)
                ));
                parts.push(quote(&part));
            }
            out.merges.push(format!(
                "callflow merge {} --quiet --out {}",
                parts.join(" "),
                quote(&dir.join("results").display().to_string())
            ));
            out.runs.push(SweepRun {
                variant: variant.clone(),
                seed,
                dir,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: BTreeMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn shard_specs_parse_and_check_their_range() {
        assert_eq!(
            "2/7".parse::<Shard>().unwrap(),
            Shard { index: 2, count: 7 }
        );
        for bad in ["7/7", "1/0", "x/3", "3", "-1/3", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn slurm_arrays_starting_at_zero_or_one_give_the_same_shards() {
        let zero = env(&[
            ("SLURM_ARRAY_TASK_ID", "0"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        assert_eq!(
            Shard::from_env(zero, None).unwrap(),
            Shard { index: 0, count: 8 }
        );
        let one = env(&[
            ("SLURM_ARRAY_TASK_ID", "8"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "8"),
        ]);
        assert_eq!(
            Shard::from_env(one, Some(8)).unwrap(),
            Shard { index: 7, count: 8 }
        );
        let stepped = env(&[
            ("SLURM_ARRAY_TASK_ID", "6"),
            ("SLURM_ARRAY_TASK_MIN", "0"),
            ("SLURM_ARRAY_TASK_STEP", "2"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        assert_eq!(
            Shard::from_env(stepped, None).unwrap(),
            Shard { index: 3, count: 4 }
        );
    }

    #[test]
    fn job_environments_that_do_not_add_up_are_refused() {
        let disagree = env(&[
            ("SLURM_ARRAY_TASK_ID", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "4"),
        ]);
        let e = Shard::from_env(disagree, Some(5)).unwrap_err().to_string();
        assert!(e.contains("SLURM_ARRAY_TASK_COUNT=4 but --shards 5"), "{e}");
        let k8s = env(&[("JOB_COMPLETION_INDEX", "3")]);
        let e = Shard::from_env(&k8s, None).unwrap_err().to_string();
        assert!(e.contains("pass --shards N"), "{e}");
        assert_eq!(
            Shard::from_env(&k8s, Some(4)).unwrap(),
            Shard { index: 3, count: 4 }
        );
        assert!(Shard::from_env(&k8s, Some(3)).is_err());
        assert!(Shard::from_env(env(&[]), Some(3)).is_err());
        let below = env(&[("SLURM_ARRAY_TASK_ID", "0"), ("SLURM_ARRAY_TASK_MIN", "1")]);
        assert!(Shard::from_env(below, Some(3)).is_err());
    }

    fn study(example: &str) -> Study {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        validate::load_study(
            &root.join(format!("topologies/{example}.toml")),
            &root.join(format!("scenarios/{example}.toml")),
        )
        .unwrap()
    }

    fn names(s: &Scenario, groups: &[GroupId]) -> Vec<String> {
        groups.iter().map(|&g| s.group(g).name.clone()).collect()
    }

    #[test]
    fn replications_are_dealt_round_robin() {
        let st = study("online");
        let mut s = st.scenario.clone();
        s.replications = 7;
        let shares: Vec<Vec<u32>> = (0..3)
            .map(|index| {
                let w = plan(&st.topology, &s, Shard { index, count: 3 }).unwrap();
                assert_eq!((w.split, w.groups.len()), (Split::Replications, 0));
                w.replications
            })
            .collect();
        assert_eq!(shares, [vec![0, 3, 6], vec![1, 4], vec![2, 5]]);
    }

    #[test]
    fn groups_are_dealt_largest_first_to_the_lightest_shard() {
        let st = study("online");
        let s = &st.scenario;
        let owners = group_owners(s, 2);
        let of = |index| -> Vec<GroupId> {
            s.group_ids()
                .filter(|g| owners[g.0 as usize] == Some(index))
                .collect()
        };
        // engineering (1200) first, then sales (800) to the empty shard,
        // then cafe-workers (60) to the lighter one.
        assert_eq!(names(s, &of(0)), ["engineering"]);
        assert_eq!(names(s, &of(1)), ["sales", "cafe-workers"]);
        // Two calling shards share the Microsoft network: refused.
        let mut one = s.clone();
        one.replications = 1;
        let e = plan(&st.topology, &one, Shard { index: 0, count: 2 }).unwrap_err();
        assert!(matches!(e, ShardError::Coupled { .. }));
    }

    #[test]
    fn a_policy_link_refuses_a_split_by_groups_but_not_by_replications() {
        let st = study("multi-site");
        let t = &st.topology;
        assert_eq!(t.link(coupling_link(t).unwrap().0).name, "chicago-wan");
        // Without a policy, a Microsoft link couples the shards through
        // the queueing delay in every call's predicted quality.
        let online = study("online");
        let (link, why) = coupling_link(&online.topology).unwrap();
        assert_eq!(online.topology.link(link).segment, Segment::Microsoft);
        assert!(why.contains("queueing delay"), "{why}");
        let mut s = st.scenario.clone();
        s.replications = 2;
        assert!(plan(t, &s, Shard { index: 1, count: 2 }).is_ok());
        let e = plan(t, &s, Shard { index: 1, count: 3 }).unwrap_err();
        assert!(matches!(&e, ShardError::Coupled { link, .. } if link == "chicago-wan"));
        assert!(e.is_invalid_input());
    }

    #[test]
    fn other_groups_keep_their_persona_but_place_no_calls() {
        let st = study("online");
        let s = &st.scenario;
        let engineering = s.group_named("engineering").unwrap();
        let only = only_callers(s, &[engineering]);
        assert_eq!(only.personas.len(), s.personas.len() + 2);
        for g in s.group_ids() {
            let (before, after) = (
                s.persona(s.group(g).persona),
                only.persona(only.group(g).persona),
            );
            assert_eq!(after.codec, before.codec);
            assert_eq!(after.modalities, before.modalities);
            assert_eq!(
                places_calls(&only, g),
                g == engineering,
                "{}",
                s.group(g).name
            );
        }
        assert_eq!(
            only.group(engineering).persona,
            s.group(engineering).persona
        );
    }

    #[test]
    fn words_are_quoted_only_when_the_shell_needs_it() {
        assert_eq!(quote("results/a-b/seed-1"), "results/a-b/seed-1");
        assert_eq!(quote("my file"), "'my file'");
        assert_eq!(quote("it's"), r"'it'\''s'");
        assert_eq!(quote(""), "''");
    }
}
