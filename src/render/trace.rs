//! Traced paths drawn over the four segment lanes, in the manner of the
//! source document's call-flow diagrams.
//!
//! Owns the trace picture: the topology underneath, faint; each
//! participant's (or flow's) forward path as a coloured polyline through
//! its hops, and the return path where it came back by other links;
//! signaling dashed, media solid, replies dotted; a red ✕ where a flow
//! broke, with the verdict beside it; and a legend listing every leg with
//! its labels and verdict.
//!
//! Leaves out tracing ([`crate::trace`] produces the traces) and the
//! geometry of the network ([`super::layout`](mod@super::layout)): a path follows the drawn
//! route of every link it crosses.

use std::collections::BTreeSet;

use super::graph::{self, FONT, fit, segment_colour, text_width};
use super::layout::{self, Layout, Point, Rect};
use super::svg::{self, Document, Element};
use crate::calls::{CallTrace, MediaVia};
use crate::model::{NodeId, Topology};
use crate::net::flow::{FlowTrace, VerdictText};
use crate::net::packet::TrafficClass;
use crate::net::walk::Walk;
use crate::trace::ProbeTrace;

/// Colours of the legs, in order; distinct from the segment colours and
/// from the drop marker's red.
const PALETTE: [&str; 8] = [
    "#00897b", "#d81b60", "#3949ab", "#7cb342", "#6d4c41", "#00acc1", "#f9a825", "#5e35b1",
];
/// The drop marker's colour.
const DROP: &str = "#c62828";
/// Height of one line of the legend.
const ROW_H: f64 = 18.0;
/// Spacing between parallel paths over the same link.
const SPREAD: f64 = 3.5;

/// What a path carries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Carries {
    Signaling,
    Media,
}

/// One walk to draw.
struct PathDraw<'a> {
    walk: &'a Walk,
    carries: Carries,
    /// A reply coming back by other links than the request went.
    reply: bool,
}

/// One participant's (or flow's) part of a probe.
struct LegDraw<'a> {
    probe: &'a str,
    who: String,
    what: String,
    verdict: String,
    paths: Vec<PathDraw<'a>>,
    /// Where it broke, and the verdict in words.
    drops: Vec<(NodeId, String)>,
}

/// Draws `traces` over the four lanes of `t`: every leg's path in its own
/// colour, drop points marked with a ✕, a legend underneath.
pub fn trace_svg(t: &Topology, traces: &[ProbeTrace]) -> String {
    let l = layout::layout(t);
    let legs: Vec<LegDraw> = traces.iter().flat_map(|p| probe_legs(t, p)).collect();
    let (legend, legend_h, legend_w) = legend(&legs, traces, l.height);
    let width = l.width.max(legend_w);
    let height = l.height + legend_h;
    let names: Vec<&str> = traces.iter().map(|p| p.name.as_str()).collect();
    let mut doc = Document::new(width, height)
        .attr("font-family", FONT)
        .attr("font-size", "12");
    doc.push(svg::title(format!(
        "{}: traced {}",
        t.name,
        if names.is_empty() {
            "nothing (no probes)".to_string()
        } else {
            names.join(", ")
        }
    )));
    doc.push(graph::markers());
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
    let mut faint = svg::group()
        .attr("class", "network")
        .attr("opacity", "0.35");
    for layer in graph::network(t, &l) {
        faint = faint.child(layer);
    }
    doc.push(faint);
    doc.push(paths(t, &l, &legs));
    let on_path: BTreeSet<NodeId> = legs
        .iter()
        .flat_map(|leg| leg.paths.iter())
        .flat_map(|p| p.walk.hops.iter().map(|h| h.node))
        .collect();
    doc.push(
        svg::group()
            .attr("class", "hops")
            .child(graph::nodes(t, &l, |n| on_path.contains(&n))),
    );
    doc.push(drops(t, &l, &legs));
    doc.push(legend);
    doc.render()
}

fn probe_legs<'a>(t: &Topology, p: &'a ProbeTrace) -> Vec<LegDraw<'a>> {
    let mut legs: Vec<LegDraw> = p
        .flows
        .iter()
        .map(|(who, f)| {
            let carries = if f.spec.class.is_media() || f.spec.class == TrafficClass::Stun {
                Carries::Media
            } else {
                Carries::Signaling
            };
            let mut paths = Vec::new();
            flow_paths(f, carries, &mut paths);
            LegDraw {
                probe: &p.name,
                who: who.clone(),
                what: format!(
                    "{} {} {}: {}",
                    f.spec.class.word(),
                    f.spec.protocol,
                    f.spec.dst_port,
                    f.label(t)
                ),
                verdict: verdict_text(t, f),
                paths,
                drops: flow_drop(t, f).into_iter().collect(),
            }
        })
        .collect();
    if let Some(call) = &p.call {
        legs.extend(call_legs(t, &p.name, call));
    }
    legs
}

