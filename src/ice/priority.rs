//! Candidate priorities, pair priorities and which candidates may be paired.
//!
//! Owns the arithmetic of RFC 8445 §5.1.2 (candidate priority) and §6.1.2.3
//! (pair priority), the preference tables that feed it ([`PreferenceProfile`]:
//! the RFC's recommended values, with RFC 6544 for TCP, and Microsoft's
//! MS-ICE2 layout), and the pairing rules of RFC 8445 §6.1.2.2 and RFC 6544
//! (same component, same address family, compatible transport and TCP role).
//!
//! Leaves out addresses, bases, foundations and check state: a candidate is
//! described here only by what its priority and pairing depend on
//! ([`CandidateInfo`]), so the gatherer can build one from whatever topology
//! it walked. Everything is exact integer arithmetic; nothing here fails
//! once its inputs have been validated by their constructors.
//!
//! # Why relays lose
//!
//! A pair's priority is dominated by its weaker candidate (the `2^32·min`
//! term). In both profiles every relayed candidate has a lower type
//! preference than every other kind, so every pair containing a relay ranks
//! below every pair without one. Between relayed pairs the rule is narrower:
//! pairing a given relay with a non-relay outranks pairing *the same relay*
//! with any relay, but a relay↔relay pair through two highly preferred TURN
//! servers can outrank a less preferred relay paired with a host (see the
//! test `relay_pair_can_outrank_weaker_relay_with_host`), and a UDP
//! relay↔relay pair outranks a TCP relay paired with a TCP host, because a
//! TCP candidate's local preference is lower
//! (`udp_relay_pair_outranks_tcp_relay_with_tcp_host`).

use std::fmt;

/// A priority value that failed validation.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PriorityError {
    /// RFC 8445 §5.1.2.1 limits type preferences to 0..=126.
    #[error("type preference {0} is above 126")]
    TypePreferenceOutOfRange(u8),
    /// Components count from 1 (RTP, RFC 8445 §5.1.1.1); there is no component 0.
    #[error("component id 0 is not allowed: components count from 1")]
    ComponentZero,
    /// The MS-ICE2 layout keeps 6 bits for the local address (libnice's
    /// `NICE_CANDIDATE_MAX_LOCAL_ADDRESSES` = 64).
    #[error("address index {0} is above 63")]
    AddressIndexOutOfRange(u8),
    /// The MS-ICE2 layout keeps 3 bits for the TURN server (libnice's
    /// `NICE_CANDIDATE_MAX_TURN_SERVERS` = 8).
    #[error("relay server index {0} is above 7")]
    RelayServerIndexOutOfRange(u8),
    /// RFC 8445 §5.1.2.1: a candidate priority lies in 1..=2^31−1.
    #[error("candidate priority {0} is outside 1..=2147483647")]
    PriorityOutOfRange(u32),
}

/// The four candidate types of RFC 8445 §5.1.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CandidateKind {
    /// An address bound on a local interface (VPN interfaces included).
    Host,
    /// Learned during checks from a mapped address nobody had signalled.
    PeerReflexive,
    /// A NAT's public mapping, learned from a STUN Binding or TURN Allocate.
    ServerReflexive,
    /// An address allocated on a TURN server (an Edge).
    Relayed,
}

impl fmt::Display for CandidateKind {
    /// The SDP `typ` token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CandidateKind::Host => "host",
            CandidateKind::PeerReflexive => "prflx",
            CandidateKind::ServerReflexive => "srflx",
            CandidateKind::Relayed => "relay",
        })
    }
}

/// The transport protocol a candidate carries media over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP (RFC 6544 ICE-TCP, or MS-TURN's TCP relays).
    Tcp,
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
        })
    }
}

/// The connection role of a TCP candidate (RFC 6544 §4.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TcpType {
    /// Opens connections, never accepts them (MS SDP: `TCP-ACT`).
    Active,
    /// Accepts connections, never opens them (MS SDP: `TCP-PASS`).
    Passive,
    /// Both ends open at once (TCP simultaneous open).
    SimultaneousOpen,
}

impl fmt::Display for TcpType {
    /// The RFC 6544 `tcptype` token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TcpType::Active => "active",
            TcpType::Passive => "passive",
            TcpType::SimultaneousOpen => "so",
        })
    }
}

/// A candidate's transport together with its TCP role, so a UDP candidate
/// cannot carry a `tcptype` and a TCP candidate cannot lack one.
///
/// For a relayed candidate this is the transport of the relay↔peer leg:
/// MS-TURN allocates a relayed address of the same transport as the Allocate
/// request, so an allocation over TCP 443 gives `Tcp` relays, while a
/// standard TURN allocation over TCP still gives a `Udp` relay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CandidateTransport {
    /// A UDP candidate.
    Udp,
    /// A TCP candidate with its connection role.
    Tcp(TcpType),
}

impl CandidateTransport {
    /// The protocol alone.
    pub const fn transport(self) -> Transport {
        match self {
            CandidateTransport::Udp => Transport::Udp,
            CandidateTransport::Tcp(_) => Transport::Tcp,
        }
    }

    /// The TCP role, `None` for UDP.
    pub const fn tcptype(self) -> Option<TcpType> {
        match self {
            CandidateTransport::Udp => None,
            CandidateTransport::Tcp(t) => Some(t),
        }
    }
}

