//! `callflow trace`: a scenario's probes, traced hop by hop, as text and JSON.
//!
//! Owns turning probes into traces and traces into the two outputs: a
//! teaching text (every hop, every decision, one verdict line) and a stable
//! JSON document (documented in `docs/trace-json.md`; checks outside the
//! project read it, so fields are only ever added).
//!
//! Leaves out drawing: [`crate::render`] draws a traced path over the four
//! segment lanes.

use std::fmt::Write;
use std::net::IpAddr;

use serde::Serialize;

use crate::calls::{CallTrace, trace_call};
use crate::endpoints::{EndpointCatalog, Service};
use crate::ice::IceOutcome;
use crate::model::{FlowEnd, NodeKind, PathLabel, Probe, ProbeKind, Scenario, Segment, Topology};
use crate::net::flow::{
    End, FlowSpec, FlowTrace, VerdictText, address_for, client_port, trace_flow,
};
use crate::net::packet::TrafficClass;
use crate::net::routing::{NextHop, Routing};
use crate::net::walk::{Hop, NetState, Outcome, Walk};
use crate::time::SimTime;

/// One probe, traced.
#[derive(Debug, Clone)]
pub struct ProbeTrace {
    /// The probe's name.
    pub name: String,
    /// Its kind word (`flow`, `peer-to-peer`, …).
    pub kind: &'static str,
    /// What it shows.
    pub description: Option<String>,
    /// Who is on each flow, and the flow (flow probes).
    pub flows: Vec<(String, FlowTrace)>,
    /// The call (call probes).
    pub call: Option<CallTrace>,
}

/// Traces every probe (or only `only`), each in a fresh network state.
pub fn trace_probes(t: &Topology, s: &Scenario, only: Option<&str>) -> Vec<ProbeTrace> {
    let routing = Routing::compute(t, &Default::default());
    s.probes
        .iter()
        .filter(|p| only.is_none_or(|o| o == p.name))
        .filter_map(|p| trace_probe(t, s, &routing, p))
        .collect()
}

fn trace_probe(t: &Topology, s: &Scenario, routing: &Routing, p: &Probe) -> Option<ProbeTrace> {
    let mut state = NetState::default();
    match &p.kind {
        ProbeKind::Flow {
            from,
            to,
            protocol,
            port,
            ipv6,
        } => {
            let (from_end, from_name, pac) = resolve(t, s, *from, None, *ipv6)?;
            let (to_end, _, _) = resolve(t, s, *to, Some(from_end.node), *ipv6)?;
            let class = flow_class(t.catalog, to_end.addr, *protocol, *port);
            let spec = FlowSpec {
                from: from_end,
                to: to_end,
                protocol: *protocol,
                src_port: client_port(class),
                dst_port: *port,
                class,
                pac,
            };
            let flow = trace_flow(t, routing, &mut state, spec, SimTime::ZERO);
            Some(ProbeTrace {
                name: p.name.clone(),
                kind: "flow",
                description: p.description.clone(),
                flows: vec![(from_name, flow)],
                call: None,
            })
        }
        call => {
            let trace = trace_call(t, s, routing, call, SimTime::ZERO)?;
            Some(ProbeTrace {
                name: p.name.clone(),
                kind: trace.kind,
                description: p.description.clone(),
                flows: vec![],
                call: Some(trace),
            })
        }
    }
}

/// What a flow probe carries: what the endpoint catalog says its
/// destination serves, where the catalog knows the address on that
/// protocol and port; otherwise judged by its port, as a firewall would.
///
/// The catalog decides first because ports are ambiguous: TCP 443 is
/// signaling to Microsoft's Skype/Teams addresses but web traffic to
/// Exchange Online or a CDN, and UDP 3478 to a media relay carries the
/// relayed media itself, not just a connectivity check.
fn flow_class(
    catalog: &EndpointCatalog,
    dst: IpAddr,
    protocol: crate::model::Protocol,
    port: u16,
) -> TrafficClass {
    use crate::model::Protocol;
    if let Some(set) = catalog.classify(dst, protocol, port) {
        return match set.service {
            // Real-time media relays, and on-premises Edges' media to them.
            Service::Media | Service::HybridMedia => TrafficClass::Audio,
            // SIP/HTTPS to the service, the broadcast service's own
            // endpoints, and the Skype consumer service (federation, IM).
            Service::Signaling | Service::Broadcast | Service::Consumer => TrafficClass::Signaling,
            Service::Cdn => TrafficClass::Streaming,
            Service::QuickTips | Service::OtherWorkload => TrafficClass::Web,
            Service::Telemetry | Service::Crl | Service::Dns => TrafficClass::Dependency,
        };
    }
    match (protocol, port) {
        (Protocol::Udp, 3478..=3481) | (Protocol::Tcp, 3478..=3481) => TrafficClass::Stun,
        (Protocol::Udp, 50_000..=59_999) => TrafficClass::Audio,
        (Protocol::Udp, 53) | (Protocol::Tcp, 53) => TrafficClass::Dependency,
        (Protocol::Tcp, 443) | (Protocol::Tcp, 5061) => TrafficClass::Signaling,
        (Protocol::Tcp, 80) => TrafficClass::Web,
        _ => TrafficClass::Audio,
    }
}

