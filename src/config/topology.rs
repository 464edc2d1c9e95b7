//! The topology file as written: sites, devices, servers, Microsoft regions,
//! remote locations, other organizations, links and ExpressRoute circuits.
//!
//! Every struct mirrors one TOML table; `docs/topology.md` is the reference
//! for the format and is kept true by a test that loads its examples.
//! Names and references are `Spanned` so the validator can point at them;
//! quantities are strings with units (`"500Mbps"`, `"20ms"`, `"0.1%"`).

use serde::Deserialize;
use toml::Spanned;

use super::{Tree, read, read_array, unknown_section};
use crate::diag::{Diagnostics, SourceFile};

/// A name or a reference to one, with its place in the file.
pub type Name = Spanned<String>;
/// A quantity with units, as written.
pub type Quantity = Spanned<String>;
/// One string or several (`dst = "any"` or `dst = ["10.0.0.0/8", "skype-teams-media"]`).
pub type OneOrMany = Spanned<StringOrList>;

/// A string or a list of strings.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum StringOrList {
    /// A single string.
    One(String),
    /// A list of strings.
    Many(Vec<String>),
}

impl StringOrList {
    /// The strings, in the order written.
    pub fn items(&self) -> Vec<&str> {
        match self {
            StringOrList::One(s) => vec![s.as_str()],
            StringOrList::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

/// The whole topology file.
#[derive(Debug, Clone, Default)]
pub struct RawTopology {
    /// The topology's name (defaults to the file stem).
    pub name: Option<Name>,
    /// A sentence on what it shows.
    pub description: Option<String>,
    /// Which Microsoft endpoint catalog to use (`"microsoft-365"`, the built-in).
    pub endpoints: Option<Name>,
    /// The tenant: its home region.
    pub tenant: Option<Spanned<RawTenant>>,
    /// Settings of the Internet node.
    pub internet: Option<RawInternet>,
    /// Named address sets of the planner's own.
    pub address_sets: Vec<RawAddressSet>,
    /// Microsoft regions.
    pub regions: Vec<RawRegion>,
    /// Offices, datacenters and DMZs.
    pub sites: Vec<RawSite>,
    /// Routers, customer edges among them.
    pub routers: Vec<RawRouter>,
    /// Firewalls.
    pub firewalls: Vec<RawFirewall>,
    /// NATs.
    pub nats: Vec<RawNat>,
    /// Web proxies.
    pub proxies: Vec<RawProxy>,
    /// Proxy auto-config policies.
    pub pacs: Vec<RawPac>,
    /// On-premises and Cloud Connector Edge servers.
    pub edges: Vec<RawEdge>,
    /// Servers: Front End pools, conferencing, mediation, gateways, Internet services.
    pub servers: Vec<RawServer>,
    /// Remote locations: home, hotel, coffee shop.
    pub remotes: Vec<RawRemote>,
    /// Other organizations: federated partners, Skype consumer.
    pub organizations: Vec<RawOrganization>,
    /// Links between elements.
    pub links: Vec<RawLink>,
    /// ExpressRoute circuits.
    pub circuits: Vec<RawCircuit>,
    /// Circuit sizing settings and the user's prices.
    pub sizing: Option<RawSizing>,
    /// Names of elements that could not be read (so they are not reported as missing).
    pub broken_names: Vec<String>,
}

/// The top-level keys of a topology file.
pub const TOPOLOGY_KEYS: &[&str] = &[
    "name",
    "description",
    "endpoints",
    "tenant",
    "internet",
    "address_set",
    "region",
    "site",
    "router",
    "firewall",
    "nat",
    "proxy",
    "pac",
    "edge",
    "server",
    "remote",
    "organization",
    "link",
    "circuit",
    "sizing",
];

impl RawTopology {
    /// Reads a parsed topology document, recording every problem in `diags`.
    pub fn read(file: &SourceFile, tree: &Tree<'_>, diags: &mut Diagnostics) -> RawTopology {
        let mut t = RawTopology::default();
        let mut broken = Vec::new();
        for (key, value) in tree.get_ref().iter() {
            let b = &mut broken;
            match key.get_ref().as_ref() {
                "name" => t.name = read(file, value, None, diags),
                "description" => t.description = read(file, value, None, diags),
                "endpoints" => t.endpoints = read(file, value, None, diags),
                "tenant" => t.tenant = read(file, value, Some("tenant"), diags),
                "internet" => t.internet = read(file, value, Some("internet"), diags),
                "address_set" => t.address_sets = read_array(file, value, "address_set", diags, b),
                "region" => t.regions = read_array(file, value, "region", diags, b),
                "site" => t.sites = read_array(file, value, "site", diags, b),
                "router" => t.routers = read_array(file, value, "router", diags, b),
                "firewall" => t.firewalls = read_array(file, value, "firewall", diags, b),
                "nat" => t.nats = read_array(file, value, "nat", diags, b),
                "proxy" => t.proxies = read_array(file, value, "proxy", diags, b),
                "pac" => t.pacs = read_array(file, value, "pac", diags, b),
                "edge" => t.edges = read_array(file, value, "edge", diags, b),
                "server" => t.servers = read_array(file, value, "server", diags, b),
                "remote" => t.remotes = read_array(file, value, "remote", diags, b),
                "organization" => {
                    t.organizations = read_array(file, value, "organization", diags, b)
                }
                "link" => t.links = read_array(file, value, "link", diags, b),
                "circuit" => t.circuits = read_array(file, value, "circuit", diags, b),
                "sizing" => t.sizing = read(file, value, Some("sizing"), diags),
                _ => unknown_section(file, key, TOPOLOGY_KEYS, diags),
            }
        }
        t.broken_names = broken;
        t
    }
}

/// `[tenant]`: whose network this is.
#[derive(Debug, Clone, Deserialize)]
pub struct RawTenant {
    /// The tenant's name.
    pub name: Option<String>,
    /// The Microsoft region the tenant's Online users are homed in.
    pub home_region: Name,
}

/// `[internet]`: the public Internet as one transit node.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct RawInternet {
    /// Extra one-way latency for crossing the Internet.
    pub latency: Option<Quantity>,
    /// Extra jitter for crossing the Internet.
    pub jitter: Option<Quantity>,
    /// Loss added by crossing the Internet.
    pub loss: Option<Quantity>,
}

/// `[sizing]`: how circuits are sized, and what they cost.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct RawSizing {
    /// The share of a circuit to leave free at the busy hour's P99
    /// (`"30%"`); 20% when left out.
    pub headroom: Option<Quantity>,
    /// The currency the prices are in (`"USD"`).
    pub currency: Option<Spanned<String>>,
    /// Monthly prices per circuit tier, as the user found them.
    #[serde(default)]
    pub price: Vec<RawPrice>,
}

/// `[[sizing.price]]`: the monthly price of one circuit tier.
#[derive(Debug, Clone, Deserialize)]
pub struct RawPrice {
    /// The tier's bandwidth (`"200Mbps"`).
    pub tier: Quantity,
    /// Its monthly price, in the `[sizing]` currency.
    pub monthly: Spanned<f64>,
}

/// `[[address_set]]`: a planner-defined named list of prefixes.
#[derive(Debug, Clone, Deserialize)]
pub struct RawAddressSet {
    /// The set's name, used in firewall rules and PAC rules.
    pub name: Name,
    /// Its prefixes, IPv4 or IPv6.
    pub prefixes: Vec<Spanned<String>>,
}

/// `[[region]]`: a Microsoft region with its edge and services.
#[derive(Debug, Clone, Deserialize)]
pub struct RawRegion {
    /// The region's name (e.g. `us-east`).
    pub name: Name,
    /// Its geopolitical region, which decides what a Standard circuit reaches.
    pub geography: Name,
    /// Peering locations (metros) local to this region, for Local circuits.
    #[serde(default)]
    pub peering_locations: Vec<Spanned<String>>,
    /// Prefixes this region originates; each must lie in the endpoint catalog.
    pub prefixes: Vec<Spanned<String>>,
    /// The region's peering with the Internet.
    pub internet: Option<RawLinkProperties>,
    /// Services hosted here.
    #[serde(default)]
    pub service: Vec<RawService>,
}

/// `[[region.service]]`: a Microsoft service instance in a region.
#[derive(Debug, Clone, Deserialize)]
pub struct RawService {
    /// Its name (defaults to `<region>-<kind>`).
    pub name: Option<Name>,
    /// `online-edge`, `registrar`, `conferencing`, `phone-system`, `broadcast` or `web`.
    pub kind: Name,
    /// Its IPv4 address, inside the region's prefixes.
    pub address: Option<Spanned<String>>,
    /// Its IPv6 address, inside the region's prefixes.
    pub ipv6: Option<Spanned<String>>,
}

/// Link numbers without ends (used where the ends are implied).
#[derive(Debug, Clone, Deserialize, Default)]
pub struct RawLinkProperties {
    /// Capacity each way.
    pub capacity: Option<Quantity>,
    /// One-way latency.
    pub latency: Option<Quantity>,
    /// Jitter.
    pub jitter: Option<Quantity>,
    /// Packet loss.
    pub loss: Option<Quantity>,
}

/// `[[site]]`: an office, datacenter or DMZ: a LAN with hosts.
#[derive(Debug, Clone, Deserialize)]
pub struct RawSite {
    /// The site's name.
    pub name: Name,
    /// `office`, `datacenter` or `dmz`.
    pub kind: Option<Name>,
    /// Subnets, IPv4 and IPv6.
    pub subnets: Vec<Spanned<String>>,
    /// The PAC policy clients here use.
    pub pac: Option<Name>,
    /// The metro or city, for drawing and for reading.
    pub location: Option<String>,
}

/// `[[router]]`: forwards by its route table.
#[derive(Debug, Clone, Deserialize)]
pub struct RawRouter {
    /// The router's name.
    pub name: Name,
    /// The site it stands in (for drawing).
    pub site: Option<Name>,
    /// Static routes.
    #[serde(default)]
    pub routes: Vec<RawRoute>,
}

/// A static route.
#[derive(Debug, Clone, Deserialize)]
pub struct RawRoute {
    /// The destination prefix.
    pub prefix: Spanned<String>,
    /// The link to send matching packets on.
    pub via: Name,
}

/// `[[firewall]]`: filters by ordered rules, with or without state.
#[derive(Debug, Clone, Deserialize)]
pub struct RawFirewall {
    /// The firewall's name.
    pub name: Name,
    /// Whether it keeps sessions (replies pass without a rule of their own).
    #[serde(default = "yes")]
    pub stateful: bool,
    /// How long an idle session lives.
    pub idle_timeout: Option<Quantity>,
    /// What happens to packets no rule matches: `deny` (default) or `allow`.
    pub default: Option<Name>,
    /// Rules, first match wins.
    #[serde(default)]
    pub rule: Vec<RawRule>,
    /// The site it stands in (for drawing).
    pub site: Option<Name>,
}

/// A firewall rule.
#[derive(Debug, Clone, Deserialize)]
pub struct RawRule {
    /// `allow` or `deny`.
    pub action: Name,
    /// `udp`, `tcp` or `any` (default).
    pub protocol: Option<Name>,
    /// Source: prefixes, address-set names, or `any` (default).
    pub src: Option<OneOrMany>,
    /// Destination: prefixes, address-set names, or `any` (default).
    pub dst: Option<OneOrMany>,
    /// Source ports (`"50000-50019"`, `"443"`); any when absent.
    pub src_ports: Option<OneOrMany>,
    /// Destination ports; any when absent.
    pub dst_ports: Option<OneOrMany>,
    /// A note shown when the rule matches.
    pub note: Option<String>,
}

/// NAT mapping and filtering, by RFC 4787 behaviour or by RFC 3489 preset.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct RawNatBehaviour {
    /// `full-cone`, `restricted-cone`, `port-restricted-cone` or `symmetric`.
    pub preset: Option<Name>,
    /// `endpoint-independent`, `address-dependent` or `address-and-port-dependent`.
    pub mapping: Option<Name>,
    /// Same vocabulary as `mapping`.
    pub filtering: Option<Name>,
    /// Whether inside hosts can reach each other's public mappings.
    pub hairpinning: Option<bool>,
    /// How long an idle UDP mapping lives.
    pub mapping_timeout: Option<Quantity>,
    /// Ports available per public address.
    pub port_capacity: Option<Spanned<i64>>,
}

