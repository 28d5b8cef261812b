//! The gallery's data (`#gallery`): every built-in scenario by group, plus the session saved
//! in this browser, each with its verdicts under pre, fix and v6.9, explored in the check's
//! worker one run after another at [`MAX_STATES`] states at most.
//!
//! Results are cached in local storage under a key holding the build's id (the crate version
//! and a hash of every built-in's text and of the bound), so a second visit shows them at
//! once and a new build recomputes them. Whatever is stored is untrusted: a value that does
//! not parse, or belongs to another build, is ignored.

use std::rc::Rc;

use serde::{Deserialize, Serialize};
use smmu_sim::check::Invariant;
use smmu_sim::sched::Schedule;
use smmu_sim::share::{self, Link};
use smmu_sim::{builtin, Granularity, Scenario, Variant};

use crate::components::group;
use crate::worker::SummaryData;

/// The state bound of one gallery run: a larger run says "too large to count here".
pub const MAX_STATES: u64 = 200_000;

/// Prefix of the cache's local-storage key; the build id follows it.
pub const KEY_PREFIX: &str = "smmu-playground.gallery.";

/// The heading of the session saved in this browser.
pub const SAVED_GROUP: &str = "Saved in this browser";

/// FNV-1a, 64 bits: a stable hash of text (no std hasher, whose output may change).
fn fnv(bytes: impl IntoIterator<Item = u8>, mut h: u64) -> u64 {
    for b in bytes {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    h
}

const FNV_SEED: u64 = 0xcbf2_9ce4_8422_2325;

/// The build's id: the crate version and a hash of the built-ins' texts and the bound.
pub fn build_id() -> String {
    let texts = builtin::all().into_iter().map(|s| s.to_json()).collect::<Vec<_>>().join("\n");
    let hash = fnv(format!("{texts}\n{MAX_STATES}").into_bytes(), FNV_SEED);
    format!("{}-{hash:016x}", env!("CARGO_PKG_VERSION"))
}

/// The local-storage key of this build's cache.
pub fn cache_key(build: &str) -> String {
    format!("{KEY_PREFIX}{build}")
}

/// One scenario under one variant, as the gallery shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// `violated`, `clean` or `incomplete`.
    pub verdict: String,
    /// `exact`, `estimate` or `unknown`.
    pub counts: String,
    /// Unique states visited (up to ASID renaming where the run used it).
    pub states: u64,
    /// Complete interleavings, when exact.
    pub interleavings: Option<String>,
    /// Violating interleavings, when exact.
    pub violating: Option<String>,
    /// Invariants a counterexample was found for (the design rule `lock` included).
    pub violated: Vec<String>,
}

impl Outcome {
    /// The reading of a finished worker run.
    pub fn of(d: &SummaryData) -> Outcome {
        let exact = d.counts == "exact";
        Outcome {
            verdict: d.verdict.clone(),
            counts: if d.counts.is_empty() { "unknown".into() } else { d.counts.clone() },
            states: d.unique_states,
            interleavings: exact.then(|| d.interleavings.clone()),
            violating: exact.then(|| d.violating.clone()),
            violated: d.shortest_by_invariant.iter().map(|(i, _)| i.clone()).collect(),
        }
    }

    /// The verdict in words: the safety invariants violated, clean, or neither known.
    pub fn verdict_text(&self) -> String {
        let safety: Vec<&str> = self
            .violated
            .iter()
            .map(String::as_str)
            .filter(|id| Invariant::ALL.iter().any(|i| i.id() == *id && i.is_safety()))
            .collect();
        match self.verdict.as_str() {
            "violated" if safety.is_empty() => "violated".into(),
            "violated" => format!("violated: {}", safety.join(", ")),
            "clean" => "clean".into(),
            _ => "no violation found before the bound".into(),
        }
    }

