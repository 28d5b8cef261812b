//! Eight-qword STEs as the KUnit tests build them, and the two STE used-bits masks they run with.
//!
//! The constructors are those of the driver the tests call (`arm_smmu_make_abort_ste()`,
//! `arm_smmu_make_bypass_ste()`, `arm_smmu_make_cdtable_ste()` with its `s1dss` argument,
//! `arm_smmu_make_s2_domain_ste()`), on the tests' SMMU: features `STALLS | ATTR_TYPES_OVR`,
//! no E2H (`arm-smmu-v3-test.c:26-28 @1331fb664044`). Field positions are those of
//! `arm-smmu-v3.h`.
//!
//! [`pinned_used`] is the model's own mask, [`Ste::used`](super::Ste::used), which is
//! `arm_smmu_get_ste_used()` at `arm-smmu-v3.c:982-1019 @71b0aa10b18d`, widened to eight qwords.
//! [`kunit_used`] is the mask of the kernels the KUnit table was written for; it adds two
//! conditions to the pinned one:
//! - an S1 STE with `S1DSS == BYPASS` reads `SHCFG` (the SMMU applies it to the bypassed
//!   traffic). Not ec9098d6bffe ("Fix access for STE.SHCFG"): that commit makes the
//!   constructors write `SHCFG` only with `ATTR_TYPES_OVR` and says outright that
//!   `arm_smmu_get_ste_used()` needs no change. The condition is in the KUnit-era driver, next
//!   to `arm_smmu_make_cdtable_ste()`'s `s1dss` argument; the commit that added it is not
//!   identified here.
//! - an S2 STE reads `S2S`: ce7cb08e22e0 ("Match Stall behaviour for S2") adds it to the mask
//!   and has `arm_smmu_make_s2_domain_ste()` set it for a master with stalls.
//!
//! Bits later kernels add to the mask but that no vector's entry sets (`S2FWB`, `MEV`) are left
//! out: a bit that is 0 in every entry cannot change the writer's choices or the checker.

use super::Ste;

/// An eight-qword entry, STE or CD.
pub type Entry = [u64; 8];

/// `STRTAB_STE_0_V`.
pub const STE_V: u64 = 1;
const CFG_SHIFT: u32 = 1;
const CFG_BYPASS: u64 = 4;
const CFG_S1_TRANS: u64 = 5;
const CFG_S2_TRANS: u64 = 6;
const S1FMT_64K_L2: u64 = 2 << 4;
const S1CTXPTR: u64 = ((1 << 46) - 1) << 6;
const S1CDMAX: u64 = 0b11111 << 59;
const S1DSS: u64 = 0b11;
/// `STRTAB_STE_1_S1DSS_BYPASS`.
pub const S1DSS_BYPASS: u64 = 1;
/// `STRTAB_STE_1_S1DSS_SSID0`.
pub const S1DSS_SSID0: u64 = 2;
const S1C_WBRA_ISH: u64 = (1 << 2) | (1 << 4) | (3 << 6);
const S1STALLD: u64 = 1 << 27;
const EATS_TRANS: u64 = 1 << 28;
const SHCFG: u64 = 0b11 << 44;
const SHCFG_INCOMING: u64 = 1 << 44;
const S2AA64: u64 = 1 << 51;
const S2PTW: u64 = 1 << 54;
const S2S: u64 = 1 << 57;
const S2R: u64 = 1 << 58;
const S2TTB: u64 = ((1 << 48) - 1) << 4;

/// The tests' `fake_cdtab_dma_addr`.
pub const FAKE_CDTAB: u64 = 0xF0F0_F0F0_F0F0;
/// The tests' fake `vttbr`, and the pgd of their fake mm.
pub const FAKE_TTBR: u64 = 0xdaed_beef_dead_beef;

/// The master features a KUnit vector asks for (`ARM_SMMU_MASTER_TEST_ATS`, `_STALL`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feat {
    /// `ats_enabled`.
    Ats,
    /// `stall_enabled`.
    Stall,
}

/// `arm_smmu_make_abort_ste()`.
pub fn abort() -> Entry {
    [STE_V, 0, 0, 0, 0, 0, 0, 0]
}

/// `arm_smmu_make_bypass_ste()` with `ATTR_TYPES_OVR`.
pub fn bypass() -> Entry {
    [STE_V | (CFG_BYPASS << CFG_SHIFT), SHCFG_INCOMING, 0, 0, 0, 0, 0, 0]
}

/// `arm_smmu_test_make_cdtable_ste()` (`arm-smmu-v3-test.c:170-188`): `s1cdmax = 0xFF` (masked to the 5-bit field, as
/// `FIELD_PREP` does), `S1FMT = 64K_L2`, NS-EL1 stream world, `S2VMID = 0`.
pub fn cdtable(s1dss: u64, cdtab: u64, feat: Feat) -> Entry {
    let q0 = STE_V | (CFG_S1_TRANS << CFG_SHIFT) | S1FMT_64K_L2 | (cdtab & S1CTXPTR) | ((0xFF << 59) & S1CDMAX);
    let mut q1 = (s1dss & S1DSS) | S1C_WBRA_ISH;
    match feat {
        Feat::Ats => q1 |= S1STALLD | EATS_TRANS,
        Feat::Stall => {}
    }
    if s1dss == S1DSS_BYPASS {
        q1 |= SHCFG_INCOMING;
    }
    [q0, q1, 0, 0, 0, 0, 0, 0]
}

/// `arm_smmu_test_make_s2_ste()` (`arm-smmu-v3-test.c:295-320`): VMID 0, the tests' `vttbr` and `vtcr`
/// (ps 1, tg 2, sh 3, orgn 1, irgn 2, sl 3, tsz 4).
pub fn s2(feat: Feat) -> Entry {
    let vtcr: u64 = 4 | (3 << 6) | (2 << 8) | (1 << 10) | (3 << 12) | (2 << 14) | (1 << 16);
    let (mut q1, mut q2) = (SHCFG_INCOMING, (vtcr << 32) | S2AA64 | S2PTW | S2R);
    match feat {
        Feat::Ats => q1 |= EATS_TRANS,
        Feat::Stall => q2 |= S2S,
    }
    [STE_V | (CFG_S2_TRANS << CFG_SHIFT), q1, q2, FAKE_TTBR & S2TTB, 0, 0, 0, 0]
}

/// The model's mask ([`Ste::used`]) over eight qwords: the pinned `arm_smmu_get_ste_used()`.
pub fn pinned_used(q: &Entry) -> Entry {
    let used = Ste([q[0], q[1], q[2], q[3]]).used().0;
    [used[0], used[1], used[2], used[3], 0, 0, 0, 0]
}

/// The mask of the kernels the KUnit table was written for (see the module comment).
pub fn kunit_used(q: &Entry) -> Entry {
    let mut used = pinned_used(q);
    if q[0] & STE_V == 0 {
        return used;
    }
    let cfg = (q[0] >> CFG_SHIFT) & 0b111;
    if cfg & 1 != 0 && q[1] & S1DSS == S1DSS_BYPASS {
        used[1] |= SHCFG;
    }
    if cfg & 2 != 0 {
        used[2] |= S2S;
    }
    used
}
