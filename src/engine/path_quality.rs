//! Per-leg audio quality at call start: a media path's latency, jitter and
//! loss from the link models and the links' current load.
//!
//! Owns [`PathModel`], the per-link figures the evaluation needs (built
//! once per replication from the topology), and [`PathModel::leg`], which
//! turns a leg's two media paths into the [`StreamQuality`] of each audio
//! direction: delay, jitter, loss, E-model MOS, the CQD verdict and
//! Microsoft's targets for both scopes. Leaves out the queueing formula
//! ([`crate::queueing`]), the E-model and the rules ([`crate::quality`])
//! and aggregation ([`crate::metrics::call_quality`]).
//!
//! # Adding a path up
//!
//! Per hop: the link's latency plus the queueing delay of its output queue
//! in the direction crossed; jitters add as independent variances (root
//! sum of squares, as [`crate::model::PathQuality::then`] does); losses
//! combine as 1 − Π(1 − pᵢ), the link's own and the queue's overload loss.
//! Each pass through the Internet node adds the topology's Internet
//! transit. The round trip of a stream is its one-way delay plus the
//! reverse path's. Mouth-to-ear delay, as the E-model takes it, adds the
//! jitter buffer ([`crate::quality`]).
//!
//! # Target scopes (domain.md §2.1)
//!
//! A path reaching Microsoft's network (a hop with a Microsoft end) is
//! checked against both scopes; a path that never does (a peer-to-peer
//! call inside the network or between two users on the Internet) is not.
//!
//! - **Client to Microsoft edge**: every hop not inside Microsoft's network
//!   (a relayed peer-to-peer call's two client sides together).
//! - **Customer edge to Microsoft edge**: the hops between routing domains
//!   (the Internet access or ExpressRoute link, the Internet's peering with
//!   Microsoft) and the Internet transit; not the hops inside the
//!   customer's (or a remote user's) own network.
//!
//! Each part is judged one-way with a round trip of twice its delay.
//!
//! The evaluation touches only the hops and a fixed per-link table: no
//! allocation per call.

use crate::metrics::{LinkDir, Recorder, StreamQuality};
use crate::model::{Domain, LinkId, Topology};
use crate::net::packet::TrafficClass;
use crate::quality::{self, Codec, PathQuality, Scope, Targets};
use crate::queueing::{QosClass, queueing};
use crate::time::SimDuration;
use crate::units::{Bitrate, Ratio};

/// What a link contributes, fixed for the run.
#[derive(Debug, Clone, Copy)]
struct LinkModel {
    capacity: Bitrate,
    qos: bool,
    latency_us: u64,
    /// Jitter squared, µs².
    jitter_sq: f64,
    loss: f64,
    /// Both ends inside Microsoft's network.
    inside_microsoft: bool,
    /// An end in Microsoft's network.
    touches_microsoft: bool,
    /// Ends in different routing domains.
    between_domains: bool,
    /// An end is the Internet node.
    touches_internet: bool,
}

/// A part of a path being added up.
#[derive(Debug, Clone, Copy, Default)]
struct Sum {
    latency_us: u64,
    jitter_sq: f64,
    survive: f64,
}

impl Sum {
    fn new() -> Sum {
        Sum {
            survive: 1.0,
            ..Sum::default()
        }
    }

    fn add(&mut self, latency_us: u64, jitter_sq: f64, loss: f64) {
        self.latency_us = self.latency_us.saturating_add(latency_us);
        self.jitter_sq += jitter_sq;
        self.survive *= 1.0 - loss;
    }

    fn delay(&self) -> SimDuration {
        SimDuration::from_micros(self.latency_us)
    }

    fn jitter(&self) -> SimDuration {
        SimDuration::from_micros(self.jitter_sq.sqrt().round() as u64)
    }

    fn loss(&self) -> Ratio {
        Ratio::new(1.0 - self.survive).unwrap_or(Ratio::ONE)
    }

    /// The part judged on its own, its round trip twice its delay.
    fn symmetric(&self) -> PathQuality {
        PathQuality::symmetric(self.delay(), self.jitter(), self.loss())
    }
}

/// One direction of a path, added up: whole, and the parts the targets
/// judge.
#[derive(Debug, Clone, Copy)]
struct Direction {
    whole: Sum,
    client: Sum,
    edge: Sum,
    reaches_microsoft: bool,
}

/// The per-link figures a path's quality is added up from.
#[derive(Debug, Clone)]
pub struct PathModel {
    links: Vec<LinkModel>,
    transit: LinkModel,
}

