//! The Microsoft 365 endpoint address sets, and which one a flow's destination falls in.
//!
//! Owns the shipped data file `data/microsoft-365-endpoints.toml` (rows of Microsoft's worldwide
//! endpoints list for Skype for Business Online and Teams, plus representative Internet-only
//! destinations the list gives no addresses for), its parsing and validation
//! ([`EndpointCatalog::from_toml`]), and the lookups a flow needs: which [`AddressSet`] a
//! destination address, protocol and port belong to, its connectivity [`Category`] (Optimize,
//! Allow, Default), and whether the address is reachable over ExpressRoute and under which BGP
//! [`Community`].
//!
//! Leaves out routing: which path a flow takes, route filters, proxy and PAC decisions belong to
//! the network plane, which asks this module. Also leaves out how a topology spells a reference to
//! a set (`"set:skype-teams-media"`): the topology loader resolves the name with
//! [`EndpointCatalog::set`]. See `docs/endpoints.md` for the data file and how to update it.

use std::collections::BTreeSet;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;
use std::sync::LazyLock;

use ipnet::IpNet;
use serde::Deserialize;

/// The shipped data file, compiled in so a run never depends on the working directory.
const BUILTIN_TOML: &str = include_str!("../data/microsoft-365-endpoints.toml");

static BUILTIN: LazyLock<EndpointCatalog> = LazyLock::new(|| {
    EndpointCatalog::from_toml(BUILTIN_TOML).unwrap_or_else(|e| {
        panic!("data/microsoft-365-endpoints.toml ships with callflow and must parse (a bug): {e}")
    })
});

/// Microsoft's connectivity category for an endpoint (Office 365 network connectivity
/// principles): how much care its traffic deserves on the way out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// Required, latency-sensitive, most of the volume: bypass proxies and inspection, egress
    /// locally, keep out of VPN tunnels.
    Optimize,
    /// Required for specific features, less sensitive: bypass inspection, local egress
    /// recommended.
    Allow,
    /// Ordinary Internet traffic; may go through proxies. Also what an unlisted destination gets.
    Default,
}

impl Category {
    /// Every category, in the order Microsoft lists them.
    pub const ALL: [Category; 3] = [Category::Optimize, Category::Allow, Category::Default];

    /// The lower-case name used in data files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Optimize => "optimize",
            Category::Allow => "allow",
            Category::Default => "default",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Category {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| ParseError::new("a category: optimize, allow or default", s))
    }
}

/// What an address set is for; lets callers pick destinations without hard-coding set names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Service {
    /// Real-time media relays (audio, video, sharing).
    Media,
    /// SIP / HTTPS signaling to the service where a user is homed.
    Signaling,
    /// Skype Meeting Broadcast service endpoints.
    Broadcast,
    /// Media between an on-premises SfB deployment (hybrid) and the Online service.
    HybridMedia,
    /// Content delivery network, e.g. broadcast streaming.
    Cdn,
    /// The Skype consumer service (federation, public IM).
    Consumer,
    /// Client quick tips content.
    QuickTips,
    /// Client telemetry.
    Telemetry,
    /// Another Microsoft 365 workload (e.g. Exchange Online): outside the
    /// Skype/Teams route filter.
    OtherWorkload,
    /// Certificate revocation lists and OCSP.
    Crl,
    /// Public name resolution.
    Dns,
}

impl Service {
    /// Every service.
    pub const ALL: [Service; 11] = [
        Service::Media,
        Service::Signaling,
        Service::Broadcast,
        Service::HybridMedia,
        Service::Cdn,
        Service::Consumer,
        Service::QuickTips,
        Service::Telemetry,
        Service::OtherWorkload,
        Service::Crl,
        Service::Dns,
    ];

    /// The kebab-case name used in data files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Service::Media => "media",
            Service::Signaling => "signaling",
            Service::Broadcast => "broadcast",
            Service::HybridMedia => "hybrid-media",
            Service::Cdn => "cdn",
            Service::Consumer => "consumer",
            Service::QuickTips => "quick-tips",
            Service::Telemetry => "telemetry",
            Service::OtherWorkload => "other-workload",
            Service::Crl => "crl",
            Service::Dns => "dns",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Service {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        Service::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                ParseError::new(
                    "a service: media, signaling, broadcast, hybrid-media, cdn, consumer, \
                 quick-tips, telemetry, crl or dns",
                    s,
                )
            })
    }
}

/// Transport protocol of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// UDP: the preferred transport for media.
    Udp,
    /// TCP: signaling, and the media fallback.
    Tcp,
}

impl Protocol {
    /// The lower-case name used in data files.
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::Udp => "udp",
            Protocol::Tcp => "tcp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Protocol {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        match s {
            "udp" => Ok(Protocol::Udp),
            "tcp" => Ok(Protocol::Tcp),
            _ => Err(ParseError::new("a protocol: udp or tcp", s)),
        }
    }
}

/// An inclusive range of destination ports on one protocol, written `"udp:3478-3481"` or
/// `"tcp:443"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortRange {
    /// The protocol the ports belong to.
    pub protocol: Protocol,
    /// Lowest port admitted.
    pub first: u16,
    /// Highest port admitted (equal to `first` for a single port).
    pub last: u16,
}

