//! A run's results: the replications' partials summarized into
//! summary.json and the CSV files.
//!
//! Owns [`summarize`], the [`Summary`] it returns, and the writers
//! ([`Summary::to_json`], [`Summary::links_csv`], [`Summary::segments_csv`],
//! [`Summary::calls_csv`], [`Summary::timeseries_csv`]), which return bytes
//! for the caller to write (atomically, with the rest of the results
//! directory). Leaves out recording ([`Recorder`]), merging shards
//! ([`Partial::merge`]) and writing files.
//!
//! # summary.json: the contract
//!
//! summary.json is read by checks outside the project. Fields are only ever
//! added, never renamed or removed; `schema` changes if that promise is
//! ever broken. Every figure is the **mean over replications** unless its
//! name says otherwise; `*_ci` objects give that mean with the half-width
//! of its 95% Student-t confidence interval (`half_width` is `null` for a
//! single replication, whose spread is unknown).
//!
//! ```text
//! {
//!   "schema": "callflow-summary/1",
//!   "run": { "topology", "scenario", "replications" (count), "duration_s",
//!            "bin_s" (time-series bin), "resolution_s" (peak/percentile bin),
//!            "inputs_digest" },
//!   "segments": {                      -- always all four keys
//!     "customer" | "internet" | "expressroute" | "microsoft": TRAFFIC },
//!   "links": [                         -- one per link and direction, link order, a→b first
//!     { "name", "kind", "segment", "owner" ("tenant", "public", "microsoft",
//!       "remote:<name>", "organization:<name>"), "in_segment_totals",
//!       "direction" ("<a name> -> <b name>"), "capacity_bps",
//!       ...TRAFFIC, "peak_utilization", "p95_utilization" } ],
//!   "calls": { CALLS, "by_kind": { "<kind>": CALLS } },
//!   "concurrency": { "mean", "peak", "mean_ci", "peak_ci" },
//!   "internet_by_reason": {            -- always all six keys
//!     "broadcast-streaming" | "dependencies" | "consumer-federation" |
//!     "partner-on-prem" | "outside-users" | "other":
//!       { "bytes", "bytes_ci", "share" } }
//! }
//! TRAFFIC = { "bytes", "mean_bps", "peak_bps", "p50_bps", "p95_bps", "p99_bps",
//!             "bytes_ci", "mean_bps_ci", "peak_bps_ci", "p95_bps_ci",
//!             "by_class": { "<class>": { "dscp", "bytes", "mean_bps", "peak_bin_bps" } } }
//! CALLS   = { "offered", "completed", "rerouted", "blocked", "failed",
//!             "offered_ci", "completed_ci", "rerouted_ci", "blocked_ci", "failed_ci",
//!             "blocking" (Σ blocked / Σ offered, null if none offered),
//!             "rerouted_via": { "internet-edge", "pstn", "voicemail" },
//!             "blocked_by_reason": { … }, "failed_by_reason": { … },
//!             "media_paths": { "calls", "direct", "nat", "relay", "relay-relay"
//!                              (each { "udp", "tcp" }), "tcp" },
//!             "setup_ms": { "count", "mean", "p50", "p95", "p99" },
//!             "totals": { "offered", "completed", "rerouted", "blocked", "failed" },
//!             "quality": QUALITY }
//! QUALITY = { "legs", "streams", "latency_ms": { "mean", "p95" }, "jitter_ms": { "mean", "p95" },
//!             "loss": { "mean", "p95" }, "mos": { "mean", "p5" },
//!             "poor_share", "poor_stream_share",
//!             "meets_targets": { "applicable", "client_to_microsoft_edge",
//!                                "customer_edge_to_microsoft_edge" } }
//! ```
//!
//! Definitions:
//!
//! - `bytes`: whole bytes over the run (exact integration, the remainder
//!   below a byte dropped once at the end). `mean_bps` = bytes · 8 / run
//!   duration.
//! - `peak_bps`, `p50_bps`, `p95_bps`, `p99_bps`: over the resolution bins
//!   (60 s, or the scenario's `bin` if smaller) of the whole run, idle ones
//!   included, of each bin's mean bitrate (whole bit/s), by nearest rank;
//!   computed per replication, then averaged. A peak is therefore a peak
//!   *bin mean*, at the resolution's granularity.
//! - `peak_utilization` = `peak_bps` / capacity (each way); `null` for a
//!   link without capacity.
//! - `by_class`: only the classes that carried anything; `peak_bin_bps` is
//!   the largest mean bitrate of a time-series bin (the scenario's `bin`).
//! - A segment's traffic is what crosses it, once per stream (not the sum
//!   of its links); other organizations' links are left out (see
//!   [`crate::metrics`]).
//! - Concurrency: calls in progress; `peak` is the largest resolution-bin
//!   mean.
//! - `internet_by_reason` (added in callflow 0.1 with `compare`): the
//!   Internet segment's bytes split by why each stream is there
//!   ([`Reason`]): the traffic that crosses the Internet whatever the
//!   circuit (broadcast streaming, DNS/CRL/telemetry, Skype consumer
//!   federation, another company's on-premises servers, users outside the
//!   network) and `other`, what could move. Each stream counts under one
//!   reason; the reasons' exact totals add up to the segment's (each is
//!   rounded down to whole bytes separately). `share` is the reason's
//!   `bytes` over the segment's `bytes` (`null` if the segment carried
//!   nothing).
//! - Calls: `offered` = `completed` + `rerouted` + `blocked` + `failed`.
//!   Means of counts are fractional; `totals` holds the exact sums over all
//!   replications, for which the identity holds exactly. `by_kind` has
//!   every call kind. `media_paths` shares (and `tcp`) are of the calls
//!   that set up a media path, pooled over replications (`null` if none
//!   did); `setup_ms` pools every replication's setup times (percentiles
//!   from the mergeable histogram, at most 0.8% above the true value).
//! - `quality` (added in callflow-summary/1; older readers ignore it):
//!   predicted audio quality of each leg (a two-party or PSTN call, or one
//!   conference join; broadcasts have none) at its start, pooled over
//!   replications: `legs` and `streams` (audio streams, one each way) are
//!   counts over all replications; `latency_ms` is each stream's one-way
//!   network delay with queueing, `jitter_ms` its jitter, `loss` its loss
//!   fraction, `mos` its E-model MOS (G.107) in the leg's codec; means are
//!   exact, `p95`/`p5` from the mergeable histograms (`null` when there
//!   are no streams). `poor_share` is the share of legs with a stream the
//!   Call Quality Dashboard would classify Poor (domain.md §2.4),
//!   `poor_stream_share` the share of streams. `meets_targets` counts the
//!   streams whose path reaches Microsoft's network (`applicable`) and
//!   gives the share of them meeting every §2.1 target of each scope.
//!   The model is in [`crate::engine::path_quality`] and
//!   [`crate::queueing`] (docs/quality.md).
//!
//! # Stable numbers
//!
//! Everything is computed in a fixed order (replications sorted by number,
//! then links, classes and bins in model order) and every float is rounded
//! before output: quantities with a unit (bytes, bit/s, seconds,
//! milliseconds, calls) to **3 decimals**, dimensionless ratios
//! (utilizations, shares, blocking) to **6 decimals**. The same partials
//! give byte-identical files on any machine and thread count, and in any
//! order the partials are passed.
//!
//! # The CSV files
//!
//! Flat rows, one header line, the same rounding:
//!
//! - links.csv: link, kind, segment, owner, in_segment_totals, direction,
//!   capacity_bps, bytes, mean_bps, peak_bps, p50_bps, p95_bps, p99_bps,
//!   peak_utilization, p95_utilization.
//! - segments.csv: segment, bytes, mean_bps, peak_bps, p50_bps, p95_bps,
//!   p99_bps and the half-widths of bytes, mean, peak and P95.
//! - calls.csv: one row per call kind and one `all`: kind, offered,
//!   completed, rerouted, blocked, failed, blocking, top_failure_reasons
//!   (up to three, `reason:mean count` joined by `;`, most frequent first),
//!   direct/nat/relay/relay_relay/tcp shares, setup_p50_ms, setup_p95_ms.
//! - timeseries.csv: bin_start_s (from the start of the run), time_of_day,
//!   scope (`segment` or `link`), name, direction (links only), class
//!   (`all`, or a class that carried anything there), dscp, bytes (mean
//!   over replications of the bin's whole bytes, remainders carried from
//!   bin to bin so a series adds up to its total), mean_bps. Every segment
//!   and link direction has its `all` series.
//!
//! [`Recorder`]: super::Recorder

