//! The discrete-event engine: simulated time, the pending-event set, seeded
//! random streams, the workload and the call lifecycle.
//!
//! This branch holds only the call vocabulary ([`call`]) that the metrics
//! layer counts outcomes by; the engine proper lives with the lead.

pub mod call;
