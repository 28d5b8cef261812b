//! `smmu-sim kunit`: the kernel's KUnit entry-writer vectors run through the model's writer, one
//! line (or JSON object) per transition with what it gave, what the table expects and whether
//! every check passed.

use serde_json::{json, Value};
use smmu_sim::ste::kunit::{self, Era, Kind, Outcome, Vector};

fn entry(kind: Kind) -> &'static str {
    match kind {
        Kind::Ste => "ste",
        Kind::Cd => "cd",
    }
}

fn hitless(h: bool) -> &'static str {
    if h {
        "hitless"
    } else {
        "non-hitless"
    }
}

/// Why the pinned writer misses the table on this vector, when that is what ran.
fn why(v: &Vector, era: Era) -> Option<&'static str> {
    match era {
        Era::Pinned => v.pinned.map(|d| d.why),
        Era::Kunit => None,
    }
}

fn object(v: &Vector, o: &Outcome, era: Era) -> Value {
    let why = why(v, era);
    json!({
        "name": v.name,
        "test": v.test,
        "line": v.line,
        "entry": entry(v.kind),
        "hitless": o.hitless,
        "syncs": o.syncs,
        "reached_target": o.reached_target,
        "bad_syncs": o.bad_syncs,
        "expected": { "hitless": v.expect.hitless, "syncs": v.expect.syncs },
        "ok": o.meets(v.expect),
        "differs_because": why,
    })
}

fn line(v: &Vector, o: &Outcome, era: Era, width: usize) -> String {
    let mut text = format!(
        "{:<4} {:<3} {:<width$}  {} {} (expected {} {})",
        if o.meets(v.expect) { "ok" } else { "FAIL" },
        entry(v.kind),
        v.name,
        hitless(o.hitless),
        o.syncs,
        hitless(v.expect.hitless),
        v.expect.syncs,
    );
    if !o.reached_target {
        text.push_str(", memory != target");
    }
    if !o.bad_syncs.is_empty() {
        text.push_str(&format!(", checker fails at sync {:?}", o.bad_syncs));
    }
    text.push('\n');
    if let Some(why) = why(v, era) {
        text.push_str(&format!("     because {why}\n"));
    }
    text
}

/// Runs every vector with the writer of `era`; returns the report and whether all were ok.
pub fn report(era: Era, as_json: bool) -> (String, bool) {
    let vectors = kunit::vectors();
    let runs: Vec<_> = vectors.iter().map(|v| (v, kunit::run(v, era))).collect();
    let all_ok = runs.iter().all(|(v, o)| o.meets(v.expect));
    let text = if as_json {
        let list: Vec<Value> = runs.iter().map(|(v, o)| object(v, o, era)).collect();
        format!("{}\n", serde_json::to_string_pretty(&list).expect("JSON values serialise"))
    } else {
        let width = vectors.iter().map(|v| v.name.len()).max().unwrap_or(0);
        let mut text: String = runs.iter().map(|(v, o)| line(v, o, era, width)).collect();
        let failed = runs.iter().filter(|(v, o)| !o.meets(v.expect)).count();
        text.push_str(&format!("{} transitions, {failed} failed\n", runs.len()));
        text
    };
    (text, all_ok)
}
