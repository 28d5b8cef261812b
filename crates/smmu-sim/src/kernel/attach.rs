//! `arm_smmu_attach_dev()`, `arm_smmu_detach_dev()` and `arm_smmu_release_device()`, and in
//! v6.9 `arm_smmu_attach_dev_ste()` for the static identity and blocked domains.
//!
//! The difference between `pre` and `fix` is the patch of 9f7c68911579: the detach call moves
//! from before the init_mutex block to after it, `arm_smmu_asid_lock` is taken right before it
//! and released at the new `out_unlock` label, and the lock pair around the CD write goes.
//!
//! Two [`Mutation`]s apply here: `cd-before-list` swaps the new domain's `list_add` and its
//! `CD[0]` write (`list_and_cd`), `no-cd-clear` drops the clear between the domains (detach's
//! in `pre`/`fix`, the explicit one in v6.9's S1 path).

use super::cd::write_ctx_desc;
use super::domain::finalise_on_attach;
use super::ste::install_ste;
use super::Builder;
use crate::ids::{DomainId, MasterId};
use crate::mutation::Mutation;
use crate::program::{CdSrc, Cond, DomArg, LockArg, MasterArg, Op, SteTarget};
use crate::source::File;
use crate::state::Stage;
use crate::variant::Variant;

/// `arm_smmu_master_sva_enabled()` at the top of attach: a master with SVA cannot move.
/// Returns the jump to take for `-EBUSY`.
fn sva_check(b: &mut Builder<'_>, m: MasterId) -> super::Pending {
    if b.source() {
        b.step(Op::Lock(LockArg::Sva), "sva_check", "mutex_lock(&sva_lock) (sva_enabled?)");
        b.step(Op::Unlock(LockArg::Sva), "sva_check", "mutex_unlock(&sva_lock)");
    }
    b.jump_if(Cond::SvaEnabled(m), "sva_check")
}

/// `arm_smmu_detach_dev(master)`.
fn detach_dev(b: &mut Builder<'_>, m: MasterId) {
    b.func("arm_smmu_detach_dev", File::Main, |b| {
        let who = b.topo.master(m).to_string();
        b.silent(Op::ReadOldDomain(m), "fn", "smmu_domain = master->domain");
        let none = b.jump_if(Cond::NoOldDomain, "fn");
        // v6.9 leaves the static identity domain without touching any list (v69.c:2523).
        let identity =
            (b.variant == Variant::V69).then(|| b.jump_if(Cond::StageIs(DomArg::Old, Stage::Bypass), "paging_check"));
        let no_ats = b.jump_unless(Cond::Ats(m), "disable_ats");
        b.store(Op::AtsOff(m), "disable_ats", format!("arm_smmu_disable_ats({who})"));
        b.land(no_ats);
        let old = DomArg::Old;
        b.step(Op::Lock(LockArg::Devices(old)), "list_del", "spin_lock_irqsave(old->devices_lock)");
        b.step(Op::ListDel(old, m), "list_del", format!("list_del({who}) from old->devices"));
        b.step(Op::Unlock(LockArg::Devices(old)), "list_del", "spin_unlock_irqrestore(old->devices_lock)");
        if let Some(identity) = identity {
            b.land(identity);
            b.land(none);
            return;
        }
        b.store(Op::SetDomain(m, None), "domain_null", "master->domain = NULL");
        install_ste(b, m, SteTarget::FromMaster, None);
        if !b.mutated(Mutation::NoCdClear) {
            let not_s1 = b.jump_unless(Cond::StageIs(old, Stage::S1), "clear_cd");
            let no_tab = b.jump_unless(Cond::Cdtab(m), "clear_cd");
            write_ctx_desc(b, MasterArg::Id(m), 0, CdSrc::Clear);
            b.land(not_s1);
            b.land(no_tab);
        }
        b.land(none);
    });
}

/// `master->domain = y` (PRE/FIX; v6.9 leaves it to the core at the end).
fn set_domain(b: &mut Builder<'_>, m: MasterId, y: DomainId) {
    if b.variant != Variant::V69 {
        let name = b.topo.domain(y).to_string();
        b.store(Op::SetDomain(m, Some(DomArg::Id(y))), "set_domain", format!("master->domain = {name}"));
    }
}

/// `list_add(master)` to y's devices list under its `devices_lock`.
fn list_add(b: &mut Builder<'_>, m: MasterId, y: DomainId) {
    let (who, name) = (b.topo.master(m).to_string(), b.topo.domain(y).to_string());
    let dom = DomArg::Id(y);
    b.step(Op::Lock(LockArg::Devices(dom)), "list_add", format!("spin_lock_irqsave({name}->devices_lock)"));
    b.step(Op::ListAdd(dom, m), "list_add", format!("list_add({who}) to {name}->devices"));
    b.step(Op::Unlock(LockArg::Devices(dom)), "list_add", format!("spin_unlock_irqrestore({name}->devices_lock)"));
}

