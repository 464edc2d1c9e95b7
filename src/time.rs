//! Simulated time.
//!
//! Owns [`SimTime`] (an instant, microseconds since the start of a run) and
//! [`SimDuration`] (a span of microseconds). Both are integers: they order
//! totally, add exactly and print the same on every machine.
//!
//! Leaves out any notion of wall-clock time. The library never reads a clock;
//! every function that needs "now" takes a `SimTime` argument.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// An instant of simulated time, in microseconds since the start of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(u64);

/// A span of simulated time, in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(u64);

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// The latest representable instant.
    pub const MAX: SimTime = SimTime(u64::MAX);

    /// An instant `micros` microseconds after the start.
    pub const fn from_micros(micros: u64) -> Self {
        SimTime(micros)
    }

    /// Microseconds since the start.
    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// Seconds since the start, as a float (for output only).
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }

    /// The span from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// `self + d`, clamped at [`SimTime::MAX`].
    pub fn saturating_add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A span of `micros` microseconds.
    pub const fn from_micros(micros: u64) -> Self {
        SimDuration(micros)
    }
    /// A span of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        SimDuration(millis * 1_000)
    }
    /// A span of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        SimDuration(secs * 1_000_000)
    }
    /// A span of `mins` minutes.
    pub const fn from_mins(mins: u64) -> Self {
        SimDuration(mins * 60_000_000)
    }
    /// A span of `hours` hours.
    pub const fn from_hours(hours: u64) -> Self {
        SimDuration(hours * 3_600_000_000)
    }
    /// A span from fractional seconds, rounded to the nearest microsecond;
    /// negative or non-finite input gives zero.
    pub fn from_secs_f64(secs: f64) -> Self {
        if secs.is_finite() && secs > 0.0 {
            SimDuration((secs * 1e6).round().min(u64::MAX as f64) as u64)
        } else {
            SimDuration::ZERO
        }
    }

    /// The span in microseconds.
    pub const fn as_micros(self) -> u64 {
        self.0
    }
    /// The span in milliseconds, as a float.
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e3
    }
    /// The span in seconds, as a float.
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    /// `self * k`, clamped.
    pub fn saturating_mul(self, k: u64) -> SimDuration {
        SimDuration(self.0.saturating_mul(k))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0 + d.0)
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 += d.0;
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    /// The span between two instants.
    ///
    /// # Panics
    /// If `rhs` is later than `self`: time never runs backwards in a run.
    fn sub(self, rhs: SimTime) -> SimDuration {
        SimDuration(
            self.0
                .checked_sub(rhs.0)
                .expect("simulated time runs forwards"),
        )
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, rhs: SimDuration) -> SimDuration {
        SimDuration(self.0 + rhs.0)
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, rhs: SimDuration) {
        self.0 += rhs.0;
    }
}

impl fmt::Display for SimDuration {
    /// Human units: `850us`, `12.5ms`, `3.2s`, `4m10s`, `2h05m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let us = self.0;
        if us < 1_000 {
            write!(f, "{us}us")
        } else if us < 1_000_000 {
            write!(f, "{}ms", trim_float(us as f64 / 1e3))
        } else if us < 60_000_000 {
            write!(f, "{}s", trim_float(us as f64 / 1e6))
        } else if us < 3_600_000_000 {
            let s = us / 1_000_000;
            write!(f, "{}m{:02}s", s / 60, s % 60)
        } else {
            let m = us / 60_000_000;
            write!(f, "{}h{:02}m", m / 60, m % 60)
        }
    }
}

impl fmt::Display for SimTime {
    /// Clock-style offset from the start of the run: `hh:mm:ss.mmm`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ms = self.0 / 1_000;
        let (h, m, s, ms) = (
            ms / 3_600_000,
            (ms / 60_000) % 60,
            (ms / 1_000) % 60,
            ms % 1_000,
        );
        write!(f, "{h:02}:{m:02}:{s:02}.{ms:03}")
    }
}

/// Formats with at most three decimals and no trailing zeros.
fn trim_float(x: f64) -> String {
    let s = format!("{x:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_in_human_units() {
        assert_eq!(SimDuration::from_micros(850).to_string(), "850us");
        assert_eq!(SimDuration::from_micros(12_500).to_string(), "12.5ms");
        assert_eq!(SimDuration::from_millis(3_200).to_string(), "3.2s");
        assert_eq!(SimDuration::from_secs(250).to_string(), "4m10s");
        assert_eq!(SimDuration::from_mins(125).to_string(), "2h05m");
    }

    #[test]
    fn instants_print_as_clock_offsets() {
        let t = SimTime::ZERO + SimDuration::from_hours(9) + SimDuration::from_millis(61_005);
        assert_eq!(t.to_string(), "09:01:01.005");
    }

    #[test]
    fn arithmetic_is_exact() {
        let t = SimTime::from_micros(10) + SimDuration::from_micros(5);
        assert_eq!(t - SimTime::from_micros(3), SimDuration::from_micros(12));
        assert_eq!(
            SimTime::from_micros(3).saturating_since(t),
            SimDuration::ZERO
        );
        assert_eq!(SimDuration::from_secs_f64(-1.0), SimDuration::ZERO);
        assert_eq!(SimDuration::from_secs_f64(0.0015).as_micros(), 1_500);
    }

    #[test]
    #[should_panic(expected = "simulated time runs forwards")]
    fn subtracting_a_later_instant_is_a_bug() {
        let _ = SimTime::from_micros(1) - SimTime::from_micros(2);
    }
}
