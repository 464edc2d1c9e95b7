//! NAT: RFC 4787 network address and port translation, with static
//! one-to-one mappings, hairpinning and inbound source NAT.
//!
//! Owns a NAT's binding table ([`NatState`]) and its two decisions for one
//! packet, made at the two points where a real NAT translates:
//!
//! - [`NatState::pre_routing`], before the walker routes the packet:
//!   destination translation. A packet from outside to a mapped pool port is
//!   filtered and sent to the inside host; one to a static public address
//!   goes to its private address (and, with [`Nat::inbound_source_nat`], also
//!   gets a pool source so the reply comes back here); a packet from inside
//!   to this NAT's own public addresses is either a reply on an inbound
//!   source-NAT binding or hairpinned (RFC 4787 §6).
//! - [`NatState::post_routing`], once the walker knows the packet leaves on
//!   an outside link: source translation of inside hosts, static or dynamic.
//!   Packets whose source already is one of this NAT's addresses (hairpinned
//!   or inbound-source-NAT replies) pass untouched, so no packet is
//!   translated twice whatever the walker does.
//!
//! Deciding never changes state. A verdict lists its [`NatEffect`]s (a new
//! mapping, an outbound refresh, a destination let through the filter),
//! which the walker applies with [`NatState::apply`] after logging the hop,
//! before it asks this NAT about the next packet. A drop can carry effects
//! too: a hairpinned packet that the target's filter refuses has still
//! opened the sender's own mapping, exactly as when the packet leaves
//! through the NAT and dies at the far end.
//!
//! The model (ice.md §2.1, §5.1, after pion's vnet): a mapping is keyed by
//! protocol and internal endpoint, plus the destination address (ADM) or
//! address and port (APDM). It keeps its public endpoint, the remote
//! endpoints the inside host has sent to (the filter: EIF admits anyone, ADF
//! those addresses, APDF those address and port pairs), and when it expires.
//! Outbound packets refresh it (REQ-6); inbound ones do not (pion's choice,
//! RFC 4787 §4.3). UDP mappings live [`crate::model::NatBehaviour::mapping_timeout`]
//! after their last outbound packet, TCP ones [`TCP_MAPPING_TIMEOUT`] (RFC
//! 5382). An expired mapping is absent: its port is free again, and a packet
//! for it is dropped as [`NatDrop::Expired`] until [`NatState::expire`] sweeps it.
//!
//! Address choice is "paired" (REQ-2): an internal address always gets the
//! same pool address, its integer value modulo the number of pool addresses
//! (every address of every pool prefix, in order, the first 65,536 only),
//! stepping past addresses that are a static mapping's public side. Port
//! choice preserves the internal port when it is free on that address and
//! inside the usable range `1024..1024 + port_capacity` (capped at 65,535);
//! otherwise it takes the next free port ascending from the wanted one,
//! wrapping to 1024 (from 1024 when the wanted port is outside the range).
//! Ports are counted per protocol: UDP 5000 and TCP 5000 are different ports.
//!
//! Static one-to-one mappings keep ports and are endpoint-independent both
//! ways, so they hold no pool port. The NAT remembers which remote
//! endpoints a static host has sent to, so their replies are not mistaken
//! for new inbound connections (and, with inbound source NAT on,
//! source-NATed).
//!
//! Like Linux conntrack, the NAT remembers every connection it lets in from
//! outside that is not a reply to an inside host's own flow: through a
//! static mapping, through inbound source NAT, or untranslated (a routed,
//! private destination). A connection's translation is decided on its first
//! packet, so the reply to one let in untranslated leaves untranslated, not
//! source-NATed to the pool; and every reply leaves by the link its
//! connection came in by ([`NatState::reply_link`]), whatever the route
//! table says.
//! Inbound source-NAT bindings are refreshed by packets in both directions:
//! both ends are parties to a connection the NAT admitted, so REQ-6's
//! concern (an outsider keeping a hole open) does not arise.
//!
//! Leaves out routing (the walker says which side a packet came from and
//! goes to), filtering rules (`crate::net::firewall`), ALGs, port parity and
//! contiguity, port prediction, ICMP, and TCP connection states (a TCP
//! mapping is a UDP mapping with a longer timer).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use ipnet::IpNet;

use crate::model::{Filtering, LinkId, Mapping, Nat, Protocol};
use crate::net::packet::FiveTuple;
use crate::time::{SimDuration, SimTime};

/// How long an idle TCP mapping lives: RFC 5382 REQ-5's minimum for an
/// established connection, 2 h 4 min.
pub const TCP_MAPPING_TIMEOUT: SimDuration = SimDuration::from_mins(124);

/// The lowest port handed out; below it are the well-known ports.
const FIRST_PORT: u16 = 1024;

/// Pool addresses considered for paired pooling.
const MAX_POOL_ADDRESSES: u128 = 65_536;

/// What a dynamic mapping is bound to besides its internal endpoint, by
/// mapping behaviour.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MappingBound {
    /// Endpoint-independent: every destination shares the mapping.
    Any,
    /// Address-dependent: one mapping per destination address.
    Address(IpAddr),
    /// Address-and-port-dependent: one mapping per destination endpoint.
    Endpoint(SocketAddr),
}

impl MappingBound {
    /// What a mapping towards `towards` is bound to under `mapping`.
    pub fn new(mapping: Mapping, towards: SocketAddr) -> Self {
        match mapping {
            Mapping::EndpointIndependent => MappingBound::Any,
            Mapping::AddressDependent => MappingBound::Address(towards.ip()),
            Mapping::AddressAndPortDependent => MappingBound::Endpoint(towards),
        }
    }
}

/// A NAT's bindings. Everything is in ordered maps, so two runs with the
/// same packets allocate the same ports.
#[derive(Debug, Clone, Default)]
pub struct NatState {
    /// Dynamic mappings and inbound source-NAT bindings by public endpoint.
    bindings: BTreeMap<Slot, Binding>,
    /// Where each binding's key lives in `bindings`.
    keys: BTreeMap<Key, Slot>,
    /// Remote endpoints static hosts have sent to: (protocol, static public
    /// endpoint, remote) → expiry. A packet from such a remote is a reply,
    /// not a new connection from outside.
    static_flows: BTreeMap<(Protocol, SocketAddr, SocketAddr), SimTime>,
    /// Connections first seen arriving from outside, keyed as the inside
    /// host sees them: (protocol, inside endpoint, remote endpoint).
    admitted: BTreeMap<(Protocol, SocketAddr, SocketAddr), Admitted>,
}

/// A connection the NAT let in from outside: like a conntrack entry whose
/// first packet came in, it remembers how the NAT treated that packet and
/// which link it arrived by, so the replies are treated the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Admitted {
    /// The outside link the connection's first packet arrived by.
    link: LinkId,
    /// Whether the NAT translated it (a static mapping, inbound source NAT)
    /// or let it through as it was (a routed, private destination).
    translated: bool,
    /// The first instant at which it is forgotten.
    expires: SimTime,
}

/// A public port: protocol, pool address, port.
type Slot = (Protocol, IpAddr, u16);

/// What identifies a binding apart from its public endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Key {
    /// An inside host's mapping.
    Outbound {
        protocol: Protocol,
        internal: SocketAddr,
        bound: MappingBound,
    },
    /// An outside client's connection to a static host, source-NATed.
    Inbound {
        protocol: Protocol,
        client: SocketAddr,
        server_public: SocketAddr,
        server: SocketAddr,
    },
}

#[derive(Debug, Clone)]
struct Binding {
    key: Key,
    /// Remote endpoints the inside host has sent to through this mapping.
    sent_to: BTreeSet<SocketAddr>,
    /// The first instant at which it is gone.
    expires: SimTime,
}

/// What a NAT does with one packet at one decision point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NatVerdict {
    /// Nothing to translate here.
    Pass,
    /// Nothing to translate, but the NAT tracks the packet's connection:
    /// one let in from outside untranslated, or a reply on such a
    /// connection, which must leave untranslated too.
    Track {
        /// State changes to apply after logging.
        effects: Vec<NatEffect>,
    },
    /// The packet goes on rewritten.
    Translate {
        /// The packet's 5-tuple after translation.
        tuple: FiveTuple,
        /// What changed.
        rewrite: Rewrite,
        /// State changes to apply after logging.
        effects: Vec<NatEffect>,
    },
    /// The packet dies here.
    Drop {
        /// Why.
        reason: NatDrop,
        /// State changes the packet made before it died (a hairpinned
        /// packet's own outbound mapping).
        effects: Vec<NatEffect>,
    },
}

impl NatVerdict {
    /// The state changes to apply after logging (none for [`NatVerdict::Pass`]).
    pub fn effects(&self) -> &[NatEffect] {
        match self {
            NatVerdict::Pass => &[],
            NatVerdict::Track { effects }
            | NatVerdict::Translate { effects, .. }
            | NatVerdict::Drop { effects, .. } => effects,
        }
    }

    /// The packet's tuple after this verdict, or `None` if it was dropped.
    pub fn tuple_after(&self, before: &FiveTuple) -> Option<FiveTuple> {
        match self {
            NatVerdict::Pass | NatVerdict::Track { .. } => Some(*before),
            NatVerdict::Translate { tuple, .. } => Some(*tuple),
            NatVerdict::Drop { .. } => None,
        }
    }

    fn drop(reason: NatDrop) -> Self {
        NatVerdict::Drop {
            reason,
            effects: vec![],
        }
    }
}

