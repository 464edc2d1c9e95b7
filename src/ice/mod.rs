//! ICE negotiation: candidates, priorities, checks, nomination.
//!
//! Owns the rules by which two endpoints agree on a media path (RFC 8445,
//! RFC 6544 for TCP, and Microsoft's MS-ICE2 dialect). For now that is
//! [`priority`]: candidate and pair priorities and which candidates may be
//! paired at all.
//!
//! Leaves out the network itself: whether a check gets through NATs and
//! firewalls is decided by walking packets through the network plane, and
//! candidate addresses come from the gatherer that knows the topology.

pub mod priority;
