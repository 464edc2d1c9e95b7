//! The source document's six principles and its ExpressRoute rule, checked
//! on random networks and random calls.
//!
//! Each case writes a topology and a scenario as TOML text, the way a user
//! would: one or two Microsoft regions, one to three sites, with or without
//! an ExpressRoute circuit, no firewall, a permissive or a strict stateful
//! one, with or without an on-premises pool and Edge, zero to two remote
//! locations behind different NATs, maybe an Online partner with or without
//! its own circuit, and user groups homed Online or on-premises at random.
//! It validates them with the same loader as `callflow validate`, traces
//! random peer-to-peer, conference, PSTN and federated calls, and checks:
//!
//! 1. a conference is hosted where its organizer is homed;
//! 2. (and 5) every participant of an Online conference is relayed by the
//!    Online Edge, through one Edge or two;
//! 3. peer-to-peer media goes direct between two clients of the network
//!    (nothing blocks them inside), and through one or two Edges when a
//!    strict firewall stands between an inside client and an outside one;
//! 4. signaling goes to the server where the user is homed, through the
//!    on-premises Edge from outside, and is labelled by where it went;
//! 6. inside joiners of an on-premises conference use no Edge, outside
//!    joiners one or two;
//!
//! and the ExpressRoute rule: a packet crosses ExpressRoute only between a
//! network with a circuit and a Microsoft datacenter, never between two
//! places on the Internet or two places inside one network; and where a
//! circuit reaches the region, every packet between that network and
//! Microsoft crosses it.
//!
//! The cases are few and the seed fixed, so the file runs in seconds and
//! the same cases every time.

use std::fmt::Write;

use callflow::calls::CallTrace;
use callflow::diag::SourceFile;
use callflow::ice::MediaPathKind;
use callflow::model::{
    Domain, GroupId, Homing, NodeId, NodeKind, PathLabel, Place, ProbeKind, Scenario, Segment,
    ServerKind, Topology,
};
use callflow::net::walk::{Outcome, Walk};
use callflow::trace::trace_probes;
use callflow::validate::study_from_sources;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};

// ----- the random network ------------------------------------------------------------

/// How much the tenant's perimeter firewall lets out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Firewall {
    /// No firewall: the customer edge router and NATs only.
    None,
    /// Stateful, everything from inside may go out.
    Permissive,
    /// Stateful, only Microsoft's sets and the Internet-only dependencies.
    Strict,
}

/// A place outside the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Remote {
    /// A home behind a port-restricted cone NAT.
    Home,
    /// A hotel behind a symmetric NAT.
    Hotel,
}

/// Another organization we federate with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Partner {
    None,
    /// Online in our home region, reaching Microsoft over the Internet.
    Online,
    /// Online in our home region, with its own circuit.
    OnlineWithCircuit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Where {
    Site(usize),
    Remote(usize),
    Partner,
}

#[derive(Debug, Clone, Copy)]
struct GroupSpec {
    at: Where,
    onprem: bool,
}

#[derive(Debug, Clone)]
enum Call {
    PeerToPeer(usize, usize),
    Conference(usize, Vec<usize>),
    Pstn(usize),
}

#[derive(Debug, Clone)]
struct Net {
    regions: usize,
    home: usize,
    sites: usize,
    circuit: bool,
    firewall: Firewall,
    onprem: bool,
    remotes: Vec<Remote>,
    partner: Partner,
    /// Whether each group is homed on-premises (when the pool exists): two
    /// at the first site, one at each other site and remote location.
    homing: Vec<bool>,
}

const REGIONS: [(&str, &str, &str, &str); 2] = [
    ("us-east", "north-america", "New York", "52.112"),
    ("eu-west", "europe", "London", "52.113"),
];