/// The IP family of a candidate's address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AddressFamily {
    /// IPv4.
    V4,
    /// IPv6.
    V6,
}

/// A type preference (RFC 8445 §5.1.2.1), 0..=126; higher is preferred.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TypePreference(u8);

impl TypePreference {
    /// The largest value RFC 8445 allows.
    pub const MAX: TypePreference = TypePreference(126);

    /// A type preference, rejecting values above 126.
    pub const fn new(value: u8) -> Result<Self, PriorityError> {
        if value > Self::MAX.0 {
            Err(PriorityError::TypePreferenceOutOfRange(value))
        } else {
            Ok(TypePreference(value))
        }
    }

    /// The value.
    pub const fn get(self) -> u8 {
        self.0
    }
}

/// A local preference (RFC 8445 §5.1.2.1), 0..=65535; higher is preferred.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalPreference(u16);

impl LocalPreference {
    /// The value RFC 8445 recommends for a host with a single address.
    pub const MAX: LocalPreference = LocalPreference(u16::MAX);

    /// A local preference; every 16-bit value is valid.
    pub const fn new(value: u16) -> Self {
        LocalPreference(value)
    }

    /// The value.
    pub const fn get(self) -> u16 {
        self.0
    }
}

/// A component id (RFC 8445 §5.1.1.1): 1 = RTP, 2 = RTCP; with RTP/RTCP
/// multiplexing everything is component 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ComponentId(u8);

impl ComponentId {
    /// RTP, or everything when RTP and RTCP are multiplexed.
    pub const RTP: ComponentId = ComponentId(1);
    /// RTCP on its own port.
    pub const RTCP: ComponentId = ComponentId(2);

    /// A component id, rejecting 0. RFC 8445 allows up to 256; one byte
    /// (up to 255) covers every media stream a call carries.
    pub const fn new(id: u8) -> Result<Self, PriorityError> {
        if id == 0 {
            Err(PriorityError::ComponentZero)
        } else {
            Ok(ComponentId(id))
        }
    }

    /// The id.
    pub const fn get(self) -> u8 {
        self.0
    }
}

/// Where a candidate stands among its agent's own addresses and TURN
/// servers; index 0 is the most preferred. This is what keeps the priorities
/// of same-type candidates unique on a multihomed host or with several
/// Edges (RFC 8445 §5.1.2.1–2; RFC 8421 says how to order the addresses,
/// for instance IPv6 first).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct LocalRank {
    address: u8,
    relay_server: u8,
}

impl LocalRank {
    /// The only address, the only TURN server.
    pub const FIRST: LocalRank = LocalRank {
        address: 0,
        relay_server: 0,
    };

    /// A rank: `address` is the position of the candidate's base address
    /// (0..=63), `relay_server` the position of the TURN server a relayed
    /// candidate was allocated on (0..=7; ignored for other kinds). The
    /// limits are the field widths of the MS-ICE2 layout.
    pub const fn new(address: u8, relay_server: u8) -> Result<Self, PriorityError> {
        if address > 63 {
            Err(PriorityError::AddressIndexOutOfRange(address))
        } else if relay_server > 7 {
            Err(PriorityError::RelayServerIndexOutOfRange(relay_server))
        } else {
            Ok(LocalRank {
                address,
                relay_server,
            })
        }
    }

    /// Position of the base address, 0 = most preferred.
    pub const fn address(self) -> u8 {
        self.address
    }

    /// Position of the TURN server, 0 = most preferred.
    pub const fn relay_server(self) -> u8 {
        self.relay_server
    }

    /// One index, unique per (address, relay server) for relays and per
    /// address otherwise: `relay_server·64 + address`.
    const fn combined(self, kind: CandidateKind) -> u16 {
        match kind {
            CandidateKind::Relayed => self.relay_server as u16 * 64 + self.address as u16,
            _ => self.address as u16,
        }
    }
}

/// Candidate priority, RFC 8445 §5.1.2.1:
/// `2^24·type_pref + 2^8·local_pref + (256 − component)`.
///
/// The result is at most 2^31 − 1 for every valid input, so it never
/// overflows; it is 0 only for type 0, local 0 and component 256, which
/// [`ComponentId`] cannot express.
pub const fn candidate_priority(
    type_pref: TypePreference,
    local_pref: LocalPreference,
    component: ComponentId,
) -> u32 {
    ((type_pref.0 as u32) << 24) + ((local_pref.0 as u32) << 8) + (256 - component.0 as u32)
}

/// Pair priority, RFC 8445 §6.1.2.3:
/// `2^32·min(G, D) + 2·max(G, D) + (G > D ? 1 : 0)`, where `G` is the
/// priority of the controlling agent's candidate and `D` the controlled
/// agent's. Both agents compute the same value for the same pair.
///
/// Cannot overflow: with both inputs at most 2^32 − 1 the result is below
/// 2^64. (Valid priorities are below 2^31, so the result is below 2^63.)
pub const fn pair_priority(controlling: u32, controlled: u32) -> u64 {
    let (min, max) = if controlling < controlled {
        (controlling, controlled)
    } else {
        (controlled, controlling)
    };
    ((min as u64) << 32) + 2 * max as u64 + (controlling > controlled) as u64
}

