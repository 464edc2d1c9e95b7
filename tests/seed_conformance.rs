//! The source document's three tables and its example flows, row by row.
//!
//! Each test loads a seed topology (`topologies/seed/`) with its scenario
//! (`scenarios/seed/`), traces the probe that stands for one row of "Call
//! flow using ExpressRoute" (or one example-flow section), and asserts the
//! signaling and media labels of every participant as the row gives them,
//! through the same `trace_probes` and JSON `document` that `callflow trace`
//! prints. Nothing here knows an answer in advance: the labels come from the
//! segments the traced flows and the ICE-negotiated media crossed.
//!
//! Where the document contradicts itself the tests follow the mechanism its
//! prose describes; docs/seed-discrepancies.md quotes both passages. No row
//! is ignored: where the document's one column stands for two outcomes, each
//! has its own probe under the condition that produces it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use callflow::model::{NodeKind, Scenario, Segment, ServerKind, Topology};
use callflow::trace::{LegJson, ProbeJson, ProbeTrace, document, trace_probes};
use callflow::validate::{LoadError, Study, load_study};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn load(topology: &Path, scenario: &Path) -> Study {
    load_study(topology, scenario).unwrap_or_else(|e| match e {
        LoadError::Invalid(i) => panic!("{}", i.render()),
        other => panic!("{other}"),
    })
}

/// A seed topology with its scenario: `online`, `hybrid` or `cloud-connector`.
fn seed(name: &str) -> Study {
    load(
        &root().join("topologies/seed").join(format!("{name}.toml")),
        &root().join("scenarios/seed").join(format!("{name}.toml")),
    )
}

/// One probe, traced: its JSON (what `callflow trace --format json` prints)
/// and the trace underneath (for the hops of a relayed path).
struct Traced {
    json: ProbeJson,
    trace: ProbeTrace,
}

fn trace(t: &Topology, s: &Scenario, probe: &str) -> Traced {
    let traces = trace_probes(t, s, Some(probe));
    assert_eq!(traces.len(), 1, "no probe {probe}");
    let mut doc = document(t, s, &traces);
    Traced {
        json: doc.probes.remove(0),
        trace: traces.into_iter().next().expect("one trace"),
    }
}

fn probe(study: &Study, name: &str) -> Traced {
    trace(&study.topology, &study.scenario, name)
}

/// What a row says of one participant.
struct Row {
    participant: &'static str,
    signaling: &'static str,
    media: &'static str,
}

const fn row(participant: &'static str, signaling: &'static str, media: &'static str) -> Row {
    Row {
        participant,
        signaling,
        media,
    }
}

/// Every participant of the probe, in order, with the row's labels, and
/// every one of them connected.
fn assert_rows(p: &Traced, rows: &[Row]) {
    let who: Vec<&str> = p.json.legs.iter().map(|l| l.participant.as_str()).collect();
    let want: Vec<&str> = rows.iter().map(|r| r.participant).collect();
    assert_eq!(who, want, "{}: participants", p.json.name);
    for (leg, r) in p.json.legs.iter().zip(rows) {
        let got = (leg.signaling.to_string(), leg.media.clone());
        assert_eq!(
            (got.0.as_str(), got.1.as_str()),
            (r.signaling, r.media),
            "{}: {} (signaling, media); verdict {}",
            p.json.name,
            r.participant,
            leg.verdict
        );
        assert_eq!(leg.verdict, "ok", "{}: {}", p.json.name, r.participant);
    }
}

fn leg<'p>(p: &'p Traced, who: &str) -> &'p LegJson {
    p.json
        .legs
        .iter()
        .find(|l| l.participant == who)
        .unwrap_or_else(|| panic!("{}: no participant {who}", p.json.name))
}

fn relays(p: &Traced, who: &str) -> Vec<String> {
    leg(p, who).relays.clone()
}

/// Every segment the whole media route of the call's only negotiation
/// crossed, controlling side to controlled side (consecutive repeats merged).
fn route_segments(t: &Topology, p: &Traced, negotiation: usize) -> Vec<Segment> {
    let call = p.trace.call.as_ref().expect("a call");
    let route = call.negotiations[negotiation]
        .route
        .as_ref()
        .expect("a nominated pair");
    let mut out: Vec<Segment> = Vec::new();
    for s in route.forward.iter().flat_map(|w| w.segments(t)) {
        if out.last() != Some(&s) {
            out.push(s);
        }
    }
    out
}