impl Net {
    fn home(&self) -> &'static str {
        REGIONS[self.home].0
    }

    fn groups(&self) -> Vec<GroupSpec> {
        let mut places = vec![Where::Site(0), Where::Site(0)];
        places.extend((1..self.sites).map(Where::Site));
        places.extend((0..self.remotes.len()).map(Where::Remote));
        let mut groups: Vec<GroupSpec> = places
            .into_iter()
            .zip(&self.homing)
            .map(|(at, &onprem)| GroupSpec {
                at,
                onprem: onprem && self.onprem,
            })
            .collect();
        if self.partner != Partner::None {
            groups.push(GroupSpec {
                at: Where::Partner,
                onprem: false,
            });
        }
        groups
    }

    fn topology(&self) -> String {
        let mut t = String::new();
        let w = &mut t;
        let _ = writeln!(
            w,
            "name = \"random\"\n\n[tenant]\nhome_region = \"{}\"\n",
            self.home()
        );
        for (name, geography, location, prefix) in &REGIONS[..self.regions] {
            let _ = writeln!(
                w,
                "[[region]]\nname = \"{name}\"\ngeography = \"{geography}\"\n\
                 peering_locations = [\"{location}\"]\nprefixes = [\"{prefix}.0.0/16\"]\n\
                 service = [\n  {{ kind = \"online-edge\", address = \"{prefix}.1.10\" }},\n\
                 \x20 {{ kind = \"registrar\", address = \"{prefix}.2.10\" }},\n\
                 \x20 {{ kind = \"conferencing\", address = \"{prefix}.3.10\" }},\n\
                 \x20 {{ kind = \"phone-system\", address = \"{prefix}.4.10\" }},\n]\n"
            );
        }
        if self.regions == 2 {
            link(w, "backbone", "backbone", "us-east", "eu-west");
        }
        // Sites: the first on the core router, the others on branch routers
        // over the WAN.
        let _ = writeln!(w, "[[router]]\nname = \"core\"\n");
        for i in 0..self.sites {
            let _ = writeln!(
                w,
                "[[site]]\nname = \"site{i}\"\nsubnets = [\"10.{}.0.0/16\"]\n",
                10 + i
            );
            if i == 0 {
                link(w, "site0-lan", "lan", "site0", "core");
            } else {
                let _ = writeln!(w, "[[router]]\nname = \"r{i}\"\n");
                link(
                    w,
                    &format!("site{i}-lan"),
                    "lan",
                    &format!("site{i}"),
                    &format!("r{i}"),
                );
                link(w, &format!("r{i}-wan"), "wan", &format!("r{i}"), "core");
            }
        }
        // The perimeter: the firewall (or none), then the customer edge.
        let inside_edge = match self.firewall {
            Firewall::None => "core",
            Firewall::Permissive | Firewall::Strict => {
                let rules = self.firewall_rules();
                let _ = writeln!(
                    w,
                    "[[firewall]]\nname = \"fw\"\nstateful = true\ndefault = \"deny\"\nrule = [\n{rules}]\n"
                );
                link(w, "core-fw", "lan", "core", "fw");
                "fw"
            }
        };
        let _ = writeln!(w, "[[router]]\nname = \"ce\"\n");
        link(w, "inside-ce", "lan", inside_edge, "ce");
        let _ = writeln!(
            w,
            "[[nat]]\nname = \"inet-nat\"\npool = [\"198.51.100.0/28\"]\noutside = [\"office-isp\"]\n"
        );
        link(w, "ce-inet-nat", "lan", "ce", "inet-nat");
        let _ = writeln!(
            w,
            "[[link]]\nname = \"office-isp\"\nkind = \"internet-access\"\nends = [\"inet-nat\", \"internet\"]\n\
             capacity = \"1Gbps\"\nadvertise = [\"198.51.100.0/28\"]\n"
        );
        if self.circuit {
            let _ = writeln!(
                w,
                "[[nat]]\nname = \"er-nat\"\npool = [\"198.51.100.16/28\"]\noutside = [\"er-nat-ce\"]\n\n\
                 [[router]]\nname = \"er-ce\"\n"
            );
            link(w, "ce-er-nat", "lan", "ce", "er-nat");
            link(w, "er-nat-ce", "lan", "er-nat", "er-ce");
            let advertise = if self.onprem {
                "\"198.51.100.16/28\", \"198.51.100.96/28\""
            } else {
                "\"198.51.100.16/28\""
            };
            let (_, _, location, _) = REGIONS[self.home];
            let _ = writeln!(
                w,
                "[[circuit]]\nname = \"er\"\npeering_location = \"{location}\"\nbandwidth = \"200Mbps\"\n\
                 sku = \"premium\"\ncustomer_edge = \"er-ce\"\nmicrosoft_edge = \"{}\"\n\
                 route_filter = [\"12076:5030\"]\nadvertise = [{advertise}]\n",
                self.home()
            );
        }
        if self.onprem {
            self.pool(w, inside_edge);
        }
        for (j, r) in self.remotes.iter().enumerate() {
            let (kind, preset) = match r {
                Remote::Home => ("home", "port-restricted-cone"),
                Remote::Hotel => ("hotel", "symmetric"),
            };
            let _ = writeln!(
                w,
                "[[remote]]\nname = \"remote{j}\"\nkind = \"{kind}\"\nsubnet = \"192.168.{}.0/24\"\n\
                 public = \"192.0.2.{}\"\nnat = {{ preset = \"{preset}\" }}\n",
                j + 1,
                10 + j
            );
        }
        if self.partner != Partner::None {
            let _ = writeln!(
                w,
                "[[organization]]\nname = \"partner\"\nkind = \"online\"\nhome_region = \"{}\"\n\
                 subnet = \"10.80.0.0/16\"\npublic = \"192.0.2.50\"",
                self.home()
            );
            if self.partner == Partner::OnlineWithCircuit {
                let _ = writeln!(
                    w,
                    "expressroute = {{ region = \"{}\", public = \"198.18.10.0/28\" }}",
                    self.home()
                );
            }
            w.push('\n');
        }
        for (name, kind, addr) in [
            ("public-dns", "dns", "203.0.113.170"),
            ("crl", "crl", "203.0.113.140"),
            ("telemetry", "telemetry", "203.0.113.100"),
        ] {
            let _ = writeln!(
                w,
                "[[server]]\nname = \"{name}\"\nkind = \"{kind}\"\naddress = \"{addr}\"\nat = \"internet\"\n"
            );
        }
        t
    }

    fn firewall_rules(&self) -> String {
        let inside = "[\"10.0.0.0/8\"]";
        match self.firewall {
            Firewall::None => String::new(),
            Firewall::Permissive => {
                format!("  {{ action = \"allow\", src = {inside} }},\n")
            }
            Firewall::Strict => {
                let mut r = String::new();
                for (protocol, set, ports) in [
                    ("udp", "set:skype-teams-media", "\"3478-3481\""),
                    ("tcp", "set:skype-teams-signaling", "\"443\""),
                    ("udp", "set:dns", "\"53\""),
                    ("tcp", "set:certificate-revocation", "[\"80\", \"443\"]"),
                    ("tcp", "set:telemetry", "\"443\""),
                ] {
                    let _ = writeln!(
                        r,
                        "  {{ action = \"allow\", protocol = \"{protocol}\", src = {inside}, dst = \"{set}\", dst_ports = {ports} }},"
                    );
                }
                if self.onprem {
                    // Clients and the Edge's internal side, both ways.
                    let _ = writeln!(
                        r,
                        "  {{ action = \"allow\", src = {inside}, dst = \"10.29.0.0/24\" }},\n\
                         \x20 {{ action = \"allow\", src = \"10.29.0.0/24\", dst = {inside} }},"
                    );
                }
                r
            }
        }
    }

    /// The on-premises pool, conferencing server, mediation and gateway in a
    /// datacenter on the core, and the Edge between a DMZ and an external
    /// firewall with its own Internet line (and its own way to the circuit).
    fn pool(&self, w: &mut String, inside_edge: &str) {
        let _ = writeln!(
            w,
            "[[site]]\nname = \"dc\"\nkind = \"datacenter\"\nsubnets = [\"10.21.0.0/16\"]\n\n\
             [[site]]\nname = \"dmz\"\nkind = \"dmz\"\nsubnets = [\"10.29.0.0/24\"]\n\n\
             [[server]]\nname = \"fe-pool\"\nkind = \"front-end\"\naddress = \"10.21.0.10\"\nat = \"dc\"\nedge = \"sfb-edge\"\n\n\
             [[server]]\nname = \"conf-server\"\nkind = \"conferencing\"\naddress = \"10.21.0.20\"\nat = \"dc\"\n\n\
             [[server]]\nname = \"mediation\"\nkind = \"mediation\"\naddress = \"10.21.0.30\"\nat = \"dc\"\ngateway = \"pstn-gw\"\nmedia_bypass = true\n\n\
             [[server]]\nname = \"pstn-gw\"\nkind = \"pstn-gateway\"\naddress = \"10.21.0.40\"\nat = \"dc\"\n\n\
             [[edge]]\nname = \"sfb-edge\"\ninternal = {{ address = \"10.29.0.10\", at = \"dmz\" }}\n\
             external = {{ address = \"198.51.100.100\", at = \"outer-fw\" }}\n\n\
             [[firewall]]\nname = \"outer-fw\"\nstateful = true\ndefault = \"deny\"\nrule = [\n\
             \x20 {{ action = \"allow\", protocol = \"tcp\", dst = \"198.51.100.100\", dst_ports = [\"443\", \"5061\"] }},\n\
             \x20 {{ action = \"allow\", protocol = \"udp\", dst = \"198.51.100.100\", dst_ports = \"3478\" }},\n\
             \x20 {{ action = \"allow\", dst = \"198.51.100.100\", dst_ports = \"50000-59999\" }},\n\
             \x20 {{ action = \"allow\", src = \"198.51.100.100\" }},\n]\n\n\
             [[link]]\nname = \"edge-isp\"\nkind = \"internet-access\"\nends = [\"outer-fw\", \"internet\"]\n\
             capacity = \"1Gbps\"\nadvertise = [\"198.51.100.96/28\"]\n"
        );
        link(w, "dc-lan", "lan", "dc", "core");
        link(w, "dmz-lan", "lan", inside_edge, "dmz");
        if self.circuit {
            link(w, "outer-fw-er-ce", "lan", "outer-fw", "er-ce");
        }
    }

    fn scenario(&self, calls: &[Call]) -> String {
        let mut s = String::from("name = \"random-calls\"\n\n");
        for (i, g) in self.groups().iter().enumerate() {
            let at = match g.at {
                Where::Site(k) => format!("site{k}"),
                Where::Remote(k) => format!("remote{k}"),
                Where::Partner => "partner".to_string(),
            };
            let homed = match g.at {
                Where::Partner => String::new(),
                _ if g.onprem => "homed = \"on-prem\"\n".to_string(),
                _ => "homed = \"online\"\n".to_string(),
            };
            let _ = writeln!(
                s,
                "[[group]]\nname = \"g{i}\"\nat = \"{at}\"\n{homed}count = 10\n"
            );
        }
        for (k, c) in calls.iter().enumerate() {
            let body = match c {
                Call::PeerToPeer(a, b) if self.is_partner(*b) => {
                    format!("kind = \"federated\"\ncaller = \"g{a}\"\npartner = \"g{b}\"")
                }
                Call::PeerToPeer(a, b) => {
                    format!("kind = \"peer-to-peer\"\ncaller = \"g{a}\"\ncallee = \"g{b}\"")
                }
                Call::Conference(o, ps) => {
                    let list: Vec<String> = ps.iter().map(|p| format!("\"g{p}\"")).collect();
                    format!(
                        "kind = \"conference\"\norganizer = \"g{o}\"\nparticipants = [{}]",
                        list.join(", ")
                    )
                }
                Call::Pstn(a) => format!("kind = \"pstn\"\ncaller = \"g{a}\""),
            };
            let _ = writeln!(s, "[[probe]]\nname = \"call{k}\"\n{body}\n");
        }
        s
    }

    fn is_partner(&self, g: usize) -> bool {
        self.groups()[g].at == Where::Partner
    }
}

