//! The packet walk: one packet, hop by hop, through the elements it meets.
//!
//! At each node the walk asks the element for its verdict (a firewall's
//! rule or session, a NAT's translation), looks up the route for the
//! (possibly rewritten) destination, applies the verdict's effects to the
//! element's state, and records everything in a [`Hop`]. A reply to a
//! connection a NAT let in from outside leaves that NAT by the link the
//! connection came in by, whatever its route table says (reply-to). It ends delivered
//! at the node that owns the destination, or dropped with a reason. A walk
//! is bounded: a routing loop is reported with the nodes it went round,
//! never followed forever.
//!
//! Leaves out which packets to send: flows, replies and calls are built on
//! top (see [`crate::net::flow`]).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;

use super::firewall::{FirewallDrop, FirewallEffect, FirewallState, FirewallVerdict, PassReason};
use super::nat::{NatDrop, NatState, NatVerdict, Rewrite};
use super::packet::{Direction, FiveTuple};
use super::routing::{Beaten, NextHop, RouteSource, Routing, SourceText};
use crate::model::{LinkId, NodeId, NodeKind, Segment, Topology};
use crate::time::SimTime;

/// The longest walk allowed before it is called a loop.
pub const HOP_LIMIT: usize = 64;

/// The mutable state of every stateful element: NAT mappings and firewall
/// sessions. One value per simulated world (a trace, a replication).
#[derive(Debug, Clone, Default)]
pub struct NetState {
    nats: BTreeMap<NodeId, NatState>,
    firewalls: BTreeMap<NodeId, FirewallState>,
}

impl NetState {
    /// The state of a NAT (empty if it has seen nothing yet).
    pub fn nat(&self, node: NodeId) -> Option<&NatState> {
        self.nats.get(&node)
    }

    /// The state of a firewall.
    pub fn firewall(&self, node: NodeId) -> Option<&FirewallState> {
        self.firewalls.get(&node)
    }
}

/// The route a hop used.
#[derive(Debug, Clone, PartialEq)]
pub struct RouteStep {
    /// The matching prefix.
    pub prefix: IpNet,
    /// Where it led.
    pub next: NextHop,
    /// Where the route came from.
    pub source: RouteSource,
    /// Its local preference.
    pub local_pref: u32,
    /// Its cost.
    pub cost: u32,
    /// The next longest prefix that also matched, which it beat.
    pub shorter: Option<IpNet>,
    /// The runner-up for the same prefix, if any.
    pub beat: Option<Beaten>,
}

impl RouteStep {
    /// Why it won, in words: where it came from, the longest match, and
    /// what it beat. Written only when asked (the engine never asks), so
    /// walking stays free of text.
    pub fn why(&self, t: &Topology) -> String {
        let mut why = SourceText {
            topology: t,
            source: self.source,
        }
        .to_string();
        if let Some(shorter) = self.shorter {
            why.push_str(&format!("; longest match (beats {shorter})"));
        }
        if let Some(b) = &self.beat {
            why.push_str(&format!(
                "; won on {} over {} (local-pref {}, cost {})",
                b.on,
                SourceText {
                    topology: t,
                    source: b.source
                },
                b.local_pref,
                b.cost
            ));
        }
        why
    }
}

/// Something an element decided at a hop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A firewall let the packet through.
    Allowed(PassReason),
    /// A firewall opened a session for the flow.
    SessionOpened,
    /// A NAT rewrote the packet.
    Translated(Rewrite),
    /// The element's own traffic leaves by a fixed link (a proxy's egress).
    Egress(String),
    /// A reply leaves by the link its connection came in by, not by the
    /// route table (a NAT's reply-to): the link, and what the table said.
    ReplyTo {
        /// The link it leaves by.
        link: String,
        /// Where the route table would have sent it, in words.
        instead: String,
    },
}

impl fmt::Display for Decision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Allowed(why) => write!(f, "{why}"),
            Decision::SessionOpened => write!(f, "session opened"),
            Decision::Translated(rewrite) => write!(f, "{rewrite}"),
            Decision::Egress(link) => write!(f, "leaves by its egress {link}"),
            Decision::ReplyTo { link, instead } => write!(
                f,
                "reply-to: leaves by {link}, the link its connection came in by ({instead})"
            ),
        }
    }
}

/// One element on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Hop {
    /// The element.
    pub node: NodeId,
    /// The link the packet arrived by (none at the sender).
    pub arrived_by: Option<LinkId>,
    /// The link it left by (none where it ended).
    pub left_by: Option<LinkId>,
    /// The packet as it arrived.
    pub tuple_in: FiveTuple,
    /// The packet as it left.
    pub tuple_out: FiveTuple,
    /// The route looked up.
    pub route: Option<RouteStep>,
    /// What the element decided.
    pub decisions: Vec<Decision>,
}

