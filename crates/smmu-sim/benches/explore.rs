//! Explorer throughput: unique states, transitions, time, states per second and peak RSS
//! for the seed race (both variants and granularities, DMA lanes included) and the
//! `attach-storm-N` family (N = 1..5, PRE and FIX, mail granularity).
//!
//! `cargo bench -p smmu-sim --bench explore [-- --max-states N --max-seconds S --only ID]`.
//! Plain `std::time` and `/proc/self/status` (VmHWM, reset per case through
//! `/proc/self/clear_refs` where the kernel allows it): no benchmark framework, since what
//! matters is one long run per case, not statistics over many short ones. A case that
//! reaches the state or time bound is reported as stopped at the limit.

use smmu_sim::explore::{Explorer, Limits};
use smmu_sim::{builtin, Granularity, Variant};
use std::time::{Duration, Instant};

struct Args {
    max_states: u64,
    max_seconds: u64,
    only: Option<String>,
}

fn args() -> Args {
    let mut a = Args { max_states: 20_000_000, max_seconds: 120, only: None };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--max-states" => a.max_states = it.next().and_then(|v| v.parse().ok()).expect("--max-states N"),
            "--max-seconds" => a.max_seconds = it.next().and_then(|v| v.parse().ok()).expect("--max-seconds S"),
            "--only" => a.only = it.next().cloned(),
            _ => {} // `cargo bench` passes `--bench`.
        }
    }
    a
}

/// Peak resident set size in KiB, from /proc/self/status (Linux only).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Resets the peak RSS to the current RSS, so each case reports its own peak.
fn reset_peak_rss() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn main() {
    let args = args();
    let mut cases: Vec<(String, Variant, Granularity)> = Vec::new();
    for v in [Variant::Pre, Variant::Fix] {
        for g in Granularity::ALL {
            cases.push(("seed-race".into(), v, g));
        }
    }
    for n in 1..=builtin::MAX_STORM {
        for v in [Variant::Pre, Variant::Fix] {
            cases.push((format!("attach-storm-{n}"), v, Granularity::Mail));
        }
    }
    let resets = reset_peak_rss();
    println!(
        "bound: {} states, {} s per case; peak RSS {}",
        args.max_states,
        args.max_seconds,
        if resets { "per case" } else { "of the process so far (no clear_refs)" }
    );
    println!(
        "| {:<14} | {:<4} | {:<6} | {:>11} | {:>12} | {:>9} | {:>10} | {:>9} | {:<12} |",
        "scenario", "var", "gran", "states", "transitions", "ms", "states/s", "peak MiB", "result"
    );
    println!(
        "|{:-<16}|{:-<6}|{:-<8}|{:->13}|{:->14}|{:->11}|{:->12}|{:->11}|{:-<14}|",
        "", "", "", "", "", "", "", "", ""
    );
    for (id, v, g) in cases {
        if args.only.as_ref().is_some_and(|o| !id.contains(o.as_str())) {
            continue;
        }
        let world = builtin::get(&id).expect("built-in").compile(v, g).expect("compiles");
        reset_peak_rss();
        let start = Instant::now();
        let deadline = Duration::from_secs(args.max_seconds);
        let mut explorer = Explorer::new(&world, Limits { max_states: args.max_states });
        let mut timed_out = false;
        while !explorer.step(20_000).done {
            if start.elapsed() > deadline {
                timed_out = true;
                break;
            }
        }
        let s = explorer.summary();
        let elapsed = start.elapsed();
        let peak = peak_rss_kib().map_or("?".to_string(), |k| format!("{:.1}", k as f64 / 1024.0));
        drop(explorer);
        let result = if s.limit_hit {
            "stopped at state limit".to_string()
        } else if timed_out {
            "stopped at time limit".to_string()
        } else if s.violating > 0 {
            format!("{:.2e} viol", s.violating as f64)
        } else {
            "safe".to_string()
        };
        let rate = s.unique_states as f64 / elapsed.as_secs_f64().max(1e-9);
        println!(
            "| {:<14} | {:<4} | {:<6} | {:>11} | {:>12} | {:>9} | {:>10.0} | {:>9} | {:<12} |",
            id,
            v.name(),
            g.name(),
            s.unique_states,
            s.transitions,
            elapsed.as_millis(),
            rate,
            peak,
            result
        );
    }
}
