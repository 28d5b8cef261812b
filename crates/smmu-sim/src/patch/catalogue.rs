//! The steps a patch may name: every unit of every function as the unpatched scripts of a
//! variant emit them, over the built-in scenarios (and the one at hand) at both
//! granularities.

use super::{Anchor, Patch};
use crate::scenario::Scenario;
use crate::variant::{Granularity, Variant};
use std::collections::BTreeMap;

/// A step of a function's script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StepInfo {
    /// Its anchor.
    pub anchor: Anchor,
    /// The label of its first step, as the timeline shows it (for one of the calls).
    pub label: String,
}

/// Per function, its steps in the order the scripts emit them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Catalogue {
    /// Function name → steps.
    pub functions: BTreeMap<&'static str, Vec<StepInfo>>,
}

impl Catalogue {
    fn add(&mut self, func: &'static str, anchor: Anchor, label: String) {
        let steps = self.functions.entry(func).or_default();
        if !steps.iter().any(|s| s.anchor == anchor) {
            steps.push(StepInfo { anchor, label });
        }
    }

    /// Whether `func` has a step `anchor`.
    pub fn has(&self, func: &str, anchor: &Anchor) -> bool {
        self.functions.get(func).is_some_and(|s| s.iter().any(|s| s.anchor == *anchor))
    }
}

/// The catalogue of `variant` over every built-in scenario and `extra`.
pub fn catalogue(variant: Variant, extra: Option<&Scenario>) -> Catalogue {
    let mut cat = Catalogue::default();
    let scenarios = crate::builtin::all().into_iter().chain(extra.cloned());
    for s in scenarios {
        for g in [Granularity::Source, Granularity::Mail] {
            // A scenario that does not compile has no steps to offer.
            for u in s.units(variant, g).unwrap_or_default() {
                cat.add(u.func, u.anchor, u.label);
            }
        }
    }
    cat
}

/// Checks a patch's limits, and that every function and step it names exists in the
/// scripts of its base variant (over the built-ins and `extra`). The message names the edit.
pub fn check(patch: &Patch, extra: Option<&Scenario>) -> Result<(), String> {
    patch.check_limits()?;
    let cat = catalogue(patch.base, extra);
    for (i, edit) in patch.edits.iter().enumerate() {
        let at = |why: String| format!("edit {} ({edit}): {why}", i + 1);
        let Some(steps) = cat.functions.get(edit.func()) else {
            return Err(at(format!("{} is not a function the model has in {}", edit.func(), patch.base)));
        };
        for a in edit.anchors() {
            if !cat.has(edit.func(), a) {
                let names: Vec<String> = steps.iter().map(|s| s.anchor.to_string()).collect();
                let why =
                    format!("{} has no step {a} in {} (its steps: {})", edit.func(), patch.base, names.join(", "));
                return Err(at(why));
            }
        }
    }
    Ok(())
}