/// Which addresses a translation changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    /// The source only.
    Source {
        /// Before.
        from: SocketAddr,
        /// After.
        to: SocketAddr,
    },
    /// The destination only.
    Destination {
        /// Before.
        from: SocketAddr,
        /// After.
        to: SocketAddr,
    },
    /// Both (hairpinning, inbound source NAT).
    Both {
        /// Source before.
        src_from: SocketAddr,
        /// Source after.
        src_to: SocketAddr,
        /// Destination before.
        dst_from: SocketAddr,
        /// Destination after.
        dst_to: SocketAddr,
    },
}

/// Why a NAT dropped a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatDrop {
    /// Nothing is mapped on this public endpoint.
    NoMapping {
        /// The public endpoint the packet was sent to.
        public: SocketAddr,
    },
    /// The mapping exists but its filter does not admit the sender.
    Filtered {
        /// The mapping's public endpoint.
        mapping: SocketAddr,
        /// The sender as the NAT sees it.
        from: SocketAddr,
        /// The filtering behaviour that refused it.
        filtering: Filtering,
    },
    /// The mapping timed out.
    Expired {
        /// The mapping's public endpoint.
        mapping: SocketAddr,
        /// When it expired.
        at: SimTime,
    },
    /// No free port on the public address this host is paired with.
    PortsExhausted {
        /// The pool address.
        address: IpAddr,
        /// Ports it has per protocol.
        capacity: u32,
    },
    /// The packet is for this NAT's own public address from inside, and the
    /// NAT does not hairpin.
    HairpinDisabled {
        /// The public endpoint the packet was sent to.
        public: SocketAddr,
    },
    /// Every pool address is the public side of a static mapping, so none
    /// is left for dynamic mappings.
    NoPoolAddress,
}

/// A change to a NAT's bindings, applied after the verdict is logged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NatEffect {
    /// Create an inside host's mapping, having sent to `towards`.
    Map {
        /// Its protocol.
        protocol: Protocol,
        /// The inside endpoint.
        internal: SocketAddr,
        /// What else the mapping is keyed on.
        bound: MappingBound,
        /// The public endpoint allocated.
        public: SocketAddr,
        /// The destination of the packet that created it.
        towards: SocketAddr,
        /// How long it lives without outbound traffic.
        lifetime: SimDuration,
    },
    /// Outbound use of an existing mapping: refresh it and admit replies
    /// from `towards`.
    Use {
        /// Its protocol.
        protocol: Protocol,
        /// Its public endpoint.
        public: SocketAddr,
        /// The destination sent to.
        towards: SocketAddr,
        /// How long it lives from now without outbound traffic.
        lifetime: SimDuration,
    },
    /// Create an inbound source-NAT binding: `client`'s connection to
    /// `server_public` reaches `server` from `public`.
    MapInbound {
        /// Its protocol.
        protocol: Protocol,
        /// The outside client.
        client: SocketAddr,
        /// The static public endpoint the client connected to.
        server_public: SocketAddr,
        /// The inside server it was translated to.
        server: SocketAddr,
        /// The pool endpoint standing in for the client.
        public: SocketAddr,
        /// How long it lives without traffic.
        lifetime: SimDuration,
    },
    /// Traffic on an inbound source-NAT binding: restart its timer.
    Refresh {
        /// Its protocol.
        protocol: Protocol,
        /// Its pool endpoint.
        public: SocketAddr,
        /// How long it lives from now without traffic.
        lifetime: SimDuration,
    },
    /// A connection arrived from outside by `link` (or another packet of
    /// one did): remember it, so its replies are translated as it was and
    /// leave by the same link.
    Admit {
        /// Its protocol.
        protocol: Protocol,
        /// The inside endpoint, as the packet reached it.
        inside: SocketAddr,
        /// The remote endpoint, as the inside host sees it.
        remote: SocketAddr,
        /// The outside link it arrived by.
        link: LinkId,
        /// Whether the NAT translated it.
        translated: bool,
        /// How long the NAT remembers it without traffic.
        lifetime: SimDuration,
    },
    /// A reply on an admitted connection: restart its timer.
    Readmit {
        /// Its protocol.
        protocol: Protocol,
        /// The inside endpoint.
        inside: SocketAddr,
        /// The remote endpoint, as the inside host sees it.
        remote: SocketAddr,
        /// How long the NAT remembers it from now without traffic.
        lifetime: SimDuration,
    },
    /// A static host sent to `remote`: its replies are replies, not new
    /// connections.
    StaticFlow {
        /// Its protocol.
        protocol: Protocol,
        /// The static host's public endpoint.
        public: SocketAddr,
        /// Where it sent.
        remote: SocketAddr,
        /// How long the NAT remembers it without outbound traffic.
        lifetime: SimDuration,
    },
}

/// Where an inside host's packets appear to come from.
enum Source {
    /// Its static public address.
    Static(SocketAddr),
    /// A live mapping.
    Existing(SocketAddr),
    /// A mapping to create.
    New {
        public: SocketAddr,
        bound: MappingBound,
    },
}

impl Source {
    fn public(&self) -> SocketAddr {
        match *self {
            Source::Static(p) | Source::Existing(p) | Source::New { public: p, .. } => p,
        }
    }
}

impl NatState {
    /// Destination translation, before routing. `from_outside`: the link
    /// the packet arrived by, when it is one of [`Nat::outside`]'s. Changes
    /// nothing; see [`Self::apply`].
    pub fn pre_routing(
        &self,
        nat: &Nat,
        tuple: &FiveTuple,
        from_outside: Option<LinkId>,
        now: SimTime,
    ) -> NatVerdict {
        let dst_ip = tuple.dst.ip();
        if let Some(private_ip) = static_private(nat, dst_ip) {
            let server = SocketAddr::new(private_ip, tuple.dst.port());
            if let Some(link) = from_outside {
                return self.inbound_static(nat, tuple, server, link, now);
            }
            if !nat.behaviour.hairpinning {
                return NatVerdict::drop(NatDrop::HairpinDisabled { public: tuple.dst });
            }
            // A static mapping is endpoint-independent: no filter to pass.
            return self.hairpin(nat, tuple, server, None, now);
        }
        if !in_pool(nat, dst_ip) {
            // Not for this NAT's addresses. From outside, the packet is let
            // through as it is (a destination its routes lead to, e.g. a
            // private address on an internal NAT): like a conntrack entry
            // created without a NAT binding, the connection is remembered,
            // so its replies leave untranslated (the remote never sent to a
            // pool address) and by the link it came in by.
            return match from_outside {
                Some(link) => NatVerdict::Track {
                    effects: vec![NatEffect::Admit {
                        protocol: tuple.protocol,
                        inside: tuple.dst,
                        remote: tuple.src,
                        link,
                        translated: false,
                        lifetime: lifetime(nat, tuple.protocol),
                    }],
                },
                None => NatVerdict::Pass,
            };
        }
        let slot = (tuple.protocol, dst_ip, tuple.dst.port());
        let binding = self.bindings.get(&slot);
        if from_outside.is_some() {
            return inbound_dynamic(nat, tuple, binding, now);
        }
        if let Some(b) = binding.filter(|b| b.expires > now)
            && let Key::Inbound {
                client,
                server_public,
                server,
                ..
            } = b.key
            && server == tuple.src
        {
            // The inside server answering a source-NATed inbound connection.
            return NatVerdict::Translate {
                tuple: FiveTuple::new(tuple.protocol, server_public, client),
                rewrite: Rewrite::Both {
                    src_from: tuple.src,
                    src_to: server_public,
                    dst_from: tuple.dst,
                    dst_to: client,
                },
                effects: vec![
                    NatEffect::Refresh {
                        protocol: tuple.protocol,
                        public: tuple.dst,
                        lifetime: lifetime(nat, tuple.protocol),
                    },
                    NatEffect::Readmit {
                        protocol: tuple.protocol,
                        inside: tuple.src,
                        remote: tuple.dst,
                        lifetime: lifetime(nat, tuple.protocol),
                    },
                ],
            };
        }
        if !nat.behaviour.hairpinning {
            return NatVerdict::drop(NatDrop::HairpinDisabled { public: tuple.dst });
        }
        match binding {
            None => NatVerdict::drop(NatDrop::NoMapping { public: tuple.dst }),
            Some(b) if b.expires <= now => NatVerdict::drop(NatDrop::Expired {
                mapping: tuple.dst,
                at: b.expires,
            }),
            Some(Binding {
                key: Key::Outbound { internal, .. },
                sent_to,
                ..
            }) => self.hairpin(nat, tuple, *internal, Some(sent_to), now),
            // An inbound source-NAT binding answers only its own server.
            Some(_) => NatVerdict::drop(NatDrop::NoMapping { public: tuple.dst }),
        }
    }

