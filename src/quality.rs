//! Call quality prediction for audio: the ITU-T G.107 E-model, Microsoft's
//! network performance targets, and the Call Quality Dashboard (CQD) "Poor"
//! rule.
//!
//! Owns turning a path's delay, jitter and loss into an R factor and a MOS
//! for a codec, checking a path against the targets Microsoft publishes for
//! Skype for Business Online and Teams, and classifying an audio stream the
//! way CQD does. Leaves out how a path's delay, jitter and loss come about
//! (the network layer adds them up hop by hop) and video and screen
//! sharing, which have no E-model.
//!
//! # The E-model as implemented
//!
//! R = Ro − Is − Id − Ie,eff + A (G.107), narrowband, every parameter at its
//! G.107 Table 3 default except the delays and the codec:
//!
//! - SLR 8 dB, RLR 2 dB, STMR 15 dB, LSTR 18 dB, Ds 3, TELR 65 dB,
//!   WEPL 110 dB, qdu 1, Nc −70 dBm0p, Nfor −64 dBmp, Ps = Pr = 35 dB(A),
//!   A = 0 (wired users expect full quality). With these, Ro = 94.77 and
//!   Is = 1.41, and R = 93.2 on a path with no delay, jitter or loss.
//! - Id = Idte + Idle + Idd, the full G.107 formulas rather than a linear
//!   simplification, with the mean one-way delay T and the absolute delay Ta
//!   both the path's mouth-to-ear delay and the round trip Tr = 2·Ta. Idd is
//!   zero up to 100 ms and follows G.107's Idd formula beyond. Talker echo
//!   (Idte, with TELR 65 dB) costs about 2.8 points at 150 ms; listener echo
//!   (Idle) under 1.3 up to 400 ms. One deviation: G.107's Idte dips to
//!   about −0.1 for echo delays under 4 ms; it is held at zero so that more
//!   delay never raises R.
//! - Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl/BurstR + Bpl), with Ppl the path's
//!   loss in percent and BurstR = 1: loss is taken as random, since a path
//!   here carries a loss rate and no burst structure. The term approaches
//!   95 only slowly: even total loss rates R ≈ 17 (MOS 1.18) for G.711, so
//!   read predictions for heavy loss as "very poor" rather than exact.
//! - MOS from R by G.107 Annex B: 1 + 0.035R + R(R − 60)(100 − R)·7·10⁻⁶,
//!   1 below R = 0, 4.5 above R = 100. The cubic dips to 0.99 just above
//!   R = 0; it is held at 1 there, which keeps MOS non-decreasing in R.
//!
//! Mouth-to-ear delay Ta is the path's one-way network delay plus a fixed
//! jitter buffer of twice the path's jitter (a common rule for a buffer deep
//! enough that few packets arrive too late for it; packets that still do are
//! not counted as loss). Codec framing, look-ahead and device delay are left
//! out: add them to the path's one-way delay to include them.
//!
//! # Codec impairments
//!
//! Ie and Bpl for G.711 and G.729A are G.113 Appendix I's planning values
//! (payload rates below are from the SfB network requirements table).
//! The other codecs are not in G.113's narrowband tables; their values are
//! **assumptions**, each marked [`ImpairmentSource::Assumed`] and explained
//! on its [`Codec`] variant. The rule used: a wideband codec gets Ie = 0
//! (the narrowband E-model can credit nothing above G.711, so wideband
//! audio scores as G.711 does); a low-rate narrowband codec takes the Ie of
//! the G.113 codec nearest its bit rate; codecs with modern concealment or
//! in-band redundancy (SILK, Opus, G.722) take G.711-with-concealment's
//! Bpl, older 20 ms frame codecs (RTAudio, Siren) take G.729A's.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::engine::CallKind;
use crate::model::CodecProfile;
use crate::time::SimDuration;
use crate::units::Ratio;

/// How a media path looks to the audio stream crossing it, in one
/// direction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PathQuality {
    /// Network delay from sender to receiver (add codec and device delay
    /// here if they should count).
    pub one_way_delay: SimDuration,
    /// Round-trip time of the path and its return path, which may differ
    /// from twice the one-way delay when the return path is another route.
    pub round_trip: SimDuration,
    /// Packet inter-arrival jitter (the RFC 3550 measure, as CQD and the
    /// targets use).
    pub jitter: SimDuration,
    /// The fraction of packets lost, taken as random loss.
    pub loss: Ratio,
}

impl PathQuality {
    /// A path with no delay, jitter or loss.
    pub const PERFECT: PathQuality = PathQuality {
        one_way_delay: SimDuration::ZERO,
        round_trip: SimDuration::ZERO,
        jitter: SimDuration::ZERO,
        loss: Ratio::ZERO,
    };

    /// A path whose return leg mirrors the forward one: the round trip is
    /// twice the one-way delay.
    pub fn symmetric(one_way_delay: SimDuration, jitter: SimDuration, loss: Ratio) -> Self {
        PathQuality {
            one_way_delay,
            round_trip: one_way_delay.saturating_mul(2),
            jitter,
            loss,
        }
    }

    /// The delay a fixed jitter buffer sized for this path adds: twice the
    /// jitter.
    pub fn jitter_buffer(&self) -> SimDuration {
        self.jitter.saturating_mul(2)
    }

