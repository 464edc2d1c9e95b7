//! Path resolution, cached per endpoint class and routing state.
//!
//! Owns turning a call's pieces into the link lists its streams cross:
//! each participant's signaling, Internet-only dependencies, and media
//! (negotiated by ICE through the network plane). A piece depends only on
//! the topology, the routing state (which links are down), the endpoints'
//! classes (a user group: its LAN, homing and persona) and the links call
//! admission control tells ICE to avoid — never on time or load — so it
//! is computed once and shared by every replication. A test proves cached
//! and uncached resolution identical on every example.
//!
//! Leaves out admission and time: the simulation decides whether a
//! resolved path may be used now.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::calls::{Host, Planner, ice_options_for};
use crate::ice::{IceOutcome, MediaPathKind};
use crate::metrics::{LinkDir, MediaPath};
use crate::model::{GroupId, LinkId, NodeId, PstnRoute, Scenario, Topology};
use crate::net::flow::FlowTrace;
use crate::net::routing::Routing;
use crate::net::walk::Walk;
use crate::time::{SimDuration, SimTime};

/// The links a flow crosses, with directions.
pub type Hops = Arc<[(LinkId, LinkDir)]>;

/// A flow's path each way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// From the initiator.
    pub forward: Hops,
    /// Back to it.
    pub back: Hops,
}

/// How a participant's media resolves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// The participant's (or caller's) direction and the reverse.
    pub path: Path,
    /// Direct, NAT, one Edge or two; UDP or TCP.
    pub kind: MediaPath,
    /// ICE setup time.
    pub setup: SimDuration,
}

/// Something a resolution could not do, in words.
pub type Why = String;

/// A piece of a call to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A group's signaling to its home server.
    Signaling(GroupId),
    /// A group's Internet-only dependency flows (DNS, revocation, telemetry).
    Dependencies(GroupId),
    /// Media between two clients, avoiding some links.
    PeerToPeer(GroupId, GroupId, Vec<LinkId>),
    /// Where a conference organized by the first group, joined first by the
    /// second, is hosted.
    ConferenceHost(GroupId, GroupId),
    /// Where PSTN media goes for a route.
    PstnHost(PstnRoute),
    /// A group's signaling to a conference host.
    ConferenceSignaling(GroupId, HostKey),
    /// Media between a client and a host, avoiding some links.
    ToHost(GroupId, HostKey, Vec<LinkId>),
    /// A group's broadcast stream from the CDN.
    Broadcast(GroupId),
}

/// A host, as a cache key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostKey {
    /// The server.
    pub node: NodeId,
    /// Its Edges.
    pub relays: Vec<NodeId>,
    /// Whether it offers its own address.
    pub offers_host: bool,
}

impl HostKey {
    fn host(&self) -> Host {
        Host {
            node: self.node,
            relays: self.relays.clone(),
            offers_host: self.offers_host,
            why: String::new(),
        }
    }
}

impl From<&Host> for HostKey {
    fn from(h: &Host) -> Self {
        HostKey {
            node: h.node,
            relays: h.relays.clone(),
            offers_host: h.offers_host,
        }
    }
}

/// A resolved piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// Signaling or dependency paths (several flows), or why they failed.
    Flows(Result<Vec<Path>, Why>),
    /// Media, or why there is none.
    Media(Result<Media, Why>),
    /// A host, or why there is none.
    Host(Result<Host, Why>),
}

/// The cache: (routing epoch, piece) to its resolution.
type Cache = HashMap<(usize, Key), Arc<Value>>;

/// Resolves pieces, caching each result per routing epoch.
pub struct Resolver<'a> {
    topology: &'a Topology,
    scenario: &'a Scenario,
    routings: Vec<Routing>,
    cache: Mutex<Cache>,
    caching: bool,
}

impl<'a> Resolver<'a> {
    /// A resolver over the routing states of a run (epoch `i` is `routings[i]`).
    pub fn new(topology: &'a Topology, scenario: &'a Scenario, routings: Vec<Routing>) -> Self {
        Resolver {
            topology,
            scenario,
            routings,
            cache: Mutex::new(HashMap::new()),
            caching: true,
        }
    }

    /// The same resolver without a cache (for proving the cache changes nothing).
    pub fn uncached(
        topology: &'a Topology,
        scenario: &'a Scenario,
        routings: Vec<Routing>,
    ) -> Self {
        Resolver {
            caching: false,
            ..Resolver::new(topology, scenario, routings)
        }
    }

