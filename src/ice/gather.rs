//! Candidate gathering, through the network.
//!
//! An endpoint gathers:
//! - a **host** candidate on each of its addresses (UDP, and TCP-active for
//!   the ICE-TCP fallback);
//! - for each Edge it is provisioned with, a TURN **Allocate** over UDP to
//!   port 3478, walked through the network both ways: if it gets through,
//!   the address the Edge saw is the **server-reflexive** candidate and the
//!   Edge grants a UDP **relayed** candidate;
//! - the same over TCP 443 (through a proxy's `CONNECT` where the PAC sends
//!   it): a TCP relayed candidate, passive, that only pairs with TCP.
//!
//! Allocations are real walks, so they also open the NAT mappings and
//! firewall sessions the relayed media later uses.
//!
//! Leaves out pairing and checking ([`crate::ice::negotiate`](mod@crate::ice::negotiate)).

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};

use super::IceEndpoint;
use super::priority::{
    AddressFamily, CandidateInfo, CandidateKind, CandidateTransport, ComponentId, LocalRank,
    PreferenceProfile, TcpType,
};
use crate::model::{NodeId, NodeKind, Protocol, ServerKind, Topology};
use crate::net::flow::{End, FlowSpec, FlowTrace, VerdictText, trace_flow};
use crate::net::packet::TrafficClass;
use crate::net::routing::Routing;
use crate::net::walk::{NetState, Outcome};
use crate::time::SimTime;

/// The port clients send audio from (and check from).
pub const MEDIA_PORT: u16 = 50_000;
/// TURN over UDP.
pub const TURN_UDP_PORT: u16 = 3478;
/// TURN over TCP (MS-TURN's pseudo-TLS on 443).
pub const TURN_TCP_PORT: u16 = 443;

/// A TURN allocation behind a relayed candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allocation {
    /// The Edge.
    pub edge: NodeId,
    /// The node the client sits on.
    pub client_node: NodeId,
    /// The client's base the allocation was made from.
    pub client: SocketAddr,
    /// The Edge address the client sent to.
    pub server: SocketAddr,
    /// The client's address as the Edge saw it (after NATs).
    pub mapped: SocketAddr,
    /// The protocol of the client–Edge leg.
    pub protocol: Protocol,
}

/// A candidate, with what the model needs to check it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Candidate {
    /// Host, server-reflexive, peer-reflexive or relayed.
    pub kind: CandidateKind,
    /// UDP, or TCP with its type.
    pub transport: CandidateTransport,
    /// The address signalled to the peer.
    pub addr: SocketAddr,
    /// The address checks are sent from.
    pub base: SocketAddr,
    /// Where checks are walked from: the endpoint's node, or the Edge for a
    /// relayed candidate.
    pub node: NodeId,
    /// The allocation, for a relayed candidate.
    pub allocation: Option<Allocation>,
    /// ICE priority.
    pub priority: u32,
}

impl Candidate {
    /// The pairing view of this candidate.
    pub fn info(&self) -> CandidateInfo {
        CandidateInfo::signalled(
            self.kind,
            self.transport,
            family(self.addr.ip()),
            ComponentId::RTP,
            self.priority,
        )
        .expect("priorities computed by the profile are in range")
    }

    /// The protocol checks on this candidate use.
    pub fn protocol(&self) -> Protocol {
        match self.transport {
            CandidateTransport::Udp => Protocol::Udp,
            CandidateTransport::Tcp(_) => Protocol::Tcp,
        }
    }
}

/// What an endpoint gathered, and why it did not get more.
#[derive(Debug, Clone)]
pub struct Gathered {
    /// The candidates, in gathering order.
    pub candidates: Vec<Candidate>,
    /// Allocations that failed, in words (`UDP 3478 to us-east-online-edge: dropped: …`).
    pub notes: Vec<String>,
    /// Every allocation attempt, traced.
    pub allocations: Vec<FlowTrace>,
}

/// Hands out relayed ports per Edge so allocations never collide.
#[derive(Debug, Clone, Default)]
pub struct RelayPorts(BTreeMap<(NodeId, Protocol), u16>);

impl RelayPorts {
    fn next(&mut self, t: &Topology, edge: NodeId, protocol: Protocol) -> u16 {
        let first = match (protocol, &t.node(edge).kind) {
            (Protocol::Tcp, _) => TURN_TCP_PORT,
            // Teams transport relays multiplex on UDP 3478–3481.
            (Protocol::Udp, NodeKind::Server(s)) if s.kind == ServerKind::OnlineEdge => {
                TURN_UDP_PORT
            }
            // SfB Edges relay on 50000–59999.
            (Protocol::Udp, _) => 50_000,
        };
        let n = self.0.entry((edge, protocol)).or_insert(0);
        let port = match protocol {
            Protocol::Tcp if *n > 0 => 50_000 + *n,
            _ => first + *n,
        };
        *n += 1;
        port
    }
}

/// The address a client at `from` reaches an Edge on: the internal side from
/// inside the Edge's own network, the external side from anywhere else.
pub fn edge_address(t: &Topology, from: NodeId, edge: NodeId, v6: bool) -> Option<IpAddr> {
    let same_domain = t.node(from).domain == t.node(edge).domain;
    match &t.node(edge).kind {
        NodeKind::Edge(e) => {
            let a = if same_domain { e.internal } else { e.external };
            (a.is_ipv6() == v6).then_some(a)
        }
        _ => t
            .node(edge)
            .addresses
            .iter()
            .copied()
            .find(|a| a.is_ipv6() == v6),
    }
}

