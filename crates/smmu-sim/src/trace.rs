//! A trace: the steps one schedule produced, the state after each, and the verdict;
//! plus its plain-text rendering for the CLI, tests and mail.

use crate::check::{Invariant, Violation};
use crate::exec::{DmaResult, Outcome};
use crate::ids::{LockId, ThreadId};
use crate::program::Instr;
use crate::source::Src;
use crate::state::State;
use crate::world::World;
use std::fmt::Write as _;

/// Something the scheduler did that was not simply "run the thread asked for".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Note {
    /// The schedule asked for a thread that had already finished.
    Dropped {
        /// Position in the schedule.
        position: usize,
        /// The thread.
        thread: ThreadId,
    },
    /// The schedule marked a step for the memory image, but it is not a DMA whose STE or CD
    /// has a pending store that would route it differently; it used the synced image.
    NoMemoryImage {
        /// The thread.
        thread: ThreadId,
        /// The step's index among the thread's steps.
        step: u16,
    },
}

/// One step of a trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceStep {
    /// The thread that ran.
    pub thread: ThreadId,
    /// Its program counter before the step.
    pub pc: u16,
    /// Innermost kernel function.
    pub function: &'static str,
    /// Call chain, outermost first.
    pub stack: Vec<&'static str>,
    /// Short label.
    pub label: String,
    /// Source reference.
    pub src: Src,
    /// Position in the schedule that asked for it; `None` when the scheduler completed the run.
    pub requested: Option<usize>,
    /// The lock it waited for, and who held it, when it was deferred.
    pub waited: Option<(LockId, ThreadId)>,
    /// Chosen by the scheduler after the schedule ran out.
    pub auto: bool,
    /// What the step did for the checker.
    pub outcome: Outcome,
    /// Violations found after this step.
    pub violations: Vec<Violation>,
    /// Labels of the bookkeeping effects folded into this step (at `mail` granularity).
    pub folded: Vec<String>,
    /// A patch moved this step from its place in the kernel's order.
    pub moved: bool,
}

impl TraceStep {
    /// Records a step.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        thread: ThreadId,
        pc: u16,
        instr: &Instr,
        requested: Option<usize>,
        waited: Option<(LockId, ThreadId)>,
        auto: bool,
        outcome: Outcome,
        violations: Vec<Violation>,
    ) -> Self {
        TraceStep {
            thread,
            pc,
            function: instr.function,
            stack: instr.stack.clone(),
            label: instr.label.clone(),
            src: instr.src,
            requested,
            waited,
            auto,
            outcome,
            violations,
            folded: Vec::new(),
            moved: instr.moved,
        }
    }
}

/// The result of running one schedule.
#[derive(Clone, Debug, Default)]
pub struct Trace {
    /// The steps in the order they ran.
    pub steps: Vec<TraceStep>,
    /// `states[i]` is the state after step `i`.
    pub states: Vec<State>,
    /// Every violation, in step order.
    pub violations: Vec<Violation>,
    /// Violations already present before the first step.
    pub initial_violations: Vec<Violation>,
    /// Scheduler records.
    pub notes: Vec<Note>,
    /// The run ended with threads that could not run.
    pub deadlock: bool,
}

impl Trace {
    /// The schedule that replays this trace exactly: the threads in the order they ran, and
    /// the DMA steps that went through the memory image.
    pub fn schedule(&self) -> crate::sched::Schedule {
        let memory = |s: &TraceStep| s.outcome.dma.is_some_and(|d| d.image == crate::exec::Image::Memory);
        crate::sched::Schedule::from_marked(self.steps.iter().map(|s| (s.thread, memory(s))))
    }

    /// Violated invariants that count as safety violations.
    pub fn safety_violations(&self) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(|v| v.invariant.is_safety())
    }

    /// The first step at which `inv` was violated.
    pub fn first(&self, inv: Invariant) -> Option<usize> {
        self.violations.iter().find(|v| v.invariant == inv).map(|v| v.step)
    }

    /// The state before step `i` (the initial state for 0).
    pub fn state_before<'a>(&'a self, world: &'a World, i: usize) -> &'a State {
        match i {
            0 => &world.initial,
            _ => &self.states[i - 1],
        }
    }
}

/// A DMA result in words.
pub fn dma_text(world: &World, r: &DmaResult) -> String {
    match r {
        DmaResult::Fault(why) => format!("fault: {why}"),
        DmaResult::Bypass => "bypass".into(),
        DmaResult::Walk { tag, pt, pa } => {
            format!("walk {} → {pa:#x}, fill IOTLB {tag}", world.topo.pt(*pt))
        }
        DmaResult::Hit { entry, .. } => {
            format!("IOTLB hit {} → {:#x} (from {})", entry.tag, entry.pa, world.topo.pt(entry.pt))
        }
    }
}

/// A device access and its result in words, saying when it went through the memory image
/// of a pending store rather than the synced one.
pub fn access_text(world: &World, d: &crate::exec::Dma) -> String {
    let text = dma_text(world, &d.result);
    match d.image {
        crate::exec::Image::Synced => text,
        crate::exec::Image::Memory => format!("{text}; used the memory image (store pending)"),
    }
}

