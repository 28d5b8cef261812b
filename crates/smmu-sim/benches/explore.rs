//! Explorer throughput: unique states, transitions, time, states per second, peak RSS and
//! peak RSS per unique state for the seed race (both variants and granularities, DMA lanes
//! included) and the `attach-storm-N` family (N = 1..5, PRE and FIX, mail granularity), each
//! with partial-order reduction off (exact counts) and on (verdicts only).
//!
//! `cargo bench -p smmu-sim --bench explore [-- --max-states N --max-seconds S --max-rss-mib M
//! --only ID --no-symmetry]` (`--no-symmetry`: every state apart, not one per class up to ASID
//! renaming).
//! Plain `std::time` and `/proc/self/status` (VmHWM): no benchmark framework, since what
//! matters is one long run per case, not statistics over many short ones. A case that takes
//! under 200 ms is run again for about a second, and the median is reported (`m9`: of 9
//! runs). Each case runs in a child process so that its peak RSS is its own. A case that reaches the state, time or
//! memory bound (default 30M states, 300 s, 6 GiB resident) is reported as stopped at the
//! limit; counts that exceed `u128` are reported as an overflow.

use smmu_sim::explore::{Explorer, Limits};
use smmu_sim::{builtin, Granularity, Variant, World};
use std::time::{Duration, Instant};

struct Args {
    max_states: u64,
    max_seconds: u64,
    max_rss_mib: u64,
    only: Option<String>,
    /// Run one case in this process (the parent runs each case in a child, so that peak RSS
    /// is the case's own).
    case: Option<String>,
    /// Run one danger-window case in this process.
    danger_case: Option<String>,
    /// ASID symmetry (on unless `--no-symmetry`).
    symmetry: bool,
}

fn args() -> Args {
    let mut a = Args {
        max_states: 30_000_000,
        max_seconds: 300,
        max_rss_mib: 6144,
        only: None,
        case: None,
        danger_case: None,
        symmetry: true,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut it = argv.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--max-states" => a.max_states = it.next().and_then(|v| v.parse().ok()).expect("--max-states N"),
            "--max-seconds" => a.max_seconds = it.next().and_then(|v| v.parse().ok()).expect("--max-seconds S"),
            "--max-rss-mib" => a.max_rss_mib = it.next().and_then(|v| v.parse().ok()).expect("--max-rss-mib M"),
            "--only" => a.only = it.next().cloned(),
            "--case" => a.case = it.next().cloned(),
            "--danger-case" => a.danger_case = it.next().cloned(),
            "--no-symmetry" => a.symmetry = false,
            _ => {} // `cargo bench` passes `--bench`.
        }
    }
    a
}

/// A size in KiB from /proc/self/status (Linux only): `VmHWM` (peak RSS) or `VmRSS`.
fn status_kib(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// (scenario, variant, granularity, partial-order reduction).
fn cases() -> Vec<(String, Variant, Granularity, bool)> {
    let mut cases = Vec::new();
    for reduce in [false, true] {
        for v in [Variant::Pre, Variant::Fix] {
            for g in Granularity::ALL {
                cases.push(("seed-race".to_string(), v, g, reduce));
            }
        }
        for n in 1..=builtin::MAX_STORM {
            for v in [Variant::Pre, Variant::Fix] {
                cases.push((format!("attach-storm-{n}"), v, Granularity::Mail, reduce));
            }
        }
    }
    cases
}

/// Danger windows: exploration with the whole graph kept, then the pass over it.
const DANGER_CASES: &[(&str, Variant, Granularity)] = &[
    ("seed-race", Variant::Pre, Granularity::Mail),
    ("seed-race", Variant::Pre, Granularity::Source),
    ("attach-storm-2", Variant::Pre, Granularity::Mail),
    ("attach-storm-3", Variant::Pre, Granularity::Mail),
    ("attach-storm-3", Variant::Fix, Granularity::Mail),
    ("attach-storm-4", Variant::Fix, Granularity::Mail),
];

/// `id,variant,granularity[,por]`.
fn parse_case(case: &str) -> (String, Variant, Granularity, World, bool) {
    let mut parts = case.split(',');
    let (id, v, g) = (parts.next().unwrap(), parts.next().unwrap(), parts.next().unwrap());
    let (v, g): (Variant, Granularity) = (v.parse().unwrap(), g.parse().unwrap());
    let world = builtin::get(id).expect("built-in").compile(v, g).expect("compiles");
    (id.to_string(), v, g, world, parts.next() == Some("por"))
}

/// The explorer of a case.
fn explorer<'w>(world: &'w World, args: &Args, reduce: bool) -> Explorer<'w> {
    let limits = Limits { max_states: args.max_states };
    Explorer::new(world, limits).with_reduction(reduce).with_symmetry(args.symmetry)
}

