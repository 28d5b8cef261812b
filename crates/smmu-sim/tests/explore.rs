//! The explorer's analyses: resumable slices give the same summary, exact interleaving
//! counts, counterexamples with the fewest context switches, shrinking of user schedules,
//! danger windows, and the `attach-storm-N` family cross-checked against brute force.

use smmu_sim::check::{self, Invariant};
use smmu_sim::exec::{self, Readiness};
use smmu_sim::explore::{self, danger_windows, switches, Explorer, Limits, Summary};
use smmu_sim::ids::ThreadId;
use smmu_sim::sched::{self, Schedule};
use smmu_sim::{builtin, Granularity, State, Variant, World};

fn world(id: &str, variant: Variant, granularity: Granularity) -> World {
    builtin::get(id).expect("built-in").compile(variant, granularity).expect("compiles")
}

fn explore(world: &World) -> Summary {
    let s = Explorer::new(world, Limits::default()).run();
    assert!(!s.limit_hit && !s.overflow && !s.graph_dropped);
    s
}

fn safety() -> smmu_sim::check::Mask {
    Invariant::ALL.iter().filter(|i| i.is_safety()).fold(0, |m, i| m | i.bit())
}

fn violates(world: &World, s: &Schedule, inv: Invariant) -> bool {
    sched::run(world, s).expect("the schedule runs").violations.iter().any(|v| v.invariant == inv)
}

#[test]
fn seed_race_pre_mail_counts_are_exact() {
    let s = explore(&world("seed-race", Variant::Pre, Granularity::Mail));
    assert_eq!(s.interleavings, 534_628_728);
    assert_eq!(s.violating, 57_320_550);
}

#[test]
fn tiny_slices_give_the_same_summary_as_run() {
    for (id, v) in [("seed-race", Variant::Pre), ("seed-race", Variant::Fix), ("attach-storm-1", Variant::Pre)] {
        let w = world(id, v, Granularity::Mail);
        let whole = Explorer::new(&w, Limits::default()).run();
        for budget in [1, 7] {
            let mut e = Explorer::new(&w, Limits::default());
            let mut slices = 0;
            while !e.step(budget).done {
                slices += 1;
            }
            assert!(slices > 10, "{id}: ran in slices");
            assert_eq!(e.summary(), whole, "{id} {v} budget {budget}");
        }
    }
}

#[test]
fn a_state_limit_stops_the_search_without_a_graph_pass() {
    let w = world("seed-race", Variant::Pre, Granularity::Mail);
    let s = Explorer::new(&w, Limits { max_states: 100 }).run();
    assert!(s.limit_hit);
    assert_eq!(s.unique_states, 100);
    assert_eq!(s.fewest_switches, None);
    assert!(danger_windows(&w, Limits { max_states: 100 }).is_err());
    let s = Explorer::new(&w, Limits::default()).with_graph_limit(100).run();
    assert!(!s.limit_hit && s.graph_dropped && s.fewest_switches.is_none() && s.shortest.is_some());
}

#[test]
fn fewest_switches_violates_with_no_more_switches_than_shortest() {
    let cases = [
        ("seed-race", Granularity::Mail),
        ("seed-race", Granularity::Source),
        ("release-race", Granularity::Mail),
        ("attach-storm-2", Granularity::Mail),
        ("unmap-during-asid-change", Granularity::Source),
    ];
    for (id, g) in cases {
        let w = world(id, Variant::Pre, g);
        let s = explore(&w);
        let (short, few) = (s.shortest.unwrap(), s.fewest_switches.unwrap());
        assert!(switches(&few) <= switches(&short), "{id} {g}: {few:?} vs {short:?}");
        let trace = sched::run(&w, &few).expect("the schedule runs");
        let first = trace.safety_violations().map(|v| v.step).min().expect("violates");
        assert_eq!(first + 1, few.0.len(), "{id} {g}: ends at its first violating step");
    }
    for g in Granularity::ALL {
        assert_eq!(explore(&world("seed-race", Variant::Fix, g)).fewest_switches, None);
    }
}

