//! Shrinking a violating schedule by replay.
//!
//! Delta debugging over the user's own choices: drop chunks of the schedule (halves, then
//! quarters, down to single choices) and keep a candidate when replaying it with
//! [`sched::run`] still violates the invariant; after every success, cut the choices that
//! were not needed to reach the first violation. Candidates are subsequences of the input, so
//! the user's relative order is kept, and the result is never longer than the input. It is
//! 1-minimal: removing any single choice loses the violation (within a bound of replays).
//! Memory-image marks name a thread's steps by index, so they stay on the same DMA steps.

use crate::check::Invariant;
use crate::sched::{self, Schedule};
use crate::world::World;

/// Most replays one shrink makes.
const MAX_RUNS: usize = 20_000;

struct Shrinker<'w> {
    world: &'w World,
    invariant: Invariant,
    runs: usize,
}

impl Shrinker<'_> {
    /// Replays `s`; if it violates the invariant, the choices needed to reach the first
    /// violation (a prefix of `s`).
    fn check(&mut self, s: &Schedule) -> Option<Schedule> {
        self.runs += 1;
        let trace = sched::run(self.world, s).ok()?;
        let v = trace.violations.iter().find(|v| v.invariant == self.invariant)?;
        let needed =
            trace.steps.iter().take(v.step + 1).map(|st| st.requested).try_fold(0, |acc, r| r.map(|p| acc.max(p + 1)));
        let prefix = Schedule(s.0[..needed.unwrap_or(s.0.len()).min(s.0.len())].to_vec(), s.1.clone());
        if prefix.0.len() < s.0.len() && self.still(&prefix) {
            return Some(prefix);
        }
        Some(s.clone())
    }

    fn still(&mut self, s: &Schedule) -> bool {
        self.runs += 1;
        sched::run(self.world, s).is_ok_and(|t| t.violations.iter().any(|v| v.invariant == self.invariant))
    }
}

/// A smallest schedule (fewest choices, 1-minimal) that still violates `invariant`, keeping
/// the input's relative order; `None` when the input does not violate it (or cannot run:
/// [`sched::run`] refuses it).
pub fn shrink(world: &World, schedule: &Schedule, invariant: Invariant) -> Option<Schedule> {
    let mut sh = Shrinker { world, invariant, runs: 0 };
    let mut cur = sh.check(schedule)?;
    let mut chunk = (cur.0.len() / 2).max(1);
    while !cur.0.is_empty() && sh.runs < MAX_RUNS {
        let mut changed = false;
        let mut i = 0;
        while i < cur.0.len() && sh.runs < MAX_RUNS {
            let end = (i + chunk).min(cur.0.len());
            let mut cand = cur.0[..i].to_vec();
            cand.extend_from_slice(&cur.0[end..]);
            match sh.check(&Schedule(cand, cur.1.clone())) {
                Some(smaller) => {
                    cur = smaller;
                    changed = true;
                }
                None => i += chunk,
            }
        }
        if chunk == 1 && !changed {
            break;
        }
        if !changed {
            chunk = (chunk / 2).max(1);
        } else {
            chunk = chunk.min((cur.0.len() / 2).max(1));
        }
    }
    debug_assert!(cur.0.len() <= schedule.0.len());
    Some(cur)
}
