//! Connectivity checks and nomination between two agents.
//!
//! Both agents form their check lists from their own candidates and the
//! peer's (RFC 8445 §6.1.2: pairs of compatible candidates, reflexive
//! local candidates replaced by their base, ordered by pair priority with
//! the controlling agent's candidates as G). Every Ta each agent sends one
//! check: the head of its triggered-check queue, else its highest-priority
//! waiting pair. A check is a real walk through the network from the
//! pair's base to the remote address; it succeeds only if the request
//! reaches the peer's base (through NAT filters, firewall rules and, for a
//! relayed address, the Edge's permission) and the response comes back on
//! the very same 5-tuple (§7.2.5.2.1). Receiving a request makes the peer
//! send a triggered check back on the reverse pair (§7.3.1.4) and, when the
//! source is unknown, learn it as a peer-reflexive candidate (§7.3.1.3).
//! A failed check is retransmitted, doubling its timeout from 500 ms.
//! When the lists are exhausted, the controlling agent nominates the
//! highest-priority pair that succeeded (regular nomination).
//!
//! Simplifications, documented: checks are processed in time order but
//! each one's request and response are walked at its send time (path
//! latencies decide only the reported setup time); one component (RTP and
//! RTCP multiplexed); no frozen state (every pair starts waiting, as in the
//! `is` agent); at most [`IceOptions::retransmits`] retransmissions instead
//! of RFC 5389's seven, which changes timings but not which pairs can work.
//!
//! Leaves out which Edges each side may use: the call layer decides.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::net::SocketAddr;

use serde::Serialize;

use super::IceEndpoint;
use super::gather::{Allocation, Candidate, Gathered, RelayPorts, gather};
use super::priority::{
    CandidateKind, CandidateTransport, PreferenceProfile, Role, TcpType, can_pair,
    pair_priority_for,
};
use crate::model::{LinkId, NodeId, Protocol, Topology};
use crate::net::packet::{Direction, FiveTuple};
use crate::net::routing::Routing;
use crate::net::walk::{NetState, Outcome, Walk, walk};
use crate::time::{SimDuration, SimTime};

/// How agents behave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceOptions {
    /// Priority profile (MS-ICE2 for Skype for Business, RFC 8445 for Teams).
    pub profile: PreferenceProfile,
    /// The pacing timer (RFC 8445 default 50 ms).
    pub ta: SimDuration,
    /// Retransmissions of an unanswered check.
    pub retransmits: u32,
    /// At most this many pairs per check list (RFC 8445 default 100).
    pub max_pairs: usize,
    /// Links a bandwidth policy server has no room on: a pair whose path
    /// crosses one is unusable (MS-ICE2BWM), as if its check had failed.
    pub avoid: Vec<LinkId>,
}

impl IceOptions {
    /// The same options, avoiding `links` (call admission control).
    pub fn avoiding(mut self, links: Vec<LinkId>) -> Self {
        self.avoid = links;
        self
    }
}

impl Default for IceOptions {
    fn default() -> Self {
        IceOptions {
            profile: PreferenceProfile::MicrosoftIce2,
            ta: SimDuration::from_millis(50),
            retransmits: 3,
            max_pairs: 100,
            avoid: Vec::new(),
        }
    }
}

/// The kind of media path ICE settled on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum MediaPathKind {
    /// Host to host, no translation.
    Direct,
    /// Through NAT (server- or peer-reflexive candidates), no relay.
    Nat,
    /// Through one Edge.
    Relay,
    /// Through two Edges.
    RelayRelay,
}

impl MediaPathKind {
    /// The word used in output: `direct`, `nat`, `relay`, `relay-relay`.
    pub fn word(self) -> &'static str {
        match self {
            MediaPathKind::Direct => "direct",
            MediaPathKind::Nat => "nat",
            MediaPathKind::Relay => "relay",
            MediaPathKind::RelayRelay => "relay-relay",
        }
    }
}

