//! Patch mode's costs: find-fix over `arm_smmu_attach_dev` on the seed race (candidates,
//! clean, undecided, seconds), and what one edit costs the page (compile the patched
//! scenario and run its schedule again).
//!
//! `cargo bench -p smmu-sim --bench findfix [-- --all-locks] [-- --source]`

use smmu_sim::patch::find::Finder;
use smmu_sim::patch::{presets, LockName};
use smmu_sim::sched::{self, Schedule};
use smmu_sim::{builtin, Granularity, Scenario, Variant};
use std::time::Instant;

fn find(g: Granularity, locks: &[LockName]) {
    let s = builtin::get("seed-race").expect("built-in");
    let start = Instant::now();
    let mut f = Finder::new(&s, Variant::Pre, g, "arm_smmu_attach_dev", locks, 20_000).expect("finder");
    while !f.step(256).done {}
    let p = f.progress();
    let real = presets::get("9f7c6891").expect("preset").patch();
    let found = f.found();
    let rank = found.iter().position(|x| x.patch == real).map_or("absent".to_string(), |r| format!("#{}", r + 1));
    let which = if locks.is_empty() { "every lock".to_string() } else { locks.iter().map(|l| l.id()).collect() };
    println!(
        "find-fix seed-race {g:?} ({which}): {} candidates, {} clean, {} undecided, {} inferred, real patch {rank}, {:.2} s",
        p.total,
        found.len(),
        p.undecided,
        p.inferred,
        start.elapsed().as_secs_f64()
    );
}

/// The same search split over two threads, as the CLI runs it on a 2-core machine.
fn find_on_two_threads(g: Granularity, locks: &[LockName]) {
    let s = builtin::get("seed-race").expect("built-in");
    let start = Instant::now();
    let f = Finder::new(&s, Variant::Pre, g, "arm_smmu_attach_dev", locks, 20_000).expect("finder");
    let shards: Vec<Finder> = std::thread::scope(|scope| {
        let running: Vec<_> = (0..2)
            .map(|k| {
                let mut f = f.clone().shard(k, 2);
                scope.spawn(move || {
                    while !f.step(256).done {}
                    f
                })
            })
            .collect();
        running.into_iter().map(|h| h.join().expect("no panic")).collect()
    });
    let m = smmu_sim::patch::find::merged(&shards);
    println!(
        "find-fix seed-race {g:?} on 2 threads: {} candidates, {} clean, {:.2} s",
        m.progress.total,
        m.found.len(),
        start.elapsed().as_secs_f64()
    );
}

fn edit_cost() {
    let s = builtin::get("seed-race").expect("built-in");
    let patched = Scenario { patch: Some(presets::get("9f7c6891").expect("preset").patch()), ..s.clone() };
    let text = s.default_schedule(Variant::Pre, Granularity::Mail).unwrap_or("").to_string();
    let n = 200;
    let start = Instant::now();
    for _ in 0..n {
        let w = patched.compile(Variant::Pre, Granularity::Mail).expect("compiles");
        let schedule = Schedule::parse(&text, &w).expect("parses");
        sched::run(&w, &schedule).expect("runs");
    }
    println!(
        "one edit (compile + run the seed race's schedule): {:.3} ms",
        start.elapsed().as_secs_f64() * 1000.0 / n as f64
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    edit_cost();
    find(Granularity::Mail, &[LockName::Asid]);
    find_on_two_threads(Granularity::Mail, &[LockName::Asid]);
    if args.iter().any(|a| a == "--all-locks") {
        find(Granularity::Mail, &[]);
    }
    if args.iter().any(|a| a == "--source") {
        find(Granularity::Source, &[LockName::Asid]);
    }
}