    /// Mouth-to-ear delay as the E-model sees it (its Ta): one-way delay
    /// plus the jitter buffer.
    pub fn mouth_to_ear(&self) -> SimDuration {
        SimDuration::from_micros(
            self.one_way_delay
                .as_micros()
                .saturating_add(self.jitter_buffer().as_micros()),
        )
    }
}

/// Audio codecs of Skype for Business and Teams, plus the G.113 reference
/// codecs their assumed impairments are anchored to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Codec {
    /// G.711 with packet loss concealment (G.711 Appendix I), as SfB and
    /// Teams endpoints decode it. G.113: Ie 0, Bpl 25.1.
    G711,
    /// G.711 decoded without concealment (some PSTN gateways). G.113:
    /// Ie 0, Bpl 4.3.
    G711WithoutPlc,
    /// G.729A (8 kbit/s CELP, 20 ms packets). G.113: Ie 11, Bpl 19.0.
    G729A,
    /// G.722 (64 kbit/s wideband, conferencing). Assumed Ie 0 (wideband),
    /// Bpl 25.1 (as G.711 with concealment: a waveform codec with G.722
    /// Appendix III/IV concealment).
    G722,
    /// Siren (16 kbit/s payload, wideband transform codec, conferencing). Assumed
    /// Ie 0 (wideband), Bpl 19.0 (as G.729A: 20 ms frames, older
    /// concealment).
    Siren,
    /// SILK wideband (20 to 36 kbit/s payload, P2P). Assumed Ie 0
    /// (wideband), Bpl 25.1 (modern concealment and in-band FEC).
    SilkWideband,
    /// SILK narrowband (13 kbit/s payload). Assumed Ie 5 (G.113's value
    /// for GSM-EFR at 12.2 kbit/s, the nearest rate), Bpl 25.1 (modern
    /// concealment and in-band FEC).
    SilkNarrowband,
    /// RTAudio wideband (29 kbit/s payload, P2P). Assumed Ie 0 (wideband),
    /// Bpl 19.0 (as G.729A: 20 ms frames, older concealment).
    RtAudioWideband,
    /// RTAudio narrowband (11.8 kbit/s payload, PSTN). Assumed Ie 5
    /// (G.113's value for GSM-EFR at 12.2 kbit/s, the nearest rate),
    /// Bpl 19.0 (as G.729A: 20 ms frames, older concealment).
    RtAudioNarrowband,
    /// Opus (Teams). Assumed Ie 0 (wideband), Bpl 25.1 (modern concealment
    /// and in-band FEC).
    Opus,
}

/// Where a codec's impairment values come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImpairmentSource {
    /// ITU-T G.113 Appendix I planning values.
    G113,
    /// This module's documented assumption; the codec is not in G.113.
    Assumed,
}

/// A codec's E-model equipment impairment.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CodecImpairment {
    /// Equipment impairment factor Ie with no loss, in R points.
    pub ie: f64,
    /// Packet-loss robustness factor Bpl (dimensionless; larger is more
    /// robust).
    pub bpl: f64,
    /// Whether the figures are G.113's or assumed.
    pub source: ImpairmentSource,
}

impl Codec {
    /// Every codec, in declaration order.
    pub const ALL: [Codec; 10] = [
        Codec::G711,
        Codec::G711WithoutPlc,
        Codec::G729A,
        Codec::G722,
        Codec::Siren,
        Codec::SilkWideband,
        Codec::SilkNarrowband,
        Codec::RtAudioWideband,
        Codec::RtAudioNarrowband,
        Codec::Opus,
    ];

    /// The codec's Ie and Bpl and where they come from (see each variant).
    pub const fn impairment(self) -> CodecImpairment {
        use ImpairmentSource::{Assumed, G113};
        let (ie, bpl, source) = match self {
            Codec::G711 => (0.0, 25.1, G113),
            Codec::G711WithoutPlc => (0.0, 4.3, G113),
            Codec::G729A => (11.0, 19.0, G113),
            Codec::G722 | Codec::SilkWideband | Codec::Opus => (0.0, 25.1, Assumed),
            Codec::Siren | Codec::RtAudioWideband => (0.0, 19.0, Assumed),
            Codec::SilkNarrowband => (5.0, 25.1, Assumed),
            Codec::RtAudioNarrowband => (5.0, 19.0, Assumed),
        };
        CodecImpairment { ie, bpl, source }
    }
}

/// The terms of one E-model evaluation, in R points.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct EModel {
    /// Basic signal-to-noise ratio Ro.
    pub ro: f64,
    /// Simultaneous impairment Is.
    pub is: f64,
    /// Talker-echo delay impairment Idte.
    pub idte: f64,
    /// Listener-echo delay impairment Idle.
    pub idle: f64,
    /// Absolute-delay impairment Idd.
    pub idd: f64,
    /// Effective equipment impairment Ie,eff (codec plus loss).
    pub ie_eff: f64,
}

impl EModel {
    /// The delay impairment Id = Idte + Idle + Idd.
    pub fn id(&self) -> f64 {
        self.idte + self.idle + self.idd
    }

