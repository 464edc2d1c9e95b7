//! ICE negotiation: candidates, priorities, checks, nomination.
//!
//! Owns the rules by which two endpoints agree on a media path: RFC 8445
//! (candidates, priorities, pairs, checks, regular nomination), RFC 6544 for
//! TCP, and Microsoft's MS-ICE2 dialect ([`priority`]). Every packet of
//! gathering and of every check is walked through the network plane, both
//! ways, through the same NATs and firewalls the media would meet, so a path
//! works in the model exactly when the network lets it.
//!
//! - [`gather`](mod@gather): host, server-reflexive and relayed candidates (UDP 3478
//!   and TCP 443 on each Edge the endpoint is provisioned with, through a
//!   proxy's `CONNECT` where its PAC says so).
//! - [`negotiate`](mod@negotiate): both agents' checks paced by Ta, triggered checks,
//!   peer-reflexive discovery, the controlling agent's nomination of the
//!   highest-priority pair that succeeded, and the media route that pair
//!   implies.
//!
//! Leaves out the call: who negotiates with whom, and which Edges each side
//! is given, is the call layer's business.

pub mod gather;
pub mod negotiate;
pub mod priority;

pub use gather::{Candidate, Gathered, gather};
pub use negotiate::{CheckRecord, IceOptions, IceOutcome, MediaPathKind, MediaRoute, negotiate};

use std::net::IpAddr;

use crate::model::{NodeId, PacId};

/// An ICE agent's place in the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceEndpoint {
    /// Who it is, for output.
    pub name: String,
    /// The element its host candidates live on (a client's LAN, a server).
    pub node: NodeId,
    /// Its host addresses (one per interface and family).
    pub host: Vec<IpAddr>,
    /// The Edges (TURN relays) it may allocate on, in preference order.
    pub relays: Vec<NodeId>,
    /// The PAC policy it follows for TCP 443 (proxy `CONNECT`).
    pub pac: Option<PacId>,
    /// Whether it offers host and server-reflexive candidates. An Online
    /// conferencing server does not: it is reached only through its Edge.
    pub offers_host: bool,
}
