//! Flows: a packet and its reply, through a proxy where PAC rules send it.
//!
//! A flow is traced as one or two legs. Directly, one leg: the first packet
//! walks from the sender to the receiver, and the receiver's reply walks
//! back, routed on its own — it must meet the same stateful elements or die
//! at one that has no session for it. Through a proxy, two legs: client to
//! proxy, then proxy to destination from the proxy's own address.
//!
//! PAC rules apply only to HTTP and HTTPS (TCP 80 and 443): UDP never
//! crosses a proxy. A TLS-inspecting proxy breaks Optimize and Allow flows
//! (Microsoft: break-and-inspect is incompatible with them); TURN over
//! TCP 443 to an Edge needs `CONNECT` and tunnels through uninspected.
//!
//! Leaves out calls: which flows a call needs is the call layer's business.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use super::packet::{Direction, FiveTuple, TrafficClass};
use super::routing::Routing;
use super::walk::{
    DropReason, DropText, NetState, Outcome, Walk, came_back_another_way, walk_from,
};
use crate::endpoints::Category;
use crate::model::{
    LinkId, NodeId, NodeKind, PacAction, PacId, PacMatch, PathLabel, Protocol, Segment, Topology,
    WebTraffic, is_private,
};
use crate::time::SimTime;

/// One end of a flow: an element and the address used on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct End {
    /// The element (a site's LAN for a client).
    pub node: NodeId,
    /// The address.
    pub addr: IpAddr,
}

/// A flow to trace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowSpec {
    /// Who sends first.
    pub from: End,
    /// Who it is for.
    pub to: End,
    /// UDP or TCP.
    pub protocol: Protocol,
    /// The sender's port.
    pub src_port: u16,
    /// The receiver's port.
    pub dst_port: u16,
    /// What it carries.
    pub class: TrafficClass,
    /// The PAC policy the sender follows, if any.
    pub pac: Option<PacId>,
}

/// One leg: a first packet and its reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Leg {
    /// The packet as sent.
    pub tuple: FiveTuple,
    /// Its walk.
    pub forward: Walk,
    /// The reply's walk, if the packet arrived.
    pub back: Option<Walk>,
}

/// How a flow fared.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Both ways work.
    Ok,
    /// The first packet was dropped.
    Dropped {
        /// Where.
        node: NodeId,
        /// Why.
        reason: DropReason,
    },
    /// The reply was dropped on its way back.
    ReturnDropped {
        /// Where.
        node: NodeId,
        /// Why.
        reason: DropReason,
    },
    /// The reply arrived somewhere other than the sender.
    Misdelivered {
        /// Where it arrived.
        node: NodeId,
    },
    /// A TLS-inspecting proxy breaks the flow.
    TlsInspection {
        /// The proxy.
        proxy: NodeId,
        /// The destination's category.
        category: Category,
    },
    /// The proxy does not allow `CONNECT` to port 443.
    ConnectRefused {
        /// The proxy.
        proxy: NodeId,
    },
    /// The PAC sends the flow to a proxy that does not carry it.
    ProxyWontCarry {
        /// The proxy.
        proxy: NodeId,
    },
}

impl Verdict {
    /// Whether the flow works.
    pub fn is_ok(&self) -> bool {
        matches!(self, Verdict::Ok)
    }

    /// A short machine-friendly word: `ok`, `dropped`, `return-dropped`, …
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Dropped { .. } => "dropped",
            Verdict::ReturnDropped { .. } => "return-dropped",
            Verdict::Misdelivered { .. } => "misdelivered",
            Verdict::TlsInspection { .. } => "tls-inspection",
            Verdict::ConnectRefused { .. } => "connect-refused",
            Verdict::ProxyWontCarry { .. } => "proxy-refused",
        }
    }

    /// The node where the flow broke, if it did.
    pub fn at(&self) -> Option<NodeId> {
        match self {
            Verdict::Ok => None,
            Verdict::Dropped { node, .. }
            | Verdict::ReturnDropped { node, .. }
            | Verdict::Misdelivered { node } => Some(*node),
            Verdict::TlsInspection { proxy, .. }
            | Verdict::ConnectRefused { proxy }
            | Verdict::ProxyWontCarry { proxy } => Some(*proxy),
        }
    }
}