/// Which preference table an agent uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PreferenceProfile {
    /// RFC 8445 §5.1.2.2 recommended type preferences (host 126, prflx 110,
    /// srflx 100, relay 0) for both transports, as RFC 6544 §4.2 asks.
    ///
    /// Local preference, UDP: `65535 − index` (65535 for a single address,
    /// as RFC 8445 recommends). TCP (RFC 6544 §4.2):
    /// `2^13·direction + (8191 − index)`, with direction 6 active, 4
    /// passive, 2 S-O for host and relayed candidates and 6 S-O, 4 active,
    /// 2 passive for server-reflexive ones. `index` is
    /// `relay_server·64 + address` for relays and `address` otherwise
    /// (our choice: RFC 8445 only requires uniqueness).
    ///
    /// Choice: RFC 6544 names host and relayed, and NAT-assisted and server
    /// reflexive candidates, but not peer-reflexive ones; peer-reflexive TCP
    /// candidates take the server-reflexive directions, as pion/ice does
    /// (`candidate_base.go`, `LocalPreference`), because both come from a NAT
    /// mapping.
    Rfc8445,
    /// Microsoft's MS-ICE2 dialect (Lync, Skype for Business).
    ///
    /// Local preference layout from libnice's OC2007R2 mode
    /// (`nice_candidate_ms_ice_local_preference`):
    /// `transport<<12 | direction<<9 | turn<<6 | ip`, with transport UDP 15,
    /// TCP 6 and direction TCP-active 5, TCP-passive 2
    /// (`NICE_CANDIDATE_TRANSPORT_MS_PREF_*`, `NICE_CANDIDATE_DIRECTION_MS_PREF_*`
    /// in libnice `agent/candidate-priv.h`); S-O is treated as active, as
    /// libnice does. The 3-bit TURN and 6-bit IP fields are libnice's split
    /// (`NICE_CANDIDATE_MAX_TURN_SERVERS` 8, `NICE_CANDIDATE_MAX_LOCAL_ADDRESSES`
    /// 64, "6 bits for the number of local addresses, and 3 bits for the
    /// number of turn servers").
    ///
    /// Values taken from a Skype for Business 2016 client's INVITE SDP
    /// (`UCCAPI/16.0.4600.1000`, candidates such as `UDP 2130706431 typ host`,
    /// `TCP-ACT 1684797439 typ srflx`, `UDP 184548351 typ relay`,
    /// `TCP-PASS 174456319 typ relay`): type preferences host 126, srflx 100,
    /// relay 10 for both UDP and TCP relays; direction field 7 on UDP
    /// candidates (libnice leaves it 0); the first host candidate has local
    /// preference 0xFFFF, i.e. every field at its maximum.
    ///
    /// Choices: prflx 110 (never signalled, so not observed; RFC 8445 and
    /// ICE draft 19, which MS-ICE2 follows, recommend it); the TURN field is
    /// `7 − relay_server` for relays and 7 for other kinds, the IP field
    /// `63 − address`, so index 0 gives the client's observed 0xFFFF. The
    /// client fills the low 9 bits from a per-candidate counter (511, then
    /// down by 2 per candidate line), which we do not reproduce: its exact
    /// numbers below the first candidate differ from ours, its order does not.
    MicrosoftIce2,
}

impl PreferenceProfile {
    /// The type preference of a candidate kind. Both profiles use the same
    /// value for UDP and TCP candidates of one kind.
    pub const fn type_preference(self, kind: CandidateKind) -> TypePreference {
        let value = match (self, kind) {
            (_, CandidateKind::Host) => 126,
            (_, CandidateKind::PeerReflexive) => 110,
            (_, CandidateKind::ServerReflexive) => 100,
            (PreferenceProfile::Rfc8445, CandidateKind::Relayed) => 0,
            (PreferenceProfile::MicrosoftIce2, CandidateKind::Relayed) => 10,
        };
        TypePreference(value)
    }

    /// The local preference of a candidate (see each profile for the rule).
    pub const fn local_preference(
        self,
        kind: CandidateKind,
        transport: CandidateTransport,
        rank: LocalRank,
    ) -> LocalPreference {
        match self {
            PreferenceProfile::Rfc8445 => rfc_local_preference(kind, transport, rank),
            PreferenceProfile::MicrosoftIce2 => ms_local_preference(kind, transport, rank),
        }
    }

    /// The priority of a candidate gathered (or learned) by an agent using
    /// this profile.
    pub const fn priority(
        self,
        kind: CandidateKind,
        transport: CandidateTransport,
        rank: LocalRank,
        component: ComponentId,
    ) -> u32 {
        candidate_priority(
            self.type_preference(kind),
            self.local_preference(kind, transport, rank),
            component,
        )
    }
}

