//! A tiny SVG writer: a handful of element builders and a serializer that
//! escapes every attribute value and every text it is given.
//!
//! Owns XML text: element and attribute names come from code (`&'static
//! str`), values and texts may come from user files and are always escaped,
//! so a node called `<script>` comes out as text, never as markup.
//!
//! Leaves out everything about what to draw; [`crate::render::graph`]
//! decides that.

use std::fmt::Write;

use super::layout::{Point, Rect};

/// One SVG element with its attributes and children, not yet serialized.
#[derive(Debug, Clone, PartialEq)]
pub struct Element {
    name: &'static str,
    attrs: Vec<(&'static str, String)>,
    children: Vec<Content>,
}

#[derive(Debug, Clone, PartialEq)]
enum Content {
    Element(Element),
    Text(String),
}

impl Element {
    fn new(name: &'static str) -> Element {
        Element {
            name,
            attrs: Vec::new(),
            children: Vec::new(),
        }
    }

    /// Sets an attribute; the value is escaped when written.
    pub fn attr(mut self, name: &'static str, value: impl Into<String>) -> Element {
        self.attrs.push((name, value.into()));
        self
    }

    /// Sets a numeric attribute, written with at most two decimals.
    pub fn num(self, name: &'static str, value: f64) -> Element {
        self.attr(name, num(value))
    }

    /// Appends a child element.
    pub fn child(mut self, child: Element) -> Element {
        self.children.push(Content::Element(child));
        self
    }

    /// Appends child elements.
    pub fn children(mut self, children: impl IntoIterator<Item = Element>) -> Element {
        self.children
            .extend(children.into_iter().map(Content::Element));
        self
    }

    /// Adds a tooltip (an SVG `<title>` child).
    pub fn tooltip(self, text: impl Into<String>) -> Element {
        self.child(title(text))
    }

    fn text_content(mut self, text: impl Into<String>) -> Element {
        self.children.push(Content::Text(text.into()));
        self
    }

    fn write(&self, out: &mut String, depth: usize) {
        let indent = "  ".repeat(depth);
        let _ = write!(out, "{indent}<{}", self.name);
        for (k, v) in &self.attrs {
            let _ = write!(out, " {k}=\"{}\"", escape(v));
        }
        if self.children.is_empty() {
            out.push_str("/>\n");
            return;
        }
        out.push('>');
        let only_text = self.children.iter().all(|c| matches!(c, Content::Text(_)));
        if only_text {
            for c in &self.children {
                if let Content::Text(t) = c {
                    out.push_str(&escape(t));
                }
            }
        } else {
            out.push('\n');
            for c in &self.children {
                match c {
                    Content::Element(e) => e.write(out, depth + 1),
                    Content::Text(t) => {
                        let _ = writeln!(out, "{indent}  {}", escape(t));
                    }
                }
            }
            out.push_str(&indent);
        }
        let _ = writeln!(out, "</{}>", self.name);
    }
}

/// A whole drawing: `<svg>` with its size and children.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    root: Element,
}

impl Document {
    /// An empty drawing of `width` × `height` user units.
    pub fn new(width: f64, height: f64) -> Document {
        Document {
            root: Element::new("svg")
                .attr("xmlns", "http://www.w3.org/2000/svg")
                .num("width", width)
                .num("height", height)
                .attr("viewBox", format!("0 0 {} {}", num(width), num(height))),
        }
    }

    /// Sets an attribute on the `<svg>` element.
    pub fn attr(mut self, name: &'static str, value: impl Into<String>) -> Document {
        self.root = self.root.attr(name, value);
        self
    }

    /// Appends a top-level element.
    pub fn push(&mut self, e: Element) {
        self.root.children.push(Content::Element(e));
    }

    /// The SVG text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        self.root.write(&mut out, 0);
        out.truncate(out.trim_end().len());
        out.push('\n');
        out
    }
}

/// A rectangle with corners rounded by `radius`.
pub fn rect(r: Rect, radius: f64) -> Element {
    let e = Element::new("rect")
        .num("x", r.x)
        .num("y", r.y)
        .num("width", r.w)
        .num("height", r.h);
    if radius > 0.0 { e.num("rx", radius) } else { e }
}

/// A straight line.
pub fn line(a: Point, b: Point) -> Element {
    Element::new("line")
        .num("x1", a.x)
        .num("y1", a.y)
        .num("x2", b.x)
        .num("y2", b.y)
}

/// An open polyline through `points`.
pub fn polyline(points: &[Point]) -> Element {
    let pts: Vec<String> = points
        .iter()
        .map(|p| format!("{},{}", num(p.x), num(p.y)))
        .collect();
    Element::new("polyline")
        .attr("points", pts.join(" "))
        .attr("fill", "none")
}