/// Why a packet went no further.
#[derive(Debug, Clone, PartialEq)]
pub enum DropReason {
    /// No route matches the destination.
    NoRoute {
        /// The destination looked up.
        dst: IpAddr,
    },
    /// The walk came back to an element it had passed with the same packet.
    Loop {
        /// The elements in the loop, in order.
        nodes: Vec<NodeId>,
    },
    /// A firewall dropped it.
    Firewall(FirewallDrop),
    /// A NAT dropped it.
    Nat(NatDrop),
    /// The route ends here but nothing here has that address.
    NoSuchHost {
        /// The destination.
        dst: IpAddr,
    },
    /// A host (server, Edge, proxy) was asked to forward.
    NotAForwarder,
    /// The route leads over a link that is down.
    LinkDown {
        /// The link.
        link: LinkId,
    },
}

/// How a walk ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// It reached the node owning the destination.
    Delivered {
        /// The receiving node.
        node: NodeId,
        /// The packet as received.
        tuple: FiveTuple,
    },
    /// It was dropped.
    Dropped {
        /// Where.
        node: NodeId,
        /// Why.
        reason: DropReason,
    },
}

/// A finished walk.
#[derive(Debug, Clone, PartialEq)]
pub struct Walk {
    /// Forward or return.
    pub direction: Direction,
    /// Every element met, in order.
    pub hops: Vec<Hop>,
    /// How it ended.
    pub outcome: Outcome,
}

impl Walk {
    /// The links crossed, in order.
    pub fn links(&self) -> impl Iterator<Item = LinkId> + '_ {
        self.hops.iter().filter_map(|h| h.left_by)
    }

    /// The segments of the links crossed, in order.
    pub fn segments<'t>(&'t self, t: &'t Topology) -> impl Iterator<Item = Segment> + 't {
        self.links().map(|l| t.link(l).segment)
    }

    /// Whether it was delivered.
    pub fn delivered(&self) -> bool {
        matches!(self.outcome, Outcome::Delivered { .. })
    }
}

/// Whether a reply came back by other links than its request went:
/// `request` and `reply` are the links each crossed, in order. A reply
/// dropped on its way counts only if it had already left the request's
/// path (one with no route back at all has taken no other way).
pub fn came_back_another_way(request: &[LinkId], reply: &[LinkId], delivered: bool) -> bool {
    let mut expected = request.to_vec();
    expected.reverse();
    if delivered {
        expected != reply
    } else {
        !expected.starts_with(reply)
    }
}

/// Walks one packet from `start`. Elements' state in `state` is read and
/// updated as the packet passes.
pub fn walk(
    t: &Topology,
    routing: &Routing,
    state: &mut NetState,
    start: NodeId,
    tuple: FiveTuple,
    direction: Direction,
    now: SimTime,
) -> Walk {
    walk_from(t, routing, state, start, None, tuple, direction, now)
}

/// Like [`walk`], but the first hop leaves by `via` when given (a proxy's
/// forced egress) instead of by its route.
#[allow(clippy::too_many_arguments)]
pub fn walk_from(
    t: &Topology,
    routing: &Routing,
    state: &mut NetState,
    start: NodeId,
    via: Option<LinkId>,
    tuple: FiveTuple,
    direction: Direction,
    now: SimTime,
) -> Walk {
    let local = routing
        .lookup(start, tuple.dst.ip())
        .is_some_and(|l| l.route.next == NextHop::Local);
    let via = via.or_else(|| {
        (!local)
            .then(|| source_interface(t, start, tuple.src.ip()))
            .flatten()
    });
    let mut hops: Vec<Hop> = Vec::new();
    let mut seen: BTreeSet<(NodeId, FiveTuple)> = BTreeSet::new();
    let mut node = start;
    let mut arrived_by: Option<LinkId> = None;
    let mut tuple = tuple;
    loop {
        if !seen.insert((node, tuple)) || hops.len() >= HOP_LIMIT {
            let first = hops.iter().position(|h| h.node == node).unwrap_or(0);
            let nodes = hops[first..].iter().map(|h| h.node).chain([node]).collect();
            return Walk {
                direction,
                hops,
                outcome: Outcome::Dropped {
                    node,
                    reason: DropReason::Loop { nodes },
                },
            };
        }
        let forced = if hops.is_empty() { via } else { None };
        let step = step(
            t,
            routing,
            state,
            node,
            arrived_by,
            tuple,
            direction,
            now,
            forced,
            hops.is_empty(),
        );
        let StepResult { hop, next } = step;
        let tuple_out = hop.tuple_out;
        hops.push(hop);
        match next {
            Next::Deliver => {
                return Walk {
                    direction,
                    hops,
                    outcome: Outcome::Delivered {
                        node,
                        tuple: tuple_out,
                    },
                };
            }
            Next::Drop(reason) => {
                return Walk {
                    direction,
                    hops,
                    outcome: Outcome::Dropped { node, reason },
                };
            }
            Next::Forward(link) => {
                node = t.other_end(link, node);
                arrived_by = Some(link);
                tuple = tuple_out;
            }
        }
    }
}