/// One check sent, and what came of it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRecord {
    /// When it was sent.
    pub at: SimTime,
    /// Whether the controlling agent sent it.
    pub by_controlling: bool,
    /// The local candidate (index into that agent's candidates).
    pub local: usize,
    /// The remote candidate (index into the peer's candidates as that agent knows them).
    pub remote: usize,
    /// Whether it was a triggered check.
    pub triggered: bool,
    /// The pair's priority.
    pub priority: u64,
    /// `succeeded`, or why it failed.
    pub result: Result<(), String>,
}

/// The path media takes, leg by leg, each way.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaRoute {
    /// From the controlling agent to the controlled one.
    pub forward: Vec<Walk>,
    /// From the controlled agent back.
    pub back: Vec<Walk>,
    /// The Edges relaying, controlling side first.
    pub relays: Vec<NodeId>,
}

/// What ICE settled on.
#[derive(Debug, Clone)]
pub struct IceOutcome {
    /// The controlling agent's candidates (including learned peer-reflexive ones).
    pub local: Vec<Candidate>,
    /// The controlled agent's candidates.
    pub remote: Vec<Candidate>,
    /// What each side's gathering could not get.
    pub gathering_notes: (Vec<String>, Vec<String>),
    /// Every check sent, in order.
    pub checks: Vec<CheckRecord>,
    /// The nominated pair: indices into `local` and `remote`, and its
    /// kinds as the controlling agent sees them.
    pub nominated: Option<Nominated>,
    /// The media path, if a pair was nominated.
    pub route: Option<MediaRoute>,
    /// From the start of gathering to the nomination's success.
    pub setup_time: SimDuration,
}

/// The selected pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nominated {
    /// The controlling agent's valid local candidate.
    pub local: usize,
    /// The controlled agent's candidate.
    pub remote: usize,
    /// The local candidate's kind as the controlling agent sees it.
    pub local_kind: CandidateKind,
    /// The remote candidate's kind as the controlling agent sees it.
    pub remote_kind: CandidateKind,
    /// The pair priority.
    pub priority: u64,
    /// The path kind.
    pub path: MediaPathKind,
    /// UDP or TCP.
    pub protocol: Protocol,
}

impl IceOutcome {
    /// Whether a pair was nominated.
    pub fn connected(&self) -> bool {
        self.nominated.is_some()
    }
}

/// One agent's view during checks.
struct Agent {
    controlling: bool,
    local: Vec<Candidate>,
    remote: Vec<Candidate>,
    /// (local index, remote index, priority), best first.
    pairs: Vec<(usize, usize, u64)>,
    next_ordinary: usize,
    triggered: VecDeque<(usize, usize)>,
    /// Pairs done: succeeded (with the valid local index and success time) or failed.
    state: BTreeMap<(usize, usize), PairState>,
    /// Pending retransmissions: (due time, pair, attempt).
    retries: Vec<(SimTime, (usize, usize), u32)>,
    /// The most pairs this agent may have, those made by triggered checks
    /// included (RFC 8445 §6.1.2.5).
    max_pairs: usize,
    /// How often each pair was triggered, and the most it may be: a pair
    /// whose checks keep failing is not triggered again forever.
    triggers: BTreeMap<(usize, usize), u32>,
    max_triggers: u32,
}

