//! Stream table entries as the SMMU reads them, and the driver's "used bits" STE writer.
//!
//! An STE is four 64-bit words with the field layout of `arm-smmu-v3.h` (q4..q7 are always
//! zero in this model and left out). [`plan_phase`] is `arm_smmu_write_ste()` of the pre-fix
//! source (commit 7da51af9125c, "Make STE programming independent of the callers"): it decides
//! between a hitless update (unused bits, then one critical qword, then the rest) and a
//! disruptive one (clear V, write the rest, write q0), one `entry_set()` call per phase; the
//! algorithm itself is [`writer`], shared with the KUnit runner ([`kunit`]), which drives it
//! with the eight-qword STEs ([`layout`]) and CDs ([`cd`]) of the kernels the KUnit tests were
//! written for. This module knows nothing of threads or scheduling.

use crate::ids::{MasterId, PtId};

pub mod cd;
pub mod fetch;
pub mod kunit;
pub mod layout;
pub mod writer;

pub use writer::{phases, WriteMode};
use writer::{Disrupt, Writer};

/// `STRTAB_STE_0_V`.
pub const V: u64 = 1;
pub(crate) const CFG_SHIFT: u32 = 1;
pub(crate) const CFG_MASK: u64 = 0b111 << CFG_SHIFT;
const S1FMT: u64 = 0b11 << 4;
const S1CTXPTR: u64 = ((1u64 << 46) - 1) << 6;
const S1CDMAX: u64 = 0b11111 << 59;
const S1DSS_MASK: u64 = 0b11;
const S1DSS_SSID0: u64 = 2;
const S1CIR: u64 = 0b11 << 2;
const S1COR: u64 = 0b11 << 4;
const S1CSH: u64 = 0b11 << 6;
const S1STALLD: u64 = 1 << 27;
const EATS: u64 = 0b11 << 28;
const STRW: u64 = 0b11 << 30;
const SHCFG: u64 = 0b11 << 44;
const SHCFG_INCOMING: u64 = 1 << 44;
const S2VMID: u64 = 0xffff;
const VTCR: u64 = ((1u64 << 19) - 1) << 32;
const S2AA64: u64 = 1 << 51;
const S2ENDI: u64 = 1 << 52;
const S2PTW: u64 = 1 << 54;
const S2R: u64 = 1 << 58;
const S2TTB: u64 = ((1u64 << 48) - 1) << 4;

/// The fields of the four qwords the model keeps, as (qword, name, lowest bit, highest bit):
/// `STRTAB_STE_*` of `arm-smmu-v3.h`, for the bit view.
pub const FIELDS: &[(u8, &str, u8, u8)] = &[
    (0, "V", 0, 0),
    (0, "Config", 1, 3),
    (0, "S1Fmt", 4, 5),
    (0, "S1ContextPtr", 6, 51),
    (0, "S1CDMax", 59, 63),
    (1, "S1DSS", 0, 1),
    (1, "S1CIR", 2, 3),
    (1, "S1COR", 4, 5),
    (1, "S1CSH", 6, 7),
    (1, "S1STALLD", 27, 27),
    (1, "EATS", 28, 29),
    (1, "STRW", 30, 31),
    (1, "SHCFG", 44, 45),
    (2, "S2VMID", 0, 15),
    (2, "VTCR", 32, 50),
    (2, "S2AA64", 51, 51),
    (2, "S2ENDI", 52, 52),
    (2, "S2PTW", 54, 54),
    (2, "S2R", 58, 58),
    (3, "S2TTB", 4, 51),
];

/// The mask of bits `lo..=hi`.
pub fn field_mask(lo: u8, hi: u8) -> u64 {
    (u64::MAX >> (63 - hi)) & (u64::MAX << lo)
}

/// Decoded meaning of an STE, the way the SMMU interprets it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SteConfig {
    /// V=0: the SMMU raises C_BAD_STE; treated like abort for DMA.
    Invalid,
    /// Config=abort: transactions are terminated.
    Abort,
    /// Config=bypass: IOVA is PA.
    Bypass,
    /// Config=S1 translate through the master's CD table.
    S1 {
        /// `S1DSS == SSID0`: traffic without a PASID uses `CD[0]`.
        ssid0: bool,
    },
    /// Config=S2 translate with a VMID and a stage-2 table.
    S2 {
        /// `S2VMID`.
        vmid: u16,
        /// The table `S2TTB` points to; `None` when it is no table's address (only an entry
        /// torn by a broken writer has that).
        pt: Option<PtId>,
    },
}

/// Four qwords of an STE.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Ste(pub [u64; 4]);

/// The CD table address of a master, as a fake but distinct physical address.
fn cdtab_addr(master: MasterId) -> u64 {
    0x10_0000 * (u64::from(master.0) + 1)
}

