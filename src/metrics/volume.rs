//! Exact amounts of data: whole bytes plus the part of a byte left over.
//!
//! Owns [`Volume`], the unit every time bin is kept in. A constant-bitrate
//! stream of `r` bit/s running for `t` µs carries `r · t` bit·µs, an integer,
//! which is `r · t / 8,000,000` bytes. A [`Volume`] holds that quotient as
//! whole bytes (`u64`) and the remainder (below one byte, in bit·µs) beside
//! it, carrying into the bytes whenever remainders add up to a byte. So
//! nothing is rounded while recording, adding volumes is exact, and the
//! order in which streams, bins or shards are added never changes the
//! result: two shards that each carried half a byte merge into one byte.
//!
//! Leaves out time (a volume does not know its bin) and presentation: the
//! summary turns volumes into whole bytes with [`Volume::bytes`] and carries
//! the remainders across consecutive bins itself.

use serde::{Deserialize, Serialize};

/// bit·µs in one byte: 8 bits for one second.
pub const BIT_MICROS_PER_BYTE: u64 = 8 * 1_000_000;

/// An exact amount of data: `bytes` whole bytes and `rem` bit·µs
/// (`rem` < [`BIT_MICROS_PER_BYTE`]).
///
/// Serialized as `[bytes, rem]`.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(into = "(u64, u32)", try_from = "(u64, u32)")]
pub struct Volume {
    bytes: u64,
    rem: u32,
}

/// A serialized volume whose remainder is a byte or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a volume's remainder {rem} bit·µs is not below one byte ({BIT_MICROS_PER_BYTE})")]
pub struct VolumeError {
    /// The remainder found.
    pub rem: u32,
}

impl Volume {
    /// Nothing.
    pub const ZERO: Volume = Volume { bytes: 0, rem: 0 };

    /// Exactly `bytes` bytes.
    pub const fn from_bytes(bytes: u64) -> Volume {
        Volume { bytes, rem: 0 }
    }

    /// What `rate_bps` bit/s carries in `micros` µs, exactly.
    pub fn of_rate(rate_bps: u64, micros: u64) -> Volume {
        // The u64 path covers 10 Gbit/s for half an hour; it is the common
        // one and much cheaper than 128-bit division.
        match rate_bps.checked_mul(micros) {
            Some(p) => Volume {
                bytes: p / BIT_MICROS_PER_BYTE,
                rem: (p % BIT_MICROS_PER_BYTE) as u32,
            },
            None => Volume::from_bit_micros(u128::from(rate_bps) * u128::from(micros)),
        }
    }

    /// Exactly `bit_micros` bit·µs (saturating at `u64::MAX` bytes).
    pub fn from_bit_micros(bit_micros: u128) -> Volume {
        let per = u128::from(BIT_MICROS_PER_BYTE);
        Volume {
            bytes: u64::try_from(bit_micros / per).unwrap_or(u64::MAX),
            rem: (bit_micros % per) as u32,
        }
    }

    /// The whole bytes (the remainder, under one byte, left out).
    pub const fn bytes(self) -> u64 {
        self.bytes
    }

    /// The remainder below one byte, in bit·µs.
    pub const fn remainder(self) -> u32 {
        self.rem
    }

    /// The exact amount in bit·µs.
    pub fn bit_micros(self) -> u128 {
        u128::from(self.bytes) * u128::from(BIT_MICROS_PER_BYTE) + u128::from(self.rem)
    }

    /// Whether this is nothing at all.
    pub const fn is_zero(self) -> bool {
        self.bytes == 0 && self.rem == 0
    }

    /// Adds `other`, carrying remainders into whole bytes. Saturates at
    /// `u64::MAX` bytes (18 exabytes) rather than wrap.
    pub fn add(&mut self, other: Volume) {
        let rem = u64::from(self.rem) + u64::from(other.rem);
        let carry = rem / BIT_MICROS_PER_BYTE;
        self.rem = (rem % BIT_MICROS_PER_BYTE) as u32;
        self.bytes = self.bytes.saturating_add(other.bytes).saturating_add(carry);
    }
}

impl From<Volume> for (u64, u32) {
    fn from(v: Volume) -> (u64, u32) {
        (v.bytes, v.rem)
    }
}

impl TryFrom<(u64, u32)> for Volume {
    type Error = VolumeError;

    fn try_from((bytes, rem): (u64, u32)) -> Result<Volume, VolumeError> {
        if u64::from(rem) >= BIT_MICROS_PER_BYTE {
            return Err(VolumeError { rem });
        }
        Ok(Volume { bytes, rem })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rate_over_a_time_is_exact() {
        // 64 kbit/s for 90 s: 720,000 bytes, nothing left over.
        let v = Volume::of_rate(64_000, 90_000_000);
        assert_eq!((v.bytes(), v.remainder()), (720_000, 0));
        // 1 bit/s for 1 s is an eighth of a byte.
        let eighth = Volume::of_rate(1, 1_000_000);
        assert_eq!((eighth.bytes(), eighth.remainder()), (0, 1_000_000));
        assert_eq!(eighth.bit_micros(), 1_000_000);
        assert_eq!(Volume::from_bit_micros(9_000_001).bytes(), 1);
        assert_eq!(Volume::from_bit_micros(9_000_001).remainder(), 1_000_001);
    }

    #[test]
    fn remainders_carry_into_bytes() {
        let eighth = Volume::of_rate(1, 1_000_000);
        let mut sum = Volume::ZERO;
        for _ in 0..7 {
            sum.add(eighth);
        }
        assert_eq!((sum.bytes(), sum.remainder()), (0, 7_000_000));
        sum.add(eighth);
        assert_eq!(sum, Volume::from_bytes(1));
        sum.add(Volume::of_rate(3, 5_000_000)); // 15 bits: 1 byte, 7 bits
        assert_eq!((sum.bytes(), sum.remainder()), (2, 7_000_000));
    }

    #[test]
    fn products_beyond_u64_are_exact() {
        // 100 Gbit/s for 10 hours: 4.5e14 bytes, p = 3.6e21 bit·µs.
        let v = Volume::of_rate(100_000_000_000, 36_000_000_000);
        assert_eq!((v.bytes(), v.remainder()), (450_000_000_000_000, 0));
        let odd = Volume::of_rate(100_000_000_001, 36_000_000_001);
        assert_eq!(odd.bit_micros(), 100_000_000_001u128 * 36_000_000_001u128);
        assert!(u64::from(odd.remainder()) < BIT_MICROS_PER_BYTE);
    }

    #[test]
    fn adding_saturates_instead_of_wrapping() {
        let mut v = Volume::from_bytes(u64::MAX);
        v.add(Volume::from_bytes(5));
        assert_eq!(v.bytes(), u64::MAX);
    }

    #[test]
    fn serialized_as_a_pair_and_checked_on_the_way_back() {
        let v = Volume::of_rate(3, 5_000_000);
        assert_eq!(serde_json::to_string(&v).unwrap(), "[1,7000000]");
        assert_eq!(serde_json::from_str::<Volume>("[1,7000000]").unwrap(), v);
        let err = serde_json::from_str::<Volume>("[1,8000000]").unwrap_err();
        assert!(err.to_string().contains("not below one byte"), "{err}");
    }
}