fn link(w: &mut String, name: &str, kind: &str, a: &str, b: &str) {
    let capacity = if kind == "wan" {
        "capacity = \"100Mbps\"\n"
    } else {
        ""
    };
    let _ = writeln!(
        w,
        "[[link]]\nname = \"{name}\"\nkind = \"{kind}\"\nends = [\"{a}\", \"{b}\"]\n{capacity}"
    );
}

fn net() -> impl Strategy<Value = Net> {
    (
        1..=2usize,
        1..=3usize,
        any::<bool>(),
        prop_oneof![
            Just(Firewall::None),
            Just(Firewall::Permissive),
            Just(Firewall::Strict)
        ],
        any::<bool>(),
        prop::collection::vec(prop_oneof![Just(Remote::Home), Just(Remote::Hotel)], 0..=2),
        prop_oneof![
            Just(Partner::None),
            Just(Partner::Online),
            Just(Partner::OnlineWithCircuit)
        ],
        any::<bool>(),
        prop::collection::vec(any::<bool>(), 6),
    )
        .prop_map(
            |(regions, sites, circuit, firewall, onprem, remotes, partner, home, homing)| Net {
                regions,
                home: usize::from(home && regions == 2),
                sites,
                circuit,
                firewall,
                onprem,
                remotes,
                partner,
                homing,
            },
        )
}

