//! Predicted audio quality of call legs, aggregated mergeably.
//!
//! Owns [`StreamQuality`] (what the engine measured for one audio stream
//! at call start), [`QualityStats`] (per call kind: counts and fixed-layout
//! histograms, merged by adding) and [`QualitySummary`] (the finished
//! figures of summary.json's `quality` objects). Leaves out working the
//! figures out from a path (the engine's path quality, the E-model and the
//! CQD rules in [`crate::quality`]).
//!
//! A *leg* is one unit of [`CallStats`](super::CallStats): a two-party or
//! PSTN call, or one participant's join of a conference. It has up to two
//! audio streams, one each way. A leg is CQD-poor when either of its
//! streams is.

use serde::{Deserialize, Serialize};

use crate::quality::PathQuality;
use crate::stats::Histogram;

/// One audio stream's predicted quality, as recorded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StreamQuality {
    /// The stream's one-way delay (with queueing), jitter, loss and the
    /// round trip of its leg.
    pub path: PathQuality,
    /// E-model MOS for the stream's codec.
    pub mos: f64,
    /// Whether CQD would call it Poor.
    pub poor: bool,
    /// For a stream that reaches Microsoft's network: whether its part
    /// outside Microsoft's network meets the client-to-edge targets and its
    /// part between the customer's and Microsoft's edges the
    /// edge-to-edge targets (§2.1). `None` for a path that never reaches
    /// Microsoft's network, where the targets do not apply.
    pub targets: Option<(bool, bool)>,
}

/// Predicted quality of one call kind's legs: sums, counts and histograms
/// only, so partials merge exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QualityStats {
    /// Legs with at least one audio stream measured.
    pub legs: u64,
    /// Legs with a CQD-poor stream.
    pub poor_legs: u64,
    /// Audio streams measured.
    pub streams: u64,
    /// CQD-poor audio streams.
    pub poor_streams: u64,
    /// One-way network delay per stream, µs.
    pub latency_us: Histogram,
    /// Jitter per stream, µs.
    pub jitter_us: Histogram,
    /// Loss per stream, parts per million.
    pub loss_ppm: Histogram,
    /// MOS per stream, in thousandths.
    pub mos_milli: Histogram,
    /// Streams whose path reaches Microsoft's network (the targets apply).
    pub targets_applicable: u64,
    /// Of those, streams meeting every client-to-Microsoft-edge target.
    pub meets_client_edge: u64,
    /// Of those, streams meeting every customer-edge-to-Microsoft-edge target.
    pub meets_customer_edge: u64,
}

impl QualityStats {
    /// Records one leg's audio streams (nothing if there are none).
    pub fn record_leg(&mut self, streams: &[StreamQuality]) {
        if streams.is_empty() {
            return;
        }
        let inc = |n: &mut u64| *n = n.saturating_add(1);
        inc(&mut self.legs);
        if streams.iter().any(|s| s.poor) {
            inc(&mut self.poor_legs);
        }
        for s in streams {
            inc(&mut self.streams);
            if s.poor {
                inc(&mut self.poor_streams);
            }
            self.latency_us.record(s.path.one_way_delay.as_micros());
            self.jitter_us.record(s.path.jitter.as_micros());
            self.loss_ppm
                .record((s.path.loss.get() * 1e6).round() as u64);
            self.mos_milli.record((s.mos * 1e3).round() as u64);
            if let Some((client, edge)) = s.targets {
                inc(&mut self.targets_applicable);
                if client {
                    inc(&mut self.meets_client_edge);
                }
                if edge {
                    inc(&mut self.meets_customer_edge);
                }
            }
        }
    }

    /// Adds `other`'s counts.
    pub fn merge(&mut self, other: &QualityStats) {
        for (mine, theirs) in [
            (&mut self.legs, other.legs),
            (&mut self.poor_legs, other.poor_legs),
            (&mut self.streams, other.streams),
            (&mut self.poor_streams, other.poor_streams),
            (&mut self.targets_applicable, other.targets_applicable),
            (&mut self.meets_client_edge, other.meets_client_edge),
            (&mut self.meets_customer_edge, other.meets_customer_edge),
        ] {
            *mine = mine.saturating_add(theirs);
        }
        self.latency_us.merge(&other.latency_us);
        self.jitter_us.merge(&other.jitter_us);
        self.loss_ppm.merge(&other.loss_ppm);
        self.mos_milli.merge(&other.mos_milli);
    }
}

/// A mean and a 95th percentile.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanP95 {
    /// The mean.
    pub mean: Option<f64>,
    /// The 95th percentile.
    pub p95: Option<f64>,
}

/// A mean and a 5th percentile (for MOS, where low is bad).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MeanP5 {
    /// The mean.
    pub mean: Option<f64>,
    /// The 5th percentile.
    pub p5: Option<f64>,
}

/// Shares of streams meeting Microsoft's targets (§2.1), of the streams
/// they apply to.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct TargetShares {
    /// Streams whose path reaches Microsoft's network.
    pub applicable: u64,
    /// Share meeting every client-to-Microsoft-edge target.
    pub client_to_microsoft_edge: Option<f64>,
    /// Share meeting every customer-edge-to-Microsoft-edge target.
    pub customer_edge_to_microsoft_edge: Option<f64>,
}

