//! A state as parts: the unit of incremental encoding.
//!
//! A step changes few parts of a state: its thread, the objects its instructions write. The
//! explorer knows which from the step's static write footprint (`reduce`), so for each
//! successor it encodes only those parts and copies the rest of the parent's encoding, and
//! afterwards puts back only those parts of its working copy. A footprint that missed a write
//! would make both wrong, so debug builds (every test run) compare each incremental encoding
//! with a full one and each restored copy with the parent.

use crate::state::State;

/// Where each part of a state's encoding ends (see [`Packer::decode`]).
pub(super) type Bounds = Vec<u32>;

/// The parts of a state, in encoding order: each master, each domain, the descriptors, the
/// ID allocators (`xa` and VMIDs), the notifiers, pinned ASIDs and locks, the IOTLB, the
/// checker's history, the page tables with the returned unmaps, each thread, and the broken
/// invariants. A step rewrites few of them,
/// so a successor's encoding copies the others from its parent's ([`Packer::encode_from`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Part {
    Master(usize),
    Domain(usize),
    Ctxs,
    Ids,
    Notifiers,
    MmLocks,
    Tlb,
    History,
    Pts,
    Thread(usize),
    Broken,
}

/// The part indices of one world's states: where each kind of part starts.
#[derive(Clone, Copy, Debug)]
pub(super) struct Layout {
    /// The first domain's part: the number of masters.
    domain0: usize,
    global0: usize,
    thread0: usize,
    /// The last part's index.
    broken: usize,
}

const GLOBALS: [Part; 7] = [Part::Ctxs, Part::Ids, Part::Notifiers, Part::MmLocks, Part::Tlb, Part::History, Part::Pts];

impl Layout {
    pub(super) fn of(s: &State) -> Self {
        let domain0 = s.masters.len();
        let global0 = domain0 + s.domains.len();
        let thread0 = global0 + GLOBALS.len();
        Layout { domain0, global0, thread0, broken: thread0 + s.threads.len() }
    }

    pub(super) fn len(self) -> usize {
        self.broken + 1
    }

    /// The part at index `k`. Threads are tested first: every step rewrites its thread.
    pub(super) fn part(self, k: usize) -> Part {
        match k {
            k if k >= self.broken => Part::Broken,
            k if k >= self.thread0 => Part::Thread(k - self.thread0),
            k if k < self.domain0 => Part::Master(k),
            k if k < self.global0 => Part::Domain(k - self.domain0),
            k => GLOBALS[k - self.global0],
        }
    }

    fn bit(self, part: Part) -> u64 {
        let k = match part {
            Part::Master(i) => i,
            Part::Domain(i) => self.domain0 + i,
            Part::Thread(i) => self.thread0 + i,
            Part::Broken => self.broken,
            g => self.global0 + GLOBALS.iter().position(|x| *x == g).unwrap_or(0),
        };
        1u64.checked_shl(k as u32).unwrap_or(0)
    }

    /// The parts `part(i)` for the `i < n` whose bit is set in `mask`.
    fn some(self, mask: u64, n: usize, part: fn(usize) -> Part) -> u64 {
        (0..n).filter(|i| mask >> i & 1 == 1).fold(0, |acc, i| acc | self.bit(part(i)))
    }

    /// The parts a step of thread `t` may rewrite, as a bit set over part indices (parts past
    /// the 64th are always rewritten): those of the masters and domains in the `u16` sets,
    /// the flagged globals, and the thread itself.
    pub(super) fn dirty(self, t: usize, w: &Writes) -> u64 {
        let mut out = self.bit(Part::Thread(t));
        out |= self.some(w.masters.into(), self.domain0, Part::Master);
        out |= self.some(w.domains.into(), self.global0 - self.domain0, Part::Domain);
        for (on, part) in [(w.ctxs, Part::Ctxs), (w.ids, Part::Ids), (w.notifiers, Part::Notifiers)] {
            out |= if on { self.bit(part) } else { 0 };
        }
        for (on, part) in [(w.mm_locks, Part::MmLocks), (w.tlb, Part::Tlb), (w.pts, Part::Pts)] {
            out |= if on { self.bit(part) } else { 0 };
        }
        out
    }

    /// The part indices in a bit set, in order; parts past the 64th are always in.
    pub(super) fn each(self, set: u64) -> Each {
        let len = self.len();
        let bits = if len >= 64 { set } else { set & ((1 << len) - 1) };
        Each { bits, past: 64, len }
    }