/// A circle of radius `r` around `c`.
pub fn circle(c: Point, r: f64) -> Element {
    Element::new("circle")
        .num("cx", c.x)
        .num("cy", c.y)
        .num("r", r)
}

/// A path from SVG path data.
pub fn path(d: impl Into<String>) -> Element {
    Element::new("path").attr("d", d)
}

/// Text anchored at `at` (by default its start, on the baseline).
pub fn text(at: Point, content: impl Into<String>) -> Element {
    Element::new("text")
        .num("x", at.x)
        .num("y", at.y)
        .text_content(content)
}

/// A `<title>`: a tooltip inside an element, the drawing's name at the top.
pub fn title(text: impl Into<String>) -> Element {
    Element::new("title").text_content(text)
}

/// A group.
pub fn group() -> Element {
    Element::new("g")
}

/// `<defs>`, for markers.
pub fn defs() -> Element {
    Element::new("defs")
}

/// A marker drawn at line ends that reference it (`marker-end="url(#id)"`).
/// `shape` is path data in a 10 × 10 box whose point (5, 5) sits on the
/// line's end; the marker turns with the line.
pub fn marker(id: &str, shape: &str, size: f64, fill: &str) -> Element {
    Element::new("marker")
        .attr("id", id)
        .attr("viewBox", "0 0 10 10")
        .num("refX", 5.0)
        .num("refY", 5.0)
        .num("markerWidth", size)
        .num("markerHeight", size)
        .attr("markerUnits", "userSpaceOnUse")
        .attr("orient", "auto-start-reverse")
        .child(path(shape).attr("fill", fill))
}

/// Escapes text for XML content and attribute values. Characters XML 1.0
/// cannot carry at all (most control characters) become U+FFFD.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate as text: rounded to hundredths, without trailing zeros, so
/// output is compact and identical across runs.
pub fn num(v: f64) -> String {
    let r = (v * 100.0).round() / 100.0;
    let r = if r == 0.0 { 0.0 } else { r };
    let s = format!("{r:.2}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_are_escaped_in_text_and_attributes() {
        let mut doc = Document::new(10.0, 10.0);
        doc.push(
            group()
                .attr("data-name", "a&b\"c'<d>")
                .child(text(Point { x: 1.0, y: 2.0 }, "<script>alert(1)</script>"))
                .tooltip("x & y"),
        );
        let out = doc.render();
        assert!(
            out.contains("data-name=\"a&amp;b&quot;c&apos;&lt;d&gt;\""),
            "{out}"
        );
        assert!(
            out.contains(">&lt;script&gt;alert(1)&lt;/script&gt;</text>"),
            "{out}"
        );
        assert!(out.contains("<title>x &amp; y</title>"), "{out}");
        assert!(!out.contains("<script"), "{out}");
    }

    #[test]
    fn control_characters_become_replacement_characters() {
        assert_eq!(escape("a\u{1}b\u{8}c"), "a\u{FFFD}b\u{FFFD}c");
        assert_eq!(escape("tab\there"), "tab\there");
    }

    #[test]
    fn numbers_are_compact_and_stable() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.5), "12.5");
        assert_eq!(num(1.0 / 3.0), "0.33");
        assert_eq!(num(-0.001), "0");
    }

    #[test]
    fn elements_nest_and_self_close() {
        let mut doc = Document::new(100.0, 50.5);
        doc.push(defs().child(marker("arrow", "M0,0 L10,5 L0,10 z", 8.0, "#333")));
        doc.push(
            group()
                .attr("class", "n")
                .child(rect(
                    Rect {
                        x: 1.0,
                        y: 2.0,
                        w: 3.0,
                        h: 4.0,
                    },
                    2.0,
                ))
                .child(line(Point { x: 0.0, y: 0.0 }, Point { x: 5.0, y: 5.0 })),
        );
        let out = doc.render();
        assert!(out.starts_with(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"50.5\" viewBox=\"0 0 100 50.5\">"
        ));
        assert!(out.ends_with("</svg>\n"));
        assert!(out.contains("<rect x=\"1\" y=\"2\" width=\"3\" height=\"4\" rx=\"2\"/>"));
        assert!(out.contains("<marker id=\"arrow\""));
        assert!(out.contains("<path d=\"M0,0 L10,5 L0,10 z\" fill=\"#333\"/>"));
        assert_eq!(out.matches("<g ").count(), out.matches("</g>").count());
    }

    #[test]
    fn polylines_list_their_points() {
        let e = polyline(&[Point { x: 0.0, y: 1.5 }, Point { x: 2.0, y: 3.0 }]);
        let mut doc = Document::new(1.0, 1.0);
        doc.push(e);
        assert!(
            doc.render()
                .contains("<polyline points=\"0,1.5 2,3\" fill=\"none\"/>")
        );
    }
}
