//! The next layer's index: a state's fingerprint → its node, by open addressing.
//!
//! Most transitions reach a state the layer already holds, so the index is probed once per
//! transition, at a random place in a table of up to millions of entries. Each slot is one
//! `u64`: the fingerprint's upper half as a tag, and the node's number. The tag also picks
//! the first slot, and probing is linear, so a probe usually reads one cache line and
//! touches a node only when the tag matches; then the caller compares the states, and a
//! mismatch (two states whose fingerprints share 32 bits) probes on. Deduplication stays
//! exact whatever the fingerprints do.

/// The fewest slots a table has.
const MIN_SLOTS: usize = 1 << 10;

/// An empty slot.
const EMPTY: u64 = 0;

pub(super) struct Index {
    /// `tag << 32 | (node + 1)`, or [`EMPTY`]; the length is a power of two.
    slots: Vec<u64>,
    len: usize,
}

impl Default for Index {
    fn default() -> Self {
        Index { slots: vec![EMPTY; MIN_SLOTS], len: 0 }
    }
}

fn tag(fp: u64) -> u32 {
    (fp >> 32) as u32
}

impl Index {
    /// The node with fingerprint `fp` for which `same` holds, or where to insert one.
    pub(super) fn find(&self, fp: u64, mut same: impl FnMut(u32) -> bool) -> Result<u32, Vacant> {
        let mask = self.slots.len() - 1;
        let mut at = tag(fp) as usize & mask;
        loop {
            let slot = self.slots[at];
            if slot == EMPTY {
                return Err(Vacant(at));
            }
            let node = (slot as u32).wrapping_sub(1);
            if (slot >> 32) as u32 == tag(fp) && same(node) {
                return Ok(node);
            }
            at = (at + 1) & mask;
        }
    }

    /// Reads the slot where a lookup of `fp` starts, so that it is in the cache when
    /// [`Index::find`] comes: a lookup in a table of millions of slots is a cache miss, and
    /// the reads of one expansion's successors overlap.
    pub(super) fn touch(&self, fp: u64) {
        std::hint::black_box(self.slots[tag(fp) as usize & (self.slots.len() - 1)]);
    }

    /// Fills the slot [`Index::find`] returned for `fp` (with no insertion in between); past
    /// half full, the table doubles.
    pub(super) fn insert(&mut self, vacant: Vacant, fp: u64, node: u32) {
        debug_assert!(node < u32::MAX, "node numbers fit beside the tag");
        self.slots[vacant.0] = u64::from(tag(fp)) << 32 | u64::from(node + 1);
        self.len += 1;
        if self.len * 2 > self.slots.len() {
            self.grow();
        }
    }

    /// Doubles the table; a slot's tag says where it goes.
    fn grow(&mut self) {
        let bigger = vec![EMPTY; self.slots.len() * 2];
        let old = std::mem::replace(&mut self.slots, bigger);
        let mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|s| *s != EMPTY) {
            let mut at = (slot >> 32) as usize & mask;
            while self.slots[at] != EMPTY {
                at = (at + 1) & mask;
            }
            self.slots[at] = slot;
        }
    }

    /// Empties the table for the next layer, keeping its size.
    pub(super) fn clear(&mut self) {
        if self.len > 0 {
            self.slots.fill(EMPTY);
            self.len = 0;
        }
    }
}

/// A free slot found by [`Index::find`].
pub(super) struct Vacant(usize);

#[cfg(test)]
mod tests {
    use super::*;

    /// Nodes are found by fingerprint and by `same`, across growth, with tags that collide.
    #[test]
    fn finds_what_it_holds() {
        let mut ix = Index::default();
        let fps: Vec<u64> = (0..5000u64).map(|i| (i % 7) << 32 | i).collect();
        for (node, fp) in fps.iter().enumerate() {
            let vacant = ix.find(*fp, |n| fps[n as usize] == *fp).expect_err("not yet there");
            ix.insert(vacant, *fp, node as u32);
        }
        for (node, fp) in fps.iter().enumerate() {
            assert_eq!(ix.find(*fp, |n| fps[n as usize] == *fp).ok(), Some(node as u32));
        }
        assert!(ix.find(8 << 32, |_| true).is_err(), "an absent tag is not found");
        ix.clear();
        assert!(ix.find(fps[0], |_| true).is_err());
    }
}
