#![doc = include_str!("../../../README.md")]
//!
//! ---
//!
//! This crate holds the quickstart (`cargo run --example quickstart`) and doctests the README
//! above; the reference merchant server is the crate `tenpay-merchant-server` beside it.