impl PortRange {
    /// Whether a flow on `protocol` to `port` falls in this range.
    pub fn admits(&self, protocol: Protocol, port: u16) -> bool {
        self.protocol == protocol && (self.first..=self.last).contains(&port)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}:{}", self.protocol, self.first)
        } else {
            write!(f, "{}:{}-{}", self.protocol, self.first, self.last)
        }
    }
}

impl FromStr for PortRange {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let bad = || {
            ParseError::new(
                "a port range like \"udp:3478-3481\" or \"tcp:443\" (udp or tcp, ports 1-65535, \
                 first <= last)",
                s,
            )
        };
        let (protocol, ports) = s.split_once(':').ok_or_else(bad)?;
        let protocol = protocol.parse::<Protocol>().map_err(|_| bad())?;
        let (first, last) = ports.split_once('-').unwrap_or((ports, ports));
        let first = parse_decimal_u16(first).ok_or_else(bad)?;
        let last = parse_decimal_u16(last).ok_or_else(bad)?;
        if first == 0 || first > last {
            return Err(bad());
        }
        Ok(PortRange {
            protocol,
            first,
            last,
        })
    }
}

/// A BGP community `asn:value`, as ExpressRoute Microsoft peering tags the prefixes of each
/// service (e.g. `12076:5030` for Skype for Business Online and Teams).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Community(pub u16, pub u16);

impl Community {
    /// The service community of Skype for Business Online and Microsoft Teams prefixes on
    /// ExpressRoute Microsoft peering (Azure docs, `expressroute-routing.md`).
    pub const SKYPE_TEAMS: Community = Community(12076, 5030);
}

impl fmt::Display for Community {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.0, self.1)
    }
}

impl FromStr for Community {
    type Err = ParseError;
    fn from_str(s: &str) -> Result<Self, ParseError> {
        let bad = || ParseError::new("a BGP community like \"12076:5030\"", s);
        let (asn, value) = s.split_once(':').ok_or_else(bad)?;
        let asn = parse_decimal_u16(asn).ok_or_else(bad)?;
        let value = parse_decimal_u16(value).ok_or_else(bad)?;
        Ok(Community(asn, value))
    }
}

/// Digits only: `u16::from_str` would also take a leading `+`, which no data file means.
fn parse_decimal_u16(s: &str) -> Option<u16> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// A value in an endpoint file that did not parse, with what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{found:?} is not {expected}")]
pub struct ParseError {
    /// What the text should have looked like.
    pub expected: &'static str,
    /// The text as written.
    pub found: String,
}

impl ParseError {
    fn new(expected: &'static str, found: &str) -> Self {
        ParseError {
            expected,
            found: found.to_owned(),
        }
    }
}

/// One named set of destinations: a row of the endpoints list, or a representative stand-in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddressSet {
    /// Stable kebab-case name topologies refer to (`"set:<name>"`).
    pub name: String,
    /// The endpoints-list row ID, where the set is one.
    pub id: Option<u32>,
    /// What the set is for.
    pub service: Service,
    /// Microsoft's connectivity category.
    pub category: Category,
    /// Whether the list marks the row required (as opposed to optional).
    pub required: bool,
    /// Whether the addresses are routable over ExpressRoute (the list's "ER" column).
    pub expressroute: bool,
    /// The BGP community the prefixes carry on ExpressRoute; present exactly when
    /// `expressroute` is.
    pub community: Option<Community>,
    /// The destination prefixes: the file's `ipv4` list, then its `ipv6` list, in written order.
    pub prefixes: Vec<IpNet>,
    /// The destination ports a flow must use to belong to the set.
    pub ports: Vec<PortRange>,
    /// Host names the list gives; informational (the simulator routes by address).
    pub fqdns: Vec<String>,
    /// Whether the prefixes stand in for addresses the list does not give (not authoritative).
    pub representative: bool,
    /// The list version the figures come from, when older than the catalog's version.
    pub list_version: Option<String>,
    /// Free text: provenance and caveats.
    pub note: Option<String>,
}

impl AddressSet {
    /// Whether a flow on `protocol` to `port` uses one of the set's ports.
    pub fn admits(&self, protocol: Protocol, port: u16) -> bool {
        self.ports.iter().any(|r| r.admits(protocol, port))
    }

    /// The length of the longest of the set's prefixes containing `ip`, if any does.
    pub fn longest_match(&self, ip: IpAddr) -> Option<u8> {
        self.prefixes
            .iter()
            .filter(|p| p.contains(&ip))
            .map(|p| p.prefix_len())
            .max()
    }
}

/// A validated endpoint data file: its provenance and its address sets in file order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EndpointCatalog {
    name: String,
    version: String,
    source: String,
    retrieved: String,
    notes: Option<String>,
    sets: Vec<AddressSet>,
}