/// A flow end: the element, its address, a name for people, and the PAC
/// its clients follow.
fn resolve(
    t: &Topology,
    s: &Scenario,
    end: FlowEnd,
    towards_from: Option<crate::model::NodeId>,
    v6: bool,
) -> Option<(End, String, Option<crate::model::PacId>)> {
    match end {
        FlowEnd::Group(g) => {
            let group = s.group(g);
            let addr = if v6 { group.address_v6? } else { group.address };
            let pac = match &t.node(group.lan).kind {
                NodeKind::Site(site) => site.pac,
                _ => None,
            };
            Some((
                End {
                    node: group.lan,
                    addr,
                },
                group.name.clone(),
                pac,
            ))
        }
        FlowEnd::Node(n) => {
            let from = towards_from.unwrap_or(n);
            let addr = address_for(t, from, n, v6)?;
            let pac = match &t.node(n).kind {
                NodeKind::Site(site) => site.pac,
                _ => None,
            };
            Some((End { node: n, addr }, t.node(n).name.clone(), pac))
        }
    }
}

// ----- text ----------------------------------------------------------------

/// The teaching text for a set of traces.
pub fn render_text(t: &Topology, traces: &[ProbeTrace]) -> String {
    let mut out = String::new();
    for p in traces {
        let _ = writeln!(out, "probe {} ({})", p.name, p.kind);
        if let Some(d) = &p.description {
            let _ = writeln!(out, "  {d}");
        }
        for (who, f) in &p.flows {
            write_flow(&mut out, t, who, f);
        }
        if let Some(call) = &p.call {
            write_call(&mut out, t, call);
        }
        out.push('\n');
    }
    out
}

fn write_call(out: &mut String, t: &Topology, call: &CallTrace) {
    if let Some(h) = &call.hosting {
        let _ = writeln!(out, "  hosting: {h}");
    }
    for (i, leg) in call.legs.iter().enumerate() {
        let _ = writeln!(out, "  {}:", leg.participant);
        let sig_ok = leg.signaling_ok();
        let _ = writeln!(
            out,
            "    signaling {} ({})",
            leg.signaling_label(t),
            if leg.signaling.is_empty() {
                "no home server".to_string()
            } else if sig_ok {
                "ok".into()
            } else {
                "failed".into()
            }
        );
        for f in &leg.signaling {
            let _ = writeln!(
                out,
                "      {}: {}",
                f.legs
                    .first()
                    .map(|l| l.tuple.to_string())
                    .unwrap_or_default(),
                path_names(t, f)
            );
            if !f.verdict.is_ok() {
                let _ = writeln!(
                    out,
                    "      ✗ {}",
                    VerdictText {
                        topology: t,
                        verdict: &f.verdict
                    }
                );
            }
        }
        match call.media_summary(t, i) {
            None => {
                let _ = writeln!(out, "    media: none");
            }
            Some(m) => {
                let relays: Vec<&str> = m.relays.iter().map(|r| t.node(*r).name.as_str()).collect();
                let _ = writeln!(
                    out,
                    "    media {}: {} {}{}",
                    m.label,
                    m.path.map(|p| p.word()).unwrap_or("none"),
                    m.protocol.map(|p| p.to_string()).unwrap_or_default(),
                    if relays.is_empty() {
                        String::new()
                    } else {
                        format!(" via {}", relays.join(" and "))
                    }
                );
                for w in &m.walks {
                    let _ = writeln!(out, "      {}", walk_names(t, w));
                }
                if m.asymmetric() {
                    let back: Vec<String> =
                        m.return_walks.iter().map(|w| walk_names(t, w)).collect();
                    let _ = writeln!(
                        out,
                        "      asymmetric: media comes back by {}",
                        back.join(", ")
                    );
                }
                if m.verdict != "ok" {
                    let _ = writeln!(out, "      ✗ {}", m.verdict);
                }
                if let Some(crate::calls::MediaVia::Ice {
                    negotiation,
                    controlling,
                }) = leg.media.as_ref().map(|m| &m.via)
                {
                    let j = ice_json(&call.negotiations[*negotiation], *controlling);
                    let _ = writeln!(out, "      candidates: {}", j.candidates.join(", "));
                    let _ = writeln!(
                        out,
                        "      checks: {} sent, {} succeeded",
                        j.checks, j.succeeded
                    );
                    for pair in &j.pairs {
                        let _ = writeln!(out, "        {pair}");
                    }
                    if let Some(n) = &j.nominated {
                        let _ = writeln!(out, "      nominated: {n}");
                    }
                    for note in &j.notes {
                        let _ = writeln!(out, "      note: {note}");
                    }
                }
            }
        }
        for d in &leg.dependencies {
            let _ = writeln!(
                out,
                "    dependency {} {}: {} ({})",
                d.spec.protocol,
                d.spec.dst_port,
                d.label(t),
                VerdictText {
                    topology: t,
                    verdict: &d.verdict
                }
            );
        }
    }
    for f in &call.server_signaling {
        let _ = writeln!(
            out,
            "  server signaling: {} ({})",
            path_names(t, f),
            VerdictText {
                topology: t,
                verdict: &f.verdict
            }
        );
    }
}

