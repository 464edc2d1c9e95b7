//! The topology as a picture: SVG in the four segment lanes, and Graphviz
//! DOT with one cluster per lane.
//!
//! Owns what is drawn and how it looks: colours per segment and per kind of
//! element, box texts, tooltips, link labels, the legend. Positions come
//! from [`super::layout`](mod@super::layout), XML text from [`super::svg`].
//!
//! Leaves out traffic and call paths; it draws the network as declared.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::layout::{self, BOX_H, FrameOf, HEADER_H, Layout, Point, Rect};
use super::svg::{self, Document, Element};
use crate::model::{
    Action, Circuit, Connection, Domain, EdgeKind, Filtering, Link, LinkKind, Mapping, Node,
    NodeId, NodeKind, Owner, RegionId, SiteKind, Sku, Topology,
};

pub(crate) const FONT: &str = "Segoe UI, Helvetica, Arial, sans-serif";
/// Height of the legend under the lanes.
const LEGEND_H: f64 = 78.0;
/// Characters of a name that fit a box at 12 px bold.
const NAME_CHARS: usize = 21;
/// Characters of a kind line that fit a box at 10 px.
const KIND_CHARS: usize = 27;

/// Link colour per segment.
pub(crate) fn segment_colour(s: crate::model::Segment) -> &'static str {
    use crate::model::Segment::*;
    match s {
        Customer => "#455a64",
        Internet => "#ef6c00",
        ExpressRoute => "#8e24aa",
        Microsoft => "#1e88e5",
    }
}

/// Lane background per segment.
fn lane_fill(s: crate::model::Segment) -> &'static str {
    use crate::model::Segment::*;
    match s {
        Customer => "#f4f6f7",
        Internet => "#fff6ec",
        ExpressRoute => "#f8effb",
        Microsoft => "#edf4fc",
    }
}

/// How a kind of element looks: fill, outline, corner radius, DOT shape.
struct Look {
    word: &'static str,
    fill: &'static str,
    stroke: &'static str,
    radius: f64,
    shape: &'static str,
}

const LOOKS: [Look; 9] = [
    Look {
        word: "site",
        fill: "#e8f5e9",
        stroke: "#2e7d32",
        radius: 14.0,
        shape: "folder",
    },
    Look {
        word: "router",
        fill: "#e3f2fd",
        stroke: "#1565c0",
        radius: 4.0,
        shape: "ellipse",
    },
    Look {
        word: "firewall",
        fill: "#ffebee",
        stroke: "#c62828",
        radius: 0.0,
        shape: "octagon",
    },
    Look {
        word: "NAT",
        fill: "#fff8e1",
        stroke: "#e08600",
        radius: 4.0,
        shape: "hexagon",
    },
    Look {
        word: "proxy",
        fill: "#e0f2f1",
        stroke: "#00796b",
        radius: 4.0,
        shape: "parallelogram",
    },
    Look {
        word: "Edge server",
        fill: "#fce4ec",
        stroke: "#ad1457",
        radius: 4.0,
        shape: "component",
    },
    Look {
        word: "server",
        fill: "#eceff1",
        stroke: "#455a64",
        radius: 4.0,
        shape: "box3d",
    },
    Look {
        word: "Microsoft region",
        fill: "#1565c0",
        stroke: "#0d47a1",
        radius: 4.0,
        shape: "tab",
    },
    Look {
        word: "the Internet",
        fill: "#fff3e0",
        stroke: "#e65100",
        radius: 30.0,
        shape: "egg",
    },
];

fn look(kind: &NodeKind) -> &'static Look {
    &LOOKS[look_index(kind)]
}

fn look_index(kind: &NodeKind) -> usize {
    match kind {
        NodeKind::Site(_) => 0,
        NodeKind::Router(_) => 1,
        NodeKind::Firewall(_) => 2,
        NodeKind::Nat(_) => 3,
        NodeKind::Proxy(_) => 4,
        NodeKind::Edge(_) => 5,
        NodeKind::Server(_) => 6,
        NodeKind::Region(_) => 7,
        NodeKind::Internet => 8,
    }
}

fn sku_word(s: Sku) -> &'static str {
    match s {
        Sku::Local => "Local",
        Sku::Standard => "Standard",
        Sku::Premium => "Premium",
    }
}

fn site_word(k: SiteKind) -> &'static str {
    match k {
        SiteKind::Office => "office",
        SiteKind::Datacenter => "datacenter",
        SiteKind::Dmz => "DMZ",
        SiteKind::Remote => "remote LAN",
        SiteKind::Partner => "partner LAN",
    }
}

/// The second line of an element's box: what it is, briefly.
fn kind_line(t: &Topology, node: &Node) -> String {
    match &node.kind {
        NodeKind::Site(s) => match &s.location {
            Some(loc) => format!("{} · {loc}", site_word(s.kind)),
            None => site_word(s.kind).to_string(),
        },
        NodeKind::Router(_) => "router".into(),
        NodeKind::Firewall(f) if f.stateful => "stateful firewall".into(),
        NodeKind::Firewall(_) => "stateless firewall".into(),
        NodeKind::Nat(n) => match n.behaviour.preset_name() {
            Some("port-restricted-cone") => "NAT · port-restricted".into(),
            Some(p) => format!("NAT · {}", p.replace('-', " ")),
            None => "NAT".into(),
        },
        NodeKind::Proxy(p) => format!("proxy · {}", p.address),
        NodeKind::Edge(e) => {
            let kind = match e.kind {
                EdgeKind::Sfb => "SfB Edge",
                EdgeKind::CloudConnector => "CCE Edge",
                EdgeKind::Partner => "partner Edge",
            };
            format!("{kind} · {}", e.external)
        }
        NodeKind::Server(s) => match node.addresses.first() {
            Some(a) => format!("{} · {a}", s.kind.word()),
            None => s.kind.word().into(),
        },
        NodeKind::Region(r) => format!("region · {}", t.region(*r).geography),
        NodeKind::Internet => "the public Internet".into(),
    }
}

