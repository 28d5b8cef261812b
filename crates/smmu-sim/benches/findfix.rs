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
    if args.iter().any(|a| a == "--all-locks") {
        find(Granularity::Mail, &[]);
    }
    if args.iter().any(|a| a == "--source") {
        find(Granularity::Source, &[LockName::Asid]);
    }
}