/// The `list_add` and, for an S1 domain, `write_cd` (the new `CD[0]` with whatever locking
/// the variant puts around it): in source order, or the CD first under
/// [`Mutation::CdBeforeList`], with the locks where they fall.
fn list_and_cd(b: &mut Builder<'_>, m: MasterId, y: DomainId, write_cd: impl FnOnce(&mut Builder<'_>)) {
    let s1 = b.topo.domains[y.ix()].stage == Stage::S1;
    if s1 && b.mutated(Mutation::CdBeforeList) {
        write_cd(b);
        list_add(b, m, y);
    } else {
        list_add(b, m, y);
        if s1 {
            write_cd(b);
        }
    }
}

fn cdtab_alloc(b: &mut Builder<'_>, m: MasterId) {
    let has = b.jump_if(Cond::Cdtab(m), "cd_alloc");
    let who = b.topo.master(m).to_string();
    b.store(Op::CdtabAlloc(m), "cd_alloc", format!("arm_smmu_alloc_cd_tables({who})"));
    b.land(has);
}

fn enable_ats(b: &mut Builder<'_>, m: MasterId) {
    let no = b.jump_unless(Cond::Ats(m), "enable_ats");
    let who = b.topo.master(m).to_string();
    b.store(Op::AtsOn(m), "enable_ats", format!("arm_smmu_enable_ats({who})"));
    b.land(no);
}

/// PRE: detach without `arm_smmu_asid_lock`, lock only around the CD write.
fn attach_pre(b: &mut Builder<'_>, m: MasterId, y: DomainId) {
    detach_dev(b, m);
    let failed = finalise_on_attach(b, y);
    set_domain(b, m, y);
    list_and_cd(b, m, y, |b| {
        cdtab_alloc(b, m);
        b.step(Op::Lock(LockArg::Asid), "asid_lock", "mutex_lock(&arm_smmu_asid_lock)");
        write_ctx_desc(b, MasterArg::Id(m), 0, CdSrc::Domain(DomArg::Id(y)));
        b.step(Op::Unlock(LockArg::Asid), "asid_unlock", "mutex_unlock(&arm_smmu_asid_lock)");
    });
    let name = b.topo.domain(y).to_string();
    install_ste(b, m, SteTarget::FromMaster, Some(&name));
    enable_ats(b, m);
    b.land(failed);
}

/// FIX: finalise first, then hold `arm_smmu_asid_lock` from detach to `out_unlock`.
fn attach_fix(b: &mut Builder<'_>, m: MasterId, y: DomainId) {
    let failed = finalise_on_attach(b, y);
    b.step(Op::Lock(LockArg::Asid), "asid_lock", "mutex_lock(&arm_smmu_asid_lock)");
    detach_dev(b, m);
    set_domain(b, m, y);
    list_and_cd(b, m, y, |b| {
        cdtab_alloc(b, m);
        write_ctx_desc(b, MasterArg::Id(m), 0, CdSrc::Domain(DomArg::Id(y)));
    });
    let name = b.topo.domain(y).to_string();
    install_ste(b, m, SteTarget::FromMaster, Some(&name));
    enable_ats(b, m);
    b.step(Op::Unlock(LockArg::Asid), "out_unlock", "out_unlock: mutex_unlock(&arm_smmu_asid_lock)");
    b.land(failed);
}

/// v6.9's S1 `CD[0]`: allocate the CD table, or clear the slot the writer needs invalid
/// (skipped under [`Mutation::NoCdClear`]), then write the domain's descriptor.
fn write_cd_v69(b: &mut Builder<'_>, m: MasterId, dom: DomArg) {
    let has = b.jump_if(Cond::Cdtab(m), "cd_alloc");
    let who = b.topo.master(m).to_string();
    b.store(Op::CdtabAlloc(m), "cd_alloc", format!("arm_smmu_alloc_cd_tables({who})"));
    let fresh = b.jump("cd_alloc");
    b.land(has);
    if !b.mutated(Mutation::NoCdClear) {
        write_ctx_desc(b, MasterArg::Id(m), 0, CdSrc::Clear);
    }
    b.land(fresh);
    write_ctx_desc(b, MasterArg::Id(m), 0, CdSrc::Domain(dom));
}

