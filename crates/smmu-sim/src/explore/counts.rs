//! Path counts: how many interleavings reach a state, in all and without violating each
//! invariant.
//!
//! Every count of a state is a 128-bit mantissa, all scaled by one shared power of two. The
//! scale stays 0, and the counts exact, until a sum exceeds `u128`; then the state's counts
//! are halved as often as needed, and from there on they are estimates that keep 128
//! significant bits (the explorer reports the overflow). Lanes are stored as pairs of `u64`
//! so that a state's counts take 162 bytes at 8-byte alignment, not 176 at 16. The lane set
//! of a transition is a `u16`: ten lanes, two plus eight edge invariants.

use crate::check::{Invariant, Mask};

pub(super) const N_INV: usize = Invariant::ALL.len();

/// The invariants a transition can violate (a deadlock is a property of a terminal state,
/// so no path count excludes it before the end).
const EDGE_INV: [Invariant; 8] = [
    Invariant::Inv1,
    Invariant::Inv2,
    Invariant::Inv3,
    Invariant::Dma,
    Invariant::Lock,
    Invariant::Unmap,
    Invariant::LockUse,
    Invariant::Torn,
];
const _: () = assert!(Invariant::Deadlock as usize == EDGE_INV.len(), "edge invariants have the low bits");

/// Lanes: all paths, paths clean of every safety invariant, then clean of each of [`EDGE_INV`].
const LANES: usize = 2 + EDGE_INV.len();

/// The counts of one state (see the module documentation).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Counts {
    lanes: [[u64; 2]; LANES],
    /// Every lane is its mantissa times 2^shift.
    shift: u16,
}

fn get(lane: [u64; 2]) -> u128 {
    u128::from(lane[0]) | (u128::from(lane[1]) << 64)
}

fn set(lane: &mut [u64; 2], v: u128) {
    *lane = [v as u64, (v >> 64) as u64];
}

/// The lanes that count paths through a transition that violates the invariants in `mask`,
/// as a bit set: lane 0 always, lane 1 when it violates no safety invariant, lane `2 + i`
/// when it does not violate `EDGE_INV[i]`, whose bit is `1 << i`.
fn keep(mask: Mask) -> Lanes {
    let safe = Lanes::from(mask & safety_mask() == 0);
    1 | safe << 1 | (!mask & EDGE_BITS) << 2
}

/// A set of lanes.
type Lanes = u16;

/// The bits of [`EDGE_INV`], which are the low ones, in order.
const EDGE_BITS: Lanes = (1 << EDGE_INV.len()) - 1;
const _: () = assert!(LANES <= Lanes::BITS as usize, "the lane set of a transition is a u16");

impl Counts {
    /// One path, the empty one, into a state that breaks the invariants in `broken`.
    pub(super) fn start(broken: Mask) -> Self {
        let mut c = Counts::default();
        let keep = keep(broken);
        for (i, lane) in c.lanes.iter_mut().enumerate() {
            set(lane, u128::from(keep >> i & 1));
        }
        c
    }

    /// Adds the paths of `from` through a transition that violates the invariants in `mask`.
    /// Sets `overflow` when the counts stop being exact.
    pub(super) fn add(&mut self, from: &Counts, mask: Mask, overflow: &mut bool) {
        let keep = keep(mask);
        if from.shift == self.shift {
            let mut sums = [0u128; LANES];
            let mut carry = false;
            for (i, sum) in sums.iter_mut().enumerate() {
                let b = if keep >> i & 1 == 1 { get(from.lanes[i]) } else { 0 };
                let (v, c) = get(self.lanes[i]).overflowing_add(b);
                (*sum, carry) = (v, carry | c);
            }
            if !carry {
                sums.iter().zip(&mut self.lanes).for_each(|(v, lane)| set(lane, *v));
                return;
            }
        }
        self.add_scaled(from, keep, overflow);
    }

    /// [`Counts::add`] when the scales differ or a sum exceeds `u128`: the result is scaled.
    fn add_scaled(&mut self, from: &Counts, keep: Lanes, overflow: &mut bool) {
        *overflow = true;
        if from.shift > self.shift {
            self.halve(u32::from(from.shift - self.shift));
        }
        for i in (0..LANES).filter(|i| keep >> i & 1 == 1) {
            let b = get(from.lanes[i]).checked_shr(u32::from(self.shift - from.shift)).unwrap_or(0);
            match get(self.lanes[i]).checked_add(b) {
                Some(v) => set(&mut self.lanes[i], v),
                None => {
                    self.halve(1);
                    let v = get(self.lanes[i]) + (b >> 1);
                    set(&mut self.lanes[i], v);
                }
            }
        }
    }

