//! One replication's result, or one shard of it: serializable and
//! mergeable.
//!
//! Owns [`Partial`] and the call counts it carries ([`CallStats`]). Every
//! figure is a sum or a count: [`Volume`]s per time bin, call-microseconds
//! per bin, call outcomes, media paths and a setup-time [`Histogram`]. Two
//! shards of the same replication (say, split by user groups) merge by
//! adding them, which is exact and does not depend on the order; finished
//! statistics (peaks, percentiles, means) are only taken by the summary,
//! from merged partials.
//!
//! # Serialized form
//!
//! JSON (or any serde format) with a `format` number, the replication, the
//! caller's input digest, the layout in microseconds, then the bins:
//! `links` holds one entry per link and direction (link order, a→b before
//! b→a), `segments` one per segment key, each with its `resolution` bins
//! and, under `classes`, the time-series bins of every traffic class that
//! carried anything (a class left out carried nothing). `reasons` (left out
//! when empty) holds per segment key and [`Reason`] word the run's non-zero
//! totals; `paths` (left out when empty) the offered calls per
//! [`PathKey`], its label's codes as [`PathLabel`] documents them. Both
//! merge by addition, and a partial written before they existed reads as
//! holding none. A volume is written
//! `[bytes, remainder]` (see [`Volume`]). Reading checks every length,
//! name and remainder, so a damaged or foreign file is refused rather than
//! misread.
//!
//! Leaves out recording (the [`Recorder`]) and statistics across
//! replications (the summary).
//!
//! [`Recorder`]: super::Recorder

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::call_quality::QualityStats;
use super::{
    CLASSES, CallOutcome, Layout, LinkDir, MEDIA_PATH_KINDS, MediaPath, MediaPathKind, Reason,
    Reroute, Volume, class_index, link_dir_index, segment_index,
};
use crate::engine::call::CallKind;
use crate::model::{LinkId, Segment};
use crate::net::packet::TrafficClass;
use crate::stats::Histogram;
use crate::time::SimDuration;

/// The version of the serialized form; a reader refuses any other.
pub const PARTIAL_FORMAT: u32 = 1;

/// Calls over UDP and over TCP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Transports {
    /// Media over UDP.
    pub udp: u64,
    /// Media over TCP.
    pub tcp: u64,
}

impl Transports {
    /// Both together.
    pub fn total(&self) -> u64 {
        self.udp.saturating_add(self.tcp)
    }

    fn add(&mut self, other: &Transports) {
        self.udp = self.udp.saturating_add(other.udp);
        self.tcp = self.tcp.saturating_add(other.tcp);
    }
}

/// How many calls settled on each kind of media path.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct MediaMix {
    /// Host to host.
    pub direct: Transports,
    /// Through NAT, no relay.
    pub nat: Transports,
    /// Through one relay.
    pub relay: Transports,
    /// Through two relays.
    pub relay_relay: Transports,
}

impl MediaMix {
    /// The counts for one kind of path.
    pub fn of(&self, kind: MediaPathKind) -> &Transports {
        match kind {
            MediaPathKind::Direct => &self.direct,
            MediaPathKind::Nat => &self.nat,
            MediaPathKind::Relay => &self.relay,
            MediaPathKind::RelayRelay => &self.relay_relay,
        }
    }

    /// Calls with any media path.
    pub fn total(&self) -> u64 {
        MEDIA_PATH_KINDS
            .iter()
            .fold(0u64, |sum, &k| sum.saturating_add(self.of(k).total()))
    }

    /// Calls whose media ran over TCP.
    pub fn tcp(&self) -> u64 {
        MEDIA_PATH_KINDS
            .iter()
            .fold(0u64, |sum, &k| sum.saturating_add(self.of(k).tcp))
    }

    fn record(&mut self, path: MediaPath) {
        let t = match path.kind {
            MediaPathKind::Direct => &mut self.direct,
            MediaPathKind::Nat => &mut self.nat,
            MediaPathKind::Relay => &mut self.relay,
            MediaPathKind::RelayRelay => &mut self.relay_relay,
        };
        let slot = if path.tcp { &mut t.tcp } else { &mut t.udp };
        *slot = slot.saturating_add(1);
    }

    /// Adds `other`'s counts.
    pub fn add(&mut self, other: &MediaMix) {
        self.direct.add(&other.direct);
        self.nat.add(&other.nat);
        self.relay.add(&other.relay);
        self.relay_relay.add(&other.relay_relay);
    }
}

/// Calls rerouted by admission control, per fallback.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Reroutes {
    /// Through the Internet and an Edge.
    pub internet_edge: u64,
    /// Through the phone network.
    pub pstn: u64,
    /// To voicemail.
    pub voicemail: u64,
}

