//! A compiled scenario: the fixed topology, the thread programs, the initial state.
//!
//! The [`World`] never changes during a run; everything that does is in [`State`].

use crate::ids::{DomainId, MasterId, MmId, PtId};
use crate::program::Program;
use crate::state::{Stage, State};
use crate::variant::{Granularity, Variant};

/// A page table: a small map from IOVA (or VA) pages to physical pages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageTable {
    /// `PT_z`, `PT_P`, ...
    pub name: String,
    /// Sorted (iova, pa) pairs.
    pub map: Vec<(u64, u64)>,
}

impl PageTable {
    /// A walk: the pa for an iova, if mapped.
    pub fn walk(&self, iova: u64) -> Option<u64> {
        self.map.iter().find(|(i, _)| *i == iova).map(|(_, pa)| *pa)
    }
}

/// Fixed facts about a master.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MasterInfo {
    /// `A`, `B`, ...
    pub name: String,
    /// Number of CD slots (SSIDs 0..ssids).
    pub ssids: u8,
    /// `arm_smmu_ats_supported()`.
    pub ats_supported: bool,
    /// Its iommu group.
    pub group: crate::ids::GroupId,
}

/// Fixed facts about a domain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainInfo {
    /// `z`, `y`, ...
    pub name: String,
    /// Its stage.
    pub stage: Stage,
    /// Its io-pgtable.
    pub pt: PtId,
}

/// Fixed facts about a process.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MmInfo {
    /// `P`, ...
    pub name: String,
    /// The ASID the CPU uses for it.
    pub cpu_asid: u16,
    /// `mm->pgd`.
    pub pgd: PtId,
}

/// The objects of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topology {
    /// `asid_bits` from IDR0 (8 or 16): ASIDs are 1..2^bits-1.
    pub asid_bits: u8,
    /// Masters by id.
    pub masters: Vec<MasterInfo>,
    /// Domains by id.
    pub domains: Vec<DomainInfo>,
    /// Page tables by id.
    pub pts: Vec<PageTable>,
    /// Processes by id.
    pub mms: Vec<MmInfo>,
    /// iommu group names by id: a named group, or the name of its only master.
    pub groups: Vec<String>,
    /// Per group: whether two CPU threads call into it, so that its `group->mutex` is modelled.
    pub contended: Vec<bool>,
}

impl Topology {
    /// Name of a master.
    pub fn master(&self, m: MasterId) -> &str {
        &self.masters[m.ix()].name
    }
    /// Name of a domain.
    pub fn domain(&self, d: DomainId) -> &str {
        &self.domains[d.ix()].name
    }
    /// Name of a page table.
    pub fn pt(&self, p: PtId) -> &str {
        &self.pts[p.ix()].name
    }
    /// Name of a process.
    pub fn mm(&self, m: MmId) -> &str {
        &self.mms[m.ix()].name
    }
    /// Name of an iommu group.
    pub fn group(&self, g: crate::ids::GroupId) -> &str {
        &self.groups[g.ix()]
    }
    /// The masters of `m`'s iommu group, in scenario order: the devices the core attaches
    /// together (`for_each_group_device`).
    pub fn group_of(&self, m: MasterId) -> Vec<MasterId> {
        let g = self.masters[m.ix()].group;
        let same = self.masters.iter().enumerate().filter(|(_, x)| x.group == g);
        same.filter_map(|(i, _)| MasterId::from_index(i)).collect()
    }
    /// Largest allocatable ASID.
    pub fn asid_max(&self) -> u16 {
        ((1u32 << self.asid_bits) - 1) as u16
    }
}

/// A scenario compiled for one variant and granularity.
#[derive(Clone, Debug)]
pub struct World {
    /// Scenario id.
    pub id: String,
    /// Kernel variant of the programs.
    pub variant: Variant,
    /// Step granularity of the programs.
    pub granularity: Granularity,
    /// The objects.
    pub topo: Topology,
    /// One program per thread, CPUs first, then DMA lanes.
    pub programs: Vec<Program>,
    /// The state before any step.
    pub initial: State,
    /// Whether some lane fetches an STE ([`crate::program::Op::FetchSte`]): only then do STE
    /// writers keep what they started from (`Regs::ste_write`), so other worlds' state spaces
    /// are unchanged.
    pub fetches: bool,
}

impl World {
    /// Number of threads.
    pub fn n_threads(&self) -> usize {
        self.programs.len()
    }

    /// Every thread's id, lowest first.
    pub fn thread_ids(&self) -> impl Iterator<Item = crate::ids::ThreadId> + '_ {
        (0..self.programs.len()).filter_map(crate::ids::ThreadId::from_index)
    }

    /// Whether `t` is a thread of this world.
    pub fn has_thread(&self, t: crate::ids::ThreadId) -> bool {
        t.ix() < self.programs.len()
    }
}
