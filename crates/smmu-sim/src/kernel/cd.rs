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

/// A branch condition as the C source tests it, for labels.
pub(super) fn cond_text(b: &Builder<'_>, c: crate::program::Cond) -> String {
    use crate::program::Cond;
    use crate::state::Stage;
    let m = |m: crate::ids::MasterId| b.topo.master(m).to_string();
    match c {
        Cond::SvaEnabled(x) => format!("{}->sva_enabled", m(x)),
        Cond::NoOldDomain => "!old_domain".into(),
        Cond::StageIs(d, st) => {
            let st = match st {
                Stage::S1 => "S1",
                Stage::S2 => "S2",
                Stage::Bypass => "BYPASS",
            };
            format!("{}->stage == ARM_SMMU_DOMAIN_{st}", dom_name(b, d))
        }
        Cond::Finalised(d) => format!("{}->smmu", dom_name(b, d)),
        Cond::Ats(x) => format!("{}->ats_enabled", m(x)),
        Cond::Cdtab(x) => format!("{}->cd_table.cdtab", m(x)),
        Cond::CdLive(x, ssid) => format!("CD_{}[{ssid}].q0 & CTXDESC_CD_0_V", master_name(b, x)),
        Cond::NotFound => "!cd".into(),
        Cond::FoundShared => "cd->mm".into(),
        Cond::CursorDone(d) => format!("list_entry_is_head(master, &{}->devices)", dom_name(b, d)),
        Cond::HaveNotifier => "smmu_mn".into(),
        Cond::NotifierGone => "!refcount_read(&smmu_mn->refs)".into(),
        Cond::SteDone => "all STE update phases written".into(),
        Cond::StePhaseEmpty(x, _) => format!("nothing to store in STE_{} this phase", m(x)),
        Cond::CtxReferenced => "refcount_read(&cd->refs)".into(),
        Cond::NewAsid => "new_asid".into(),
        Cond::HaveCtx => "!IS_ERR(cd)".into(),
        Cond::Gathered => "gather->pgsize".into(),
        Cond::NotifiersDone(mm) => format!("no notifier of {} left", b.topo.mm(mm)),
        Cond::Cleared => "smmu_mn->cleared".into(),
    }
}

/// The negation of [`cond_text`]'s text.
pub(super) fn negated(text: &str) -> String {
    match text.strip_prefix('!') {
        Some(rest) if !rest.contains(' ') => rest.to_string(),
        _ if text.contains(' ') => format!("!({text})"),
        _ => format!("!{text}"),
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
                let ttb = |b: &mut Builder<'_>| {
                    let label = format!("CD_{who}[{ssid}].q1 := {what}->ttbr (q2, q3)");
                    b.step(Op::CdStoreTtb(m, ssid, src), "install_q123", label);
                    b.step(Op::CfgiCd(m, ssid), "sync_after_q123", sync.clone());
                };
                let q0 = |b: &mut Builder<'_>| {
                    let label = format!("CD_{who}[{ssid}].q0 := V | ASID {what}->asid");
                    b.step(Op::CdStoreQ0(m, ssid, src), "install_q0", label);
                    b.step(Op::CfgiCd(m, ssid), "sync_after_q0", sync.clone());
                };
                if b.mutated(crate::mutation::Mutation::CdQ0First) {
                    q0(b);
                    ttb(b);
                } else {
                    ttb(b);
                    q0(b);
                }
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
