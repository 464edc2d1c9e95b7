//! The teaching lessons keep teaching what they were written to teach.
//!
//! Each lesson is a broken topology in `topologies/teaching/` with its fixed
//! twin, a scenario for each in `scenarios/teaching/`, and a page in
//! `docs/lessons/`. Here every lesson's probes are traced as `callflow
//! trace --format json` would print them, and the verdict (its word and its
//! text), the drop point and the segments each way are asserted; each fixed
//! twin must trace clean. The pages are held to the traces: the verdicts
//! they quote must be the ones a run prints.

use std::path::{Path, PathBuf};

use callflow::model::Segment;
use callflow::trace::{ProbeTrace, document, trace_probes};
use callflow::validate::{Study, load_study};
use serde_json::Value;

/// The lessons, by the stem of their files.
const LESSONS: [&str; 5] = [
    "asymmetric-a",
    "asymmetric-b",
    "inbound-no-snat",
    "proxy-signaling",
    "hotel-udp-blocked",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn scenario_path(name: &str) -> PathBuf {
    root()
        .join("scenarios/teaching")
        .join(format!("{name}.toml"))
}

/// The topology a scenario names, resolved relative to the scenario file.
fn topology_of(scenario: &Path) -> PathBuf {
    let text =
        std::fs::read_to_string(scenario).unwrap_or_else(|e| panic!("{}: {e}", scenario.display()));
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let rel = doc
        .get("topology")
        .and_then(toml::Value::as_str)
        .unwrap_or_else(|| panic!("{} has no `topology` key", scenario.display()));
    scenario.parent().unwrap().join(rel)
}

fn study(name: &str) -> Study {
    let scenario = scenario_path(name);
    load_study(&topology_of(&scenario), &scenario).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A scenario's probes traced, as structures and as the JSON document.
struct Traced {
    traces: Vec<ProbeTrace>,
    json: Value,
}

impl Traced {
    fn of(study: &Study, model: &str) -> Traced {
        let (t, s) = study
            .models(model)
            .unwrap_or_else(|| panic!("no model {model}"));
        let traces = trace_probes(t, s, None);
        let json = serde_json::to_value(document(t, s, &traces)).unwrap();
        Traced { traces, json }
    }

    fn lesson(name: &str) -> Traced {
        Traced::of(&study(name), "baseline")
    }

    /// The probe's one flow, as the JSON document has it.
    fn flow(&self, probe: &str) -> &Value {
        let p = self.json["probes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == probe)
            .unwrap_or_else(|| panic!("no probe {probe}"));
        let legs = p["legs"].as_array().unwrap();
        assert_eq!(legs.len(), 1, "{probe}: a flow probe has one flow");
        &legs[0]
    }

    /// The verdict's short word, from the traced flow.
    fn word(&self, probe: &str) -> &'static str {
        let p = self.traces.iter().find(|p| p.name == probe).unwrap();
        p.flows[0].1.verdict.word()
    }

    fn probes(&self) -> Vec<&str> {
        self.traces.iter().map(|p| p.name.as_str()).collect()
    }
}

fn text<'v>(v: &'v Value, key: &str) -> &'v str {
    v[key]
        .as_str()
        .unwrap_or_else(|| panic!("{key} is not a string in {v}"))
}

/// The segments a JSON field lists, as [`Segment`]s.
fn segments(v: &Value, key: &str) -> Vec<Segment> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            *Segment::ALL
                .iter()
                .find(|seg| seg.key() == s.as_str().unwrap())
                .unwrap_or_else(|| panic!("{s} is not a segment"))
        })
        .collect()
}

/// The names of the hops in a JSON hop list.
fn hop_names(v: &Value, key: &str) -> Vec<String> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| text(h, "node").to_string())
        .collect()
}

/// The first hop at `node` in a JSON hop list.
fn hop<'v>(v: &'v Value, key: &str, node: &str) -> &'v Value {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["node"] == node)
        .unwrap_or_else(|| panic!("{key} has no hop at {node}"))
}

