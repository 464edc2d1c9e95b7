//! A mergeable log-linear histogram of `u64` values (delays in
//! microseconds, setup times, bitrates).
//!
//! Owns [`Histogram`]: exact count, sum, minimum and maximum, and counts in
//! buckets whose layout is fixed in advance and independent of the data.
//! Because every histogram uses the same buckets, merging two is adding
//! their counts: exact, and the same whatever the order or grouping, so the
//! partial histograms of a sharded or multi-threaded run merge into exactly
//! (byte for byte, once serialized) what one unsharded run records.
//!
//! Layout: values below 256 get a bucket each. Above that, each power-of-two
//! range [2^e, 2^(e+1)) is cut into 128 equal buckets, so a bucket is at
//! most 1/128 (0.78%) of its lower bound wide. That is 7,424 buckets for the
//! whole `u64` range. Only the buckets from the minimum's to the maximum's
//! are held in memory (at most 58 KB, a few KB for delays that span a few
//! octaves), and only non-empty buckets are serialized.
//!
//! Leaves out time: a histogram does not know when its values were seen;
//! keep one per time bin for a time series.

use serde::{Deserialize, Serialize};

use super::percentile::nearest_rank;

/// log2 of the buckets per power of two above [`EXACT`].
const SUB_BITS: u32 = 7;
/// Buckets per power of two.
const SUB_COUNT: usize = 1 << SUB_BITS;
/// Values below this get a bucket of their own (the first two "octaves" at
/// full resolution would have buckets narrower than 1).
const EXACT: usize = 2 * SUB_COUNT;
/// Octaves above [`EXACT`]: 2^8 up to 2^63.
const OCTAVES: usize = 64 - (SUB_BITS as usize + 1);
/// Total buckets in the layout.
const BUCKETS: usize = EXACT + OCTAVES * SUB_COUNT;

/// A serialized histogram that is not one this layout could have produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HistogramError {
    /// Written with another bucket layout.
    #[error("histogram layout {found} is not this build's layout {SUB_BITS}")]
    Layout {
        /// The layout the data says it has.
        found: u32,
    },
    /// A bucket index out of order, out of range or with a zero count.
    #[error("bucket {index} is out of order, out of range or empty")]
    Bucket {
        /// The offending bucket index.
        index: usize,
    },
    /// The bucket counts do not add up to the total count.
    #[error("buckets hold {buckets} values but the count says {count}")]
    Count {
        /// The stated count.
        count: u64,
        /// The sum of the bucket counts.
        buckets: u64,
    },
    /// Minimum, maximum and sum disagree with the buckets.
    #[error("minimum, maximum or sum disagree with the buckets")]
    Extremes,
}

/// Counts of `u64` values in fixed log-linear buckets, with exact count,
/// sum, minimum and maximum. See the module docs for the layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "Wire", try_from = "Wire")]
pub struct Histogram {
    count: u64,
    sum: u128,
    /// `u64::MAX` while empty.
    min: u64,
    /// Zero while empty.
    max: u64,
    /// The bucket index of `counts[0]`. `counts` spans exactly the buckets
    /// of `min` to `max`, so equal data gives equal structs.
    first: usize,
    counts: Vec<u64>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

impl Histogram {
    /// An empty histogram.
    pub const fn new() -> Self {
        Histogram {
            count: 0,
            sum: 0,
            min: u64::MAX,
            max: 0,
            first: 0,
            counts: Vec::new(),
        }
    }

    /// Records one value.
    pub fn record(&mut self, value: u64) {
        self.record_n(value, 1);
    }

    /// Records `n` copies of `value` (nothing if `n` is zero). Counts
    /// saturate at `u64::MAX` rather than wrap.
    pub fn record_n(&mut self, value: u64, n: u64) {
        if n == 0 {
            return;
        }
        let bucket = bucket_of(value);
        self.cover(bucket, bucket);
        let slot = &mut self.counts[bucket - self.first];
        *slot = slot.saturating_add(n);
        self.count = self.count.saturating_add(n);
        self.sum = self.sum.saturating_add(u128::from(value) * u128::from(n));
        self.min = self.min.min(value);
        self.max = self.max.max(value);
    }

    /// Adds everything `other` recorded to `self`. Exact: merging in any
    /// order or grouping gives the same histogram as recording every value
    /// into one.
    pub fn merge(&mut self, other: &Histogram) {
        if other.count == 0 {
            return;
        }
        self.cover(other.first, other.first + other.counts.len() - 1);
        let offset = other.first - self.first;
        for (mine, theirs) in self.counts[offset..].iter_mut().zip(&other.counts) {
            *mine = mine.saturating_add(*theirs);
        }
        self.count = self.count.saturating_add(other.count);
        self.sum = self.sum.saturating_add(other.sum);
        self.min = self.min.min(other.min);
        self.max = self.max.max(other.max);
    }

