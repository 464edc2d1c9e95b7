//! Line charts of traffic over the simulated day, as inline SVG.
//!
//! Owns the chart's geometry: axes with round ticks, one line per series
//! (the first also shaded as an area), a legend, and an optional limit line
//! (a link's capacity) when it is near enough to the traffic to be read.
//!
//! Leaves out which series to chart ([`super::html`] picks them).

use crate::render::layout::{Point, Rect};
use crate::render::svg::{self, Document};

/// One line on a chart.
#[derive(Debug, Clone)]
pub struct Line {
    /// What it is, for the legend.
    pub name: String,
    /// Its colour (a CSS colour from code).
    pub colour: &'static str,
    /// (seconds from the start of the day, bits per second), in time order.
    pub points: Vec<(f64, f64)>,
}

/// A chart to draw.
#[derive(Debug, Clone)]
pub struct Chart {
    /// Its title.
    pub title: String,
    /// Its lines.
    pub lines: Vec<Line>,
    /// Tick labels along the time axis: (seconds, label).
    pub ticks: Vec<(f64, String)>,
    /// A limit to draw as a dashed line (bits per second), such as a link's capacity.
    pub limit: Option<f64>,
}

const W: f64 = 560.0;
const H: f64 = 250.0;
const LEFT: f64 = 74.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 48.0;
const BOTTOM: f64 = 34.0;

/// A round step for about `n` ticks up to `max`: 1, 2 or 5 times a power of ten.
fn step(max: f64, n: f64) -> f64 {
    let raw = (max / n).max(f64::MIN_POSITIVE);
    let mag = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag)
}

