//! The one clock type. Signing, rate limits, the controller's schedule and its status times
//! all read the time through a [`Clock`], so tests and the simulator's skew checks can
//! inject one.

use std::sync::Arc;

use jiff::Timestamp;

/// A source of the current time.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The system's clock.
pub fn system_clock() -> Clock {
    Arc::new(Timestamp::now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_clock_moves_forward() {
        let clock = system_clock();
        let (a, b) = (clock(), clock());
        assert!(b >= a);
        assert!(a > Timestamp::UNIX_EPOCH);
    }
}