impl Reroutes {
    /// The count for one fallback.
    pub fn of(&self, via: Reroute) -> u64 {
        match via {
            Reroute::InternetEdge => self.internet_edge,
            Reroute::Pstn => self.pstn,
            Reroute::Voicemail => self.voicemail,
        }
    }

    /// All fallbacks together.
    pub fn total(&self) -> u64 {
        self.internet_edge
            .saturating_add(self.pstn)
            .saturating_add(self.voicemail)
    }
}

/// What became of the calls of one kind.
///
/// There is no offered counter: [`CallStats::offered`] is the sum of the
/// four outcomes, so the identity cannot break.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CallStats {
    /// Set up as asked.
    pub completed: u64,
    /// Taken by a fallback, per fallback.
    pub rerouted: Reroutes,
    /// Turned away, per reason.
    pub blocked: BTreeMap<String, u64>,
    /// Could not be set up, per reason.
    pub failed: BTreeMap<String, u64>,
    /// The media path of each call that set one up.
    pub media: MediaMix,
    /// Setup times, in microseconds, of the calls that reported one.
    pub setup_us: Histogram,
    /// Predicted audio quality of the legs set up (absent in partials
    /// written before it was recorded: read as none).
    #[serde(default)]
    pub quality: QualityStats,
}

impl CallStats {
    /// Calls offered: completed + rerouted + blocked + failed.
    pub fn offered(&self) -> u64 {
        self.completed
            .saturating_add(self.rerouted.total())
            .saturating_add(self.blocked_total())
            .saturating_add(self.failed_total())
    }

    /// Blocked calls, all reasons.
    pub fn blocked_total(&self) -> u64 {
        sum(&self.blocked)
    }

    /// Failed calls, all reasons.
    pub fn failed_total(&self) -> u64 {
        sum(&self.failed)
    }

    /// Counts one offered call.
    pub fn record(
        &mut self,
        outcome: &CallOutcome,
        setup: Option<SimDuration>,
        media: Option<MediaPath>,
    ) {
        match outcome {
            CallOutcome::Completed => self.completed = self.completed.saturating_add(1),
            CallOutcome::Rerouted { via } => {
                let r = &mut self.rerouted;
                let slot = match via {
                    Reroute::InternetEdge => &mut r.internet_edge,
                    Reroute::Pstn => &mut r.pstn,
                    Reroute::Voicemail => &mut r.voicemail,
                };
                *slot = slot.saturating_add(1);
            }
            CallOutcome::Blocked { reason } => bump(&mut self.blocked, reason),
            CallOutcome::Failed { reason } => bump(&mut self.failed, reason),
        }
        if let Some(setup) = setup {
            self.setup_us.record(setup.as_micros());
        }
        if let Some(path) = media {
            self.media.record(path);
        }
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &CallStats) {
        self.completed = self.completed.saturating_add(other.completed);
        self.rerouted.internet_edge = self
            .rerouted
            .internet_edge
            .saturating_add(other.rerouted.internet_edge);
        self.rerouted.pstn = self.rerouted.pstn.saturating_add(other.rerouted.pstn);
        self.rerouted.voicemail = self
            .rerouted
            .voicemail
            .saturating_add(other.rerouted.voicemail);
        for (reason, n) in &other.blocked {
            add_to(&mut self.blocked, reason, *n);
        }
        for (reason, n) in &other.failed {
            add_to(&mut self.failed, reason, *n);
        }
        self.media.add(&other.media);
        self.setup_us.merge(&other.setup_us);
        self.quality.merge(&other.quality);
    }
}

fn sum(counts: &BTreeMap<String, u64>) -> u64 {
    counts.values().fold(0u64, |s, n| s.saturating_add(*n))
}

fn bump(counts: &mut BTreeMap<String, u64>, reason: &str) {
    add_to(counts, reason, 1);
}

fn add_to(counts: &mut BTreeMap<String, u64>, reason: &str, n: u64) {
    // Reasons are a small vocabulary: the key is allocated once per reason,
    // not once per call.
    match counts.get_mut(reason) {
        Some(count) => *count = count.saturating_add(n),
        None => {
            counts.insert(reason.to_string(), n);
        }
    }
}

/// Where an offered call ended up, compactly: the segments its media
/// crossed, its kind of media path and its outcome. Calls with the same
/// label took the same way through the network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathLabel {
    /// Bit `i` set: the media crossed segment `Segment::ALL[i]`.
    segments: u8,
    /// 0: no media path; else 1 + 2 × (position in [`MEDIA_PATH_KINDS`]) + (1 if TCP).
    media: u8,
    /// 0 completed; 1, 2, 3 rerouted via the Internet and an Edge, the
    /// PSTN, voicemail; 4 blocked; 5 failed.
    outcome: u8,
}