/// A verdict in words: `return-dropped: no session on hq-fw`.
pub struct VerdictText<'a> {
    /// The topology, for names.
    pub topology: &'a Topology,
    /// The verdict.
    pub verdict: &'a Verdict,
}

impl fmt::Display for VerdictText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.topology;
        match self.verdict {
            Verdict::Ok => write!(f, "ok"),
            Verdict::Dropped { node, reason } => {
                write!(
                    f,
                    "dropped: {}",
                    DropText {
                        topology: t,
                        node: *node,
                        reason
                    }
                )
            }
            Verdict::ReturnDropped { node, reason } => {
                write!(
                    f,
                    "return-dropped: {}",
                    DropText {
                        topology: t,
                        node: *node,
                        reason
                    }
                )
            }
            Verdict::Misdelivered { node } => {
                write!(
                    f,
                    "misdelivered: the reply reached {} instead of the sender",
                    t.node(*node).name
                )
            }
            Verdict::TlsInspection { proxy, category } => write!(
                f,
                "broken: TLS inspection at {} breaks this {category} flow (Microsoft requires Optimize and Allow traffic to bypass it)",
                t.node(*proxy).name
            ),
            Verdict::ConnectRefused { proxy } => {
                write!(
                    f,
                    "broken: {} refuses CONNECT to port 443",
                    t.node(*proxy).name
                )
            }
            Verdict::ProxyWontCarry { proxy } => {
                write!(
                    f,
                    "broken: the PAC sends this flow to {}, which does not carry it",
                    t.node(*proxy).name
                )
            }
        }
    }
}

/// A traced flow.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowTrace {
    /// The flow.
    pub spec: FlowSpec,
    /// The destination's catalog category.
    pub category: Category,
    /// The proxy it went through, if any.
    pub proxy: Option<NodeId>,
    /// The PAC rule that decided, in words.
    pub pac_rule: Option<String>,
    /// One leg directly, two through a proxy.
    pub legs: Vec<Leg>,
    /// How it fared.
    pub verdict: Verdict,
}

impl FlowTrace {
    /// Segments crossed by the first packets, in order, every leg.
    pub fn forward_segments(&self, t: &Topology) -> Vec<Segment> {
        self.legs
            .iter()
            .flat_map(|l| l.forward.segments(t))
            .collect()
    }

    /// Segments crossed by the replies, in order, every leg.
    pub fn return_segments(&self, t: &Topology) -> Vec<Segment> {
        self.legs
            .iter()
            .flat_map(|l| l.back.iter().flat_map(|b| b.segments(t)))
            .collect()
    }

    /// The source document's label for the path, from the segments crossed.
    pub fn label(&self, t: &Topology) -> PathLabel {
        PathLabel::of(self.forward_segments(t))
    }

    /// Whether a reply came back by other links than the packet went.
    pub fn asymmetric(&self) -> bool {
        self.legs.iter().any(|leg| match &leg.back {
            Some(back) => came_back_another_way(
                &leg.forward.links().collect::<Vec<_>>(),
                &back.links().collect::<Vec<_>>(),
                back.delivered(),
            ),
            None => false,
        })
    }
}

/// The ephemeral port a client or proxy opens TCP connections from.
pub const EPHEMERAL_PORT: u16 = 49152;