/// Random calls among `n` groups, of which the last is the partner's when
/// `partner`: it is only ever called (federated), never calls or joins.
fn calls(n: usize, partner: bool) -> impl Strategy<Value = Vec<Call>> {
    let ours = if partner { n - 1 } else { n };
    let call = prop_oneof![
        (0..ours, 1..n).prop_map(move |(a, d)| Call::PeerToPeer(a, (a + d) % n)),
        (0..ours, prop::collection::btree_set(0..ours, 1..=3))
            .prop_map(|(o, ps)| Call::Conference(o, ps.into_iter().collect())),
        (0..ours).prop_map(Call::Pstn),
    ];
    prop::collection::vec(call, 1..=4)
}

fn case() -> impl Strategy<Value = (Net, Vec<Call>)> {
    net().prop_flat_map(|n| {
        let groups = n.groups().len();
        let partner = n.partner != Partner::None;
        (Just(n), calls(groups, partner))
    })
}

// ----- checking -------------------------------------------------------------------

fn node(t: &Topology, name: &str) -> NodeId {
    t.node_named(name)
        .unwrap_or_else(|| panic!("no element {name}"))
}

fn is_online_edge(t: &Topology, n: NodeId) -> bool {
    matches!(&t.node(n).kind, NodeKind::Server(s) if s.kind == ServerKind::OnlineEdge)
}

