//! "What if the driver did X" experiments: small, named changes to the step scripts.
//!
//! A scenario lists the mutations it runs under; the [`Builder`](crate::kernel::Builder)
//! carries them and each script checks the ones that touch it where the change applies, so
//! there is one script per kernel function and never a forked copy. A mutation that does not
//! apply to a variant (or to the domains a scenario uses) changes nothing there.

use serde::{Deserialize, Serialize};

/// One change to the driver's scripts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mutation {
    /// `arm_smmu_attach_dev` writes the new S1 domain's `CD[0]` before its `list_add` to the
    /// domain's devices list (the source adds first). Locks stay where they are, so in `pre`
    /// `arm_smmu_asid_lock` is dropped between the two, while `fix` and v6.9 hold it over both.
    CdBeforeList,
    /// The `CD[0]` clear between two domains is skipped: `arm_smmu_detach_dev`'s clear in
    /// `pre`/`fix`, v6.9's explicit clear before writing the new S1 domain's descriptor.
    NoCdClear,
    /// `arm_smmu_domain_free` of an S2 domain calls `ida_free` on its VMID before
    /// `free_io_pgtable_ops` issues `TLBI_S12_VMALL`.
    VmidFreeBeforeFlush,
    /// `arm_smmu_write_ste()` stores the target's qword 0 first and syncs, then stores the
    /// other qwords and syncs (a deliberately broken writer, for the `torn` rule; at `mail`
    /// granularity an STE install is one step and nothing changes).
    SteQ0First,
    /// `arm_smmu_write_ctx_desc()` installs a CD by storing q0 (V=1, ASID) and syncing before
    /// it stores q1 (TTB0) and syncs, the reverse of the source (for the `torn` rule).
    CdQ0First,
}

impl Mutation {
    /// Every mutation, in the order the file format lists them.
    pub const ALL: [Mutation; 5] = [
        Mutation::CdBeforeList,
        Mutation::NoCdClear,
        Mutation::VmidFreeBeforeFlush,
        Mutation::SteQ0First,
        Mutation::CdQ0First,
    ];

    /// The name in scenario files.
    pub fn id(self) -> &'static str {
        match self {
            Mutation::CdBeforeList => "cd-before-list",
            Mutation::NoCdClear => "no-cd-clear",
            Mutation::VmidFreeBeforeFlush => "vmid-free-before-flush",
            Mutation::SteQ0First => "ste-q0-first",
            Mutation::CdQ0First => "cd-q0-first",
        }
    }

    /// One sentence, in kernel terms.
    pub fn statement(self) -> &'static str {
        match self {
            Mutation::CdBeforeList => "attach_dev writes CD[0] before list_add to the new domain's devices list",
            Mutation::NoCdClear => "CD[0] is not cleared between the old domain and the new one",
            Mutation::VmidFreeBeforeFlush => "domain_free releases the VMID before TLBI_S12_VMALL",
            Mutation::SteQ0First => "arm_smmu_write_ste stores qword 0 of the new STE first, then the others",
            Mutation::CdQ0First => "arm_smmu_write_ctx_desc stores a new CD's q0 (V=1, ASID) before its TTB0",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_the_serde_names() {
        for m in Mutation::ALL {
            assert_eq!(serde_json::to_string(&m).unwrap(), format!("\"{}\"", m.id()));
            assert_eq!(serde_json::from_str::<Mutation>(&format!("\"{}\"", m.id())).unwrap(), m);
        }
    }
}
