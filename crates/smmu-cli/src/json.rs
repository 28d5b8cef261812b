//! JSON and text reports of the CLI. Counts are decimal strings: they can exceed 2^53.

use serde_json::{json, Value};
use smmu_sim::explore::{switches, Bound, Summary, Tally, Verdict};
use smmu_sim::sched::{self, Schedule};
use smmu_sim::trace::Trace;
use smmu_sim::World;
use std::fmt::Write as _;
use std::time::Duration;

fn steps(world: &World, trace: &Trace) -> Value {
    let steps: Vec<Value> = trace
        .steps
        .iter()
        .map(|s| {
            json!({
                "thread": world.programs[s.thread.ix()].name,
                "function": s.function,
                "label": s.label,
                "source": s.src.url(),
            })
        })
        .collect();
    Value::Array(steps)
}

fn violations(trace: &Trace) -> Value {
    let v: Vec<Value> = trace
        .violations
        .iter()
        .map(|v| json!({ "step": v.step, "invariant": v.invariant.id(), "message": v.message }))
        .collect();
    Value::Array(v)
}

/// `check --json`.
pub fn trace(world: &World, trace: &Trace) -> String {
    let value = json!({
        "scenario": world.id,
        "variant": world.variant.name(),
        "granularity": world.granularity.name(),
        "schedule": trace.schedule().to_text(),
        "steps": steps(world, trace),
        "violations": violations(trace),
        "safe": trace.safety_violations().next().is_none(),
    });
    serde_json::to_string_pretty(&value).expect("JSON values serialise")
}

fn counterexample(world: &World, schedule: &Schedule) -> Value {
    match sched::run(world, schedule) {
        Ok(trace) => json!({
            "schedule": schedule.to_text(),
            "steps": steps(world, &trace),
            "violations": violations(&trace),
        }),
        Err(e) => json!({ "schedule": schedule.to_text(), "error": e.to_string() }),
    }
}

/// A counterexample object with its number of context switches.
pub fn counterexample_switches(world: &World, schedule: &Schedule) -> Value {
    let mut value = counterexample(world, schedule);
    value["length"] = json!(schedule.0.len());
    value["switches"] = json!(switches(schedule));
    value
}

/// `explore --json`.
pub fn explore(world: &World, s: &Summary, timed_out: bool, elapsed: Duration) -> String {
    serde_json::to_string_pretty(&explore_value(world, s, timed_out, elapsed)).expect("JSON values serialise")
}

/// `explore --json` as a value, for callers that add to it.
pub fn explore_value(world: &World, s: &Summary, timed_out: bool, elapsed: Duration) -> Value {
    let verdict = Verdict::of(s, timed_out.then_some(Bound::Time));
    let exact = matches!(verdict.counts, Tally::Exact { .. });
    let by_inv: serde_json::Map<String, Value> = s
        .by_invariant
        .iter()
        .map(|(inv, n)| (inv.id().to_string(), if exact { Value::String(n.to_string()) } else { Value::Null }))
        .collect();
    let found: Vec<&str> = s.shortest_by_invariant.iter().map(|(inv, _)| inv.id()).collect();
    let value = json!({
        "scenario": world.id,
        "variant": world.variant.name(),
        "granularity": world.granularity.name(),
        "unique_states": s.unique_states.to_string(),
        "transitions": s.transitions.to_string(),
        "verdict": verdict.word(),
        "counts": verdict.counts_word(),
        "headline": verdict.headline("interleavings"),
        "interleavings": exact.then(|| s.interleavings.to_string()),
        "violating_interleavings": exact.then(|| s.violating.to_string()),
        "violations_by_invariant": by_inv,
        "violated_invariants": found,
        "complete": verdict.complete() && !s.overflow,
        "limit_hit": s.limit_hit,
        "timed_out": timed_out,
        "overflow": s.overflow,
        "elapsed_ms": elapsed.as_millis().to_string(),
        "counterexample": s.shortest.as_ref().map(|c| counterexample(world, c)),
        "shortest": s.shortest.as_ref().map(|c| counterexample_switches(world, c)),
        "fewest_switches": s.fewest_switches.as_ref().map(|c| counterexample_switches(world, c)),
        "graph_dropped": s.graph_dropped,
        "reduction": s.reduced,
        "symmetry": s.symmetry,
        "approx_interleavings": s.approx.map(|a| format!("{:.6e}", a.interleavings)),
        "approx_violating_interleavings": s.approx.map(|a| format!("{:.6e}", a.violating)),
    });
    value
}

/// `explore` as text.
pub fn explore_text(world: &World, s: &Summary, timed_out: bool, elapsed: Duration) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "scenario {} · variant {} · granularity {}", world.id, world.variant, world.granularity);
    let up_to = if s.symmetry { " (up to ASID renaming)" } else { "" };
    let (states, transitions, ms) = (s.unique_states, s.transitions, elapsed.as_millis());
    let _ = writeln!(out, "{states} unique states{up_to}, {transitions} transitions, {ms} ms");
    let verdict = Verdict::of(s, timed_out.then_some(Bound::Time));
    if s.reduced {
        let _ =
            writeln!(out, "partial-order reduction: verdicts are exact; counts are of representative interleavings");
    }
    let kind = if s.reduced { "representative interleavings" } else { "interleavings" };
    let _ = writeln!(out, "{}", verdict.headline(kind));
    let exact = matches!(verdict.counts, Tally::Exact { .. });
    for (inv, n) in &s.by_invariant {
        let note = if inv.is_safety() { "" } else { " (design rule, not counted above)" };
        let found = s.shortest_by_invariant.iter().any(|(i, _)| i == inv);
        let n = match (exact, found) {
            (true, _) => n.to_string(),
            (false, true) => "violated (count unknown)".into(),
            (false, false) => "none found (count unknown)".into(),
        };
        let _ = writeln!(out, "  {:<8} {n}{note}", inv.id());
    }
    if let Some(c) = &s.shortest {
        let _ = writeln!(out, "shortest counterexample ({} steps): --schedule {}", c.0.len(), c.to_text());
        match sched::run(world, c) {
            Ok(trace) => {
                for v in trace.safety_violations() {
                    let _ = writeln!(out, "  step {}: {}: {}", v.step, v.invariant.id(), v.message);
                }
            }
            Err(e) => {
                let _ = writeln!(out, "  cannot replay it: {e}");
            }
        }
    }
    if let Some(c) = &s.fewest_switches {
        let _ = writeln!(
            out,
            "fewest context switches ({} switch{}, {} steps): --schedule \"{}\"",
            switches(c),
            if switches(c) == 1 { "" } else { "es" },
            c.0.len(),
            c.to_names(world)
        );
    }
    out
}
