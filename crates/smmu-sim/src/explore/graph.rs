//! The kept state graph and the pass that finds the violating schedule with the fewest
//! context switches.

use super::safety_mask;
use crate::ids::ThreadId;
use crate::sched::Schedule;

/// A transition: its choice byte ([`choice_byte`]: the thread that took it and its image),
/// its program counter before the step, the invariants the step violated, and the target
/// state's id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Edge {
    pub to: u32,
    pub pc: u16,
    pub choice: u8,
    pub mask: crate::check::EdgeMask,
}

impl Edge {
    /// The thread that took the transition.
    pub fn thread(&self) -> u8 {
        self.choice & !MEMORY_BIT
    }
}

/// Bit 7 of a choice byte: the step's DMA went through the memory image. Threads are far
/// fewer than 128 ([`crate::limits::MAX_THREADS`]), so the bit is free.
const MEMORY_BIT: u8 = 0x80;
const _: () = assert!(crate::limits::MAX_THREADS < MEMORY_BIT as usize);

/// The byte that names a transition's choice: the thread, and whether its DMA took the
/// memory image.
pub(super) fn choice_byte(t: ThreadId, memory: bool) -> u8 {
    t.0 | if memory { MEMORY_BIT } else { 0 }
}

/// The thread and image of a choice byte.
pub(super) fn choice_of(b: u8) -> (ThreadId, bool) {
    (ThreadId(b & !MEMORY_BIT), b & MEMORY_BIT != 0)
}

/// The state graph in compressed rows: state `s` has edges `offsets[s]..offsets[s + 1]`.
/// State ids are a topological order (every edge goes to a larger id).
#[derive(Debug)]
pub(super) struct Graph {
    pub n_threads: usize,
    pub offsets: Vec<u32>,
    pub edges: Vec<Edge>,
    /// Terminal states where threads are left that cannot run, ascending.
    pub deadlocks: Vec<u32>,
}

/// Cost of a path: context switches in the high bits, steps in the low 16 (paths are far
/// shorter than 65536 steps: at most 8 threads of a few dozen steps each).
type Cost = u32;
const INF: Cost = Cost::MAX;
const SWITCH: Cost = 1 << 16;

impl Graph {
    pub fn new(n_threads: usize) -> Self {
        Graph { n_threads, offsets: Vec::new(), edges: Vec::new(), deadlocks: Vec::new() }
    }

    /// Starts the edges of state `id` (states are expanded in id order).
    pub fn open(&mut self, id: u32) {
        debug_assert_eq!(self.offsets.len(), id as usize);
        self.offsets.push(self.edges.len() as u32);
    }

    /// Ends the graph after all `states` states were expanded.
    pub fn close(&mut self, states: usize) {
        debug_assert_eq!(self.offsets.len(), states);
        self.offsets.push(self.edges.len() as u32);
    }

    pub fn states(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn out(&self, s: usize) -> &[Edge] {
        &self.edges[self.offsets[s] as usize..self.offsets[s + 1] as usize]
    }

    pub fn is_deadlock(&self, s: usize) -> bool {
        self.deadlocks.binary_search(&(s as u32)).is_ok()
    }

    /// Backward pass in reverse id order: `cost[s * n + l]` is the cheapest way from state
    /// `s`, having last run thread `l`, to a violating step (or a deadlock). Then a forward
    /// walk from the start follows the cheapest edges. Ties go to the lowest thread.
    pub fn fewest_switches(&self) -> Option<Schedule> {
        let n = self.n_threads;
        let safety = safety_mask();
        let states = self.states();
        let mut cost = vec![INF; states * n];
        // Cost of taking edge `e` and then the cheapest way on, switch not included.
        let via = |cost: &[Cost], e: &Edge| -> Cost {
            if crate::check::Mask::from(e.mask) & safety != 0 {
                1
            } else {
                cost[e.to as usize * n + usize::from(e.thread())].saturating_add(1)
            }
        };
        for s in (0..states).rev() {
            if self.is_deadlock(s) {
                cost[s * n..(s + 1) * n].fill(0);
                continue;
            }
            // Having last run `l`, an edge of thread `l` costs what it costs, and the cheapest
            // edge of any thread costs a switch more.
            let mut any = INF;
            for e in self.out(s) {
                let c = via(&cost, e);
                let slot = &mut cost[s * n + usize::from(e.thread())];
                *slot = (*slot).min(c);
                any = any.min(c);
            }
            for slot in &mut cost[s * n..(s + 1) * n] {
                *slot = (*slot).min(any.saturating_add(SWITCH));
            }
        }
        let mut s = 0usize;
        let mut last: Option<u8> = None;
        let mut out = Vec::new();
        let switch = |last: Option<u8>, t: u8| if last.is_some_and(|l| l != t) { SWITCH } else { 0 };
        loop {
            if self.is_deadlock(s) {
                return Some(Schedule::from_marked(out));
            }
            let best = self
                .out(s)
                .iter()
                .map(|e| (via(&cost, e).saturating_add(switch(last, e.thread())), e))
                .filter(|(c, _)| *c != INF)
                .min_by_key(|(c, e)| (*c, e.choice))?;
            let e = best.1;
            out.push(choice_of(e.choice));
            if crate::check::Mask::from(e.mask) & safety != 0 {
                return Some(Schedule::from_marked(out));
            }
            s = e.to as usize;
            last = Some(e.thread());
        }
    }
}
