//! Find-fix in the worker: the search of `smmu_sim::patch::find` a slice at a time, with
//! progress between slices and a cancel read within one slice, then a full re-check of each
//! patch it reports. Patches cross as their printed text, which the page reads back.

use serde::{Deserialize, Serialize};
use smmu_sim::patch::find::{self, Finder, Found, Rechecked};
use smmu_sim::patch::{presets, LockName};
use smmu_sim::{share, Scenario};

/// Patches reported per list (all clean ones; those that also keep the lock rule).
pub const TOP: usize = 10;

/// Most states one candidate's search may keep (the CLI's default).
pub const MAX_STATES: u64 = 20_000;

/// Most states a reported patch's full re-check may keep; past it the re-check is incomplete.
pub const RECHECK_STATES: u64 = 500_000;

/// What the page asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixQuery {
    /// The permalink code of the unpatched scenario, its variant and granularity.
    pub link: String,
    /// The function to patch.
    pub function: String,
    /// The lock of the critical section (its id, as `LockName` spells it).
    pub lock: String,
}

/// Where a search is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixProgress {
    /// Candidates tried.
    pub tried: u64,
    /// Candidates in all.
    pub total: u64,
    /// Clean ones so far.
    pub clean: u64,
}

/// One reported patch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixFound {
    /// Its rank among all clean patches, from 1.
    pub rank: u64,
    /// The patch as `smmu_sim::patch::print` writes it (no diff).
    pub patch: String,
    /// Edits: 1 (a critical section) or 2 (and a move).
    pub size: u64,
    /// Units of the function the section holds.
    pub held: u64,
    /// It also keeps the `lock` rule.
    pub keeps_lock_rule: bool,
    /// The full re-check: `clean`, `violated` or `incomplete`.
    pub recheck: String,
    /// Interleavings of a clean re-check, in decimal.
    pub interleavings: String,
}

/// A finished search.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixResult {
    /// Candidates tried (all of them).
    pub total: u64,
    /// Clean candidates.
    pub clean: u64,
    /// Clean candidates that keep the lock rule.
    pub clean_lock_rule: u64,
    /// Candidates whose search hit the state bound.
    pub undecided: u64,
    /// Candidates the script cannot express.
    pub refused: u64,
    /// The first [`TOP`] clean patches.
    pub top: Vec<FixFound>,
    /// The first [`TOP`] that keep the lock rule.
    pub top_lock_rule: Vec<FixFound>,
    /// Presets of this base found clean: id, rank overall, rank among the lock-rule keepers.
    pub presets: Vec<(String, u64, Option<u64>)>,
    /// Milliseconds the search took.
    pub millis: u64,
}

/// A search and what it needs to report.
pub struct Search {
    finder: Finder,
    scenario: Scenario,
    granularity: smmu_sim::Granularity,
}

impl Search {
    /// Starts a search; a bad link, function or lock is an error in words.
    pub fn start(q: &FixQuery) -> Result<Search, String> {
        let link = share::decode(&q.link).map_err(|e| e.to_string())?;
        let lock: LockName = q.lock.parse()?;
        let scenario = Scenario { patch: None, ..link.scenario };
        let finder = Finder::new(&scenario, link.variant, link.granularity, &q.function, &[lock], MAX_STATES)?;
        Ok(Search { finder, scenario, granularity: link.granularity })
    }

    /// Tries one candidate.
    pub fn step(&mut self) -> FixProgress {
        let p = self.finder.step(1);
        let clean = self.finder.found_count();
        FixProgress { tried: p.tried as u64, total: p.total as u64, clean: clean as u64 }
    }

    /// Whether every candidate was tried.
    pub fn done(&self) -> bool {
        self.finder.progress().done
    }

