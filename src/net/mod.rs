//! The network plane: which way a packet goes, what each element does to
//! it, and whether its reply comes back through the same stateful devices.
//!
//! Owns routing tables, the stateful elements (NATs, firewalls), proxies and
//! the hop-by-hop packet walk. Elements decide and return verdicts; the walk
//! applies them and records every hop.
//!
//! Leaves out calls and ICE: a walk carries one packet of one flow.

pub mod firewall;
pub mod flow;
pub mod nat;
pub mod packet;
pub mod routing;
pub mod walk;