/// Who runs an element, in words.
fn domain_words(t: &Topology, d: Domain) -> String {
    match d {
        Domain::Customer => format!("{} (your network)", t.tenant.name),
        Domain::Internet => "the Internet".into(),
        Domain::Microsoft => "Microsoft".into(),
        Domain::Remote(r) => format!("remote location {}", t.remotes[r.0 as usize].name),
        Domain::Organization(o) => format!("organization {}", t.organizations[o.0 as usize].name),
    }
}

fn owner_words(t: &Topology, o: Owner) -> String {
    match o {
        Owner::Tenant => domain_words(t, Domain::Customer),
        Owner::Public => domain_words(t, Domain::Internet),
        Owner::Microsoft => domain_words(t, Domain::Microsoft),
        Owner::Remote(r) => domain_words(t, Domain::Remote(r)),
        Owner::Organization(o) => domain_words(t, Domain::Organization(o)),
    }
}

fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// An element's tooltip: everything a planner may want to check.
fn node_details(t: &Topology, node: &Node) -> String {
    let mut s = format!("{} — {}\n", node.name, kind_line(t, node));
    let _ = writeln!(s, "segment: {}", node.lane.title());
    let _ = writeln!(s, "run by: {}", domain_words(t, node.domain));
    if !node.addresses.is_empty() {
        let _ = writeln!(s, "addresses: {}", list(&node.addresses));
    }
    match &node.kind {
        NodeKind::Site(site) => {
            let _ = writeln!(s, "subnets: {}", list(&site.subnets));
            if let Some(p) = site.pac {
                let _ = writeln!(s, "PAC: {}", t.pacs[p.0 as usize].name);
            }
        }
        NodeKind::Router(r) if !r.static_routes.is_empty() => {
            for route in &r.static_routes {
                let _ = writeln!(
                    s,
                    "static route {} via {}",
                    route.prefix,
                    t.link(route.via).name
                );
            }
        }
        NodeKind::Firewall(f) => {
            let default = match f.default {
                Action::Allow => "allow",
                Action::Deny => "deny",
            };
            let _ = writeln!(
                s,
                "{} rule(s), default {default}, idle timeout {}",
                f.rules.len(),
                f.idle_timeout
            );
        }
        NodeKind::Nat(n) => {
            let _ = writeln!(s, "pool: {}", list(&n.pool));
            if !n.exempt.is_empty() {
                let _ = writeln!(s, "exempt (untranslated): {}", list(&n.exempt));
            }
            let dependence =
                |independent: bool, address_only: bool| match (independent, address_only) {
                    (true, _) => "endpoint-independent",
                    (false, true) => "address-dependent",
                    (false, false) => "address-and-port-dependent",
                };
            let b = n.behaviour;
            let _ = writeln!(
                s,
                "mapping {}, filtering {}, hairpinning {}",
                dependence(
                    b.mapping == Mapping::EndpointIndependent,
                    b.mapping == Mapping::AddressDependent
                ),
                dependence(
                    b.filtering == Filtering::EndpointIndependent,
                    b.filtering == Filtering::AddressDependent
                ),
                if b.hairpinning { "yes" } else { "no" }
            );
            let outside: Vec<&str> = n.outside.iter().map(|&l| t.link(l).name.as_str()).collect();
            let _ = writeln!(s, "outside: {}", outside.join(", "));
        }
        NodeKind::Proxy(p) => {
            let _ = writeln!(
                s,
                "port {}, CONNECT to 443 {}, TLS inspection {}",
                p.port,
                if p.connect { "yes" } else { "no" },
                if p.tls_inspection { "yes" } else { "no" }
            );
        }
        NodeKind::Edge(e) => {
            let _ = writeln!(s, "internal {}, external {}", e.internal, e.external);
        }
        NodeKind::Server(srv) => {
            if let Some(r) = srv.region {
                let _ = writeln!(s, "region: {}", t.region(r).name);
            }
            if let Some(e) = srv.edge {
                let _ = writeln!(s, "reached from outside through {}", t.node(e).name);
            }
        }
        NodeKind::Region(r) => {
            let region = t.region(*r);
            let _ = writeln!(s, "prefixes: {}", list(&region.prefixes));
            let _ = writeln!(
                s,
                "peering locations: {}",
                region.peering_locations.join(", ")
            );
        }
        _ => {}
    }
    if !node.originates.is_empty() && !matches!(node.kind, NodeKind::Site(_) | NodeKind::Region(_))
    {
        let _ = writeln!(s, "originates: {}", list(&node.originates));
    }
    s.trim_end().to_string()
}

fn link_details(t: &Topology, link: &Link, a: &str, b: &str) -> String {
    let mut s = format!(
        "{}: {} link, {} segment\n{a} — {b}\n",
        link.name,
        link.kind.word(),
        link.segment.title()
    );
    let q = link.quality;
    let _ = writeln!(
        s,
        "{} each way; latency {}, jitter {}, loss {}",
        link.capacity, q.latency, q.jitter, q.loss
    );
    let _ = write!(s, "run by {}", owner_words(t, link.owner));
    if link.qos {
        s.push_str("; QoS");
    }
    if link.bandwidth_policy.is_some() {
        s.push_str("; call admission control");
    }
    if link.implicit {
        s.push_str("\n(implied by an element's settings)");
    }
    s
}