fn call_legs<'a>(t: &Topology, probe: &'a str, call: &'a CallTrace) -> Vec<LegDraw<'a>> {
    let mut legs = Vec::new();
    for (i, leg) in call.legs.iter().enumerate() {
        let mut paths = Vec::new();
        let mut drops = Vec::new();
        for f in &leg.signaling {
            flow_paths(f, Carries::Signaling, &mut paths);
            drops.extend(flow_drop(t, f));
        }
        let media = call.media_summary(t, i);
        match leg.media.as_ref().map(|m| &m.via) {
            Some(MediaVia::Stream(flow)) => {
                flow_paths(flow, Carries::Media, &mut paths);
                drops.extend(flow_drop(t, flow));
            }
            Some(MediaVia::Ice {
                negotiation,
                controlling,
            }) => {
                if let Some(route) = &call.negotiations[*negotiation].route {
                    let own = if *controlling {
                        &route.forward
                    } else {
                        &route.back
                    };
                    paths.extend(own.iter().map(|walk| PathDraw {
                        walk,
                        carries: Carries::Media,
                        reply: false,
                    }));
                }
            }
            None => {}
        }
        let signaling_failure = leg.signaling.iter().find(|f| !f.verdict.is_ok());
        let verdict = match (signaling_failure, &media) {
            _ if leg.signaling.is_empty() => "no home server for this participant".to_string(),
            (Some(f), _) => format!("signaling {}", verdict_text(t, f)),
            (None, Some(m)) => m.verdict.clone(),
            (None, None) => "ok".into(),
        };
        let what = match &media {
            Some(m) => {
                let relays: Vec<&str> = m.relays.iter().map(|r| t.node(*r).name.as_str()).collect();
                format!(
                    "signaling {}, media {} ({}{}{})",
                    leg.signaling_label(t),
                    m.label,
                    m.path.map(|p| p.word()).unwrap_or("none"),
                    m.protocol.map(|p| format!(" {p}")).unwrap_or_default(),
                    if relays.is_empty() {
                        String::new()
                    } else {
                        format!(" via {}", relays.join(" and "))
                    }
                )
            }
            None => format!("signaling {}, no media", leg.signaling_label(t)),
        };
        legs.push(LegDraw {
            probe,
            who: leg.participant.clone(),
            what,
            verdict,
            paths,
            drops,
        });
    }
    if !call.server_signaling.is_empty() {
        let mut paths = Vec::new();
        let mut drops = Vec::new();
        for f in &call.server_signaling {
            flow_paths(f, Carries::Signaling, &mut paths);
            drops.extend(flow_drop(t, f));
        }
        let verdict = call
            .server_signaling
            .iter()
            .find(|f| !f.verdict.is_ok())
            .map(|f| verdict_text(t, f))
            .unwrap_or_else(|| "ok".into());
        legs.push(LegDraw {
            probe,
            who: "server signaling".into(),
            what: "between servers".into(),
            verdict,
            paths,
            drops,
        });
    }
    legs
}

/// A flow's walks: every leg's request, and its reply where the reply came
/// back by other links (a symmetric reply would only retrace the request).
fn flow_paths<'a>(f: &'a FlowTrace, carries: Carries, out: &mut Vec<PathDraw<'a>>) {
    for leg in &f.legs {
        out.push(PathDraw {
            walk: &leg.forward,
            carries,
            reply: false,
        });
        if let Some(back) = &leg.back {
            let mut there: Vec<_> = leg.forward.links().collect();
            there.reverse();
            if there != back.links().collect::<Vec<_>>() {
                out.push(PathDraw {
                    walk: back,
                    carries,
                    reply: true,
                });
            }
        }
    }
}

fn verdict_text(t: &Topology, f: &FlowTrace) -> String {
    VerdictText {
        topology: t,
        verdict: &f.verdict,
    }
    .to_string()
}

/// Where a flow broke, with its verdict, if it did.
fn flow_drop(t: &Topology, f: &FlowTrace) -> Option<(NodeId, String)> {
    f.verdict.at().map(|n| (n, verdict_text(t, f)))
}

