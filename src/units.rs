//! Quantities as people write them, parsed into types.
//!
//! Owns [`Bitrate`], [`DataSize`] and [`Ratio`], and the parsing of durations
//! into [`SimDuration`]. Planners write `"500Mbps"`, `"20ms"`, `"0.1%"`,
//! `"2Gbps"`, `"1.1MB"`; this module turns each into an integer (or, for
//! ratios, a checked fraction) once, so nothing downstream handles a bare
//! number of unknown unit.
//!
//! Leaves out where a quantity came from: the validator attaches file
//! positions to a [`UnitError`].

use std::fmt;
use std::ops::{Add, AddAssign, Mul};
use std::str::FromStr;

use serde::{Serialize, Serializer};

use crate::time::SimDuration;

/// A quantity that did not parse, with what was expected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{found:?} is not {expected}")]
pub struct UnitError {
    /// What the text should have looked like, with examples.
    pub expected: &'static str,
    /// The text as written.
    pub found: String,
}

/// A data rate in bits per second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Bitrate(u64);

impl Bitrate {
    /// No traffic.
    pub const ZERO: Bitrate = Bitrate(0);

    /// `bps` bits per second.
    pub const fn bps(bps: u64) -> Self {
        Bitrate(bps)
    }
    /// `kbps` kilobits (1,000 bits) per second.
    pub const fn kbps(kbps: u64) -> Self {
        Bitrate(kbps * 1_000)
    }
    /// `mbps` megabits per second.
    pub const fn mbps(mbps: u64) -> Self {
        Bitrate(mbps * 1_000_000)
    }
    /// `gbps` gigabits per second.
    pub const fn gbps(gbps: u64) -> Self {
        Bitrate(gbps * 1_000_000_000)
    }
    /// A rate from fractional kilobits per second (codec tables use them),
    /// rounded to the nearest bit per second.
    pub fn kbps_f64(kbps: f64) -> Self {
        Bitrate((kbps * 1_000.0).round().max(0.0) as u64)
    }
    /// Bits per second.
    pub const fn as_bps(self) -> u64 {
        self.0
    }
    /// Kilobits per second, as a float.
    pub fn as_kbps_f64(self) -> f64 {
        self.0 as f64 / 1e3
    }
    /// Megabits per second, as a float.
    pub fn as_mbps_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// The bytes this rate carries over `d`, rounded down.
    pub fn bytes_over(self, d: SimDuration) -> DataSize {
        // bits/s × µs / 8 / 1e6; u128 keeps a 10 Gbps day exact.
        let bits = self.0 as u128 * d.as_micros() as u128 / 1_000_000;
        DataSize::bytes((bits / 8) as u64)
    }
    /// `self - rhs`, or zero.
    pub fn saturating_sub(self, rhs: Bitrate) -> Bitrate {
        Bitrate(self.0.saturating_sub(rhs.0))
    }
}

impl Add for Bitrate {
    type Output = Bitrate;
    fn add(self, rhs: Bitrate) -> Bitrate {
        Bitrate(self.0 + rhs.0)
    }
}

impl AddAssign for Bitrate {
    fn add_assign(&mut self, rhs: Bitrate) {
        self.0 += rhs.0;
    }
}

impl Mul<u64> for Bitrate {
    type Output = Bitrate;
    fn mul(self, k: u64) -> Bitrate {
        Bitrate(self.0 * k)
    }
}

impl std::iter::Sum for Bitrate {
    fn sum<I: Iterator<Item = Bitrate>>(iter: I) -> Bitrate {
        iter.fold(Bitrate::ZERO, Add::add)
    }
}

impl fmt::Display for Bitrate {
    /// The largest unit that keeps the number at least 1: `64 kbps`, `1.5 Mbps`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0 as f64;
        let (v, u) = if self.0 >= 1_000_000_000 {
            (b / 1e9, "Gbps")
        } else if self.0 >= 1_000_000 {
            (b / 1e6, "Mbps")
        } else if self.0 >= 1_000 {
            (b / 1e3, "kbps")
        } else {
            (b, "bps")
        };
        write!(f, "{} {u}", trim(v))
    }
}

