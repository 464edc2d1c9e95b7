//! Nearest-rank percentiles of a list of values, such as the per-time-bin
//! bitrates of one link (P50, P95, P99 of bitrate over the day).
//!
//! Owns the rank rule shared with [`Histogram::quantile`]: the p-th
//! percentile of n values is the value of rank ⌈p/100 · n⌉ (counting from 1,
//! at least 1) in ascending order. It is always one of the values, never an
//! interpolation between two, so a percentile of bitrates is a bitrate some
//! bin actually carried. Leaves out streaming data, which
//! [`Histogram`] summarizes.
//!
//! [`Histogram`]: super::histogram::Histogram
//! [`Histogram::quantile`]: super::histogram::Histogram::quantile

/// The `p`-th percentile (`p` in percent, 0 to 100) of `values` by nearest
/// rank, or `None` for an empty slice or `p` outside 0..=100 (or NaN).
///
/// Reorders `values` (a partial sort, linear on average); the answer does
/// not depend on their initial order. `p = 0` gives the minimum and
/// `p = 100` the maximum.
pub fn percentile_of(values: &mut [u64], p: f64) -> Option<u64> {
    if values.is_empty() || !(0.0..=100.0).contains(&p) {
        return None;
    }
    let rank = nearest_rank(p / 100.0, values.len() as u64);
    // rank ≤ len, which came from a usize.
    let (_, value, _) = values.select_nth_unstable(rank as usize - 1);
    Some(*value)
}

/// The 1-based rank of the `fraction` quantile among `n ≥ 1` sorted values:
/// ⌈fraction · n⌉, at least 1 and at most n.
///
/// A product within floating-point noise of a whole number counts as that
/// number, so the 7th percentile of 100 values is rank 7 even though
/// 0.07 × 100 is 7.000000000000001 in binary floating point.
pub(crate) fn nearest_rank(fraction: f64, n: u64) -> u64 {
    let exact = fraction * n as f64;
    let nearest = exact.round();
    let rank = if (exact - nearest).abs() <= 1e-12 * nearest.max(1.0) {
        nearest
    } else {
        exact.ceil()
    };
    (rank as u64).clamp(1, n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_one_to_a_hundred_are_their_own_rank() {
        // 1..=100 in a scrambled order.
        let mut values: Vec<u64> = (0..100).map(|i| (i * 37) % 100 + 1).collect();
        for (p, want) in [
            (0.0, 1),
            (1.0, 1),
            (7.0, 7),
            (50.0, 50),
            (95.0, 95),
            (99.0, 99),
        ] {
            assert_eq!(percentile_of(&mut values, p), Some(want), "P{p}");
        }
        assert_eq!(percentile_of(&mut values, 99.5), Some(100));
        assert_eq!(percentile_of(&mut values, 100.0), Some(100));
    }

    #[test]
    fn nearest_rank_rounds_up_between_values() {
        let mut values = vec![10, 40, 20, 30];
        // 0.5 × 4 = 2 exactly: the 2nd value.
        assert_eq!(percentile_of(&mut values, 50.0), Some(20));
        // 0.51 × 4 = 2.04: rounds up to the 3rd.
        assert_eq!(percentile_of(&mut values, 51.0), Some(30));
        assert_eq!(percentile_of(&mut values, 95.0), Some(40));
    }

    #[test]
    fn one_value_is_every_percentile() {
        for p in [0.0, 50.0, 100.0] {
            assert_eq!(percentile_of(&mut [5], p), Some(5));
        }
    }

    #[test]
    fn nothing_to_rank_or_a_bad_percent_is_none() {
        assert_eq!(percentile_of(&mut [], 50.0), None);
        for p in [-1.0, 100.1, f64::NAN] {
            assert_eq!(percentile_of(&mut [1, 2, 3], p), None, "P{p}");
        }
    }

    #[test]
    fn ranks_stay_in_range() {
        assert_eq!(nearest_rank(0.0, 10), 1);
        assert_eq!(nearest_rank(1.0, 10), 10);
        assert_eq!(nearest_rank(0.07, 100), 7);
        assert_eq!(nearest_rank(0.95, 1_000_000_007), 950_000_007);
    }
}
