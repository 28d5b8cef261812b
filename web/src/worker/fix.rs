//! Find-fix in the worker: the search of `smmu_sim::patch::find` a slice at a time, with
//! progress between slices and a cancel read within one slice, then a full re-check of each
//! patch it reports. Patches cross as their printed text, which the page reads back.
//!
//! The page splits a search into [`SHARDS`] shards (`Finder::shard`: by lock and move, so every
//! candidate whose verdict another's implies stays with it), one per worker. Each returns its
//! clean patches ([`Shard`]); the page puts them together ([`merge`]), and one worker re-checks
//! the patches the merged result shows ([`recheck_shown`]).

use serde::{Deserialize, Serialize};
use smmu_sim::patch::find::{self, Finder, Rechecked};
use smmu_sim::patch::{presets, LockName};
use smmu_sim::{share, Scenario};

/// Patches reported per list (all clean ones; those that also keep the lock rule).
pub const TOP: usize = 10;

/// Most states one candidate's search may keep (the CLI's default).
pub const MAX_STATES: u64 = 20_000;

/// Most states a reported patch's full re-check may keep; past it the re-check is incomplete.
pub const RECHECK_STATES: u64 = 500_000;

/// Workers a search is split over: the machines this runs on have two cores.
pub const SHARDS: u8 = 2;

/// What the page asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixQuery {
    /// The permalink code of the unpatched scenario, its variant and granularity.
    pub link: String,
    /// The function to patch.
    pub function: String,
    /// The lock of the critical section (its id, as `LockName` spells it).
    pub lock: String,
    /// This shard and the number of shards: (0, 1) for the whole search.
    #[serde(default = "whole")]
    pub shard: (u8, u8),
}

fn whole() -> (u8, u8) {
    (0, 1)
}

/// A clean patch a shard found, with what ranks it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardFound {
    /// The patch as `smmu_sim::patch::print` writes it.
    pub patch: String,
    /// Edits.
    pub size: u64,
    /// Units the section holds.
    pub held: u64,
    /// Its place in the whole search's enumeration order.
    pub index: u64,
    /// It also keeps the `lock` rule.
    pub keeps_lock_rule: bool,
}

/// What one shard of a search found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shard {
    /// Its clean patches.
    pub found: Vec<ShardFound>,
    /// Its candidates.
    pub total: u64,
    /// Its candidates whose search hit the state bound.
    pub undecided: u64,
    /// Its candidates the script cannot express.
    pub refused: u64,
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
        let (k, n) = q.shard;
        if k >= n || n > SHARDS {
            return Err(format!("shard {k} of {n} (at most {SHARDS})"));
        }
        let finder = Finder::new(&scenario, link.variant, link.granularity, &q.function, &[lock], MAX_STATES)?
            .shard(usize::from(k), usize::from(n));
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

    /// What this shard found.
    pub fn shard(&self) -> Shard {
        let p = self.finder.progress();
        let all = self.finder.found();
        let found = all.iter().map(|f| ShardFound {
            patch: smmu_sim::patch::print(&f.patch, None),
            size: f.size as u64,
            held: f.held as u64,
            index: f.index as u64,
            keeps_lock_rule: f.keeps_lock_rule,
        });
        Shard {
            found: found.collect(),
            total: p.total as u64,
            undecided: p.undecided as u64,
            refused: p.refused as u64,
        }
    }

    /// The result of a search that was not split, each reported patch re-checked.
    pub fn result(&self, millis: u64) -> FixResult {
        let mut r = merge(&[self.shard()], millis);
        recheck_shown(&self.scenario, self.granularity, &mut r);
        r
    }
}

