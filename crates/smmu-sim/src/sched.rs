//! Schedules and the scheduler: which thread takes the next step.
//!
//! A schedule is a sequence of thread choices. The scheduler follows it as the user's
//! intent: a thread that is asked for while it waits on a held lock is *deferred* and runs at
//! the earliest point it can, and the trace records where it was asked for and where it ran.
//! A request for a thread that has already finished is dropped, also with a record. When the
//! schedule runs out, the remaining threads finish lowest index first (marked `auto`).
//!
//! Text form: thread names or indices separated by spaces, commas or dots, with an optional
//! repeat count `NAME*k`: `0.0.1.1`, `CPU0*2 CPU1*3`. A DMA step marked `:mem` (`DMA_A:mem`)
//! goes through the memory image of its STE and CD instead of the synced one, where a store
//! to them is pending ([`exec::two_images`]).

use crate::check::{self, Invariant, Violation};
use crate::exec::{self, Readiness};
use crate::ids::{LockId, ThreadId};
use crate::limits::MAX_TRACE;
use crate::scenario::thread_by_name;
use crate::state::State;
use crate::text::quote;
use crate::trace::{Note, Trace, TraceStep};
use crate::world::World;
use std::collections::{BTreeSet, VecDeque};

mod translate;
pub use translate::translate;

/// Longest schedule accepted, in choices ([`crate::limits::MAX_SCHEDULE`]).
pub const MAX_LEN: usize = crate::limits::MAX_SCHEDULE;

/// A sequence of thread choices, and the DMA steps that take the memory image.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Schedule(pub Vec<ThreadId>, pub Memory);

/// The steps that go through the memory image of their STE and CD ([`exec::Image::Memory`]),
/// each named by its thread and its index among that thread's steps (0-based). Steps of one
/// thread keep their order whatever a schedule does, so moving steps around keeps the marks.
pub type Memory = BTreeSet<(ThreadId, u16)>;

