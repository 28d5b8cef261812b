//! The used-bits entry writer, over any entry of `N` qwords and any used-bits function.
//!
//! This is `arm_smmu_write_ste()` and its helpers at the pinned pre-fix commit
//! (`arm-smmu-v3.c @71b0aa10b18d`): `arm_smmu_entry_qword_diff()` at lines 1027-1059,
//! `entry_set()` at 1061-1079 and the writer at 1107-1168. The simulation drives it with the
//! model's four-qword [`Ste`](super::Ste); the KUnit runner ([`super::kunit`]) drives the same
//! code with eight-qword STEs and CDs. Only two things vary with the entry kind: the used-bits
//! function and how the disruptive path invalidates qword 0 ([`Disrupt`]).

/// How the disruptive path makes qword 0 invalid before writing the other qwords.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Disrupt {
    /// Clear only this bit, keep the rest of qword 0: `entry[0] & ~STRTAB_STE_0_V`
    /// (`arm-smmu-v3.c:1144 @71b0aa10b18d`).
    ClearBit(u64),
    /// Store 0 in qword 0: `unused_update[0] = 0` in `arm_smmu_write_entry()` of the kernels the
    /// KUnit tests were written for, where the writer serves CDs as well as STEs.
    Zero,
}

/// A used-bits writer for entries of `N` qwords.
#[derive(Clone, Copy, Debug)]
pub struct Writer<const N: usize> {
    /// `get_used()`: the bits the SMMU reads for this entry's configuration.
    pub used: fn(&[u64; N]) -> [u64; N],
    /// What the first disruptive phase stores in qword 0.
    pub disrupt: Disrupt,
}

/// How the writer moves from the current entry to the target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum WriteMode {
    /// No used bit changes: one phase writing everything.
    #[default]
    Direct,
    /// One qword's used bits change: unused bits, the critical qword, then the rest.
    Hitless {
        /// Index of the critical qword.
        critical: u8,
    },
    /// Two or more qwords change: clear V, write q1.., then write q0.
    Disruptive,
    /// Not the kernel's: the `ste-q0-first` mutation stores the target's qword 0 first, then
    /// the rest, one sync after each.
    Q0First,
}

impl<const N: usize> Writer<N> {
    /// `arm_smmu_entry_qword_diff()`: the unused-bit update and which qwords' used bits differ.
    fn qword_diff(&self, cur: &[u64; N], target: &[u64; N]) -> ([u64; N], u8) {
        let cur_used = (self.used)(cur);
        let target_used = (self.used)(target);
        let mut unused_update = [0; N];
        let mut diff = 0u8;
        for i in 0..N {
            unused_update[i] = (cur[i] & cur_used[i]) | (target[i] & !cur_used[i]);
            if unused_update[i] & target_used[i] != target[i] {
                diff |= 1 << i;
            }
        }
        (unused_update, diff)
    }

    /// Chooses the write mode once, from the entry as it is when the writer starts.
    pub fn write_mode(&self, cur: &[u64; N], target: &[u64; N]) -> WriteMode {
        let (_, diff) = self.qword_diff(cur, target);
        match diff.count_ones() {
            0 => WriteMode::Direct,
            1 => WriteMode::Hitless { critical: diff.trailing_zeros() as u8 },
            _ => WriteMode::Disruptive,
        }
    }

    /// The entry that phase `phase` (0-based) of the writer leaves in memory, starting from
    /// `cur` (the entry as the previous phases left it). Each phase is one `entry_set()` call:
    /// its stores, then one sync if any qword changed.
    pub fn plan_phase(&self, mode: WriteMode, phase: u8, cur: &[u64; N], target: &[u64; N]) -> [u64; N] {
        let mut next = *cur;
        match (mode, phase) {
            (WriteMode::Direct, _) | (WriteMode::Hitless { .. } | WriteMode::Disruptive, 2) => next = *target,
            (WriteMode::Hitless { critical }, 0) => {
                let (unused_update, _) = self.qword_diff(cur, target);
                next = unused_update;
                next[usize::from(critical)] = cur[usize::from(critical)];
            }
            (WriteMode::Hitless { critical }, _) => next[usize::from(critical)] = target[usize::from(critical)],
            (WriteMode::Disruptive, 0) => match self.disrupt {
                Disrupt::ClearBit(v) => next[0] &= !v,
                Disrupt::Zero => next[0] = 0,
            },
            (WriteMode::Disruptive, _) => next[1..].copy_from_slice(&target[1..]),
            (WriteMode::Q0First, 0) => next[0] = target[0],
            (WriteMode::Q0First, _) => next = *target,
        }
        next
    }
}

/// Number of `entry_set()` phases of a mode.
pub fn phases(mode: WriteMode) -> u8 {
    match mode {
        WriteMode::Direct => 1,
        WriteMode::Hitless { .. } | WriteMode::Disruptive => 3,
        WriteMode::Q0First => 2,
    }
}