impl FromStr for Bitrate {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        const EXPECTED: &str = "a bitrate (e.g. \"500Mbps\", \"2Gbps\", \"64kbps\")";
        let (value, unit) = split_number(s).ok_or_else(|| error(EXPECTED, s))?;
        let scale = match unit {
            "bps" | "b/s" => 1.0,
            "kbps" | "Kbps" | "kb/s" => 1e3,
            "Mbps" | "mbps" | "Mb/s" => 1e6,
            "Gbps" | "gbps" | "Gb/s" => 1e9,
            "Tbps" | "tbps" | "Tb/s" => 1e12,
            _ => return Err(error(EXPECTED, s)),
        };
        Ok(Bitrate(
            to_integer(value * scale).ok_or_else(|| error(EXPECTED, s))?,
        ))
    }
}

impl Serialize for Bitrate {
    /// Serialized as bits per second, so JSON consumers get one plain unit.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

/// An amount of data in bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DataSize(u64);

impl DataSize {
    /// Nothing.
    pub const ZERO: DataSize = DataSize(0);

    /// `n` bytes.
    pub const fn bytes(n: u64) -> Self {
        DataSize(n)
    }
    /// The size in bytes.
    pub const fn as_bytes(self) -> u64 {
        self.0
    }
    /// The mean rate that carries this much data over `d` (zero over no time).
    pub fn rate_over(self, d: SimDuration) -> Bitrate {
        if d == SimDuration::ZERO {
            return Bitrate::ZERO;
        }
        Bitrate((self.0 as u128 * 8 * 1_000_000 / d.as_micros() as u128) as u64)
    }
}

impl Add for DataSize {
    type Output = DataSize;
    fn add(self, rhs: DataSize) -> DataSize {
        DataSize(self.0 + rhs.0)
    }
}

impl AddAssign for DataSize {
    fn add_assign(&mut self, rhs: DataSize) {
        self.0 += rhs.0;
    }
}

impl fmt::Display for DataSize {
    /// Decimal units: `980 B`, `1.2 MB`, `3.4 GB`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0 as f64;
        let (v, u) = if self.0 >= 1_000_000_000_000 {
            (b / 1e12, "TB")
        } else if self.0 >= 1_000_000_000 {
            (b / 1e9, "GB")
        } else if self.0 >= 1_000_000 {
            (b / 1e6, "MB")
        } else if self.0 >= 1_000 {
            (b / 1e3, "kB")
        } else {
            (b, "B")
        };
        write!(f, "{} {u}", trim(v))
    }
}

impl FromStr for DataSize {
    type Err = UnitError;
    fn from_str(s: &str) -> Result<Self, UnitError> {
        const EXPECTED: &str = "a data size (e.g. \"1MB\", \"200kB\", \"4GiB\")";
        let (value, unit) = split_number(s).ok_or_else(|| error(EXPECTED, s))?;
        let scale = match unit {
            "B" => 1.0,
            "kB" | "KB" => 1e3,
            "MB" => 1e6,
            "GB" => 1e9,
            "TB" => 1e12,
            "KiB" => 1024.0,
            "MiB" => 1024.0 * 1024.0,
            "GiB" => 1024.0 * 1024.0 * 1024.0,
            _ => return Err(error(EXPECTED, s)),
        };
        Ok(DataSize(
            to_integer(value * scale).ok_or_else(|| error(EXPECTED, s))?,
        ))
    }
}

impl Serialize for DataSize {
    /// Serialized as bytes.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

/// A fraction between 0 and 1 inclusive: a loss rate, a probability, a share.
#[derive(Clone, Copy, Debug, Default, PartialEq, PartialOrd)]
pub struct Ratio(f64);

impl Ratio {
    /// Nothing.
    pub const ZERO: Ratio = Ratio(0.0);
    /// Everything.
    pub const ONE: Ratio = Ratio(1.0);

