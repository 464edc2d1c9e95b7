//! Calls and meetings as the source document describes them, built from
//! mechanisms rather than answers.
//!
//! Owns who talks to whom for each kind of call, and through what:
//!
//! - **Signaling goes to the user's home server** (principle 4): the Online
//!   registrar in the tenant's home region, the on-premises Front End pool,
//!   or a partner's own server. When the server cannot be reached directly
//!   (the flow fails in the network), the client goes through its Edge.
//! - **A conference is hosted where its organizer is homed** (principle 1),
//!   or, under the Teams rule, in the region nearest its first joiner.
//!   An Online conferencing server offers only relayed candidates on its
//!   region's Online Edge, so Online conference media always goes through
//!   an Edge (principles 2 and 5); an on-premises conferencing server offers
//!   its own address and relays on the on-premises Edge, so inside joiners
//!   reach it directly and outside joiners through one or two Edges
//!   (principle 6).
//! - **Peer-to-peer media takes the most direct path ICE finds** (principle
//!   3): each client offers host, server-reflexive and relayed candidates on
//!   its own organization's Edges (the Online Edge for Online users, the
//!   on-premises Edge for on-premises users).
//! - **PSTN** through the cloud Phone System (reached like an Online
//!   conference), Cloud Connector Edition (signaling to the cloud, which turns
//!   it round to the Cloud Connector; media between the client and the
//!   Cloud Connector, through its Edge from outside), or an on-premises
//!   mediation server and gateway (media bypass straight to the gateway).
//! - **Federation** with a partner Online (its users homed in their region,
//!   over their own circuit if they have one), on-premises (its Edge), or
//!   Skype consumer (its service on the Internet).
//! - **Skype Meeting Broadcast**: the presenter's inner meeting is an
//!   Online conference; attendees talk to the broadcast service and receive
//!   the stream from the CDN over HTTPS.
//! - **Internet-only dependencies**: a DNS lookup, a revocation check and
//!   telemetry beside each participant, to the topology's Internet servers.
//!
//! Every flow is traced through the network plane; every media path is
//! negotiated by ICE. The path labels come from the segments crossed.
//!
//! Leaves out time and load: the engine places calls and counts traffic.

use std::net::IpAddr;

use crate::ice::{IceEndpoint, IceOptions, IceOutcome, MediaPathKind, negotiate};
use crate::model::{
    CodecProfile, ConferenceRule, Deployment, GroupId, Homing, NodeId, NodeKind, OrgId, OrgKind,
    PathLabel, Place, ProbeKind, Protocol, PstnRoute, RegionId, Scenario, ServerKind, Topology,
};
use crate::net::flow::{End, FlowSpec, FlowTrace, Verdict, address_for, client_port, trace_flow};
use crate::net::packet::TrafficClass;
use crate::net::routing::Routing;
use crate::net::walk::{NetState, Walk};
use crate::time::{SimDuration, SimTime};

/// A call to place: the call-shaped probe kinds.
pub type CallSpec = ProbeKind;

/// One participant's part in a call.
#[derive(Debug, Clone)]
pub struct ParticipantLeg {
    /// The user group (or organization) as written in the scenario.
    pub participant: String,
    /// The group, when the participant is one.
    pub group: Option<GroupId>,
    /// Signaling flows: to the home server, or to the Edge then the server.
    pub signaling: Vec<FlowTrace>,
    /// Media, if this participant sends or receives any.
    pub media: Option<MediaLeg>,
    /// Internet-only dependency flows.
    pub dependencies: Vec<FlowTrace>,
}

impl ParticipantLeg {
    /// The signaling path label.
    pub fn signaling_label(&self, t: &Topology) -> PathLabel {
        PathLabel::of(
            self.signaling
                .iter()
                .take(1)
                .flat_map(|f| f.forward_segments(t)),
        )
    }

    /// Whether signaling reached the server.
    pub fn signaling_ok(&self) -> bool {
        self.signaling.last().is_some_and(|f| f.verdict.is_ok())
    }
}

