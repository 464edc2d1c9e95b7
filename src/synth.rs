//! Synthetic enterprises: a topology and a scenario of any size, written as
//! the TOML a planner would write, for benchmarks and scale tests.
//!
//! Owns [`Enterprise`]: a headquarters with a stateful firewall, separate
//! NAT pools for the Internet and an ExpressRoute circuit, `sites − 1`
//! branch offices on WAN links to it, each with its own Internet breakout,
//! and home workers on the Internet; every user homed Online with the
//! built-in persona (Microsoft's user model). Link capacities grow with the
//! users behind them as a planner would size them: about 200 kbit/s per
//! user at a branch (at least 10 Mbit/s), a standard ExpressRoute bandwidth
//! for headquarters' share.
//!
//! Leaves out validation and running: the text goes through
//! [`crate::validate::study_from_sources`] like any file.

use std::fmt::Write;

/// Addresses of the synthetic tenant. Branch `i` (from 0) gets the /24
/// `10.(16 + i / 256).(i % 256).0` and, for its Internet breakout, the
/// public address `198.18.(i / 256).(i % 256)` from the benchmarking range
/// (RFC 2544), so up to [`Enterprise::MAX_SITES`] sites fit.
const BRANCH_BASE: u32 = 16;

/// A synthetic enterprise's size and run settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enterprise {
    /// Users in all, spread over headquarters (30%), home (10%) and the
    /// branches (the rest, evenly).
    pub users: u32,
    /// Sites, headquarters included (at least 1).
    pub sites: u32,
    /// Simulated hours.
    pub hours: u32,
    /// Replications.
    pub replications: u32,
    /// The master seed.
    pub seed: u64,
}

impl Enterprise {
    /// The most sites the address plan holds: 239 × 256 branches plus
    /// headquarters.
    pub const MAX_SITES: u32 = (256 - BRANCH_BASE - 1) * 256 + 1;

    /// `users` users on `sites` sites (clamped to 1 ..= [`Self::MAX_SITES`]),
    /// an 8-hour day, one replication, seed 1.
    pub fn new(users: u32, sites: u32) -> Enterprise {
        Enterprise {
            users,
            sites: sites.clamp(1, Self::MAX_SITES),
            hours: 8,
            replications: 1,
            seed: 1,
        }
    }

    fn branches(&self) -> u32 {
        self.sites.clamp(1, Self::MAX_SITES) - 1
    }

    /// Users at headquarters, at home, and at each branch (the first
    /// `extra` branches one more).
    fn split(&self) -> (u32, u32, u32, u32) {
        let branches = self.branches();
        let home = self.users / 10;
        let hq_share = if branches == 0 {
            self.users - home
        } else {
            self.users * 3 / 10
        };
        let rest = self.users - home - hq_share;
        match rest.checked_div(branches) {
            Some(each) => (hq_share, home, each, rest % branches),
            None => (hq_share + rest, home, 0, 0),
        }
    }

