//! The example topologies and scenarios stay valid and keep showing what
//! they were written to show.
//!
//! Every `topologies/*.toml` validates on its own; every `scenarios/*.toml`
//! validates with the topology its `topology` key names (relative to the
//! scenario file), with every variant; and each example's intent, from the
//! deployment it stands for down to the probes and variants that make its
//! point, is asserted so a change that breaks it fails here.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use callflow::model::*;
use callflow::units::Bitrate;
use callflow::validate::{Study, load_study, load_topology};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The `.toml` files of a directory, sorted.
fn toml_files(dir: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap_or_else(|e| panic!("{dir}: {e}"))
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn stem(p: &Path) -> String {
    p.file_stem().unwrap().to_string_lossy().into_owned()
}

/// The topology a scenario names, resolved relative to the scenario file.
fn topology_of(scenario: &Path) -> PathBuf {
    let text = std::fs::read_to_string(scenario).unwrap();
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let rel = doc
        .get("topology")
        .and_then(toml::Value::as_str)
        .unwrap_or_else(|| panic!("{} has no `topology` key", scenario.display()));
    scenario.parent().unwrap().join(rel)
}

fn study(name: &str) -> Study {
    let scenario = root().join("scenarios").join(format!("{name}.toml"));
    load_study(&topology_of(&scenario), &scenario).unwrap_or_else(|e| panic!("{name}: {e}"))
}

const EXAMPLES: [&str; 7] = [
    "broadcast",
    "cloud-connector",
    "federated",
    "hybrid",
    "multi-site",
    "online",
    "remote",
];

// ----- every file -------------------------------------------------------------

#[test]
fn every_topology_validates() {
    let files = toml_files("topologies");
    assert!(files.len() >= EXAMPLES.len());
    for f in files {
        if let Err(e) = load_topology(&f) {
            panic!("{}:\n{}", f.display(), render(e));
        }
    }
}

#[test]
fn every_scenario_validates_with_its_topology_and_variants() {
    let files = toml_files("scenarios");
    assert!(files.len() >= EXAMPLES.len());
    for f in files {
        if let Err(e) = load_study(&topology_of(&f), &f) {
            panic!("{}:\n{}", f.display(), render(e));
        }
    }
}

fn render(e: callflow::validate::LoadError) -> String {
    match e {
        callflow::validate::LoadError::Invalid(i) => i.render(),
        other => other.to_string(),
    }
}

#[test]
fn every_example_has_its_scenario_and_says_what_it_shows() {
    let topologies: Vec<String> = toml_files("topologies").iter().map(|p| stem(p)).collect();
    // scenarios/seed-tables.toml is not an example of its own: it holds the
    // source document's tables for topologies/seed/ (tests/seed_conformance.rs).
    let scenarios: Vec<String> = toml_files("scenarios")
        .iter()
        .map(|p| stem(p))
        .filter(|s| s != "seed-tables")
        .collect();
    assert_eq!(topologies, EXAMPLES);
    assert_eq!(scenarios, EXAMPLES);
    for name in EXAMPLES {
        let topology = root().join("topologies").join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&topology).unwrap();
        let comment_lines = text.lines().take_while(|l| l.starts_with('#')).count();
        assert!(
            comment_lines >= 5,
            "{name}.toml should open with a comment block saying what it shows"
        );
        let scenario = root().join("scenarios").join(format!("{name}.toml"));
        assert_eq!(
            topology_of(&scenario),
            root()
                .join("scenarios")
                .join(format!("../topologies/{name}.toml"))
        );
        let s = study(name);
        assert_eq!(s.topology.name, name);
        assert_eq!(s.scenario.name, name);
        assert_eq!(s.scenario.replications, 3, "{name}");
        assert!(
            s.scenario.personas.len() >= 2,
            "{name} defines no persona of its own"
        );
        assert!(!s.scenario.groups.is_empty(), "{name} has no groups");
        assert!(s.scenario.probes.len() >= 3, "{name} has few probes");
        let sweep = s.scenario.sweep.as_ref().expect("a sweep");
        assert_eq!(sweep.seeds, vec![1, 2], "{name}");
        assert!(
            sweep.variants.len() >= 2 && sweep.variants[0] == "baseline",
            "{name}"
        );
        assert_eq!(
            sweep.variants[1..],
            s.scenario.variants[..],
            "{name}: the sweep runs every variant"
        );
    }
}

