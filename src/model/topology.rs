//! The validated topology: elements, links, circuits, regions, the tenant.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use petgraph::graph::UnGraph;
use petgraph::visit::EdgeRef;
use serde::Serialize;

use super::{CircuitId, LinkId, NodeId, OrgId, PacId, Protocol, RegionId, RemoteId, Segment};
use crate::endpoints::{Category, Community, EndpointCatalog};
use crate::time::SimDuration;
use crate::units::{Bitrate, Ratio};

/// A validated, immutable topology.
#[derive(Debug, Clone)]
pub struct Topology {
    /// Its name.
    pub name: String,
    /// What it shows.
    pub description: Option<String>,
    /// The tenant whose network this is.
    pub tenant: Tenant,
    /// The Microsoft endpoint catalog in use.
    pub catalog: &'static EndpointCatalog,
    /// The planner's own named address sets.
    pub address_sets: BTreeMap<String, Vec<IpNet>>,
    /// Elements and links.
    pub graph: UnGraph<Node, Link>,
    /// The Internet node.
    pub internet: NodeId,
    /// What crossing the Internet adds to a path.
    pub internet_transit: PathQuality,
    /// Microsoft regions.
    pub regions: Vec<Region>,
    /// ExpressRoute circuits (the tenant's and partners').
    pub circuits: Vec<Circuit>,
    /// PAC policies.
    pub pacs: Vec<Pac>,
    /// Remote locations.
    pub remotes: Vec<Remote>,
    /// Other organizations.
    pub organizations: Vec<Organization>,
    /// Every element, link, circuit, region, PAC and address set by name.
    pub names: BTreeMap<String, Named>,
    /// How circuits are sized and priced (`[sizing]`).
    pub sizing: SizingSettings,
}

/// How circuits are sized and what the user says they cost (`[sizing]`;
/// see [`crate::sizing`]).
#[derive(Debug, Clone, PartialEq)]
pub struct SizingSettings {
    /// The share of a circuit left free at the busy hour's P99.
    pub headroom: Ratio,
    /// The currency of `prices`.
    pub currency: Option<String>,
    /// Monthly price per tier bandwidth, as the user wrote them; never
    /// filled in by callflow.
    pub prices: Vec<(Bitrate, f64)>,
}

impl Default for SizingSettings {
    /// 20% headroom (see [`crate::sizing::DEFAULT_HEADROOM`]), no prices.
    fn default() -> Self {
        SizingSettings {
            headroom: Ratio::new(crate::sizing::DEFAULT_HEADROOM).expect("a valid ratio"),
            currency: None,
            prices: Vec::new(),
        }
    }
}

impl SizingSettings {
    /// The user's monthly price of the tier of `bandwidth`, if given.
    pub fn price(&self, bandwidth: Bitrate) -> Option<f64> {
        self.prices
            .iter()
            .find(|(b, _)| *b == bandwidth)
            .map(|(_, p)| *p)
    }
}

/// What a name in the topology refers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Named {
    /// A graph node.
    Node(NodeId),
    /// A graph edge.
    Link(LinkId),
    /// An ExpressRoute circuit.
    Circuit(CircuitId),
    /// A Microsoft region (its router node is [`Region::node`]).
    Region(RegionId),
    /// A PAC policy.
    Pac(PacId),
    /// A remote location (its clients' LAN is [`Remote::site`]).
    Remote(RemoteId),
    /// Another organization.
    Organization(OrgId),
    /// A planner-defined address set.
    AddressSet,
}

/// Who runs a part of the network; decides which totals it counts in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Owner {
    /// The tenant.
    Tenant,
    /// Nobody in particular: the Internet.
    Public,
    /// Microsoft.
    Microsoft,
    /// A remote location's own network (a home router, a hotel).
    Remote(RemoteId),
    /// Another organization.
    Organization(OrgId),
}

/// A routing domain: nodes that share an interior routing protocol. Routes
/// cross between domains only over Internet access links and circuits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Domain {
    /// The tenant's network.
    Customer,
    /// The Internet.
    Internet,
    /// Microsoft's network.
    Microsoft,
    /// A remote location.
    Remote(RemoteId),
    /// Another organization.
    Organization(OrgId),
}