impl EndpointCatalog {
    /// The catalog shipped in `data/microsoft-365-endpoints.toml`, parsed on first use.
    ///
    /// # Panics
    ///
    /// If the shipped file does not validate, which is a bug in callflow (a test parses it), not
    /// something a user can cause.
    pub fn builtin() -> &'static EndpointCatalog {
        &BUILTIN
    }

    /// Parses and validates an endpoint data file.
    ///
    /// A file that is not TOML of the right shape gives [`EndpointError::Toml`]. Otherwise every
    /// problem in the values (bad prefix, unknown category, duplicate set name, ...) is collected
    /// and returned together in [`EndpointError::Invalid`], each naming its set.
    pub fn from_toml(text: &str) -> Result<Self, EndpointError> {
        let raw: RawCatalog = toml::from_str(text)?;
        let mut problems = Vec::new();
        if let Err(source) = check_date(&raw.version) {
            problems.push(EndpointProblem::BadVersion { source });
        }
        let mut sets: Vec<AddressSet> = Vec::with_capacity(raw.sets.len());
        // Names of every earlier set, valid or not: a rejected set still claims its name.
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for raw_set in raw.sets {
            let duplicate = !seen.insert(raw_set.name.clone());
            if let Some(set) = validate_set(raw_set, duplicate, &mut problems) {
                sets.push(set);
            }
        }
        if !problems.is_empty() {
            return Err(EndpointError::Invalid(problems));
        }
        Ok(EndpointCatalog {
            name: raw.name,
            version: raw.version,
            source: raw.source,
            retrieved: raw.retrieved,
            notes: raw.notes,
            sets,
        })
    }

    /// What the catalog covers.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The endpoints-list version the figures reflect, as `YYYY-MM-DD`.
    pub fn version(&self) -> &str {
        &self.version
    }
    /// Where the figures come from.
    pub fn source(&self) -> &str {
        &self.source
    }
    /// When the figures were taken from the source, as written in the file.
    pub fn retrieved(&self) -> &str {
        &self.retrieved
    }
    /// Provenance notes for the whole file.
    pub fn notes(&self) -> Option<&str> {
        self.notes.as_deref()
    }
    /// The address sets, in file order.
    pub fn sets(&self) -> &[AddressSet] {
        &self.sets
    }

    /// The set called `name`.
    pub fn set(&self, name: &str) -> Option<&AddressSet> {
        self.sets.iter().find(|s| s.name == name)
    }

    /// The set a flow to `ip` on `protocol`/`port` belongs to.
    ///
    /// Only sets whose ports admit the flow are candidates; among them the one with the longest
    /// prefix containing `ip` wins, and on equal lengths the set written first in the file. So
    /// in the shipped file a TCP 443 flow to a Teams address is `skype-teams-signaling` (ID 12),
    /// never `skype-broadcast` (ID 13, same addresses, written later), and a UDP 3478 flow to the
    /// same address is `skype-teams-media` (ID 11): the port decides.
    ///
    /// An ordered scan rather than a prefix trie: a catalog holds about ten sets of a few
    /// prefixes each, the port filter would have to be reapplied along the trie's cover chain
    /// anyway, and path resolution is cached per endpoint class, so this is not on a hot path.
    pub fn classify(&self, ip: IpAddr, protocol: Protocol, port: u16) -> Option<&AddressSet> {
        let mut best: Option<(u8, &AddressSet)> = None;
        for set in self.sets.iter().filter(|s| s.admits(protocol, port)) {
            if let Some(len) = set.longest_match(ip)
                && best.is_none_or(|(best_len, _)| len > best_len)
            {
                best = Some((len, set));
            }
        }
        best.map(|(_, set)| set)
    }

    /// The connectivity category of a flow: that of [`classify`](Self::classify)'s set, or
    /// [`Category::Default`] when no set matches (unlisted destinations are ordinary Internet
    /// traffic).
    pub fn category_of(&self, ip: IpAddr, protocol: Protocol, port: u16) -> Category {
        self.classify(ip, protocol, port)
            .map_or(Category::Default, |s| s.category)
    }

    /// The BGP community under which `ip` is reachable over ExpressRoute, or `None` if no
    /// ExpressRoute-routable set contains it.
    ///
    /// By address only, whatever the port: routers forward on prefixes. Among ExpressRoute sets
    /// the longest matching prefix wins, then file order; sets that are not ExpressRoute-routable
    /// are ignored even when more specific, because a route filter admits prefixes, not rows.
    pub fn expressroute_routable(&self, ip: IpAddr) -> Option<Community> {
        let mut best: Option<(u8, Community)> = None;
        for set in &self.sets {
            if let (Some(community), Some(len)) = (set.community, set.longest_match(ip))
                && best.is_none_or(|(best_len, _)| len > best_len)
            {
                best = Some((len, community));
            }
        }
        best.map(|(_, community)| community)
    }
}

/// Why an endpoint data file was rejected.
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// Not TOML, or a field missing, of the wrong type or unknown.
    #[error("endpoint data is not a valid catalog file: {0}")]
    Toml(#[from] toml::de::Error),
    /// Well-formed, but with the listed problems (all of them, in file order).
    #[error("endpoint data has {} problem(s):{}", .0.len(), bullet_list(.0))]
    Invalid(Vec<EndpointProblem>),
}

fn bullet_list(problems: &[EndpointProblem]) -> String {
    problems.iter().map(|p| format!("\n  - {p}")).collect()
}