impl PathLabel {
    /// The label of a call whose media crossed the segments in the bit set
    /// `segments` on `media`, with `outcome`.
    pub fn new(segments: u8, media: Option<MediaPath>, outcome: &CallOutcome) -> PathLabel {
        let media = media.map_or(0, |m| {
            let k = MEDIA_PATH_KINDS
                .iter()
                .position(|&k| k == m.kind)
                .unwrap_or(0) as u8;
            1 + 2 * k + u8::from(m.tcp)
        });
        let outcome = match outcome {
            CallOutcome::Completed => 0,
            CallOutcome::Rerouted {
                via: Reroute::InternetEdge,
            } => 1,
            CallOutcome::Rerouted { via: Reroute::Pstn } => 2,
            CallOutcome::Rerouted {
                via: Reroute::Voicemail,
            } => 3,
            CallOutcome::Blocked { .. } => 4,
            CallOutcome::Failed { .. } => 5,
        };
        PathLabel {
            segments: segments & 0x0f,
            media,
            outcome,
        }
    }

    /// The segments the media crossed, in lane order.
    pub fn segments(&self) -> Vec<Segment> {
        Segment::ALL
            .iter()
            .enumerate()
            .filter(|(i, _)| self.segments & (1 << i) != 0)
            .map(|(_, s)| *s)
            .collect()
    }

    /// The media path, if one was set up.
    pub fn media(&self) -> Option<MediaPath> {
        let m = self.media.checked_sub(1)?;
        Some(MediaPath {
            kind: MEDIA_PATH_KINDS[usize::from(m / 2) % MEDIA_PATH_KINDS.len()],
            tcp: m % 2 == 1,
        })
    }

    /// The outcome: `completed`, `rerouted:internet-edge`, `rerouted:pstn`,
    /// `rerouted:voicemail`, `blocked` or `failed`.
    pub fn outcome(&self) -> &'static str {
        match self.outcome {
            0 => "completed",
            1 => "rerouted:internet-edge",
            2 => "rerouted:pstn",
            3 => "rerouted:voicemail",
            4 => "blocked",
            _ => "failed",
        }
    }

    /// In words: `customer+expressroute+microsoft relay/udp completed`
    /// (`none` for no segment or no media path).
    pub fn describe(&self) -> String {
        let segments: Vec<&str> = self.segments().iter().map(|s| s.key()).collect();
        let segments = if segments.is_empty() {
            "none".to_string()
        } else {
            segments.join("+")
        };
        let media = match self.media() {
            Some(m) => format!(
                "{}/{}",
                serde_json::to_value(m.kind)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                if m.tcp { "tcp" } else { "udp" }
            ),
            None => "none".to_string(),
        };
        format!("{segments} {media} {}", self.outcome())
    }
}

/// Offered calls of one kind between two groups' users that took one path
/// (see [`Partial::paths`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PathKey {
    /// The call kind's position in [`CallKind::ALL`].
    pub kind: u8,
    /// The groups (by index in the scenario): caller and callee, organizer
    /// and participant, or one group twice (PSTN, broadcast).
    pub groups: [u32; 2],
    /// Where the calls ended up.
    pub label: PathLabel,
}

impl PathKey {
    /// The call kind.
    pub fn call_kind(&self) -> CallKind {
        CallKind::ALL[usize::from(self.kind) % CallKind::ALL.len()]
    }
}

/// A kind's position in [`CallKind::ALL`].
pub(crate) const fn kind_index(kind: CallKind) -> usize {
    match kind {
        CallKind::PeerToPeer => 0,
        CallKind::Conference => 1,
        CallKind::Pstn => 2,
        CallKind::Federated => 3,
        CallKind::Broadcast => 4,
    }
}

/// Shards that cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// Parts of two different replications.
    #[error(
        "cannot merge a part of replication {theirs} into replication {ours}: only shards of one replication merge"
    )]
    Replication {
        /// The replication merged into.
        ours: u32,
        /// The replication of the part offered.
        theirs: u32,
    },
    /// Parts computed from different inputs.
    #[error("cannot merge parts from different inputs: digest {ours:?} against {theirs:?}")]
    Digest {
        /// The digest merged into.
        ours: String,
        /// The digest of the part offered.
        theirs: String,
    },
    /// Parts with different bins or links.
    #[error(
        "cannot merge parts with different layouts: {what} is {ours} here and {theirs} in the other part"
    )]
    Layout {
        /// What differs (`duration_us`, `bin_us`, `resolution_us`, `links`).
        what: &'static str,
        /// Its value in the part merged into.
        ours: u64,
        /// Its value in the part offered.
        theirs: u64,
    },
}

