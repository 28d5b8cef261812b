//! Domain lifecycle: `arm_smmu_domain_finalise()` and `arm_smmu_domain_free()`.

use super::Builder;
use crate::ids::DomainId;
use crate::mutation::Mutation;
use crate::program::{AsidArg, Cond, DomArg, LockArg, Op, TlbiPurpose};
use crate::source::File;
use crate::state::Stage;

/// The init_mutex block of `arm_smmu_attach_dev()`: finalise `d` on first attach. Returns
/// the jump of `if (ret) return ret;`, taken when finalise failed (no free ASID): the caller
/// lands it at its end, so the attach changes nothing more.
pub fn finalise_on_attach(b: &mut Builder<'_>, d: DomainId) -> super::Pending {
    let name = b.topo.domain(d).to_string();
    let dom = DomArg::Id(d);
    b.step(Op::Lock(LockArg::Init(dom)), "init_mutex_lock", format!("mutex_lock({name}->init_mutex)"));
    let done = b.jump_if(Cond::Finalised(dom), "finalise");
    b.func("arm_smmu_domain_finalise", File::Main, |b| match b.topo.domains[d.ix()].stage {
        Stage::S1 => finalise_s1(b, d),
        Stage::S2 => b.func("arm_smmu_domain_finalise_s2", File::Main, |b| {
            let label = format!("ida_alloc_range(&smmu->vmid_map) → {name}->s2_cfg.vmid");
            b.step(Op::VmidAlloc(d), "ida_alloc", label);
        }),
        Stage::Bypass => b.silent(Op::MarkFinalised(d), "fn", "stage = BYPASS"),
    });
    b.land(done);
    b.step(Op::Unlock(LockArg::Init(dom)), "init_mutex_unlock", format!("mutex_unlock({name}->init_mutex)"));
    b.jump_unless(Cond::Finalised(dom), "finalise_fail")
}

/// `arm_smmu_domain_finalise_s1()`, and `arm_smmu_domain_finalise()`'s error path when
/// `xa_alloc()` finds no free ASID (-EBUSY): `free_io_pgtable_ops()` flushes the domain's
/// `cd.asid`, still 0.
fn finalise_s1(b: &mut Builder<'_>, d: DomainId) {
    let name = b.topo.domain(d).to_string();
    let dom = DomArg::Id(d);
    b.func("arm_smmu_domain_finalise_s1", File::Main, |b| {
        b.step(Op::Lock(LockArg::Asid), "asid_lock", "mutex_lock(&arm_smmu_asid_lock)");
        let label = format!("xa_alloc(&arm_smmu_asid_xa) → {name}->cd.asid");
        b.step(Op::XaAllocDomain(d), "xa_alloc", label);
        let ok = b.jump_if(Cond::Finalised(dom), "xa_alloc_fail");
        let label = "no free ASID: out_unlock: mutex_unlock(&arm_smmu_asid_lock); return -EBUSY";
        b.step(Op::Unlock(LockArg::Asid), "asid_unlock_err", label);
        let failed = b.jump("xa_alloc_fail");
        b.land(ok);
        b.step(Op::Unlock(LockArg::Asid), "asid_unlock", "mutex_unlock(&arm_smmu_asid_lock)");
        b.land(failed);
    });
    let failed = b.jump_if(Cond::Finalised(dom), "stage_fail");
    let label = format!("free_io_pgtable_ops → arm_smmu_tlb_inv_asid({name}->cd.asid = 0); return ret");
    b.step(Op::TlbiAsid(AsidArg::Domain(dom), TlbiPurpose::Retire), "stage_fail", label);
    b.land(failed);
}

/// `arm_smmu_domain_free(d)`: flush, then release the ASID or VMID.
pub fn domain_free(b: &mut Builder<'_>, d: DomainId) {
    b.call_args(None, Some(d));
    let name = b.topo.domain(d).to_string();
    b.func("arm_smmu_domain_free", File::Main, |b| match b.topo.domains[d.ix()].stage {
        Stage::S1 => {
            let label = format!("free_io_pgtable_ops → arm_smmu_tlb_inv_asid({name}->cd.asid)");
            b.step(Op::TlbiAsid(AsidArg::Domain(DomArg::Id(d)), TlbiPurpose::Retire), "free_io_pgtable_ops", label);
            b.step(Op::Lock(LockArg::Asid), "asid_lock", "mutex_lock(&arm_smmu_asid_lock)");
            b.func("arm_smmu_free_asid", File::Main, |b| {
                let label = format!("xa_erase({name}->cd.asid)");
                b.step(Op::FreeDomainAsid(d), "fn", label);
            });
            b.step(Op::Unlock(LockArg::Asid), "asid_unlock", "mutex_unlock(&arm_smmu_asid_lock)");
            b.silent(Op::MarkFreed(d), "fn", "kfree(smmu_domain)");
        }
        Stage::S2 => {
            let flush = format!("free_io_pgtable_ops → TLBI_S12_VMALL({name}->s2_cfg.vmid)");
            let free = format!("ida_free({name}->s2_cfg.vmid)");
            if b.mutated(Mutation::VmidFreeBeforeFlush) {
                b.step(Op::VmidFree(d), "ida_free", free);
                b.step(Op::TlbiVmid(d), "free_io_pgtable_ops", flush);
            } else {
                b.step(Op::TlbiVmid(d), "free_io_pgtable_ops", flush);
                b.store(Op::VmidFree(d), "ida_free", free);
            }
            b.silent(Op::MarkFreed(d), "fn", "kfree(smmu_domain)");
        }
        Stage::Bypass => b.step(Op::MarkFreed(d), "fn", "kfree(smmu_domain)"),
    });
}
