//! Carrying a run across variants by what its steps mean (`sched::translate`): the fix
//! switch must show the fix, not replay raw thread choices that mean another interleaving.

mod common;

use common::*;
use smmu_sim::check::Invariant;
use smmu_sim::ids::{LockId, ThreadId};
use smmu_sim::sched::{self, Schedule};
use smmu_sim::trace::Trace;
use smmu_sim::{builtin, Granularity, Variant, World};

fn safety(t: &Trace) -> Vec<&'static str> {
    let mut v: Vec<&'static str> =
        t.violations.iter().filter(|v| v.invariant.is_safety()).map(|v| v.invariant.id()).collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// The run of `from` carried to `to`, replayed by the scheduler.
fn carried(from: &Trace, to: &World) -> Trace {
    let schedule = sched::translate(from, to);
    sched::run(to, &schedule).expect("a translated schedule runs")
}

fn asid_waits(t: &Trace) -> Vec<(usize, String)> {
    t.steps
        .iter()
        .enumerate()
        .filter(|(_, s)| matches!(s.waited, Some((LockId::Asid, _))))
        .map(|(i, s)| (i, format!("{} {}", s.thread.0, s.label)))
        .collect()
}

/// Every built-in's default run, at each granularity, before the fix.
fn defaults() -> impl Iterator<Item = (&'static str, Granularity, Trace)> {
    builtin::ids().flat_map(|id| Granularity::ALL.into_iter().map(move |g| (id, g, run_default(id, Variant::Pre, g).1)))
}

/// The README's and the page's claim: flip the fix and CPU1 waits for the lock CPU0 holds,
/// with the thread's own interleaving, and every invariant holds.
#[test]
fn the_seed_race_under_the_fix_shows_cpu1_waiting_for_the_asid_lock() {
    for g in Granularity::ALL {
        let (_, pre) = run_default("seed-race", Variant::Pre, g);
        let fix = carried(&pre, &world("seed-race", Variant::Fix, g));
        assert_eq!(safety(&fix), Vec::<&str>::new(), "{g}");
        let waits: Vec<_> = fix.steps.iter().filter_map(|s| s.waited.map(|w| (s.thread, s.function, w))).collect();
        assert_eq!(
            waits,
            [(ThreadId(1), "arm_smmu_alloc_shared_cd", (LockId::Asid, ThreadId(0)))],
            "{g}: CPU1 waits once, for arm_smmu_asid_lock held by CPU0"
        );
        // CPU1 was asked for where it raced before: right after CPU0's list_del.
        let list_del = fix.steps.iter().position(|s| s.label.starts_with("list_del(A)")).unwrap();
        let waited = fix.steps.iter().find(|s| s.waited.is_some()).unwrap();
        let asked_after = fix.steps.iter().filter(|s| s.requested < waited.requested).count();
        assert!(asked_after > list_del, "{g}: CPU1 asked for after CPU0's list_del");
        // The DMA steps keep their place after CPU1's flush and its CD_B[1] write (at source
        // granularity, its last store).
        let at = |f: &dyn Fn(&smmu_sim::trace::TraceStep) -> bool| fix.steps.iter().position(f).unwrap();
        let flush = at(&|s| s.label.starts_with("arm_smmu_tlb_inv_asid"));
        let cd_b = fix.steps.iter().rposition(|s| s.label.contains("CD_B[1]")).unwrap();
        assert!(at(&|s| s.label.starts_with("A DMA")) > flush, "{g}");
        assert!(at(&|s| s.label.starts_with("B DMA")) > cd_b, "{g}");
    }
}

/// Wherever a built-in's default run violates before the fix, the same run under the fix
/// either waits for `arm_smmu_asid_lock` and holds every safety invariant, or still violates
/// because the fix does not close that race: then the exhaustive check of the fix finds it too.
#[test]
fn every_violating_default_run_carried_to_the_fix_waits_or_is_a_race_the_fix_leaves_open() {
    let mut waited = 0;
    for (id, g, pre) in defaults().filter(|(_, _, t)| !safety(t).is_empty()) {
        let fix_world = world(id, Variant::Fix, g);
        let fix = carried(&pre, &fix_world);
        if safety(&fix).is_empty() {
            assert!(!asid_waits(&fix).is_empty(), "{id} {g}: the fix run holds but shows no wait");
            waited += 1;
        } else {
            let s = explore(&fix_world);
            assert!(s.violating > 0, "{id} {g}: the fix run violates, so the fix is not safe");
        }
        assert!(!fix.deadlock, "{id} {g}");
    }
    assert!(waited >= 2 * 6, "the seed race and the storms at both granularities wait: {waited}");
}

/// Carried to its own world, a run comes back step for step.
#[test]
fn carrying_a_run_to_its_own_world_keeps_every_step() {
    for id in builtin::ids() {
        for v in Variant::ALL {
            for g in Granularity::ALL {
                let (w, t) = run_default(id, v, g);
                assert_eq!(carried(&t, &w).schedule(), t.schedule(), "{id} {v} {g}");
            }
        }
    }
}

/// A schedule of the wrong world, a trace of nothing, the longest run: no panic, a schedule
/// the target replays.
#[test]
fn translating_any_trace_gives_a_schedule_that_runs() {
    let w = world("seed-race", Variant::Fix, Granularity::Source);
    assert!(sched::run(&w, &sched::translate(&Trace::default(), &w)).is_ok());
    let (_, storm) = run_default("attach-storm-5", Variant::Pre, Granularity::Source);
    let t = sched::translate(&storm, &w);
    assert!(sched::run(&w, &t).is_ok(), "a storm's steps carried to the seed race");
    assert!(t.0.len() <= sched::MAX_LEN);
    let _ = Schedule::default();
    let _ = Invariant::Inv1;
}