/// What an SMMU fetch read, in words: the qwords, their meaning, and which qwords had a store
/// not yet synced (each of those could be read old or new; every mix was judged, and a
/// breaking one, if any, is the one shown).
pub fn fetch_text(world: &World, f: &crate::exec::Fetch) -> String {
    let e = f.read.entry;
    let hex = e.0.iter().map(|q| format!("{q:#018x}")).collect::<Vec<_>>().join(" ");
    let what = crate::diff::ste_text(world, e.config());
    let pending: Vec<String> = (0..4).filter(|i| f.read.pending >> i & 1 != 0).map(|i| format!("q{i}")).collect();
    match (pending.is_empty(), f.read.fault.is_some()) {
        (true, _) => format!("read {hex}: {what}"),
        (false, false) => format!(
            "read {hex}: {what}; {} stored, not yet synced: every mix of old and new is fine",
            pending.join(",")
        ),
        (false, true) => format!(
            "read {hex}: {what}; {} stored, not yet synced: this mix of old and new is one it can read",
            pending.join(",")
        ),
    }
}

/// What an SMMU fetch of a CD read, in words, like [`fetch_text`].
pub fn fetch_cd_text(world: &World, f: &crate::exec::FetchCd) -> String {
    let what = crate::diff::cd_text(world, &f.read.entry);
    let groups = [(1, "q0"), (2, "q1")];
    let pending: Vec<&str> = groups.iter().filter(|(b, _)| f.read.pending & b != 0).map(|(_, n)| *n).collect();
    match (pending.is_empty(), f.read.fault.is_some()) {
        (true, _) => format!("read {what}"),
        (false, false) => {
            format!("read {what}; {} stored, not yet synced: every mix of old and new is fine", pending.join(","))
        }
        (false, true) => format!(
            "read {what}; {} stored, not yet synced: this mix of old and new is one it can read",
            pending.join(",")
        ),
    }
}

/// Renders a trace as text: one line per step, then the verdict.
pub fn render(world: &World, trace: &Trace) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "scenario {} · variant {} ({}) · granularity {}",
        world.id,
        world.variant,
        &world.variant.commit()[..12],
        world.granularity
    );
    for (i, s) in trace.steps.iter().enumerate() {
        let name = &world.programs[s.thread.ix()].name;
        let _ = write!(out, "{i:>3} {name:<6} {}: {}", s.function, s.label);
        for f in &s.folded {
            let _ = write!(out, "; {f}");
        }
        if let Some(d) = s.outcome.dma {
            let _ = write!(out, " [{}]", access_text(world, &d));
        }
        if let Some(f) = s.outcome.fetch {
            let _ = write!(out, " [{}]", fetch_text(world, &f));
        }
        if let Some(f) = s.outcome.fetch_cd {
            let _ = write!(out, " [{}]", fetch_cd_text(world, &f));
        }
        out.push('\n');
        let before = trace.state_before(world, i);
        for c in crate::diff::changes(world, before, &trace.states[i]) {
            if c.object != "IOTLB" && !c.object.ends_with("_lock") && !c.object.ends_with("mutex") {
                let _ = writeln!(out, "      {}: {} → {}", c.object, c.before, c.after);
            }
        }
        if let (Some((l, owner)), Some(pos)) = (s.waited, s.requested) {
            let owner = &world.programs[owner.ix()].name;
            let _ = writeln!(
                out,
                "    (asked for at position {pos}; waited for {} held by {owner})",
                crate::diff::lock_name(world, l)
            );
        }
        for v in &s.violations {
            let _ = writeln!(out, "    !! {}: {}", v.invariant.id(), v.message);
        }
    }
    for n in &trace.notes {
        let _ = writeln!(out, "note: {}", note_text(world, n));
    }
    out.push_str(&verdict(trace));
    out
}

/// A scheduler note in words.
pub fn note_text(world: &World, n: &Note) -> String {
    let name = |t: &ThreadId| world.programs.get(t.ix()).map_or("?", |p| p.name.as_str()).to_string();
    match n {
        Note::Dropped { position, thread } => {
            format!("position {position} asked for {}, which had already finished", name(thread))
        }
        Note::NoMemoryImage { thread, step } => format!(
            "step {step} of {} was marked :mem, but no pending store would route it differently; \
             it used the synced image",
            name(thread)
        ),
    }
}

/// One line per invariant family: the verdict of a trace.
pub fn verdict(trace: &Trace) -> String {
    let mut out = String::new();
    let safety: Vec<&Violation> = trace.safety_violations().collect();
    if safety.is_empty() {
        out.push_str("verdict: no safety invariant violated\n");
    } else {
        let mut ids: Vec<String> = Vec::new();
        for inv in Invariant::ALL.iter().filter(|i| i.is_safety()) {
            if let Some(step) = trace.first(*inv) {
                ids.push(format!("{} at step {step}", inv.id()));
            }
        }
        let _ = writeln!(out, "verdict: VIOLATED: {}", ids.join(", "));
    }
    match trace.first(Invariant::Lock) {
        Some(step) => {
            let _ = writeln!(out, "lock rule: broken at step {step}");
        }
        None => out.push_str("lock rule: holds\n"),
    }
    out
}