/// `hq -> hq-core -> … -> us-east-registrar [customer, expressroute, microsoft]`
fn path_names(t: &Topology, f: &FlowTrace) -> String {
    f.legs
        .iter()
        .map(|l| walk_names(t, &l.forward))
        .collect::<Vec<_>>()
        .join(" | ")
}

fn walk_names(t: &Topology, w: &Walk) -> String {
    let names: Vec<&str> = w
        .hops
        .iter()
        .map(|h| t.node(h.node).name.as_str())
        .collect();
    let segments = dedup(&w.segments(t).collect::<Vec<_>>());
    format!("{} [{}]", names.join(" -> "), segment_list(&segments))
}

fn write_flow(out: &mut String, t: &Topology, who: &str, f: &FlowTrace) {
    let _ = writeln!(
        out,
        "  {who}: {} {} {} -> {} ({}, {})",
        f.spec.class.word(),
        f.spec.protocol,
        f.legs
            .first()
            .map(|l| l.tuple.src.to_string())
            .unwrap_or_default(),
        f.legs
            .first()
            .map(|l| l.tuple.dst.to_string())
            .unwrap_or_default(),
        f.category,
        f.proxy
            .map(|p| format!("via proxy {}", t.node(p).name))
            .unwrap_or_else(|| "direct".into())
    );
    if let Some(rule) = &f.pac_rule {
        let _ = writeln!(out, "    {rule}");
    }
    for (i, leg) in f.legs.iter().enumerate() {
        let title = if f.legs.len() > 1 {
            format!(" (leg {} of {})", i + 1, f.legs.len())
        } else {
            String::new()
        };
        let _ = writeln!(out, "    forward{title}: {}", leg.tuple);
        write_walk(out, t, &leg.forward);
        if let Some(back) = &leg.back {
            let first = back
                .hops
                .first()
                .map(|h| h.tuple_in.to_string())
                .unwrap_or_default();
            let _ = writeln!(out, "    return{title}: {first}");
            write_walk(out, t, back);
        }
    }
    let fwd = f.forward_segments(t);
    let back = f.return_segments(t);
    let _ = writeln!(
        out,
        "    segments: {} — label {}",
        segment_list(&dedup(&fwd)),
        f.label(t)
    );
    if f.asymmetric() {
        let _ = writeln!(
            out,
            "    asymmetric: the reply came back by {}",
            segment_list(&dedup(&back))
        );
    }
    let _ = writeln!(
        out,
        "    verdict: {}",
        VerdictText {
            topology: t,
            verdict: &f.verdict
        }
    );
}