    /// Source translation, after routing. `from_outside`: whether the packet
    /// arrived on an outside link; `to_outside`: whether it leaves on one.
    /// Only packets from inside going out are translated, and only if their
    /// source is not already one of this NAT's public addresses. Changes
    /// nothing; see [`Self::apply`].
    pub fn post_routing(
        &self,
        nat: &Nat,
        tuple: &FiveTuple,
        from_outside: bool,
        to_outside: bool,
        now: SimTime,
    ) -> NatVerdict {
        if from_outside || !to_outside || owns(nat, tuple.src.ip()) {
            return NatVerdict::Pass;
        }
        let admitted = self.live_admitted(tuple, now);
        let readmit = admitted.map(|_| NatEffect::Readmit {
            protocol: tuple.protocol,
            inside: tuple.src,
            remote: tuple.dst,
            lifetime: lifetime(nat, tuple.protocol),
        });
        if let (Some(a), Some(refresh)) = (admitted, readmit)
            && !a.translated
        {
            // A reply on a connection let in untranslated: a NAT decides a
            // connection's translation on its first packet (RFC 4787 §4.1's
            // mappings are for connections an inside host opens; Linux
            // conntrack consults its NAT rules only for a connection's
            // first packet), so the reply leaves as the remote addressed
            // it, from the address it sent to.
            return NatVerdict::Track {
                effects: vec![refresh],
            };
        }
        if nat.exempts(tuple.src.ip()) {
            // Exempt: the source is routed as it is. A reply on a connection
            // let in from outside still refreshes what conntrack remembers.
            return match readmit {
                Some(refresh) => NatVerdict::Track {
                    effects: vec![refresh],
                },
                None => NatVerdict::Pass,
            };
        }
        let source = match self.source(nat, tuple.protocol, tuple.src, tuple.dst, now) {
            Ok(s) => s,
            Err(reason) => return NatVerdict::drop(reason),
        };
        let public = source.public();
        let mut effects = use_effects(nat, &source, tuple.protocol, tuple.src, tuple.dst);
        effects.extend(readmit);
        // A static host's own flow (not a reply to one let in): packets
        // from its remote are its replies, not new connections.
        if matches!(source, Source::Static(_)) && readmit.is_none() {
            effects.push(NatEffect::StaticFlow {
                protocol: tuple.protocol,
                public,
                remote: tuple.dst,
                lifetime: lifetime(nat, tuple.protocol),
            });
        }
        NatVerdict::Translate {
            tuple: FiveTuple::new(tuple.protocol, public, tuple.dst),
            rewrite: Rewrite::Source {
                from: tuple.src,
                to: public,
            },
            effects,
        }
    }

    /// Applies a verdict's effects. Apply them before deciding the next
    /// packet at this NAT: a new mapping takes its port on the strength of
    /// the decision that chose it.
    pub fn apply(&mut self, effects: &[NatEffect], now: SimTime) {
        for effect in effects {
            match *effect {
                NatEffect::Map {
                    protocol,
                    internal,
                    bound,
                    public,
                    towards,
                    lifetime,
                } => {
                    let key = Key::Outbound {
                        protocol,
                        internal,
                        bound,
                    };
                    let sent_to = BTreeSet::from([towards]);
                    self.bind(key, public, sent_to, now.saturating_add(lifetime));
                }
                NatEffect::Use {
                    protocol,
                    public,
                    towards,
                    lifetime,
                } => {
                    if let Some(b) = self.bindings.get_mut(&slot(protocol, public)) {
                        b.expires = now.saturating_add(lifetime);
                        b.sent_to.insert(towards);
                    }
                }
                NatEffect::MapInbound {
                    protocol,
                    client,
                    server_public,
                    server,
                    public,
                    lifetime,
                } => {
                    let key = Key::Inbound {
                        protocol,
                        client,
                        server_public,
                        server,
                    };
                    self.bind(key, public, BTreeSet::new(), now.saturating_add(lifetime));
                }
                NatEffect::Refresh {
                    protocol,
                    public,
                    lifetime,
                } => {
                    if let Some(b) = self.bindings.get_mut(&slot(protocol, public)) {
                        b.expires = now.saturating_add(lifetime);
                    }
                }
                NatEffect::StaticFlow {
                    protocol,
                    public,
                    remote,
                    lifetime,
                } => {
                    self.static_flows
                        .insert((protocol, public, remote), now.saturating_add(lifetime));
                }
                NatEffect::Admit {
                    protocol,
                    inside,
                    remote,
                    link,
                    translated,
                    lifetime,
                } => {
                    self.admitted.insert(
                        (protocol, inside, remote),
                        Admitted {
                            link,
                            translated,
                            expires: now.saturating_add(lifetime),
                        },
                    );
                }
                NatEffect::Readmit {
                    protocol,
                    inside,
                    remote,
                    lifetime,
                } => {
                    if let Some(a) = self.admitted.get_mut(&(protocol, inside, remote)) {
                        a.expires = now.saturating_add(lifetime);
                    }
                }
            }
        }
    }

    /// Dynamic mappings and inbound source-NAT bindings held (pool ports in
    /// use), including expired ones [`Self::expire`] has not yet swept.
    pub fn mappings(&self) -> usize {
        self.bindings.len()
    }

    /// Forgets every binding and static flow that has expired by `now`.
    pub fn expire(&mut self, now: SimTime) {
        let keys = &mut self.keys;
        self.bindings.retain(|_, b| {
            let live = b.expires > now;
            if !live {
                keys.remove(&b.key);
            }
            live
        });
        self.static_flows.retain(|_, expires| *expires > now);
        self.admitted.retain(|_, a| a.expires > now);
    }

    /// The link a packet from inside must leave by because it answers a
    /// connection that came in from outside: the link that connection
    /// arrived by (`tuple` as it reaches the NAT, before translation).
    ///
    /// Stateful edge devices send a connection's replies back the way it
    /// came ("reply-to": pf's `reply-to`, Linux policy routing on a
    /// connection mark, the symmetric-return option of enterprise
    /// firewalls) rather than by their route table: with a second path to
    /// the same prefixes (ExpressRoute), the table would send replies to
    /// Internet-initiated connections out over the circuit, from an address
    /// the caller never called (domain.md §4.4, §4.5).
    pub fn reply_link(&self, tuple: &FiveTuple, now: SimTime) -> Option<LinkId> {
        self.live_admitted(tuple, now).map(|a| a.link)
    }

    /// The live admitted connection `tuple` (from inside) answers.
    fn live_admitted(&self, tuple: &FiveTuple, now: SimTime) -> Option<&Admitted> {
        self.admitted
            .get(&(tuple.protocol, tuple.src, tuple.dst))
            .filter(|a| a.expires > now)
    }

    /// The public endpoint `internal`'s packets towards `towards` leave from:
    /// its live mapping's, or the one the next packet would get (what a STUN
    /// server at `towards` would report). `None` if no port or address is
    /// free. Changes nothing.
    pub fn public_mapping(
        &self,
        nat: &Nat,
        internal: SocketAddr,
        protocol: Protocol,
        towards: SocketAddr,
        now: SimTime,
    ) -> Option<SocketAddr> {
        self.source(nat, protocol, internal, towards, now)
            .ok()
            .map(|s| s.public())
    }

    /// Where an inside host's packet towards `towards` appears to come from.
    fn source(
        &self,
        nat: &Nat,
        protocol: Protocol,
        internal: SocketAddr,
        towards: SocketAddr,
        now: SimTime,
    ) -> Result<Source, NatDrop> {
        if let Some(public_ip) = static_public(nat, internal.ip()) {
            return Ok(Source::Static(SocketAddr::new(public_ip, internal.port())));
        }
        let bound = MappingBound::new(nat.behaviour.mapping, towards);
        let key = Key::Outbound {
            protocol,
            internal,
            bound,
        };
        if let Some(public) = self.live_public(&key, now) {
            return Ok(Source::Existing(public));
        }
        let public = self.allocate(nat, protocol, internal, now)?;
        Ok(Source::New { public, bound })
    }

    /// The public endpoint of `key`'s live binding.
    fn live_public(&self, key: &Key, now: SimTime) -> Option<SocketAddr> {
        let slot = self.keys.get(key)?;
        self.bindings
            .get(slot)
            .filter(|b| b.expires > now)
            .map(|_| SocketAddr::new(slot.1, slot.2))
    }

    /// A free public endpoint for `endpoint` (an inside host, or an outside
    /// client being source-NATed): its paired pool address, its own port if
    /// possible.
    fn allocate(
        &self,
        nat: &Nat,
        protocol: Protocol,
        endpoint: SocketAddr,
        now: SimTime,
    ) -> Result<SocketAddr, NatDrop> {
        let address = pool_address(nat, endpoint.ip()).ok_or(NatDrop::NoPoolAddress)?;
        let capacity = nat.behaviour.port_capacity;
        let end = (u32::from(FIRST_PORT) + capacity).min(u32::from(u16::MAX) + 1);
        let wanted = u32::from(endpoint.port());
        let start = if (u32::from(FIRST_PORT)..end).contains(&wanted) {
            wanted
        } else {
            u32::from(FIRST_PORT)
        };
        self.first_free(protocol, address, start, end, now)
            .or_else(|| self.first_free(protocol, address, u32::from(FIRST_PORT), start, now))
            .map(|port| SocketAddr::new(address, port))
            .ok_or(NatDrop::PortsExhausted { address, capacity })
    }

    /// The lowest port in `from..to` on `address` no live binding holds.
    fn first_free(
        &self,
        protocol: Protocol,
        address: IpAddr,
        from: u32,
        to: u32,
        now: SimTime,
    ) -> Option<u16> {
        let (Ok(lo), Ok(hi)) = (u16::try_from(from), u16::try_from(to.checked_sub(1)?)) else {
            return None;
        };
        if lo > hi {
            return None;
        }
        let mut next = from;
        for ((_, _, port), b) in self
            .bindings
            .range((protocol, address, lo)..=(protocol, address, hi))
        {
            if b.expires <= now {
                continue;
            }
            if u32::from(*port) != next {
                break;
            }
            next += 1;
        }
        u16::try_from(next).ok().filter(|_| next < to)
    }

