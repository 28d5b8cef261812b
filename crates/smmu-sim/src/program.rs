//! Thread programs: kernel functions compiled to flat instruction lists with a program counter.
//!
//! A program is a `Vec<Instr>`. An instruction is an atomic effect ([`Op`]) or control flow
//! (`Jump`, `JumpIf`). A *step* executes the visible instruction at the program counter and
//! then every following silent instruction (control flow, and at `mail` granularity the
//! effects that the thread's diagrams fold into a neighbouring line) up to the next visible
//! one. So the next step of a thread is always `program[pc]`, and it can be inspected (is it
//! a lock that is held?) without running anything.
//!
//! Operands that the C code computes at run time (the old domain, the ASID read from a
//! descriptor, the master at a list cursor) are named by small enums and resolved against
//! the state when the instruction runs.

use crate::ids::{DomainId, MasterId, MmId, PtId};
use crate::source::Src;
use crate::state::Stage;

/// A domain named by an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DomArg {
    /// A fixed domain of the scenario.
    Id(DomainId),
    /// The old domain captured by detach (`regs.old_domain`).
    Old,
    /// The domain owning the descriptor found by `share_asid()` (`container_of`).
    Found,
    /// The master's current domain (`master->domain`, or the core's domain in v6.9).
    OfMaster(MasterId),
    /// `smmu_mn->domain` of the notifier in `regs.notifier`.
    OfNotifier,
}

/// A master named by an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MasterArg {
    /// A fixed master.
    Id(MasterId),
    /// The master at `regs.cursor` of a domain's devices list.
    Cursor(DomArg),
}

/// The descriptor a CD write installs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CdSrc {
    /// `write_ctx_desc(.., NULL)`: clear the slot.
    Clear,
    /// `&quiet_cd`: keep V, disable translation.
    Quiet,
    /// A domain's embedded descriptor.
    Domain(DomArg),
    /// The descriptor in `regs.ctx`.
    RegCtx,
    /// The descriptor in `regs.found`.
    Found,
}

/// The STE a writer aims for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SteTarget {
    /// `arm_smmu_install_ste_for_dev()` (PRE/FIX): derived from `master->domain`.
    FromMaster,
    /// v6.9: the STE built for this domain.
    Domain(DomArg),
    /// `arm_smmu_make_abort_ste()`.
    Abort,
}

/// The order in which `arm_smmu_write_ste()` stores an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StoreOrder {
    /// The kernel's used-bits writer.
    Kernel,
    /// The `ste-q0-first` mutation: qword 0 first (one store and a sync), then the rest.
    Q0First,
}

/// Where `tlb_inv_asid()` takes its ASID from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AsidArg {
    /// `regs.asid` (the CPU ASID, i.e. the old value in `share_asid()`).
    Reg,
    /// `cd->asid` of a domain's descriptor, read when the TLBI is issued.
    Domain(DomArg),
    /// `cd->asid` of `regs.ctx`.
    RegCtx,
    /// `smmu_mn->cd->asid` of the notifier in `regs.notifier`.
    Notifier,
}

/// Why a TLB invalidation is issued. Only retirements are subject to invariant 2; every
/// invalidation resets invariant 3's history of the tag.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TlbiPurpose {
    /// The ASID or VMID stops being used for its translation (`share_asid`'s flush of the
    /// old ASID, `arm_smmu_domain_free`).
    Retire,
    /// `arm_smmu_mmu_notifier_put`: retiring when the descriptor in `regs.ctx` holds its
    /// last reference (the following `arm_smmu_free_shared_cd` will `xa_erase` the ASID),
    /// invalidating while another RID domain's notifier still shares it.
    RetireIfLastRef,
    /// The ASID or VMID stays in use; stale entries are removed (unmap, mmu notifier).
    Invalidate,
}

/// A lock named by an instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LockArg {
    /// `arm_smmu_asid_lock`.
    Asid,
    /// `sva_lock`.
    Sva,
    /// `init_mutex` of a domain.
    Init(DomArg),
    /// `devices_lock` of a domain.
    Devices(DomArg),
    /// The iommu core's `group->mutex` of a master's group.
    Group(MasterId),
}