/// v6.9: detach only leaves the list; ATS is decided before the STE is built, so the STE
/// gets EATS and `arm_smmu_enable_ats()` runs; the CD is written before the STE for S1,
/// after it for S2. Identity domains never get here (see [`attach_dev`]).
fn attach_v69(b: &mut Builder<'_>, m: MasterId, y: DomainId) {
    let dom = DomArg::Id(y);
    let failed = finalise_on_attach(b, y);
    b.step(Op::Lock(LockArg::Asid), "asid_lock", "mutex_lock(&arm_smmu_asid_lock)");
    detach_dev(b, m);
    let label = format!("master->ats_enabled = arm_smmu_ats_supported({})", b.topo.master(m));
    b.store(Op::AtsSupported(m), "ats_supported", label);
    list_and_cd(b, m, y, |b| write_cd_v69(b, m, dom));
    install_ste(b, m, SteTarget::Domain(dom), None);
    if b.topo.domains[y.ix()].stage != Stage::S1 {
        let no_tab = b.jump_unless(Cond::Cdtab(m), "clear_cd");
        write_ctx_desc(b, MasterArg::Id(m), 0, CdSrc::Clear);
        b.land(no_tab);
    }
    enable_ats(b, m);
    b.step(Op::Unlock(LockArg::Asid), "asid_unlock", "mutex_unlock(&arm_smmu_asid_lock)");
    let name = b.topo.domain(y).to_string();
    b.silent(Op::SetDomain(m, Some(dom)), "fn", format!("iommu core: group->domain = {name}"));
    b.land(failed);
}

/// `arm_smmu_attach_dev_ste(dev, ste)` (v6.9), shared by the static identity and blocked
/// domains: `arm_smmu_asid_lock` around detach and the STE write, then CD[0] is cleared
/// outside the lock. `core` is the domain the iommu core then records (`None`: blocked).
fn attach_dev_ste(b: &mut Builder<'_>, m: MasterId, core: Option<DomainId>) {
    b.func("arm_smmu_attach_dev_ste", File::Main, |b| {
        let busy = sva_check(b, m);
        b.step(Op::Lock(LockArg::Asid), "asid_lock", "mutex_lock(&arm_smmu_asid_lock)");
        detach_dev(b, m);
        let target = core.map_or(SteTarget::Abort, |d| SteTarget::Domain(DomArg::Id(d)));
        install_ste(b, m, target, None);
        b.step(Op::Unlock(LockArg::Asid), "asid_unlock", "mutex_unlock(&arm_smmu_asid_lock)");
        let name = core.map_or_else(|| "blocked".to_string(), |d| b.topo.domain(d).to_string());
        b.silent(Op::SetDomain(m, core.map(DomArg::Id)), "fn", format!("iommu core: group->domain = {name}"));
        let no_tab = b.jump_unless(Cond::Cdtab(m), "clear_cd");
        write_ctx_desc(b, MasterArg::Id(m), 0, CdSrc::Clear);
        b.land(no_tab);
        b.land(busy);
    });
}

/// `arm_smmu_attach_dev(domain y, master m)` as a thread's call.
pub fn attach_dev(b: &mut Builder<'_>, m: MasterId, y: DomainId) {
    b.call_args(Some(m), Some(y));
    if b.variant == Variant::V69 && b.topo.domains[y.ix()].stage == Stage::Bypass {
        // 327e10b4: identity is the static domain with its own attach_dev (v69.c:2671-2678).
        b.func("arm_smmu_attach_dev_identity", File::Main, |b| attach_dev_ste(b, m, Some(y)));
        return;
    }
    b.func("arm_smmu_attach_dev", File::Main, |b| {
        let busy = sva_check(b, m);
        match b.variant {
            Variant::Pre => attach_pre(b, m, y),
            Variant::Fix => attach_fix(b, m, y),
            Variant::V69 => attach_v69(b, m, y),
        }
        b.land(busy);
    });
}

/// `arm_smmu_release_device(master)`.
pub fn release_device(b: &mut Builder<'_>, m: MasterId) {
    b.call_args(Some(m), None);
    b.func("arm_smmu_release_device", File::Main, |b| {
        let who = b.topo.master(m).to_string();
        if b.variant == Variant::V69 {
            // d36464f40f29: release puts the STE back through a static domain. The source
            // takes identity when `!disable_bypass` or the device requires direct mappings
            // (v69.c:2944-2947); the model keeps disable_bypass set and has no such devices,
            // so it is always the blocked domain.
            b.func("arm_smmu_attach_dev_blocked", File::Main, |b| attach_dev_ste(b, m, None));
        } else {
            detach_dev(b, m);
        }
        b.store(Op::Release(m), "free_cd_tables", format!("free {who}'s streams and CD tables"));
    });
}