impl Domain {
    /// The owner of links inside this domain.
    pub fn owner(self) -> Owner {
        match self {
            Domain::Customer => Owner::Tenant,
            Domain::Internet => Owner::Public,
            Domain::Microsoft => Owner::Microsoft,
            Domain::Remote(r) => Owner::Remote(r),
            Domain::Organization(o) => Owner::Organization(o),
        }
    }
}

/// The tenant: whose network and users these are.
#[derive(Debug, Clone)]
pub struct Tenant {
    /// Its name.
    pub name: String,
    /// Where its Online users are homed.
    pub home_region: RegionId,
    /// What it runs, as declared by its servers.
    pub deployment: Deployment,
    /// The on-premises Front End pool, if any (Hybrid).
    pub front_end: Option<NodeId>,
    /// The Cloud Connector, if any.
    pub cloud_connector: Option<NodeId>,
}

/// Which deployment of the source document a topology is, derived from what
/// it declares.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Deployment {
    /// All users homed Online; no on-premises servers.
    Online,
    /// An on-premises Front End pool: some users homed on-premises.
    Hybrid,
    /// All users Online, PSTN through Cloud Connector Edition.
    CloudConnector,
}

impl fmt::Display for Deployment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Deployment::Online => "Online",
            Deployment::Hybrid => "Hybrid",
            Deployment::CloudConnector => "Cloud Connector",
        })
    }
}

/// A network element.
#[derive(Debug, Clone)]
pub struct Node {
    /// Its name, unique in the topology.
    pub name: String,
    /// What it is and its settings.
    pub kind: NodeKind,
    /// Its routing domain.
    pub domain: Domain,
    /// Addresses it answers on (hosts; empty for pure forwarders).
    pub addresses: Vec<IpAddr>,
    /// Prefixes it originates into routing (its subnets, pool, addresses).
    pub originates: Vec<IpNet>,
    /// The segment lane it is drawn in.
    pub lane: Segment,
}

impl Node {
    /// A short word for the kind, as used in messages (`firewall`, `nat`, …).
    pub fn kind_word(&self) -> &'static str {
        self.kind.word()
    }
}

/// What an element is.
#[derive(Debug, Clone)]
pub enum NodeKind {
    /// A LAN with client hosts.
    Site(Site),
    /// A router.
    Router(Router),
    /// A firewall.
    Firewall(Firewall),
    /// A NAT.
    Nat(Nat),
    /// A web proxy.
    Proxy(Proxy),
    /// An Edge server.
    Edge(Edge),
    /// A server (on-premises, Microsoft, or on the Internet).
    Server(Server),
    /// A Microsoft region's router (its edge and backbone entry).
    Region(RegionId),
    /// The Internet.
    Internet,
}

impl NodeKind {
    /// A short word for the kind.
    pub fn word(&self) -> &'static str {
        match self {
            NodeKind::Site(_) => "site",
            NodeKind::Router(_) => "router",
            NodeKind::Firewall(_) => "firewall",
            NodeKind::Nat(_) => "nat",
            NodeKind::Proxy(_) => "proxy",
            NodeKind::Edge(_) => "edge",
            NodeKind::Server(s) => s.kind.word(),
            NodeKind::Region(_) => "region",
            NodeKind::Internet => "internet",
        }
    }

    /// Whether packets may pass through this element to somewhere else.
    /// Hosts (sites, servers, proxies, Edges) only send and receive.
    pub fn forwards(&self) -> bool {
        matches!(
            self,
            NodeKind::Router(_)
                | NodeKind::Firewall(_)
                | NodeKind::Nat(_)
                | NodeKind::Region(_)
                | NodeKind::Internet
        )
    }
}

/// The kind of a site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SiteKind {
    /// An office.
    Office,
    /// A datacenter.
    Datacenter,
    /// A perimeter network.
    Dmz,
    /// A remote location's LAN (home, hotel, coffee shop).
    Remote,
    /// Another organization's LAN.
    Partner,
}

/// A LAN with client hosts.
#[derive(Debug, Clone)]
pub struct Site {
    /// Office, datacenter, DMZ, remote, partner.
    pub kind: SiteKind,
    /// Its subnets.
    pub subnets: Vec<IpNet>,
    /// The PAC policy its clients use.
    pub pac: Option<PacId>,
    /// Its metro or city.
    pub location: Option<String>,
}