// ----- helpers on the model ------------------------------------------------------

fn node(t: &Topology, name: &str) -> NodeId {
    t.node_named(name)
        .unwrap_or_else(|| panic!("no element \"{name}\""))
}

fn server(t: &Topology, name: &str) -> Server {
    match &t.node(node(t, name)).kind {
        NodeKind::Server(s) => s.clone(),
        other => panic!("{name} is a {}", other.word()),
    }
}

fn nat(t: &Topology, name: &str) -> Nat {
    match &t.node(node(t, name)).kind {
        NodeKind::Nat(n) => n.clone(),
        other => panic!("{name} is a {}", other.word()),
    }
}

fn firewall(t: &Topology, name: &str) -> Firewall {
    match &t.node(node(t, name)).kind {
        NodeKind::Firewall(f) => f.clone(),
        other => panic!("{name} is a {}", other.word()),
    }
}

fn edge(t: &Topology, name: &str) -> Edge {
    match &t.node(node(t, name)).kind {
        NodeKind::Edge(e) => e.clone(),
        other => panic!("{name} is a {}", other.word()),
    }
}

fn tenant_circuits(t: &Topology) -> Vec<&Circuit> {
    t.circuits
        .iter()
        .filter(|c| c.owner == Owner::Tenant)
        .collect()
}

fn circuit<'t>(t: &'t Topology, name: &str) -> &'t Circuit {
    t.circuits
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("no circuit \"{name}\""))
}

fn reach(t: &Topology, c: &Circuit) -> Vec<String> {
    c.reach.iter().map(|&r| t.region(r).name.clone()).collect()
}

fn net(s: &str) -> ipnet::IpNet {
    s.parse().unwrap()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn group<'s>(s: &'s Scenario, name: &str) -> &'s Group {
    let id = s
        .group_named(name)
        .unwrap_or_else(|| panic!("no group \"{name}\""));
    s.group(id)
}

fn probe<'s>(s: &'s Scenario, name: &str) -> &'s ProbeKind {
    &s.probes
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no probe \"{name}\""))
        .kind
}

fn variant<'s>(s: &'s Study, name: &str) -> (&'s Topology, &'s Scenario) {
    s.models(name)
        .unwrap_or_else(|| panic!("no variant \"{name}\""))
}

fn place_is_site(s: &Scenario, g: GroupId) -> bool {
    matches!(s.group(g).place, Place::Site(_))
}

fn place_is_remote(t: &Topology, s: &Scenario, g: GroupId, kind: RemoteKind) -> bool {
    matches!(s.group(g).place, Place::Remote(r) if t.remotes[r.0 as usize].kind == kind)
}

/// The separate-pools design: the Internet NAT's pool is advertised to the
/// ISP and not to Microsoft, the ExpressRoute NAT's pool the other way round.
fn assert_separate_pools(t: &Topology, isp: &str, inet_nat: &str, er_nat: &str, er: &str) {
    let inet_pool = nat(t, inet_nat).pool;
    let er_pool = nat(t, er_nat).pool;
    assert_ne!(inet_pool, er_pool);
    let advertised = t
        .link(t.link_named(isp).unwrap())
        .advertise
        .clone()
        .expect("the ISP link says what it advertises");
    assert_eq!(advertised, inet_pool);
    // Over the circuit: the ExpressRoute pool, and any untranslated IPv6
    // prefixes, never the Internet pool.
    let over_circuit = circuit(t, er).advertise.clone();
    let v4: Vec<_> = over_circuit
        .iter()
        .filter(|p| p.addr().is_ipv4())
        .cloned()
        .collect();
    assert_eq!(v4, er_pool);
    assert!(over_circuit.iter().all(|p| !inet_pool.contains(p)));
}