/// An atomic effect. Each visible one is one step of a thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `mutex_lock` / `spin_lock_irqsave`. Blocks while another thread holds it.
    Lock(LockArg),
    /// `mutex_unlock` / `spin_unlock_irqrestore`.
    Unlock(LockArg),
    /// `old = master->domain` (detach) or the core's current domain.
    ReadOldDomain(MasterId),
    /// `master->domain = d` (PRE/FIX) or the core's domain pointer (v6.9).
    SetDomain(MasterId, Option<DomArg>),
    /// `arm_smmu_disable_ats()`.
    AtsOff(MasterId),
    /// `arm_smmu_enable_ats()`.
    AtsOn(MasterId),
    /// `master->ats_enabled = arm_smmu_ats_supported(master)` (v6.9, before the STE is built).
    AtsSupported(MasterId),
    /// `list_del(&master->domain_head)`.
    ListDel(DomArg, MasterId),
    /// `list_add(&master->domain_head, &domain->devices)`.
    ListAdd(DomArg, MasterId),
    /// Allocate the master's CD table.
    CdtabAlloc(MasterId),
    /// `arm_smmu_domain_finalise_s1`: `xa_alloc()` an ASID for the domain's descriptor.
    XaAllocDomain(DomainId),
    /// `arm_smmu_domain_finalise_s2`: `ida_alloc_range()` a VMID.
    VmidAlloc(DomainId),
    /// Finalise without an ID (identity domains).
    MarkFinalised(DomainId),
    /// A whole `arm_smmu_write_ctx_desc()` as one step (`mail` granularity).
    CdWrite(MasterArg, u8, CdSrc),
    /// Store CD q1..q3 (TTB0, MAIR) of an install.
    CdStoreTtb(MasterArg, u8, CdSrc),
    /// Store CD q0 (V, ASID, ASET, or 0 to clear).
    CdStoreQ0(MasterArg, u8, CdSrc),
    /// `CFGI_CD` + `CMD_SYNC` for a slot.
    CfgiCd(MasterArg, u8),
    /// A whole STE install as one step.
    SteInstall(MasterId, SteTarget),
    /// Start of `arm_smmu_write_ste()`: choose hitless or disruptive.
    SteBegin(MasterId, SteTarget, StoreOrder),
    /// One `entry_set()` phase's qword stores.
    SteStore(MasterId, SteTarget),
    /// `CFGI_STE` + `CMD_SYNC`, then the writer moves to its next phase.
    CfgiSte(MasterId),
    /// Skip to the writer's next phase (nothing to store).
    SteNextPhase,
    /// `arm_smmu_tlb_inv_asid()` + `CMD_SYNC`.
    TlbiAsid(AsidArg, TlbiPurpose),
    /// `TLBI_S12_VMALL` + `CMD_SYNC` for a domain's VMID.
    TlbiVmid(DomainId),
    /// `arm64_mm_context_get()`: pin the CPU ASID into `regs.asid`.
    ContextGet(MmId),
    /// `arm64_mm_context_put()`.
    ContextPut(MmId),
    /// `arm64_mm_context_put(cd->mm)` for the descriptor in `regs.ctx`.
    ContextPutCtx,
    /// `kzalloc` a shared descriptor into `regs.ctx`.
    CtxAlloc,
    /// `share_asid` S1: `cd = xa_load(asid)` into `regs.found`.
    XaLoad,
    /// `share_asid` S2: same mm; `refcount_inc(&cd->refs)`; use it instead of the new one.
    CtxShareExisting,
    /// `share_asid` S4: `xa_alloc()` a new ASID pointing at the found descriptor.
    XaAllocMove,
    /// `share_asid`: `xa_alloc()` found no free ASID, `return ERR_PTR(-ENOSPC)`; the caller
    /// then frees the new descriptor (`regs.ctx` is cleared).
    ShareFailed,
    /// `share_asid` S5: `cd->asid = new_asid`.
    SetFoundAsid,
    /// `share_asid` S8: `xa_erase(old asid)`.
    XaEraseOld,
    /// `alloc_shared_cd` A6: `xa_insert(asid → new cd)`.
    XaInsertCtx,
    /// `alloc_shared_cd` A8: fill ttbr/asid/mm of the new descriptor.
    CtxFill(MmId),
    /// `arm_smmu_mmu_notifier_get` N1: find an existing notifier (sets `regs.notifier`).
    NotifierFind(DomArg, MmId),
    /// N1 hit: `smmu_mn->refs++`.
    NotifierRef,
    /// N3: allocate and list a notifier for (rid, mm, regs.ctx).
    NotifierAdd(DomArg, MmId),
    /// `list_add(&bond->list, &master->bonds)`.
    BondAdd(MasterId, u8),
    /// Find and `list_del` the bond for a pasid (sets `regs.notifier`).
    BondDel(MasterId, u8),
    /// `arm_smmu_mmu_notifier_put`: `--refs`; the last put unlists it.
    NotifierPut,
    /// `arm_smmu_free_shared_cd` / `arm_smmu_free_asid`: `--refs`, `xa_erase` at zero.
    FreeCtx,
    /// `arm_smmu_domain_free` S1: `arm_smmu_free_asid(&cd)`.
    FreeDomainAsid(DomainId),
    /// `ida_free(vmid)`.
    VmidFree(DomainId),
    /// Mark a domain freed (after its IDs are released).
    MarkFreed(DomainId),
    /// Release: remove streams and free the CD table.
    Release(MasterId),
    /// Next list element: `regs.cursor += 1`.
    CursorNext,
    /// Reset `regs.cursor`.
    CursorReset,
    /// A device transaction: STE → CD → IOTLB hit, or walk and fill.
    Dma(MasterId, u8, u64),
    /// The SMMU fetches a master's STE from memory (a configuration-cache fill): each qword
    /// single-copy atomically, in any order. Nothing keeps what it read; the checker's `torn`
    /// rule judges it.
    FetchSte(MasterId),
    /// The SMMU fetches a master's CD at a substream, a qword at a time: q0 (V, EPD0, ASET,
    /// ASID) and q1 (TTB0) may each be old or new while their store is not yet synced.
    FetchCd(MasterId, u8),
    /// A walk with no transaction (the SMMU caching a translation ahead of use): the same
    /// STE → CD → IOTLB path as [`Op::Dma`], filling the IOTLB on a miss, but nothing is
    /// translated for the device, so there is nothing to check.
    Walk(MasterId, u8, u64),
    /// `ops->map_pages` (io-pgtable): install iova → pa in a table, unless a PTE is there
    /// (`-EEXIST`).
    PteSet(PtId, u64, u64),
    /// `ops->unmap_pages`, or the CPU clearing a process's PTE: clear it and gather the page
    /// into `regs.unmap` (nothing when it was not mapped).
    PteClear(PtId, u64),
    /// `TLBI_NH_VA` of one page + `CMD_SYNC`, with the ASID read when it is issued.
    TlbiVa(AsidArg, u64),
    /// `TLBI_S2_IPA` of one page + `CMD_SYNC`, by the domain's VMID.
    TlbiIpa(DomainId, u64),
    /// The unmap returns: the gathered page is free for reuse from here on.
    UnmapDone,
    /// `mmu_notifier` core: start a walk of the notifiers registered on a process
    /// (`regs.mn_cursor = 0`).
    NotifierWalk,
    /// The next notifier registered on the process at or after `regs.mn_cursor`, into
    /// `regs.notifier`; the cursor moves past it.
    NotifierAt(MmId),
    /// `arm_smmu_mm_release`: `smmu_mn->cleared = true`.
    SetCleared,
    /// `mmu_notifier_put`: the notifier, already unlisted, stops being registered.
    NotifierFree,
}