// ----- Call flow summary for Skype for Business Online ------------------------------

#[test]
fn online_p2p_both_on_network_is_expressroute_signaling_local_media() {
    let s = seed("online");
    let p = probe(&s, "online-p2p-internal");
    assert_rows(
        &p,
        &[
            row("office-users", "ExpressRoute", "local"),
            row("office-peers", "ExpressRoute", "local"),
        ],
    );
    assert_eq!(leg(&p, "office-users").media_path, "direct");
}

#[test]
fn online_p2p_internal_and_external_meet_at_the_online_edge() {
    let s = seed("online");
    let p = probe(&s, "online-p2p-internal-external");
    assert_rows(
        &p,
        &[
            row("office-users", "ExpressRoute", "ExpressRoute"),
            row("cafe-users", "Internet", "Internet"),
        ],
    );
    // "Assumes that firewall blocks direct connections between clients,
    // that requires an Online Edge server."
    for who in ["office-users", "cafe-users"] {
        assert_eq!(leg(&p, who).media_path, "relay", "{who}");
        assert_eq!(relays(&p, who), ["us-east-online-edge"], "{who}");
    }
}

#[test]
fn online_p2p_federated_is_expressroute_on_both_sides() {
    let s = seed("online");
    let p = probe(&s, "online-p2p-federated");
    assert_rows(
        &p,
        &[
            row("office-users", "ExpressRoute", "ExpressRoute"),
            row("fabrikam-users", "ExpressRoute", "ExpressRoute"),
        ],
    );
    // Both reach the Online Edge, each over its own organization's circuit.
    assert_eq!(relays(&p, "office-users"), ["us-east-online-edge"]);
    assert_eq!(
        leg(&p, "fabrikam-users").segments,
        [Segment::Customer, Segment::ExpressRoute, Segment::Microsoft]
    );
}

#[test]
fn online_join_conference_from_customer_network_is_expressroute() {
    let s = seed("online");
    let p = probe(&s, "online-conference-internal");
    assert_rows(&p, &[row("office-users", "ExpressRoute", "ExpressRoute")]);
    assert_eq!(relays(&p, "office-users"), ["us-east-online-edge"]);
}

#[test]
fn online_join_conference_from_internet_is_internet() {
    let s = seed("online");
    let p = probe(&s, "online-conference-internet");
    assert_rows(&p, &[row("cafe-users", "Internet", "Internet")]);
    assert_eq!(relays(&p, "cafe-users"), ["us-east-online-edge"]);
}

#[test]
fn online_join_conference_on_another_companys_onprem_server_is_internet() {
    let s = seed("online");
    let p = probe(&s, "online-conference-partner-onprem");
    assert_rows(&p, &[row("office-users", "Internet", "Internet")]);
    // "no data would pass through the Microsoft cloud": litware's Edge only.
    assert_eq!(relays(&p, "office-users"), ["litware-edge"]);
}

#[test]
fn online_pstn_from_customer_network_is_expressroute() {
    let s = seed("online");
    let p = probe(&s, "online-pstn-internal");
    assert_rows(&p, &[row("office-users", "ExpressRoute", "ExpressRoute")]);
    let call = p.trace.call.as_ref().expect("a call");
    let host = call.host.expect("PSTN media goes somewhere");
    assert!(
        matches!(&s.topology.node(host).kind, NodeKind::Server(x) if x.kind == ServerKind::PhoneSystem),
        "media goes to the cloud Phone System"
    );
}

#[test]
fn online_pstn_from_internet_is_internet() {
    let s = seed("online");
    let p = probe(&s, "online-pstn-internet");
    assert_rows(&p, &[row("cafe-users", "Internet", "Internet")]);
    // "even if an Online Edge server is needed for connectivity"
    assert_eq!(relays(&p, "cafe-users"), ["us-east-online-edge"]);
}

// ----- Call flows for Skype for Business Hybrid ---------------------------------------

