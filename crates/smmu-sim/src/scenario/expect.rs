//! Expected verdicts: which safety invariants the exhaustive explorer must find violated in
//! a scenario, per kernel variant and, where the two differ, per granularity.
//!
//! In JSON: `"expect": {"pre": ["inv1", "inv2"], "fix": [], "v6.9": {"mail": [], "source":
//! ["inv2"]}}`. An empty list means every interleaving is clean. The built-ins' expectations
//! are held by a test that explores each of them, so what the page and the CLI print as
//! "expected" is what the model finds.

use super::ScenarioError;
use crate::check::Invariant;
use crate::variant::{Granularity, Variant};
use serde::{Deserialize, Serialize};

/// The expected violated safety invariants per variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Under 71b0aa10.
    pub pre: Expected,
    /// Under 9f7c68911579.
    pub fix: Expected,
    /// Under v6.9.
    #[serde(rename = "v6.9")]
    pub v69: Expected,
}

/// The violated safety invariants of one variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Expected {
    /// The same at both granularities.
    Same(Vec<Invariant>),
    /// Different at `mail` and `source`.
    ByGranularity(ByGranularity),
}

/// Violated safety invariants at each granularity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ByGranularity {
    /// At `mail` granularity.
    pub mail: Vec<Invariant>,
    /// At `source` granularity.
    pub source: Vec<Invariant>,
}

impl Expect {
    /// The expectation for one variant.
    pub fn of(&self, v: Variant) -> &Expected {
        match v {
            Variant::Pre => &self.pre,
            Variant::Fix => &self.fix,
            Variant::V69 => &self.v69,
        }
    }

    /// Every list holds safety invariants only, each at most once.
    pub fn check(&self) -> Result<(), ScenarioError> {
        for v in Variant::ALL {
            for g in Granularity::ALL {
                check_list(v, g, self.of(v).at(g))?;
            }
        }
        Ok(())
    }
}

impl Expected {
    /// The violated invariants at a granularity, in report order.
    pub fn at(&self, g: Granularity) -> &[Invariant] {
        match (self, g) {
            (Expected::Same(l), _) => l,
            (Expected::ByGranularity(b), Granularity::Mail) => &b.mail,
            (Expected::ByGranularity(b), Granularity::Source) => &b.source,
        }
    }

    /// Whether both granularities expect the same.
    pub fn uniform(&self) -> bool {
        let set = |g| {
            let mut l = self.at(g).to_vec();
            l.sort();
            l
        };
        set(Granularity::Mail) == set(Granularity::Source)
    }

    /// `clean`, or the ids joined by `, `; per granularity when they differ
    /// (`mail: clean; source: inv2`). For tables and listings.
    pub fn summary(&self) -> String {
        let list = |l: &[Invariant]| match l {
            [] => "clean".to_string(),
            l => l.iter().map(|i| i.id()).collect::<Vec<_>>().join(", "),
        };
        if self.uniform() {
            return list(self.at(Granularity::Mail));
        }
        Granularity::ALL.iter().map(|g| format!("{g}: {}", list(self.at(*g)))).collect::<Vec<_>>().join("; ")
    }
}

fn check_list(v: Variant, g: Granularity, list: &[Invariant]) -> Result<(), ScenarioError> {
    for (i, inv) in list.iter().enumerate() {
        if !inv.is_safety() {
            return Err(ScenarioError::new(format!(
                "expect.{v}: {} is not a safety invariant (only those are expected)",
                inv.id()
            )));
        }
        if list[..i].contains(inv) {
            return Err(ScenarioError::new(format!("expect.{v} ({g}) names {} twice", inv.id())));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Expect, String> {
        let e: Expect = serde_json::from_str(text).map_err(|e| e.to_string())?;
        e.check().map_err(|e| e.message)?;
        Ok(e)
    }

    #[test]
    fn lists_and_per_granularity_lists_parse() {
        let e = parse(r#"{"pre": ["inv1", "dma"], "fix": [], "v6.9": {"mail": [], "source": ["inv2"]}}"#).unwrap();
        assert_eq!(e.pre.at(Granularity::Source), [Invariant::Inv1, Invariant::Dma]);
        assert_eq!(e.v69.at(Granularity::Mail), []);
        assert_eq!(e.v69.at(Granularity::Source), [Invariant::Inv2]);
        assert_eq!(e.pre.summary(), "inv1, dma");
        assert_eq!(e.fix.summary(), "clean");
        assert_eq!(e.v69.summary(), "mail: clean; source: inv2");
    }

    #[test]
    fn the_lock_rule_duplicates_and_unknown_ids_are_refused() {
        assert!(parse(r#"{"pre": ["lock"], "fix": [], "v6.9": []}"#).unwrap_err().contains("not a safety"));
        assert!(parse(r#"{"pre": ["inv1", "inv1"], "fix": [], "v6.9": []}"#).unwrap_err().contains("twice"));
        assert!(parse(r#"{"pre": ["inv9"], "fix": [], "v6.9": []}"#).is_err());
        assert!(parse(r#"{"pre": [], "fix": []}"#).is_err(), "every variant is given");
        assert!(parse(r#"{"pre": {"mail": []}, "fix": [], "v6.9": []}"#).is_err(), "both granularities");
    }
}
