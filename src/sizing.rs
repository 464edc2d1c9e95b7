//! ExpressRoute circuit sizing: the bitrate to provision per circuit and
//! QoS class, the tier that carries it with headroom, the EF queue, and a
//! cost only from prices the user gives.
//!
//! Owns [`Tier`] and [`TIERS`] (domain.md §4.1), the provisioning rule
//! ([`provision`]), and [`size`], which reads a run's partial results
//! (the per link, direction and class time-series bins and the per link
//! and direction resolution bins) into a [`Sizing`] (sizing.json). Leaves
//! out simulation and the run's other statistics (the summary).
//!
//! # Busy period
//!
//! Per circuit, the *busy hour*: the run of consecutive time-series bins
//! spanning one hour (every bin, if the run is shorter) that carries the
//! most bytes over the circuit's connections, both ways, summed over all
//! replications (the earliest such window on a tie). Percentiles are taken
//! over that window's bins of every replication, pooled, by nearest rank.
//!
//! # Per direction and class
//!
//! For each direction (toward Microsoft, from Microsoft), a bin's rate is
//! the sum over both connections: when one connection fails the other
//! carries everything, and each is bought at the circuit's full rate
//! (§4.1). Per QoS class (EF, AF41, AF21, default — the DSCP of each
//! traffic class, [`QosClass::of`]) the P95, P99 and peak come from the
//! time-series bins (the scenario's `bin`); the total's from the finer
//! resolution bins (60 s or `bin` if smaller). A class's percentiles are
//! therefore at the time-series bin's granularity: with 15-minute bins
//! and one replication, the busy hour has four.
//!
//! # The rule
//!
//! - **Demand**: the total's P99 in the busier direction.
//! - **Headroom** (§4.6, "Network planning with ExpressRoute"): the share
//!   of the circuit left free at the demand. 10% "will likely result in
//!   congestion", 80% "generally means unnecessary cost", typical targets
//!   are 20% to 50%. The topology's `[sizing] headroom` sets it; the
//!   default is 20%, the smallest typical target. Required bandwidth =
//!   demand / (1 − headroom).
//! - **EF queue**: traffic above the provider's committed EF bandwidth is
//!   discarded at once (§3.6, the SfB "ExpressRoute and QoS" article), so
//!   the EF queue is sized to the EF class's busy-hour *peak* bin, with the
//!   same headroom. No more than 30% of a link should be assigned to voice
//!   (§2.2), so the tier must also be at least EF queue / 0.3.
//! - **Tier**: the smallest of [`TIERS`] at least the required bandwidth
//!   and the EF bound; none if even 100 Gbps is too small (more circuits
//!   are needed).
//! - **Cost**: the monthly price the topology's `[[sizing.price]]` gives
//!   for the chosen tier. No price is ever assumed (Microsoft's per-tier
//!   prices are not in any stored source, §4.8): without one, no cost.
//!
//! Only the tenant's own circuits are sized; a partner's circuit is its
//! owner's purchase.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde::Serialize;

use crate::metrics::{CLASSES, LinkDir, Partial};
use crate::model::{Domain, LinkId, Owner, SizingSettings, Topology};
use crate::queueing::QosClass;
use crate::stats::percentile_of;
use crate::units::{Bitrate, Ratio};

/// Where a tier is sold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Offering {
    /// Through a connectivity provider: 50 Mbps to 10 Gbps. The 1 to 10
    /// Gbps sizes are also sold on ExpressRoute Direct 10 Gbps ports.
    Provider,
    /// ExpressRoute Direct on a 100 Gbps port pair: 40 and 100 Gbps (its
    /// 5 and 10 Gbps sizes are the provider tiers').
    Direct100G,
}

/// A circuit bandwidth one can buy (each way, per connection).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Tier {
    /// Bandwidth each way.
    pub bandwidth: Bitrate,
    /// Where it is sold.
    pub offering: Offering,
}

const fn tier(mbps: u64, offering: Offering) -> Tier {
    Tier {
        bandwidth: Bitrate::mbps(mbps),
        offering,
    }
}