/// `[[nat]]`: translates addresses between inside and outside.
#[derive(Debug, Clone, Deserialize)]
pub struct RawNat {
    /// The NAT's name.
    pub name: Name,
    /// Public pool prefixes.
    pub pool: Vec<Spanned<String>>,
    /// The links on its outside; every other link is inside.
    pub outside: Vec<Name>,
    /// `full-cone`, `restricted-cone`, `port-restricted-cone` or `symmetric`.
    pub preset: Option<Name>,
    /// `endpoint-independent`, `address-dependent` or `address-and-port-dependent`.
    pub mapping: Option<Name>,
    /// Same vocabulary as `mapping`.
    pub filtering: Option<Name>,
    /// Whether inside hosts can reach each other's public mappings.
    pub hairpinning: Option<bool>,
    /// How long an idle UDP mapping lives.
    pub mapping_timeout: Option<Quantity>,
    /// Ports available per public address.
    pub port_capacity: Option<Spanned<i64>>,
    /// Static one-to-one mappings for published servers.
    #[serde(default)]
    pub static_mappings: Vec<RawStaticMapping>,
    /// Whether inbound connections through a static mapping are also
    /// source-NATed to the NAT's inside address, so replies come back through it.
    #[serde(default)]
    pub inbound_source_nat: bool,
    /// Source prefixes it routes untranslated (NAT exemption).
    #[serde(default)]
    pub exempt: Vec<Spanned<String>>,
    /// The site it stands in (for drawing).
    pub site: Option<Name>,
}