const fn rfc_local_preference(
    kind: CandidateKind,
    transport: CandidateTransport,
    rank: LocalRank,
) -> LocalPreference {
    // combined() is at most 7·64 + 63 = 511, so neither subtraction underflows.
    let index = rank.combined(kind);
    match transport {
        CandidateTransport::Udp => LocalPreference(u16::MAX - index),
        CandidateTransport::Tcp(tcptype) => {
            let reflexive = matches!(
                kind,
                CandidateKind::ServerReflexive | CandidateKind::PeerReflexive
            );
            let direction: u16 = match (reflexive, tcptype) {
                (false, TcpType::Active) => 6,
                (false, TcpType::Passive) => 4,
                (false, TcpType::SimultaneousOpen) => 2,
                (true, TcpType::SimultaneousOpen) => 6,
                (true, TcpType::Active) => 4,
                (true, TcpType::Passive) => 2,
            };
            LocalPreference((direction << 13) + (8191 - index))
        }
    }
}

const fn ms_local_preference(
    kind: CandidateKind,
    transport: CandidateTransport,
    rank: LocalRank,
) -> LocalPreference {
    let (transport_pref, direction_pref): (u16, u16) = match transport {
        CandidateTransport::Udp => (15, 7),
        CandidateTransport::Tcp(TcpType::Active | TcpType::SimultaneousOpen) => (6, 5),
        CandidateTransport::Tcp(TcpType::Passive) => (6, 2),
    };
    let turn_pref: u16 = match kind {
        CandidateKind::Relayed => 7 - rank.relay_server as u16,
        _ => 7,
    };
    let ip_pref = 63 - rank.address as u16;
    LocalPreference(transport_pref << 12 | direction_pref << 9 | turn_pref << 6 | ip_pref)
}

/// Which side of the negotiation an agent is on (RFC 8445 §6.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// Nominates the pair to use; its candidate priority is `G`.
    Controlling,
    /// Follows the controlling agent's nomination; its priority is `D`.
    Controlled,
}

/// What a candidate's priority and pairing depend on, without its address.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CandidateInfo {
    kind: CandidateKind,
    transport: CandidateTransport,
    family: AddressFamily,
    component: ComponentId,
    priority: u32,
}

impl CandidateInfo {
    /// A candidate of this agent, its priority computed with `profile`.
    pub const fn gathered(
        profile: PreferenceProfile,
        kind: CandidateKind,
        transport: CandidateTransport,
        family: AddressFamily,
        component: ComponentId,
        rank: LocalRank,
    ) -> Self {
        CandidateInfo {
            kind,
            transport,
            family,
            component,
            priority: profile.priority(kind, transport, rank, component),
        }
    }

    /// A candidate with the priority its owner signalled (a remote
    /// candidate from SDP), or a peer-reflexive one with the PRIORITY
    /// attribute of the check that revealed it. Rejects priorities outside
    /// 1..=2^31−1.
    pub const fn signalled(
        kind: CandidateKind,
        transport: CandidateTransport,
        family: AddressFamily,
        component: ComponentId,
        priority: u32,
    ) -> Result<Self, PriorityError> {
        if priority == 0 || priority > i32::MAX as u32 {
            return Err(PriorityError::PriorityOutOfRange(priority));
        }
        Ok(CandidateInfo {
            kind,
            transport,
            family,
            component,
            priority,
        })
    }

    /// The candidate type.
    pub const fn kind(&self) -> CandidateKind {
        self.kind
    }

    /// The transport and TCP role.
    pub const fn transport(&self) -> CandidateTransport {
        self.transport
    }

    /// The address family.
    pub const fn family(&self) -> AddressFamily {
        self.family
    }

    /// The component.
    pub const fn component(&self) -> ComponentId {
        self.component
    }

    /// The candidate priority.
    pub const fn priority(&self) -> u32 {
        self.priority
    }
}

/// Whether `local` may be paired with `remote` (RFC 8445 §6.1.2.2, RFC 6544
/// §6.2): same component, same address family, and compatible transports:
/// UDP with UDP; TCP active with passive, passive with active,
/// simultaneous-open with simultaneous-open.
///
/// The MS rule that a TCP relay pairs only with TCP candidates follows from
/// the transport rule, because a relay's [`CandidateTransport`] is its
/// relay↔peer transport.
///
/// A pair whose local candidate is passive is formed but the local agent
/// never sends its check: the remote active side connects (RFC 6544 §6.2).
pub const fn can_pair(local: &CandidateInfo, remote: &CandidateInfo) -> bool {
    if local.component.0 != remote.component.0 || !same_family(local.family, remote.family) {
        return false;
    }
    matches!(
        (local.transport, remote.transport),
        (CandidateTransport::Udp, CandidateTransport::Udp)
            | (
                CandidateTransport::Tcp(TcpType::Active),
                CandidateTransport::Tcp(TcpType::Passive)
            )
            | (
                CandidateTransport::Tcp(TcpType::Passive),
                CandidateTransport::Tcp(TcpType::Active)
            )
            | (
                CandidateTransport::Tcp(TcpType::SimultaneousOpen),
                CandidateTransport::Tcp(TcpType::SimultaneousOpen)
            )
    )
}

const fn same_family(a: AddressFamily, b: AddressFamily) -> bool {
    matches!(
        (a, b),
        (AddressFamily::V4, AddressFamily::V4) | (AddressFamily::V6, AddressFamily::V6)
    )
}