/// The link a multi-homed host sends from: an Edge uses the side its source
/// address belongs to (its routes do not cross from one side to the other),
/// so relayed media from its public address leaves by its external side.
fn source_interface(t: &Topology, node: NodeId, src: IpAddr) -> Option<LinkId> {
    match &t.node(node).kind {
        NodeKind::Edge(e) if e.internal != e.external && src == e.external => Some(e.external_link),
        NodeKind::Edge(e) if e.internal != e.external && src == e.internal => Some(e.internal_link),
        _ => None,
    }
}

enum Next {
    Deliver,
    Drop(DropReason),
    Forward(LinkId),
}

struct StepResult {
    hop: Hop,
    next: Next,
}

#[allow(clippy::too_many_arguments)]
fn step(
    t: &Topology,
    routing: &Routing,
    state: &mut NetState,
    node: NodeId,
    arrived_by: Option<LinkId>,
    tuple_in: FiveTuple,
    direction: Direction,
    now: SimTime,
    forced: Option<LinkId>,
    is_start: bool,
) -> StepResult {
    let mut hop = Hop {
        node,
        arrived_by,
        left_by: None,
        tuple_in,
        tuple_out: tuple_in,
        route: None,
        decisions: vec![],
    };
    let done = |hop: Hop, next: Next| StepResult { hop, next };
    let kind = &t.node(node).kind;

    if let NodeKind::Firewall(fw) = kind {
        let fs = state.firewalls.entry(node).or_default();
        match fs.decide(fw, &tuple_in, direction, now) {
            FirewallVerdict::Drop(reason) => {
                return done(hop, Next::Drop(DropReason::Firewall(reason)));
            }
            FirewallVerdict::Pass { why, effect } => {
                hop.decisions.push(Decision::Allowed(why));
                if let Some(effect) = effect {
                    if matches!(effect, FirewallEffect::Open { .. }) {
                        hop.decisions.push(Decision::SessionOpened);
                    }
                    fs.apply(&effect, now);
                }
            }
        }
    }

    let nat = match kind {
        NodeKind::Nat(n) if n.translates(&tuple_in) => Some(n),
        _ => None,
    };
    let outside_link = nat.and_then(|n| arrived_by.filter(|l| n.outside.contains(l)));
    let from_outside = outside_link.is_some();
    if let Some(n) = nat {
        let ns = state.nats.entry(node).or_default();
        match ns.pre_routing(n, &tuple_in, outside_link, now) {
            NatVerdict::Pass => {}
            NatVerdict::Track { effects } => ns.apply(&effects, now),
            NatVerdict::Drop { reason, effects } => {
                // A dropped packet may still have opened its sender's mapping (hairpinning).
                ns.apply(&effects, now);
                return done(hop, Next::Drop(DropReason::Nat(reason)));
            }
            NatVerdict::Translate {
                tuple,
                rewrite,
                effects,
            } => {
                hop.decisions.push(Decision::Translated(rewrite));
                ns.apply(&effects, now);
                hop.tuple_out = tuple;
            }
        }
    }

    let dst = hop.tuple_out.dst.ip();
    if let Some(link) = forced {
        hop.left_by = Some(link);
        hop.decisions
            .push(Decision::Egress(t.link(link).name.clone()));
        return done(hop, Next::Forward(link));
    }
    // A reply to a connection a NAT let in from outside goes back the way
    // the connection came (see `NatState::reply_link`).
    let reply_to = nat
        .filter(|_| !from_outside)
        .and_then(|_| state.nats.get(&node)?.reply_link(&tuple_in, now))
        .filter(|&l| routing.is_up(l));
    let found = routing.lookup(node, dst);
    let link = match (reply_to, &found) {
        (Some(back), _)
            if found
                .as_ref()
                .is_none_or(|f| f.route.next != NextHop::Link(back)) =>
        {
            let instead = match &found {
                Some(f) => match f.route.next {
                    NextHop::Link(l) => format!(
                        "its route table says {} via {}",
                        f.route.prefix,
                        t.link(l).name
                    ),
                    NextHop::Local => format!("its route table says {} is local", f.route.prefix),
                },
                None => format!("its route table has no route to {dst}"),
            };
            hop.decisions.push(Decision::ReplyTo {
                link: t.link(back).name.clone(),
                instead,
            });
            back
        }
        (_, None) => return done(hop, Next::Drop(DropReason::NoRoute { dst })),
        (_, Some(found)) => {
            let route = found.route;
            hop.route = Some(RouteStep {
                prefix: route.prefix,
                next: route.next,
                source: route.source,
                local_pref: route.local_pref,
                cost: route.cost,
                shorter: found.shorter,
                beat: route.beat.clone(),
            });
            match route.next {
                NextHop::Local => {
                    let terminal = !matches!(
                        kind,
                        NodeKind::Nat(_)
                            | NodeKind::Router(_)
                            | NodeKind::Firewall(_)
                            | NodeKind::Internet
                    );
                    let next = if terminal {
                        Next::Deliver
                    } else {
                        Next::Drop(DropReason::NoSuchHost { dst })
                    };
                    return done(hop, next);
                }
                NextHop::Link(l) => l,
            }
        }
    };
    if !is_start && !kind.forwards() && !matches!(kind, NodeKind::Site(_)) {
        return done(hop, Next::Drop(DropReason::NotAForwarder));
    }
    if !routing.is_up(link) {
        return done(hop, Next::Drop(DropReason::LinkDown { link }));
    }
    if let Some(n) = nat {
        let to_outside = n.outside.contains(&link);
        let ns = state.nats.entry(node).or_default();
        match ns.post_routing(n, &hop.tuple_out, from_outside, to_outside, now) {
            NatVerdict::Pass => {}
            NatVerdict::Track { effects } => ns.apply(&effects, now),
            NatVerdict::Drop { reason, effects } => {
                // A dropped packet may still have opened its sender's mapping (hairpinning).
                ns.apply(&effects, now);
                return done(hop, Next::Drop(DropReason::Nat(reason)));
            }
            NatVerdict::Translate {
                tuple,
                rewrite,
                effects,
            } => {
                hop.decisions.push(Decision::Translated(rewrite));
                ns.apply(&effects, now);
                hop.tuple_out = tuple;
            }
        }
    }
    hop.left_by = Some(link);
    done(hop, Next::Forward(link))
}