// ----- online ------------------------------------------------------------------------

#[test]
fn online_is_the_online_table() {
    let s = study("online");
    let t = &s.topology;
    assert_eq!(t.tenant.deployment, Deployment::Online);
    assert_eq!(t.regions.len(), 1);
    let home = t.home_region();
    for kind in [
        ServerKind::OnlineEdge,
        ServerKind::Registrar,
        ServerKind::OnlineConferencing,
        ServerKind::PhoneSystem,
    ] {
        assert!(home.service(t, kind).is_some(), "{kind:?}");
    }
    let fw = firewall(t, "office-fw");
    assert!(fw.stateful);
    assert_eq!(fw.default, Action::Deny);
    assert_separate_pools(t, "office-isp", "inet-nat", "er-nat", "er");
    let er = circuit(t, "er");
    assert!(matches!(er.sku, Sku::Standard | Sku::Premium));
    assert_eq!(reach(t, er), ["us-east"]);
    assert_eq!(t.remotes.len(), 1);
    assert_eq!(t.remotes[0].kind, RemoteKind::CoffeeShop);

    let sc = &s.scenario;
    let cafe = sc.group_named("cafe-workers").unwrap();
    assert!(place_is_remote(t, sc, cafe, RemoteKind::CoffeeShop));
    let edge = node(t, "us-east-online-edge");
    let registrar = node(t, "us-east-registrar");
    assert!(matches!(probe(sc, "office-edge-udp"),
        ProbeKind::Flow { from: FlowEnd::Group(g), to: FlowEnd::Node(n), protocol: Protocol::Udp, port: 3478, .. }
        if place_is_site(sc, *g) && *n == edge));
    assert!(matches!(probe(sc, "office-registrar-tls"),
        ProbeKind::Flow { from: FlowEnd::Group(g), to: FlowEnd::Node(n), protocol: Protocol::Tcp, port: 443, .. }
        if place_is_site(sc, *g) && *n == registrar));
    assert!(matches!(probe(sc, "cafe-edge-udp"),
        ProbeKind::Flow { from: FlowEnd::Group(g), to: FlowEnd::Node(n), protocol: Protocol::Udp, port: 3478, .. }
        if *g == cafe && *n == edge));
    assert!(matches!(probe(sc, "p2p-internal"),
        ProbeKind::PeerToPeer { caller, callee, .. }
        if place_is_site(sc, *caller) && place_is_site(sc, *callee)));
    assert!(matches!(probe(sc, "p2p-cafe"),
        ProbeKind::PeerToPeer { caller, callee, .. }
        if place_is_site(sc, *caller) && *callee == cafe));
    assert!(matches!(probe(sc, "conference"),
        ProbeKind::Conference { organizer, participants, .. }
        if place_is_site(sc, *organizer) && participants.contains(&cafe)
            && participants.iter().filter(|&&p| place_is_site(sc, p)).count() >= 2));
    assert!(matches!(probe(sc, "pstn-office"),
        ProbeKind::Pstn { caller, via: Some(PstnRoute::PhoneSystem) } if place_is_site(sc, *caller)));

    let (no_er, _) = variant(&s, "no-expressroute");
    assert!(tenant_circuits(no_er).is_empty());
}

// ----- hybrid ------------------------------------------------------------------------

