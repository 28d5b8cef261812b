//! Carrying a run from one variant (or granularity) to another by what its steps mean, not
//! by its raw thread choices.
//!
//! The same choices `CPU0*4 CPU1*6 …` mean different interleavings in two variants: the fix
//! takes `arm_smmu_asid_lock` at the top of `attach_dev` and moves the detach after the new
//! domain's set-up. So a run is carried over as the order of its steps, each named by its
//! thread, kernel function and label:
//!
//! - A thread's *due* step is its first source step not yet run whose name its program still
//!   has ahead of its program counter; source steps the target no longer has are skipped.
//!   Threads run in the order of their due steps. A thread runs the steps before its due one
//!   (steps the target adds, or moved earlier) as it gets there.
//! - A thread that is due but waits on a held lock is asked for there, as a user would drag
//!   it, and the scheduler defers it. Until it runs, the lock's holder goes first, so the
//!   other threads keep their order relative to the waiting one.
//!
//! Under the fix the seed race's run shows CPU1 waiting on `arm_smmu_asid_lock`, held by
//! CPU0 from before its `list_del` to the end of `attach_dev`, where it raced before. The
//! result is a schedule for the target world that [`super::run`] replays to the run built here.
//! A DMA that took the memory image takes it in the target too, where a store is pending there.

use super::{Request, Runner, Schedule, MAX_LEN};
use crate::exec::{self, Readiness};
use crate::ids::ThreadId;
use crate::trace::Trace;
use crate::world::World;
use std::collections::{BTreeMap, VecDeque};

/// What a step is, the same in every variant: kernel function and label.
type Key<'a> = (&'a str, &'a str);

/// One thread: its source steps, and where each name occurs in its target program.
struct Lane<'a> {
    /// Positions (in the source run) of its steps not yet run or skipped, in order.
    due: VecDeque<usize>,
    /// The same, by name.
    by_key: BTreeMap<Key<'a>, VecDeque<usize>>,
    /// The program counters of each name in the target program, ascending.
    pcs: BTreeMap<Key<'a>, Vec<u16>>,
}

/// The source run, step by step, and which of its steps are done.
struct Source<'a> {
    keys: Vec<Key<'a>>,
    done: Vec<bool>,
}

impl<'a> Lane<'a> {
    fn ahead(&self, key: Key<'a>, pc: u16) -> bool {
        self.pcs.get(&key).and_then(|p| p.last()).is_some_and(|&last| last >= pc)
    }

    /// The thread's due step at `pc`; source steps it can no longer reach are skipped.
    fn due(&mut self, src: &mut Source<'a>, pc: u16) -> Option<usize> {
        while let Some(&at) = self.due.front() {
            if !src.done[at] && self.ahead(src.keys[at], pc) {
                return Some(at);
            }
            src.done[at] = true;
            self.due.pop_front();
        }
        None
    }

    /// The first source step not yet done with this name.
    fn find(&mut self, src: &Source<'a>, key: Key<'a>) -> Option<usize> {
        let queue = self.by_key.get_mut(&key)?;
        while queue.front().is_some_and(|&at| src.done[at]) {
            queue.pop_front();
        }
        queue.front().copied()
    }
}

/// A schedule for `to` that runs the steps of `from` in the same order, as far as `to` has
/// them (see the module docs).
pub fn translate<'a>(from: &'a Trace, to: &'a World) -> Schedule {
    let keys: Vec<Key<'a>> = from.steps.iter().map(|s| (s.function, s.label.as_str())).collect();
    let mut src = Source { done: vec![false; keys.len()], keys };
    let mut lanes = lanes(from, to);
    let memory = from.schedule().1;
    let mut runner = Runner {
        world: to,
        memory: &memory,
        state: to.initial.clone(),
        trace: Trace::default(),
        too_long: false,
        keep_states: true,
    };
    let mut pending: VecDeque<Request> = VecDeque::new();
    let mut intent = Vec::new();
    while intent.len() < MAX_LEN && !runner.too_long {
        let Some(t) = choose(to, &runner, &pending, &mut lanes, &mut src) else { break };
        let pc = runner.state.threads[t.ix()].pc;
        let instr = &to.programs[t.ix()].instrs[usize::from(pc)];
        if let Some(at) = lanes[t.ix()].find(&src, (instr.function, instr.label.as_str())) {
            src.done[at] = true;
        }
        let pos = intent.len();
        intent.push(t);
        match exec::readiness(to, &runner.state, t) {
            Readiness::Blocked(lock, owner) => pending.push_back((t, pos, Some((lock, owner)))),
            _ => {
                runner.take(t, Some(pos), None, false);
                runner.drain(&mut pending);
            }
        }
    }
    // Marks the target used: a DMA lane's steps are the same in every variant, but only
    // `source` granularity has pending stores, so elsewhere they fall away.
    Schedule(intent, runner.trace.schedule().1)
}

fn lanes<'a>(from: &'a Trace, to: &'a World) -> Vec<Lane<'a>> {
    let mut lanes: Vec<Lane<'a>> = to
        .programs
        .iter()
        .map(|p| {
            let mut pcs: BTreeMap<Key<'a>, Vec<u16>> = BTreeMap::new();
            for (pc, i) in p.instrs.iter().enumerate() {
                let pc = u16::try_from(pc).unwrap_or(u16::MAX);
                pcs.entry((i.function, i.label.as_str())).or_default().push(pc);
            }
            Lane { due: VecDeque::new(), by_key: BTreeMap::new(), pcs }
        })
        .collect();
    for (at, step) in from.steps.iter().enumerate() {
        if let Some(lane) = lanes.get_mut(step.thread.ix()) {
            lane.due.push_back(at);
            lane.by_key.entry((step.function, step.label.as_str())).or_default().push_back(at);
        }
    }
    lanes
}

/// The thread to ask for next: the one whose due step comes first; when that one waits for
/// a lock, the lock's holder (following a chain of waits). `None` when no thread can be
/// asked for.
fn choose<'a>(
    to: &'a World,
    runner: &Runner<'_>,
    pending: &VecDeque<Request>,
    lanes: &mut [Lane<'a>],
    src: &mut Source<'a>,
) -> Option<ThreadId> {
    let asked = |t: ThreadId| pending.iter().any(|p| p.0 == t);
    let live: Vec<ThreadId> =
        to.thread_ids().filter(|t| exec::readiness(to, &runner.state, *t) != Readiness::Finished).collect();
    let due = |t: ThreadId, lanes: &mut [Lane<'a>], src: &mut Source<'a>| {
        let pc = runner.state.threads[t.ix()].pc;
        (lanes[t.ix()].due(src, pc).unwrap_or(usize::MAX), t)
    };
    let (_, mut t) = live.iter().map(|&t| due(t, lanes, src)).min()?;
    for _ in 0..live.len() {
        if !asked(t) {
            return Some(t);
        }
        match exec::readiness(to, &runner.state, t) {
            Readiness::Blocked(_, owner) => t = owner,
            _ => break,
        }
    }
    live.iter().filter(|t| !asked(**t)).map(|&t| due(t, lanes, src)).min().map(|(_, t)| t)
}
