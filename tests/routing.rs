//! The network plane's routing and packet walk, from the outside.
//!
//! First the preference tables on small hand-built topologies: the same
//! prefix learned several ways (connected, static, over two circuits, from
//! the Internet), longest-prefix match in IPv4 and IPv6, what Microsoft
//! prefers, what a circuit's SKU reaches, when the secondary connection
//! carries routes, and the two walks that must end in a verdict rather
//! than a hang or a panic (a routing loop, no route).
//!
//! Then properties over random topologies, written as TOML text and
//! validated like any file: chains and meshes of routers and firewalls
//! between two sites, the Internet and ExpressRoute, with NATs at random
//! exits. (1) With every firewall stateless and allowing everything, a
//! reply always comes back where the first packet got through. (2) In a
//! tree with one exit, the reply retraces the first packet's links. (3) A
//! walk always ends within `HOP_LIMIT` hops, static routes and loops
//! included.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};

use callflow::diag::SourceFile;
use callflow::model::{LinkId, NodeId, Protocol, Topology};
use callflow::net::flow::{End, FlowSpec, FlowTrace, trace_flow};
use callflow::net::packet::{Direction, FiveTuple, TrafficClass};
use callflow::net::routing::{
    Learned, Lookup, MICROSOFT_PREFERS_EXPRESSROUTE, NextHop, RouteSource, Routing, circuit_learns,
};
use callflow::net::walk::{DropReason, DropText, HOP_LIMIT, NetState, Outcome, Walk, walk};
use callflow::time::SimTime;
use callflow::validate::topology_from_source;
use ipnet::IpNet;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

// ----- helpers ------------------------------------------------------------------

fn topology(text: &str) -> Topology {
    let file = SourceFile::new("test.toml", text);
    topology_from_source(&file).unwrap_or_else(|d| {
        panic!(
            "{}\n---\n{text}",
            callflow::diag::InvalidInput::from(d).render()
        )
    })
}

fn node(t: &Topology, name: &str) -> NodeId {
    t.node_named(name)
        .unwrap_or_else(|| panic!("no element {name}"))
}

fn link(t: &Topology, name: &str) -> LinkId {
    t.link_named(name)
        .unwrap_or_else(|| panic!("no link {name}"))
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn lookup<'r>(r: &'r Routing, t: &Topology, at: &str, dst: &str) -> Lookup<'r> {
    r.lookup(node(t, at), ip(dst))
        .unwrap_or_else(|| panic!("{at} has no route to {dst}"))
}

fn routing(t: &Topology) -> Routing {
    Routing::compute(t, &BTreeSet::new())
}

/// The circuit a route was learned over, if any.
fn circuit_of(t: &Topology, source: RouteSource) -> Option<String> {
    match source {
        RouteSource::Exterior {
            learned: Learned::Circuit(c),
            ..
        } => Some(t.circuit(c).name.clone()),
        _ => None,
    }
}

fn from_internet(source: RouteSource) -> bool {
    matches!(
        source,
        RouteSource::Exterior {
            learned: Learned::Internet,
            ..
        }
    )
}

/// One packet from `from` (at `src`) to `dst`.
fn walk_one(t: &Topology, from: &str, src: &str, dst: &str, port: u16) -> Walk {
    let r = routing(t);
    let tuple = FiveTuple::new(
        Protocol::Tcp,
        SocketAddr::new(ip(src), 49152),
        SocketAddr::new(ip(dst), port),
    );
    walk(
        t,
        &r,
        &mut NetState::default(),
        node(t, from),
        tuple,
        Direction::Forward,
        SimTime::ZERO,
    )
}

fn names(t: &Topology, nodes: &[NodeId]) -> Vec<String> {
    nodes.iter().map(|n| t.node(*n).name.clone()).collect()
}

/// Three Microsoft regions: us-east (New York) and us-central (Chicago) in
/// North America, eu-west (London) in Europe, joined by the backbone.
const MICROSOFT: &str = r#"
[tenant]
home_region = "us-east"

[[region]]
name = "us-east"
geography = "north-america"
peering_locations = ["New York", "Washington DC"]
prefixes = ["52.112.0.0/16", "2603:1063:100::/40"]
service = [{ kind = "online-edge", address = "52.112.1.10", ipv6 = "2603:1063:100::10" }]

[[region]]
name = "us-central"
geography = "north-america"
peering_locations = ["Chicago"]
prefixes = ["52.114.0.0/16"]
service = [{ kind = "online-edge", name = "central-edge", address = "52.114.1.10" }]

[[region]]
name = "eu-west"
geography = "europe"
peering_locations = ["London"]
prefixes = ["52.113.0.0/16"]
service = [{ kind = "online-edge", name = "eu-edge", address = "52.113.1.10" }]