fn write_walk(out: &mut String, t: &Topology, w: &Walk) {
    for (i, hop) in w.hops.iter().enumerate() {
        let node = t.node(hop.node);
        let _ = writeln!(
            out,
            "      {:>2}. {} ({})",
            i + 1,
            node.name,
            node.kind_word()
        );
        for d in &hop.decisions {
            let _ = writeln!(out, "          {d}");
        }
        if let Some(r) = &hop.route
            && let NextHop::Link(l) = r.next
        {
            let _ = writeln!(
                out,
                "          route {} via {}: {}",
                r.prefix,
                t.link(l).name,
                r.why(t)
            );
        }
        if let Some(l) = hop.left_by {
            let link = t.link(l);
            let _ = writeln!(out, "          ──{} [{}]──▶", link.name, link.segment);
        }
    }
    match &w.outcome {
        Outcome::Delivered { .. } => {
            let _ = writeln!(out, "          delivered");
        }
        Outcome::Dropped { node, reason } => {
            let _ = writeln!(
                out,
                "          ✗ dropped: {}",
                crate::net::walk::DropText {
                    topology: t,
                    node: *node,
                    reason
                }
            );
        }
    }
}

fn dedup(segments: &[Segment]) -> Vec<Segment> {
    let mut v: Vec<Segment> = Vec::new();
    for s in segments {
        if v.last() != Some(s) {
            v.push(*s);
        }
    }
    v
}

fn segment_list(segments: &[Segment]) -> String {
    if segments.is_empty() {
        return "none (same LAN)".into();
    }
    segments
        .iter()
        .map(|s| s.key())
        .collect::<Vec<_>>()
        .join(" → ")
}

// ----- JSON ----------------------------------------------------------------

/// The JSON document `callflow trace --format json` prints.
#[derive(Serialize)]
pub struct TraceDocument {
    /// Format version; bumped only when a field changes meaning.
    pub version: u32,
    /// The topology's name.
    pub topology: String,
    /// The scenario's name.
    pub scenario: String,
    /// Every probe traced.
    pub probes: Vec<ProbeJson>,
}

/// One probe in the JSON document.
#[derive(Serialize)]
pub struct ProbeJson {
    /// Its name.
    pub name: String,
    /// Its kind.
    pub kind: &'static str,
    /// What it shows.
    pub description: Option<String>,
    /// One entry per participant (calls) or flow (flow probes).
    pub legs: Vec<LegJson>,
    /// Where a conference is hosted and why (calls).
    pub hosting: Option<String>,
}

/// One participant's flow.
#[derive(Serialize)]
pub struct LegJson {
    /// The user group or element, as written in the scenario.
    pub participant: String,
    /// Path label of its signaling (for a flow probe: of the flow).
    pub signaling: PathLabel,
    /// Path label of its media, or `none`.
    pub media: String,
    /// `direct`, `nat`, `relay` or `relay-relay`.
    pub media_path: &'static str,
    /// `udp` or `tcp`.
    pub transport: String,
    /// The relays (Edges) media went through.
    pub relays: Vec<String>,
    /// `ok`, or what broke: `dropped: …`, `return-dropped: no session on hq-fw`, …
    pub verdict: String,
    /// The first packet's hops (through a proxy: both legs in order).
    pub hops: Vec<HopJson>,
    /// The reply's hops.
    pub return_hops: Vec<HopJson>,
    /// The flow: `udp 10.1.0.10:50000 -> 52.112.1.10:3478`.
    pub flow: String,
    /// What it carries.
    pub class: &'static str,
    /// The destination's catalog category.
    pub category: String,
    /// The proxy it went through.
    pub proxy: Option<String>,
    /// Segments crossed forward, in order (consecutive repeats merged).
    pub segments: Vec<Segment>,
    /// Segments crossed by the reply.
    pub return_segments: Vec<Segment>,
    /// Whether the reply came back by other links.
    pub asymmetric: bool,
    /// Where the flow broke, if it did.
    pub drop_at: Option<String>,
    /// Calls: the signaling flows' hops (to the home server, or Edge then server).
    pub signaling_hops: Vec<HopJson>,
    /// Calls: ICE detail for this participant's media.
    pub ice: Option<IceJson>,
}

