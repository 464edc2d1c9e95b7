//! Routing: every element's route table, built from the topology, looked up
//! by longest prefix.
//!
//! # How routes are made
//!
//! The topology's nodes fall into routing domains ([`Domain`]): the
//! tenant's network, the Internet, Microsoft, each remote location and each
//! other organization. Inside a domain an interior protocol spreads every
//! prefix a node originates (its subnets, NAT pool, addresses), with the
//! links' costs as metric; hosts (servers, Edges, proxies) end paths but
//! never carry transit. Between domains, routes cross only over border
//! links, under these policies:
//!
//! - **Internet access.** A domain announces to the Internet the prefixes
//!   the link's `advertise` lists, or by default each public prefix it
//!   originates at the access link nearest its originator. The Internet
//!   gives customers, remote locations and other organizations a default
//!   route (`0.0.0.0/0`, `::/0`), and gives Microsoft its full table.
//! - **ExpressRoute.** Over a circuit, Microsoft announces the prefixes of
//!   the regions its SKU reaches whose catalog community its route filter
//!   admits (e.g. 12076:5030 for Skype for Business and Teams), at the
//!   circuit's local preference; the customer announces the circuit's
//!   `advertise` list, which Microsoft prefers to anything it learns from the
//!   Internet ("Microsoft prefers ExpressRoute whatever the location").
//!   A circuit's secondary connection carries routes only while its primary
//!   is down.
//!
//! A node picks, per prefix: its own (connected), then a static route, then
//! the highest local preference, then the lowest cost, then the lowest
//! node index (a stable tie-break). Lookup is longest-prefix match over
//! those winners, so a more specific prefix always beats a shorter one —
//! which is why ExpressRoute's Microsoft prefixes beat the Internet default.
//!
//! Leaves out BGP's path attributes beyond local preference (AS paths,
//! MEDs, communities set by the customer) and convergence timing: routing
//! is recomputed whole when a link goes down or comes back.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};
use std::fmt;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;

use crate::model::{CircuitId, Connection, Domain, LinkId, NodeId, NodeKind, Topology, is_private};

/// Local preference of routes learned from the Internet, and the default.
pub const DEFAULT_LOCAL_PREFERENCE: u32 = 100;
/// Local preference Microsoft gives customer prefixes learned over ExpressRoute.
pub const MICROSOFT_PREFERS_EXPRESSROUTE: u32 = 200;

/// Where a route leads next.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NextHop {
    /// The destination is this node's own.
    Local,
    /// Out of this link.
    Link(LinkId),
}

/// How a border route was learned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Learned {
    /// From the Internet.
    Internet,
    /// Over an ExpressRoute circuit.
    Circuit(CircuitId),
}

/// Where a route came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RouteSource {
    /// The node originates the prefix itself.
    Connected,
    /// A static route on this router.
    Static,
    /// Originated by another node of the same domain.
    Interior {
        /// The originating node.
        origin: NodeId,
    },
    /// Learned over a border link, at `border`.
    Exterior {
        /// The node at this domain's end of the border link.
        border: NodeId,
        /// The border link.
        link: LinkId,
        /// What the link is.
        learned: Learned,
    },
}

/// A route table entry: the best route this node knows for one prefix.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    /// The destination prefix.
    pub prefix: IpNet,
    /// Where matching packets go next.
    pub next: NextHop,
    /// Where the route came from.
    pub source: RouteSource,
    /// Its local preference.
    pub local_pref: u32,
    /// Interior cost to its origin or border, plus the border link's cost.
    pub cost: u32,
    /// The best other route for the same prefix, if any, and why this one won.
    pub beat: Option<Beaten>,
}

/// The runner-up for a prefix.
#[derive(Clone, Debug, PartialEq)]
pub struct Beaten {
    /// What decided it (`"static route"`, `"local preference"`, `"cost"`, `"tie-break"`).
    pub on: &'static str,
    /// The losing route's source.
    pub source: RouteSource,
    /// The losing route's local preference.
    pub local_pref: u32,
    /// The losing route's cost.
    pub cost: u32,
}

