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
    CodecProfile, ConferenceRule, Deployment, GroupId, Homing, LinkId, NodeId, NodeKind, OrgId,
    OrgKind, PathLabel, ProbeKind, Protocol, PstnRoute, RegionId, Scenario, ServerKind, Topology,
};
use crate::net::flow::{End, FlowSpec, FlowTrace, address_for, client_port, trace_flow};
use crate::net::packet::TrafficClass;
use crate::net::routing::Routing;
use crate::net::walk::{NetState, Walk, came_back_another_way};
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
    /// The participant's own leg as it sends: from its client to the first
    /// relay, or to the peer.
    pub walks: Vec<Walk>,
    /// The same leg as it receives: what comes back to its client.
    pub return_walks: Vec<Walk>,
}

impl MediaSummary {
    /// Whether the participant's media comes back by other links than it
    /// leaves by: asymmetric routing, which a stateful firewall or a NAT
    /// on only one of the two paths breaks.
    pub fn asymmetric(&self) -> bool {
        if self.return_walks.is_empty() {
            return false;
        }
        let out: Vec<LinkId> = self.walks.iter().flat_map(|w| w.links()).collect();
        let back: Vec<LinkId> = self
            .return_walks
            .iter()
            .rev()
            .flat_map(|w| w.links())
            .collect();
        let delivered = self.return_walks.iter().all(|w| w.delivered());
        came_back_another_way(&out, &back, delivered)
    }
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
                return_walks: flow.legs.iter().filter_map(|l| l.back.clone()).collect(),
            },
            MediaVia::Ice {
                negotiation,
                controlling,
            } => {
                let ice = &self.negotiations[*negotiation];
                match (&ice.nominated, &ice.route) {
                    (Some(n), Some(route)) => {
                        let (own, own_back) = if *controlling {
                            (route.forward.first(), route.back.last())
                        } else {
                            (route.back.first(), route.forward.last())
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
                            return_walks: own_back.into_iter().cloned().collect(),
                        }
                    }
                    _ => MediaSummary {
                        label: PathLabel::Local,
                        path: None,
                        protocol: None,
                        relays: vec![],
                        verdict: format!("no working pair: {}", failure_reason(ice)),
                        walks: vec![],
                        return_walks: vec![],
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
    let cx = Planner::new(t, s, routing, now).with_ice(ice_options(s, spec));
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
fn ice_options(s: &Scenario, spec: &CallSpec) -> IceOptions {
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
    match first {
        Some(g) => ice_options_for(s, g),
        None => IceOptions::default(),
    }
}

/// ICE behaviour of a group's clients: MS-ICE2 priorities for Skype for
/// Business, RFC 8445's for Teams.
pub fn ice_options_for(s: &Scenario, g: GroupId) -> IceOptions {
    let teams = s.persona(s.group(g).persona).codec == CodecProfile::Teams;
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

/// Works out a call's pieces: each flow and each ICE negotiation in a
/// network state of its own, so every piece is a pure function of the
/// topology, the routing state and the endpoints — which is what lets the
/// engine cache them per endpoint class.
#[derive(Clone)]
pub struct Planner<'a> {
    t: &'a Topology,
    s: &'a Scenario,
    routing: &'a Routing,
    now: SimTime,
    ice: IceOptions,
}

/// Where a conference or a PSTN call's media goes: a server as an ICE agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// The server.
    pub node: NodeId,
    /// The Edges it relays through.
    pub relays: Vec<NodeId>,
    /// Whether it offers its own address (an Online conferencing server does not).
    pub offers_host: bool,
    /// Why the media goes there, in words.
    pub why: String,
}

/// Where a group's users are homed, concretely.
struct Home {
    server: NodeId,
    port: u16,
    edge: Option<NodeId>,
}

impl<'a> Planner<'a> {
    /// A planner for calls placed at `now`.
    pub fn new(t: &'a Topology, s: &'a Scenario, routing: &'a Routing, now: SimTime) -> Self {
        Planner {
            t,
            s,
            routing,
            now,
            ice: IceOptions::default(),
        }
    }

    /// The same planner with other ICE behaviour (a profile, links to avoid).
    pub fn with_ice(&self, ice: IceOptions) -> Self {
        Planner {
            ice,
            ..self.clone()
        }
    }

    fn flow(
        &self,
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
        trace_flow(
            self.t,
            self.routing,
            &mut NetState::default(),
            spec,
            self.now,
        )
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
        &self,
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

    /// A client's signaling to its home server.
    pub fn home_signaling(&self, g: GroupId) -> Vec<FlowTrace> {
        match self.home(g) {
            Some(h) => self.signal(g, h.server, h.port, h.edge),
            None => vec![],
        }
    }

    /// A client's Internet-only dependency flows: DNS, revocation, telemetry.
    pub fn dependencies(&self, g: GroupId) -> Vec<FlowTrace> {
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
        &self,
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

    /// Media between two clients: their ICE negotiation.
    pub fn p2p_media(&self, caller: GroupId, callee: GroupId) -> IceOutcome {
        let (a, b) = (self.client_ice(caller), self.client_ice(callee));
        negotiate(
            self.t,
            self.routing,
            &mut NetState::default(),
            &a,
            &b,
            &self.ice,
            self.now,
        )
    }

    /// Media between a client and a server (conferencing, Phone System,
    /// Cloud Connector, mediation, gateway): their ICE negotiation.
    ///
    /// A client joining a hosted conference also allocates on the host's
    /// Edge (the conference hands out its relay), preferred to its own: so
    /// users joining an Online conference always have an Online Edge
    /// (principle 5), and outside joiners of an on-premises conference the
    /// on-premises Edge (principle 6).
    pub fn media_to(&self, g: GroupId, host: &Host) -> IceOutcome {
        let mut client = self.client_ice(g);
        let own = std::mem::take(&mut client.relays);
        client.relays =
            host.relays
                .iter()
                .chain(own.iter())
                .copied()
                .fold(Vec::new(), |mut v, r| {
                    if !v.contains(&r) {
                        v.push(r);
                    }
                    v
                });
        let server = self.server_ice(host.node, host.relays.clone(), host.offers_host);
        negotiate(
            self.t,
            self.routing,
            &mut NetState::default(),
            &client,
            &server,
            &self.ice,
            self.now,
        )
    }

    fn peer_to_peer(&self, kind: &'static str, caller: GroupId, callee: GroupId) -> CallTrace {
        let ice = |controlling| MediaVia::Ice {
            negotiation: 0,
            controlling,
        };
        let la = self.participant(
            caller,
            self.home_signaling(caller),
            Some(MediaLeg {
                peer: self.s.group(callee).name.clone(),
                via: ice(true),
            }),
        );
        let lb = self.participant(
            callee,
            self.home_signaling(callee),
            Some(MediaLeg {
                peer: self.s.group(caller).name.clone(),
                via: ice(false),
            }),
        );
        CallTrace {
            kind,
            host: None,
            hosting: None,
            legs: vec![la, lb],
            negotiations: vec![self.p2p_media(caller, callee)],
            server_signaling: vec![],
        }
    }

    /// The region a tenant group's media enters Microsoft nearest: the one
    /// whose Online Edge its path reaches with the least latency.
    fn nearest_region(&self, g: GroupId) -> Option<RegionId> {
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
            let f = self.flow(
                from,
                End { node: edge, addr },
                Protocol::Udp,
                3478,
                TrafficClass::Stun,
                None,
            );
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

    fn online_host(&self, r: RegionId, why: String) -> Option<Host> {
        let node = self
            .t
            .region(r)
            .service(self.t, ServerKind::OnlineConferencing)?;
        Some(Host {
            node,
            relays: self.online_edge(r).into_iter().collect(),
            offers_host: false,
            why,
        })
    }

    /// Where a conference is hosted, and why: where its organizer is homed
    /// (the SfB rule), or the region nearest its first joiner (the Teams rule).
    pub fn conference_host(
        &self,
        organizer: GroupId,
        first_joiner: GroupId,
    ) -> Result<Host, String> {
        let t = self.t;
        let organizer_name = &self.s.group(organizer).name;
        let missing = || "no conferencing server where the organizer is homed".to_string();
        if self.s.conference_rule == ConferenceRule::FirstJoiner {
            let region = match self.s.group(first_joiner).homing {
                Homing::Partner(o) => t.organizations[o.0 as usize].home_region,
                _ => self.nearest_region(first_joiner),
            }
            .ok_or_else(|| "no region hosts conferences near the first joiner".to_string())?;
            let why = format!(
                "Teams rule: the region nearest the first joiner, {}: {}",
                self.s.group(first_joiner).name,
                t.region(region).name
            );
            return self.online_host(region, why).ok_or_else(missing);
        }
        match self.s.group(organizer).homing {
            Homing::Online => {
                let r = t.tenant.home_region;
                self.online_host(
                    r,
                    format!(
                        "organizer {organizer_name} is homed Online in {}",
                        t.region(r).name
                    ),
                )
                .ok_or_else(missing)
            }
            Homing::OnPrem => {
                let node = t
                    .nodes()
                    .find(|&n| t.node(n).domain == crate::model::Domain::Customer && matches!(&t.node(n).kind, NodeKind::Server(s) if s.kind == ServerKind::Conferencing))
                    .or(t.tenant.front_end)
                    .ok_or_else(missing)?;
                Ok(Host {
                    node,
                    relays: self.tenant_edge().into_iter().collect(),
                    offers_host: true,
                    why: format!("organizer {organizer_name} is homed on-premises"),
                })
            }
            Homing::Partner(o) => {
                let org = &t.organizations[o.0 as usize];
                let r = org.home_region.ok_or_else(missing)?;
                self.online_host(
                    r,
                    format!(
                        "organizer {organizer_name} is homed at {} in {}",
                        org.name,
                        t.region(r).name
                    ),
                )
                .ok_or_else(missing)
            }
        }
    }

    /// Where a conference on another company's own servers is hosted.
    pub fn partner_conference_host(&self, org: OrgId) -> Result<Host, String> {
        let o = &self.t.organizations[org.0 as usize];
        match (o.server, o.edge) {
            (Some(node), Some(edge)) => Ok(Host {
                node,
                relays: vec![edge],
                offers_host: true,
                why: format!("hosted on {}'s own servers", o.name),
            }),
            _ => Err("the hosting organization declares no server and Edge".into()),
        }
    }

    /// Joining another company's conference: signaling to its Edge, then its server.
    pub fn partner_signaling(&self, g: GroupId, host: &Host) -> Vec<FlowTrace> {
        self.signal(g, host.node, 5061, host.relays.first().copied())
    }

    /// A participant's signaling to a conference.
    ///
    /// - An Online-hosted conference: the client joins its focus in the
    ///   cloud directly over HTTPS, then registers with its home server. If
    ///   the focus cannot be reached directly (a firewall keeps the client
    ///   off Microsoft's addresses), the client's home server carries the
    ///   join: only the home signaling, through its Edge from outside
    ///   (principle 4: "an Edge server will be used if the Front End server
    ///   can't be connected to directly").
    /// - A conference on our own on-premises servers: on-premises users
    ///   reach its focus as they reach their pool (through the Edge from
    ///   outside); Online-homed users' signaling "will be established
    ///   through their organization in the cloud", which turns it round to
    ///   the on-premises focus: only their home signaling.
    /// - A partner-hosted conference: to its focus through its Edge.
    pub fn conference_signaling(&self, g: GroupId, host: &Host) -> Vec<FlowTrace> {
        let online =
            matches!(&self.t.node(host.node).kind, NodeKind::Server(s) if s.kind.is_microsoft());
        if online {
            let mut flows = self.signal(g, host.node, 443, None);
            let home = self.home_signaling(g);
            let focus_ok = flows.last().is_some_and(|f| f.verdict.is_ok());
            if !focus_ok && home.last().is_some_and(|f| f.verdict.is_ok()) {
                return home;
            }
            flows.extend(home);
            return flows;
        }
        match self.s.group(g).homing {
            Homing::OnPrem => {
                let mut flows = self.signal(g, host.node, 5061, host.relays.first().copied());
                flows.extend(self.home_signaling(g));
                flows
            }
            Homing::Online => self.home_signaling(g),
            Homing::Partner(_) => self.signal(g, host.node, 5061, host.relays.first().copied()),
        }
    }

    fn conference(&self, organizer: GroupId, participants: &[GroupId]) -> CallTrace {
        let first = participants.first().copied().unwrap_or(organizer);
        match self.conference_host(organizer, first) {
            Ok(host) => {
                let h = host.clone();
                self.hosted("conference", host, participants, |g| {
                    self.conference_signaling(g, &h)
                })
            }
            Err(why) => self.unhosted("conference", participants, &why),
        }
    }

    /// Every participant signals (as `signaling` says) and negotiates media with the host.
    fn hosted(
        &self,
        kind: &'static str,
        host: Host,
        participants: &[GroupId],
        signaling: impl Fn(GroupId) -> Vec<FlowTrace>,
    ) -> CallTrace {
        let mut trace = CallTrace {
            kind,
            host: Some(host.node),
            hosting: Some(host.why.clone()),
            legs: vec![],
            negotiations: vec![],
            server_signaling: vec![],
        };
        let peer = self.t.node(host.node).name.clone();
        for &g in participants {
            trace.negotiations.push(self.media_to(g, &host));
            let media = MediaLeg {
                peer: peer.clone(),
                via: MediaVia::Ice {
                    negotiation: trace.negotiations.len() - 1,
                    controlling: true,
                },
            };
            trace
                .legs
                .push(self.participant(g, signaling(g), Some(media)));
        }
        trace
    }

    fn unhosted(&self, kind: &'static str, participants: &[GroupId], why: &str) -> CallTrace {
        let legs = participants
            .iter()
            .map(|&g| self.participant(g, self.home_signaling(g), None))
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
    fn partner_conference(&self, org: OrgId, participants: &[GroupId]) -> CallTrace {
        match self.partner_conference_host(org) {
            Ok(host) => {
                let h = host.clone();
                self.hosted("conference", host, participants, |g| {
                    self.partner_signaling(g, &h)
                })
            }
            Err(why) => self.unhosted("conference", participants, &why),
        }
    }

    /// How a PSTN call reaches the phone network when the probe does not say:
    /// on-premises users through the gateway, Cloud Connector tenants through
    /// it, everyone else through the cloud Phone System.
    pub fn pstn_route(&self, caller: GroupId, via: Option<PstnRoute>) -> PstnRoute {
        via.unwrap_or(
            match (self.s.group(caller).homing, self.t.tenant.deployment) {
                (Homing::OnPrem, _) => PstnRoute::Gateway,
                (_, Deployment::CloudConnector) => PstnRoute::CloudConnector,
                _ => PstnRoute::PhoneSystem,
            },
        )
    }

    /// Where a PSTN call's media goes.
    pub fn pstn_host(&self, route: PstnRoute) -> Result<Host, String> {
        let t = self.t;
        match route {
            PstnRoute::PhoneSystem => {
                let region = t.tenant.home_region;
                let node = t
                    .region(region)
                    .service(t, ServerKind::PhoneSystem)
                    .ok_or("no Phone System service in the home region")?;
                Ok(Host {
                    node,
                    relays: self.online_edge(region).into_iter().collect(),
                    offers_host: false,
                    why: "media to the cloud Phone System (Calling Plan)".into(),
                })
            }
            PstnRoute::CloudConnector => {
                let node = t
                    .tenant
                    .cloud_connector
                    .ok_or("no Cloud Connector in the topology")?;
                let edge = match &t.node(node).kind {
                    NodeKind::Server(s) => s.edge,
                    _ => None,
                };
                Ok(Host {
                    node,
                    relays: edge.into_iter().collect(),
                    offers_host: true,
                    why: "media to Cloud Connector Edition".into(),
                })
            }
            PstnRoute::Gateway => {
                let mediation = t
                    .nodes()
                    .find(|&n| matches!(&t.node(n).kind, NodeKind::Server(s) if s.kind == ServerKind::Mediation))
                    .ok_or("no mediation server in the topology")?;
                let (node, why) = match &t.node(mediation).kind {
                    NodeKind::Server(s) if s.media_bypass && s.gateway.is_some() => (
                        s.gateway.expect("checked"),
                        "media to the PSTN gateway (media bypass)",
                    ),
                    _ => (mediation, "media to the mediation server"),
                };
                Ok(Host {
                    node,
                    relays: self.tenant_edge().into_iter().collect(),
                    offers_host: true,
                    why: why.into(),
                })
            }
        }
    }

    /// With Cloud Connector, the cloud turns the call's signaling round to
    /// the Cloud Connector (through its Edge).
    pub fn cloud_connector_turnaround(&self, caller: GroupId, host: &Host) -> Option<FlowTrace> {
        let t = self.t;
        let home = self.home(caller)?;
        let from = End {
            node: home.server,
            addr: *t.node(home.server).addresses.first()?,
        };
        let to = match host.relays.first().and_then(|&e| {
            crate::ice::gather::edge_address(t, home.server, e, false).map(|a| (e, a))
        }) {
            Some((edge, addr)) => End { node: edge, addr },
            None => End {
                node: host.node,
                addr: address_for(t, home.server, host.node, false)?,
            },
        };
        Some(self.flow(from, to, Protocol::Tcp, 5061, TrafficClass::Signaling, None))
    }

    fn pstn(&self, caller: GroupId, via: Option<PstnRoute>) -> CallTrace {
        let route = self.pstn_route(caller, via);
        match self.pstn_host(route) {
            Ok(host) => {
                let turnaround = (route == PstnRoute::CloudConnector)
                    .then(|| self.cloud_connector_turnaround(caller, &host))
                    .flatten();
                let mut trace = self.hosted("pstn", host, &[caller], |g| self.home_signaling(g));
                trace.server_signaling.extend(turnaround);
                trace
            }
            Err(why) => self.unhosted("pstn", &[caller], &why),
        }
    }

    /// An attendee's signaling to the broadcast service.
    pub fn broadcast_signaling(&self, g: GroupId) -> Vec<FlowTrace> {
        let t = self.t;
        match t.home_region().service(t, ServerKind::Broadcast) {
            Some(svc) => self.signal(g, svc, 443, None),
            None => vec![],
        }
    }

    /// An attendee's stream from the CDN: an HTTPS download, through a proxy
    /// where the PAC says so.
    pub fn broadcast_stream(&self, g: GroupId) -> Option<(NodeId, FlowTrace)> {
        let t = self.t;
        let cdn = t.nodes().find(
            |&n| matches!(&t.node(n).kind, NodeKind::Server(s) if s.kind == ServerKind::Cdn),
        )?;
        let from = self.client_end(g);
        let addr = address_for(t, from.node, cdn, false)?;
        let pac = self.pac_of(from.node);
        Some((
            cdn,
            self.flow(
                from,
                End { node: cdn, addr },
                Protocol::Tcp,
                443,
                TrafficClass::Streaming,
                pac,
            ),
        ))
    }

    fn broadcast(&self, organizer: GroupId, attendees: &[GroupId]) -> CallTrace {
        let mut trace = self.conference(organizer, &[organizer]);
        trace.kind = "broadcast";
        for &g in attendees {
            let media = self.broadcast_stream(g).map(|(cdn, stream)| MediaLeg {
                peer: self.t.node(cdn).name.clone(),
                via: MediaVia::Stream(stream),
            });
            trace
                .legs
                .push(self.participant(g, self.broadcast_signaling(g), media));
        }
        trace
    }
}