#[test]
fn hybrid_has_an_on_prem_pool_edge_and_gateway() {
    let s = study("hybrid");
    let t = &s.topology;
    assert_eq!(t.tenant.deployment, Deployment::Hybrid);
    assert_eq!(t.tenant.front_end, Some(node(t, "fe-pool")));
    let fe = server(t, "fe-pool");
    assert_eq!(fe.kind, ServerKind::FrontEnd);
    assert_eq!(fe.edge, Some(node(t, "sfb-edge")));
    assert_eq!(server(t, "conf-server").kind, ServerKind::Conferencing);
    let mediation = server(t, "mediation");
    assert_eq!(mediation.kind, ServerKind::Mediation);
    assert_eq!(mediation.gateway, Some(node(t, "pstn-gw")));
    assert_eq!(server(t, "pstn-gw").kind, ServerKind::PstnGateway);

    // The Edge: internal side in the DMZ, external side on the external
    // firewall, which has its own Internet line; its public address is
    // never advertised on the circuit.
    let e = edge(t, "sfb-edge");
    assert_eq!(e.kind, EdgeKind::Sfb);
    let sfb_edge = node(t, "sfb-edge");
    assert_eq!(t.other_end(e.internal_link, sfb_edge), node(t, "dmz"));
    let outer = node(t, "outer-fw");
    assert_eq!(t.other_end(e.external_link, sfb_edge), outer);
    assert!(
        t.links_of(outer)
            .iter()
            .any(|&l| t.link(l).kind == LinkKind::InternetAccess)
    );
    assert_eq!(e.external, ip("198.51.100.100"));
    assert!(
        tenant_circuits(t)
            .iter()
            .all(|c| !c.advertise.iter().any(|p| p.contains(&e.external)))
    );
    assert_separate_pools(t, "office-isp", "inet-nat", "er-nat", "er");
    assert_eq!(t.remotes[0].kind, RemoteKind::Home);

    // Users homed on-prem and Online in the same office.
    let sc = &s.scenario;
    let office = node(t, "office");
    let homings: Vec<Homing> = sc
        .groups
        .iter()
        .filter(|g| g.place == Place::Site(office))
        .map(|g| g.homing)
        .collect();
    assert!(homings.contains(&Homing::OnPrem) && homings.contains(&Homing::Online));
    let home_group = sc.group_named("onprem-at-home").unwrap();
    assert!(place_is_remote(t, sc, home_group, RemoteKind::Home));
    assert_eq!(sc.group(home_group).homing, Homing::OnPrem);

    let homing = |g: GroupId| sc.group(g).homing;
    assert!(matches!(probe(sc, "p2p-onprem"),
        ProbeKind::PeerToPeer { caller, callee, .. }
        if homing(*caller) == Homing::OnPrem && homing(*callee) == Homing::OnPrem));
    assert!(matches!(probe(sc, "p2p-online-onprem"),
        ProbeKind::PeerToPeer { caller, callee, .. }
        if homing(*caller) == Homing::Online && homing(*callee) == Homing::OnPrem));
    assert!(matches!(probe(sc, "conference-onprem"),
        ProbeKind::Conference { organizer, participants, .. }
        if homing(*organizer) == Homing::OnPrem && participants.contains(&home_group)
            && participants.iter().any(|&p| p != *organizer && place_is_site(sc, p))));
    assert!(matches!(probe(sc, "conference-online"),
        ProbeKind::Conference { organizer, .. } if homing(*organizer) == Homing::Online));
    assert!(matches!(probe(sc, "pstn-gateway"),
        ProbeKind::Pstn { caller, via: Some(PstnRoute::Gateway) } if homing(*caller) == Homing::OnPrem));

    let (_, all_online) = variant(&s, "all-online");
    assert!(all_online.groups.iter().all(|g| g.homing == Homing::Online));
}

// ----- cloud connector ------------------------------------------------------------------

