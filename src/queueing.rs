//! Queueing on a loaded link: the delay, jitter and loss a packet of one
//! QoS class meets in a link's output queue, from the link's current load.
//!
//! Owns [`QosClass`] (the four classes Microsoft's ExpressRoute guidance and
//! provider orders use: EF, AF41, AF21 and default) and [`queueing`], the
//! load-dependent part of a hop's quality. Leaves out the link's own fixed
//! latency, jitter and loss (the topology's link models) and adding hops up
//! into a path (the engine's path quality, [`crate::engine::path_quality`]).
//!
//! # The model
//!
//! Each link direction is one output queue served at the link's capacity
//! `C`, fed by Poisson arrivals of packets of one mean size `L`: an M/M/1
//! queue (Kleinrock, *Queueing Systems* vol. 1, 1975, §3.2). With service
//! time `S = L / C` and utilization `ρ` the mean wait in queue is
//!
//! ```text
//! W = S · ρ / (1 − ρ)
//! ```
//!
//! and the wait's standard deviation is `S · √(ρ(2 − ρ)) / (1 − ρ)` (the
//! wait is 0 with probability 1 − ρ, else exponential with mean
//! S / (1 − ρ)). That standard deviation is what the hop adds to the
//! path's jitter: successive packets' waits differ by about that much
//! (RFC 3550's interarrival jitter of independent delays with deviation σ
//! is 2σ/√π ≈ 1.13σ; the difference is well inside the model's precision).
//!
//! - **What load a class sees** ([`QosClass::competing`]). On a link with
//!   QoS (`qos = true`), EF is served with strict priority and sees only EF
//!   load; AF41 is served next and sees EF + AF41; AF21 and default see the
//!   whole load. Without QoS every class sees the whole load. (With
//!   non-preemptive priority EF also waits for at most one lower-class
//!   packet already being sent, under `S`; left out.)
//! - **Packet size.** `L` = 1,500 bytes, a full Ethernet MTU: the packet a
//!   voice packet queues behind is mostly bulk data. It overstates the wait
//!   behind voice-only load (voice packets are about 200 bytes), so EF
//!   delays on a QoS link are an upper bound.
//! - **Buffer.** A router queue holds a finite backlog; the wait and its
//!   deviation are held at [`BUFFER_PACKETS`] service times. This is an
//!   assumption (router output queues are commonly tens to a few hundred
//!   packets deep), not a published figure.
//! - **Overload.** At `ρ ≥ 1` the queue is full: the wait and deviation sit
//!   at the buffer's limit and the excess `1 − 1/ρ` of the offered load is
//!   lost (a fluid view: the link carries `C`, the rest is dropped).
//! - A link without a capacity (0) never queues.
//!
//! The load is the link direction's offered constant-bitrate load at the
//! instant asked (the recorder's current rate), so the model reads what
//! every other call puts on a shared link at that moment.

use serde::Serialize;

use crate::net::packet::TrafficClass;
use crate::time::SimDuration;
use crate::units::{Bitrate, Ratio};

/// The mean packet size of the queue model, in bits (1,500 bytes).
pub const PACKET_BITS: u64 = 1_500 * 8;

/// How many service times the queue holds before it is full.
pub const BUFFER_PACKETS: u64 = 64;

/// A class of service as ExpressRoute providers and Microsoft's guidance
/// name them (domain.md §3.6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum QosClass {
    /// Expedited Forwarding, DSCP 46: voice.
    Ef,
    /// Assured Forwarding 41, DSCP 34: video.
    Af41,
    /// Assured Forwarding 21, DSCP 18: application sharing.
    Af21,
    /// Everything else (best effort, file transfer, signaling).
    Default,
}

impl QosClass {
    /// Every class, highest priority first.
    pub const ALL: [QosClass; 4] = [
        QosClass::Ef,
        QosClass::Af41,
        QosClass::Af21,
        QosClass::Default,
    ];

    /// The class a traffic class's DSCP marking puts it in: 46 EF, 34 AF41,
    /// 18 AF21, any other marking default.
    pub fn of(class: TrafficClass) -> QosClass {
        match class.dscp() {
            46 => QosClass::Ef,
            34 => QosClass::Af41,
            18 => QosClass::Af21,
            _ => QosClass::Default,
        }
    }

    /// The class's position in [`QosClass::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// The word used in output: `ef`, `af41`, `af21`, `default`.
    pub fn word(self) -> &'static str {
        match self {
            QosClass::Ef => "ef",
            QosClass::Af41 => "af41",
            QosClass::Af21 => "af21",
            QosClass::Default => "default",
        }
    }

    /// The load a packet of this class queues behind, from the link
    /// direction's load per class (in [`QosClass::ALL`] order): see the
    /// module docs.
    pub fn competing(self, qos: bool, load: &[u64; 4]) -> u64 {
        let upto = match (qos, self) {
            (true, QosClass::Ef) => 1,
            (true, QosClass::Af41) => 2,
            _ => 4,
        };
        load[..upto].iter().fold(0u64, |s, &r| s.saturating_add(r))
    }
}

/// What a link's output queue adds to one hop.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Queueing {
    /// Mean wait in the queue.
    pub delay: SimDuration,
    /// The wait's standard deviation (added to the path's jitter).
    pub jitter: SimDuration,
    /// Packets dropped because the queue is overloaded.
    pub loss: Ratio,
}

