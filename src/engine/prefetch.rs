//! Resolving ahead: the media of every two-party call a run will place,
//! worked out in parallel before the replications start.
//!
//! Owns [`two_party`]. Path resolution is pure ([`super::resolve`]): a
//! piece resolved early, on any thread, is the piece a replication would
//! have resolved itself, so resolving ahead changes no result, only where
//! the work is done. Peer-to-peer media is the costliest piece, a whole ICE
//! negotiation through the network plane per pair of groups, and a run of
//! one replication cannot spread it over cores by itself; spread here, a
//! large enterprise's day gains nearly a core's worth per core.
//!
//! Leaves out every other piece: conference and PSTN hosts, and media
//! rerouted around a full link, depend on what earlier calls did, and the
//! rest is cheap. Whatever is not resolved ahead is resolved when asked.

use std::collections::BTreeSet;

use rayon::prelude::*;

use super::call::CallKind;
use super::resolve::{Key, Value};
use super::sim::World;
use super::workload::Workload;
use crate::time::SimTime;

/// Resolves, on the current rayon pool, the media of every peer-to-peer
/// and federated call the given replications will place (between groups
/// whose signaling works, as the simulation asks), in the routing state in
/// force when each call starts.
pub(super) fn two_party(world: &World<'_>, replications: &[u32]) {
    let (t, s) = (world.topology, world.scenario);
    let mut pairs = BTreeSet::new();
    for &r in replications {
        for req in Workload::new(t, s, r) {
            if matches!(req.kind, CallKind::PeerToPeer | CallKind::Federated) {
                let state = state_at(world, req.at);
                pairs.insert((state, req.participants[0].group, req.participants[1].group));
            }
        }
    }
    let signals = |state, group| {
        matches!(
            &*world.resolver.get(state, &Key::Signaling(group)),
            Value::Flows(Ok(_))
        )
    };
    pairs
        .par_iter()
        .filter(|&&(state, a, b)| signals(state, a) && signals(state, b))
        .for_each(|&(state, a, b)| {
            world.resolver.get(state, &Key::PeerToPeer(a, b, vec![]));
        });
}

/// The routing state in force at `at`: the last epoch started by then.
fn state_at(world: &World<'_>, at: SimTime) -> usize {
    world
        .epochs
        .iter()
        .rev()
        .find(|(start, _, _)| *start <= at)
        .map_or(0, |&(_, state, _)| state)
}