/// A participant's media.
#[derive(Debug, Clone)]
pub struct MediaLeg {
    /// What the media went to: the peer, the conferencing server, the gateway.
    pub peer: String,
    /// How the participant's media goes.
    pub via: MediaVia,
}

/// How media goes.
#[derive(Debug, Clone)]
pub enum MediaVia {
    /// Negotiated by ICE: index into [`CallTrace::negotiations`], and whether
    /// this participant was the controlling agent.
    Ice {
        /// The negotiation.
        negotiation: usize,
        /// Whether this participant controlled it.
        controlling: bool,
    },
    /// Streamed over a flow (broadcast attendees).
    Stream(FlowTrace),
}

/// A traced call.
#[derive(Debug, Clone)]
pub struct CallTrace {
    /// The call's kind word (`peer-to-peer`, `conference`, …).
    pub kind: &'static str,
    /// Where a conference is hosted, or the PSTN media endpoint.
    pub host: Option<NodeId>,
    /// Why it is hosted there.
    pub hosting: Option<String>,
    /// Each participant.
    pub legs: Vec<ParticipantLeg>,
    /// Every ICE negotiation the call needed.
    pub negotiations: Vec<IceOutcome>,
    /// Server-side signaling (e.g. the cloud turning a call round to Cloud Connector).
    pub server_signaling: Vec<FlowTrace>,
}

/// A participant's media, summarized the way the source document's tables
/// and the trace JSON describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaSummary {
    /// The label of the participant's own media leg.
    pub label: PathLabel,
    /// Direct, through NAT, one Edge or two.
    pub path: Option<MediaPathKind>,
    /// UDP or TCP.
    pub protocol: Option<Protocol>,
    /// The Edges used.
    pub relays: Vec<NodeId>,
    /// `ok`, or why there is no media.
    pub verdict: String,
    /// The participant's own leg, each way.
    pub walks: Vec<Walk>,
}

impl CallTrace {
    /// The media summary of leg `i`.
    pub fn media_summary(&self, t: &Topology, i: usize) -> Option<MediaSummary> {
        let leg = &self.legs[i];
        let media = leg.media.as_ref()?;
        Some(match &media.via {
            MediaVia::Stream(flow) => MediaSummary {
                label: flow.label(t),
                path: flow.verdict.is_ok().then_some(MediaPathKind::Direct),
                protocol: Some(flow.spec.protocol),
                relays: vec![],
                verdict: crate::net::flow::VerdictText {
                    topology: t,
                    verdict: &flow.verdict,
                }
                .to_string(),
                walks: flow.legs.iter().map(|l| l.forward.clone()).collect(),
            },
            MediaVia::Ice {
                negotiation,
                controlling,
            } => {
                let ice = &self.negotiations[*negotiation];
                match (&ice.nominated, &ice.route) {
                    (Some(n), Some(route)) => {
                        let own = if *controlling {
                            route.forward.first()
                        } else {
                            route.back.first()
                        };
                        let segments = own
                            .map(|w| w.segments(t).collect::<Vec<_>>())
                            .unwrap_or_default();
                        MediaSummary {
                            label: PathLabel::of(segments),
                            path: Some(n.path),
                            protocol: Some(n.protocol),
                            relays: route.relays.clone(),
                            verdict: "ok".into(),
                            walks: own.into_iter().cloned().collect(),
                        }
                    }
                    _ => MediaSummary {
                        label: PathLabel::Local,
                        path: None,
                        protocol: None,
                        relays: vec![],
                        verdict: format!("no working pair: {}", failure_reason(ice)),
                        walks: vec![],
                    },
                }
            }
        })
    }
}

