//! ASID symmetry keeps every number but the graph's size: on the built-in scenarios, the
//! search over states up to ASID renaming gives exactly the counts, per-invariant counts,
//! counterexample lengths and danger windows of the search over all states, with partial-order
//! reduction off and on, and visits fewer states wherever threads allocate ASIDs in turn.

use smmu_sim::explore::{switches, DangerMap, Explorer, Limits, Summary};
use smmu_sim::scenario::Call;
use smmu_sim::{builtin, sched, Granularity, Variant, World};

fn world(id: &str, variant: Variant, granularity: Granularity) -> World {
    builtin::get(id).expect("built-in").compile(variant, granularity).expect("compiles")
}

fn run(world: &World, reduce: bool, symmetry: bool) -> (Summary, Option<DangerMap>) {
    let mut e = Explorer::new(world, Limits::default()).with_reduction(reduce).with_symmetry(symmetry);
    let s = e.run();
    assert!(!s.limit_hit && !s.overflow && !s.graph_dropped, "{}: complete", world.id);
    assert_eq!(s.symmetry, symmetry);
    (s, (!reduce).then(|| e.danger_windows().expect("danger windows")))
}

/// The numbers that must not depend on symmetry.
fn numbers(s: &Summary) -> impl PartialEq + std::fmt::Debug {
    let lens = |v: &[(smmu_sim::check::Invariant, sched::Schedule)]| {
        v.iter().map(|(i, s)| (*i, s.0.len())).collect::<Vec<_>>()
    };
    let few = s.fewest_switches.as_ref().map(|f| (switches(f), f.0.len()));
    (
        s.interleavings,
        s.violating,
        s.by_invariant.clone(),
        s.shortest.as_ref().map(|x| x.0.len()),
        lens(&s.shortest_by_invariant),
        few,
    )
}

/// The danger matrix without the graph's size.
fn matrix(d: DangerMap) -> DangerMap {
    DangerMap { unique_states: 0, transitions: 0, ..d }
}

#[test]
fn symmetry_keeps_every_count_on_the_built_in_scenarios() {
    for id in
        ["seed-race", "release-race", "attach-storm-1", "attach-storm-2", "attach-storm-3", "unmap-during-asid-change"]
    {
        for v in Variant::ALL {
            for g in Granularity::ALL {
                if id == "attach-storm-3" && (g == Granularity::Source || v == Variant::Pre) {
                    continue;
                }
                let w = world(id, v, g);
                for reduce in [false, true] {
                    let case = format!("{id} {v} {g} reduce={reduce}");
                    let ((all, all_danger), (sym, sym_danger)) = (run(&w, reduce, false), run(&w, reduce, true));
                    assert_eq!(numbers(&sym), numbers(&all), "{case}");
                    assert_eq!(sym_danger.map(matrix), all_danger.map(matrix), "{case}");
                    assert!(sym.unique_states <= all.unique_states, "{case}");
                    if id.starts_with("attach-storm") && id != "attach-storm-1" {
                        assert!(sym.unique_states < all.unique_states, "{case}: merges states");
                    }
                    for schedule in sym.shortest.iter().chain(&sym.fewest_switches) {
                        assert!(
                            sched::run(&w, schedule).expect("the schedule runs").safety_violations().next().is_some(),
                            "{case}: {schedule:?}"
                        );
                    }
                }
            }
        }
    }
}

/// attach-storm-3 PRE at mail granularity, exactly: its 523,898 states are 167,850 up to
/// ASID renaming, with the same counts.
#[test]
fn attach_storm_3_pre_merges_states_and_keeps_its_counts() {
    let w = world("attach-storm-3", Variant::Pre, Granularity::Mail);
    let (all, _) = run(&w, false, false);
    let (sym, _) = run(&w, false, true);
    assert_eq!((all.unique_states, sym.unique_states), (523_898, 167_850));
    assert_eq!(numbers(&sym), numbers(&all));
}

/// A world that frees ASIDs is searched state by state, and says so. Renaming would merge
/// states that do not behave alike there: from a state whose xa holds ASIDs 1-4 and its
/// canonical form, freeing y1's ASID leaves {1, 2, 3} in one and {1, 3, 4} in the other,
/// with y1's stale ASID 4 or 2; and once two ASIDs of a run are free, which one comes back
/// first depends on their order. Here CPU0 binds and unbinds its SVA master (which frees the
/// shared descriptor's ASID), and CPU1 moves M1 to y1, back to z, and frees y1.
#[test]
fn a_world_that_frees_asids_is_searched_without_symmetry() {
    let mut scenario = builtin::attach_storm(2);
    scenario.threads[0].calls.push(Call::SvaRemoveDevPasid { master: "S".into(), pasid: 1 });
    let back = Call::AttachDev { master: "M1".into(), domain: "z".into() };
    scenario.threads[1].calls.extend([back, Call::DomainFree { domain: "y1".into() }]);
    for v in Variant::ALL {
        let w = scenario.compile(v, Granularity::Mail).expect("compiles");
        assert!(!Explorer::new(&w, Limits::default()).summary().symmetry, "{v}");
    }
    let w = scenario.compile(Variant::Pre, Granularity::Mail).expect("compiles");
    let asked = Explorer::new(&w, Limits::default()).run();
    assert!(!asked.symmetry);
    assert_eq!(asked, Explorer::new(&w, Limits::default()).with_symmetry(false).run());
}