/// A static NAT entry.
#[derive(Debug, Clone, Deserialize)]
pub struct RawStaticMapping {
    /// The public address.
    pub public: Spanned<String>,
    /// The inside address it stands for.
    pub private: Spanned<String>,
}

/// `[[proxy]]`: an HTTP(S) proxy clients are sent to by PAC rules.
#[derive(Debug, Clone, Deserialize)]
pub struct RawProxy {
    /// The proxy's name.
    pub name: Name,
    /// Its address.
    pub address: Spanned<String>,
    /// The port clients connect to (default 8080).
    pub port: Option<Spanned<i64>>,
    /// The element it hangs off (an implicit LAN link is made to it).
    pub at: Option<Name>,
    /// Which traffic it carries: `http`, `https` (default both).
    pub carries: Option<Vec<Name>>,
    /// Whether it lets clients `CONNECT` to TCP 443 (TURN over TCP to an Edge).
    #[serde(default = "yes")]
    pub connect: bool,
    /// Whether it breaks and inspects TLS.
    #[serde(default)]
    pub tls_inspection: bool,
    /// The element its own connections leave by (its default route).
    pub egress: Option<Name>,
}

/// `[[pac]]`: a proxy auto-config policy.
#[derive(Debug, Clone, Deserialize)]
pub struct RawPac {
    /// The policy's name.
    pub name: Name,
    /// Rules, first match wins; unmatched traffic goes direct.
    pub rule: Vec<RawPacRule>,
}