/// The arguments a child process gets.
fn child_args(args: &Args) -> Vec<String> {
    let mut out = vec!["--max-states".to_string(), args.max_states.to_string()];
    out.extend(["--max-seconds".to_string(), args.max_seconds.to_string()]);
    out.extend(["--max-rss-mib".to_string(), args.max_rss_mib.to_string()]);
    if !args.symmetry {
        out.push("--no-symmetry".to_string());
    }
    out
}

/// Runs one danger-window case and prints its row.
fn run_danger_case(args: &Args, case: &str) {
    let (id, v, g, world, _) = parse_case(case);
    let start = Instant::now();
    let mut explorer = explorer(&world, args, false).with_graph_limit(args.max_states);
    let s = explorer.run();
    let explored = start.elapsed();
    let result = explorer.danger_windows();
    let pass = start.elapsed() - explored;
    let peak = status_kib("VmHWM:").map_or("?".to_string(), |k| format!("{:.1}", k as f64 / 1024.0));
    let matrix = match &result {
        Ok(m) => format!("{0} x {0} steps", m.steps.len()),
        Err(e) => e.to_string(),
    };
    println!(
        "| {:<14} | {:<4} | {:<6} | {:>11} | {:>12} | {:>10} | {:>8} | {:>9} | {} |",
        id,
        v.name(),
        g.name(),
        s.unique_states,
        s.transitions,
        explored.as_millis(),
        pass.as_millis(),
        peak,
        matrix
    );
}

/// A case faster than this is run again, and its median time reported: a single run of a few
/// milliseconds mostly measures page faults and the allocator warming up.
const SHORT: Duration = Duration::from_millis(200);

/// The median time over repeated runs (until about a second has passed, at most 25), with the
/// first run's time among them; and the number of runs.
fn median_of_repeats(world: &World, args: &Args, reduce: bool, first: Duration) -> (Duration, usize) {
    let mut times = vec![first];
    let budget = Instant::now();
    while times.len() < 25 && budget.elapsed() < Duration::from_secs(1) {
        let start = Instant::now();
        explorer(world, args, reduce).run();
        times.push(start.elapsed());
    }
    times.sort();
    (times[times.len() / 2], times.len())
}

