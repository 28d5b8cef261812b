//! The seed race and the release race: verdicts of single schedules and of every interleaving.

mod common;

use common::*;
use smmu_sim::check::Invariant::{self, Dma, Inv1, Inv2, Inv3, Lock};
use smmu_sim::{Granularity, Variant};

/// §3 of the fact sheet at mail granularity: CPU0 list_del, CPU1 share_asid through the PASID
/// CD write, with A's DMA in the window and B's DMA after the PASID CD write.
#[test]
fn seed_race_pre_breaks_each_invariant_where_the_thread_says() {
    for g in Granularity::ALL {
        let (_, t) = run_default("seed-race", Variant::Pre, g);
        let (f, label) = first_step(&t, Inv2);
        assert_eq!((f, label.as_str()), ("arm_smmu_share_asid", "arm_smmu_tlb_inv_asid(smmu, asid)"), "{g}");
        let (f, _) = first_step(&t, Inv1);
        assert_eq!(f, "arm_smmu_write_ctx_desc", "{g}");
        assert_eq!(t.first(Inv1), t.first(Inv3), "{g}: inv1 and inv3 break at the PASID CD write");
        let pasid_write = &t.steps[t.first(Inv1).unwrap()];
        assert_eq!(pasid_write.stack[0], "arm_smmu_sva_set_dev_pasid", "{g}");
        let (f, _) = first_step(&t, Dma);
        assert_eq!(f, "DMA", "{g}");
        assert!(t.first(Dma) > t.first(Inv1), "{g}: B's DMA comes after the PASID CD write");
        assert!(t.violations.iter().any(|v| v.invariant == Dma && v.message.contains("PT_z")));
    }
}

#[test]
fn seed_race_pre_exhaustive_finds_every_safety_violation() {
    for g in Granularity::ALL {
        let s = explore(&world("seed-race", Variant::Pre, g));
        for inv in [Inv1, Inv2, Inv3, Dma] {
            assert!(count(&s, inv) > 0, "{g}: {} never violated", inv.id());
        }
        assert_eq!(count(&s, Lock), s.interleavings, "{g}: the lock rule breaks in every pre-fix run");
        assert!(s.violating < s.interleavings, "{g}: some interleavings are clean");
        assert!(s.shortest.is_some());
    }
}

#[test]
fn seed_race_fixed_variants_have_no_violating_interleaving() {
    for v in [Variant::Fix, Variant::V69] {
        for g in Granularity::ALL {
            let s = explore(&world("seed-race", v, g));
            assert_eq!(s.violating, 0, "{v} {g}");
            assert!(Invariant::ALL.iter().all(|i| count(&s, *i) == 0), "{v} {g}: {:?}", s.by_invariant);
            assert!(s.interleavings > 1, "{v} {g}: real concurrency remains");
            assert!(s.shortest.is_none());
        }
    }
}

/// With the fix, the racy schedule is still accepted: CPU1 waits for arm_smmu_asid_lock and
/// the trace records where each deferred step was asked for.
#[test]
fn fixed_driver_defers_the_racy_schedule_and_holds() {
    let w = world("seed-race", Variant::Fix, Granularity::Mail);
    // CPU0 holds arm_smmu_asid_lock from its 6th step (after finalising y) to the end.
    let t = run(&w, "CPU0*8 CPU1*6 DMA_A CPU1*4 DMA_B CPU1 CPU0*14");
    assert!(t.safety_violations().next().is_none(), "{:?}", t.violations);
    let deferred: Vec<_> = t.steps.iter().filter(|s| s.waited.is_some()).collect();
    assert!(!deferred.is_empty());
    assert!(deferred.iter().all(|s| s.requested.is_some()));
    assert!(!t.deadlock);
}

#[test]
fn release_race_is_open_after_the_fix_and_closed_in_v6_9() {
    for g in Granularity::ALL {
        let fix = explore(&world("release-race", Variant::Fix, g));
        assert!(fix.violating > 0, "{g}");
        assert!(count(&fix, Inv2) > 0 && count(&fix, Inv1) > 0, "{g}");
        let v69 = explore(&world("release-race", Variant::V69, g));
        assert_eq!(v69.violating, 0, "{g}");
        assert_eq!(count(&v69, Lock), 0, "{g}");
        let (_, t) = run_default("release-race", Variant::Fix, g);
        assert!(t.first(Inv2).is_some(), "{g}: the default schedule shows the race");
    }
}