/// ICE detail in the JSON document.
#[derive(Serialize)]
pub struct IceJson {
    /// The participant's candidates.
    pub candidates: Vec<String>,
    /// The peer's candidates (as learned, peer-reflexive included).
    pub peer_candidates: Vec<String>,
    /// Checks sent by either side.
    pub checks: usize,
    /// Checks that succeeded.
    pub succeeded: usize,
    /// Every check, in the order sent: who sent it, the pair, and how it fared.
    pub pairs: Vec<String>,
    /// The nominated pair, `local <-> remote`, and why it won.
    pub nominated: Option<String>,
    /// Time from gathering to nomination, in milliseconds.
    pub setup_ms: f64,
    /// What gathering could not get.
    pub notes: Vec<String>,
}

/// One hop in the JSON document.
#[derive(Serialize)]
pub struct HopJson {
    /// The element.
    pub node: String,
    /// Its kind.
    pub kind: &'static str,
    /// The link the packet arrived by.
    pub in_link: Option<String>,
    /// The link it left by.
    pub out_link: Option<String>,
    /// The segment of the link it left by.
    pub segment: Option<Segment>,
    /// The packet as it arrived.
    pub tuple_in: String,
    /// The packet as it left.
    pub tuple_out: String,
    /// The route chosen.
    pub route: Option<RouteJson>,
    /// What the element decided (rule matched, NAT rewrite, session).
    pub decisions: Vec<String>,
    /// `forwarded`, `delivered` or `dropped: …`.
    pub result: String,
}

/// A route in the JSON document.
#[derive(Serialize)]
pub struct RouteJson {
    /// The matching prefix.
    pub prefix: String,
    /// The link it leads to, or `local`.
    pub next: String,
    /// Its local preference.
    pub local_pref: u32,
    /// Its cost.
    pub cost: u32,
    /// Why it won.
    pub why: String,
}

/// Builds the JSON document.
pub fn document(t: &Topology, s: &Scenario, traces: &[ProbeTrace]) -> TraceDocument {
    TraceDocument {
        version: 1,
        topology: t.name.clone(),
        scenario: s.name.clone(),
        probes: traces
            .iter()
            .map(|p| ProbeJson {
                name: p.name.clone(),
                kind: p.kind,
                description: p.description.clone(),
                legs: match &p.call {
                    Some(call) => call_json(t, call),
                    None => p
                        .flows
                        .iter()
                        .map(|(who, f)| flow_json(t, who, f))
                        .collect(),
                },
                hosting: p.call.as_ref().and_then(|c| c.hosting.clone()),
            })
            .collect(),
    }
}

fn flow_json(t: &Topology, who: &str, f: &FlowTrace) -> LegJson {
    let label = f.label(t);
    let hops = f
        .legs
        .iter()
        .flat_map(|l| hops_json(t, &l.forward))
        .collect();
    let return_hops = f
        .legs
        .iter()
        .flat_map(|l| l.back.iter().flat_map(|b| hops_json(t, b)))
        .collect();
    LegJson {
        participant: who.to_string(),
        signaling: label,
        media: if f.spec.class.is_media() || f.spec.class == TrafficClass::Stun {
            label.to_string()
        } else {
            "none".into()
        },
        media_path: "direct",
        transport: f.spec.protocol.to_string(),
        relays: vec![],
        verdict: VerdictText {
            topology: t,
            verdict: &f.verdict,
        }
        .to_string(),
        hops,
        return_hops,
        flow: f
            .legs
            .first()
            .map(|l| l.tuple.to_string())
            .unwrap_or_default(),
        class: f.spec.class.word(),
        category: f.category.to_string(),
        proxy: f.proxy.map(|p| t.node(p).name.clone()),
        segments: dedup(&f.forward_segments(t)),
        return_segments: dedup(&f.return_segments(t)),
        asymmetric: f.asymmetric(),
        drop_at: f.verdict.at().map(|n| t.node(n).name.clone()),
        signaling_hops: vec![],
        ice: None,
    }
}