fn circuit_details(t: &Topology, c: &Circuit) -> String {
    let reach: Vec<&str> = c.reach.iter().map(|&r| t.region(r).name.as_str()).collect();
    let mut s = format!(
        "circuit {}: {} each way per connection, {} SKU\npeering at {}, lands on {}\n",
        c.name,
        c.bandwidth,
        sku_word(c.sku),
        c.peering_location,
        t.region(c.microsoft_edge).name
    );
    if !reach.is_empty() {
        let _ = writeln!(s, "reaches {}", reach.join(", "));
    }
    let _ = writeln!(s, "route filter: {}", list(&c.route_filter));
    if !c.advertise.is_empty() {
        let _ = writeln!(s, "advertises: {}", list(&c.advertise));
    }
    let _ = write!(
        s,
        "{}; QoS {}; run by {}",
        if c.secondary.is_some() {
            "primary and secondary connections"
        } else {
            "primary connection only"
        },
        if c.qos { "on" } else { "off" },
        owner_words(t, c.owner)
    );
    s
}

/// `s` cut to `max` characters, with an ellipsis when cut.
pub(crate) fn fit(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// Rough width of `s` at `size` px in a sans-serif face.
pub(crate) fn text_width(s: &str, size: f64) -> f64 {
    s.chars().count() as f64 * size * 0.58
}

fn frame_label(t: &Topology, of: FrameOf) -> String {
    match of {
        FrameOf::Organization(o) => {
            let org = &t.organizations[o.0 as usize];
            let kind = match org.kind {
                crate::model::OrgKind::Online => "partner, Online",
                crate::model::OrgKind::OnPrem => "partner, on-premises",
                crate::model::OrgKind::SkypeConsumer => "Skype consumer",
            };
            format!("{} ({kind})", org.name)
        }
        FrameOf::Remote(r) => {
            let remote = &t.remotes[r.0 as usize];
            let kind = match remote.kind {
                crate::model::RemoteKind::Home => "home",
                crate::model::RemoteKind::Hotel => "hotel",
                crate::model::RemoteKind::CoffeeShop => "coffee shop",
                crate::model::RemoteKind::Mobile => "mobile network",
            };
            format!("{} (remote, {kind})", remote.name)
        }
        FrameOf::Region(r) => t.region(r).name.clone(),
    }
}

/// Draws `t` in the four lanes, with a legend underneath.
pub fn topology_svg(t: &Topology) -> String {
    let l = layout::layout(t);
    let legend = legend(t, l.height);
    let width = l.width.max(legend.1);
    let height = l.height + LEGEND_H;
    let mut doc = Document::new(width, height)
        .attr("font-family", FONT)
        .attr("font-size", "12");
    let mut title = format!("{}: topology in four segments", t.name);
    if let Some(d) = &t.description {
        let _ = write!(title, " — {d}");
    }
    doc.push(svg::title(title));
    doc.push(markers());
    doc.push(
        svg::rect(
            Rect {
                x: 0.0,
                y: 0.0,
                w: width,
                h: height,
            },
            0.0,
        )
        .attr("fill", "#ffffff"),
    );
    for layer in network(t, &l) {
        doc.push(layer);
    }
    doc.push(legend.0);
    doc.render()
}

/// The network as declared, in drawing order: lanes, frames, links,
/// circuits, elements, link labels. A trace drawing shows them faintly
/// under its paths.
pub(crate) fn network(t: &Topology, l: &Layout) -> [Element; 6] {
    [
        lanes(t, l),
        frames(t, l),
        links(t, l),
        circuits(t, l),
        nodes(t, l, |_| true),
        link_labels(t, l),
    ]
}

/// The link-end markers the links refer to.
pub(crate) fn markers() -> Element {
    svg::defs().children(crate::model::Segment::ALL.map(|s| {
        svg::marker(
            &format!("end-{}", s.key()),
            "M5,1.5 A3.5,3.5 0 1,1 5,8.5 A3.5,3.5 0 1,1 5,1.5 z",
            6.0,
            segment_colour(s),
        )
    }))
}

/// The line under a lane's title.
fn lane_subtitle(t: &Topology, s: crate::model::Segment) -> String {
    use crate::model::Segment::*;
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    match s {
        Customer => format!("{} · {} deployment", t.tenant.name, t.tenant.deployment),
        Internet => match t.remotes.len() {
            0 => "managed by neither you nor Microsoft".into(),
            n => format!(
                "managed by neither you nor Microsoft · {}",
                plural(n, "remote location", "remote locations")
            ),
        },
        ExpressRoute => plural(t.circuits.len(), "circuit", "circuits"),
        Microsoft => format!(
            "{} · home region {}",
            plural(t.regions.len(), "region", "regions"),
            t.home_region().name
        ),
    }
}

fn lanes(t: &Topology, l: &Layout) -> Element {
    let mut g = svg::group().attr("class", "lanes");
    for (i, lane) in l.lanes.iter().enumerate() {
        let r = lane.rect;
        let x = r.center().x;
        g = g
            .child(svg::rect(r, 0.0).attr("fill", lane_fill(lane.segment)))
            .child(
                svg::text(Point { x, y: 25.0 }, lane.segment.title())
                    .attr("text-anchor", "middle")
                    .attr("font-size", "16")
                    .attr("font-weight", "bold")
                    .attr("fill", segment_colour(lane.segment)),
            )
            .child(
                svg::text(
                    Point { x, y: 43.0 },
                    fit(&lane_subtitle(t, lane.segment), (r.w / 6.2) as usize),
                )
                .attr("text-anchor", "middle")
                .attr("font-size", "11")
                .attr("fill", "#607d8b"),
            );
        if i > 0 {
            g = g.child(
                svg::line(
                    Point { x: r.x, y: 0.0 },
                    Point {
                        x: r.x,
                        y: r.bottom(),
                    },
                )
                .attr("stroke", "#b0bec5")
                .attr("stroke-width", "1.5")
                .attr("stroke-dasharray", "6 4"),
            );
        }
    }
    g.child(
        svg::line(
            Point {
                x: 0.0,
                y: HEADER_H,
            },
            Point {
                x: l.width,
                y: HEADER_H,
            },
        )
        .attr("stroke", "#cfd8dc"),
    )
}

fn frames(t: &Topology, l: &Layout) -> Element {
    let mut g = svg::group().attr("class", "frames");
    for f in &l.frames {
        let label = frame_label(t, f.of);
        let e = match f.of {
            FrameOf::Region(_) => svg::rect(f.rect, 8.0)
                .attr("fill", "#ffffff")
                .attr("fill-opacity", "0.6")
                .attr("stroke", "#90caf9"),
            _ => svg::rect(f.rect, 8.0)
                .attr("fill", "#ffffff")
                .attr("fill-opacity", "0.5")
                .attr("stroke", "#78909c")
                .attr("stroke-width", "1.5")
                .attr("stroke-dasharray", "7 4"),
        };
        g = g.child(e.tooltip(label.clone()));
        if f.of.labelled() {
            g = g.child(
                svg::text(
                    Point {
                        x: f.rect.x + 8.0,
                        y: f.rect.y + 15.0,
                    },
                    fit(&label, ((f.rect.w - 12.0) / 6.4) as usize),
                )
                .attr("font-size", "11")
                .attr("font-style", "italic")
                .attr("fill", "#455a64"),
            );
        }
    }
    g
}

fn links(t: &Topology, l: &Layout) -> Element {
    let mut g = svg::group().attr("class", "links").attr("fill", "none");
    for (&id, pts) in &l.links {
        let link = t.link(id);
        let (a, b) = t.ends(id);
        let colour = segment_colour(link.segment);
        let marker = format!("url(#end-{})", link.segment.key());
        let mut e = svg::polyline(pts)
            .attr("stroke", colour)
            .attr("stroke-linejoin", "round")
            .attr("marker-start", marker.clone())
            .attr("marker-end", marker);
        e = if link.implicit {
            e.attr("stroke-width", "1.4").attr("stroke-opacity", "0.5")
        } else {
            e.attr("stroke-width", "2.4")
        };
        if let Some((_, Connection::Secondary)) = link.circuit {
            e = e.attr("stroke-dasharray", "7 4");
        }
        let details = link_details(t, link, &t.node(a).name, &t.node(b).name);
        g = g.child(e.tooltip(details));
    }
    g
}

fn circuits(t: &Topology, l: &Layout) -> Element {
    let mut g = svg::group().attr("class", "circuits");
    for (&id, &r) in &l.circuits {
        let c = t.circuit(id);
        let x = r.center().x;
        g = g.child(
            svg::group()
                .child(
                    svg::rect(r, 8.0)
                        .attr("fill", "#ffffff")
                        .attr(
                            "stroke",
                            segment_colour(crate::model::Segment::ExpressRoute),
                        )
                        .attr("stroke-width", "2"),
                )
                .child(
                    svg::text(Point { x, y: r.y + 17.0 }, fit(&c.name, 22))
                        .attr("text-anchor", "middle")
                        .attr("font-weight", "bold"),
                )
                .child(
                    svg::text(
                        Point { x, y: r.y + 33.0 },
                        format!("{} · {}", c.bandwidth, sku_word(c.sku)),
                    )
                    .attr("text-anchor", "middle")
                    .attr("font-size", "11"),
                )
                .child(
                    svg::text(
                        Point { x, y: r.y + 48.0 },
                        fit(&format!("at {}", c.peering_location), 26),
                    )
                    .attr("text-anchor", "middle")
                    .attr("font-size", "10")
                    .attr("fill", "#6a1b9a"),
                )
                .tooltip(circuit_details(t, c)),
        );
    }
    g
}

/// The boxes of the elements `drawn` accepts.
pub(crate) fn nodes(t: &Topology, l: &Layout, drawn: impl Fn(NodeId) -> bool) -> Element {
    let mut g = svg::group().attr("class", "nodes");
    for (&id, &r) in l.nodes.iter().filter(|(id, _)| drawn(**id)) {
        let node = t.node(id);
        let lk = look(&node.kind);
        let on_dark = matches!(node.kind, NodeKind::Region(_));
        let radius = lk.radius.min(r.h / 2.0);
        let c = r.center();
        let dy = (r.h - BOX_H) / 2.0;
        g = g.child(
            svg::group()
                .child(
                    svg::rect(r, radius)
                        .attr("fill", lk.fill)
                        .attr("stroke", lk.stroke)
                        .attr(
                            "stroke-width",
                            if node.kind.forwards() { "2" } else { "1.4" },
                        ),
                )
                .child(
                    svg::text(
                        Point {
                            x: c.x,
                            y: r.y + dy + 19.0,
                        },
                        fit(&node.name, NAME_CHARS),
                    )
                    .attr("text-anchor", "middle")
                    .attr("font-weight", "bold")
                    .attr("fill", if on_dark { "#ffffff" } else { "#263238" }),
                )
                .child(
                    svg::text(
                        Point {
                            x: c.x,
                            y: r.y + dy + 34.0,
                        },
                        fit(&kind_line(t, node), KIND_CHARS),
                    )
                    .attr("text-anchor", "middle")
                    .attr("font-size", "10")
                    .attr("fill", if on_dark { "#e3f2fd" } else { "#546e7a" }),
                )
                .tooltip(node_details(t, node)),
        );
    }
    g
}

/// Capacity labels, on a straight piece of each link outside the boxes,
/// where the text fits without touching a box, another link or another
/// label; links without such a place go unlabelled (their tooltip has it).
fn link_labels(t: &Topology, l: &Layout) -> Element {
    const SIZE: f64 = 10.0;
    let mut g = svg::group()
        .attr("class", "link-labels")
        .attr("font-size", "10")
        .attr("text-anchor", "middle")
        .attr("paint-order", "stroke")
        .attr("stroke", "#ffffff")
        .attr("stroke-width", "3")
        .attr("stroke-linejoin", "round");
    let mut obstacles: Vec<Rect> = l
        .nodes
        .values()
        .chain(l.circuits.values())
        .copied()
        .collect();
    for (&id, pts) in &l.links {
        let link = t.link(id);
        if matches!(link.kind, LinkKind::ExpressRoute | LinkKind::Datacenter) {
            continue;
        }
        let label = link.capacity.to_string();
        let w = text_width(&label, SIZE) + 6.0;
        // Above a horizontal-ish piece, centred (or slid towards either end);
        // else beside a vertical piece, near its lower end (where a bracket
        // turns towards the element it serves), its middle, or its top.
        let mut candidates: Vec<(Point, bool)> = Vec::new();
        let mut pieces: Vec<(Point, Point)> = pts.windows(2).map(|p| (p[0], p[1])).collect();
        pieces.sort_by(|x, y| {
            let len = |p: &(Point, Point)| (p.1.x - p.0.x).hypot(p.1.y - p.0.y);
            len(y).total_cmp(&len(x))
        });
        for &(a, b) in &pieces {
            let dx = (b.x - a.x).abs();
            if dx >= w + 8.0 {
                let slack = (dx - w - 8.0) / 2.0 / dx;
                for f in [0.5, 0.5 + slack, 0.5 - slack] {
                    let at = Point {
                        x: a.x + f * (b.x - a.x),
                        y: a.y + f * (b.y - a.y) - 4.0,
                    };
                    candidates.push((at, true));
                }
            }
        }
        for &(a, b) in &pieces {
            let (top, bottom) = if a.y < b.y { (a, b) } else { (b, a) };
            if dx_is_zero(a, b) && bottom.y - top.y >= 2.0 * SIZE + 8.0 {
                for y in [bottom.y + 4.0, (top.y + bottom.y) / 2.0 + 4.0, top.y + 12.0] {
                    for off in [4.0, 10.0, 16.0, 22.0] {
                        candidates.push((Point { x: a.x + off, y }, false));
                    }
                }
            }
        }
        let clear = |(at, centred): (Point, bool), obstacles: &[Rect]| {
            let r = Rect {
                x: if centred { at.x - w / 2.0 } else { at.x },
                y: at.y - SIZE,
                w,
                h: SIZE + 1.0,
            };
            let hits_link = l.links.iter().any(|(&other, o)| {
                other != id && o.windows(2).any(|s| r.meets_segment(s[0], s[1]))
            });
            (!hits_link && !obstacles.iter().any(|o| o.overlaps(&r))).then_some(r)
        };
        let placed = candidates
            .into_iter()
            .find_map(|c| clear(c, &obstacles).map(|r| (c, r)));
        if let Some(((at, centred), r)) = placed {
            obstacles.push(r);
            let mut e = svg::text(at, label).attr("fill", segment_colour(link.segment));
            if !centred {
                e = e.attr("text-anchor", "start");
            }
            g = g.child(e);
        }
    }
    g
}

fn dx_is_zero(a: Point, b: Point) -> bool {
    (a.x - b.x).abs() < 0.5
}

/// The legend and the width it needs.
fn legend(t: &Topology, top: f64) -> (Element, f64) {
    let mut g = svg::group().attr("class", "legend").attr("font-size", "11");
    let y1 = top + 22.0;
    let y2 = top + 54.0;
    let mut x = 16.0;
    g = g.child(svg::text(Point { x, y: y1 + 4.0 }, "Elements").attr("font-weight", "bold"));
    x += 70.0;
    let mut present = [false; LOOKS.len()];
    for n in t.nodes() {
        present[look_index(&t.node(n).kind)] = true;
    }
    for (lk, _) in LOOKS.iter().zip(present).filter(|(_, p)| *p) {
        let swatch = Rect {
            x,
            y: y1 - 8.0,
            w: 22.0,
            h: 16.0,
        };
        g = g
            .child(
                svg::rect(swatch, lk.radius.min(8.0))
                    .attr("fill", lk.fill)
                    .attr("stroke", lk.stroke)
                    .attr("stroke-width", "1.5"),
            )
            .child(svg::text(
                Point {
                    x: x + 28.0,
                    y: y1 + 4.0,
                },
                lk.word,
            ));
        x += 28.0 + text_width(lk.word, 11.0) + 18.0;
    }
    let mut width = x;
    x = 16.0;
    g = g.child(svg::text(Point { x, y: y2 + 4.0 }, "Links").attr("font-weight", "bold"));
    x += 70.0;
    let sample = |g: Element, x: &mut f64, label: &str, look: &[(&'static str, &str)]| {
        let mut line = svg::line(
            Point { x: *x, y: y2 },
            Point {
                x: *x + 30.0,
                y: y2,
            },
        );
        for (k, v) in look {
            line = line.attr(k, *v);
        }
        let g = g.child(line).child(svg::text(
            Point {
                x: *x + 36.0,
                y: y2 + 4.0,
            },
            label,
        ));
        *x += 36.0 + text_width(label, 11.0) + 20.0;
        g
    };
    for s in crate::model::Segment::ALL {
        g = sample(
            g,
            &mut x,
            &format!("{} segment", s.title()),
            &[("stroke", segment_colour(s)), ("stroke-width", "2.4")],
        );
    }
    g = sample(
        g,
        &mut x,
        "implied by an element (lighter)",
        &[
            ("stroke", segment_colour(crate::model::Segment::Customer)),
            ("stroke-width", "1.4"),
            ("stroke-opacity", "0.5"),
        ],
    );
    g = sample(
        g,
        &mut x,
        "secondary connection",
        &[
            (
                "stroke",
                segment_colour(crate::model::Segment::ExpressRoute),
            ),
            ("stroke-width", "2.4"),
            ("stroke-dasharray", "7 4"),
        ],
    );
    let frame = Rect {
        x,
        y: y2 - 8.0,
        w: 30.0,
        h: 16.0,
    };
    g = g
        .child(
            svg::rect(frame, 4.0)
                .attr("fill", "none")
                .attr("stroke", "#78909c")
                .attr("stroke-dasharray", "5 3"),
        )
        .child(svg::text(
            Point {
                x: x + 36.0,
                y: y2 + 4.0,
            },
            "another organization or a remote location",
        ));
    x += 36.0 + text_width("another organization or a remote location", 11.0) + 16.0;
    width = width.max(x);
    (g, width)
}

// ----- DOT -------------------------------------------------------------------

/// A DOT double-quoted string. Backslashes are doubled so a name can never
/// form an escape sequence (`\N`, `\l`) in a label; control characters,
/// which DOT files should not carry, become spaces.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `key=value` pairs, every value quoted.
fn attrs(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect();
    format!("[{}]", parts.join(", "))
}

/// The frame a node is clustered in within its lane, if any.
fn dot_cluster(t: &Topology, regions: &BTreeMap<NodeId, RegionId>, n: NodeId) -> Option<FrameOf> {
    let node = t.node(n);
    match node.domain {
        Domain::Organization(o) => Some(FrameOf::Organization(o)),
        Domain::Remote(r) => Some(FrameOf::Remote(r)),
        _ => regions.get(&n).map(|&r| FrameOf::Region(r)),
    }
}

fn cluster_id(lane: crate::model::Segment, of: FrameOf) -> String {
    let (kind, i) = match of {
        FrameOf::Organization(o) => ("org", o.0),
        FrameOf::Remote(r) => ("remote", r.0),
        FrameOf::Region(r) => ("region", r.0),
    };
    format!("cluster_{}_{kind}_{i}", lane.key())
}

/// Graphviz DOT: one `cluster_<segment>` per lane, partners, remote
/// locations and regions as clusters inside, circuits as boxes in the
/// ExpressRoute cluster, links as edges labelled with their capacity.
pub fn topology_dot(t: &Topology) -> String {
    let mut out = String::new();
    let mut regions = BTreeMap::new();
    for (i, r) in t.regions.iter().enumerate() {
        let id = RegionId(i as u16);
        regions.insert(r.node, id);
        for &s in &r.services {
            regions.insert(s, id);
        }
    }
    let _ = writeln!(out, "graph {} {{", quote(&t.name));
    let _ = writeln!(
        out,
        "  graph {};",
        attrs(&[
            ("rankdir", "LR"),
            ("newrank", "true"),
            ("fontname", "Helvetica"),
            ("nodesep", "0.25"),
            ("ranksep", "0.6"),
            ("labelloc", "t"),
            ("label", &format!("{}: topology in four segments", t.name)),
        ])
    );
    let _ = writeln!(
        out,
        "  node {};",
        attrs(&[
            ("fontname", "Helvetica"),
            ("fontsize", "10"),
            ("style", "filled")
        ])
    );
    let _ = writeln!(
        out,
        "  edge {};",
        attrs(&[("fontname", "Helvetica"), ("fontsize", "9")])
    );
    for lane in crate::model::Segment::ALL {
        let _ = writeln!(
            out,
            "  subgraph {} {{",
            quote(&format!("cluster_{}", lane.key()))
        );
        let _ = writeln!(
            out,
            "    graph {};",
            attrs(&[
                ("label", lane.title()),
                ("style", "filled"),
                ("fillcolor", lane_fill(lane)),
                ("color", "#b0bec5"),
                ("fontcolor", segment_colour(lane)),
                ("fontsize", "14"),
            ])
        );
        let mut groups: BTreeMap<Option<FrameOf>, Vec<NodeId>> = BTreeMap::new();
        for n in t.nodes().filter(|&n| t.node(n).lane == lane) {
            groups
                .entry(dot_cluster(t, &regions, n))
                .or_default()
                .push(n);
        }
        for (of, members) in &groups {
            let indent = match of {
                Some(of) => {
                    let _ = writeln!(out, "    subgraph {} {{", quote(&cluster_id(lane, *of)));
                    let style = if matches!(of, FrameOf::Region(_)) {
                        "solid"
                    } else {
                        "dashed"
                    };
                    let _ = writeln!(
                        out,
                        "      graph {};",
                        attrs(&[
                            ("label", &frame_label(t, *of)),
                            ("style", style),
                            ("color", "#78909c"),
                            ("fontcolor", "#455a64"),
                        ])
                    );
                    "      "
                }
                None => "    ",
            };
            for &n in members {
                let node = t.node(n);
                let lk = look(&node.kind);
                let label = format!("{}\n{}", node.name, kind_line(t, node));
                let font = if matches!(node.kind, NodeKind::Region(_)) {
                    "#ffffff"
                } else {
                    "#263238"
                };
                let _ = writeln!(
                    out,
                    "{indent}{} {};",
                    quote(&node.name),
                    attrs(&[
                        ("label", &label),
                        ("shape", lk.shape),
                        ("fillcolor", lk.fill),
                        ("color", lk.stroke),
                        ("fontcolor", font),
                        ("tooltip", &node_details(t, node)),
                    ])
                );
            }
            if of.is_some() {
                let _ = writeln!(out, "    }}");
            }
        }
        if lane == crate::model::Segment::ExpressRoute {
            for c in &t.circuits {
                let label = format!(
                    "{}\n{} · {}\nat {}",
                    c.name,
                    c.bandwidth,
                    sku_word(c.sku),
                    c.peering_location
                );
                let _ = writeln!(
                    out,
                    "    {} {};",
                    quote(&c.name),
                    attrs(&[
                        ("label", &label),
                        ("shape", "box"),
                        ("style", "rounded,filled"),
                        ("fillcolor", "#ffffff"),
                        ("color", segment_colour(lane)),
                        ("tooltip", &circuit_details(t, c)),
                    ])
                );
            }
        }
        let _ = writeln!(out, "  }}");
    }
    for id in t.links() {
        let link = t.link(id);
        let (a, b) = t.ends(id);
        let (a, b) = (&t.node(a).name, &t.node(b).name);
        let colour = segment_colour(link.segment);
        let capacity = link.capacity.to_string();
        let tooltip = link_details(t, link, a, b);
        let mut look: Vec<(&str, &str)> = vec![("color", colour), ("tooltip", &tooltip)];
        if link.implicit {
            look.push(("penwidth", "0.8"));
            look.push(("fontcolor", "#90a4ae"));
        } else {
            look.push(("penwidth", "1.6"));
        }
        match link.circuit {
            Some((cid, conn)) if link.kind == LinkKind::ExpressRoute => {
                let circuit = &t.circuit(cid).name;
                // Customer side first, whichever way the link was declared.
                let (near, far) = if t.node_named(a).map(|n| t.node(n).lane)
                    == Some(crate::model::Segment::Microsoft)
                {
                    (b, a)
                } else {
                    (a, b)
                };
                let label = format!("{} · {capacity}", connection_word(conn));
                if conn == Connection::Secondary {
                    look.push(("style", "dashed"));
                }
                let mut first = look.clone();
                first.push(("label", &label));
                let _ = writeln!(
                    out,
                    "  {} -- {} {};",
                    quote(near),
                    quote(circuit),
                    attrs(&first)
                );
                let _ = writeln!(
                    out,
                    "  {} -- {} {};",
                    quote(circuit),
                    quote(far),
                    attrs(&look)
                );
            }
            _ => {
                look.push(("label", &capacity));
                let _ = writeln!(out, "  {} -- {} {};", quote(a), quote(b), attrs(&look));
            }
        }
    }
    out.push_str("}\n");
    out
}

fn connection_word(c: Connection) -> &'static str {
    match c {
        Connection::Primary => "primary",
        Connection::Secondary => "secondary",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceFile;
    use crate::render::layout::tests::partners;
    use crate::validate::topology_from_source;

    fn multi_site() -> Topology {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/topologies/multi-site.toml");
        crate::validate::load_topology(std::path::Path::new(path)).expect("example loads")
    }

    /// A small network whose names try to break out of XML and DOT.
    fn hostile() -> Topology {
        let text = r#"
name = "evil \"graph\" {"
[tenant]
home_region = "r<1>"

[[region]]
name = "r<1>"
geography = "g"
prefixes = ["52.112.0.0/16"]
service = [{ name = "svc\\N\\l", kind = "registrar", address = "52.112.2.10" }]

[[site]]
name = "<script>alert('x')</script>"
subnets = ["10.1.0.0/16"]

[[router]]
name = "a&b\""

[[nat]]
name = "n}{"
pool = ["198.51.100.0/28"]
outside = ["isp -- x"]

[[link]]
name = "lan"
kind = "lan"
ends = ["<script>alert('x')</script>", "a&b\""]

[[link]]
name = "r-n"
kind = "lan"
ends = ["a&b\"", "n}{"]

[[link]]
name = "isp -- x"
kind = "internet-access"
ends = ["n}{", "internet"]
capacity = "1Gbps"
"#;
        topology_from_source(&SourceFile::new("hostile.toml", text)).unwrap_or_else(|d| {
            panic!(
                "fixture is valid:\n{}",
                crate::diag::InvalidInput::from(d).render()
            )
        })
    }

    #[test]
    fn svg_escapes_names_from_the_file() {
        let out = topology_svg(&hostile());
        assert!(!out.contains("<script"), "raw markup leaked");
        assert!(out.contains("&lt;script&gt;alert(&apos;x&apos;)&lt;/script&gt;"));
        assert!(out.contains("a&amp;b&quot;"));
        assert!(out.contains("r&lt;1&gt;"));
        assert!(!out.contains("a&b\""));
        assert!(out.starts_with("<svg "));
        assert!(out.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn svg_has_lanes_elements_circuits_and_legend() {
        let t = multi_site();
        let out = topology_svg(&t);
        for s in crate::model::Segment::ALL {
            assert!(out.contains(&format!(">{}</text>", s.title())), "lane {s}");
        }
        for n in t.nodes() {
            let name = &t.node(n).name;
            assert!(out.contains(&format!(">{name}</text>")), "{name} is drawn");
        }
        assert!(out.contains(">er-nyc</text>"));
        assert!(out.contains(">200 Mbps · Premium</text>"));
        assert!(out.contains(">at New York</text>"));
        // Capacity labels where there is room, e.g. HQ's Internet line.
        assert!(out.contains(">1 Gbps</text>"));
        assert!(out.contains(">Elements</text>") && out.contains(">Links</text>"));
        // Every link is drawn once, with a tooltip.
        assert_eq!(out.matches("<polyline").count(), t.graph.edge_count());
        assert!(out.contains("<title>hq-isp: internet-access link, Internet segment"));
        // Implied links are lighter, secondary connections dashed.
        assert!(out.contains("stroke-opacity=\"0.5\""));
        assert!(out.contains("stroke-dasharray=\"7 4\""));
        assert_eq!(out.matches("<g").count(), out.matches("</g>").count());
    }

    #[test]
    fn svg_is_deterministic() {
        let t = partners();
        assert_eq!(topology_svg(&t), topology_svg(&t));
    }

    #[test]
    fn labels_never_sit_on_boxes_or_on_each_other() {
        let t = multi_site();
        let l = layout::layout(&t);
        let labels = link_labels(&t, &l);
        let mut doc = Document::new(1.0, 1.0);
        doc.push(labels);
        let out = doc.render();
        let mut rects: Vec<Rect> = Vec::new();
        for line in out.lines().filter(|s| s.trim_start().starts_with("<text")) {
            let attr = |name: &str| -> f64 {
                let k = format!(" {name}=\"");
                let i = line.find(&k).unwrap() + k.len();
                line[i..].split('"').next().unwrap().parse().unwrap()
            };
            let text = line.split('>').nth(1).unwrap().split('<').next().unwrap();
            let w = text_width(text, 10.0) + 6.0;
            let start = line.contains("text-anchor=\"start\"");
            let r = Rect {
                x: attr("x") - if start { 0.0 } else { w / 2.0 },
                y: attr("y") - 10.0,
                w,
                h: 11.0,
            };
            for n in l.nodes.values() {
                assert!(!n.overlaps(&r), "{text} on a box");
            }
            for o in &rects {
                assert!(!o.overlaps(&r), "{text} on another label");
            }
            rects.push(r);
        }
        assert!(
            rects.len() >= 10,
            "most links are labelled: {}",
            rects.len()
        );
    }

    #[test]
    fn long_names_are_shortened_in_boxes_but_kept_in_tooltips() {
        assert_eq!(fit("short", 19), "short");
        assert_eq!(fit("a-very-long-element-name", 10), "a-very-lo…");
        assert_eq!(fit("ab", 0), "…");
    }

    /// Statements of a DOT text, with quoted strings kept whole; checks
    /// that braces balance outside strings.
    fn statements(dot: &str) -> Vec<String> {
        let mut depth = 0i32;
        let mut out = Vec::new();
        let mut cur = String::new();
        let mut chars = dot.chars();
        let mut in_str = false;
        while let Some(c) = chars.next() {
            if in_str {
                cur.push(c);
                match c {
                    '\\' => cur.extend(chars.next()),
                    '"' => in_str = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => {
                    in_str = true;
                    cur.push(c);
                }
                '{' | '}' | ';' => {
                    depth += match c {
                        '{' => 1,
                        '}' => -1,
                        _ => 0,
                    };
                    assert!(depth >= 0, "a brace closes what never opened");
                    if !cur.trim().is_empty() {
                        out.push(cur.trim().to_string());
                    }
                    cur.clear();
                }
                _ => cur.push(c),
            }
        }
        assert!(!in_str, "a string never ends");
        assert_eq!(depth, 0, "braces balance");
        out
    }

    /// The quoted ID a statement starts with.
    fn first_id(stmt: &str) -> Option<String> {
        let rest = stmt.strip_prefix('"')?;
        let mut id = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => {
                    id.push(c);
                    id.extend(chars.next());
                }
                '"' => return Some(id),
                c => id.push(c),
            }
        }
        None
    }

    fn check_dot(t: &Topology) {
        let dot = topology_dot(t);
        let stmts = statements(&dot);
        let mut declared: BTreeMap<String, usize> = BTreeMap::new();
        let mut edges = Vec::new();
        for s in &stmts {
            let Some(id) = first_id(s) else { continue };
            let after = s[id.len() + 2..].trim_start();
            if let Some(rest) = after.strip_prefix("--") {
                let other = first_id(rest.trim_start()).expect("edge has a far end");
                edges.push((id, other));
            } else if after.starts_with('[') {
                *declared.entry(id).or_default() += 1;
            }
        }
        let unquote = |s: &str| quote(s)[1..quote(s).len() - 1].to_string();
        for n in t.nodes() {
            let id = unquote(&t.node(n).name);
            assert_eq!(declared.get(&id), Some(&1), "{id} declared once");
        }
        for c in &t.circuits {
            assert_eq!(
                declared.get(&unquote(&c.name)),
                Some(&1),
                "{} declared once",
                c.name
            );
        }
        assert_eq!(declared.len(), t.graph.node_count() + t.circuits.len());
        for (a, b) in &edges {
            assert!(
                declared.contains_key(a) && declared.contains_key(b),
                "{a} -- {b}"
            );
        }
        let er_links = t
            .links()
            .filter(|&l| t.link(l).kind == LinkKind::ExpressRoute)
            .count();
        assert_eq!(edges.len(), t.graph.edge_count() + er_links);
        for lane in crate::model::Segment::ALL {
            let cluster = format!("subgraph \"cluster_{}\"", lane.key());
            assert_eq!(dot.matches(&cluster).count(), 1, "{cluster}");
            assert!(dot.contains(&format!("label=\"{}\"", lane.title())));
        }
    }

    #[test]
    fn dot_is_well_formed() {
        check_dot(&multi_site());
        check_dot(&partners());
        check_dot(&hostile());
    }

    #[test]
    fn dot_quotes_hostile_names() {
        let dot = topology_dot(&hostile());
        assert!(dot.starts_with("graph \"evil \\\"graph\\\" {\" {\n"));
        assert!(dot.contains("\"a&b\\\"\" -- \"n}{\""));
        assert!(dot.contains("\"svc\\\\N\\\\l\""), "backslashes doubled");
        assert_eq!(quote("a\u{7}b\nc"), "\"a b\\nc\"");
    }

    #[test]
    fn dot_draws_circuits_in_the_expressroute_cluster() {
        let t = multi_site();
        let dot = topology_dot(&t);
        let er = dot.find("subgraph \"cluster_expressroute\"").unwrap();
        let ms = dot.find("subgraph \"cluster_microsoft\"").unwrap();
        let circuit = dot
            .find("\"er-nyc\" [label=\"er-nyc\\n200 Mbps · Premium\\nat New York\"")
            .unwrap();
        assert!(er < circuit && circuit < ms);
        assert!(dot.contains("\"hq-er-ce\" -- \"er-nyc\" [color=\"#8e24aa\""));
        assert!(dot.contains("label=\"secondary · 200 Mbps\""));
        assert!(dot.contains("\"hq\" -- \"hq-core\" [color=\"#455a64\""));
        assert_eq!(topology_dot(&t), dot);
    }
}