/// Traces a flow at time `now`, updating the stateful elements in `state`.
pub fn trace_flow(
    t: &Topology,
    routing: &Routing,
    state: &mut NetState,
    spec: FlowSpec,
    now: SimTime,
) -> FlowTrace {
    let category = t
        .catalog
        .category_of(spec.to.addr, spec.protocol, spec.dst_port);
    let (proxy, pac_rule) = pac_decision(t, &spec, category);
    let Some(proxy_node) = proxy else {
        let leg = trace_leg(
            t,
            routing,
            state,
            spec.from,
            None,
            spec.to,
            spec.protocol,
            spec.src_port,
            spec.dst_port,
            now,
        );
        let verdict = leg_verdict(&leg, spec.from.node);
        return FlowTrace {
            spec,
            category,
            proxy: None,
            pac_rule,
            legs: vec![leg],
            verdict,
        };
    };
    let NodeKind::Proxy(p) = &t.node(proxy_node).kind else {
        unreachable!("PAC actions name proxies (checked by validation)")
    };
    let mut trace = FlowTrace {
        spec,
        category,
        proxy: Some(proxy_node),
        pac_rule,
        legs: vec![],
        verdict: Verdict::Ok,
    };
    let web = if spec.dst_port == 80 {
        WebTraffic::Http
    } else {
        WebTraffic::Https
    };
    if !p.carries.contains(&web) {
        trace.verdict = Verdict::ProxyWontCarry { proxy: proxy_node };
        return trace;
    }
    let to_proxy = End {
        node: proxy_node,
        addr: p.address,
    };
    let first = trace_leg(
        t,
        routing,
        state,
        spec.from,
        None,
        to_proxy,
        Protocol::Tcp,
        spec.src_port,
        p.port,
        now,
    );
    let first_verdict = leg_verdict(&first, spec.from.node);
    trace.legs.push(first);
    if !first_verdict.is_ok() {
        trace.verdict = first_verdict;
        return trace;
    }
    let tunnelled = spec.class == TrafficClass::Stun || spec.class.is_media();
    if tunnelled && !p.connect {
        trace.verdict = Verdict::ConnectRefused { proxy: proxy_node };
        return trace;
    }
    if !tunnelled
        && p.tls_inspection
        && spec.dst_port == 443
        && matches!(category, Category::Optimize | Category::Allow)
    {
        trace.verdict = Verdict::TlsInspection {
            proxy: proxy_node,
            category,
        };
        return trace;
    }
    let egress = p.egress.and_then(|e| {
        t.links_of(proxy_node)
            .into_iter()
            .find(|&l| t.other_end(l, proxy_node) == e)
    });
    let from_proxy = End {
        node: proxy_node,
        addr: p.address,
    };
    let second = trace_leg(
        t,
        routing,
        state,
        from_proxy,
        egress,
        spec.to,
        Protocol::Tcp,
        EPHEMERAL_PORT,
        spec.dst_port,
        now,
    );
    trace.verdict = leg_verdict(&second, proxy_node);
    trace.legs.push(second);
    trace
}

/// Which proxy, if any, the sender's PAC sends this flow to, and the rule.
fn pac_decision(
    t: &Topology,
    spec: &FlowSpec,
    category: Category,
) -> (Option<NodeId>, Option<String>) {
    let web = spec.protocol == Protocol::Tcp && matches!(spec.dst_port, 80 | 443);
    let Some(pac) = spec.pac.filter(|_| web) else {
        return (None, None);
    };
    let pac = &t.pacs[pac.0 as usize];
    for (m, action, text) in &pac.rules {
        let hit = match m {
            PacMatch::Category(c) => *c == category,
            PacMatch::Addresses(prefixes) => prefixes.iter().any(|p| p.contains(&spec.to.addr)),
        };
        if hit {
            let rule = format!(
                "PAC {}: {text} -> {}",
                pac.name,
                match action {
                    PacAction::Direct => "direct".to_string(),
                    PacAction::Proxy(p) => format!("proxy {}", t.node(*p).name),
                }
            );
            return match action {
                PacAction::Direct => (None, Some(rule)),
                PacAction::Proxy(p) => (Some(*p), Some(rule)),
            };
        }
    }
    (
        None,
        Some(format!("PAC {}: no rule matched -> direct", pac.name)),
    )
}