fn pt_addr(pt: PtId) -> u64 {
    0x100_0000 * (u64::from(pt.0) + 1)
}

impl Ste {
    /// `arm_smmu_make_abort_ste()`.
    pub fn abort() -> Ste {
        Ste([V, 0, 0, 0])
    }

    /// `arm_smmu_make_bypass_ste()`.
    pub fn bypass() -> Ste {
        Ste([V | (4 << CFG_SHIFT), SHCFG_INCOMING, 0, 0])
    }

    /// `arm_smmu_make_cdtable_ste()`: S1 through `master`'s CD table, S1DSS=SSID0.
    pub fn cdtable(master: MasterId, ats: bool) -> Ste {
        let q0 = V | (5 << CFG_SHIFT) | (1 << 4) | (cdtab_addr(master) & S1CTXPTR) | (8 << 59);
        let mut q1 = S1DSS_SSID0 | (1 << 2) | (1 << 4) | (3 << 6);
        if ats {
            q1 |= 1 << 28;
        }
        Ste([q0, q1, 0, 0])
    }

    /// `arm_smmu_make_s2_domain_ste()`.
    pub fn s2(vmid: u16, pt: PtId, ats: bool) -> Ste {
        let mut q1 = SHCFG_INCOMING;
        if ats {
            q1 |= 1 << 28;
        }
        let q2 = u64::from(vmid) | (0x1_3500 << 32) | S2AA64 | S2PTW | S2R;
        Ste([V | (6 << CFG_SHIFT), q1, q2, pt_addr(pt) & S2TTB])
    }

    /// What the SMMU makes of these bits.
    pub fn config(&self) -> SteConfig {
        let q = self.0;
        if q[0] & V == 0 {
            return SteConfig::Invalid;
        }
        match (q[0] & CFG_MASK) >> CFG_SHIFT {
            4 => SteConfig::Bypass,
            5 => SteConfig::S1 { ssid0: q[1] & S1DSS_MASK == S1DSS_SSID0 },
            6 => {
                let addr = q[3] & S2TTB;
                let pt = addr.is_multiple_of(0x100_0000).then_some(addr / 0x100_0000).and_then(|i| i.checked_sub(1));
                SteConfig::S2 { vmid: (q[2] & S2VMID) as u16, pt: pt.and_then(|i| u8::try_from(i).ok()).map(PtId) }
            }
            _ => SteConfig::Abort,
        }
    }

    /// `arm_smmu_get_ste_used()` (`arm-smmu-v3.c:982-1019 @71b0aa10b18d`): the bits the SMMU
    /// reads for this configuration.
    pub fn used(&self) -> Ste {
        let q = self.0;
        let mut used = [V, 0, 0, 0];
        if q[0] & V == 0 {
            return Ste(used);
        }
        used[0] |= CFG_MASK;
        let cfg = (q[0] & CFG_MASK) >> CFG_SHIFT;
        if cfg & 1 != 0 {
            used[0] |= S1FMT | S1CTXPTR | S1CDMAX;
            used[1] |= S1DSS_MASK | S1CIR | S1COR | S1CSH | S1STALLD | STRW | EATS;
            used[2] |= S2VMID;
        }
        if cfg & 2 != 0 {
            used[1] |= EATS | SHCFG;
            used[2] |= S2VMID | VTCR | S2AA64 | S2ENDI | S2PTW | S2R;
            used[3] |= S2TTB;
        }
        if cfg == 4 {
            used[1] |= SHCFG;
        }
        Ste(used)
    }
}

const MODEL_WRITER: Writer<4> = Writer { used: model_used, disrupt: Disrupt::ClearBit(V) };

fn model_used(q: &[u64; 4]) -> [u64; 4] {
    Ste(*q).used().0
}

/// Chooses the write mode once, from the entry as it is when the writer starts.
pub fn write_mode(cur: &Ste, target: &Ste) -> WriteMode {
    MODEL_WRITER.write_mode(&cur.0, &target.0)
}

/// The entry that phase `phase` (0-based) of the writer leaves in memory, starting from
/// `cur` (the entry as the previous phases left it). Each phase is one `entry_set()` call:
/// its stores, then one CFGI_STE + CMD_SYNC if any qword changed.
pub fn plan_phase(mode: WriteMode, phase: u8, cur: &Ste, target: &Ste) -> Ste {
    Ste(MODEL_WRITER.plan_phase(mode, phase, &cur.0, &target.0))
}

/// Qword indices that differ between two entries, for labels ("q0,q1").
pub fn changed_qwords(a: &Ste, b: &Ste) -> Vec<usize> {
    (0..4).filter(|&i| a.0[i] != b.0[i]).collect()
}
