//! The validated scenario: people, personas, time, probes, variants.
//!
//! # Defaults: Microsoft's capacity user model
//!
//! Every persona value a scenario leaves out comes from Microsoft's user
//! model for Skype for Business Server ("User models in Skype for Business
//! Server"; figures in `reference/domain.md` §7.1). Where that model gives no
//! figure, the default is an assumption, marked as such:
//!
//! | value | default | where it comes from |
//! |---|---|---|
//! | PSTN calls per user per day | 4.608 | 60% of users enabled for Enterprise Voice × 60% of those PSTN-enabled × 4 busy-hour calls, and busy hour = 50% of the day's calls in 1.6 h, so a day is 4 × 1.6 / 0.5 = 12.8 calls per PSTN user |
//! | PSTN holding time | exponential, mean 3 min | the model's 3-minute PSTN calls |
//! | meetings organized per user per day | 0.088 | 5% of users in conferences through an 8-hour day at a mean size of 4.55 and a mean length of 60 min (the length is an assumption) |
//! | meeting sizes | 4 (85%), 6 (10%), 11 (5%) | the model's simulated sizes |
//! | meeting participants | 50% internal, 40% remote, 10% federated | the model's 50% internal, 25% remote authenticated + 15% anonymous (both join from outside), 10% federated |
//! | meeting holding time | lognormal, mean 60 min, sd 30 min | assumption |
//! | peer-to-peer calls per user per day | 2.0 | assumption: the model gives IM and app-sharing rates but no voice rate |
//! | peer-to-peer holding time | exponential, mean 5 min | assumption |
//! | video share | 15% | 75% of meetings are web conferences × 20% of those add video |
//! | sharing share | 12.5% | 0.25 app-sharing sessions per user per day over 2 calls |
//! | file transfer share | 2.5% | 0.05 transfers per user per day over 2 calls |
//! | federated calls, broadcasts | 0 | the model has none; scenarios add them |
//! | day | 8 h from 09:00, busy hours 11:00–13:00 | 50% of calls in 1.6 h (the busy-hour rule) |

use std::net::IpAddr;

use super::{GroupId, LinkId, NodeId, OrgId, PersonaId, Protocol, RemoteId};
use crate::time::SimDuration;
use crate::units::{DataSize, Ratio};

/// A validated scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Its name.
    pub name: String,
    /// What it shows.
    pub description: Option<String>,
    /// The master seed.
    pub seed: u64,
    /// Independent replications.
    pub replications: u32,
    /// How much simulated time a run covers.
    pub duration: SimDuration,
    /// Time of day at the start of the run, as an offset from midnight.
    pub start: SimDuration,
    /// Width of time bins.
    pub bin: SimDuration,
    /// Where conferences are hosted.
    pub conference_rule: ConferenceRule,
    /// Which codec-table figure streams use.
    pub bitrate_basis: crate::codec::Basis,
    /// What call admission control may reroute through.
    pub reroute: RerouteChoice,
    /// Relative busyness per hour from `start`; mean 1 over the run.
    pub hourly: Vec<f64>,
    /// Internet-only flows beside each call.
    pub dependencies: Dependencies,
    /// Links down for part of the run.
    pub failures: Vec<Failure>,
    /// Groups of users.
    pub groups: Vec<Group>,
    /// Personas.
    pub personas: Vec<Persona>,
    /// Probes for `callflow trace`.
    pub probes: Vec<Probe>,
    /// The names of the variants the scenario defines, in file order.
    pub variants: Vec<String>,
    /// The sweep, if any.
    pub sweep: Option<Sweep>,
}

/// Which rule places a conference.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConferenceRule {
    /// Skype for Business: where the organizer is homed.
    Organizer,
    /// Teams: the region of the first participant to join.
    FirstJoiner,
}

/// The reroutes call admission control may use, in SfB's order (§6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RerouteChoice {
    /// Through the Internet and an Edge.
    pub internet: bool,
    /// Through the PSTN.
    pub pstn: bool,
    /// To voicemail.
    pub voicemail: bool,
}

/// The small Internet-only flows beside each call.
#[derive(Debug, Clone, Copy)]
pub struct Dependencies {
    /// Whether they are simulated.
    pub enabled: bool,
    /// DNS data per call.
    pub dns: DataSize,
    /// Certificate revocation data per call.
    pub crl: DataSize,
    /// Telemetry per call.
    pub telemetry: DataSize,
}