impl Queueing {
    /// No queue at all.
    pub const NONE: Queueing = Queueing {
        delay: SimDuration::ZERO,
        jitter: SimDuration::ZERO,
        loss: Ratio::ZERO,
    };
}

/// The queue a packet meets on a link of `capacity` offered `competing`
/// load of its own and higher priority (see [`QosClass::competing`]).
pub fn queueing(capacity: Bitrate, competing: Bitrate) -> Queueing {
    let c = capacity.as_bps();
    if c == 0 || competing.as_bps() == 0 {
        return Queueing::NONE;
    }
    // Service time in µs.
    let s = PACKET_BITS as f64 * 1e6 / c as f64;
    let cap = s * BUFFER_PACKETS as f64;
    let rho = competing.as_bps() as f64 / c as f64;
    if rho >= 1.0 {
        return Queueing {
            delay: micros(cap),
            jitter: micros(cap),
            loss: Ratio::new(1.0 - 1.0 / rho).unwrap_or(Ratio::ONE),
        };
    }
    let delay = (s * rho / (1.0 - rho)).min(cap);
    let jitter = (s * (rho * (2.0 - rho)).sqrt() / (1.0 - rho)).min(cap);
    Queueing {
        delay: micros(delay),
        jitter: micros(jitter),
        loss: Ratio::ZERO,
    }
}

fn micros(us: f64) -> SimDuration {
    SimDuration::from_micros(us.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mbps(m: u64) -> Bitrate {
        Bitrate::mbps(m)
    }

    #[test]
    fn an_idle_link_adds_nothing() {
        assert_eq!(queueing(mbps(100), Bitrate::ZERO), Queueing::NONE);
        // No capacity: never queues, however loaded.
        assert_eq!(queueing(Bitrate::ZERO, mbps(5)), Queueing::NONE);
    }

    #[test]
    fn half_load_waits_one_service_time() {
        // 10 Mbit/s: S = 12,000 bit / 10 Mbit/s = 1.2 ms; ρ = 0.5 → W = S.
        let q = queueing(mbps(10), mbps(5));
        assert_eq!(q.delay, SimDuration::from_micros(1_200));
        // σ = S·√(0.75)/0.5 = 2.078 ms.
        assert_eq!(q.jitter, SimDuration::from_micros(2_078));
        assert_eq!(q.loss, Ratio::ZERO);
        // ρ = 0.9 → W = 9 S = 10.8 ms.
        assert_eq!(
            queueing(mbps(10), mbps(9)).delay,
            SimDuration::from_micros(10_800)
        );
    }

    #[test]
    fn waits_are_held_at_the_buffer_and_overload_loses_the_excess() {
        // ρ = 0.999 would wait 999 S; the buffer holds 64 S = 76.8 ms.
        let q = queueing(mbps(10), Bitrate::bps(9_990_000));
        assert_eq!(q.delay, SimDuration::from_micros(76_800));
        assert_eq!(q.loss, Ratio::ZERO);
        // 125% offered: a fifth of it is dropped.
        let over = queueing(mbps(10), Bitrate::bps(12_500_000));
        assert_eq!(over.delay, SimDuration::from_micros(76_800));
        assert!((over.loss.get() - 0.2).abs() < 1e-12);
    }

    #[test]
    fn more_load_never_waits_less() {
        let mut last = Queueing::NONE;
        for kbps in (0..=12_000).step_by(250) {
            let q = queueing(mbps(10), Bitrate::kbps(kbps));
            assert!(q.delay >= last.delay && q.jitter >= last.jitter, "{kbps}");
            assert!(q.loss.get() >= last.loss.get());
            last = q;
        }
    }

    #[test]
    fn classes_follow_their_dscp() {
        assert_eq!(QosClass::of(TrafficClass::Audio), QosClass::Ef);
        assert_eq!(QosClass::of(TrafficClass::Video), QosClass::Af41);
        assert_eq!(QosClass::of(TrafficClass::Sharing), QosClass::Af21);
        for c in [
            TrafficClass::Signaling,
            TrafficClass::FileTransfer,
            TrafficClass::Web,
            TrafficClass::Streaming,
        ] {
            assert_eq!(QosClass::of(c), QosClass::Default, "{c:?}");
        }
    }

    #[test]
    fn with_qos_voice_sees_only_voice() {
        // 1 Mbit/s of voice, 2 of video, 3 of sharing, 8 of bulk.
        let load = [1_000_000, 2_000_000, 3_000_000, 8_000_000];
        assert_eq!(QosClass::Ef.competing(true, &load), 1_000_000);
        assert_eq!(QosClass::Af41.competing(true, &load), 3_000_000);
        assert_eq!(QosClass::Af21.competing(true, &load), 14_000_000);
        assert_eq!(QosClass::Default.competing(true, &load), 14_000_000);
        for class in QosClass::ALL {
            assert_eq!(class.competing(false, &load), 14_000_000);
        }
        // On a 10 Mbit/s link that load overloads everyone without QoS;
        // with QoS voice waits as on a 10% loaded link and loses nothing.
        let cap = mbps(10);
        let ef = queueing(cap, Bitrate::bps(QosClass::Ef.competing(true, &load)));
        let bulk_only = queueing(cap, Bitrate::bps(1_000_000));
        assert_eq!(ef, bulk_only);
        assert_eq!(ef.loss, Ratio::ZERO);
        let plain = queueing(cap, Bitrate::bps(QosClass::Ef.competing(false, &load)));
        assert!(plain.loss.get() > 0.28 && plain.delay > ef.delay);
    }
}
