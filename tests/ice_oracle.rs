//! A real ICE agent as the oracle of our ICE model (issue 4, point 3).
//!
//! For every RFC 4787 mapping × filtering behaviour of the NAT on each side
//! (3 × 3 × 3 × 3 = 81 combinations), with and without a firewall that
//! blocks UDP in front of A, two clients at two remote locations call each
//! other peer to peer; both are homed Online and use the region's Online
//! Edge as their TURN relay. Two answers are compared:
//!
//! - **the model**: [`callflow::calls::trace_call`] on the scenario's
//!   peer-to-peer probe, whose ICE negotiation
//!   ([`callflow::ice::negotiate`]) gives the nominated pair's path kind and
//!   transport;
//! - **the oracle**: two `is` 0.12 agents (str0m's sans-IO ICE agent; A
//!   controlling, B controlled, fixed tie-breakers and credentials) given
//!   exactly the candidates the model gathered, their packets carried by the
//!   project's network plane ([`callflow::net::walk::walk`] through the same
//!   topology, one [`NetState`] holding every NAT mapping and firewall
//!   session of the exchange), on a simulated clock. Its answer is the last
//!   `NominatedSend` of the controlling agent.
//!
//! Compared: connected or not, the path kind (direct, through NAT, one
//! relay, two relays) and the transport (UDP or TCP).
//!
//! How the oracle's packets travel (docs/ice-oracle.md says why):
//! - A transmit from a host base is walked from the client's LAN, forward
//!   for a Binding request, as a reply for a response. It reaches the peer
//!   if the walk is delivered at the peer's LAN on one of its host bases;
//!   the peer sees the source the walk ends with.
//! - A transmit from a relayed base first crosses the client → Edge leg of
//!   its allocation (walked); sending installs the Edge's permission for the
//!   destination's IP (MS-TURN: permissions are implicit in Send); then it
//!   is walked from the Edge with the relayed address as source. A packet
//!   delivered at the Edge on a relayed address passes only with a
//!   permission for its source IP, and goes down the allocation (walked
//!   from the Edge to the client's mapped address) to the owner.
//! - TURN permissions are also installed from the start for the IP of every
//!   candidate the peer signalled (RFC 8445 §7.2.1, ice.md §6.2.2): without
//!   them no passive TCP relay could ever be reached (see
//!   `turn_permissions_made_only_by_sending_change_only_the_tcp_cases`).
//! - The RFC's same-5-tuple rule (RFC 8445 §7.2.5.2.1), which `is` does not
//!   check: a response is delivered only if it comes from the address the
//!   request went to and arrives on the base it left from.
//! - TCP (RFC 6544, which `is` does not implement: it pairs TCP candidates
//!   whatever their tcptype): a connection is opened only by an active
//!   candidate (a host TCP candidate) towards a passive one (a TCP relayed
//!   candidate); the SYN is walked forward and must reach the passive
//!   candidate (through its permission), the SYN-ACK walked back must
//!   arrive on the same 5-tuple. Later packets either way ride it. A
//!   transmit from a passive relay with no connection to ride still
//!   reaches the Edge and installs the permission, but goes no further.
//! - Each packet arrives after the latencies of the links its walks
//!   crossed.
//!
//! No difference between the answers is excused: the agents' own
//! differences (`is` renominates, ranks by base, ignores the 5-tuple rule
//! and TCP roles, uses other timers and priorities) are neutralised by the
//! harness, as docs/ice-oracle.md explains. The two model bugs this harness
//! found (docs/ice-oracle.md, "Model bugs found and fixed") are fixed; the
//! model agrees with the oracle on all 162 cases.
//!
//! The only clock read is `Instant::now()` as the oracle's epoch: `is` takes
//! `Instant`s and has no other way to make one. Every `now` it is given is
//! that epoch plus simulated time, so nothing depends on the wall clock.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use callflow::calls::trace_call;
use callflow::diag::SourceFile;
use callflow::ice::gather::{Allocation, Candidate, RelayPorts, gather};
use callflow::ice::priority::{CandidateKind, CandidateTransport, PreferenceProfile, TcpType};
use callflow::ice::{IceEndpoint, IceOutcome, MediaPathKind};
use callflow::model::{Filtering, Mapping, NodeId, Protocol, Scenario, ServerKind, Topology};
use callflow::net::packet::{Direction, FiveTuple};
use callflow::net::routing::Routing;
use callflow::net::walk::{NetState, Outcome, Walk, walk};
use callflow::time::{SimDuration, SimTime};
use callflow::validate::study_from_sources;
use is::stun::{StunMessage, StunPacket, TransId};
use is::{IceAgent, IceAgentEvent, IceCreds};