/// The suffix that marks a choice as taking the memory image.
const MEM: &str = ":mem";

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
    /// A schedule of thread choices with every DMA through the synced images.
    pub fn of(threads: Vec<ThreadId>) -> Schedule {
        Schedule(threads, Memory::new())
    }

    /// A schedule from choices, each with whether it takes the memory image.
    pub fn from_marked(choices: impl IntoIterator<Item = (ThreadId, bool)>) -> Schedule {
        let mut nth = [0u16; crate::limits::MAX_THREADS];
        let mut out = Schedule::default();
        for (t, memory) in choices {
            let k = nth.get_mut(t.ix()).map(|k| std::mem::replace(k, k.saturating_add(1))).unwrap_or_default();
            if memory {
                out.1.insert((t, k));
            }
            out.0.push(t);
        }
        out
    }

    /// Parses the text form against the threads of `world`. The length is checked before
    /// any choice is stored, so a huge repeat count costs nothing.
    pub fn parse(text: &str, world: &World) -> Result<Schedule, ScheduleError> {
        let mut out = Schedule::default();
        let mut nth = vec![0u16; world.n_threads()];
        for token in text.split(separator).filter(|t| !t.is_empty()) {
            let (name, count) = match token.rsplit_once('*') {
                Some((name, n)) => match n.parse::<usize>() {
                    Ok(n) if n >= 1 => (name, n),
                    _ => return Err(ScheduleError(format!("bad repeat count in {}", quote(token)))),
                },
                None => (token, 1),
            };
            let (t, memory) = choice(world, name)?;
            if out.0.len().checked_add(count).is_none_or(|n| n > MAX_LEN) {
                return Err(ScheduleError(too_long()));
            }
            for _ in 0..count {
                let k = &mut nth[t.ix()];
                if memory {
                    out.1.insert((t, *k));
                }
                *k += 1;
                out.0.push(t);
            }
        }
        Ok(out)
    }

    /// Refuses a schedule that is too long or names a thread `world` does not have.
    pub fn check(&self, world: &World) -> Result<(), ScheduleError> {
        if self.0.len() > MAX_LEN {
            return Err(ScheduleError(too_long()));
        }
        if self.1.len() > MAX_LEN || self.1.iter().any(|(_, k)| usize::from(*k) >= MAX_TRACE) {
            return Err(ScheduleError(format!("a memory-image mark beyond step {MAX_TRACE} (the limit)")));
        }
        let marked = self.1.iter().map(|(t, _)| t);
        match self.0.iter().chain(marked).find(|t| !world.has_thread(**t)) {
            Some(t) => Err(ScheduleError(format!(
                "the schedule names thread {}, but the scenario has {} threads",
                t.0,
                world.n_threads()
            ))),
            None => Ok(()),
        }
    }

    /// Whether the `nth` step of thread `t` takes the memory image.
    pub fn memory(&self, t: ThreadId, nth: u16) -> bool {
        self.1.contains(&(t, nth))
    }

    /// Each choice with whether it is marked for the memory image.
    fn marked(&self) -> impl Iterator<Item = (ThreadId, bool)> + '_ {
        let mut nth: Vec<u16> = Vec::new();
        self.0.iter().map(move |&t| {
            if nth.len() <= t.ix() {
                nth.resize(t.ix() + 1, 0);
            }
            let k = nth[t.ix()];
            nth[t.ix()] = k.saturating_add(1);
            (t, self.memory(t, k))
        })
    }

    /// The compact text form: indices joined by dots (`0.0.1`).
    pub fn to_text(&self) -> String {
        let parts: Vec<String> = self.marked().map(|(t, m)| format!("{}{}", t.0, if m { MEM } else { "" })).collect();
        parts.join(".")
    }

    /// The readable text form with names and repeat counts (`CPU0*2 CPU1`). A thread whose
    /// name is not one token (it holds a separator or a `*`) is written as its index, and so
    /// is a thread the world does not have, which [`Schedule::parse`] refuses.
    pub fn to_names(&self, world: &World) -> String {
        let choices: Vec<(ThreadId, bool)> = self.marked().collect();
        let mut parts: Vec<String> = Vec::new();
        let mut i = 0;
        while i < choices.len() {
            let (t, m) = choices[i];
            let run = choices[i..].iter().take_while(|x| **x == (t, m)).count();
            let name = match world.programs.get(t.ix()) {
                Some(p) if one_token(&p.name) => p.name.clone(),
                _ => t.0.to_string(),
            };
            let name = if m { format!("{name}{MEM}") } else { name };
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

/// A name that is one token of a schedule's text, with or without a repeat count and a
/// `:mem` mark: it reads back as its thread, since the exact name is looked up first and
/// names are distinct.
fn one_token(name: &str) -> bool {
    !name.is_empty() && !name.contains(|c| separator(c) || c == '*' || c == ':')
}

/// The thread a choice names, and whether it is marked `:mem`. The exact name is looked up
/// first, so a thread whose name ends in `:mem` is still found.
fn choice(world: &World, name: &str) -> Result<(ThreadId, bool), ScheduleError> {
    if let Some(t) = thread_by_name(world, name) {
        return Ok((t, false));
    }
    if let Some(t) = name.strip_suffix(MEM).and_then(|n| thread_by_name(world, n)) {
        return Ok((t, true));
    }
    if let Some((_, mark)) = name.rsplit_once(':').filter(|(n, _)| thread_by_name(world, n).is_some()) {
        return Err(ScheduleError(format!("unknown mark {} in schedule (only :mem)", quote(mark))));
    }
    let names: Vec<_> = world.programs.iter().map(|p| p.name.as_str()).collect();
    Err(ScheduleError(format!(
        "unknown thread {} in schedule (threads: {}, or 0..{})",
        quote(name),
        names.join(", "),
        names.len().saturating_sub(1)
    )))
}

/// A deferred request: the thread, its position in the schedule, the lock it found held.
type Request = (ThreadId, usize, Option<(LockId, ThreadId)>);

fn too_long() -> String {
    format!("schedule longer than {MAX_LEN} steps (the limit)")
}

/// Runs a schedule from the initial state and records the trace. Refuses a schedule
/// [`Schedule::check`] refuses, and a run longer than [`MAX_TRACE`] steps.
pub fn run(world: &World, schedule: &Schedule) -> Result<Trace, ScheduleError> {
    run_keeping(world, schedule, true)
}

/// Whether running `schedule` breaks a safety invariant (a deadlock included): [`run`]'s
/// verdict without keeping a state per step, for searches that replay many schedules.
pub fn breaks(world: &World, schedule: &Schedule) -> Result<bool, ScheduleError> {
    Ok(broken(world, schedule)?.iter().any(|i| i.is_safety()))
}

/// The invariants (the lock rule and deadlock freedom included) that running `schedule`
/// breaks, in report order, each once.
pub fn broken(world: &World, schedule: &Schedule) -> Result<Vec<Invariant>, ScheduleError> {
    let trace = run_keeping(world, schedule, false)?;
    Ok(Invariant::ALL.into_iter().filter(|i| trace.violations.iter().any(|v| v.invariant == *i)).collect())
}

fn run_keeping(world: &World, schedule: &Schedule, keep_states: bool) -> Result<Trace, ScheduleError> {
    schedule.check(world)?;
    let (memory, state, trace) = (&schedule.1, world.initial.clone(), Trace::default());
    let mut runner = Runner { world, memory, state, trace, too_long: false, keep_states };
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
    memory: &'a Memory,
    state: State,
    trace: Trace,
    /// Set when a step was refused because the trace holds [`MAX_TRACE`] steps.
    too_long: bool,
    /// Keep the state after each step in the trace (else `trace.states` stays empty).
    keep_states: bool,
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
        let image = self.image(t);
        let outcome = exec::step_image(self.world, &mut self.state, t, image, Some(&mut ran));
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
        if self.keep_states {
            self.trace.states.push(self.state.clone());
        }
    }

    /// The image thread `t`'s next step takes: the memory image where the schedule marks it
    /// and the step has two outcomes; a mark on any other step is noted and ignored.
    fn image(&mut self, t: ThreadId) -> exec::Image {
        let nth = self.state.threads[t.ix()].steps;
        if !self.memory.contains(&(t, nth)) {
            return exec::Image::Synced;
        }
        if exec::two_images(self.world, &self.state, t) {
            return exec::Image::Memory;
        }
        self.trace.notes.push(Note::NoMemoryImage { thread: t, step: nth });
        exec::Image::Synced
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
            return Schedule::of(out);
        }
        let t = pick(&ready);
        exec::step(world, &mut state, t);
        out.push(t);
    }
}