fn inside(s: &Scenario, g: GroupId) -> bool {
    matches!(s.group(g).place, Place::Site(_))
}

/// Every walk a call made, with what it was for.
fn walks(call: &CallTrace) -> Vec<(&'static str, &Walk)> {
    let mut out = Vec::new();
    for leg in &call.legs {
        for f in leg.signaling.iter().chain(&leg.dependencies) {
            for l in &f.legs {
                out.push(("signaling or dependency", &l.forward));
                out.extend(l.back.iter().map(|b| ("signaling or dependency reply", b)));
            }
        }
    }
    for f in &call.server_signaling {
        for l in &f.legs {
            out.push(("server signaling", &l.forward));
        }
    }
    for n in &call.negotiations {
        if let Some(r) = &n.route {
            out.extend(r.forward.iter().chain(&r.back).map(|w| ("media", w)));
        }
    }
    out
}

fn end(w: &Walk) -> NodeId {
    match &w.outcome {
        Outcome::Delivered { node, .. } | Outcome::Dropped { node, .. } => *node,
    }
}

/// Whether a domain has an ExpressRoute circuit of its own to Microsoft.
fn has_circuit(t: &Topology, d: Domain) -> bool {
    match d {
        Domain::Customer => t
            .circuits
            .iter()
            .any(|c| c.owner == callflow::model::Owner::Tenant),
        Domain::Organization(o) => t.organizations[o.0 as usize].circuit.is_some(),
        _ => false,
    }
}

/// The ExpressRoute rule on one delivered walk.
fn check_expressroute(t: &Topology, why: &str, w: &Walk) -> Result<(), TestCaseError> {
    if !w.delivered() || w.hops.is_empty() {
        return Ok(());
    }
    let (a, b) = (t.node(w.hops[0].node).domain, t.node(end(w)).domain);
    let crosses = w.segments(t).any(|s| s == Segment::ExpressRoute);
    let names = || -> Vec<String> { w.hops.iter().map(|h| t.node(h.node).name.clone()).collect() };
    let own = |d: Domain| matches!(d, Domain::Customer | Domain::Organization(_));
    let network_to_microsoft = [(a, b), (b, a)]
        .into_iter()
        .find(|(x, y)| own(*x) && *y == Domain::Microsoft)
        .map(|(x, _)| x);
    match network_to_microsoft {
        Some(net) => prop_assert_eq!(
            crosses,
            has_circuit(t, net),
            "{} between a network and Microsoft crosses ExpressRoute exactly when that network has a circuit: {:?}",
            why,
            names()
        ),
        None => prop_assert!(
            !crosses,
            "{} crosses ExpressRoute between {:?} and {:?}: {:?}",
            why,
            a,
            b,
            names()
        ),
    }
    Ok(())
}