/// How long the oracle runs: well past `is`'s timeout for a pair
/// (`IceAgent::ice_timeout`: 250 ms doubling to 3 s, 9 retransmissions,
/// 21.5 s), so every pair has succeeded or been given up. Running twice as
/// long gives the same matrix.
const RUN_FOR: Duration = Duration::from_secs(30);

const MAPPINGS: [Mapping; 3] = [
    Mapping::EndpointIndependent,
    Mapping::AddressDependent,
    Mapping::AddressAndPortDependent,
];
const FILTERINGS: [Filtering; 3] = [
    Filtering::EndpointIndependent,
    Filtering::AddressDependent,
    Filtering::AddressAndPortDependent,
];

// ----- cases ------------------------------------------------------------------

/// One NAT behaviour: mapping and filtering.
type Behaviour = (Mapping, Filtering);

/// One combination.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Case {
    a: Behaviour,
    b: Behaviour,
    udp_blocked_at_a: bool,
}

impl Case {
    /// Every combination, A's behaviour outermost.
    fn all() -> Vec<Case> {
        let behaviours: Vec<Behaviour> = MAPPINGS
            .iter()
            .flat_map(|&m| FILTERINGS.iter().map(move |&f| (m, f)))
            .collect();
        let mut cases = Vec::new();
        for udp_blocked_at_a in [false, true] {
            for &a in &behaviours {
                for &b in &behaviours {
                    cases.push(Case {
                        a,
                        b,
                        udp_blocked_at_a,
                    });
                }
            }
        }
        cases
    }
}

impl fmt::Display for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "A {}, B {}", short(self.a), short(self.b))?;
        if self.udp_blocked_at_a {
            write!(f, ", UDP blocked at A")?;
        }
        Ok(())
    }
}

/// `EIM+APDF`.
fn short((m, f): Behaviour) -> String {
    let m = match m {
        Mapping::EndpointIndependent => "EIM",
        Mapping::AddressDependent => "ADM",
        Mapping::AddressAndPortDependent => "APDM",
    };
    let f = match f {
        Filtering::EndpointIndependent => "EIF",
        Filtering::AddressDependent => "ADF",
        Filtering::AddressAndPortDependent => "APDF",
    };
    format!("{m}+{f}")
}

fn word_mapping(m: Mapping) -> &'static str {
    match m {
        Mapping::EndpointIndependent => "endpoint-independent",
        Mapping::AddressDependent => "address-dependent",
        Mapping::AddressAndPortDependent => "address-and-port-dependent",
    }
}

fn word_filtering(f: Filtering) -> &'static str {
    match f {
        Filtering::EndpointIndependent => "endpoint-independent",
        Filtering::AddressDependent => "address-dependent",
        Filtering::AddressAndPortDependent => "address-and-port-dependent",
    }
}

// ----- the network --------------------------------------------------------------

