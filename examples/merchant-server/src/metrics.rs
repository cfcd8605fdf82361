//! WeChat Pay call latency by endpoint, as Prometheus histograms: every call the server
//! makes goes through [`CallLatency::time`], whatever its outcome.

use std::time::Instant;

use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

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

type Latencies = Family<Vec<(&'static str, String)>, Histogram, fn() -> Histogram>;

fn histogram() -> Histogram {
    Histogram::new(BUCKETS)
}

/// Latency histograms, one per endpoint (`prometheus-client`).
#[derive(Debug, Clone)]
pub struct CallLatency {
    by_endpoint: Latencies,
}

impl Default for CallLatency {
    fn default() -> Self {
        let by_endpoint = Latencies::new_with_constructor(histogram);
        // Every endpoint shows, called or not.
        for e in ENDPOINTS {
            let _ = by_endpoint.get_or_create(&vec![("endpoint", e.to_owned())]);
        }
        Self { by_endpoint }
    }
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
        if ENDPOINTS.contains(&endpoint) {
            self.by_endpoint
                .get_or_create(&vec![("endpoint", endpoint.to_owned())])
                .observe(took.as_secs_f64());
        }
    }

    /// Adds the histograms (`tenpay_wechat_call_seconds`) to `registry`.
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "tenpay_wechat_call_seconds",
            "WeChat Pay call latency by endpoint",
            self.by_endpoint.clone(),
        );
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
        let mut registry = Registry::default();
        l.register(&mut registry);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains("le=\"0.005\",endpoint=\"orderquery\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("le=\"0.05\",endpoint=\"orderquery\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("le=\"10.0\",endpoint=\"orderquery\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("le=\"+Inf\",endpoint=\"orderquery\"} 3\n"),
            "{text}"
        );
        assert!(text.contains("tenpay_wechat_call_seconds_count{endpoint=\"orderquery\"} 3"));
        assert!(text.contains("tenpay_wechat_call_seconds_count{endpoint=\"refund\"} 0"));
        assert!(!text.contains("nonsense"));
    }
}
