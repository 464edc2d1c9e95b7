//! Traffic and call aggregation: what one replication carried, on which
//! links and segments, at what rates, and what became of its calls.
//!
//! Owns the streaming side of the results:
//!
//! - [`Recorder`] ([`recorder`]): fed by the engine in simulated-time order
//!   (stream starts and ends, one-shot transfers, call starts, ends and
//!   outcomes), it integrates every constant-bitrate stream exactly into
//!   fixed time bins. Its memory is fixed when it is made — links × bins,
//!   never the number of calls.
//! - [`Partial`] ([`partial`]): what a recorder hands back, serializable
//!   and *mergeable*: every figure in it is a sum, a count, a histogram or a
//!   time bin, never a finished percentile, so shards of one replication
//!   merge exactly, in any order, into what one unsharded run records.
//! - [`Volume`] ([`volume`]): the exact unit of a bin, whole bytes plus the
//!   part of a byte left over.
//! - [`summary`]: many replications' partials into the run's outputs
//!   (summary.json, links.csv, segments.csv, calls.csv, timeseries.csv).
//!
//! # What is counted where
//!
//! Traffic is kept in two bin widths ([`Layout`]):
//!
//! - the *resolution*, 60 s or the scenario's `bin` if smaller, per link and
//!   direction and per segment: the per-bin mean bitrates that peaks and
//!   P50/P95/P99 come from, and call-seconds for concurrency;
//! - the scenario's `bin`, per link, direction and traffic class and per
//!   segment and class: the time series.
//!
//! A link's traffic is counted per direction: a hop `(link, AToB)` is
//! traffic from the link's first end to its second ([`Topology::ends`]).
//!
//! A segment's traffic is the traffic that crosses it: a stream counts once
//! in every segment it crosses, however many of that segment's links it
//! uses, and in both directions together. So a segment's total is *not*
//! the sum of its links. Links count toward their segment
//! ([`Link::segment`]) when they are run by the tenant, the public
//! Internet, Microsoft or a remote location (remote users' home and hotel
//! networks are the Internet from the tenant's view; the model already
//! puts them in the Internet segment). Other organizations' own links
//! ([`Owner::Organization`]) are reported per link but left out of every
//! segment total: a partner's LAN is not the tenant's network, and its
//! circuit is not the tenant's ExpressRoute.
//!
//! Concurrency is kept as call-seconds per resolution bin. The mean over
//! the run is exact; the peak is the largest *bin mean*, so it is a peak at
//! the resolution's granularity (a one-second spike inside a minute shows
//! as its share of that minute). That is deliberate: a bin mean is a sum,
//! which merges exactly across shards; an instantaneous maximum does not.
//!
//! Each segment's traffic is also kept per [`Reason`] — why a stream would
//! cross the Internet whatever the circuit — as totals over the run (no
//! bins), so the Internet segment's bytes split into the flows that cannot
//! move and the rest.
//!
//! Calls are counted per [`CallKind`]: completed, rerouted (per fallback),
//! blocked and failed (per reason), the media path of those that set one
//! up, and their setup times; and per kind, pair of groups and path label
//! (segments crossed, media path, outcome: [`PathLabel`]), which is how
//! `callflow compare` finds the calls whose path a variant changed. Offered is never stored: it is the sum of the
//! four outcomes, so offered = completed + rerouted + blocked + failed
//! holds by construction.
//!
//! Leaves out how streams and outcomes arise (the engine), the statistics
//! across replications' partials beyond their means and intervals, and
//! writing files (the caller writes the bytes the summary returns).
//!
//! [`Topology::ends`]: crate::model::Topology::ends
//! [`Link::segment`]: crate::model::Link::segment
//! [`Owner::Organization`]: crate::model::Owner::Organization
//! [`CallKind`]: crate::engine::call::CallKind

pub mod call_quality;
pub mod partial;
pub mod recorder;
pub mod summary;
pub mod volume;

pub use call_quality::{QualityStats, QualitySummary, StreamQuality};
pub use partial::{
    CallStats, MediaMix, MergeError, Partial, PartialError, PathKey, PathLabel, Reroutes,
    Transports,
};
pub use recorder::Recorder;
pub use summary::{Summary, SummaryError, WriteError, summarize};
pub use volume::Volume;

/// The kinds of media path, as ICE settles them.
pub use crate::ice::negotiate::MediaPathKind;

use serde::Serialize;

use crate::model::{LinkId, Scenario, Segment, Topology};
use crate::net::packet::TrafficClass;
use crate::time::SimDuration;
use crate::units::Bitrate;

