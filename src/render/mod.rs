//! Drawings of a topology in the four segment lanes of the source document
//! (your network, Internet, ExpressRoute, Microsoft network).
//!
//! Owns layout ([`layout`](mod@layout): where every element, circuit and link goes) and
//! the text of the drawings: SVG ([`svg`] writes it, [`graph`] decides what
//! to draw, [`trace`] draws traced paths over it) and Graphviz DOT
//! ([`graph::topology_dot`]).
//!
//! Leaves out the data: everything drawn comes from the validated
//! [`crate::model::Topology`] and from traces made elsewhere
//! ([`crate::trace`]); nothing here computes routes or traffic.

pub mod graph;
pub mod layout;
pub mod svg;
pub mod trace;

pub use graph::{topology_dot, topology_svg};
pub use layout::{Layout, layout};
pub use trace::trace_svg;
