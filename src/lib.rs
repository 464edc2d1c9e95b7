//! callflow simulates how Skype for Business and Microsoft Teams calls and
//! meetings flow across an enterprise network, the Internet, Azure
//! ExpressRoute and the Microsoft network.
//!
//! A planner describes a network (a *topology*) and its people (a
//! *scenario*) in TOML. callflow validates both into an immutable model,
//! routes every packet of signaling and media through routers, NATs,
//! stateful firewalls, proxies and Edge servers, negotiates each media path
//! the way the clients do (ICE), places calls and meetings over simulated
//! time, and adds up the traffic on every link and in each of the four
//! segments of the source document ("Call flow using ExpressRoute"): your
//! network, the Internet, ExpressRoute and the Microsoft network.
//!
//! # The map
//!
//! ```text
//! topologies/*.toml ─┐  config     raw serde structs, spans kept, every problem collected
//! scenarios/*.toml ──┴─▶ validate  raw → model, all problems at once (file:line:col)
//!                          │
//!                          ▼
//!                        model      typed ids, units, the petgraph graph, scenario
//!                          │
//!        net ◀─────────────┤        routes (LPM, BGP-ish policy), NAT, firewalls, proxies;
//!         │                │        walk(packet) → hops with verdicts; return path
//!         ▼                │
//!        ice, calls ◀──────┤        candidates, RFC 8445 priorities, checks walked
//!         │                │        through net; homing, hosting, PSTN, federation
//!         ▼                │
//!        engine ◀──────────┘        simulated time, event queue, seeded streams,
//!         │                         workload, call admission control
//!         ▼
//!        metrics → report           per link / segment / class; CSV, JSON, SVG, HTML
//! ```
//!
//! Modules, leaves first:
//!
//! - [`time`], [`units`]: simulated time and quantities as types.
//! - [`diag`]: problems located to file, line and column.
//! - [`endpoints`]: the Microsoft endpoint catalog (address sets, categories,
//!   ExpressRoute communities), shipped as `data/microsoft-365-endpoints.toml`.
//! - [`config`]: the files as written; [`validate`]: the one place raw
//!   configuration becomes a [`model`].
//! - [`net`]: the network plane: routing, NAT, firewalls, proxies, the
//!   packet walk with its verdicts; [`ice`]: candidates, priorities and
//!   checks walked through it; [`calls`]: homing, hosting, Edges, PSTN,
//!   federation and broadcast as participant legs; [`trace`]: probes traced
//!   for people (text) and machines (JSON).
//! - [`render`]: drawings of the topology in the four segment lanes, and
//!   traced paths over them.
//! - [`report`]: one self-contained HTML page from a results directory.
//! - [`codec`]: per-stream bitrates from Microsoft's SfB and Teams tables.
//! - [`quality`]: the E-model, Microsoft's targets and CQD's rules;
//!   [`queueing`]: the load-dependent delay and loss of a link per QoS class.
//! - [`sizing`]: ExpressRoute circuit tiers, headroom and the user's prices.
//! - [`engine`]: simulated time's machinery (event queue, seeded streams),
//!   the workload (call arrivals drawn from a scenario), path resolution
//!   cached per endpoint class and resolved ahead on every thread, call
//!   admission control and the event loop.
//! - [`metrics`]: the recorder, mergeable per-replication partials and
//!   summary.json; [`stats`]: Erlang B, confidence intervals, histograms.
//! - [`run`]: `callflow run` (a study simulated into a results directory);
//!   [`compare`]: baseline and variants on common random numbers;
//!   [`shard`]: runs split into shards and merged back byte for byte.
//! - [`output`]: result files written whole or not at all.
//! - [`synth`]: synthetic enterprises of any size, as topology and scenario
//!   TOML; [`bench`](mod@bench): `callflow bench`, the engine timed on one.
//!
//! # Design decisions
//!
//! - Time is a value passed in ([`time::SimTime`], integer microseconds);
//!   the library never reads a clock.
//! - Network elements return verdicts; the walker and the engine apply them.
//! - Randomness comes from named ChaCha8 streams derived from (seed,
//!   replication, purpose); results are byte-identical for the same inputs
//!   and seed, whatever the thread count.
//! - Anything iterated into output is ordered.
//! - Bad input never panics: every problem is reported at once and the
//!   binary exits with code 2.
//!
//! # What callflow does not model
//!
//! Packet-level transport dynamics (TCP congestion control, codec
//! adaptation), real packet I/O and SIP message contents. Media flows are
//! constant-bitrate at their codec's figures; quality comes from each path's
//! latency, jitter and loss.

#![warn(missing_docs)]

pub mod bench;
pub mod calls;
pub mod codec;
pub mod compare;
pub mod config;
pub mod diag;
pub mod endpoints;
pub mod engine;
pub mod ice;
pub mod metrics;
pub mod model;
pub mod net;
pub mod output;
pub mod quality;
pub mod queueing;
pub mod render;
pub mod report;
pub mod run;
pub mod shard;
pub mod sizing;
pub mod stats;
pub mod summary;
pub mod synth;
pub mod time;
pub mod trace;
pub mod units;
pub mod validate;