/// One node's route table.
#[derive(Clone, Debug, Default)]
struct Fib {
    v4: PrefixMap<Ipv4Net, Route>,
    v6: PrefixMap<Ipv6Net, Route>,
}

/// Every node's route table, for one state of the links.
#[derive(Clone, Debug)]
pub struct Routing {
    fibs: Vec<Fib>,
    up: Vec<bool>,
}

/// The result of a lookup: the winning route and the next shorter prefix
/// it beat.
#[derive(Clone, Debug)]
pub struct Lookup<'r> {
    /// The longest matching prefix's route.
    pub route: &'r Route,
    /// The longest of the less specific prefixes that also match, if any.
    pub shorter: Option<IpNet>,
}

impl Routing {
    /// Builds every route table with the links in `down` out of service.
    pub fn compute(t: &Topology, down: &BTreeSet<LinkId>) -> Routing {
        let up: Vec<bool> = t.links().map(|l| link_is_up(t, l, down)).collect();
        let mut fibs = vec![Fib::default(); t.graph.node_count()];
        let domains = domains(t);
        let igp: BTreeMap<Domain, Igp> = domains
            .iter()
            .map(|(d, nodes)| (*d, Igp::compute(t, nodes, &up)))
            .collect();
        let learned = border_routes(t, &domains, &igp, &up);
        for (domain, nodes) in &domains {
            let igp = &igp[domain];
            let candidates = candidates(t, nodes, learned.get(domain));
            for &x in nodes {
                fill_fib(&mut fibs[x.0.index()], x, igp, &candidates);
            }
        }
        Routing { fibs, up }
    }

    /// Whether a link carries traffic in this routing state.
    pub fn is_up(&self, link: LinkId) -> bool {
        self.up[link.0.index()]
    }

    /// The longest-prefix match for `dst` in `node`'s table.
    pub fn lookup(&self, node: NodeId, dst: IpAddr) -> Option<Lookup<'_>> {
        let fib = &self.fibs[node.0.index()];
        match dst {
            IpAddr::V4(a) => {
                let host = Ipv4Net::from(a);
                let (_, route) = fib.v4.get_lpm(&host)?;
                let shorter = next_shorter(fib.v4.cover_keys(&host).map(IpNet::V4), route);
                Some(Lookup { route, shorter })
            }
            IpAddr::V6(a) => {
                let host = Ipv6Net::from(a);
                let (_, route) = fib.v6.get_lpm(&host)?;
                let shorter = next_shorter(fib.v6.cover_keys(&host).map(IpNet::V6), route);
                Some(Lookup { route, shorter })
            }
        }
    }

    /// A node's whole table, IPv4 then IPv6, in prefix order.
    pub fn table(&self, node: NodeId) -> Vec<&Route> {
        let fib = &self.fibs[node.0.index()];
        fib.v4.values().chain(fib.v6.values()).collect()
    }
}

/// The longest of the matching prefixes other than the winner's (looked up
/// on every hop of every walk, so without collecting them).
fn next_shorter(matching: impl Iterator<Item = IpNet>, winner: &Route) -> Option<IpNet> {
    matching
        .filter(|p| *p != winner.prefix)
        .max_by_key(|p| p.prefix_len())
}

/// Whether a link is in service: not failed, and for a circuit's secondary
/// connection, only while the primary has failed.
fn link_is_up(t: &Topology, l: LinkId, down: &BTreeSet<LinkId>) -> bool {
    if down.contains(&l) {
        return false;
    }
    match t.link(l).circuit {
        Some((c, Connection::Secondary)) => down.contains(&t.circuit(c).primary),
        _ => true,
    }
}

fn domains(t: &Topology) -> BTreeMap<Domain, Vec<NodeId>> {
    let mut d: BTreeMap<Domain, Vec<NodeId>> = BTreeMap::new();
    for n in t.nodes() {
        d.entry(t.node(n).domain).or_default().push(n);
    }
    d
}

/// Interior routing of one domain: shortest paths between all its nodes.
struct Igp {
    index: BTreeMap<NodeId, usize>,
    /// `dist[x][y]`: cost from x to y; `u32::MAX` when unreachable.
    dist: Vec<Vec<u32>>,
    /// `next[x][y]`: the first link from x towards y.
    next: Vec<Vec<Option<LinkId>>>,
}

