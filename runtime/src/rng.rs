//! Counter-based random numbers for training-time draws (dropout masks).
//!
//! A draw is a pure function of a seed and a position, so a pass can be
//! repeated exactly (the backward pass redraws the forward pass's mask) and
//! the result does not depend on how a batch is split between threads.

/// The SplitMix64 finaliser: a bijective mix of 64 bits.
#[inline(always)]
pub(crate) const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The `i`-th output of SplitMix64 started at `seed`, as a uniform `f64` in `[0, 1)`.
#[inline(always)]
pub(crate) fn uniform(seed: u64, i: u64) -> f64 {
    let z = mix(seed.wrapping_add(i.wrapping_add(1).wrapping_mul(0x9e37_79b9_7f4a_7c15)));
    (z >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_is_in_unit_interval_and_roughly_flat() {
        let n = 100_000;
        let mut buckets = [0usize; 10];
        for i in 0..n {
            let u = uniform(42, i);
            assert!((0.0..1.0).contains(&u));
            buckets[(u * 10.0) as usize] += 1;
        }
        for b in buckets {
            // Each bucket expects 10,000 ± 95 (one standard deviation).
            assert!((9_500..10_500).contains(&b), "{buckets:?}");
        }
    }

    #[test]
    fn seeds_give_different_streams() {
        let same = (0..1000).filter(|&i| uniform(1, i) == uniform(2, i)).count();
        assert_eq!(same, 0);
    }
}