/// The points a walk passes, following each link's drawn route.
fn walk_points(t: &Topology, l: &Layout, w: &Walk) -> Vec<Point> {
    let mut pts: Vec<Point> = Vec::new();
    let centre = |n: NodeId| l.nodes.get(&n).map(|r| r.center());
    for (i, hop) in w.hops.iter().enumerate() {
        let Some(link) = hop.left_by else { continue };
        let route: Vec<Point> = match l.links.get(&link) {
            Some(route) if t.ends(link).0 == hop.node => route.clone(),
            Some(route) => route.iter().rev().copied().collect(),
            None => {
                let next = w.hops.get(i + 1).map(|h| h.node);
                centre(hop.node)
                    .into_iter()
                    .chain(next.and_then(centre))
                    .collect()
            }
        };
        for p in route {
            if pts.last() != Some(&p) {
                pts.push(p);
            }
        }
    }
    pts
}

fn paths(t: &Topology, l: &Layout, legs: &[LegDraw]) -> Element {
    let mut g = svg::group()
        .attr("class", "paths")
        .attr("fill", "none")
        .attr("stroke-linejoin", "round")
        .attr("stroke-linecap", "round");
    let mut k = 0usize;
    for (i, leg) in legs.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        for p in &leg.paths {
            let pts = walk_points(t, l, p.walk);
            if pts.len() < 2 {
                continue;
            }
            // Parallel paths over one link side by side, not on top of each other.
            let off = ((k % 7) as f64 - 3.0) * SPREAD;
            k += 1;
            let pts: Vec<Point> = pts
                .iter()
                .map(|q| Point {
                    x: q.x + off,
                    y: q.y + off,
                })
                .collect();
            let (width, dash) = match (p.carries, p.reply) {
                (Carries::Media, false) => ("4.5", None),
                (Carries::Signaling, false) => ("2.5", Some("9 5")),
                (Carries::Media, true) => ("3.5", Some("0.5 7")),
                (Carries::Signaling, true) => ("2.5", Some("0.5 6")),
            };
            let mut e = svg::polyline(&pts)
                .attr("class", if p.reply { "reply" } else { "request" })
                .attr("stroke", colour)
                .attr("stroke-width", width)
                .attr("stroke-opacity", "0.9");
            if let Some(d) = dash {
                e = e.attr("stroke-dasharray", d);
            }
            let names: Vec<&str> = p
                .walk
                .hops
                .iter()
                .map(|h| t.node(h.node).name.as_str())
                .collect();
            let what = match p.carries {
                Carries::Signaling => "signaling",
                Carries::Media => "media",
            };
            let way = if p.reply { "reply" } else { "request" };
            g = g.child(e.tooltip(format!(
                "{} · {}: {what} {way}: {}",
                leg.probe,
                leg.who,
                names.join(" → ")
            )));
            if let Some(arrow) = arrow(&pts, colour) {
                g = g.child(arrow);
            }
        }
    }
    g
}

/// A small arrowhead halfway along the longest piece of a path, pointing
/// the way the packet goes.
fn arrow(pts: &[Point], colour: &str) -> Option<Element> {
    let (a, b) = pts
        .windows(2)
        .map(|w| (w[0], w[1]))
        .max_by(|x, y| len(*x).total_cmp(&len(*y)))?;
    if len((a, b)) < 30.0 {
        return None;
    }
    let mid = Point {
        x: (a.x + b.x) / 2.0,
        y: (a.y + b.y) / 2.0,
    };
    let angle = (b.y - a.y).atan2(b.x - a.x).to_degrees();
    Some(
        svg::path("M-6,-5 L6,0 L-6,5 z")
            .attr("fill", colour)
            .attr("stroke", "none")
            .attr(
                "transform",
                format!(
                    "translate({} {}) rotate({})",
                    svg::num(mid.x),
                    svg::num(mid.y),
                    svg::num(angle)
                ),
            ),
    )
}

fn len((a, b): (Point, Point)) -> f64 {
    (b.x - a.x).hypot(b.y - a.y)
}

