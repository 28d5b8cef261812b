//! Any text given as a link or a scenario file, run the way the page and the CLI run it: for
//! every variant and granularity, compile it, run its schedule and round-robin, and explore
//! up to a few hundred states. Nothing panics, every run ends within the limits, schedule
//! text reads back, and every counterexample the explorer gives replays to its violation.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smmu_sim::check::Invariant;
use smmu_sim::explore::{Explorer, Limits};
use smmu_sim::limits::MAX_TRACE;
use smmu_sim::sched::{self, Schedule};
use smmu_sim::{share, Granularity, Scenario, Variant, World};

/// States the explorer may visit per world: enough to reach the races of small scenarios.
const MAX_STATES: u64 = 200;

/// A scenario and, when it came from a link, the link's schedule.
fn decode(text: &str) -> Option<(Scenario, Option<Schedule>)> {
    let json = text.trim_start_matches('\u{feff}').trim_start().starts_with('{');
    match json {
        true => Scenario::from_json(text).ok().map(|s| (s, None)),
        false => share::decode(text).ok().map(|l| (l.scenario, Some(l.schedule))),
    }
}

fn run_schedules(world: &World, scenario: &Scenario, from_link: Option<&Schedule>) {
    let given = match from_link {
        Some(s) => Some(s.clone()),
        None => {
            scenario.default_schedule(world.variant, world.granularity).and_then(|t| Schedule::parse(t, world).ok())
        }
    };
    if let Some(schedule) = given {
        let _ = sched::run(world, &schedule);
    }
    let rr = sched::round_robin(world);
    assert_eq!(Schedule::parse(&rr.to_names(world), world), Ok(rr.clone()), "the name form reads back");
    assert_eq!(Schedule::parse(&rr.to_text(), world), Ok(rr.clone()), "the index form reads back");
    match sched::run(world, &rr) {
        Ok(trace) => assert_eq!(trace.schedule(), rr, "round-robin replays step for step"),
        Err(e) => assert!(rr.0.len() >= MAX_TRACE, "a round-robin of {} steps is refused: {e}", rr.0.len()),
    }
}

fn explore(world: &World, reduce: bool) {
    let mut explorer = Explorer::new(world, Limits { max_states: MAX_STATES }).with_reduction(reduce);
    let summary = explorer.run();
    assert!(summary.unique_states <= MAX_STATES, "{} states", summary.unique_states);
    for (inv, schedule) in &summary.shortest_by_invariant {
        let trace = sched::run(world, schedule).expect("a counterexample runs");
        let found = trace.first(*inv).is_some() || (*inv == Invariant::Deadlock && trace.deadlock);
        assert!(found, "the {} counterexample {} does not replay", inv.id(), schedule.to_text());
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let Some((scenario, schedule)) = decode(&text) else { return };
    for (i, v) in Variant::ALL.into_iter().enumerate() {
        for g in Granularity::ALL {
            let Ok(world) = scenario.compile(v, g) else { continue };
            run_schedules(&world, &scenario, schedule.as_ref());
            explore(&world, i % 2 == 1);
        }
    }
});
