//! Exact interleaving counts on small scenarios, checked three ways: a closed formula, a
//! brute-force enumeration of every schedule, and the explorer's path counting.

mod common;

use common::*;
use smmu_sim::check::{self, Invariant};
use smmu_sim::exec::{self, Readiness};
use smmu_sim::ids::ThreadId;
use smmu_sim::sched::{self, Schedule};
use smmu_sim::{Granularity, Scenario, Variant, World};

/// DMA lanes only: lanes of `lens` transactions by master A (no locks, no blocking).
fn lanes(lens: &[usize]) -> World {
    let dma: Vec<String> = lens
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let acc = vec!["[0, 4096]"; *n].join(", ");
            format!(r#"{{ "name": "L{i}", "master": "A", "accesses": [{acc}] }}"#)
        })
        .collect();
    let json = format!(
        r#"{{ "format": 1, "id": "lanes", "title": "DMA lanes", "variant": "pre", "granularity": "mail",
        "page_tables": [{{ "name": "PT", "map": [[4096, 8192]] }}],
        "domains": [{{ "name": "d", "stage": "s1", "page_table": "PT", "id": 1 }}],
        "masters": [{{ "name": "A", "domain": "d" }}],
        "threads": [], "dma": [{}] }}"#,
        dma.join(", ")
    );
    Scenario::from_json(&json).unwrap().compile(Variant::Pre, Granularity::Mail).unwrap()
}

/// Counts complete interleavings and safety-violating ones by trying every schedule.
fn brute_force(world: &World) -> (u128, u128) {
    fn go(world: &World, state: &smmu_sim::State, violated: bool, out: &mut (u128, u128)) {
        let ready: Vec<ThreadId> = (0..world.n_threads())
            .map(|i| ThreadId(i as u8))
            .filter(|t| exec::readiness(world, state, *t) == Readiness::Ready)
            .collect();
        if ready.is_empty() {
            out.0 += 1;
            out.1 += u128::from(violated);
            return;
        }
        for t in ready {
            let mut next = state.clone();
            let outcome = exec::step(world, &mut next, t);
            let mask = check::after_step(world, &mut next, &outcome, 0, None);
            let safety = Invariant::ALL.iter().filter(|i| i.is_safety()).any(|i| mask & i.bit() != 0);
            go(world, &next, violated || safety, out);
        }
    }
    let mut out = (0, 0);
    go(world, &world.initial, false, &mut out);
    out
}

/// The brute force agrees with replaying a schedule through the scheduler.
#[test]
fn brute_force_agrees_with_the_scheduler() {
    let w = world("seed-race", Variant::Pre, Granularity::Mail);
    let t = sched::run(&w, &Schedule::parse("CPU0*4 CPU1*6", &w).unwrap()).expect("the schedule runs");
    assert!(t.safety_violations().next().is_some());
}

/// Two lanes of two steps: a a b b, a b a b, a b b a, b a a b, b a b a, b b a a = C(4,2) = 6.
#[test]
fn two_lanes_of_two_steps_have_6_interleavings() {
    let w = lanes(&[2, 2]);
    assert_eq!(explore(&w).interleavings, 6);
    assert_eq!(brute_force(&w), (6, 0));
}

/// Three steps each: C(6,3) = 20.
#[test]
fn two_lanes_of_three_steps_have_20_interleavings() {
    let w = lanes(&[3, 3]);
    assert_eq!(explore(&w).interleavings, 20);
    assert_eq!(brute_force(&w).0, 20);
}

/// Three lanes of 1, 2 and 3 steps: 6! / (1! 2! 3!) = 60.
#[test]
fn three_lanes_of_1_2_3_steps_have_60_interleavings() {
    let w = lanes(&[1, 2, 3]);
    assert_eq!(explore(&w).interleavings, 60);
    assert_eq!(brute_force(&w).0, 60);
}

/// The seed race without DMA lanes, at mail granularity: the explorer's path counts equal a
/// brute-force enumeration of every schedule, violating or not, for each variant.
#[test]
fn seed_race_counts_match_brute_force() {
    let mut scenario = smmu_sim::builtin::get("seed-race").unwrap();
    scenario.dma.clear();
    for v in Variant::ALL {
        let w = scenario.compile(v, Granularity::Mail).unwrap();
        let s = explore(&w);
        assert_eq!((s.interleavings, s.violating), brute_force(&w), "{v}");
    }
}

/// The numbers the README quotes (seed race, pre-fix, mail granularity, both DMA lanes).
#[test]
fn seed_race_pre_mail_counts() {
    let s = explore(&world("seed-race", Variant::Pre, Granularity::Mail));
    assert_eq!((s.interleavings, s.violating), (534_628_728, 57_320_550));
}

/// The README's table of the seed race: every variant at both granularities, exhaustive.
#[test]
fn the_readme_seed_race_table_is_the_explorer() {
    let mut body = String::from(
        "| variant | granularity | unique states (up to ASID renaming) | interleavings | violating | inv1 | inv2 | inv3 | dma |\n\
         |---|---|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for v in Variant::ALL {
        for g in [Granularity::Mail, Granularity::Source] {
            let s = explore(&world("seed-race", v, g));
            // The first row of a variant names its commit, as the kernel's history does.
            let name = match (g, v) {
                (Granularity::Source, _) => v.to_string(),
                (_, Variant::Pre) => "pre (71b0aa10)".to_string(),
                (_, Variant::Fix) => "fix (9f7c68911579)".to_string(),
                (_, Variant::V69) => "v6.9 (327e10b4)".to_string(),
            };
            let invs = [Invariant::Inv1, Invariant::Inv2, Invariant::Inv3, Invariant::Dma];
            let cells: Vec<String> = invs.iter().map(|i| grouped(count(&s, *i))).collect();
            body.push_str(&format!(
                "| {name} | {g} | {} | {} | {} | {} |\n",
                grouped(u128::from(s.unique_states)),
                grouped(s.interleavings),
                grouped(s.violating),
                cells.join(" | ")
            ));
        }
    }
    readme_block(
        "<!-- seed race table: rendered by crates/smmu-sim/tests/counts.rs -->",
        "<!-- end of seed race table -->",
        &body,
        "cargo test -p smmu-sim --test counts",
    );
}