fn call_json(t: &Topology, call: &CallTrace) -> Vec<LegJson> {
    call.legs
        .iter()
        .enumerate()
        .map(|(i, leg)| {
            let media = call.media_summary(t, i);
            let signaling_hops: Vec<HopJson> = leg
                .signaling
                .iter()
                .flat_map(|f| f.legs.iter().flat_map(|l| hops_json(t, &l.forward)))
                .collect();
            let signaling_verdict = leg
                .signaling
                .iter()
                .map(|f| &f.verdict)
                .find(|v| !v.is_ok());
            let verdict = match (signaling_verdict, &media, leg.signaling.is_empty()) {
                (_, _, true) => "no home server for this participant".to_string(),
                (Some(v), _, _) => format!(
                    "signaling {}",
                    VerdictText {
                        topology: t,
                        verdict: v
                    }
                ),
                (None, Some(m), _) => m.verdict.clone(),
                (None, None, _) => "ok".to_string(),
            };
            let ice = match leg.media.as_ref().map(|m| &m.via) {
                Some(crate::calls::MediaVia::Ice {
                    negotiation,
                    controlling,
                }) => Some(ice_json(&call.negotiations[*negotiation], *controlling)),
                _ => None,
            };
            let (hops, segments, return_hops, return_segments) = match &media {
                Some(m) => (
                    walks_hops(t, &m.walks),
                    walks_segments(t, &m.walks),
                    walks_hops(t, &m.return_walks),
                    walks_segments(t, &m.return_walks),
                ),
                None => Default::default(),
            };
            LegJson {
                participant: leg.participant.clone(),
                signaling: leg.signaling_label(t),
                media: media
                    .as_ref()
                    .map(|m| m.label.to_string())
                    .unwrap_or_else(|| "none".into()),
                media_path: media
                    .as_ref()
                    .and_then(|m| m.path)
                    .map(|p| p.word())
                    .unwrap_or("none"),
                transport: media
                    .as_ref()
                    .and_then(|m| m.protocol)
                    .map(|p| p.to_string())
                    .unwrap_or_else(|| "none".into()),
                relays: media
                    .as_ref()
                    .map(|m| m.relays.iter().map(|r| t.node(*r).name.clone()).collect())
                    .unwrap_or_default(),
                verdict,
                hops,
                return_hops,
                flow: leg
                    .media
                    .as_ref()
                    .map(|m| format!("media to {}", m.peer))
                    .unwrap_or_default(),
                class: "audio",
                category: String::new(),
                proxy: None,
                segments,
                return_segments,
                asymmetric: media.as_ref().is_some_and(|m| m.asymmetric()),
                drop_at: None,
                signaling_hops,
                ice,
            }
        })
        .collect()
}

/// The hops of consecutive walks, as one list.
fn walks_hops(t: &Topology, walks: &[Walk]) -> Vec<HopJson> {
    walks.iter().flat_map(|w| hops_json(t, w)).collect()
}

/// The segments consecutive walks crossed, consecutive repeats merged.
fn walks_segments(t: &Topology, walks: &[Walk]) -> Vec<Segment> {
    dedup(&walks.iter().flat_map(|w| w.segments(t)).collect::<Vec<_>>())
}

fn candidate_text(c: &crate::ice::Candidate) -> String {
    format!("{} {} {}", c.kind, c.transport.transport(), c.addr)
}

fn ice_json(ice: &IceOutcome, controlling: bool) -> IceJson {
    let (own, peer) = if controlling {
        (&ice.local, &ice.remote)
    } else {
        (&ice.remote, &ice.local)
    };
    let notes = if controlling {
        &ice.gathering_notes.0
    } else {
        &ice.gathering_notes.1
    };
    IceJson {
        candidates: own.iter().map(candidate_text).collect(),
        peer_candidates: peer.iter().map(candidate_text).collect(),
        checks: ice.checks.len(),
        succeeded: ice.checks.iter().filter(|c| c.result.is_ok()).count(),
        pairs: ice
            .checks
            .iter()
            .map(|c| {
                let (from, to) = if c.by_controlling {
                    (&ice.local, &ice.remote)
                } else {
                    (&ice.remote, &ice.local)
                };
                let local = from.get(c.local).map(candidate_text).unwrap_or_default();
                let remote = to.get(c.remote).map(candidate_text).unwrap_or_default();
                let who = if c.by_controlling == controlling {
                    "sent"
                } else {
                    "peer sent"
                };
                let result = match &c.result {
                    Ok(()) => "succeeded".to_string(),
                    Err(why) => format!("failed: {why}"),
                };
                format!(
                    "{} {who}{}: {local} -> {remote}: {result}",
                    c.at,
                    if c.triggered { " (triggered)" } else { "" }
                )
            })
            .collect(),
        nominated: ice.nominated.map(|n| {
            format!(
                "{} {} <-> {} {} ({}, priority {}: the highest-priority pair that succeeded)",
                n.local_kind,
                ice.local[n.local].addr,
                n.remote_kind,
                ice.remote
                    .get(n.remote)
                    .map(|c| c.addr.to_string())
                    .unwrap_or_default(),
                n.path.word(),
                n.priority
            )
        }),
        setup_ms: ice.setup_time.as_millis_f64(),
        notes: notes.clone(),
    }
}

