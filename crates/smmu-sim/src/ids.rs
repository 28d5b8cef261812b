//! Small typed indices for the objects of a scenario.
//!
//! Every object (master, domain, page table, process, thread) lives in a `Vec` of the
//! compiled [`crate::World`] or of the [`crate::State`]; these newtypes keep the indices apart.

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub struct $name(pub u8);
        impl $name {
            /// The index as a `usize`, for indexing the owning `Vec`.
            pub fn ix(self) -> usize {
                usize::from(self.0)
            }
            /// The id of index `i`, if it fits.
            pub fn from_index(i: usize) -> Option<Self> {
                u8::try_from(i).ok().map($name)
            }
        }
    };
}

id!(
    /// A device (`struct arm_smmu_master`).
    MasterId
);
id!(
    /// An `arm_smmu_domain`.
    DomainId
);
id!(
    /// An io-pgtable, or a process's page table (`mm->pgd`).
    PtId
);
id!(
    /// A process (`struct mm_struct`) that SVA can bind.
    MmId
);
id!(
    /// A software context descriptor (`struct arm_smmu_ctx_desc`).
    /// Ids below the number of domains are the descriptors embedded in those domains.
    CtxId
);
id!(
    /// An iommu group: the masters the core attaches and releases together.
    GroupId
);
id!(
    /// A thread of the scenario: a CPU running kernel functions, or a device DMA lane.
    ThreadId
);

/// A lock of the driver. `Ord` is only used to keep lock tables sorted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LockId {
    /// `arm_smmu_asid_lock`, a global mutex.
    Asid,
    /// `sva_lock`, the SVA file's static mutex.
    Sva,
    /// `smmu_domain->init_mutex`.
    Init(DomainId),
    /// `smmu_domain->devices_lock`, a spinlock taken with irqsave.
    Devices(DomainId),
    /// `group->mutex` of the iommu core.
    Group(GroupId),
}

impl LockId {
    /// Dense index into [`crate::State::locks`].
    pub fn slot(self) -> usize {
        match self {
            LockId::Asid => 0,
            LockId::Sva => 1,
            LockId::Init(d) => 2 + 3 * d.ix(),
            LockId::Devices(d) => 3 + 3 * d.ix(),
            LockId::Group(g) => 4 + 3 * g.ix(),
        }
    }

    /// The lock with a given slot index (the inverse of [`LockId::slot`]).
    pub fn by_slot(slot: usize) -> LockId {
        let ix = ((slot.saturating_sub(2)) / 3) as u8;
        match slot {
            0 => LockId::Asid,
            1 => LockId::Sva,
            s if (s - 2) % 3 == 0 => LockId::Init(DomainId(ix)),
            s if (s - 2) % 3 == 1 => LockId::Devices(DomainId(ix)),
            _ => LockId::Group(GroupId(ix)),
        }
    }

    /// Number of lock slots needed for `n_domains` domains and `n_groups` groups.
    pub fn slots(n_domains: usize, n_groups: usize) -> usize {
        2 + 3 * n_domains.max(n_groups)
    }
}
