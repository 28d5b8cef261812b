//! `shrink` and the danger windows of `explore --danger`: reports over the explorer's
//! analyses, as text and JSON. Counts are decimal strings, as elsewhere.

use crate::json;
use serde_json::{json, Value};
use smmu_sim::check::Invariant;
use smmu_sim::explore::{self, switches, DangerMap};
use smmu_sim::sched::{self, Schedule};
use smmu_sim::World;
use std::fmt::Write as _;

/// The result of `shrink`: the report, and whether the shrunk schedule violates safety.
pub struct Shrunk {
    pub report: String,
    pub unsafe_: bool,
}

/// `shrink`: parses the schedule, picks the invariant (unless given: the first safety
/// invariant the schedule violates, else the first one) and shrinks. Errors are one line for stderr.
pub fn shrink(world: &World, text: &str, invariant: Option<&str>, as_json: bool) -> Result<Shrunk, String> {
    let input = Schedule::parse(text, world).map_err(|e| e.to_string())?;
    let trace = sched::run(world, &input).map_err(|e| e.to_string())?;
    let invariant = match invariant {
        Some(id) => Invariant::from_id(id).ok_or_else(|| {
            let ids: Vec<_> = Invariant::ALL.iter().map(|i| i.id()).collect();
            format!("unknown invariant '{id}' (one of {})", ids.join(", "))
        })?,
        None => {
            let first = trace.violations.iter().min_by_key(|v| (!v.invariant.is_safety(), v.step));
            first.map(|v| v.invariant).ok_or("the schedule violates no invariant; nothing to shrink")?
        }
    };
    let shrunk = explore::shrink(world, &input, invariant)
        .ok_or_else(|| format!("the schedule does not violate {}; nothing to shrink", invariant.id()))?;
    let after = sched::run(world, &shrunk).map_err(|e| e.to_string())?;
    let unsafe_ = after.safety_violations().next().is_some();
    let report = if as_json {
        let value = json!({
            "scenario": world.id,
            "variant": world.variant.name(),
            "granularity": world.granularity.name(),
            "invariant": invariant.id(),
            "input": { "schedule": input.to_text(), "length": input.0.len(), "switches": switches(&input) },
            "shrunk": json::counterexample_switches(world, &shrunk),
        });
        format!("{}\n", serde_json::to_string_pretty(&value).expect("JSON values serialise"))
    } else {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "scenario {} · variant {} · granularity {} · invariant {}",
            world.id,
            world.variant,
            world.granularity,
            invariant.id()
        );
        let _ = writeln!(
            out,
            "shrunk {} → {} choices ({} → {} context switches)",
            input.0.len(),
            shrunk.0.len(),
            switches(&input),
            switches(&shrunk)
        );
        let _ = writeln!(out, "--schedule \"{}\"", shrunk.to_names(world));
        let _ = writeln!(out, "replay: --schedule {}", shrunk.to_text());
        for v in &after.violations {
            let _ = writeln!(out, "  step {}: {}: {}", v.step, v.invariant.id(), v.message);
        }
        out
    };
    Ok(Shrunk { report, unsafe_ })
}

fn step_names(map: &DangerMap) -> Vec<String> {
    map.steps.iter().map(|s| format!("{}#{} {}: {}", s.thread_name, s.index, s.function, s.label)).collect()
}

/// `danger_windows` of `explore --json --danger`.
pub fn danger_json(map: &DangerMap) -> Value {
    let steps: Vec<Value> = map
        .steps
        .iter()
        .map(|s| json!({ "thread": s.thread_name, "index": s.index, "function": s.function, "label": s.label }))
        .collect();
    let before: Vec<Vec<String>> = map.before.iter().map(|r| r.iter().map(u128::to_string).collect()).collect();
    let scale = map.violating.max(1) as f64;
    let fraction: Vec<Vec<f64>> =
        map.before.iter().map(|r| r.iter().map(|n| (*n as f64 / scale * 1e6).round() / 1e6).collect()).collect();
    let n = map.steps.len();
    let share: Vec<Vec<f64>> =
        (0..n).map(|a| (0..n).map(|b| (map.share(a, b) * 1e6).round() / 1e6).collect()).collect();
    json!({
        "steps": steps,
        "before": before,
        "fraction": fraction,
        "share": share,
        "before_all": map.before_all.iter().map(|r| r.iter().map(u128::to_string).collect()).collect::<Vec<Vec<String>>>(),
        "occurs": map.occurs.iter().map(u128::to_string).collect::<Vec<_>>(),
        "violating_interleavings": map.violating.to_string(),
        "interleavings": map.interleavings.to_string(),
        "note": "before[a][b]: violating interleavings that run step a before step b; before_all[a][b]: all interleavings that do; fraction = before / violating; share = before / before_all",
    })
}

/// The danger windows as text: the orders of two steps that decide most: the share of
/// interleavings running `a` before `b` that violate, against the share for `b` before `a`.
pub fn danger_text(map: &DangerMap, top: usize) -> String {
    let mut out = String::new();
    let names = step_names(map);
    let _ = writeln!(out, "danger windows ({} steps, {} violating interleavings):", names.len(), map.violating);
    if map.violating == 0 {
        let _ = writeln!(out, "  none: no interleaving violates");
        return out;
    }
    let share = |a: usize, b: usize| map.share(a, b);
    let mut pairs = Vec::new();
    for a in 0..names.len() {
        for b in 0..names.len() {
            if map.before[a][b] > 0 && map.before_all[b][a] > 0 {
                pairs.push((share(a, b) - share(b, a), a, b));
            }
        }
    }
    pairs.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.cmp(&y.1)).then(x.2.cmp(&y.2)));
    let _ = writeln!(out, "  violating share if a runs before b / if b runs before a:");
    for (_, a, b) in pairs.into_iter().take(top) {
        let _ = writeln!(
            out,
            "  {:5.1}% / {:5.1}%  a = {}\n                  b = {}",
            100.0 * share(a, b),
            100.0 * share(b, a),
            names[a],
            names[b]
        );
    }
    out
}