/// The topology: two remote locations, `home-a` and `home-b`, each behind a
/// NAT of the case's behaviour, A optionally behind a firewall that denies
/// UDP, and one Microsoft region whose Online Edge both use as relay.
fn topology_toml(case: &Case) -> String {
    let nat = |(m, f): Behaviour| {
        format!(
            "{{ mapping = \"{}\", filtering = \"{}\" }}",
            word_mapping(m),
            word_filtering(f)
        )
    };
    let firewall = if case.udp_blocked_at_a {
        "firewall = { stateful = true, default = \"allow\", rule = [{ action = \"deny\", protocol = \"udp\", note = \"UDP blocked\" }] }\n"
    } else {
        ""
    };
    format!(
        r#"name = "ice-oracle"
description = "Two remote locations behind NATs, one Online Edge as relay: {case}"

[tenant]
home_region = "us-east"

[[region]]
name = "us-east"
geography = "north-america"
prefixes = ["52.112.0.0/16"]
service = [
  {{ kind = "online-edge", address = "52.112.1.10" }},
  {{ kind = "registrar", address = "52.112.2.10" }},
]

[[remote]]
name = "home-a"
kind = "home"
subnet = "192.168.1.0/24"
public = "192.0.2.10"
nat = {nat_a}
{firewall}
[[remote]]
name = "home-b"
kind = "home"
subnet = "192.168.2.0/24"
public = "192.0.2.20"
nat = {nat_b}
"#,
        nat_a = nat(case.a),
        nat_b = nat(case.b),
    )
}

/// The scenario: a group at each location and a peer-to-peer probe from A to B.
const SCENARIO: &str = r#"name = "ice-oracle"
topology = "ice-oracle.toml"

[[group]]
name = "users-a"
at = "home-a"
homed = "online"
count = 1

[[group]]
name = "users-b"
at = "home-b"
homed = "online"
count = 1

[[probe]]
name = "a-calls-b"
kind = "peer-to-peer"
caller = "users-a"
callee = "users-b"
"#;

/// A validated case.
struct World {
    t: Topology,
    s: Scenario,
    routing: Routing,
}

fn world(case: &Case) -> World {
    let study = study_from_sources(
        SourceFile::new("ice-oracle.toml", topology_toml(case)),
        SourceFile::new("ice-oracle-scenario.toml", SCENARIO),
    )
    .unwrap_or_else(|d| {
        panic!(
            "{case}: the generated files do not validate:\n{}",
            callflow::diag::InvalidInput::from(d).render()
        )
    });
    let routing = Routing::compute(&study.topology, &BTreeSet::new());
    World {
        t: study.topology,
        s: study.scenario,
        routing,
    }
}

/// A client as an ICE agent, as the call layer builds it: its LAN, its
/// address, the tenant's Online Edge as relay.
fn endpoint(w: &World, group: &str) -> IceEndpoint {
    let g =
        w.s.groups
            .iter()
            .find(|g| g.name == group)
            .expect("the scenario has the group");
    let edge =
        w.t.region(w.t.tenant.home_region)
            .service(&w.t, ServerKind::OnlineEdge)
            .expect("the region has an Online Edge");
    IceEndpoint {
        name: g.name.clone(),
        node: g.lan,
        host: vec![g.address],
        relays: vec![edge],
        pac: None,
        offers_host: true,
    }
}

// ----- answers ------------------------------------------------------------------

/// What ICE settled on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// No pair nominated.
    NoPair,
    /// The nominated pair's path kind and transport.
    Pair(MediaPathKind, Protocol),
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::NoPair => write!(f, "none"),
            Verdict::Pair(kind, protocol) => write!(f, "{} {protocol}", kind.word()),
        }
    }
}

/// The model's answer: the call layer's trace of the probe.
fn model(w: &World) -> IceOutcome {
    let probe =
        w.s.probes
            .iter()
            .find(|p| p.name == "a-calls-b")
            .expect("the scenario has the probe");
    let call = trace_call(&w.t, &w.s, &w.routing, &probe.kind, SimTime::ZERO)
        .expect("a peer-to-peer probe is a call");
    assert_eq!(call.negotiations.len(), 1, "one ICE negotiation");
    call.negotiations
        .into_iter()
        .next()
        .expect("one negotiation")
}

fn model_verdict(outcome: &IceOutcome) -> Verdict {
    match outcome.nominated {
        Some(n) => Verdict::Pair(n.path, n.protocol),
        None => Verdict::NoPair,
    }
}

// ----- the oracle -----------------------------------------------------------------

/// What one side has in the network: where its host candidates live, and the
/// candidates the model gathered for it.
struct Place {
    node: NodeId,
    candidates: Vec<Candidate>,
}

impl Place {
    fn host(&self, addr: SocketAddr, protocol: Protocol) -> bool {
        self.candidates
            .iter()
            .any(|c| c.kind == CandidateKind::Host && c.base == addr && c.protocol() == protocol)
    }

