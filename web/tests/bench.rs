//! The explorer benchmark in the browser: the same cases as `cargo bench -p smmu-sim --bench
//! explore` (seed-race at both granularities, attach-storm-N but 5 PRE), run in headless
//! Chromium; and patch mode's two costs: find-fix over `arm_smmu_attach_dev` on the seed race,
//! and one edit (compile the patched scenario and re-run its schedule), as in `cargo bench -p
//! smmu-sim --bench findfix`.
//! It prints states, time and states/s; it asserts only the counts, never a speed.
//! Run with `bash scripts/bench-wasm.sh` (release build).
#![cfg(target_arch = "wasm32")]

use smmu_sim::explore::{Explorer, Limits};
use smmu_sim::{builtin, Granularity, Variant};
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn now() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

/// Milliseconds of one exploration, and its summary.
fn timed(world: &smmu_sim::World, max_states: u64) -> (f64, smmu_sim::explore::Summary) {
    let start = now();
    let s = Explorer::new(world, Limits { max_states }).run();
    (now() - start, s)
}

fn case(id: &str, v: Variant, g: Granularity, max_states: u64) {
    let world = builtin::get(id).unwrap().compile(v, g).unwrap();
    let (first, s) = timed(&world, max_states);
    // As natively: a case under 200 ms runs again for about a second and its median is
    // reported, since one run of a few milliseconds mostly measures first-touch costs and
    // the garbage collector of the page around it.
    let mut runs = vec![first];
    while first < 200.0 && runs.len() < 25 && runs.iter().sum::<f64>() < 1000.0 {
        runs.push(timed(&world, max_states).0);
    }
    runs.sort_by(f64::total_cmp);
    let ms = runs[runs.len() / 2];
    let rate = s.unique_states as f64 / (ms / 1000.0).max(1e-9);
    console_log!(
        "wasm-bench {id:<16} {:<4} {:<6} states {:>10} transitions {:>11} ms {:>9.1} m{:<2} states/s {:>9.0}{}",
        v.name(),
        g.name(),
        s.unique_states,
        s.transitions,
        ms,
        runs.len(),
        rate,
        if s.limit_hit { " (stopped at limit)" } else { "" }
    );
    assert!(s.unique_states > 0);
}

#[wasm_bindgen_test]
fn explorer_throughput() {
    for g in Granularity::ALL {
        for v in [Variant::Pre, Variant::Fix] {
            case("seed-race", v, g, 5_000_000);
        }
    }
    // All but attach-storm-5 PRE (72M states, minutes): the larger cases measure sustained
    // throughput, past the engine's warm-up.
    for n in 1..=5 {
        for v in [Variant::Pre, Variant::Fix] {
            if (n, v) != (5, Variant::Pre) {
                case(&format!("attach-storm-{n}"), v, Granularity::Mail, 5_000_000);
            }
        }
    }
}

/// Async, yielding every 100 ms: a search of several seconds in one task would starve the
/// test runner's polling of the page.
#[wasm_bindgen_test]
async fn patch_mode_costs() {
    use smmu_sim::patch::find::Finder;
    use smmu_sim::patch::{presets, LockName};
    use smmu_sim::sched::{self, Schedule};
    let s = builtin::get("seed-race").unwrap();
    let patched = smmu_sim::Scenario { patch: Some(presets::get("9f7c6891").unwrap().patch()), ..s.clone() };
    let text = s.default_schedule(Variant::Pre, Granularity::Mail).unwrap_or("").to_string();
    let (n, start) = (200, now());
    for _ in 0..n {
        let w = patched.compile(Variant::Pre, Granularity::Mail).unwrap();
        sched::run(&w, &Schedule::parse(&text, &w).unwrap()).unwrap();
    }
    console_log!(
        "wasm-bench one edit (compile + run the seed race's schedule) ms {:.3}",
        (now() - start) / f64::from(n)
    );
    let start = now();
    let mut f =
        Finder::new(&s, Variant::Pre, Granularity::Mail, "arm_smmu_attach_dev", &[LockName::Asid], 20_000).unwrap();
    let mut slice = now();
    while !f.step(1).done {
        if now() - slice > 100.0 {
            yew::platform::time::sleep(std::time::Duration::ZERO).await;
            slice = now();
        }
    }
    let p = f.progress();
    console_log!(
        "wasm-bench find-fix seed-race mail arm_smmu_asid_lock: {} candidates, {} clean, s {:.2}",
        p.total,
        f.found_count(),
        (now() - start) / 1000.0
    );
    assert_eq!((p.total, f.found_count()), (14_287, 1_441));
}