/// A condition for `JumpIf`, evaluated against the state when the jump is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Cond {
    /// `master->sva_enabled`.
    SvaEnabled(MasterId),
    /// `regs.old_domain` is NULL.
    NoOldDomain,
    /// The domain has this stage.
    StageIs(DomArg, Stage),
    /// The domain is finalised.
    Finalised(DomArg),
    /// `master->ats_enabled`.
    Ats(MasterId),
    /// The CD table is allocated.
    Cdtab(MasterId),
    /// The CD slot's memory image has V set (the writer's `live` test).
    CdLive(MasterArg, u8),
    /// `regs.found` is NULL (the ASID is free).
    NotFound,
    /// `regs.found->mm` is set (a shared descriptor).
    FoundShared,
    /// `regs.cursor` is past the end of the domain's devices list.
    CursorDone(DomArg),
    /// `regs.notifier` is set.
    HaveNotifier,
    /// The notifier in `regs.notifier` is gone (its last reference was put).
    NotifierGone,
    /// The STE writer has run all its phases.
    SteDone,
    /// The current STE writer phase stores nothing.
    StePhaseEmpty(MasterId, SteTarget),
    /// The descriptor in `regs.ctx` still has references.
    CtxReferenced,
    /// `share_asid`'s `xa_alloc()` gave a new ASID (`regs.new_asid` is set).
    NewAsid,
    /// `regs.ctx` is set: the shared descriptor was found or allocated (else the call failed).
    HaveCtx,
    /// `gather->pgsize`: the unmap cleared a page.
    Gathered,
    /// No notifier of the process is registered at or after `regs.mn_cursor`.
    NotifiersDone(MmId),
    /// `smmu_mn->cleared` of the notifier in `regs.notifier` (or it is gone).
    Cleared,
}

/// An instruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// An effect.
    Op(Op),
    /// Unconditional jump.
    Jump(u16),
    /// Jump when the condition holds.
    JumpIf(Cond, u16),
    /// Jump when the condition does not hold.
    JumpUnless(Cond, u16),
}

/// One instruction with what a reader needs to recognise it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instr {
    /// What it does.
    pub kind: Kind,
    /// Whether it is a step of its own (else it runs as part of the previous step).
    pub visible: bool,
    /// Bookkeeping that is never a step of its own (reads, loop cursors): left out of labels.
    pub quiet: bool,
    /// The innermost kernel function it belongs to.
    pub function: &'static str,
    /// The call chain, outermost first (`arm_smmu_attach_dev > arm_smmu_detach_dev`).
    pub stack: Vec<&'static str>,
    /// A short label as in the thread's diagrams.
    pub label: String,
    /// Where in the kernel source this is.
    pub src: Src,
    /// A patch moved it (it belongs to the subject of a move or swap).
    pub moved: bool,
}

/// A compiled thread: its name and program.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    /// `CPU0`, `DMA A`, ...
    pub name: String,
    /// Whether this is a device DMA lane rather than a CPU.
    pub device: bool,
    /// The instructions; the thread is finished when `pc == instrs.len()`.
    pub instrs: Vec<Instr>,
}

impl Program {
    /// Number of instructions.
    pub fn len(&self) -> u16 {
        // At most MAX_PROGRAM (< u16::MAX) instructions: see `Builder::finish`.
        u16::try_from(self.instrs.len()).unwrap_or(u16::MAX)
    }

    /// Whether the program is empty.
    pub fn is_empty(&self) -> bool {
        self.instrs.is_empty()
    }
}