/// One problem in an endpoint data file; all but the header's name their set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EndpointProblem {
    /// The header's `version` is not a date.
    #[error("version: {source}")]
    BadVersion {
        /// What was wrong.
        source: ParseError,
    },
    /// A set name that is not kebab-case.
    #[error(
        "set {set:?}: name must be kebab-case (lower-case letters, digits, single hyphens, \
         starting with a letter)"
    )]
    BadName {
        /// The set.
        set: String,
    },
    /// A set name already used by an earlier set.
    #[error("set {set:?}: name already used by an earlier set")]
    DuplicateName {
        /// The set.
        set: String,
    },
    /// A field value that did not parse.
    #[error("set {set:?}: {field}: {source}")]
    BadValue {
        /// The set.
        set: String,
        /// The field, e.g. `"ipv4"` or `"ports"`.
        field: &'static str,
        /// What was wrong.
        source: ParseError,
    },
    /// A prefix written with host bits set, e.g. `52.112.1.0/14`.
    #[error("set {set:?}: {field}: {found:?} has host bits set; the network is {network}")]
    HostBits {
        /// The set.
        set: String,
        /// `"ipv4"` or `"ipv6"`.
        field: &'static str,
        /// The prefix as written.
        found: String,
        /// The prefix with host bits cleared.
        network: IpNet,
    },
    /// Neither `ipv4` nor `ipv6` lists a prefix, so no address can match.
    #[error("set {set:?}: no ipv4 or ipv6 prefixes, so no address can match it")]
    NoPrefixes {
        /// The set.
        set: String,
    },
    /// No ports, so no flow can match.
    #[error("set {set:?}: no ports, so no flow can match it")]
    NoPorts {
        /// The set.
        set: String,
    },
    /// `expressroute = true` without the community the prefixes carry.
    #[error("set {set:?}: expressroute = true needs the BGP community its prefixes carry")]
    MissingCommunity {
        /// The set.
        set: String,
    },
    /// A community on a set that is not routable over ExpressRoute.
    #[error("set {set:?}: community given but expressroute = false")]
    CommunityWithoutExpressRoute {
        /// The set.
        set: String,
    },
    /// `representative = true` without a note saying what the prefixes stand for.
    #[error("set {set:?}: representative = true needs a note saying what the prefixes stand for")]
    RepresentativeWithoutNote {
        /// The set.
        set: String,
    },
}

impl EndpointProblem {
    /// The set the problem is in, or `None` for the file header.
    pub fn set(&self) -> Option<&str> {
        match self {
            EndpointProblem::BadVersion { .. } => None,
            EndpointProblem::BadName { set }
            | EndpointProblem::DuplicateName { set }
            | EndpointProblem::BadValue { set, .. }
            | EndpointProblem::HostBits { set, .. }
            | EndpointProblem::NoPrefixes { set }
            | EndpointProblem::NoPorts { set }
            | EndpointProblem::MissingCommunity { set }
            | EndpointProblem::CommunityWithoutExpressRoute { set }
            | EndpointProblem::RepresentativeWithoutNote { set } => Some(set),
        }
    }
}

/// The file as written; values stay text so every bad one can be reported, not just the first.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    name: String,
    version: String,
    source: String,
    retrieved: String,
    notes: Option<String>,
    #[serde(default, rename = "set")]
    sets: Vec<RawSet>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSet {
    name: String,
    id: Option<u32>,
    service: String,
    category: String,
    required: bool,
    expressroute: bool,
    community: Option<String>,
    #[serde(default)]
    ipv4: Vec<String>,
    #[serde(default)]
    ipv6: Vec<String>,
    #[serde(default)]
    fqdns: Vec<String>,
    #[serde(default)]
    ports: Vec<String>,
    #[serde(default)]
    representative: bool,
    list_version: Option<String>,
    note: Option<String>,
}

