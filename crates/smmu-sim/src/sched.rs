//! Schedules and the scheduler: which thread takes the next step.
//!
//! A schedule is a sequence of thread choices. The scheduler follows it as the user's
//! intent: a thread that is asked for while it waits on a held lock is *deferred* and runs at
//! the earliest point it can, and the trace records where it was asked for and where it ran.
//! A request for a thread that has already finished is dropped, also with a record. When the
//! schedule runs out, the remaining threads finish lowest index first (marked `auto`).
//!
//! Text form: thread names or indices separated by spaces, commas or dots, with an optional
//! repeat count `NAME*k`: `0.0.1.1`, `CPU0*2 CPU1*3`.

use crate::check::{self, Invariant, Violation};
use crate::exec::{self, Readiness};
use crate::ids::{LockId, ThreadId};
use crate::limits::MAX_TRACE;
use crate::scenario::thread_by_name;
use crate::state::State;
use crate::text::quote;
use crate::trace::{Note, Trace, TraceStep};
use crate::world::World;
use std::collections::VecDeque;

mod translate;
pub use translate::translate;

/// Longest schedule accepted, in choices ([`crate::limits::MAX_SCHEDULE`]).
pub const MAX_LEN: usize = crate::limits::MAX_SCHEDULE;

/// A sequence of thread choices.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Schedule(pub Vec<ThreadId>);

/// A schedule that cannot be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleError(pub String);

impl std::fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ScheduleError {}

impl Schedule {
    /// Parses the text form against the threads of `world`. The length is checked before
    /// any choice is stored, so a huge repeat count costs nothing.
    pub fn parse(text: &str, world: &World) -> Result<Schedule, ScheduleError> {
        let mut out = Vec::new();
        for token in text.split(separator).filter(|t| !t.is_empty()) {
            let (name, count) = match token.rsplit_once('*') {
                Some((name, n)) => match n.parse::<usize>() {
                    Ok(n) if n >= 1 => (name, n),
                    _ => return Err(ScheduleError(format!("bad repeat count in {}", quote(token)))),
                },
                None => (token, 1),
            };
            let Some(t) = thread_by_name(world, name) else {
                let names: Vec<_> = world.programs.iter().map(|p| p.name.as_str()).collect();
                let known = names.join(", ");
                return Err(ScheduleError(format!(
                    "unknown thread {} in schedule (threads: {known}, or 0..{})",
                    quote(name),
                    names.len().saturating_sub(1)
                )));
            };
            if out.len().checked_add(count).is_none_or(|n| n > MAX_LEN) {
                return Err(ScheduleError(too_long()));
            }
            out.extend(std::iter::repeat_n(t, count));
        }
        Ok(Schedule(out))
    }

    /// Refuses a schedule that is too long or names a thread `world` does not have.
    pub fn check(&self, world: &World) -> Result<(), ScheduleError> {
        if self.0.len() > MAX_LEN {
            return Err(ScheduleError(too_long()));
        }
        match self.0.iter().find(|t| !world.has_thread(**t)) {
            Some(t) => Err(ScheduleError(format!(
                "the schedule names thread {}, but the scenario has {} threads",
                t.0,
                world.n_threads()
            ))),
            None => Ok(()),
        }
    }

    /// The compact text form: indices joined by dots (`0.0.1`).
    pub fn to_text(&self) -> String {
        let parts: Vec<String> = self.0.iter().map(|t| t.0.to_string()).collect();
        parts.join(".")
    }

    /// The readable text form with names and repeat counts (`CPU0*2 CPU1`). A thread whose
    /// name is not one token (it holds a separator or a `*`) is written as its index, and so
    /// is a thread the world does not have, which [`Schedule::parse`] refuses.
    pub fn to_names(&self, world: &World) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut i = 0;
        while i < self.0.len() {
            let t = self.0[i];
            let run = self.0[i..].iter().take_while(|x| **x == t).count();
            let name = match world.programs.get(t.ix()) {
                Some(p) if one_token(&p.name) => p.name.clone(),
                _ => t.0.to_string(),
            };
            parts.push(if run > 1 { format!("{name}*{run}") } else { name });
            i += run;
        }
        parts.join(" ")
    }
}

/// What separates the choices of a schedule's text.
fn separator(c: char) -> bool {
    c.is_whitespace() || c == ',' || c == '.'
}

/// A name that is one token of a schedule's text, with or without a repeat count: it reads
/// back as its thread, since the exact name is looked up first and names are distinct.
fn one_token(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c| separator(c) || c == '*')
}

/// A deferred request: the thread, its position in the schedule, the lock it found held.
type Request = (ThreadId, usize, Option<(LockId, ThreadId)>);

fn too_long() -> String {
    format!("schedule longer than {MAX_LEN} steps (the limit)")
}