    /// A packet from outside to a static public address.
    fn inbound_static(
        &self,
        nat: &Nat,
        tuple: &FiveTuple,
        server: SocketAddr,
        link: LinkId,
        now: SimTime,
    ) -> NatVerdict {
        let is_reply = self
            .static_flows
            .get(&(tuple.protocol, tuple.dst, tuple.src))
            .is_some_and(|expires| *expires > now);
        let lifetime = lifetime(nat, tuple.protocol);
        if !nat.inbound_source_nat || is_reply {
            // A new connection (or more of one) is admitted: its replies
            // leave by the link it came in by.
            let effects = if is_reply {
                vec![]
            } else {
                vec![NatEffect::Admit {
                    protocol: tuple.protocol,
                    inside: server,
                    remote: tuple.src,
                    link,
                    translated: true,
                    lifetime,
                }]
            };
            return NatVerdict::Translate {
                tuple: FiveTuple::new(tuple.protocol, tuple.src, server),
                rewrite: Rewrite::Destination {
                    from: tuple.dst,
                    to: server,
                },
                effects,
            };
        }
        let key = Key::Inbound {
            protocol: tuple.protocol,
            client: tuple.src,
            server_public: tuple.dst,
            server,
        };
        let (public, effect) = match self.live_public(&key, now) {
            Some(public) => (
                public,
                NatEffect::Refresh {
                    protocol: tuple.protocol,
                    public,
                    lifetime,
                },
            ),
            None => match self.allocate(nat, tuple.protocol, tuple.src, now) {
                Ok(public) => (
                    public,
                    NatEffect::MapInbound {
                        protocol: tuple.protocol,
                        client: tuple.src,
                        server_public: tuple.dst,
                        server,
                        public,
                        lifetime,
                    },
                ),
                Err(reason) => return NatVerdict::drop(reason),
            },
        };
        NatVerdict::Translate {
            tuple: FiveTuple::new(tuple.protocol, public, server),
            rewrite: Rewrite::Both {
                src_from: tuple.src,
                src_to: public,
                dst_from: tuple.dst,
                dst_to: server,
            },
            // The server answers the pool address; the restored reply
            // leaves by the link the request came in by.
            effects: vec![
                effect,
                NatEffect::Admit {
                    protocol: tuple.protocol,
                    inside: server,
                    remote: public,
                    link,
                    translated: true,
                    lifetime,
                },
            ],
        }
    }

    /// A packet from inside to one of this NAT's public endpoints, turned
    /// around to `target`. The receiver sees the sender's public endpoint
    /// (RFC 4787 §6), which the target mapping's filter must admit
    /// (`filter`: its sent-to set; `None` for a static mapping).
    fn hairpin(
        &self,
        nat: &Nat,
        tuple: &FiveTuple,
        target: SocketAddr,
        filter: Option<&BTreeSet<SocketAddr>>,
        now: SimTime,
    ) -> NatVerdict {
        let source = match self.source(nat, tuple.protocol, tuple.src, tuple.dst, now) {
            Ok(s) => s,
            Err(reason) => return NatVerdict::drop(reason),
        };
        let sender = source.public();
        let effects = use_effects(nat, &source, tuple.protocol, tuple.src, tuple.dst);
        if let Some(sent_to) = filter
            && !admits(nat.behaviour.filtering, sent_to, sender)
        {
            return NatVerdict::Drop {
                reason: NatDrop::Filtered {
                    mapping: tuple.dst,
                    from: sender,
                    filtering: nat.behaviour.filtering,
                },
                effects,
            };
        }
        NatVerdict::Translate {
            tuple: FiveTuple::new(tuple.protocol, sender, target),
            rewrite: Rewrite::Both {
                src_from: tuple.src,
                src_to: sender,
                dst_from: tuple.dst,
                dst_to: target,
            },
            effects,
        }
    }

    /// Puts a new binding on `public`, displacing the key's old binding and
    /// any dead one on that port.
    fn bind(
        &mut self,
        key: Key,
        public: SocketAddr,
        sent_to: BTreeSet<SocketAddr>,
        expires: SimTime,
    ) {
        let slot = slot(key.protocol(), public);
        if let Some(old) = self.keys.remove(&key) {
            self.bindings.remove(&old);
        }
        if let Some(old) = self.bindings.remove(&slot) {
            self.keys.remove(&old.key);
        }
        self.bindings.insert(
            slot,
            Binding {
                key,
                sent_to,
                expires,
            },
        );
        self.keys.insert(key, slot);
    }
}

impl Key {
    fn protocol(&self) -> Protocol {
        match *self {
            Key::Outbound { protocol, .. } | Key::Inbound { protocol, .. } => protocol,
        }
    }
}

/// A packet from outside to a pool address.
fn inbound_dynamic(
    nat: &Nat,
    tuple: &FiveTuple,
    binding: Option<&Binding>,
    now: SimTime,
) -> NatVerdict {
    match binding {
        None => NatVerdict::drop(NatDrop::NoMapping { public: tuple.dst }),
        Some(b) if b.expires <= now => NatVerdict::drop(NatDrop::Expired {
            mapping: tuple.dst,
            at: b.expires,
        }),
        Some(Binding {
            key: Key::Outbound { internal, .. },
            sent_to,
            ..
        }) => {
            if admits(nat.behaviour.filtering, sent_to, tuple.src) {
                NatVerdict::Translate {
                    tuple: FiveTuple::new(tuple.protocol, tuple.src, *internal),
                    rewrite: Rewrite::Destination {
                        from: tuple.dst,
                        to: *internal,
                    },
                    effects: vec![],
                }
            } else {
                NatVerdict::drop(NatDrop::Filtered {
                    mapping: tuple.dst,
                    from: tuple.src,
                    filtering: nat.behaviour.filtering,
                })
            }
        }
        // Inbound source-NAT bindings face inwards: nothing outside may use them.
        Some(_) => NatVerdict::drop(NatDrop::NoMapping { public: tuple.dst }),
    }
}

/// The effects of an inside host sending to `towards` from `source`.
fn use_effects(
    nat: &Nat,
    source: &Source,
    protocol: Protocol,
    internal: SocketAddr,
    towards: SocketAddr,
) -> Vec<NatEffect> {
    let lifetime = lifetime(nat, protocol);
    match *source {
        Source::Static(_) => vec![],
        Source::Existing(public) => vec![NatEffect::Use {
            protocol,
            public,
            towards,
            lifetime,
        }],
        Source::New { public, bound } => vec![NatEffect::Map {
            protocol,
            internal,
            bound,
            public,
            towards,
            lifetime,
        }],
    }
}

/// Whether a mapping that has sent to `sent_to` admits a packet from `from`.
fn admits(filtering: Filtering, sent_to: &BTreeSet<SocketAddr>, from: SocketAddr) -> bool {
    match filtering {
        Filtering::EndpointIndependent => true,
        Filtering::AddressDependent => sent_to.iter().any(|s| s.ip() == from.ip()),
        Filtering::AddressAndPortDependent => sent_to.contains(&from),
    }
}

/// How long an idle binding of `protocol` lives.
fn lifetime(nat: &Nat, protocol: Protocol) -> SimDuration {
    match protocol {
        Protocol::Udp => nat.behaviour.mapping_timeout,
        Protocol::Tcp => TCP_MAPPING_TIMEOUT,
    }
}

fn slot(protocol: Protocol, public: SocketAddr) -> Slot {
    (protocol, public.ip(), public.port())
}

/// The private address statically mapped to `public`.
fn static_private(nat: &Nat, public: IpAddr) -> Option<IpAddr> {
    nat.static_mappings
        .iter()
        .find(|(p, _)| *p == public)
        .map(|&(_, private)| private)
}

/// The public address statically mapped to `private`.
fn static_public(nat: &Nat, private: IpAddr) -> Option<IpAddr> {
    nat.static_mappings
        .iter()
        .find(|(_, p)| *p == private)
        .map(|&(public, _)| public)
}

/// Whether `ip` is a dynamic pool address (static public addresses inside
/// a pool prefix are not).
fn in_pool(nat: &Nat, ip: IpAddr) -> bool {
    nat.pool.iter().any(|n| n.contains(&ip)) && static_private(nat, ip).is_none()
}

/// Whether `ip` is one of this NAT's public addresses.
fn owns(nat: &Nat, ip: IpAddr) -> bool {
    nat.pool.iter().any(|n| n.contains(&ip)) || static_private(nat, ip).is_some()
}

/// The pool address paired with `ip`.
fn pool_address(nat: &Nat, ip: IpAddr) -> Option<IpAddr> {
    let count = nat
        .pool
        .iter()
        .map(prefix_size)
        .fold(0u128, u128::saturating_add)
        .min(MAX_POOL_ADDRESSES);
    if count == 0 {
        return None;
    }
    let start = ip_value(ip) % count;
    (0..count)
        .filter_map(|k| nth_pool_address(nat, (start + k) % count))
        .find(|a| static_private(nat, *a).is_none())
}