#[test]
fn hybrid_p2p_both_onprem_inside_is_local() {
    let s = seed("hybrid");
    let p = probe(&s, "hybrid-p2p-onprem");
    assert_rows(
        &p,
        &[
            row("onprem-users", "local", "local"),
            row("onprem-peers", "local", "local"),
        ],
    );
    assert_eq!(leg(&p, "onprem-users").media_path, "direct");
}

#[test]
fn hybrid_p2p_online_and_onprem_inside_only_online_signals_to_the_cloud() {
    let s = seed("hybrid");
    let p = probe(&s, "hybrid-p2p-online-onprem");
    assert_rows(
        &p,
        &[
            row("online-users", "ExpressRoute", "local"),
            row("onprem-users", "local", "local"),
        ],
    );
    assert_eq!(leg(&p, "online-users").media_path, "direct");
}

/// The Hybrid federated row's media "depends whether online or on-premises
/// edge server is used". Which Edge is used is which relay hears a client
/// from an address that client offered, since a relay admits only the
/// peers its owner sent to (MS-TURN's implicit permissions). In the annex,
/// on our own public addresses that the ExpressRoute NAT exempts, our
/// client's host address is what the partner's relay on the Online Edge
/// hears: one relay, the Online Edge, over our circuit.
#[test]
fn hybrid_p2p_federated_through_the_online_edge_is_expressroute() {
    let s = seed("hybrid");
    let p = probe(&s, "hybrid-p2p-federated-online-edge");
    assert_rows(
        &p,
        &[
            row("annex-users", "local", "ExpressRoute"),
            row("fabrikam-users", "ExpressRoute", "ExpressRoute"),
        ],
    );
    assert_eq!(relays(&p, "annex-users"), ["us-east-online-edge"]);
    assert_eq!(leg(&p, "annex-users").media_path, "relay");
}

/// The other outcome of the same row: adatum's users, on public addresses of
/// their own, may reach other companies' Edges, so our on-prem Edge hears
/// them from the address they offered and the pair through it (one relay,
/// above relay-relay in priority) wins: the partner's media reaches it over
/// the Internet, and our user's leg to its own Edge stays inside
/// (docs/seed-discrepancies.md, "one media column for two legs").
#[test]
fn hybrid_p2p_federated_through_the_onprem_edge_is_internet() {
    let s = seed("hybrid");
    let p = probe(&s, "hybrid-p2p-federated-onprem-edge");
    assert_rows(
        &p,
        &[
            row("onprem-users", "local", "local"),
            row("adatum-users", "ExpressRoute", "Internet"),
        ],
    );
    assert_eq!(relays(&p, "onprem-users"), ["sfb-edge"]);
    assert_eq!(leg(&p, "onprem-users").media_path, "relay");
}

/// Neither condition: our client reaches the Online Edge only through the
/// ExpressRoute NAT (an address it never offered) and fabrikam's users
/// cannot reach our Edge at all, so only the relays can talk to each other:
/// relay-relay through both Edges, which meet over our circuit (the Edge's
/// /28 is advertised on it) while our user's own leg stays local
/// (docs/seed-discrepancies.md, section 8).
#[test]
fn hybrid_p2p_federated_through_both_edges_when_neither_hears_the_other() {
    let s = seed("hybrid");
    let p = probe(&s, "hybrid-p2p-federated-both-edges");
    assert_rows(
        &p,
        &[
            row("onprem-users", "local", "local"),
            row("fabrikam-users", "ExpressRoute", "ExpressRoute"),
        ],
    );
    assert_eq!(leg(&p, "onprem-users").media_path, "relay-relay");
    assert_eq!(
        relays(&p, "onprem-users"),
        ["sfb-edge", "us-east-online-edge"]
    );
    let route = route_segments(&s.topology, &p, 0);
    assert!(
        route.contains(&Segment::ExpressRoute) && !route.contains(&Segment::Internet),
        "the Edges meet over the circuit, never the Internet: {route:?}"
    );
}

