//! `arm_smmu_install_ste_for_dev()` and the used-bits writer `arm_smmu_write_ste()`.

use super::Builder;
use crate::ids::MasterId;
use crate::program::{Cond, Op, SteTarget};
use crate::source::File;

fn target_name(b: &Builder<'_>, t: SteTarget, from_master: Option<&str>) -> String {
    match t {
        SteTarget::FromMaster => match from_master {
            Some(d) => format!("{d}'s STE (from master->domain)"),
            None => "abort STE (master->domain is NULL)".into(),
        },
        SteTarget::Domain(d) => format!("{}'s STE", super::cd::dom_name(b, d)),
        SteTarget::Abort => "abort STE".into(),
    }
}

/// Writes master `m`'s STE towards `target`.
/// PRE/FIX call this `arm_smmu_install_ste_for_dev()`; v6.9 `arm_smmu_install_ste_for_dev()`
/// with an STE built by the caller.
/// `from_master` names the domain `master->domain` points to when the target is derived
/// from it (`None`: NULL), so labels say what is written.
pub fn install_ste(b: &mut Builder<'_>, m: MasterId, target: SteTarget, from_master: Option<&str>) {
    b.func("arm_smmu_install_ste_for_dev", File::Main, |b| {
        let who = b.topo.master(m).to_string();
        let what = target_name(b, target, from_master);
        if !b.source() {
            b.step(Op::SteInstall(m, target), "fn", format!("STE_{who} := {what} + CFGI_STE + SYNC"));
            return;
        }
        b.func("arm_smmu_write_ste", File::Main, |b| {
            b.silent(Op::SteBegin(m, target, b.store_order()), "fn", format!("diff STE_{who} against {what}"));
            let top = b.here();
            let done = b.jump_if(Cond::SteDone, "fn");
            let empty = b.jump_if(Cond::StePhaseEmpty(m, target), "fn");
            b.step(Op::SteStore(m, target), "entry_set", format!("STE_{who}: store qwords ({what})"));
            b.step(Op::CfgiSte(m), "sync", format!("CFGI_STE {who} + CMD_SYNC"));
            b.jump_to(top, "fn");
            b.land(empty);
            b.silent(Op::SteNextPhase, "fn", "nothing to store in this phase");
            b.jump_to(top, "fn");
            b.land(done);
        });
    });
}
