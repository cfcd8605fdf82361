//! No user starves the rest: a token bucket per user and one per client address (`governor`)
//! on the app's calls that reach WeChat Pay (order creation, new attempts, `?refresh=true`).
//! WeChat Pay's frequency limits are per merchant, so one user's flood would otherwise be
//! every user's `FREQUENCY_LIMITED`. A refused call is a 429 with `Retry-After`, counted in
//! `/metrics`.

use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::UserId;

pub use crate::config::{Rate, RateLimits};

fn quota(rate: Rate) -> Quota {
    Quota::per_minute(rate.per_minute).allow_burst(rate.burst)
}

/// Which bucket was empty.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The user's.
    User,
    /// The client address's.
    Ip,
}

/// A refused call: which bucket, and when the next call is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    /// The bucket.
    pub scope: Scope,
    /// Wait at least this long.
    pub retry_after: Duration,
}

/// The buckets and their counters, shared by every request.
#[derive(Debug)]
pub struct Throttle {
    users: DefaultKeyedRateLimiter<String>,
    ips: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    checks: AtomicU64,
    /// Calls refused by a user's bucket.
    pub refused_user: AtomicU64,
    /// Calls refused by an address's bucket.
    pub refused_ip: AtomicU64,
}

/// Forget idle buckets every this many checks (a full bucket is the same as none).
const RETAIN_EVERY: u64 = 4096;

impl Throttle {
    /// Empty buckets of `limits`.
    #[must_use]
    pub fn new(limits: RateLimits) -> Self {
        Self {
            users: RateLimiter::keyed(quota(limits.per_user)),
            ips: RateLimiter::keyed(quota(limits.per_ip)),
            clock: DefaultClock::default(),
            checks: AtomicU64::new(0),
            refused_user: AtomicU64::new(0),
            refused_ip: AtomicU64::new(0),
        }
    }

    /// Takes one call from the address's bucket, then from the user's.
    ///
    /// # Errors
    /// [`Limited`] when either is empty (nothing is taken from the user's when the address's
    /// is).
    pub fn admit(&self, user: &UserId, ip: IpAddr) -> Result<(), Limited> {
        if self.checks.fetch_add(1, Relaxed) % RETAIN_EVERY == RETAIN_EVERY - 1 {
            self.users.retain_recent();
            self.ips.retain_recent();
        }
        if let Err(not_until) = self.ips.check_key(&ip) {
            self.refused_ip.fetch_add(1, Relaxed);
            return Err(Limited {
                scope: Scope::Ip,
                retry_after: not_until.wait_time_from(self.clock.now()),
            });
        }
        if let Err(not_until) = self.users.check_key(&user.as_str().to_owned()) {
            self.refused_user.fetch_add(1, Relaxed);
            return Err(Limited {
                scope: Scope::User,
                retry_after: not_until.wait_time_from(self.clock.now()),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_bucket_empties_for_its_key_only() {
        let t = Throttle::new(RateLimits {
            per_user: Rate::new(1, 2),
            per_ip: Rate::new(60, 100),
        });
        let (alice, bob) = (UserId::new("alice").unwrap(), UserId::new("bob").unwrap());
        let ip: IpAddr = "203.0.113.1".parse().unwrap();
        assert!(t.admit(&alice, ip).is_ok());
        assert!(t.admit(&alice, ip).is_ok());
        let limited = t.admit(&alice, ip).unwrap_err();
        assert_eq!(limited.scope, Scope::User);
        assert!(limited.retry_after > Duration::from_secs(50), "{limited:?}");
        assert!(t.admit(&bob, ip).is_ok());
        assert_eq!(t.refused_user.load(Relaxed), 1);
    }

    #[test]
    fn an_address_is_limited_across_users() {
        let t = Throttle::new(RateLimits {
            per_user: Rate::new(60, 100),
            per_ip: Rate::new(1, 3),
        });
        let ip: IpAddr = "203.0.113.1".parse().unwrap();
        for i in 0..3 {
            assert!(t.admit(&UserId::new(format!("u{i}")).unwrap(), ip).is_ok());
        }
        let limited = t.admit(&UserId::new("u9").unwrap(), ip).unwrap_err();
        assert_eq!(limited.scope, Scope::Ip);
        assert!(
            t.admit(&UserId::new("u9").unwrap(), "203.0.113.2".parse().unwrap())
                .is_ok()
        );
        assert_eq!(t.refused_ip.load(Relaxed), 1);
    }
}