/// Every shortest counterexample replays to a violation of its invariant.
#[test]
fn counterexamples_replay() {
    let w = world("seed-race", Variant::Pre, Granularity::Source);
    let s = explore(&w);
    for (inv, sched) in &s.shortest_by_invariant {
        let t = smmu_sim::sched::run(&w, sched).expect("the schedule runs");
        assert!(t.first(*inv).is_some(), "{} does not replay", inv.id());
    }
}

/// Mostafa's question, "does this need DMA while detached?": A's lane only walks (the SMMU
/// caching through CD_A[0] with no transaction) and B's lane does DMA. Before the fix B's DMA
/// still hits an entry from PT_z that A's walk filled after share_asid's flush.
#[test]
fn seed_race_needs_no_dma_from_the_detached_master() {
    let scenario = smmu_sim::builtin::get("seed-race-walk").unwrap();
    let same =
        |s: &smmu_sim::scenario::Scenario| (s.domains.clone(), s.masters.clone(), s.threads.clone(), s.dma.clone());
    assert_eq!(same(&scenario), same(&seed_race_with_walks(&["DMA_A"])), "the seed race but for A's lane");
    for g in Granularity::ALL {
        let w = scenario.compile(Variant::Pre, g).unwrap();
        let t = run(&w, scenario.default_schedule(Variant::Pre, g).unwrap());
        let walk = t.steps.iter().position(|s| s.function == "walk").expect("A's lane walks");
        assert!(t.steps[walk].outcome.dma.is_some_and(|d| !d.transaction), "{g}");
        assert!(t.steps[walk].label.contains("no transaction"), "{g}: {}", t.steps[walk].label);
        let (f, _) = first_step(&t, Dma);
        assert_eq!(f, "DMA", "{g}: the violating access is B's transaction");
        assert!(t.first(Dma) > Some(walk), "{g}");
        assert!(t.violations.iter().all(|v| v.step != walk), "{g}: nothing is checked at a walk");
        let s = explore(&w);
        for inv in [Inv1, Inv2, Inv3, Dma] {
            assert!(count(&s, inv) > 0, "{g}: {} never violated", inv.id());
        }
        for v in [Variant::Fix, Variant::V69] {
            assert_eq!(explore(&scenario.compile(v, g).unwrap()).violating, 0, "{v} {g}");
        }
    }
}

/// A walk is not a transaction: with both lanes only walking, entries from PT_z still get
/// tagged with P's ASID, but no access is ever translated wrongly, so `dma` never breaks.
#[test]
fn walks_alone_never_violate_dma() {
    let scenario = seed_race_with_walks(&["DMA_A", "DMA_B"]);
    for g in Granularity::ALL {
        let s = explore(&scenario.compile(Variant::Pre, g).unwrap());
        assert_eq!(count(&s, Dma), 0, "{g}");
        assert!(count(&s, Inv1) > 0 && count(&s, Inv3) > 0, "{g}");
    }
}

/// The seed race with the named lanes only walking.
fn seed_race_with_walks(lanes: &[&str]) -> smmu_sim::scenario::Scenario {
    let mut scenario = smmu_sim::builtin::get("seed-race").unwrap();
    scenario.dma.iter_mut().filter(|l| lanes.contains(&l.name.as_str())).for_each(|l| l.walk_only = true);
    scenario
}

/// `walk_only` is off unless a lane says so, and the JSON form carries it.
#[test]
fn walk_only_is_a_lane_option_off_by_default() {
    let plain = smmu_sim::builtin::get("seed-race").unwrap();
    assert!(!plain.to_json().contains("walk_only"));
    let walks = seed_race_with_walks(&["DMA_A"]);
    let back = smmu_sim::scenario::Scenario::from_json(&walks.to_json()).unwrap();
    assert_eq!(back, walks);
    let w = back.compile(Variant::Pre, Granularity::Mail).unwrap();
    let lane = |name: &str| w.programs.iter().find(|p| p.name == name).unwrap();
    assert!(matches!(lane("DMA_A").instrs[0].kind, smmu_sim::program::Kind::Op(smmu_sim::program::Op::Walk(..))));
    assert!(matches!(lane("DMA_B").instrs[0].kind, smmu_sim::program::Kind::Op(smmu_sim::program::Op::Dma(..))));
}