/// Checks one set, pushing its problems; returns the set only if it had none.
fn validate_set(
    raw: RawSet,
    duplicate: bool,
    problems: &mut Vec<EndpointProblem>,
) -> Option<AddressSet> {
    let before = problems.len();
    let name = raw.name;
    let bad_value = |field, source| EndpointProblem::BadValue {
        set: name.clone(),
        field,
        source,
    };
    if !is_kebab_case(&name) {
        problems.push(EndpointProblem::BadName { set: name.clone() });
    }
    if duplicate {
        problems.push(EndpointProblem::DuplicateName { set: name.clone() });
    }
    let service = raw.service.parse::<Service>();
    if let Err(e) = &service {
        problems.push(bad_value("service", e.clone()));
    }
    let category = raw.category.parse::<Category>();
    if let Err(e) = &category {
        problems.push(bad_value("category", e.clone()));
    }
    let community = raw.community.as_deref().map(str::parse::<Community>);
    if let Some(Err(e)) = &community {
        problems.push(bad_value("community", e.clone()));
    }
    match (raw.expressroute, raw.community.is_some()) {
        (true, false) => problems.push(EndpointProblem::MissingCommunity { set: name.clone() }),
        (false, true) => {
            problems.push(EndpointProblem::CommunityWithoutExpressRoute { set: name.clone() })
        }
        _ => {}
    }
    let mut prefixes = Vec::with_capacity(raw.ipv4.len() + raw.ipv6.len());
    for (field, texts, want_v4) in [("ipv4", &raw.ipv4, true), ("ipv6", &raw.ipv6, false)] {
        for text in texts {
            match parse_prefix(text, want_v4) {
                Ok(net) if net.trunc() != net => problems.push(EndpointProblem::HostBits {
                    set: name.clone(),
                    field,
                    found: text.clone(),
                    network: net.trunc(),
                }),
                Ok(net) => prefixes.push(net),
                Err(e) => problems.push(bad_value(field, e)),
            }
        }
    }
    if raw.ipv4.is_empty() && raw.ipv6.is_empty() {
        problems.push(EndpointProblem::NoPrefixes { set: name.clone() });
    }
    let mut ports = Vec::with_capacity(raw.ports.len());
    for text in &raw.ports {
        match text.parse::<PortRange>() {
            Ok(range) => ports.push(range),
            Err(e) => problems.push(bad_value("ports", e)),
        }
    }
    if raw.ports.is_empty() {
        problems.push(EndpointProblem::NoPorts { set: name.clone() });
    }
    if let Some(Err(e)) = raw.list_version.as_deref().map(check_date) {
        problems.push(bad_value("list_version", e));
    }
    if raw.representative && raw.note.is_none() {
        problems.push(EndpointProblem::RepresentativeWithoutNote { set: name.clone() });
    }
    if problems.len() > before {
        return None;
    }
    Some(AddressSet {
        name,
        id: raw.id,
        service: service.ok()?,
        category: category.ok()?,
        required: raw.required,
        expressroute: raw.expressroute,
        community: community.transpose().ok()?,
        prefixes,
        ports,
        fqdns: raw.fqdns,
        representative: raw.representative,
        list_version: raw.list_version,
        note: raw.note,
    })
}

/// A prefix of the family its list promises; a bare address without `/len` is rejected so a
/// forgotten length cannot silently become a host route.
fn parse_prefix(text: &str, want_v4: bool) -> Result<IpNet, ParseError> {
    let expected = if want_v4 {
        "an IPv4 prefix like \"52.112.0.0/14\""
    } else {
        "an IPv6 prefix like \"2603:1063::/38\""
    };
    match text.parse::<IpNet>() {
        Ok(net @ IpNet::V4(_)) if want_v4 => Ok(net),
        Ok(net @ IpNet::V6(_)) if !want_v4 => Ok(net),
        _ => Err(ParseError::new(expected, text)),
    }
}

/// `YYYY-MM-DD` with a plausible month and day; the endpoint list versions by date.
fn check_date(text: &str) -> Result<(), ParseError> {
    let bad = || ParseError::new("a date like \"2022-07-28\"", text);
    let b = text.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && [0, 1, 2, 3, 5, 6, 8, 9]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    if !shaped {
        return Err(bad());
    }
    let month: u8 = text[5..7].parse().map_err(|_| bad())?;
    let day: u8 = text[8..10].parse().map_err(|_| bad())?;
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    Ok(())
}