#[test]
fn shrink_keeps_the_invariant_and_never_grows() {
    let w = world("seed-race", Variant::Pre, Granularity::Mail);
    let long = Schedule::parse("CPU0*4 CPU1*6 DMA_A CPU1*4 DMA_B CPU1 CPU0*14", &w).unwrap();
    for inv in [Invariant::Inv1, Invariant::Inv2, Invariant::Inv3, Invariant::Dma, Invariant::Lock] {
        assert!(violates(&w, &long, inv), "{inv:?}");
        let small = explore::shrink(&w, &long, inv).expect("violating input shrinks");
        assert!(violates(&w, &small, inv), "{inv:?}: {small:?}");
        assert!(small.0.len() <= long.0.len());
        assert!(is_subsequence(&small, &long), "keeps the user's order");
        // 1-minimal: no single choice can go.
        for i in 0..small.0.len() {
            let mut fewer = small.0.clone();
            fewer.remove(i);
            assert!(
                !violates(&w, &Schedule(fewer, small.1.clone()), inv),
                "{inv:?}: choice {i} of {small:?} is not needed"
            );
        }
    }
    let small = explore::shrink(&w, &long, Invariant::Inv2).unwrap();
    assert!(small.0.len() < long.0.len());
    assert_eq!(explore::shrink(&w, &long, Invariant::Deadlock), None);
    let fix = world("seed-race", Variant::Fix, Granularity::Mail);
    let long = Schedule::parse("CPU0*4 CPU1*6 DMA_A CPU1*4 DMA_B CPU1 CPU0*14", &fix).unwrap();
    assert_eq!(explore::shrink(&fix, &long, Invariant::Inv2), None);
}

#[test]
fn shrink_handles_source_granularity_and_random_schedules() {
    for id in ["seed-race", "attach-storm-2"] {
        let w = world(id, Variant::Pre, Granularity::Source);
        let mut shrunk = 0;
        for seed in 0..120 {
            let s = sched::random(&w, seed);
            match explore::shrink(&w, &s, Invariant::Inv2) {
                Some(small) => {
                    assert!(violates(&w, &s, Invariant::Inv2));
                    assert!(violates(&w, &small, Invariant::Inv2));
                    assert!(small.0.len() <= s.0.len());
                    shrunk += 1;
                }
                None => assert!(!violates(&w, &s, Invariant::Inv2)),
            }
        }
        assert!(shrunk > 0, "{id}: some random schedules violate");
    }
}

fn is_subsequence(small: &Schedule, big: &Schedule) -> bool {
    let mut it = big.0.iter();
    small.0.iter().all(|t| it.any(|b| b == t))
}

#[test]
fn attach_storm_family_is_built_in() {
    let ids: Vec<_> = builtin::ids().collect();
    for n in 1..=5 {
        let id = format!("attach-storm-{n}");
        assert!(ids.contains(&id.as_str()));
        let s = builtin::get(&id).unwrap();
        assert_eq!(s.id, id);
        assert_eq!(s.threads.len(), n + 1);
        assert!(s.dma.is_empty());
        let w = s.compile(Variant::Pre, Granularity::Mail).unwrap();
        assert_eq!(w.n_threads(), n + 1);
    }
    assert!(builtin::get("attach-storm-0").is_none());
    assert!(builtin::get("attach-storm-6").is_none());
    assert!(builtin::get("attach-storm-x").is_none());
}

/// A thread and a count of its steps.
type Step = (u8, u16);

/// What brute-force enumeration of every schedule finds.
#[derive(Debug, Default)]
struct Brute {
    interleavings: u128,
    violating: u128,
    /// Fewest context switches of a path to a safety violation.
    fewest_switches: Option<usize>,
    /// Fewest steps of a path to a safety violation.
    shortest: Option<usize>,
    /// (thread, index) of b → (thread i, steps of i already run) → violating interleavings.
    hist: std::collections::BTreeMap<(Step, Step), u128>,
}