#[test]
fn cloud_connector_routes_pstn_through_its_edge_and_gateway() {
    let s = study("cloud-connector");
    let t = &s.topology;
    assert_eq!(t.tenant.deployment, Deployment::CloudConnector);
    assert_eq!(t.tenant.front_end, None);
    let cce_node = node(t, "cce");
    assert_eq!(t.tenant.cloud_connector, Some(cce_node));
    let cce = server(t, "cce");
    assert_eq!(cce.kind, ServerKind::CloudConnector);
    assert_eq!(cce.edge, Some(node(t, "cce-edge")));
    assert_eq!(edge(t, "cce-edge").kind, EdgeKind::CloudConnector);
    let gw = cce.gateway.expect("a gateway");
    assert!(matches!(&t.node(gw).kind, NodeKind::Server(g) if g.kind == ServerKind::PstnGateway));
    assert_eq!(t.remotes[0].kind, RemoteKind::Hotel);

    let sc = &s.scenario;
    assert!(sc.groups.iter().all(|g| g.homing == Homing::Online));
    assert!(matches!(probe(sc, "pstn-office"),
        ProbeKind::Pstn { caller, via: Some(PstnRoute::CloudConnector) } if place_is_site(sc, *caller)));
    assert!(matches!(probe(sc, "pstn-hotel"),
        ProbeKind::Pstn { caller, via: Some(PstnRoute::CloudConnector) }
        if place_is_remote(t, sc, *caller, RemoteKind::Hotel)));
    let (_, calling_plan) = variant(&s, "calling-plan");
    assert!(matches!(
        probe(calling_plan, "pstn-office"),
        ProbeKind::Pstn {
            via: Some(PstnRoute::PhoneSystem),
            ..
        }
    ));
}

// ----- broadcast ------------------------------------------------------------------------

#[test]
fn broadcast_streams_from_a_cdn_on_the_internet() {
    let s = study("broadcast");
    let t = &s.topology;
    assert_eq!(t.tenant.deployment, Deployment::Online);
    assert!(t.home_region().service(t, ServerKind::Broadcast).is_some());
    let cdn = node(t, "cdn");
    assert_eq!(server(t, "cdn").kind, ServerKind::Cdn);
    assert_eq!(t.node(cdn).domain, Domain::Internet);
    let cdn_set = t.catalog.set("broadcast-cdn").unwrap();
    assert!(!cdn_set.expressroute);
    assert!(
        t.node(cdn)
            .addresses
            .iter()
            .all(|a| cdn_set.prefixes.iter().any(|p| p.contains(a)))
    );

    let sc = &s.scenario;
    assert!(matches!(probe(sc, "town-hall"),
        ProbeKind::Broadcast { organizer, attendees }
        if place_is_site(sc, *organizer)
            && attendees.iter().any(|&a| place_is_site(sc, a))
            && attendees.iter().any(|&a| place_is_remote(t, sc, a, RemoteKind::Home))));
    let attendee = sc.personas.iter().find(|p| p.name == "attendee").unwrap();
    assert!(attendee.rates.broadcast > 0.0);
}

// ----- federated ------------------------------------------------------------------------

