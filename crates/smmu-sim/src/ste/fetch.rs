//! What an SMMU configuration fetch can read of an STE the driver is rewriting.
//!
//! The SMMU reads an entry 64 bits at a time, in any order: "HW is only required to have a
//! 64 bit atomicity with stores from the CPU, while entries are many 64 bit values big" (the
//! comment above `arm_smmu_write_ste()`, `arm-smmu-v3.c @71b0aa10b18d`), and "the SMMU might
//! read dwords of this CD in any order" (`arm_smmu_write_ctx_desc()`, same file). The stores
//! of one `entry_set()` call have no barrier between them, so until its `CFGI_STE` +
//! `CMD_SYNC` completes the SMMU may see each stored qword old or new, independently: a fetch
//! there may read any mix of the two images. After the sync it reads memory as it is.
//!
//! The rule a read must meet (the `torn` invariant) is KUnit's
//! (`arm_smmu_entry_differs_in_used_bits()` in `arm-smmu-v3-test.c`): on the bits the read
//! entry itself uses, it equals the entry before the write or the target. An entry with V=0
//! is `C_BAD_STE`, allowed only when the writer takes the disruptive path on purpose; an
//! entry whose Config is reserved is `C_BAD_STE` always.

use super::{Ste, CFG_MASK, CFG_SHIFT, V};
use crate::state::{Cd, CdWrite, SteWrite};

/// Why a read entry is one the SMMU must never use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fault {
    /// On the bits it uses it is neither the entry before the write nor the target.
    Torn,
    /// V=0 although the writer never invalidates the entry on purpose.
    Invalid,
    /// A reserved Config value (`C_BAD_STE`).
    Illegal,
}

/// One fetch: what was read, which qwords (of an STE; of a CD, bit 0 for q0 with V, EPD0,
/// ASET and ASID and bit 1 for q1 with TTB0) could have been read either way, and the first
/// mix that breaks the rule, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Read<T = Ste> {
    /// The entry read: the first breaking mix, else the memory image.
    pub entry: T,
    /// Qwords whose store is not yet synced: each may be read old or new.
    pub pending: u8,
    /// What is wrong with `entry`.
    pub fault: Option<Fault>,
}

/// A fetch of a CD.
pub type CdRead = Read<Cd>;

/// Judges every mix of the pending qwords (`mix(take_new)`: the bits set read new, the others
/// old; at most 2^4) and returns the first that breaks the rule, else the memory image.
fn first_fault<T: Copy>(pending: u8, mix: impl Fn(u8) -> T, judge: impl Fn(&T) -> Option<Fault>) -> Read<T> {
    let mut sub = pending;
    loop {
        let entry = mix(sub);
        if let Some(fault) = judge(&entry) {
            return Read { entry, pending, fault: Some(fault) };
        }
        if sub == 0 {
            return Read { entry: mix(pending), pending, fault: None };
        }
        sub = (sub - 1) & pending;
    }
}

/// Every read a fetch can make of `synced` (memory as of the last sync) and `memory` (with
/// the stores since), judged against the writer in progress, if any.
pub fn read(synced: &Ste, memory: &Ste, write: Option<&SteWrite>) -> Read {
    let pending = (0..4).filter(|&i| synced.0[i] != memory.0[i]).fold(0u8, |m, i| m | 1 << i);
    first_fault(pending, |take_new| mix(synced, memory, take_new), |e| judge(e, write))
}

fn mix(old: &Ste, new: &Ste, take_new: u8) -> Ste {
    Ste(std::array::from_fn(|i| if take_new >> i & 1 != 0 { new.0[i] } else { old.0[i] }))
}

/// What is wrong with an entry the SMMU read while `write` is in progress.
pub fn judge(entry: &Ste, write: Option<&SteWrite>) -> Option<Fault> {
    if entry.0[0] & V == 0 {
        let on_purpose = write.is_none_or(|w| w.disruptive || w.before.0[0] & V == 0 || w.target.0[0] & V == 0);
        return (!on_purpose).then_some(Fault::Invalid);
    }
    if matches!((entry.0[0] & CFG_MASK) >> CFG_SHIFT, 1..=3) {
        return Some(Fault::Illegal);
    }
    let w = write?;
    let used = entry.used();
    let agrees = |x: &Ste| (0..4).all(|i| entry.0[i] & used.0[i] == x.0[i] & used.0[i]);
    (!agrees(&w.before) && !agrees(&w.target)).then_some(Fault::Torn)
}

/// Every read a fetch can make of a CD slot, as [`read`] for an STE: the q0 and q1 groups
/// each old or new while their store waits for `CFGI_CD` + `CMD_SYNC`.
pub fn read_cd(synced: &Cd, memory: &Cd, write: Option<&CdWrite>) -> CdRead {
    let q0 = |c: &Cd| (c.valid, c.epd0, c.aset, c.asid);
    let pending = u8::from(q0(synced) != q0(memory)) | u8::from(synced.ttb0 != memory.ttb0) << 1;
    let mix = |take_new: u8| {
        let from = |bit: u8| if take_new & bit != 0 { memory } else { synced };
        Cd { ttb0: from(2).ttb0, ..*from(1) }
    };
    first_fault(pending, mix, |e| judge_cd(e, write))
}

