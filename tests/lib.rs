//! End-to-end tests live in `tests/e2e.rs`: the reference merchant server (examples/) against
//! tenpay-sim, over real HTTP on 127.0.0.1, with a real SQLite file and (in CI) PostgreSQL.

/// xorshift64*: a seeded, reproducible source of choices for the randomized tests (no
/// dependency; a failing seed replays the same sequence).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (zero is replaced: xorshift never leaves it).
    #[must_use]
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let x = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        usize::try_from((x >> 33) % n.max(1) as u64).unwrap_or(0)
    }
}