impl Igp {
    fn compute(t: &Topology, nodes: &[NodeId], up: &[bool]) -> Igp {
        let index: BTreeMap<NodeId, usize> =
            nodes.iter().enumerate().map(|(i, n)| (*n, i)).collect();
        let n = nodes.len();
        let mut dist = vec![vec![u32::MAX; n]; n];
        let mut next = vec![vec![None; n]; n];
        for ti in 0..n {
            // Dijkstra from the target; next hops point towards it.
            let mut best: Vec<(u32, u32)> = vec![(u32::MAX, u32::MAX); n];
            best[ti] = (0, 0);
            dist[ti][ti] = 0;
            let mut heap = BinaryHeap::from([Reverse((0u32, 0u32, ti))]);
            while let Some(Reverse((d, hops, ui))) = heap.pop() {
                if (d, hops) > best[ui] {
                    continue;
                }
                let u = nodes[ui];
                if ui != ti && !carries_transit(t, u) {
                    continue;
                }
                for l in t.links_of(u) {
                    if !up[l.0.index()] {
                        continue;
                    }
                    let v = t.other_end(l, u);
                    let Some(&vi) = index.get(&v) else { continue };
                    let nd = d.saturating_add(t.link(l).cost);
                    let candidate = (nd, hops + 1);
                    let better = candidate < best[vi]
                        || (candidate == best[vi] && next[vi][ti].is_some_and(|cur| l < cur));
                    if better {
                        best[vi] = candidate;
                        dist[vi][ti] = nd;
                        next[vi][ti] = Some(l);
                        heap.push(Reverse((nd, hops + 1, vi)));
                    }
                }
            }
        }
        Igp { index, dist, next }
    }

    fn dist(&self, from: NodeId, to: NodeId) -> u32 {
        self.dist[self.index[&from]][self.index[&to]]
    }

    fn next_hop(&self, from: NodeId, to: NodeId) -> Option<LinkId> {
        self.next[self.index[&from]][self.index[&to]]
    }
}

/// Whether packets may pass through `n` on their way elsewhere.
fn carries_transit(t: &Topology, n: NodeId) -> bool {
    let kind = &t.node(n).kind;
    kind.forwards() || matches!(kind, NodeKind::Site(_))
}

/// A route offered to a domain at one of its nodes.
#[derive(Clone, Debug)]
struct Offer {
    prefix: IpNet,
    source: RouteSource,
    /// The node where it enters the domain (origin or border).
    at: NodeId,
    local_pref: u32,
    /// Cost added beyond the interior distance to `at` (the border link's).
    extra: u32,
    /// The link a static route sends packets on.
    via: Option<LinkId>,
}

