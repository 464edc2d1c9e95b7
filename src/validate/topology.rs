//! Topology validation: raw topology in, [`Topology`] out.
//!
//! Builds the graph in file order (so equal-cost choices are stable), in
//! passes: every element first (so references can resolve in any order),
//! then links (explicit, implied by `at`, implied by regions, remote
//! locations and organizations, and each circuit's connections), then the
//! settings that refer to links, then the checks that need the whole picture.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::ops::Range;
use std::str::FromStr;

use ipnet::IpNet;
use petgraph::graph::UnGraph;
use toml::Spanned;

use crate::config::topology::*;
use crate::diag::{Diagnostics, SourceFile, did_you_mean, element};
use crate::endpoints::{Category, Community, EndpointCatalog};
use crate::model::*;
use crate::time::SimDuration;
use crate::units::{Bitrate, Ratio, parse_duration};

/// Validates a raw topology. Returns `None` when it is too broken to build;
/// problems are added to `diags` either way.
pub fn validate_topology(
    file: &SourceFile,
    raw: &RawTopology,
    diags: &mut Diagnostics,
) -> Option<Topology> {
    build_topology(file, raw, diags).0
}

/// [`validate_topology`], also returning the names of the elements that
/// failed to build (each already reported where it is declared), so a
/// scenario naming one is not reported again.
pub(crate) fn build_topology(
    file: &SourceFile,
    raw: &RawTopology,
    diags: &mut Diagnostics,
) -> (Option<Topology>, BTreeSet<String>) {
    let mut b = Builder::new(file, raw, diags);
    b.elements();
    b.links();
    b.circuits();
    b.settings_with_links();
    b.endpoints();
    b.tenant();
    b.checks();
    let broken = std::mem::take(&mut b.broken);
    (b.finish(), broken)
}

/// `[sizing]` checked: a headroom below 100%, prices only for tiers that
/// are sold, each once, finite and not negative, with a currency.
fn sizing_settings(
    file: &SourceFile,
    raw: Option<&crate::config::topology::RawSizing>,
    diags: &mut Diagnostics,
) -> SizingSettings {
    let mut out = SizingSettings::default();
    let Some(raw) = raw else { return out };
    let label = Some("sizing".to_string());
    if let Some(q) = &raw.headroom {
        match q.get_ref().parse::<Ratio>() {
            Ok(r) if r.get() < 1.0 => out.headroom = r,
            Ok(_) => {
                diags.error(
                    file,
                    &q.span(),
                    label.clone(),
                    "headroom must be below 100%",
                );
            }
            Err(e) => {
                diags.error(file, &q.span(), label.clone(), e.to_string());
            }
        }
    }
    out.currency = raw.currency.as_ref().map(|c| c.get_ref().clone());
    for p in &raw.price {
        let tier = match p.tier.get_ref().parse::<Bitrate>() {
            Ok(b) if crate::sizing::tier_of(b).is_some() => b,
            Ok(b) => {
                let sold: Vec<String> = crate::sizing::TIERS
                    .iter()
                    .map(|t| t.bandwidth.to_string())
                    .collect();
                let d = diags.error(
                    file,
                    &p.tier.span(),
                    label.clone(),
                    format!("no circuit tier of {b} is sold"),
                );
                d.help = Some(format!("tiers: {}", sold.join(", ")));
                continue;
            }
            Err(e) => {
                diags.error(file, &p.tier.span(), label.clone(), e.to_string());
                continue;
            }
        };
        let monthly = *p.monthly.get_ref();
        if !monthly.is_finite() || monthly < 0.0 {
            diags.error(
                file,
                &p.monthly.span(),
                label.clone(),
                "a monthly price must be a number of at least zero",
            );
            continue;
        }
        if out.price(tier).is_some() {
            diags.error(
                file,
                &p.tier.span(),
                label.clone(),
                format!("the tier {tier} is priced twice"),
            );
            continue;
        }
        out.prices.push((tier, monthly));
    }
    if !raw.price.is_empty() && out.currency.is_none() {
        let span = raw.price[0].tier.span();
        let d = diags.error(file, &span, label, "prices need a currency");
        d.help = Some("add `currency = \"USD\"` (or yours) to `[sizing]`".into());
    }
    out.prices.sort_by_key(|(b, _)| *b);
    out
}

/// The name topologies use for the shipped endpoint catalog.
pub const BUILTIN_CATALOG: &str = "microsoft-365";

/// Defaults for a link kind when the file leaves numbers out.
struct LinkDefaults {
    capacity: Option<Bitrate>,
    latency: SimDuration,
    jitter: SimDuration,
    loss: f64,
}

fn link_defaults(kind: LinkKind) -> LinkDefaults {
    let ms = SimDuration::from_micros;
    match kind {
        LinkKind::Lan => LinkDefaults {
            capacity: Some(Bitrate::gbps(1)),
            latency: ms(200),
            jitter: ms(100),
            loss: 0.0,
        },
        LinkKind::Wan => LinkDefaults {
            capacity: None,
            latency: ms(10_000),
            jitter: ms(1_000),
            loss: 0.0001,
        },
        LinkKind::InternetAccess => LinkDefaults {
            capacity: None,
            latency: ms(5_000),
            jitter: ms(1_000),
            loss: 0.0005,
        },
        LinkKind::ExpressRoute => LinkDefaults {
            capacity: None,
            latency: ms(2_000),
            jitter: ms(500),
            loss: 0.0,
        },
        LinkKind::Backbone => LinkDefaults {
            capacity: Some(Bitrate::gbps(100)),
            latency: ms(30_000),
            jitter: ms(500),
            loss: 0.0,
        },
        LinkKind::Datacenter => LinkDefaults {
            capacity: Some(Bitrate::gbps(100)),
            latency: ms(100),
            jitter: ms(50),
            loss: 0.0,
        },
    }
}

/// A link to be made once every node exists.
struct PendingLink {
    name: String,
    kind: LinkKind,
    a: NodeId,
    b: NodeId,
    props: RawLinkProperties,
    owner: Option<Owner>,
    span: Range<usize>,
    label: String,
    cost: Option<Spanned<i64>>,
    qos: bool,
    advertise: Option<Vec<Spanned<String>>>,
    policy: Option<RawBandwidthPolicy>,
    circuit: Option<(CircuitId, Connection)>,
    implicit: bool,
}

