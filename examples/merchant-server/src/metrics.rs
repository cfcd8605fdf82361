//! WeChat Pay call latency by endpoint, as Prometheus histograms: every call the server
//! makes goes through [`CallLatency::time`], whatever its outcome.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Instant;

/// The endpoints the server calls, by the name `/metrics` gives them.
pub const ENDPOINTS: [&str; 6] = [
    "unifiedorder",
    "orderquery",
    "closeorder",
    "refund",
    "refundquery",
    "downloadbill",
];

/// Upper bounds of the buckets, in seconds.
const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Default)]
struct Histogram {
    /// Per bucket (not cumulative); the last one is +Inf.
    counts: [AtomicU64; BUCKETS.len() + 1],
    sum_micros: AtomicU64,
}

/// Latency histograms, one per endpoint.
#[derive(Debug, Default)]
pub struct CallLatency {
    by_endpoint: [Histogram; ENDPOINTS.len()],
}

impl CallLatency {
    /// Runs `call` and records how long it took under `endpoint` (one of [`ENDPOINTS`];
    /// another name is not recorded).
    pub async fn time<T>(&self, endpoint: &'static str, call: impl Future<Output = T>) -> T {
        let started = Instant::now();
        let out = call.await;
        self.record(endpoint, started.elapsed());
        out
    }

    fn record(&self, endpoint: &str, took: std::time::Duration) {
        let Some(i) = ENDPOINTS.iter().position(|e| *e == endpoint) else {
            return;
        };
        let h = &self.by_endpoint[i];
        let secs = took.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        h.counts[bucket].fetch_add(1, Relaxed);
        h.sum_micros
            .fetch_add(u64::try_from(took.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }

    /// The histograms in Prometheus text format (`tenpay_wechat_call_seconds`).
    #[must_use]
    pub fn render(&self) -> String {
        let mut out = String::from(
            "# HELP tenpay_wechat_call_seconds WeChat Pay call latency by endpoint.\n\
             # TYPE tenpay_wechat_call_seconds histogram\n",
        );
        for (name, h) in ENDPOINTS.iter().zip(&self.by_endpoint) {
            let mut total = 0;
            for (i, c) in h.counts.iter().enumerate() {
                total += c.load(Relaxed);
                let le = BUCKETS
                    .get(i)
                    .map_or_else(|| "+Inf".to_owned(), f64::to_string);
                let _ = writeln!(
                    out,
                    "tenpay_wechat_call_seconds_bucket{{endpoint=\"{name}\",le=\"{le}\"}} {total}"
                );
            }
            let micros = h.sum_micros.load(Relaxed);
            let sum = format!("{}.{:06}", micros / 1_000_000, micros % 1_000_000);
            let _ = writeln!(
                out,
                "tenpay_wechat_call_seconds_sum{{endpoint=\"{name}\"}} {sum}\n\
                 tenpay_wechat_call_seconds_count{{endpoint=\"{name}\"}} {total}"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::time::Duration;

    #[test]
    fn buckets_are_cumulative_and_unknown_endpoints_are_not_recorded() {
        let l = CallLatency::default();
        l.record("orderquery", Duration::from_millis(3));
        l.record("orderquery", Duration::from_millis(30));
        l.record("orderquery", Duration::from_secs(60));
        l.record("nonsense", Duration::from_millis(1));
        let text = l.render();
        assert!(
            text.contains("endpoint=\"orderquery\",le=\"0.005\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("endpoint=\"orderquery\",le=\"0.05\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("endpoint=\"orderquery\",le=\"10\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("endpoint=\"orderquery\",le=\"+Inf\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("tenpay_wechat_call_seconds_count{endpoint=\"orderquery\"} 3"));
        assert!(text.contains("tenpay_wechat_call_seconds_count{endpoint=\"refund\"} 0"));
        assert!(!text.contains("nonsense"));
    }
}