    /// The allocation behind a relayed address.
    fn relay(&self, addr: SocketAddr, protocol: Protocol) -> Option<Allocation> {
        self.candidates
            .iter()
            .find(|c| {
                c.kind == CandidateKind::Relayed && c.addr == addr && c.protocol() == protocol
            })
            .and_then(|c| c.allocation)
    }

    fn has_tcp(&self, addr: SocketAddr, tcp: TcpType) -> bool {
        self.candidates
            .iter()
            .any(|c| c.addr == addr && c.transport == CandidateTransport::Tcp(tcp))
    }
}

/// An established TCP connection between an active and a passive candidate.
struct Connection {
    active_side: usize,
    active: SocketAddr,
    passive: SocketAddr,
    /// The active side's address as the passive side sees it.
    seen: SocketAddr,
}

/// A packet the network delivers.
struct Delivery {
    to: usize,
    source: SocketAddr,
    destination: SocketAddr,
    delay: SimDuration,
}

/// The project's network plane carrying the agents' packets.
struct Net<'a> {
    t: &'a Topology,
    routing: &'a Routing,
    state: NetState,
    places: [Place; 2],
    /// (relayed address, peer IP) pairs the Edge relays for.
    permissions: BTreeSet<(SocketAddr, IpAddr)>,
    connections: Vec<Connection>,
    /// Requests sent: transaction → (side, source base, destination).
    requests: BTreeMap<TransId, (usize, SocketAddr, SocketAddr)>,
    /// Where each side's packets from (base, destination) were last seen
    /// coming from at the peer.
    seen: BTreeMap<(usize, SocketAddr, SocketAddr), SocketAddr>,
    /// Responses dropped by the same-5-tuple rule.
    asymmetric: usize,
}

fn latency(t: &Topology, w: &Walk) -> SimDuration {
    w.links()
        .map(|l| t.link(l).quality.latency)
        .fold(SimDuration::ZERO, |a, b| a + b)
}

