//! One-screen summaries of a validated topology and scenario, for
//! `callflow validate` and the top of reports.
//!
//! Owns wording only; the figures come straight from the model.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::model::{Domain, NodeKind, Owner, Topology};
use crate::validate::Study;

/// What a topology holds, in a few lines.
pub fn topology(t: &Topology) -> String {
    let mut out = String::new();
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for n in t.nodes() {
        let node = t.node(n);
        if node.domain == Domain::Customer {
            *kinds.entry(node.kind_word()).or_default() += 1;
        }
    }
    let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{n} {k}")).collect();
    let home = t.home_region();
    let _ = writeln!(
        out,
        "  {} ({} deployment), home region {}",
        t.name, t.tenant.deployment, home.name
    );
    let _ = writeln!(out, "  your network: {}", kinds.join(", "));
    let tenant_links = t
        .links()
        .filter(|&l| t.link(l).owner == Owner::Tenant)
        .count();
    let _ = writeln!(
        out,
        "  {} elements and {} links in all ({} yours); {} Microsoft region{}",
        t.graph.node_count(),
        t.graph.edge_count(),
        tenant_links,
        t.regions.len(),
        plural(t.regions.len())
    );
    for c in t.circuits.iter().filter(|c| c.owner == Owner::Tenant) {
        let reach: Vec<&str> = c.reach.iter().map(|&r| t.region(r).name.as_str()).collect();
        let _ = writeln!(
            out,
            "  circuit {}: {} {} at {}, reaches {}",
            c.name,
            c.bandwidth,
            c.sku.word(),
            c.peering_location,
            reach.join(", ")
        );
    }
    let remotes: Vec<&str> = t.remotes.iter().map(|r| r.name.as_str()).collect();
    let orgs: Vec<&str> = t.organizations.iter().map(|o| o.name.as_str()).collect();
    if !remotes.is_empty() {
        let _ = writeln!(out, "  remote locations: {}", remotes.join(", "));
    }
    if !orgs.is_empty() {
        let _ = writeln!(out, "  other organizations: {}", orgs.join(", "));
    }
    let edges = t
        .nodes()
        .filter(|&n| {
            matches!(t.node(n).kind, NodeKind::Edge(_)) && t.node(n).domain == Domain::Customer
        })
        .count();
    if edges > 0 {
        let _ = writeln!(out, "  {edges} Edge server{} of your own", plural(edges));
    }
    out.trim_end().to_string()
}

/// What a scenario holds, in a few lines.
pub fn scenario(study: &Study) -> String {
    let s = &study.scenario;
    let mut out = String::new();
    let users: u64 = s.groups.iter().map(|g| g.count as u64).sum();
    let _ = writeln!(
        out,
        "  {}: {} group{} ({} users), {} persona{}, seed {}, {} replication{}, {} from {:02}:{:02}",
        s.name,
        s.groups.len(),
        plural(s.groups.len()),
        users,
        s.personas.len(),
        plural(s.personas.len()),
        s.seed,
        s.replications,
        plural(s.replications as usize),
        s.duration,
        s.start.as_micros() / 3_600_000_000,
        (s.start.as_micros() / 60_000_000) % 60
    );
    let probes: Vec<&str> = s.probes.iter().map(|p| p.name.as_str()).collect();
    let _ = writeln!(
        out,
        "  {} probe{}: {}",
        probes.len(),
        plural(probes.len()),
        probes.join(", ")
    );
    if !study.variants.is_empty() {
        let v: Vec<&str> = study.variants.iter().map(|v| v.name.as_str()).collect();
        let _ = writeln!(
            out,
            "  {} variant{}: {}",
            v.len(),
            plural(v.len()),
            v.join(", ")
        );
    }
    out.trim_end().to_string()
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}