impl PathModel {
    /// The figures of `topology`'s links.
    pub fn new(topology: &Topology) -> PathModel {
        let links = topology
            .links()
            .map(|l| {
                let link = topology.link(l);
                let (a, b) = topology.ends(l);
                let (da, db) = (topology.node(a).domain, topology.node(b).domain);
                let j = link.quality.jitter.as_micros() as f64;
                LinkModel {
                    capacity: link.capacity,
                    qos: link.qos,
                    latency_us: link.quality.latency.as_micros(),
                    jitter_sq: j * j,
                    loss: link.quality.loss.get(),
                    inside_microsoft: da == Domain::Microsoft && db == Domain::Microsoft,
                    touches_microsoft: da == Domain::Microsoft || db == Domain::Microsoft,
                    between_domains: da != db,
                    touches_internet: a == topology.internet || b == topology.internet,
                }
            })
            .collect();
        let t = topology.internet_transit;
        let j = t.jitter.as_micros() as f64;
        PathModel {
            links,
            transit: LinkModel {
                capacity: Bitrate::ZERO,
                qos: false,
                latency_us: t.latency.as_micros(),
                jitter_sq: j * j,
                loss: t.loss.get(),
                inside_microsoft: false,
                touches_microsoft: false,
                between_domains: true,
                touches_internet: false,
            },
        }
    }

    /// Adds up one direction of a path for a packet of `class`, with the
    /// load `recorder` sees on each hop now.
    fn direction(
        &self,
        hops: &[(LinkId, LinkDir)],
        class: QosClass,
        recorder: &Recorder,
    ) -> Direction {
        let mut d = Direction {
            whole: Sum::new(),
            client: Sum::new(),
            edge: Sum::new(),
            reaches_microsoft: false,
        };
        let mut internet_hops = 0u32;
        for &(link, dir) in hops {
            let m = &self.links[link.0.index()];
            let competing = class.competing(m.qos, &recorder.qos_load(link, dir));
            let q = queueing(m.capacity, Bitrate::bps(competing));
            let latency = m.latency_us.saturating_add(q.delay.as_micros());
            let qj = q.jitter.as_micros() as f64;
            let jitter_sq = m.jitter_sq + qj * qj;
            let loss = q
                .loss
                .either(Ratio::new(m.loss).unwrap_or(Ratio::ONE))
                .get();
            d.whole.add(latency, jitter_sq, loss);
            if !m.inside_microsoft {
                d.client.add(latency, jitter_sq, loss);
            }
            if m.between_domains {
                d.edge.add(latency, jitter_sq, loss);
            }
            d.reaches_microsoft |= m.touches_microsoft;
            internet_hops += u32::from(m.touches_internet);
        }
        // In and out of the Internet node is one crossing.
        let t = &self.transit;
        for _ in 0..internet_hops.div_ceil(2) {
            for part in [&mut d.whole, &mut d.client, &mut d.edge] {
                part.add(t.latency_us, t.jitter_sq, t.loss);
            }
        }
        d
    }