/// A link down for a while.
#[derive(Debug, Clone, Copy)]
pub struct Failure {
    /// The link (one circuit connection, or any link).
    pub link: LinkId,
    /// When it fails.
    pub at: SimDuration,
    /// When it comes back.
    pub until: SimDuration,
}

/// Where a group's users sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// An office, datacenter or DMZ of the tenant.
    Site(NodeId),
    /// A remote location.
    Remote(RemoteId),
    /// Another organization.
    Organization(OrgId),
}

/// Where a user is homed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Homing {
    /// Online, in the tenant's home region.
    Online,
    /// On the tenant's on-premises Front End pool.
    OnPrem,
    /// At another organization.
    Partner(OrgId),
}

/// Users who sit in one place, are homed alike and behave alike.
#[derive(Debug, Clone)]
pub struct Group {
    /// Its name.
    pub name: String,
    /// Where they sit.
    pub place: Place,
    /// The LAN their clients are on.
    pub lan: NodeId,
    /// A representative client address (IPv4).
    pub address: IpAddr,
    /// A representative client address (IPv6), if the group uses IPv6.
    pub address_v6: Option<IpAddr>,
    /// Where they are homed.
    pub homing: Homing,
    /// Their persona.
    pub persona: PersonaId,
    /// How many users.
    pub count: u32,
}

/// Codec and bitrate tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CodecProfile {
    /// Skype for Business tables.
    Sfb,
    /// Teams tables.
    Teams,
}

/// A holding-time distribution.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Holding {
    /// Exponential with this mean.
    Exponential {
        /// Mean.
        mean: SimDuration,
    },
    /// Lognormal with this mean and standard deviation.
    Lognormal {
        /// Mean.
        mean: SimDuration,
        /// Standard deviation.
        sd: SimDuration,
    },
}

impl Holding {
    /// The mean.
    pub fn mean(&self) -> SimDuration {
        match *self {
            Holding::Exponential { mean } | Holding::Lognormal { mean, .. } => mean,
        }
    }
}

/// Calls and meetings per user per day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rates {
    /// Peer-to-peer calls placed.
    pub peer_to_peer: f64,
    /// Meetings organized.
    pub meetings: f64,
    /// PSTN calls placed.
    pub pstn: f64,
    /// Calls to federated partners.
    pub federated: f64,
    /// Broadcasts attended.
    pub broadcast: f64,
}

/// Shares of calls adding each modality to audio.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModalityMix {
    /// Video.
    pub video: Ratio,
    /// Application sharing.
    pub sharing: Ratio,
    /// File transfer.
    pub file_transfer: Ratio,
}

/// Holding times per call kind.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HoldingTimes {
    /// Peer-to-peer.
    pub peer_to_peer: Holding,
    /// Meetings.
    pub meeting: Holding,
    /// PSTN.
    pub pstn: Holding,
    /// Federated.
    pub federated: Holding,
    /// Broadcasts.
    pub broadcast: Holding,
}

/// Where meeting participants come from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParticipantMix {
    /// From the organizer's network.
    pub internal: Ratio,
    /// Our users from outside the network.
    pub remote: Ratio,
    /// Federated users.
    pub federated: Ratio,
}

/// What a kind of user does in a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Persona {
    /// Its name.
    pub name: String,
    /// Codec tables.
    pub codec: CodecProfile,
    /// Rates.
    pub rates: Rates,
    /// Modality shares.
    pub modalities: ModalityMix,
    /// Holding times.
    pub holding: HoldingTimes,
    /// Meeting sizes with their probabilities (summing to 1).
    pub meeting_size: Vec<(u32, f64)>,
    /// Participant origins.
    pub participants: ParticipantMix,
}

impl Persona {
    /// The name of the built-in persona with every default.
    pub const DEFAULT_NAME: &'static str = "microsoft-user-model";

    /// Microsoft's user model (see the module docs for every value's source).
    pub fn microsoft_user_model() -> Persona {
        let r = |x: f64| Ratio::new(x).expect("a valid default share");
        Persona {
            name: Persona::DEFAULT_NAME.to_string(),
            codec: CodecProfile::Sfb,
            rates: Rates {
                peer_to_peer: 2.0,
                meetings: 0.088,
                pstn: 0.6 * 0.6 * 4.0 * 1.6 / 0.5,
                federated: 0.0,
                broadcast: 0.0,
            },
            modalities: ModalityMix {
                video: r(0.15),
                sharing: r(0.125),
                file_transfer: r(0.025),
            },
            holding: HoldingTimes {
                peer_to_peer: Holding::Exponential {
                    mean: SimDuration::from_mins(5),
                },
                meeting: Holding::Lognormal {
                    mean: SimDuration::from_mins(60),
                    sd: SimDuration::from_mins(30),
                },
                pstn: Holding::Exponential {
                    mean: SimDuration::from_mins(3),
                },
                federated: Holding::Exponential {
                    mean: SimDuration::from_mins(5),
                },
                broadcast: Holding::Lognormal {
                    mean: SimDuration::from_mins(60),
                    sd: SimDuration::from_mins(20),
                },
            },
            meeting_size: vec![(4, 0.85), (6, 0.10), (11, 0.05)],
            participants: ParticipantMix {
                internal: r(0.5),
                remote: r(0.4),
                federated: r(0.1),
            },
        }
    }