impl Agent {
    /// Pairs formed so far: the initial list and those triggered checks added.
    fn pair_count(&self) -> usize {
        let extra = self
            .state
            .keys()
            .chain(self.triggered.iter())
            .filter(|p| !self.pairs.iter().any(|(l, r, _)| (*l, *r) == **p))
            .collect::<BTreeSet<_>>()
            .len();
        self.pairs.len() + extra
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PairState {
    InProgress,
    Succeeded { valid_local: usize, at: SimTime },
    Failed,
}

/// Gathers both agents' candidates and runs their checks, starting at `now`.
/// The first endpoint is the controlling agent (the caller).
pub fn negotiate(
    t: &Topology,
    routing: &Routing,
    state: &mut NetState,
    controlling: &IceEndpoint,
    controlled: &IceEndpoint,
    opts: &IceOptions,
    now: SimTime,
) -> IceOutcome {
    let mut ports = RelayPorts::default();
    let ga = gather(
        t,
        routing,
        state,
        controlling,
        opts.profile,
        &mut ports,
        now,
    );
    let gb = gather(t, routing, state, controlled, opts.profile, &mut ports, now);
    let notes = (ga.notes.clone(), gb.notes.clone());
    let mut agents = [agent(true, &ga, &gb, opts), agent(false, &gb, &ga, opts)];
    let mut checks = Vec::new();
    // Before checking, an agent creates a TURN permission on each of its
    // relayed candidates for every remote candidate's address (RFC 8445
    // §7.2.1); permissions for peer-reflexive addresses follow from sending.
    let mut permissions: BTreeSet<(SocketAddr, std::net::IpAddr)> = BTreeSet::new();
    for (own, peer) in [(&ga, &gb), (&gb, &ga)] {
        for relay in own
            .candidates
            .iter()
            .filter(|c| c.kind == CandidateKind::Relayed)
        {
            for remote in &peer.candidates {
                permissions.insert((relay.addr, remote.addr.ip()));
            }
        }
    }
    let mut clock = now;
    let deadline = now + SimDuration::from_secs(40);
    while clock <= deadline && agents.iter().any(Agent::busy) {
        for i in 0..2 {
            if let Some((pair, triggered)) = agents[i].next_check(clock) {
                let record = send_check(
                    t,
                    routing,
                    state,
                    &mut agents,
                    i,
                    pair,
                    triggered,
                    clock,
                    opts,
                    &mut permissions,
                );
                checks.push(record);
            }
        }
        clock += opts.ta;
    }
    let nominated = nominate(&agents[0]);
    let route = nominated.map(|n| media_route(t, routing, state, &agents[0], &agents[1], n, now));
    let setup_time = match nominated {
        Some(n) => match agents[0].state.get(&(n.local_for_pair, n.remote)) {
            Some(PairState::Succeeded { at, .. }) => (*at - now) + rtt(t, route.as_ref()),
            _ => clock - now,
        },
        None => clock - now,
    };
    let [a, b] = agents;
    IceOutcome {
        local: a.local,
        remote: b.local,
        gathering_notes: notes,
        checks,
        nominated: nominated.map(|n| n.public),
        route,
        setup_time,
    }
}

fn agent(controlling: bool, own: &Gathered, peer: &Gathered, opts: &IceOptions) -> Agent {
    let role = if controlling {
        Role::Controlling
    } else {
        Role::Controlled
    };
    let mut pairs = Vec::new();
    for (li, l) in own.candidates.iter().enumerate() {
        // Checks leave from the base: a server-reflexive candidate is its
        // host's duplicate (RFC 8445 §6.1.2.4).
        if l.kind == CandidateKind::ServerReflexive {
            continue;
        }
        for (ri, r) in peer.candidates.iter().enumerate() {
            if can_pair(&l.info(), &r.info()) {
                pairs.push((li, ri, pair_priority_for(role, &l.info(), &r.info())));
            }
        }
    }
    pairs.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)).then(a.1.cmp(&b.1)));
    pairs.truncate(opts.max_pairs);
    Agent {
        controlling,
        local: own.candidates.clone(),
        remote: peer.candidates.clone(),
        pairs,
        next_ordinary: 0,
        triggered: VecDeque::new(),
        state: BTreeMap::new(),
        retries: Vec::new(),
        max_pairs: opts.max_pairs,
        triggers: BTreeMap::new(),
        max_triggers: opts.retransmits + 1,
    }
}