/// Principle 4: signaling goes to the home server (through the Edge from
/// outside), labelled by where it went. A conference participant first
/// signals to the conference's focus, where the conference is hosted
/// (principle 1); its registration with its home server follows, and that
/// is what principle 4 is about.
fn check_signaling(
    t: &Topology,
    s: &Scenario,
    net: &Net,
    call: &CallTrace,
) -> Result<(), TestCaseError> {
    for leg in &call.legs {
        let g = leg.group.expect("a group");
        let group = s.group(g);
        prop_assert!(leg.signaling_ok(), "{}: signaling failed", group.name);
        let last = leg.signaling.last().expect("signaling");
        // The home flows: the last one, with the flow to the Edge before it
        // when the client went through its Edge.
        let n = leg.signaling.len();
        let through_edge = n >= 2 && t.node(leg.signaling[n - 2].spec.to.node).name == "sfb-edge";
        let home_flows = &leg.signaling[if through_edge { n - 2 } else { n - 1 }..];
        let (home, label) = match group.homing {
            Homing::Online | Homing::Partner(_) => {
                let registrar = node(t, &format!("{}-registrar", net.home()));
                let circuit = match group.place {
                    Place::Site(_) => net.circuit,
                    Place::Organization(o) => t.organizations[o.0 as usize].circuit.is_some(),
                    Place::Remote(_) => false,
                };
                let label = if circuit {
                    PathLabel::ExpressRoute
                } else {
                    PathLabel::Internet
                };
                (registrar, label)
            }
            Homing::OnPrem => {
                if !inside(s, g) {
                    prop_assert_eq!(
                        home_flows[0].spec.to.node,
                        node(t, "sfb-edge"),
                        "{}: from outside, through the Edge",
                        &group.name
                    );
                }
                let label = if inside(s, g) {
                    PathLabel::Local
                } else {
                    PathLabel::Internet
                };
                (node(t, "fe-pool"), label)
            }
        };
        prop_assert_eq!(
            last.spec.to.node,
            home,
            "{}: to the home server",
            &group.name
        );
        prop_assert_eq!(
            PathLabel::of(home_flows[0].forward_segments(t)),
            label,
            "{}: signaling label",
            &group.name
        );
    }
    Ok(())
}

fn check_call(
    t: &Topology,
    s: &Scenario,
    net: &Net,
    kind: &ProbeKind,
    call: &CallTrace,
) -> Result<(), TestCaseError> {
    check_signaling(t, s, net, call)?;
    for (why, w) in walks(call) {
        check_expressroute(t, why, w)?;
    }
    let media = |i: usize| call.media_summary(t, i).expect("media");
    match kind {
        ProbeKind::Conference { organizer, .. } => {
            let onprem = s.group(*organizer).homing == Homing::OnPrem;
            // Principle 1.
            let host = call.host.expect("hosted");
            let expected = if onprem {
                "conf-server".to_string()
            } else {
                format!("{}-conferencing", net.home())
            };
            prop_assert_eq!(
                &t.node(host).name,
                &expected,
                "hosted where the organizer is homed"
            );
            for (i, leg) in call.legs.iter().enumerate() {
                let g = leg.group.expect("a group");
                let m = media(i);
                prop_assert_eq!(&m.verdict, "ok", "{}: media", &leg.participant);
                if onprem {
                    // Principle 6.
                    if inside(s, g) {
                        prop_assert_eq!(
                            m.path,
                            Some(MediaPathKind::Direct),
                            "{}",
                            &leg.participant
                        );
                        prop_assert_eq!(m.label, PathLabel::Local, "{}", &leg.participant);
                    } else {
                        prop_assert!(
                            (1..=2).contains(&m.relays.len()),
                            "{}: an outside joiner uses one or two Edges",
                            &leg.participant
                        );
                    }
                } else {
                    // Principles 2 and 5.
                    prop_assert!(
                        (1..=2).contains(&m.relays.len())
                            && m.relays.iter().any(|&r| is_online_edge(t, r)),
                        "{}: an Online conference is relayed by the Online Edge: {:?}",
                        &leg.participant,
                        m.relays
                    );
                    if s.group(g).homing == Homing::Online {
                        let label = if inside(s, g) && net.circuit {
                            PathLabel::ExpressRoute
                        } else {
                            PathLabel::Internet
                        };
                        prop_assert_eq!(m.label, label, "{}: media label", &leg.participant);
                    }
                }
            }
        }
        ProbeKind::PeerToPeer { caller, callee, .. }
        | ProbeKind::Federated {
            caller,
            partner: callee,
        } => {
            let m = media(0);
            prop_assert_eq!(&m.verdict, "ok", "peer-to-peer media");
            prop_assert!(m.relays.len() <= 2);
            let (a, b) = (inside(s, *caller), inside(s, *callee));
            if a && b {
                // Principle 3: same network, nothing between them inside.
                prop_assert_eq!(m.path, Some(MediaPathKind::Direct));
                for i in 0..2 {
                    prop_assert_eq!(media(i).label, PathLabel::Local);
                }
            } else if a != b && net.firewall == Firewall::Strict {
                prop_assert!(
                    !m.relays.is_empty(),
                    "a strict firewall blocks direct media between inside and outside"
                );
            }
        }
        ProbeKind::Pstn { .. } => {
            prop_assert_eq!(&media(0).verdict, "ok", "PSTN media");
        }
        _ => {}
    }
    Ok(())
}