use std::collections::BTreeMap;

use serde::Serialize;

use super::call_quality::QualitySummary;
use super::partial::layout_matches;
use super::volume::BIT_MICROS_PER_BYTE;
use super::{
    CLASSES, CallStats, Layout, LinkDir, MediaPathKind, MergeError, Partial, Reason, Reroute,
    Volume, link_dir_index,
};
use crate::engine::call::CallKind;
use crate::model::{Owner, Scenario, Segment, Topology};
use crate::stats::{CiError, ConfidenceInterval, Histogram, percentile_of};
use crate::time::SimDuration;

/// The `schema` value of summary.json.
pub const SCHEMA: &str = "callflow-summary/1";

/// Rounding of quantities with a unit: 3 decimals.
const UNIT_SCALE: f64 = 1e3;
/// Rounding of dimensionless ratios: 6 decimals.
const RATIO_SCALE: f64 = 1e6;

/// Partials that cannot be summarized together.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SummaryError {
    /// Nothing to summarize.
    #[error("no replication results to summarize")]
    Empty,
    /// A partial recorded with other bins or another topology.
    #[error("replication {replication} does not fit this topology and scenario: {source}")]
    Layout {
        /// The replication.
        replication: u32,
        /// What differs.
        source: MergeError,
    },
    /// Two partials of one replication: shards must be merged first.
    #[error(
        "replication {replication} is given more than once; merge a replication's shards before summarizing"
    )]
    Duplicate {
        /// The replication.
        replication: u32,
    },
    /// Partials from different inputs.
    #[error(
        "replication {replication} comes from other inputs: digest {found:?}, expected {expected:?}"
    )]
    Digest {
        /// The replication.
        replication: u32,
        /// The first replication's digest.
        expected: String,
        /// This one's.
        found: String,
    },
    /// A figure no interval could be computed for.
    #[error(transparent)]
    Statistics(#[from] CiError),
}

/// A writer that could not produce its bytes.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// CSV encoding failed.
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    /// JSON encoding failed.
    #[error("cannot write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// A mean with its 95% confidence half-width, both rounded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Ci {
    /// The mean over replications.
    pub mean: f64,
    /// The half-width (`null` for one replication).
    pub half_width: Option<f64>,
}

/// A run's results; see the module docs for the serialized contract.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// The contract version, [`SCHEMA`].
    pub schema: &'static str,
    /// What was run.
    pub run: RunInfo,
    /// Per segment.
    pub segments: Segments,
    /// Per link and direction.
    pub links: Vec<LinkSummary>,
    /// Call outcomes.
    pub calls: CallsSummary,
    /// Calls in progress.
    pub concurrency: ConcurrencySummary,
    /// ExpressRoute circuit sizing, for sizing.json only.
    #[serde(skip)]
    pub sizing: crate::sizing::Sizing,
    /// The Internet segment's bytes per [`Reason`], every reason present.
    pub internet_by_reason: BTreeMap<&'static str, ReasonTraffic>,
    /// The time series, for timeseries.csv only.
    #[serde(skip)]
    series: Vec<Series>,
    #[serde(skip)]
    layout: Layout,
    /// Time of day at the start of the run.
    #[serde(skip)]
    start: SimDuration,
}

/// What was run.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// The topology's name.
    pub topology: String,
    /// The scenario's name.
    pub scenario: String,
    /// How many replications were summarized.
    pub replications: usize,
    /// The run's length, s.
    pub duration_s: f64,
    /// The time-series bin, s.
    pub bin_s: f64,
    /// The resolution bin that peaks and percentiles come from, s.
    pub resolution_s: f64,
    /// The partials' input digest.
    pub inputs_digest: String,
}

/// The four segments, always all present.
#[derive(Debug, Clone, Serialize)]
pub struct Segments {
    /// The customer's network.
    pub customer: Traffic,
    /// The Internet.
    pub internet: Traffic,
    /// ExpressRoute.
    pub expressroute: Traffic,
    /// Microsoft's network.
    pub microsoft: Traffic,
}

impl Segments {
    /// One segment's figures.
    pub fn get(&self, segment: Segment) -> &Traffic {
        match segment {
            Segment::Customer => &self.customer,
            Segment::Internet => &self.internet,
            Segment::ExpressRoute => &self.expressroute,
            Segment::Microsoft => &self.microsoft,
        }
    }
}

/// What a link direction or a segment carried.
#[derive(Debug, Clone, Serialize)]
pub struct Traffic {
    /// Bytes over the run.
    pub bytes: f64,
    /// Mean bitrate over the run.
    pub mean_bps: f64,
    /// Largest resolution-bin mean bitrate.
    pub peak_bps: f64,
    /// Median resolution-bin mean bitrate.
    pub p50_bps: f64,
    /// 95th percentile of the resolution-bin mean bitrates.
    pub p95_bps: f64,
    /// 99th percentile of the resolution-bin mean bitrates.
    pub p99_bps: f64,
    /// `bytes` with its interval.
    pub bytes_ci: Ci,
    /// `mean_bps` with its interval.
    pub mean_bps_ci: Ci,
    /// `peak_bps` with its interval.
    pub peak_bps_ci: Ci,
    /// `p95_bps` with its interval.
    pub p95_bps_ci: Ci,
    /// Per traffic class that carried anything.
    pub by_class: BTreeMap<&'static str, ClassTraffic>,
}

/// One traffic class's share.
#[derive(Debug, Clone, Serialize)]
pub struct ClassTraffic {
    /// The class's DSCP marking.
    pub dscp: u8,
    /// Bytes over the run.
    pub bytes: f64,
    /// Mean bitrate over the run.
    pub mean_bps: f64,
    /// Largest time-series-bin mean bitrate.
    pub peak_bin_bps: f64,
}

/// One link in one direction.
#[derive(Debug, Clone, Serialize)]
pub struct LinkSummary {
    /// The link's name.
    pub name: String,
    /// Its kind (`lan`, `wan`, `internet-access`, …).
    pub kind: &'static str,
    /// Its segment's key.
    pub segment: &'static str,
    /// Who runs it.
    pub owner: String,
    /// Whether it counts toward its segment's totals.
    pub in_segment_totals: bool,
    /// `"<a name> -> <b name>"`.
    pub direction: String,
    /// Capacity each way.
    pub capacity_bps: u64,
    /// What it carried.
    #[serde(flatten)]
    pub traffic: Traffic,
    /// `peak_bps` / capacity.
    pub peak_utilization: Option<f64>,
    /// `p95_bps` / capacity.
    pub p95_utilization: Option<f64>,
}