/// Which way traffic crosses a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkDir {
    /// From the link's first end to its second (`topology.ends(link)`).
    AToB,
    /// From its second end to its first.
    BToA,
}

impl LinkDir {
    /// Both, in output order.
    pub const ALL: [LinkDir; 2] = [LinkDir::AToB, LinkDir::BToA];

    /// 0 for a→b, 1 for b→a.
    pub const fn index(self) -> usize {
        match self {
            LinkDir::AToB => 0,
            LinkDir::BToA => 1,
        }
    }
}

/// A constant-bitrate, one-way flow along a path: one direction of one
/// modality of one call leg, or a signaling or background flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stream {
    /// The links it crosses and which way, in path order.
    pub hops: std::sync::Arc<[(LinkId, LinkDir)]>,
    /// Its bitrate.
    pub rate: Bitrate,
    /// What it carries.
    pub class: TrafficClass,
}

/// What became of an offered call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOutcome {
    /// Set up as asked.
    Completed,
    /// Admission control turned it away from its first path and a fallback
    /// took it.
    Rerouted {
        /// The fallback that took it.
        via: Reroute,
    },
    /// Turned away with nowhere else to go.
    Blocked {
        /// Why, in a short stable phrase (e.g. `cac-audio-limit`).
        reason: String,
    },
    /// Could not be set up.
    Failed {
        /// Why, in a short stable phrase (e.g. `return-dropped`,
        /// `no-working-pair`).
        reason: String,
    },
}

/// The fallbacks of Skype for Business call admission control, in the order
/// they are tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reroute {
    /// Through the Internet and an Edge server.
    InternetEdge,
    /// Through the phone network.
    Pstn,
    /// To voicemail.
    Voicemail,
}

impl Reroute {
    /// Every fallback, in the order they are tried.
    pub const ALL: [Reroute; 3] = [Reroute::InternetEdge, Reroute::Pstn, Reroute::Voicemail];

    /// The word used in output.
    pub fn word(self) -> &'static str {
        match self {
            Reroute::InternetEdge => "internet-edge",
            Reroute::Pstn => "pstn",
            Reroute::Voicemail => "voicemail",
        }
    }
}

/// How a call's media flows, as ICE settled it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct MediaPath {
    /// Direct, through NAT, or relayed.
    pub kind: MediaPathKind,
    /// Whether media runs over TCP (else UDP).
    pub tcp: bool,
}

/// Every kind of media path, in output order.
pub const MEDIA_PATH_KINDS: [MediaPathKind; 4] = [
    MediaPathKind::Direct,
    MediaPathKind::Nat,
    MediaPathKind::Relay,
    MediaPathKind::RelayRelay,
];

/// Every traffic class, in the order bins are kept and output.
pub const CLASSES: [TrafficClass; 9] = [
    TrafficClass::Signaling,
    TrafficClass::Audio,
    TrafficClass::Video,
    TrafficClass::Sharing,
    TrafficClass::FileTransfer,
    TrafficClass::Stun,
    TrafficClass::Web,
    TrafficClass::Dependency,
    TrafficClass::Streaming,
];

/// A class's position in [`CLASSES`].
pub(crate) const fn class_index(class: TrafficClass) -> usize {
    match class {
        TrafficClass::Signaling => 0,
        TrafficClass::Audio => 1,
        TrafficClass::Video => 2,
        TrafficClass::Sharing => 3,
        TrafficClass::FileTransfer => 4,
        TrafficClass::Stun => 5,
        TrafficClass::Web => 6,
        TrafficClass::Dependency => 7,
        TrafficClass::Streaming => 8,
    }
}

/// Why a stream's traffic would cross the Internet whatever the circuit:
/// the source document's "traffic that can only be sent over the Internet"
/// (broadcast streaming, DNS, revocation lists and telemetry, federation
/// with Skype consumer), traffic to or from another company's own servers
/// (its on-premises Edge and meetings), and users outside the network (home
/// and hotel, who reach Microsoft over the Internet). Every stream and
/// transfer is tagged with one reason when it starts, from its call's kind
/// and the places of the participants it serves, the first that applies in
/// [`Reason::ALL`] order; `Other` is what could move (the tenant's sites).
/// The recorder keeps each segment's bytes per reason (totals, no bins), so
/// a segment's reasons add up to its total.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// Skype Meeting Broadcast / live-event streams from the CDN.
    BroadcastStreaming,
    /// DNS lookups, revocation lists and telemetry.
    Dependencies,
    /// Calls with Skype consumer users.
    ConsumerFederation,
    /// Calls and meetings with users of another company that runs its own
    /// servers (media to or through its on-premises Edge).
    PartnerOnPrem,
    /// Users at remote locations (home, hotel), outside the network.
    OutsideUsers,
    /// Anything else: the tenant's users at its sites, and Online partners.
    Other,
}