impl Agent {
    fn busy(&self) -> bool {
        self.next_ordinary < self.pairs.len()
            || !self.triggered.is_empty()
            || !self.retries.is_empty()
    }

    /// The check to send at `now`: a triggered one, a due retransmission, or
    /// the next ordinary pair; passive TCP candidates never initiate.
    fn next_check(&mut self, now: SimTime) -> Option<((usize, usize), bool)> {
        while let Some(p) = self.triggered.pop_front() {
            if self.may_send(p) {
                return Some((p, true));
            }
        }
        if let Some(i) = self.retries.iter().position(|(due, ..)| *due <= now) {
            let (_, p, _) = self.retries[i];
            return Some((p, false));
        }
        while self.next_ordinary < self.pairs.len() {
            let (l, r, _) = self.pairs[self.next_ordinary];
            self.next_ordinary += 1;
            if self.may_send((l, r)) && !self.state.contains_key(&(l, r)) {
                return Some(((l, r), false));
            }
        }
        None
    }

    /// Passive TCP candidates only accept connections (RFC 6544).
    fn may_send(&self, (l, _): (usize, usize)) -> bool {
        self.local[l].transport != CandidateTransport::Tcp(TcpType::Passive)
    }

    fn priority(&self, pair: (usize, usize)) -> u64 {
        self.pairs
            .iter()
            .find(|(l, r, _)| (*l, *r) == pair)
            .map(|p| p.2)
            .unwrap_or_else(|| {
                let role = if self.controlling {
                    Role::Controlling
                } else {
                    Role::Controlled
                };
                pair_priority_for(
                    role,
                    &self.local[pair.0].info(),
                    &self.remote[pair.1].info(),
                )
            })
    }
}

/// Sends one check from agent `i` on `pair` and applies its consequences:
/// success or failure of the pair, the peer's triggered check, peer-reflexive
/// discovery, TURN permissions.
#[allow(clippy::too_many_arguments)]
fn send_check(
    t: &Topology,
    routing: &Routing,
    state: &mut NetState,
    agents: &mut [Agent; 2],
    i: usize,
    pair: (usize, usize),
    triggered: bool,
    now: SimTime,
    opts: &IceOptions,
    permissions: &mut BTreeSet<(SocketAddr, std::net::IpAddr)>,
) -> CheckRecord {
    let j = 1 - i;
    let (l, r) = pair;
    let local = agents[i].local[l];
    let remote = agents[i].remote[r];
    let priority = agents[i].priority(pair);
    agents[i].state.insert(pair, PairState::InProgress);
    let mut record = CheckRecord {
        at: now,
        by_controlling: agents[i].controlling,
        local: l,
        remote: r,
        triggered,
        priority,
        result: Err(String::new()),
    };
    // A relayed base sends through its Edge: the Edge records a permission
    // for the peer's address (MS-TURN: sending creates it).
    if local.kind == CandidateKind::Relayed {
        permissions.insert((local.addr, remote.addr.ip()));
    }
    let tuple = FiveTuple::new(local.protocol(), local.base, remote.addr);
    let forward = walk(
        t,
        routing,
        state,
        local.node,
        tuple,
        Direction::Forward,
        now,
    );
    let outcome = match deliver(&forward, &agents[j], permissions) {
        Err(why) => Err(why),
        Ok((receiver_base, seen)) => {
            on_request(&mut agents[j], receiver_base, seen, &local);
            let back = walk(
                t,
                routing,
                state,
                forward_end(&forward),
                seen.reversed(),
                Direction::Return,
                now,
            );
            let avoided = forward
                .links()
                .chain(back.links())
                .find(|l| opts.avoid.contains(l));
            match &back.outcome {
                _ if avoided.is_some() => Err(format!(
                    "crosses {}, where call admission control has no room",
                    t.link(avoided.expect("checked")).name
                )),
                Outcome::Delivered { node, tuple: got }
                    if *node == local.node && *got == tuple.reversed() =>
                {
                    Ok(seen.src)
                }
                Outcome::Delivered { .. } => {
                    Err("response came back on another 5-tuple".to_string())
                }
                Outcome::Dropped { node, reason } => Err(format!(
                    "response dropped: {}",
                    crate::net::walk::DropText {
                        topology: t,
                        node: *node,
                        reason
                    }
                )),
            }
        }
    };
    match outcome {
        Ok(mapped) => {
            let valid_local = learn_local(&mut agents[i], l, mapped);
            agents[i].state.insert(
                pair,
                PairState::Succeeded {
                    valid_local,
                    at: now,
                },
            );
            if local.protocol() == Protocol::Tcp {
                // The connection is up: the accepting side has validated it too.
                mark_tcp_peer(&mut agents[j], remote.addr, mapped, now);
            }
            agents[i].retries.retain(|(_, p, _)| *p != pair);
            record.result = Ok(());
        }
        Err(why) => {
            let attempt = agents[i]
                .retries
                .iter()
                .find(|(_, p, _)| *p == pair)
                .map_or(0, |(.., n)| *n);
            agents[i].retries.retain(|(_, p, _)| *p != pair);
            if attempt < opts.retransmits {
                let rto = SimDuration::from_millis(500).saturating_mul(1 << attempt);
                agents[i].retries.push((now + rto, pair, attempt + 1));
            } else {
                agents[i].state.insert(pair, PairState::Failed);
            }
            record.result = Err(why);
        }
    }
    record
}

