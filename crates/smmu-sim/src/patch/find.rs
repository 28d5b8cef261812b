//! Find a fix: the smallest patches to one function that make a scenario's exhaustive check
//! clean (no safety violation, no deadlock, no misused lock, so every thread finishes).
//!
//! A candidate is one critical section of one lock (a lock before unit `p`, an unlock before
//! unit `q > p` or at the end, replacing the function's own steps of that lock), optionally
//! after one move of a unit of the function. The order, which is also the order of ties in
//! the result: locks as given; no move first, then each unit in script order moved before
//! each other unit in script order and then to the end; sections by start, then by end. A
//! move that changes nothing (before the unit's own successor) is skipped, and so is a
//! candidate whose programs equal one already checked (its verdict is that one's).
//!
//! While searching, a candidate's verdict is first taken, where [`super::bracket`] proves it
//! follows, from one of the same lock and move already checked: a section that holds the
//! lock wherever a violated one does is violated too, and one that widens a clean section's
//! end over steps that take no lock a cycle of waits could pass through is clean (it keeps
//! the lock rule if the narrow one does; else that alone is checked). Otherwise the
//! candidate is run along the counterexamples of earlier ones (a violation there is a
//! violation); otherwise its search stops at its first violation and uses partial-order
//! reduction and ASID symmetry, which keep every verdict exact. [`recheck`] runs a found
//! patch through a full exhaustive search of its own.

use super::bracket::{self, Body, Held};
use super::{Edit, LockName, Patch, Pos, UnitInfo};
use crate::check::Invariant;
use crate::explore::{Explorer, Limits, Summary};
use crate::scenario::Scenario;
use crate::sched::{self, Schedule};
use crate::variant::{Granularity, Variant};
use std::collections::BTreeMap;

/// Most candidates one search tries.
pub const MAX_CANDIDATES: usize = 250_000;

/// A clean patch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The patch.
    pub patch: Patch,
    /// 1 (a critical section) or 2 (and a move).
    pub size: usize,
    /// Units of the function inside the critical section.
    pub held: usize,
    /// Its place in the enumeration, from 0.
    pub index: usize,
    /// Whether it also keeps the fix's design rule (`lock`: lists and CDs agree whenever
    /// `arm_smmu_asid_lock` is free), which is not a safety invariant.
    pub keeps_lock_rule: bool,
}

/// Where a search is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Candidates tried so far (duplicates included).
    pub tried: usize,
    /// Candidates in all.
    pub total: usize,
    /// Candidates whose search hit the state bound: neither clean nor violated.
    pub undecided: usize,
    /// Candidates the script cannot express (a move that would make a branch a loop).
    pub refused: usize,
    /// Candidates whose verdict followed from another's, without a search of their own.
    pub inferred: usize,
    /// Whether the search is over.
    pub done: bool,
}

/// What a candidate's search found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// `safety`: an invariant other than deadlock freedom breaks.
    Violated {
        safety: bool,
    },
    Refused,
    Clean {
        keeps_lock_rule: bool,
    },
}

/// A candidate's move: a unit before another (or to the end).
type Move = Option<(usize, Option<usize>)>;

/// One candidate, before it is turned into edits.
#[derive(Clone, Debug)]
struct Candidate {
    /// Its place in the enumeration, from 0.
    index: usize,
    /// Its lock and move, numbered in enumeration order.
    group: usize,
    lock: LockName,
    moved: Move,
    p: usize,
    q: usize,
}