fn is_kebab_case(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && !name.contains("--")
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn class(ip_text: &str, protocol: Protocol, port: u16) -> Option<&'static str> {
        EndpointCatalog::builtin()
            .classify(ip(ip_text), protocol, port)
            .map(|s| s.name.as_str())
    }

    #[test]
    fn builtin_parses_with_its_provenance_and_sets_in_file_order() {
        let cat = EndpointCatalog::builtin();
        assert_eq!(cat.version(), "2022-07-28");
        assert!(cat.source().contains("MicrosoftDocs/microsoft-365-docs"));
        assert!(cat.source().contains("office-365-worldwide-endpoints.md"));
        assert_eq!(cat.retrieved(), "2026-11-24");
        assert!(cat.notes().unwrap().contains("2022072800"));
        let names: Vec<_> = cat.sets().iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "skype-teams-media",
                "skype-teams-signaling",
                "skype-broadcast",
                "skype-hybrid-media",
                "exchange-online",
                "broadcast-cdn",
                "skype-consumer",
                "skype-quick-tips",
                "telemetry",
                "certificate-revocation",
                "dns",
            ]
        );
        let ids: Vec<_> = cat.sets().iter().map(|s| s.id).collect();
        assert_eq!(
            ids,
            [
                Some(11),
                Some(12),
                Some(13),
                Some(20),
                Some(1),
                Some(16),
                Some(127),
                Some(14),
                Some(69),
                Some(125),
                None
            ]
        );
    }

    #[test]
    fn builtin_teams_figures_match_the_2022_07_28_list() {
        let cat = EndpointCatalog::builtin();
        let media = cat.set("skype-teams-media").unwrap();
        let shown: Vec<_> = media.prefixes.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            shown,
            [
                "13.107.64.0/18",
                "52.112.0.0/14",
                "52.120.0.0/14",
                "2603:1063::/38"
            ]
        );
        let ports: Vec<_> = media.ports.iter().map(|p| p.to_string()).collect();
        assert_eq!(ports, ["udp:3478-3481"]);
        assert_eq!(
            (media.category, media.required, media.service),
            (Category::Optimize, true, Service::Media)
        );

        let signaling = cat.set("skype-teams-signaling").unwrap();
        for extra in ["52.238.119.141/32", "52.244.160.207/32", "2620:1ec:40::/42"] {
            assert!(
                signaling.prefixes.contains(&extra.parse().unwrap()),
                "{extra}"
            );
        }
        assert_eq!(signaling.prefixes.len(), 12);
        let ports: Vec<_> = signaling.ports.iter().map(|p| p.to_string()).collect();
        assert_eq!(ports, ["tcp:443", "tcp:80"]);

        let hybrid = cat.set("skype-hybrid-media").unwrap();
        assert_eq!(hybrid.category, Category::Default);
        assert!(!hybrid.required);
        assert_eq!(hybrid.list_version.as_deref(), Some("2018-06-30"));
    }

    #[test]
    fn builtin_expressroute_sets_carry_their_service_community_and_others_none() {
        for set in EndpointCatalog::builtin().sets() {
            let community = match set.service {
                Service::OtherWorkload => Community(12076, 5010),
                _ => Community::SKYPE_TEAMS,
            };
            let want = set.expressroute.then_some(community);
            assert_eq!(set.community, want, "{}", set.name);
        }
        let er: Vec<_> = EndpointCatalog::builtin()
            .sets()
            .iter()
            .filter(|s| s.expressroute)
            .map(|s| s.id)
            .collect();
        assert_eq!(er, [Some(11), Some(12), Some(13), Some(20), Some(1)]);
    }

    #[test]
    fn builtin_representative_sets_use_documentation_prefixes_and_only_they_do() {
        let doc_v4: IpNet = "203.0.113.0/24".parse().unwrap();
        let doc_v6: IpNet = "2001:db8::/32".parse().unwrap();
        for set in EndpointCatalog::builtin().sets() {
            for p in &set.prefixes {
                let in_doc = doc_v4.contains(p) || doc_v6.contains(p);
                assert_eq!(in_doc, set.representative, "{} {p}", set.name);
            }
            if set.representative {
                assert!(set.note.as_deref().unwrap().starts_with("Representative"));
                assert!(!set.expressroute, "{}", set.name);
            }
        }
    }

    #[test]
    fn teams_media_over_udp_is_optimize_and_expressroute_routable() {
        let cat = EndpointCatalog::builtin();
        let set = cat.classify(ip("52.112.1.1"), Protocol::Udp, 3478).unwrap();
        assert_eq!(set.name, "skype-teams-media");
        assert_eq!(set.category, Category::Optimize);
        assert!(set.expressroute);
        assert_eq!(set.community, Some(Community(12076, 5030)));
        assert_eq!(
            cat.category_of(ip("52.112.1.1"), Protocol::Udp, 3481),
            Category::Optimize
        );
        assert_eq!(
            cat.expressroute_routable(ip("52.112.1.1")),
            Some(Community::SKYPE_TEAMS)
        );
    }

    #[test]
    fn the_port_decides_between_media_signaling_and_hybrid_on_shared_addresses() {
        assert_eq!(
            class("52.112.1.1", Protocol::Tcp, 443),
            Some("skype-teams-signaling")
        );
        assert_eq!(
            class("52.112.1.1", Protocol::Tcp, 80),
            Some("skype-teams-signaling")
        );
        assert_eq!(
            EndpointCatalog::builtin().category_of(ip("52.112.1.1"), Protocol::Tcp, 443),
            Category::Allow
        );
        // 2022: ID 11 is UDP only, so TCP 3478 is in no set.
        assert_eq!(class("52.112.1.1", Protocol::Tcp, 3478), None);
        assert_eq!(class("52.112.1.1", Protocol::Udp, 3482), None);
        assert_eq!(
            class("52.112.1.1", Protocol::Udp, 50000),
            Some("skype-hybrid-media")
        );
        assert_eq!(
            class("13.107.127.255", Protocol::Tcp, 59999),
            Some("skype-hybrid-media")
        );
        // 52.120.0.0/14 was not in ID 20's 2018 list.
        assert_eq!(class("52.120.0.1", Protocol::Udp, 50000), None);
        assert_eq!(
            class("52.120.0.1", Protocol::Udp, 3478),
            Some("skype-teams-media")
        );
    }

    #[test]
    fn broadcast_shares_signaling_addresses_so_file_order_picks_signaling() {
        let cat = EndpointCatalog::builtin();
        let signaling = cat.set("skype-teams-signaling").unwrap();
        let broadcast = cat.set("skype-broadcast").unwrap();
        assert_eq!(signaling.prefixes, broadcast.prefixes);
        assert_eq!(
            class("52.238.119.141", Protocol::Tcp, 443),
            Some("skype-teams-signaling")
        );
        // A /32 only in ID 12/13 is ER-routable by address even where no set takes the port.
        assert_eq!(class("52.238.119.141", Protocol::Udp, 3478), None);
        assert_eq!(
            cat.expressroute_routable(ip("52.238.119.141")),
            Some(Community::SKYPE_TEAMS)
        );
    }

    #[test]
    fn ipv6_media_and_signaling() {
        assert_eq!(
            class("2603:1063::1", Protocol::Udp, 3478),
            Some("skype-teams-media")
        );
        assert_eq!(
            class("2603:1063::1", Protocol::Tcp, 443),
            Some("skype-teams-signaling")
        );
        assert_eq!(class("2603:1027::1", Protocol::Udp, 3478), None);
        assert_eq!(
            EndpointCatalog::builtin().expressroute_routable(ip("2603:1027::1")),
            Some(Community::SKYPE_TEAMS)
        );
    }

    #[test]
    fn addresses_outside_every_set_are_default_and_internet_only() {
        let cat = EndpointCatalog::builtin();
        for addr in ["8.8.8.8", "52.116.0.1", "2001:db8::1"] {
            assert_eq!(cat.classify(ip(addr), Protocol::Udp, 3478), None, "{addr}");
            assert_eq!(
                cat.category_of(ip(addr), Protocol::Udp, 3478),
                Category::Default
            );
            assert_eq!(cat.expressroute_routable(ip(addr)), None, "{addr}");
        }
    }

    #[test]
    fn internet_only_destinations_classify_to_their_sets() {
        let cat = EndpointCatalog::builtin();
        let cases = [
            ("203.0.113.10", Protocol::Tcp, 443, "broadcast-cdn"),
            ("203.0.113.40", Protocol::Tcp, 80, "skype-consumer"),
            ("203.0.113.70", Protocol::Tcp, 443, "skype-quick-tips"),
            ("203.0.113.100", Protocol::Tcp, 443, "telemetry"),
            ("203.0.113.130", Protocol::Tcp, 80, "certificate-revocation"),
            ("203.0.113.170", Protocol::Udp, 53, "dns"),
            ("2001:db8:ff:6::53", Protocol::Tcp, 53, "dns"),
        ];
        for (addr, protocol, port, want) in cases {
            let set = cat.classify(ip(addr), protocol, port).unwrap();
            assert_eq!(set.name, want, "{addr}");
            assert_eq!(set.category, Category::Default);
            assert_eq!(cat.expressroute_routable(ip(addr)), None, "{addr}");
        }
        assert_eq!(cat.classify(ip("203.0.113.170"), Protocol::Udp, 443), None);
    }

    const TIE_BREAK: &str = r#"