/// Marks the accepting side's pair over an established TCP connection as
/// succeeded: its local candidate at `base`, the remote as it saw it.
fn mark_tcp_peer(peer: &mut Agent, base: SocketAddr, seen_from: SocketAddr, now: SimTime) {
    let Some(l) = peer.local.iter().position(|c| c.addr == base) else {
        return;
    };
    let Some(r) = peer.remote.iter().position(|c| c.addr == seen_from) else {
        return;
    };
    peer.state.insert(
        (l, r),
        PairState::Succeeded {
            valid_local: l,
            at: now,
        },
    );
    peer.triggered.retain(|p| *p != (l, r));
}

/// Where a forward walk ended up, as an agent base: `(base, tuple as seen)`.
fn deliver(
    forward: &Walk,
    peer: &Agent,
    permissions: &BTreeSet<(SocketAddr, std::net::IpAddr)>,
) -> Result<(SocketAddr, FiveTuple), String> {
    let (node, seen) = match &forward.outcome {
        Outcome::Delivered { node, tuple } => (*node, *tuple),
        Outcome::Dropped { .. } => {
            return Err(format!("request dropped at hop {}", forward.hops.len()));
        }
    };
    let base = peer
        .local
        .iter()
        .find(|c| c.node == node && c.base == seen.dst && c.protocol() == seen.protocol);
    match base {
        Some(c)
            if c.kind == CandidateKind::Relayed
                && !permissions.contains(&(c.addr, seen.src.ip())) =>
        {
            Err(format!(
                "no TURN permission on {} for {}",
                c.addr,
                seen.src.ip()
            ))
        }
        Some(c) => Ok((c.base, seen)),
        None => Err(format!(
            "request reached {} but no candidate of the peer listens there",
            seen.dst
        )),
    }
}

/// The node a forward walk ended at.
fn forward_end(forward: &Walk) -> NodeId {
    match &forward.outcome {
        Outcome::Delivered { node, .. } | Outcome::Dropped { node, .. } => *node,
    }
}

