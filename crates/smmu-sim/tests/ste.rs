//! The used-bits STE writer against the kernel's KUnit vectors (arm-smmu-v3-test.c): for
//! each transition, whether it is hitless and how many CFGI_STE + CMD_SYNC it issues.
//! Only transitions whose masks are the same in the pre-fix `arm_smmu_get_ste_used()` as in
//! the KUnit version are listed; s1↔s2 differ because pre-fix S1 STEs count S2VMID as used.

use smmu_sim::ids::{MasterId, PtId};
use smmu_sim::ste::{self, Ste, V};

/// Runs the writer phase by phase; returns (hitless, syncs).
fn write(cur: Ste, target: Ste) -> (bool, usize) {
    let mode = ste::write_mode(&cur, &target);
    let mut entry = cur;
    let (mut syncs, mut hitless) = (0, true);
    for phase in 0..ste::phases(mode) {
        let next = ste::plan_phase(mode, phase, &entry, &target);
        if next != entry {
            syncs += 1;
            entry = next;
            hitless &= entry.0[0] & V != 0 || cur.0[0] & V == 0;
        }
    }
    assert_eq!(entry, target, "the writer ends at the target");
    (hitless, syncs)
}

#[test]
fn kunit_vectors_hold_for_the_pre_fix_writer() {
    let m = MasterId(0);
    let cd = Ste::cdtable(m, false);
    let s2 = Ste::s2(7, PtId(1), false);
    let (abort, bypass) = (Ste::abort(), Ste::bypass());
    for (name, cur, target, expect) in [
        ("bypass→abort", bypass, abort, (true, 2)),
        ("abort→bypass", abort, bypass, (true, 2)),
        ("cdtable→abort", cd, abort, (true, 2)),
        ("abort→cdtable", abort, cd, (true, 2)),
        ("cdtable→bypass", cd, bypass, (true, 3)),
        ("bypass→cdtable", bypass, cd, (true, 3)),
        ("s2→abort", s2, abort, (true, 2)),
        ("abort→s2", abort, s2, (true, 2)),
        ("s2→bypass", s2, bypass, (true, 2)),
        ("bypass→s2", bypass, s2, (true, 2)),
    ] {
        assert_eq!(write(cur, target), expect, "{name}");
    }
}

/// Pre-fix: an S1 STE uses S2VMID (0), so s1↔s2 changes q0 and q2 and is disruptive.
#[test]
fn pre_fix_s1_to_s2_is_disruptive() {
    let (cd, s2) = (Ste::cdtable(MasterId(0), false), Ste::s2(7, PtId(1), false));
    assert_eq!(ste::write_mode(&cd, &s2), ste::WriteMode::Disruptive);
    assert_eq!(write(cd, s2), (false, 3));
}