/// summary.json's `quality` object (see the contract in
/// [`summary`](super::summary)).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QualitySummary {
    /// Legs measured, all replications.
    pub legs: u64,
    /// Audio streams measured, all replications.
    pub streams: u64,
    /// One-way network delay, ms.
    pub latency_ms: MeanP95,
    /// Jitter, ms.
    pub jitter_ms: MeanP95,
    /// Loss, as a fraction.
    pub loss: MeanP95,
    /// Predicted MOS.
    pub mos: MeanP5,
    /// Share of legs CQD would call poor.
    pub poor_share: Option<f64>,
    /// Share of streams CQD would call poor.
    pub poor_stream_share: Option<f64>,
    /// Target compliance.
    pub meets_targets: TargetShares,
}

impl QualitySummary {
    /// The figures of `q` (pooled over replications), rounded by `unit`
    /// (quantities) and `ratio` (fractions and MOS).
    pub fn of(q: &QualityStats, unit: fn(f64) -> f64, ratio: fn(f64) -> f64) -> QualitySummary {
        let mean_p95 = |h: &Histogram, scale: f64, round: fn(f64) -> f64| MeanP95 {
            mean: h.mean().map(|m| round(m / scale)),
            p95: h.quantile(0.95).map(|v| round(v as f64 / scale)),
        };
        let share = |n: u64, of: u64| (of > 0).then(|| ratio(n as f64 / of as f64));
        QualitySummary {
            legs: q.legs,
            streams: q.streams,
            latency_ms: mean_p95(&q.latency_us, 1e3, unit),
            jitter_ms: mean_p95(&q.jitter_us, 1e3, unit),
            loss: mean_p95(&q.loss_ppm, 1e6, ratio),
            mos: MeanP5 {
                mean: q.mos_milli.mean().map(|m| unit(m / 1e3)),
                p5: q.mos_milli.quantile(0.05).map(|v| unit(v as f64 / 1e3)),
            },
            poor_share: share(q.poor_legs, q.legs),
            poor_stream_share: share(q.poor_streams, q.streams),
            meets_targets: TargetShares {
                applicable: q.targets_applicable,
                client_to_microsoft_edge: share(q.meets_client_edge, q.targets_applicable),
                customer_edge_to_microsoft_edge: share(q.meets_customer_edge, q.targets_applicable),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimDuration;
    use crate::units::Ratio;
    use proptest::prelude::*;

    fn stream(
        ms: u64,
        loss: f64,
        mos: f64,
        poor: bool,
        targets: Option<(bool, bool)>,
    ) -> StreamQuality {
        StreamQuality {
            path: PathQuality::symmetric(
                SimDuration::from_millis(ms),
                SimDuration::from_millis(ms / 10),
                Ratio::new(loss).unwrap(),
            ),
            mos,
            poor,
            targets,
        }
    }

    #[test]
    fn a_leg_is_poor_when_either_stream_is() {
        let mut q = QualityStats::default();
        q.record_leg(&[
            stream(20, 0.0, 4.4, false, Some((true, true))),
            stream(40, 0.2, 2.0, true, Some((false, false))),
        ]);
        q.record_leg(&[stream(10, 0.0, 4.4, false, None)]);
        q.record_leg(&[]);
        assert_eq!(
            (q.legs, q.poor_legs, q.streams, q.poor_streams),
            (2, 1, 3, 1)
        );
        assert_eq!(
            (
                q.targets_applicable,
                q.meets_client_edge,
                q.meets_customer_edge
            ),
            (2, 1, 1)
        );
        let s = QualitySummary::of(&q, |x| x, |x| x);
        assert_eq!(s.poor_share, Some(0.5));
        assert_eq!(s.latency_ms.mean, Some(70.0 / 3.0));
        // Percentiles come from the histogram: at most 0.8% above.
        let p5 = s.mos.p5.unwrap();
        assert!((2.0..=2.016).contains(&p5), "{p5}");
        assert_eq!(s.loss.p95, Some(0.2));
        assert_eq!(s.meets_targets.client_to_microsoft_edge, Some(0.5));
        let empty = QualitySummary::of(&QualityStats::default(), |x| x, |x| x);
        assert_eq!((empty.poor_share, empty.mos.mean), (None, None));
    }

    fn recorded(legs: &[(u64, u8)]) -> QualityStats {
        let mut q = QualityStats::default();
        for &(ms, flags) in legs {
            let targets = (flags & 1 == 1).then_some((flags & 2 == 2, flags & 4 == 4));
            q.record_leg(&[stream(
                ms,
                f64::from(flags) / 10.0,
                1.0 + ms as f64 / 1e3,
                flags & 8 == 8,
                targets,
            )]);
        }
        q
    }

    proptest! {
        #[test]
        fn merging_is_associative_and_matches_one_recorder(
            a in prop::collection::vec((0u64..2_000, 0u8..10), 0..20),
            b in prop::collection::vec((0u64..2_000, 0u8..10), 0..20),
            c in prop::collection::vec((0u64..2_000, 0u8..10), 0..20),
        ) {
            let (qa, qb, qc) = (recorded(&a), recorded(&b), recorded(&c));
            let mut left = qa.clone();
            left.merge(&qb);
            left.merge(&qc);
            let mut bc = qb.clone();
            bc.merge(&qc);
            let mut right = qa.clone();
            right.merge(&bc);
            prop_assert_eq!(&left, &right);
            let all: Vec<(u64, u8)> = a.iter().chain(&b).chain(&c).copied().collect();
            prop_assert_eq!(&left, &recorded(&all));
            let text = serde_json::to_string(&left).unwrap();
            let back: QualityStats = serde_json::from_str(&text).unwrap();
            prop_assert_eq!(back, left);
        }
    }
}
