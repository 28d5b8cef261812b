//! Every step names its kernel source: a known line range at the pinned commit and a
//! well-formed link (driver code; a device's transaction and the mm core's part of a CPU
//! unmap or exit have none).

mod common;

use common::*;
use smmu_sim::source::File;
use smmu_sim::{builtin, Granularity, Variant};

#[test]
fn every_driver_instruction_has_lines_and_a_link() {
    for id in builtin::ids() {
        for v in Variant::ALL {
            for g in Granularity::ALL {
                let w = world(id, v, g);
                for p in &w.programs {
                    for i in &p.instrs {
                        if matches!(i.src.file, File::Device | File::Mm) {
                            assert!(i.src.url().is_none());
                            continue;
                        }
                        let (a, b) = i.src.lines().unwrap_or_else(|| panic!("{v}: no lines for {}", i.function));
                        assert!(0 < a && a <= b && b < 5000, "{v} {}: {a}-{b}", i.function);
                        let url = i.src.url().unwrap();
                        let prefix = format!(
                            "https://github.com/torvalds/linux/blob/{}/drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3",
                            v.commit()
                        );
                        assert!(url.starts_with(&prefix), "{url}");
                        assert!(url.ends_with(&format!("#L{a}-L{b}")) || url.ends_with(&format!("#L{a}")), "{url}");
                        assert_eq!(v.commit().len(), 40);
                        assert!(v.commit().chars().all(|c| c.is_ascii_hexdigit()));
                    }
                }
            }
        }
    }
}

/// The fix moves lines: the same step points at different lines before and after it.
#[test]
fn attach_lock_points_at_the_fix_lines() {
    let w = world("seed-race", Variant::Fix, Granularity::Mail);
    let lock = w.programs[0].instrs.iter().find(|i| i.src.part == "asid_lock" && i.function == "arm_smmu_attach_dev");
    assert_eq!(lock.unwrap().src.lines(), Some((2609, 2609)));
}