/// A router with static routes.
#[derive(Debug, Clone, Default)]
pub struct Router {
    /// Static routes, which beat learned ones for the same prefix.
    pub static_routes: Vec<StaticRoute>,
}

/// A static route.
#[derive(Debug, Clone)]
pub struct StaticRoute {
    /// Destination.
    pub prefix: IpNet,
    /// The link it sends matching packets on.
    pub via: LinkId,
}

/// Allow or deny.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Let the packet through.
    Allow,
    /// Drop it.
    Deny,
}

/// A firewall.
#[derive(Debug, Clone)]
pub struct Firewall {
    /// Whether it keeps sessions.
    pub stateful: bool,
    /// How long an idle session lives.
    pub idle_timeout: SimDuration,
    /// What happens to packets no rule matches.
    pub default: Action,
    /// Rules, first match wins.
    pub rules: Vec<Rule>,
}

/// A firewall rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Allow or deny.
    pub action: Action,
    /// Which protocol it matches (`None`: any).
    pub protocol: Option<Protocol>,
    /// Source addresses.
    pub src: AddressMatch,
    /// Destination addresses.
    pub dst: AddressMatch,
    /// Source ports.
    pub src_ports: PortMatch,
    /// Destination ports.
    pub dst_ports: PortMatch,
    /// The rule as the planner would read it (for traces).
    pub text: String,
}

/// Which addresses a rule or PAC entry matches.
#[derive(Debug, Clone, PartialEq)]
pub enum AddressMatch {
    /// Every address.
    Any,
    /// Any of these prefixes (named sets already expanded).
    Prefixes(Vec<IpNet>),
}

impl AddressMatch {
    /// Whether `ip` matches.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match self {
            AddressMatch::Any => true,
            AddressMatch::Prefixes(p) => p.iter().any(|n| n.contains(&ip)),
        }
    }
}

/// Which ports a rule matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortMatch {
    /// Every port.
    Any,
    /// Any of these inclusive ranges.
    Ranges(Vec<(u16, u16)>),
}

impl PortMatch {
    /// Whether `port` matches.
    pub fn contains(&self, port: u16) -> bool {
        match self {
            PortMatch::Any => true,
            PortMatch::Ranges(r) => r.iter().any(|&(lo, hi)| (lo..=hi).contains(&port)),
        }
    }
}

/// RFC 4787 mapping behaviour: when a NAT reuses a public port.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mapping {
    /// One public port for all destinations.
    EndpointIndependent,
    /// A public port per destination address.
    AddressDependent,
    /// A public port per destination address and port.
    AddressAndPortDependent,
}

/// RFC 4787 filtering behaviour: which inbound packets a mapping admits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Filtering {
    /// Anyone.
    EndpointIndependent,
    /// Only addresses the inside host has sent to.
    AddressDependent,
    /// Only address and port pairs the inside host has sent to.
    AddressAndPortDependent,
}

/// How a NAT maps and filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NatBehaviour {
    /// Mapping behaviour.
    pub mapping: Mapping,
    /// Filtering behaviour.
    pub filtering: Filtering,
    /// Whether inside hosts can reach each other's public mappings.
    pub hairpinning: bool,
    /// How long an idle UDP mapping lives.
    #[serde(skip)]
    pub mapping_timeout: SimDuration,
    /// Ports available per public address.
    pub port_capacity: u32,
}

impl NatBehaviour {
    /// RFC 3489 names as presets (ice.md §2.2).
    pub fn preset(name: &str) -> Option<(Mapping, Filtering)> {
        use Filtering as F;
        use Mapping as M;
        Some(match name {
            "full-cone" => (M::EndpointIndependent, F::EndpointIndependent),
            "restricted-cone" => (M::EndpointIndependent, F::AddressDependent),
            "port-restricted-cone" => (M::EndpointIndependent, F::AddressAndPortDependent),
            "symmetric" => (M::AddressAndPortDependent, F::AddressAndPortDependent),
            _ => return None,
        })
    }

    /// The RFC 3489 name of this behaviour, if it has one.
    pub fn preset_name(&self) -> Option<&'static str> {
        [
            "full-cone",
            "restricted-cone",
            "port-restricted-cone",
            "symmetric",
        ]
        .into_iter()
        .find(|n| NatBehaviour::preset(n) == Some((self.mapping, self.filtering)))
    }
}