    /// How many values were recorded.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The exact sum of the recorded values.
    pub fn sum(&self) -> u128 {
        self.sum
    }

    /// The smallest value recorded, exactly.
    pub fn min(&self) -> Option<u64> {
        (self.count > 0).then_some(self.min)
    }

    /// The largest value recorded, exactly.
    pub fn max(&self) -> Option<u64> {
        (self.count > 0).then_some(self.max)
    }

    /// The mean of the recorded values (from the exact sum).
    pub fn mean(&self) -> Option<f64> {
        (self.count > 0).then(|| self.sum as f64 / self.count as f64)
    }

    /// The `q` quantile (`q` a fraction, 0 to 1), or `None` when empty or
    /// `q` is outside 0..=1 (or NaN).
    ///
    /// Definition: take the sample of nearest rank ⌈q · count⌉ (at least 1;
    /// the same rule as [`percentile_of`]); the answer is the upper bound of
    /// the bucket holding it, lowered to the maximum if that is smaller. So
    /// the answer is never below the true sample and at most 0.78% above it
    /// (exact below 256), and `quantile(1.0)` is the exact maximum.
    ///
    /// [`percentile_of`]: super::percentile::percentile_of
    pub fn quantile(&self, q: f64) -> Option<u64> {
        if self.count == 0 || !(0.0..=1.0).contains(&q) {
            return None;
        }
        let rank = nearest_rank(q, self.count);
        let mut seen = 0u64;
        for (offset, &n) in self.counts.iter().enumerate() {
            seen = seen.saturating_add(n);
            if seen >= rank {
                return Some(bucket_high(self.first + offset).min(self.max));
            }
        }
        // Saturated counts can fall short of a saturated total.
        Some(self.max)
    }

    /// Grows `counts` to span buckets `low..=high` as well as what it holds.
    fn cover(&mut self, low: usize, high: usize) {
        if self.counts.is_empty() {
            self.first = low;
            self.counts = vec![0; high - low + 1];
            return;
        }
        if low < self.first {
            let grow = self.first - low;
            self.counts.splice(0..0, std::iter::repeat_n(0, grow));
            self.first = low;
        }
        let end = self.first + self.counts.len();
        if high >= end {
            self.counts.resize(high - self.first + 1, 0);
        }
    }
}

/// The bucket holding `value`.
fn bucket_of(value: u64) -> usize {
    if value < EXACT as u64 {
        return value as usize;
    }
    let exponent = 63 - value.leading_zeros(); // ≥ 8
    let sub = (value >> (exponent - SUB_BITS)) as usize & (SUB_COUNT - 1);
    EXACT + (exponent - (SUB_BITS + 1)) as usize * SUB_COUNT + sub
}

/// The smallest value in bucket `index`.
fn bucket_low(index: usize) -> u64 {
    if index < EXACT {
        return index as u64;
    }
    let octave = (index - EXACT) / SUB_COUNT;
    let sub = (index - EXACT) % SUB_COUNT;
    ((SUB_COUNT + sub) as u64) << (octave as u32 + 1)
}

/// The largest value in bucket `index`.
fn bucket_high(index: usize) -> u64 {
    if index < EXACT {
        return index as u64;
    }
    let octave = (index - EXACT) / SUB_COUNT;
    bucket_low(index) + ((1u64 << (octave as u32 + 1)) - 1)
}

/// The serialized form: totals plus `[bucket, count]` for non-empty buckets
/// in ascending order.
#[derive(Serialize, Deserialize)]
struct Wire {
    /// Sub-bucket bits of the layout, so data from another layout is refused
    /// rather than misread.
    layout: u32,
    count: u64,
    sum: u128,
    min: Option<u64>,
    max: Option<u64>,
    buckets: Vec<(usize, u64)>,
}

impl From<Histogram> for Wire {
    fn from(h: Histogram) -> Wire {
        Wire {
            layout: SUB_BITS,
            count: h.count,
            sum: h.sum,
            min: h.min(),
            max: h.max(),
            buckets: h
                .counts
                .iter()
                .enumerate()
                .filter(|(_, n)| **n > 0)
                .map(|(offset, n)| (h.first + offset, *n))
                .collect(),
        }
    }
}

impl TryFrom<Wire> for Histogram {
    type Error = HistogramError;

