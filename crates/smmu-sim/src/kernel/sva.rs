//! The SVA bind and unbind paths of `arm-smmu-v3-sva.c`, with `arm_smmu_share_asid()`.
//!
//! Only `alloc_shared_cd` takes `arm_smmu_asid_lock`; the notifier setup and the PASID CD
//! write run outside it in every variant, so the fixed driver keeps real concurrency.

use super::cd::write_ctx_desc;
use super::Builder;
use crate::ids::{MasterId, MmId};
use crate::program::{AsidArg, CdSrc, Cond, DomArg, LockArg, MasterArg, Op, TlbiPurpose};
use crate::source::File;
use crate::state::Stage;
use crate::variant::Variant;

/// `arm_smmu_update_ctx_desc_devices(smmu_domain, ssid, cd)` over the devices of `dom`.
pub(super) fn update_ctx_desc_devices(b: &mut Builder<'_>, dom: DomArg, ssid: u8, src: CdSrc) {
    b.func("arm_smmu_update_ctx_desc_devices", File::Sva, |b| {
        b.step(Op::Lock(LockArg::Devices(dom)), "devices_lock", "spin_lock_irqsave(smmu_domain->devices_lock)");
        b.silent(Op::CursorReset, "write_cd_loop", "list_for_each_entry(master, &smmu_domain->devices)");
        let top = b.here();
        let done = b.jump_if(Cond::CursorDone(dom), "fn");
        write_ctx_desc(b, MasterArg::Cursor(dom), ssid, src);
        b.silent(Op::CursorNext, "fn", "next master");
        b.jump_to(top, "fn");
        b.land(done);
        b.step(
            Op::Unlock(LockArg::Devices(dom)),
            "devices_unlock",
            "spin_unlock_irqrestore(smmu_domain->devices_lock)",
        );
    });
}

/// `arm_smmu_share_asid(mm, asid)`: take the ASID away from a private domain.
/// Jumps out through the returned patches: (ASID free or moved, existing shared cd or
/// `-ENOSPC`, both of which return non-NULL and take the caller's error path).
fn share_asid(b: &mut Builder<'_>) -> (super::Pending, super::Pending) {
    let mut out = None;
    b.func("arm_smmu_share_asid", File::Sva, |b| {
        b.store(Op::XaLoad, "xa_load", "cd = xa_load(&arm_smmu_asid_xa, asid)");
        let free = b.jump_if(Cond::NotFound, "xa_load");
        let private = b.jump_unless(Cond::FoundShared, "mm_check");
        b.store(Op::CtxShareExisting, "mm_check", "refcount_inc(&cd->refs); return cd");
        let existing = b.jump("mm_check");
        b.land(private);
        b.step(Op::XaAllocMove, "xa_alloc", "xa_alloc(&arm_smmu_asid_xa, &new_asid, cd)");
        let moved = b.jump_if(Cond::NewAsid, "enospc");
        b.step(Op::ShareFailed, "enospc", "no free ASID: return ERR_PTR(-ENOSPC)");
        let full = b.jump("enospc");
        b.land(moved);
        b.store(Op::SetFoundAsid, "set_asid", "cd->asid = new_asid");
        update_ctx_desc_devices(b, DomArg::Found, 0, CdSrc::Found);
        b.step(Op::TlbiAsid(AsidArg::Reg, TlbiPurpose::Retire), "tlb_inv", "arm_smmu_tlb_inv_asid(smmu, asid)");
        b.step(Op::XaEraseOld, "xa_erase", "xa_erase(&arm_smmu_asid_xa, asid)");
        b.land(free);
        let fresh = b.jump("share_asid_call");
        b.land(existing);
        b.land(full);
        out = Some(fresh);
    });
    let fresh = out.expect("share_asid emitted");
    (fresh, b.jump("share_asid_call"))
}

/// `arm_smmu_alloc_shared_cd(mm)`.
fn alloc_shared_cd(b: &mut Builder<'_>, mm: MmId) {
    b.func("arm_smmu_alloc_shared_cd", File::Sva, |b| {
        let name = b.topo.mm(mm).to_string();
        b.store(Op::ContextGet(mm), "context_get", format!("asid = arm64_mm_context_get({name}->mm)"));
        b.silent(Op::CtxAlloc, "kzalloc", "cd = kzalloc(sizeof(*cd))");
        b.step(Op::Lock(LockArg::Asid), "asid_lock", "mutex_lock(&arm_smmu_asid_lock)");
        let (fresh, existing) = share_asid(b);
        b.land(existing);
        b.step(Op::Unlock(LockArg::Asid), "asid_unlock_shared", "mutex_unlock(&arm_smmu_asid_lock)");
        b.store(Op::ContextPut(mm), "context_put", "kfree(cd); arm64_mm_context_put(mm); return ret");
        let done = b.jump("fn");
        b.land(fresh);
        b.step(Op::XaInsertCtx, "xa_insert", "xa_insert(&arm_smmu_asid_xa, asid, cd)");
        b.step(Op::Unlock(LockArg::Asid), "asid_unlock", "mutex_unlock(&arm_smmu_asid_lock)");
        b.store(Op::CtxFill(mm), "fill", format!("cd->ttbr/tcr/mair/asid/mm = {name}'s"));
        b.land(done);
    });
}

