//! The discrete-event engine.
//!
//! Owns the machinery that moves a run through simulated time: the set of
//! pending events ([`queue`]), the seeded random streams every stochastic
//! choice draws from ([`rng`]), and the calls a replication places: their
//! vocabulary ([`call`]) and how they are drawn from a scenario
//! ([`workload`]).
//!
//! Leaves out what the network does with a call: call lifecycles and the
//! network model schedule events here and handle them when they come due.

pub mod call;
pub mod queue;
pub mod rng;
pub mod workload;

pub use call::{CallKind, CallRequest, Participant};
pub use workload::Workload;
