//! Identifiers and randomness for the simulator (not cryptographic: test data only).

use std::sync::atomic::{AtomicU64, Ordering};

static SEQ: AtomicU64 = AtomicU64::new(1);

/// A fresh pseudo-random u64 (splitmix64 over a counter and the clock).
pub(crate) fn random_u64() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()) ^ d.as_secs())
        .unwrap_or(0);
    let mut z = SEQ.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed) ^ nanos.rotate_left(17);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// 32 lowercase hex characters: a nonce.
pub(crate) fn nonce() -> String {
    format!("{:016x}{:016x}", random_u64(), random_u64())
}

/// A monotonically increasing sequence number.
pub(crate) fn seq() -> u64 {
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A control token: a v4 UUID (122 bits from the operating system's generator), 32 hex digits.
pub(crate) fn token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