    /// The transmission rating R = Ro − Is − Id − Ie,eff + A, with A = 0.
    /// Not clamped: a very bad path can rate below zero.
    pub fn r(&self) -> f64 {
        self.ro - self.is - self.id() - self.ie_eff
    }
}

/// Evaluates the E-model for `codec` over `path`, term by term.
pub fn e_model(path: &PathQuality, codec: Codec) -> EModel {
    let ta = path.mouth_to_ear().as_millis_f64();
    let CodecImpairment { ie, bpl, .. } = codec.impairment();
    let ppl = path.loss.percent();
    let fixed = FixedTerms::at_defaults();
    EModel {
        ro: fixed.ro,
        is: fixed.is,
        idte: talker_echo(&fixed, ta),
        idle: listener_echo(&fixed, 2.0 * ta),
        idd: absolute_delay(ta),
        ie_eff: ie + (95.0 - ie) * ppl / (ppl / BURST_R + bpl),
    }
}

/// The E-model rating R of `codec` over `path` (see [`EModel::r`]).
pub fn r_factor(path: &PathQuality, codec: Codec) -> f64 {
    e_model(path, codec).r()
}

/// The predicted mean opinion score (1 to 4.5) of `codec` over `path`.
pub fn mos(path: &PathQuality, codec: Codec) -> f64 {
    mos_from_r(r_factor(path, codec))
}

/// MOS from R by G.107 Annex B, held within 1 to 4.5 (see module docs).
pub fn mos_from_r(r: f64) -> f64 {
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        (1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6).max(1.0)
    }
}

/// How much MOS the network costs `codec`: MOS over a perfect path minus
/// MOS over `path`. CQD's "network MOS degradation".
pub fn mos_degradation(path: &PathQuality, codec: Codec) -> f64 {
    mos(&PathQuality::PERFECT, codec) - mos(path, codec)
}

// G.107 Table 3 defaults (the ones the formulas below use; Dr, T, Tr and Ta
// come from the path, Ie and Bpl from the codec).
const SLR: f64 = 8.0;
const RLR: f64 = 2.0;
const STMR: f64 = 15.0;
const LSTR: f64 = 18.0;
const DS: f64 = 3.0;
const TELR: f64 = 65.0;
const WEPL: f64 = 110.0;
const QDU: f64 = 1.0;
const NC: f64 = -70.0;
const NFOR: f64 = -64.0;
const PS: f64 = 35.0;
const PR: f64 = 35.0;
/// Random loss.
const BURST_R: f64 = 1.0;

/// The E-model terms that depend only on the default parameters.
struct FixedTerms {
    /// Total noise No, dBm0p.
    no: f64,
    ro: f64,
    is: f64,
}

impl FixedTerms {
    fn at_defaults() -> FixedTerms {
        let olr = SLR + RLR;
        let nos = PS - SLR - DS - 100.0 + 0.004 * (PS - olr - DS - 14.0).powi(2);
        let pre = PR + 10.0 * (1.0 + 10f64.powf((10.0 - LSTR) / 10.0)).log10();
        let nor = RLR - 121.0 + pre + 0.008 * (pre - 35.0).powi(2);
        let nfo = NFOR + RLR;
        let no = 10.0
            * [NC, nos, nor, nfo]
                .iter()
                .map(|level| 10f64.powf(level / 10.0))
                .sum::<f64>()
                .log10();
        let ro = 15.0 - 1.5 * (SLR + no);

        let xolr = olr + 0.2 * (64.0 + no - RLR);
        let iolr = 20.0 * ((1.0 + (xolr / 8.0).powi(8)).powf(1.0 / 8.0) - xolr / 8.0);
        // Sidetone masking rating, taken at T = 0 for every path: its
        // talker-echo term e^(−T/4)·10^(−TELR/10) is at most 10^−6.5 against
        // sidetone's 10^−1.5, so Is changes by under 10^−7 with delay.
        let stmro = -10.0 * (10f64.powf(-STMR / 10.0) + 10f64.powf(-TELR / 10.0)).log10();
        let ist = 12.0 * (1.0 + ((stmro - 13.0) / 6.0).powi(8)).powf(1.0 / 8.0)
            - 28.0 * (1.0 + ((stmro + 1.0) / 19.4).powi(35)).powf(1.0 / 35.0)
            - 13.0 * (1.0 + ((stmro - 3.0) / 33.0).powi(13)).powf(1.0 / 13.0)
            + 29.0;
        let q = 37.0 - 15.0 * QDU.log10();
        let g = 1.07 + 0.258 * q + 0.0602 * q * q;
        let y = (ro - 100.0) / 15.0 + 46.0 / 8.4 - g / 9.0;
        let z = 46.0 / 30.0 - g / 40.0;
        let iq = 15.0 * (1.0 + 10f64.powf(y) + 10f64.powf(z)).log10();
        FixedTerms {
            no,
            ro,
            is: iolr + ist + iq,
        }
    }
}

/// Talker-echo impairment Idte for a mean one-way delay of `t` ms, held at
/// zero where G.107's formula dips below it (t under about 4 ms).
fn talker_echo(fixed: &FixedTerms, t: f64) -> f64 {
    let terv =
        TELR - 40.0 * ((1.0 + t / 10.0) / (1.0 + t / 150.0)).log10() + 6.0 * (-0.3 * t * t).exp();
    let roe = -1.5 * (fixed.no - RLR);
    let re = 80.0 + 2.5 * (terv - 14.0);
    let gap = roe - re;
    let idte = (gap / 2.0 + (gap * gap / 4.0 + 100.0).sqrt() - 1.0) * (1.0 - (-t).exp());
    idte.max(0.0)
}

