//! `smmu-sim scenarios`: the built-in library by group, as text or JSON.

use serde_json::{json, Value};
use smmu_sim::{builtin, Scenario, Variant};

/// One line per scenario under a heading per group.
pub fn text() -> String {
    let groups = builtin::grouped();
    let width = groups.iter().flat_map(|(_, l)| l).map(|s| s.id.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (i, (group, list)) in groups.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&format!("{group}\n"));
        for s in list {
            out.push_str(&format!("  {:<width$}  {} [{} · {}]\n", s.id, s.title, s.variant, s.granularity));
        }
    }
    out
}

fn expected(s: &Scenario) -> Value {
    let Some(e) = &s.expect else { return Value::Null };
    let per = |v: Variant| json!({ "summary": e.of(v).summary(), "mail": e.of(v).at(smmu_sim::Granularity::Mail), "source": e.of(v).at(smmu_sim::Granularity::Source) });
    json!({ "pre": per(Variant::Pre), "fix": per(Variant::Fix), "v6.9": per(Variant::V69) })
}

/// Every built-in with its id, title, group, paragraph, mutations and expected verdicts
/// (`null` for the few too large to check in tests).
pub fn json() -> String {
    let list: Vec<Value> = builtin::all()
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "title": s.title,
                "group": if s.group.is_empty() { builtin::NO_GROUP } else { s.group.as_str() },
                "description": s.description,
                "variant": s.variant.name(),
                "granularity": s.granularity.to_string(),
                "mutations": s.mutations.iter().map(|m| m.id()).collect::<Vec<_>>(),
                "expect": expected(s),
            })
        })
        .collect();
    serde_json::to_string_pretty(&Value::Array(list)).expect("JSON values serialise")
}
