//! The mutable state of one run: SMMU hardware, driver software, locks, threads.
//!
//! Everything here is plain data with a derived `Hash`/`Eq`, ordered containers only,
//! so that the explorer can deduplicate states and the scheduler replays exactly.
//! What the SMMU may use is kept apart from what the driver wrote to memory: a store
//! changes `mem`, and a CFGI + CMD_SYNC makes it the `hw` (authoritative) value.

use crate::ids::{CtxId, DomainId, MasterId, MmId, PtId, ThreadId};
use crate::ste::{Ste, WriteMode};
use serde::{Deserialize, Serialize};

/// Translation stage of a domain (`enum arm_smmu_domain_stage`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Stage 1: an ASID and a CD.
    S1,
    /// Stage 2: a VMID in the STE.
    S2,
    /// Identity (PRE's `ARM_SMMU_DOMAIN_BYPASS`).
    Bypass,
}

/// A context descriptor as the SMMU reads it (q0 and q1; q2/q3 hold nothing the model needs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Cd {
    /// q0 `V`.
    pub valid: bool,
    /// q0 `EPD0`: the quiet CD, valid but translating nothing.
    pub epd0: bool,
    /// q0 `ASET`: 1 for private CDs, 0 for shared (SVA) CDs.
    pub aset: bool,
    /// q0 `ASID`.
    pub asid: u16,
    /// q1 `TTB0`, the page table root.
    pub ttb0: Option<PtId>,
}

impl Cd {
    /// The translation this CD gives, if it translates at all.
    pub fn translation(&self) -> Option<(u16, PtId)> {
        match (self.valid && !self.epd0, self.ttb0) {
            (true, Some(pt)) => Some((self.asid, pt)),
            _ => None,
        }
    }
}

/// An entry the driver writes to memory and the SMMU caches until CFGI + CMD_SYNC.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Slot<T> {
    /// What the driver stored.
    pub mem: T,
    /// What the SMMU is known to use: the value at the last CFGI + CMD_SYNC.
    pub hw: T,
}

impl<T: Copy + PartialEq> Slot<T> {
    /// Both values, or one when they agree: the SMMU may use either.
    pub fn images(&self) -> impl Iterator<Item = T> {
        let second = (self.mem != self.hw).then_some(self.mem);
        std::iter::once(self.hw).chain(second)
    }

    /// CFGI + CMD_SYNC: the memory image becomes authoritative.
    pub fn sync(&mut self) {
        self.hw = self.mem;
    }
}

/// Per-master state: the driver's `arm_smmu_master` and the hardware tables it owns.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Master {
    /// PRE's `master->domain`; in v6.9 the iommu core's domain for the device.
    pub domain: Option<DomainId>,
    /// `master->ats_enabled`.
    pub ats: bool,
    /// `master->sva_enabled`.
    pub sva_enabled: bool,
    /// Whether `cd_table.cdtab` is allocated.
    pub cdtab: bool,
    /// The STE of the master's stream.
    pub ste: Slot<Ste>,
    /// CD table slots indexed by SSID.
    pub cds: Vec<Slot<Cd>>,
    /// `master->bonds`: (pasid, notifier index).
    pub bonds: Vec<(u8, u8)>,
    /// Set by `arm_smmu_release_device`.
    pub released: bool,
}

/// Per-domain state.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Domain {
    /// Set by `arm_smmu_domain_finalise()`.
    pub finalised: bool,
    /// `s2_cfg.vmid` for S2 domains.
    pub vmid: u16,
    /// `smmu_domain->devices`, in list order (`list_add` inserts at the head).
    pub devices: Vec<MasterId>,
    /// Set by `arm_smmu_domain_free()`.
    pub freed: bool,
}

/// A software context descriptor (`struct arm_smmu_ctx_desc`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct CtxDesc {
    /// `cd->asid`, read by writers when they build a CD.
    pub asid: u16,
    /// `cd->ttbr`.
    pub ttb0: Option<PtId>,
    /// `cd->mm`: set for shared (SVA) descriptors.
    pub mm: Option<MmId>,
    /// `cd->refs`.
    pub refs: u8,
}

