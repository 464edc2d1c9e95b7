//! Statistics for simulation output: pure functions and mergeable
//! aggregates.
//!
//! Owns the maths the engine and reports share: Erlang B blocking
//! ([`erlang`]), confidence intervals across replications ([`ci`]), a
//! mergeable log-linear histogram for percentiles of streams of values
//! ([`histogram`]) and nearest-rank percentiles of a list of values such as
//! per-time-bin bitrates ([`percentile`]). Everything here is deterministic:
//! no clock, no randomness, sums in a fixed order, and aggregates that merge
//! exactly whatever the order, so sharded and parallel runs reproduce an
//! unsharded one bit for bit.
//!
//! Leaves out what is measured (the metrics layer decides) and how results
//! are printed (the report layer).

pub mod ci;
pub mod erlang;
pub mod histogram;
pub mod percentile;

pub use ci::{CiError, ConfidenceInterval, paired_difference};
pub use erlang::{ErlangError, erlang_b, erlang_b_servers};
pub use histogram::{Histogram, HistogramError};
pub use percentile::percentile_of;