/// The chart as an `<svg>` element's text.
pub fn line_chart(c: &Chart) -> String {
    let data_max = c
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.1))
        .fold(0.0f64, f64::max);
    // A limit far above the traffic would flatten it: drawn only when close.
    let limit = c.limit.filter(|l| *l > 0.0 && *l <= data_max * 1.5);
    let top_value = data_max.max(limit.unwrap_or(0.0)).max(1.0);
    let dy = step(top_value, 4.0);
    let y_max = (top_value / dy).ceil() * dy;
    let (x_min, x_max) = c
        .lines
        .iter()
        .flat_map(|l| l.points.iter().map(|p| p.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(x), b.max(x))
        });
    let (x_min, x_max) = if x_min.is_finite() && x_max > x_min {
        (x_min, x_max)
    } else {
        (0.0, 1.0)
    };
    let plot = Rect {
        x: LEFT,
        y: TOP,
        w: W - LEFT - RIGHT,
        h: H - TOP - BOTTOM,
    };
    let px = |x: f64| plot.x + (x - x_min) / (x_max - x_min) * plot.w;
    let py = |y: f64| plot.bottom() - y / y_max * plot.h;

    let mut doc = Document::new(W, H)
        .attr("class", "chart")
        .attr("font-family", crate::render::graph::FONT)
        .attr("font-size", "11")
        .attr("role", "img");
    doc.push(svg::title(c.title.clone()));
    doc.push(
        svg::text(Point { x: 8.0, y: 17.0 }, c.title.clone())
            .attr("font-size", "13")
            .attr("font-weight", "bold"),
    );
    let mut legend = svg::group().attr("class", "legend");
    let mut lx = 8.0;
    for l in &c.lines {
        legend = legend
            .child(
                svg::rect(
                    Rect {
                        x: lx,
                        y: 27.0,
                        w: 12.0,
                        h: 8.0,
                    },
                    1.0,
                )
                .attr("fill", l.colour),
            )
            .child(svg::text(
                Point {
                    x: lx + 16.0,
                    y: 35.0,
                },
                l.name.clone(),
            ));
        lx += 16.0 + crate::render::graph::text_width(&l.name, 11.0) + 14.0;
    }
    doc.push(legend);
    let mut axes = svg::group().attr("class", "axes").attr("fill", "#546e7a");
    let mut v = 0.0;
    while v <= y_max + dy / 2.0 {
        let y = py(v);
        axes = axes
            .child(
                svg::line(Point { x: plot.x, y }, Point { x: plot.right(), y })
                    .attr("stroke", if v == 0.0 { "#90a4ae" } else { "#eceff1" }),
            )
            .child(
                svg::text(
                    Point {
                        x: plot.x - 6.0,
                        y: y + 4.0,
                    },
                    super::rate(v),
                )
                .attr("text-anchor", "end"),
            );
        v += dy;
    }
    for (x, label) in &c.ticks {
        let at = px(*x);
        axes = axes
            .child(
                svg::line(
                    Point {
                        x: at,
                        y: plot.bottom(),
                    },
                    Point {
                        x: at,
                        y: plot.bottom() + 4.0,
                    },
                )
                .attr("stroke", "#90a4ae"),
            )
            .child(
                svg::text(
                    Point {
                        x: at,
                        y: plot.bottom() + 17.0,
                    },
                    label.clone(),
                )
                .attr("text-anchor", "middle"),
            );
    }
    doc.push(axes);
    if let Some(limit) = limit {
        let y = py(limit);
        doc.push(
            svg::group()
                .attr("class", "limit")
                .child(
                    svg::line(Point { x: plot.x, y }, Point { x: plot.right(), y })
                        .attr("stroke", "#c62828")
                        .attr("stroke-dasharray", "6 4"),
                )
                .child(
                    svg::text(
                        Point {
                            x: plot.right() - 4.0,
                            y: y - 4.0,
                        },
                        format!("capacity {}", super::rate(limit)),
                    )
                    .attr("text-anchor", "end")
                    .attr("fill", "#c62828"),
                ),
        );
    }
    for (i, l) in c.lines.iter().enumerate() {
        let pts: Vec<Point> = l
            .points
            .iter()
            .map(|&(x, y)| Point { x: px(x), y: py(y) })
            .collect();
        if pts.is_empty() {
            continue;
        }
        if i == 0 && pts.len() > 1 {
            let mut d = format!("M{},{}", svg::num(pts[0].x), svg::num(plot.bottom()));
            for p in &pts {
                d.push_str(&format!(" L{},{}", svg::num(p.x), svg::num(p.y)));
            }
            d.push_str(&format!(
                " L{},{} Z",
                svg::num(pts[pts.len() - 1].x),
                svg::num(plot.bottom())
            ));
            doc.push(
                svg::path(d)
                    .attr("fill", l.colour)
                    .attr("fill-opacity", "0.12"),
            );
        }
        doc.push(
            svg::polyline(&pts)
                .attr("class", "series")
                .attr("stroke", l.colour)
                .attr("stroke-width", "2")
                .attr("stroke-linejoin", "round")
                .tooltip(l.name.clone()),
        );
    }
    doc.render()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chart(limit: Option<f64>) -> Chart {
        Chart {
            title: "wan <&>".into(),
            lines: vec![Line {
                name: "a -> b".into(),
                colour: "#1e88e5",
                points: vec![(0.0, 1e6), (900.0, 3e6), (1800.0, 2e6)],
            }],
            ticks: vec![(0.0, "09:00".into()), (1800.0, "09:30".into())],
            limit,
        }
    }

    #[test]
    fn steps_are_round() {
        assert_eq!(step(3e6, 4.0), 1e6);
        assert_eq!(step(7e6, 4.0), 2e6);
        assert_eq!(step(1.9e9, 4.0), 5e8);
    }

    #[test]
    fn a_chart_is_an_svg_with_its_line_and_escaped_title() {
        let out = line_chart(&chart(None));
        roxmltree::Document::parse(&out).expect("XML");
        assert!(out.contains("class=\"series\""));
        assert!(out.contains("wan &lt;&amp;&gt;"));
        assert!(out.contains(">3.0 Mbps</text>"), "{out}");
        assert!(!out.contains("capacity"));
    }

    #[test]
    fn a_capacity_near_the_traffic_is_drawn_and_a_far_one_is_not() {
        assert!(line_chart(&chart(Some(4e6))).contains("capacity 4.0 Mbps"));
        assert!(!line_chart(&chart(Some(1e9))).contains("capacity"));
    }
}