name = "tie-break"
version = "2024-01-31"
source = "test"
retrieved = "2024-02-01"

[[set]]
name = "wide"
service = "signaling"
category = "allow"
required = true
expressroute = true
community = "12076:5030"
ipv4 = ["10.0.0.0/8"]
ports = ["tcp:443"]

[[set]]
name = "narrow"
service = "media"
category = "optimize"
required = true
expressroute = false
ipv4 = ["10.1.0.0/16"]
ports = ["tcp:443", "udp:3478"]

[[set]]
name = "narrow-later"
service = "broadcast"
category = "default"
required = false
expressroute = true
community = "12076:5100"
ipv4 = ["10.1.0.0/16"]
ports = ["tcp:443"]
"#;

    #[test]
    fn classify_prefers_the_longest_prefix_then_file_order() {
        let cat = EndpointCatalog::from_toml(TIE_BREAK).unwrap();
        let name = |a: &str, p, port| cat.classify(ip(a), p, port).map(|s| s.name.as_str());
        assert_eq!(name("10.1.2.3", Protocol::Tcp, 443), Some("narrow"));
        assert_eq!(name("10.2.0.1", Protocol::Tcp, 443), Some("wide"));
        assert_eq!(name("10.1.2.3", Protocol::Udp, 3478), Some("narrow"));
        assert_eq!(name("10.2.0.1", Protocol::Udp, 3478), None);
        // ER routability ignores the non-ER "narrow" set and the port.
        assert_eq!(
            cat.expressroute_routable(ip("10.1.2.3")),
            Some(Community(12076, 5100))
        );
        assert_eq!(
            cat.expressroute_routable(ip("10.2.0.1")),
            Some(Community(12076, 5030))
        );
        assert_eq!(cat.expressroute_routable(ip("11.0.0.1")), None);
    }

    const BAD: &str = r#"
name = "bad"
version = "July 2022"
source = "test"
retrieved = "2024-02-01"

[[set]]
name = "media"
service = "media"
category = "optimise"
required = true
expressroute = true
ipv4 = ["52.112.0.0/14", "52.112.1.0/14", "2603:1063::/38", "52.300.0.0/14", "52.238.119.141"]
ipv6 = ["52.112.0.0/14"]
ports = ["udp:3481-3478", "sctp:5060", "udp:0", "udp:3478"]

[[set]]
name = "media"
service = "fax"
category = "default"
required = false
expressroute = false
community = "12076-5030"
representative = true

