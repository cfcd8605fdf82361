//! Time: the wall clock in Beijing's two formats, and the simulator's scaled delays.

use std::time::{Duration, Instant};

use tenpay_xml::{BeijingDateTime, BeijingTime};

/// Seconds since the Unix epoch.
pub(crate) fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `yyyyMMddHHmmss` (`time_end`, `time_expire`).
pub(crate) fn compact(unix: i64) -> String {
    BeijingTime::from_unix(unix)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// `yyyyMMdd`.
pub(crate) fn date(unix: i64) -> String {
    compact(unix).chars().take(8).collect()
}

/// `yyyy-MM-dd HH:mm:ss` (refund `success_time`, bill rows).
pub(crate) fn dashed(unix: i64) -> String {
    BeijingDateTime::from_unix(unix)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// RFC 3339 in Beijing time (`2018-06-08T10:34:56+08:00`): API v3's timestamps.
pub(crate) fn rfc3339(unix: i64) -> String {
    let d = dashed(unix);
    if d.is_empty() {
        return d;
    }
    format!("{}+08:00", d.replacen(' ', "T", 1))
}

/// The simulator's own time: when it started, and how much faster than real time it runs.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    started: Instant,
    scale: u32,
}

impl Clock {
    pub(crate) fn new(scale: u32) -> Self {
        Self {
            started: Instant::now(),
            scale: scale.max(1),
        }
    }

    /// A protocol delay of `secs` seconds, divided by the time scale.
    pub(crate) fn scaled(self, secs: u64) -> Duration {
        Duration::from_millis(secs.saturating_mul(1000) / u64::from(self.scale))
    }

    /// How many times faster than real time it runs.
    pub(crate) fn scale(self) -> u32 {
        self.scale
    }

    /// Milliseconds since the simulator started.
    pub(crate) fn elapsed_ms(self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}