    fn try_from(w: Wire) -> Result<Histogram, HistogramError> {
        if w.layout != SUB_BITS {
            return Err(HistogramError::Layout { found: w.layout });
        }
        let mut h = Histogram::new();
        let mut previous = None;
        let mut total = 0u64;
        for &(index, n) in &w.buckets {
            if index >= BUCKETS || n == 0 || previous.is_some_and(|p| index <= p) {
                return Err(HistogramError::Bucket { index });
            }
            previous = Some(index);
            total = total.saturating_add(n);
            // Any value of the bucket places the count; min, max and sum
            // are taken from the wire below.
            h.record_n(bucket_low(index), n);
        }
        if total != w.count {
            return Err(HistogramError::Count {
                count: w.count,
                buckets: total,
            });
        }
        match (w.min, w.max) {
            (None, None) if w.count == 0 && w.sum == 0 => Ok(h),
            (Some(min), Some(max))
                if w.count > 0
                    && min <= max
                    && bucket_of(min) == h.first
                    && bucket_of(max) == h.first + h.counts.len() - 1
                    && w.sum >= u128::from(min) * u128::from(w.count)
                    && w.sum <= u128::from(max) * u128::from(w.count) =>
            {
                h.min = min;
                h.max = max;
                h.sum = w.sum;
                Ok(h)
            }
            _ => Err(HistogramError::Extremes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn of(values: &[u64]) -> Histogram {
        let mut h = Histogram::new();
        values.iter().for_each(|&v| h.record(v));
        h
    }

    fn json(h: &Histogram) -> String {
        serde_json::to_string(h).unwrap()
    }

    #[test]
    fn the_layout_covers_u64_in_narrow_buckets() {
        assert_eq!(BUCKETS, 7_424);
        assert_eq!(bucket_of(255), 255);
        assert_eq!(
            (bucket_of(256), bucket_of(257), bucket_of(258)),
            (256, 256, 257)
        );
        assert_eq!(bucket_of(u64::MAX), BUCKETS - 1);
        assert_eq!(bucket_high(BUCKETS - 1), u64::MAX);
        for index in 0..BUCKETS {
            let (low, high) = (bucket_low(index), bucket_high(index));
            assert_eq!(bucket_of(low), index);
            assert_eq!(bucket_of(high), index);
            if index + 1 < BUCKETS {
                assert_eq!(bucket_low(index + 1), high + 1, "gap after {index}");
            }
            // Width relative to the lower bound: ≤ 1/128 everywhere.
            assert!((high - low) as f64 / (low.max(1) as f64) < 1.0 / 128.0 + 1e-12);
        }
    }

    #[test]
    fn quantiles_are_within_the_bucket_precision() {
        let h = of(&(1..=100_000).collect::<Vec<_>>());
        for (q, exact) in [
            (0.5, 50_000u64),
            (0.9, 90_000),
            (0.95, 95_000),
            (0.99, 99_000),
        ] {
            let got = h.quantile(q).unwrap();
            assert!(
                got >= exact && (got - exact) as f64 <= exact as f64 / 128.0,
                "q{q}: {got} against {exact}"
            );
        }
        assert_eq!(h.quantile(0.0), Some(1));
        assert_eq!(h.quantile(1.0), Some(100_000));
        assert_eq!(h.quantile(0.001), Some(100));
        assert_eq!(h.count(), 100_000);
        assert_eq!(h.sum(), 5_000_050_000);
        assert_eq!(h.mean(), Some(50_000.5));
        assert_eq!((h.min(), h.max()), (Some(1), Some(100_000)));
    }

    #[test]
    fn the_nearest_rank_is_found_across_buckets() {
        // 90 small values and 10 large: P90 is small, P91 is large.
        let mut h = Histogram::new();
        h.record_n(20, 90);
        h.record_n(1_000_000, 10);
        assert_eq!(h.quantile(0.90), Some(20));
        assert_eq!(h.quantile(0.91), Some(1_000_000));
        // The bucket's upper bound is lowered to the maximum.
        assert_eq!(h.quantile(0.5), Some(20));
    }

    #[test]
    fn empty_and_out_of_range_questions_have_no_answer() {
        let empty = Histogram::new();
        assert_eq!(empty.quantile(0.5), None);
        assert_eq!((empty.mean(), empty.min(), empty.max()), (None, None, None));
        let h = of(&[1, 2, 3]);
        for q in [-0.1, 1.1, f64::NAN] {
            assert_eq!(h.quantile(q), None);
        }
    }

    #[test]
    fn record_n_is_repeated_record_and_zero_is_nothing() {
        let mut h = Histogram::new();
        h.record_n(12_345, 3);
        h.record_n(7, 0);
        assert_eq!(h, of(&[12_345, 12_345, 12_345]));
        assert_eq!(h.min(), Some(12_345));
    }

    #[test]
    fn the_sum_is_exact_beyond_u64() {
        let mut h = Histogram::new();
        h.record_n(u64::MAX, 4);
        assert_eq!(h.sum(), u128::from(u64::MAX) * 4);
        assert_eq!(h.quantile(0.5), Some(u64::MAX));
        let back: Histogram = serde_json::from_str(&json(&h)).unwrap();
        assert_eq!(back, h);
    }

    #[test]
    fn merging_equals_recording_everything_in_one() {
        let a = [5, 900, 70_000, 3];
        let b = [1_000_000_000, 6, 900];
        let mut merged = of(&a);
        merged.merge(&of(&b));
        let all: Vec<u64> = a.iter().chain(&b).copied().collect();
        assert_eq!(merged, of(&all));
        assert_eq!(json(&merged), json(&of(&all)));
        // Merging an empty histogram either way changes nothing.
        let mut left = Histogram::new();
        left.merge(&merged);
        assert_eq!(left, merged);
        merged.merge(&Histogram::new());
        assert_eq!(left, merged);
    }

    #[test]
    fn serialization_is_sparse() {
        let h = of(&[3, 3, 1_000]);
        assert_eq!(
            json(&h),
            r#"{"layout":7,"count":3,"sum":1006,"min":3,"max":1000,"buckets":[[3,2],[506,1]]}"#
        );
        assert_eq!(
            json(&Histogram::new()),
            r#"{"layout":7,"count":0,"sum":0,"min":null,"max":null,"buckets":[]}"#
        );
    }

    #[test]
    fn serde_round_trips() {
        for h in [
            Histogram::new(),
            of(&[0]),
            of(&[1, 2, 300, 4_000_000, u64::MAX]),
        ] {
            let back: Histogram = serde_json::from_str(&json(&h)).unwrap();
            assert_eq!(back, h);
            assert_eq!(json(&back), json(&h));
        }
    }

    #[test]
    fn tampered_data_is_refused() {
        let good = json(&of(&[3, 3, 1_000]));
        let cases = [
            (good.replace(r#""layout":7"#, r#""layout":6"#), "layout 6"),
            (good.replace("[3,2],[506,1]", "[506,1],[3,2]"), "bucket 3"),
            (good.replace("[506,1]", "[9999,1]"), "bucket 9999"),
            (good.replace("[3,2]", "[3,0]"), "bucket 3"),
            (good.replace(r#""count":3"#, r#""count":4"#), "count says 4"),
            (good.replace(r#""max":1000"#, r#""max":999"#), "disagree"),
            (good.replace(r#""min":3"#, r#""min":2"#), "disagree"),
            (good.replace(r#""sum":1006"#, r#""sum":5"#), "disagree"),
        ];
        for (text, expected) in cases {
            let err = serde_json::from_str::<Histogram>(&text).unwrap_err();
            assert!(err.to_string().contains(expected), "{text}: {err}");
        }
    }

    fn values() -> impl Strategy<Value = Vec<u64>> {
        prop::collection::vec(
            prop_oneof![0u64..300, 0u64..10_000_000, any::<u64>()],
            0..60,
        )
    }

    proptest! {
        #[test]
        fn merge_is_associative_commutative_and_exact(a in values(), b in values(), c in values()) {
            let (ha, hb, hc) = (of(&a), of(&b), of(&c));
            let all: Vec<u64> = a.iter().chain(&b).chain(&c).copied().collect();
            let single = of(&all);

            let mut left = ha.clone();
            left.merge(&hb);
            left.merge(&hc);
            let mut bc = hb.clone();
            bc.merge(&hc);
            let mut right = ha.clone();
            right.merge(&bc);
            let mut shuffled = hc.clone();
            shuffled.merge(&ha);
            shuffled.merge(&hb);

            prop_assert_eq!(&left, &single);
            prop_assert_eq!(&right, &single);
            prop_assert_eq!(&shuffled, &single);
            prop_assert_eq!(json(&shuffled), json(&single));
        }

        #[test]
        fn quantiles_bound_the_true_sample(mut v in prop::collection::vec(any::<u64>(), 1..200), q in 0.0f64..=1.0) {
            let h = of(&v);
            v.sort_unstable();
            let exact = v[nearest_rank(q, v.len() as u64) as usize - 1];
            let got = h.quantile(q).unwrap();
            prop_assert!(got >= exact);
            prop_assert!((got - exact) as f64 <= exact as f64 / 128.0);
        }
    }
}