/// Call outcomes of every kind, and per kind.
#[derive(Debug, Clone, Serialize)]
pub struct CallsSummary {
    /// All kinds together.
    #[serde(flatten)]
    pub all: CallSummary,
    /// Per kind, every kind present.
    pub by_kind: BTreeMap<&'static str, CallSummary>,
}

/// What became of some calls.
#[derive(Debug, Clone, Serialize)]
pub struct CallSummary {
    /// Offered.
    pub offered: f64,
    /// Completed.
    pub completed: f64,
    /// Rerouted by admission control.
    pub rerouted: f64,
    /// Blocked.
    pub blocked: f64,
    /// Failed.
    pub failed: f64,
    /// `offered` with its interval.
    pub offered_ci: Ci,
    /// `completed` with its interval.
    pub completed_ci: Ci,
    /// `rerouted` with its interval.
    pub rerouted_ci: Ci,
    /// `blocked` with its interval.
    pub blocked_ci: Ci,
    /// `failed` with its interval.
    pub failed_ci: Ci,
    /// Σ blocked / Σ offered over replications.
    pub blocking: Option<f64>,
    /// Rerouted, per fallback.
    pub rerouted_via: BTreeMap<&'static str, f64>,
    /// Blocked, per reason.
    pub blocked_by_reason: BTreeMap<String, f64>,
    /// Failed, per reason.
    pub failed_by_reason: BTreeMap<String, f64>,
    /// The media paths calls settled on.
    pub media_paths: MediaSummary,
    /// Setup times.
    pub setup_ms: SetupSummary,
    /// Exact sums over all replications.
    pub totals: CallTotals,
    /// Predicted audio quality of the legs, pooled over replications.
    pub quality: QualitySummary,
}

/// Media path shares, pooled over replications.
#[derive(Debug, Clone, Serialize)]
pub struct MediaSummary {
    /// Calls that set up a media path, all replications.
    pub calls: u64,
    /// Host to host.
    pub direct: TransportShares,
    /// Through NAT.
    pub nat: TransportShares,
    /// Through one relay.
    pub relay: TransportShares,
    /// Through two relays.
    #[serde(rename = "relay-relay")]
    pub relay_relay: TransportShares,
    /// Over TCP, any path.
    pub tcp: Option<f64>,
}

/// Shares of media-path calls: of one kind of path, and of it over UDP
/// and TCP.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TransportShares {
    /// This kind of path, either transport.
    pub share: Option<f64>,
    /// Over UDP.
    pub udp: Option<f64>,
    /// Over TCP.
    pub tcp: Option<f64>,
}

/// Setup times, pooled over replications.
#[derive(Debug, Clone, Serialize)]
pub struct SetupSummary {
    /// Calls that reported a setup time.
    pub count: u64,
    /// Mean, ms.
    pub mean: Option<f64>,
    /// Median, ms.
    pub p50: Option<f64>,
    /// 95th percentile, ms.
    pub p95: Option<f64>,
    /// 99th percentile, ms.
    pub p99: Option<f64>,
}

/// Exact call counts summed over replications.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CallTotals {
    /// Offered.
    pub offered: u64,
    /// Completed.
    pub completed: u64,
    /// Rerouted.
    pub rerouted: u64,
    /// Blocked.
    pub blocked: u64,
    /// Failed.
    pub failed: u64,
}

/// A segment's bytes under one [`Reason`].
#[derive(Debug, Clone, Serialize)]
pub struct ReasonTraffic {
    /// Bytes over the run.
    pub bytes: f64,
    /// `bytes` with its interval.
    pub bytes_ci: Ci,
    /// `bytes` over the segment's bytes.
    pub share: Option<f64>,
}

/// Calls in progress.
#[derive(Debug, Clone, Serialize)]
pub struct ConcurrencySummary {
    /// Mean over the run.
    pub mean: f64,
    /// Largest resolution-bin mean.
    pub peak: f64,
    /// `mean` with its interval.
    pub mean_ci: Ci,
    /// `peak` with its interval.
    pub peak_ci: Ci,
}

/// One row group of timeseries.csv: a scope and class, mean bytes per bin.
#[derive(Debug, Clone)]
struct Series {
    scope: &'static str,
    name: String,
    direction: String,
    class: &'static str,
    dscp: Option<u8>,
    bytes: Vec<f64>,
}

/// Summarizes one run: `replications` holds one partial per replication
/// (shards already merged), in any order.
pub fn summarize(
    topology: &Topology,
    scenario: &Scenario,
    replications: &[Partial],
) -> Result<Summary, SummaryError> {
    let layout = Layout::of(topology, scenario);
    let Some(first) = replications.first() else {
        return Err(SummaryError::Empty);
    };
    for p in replications {
        layout_matches(&layout, &p.layout()).map_err(|source| SummaryError::Layout {
            replication: p.replication,
            source,
        })?;
        if p.digest != first.digest {
            return Err(SummaryError::Digest {
                replication: p.replication,
                expected: first.digest.clone(),
                found: p.digest.clone(),
            });
        }
    }
    let mut reps: Vec<&Partial> = replications.iter().collect();
    reps.sort_by_key(|p| p.replication);
    if let Some(w) = reps
        .windows(2)
        .find(|w| w[0].replication == w[1].replication)
    {
        return Err(SummaryError::Duplicate {
            replication: w[0].replication,
        });
    }

    let segment = |s: Segment| -> Result<Traffic, CiError> {
        let scopes: Vec<ScopeBins> = reps
            .iter()
            .map(|p| ScopeBins {
                resolution: p.segment_resolution(s),
                classes: CLASSES.iter().map(|&c| p.segment_series(s, c)).collect(),
            })
            .collect();
        traffic(&layout, &scopes)
    };
    let segments = Segments {
        customer: segment(Segment::Customer)?,
        internet: segment(Segment::Internet)?,
        expressroute: segment(Segment::ExpressRoute)?,
        microsoft: segment(Segment::Microsoft)?,
    };

    let mut links = Vec::with_capacity(layout.link_dirs());
    for link in topology.links() {
        let l = topology.link(link);
        let (a, b) = topology.ends(link);
        let (a, b) = (&topology.node(a).name, &topology.node(b).name);
        for dir in LinkDir::ALL {
            let i = link_dir_index(link, dir);
            let scopes: Vec<ScopeBins> = reps
                .iter()
                .map(|p| ScopeBins {
                    resolution: p.link_resolution_at(i),
                    classes: (0..CLASSES.len()).map(|c| p.link_series_at(i, c)).collect(),
                })
                .collect();
            let traffic = traffic(&layout, &scopes)?;
            let capacity = l.capacity.as_bps();
            let utilization = |bps: f64| (capacity > 0).then(|| ratio(bps / capacity as f64));
            links.push(LinkSummary {
                name: l.name.clone(),
                kind: l.kind.word(),
                segment: l.segment.key(),
                owner: owner_word(topology, l.owner),
                in_segment_totals: !matches!(l.owner, Owner::Organization(_)),
                direction: match dir {
                    LinkDir::AToB => format!("{a} -> {b}"),
                    LinkDir::BToA => format!("{b} -> {a}"),
                },
                capacity_bps: capacity,
                peak_utilization: utilization(traffic.peak_bps),
                p95_utilization: utilization(traffic.p95_bps),
                traffic,
            });
        }
    }

    let per_kind = |kind: Option<CallKind>| -> Vec<CallStats> {
        reps.iter()
            .map(|p| match kind {
                Some(k) => p.calls(k).clone(),
                None => CallKind::ALL
                    .iter()
                    .fold(CallStats::default(), |mut all, &k| {
                        all.merge(p.calls(k));
                        all
                    }),
            })
            .collect()
    };
    let mut by_kind = BTreeMap::new();
    for kind in CallKind::ALL {
        by_kind.insert(kind.word(), calls(&per_kind(Some(kind)))?);
    }
    let calls = CallsSummary {
        all: calls(&per_kind(None))?,
        by_kind,
    };

    let concurrency = concurrency(&layout, &reps)?;
    let mut internet_by_reason = BTreeMap::new();
    for reason in Reason::ALL {
        let bytes: Vec<f64> = reps
            .iter()
            .map(|p| p.segment_reason(Segment::Internet, reason).bytes() as f64)
            .collect();
        let bytes_ci = ci(&bytes)?;
        let total = segments.internet.bytes;
        internet_by_reason.insert(
            reason.word(),
            ReasonTraffic {
                bytes: bytes_ci.mean,
                bytes_ci,
                share: (total > 0.0).then(|| ratio(bytes_ci.mean / total)),
            },
        );
    }
    let series = series(topology, &layout, &reps);
    Ok(Summary {
        schema: SCHEMA,
        run: RunInfo {
            topology: topology.name.clone(),
            scenario: scenario.name.clone(),
            replications: reps.len(),
            duration_s: unit(layout.duration.as_secs_f64()),
            bin_s: unit(layout.bin.as_secs_f64()),
            resolution_s: unit(layout.resolution.as_secs_f64()),
            inputs_digest: first.digest.clone(),
        },
        segments,
        links,
        calls,
        concurrency,
        sizing: crate::sizing::size(topology, replications),
        internet_by_reason,
        series,
        layout,
        start: scenario.start,
    })
}