/// Runs a schedule from the initial state and records the trace. Refuses a schedule
/// [`Schedule::check`] refuses, and a run longer than [`MAX_TRACE`] steps.
pub fn run(world: &World, schedule: &Schedule) -> Result<Trace, ScheduleError> {
    schedule.check(world)?;
    let mut runner = Runner { world, state: world.initial.clone(), trace: Trace::default(), too_long: false };
    let mut pending: VecDeque<Request> = VecDeque::new();
    for (pos, &t) in schedule.0.iter().enumerate() {
        match exec::readiness(world, &runner.state, t) {
            Readiness::Finished if !pending.iter().any(|p| p.0 == t) => {
                runner.trace.notes.push(Note::Dropped { position: pos, thread: t });
            }
            Readiness::Ready if !pending.iter().any(|p| p.0 == t) => {
                runner.take(t, Some(pos), None, false);
                runner.drain(&mut pending);
            }
            Readiness::Blocked(l, owner) => pending.push_back((t, pos, Some((l, owner)))),
            _ => pending.push_back((t, pos, None)),
        }
    }
    runner.finish(&mut pending);
    if runner.too_long {
        return Err(ScheduleError(format!("the run is longer than {MAX_TRACE} steps (the limit)")));
    }
    Ok(runner.trace)
}

struct Runner<'a> {
    world: &'a World,
    state: State,
    trace: Trace,
    /// Set when a step was refused because the trace holds [`MAX_TRACE`] steps.
    too_long: bool,
}

impl Runner<'_> {
    fn take(&mut self, t: ThreadId, requested: Option<usize>, waited: Option<(LockId, ThreadId)>, auto: bool) {
        if self.trace.steps.len() >= MAX_TRACE {
            self.too_long = true;
            return;
        }
        let th = &self.state.threads[t.ix()];
        let pc = th.pc;
        let program = &self.world.programs[t.ix()].instrs;
        let index = self.trace.steps.len();
        let mut ran = Vec::new();
        let outcome = exec::step_recording(self.world, &mut self.state, t, Some(&mut ran));
        let folded: Vec<&str> = ran[1..]
            .iter()
            .map(|(pc, _)| &program[usize::from(*pc)])
            .filter(|i| matches!(i.kind, crate::program::Kind::Op(_)) && !i.quiet)
            .map(|i| i.label.as_str())
            .collect();
        let instr = &program[usize::from(pc)];
        let mut violations = Vec::new();
        check::after_step(self.world, &mut self.state, &outcome, index, Some(&mut violations));
        self.trace.violations.extend(violations.iter().cloned());
        let mut step = TraceStep::new(t, pc, instr, requested, waited, auto, outcome, violations);
        step.folded = folded.iter().map(|l| l.to_string()).collect();
        self.trace.steps.push(step);
        self.trace.states.push(self.state.clone());
    }

    /// Runs deferred requests whose threads can now run, oldest first, until none can.
    fn drain(&mut self, pending: &mut VecDeque<Request>) {
        loop {
            let ready = pending
                .iter()
                .position(|(t, _, _)| !matches!(exec::readiness(self.world, &self.state, *t), Readiness::Blocked(..)));
            let Some(i) = ready else { return };
            let (t, pos, waited) = pending.remove(i).expect("index from position");
            match exec::readiness(self.world, &self.state, t) {
                Readiness::Ready => self.take(t, Some(pos), waited, false),
                _ => self.trace.notes.push(Note::Dropped { position: pos, thread: t }),
            }
        }
    }

    fn finish(&mut self, pending: &mut VecDeque<Request>) {
        loop {
            self.drain(pending);
            let ready =
                self.world.thread_ids().find(|t| exec::readiness(self.world, &self.state, *t) == Readiness::Ready);
            match ready {
                Some(t) if !self.too_long => self.take(t, None, None, true),
                _ => break,
            }
        }
        let stuck: Vec<ThreadId> = self
            .world
            .thread_ids()
            .filter(|t| exec::readiness(self.world, &self.state, *t) != Readiness::Finished)
            .collect();
        if !stuck.is_empty() {
            let names: Vec<&str> = stuck.iter().map(|t| self.world.programs[t.ix()].name.as_str()).collect();
            let v = Violation {
                step: self.trace.steps.len().saturating_sub(1),
                invariant: Invariant::Deadlock,
                message: format!("no thread can run; waiting: {}", names.join(", ")),
                objects: Vec::new(),
            };
            self.trace.violations.push(v);
            self.trace.deadlock = true;
        }
    }
}

/// A seeded pseudo-random schedule (xorshift64*): at each point, one of the ready threads.
pub fn random(world: &World, seed: u64) -> Schedule {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    strategy(world, |ready| {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let r = x.wrapping_mul(0x2545_F491_4F6C_DD1D);
        ready[(r % ready.len() as u64) as usize]
    })
}

/// Round-robin: each ready thread in turn, one step each.
pub fn round_robin(world: &World) -> Schedule {
    let mut last: Option<ThreadId> = None;
    strategy(world, |ready| {
        let next = ready.iter().copied().find(|t| last.is_none_or(|l| t.0 > l.0)).unwrap_or(ready[0]);
        last = Some(next);
        next
    })
}

fn strategy(world: &World, mut pick: impl FnMut(&[ThreadId]) -> ThreadId) -> Schedule {
    let mut state = world.initial.clone();
    let mut out = Vec::new();
    loop {
        let ready: Vec<ThreadId> =
            world.thread_ids().filter(|t| exec::readiness(world, &state, *t) == Readiness::Ready).collect();
        if ready.is_empty() || out.len() >= MAX_TRACE {
            return Schedule(out);
        }
        let t = pick(&ready);
        exec::step(world, &mut state, t);
        out.push(t);
    }
}