/// A serialized partial that is not one a recorder could have produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PartialError {
    /// Written in another version of the format.
    #[error("partial result format {found} is not this build's format {PARTIAL_FORMAT}")]
    Format {
        /// The format the data says it has.
        found: u32,
    },
    /// Bin widths that no scenario gives.
    #[error(
        "inconsistent layout: duration {duration_us} µs, bin {bin_us} µs, resolution {resolution_us} µs (need 0 < resolution = min(bin, 60 s) and bin ≤ duration)"
    )]
    Widths {
        /// The run's length.
        duration_us: u64,
        /// The time-series bin.
        bin_us: u64,
        /// The resolution bin.
        resolution_us: u64,
    },
    /// A list of the wrong length.
    #[error("{what} holds {found} entries where the layout needs {expected}")]
    Length {
        /// Which list.
        what: String,
        /// What the layout needs.
        expected: usize,
        /// What the data holds.
        found: usize,
    },
    /// A name this build does not know.
    #[error("unknown {what} {name:?}")]
    Unknown {
        /// What kind of name (`traffic class`, `segment`, `call kind`).
        what: &'static str,
        /// The name.
        name: String,
    },
    /// A name every partial holds is missing.
    #[error("missing {what} {name:?}")]
    Missing {
        /// What kind of name.
        what: &'static str,
        /// The name.
        name: String,
    },
}

/// One replication's aggregates (or one shard's share of them): see the
/// module docs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Wire", try_from = "Wire")]
pub struct Partial {
    /// Which replication this is (set by the caller).
    pub replication: u32,
    /// A digest of the inputs this was computed from (set by the caller,
    /// opaque here): parts with different digests refuse to merge.
    pub digest: String,
    layout: Layout,
    /// Per (link, direction), resolution bins: `link_dirs × res`.
    link_res: Vec<Volume>,
    /// Per (link, direction, class), series bins: `link_dirs × 9 × series`.
    link_class: Vec<Volume>,
    /// Per segment, resolution bins: `4 × res`.
    segment_res: Vec<Volume>,
    /// Per (segment, class), series bins: `4 × 9 × series`.
    segment_class: Vec<Volume>,
    /// Call-microseconds per resolution bin.
    concurrency: Vec<u64>,
    /// Per (segment, reason), the whole run: `4 × 6`.
    reasons: Vec<Volume>,
    /// Per call kind, in [`CallKind::ALL`] order.
    calls: Vec<CallStats>,
    /// Offered calls per (kind, groups, path label).
    paths: BTreeMap<PathKey, u64>,
}

/// The bins a recorder hands over, each list as the [`Partial`] fields
/// document.
pub(crate) struct Bins {
    pub link_res: Vec<Volume>,
    pub link_class: Vec<Volume>,
    pub segment_res: Vec<Volume>,
    pub segment_class: Vec<Volume>,
    pub concurrency: Vec<u64>,
    pub reasons: Vec<Volume>,
    pub calls: Vec<CallStats>,
    pub paths: BTreeMap<PathKey, u64>,
}

impl Partial {
    /// A partial of replication 0 with an empty digest; the caller sets
    /// both.
    pub(crate) fn from_bins(layout: Layout, bins: Bins) -> Partial {
        Partial {
            replication: 0,
            digest: String::new(),
            layout,
            link_res: bins.link_res,
            link_class: bins.link_class,
            segment_res: bins.segment_res,
            segment_class: bins.segment_class,
            concurrency: bins.concurrency,
            reasons: bins.reasons,
            calls: bins.calls,
            paths: bins.paths,
        }
    }

    /// The bins' shape.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// A (link, direction)'s traffic per resolution bin.
    ///
    /// # Panics
    /// If `link` is not a link of the topology this partial was recorded on.
    pub fn link_resolution(&self, link: LinkId, dir: LinkDir) -> &[Volume] {
        self.link_resolution_at(link_dir_index(link, dir))
    }

    /// A (link, direction)'s traffic of one class per time-series bin.
    ///
    /// # Panics
    /// As [`Partial::link_resolution`].
    pub fn link_series(&self, link: LinkId, dir: LinkDir, class: TrafficClass) -> &[Volume] {
        self.link_series_at(link_dir_index(link, dir), class_index(class))
    }

    /// A (link, direction)'s whole traffic over the run.
    ///
    /// # Panics
    /// As [`Partial::link_resolution`].
    pub fn link_total(&self, link: LinkId, dir: LinkDir) -> Volume {
        total(self.link_resolution(link, dir))
    }

    /// The traffic crossing a segment per resolution bin.
    pub fn segment_resolution(&self, segment: Segment) -> &[Volume] {
        let n = self.layout.resolution_bins();
        chunk(&self.segment_res, segment_index(segment), n)
    }