/// The peer received a request on `base` from `seen.src`: learn an unknown
/// source as a peer-reflexive candidate, and queue a triggered check back.
fn on_request(peer: &mut Agent, base: SocketAddr, seen: FiveTuple, sender: &Candidate) {
    let Some(local) = peer
        .local
        .iter()
        .position(|c| c.base == base && c.kind != CandidateKind::ServerReflexive)
    else {
        return;
    };
    let remote = match peer
        .remote
        .iter()
        .position(|c| c.addr == seen.src && c.protocol() == seen.protocol)
    {
        Some(r) => r,
        None => {
            let transport = match sender.transport {
                CandidateTransport::Tcp(_) => CandidateTransport::Tcp(TcpType::Active),
                CandidateTransport::Udp => CandidateTransport::Udp,
            };
            let learned = Candidate {
                kind: CandidateKind::PeerReflexive,
                transport,
                addr: seen.src,
                base: seen.src,
                node: sender.node,
                allocation: None,
                priority: prflx_priority(sender),
            };
            peer.remote.push(learned);
            peer.remote.len() - 1
        }
    };
    let pair = (local, remote);
    let known = peer.pairs.iter().any(|(l, r, _)| (*l, *r) == pair)
        || peer.state.contains_key(&pair)
        || peer.triggered.contains(&pair);
    // A new pair only within the limit: between two address-dependent
    // mappings every triggered check leaves from a fresh port and teaches the
    // peer a fresh peer-reflexive address, a cascade the limit ends.
    if !known && peer.pair_count() >= peer.max_pairs {
        return;
    }
    let triggered = peer.triggers.entry(pair).or_insert(0);
    if *triggered >= peer.max_triggers {
        return;
    }
    if !matches!(peer.state.get(&pair), Some(PairState::Succeeded { .. })) {
        *triggered += 1;
        peer.triggered.push_back(pair);
    }
}

/// The priority a peer-reflexive candidate carries: the PRIORITY attribute of
/// the request, computed as for a prflx candidate of the sender's transport.
fn prflx_priority(sender: &Candidate) -> u32 {
    // Type preference 110 over the sender's own local preference bits.
    let local_pref = (sender.priority >> 8) & 0xFFFF;
    (110 << 24) | (local_pref << 8) | (sender.priority & 0xFF)
}

/// The controlling agent learns its mapped address: the valid pair's local
/// candidate is the base itself when nothing translated it, a known
/// candidate with that address, or a new peer-reflexive one.
fn learn_local(agent: &mut Agent, local: usize, mapped: SocketAddr) -> usize {
    let base = agent.local[local];
    if base.addr == mapped {
        return local;
    }
    if let Some(k) = agent
        .local
        .iter()
        .position(|c| c.addr == mapped && c.base == base.base)
    {
        return k;
    }
    agent.local.push(Candidate {
        kind: CandidateKind::PeerReflexive,
        transport: base.transport,
        addr: mapped,
        base: base.base,
        node: base.node,
        allocation: None,
        priority: prflx_priority(&base),
    });
    agent.local.len() - 1
}

/// The nominated pair plus the index of the pair as checked.
#[derive(Clone, Copy)]
struct Nomination {
    public: Nominated,
    local_for_pair: usize,
    remote: usize,
}

/// The controlling agent nominates its highest-priority succeeded pair.
fn nominate(a: &Agent) -> Option<Nomination> {
    let mut best: Option<Nomination> = None;
    for (&(l, r), s) in &a.state {
        let PairState::Succeeded { valid_local, .. } = *s else {
            continue;
        };
        let priority = a.priority((l, r));
        let local_kind = a.local[valid_local].kind;
        let remote_kind = a.remote[r].kind;
        let same_edge = matches!((a.local[l].allocation, a.remote[r].allocation), (Some(x), Some(y)) if x.edge == y.edge)
            || (local_kind == CandidateKind::Relayed
                && remote_kind == CandidateKind::Relayed
                && a.local[l].node == a.remote[r].node);
        let candidate = Nomination {
            public: Nominated {
                local: valid_local,
                remote: r,
                local_kind,
                remote_kind,
                priority,
                path: if same_edge {
                    MediaPathKind::Relay
                } else {
                    path_kind(local_kind, remote_kind)
                },
                protocol: a.local[l].protocol(),
            },
            local_for_pair: l,
            remote: r,
        };
        if best.is_none_or(|x| priority > x.public.priority) {
            best = Some(candidate);
        }
    }
    best
}