/// The table gives ExpressRoute signaling for the on-prem user: joining, the
/// client signals to the conference's focus, in the cloud, over the
/// circuit; its registration with its home pool (principle 4) stays local
/// (docs/seed-discrepancies.md, section 2).
#[test]
fn hybrid_join_conference_scheduled_by_online_user_is_expressroute() {
    let s = seed("hybrid");
    let p = probe(&s, "hybrid-conference-online");
    assert_rows(
        &p,
        &[
            row("online-users", "ExpressRoute", "ExpressRoute"),
            row("onprem-users", "ExpressRoute", "ExpressRoute"),
        ],
    );
    // The joiner allocates on the conference's Online Edge (principle 5).
    assert_eq!(relays(&p, "onprem-users"), ["us-east-online-edge"]);
    let hops = &leg(&p, "onprem-users").signaling_hops;
    assert_eq!(
        hops.iter()
            .filter(|h| h.node == "us-east-conferencing" || h.node == "fe-pool")
            .map(|h| h.node.as_str())
            .collect::<Vec<_>>(),
        ["us-east-conferencing", "fe-pool"],
        "to the focus, then registration with the home pool"
    );
}

#[test]
fn hybrid_pstn_through_the_onprem_gateway_is_local() {
    let s = seed("hybrid");
    let p = probe(&s, "hybrid-pstn");
    assert_rows(&p, &[row("onprem-users", "local", "local")]);
    let call = p.trace.call.as_ref().expect("a call");
    let host = call.host.expect("PSTN media goes somewhere");
    assert_eq!(s.topology.node(host).name, "pstn-gw", "media bypass");
}

// ----- Call flows for Skype for Business with Cloud Connector ---------------------------

/// The table gives `local` signaling; the section on Cloud Connector says
/// the client's signaling goes to the cloud over ExpressRoute and turns
/// round there (docs/seed-discrepancies.md). The prose's mechanism is tested.
#[test]
fn cce_pstn_from_customer_network_signals_through_the_cloud_media_local() {
    let s = seed("cloud-connector");
    let p = probe(&s, "cce-pstn-internal");
    assert_rows(&p, &[row("office-users", "ExpressRoute", "local")]);
    assert_eq!(leg(&p, "office-users").media_path, "direct");
}

#[test]
fn cce_pstn_from_internet_goes_through_the_cloud_connector_edge() {
    let s = seed("cloud-connector");
    let p = probe(&s, "cce-pstn-internet");
    assert_rows(&p, &[row("hotel-users", "Internet", "Internet")]);
    // "Internet users will connect via the Edge server that is included in
    // Cloud Connector".
    assert_eq!(relays(&p, "hotel-users"), ["cce-edge"]);
}

// ----- Example flows -------------------------------------------------------------------

#[test]
fn example_p2p_inside_the_network_is_direct() {
    let s = seed("online");
    let p = probe(&s, "example-p2p-inside");
    assert_rows(
        &p,
        &[
            row("office-peers", "ExpressRoute", "local"),
            row("office-users", "ExpressRoute", "local"),
        ],
    );
    // "the media flows directly between them"; the signaling of each goes
    // to the registrar of the region where it is homed, over the circuit.
    for l in &p.json.legs {
        assert_eq!(l.media_path, "direct", "{}", l.participant);
        assert!(l.relays.is_empty(), "{}", l.participant);
        let last = l.signaling_hops.last().expect("signaling hops");
        assert_eq!(last.node, "us-east-registrar", "{}", l.participant);
    }
}

#[test]
fn example_online_user_joining_an_online_meeting() {
    let s = seed("online");
    let p = probe(&s, "example-online-conference");
    assert_rows(
        &p,
        &[
            row("office-users", "ExpressRoute", "ExpressRoute"),
            row("office-peers", "ExpressRoute", "ExpressRoute"),
            row("cafe-users", "Internet", "Internet"),
        ],
    );
    let call = p.trace.call.as_ref().expect("a call");
    assert_eq!(
        s.topology.node(call.host.expect("hosted")).name,
        "us-east-conferencing",
        "hosted where the organizer is homed"
    );
    for l in &p.json.legs {
        assert_eq!(l.relays, ["us-east-online-edge"], "{}", l.participant);
    }
}