    /// The traffic of one class crossing a segment per time-series bin.
    pub fn segment_series(&self, segment: Segment, class: TrafficClass) -> &[Volume] {
        let n = self.layout.series_bins();
        let i = segment_index(segment) * CLASSES.len() + class_index(class);
        chunk(&self.segment_class, i, n)
    }

    /// The traffic crossing a segment over the run.
    pub fn segment_total(&self, segment: Segment) -> Volume {
        total(self.segment_resolution(segment))
    }

    /// The traffic crossing a segment over the run that was tagged with
    /// `reason` (see [`Reason`]); a segment's reasons add up to its total.
    pub fn segment_reason(&self, segment: Segment, reason: Reason) -> Volume {
        self.reasons[segment_index(segment) * Reason::ALL.len() + reason.index()]
    }

    /// Offered calls per kind, pair of groups and where they ended up.
    pub fn paths(&self) -> &BTreeMap<PathKey, u64> {
        &self.paths
    }

    /// Call-microseconds per resolution bin: the bin's mean concurrency
    /// times its width.
    pub fn concurrency(&self) -> &[u64] {
        &self.concurrency
    }

    /// The outcomes of one kind of call.
    pub fn calls(&self, kind: CallKind) -> &CallStats {
        &self.calls[kind_index(kind)]
    }

    pub(crate) fn link_resolution_at(&self, link_dir: usize) -> &[Volume] {
        chunk(&self.link_res, link_dir, self.layout.resolution_bins())
    }

    pub(crate) fn link_series_at(&self, link_dir: usize, class: usize) -> &[Volume] {
        let n = self.layout.series_bins();
        chunk(&self.link_class, link_dir * CLASSES.len() + class, n)
    }

    /// Adds another shard of the same replication: every bin and count is
    /// summed. Exact, and the same whatever order shards are merged in.
    pub fn merge(&mut self, other: &Partial) -> Result<(), MergeError> {
        if self.replication != other.replication {
            return Err(MergeError::Replication {
                ours: self.replication,
                theirs: other.replication,
            });
        }
        if self.digest != other.digest {
            return Err(MergeError::Digest {
                ours: self.digest.clone(),
                theirs: other.digest.clone(),
            });
        }
        layout_matches(&self.layout, &other.layout)?;
        for (mine, theirs) in [
            (&mut self.link_res, &other.link_res),
            (&mut self.link_class, &other.link_class),
            (&mut self.segment_res, &other.segment_res),
            (&mut self.segment_class, &other.segment_class),
            (&mut self.reasons, &other.reasons),
        ] {
            mine.iter_mut().zip(theirs).for_each(|(m, t)| m.add(*t));
        }
        for (m, t) in self.concurrency.iter_mut().zip(&other.concurrency) {
            *m = m.saturating_add(*t);
        }
        for (m, t) in self.calls.iter_mut().zip(&other.calls) {
            m.merge(t);
        }
        for (key, n) in &other.paths {
            let mine = self.paths.entry(*key).or_insert(0);
            *mine = mine.saturating_add(*n);
        }
        Ok(())
    }
}

/// Whether two layouts are the same, or the first field that differs.
pub(crate) fn layout_matches(ours: &Layout, theirs: &Layout) -> Result<(), MergeError> {
    let fields = [
        (
            "duration_us",
            ours.duration.as_micros(),
            theirs.duration.as_micros(),
        ),
        ("bin_us", ours.bin.as_micros(), theirs.bin.as_micros()),
        (
            "resolution_us",
            ours.resolution.as_micros(),
            theirs.resolution.as_micros(),
        ),
        ("links", u64::from(ours.links), u64::from(theirs.links)),
    ];
    match fields.into_iter().find(|(_, a, b)| a != b) {
        Some((what, ours, theirs)) => Err(MergeError::Layout { what, ours, theirs }),
        None => Ok(()),
    }
}

fn chunk<T>(all: &[T], index: usize, len: usize) -> &[T] {
    &all[index * len..(index + 1) * len]
}

fn total(bins: &[Volume]) -> Volume {
    bins.iter().fold(Volume::ZERO, |mut sum, v| {
        sum.add(*v);
        sum
    })
}

/// The serialized form (see the module docs).
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    format: u32,
    replication: u32,
    digest: String,
    layout: WireLayout,
    links: Vec<WireScope>,
    segments: BTreeMap<String, WireScope>,
    concurrency_us: Vec<u64>,
    calls: BTreeMap<String, CallStats>,
    /// Per segment key, per reason word, the non-zero totals.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    reasons: BTreeMap<String, BTreeMap<String, Volume>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    paths: Vec<WirePath>,
}

