//! Presentation data: timeline blocks, schedule edits, invariant status and tables.

mod common;

use common::*;
use smmu_sim::check::Invariant;
use smmu_sim::sched;
use smmu_sim::view;
use smmu_sim::{Granularity, Variant};

#[test]
fn blocks_follow_the_trace_and_number_steps_per_lane() {
    let (w, t) = run_default("seed-race", Variant::Pre, Granularity::Mail);
    let blocks = view::blocks(&w, &t);
    assert_eq!(blocks.len(), t.steps.len());
    let cpu1: Vec<usize> = blocks.iter().filter(|b| b.lane == 1).map(|b| b.nth).collect();
    assert_eq!(cpu1, (0..cpu1.len()).collect::<Vec<_>>());
    let tlbi = blocks.iter().find(|b| b.violations.contains(&"inv2")).unwrap();
    assert_eq!(tlbi.function, "arm_smmu_share_asid");
    assert!(tlbi.url.as_deref().unwrap().contains("arm-smmu-v3-sva.c#L103"), "{:?}", tlbi.url);
    assert_eq!(view::lanes(&w)[0].title, "arm_smmu_attach_dev");
}

/// Moving CPU1's first step to after CPU0's last one moves all of CPU1 after CPU0
/// (its lane-mates are pushed along) and the race disappears.
#[test]
fn moving_a_block_keeps_lane_order_and_can_clear_the_race() {
    let (w, t) = run_default("seed-race", Variant::Pre, Granularity::Mail);
    let schedule = t.schedule();
    let first_cpu1 = schedule.0.iter().position(|x| x.0 == 1).unwrap();
    let last = schedule.0.len() - 1;
    let mut moved = schedule.clone();
    let n_cpu1 = schedule.0.iter().filter(|x| x.0 == 1).count();
    for _ in 0..n_cpu1 {
        moved = view::move_step(&moved, first_cpu1, last);
    }
    assert_eq!(moved.0.len(), schedule.0.len());
    let t2 = sched::run(&w, &moved).expect("the schedule runs");
    assert!(t2.safety_violations().next().is_none(), "{:?}", t2.violations);
    assert_eq!(view::move_step(&schedule, 999, 0), schedule, "out of range is a no-op");
}

#[test]
fn invariant_status_follows_the_cursor() {
    let (w, t) = run_default("seed-race", Variant::Pre, Granularity::Mail);
    let at = |c: Option<usize>, inv: Invariant| {
        view::invariant_status(&w, &t, c).into_iter().find(|s| s.invariant == inv).unwrap()
    };
    let inv2 = t.first(Invariant::Inv2).unwrap();
    assert!(!at(None, Invariant::Inv2).broken);
    assert!(!at(Some(inv2 - 1), Invariant::Inv2).broken);
    assert!(at(Some(inv2), Invariant::Inv2).broken);
    assert_eq!(at(None, Invariant::Inv2).first, Some(inv2));
    let inv1 = t.first(Invariant::Inv1).unwrap();
    assert!(at(Some(inv1), Invariant::Inv1).broken);
    assert!(!at(Some(t.steps.len() - 1), Invariant::Inv1).broken, "inv1 holds again once A's STE aborts");
}

#[test]
fn tables_show_the_hardware_and_driver_state() {
    let (w, t) = run_default("seed-race", Variant::Pre, Granularity::Mail);
    let i = t.first(Invariant::Inv1).unwrap();
    let tables = view::tables(&w, &t.states[i]);
    let cd = |o: &str| tables.cds.iter().find(|r| r.object == o).unwrap().cells.clone();
    assert_eq!(cd("CD_A[0]")[2..6], ["1", "PT_z", "1", "live"]);
    assert_eq!(cd("CD_B[1]")[2..6], ["1", "PT_P", "0", "live"]);
    assert!(tables.locks.iter().any(|r| r.cells == ["sva_lock", "CPU1"]));
    let changed: Vec<String> = view::changes_at(&w, &t, i).into_iter().map(|c| c.object).collect();
    assert_eq!(changed, ["CD_B[1]"]);
}

/// The danger map's "load one": a violating run with the asked order, found the same way
/// every time; none in a kernel where no run violates.
#[test]
fn a_violating_run_with_a_given_order_is_found_and_none_under_the_fix() {
    use smmu_sim::ids::ThreadId;
    use smmu_sim::view::violating_with_order;
    let w = common::world("seed-race", smmu_sim::Variant::Pre, smmu_sim::Granularity::Mail);
    // CPU0's list_del (its step 2) before CPU1's first step: the race's own order.
    let (a, b) = ((ThreadId(0), 2), (ThreadId(1), 0));
    let s = violating_with_order(&w, a, b).expect("the seed race has such runs");
    assert_eq!(violating_with_order(&w, a, b), Some(s.clone()), "the same run every time");
    let t = smmu_sim::sched::run(&w, &s).unwrap();
    assert!(t.safety_violations().next().is_some());
    let pos = |(th, k): (ThreadId, u16)| {
        t.steps.iter().enumerate().filter(|(_, x)| x.thread == th).nth(usize::from(k)).unwrap().0
    };
    assert!(pos(a) < pos(b));
    let fix = common::world("seed-race", smmu_sim::Variant::Fix, smmu_sim::Granularity::Mail);
    assert_eq!(violating_with_order(&fix, a, b), None);
}