impl Summary {
    /// summary.json: pretty-printed, with a final newline.
    pub fn to_json(&self) -> Result<Vec<u8>, WriteError> {
        let mut out = serde_json::to_vec_pretty(self)?;
        out.push(b'\n');
        Ok(out)
    }

    /// sizing.json: the circuits' sizing (see [`crate::sizing`]).
    pub fn sizing_json(&self) -> Result<Vec<u8>, WriteError> {
        Ok(self.sizing.to_json()?)
    }

    /// links.csv: one row per link and direction.
    pub fn links_csv(&self) -> Result<Vec<u8>, WriteError> {
        #[derive(Serialize)]
        struct Row<'a> {
            link: &'a str,
            kind: &'a str,
            segment: &'a str,
            owner: &'a str,
            in_segment_totals: bool,
            direction: &'a str,
            capacity_bps: u64,
            bytes: f64,
            mean_bps: f64,
            peak_bps: f64,
            p50_bps: f64,
            p95_bps: f64,
            p99_bps: f64,
            peak_utilization: Option<f64>,
            p95_utilization: Option<f64>,
        }
        write_csv(self.links.iter().map(|l| Row {
            link: &l.name,
            kind: l.kind,
            segment: l.segment,
            owner: &l.owner,
            in_segment_totals: l.in_segment_totals,
            direction: &l.direction,
            capacity_bps: l.capacity_bps,
            bytes: l.traffic.bytes,
            mean_bps: l.traffic.mean_bps,
            peak_bps: l.traffic.peak_bps,
            p50_bps: l.traffic.p50_bps,
            p95_bps: l.traffic.p95_bps,
            p99_bps: l.traffic.p99_bps,
            peak_utilization: l.peak_utilization,
            p95_utilization: l.p95_utilization,
        }))
    }

    /// segments.csv: one row per segment, in lane order.
    pub fn segments_csv(&self) -> Result<Vec<u8>, WriteError> {
        #[derive(Serialize)]
        struct Row {
            segment: &'static str,
            bytes: f64,
            mean_bps: f64,
            peak_bps: f64,
            p50_bps: f64,
            p95_bps: f64,
            p99_bps: f64,
            bytes_half_width: Option<f64>,
            mean_bps_half_width: Option<f64>,
            peak_bps_half_width: Option<f64>,
            p95_bps_half_width: Option<f64>,
        }
        write_csv(Segment::ALL.iter().map(|&s| {
            let t = self.segments.get(s);
            Row {
                segment: s.key(),
                bytes: t.bytes,
                mean_bps: t.mean_bps,
                peak_bps: t.peak_bps,
                p50_bps: t.p50_bps,
                p95_bps: t.p95_bps,
                p99_bps: t.p99_bps,
                bytes_half_width: t.bytes_ci.half_width,
                mean_bps_half_width: t.mean_bps_ci.half_width,
                peak_bps_half_width: t.peak_bps_ci.half_width,
                p95_bps_half_width: t.p95_bps_ci.half_width,
            }
        }))
    }

    /// calls.csv: one row per call kind, then `all`.
    pub fn calls_csv(&self) -> Result<Vec<u8>, WriteError> {
        #[derive(Serialize)]
        struct Row {
            kind: &'static str,
            offered: f64,
            completed: f64,
            rerouted: f64,
            blocked: f64,
            failed: f64,
            blocking: Option<f64>,
            top_failure_reasons: String,
            direct_share: Option<f64>,
            nat_share: Option<f64>,
            relay_share: Option<f64>,
            relay_relay_share: Option<f64>,
            tcp_share: Option<f64>,
            setup_p50_ms: Option<f64>,
            setup_p95_ms: Option<f64>,
        }
        let row = |kind: &'static str, c: &CallSummary| {
            let mut reasons: Vec<(&String, f64)> =
                c.failed_by_reason.iter().map(|(r, n)| (r, *n)).collect();
            // Most frequent first; equal counts by name.
            reasons.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
            let top: Vec<String> = reasons
                .iter()
                .take(3)
                .map(|(r, n)| format!("{r}:{n}"))
                .collect();
            let m = &c.media_paths;
            Row {
                kind,
                offered: c.offered,
                completed: c.completed,
                rerouted: c.rerouted,
                blocked: c.blocked,
                failed: c.failed,
                blocking: c.blocking,
                top_failure_reasons: top.join(";"),
                direct_share: m.direct.share,
                nat_share: m.nat.share,
                relay_share: m.relay.share,
                relay_relay_share: m.relay_relay.share,
                tcp_share: m.tcp,
                setup_p50_ms: c.setup_ms.p50,
                setup_p95_ms: c.setup_ms.p95,
            }
        };
        let kinds = CallKind::ALL
            .iter()
            .filter_map(|k| self.calls.by_kind.get(k.word()).map(|c| row(k.word(), c)));
        write_csv(kinds.chain(std::iter::once(row("all", &self.calls.all))))
    }

    /// timeseries.csv: per segment and link direction, per class, per
    /// time-series bin.
    pub fn timeseries_csv(&self) -> Result<Vec<u8>, WriteError> {
        #[derive(Serialize)]
        struct Row<'a> {
            bin_start_s: f64,
            time_of_day: &'a str,
            scope: &'a str,
            name: &'a str,
            direction: &'a str,
            class: &'a str,
            dscp: Option<u8>,
            bytes: f64,
            mean_bps: f64,
        }
        let bin = self.layout.bin.as_micros();
        let clock: Vec<(f64, String, f64)> = (0..self.layout.series_bins())
            .map(|k| {
                let start = k as u64 * bin;
                let width = self.layout.series_width(k).as_secs_f64();
                (
                    unit(start as f64 / 1e6),
                    time_of_day(self.start.as_micros().saturating_add(start)),
                    width,
                )
            })
            .collect();
        write_csv(self.series.iter().flat_map(|s| {
            s.bytes
                .iter()
                .zip(&clock)
                .map(move |(&bytes, (start, tod, width))| Row {
                    bin_start_s: *start,
                    time_of_day: tod,
                    scope: s.scope,
                    name: &s.name,
                    direction: &s.direction,
                    class: s.class,
                    dscp: s.dscp,
                    bytes,
                    mean_bps: unit(bytes * 8.0 / width),
                })
        }))
    }
}

