//! Patches from kernel history and the alternatives reviewers ask about.

use super::{Edit, Patch};
use crate::variant::Variant;

/// A named patch.
#[derive(Clone, Copy, Debug)]
pub struct Preset {
    /// The name on the command line and in the page.
    pub id: &'static str,
    /// One line.
    pub title: &'static str,
    /// The variant it patches.
    pub base: Variant,
    /// Its edit lines.
    pub edits: &'static [&'static str],
    /// What it does, in kernel terms.
    pub about: &'static str,
}

/// Every preset, the real fix first.
pub const PRESETS: &[Preset] = &[
    Preset {
        id: "9f7c6891",
        title: "9f7c68911579 as a patch on pre: hold arm_smmu_asid_lock during all of attach_dev",
        base: Variant::Pre,
        edits: &[
            "move arm_smmu_attach_dev arm_smmu_detach_dev#1 before set_domain#1",
            "delete arm_smmu_attach_dev asid_lock#1",
            "delete arm_smmu_attach_dev asid_unlock#1",
            "insert arm_smmu_attach_dev lock arm_smmu_asid_lock before arm_smmu_detach_dev#1",
            "insert arm_smmu_attach_dev unlock arm_smmu_asid_lock end",
        ],
        about: "Detach moves after the init_mutex block (finalise takes arm_smmu_asid_lock itself), \
                arm_smmu_asid_lock is taken right before detach and released at out_unlock, and the \
                pair around the CD write goes. Applied to pre it gives the fix variant's programs.",
    },
    Preset {
        id: "lock-around-detach",
        title: "pre, with arm_smmu_asid_lock held only around detach",
        base: Variant::Pre,
        edits: &[
            "insert arm_smmu_attach_dev lock arm_smmu_asid_lock before arm_smmu_detach_dev#1",
            "insert arm_smmu_attach_dev unlock arm_smmu_asid_lock after arm_smmu_detach_dev#1",
        ],
        about: "Detach runs under the lock, but the master is off every devices list from there \
                until list_add, with the lock free: share_asid can still move the ASID in between.",
    },
    Preset {
        id: "lock-after-detach",
        title: "fix, with arm_smmu_asid_lock taken after detach",
        base: Variant::Fix,
        edits: &["move arm_smmu_attach_dev asid_lock#1 after arm_smmu_detach_dev#1"],
        about: "Detach drops the master from the old domain's list with the lock free, while its \
                CD[0] still holds the old ASID: the window of the seed race opens again.",
    },
    Preset {
        id: "cd-before-list",
        title: "pre, with CD[0] written before list_add (kernel-model §5.2)",
        base: Variant::Pre,
        edits: &["move arm_smmu_attach_dev list_add#1 after asid_unlock#1"],
        about: "The new domain's CD[0] is written (under arm_smmu_asid_lock) before the master joins \
                its devices list, so a share_asid in between misses the master. Same programs as \
                the cd-before-list mutation.",
    },
    Preset {
        id: "no-cd-clear",
        title: "pre, with CD[0] not cleared between domains (kernel-model §5.3)",
        base: Variant::Pre,
        edits: &["delete arm_smmu_detach_dev clear_cd#1", "delete arm_smmu_detach_dev arm_smmu_write_ctx_desc#1"],
        about: "Detach leaves the old domain's CD[0] live; write_ctx_desc on a live slot then changes \
                only the ASID, giving the new ASID with the old TTB0. Same programs as the \
                no-cd-clear mutation.",
    },
    Preset {
        id: "no-sva-lock",
        title: "fix, with sva_lock dropped from arm_smmu_sva_set_dev_pasid (kernel-model §5.11)",
        base: Variant::Fix,
        edits: &["delete arm_smmu_sva_set_dev_pasid sva_lock#1", "delete arm_smmu_sva_set_dev_pasid unlock#1"],
        about: "Binds no longer serialise on sva_lock: two binds can allocate and publish shared \
                descriptors concurrently; arm_smmu_asid_lock is still held inside the bind.",
    },
];

impl Preset {
    /// The patch.
    pub fn patch(&self) -> Patch {
        let edits = self.edits.iter().map(|e| e.parse::<Edit>().expect("preset edits parse")).collect();
        Patch { base: self.base, edits }
    }
}

/// The preset named `id`.
pub fn get(id: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.id == id)
}
