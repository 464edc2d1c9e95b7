//! The discrete-event engine.
//!
//! Owns the machinery that moves a run through simulated time: the set of
//! pending events ([`queue`]) and the seeded random streams every stochastic
//! choice draws from ([`rng`]), and the vocabulary of calls ([`call`]).
//!
//! Leaves out what the events mean: workloads, call lifecycles and the
//! network model schedule events here and handle them when they come due.

pub mod call;
pub mod queue;
pub mod rng;