/// A resumable search (the page runs it a slice at a time in its worker).
#[derive(Clone, Debug)]
pub struct Finder {
    scenario: Scenario,
    variant: Variant,
    granularity: Granularity,
    func: &'static str,
    units: Vec<UnitInfo>,
    candidates: Vec<Candidate>,
    next: usize,
    max_states: u64,
    seen: BTreeMap<u128, Verdict>,
    found: Vec<Found>,
    undecided: usize,
    refused: usize,
    first_undecided: Option<(usize, Patch)>,
    /// Counterexamples of earlier candidates, most recently useful first: most candidates
    /// break the same way, and replaying a schedule is far cheaper than a search.
    witnesses: Vec<Schedule>,
    /// Every emission of the function, for [`bracket::held`]; empty turns inference off.
    bodies: Vec<Body>,
    /// Per lock and move, the sections checked and found violated (a safety invariant, not
    /// only a deadlock) or clean.
    known: BTreeMap<(usize, Move), Known>,
    inferred: usize,
}

#[derive(Clone, Debug, Default)]
struct Known {
    violated: Vec<Held>,
    /// With the start of the section and whether it keeps the lock rule.
    clean: Vec<(usize, Held, bool)>,
}

/// Counterexamples kept for replay.
const WITNESSES: usize = 8;

impl Finder {
    /// A search over `func` of `scenario` at `variant`, for `locks` (every lock when empty).
    /// Each candidate's search keeps at most `max_states` states.
    pub fn new(
        scenario: &Scenario,
        variant: Variant,
        granularity: Granularity,
        func: &str,
        locks: &[LockName],
        max_states: u64,
    ) -> Result<Finder, String> {
        let all = scenario.units(variant, granularity).map_err(|e| e.to_string())?;
        let mut units: Vec<UnitInfo> = Vec::new();
        for u in all.into_iter().filter(|u| u.func == func) {
            if !units.iter().any(|v| v.anchor == u.anchor) {
                units.push(u);
            }
        }
        let Some(func) = units.first().map(|u| u.func) else {
            return Err(format!("scenario {} never calls {func} in {variant}", scenario.id));
        };
        let locks = if locks.is_empty() { LockName::ALL.to_vec() } else { locks.to_vec() };
        let candidates = enumerate(&units, &locks);
        if candidates.len() > MAX_CANDIDATES {
            return Err(format!("{} candidates; the limit is {MAX_CANDIDATES}", candidates.len()));
        }
        let scenario = Scenario { patch: None, ..scenario.clone() };
        // A scenario that does not compile has every candidate refused: nothing to infer.
        let bodies = scenario.bodies(variant, granularity, func).unwrap_or_default();
        let (seen, found) = (BTreeMap::new(), Vec::new());
        Ok(Finder {
            scenario,
            variant,
            granularity,
            func,
            units,
            candidates,
            next: 0,
            max_states,
            seen,
            found,
            undecided: 0,
            refused: 0,
            first_undecided: None,
            witnesses: Vec::new(),
            bodies,
            known: BTreeMap::new(),
            inferred: 0,
        })
    }

    /// Turns off taking verdicts from other candidates (every candidate is then checked on
    /// its own; the results are the same, which a test holds).
    pub fn without_inference(mut self) -> Self {
        self.bodies.clear();
        self
    }

    /// Tries up to `budget` candidates.
    pub fn step(&mut self, budget: usize) -> Progress {
        for _ in 0..budget {
            let Some(c) = self.candidates.get(self.next).cloned() else { break };
            let index = c.index;
            self.next += 1;
            let patch = self.patch_of(&c);
            match self.verdict(&c, &patch) {
                Some(Verdict::Clean { keeps_lock_rule }) => {
                    let (size, held) = (1 + usize::from(c.moved.is_some()), c.q - c.p);
                    self.found.push(Found { patch, size, held, index, keeps_lock_rule });
                }
                Some(Verdict::Violated { .. }) => {}
                Some(Verdict::Refused) => self.refused += 1,
                None => {
                    self.undecided += 1;
                    self.first_undecided.get_or_insert((index, patch));
                }
            }
        }
        self.progress()
    }

    /// The first candidate whose search hit the state bound, if any.
    pub fn first_undecided(&self) -> Option<&Patch> {
        self.first_undecided.as_ref().map(|(_, p)| p)
    }