/// Routes learned over border links, per receiving domain.
fn border_routes(
    t: &Topology,
    domains: &BTreeMap<Domain, Vec<NodeId>>,
    igp: &BTreeMap<Domain, Igp>,
    up: &[bool],
) -> BTreeMap<Domain, Vec<Offer>> {
    let mut offers: BTreeMap<Domain, Vec<Offer>> = BTreeMap::new();
    let borders: Vec<(LinkId, NodeId, NodeId)> = t
        .links()
        .filter(|&l| up[l.0.index()])
        .filter_map(|l| {
            let (a, b) = t.ends(l);
            (t.node(a).domain != t.node(b).domain).then_some((l, a, b))
        })
        .collect();

    // What each domain announces to the Internet, per access link.
    let mut to_internet: Vec<(LinkId, NodeId, Domain, IpNet)> = Vec::new();
    for &(l, a, b) in &borders {
        let (inner, outer) = if t.node(a).domain == Domain::Internet {
            (b, a)
        } else {
            (a, b)
        };
        if t.node(outer).domain != Domain::Internet {
            continue;
        }
        let domain = t.node(inner).domain;
        let announced = match &t.link(l).advertise {
            Some(list) => list.clone(),
            None => default_announcements(t, &domains[&domain], &igp[&domain], &borders, inner),
        };
        for p in announced {
            to_internet.push((l, inner, domain, p));
        }
    }

    for &(l, a, b) in &borders {
        for (from, to) in [(a, b), (b, a)] {
            let (fd, td) = (t.node(from).domain, t.node(to).domain);
            let link = t.link(l);
            let mut offer = |prefix: IpNet, learned: Learned, local_pref: u32| {
                offers.entry(td).or_default().push(Offer {
                    prefix,
                    source: RouteSource::Exterior {
                        border: to,
                        link: l,
                        learned,
                    },
                    at: to,
                    local_pref,
                    extra: link.cost,
                    via: None,
                });
            };
            if td == Domain::Internet {
                for (_, _, _, p) in to_internet.iter().filter(|(ll, ..)| *ll == l) {
                    offer(*p, Learned::Internet, DEFAULT_LOCAL_PREFERENCE);
                }
            } else if fd == Domain::Internet {
                if td == Domain::Microsoft {
                    // Microsoft peers with the Internet and hears everything
                    // announced there (but its own prefixes).
                    let internet_interior = domains[&Domain::Internet]
                        .iter()
                        .flat_map(|n| t.node(*n).originates.iter().copied());
                    let announced = to_internet
                        .iter()
                        .filter(|(.., d, _)| *d != Domain::Microsoft)
                        .map(|(.., p)| *p);
                    let all: BTreeSet<IpNet> = internet_interior.chain(announced).collect();
                    for p in all {
                        offer(p, Learned::Internet, DEFAULT_LOCAL_PREFERENCE);
                    }
                } else {
                    for p in ["0.0.0.0/0", "::/0"] {
                        offer(
                            p.parse().expect("default routes parse"),
                            Learned::Internet,
                            DEFAULT_LOCAL_PREFERENCE,
                        );
                    }
                }
            } else if let Some((c, _)) = link.circuit {
                let circuit = t.circuit(c);
                if fd == Domain::Microsoft {
                    for p in circuit_learns(t, c) {
                        offer(p, Learned::Circuit(c), circuit.local_preference);
                    }
                } else if td == Domain::Microsoft {
                    for p in &circuit.advertise {
                        offer(*p, Learned::Circuit(c), MICROSOFT_PREFERS_EXPRESSROUTE);
                    }
                }
            }
        }
    }
    offers
}

/// The Microsoft prefixes a circuit teaches the customer edge.
pub fn circuit_learns(t: &Topology, c: CircuitId) -> Vec<IpNet> {
    let circuit = t.circuit(c);
    circuit
        .reach
        .iter()
        .flat_map(|r| t.region(*r).prefixes.iter().copied())
        .filter(|p| {
            t.catalog
                .expressroute_routable(p.network())
                .is_some_and(|community| circuit.route_filter.contains(&community))
        })
        .collect()
}

/// What a domain announces by default over the access link at `border`:
/// each public prefix it originates, at the access links nearest its
/// originator.
fn default_announcements(
    t: &Topology,
    nodes: &[NodeId],
    igp: &Igp,
    borders: &[(LinkId, NodeId, NodeId)],
    border: NodeId,
) -> Vec<IpNet> {
    let domain = t.node(border).domain;
    let access_borders: BTreeSet<NodeId> = borders
        .iter()
        .filter_map(|&(_, a, b)| {
            let (na, nb) = (t.node(a), t.node(b));
            match (na.domain, nb.domain) {
                (d, Domain::Internet) if d == domain => Some(a),
                (Domain::Internet, d) if d == domain => Some(b),
                _ => None,
            }
        })
        .collect();
    let mut out = Vec::new();
    for &origin in nodes {
        let nearest = access_borders.iter().map(|&b| igp.dist(b, origin)).min();
        if nearest.is_none_or(|d| d == u32::MAX || igp.dist(border, origin) != d) {
            continue;
        }
        out.extend(t.node(origin).originates.iter().filter(|p| !is_private(p)));
    }
    out.sort();
    out.dedup();
    out
}