impl Net<'_> {
    fn walk(
        &mut self,
        start: NodeId,
        tuple: FiveTuple,
        direction: Direction,
        now: SimTime,
    ) -> Walk {
        walk(
            self.t,
            self.routing,
            &mut self.state,
            start,
            tuple,
            direction,
            now,
        )
    }

    /// The client → Edge leg of an allocation, carrying a Send from the
    /// relayed address `relayed` to `destination`: installs the permission
    /// (MS-TURN) when it reaches the Edge.
    fn up_the_allocation(
        &mut self,
        alloc: &Allocation,
        relayed: SocketAddr,
        destination: SocketAddr,
        now: SimTime,
    ) -> Option<SimDuration> {
        let tuple = FiveTuple::new(alloc.protocol, alloc.client, alloc.server);
        let leg = self.walk(alloc.client_node, tuple, Direction::Forward, now);
        match leg.outcome {
            Outcome::Delivered { node, .. } if node == alloc.edge => {
                self.permissions.insert((relayed, destination.ip()));
                Some(latency(self.t, &leg))
            }
            _ => None,
        }
    }

    /// The TCP connection a packet from `source` to `destination` by `side`
    /// rides, as the direction it travels in.
    fn connection(
        &self,
        side: usize,
        source: SocketAddr,
        destination: SocketAddr,
    ) -> Option<Direction> {
        self.connections.iter().find_map(|c| {
            if c.active_side == side && c.active == source && c.passive == destination {
                Some(Direction::Forward)
            } else if c.active_side != side && c.passive == source && c.seen == destination {
                Some(Direction::Return)
            } else {
                None
            }
        })
    }

    /// Carries one transmit of side `from`; `None` when it is lost.
    fn carry(
        &mut self,
        from: usize,
        protocol: Protocol,
        source: SocketAddr,
        destination: SocketAddr,
        message: &StunMessage<'_>,
        now: SimTime,
    ) -> Option<Delivery> {
        let to = 1 - from;
        let request = message.is_binding_request();
        if request {
            self.requests
                .insert(message.trans_id(), (from, source, destination));
        }
        let mut direction = if request {
            Direction::Forward
        } else {
            Direction::Return
        };
        let mut opens = false;
        if protocol == Protocol::Tcp {
            match self.connection(from, source, destination) {
                Some(d) => direction = d,
                None if self.places[from].has_tcp(source, TcpType::Active)
                    && self.places[to].has_tcp(destination, TcpType::Passive) =>
                {
                    opens = true;
                    direction = Direction::Forward;
                }
                None => {
                    // No connection to ride and none this pair may open
                    // (RFC 6544). A relayed base's Send still reaches the Edge.
                    if let Some(alloc) = self.places[from].relay(source, protocol) {
                        self.up_the_allocation(&alloc, source, destination, now);
                    }
                    return None;
                }
            }
        }
        let mut delay = SimDuration::ZERO;
        let start = match self.places[from].relay(source, protocol) {
            Some(alloc) => {
                delay += self.up_the_allocation(&alloc, source, destination, now)?;
                alloc.edge
            }
            None => self.places[from].node,
        };
        let tuple = FiveTuple::new(protocol, source, destination);
        let there = self.walk(start, tuple, direction, now);
        delay += latency(self.t, &there);
        let Outcome::Delivered { node, tuple: seen } = there.outcome else {
            return None;
        };
        if let Some(alloc) = self.places[to].relay(seen.dst, protocol) {
            if node != alloc.edge || !self.permissions.contains(&(seen.dst, seen.src.ip())) {
                return None;
            }
            let down = FiveTuple::new(alloc.protocol, alloc.server, alloc.mapped);
            let leg = self.walk(alloc.edge, down, Direction::Return, now);
            match leg.outcome {
                Outcome::Delivered { node, tuple }
                    if node == alloc.client_node && tuple.dst == alloc.client => {}
                _ => return None,
            }
            delay += latency(self.t, &leg);
        } else if !(node == self.places[to].node && self.places[to].host(seen.dst, protocol)) {
            return None;
        }
        if opens {
            let back = self.walk(node, seen.reversed(), Direction::Return, now);
            match back.outcome {
                Outcome::Delivered {
                    node: n,
                    tuple: got,
                } if n == start && got == tuple.reversed() => {}
                _ => return None,
            }
            self.connections.push(Connection {
                active_side: from,
                active: source,
                passive: destination,
                seen: seen.src,
            });
        }
        if !request {
            // The same-5-tuple rule: `is` matches responses by transaction only.
            if let Some(&(side, src, dst)) = self.requests.get(&message.trans_id())
                && (side != to || seen.dst != src || seen.src != dst)
            {
                self.asymmetric += 1;
                return None;
            }
        }
        self.seen.insert((from, source, destination), seen.src);
        Some(Delivery {
            to,
            source: seen.src,
            destination: seen.dst,
            delay,
        })
    }
}

fn net_protocol(p: is::Protocol) -> Protocol {
    match p {
        is::Protocol::Udp => Protocol::Udp,
        is::Protocol::Tcp | is::Protocol::SslTcp | is::Protocol::Tls => Protocol::Tcp,
    }
}

fn is_protocol(p: Protocol) -> &'static str {
    match p {
        Protocol::Udp => "udp",
        Protocol::Tcp => "tcp",
    }
}

/// An agent with fixed credentials and tie-breaker.
fn agent(name: &str, controlling: bool) -> IceAgent {
    let mut agent = IceAgent::new(IceCreds {
        ufrag: format!("{name}ufragufragufra"),
        pass: format!("{name}passpasspasspasspasspa"),
    });
    agent.set_controlling(controlling);
    agent.set_control_tie_breaker(if controlling { 2 } else { 1 });
    agent
}