fn write_csv<R: Serialize>(rows: impl IntoIterator<Item = R>) -> Result<Vec<u8>, WriteError> {
    let mut w = csv::Writer::from_writer(Vec::new());
    for row in rows {
        w.serialize(row)?;
    }
    w.into_inner()
        .map_err(|e| WriteError::Csv(e.into_error().into()))
}

/// `HH:MM:SS` of `micros` after midnight, wrapping at 24 h.
fn time_of_day(micros: u64) -> String {
    let s = (micros / 1_000_000) % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// Rounds a quantity with a unit to 3 decimals.
fn unit(x: f64) -> f64 {
    round(x, UNIT_SCALE)
}

/// Rounds a dimensionless ratio to 6 decimals.
fn ratio(x: f64) -> f64 {
    round(x, RATIO_SCALE)
}

fn round(x: f64, scale: f64) -> f64 {
    let r = (x * scale).round() / scale;
    // No negative zero in output.
    if r == 0.0 { 0.0 } else { r }
}

/// The interval for per-replication `values`, rounded as a quantity.
fn ci(values: &[f64]) -> Result<Ci, CiError> {
    let c = ConfidenceInterval::from_samples(values)?;
    Ok(Ci {
        mean: unit(c.mean),
        half_width: c.half_width.map(unit),
    })
}

/// The mean of per-replication `values`, rounded as a quantity.
fn mean(values: &[f64]) -> Result<f64, CiError> {
    Ok(ci(values)?.mean)
}

/// One scope's bins in one replication.
struct ScopeBins<'a> {
    resolution: &'a [Volume],
    /// Per class in [`CLASSES`] order, series bins.
    classes: Vec<&'a [Volume]>,
}

fn exact_total(bins: &[Volume]) -> u128 {
    bins.iter().map(|v| v.bit_micros()).sum()
}

fn whole_bytes(bit_micros: u128) -> u64 {
    u64::try_from(bit_micros / u128::from(BIT_MICROS_PER_BYTE)).unwrap_or(u64::MAX)
}

/// Mean bitrate of each bin, in whole bit/s.
fn bin_rates(bins: &[Volume], width: impl Fn(usize) -> SimDuration) -> Vec<u64> {
    bins.iter()
        .enumerate()
        .map(|(k, v)| {
            let w = u128::from(width(k).as_micros().max(1));
            u64::try_from(v.bit_micros() / w).unwrap_or(u64::MAX)
        })
        .collect()
}

/// bit/s for `bytes` over the run.
fn mean_bps(bytes: u64, layout: &Layout) -> f64 {
    bytes as f64 * 8e6 / layout.duration.as_micros() as f64
}

fn traffic(layout: &Layout, scopes: &[ScopeBins]) -> Result<Traffic, CiError> {
    let n = scopes.len();
    let (mut bytes, mut means) = (Vec::with_capacity(n), Vec::with_capacity(n));
    let mut pct: [Vec<f64>; 4] = Default::default();
    for s in scopes {
        let b = whole_bytes(exact_total(s.resolution));
        bytes.push(b as f64);
        means.push(mean_bps(b, layout));
        let mut rates = bin_rates(s.resolution, |k| layout.resolution_width(k));
        let peak = rates.iter().copied().max().unwrap_or(0);
        pct[0].push(peak as f64);
        for (i, p) in [50.0, 95.0, 99.0].into_iter().enumerate() {
            pct[i + 1].push(percentile_of(&mut rates, p).unwrap_or(0) as f64);
        }
    }
    let mut by_class = BTreeMap::new();
    for (c, class) in CLASSES.iter().enumerate() {
        let totals: Vec<u128> = scopes.iter().map(|s| exact_total(s.classes[c])).collect();
        if totals.iter().all(|&t| t == 0) {
            continue;
        }
        let class_bytes: Vec<f64> = totals.iter().map(|&t| whole_bytes(t) as f64).collect();
        let class_means: Vec<f64> = totals
            .iter()
            .map(|&t| mean_bps(whole_bytes(t), layout))
            .collect();
        let peaks: Vec<f64> = scopes
            .iter()
            .map(|s| {
                let rates = bin_rates(s.classes[c], |k| layout.series_width(k));
                rates.into_iter().max().unwrap_or(0) as f64
            })
            .collect();
        by_class.insert(
            class.word(),
            ClassTraffic {
                dscp: class.dscp(),
                bytes: mean(&class_bytes)?,
                mean_bps: mean(&class_means)?,
                peak_bin_bps: mean(&peaks)?,
            },
        );
    }
    let [peak, p50, p95, p99] = pct;
    let (bytes_ci, mean_bps_ci, peak_bps_ci, p95_bps_ci) =
        (ci(&bytes)?, ci(&means)?, ci(&peak)?, ci(&p95)?);
    Ok(Traffic {
        bytes: bytes_ci.mean,
        mean_bps: mean_bps_ci.mean,
        peak_bps: peak_bps_ci.mean,
        p50_bps: mean(&p50)?,
        p95_bps: p95_bps_ci.mean,
        p99_bps: mean(&p99)?,
        bytes_ci,
        mean_bps_ci,
        peak_bps_ci,
        p95_bps_ci,
        by_class,
    })
}

fn owner_word(topology: &Topology, owner: Owner) -> String {
    match owner {
        Owner::Tenant => "tenant".to_string(),
        Owner::Public => "public".to_string(),
        Owner::Microsoft => "microsoft".to_string(),
        Owner::Remote(r) => match topology.remotes.get(r.0 as usize) {
            Some(remote) => format!("remote:{}", remote.name),
            None => format!("remote:{}", r.0),
        },
        Owner::Organization(o) => match topology.organizations.get(o.0 as usize) {
            Some(org) => format!("organization:{}", org.name),
            None => format!("organization:{}", o.0),
        },
    }
}