/// Every route offered anywhere in a domain: originations, statics, border routes.
fn candidates(t: &Topology, nodes: &[NodeId], learned: Option<&Vec<Offer>>) -> Vec<Offer> {
    let mut out: Vec<Offer> = Vec::new();
    for &n in nodes {
        for &p in &t.node(n).originates {
            out.push(Offer {
                prefix: p,
                source: RouteSource::Interior { origin: n },
                at: n,
                local_pref: DEFAULT_LOCAL_PREFERENCE,
                extra: 0,
                via: None,
            });
        }
        if let NodeKind::Router(r) = &t.node(n).kind {
            for s in &r.static_routes {
                out.push(Offer {
                    prefix: s.prefix,
                    source: RouteSource::Static,
                    at: n,
                    local_pref: DEFAULT_LOCAL_PREFERENCE,
                    extra: 0,
                    via: Some(s.via),
                });
            }
        }
    }
    out.extend(learned.into_iter().flatten().cloned());
    out
}

/// Ranking of a candidate at node `x`: lower is better.
fn rank(x: NodeId, o: &Offer, igp: &Igp) -> Option<(u8, Reverse<u32>, u32, usize)> {
    let class = match o.source {
        RouteSource::Interior { origin } if origin == x => 0,
        RouteSource::Static if o.at == x => 1,
        RouteSource::Static => return None,
        _ => 2,
    };
    let d = igp.dist(x, o.at);
    if d == u32::MAX {
        return None;
    }
    let cost = if class == 1 {
        0
    } else {
        d.saturating_add(o.extra)
    };
    Some((class, Reverse(o.local_pref), cost, o.at.0.index()))
}

fn fill_fib(fib: &mut Fib, x: NodeId, igp: &Igp, candidates: &[Offer]) {
    let mut best: BTreeMap<IpNet, Vec<(_, &Offer)>> = BTreeMap::new();
    for o in candidates {
        if let Some(r) = rank(x, o, igp) {
            best.entry(o.prefix).or_default().push((r, o));
        }
    }
    for (prefix, mut offers) in best {
        offers.sort_by_key(|a| a.0);
        let (r, winner) = offers[0];
        let next = match winner.source {
            RouteSource::Interior { origin } if origin == x => NextHop::Local,
            RouteSource::Static => match winner.via {
                Some(l) => NextHop::Link(l),
                None => continue,
            },
            RouteSource::Exterior { link, .. } if winner.at == x => NextHop::Link(link),
            _ => match igp.next_hop(x, winner.at) {
                Some(l) => NextHop::Link(l),
                None => continue,
            },
        };
        let source = match winner.source {
            RouteSource::Interior { origin } if origin == x => RouteSource::Connected,
            s => s,
        };
        let beat = offers.get(1).map(|&(r2, loser)| Beaten {
            on: if r.0 != r2.0 {
                if r.0 == 1 {
                    "static route"
                } else {
                    "connected"
                }
            } else if r.1 != r2.1 {
                "local preference"
            } else if r.2 != r2.2 {
                "cost"
            } else {
                "tie-break"
            },
            source: loser.source,
            local_pref: loser.local_pref,
            cost: r2.2,
        });
        let route = Route {
            prefix,
            next,
            source,
            local_pref: winner.local_pref,
            cost: r.2,
            beat,
        };
        match prefix {
            IpNet::V4(p) => {
                fib.v4.insert(p, route);
            }
            IpNet::V6(p) => {
                fib.v6.insert(p, route);
            }
        }
    }
}

/// Describes a route's origin for traces.
pub struct SourceText<'a> {
    /// The topology, for names.
    pub topology: &'a Topology,
    /// The source to describe.
    pub source: RouteSource,
}

impl fmt::Display for SourceText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = self.topology;
        match self.source {
            RouteSource::Connected => write!(f, "connected"),
            RouteSource::Static => write!(f, "static"),
            RouteSource::Interior { origin } => write!(f, "interior, from {}", t.node(origin).name),
            RouteSource::Exterior { link, learned, .. } => match learned {
                Learned::Internet => {
                    write!(f, "learned from the Internet over {}", t.link(link).name)
                }
                Learned::Circuit(c) => write!(f, "learned over ExpressRoute {}", t.circuit(c).name),
            },
        }
    }
}