[[link]]
name = "backbone-central"
kind = "backbone"
ends = ["us-east", "us-central"]

[[link]]
name = "backbone-atlantic"
kind = "backbone"
ends = ["us-east", "eu-west"]

[[server]]
name = "cdn"
kind = "cdn"
address = "203.0.113.10"
at = "internet"
"#;

/// An office behind `core`, which reaches two customer edges (`ce-a` at
/// cost 10, `ce-b` at cost 50) with a circuit each, and the Internet
/// through `inet-nat`. `sku_a` is er-a's SKU, `er_b` extra settings of
/// er-b, `core_routes` core's static routes.
fn two_circuits(sku_a: &str, er_b: &str, core_routes: &str) -> String {
    format!(
        r#"{MICROSOFT}
[[site]]
name = "office"
subnets = ["10.1.0.0/16", "2001:db8:1::/48"]

[[router]]
name = "core"
routes = [{core_routes}]

[[router]]
name = "ce-a"

[[router]]
name = "ce-b"

[[nat]]
name = "inet-nat"
pool = ["198.51.100.0/28"]
outside = ["isp"]

[[link]]
name = "office-lan"
kind = "lan"
ends = ["office", "core"]

[[link]]
name = "core-a"
kind = "lan"
ends = ["core", "ce-a"]
cost = 10

[[link]]
name = "core-b"
kind = "lan"
ends = ["core", "ce-b"]
cost = 50

[[link]]
name = "core-nat"
kind = "lan"
ends = ["core", "inet-nat"]

[[link]]
name = "isp"
kind = "internet-access"
ends = ["inet-nat", "internet"]
capacity = "1Gbps"

[[circuit]]
name = "er-a"
peering_location = "New York"
bandwidth = "200Mbps"
sku = "{sku_a}"
customer_edge = "ce-a"
microsoft_edge = "us-east"
route_filter = ["12076:5030"]
secondary = false

[[circuit]]
name = "er-b"
peering_location = "Washington DC"
bandwidth = "200Mbps"
sku = "standard"
customer_edge = "ce-b"
microsoft_edge = "us-east"
route_filter = ["12076:5030"]
secondary = false
{er_b}
"#
    )
}

// ----- preference tables --------------------------------------------------------

#[test]
fn lower_cost_beats_higher_between_equal_circuits() {
    let t = topology(&two_circuits("standard", "", ""));
    let r = routing(&t);
    let found = lookup(&r, &t, "core", "52.112.1.10");
    let route = found.route;
    assert_eq!(route.prefix, net("52.112.0.0/16"));
    assert_eq!(circuit_of(&t, route.source).as_deref(), Some("er-a"));
    assert_eq!(route.next, NextHop::Link(link(&t, "core-a")));
    let beat = route.beat.as_ref().expect("er-b's route lost");
    assert_eq!(beat.on, "cost");
    assert_eq!(circuit_of(&t, beat.source).as_deref(), Some("er-b"));
    assert_eq!(route.local_pref, beat.local_pref);
    // Interior cost to the edge plus the circuit connection's (2 ms: 20).
    assert_eq!((route.cost, beat.cost), (30, 70));
}

#[test]
fn higher_local_preference_beats_lower_cost() {
    let t = topology(&two_circuits("standard", "local_preference = 150", ""));
    let r = routing(&t);
    let route = lookup(&r, &t, "core", "52.112.1.10").route;
    assert_eq!(circuit_of(&t, route.source).as_deref(), Some("er-b"));
    assert_eq!(route.next, NextHop::Link(link(&t, "core-b")));
    assert_eq!(route.local_pref, 150);
    let beat = route.beat.as_ref().unwrap();
    assert_eq!(beat.on, "local preference");
    assert_eq!(circuit_of(&t, beat.source).as_deref(), Some("er-a"));
    assert_eq!(beat.local_pref, 100);
    assert!(beat.cost < route.cost, "the cheaper route lost");
}

#[test]
fn a_static_route_beats_learned_ones_on_its_router_only() {
    let t = topology(&two_circuits(
        "standard",
        "",
        r#"{ prefix = "52.112.0.0/16", via = "core-b" }"#,
    ));
    let r = routing(&t);
    let route = lookup(&r, &t, "core", "52.112.1.10").route;
    assert_eq!(route.source, RouteSource::Static);
    assert_eq!(route.next, NextHop::Link(link(&t, "core-b")));
    let beat = route.beat.as_ref().unwrap();
    assert_eq!(beat.on, "static route");
    assert_eq!(circuit_of(&t, beat.source).as_deref(), Some("er-a"));
    // Statics are not redistributed: the office still prefers er-a ...
    let office = lookup(&r, &t, "office", "52.112.1.10").route;
    assert_eq!(circuit_of(&t, office.source).as_deref(), Some("er-a"));
    // ... but its packets follow core's static route onto er-b.
    let w = walk_one(&t, "office", "10.1.0.10", "52.112.1.10", 443);
    assert!(w.delivered(), "{:?}", w.outcome);
    assert!(w.links().any(|l| l == link(&t, "er-b:primary")));
    assert!(!w.links().any(|l| l == link(&t, "er-a:primary")));
}