/// One [`PathKey`] and its count, the label's codes as documented there.
#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WirePath {
    kind: u8,
    groups: [u32; 2],
    segments: u8,
    media: u8,
    outcome: u8,
    calls: u64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireLayout {
    duration_us: u64,
    bin_us: u64,
    resolution_us: u64,
    links: u32,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct WireScope {
    resolution: Vec<Volume>,
    classes: BTreeMap<String, Vec<Volume>>,
}

impl WireScope {
    fn of(resolution: &[Volume], series: impl Fn(usize) -> Vec<Volume>) -> WireScope {
        WireScope {
            resolution: resolution.to_vec(),
            classes: CLASSES
                .iter()
                .enumerate()
                .map(|(i, c)| (c.word().to_string(), series(i)))
                .filter(|(_, bins)| bins.iter().any(|v| !v.is_zero()))
                .collect(),
        }
    }

    /// Appends this scope's bins to the flat lists, checking every length
    /// and class name.
    fn unpack(
        self,
        what: &str,
        layout: &Layout,
        resolution: &mut Vec<Volume>,
        classes: &mut Vec<Volume>,
    ) -> Result<(), PartialError> {
        let (res_bins, series_bins) = (layout.resolution_bins(), layout.series_bins());
        expect_len(
            format!("{what} resolution"),
            res_bins,
            self.resolution.len(),
        )?;
        resolution.extend(self.resolution);
        let mut by_class: Vec<Option<Vec<Volume>>> = vec![None; CLASSES.len()];
        for (name, bins) in self.classes {
            let Some(i) = CLASSES.iter().position(|c| c.word() == name) else {
                return Err(PartialError::Unknown {
                    what: "traffic class",
                    name,
                });
            };
            expect_len(format!("{what} class {name}"), series_bins, bins.len())?;
            by_class[i] = Some(bins);
        }
        for bins in by_class {
            match bins {
                Some(bins) => classes.extend(bins),
                None => classes.extend(std::iter::repeat_n(Volume::ZERO, series_bins)),
            }
        }
        Ok(())
    }
}

fn expect_len(what: String, expected: usize, found: usize) -> Result<(), PartialError> {
    if expected == found {
        Ok(())
    } else {
        Err(PartialError::Length {
            what,
            expected,
            found,
        })
    }
}

impl From<Partial> for Wire {
    fn from(p: Partial) -> Wire {
        let layout = p.layout;
        let links = (0..layout.link_dirs())
            .map(|i| WireScope::of(p.link_resolution_at(i), |c| p.link_series_at(i, c).to_vec()))
            .collect();
        let segments = Segment::ALL
            .iter()
            .map(|&s| {
                let scope = WireScope::of(p.segment_resolution(s), |c| {
                    p.segment_series(s, CLASSES[c]).to_vec()
                });
                (s.key().to_string(), scope)
            })
            .collect();
        let calls = CallKind::ALL
            .iter()
            .map(|&k| (k.word().to_string(), p.calls(k).clone()))
            .collect();
        let mut reasons: BTreeMap<String, BTreeMap<String, Volume>> = BTreeMap::new();
        for s in Segment::ALL {
            for r in Reason::ALL {
                let v = p.segment_reason(s, r);
                if !v.is_zero() {
                    reasons
                        .entry(s.key().to_string())
                        .or_default()
                        .insert(r.word().to_string(), v);
                }
            }
        }
        let paths = p
            .paths
            .iter()
            .map(|(k, n)| WirePath {
                kind: k.kind,
                groups: k.groups,
                segments: k.label.segments,
                media: k.label.media,
                outcome: k.label.outcome,
                calls: *n,
            })
            .collect();
        Wire {
            format: PARTIAL_FORMAT,
            replication: p.replication,
            digest: p.digest,
            layout: WireLayout {
                duration_us: layout.duration.as_micros(),
                bin_us: layout.bin.as_micros(),
                resolution_us: layout.resolution.as_micros(),
                links: layout.links,
            },
            links,
            segments,
            concurrency_us: p.concurrency,
            calls,
            reasons,
            paths,
        }
    }
}

impl TryFrom<Wire> for Partial {
    type Error = PartialError;

    fn try_from(w: Wire) -> Result<Partial, PartialError> {
        if w.format != PARTIAL_FORMAT {
            return Err(PartialError::Format { found: w.format });
        }
        let l = &w.layout;
        if l.duration_us == 0
            || l.bin_us == 0
            || l.bin_us > l.duration_us
            || l.resolution_us != l.bin_us.min(Layout::MAX_RESOLUTION.as_micros())
        {
            return Err(PartialError::Widths {
                duration_us: l.duration_us,
                bin_us: l.bin_us,
                resolution_us: l.resolution_us,
            });
        }
        let layout = Layout {
            duration: SimDuration::from_micros(l.duration_us),
            bin: SimDuration::from_micros(l.bin_us),
            resolution: SimDuration::from_micros(l.resolution_us),
            links: l.links,
        };
        expect_len("links".into(), layout.link_dirs(), w.links.len())?;
        let mut link_res = Vec::new();
        let mut link_class = Vec::new();
        for (i, scope) in w.links.into_iter().enumerate() {
            let what = format!("link entry {i}");
            scope.unpack(&what, &layout, &mut link_res, &mut link_class)?;
        }
        let mut segments = w.segments;
        let mut segment_res = Vec::new();
        let mut segment_class = Vec::new();
        for s in Segment::ALL {
            let Some(scope) = segments.remove(s.key()) else {
                return Err(PartialError::Missing {
                    what: "segment",
                    name: s.key().to_string(),
                });
            };
            let what = format!("segment {}", s.key());
            scope.unpack(&what, &layout, &mut segment_res, &mut segment_class)?;
        }
        if let Some(name) = segments.into_keys().next() {
            return Err(PartialError::Unknown {
                what: "segment",
                name,
            });
        }
        expect_len(
            "concurrency_us".into(),
            layout.resolution_bins(),
            w.concurrency_us.len(),
        )?;
        let mut by_kind = w.calls;
        let mut calls = Vec::with_capacity(CallKind::ALL.len());
        for k in CallKind::ALL {
            match by_kind.remove(k.word()) {
                Some(stats) => calls.push(stats),
                None => {
                    return Err(PartialError::Missing {
                        what: "call kind",
                        name: k.word().to_string(),
                    });
                }
            }
        }
        if let Some(name) = by_kind.into_keys().next() {
            return Err(PartialError::Unknown {
                what: "call kind",
                name,
            });
        }
        let mut reasons = vec![Volume::ZERO; Segment::ALL.len() * Reason::ALL.len()];
        for (segment, by_reason) in w.reasons {
            let Some(s) = Segment::ALL.iter().position(|s| s.key() == segment) else {
                return Err(PartialError::Unknown {
                    what: "segment",
                    name: segment,
                });
            };
            for (reason, v) in by_reason {
                let Some(r) = Reason::ALL.iter().position(|r| r.word() == reason) else {
                    return Err(PartialError::Unknown {
                        what: "reason",
                        name: reason,
                    });
                };
                reasons[s * Reason::ALL.len() + r] = v;
            }
        }
        let mut paths = BTreeMap::new();
        for p in w.paths {
            if usize::from(p.kind) >= CallKind::ALL.len()
                || p.segments > 0x0f
                || usize::from(p.media) > 2 * MEDIA_PATH_KINDS.len()
                || p.outcome > 5
            {
                return Err(PartialError::Unknown {
                    what: "path label",
                    name: format!(
                        "kind {} segments {} media {} outcome {}",
                        p.kind, p.segments, p.media, p.outcome
                    ),
                });
            }
            let key = PathKey {
                kind: p.kind,
                groups: p.groups,
                label: PathLabel {
                    segments: p.segments,
                    media: p.media,
                    outcome: p.outcome,
                },
            };
            let n = paths.entry(key).or_insert(0u64);
            *n = n.saturating_add(p.calls);
        }
        Ok(Partial {
            replication: w.replication,
            digest: w.digest,
            layout,
            link_res,
            link_class,
            segment_res,
            segment_class,
            concurrency: w.concurrency_us,
            reasons,
            calls,
            paths,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::fixtures::{multi_site, path, scenario};
    use crate::metrics::{Recorder, Stream};
    use crate::time::SimTime;
    use crate::units::Bitrate;

    fn recorded(replication: u32, digest: &str, minutes: u64) -> Partial {
        let t = multi_site();
        let sc = scenario(SimDuration::from_mins(minutes), SimDuration::from_mins(1));
        let mut r = Recorder::new(&t, &sc);
        let s = Stream {
            hops: path(&t, &["hq", "hq-core", "hq-fw"]).into(),
            rate: Bitrate::bps(12_345),
            class: TrafficClass::Sharing,
        };
        r.stream_start_for(SimTime::from_micros(1_234_567), &s, Reason::OutsideUsers);
        r.call_path(
            CallKind::Conference,
            (crate::model::GroupId(1), crate::model::GroupId(2)),
            None,
            &CallOutcome::Blocked {
                reason: "full".into(),
            },
        );
        r.call_started(SimTime::from_micros(1_234_567));
        r.call_outcome(
            CallKind::Conference,
            &CallOutcome::Failed {
                reason: "return-dropped".into(),
            },
            Some(SimDuration::from_millis(3_000)),
            None,
        );
        let mut p = r.finish(SimTime::from_micros(100_000_000));
        p.replication = replication;
        p.digest = digest.to_string();
        p
    }

    #[test]
    fn serde_round_trips_byte_for_byte() {
        let p = recorded(2, "abc", 3);
        let text = serde_json::to_string(&p).unwrap();
        let back: Partial = serde_json::from_str(&text).unwrap();
        assert_eq!(back, p);
        assert_eq!(serde_json::to_string(&back).unwrap(), text);
        // Only the class that carried anything is written.
        assert!(text.contains(r#""classes":{"sharing":[["#), "{text}");
        assert!(!text.contains(r#""audio""#));
        assert!(text.contains(r#""failed":{"return-dropped":1}"#));
        assert!(
            text.contains(r#""reasons":{"customer":{"outside-users":["#),
            "{text}"
        );
        assert!(
            text.contains(
                r#""paths":[{"kind":1,"groups":[1,2],"segments":0,"media":0,"outcome":4,"calls":1}]"#
            ),
            "{text}"
        );
    }

    #[test]
    fn damaged_or_foreign_partials_are_refused() {
        let good = serde_json::to_string(&recorded(0, "abc", 3)).unwrap();
        let cases = [
            (
                good.replacen(r#""format":1"#, r#""format":2"#, 1),
                "format 2",
            ),
            (
                good.replacen(r#""bin_us":60000000"#, r#""bin_us":30000000"#, 1),
                "inconsistent layout",
            ),
            (
                good.replacen(r#""sharing""#, r#""smoke-signals""#, 1),
                "unknown traffic class \"smoke-signals\"",
            ),
            (
                good.replacen(r#""customer""#, r#""moon""#, 1),
                "missing segment \"customer\"",
            ),
            (
                good.replacen(r#""pstn":{"completed""#, r#""telegraph":{"completed""#, 1),
                "missing call kind \"pstn\"",
            ),
            (
                good.replacen(r#""concurrency_us":["#, r#""concurrency_us":[1,"#, 1),
                "concurrency_us holds 4 entries where the layout needs 3",
            ),
            (
                good.replacen(r#""resolution":[[0,0],"#, r#""resolution":["#, 1),
                "link entry 0 resolution holds 2 entries",
            ),
            (
                good.replacen("[0,0]", "[0,8000000]", 1),
                "not below one byte",
            ),
            (
                good.replacen(r#""replication":0"#, r#""replication":0,"extra":1"#, 1),
                "unknown field `extra`",
            ),
            (
                good.replacen(r#""outside-users""#, r#""bad-luck""#, 1),
                "unknown reason \"bad-luck\"",
            ),
            (
                good.replacen(r#""outcome":4"#, r#""outcome":9"#, 1),
                "unknown path label",
            ),
        ];
        for (text, expected) in cases {
            assert_ne!(text, good, "the case for {expected:?} changed nothing");
            let err = serde_json::from_str::<Partial>(&text).unwrap_err();
            assert!(err.to_string().contains(expected), "{expected:?}: {err}");
        }
    }

    #[test]
    fn only_shards_of_one_replication_from_the_same_inputs_merge() {
        let mut a = recorded(1, "abc", 3);
        let err = a.merge(&recorded(2, "abc", 3)).unwrap_err();
        assert_eq!(err, MergeError::Replication { ours: 1, theirs: 2 });
        assert!(err.to_string().contains("replication 2 into replication 1"));
        let err = a.merge(&recorded(1, "xyz", 3)).unwrap_err();
        assert!(matches!(err, MergeError::Digest { .. }), "{err}");
        let err = a.merge(&recorded(1, "abc", 4)).unwrap_err();
        assert_eq!(
            err,
            MergeError::Layout {
                what: "duration_us",
                ours: 180_000_000,
                theirs: 240_000_000
            }
        );
        // A refused merge leaves the partial as it was.
        assert_eq!(a, recorded(1, "abc", 3));
        a.merge(&recorded(1, "abc", 3)).unwrap();
        let c = a.calls(CallKind::Conference);
        assert_eq!((c.failed_total(), c.offered()), (2, 2));
        assert_eq!(a.paths().values().copied().collect::<Vec<_>>(), vec![2]);
        let twice = recorded(1, "abc", 3).segment_reason(Segment::Customer, Reason::OutsideUsers);
        let mut doubled = twice;
        doubled.add(twice);
        assert_eq!(
            a.segment_reason(Segment::Customer, Reason::OutsideUsers),
            doubled
        );
        assert_eq!(c.setup_us.count(), 2);
        assert_eq!(
            a.concurrency().iter().sum::<u64>(),
            2 * (100_000_000 - 1_234_567)
        );
    }
}