fn config() -> Config {
    Config {
        cases: 256,
        rng_seed: RngSeed::Fixed(0x5eed_ca11),
        failure_persistence: None,
        max_shrink_iters: 200,
        ..Config::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn principles_hold_on_random_networks((net, calls) in case()) {
        let topology = net.topology();
        let scenario = net.scenario(&calls);
        let study = study_from_sources(
            SourceFile::new("random-topology.toml", topology.clone()),
            SourceFile::new("random-scenario.toml", scenario.clone()),
        );
        let study = match study {
            Ok(s) => s,
            Err(d) => {
                return Err(TestCaseError::fail(format!(
                    "the generated files do not validate:\n{}\n--- topology\n{topology}\n--- scenario\n{scenario}",
                    callflow::diag::InvalidInput::from(d).render()
                )));
            }
        };
        let (t, s) = (&study.topology, &study.scenario);
        for p in trace_probes(t, s, None) {
            let probe = s.probes.iter().find(|x| x.name == p.name).expect("the probe");
            let call = p.call.as_ref().expect("a call");
            check_call(t, s, &net, &probe.kind, call)
                .map_err(|e| TestCaseError::fail(format!("{}: {e}\n--- topology\n{topology}\n--- scenario\n{scenario}", p.name)))?;
        }
    }
}

#[test]
fn the_generator_covers_every_kind_of_network() {
    // A strict Hybrid network with a circuit, a hotel and a partner with its
    // own circuit: every element the generator writes, validated.
    let net = Net {
        regions: 2,
        home: 1,
        sites: 3,
        circuit: true,
        firewall: Firewall::Strict,
        onprem: true,
        remotes: vec![Remote::Home, Remote::Hotel],
        partner: Partner::OnlineWithCircuit,
        homing: vec![true, false, true, false, true, false],
    };
    let calls = vec![
        Call::PeerToPeer(0, 1),
        Call::PeerToPeer(1, 6),
        Call::Conference(0, vec![1, 3, 4]),
        Call::Conference(1, vec![0, 5]),
        Call::Pstn(4),
    ];
    let study = study_from_sources(
        SourceFile::new("t.toml", net.topology()),
        SourceFile::new("s.toml", net.scenario(&calls)),
    )
    .unwrap_or_else(|d| panic!("{}", callflow::diag::InvalidInput::from(d).render()));
    let t = &study.topology;
    assert_eq!(t.tenant.deployment, callflow::model::Deployment::Hybrid);
    assert_eq!(study.scenario.groups.len(), 7);
    assert_eq!(study.scenario.probes.len(), 5);
    assert!(matches!(
        study.scenario.probes[1].kind,
        ProbeKind::Federated { .. }
    ));
    assert_eq!(t.circuits.len(), 2, "ours and the partner's");
    let traces = trace_probes(t, &study.scenario, None);
    for p in &traces {
        let probe = study
            .scenario
            .probes
            .iter()
            .find(|x| x.name == p.name)
            .expect("the probe");
        check_call(
            t,
            &study.scenario,
            &net,
            &probe.kind,
            p.call.as_ref().expect("a call"),
        )
        .unwrap_or_else(|e| panic!("{}: {e}", p.name));
    }
}
