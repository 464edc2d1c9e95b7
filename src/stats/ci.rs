//! Confidence intervals across independent replications.
//!
//! Owns the 95% Student-t interval for the mean of a handful of replication
//! results, and the paired-difference interval used to compare two
//! configurations run on common random numbers (same seeds, so replication
//! i of each saw the same calls). Sums run once, in the order given, so the
//! same inputs give the same bits on every machine and thread count.
//!
//! Leaves out running the replications and choosing how many to run.

use serde::{Deserialize, Serialize};
use statrs::distribution::{ContinuousCDF, StudentsT};

/// Replication results that no interval can be computed from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CiError {
    /// No replications at all.
    #[error("no replication results to summarize")]
    Empty,
    /// Paired results came in lists of different lengths.
    #[error("paired results differ in length: {a} against {b}")]
    LengthMismatch {
        /// Length of the first list.
        a: usize,
        /// Length of the second list.
        b: usize,
    },
    /// A result was NaN or infinite.
    #[error("replication result {index} is not a finite number")]
    NotFinite {
        /// Position of the offending result in the input.
        index: usize,
    },
}

/// A 95% confidence interval for a mean: `mean ± half_width`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ConfidenceInterval {
    /// The sample mean, in the unit of the inputs.
    pub mean: f64,
    /// Half the width of the two-sided 95% Student-t interval, in the unit
    /// of the inputs: t(0.975, n−1) · s / √n with s the sample standard
    /// deviation. `None` for a single replication, whose spread is unknown
    /// (serialized as `null`, never a made-up zero or a NaN).
    pub half_width: Option<f64>,
    /// How many replications the interval summarizes.
    pub samples: usize,
}

impl ConfidenceInterval {
    /// The two-sided confidence level of every interval this module makes.
    pub const LEVEL: f64 = 0.95;

    /// The interval for the mean of `values`, one per replication.
    pub fn from_samples(values: &[f64]) -> Result<Self, CiError> {
        if values.is_empty() {
            return Err(CiError::Empty);
        }
        if let Some(index) = values.iter().position(|v| !v.is_finite()) {
            return Err(CiError::NotFinite { index });
        }
        let n = values.len();
        let mean = values.iter().fold(0.0, |sum, v| sum + v) / n as f64;
        let half_width = (n >= 2).then(|| {
            // Two passes (mean, then squared deviations) rather than the
            // one-pass formula, which cancels catastrophically when the
            // spread is small next to the mean.
            let squares = values.iter().fold(0.0, |sum, v| sum + (v - mean).powi(2));
            let sd = (squares / (n - 1) as f64).sqrt();
            t_quantile(n - 1) * sd / (n as f64).sqrt()
        });
        Ok(ConfidenceInterval {
            mean,
            half_width,
            samples: n,
        })
    }

    /// The lower end, if the width is known.
    pub fn low(&self) -> Option<f64> {
        self.half_width.map(|h| self.mean - h)
    }

    /// The upper end, if the width is known.
    pub fn high(&self) -> Option<f64> {
        self.half_width.map(|h| self.mean + h)
    }

    /// Whether the interval excludes zero, i.e. (for a paired difference)
    /// the two configurations differ at the 95% level. `false` when the
    /// width is unknown.
    pub fn excludes_zero(&self) -> bool {
        self.half_width.is_some_and(|h| self.mean.abs() > h)
    }
}

/// The interval for the mean of `a[i] − b[i]`: how much configuration `a`
/// exceeds `b` when replication `i` of both ran on the same random numbers.
/// Pairing removes the variation the two runs share, so the interval is
/// usually far narrower than comparing two independent intervals.
pub fn paired_difference(a: &[f64], b: &[f64]) -> Result<ConfidenceInterval, CiError> {
    if a.len() != b.len() {
        return Err(CiError::LengthMismatch {
            a: a.len(),
            b: b.len(),
        });
    }
    let differences: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    ConfidenceInterval::from_samples(&differences)
}

