//! Partial-order reduction keeps every verdict: on the built-in scenarios, the reduced search
//! finds exactly the invariants the full search finds violated (deadlock included), visits
//! no more states, and each counterexample it returns replays to its violation.

use smmu_sim::check::Invariant;
use smmu_sim::explore::{Explorer, Limits, Summary};
use smmu_sim::{builtin, sched, Granularity, Variant, World};

fn world(id: &str, variant: Variant, granularity: Granularity) -> World {
    builtin::get(id).expect("built-in").compile(variant, granularity).expect("compiles")
}

fn run(world: &World, reduce: bool) -> Summary {
    let s = Explorer::new(world, Limits::default()).with_reduction(reduce).with_symmetry(false).run();
    assert!(!s.limit_hit && !s.overflow, "{}: complete", world.id);
    assert_eq!(s.reduced, reduce);
    s
}

fn violated(s: &Summary) -> Vec<Invariant> {
    s.by_invariant.iter().filter(|(_, n)| *n > 0).map(|(i, _)| *i).collect()
}

/// Every built-in whose full search completes in well under a second: all of the seed race,
/// the release race, attach-storm-1 and -2, attach-storm-3 at mail granularity (its
/// source-granularity PRE and attach-storm-4/5 are benchmark cases), and the invalidation
/// scenarios.
fn cases() -> Vec<(String, Variant, Granularity)> {
    let mut out = Vec::new();
    for id in [
        "seed-race",
        "release-race",
        "attach-storm-1",
        "attach-storm-2",
        "attach-storm-3",
        "unmap-during-asid-change",
        "sva-unbind-reuse",
    ] {
        for v in Variant::ALL {
            for g in Granularity::ALL {
                if id != "attach-storm-3" || g == Granularity::Mail || v != Variant::Pre {
                    out.push((id.to_string(), v, g));
                }
            }
        }
    }
    out
}

#[test]
fn reduction_keeps_every_verdict_on_the_built_in_scenarios() {
    for (id, v, g) in cases() {
        let w = world(&id, v, g);
        let (full, reduced) = (run(&w, false), run(&w, true));
        let case = format!("{id} {v} {g}");
        assert_eq!(violated(&reduced), violated(&full), "{case}");
        assert_eq!(reduced.violating > 0, full.violating > 0, "{case}");
        assert!(reduced.unique_states < full.unique_states, "{case}: reduces");
        assert!(reduced.transitions < full.transitions, "{case}: reduces");
        assert_eq!(reduced.shortest.is_some(), full.shortest.is_some(), "{case}");
        for (inv, schedule) in &reduced.shortest_by_invariant {
            let trace = sched::run(&w, schedule).expect("the schedule runs");
            let found =
                trace.violations.iter().any(|x| x.invariant == *inv) || (*inv == Invariant::Deadlock && trace.deadlock);
            assert!(found, "{case}: the {inv:?} counterexample {schedule:?} replays to it");
        }
    }
}

/// The reduced graph of the seed race, exactly: what it visits and what it counts.
#[test]
fn seed_race_reduced_counts_are_exact() {
    let pre = run(&world("seed-race", Variant::Pre, Granularity::Mail), true);
    assert_eq!((pre.unique_states, pre.transitions), (1706, 3143));
    assert_eq!((pre.interleavings, pre.violating), (5_217_966, 1_140_000));
    let fix = run(&world("seed-race", Variant::Fix, Granularity::Mail), true);
    assert_eq!((fix.unique_states, fix.transitions), (936, 1584));
    assert_eq!((fix.interleavings, fix.violating), (31_352, 0));
}
