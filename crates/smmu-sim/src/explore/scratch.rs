//! What the explorer keeps between expansions: buffers, and per step what it needs done.

use super::parts::{Bounds, Layout};
use super::reduce::Footprints;
use crate::check::{self, LiveRef};
use crate::exec::Outcome;
use crate::state::State;
use crate::world::World;

/// Buffers reused by every expansion, so that exploring allocates nothing per transition.
#[derive(Default)]
pub(super) struct Scratch {
    /// The state being expanded.
    pub base: State,
    /// One successor of it.
    pub work: State,
    /// The checker's live references.
    pub live: LiveCache,
    /// Where the parts of `base`'s encoding end.
    pub bounds: Bounds,
    /// The node of the current layer `base` was decoded from last, and its part ends.
    pub prev: Option<std::ops::Range<usize>>,
    pub prev_bounds: Bounds,
    /// The successors of the state being expanded, before they are added to the next layer.
    pub staged: Vec<Staged>,
}

/// A successor whose encoding is `next.bytes[at..at + len]`, waiting to be looked up in the
/// next layer's index. An expansion computes all of its successors and reads their index
/// slots before it looks any up, so that in a large layer the cache misses overlap.
#[derive(Clone, Copy, Debug)]
pub(super) struct Staged {
    pub at: usize,
    pub len: u32,
    pub fp: u64,
    /// The thread and the image of its DMA ([`super::graph::choice_byte`]).
    pub choice: u8,
    pub pc: u16,
    /// The invariants the step violated.
    pub mask: crate::check::EdgeMask,
}

/// Buffers for the checker's live references, of a successor and of the state expanded, in
/// the order of [`check::collect_live_refs`] (the checker's verdicts do not depend on it).
#[derive(Default)]
pub(super) struct LiveCache {
    pub work: Vec<LiveRef>,
    /// Those of the expanded state, when `base_ok` (computed at most once per expansion).
    pub base: Vec<LiveRef>,
    pub base_ok: bool,
}

impl LiveCache {
    /// The live references of `work`, a successor of `base`: those of `base` when the step
    /// wrote no STE or CD (`!hw`).
    pub(super) fn get(&mut self, work: &State, base: &State, hw: bool) -> &[LiveRef] {
        if hw {
            check::collect_live_refs(work, &mut self.work);
            return &self.work;
        }
        if !self.base_ok {
            check::collect_live_refs(base, &mut self.base);
            self.base_ok = true;
        }
        debug_assert!(
            {
                let mut now = Vec::new();
                check::collect_live_refs(work, &mut now);
                now == self.base
            },
            "an STE or CD changed outside its footprint"
        );
        &self.base
    }
}

/// What the explorer does around a step at a given program counter.
#[derive(Clone, Copy, Debug)]
pub(super) struct Plan {
    /// The parts of the state it may write ([`Layout::dirty`]).
    pub dirty: u64,
    /// It may write something the checker reads, so the checker runs after it.
    pub check: bool,
    /// It may write an STE or a CD: the live references change.
    pub hw: bool,
    /// It may write the xa or a descriptor's ASID, so its successor may need renaming into
    /// canonical form (`symmetry`); other steps keep a canonical state canonical.
    pub relabel: bool,
    /// A number of its own among the steps of the world.
    pub site: usize,
}

impl Plan {
    /// Before the end of the program; not reached, since a finished thread takes no step.
    pub(super) const ALL: Plan = Plan { dirty: u64::MAX, check: true, hw: true, relabel: true, site: 0 };

    /// Per thread and program counter, from the steps' footprints.
    pub(super) fn table(world: &World, footprints: &Footprints, layout: Layout) -> Vec<Vec<Plan>> {
        let mut site = 0;
        let mut plans = |t: usize| {
            let mut plan = |pc| {
                let w = footprints.writes(t, pc);
                site += 1;
                Plan { dirty: layout.dirty(t, &w), check: w.visible, hw: w.hw, relabel: w.ids || w.ctxs, site }
            };
            (0..world.programs[t].instrs.len()).map(&mut plan).collect()
        };
        (0..world.n_threads()).map(&mut plans).collect()
    }
}

/// After a step whose footprint the checker does not read, checking would change nothing
/// and report nothing (checked in debug builds).
pub(super) fn debug_assert_invisible(world: &World, state: &State, outcome: &Outcome) {
    if cfg!(debug_assertions) {
        let mut checked = state.clone();
        let mask = check::after_step(world, &mut checked, outcome, 0, None);
        assert!(mask == 0 && checked == *state, "a step the checker cannot see changed its verdict");
    }
}