impl Reason {
    /// Every reason, in precedence and output order.
    pub const ALL: [Reason; 6] = [
        Reason::BroadcastStreaming,
        Reason::Dependencies,
        Reason::ConsumerFederation,
        Reason::PartnerOnPrem,
        Reason::OutsideUsers,
        Reason::Other,
    ];

    /// The word used in output.
    pub fn word(self) -> &'static str {
        match self {
            Reason::BroadcastStreaming => "broadcast-streaming",
            Reason::Dependencies => "dependencies",
            Reason::ConsumerFederation => "consumer-federation",
            Reason::PartnerOnPrem => "partner-on-prem",
            Reason::OutsideUsers => "outside-users",
            Reason::Other => "other",
        }
    }

    /// Its position in [`Reason::ALL`].
    pub const fn index(self) -> usize {
        match self {
            Reason::BroadcastStreaming => 0,
            Reason::Dependencies => 1,
            Reason::ConsumerFederation => 2,
            Reason::PartnerOnPrem => 3,
            Reason::OutsideUsers => 4,
            Reason::Other => 5,
        }
    }
}

/// A segment's position in [`Segment::ALL`].
pub(crate) const fn segment_index(segment: Segment) -> usize {
    match segment {
        Segment::Customer => 0,
        Segment::Internet => 1,
        Segment::ExpressRoute => 2,
        Segment::Microsoft => 3,
    }
}

/// The shape of a replication's bins: fixed by the topology and scenario,
/// the same in every recorder and partial of a run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// The run's length; bins cover `[0, duration)`.
    pub duration: SimDuration,
    /// The time-series bin width (the scenario's `bin`).
    pub bin: SimDuration,
    /// The resolution bin width: [`Layout::MAX_RESOLUTION`] or `bin` if
    /// smaller.
    pub resolution: SimDuration,
    /// How many links the topology has.
    pub links: u32,
}

impl Layout {
    /// The coarsest resolution: one minute, so a peak is at worst a
    /// one-minute mean.
    pub const MAX_RESOLUTION: SimDuration = SimDuration::from_secs(60);

    /// The layout for a run of `scenario` on `topology`. A validated
    /// scenario has `0 < bin ≤ duration`; widths are kept at one
    /// microsecond or more whatever is passed.
    pub fn of(topology: &Topology, scenario: &Scenario) -> Layout {
        let duration = scenario.duration.max(SimDuration::from_micros(1));
        let bin = scenario.bin.max(SimDuration::from_micros(1));
        Layout {
            duration,
            bin,
            resolution: bin.min(Layout::MAX_RESOLUTION),
            links: topology.graph.edge_count() as u32,
        }
    }

    /// How many (link, direction) pairs there are.
    pub fn link_dirs(&self) -> usize {
        self.links as usize * 2
    }

    /// How many resolution bins cover the run (the last may be partial).
    pub fn resolution_bins(&self) -> usize {
        bins(self.duration, self.resolution)
    }

    /// How many time-series bins cover the run (the last may be partial).
    pub fn series_bins(&self) -> usize {
        bins(self.duration, self.bin)
    }

    /// The width of resolution bin `k` (the last is cut at the run's end).
    pub fn resolution_width(&self, k: usize) -> SimDuration {
        width(self.duration, self.resolution, k)
    }

    /// The width of time-series bin `k` (the last is cut at the run's end).
    pub fn series_width(&self, k: usize) -> SimDuration {
        width(self.duration, self.bin, k)
    }
}

fn bins(duration: SimDuration, width: SimDuration) -> usize {
    duration.as_micros().div_ceil(width.as_micros().max(1)) as usize
}

fn width(duration: SimDuration, width: SimDuration, k: usize) -> SimDuration {
    let start = (k as u64).saturating_mul(width.as_micros());
    let end = start
        .saturating_add(width.as_micros())
        .min(duration.as_micros());
    SimDuration::from_micros(end.saturating_sub(start))
}

/// Where a (link, direction) pair's bins sit among all of them: link order,
/// a→b before b→a.
pub(crate) fn link_dir_index(link: LinkId, dir: LinkDir) -> usize {
    link.0.index() * 2 + dir.index()
}