/// Why ICE found no pair, in a line.
fn failure_reason(ice: &IceOutcome) -> String {
    let mut notes: Vec<&str> = ice
        .gathering_notes
        .0
        .iter()
        .chain(&ice.gathering_notes.1)
        .map(String::as_str)
        .collect();
    if notes.is_empty() {
        let checks = ice.checks.len();
        return format!("all {checks} connectivity checks failed");
    }
    notes.truncate(3);
    notes.join("; ")
}

/// Places a call at `now` in a fresh network state and traces everything it does.
pub fn trace_call(
    t: &Topology,
    s: &Scenario,
    routing: &Routing,
    spec: &CallSpec,
    now: SimTime,
) -> Option<CallTrace> {
    let mut cx = Cx {
        t,
        s,
        routing,
        state: NetState::default(),
        now,
        ice: ice_options(t, s, spec),
    };
    let trace = match spec {
        ProbeKind::Flow { .. } => return None,
        ProbeKind::PeerToPeer { caller, callee, .. } => {
            cx.peer_to_peer("peer-to-peer", *caller, *callee)
        }
        ProbeKind::Federated { caller, partner } => cx.peer_to_peer("federated", *caller, *partner),
        ProbeKind::Conference {
            organizer,
            participants,
            ..
        } => cx.conference(*organizer, participants),
        ProbeKind::PartnerConference { host, participants } => {
            cx.partner_conference(*host, participants)
        }
        ProbeKind::Pstn { caller, via } => cx.pstn(*caller, *via),
        ProbeKind::Broadcast {
            organizer,
            attendees,
        } => cx.broadcast(*organizer, attendees),
    };
    Some(trace)
}

/// ICE behaviour for a call: MS-ICE2 priorities for Skype for Business
/// clients, RFC 8445's for Teams.
fn ice_options(_t: &Topology, s: &Scenario, spec: &CallSpec) -> IceOptions {
    let first = match spec {
        ProbeKind::PeerToPeer { caller, .. }
        | ProbeKind::Pstn { caller, .. }
        | ProbeKind::Federated { caller, .. } => Some(*caller),
        ProbeKind::Conference { organizer, .. } | ProbeKind::Broadcast { organizer, .. } => {
            Some(*organizer)
        }
        ProbeKind::PartnerConference { participants, .. } => participants.first().copied(),
        ProbeKind::Flow { .. } => None,
    };
    let teams = first.is_some_and(|g| s.persona(s.group(g).persona).codec == CodecProfile::Teams);
    let profile = if teams {
        crate::ice::priority::PreferenceProfile::Rfc8445
    } else {
        crate::ice::priority::PreferenceProfile::MicrosoftIce2
    };
    IceOptions {
        profile,
        ..IceOptions::default()
    }
}

struct Cx<'a> {
    t: &'a Topology,
    s: &'a Scenario,
    routing: &'a Routing,
    state: NetState,
    now: SimTime,
    ice: IceOptions,
}

/// Where a group's users are homed, concretely.
struct Home {
    server: NodeId,
    port: u16,
    edge: Option<NodeId>,
}