/// A ✕ on the corner of every element where a flow broke, and its verdict.
fn drops(t: &Topology, l: &Layout, legs: &[LegDraw]) -> Element {
    let mut g = svg::group().attr("class", "drops");
    let mut seen: BTreeSet<(NodeId, &str)> = BTreeSet::new();
    let mut stacked: std::collections::BTreeMap<NodeId, usize> = Default::default();
    for leg in legs {
        for (node, verdict) in &leg.drops {
            if !seen.insert((*node, verdict.as_str())) {
                continue;
            }
            let Some(r) = l.nodes.get(node) else { continue };
            let n = stacked.entry(*node).or_default();
            let at = Point {
                x: r.right() - 4.0,
                y: r.y + 2.0,
            };
            let label = format!("✕ {}", fit(verdict, 70));
            let w = text_width(&label, 12.0) + 10.0;
            // Above the box, kept inside the drawing on the right.
            let label_at = Point {
                x: r.x.min(l.width - w).max(4.0),
                y: r.y - 8.0 - *n as f64 * 16.0,
            };
            *n += 1;
            g = g.child(
                svg::group()
                    .attr("class", "drop-marker")
                    .child(
                        svg::circle(at, 12.0)
                            .attr("fill", "#ffffff")
                            .attr("stroke", DROP)
                            .attr("stroke-width", "3"),
                    )
                    .child(
                        svg::path(format!(
                            "M{},{} l12,12 M{},{} l-12,12",
                            svg::num(at.x - 6.0),
                            svg::num(at.y - 6.0),
                            svg::num(at.x + 6.0),
                            svg::num(at.y - 6.0)
                        ))
                        .attr("stroke", DROP)
                        .attr("stroke-width", "3.5")
                        .attr("stroke-linecap", "round"),
                    )
                    .child(
                        svg::rect(
                            Rect {
                                x: label_at.x - 4.0,
                                y: label_at.y - 13.0,
                                w,
                                h: 17.0,
                            },
                            3.0,
                        )
                        .attr("fill", "#ffffff")
                        .attr("fill-opacity", "0.92")
                        .attr("stroke", DROP),
                    )
                    .child(
                        svg::text(label_at, label)
                            .attr("fill", DROP)
                            .attr("font-weight", "bold"),
                    )
                    .tooltip(format!(
                        "{} · {}: {verdict} (at {})",
                        leg.probe,
                        leg.who,
                        t.node(*node).name
                    )),
            );
        }
    }
    g
}

