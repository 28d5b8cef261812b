//! The process side of SVA: the CPU unmapping a page of a bound process, with the driver's
//! `arm_smmu_mm_arch_invalidate_secondary_tlbs`, and `arm_smmu_mm_release` at mm exit.
//!
//! The mmu notifier core calls the driver once per notifier registered on the mm (one per RID
//! domain the process is bound through), without `sva_lock` or `arm_smmu_asid_lock` for an
//! invalidation. A notifier that the last unbind already unregistered (`mmu_notifier_put`)
//! is not called; one that the unbind only unlisted still is.

use super::sva::update_ctx_desc_devices;
use super::Builder;
use crate::ids::MmId;
use crate::program::{AsidArg, CdSrc, Cond, DomArg, LockArg, Op, TlbiPurpose};
use crate::source::File;

/// Emits `body` once per notifier registered on `mm`, with it in `regs.notifier`.
fn each_notifier(b: &mut Builder<'_>, mm: MmId, body: impl Fn(&mut Builder<'_>)) {
    b.silent(Op::NotifierWalk, "fn", "hlist_for_each_entry_rcu(subscription, &mm->notifier_subscriptions)");
    let top = b.here();
    let done = b.jump_if(Cond::NotifiersDone(mm), "fn");
    b.silent(Op::NotifierAt(mm), "fn", "next subscription");
    body(b);
    b.jump_to(top, "fn");
    b.land(done);
}

/// The CPU unmaps page `va` of process `mm`: the PTE clear, then the secondary TLB
/// invalidation of every notifier; the page may be freed when that returns.
pub fn mm_invalidate(b: &mut Builder<'_>, mm: MmId, va: u64) {
    b.call_args(None, None);
    let info = &b.topo.mms[mm.ix()];
    let (pgd, name) = (info.pgd, info.name.clone());
    b.func("mmu_notifier_arch_invalidate_secondary_tlbs", File::Mm, |b| {
        let label = format!("{name}: clear the PTE of {va:#x} in {}", b.topo.pt(pgd));
        b.step(Op::PteClear(pgd, va), "pte_clear", label);
        each_notifier(b, mm, |b| {
            b.func("arm_smmu_mm_arch_invalidate_secondary_tlbs", File::Sva, |b| {
                let label = format!("arm_smmu_tlb_inv_range_asid({va:#x}, smmu_mn->cd->asid), no asid_lock");
                b.step(Op::TlbiVa(AsidArg::Notifier, va), "tlb_inv", label);
            });
        });
        b.silent(Op::UnmapDone, "fn", "the unmap returns: the page may be freed");
    });
}

/// Process `mm` exits: `arm_smmu_mm_release` for every notifier, which quietens the PASID
/// CD `pasid` of the RID domain's devices and flushes, unless `cleared` says it already has.
pub fn mm_release(b: &mut Builder<'_>, mm: MmId, pasid: u8) {
    b.call_args(None, None);
    b.func("mmu_notifier_release", File::Mm, |b| {
        each_notifier(b, mm, |b| {
            b.func("arm_smmu_mm_release", File::Sva, |b| {
                b.step(Op::Lock(LockArg::Sva), "sva_lock", "mutex_lock(&sva_lock)");
                let cleared = b.jump_if(Cond::Cleared, "cleared_check");
                update_ctx_desc_devices(b, DomArg::OfNotifier, pasid, CdSrc::Quiet);
                let label = "arm_smmu_tlb_inv_asid(smmu, smmu_mn->cd->asid)";
                b.step(Op::TlbiAsid(AsidArg::Notifier, TlbiPurpose::Invalidate), "tlb_inv", label);
                b.store(Op::SetCleared, "cleared", "smmu_mn->cleared = true");
                b.land(cleared);
                b.step(Op::Unlock(LockArg::Sva), "unlock", "mutex_unlock(&sva_lock)");
            });
        });
    });
}