/// A NAT.
#[derive(Debug, Clone)]
pub struct Nat {
    /// Public pool.
    pub pool: Vec<IpNet>,
    /// Mapping and filtering.
    pub behaviour: NatBehaviour,
    /// Links on its outside.
    pub outside: Vec<LinkId>,
    /// Static one-to-one mappings: (public, private).
    pub static_mappings: Vec<(IpAddr, IpAddr)>,
    /// Whether inbound connections through a static mapping are also
    /// source-NATed (to a pool address), so replies come back through it.
    pub inbound_source_nat: bool,
    /// Sources it routes as they are (a NAT exemption, or "identity NAT"):
    /// public addresses of the owner's own that need no translation.
    pub exempt: Vec<IpNet>,
}

impl Nat {
    /// Whether packets from `ip` leave untranslated.
    pub fn exempts(&self, ip: IpAddr) -> bool {
        self.exempt.iter().any(|p| p.contains(&ip))
    }

    /// Whether the NAT translates packets of this tuple's address family:
    /// only families its pool has addresses in (IPv6 usually passes
    /// untranslated).
    pub fn translates(&self, tuple: &crate::net::packet::FiveTuple) -> bool {
        let v6 = tuple.src.is_ipv6();
        self.pool.iter().any(|p| matches!(p, IpNet::V6(_)) == v6)
    }
}

/// Kinds of traffic a proxy carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WebTraffic {
    /// Plain HTTP (TCP 80).
    Http,
    /// HTTPS (TCP 443).
    Https,
}

/// A web proxy.
#[derive(Debug, Clone)]
pub struct Proxy {
    /// Its address.
    pub address: IpAddr,
    /// The port clients connect to.
    pub port: u16,
    /// Which traffic it carries.
    pub carries: Vec<WebTraffic>,
    /// Whether `CONNECT` to TCP 443 works (TURN over TCP to an Edge).
    pub connect: bool,
    /// Whether it breaks and inspects TLS.
    pub tls_inspection: bool,
    /// The element its own connections leave by, if forced.
    pub egress: Option<NodeId>,
}

/// The kind of an Edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum EdgeKind {
    /// An on-premises Skype for Business Edge.
    Sfb,
    /// The Edge inside Cloud Connector Edition.
    CloudConnector,
    /// Another organization's on-premises Edge.
    Partner,
}

/// An Edge server: a TURN relay with an internal and an external side.
#[derive(Debug, Clone)]
pub struct Edge {
    /// Which kind.
    pub kind: EdgeKind,
    /// Internal address.
    pub internal: IpAddr,
    /// External (public) address.
    pub external: IpAddr,
    /// The link on the internal side.
    pub internal_link: LinkId,
    /// The link on the external side.
    pub external_link: LinkId,
}

/// The kinds of server.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ServerKind {
    /// On-premises Front End pool (registrar for on-premises users).
    FrontEnd,
    /// On-premises conferencing server.
    Conferencing,
    /// Mediation server.
    Mediation,
    /// PSTN gateway or SBC.
    PstnGateway,
    /// Cloud Connector Edition (its mediation part).
    CloudConnector,
    /// Microsoft: Online Edge / media relay.
    OnlineEdge,
    /// Microsoft: Online registrar (signaling).
    Registrar,
    /// Microsoft: Online conferencing (AV MCU, media processor).
    OnlineConferencing,
    /// Microsoft: Phone System (cloud PBX, Calling Plan).
    PhoneSystem,
    /// Microsoft: meeting broadcast service.
    Broadcast,
    /// Microsoft: other Microsoft 365 web services.
    Web,
    /// A content delivery network node.
    Cdn,
    /// DNS.
    Dns,
    /// Certificate revocation lists.
    Crl,
    /// Telemetry collection.
    Telemetry,
    /// The Skype consumer service.
    SkypeConsumer,
    /// Another organization's registrar and conferencing server.
    PartnerServer,
}