/// Listener-echo impairment Idle for a round trip of `tr` ms.
fn listener_echo(fixed: &FixedTerms, tr: f64) -> f64 {
    let rle = 10.5 * (WEPL + 7.0) * (tr + 1.0).powf(-0.25);
    let gap = fixed.ro - rle;
    gap / 2.0 + (gap * gap / 4.0 + 169.0).sqrt()
}

/// Absolute-delay impairment Idd for a one-way delay of `ta` ms (G.107 with
/// mT = 100 ms and sT = 1, the defaults).
fn absolute_delay(ta: f64) -> f64 {
    if ta <= 100.0 {
        return 0.0;
    }
    let x = (ta / 100.0).log2();
    25.0 * ((1.0 + x.powi(6)).powf(1.0 / 6.0) - 3.0 * (1.0 + (x / 3.0).powi(6)).powf(1.0 / 6.0)
        + 2.0)
}

/// Which of Microsoft's two measurement scopes a target applies to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    /// From the client to the Microsoft network edge: Wi-Fi or Ethernet, the
    /// internal WAN and the Internet or ExpressRoute partner link.
    ClientToMicrosoftEdge,
    /// From the customer's network edge to the Microsoft network edge: the
    /// Internet or ExpressRoute partner alone, as used for ExpressRoute
    /// provider SLA negotiation.
    CustomerEdgeToMicrosoftEdge,
}

/// Microsoft's network performance targets for SfB Online and Teams media
/// ("Media quality and network connectivity performance", 2018, repeated in
/// the Teams network preparation guide). Each figure is a limit a healthy
/// path stays strictly below, under peak load, with the customer site and
/// the Microsoft edge on the same continent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Targets {
    /// One-way latency.
    pub one_way_latency: SimDuration,
    /// Round-trip latency.
    pub round_trip: SimDuration,
    /// Packet loss in any 200 ms interval. Not checked by
    /// [`Targets::check`]: a [`PathQuality`] carries no burst structure.
    pub burst_loss: Ratio,
    /// Packet loss in any 15 s interval.
    pub loss: Ratio,
    /// Packet inter-arrival jitter in any 15 s interval.
    pub jitter: SimDuration,
    /// Packets out of order. Not checked by [`Targets::check`]: a
    /// [`PathQuality`] does not model reordering.
    pub reorder: Ratio,
}

impl Targets {
    /// The published targets for `scope`.
    pub fn for_scope(scope: Scope) -> Targets {
        match scope {
            Scope::ClientToMicrosoftEdge => Targets {
                one_way_latency: SimDuration::from_millis(50),
                round_trip: SimDuration::from_millis(100),
                burst_loss: fraction(0.10),
                loss: fraction(0.01),
                jitter: SimDuration::from_millis(30),
                reorder: fraction(0.0005),
            },
            Scope::CustomerEdgeToMicrosoftEdge => Targets {
                one_way_latency: SimDuration::from_millis(30),
                round_trip: SimDuration::from_millis(60),
                burst_loss: fraction(0.01),
                loss: fraction(0.001),
                jitter: SimDuration::from_millis(15),
                reorder: fraction(0.0001),
            },
        }
    }

    /// The targets `path` misses, in the order of the published table:
    /// one-way latency, round trip, loss, jitter. The path's loss rate
    /// stands in for the worst 15 s interval, so a path that meets the
    /// target on average can still miss it in a bad interval.
    pub fn check(&self, path: &PathQuality) -> Vec<TargetMiss> {
        let mut misses = Vec::new();
        if path.one_way_delay >= self.one_way_latency {
            misses.push(TargetMiss::OneWayLatency {
                measured: path.one_way_delay,
                target: self.one_way_latency,
            });
        }
        if path.round_trip >= self.round_trip {
            misses.push(TargetMiss::RoundTrip {
                measured: path.round_trip,
                target: self.round_trip,
            });
        }
        if path.loss >= self.loss {
            misses.push(TargetMiss::PacketLoss {
                measured: path.loss,
                target: self.loss,
            });
        }
        if path.jitter >= self.jitter {
            misses.push(TargetMiss::Jitter {
                measured: path.jitter,
                target: self.jitter,
            });
        }
        misses
    }
}

impl Targets {
    /// Whether `path` meets every target [`Targets::check`] checks: the
    /// same rule, without listing the misses (and without allocating).
    pub fn meets(&self, path: &PathQuality) -> bool {
        path.one_way_delay < self.one_way_latency
            && path.round_trip < self.round_trip
            && path.loss < self.loss
            && path.jitter < self.jitter
    }
}

/// The targets of `scope` that `path` misses (see [`Targets::check`]).
pub fn check(path: &PathQuality, scope: Scope) -> Vec<TargetMiss> {
    Targets::for_scope(scope).check(path)
}

