//! Identifiers and randomness for the simulator (test data: `rand`'s thread generator, `hex`).

use std::sync::atomic::{AtomicU64, Ordering};

/// A fresh random u64.
pub(crate) fn random_u64() -> u64 {
    rand::random()
}

/// 32 lowercase hex characters: a nonce.
pub(crate) fn nonce() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// A monotonically increasing sequence number.
pub(crate) fn seq() -> u64 {
    static N: AtomicU64 = AtomicU64::new(1);
    N.fetch_add(1, Ordering::Relaxed)
}

pub(crate) fn hex_upper(bytes: &[u8]) -> String {
    hex::encode_upper(bytes)
}

/// A control token: a v4 UUID (122 bits from the operating system's generator), 32 hex digits.
pub(crate) fn token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