/// Models shared by the metrics tests: the multi-site example and a
/// scenario built around it.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::path::Path;

    use super::LinkDir;
    use crate::diag::SourceFile;
    use crate::model::{
        ConferenceRule, DEFAULT_HOURLY, Dependencies, LinkId, Persona, Scenario, Topology,
    };
    use crate::time::SimDuration;
    use crate::units::DataSize;

    /// `topologies/multi-site.toml`.
    pub fn multi_site() -> Topology {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/multi-site.toml");
        crate::validate::load_topology(&path).expect("the multi-site example validates")
    }

    /// The multi-site example with its scenario
    /// (`scenarios/multi-site.toml`).
    pub fn multi_site_study() -> crate::validate::Study {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        crate::validate::load_study(
            &root.join("topologies/multi-site.toml"),
            &root.join("scenarios/multi-site.toml"),
        )
        .expect("the multi-site example validates")
    }

    /// The multi-site example with a federated partner, whose own links
    /// belong to another organization.
    pub fn with_partner() -> Topology {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/multi-site.toml");
        let mut text = std::fs::read_to_string(&path).expect("the example is readable");
        text.push_str(
            r#"
[[organization]]
name = "fabrikam"
kind = "online"
home_region = "eu-west"
subnet = "10.80.0.0/16"
public = "192.0.2.80"
"#,
        );
        crate::validate::topology_from_source(&SourceFile::new("with-partner.toml", text))
            .expect("the example with a partner validates")
    }

    /// The hops from the first named element to the last through the named
    /// ones, each with the direction it is crossed in.
    pub fn path(t: &Topology, names: &[&str]) -> Vec<(LinkId, LinkDir)> {
        names
            .windows(2)
            .map(|w| {
                let from = t.node_named(w[0]).expect(w[0]);
                let to = t.node_named(w[1]).expect(w[1]);
                let link = t
                    .links_of(from)
                    .into_iter()
                    .find(|&l| t.other_end(l, from) == to)
                    .unwrap_or_else(|| panic!("no link {} - {}", w[0], w[1]));
                let dir = if t.ends(link).0 == from {
                    LinkDir::AToB
                } else {
                    LinkDir::BToA
                };
                (link, dir)
            })
            .collect()
    }

    /// A scenario of `duration` with time-series bins of `bin`; nothing in
    /// it but time (the recorder reads nothing else).
    pub fn scenario(duration: SimDuration, bin: SimDuration) -> Scenario {
        Scenario {
            name: "metrics-test".to_string(),
            description: None,
            seed: 1,
            replications: 1,
            duration,
            start: SimDuration::from_hours(9),
            bin,
            conference_rule: ConferenceRule::Organizer,
            bitrate_basis: crate::codec::Basis::Max,
            reroute: crate::model::RerouteChoice {
                internet: true,
                pstn: true,
                voicemail: true,
            },
            hourly: DEFAULT_HOURLY.to_vec(),
            dependencies: Dependencies {
                enabled: false,
                dns: DataSize::ZERO,
                crl: DataSize::ZERO,
                telemetry: DataSize::ZERO,
            },
            failures: vec![],
            groups: vec![],
            personas: vec![Persona::microsoft_user_model()],
            probes: vec![],
            variants: vec![],
            sweep: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fixtures::{multi_site, scenario};

    #[test]
    fn the_resolution_is_a_minute_or_the_bin_if_finer() {
        let t = multi_site();
        let l = Layout::of(
            &t,
            &scenario(SimDuration::from_hours(8), SimDuration::from_mins(15)),
        );
        assert_eq!(l.resolution, SimDuration::from_secs(60));
        assert_eq!((l.resolution_bins(), l.series_bins()), (480, 32));
        assert_eq!(l.links as usize, t.graph.edge_count());
        let fine = Layout::of(
            &t,
            &scenario(SimDuration::from_secs(100), SimDuration::from_secs(30)),
        );
        assert_eq!(fine.resolution, SimDuration::from_secs(30));
        // 100 s in 30 s bins: three full and a 10 s tail.
        assert_eq!(fine.resolution_bins(), 4);
        assert_eq!(fine.resolution_width(2), SimDuration::from_secs(30));
        assert_eq!(fine.resolution_width(3), SimDuration::from_secs(10));
        assert_eq!(fine.series_width(3), SimDuration::from_secs(10));
    }

    #[test]
    fn class_and_segment_indices_follow_their_lists() {
        for (i, c) in CLASSES.iter().enumerate() {
            assert_eq!(class_index(*c), i);
        }
        for (i, s) in Segment::ALL.iter().enumerate() {
            assert_eq!(segment_index(*s), i);
        }
        for (i, d) in LinkDir::ALL.iter().enumerate() {
            assert_eq!(d.index(), i);
        }
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(r.index(), i);
            assert_eq!(
                serde_json::to_string(r).unwrap(),
                format!("\"{}\"", r.word())
            );
        }
    }
}