#[test]
fn example_conference_hosted_by_an_onprem_user_in_hybrid() {
    let s = seed("hybrid");
    let p = probe(&s, "example-onprem-conference");
    // "a direct media connection is possible, so ExpressRoute is used only
    // for signaling traffic for the Online homed user"; the home participant
    // comes in through the on-prem Edge (principle 6).
    assert_rows(
        &p,
        &[
            row("onprem-users", "local", "local"),
            row("online-users", "ExpressRoute", "local"),
            row("onprem-at-home", "Internet", "Internet"),
        ],
    );
    let call = p.trace.call.as_ref().expect("a call");
    assert_eq!(
        s.topology.node(call.host.expect("hosted")).name,
        "conf-server",
        "media for all users flows to the on-premises datacenter"
    );
    for who in ["onprem-users", "online-users"] {
        assert_eq!(leg(&p, who).media_path, "direct", "{who}");
    }
    assert_eq!(relays(&p, "onprem-at-home"), ["sfb-edge"]);
}

#[test]
fn example_onprem_edge_relays_an_online_conference_over_the_circuit() {
    let s = seed("hybrid");
    let p = probe(&s, "example-onprem-edge-online-conference");
    assert_rows(
        &p,
        &[
            row("online-users", "ExpressRoute", "ExpressRoute"),
            row("onprem-at-hotel", "Internet", "Internet"),
        ],
    );
    // The hotel blocks Microsoft: the on-prem Edge relays, and the media
    // "returns to your on-premises network before traversing the
    // ExpressRoute circuit to the cloud".
    let hotel = leg(&p, "onprem-at-hotel");
    assert_eq!(hotel.media_path, "relay-relay");
    assert_eq!(hotel.relays, ["sfb-edge", "us-east-online-edge"]);
    let i = p
        .json
        .legs
        .iter()
        .position(|l| l.participant == "onprem-at-hotel")
        .expect("the hotel participant");
    assert_eq!(
        route_segments(&s.topology, &p, i),
        [
            Segment::Internet,
            Segment::Customer,
            Segment::ExpressRoute,
            Segment::Microsoft
        ]
    );
}

#[test]
fn example_pstn_through_cloud_connector_turns_round_in_the_cloud() {
    let s = seed("cloud-connector");
    let p = probe(&s, "example-cce-pstn");
    assert_rows(&p, &[row("office-users", "ExpressRoute", "local")]);
    let t = &s.topology;
    let call = p.trace.call.as_ref().expect("a call");
    assert_eq!(t.node(call.host.expect("media endpoint")).name, "cce");
    // Client to the cloud over the circuit; the cloud turns the call round
    // and it terminates at the Cloud Connector (through its Edge).
    let sig = &call.legs[0].signaling;
    assert_eq!(sig.len(), 1);
    assert_eq!(t.node(sig[0].spec.to.node).name, "us-east-registrar");
    assert_eq!(call.server_signaling.len(), 1);
    let turn = &call.server_signaling[0];
    assert!(turn.verdict.is_ok());
    assert_eq!(t.node(turn.spec.from.node).name, "us-east-registrar");
    assert_eq!(t.node(turn.spec.to.node).name, "cce-edge");
}

#[test]
fn example_broadcast_inner_meeting_online_stream_over_the_internet() {
    let s = seed("online");
    let p = probe(&s, "example-broadcast");
    // The presenter's inner meeting is an Online conference; attendees talk
    // to the broadcast service (ExpressRoute-routable, catalog ID 13) and
    // pull the stream from the CDN, never over ExpressRoute.
    assert_rows(
        &p,
        &[
            row("office-users", "ExpressRoute", "ExpressRoute"),
            row("office-peers", "ExpressRoute", "Internet"),
            row("cafe-users", "Internet", "Internet"),
        ],
    );
    assert_eq!(relays(&p, "office-users"), ["us-east-online-edge"]);
    for who in ["office-peers", "cafe-users"] {
        let l = leg(&p, who);
        assert_eq!(l.transport, "tcp", "{who}");
        assert!(!l.segments.contains(&Segment::ExpressRoute), "{who}");
        assert_eq!(l.flow, "media to cdn", "{who}");
    }
}

// ----- The scenarios -----------------------------------------------------------------

