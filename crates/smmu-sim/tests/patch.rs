//! Patches: the 9f7c6891 preset turns `pre` into `fix`, and presets that restate mutations
//! give the mutations' programs, for every built-in at both granularities.

mod common;

use smmu_sim::explore::{Explorer, Limits};
use smmu_sim::mutation::Mutation;
use smmu_sim::patch::{self, presets, Patch};
use smmu_sim::program::Program;
use smmu_sim::{builtin, Granularity, Scenario, Variant, World};

const GRANULARITIES: [Granularity; 2] = [Granularity::Mail, Granularity::Source];

/// What a thread does, without the source lines (which differ between commits) and labels.
fn shape(p: &Program) -> Vec<String> {
    p.instrs.iter().map(|i| format!("{:?} {} {} {:?}", i.kind, i.visible, i.function, i.stack)).collect()
}

fn patched(s: &Scenario, p: &Patch) -> Scenario {
    Scenario { patch: Some(p.clone()), ..s.clone() }
}

fn same_programs(a: &World, b: &World, what: &str) {
    assert_eq!(a.programs.len(), b.programs.len(), "{what}");
    for (x, y) in a.programs.iter().zip(&b.programs) {
        assert_eq!(shape(x), shape(y), "{what}: thread {}", x.name);
    }
}

#[test]
fn the_fix_preset_on_pre_gives_the_fix_programs_everywhere() {
    let fix = presets::get("9f7c6891").unwrap().patch();
    patch::check(&fix, None).unwrap();
    for s in builtin::all() {
        for g in GRANULARITIES {
            let a = patched(&s, &fix).compile(Variant::Pre, g).unwrap();
            let b = s.compile(Variant::Fix, g).unwrap();
            same_programs(&a, &b, &format!("{} at {g:?}", s.id));
        }
    }
}

/// Same programs give the same counts; this runs the explorer on both anyway, on every
/// built-in small enough to finish quickly at both granularities.
#[test]
fn the_fix_preset_on_pre_gives_the_fix_counts_and_verdicts() {
    let fix = presets::get("9f7c6891").unwrap().patch();
    let limits = Limits { max_states: 3_000 };
    let mut compared = 0;
    for s in builtin::all() {
        for g in GRANULARITIES {
            let a = Explorer::new(&patched(&s, &fix).compile(Variant::Pre, g).unwrap(), limits).run();
            let b = Explorer::new(&s.compile(Variant::Fix, g).unwrap(), limits).run();
            assert_eq!(format!("{:?}", a.by_invariant), format!("{:?}", b.by_invariant), "{} {g:?}", s.id);
            assert_eq!((a.interleavings, a.violating, a.limit_hit), (b.interleavings, b.violating, b.limit_hit));
            compared += usize::from(!a.limit_hit);
        }
    }
    assert!(compared >= 10, "only {compared} complete comparisons");
}

#[test]
fn presets_that_restate_mutations_give_their_programs() {
    for (id, m) in [("cd-before-list", Mutation::CdBeforeList), ("no-cd-clear", Mutation::NoCdClear)] {
        let p = presets::get(id).unwrap().patch();
        patch::check(&p, None).unwrap();
        for s in builtin::all().into_iter().filter(|s| s.mutations.is_empty()) {
            for g in GRANULARITIES {
                let a = patched(&s, &p).compile(Variant::Pre, g).unwrap();
                let b = Scenario { mutations: vec![m], ..s.clone() }.compile(Variant::Pre, g).unwrap();
                same_programs(&a, &b, &format!("{id} on {} at {g:?}", s.id));
            }
        }
    }
}

#[test]
fn every_preset_names_steps_its_base_has() {
    for p in presets::PRESETS {
        patch::check(&p.patch(), None).unwrap_or_else(|e| panic!("{}: {e}", p.id));
    }
}

#[test]
fn a_patch_applies_only_to_its_base_variant() {
    let fix = presets::get("9f7c6891").unwrap().patch();
    let s = builtin::get("seed-race").unwrap();
    for v in [Variant::Fix, Variant::V69] {
        let a = patched(&s, &fix).compile(v, Granularity::Mail).unwrap();
        same_programs(&a, &s.compile(v, Granularity::Mail).unwrap(), v.name());
    }
}