/// Summarizes one replication's stats per entry of `reps`.
fn calls(reps: &[CallStats]) -> Result<CallSummary, CiError> {
    let count =
        |f: &dyn Fn(&CallStats) -> u64| -> Vec<f64> { reps.iter().map(|c| f(c) as f64).collect() };
    let total = |f: &dyn Fn(&CallStats) -> u64| -> u64 {
        reps.iter().fold(0u64, |s, c| s.saturating_add(f(c)))
    };
    let offered_ci = ci(&count(&|c| c.offered()))?;
    let completed_ci = ci(&count(&|c| c.completed))?;
    let rerouted_ci = ci(&count(&|c| c.rerouted.total()))?;
    let blocked_ci = ci(&count(&|c| c.blocked_total()))?;
    let failed_ci = ci(&count(&|c| c.failed_total()))?;
    let totals = CallTotals {
        offered: total(&|c| c.offered()),
        completed: total(&|c| c.completed),
        rerouted: total(&|c| c.rerouted.total()),
        blocked: total(&|c| c.blocked_total()),
        failed: total(&|c| c.failed_total()),
    };
    let mut rerouted_via = BTreeMap::new();
    for via in Reroute::ALL {
        rerouted_via.insert(via.word(), mean(&count(&|c| c.rerouted.of(via)))?);
    }
    let by_reason = |pick: &dyn Fn(&CallStats) -> &BTreeMap<String, u64>| {
        let reasons: std::collections::BTreeSet<&String> =
            reps.iter().flat_map(|c| pick(c).keys()).collect();
        reasons
            .into_iter()
            .map(|r| {
                let values: Vec<f64> = reps
                    .iter()
                    .map(|c| pick(c).get(r).copied().unwrap_or(0) as f64)
                    .collect();
                Ok((r.clone(), mean(&values)?))
            })
            .collect::<Result<BTreeMap<String, f64>, CiError>>()
    };
    let mut media = super::MediaMix::default();
    let mut setup = Histogram::new();
    let mut quality = super::QualityStats::default();
    for c in reps {
        media.add(&c.media);
        setup.merge(&c.setup_us);
        quality.merge(&c.quality);
    }
    let media_calls = media.total();
    let share = |n: u64| (media_calls > 0).then(|| ratio(n as f64 / media_calls as f64));
    let shares = |k: MediaPathKind| TransportShares {
        share: share(media.of(k).total()),
        udp: share(media.of(k).udp),
        tcp: share(media.of(k).tcp),
    };
    let ms = |us: Option<u64>| us.map(|us| unit(us as f64 / 1e3));
    Ok(CallSummary {
        offered: offered_ci.mean,
        completed: completed_ci.mean,
        rerouted: rerouted_ci.mean,
        blocked: blocked_ci.mean,
        failed: failed_ci.mean,
        offered_ci,
        completed_ci,
        rerouted_ci,
        blocked_ci,
        failed_ci,
        blocking: (totals.offered > 0)
            .then(|| ratio(totals.blocked as f64 / totals.offered as f64)),
        rerouted_via,
        blocked_by_reason: by_reason(&|c| &c.blocked)?,
        failed_by_reason: by_reason(&|c| &c.failed)?,
        media_paths: MediaSummary {
            calls: media_calls,
            direct: shares(MediaPathKind::Direct),
            nat: shares(MediaPathKind::Nat),
            relay: shares(MediaPathKind::Relay),
            relay_relay: shares(MediaPathKind::RelayRelay),
            tcp: share(media.tcp()),
        },
        setup_ms: SetupSummary {
            count: setup.count(),
            mean: setup.mean().map(|us| unit(us / 1e3)),
            p50: ms(setup.quantile(0.50)),
            p95: ms(setup.quantile(0.95)),
            p99: ms(setup.quantile(0.99)),
        },
        totals,
        quality: QualitySummary::of(&quality, unit, ratio),
    })
}

fn concurrency(layout: &Layout, reps: &[&Partial]) -> Result<ConcurrencySummary, CiError> {
    let duration = layout.duration.as_micros() as f64;
    let means: Vec<f64> = reps
        .iter()
        .map(|p| p.concurrency().iter().map(|&c| u128::from(c)).sum::<u128>() as f64 / duration)
        .collect();
    let peaks: Vec<f64> = reps
        .iter()
        .map(|p| {
            p.concurrency()
                .iter()
                .enumerate()
                .map(|(k, &c)| c as f64 / layout.resolution_width(k).as_micros().max(1) as f64)
                .fold(0.0, f64::max)
        })
        .collect();
    let (mean_ci, peak_ci) = (ci(&means)?, ci(&peaks)?);
    Ok(ConcurrencySummary {
        mean: mean_ci.mean,
        peak: peak_ci.mean,
        mean_ci,
        peak_ci,
    })
}

/// Whole bytes per bin, each bin's remainder carried into the next, so the
/// bins add up to the whole bytes of their sum.
fn carried_bytes(bins: impl Iterator<Item = u128>) -> Vec<u64> {
    let mut cumulative = 0u128;
    let mut booked = 0u64;
    bins.map(|b| {
        cumulative += b;
        let whole = whole_bytes(cumulative);
        let this = whole - booked;
        booked = whole;
        this
    })
    .collect()
}