    /// The audio streams of a leg whose media runs `forward` (from the
    /// participant) and `back`, in `codec`: each direction's quality, MOS,
    /// CQD verdict and targets. Empty paths give no stream.
    pub fn leg(
        &self,
        forward: &[(LinkId, LinkDir)],
        back: &[(LinkId, LinkDir)],
        codec: Codec,
        recorder: &Recorder,
    ) -> ([StreamQuality; 2], usize) {
        let class = QosClass::of(TrafficClass::Audio);
        let fwd = self.direction(forward, class, recorder);
        let bwd = self.direction(back, class, recorder);
        let round_trip =
            SimDuration::from_micros(fwd.whole.latency_us.saturating_add(bwd.whole.latency_us));
        let stream = |d: &Direction| {
            let path = PathQuality {
                one_way_delay: d.whole.delay(),
                round_trip,
                jitter: d.whole.jitter(),
                loss: d.whole.loss(),
            };
            let client = Targets::for_scope(Scope::ClientToMicrosoftEdge);
            let edge = Targets::for_scope(Scope::CustomerEdgeToMicrosoftEdge);
            StreamQuality {
                path,
                mos: quality::mos(&path, codec),
                poor: quality::cqd_audio_poor(&path, codec),
                targets: d.reaches_microsoft.then(|| {
                    (
                        client.meets(&d.client.symmetric()),
                        edge.meets(&d.edge.symmetric()),
                    )
                }),
            }
        };
        let mut out = [stream(&fwd), stream(&bwd)];
        let n = match (forward.is_empty(), back.is_empty()) {
            (false, false) => 2,
            (false, true) => 1,
            (true, false) => {
                out[0] = out[1];
                1
            }
            (true, true) => 0,
        };
        (out, n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::Stream;
    use crate::metrics::fixtures::{multi_site, path, scenario};
    use crate::time::SimTime;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn a_known_path_adds_its_links_up() {
        let t = multi_site();
        let sc = scenario(SimDuration::from_hours(1), SimDuration::from_mins(15));
        let r = Recorder::new(&t, &sc);
        let model = PathModel::new(&t);
        let names = ["hq", "hq-core", "hq-fw", "hq-ce", "hq-inet-nat", "internet"];
        let fwd = path(&t, &names);
        let mut rev = names;
        rev.reverse();
        let back = path(&t, &rev);
        // Expected by hand from the links' own figures and one Internet
        // transit (a path that ends at the Internet node crosses it once).
        let mut latency = 0u64;
        let mut jitter_sq = 0.0;
        let mut survive = 1.0;
        for &(l, _) in &fwd {
            let q = t.link(l).quality;
            latency += q.latency.as_micros();
            jitter_sq += (q.jitter.as_micros() as f64).powi(2);
            survive *= 1.0 - q.loss.get();
        }
        let tr = t.internet_transit;
        latency += tr.latency.as_micros();
        jitter_sq += (tr.jitter.as_micros() as f64).powi(2);
        survive *= 1.0 - tr.loss.get();
        let (streams, n) = model.leg(&fwd, &back, Codec::G711, &r);
        assert_eq!(n, 2);
        let s = streams[0];
        assert_eq!(s.path.one_way_delay.as_micros(), latency);
        assert_eq!(s.path.jitter.as_micros(), jitter_sq.sqrt().round() as u64);
        assert!(close(s.path.loss.get(), 1.0 - survive, 1e-12));
        assert_eq!(s.path.round_trip.as_micros(), 2 * latency);
        assert!(close(s.mos, quality::mos(&s.path, Codec::G711), 1e-12));
        // The path never reaches Microsoft: no targets.
        assert_eq!(s.targets, None);
    }

    #[test]
    fn qos_shields_voice_from_bulk_load_and_its_absence_does_not() {
        let t = multi_site();
        let sc = scenario(SimDuration::from_hours(1), SimDuration::from_mins(15));
        let model = PathModel::new(&t);
        // A capacity-limited link of the example, crossed a→b.
        let link = t
            .links()
            .filter(|&l| t.link(l).capacity.as_bps() > 0)
            .min_by_key(|&l| t.link(l).capacity.as_bps())
            .expect("the example has a capacity-limited link");
        let hop = [(link, LinkDir::AToB)];
        let cap = t.link(link).capacity;
        let quiet = model.leg(&hop, &[], Codec::G711, &Recorder::new(&t, &sc)).0[0];
        // 90% of the capacity in bulk default-class traffic.
        let mut busy = Recorder::new(&t, &sc);
        busy.stream_start(
            SimTime::ZERO,
            &Stream {
                hops: hop.to_vec().into(),
                rate: Bitrate::bps(cap.as_bps() / 10 * 9),
                class: TrafficClass::Web,
            },
        );
        let mut with_qos = model.clone();
        with_qos.links[link.0.index()].qos = true;
        let mut without_qos = model.clone();
        without_qos.links[link.0.index()].qos = false;
        let shielded = with_qos.leg(&hop, &[], Codec::G711, &busy).0[0];
        let exposed = without_qos.leg(&hop, &[], Codec::G711, &busy).0[0];
        assert_eq!(shielded.path.one_way_delay, quiet.path.one_way_delay);
        // Without QoS: nine service times of 1,500 bytes more.
        let s_us = 12_000.0 * 1e6 / cap.as_bps() as f64;
        let extra = exposed.path.one_way_delay.as_micros() - quiet.path.one_way_delay.as_micros();
        assert!(close(extra as f64, 9.0 * s_us, 1.0), "{extra} µs");
        // Voice load itself delays voice even with QoS.
        busy.stream_start(
            SimTime::ZERO,
            &Stream {
                hops: hop.to_vec().into(),
                rate: Bitrate::bps(cap.as_bps() / 2),
                class: TrafficClass::Audio,
            },
        );
        let voice_loaded = with_qos.leg(&hop, &[], Codec::G711, &busy).0[0];
        assert!(voice_loaded.path.one_way_delay > quiet.path.one_way_delay);
    }
}