/// Every circuit size, smallest first (domain.md §4.1: provider circuits
/// 50 Mbps to 10 Gbps; ExpressRoute Direct 100 Gbps ports add 40 and 100
/// Gbps).
pub const TIERS: [Tier; 10] = [
    tier(50, Offering::Provider),
    tier(100, Offering::Provider),
    tier(200, Offering::Provider),
    tier(500, Offering::Provider),
    tier(1_000, Offering::Provider),
    tier(2_000, Offering::Provider),
    tier(5_000, Offering::Provider),
    tier(10_000, Offering::Provider),
    tier(40_000, Offering::Direct100G),
    tier(100_000, Offering::Direct100G),
];

/// The tier of exactly `bandwidth`, if one is sold.
pub fn tier_of(bandwidth: Bitrate) -> Option<Tier> {
    TIERS.into_iter().find(|t| t.bandwidth == bandwidth)
}

/// The smallest tier carrying at least `need`, if any does.
pub fn smallest_tier(need: Bitrate) -> Option<Tier> {
    TIERS.into_iter().find(|t| t.bandwidth >= need)
}

/// The default headroom: the smallest typical target of §4.6.
pub const DEFAULT_HEADROOM: f64 = 0.2;

/// The most of a link voice should take (§2.2).
pub const MAX_VOICE_SHARE: f64 = 0.3;

/// What to buy for a demand: see the module docs for the rule.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Provision {
    /// The demand sized for (the busy hour's P99, busier direction).
    pub demand_bps: u64,
    /// The headroom applied.
    pub headroom: f64,
    /// demand / (1 − headroom), rounded up.
    pub required_bps: u64,
    /// The EF peak / (1 − headroom), rounded up.
    pub ef_queue_bps: u64,
    /// The smallest tier at least `required_bps` and `ef_queue_bps` / 0.3.
    pub tier: Option<Tier>,
    /// The share of the tier left free at the demand.
    pub headroom_left: Option<f64>,
    /// The EF queue's share of the tier.
    pub voice_share: Option<f64>,
}

/// Applies the rule to a `demand` with an EF peak of `ef_peak`.
pub fn provision(demand: Bitrate, ef_peak: Bitrate, headroom: Ratio) -> Provision {
    let keep = 1.0 - headroom.get();
    let up = |b: Bitrate, by: f64| (b.as_bps() as f64 / by).ceil() as u64;
    let required = up(demand, keep);
    let ef_queue = up(ef_peak, keep);
    let voice_bound = (ef_queue as f64 / MAX_VOICE_SHARE).ceil() as u64;
    let tier = smallest_tier(Bitrate::bps(required.max(voice_bound)));
    let of_tier = |x: u64| tier.map(|t| x as f64 / t.bandwidth.as_bps() as f64);
    Provision {
        demand_bps: demand.as_bps(),
        headroom: headroom.get(),
        required_bps: required,
        ef_queue_bps: ef_queue,
        tier,
        headroom_left: of_tier(demand.as_bps()).map(|used| 1.0 - used),
        voice_share: of_tier(ef_queue),
    }
}

/// Percentiles of one series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Percentiles {
    /// 95th percentile, bit/s.
    pub p95_bps: u64,
    /// 99th percentile, bit/s.
    pub p99_bps: u64,
    /// Largest bin, bit/s.
    pub peak_bps: u64,
}

impl Percentiles {
    fn of(mut rates: Vec<u64>) -> Percentiles {
        Percentiles {
            p95_bps: percentile_of(&mut rates, 95.0).unwrap_or(0),
            p99_bps: percentile_of(&mut rates, 99.0).unwrap_or(0),
            peak_bps: rates.iter().copied().max().unwrap_or(0),
        }
    }
}

/// One direction of a circuit in its busy hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DirectionSizing {
    /// `to-microsoft` or `from-microsoft`.
    pub direction: &'static str,
    /// Every class together (resolution bins).
    pub total: Percentiles,
    /// Per QoS class (`ef`, `af41`, `af21`, `default`; time-series bins).
    pub classes: BTreeMap<&'static str, Percentiles>,
}