/// The result of a search from its shards, ranked as one search ranks (edits, then the steps the
/// section holds, then the enumeration order); the patches it shows are not yet re-checked.
pub fn merge(shards: &[Shard], millis: u64) -> FixResult {
    let mut found: Vec<&ShardFound> = shards.iter().flat_map(|s| &s.found).collect();
    found.sort_by_key(|f| (f.size, f.held, f.index));
    let keepers: Vec<(usize, &&ShardFound)> = found.iter().enumerate().filter(|(_, f)| f.keeps_lock_rule).collect();
    let shown = |(i, f): (usize, &&ShardFound)| FixFound {
        rank: i as u64 + 1,
        patch: f.patch.clone(),
        size: f.size,
        held: f.held,
        keeps_lock_rule: f.keeps_lock_rule,
        recheck: String::new(),
        interleavings: String::new(),
    };
    let base = found.first().and_then(|f| smmu_sim::patch::parse(&f.patch).ok()).map(|p| p.base);
    let presets = presets::PRESETS
        .iter()
        .filter(|pr| Some(pr.base) == base)
        .filter_map(|pr| {
            let text = smmu_sim::patch::print(&pr.patch(), None);
            let rank = found.iter().position(|f| f.patch == text)?;
            let kept = keepers.iter().position(|(_, f)| f.patch == text).map(|r| r as u64 + 1);
            Some((pr.id.to_string(), rank as u64 + 1, kept))
        })
        .collect();
    FixResult {
        total: shards.iter().map(|s| s.total).sum(),
        clean: found.len() as u64,
        clean_lock_rule: keepers.len() as u64,
        undecided: shards.iter().map(|s| s.undecided).sum(),
        refused: shards.iter().map(|s| s.refused).sum(),
        top: found.iter().enumerate().take(TOP).map(shown).collect(),
        top_lock_rule: keepers.iter().copied().take(TOP).map(shown).collect(),
        presets,
        millis,
    }
}

/// Re-checks every patch a result shows with a full exhaustive run (each once: the two lists
/// overlap), on `scenario` unpatched ([`recheck_target`] gives it for a query).
pub fn recheck_shown(scenario: &Scenario, granularity: smmu_sim::Granularity, r: &mut FixResult) {
    let mut checked = std::collections::BTreeMap::new();
    for f in r.top.iter_mut().chain(r.top_lock_rule.iter_mut()) {
        let (word, n) = checked.entry(f.rank).or_insert_with(|| recheck(scenario, granularity, &f.patch)).clone();
        (f.recheck, f.interleavings) = (word.to_string(), n);
    }
}

/// A full re-check of a patch: its word, and its interleavings when clean.
fn recheck(scenario: &Scenario, granularity: smmu_sim::Granularity, patch: &str) -> (&'static str, String) {
    let Ok(patch) = smmu_sim::patch::parse(patch) else { return ("incomplete", String::new()) };
    match find::verify(scenario, &patch, granularity, RECHECK_STATES) {
        Ok(Rechecked::Clean { interleavings }) => ("clean", interleavings.to_string()),
        Ok(Rechecked::Violated) => ("violated", String::new()),
        Ok(Rechecked::Incomplete) | Err(_) => ("incomplete", String::new()),
    }
}

/// The unpatched scenario and granularity of a query's link, for [`recheck_shown`].
pub fn recheck_target(q: &FixQuery) -> Result<(Scenario, smmu_sim::Granularity), String> {
    let link = share::decode(&q.link).map_err(|e| e.to_string())?;
    Ok((Scenario { patch: None, ..link.scenario }, link.granularity))
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
        FixQuery { link, function: function.into(), lock: lock.into(), shard: (0, 1) }
    }

    fn run(q: &FixQuery) -> Search {
        let mut s = Search::start(q).expect("starts");
        while !s.done() {
            s.step();
        }
        s
    }

    /// Two shards, merged and re-checked, give the whole search's result.
    #[test]
    fn two_shards_merged_are_the_whole_search() {
        let q = query("arm_smmu_attach_dev", "arm_smmu_asid_lock");
        let whole = run(&q).result(0);
        let shards: Vec<Shard> =
            (0..SHARDS).map(|k| run(&FixQuery { shard: (k, SHARDS), ..q.clone() }).shard()).collect();
        assert!(shards.iter().all(|s| s.total > 0 && s.total < whole.total), "both shards have work");
        let mut merged = merge(&shards, 0);
        let (scenario, granularity) = recheck_target(&q).expect("decodes");
        recheck_shown(&scenario, granularity, &mut merged);
        assert_eq!(merged, whole);
        let bad = FixQuery { shard: (2, 2), ..q };
        assert!(Search::start(&bad).err().expect("refused").contains("shard 2 of 2"));
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