#[test]
fn a_connected_prefix_beats_a_static_route() {
    // No input makes a router originate a prefix, so the test gives `core`
    // one directly: 10.9.0.0/24, which a static route also sends to ce-a.
    let mut t = topology(&two_circuits(
        "standard",
        "",
        r#"{ prefix = "10.9.0.0/24", via = "core-a" }"#,
    ));
    let core = node(&t, "core");
    t.graph[core.0].originates.push(net("10.9.0.0/24"));
    let r = routing(&t);
    let route = lookup(&r, &t, "core", "10.9.0.1").route;
    assert_eq!(route.source, RouteSource::Connected);
    assert_eq!(route.next, NextHop::Local);
    let beat = route.beat.as_ref().unwrap();
    assert_eq!(beat.on, "connected");
    assert_eq!(beat.source, RouteSource::Static);
    // Elsewhere it is an interior route towards core.
    let office = lookup(&r, &t, "office", "10.9.0.1").route;
    assert_eq!(office.source, RouteSource::Interior { origin: core });
    assert_eq!(office.next, NextHop::Link(link(&t, "office-lan")));
}

#[test]
fn a_slash_16_over_expressroute_beats_the_default_route_v4_and_v6() {
    let t = topology(&two_circuits("standard", "", ""));
    let r = routing(&t);
    for (dst, prefix, default) in [
        ("52.112.1.10", "52.112.0.0/16", "0.0.0.0/0"),
        ("2603:1063:100::10", "2603:1063:100::/40", "::/0"),
    ] {
        let found = lookup(&r, &t, "office", dst);
        assert_eq!(found.route.prefix, net(prefix), "{dst}");
        assert_eq!(
            circuit_of(&t, found.route.source).as_deref(),
            Some("er-a"),
            "{dst}"
        );
        assert_eq!(found.shorter, Some(net(default)), "{dst}");
    }
    // What the circuits do not carry follows the default to the Internet.
    for (dst, default) in [("203.0.113.10", "0.0.0.0/0"), ("2001:db8:ff::1", "::/0")] {
        let found = lookup(&r, &t, "office", dst);
        assert_eq!(found.route.prefix, net(default), "{dst}");
        assert!(from_internet(found.route.source), "{dst}");
        assert!(found.shorter.is_none(), "{dst}");
    }
}

#[test]
fn the_longest_prefix_wins_whatever_its_preference() {
    // er-b is preferred (local preference 150), but er-a alone reaches
    // eu-west's /16 (premium): that more specific route wins for eu-west.
    let t = topology(&two_circuits("premium", "local_preference = 150", ""));
    let r = routing(&t);
    let us = lookup(&r, &t, "core", "52.112.1.10").route;
    assert_eq!(circuit_of(&t, us.source).as_deref(), Some("er-b"));
    let eu = lookup(&r, &t, "core", "52.113.1.10");
    assert_eq!(eu.route.prefix, net("52.113.0.0/16"));
    assert_eq!(circuit_of(&t, eu.route.source).as_deref(), Some("er-a"));
    assert_eq!(eu.route.local_pref, 100);
}

/// One office, one circuit at New York with the given SKU and secondary,
/// an Internet pool and an ExpressRoute pool, advertised as given.
fn one_circuit(sku: &str, secondary: bool, isp_advertise: &str, er_advertise: &str) -> String {
    format!(
        r#"{MICROSOFT}
[[site]]
name = "office"
subnets = ["10.1.0.0/16"]

[[router]]
name = "core"

[[nat]]
name = "inet-nat"
pool = ["198.51.100.0/28"]
outside = ["isp"]

[[nat]]
name = "er-nat"
pool = ["198.51.100.16/28"]
outside = ["er-nat-ce"]

[[router]]
name = "ce"

[[link]]
name = "office-lan"
kind = "lan"
ends = ["office", "core"]

[[link]]
name = "core-nat"
kind = "lan"
ends = ["core", "inet-nat"]

[[link]]
name = "core-er-nat"
kind = "lan"
ends = ["core", "er-nat"]

[[link]]
name = "er-nat-ce"
kind = "lan"
ends = ["er-nat", "ce"]

[[link]]
name = "isp"
kind = "internet-access"
ends = ["inet-nat", "internet"]
capacity = "1Gbps"
advertise = [{isp_advertise}]

[[circuit]]
name = "er"
peering_location = "New York"
bandwidth = "1Gbps"
sku = "{sku}"
customer_edge = "ce"
microsoft_edge = "us-east"
route_filter = ["12076:5030"]
advertise = [{er_advertise}]
secondary = {secondary}
"#
    )
}

