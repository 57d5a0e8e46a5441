//! Login throttling: password guesses are limited per user name and per client address (GCRA token
//! buckets from `governor`), so that a name cannot be guessed at and the server cannot be made to
//! spend its memory and time on Argon2 hashes for anyone who asks. Refusals are 429 with
//! `Retry-After`.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// Guesses for one user name: five at once, then one every twenty seconds.
const PER_NAME_BURST: u32 = 5;
const PER_NAME_EVERY: Duration = Duration::from_secs(20);
/// Guesses from one address (many names): twenty at once, then one every three seconds.
const PER_ADDRESS_BURST: u32 = 20;
const PER_ADDRESS_EVERY: Duration = Duration::from_secs(3);

pub(crate) struct LoginThrottle {
    by_name: DefaultKeyedRateLimiter<String>,
    by_address: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

fn quota(burst: u32, every: Duration) -> Quota {
    let burst = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
    Quota::with_period(every)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst)
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle {
            by_name: RateLimiter::keyed(quota(PER_NAME_BURST, PER_NAME_EVERY)),
            by_address: RateLimiter::keyed(quota(PER_ADDRESS_BURST, PER_ADDRESS_EVERY)),
            clock: DefaultClock::default(),
        }
    }
}

impl LoginThrottle {
    /// Takes one attempt for this name from this address, or says how long to wait.
    pub(crate) fn attempt(&self, name: &str, address: Option<&str>) -> Result<(), Duration> {
        let now = self.clock.now();
        let address = address.unwrap_or("-").to_owned();
        // The address first: a guesser spraying names is stopped by it without touching their buckets.
        self.by_address
            .check_key(&address)
            .map_err(|not_until| not_until.wait_time_from(now))?;
        self.by_name
            .check_key(&name.to_lowercase())
            .map_err(|not_until| not_until.wait_time_from(now))
    }

    /// Forgets buckets that have refilled, so that the maps do not grow with every name ever tried.
    pub(crate) fn tidy(&self) {
        self.by_name.retain_recent();
        self.by_address.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_gets_five_guesses_then_waits() {
        let t = LoginThrottle::default();
        for _ in 0..PER_NAME_BURST {
            assert!(t.attempt("lan", Some("10.0.0.1")).is_ok());
        }
        let wait = t.attempt("lan", Some("10.0.0.2")).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= PER_NAME_EVERY, "{wait:?}");
        assert!(
            t.attempt("LAN", Some("10.0.0.3")).is_err(),
            "names are one bucket whatever the case"
        );
        assert!(
            t.attempt("an", Some("10.0.0.1")).is_ok(),
            "another name is not held back"
        );
    }

    #[test]
    fn an_address_spraying_names_is_stopped() {
        let t = LoginThrottle::default();
        for i in 0..PER_ADDRESS_BURST {
            assert!(t.attempt(&format!("user{i}"), Some("10.0.0.9")).is_ok());
        }
        assert!(t.attempt("someone", Some("10.0.0.9")).is_err());
        assert!(t.attempt("someone", Some("10.0.0.8")).is_ok());
    }
}
