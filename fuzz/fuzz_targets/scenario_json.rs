//! Any text given as a scenario file: parsing never panics, and a scenario that parses writes
//! JSON that parses back to the same scenario.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smmu_sim::Scenario;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(scenario) = Scenario::from_json(text) else { return };
    let json = scenario.to_json();
    let back = Scenario::from_json(&json).expect("written JSON parses");
    assert_eq!(back, scenario, "round trip through {json}");
});
