//! End-to-end tests live in `tests/e2e.rs`: the reference merchant server (examples/) against
//! tenpay-sim, over real HTTP on 127.0.0.1, with a real SQLite file and (in CI) PostgreSQL.
