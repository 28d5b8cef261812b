//! Context descriptors at qword level, as the KUnit tests build them, and their used bits.
//!
//! The simulation keeps its CDs decoded (ASID, page table, flags) and writes them with the
//! pinned `arm_smmu_write_ctx_desc()` (`arm-smmu-v3.c:1244-1325 @71b0aa10b18d`), which predates
//! the used-bits CD writer. This module is the later, qword-level view the KUnit CD vectors
//! need: `arm_smmu_make_s1_cd()`, `arm_smmu_make_sva_cd()` and `arm_smmu_get_cd_used()` of the
//! kernels the tests were written for. Nothing in the simulation uses it.
//!
//! Field positions are those of `arm-smmu-v3.h` (`CTXDESC_CD_0_*`, `CTXDESC_CD_1_TTB0_MASK`).

use super::layout::{Entry, FAKE_TTBR};

const T0SZ: u64 = 0x3f;
const TG0: u64 = 0b11 << 6;
const IRGN0: u64 = 0b11 << 8;
const ORGN0: u64 = 0b11 << 10;
const SH0: u64 = 0b11 << 12;
/// `CTXDESC_CD_0_TCR_EPD0`: TTB0 walks are disabled; the TTB0 fields are IGNORED.
pub const EPD0: u64 = 1 << 14;
const EPD1: u64 = 1 << 30;
/// `CTXDESC_CD_0_V`.
pub const CD_V: u64 = 1 << 31;
const IPS_SHIFT: u32 = 32;
const AA64: u64 = 1 << 41;
const R: u64 = 1 << 45;
const A: u64 = 1 << 46;
/// `CTXDESC_CD_0_ASET`: the ASID is not shared with the CPU's broadcast TLB maintenance.
pub const ASET: u64 = 1 << 47;
const ASID_SHIFT: u32 = 48;
const TTB0: u64 = ((1 << 48) - 1) << 4;

/// The tests' `mair` for the S1 CD.
const S1_MAIR: u64 = 0xabc_def0_1234_5678;
/// Host values `arm_smmu_make_sva_cd()` reads from the CPU; the KUnit table does not depend on
/// them. PARange 5 (48-bit PA), 48-bit VA, 4K pages, and a fixed `mair_el1`.
const SVA_PAR: u64 = 5;
const SVA_VA_BITS: u64 = 48;
const SVA_MAIR: u64 = 0x0000_0000_0044_ff04;

/// The qword-0 fields every valid CD of these constructors has.
fn common_q0(ips: u64, asid: u16) -> u64 {
    EPD1 | CD_V | (ips << IPS_SHIFT) | AA64 | R | A | ASET | (u64::from(asid) << ASID_SHIFT)
}

/// `arm_smmu_test_make_s1_cd()` (`arm-smmu-v3-test.c:452-475 @1331fb664044`): `arm_smmu_make_s1_cd()` for a master without stalls on the
/// tests' io-pgtable (ips 1, tg 2, sh 3, orgn 1, irgn 2, tsz 4, their ttbr and mair).
pub fn s1(asid: u16) -> Entry {
    let tcr = 4 | (2 << 6) | (2 << 8) | (1 << 10) | (3 << 12);
    [common_q0(1, asid) | tcr, FAKE_TTBR & TTB0, 0, S1_MAIR, 0, 0, 0, 0]
}

/// `arm_smmu_make_sva_cd()` for a master without stalls, as `arm-smmu-v3-test.c:502-519` calls
/// it (the tests' mm has pgd `0xdaedbeefdeadbeef`, `test.c:29-31`). `Some(pgd)`: a live mm, TTB0 walks
/// of its page table (T0SZ from the VA size, TG0 4K, WBWA, inner shareable). `None`: the
/// release CD, EPD0 set and R cleared (no `STALL_FORCE`), so every access faults.
pub fn sva(pgd: Option<u64>, asid: u16) -> Entry {
    let mut cd = [common_q0(SVA_PAR, asid), 0, 0, SVA_MAIR, 0, 0, 0, 0];
    match pgd {
        Some(pgd) => {
            cd[0] |= (64 - SVA_VA_BITS) | (1 << 8) | (1 << 10) | (3 << 12);
            cd[1] = pgd & TTB0;
        }
        None => cd[0] = (cd[0] | EPD0) & !R,
    }
    cd
}

/// `arm_smmu_get_cd_used()`: only V of an invalid CD; every bit of a valid one, except the TTB0
/// walk fields (T0SZ, TG0, IRGN0, ORGN0, SH0 and TTB0) when EPD0 is set.
pub fn used(q: &Entry) -> Entry {
    if q[0] & CD_V == 0 {
        return [CD_V, 0, 0, 0, 0, 0, 0, 0];
    }
    let mut used = [u64::MAX; 8];
    if q[0] & EPD0 != 0 {
        used[0] &= !(T0SZ | TG0 | IRGN0 | ORGN0 | SH0);
        used[1] &= !TTB0;
    }
    used
}