/// The violated invariants of `scenario` under preset `id`, at a granularity.
fn verdict(id: &str, scenario: &str, g: Granularity) -> Vec<&'static str> {
    let p = presets::get(id).unwrap().patch();
    let s = patched(&builtin::get(scenario).unwrap(), &p);
    let summary = common::explore(&s.compile(p.base, g).unwrap());
    summary.by_invariant.iter().filter(|(_, n)| *n > 0).map(|(i, _)| i.id()).collect()
}

/// The alternatives reviewers ask about, on the seed race and its neighbours, at both
/// granularities. `cd-before-list` and `no-cd-clear` give the mutations' programs (above), so
/// their verdicts are the `*-swapped` / `stale-cd-reuse` built-ins' own.
#[test]
fn the_alternatives_verdicts() {
    let racy = vec!["inv1", "inv2", "inv3", "dma", "lock"];
    for g in GRANULARITIES {
        // Holding the lock across detach alone closes the seed race: detach clears CD[0]
        // under it, so share_asid never sees A's stale descriptor, and the CD write later
        // runs under the lock again. It still breaks the fix's design rule (A is on y's list
        // with the lock free before its CD[0] holds y's ASID), and leaves release-race open.
        assert_eq!(verdict("lock-around-detach", "seed-race", g), vec!["lock"], "{g:?}");
        assert_eq!(verdict("lock-around-detach", "release-race", g), racy, "{g:?}");
        // Taking the lock after detach reopens the seed race's window.
        assert_eq!(verdict("lock-after-detach", "seed-race", g), racy, "{g:?}");
        // Without sva_lock the binds no longer serialise, but these scenarios have one bind
        // each, and CPU ASIDs are unique per mm, so nothing breaks (kernel-model §5.11).
        assert!(verdict("no-sva-lock", "seed-race", g).is_empty(), "{g:?}");
        assert!(verdict("no-sva-lock", "two-bonds-unbind", g).is_empty(), "{g:?}");
    }
}

#[test]
fn bad_patches_are_refused_at_the_edit() {
    let bad = |lines: &[&str]| {
        let edits = lines.iter().map(|l| l.parse().unwrap()).collect();
        patch::check(&Patch { base: Variant::Pre, edits }, None).unwrap_err()
    };
    let e = bad(&["delete arm_smmu_attach_dev asid_lock#1", "delete arm_smmu_attach_dev asid_lock#9"]);
    assert!(e.starts_with("edit 2 (delete arm_smmu_attach_dev asid_lock#9): "), "{e}");
    assert!(e.contains("its steps: sva_check#1"), "{e}");
    let e = bad(&["delete arm_smmu_frobnicate x#1"]);
    assert!(e.contains("not a function the model has in pre"), "{e}");
}

/// A move that would put the "already finalised" branch after the place it lands (a loop) is
/// refused when the scenario compiles, naming the edit.
#[test]
fn a_move_that_makes_a_loop_is_refused() {
    let p = Patch {
        base: Variant::Pre,
        edits: vec!["move arm_smmu_attach_dev finalise#1 after init_mutex_unlock#1".parse().unwrap()],
    };
    let s = patched(&builtin::get("seed-race").unwrap(), &p);
    let e = s.compile(Variant::Pre, Granularity::Mail).unwrap_err().to_string();
    assert!(e.contains("edit 1 (move arm_smmu_attach_dev finalise#1 after init_mutex_unlock#1)"), "{e}");
}