/// One circuit's sizing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CircuitSizing {
    /// The circuit's name.
    pub name: String,
    /// Its peering location.
    pub peering_location: String,
    /// Its SKU.
    pub sku: &'static str,
    /// Its bandwidth as written in the topology.
    pub bandwidth_bps: u64,
    /// Start of the busy hour, seconds from the start of the run.
    pub busy_start_s: f64,
    /// Its length, seconds.
    pub busy_length_s: f64,
    /// Both directions.
    pub directions: Vec<DirectionSizing>,
    /// What to buy.
    pub provision: Provision,
    /// Whether the circuit as written carries the demand with the headroom
    /// and the EF queue within 30%.
    pub fits_current: bool,
    /// The monthly price of the chosen tier, if the topology gives one.
    pub monthly_price: Option<f64>,
}

/// sizing.json.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sizing {
    /// Format version.
    pub schema: &'static str,
    /// How many replications the percentiles pool.
    pub replications: usize,
    /// The headroom applied.
    pub headroom: f64,
    /// The currency of the prices, if any were given.
    pub currency: Option<String>,
    /// The tenant's circuits, in topology order.
    pub circuits: Vec<CircuitSizing>,
    /// Σ monthly prices, if every chosen tier has a price.
    pub monthly_total: Option<f64>,
    /// Chosen tiers without a price (bit/s), when prices were given.
    pub unpriced_tiers_bps: Vec<u64>,
}

/// Sizes the tenant's circuits of `topology` from a run's `partials` (one
/// per replication, all of one layout).
pub fn size(topology: &Topology, partials: &[Partial]) -> Sizing {
    let settings: &SizingSettings = &topology.sizing;
    let headroom = settings.headroom;
    let mut circuits = Vec::new();
    for c in topology
        .circuits
        .iter()
        .filter(|c| c.owner == Owner::Tenant)
    {
        let links: Vec<LinkId> = std::iter::once(c.primary).chain(c.secondary).collect();
        let Some(first) = partials.first() else {
            break;
        };
        let layout = first.layout();
        // Per direction (to, from Microsoft) the hops of each connection.
        let toward = |l: LinkId| {
            let (_, b) = topology.ends(l);
            if topology.node(b).domain == Domain::Microsoft {
                (LinkDir::AToB, LinkDir::BToA)
            } else {
                (LinkDir::BToA, LinkDir::AToB)
            }
        };
        let dirs: [Vec<(LinkId, LinkDir)>; 2] = [
            links.iter().map(|&l| (l, toward(l).0)).collect(),
            links.iter().map(|&l| (l, toward(l).1)).collect(),
        ];
        let series = layout.series_bins();
        let bin_us = layout.bin.as_micros().max(1);
        let window = (3_600_000_000u64.div_ceil(bin_us) as usize).clamp(1, series.max(1));
        // Bytes per series bin over every replication, class and direction.
        let mut load = vec![0u128; series];
        for p in partials {
            for hops in &dirs {
                for &(l, d) in hops {
                    for &class in &CLASSES {
                        for (k, v) in p.link_series(l, d, class).iter().enumerate() {
                            load[k] += v.bit_micros();
                        }
                    }
                }
            }
        }
        let start = (0..=series.saturating_sub(window))
            .map(|s| (s, load[s..s + window].iter().sum::<u128>()))
            .fold(
                (0usize, 0u128),
                |best, (s, sum)| if sum > best.1 { (s, sum) } else { best },
            )
            .0;
        let t0 = start as u64 * bin_us;
        let t1 = ((start + window) as u64 * bin_us).min(layout.duration.as_micros());
        let res_us = layout.resolution.as_micros().max(1);
        let (r0, r1) = ((t0 / res_us) as usize, t1.div_ceil(res_us) as usize);
        let mut directions = Vec::new();
        for (hops, word) in dirs.iter().zip(["to-microsoft", "from-microsoft"]) {
            let mut total = Vec::new();
            let mut per_class: [Vec<u64>; 4] = Default::default();
            for p in partials {
                for k in r0..r1.min(layout.resolution_bins()) {
                    let sum: u128 = hops
                        .iter()
                        .map(|&(l, d)| p.link_resolution(l, d)[k].bit_micros())
                        .sum();
                    total.push(rate(sum, layout.resolution_width(k).as_micros()));
                }
                for k in start..start + window {
                    let mut by_class = [0u128; 4];
                    for &class in &CLASSES {
                        let q = QosClass::of(class).index();
                        for &(l, d) in hops {
                            by_class[q] += p.link_series(l, d, class)[k].bit_micros();
                        }
                    }
                    for (q, sum) in by_class.iter().enumerate() {
                        per_class[q].push(rate(*sum, layout.series_width(k).as_micros()));
                    }
                }
            }
            directions.push(DirectionSizing {
                direction: word,
                total: Percentiles::of(total),
                classes: QosClass::ALL
                    .iter()
                    .zip(per_class)
                    .map(|(q, rates)| (q.word(), Percentiles::of(rates)))
                    .collect(),
            });
        }
        let demand = directions
            .iter()
            .map(|d| d.total.p99_bps)
            .max()
            .unwrap_or(0);
        let ef_peak = directions
            .iter()
            .map(|d| d.classes[QosClass::Ef.word()].peak_bps)
            .max()
            .unwrap_or(0);
        let provision = provision(Bitrate::bps(demand), Bitrate::bps(ef_peak), headroom);
        let current = c.bandwidth.as_bps();
        let fits_current = provision.required_bps <= current
            && provision.ef_queue_bps as f64 <= MAX_VOICE_SHARE * current as f64;
        let monthly_price = provision.tier.and_then(|t| settings.price(t.bandwidth));
        circuits.push(CircuitSizing {
            name: c.name.clone(),
            peering_location: c.peering_location.clone(),
            sku: c.sku.word(),
            bandwidth_bps: current,
            busy_start_s: t0 as f64 / 1e6,
            busy_length_s: (t1 - t0) as f64 / 1e6,
            directions,
            provision,
            fits_current,
            monthly_price,
        });
    }
    let priced = !settings.prices.is_empty();
    let mut unpriced: Vec<u64> = circuits
        .iter()
        .filter(|c| priced && c.monthly_price.is_none())
        .filter_map(|c| c.provision.tier.map(|t| t.bandwidth.as_bps()))
        .collect();
    unpriced.sort_unstable();
    unpriced.dedup();
    let all_priced = priced && circuits.iter().all(|c| c.monthly_price.is_some());
    Sizing {
        schema: "callflow-sizing/1",
        replications: partials.len(),
        headroom: headroom.get(),
        currency: settings.currency.clone(),
        monthly_total: all_priced.then(|| circuits.iter().filter_map(|c| c.monthly_price).sum()),
        circuits,
        unpriced_tiers_bps: unpriced,
    }
}

