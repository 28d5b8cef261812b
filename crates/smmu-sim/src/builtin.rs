//! Built-in scenarios, kept as JSON files in `scenarios/` so they double as examples of the
//! file format.

use crate::scenario::Scenario;

const FILES: &[(&str, &str)] = &[
    ("seed-race", include_str!("../scenarios/seed-race.json")),
    (
        "release-race",
        include_str!("../scenarios/release-race.json"),
    ),
];

/// Ids of the built-in scenarios.
pub fn ids() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(id, _)| *id)
}

/// A built-in scenario by id.
pub fn get(id: &str) -> Option<Scenario> {
    let (_, text) = FILES.iter().find(|(i, _)| *i == id)?;
    Some(Scenario::from_json(text).expect("built-in scenarios parse"))
}

/// Every built-in scenario.
pub fn all() -> Vec<Scenario> {
    ids().filter_map(get).collect()
}