    /// A ratio from a fraction, or `None` outside `[0, 1]` or not finite.
    pub fn new(fraction: f64) -> Option<Self> {
        (fraction.is_finite() && (0.0..=1.0).contains(&fraction)).then_some(Ratio(fraction))
    }
    /// The fraction, in `[0, 1]`.
    pub const fn get(self) -> f64 {
        self.0
    }
    /// The fraction as a percentage.
    pub fn percent(self) -> f64 {
        self.0 * 100.0
    }
    /// The probability that at least one of two independent events happens:
    /// how loss on two links in series combines.
    pub fn either(self, other: Ratio) -> Ratio {
        Ratio(1.0 - (1.0 - self.0) * (1.0 - other.0))
    }
}

impl fmt::Display for Ratio {
    /// As a percentage: `0.1%`, `35%`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}%", trim(self.0 * 100.0))
    }
}

impl FromStr for Ratio {
    type Err = UnitError;
    /// `"0.1%"` (a percentage) or `"0.001"` (a fraction).
    fn from_str(s: &str) -> Result<Self, UnitError> {
        const EXPECTED: &str = "a ratio between 0 and 1 (e.g. \"0.1%\", \"35%\", \"0.25\")";
        let t = s.trim();
        let fraction = match t.strip_suffix('%') {
            Some(p) => p.trim().parse::<f64>().map(|v| v / 100.0),
            None => t.parse::<f64>(),
        }
        .map_err(|_| error(EXPECTED, s))?;
        Ratio::new(fraction).ok_or_else(|| error(EXPECTED, s))
    }
}

impl Serialize for Ratio {
    /// Serialized as the fraction.
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

/// Parses a duration written with units: `"250us"`, `"20ms"`, `"1.5s"`,
/// `"5m"`, `"2h"`, `"1d"`, or several parts at once (`"1h30m"`).
pub fn parse_duration(s: &str) -> Result<SimDuration, UnitError> {
    const EXPECTED: &str = "a duration (e.g. \"20ms\", \"30s\", \"5m\", \"1h30m\")";
    let mut rest = s.trim();
    if rest.is_empty() {
        return Err(error(EXPECTED, s));
    }
    let mut total = 0.0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(|| error(EXPECTED, s))?;
        let value: f64 = rest[..number_len].parse().map_err(|_| error(EXPECTED, s))?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let micros_per_unit = match rest[..unit_len].trim() {
            "us" | "µs" => 1.0,
            "ms" => 1e3,
            "s" => 1e6,
            "m" | "min" => 60e6,
            "h" => 3_600e6,
            "d" => 86_400e6,
            _ => return Err(error(EXPECTED, s)),
        };
        total += value * micros_per_unit;
        rest = rest[unit_len..].trim_start();
    }
    let micros = to_integer(total).ok_or_else(|| error(EXPECTED, s))?;
    Ok(SimDuration::from_micros(micros))
}

/// Splits `"1.5 Mbps"` into `(1.5, "Mbps")`.
fn split_number(s: &str) -> Option<(f64, &str)> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let value: f64 = t[..split].parse().ok()?;
    Some((value, t[split..].trim()))
}

/// Rounds a non-negative finite float to an integer, or `None`.
fn to_integer(v: f64) -> Option<u64> {
    (v.is_finite() && v >= 0.0 && v < u64::MAX as f64).then(|| v.round() as u64)
}

fn error(expected: &'static str, found: &str) -> UnitError {
    UnitError {
        expected,
        found: found.to_string(),
    }
}