    /// The result, each reported patch re-checked.
    pub fn result(&self, millis: u64) -> FixResult {
        let found = self.finder.found();
        let keepers: Vec<(usize, &Found)> = found.iter().enumerate().filter(|(_, f)| f.keeps_lock_rule).collect();
        // The two lists overlap: each shown patch is re-checked once.
        let mut checked = std::collections::BTreeMap::new();
        let mut report = |(i, f): (usize, &Found)| {
            let (recheck, n) = checked.entry(i).or_insert_with(|| self.recheck(f)).clone();
            FixFound {
                rank: i as u64 + 1,
                patch: smmu_sim::patch::print(&f.patch, None),
                size: f.size as u64,
                held: f.held as u64,
                keeps_lock_rule: f.keeps_lock_rule,
                recheck: recheck.to_string(),
                interleavings: n,
            }
        };
        let p = self.finder.progress();
        let base = found.first().map(|f| f.patch.base);
        let presets = presets::PRESETS
            .iter()
            .filter(|pr| Some(pr.base) == base)
            .filter_map(|pr| {
                let patch = pr.patch();
                let rank = found.iter().position(|f| f.patch == patch)?;
                let kept = keepers.iter().position(|(_, f)| f.patch == patch).map(|r| r as u64 + 1);
                Some((pr.id.to_string(), rank as u64 + 1, kept))
            })
            .collect();
        FixResult {
            total: p.total as u64,
            clean: found.len() as u64,
            clean_lock_rule: keepers.len() as u64,
            undecided: p.undecided as u64,
            refused: p.refused as u64,
            top: found.iter().enumerate().take(TOP).map(&mut report).collect(),
            top_lock_rule: keepers.iter().copied().take(TOP).map(&mut report).collect(),
            presets,
            millis,
        }
    }

    /// A full re-check of a found patch: its word, and its interleavings when clean.
    fn recheck(&self, f: &Found) -> (&'static str, String) {
        match find::verify(&self.scenario, &f.patch, self.granularity, RECHECK_STATES) {
            Ok(Rechecked::Clean { interleavings }) => ("clean", interleavings.to_string()),
            Ok(Rechecked::Violated) => ("violated", String::new()),
            Ok(Rechecked::Incomplete) | Err(_) => ("incomplete", String::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smmu_sim::sched::Schedule;
    use smmu_sim::{builtin, Granularity, Variant};

    fn query(function: &str, lock: &str) -> FixQuery {
        let link = share::Link {
            scenario: builtin::get("seed-race").expect("built-in"),
            variant: Variant::Pre,
            granularity: Granularity::Mail,
            schedule: Schedule::default(),
            cursor: None,
        };
        let link = share::encode(&link).expect("encodes");
        FixQuery { link, function: function.into(), lock: lock.into() }
    }

    #[test]
    fn a_bad_query_is_refused_in_words() {
        let bad_link = FixQuery { link: "v2.%%%".into(), ..query("arm_smmu_attach_dev", "arm_smmu_asid_lock") };
        assert!(Search::start(&bad_link).is_err());
        let e = Search::start(&query("arm_smmu_attach_dev", "big_kernel_lock")).err().expect("refused");
        assert!(e.contains("big_kernel_lock"), "{e}");
        let e = Search::start(&query("no_such_function", "arm_smmu_asid_lock")).err().expect("refused");
        assert!(e.contains("no_such_function"), "{e}");
    }

    #[test]
    fn the_seed_race_search_reports_the_real_patch_and_rechecks_what_it_shows() {
        let mut s = Search::start(&query("arm_smmu_attach_dev", "arm_smmu_asid_lock")).expect("starts");
        let mut last = s.step();
        while !s.done() {
            last = s.step();
        }
        let r = s.result(0);
        assert_eq!((last.tried, last.total, last.clean), (r.total, r.total, r.clean));
        assert_eq!((r.total, r.clean, r.clean_lock_rule, r.refused, r.undecided), (14_287, 1_441, 221, 819, 0));
        assert!(r.presets.contains(&("9f7c6891".to_string(), 1_341, Some(171))), "{:?}", r.presets);
        assert_eq!((r.top.len(), r.top_lock_rule.len()), (TOP, TOP));
        for f in r.top.iter().chain(&r.top_lock_rule) {
            assert_eq!(f.recheck, "clean", "#{}", f.rank);
            let p = smmu_sim::patch::parse(&f.patch).expect("reads back");
            assert_eq!(p.base, Variant::Pre);
        }
        assert!(r.top_lock_rule.iter().all(|f| f.keeps_lock_rule));
    }
}
