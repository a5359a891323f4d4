//! Deterministic randomness: one independent generator per (seed, stream, index), and the
//! few samplers the generator needs, written out here so the output never depends on the
//! algorithms of a particular `rand_distr` release.

use rand_pcg::Pcg64Mcg;
use rand_pcg::rand_core::Rng as _;

/// The splitmix64 finalizer: a bijection on `u64` with good avalanche.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// A 64-bit key derived from the seed and a stream id (distinct per kind of entity).
pub(crate) fn key(seed: u64, stream: u64) -> u64 {
    mix(mix(seed.wrapping_add(GOLDEN)) ^ stream.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// Streams: one per kind of random decision, so adding draws to one never shifts another.
pub(crate) mod stream {
    pub const RATER: u64 = 1;
    pub const RATER_ID: u64 = 2;
    pub const POST: u64 = 3;
    pub const NOTE: u64 = 4;
    pub const NOTE_TEXT: u64 = 5;
    pub const NOTE_RATINGS: u64 = 6;
    pub const HISTORY: u64 = 7;
    pub const REQUEST: u64 = 8;
    pub const ENROLLMENT: u64 = 9;
    pub const POST_ID: u64 = 10;
    pub const NOTE_ID: u64 = 11;
    pub const NOTE_WEIGHT: u64 = 12;
}

/// A generator for one entity: independent of every other (seed, stream, index).
pub(crate) struct Rand(Pcg64Mcg);

impl Rand {
    pub(crate) fn new(seed: u64, stream: u64, index: u64) -> Rand {
        let k = key(seed, stream);
        let hi = mix(k ^ mix(index.wrapping_add(GOLDEN)));
        let lo = mix(hi ^ k.rotate_left(32) ^ 0x5851_F42D_4C95_7F2D);
        Rand(Pcg64Mcg::new((u128::from(hi) << 64) | u128::from(lo)))
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// Uniform in [0, 1).
    #[inline]
    pub(crate) fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in (0, 1).
    #[inline]
    pub(crate) fn open01(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) * (1.0 / (1u64 << 53) as f64)
    }

    /// True with probability `p`.
    #[inline]
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.f64() < p
    }

    /// Uniform integer in `0..n` (`n > 0`), by multiply-shift.
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform integer in `lo..=hi`.
    #[inline]
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// Standard normal (Box–Muller, one value per call).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = self.open01();
        let u2 = self.f64();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Normal with the given mean and standard deviation.
    pub(crate) fn gauss(&mut self, mean: f64, sd: f64) -> f64 {
        mean + sd * self.normal()
    }

    /// Exponential with the given mean.
    #[inline]
    pub(crate) fn exp(&mut self, mean: f64) -> f64 {
        -mean * self.open01().ln()
    }

    /// Standard logistic.
    #[inline]
    pub(crate) fn logistic(&mut self) -> f64 {
        let u = self.open01();
        (u / (1.0 - u)).ln()
    }

    /// An index drawn from cumulative weights (`cumulative[i]` = sum of weights up to `i`).
    #[inline]
    pub(crate) fn pick_cumulative(&mut self, cumulative: &[f64]) -> usize {
        let x = self.f64() * cumulative[cumulative.len() - 1];
        cumulative
            .iter()
            .position(|&c| x < c)
            .unwrap_or(cumulative.len() - 1)
    }

    /// An index drawn with probability proportional to `weights` (linear; for short lists).
    pub(crate) fn pick(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut x = self.f64() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }
}

/// Walker/Vose alias table: O(1) draws from a fixed discrete distribution.
pub(crate) struct Alias {
    /// Per slot: acceptance threshold scaled to `u32`, and the alias (one cache line read
    /// per draw).
    slots: Vec<(u32, u32)>,
}

impl Alias {
    /// Builds the table (sequentially, so it is the same on every run). Weights must be
    /// finite, non-negative and not all zero; there must be fewer than 2^32 of them.
    pub(crate) fn new(weights: &[f64]) -> Alias {
        let n = weights.len();
        assert!(n > 0 && n < u32::MAX as usize, "alias table size");
        let total: f64 = weights.iter().sum();
        let mut scaled: Vec<f64> = weights.iter().map(|w| w * n as f64 / total).collect();
        let mut alias: Vec<u32> = (0..n as u32).collect();
        let mut small = Vec::new();
        let mut large = Vec::new();
        for (i, &p) in scaled.iter().enumerate() {
            if p < 1.0 {
                small.push(i);
            } else {
                large.push(i);
            }
        }
        while let (Some(&s), Some(&l)) = (small.last(), large.last()) {
            small.pop();
            alias[s] = l as u32;
            scaled[l] -= 1.0 - scaled[s];
            if scaled[l] < 1.0 {
                large.pop();
                small.push(l);
            }
        }
        // Leftovers (rounding) accept always.
        for i in small.into_iter().chain(large) {
            scaled[i] = 1.0;
        }
        let slots = scaled
            .iter()
            .zip(alias)
            .map(|(&p, a)| {
                let threshold = if p >= 1.0 {
                    u32::MAX
                } else {
                    (p * 4_294_967_296.0) as u32
                };
                (threshold, a)
            })
            .collect();
        Alias { slots }
    }

    /// Draws an index.
    #[inline]
    pub(crate) fn sample(&self, rng: &mut Rand) -> usize {
        let u = rng.next_u64();
        let n = self.slots.len() as u64;
        let slot = (((u >> 32) * n) >> 32) as usize;
        let (threshold, alias) = self.slots[slot];
        if threshold == u32::MAX || (u as u32) < threshold {
            slot
        } else {
            alias as usize
        }
    }
}

/// Running sums of `weights`, for [`Rand::pick_cumulative`].
pub(crate) fn cumulative<const N: usize>(weights: &[f64; N]) -> [f64; N] {
    let mut out = [0.0; N];
    let mut sum = 0.0;
    for (o, w) in out.iter_mut().zip(weights) {
        sum += w;
        *o = sum;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rand::new(7, 1, 3).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        let mut x = Rand::new(7, 1, 3);
        let mut y = Rand::new(7, 1, 4);
        let mut z = Rand::new(7, 2, 3);
        let mut w = Rand::new(8, 1, 3);
        let v = x.next_u64();
        assert_ne!(v, y.next_u64());
        assert_ne!(v, z.next_u64());
        assert_ne!(v, w.next_u64());
    }

    #[test]
    fn samplers_have_the_right_moments() {
        let mut r = Rand::new(1, 1, 1);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "{mean}");
        assert!((var - 1.0).abs() < 0.02, "{var}");
        let e = (0..n).map(|_| r.exp(2.0)).sum::<f64>() / n as f64;
        assert!((e - 2.0).abs() < 0.03, "{e}");
    }

    #[test]
    fn alias_table_follows_the_weights() {
        let weights = [1.0, 0.0, 3.0, 6.0];
        let table = Alias::new(&weights);
        let mut r = Rand::new(3, 3, 3);
        let mut counts = [0u32; 4];
        for _ in 0..100_000 {
            counts[table.sample(&mut r)] += 1;
        }
        assert_eq!(counts[1], 0);
        for (c, w) in counts.iter().zip(weights) {
            let expected = w / 10.0 * 100_000.0;
            assert!((f64::from(*c) - expected).abs() < 800.0, "{counts:?}");
        }
    }
}