    /// Keeps only the candidates of every `n`-th lock and move, from the `k`-th: `n` such
    /// searches (`k` = 0..n), run side by side, try every candidate once between them, and
    /// since each keeps a lock and move whole, every verdict it takes from another candidate
    /// is still at hand. [`merged`] puts their results together. Call before the first step.
    pub fn shard(mut self, k: usize, n: usize) -> Self {
        self.candidates.retain(|c| c.group % n.max(1) == k);
        self
    }

    /// Where the search is.
    pub fn progress(&self) -> Progress {
        Progress {
            tried: self.next,
            total: self.candidates.len(),
            undecided: self.undecided,
            refused: self.refused,
            inferred: self.inferred,
            done: self.next == self.candidates.len(),
        }
    }

    /// How many clean patches were found so far.
    pub fn found_count(&self) -> usize {
        self.found.len()
    }

    /// The clean patches found so far, ranked by size, then by the units the critical
    /// section holds, then by enumeration order.
    pub fn found(&self) -> Vec<Found> {
        let mut out = self.found.clone();
        out.sort_by_key(|f| (f.size, f.held, f.index));
        out
    }

    /// The edits of a candidate.
    fn patch_of(&self, c: &Candidate) -> Patch {
        let func = self.func.to_string();
        let anchor = |i: usize| self.units[i].anchor.clone();
        let mut edits = Vec::new();
        let mut order = section_order(&self.units, c.lock);
        if let Some((u, to)) = c.moved {
            let to_pos = to.map_or(Pos::End, |b| Pos::Before(anchor(b)));
            edits.push(Edit::Move { func: func.clone(), step: anchor(u), to: to_pos });
            order.retain(|&i| i != u);
            let at = to.and_then(|b| order.iter().position(|&i| i == b)).unwrap_or(order.len());
            order.insert(at, u);
        }
        for (i, u) in self.units.iter().enumerate() {
            if u.lock.is_some_and(|(_, l)| l == c.lock) {
                edits.push(Edit::Delete { func: func.clone(), step: anchor(i) });
            }
        }
        let at = |k: usize| order.get(k).map_or(Pos::End, |&i| Pos::Before(anchor(i)));
        edits.push(Edit::Insert { func: func.clone(), acquire: true, lock: c.lock, at: at(c.p) });
        edits.push(Edit::Insert { func, acquire: false, lock: c.lock, at: at(c.q) });
        Patch { base: self.variant, edits }
    }

    /// A candidate's verdict: taken from a checked one where that follows, else checked.
    fn verdict(&mut self, c: &Candidate, patch: &Patch) -> Option<Verdict> {
        let lock = LockName::ALL.iter().position(|l| *l == c.lock).unwrap_or(usize::MAX);
        let held = if self.bodies.is_empty() { None } else { bracket::held(&self.bodies, self.func, patch, c.lock) };
        let Some(held) = held else { return self.check(patch) };
        let known = self.known.entry((lock, c.moved)).or_default();
        if known.violated.iter().any(|w| held.implies_violation(w)) {
            self.inferred += 1;
            return Some(Verdict::Violated { safety: true });
        }
        if let Some(&(.., keeps)) = known.clean.iter().find(|(p, n, _)| *p == c.p && n.implies_clean(&held)) {
            let keeps_lock_rule = if keeps { Some(true) } else { self.keeps_lock_rule(patch) };
            if let Some(keeps_lock_rule) = keeps_lock_rule {
                self.inferred += 1;
                return Some(Verdict::Clean { keeps_lock_rule });
            }
        }
        let v = self.check(patch);
        let known = self.known.entry((lock, c.moved)).or_default();
        match v {
            Some(Verdict::Violated { safety: true }) => known.violated.push(held),
            Some(Verdict::Clean { keeps_lock_rule }) => known.clean.push((c.p, held, keeps_lock_rule)),
            _ => {}
        }
        v
    }