/// A PAC rule.
#[derive(Debug, Clone, Deserialize)]
pub struct RawPacRule {
    /// A category (`optimize`, `allow`, `default`), an address-set name, or a prefix.
    #[serde(rename = "match")]
    pub matches: Name,
    /// `direct` or `proxy`.
    pub action: Name,
    /// The proxy, when the action is `proxy`.
    pub proxy: Option<Name>,
}

/// One side of an Edge server.
#[derive(Debug, Clone, Deserialize)]
pub struct RawInterface {
    /// The address on this side.
    pub address: Spanned<String>,
    /// The element this side hangs off (an implicit link is made to it).
    pub at: Name,
}

/// `[[edge]]`: an on-premises SfB Edge or the Cloud Connector's Edge.
#[derive(Debug, Clone, Deserialize)]
pub struct RawEdge {
    /// The Edge's name.
    pub name: Name,
    /// `sfb` (default) or `cloud-connector`.
    pub kind: Option<Name>,
    /// The internal side.
    pub internal: RawInterface,
    /// The external side, with its public address.
    pub external: RawInterface,
}

/// `[[server]]`: a server inside the network or on the Internet.
#[derive(Debug, Clone, Deserialize)]
pub struct RawServer {
    /// The server's name.
    pub name: Name,
    /// `front-end`, `conferencing`, `mediation`, `pstn-gateway`,
    /// `cloud-connector`, `cdn`, `dns`, `crl`, `telemetry`, `skype-consumer`, `web`.
    pub kind: Name,
    /// Its IPv4 address.
    pub address: Option<Spanned<String>>,
    /// Its IPv6 address.
    pub ipv6: Option<Spanned<String>>,
    /// The element it hangs off (an implicit LAN link is made to it).
    pub at: Option<Name>,
    /// The Edge its users reach it through from outside (Front End, Cloud Connector).
    pub edge: Option<Name>,
    /// The PSTN gateway a mediation server or Cloud Connector hands calls to.
    pub gateway: Option<Name>,
    /// Whether PSTN media may bypass the mediation server.
    #[serde(default)]
    pub media_bypass: bool,
}