    /// The mean meeting size.
    pub fn mean_meeting_size(&self) -> f64 {
        self.meeting_size.iter().map(|&(n, p)| n as f64 * p).sum()
    }
}

/// The default day: 8 hours from 09:00 with the busy-hour rule (50% of the
/// day's calls in 1.6 hours): two hours at 2.5× the mean.
pub const DEFAULT_HOURLY: [f64; 8] = [0.5, 0.75, 2.5, 2.5, 0.5, 0.5, 0.5, 0.25];

/// Additional modalities a probe call uses beyond audio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Modalities {
    /// Video.
    pub video: bool,
    /// Application sharing.
    pub sharing: bool,
    /// File transfer.
    pub file_transfer: bool,
}

/// How a PSTN call reaches the phone network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PstnRoute {
    /// The cloud Phone System with a Calling Plan.
    PhoneSystem,
    /// Cloud Connector Edition.
    CloudConnector,
    /// An on-premises mediation server and gateway.
    Gateway,
}

/// An endpoint of a flow probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlowEnd {
    /// A client of a user group.
    Group(GroupId),
    /// An element (server, Edge, proxy…).
    Node(NodeId),
}

/// What a probe traces.
#[derive(Debug, Clone, PartialEq)]
pub enum ProbeKind {
    /// One flow between two endpoints.
    Flow {
        /// Where it starts.
        from: FlowEnd,
        /// Where it goes.
        to: FlowEnd,
        /// UDP or TCP.
        protocol: Protocol,
        /// Destination port.
        port: u16,
        /// Whether to use IPv6.
        ipv6: bool,
    },
    /// A peer-to-peer call.
    PeerToPeer {
        /// Who calls.
        caller: GroupId,
        /// Who is called.
        callee: GroupId,
        /// Modalities beyond audio.
        modalities: Modalities,
    },
    /// A conference.
    Conference {
        /// Who organizes it.
        organizer: GroupId,
        /// Who joins, in joining order.
        participants: Vec<GroupId>,
        /// Modalities beyond audio.
        modalities: Modalities,
    },
    /// A conference hosted by another organization's servers.
    PartnerConference {
        /// The hosting organization.
        host: OrgId,
        /// Who joins.
        participants: Vec<GroupId>,
    },
    /// A PSTN call.
    Pstn {
        /// Who calls.
        caller: GroupId,
        /// How it reaches the phone network (`None`: what the deployment offers).
        via: Option<PstnRoute>,
    },
    /// A federated peer-to-peer call.
    Federated {
        /// Who calls.
        caller: GroupId,
        /// The partner's user group.
        partner: GroupId,
    },
    /// A Skype Meeting Broadcast.
    Broadcast {
        /// Who presents (the inner meeting's organizer).
        organizer: GroupId,
        /// Who watches the stream.
        attendees: Vec<GroupId>,
    },
}

/// A named probe.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Its name.
    pub name: String,
    /// What it shows.
    pub description: Option<String>,
    /// What it traces.
    pub kind: ProbeKind,
}

/// A sweep: the grid of runs it expands into.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// Variant names (`baseline` for the scenario as written).
    pub variants: Vec<String>,
    /// Seeds.
    pub seeds: Vec<u64>,
}

impl Scenario {
    /// A group.
    pub fn group(&self, id: GroupId) -> &Group {
        &self.groups[id.0 as usize]
    }

    /// A persona.
    pub fn persona(&self, id: PersonaId) -> &Persona {
        &self.personas[id.0 as usize]
    }

    /// A group by name.
    pub fn group_named(&self, name: &str) -> Option<GroupId> {
        self.groups
            .iter()
            .position(|g| g.name == name)
            .map(|i| GroupId(i as u32))
    }

    /// Every group id, in file order.
    pub fn group_ids(&self) -> impl Iterator<Item = GroupId> + '_ {
        (0..self.groups.len() as u32).map(GroupId)
    }
}