/// Every row and example-flow section, by scenario: the probe that stands for it.
const ROWS: [(&str, &[&str]); 3] = [
    (
        "online",
        &[
            "online-p2p-internal",
            "online-p2p-internal-external",
            "online-p2p-federated",
            "online-conference-internal",
            "online-conference-internet",
            "online-conference-partner-onprem",
            "online-pstn-internal",
            "online-pstn-internet",
            "example-p2p-inside",
            "example-online-conference",
            "example-broadcast",
        ],
    ),
    (
        "hybrid",
        &[
            "hybrid-p2p-onprem",
            "hybrid-p2p-online-onprem",
            "hybrid-p2p-federated-online-edge",
            "hybrid-p2p-federated-onprem-edge",
            "hybrid-p2p-federated-both-edges",
            "hybrid-conference-online",
            "hybrid-pstn",
            "example-onprem-conference",
            "example-onprem-edge-online-conference",
        ],
    ),
    (
        "cloud-connector",
        &["cce-pstn-internal", "cce-pstn-internet", "example-cce-pstn"],
    ),
];

#[test]
fn each_seed_scenario_holds_one_probe_per_row_described_as_the_row() {
    for (name, probes) in ROWS {
        let s = seed(name);
        let got: Vec<&str> = s.scenario.probes.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(got, probes, "{name}");
        for p in &s.scenario.probes {
            let d = p.description.as_deref().unwrap_or_default();
            let prefix = match p.name.split('-').next() {
                Some("online") => "Online table: ",
                Some("hybrid") => "Hybrid table: ",
                Some("cce") => "Cloud Connector table: ",
                _ => "Example flow: ",
            };
            assert!(d.starts_with(prefix), "{}: {d}", p.name);
        }
        let topology = root().join("topologies/seed").join(format!("{name}.toml"));
        let text = std::fs::read_to_string(&topology).unwrap();
        assert!(
            text.starts_with("# Seed topology for the source document's"),
            "{name}: the topology opens by saying which rows it serves"
        );
    }
}

#[test]
fn seed_tables_is_the_online_seed_scenario() {
    let main = load(
        &root().join("topologies/seed/online.toml"),
        &root().join("scenarios/seed-tables.toml"),
    );
    let online = seed("online");
    let probes = |s: &Study| -> Vec<(String, Option<String>, String)> {
        s.scenario
            .probes
            .iter()
            .map(|p| {
                (
                    p.name.clone(),
                    p.description.clone(),
                    format!("{:?}", p.kind),
                )
            })
            .collect()
    };
    assert_eq!(probes(&main), probes(&online));
    let groups = |s: &Study| -> BTreeSet<String> {
        s.scenario.groups.iter().map(|g| g.name.clone()).collect()
    };
    assert_eq!(groups(&main), groups(&online));
}

#[test]
fn callflow_trace_prints_the_tables_back() {
    for (topology, scenario) in [
        ("topologies/seed/online.toml", "scenarios/seed-tables.toml"),
        ("topologies/seed/hybrid.toml", "scenarios/seed/hybrid.toml"),
        (
            "topologies/seed/cloud-connector.toml",
            "scenarios/seed/cloud-connector.toml",
        ),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_callflow"))
            .current_dir(root())
            .args(["trace", topology, scenario])
            .output()
            .expect("callflow runs");
        assert!(out.status.success(), "{scenario}");
        let text = String::from_utf8(out.stdout).expect("UTF-8");
        let study = load(&root().join(topology), &root().join(scenario));
        for p in &study.scenario.probes {
            assert!(text.contains(&format!("probe {} (", p.name)), "{}", p.name);
            let d = p.description.as_deref().expect("described");
            assert!(text.contains(d), "{}: description printed", p.name);
        }
        assert!(
            text.contains("    signaling ExpressRoute (ok)"),
            "{scenario}"
        );
    }
}

#[test]
fn the_discrepancies_page_names_only_tests_that_exist() {
    let doc = std::fs::read_to_string(root().join("docs/seed-discrepancies.md")).unwrap();
    let tests = std::fs::read_to_string(root().join("tests/seed_conformance.rs")).unwrap();
    let names: Vec<&str> = doc
        .split('`')
        .skip(1)
        .step_by(2)
        .filter(|w| {
            w.contains('_')
                && w.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_' || c.is_ascii_digit())
        })
        .collect();
    assert!(names.len() >= 8, "the page names the tests it relies on");
    for n in names {
        assert!(
            tests.contains(&format!("fn {n}()")),
            "docs/seed-discrepancies.md names {n}, which is not a test here"
        );
    }
}