/// `struct arm_smmu_mmu_notifier`: SVA binding of one mm on one RID domain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Notifier {
    /// The RID domain it hangs off.
    pub domain: DomainId,
    /// The bound process.
    pub mm: MmId,
    /// Its shared context descriptor.
    pub ctx: CtxId,
    /// `smmu_mn->refs`: 0 once the last put unlisted it (it stays registered with the mm
    /// until `mmu_notifier_put`).
    pub refs: u8,
    /// `smmu_mn->cleared`: `arm_smmu_mm_release` has quietened its CDs and flushed.
    pub cleared: bool,
}

/// Tag of an IOTLB entry: an ASID (stage 1) or a VMID (stage 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tag {
    /// Stage-1 ASID.
    Asid(u16),
    /// Stage-2 VMID.
    Vmid(u16),
}

impl std::fmt::Display for Tag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tag::Asid(a) => write!(f, "ASID {a}"),
            Tag::Vmid(v) => write!(f, "VMID {v}"),
        }
    }
}

/// One IOTLB entry: (tag, iova page) → (page table it was walked from, pa).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TlbEntry {
    /// ASID or VMID.
    pub tag: Tag,
    /// Input address page.
    pub iova: u64,
    /// The table the walk went through.
    pub pt: PtId,
    /// Output address.
    pub pa: u64,
}

/// A page of an I/O or CPU page table taken out by an unmap: (table, iova) held `pa`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Unmapped {
    /// The table.
    pub pt: PtId,
    /// The input address.
    pub iova: u64,
    /// The page it translated to.
    pub pa: u64,
}

/// What an STE writer in progress started from and aims for, kept for the `torn` rule only
/// in worlds with an SMMU fetch (elsewhere nothing reads it, and it stays `None`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SteWrite {
    /// The master whose STE is written.
    pub master: MasterId,
    /// The entry in memory when `arm_smmu_write_ste()` began.
    pub before: Ste,
    /// The target.
    pub target: Ste,
    /// Whether the writer goes through V=0 on purpose (the disruptive path).
    pub disruptive: bool,
}

/// What a CD write in progress (`arm_smmu_write_ctx_desc()`) started from and aims for, kept
/// from its first store to the sync after its last, in worlds with an SMMU fetch only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CdWrite {
    /// The master and substream of the slot.
    pub master: MasterId,
    /// The substream.
    pub ssid: u8,
    /// The descriptor in memory before the first store.
    pub before: Cd,
    /// The descriptor after the last.
    pub target: Cd,
    /// Stores remain (an install stores q1..q3 and q0, in two steps).
    pub open: bool,
}

/// Thread-local registers of a running kernel function (its C locals).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Regs {
    /// Old domain read by detach (`master->domain`).
    pub old_domain: Option<DomainId>,
    /// ASID from `arm64_mm_context_get()`.
    pub asid: u16,
    /// New ASID allocated by `share_asid()`.
    pub new_asid: u16,
    /// Context descriptor found by `xa_load()` in `share_asid()`.
    pub found: Option<CtxId>,
    /// Context descriptor allocated by `arm_smmu_alloc_shared_cd()` (or reused).
    pub ctx: Option<CtxId>,
    /// Index of the notifier in use.
    pub notifier: Option<u8>,
    /// Loop cursor over a devices list.
    pub cursor: u8,
    /// Loop cursor over the notifiers registered on a process: the next index to look at.
    pub mn_cursor: u8,
    /// STE writer: mode chosen at entry.
    pub ste_mode: WriteMode,
    /// STE writer: current phase.
    pub ste_phase: u8,
    /// STE writer: its start and target (worlds with an SMMU fetch only).
    pub ste_write: Option<SteWrite>,
    /// CD writer: its start and target (worlds with an SMMU fetch only).
    pub cd_write: Option<CdWrite>,
    /// The page an unmap in progress has cleared from its table (`iommu_iotlb_gather`):
    /// set by the PTE clear, gone when the unmap returns.
    pub unmap: Option<Unmapped>,
}

