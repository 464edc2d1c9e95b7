//! Erlang B: the blocking probability of a group of servers (trunks,
//! CAC-limited call slots) offered Poisson traffic, blocked calls cleared.
//!
//! Owns the formula and its inverse (how many servers a blocking target
//! needs). Offered traffic is in Erlang: calls per hour × mean holding time in
//! hours. Leaves out where the traffic comes from (the workload) and the
//! simulated blocking the engine measures; tests compare the two.

use crate::units::Ratio;

/// Offered traffic or a blocking target that has no answer.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum ErlangError {
    /// Offered traffic must be a finite number of Erlang, zero or more.
    #[error("offered traffic {0} Erlang is not a finite number, zero or more")]
    InvalidOffered(f64),
    /// Some traffic is offered and the target is zero blocking, which no
    /// finite number of servers achieves.
    #[error("no finite number of servers blocks none of {0} Erlang")]
    ZeroBlockingTarget(f64),
    /// The answer does not fit in a `u32`.
    #[error(
        "{offered} Erlang at {target} blocking needs more than {} servers",
        u32::MAX
    )]
    TooManyServers {
        /// Offered traffic, in Erlang.
        offered: f64,
        /// The blocking target.
        target: Ratio,
    },
}

/// The probability that a call offered to `servers` servers carrying
/// `offered` Erlang of Poisson traffic finds them all busy (Erlang B).
///
/// Uses the recurrence B(0) = 1, B(n) = A·B(n−1) / (n + A·B(n−1)), which
/// never forms the factorials or powers of the closed form and so stays
/// accurate for thousands of servers. Returns NaN when `offered` is negative
/// or not finite, because no probability answers that.
pub fn erlang_b(offered: f64, servers: u32) -> f64 {
    if !valid_offered(offered) {
        return f64::NAN;
    }
    (1..=servers).fold(1.0, |b, n| offered * b / (f64::from(n) + offered * b))
}

/// The fewest servers that carry `offered` Erlang with blocking at or below
/// `target` (1% is the usual grade of service for public networks).
pub fn erlang_b_servers(offered: f64, target: Ratio) -> Result<u32, ErlangError> {
    if !valid_offered(offered) {
        return Err(ErlangError::InvalidOffered(offered));
    }
    let target_p = target.get();
    if target_p == 0.0 && offered > 0.0 {
        return Err(ErlangError::ZeroBlockingTarget(offered));
    }
    // n servers carry at most n Erlang, so meeting the target needs
    // n ≥ A·(1 − target); refuse early rather than iterate past u32::MAX.
    let too_many = ErlangError::TooManyServers { offered, target };
    if offered * (1.0 - target_p) > f64::from(u32::MAX) {
        return Err(too_many);
    }
    let mut b = 1.0;
    let mut n: u32 = 0;
    while b > target_p {
        n = n.checked_add(1).ok_or(too_many)?;
        b = offered * b / (f64::from(n) + offered * b);
    }
    Ok(n)
}

fn valid_offered(offered: f64) -> bool {
    offered.is_finite() && offered >= 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ratio(p: f64) -> Ratio {
        Ratio::new(p).unwrap()
    }

    #[test]
    fn fifteen_servers_carry_8_108_erlang_at_one_percent() {
        // Westbay / erlang.com calculator test vector.
        let b = erlang_b(8.108, 15);
        assert!((b - 0.0100).abs() < 0.00005, "B = {b}");
        assert_eq!(erlang_b_servers(8.108, ratio(0.01)), Ok(15));
        // A little more traffic tips it to 16.
        assert_eq!(erlang_b_servers(8.2, ratio(0.01)), Ok(16));
    }

    #[test]
    fn small_cases_match_the_closed_form() {
        // B(A, 1) = A / (1 + A); B(2, 2) = (A²/2) / (1 + A + A²/2) = 0.4.
        assert!((erlang_b(3.0, 1) - 0.75).abs() < 1e-12);
        assert!((erlang_b(2.0, 2) - 0.4).abs() < 1e-12);
    }

    #[test]
    fn no_servers_block_everything_and_no_traffic_blocks_nothing() {
        assert_eq!(erlang_b(0.0, 0), 1.0);
        assert_eq!(erlang_b(42.0, 0), 1.0);
        assert_eq!(erlang_b(0.0, 5), 0.0);
        assert_eq!(erlang_b_servers(5.0, Ratio::ONE), Ok(0));
        assert_eq!(erlang_b_servers(0.0, Ratio::ZERO), Ok(1));
    }

    #[test]
    fn blocking_falls_with_servers_and_rises_with_traffic() {
        for n in 0..60 {
            assert!(erlang_b(20.0, n + 1) < erlang_b(20.0, n), "n = {n}");
        }
        let mut previous = 0.0;
        for tenths in 1..500 {
            let b = erlang_b(f64::from(tenths) / 10.0, 12);
            assert!(b > previous, "A = {}", f64::from(tenths) / 10.0);
            previous = b;
        }
    }

    #[test]
    fn the_recurrence_stays_finite_for_large_groups() {
        let b = erlang_b(9_500.0, 10_000);
        assert!(b.is_finite() && b > 0.0 && b < 0.01, "B = {b}");
        let n = erlang_b_servers(9_500.0, ratio(0.01)).unwrap();
        assert!(erlang_b(9_500.0, n) <= 0.01 && erlang_b(9_500.0, n - 1) > 0.01);
    }

    #[test]
    fn impossible_questions_are_errors_not_panics() {
        assert!(erlang_b(-1.0, 3).is_nan());
        assert!(erlang_b(f64::INFINITY, 3).is_nan());
        assert_eq!(
            erlang_b_servers(f64::NAN, ratio(0.01))
                .unwrap_err()
                .to_string(),
            "offered traffic NaN Erlang is not a finite number, zero or more"
        );
        assert_eq!(
            erlang_b_servers(3.0, Ratio::ZERO),
            Err(ErlangError::ZeroBlockingTarget(3.0))
        );
        assert_eq!(
            erlang_b_servers(1e12, ratio(0.01)),
            Err(ErlangError::TooManyServers {
                offered: 1e12,
                target: ratio(0.01)
            })
        );
    }
}
