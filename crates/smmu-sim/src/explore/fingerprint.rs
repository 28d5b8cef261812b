//! State fingerprints for the explorer's per-layer index.
//!
//! The index (`index`) finds a state of the next layer by its 64-bit fingerprint instead of
//! by a second copy of it, and confirms a match by comparing the encodings. The fingerprint
//! is a multiply-rotate hash over the state's encoding (`packed`), eight bytes at a time in
//! two lanes, with a final avalanche: much cheaper than SipHash, which only matters against
//! adversarial keys.

use std::hash::{BuildHasherDefault, Hasher};

const K: u64 = 0x517c_c1b7_2722_0a95;

/// A fast, non-cryptographic hasher.
#[derive(Default)]
pub(super) struct Fx(u64);

/// Builds [`Fx`] hashers (for the encoder's interning tables).
pub(super) type FxBuild = BuildHasherDefault<Fx>;

impl Fx {
    fn add(&mut self, w: u64) {
        self.0 = (self.0.rotate_left(5) ^ w).wrapping_mul(K);
    }
}

impl Hasher for Fx {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes(c.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut b = [0u8; 8];
            b[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(b) ^ ((rest.len() as u64) << 59));
        }
    }
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    fn finish(&self) -> u64 {
        // fmix64 from MurmurHash3: every input bit reaches every output bit.
        let mut h = self.0;
        h ^= h >> 33;
        h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
        h ^= h >> 33;
        h = h.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
        h ^ (h >> 33)
    }
}

/// The fingerprint of a state's encoding.
pub(super) fn fingerprint(bytes: &[u8]) -> u64 {
    // Two lanes over alternate words, so that the multiplications overlap.
    let (mut a, mut b) = (Fx(0), Fx(K));
    let mut pairs = bytes.chunks_exact(16);
    for c in &mut pairs {
        a.add(u64::from_le_bytes(c[..8].try_into().expect("8 bytes")));
        b.add(u64::from_le_bytes(c[8..].try_into().expect("8 bytes")));
    }
    a.write(pairs.remainder());
    a.add(b.0);
    a.finish()
}