/// A deadlocking patch is a verdict: finalise takes arm_smmu_asid_lock itself, so holding it
/// across finalise blocks the thread on its own lock.
#[test]
fn a_lock_held_across_finalise_deadlocks() {
    let p = Patch {
        base: Variant::Pre,
        edits: vec![
            "insert arm_smmu_attach_dev lock arm_smmu_asid_lock before init_mutex_lock#1".parse().unwrap(),
            "insert arm_smmu_attach_dev unlock arm_smmu_asid_lock end".parse().unwrap(),
        ],
    };
    let s = patched(&builtin::get("seed-race").unwrap(), &p);
    let summary = common::explore(&s.compile(Variant::Pre, Granularity::Mail).unwrap());
    let deadlock = summary.by_invariant.iter().find(|(i, _)| i.id() == "deadlock").unwrap().1;
    assert_eq!(deadlock, summary.interleavings, "every run deadlocks");
}

/// A patch that deletes the unlock leaves `arm_smmu_asid_lock` held when CPU0 finishes, in
/// every run: the `lockuse` count is every interleaving, not 0 (it has its own count lane).
#[test]
fn a_deleted_unlock_breaks_lockuse_in_every_run() {
    let p = Patch { base: Variant::Pre, edits: vec!["delete arm_smmu_attach_dev asid_unlock#1".parse().unwrap()] };
    let s = patched(&builtin::get("seed-race").unwrap(), &p);
    let summary = common::explore(&s.compile(Variant::Pre, Granularity::Mail).unwrap());
    let lockuse = summary.by_invariant.iter().find(|(i, _)| i.id() == "lockuse").unwrap().1;
    assert!(lockuse > 0 && lockuse <= summary.violating, "lockuse {lockuse} of {}", summary.interleavings);
}

/// Find-fix on the seed race over `arm_smmu_attach_dev` with `arm_smmu_asid_lock` returns
/// the real patch (9f7c6891 as a move of detach and one critical section), and every patch
/// it ranks above it is clean on an independent exhaustive run.
#[test]
fn find_fix_returns_the_real_patch_on_the_seed_race() {
    use smmu_sim::patch::find::{recheck, Finder};
    use smmu_sim::patch::LockName;
    let s = builtin::get("seed-race").unwrap();
    let mut f =
        Finder::new(&s, Variant::Pre, Granularity::Mail, "arm_smmu_attach_dev", &[LockName::Asid], 20_000).unwrap();
    while !f.step(512).done {}
    let found = f.found();
    let real = presets::get("9f7c6891").unwrap().patch();
    let rank = found.iter().position(|x| x.patch == real).expect("the real patch is found");
    assert!(found[rank].keeps_lock_rule, "the real patch keeps the fix's lock rule");
    for x in found.iter().take(3).chain(std::iter::once(&found[rank])) {
        let full = recheck(&s, &x.patch, Granularity::Mail, 5_000_000).unwrap();
        assert!(!full.limit_hit);
        assert!(full.by_invariant.iter().all(|(i, n)| !i.is_safety() || *n == 0), "{:?}", x.patch);
    }
    // Sizes and held steps never decrease down the ranking.
    assert!(found.windows(2).all(|w| (w[0].size, w[0].held) <= (w[1].size, w[1].held)));
}

/// The steps a patch moved carry the mark the timeline shows; inserted and untouched ones do
/// not. Under 9f7c6891 the moved unit is the detach call.
#[test]
fn moved_steps_are_marked() {
    use smmu_sim::view;
    let s = builtin::get("seed-race").unwrap();
    let fix = smmu_sim::patch::presets::get("9f7c6891").unwrap().patch();
    let patched = smmu_sim::Scenario { patch: Some(fix), ..s.clone() };
    for (scenario, want) in [(&s, false), (&patched, true)] {
        let w = scenario.compile(Variant::Pre, Granularity::Mail).unwrap();
        let t = smmu_sim::sched::run(&w, &smmu_sim::sched::Schedule::default()).unwrap();
        let blocks = view::blocks(&w, &t);
        let moved: Vec<&str> = blocks.iter().filter(|b| b.moved).map(|b| b.function).collect();
        let detach =
            ["arm_smmu_detach_dev"; 3].into_iter().chain(["arm_smmu_install_ste_for_dev", "arm_smmu_write_ctx_desc"]);
        assert_eq!(moved, if want { detach.collect() } else { Vec::new() });
        assert!(blocks.iter().all(|b| !(b.moved && b.patched)));
    }
}
