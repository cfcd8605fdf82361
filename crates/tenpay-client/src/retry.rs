//! [`RetryPolicy`]: the decision "repeat this failure?", as a value.

use std::time::Duration;

use crate::Error;

/// When a failed call is repeated: only if the endpoint is safe to repeat (the same
/// out_trade_no / out_refund_no, identical parameters), only for failures whose documented
/// remedy is "repeat the same request" ([`Error::is_retryable`]: transport failures, HTTP 5xx,
/// an answer that is not XML, SYSTEMERROR, BIZERR_NEED_RETRY), at most `retries` times, with
/// a doubling backoff. Never after a signature, parameter or size error.
///
/// ```
/// use std::time::Duration;
/// use tenpay_client::{Error, RetryPolicy};
/// let policy = RetryPolicy::new(2, Duration::from_millis(200));
/// let bad_gateway = Error::Http { status: 502, excerpt: String::new() };
/// assert_eq!(policy.delay(&bad_gateway, true, 1), Some(Duration::from_millis(200)));
/// assert_eq!(policy.delay(&bad_gateway, true, 2), Some(Duration::from_millis(400)));
/// assert_eq!(policy.delay(&bad_gateway, true, 3), None); // two retries done
/// assert_eq!(policy.delay(&bad_gateway, false, 1), None); // not safe to repeat
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    retries: u32,
    backoff: Duration,
}

impl Default for RetryPolicy {
    /// Two retries, 200 ms then 400 ms.
    fn default() -> Self {
        Self::new(2, Duration::from_millis(200))
    }
}

impl RetryPolicy {
    /// Never repeat.
    pub const NEVER: Self = Self::new(0, Duration::ZERO);

    /// At most `retries` repeats, the first after `backoff`, each next one after twice the last.
    #[must_use]
    pub const fn new(retries: u32, backoff: Duration) -> Self {
        Self { retries, backoff }
    }

    /// After `failed` attempts (1 = the first try) ended in `error`: the delay before the next
    /// one, or `None` to stop and return the error. `retry_safe`: whether the endpoint may be
    /// repeated at all.
    #[must_use]
    pub fn delay(&self, error: &Error, retry_safe: bool, failed: u32) -> Option<Duration> {
        if !retry_safe || !error.is_retryable() || failed == 0 || failed > self.retries {
            return None;
        }
        Some(
            self.backoff
                .saturating_mul(2u32.saturating_pow(failed.saturating_sub(1))),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::business;

    #[test]
    fn only_safe_endpoints_and_retryable_failures_are_repeated() {
        let p = RetryPolicy::new(3, Duration::from_millis(10));
        for (e, repeat) in [
            (business("SYSTEMERROR"), true),
            (business("BIZERR_NEED_RETRY"), true),
            (business("ORDERPAID"), false),
            (business("PARAM_ERROR"), false),
            (
                Error::Http {
                    status: 502,
                    excerpt: String::new(),
                },
                true,
            ),
            (
                Error::Http {
                    status: 404,
                    excerpt: String::new(),
                },
                false,
            ),
            (Error::TooLarge { limit: 1 }, false),
            (
                Error::BadSignature(tenpay_xml::Error::MissingSignature),
                false,
            ),
            (
                Error::Protocol {
                    return_msg: "签名错误".into(),
                },
                false,
            ),
        ] {
            assert_eq!(p.delay(&e, true, 1).is_some(), repeat, "{e}");
            assert_eq!(p.delay(&e, false, 1), None, "{e}");
        }
    }

    #[test]
    fn the_backoff_doubles_and_the_count_is_bounded() {
        let p = RetryPolicy::new(3, Duration::from_millis(10));
        let e = business("SYSTEMERROR");
        let delays: Vec<_> = (1..=4).map(|n| p.delay(&e, true, n)).collect();
        assert_eq!(
            delays,
            [
                Some(Duration::from_millis(10)),
                Some(Duration::from_millis(20)),
                Some(Duration::from_millis(40)),
                None
            ]
        );
        assert_eq!(RetryPolicy::NEVER.delay(&e, true, 1), None);
        let huge = RetryPolicy::new(u32::MAX, Duration::from_secs(u64::MAX / 2));
        assert!(huge.delay(&e, true, 40).is_some(), "saturates, no overflow");
    }
}
