//! The DMA API on a paging domain: `arm_smmu_map_pages`, `arm_smmu_unmap_pages` and the core's
//! `iotlb_sync`, which reaches `arm_smmu_tlb_inv_range_domain`.
//!
//! The invalidation reads `smmu_domain->cd.asid` (S1) or `s2_cfg.vmid` (S2) when it is issued,
//! without `arm_smmu_asid_lock`, in every variant; the read and the TLBI + CMD_SYNC are one
//! step (reading before a concurrent `share_asid` moves the ASID and flushing after gives the
//! same flush of the old ASID).

use super::Builder;
use crate::ids::DomainId;
use crate::program::{AsidArg, Cond, DomArg, Op};
use crate::source::File;
use crate::state::Stage;

/// `iommu_map(domain, iova, pa)`: `arm_smmu_map_pages` → `ops->map_pages`.
pub fn map(b: &mut Builder<'_>, d: DomainId, iova: u64, pa: u64) {
    b.call_args(None, Some(d));
    let info = &b.topo.domains[d.ix()];
    let (pt, label) = (info.pt, format!("ops->map_pages({}: {iova:#x} → {pa:#x})", b.topo.pt(info.pt)));
    b.func("arm_smmu_map_pages", File::Main, |b| b.step(Op::PteSet(pt, iova, pa), "map", label));
}

/// `iommu_unmap(domain, iova)`: `arm_smmu_unmap_pages` → `ops->unmap_pages` gathers the page,
/// then `arm_smmu_iotlb_sync` invalidates it; the page is free when that returns.
pub fn unmap(b: &mut Builder<'_>, d: DomainId, iova: u64) {
    b.call_args(None, Some(d));
    let info = &b.topo.domains[d.ix()];
    let (pt, stage, name) = (info.pt, info.stage, info.name.clone());
    let label = format!("ops->unmap_pages({}: {iova:#x}) clears the PTE, gathers it", b.topo.pt(pt));
    b.func("arm_smmu_unmap_pages", File::Main, |b| b.step(Op::PteClear(pt, iova), "unmap", label));
    b.func("arm_smmu_iotlb_sync", File::Main, |b| {
        let empty = b.jump_unless(Cond::Gathered, "pgsize_check");
        b.func("arm_smmu_tlb_inv_range_domain", File::Main, |b| match stage {
            Stage::S2 => {
                let label = format!("TLBI_S2_IPA({name}->s2_cfg.vmid, {iova:#x}) + CMD_SYNC");
                b.step(Op::TlbiIpa(d, iova), "vmid", label);
            }
            _ => {
                let label = format!("TLBI_NH_VA({name}->cd.asid, {iova:#x}) + CMD_SYNC, no asid_lock");
                b.step(Op::TlbiVa(AsidArg::Domain(DomArg::Id(d)), iova), "asid", label);
            }
        });
        b.land(empty);
        b.silent(Op::UnmapDone, "fn", "iommu_unmap() returns: the page may be reused");
    });
}