    /// The routing state of an epoch.
    pub fn routing(&self, epoch: usize) -> &Routing {
        &self.routings[epoch]
    }

    /// How many pieces are cached.
    pub fn cached(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache
            .lock()
            .expect("no thread panics while holding the cache")
    }

    /// Resolves `key` in routing epoch `epoch`.
    pub fn get(&self, epoch: usize, key: &Key) -> Arc<Value> {
        if !self.caching {
            return Arc::new(self.compute(epoch, key));
        }
        let k = (epoch, key.clone());
        if let Some(v) = self.lock().get(&k) {
            return v.clone();
        }
        // Computed outside the lock: resolution is pure, so two threads
        // computing the same piece get the same value.
        let v = Arc::new(self.compute(epoch, key));
        self.lock().entry(k).or_insert(v).clone()
    }

    fn compute(&self, epoch: usize, key: &Key) -> Value {
        let (t, s) = (self.topology, self.scenario);
        let planner = Planner::new(t, s, &self.routings[epoch], SimTime::ZERO);
        match key {
            Key::Signaling(g) => Value::Flows(flows(t, &planner.home_signaling(*g))),
            Key::Dependencies(g) => Value::Flows(flows(t, &planner.dependencies(*g))),
            Key::ConferenceSignaling(g, host) => {
                Value::Flows(flows(t, &planner.conference_signaling(*g, &host.host())))
            }
            Key::PeerToPeer(a, b, avoid) => {
                let ice = ice_options_for(s, *a).avoiding(avoid.clone());
                Value::Media(media(t, &planner.with_ice(ice).p2p_media(*a, *b)))
            }
            Key::ConferenceHost(organizer, first) => {
                Value::Host(planner.conference_host(*organizer, *first))
            }
            Key::PstnHost(route) => Value::Host(planner.pstn_host(*route)),
            Key::ToHost(g, host, avoid) => {
                let ice = ice_options_for(s, *g).avoiding(avoid.clone());
                Value::Media(media(t, &planner.with_ice(ice).media_to(*g, &host.host())))
            }
            Key::Broadcast(g) => Value::Media(match planner.broadcast_stream(*g) {
                None => Err("no CDN in the topology".into()),
                Some((_, flow)) if !flow.verdict.is_ok() => Err(verdict_text(t, &flow)),
                Some((_, flow)) => Ok(Media {
                    path: path(t, &flow),
                    kind: MediaPath {
                        kind: MediaPathKind::Direct,
                        tcp: true,
                    },
                    setup: SimDuration::ZERO,
                }),
            }),
        }
    }
}

fn verdict_text(t: &Topology, f: &FlowTrace) -> String {
    crate::net::flow::VerdictText {
        topology: t,
        verdict: &f.verdict,
    }
    .to_string()
}

/// The hops of walks, with directions.
pub fn hops(t: &Topology, walks: &[&Walk]) -> Hops {
    walks
        .iter()
        .flat_map(|w| w.hops.iter())
        .filter_map(|h| {
            let l = h.left_by?;
            let (a, _) = t.ends(l);
            Some((
                l,
                if h.node == a {
                    LinkDir::AToB
                } else {
                    LinkDir::BToA
                },
            ))
        })
        .collect()
}

fn path(t: &Topology, f: &FlowTrace) -> Path {
    let forward: Vec<&Walk> = f.legs.iter().map(|l| &l.forward).collect();
    let back: Vec<&Walk> = f.legs.iter().filter_map(|l| l.back.as_ref()).collect();
    Path {
        forward: hops(t, &forward),
        back: hops(t, &back),
    }
}

fn flows(t: &Topology, fs: &[FlowTrace]) -> Result<Vec<Path>, Why> {
    if let Some(bad) = fs.iter().find(|f| !f.verdict.is_ok()) {
        return Err(verdict_text(t, bad));
    }
    Ok(fs.iter().map(|f| path(t, f)).collect())
}

fn media(t: &Topology, ice: &IceOutcome) -> Result<Media, Why> {
    match (&ice.nominated, &ice.route) {
        (Some(n), Some(route)) => {
            let forward: Vec<&Walk> = route.forward.iter().collect();
            let back: Vec<&Walk> = route.back.iter().collect();
            Ok(Media {
                path: Path {
                    forward: hops(t, &forward),
                    back: hops(t, &back),
                },
                kind: MediaPath {
                    kind: n.path,
                    tcp: n.protocol == crate::model::Protocol::Tcp,
                },
                setup: ice.setup_time,
            })
        }
        _ => Err("no working pair".into()),
    }
}