    /// Whether a patch known to be clean keeps the lock rule: a counterexample's replay or a
    /// search that stops where the rule first breaks. `None` when that search hit the bound.
    fn keeps_lock_rule(&mut self, patch: &Patch) -> Option<bool> {
        let s = Scenario { patch: Some(patch.clone()), ..self.scenario.clone() };
        let world = s.compile(self.variant, self.granularity).ok()?;
        let breaks = |w: &Schedule| sched::broken(&world, w).is_ok_and(|b| b.contains(&Invariant::Lock));
        if self.witnesses.iter().any(breaks) {
            return Some(false);
        }
        let limits = Limits { max_states: self.max_states };
        let mut explorer = Explorer::new(&world, limits).with_reduction(true).with_graph_limit(0);
        loop {
            let p = explorer.step(1024);
            if explorer.broke(Invariant::Lock) {
                return Some(false);
            }
            if p.done {
                return (!explorer.summary().limit_hit).then_some(true);
            }
        }
    }

    /// The patched scenario's verdict by replay or search; `None` when its search hit the
    /// state bound.
    fn check(&mut self, patch: &Patch) -> Option<Verdict> {
        let s = Scenario { patch: Some(patch.clone()), ..self.scenario.clone() };
        let Ok(world) = s.compile(self.variant, self.granularity) else { return Some(Verdict::Refused) };
        let key = shape_key(&world);
        if let Some(&v) = self.seen.get(&key) {
            return Some(v);
        }
        if let Some((i, v)) = self.witnesses.iter().enumerate().find_map(|(i, w)| breaks(&world, w).map(|v| (i, v))) {
            let w = self.witnesses.remove(i);
            self.witnesses.insert(0, w);
            self.seen.insert(key, v);
            return Some(v);
        }
        let limits = Limits { max_states: self.max_states };
        let mut explorer = Explorer::new(&world, limits).with_reduction(true).with_graph_limit(0);
        let clean = loop {
            let p = explorer.step(1024);
            if explorer.violated() {
                let s = explorer.summary();
                if let Some(w) = s.shortest {
                    self.witnesses.insert(0, w);
                    self.witnesses.truncate(WITNESSES);
                }
                break Some(violated(s.by_invariant.iter().filter(|(_, n)| *n > 0).map(|(i, _)| *i)));
            }
            if p.done {
                let s = explorer.summary();
                let keeps_lock_rule = s.by_invariant.iter().all(|(i, n)| *i != Invariant::Lock || *n == 0);
                break (!s.limit_hit).then_some(Verdict::Clean { keeps_lock_rule });
            }
        };
        if let Some(v) = clean {
            self.seen.insert(key, v);
        }
        clean
    }
}

/// A 128-bit digest of what the world's programs do (kinds and step boundaries), so that
/// candidates with equal programs share one verdict. SipHash with its fixed default keys, run
/// twice with different prefixes: deterministic, and a collision among a few hundred
/// thousand candidates is out of reach (the reported patches are re-checked anyway).
fn shape_key(world: &crate::World) -> u128 {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let digest = |salt: u8| {
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        for i in world.programs.iter().flat_map(|p| &p.instrs) {
            i.kind.hash(&mut h);
            i.visible.hash(&mut h);
        }
        h.finish()
    };
    (u128::from(digest(0)) << 64) | u128::from(digest(1))
}

/// What running `schedule` in `world` breaks, if it breaks a safety invariant or deadlocks.
fn breaks(world: &crate::World, schedule: &Schedule) -> Option<Verdict> {
    let broken = sched::broken(world, schedule).unwrap_or_default();
    broken.iter().any(|i| i.is_safety()).then(|| violated(broken.into_iter()))
}

/// The verdict of a search or run that broke `broken` (safety invariants among them).
fn violated(mut broken: impl Iterator<Item = Invariant>) -> Verdict {
    Verdict::Violated { safety: broken.any(|i| i.is_safety() && i != Invariant::Deadlock) }
}