/// The `i`-th address of the pool prefixes taken in order.
fn nth_pool_address(nat: &Nat, mut i: u128) -> Option<IpAddr> {
    for net in &nat.pool {
        let size = prefix_size(net);
        if i < size {
            return Some(match net {
                IpNet::V4(n) => IpAddr::V4(Ipv4Addr::from(
                    u32::from(n.network()) + u32::try_from(i).ok()?,
                )),
                IpNet::V6(n) => IpAddr::V6(Ipv6Addr::from(u128::from(n.network()) + i)),
            });
        }
        i -= size;
    }
    None
}

/// Addresses in `net` (saturating for an IPv6 /0).
fn prefix_size(net: &IpNet) -> u128 {
    let host_bits = u32::from(net.max_prefix_len() - net.prefix_len());
    1u128.checked_shl(host_bits).unwrap_or(u128::MAX)
}

fn ip_value(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(a) => u128::from(u32::from(a)),
        IpAddr::V6(a) => u128::from(a),
    }
}

impl fmt::Display for NatVerdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NatVerdict::Pass => f.write_str("no translation"),
            NatVerdict::Track { .. } => f.write_str("no translation (connection tracked)"),
            NatVerdict::Translate { rewrite, .. } => rewrite.fmt(f),
            NatVerdict::Drop { reason, .. } => reason.fmt(f),
        }
    }
}

impl fmt::Display for Rewrite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rewrite::Source { from, to } => write!(f, "src {from} -> {to}"),
            Rewrite::Destination { from, to } => write!(f, "dst {from} -> {to}"),
            Rewrite::Both {
                src_from,
                src_to,
                dst_from,
                dst_to,
            } => write!(f, "src {src_from} -> {src_to}, dst {dst_from} -> {dst_to}"),
        }
    }
}

impl fmt::Display for NatDrop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NatDrop::NoMapping { public } => write!(f, "no mapping for {public}"),
            NatDrop::Filtered {
                mapping,
                from,
                filtering,
            } => match filtering {
                Filtering::AddressDependent => {
                    write!(
                        f,
                        "filtered: mapping {mapping} has not sent to {}",
                        from.ip()
                    )
                }
                Filtering::AddressAndPortDependent | Filtering::EndpointIndependent => {
                    write!(f, "filtered: mapping {mapping} has not sent to {from}")
                }
            },
            NatDrop::Expired { mapping, at } => write!(f, "mapping {mapping} expired at {at}"),
            NatDrop::PortsExhausted { address, capacity } => {
                write!(f, "no free port on {address} (capacity {capacity})")
            }
            NatDrop::HairpinDisabled { public } => write!(
                f,
                "hairpinning disabled: {public} is this NAT's own public address"
            ),
            NatDrop::NoPoolAddress => {
                f.write_str("no pool address left for dynamic mappings (all are static)")
            }
        }
    }
}

impl fmt::Display for MappingBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MappingBound::Any => f.write_str("any destination"),
            MappingBound::Address(a) => a.fmt(f),
            MappingBound::Endpoint(e) => e.fmt(f),
        }
    }
}