/// One target a path missed: the metric, what the path measured and the
/// limit it should have stayed below.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetMiss {
    /// One-way latency at or over its target.
    OneWayLatency {
        /// The path's one-way delay.
        measured: SimDuration,
        /// The limit.
        target: SimDuration,
    },
    /// Round-trip latency at or over its target.
    RoundTrip {
        /// The path's round trip.
        measured: SimDuration,
        /// The limit.
        target: SimDuration,
    },
    /// Packet loss at or over its target.
    PacketLoss {
        /// The path's loss.
        measured: Ratio,
        /// The limit.
        target: Ratio,
    },
    /// Jitter at or over its target.
    Jitter {
        /// The path's jitter.
        measured: SimDuration,
        /// The limit.
        target: SimDuration,
    },
}

impl fmt::Display for TargetMiss {
    /// `one-way latency 62ms, target under 50ms (12ms over)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (name, measured, target, over) = match *self {
            TargetMiss::OneWayLatency { measured, target } => (
                "one-way latency",
                measured.to_string(),
                target.to_string(),
                duration_over(measured, target),
            ),
            TargetMiss::RoundTrip { measured, target } => (
                "round trip",
                measured.to_string(),
                target.to_string(),
                duration_over(measured, target),
            ),
            TargetMiss::PacketLoss { measured, target } => {
                let over = Ratio::new(measured.get() - target.get()).unwrap_or(Ratio::ZERO);
                (
                    "packet loss",
                    measured.to_string(),
                    target.to_string(),
                    over.to_string(),
                )
            }
            TargetMiss::Jitter { measured, target } => (
                "jitter",
                measured.to_string(),
                target.to_string(),
                duration_over(measured, target),
            ),
        };
        write!(f, "{name} {measured}, target under {target} ({over} over)")
    }
}

fn duration_over(measured: SimDuration, target: SimDuration) -> String {
    SimDuration::from_micros(measured.as_micros().saturating_sub(target.as_micros())).to_string()
}

/// A published target as a [`Ratio`].
fn fraction(f: f64) -> Ratio {
    Ratio::new(f).expect("published targets are fractions between 0 and 1")
}

/// CQD classifies audio as Poor above this round trip.
pub const CQD_MAX_ROUND_TRIP: SimDuration = SimDuration::from_millis(500);
/// CQD classifies audio as Poor above this loss (a fraction).
pub const CQD_MAX_LOSS: f64 = 0.1;
/// CQD classifies audio as Poor above this jitter.
pub const CQD_MAX_JITTER: SimDuration = SimDuration::from_millis(30);
/// CQD classifies audio as Poor above this network MOS degradation.
pub const CQD_MAX_MOS_DEGRADATION: f64 = 1.0;

/// A condition that makes CQD classify an audio stream as Poor, with the
/// value that tripped it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PoorAudio {
    /// Round trip over [`CQD_MAX_ROUND_TRIP`].
    RoundTrip(SimDuration),
    /// Packet loss over [`CQD_MAX_LOSS`].
    PacketLoss(Ratio),
    /// Jitter over [`CQD_MAX_JITTER`].
    Jitter(SimDuration),
    /// Network MOS degradation (see [`mos_degradation`]) over
    /// [`CQD_MAX_MOS_DEGRADATION`].
    MosDegradation(f64),
}

/// Every CQD "Poor" condition `path` trips for an audio stream in `codec`,
/// in the order round trip, loss, jitter, MOS degradation. Empty means the
/// stream is Good.
///
/// CQD's fifth audio condition, a concealed-samples ratio over 0.07, is
/// left out: it is measured in the client, not predicted from the path.
/// Loss over 10% nearly always trips MOS degradation too, since the
/// E-model alone puts 10% random loss at about 1 MOS point.
pub fn cqd_audio_poor_conditions(path: &PathQuality, codec: Codec) -> Vec<PoorAudio> {
    let mut tripped = Vec::new();
    if path.round_trip > CQD_MAX_ROUND_TRIP {
        tripped.push(PoorAudio::RoundTrip(path.round_trip));
    }
    if path.loss.get() > CQD_MAX_LOSS {
        tripped.push(PoorAudio::PacketLoss(path.loss));
    }
    if path.jitter > CQD_MAX_JITTER {
        tripped.push(PoorAudio::Jitter(path.jitter));
    }
    let degradation = mos_degradation(path, codec);
    if degradation > CQD_MAX_MOS_DEGRADATION {
        tripped.push(PoorAudio::MosDegradation(degradation));
    }
    tripped
}

/// Whether CQD would classify an audio stream in `codec` over `path` as
/// Poor (see [`cqd_audio_poor_conditions`] for which condition tripped).
pub fn cqd_audio_poor(path: &PathQuality, codec: Codec) -> bool {
    // The conditions of `cqd_audio_poor_conditions`, without a list.
    path.round_trip > CQD_MAX_ROUND_TRIP
        || path.loss.get() > CQD_MAX_LOSS
        || path.jitter > CQD_MAX_JITTER
        || mos_degradation(path, codec) > CQD_MAX_MOS_DEGRADATION
}