struct Builder<'a> {
    file: &'a SourceFile,
    raw: &'a RawTopology,
    diags: &'a mut Diagnostics,
    catalog: &'static EndpointCatalog,
    graph: UnGraph<Node, Link>,
    names: BTreeMap<String, Named>,
    spans: BTreeMap<String, Range<usize>>,
    broken: BTreeSet<String>,
    internet: NodeId,
    regions: Vec<Region>,
    circuits: Vec<Circuit>,
    pacs: Vec<Pac>,
    remotes: Vec<Remote>,
    organizations: Vec<Organization>,
    address_sets: BTreeMap<String, Vec<IpNet>>,
    pending: Vec<PendingLink>,
    tenant: Option<Tenant>,
    /// Raw elements whose link-dependent settings are resolved after links.
    nat_raw: Vec<(NodeId, &'a RawNat)>,
    router_raw: Vec<(NodeId, &'a RawRouter)>,
    edge_raw: Vec<(NodeId, &'a RawEdge)>,
    /// Edges' implicit link indices into `pending`, to resolve after links.
    edge_links: Vec<(NodeId, usize, usize)>,
    /// Generated NAT outside links: (nat, pending index).
    generated_outside: Vec<(NodeId, usize)>,
    pending_ids: Vec<Option<LinkId>>,
}

impl<'a> Builder<'a> {
    fn new(file: &'a SourceFile, raw: &'a RawTopology, diags: &'a mut Diagnostics) -> Self {
        let mut graph = UnGraph::default();
        let internet = NodeId(graph.add_node(Node {
            name: "internet".into(),
            kind: NodeKind::Internet,
            domain: Domain::Internet,
            addresses: vec![],
            originates: vec![],
            lane: Segment::Internet,
        }));
        let mut names = BTreeMap::new();
        names.insert("internet".to_string(), Named::Node(internet));
        Builder {
            file,
            raw,
            diags,
            catalog: EndpointCatalog::builtin(),
            graph,
            names,
            spans: BTreeMap::new(),
            broken: raw.broken_names.iter().cloned().collect(),
            internet,
            regions: vec![],
            circuits: vec![],
            pacs: vec![],
            remotes: vec![],
            organizations: vec![],
            address_sets: BTreeMap::new(),
            pending: vec![],
            tenant: None,
            nat_raw: vec![],
            router_raw: vec![],
            edge_raw: vec![],
            edge_links: vec![],
            generated_outside: vec![],
            pending_ids: vec![],
        }
    }

    // ----- reporting helpers -------------------------------------------------

    fn err(&mut self, span: &Range<usize>, label: &str, message: impl Into<String>) {
        self.diags
            .error(self.file, span, Some(label.to_string()), message);
    }

    fn err_help(
        &mut self,
        span: &Range<usize>,
        label: &str,
        message: impl Into<String>,
        help: impl Into<String>,
    ) {
        self.diags
            .error(self.file, span, Some(label.to_string()), message)
            .help = Some(help.into());
    }

    /// Registers a name; reports a duplicate. Returns whether it was new.
    fn register(&mut self, name: &Spanned<String>, label: &str, what: Named) -> bool {
        self.register_str(name.get_ref(), &name.span(), label, what)
    }

    fn register_str(&mut self, name: &str, span: &Range<usize>, label: &str, what: Named) -> bool {
        if name.is_empty() {
            self.err(span, label, "a name cannot be empty");
            return false;
        }
        if let Some(first) = self
            .spans
            .get(name)
            .cloned()
            .or_else(|| (name == "internet").then_some(0..0))
        {
            let where_first = if first == (0..0) {
                "it is reserved for the Internet node".to_string()
            } else {
                format!("first used at {}", self.file.locate(&first))
            };
            self.err(
                span,
                label,
                format!("the name \"{name}\" is already taken ({where_first})"),
            );
            return false;
        }
        self.spans.insert(name.to_string(), span.clone());
        self.names.insert(name.to_string(), what);
        true
    }

    fn add_node(&mut self, name: &str, kind: NodeKind, domain: Domain, lane: Segment) -> NodeId {
        NodeId(self.graph.add_node(Node {
            name: name.to_string(),
            kind,
            domain,
            addresses: vec![],
            originates: vec![],
            lane,
        }))
    }

    /// The node declared with `name`, if that declaration holds the name: a
    /// duplicate-named element was reported where it is declared and is
    /// built no further (its name leads to the first holder, or to the
    /// reserved Internet node).
    fn node_of(&self, name: &Spanned<String>) -> Option<NodeId> {
        if self.spans.get(name.get_ref()) != Some(&name.span()) {
            return None;
        }
        match self.names.get(name.get_ref()) {
            Some(Named::Node(n)) => Some(*n),
            _ => None,
        }
    }

    /// Resolves a reference to a node, reporting unknown names with a suggestion.
    fn node_ref(&mut self, name: &Spanned<String>, label: &str, role: &str) -> Option<NodeId> {
        let n = name.get_ref();
        match self.names.get(n.as_str()) {
            Some(Named::Node(id)) => Some(*id),
            Some(Named::Region(r)) => Some(self.regions[r.0 as usize].node),
            Some(Named::Remote(r)) => Some(self.remotes[r.0 as usize].site),
            Some(Named::Organization(o)) => Some(self.organizations[o.0 as usize].site),
            Some(_) => {
                self.err(
                    &name.span(),
                    label,
                    format!("{role} \"{n}\" is not a network element"),
                );
                None
            }
            None => {
                self.unknown(name, label, role);
                None
            }
        }
    }

    fn unknown(&mut self, name: &Spanned<String>, label: &str, role: &str) {
        let n = name.get_ref();
        if self.broken.contains(n) {
            return; // already reported where it is declared
        }
        let near = did_you_mean(n, self.names.keys().map(String::as_str)).map(str::to_string);
        let msg = format!("{role} \"{n}\" names no element");
        match near {
            Some(near) => self.err_help(
                &name.span(),
                label,
                msg,
                format!("did you mean \"{near}\"?"),
            ),
            None => self.err(&name.span(), label, msg),
        }
    }

    fn prefix(&mut self, s: &Spanned<String>, label: &str) -> Option<IpNet> {
        let text = s.get_ref().trim();
        match parse_prefix(s) {
            Ok(p) if p.trunc() != p => {
                self.err_help(
                    &s.span(),
                    label,
                    format!("\"{text}\" has host bits set"),
                    format!("write \"{}\"", p.trunc()),
                );
                None
            }
            Ok(p) => Some(p),
            Err(_) => {
                self.err(
                    &s.span(),
                    label,
                    format!("\"{text}\" is not an IPv4 or IPv6 prefix (e.g. \"10.1.0.0/16\")"),
                );
                None
            }
        }
    }

    fn address(&mut self, s: &Spanned<String>, label: &str) -> Option<IpAddr> {
        let text = s.get_ref().trim();
        match IpAddr::from_str(text) {
            Ok(a) => Some(a),
            Err(_) => {
                self.err(&s.span(), label, format!("\"{text}\" is not an IP address"));
                None
            }
        }
    }

    fn duration(&mut self, q: &Option<Quantity>, default: SimDuration, label: &str) -> SimDuration {
        match q {
            None => default,
            Some(q) => match parse_duration(q.get_ref()) {
                Ok(d) => d,
                Err(e) => {
                    self.err(&q.span(), label, e.to_string());
                    default
                }
            },
        }
    }

    fn bitrate(&mut self, q: &Quantity, label: &str, what: &str) -> Option<Bitrate> {
        match q.get_ref().parse::<Bitrate>() {
            Ok(b) if b == Bitrate::ZERO => {
                self.err(&q.span(), label, format!("{what} must be above zero"));
                None
            }
            Ok(b) => Some(b),
            Err(e) => {
                let msg = if q.get_ref().trim_start().starts_with('-') {
                    format!("{what} must be above zero")
                } else {
                    e.to_string()
                };
                self.err(&q.span(), label, msg);
                None
            }
        }
    }

    fn ratio(&mut self, q: &Option<Quantity>, default: f64, label: &str) -> Ratio {
        let fallback = Ratio::new(default).expect("defaults are valid ratios");
        match q {
            None => fallback,
            Some(q) => match q.get_ref().parse::<Ratio>() {
                Ok(r) => r,
                Err(e) => {
                    self.err(&q.span(), label, e.to_string());
                    fallback
                }
            },
        }
    }

    fn word<T>(
        &mut self,
        w: &Spanned<String>,
        label: &str,
        what: &str,
        options: &[(&str, T)],
    ) -> Option<T>
    where
        T: Copy,
    {
        let text = w.get_ref().as_str();
        if let Some((_, v)) = options.iter().find(|(k, _)| *k == text) {
            return Some(*v);
        }
        let list: Vec<&str> = options.iter().map(|(k, _)| *k).collect();
        let msg = format!("\"{text}\" is not a {what} (expected {})", list.join(", "));
        match did_you_mean(text, list.iter().copied()) {
            Some(near) => self.err_help(&w.span(), label, msg, format!("did you mean \"{near}\"?")),
            None => self.err(&w.span(), label, msg),
        }
        None
    }

    // ----- pass 1: elements --------------------------------------------------

    fn elements(&mut self) {
        let raw = self.raw;
        for s in &raw.address_sets {
            self.address_set(s);
        }
        for r in &raw.regions {
            self.region(r);
        }
        for s in &raw.sites {
            self.site(s);
        }
        for r in &raw.routers {
            let label = element("router", r.name.get_ref());
            let id = self.add_node(
                r.name.get_ref(),
                NodeKind::Router(Router::default()),
                Domain::Customer,
                Segment::Customer,
            );
            if self.register(&r.name, &label, Named::Node(id)) {
                self.router_raw.push((id, r));
            }
        }
        for f in &raw.firewalls {
            self.firewall(f);
        }
        for n in &raw.nats {
            self.nat(n);
        }
        for p in &raw.proxies {
            self.proxy(p);
        }
        for e in &raw.edges {
            self.edge(e);
        }
        for s in &raw.servers {
            self.server(s);
        }
        for r in &raw.remotes {
            self.remote(r);
        }
        for o in &raw.organizations {
            self.organization(o);
        }
        // PACs refer to proxies, and sites refer to PACs.
        for p in &raw.pacs {
            self.pac(p);
        }
        for s in &raw.sites {
            self.site_pac(s);
        }
    }

    fn address_set(&mut self, s: &RawAddressSet) {
        let label = element("address_set", s.name.get_ref());
        if !self.register(&s.name, &label, Named::AddressSet) {
            return;
        }
        if self.catalog.set(s.name.get_ref()).is_some() {
            self.err(
                &s.name.span(),
                &label,
                "this name is already a set of the endpoint catalog",
            );
        }
        let prefixes: Vec<IpNet> = s
            .prefixes
            .iter()
            .filter_map(|p| self.prefix(p, &label))
            .collect();
        self.address_sets.insert(s.name.get_ref().clone(), prefixes);
    }

    fn region(&mut self, r: &RawRegion) {
        let label = element("region", r.name.get_ref());
        let id = RegionId(self.regions.len() as u16);
        let node = self.add_node(
            r.name.get_ref(),
            NodeKind::Region(id),
            Domain::Microsoft,
            Segment::Microsoft,
        );
        if !self.register(&r.name, &label, Named::Region(id)) {
            return;
        }
        let mut prefixes = Vec::new();
        for p in &r.prefixes {
            let Some(net) = self.prefix(p, &label) else {
                continue;
            };
            if !self
                .catalog
                .sets()
                .iter()
                .any(|s| s.prefixes.iter().any(|c| c.contains(&net)))
            {
                self.err_help(
                    &p.span(),
                    &label,
                    format!("{net} is not Microsoft address space in the endpoint catalog"),
                    "a region's prefixes must lie inside the catalog's sets (see docs/endpoints.md)",
                );
                continue;
            }
            prefixes.push(net);
        }
        if r.prefixes.is_empty() {
            self.err(&r.name.span(), &label, "a region needs at least one prefix");
        }
        self.graph[node.0].originates = prefixes.clone();
        self.regions.push(Region {
            name: r.name.get_ref().clone(),
            geography: r.geography.get_ref().clone(),
            peering_locations: r
                .peering_locations
                .iter()
                .map(|p| p.get_ref().clone())
                .collect(),
            prefixes: prefixes.clone(),
            node,
            services: vec![],
        });
        let internet_props = r.internet.clone().unwrap_or_default();
        self.pending.push(PendingLink {
            name: format!("{}-internet", r.name.get_ref()),
            kind: LinkKind::InternetAccess,
            a: node,
            b: self.internet,
            props: with_default_capacity(internet_props, "100Gbps"),
            owner: Some(Owner::Microsoft),
            span: r.name.span(),
            label: label.clone(),
            cost: None,
            qos: false,
            advertise: None,
            policy: None,
            circuit: None,
            implicit: true,
        });
        for s in &r.service {
            self.service(s, id, node, &prefixes, &label);
        }
    }

    fn service(
        &mut self,
        s: &RawService,
        region: RegionId,
        region_node: NodeId,
        prefixes: &[IpNet],
        region_label: &str,
    ) {
        use ServerKind as K;
        let kinds = [
            ("online-edge", K::OnlineEdge),
            ("registrar", K::Registrar),
            ("conferencing", K::OnlineConferencing),
            ("phone-system", K::PhoneSystem),
            ("broadcast", K::Broadcast),
            ("web", K::Web),
        ];
        let Some(kind) = self.word(&s.kind, region_label, "service kind", &kinds) else {
            return;
        };
        let region_name = self.regions[region.0 as usize].name.clone();
        let name = s.name.clone().unwrap_or_else(|| {
            Spanned::new(s.kind.span(), format!("{region_name}-{}", s.kind.get_ref()))
        });
        let label = element("service", name.get_ref());
        let node = self.add_node(
            name.get_ref(),
            NodeKind::Server(Server {
                kind,
                region: Some(region),
                edge: None,
                gateway: None,
                media_bypass: false,
            }),
            Domain::Microsoft,
            Segment::Microsoft,
        );
        if !self.register(&name, &label, Named::Node(node)) {
            return;
        }
        let mut addresses = Vec::new();
        for a in [&s.address, &s.ipv6].into_iter().flatten() {
            let Some(ip) = self.address(a, &label) else {
                continue;
            };
            if !prefixes.iter().any(|p| p.contains(&ip)) {
                self.err(
                    &a.span(),
                    &label,
                    format!("{ip} is outside the prefixes of region \"{region_name}\""),
                );
            }
            addresses.push(ip);
        }
        if s.address.is_none() && s.ipv6.is_none() {
            self.err(
                &name.span(),
                &label,
                "a service needs an `address` or an `ipv6` address",
            );
        }
        self.set_host(node, addresses);
        self.regions[region.0 as usize].services.push(node);
        self.pending.push(PendingLink {
            name: format!("{}-dc", name.get_ref()),
            kind: LinkKind::Datacenter,
            a: region_node,
            b: node,
            props: RawLinkProperties::default(),
            owner: Some(Owner::Microsoft),
            span: name.span(),
            label,
            cost: None,
            qos: true,
            advertise: None,
            policy: None,
            circuit: None,
            implicit: true,
        });
    }

    fn set_host(&mut self, node: NodeId, addresses: Vec<IpAddr>) {
        let n = &mut self.graph[node.0];
        n.originates
            .extend(addresses.iter().map(|&a| IpNet::from(a)));
        n.addresses = addresses;
    }

    fn site(&mut self, s: &RawSite) {
        let label = element("site", s.name.get_ref());
        let kind = match &s.kind {
            None => Some(SiteKind::Office),
            Some(k) => self.word(
                k,
                &label,
                "site kind",
                &[
                    ("office", SiteKind::Office),
                    ("datacenter", SiteKind::Datacenter),
                    ("dmz", SiteKind::Dmz),
                ],
            ),
        }
        .unwrap_or(SiteKind::Office);
        let subnets: Vec<IpNet> = s
            .subnets
            .iter()
            .filter_map(|p| self.prefix(p, &label))
            .collect();
        if s.subnets.is_empty() {
            self.err(&s.name.span(), &label, "a site needs at least one subnet");
        }
        let node = self.add_node(
            s.name.get_ref(),
            NodeKind::Site(Site {
                kind,
                subnets: subnets.clone(),
                pac: None,
                location: s.location.clone(),
            }),
            Domain::Customer,
            Segment::Customer,
        );
        self.graph[node.0].originates = subnets;
        self.register(&s.name, &label, Named::Node(node));
    }

    fn site_pac(&mut self, s: &RawSite) {
        let Some(pac) = &s.pac else { return };
        let label = element("site", s.name.get_ref());
        let Some(node) = self.node_of(&s.name) else {
            return;
        };
        match self.names.get(pac.get_ref()).copied() {
            Some(Named::Pac(id)) => {
                if let NodeKind::Site(site) = &mut self.graph[node.0].kind {
                    site.pac = Some(id);
                }
            }
            Some(_) => self.err(
                &pac.span(),
                &label,
                format!("\"{}\" is not a PAC policy", pac.get_ref()),
            ),
            None => self.unknown(pac, &label, "PAC policy"),
        }
    }

    fn firewall_settings(
        &mut self,
        label: &str,
        stateful: bool,
        idle: &Option<Quantity>,
        default: &Option<Spanned<String>>,
        default_action: Action,
        rules: &[RawRule],
    ) -> Firewall {
        let idle_timeout = self.duration(idle, SimDuration::from_secs(60), label);
        let default = match default {
            None => default_action,
            Some(d) => self
                .word(
                    d,
                    label,
                    "default action",
                    &[("allow", Action::Allow), ("deny", Action::Deny)],
                )
                .unwrap_or(default_action),
        };
        let rules = rules.iter().filter_map(|r| self.rule(r, label)).collect();
        Firewall {
            stateful,
            idle_timeout,
            default,
            rules,
        }
    }

    fn firewall(&mut self, f: &RawFirewall) {
        let label = element("firewall", f.name.get_ref());
        let fw = self.firewall_settings(
            &label,
            f.stateful,
            &f.idle_timeout,
            &f.default,
            Action::Deny,
            &f.rule,
        );
        let node = self.add_node(
            f.name.get_ref(),
            NodeKind::Firewall(fw),
            Domain::Customer,
            Segment::Customer,
        );
        self.register(&f.name, &label, Named::Node(node));
    }

    fn rule(&mut self, r: &RawRule, label: &str) -> Option<Rule> {
        let action = self.word(
            &r.action,
            label,
            "rule action",
            &[("allow", Action::Allow), ("deny", Action::Deny)],
        )?;
        let protocol = match &r.protocol {
            None => None,
            Some(p) => self.word(
                p,
                label,
                "protocol",
                &[
                    ("any", None),
                    ("udp", Some(Protocol::Udp)),
                    ("tcp", Some(Protocol::Tcp)),
                ],
            )?,
        };
        let src = self.address_match(&r.src, label)?;
        let dst = self.address_match(&r.dst, label)?;
        let src_ports = self.port_match(&r.src_ports, label)?;
        let dst_ports = self.port_match(&r.dst_ports, label)?;
        let text = rule_text(r);
        Some(Rule {
            action,
            protocol,
            src,
            dst,
            src_ports,
            dst_ports,
            text,
        })
    }

    fn address_match(&mut self, m: &Option<OneOrMany>, label: &str) -> Option<AddressMatch> {
        let Some(m) = m else {
            return Some(AddressMatch::Any);
        };
        let mut prefixes = Vec::new();
        for item in m.get_ref().items() {
            if item == "any" {
                return Some(AddressMatch::Any);
            }
            prefixes.extend(self.resolve_addresses(item, &m.span(), label)?);
        }
        Some(AddressMatch::Prefixes(prefixes))
    }

    /// A prefix, a single address, or the name of an address set (the
    /// planner's or the endpoint catalog's, optionally written `set:<name>`).
    fn resolve_addresses(
        &mut self,
        item: &str,
        span: &Range<usize>,
        label: &str,
    ) -> Option<Vec<IpNet>> {
        if let Ok(p) = IpNet::from_str(item) {
            return Some(vec![p.trunc()]);
        }
        if let Ok(a) = IpAddr::from_str(item) {
            return Some(vec![IpNet::from(a)]);
        }
        let name = item.strip_prefix("set:").unwrap_or(item);
        if let Some(p) = self.address_sets.get(name) {
            return Some(p.clone());
        }
        if let Some(s) = self.catalog.set(name) {
            return Some(s.prefixes.clone());
        }
        let known: Vec<&str> = self
            .address_sets
            .keys()
            .map(String::as_str)
            .chain(self.catalog.sets().iter().map(|s| s.name.as_str()))
            .collect();
        let msg = format!("\"{item}\" is not a prefix, an address or an address set");
        match did_you_mean(name, known) {
            Some(near) => self.err_help(span, label, msg, format!("did you mean \"{near}\"?")),
            None => self.err(span, label, msg),
        }
        None
    }

    fn port_match(&mut self, m: &Option<OneOrMany>, label: &str) -> Option<PortMatch> {
        let Some(m) = m else {
            return Some(PortMatch::Any);
        };
        let mut ranges = Vec::new();
        for item in m.get_ref().items() {
            match parse_port_range(item) {
                Some(r) => ranges.push(r),
                None => {
                    self.err(
                        &m.span(),
                        label,
                        format!(
                            "\"{item}\" is not a port or port range (e.g. \"443\", \"50000-59999\")"
                        ),
                    );
                    return None;
                }
            }
        }
        Some(PortMatch::Ranges(ranges))
    }

    fn nat_behaviour(
        &mut self,
        raw: &RawNatBehaviour,
        label: &str,
        span: &Range<usize>,
    ) -> NatBehaviour {
        use Filtering as F;
        use Mapping as M;
        let mapping_words = [
            ("endpoint-independent", M::EndpointIndependent),
            ("address-dependent", M::AddressDependent),
            ("address-and-port-dependent", M::AddressAndPortDependent),
        ];
        let filtering_words = [
            ("endpoint-independent", F::EndpointIndependent),
            ("address-dependent", F::AddressDependent),
            ("address-and-port-dependent", F::AddressAndPortDependent),
        ];
        // Default: what RFC 4787 requires of mapping (REQ-1) with the stricter
        // of its recommended filterings: a port-restricted cone.
        let (mut mapping, mut filtering) = (M::EndpointIndependent, F::AddressAndPortDependent);
        if let Some(p) = &raw.preset {
            let presets = [
                ("full-cone", "full-cone"),
                ("restricted-cone", "restricted-cone"),
                ("port-restricted-cone", "port-restricted-cone"),
                ("symmetric", "symmetric"),
            ];
            if let Some(name) = self.word(p, label, "NAT preset", &presets) {
                (mapping, filtering) = NatBehaviour::preset(name).expect("listed presets exist");
            }
            if raw.mapping.is_some() || raw.filtering.is_some() {
                self.err(
                    &p.span(),
                    label,
                    "give either a `preset` or `mapping` and `filtering`, not both",
                );
            }
        }
        if let Some(m) = &raw.mapping {
            mapping = self
                .word(m, label, "mapping behaviour", &mapping_words)
                .unwrap_or(mapping);
        }
        if let Some(f) = &raw.filtering {
            filtering = self
                .word(f, label, "filtering behaviour", &filtering_words)
                .unwrap_or(filtering);
        }
        let mapping_timeout = self.duration(&raw.mapping_timeout, SimDuration::from_mins(5), label);
        if mapping_timeout == SimDuration::ZERO {
            self.err(span, label, "a mapping timeout must be above zero");
        }
        let port_capacity = match &raw.port_capacity {
            None => 64_512,
            Some(c) if (1..=65_535).contains(c.get_ref()) => *c.get_ref() as u32,
            Some(c) => {
                self.err(
                    &c.span(),
                    label,
                    "port capacity must be between 1 and 65535 ports per address",
                );
                64_512
            }
        };
        NatBehaviour {
            mapping,
            filtering,
            hairpinning: raw.hairpinning.unwrap_or(true),
            mapping_timeout,
            port_capacity,
        }
    }

    fn nat(&mut self, n: &'a RawNat) {
        let label = element("nat", n.name.get_ref());
        let behaviour = self.nat_behaviour(&n.behaviour(), &label, &n.name.span());
        let pool: Vec<IpNet> = n
            .pool
            .iter()
            .filter_map(|p| self.prefix(p, &label))
            .collect();
        if n.pool.is_empty() {
            self.err(&n.name.span(), &label, "a NAT needs a public `pool`");
        }
        let mut static_mappings = Vec::new();
        for m in &n.static_mappings {
            if let (Some(public), Some(private)) = (
                self.address(&m.public, &label),
                self.address(&m.private, &label),
            ) {
                static_mappings.push((public, private));
            }
        }
        let exempt: Vec<IpNet> = n
            .exempt
            .iter()
            .filter_map(|p| self.prefix(p, &label))
            .collect();
        let mut originates = pool.clone();
        originates.extend(
            static_mappings
                .iter()
                .filter(|(p, _)| !pool.iter().any(|n| n.contains(p)))
                .map(|&(p, _)| IpNet::from(p)),
        );
        let node = self.add_node(
            n.name.get_ref(),
            NodeKind::Nat(Nat {
                pool,
                behaviour,
                outside: vec![],
                static_mappings,
                inbound_source_nat: n.inbound_source_nat,
                exempt,
            }),
            Domain::Customer,
            Segment::Customer,
        );
        self.graph[node.0].originates = originates;
        if self.register(&n.name, &label, Named::Node(node)) {
            self.nat_raw.push((node, n));
        }
    }

    fn proxy(&mut self, p: &RawProxy) {
        let label = element("proxy", p.name.get_ref());
        let address = self.address(&p.address, &label);
        let port = match &p.port {
            None => 8080,
            Some(v) if (1..=65_535).contains(v.get_ref()) => *v.get_ref() as u16,
            Some(v) => {
                self.err(&v.span(), &label, "a port must be between 1 and 65535");
                8080
            }
        };
        let carries = match &p.carries {
            None => vec![WebTraffic::Http, WebTraffic::Https],
            Some(list) => list
                .iter()
                .filter_map(|w| {
                    self.word(
                        w,
                        &label,
                        "traffic kind",
                        &[("http", WebTraffic::Http), ("https", WebTraffic::Https)],
                    )
                })
                .collect(),
        };
        let node = self.add_node(
            p.name.get_ref(),
            NodeKind::Proxy(Proxy {
                address: address.unwrap_or(IpAddr::from([0, 0, 0, 0])),
                port,
                carries,
                connect: p.connect,
                tls_inspection: p.tls_inspection,
                egress: None,
            }),
            Domain::Customer,
            Segment::Customer,
        );
        self.set_host(node, address.into_iter().collect());
        self.register(&p.name, &label, Named::Node(node));
    }

    fn edge(&mut self, e: &'a RawEdge) {
        let label = element("edge", e.name.get_ref());
        let kind = match &e.kind {
            None => Some(EdgeKind::Sfb),
            Some(k) => self.word(
                k,
                &label,
                "Edge kind",
                &[
                    ("sfb", EdgeKind::Sfb),
                    ("cloud-connector", EdgeKind::CloudConnector),
                ],
            ),
        }
        .unwrap_or(EdgeKind::Sfb);
        let internal = self.address(&e.internal.address, &label);
        let external = self.address(&e.external.address, &label);
        let unspecified = IpAddr::from([0, 0, 0, 0]);
        let node = self.add_node(
            e.name.get_ref(),
            NodeKind::Edge(Edge {
                kind,
                internal: internal.unwrap_or(unspecified),
                external: external.unwrap_or(unspecified),
                internal_link: LinkId(Default::default()),
                external_link: LinkId(Default::default()),
            }),
            Domain::Customer,
            Segment::Customer,
        );
        self.set_host(node, internal.into_iter().chain(external).collect());
        if self.register(&e.name, &label, Named::Node(node)) {
            self.edge_raw.push((node, e));
        }
    }

    fn server(&mut self, s: &RawServer) {
        use ServerKind as K;
        let label = element("server", s.name.get_ref());
        let kinds = [
            ("front-end", K::FrontEnd),
            ("conferencing", K::Conferencing),
            ("mediation", K::Mediation),
            ("pstn-gateway", K::PstnGateway),
            ("cloud-connector", K::CloudConnector),
            ("cdn", K::Cdn),
            ("dns", K::Dns),
            ("crl", K::Crl),
            ("telemetry", K::Telemetry),
            ("skype-consumer", K::SkypeConsumer),
        ];
        let kind = self
            .word(&s.kind, &label, "server kind", &kinds)
            .unwrap_or(K::FrontEnd);
        let addresses: Vec<IpAddr> = [&s.address, &s.ipv6]
            .into_iter()
            .flatten()
            .filter_map(|a| self.address(a, &label))
            .collect();
        if s.address.is_none() && s.ipv6.is_none() {
            self.err(
                &s.name.span(),
                &label,
                "a server needs an `address` or an `ipv6` address",
            );
        }
        let node = self.add_node(
            s.name.get_ref(),
            NodeKind::Server(Server {
                kind,
                region: None,
                edge: None,
                gateway: None,
                media_bypass: s.media_bypass,
            }),
            Domain::Customer,
            Segment::Customer,
        );
        self.set_host(node, addresses);
        self.register(&s.name, &label, Named::Node(node));
    }

    fn remote(&mut self, r: &RawRemote) {
        let label = element("remote", r.name.get_ref());
        let id = RemoteId(self.remotes.len() as u16);
        let kind = self
            .word(
                &r.kind,
                &label,
                "remote kind",
                &[
                    ("home", RemoteKind::Home),
                    ("hotel", RemoteKind::Hotel),
                    ("coffee-shop", RemoteKind::CoffeeShop),
                    ("mobile", RemoteKind::Mobile),
                ],
            )
            .unwrap_or(RemoteKind::Home);
        if let Some(vpn) = &r.vpn
            && *vpn.get_ref()
        {
            self.err_help(
                &vpn.span(),
                &label,
                "VPN back into the corporate network is not modelled",
                "model the user at the site the VPN lands in, or remove `vpn`",
            );
        }
        if !self.register(&r.name, &label, Named::Remote(id)) {
            return;
        }
        let domain = Domain::Remote(id);
        let owner = Owner::Remote(id);
        let built = self.outside_network(OutsideNetwork {
            name: r.name.get_ref(),
            span: r.name.span(),
            label: &label,
            domain,
            owner,
            site_kind: SiteKind::Remote,
            lane: Segment::Internet,
            subnet: &r.subnet,
            public: &r.public,
            nat: r.nat.as_ref(),
            firewall: r.firewall.as_ref(),
            access: r.access.as_ref(),
        });
        self.remotes.push(Remote {
            name: r.name.get_ref().clone(),
            kind,
            site: built.site,
            nat: built.nat,
            firewall: built.firewall,
        });
    }

    fn organization(&mut self, o: &RawOrganization) {
        let label = element("organization", o.name.get_ref());
        let id = OrgId(self.organizations.len() as u16);
        let kind = self
            .word(
                &o.kind,
                &label,
                "organization kind",
                &[
                    ("online", OrgKind::Online),
                    ("on-prem", OrgKind::OnPrem),
                    ("skype-consumer", OrgKind::SkypeConsumer),
                ],
            )
            .unwrap_or(OrgKind::Online);
        if !self.register(&o.name, &label, Named::Organization(id)) {
            return;
        }
        let home_region = match (&o.home_region, kind) {
            (Some(r), _) => match self.names.get(r.get_ref()).copied() {
                Some(Named::Region(rid)) => Some(rid),
                Some(_) => {
                    self.err(
                        &r.span(),
                        &label,
                        format!("\"{}\" is not a Microsoft region", r.get_ref()),
                    );
                    None
                }
                None => {
                    self.unknown(r, &label, "region");
                    None
                }
            },
            (None, OrgKind::Online) => {
                self.err(
                    &o.name.span(),
                    &label,
                    "an Online partner needs a `home_region`",
                );
                None
            }
            (None, _) => None,
        };
        let domain = Domain::Organization(id);
        let owner = Owner::Organization(id);
        let lane = if kind == OrgKind::SkypeConsumer {
            Segment::Internet
        } else {
            Segment::Customer
        };
        let built = self.outside_network(OutsideNetwork {
            name: o.name.get_ref(),
            span: o.name.span(),
            label: &label,
            domain,
            owner,
            site_kind: SiteKind::Partner,
            lane,
            subnet: &o.subnet,
            public: &o.public,
            nat: o.nat.as_ref(),
            firewall: o.firewall.as_ref(),
            access: o.access.as_ref(),
        });
        let mut edge = None;
        let mut server = None;
        match kind {
            OrgKind::OnPrem => {
                let (Some(edge_addr), Some(server_addr)) = (&o.edge, &o.server) else {
                    self.err(&o.name.span(), &label, "an on-prem partner needs its Edge's public `edge` address and its `server` address");
                    self.organizations.push(Organization {
                        name: o.name.get_ref().clone(),
                        kind,
                        home_region,
                        site: built.site,
                        edge,
                        server,
                        circuit: None,
                    });
                    return;
                };
                edge = self.partner_edge(o, edge_addr, built.site, domain, owner, &label);
                server = self.partner_server(
                    o,
                    server_addr,
                    built.site,
                    domain,
                    owner,
                    ServerKind::PartnerServer,
                    &label,
                );
            }
            OrgKind::SkypeConsumer => {
                if let Some(addr) = &o.server {
                    server = self.partner_server(
                        o,
                        addr,
                        self.internet,
                        Domain::Internet,
                        Owner::Public,
                        ServerKind::SkypeConsumer,
                        &label,
                    );
                }
            }
            OrgKind::Online => {}
        }
        let circuit = match (&o.expressroute, home_region) {
            (Some(er), _) => self.partner_circuit(
                o,
                er,
                built.public_subnet,
                built.router,
                domain,
                owner,
                &label,
            ),
            (None, _) => None,
        };
        self.organizations.push(Organization {
            name: o.name.get_ref().clone(),
            kind,
            home_region,
            site: built.site,
            edge,
            server,
            circuit,
        });
    }

    fn partner_edge(
        &mut self,
        o: &RawOrganization,
        addr: &Spanned<String>,
        site: NodeId,
        domain: Domain,
        owner: Owner,
        label: &str,
    ) -> Option<NodeId> {
        let external = self.address(addr, label)?;
        let name = format!("{}-edge", o.name.get_ref());
        let node = self.add_node(
            &name,
            NodeKind::Edge(Edge {
                kind: EdgeKind::Partner,
                internal: external,
                external,
                internal_link: LinkId(Default::default()),
                external_link: LinkId(Default::default()),
            }),
            domain,
            Segment::Internet,
        );
        self.set_host(node, vec![external]);
        if !self.register_str(&name, &addr.span(), label, Named::Node(node)) {
            return None;
        }
        let internal_idx = self.push_implicit(
            format!("{name}-int"),
            LinkKind::Lan,
            node,
            site,
            owner,
            addr.span(),
            label,
        );
        let external_idx = self.push_implicit(
            format!("{name}-ext"),
            LinkKind::InternetAccess,
            node,
            self.internet,
            owner,
            addr.span(),
            label,
        );
        self.edge_links.push((node, internal_idx, external_idx));
        Some(node)
    }

    #[allow(clippy::too_many_arguments)]
    fn partner_server(
        &mut self,
        o: &RawOrganization,
        addr: &Spanned<String>,
        at: NodeId,
        domain: Domain,
        owner: Owner,
        kind: ServerKind,
        label: &str,
    ) -> Option<NodeId> {
        let ip = self.address(addr, label)?;
        let name = format!("{}-server", o.name.get_ref());
        let lane = if domain == Domain::Internet {
            Segment::Internet
        } else {
            self.graph[at.0].lane
        };
        let node = self.add_node(
            &name,
            NodeKind::Server(Server {
                kind,
                region: None,
                edge: None,
                gateway: None,
                media_bypass: false,
            }),
            domain,
            lane,
        );
        self.set_host(node, vec![ip]);
        if !self.register_str(&name, &addr.span(), label, Named::Node(node)) {
            return None;
        }
        let link_kind = if at == self.internet {
            LinkKind::InternetAccess
        } else {
            LinkKind::Lan
        };
        self.push_implicit(
            format!("{name}-lan"),
            link_kind,
            node,
            at,
            owner,
            addr.span(),
            label,
        );
        Some(node)
    }

    /// A partner's own circuit, with its NAT for Microsoft peering. Users on
    /// public addresses (`own_public`) pass that NAT untranslated and their
    /// subnet is advertised on the circuit beside the pool.
    #[allow(clippy::too_many_arguments)]
    fn partner_circuit(
        &mut self,
        o: &RawOrganization,
        er: &RawPartnerCircuit,
        own_public: Option<IpNet>,
        router: NodeId,
        domain: Domain,
        owner: Owner,
        label: &str,
    ) -> Option<CircuitId> {
        let region = match self.names.get(er.region.get_ref()).copied() {
            Some(Named::Region(r)) => r,
            _ => {
                self.unknown(&er.region, label, "region");
                return None;
            }
        };
        let pool = self.prefix(&er.public, label)?;
        let org = o.name.get_ref();
        let nat_name = format!("{org}-er-nat");
        let behaviour = self.nat_behaviour(&RawNatBehaviour::default(), label, &er.public.span());
        let nat = self.add_node(
            &nat_name,
            NodeKind::Nat(Nat {
                pool: vec![pool],
                behaviour,
                outside: vec![],
                static_mappings: vec![],
                inbound_source_nat: false,
                exempt: own_public.into_iter().collect(),
            }),
            domain,
            Segment::Customer,
        );
        self.graph[nat.0].originates = vec![pool];
        if !self.register_str(&nat_name, &er.public.span(), label, Named::Node(nat)) {
            return None;
        }
        self.push_implicit(
            format!("{org}-er-nat-lan"),
            LinkKind::Lan,
            router,
            nat,
            owner,
            er.public.span(),
            label,
        );
        let route_filter = match &er.route_filter {
            None => vec![Community(12076, 5030)],
            Some(list) => list
                .iter()
                .filter_map(|c| self.community(c, label))
                .collect(),
        };
        let bandwidth = match &er.bandwidth {
            Some(q) => self.bitrate(q, label, "bandwidth")?,
            None => Bitrate::gbps(1),
        };
        let id = CircuitId(self.circuits.len() as u16);
        let name = format!("{org}-er");
        self.register_str(&name, &er.region.span(), label, Named::Circuit(id));
        let region_node = self.regions[region.0 as usize].node;
        let mut props = RawLinkProperties {
            latency: er.latency.clone(),
            ..Default::default()
        };
        props.capacity = None;
        let idx = self.pending.len();
        self.pending.push(PendingLink {
            name: format!("{name}:primary"),
            kind: LinkKind::ExpressRoute,
            a: nat,
            b: region_node,
            props,
            owner: Some(owner),
            span: er.region.span(),
            label: label.to_string(),
            cost: None,
            qos: true,
            advertise: None,
            policy: None,
            circuit: Some((id, Connection::Primary)),
            implicit: true,
        });
        self.generated_outside.push((nat, idx));
        let peering_location = self.regions[region.0 as usize]
            .peering_locations
            .first()
            .cloned()
            .unwrap_or_default();
        self.circuits.push(Circuit {
            name,
            peering_location,
            bandwidth,
            sku: Sku::Premium,
            customer_edge: nat,
            microsoft_edge: region,
            reach: vec![],
            route_filter,
            advertise: std::iter::once(pool).chain(own_public).collect(),
            qos: true,
            local_preference: 100,
            primary: LinkId(Default::default()),
            secondary: None,
            owner,
        });
        Some(id)
    }

    fn community(&mut self, c: &Spanned<String>, label: &str) -> Option<Community> {
        match c.get_ref().parse::<Community>() {
            Ok(v) => Some(v),
            Err(_) => {
                self.err(
                    &c.span(),
                    label,
                    format!(
                        "\"{}\" is not a BGP community (e.g. \"12076:5030\")",
                        c.get_ref()
                    ),
                );
                None
            }
        }
    }

    /// Expands a remote location or another organization's network: a LAN,
    /// an optional firewall, an edge router, a NAT and its Internet access.
    fn outside_network(&mut self, o: OutsideNetwork<'_>) -> BuiltOutside {
        let subnet = self.prefix(o.subnet, o.label);
        let public = self.address(o.public, o.label);
        let site = self.add_node(
            o.name,
            NodeKind::Site(Site {
                kind: o.site_kind,
                subnets: subnet.into_iter().collect(),
                pac: None,
                location: None,
            }),
            o.domain,
            o.lane,
        );
        self.graph[site.0].originates = subnet.into_iter().collect();
        let mut upstream = site;
        let firewall = o.firewall.map(|f| {
            let fw_label = o.label.to_string();
            let settings = self.firewall_settings(
                &fw_label,
                f.stateful,
                &f.idle_timeout,
                &f.default,
                Action::Allow,
                &f.rule,
            );
            let name = format!("{}-fw", o.name);
            let node = self.add_node(&name, NodeKind::Firewall(settings), o.domain, o.lane);
            self.register_str(&name, &o.span, o.label, Named::Node(node));
            self.push_implicit(
                format!("{}-lan", o.name),
                LinkKind::Lan,
                site,
                node,
                o.owner,
                o.span.clone(),
                o.label,
            );
            upstream = node;
            node
        });
        let router_name = format!("{}-router", o.name);
        let router = self.add_node(
            &router_name,
            NodeKind::Router(Router::default()),
            o.domain,
            o.lane,
        );
        self.register_str(&router_name, &o.span, o.label, Named::Node(router));
        let lan_name = if firewall.is_some() {
            format!("{}-fw-router", o.name)
        } else {
            format!("{}-lan", o.name)
        };
        self.push_implicit(
            lan_name,
            LinkKind::Lan,
            upstream,
            router,
            o.owner,
            o.span.clone(),
            o.label,
        );

        let behaviour = self.nat_behaviour(&o.nat.cloned().unwrap_or_default(), o.label, &o.span);
        let pool: Vec<IpNet> = public.map(IpNet::from).into_iter().collect();
        // Users on public addresses of their own are routed as they are: the
        // NAT exempts them, and the Internet learns their subnet from the
        // site that originates it.
        let public_subnet = subnet.filter(|s| !is_private(s));
        let nat_name = format!("{}-nat", o.name);
        let nat = self.add_node(
            &nat_name,
            NodeKind::Nat(Nat {
                pool: pool.clone(),
                behaviour,
                outside: vec![],
                static_mappings: vec![],
                inbound_source_nat: false,
                exempt: public_subnet.into_iter().collect(),
            }),
            o.domain,
            o.lane,
        );
        self.graph[nat.0].originates = pool;
        self.register_str(&nat_name, &o.span, o.label, Named::Node(nat));
        self.push_implicit(
            format!("{}-router-nat", o.name),
            LinkKind::Lan,
            router,
            nat,
            o.owner,
            o.span.clone(),
            o.label,
        );
        let access = o.access.cloned().unwrap_or_default();
        let idx = self.pending.len();
        self.pending.push(PendingLink {
            name: format!("{}-access", o.name),
            kind: LinkKind::InternetAccess,
            a: nat,
            b: self.internet,
            props: with_default_capacity(access, "100Mbps"),
            owner: Some(o.owner),
            span: o.span.clone(),
            label: o.label.to_string(),
            cost: None,
            qos: false,
            advertise: None,
            policy: None,
            circuit: None,
            implicit: true,
        });
        self.generated_outside.push((nat, idx));
        BuiltOutside {
            site,
            firewall,
            router,
            nat,
            public_subnet,
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_implicit(
        &mut self,
        name: String,
        kind: LinkKind,
        a: NodeId,
        b: NodeId,
        owner: Owner,
        span: Range<usize>,
        label: &str,
    ) -> usize {
        // Implied attachments to the Internet stand for a hosting provider's
        // uplink: ample capacity unless the planner declares the link.
        let props = if kind == LinkKind::InternetAccess {
            with_default_capacity(RawLinkProperties::default(), "10Gbps")
        } else {
            RawLinkProperties::default()
        };
        self.pending.push(PendingLink {
            name,
            kind,
            a,
            b,
            props,
            owner: Some(owner),
            span,
            label: label.to_string(),
            cost: None,
            qos: false,
            advertise: None,
            policy: None,
            circuit: None,
            implicit: true,
        });
        self.pending.len() - 1
    }

    fn pac(&mut self, p: &RawPac) {
        let label = element("pac", p.name.get_ref());
        let id = PacId(self.pacs.len() as u16);
        if !self.register(&p.name, &label, Named::Pac(id)) {
            return;
        }
        let mut rules = Vec::new();
        for r in &p.rule {
            let m = r.matches.get_ref().as_str();
            let matches = match Category::from_str(m) {
                Ok(c) => Some(PacMatch::Category(c)),
                Err(_) => self
                    .resolve_addresses(m, &r.matches.span(), &label)
                    .map(PacMatch::Addresses),
            };
            let action = match r.action.get_ref().as_str() {
                "direct" => {
                    if r.proxy.is_some() {
                        self.err(&r.action.span(), &label, "a `direct` rule takes no `proxy`");
                    }
                    Some(PacAction::Direct)
                }
                "proxy" => match &r.proxy {
                    None => {
                        self.err(
                            &r.action.span(),
                            &label,
                            "a `proxy` rule needs `proxy = \"<name>\"`",
                        );
                        None
                    }
                    Some(name) => match self.node_ref(name, &label, "proxy") {
                        Some(n) if matches!(self.graph[n.0].kind, NodeKind::Proxy(_)) => {
                            Some(PacAction::Proxy(n))
                        }
                        Some(_) => {
                            self.err(
                                &name.span(),
                                &label,
                                format!("\"{}\" is not a proxy", name.get_ref()),
                            );
                            None
                        }
                        None => None,
                    },
                },
                other => {
                    self.err(
                        &r.action.span(),
                        &label,
                        format!("\"{other}\" is not a PAC action (expected direct, proxy)"),
                    );
                    None
                }
            };
            if let (Some(m), Some(a)) = (matches, action) {
                rules.push((m, a, r.matches.get_ref().clone()));
            }
        }
        self.pacs.push(Pac {
            name: p.name.get_ref().clone(),
            rules,
        });
    }

    // ----- pass 2: links -----------------------------------------------------

    fn links(&mut self) {
        let raw = self.raw;
        for l in &raw.links {
            self.explicit_link(l);
        }
        self.attachments();
        let pending = std::mem::take(&mut self.pending);
        self.pending_ids = pending.iter().map(|p| self.make_link(p)).collect();
        // A link that failed to build was reported where it is declared; its
        // name must not keep the placeholder id, or every reference to it
        // would resolve to some other link.
        let built: BTreeSet<&str> = pending
            .iter()
            .zip(&self.pending_ids)
            .filter(|(_, id)| id.is_some())
            .map(|(p, _)| p.name.as_str())
            .collect();
        for p in pending.iter().filter(|p| !built.contains(p.name.as_str())) {
            if let Some(Named::Link(_)) = self.names.get(&p.name) {
                self.forget(&p.name);
            }
        }
    }

    /// Drops a registered name whose element failed to build (its problem is
    /// already reported), so references to it stay quiet instead of
    /// resolving to a placeholder.
    fn forget(&mut self, name: &str) {
        self.names.remove(name);
        self.broken.insert(name.to_string());
    }

    fn explicit_link(&mut self, l: &RawLink) {
        let label = element("link", l.name.get_ref());
        let kind = self.word(
            &l.kind,
            &label,
            "link kind",
            &[
                ("lan", LinkKind::Lan),
                ("wan", LinkKind::Wan),
                ("internet-access", LinkKind::InternetAccess),
                ("backbone", LinkKind::Backbone),
                ("datacenter", LinkKind::Datacenter),
            ],
        );
        if l.kind.get_ref() == "expressroute" {
            self.err_help(
                &l.kind.span(),
                &label,
                "ExpressRoute is declared as a `[[circuit]]`, not a link",
                "move it to a [[circuit]] table",
            );
        }
        let ends = l.ends.get_ref();
        if ends.len() != 2 {
            self.err(
                &l.ends.span(),
                &label,
                format!("a link has two ends; this one has {}", ends.len()),
            );
        }
        let a = ends.first().and_then(|e| self.node_ref(e, &label, "end"));
        let b = ends.get(1).and_then(|e| self.node_ref(e, &label, "end"));
        let placeholder = Named::Link(LinkId(Default::default()));
        let registered = self.register(&l.name, &label, placeholder);
        let (Some(kind), Some(a), Some(b), true, 2) = (kind, a, b, registered, ends.len()) else {
            if registered {
                self.forget(l.name.get_ref());
            }
            return;
        };
        if a == b {
            self.err(
                &l.ends.span(),
                &label,
                "a link's two ends are the same element",
            );
            self.forget(l.name.get_ref());
            return;
        }
        self.pending.push(PendingLink {
            name: l.name.get_ref().clone(),
            kind,
            a,
            b,
            props: RawLinkProperties {
                capacity: l.capacity.clone(),
                latency: l.latency.clone(),
                jitter: l.jitter.clone(),
                loss: l.loss.clone(),
            },
            owner: None,
            span: l.name.span(),
            label,
            cost: l.cost.clone(),
            qos: l.qos,
            advertise: l.advertise.clone(),
            policy: l.bandwidth_policy.clone(),
            circuit: None,
            implicit: false,
        });
    }

    /// Implicit links made by `at = …` on servers, proxies and Edges.
    fn attachments(&mut self) {
        let raw = self.raw;
        for s in &raw.servers {
            if let Some(at) = &s.at {
                self.attach(
                    &s.name,
                    &format!("{}-lan", s.name.get_ref()),
                    at,
                    &element("server", s.name.get_ref()),
                );
            }
        }
        for p in &raw.proxies {
            if let Some(at) = &p.at {
                self.attach(
                    &p.name,
                    &format!("{}-lan", p.name.get_ref()),
                    at,
                    &element("proxy", p.name.get_ref()),
                );
            }
        }
        let edges = std::mem::take(&mut self.edge_raw);
        for (node, e) in &edges {
            let label = element("edge", e.name.get_ref());
            let int = self.attach(
                &e.name,
                &format!("{}-int", e.name.get_ref()),
                &e.internal.at,
                &label,
            );
            let ext = self.attach(
                &e.name,
                &format!("{}-ext", e.name.get_ref()),
                &e.external.at,
                &label,
            );
            if let (Some(i), Some(x)) = (int, ext) {
                self.edge_links.push((*node, i, x));
            }
        }
        self.edge_raw = edges;
    }

    fn attach(
        &mut self,
        element_name: &Spanned<String>,
        link_name: &str,
        at: &Spanned<String>,
        label: &str,
    ) -> Option<usize> {
        let node = self.node_of(element_name)?;
        let target = self.node_ref(at, label, "`at`")?;
        if target == node {
            self.err(&at.span(), label, "an element cannot hang off itself");
            return None;
        }
        if !self.graph[target.0].kind.forwards()
            && !matches!(self.graph[target.0].kind, NodeKind::Site(_))
        {
            self.err(
                &at.span(),
                label,
                format!(
                    "\"{}\" is a host; attach to a site, router, firewall or NAT",
                    at.get_ref()
                ),
            );
            return None;
        }
        // A server or proxy takes the domain and lane of what it hangs off.
        // An Edge stays in its owner's network: a side on the Internet is a
        // border (internet-access) link of that network.
        let domain = if matches!(self.graph[node.0].kind, NodeKind::Edge(_)) {
            self.graph[node.0].domain
        } else {
            let (domain, lane) = (self.graph[target.0].domain, self.graph[target.0].lane);
            self.graph[node.0].domain = domain;
            self.graph[node.0].lane = lane;
            domain
        };
        let kind = if target == self.internet {
            LinkKind::InternetAccess
        } else {
            LinkKind::Lan
        };
        if !self.register_str(
            link_name,
            &at.span(),
            label,
            Named::Link(LinkId(Default::default())),
        ) {
            return None;
        }
        Some(self.push_implicit(
            link_name.to_string(),
            kind,
            node,
            target,
            domain.owner(),
            at.span(),
            label,
        ))
    }

    fn make_link(&mut self, p: &PendingLink) -> Option<LinkId> {
        let defaults = link_defaults(p.kind);
        let capacity = match &p.props.capacity {
            Some(q) => self.bitrate(q, &p.label, "capacity"),
            None => match (defaults.capacity, p.circuit) {
                (Some(c), _) => Some(c),
                (None, Some(_)) => Some(Bitrate::ZERO), // set from the circuit's bandwidth
                (None, None) => {
                    self.err_help(
                        &p.span,
                        &p.label,
                        format!(
                            "{} {} link needs a `capacity`",
                            article(p.kind.word()),
                            p.kind.word()
                        ),
                        "write e.g. capacity = \"500Mbps\"",
                    );
                    None
                }
            },
        };
        let latency = self.duration(&p.props.latency, defaults.latency, &p.label);
        let jitter = self.duration(&p.props.jitter, defaults.jitter, &p.label);
        let loss = self.ratio(&p.props.loss, defaults.loss, &p.label);
        let cost = match &p.cost {
            None => (latency.as_micros() / 100).max(1) as u32,
            Some(c) if *c.get_ref() >= 1 && *c.get_ref() <= u32::MAX as i64 => *c.get_ref() as u32,
            Some(c) => {
                self.err(
                    &c.span(),
                    &p.label,
                    "a routing cost must be a positive whole number",
                );
                1
            }
        };
        let (da, db) = (self.graph[p.a.0].domain, self.graph[p.b.0].domain);
        let border = p.kind.is_border();
        if !border && da != db {
            self.err_help(
                &p.span,
                &p.label,
                format!("a {} link cannot join \"{}\" and \"{}\": they are in different routing domains", p.kind.word(), self.graph[p.a.0].name, self.graph[p.b.0].name),
                "links between your network, the Internet and Microsoft are internet-access links or circuits",
            );
            return None;
        }
        if p.kind == LinkKind::InternetAccess && da != Domain::Internet && db != Domain::Internet {
            self.err(
                &p.span,
                &p.label,
                "an internet-access link must have the Internet at one end",
            );
            return None;
        }
        let owner = p.owner.unwrap_or_else(|| {
            if da == Domain::Internet {
                db.owner()
            } else {
                da.owner()
            }
        });
        let inner_domain = if da == Domain::Internet { db } else { da };
        let segment = match p.kind {
            LinkKind::Lan | LinkKind::Wan => match inner_domain {
                Domain::Customer | Domain::Organization(_) => Segment::Customer,
                Domain::Microsoft => Segment::Microsoft,
                Domain::Internet | Domain::Remote(_) => Segment::Internet,
            },
            LinkKind::InternetAccess => Segment::Internet,
            LinkKind::ExpressRoute => Segment::ExpressRoute,
            LinkKind::Backbone | LinkKind::Datacenter => Segment::Microsoft,
        };
        let advertise = p.advertise.as_ref().map(|list| {
            list.iter()
                .filter_map(|s| self.prefix(s, &p.label))
                .collect()
        });
        if p.advertise.is_some() && p.kind != LinkKind::InternetAccess {
            self.err(&p.span, &p.label, "only internet-access links advertise prefixes (circuits have their own `advertise`)");
        }
        let bandwidth_policy = p
            .policy
            .as_ref()
            .map(|bp| self.bandwidth_policy(bp, &p.label));
        let capacity = capacity?;
        let link = Link {
            name: p.name.clone(),
            kind: p.kind,
            segment,
            owner,
            capacity,
            quality: PathQuality {
                latency,
                jitter,
                loss,
            },
            cost,
            qos: p.qos,
            advertise,
            bandwidth_policy,
            circuit: p.circuit,
            implicit: p.implicit,
        };
        let id = LinkId(self.graph.add_edge(p.a.0, p.b.0, link));
        match self.names.get(&p.name) {
            Some(Named::Link(_)) | None => {
                self.names.insert(p.name.clone(), Named::Link(id));
            }
            Some(_) => {}
        }
        Some(id)
    }

    fn bandwidth_policy(&mut self, bp: &RawBandwidthPolicy, label: &str) -> BandwidthPolicy {
        let mut get = |q: &Option<Quantity>, what: &str| {
            q.as_ref().and_then(|q| self.bitrate(q, label, what))
        };
        let policy = BandwidthPolicy {
            audio: get(&bp.audio, "audio limit"),
            audio_session: get(&bp.audio_session, "audio session limit"),
            video: get(&bp.video, "video limit"),
            video_session: get(&bp.video_session, "video session limit"),
        };
        // SfB's floor values (New-CsNetworkBandwidthPolicyProfile).
        if let (Some(s), Some(q)) = (policy.audio_session, &bp.audio_session)
            && s < Bitrate::kbps(40)
        {
            self.err(
                &q.span(),
                label,
                "an audio session limit must be at least 40kbps (SfB's minimum)",
            );
        }
        if let (Some(s), Some(q)) = (policy.video_session, &bp.video_session)
            && s < Bitrate::kbps(100)
        {
            self.err(
                &q.span(),
                label,
                "a video session limit must be at least 100kbps (SfB's minimum)",
            );
        }
        policy
    }

    // ----- pass 3: settings that refer to links ------------------------------

    fn settings_with_links(&mut self) {
        for (node, idx) in std::mem::take(&mut self.generated_outside) {
            if let Some(Some(link)) = self.pending_ids.get(idx).copied()
                && let NodeKind::Nat(n) = &mut self.graph[node.0].kind
            {
                n.outside.push(link);
            }
        }
        for (node, int, ext) in std::mem::take(&mut self.edge_links) {
            let (Some(Some(i)), Some(Some(x))) = (
                self.pending_ids.get(int).copied(),
                self.pending_ids.get(ext).copied(),
            ) else {
                continue;
            };
            if let NodeKind::Edge(e) = &mut self.graph[node.0].kind {
                e.internal_link = i;
                e.external_link = x;
            }
        }
        for (node, n) in std::mem::take(&mut self.nat_raw) {
            let label = element("nat", n.name.get_ref());
            let outside: Vec<LinkId> = n
                .outside
                .iter()
                .filter_map(|o| self.link_touching(o, node, &label))
                .collect();
            if n.outside.is_empty() {
                self.err(
                    &n.name.span(),
                    &label,
                    "a NAT needs at least one `outside` link",
                );
            }
            if let NodeKind::Nat(nat) = &mut self.graph[node.0].kind {
                nat.outside = outside;
            }
        }
        for (node, r) in std::mem::take(&mut self.router_raw) {
            let label = element("router", r.name.get_ref());
            let mut routes = Vec::new();
            for route in &r.routes {
                let prefix = self.prefix(&route.prefix, &label);
                let via = self.link_touching(&route.via, node, &label);
                if let (Some(prefix), Some(via)) = (prefix, via) {
                    routes.push(StaticRoute { prefix, via });
                }
            }
            if let NodeKind::Router(router) = &mut self.graph[node.0].kind {
                router.static_routes = routes;
            }
        }
        self.server_references();
        self.proxy_egress();
    }

    /// Resolves a link name that must touch `node`.
    fn link_touching(
        &mut self,
        name: &Spanned<String>,
        node: NodeId,
        label: &str,
    ) -> Option<LinkId> {
        let link = match self.names.get(name.get_ref()).copied() {
            Some(Named::Link(l)) => l,
            Some(Named::Circuit(c)) => self.circuits.get(c.0 as usize).map(|c| c.primary)?,
            Some(_) => {
                self.err(
                    &name.span(),
                    label,
                    format!("\"{}\" is not a link", name.get_ref()),
                );
                return None;
            }
            None => {
                self.unknown(name, label, "link");
                return None;
            }
        };
        let (a, b) = self.graph.edge_endpoints(link.0)?;
        if a != node.0 && b != node.0 {
            self.err(
                &name.span(),
                label,
                format!("link \"{}\" does not touch this element", name.get_ref()),
            );
            return None;
        }
        Some(link)
    }

    fn server_references(&mut self) {
        let raw = self.raw;
        for s in &raw.servers {
            let label = element("server", s.name.get_ref());
            let Some(node) = self.node_of(&s.name) else {
                continue;
            };
            let edge = s.edge.as_ref().and_then(|e| {
                let n = self.node_ref(e, &label, "edge")?;
                if matches!(self.graph[n.0].kind, NodeKind::Edge(_)) {
                    Some(n)
                } else {
                    self.err(
                        &e.span(),
                        &label,
                        format!("\"{}\" is not an Edge server", e.get_ref()),
                    );
                    None
                }
            });
            let gateway = s.gateway.as_ref().and_then(|g| {
                let n = self.node_ref(g, &label, "gateway")?;
                if matches!(&self.graph[n.0].kind, NodeKind::Server(x) if x.kind == ServerKind::PstnGateway) {
                    Some(n)
                } else {
                    self.err(&g.span(), &label, format!("\"{}\" is not a pstn-gateway server", g.get_ref()));
                    None
                }
            });
            if let NodeKind::Server(server) = &mut self.graph[node.0].kind {
                server.edge = edge;
                server.gateway = gateway;
            }
        }
    }

    fn proxy_egress(&mut self) {
        let raw = self.raw;
        for p in &raw.proxies {
            let Some(egress) = &p.egress else { continue };
            let label = element("proxy", p.name.get_ref());
            let Some(node) = self.node_of(&p.name) else {
                continue;
            };
            let Some(target) = self.node_ref(egress, &label, "egress") else {
                continue;
            };
            if !self.graph.contains_edge(node.0, target.0) {
                self.err(
                    &egress.span(),
                    &label,
                    format!(
                        "the egress \"{}\" is not a neighbour of the proxy",
                        egress.get_ref()
                    ),
                );
                continue;
            }
            if let NodeKind::Proxy(proxy) = &mut self.graph[node.0].kind {
                proxy.egress = Some(target);
            }
        }
    }

    // ----- pass 4: circuits --------------------------------------------------

    fn circuits(&mut self) {
        let raw = self.raw;
        for c in &raw.circuits {
            let id = CircuitId(self.circuits.len() as u16);
            self.circuit(c);
            // A circuit that failed to build must not keep its id: the next
            // circuit takes it, and references would index past the list.
            if self.circuits.len() == id.0 as usize
                && self.names.get(c.name.get_ref()) == Some(&Named::Circuit(id))
            {
                self.forget(c.name.get_ref());
            }
        }
        // Partners' circuits: link them up and compute their reach.
        for id in 0..self.circuits.len() {
            let circuit = &self.circuits[id];
            if circuit.owner == Owner::Tenant {
                continue;
            }
            let name = format!("{}:primary", circuit.name);
            if let Some(Named::Link(l)) = self.names.get(&name).copied() {
                let bandwidth = self.circuits[id].bandwidth;
                self.graph[l.0].capacity = bandwidth;
                self.circuits[id].primary = l;
            }
            self.circuits[id].reach = self.reach(
                self.circuits[id].sku,
                self.circuits[id].microsoft_edge,
                &self.circuits[id].peering_location.clone(),
            );
        }
    }

    fn circuit(&mut self, c: &RawCircuit) {
        let label = element("circuit", c.name.get_ref());
        let id = CircuitId(self.circuits.len() as u16);
        if !self.register(&c.name, &label, Named::Circuit(id)) {
            return;
        }
        let sku = self.word(
            &c.sku,
            &label,
            "SKU",
            &[
                ("local", Sku::Local),
                ("standard", Sku::Standard),
                ("premium", Sku::Premium),
            ],
        );
        let bandwidth = self.bitrate(&c.bandwidth, &label, "bandwidth");
        let ce = self.node_ref(&c.customer_edge, &label, "customer edge");
        if let Some(ce) = ce
            && (!matches!(self.graph[ce.0].kind, NodeKind::Router(_))
                || self.graph[ce.0].domain != Domain::Customer)
        {
            self.err(
                &c.customer_edge.span(),
                &label,
                format!(
                    "the customer edge \"{}\" must be one of your routers",
                    c.customer_edge.get_ref()
                ),
            );
        }
        let region = match self.names.get(c.microsoft_edge.get_ref()).copied() {
            Some(Named::Region(r)) => Some(r),
            Some(_) => {
                self.err(
                    &c.microsoft_edge.span(),
                    &label,
                    format!(
                        "\"{}\" is not a Microsoft region",
                        c.microsoft_edge.get_ref()
                    ),
                );
                None
            }
            None => {
                self.unknown(&c.microsoft_edge, &label, "region");
                None
            }
        };
        let location = c.peering_location.get_ref().clone();
        if let Some(r) = region
            && !self.regions[r.0 as usize]
                .peering_locations
                .contains(&location)
        {
            let known = self.regions[r.0 as usize].peering_locations.join(", ");
            self.err_help(
                &c.peering_location.span(),
                &label,
                format!(
                    "region \"{}\" has no peering location \"{location}\"",
                    c.microsoft_edge.get_ref()
                ),
                format!(
                    "its peering locations are: {}",
                    if known.is_empty() { "none" } else { &known }
                ),
            );
        }
        let route_filter: Vec<Community> = c
            .route_filter
            .iter()
            .filter_map(|x| self.community(x, &label))
            .collect();
        let advertise: Vec<IpNet> = c
            .advertise
            .iter()
            .filter_map(|p| self.prefix(p, &label))
            .collect();
        let local_preference = match &c.local_preference {
            None => 100,
            Some(v) if (0..=u32::MAX as i64).contains(v.get_ref()) => *v.get_ref() as u32,
            Some(v) => {
                self.err(
                    &v.span(),
                    &label,
                    "local preference must be a whole number from 0",
                );
                100
            }
        };
        let (Some(sku), Some(bandwidth), Some(ce), Some(region)) = (sku, bandwidth, ce, region)
        else {
            return;
        };
        let region_node = self.regions[region.0 as usize].node;
        let props = RawLinkProperties {
            capacity: Some(c.bandwidth.clone()),
            latency: c.latency.clone(),
            jitter: c.jitter.clone(),
            loss: c.loss.clone(),
        };
        let make = |b: &mut Self, connection: Connection| {
            let name = format!(
                "{}:{}",
                c.name.get_ref(),
                if connection == Connection::Primary {
                    "primary"
                } else {
                    "secondary"
                }
            );
            b.make_link(&PendingLink {
                name,
                kind: LinkKind::ExpressRoute,
                a: ce,
                b: region_node,
                props: props.clone(),
                owner: Some(Owner::Tenant),
                span: c.name.span(),
                label: label.clone(),
                cost: None,
                qos: c.qos,
                advertise: None,
                policy: c.bandwidth_policy.clone(),
                circuit: Some((id, connection)),
                implicit: false,
            })
        };
        let Some(primary) = make(self, Connection::Primary) else {
            return;
        };
        let secondary = if c.secondary {
            make(self, Connection::Secondary)
        } else {
            None
        };
        let reach = self.reach(sku, region, &location);
        self.circuits.push(Circuit {
            name: c.name.get_ref().clone(),
            peering_location: location,
            bandwidth,
            sku,
            customer_edge: ce,
            microsoft_edge: region,
            reach,
            route_filter,
            advertise,
            qos: c.qos,
            local_preference,
            primary,
            secondary,
            owner: Owner::Tenant,
        });
    }

    /// The regions a circuit of `sku` landing in `region` at `location` reaches.
    fn reach(&self, sku: Sku, region: RegionId, location: &str) -> Vec<RegionId> {
        let geography = &self.regions[region.0 as usize].geography;
        (0..self.regions.len())
            .map(|i| RegionId(i as u16))
            .filter(|r| {
                let other = &self.regions[r.0 as usize];
                match sku {
                    Sku::Local => {
                        *r == region || other.peering_locations.iter().any(|p| p == location)
                    }
                    Sku::Standard => &other.geography == geography,
                    Sku::Premium => true,
                }
            })
            .collect()
    }

    // ----- pass 5: tenant and whole-topology checks --------------------------

    /// The topology may name the endpoint catalog; only the shipped one exists.
    fn endpoints(&mut self) {
        let Some(e) = &self.raw.endpoints else { return };
        if e.get_ref() != BUILTIN_CATALOG {
            self.err_help(
                &e.span(),
                "topology",
                format!("\"{}\" is not an endpoint catalog callflow ships", e.get_ref()),
                format!("the only one is \"{BUILTIN_CATALOG}\" (data/microsoft-365-endpoints.toml, list version {})", self.catalog.version()),
            );
        }
    }

    fn tenant(&mut self) {
        let Some(t) = &self.raw.tenant else {
            self.diags.error_in_file(
                self.file,
                None,
                "the topology has no [tenant] (it names the tenant's home region)",
            );
            return;
        };
        let home = match self.names.get(t.get_ref().home_region.get_ref()).copied() {
            Some(Named::Region(r)) => Some(r),
            Some(_) => {
                self.err(
                    &t.get_ref().home_region.span(),
                    "tenant",
                    "the home region is not a Microsoft region",
                );
                None
            }
            None => {
                self.unknown(&t.get_ref().home_region, "tenant", "home region");
                None
            }
        };
        let server_of = |b: &Self, kind: ServerKind| {
            b.graph.node_indices().map(NodeId).find(|&n| {
                let node = &b.graph[n.0];
                node.domain == Domain::Customer
                    && matches!(&node.kind, NodeKind::Server(s) if s.kind == kind)
            })
        };
        let front_end = server_of(self, ServerKind::FrontEnd);
        let cloud_connector = server_of(self, ServerKind::CloudConnector);
        let deployment = match (front_end, cloud_connector) {
            (Some(_), _) => Deployment::Hybrid,
            (None, Some(_)) => Deployment::CloudConnector,
            (None, None) => Deployment::Online,
        };
        if let Some(home) = home {
            self.tenant = Some(Tenant {
                name: t.get_ref().name.clone().unwrap_or_else(|| "tenant".into()),
                home_region: home,
                deployment,
                front_end,
                cloud_connector,
            });
        }
    }

    fn checks(&mut self) {
        self.check_overlaps();
        self.check_circuits();
        self.check_internet_advertisements();
    }

    /// Prefixes that must not overlap: the tenant's site subnets, NAT pools
    /// and public hosts; Microsoft's regions.
    fn check_overlaps(&mut self) {
        let mut seen: Vec<(IpNet, String)> = Vec::new();
        let mut problems = Vec::new();
        for n in self.graph.node_indices() {
            let node = &self.graph[n];
            let owned: Vec<IpNet> = match (&node.kind, node.domain) {
                (NodeKind::Site(s), Domain::Customer) => s.subnets.clone(),
                (NodeKind::Nat(nat), Domain::Customer) => nat.pool.clone(),
                (NodeKind::Region(_), _) => node.originates.clone(),
                _ => continue,
            };
            for p in owned {
                if let Some((q, other)) = seen.iter().find(|(q, _)| q.contains(&p) || p.contains(q))
                {
                    problems.push((
                        node.name.clone(),
                        node.kind.word(),
                        format!("{p} overlaps {q} of \"{other}\""),
                    ));
                }
                seen.push((p, node.name.clone()));
            }
        }
        for (name, kind, msg) in problems {
            let span = self.spans.get(&name).cloned().unwrap_or(0..0);
            self.err(&span, &element(kind, &name), msg);
        }
    }

    fn check_circuits(&mut self) {
        let raw = self.raw;
        let home = self.tenant.as_ref().map(|t| t.home_region);
        for c in &raw.circuits {
            let Some(Named::Circuit(id)) = self.names.get(c.name.get_ref()).copied() else {
                continue;
            };
            let Some(circuit) = self.circuits.get(id.0 as usize).cloned() else {
                continue;
            };
            let label = element("circuit", &circuit.name);
            if circuit.route_filter.is_empty() {
                self.err_help(&c.name.span(), &label, "the route filter admits no communities, so Microsoft peering advertises nothing", "add e.g. route_filter = [\"12076:5030\"] (Skype for Business and Teams)");
            } else if self.learned_prefixes(&circuit).is_empty() {
                let filter: Vec<String> =
                    circuit.route_filter.iter().map(|c| c.to_string()).collect();
                self.err(&c.name.span(), &label, format!("learns no Microsoft peering prefixes: no region it reaches originates a prefix tagged {}", filter.join(", ")));
            }
            if let Some(home) = home
                && !circuit.reach.contains(&home)
            {
                let home_name = self.regions[home.0 as usize].name.clone();
                self.err_help(
                    &c.sku.span(),
                    &label,
                    format!(
                        "a {} circuit at \"{}\" cannot reach the tenant's home region \"{home_name}\"",
                        circuit.sku.word(),
                        circuit.peering_location
                    ),
                    "use a premium circuit, or one in the home region's geography",
                );
            }
            for (p, raw_p) in valid_prefixes(&c.advertise) {
                if is_private(&p) {
                    self.err(&raw_p.span(), &label, format!("{p} is a private prefix; Microsoft peering accepts only public prefixes"));
                } else if !self.customer_originates(&p) {
                    self.err_help(
                        &raw_p.span(),
                        &label,
                        format!("advertises {p}, which nothing in your network originates"),
                        "advertise a NAT pool, a public subnet or a published address",
                    );
                }
            }
        }
    }

    /// Microsoft prefixes a circuit learns: those of regions in its reach
    /// whose catalog community its route filter admits.
    fn learned_prefixes(&self, c: &Circuit) -> Vec<IpNet> {
        c.reach
            .iter()
            .flat_map(|r| self.regions[r.0 as usize].prefixes.iter().copied())
            .filter(|p| {
                self.catalog
                    .expressroute_routable(p.network())
                    .is_some_and(|community| c.route_filter.contains(&community))
            })
            .collect()
    }

    fn customer_originates(&self, p: &IpNet) -> bool {
        self.graph.node_indices().any(|n| {
            let node = &self.graph[n];
            node.domain == Domain::Customer
                && node
                    .originates
                    .iter()
                    .any(|o| o.contains(p) || p.contains(o))
        })
    }

    fn check_internet_advertisements(&mut self) {
        let raw = self.raw;
        for l in &raw.links {
            let (Some(list), Some(Named::Link(id))) =
                (&l.advertise, self.names.get(l.name.get_ref()).copied())
            else {
                continue;
            };
            let label = element("link", l.name.get_ref());
            if self.graph[id.0].advertise.is_none() {
                continue;
            }
            for (p, raw_p) in valid_prefixes(list) {
                if is_private(&p) {
                    self.err(
                        &raw_p.span(),
                        &label,
                        format!("{p} is a private prefix; the Internet does not route it"),
                    );
                } else if !self.customer_originates(&p) {
                    self.err(
                        &raw_p.span(),
                        &label,
                        format!("advertises {p}, which nothing in your network originates"),
                    );
                }
            }
        }
    }

    fn finish(self) -> Option<Topology> {
        let tenant = self.tenant?;
        let transit = self.raw.internet.clone().unwrap_or_default();
        let file = self.file;
        let diags = self.diags;
        let mut quick = |q: &Option<Quantity>, default_us: u64| match q {
            None => SimDuration::from_micros(default_us),
            Some(q) => parse_duration(q.get_ref()).unwrap_or_else(|e| {
                diags.error(file, &q.span(), Some("internet".into()), e.to_string());
                SimDuration::ZERO
            }),
        };
        let latency = quick(&transit.latency, 15_000);
        let jitter = quick(&transit.jitter, 3_000);
        let loss = match &transit.loss {
            None => Ratio::new(0.001).expect("valid"),
            Some(q) => q.get_ref().parse::<Ratio>().unwrap_or_else(|e| {
                diags.error(file, &q.span(), Some("internet".into()), e.to_string());
                Ratio::ZERO
            }),
        };
        let sizing = sizing_settings(file, self.raw.sizing.as_ref(), diags);
        let name = self
            .raw
            .name
            .as_ref()
            .map(|n| n.get_ref().clone())
            .unwrap_or_else(|| file_stem(&file.path));
        Some(Topology {
            name,
            description: self.raw.description.clone(),
            tenant,
            catalog: self.catalog,
            address_sets: self.address_sets,
            graph: self.graph,
            internet: self.internet,
            internet_transit: PathQuality {
                latency,
                jitter,
                loss,
            },
            regions: self.regions,
            circuits: self.circuits,
            pacs: self.pacs,
            remotes: self.remotes,
            organizations: self.organizations,
            names: self.names,
            sizing,
        })
    }
}

struct OutsideNetwork<'r> {
    name: &'r str,
    span: Range<usize>,
    label: &'r str,
    domain: Domain,
    owner: Owner,
    site_kind: SiteKind,
    lane: Segment,
    subnet: &'r Spanned<String>,
    public: &'r Spanned<String>,
    nat: Option<&'r RawNatBehaviour>,
    firewall: Option<&'r RawInlineFirewall>,
    access: Option<&'r RawLinkProperties>,
}

struct BuiltOutside {
    site: NodeId,
    firewall: Option<NodeId>,
    router: NodeId,
    nat: NodeId,
    /// The users' subnet when it is public: no NAT translates it.
    public_subnet: Option<IpNet>,
}

/// A prefix as written, parsed (host bits may be set).
fn parse_prefix(s: &Spanned<String>) -> Result<IpNet, ipnet::AddrParseError> {
    IpNet::from_str(s.get_ref().trim())
}

/// The prefixes of a list that [`Builder::prefix`] accepts, each with the
/// text it was read from (the others were reported when it was read), so
/// a later check places its problem at the prefix it is about.
fn valid_prefixes(list: &[Spanned<String>]) -> impl Iterator<Item = (IpNet, &Spanned<String>)> {
    list.iter().filter_map(|s| match parse_prefix(s) {
        Ok(p) if p.trunc() == p => Some((p, s)),
        _ => None,
    })
}

fn with_default_capacity(mut props: RawLinkProperties, capacity: &str) -> RawLinkProperties {
    if props.capacity.is_none() {
        props.capacity = Some(Spanned::new(0..0, capacity.to_string()));
    }
    props
}

/// `"443"` or `"50000-59999"`.
pub(crate) fn parse_port_range(s: &str) -> Option<(u16, u16)> {
    let s = s.trim();
    let (lo, hi) = match s.split_once('-') {
        Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
        None => {
            let p = s.parse().ok()?;
            (p, p)
        }
    };
    (lo <= hi && lo > 0).then_some((lo, hi))
}

fn rule_text(r: &RawRule) -> String {
    let list = |m: &Option<OneOrMany>| {
        m.as_ref()
            .map(|m| m.get_ref().items().join(","))
            .unwrap_or_else(|| "any".into())
    };
    let mut s = format!(
        "{} {} {} -> {}",
        r.action.get_ref(),
        r.protocol
            .as_ref()
            .map(|p| p.get_ref().as_str())
            .unwrap_or("any"),
        list(&r.src),
        list(&r.dst)
    );
    if let Some(p) = &r.dst_ports {
        s.push_str(&format!(" port {}", p.get_ref().items().join(",")));
    }
    if let Some(n) = &r.note {
        s.push_str(&format!(" ({n})"));
    }
    s
}

fn article(word: &str) -> &'static str {
    if word.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}

fn file_stem(path: &str) -> String {
    let base = path.split(" (variant").next().unwrap_or(path);
    std::path::Path::new(base)
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "topology".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_ranges_parse_single_ports_and_ranges() {
        assert_eq!(parse_port_range("443"), Some((443, 443)));
        assert_eq!(parse_port_range("50000-59999"), Some((50_000, 59_999)));
        assert_eq!(parse_port_range("0"), None);
        assert_eq!(parse_port_range("9-1"), None);
        assert_eq!(parse_port_range("http"), None);
    }
}