impl fmt::Display for NatEffect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NatEffect::Map {
                protocol,
                internal,
                bound,
                public,
                ..
            } => write!(
                f,
                "new mapping {protocol} {internal} -> {public} for {bound}"
            ),
            NatEffect::Use {
                protocol,
                public,
                towards,
                ..
            } => write!(
                f,
                "mapping {protocol} {public} refreshed, sent to {towards}"
            ),
            NatEffect::MapInbound {
                protocol,
                client,
                server,
                public,
                ..
            } => write!(
                f,
                "new inbound source NAT {protocol} {client} -> {public} towards {server}"
            ),
            NatEffect::Refresh {
                protocol, public, ..
            } => write!(f, "binding {protocol} {public} refreshed"),
            NatEffect::StaticFlow {
                protocol,
                public,
                remote,
                ..
            } => write!(f, "static flow {protocol} {public} -> {remote} noted"),
            NatEffect::Admit {
                protocol,
                inside,
                remote,
                translated,
                ..
            } => write!(
                f,
                "inbound connection {protocol} {remote} -> {inside} admitted{}",
                if *translated { "" } else { " untranslated" }
            ),
            NatEffect::Readmit {
                protocol,
                inside,
                remote,
                ..
            } => write!(
                f,
                "inbound connection {protocol} {remote} -> {inside} refreshed"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NatBehaviour;

    fn sa(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn udp(src: &str, dst: &str) -> FiveTuple {
        FiveTuple::new(Protocol::Udp, sa(src), sa(dst))
    }

    fn at(secs: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(secs)
    }

    const STUN: &str = "192.0.2.10:3478";

    /// The outside link packets from outside arrive by.
    fn wan() -> LinkId {
        LinkId(petgraph::graph::EdgeIndex::new(0))
    }

    fn nat(pool: &str, mapping: Mapping, filtering: Filtering) -> Nat {
        Nat {
            pool: vec![pool.parse().unwrap()],
            behaviour: NatBehaviour {
                mapping,
                filtering,
                hairpinning: true,
                mapping_timeout: SimDuration::from_secs(30),
                port_capacity: 64_512,
            },
            outside: vec![],
            static_mappings: vec![],
            inbound_source_nat: false,
            exempt: vec![],
        }
    }

    fn preset(pool: &str, name: &str) -> Nat {
        let (mapping, filtering) = NatBehaviour::preset(name).unwrap();
        nat(pool, mapping, filtering)
    }

    /// A packet from inside leaving on an outside link, decided and applied.
    fn out(state: &mut NatState, nat: &Nat, tuple: FiveTuple, now: SimTime) -> NatVerdict {
        let verdict = state.post_routing(nat, &tuple, false, true, now);
        state.apply(verdict.effects(), now);
        verdict
    }

    /// A packet arriving from outside, decided and applied.
    fn inbound(state: &mut NatState, nat: &Nat, tuple: FiveTuple, now: SimTime) -> NatVerdict {
        let verdict = state.pre_routing(nat, &tuple, Some(wan()), now);
        state.apply(verdict.effects(), now);
        verdict
    }

    /// A packet from inside to one of the NAT's addresses, decided and applied.
    fn inside(state: &mut NatState, nat: &Nat, tuple: FiveTuple, now: SimTime) -> NatVerdict {
        let verdict = state.pre_routing(nat, &tuple, None, now);
        state.apply(verdict.effects(), now);
        verdict
    }

    fn after(verdict: &NatVerdict) -> FiveTuple {
        match verdict {
            NatVerdict::Translate { tuple, .. } => *tuple,
            other => panic!("expected a translation, got {other}"),
        }
    }

    fn reason(verdict: &NatVerdict) -> NatDrop {
        match verdict {
            NatVerdict::Drop { reason, .. } => *reason,
            other => panic!("expected a drop, got {other}"),
        }
    }

    #[test]
    fn mapping_behaviour_decides_when_a_public_port_is_reused() {
        let host = "10.0.0.1:5000";
        // Same address other port; other address same port.
        let destinations = ["52.112.1.10:3478", "52.112.1.10:3479", "52.112.9.9:3478"];
        for (mapping, expected) in [
            (Mapping::EndpointIndependent, [5000, 5000, 5000]),
            (Mapping::AddressDependent, [5000, 5000, 5001]),
            (Mapping::AddressAndPortDependent, [5000, 5001, 5002]),
        ] {
            let nat = nat("198.51.100.3/32", mapping, Filtering::EndpointIndependent);
            let mut state = NatState::default();
            let ports: Vec<u16> = destinations
                .iter()
                .map(|d| {
                    after(&out(&mut state, &nat, udp(host, d), at(0)))
                        .src
                        .port()
                })
                .collect();
            assert_eq!(ports, expected, "{mapping:?}");
            let distinct: BTreeSet<u16> = expected.into_iter().collect();
            assert_eq!(state.mappings(), distinct.len(), "{mapping:?}");
        }
    }

    #[test]
    fn filtering_behaviour_decides_who_gets_in() {
        let public = "198.51.100.3:5000";
        // The host sent to 52.112.1.10:3478 only.
        let senders = ["52.112.1.10:3478", "52.112.1.10:9999", "52.112.9.9:3478"];
        for (filtering, expected) in [
            (Filtering::EndpointIndependent, [true, true, true]),
            (Filtering::AddressDependent, [true, true, false]),
            (Filtering::AddressAndPortDependent, [true, false, false]),
        ] {
            let nat = nat("198.51.100.3/32", Mapping::EndpointIndependent, filtering);
            let mut state = NatState::default();
            out(&mut state, &nat, udp("10.0.0.1:5000", senders[0]), at(0));
            let admitted: Vec<bool> = senders
                .iter()
                .map(|s| {
                    let v = state.pre_routing(&nat, &udp(s, public), Some(wan()), at(1));
                    if let NatVerdict::Translate { tuple, .. } = v {
                        assert_eq!(tuple, udp(s, "10.0.0.1:5000"));
                    }
                    v.tuple_after(&udp(s, public)).is_some()
                })
                .collect();
            assert_eq!(admitted, expected, "{filtering:?}");
        }
    }

    #[test]
    fn source_ports_are_preserved_unless_taken() {
        let nat = preset("198.51.100.3/32", "port-restricted-cone");
        let mut state = NatState::default();
        let mut public = |host: &str, protocol: Protocol| {
            let tuple = FiveTuple::new(protocol, sa(host), sa(STUN));
            after(&out(&mut state, &nat, tuple, at(0))).src
        };
        assert_eq!(
            public("10.0.0.1:50000", Protocol::Udp),
            sa("198.51.100.3:50000")
        );
        // Collision: the next free port up.
        assert_eq!(
            public("10.0.0.2:50000", Protocol::Udp),
            sa("198.51.100.3:50001")
        );
        assert_eq!(
            public("10.0.0.3:50001", Protocol::Udp),
            sa("198.51.100.3:50002")
        );
        // TCP ports are a separate space.
        assert_eq!(
            public("10.0.0.2:50000", Protocol::Tcp),
            sa("198.51.100.3:50000")
        );
        // At the top of the range the search wraps to 1024.
        assert_eq!(
            public("10.0.0.4:65535", Protocol::Udp),
            sa("198.51.100.3:65535")
        );
        assert_eq!(
            public("10.0.0.5:65535", Protocol::Udp),
            sa("198.51.100.3:1024")
        );
        // A well-known source port is never preserved.
        assert_eq!(
            public("10.0.0.6:123", Protocol::Udp),
            sa("198.51.100.3:1025")
        );
    }

    #[test]
    fn ports_run_out_at_capacity() {
        let mut nat = preset("198.51.100.3/32", "port-restricted-cone");
        nat.behaviour.port_capacity = 2;
        let mut state = NatState::default();
        let a = out(&mut state, &nat, udp("10.0.0.1:50000", STUN), at(0));
        let b = out(&mut state, &nat, udp("10.0.0.2:50000", STUN), at(10));
        // 50000 is outside 1024..1026, so the range is used from its start.
        assert_eq!(after(&a).src, sa("198.51.100.3:1024"));
        assert_eq!(after(&b).src, sa("198.51.100.3:1025"));
        let c = out(&mut state, &nat, udp("10.0.0.3:50000", STUN), at(20));
        let exhausted = NatDrop::PortsExhausted {
            address: "198.51.100.3".parse().unwrap(),
            capacity: 2,
        };
        assert_eq!(reason(&c), exhausted);
        assert_eq!(c.to_string(), "no free port on 198.51.100.3 (capacity 2)");
        assert_eq!(
            state.public_mapping(&nat, sa("10.0.0.3:50000"), Protocol::Udp, sa(STUN), at(20)),
            None
        );
        // The existing hosts keep working.
        assert!(
            out(&mut state, &nat, udp("10.0.0.2:50000", STUN), at(20))
                .tuple_after(&udp("10.0.0.2:50000", STUN))
                .is_some()
        );
        // Once the first mapping has expired its port is free again.
        let c = out(&mut state, &nat, udp("10.0.0.3:50000", STUN), at(30));
        assert_eq!(after(&c).src, sa("198.51.100.3:1024"));
        assert_eq!(state.mappings(), 2, "the new mapping replaced the dead one");
    }

    #[test]
    fn udp_mappings_expire_and_only_outbound_traffic_refreshes_them() {
        let nat = preset("198.51.100.3/32", "full-cone");
        let mut state = NatState::default();
        let reply = udp(STUN, "198.51.100.3:5000");
        out(&mut state, &nat, udp("10.0.0.1:5000", STUN), at(0));
        assert!(
            inbound(&mut state, &nat, reply, at(29))
                .tuple_after(&reply)
                .is_some()
        );
        // The inbound packet at 29 s did not refresh: gone at 30 s.
        let dead = inbound(&mut state, &nat, reply, at(30));
        assert_eq!(
            reason(&dead),
            NatDrop::Expired {
                mapping: sa("198.51.100.3:5000"),
                at: at(30)
            }
        );
        assert_eq!(
            dead.to_string(),
            "mapping 198.51.100.3:5000 expired at 00:00:30.000"
        );
        // An outbound packet starts a new one; another outbound one refreshes it.
        out(&mut state, &nat, udp("10.0.0.1:5000", STUN), at(40));
        let refresh = out(&mut state, &nat, udp("10.0.0.1:5000", STUN), at(60));
        assert!(matches!(refresh.effects(), [NatEffect::Use { .. }]));
        assert!(
            inbound(&mut state, &nat, reply, at(89))
                .tuple_after(&reply)
                .is_some()
        );
        state.expire(at(89));
        assert_eq!(state.mappings(), 1);
        state.expire(at(90));
        assert_eq!(state.mappings(), 0);
        assert_eq!(
            reason(&inbound(&mut state, &nat, reply, at(90))),
            NatDrop::NoMapping {
                public: sa("198.51.100.3:5000")
            }
        );
    }

    #[test]
    fn tcp_mappings_last_two_hours_four_minutes() {
        let nat = preset("198.51.100.3/32", "full-cone");
        let mut state = NatState::default();
        let syn = FiveTuple::new(Protocol::Tcp, sa("10.0.0.1:5000"), sa("52.112.1.10:443"));
        out(&mut state, &nat, syn, at(0));
        let ack = FiveTuple::new(
            Protocol::Tcp,
            sa("52.112.1.10:443"),
            sa("198.51.100.3:5000"),
        );
        let end = SimTime::ZERO + TCP_MAPPING_TIMEOUT;
        let before_end = SimTime::from_micros(end.as_micros() - 1);
        assert!(
            state
                .pre_routing(&nat, &ack, Some(wan()), before_end)
                .tuple_after(&ack)
                .is_some()
        );
        assert!(matches!(
            reason(&state.pre_routing(&nat, &ack, Some(wan()), end)),
            NatDrop::Expired { .. }
        ));
    }

    fn with_static(mut nat: Nat) -> Nat {
        nat.static_mappings = vec![(
            "198.51.100.10".parse().unwrap(),
            "10.0.0.50".parse().unwrap(),
        )];
        nat
    }

    #[test]
    fn static_mappings_translate_both_ways_without_pool_ports() {
        let nat = with_static(preset("198.51.100.3/32", "symmetric"));
        let mut state = NatState::default();
        let from_server = out(
            &mut state,
            &nat,
            udp("10.0.0.50:5060", "52.112.1.10:5061"),
            at(0),
        );
        assert_eq!(
            after(&from_server),
            udp("198.51.100.10:5060", "52.112.1.10:5061")
        );
        assert_eq!(
            from_server.to_string(),
            "src 10.0.0.50:5060 -> 198.51.100.10:5060"
        );
        // Anyone may reach the server on any port.
        let to_server = inbound(
            &mut state,
            &nat,
            udp("203.0.113.9:40000", "198.51.100.10:443"),
            at(0),
        );
        assert_eq!(after(&to_server), udp("203.0.113.9:40000", "10.0.0.50:443"));
        assert_eq!(
            to_server.to_string(),
            "dst 198.51.100.10:443 -> 10.0.0.50:443"
        );
        assert_eq!(state.mappings(), 0);
    }

    /// A link other than the one packets from outside arrive by.
    fn other_link() -> LinkId {
        LinkId(petgraph::graph::EdgeIndex::new(1))
    }

    #[test]
    fn a_connection_let_in_untranslated_is_answered_untranslated_by_its_link() {
        let nat = preset("198.51.100.3/32", "port-restricted-cone");
        let mut state = NatState::default();
        // From outside straight to an inside private address (routes lead
        // there): nothing to translate, but the connection is tracked.
        let request = FiveTuple::new(Protocol::Tcp, sa("10.2.0.10:49152"), sa("10.1.0.10:443"));
        let v = inbound(&mut state, &nat, request, at(0));
        assert_eq!(v.tuple_after(&request), Some(request));
        assert_eq!(
            v.effects()[0].to_string(),
            "inbound connection tcp 10.2.0.10:49152 -> 10.1.0.10:443 admitted untranslated"
        );
        let reply = request.reversed();
        assert_eq!(state.reply_link(&reply, at(1)), Some(wan()));
        // The reply leaves as the remote addressed it: no pool source.
        let v = out(&mut state, &nat, reply, at(1));
        assert!(matches!(v, NatVerdict::Track { .. }), "{v}");
        assert_eq!(v.tuple_after(&reply), Some(reply));
        assert_eq!(state.mappings(), 0);
        // The same host's own connection elsewhere is translated as ever.
        let own = FiveTuple::new(Protocol::Tcp, sa("10.1.0.10:443"), sa("10.2.0.10:49153"));
        let translated = after(&out(&mut state, &nat, own, at(1)));
        assert_eq!(translated.src.ip(), sa("198.51.100.3:1").ip());
        assert_eq!(state.reply_link(&own, at(1)), None);
        // Replies refresh the connection; once idle past the TCP timer it is forgotten.
        let idle = at(1) + TCP_MAPPING_TIMEOUT;
        assert_eq!(state.reply_link(&reply, idle), None);
        state.expire(idle);
        assert!(matches!(
            out(&mut state, &nat, reply, idle),
            NatVerdict::Translate { .. }
        ));
    }

    #[test]
    fn exempt_sources_leave_untranslated_and_their_peers_reach_them_as_they_are() {
        let mut nat = preset("198.51.100.16/28", "port-restricted-cone");
        nat.exempt = vec!["198.51.100.64/27".parse().unwrap()];
        let mut state = NatState::default();
        // An exempt host's own flow: routed as it is, no mapping taken.
        let own = udp("198.51.100.74:50000", "52.112.1.10:3478");
        let v = out(&mut state, &nat, own, at(0));
        assert!(matches!(v, NatVerdict::Pass), "{v}");
        assert_eq!(state.mappings(), 0);
        // A peer (a relay) sending to the host's own address reaches it
        // untranslated, and the host's answer leaves untranslated by the
        // link the peer's packet came in on.
        let peer = udp("52.112.1.10:3478", "198.51.100.74:50000");
        let v = inbound(&mut state, &nat, peer, at(1));
        assert_eq!(v.tuple_after(&peer), Some(peer));
        let answer = peer.reversed();
        assert_eq!(state.reply_link(&answer, at(2)), Some(wan()));
        let v = out(&mut state, &nat, answer, at(2));
        assert_eq!(v.tuple_after(&answer), Some(answer));
        // Hosts outside the exemption are translated as ever.
        let private = udp("10.20.0.10:50000", "52.112.1.10:3478");
        let v = out(&mut state, &nat, private, at(3));
        assert!(nat.pool[0].contains(&after(&v).src.ip()), "{v}");
        assert_eq!(state.mappings(), 1);
    }

    #[test]
    fn a_connection_through_a_static_mapping_is_answered_by_its_link() {
        let nat = with_static(preset("198.51.100.3/32", "port-restricted-cone"));
        let mut state = NatState::default();
        let request = udp("203.0.113.9:40000", "198.51.100.10:443");
        let v = state.pre_routing(&nat, &request, Some(other_link()), at(0));
        state.apply(v.effects(), at(0));
        assert_eq!(after(&v), udp("203.0.113.9:40000", "10.0.0.50:443"));
        let reply = udp("10.0.0.50:443", "203.0.113.9:40000");
        assert_eq!(state.reply_link(&reply, at(1)), Some(other_link()));
        // Still translated to the static address on the way out.
        let v = out(&mut state, &nat, reply, at(1));
        assert_eq!(after(&v).src, sa("198.51.100.10:443"));
        assert!(
            v.effects()
                .iter()
                .all(|e| !matches!(e, NatEffect::StaticFlow { .. })),
            "a reply is not the server's own flow: {:?}",
            v.effects()
        );
        // The server's own flows are not steered, and their replies admit nothing.
        let own = udp("10.0.0.50:5000", "52.112.1.10:3478");
        out(&mut state, &nat, own, at(2));
        assert_eq!(state.reply_link(&own, at(2)), None);
        let answer = inbound(
            &mut state,
            &nat,
            udp("52.112.1.10:3478", "198.51.100.10:5000"),
            at(3),
        );
        assert!(answer.effects().is_empty(), "{:?}", answer.effects());
        assert_eq!(state.reply_link(&own, at(3)), None);
    }

    #[test]
    fn an_inbound_source_nat_reply_leaves_by_the_requests_link() {
        let mut nat = with_static(preset("198.51.100.3/32", "port-restricted-cone"));
        nat.inbound_source_nat = true;
        let mut state = NatState::default();
        let request = udp("203.0.113.9:40000", "198.51.100.10:443");
        let v = state.pre_routing(&nat, &request, Some(other_link()), at(0));
        state.apply(v.effects(), at(0));
        // Asked about the reply as it reaches the NAT, before translation.
        let reply = udp("10.0.0.50:443", &after(&v).src.to_string());
        assert_eq!(state.reply_link(&reply, at(1)), Some(other_link()));
        assert_eq!(state.reply_link(&request, at(1)), None);
    }

    #[test]
    fn inbound_source_nat_brings_the_reply_back_through_the_nat() {
        let mut nat = with_static(preset("198.51.100.3/32", "port-restricted-cone"));
        nat.inbound_source_nat = true;
        let mut state = NatState::default();
        let request = udp("203.0.113.9:40000", "198.51.100.10:443");
        let v = inbound(&mut state, &nat, request, at(0));
        assert_eq!(after(&v), udp("198.51.100.3:40000", "10.0.0.50:443"));
        assert_eq!(
            v.to_string(),
            "src 203.0.113.9:40000 -> 198.51.100.3:40000, dst 198.51.100.10:443 -> 10.0.0.50:443"
        );
        assert_eq!(
            v.effects()[0].to_string(),
            "new inbound source NAT udp 203.0.113.9:40000 -> 198.51.100.3:40000 towards 10.0.0.50:443"
        );
        // The server answers the pool address; the NAT turns it back.
        let reply = udp("10.0.0.50:443", "198.51.100.3:40000");
        let v = inside(&mut state, &nat, reply, at(1));
        let back = after(&v);
        assert_eq!(back, udp("198.51.100.10:443", "203.0.113.9:40000"));
        // Already translated: leaving on the outside link changes nothing.
        assert_eq!(
            state.post_routing(&nat, &back, false, true, at(1)),
            NatVerdict::Pass
        );
        // The client's next packet reuses the binding.
        let again = inbound(&mut state, &nat, request, at(2));
        assert_eq!(after(&again).src, sa("198.51.100.3:40000"));
        assert!(matches!(
            again.effects(),
            [NatEffect::Refresh { .. }, NatEffect::Admit { .. }]
        ));
        assert_eq!(state.mappings(), 1);
        // Nobody else can use the binding: not from outside, not from inside.
        let probe = udp("203.0.113.9:3478", "198.51.100.3:40000");
        assert!(matches!(
            reason(&state.pre_routing(&nat, &probe, Some(wan()), at(2))),
            NatDrop::NoMapping { .. }
        ));
        let other = udp("10.0.0.7:443", "198.51.100.3:40000");
        assert!(matches!(
            reason(&state.pre_routing(&nat, &other, None, at(2))),
            NatDrop::NoMapping { .. }
        ));
    }

    #[test]
    fn inbound_source_nat_leaves_replies_to_the_static_hosts_own_flows_alone() {
        let mut nat = with_static(preset("198.51.100.3/32", "port-restricted-cone"));
        nat.inbound_source_nat = true;
        let mut state = NatState::default();
        let v = out(
            &mut state,
            &nat,
            udp("10.0.0.50:5000", "52.112.1.10:3478"),
            at(0),
        );
        assert_eq!(after(&v).src, sa("198.51.100.10:5000"));
        let reply = inbound(
            &mut state,
            &nat,
            udp("52.112.1.10:3478", "198.51.100.10:5000"),
            at(1),
        );
        assert_eq!(after(&reply), udp("52.112.1.10:3478", "10.0.0.50:5000"));
        assert_eq!(state.mappings(), 0);
        // Once the flow is forgotten the same packet is a new connection.
        state.expire(at(30));
        let late = inbound(
            &mut state,
            &nat,
            udp("52.112.1.10:3478", "198.51.100.10:5000"),
            at(30),
        );
        assert_eq!(after(&late).src, sa("198.51.100.3:3478"));
    }

    #[test]
    fn hairpinning_shows_the_senders_public_address() {
        let nat = preset("198.51.100.3/32", "full-cone");
        let mut state = NatState::default();
        let b_public = after(&out(&mut state, &nat, udp("10.0.0.2:6000", STUN), at(0))).src;
        let v = inside(
            &mut state,
            &nat,
            udp("10.0.0.1:5000", &b_public.to_string()),
            at(1),
        );
        assert_eq!(after(&v), udp("198.51.100.3:5000", "10.0.0.2:6000"));
        assert_eq!(
            v.effects()[0].to_string(),
            "new mapping udp 10.0.0.1:5000 -> 198.51.100.3:5000 for any destination"
        );
        // Inside to inside: post-routing does nothing, whatever it is told.
        let hairpinned = after(&v);
        assert_eq!(
            state.post_routing(&nat, &hairpinned, false, false, at(1)),
            NatVerdict::Pass
        );
        assert_eq!(
            state.post_routing(&nat, &hairpinned, false, true, at(1)),
            NatVerdict::Pass
        );
        // B answers A's public address; A sees B's.
        let back = inside(
            &mut state,
            &nat,
            udp("10.0.0.2:6000", "198.51.100.3:5000"),
            at(2),
        );
        assert_eq!(after(&back), udp("198.51.100.3:6000", "10.0.0.1:5000"));
    }

    #[test]
    fn hairpinning_through_port_restricted_filters_needs_both_to_send() {
        let nat = preset("198.51.100.3/32", "port-restricted-cone");
        let mut state = NatState::default();
        let a_public = after(&out(&mut state, &nat, udp("10.0.0.1:5000", STUN), at(0))).src;
        let b_public = after(&out(&mut state, &nat, udp("10.0.0.2:6000", STUN), at(0))).src;
        let a_to_b = udp("10.0.0.1:5000", &b_public.to_string());
        let first = inside(&mut state, &nat, a_to_b, at(1));
        assert_eq!(
            reason(&first),
            NatDrop::Filtered {
                mapping: b_public,
                from: a_public,
                filtering: Filtering::AddressAndPortDependent
            }
        );
        assert_eq!(
            first.to_string(),
            "filtered: mapping 198.51.100.3:6000 has not sent to 198.51.100.3:5000"
        );
        // The dropped packet still opened A's mapping towards B.
        assert_eq!(first.effects().len(), 1);
        let b_to_a = inside(
            &mut state,
            &nat,
            udp("10.0.0.2:6000", &a_public.to_string()),
            at(2),
        );
        assert_eq!(after(&b_to_a), udp("198.51.100.3:6000", "10.0.0.1:5000"));
        let second = inside(&mut state, &nat, a_to_b, at(3));
        assert_eq!(after(&second), udp("198.51.100.3:5000", "10.0.0.2:6000"));
    }

    #[test]
    fn hairpinning_disabled_drops_packets_for_the_nats_own_addresses() {
        let mut nat = with_static(preset("198.51.100.3/32", "full-cone"));
        let mut state = NatState::default();
        let b_public = after(&out(&mut state, &nat, udp("10.0.0.2:6000", STUN), at(0))).src;
        let to_b = udp("10.0.0.1:5000", &b_public.to_string());
        let to_server = udp("10.0.0.1:5000", "198.51.100.10:443");
        // On: also through a static mapping, which the server sees from A's public side.
        let v = state.pre_routing(&nat, &to_server, None, at(1));
        assert_eq!(after(&v), udp("198.51.100.3:5000", "10.0.0.50:443"));
        nat.behaviour.hairpinning = false;
        for tuple in [to_b, to_server] {
            let v = state.pre_routing(&nat, &tuple, None, at(1));
            assert_eq!(reason(&v), NatDrop::HairpinDisabled { public: tuple.dst });
            assert!(v.effects().is_empty());
        }
        assert_eq!(
            state.pre_routing(&nat, &to_b, None, at(1)).to_string(),
            "hairpinning disabled: 198.51.100.3:6000 is this NAT's own public address"
        );
        // Traffic to other inside or outside addresses is not the NAT's business.
        let lan = udp("10.0.0.1:5000", "10.0.0.2:6000");
        assert_eq!(state.pre_routing(&nat, &lan, None, at(1)), NatVerdict::Pass);
        // From outside to an address that is not the NAT's: let through
        // as it is, its connection tracked.
        let transit = udp(STUN, "203.0.113.1:1");
        let v = state.pre_routing(&nat, &transit, Some(wan()), at(1));
        assert!(matches!(v, NatVerdict::Track { .. }), "{v:?}");
        assert_eq!(v.tuple_after(&transit), Some(transit));
        assert_eq!(
            state.post_routing(&nat, &udp(STUN, "10.0.0.1:5000"), true, false, at(1)),
            NatVerdict::Pass
        );
    }

    #[test]
    fn pooling_is_paired_and_skips_static_addresses() {
        // .0 to .3; .3 is a static mapping's public side.
        let mut nat = preset("198.51.100.0/30", "symmetric");
        nat.static_mappings = vec![(
            "198.51.100.3".parse().unwrap(),
            "10.0.0.200".parse().unwrap(),
        )];
        let mut state = NatState::default();
        let mut public_ip =
            |src: &str, dst: &str| after(&out(&mut state, &nat, udp(src, dst), at(0))).src.ip();
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        // 10.0.0.5 is 5 mod 4 = 1; 10.0.0.6 is 2; 10.0.0.7 is 3, static, so the next: 0.
        assert_eq!(public_ip("10.0.0.5:5000", STUN), ip("198.51.100.1"));
        assert_eq!(public_ip("10.0.0.6:5000", STUN), ip("198.51.100.2"));
        assert_eq!(public_ip("10.0.0.7:5000", STUN), ip("198.51.100.0"));
        // Other ports and destinations (new mappings here) keep the pairing.
        assert_eq!(
            public_ip("10.0.0.5:6000", "52.112.1.10:3478"),
            ip("198.51.100.1")
        );
        assert_eq!(
            public_ip("10.0.0.5:5000", "52.112.9.9:443"),
            ip("198.51.100.1")
        );
        // Only the first 65,536 pool addresses count.
        let big = preset("100.0.0.0/8", "full-cone");
        let s = NatState::default();
        let towards = sa(STUN);
        assert_eq!(
            s.public_mapping(&big, sa("10.1.0.5:5000"), Protocol::Udp, towards, at(0)),
            Some(sa("100.0.0.5:5000"))
        );
        // A pool that is all static leaves nothing for dynamic mappings.
        let mut all_static = preset("198.51.100.3/32", "full-cone");
        all_static.static_mappings = vec![(
            "198.51.100.3".parse().unwrap(),
            "10.0.0.200".parse().unwrap(),
        )];
        let v = NatState::default().post_routing(
            &all_static,
            &udp("10.0.0.1:5000", STUN),
            false,
            true,
            at(0),
        );
        assert_eq!(reason(&v), NatDrop::NoPoolAddress);
    }

    #[test]
    fn public_mapping_predicts_without_changing_state() {
        let sym = preset("198.51.100.3/32", "symmetric");
        let cone = preset("198.51.100.3/32", "port-restricted-cone");
        let host = sa("10.0.0.1:5000");
        let peer = sa("203.0.113.7:7000");
        for (nat, towards_peer) in [(&sym, 5001), (&cone, 5000)] {
            let mut state = NatState::default();
            let predicted = state.public_mapping(nat, host, Protocol::Udp, sa(STUN), at(0));
            assert_eq!(predicted, Some(sa("198.51.100.3:5000")));
            assert_eq!(state.mappings(), 0);
            let sent = after(&out(
                &mut state,
                nat,
                FiveTuple::new(Protocol::Udp, host, sa(STUN)),
                at(0),
            ));
            assert_eq!(Some(sent.src), predicted);
            assert_eq!(
                state.public_mapping(nat, host, Protocol::Udp, peer, at(1)),
                Some(SocketAddr::new(sent.src.ip(), towards_peer))
            );
        }
        let with = with_static(cone.clone());
        assert_eq!(
            NatState::default().public_mapping(
                &with,
                sa("10.0.0.50:5000"),
                Protocol::Udp,
                peer,
                at(0)
            ),
            Some(sa("198.51.100.10:5000"))
        );
    }

    #[test]
    fn address_dependent_filter_drops_read_by_address() {
        let nat = preset("198.51.100.3/32", "restricted-cone");
        let mut state = NatState::default();
        out(&mut state, &nat, udp("10.0.0.1:5000", STUN), at(0));
        let v = state.pre_routing(
            &nat,
            &udp("52.112.1.10:3478", "198.51.100.3:5000"),
            Some(wan()),
            at(1),
        );
        assert_eq!(
            v.to_string(),
            "filtered: mapping 198.51.100.3:5000 has not sent to 52.112.1.10"
        );
        let v = state.pre_routing(
            &nat,
            &udp("52.112.1.10:3478", "198.51.100.3:5001"),
            Some(wan()),
            at(1),
        );
        assert_eq!(v.to_string(), "no mapping for 198.51.100.3:5001");
    }

    /// One side of a peer-to-peer attempt: a host behind its own NAT.
    struct Peer {
        nat: Nat,
        state: NatState,
        host: SocketAddr,
        srflx: SocketAddr,
        /// Where the other side's packets were last seen coming from (ICE's
        /// peer-reflexive address; triggered checks answer there).
        learned: Option<SocketAddr>,
    }

    impl Peer {
        fn new(preset_name: &str, pool: &str, host: &str) -> Peer {
            let nat = preset(pool, preset_name);
            let mut state = NatState::default();
            let host = sa(host);
            let request = FiveTuple::new(Protocol::Udp, host, sa(STUN));
            let srflx = after(&out(&mut state, &nat, request, at(0))).src;
            // The STUN response comes back through the mapping.
            let response = FiveTuple::new(Protocol::Udp, sa(STUN), srflx);
            let response = inbound(&mut state, &nat, response, at(0));
            assert_eq!(after(&response).dst, host);
            Peer {
                nat,
                state,
                host,
                srflx,
                learned: None,
            }
        }
    }

    /// `from` sends one packet to `to` (to where it last heard from, else to
    /// the server-reflexive address); whether it arrived.
    fn send(from: &mut Peer, to: &mut Peer, now: SimTime) -> bool {
        let target = from.learned.unwrap_or(to.srflx);
        let sent = out(
            &mut from.state,
            &from.nat,
            FiveTuple::new(Protocol::Udp, from.host, target),
            now,
        );
        let wire = after(&sent);
        match inbound(&mut to.state, &to.nat, wire, now) {
            NatVerdict::Translate { tuple, .. } => {
                assert_eq!(tuple.dst, to.host);
                to.learned = Some(wire.src);
                true
            }
            NatVerdict::Drop { .. } => false,
            NatVerdict::Pass | NatVerdict::Track { .. } => {
                panic!("a packet for a pool address passed untranslated")
            }
        }
    }

    #[test]
    fn rfc3489_pairs_connect_directly_as_the_ice_table_says() {
        let names = [
            "full-cone",
            "restricted-cone",
            "port-restricted-cone",
            "symmetric",
        ];
        let relay = |a: &str, b: &str| {
            matches!(
                (a, b),
                ("port-restricted-cone", "symmetric")
                    | ("symmetric", "port-restricted-cone")
                    | ("symmetric", "symmetric")
            )
        };
        for a_name in names {
            for b_name in names {
                // Whoever sends first, the outcome is the same.
                for a_first in [true, false] {
                    let mut a = Peer::new(a_name, "198.51.100.1/32", "10.0.0.10:5000");
                    let mut b = Peer::new(b_name, "203.0.113.1/32", "10.1.0.20:6000");
                    let round = |a: &mut Peer, b: &mut Peer, now| {
                        if a_first {
                            let ab = send(a, b, now);
                            (ab, send(b, a, now))
                        } else {
                            let ba = send(b, a, now);
                            (send(a, b, now), ba)
                        }
                    };
                    round(&mut a, &mut b, at(1));
                    let (ab, ba) = round(&mut a, &mut b, at(2));
                    assert_eq!(
                        ab && ba,
                        !relay(a_name, b_name),
                        "{a_name} x {b_name} (a first: {a_first}): a->b {ab}, b->a {ba}"
                    );
                }
            }
        }
    }
}