fn decisions(hop: &Value) -> Vec<&str> {
    hop["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect()
}

/// A broken probe: its verdict word and text, where it broke.
#[track_caller]
fn assert_broken(t: &Traced, probe: &str, word: &str, verdict: &str, drop_at: &str) {
    let f = t.flow(probe);
    assert_eq!(t.word(probe), word, "{probe}");
    assert_eq!(text(f, "verdict"), verdict, "{probe}");
    assert_eq!(text(f, "drop_at"), drop_at, "{probe}");
}

/// A clean probe: ok, nothing dropped, the reply back the way it went.
#[track_caller]
fn assert_clean(t: &Traced, probe: &str, forward: &[Segment]) {
    let f = t.flow(probe);
    assert_eq!(t.word(probe), "ok", "{probe}: {}", text(f, "verdict"));
    assert_eq!(text(f, "verdict"), "ok", "{probe}");
    assert!(f["drop_at"].is_null(), "{probe}");
    assert_eq!(f["asymmetric"], false, "{probe}");
    assert_eq!(segments(f, "segments"), forward, "{probe}");
    let mut back = forward.to_vec();
    back.reverse();
    assert_eq!(segments(f, "return_segments"), back, "{probe}");
    // The reply retraces the first packet's elements exactly.
    let mut fwd = hop_names(f, "hops");
    fwd.reverse();
    if f["proxy"].is_null() {
        assert_eq!(hop_names(f, "return_hops"), fwd, "{probe}");
    }
}

use Segment::{Customer, ExpressRoute, Internet, Microsoft};

// ----- the files --------------------------------------------------------------

#[test]
fn every_lesson_has_a_fixed_twin_a_scenario_for_each_and_a_page() {
    for lesson in LESSONS {
        for name in [lesson.to_string(), format!("{lesson}-fixed")] {
            let topology = topology_of(&scenario_path(&name));
            assert_eq!(
                topology.canonicalize().unwrap(),
                root()
                    .join("topologies/teaching")
                    .join(format!("{name}.toml"))
                    .canonicalize()
                    .unwrap(),
                "scenarios/teaching/{name}.toml must name its own topology"
            );
        }
        assert!(
            root()
                .join("docs/lessons")
                .join(format!("{lesson}.md"))
                .is_file(),
            "docs/lessons/{lesson}.md"
        );
    }
    // Nothing in the directories that is not a lesson or a twin.
    for dir in ["topologies/teaching", "scenarios/teaching"] {
        let mut stems: Vec<String> = std::fs::read_dir(root().join(dir))
            .unwrap()
            .map(|e| {
                let p = e.unwrap().path();
                p.file_stem().unwrap().to_string_lossy().into_owned()
            })
            .collect();
        stems.sort();
        let mut want: Vec<String> = LESSONS
            .iter()
            .flat_map(|l| [l.to_string(), format!("{l}-fixed")])
            .collect();
        want.sort();
        assert_eq!(stems, want, "{dir}");
    }
}

#[test]
fn every_teaching_topology_opens_with_what_goes_wrong_why_and_the_fix() {
    for lesson in LESSONS {
        for (name, parts) in [
            (
                lesson.to_string(),
                ["What goes wrong:", "Why:", "How to fix it:"],
            ),
            (
                format!("{lesson}-fixed"),
                ["What went wrong there:", "Why this works:", "fixed"],
            ),
        ] {
            let path = root()
                .join("topologies/teaching")
                .join(format!("{name}.toml"));
            let text = std::fs::read_to_string(&path).unwrap();
            let header: String = text
                .lines()
                .take_while(|l| l.starts_with('#'))
                .collect::<Vec<_>>()
                .join("\n");
            assert!(header.starts_with("# Lesson"), "{name}: header first");
            for part in parts {
                assert!(header.contains(part), "{name}: the header says {part:?}");
            }
            let see = format!(
                "# See it: callflow trace topologies/teaching/{name}.toml scenarios/teaching/{name}.toml"
            );
            assert!(header.contains(&see), "{name}: {see}");
        }
    }
}

#[test]
fn every_lesson_page_quotes_the_verdicts_a_run_prints() {
    for lesson in LESSONS {
        let page = std::fs::read_to_string(root().join(format!("docs/lessons/{lesson}.md")))
            .unwrap_or_else(|e| panic!("{lesson}: {e}"));
        for name in [lesson.to_string(), format!("{lesson}-fixed")] {
            let command = format!(
                "callflow trace topologies/teaching/{name}.toml scenarios/teaching/{name}.toml"
            );
            assert!(page.contains(&command), "{lesson}.md shows `{command}`");
            let t = Traced::lesson(&name);
            for probe in t.probes() {
                let verdict = text(t.flow(probe), "verdict");
                assert!(
                    page.contains(&format!("verdict: {verdict}")),
                    "docs/lessons/{lesson}.md quotes {name}'s probe {probe}: `verdict: {verdict}`"
                );
            }
        }
    }
}

#[test]
fn every_fixed_twin_traces_clean() {
    for lesson in LESSONS {
        let name = format!("{lesson}-fixed");
        let t = Traced::lesson(&name);
        assert!(!t.probes().is_empty(), "{name} has probes");
        for probe in t.probes() {
            let f = t.flow(probe);
            assert_eq!(text(f, "verdict"), "ok", "{name}: {probe}");
            assert!(f["drop_at"].is_null(), "{name}: {probe}");
            assert_eq!(f["asymmetric"], false, "{name}: {probe}");
        }
    }
}

// ----- (A) the NAT pool not advertised on ExpressRoute ---------------------------

#[test]
fn asymmetric_a_reply_returns_over_the_internet_and_dies_at_inet_fw() {
    let t = Traced::lesson("asymmetric-a");
    assert_eq!(t.probes(), ["media"]);
    assert_broken(
        &t,
        "media",
        "return-dropped",
        "return-dropped: no session on inet-fw",
        "inet-fw",
    );
    let f = t.flow("media");
    assert_eq!(f["asymmetric"], true);
    assert_eq!(text(f, "signaling"), "ExpressRoute");
    assert_eq!(segments(f, "segments"), [Customer, ExpressRoute, Microsoft]);
    assert_eq!(segments(f, "return_segments"), [Microsoft, Internet]);
    // The session was opened on the other path's firewall.
    assert!(decisions(hop(f, "hops", "er-fw")).contains(&"session opened"));
    assert_eq!(
        hop_names(f, "return_hops").last().unwrap(),
        "inet-fw",
        "the reply ends at the Internet-side firewall"
    );
}

#[test]
fn asymmetric_a_fixed_each_pool_comes_back_its_own_way() {
    let t = Traced::lesson("asymmetric-a-fixed");
    assert_eq!(t.probes(), ["media", "web"]);
    assert_clean(&t, "media", &[Customer, ExpressRoute, Microsoft]);
    assert_clean(&t, "web", &[Customer, Internet]);
    let media = t.flow("media");
    assert!(
        decisions(hop(media, "hops", "er-nat"))
            .iter()
            .any(|d| d.starts_with("src 10.1.0.10:50000 -> 198.51.100.")),
        "media leaves from the ExpressRoute pool"
    );
    assert!(
        decisions(hop(media, "return_hops", "er-fw"))
            .iter()
            .any(|d| d.starts_with("matched session"))
    );
}

// ----- (B) one NAT pool advertised on both paths ----------------------------------

#[test]
fn asymmetric_b_reply_to_internet_traffic_returns_over_expressroute() {
    let t = Traced::lesson("asymmetric-b");
    assert_eq!(t.probes(), ["exchange", "media"]);
    assert_broken(
        &t,
        "exchange",
        "return-dropped",
        "return-dropped: no session on er-fw",
        "er-fw",
    );
    let f = t.flow("exchange");
    assert_eq!(f["asymmetric"], true);
    assert_eq!(text(f, "category"), "optimize");
    assert_eq!(segments(f, "segments"), [Customer, Internet, Microsoft]);
    assert_eq!(
        segments(f, "return_segments"),
        [Microsoft, ExpressRoute, Customer]
    );
    assert!(decisions(hop(f, "hops", "inet-fw")).contains(&"session opened"));
    // Microsoft chose the circuit on local preference over the Internet.
    let region = hop(f, "return_hops", "us-east");
    assert_eq!(region["route"]["local_pref"], 200);
    assert!(
        text(&region["route"], "why").contains("won on local preference"),
        "{region}"
    );
    // Teams itself works: the pool is advertised on the circuit.
    assert_clean(&t, "media", &[Customer, ExpressRoute, Microsoft]);
}

#[test]
fn asymmetric_b_fixed_exchange_goes_and_returns_over_the_internet() {
    let t = Traced::lesson("asymmetric-b-fixed");
    assert_eq!(t.probes(), ["exchange", "media"]);
    assert_clean(&t, "exchange", &[Customer, Internet, Microsoft]);
    assert_clean(&t, "media", &[Customer, ExpressRoute, Microsoft]);
}

// ----- (C) an inbound request without source NAT -----------------------------------

#[test]
fn inbound_no_snat_reply_leaves_over_expressroute_and_dies_at_er_fw() {
    let t = Traced::lesson("inbound-no-snat");
    assert_eq!(t.probes(), ["inbound"]);
    assert_broken(
        &t,
        "inbound",
        "return-dropped",
        "return-dropped: no session on er-fw",
        "er-fw",
    );
    let f = t.flow("inbound");
    assert_eq!(text(f, "flow"), "tcp 52.96.1.10:49152 -> 198.51.100.14:443");
    assert_eq!(segments(f, "segments"), [Microsoft, Internet, Customer]);
    assert_eq!(f["asymmetric"], true);
    // Only the destination is translated: the server sees Microsoft's address ...
    assert_eq!(
        decisions(hop(f, "hops", "inet-nat")),
        ["dst 198.51.100.14:443 -> 10.9.0.10:443"]
    );
    // ... and answers it by the route learned over the circuit.
    let adfs = hop(f, "return_hops", "adfs");
    assert_eq!(text(&adfs["route"], "prefix"), "52.96.0.0/16");
    assert!(text(&adfs["route"], "why").starts_with("learned over ExpressRoute er"));
    assert_eq!(
        hop_names(f, "return_hops"),
        ["adfs", "core", "split", "er-fw"]
    );
}

#[test]
fn inbound_no_snat_fixed_brings_the_reply_back_to_the_internet_nat() {
    let t = Traced::lesson("inbound-no-snat-fixed");
    assert_eq!(t.probes(), ["inbound", "media"]);
    let f = t.flow("inbound");
    // The request is source-NATed as well as destination-NATed ...
    let rewrite = decisions(hop(f, "hops", "inet-nat"));
    assert_eq!(rewrite.len(), 1);
    assert!(
        rewrite[0].starts_with("src 52.96.1.10:49152 -> 198.51.100.")
            && rewrite[0].ends_with(", dst 198.51.100.14:443 -> 10.9.0.10:443"),
        "{rewrite:?}"
    );
    // ... so the server answers a pool address, on inet-fw's session, and
    // inet-nat restores both addresses.
    let back = f["return_hops"].as_array().unwrap();
    assert!(text(&back[0], "tuple_in").starts_with("tcp 10.9.0.10:443 -> 198.51.100."));
    assert_eq!(
        hop_names(f, "return_hops")[..5],
        ["adfs", "core", "split", "inet-fw", "inet-nat"]
    );
    assert!(decisions(&back[3])[0].starts_with("matched session"));
    assert!(
        decisions(&back[4])[0]
            .starts_with("src 10.9.0.10:443 -> 198.51.100.14:443, dst 198.51.100.")
            && decisions(&back[4])[0].ends_with(" -> 52.96.1.10:49152"),
        "{:?}",
        decisions(&back[4])
    );
    assert_clean(&t, "media", &[Customer, ExpressRoute, Microsoft]);
}

/// The lesson's fix, end to end. `inet-nat`, having restored the reply's
/// destination (52.96.1.10), would route it by its own table, which holds
/// the ExpressRoute route to 52.96.0.0/16, and the reply would turn back
/// inside and die at `inet-fw`; it sends the reply on an inbound
/// source-NAT binding back out the way its request came in (reply-to).
#[test]
fn inbound_no_snat_fixed_traces_clean() {
    let t = Traced::lesson("inbound-no-snat-fixed");
    assert_clean(&t, "inbound", &[Microsoft, Internet, Customer]);
}

// ----- (D) a type 1 PAC and a TLS-inspecting proxy -----------------------------------

#[test]
fn proxy_signaling_tls_inspection_breaks_signaling_media_goes_over_expressroute() {
    let t = Traced::lesson("proxy-signaling");
    assert_eq!(t.probes(), ["signaling", "media", "web"]);
    assert_broken(
        &t,
        "signaling",
        "tls-inspection",
        "broken: TLS inspection at web-proxy breaks this allow flow (Microsoft requires Optimize and Allow traffic to bypass it)",
        "web-proxy",
    );
    let sig = t.flow("signaling");
    assert_eq!(text(sig, "proxy"), "web-proxy");
    assert_eq!(text(sig, "category"), "allow");
    assert_eq!(segments(sig, "segments"), [Customer]);
    // Media is Optimize: direct, over the circuit.
    assert_clean(&t, "media", &[Customer, ExpressRoute, Microsoft]);
    assert!(t.flow("media")["proxy"].is_null());
    // Default traffic through the proxy and out of its own Internet line.
    let web = t.flow("web");
    assert_eq!(text(web, "verdict"), "ok");
    assert_eq!(text(web, "proxy"), "web-proxy");
    assert_eq!(segments(web, "segments"), [Customer, Internet]);
}

#[test]
fn proxy_signaling_without_inspection_splits_signaling_and_media() {
    let study = study("proxy-signaling");
    let t = Traced::of(&study, "no-inspection");
    // Signaling works, but through the proxy and over the Internet ...
    let sig = t.flow("signaling");
    assert_eq!(text(sig, "verdict"), "ok");
    assert_eq!(text(sig, "proxy"), "web-proxy");
    assert_eq!(text(sig, "signaling"), "Internet");
    assert_eq!(segments(sig, "segments"), [Customer, Internet, Microsoft]);
    // The proxy's own connection (the second leg) leaves by its egress.
    let proxy_hops: Vec<&Value> = sig["hops"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["node"] == "web-proxy")
        .collect();
    assert_eq!(proxy_hops.len(), 2, "end of leg 1, start of leg 2");
    assert_eq!(decisions(proxy_hops[1]), ["leaves by its egress proxy-out"]);
    // ... while the same call's media crosses the circuit.
    let media = t.flow("media");
    assert_eq!(text(media, "media"), "ExpressRoute");
    assert_eq!(
        segments(media, "segments"),
        [Customer, ExpressRoute, Microsoft]
    );
}

#[test]
fn proxy_signaling_fixed_sends_signaling_direct_with_media() {
    let t = Traced::lesson("proxy-signaling-fixed");
    assert_eq!(t.probes(), ["signaling", "media", "web"]);
    assert_clean(&t, "signaling", &[Customer, ExpressRoute, Microsoft]);
    assert_clean(&t, "media", &[Customer, ExpressRoute, Microsoft]);
    assert!(t.flow("signaling")["proxy"].is_null());
    let web = t.flow("web");
    assert_eq!(text(web, "verdict"), "ok");
    assert_eq!(text(web, "proxy"), "web-proxy");
    assert_eq!(segments(web, "segments"), [Customer, Internet]);
    // Replies: proxy to client, then destination to proxy.
    assert_eq!(
        segments(web, "return_segments"),
        [Customer, Internet, Customer]
    );
}

// ----- (E) a hotel that blocks UDP ------------------------------------------------

#[test]
fn hotel_udp_blocked_udp_dies_at_the_hotel_firewall_tcp_works() {
    let t = Traced::lesson("hotel-udp-blocked");
    assert_eq!(t.probes(), ["media-udp", "media-tcp"]);
    assert_broken(
        &t,
        "media-udp",
        "dropped",
        "dropped: denied by rule 1: deny udp any -> any (guest Wi-Fi allows web traffic only) on hotel-fw",
        "hotel-fw",
    );
    let udp = t.flow("media-udp");
    assert_eq!(hop_names(udp, "hops"), ["hotel", "hotel-fw"]);
    assert!(udp["return_hops"].as_array().unwrap().is_empty());
    assert_clean(&t, "media-tcp", &[Internet, Microsoft]);
}

#[test]
fn hotel_udp_blocked_fixed_media_uses_udp() {
    let t = Traced::lesson("hotel-udp-blocked-fixed");
    assert_eq!(t.probes(), ["media-udp", "media-tcp"]);
    assert_clean(&t, "media-udp", &[Internet, Microsoft]);
    assert_clean(&t, "media-tcp", &[Internet, Microsoft]);
    let fw = hop(t.flow("media-udp"), "hops", "hotel-fw");
    assert_eq!(
        decisions(fw),
        [
            "allowed by rule 1: allow udp any -> set:skype-teams-media port 3478-3481 (Teams and Skype media relays)",
            "session opened"
        ]
    );
}