/// The legend under the lanes: line styles, then one line per leg. Returns
/// it, its height and the width it needs.
fn legend(legs: &[LegDraw], traces: &[ProbeTrace], top: f64) -> (Element, f64, f64) {
    let mut g = svg::group().attr("class", "legend").attr("font-size", "11");
    let mut y = top + 24.0;
    let mut x = 16.0;
    g = g.child(svg::text(Point { x, y: y + 4.0 }, "Paths").attr("font-weight", "bold"));
    x += 60.0;
    let styles: [(&str, &str, Option<&str>); 4] = [
        ("media, request", "4.5", None),
        ("signaling, request", "2.5", Some("9 5")),
        ("media reply by other links", "3.5", Some("0.5 7")),
        ("signaling reply by other links", "2.5", Some("0.5 6")),
    ];
    for (label, width, dash) in styles {
        let mut line = svg::line(Point { x, y }, Point { x: x + 34.0, y })
            .attr("stroke", "#37474f")
            .attr("stroke-width", width)
            .attr("stroke-linecap", "round");
        if let Some(d) = dash {
            line = line.attr("stroke-dasharray", d);
        }
        g = g.child(line).child(svg::text(
            Point {
                x: x + 40.0,
                y: y + 4.0,
            },
            label,
        ));
        x += 40.0 + text_width(label, 11.0) + 20.0;
    }
    g = g
        .child(
            svg::text(Point { x, y: y + 5.0 }, "✕")
                .attr("fill", DROP)
                .attr("font-weight", "bold")
                .attr("font-size", "15"),
        )
        .child(svg::text(
            Point {
                x: x + 18.0,
                y: y + 4.0,
            },
            "where a flow broke, with its verdict",
        ));
    let mut width: f64 = x + 18.0 + text_width("where a flow broke, with its verdict", 11.0) + 16.0;
    x = 16.0;
    y += 26.0;
    for p in traces {
        let title = match &p.description {
            Some(d) => format!("probe {} ({}): {d}", p.name, p.kind),
            None => format!("probe {} ({})", p.name, p.kind),
        };
        g = g.child(svg::text(Point { x, y: y + 4.0 }, title.clone()).attr("font-weight", "bold"));
        width = width.max(x + text_width(&title, 11.0) + 16.0);
        y += ROW_H;
        for (i, leg) in legs.iter().enumerate().filter(|(_, l)| l.probe == p.name) {
            let colour = PALETTE[i % PALETTE.len()];
            let broke = leg.verdict != "ok";
            let line = format!("{}: {} — {}", leg.who, leg.what, leg.verdict);
            g = g
                .child(
                    svg::line(Point { x: x + 8.0, y }, Point { x: x + 42.0, y })
                        .attr("stroke", colour)
                        .attr("stroke-width", "4.5")
                        .attr("stroke-linecap", "round"),
                )
                .child(
                    svg::text(
                        Point {
                            x: x + 50.0,
                            y: y + 4.0,
                        },
                        line.clone(),
                    )
                    .attr("fill", if broke { DROP } else { "#263238" }),
                );
            width = width.max(x + 50.0 + text_width(&line, 11.0) + 16.0);
            y += ROW_H;
        }
        y += 6.0;
    }
    let legend_h = y - top + 8.0;
    let rule = svg::line(Point { x: 0.0, y: top }, Point { x: width, y: top })
        .attr("stroke", segment_colour(crate::model::Segment::Customer))
        .attr("stroke-opacity", "0.3");
    (g.child(rule), legend_h, width)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceFile;
    use crate::validate::{Study, study_from_sources};

    fn lesson_text(name: &str) -> (String, String) {
        let root = env!("CARGO_MANIFEST_DIR");
        let read = |p: String| std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p}: {e}"));
        (
            read(format!("{root}/topologies/teaching/{name}.toml")),
            read(format!("{root}/scenarios/teaching/{name}.toml")),
        )
    }

    fn study(topology: String, scenario: String) -> Study {
        study_from_sources(
            SourceFile::new("t.toml", topology),
            SourceFile::new("s.toml", scenario),
        )
        .unwrap_or_else(|d| panic!("{}", crate::diag::InvalidInput::from(d).render()))
    }

    fn draw(study: &Study) -> (String, Vec<ProbeTrace>) {
        let traces = crate::trace::trace_probes(&study.topology, &study.scenario, None);
        (trace_svg(&study.topology, &traces), traces)
    }

    /// Whether the trace JSON says some flow broke at an element: dropped
    /// one way or the other, misdelivered, or broken by a proxy.
    fn json_says_dropped(study: &Study, traces: &[ProbeTrace]) -> bool {
        let doc = crate::trace::document(&study.topology, &study.scenario, traces);
        doc.probes.iter().flat_map(|p| &p.legs).any(|l| {
            ["dropped:", "misdelivered:", "broken:"]
                .iter()
                .any(|w| l.verdict.contains(w))
        })
    }

    fn parses(svg: &str) {
        let doc = roxmltree::Document::parse(svg).unwrap_or_else(|e| panic!("not XML: {e}"));
        assert_eq!(doc.root_element().tag_name().name(), "svg");
    }

    #[test]
    fn a_return_drop_is_marked_where_the_reply_died() {
        let (t, s) = lesson_text("asymmetric-a");
        let study = study(t, s);
        let (svg, traces) = draw(&study);
        parses(&svg);
        assert!(json_says_dropped(&study, &traces));
        assert_eq!(svg.matches("class=\"drop-marker\"").count(), 1, "{svg}");
        assert!(svg.contains("✕ return-dropped: no session on inet-fw"));
        // The request went out over ExpressRoute, the reply came back by the
        // Internet: both are drawn.
        assert_eq!(svg.matches("class=\"request\"").count(), 1);
        assert_eq!(svg.matches("class=\"reply\"").count(), 1);
        assert!(svg.contains("media request: office → core → edge-nat"));
        assert!(svg.contains("media reply: us-east-online-edge → us-east → internet → inet-fw"));
    }

    #[test]
    fn a_drop_marker_is_drawn_exactly_when_a_verdict_is_a_drop() {
        // Both cases must occur among the lessons for the test to mean anything.
        let mut seen = [false; 2];
        for name in [
            "asymmetric-a",
            "asymmetric-b",
            "hotel-udp-blocked",
            "inbound-no-snat",
            "proxy-signaling",
        ] {
            for variant in [name.to_string(), format!("{name}-fixed")] {
                let (t, s) = lesson_text(&variant);
                let study = study(t, s);
                let (svg, traces) = draw(&study);
                parses(&svg);
                let marked = svg.contains("class=\"drop-marker\"");
                assert_eq!(marked, json_says_dropped(&study, &traces), "{variant}");
                seen[usize::from(marked)] = true;
            }
        }
        assert_eq!(seen, [true, true], "lessons with and without drops");
    }

    #[test]
    fn names_from_the_files_are_escaped() {
        let (t, s) = lesson_text("asymmetric-a");
        let study = study(
            t.replace("\"office\"", "\"off<&>ice\""),
            s.replace("\"office\"", "\"off<&>ice\"")
                .replace("\"staff\"", "\"st<&>aff\""),
        );
        let (svg, _) = draw(&study);
        parses(&svg);
        assert!(svg.contains("off&lt;&amp;&gt;ice"));
        assert!(svg.contains("st&lt;&amp;&gt;aff"));
        assert!(!svg.contains("<&>"));
    }

    #[test]
    fn same_traces_same_picture() {
        let (t, s) = lesson_text("hotel-udp-blocked");
        let study = study(t, s);
        assert_eq!(draw(&study).0, draw(&study).0);
    }
}