    /// The topology, as TOML.
    pub fn topology_toml(&self) -> String {
        let (hq_users, _, per_branch, extra) = self.split();
        let mut t = String::new();
        let _ = writeln!(
            t,
            r#"name = "synthetic"
description = "A synthetic enterprise: {users} users, headquarters with ExpressRoute, {branches} branches with local Internet breakout, home workers"

[tenant]
name = "Synthetic"
home_region = "us-east"

[[region]]
name = "us-east"
geography = "north-america"
peering_locations = ["New York", "Washington DC"]
prefixes = ["52.112.0.0/16", "52.96.0.0/16"]
internet = {{ latency = "2ms" }}
service = [
  {{ kind = "online-edge", address = "52.112.1.10" }},
  {{ kind = "registrar", address = "52.112.2.10" }},
  {{ kind = "conferencing", address = "52.112.3.10" }},
  {{ kind = "phone-system", address = "52.112.4.10" }},
  {{ kind = "broadcast", address = "52.112.5.10" }},
  {{ kind = "web", address = "52.96.1.10" }},
]

[[site]]
name = "hq"
kind = "office"
location = "New York"
subnets = ["10.1.0.0/16"]

[[router]]
name = "hq-core"
site = "hq"

[[firewall]]
name = "hq-fw"
stateful = true
idle_timeout = "60s"
default = "deny"
rule = [{{ action = "allow", src = "10.0.0.0/8", note = "everything from inside goes out" }}]

[[router]]
name = "hq-ce"
site = "hq"

[[nat]]
name = "hq-inet-nat"
pool = ["198.51.100.0/27"]
preset = "port-restricted-cone"
outside = ["hq-isp"]

[[nat]]
name = "hq-er-nat"
pool = ["198.51.100.32/28"]
preset = "port-restricted-cone"
outside = ["hq-er-nat-ce"]

[[router]]
name = "hq-er-ce"
site = "hq"

[[link]]
name = "hq-lan"
kind = "lan"
ends = ["hq", "hq-core"]
capacity = "10Gbps"

[[link]]
name = "hq-core-fw"
kind = "lan"
ends = ["hq-core", "hq-fw"]
capacity = "10Gbps"

[[link]]
name = "hq-fw-ce"
kind = "lan"
ends = ["hq-fw", "hq-ce"]
capacity = "10Gbps"

[[link]]
name = "hq-ce-inet-nat"
kind = "lan"
ends = ["hq-ce", "hq-inet-nat"]
capacity = "10Gbps"

[[link]]
name = "hq-ce-er-nat"
kind = "lan"
ends = ["hq-ce", "hq-er-nat"]
capacity = "10Gbps"

[[link]]
name = "hq-er-nat-ce"
kind = "lan"
ends = ["hq-er-nat", "hq-er-ce"]
capacity = "10Gbps"

[[link]]
name = "hq-isp"
kind = "internet-access"
ends = ["hq-inet-nat", "internet"]
capacity = "{isp}"
latency = "4ms"
jitter = "1ms"
loss = "0.05%"
advertise = ["198.51.100.0/27"]

[[circuit]]
name = "er"
peering_location = "New York"
bandwidth = "{er}"
sku = "standard"
customer_edge = "hq-er-ce"
microsoft_edge = "us-east"
route_filter = ["12076:5030"]
advertise = ["198.51.100.32/28"]
qos = true
latency = "1.5ms"

[[remote]]
name = "home"
kind = "home"
subnet = "192.168.1.0/24"
public = "192.0.2.10"
nat = {{ preset = "port-restricted-cone" }}
access = {{ capacity = "100Mbps", latency = "12ms", jitter = "3ms", loss = "0.2%" }}

[[server]]
name = "public-dns"
kind = "dns"
address = "203.0.113.170"
at = "internet"

[[server]]
name = "crl"
kind = "crl"
address = "203.0.113.140"
at = "internet"

[[server]]
name = "telemetry"
kind = "telemetry"
address = "203.0.113.100"
at = "internet""#,
            users = self.users,
            branches = self.branches(),
            isp = mbps(u64::from(hq_users) * 200 / 1000, 100),
            er = circuit_bandwidth(u64::from(hq_users) * 100),
        );
        for i in 0..self.branches() {
            let users = per_branch + u32::from(i < extra);
            let capacity = mbps(u64::from(users) * 200 / 1000, 10);
            let (hi, lo) = (i / 256, i % 256);
            // Branches sit 5 to 40 ms from headquarters, by number.
            let latency = 5 + (i % 36);
            let _ = writeln!(
                t,
                r#"
[[site]]
name = "b{i}"
location = "Branch {i}"
subnets = ["10.{net}.{lo}.0/24"]

[[router]]
name = "b{i}-r"
site = "b{i}"

[[nat]]
name = "b{i}-nat"
pool = ["198.18.{hi}.{lo}/32"]
preset = "port-restricted-cone"
outside = ["b{i}-isp"]

[[link]]
name = "b{i}-lan"
kind = "lan"
ends = ["b{i}", "b{i}-r"]

[[link]]
name = "b{i}-wan"
kind = "wan"
ends = ["b{i}-r", "hq-core"]
capacity = "{capacity}"
latency = "{latency}ms"
jitter = "1ms"
qos = true

[[link]]
name = "b{i}-r-nat"
kind = "lan"
ends = ["b{i}-r", "b{i}-nat"]

[[link]]
name = "b{i}-isp"
kind = "internet-access"
ends = ["b{i}-nat", "internet"]
capacity = "{capacity}"
latency = "5ms"
jitter = "1ms"
loss = "0.05%""#,
                net = BRANCH_BASE + hi,
            );
        }
        t
    }

    /// The scenario, as TOML; `topology` is the path its `topology` key
    /// names (relative to where the scenario file would be).
    pub fn scenario_toml(&self, topology: &str) -> String {
        let (hq, home, per_branch, extra) = self.split();
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"name = "synthetic"
description = "A working day of a synthetic enterprise with Microsoft's user model"
topology = "{topology}"
seed = {seed}
replications = {replications}
duration = "{hours}h"
bin = "15m"

[[group]]
name = "hq-staff"
at = "hq"
homed = "online"
count = {hq}"#,
            seed = self.seed,
            replications = self.replications,
            hours = self.hours.max(1),
        );
        if home > 0 {
            let _ = writeln!(
                s,
                "\n[[group]]\nname = \"home-workers\"\nat = \"home\"\nhomed = \"online\"\ncount = {home}"
            );
        }
        for i in 0..self.branches() {
            let users = per_branch + u32::from(i < extra);
            if users > 0 {
                let _ = writeln!(
                    s,
                    "\n[[group]]\nname = \"b{i}-staff\"\nat = \"b{i}\"\nhomed = \"online\"\ncount = {users}"
                );
            }
        }
        s
    }
}