impl ServerKind {
    /// The word used in files.
    pub fn word(self) -> &'static str {
        match self {
            ServerKind::FrontEnd => "front-end",
            ServerKind::Conferencing => "conferencing",
            ServerKind::Mediation => "mediation",
            ServerKind::PstnGateway => "pstn-gateway",
            ServerKind::CloudConnector => "cloud-connector",
            ServerKind::OnlineEdge => "online-edge",
            ServerKind::Registrar => "registrar",
            ServerKind::OnlineConferencing => "online-conferencing",
            ServerKind::PhoneSystem => "phone-system",
            ServerKind::Broadcast => "broadcast",
            ServerKind::Web => "web",
            ServerKind::Cdn => "cdn",
            ServerKind::Dns => "dns",
            ServerKind::Crl => "crl",
            ServerKind::Telemetry => "telemetry",
            ServerKind::SkypeConsumer => "skype-consumer",
            ServerKind::PartnerServer => "partner-server",
        }
    }

    /// Whether this kind runs in a Microsoft region.
    pub fn is_microsoft(self) -> bool {
        matches!(
            self,
            ServerKind::OnlineEdge
                | ServerKind::Registrar
                | ServerKind::OnlineConferencing
                | ServerKind::PhoneSystem
                | ServerKind::Broadcast
                | ServerKind::Web
        )
    }
}

/// A server.
#[derive(Debug, Clone)]
pub struct Server {
    /// Which kind.
    pub kind: ServerKind,
    /// The region it runs in (Microsoft services).
    pub region: Option<RegionId>,
    /// The Edge its users reach it through from outside.
    pub edge: Option<NodeId>,
    /// The PSTN gateway it hands calls to.
    pub gateway: Option<NodeId>,
    /// Whether PSTN media may bypass it.
    pub media_bypass: bool,
}

/// The kind of a link.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinkKind {
    /// A LAN or an attachment inside a site.
    Lan,
    /// A WAN or MPLS link between sites.
    Wan,
    /// A link to an Internet provider.
    InternetAccess,
    /// One connection of an ExpressRoute circuit.
    ExpressRoute,
    /// Microsoft's backbone between regions.
    Backbone,
    /// Inside a Microsoft region (region router to a service).
    Datacenter,
}

impl LinkKind {
    /// The word used in files.
    pub fn word(self) -> &'static str {
        match self {
            LinkKind::Lan => "lan",
            LinkKind::Wan => "wan",
            LinkKind::InternetAccess => "internet-access",
            LinkKind::ExpressRoute => "expressroute",
            LinkKind::Backbone => "backbone",
            LinkKind::Datacenter => "datacenter",
        }
    }

    /// Whether routes cross domains over this link (BGP rather than IGP).
    pub fn is_border(self) -> bool {
        matches!(self, LinkKind::InternetAccess | LinkKind::ExpressRoute)
    }
}

/// Latency, jitter and loss of a path or of one link.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct PathQuality {
    /// One-way latency.
    #[serde(serialize_with = "crate::model::topology::ser_ms")]
    pub latency: SimDuration,
    /// Jitter.
    #[serde(serialize_with = "crate::model::topology::ser_ms")]
    pub jitter: SimDuration,
    /// Packet loss.
    pub loss: Ratio,
}

impl PathQuality {
    /// The quality of `self` followed by `next`: latencies add, jitters add
    /// as independent variances, losses combine.
    pub fn then(self, next: PathQuality) -> PathQuality {
        let (a, b) = (
            self.jitter.as_micros() as f64,
            next.jitter.as_micros() as f64,
        );
        PathQuality {
            latency: self.latency + next.latency,
            jitter: SimDuration::from_micros((a * a + b * b).sqrt().round() as u64),
            loss: self.loss.either(next.loss),
        }
    }
}

/// Serializes a duration as fractional milliseconds.
pub fn ser_ms<S: serde::Serializer>(d: &SimDuration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_millis_f64())
}

/// An SfB bandwidth policy profile; limits are one-way.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct BandwidthPolicy {
    /// Total audio.
    pub audio: Option<Bitrate>,
    /// Audio per session.
    pub audio_session: Option<Bitrate>,
    /// Total video.
    pub video: Option<Bitrate>,
    /// Video per session.
    pub video_session: Option<Bitrate>,
}

