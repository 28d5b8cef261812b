//! What the SMMU's configuration fetches read (`Op::FetchSte`, `Op::FetchCd`), and the record of
//! a CD write in progress that the `torn` rule judges a CD read against (an STE writer records
//! its own in `ste_op`).

use super::store_q0;
use crate::ids::MasterId;
use crate::program::{CdSrc, Op};
use crate::state::{Cd, CdWrite, CtxDesc, Regs, State};
use crate::ste;

/// An SMMU fetch of a master's CD and what it read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FetchCd {
    /// The master.
    pub master: MasterId,
    /// The substream.
    pub ssid: u8,
    /// The read ([`ste::fetch::read_cd`]).
    pub read: ste::fetch::CdRead,
}

/// An SMMU fetch of a master's STE and what it read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fetch {
    /// The master.
    pub master: MasterId,
    /// The read ([`ste::fetch::read`]).
    pub read: ste::fetch::Read,
}

/// Keeps the CD write in progress in `regs.cd_write` for the `torn` rule: opened at its first
/// store with the descriptor the whole write leaves, closed at its last, dropped at the sync
/// after it. An install's first store is the one to a slot that is not live.
pub(super) fn track_cd_write(
    regs: &mut Regs,
    slot: (MasterId, u8),
    op: Op,
    (before, after): (Cd, Cd),
    src: Option<(CdSrc, Option<CtxDesc>)>,
) {
    let here = |w: &CdWrite| (w.master, w.ssid) == slot;
    match op {
        Op::CfgiCd(..) if regs.cd_write.is_some_and(|w| here(&w) && !w.open) => regs.cd_write = None,
        Op::CdStoreTtb(..) | Op::CdStoreQ0(..) => match regs.cd_write.filter(|w| here(w) && w.open) {
            Some(w) => regs.cd_write = Some(CdWrite { open: false, ..w }),
            None => {
                let single = matches!(src, Some((CdSrc::Clear | CdSrc::Quiet, _))) || before.valid;
                let install = matches!(op, Op::CdStoreTtb(..)) || !single;
                let mut target = after;
                if let (true, Some((src, ctx))) = (install, src) {
                    target = Cd { ttb0: ctx.and_then(|c| c.ttb0), ..before };
                    store_q0(&mut target, src, ctx);
                }
                regs.cd_write = Some(CdWrite { master: slot.0, ssid: slot.1, before, target, open: install });
            }
        },
        _ => {}
    }
}

/// The SMMU reads `m`'s CD at `ssid`, judged against the write of that slot in progress.
pub(super) fn fetch_cd(state: &State, m: MasterId, ssid: u8) -> Option<FetchCd> {
    let slot = state.masters[m.ix()].cds.get(usize::from(ssid))?;
    let mut writes = state.threads.iter().filter_map(|t| t.regs.cd_write);
    let write = writes.find(|w| (w.master, w.ssid) == (m, ssid));
    Some(FetchCd { master: m, ssid, read: ste::fetch::read_cd(&slot.hw, &slot.mem, write.as_ref()) })
}

/// The SMMU reads `m`'s STE, judged against the writer of it in progress, if any: one whose
/// phases are not all done. (Whether a writer with nothing left to store counts as running
/// does not matter: memory is synced and equal to its target, which the rule accepts.)
pub(super) fn fetch_ste(state: &State, m: MasterId) -> Fetch {
    let slot = &state.masters[m.ix()].ste;
    let running = |r: &Regs| r.ste_phase < ste::phases(r.ste_mode);
    let mut write = state.threads.iter().filter(|t| running(&t.regs)).filter_map(|t| t.regs.ste_write);
    let write = write.find(|w| w.master == m);
    Fetch { master: m, read: ste::fetch::read(&slot.hw, &slot.mem, write.as_ref()) }
}