#[test]
fn federated_has_one_partner_of_each_kind() {
    let s = study("federated");
    let t = &s.topology;
    let kinds: Vec<(&str, OrgKind, bool)> = t
        .organizations
        .iter()
        .map(|o| (o.name.as_str(), o.kind, o.circuit.is_some()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("fabrikam", OrgKind::Online, true),
            ("northwind", OrgKind::Online, false),
            ("litware", OrgKind::OnPrem, false),
            ("skype-consumer", OrgKind::SkypeConsumer, false),
        ]
    );
    // Fabrikam's own circuit is theirs, lands in its home region and carries
    // its own pool.
    let fabrikam = &t.organizations[0];
    let er = t.circuit(fabrikam.circuit.unwrap());
    assert_eq!(er.name, "fabrikam-er");
    assert_eq!(er.owner, Owner::Organization(OrgId(0)));
    assert_eq!(Some(er.microsoft_edge), fabrikam.home_region);
    assert_eq!(er.advertise, vec![net("198.18.10.0/28")]);
    assert!(t.link_named("fabrikam-er:primary").is_some());
    // Northwind lives in another region.
    assert_ne!(t.organizations[1].home_region, Some(t.tenant.home_region));
    // Litware has its own Edge and server; Skype consumer's service sits in
    // the catalog's Internet-only set.
    assert!(t.organizations[2].edge.is_some() && t.organizations[2].server.is_some());
    let skype = t.organizations[3].server.expect("the consumer service");
    let consumer = t.catalog.set("skype-consumer").unwrap();
    assert!(!consumer.expressroute);
    assert!(
        t.node(skype)
            .addresses
            .iter()
            .all(|a| consumer.prefixes.iter().any(|p| p.contains(a)))
    );

    let sc = &s.scenario;
    let mut called: Vec<OrgId> = sc
        .probes
        .iter()
        .filter_map(|p| match &p.kind {
            ProbeKind::Federated { caller, partner } => {
                assert!(place_is_site(sc, *caller));
                match sc.group(*partner).place {
                    Place::Organization(o) => Some(o),
                    _ => None,
                }
            }
            _ => None,
        })
        .collect();
    called.sort();
    assert_eq!(called, [OrgId(0), OrgId(1), OrgId(2), OrgId(3)]);
    assert!(matches!(probe(sc, "litware-meeting"),
        ProbeKind::PartnerConference { host, participants }
        if *host == OrgId(2) && participants.iter().any(|&p| place_is_site(sc, p))));
    for org in [
        "fabrikam-users",
        "northwind-users",
        "litware-users",
        "skype-users",
    ] {
        assert!(matches!(group(sc, org).homing, Homing::Partner(_)), "{org}");
    }
}

// ----- remote -----------------------------------------------------------------------------

#[test]
fn remote_locations_have_their_nats_and_the_hotel_blocks_udp() {
    let s = study("remote");
    let t = &s.topology;
    let by_kind: Vec<(RemoteKind, Option<&str>, bool)> = t
        .remotes
        .iter()
        .map(|r| {
            let preset = match &t.node(r.nat).kind {
                NodeKind::Nat(n) => n.behaviour.preset_name(),
                _ => None,
            };
            (r.kind, preset, r.firewall.is_some())
        })
        .collect();
    assert_eq!(
        by_kind,
        [
            (RemoteKind::Home, Some("port-restricted-cone"), false),
            (RemoteKind::Hotel, Some("symmetric"), true),
            (RemoteKind::CoffeeShop, Some("full-cone"), false),
        ]
    );
    // Generated names.
    assert_eq!(t.remotes[0].nat, node(t, "home-nat"));
    assert_eq!(t.remotes[1].firewall, Some(node(t, "hotel-fw")));
    assert!(t.link_named("hotel-access").is_some());
    let fw = firewall(t, "hotel-fw");
    assert_eq!(fw.default, Action::Allow);
    assert!(
        fw.rules
            .iter()
            .any(|r| r.action == Action::Deny && r.protocol == Some(Protocol::Udp))
    );

    let sc = &s.scenario;
    for kind in [RemoteKind::Home, RemoteKind::Hotel, RemoteKind::CoffeeShop] {
        assert!(
            sc.probes.iter().any(|p| matches!(&p.kind,
                ProbeKind::Conference { organizer, participants, .. }
                if place_is_site(sc, *organizer)
                    && sc.group(*organizer).homing == Homing::Online
                    && participants.iter().any(|&g| place_is_remote(t, sc, g, kind)))),
            "nobody joins an Online conference from {kind:?}"
        );
    }
    assert!(matches!(probe(sc, "p2p-home-hotel"),
        ProbeKind::PeerToPeer { caller, callee, .. }
        if place_is_remote(t, sc, *caller, RemoteKind::Home)
            && place_is_remote(t, sc, *callee, RemoteKind::Hotel)));

    let (open_hotel, _) = variant(&s, "hotel-allows-udp");
    assert!(firewall(open_hotel, "hotel-fw").rules.is_empty());
}