/// A link.
#[derive(Debug, Clone)]
pub struct Link {
    /// Its name, unique in the topology.
    pub name: String,
    /// What kind of link.
    pub kind: LinkKind,
    /// Which segment it belongs to.
    pub segment: Segment,
    /// Who runs it.
    pub owner: Owner,
    /// Capacity each way.
    pub capacity: Bitrate,
    /// Latency, jitter, loss.
    pub quality: PathQuality,
    /// Routing metric.
    pub cost: u32,
    /// Whether DSCP gets priority queues.
    pub qos: bool,
    /// Internet access: the customer prefixes announced to the provider
    /// (`None`: every public prefix the domain originates).
    pub advertise: Option<Vec<IpNet>>,
    /// Call admission control on this link.
    pub bandwidth_policy: Option<BandwidthPolicy>,
    /// The circuit and connection this link is, for ExpressRoute.
    pub circuit: Option<(CircuitId, Connection)>,
    /// Whether the link was implied by an element (`at = …`, a region's
    /// services, a remote location) rather than written as `[[link]]`.
    pub implicit: bool,
}

/// One of the two connections of a circuit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Connection {
    /// Carries traffic normally.
    Primary,
    /// Stands by; carries traffic when the primary is down.
    Secondary,
}

/// ExpressRoute SKU: how far a circuit reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sku {
    /// Regions local to the peering location.
    Local,
    /// Regions in the same geopolitical region.
    Standard,
    /// Every region.
    Premium,
}

impl Sku {
    /// The word used in files.
    pub fn word(self) -> &'static str {
        match self {
            Sku::Local => "local",
            Sku::Standard => "standard",
            Sku::Premium => "premium",
        }
    }
}

/// An ExpressRoute circuit with Microsoft peering.
#[derive(Debug, Clone)]
pub struct Circuit {
    /// Its name.
    pub name: String,
    /// The peering location (metro).
    pub peering_location: String,
    /// Bandwidth each way per connection.
    pub bandwidth: Bitrate,
    /// The SKU.
    pub sku: Sku,
    /// The router it ends on.
    pub customer_edge: NodeId,
    /// The region whose edge it lands on.
    pub microsoft_edge: RegionId,
    /// Regions its SKU reaches.
    pub reach: Vec<RegionId>,
    /// Communities its route filter admits.
    pub route_filter: Vec<Community>,
    /// Customer prefixes advertised to Microsoft.
    pub advertise: Vec<IpNet>,
    /// Whether DSCP is honoured.
    pub qos: bool,
    /// Local preference of routes learned over it.
    pub local_preference: u32,
    /// The primary connection.
    pub primary: LinkId,
    /// The secondary connection, if any.
    pub secondary: Option<LinkId>,
    /// Who owns it.
    pub owner: Owner,
}

/// A Microsoft region.
#[derive(Debug, Clone)]
pub struct Region {
    /// Its name.
    pub name: String,
    /// Its geopolitical region.
    pub geography: String,
    /// Peering locations local to it.
    pub peering_locations: Vec<String>,
    /// Prefixes it originates.
    pub prefixes: Vec<IpNet>,
    /// Its router.
    pub node: NodeId,
    /// Its services.
    pub services: Vec<NodeId>,
}

impl Region {
    /// The region's service of `kind`, if it hosts one.
    pub fn service(&self, topology: &Topology, kind: ServerKind) -> Option<NodeId> {
        self.services
            .iter()
            .copied()
            .find(|&s| matches!(&topology.node(s).kind, NodeKind::Server(srv) if srv.kind == kind))
    }
}

/// What a PAC rule matches.
#[derive(Debug, Clone, PartialEq)]
pub enum PacMatch {
    /// Destinations of a catalog category.
    Category(Category),
    /// Destinations in these prefixes.
    Addresses(Vec<IpNet>),
}

/// A PAC decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacAction {
    /// Connect directly.
    Direct,
    /// Connect through this proxy.
    Proxy(NodeId),
}

/// A proxy auto-config policy.
#[derive(Debug, Clone)]
pub struct Pac {
    /// Its name.
    pub name: String,
    /// Rules, first match wins; unmatched traffic goes direct.
    pub rules: Vec<(PacMatch, PacAction, String)>,
}

/// The kind of a remote location.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemoteKind {
    /// A home network.
    Home,
    /// A hotel network.
    Hotel,
    /// A coffee shop's Wi-Fi.
    CoffeeShop,
    /// A mobile carrier network.
    Mobile,
}

/// A remote location, expanded into a LAN, a NAT, maybe a firewall, and an
/// Internet access link.
#[derive(Debug, Clone)]
pub struct Remote {
    /// Its name.
    pub name: String,
    /// What kind of place.
    pub kind: RemoteKind,
    /// The clients' LAN.
    pub site: NodeId,
    /// Its NAT.
    pub nat: NodeId,
    /// Its firewall, if declared.
    pub firewall: Option<NodeId>,
}