/// Gives an agent the model's candidates: host and relayed ones as local
/// candidates, and returns what it signals (those plus server-reflexive
/// ones, which checks never leave from: their base is the host).
fn add_candidates(agent: &mut IceAgent, gathered: &[Candidate]) -> Vec<String> {
    let mut signal = Vec::new();
    for c in gathered {
        let proto = is_protocol(c.protocol());
        let local = match c.kind {
            CandidateKind::Host => is::Candidate::host(c.addr, proto),
            CandidateKind::Relayed => {
                let alloc = c
                    .allocation
                    .expect("a relayed candidate has its allocation");
                is::Candidate::relayed(c.addr, alloc.client, proto)
            }
            CandidateKind::ServerReflexive => {
                let srflx = is::Candidate::server_reflexive(c.addr, c.base, proto)
                    .expect("a valid server-reflexive candidate");
                signal.push(srflx.to_sdp_string());
                continue;
            }
            CandidateKind::PeerReflexive => {
                unreachable!("gathering learns no peer-reflexive candidate")
            }
        }
        .expect("a valid candidate");
        let added = agent
            .add_local_candidate(local)
            .expect("the agent takes the candidate");
        signal.push(added.to_sdp_string());
    }
    signal
}

/// A packet on its way to an agent, as that agent will see it.
struct InFlight {
    to: usize,
    proto: is::Protocol,
    source: SocketAddr,
    destination: SocketAddr,
    contents: Vec<u8>,
}

/// When the Edge relays a peer's packets to a relayed address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Permissions {
    /// Once the relayed address's owner has sent to the peer's IP (MS-TURN).
    BySending,
    /// Also, from the start, for the IP of every candidate the peer
    /// signalled (RFC 8445 §7.2.1 as ice.md §6.2.2 words it).
    AlsoForSignalled,
}

/// The oracle's answer, and how many responses the 5-tuple rule dropped.
struct OracleAnswer {
    verdict: Verdict,
    /// The controlling agent's last nominated (source, destination).
    pair: Option<(SocketAddr, SocketAddr)>,
    nominations: usize,
    asymmetric: usize,
}

fn to_sim(d: Duration) -> SimTime {
    SimTime::ZERO + SimDuration::from_micros(u64::try_from(d.as_micros()).expect("a short run"))
}

fn to_std(d: SimDuration) -> Duration {
    Duration::from_micros(d.as_micros())
}