/// Runs one case and prints its row.
fn run_case(args: &Args, case: &str) {
    let (id, v, g, world, reduce) = parse_case(case);
    let id = id.as_str();
    let start = Instant::now();
    let deadline = Duration::from_secs(args.max_seconds);
    let mut explorer = explorer(&world, args, reduce);
    let (mut timed_out, mut out_of_memory) = (false, false);
    while !explorer.step(20_000).done {
        if start.elapsed() > deadline {
            timed_out = true;
            break;
        }
        if status_kib("VmRSS:").is_some_and(|k| k / 1024 > args.max_rss_mib) {
            out_of_memory = true;
            break;
        }
    }
    let s = explorer.summary();
    let mut elapsed = start.elapsed();
    let mut runs = 1;
    if s.unique_states < args.max_states && elapsed < SHORT && !timed_out && !out_of_memory {
        (elapsed, runs) = median_of_repeats(&world, args, reduce, elapsed);
    }
    let peak_kib = status_kib("VmHWM:");
    let peak = peak_kib.map_or("?".to_string(), |k| format!("{:.1}", k as f64 / 1024.0));
    let per_state = peak_kib.map_or("?".to_string(), |k| format!("{:.0}", k as f64 * 1024.0 / s.unique_states as f64));
    let result = if s.limit_hit {
        "stopped at state limit".to_string()
    } else if timed_out {
        "stopped at time limit".to_string()
    } else if out_of_memory {
        "stopped at memory limit".to_string()
    } else if reduce {
        // From the counterexamples, which exist whether or not a count overflowed.
        let violated: Vec<&str> =
            s.shortest_by_invariant.iter().filter(|(i, _)| i.is_safety()).map(|(i, _)| i.id()).collect();
        if violated.is_empty() {
            "safe".to_string()
        } else {
            format!("violates {}", violated.join(", "))
        }
    } else if let Some(a) = s.approx {
        format!("u128 overflow; about {:.2e} of {:.2e} violate", a.violating, a.interleavings)
    } else if s.violating > 0 {
        format!("{:.2e} of {:.2e} violate", s.violating as f64, s.interleavings as f64)
    } else {
        format!("safe, {:.2e}", s.interleavings as f64)
    };
    let rate = s.unique_states as f64 / elapsed.as_secs_f64().max(1e-9);
    let ms = elapsed.as_secs_f64() * 1e3;
    let ms = if runs > 1 { format!("{ms:.1} m{runs}") } else { format!("{ms:.0}") };
    println!(
        "| {:<14} | {:<4} | {:<6} | {:<3} | {:>11} | {:>12} | {:>9} | {:>10.0} | {:>9} | {:>7} | {} |",
        id,
        v.name(),
        g.name(),
        if reduce { "on" } else { "off" },
        s.unique_states,
        s.transitions,
        ms,
        rate,
        peak,
        per_state,
        result
    );
}

fn main() {
    let args = args();
    if let Some(case) = &args.case {
        run_case(&args, case);
        return;
    }
    if let Some(case) = &args.danger_case {
        run_danger_case(&args, case);
        return;
    }
    println!(
        "bound: {} states, {} s, {} MiB RSS per case; each case in its own process; mN: median of N runs; {}",
        args.max_states,
        args.max_seconds,
        args.max_rss_mib,
        if args.symmetry { "states up to ASID renaming" } else { "ASID symmetry off" }
    );
    println!(
        "| {:<14} | {:<4} | {:<6} | {:<3} | {:>11} | {:>12} | {:>9} | {:>10} | {:>9} | {:>7} | result |",
        "scenario", "var", "gran", "por", "states", "transitions", "ms", "states/s", "peak MiB", "B/state"
    );
    println!(
        "|{:-<16}|{:-<6}|{:-<8}|{:-<5}|{:->13}|{:->14}|{:->11}|{:->12}|{:->11}|{:->9}|--------|",
        "", "", "", "", "", "", "", "", "", ""
    );
    let exe = std::env::current_exe().expect("own path");
    for (id, v, g, reduce) in cases() {
        if args.only.as_ref().is_some_and(|o| !id.contains(o.as_str())) {
            continue;
        }
        let por = if reduce { ",por" } else { "" };
        let status = std::process::Command::new(&exe)
            .args(["--case", &format!("{id},{},{}{por}", v.name(), g.name())])
            .args(child_args(&args))
            .status()
            .expect("runs a case");
        if !status.success() {
            println!("| {id:<14} | {:<4} | {:<6} | case failed: {status} |", v.name(), g.name());
        }
    }
    println!();
    println!("danger windows: exploration keeping the whole graph, then the pass over it");
    println!(
        "| {:<14} | {:<4} | {:<6} | {:>11} | {:>12} | {:>10} | {:>8} | {:>9} | matrix |",
        "scenario", "var", "gran", "states", "transitions", "explore ms", "pass ms", "peak MiB"
    );
    println!(
        "|{:-<16}|{:-<6}|{:-<8}|{:->13}|{:->14}|{:->12}|{:->10}|{:->11}|--------|",
        "", "", "", "", "", "", "", ""
    );
    for (id, v, g) in DANGER_CASES {
        if args.only.as_ref().is_some_and(|o| !id.contains(o.as_str())) {
            continue;
        }
        let status = std::process::Command::new(&exe)
            .args(["--danger-case", &format!("{id},{},{}", v.name(), g.name())])
            .args(child_args(&args))
            .status()
            .expect("runs a case");
        if !status.success() {
            println!("| {id:<14} | {:<4} | {:<6} | case failed: {status} |", v.name(), g.name());
        }
    }
}
