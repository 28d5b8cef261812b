//! Helpers shared by the integration tests.
#![allow(dead_code)]

use smmu_sim::check::Invariant;
use smmu_sim::explore::{Explorer, Limits, Summary};
use smmu_sim::sched::{self, Schedule};
use smmu_sim::trace::Trace;
use smmu_sim::{builtin, Granularity, Variant, World};

/// A built-in scenario compiled for a variant and granularity.
pub fn world(id: &str, variant: Variant, granularity: Granularity) -> World {
    builtin::get(id).expect("built-in").compile(variant, granularity).expect("compiles")
}

/// Runs a schedule given as text.
pub fn run(world: &World, schedule: &str) -> Trace {
    sched::run(world, &Schedule::parse(schedule, world).expect("schedule parses")).expect("the schedule runs")
}

/// Runs the scenario's default schedule.
pub fn run_default(id: &str, variant: Variant, granularity: Granularity) -> (World, Trace) {
    let w = world(id, variant, granularity);
    let text = builtin::get(id).unwrap().default_schedule(variant, granularity).unwrap_or("").to_string();
    let t = run(&w, &text);
    (w, t)
}

/// Explores every interleaving.
pub fn explore(world: &World) -> Summary {
    let s = Explorer::new(world, Limits::default()).run();
    assert!(!s.limit_hit && !s.overflow, "exploration must complete");
    s
}

/// Interleavings violating one invariant.
pub fn count(s: &Summary, inv: Invariant) -> u128 {
    s.by_invariant.iter().find(|(i, _)| *i == inv).map(|(_, n)| *n).unwrap()
}

/// The (function, label) of the step where `inv` first broke.
pub fn first_step(t: &Trace, inv: Invariant) -> (&'static str, String) {
    let i = t.first(inv).unwrap_or_else(|| panic!("{} not violated", inv.id()));
    (t.steps[i].function, t.steps[i].label.clone())
}

/// Checks that README.md holds `body` between the lines `start` and `end`; with
/// `UPDATE_EXPECT` set, writes it there instead. `how` names the command that re-renders it.
pub fn readme_block(start: &str, end: &str, body: &str, how: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md");
    let readme = std::fs::read_to_string(path).expect("README.md");
    let (head, rest) = readme.split_once(start).expect("the README has the block's start marker");
    let (_, tail) = rest.split_once(end).expect("the README has the block's end marker");
    let want = format!("{head}{start}\n{body}{end}{tail}");
    if std::env::var_os("UPDATE_EXPECT").is_some() {
        std::fs::write(path, &want).expect("README.md is writable");
        return;
    }
    assert!(readme == want, "a README table is stale: run UPDATE_EXPECT=1 {how}\n{body}");
}

/// A number with thousands separators, as the README writes it.
pub fn grouped(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