    /// The counts in words: exact, or too large to count here (never a 0 for an unknown).
    pub fn counts_text(&self) -> String {
        match (&self.interleavings, &self.violating, self.counts.as_str()) {
            (Some(total), Some(bad), "exact") => {
                format!("{} states · {} interleavings · {} violating", commas(self.states), digits(total), digits(bad))
            }
            (_, _, "estimate") => {
                format!(
                    "{} states · too large to count here (more interleavings than 128 bits hold)",
                    commas(self.states)
                )
            }
            _ => format!("too large to count here (stopped at {} states)", commas(MAX_STATES)),
        }
    }
}

fn commas(n: u64) -> String {
    group(u128::from(n))
}

fn digits(n: &str) -> String {
    n.parse::<u128>().map_or_else(|_| n.to_string(), group)
}

/// The cache as stored: its build and the outcome of each run by [`run_key`].
#[derive(Serialize, Deserialize)]
struct Stored {
    build: String,
    cells: Vec<(String, Outcome)>,
}

/// The cache's text for local storage.
pub fn encode_cache(build: &str, cells: &[(String, Outcome)]) -> String {
    serde_json::to_string(&Stored { build: build.into(), cells: cells.to_vec() }).unwrap_or_default()
}

/// The cached outcomes in `text`, if it is this build's cache; else none.
pub fn decode_cache(text: &str, build: &str) -> Vec<(String, Outcome)> {
    match serde_json::from_str::<Stored>(text) {
        Ok(s) if s.build == build => s.cells,
        _ => Vec::new(),
    }
}

/// A scenario the gallery lists.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// What names its runs in the cache: the built-in's id, or `saved.<hash>`.
    pub key: String,
    /// The scenario.
    pub scenario: Rc<Scenario>,
    /// The granularity it is explored at.
    pub granularity: Granularity,
    /// The fragment that opens it in the playground (a permalink).
    pub open: String,
}

impl Entry {
    /// The permalink code a worker run of `variant` explores: no schedule.
    pub fn run_link(&self, variant: Variant) -> Result<String, String> {
        let link = Link {
            scenario: (*self.scenario).clone(),
            variant,
            granularity: self.granularity,
            schedule: Schedule::default(),
            cursor: None,
        };
        share::encode(&link).map_err(|e| e.to_string())
    }
}

/// The cache key of one run.
pub fn run_key(entry: &str, variant: Variant) -> String {
    format!("{entry}/{}", variant.name())
}

/// The built-ins by group, as the picker lists them, each with the permalink the playground
/// writes for it; then the saved session (`saved`, a permalink) under [`SAVED_GROUP`].
pub fn entries(saved: Option<&str>) -> Vec<(String, Vec<Entry>)> {
    let mut out: Vec<(String, Vec<Entry>)> =
        builtin::grouped().into_iter().map(|(g, list)| (g, list.into_iter().map(built_in).collect())).collect();
    if let Some(entry) = saved.and_then(saved_entry) {
        out.push((SAVED_GROUP.to_string(), vec![entry]));
    }
    out
}

fn built_in(s: Scenario) -> Entry {
    let page = crate::state::AppState::new(&s.id, s.variant, s.granularity);
    let open = page.link().unwrap_or_default();
    Entry { key: s.id.clone(), granularity: s.granularity, scenario: Rc::new(s), open }
}