fn hops_json(t: &Topology, w: &Walk) -> Vec<HopJson> {
    let last = w.hops.len().saturating_sub(1);
    w.hops
        .iter()
        .enumerate()
        .map(|(i, h)| hop_json(t, h, if i == last { Some(&w.outcome) } else { None }))
        .collect()
}

fn hop_json(t: &Topology, h: &Hop, end: Option<&Outcome>) -> HopJson {
    let node = t.node(h.node);
    HopJson {
        node: node.name.clone(),
        kind: node.kind_word(),
        in_link: h.arrived_by.map(|l| t.link(l).name.clone()),
        out_link: h.left_by.map(|l| t.link(l).name.clone()),
        segment: h.left_by.map(|l| t.link(l).segment),
        tuple_in: h.tuple_in.to_string(),
        tuple_out: h.tuple_out.to_string(),
        route: h.route.as_ref().map(|r| RouteJson {
            prefix: r.prefix.to_string(),
            next: match r.next {
                NextHop::Local => "local".into(),
                NextHop::Link(l) => t.link(l).name.clone(),
            },
            local_pref: r.local_pref,
            cost: r.cost,
            why: r.why(t),
        }),
        decisions: h.decisions.iter().map(|d| d.to_string()).collect(),
        result: match end {
            None => "forwarded".into(),
            Some(Outcome::Delivered { .. }) => "delivered".into(),
            Some(Outcome::Dropped { node, reason }) => {
                format!(
                    "dropped: {}",
                    crate::net::walk::DropText {
                        topology: t,
                        node: *node,
                        reason
                    }
                )
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Protocol;

    fn class(ip: &str, protocol: Protocol, port: u16) -> TrafficClass {
        flow_class(
            EndpointCatalog::builtin(),
            ip.parse().unwrap(),
            protocol,
            port,
        )
    }

    #[test]
    fn the_catalog_decides_where_it_knows_the_destination() {
        // Teams media relays on their TURN ports carry media ...
        assert_eq!(
            class("52.112.1.10", Protocol::Udp, 3478),
            TrafficClass::Audio
        );
        // ... the same addresses on TCP 443 are signaling ...
        assert_eq!(
            class("52.112.1.10", Protocol::Tcp, 443),
            TrafficClass::Signaling
        );
        // ... and HTTPS to Exchange Online or the broadcast CDN is not.
        assert_eq!(class("52.96.1.10", Protocol::Tcp, 443), TrafficClass::Web);
        assert_eq!(
            class("203.0.113.5", Protocol::Tcp, 443),
            TrafficClass::Streaming
        );
        // Internet-only dependencies the catalog lists: telemetry over HTTPS, DNS.
        assert_eq!(
            class("203.0.113.100", Protocol::Tcp, 443),
            TrafficClass::Dependency
        );
        assert_eq!(
            class("203.0.113.170", Protocol::Udp, 53),
            TrafficClass::Dependency
        );
        // Hybrid media from an on-premises Edge to the Online service.
        assert_eq!(
            class("52.112.1.10", Protocol::Udp, 50_010),
            TrafficClass::Audio
        );
    }

    #[test]
    fn ports_decide_where_the_catalog_does_not_know_the_destination() {
        // An on-premises Edge, a partner, a private server.
        assert_eq!(
            class("198.51.100.100", Protocol::Udp, 3478),
            TrafficClass::Stun
        );
        assert_eq!(
            class("198.51.100.100", Protocol::Tcp, 5061),
            TrafficClass::Signaling
        );
        assert_eq!(
            class("10.9.0.10", Protocol::Tcp, 443),
            TrafficClass::Signaling
        );
        assert_eq!(class("10.9.0.10", Protocol::Tcp, 80), TrafficClass::Web);
        assert_eq!(
            class("10.9.0.10", Protocol::Udp, 53),
            TrafficClass::Dependency
        );
        assert_eq!(
            class("192.0.2.10", Protocol::Udp, 50_000),
            TrafficClass::Audio
        );
        // A listed address on a port its sets do not admit: ports decide.
        assert_eq!(
            class("52.112.1.10", Protocol::Tcp, 5061),
            TrafficClass::Signaling
        );
    }
}