/// The kind of another organization.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum OrgKind {
    /// A federated company with users homed Online.
    Online,
    /// A federated company running its own servers.
    OnPrem,
    /// Skype consumer users.
    SkypeConsumer,
}

/// Another organization, expanded into its users' LAN, its NAT and edge
/// router, and its servers or circuit.
#[derive(Debug, Clone)]
pub struct Organization {
    /// Its name.
    pub name: String,
    /// What kind.
    pub kind: OrgKind,
    /// Where its Online users are homed.
    pub home_region: Option<RegionId>,
    /// Its users' LAN.
    pub site: NodeId,
    /// Its own Edge (on-prem partners).
    pub edge: Option<NodeId>,
    /// Its own registrar/conferencing server (on-prem partners) or the
    /// Skype consumer service.
    pub server: Option<NodeId>,
    /// Its own circuit, if any.
    pub circuit: Option<CircuitId>,
}

impl Topology {
    /// An element.
    pub fn node(&self, id: NodeId) -> &Node {
        &self.graph[id.0]
    }

    /// A link.
    pub fn link(&self, id: LinkId) -> &Link {
        &self.graph[id.0]
    }

    /// A link's two ends.
    pub fn ends(&self, id: LinkId) -> (NodeId, NodeId) {
        let (a, b) = self
            .graph
            .edge_endpoints(id.0)
            .expect("a validated link has two ends");
        (NodeId(a), NodeId(b))
    }

    /// The far end of `link` seen from `from`.
    pub fn other_end(&self, link: LinkId, from: NodeId) -> NodeId {
        let (a, b) = self.ends(link);
        if a == from { b } else { a }
    }

    /// Every element, in declaration order.
    pub fn nodes(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.graph.node_indices().map(NodeId)
    }

    /// Every link, in declaration order.
    pub fn links(&self) -> impl Iterator<Item = LinkId> + '_ {
        self.graph.edge_indices().map(LinkId)
    }

    /// The links touching `node`, in declaration order.
    pub fn links_of(&self, node: NodeId) -> Vec<LinkId> {
        let mut v: Vec<LinkId> = self.graph.edges(node.0).map(|e| LinkId(e.id())).collect();
        v.sort();
        v
    }

    /// An element by name.
    pub fn node_named(&self, name: &str) -> Option<NodeId> {
        match self.names.get(name) {
            Some(Named::Node(n)) => Some(*n),
            Some(Named::Region(r)) => Some(self.regions[r.0 as usize].node),
            Some(Named::Remote(r)) => Some(self.remotes[r.0 as usize].site),
            Some(Named::Organization(o)) => Some(self.organizations[o.0 as usize].site),
            _ => None,
        }
    }

    /// A link by name.
    pub fn link_named(&self, name: &str) -> Option<LinkId> {
        match self.names.get(name) {
            Some(Named::Link(l)) => Some(*l),
            _ => None,
        }
    }

    /// A region.
    pub fn region(&self, id: RegionId) -> &Region {
        &self.regions[id.0 as usize]
    }

    /// A circuit.
    pub fn circuit(&self, id: CircuitId) -> &Circuit {
        &self.circuits[id.0 as usize]
    }

    /// The tenant's home region.
    pub fn home_region(&self) -> &Region {
        self.region(self.tenant.home_region)
    }
}

/// Whether a prefix is private or special-use (RFC 1918, shared address
/// space, loopback, link-local, IPv6 unique-local): never routed on the
/// Internet nor accepted on Microsoft peering.
pub fn is_private(p: &IpNet) -> bool {
    const PRIVATE: [&str; 7] = [
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "fc00::/7",
    ];
    PRIVATE
        .iter()
        .any(|q| q.parse::<IpNet>().is_ok_and(|q| q.contains(p)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_prefixes_are_recognised() {
        assert!(is_private(&"10.1.0.0/16".parse().unwrap()));
        assert!(is_private(&"fd00:1::/48".parse().unwrap()));
        assert!(!is_private(&"198.51.100.0/28".parse().unwrap()));
        assert!(!is_private(&"2001:db8:1::/48".parse().unwrap()));
    }
}