/// Describes a drop for people: `no session on hq-fw`.
pub struct DropText<'a> {
    /// The topology, for names.
    pub topology: &'a Topology,
    /// Where it happened.
    pub node: NodeId,
    /// Why.
    pub reason: &'a DropReason,
}

impl fmt::Display for DropText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.topology;
        let at = &t.node(self.node).name;
        match self.reason {
            DropReason::NoRoute { dst } => write!(f, "no route to {dst} at {at}"),
            DropReason::Loop { nodes } => {
                let names: Vec<&str> = nodes.iter().map(|n| t.node(*n).name.as_str()).collect();
                write!(f, "routing loop: {}", names.join(" -> "))
            }
            DropReason::Firewall(FirewallDrop::NoSession) => write!(f, "no session on {at}"),
            DropReason::Firewall(d) => write!(f, "{d} on {at}"),
            DropReason::Nat(d) => write!(f, "{d} on {at}"),
            DropReason::NoSuchHost { dst } => write!(f, "nothing at {dst} behind {at}"),
            DropReason::NotAForwarder => write!(f, "{at} is a host and does not forward"),
            DropReason::LinkDown { link } => write!(f, "link {} is down", t.link(*link).name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::came_back_another_way as other;
    use crate::model::LinkId;

    fn l(i: usize) -> LinkId {
        LinkId(petgraph::graph::EdgeIndex::new(i))
    }

    #[test]
    fn a_reply_is_asymmetric_only_once_it_leaves_the_requests_path() {
        let request = [l(1), l(2), l(3)];
        assert!(!other(&request, &[l(3), l(2), l(1)], true));
        assert!(other(&request, &[l(4), l(2), l(1)], true));
        // Dropped on the way back: only a divergence before the drop counts.
        assert!(!other(&request, &[], false));
        assert!(!other(&request, &[l(3)], false));
        assert!(other(&request, &[l(4)], false));
        // Delivered over no links at all is not the way the request went.
        assert!(other(&request, &[], true));
    }
}
