//! Seeded random streams.
//!
//! Owns the derivation of independent ChaCha8 streams from a run's seed, a
//! replication number and a [`Purpose`]. Each purpose draws from its own
//! stream, so a change that makes one part of the model draw more or fewer
//! numbers leaves every other part's draws untouched. Two scenarios that
//! differ only in the network (say, with and without an ExpressRoute circuit)
//! therefore see the same arrivals and holding times: common random numbers,
//! which make their paired difference much less noisy.
//!
//! Leaves out what is drawn: distributions and their parameters belong to the
//! code that samples them.
//!
//! ChaCha8 is named rather than `StdRng`, whose algorithm rand may change in
//! any release. The golden test below pins the first values of one stream, so
//! a value-breaking upstream change fails a test instead of silently shifting
//! every result.

use rand::SeedableRng;
use rand::rngs::ChaCha8Rng;

/// What a random stream is used for.
///
/// The discriminants are part of the results: a stream is keyed on them, so
/// renumbering a variant changes every number drawn for it. Add new purposes
/// at the end with the next free value; never reuse or reorder one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Purpose {
    /// When calls and meetings start (inter-arrival times).
    Arrivals = 0,
    /// How long calls and meetings last (holding times).
    Holding = 1,
    /// Who takes part in a meeting and how many join.
    Meetings = 2,
    /// Which modalities (audio, video, screen sharing) a session uses.
    Modalities = 3,
    /// Where the parties of a call are: which user group, site or remote location.
    Placement = 4,
    /// When links and devices fail and are repaired.
    Failures = 5,
    /// Traffic that is not a call: background load on links.
    Background = 6,
}

/// The random stream for `purpose` in replication `replication` of the run
/// seeded with `seed`.
///
/// The seed sets the ChaCha8 key; the replication and purpose together set
/// the 64-bit stream number (nonce) as `replication << 8 | purpose`. Streams
/// under one key with distinct nonces are independent as far as any
/// statistical test can tell, and each is 2^64 blocks long, so no stream
/// runs into another.
pub fn stream(seed: u64, replication: u32, purpose: Purpose) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(u64::from(replication) << 8 | purpose as u64);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, RngExt};

    fn first(n: usize, mut rng: ChaCha8Rng) -> Vec<u64> {
        (0..n).map(|_| rng.next_u64()).collect()
    }

    const ALL: [Purpose; 7] = [
        Purpose::Arrivals,
        Purpose::Holding,
        Purpose::Meetings,
        Purpose::Modalities,
        Purpose::Placement,
        Purpose::Failures,
        Purpose::Background,
    ];

    #[test]
    fn discriminants_are_stable() {
        let values: Vec<u8> = ALL.iter().map(|&p| p as u8).collect();
        assert_eq!(values, [0, 1, 2, 3, 4, 5, 6]);
    }

    #[test]
    fn same_inputs_give_the_same_sequence() {
        assert_eq!(
            first(64, stream(7, 3, Purpose::Holding)),
            first(64, stream(7, 3, Purpose::Holding))
        );
        let mut a = stream(7, 3, Purpose::Holding);
        let mut b = stream(7, 3, Purpose::Holding);
        let xs: Vec<f64> = (0..16).map(|_| a.random()).collect();
        let ys: Vec<f64> = (0..16).map(|_| b.random()).collect();
        assert_eq!(xs, ys);
    }

    #[test]
    fn every_purpose_replication_and_seed_has_its_own_stream() {
        let mut seen = std::collections::BTreeSet::new();
        for seed in [0, 42] {
            for replication in [0, 1, 2, u32::MAX] {
                for purpose in ALL {
                    let head = first(4, stream(seed, replication, purpose));
                    assert!(
                        seen.insert(head),
                        "stream ({seed}, {replication}, {purpose:?}) repeats another"
                    );
                }
            }
        }
        assert_eq!(seen.len(), 2 * 4 * ALL.len());
    }

    #[test]
    fn golden_values_of_the_arrivals_stream() {
        // Pinned from rand 0.10.4 / chacha20 0.10.2, and reproduced by a
        // separate ChaCha8 written from the cipher's definition (key from
        // rand_core's PCG32 expansion of 42, counter 0, nonce 0). If this
        // fails after a dependency update, every simulated result has
        // changed too.
        assert_eq!(
            first(4, stream(42, 0, Purpose::Arrivals)),
            [
                12_578_764_544_318_200_737,
                17_529_487_244_874_322_312,
                7_886_285_670_807_131_020,
                11_572_758_976_476_374_866,
            ]
        );
    }

    #[test]
    fn golden_values_pin_the_stream_number_layout() {
        // Replication 1, Holding (1) is nonce 1 << 8 | 1 = 257; the same
        // separate implementation gives these two words.
        assert_eq!(
            first(2, stream(42, 1, Purpose::Holding)),
            [17_835_055_444_434_958_309, 12_799_512_793_596_776_988]
        );
    }
}