/// The priority of the pair (`local`, `remote`) as computed by an agent in
/// `local_role`: its own candidate is `G` when controlling, `D` otherwise.
pub const fn pair_priority_for(
    local_role: Role,
    local: &CandidateInfo,
    remote: &CandidateInfo,
) -> u64 {
    match local_role {
        Role::Controlling => pair_priority(local.priority, remote.priority),
        Role::Controlled => pair_priority(remote.priority, local.priority),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use CandidateKind::{Host, PeerReflexive, Relayed, ServerReflexive};
    use PreferenceProfile::{MicrosoftIce2, Rfc8445};

    const UDP: CandidateTransport = CandidateTransport::Udp;
    const ACTIVE: CandidateTransport = CandidateTransport::Tcp(TcpType::Active);
    const PASSIVE: CandidateTransport = CandidateTransport::Tcp(TcpType::Passive);
    const SO: CandidateTransport = CandidateTransport::Tcp(TcpType::SimultaneousOpen);

    fn rfc(kind: CandidateKind) -> u32 {
        Rfc8445.priority(kind, UDP, LocalRank::FIRST, ComponentId::RTP)
    }

    fn info(kind: CandidateKind, transport: CandidateTransport) -> CandidateInfo {
        CandidateInfo::gathered(
            Rfc8445,
            kind,
            transport,
            AddressFamily::V4,
            ComponentId::RTP,
            LocalRank::FIRST,
        )
    }

    #[test]
    fn rfc_worked_values() {
        assert_eq!(rfc(Host), 2_130_706_431);
        assert_eq!(rfc(PeerReflexive), 1_862_270_975);
        assert_eq!(rfc(ServerReflexive), 1_694_498_815);
        assert_eq!(rfc(Relayed), 16_777_215);
    }

    #[test]
    fn formula_terms() {
        let t = TypePreference::new(126).unwrap();
        assert_eq!(
            candidate_priority(t, LocalPreference::MAX, ComponentId::RTP),
            2_130_706_431
        );
        // RTCP loses exactly one to RTP.
        assert_eq!(
            candidate_priority(t, LocalPreference::MAX, ComponentId::RTCP),
            2_130_706_430
        );
        let zero = TypePreference::new(0).unwrap();
        assert_eq!(
            candidate_priority(
                zero,
                LocalPreference::new(0),
                ComponentId::new(255).unwrap()
            ),
            1
        );
    }

    #[test]
    fn rfc_udp_local_preference_counts_down_per_address_and_relay_server() {
        let second_address = LocalRank::new(1, 0).unwrap();
        assert_eq!(
            Rfc8445.local_preference(Host, UDP, second_address),
            LocalPreference::new(65_534)
        );
        // The relay-server index only matters for relays.
        let second_server = LocalRank::new(0, 1).unwrap();
        assert_eq!(
            Rfc8445.local_preference(Host, UDP, second_server),
            LocalPreference::MAX
        );
        assert_eq!(
            Rfc8445.local_preference(Relayed, UDP, second_server),
            LocalPreference::new(65_535 - 64)
        );
    }

    #[test]
    fn rfc_tcp_local_preference_follows_rfc6544() {
        let first = LocalRank::FIRST;
        let lp = |kind, transport| Rfc8445.local_preference(kind, transport, first).get();
        assert_eq!(lp(Host, ACTIVE), 6 * 8192 + 8191);
        assert_eq!(lp(Host, PASSIVE), 4 * 8192 + 8191);
        assert_eq!(lp(Host, SO), 2 * 8192 + 8191);
        assert_eq!(lp(Relayed, ACTIVE), 6 * 8192 + 8191);
        assert_eq!(lp(ServerReflexive, SO), 6 * 8192 + 8191);
        assert_eq!(lp(ServerReflexive, ACTIVE), 4 * 8192 + 8191);
        assert_eq!(lp(ServerReflexive, PASSIVE), 2 * 8192 + 8191);
        assert_eq!(lp(PeerReflexive, PASSIVE), 2 * 8192 + 8191);
        assert_eq!(
            Rfc8445.priority(Host, ACTIVE, first, ComponentId::RTP),
            2_128_609_279
        );
        assert_eq!(
            Rfc8445
                .local_preference(Host, ACTIVE, LocalRank::new(3, 0).unwrap())
                .get(),
            6 * 8192 + 8188
        );
    }

    /// Priorities a Skype for Business 2016 client put in its SDP, with the
    /// fields our MS profile must reproduce: type preference and the top 7
    /// bits of the local preference (transport and direction).
    #[test]
    fn ms_profile_matches_skype_for_business_sdp() {
        let observed = [
            (Host, UDP, 2_130_706_431u32),
            (ServerReflexive, ACTIVE, 1_684_797_439),
            (Relayed, UDP, 184_548_351),
            (Relayed, ACTIVE, 174_848_511),
            (Relayed, PASSIVE, 174_456_319),
        ];
        for (kind, transport, sdp) in observed {
            let ours = MicrosoftIce2.priority(kind, transport, LocalRank::FIRST, ComponentId::RTP);
            assert_eq!(ours >> 24, sdp >> 24, "{kind} {transport:?} type");
            assert_eq!(
                ours >> 17,
                sdp >> 17,
                "{kind} {transport:?} transport+direction"
            );
            assert_eq!(ours & 0xff, sdp & 0xff, "{kind} {transport:?} component");
        }
        // The first host candidate matches exactly.
        assert_eq!(
            MicrosoftIce2.priority(Host, UDP, LocalRank::FIRST, ComponentId::RTP),
            2_130_706_431
        );
    }

    #[test]
    fn ms_local_preference_layout() {
        let rank = LocalRank::new(2, 3).unwrap();
        let lp = |kind, transport| MicrosoftIce2.local_preference(kind, transport, rank).get();
        assert_eq!(lp(Host, UDP), 15 << 12 | 7 << 9 | 7 << 6 | 61);
        assert_eq!(lp(Relayed, UDP), 15 << 12 | 7 << 9 | 4 << 6 | 61);
        assert_eq!(lp(Relayed, PASSIVE), 6 << 12 | 2 << 9 | 4 << 6 | 61);
        assert_eq!(lp(ServerReflexive, ACTIVE), 6 << 12 | 5 << 9 | 7 << 6 | 61);
        assert_eq!(lp(Host, SO), lp(Host, ACTIVE));
        let last = LocalRank::new(63, 7).unwrap();
        assert_eq!(
            MicrosoftIce2.local_preference(Relayed, PASSIVE, last).get(),
            6 << 12 | 2 << 9
        );
    }

    #[test]
    fn ms_prefers_udp_then_active_within_a_type() {
        for kind in [Host, PeerReflexive, ServerReflexive, Relayed] {
            let p = |t| MicrosoftIce2.priority(kind, t, LocalRank::FIRST, ComponentId::RTP);
            assert!(p(UDP) > p(ACTIVE), "{kind}");
            assert!(p(ACTIVE) > p(PASSIVE), "{kind}");
        }
    }

    #[test]
    fn validation_rejects_out_of_range_inputs() {
        assert_eq!(
            TypePreference::new(127),
            Err(PriorityError::TypePreferenceOutOfRange(127))
        );
        assert_eq!(TypePreference::new(126), Ok(TypePreference::MAX));
        assert_eq!(ComponentId::new(0), Err(PriorityError::ComponentZero));
        assert_eq!(
            LocalRank::new(64, 0),
            Err(PriorityError::AddressIndexOutOfRange(64))
        );
        assert_eq!(
            LocalRank::new(0, 8),
            Err(PriorityError::RelayServerIndexOutOfRange(8))
        );
        for bad in [0, 1 << 31, u32::MAX] {
            assert_eq!(
                CandidateInfo::signalled(Host, UDP, AddressFamily::V4, ComponentId::RTP, bad),
                Err(PriorityError::PriorityOutOfRange(bad))
            );
        }
        let ok = CandidateInfo::signalled(
            Relayed,
            PASSIVE,
            AddressFamily::V6,
            ComponentId::RTCP,
            (1 << 31) - 1,
        )
        .unwrap();
        assert_eq!(ok.priority(), 2_147_483_647);
        assert_eq!(ok.kind(), Relayed);
        assert_eq!(ok.transport().transport(), Transport::Tcp);
        assert_eq!(ok.transport().tcptype(), Some(TcpType::Passive));
        assert_eq!(ok.family(), AddressFamily::V6);
        assert_eq!(ok.component(), ComponentId::RTCP);
    }

    #[test]
    fn display_uses_sdp_tokens() {
        let kinds: Vec<String> = [Host, PeerReflexive, ServerReflexive, Relayed]
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(kinds, ["host", "prflx", "srflx", "relay"]);
        assert_eq!(TcpType::SimultaneousOpen.to_string(), "so");
        assert_eq!(Transport::Tcp.to_string(), "tcp");
        assert_eq!(CandidateTransport::Udp.tcptype(), None);
    }

    #[test]
    fn pair_priority_examples() {
        let (host, srflx) = (2_130_706_431u32, 1_694_498_815u32);
        // Controlling host, controlled srflx: G > D sets the tie bit.
        assert_eq!(pair_priority(host, srflx), 7_277_816_997_797_167_103);
        assert_eq!(pair_priority(srflx, host), 7_277_816_997_797_167_102);
        assert_eq!(pair_priority(host, host), 9_151_314_442_783_293_438);
        assert_eq!(pair_priority(16_777_215, host), 72_057_594_004_373_502);
        let max = (1u32 << 31) - 1;
        assert_eq!(pair_priority(max, max), (1u64 << 63) - 2);
        assert_eq!(pair_priority(u32::MAX, u32::MAX - 1), u64::MAX);
    }

    #[test]
    fn both_roles_compute_the_same_pair_priority() {
        let a = info(Host, UDP);
        let b = info(ServerReflexive, UDP);
        // a is controlling: a's view and b's view agree.
        assert_eq!(
            pair_priority_for(Role::Controlling, &a, &b),
            pair_priority_for(Role::Controlled, &b, &a)
        );
        assert_eq!(
            pair_priority_for(Role::Controlling, &a, &b),
            pair_priority(a.priority(), b.priority())
        );
        assert_eq!(
            pair_priority_for(Role::Controlling, &a, &b)
                - pair_priority_for(Role::Controlled, &a, &b),
            1
        );
    }

    #[test]
    fn rfc_pair_order_by_kind() {
        let p = |a, b| pair_priority(rfc(a), rfc(b));
        let order = [
            p(Host, Host),
            p(Host, PeerReflexive),
            p(PeerReflexive, PeerReflexive),
            p(Host, ServerReflexive),
            p(ServerReflexive, ServerReflexive),
            p(Host, Relayed),
            p(ServerReflexive, Relayed),
            p(Relayed, Relayed),
        ];
        assert!(order.windows(2).all(|w| w[0] > w[1]), "{order:?}");
    }

    #[test]
    fn pairing_rules() {
        let udp = info(Host, UDP);
        let tcp_act = info(Host, ACTIVE);
        let tcp_pass = info(Host, PASSIVE);
        let tcp_so = info(ServerReflexive, SO);
        let tcp_relay_pass = info(Relayed, PASSIVE);
        let udp_relay = info(Relayed, UDP);

        assert!(can_pair(&udp, &udp));
        assert!(can_pair(&udp, &udp_relay));
        assert!(!can_pair(&udp, &tcp_act));
        assert!(!can_pair(&tcp_act, &udp));
        assert!(can_pair(&tcp_act, &tcp_pass));
        assert!(can_pair(&tcp_pass, &tcp_act));
        assert!(can_pair(&tcp_so, &tcp_so));
        assert!(!can_pair(&tcp_act, &tcp_act));
        assert!(!can_pair(&tcp_pass, &tcp_pass));
        assert!(!can_pair(&tcp_so, &tcp_act));
        assert!(!can_pair(&tcp_pass, &tcp_so));
        // The MS rule: a TCP relay meets only TCP candidates.
        assert!(can_pair(&tcp_act, &tcp_relay_pass));
        assert!(!can_pair(&udp, &tcp_relay_pass));
        assert!(!can_pair(&tcp_relay_pass, &udp_relay));

        let v6 = CandidateInfo::gathered(
            Rfc8445,
            Host,
            UDP,
            AddressFamily::V6,
            ComponentId::RTP,
            LocalRank::FIRST,
        );
        assert!(!can_pair(&udp, &v6));
        assert!(can_pair(&v6, &v6));
        let rtcp = CandidateInfo::gathered(
            Rfc8445,
            Host,
            UDP,
            AddressFamily::V4,
            ComponentId::RTCP,
            LocalRank::FIRST,
        );
        assert!(!can_pair(&udp, &rtcp));
    }

    /// The narrow side of "relay↔relay ranks below relay↔non-relay": with
    /// two TURN servers, a relay↔relay pair through both sides' first server
    /// outranks the second server's relay paired with a host.
    #[test]
    fn relay_pair_can_outrank_weaker_relay_with_host() {
        let second_server = LocalRank::new(0, 1).unwrap();
        let weak_relay = Rfc8445.priority(Relayed, UDP, second_server, ComponentId::RTP);
        let relay_with_host = pair_priority(weak_relay, rfc(Host));
        let relay_with_relay = pair_priority(rfc(Relayed), rfc(Relayed));
        assert!(relay_with_relay > relay_with_host);
    }

    /// Transport outweighs the relay count: two Edges over UDP outrank one
    /// Edge over TCP, in both profiles.
    #[test]
    fn udp_relay_pair_outranks_tcp_relay_with_tcp_host() {
        for profile in [Rfc8445, MicrosoftIce2] {
            let p = |k, t| profile.priority(k, t, LocalRank::FIRST, ComponentId::RTP);
            let two_edges_udp = pair_priority(p(Relayed, UDP), p(Relayed, UDP));
            let one_edge_tcp = pair_priority(p(Relayed, PASSIVE), p(Host, ACTIVE));
            assert!(two_edges_udp > one_edge_tcp, "{profile:?}");
        }
    }

    fn kind() -> impl Strategy<Value = CandidateKind> {
        prop_oneof![
            Just(Host),
            Just(PeerReflexive),
            Just(ServerReflexive),
            Just(Relayed)
        ]
    }

    fn non_relay_kind() -> impl Strategy<Value = CandidateKind> {
        prop_oneof![Just(Host), Just(PeerReflexive), Just(ServerReflexive)]
    }

    fn transport() -> impl Strategy<Value = CandidateTransport> {
        prop_oneof![Just(UDP), Just(ACTIVE), Just(PASSIVE), Just(SO)]
    }

    fn profile() -> impl Strategy<Value = PreferenceProfile> {
        prop_oneof![Just(Rfc8445), Just(MicrosoftIce2)]
    }

    fn rank() -> impl Strategy<Value = LocalRank> {
        (0u8..=63, 0u8..=7).prop_map(|(a, r)| LocalRank::new(a, r).unwrap())
    }

    fn component() -> impl Strategy<Value = ComponentId> {
        (1u8..=255).prop_map(|c| ComponentId::new(c).unwrap())
    }

    /// A candidate priority of the given kind from any profile input.
    fn priority_of(kind: impl Strategy<Value = CandidateKind>) -> impl Strategy<Value = u32> {
        (profile(), kind, transport(), rank(), component())
            .prop_map(|(pr, k, t, r, c)| pr.priority(k, t, r, c))
    }

    fn rfc_priority_of(kind: impl Strategy<Value = CandidateKind>) -> impl Strategy<Value = u32> {
        (kind, transport(), rank(), component())
            .prop_map(|(k, t, r, c)| Rfc8445.priority(k, t, r, c))
    }

    proptest! {
        #[test]
        fn every_priority_is_in_range(p in priority_of(kind())) {
            prop_assert!((1..=i32::MAX as u32).contains(&p));
        }

        /// Every pair containing a relay ranks below every pair without one,
        /// whichever side controls.
        #[test]
        fn relay_pairs_rank_below_non_relay_pairs(
            relay in rfc_priority_of(Just(Relayed)),
            other in rfc_priority_of(kind()),
            a in rfc_priority_of(non_relay_kind()),
            b in rfc_priority_of(non_relay_kind()),
            relay_controls in any::<bool>(),
        ) {
            let with_relay = if relay_controls {
                pair_priority(relay, other)
            } else {
                pair_priority(other, relay)
            };
            prop_assert!(with_relay < pair_priority(a, b));
        }

        /// The same holds under the MS profile, whose relays have type 10.
        #[test]
        fn ms_relay_pairs_rank_below_non_relay_pairs(
            (relay, other, a, b) in (
                (Just(Relayed), transport(), rank(), component()),
                (kind(), transport(), rank(), component()),
                (non_relay_kind(), transport(), rank(), component()),
                (non_relay_kind(), transport(), rank(), component()),
            ).prop_map(|cands| {
                let p = |(k, t, r, c): (CandidateKind, CandidateTransport, LocalRank, ComponentId)| {
                    MicrosoftIce2.priority(k, t, r, c)
                };
                (p(cands.0), p(cands.1), p(cands.2), p(cands.3))
            }),
        ) {
            prop_assert!(pair_priority(relay, other) < pair_priority(a, b));
            prop_assert!(pair_priority(other, relay) < pair_priority(b, a));
        }

        /// Pairing a given relay with a non-relay outranks pairing that relay
        /// with any relay, in either role.
        #[test]
        fn same_relay_prefers_non_relay_peer(
            relay in priority_of(Just(Relayed)),
            other_relay in priority_of(Just(Relayed)),
            non_relay in priority_of(non_relay_kind()),
            relay_controls in any::<bool>(),
        ) {
            let pp = |x: u32, y: u32| if relay_controls { pair_priority(x, y) } else { pair_priority(y, x) };
            prop_assert!(pp(relay, other_relay) < pp(relay, non_relay));
        }

        /// With one address and one TURN server per agent, over UDP,
        /// relay↔relay is below every relay↔non-relay pair.
        #[test]
        fn single_rank_udp_relay_relay_ranks_lowest(
            pr in profile(), other in non_relay_kind(), c in component(), relay_controls in any::<bool>(),
        ) {
            let p = |k| pr.priority(k, UDP, LocalRank::FIRST, c);
            let relay_relay = pair_priority(p(Relayed), p(Relayed));
            let (r, o) = (p(Relayed), p(other));
            let relay_other = if relay_controls { pair_priority(r, o) } else { pair_priority(o, r) };
            prop_assert!(relay_relay < relay_other);
        }

        /// Same-type candidates on different addresses or TURN servers get
        /// different priorities, as RFC 8445 §5.1.2.1 requires.
        #[test]
        fn distinct_ranks_give_distinct_priorities(
            pr in profile(), k in kind(), t in transport(), r1 in rank(), r2 in rank(),
        ) {
            let differs = r1.address() != r2.address()
                || (k == Relayed && r1.relay_server() != r2.relay_server());
            let p1 = pr.priority(k, t, r1, ComponentId::RTP);
            let p2 = pr.priority(k, t, r2, ComponentId::RTP);
            prop_assert_eq!(p1 != p2, differs);
        }

        /// Swapping roles changes the pair priority only through the tie bit.
        #[test]
        fn roles_differ_only_in_tie_bit(g in 1u32..=i32::MAX as u32, d in 1u32..=i32::MAX as u32) {
            let (gd, dg) = (pair_priority(g, d), pair_priority(d, g));
            prop_assert_eq!(gd.max(dg) - gd.min(dg), u64::from(g != d));
            prop_assert_eq!(gd & 1, u64::from(g > d));
        }

        /// Pairing is symmetric in which side is local except for TCP roles,
        /// which swap: local active meets remote passive and vice versa.
        #[test]
        fn pairing_is_symmetric(
            (k1, t1, c1, f1) in (kind(), transport(), 1u8..=2, any::<bool>()),
            (k2, t2, c2, f2) in (kind(), transport(), 1u8..=2, any::<bool>()),
        ) {
            let fam = |v6| if v6 { AddressFamily::V6 } else { AddressFamily::V4 };
            let a = CandidateInfo::gathered(Rfc8445, k1, t1, fam(f1), ComponentId::new(c1).unwrap(), LocalRank::FIRST);
            let b = CandidateInfo::gathered(Rfc8445, k2, t2, fam(f2), ComponentId::new(c2).unwrap(), LocalRank::FIRST);
            prop_assert_eq!(can_pair(&a, &b), can_pair(&b, &a));
            if can_pair(&a, &b) {
                prop_assert_eq!(t1.transport(), t2.transport());
                prop_assert_eq!(c1, c2);
                prop_assert_eq!(f1, f2);
            }
        }
    }
}