fn oracle(w: &World, model: &IceOutcome, policy: Permissions) -> OracleAnswer {
    let ends = [endpoint(w, "users-a"), endpoint(w, "users-b")];
    let mut state = NetState::default();
    let mut ports = RelayPorts::default();
    let gathered: Vec<Vec<Candidate>> = ends
        .iter()
        .map(|ep| {
            gather(
                &w.t,
                &w.routing,
                &mut state,
                ep,
                PreferenceProfile::MicrosoftIce2,
                &mut ports,
                SimTime::ZERO,
            )
            .candidates
        })
        .collect();
    // The oracle's agents get the very candidates the model checked.
    for (mine, theirs) in gathered.iter().zip([&model.local, &model.remote]) {
        let key = |c: &Candidate| (c.kind, c.transport, c.addr, c.base);
        let learned = theirs
            .iter()
            .filter(|c| c.kind != CandidateKind::PeerReflexive);
        assert!(
            mine.iter().map(key).eq(learned.map(key)),
            "the oracle gathered what the model gathered"
        );
    }
    let mut agents = [agent("a", true), agent("b", false)];
    let signals: Vec<Vec<String>> = agents
        .iter_mut()
        .zip(&gathered)
        .map(|(agent, cands)| add_candidates(agent, cands))
        .collect();
    for i in 0..2 {
        let creds = agents[1 - i].local_credentials().clone();
        agents[i].set_remote_credentials(creds);
        for sdp in &signals[1 - i] {
            agents[i].add_remote_candidate(
                is::Candidate::from_sdp_string(sdp).expect("a candidate parses back"),
            );
        }
    }
    let [ga, gb]: [Vec<Candidate>; 2] = gathered.try_into().expect("two sides");
    let mut net = Net {
        t: &w.t,
        routing: &w.routing,
        state,
        places: [
            Place {
                node: ends[0].node,
                candidates: ga,
            },
            Place {
                node: ends[1].node,
                candidates: gb,
            },
        ],
        permissions: BTreeSet::new(),
        connections: Vec::new(),
        requests: BTreeMap::new(),
        seen: BTreeMap::new(),
        asymmetric: 0,
    };

    if policy == Permissions::AlsoForSignalled {
        for side in 0..2 {
            let relays: Vec<SocketAddr> = net.places[side]
                .candidates
                .iter()
                .filter(|c| c.kind == CandidateKind::Relayed)
                .map(|c| c.addr)
                .collect();
            let peer_ips: Vec<IpAddr> = net.places[1 - side]
                .candidates
                .iter()
                .map(|c| c.addr.ip())
                .collect();
            for &r in &relays {
                for &ip in &peer_ips {
                    net.permissions.insert((r, ip));
                }
            }
        }
    }

    let epoch = Instant::now();
    let mut now = Duration::ZERO;
    // Packets on their way, by arrival time and send order.
    let mut in_flight: BTreeMap<(Duration, u64), InFlight> = BTreeMap::new();
    let mut seq = 0_u64;
    let mut nominated = None;
    let mut nominations = 0;
    assert!(RUN_FOR > agents[0].ice_timeout() + Duration::from_secs(5));
    for a in &mut agents {
        // `poll_timeout` is None until the first `handle_timeout`.
        a.handle_timeout(epoch);
    }
    loop {
        for (i, agent) in agents.iter_mut().enumerate() {
            while let Some(tx) = agent.poll_transmit() {
                let message = StunMessage::parse(&tx.contents).expect("the agent sends STUN");
                let protocol = net_protocol(tx.proto);
                if let Some(d) = net.carry(
                    i,
                    protocol,
                    tx.source,
                    tx.destination,
                    &message,
                    to_sim(now),
                ) {
                    in_flight.insert(
                        (now + to_std(d.delay), seq),
                        InFlight {
                            to: d.to,
                            proto: tx.proto,
                            source: d.source,
                            destination: d.destination,
                            contents: tx.contents.to_vec(),
                        },
                    );
                    seq += 1;
                }
            }
            while let Some(e) = agent.poll_event() {
                if let (
                    0,
                    IceAgentEvent::NominatedSend {
                        proto,
                        source,
                        destination,
                    },
                ) = (i, e)
                {
                    nominated = Some((net_protocol(proto), source, destination));
                    nominations += 1;
                }
            }
        }
        let next = agents
            .iter_mut()
            .filter_map(|a| a.poll_timeout().map(|t| t - epoch))
            .chain(in_flight.keys().next().map(|k| k.0))
            .min()
            .expect("agents always have a next timeout");
        if next > RUN_FOR {
            break;
        }
        now = next;
        while let Some(entry) = in_flight.first_entry().filter(|e| e.key().0 <= now) {
            let p = entry.remove();
            let message = StunMessage::parse(&p.contents).expect("STUN");
            agents[p.to].handle_packet(
                epoch + now,
                StunPacket {
                    proto: p.proto,
                    source: p.source,
                    destination: p.destination,
                    message,
                },
            );
        }
        for a in &mut agents {
            if a.poll_timeout().is_some_and(|t| t - epoch <= now) {
                a.handle_timeout(epoch + now);
            }
        }
    }
    let verdict = match nominated {
        None => Verdict::NoPair,
        Some((protocol, source, destination)) => {
            let local_relayed = net.places[0].relay(source, protocol).is_some();
            let remote_relayed = net.places[1].relay(destination, protocol).is_some();
            let kind = match (local_relayed, remote_relayed) {
                (true, true) => MediaPathKind::RelayRelay,
                (true, false) | (false, true) => MediaPathKind::Relay,
                (false, false) => {
                    let translated = net.seen.get(&(0, source, destination)) != Some(&source);
                    if !translated && net.places[1].host(destination, protocol) {
                        MediaPathKind::Direct
                    } else {
                        MediaPathKind::Nat
                    }
                }
            };
            Verdict::Pair(kind, protocol)
        }
    };
    OracleAnswer {
        verdict,
        pair: nominated.map(|(_, s, d)| (s, d)),
        nominations,
        asymmetric: net.asymmetric,
    }
}

// ----- the comparison ---------------------------------------------------------------

