//! The validated model: an immutable topology and scenario.
//!
//! Owns the types every later layer reads: typed ids, network elements,
//! links with their segment, ExpressRoute circuits, Microsoft regions, the
//! tenant and its deployment ([`topology`]); people, personas, probes and
//! variants ([`scenario`]). The topology's graph is a petgraph
//! [`petgraph::graph::UnGraph`] whose nodes are elements and whose edges are
//! links; everything else refers to it by [`NodeId`] and [`LinkId`].
//!
//! A model value is always valid: every reference resolves, every quantity
//! has its unit, every link has two ends. Only [`crate::validate`] builds one.
//!
//! Leaves out behaviour: how packets are routed and filtered is
//! [`crate::net`]'s business, how calls are placed is the engine's.

pub mod scenario;
pub mod topology;

pub use scenario::*;
pub use topology::*;

use std::fmt;

use petgraph::graph::{EdgeIndex, NodeIndex};
use serde::Serialize;

pub use crate::endpoints::Protocol;

/// A network element (a graph node).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub NodeIndex);

/// A link (a graph edge).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LinkId(pub EdgeIndex);

/// A Microsoft region, by index into [`Topology::regions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RegionId(pub u16);

/// An ExpressRoute circuit, by index into [`Topology::circuits`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct CircuitId(pub u16);

/// A PAC policy, by index into [`Topology::pacs`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PacId(pub u16);

/// A remote location, by index into [`Topology::remotes`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct RemoteId(pub u16);

/// Another organization, by index into [`Topology::organizations`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct OrgId(pub u16);

/// A user group, by index into [`Scenario::groups`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct GroupId(pub u32);

/// A persona, by index into [`Scenario::personas`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct PersonaId(pub u16);

/// The four network segments of the source document, each run by a
/// different party.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Segment {
    /// The customer's own network: LAN, WAN, DMZ, up to the ISP and the
    /// ExpressRoute partner.
    Customer,
    /// The public Internet, including remote users' home and hotel networks.
    Internet,
    /// ExpressRoute circuits.
    #[serde(rename = "expressroute")]
    ExpressRoute,
    /// Microsoft's network: its edge, backbone and datacenters.
    Microsoft,
}

impl Segment {
    /// All four, in lane order (left to right in the diagrams).
    pub const ALL: [Segment; 4] = [
        Segment::Customer,
        Segment::Internet,
        Segment::ExpressRoute,
        Segment::Microsoft,
    ];

    /// The key used in files (`customer`, `internet`, `expressroute`, `microsoft`).
    pub fn key(self) -> &'static str {
        match self {
            Segment::Customer => "customer",
            Segment::Internet => "internet",
            Segment::ExpressRoute => "expressroute",
            Segment::Microsoft => "microsoft",
        }
    }

    /// The lane title in diagrams.
    pub fn title(self) -> &'static str {
        match self {
            Segment::Customer => "Your network",
            Segment::Internet => "Internet",
            Segment::ExpressRoute => "ExpressRoute",
            Segment::Microsoft => "Microsoft network",
        }
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key())
    }
}

/// A path label in the source document's vocabulary, derived from the
/// segments a leg crosses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum PathLabel {
    /// Never leaves the customer network (or the partner's own network).
    #[serde(rename = "local")]
    Local,
    /// Reaches the other side over the Internet.
    #[serde(rename = "Internet")]
    Internet,
    /// Reaches the other side over ExpressRoute.
    #[serde(rename = "ExpressRoute")]
    ExpressRoute,
}

impl PathLabel {
    /// The label for a leg that crossed `segments`: ExpressRoute if it used a
    /// circuit, else Internet if it crossed the Internet, else local.
    pub fn of(segments: impl IntoIterator<Item = Segment>) -> PathLabel {
        let mut label = PathLabel::Local;
        for s in segments {
            label = match (label, s) {
                (_, Segment::ExpressRoute) | (PathLabel::ExpressRoute, _) => {
                    PathLabel::ExpressRoute
                }
                (_, Segment::Internet) | (PathLabel::Internet, _) => PathLabel::Internet,
                _ => PathLabel::Local,
            };
        }
        label
    }
}

impl fmt::Display for PathLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathLabel::Local => "local",
            PathLabel::Internet => "Internet",
            PathLabel::ExpressRoute => "ExpressRoute",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_the_segments_crossed() {
        use Segment::*;
        assert_eq!(PathLabel::of([Customer, Customer]), PathLabel::Local);
        assert_eq!(
            PathLabel::of([Customer, Internet, Microsoft]),
            PathLabel::Internet
        );
        assert_eq!(
            PathLabel::of([Customer, ExpressRoute, Microsoft]),
            PathLabel::ExpressRoute
        );
        assert_eq!(
            PathLabel::of([Internet, Customer, ExpressRoute, Microsoft]),
            PathLabel::ExpressRoute
        );
        assert_eq!(PathLabel::of([]), PathLabel::Local);
    }
}