fn series(topology: &Topology, layout: &Layout, reps: &[&Partial]) -> Vec<Series> {
    let n = layout.series_bins();
    // Per replication, per class, the scope's series bins.
    let scope_series = |scope: &'static str,
                        name: String,
                        direction: String,
                        per_rep: Vec<Vec<&[Volume]>>|
     -> Vec<Series> {
        let mean_of = |rows: Vec<Vec<u64>>| -> Vec<f64> {
            (0..n)
                .map(|k| {
                    let sum = rows.iter().fold(0.0, |s, r| s + r[k] as f64);
                    unit(sum / rows.len() as f64)
                })
                .collect()
        };
        let all: Vec<Vec<u64>> = per_rep
            .iter()
            .map(|classes| {
                carried_bytes((0..n).map(|k| classes.iter().map(|c| c[k].bit_micros()).sum()))
            })
            .collect();
        let mut out = vec![Series {
            scope,
            name: name.clone(),
            direction: direction.clone(),
            class: "all",
            dscp: None,
            bytes: mean_of(all),
        }];
        for (c, class) in CLASSES.iter().enumerate() {
            if per_rep
                .iter()
                .all(|classes| classes[c].iter().all(|v| v.is_zero()))
            {
                continue;
            }
            let rows = per_rep
                .iter()
                .map(|classes| carried_bytes(classes[c].iter().map(|v| v.bit_micros())))
                .collect();
            out.push(Series {
                scope,
                name: name.clone(),
                direction: direction.clone(),
                class: class.word(),
                dscp: Some(class.dscp()),
                bytes: mean_of(rows),
            });
        }
        out
    };
    let mut out = Vec::new();
    for s in Segment::ALL {
        let per_rep = reps
            .iter()
            .map(|p| CLASSES.iter().map(|&c| p.segment_series(s, c)).collect())
            .collect();
        out.extend(scope_series(
            "segment",
            s.key().to_string(),
            String::new(),
            per_rep,
        ));
    }
    for link in topology.links() {
        let (a, b) = topology.ends(link);
        let (a, b) = (&topology.node(a).name, &topology.node(b).name);
        for dir in LinkDir::ALL {
            let i = link_dir_index(link, dir);
            let per_rep = reps
                .iter()
                .map(|p| (0..CLASSES.len()).map(|c| p.link_series_at(i, c)).collect())
                .collect();
            let direction = match dir {
                LinkDir::AToB => format!("{a} -> {b}"),
                LinkDir::BToA => format!("{b} -> {a}"),
            };
            out.extend(scope_series(
                "link",
                topology.link(link).name.clone(),
                direction,
                per_rep,
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::fixtures::{multi_site, multi_site_study, path, scenario};
    use crate::metrics::{CallOutcome, MediaPath, Recorder, Stream};
    use crate::net::packet::TrafficClass;
    use crate::time::SimTime;
    use crate::units::{Bitrate, DataSize};
    use serde_json::Value;

    fn secs(s: u64) -> SimTime {
        SimTime::from_micros(s * 1_000_000)
    }

    fn ten_minutes() -> Scenario {
        scenario(SimDuration::from_mins(10), SimDuration::from_mins(5))
    }

    /// Replication `rep`: an audio stream of `kbps` out of HQ's Internet line
    /// for the first `on` seconds, a call for the same time, a video stream
    /// from Chicago to Microsoft over ExpressRoute, a transfer and some
    /// outcomes. `on` is at least 120.
    fn replication(t: &Topology, sc: &Scenario, rep: u32, kbps: u64, on: u64) -> Partial {
        let mut r = Recorder::new(t, sc);
        let out = Stream {
            hops: path(t, &["hq-inet-nat", "internet"]).into(),
            rate: Bitrate::kbps(kbps),
            class: TrafficClass::Audio,
        };
        let er = t.circuits[0].primary;
        let mut to_microsoft = path(t, &["chicago", "chicago-r", "hq-core"]);
        to_microsoft.push((er, LinkDir::AToB));
        let video = Stream {
            hops: to_microsoft.into(),
            rate: Bitrate::kbps(500),
            class: TrafficClass::Video,
        };
        r.stream_start(secs(0), &out);
        r.call_started(secs(0));
        r.stream_start(secs(60), &video);
        r.transfer(
            secs(61),
            &out.hops,
            DataSize::bytes(4_000),
            TrafficClass::FileTransfer,
        );
        r.stream_end(secs(120), &video);
        r.stream_end(secs(on), &out);
        r.call_ended(secs(on));
        let kind = CallKind::PeerToPeer;
        let media = MediaPath {
            kind: crate::metrics::MediaPathKind::Nat,
            tcp: false,
        };
        for i in 0..(3 + rep) {
            r.call_outcome(
                kind,
                &CallOutcome::Completed,
                Some(SimDuration::from_millis(500 + 100 * u64::from(i))),
                Some(media),
            );
        }
        r.call_outcome(
            CallKind::Pstn,
            &CallOutcome::Blocked {
                reason: "cac-audio-limit".into(),
            },
            None,
            None,
        );
        r.call_outcome(
            kind,
            &CallOutcome::Failed {
                reason: "no-working-pair".into(),
            },
            None,
            None,
        );
        let mut p = r.finish(secs(600));
        p.replication = rep;
        p.digest = "inputs-1".to_string();
        p
    }

    fn json(s: &Summary) -> Value {
        serde_json::from_slice(&s.to_json().unwrap()).unwrap()
    }

    #[test]
    fn summary_json_holds_every_contract_field() {
        let study = multi_site_study();
        let (t, sc) = (&study.topology, &study.scenario);
        let reps: Vec<Partial> = (0..3)
            .map(|i| replication(t, sc, i, 64 + u64::from(i), 300))
            .collect();
        let v = json(&summarize(t, sc, &reps).unwrap());
        for key in ["customer", "internet", "expressroute", "microsoft"] {
            let seg = &v["segments"][key];
            for field in ["bytes", "mean_bps", "peak_bps", "p95_bps"] {
                assert!(seg[field].is_number(), "segments.{key}.{field}");
            }
        }
        let links = v["links"].as_array().unwrap();
        assert_eq!(links.len(), 2 * t.graph.edge_count());
        for l in links {
            for field in ["name", "segment", "direction"] {
                assert!(l[field].is_string(), "links[].{field} in {l}");
            }
            for field in [
                "capacity_bps",
                "bytes",
                "mean_bps",
                "peak_bps",
                "p95_bps",
                "peak_utilization",
            ] {
                assert!(l[field].is_number(), "links[].{field} in {l}");
            }
        }
        let calls = &v["calls"];
        for field in ["offered", "completed", "rerouted", "blocked", "failed"] {
            assert!(calls[field].is_number(), "calls.{field}");
        }
        let by_kind = calls["by_kind"].as_object().unwrap();
        assert_eq!(by_kind.len(), CallKind::ALL.len());
        for kind in CallKind::ALL {
            assert!(by_kind[kind.word()]["offered"].is_number());
        }
        for field in ["mean", "peak"] {
            assert!(v["concurrency"][field].is_number(), "concurrency.{field}");
        }
        assert_eq!(v["schema"], SCHEMA);
        assert_eq!(v["run"]["replications"], 3);
        assert_eq!(v["run"]["bin_s"], 900.0);
        assert_eq!(v["run"]["scenario"], "multi-site");
        assert!(v["segments"]["internet"]["bytes_ci"]["half_width"].is_number());
    }

    #[test]
    fn figures_follow_their_definitions() {
        let t = multi_site();
        let sc = ten_minutes();
        // 64 kbit/s for the first 5 of 10 minutes, plus 4,000 bytes of file
        // in minute 2.
        let s = summarize(&t, &sc, &[replication(&t, &sc, 0, 64, 300)]).unwrap();
        let (isp, dir) = path(&t, &["hq-inet-nat", "internet"])[0];
        let entry = &s.links[link_dir_index(isp, dir)];
        assert_eq!(entry.name, "hq-isp");
        assert_eq!(entry.direction, "hq-inet-nat -> internet");
        assert_eq!(entry.segment, "internet");
        assert_eq!(entry.owner, "tenant");
        assert_eq!(entry.capacity_bps, 1_000_000_000);
        let tr = &entry.traffic;
        assert_eq!(tr.bytes, 2_404_000.0);
        assert_eq!(tr.mean_bps, 32_053.333);
        // Minute 2 carried 8,000 B/s × 60 s + 4,000 B: 64,533.333 bit/s,
        // floored to whole bit/s.
        assert_eq!(tr.peak_bps, 64_533.0);
        // Ten minutes: five at 64 kbit/s (one a bit more), five idle.
        assert_eq!(
            (tr.p50_bps, tr.p95_bps, tr.p99_bps),
            (0.0, 64_533.0, 64_533.0)
        );
        assert_eq!(entry.peak_utilization, Some(0.000065));
        assert_eq!(tr.bytes_ci.half_width, None);
        assert_eq!(tr.by_class["audio"].bytes, 2_400_000.0);
        assert_eq!(tr.by_class["audio"].dscp, 46);
        assert_eq!(tr.by_class["file-transfer"].bytes, 4_000.0);
        assert_eq!(tr.by_class["audio"].peak_bin_bps, 64_000.0);
        assert!(!tr.by_class.contains_key("video"));
        // The same traffic from the Internet segment's view.
        assert_eq!(s.segments.internet.bytes, 2_404_000.0);
        // The video crossed three customer links and the circuit: once in
        // each segment, 500 kbit/s × 60 s.
        assert_eq!(s.segments.customer.bytes, 3_750_000.0);
        assert_eq!(s.segments.expressroute.bytes, 3_750_000.0);
        assert_eq!(s.segments.customer.peak_bps, 500_000.0);
        assert_eq!(s.segments.microsoft.bytes, 0.0);
        // One call for half the run.
        assert_eq!((s.concurrency.mean, s.concurrency.peak), (0.5, 1.0));
    }

    #[test]
    fn call_counts_keep_offered_equal_to_the_outcomes() {
        let t = multi_site();
        let sc = ten_minutes();
        let reps: Vec<Partial> = (0..3).map(|i| replication(&t, &sc, i, 64, 300)).collect();
        let s = summarize(&t, &sc, &reps).unwrap();
        for c in std::iter::once(&s.calls.all).chain(s.calls.by_kind.values()) {
            let n = c.totals;
            assert_eq!(n.offered, n.completed + n.rerouted + n.blocked + n.failed);
        }
        let all = &s.calls.all;
        // Completed 3, 4, 5; one blocked, one failed in each.
        assert_eq!(all.totals.offered, 18);
        assert_eq!((all.offered, all.completed), (6.0, 4.0));
        assert_eq!(all.completed_ci.half_width, Some(2.484));
        assert_eq!(all.blocked_by_reason["cac-audio-limit"], 1.0);
        assert_eq!(s.calls.by_kind["pstn"].blocking, Some(1.0));
        assert_eq!(all.blocking, Some(0.166667));
        assert_eq!(all.media_paths.calls, 12);
        assert_eq!(all.media_paths.nat.share, Some(1.0));
        assert_eq!(all.media_paths.direct.share, Some(0.0));
        assert_eq!(all.setup_ms.count, 12);
        // 600 ms is the median; the histogram answers its bucket's upper
        // bound, within 0.8% above.
        assert_eq!(all.setup_ms.p50, Some(602.111));
        assert_eq!(s.calls.by_kind["broadcast"].media_paths.tcp, None);
        let csv = String::from_utf8(s.calls_csv().unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 1 + CallKind::ALL.len() + 1);
        assert!(lines[0].starts_with("kind,offered,completed,rerouted,blocked,failed,"));
        assert_eq!(
            lines[1],
            "peer-to-peer,5.0,4.0,0.0,0.0,1.0,0.0,no-working-pair:1,0.0,1.0,0.0,0.0,0.0,602.111,900.0"
        );
        assert!(lines[6].starts_with("all,6.0,"));
    }

    #[test]
    fn the_same_partials_give_the_same_bytes_in_any_order() {
        let t = multi_site();
        let sc = ten_minutes();
        let reps: Vec<Partial> = (0..4)
            .map(|i| replication(&t, &sc, i, 60 + 3 * u64::from(i), 200 + 50 * u64::from(i)))
            .collect();
        let mut reversed = reps.clone();
        reversed.reverse();
        let a = summarize(&t, &sc, &reps).unwrap();
        let b = summarize(&t, &sc, &reps).unwrap();
        let c = summarize(&t, &sc, &reversed).unwrap();
        for s in [&b, &c] {
            assert_eq!(a.to_json().unwrap(), s.to_json().unwrap());
            assert_eq!(a.links_csv().unwrap(), s.links_csv().unwrap());
            assert_eq!(a.segments_csv().unwrap(), s.segments_csv().unwrap());
            assert_eq!(a.calls_csv().unwrap(), s.calls_csv().unwrap());
            assert_eq!(a.timeseries_csv().unwrap(), s.timeseries_csv().unwrap());
        }
    }

    #[test]
    fn csv_files_have_their_columns_and_rows() {
        let t = multi_site();
        let sc = ten_minutes();
        let s = summarize(&t, &sc, &[replication(&t, &sc, 0, 64, 300)]).unwrap();
        let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
        let links = text(s.links_csv().unwrap());
        let mut lines = links.lines();
        assert_eq!(
            lines.next(),
            Some(
                "link,kind,segment,owner,in_segment_totals,direction,capacity_bps,bytes,mean_bps,peak_bps,p50_bps,p95_bps,p99_bps,peak_utilization,p95_utilization"
            )
        );
        assert_eq!(lines.count(), 2 * t.graph.edge_count());
        assert!(links.contains(
            "hq-isp,internet-access,internet,tenant,true,hq-inet-nat -> internet,1000000000,2404000.0,32053.333,64533.0,0.0,64533.0,64533.0,0.000065,0.000065"
        ), "{links}");
        let segments = text(s.segments_csv().unwrap());
        let rows: Vec<&str> = segments.lines().collect();
        assert_eq!(rows.len(), 5);
        assert!(rows[0].starts_with("segment,bytes,mean_bps,peak_bps,p50_bps,p95_bps,p99_bps,"));
        assert!(
            rows[3].starts_with("expressroute,3750000.0,50000.0,500000.0,"),
            "{}",
            rows[3]
        );
        let series = text(s.timeseries_csv().unwrap());
        let rows: Vec<&str> = series.lines().collect();
        assert_eq!(
            rows[0],
            "bin_start_s,time_of_day,scope,name,direction,class,dscp,bytes,mean_bps"
        );
        // Two 5-minute bins per series; the Internet segment's audio fills
        // the first bin.
        assert!(rows.contains(&"0.0,09:00:00,segment,internet,,audio,46,2400000.0,64000.0"));
        assert!(rows.contains(&"300.0,09:05:00,segment,internet,,audio,46,0.0,0.0"));
        assert!(rows.contains(&"0.0,09:00:00,segment,internet,,all,,2404000.0,64106.667"));
        // Every segment and link direction has an `all` series.
        let all = rows.iter().filter(|r| r.contains(",all,")).count();
        assert_eq!(all, 2 * (4 + 2 * t.graph.edge_count()));
    }

    #[test]
    fn bins_carry_remainders_so_a_series_adds_up() {
        let eighth = u128::from(BIT_MICROS_PER_BYTE) / 8;
        // Three bins of 3/8 byte each: 0, 0, 1 (the carry), and the whole
        // is floor(9/8) = 1.
        assert_eq!(carried_bytes([3 * eighth; 3].into_iter()), vec![0, 0, 1]);
        let bins = [5 * eighth, 13 * eighth, 7 * eighth, 16 * eighth];
        let carried = carried_bytes(bins.into_iter());
        assert_eq!(carried, vec![0, 2, 1, 2]);
        assert_eq!(carried.iter().sum::<u64>(), whole_bytes(bins.iter().sum()));
    }

    #[test]
    fn rounding_is_fixed_and_has_no_negative_zero() {
        assert_eq!(unit(1.23456), 1.235);
        assert_eq!(unit(-0.0001), 0.0);
        assert!(unit(-0.0001).is_sign_positive());
        assert_eq!(ratio(0.1234565), 0.123457);
        assert_eq!(
            time_of_day(SimDuration::from_hours(25).as_micros()),
            "01:00:00"
        );
    }

    #[test]
    fn partials_that_do_not_belong_together_are_refused() {
        let t = multi_site();
        let sc = ten_minutes();
        let a = replication(&t, &sc, 0, 64, 300);
        assert_eq!(summarize(&t, &sc, &[]).unwrap_err(), SummaryError::Empty);
        let err = summarize(&t, &sc, &[a.clone(), a.clone()]).unwrap_err();
        assert_eq!(err, SummaryError::Duplicate { replication: 0 });
        assert!(err.to_string().contains("merge a replication's shards"));
        let mut other = replication(&t, &sc, 1, 64, 300);
        other.digest = "inputs-2".to_string();
        let err = summarize(&t, &sc, &[a.clone(), other]).unwrap_err();
        assert!(
            matches!(err, SummaryError::Digest { replication: 1, .. }),
            "{err}"
        );
        let longer = scenario(SimDuration::from_mins(20), SimDuration::from_mins(5));
        let err = summarize(&t, &longer, &[a]).unwrap_err();
        assert!(
            err.to_string()
                .contains("duration_us is 1200000000 here and 600000000"),
            "{err}"
        );
    }
}
