//! Any text given as a schedule for the seed race: parsing never panics, and a schedule that
//! parses runs to a trace or an error.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smmu_sim::sched::{self, Schedule};
use smmu_sim::{builtin, Granularity, Variant, World};
use std::sync::OnceLock;

/// The seed race for every variant and granularity, compiled once.
fn worlds() -> &'static [World] {
    static WORLDS: OnceLock<Vec<World>> = OnceLock::new();
    WORLDS.get_or_init(|| {
        let scenario = builtin::get("seed-race").expect("the seed race is built in");
        let pairs = Variant::ALL.into_iter().flat_map(|v| Granularity::ALL.map(|g| (v, g)));
        pairs.map(|(v, g)| scenario.compile(v, g).expect("the seed race compiles")).collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let worlds = worlds();
    let world = &worlds[usize::from(pick) % worlds.len()];
    let text = String::from_utf8_lossy(rest);
    let Ok(schedule) = Schedule::parse(&text, world) else { return };
    if let Ok(trace) = sched::run(world, &schedule) {
        assert_eq!(trace.states.len(), trace.steps.len(), "one state per step");
    }
});