/// Depth-first over every schedule with `exec` and `check` only: no state graph, no sharing.
fn brute(world: &World, state: &State, path: &mut Vec<(u8, [u16; 8])>, violated: bool, b: &mut Brute) {
    let n = world.n_threads();
    let mut any = false;
    let mut unfinished = false;
    for t in 0..n {
        let tid = ThreadId(t as u8);
        match exec::readiness(world, state, tid) {
            Readiness::Ready => {}
            Readiness::Blocked(..) => {
                unfinished = true;
                continue;
            }
            Readiness::Finished => continue,
        }
        any = true;
        let mut next = state.clone();
        let mut counters = [0u16; 8];
        for (i, c) in counters.iter_mut().enumerate().take(n) {
            *c = state.threads[i].steps;
        }
        let outcome = exec::step(world, &mut next, tid);
        let mask = check::after_step(world, &mut next, &outcome, 0, None);
        path.push((t as u8, counters));
        let bad = mask & safety() != 0;
        if bad && !violated {
            let sw = path.windows(2).filter(|w| w[0].0 != w[1].0).count();
            b.fewest_switches = Some(b.fewest_switches.map_or(sw, |m| m.min(sw)));
            b.shortest = Some(b.shortest.map_or(path.len(), |m| m.min(path.len())));
        }
        brute(world, &next, path, violated || bad, b);
        path.pop();
    }
    if !any {
        let bad = violated || unfinished;
        b.interleavings += 1;
        if bad {
            b.violating += 1;
            for (t, counters) in path.iter() {
                let key_b = (*t, counters[usize::from(*t)]);
                for i in (0..n as u8).filter(|i| i != t) {
                    *b.hist.entry((key_b, (i, counters[usize::from(i)]))).or_default() += 1;
                }
            }
        }
    }
}

#[test]
fn attach_storm_1_matches_brute_force() {
    for v in [Variant::Pre, Variant::Fix] {
        let w = world("attach-storm-1", v, Granularity::Mail);
        let mut b = Brute::default();
        brute(&w, &w.initial, &mut Vec::new(), w.initial.broken & safety() != 0, &mut b);
        let s = explore(&w);
        assert_eq!(s.interleavings, b.interleavings, "{v}");
        assert_eq!(s.violating, b.violating, "{v}");
        assert_eq!(s.shortest.as_ref().map(|c| c.0.len()), b.shortest, "{v}");
        assert_eq!(s.fewest_switches.as_ref().map(switches), b.fewest_switches, "{v}");
        // Danger windows: before[(i, k)][(j, m)] = violating runs where thread i had run more
        // than k steps when j ran its step m.
        let map = danger_windows(&w, Limits::default()).unwrap();
        assert_eq!((map.interleavings, map.violating), (b.interleavings, b.violating));
        let ix = |t: u8, k: u16| map.steps.iter().position(|s| s.thread == ThreadId(t) && s.index == k);
        let mut expect = vec![vec![0u128; map.steps.len()]; map.steps.len()];
        for (&((j, m), (i, c)), &count) in &b.hist {
            let col = ix(j, m).expect("every step that runs has a column");
            for k in 0..c {
                expect[ix(i, k).unwrap()][col] += count;
            }
        }
        assert_eq!(map.before, expect, "{v}");
        if v == Variant::Pre {
            assert!(b.violating > 0);
        } else {
            assert_eq!(b.violating, 0);
        }
    }
}

#[test]
fn danger_windows_are_consistent_on_the_seed_race() {
    let w = world("seed-race", Variant::Pre, Granularity::Mail);
    let map = danger_windows(&w, Limits::default()).unwrap();
    assert_eq!(map.interleavings, 534_628_728);
    assert_eq!(map.violating, 57_320_550);
    let n = map.steps.len();
    assert_eq!(map.before.len(), n);
    for a in 0..n {
        assert_eq!(map.before[a][a], 0);
        assert!(map.occurs[a] <= map.violating);
        for b in 0..n {
            assert!(map.before[a][b] <= map.before_all[a][b]);
            if map.steps[a].thread == map.steps[b].thread {
                assert_eq!(map.before[a][b], 0);
            } else if map.occurs[a] == map.violating && map.occurs[b] == map.violating {
                // Both run in every violating interleaving: exactly one order each time.
                assert_eq!(map.before[a][b] + map.before[b][a], map.violating, "{a} {b}");
            }
        }
    }
    // The race: CPU1's flush of the old ASID after CPU0's list_del violates far more often
    // than before it.
    let find = |thread: &str, label: &str| {
        map.steps.iter().position(|s| s.thread_name == thread && s.label.contains(label)).unwrap()
    };
    let del = find("CPU0", "list_del");
    let flush = find("CPU1", "tlb_inv_asid");
    assert!(map.before[del][flush] > map.before[flush][del]);
    let fix = danger_windows(&world("seed-race", Variant::Fix, Granularity::Mail), Limits::default()).unwrap();
    assert_eq!(fix.violating, 0);
    assert!(fix.before.iter().flatten().all(|n| *n == 0));
}