/// The public address an Edge relays from.
pub fn relayed_address(t: &Topology, edge: NodeId, v6: bool) -> Option<IpAddr> {
    match &t.node(edge).kind {
        NodeKind::Edge(e) => (e.external.is_ipv6() == v6).then_some(e.external),
        _ => t
            .node(edge)
            .addresses
            .iter()
            .copied()
            .find(|a| a.is_ipv6() == v6),
    }
}

fn family(ip: IpAddr) -> AddressFamily {
    if ip.is_ipv6() {
        AddressFamily::V6
    } else {
        AddressFamily::V4
    }
}

/// Gathers an endpoint's candidates at `now`, walking every allocation
/// through the network (which updates NAT and firewall state).
#[allow(clippy::too_many_arguments)]
pub fn gather(
    t: &Topology,
    routing: &Routing,
    state: &mut NetState,
    ep: &IceEndpoint,
    profile: PreferenceProfile,
    ports: &mut RelayPorts,
    now: SimTime,
) -> Gathered {
    let mut g = Gathered {
        candidates: vec![],
        notes: vec![],
        allocations: vec![],
    };
    let Some(&primary) = ep.host.first() else {
        return g;
    };
    let v6 = primary.is_ipv6();
    let priority = |kind, transport, address: usize, relay: usize, ip: IpAddr| {
        let rank = LocalRank::new(address.min(63) as u8, relay.min(7) as u8)
            .expect("ranks are clamped into range");
        CandidateInfo::gathered(profile, kind, transport, family(ip), ComponentId::RTP, rank)
            .priority()
    };
    if ep.offers_host {
        for (i, &addr) in ep.host.iter().enumerate() {
            for transport in [
                CandidateTransport::Udp,
                CandidateTransport::Tcp(TcpType::Active),
            ] {
                let base = SocketAddr::new(addr, MEDIA_PORT);
                g.candidates.push(Candidate {
                    kind: CandidateKind::Host,
                    transport,
                    addr: base,
                    base,
                    node: ep.node,
                    allocation: None,
                    priority: priority(CandidateKind::Host, transport, i, 0, addr),
                });
            }
        }
    }
    for (r, &edge) in ep.relays.iter().enumerate() {
        let (Some(server), Some(relayed)) = (
            edge_address(t, ep.node, edge, v6),
            relayed_address(t, edge, v6),
        ) else {
            g.notes.push(format!(
                "{} has no {} address",
                t.node(edge).name,
                if v6 { "IPv6" } else { "IPv4" }
            ));
            continue;
        };
        for protocol in [Protocol::Udp, Protocol::Tcp] {
            let dst_port = if protocol == Protocol::Udp {
                TURN_UDP_PORT
            } else {
                TURN_TCP_PORT
            };
            let spec = FlowSpec {
                from: End {
                    node: ep.node,
                    addr: primary,
                },
                to: End {
                    node: edge,
                    addr: server,
                },
                protocol,
                src_port: MEDIA_PORT,
                dst_port,
                class: TrafficClass::Stun,
                pac: if protocol == Protocol::Tcp {
                    ep.pac
                } else {
                    None
                },
            };
            let trace = trace_flow(t, routing, state, spec, now);
            if !trace.verdict.is_ok() {
                g.notes.push(format!(
                    "{protocol} {dst_port} to {}: {}",
                    t.node(edge).name,
                    VerdictText {
                        topology: t,
                        verdict: &trace.verdict
                    }
                ));
                g.allocations.push(trace);
                continue;
            }
            let last = trace.legs.last().expect("an ok flow has a leg");
            let mapped = match &last.forward.outcome {
                Outcome::Delivered { tuple, .. } => tuple.src,
                Outcome::Dropped { .. } => unreachable!("an ok flow was delivered"),
            };
            let client = SocketAddr::new(primary, MEDIA_PORT);
            let direct = trace.proxy.is_none();
            // The Allocate response carries the mapped address: a
            // server-reflexive candidate (TCP-active over TCP, as Microsoft
            // clients offer it), which also tells the peer which address to
            // grant TURN permissions to.
            let srflx_transport = match protocol {
                Protocol::Udp => CandidateTransport::Udp,
                Protocol::Tcp => CandidateTransport::Tcp(TcpType::Active),
            };
            if ep.offers_host
                && direct
                && mapped != client
                && !g.candidates.iter().any(|c| {
                    c.kind == CandidateKind::ServerReflexive
                        && c.addr == mapped
                        && c.transport == srflx_transport
                })
            {
                g.candidates.push(Candidate {
                    kind: CandidateKind::ServerReflexive,
                    transport: srflx_transport,
                    addr: mapped,
                    base: client,
                    node: ep.node,
                    allocation: None,
                    priority: priority(
                        CandidateKind::ServerReflexive,
                        srflx_transport,
                        0,
                        0,
                        primary,
                    ),
                });
            }
            let port = ports.next(t, edge, protocol);
            let relay_addr = SocketAddr::new(relayed, port);
            let transport = match protocol {
                Protocol::Udp => CandidateTransport::Udp,
                Protocol::Tcp => CandidateTransport::Tcp(TcpType::Passive),
            };
            g.candidates.push(Candidate {
                kind: CandidateKind::Relayed,
                transport,
                addr: relay_addr,
                base: relay_addr,
                node: edge,
                allocation: Some(Allocation {
                    edge,
                    client_node: ep.node,
                    client,
                    server: SocketAddr::new(server, dst_port),
                    mapped,
                    protocol,
                }),
                priority: priority(CandidateKind::Relayed, transport, 0, r, relayed),
            });
            g.allocations.push(trace);
        }
    }
    g
}