#[test]
fn microsoft_prefers_the_circuit_for_a_prefix_advertised_on_both_paths() {
    let t = topology(&one_circuit(
        "premium",
        false,
        r#""198.51.100.0/28", "198.51.100.16/28""#,
        r#""198.51.100.16/28""#,
    ));
    let r = routing(&t);
    // Whatever the region: eu-west has its own Internet peering, yet uses
    // the circuit that lands in us-east.
    for region in ["us-east", "eu-west", "eu-edge"] {
        let route = lookup(&r, &t, region, "198.51.100.17").route;
        assert_eq!(route.prefix, net("198.51.100.16/28"), "{region}");
        assert_eq!(
            circuit_of(&t, route.source).as_deref(),
            Some("er"),
            "{region}"
        );
        assert_eq!(route.local_pref, MICROSOFT_PREFERS_EXPRESSROUTE, "{region}");
        let beat = route.beat.as_ref().unwrap();
        assert_eq!(beat.on, "local preference", "{region}");
        assert!(from_internet(beat.source), "{region}");
        // The Internet pool is reached over the Internet.
        let inet = lookup(&r, &t, region, "198.51.100.1").route;
        assert!(from_internet(inet.source), "{region}");
    }
}

#[test]
fn microsoft_uses_the_more_specific_prefix_advertised_on_the_circuit() {
    // The Internet hears a /27 covering both pools; the circuit the /28.
    let t = topology(&one_circuit(
        "standard",
        false,
        r#""198.51.100.0/27""#,
        r#""198.51.100.16/28""#,
    ));
    let r = routing(&t);
    let er = lookup(&r, &t, "us-east", "198.51.100.17");
    assert_eq!(er.route.prefix, net("198.51.100.16/28"));
    assert_eq!(circuit_of(&t, er.route.source).as_deref(), Some("er"));
    assert_eq!(er.shorter, Some(net("198.51.100.0/27")));
    let inet = lookup(&r, &t, "us-east", "198.51.100.1").route;
    assert_eq!(inet.prefix, net("198.51.100.0/27"));
    assert!(from_internet(inet.source));
}