fn path_kind(local: CandidateKind, remote: CandidateKind) -> MediaPathKind {
    use CandidateKind::*;
    match (local, remote) {
        (Relayed, Relayed) => MediaPathKind::RelayRelay,
        (Relayed, _) | (_, Relayed) => MediaPathKind::Relay,
        (Host, Host) => MediaPathKind::Direct,
        _ => MediaPathKind::Nat,
    }
}

/// The media route a nominated pair implies, as walks each way:
/// client → its Edge (over the allocation), Edge → peer (or peer's Edge),
/// peer's Edge → peer.
fn media_route(
    t: &Topology,
    routing: &Routing,
    state: &mut NetState,
    a: &Agent,
    b: &Agent,
    n: Nomination,
    now: SimTime,
) -> MediaRoute {
    let la = a.local[n.local_for_pair];
    let rb = a.remote[n.remote];
    // The controlled side's own candidate behind `rb` (for its allocation).
    let b_own = b
        .local
        .iter()
        .find(|c| c.addr == rb.addr)
        .copied()
        .unwrap_or(rb);
    let mut forward = Vec::new();
    let mut back = Vec::new();
    let mut relays = Vec::new();
    let protocol = la.protocol();
    if let Some(alloc) = la.allocation {
        relays.push(alloc.edge);
        forward.push(allocation_leg(
            t,
            routing,
            state,
            &alloc,
            now,
            Direction::Forward,
        ));
    }
    if let Some(alloc) = b_own.allocation
        && !relays.contains(&alloc.edge)
    {
        relays.push(alloc.edge);
    }
    let middle = FiveTuple::new(protocol, la.base, rb.addr);
    let mid = walk(t, routing, state, la.node, middle, Direction::Forward, now);
    let mid_back = match &mid.outcome {
        Outcome::Delivered { node, tuple } => Some(walk(
            t,
            routing,
            state,
            *node,
            tuple.reversed(),
            Direction::Return,
            now,
        )),
        Outcome::Dropped { .. } => None,
    };
    forward.push(mid);
    if let Some(alloc) = b_own.allocation {
        let down = FiveTuple::new(alloc.protocol, alloc.server, alloc.mapped);
        forward.push(walk(
            t,
            routing,
            state,
            alloc.edge,
            down,
            Direction::Return,
            now,
        ));
        back.push(allocation_leg(
            t,
            routing,
            state,
            &alloc,
            now,
            Direction::Forward,
        ));
    }
    back.extend(mid_back);
    if let Some(alloc) = la.allocation {
        let down = FiveTuple::new(alloc.protocol, alloc.server, alloc.mapped);
        back.push(walk(
            t,
            routing,
            state,
            alloc.edge,
            down,
            Direction::Return,
            now,
        ));
    }
    MediaRoute {
        forward,
        back,
        relays,
    }
}

/// The client-to-Edge leg of a relayed path, over its allocation.
fn allocation_leg(
    t: &Topology,
    routing: &Routing,
    state: &mut NetState,
    alloc: &Allocation,
    now: SimTime,
    direction: Direction,
) -> Walk {
    let tuple = FiveTuple::new(alloc.protocol, alloc.client, alloc.server);
    walk(t, routing, state, alloc.client_node, tuple, direction, now)
}

/// One round trip over the media route (for the nomination check).
fn rtt(t: &Topology, route: Option<&MediaRoute>) -> SimDuration {
    let Some(route) = route else {
        return SimDuration::ZERO;
    };
    let one_way = |walks: &[Walk]| {
        walks
            .iter()
            .flat_map(|w| w.links())
            .map(|l| t.link(l).quality.latency)
            .fold(SimDuration::ZERO, |a, b| a + b)
    };
    one_way(&route.forward) + one_way(&route.back)
}
