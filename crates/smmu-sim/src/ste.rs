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
pub mod kunit;
pub mod layout;
pub mod writer;

pub use writer::{phases, WriteMode};
use writer::{Disrupt, Writer};

/// `STRTAB_STE_0_V`.
pub const V: u64 = 1;
const CFG_SHIFT: u32 = 1;
const CFG_MASK: u64 = 0b111 << CFG_SHIFT;
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
        /// The table `S2TTB` points to.
        pt: PtId,
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
                let pt = ((q[3] & S2TTB) / 0x100_0000).saturating_sub(1);
                SteConfig::S2 { vmid: (q[2] & S2VMID) as u16, pt: PtId(pt as u8) }
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