/// `[[remote]]`: a place outside the network (home, hotel, coffee shop).
#[derive(Debug, Clone, Deserialize)]
pub struct RawRemote {
    /// The location's name.
    pub name: Name,
    /// `home`, `hotel`, `coffee-shop` or `mobile`.
    pub kind: Name,
    /// The private subnet clients get addresses from.
    pub subnet: Spanned<String>,
    /// The NAT's public address.
    pub public: Spanned<String>,
    /// Its NAT's behaviour (default: port-restricted cone).
    pub nat: Option<RawNatBehaviour>,
    /// Its firewall, if it has one beyond the NAT.
    pub firewall: Option<RawInlineFirewall>,
    /// Its Internet access link.
    pub access: Option<RawLinkProperties>,
    /// Whether it connects into the corporate network by VPN (not modelled: an error).
    pub vpn: Option<Spanned<bool>>,
}

/// A firewall declared inside another element.
#[derive(Debug, Clone, Deserialize)]
pub struct RawInlineFirewall {
    /// Whether it keeps sessions.
    #[serde(default = "yes")]
    pub stateful: bool,
    /// How long an idle session lives.
    pub idle_timeout: Option<Quantity>,
    /// `deny` or `allow` (default) for unmatched packets.
    pub default: Option<Name>,
    /// Rules, first match wins.
    #[serde(default)]
    pub rule: Vec<RawRule>,
}

/// `[[organization]]`: another company, or Skype consumer.
#[derive(Debug, Clone, Deserialize)]
pub struct RawOrganization {
    /// The organization's name.
    pub name: Name,
    /// `online`, `on-prem` or `skype-consumer`.
    pub kind: Name,
    /// Where its Online users are homed (kind `online`).
    pub home_region: Option<Name>,
    /// The private subnet of its users.
    pub subnet: Spanned<String>,
    /// The public address its users' traffic leaves from.
    pub public: Spanned<String>,
    /// Its NAT's behaviour.
    pub nat: Option<RawNatBehaviour>,
    /// Its client firewall.
    pub firewall: Option<RawInlineFirewall>,
    /// Its Internet access link.
    pub access: Option<RawLinkProperties>,
    /// Its own Edge server (kind `on-prem`): public address.
    pub edge: Option<Spanned<String>>,
    /// Its conferencing/registrar server behind the Edge (kind `on-prem`).
    pub server: Option<Spanned<String>>,
    /// Its own ExpressRoute circuit, if it has one.
    pub expressroute: Option<RawPartnerCircuit>,
}