#[test]
fn the_sku_decides_which_regions_prefixes_the_circuit_learns() {
    let cases = [
        ("local", vec!["52.112.0.0/16", "2603:1063:100::/40"]),
        (
            "standard",
            vec!["52.112.0.0/16", "2603:1063:100::/40", "52.114.0.0/16"],
        ),
        (
            "premium",
            vec![
                "52.112.0.0/16",
                "2603:1063:100::/40",
                "52.114.0.0/16",
                "52.113.0.0/16",
            ],
        ),
    ];
    for (sku, learned) in cases {
        let t = topology(&one_circuit(sku, false, r#""198.51.100.0/28""#, ""));
        let er = t.circuits.iter().position(|c| c.name == "er").unwrap();
        let got: BTreeSet<IpNet> = circuit_learns(&t, callflow::model::CircuitId(er as u16))
            .into_iter()
            .collect();
        let want: BTreeSet<IpNet> = learned.iter().map(|p| net(p)).collect();
        assert_eq!(got, want, "{sku}");
        let r = routing(&t);
        for (dst, prefix) in [
            ("52.112.1.10", "52.112.0.0/16"),
            ("52.114.1.10", "52.114.0.0/16"),
            ("52.113.1.10", "52.113.0.0/16"),
        ] {
            let route = lookup(&r, &t, "core", dst).route;
            if want.contains(&net(prefix)) {
                assert_eq!(route.prefix, net(prefix), "{sku} {dst}");
                assert_eq!(circuit_of(&t, route.source).as_deref(), Some("er"), "{sku}");
            } else {
                assert_eq!(route.prefix, net("0.0.0.0/0"), "{sku} {dst}");
                assert!(from_internet(route.source), "{sku} {dst}");
            }
        }
    }
}

#[test]
fn the_secondary_connection_carries_routes_only_while_the_primary_is_down() {
    let t = topology(&one_circuit(
        "standard",
        true,
        r#""198.51.100.0/28""#,
        r#""198.51.100.16/28""#,
    ));
    let (primary, secondary) = (link(&t, "er:primary"), link(&t, "er:secondary"));

    let r = routing(&t);
    assert!(r.is_up(primary) && !r.is_up(secondary));
    assert_eq!(
        lookup(&r, &t, "ce", "52.112.1.10").route.next,
        NextHop::Link(primary)
    );
    assert_eq!(
        lookup(&r, &t, "us-east", "198.51.100.17").route.next,
        NextHop::Link(primary)
    );

    let r = Routing::compute(&t, &BTreeSet::from([primary]));
    assert!(!r.is_up(primary) && r.is_up(secondary));
    assert_eq!(
        lookup(&r, &t, "ce", "52.112.1.10").route.next,
        NextHop::Link(secondary)
    );
    assert_eq!(
        lookup(&r, &t, "us-east", "198.51.100.17").route.next,
        NextHop::Link(secondary)
    );

    // Both down: Microsoft prefixes follow the default route to the Internet.
    let r = Routing::compute(&t, &BTreeSet::from([primary, secondary]));
    assert!(!r.is_up(primary) && !r.is_up(secondary));
    let route = lookup(&r, &t, "core", "52.112.1.10").route;
    assert_eq!(route.prefix, net("0.0.0.0/0"));
    assert!(from_internet(route.source));
    // and Microsoft, which learned the ExpressRoute pool only over the
    // circuit, has no way back to it.
    assert!(r.lookup(node(&t, "us-east"), ip("198.51.100.17")).is_none());
}

/// `office - r1 - r2 - inet-nat - internet`; `r2` sends the CDN's range
/// back to r1 with a static route.
const LOOP: &str = r#"
[[site]]
name = "office"
subnets = ["10.1.0.0/16", "2001:db8:1::/48"]

[[router]]
name = "r1"

[[router]]
name = "r2"
routes = [{ prefix = "203.0.113.0/24", via = "r1-r2" }]

[[nat]]
name = "inet-nat"
pool = ["198.51.100.0/28"]
outside = ["isp"]

[[link]]
name = "office-lan"
kind = "lan"
ends = ["office", "r1"]

[[link]]
name = "r1-r2"
kind = "lan"
ends = ["r1", "r2"]

[[link]]
name = "r2-nat"
kind = "lan"
ends = ["r2", "inet-nat"]

[[link]]
name = "isp"
kind = "internet-access"
ends = ["inet-nat", "internet"]
capacity = "1Gbps"
"#;

#[test]
fn a_routing_loop_made_with_static_routes_is_reported_with_its_hops() {
    let t = topology(&format!("{MICROSOFT}{LOOP}"));
    let w = walk_one(&t, "office", "10.1.0.10", "203.0.113.10", 443);
    let Outcome::Dropped { node: at, reason } = &w.outcome else {
        panic!("delivered through a loop: {:?}", w.outcome)
    };
    let DropReason::Loop { nodes } = reason else {
        panic!("{reason:?}")
    };
    assert_eq!(names(&t, nodes), ["r1", "r2", "r1"]);
    assert_eq!(t.node(*at).name, "r1");
    assert_eq!(
        DropText {
            topology: &t,
            node: *at,
            reason
        }
        .to_string(),
        "routing loop: r1 -> r2 -> r1"
    );
    assert_eq!(w.hops.len(), 3, "office, r1, r2: then r1 again is the loop");
    // Other destinations are unaffected.
    assert!(walk_one(&t, "office", "10.1.0.10", "52.112.1.10", 443).delivered());
}

#[test]
fn no_route_is_a_verdict() {
    let t = topology(&format!("{MICROSOFT}{LOOP}"));
    for (src, dst) in [
        ("10.1.0.10", "100.64.0.1"),
        ("2001:db8:1::10", "2001:db8:ffff::1"),
    ] {
        let w = walk_one(&t, "office", src, dst, 443);
        let Outcome::Dropped { node: at, reason } = &w.outcome else {
            panic!("{dst} delivered: {:?}", w.outcome)
        };
        assert_eq!(*reason, DropReason::NoRoute { dst: ip(dst) });
        assert_eq!(t.node(*at).name, "internet", "{dst}");
        assert_eq!(
            DropText {
                topology: &t,
                node: *at,
                reason
            }
            .to_string(),
            format!("no route to {dst} at internet")
        );
    }
}

// ----- random topologies --------------------------------------------------------

/// What a firewall in a generated topology does.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Firewalls {
    /// Stateless, default allow: nothing is dropped, nothing remembered.
    Open,
    /// Stateful, default deny, allowing only what starts inside.
    Stateful,
}

/// A random network between two sites, the Internet and (perhaps) a
/// circuit: elements `x0..xn` (routers or firewalls) joined in a tree by
/// `parent`, plus `extra` links for a mesh.
#[derive(Debug, Clone)]
struct Gen {
    firewall: Vec<bool>,
    parent: Vec<usize>,
    extra: Vec<(usize, usize)>,
    cost: Vec<u32>,
    site_a: usize,
    site_b: usize,
    /// A NAT of its own in front of site `a` (its preset), translating
    /// before the exits do (double NAT).
    site_nat: Option<usize>,
    /// Internet exits: where each NAT hangs, whether its link advertises
    /// its pool explicitly, its preset.
    exits: Vec<(usize, bool, usize)>,
    /// Where the ExpressRoute NAT and customer edge hang.
    circuit: Option<usize>,
    /// Static routes: (element, destination choice, link choice).
    statics: Vec<(usize, usize, usize)>,
}

const PRESETS: [&str; 4] = [
    "full-cone",
    "restricted-cone",
    "port-restricted-cone",
    "symmetric",
];

/// Destinations a static route may name.
const STATIC_PREFIXES: [&str; 5] = [
    "0.0.0.0/0",
    "10.1.0.0/16",
    "10.2.0.0/16",
    "52.112.0.0/16",
    "203.0.113.0/24",
];

impl Gen {
    fn n(&self) -> usize {
        self.firewall.len()
    }

    /// Links of the interior, as (name, a, b).
    fn interior(&self) -> Vec<(String, usize, usize)> {
        let mut out: Vec<(String, usize, usize)> = (1..self.n())
            .map(|i| (format!("t{i}"), self.parent[i - 1] % i, i))
            .collect();
        for (k, &(a, b)) in self.extra.iter().enumerate() {
            let (a, b) = (a % self.n(), b % self.n());
            if a != b {
                out.push((format!("m{k}"), a, b));
            }
        }
        out
    }

    fn toml(&self, firewalls: Firewalls) -> String {
        let mut s = String::from(MICROSOFT);
        s.push_str(
            r#"
[[site]]
name = "a"
subnets = ["10.1.0.0/16"]

[[site]]
name = "b"
subnets = ["10.2.0.0/16"]
"#,
        );
        let interior = self.interior();
        for i in 0..self.n() {
            if self.firewall[i] {
                let rules = match firewalls {
                    Firewalls::Open => "stateful = false\ndefault = \"allow\"",
                    Firewalls::Stateful => {
                        "stateful = true\ndefault = \"deny\"\nrule = [{ action = \"allow\", src = [\"10.0.0.0/8\", \"198.51.100.192/28\"] }]"
                    }
                };
                s.push_str(&format!("\n[[firewall]]\nname = \"x{i}\"\n{rules}\n"));
            } else {
                // Static routes over links touching this router.
                let touching: Vec<&String> = interior
                    .iter()
                    .filter(|(_, a, b)| *a == i || *b == i)
                    .map(|(name, ..)| name)
                    .collect();
                let routes: Vec<String> = self
                    .statics
                    .iter()
                    .filter(|(at, ..)| at % self.n() == i && !touching.is_empty())
                    .map(|&(_, p, l)| {
                        format!(
                            "{{ prefix = \"{}\", via = \"{}\" }}",
                            STATIC_PREFIXES[p % STATIC_PREFIXES.len()],
                            touching[l % touching.len()]
                        )
                    })
                    .collect();
                s.push_str(&format!(
                    "\n[[router]]\nname = \"x{i}\"\nroutes = [{}]\n",
                    routes.join(", ")
                ));
            }
        }
        let lan = |s: &mut String, name: &str, a: &str, b: &str, cost: Option<u32>| {
            s.push_str(&format!(
                "\n[[link]]\nname = \"{name}\"\nkind = \"lan\"\nends = [\"{a}\", \"{b}\"]\n"
            ));
            if let Some(c) = cost {
                s.push_str(&format!("cost = {c}\n"));
            }
        };
        for (k, (name, a, b)) in interior.iter().enumerate() {
            let cost = self.cost[k % self.cost.len()];
            lan(&mut s, name, &format!("x{a}"), &format!("x{b}"), Some(cost));
        }
        let a_at = format!("x{}", self.site_a % self.n());
        match self.site_nat {
            None => lan(&mut s, "a-lan", "a", &a_at, None),
            Some(preset) => {
                s.push_str(&format!(
                    "\n[[nat]]\nname = \"na\"\npool = [\"198.51.100.192/28\"]\noutside = [\"na-x\"]\npreset = \"{}\"\n",
                    PRESETS[preset % PRESETS.len()]
                ));
                lan(&mut s, "a-lan", "a", "na", None);
                lan(&mut s, "na-x", "na", &a_at, None);
            }
        }
        lan(
            &mut s,
            "b-lan",
            "b",
            &format!("x{}", self.site_b % self.n()),
            None,
        );
        for (k, &(at, explicit, preset)) in self.exits.iter().enumerate() {
            let pool = format!("198.51.100.{}/28", 16 * k);
            s.push_str(&format!(
                "\n[[nat]]\nname = \"n{k}\"\npool = [\"{pool}\"]\noutside = [\"isp{k}\"]\npreset = \"{}\"\n",
                PRESETS[preset % PRESETS.len()]
            ));
            lan(
                &mut s,
                &format!("nl{k}"),
                &format!("x{}", at % self.n()),
                &format!("n{k}"),
                None,
            );
            s.push_str(&format!(
                "\n[[link]]\nname = \"isp{k}\"\nkind = \"internet-access\"\nends = [\"n{k}\", \"internet\"]\ncapacity = \"1Gbps\"\n"
            ));
            if explicit {
                s.push_str(&format!("advertise = [\"{pool}\"]\n"));
            }
        }
        if let Some(at) = self.circuit {
            s.push_str(
                r#"
[[nat]]
name = "ern"
pool = ["198.51.100.128/28"]
outside = ["ern-ce"]

[[router]]
name = "ce"

[[link]]
name = "ern-ce"
kind = "lan"
ends = ["ern", "ce"]

[[circuit]]
name = "er"
peering_location = "New York"
bandwidth = "200Mbps"
sku = "standard"
customer_edge = "ce"
microsoft_edge = "us-east"
route_filter = ["12076:5030"]
advertise = ["198.51.100.128/28"]
secondary = false
"#,
            );
            lan(
                &mut s,
                "ern-in",
                &format!("x{}", at % self.n()),
                "ern",
                None,
            );
        }
        s
    }
}

fn network(
    mesh: bool,
    max_exits: usize,
    circuit: bool,
    statics: bool,
) -> impl Strategy<Value = Gen> {
    (1usize..8).prop_flat_map(move |n| {
        (
            prop::collection::vec(any::<bool>(), n),
            prop::collection::vec(0usize..64, n.saturating_sub(1)),
            prop::collection::vec((0usize..64, 0usize..64), if mesh { 0..4 } else { 0..1 }),
            prop::collection::vec(1u32..100, 1..12),
            (0usize..64, 0usize..64, prop::option::of(0usize..4)),
            prop::collection::vec((0usize..64, any::<bool>(), 0usize..4), 1..=max_exits),
            prop::option::of(0usize..64),
            prop::collection::vec(
                (0usize..64, 0usize..64, 0usize..64),
                if statics { 0..5 } else { 0..1 },
            ),
        )
            .prop_map(
                move |(
                    firewall,
                    parent,
                    extra,
                    cost,
                    (site_a, site_b, site_nat),
                    exits,
                    er,
                    st,
                )| Gen {
                    firewall,
                    parent,
                    extra: if mesh { extra } else { vec![] },
                    cost,
                    site_a,
                    site_b,
                    site_nat,
                    exits,
                    circuit: er.filter(|_| circuit),
                    statics: if statics { st } else { vec![] },
                },
            )
    })
}

fn end(t: &Topology, name: &str, addr: &str) -> End {
    End {
        node: node(t, name),
        addr: ip(addr),
    }
}

/// The flows each property traces: both sites to Microsoft, the Internet
/// and each other; to `a` only when no NAT stands in front of it (see
/// `a_reply_to_a_packet_that_crossed_a_nat_inwards_is_not_translated`).
fn flows(t: &Topology) -> Vec<FlowSpec> {
    let a = end(t, "a", "10.1.0.10");
    let b = end(t, "b", "10.2.0.10");
    let edge = end(t, "us-east-online-edge", "52.112.1.10");
    let cdn = end(t, "cdn", "203.0.113.10");
    let spec = |from: End, to: End, protocol: Protocol, port: u16, class: TrafficClass| FlowSpec {
        from,
        to,
        protocol,
        src_port: 50_000,
        dst_port: port,
        class,
        pac: None,
    };
    let mut out = vec![
        spec(a, edge, Protocol::Udp, 3478, TrafficClass::Stun),
        spec(a, cdn, Protocol::Tcp, 443, TrafficClass::Web),
        spec(a, b, Protocol::Udp, 50_000, TrafficClass::Audio),
        spec(b, edge, Protocol::Tcp, 443, TrafficClass::Signaling),
    ];
    if t.node_named("na").is_none() {
        out.push(spec(b, a, Protocol::Tcp, 443, TrafficClass::Signaling));
    }
    out
}

fn trace_all(t: &Topology, r: &Routing) -> Vec<FlowTrace> {
    flows(t)
        .into_iter()
        .map(|f| trace_flow(t, r, &mut NetState::default(), f, SimTime::ZERO))
        .collect()
}

fn path(t: &Topology, w: &Walk) -> String {
    let nodes: Vec<&str> = w
        .hops
        .iter()
        .map(|h| t.node(h.node).name.as_str())
        .collect();
    nodes.join(" -> ")
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x5eed_ca11_f10e),
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// (1) Nothing stateful but the NATs at the exits: every reply comes
    /// back, whichever way each direction is routed.
    #[test]
    fn with_open_firewalls_a_reply_always_returns(g in network(true, 3, true, false)) {
        let text = g.toml(Firewalls::Open);
        let t = topology(&text);
        let r = routing(&t);
        for f in trace_all(&t, &r) {
            let leg = &f.legs[0];
            prop_assert!(leg.forward.delivered(), "forward {}: {:?}\n{text}", path(&t, &leg.forward), leg.forward.outcome);
            prop_assert!(f.verdict.is_ok(), "{} -> {}: {:?}\nback {}\n{text}",
                leg.tuple, path(&t, &leg.forward), f.verdict,
                leg.back.as_ref().map(|b| path(&t, b)).unwrap_or_default());
        }
    }

    /// (2) A tree with one exit routes every reply back over the links its
    /// request took, so stateful firewalls always find their sessions.
    #[test]
    fn in_a_tree_the_reply_retraces_the_request(g in network(false, 1, false, false)) {
        let text = g.toml(Firewalls::Stateful);
        let t = topology(&text);
        let r = routing(&t);
        for f in trace_all(&t, &r) {
            let leg = &f.legs[0];
            prop_assert!(!f.asymmetric(), "{}: {} / back {}\n{text}", leg.tuple,
                path(&t, &leg.forward), leg.back.as_ref().map(|b| path(&t, b)).unwrap_or_default());
            prop_assert!(f.verdict.is_ok(), "{}: {:?}\n{text}", leg.tuple, f.verdict);
        }
    }

    /// (3) Static routes may loop; a walk still ends, within the hop limit,
    /// and a loop is reported starting and ending at the element it repeats.
    #[test]
    fn a_walk_always_ends_within_the_hop_limit(g in network(true, 3, true, true)) {
        let text = g.toml(Firewalls::Open);
        let t = topology(&text);
        let r = routing(&t);
        for f in trace_all(&t, &r) {
            for w in f.legs.iter().flat_map(|l| std::iter::once(&l.forward).chain(l.back.as_ref())) {
                prop_assert!(w.hops.len() <= HOP_LIMIT, "{} hops\n{text}", w.hops.len());
                if let Outcome::Dropped { node: at, reason: DropReason::Loop { nodes } } = &w.outcome {
                    prop_assert!(nodes.len() >= 2);
                    prop_assert_eq!(nodes.first(), nodes.last());
                    prop_assert_eq!(nodes.last(), Some(at));
                }
            }
        }
    }
}

