#![doc = include_str!("../../README.md")]
//!
//! ---
//!
//! This crate is the reference merchant server behind the README: configuration
//! ([`config`]), storage on SQLite or PostgreSQL ([`db`]), and the HTTP API ([`app`]).

// An application, not a library API: its request and config structs are meant to be built
// with struct literals.
#![allow(clippy::exhaustive_structs, clippy::exhaustive_enums)]

pub mod app;
pub mod config;
pub mod db;
pub mod demo;
mod notify;

pub use app::{AppState, Hooks, Running, start};
pub use config::Config;
pub use db::Db;
