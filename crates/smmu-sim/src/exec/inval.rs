//! Page-table changes and the invalidations that follow them: io-pgtable map and unmap, the
//! CPU clearing a process's PTE, by-page TLBIs, and the mmu notifier bookkeeping of
//! `arm_smmu_mm_release` and `mmu_notifier_put`.

use super::asid_of;
use crate::ids::ThreadId;
use crate::program::Op;
use crate::state::{State, Tag, Unmapped};

/// Runs one of the ops of this module.
pub(super) fn run(state: &mut State, t: ThreadId, op: Op) {
    let mut regs = state.threads[t.ix()].regs;
    match op {
        Op::PteSet(pt, iova, pa) => {
            let Some(map) = state.pts.get_mut(pt.ix()) else { return };
            let at = map.partition_point(|(i, _)| *i < iova);
            if map.get(at).is_none_or(|(i, _)| *i != iova) {
                map.insert(at, (iova, pa));
                // The page is back at the same address: a stale entry would give what a walk gives.
                state.unmapped.retain(|u| *u != Unmapped { pt, iova, pa });
            }
        }
        Op::PteClear(pt, iova) => {
            let map = state.pts.get_mut(pt.ix());
            let at = map.as_ref().and_then(|m| m.iter().position(|(i, _)| *i == iova));
            regs.unmap = match (map, at) {
                (Some(map), Some(at)) => Some(Unmapped { pt, iova, pa: map.remove(at).1 }),
                _ => None,
            };
        }
        Op::TlbiVa(arg, iova) => {
            let tag = Tag::Asid(asid_of(state, &regs, arg));
            state.iotlb.retain(|e| e.tag != tag || e.iova != iova);
        }
        Op::TlbiIpa(d, iova) => {
            let tag = Tag::Vmid(state.domains[d.ix()].vmid);
            state.iotlb.retain(|e| e.tag != tag || e.iova != iova);
        }
        Op::UnmapDone => {
            if let Some(u) = regs.unmap.take() {
                let at = state.unmapped.partition_point(|x| *x < u);
                if state.unmapped.get(at) != Some(&u) {
                    state.unmapped.insert(at, u);
                }
            }
        }
        _ => notifier(state, &mut regs, op),
    }
    state.threads[t.ix()].regs = regs;
}

fn notifier(state: &mut State, regs: &mut crate::state::Regs, op: Op) {
    match op {
        Op::NotifierWalk => regs.mn_cursor = 0,
        Op::NotifierAt(mm) => {
            let from = usize::from(regs.mn_cursor);
            let found = state.notifiers.iter().enumerate().skip(from).find(|(_, n)| n.is_some_and(|n| n.mm == mm));
            if let Some((i, _)) = found {
                // At most MAX_SVA_BINDS (< 256) notifiers exist.
                regs.notifier = u8::try_from(i).ok();
                regs.mn_cursor = u8::try_from(i + 1).unwrap_or(u8::MAX);
            }
        }
        Op::SetCleared => {
            if let Some(n) = regs.notifier.and_then(|n| state.notifiers[usize::from(n)].as_mut()) {
                n.cleared = true;
            }
        }
        Op::NotifierFree => {
            if let Some(slot) = regs.notifier.map(|n| &mut state.notifiers[usize::from(n)]) {
                if slot.is_some_and(|n| n.refs == 0) {
                    *slot = None;
                }
            }
        }
        _ => {}
    }
}

/// Whether a notifier of `mm` is registered at or after `from`.
pub(super) fn notifiers_left(state: &State, mm: crate::ids::MmId, from: u8) -> bool {
    state.notifiers.iter().skip(usize::from(from)).any(|n| n.is_some_and(|n| n.mm == mm))
}