/// The topology and scenario of `users` users on `sites` sites, an 8-hour
/// day; the scenario names the topology as `synthetic.toml` beside it.
pub fn enterprise(users: u32, sites: u32) -> (String, String) {
    let e = Enterprise::new(users, sites);
    (e.topology_toml(), e.scenario_toml("synthetic.toml"))
}

/// `n` Mbit/s, at least `floor`.
fn mbps(n: u64, floor: u64) -> String {
    format!("{}Mbps", n.max(floor))
}

/// The smallest standard ExpressRoute bandwidth carrying `kbps`.
fn circuit_bandwidth(kbps: u64) -> &'static str {
    const STEPS: [(u64, &str); 9] = [
        (50_000, "50Mbps"),
        (100_000, "100Mbps"),
        (200_000, "200Mbps"),
        (500_000, "500Mbps"),
        (1_000_000, "1Gbps"),
        (2_000_000, "2Gbps"),
        (5_000_000, "5Gbps"),
        (10_000_000, "10Gbps"),
        (u64::MAX, "10Gbps"),
    ];
    STEPS
        .iter()
        .find(|(cap, _)| kbps <= *cap)
        .map_or("10Gbps", |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceFile;
    use crate::validate::study_from_sources;

    fn study(e: &Enterprise) -> crate::validate::Study {
        study_from_sources(
            SourceFile::new("synthetic.toml", e.topology_toml()),
            SourceFile::new("synthetic-scenario.toml", e.scenario_toml("synthetic.toml")),
        )
        .unwrap_or_else(|d| panic!("the synthetic enterprise validates: {d:?}"))
    }

    #[test]
    fn a_synthetic_enterprise_validates_and_holds_every_user() {
        let e = Enterprise {
            hours: 10,
            replications: 3,
            seed: 9,
            ..Enterprise::new(10_007, 13)
        };
        let st = study(&e);
        let s = &st.scenario;
        assert_eq!(s.groups.iter().map(|g| g.count).sum::<u32>(), 10_007);
        // Headquarters, home, twelve branches.
        assert_eq!(s.groups.len(), 14);
        assert_eq!(s.replications, 3);
        assert_eq!(s.seed, 9);
        assert_eq!(s.duration, crate::time::SimDuration::from_hours(10));
        let t = &st.topology;
        assert!(
            t.links().any(|l| t.link(l).circuit.is_some()),
            "the circuit"
        );
        for name in ["hq-isp", "b0-wan", "b11-isp", "hq-lan"] {
            assert!(t.links().any(|l| t.link(l).name == name), "{name}");
        }
        let count = |g: &str| s.groups.iter().find(|x| x.name == g).unwrap().count;
        assert_eq!(count("hq-staff"), 3002);
        assert_eq!(count("home-workers"), 1000);
        // 6005 over 12 branches: 500 each, the first five 501.
        assert_eq!((count("b0-staff"), count("b4-staff")), (501, 501));
        assert_eq!(count("b5-staff"), 500);
    }

    #[test]
    fn capacities_follow_the_users_behind_them() {
        let (topology, scenario) = enterprise(100_000, 200);
        let st = study_from_sources(
            SourceFile::new("synthetic.toml", topology),
            SourceFile::new("synthetic-scenario.toml", scenario),
        )
        .expect("the benchmark's enterprise validates");
        let t = &st.topology;
        let capacity = |name: &str| {
            let l = t.links().find(|&l| t.link(l).name == name).unwrap();
            t.link(l).capacity
        };
        // 60,000 branch users over 199 branches: 301 or 302 each, 60 Mbit/s.
        assert_eq!(capacity("b0-wan"), crate::units::Bitrate::mbps(60));
        // 30,000 at headquarters: 6 Gbit/s of Internet.
        assert_eq!(capacity("hq-isp"), crate::units::Bitrate::gbps(6));
        assert_eq!(circuit_bandwidth(30_000 * 100), "5Gbps");
        assert_eq!(st.scenario.groups.len(), 201);
    }

    #[test]
    fn one_site_is_headquarters_and_home_only() {
        let st = study(&Enterprise::new(50, 1));
        let names: Vec<&str> = st.scenario.groups.iter().map(|g| g.name.as_str()).collect();
        assert_eq!(names, ["hq-staff", "home-workers"]);
        assert_eq!(st.scenario.groups[0].count, 45);
    }

    #[test]
    fn the_address_plan_reaches_its_last_site() {
        let e = Enterprise::new(1, u32::MAX);
        assert_eq!(e.sites, Enterprise::MAX_SITES);
        let last = Enterprise::MAX_SITES - 2;
        let text = e.topology_toml();
        let hi = last / 256;
        assert!(text.contains(&format!(
            "subnets = [\"10.{}.{}.0/24\"]",
            16 + hi,
            last % 256
        )));
        assert_eq!(16 + hi, 254);
        assert!(text.contains(&format!("pool = [\"198.18.{}.{}/32\"]", hi, last % 256)));
    }
}