// ----- multi-site ---------------------------------------------------------------------------

#[test]
fn multi_site_circuit_and_its_variants() {
    let s = study("multi-site");
    let t = &s.topology;
    assert_eq!(t.tenant.deployment, Deployment::Online);
    let er = circuit(t, "er-nyc");
    assert_eq!(er.sku, Sku::Premium);
    assert_eq!(reach(t, er), ["us-east", "eu-west"]);
    assert_eq!(er.bandwidth, Bitrate::mbps(200));
    assert_separate_pools(t, "hq-isp", "hq-inet-nat", "hq-er-nat", "er-nyc");

    // Groups at every site and remote location, thousands of users in all.
    let sc = &s.scenario;
    for place in ["hq", "chicago", "boston", "london", "home", "hotel"] {
        let lan = node(t, place);
        assert!(
            sc.groups.iter().any(|g| g.lan == lan),
            "no group at {place}"
        );
    }
    let users: u32 = sc.groups.iter().map(|g| g.count).sum();
    assert!(users >= 5_000, "{users} users");
    assert!(!sc.failures.is_empty());

    assert_eq!(
        sc.sweep.as_ref().unwrap().variants,
        [
            "baseline",
            "no-expressroute",
            "er-500",
            "standard-sku",
            "second-circuit"
        ]
    );

    let (no_er, no_er_scenario) = variant(&s, "no-expressroute");
    assert!(tenant_circuits(no_er).is_empty());
    assert!(no_er_scenario.failures.is_empty());

    let (er500, _) = variant(&s, "er-500");
    assert_eq!(circuit(er500, "er-nyc").bandwidth, Bitrate::mbps(500));

    // A Standard circuit at New York reaches only north-america, which is
    // still the home region.
    let (standard, _) = variant(&s, "standard-sku");
    let std_er = circuit(standard, "er-nyc");
    assert_eq!(std_er.sku, Sku::Standard);
    assert_eq!(reach(standard, std_er), ["us-east"]);

    let (two, _) = variant(&s, "second-circuit");
    assert_eq!(tenant_circuits(two).len(), 2);
    let lon = circuit(two, "er-lon");
    assert_eq!(two.region(lon.microsoft_edge).name, "eu-west");
    assert_eq!(lon.peering_location, "London");
    assert_eq!(lon.customer_edge, node(two, "london-er-ce"));
    assert!(reach(two, lon).contains(&"us-east".to_string()));
    // Its own pool, advertised on the circuit and kept off the Internet.
    assert_eq!(lon.advertise, nat(two, "london-er-nat").pool);
    assert_ne!(lon.advertise, circuit(two, "er-nyc").advertise);
    let london_isp = two.link(two.link_named("london-isp").unwrap());
    assert_eq!(london_isp.advertise, Some(vec![net("198.51.100.64/28")]));
}

/// Every probe of every example ends `ok`, except the ones written to show
/// a failure. Regression: the multi-site IPv6 probe's replies had no route
/// back (HQ's IPv6 prefix was not advertised over the circuit).
#[test]
fn every_example_probe_works_unless_it_is_meant_to_break() {
    const MEANT_TO_BREAK: &[(&str, &str)] = &[("remote", "hotel-udp-to-edge")];
    let mut broken = Vec::new();
    for name in EXAMPLES {
        let st = study(name);
        let json = callflow::run::trace_json(&st.topology, &st.scenario).unwrap();
        let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
        for probe in doc["probes"].as_array().unwrap() {
            let probe_name = probe["name"].as_str().unwrap();
            let meant = MEANT_TO_BREAK.contains(&(name, probe_name));
            for leg in probe["legs"].as_array().unwrap() {
                let ok = leg["verdict"] == "ok";
                if ok == meant {
                    broken.push(format!("{name} {probe_name}: {}", leg["verdict"]));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}