/// What is wrong with a CD the SMMU read while `write` is in progress. The bits it uses are
/// V; with V, q0's EPD0, ASET and ASID; and TTB0 unless EPD0 quiets the descriptor.
pub fn judge_cd(entry: &Cd, write: Option<&CdWrite>) -> Option<Fault> {
    let w = write?;
    if !entry.valid {
        let on_purpose = !w.before.valid || !w.target.valid;
        return (!on_purpose).then_some(Fault::Invalid);
    }
    let agrees = |x: &Cd| {
        let q0 = (x.valid, x.epd0, x.aset, x.asid) == (entry.valid, entry.epd0, entry.aset, entry.asid);
        q0 && (entry.epd0 || x.ttb0 == entry.ttb0)
    };
    (!agrees(&w.before) && !agrees(&w.target)).then_some(Fault::Torn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{MasterId, PtId};
    use crate::ste::{plan_phase, write_mode, WriteMode};

    fn write(before: Ste, target: Ste) -> SteWrite {
        let disruptive = write_mode(&before, &target) == WriteMode::Disruptive;
        SteWrite { master: MasterId(0), before, target, disruptive }
    }

    /// Every read during every phase of the kernel's writer is clean; the q0-first order
    /// tears, between its two syncs, for a change that needs more than one qword.
    fn reads_during(mode: WriteMode, before: Ste, target: Ste) -> Vec<Read> {
        let w = write(before, target);
        let (mut cur, mut out) = (before, Vec::new());
        for phase in 0..crate::ste::phases(mode) {
            let next = plan_phase(mode, phase, &cur, &target);
            out.push(read(&cur, &next, Some(&w)));
            cur = next;
            out.push(read(&cur, &cur, Some(&w)));
        }
        out
    }

    #[test]
    fn the_kernel_writer_never_tears_and_q0_first_does() {
        let (a, s1, s2) = (Ste::abort(), Ste::cdtable(MasterId(0), false), Ste::s2(1, PtId(0), false));
        for (before, target) in [(a, s2), (s1, s2), (s2, s1), (Ste::bypass(), s1), (s1, a)] {
            let mode = write_mode(&before, &target);
            assert!(reads_during(mode, before, target).iter().all(|r| r.fault.is_none()), "{mode:?}");
        }
        let torn = reads_during(WriteMode::Q0First, s1, s2);
        assert_eq!(torn.iter().filter_map(|r| r.fault).next(), Some(Fault::Torn));
        // Between the first store and its sync both qwords q0 and q1.. are in play.
        assert_eq!(torn[0].pending, 1);
    }

    #[test]
    fn reads_mix_each_pending_qword_independently() {
        let (s1, s2) = (Ste::cdtable(MasterId(0), false), Ste::s2(1, PtId(0), false));
        // All four qwords of S1 -> S2 stored at once, before a sync: some mix tears.
        let r = read(&s1, &s2, Some(&write(s1, s2)));
        assert_eq!(r.pending, 0b1111);
        assert_eq!(r.fault, Some(Fault::Torn));
        assert!(r.entry != s1 && r.entry != s2);
        // Nothing pending: the memory image, and it is fine.
        assert_eq!(read(&s2, &s2, Some(&write(s1, s2))), Read { entry: s2, pending: 0, fault: None });
    }

    /// The source's CD install (TTB0 while V=0, sync, then q0) never tears; the reverse order
    /// does, between its two syncs, where V=1 meets the old TTB0.
    #[test]
    fn a_cd_install_tears_only_in_the_reverse_order() {
        use crate::ids::PtId;
        let old = Cd { ttb0: Some(PtId(0)), ..Cd::default() };
        let new = Cd { valid: true, epd0: false, aset: true, asid: 2, ttb0: Some(PtId(1)) };
        let w = CdWrite { master: MasterId(0), ssid: 0, before: old, target: new, open: true };
        let ttb_first = Cd { ttb0: new.ttb0, ..old };
        for (synced, memory) in [(old, ttb_first), (ttb_first, ttb_first), (ttb_first, new), (new, new)] {
            assert_eq!(read_cd(&synced, &memory, Some(&w)).fault, None, "{memory:?}");
        }
        let q0_first = Cd { ttb0: old.ttb0, ..new };
        let r = read_cd(&q0_first, &q0_first, Some(&w));
        assert_eq!((r.fault, r.entry), (Some(Fault::Torn), q0_first));
        assert_eq!(read_cd(&q0_first, &new, Some(&w)).pending, 2, "only TTB0 is pending");
    }

    #[test]
    fn invalid_entries_are_allowed_only_on_the_disruptive_path() {
        let (s1, s2) = (Ste::cdtable(MasterId(0), false), Ste::s2(1, PtId(0), false));
        let mut off = s1;
        off.0[0] &= !V;
        assert_eq!(judge(&off, Some(&write(s1, s2))), None);
        assert_eq!(judge(&off, Some(&write(s1, Ste::cdtable(MasterId(0), true)))), Some(Fault::Invalid));
        let mut reserved = s1;
        reserved.0[0] = V | (2 << CFG_SHIFT);
        assert_eq!(judge(&reserved, None), Some(Fault::Illegal));
    }
}