/// The 97.5% point of Student's t with `freedom` degrees of freedom.
fn t_quantile(freedom: usize) -> f64 {
    StudentsT::new(0.0, 1.0, freedom as f64)
        .expect("at least one degree of freedom")
        .inverse_cdf(0.5 + ConfidenceInterval::LEVEL / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn student_t_quantiles_match_the_tables() {
        assert!(close(t_quantile(1), 12.706, 0.001));
        assert!(close(t_quantile(4), 2.776, 0.001));
        assert!(close(t_quantile(9), 2.262, 0.001));
        assert!(close(t_quantile(1000), 1.962, 0.001));
    }

    #[test]
    fn one_to_five_gives_mean_three_half_width_1_963() {
        let ci = ConfidenceInterval::from_samples(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!(ci.mean, 3.0);
        assert_eq!(ci.samples, 5);
        // 2.7764 × √2.5 / √5
        let h = ci.half_width.unwrap();
        assert!(close(h, 1.9632, 0.0001), "half width {h}");
        assert!(close(ci.low().unwrap(), 1.0368, 0.0001));
        assert!(close(ci.high().unwrap(), 4.9632, 0.0001));
        assert!(ci.excludes_zero());
    }

    #[test]
    fn identical_results_have_zero_width() {
        let ci = ConfidenceInterval::from_samples(&[7.5; 4]).unwrap();
        assert_eq!((ci.mean, ci.half_width), (7.5, Some(0.0)));
    }

    #[test]
    fn one_replication_has_a_mean_and_no_width() {
        let ci = ConfidenceInterval::from_samples(&[42.0]).unwrap();
        assert_eq!(ci.mean, 42.0);
        assert_eq!(ci.half_width, None);
        assert_eq!(ci.low(), None);
        assert!(!ci.excludes_zero());
        assert_eq!(
            serde_json::to_string(&ci).unwrap(),
            r#"{"mean":42.0,"half_width":null,"samples":1}"#
        );
    }

    #[test]
    fn serde_round_trips() {
        let ci = ConfidenceInterval::from_samples(&[0.1, 0.25, 0.2]).unwrap();
        let text = serde_json::to_string(&ci).unwrap();
        assert_eq!(
            serde_json::from_str::<ConfidenceInterval>(&text).unwrap(),
            ci
        );
    }

    #[test]
    fn small_spread_around_a_large_mean_is_not_lost() {
        let ci = ConfidenceInterval::from_samples(&[1e9 + 1.0, 1e9 + 2.0, 1e9 + 3.0]).unwrap();
        assert_eq!(ci.mean, 1e9 + 2.0);
        // s = 1, t(0.975, 2) = 4.303
        assert!(close(ci.half_width.unwrap(), 4.303 / 3f64.sqrt(), 0.001));
    }

    #[test]
    fn pairing_removes_shared_variation() {
        // Replications vary a lot, but b is always 1 below a, give or take.
        let a = [10.0, 30.0, 20.0, 50.0, 40.0];
        let b = [9.0, 28.8, 19.1, 49.0, 38.9];
        let paired = paired_difference(&a, &b).unwrap();
        assert!(close(paired.mean, 1.04, 1e-9));
        assert!(paired.excludes_zero());
        let unpaired = ConfidenceInterval::from_samples(&a).unwrap();
        assert!(paired.half_width.unwrap() < unpaired.half_width.unwrap() / 50.0);
    }

    #[test]
    fn unusable_input_is_an_error() {
        assert_eq!(ConfidenceInterval::from_samples(&[]), Err(CiError::Empty));
        assert_eq!(
            ConfidenceInterval::from_samples(&[1.0, f64::NAN]),
            Err(CiError::NotFinite { index: 1 })
        );
        assert_eq!(
            paired_difference(&[1.0, 2.0], &[1.0]),
            Err(CiError::LengthMismatch { a: 2, b: 1 })
        );
        assert_eq!(paired_difference(&[], &[]), Err(CiError::Empty));
    }
}
