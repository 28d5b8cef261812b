//! Path counts: how many interleavings reach a state, in all and without violating each
//! invariant.

use crate::check::Invariant;

pub(super) const N_INV: usize = Invariant::ALL.len();

/// Path counts carried by a state; the `f64` pair is an estimate that survives a `u128`
/// overflow.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Counts {
    pub total: u128,
    pub clean_safety: u128,
    pub clean: [u128; N_INV],
    pub approx_total: f64,
    pub approx_clean: f64,
}

impl Counts {
    pub(super) fn add(&mut self, from: &Counts, mask: u8, overflow: &mut bool) {
        let mut add = |a: &mut u128, b: u128| match a.checked_add(b) {
            Some(v) => *a = v,
            None => *overflow = true,
        };
        add(&mut self.total, from.total);
        self.approx_total += from.approx_total;
        if mask & safety_mask() == 0 {
            add(&mut self.clean_safety, from.clean_safety);
            self.approx_clean += from.approx_clean;
        }
        for (i, inv) in Invariant::ALL.iter().enumerate() {
            if mask & inv.bit() == 0 {
                add(&mut self.clean[i], from.clean[i]);
            }
        }
    }
}

/// Bits of the invariants that count as safety violations.
pub(crate) fn safety_mask() -> u8 {
    Invariant::ALL.iter().filter(|i| i.is_safety()).fold(0, |m, i| m | i.bit())
}