/// A partner organization's own circuit.
#[derive(Debug, Clone, Deserialize)]
pub struct RawPartnerCircuit {
    /// The Microsoft region it lands in.
    pub region: Name,
    /// The partner's NAT pool for Microsoft peering (advertised on the circuit).
    pub public: Spanned<String>,
    /// Circuit bandwidth.
    pub bandwidth: Option<Quantity>,
    /// One-way latency.
    pub latency: Option<Quantity>,
    /// Route filter communities (default: Skype/Teams, 12076:5030).
    pub route_filter: Option<Vec<Spanned<String>>>,
}

/// `[[link]]`: a link between two elements.
#[derive(Debug, Clone, Deserialize)]
pub struct RawLink {
    /// The link's name.
    pub name: Name,
    /// `lan`, `wan`, `internet-access`, `backbone` or `datacenter`.
    pub kind: Name,
    /// Its two ends, by element name.
    pub ends: Spanned<Vec<Name>>,
    /// Capacity each way.
    pub capacity: Option<Quantity>,
    /// One-way latency.
    pub latency: Option<Quantity>,
    /// Jitter.
    pub jitter: Option<Quantity>,
    /// Packet loss.
    pub loss: Option<Quantity>,
    /// Routing metric (default: latency in tenths of a millisecond, at least 1).
    pub cost: Option<Spanned<i64>>,
    /// Whether routers honour DSCP with priority queues.
    #[serde(default)]
    pub qos: bool,
    /// `internet-access` only: the customer prefixes announced to the ISP
    /// (default: every public prefix the network originates).
    pub advertise: Option<Vec<Spanned<String>>>,
    /// An SfB bandwidth policy profile (call admission control).
    pub bandwidth_policy: Option<RawBandwidthPolicy>,
}

/// An SfB bandwidth policy profile; all limits one-way.
#[derive(Debug, Clone, Deserialize)]
pub struct RawBandwidthPolicy {
    /// Total audio.
    pub audio: Option<Quantity>,
    /// Audio per session.
    pub audio_session: Option<Quantity>,
    /// Total video.
    pub video: Option<Quantity>,
    /// Video per session.
    pub video_session: Option<Quantity>,
}

/// `[[circuit]]`: an ExpressRoute circuit with Microsoft peering.
#[derive(Debug, Clone, Deserialize)]
pub struct RawCircuit {
    /// The circuit's name.
    pub name: Name,
    /// The peering location (metro) where it meets Microsoft.
    pub peering_location: Spanned<String>,
    /// Bandwidth each way, per connection.
    pub bandwidth: Quantity,
    /// `local`, `standard` or `premium`.
    pub sku: Name,
    /// The customer edge router it ends on.
    pub customer_edge: Name,
    /// The Microsoft region whose edge it lands on.
    pub microsoft_edge: Name,
    /// BGP communities the route filter admits (e.g. `"12076:5030"`).
    pub route_filter: Vec<Spanned<String>>,
    /// Customer public prefixes advertised to Microsoft.
    #[serde(default)]
    pub advertise: Vec<Spanned<String>>,
    /// Whether DSCP is honoured (QoS on Microsoft peering).
    #[serde(default)]
    pub qos: bool,
    /// Whether the secondary connection exists (default true).
    #[serde(default = "yes")]
    pub secondary: bool,
    /// Local preference for routes learned over this circuit (default 100).
    pub local_preference: Option<Spanned<i64>>,
    /// One-way latency.
    pub latency: Option<Quantity>,
    /// Jitter.
    pub jitter: Option<Quantity>,
    /// Packet loss.
    pub loss: Option<Quantity>,
    /// An SfB bandwidth policy profile on the circuit.
    pub bandwidth_policy: Option<RawBandwidthPolicy>,
}

impl RawNat {
    /// Its mapping and filtering settings, in the form inline NATs use.
    pub fn behaviour(&self) -> RawNatBehaviour {
        RawNatBehaviour {
            preset: self.preset.clone(),
            mapping: self.mapping.clone(),
            filtering: self.filtering.clone(),
            hairpinning: self.hairpinning,
            mapping_timeout: self.mapping_timeout.clone(),
            port_capacity: self.port_capacity.clone(),
        }
    }
}

fn yes() -> bool {
    true
}