/// The units in script order without the function's own steps of `lock`.
fn section_order(units: &[UnitInfo], lock: LockName) -> Vec<usize> {
    (0..units.len()).filter(|&i| !units[i].lock.is_some_and(|(_, l)| l == lock)).collect()
}

fn enumerate(units: &[UnitInfo], locks: &[LockName]) -> Vec<Candidate> {
    let mut out = Vec::new();
    let mut group = 0;
    for &lock in locks {
        let order = section_order(units, lock);
        let n = order.len();
        let mut moves: Vec<Move> = vec![None];
        for (k, &u) in order.iter().enumerate() {
            for (j, &b) in order.iter().enumerate() {
                if j != k && j != k + 1 {
                    moves.push(Some((u, Some(b))));
                }
            }
            if k + 1 != n {
                moves.push(Some((u, None)));
            }
        }
        for moved in moves {
            for p in 0..n {
                for q in p + 1..=n {
                    out.push(Candidate { index: out.len(), group, lock, moved, p, q });
                }
            }
            group += 1;
        }
    }
    out
}

/// The results of finished searches of the shards of one search ([`Finder::shard`]), as
/// the whole search would give them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Merged {
    /// The clean patches, ranked as [`Finder::found`] ranks them.
    pub found: Vec<Found>,
    /// The counts, summed.
    pub progress: Progress,
    /// The first candidate in enumeration order whose search hit the state bound.
    pub first_undecided: Option<Patch>,
}

/// Puts the results of the shards of one search together.
pub fn merged(shards: &[Finder]) -> Merged {
    let mut found: Vec<Found> = shards.iter().flat_map(|f| f.found.iter().cloned()).collect();
    found.sort_by_key(|f| (f.size, f.held, f.index));
    let mut progress = Progress { done: true, ..Progress::default() };
    for p in shards.iter().map(Finder::progress) {
        progress.tried += p.tried;
        progress.total += p.total;
        progress.undecided += p.undecided;
        progress.refused += p.refused;
        progress.inferred += p.inferred;
        progress.done &= p.done;
    }
    let first_undecided = shards.iter().filter_map(|f| f.first_undecided.as_ref()).min_by_key(|(i, _)| *i);
    Merged { found, progress, first_undecided: first_undecided.map(|(_, p)| p.clone()) }
}

/// A full exhaustive check of a patched scenario (no early stop, no reduction).
pub fn recheck(
    scenario: &Scenario,
    patch: &Patch,
    granularity: Granularity,
    max_states: u64,
) -> Result<Summary, String> {
    let s = Scenario { patch: Some(patch.clone()), ..scenario.clone() };
    let world = s.compile(patch.base, granularity).map_err(|e| e.to_string())?;
    Ok(Explorer::new(&world, Limits { max_states }).run())
}

/// What a full re-check of a found patch says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rechecked {
    /// Every interleaving explored, none violating a safety invariant.
    Clean {
        /// Complete interleavings.
        interleavings: u128,
    },
    /// A safety invariant breaks after all: the search's reductions were wrong.
    Violated,
    /// The full run hit `max_states` or overflowed: neither clean nor violated.
    Incomplete,
}

/// Re-checks a found patch by a full exhaustive run of its own.
pub fn verify(
    scenario: &Scenario,
    patch: &Patch,
    granularity: Granularity,
    max_states: u64,
) -> Result<Rechecked, String> {
    let s = recheck(scenario, patch, granularity, max_states)?;
    Ok(if s.by_invariant.iter().any(|(i, n)| i.is_safety() && *n > 0) {
        Rechecked::Violated
    } else if s.limit_hit || s.overflow {
        Rechecked::Incomplete
    } else {
        Rechecked::Clean { interleavings: s.interleavings }
    })
}