    /// The parts the checker writes: its history and the broken set.
    pub(super) fn checked(self) -> u64 {
        self.bit(Part::History) | self.bit(Part::Broken)
    }

    /// The parts holding ASIDs, which renaming rewrites (`symmetry`): every master (its CDs),
    /// the descriptors, the xa, the IOTLB, the checker's history and every thread.
    pub(super) fn asids(self) -> u64 {
        let globals = [Part::Ctxs, Part::Ids, Part::Tlb, Part::History].iter().fold(0, |acc, p| acc | self.bit(*p));
        let masters = self.some(u64::MAX, self.domain0, Part::Master);
        masters | globals | self.some(u64::MAX, self.broken - self.thread0, Part::Thread)
    }

    /// The parts of `dirty` in which `a` and `b` differ (parts past the 64th count as
    /// differing). A step often leaves parts it may write as they were (a branch not taken,
    /// a value written again); those need neither encoding nor restoring.
    pub(super) fn differ(self, a: &State, b: &State, dirty: u64) -> u64 {
        let differs = |k: &usize| match self.part(*k) {
            Part::Master(i) => a.masters[i] != b.masters[i],
            Part::Domain(i) => a.domains[i] != b.domains[i],
            Part::Ctxs => a.ctxs != b.ctxs,
            Part::Ids => a.xa != b.xa || a.vmids != b.vmids,
            Part::Notifiers => a.notifiers != b.notifiers,
            Part::MmLocks => a.mm_pinned != b.mm_pinned || a.locks != b.locks,
            Part::Tlb => a.iotlb != b.iotlb,
            Part::History => a.history != b.history,
            Part::Pts => a.pts != b.pts || a.unmapped != b.unmapped,
            Part::Thread(i) => a.threads[i] != b.threads[i],
            Part::Broken => a.broken != b.broken,
        };
        self.each(dirty).filter(differs).fold(0, |acc, k| acc | 1u64.checked_shl(k as u32).unwrap_or(0))
    }

    /// Copies the `dirty` parts of `src` into `dst`, a state that equals `src` elsewhere.
    pub(super) fn restore(self, dst: &mut State, src: &State, dirty: u64) {
        for k in self.each(dirty) {
            match self.part(k) {
                Part::Master(i) => dst.masters[i].assign(&src.masters[i]),
                Part::Domain(i) => dst.domains[i].assign(&src.domains[i]),
                Part::Ctxs => dst.ctxs.clone_from(&src.ctxs),
                Part::Ids => {
                    dst.xa.clone_from(&src.xa);
                    dst.vmids.clone_from(&src.vmids);
                }
                Part::Notifiers => dst.notifiers.clone_from(&src.notifiers),
                Part::MmLocks => {
                    dst.mm_pinned.clone_from(&src.mm_pinned);
                    dst.locks.clone_from(&src.locks);
                }
                Part::Tlb => dst.iotlb.clone_from(&src.iotlb),
                Part::History => dst.history.clone_from(&src.history),
                Part::Pts => {
                    dst.pts.clone_from(&src.pts);
                    dst.unmapped.clone_from(&src.unmapped);
                }
                Part::Thread(i) => dst.threads[i] = src.threads[i],
                Part::Broken => dst.broken = src.broken,
            }
        }
    }
}

/// The part indices of a bit set ([`Layout::each`]): a plain loop over the set bits, which
/// runs once per transition in the explorer's hottest path.
pub(super) struct Each {
    bits: u64,
    /// The next part past the 64th.
    past: usize,
    len: usize,
}

impl Iterator for Each {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        if self.bits != 0 {
            let k = self.bits.trailing_zeros() as usize;
            self.bits &= self.bits - 1;
            return Some(k);
        }
        (self.past < self.len).then(|| {
            self.past += 1;
            self.past - 1
        })
    }
}

/// What a step may write, by part of the state (from its static footprint; see `reduce`).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Writes {
    pub masters: u16,
    pub domains: u16,
    pub ctxs: bool,
    pub ids: bool,
    pub notifiers: bool,
    pub mm_locks: bool,
    pub tlb: bool,
    /// It may write a page table or the returned unmaps.
    pub pts: bool,
    /// It may write an STE or a CD (which the live references are computed from).
    pub hw: bool,
    /// It writes something the checker reads: the checker runs after it.
    pub visible: bool,
}