/// A thread's program counter, step count and registers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Thread {
    /// Index of the next instruction in the thread's program.
    pub pc: u16,
    /// Steps taken so far (keeps the state graph acyclic and layered by depth).
    pub steps: u16,
    /// Locals.
    pub regs: Regs,
}

/// Coherence history of one tag, for invariant 3.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TagHistory {
    /// The ASID or VMID.
    pub tag: Tag,
    /// Bit set of page tables this tag translated through since its last flush.
    pub pts: u32,
}

/// The complete state of one run.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct State {
    /// Masters, by [`MasterId`].
    pub masters: Vec<Master>,
    /// Domains, by [`DomainId`].
    pub domains: Vec<Domain>,
    /// Context descriptors: one embedded per domain first, then shared ones as allocated.
    pub ctxs: Vec<CtxDesc>,
    /// `arm_smmu_asid_xa`: ASID → descriptor, sorted by ASID.
    pub xa: Vec<(u16, CtxId)>,
    /// Allocated VMIDs (`smmu->vmid_map`), sorted.
    pub vmids: Vec<u16>,
    /// SVA notifiers (`smmu_domain->mmu_notifiers` of all domains).
    pub notifiers: Vec<Option<Notifier>>,
    /// Pinned CPU ASIDs (`arm64_mm_context_get`), by [`MmId`].
    pub mm_pinned: Vec<u8>,
    /// Lock owners by [`crate::ids::LockId::slot`]: 0 free, else thread index + 1.
    pub locks: Vec<u8>,
    /// The IOTLB, sorted.
    pub iotlb: Vec<TlbEntry>,
    /// Per-tag history for invariant 3, sorted.
    pub history: Vec<TagHistory>,
    /// The mappings of every page table, by [`PtId`] (each sorted by iova): the topology's
    /// are the initial value, map and unmap change them.
    pub pts: Vec<Vec<(u64, u64)>>,
    /// Pages whose unmap has returned, sorted: no DMA may translate them any more.
    pub unmapped: Vec<Unmapped>,
    /// Threads, by [`ThreadId`].
    pub threads: Vec<Thread>,
    /// State invariants broken in this state (bits of [`crate::check::Invariant::bit`]).
    pub broken: crate::check::Mask,
}

impl Master {
    /// `*self = src.clone()`, reusing this master's buffers.
    pub fn assign(&mut self, src: &Master) {
        let Master { domain, ats, sva_enabled, cdtab, ste, cds, bonds, released } = src;
        (self.domain, self.ats, self.sva_enabled, self.cdtab, self.ste) = (*domain, *ats, *sva_enabled, *cdtab, *ste);
        self.cds.clone_from(cds);
        self.bonds.clone_from(bonds);
        self.released = *released;
    }
}

impl Domain {
    /// `*self = src.clone()`, reusing this domain's buffers.
    pub fn assign(&mut self, src: &Domain) {
        let Domain { finalised, vmid, devices, freed } = src;
        (self.finalised, self.vmid, self.freed) = (*finalised, *vmid, *freed);
        self.devices.clone_from(devices);
    }
}

impl State {
    /// Owner of a lock, if held.
    pub fn lock_owner(&self, lock: crate::ids::LockId) -> Option<ThreadId> {
        match self.locks[lock.slot()] {
            0 => None,
            t => Some(ThreadId(t - 1)),
        }
    }

    /// A walk of page table `pt`: the pa for an iova, if mapped.
    pub fn walk(&self, pt: PtId, iova: u64) -> Option<u64> {
        self.pts.get(pt.ix())?.iter().find(|(i, _)| *i == iova).map(|(_, pa)| *pa)
    }

    /// `xa_load()`.
    pub fn xa_load(&self, asid: u16) -> Option<CtxId> {
        self.xa.iter().find(|(a, _)| *a == asid).map(|(_, c)| *c)
    }
}