/// `arm_smmu_mmu_notifier_get(smmu_domain, mm)`.
fn mmu_notifier_get(b: &mut Builder<'_>, rid: DomArg, mm: MmId) {
    b.func("arm_smmu_mmu_notifier_get", File::Sva, |b| {
        b.silent(
            Op::NotifierFind(rid, mm),
            "find_existing",
            "list_for_each_entry(smmu_mn, &smmu_domain->mmu_notifiers)",
        );
        let fresh = b.jump_unless(Cond::HaveNotifier, "find_existing");
        b.store(Op::NotifierRef, "find_existing", "refcount_inc(&smmu_mn->refs)");
        let done = b.jump("find_existing");
        b.land(fresh);
        alloc_shared_cd(b, mm);
        let failed = b.jump_unless(Cond::HaveCtx, "err_cast");
        b.store(Op::NotifierAdd(rid, mm), "list_add", "list_add(&smmu_mn->list, &smmu_domain->mmu_notifiers)");
        b.land(done);
        b.land(failed);
    });
}

/// `arm_smmu_sva_set_dev_pasid(domain, dev, pasid)` binding process `mm`.
pub fn sva_set_dev_pasid(b: &mut Builder<'_>, m: MasterId, pasid: u8, mm: MmId) {
    b.call_args(Some(m), None);
    b.func("arm_smmu_sva_set_dev_pasid", File::Sva, |b| {
        b.step(Op::Lock(LockArg::Sva), "sva_lock", "mutex_lock(&sva_lock)");
        b.func("__arm_smmu_sva_bind", File::Sva, |b| {
            let rid = DomArg::OfMaster(m);
            let not_s1 =
                (b.variant == Variant::V69).then(|| b.jump_unless(Cond::StageIs(rid, Stage::S1), "rid_s1_check"));
            let disabled = b.jump_unless(Cond::SvaEnabled(m), "sva_enabled_check");
            mmu_notifier_get(b, rid, mm);
            let failed = b.jump_unless(Cond::HaveCtx, "notifier_err");
            write_ctx_desc(b, MasterArg::Id(m), pasid, CdSrc::RegCtx);
            let who = b.topo.master(m).to_string();
            b.store(Op::BondAdd(m, pasid), "bond_list_add", format!("list_add(&bond->list, &{who}->bonds)"));
            b.land(disabled);
            b.land(failed);
            if let Some(p) = not_s1 {
                b.land(p);
            }
        });
        b.step(Op::Unlock(LockArg::Sva), "unlock", "mutex_unlock(&sva_lock)");
    });
}

/// `arm_smmu_sva_remove_dev_pasid(domain, dev, pasid)`.
pub fn sva_remove_dev_pasid(b: &mut Builder<'_>, m: MasterId, pasid: u8) {
    b.call_args(Some(m), None);
    b.func("arm_smmu_sva_remove_dev_pasid", File::Sva, |b| {
        b.step(Op::Lock(LockArg::Sva), "sva_lock", "mutex_lock(&sva_lock)");
        write_ctx_desc(b, MasterArg::Id(m), pasid, CdSrc::Clear);
        let who = b.topo.master(m).to_string();
        b.store(Op::BondDel(m, pasid), "bond_list_del", format!("list_del(&bond->list) from {who}->bonds"));
        let none = b.jump_unless(Cond::HaveNotifier, "fn");
        b.func("arm_smmu_mmu_notifier_put", File::Sva, |b| {
            b.store(Op::NotifierPut, "fn", "if (!refcount_dec_and_test(&smmu_mn->refs)) return");
            let alive = b.jump_unless(Cond::NotifierGone, "fn");
            let cleared = b.jump_if(Cond::Cleared, "cleared_check");
            b.step(
                Op::TlbiAsid(AsidArg::RegCtx, TlbiPurpose::RetireIfLastRef),
                "tlb_inv",
                "arm_smmu_tlb_inv_asid(smmu, cd->asid)",
            );
            b.land(cleared);
            b.silent(Op::NotifierFree, "notifier_free", "mmu_notifier_put(&smmu_mn->mn)");
            b.func("arm_smmu_free_shared_cd", File::Sva, |b| {
                b.step(Op::FreeCtx, "xa_erase", "if (arm_smmu_free_asid(cd)) xa_erase(cd->asid)");
                let referenced = b.jump_if(Cond::CtxReferenced, "context_put");
                b.store(Op::ContextPutCtx, "context_put", "arm64_mm_context_put(cd->mm)");
                b.land(referenced);
            });
            b.land(alive);
        });
        b.land(none);
        b.step(Op::Unlock(LockArg::Sva), "unlock", "mutex_unlock(&sva_lock)");
    });
}
