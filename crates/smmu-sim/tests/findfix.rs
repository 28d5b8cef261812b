//! Find-fix takes many verdicts from other candidates instead of checking them (see
//! `patch::bracket`). Those rules must never change a result: with them and without, every
//! search here reports the same clean patches, with the same ranks and lock-rule flags, and
//! the same counts of candidates tried, refused and undecided. The searches over the seed
//! race's attach_dev and share_asid run to the end; the others run their first candidates
//! (`budget`), which already take many verdicts from one another.

use smmu_sim::patch::find::{Finder, Found, Progress};
use smmu_sim::patch::LockName;
use smmu_sim::{builtin, Granularity, Variant};

fn search(mut f: Finder, budget: usize) -> (Vec<Found>, Progress) {
    let mut left = budget;
    while left > 0 && !f.progress().done {
        let n = left.min(512);
        f.step(n);
        left -= n;
    }
    (f.found(), f.progress())
}

/// Runs the search both ways; returns how many verdicts were taken from others.
fn same_both_ways(id: &str, g: Granularity, func: &str, lock: LockName, budget: usize) -> usize {
    let s = builtin::get(id).unwrap();
    let new = || Finder::new(&s, Variant::Pre, g, func, &[lock], 20_000).unwrap();
    let (fast, p) = search(new(), budget);
    let (slow, q) = search(new().without_inference(), budget);
    assert_eq!(fast, slow, "{id} {func} {lock:?}: the clean patches differ");
    let counts = |p: &Progress| (p.tried, p.total, p.refused, p.undecided, p.done);
    assert_eq!(counts(&p), counts(&q), "{id} {func} {lock:?}");
    assert_eq!(q.inferred, 0);
    p.inferred
}

#[test]
fn inferred_verdicts_change_no_result_on_the_seed_race() {
    let n = same_both_ways("seed-race", Granularity::Mail, "arm_smmu_attach_dev", LockName::Asid, usize::MAX);
    assert!(n > 1000, "the seed race's search takes many verdicts from others ({n})");
}

#[test]
fn inferred_verdicts_change_no_result_for_other_locks() {
    for lock in [LockName::Sva, LockName::Devices, LockName::Init, LockName::Group, LockName::OldDevices] {
        let n = same_both_ways("seed-race", Granularity::Mail, "arm_smmu_attach_dev", lock, 1500);
        // old->devices_lock is found at run time: nothing may be taken from others there.
        assert_eq!(n == 0, lock == LockName::OldDevices, "{lock:?}: {n} inferred");
    }
}

/// Two attach_dev calls (the function has two emissions, and a section holds in both), and
/// a scenario whose race is between list_add and the CD write.
#[test]
fn inferred_verdicts_change_no_result_with_two_emissions() {
    same_both_ways("attach-storm-2", Granularity::Mail, "arm_smmu_attach_dev", LockName::Asid, 2500);
    same_both_ways("list-before-cd", Granularity::Mail, "arm_smmu_attach_dev", LockName::Asid, 2500);
}

/// The other thread's functions, with a loop over the devices list in a callee, at both
/// granularities.
#[test]
fn inferred_verdicts_change_no_result_on_share_asid() {
    same_both_ways("seed-race", Granularity::Mail, "arm_smmu_share_asid", LockName::Asid, usize::MAX);
    same_both_ways("seed-race", Granularity::Source, "arm_smmu_alloc_shared_cd", LockName::Asid, usize::MAX);
}

/// A search split into shards (run one after the other here; the CLI runs them side by
/// side) gives the whole search's result: the same patches, ranks and counts.
#[test]
fn shards_merged_are_the_whole_search() {
    use smmu_sim::patch::find::merged;
    let s = builtin::get("seed-race").unwrap();
    let new =
        || Finder::new(&s, Variant::Pre, Granularity::Mail, "arm_smmu_attach_dev", &[LockName::Asid], 20_000).unwrap();
    let (whole, p) = search(new(), usize::MAX);
    let shards: Vec<Finder> = (0..3)
        .map(|k| {
            let mut f = new().shard(k, 3);
            while !f.step(1024).done {}
            f
        })
        .collect();
    assert!(shards.iter().all(|f| f.progress().total < p.total), "each shard has a part");
    let m = merged(&shards);
    assert_eq!(m.found, whole);
    let counts = |p: &Progress| (p.tried, p.total, p.refused, p.undecided, p.done);
    assert_eq!(counts(&m.progress), counts(&p));
}