/// The saved session as an entry: its scenario at its granularity; none if it does not open.
fn saved_entry(text: &str) -> Option<Entry> {
    let text = text.trim();
    let link = share::decode(text).ok()?;
    let what = format!("{}\n{}", link.scenario.to_json(), link.granularity.name());
    let key = format!("saved.{:016x}", fnv(what.into_bytes(), FNV_SEED));
    Some(Entry { key, granularity: link.granularity, scenario: Rc::new(link.scenario), open: text.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome(verdict: &str, counts: &str, exact: Option<(&str, &str)>) -> Outcome {
        Outcome {
            verdict: verdict.into(),
            counts: counts.into(),
            states: 1958,
            interleavings: exact.map(|e| e.0.into()),
            violating: exact.map(|e| e.1.into()),
            violated: if verdict == "violated" { vec!["inv1".into(), "lock".into()] } else { vec![] },
        }
    }

    #[test]
    fn the_cache_is_read_back_only_by_its_own_build() {
        let cells = vec![("seed-race/pre".to_string(), outcome("violated", "exact", Some(("534628728", "57320550"))))];
        let text = encode_cache("0.1.0-abc", &cells);
        assert_eq!(decode_cache(&text, "0.1.0-abc"), cells);
        assert!(decode_cache(&text, "0.1.0-def").is_empty(), "another build's cache is ignored");
        assert!(decode_cache("{not json", "0.1.0-abc").is_empty());
        assert!(decode_cache("", "0.1.0-abc").is_empty());
        assert_eq!(cache_key("b"), "smmu-playground.gallery.b");
    }

    #[test]
    fn the_build_id_follows_the_built_ins_and_is_stable() {
        let id = build_id();
        assert_eq!(id, build_id());
        assert!(id.starts_with(&format!("{}-", env!("CARGO_PKG_VERSION"))), "{id}");
        assert_eq!(id.len(), env!("CARGO_PKG_VERSION").len() + 17);
        assert_ne!(fnv(*b"a", FNV_SEED), fnv(*b"b", FNV_SEED));
    }

    #[test]
    fn counts_are_exact_or_too_large_never_zero() {
        let exact = outcome("violated", "exact", Some(("534628728", "57320550")));
        assert_eq!(exact.counts_text(), "1,958 states · 534,628,728 interleavings · 57,320,550 violating");
        assert_eq!(exact.verdict_text(), "violated: inv1", "the design rule is not a safety verdict");
        for o in [outcome("incomplete", "unknown", None), outcome("violated", "unknown", None)] {
            let text = format!("{} {}", o.verdict_text(), o.counts_text());
            assert!(text.contains("too large to count here"), "{text}");
            assert!(!text.contains(" 0 ") && !text.contains("clean") && !text.contains("safe"), "{text}");
        }
        assert_eq!(outcome("clean", "exact", Some(("10", "0"))).verdict_text(), "clean");
        let estimate = outcome("clean", "estimate", None);
        assert!(estimate.counts_text().contains("too large to count here"));
    }

    #[test]
    fn every_built_in_is_listed_once_in_picker_order_and_the_saved_session_last() {
        let groups = entries(None);
        let ids: Vec<String> = groups.iter().flat_map(|(_, e)| e.iter().map(|e| e.key.clone())).collect();
        let picker: Vec<String> =
            builtin::grouped().into_iter().flat_map(|(_, l)| l.into_iter().map(|s| s.id)).collect();
        assert_eq!(ids, picker, "the picker's order");
        let (mut got, mut want) = (ids.clone(), builtin::ids().map(String::from).collect::<Vec<_>>());
        got.sort();
        want.sort();
        assert_eq!(got, want, "each built-in once");
        assert_eq!(groups[0].0, "The seed race");
        assert!(groups.iter().all(|(g, _)| g != SAVED_GROUP));
        let seed = &groups[0].1[0];
        assert!(seed.open.starts_with("v1.") || seed.open.starts_with("v2."), "{}", seed.open);
        let back = share::decode(&seed.open).unwrap();
        assert_eq!(back.scenario.id, "seed-race");
        assert!(seed.run_link(Variant::Fix).unwrap() != seed.open);
        let with = entries(Some(&seed.open));
        let (g, saved) = with.last().unwrap();
        assert_eq!((g.as_str(), saved.len()), (SAVED_GROUP, 1));
        assert!(saved[0].key.starts_with("saved.") && saved[0].open == seed.open);
        assert_eq!(entries(Some("v1.garbage")).len(), groups.len(), "a session that does not open is left out");
    }
}
