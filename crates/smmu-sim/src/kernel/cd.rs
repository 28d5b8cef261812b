//! `arm_smmu_write_ctx_desc()`: the five cases of the CD writer.

use super::Builder;
use crate::program::{CdSrc, Cond, MasterArg, Op};
use crate::source::File;

/// A name for the descriptor a write installs, for labels.
fn src_name(b: &Builder<'_>, src: CdSrc) -> String {
    match src {
        CdSrc::Clear => "NULL".into(),
        CdSrc::Quiet => "&quiet_cd".into(),
        CdSrc::Domain(d) => format!("&{}->cd", dom_name(b, d)),
        CdSrc::RegCtx | CdSrc::Found => "cd".into(),
    }
}

/// A name for a domain operand, for labels.
pub(super) fn dom_name(b: &Builder<'_>, d: crate::program::DomArg) -> String {
    use crate::program::DomArg;
    match d {
        DomArg::Id(d) => b.topo.domain(d).to_string(),
        DomArg::Old => "old".into(),
        DomArg::Found => "smmu_domain".into(),
        DomArg::OfMaster(m) => format!("{}'s domain", b.topo.master(m)),
        DomArg::OfNotifier => "smmu_mn->domain".into(),
    }
}

/// A name for a master operand, for labels.
pub(super) fn master_name(b: &Builder<'_>, m: MasterArg) -> String {
    match m {
        MasterArg::Id(m) => b.topo.master(m).to_string(),
        MasterArg::Cursor(_) => "master".into(),
    }
}

/// `arm_smmu_write_ctx_desc(master, ssid, cd)`.
pub fn write_ctx_desc(b: &mut Builder<'_>, m: MasterArg, ssid: u8, src: CdSrc) {
    b.func("arm_smmu_write_ctx_desc", File::Main, |b| {
        let who = master_name(b, m);
        let what = src_name(b, src);
        if !b.source() {
            let label = match src {
                CdSrc::Clear => format!("clear CD_{who}[{ssid}] (q0 := 0) + CFGI_CD + SYNC"),
                _ => format!("write CD_{who}[{ssid}] := {what} + CFGI_CD + SYNC"),
            };
            b.step(Op::CdWrite(m, ssid, src), "fn", label);
            return;
        }
        let sync = format!("CFGI_CD {who}[{ssid}] + CMD_SYNC");
        match src {
            CdSrc::Clear => {
                b.step(Op::CdStoreQ0(m, ssid, src), "clear", format!("CD_{who}[{ssid}].q0 := 0"));
                b.step(Op::CfgiCd(m, ssid), "sync_after_q0", sync);
            }
            CdSrc::Quiet => {
                let label = format!("CD_{who}[{ssid}].q0 |= EPD0 (quiet)");
                b.step(Op::CdStoreQ0(m, ssid, src), "quiet", label);
                b.step(Op::CfgiCd(m, ssid), "sync_after_q0", sync);
            }
            _ => {
                let live = b.jump_if(Cond::CdLive(m, ssid), "update_asid");
                let label = format!("CD_{who}[{ssid}].q1 := {what}->ttbr (q2, q3)");
                b.step(Op::CdStoreTtb(m, ssid, src), "install_q123", label);
                b.step(Op::CfgiCd(m, ssid), "sync_after_q123", sync.clone());
                let label = format!("CD_{who}[{ssid}].q0 := V | ASID {what}->asid");
                b.step(Op::CdStoreQ0(m, ssid, src), "install_q0", label);
                b.step(Op::CfgiCd(m, ssid), "sync_after_q0", sync.clone());
                let done = b.jump("fn");
                b.land(live);
                let label = format!("CD_{who}[{ssid}].q0.ASID := {what}->asid (live)");
                b.step(Op::CdStoreQ0(m, ssid, src), "update_asid", label);
                b.step(Op::CfgiCd(m, ssid), "sync_after_q0", sync);
                b.land(done);
            }
        }
    });
}