// ----- found by the properties ---------------------------------------------------

/// `a` sits behind its own NAT `na`; `b` does not. A packet from `b` to
/// `a`'s private address crosses `na` inwards untranslated (routes lead
/// there). Were `na` to keep no state for it, `a`'s reply would leave
/// through `na`'s outside link source-NATed to the pool, and `b` would
/// receive a reply from an address it never sent to. A real NAT decides translation
/// on a connection's first packet: the reply of a connection that came in
/// untranslated goes back untranslated.
#[test]
fn a_reply_to_a_packet_that_crossed_a_nat_inwards_is_not_translated() {
    let t = topology(&format!(
        r#"{MICROSOFT}
[[site]]
name = "a"
subnets = ["10.1.0.0/16"]

[[site]]
name = "b"
subnets = ["10.2.0.0/16"]

[[nat]]
name = "na"
pool = ["198.51.100.64/28"]
outside = ["na-x"]

[[router]]
name = "x"

[[nat]]
name = "n0"
pool = ["198.51.100.0/28"]
outside = ["isp"]

[[link]]
name = "a-lan"
kind = "lan"
ends = ["a", "na"]

[[link]]
name = "na-x"
kind = "lan"
ends = ["na", "x"]

[[link]]
name = "b-lan"
kind = "lan"
ends = ["b", "x"]

[[link]]
name = "x-n0"
kind = "lan"
ends = ["x", "n0"]

[[link]]
name = "isp"
kind = "internet-access"
ends = ["n0", "internet"]
capacity = "1Gbps"
"#
    ));
    let r = routing(&t);
    let spec = FlowSpec {
        from: end(&t, "b", "10.2.0.10"),
        to: end(&t, "a", "10.1.0.10"),
        protocol: Protocol::Tcp,
        src_port: 49152,
        dst_port: 443,
        class: TrafficClass::Signaling,
        pac: None,
    };
    let f = trace_flow(&t, &r, &mut NetState::default(), spec, SimTime::ZERO);
    assert!(f.verdict.is_ok(), "{:?}", f.verdict);
}