impl Cx<'_> {
    fn flow(
        &mut self,
        from: End,
        to: End,
        protocol: Protocol,
        dst_port: u16,
        class: TrafficClass,
        pac: Option<crate::model::PacId>,
    ) -> FlowTrace {
        let spec = FlowSpec {
            from,
            to,
            protocol,
            src_port: client_port(class),
            dst_port,
            class,
            pac,
        };
        trace_flow(self.t, self.routing, &mut self.state, spec, self.now)
    }

    fn pac_of(&self, node: NodeId) -> Option<crate::model::PacId> {
        match &self.t.node(node).kind {
            NodeKind::Site(site) => site.pac,
            _ => None,
        }
    }

    fn client_end(&self, g: GroupId) -> End {
        let group = self.s.group(g);
        End {
            node: group.lan,
            addr: group.address,
        }
    }

    fn online_edge(&self, region: RegionId) -> Option<NodeId> {
        self.t
            .region(region)
            .service(self.t, ServerKind::OnlineEdge)
    }

    fn tenant_edge(&self) -> Option<NodeId> {
        let fe = self.t.tenant.front_end.or(self.t.tenant.cloud_connector)?;
        match &self.t.node(fe).kind {
            NodeKind::Server(s) => s.edge,
            _ => None,
        }
    }

    /// The Edges a group's clients are provisioned with: their own organization's.
    fn edges_of(&self, g: GroupId) -> Vec<NodeId> {
        let t = self.t;
        match self.s.group(g).homing {
            Homing::Online => self.online_edge(t.tenant.home_region).into_iter().collect(),
            Homing::OnPrem => self.tenant_edge().into_iter().collect(),
            Homing::Partner(o) => {
                let org = &t.organizations[o.0 as usize];
                match org.kind {
                    OrgKind::Online => org
                        .home_region
                        .and_then(|r| self.online_edge(r))
                        .into_iter()
                        .collect(),
                    OrgKind::OnPrem => org.edge.into_iter().collect(),
                    OrgKind::SkypeConsumer => org.server.into_iter().collect(),
                }
            }
        }
    }

    fn home(&self, g: GroupId) -> Option<Home> {
        let t = self.t;
        let registrar = |r: RegionId| {
            t.region(r)
                .service(t, ServerKind::Registrar)
                .map(|server| Home {
                    server,
                    port: 443,
                    edge: None,
                })
        };
        match self.s.group(g).homing {
            Homing::Online => registrar(t.tenant.home_region),
            Homing::OnPrem => t.tenant.front_end.map(|server| Home {
                server,
                port: 5061,
                edge: self.tenant_edge(),
            }),
            Homing::Partner(o) => {
                let org = &t.organizations[o.0 as usize];
                match org.kind {
                    OrgKind::Online => org.home_region.and_then(registrar),
                    OrgKind::OnPrem => org.server.map(|server| Home {
                        server,
                        port: 5061,
                        edge: org.edge,
                    }),
                    OrgKind::SkypeConsumer => org.server.map(|server| Home {
                        server,
                        port: 443,
                        edge: None,
                    }),
                }
            }
        }
    }

    /// Signaling from a client to a server: directly, or through `edge` when
    /// the direct flow fails.
    fn signal(
        &mut self,
        g: GroupId,
        server: NodeId,
        port: u16,
        edge: Option<NodeId>,
    ) -> Vec<FlowTrace> {
        let from = self.client_end(g);
        let pac = self.pac_of(from.node);
        let Some(addr) = address_for(self.t, from.node, server, false) else {
            return vec![];
        };
        let direct = self.flow(
            from,
            End { node: server, addr },
            Protocol::Tcp,
            port,
            TrafficClass::Signaling,
            pac,
        );
        let Some(edge) = edge.filter(|_| !direct.verdict.is_ok()) else {
            return vec![direct];
        };
        let Some(edge_addr) = crate::ice::gather::edge_address(self.t, from.node, edge, false)
        else {
            return vec![direct];
        };
        let to_edge = self.flow(
            from,
            End {
                node: edge,
                addr: edge_addr,
            },
            Protocol::Tcp,
            443,
            TrafficClass::Signaling,
            pac,
        );
        if !to_edge.verdict.is_ok() {
            return vec![to_edge];
        }
        let Some(inner) = address_for(self.t, edge, server, false) else {
            return vec![to_edge];
        };
        let edge_inside = End {
            node: edge,
            addr: crate::ice::gather::edge_address(self.t, server, edge, false)
                .unwrap_or(edge_addr),
        };
        let onward = self.flow(
            edge_inside,
            End {
                node: server,
                addr: inner,
            },
            Protocol::Tcp,
            port,
            TrafficClass::Signaling,
            None,
        );
        vec![to_edge, onward]
    }

    fn home_signaling(&mut self, g: GroupId) -> Vec<FlowTrace> {
        match self.home(g) {
            Some(h) => self.signal(g, h.server, h.port, h.edge),
            None => vec![],
        }
    }

    fn dependencies(&mut self, g: GroupId) -> Vec<FlowTrace> {
        if !self.s.dependencies.enabled {
            return vec![];
        }
        let from = self.client_end(g);
        let pac = self.pac_of(from.node);
        let mut out = Vec::new();
        for (kind, protocol, port) in [
            (ServerKind::Dns, Protocol::Udp, 53),
            (ServerKind::Crl, Protocol::Tcp, 80),
            (ServerKind::Telemetry, Protocol::Tcp, 443),
        ] {
            let Some(server) = self
                .t
                .nodes()
                .find(|&n| matches!(&self.t.node(n).kind, NodeKind::Server(x) if x.kind == kind))
            else {
                continue;
            };
            let Some(addr) = address_for(self.t, from.node, server, false) else {
                continue;
            };
            out.push(self.flow(
                from,
                End { node: server, addr },
                protocol,
                port,
                TrafficClass::Dependency,
                pac,
            ));
        }
        out
    }

    fn client_ice(&self, g: GroupId) -> IceEndpoint {
        let group = self.s.group(g);
        IceEndpoint {
            name: group.name.clone(),
            node: group.lan,
            host: std::iter::once(group.address)
                .chain(group.address_v6)
                .collect(),
            relays: self.edges_of(g),
            pac: self.pac_of(group.lan),
            offers_host: true,
        }
    }

    /// A server as an ICE agent: its own address (unless it hides behind its
    /// Edge), and relays on `relays`.
    fn server_ice(&self, server: NodeId, relays: Vec<NodeId>, offers_host: bool) -> IceEndpoint {
        let node = self.t.node(server);
        IceEndpoint {
            name: node.name.clone(),
            node: server,
            host: node
                .addresses
                .iter()
                .copied()
                .filter(IpAddr::is_ipv4)
                .collect(),
            relays,
            pac: None,
            offers_host,
        }
    }

    fn participant(
        &mut self,
        g: GroupId,
        signaling: Vec<FlowTrace>,
        media: Option<MediaLeg>,
    ) -> ParticipantLeg {
        let dependencies = self.dependencies(g);
        ParticipantLeg {
            participant: self.s.group(g).name.clone(),
            group: Some(g),
            signaling,
            media,
            dependencies,
        }
    }

    fn peer_to_peer(&mut self, kind: &'static str, caller: GroupId, callee: GroupId) -> CallTrace {
        let sig_a = self.home_signaling(caller);
        let sig_b = self.home_signaling(callee);
        let (a, b) = (self.client_ice(caller), self.client_ice(callee));
        let outcome = negotiate(
            self.t,
            self.routing,
            &mut self.state,
            &a,
            &b,
            &self.ice,
            self.now,
        );
        let peer_b = self.s.group(callee).name.clone();
        let peer_a = self.s.group(caller).name.clone();
        let la = self.participant(
            caller,
            sig_a,
            Some(MediaLeg {
                peer: peer_b,
                via: MediaVia::Ice {
                    negotiation: 0,
                    controlling: true,
                },
            }),
        );
        let lb = self.participant(
            callee,
            sig_b,
            Some(MediaLeg {
                peer: peer_a,
                via: MediaVia::Ice {
                    negotiation: 0,
                    controlling: false,
                },
            }),
        );
        CallTrace {
            kind,
            host: None,
            hosting: None,
            legs: vec![la, lb],
            negotiations: vec![outcome],
            server_signaling: vec![],
        }
    }

    /// The region a tenant group's media enters Microsoft nearest: the one
    /// whose Online Edge its path reaches with the least latency.
    fn nearest_region(&mut self, g: GroupId) -> Option<RegionId> {
        let from = self.client_end(g);
        let mut best: Option<(SimDuration, RegionId)> = None;
        for r in 0..self.t.regions.len() {
            let region = RegionId(r as u16);
            if self
                .t
                .region(region)
                .service(self.t, ServerKind::OnlineConferencing)
                .is_none()
            {
                continue;
            }
            let Some(edge) = self.online_edge(region) else {
                continue;
            };
            let Some(addr) = address_for(self.t, from.node, edge, false) else {
                continue;
            };
            let mut scratch = NetState::default();
            let spec = FlowSpec {
                from,
                to: End { node: edge, addr },
                protocol: Protocol::Udp,
                src_port: 50_000,
                dst_port: 3478,
                class: TrafficClass::Stun,
                pac: None,
            };
            let f = trace_flow(self.t, self.routing, &mut scratch, spec, self.now);
            if !f.verdict.is_ok() {
                continue;
            }
            let latency = f
                .legs
                .iter()
                .flat_map(|l| l.forward.links())
                .map(|l| self.t.link(l).quality.latency)
                .fold(SimDuration::ZERO, |a, b| a + b);
            if best.is_none_or(|(d, _)| latency < d) {
                best = Some((latency, region));
            }
        }
        best.map(|(_, r)| r)
    }

    /// Where a conference is hosted, and why.
    fn conference_host(
        &mut self,
        organizer: GroupId,
        participants: &[GroupId],
    ) -> Option<(NodeId, Vec<NodeId>, bool, String)> {
        let t = self.t;
        let online = |cx: &Self, r: RegionId, why: String| {
            let server = t.region(r).service(t, ServerKind::OnlineConferencing)?;
            Some((server, cx.online_edge(r).into_iter().collect(), false, why))
        };
        let organizer_name = self.s.group(organizer).name.clone();
        if self.s.conference_rule == ConferenceRule::FirstJoiner {
            let first = *participants.first()?;
            let region = match self.s.group(first).homing {
                Homing::Partner(o) => t.organizations[o.0 as usize].home_region,
                _ => self.nearest_region(first),
            }?;
            return online(
                self,
                region,
                format!(
                    "Teams rule: the region nearest the first joiner, {}: {}",
                    self.s.group(first).name,
                    t.region(region).name
                ),
            );
        }
        match self.s.group(organizer).homing {
            Homing::Online => online(
                self,
                t.tenant.home_region,
                format!(
                    "organizer {organizer_name} is homed Online in {}",
                    t.region(t.tenant.home_region).name
                ),
            ),
            Homing::OnPrem => {
                let server = t
                    .nodes()
                    .find(|&n| t.node(n).domain == crate::model::Domain::Customer && matches!(&t.node(n).kind, NodeKind::Server(s) if s.kind == ServerKind::Conferencing))
                    .or(t.tenant.front_end)?;
                Some((
                    server,
                    self.tenant_edge().into_iter().collect(),
                    true,
                    format!("organizer {organizer_name} is homed on-premises"),
                ))
            }
            Homing::Partner(o) => {
                let org = &t.organizations[o.0 as usize];
                let region = org.home_region?;
                online(
                    self,
                    region,
                    format!(
                        "organizer {organizer_name} is homed at {} in {}",
                        org.name,
                        t.region(region).name
                    ),
                )
            }
        }
    }

    fn conference(&mut self, organizer: GroupId, participants: &[GroupId]) -> CallTrace {
        let Some((server, relays, offers_host, why)) =
            self.conference_host(organizer, participants)
        else {
            return self.unhosted(
                "conference",
                participants,
                "no conferencing server where the organizer is homed",
            );
        };
        let mcu = self.server_ice(server, relays, offers_host);
        let mut trace = CallTrace {
            kind: "conference",
            host: Some(server),
            hosting: Some(why),
            legs: vec![],
            negotiations: vec![],
            server_signaling: vec![],
        };
        for &g in participants {
            let signaling = self.home_signaling(g);
            let client = self.client_ice(g);
            let outcome = negotiate(
                self.t,
                self.routing,
                &mut self.state,
                &client,
                &mcu,
                &self.ice,
                self.now,
            );
            trace.negotiations.push(outcome);
            let media = MediaLeg {
                peer: mcu.name.clone(),
                via: MediaVia::Ice {
                    negotiation: trace.negotiations.len() - 1,
                    controlling: true,
                },
            };
            let leg = self.participant(g, signaling, Some(media));
            trace.legs.push(leg);
        }
        trace
    }

    fn unhosted(&mut self, kind: &'static str, participants: &[GroupId], why: &str) -> CallTrace {
        let legs = participants
            .iter()
            .map(|&g| {
                let signaling = self.home_signaling(g);
                self.participant(g, signaling, None)
            })
            .collect();
        CallTrace {
            kind,
            host: None,
            hosting: Some(why.to_string()),
            legs,
            negotiations: vec![],
            server_signaling: vec![],
        }
    }

    /// A conference on another company's own servers: its participants
    /// signal to that company's Edge and send media to its relays; no data
    /// passes through the Microsoft cloud.
    fn partner_conference(&mut self, host: OrgId, participants: &[GroupId]) -> CallTrace {
        let org = self.t.organizations[host.0 as usize].clone();
        let (Some(server), Some(edge)) = (org.server, org.edge) else {
            return self.unhosted(
                "conference",
                participants,
                "the hosting organization declares no server and Edge",
            );
        };
        let mcu = self.server_ice(server, vec![edge], true);
        let mut trace = CallTrace {
            kind: "conference",
            host: Some(server),
            hosting: Some(format!("hosted on {}'s own servers", org.name)),
            legs: vec![],
            negotiations: vec![],
            server_signaling: vec![],
        };
        for &g in participants {
            let signaling = self.signal(g, server, 5061, Some(edge));
            let client = self.client_ice(g);
            let outcome = negotiate(
                self.t,
                self.routing,
                &mut self.state,
                &client,
                &mcu,
                &self.ice,
                self.now,
            );
            trace.negotiations.push(outcome);
            let media = MediaLeg {
                peer: mcu.name.clone(),
                via: MediaVia::Ice {
                    negotiation: trace.negotiations.len() - 1,
                    controlling: true,
                },
            };
            let leg = self.participant(g, signaling, Some(media));
            trace.legs.push(leg);
        }
        trace
    }

    fn pstn(&mut self, caller: GroupId, via: Option<PstnRoute>) -> CallTrace {
        let t = self.t;
        let route = via.unwrap_or(match (self.s.group(caller).homing, t.tenant.deployment) {
            (Homing::OnPrem, _) => PstnRoute::Gateway,
            (_, Deployment::CloudConnector) => PstnRoute::CloudConnector,
            _ => PstnRoute::PhoneSystem,
        });
        let mut trace = CallTrace {
            kind: "pstn",
            host: None,
            hosting: None,
            legs: vec![],
            negotiations: vec![],
            server_signaling: vec![],
        };
        let signaling = self.home_signaling(caller);
        let target: Option<(NodeId, Vec<NodeId>, bool, String)> = match route {
            PstnRoute::PhoneSystem => {
                let region = t.tenant.home_region;
                t.region(region)
                    .service(t, ServerKind::PhoneSystem)
                    .map(|n| {
                        (
                            n,
                            self.online_edge(region).into_iter().collect(),
                            false,
                            "the cloud Phone System (Calling Plan)".to_string(),
                        )
                    })
            }
            PstnRoute::CloudConnector => t.tenant.cloud_connector.map(|cce| {
                let edge = match &t.node(cce).kind {
                    NodeKind::Server(s) => s.edge,
                    _ => None,
                };
                (
                    cce,
                    edge.into_iter().collect(),
                    true,
                    "Cloud Connector Edition".to_string(),
                )
            }),
            PstnRoute::Gateway => {
                let mediation = t.nodes().find(|&n| matches!(&t.node(n).kind, NodeKind::Server(s) if s.kind == ServerKind::Mediation));
                mediation.map(|m| {
                    let (media_at, why) = match &t.node(m).kind {
                        NodeKind::Server(s) if s.media_bypass && s.gateway.is_some() => (
                            s.gateway.expect("checked"),
                            "the PSTN gateway (media bypass)",
                        ),
                        _ => (m, "the mediation server"),
                    };
                    (
                        media_at,
                        self.tenant_edge().into_iter().collect(),
                        true,
                        why.to_string(),
                    )
                })
            }
        };
        let Some((media_at, relays, offers_host, why)) = target else {
            let leg = self.participant(caller, signaling, None);
            trace.hosting = Some(format!(
                "no {} in the topology",
                match route {
                    PstnRoute::PhoneSystem => "Phone System service",
                    PstnRoute::CloudConnector => "Cloud Connector",
                    PstnRoute::Gateway => "mediation server",
                }
            ));
            trace.legs.push(leg);
            return trace;
        };
        if route == PstnRoute::CloudConnector
            && let Some(home) = self.home(caller)
            && let Some(addr) = address_for(t, home.server, media_at, false)
        {
            // The cloud turns the call round to Cloud Connector.
            let from = End {
                node: home.server,
                addr: t.node(home.server).addresses[0],
            };
            let cce_edge = relays.first().copied();
            let to = match cce_edge
                .and_then(|e| crate::ice::gather::edge_address(t, home.server, e, false))
            {
                Some(edge_addr) => End {
                    node: cce_edge.expect("checked"),
                    addr: edge_addr,
                },
                None => End {
                    node: media_at,
                    addr,
                },
            };
            let turn = self.flow(from, to, Protocol::Tcp, 5061, TrafficClass::Signaling, None);
            trace.server_signaling.push(turn);
        }
        trace.host = Some(media_at);
        trace.hosting = Some(format!("media to {why}"));
        let server = self.server_ice(media_at, relays, offers_host);
        let client = self.client_ice(caller);
        let outcome = negotiate(
            t,
            self.routing,
            &mut self.state,
            &client,
            &server,
            &self.ice,
            self.now,
        );
        trace.negotiations.push(outcome);
        let media = MediaLeg {
            peer: server.name.clone(),
            via: MediaVia::Ice {
                negotiation: 0,
                controlling: true,
            },
        };
        let leg = self.participant(caller, signaling, Some(media));
        trace.legs.push(leg);
        trace
    }

    fn broadcast(&mut self, organizer: GroupId, attendees: &[GroupId]) -> CallTrace {
        let t = self.t;
        let mut trace = self.conference(organizer, &[organizer]);
        trace.kind = "broadcast";
        let region = t.tenant.home_region;
        let service = t.region(region).service(t, ServerKind::Broadcast);
        let cdn = t
            .nodes()
            .find(|&n| matches!(&t.node(n).kind, NodeKind::Server(s) if s.kind == ServerKind::Cdn));
        for &g in attendees {
            let signaling = match service {
                Some(svc) => self.signal(g, svc, 443, None),
                None => vec![],
            };
            let from = self.client_end(g);
            let pac = self.pac_of(from.node);
            let media = cdn
                .and_then(|c| address_for(t, from.node, c, false).map(|a| (c, a)))
                .map(|(c, addr)| {
                    let stream = self.flow(
                        from,
                        End { node: c, addr },
                        Protocol::Tcp,
                        443,
                        TrafficClass::Streaming,
                        pac,
                    );
                    MediaLeg {
                        peer: t.node(c).name.clone(),
                        via: MediaVia::Stream(stream),
                    }
                });
            let leg = self.participant(g, signaling, media);
            trace.legs.push(leg);
        }
        trace
    }
}

/// Whether a group sits inside the tenant's own network.
pub fn is_internal(s: &Scenario, g: GroupId) -> bool {
    matches!(s.group(g).place, Place::Site(_))
}

/// The verdict of a flow list: the first that is not ok.
pub fn flows_verdict(flows: &[FlowTrace]) -> Option<&Verdict> {
    flows.iter().map(|f| &f.verdict).find(|v| !v.is_ok())
}