/// At most three decimals, without trailing zeros.
fn trim(v: f64) -> String {
    let s = format!("{v:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bitrates_parse_as_people_write_them() {
        assert_eq!("500Mbps".parse::<Bitrate>(), Ok(Bitrate::mbps(500)));
        assert_eq!("2Gbps".parse::<Bitrate>(), Ok(Bitrate::gbps(2)));
        assert_eq!("64 kbps".parse::<Bitrate>(), Ok(Bitrate::kbps(64)));
        assert_eq!("39.8kbps".parse::<Bitrate>(), Ok(Bitrate::bps(39_800)));
        assert_eq!("1.5Mbps".parse::<Bitrate>(), Ok(Bitrate::bps(1_500_000)));
        for bad in ["500", "Mbps", "-5Mbps", "500Mbs", "", "1e3kbps"] {
            assert!(bad.parse::<Bitrate>().is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn bitrates_print_in_the_largest_fitting_unit() {
        assert_eq!(Bitrate::kbps(64).to_string(), "64 kbps");
        assert_eq!(Bitrate::bps(1_500_000).to_string(), "1.5 Mbps");
        assert_eq!(Bitrate::gbps(10).to_string(), "10 Gbps");
    }

    #[test]
    fn rate_and_size_convert_both_ways() {
        let d = SimDuration::from_secs(60);
        let size = Bitrate::kbps(64).bytes_over(d);
        assert_eq!(size, DataSize::bytes(480_000));
        assert_eq!(size.rate_over(d), Bitrate::kbps(64));
        assert_eq!(size.rate_over(SimDuration::ZERO), Bitrate::ZERO);
        // A 10 Gbps link for a day does not overflow.
        let day = Bitrate::gbps(10).bytes_over(SimDuration::from_hours(24));
        assert_eq!(day.as_bytes(), 108_000_000_000_000);
    }

    #[test]
    fn sizes_parse_in_decimal_and_binary_units() {
        assert_eq!("1MB".parse::<DataSize>(), Ok(DataSize::bytes(1_000_000)));
        assert_eq!("1.1MB".parse::<DataSize>(), Ok(DataSize::bytes(1_100_000)));
        assert_eq!("4KiB".parse::<DataSize>(), Ok(DataSize::bytes(4096)));
        assert!("4 parsecs".parse::<DataSize>().is_err());
        assert_eq!(DataSize::bytes(1_234_000).to_string(), "1.234 MB");
    }

    #[test]
    fn ratios_accept_percentages_and_fractions_in_range() {
        assert_eq!("0.1%".parse::<Ratio>().unwrap().get(), 0.001);
        assert_eq!("35%".parse::<Ratio>().unwrap().get(), 0.35);
        assert_eq!("0.25".parse::<Ratio>().unwrap().get(), 0.25);
        for bad in ["101%", "-1%", "1.5", "NaN", "x%"] {
            assert!(bad.parse::<Ratio>().is_err(), "{bad:?} parsed");
        }
        assert_eq!(Ratio::new(0.001).unwrap().to_string(), "0.1%");
        let both = Ratio::new(0.1).unwrap().either(Ratio::new(0.1).unwrap());
        assert!((both.get() - 0.19).abs() < 1e-12);
    }

    #[test]
    fn durations_parse_single_and_compound_units() {
        assert_eq!(parse_duration("20ms"), Ok(SimDuration::from_millis(20)));
        assert_eq!(parse_duration("250us"), Ok(SimDuration::from_micros(250)));
        assert_eq!(parse_duration("1.5s"), Ok(SimDuration::from_millis(1_500)));
        assert_eq!(parse_duration("5m"), Ok(SimDuration::from_mins(5)));
        assert_eq!(parse_duration("1h30m"), Ok(SimDuration::from_mins(90)));
        assert_eq!(parse_duration("1d"), Ok(SimDuration::from_hours(24)));
        for bad in ["", "20", "ms", "20 parsecs", "-3s", "1..2s"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn errors_say_what_was_expected() {
        let e = "fast".parse::<Bitrate>().unwrap_err();
        assert_eq!(
            e.to_string(),
            "\"fast\" is not a bitrate (e.g. \"500Mbps\", \"2Gbps\", \"64kbps\")"
        );
    }
}