#[allow(clippy::too_many_arguments)]
fn trace_leg(
    t: &Topology,
    routing: &Routing,
    state: &mut NetState,
    from: End,
    via: Option<LinkId>,
    to: End,
    protocol: Protocol,
    src_port: u16,
    dst_port: u16,
    now: SimTime,
) -> Leg {
    let tuple = FiveTuple::new(
        protocol,
        SocketAddr::new(from.addr, src_port),
        SocketAddr::new(to.addr, dst_port),
    );
    let forward = walk_from(
        t,
        routing,
        state,
        from.node,
        via,
        tuple,
        Direction::Forward,
        now,
    );
    let back = match &forward.outcome {
        Outcome::Delivered {
            node,
            tuple: received,
        } => Some(walk_from(
            t,
            routing,
            state,
            *node,
            None,
            received.reversed(),
            Direction::Return,
            now,
        )),
        Outcome::Dropped { .. } => None,
    };
    Leg {
        tuple,
        forward,
        back,
    }
}

fn leg_verdict(leg: &Leg, sender: NodeId) -> Verdict {
    match (&leg.forward.outcome, &leg.back) {
        (Outcome::Dropped { node, reason }, _) => Verdict::Dropped {
            node: *node,
            reason: reason.clone(),
        },
        (Outcome::Delivered { .. }, Some(back)) => match &back.outcome {
            Outcome::Dropped { node, reason } => Verdict::ReturnDropped {
                node: *node,
                reason: reason.clone(),
            },
            Outcome::Delivered { node, tuple }
                if *node == sender && *tuple == leg.tuple.reversed() =>
            {
                Verdict::Ok
            }
            Outcome::Delivered { node, .. } => Verdict::Misdelivered { node: *node },
        },
        (Outcome::Delivered { .. }, None) => Verdict::Ok,
    }
}

/// The address to reach `target` by from `from`: one of its own addresses
/// of the family asked for, or — when that address is private and the sender
/// is in another routing domain — the public address a static NAT mapping
/// publishes it under.
pub fn address_for(t: &Topology, from: NodeId, target: NodeId, v6: bool) -> Option<IpAddr> {
    let node = t.node(target);
    let same_domain = t.node(from).domain == node.domain;
    if let NodeKind::Edge(e) = &node.kind {
        // An Edge is reached on its internal side from inside its own
        // network, on its external (public) side from anywhere else.
        let a = if same_domain { e.internal } else { e.external };
        return (a.is_ipv6() == v6).then_some(a);
    }
    let own: Vec<IpAddr> = match &node.kind {
        NodeKind::Site(s) => s.subnets.iter().filter_map(|p| p.hosts().nth(9)).collect(),
        NodeKind::Region(r) => t
            .region(*r)
            .prefixes
            .iter()
            .filter_map(|p| p.hosts().nth(9))
            .collect(),
        _ => node.addresses.clone(),
    };
    let addr = own.into_iter().find(|a| a.is_ipv6() == v6)?;
    if same_domain || !is_private(&addr.into()) {
        return Some(addr);
    }
    t.nodes()
        .filter(|&n| t.node(n).domain == node.domain)
        .find_map(|n| match &t.node(n).kind {
            NodeKind::Nat(nat) => nat
                .static_mappings
                .iter()
                .find(|(_, private)| *private == addr)
                .map(|(public, _)| *public),
            _ => None,
        })
        .or(Some(addr))
}

/// The port a client sends a class of traffic from (Teams and SfB client
/// port ranges: audio 50000–50019, video 50020–50039, sharing 50040–50059).
pub fn client_port(class: TrafficClass) -> u16 {
    match class {
        TrafficClass::Audio | TrafficClass::Stun => 50_000,
        TrafficClass::Video => 50_020,
        TrafficClass::Sharing => 50_040,
        TrafficClass::FileTransfer => 50_060,
        TrafficClass::Signaling
        | TrafficClass::Web
        | TrafficClass::Dependency
        | TrafficClass::Streaming => EPHEMERAL_PORT,
    }
}