/// The codec a call's audio is predicted with: for Skype for Business the
/// codecs of `codec`'s tables (SILK wideband peer to peer and federated,
/// G.722 in conferences, G.711 to the PSTN); for Teams, Opus (Teams'
/// codecs are not published, domain.md §1.7; Opus is the assumed one, see
/// [`Codec::Opus`]). A broadcast is a buffered one-way stream, not a
/// conversation: it has no E-model and gets `None`.
pub fn audio_codec(profile: CodecProfile, kind: CallKind) -> Option<Codec> {
    match (profile, kind) {
        (_, CallKind::Broadcast) => None,
        (CodecProfile::Teams, _) => Some(Codec::Opus),
        (CodecProfile::Sfb, CallKind::PeerToPeer | CallKind::Federated) => {
            Some(Codec::SilkWideband)
        }
        (CodecProfile::Sfb, CallKind::Conference) => Some(Codec::G722),
        (CodecProfile::Sfb, CallKind::Pstn) => Some(Codec::G711),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(v: u64) -> SimDuration {
        SimDuration::from_millis(v)
    }

    fn loss(p: f64) -> Ratio {
        Ratio::new(p).unwrap()
    }

    fn delay_only(one_way_ms: u64) -> PathQuality {
        PathQuality::symmetric(ms(one_way_ms), SimDuration::ZERO, Ratio::ZERO)
    }

    fn loss_only(p: f64) -> PathQuality {
        PathQuality::symmetric(SimDuration::ZERO, SimDuration::ZERO, loss(p))
    }

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn defaults_give_the_g107_reference_rating() {
        let e = e_model(&PathQuality::PERFECT, Codec::G711);
        assert!(close(e.ro, 94.77, 0.005), "Ro {}", e.ro);
        assert!(close(e.is, 1.41, 0.005), "Is {}", e.is);
        assert!(close(e.idle, 0.15, 0.005), "Idle {}", e.idle);
        assert_eq!((e.idte, e.idd, e.ie_eff), (0.0, 0.0, 0.0));
        let r = r_factor(&PathQuality::PERFECT, Codec::G711);
        assert!(close(r, 93.2, 0.01), "R {r}");
        let m = mos(&PathQuality::PERFECT, Codec::G711);
        assert!(close(m, 4.41, 0.005), "MOS {m}");
    }

    #[test]
    fn delay_impairment_at_150_and_400_ms() {
        // Idd by hand from G.107: X = log2(Ta/100); 25·((1+X⁶)^⅙ − 3(1+(X/3)⁶)^⅙ + 2).
        let at_150 = e_model(&delay_only(150), Codec::G711);
        assert!(close(at_150.idd, 0.164, 0.001), "Idd {}", at_150.idd);
        assert!(close(at_150.idte, 2.81, 0.01), "Idte {}", at_150.idte);
        assert!(close(at_150.idle, 0.84, 0.01), "Idle {}", at_150.idle);
        assert!(close(at_150.id(), 3.82, 0.01), "Id {}", at_150.id());
        let at_400 = e_model(&delay_only(400), Codec::G711);
        assert!(close(at_400.idd, 24.07, 0.01), "Idd {}", at_400.idd);
        assert!(close(at_400.id(), 31.11, 0.01), "Id {}", at_400.id());
        // Within a few points of the Cole–Rosenbluth linear fit,
        // Id ≈ 0.024·d + 0.11·(d − 177.3) above 177.3 ms.
        assert!(close(at_150.id(), 0.024 * 150.0, 0.5));
        assert!(close(
            at_400.id(),
            0.024 * 400.0 + 0.11 * (400.0 - 177.3),
            3.5
        ));
        // Below 100 ms there is no absolute-delay impairment at all.
        assert_eq!(e_model(&delay_only(100), Codec::G711).idd, 0.0);
        // Where G.107's Idte would dip below zero (under 4 ms), R still
        // falls with every added millisecond.
        for t in 0..6 {
            let (now, later) = (delay_only(t), delay_only(t + 1));
            assert!(e_model(&now, Codec::G711).idte >= 0.0);
            assert!(
                r_factor(&later, Codec::G711) < r_factor(&now, Codec::G711),
                "{t} ms"
            );
        }
    }

    #[test]
    fn loss_impairment_matches_g113_planning_values() {
        // 95·Ppl / (Ppl + Bpl)
        let g711 = |p| e_model(&loss_only(p), Codec::G711).ie_eff;
        assert!(close(g711(0.01), 3.64, 0.005), "{}", g711(0.01));
        assert!(close(g711(0.02), 7.01, 0.005), "{}", g711(0.02));
        let bare = e_model(&loss_only(0.01), Codec::G711WithoutPlc).ie_eff;
        assert!(close(bare, 17.92, 0.005), "{bare}");
        // 11 + 84·1 / (1 + 19)
        let g729 = e_model(&loss_only(0.01), Codec::G729A).ie_eff;
        assert!(close(g729, 15.2, 1e-9), "{g729}");
        // All packets lost: Ie,eff = Ie + (95 − Ie)·100/(100 + Bpl).
        let all = e_model(&loss_only(1.0), Codec::G711).ie_eff;
        assert!(close(all, 95.0 * 100.0 / 125.1, 1e-9));
        // The formula never quite reaches 95, so even total loss rates a
        // MOS a little above 1 (see the module docs).
        let m = mos(&loss_only(1.0), Codec::G711);
        assert!(close(m, 1.18, 0.005), "MOS {m}");
    }

    #[test]
    fn codec_impairments_say_where_they_come_from() {
        let g113: Vec<Codec> = Codec::ALL
            .into_iter()
            .filter(|c| c.impairment().source == ImpairmentSource::G113)
            .collect();
        assert_eq!(g113, [Codec::G711, Codec::G711WithoutPlc, Codec::G729A]);
        assert_eq!(Codec::RtAudioNarrowband.impairment().ie, 5.0);
        assert_eq!(Codec::RtAudioNarrowband.impairment().bpl, 19.0);
        assert_eq!(Codec::SilkNarrowband.impairment().ie, 5.0);
        // A wideband codec never rates above G.711 on the narrowband scale.
        for codec in Codec::ALL {
            assert!(
                r_factor(&PathQuality::PERFECT, codec)
                    <= r_factor(&PathQuality::PERFECT, Codec::G711)
            );
        }
        let g729 = r_factor(&PathQuality::PERFECT, Codec::G729A);
        assert!(close(g729, 93.2 - 11.0, 0.01));
    }

    #[test]
    fn mos_follows_annex_b_and_is_held_in_range() {
        assert_eq!(mos_from_r(-5.0), 1.0);
        assert_eq!(mos_from_r(0.0), 1.0);
        assert_eq!(mos_from_r(3.0), 1.0); // the cubic gives 0.989 here
        assert!(close(mos_from_r(50.0), 2.58, 0.005));
        assert!(close(mos_from_r(80.0), 4.02, 0.005));
        assert_eq!(mos_from_r(100.0), 4.5);
        assert_eq!(mos_from_r(120.0), 4.5);
    }

    #[test]
    fn jitter_adds_a_buffer_of_twice_itself() {
        let path = PathQuality::symmetric(ms(80), ms(20), Ratio::ZERO);
        assert_eq!(path.jitter_buffer(), ms(40));
        assert_eq!(path.mouth_to_ear(), ms(120));
        assert_eq!(path.round_trip, ms(160));
        assert_eq!(
            e_model(&path, Codec::Opus).id(),
            e_model(&delay_only(120), Codec::Opus).id()
        );
    }

    #[test]
    fn targets_differ_by_scope() {
        let client = Targets::for_scope(Scope::ClientToMicrosoftEdge);
        let edge = Targets::for_scope(Scope::CustomerEdgeToMicrosoftEdge);
        assert_eq!(
            (client.one_way_latency, edge.one_way_latency),
            (ms(50), ms(30))
        );
        assert_eq!((client.round_trip, edge.round_trip), (ms(100), ms(60)));
        assert_eq!((client.loss.get(), edge.loss.get()), (0.01, 0.001));
        assert_eq!(
            (client.burst_loss.get(), edge.burst_loss.get()),
            (0.10, 0.01)
        );
        assert_eq!((client.jitter, edge.jitter), (ms(30), ms(15)));
        assert_eq!((client.reorder.get(), edge.reorder.get()), (0.0005, 0.0001));
    }

    #[test]
    fn check_names_each_missed_target_and_by_how_much() {
        // Fine from the client, too slow and lossy for the edge-to-edge leg.
        let path = PathQuality::symmetric(ms(40), ms(10), loss(0.005));
        assert_eq!(check(&path, Scope::ClientToMicrosoftEdge), []);
        let misses = check(&path, Scope::CustomerEdgeToMicrosoftEdge);
        assert_eq!(
            misses,
            [
                TargetMiss::OneWayLatency {
                    measured: ms(40),
                    target: ms(30)
                },
                TargetMiss::RoundTrip {
                    measured: ms(80),
                    target: ms(60)
                },
                TargetMiss::PacketLoss {
                    measured: loss(0.005),
                    target: loss(0.001)
                },
            ]
        );
        let text: Vec<String> = misses.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "one-way latency 40ms, target under 30ms (10ms over)",
                "round trip 80ms, target under 60ms (20ms over)",
                "packet loss 0.5%, target under 0.1% (0.4% over)",
            ]
        );
        // Targets are "less than": sitting on the limit is a miss.
        let jittery = PathQuality::symmetric(ms(1), ms(15), Ratio::ZERO);
        assert_eq!(
            check(&jittery, Scope::CustomerEdgeToMicrosoftEdge),
            [TargetMiss::Jitter {
                measured: ms(15),
                target: ms(15)
            }]
        );
        // An asymmetric return path is judged on its own round trip.
        let asymmetric = PathQuality {
            round_trip: ms(120),
            ..PathQuality::symmetric(ms(20), ms(1), Ratio::ZERO)
        };
        assert_eq!(
            check(&asymmetric, Scope::ClientToMicrosoftEdge),
            [TargetMiss::RoundTrip {
                measured: ms(120),
                target: ms(100)
            }]
        );
    }

    #[test]
    fn a_good_path_is_not_poor() {
        let path = PathQuality::symmetric(ms(60), ms(10), loss(0.01));
        assert_eq!(cqd_audio_poor_conditions(&path, Codec::SilkWideband), []);
        assert!(!cqd_audio_poor(&path, Codec::SilkWideband));
        assert_eq!(mos_degradation(&PathQuality::PERFECT, Codec::G729A), 0.0);
    }

    #[test]
    fn round_trip_over_500_ms_alone_makes_audio_poor() {
        let path = PathQuality::symmetric(ms(260), SimDuration::ZERO, Ratio::ZERO);
        assert_eq!(
            cqd_audio_poor_conditions(&path, Codec::G711),
            [PoorAudio::RoundTrip(ms(520))]
        );
        assert!(cqd_audio_poor(&path, Codec::G711));
        // 500 ms itself is not over the threshold.
        let at_limit = PathQuality::symmetric(ms(250), SimDuration::ZERO, Ratio::ZERO);
        assert!(!cqd_audio_poor(&at_limit, Codec::G711));
    }

    #[test]
    fn jitter_over_30_ms_alone_makes_audio_poor() {
        let path = PathQuality::symmetric(ms(20), ms(31), Ratio::ZERO);
        assert_eq!(
            cqd_audio_poor_conditions(&path, Codec::G711),
            [PoorAudio::Jitter(ms(31))]
        );
        let at_limit = PathQuality::symmetric(ms(20), ms(30), Ratio::ZERO);
        assert!(!cqd_audio_poor(&at_limit, Codec::G711));
    }

    #[test]
    fn loss_over_ten_percent_makes_audio_poor() {
        let path = loss_only(0.105);
        let tripped = cqd_audio_poor_conditions(&path, Codec::G711);
        assert_eq!(tripped[0], PoorAudio::PacketLoss(loss(0.105)));
        // The E-model agrees: that much loss also costs over one MOS point.
        assert!(matches!(tripped[1..], [PoorAudio::MosDegradation(d)] if d > 1.0));
        // 10% itself is not over the threshold.
        let at_limit = cqd_audio_poor_conditions(&loss_only(0.1), Codec::G711);
        assert!(
            !at_limit
                .iter()
                .any(|c| matches!(c, PoorAudio::PacketLoss(_)))
        );
    }

    #[test]
    fn mos_degradation_over_one_alone_makes_audio_poor() {
        // 9% loss and 150 ms: each under its own threshold, together over.
        let path = PathQuality::symmetric(ms(150), ms(5), loss(0.09));
        let tripped = cqd_audio_poor_conditions(&path, Codec::G711);
        assert!(
            matches!(tripped[..], [PoorAudio::MosDegradation(d)] if d > 1.0 && d < 1.5),
            "{tripped:?}"
        );
    }

    fn paths() -> impl Strategy<Value = PathQuality> {
        (0u64..2_000_000, 0u64..300_000, 0.0f64..=1.0).prop_map(|(delay, jitter, p)| {
            PathQuality::symmetric(
                SimDuration::from_micros(delay),
                SimDuration::from_micros(jitter),
                loss(p),
            )
        })
    }

    #[test]
    fn audio_codecs_follow_profile_and_kind() {
        use CallKind::*;
        let sfb = |k| audio_codec(CodecProfile::Sfb, k);
        assert_eq!(
            [sfb(PeerToPeer), sfb(Federated), sfb(Conference), sfb(Pstn)],
            [
                Some(Codec::SilkWideband),
                Some(Codec::SilkWideband),
                Some(Codec::G722),
                Some(Codec::G711)
            ]
        );
        assert_eq!(audio_codec(CodecProfile::Teams, Pstn), Some(Codec::Opus));
        assert_eq!(sfb(Broadcast), None);
        assert_eq!(audio_codec(CodecProfile::Teams, Broadcast), None);
    }

    proptest! {
        #[test]
        fn the_quick_verdicts_agree_with_the_lists(
            path in paths(),
            codec in prop::sample::select(Codec::ALL.to_vec()),
            scope in prop::sample::select(vec![
                Scope::ClientToMicrosoftEdge,
                Scope::CustomerEdgeToMicrosoftEdge,
            ]),
        ) {
            prop_assert_eq!(
                cqd_audio_poor(&path, codec),
                !cqd_audio_poor_conditions(&path, codec).is_empty()
            );
            let t = Targets::for_scope(scope);
            prop_assert_eq!(t.meets(&path), t.check(&path).is_empty());
        }

        #[test]
        fn more_delay_jitter_or_loss_never_raises_mos(
            path in paths(),
            extra_delay in 0u64..500_000,
            extra_jitter in 0u64..100_000,
            extra_loss in 0.0f64..=1.0,
            codec in prop::sample::select(Codec::ALL.to_vec()),
        ) {
            let base = mos(&path, codec);
            prop_assert!((1.0..=4.5).contains(&base));
            let slower = PathQuality::symmetric(
                SimDuration::from_micros(path.one_way_delay.as_micros() + extra_delay),
                path.jitter,
                path.loss,
            );
            let jitterier = PathQuality {
                jitter: SimDuration::from_micros(path.jitter.as_micros() + extra_jitter),
                ..path
            };
            let lossier = PathQuality {
                loss: loss((path.loss.get() + extra_loss).min(1.0)),
                ..path
            };
            prop_assert!(mos(&slower, codec) <= base);
            prop_assert!(mos(&jitterier, codec) <= base);
            prop_assert!(mos(&lossier, codec) <= base);
            prop_assert!(r_factor(&slower, codec) <= r_factor(&path, codec));
        }
    }
}