    /// Halves every lane `n` times (multiplying the scale by 2^n).
    fn halve(&mut self, n: u32) {
        for lane in &mut self.lanes {
            set(lane, get(*lane).checked_shr(n).unwrap_or(0));
        }
        self.shift = self.shift.saturating_add(n as u16);
    }

    /// All paths, exactly (saturating at `u128::MAX` once scaled).
    pub(super) fn total(&self) -> u128 {
        self.exact(0)
    }

    /// Paths clean of every safety invariant.
    pub(super) fn clean_safety(&self) -> u128 {
        self.exact(1)
    }

    /// Paths clean of `inv` (all paths for a deadlock, which only a terminal state can be).
    pub(super) fn clean(&self, inv: Invariant) -> u128 {
        self.exact(EDGE_INV.iter().position(|i| *i == inv).map_or(0, |i| i + 2))
    }

    fn exact(&self, i: usize) -> u128 {
        let v = get(self.lanes[i]);
        match self.shift {
            0 => v,
            s if v.leading_zeros() >= u32::from(s) => v << s,
            _ => u128::MAX,
        }
    }

    /// Floating-point estimates of (all paths, paths violating a safety invariant).
    pub(super) fn approx(&self) -> (f64, f64) {
        let scale = 2f64.powi(i32::from(self.shift));
        let (total, clean) = (get(self.lanes[0]), get(self.lanes[1]));
        (total as f64 * scale, (total - clean.min(total)) as f64 * scale)
    }
}

/// Bits of the invariants that count as safety violations.
pub(crate) fn safety_mask() -> Mask {
    Invariant::ALL.iter().filter(|i| i.is_safety()).fold(0, |m, i| m | i.bit())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Sums past `u128` turn into estimates that keep the leading bits, and say so.
    #[test]
    fn overflow_scales_every_lane() {
        let mut big = Counts::start(0);
        set(&mut big.lanes[0], u128::MAX - 1);
        set(&mut big.lanes[1], u128::MAX / 4);
        let mut sum = Counts::default();
        let mut overflow = false;
        sum.add(&big, 0, &mut overflow);
        assert!(!overflow);
        sum.add(&big, 0, &mut overflow);
        assert!(overflow);
        assert_eq!(sum.shift, 1);
        assert_eq!(sum.total(), u128::MAX, "saturates");
        let (total, violating) = sum.approx();
        let expect_total = 2.0 * (u128::MAX - 1) as f64;
        assert!((total - expect_total).abs() <= 1e-15 * expect_total);
        let expect_violating = 2.0 * (u128::MAX - 1 - u128::MAX / 4) as f64;
        assert!((violating - expect_violating).abs() <= 1e-15 * expect_violating);
        // An exact count added to a scaled one is scaled down first.
        let mut more = sum;
        more.add(&Counts::start(0), 0, &mut overflow);
        assert_eq!(more.shift, 1);
        let mut small = Counts::start(0);
        let mut fresh = false;
        small.add(&sum, 0, &mut fresh);
        assert!(fresh, "taking on a scaled count is an overflow too");
        assert_eq!(small.shift, 1);
    }

    /// Whether lane `i` excludes paths through a transition that violates `mask`, lane by lane.
    fn blocked(i: usize, mask: Mask) -> bool {
        match i {
            0 => false,
            1 => mask & safety_mask() != 0,
            _ => mask & EDGE_INV[i - 2].bit() != 0,
        }
    }

    /// The lane set of a mask is the lanes it does not block.
    #[test]
    fn keep_is_the_lanes_not_blocked() {
        assert!(EDGE_INV.iter().enumerate().all(|(i, inv)| inv.bit() == 1 << i));
        for mask in 0..(1 << Invariant::ALL.len()) {
            let slow = (0..LANES).filter(|i| !blocked(*i, mask)).fold(0, |k, i| k | 1 << i);
            assert_eq!(keep(mask), slow, "mask {mask:#b}");
        }
    }

    /// A masked transition leaves the clean lanes of what it violates alone.
    #[test]
    fn masks_block_their_lanes() {
        let mut c = Counts::default();
        let mut overflow = false;
        c.add(&Counts::start(0), Invariant::Inv2.bit(), &mut overflow);
        c.add(&Counts::start(0), Invariant::Lock.bit(), &mut overflow);
        assert_eq!((c.total(), c.clean_safety()), (2, 1));
        assert_eq!((c.clean(Invariant::Inv2), c.clean(Invariant::Lock), c.clean(Invariant::Inv1)), (1, 1, 2));
        assert_eq!(c.clean(Invariant::Deadlock), 2);
        assert!(!overflow);
    }
}
