//! The report page: one HTML file with its CSS and SVG inline.
//!
//! Owns the page's sections and tables, and HTML escaping: every text that
//! came from a file (names of elements, links, groups, probes) goes through
//! [`esc`], so a name like `<script>` shows as text.
//!
//! Leaves out the charts' geometry ([`super::chart`]) and the findings'
//! rules ([`super::findings`]).

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

use super::chart::{Chart, Line, line_chart};
use super::findings::findings;
use super::{Series, percent, rate};

/// What the page is built from: a results directory's files, parsed.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// `summary.json`.
    pub summary: Value,
    /// `manifest.json`, if present.
    pub manifest: Option<Value>,
    /// `trace.json`, if present.
    pub trace: Option<Value>,
    /// `compare.json`, if present.
    pub compare: Option<Value>,
    /// `topology.svg`, if present.
    pub topology_svg: Option<String>,
    /// The all-class time series of `timeseries.csv`.
    pub series: Series,
    /// The directory's files and sizes.
    pub listing: Vec<(&'static str, usize)>,
}

/// How many of the busiest links get a chart.
const CHARTED_LINKS: usize = 6;

const CSS: &str = "
body{font-family:'Segoe UI',Helvetica,Arial,sans-serif;margin:0;color:#263238;background:#fafbfc}
header{background:#0d47a1;color:#fff;padding:18px 28px}
header h1{margin:0 0 4px;font-size:22px}
header p{margin:2px 0;opacity:.9;font-size:13px}
header code{background:rgba(255,255,255,.18);color:#fff}
main{padding:8px 28px 40px}
section{margin:22px 0}
h2{font-size:18px;border-bottom:2px solid #cfd8dc;padding-bottom:4px}
h3{font-size:15px;margin:16px 0 6px}
table{border-collapse:collapse;font-size:13px;margin:6px 0 12px;background:#fff}
th,td{border:1px solid #dde3e7;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eceff1}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{display:inline-block;height:9px;background:#1e88e5;margin-right:6px;vertical-align:middle}
.bar.hot{background:#ef6c00}.bar.over{background:#c62828}
.finding{border-left:6px solid #ef6c00;background:#fff;padding:8px 14px;margin:10px 0}
.finding.problem{border-color:#c62828}
.finding h3{margin:2px 0 4px}
.finding .fix{margin:4px 0 2px}
.ok{color:#2e7d32}.bad{color:#c62828;font-weight:bold}
.charts{display:flex;flex-wrap:wrap;gap:12px}
.charts svg{background:#fff;border:1px solid #dde3e7}
.topology{overflow-x:auto;background:#fff;border:1px solid #dde3e7}
.topology svg{display:block;max-width:100%;height:auto}
.note{color:#607d8b;font-size:13px}
code{background:#eceff1;padding:1px 4px}
";

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn num(v: &Value, key: &str) -> f64 {
    v.get(key).and_then(Value::as_f64).unwrap_or(0.0)
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

/// Colour of a segment's line, as in the topology drawing.
fn segment_colour(key: &str) -> &'static str {
    match key {
        "customer" => "#455a64",
        "internet" => "#ef6c00",
        "expressroute" => "#8e24aa",
        _ => "#1e88e5",
    }
}

const SEGMENTS: [(&str, &str); 4] = [
    ("customer", "Your network"),
    ("internet", "Internet"),
    ("expressroute", "ExpressRoute"),
    ("microsoft", "Microsoft network"),
];

/// The whole page.
pub fn page(i: &Inputs) -> String {
    let run = i.summary.get("run").cloned().unwrap_or(Value::Null);
    let mut out = String::new();
    let title = format!(
        "callflow report: {} / {}",
        text(&run, "topology"),
        text(&run, "scenario")
    );
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    let _ = writeln!(out, "<header><h1>{}</h1>", esc(&title));
    let _ = writeln!(
        out,
        "<p>{} replication(s) of {:.1} h simulated, time bins of {:.0} min</p>",
        num(&run, "replications"),
        num(&run, "duration_s") / 3600.0,
        num(&run, "bin_s") / 60.0
    );
    if let Some(m) = &i.manifest {
        let _ = writeln!(
            out,
            "<p>Made by <code>{}</code> (callflow {}, variant {}, seed {})</p>",
            esc(text(m, "command")),
            esc(text(m, "callflow_version")),
            esc(text(m, "variant")),
            m.get("seed").map(|s| s.to_string()).unwrap_or_default()
        );
    }
    out.push_str("</header>\n<main>\n");
    findings_section(&mut out, i);
    topology_section(&mut out, i);
    segments_section(&mut out, i);
    links_section(&mut out, i);
    calls_section(&mut out, i);
    call_flow_section(&mut out, i);
    if let Some(c) = &i.compare {
        out.push_str("<section id=\"compare\"><h2>Comparison</h2>\n");
        out.push_str("<p class=\"note\">From compare.json.</p>\n");
        generic(&mut out, c, 3);
        out.push_str("</section>\n");
    }
    files_section(&mut out, i);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

fn findings_section(out: &mut String, i: &Inputs) {
    let list = findings(&i.summary, i.trace.as_ref());
    out.push_str("<section id=\"findings\"><h2>Findings</h2>\n");
    if list.is_empty() {
        out.push_str("<p class=\"ok\">Nothing needs attention: every probe works, no link peaks above 80% of its capacity, and no call was blocked or failed.</p>\n");
    }
    for f in &list {
        let _ = writeln!(
            out,
            "<div class=\"finding {}\"><h3>{}</h3><p>{}</p><p class=\"fix\"><b>Fix:</b> {}</p></div>",
            f.severity.word(),
            esc(&f.title),
            esc(&f.detail),
            esc(&f.fix)
        );
    }
    out.push_str("</section>\n");
}

fn topology_section(out: &mut String, i: &Inputs) {
    out.push_str("<section id=\"topology\"><h2>Topology in four segments</h2>\n");
    match &i.topology_svg {
        // Inlined only as callflow writes it: an SVG without scripts.
        Some(svg)
            if svg.starts_with("<svg")
                && !svg.to_ascii_lowercase().contains("<script")
                && !svg.to_ascii_lowercase().contains("<foreignobject") =>
        {
            let _ = write!(out, "<div class=\"topology\">\n{svg}</div>\n");
        }
        Some(_) => out.push_str(
            "<p class=\"note\">topology.svg is not a drawing callflow made; not shown.</p>\n",
        ),
        None => out.push_str("<p class=\"note\">This directory has no topology.svg.</p>\n"),
    }
    out.push_str("</section>\n");
}

/// Tick labels for a series: about six, evenly spaced, by time of day.
fn ticks(samples: &[super::Sample]) -> Vec<(f64, String)> {
    let every = samples.len().div_ceil(6).max(1);
    samples
        .iter()
        .step_by(every)
        .map(|s| {
            (
                s.at_s,
                s.time_of_day.get(..5).unwrap_or(&s.time_of_day).to_string(),
            )
        })
        .collect()
}

fn points(samples: &[super::Sample]) -> Vec<(f64, f64)> {
    samples.iter().map(|s| (s.at_s, s.mean_bps)).collect()
}

fn segments_section(out: &mut String, i: &Inputs) {
    out.push_str("<section id=\"segments\"><h2>Segments</h2>\n");
    out.push_str("<table><tr><th>Segment</th><th>Data</th><th>Mean</th><th>Peak</th><th>p95</th><th>p99</th></tr>\n");
    let segs = i.summary.get("segments");
    for (key, title) in SEGMENTS {
        let s = segs.and_then(|s| s.get(key)).unwrap_or(&Value::Null);
        let _ = writeln!(
            out,
            "<tr><td>{title}</td><td class=\"n\">{:.2} GB</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            num(s, "bytes") / 1e9,
            rate(num(s, "mean_bps")),
            rate(num(s, "peak_bps")),
            rate(num(s, "p95_bps")),
            rate(num(s, "p99_bps"))
        );
    }
    out.push_str("</table>\n");
    let lines: Vec<Line> = SEGMENTS
        .iter()
        .filter_map(|(key, title)| {
            i.series
                .get(&("segment".to_string(), key.to_string(), String::new()))
                .map(|s| Line {
                    name: title.to_string(),
                    colour: segment_colour(key),
                    points: points(s),
                })
        })
        .collect();
    let first = SEGMENTS.iter().find_map(|(key, _)| {
        i.series
            .get(&("segment".to_string(), key.to_string(), String::new()))
    });
    if let Some(first) = first {
        out.push_str("<div class=\"charts\">\n");
        out.push_str(&line_chart(&Chart {
            title: "Traffic per segment (mean per time bin)".into(),
            lines: lines.clone(),
            ticks: ticks(first),
            limit: None,
        }));
        for l in lines {
            out.push_str(&line_chart(&Chart {
                title: l.name.clone(),
                ticks: ticks(first),
                lines: vec![l],
                limit: None,
            }));
        }
        out.push_str("</div>\n");
    } else {
        out.push_str("<p class=\"note\">No timeseries.csv: no charts over time.</p>\n");
    }
    out.push_str("</section>\n");
}

fn utilization_cell(u: Option<f64>) -> String {
    match u {
        None => "<td class=\"n\">—</td>".into(),
        Some(u) => {
            let class = if u > 1.0 {
                "bar over"
            } else if u > 0.8 {
                "bar hot"
            } else {
                "bar"
            };
            format!(
                "<td class=\"n\"><span class=\"{class}\" style=\"width:{:.0}px\"></span>{}</td>",
                (u.min(1.0) * 80.0).max(1.0),
                percent(u)
            )
        }
    }
}

fn links_section(out: &mut String, i: &Inputs) {
    out.push_str("<section id=\"links\"><h2>Links</h2>\n");
    let mut links: Vec<&Value> = i
        .summary
        .get("links")
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    let util = |l: &Value| l.get("peak_utilization").and_then(Value::as_f64);
    links.sort_by(|a, b| {
        util(b)
            .unwrap_or(-1.0)
            .total_cmp(&util(a).unwrap_or(-1.0))
            .then(text(a, "name").cmp(text(b, "name")))
            .then(text(a, "direction").cmp(text(b, "direction")))
    });
    // The busiest links by peak utilization, each charted in both directions.
    let mut busiest: Vec<&str> = Vec::new();
    for l in &links {
        if busiest.len() == CHARTED_LINKS {
            break;
        }
        if util(l).unwrap_or(0.0) > 0.0 && !busiest.contains(&text(l, "name")) {
            busiest.push(text(l, "name"));
        }
    }
    if !busiest.is_empty() {
        let _ = writeln!(
            out,
            "<h3>The {} busiest links over time</h3>\n<div class=\"charts\">",
            busiest.len()
        );
        const DIRS: [&str; 2] = ["#1e88e5", "#ef6c00"];
        for name in &busiest {
            let mut lines = Vec::new();
            let mut capacity = None;
            let mut tick_source = None;
            for l in links.iter().filter(|l| text(l, "name") == *name) {
                let key = (
                    "link".to_string(),
                    name.to_string(),
                    text(l, "direction").to_string(),
                );
                capacity = Some(num(l, "capacity_bps"));
                if let Some(s) = i.series.get(&key) {
                    tick_source.get_or_insert(s);
                    lines.push((text(l, "direction").to_string(), points(s)));
                }
            }
            lines.sort_by(|a, b| a.0.cmp(&b.0));
            let Some(ticks_from) = tick_source else {
                continue;
            };
            out.push_str(&line_chart(&Chart {
                title: format!(
                    "{name} (peak {})",
                    percent(
                        links
                            .iter()
                            .filter(|l| text(l, "name") == *name)
                            .filter_map(|l| util(l))
                            .fold(0.0, f64::max)
                    )
                ),
                lines: lines
                    .into_iter()
                    .zip(DIRS.iter().cycle())
                    .map(|((name, points), colour)| Line {
                        name,
                        colour,
                        points,
                    })
                    .collect(),
                ticks: ticks(ticks_from),
                limit: capacity,
            }));
        }
        out.push_str("</div>\n");
    }
    out.push_str("<table><tr><th>Link</th><th>Kind</th><th>Segment</th><th>Direction</th><th>Capacity</th><th>Mean</th><th>Peak</th><th>p95</th><th>Peak utilization</th></tr>\n");
    for l in &links {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>{}</tr>",
            esc(text(l, "name")),
            esc(text(l, "kind")),
            esc(text(l, "segment")),
            esc(text(l, "direction")),
            rate(num(l, "capacity_bps")),
            rate(num(l, "mean_bps")),
            rate(num(l, "peak_bps")),
            rate(num(l, "p95_bps")),
            utilization_cell(util(l))
        );
    }
    out.push_str("</table>\n</section>\n");
}

fn calls_section(out: &mut String, i: &Inputs) {
    out.push_str("<section id=\"calls\"><h2>Calls</h2>\n");
    let Some(calls) = i.summary.get("calls") else {
        out.push_str("<p class=\"note\">No call figures in summary.json.</p></section>\n");
        return;
    };
    out.push_str("<h3>By kind (per day, mean over replications)</h3>\n<table><tr><th>Kind</th><th>Offered</th><th>Completed</th><th>Rerouted</th><th>Blocked</th><th>Failed</th><th>Blocking</th><th>Setup p50</th><th>Setup p95</th></tr>\n");
    let by_kind = calls.get("by_kind").and_then(Value::as_object);
    let rows = by_kind
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.as_str(), v))
        .chain(std::iter::once(("all", calls)));
    for (kind, c) in rows {
        let setup = c.get("setup_ms").unwrap_or(&Value::Null);
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"n\">{:.1}</td><td class=\"n\">{:.1}</td><td class=\"n\">{:.1}</td><td class=\"n\">{:.1}</td><td class=\"n\">{:.1}</td><td class=\"n\">{}</td><td class=\"n\">{:.0} ms</td><td class=\"n\">{:.0} ms</td></tr>",
            esc(kind),
            num(c, "offered"),
            num(c, "completed"),
            num(c, "rerouted"),
            num(c, "blocked"),
            num(c, "failed"),
            percent(num(c, "blocking")),
            num(setup, "p50"),
            num(setup, "p95")
        );
    }
    out.push_str("</table>\n");
    if let Some(mix) = calls.get("media_paths") {
        let _ = writeln!(
            out,
            "<h3>ICE media-path mix ({} calls with media)</h3>\n<table><tr><th>Path</th><th>Share</th><th>over UDP</th><th>over TCP</th></tr>",
            num(mix, "calls")
        );
        for (key, title) in [
            ("direct", "direct"),
            ("nat", "through NAT"),
            ("relay", "one Edge (relay)"),
            ("relay-relay", "two Edges"),
        ] {
            let m = mix.get(key).unwrap_or(&Value::Null);
            let _ = writeln!(
                out,
                "<tr><td>{title}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                percent(num(m, "share")),
                percent(num(m, "udp")),
                percent(num(m, "tcp"))
            );
        }
        out.push_str("</table>\n");
    }
    if let Some(s) = calls.get("setup_ms") {
        let _ = writeln!(
            out,
            "<h3>Media setup time (ICE, gathering to nomination)</h3>\n<table><tr><th>Calls</th><th>Mean</th><th>p50</th><th>p95</th><th>p99</th></tr>\n<tr><td class=\"n\">{}</td><td class=\"n\">{:.1} ms</td><td class=\"n\">{:.1} ms</td><td class=\"n\">{:.1} ms</td><td class=\"n\">{:.1} ms</td></tr></table>",
            num(s, "count"),
            num(s, "mean"),
            num(s, "p50"),
            num(s, "p95"),
            num(s, "p99")
        );
    }
    if let Some(c) = i.summary.get("concurrency") {
        let _ = writeln!(
            out,
            "<p>Concurrent calls: mean {:.1}, peak {:.1}.</p>",
            num(c, "mean"),
            num(c, "peak")
        );
    }
    out.push_str("</section>\n");
}

/// `tcp 10.1.0.10:49152 -> 52.112.2.10:443` → `TCP 443`.
fn protocol_of(tuple: &str) -> String {
    let proto = tuple.split_whitespace().next().unwrap_or("");
    let port = tuple.rsplit(':').next().unwrap_or("");
    if proto.is_empty() {
        return "—".into();
    }
    format!("{} {}", proto.to_uppercase(), port)
}

fn call_flow_section(out: &mut String, i: &Inputs) {
    out.push_str("<section id=\"call-flows\"><h2>Call flows of the scenario's probes</h2>\n");
    let probes = i
        .trace
        .as_ref()
        .and_then(|t| t.get("probes"))
        .and_then(Value::as_array);
    let Some(probes) = probes.filter(|p| !p.is_empty()) else {
        out.push_str("<p class=\"note\">No probes traced (no trace.json, or the scenario has no probes).</p></section>\n");
        return;
    };
    out.push_str("<p class=\"note\">As in the source document's tables: each participant's signaling and media path, labelled <i>local</i> (never leaves your network), <i>ExpressRoute</i> or <i>Internet</i>; the protocol and port; the Edge servers relaying media.</p>\n");
    for p in probes {
        let _ = writeln!(
            out,
            "<h3>{} <span class=\"note\">({})</span></h3>",
            esc(text(p, "name")),
            esc(text(p, "kind"))
        );
        if let Some(d) = p.get("description").and_then(Value::as_str) {
            let _ = writeln!(out, "<p>{}</p>", esc(d));
        }
        if let Some(h) = p.get("hosting").and_then(Value::as_str) {
            let _ = writeln!(out, "<p class=\"note\">Hosting: {}</p>", esc(h));
        }
        out.push_str("<table><tr><th>Participant</th><th>Flow</th><th>Direction</th><th>Path</th><th>Protocol / port</th><th>Edges</th><th>Verdict</th></tr>\n");
        let call = text(p, "kind") != "flow";
        for leg in p
            .get("legs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let who = esc(text(leg, "participant"));
            let verdict = text(leg, "verdict");
            let verdict_cell = if verdict == "ok" {
                "<td class=\"ok\">ok</td>".to_string()
            } else {
                format!("<td class=\"bad\">✕ {}</td>", esc(verdict))
            };
            let relays: Vec<String> = leg
                .get("relays")
                .and_then(Value::as_array)
                .map(|r| r.iter().filter_map(Value::as_str).map(esc).collect())
                .unwrap_or_default();
            let edges = if relays.is_empty() {
                "—".to_string()
            } else {
                relays.join(", ")
            };
            if call {
                let sig_tuple = leg
                    .get("signaling_hops")
                    .and_then(Value::as_array)
                    .and_then(|h| h.first())
                    .map(|h| text(h, "tuple_in"))
                    .unwrap_or("");
                let home = leg
                    .get("signaling_hops")
                    .and_then(Value::as_array)
                    .and_then(|h| h.last())
                    .map(|h| text(h, "node"))
                    .unwrap_or("");
                let _ = writeln!(
                    out,
                    "<tr><td rowspan=\"2\">{who}</td><td>signaling</td><td>client → {}</td><td>{}</td><td>{}</td><td>—</td>{verdict_cell}</tr>",
                    if home.is_empty() {
                        "home server".to_string()
                    } else {
                        esc(home)
                    },
                    esc(text(leg, "signaling")),
                    esc(&protocol_of(sig_tuple)),
                );
                let media = text(leg, "media");
                let _ = writeln!(
                    out,
                    "<tr><td>media ({})</td><td>{}</td><td>{}</td><td>{}</td><td>{edges}</td><td></td></tr>",
                    esc(text(leg, "media_path")),
                    esc(text(leg, "flow")),
                    esc(media),
                    esc(&text(leg, "transport").to_uppercase()),
                );
            } else {
                let back = if leg.get("asymmetric").and_then(Value::as_bool) == Some(true) {
                    " (reply by other links)"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "<tr><td>{who}</td><td>{}</td><td>{}{back}</td><td>{}</td><td>{}</td><td>{edges}</td>{verdict_cell}</tr>",
                    esc(text(leg, "class")),
                    esc(text(leg, "flow")),
                    esc(text(leg, "signaling")),
                    esc(&protocol_of(text(leg, "flow"))),
                );
            }
        }
        out.push_str("</table>\n");
    }
    out.push_str("</section>\n");
}

/// Any JSON as nested tables: objects as two-column tables, arrays of
/// objects as one table with a column per key.
fn generic(out: &mut String, v: &Value, depth: usize) {
    match v {
        Value::Object(map) => {
            out.push_str("<table>\n");
            for (k, v) in map {
                let _ = write!(out, "<tr><th>{}</th><td>", esc(k));
                if depth == 0 {
                    out.push_str(&esc(&v.to_string()));
                } else {
                    generic(out, v, depth - 1);
                }
                out.push_str("</td></tr>\n");
            }
            out.push_str("</table>\n");
        }
        Value::Array(items) if !items.is_empty() && items.iter().all(Value::is_object) => {
            let mut columns: Vec<&str> = Vec::new();
            for item in items {
                for k in item.as_object().into_iter().flat_map(|m| m.keys()) {
                    if !columns.contains(&k.as_str()) {
                        columns.push(k);
                    }
                }
            }
            out.push_str("<table><tr>");
            for c in &columns {
                let _ = write!(out, "<th>{}</th>", esc(c));
            }
            out.push_str("</tr>\n");
            for item in items {
                out.push_str("<tr>");
                for c in &columns {
                    out.push_str("<td>");
                    if let Some(v) = item.get(*c) {
                        if depth == 0 {
                            out.push_str(&esc(&v.to_string()));
                        } else {
                            generic(out, v, depth - 1);
                        }
                    }
                    out.push_str("</td>");
                }
                out.push_str("</tr>\n");
            }
            out.push_str("</table>\n");
        }
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(scalar).collect();
            out.push_str(&esc(&parts.join(", ")));
        }
        other => out.push_str(&esc(&scalar(other))),
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => format!("{f:.3}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn files_section(out: &mut String, i: &Inputs) {
    out.push_str("<section id=\"files\"><h2>Files of this results directory</h2>\n<table><tr><th>File</th><th>Size</th><th>What it holds</th></tr>\n");
    let about: BTreeMap<&str, &str> = [
        (
            "manifest.json",
            "what produced the directory: command, inputs and their SHA-256, seed",
        ),
        (
            "summary.json",
            "every figure: segments, links, calls, concurrency, with confidence intervals",
        ),
        (
            "links.csv",
            "per link and direction: traffic and utilization",
        ),
        ("segments.csv", "per segment: traffic"),
        (
            "calls.csv",
            "per call kind: outcomes, media-path mix, setup time",
        ),
        (
            "timeseries.csv",
            "per time bin, segment, link and traffic class: bytes and mean bitrate",
        ),
        ("topology.svg", "the topology in four segment lanes"),
        (
            "trace.json",
            "every probe of the scenario traced hop by hop (as `callflow trace --format json`)",
        ),
        ("compare.json", "a comparison with another run"),
    ]
    .into_iter()
    .collect();
    for (name, size) in &i.listing {
        let _ = writeln!(
            out,
            "<tr><td><code>{name}</code></td><td class=\"n\">{size} bytes</td><td>{}</td></tr>",
            about.get(name).copied().unwrap_or("")
        );
    }
    out.push_str("</table>\n</section>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn inputs(summary: Value, trace: Option<Value>) -> Inputs {
        Inputs {
            summary,
            manifest: None,
            trace,
            compare: None,
            topology_svg: None,
            series: Series::new(),
            listing: vec![],
        }
    }

    #[test]
    fn names_from_the_files_are_escaped_everywhere() {
        let evil = "<script>alert('x')</script>";
        let summary = json!({"run": {"topology": evil, "scenario": evil},
            "links": [{"name": evil, "kind": "wan", "direction": evil, "capacity_bps": 1e6,
                       "peak_bps": 2e6, "peak_utilization": 2.0}],
            "calls": {"blocked": 1.0, "blocked_by_reason": {evil: 1.0},
                      "by_kind": {evil: {"offered": 1.0}}}});
        let trace = json!({"probes": [{"name": evil, "kind": "flow", "description": evil,
            "legs": [{"participant": evil, "verdict": format!("dropped: {evil}"),
                      "drop_at": evil, "flow": evil, "class": "audio", "signaling": "local"}]}]});
        let mut i = inputs(summary, Some(trace));
        i.compare = Some(json!({"rows": [{evil: evil}]}));
        let page = page(&i);
        assert!(!page.contains("<script"), "markup leaked");
        assert!(page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
    }

    #[test]
    fn a_topology_svg_with_a_script_is_not_inlined() {
        let mut i = inputs(json!({}), None);
        i.topology_svg = Some("<svg><script>alert(1)</script></svg>".into());
        let page = page(&i);
        assert!(!page.contains("<script"));
        assert!(page.contains("not a drawing callflow made"));
        i.topology_svg = Some("<svg><g/></svg>\n".into());
        assert!(page_contains(&i, "<svg><g/></svg>"));
    }

    fn page_contains(i: &Inputs, s: &str) -> bool {
        page(i).contains(s)
    }

    #[test]
    fn a_call_probe_becomes_signaling_and_media_rows() {
        let trace = json!({"probes": [{"name": "p2p", "kind": "peer-to-peer", "legs": [{
            "participant": "hq-staff", "signaling": "ExpressRoute", "media": "local",
            "media_path": "relay", "transport": "udp", "relays": ["us-east-online-edge"],
            "verdict": "ok", "flow": "media to home-workers",
            "signaling_hops": [{"node": "hq", "tuple_in": "tcp 10.1.0.10:49152 -> 52.112.2.10:443"},
                               {"node": "us-east-registrar", "tuple_in": ""}]}]}]});
        let page = page(&inputs(json!({}), Some(trace)));
        assert!(
            page.contains(
                "<td>client → us-east-registrar</td><td>ExpressRoute</td><td>TCP 443</td>"
            )
        );
        assert!(page.contains("<td>media (relay)</td><td>media to home-workers</td><td>local</td><td>UDP</td><td>us-east-online-edge</td>"));
    }

    #[test]
    fn the_page_loads_nothing_from_outside() {
        let page = page(&inputs(json!({}), None));
        for needle in ["<script", "http://", "https://", "@import", "<link"] {
            assert!(!page.contains(needle), "{needle}");
        }
        assert!(page.starts_with("<!DOCTYPE html>"));
    }
}