/// Whole bit/s of `bit_micros` over `width_us`.
fn rate(bit_micros: u128, width_us: u64) -> u64 {
    u64::try_from(bit_micros / u128::from(width_us.max(1))).unwrap_or(u64::MAX)
}

impl Sizing {
    /// sizing.json: pretty-printed, with a final newline.
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut out = serde_json::to_vec_pretty(self)?;
        out.push(b'\n');
        Ok(out)
    }

    /// A few lines for the terminal: one per circuit.
    pub fn terminal_lines(&self) -> String {
        let mut out = String::new();
        if self.circuits.is_empty() {
            return out;
        }
        let _ = writeln!(
            out,
            "\n  circuit sizing (busy hour P99, {:.0}% headroom)",
            self.headroom * 100.0
        );
        for c in &self.circuits {
            let p = &c.provision;
            let tier = p
                .tier
                .map(|t| t.bandwidth.to_string())
                .unwrap_or_else(|| "over 100 Gbps".into());
            let price = match (c.monthly_price, &self.currency) {
                (Some(v), Some(cur)) => format!(", {v:.2} {cur}/month"),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "  {:<24} P99 {} → need {} → {} (EF queue {}){}{}",
                c.name,
                Bitrate::bps(p.demand_bps),
                Bitrate::bps(p.required_bps),
                tier,
                Bitrate::bps(p.ef_queue_bps),
                if c.fits_current {
                    ""
                } else {
                    ", the circuit as written is too small"
                },
                price
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::{InvalidInput, SourceFile};
    use crate::metrics::Recorder;
    use crate::metrics::Stream;
    use crate::metrics::fixtures::{multi_site, scenario};
    use crate::net::packet::TrafficClass;
    use crate::time::{SimDuration, SimTime};

    fn ratio(x: f64) -> Ratio {
        Ratio::new(x).unwrap()
    }

    #[test]
    fn tiers_map_at_their_boundaries() {
        assert_eq!(
            smallest_tier(Bitrate::ZERO).unwrap().bandwidth,
            Bitrate::mbps(50)
        );
        assert_eq!(
            smallest_tier(Bitrate::mbps(50)).unwrap().bandwidth,
            Bitrate::mbps(50)
        );
        assert_eq!(
            smallest_tier(Bitrate::bps(50_000_001)).unwrap().bandwidth,
            Bitrate::mbps(100)
        );
        assert_eq!(
            smallest_tier(Bitrate::gbps(10)).unwrap().offering,
            Offering::Provider
        );
        let over = smallest_tier(Bitrate::bps(10_000_000_001)).unwrap();
        assert_eq!(
            (over.bandwidth, over.offering),
            (Bitrate::gbps(40), Offering::Direct100G)
        );
        assert_eq!(
            smallest_tier(Bitrate::gbps(100)).unwrap().bandwidth,
            Bitrate::gbps(100)
        );
        assert_eq!(smallest_tier(Bitrate::bps(100_000_000_001)), None);
        assert!(TIERS.windows(2).all(|w| w[0].bandwidth < w[1].bandwidth));
        assert_eq!(tier_of(Bitrate::mbps(200)), Some(TIERS[2]));
        assert_eq!(tier_of(Bitrate::mbps(300)), None);
    }

    #[test]
    fn headroom_and_the_voice_share_pick_the_tier() {
        // 80 Mbps at 20% headroom needs exactly 100 Mbps.
        let p = provision(Bitrate::mbps(80), Bitrate::ZERO, ratio(0.2));
        assert_eq!(p.required_bps, 100_000_000);
        assert_eq!(p.tier.unwrap().bandwidth, Bitrate::mbps(100));
        assert!((p.headroom_left.unwrap() - 0.2).abs() < 1e-12);
        // One bit more and it needs 200.
        let p = provision(Bitrate::bps(80_000_001), Bitrate::ZERO, ratio(0.2));
        assert_eq!(p.tier.unwrap().bandwidth, Bitrate::mbps(200));
        // 10 Mbps of demand, all voice: the EF queue (12.5 Mbps) must stay
        // within 30% of the tier, so 50 Mbps (25%) fits…
        let p = provision(Bitrate::mbps(10), Bitrate::mbps(10), ratio(0.2));
        assert_eq!(p.ef_queue_bps, 12_500_000);
        assert_eq!(p.tier.unwrap().bandwidth, Bitrate::mbps(50));
        assert!((p.voice_share.unwrap() - 0.25).abs() < 1e-12);
        // …but 16 Mbps of voice (a 20 Mbps queue, 40% of 50) needs 100.
        let p = provision(Bitrate::mbps(16), Bitrate::mbps(16), ratio(0.2));
        assert_eq!(p.tier.unwrap().bandwidth, Bitrate::mbps(100));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let p = Percentiles::of((1..=100).collect());
        assert_eq!((p.p95_bps, p.p99_bps, p.peak_bps), (95, 99, 100));
        assert_eq!(Percentiles::of(vec![]), Percentiles::default());
    }

    /// The multi-site example with `extra` appended, and the number of
    /// lines before it.
    fn with_sizing(extra: &str) -> (Result<Topology, String>, usize) {
        let path =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("topologies/multi-site.toml");
        let mut text = std::fs::read_to_string(path).expect("the example is readable");
        let lines = text.lines().count();
        text.push_str(extra);
        let t = crate::validate::topology_from_source(&SourceFile::new("t.toml", text))
            .map_err(|d| InvalidInput::from(d).render());
        (t, lines)
    }

    #[test]
    fn sizing_settings_are_read_and_checked() {
        let (t, _) = with_sizing(
            "\n[sizing]\nheadroom = \"30%\"\ncurrency = \"EUR\"\n\
             [[sizing.price]]\ntier = \"500Mbps\"\nmonthly = 20\n\
             [[sizing.price]]\ntier = \"200Mbps\"\nmonthly = 12.5\n",
        );
        let t = t.unwrap();
        assert_eq!(t.sizing.headroom.get(), 0.3);
        assert_eq!(t.sizing.currency.as_deref(), Some("EUR"));
        assert_eq!(
            t.sizing.prices,
            [(Bitrate::mbps(200), 12.5), (Bitrate::mbps(500), 20.0)]
        );
        let (plain, _) = with_sizing("");
        assert_eq!(plain.unwrap().sizing, SizingSettings::default());

        let (bad, n) = with_sizing(
            "\n[sizing]\nheadroom = \"100%\"\n\
             [[sizing.price]]\ntier = \"300Mbps\"\nmonthly = 1\n\
             [[sizing.price]]\ntier = \"50Mbps\"\nmonthly = -1\n\
             [[sizing.price]]\ntier = \"1Gbps\"\nmonthly = 3\n",
        );
        let text = bad.unwrap_err();
        for expected in [
            format!(
                "t.toml:{}:12: error: sizing: headroom must be below 100%",
                n + 3
            ),
            format!(
                "t.toml:{}:8: error: sizing: no circuit tier of 300 Mbps is sold",
                n + 5
            ),
            format!(
                "t.toml:{}:11: error: sizing: a monthly price must be a number of at least zero",
                n + 9
            ),
            format!("t.toml:{}:8: error: sizing: prices need a currency", n + 5),
        ] {
            assert!(text.contains(&expected), "{expected}\nnot in\n{text}");
        }
    }

    #[test]
    fn a_circuits_busy_hour_gives_its_percentiles_and_tier() {
        let t = multi_site();
        let sc = scenario(SimDuration::from_hours(3), SimDuration::from_mins(15));
        let c = &t.circuits[0];
        let (_, b) = t.ends(c.primary);
        let to_ms = if t.node(b).domain == Domain::Microsoft {
            LinkDir::AToB
        } else {
            LinkDir::BToA
        };
        let stream = |mbps: u64, class: TrafficClass| Stream {
            hops: vec![(c.primary, to_ms)].into(),
            rate: Bitrate::mbps(mbps),
            class,
        };
        let hour = |h: u64| SimTime::from_micros(h * 3_600_000_000);
        let mut r = Recorder::new(&t, &sc);
        // 10 Mbps of web traffic all along; in the second hour 40 Mbps of
        // voice and 20 of video on top.
        let web = stream(10, TrafficClass::Web);
        let (voice, video) = (
            stream(40, TrafficClass::Audio),
            stream(20, TrafficClass::Video),
        );
        r.stream_start(hour(0), &web);
        r.stream_start(hour(1), &voice);
        r.stream_start(hour(1), &video);
        r.stream_end(hour(2), &voice);
        r.stream_end(hour(2), &video);
        let s = size(&t, &[r.finish(hour(3))]);
        assert_eq!(s.circuits.len(), 1);
        let cs = &s.circuits[0];
        assert_eq!((cs.busy_start_s, cs.busy_length_s), (3_600.0, 3_600.0));
        let to = &cs.directions[0];
        assert_eq!(to.direction, "to-microsoft");
        assert_eq!(to.total.p99_bps, 70_000_000);
        assert_eq!(to.classes["ef"].peak_bps, 40_000_000);
        assert_eq!(to.classes["af41"].p95_bps, 20_000_000);
        assert_eq!(to.classes["default"].p99_bps, 10_000_000);
        assert_eq!(to.classes["af21"], Percentiles::default());
        assert_eq!(cs.directions[1].total, Percentiles::default());
        // 70 Mbps / 0.8 = 87.5 Mbps, but a 50 Mbps EF queue must be at most
        // 30% of the circuit: 200 Mbps.
        let p = &cs.provision;
        assert_eq!((p.required_bps, p.ef_queue_bps), (87_500_000, 50_000_000));
        assert_eq!(p.tier.map(|t| t.bandwidth), Some(Bitrate::mbps(200)));
        assert!(cs.fits_current);
        assert_eq!((cs.monthly_price, s.monthly_total), (None, None));
        assert!(s.terminal_lines().contains("er-nyc"));
    }
}