[[set]]
name = "Bad_Name"
service = "dns"
category = "default"
required = true
expressroute = false
ipv4 = ["203.0.113.0/24"]
ports = ["udp:53"]
list_version = "2018-13-01"
"#;

    #[test]
    fn a_bad_file_reports_every_problem_with_its_set() {
        let Err(EndpointError::Invalid(problems)) = EndpointCatalog::from_toml(BAD) else {
            panic!("the file should be rejected as invalid");
        };
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            shown,
            [
                r#"version: "July 2022" is not a date like "2022-07-28""#,
                r#"set "media": category: "optimise" is not a category: optimize, allow or default"#,
                r#"set "media": expressroute = true needs the BGP community its prefixes carry"#,
                r#"set "media": ipv4: "52.112.1.0/14" has host bits set; the network is 52.112.0.0/14"#,
                r#"set "media": ipv4: "2603:1063::/38" is not an IPv4 prefix like "52.112.0.0/14""#,
                r#"set "media": ipv4: "52.300.0.0/14" is not an IPv4 prefix like "52.112.0.0/14""#,
                r#"set "media": ipv4: "52.238.119.141" is not an IPv4 prefix like "52.112.0.0/14""#,
                r#"set "media": ipv6: "52.112.0.0/14" is not an IPv6 prefix like "2603:1063::/38""#,
                r#"set "media": ports: "udp:3481-3478" is not a port range like "udp:3478-3481" or "tcp:443" (udp or tcp, ports 1-65535, first <= last)"#,
                r#"set "media": ports: "sctp:5060" is not a port range like "udp:3478-3481" or "tcp:443" (udp or tcp, ports 1-65535, first <= last)"#,
                r#"set "media": ports: "udp:0" is not a port range like "udp:3478-3481" or "tcp:443" (udp or tcp, ports 1-65535, first <= last)"#,
                r#"set "media": name already used by an earlier set"#,
                r#"set "media": service: "fax" is not a service: media, signaling, broadcast, hybrid-media, cdn, consumer, quick-tips, telemetry, crl or dns"#,
                r#"set "media": community: "12076-5030" is not a BGP community like "12076:5030""#,
                r#"set "media": community given but expressroute = false"#,
                r#"set "media": no ipv4 or ipv6 prefixes, so no address can match it"#,
                r#"set "media": no ports, so no flow can match it"#,
                r#"set "media": representative = true needs a note saying what the prefixes stand for"#,
                r#"set "Bad_Name": name must be kebab-case (lower-case letters, digits, single hyphens, starting with a letter)"#,
                r#"set "Bad_Name": list_version: "2018-13-01" is not a date like "2022-07-28""#,
            ]
        );
        let sets: Vec<_> = problems.iter().map(EndpointProblem::set).collect();
        assert_eq!(sets[0], None);
        assert!(sets[1..].iter().all(Option::is_some));
        let whole = EndpointError::Invalid(problems).to_string();
        assert!(whole.starts_with("endpoint data has 20 problem(s):\n  - version: "));
    }

    #[test]
    fn malformed_toml_and_unknown_fields_are_errors_not_panics() {
        assert!(matches!(
            EndpointCatalog::from_toml("name = "),
            Err(EndpointError::Toml(_))
        ));
        let typo = TIE_BREAK.replacen("ports = [\"tcp:443\"]", "port = [\"tcp:443\"]", 1);
        let err = EndpointCatalog::from_toml(&typo).unwrap_err();
        assert!(matches!(err, EndpointError::Toml(_)), "{err}");
        assert!(err.to_string().contains("unknown field `port`"), "{err}");
    }

    #[test]
    fn port_ranges_parse_display_and_admit() {
        let r: PortRange = "udp:3478-3481".parse().unwrap();
        assert_eq!(
            r,
            PortRange {
                protocol: Protocol::Udp,
                first: 3478,
                last: 3481
            }
        );
        assert_eq!(r.to_string(), "udp:3478-3481");
        assert!(r.admits(Protocol::Udp, 3478) && r.admits(Protocol::Udp, 3481));
        assert!(!r.admits(Protocol::Udp, 3482) && !r.admits(Protocol::Tcp, 3478));
        let single: PortRange = "tcp:443".parse().unwrap();
        assert_eq!((single.first, single.last), (443, 443));
        assert_eq!(single.to_string(), "tcp:443");
        assert_eq!("tcp:65535".parse::<PortRange>().unwrap().last, u16::MAX);
        for bad in [
            "443",
            "tcp:",
            "tcp:+443",
            "tcp:65536",
            "tcp:0-10",
            "TCP:443",
            "udp:5-4",
            "udp:1-2-3",
        ] {
            assert!(bad.parse::<PortRange>().is_err(), "{bad}");
        }
    }

    #[test]
    fn communities_parse_and_display() {
        let c: Community = "12076:5030".parse().unwrap();
        assert_eq!(c, Community::SKYPE_TEAMS);
        assert_eq!(c.to_string(), "12076:5030");
        for bad in [
            "12076",
            "12076:",
            ":5030",
            "12076:5030:1",
            "70000:1",
            "+1:2",
        ] {
            assert!(bad.parse::<Community>().is_err(), "{bad}");
        }
    }

    #[test]
    fn names_round_trip() {
        for c in Category::ALL {
            assert_eq!(c.to_string().parse::<Category>(), Ok(c));
        }
        for s in Service::ALL {
            assert_eq!(s.to_string().parse::<Service>(), Ok(s));
        }
        for p in [Protocol::Udp, Protocol::Tcp] {
            assert_eq!(p.to_string().parse::<Protocol>(), Ok(p));
        }
        assert!("Optimize".parse::<Category>().is_err());
    }
}