/// One row of the result matrix.
struct Row {
    case: Case,
    model: Verdict,
    oracle: Verdict,
    pair: Option<(SocketAddr, SocketAddr)>,
    nominations: usize,
    asymmetric: usize,
}

impl fmt::Display for Row {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: model {}, oracle {}",
            self.case, self.model, self.oracle
        )?;
        if let Some((source, destination)) = self.pair {
            write!(f, " ({source} -> {destination})")?;
        }
        write!(
            f,
            ", {} nominations, {} responses dropped by the 5-tuple rule",
            self.nominations, self.asymmetric
        )
    }
}

fn run(case: Case, policy: Permissions) -> Row {
    let w = world(&case);
    let outcome = model(&w);
    let answer = oracle(&w, &outcome, policy);
    Row {
        case,
        model: model_verdict(&outcome),
        oracle: answer.verdict,
        pair: answer.pair,
        nominations: answer.nominations,
        asymmetric: answer.asymmetric,
    }
}

/// The matrix as docs/ice-oracle.md shows it: one table per firewall
/// setting, A's behaviour down, B's across, each cell the model's answer
/// (and the oracle's after a `/` where they differ).
fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    for blocked in [false, true] {
        out.push_str(if blocked {
            "UDP blocked at A:\n\n"
        } else {
            "No firewall:\n\n"
        });
        let behaviours: Vec<Behaviour> = MAPPINGS
            .iter()
            .flat_map(|&m| FILTERINGS.iter().map(move |&f| (m, f)))
            .collect();
        out.push_str("| A \\ B |");
        for &b in &behaviours {
            out.push_str(&format!(" {} |", short(b)));
        }
        out.push_str("\n|---|");
        out.push_str(&"---|".repeat(behaviours.len()));
        out.push('\n');
        for &a in &behaviours {
            out.push_str(&format!("| {} |", short(a)));
            for &b in &behaviours {
                let row = rows
                    .iter()
                    .find(|r| {
                        r.case
                            == Case {
                                a,
                                b,
                                udp_blocked_at_a: blocked,
                            }
                    })
                    .expect("every case ran");
                if row.model == row.oracle {
                    out.push_str(&format!(" {} |", row.model));
                } else {
                    out.push_str(&format!(" {} / {} |", row.model, row.oracle));
                }
            }
            out.push('\n');
        }
        out.push('\n');
    }
    out
}

/// Runs every case once, with the oracle's TURN permissions as given.
fn rows(policy: Permissions) -> Vec<Row> {
    Case::all().into_iter().map(|c| run(c, policy)).collect()
}

#[test]
fn the_model_nominates_what_a_real_ice_agent_nominates() {
    let rows = rows(Permissions::AlsoForSignalled);
    assert_eq!(rows.len(), 162);
    let matrix = render(&rows);
    print!("{matrix}");
    let disagreements: Vec<String> = rows
        .iter()
        .filter(|r| r.model != r.oracle)
        .map(Row::to_string)
        .collect();
    assert!(
        disagreements.is_empty(),
        "the model disagrees with the oracle:\n{}",
        disagreements.join("\n")
    );
    // The reference shows the matrix as it is.
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ice-oracle.md"),
    )
    .expect("docs/ice-oracle.md");
    assert!(
        doc.contains(&matrix),
        "docs/ice-oracle.md does not show the current matrix:\n{matrix}"
    );
}

/// Whether the Edge also installs permissions for every IP the peer
/// signalled (RFC 8445 §7.2.1) or only for IPs its owner sent to (MS-TURN)
/// decides no case: with UDP blocked at A, A's TCP relayed candidate sends
/// its own checks towards B's server-reflexive address, which installs the
/// permission B's replies need.
#[test]
fn the_turn_permission_policy_decides_no_case() {
    let by_sending = rows(Permissions::BySending);
    let signalled = rows(Permissions::AlsoForSignalled);
    for (s, f) in by_sending.iter().zip(&signalled) {
        assert_eq!(s.oracle, f.oracle, "{s} / {f}");
        if s.case.udp_blocked_at_a {
            assert_eq!(
                s.oracle,
                Verdict::Pair(MediaPathKind::Relay, Protocol::Tcp),
                "{s}"
            );
        }
    }
}
