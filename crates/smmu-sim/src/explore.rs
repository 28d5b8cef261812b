//! The exhaustive explorer: every interleaving of a scenario, counted over the state graph.
//!
//! Every step increments its thread's step counter, so the state graph is a DAG layered by
//! depth (the total number of steps taken). The explorer walks it breadth first, one layer at
//! a time, deduplicating states within a layer, and carries path counts forward: for each
//! state, the number of interleavings reaching it, and the number reaching it without
//! violating each invariant. At the terminal states these give the exact number of complete
//! interleavings and of violating ones, without enumerating them. Counts are exact `u128`
//! until one exceeds it; that is reported, and from there the counts are estimates that keep
//! 128 significant bits (`counts`), never wrapped values.
//!
//! It is resumable: [`Explorer::step`] does a bounded amount of work and returns, so a caller
//! can report progress, cancel, or run it in slices on a single thread.
//!
//! The next layer is indexed by 64-bit fingerprints of its states rather than by copies of
//! them; a fingerprint match is confirmed by comparing the states, so deduplication is exact
//! (`fingerprint`, `index`).
//!
//! States that differ only by a renaming of allocated ASIDs behave alike, so by default the
//! explorer keeps one per class (`symmetry`): the counts are those of the full graph, only the
//! states and transitions are fewer.
//!
//! While the graph stays under a bound ([`Explorer::with_graph_limit`]), the explorer also
//! keeps its edges (8 bytes each). State ids are given in breadth-first order, so they are a
//! topological order of the DAG, and passes over the kept graph run in id order or its
//! reverse. Two such passes exist: the violating schedule with the fewest context switches
//! ([`Summary::fewest_switches`], run once when the search ends) and the danger windows
//! ([`danger_windows`]).
//!
//! [`shrink()`] is the other half of counterexample work: it makes a user's violating schedule
//! smaller by replaying candidates, without exploring.

mod counts;
mod danger;
mod fingerprint;
mod graph;
mod index;
mod packed;
mod parts;
mod reduce;
mod scratch;
mod shrink;
mod symmetry;
mod verdict;

pub use danger::{danger_windows, DangerError, DangerMap, DangerStep};
pub use shrink::shrink;
pub use verdict::{Bound, Tally, Verdict};

pub(crate) use counts::safety_mask;
pub(crate) use reduce::{local_instrs, lock_slots, LockOrder};

use crate::check::{self, Invariant, Mask};
use crate::exec::{self, Image, Outcome, Readiness};
use crate::ids::ThreadId;
use crate::sched::Schedule;
use crate::state::State;
use crate::world::World;
use counts::{Counts, N_INV};
use fingerprint::fingerprint;
use graph::{Edge, Graph};
use index::Index;
use packed::Packer;
use parts::Layout;
use reduce::Footprints;
use scratch::{debug_assert_invisible, Plan, Scratch, Staged};
use symmetry::Symmetry;

/// Bounds on the search.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Stop after this many unique states (default 5,000,000; at most
    /// [`crate::limits::MAX_EXPLORED_STATES`]).
    pub max_states: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_states: 5_000_000 }
    }
}

/// Default bound on the kept state graph, in states (about 30 bytes a state).
pub const DEFAULT_GRAPH_LIMIT: u64 = 2_000_000;

/// A state of a layer: its encoding is `bytes[at..at + len]` of the layer's arena.
struct Node {
    at: usize,
    len: u32,
    id: u32,
    counts: Counts,
}

/// Progress after a slice of work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// Unique states so far.
    pub states: u64,
    /// Transitions so far.
    pub transitions: u64,
    /// States waiting to be expanded.
    pub frontier: u64,
    /// Current depth (steps from the start).
    pub depth: u32,
    /// Whether the search has ended (completed or hit a limit).
    pub done: bool,
}

/// The final numbers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Unique states visited.
    pub unique_states: u64,
    /// Transitions taken.
    pub transitions: u64,
    /// Complete interleavings (including ones ending in deadlock).
    pub interleavings: u128,
    /// Interleavings that violate at least one safety invariant.
    pub violating: u128,
    /// Per invariant: interleavings violating it (all of [`Invariant::ALL`], `lock` included).
    pub by_invariant: Vec<(Invariant, u128)>,
    /// The search stopped at [`Limits::max_states`]: the counts cover only part of the graph.
    pub limit_hit: bool,
    /// A count exceeded `u128`: the interleaving counts are not exact (they saturate at
    /// `u128::MAX`, and differences of saturated counts are meaningless); [`Summary::approx`]
    /// estimates them.
    pub overflow: bool,
    /// After an overflow: floating-point estimates of the interleavings and of the violating
    /// ones. Past `u128` each state's counts keep their 128 leading bits, so both estimates
    /// are as precise as an `f64` can hold, the violating one included (it is a difference
    /// taken before the conversion to `f64`).
    pub approx: Option<Approx>,
    /// Shortest schedule reaching a safety violation.
    pub shortest: Option<Schedule>,
    /// Per invariant, a shortest schedule reaching its violation.
    pub shortest_by_invariant: Vec<(Invariant, Schedule)>,
    /// A schedule reaching a safety violation with the fewest context switches (consecutive
    /// steps by different threads), and among those the fewest steps. Like
    /// [`Summary::shortest`], it ends at the step that violates (or, for a deadlock, where no
    /// thread can run); the scheduler completes the run. `None` when nothing violates, before
    /// the search ends, or when the graph was not kept ([`Summary::graph_dropped`]).
    pub fewest_switches: Option<Schedule>,
    /// The state graph was not kept, so [`Summary::fewest_switches`] was not computed: it
    /// outgrew [`Explorer::with_graph_limit`], or the search stopped at the state limit.
    pub graph_dropped: bool,
    /// Partial-order reduction was on ([`Explorer::with_reduction`]): which invariants are
    /// violated, deadlocks and counterexamples are as in the full search, but the counts
    /// (`interleavings`, `violating`, `by_invariant`) are over the reduced graph.
    pub reduced: bool,
    /// States were kept up to ASID renaming ([`Explorer::with_symmetry`]; never in a world
    /// that frees a renamable ASID): `unique_states` and `transitions` are of the quotient
    /// graph; every count is exact all the same.
    pub symmetry: bool,
}

/// Floating-point estimates of counts that exceed `u128`.
#[derive(Clone, Copy, Debug)]
pub struct Approx {
    /// Complete interleavings.
    pub interleavings: f64,
    /// Interleavings violating a safety invariant.
    pub violating: f64,
}

impl PartialEq for Approx {
    fn eq(&self, other: &Self) -> bool {
        self.interleavings.to_bits() == other.interleavings.to_bits()
            && self.violating.to_bits() == other.violating.to_bits()
    }
}

impl Eq for Approx {}

/// The number of context switches in a schedule: positions where the thread changes.
pub fn switches(schedule: &Schedule) -> usize {
    schedule.0.windows(2).filter(|w| w[0] != w[1]).count()
}

/// A layer: its states' encodings in one arena, and per state the counts and ids.
#[derive(Default)]
struct Layer {
    nodes: Vec<Node>,
    bytes: Vec<u8>,
}

impl Layer {
    fn state(&self, node: &Node) -> &[u8] {
        &self.bytes[node.at..node.at + node.len as usize]
    }
}

/// A resumable breadth-first explorer.
pub struct Explorer<'w> {
    world: &'w World,
    limits: Limits,
    layer: Layer,
    cursor: usize,
    next: Layer,
    /// Fingerprint → node of `next`.
    index: Index,
    /// The fingerprint function (tests replace it to force collisions).
    fingerprint: fn(&[u8]) -> u64,
    packer: Packer,
    /// Boxed, so that an expansion takes it out and puts it back by moving a pointer.
    scratch: Option<Box<Scratch>>,
    /// Static footprints of every step.
    footprints: Footprints,
    /// Per thread and program counter, what a step there needs.
    plans: Vec<Vec<Plan>>,
    layout: Layout,
    /// Partial-order reduction is on ([`Explorer::with_reduction`]).
    reduce: bool,
    /// States are kept up to ASID renaming ([`Explorer::with_symmetry`]).
    symmetry: Option<Symmetry>,
    /// Every terminal state, kept by tests.
    #[cfg(test)]
    terminals: Vec<State>,
    parents: Vec<(u32, u8)>,
    transitions: u64,
    depth: u32,
    terminal: Counts,
    /// The paths of [`Explorer::terminal`] that end in a deadlock.
    deadlocked: Counts,
    overflow: bool,
    limit_hit: bool,
    done: bool,
    first: [Option<(u32, u8)>; N_INV],
    first_safety: Option<(u32, u8)>,
    graph_limit: u64,
    graph: Option<Graph>,
    graph_dropped: bool,
    fewest: Option<Schedule>,
}

impl std::fmt::Debug for Explorer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Explorer").field("progress", &self.progress()).finish()
    }
}

impl<'w> Explorer<'w> {
    /// Starts at the world's initial state.
    pub fn new(world: &'w World, limits: Limits) -> Self {
        // State ids are u32: a bound past that is lowered to it, so ids never wrap.
        let limits = Limits { max_states: limits.max_states.min(crate::limits::MAX_EXPLORED_STATES) };
        let initial = &world.initial;
        let counts = Counts::start(initial.broken);
        let mut packer = Packer::new();
        let mut layer = Layer::default();
        packer.encode(initial, &mut layer.bytes);
        layer.nodes.push(Node { at: 0, len: layer.bytes.len() as u32, id: 0, counts });
        let scratch = Some(Box::new(Scratch { base: initial.clone(), work: initial.clone(), ..Scratch::default() }));
        let footprints = Footprints::new(world);
        let layout = Layout::of(initial);
        let plans = Plan::table(world, &footprints, layout);
        Explorer {
            world,
            limits,
            layer,
            cursor: 0,
            next: Layer::default(),
            index: Index::default(),
            fingerprint,
            packer,
            scratch,
            footprints,
            plans,
            layout,
            reduce: false,
            symmetry: Symmetry::new(world),
            #[cfg(test)]
            terminals: Vec::new(),
            parents: vec![(u32::MAX, 0)],
            transitions: 0,
            depth: 0,
            terminal: Counts::default(),
            deadlocked: Counts::default(),
            overflow: false,
            limit_hit: false,
            done: false,
            first: [None; N_INV],
            first_safety: None,
            graph_limit: DEFAULT_GRAPH_LIMIT,
            graph: Some(Graph::new(world.n_threads())),
            graph_dropped: false,
            fewest: None,
        }
    }

    /// Keeps the state graph while it has at most `states` states (default
    /// [`DEFAULT_GRAPH_LIMIT`]); past that it is dropped and the passes over it are skipped.
    /// 0 never keeps it. Call before the first [`Explorer::step`].
    pub fn with_graph_limit(mut self, states: u64) -> Self {
        self.graph_limit = states;
        if states == 0 {
            self.drop_graph();
        }
        self
    }

    /// Turns partial-order reduction on or off (off by default; see `reduce`). With it on,
    /// the search keeps every invariant verdict, every reachable deadlock and a counterexample
    /// for each violated invariant, but path counts are over the reduced graph: they count
    /// representatives, not all interleavings ([`Summary::reduced`]); and the counterexamples
    /// are the shortest and fewest-switch ones of the reduced graph, which may be longer than
    /// the full graph's. Call before the first [`Explorer::step`].
    pub fn with_reduction(mut self, on: bool) -> Self {
        self.reduce = on;
        self
    }

    /// Keeps one state per class of states that differ only by a renaming of allocated
    /// ASIDs (on by default; see `symmetry`). Every count, verdict and counterexample length
    /// is the same either way; only the states and transitions are fewer. A world with a step
    /// that frees a domain's or a shared descriptor's ASID has no such symmetry, and is
    /// searched state by state whatever this says ([`Summary::symmetry`] tells). Call before
    /// the first [`Explorer::step`].
    pub fn with_symmetry(mut self, on: bool) -> Self {
        self.symmetry = match on {
            true => self.symmetry.take().or_else(|| Symmetry::new(self.world)),
            false => None,
        };
        self
    }

    fn drop_graph(&mut self) {
        if self.graph.take().is_some() {
            self.graph_dropped = true;
        }
    }

    /// Progress so far.
    pub fn progress(&self) -> Progress {
        Progress {
            states: self.parents.len() as u64,
            transitions: self.transitions,
            frontier: (self.layer.nodes.len() - self.cursor + self.next.nodes.len()) as u64,
            depth: self.depth,
            done: self.done,
        }
    }

    /// Expands up to `budget` states, then returns.
    pub fn step(&mut self, budget: usize) -> Progress {
        for _ in 0..budget {
            if self.done {
                break;
            }
            if self.cursor == self.layer.nodes.len() {
                self.advance_layer();
                continue;
            }
            self.cursor += 1;
            self.expand(self.cursor - 1);
        }
        self.progress()
    }

    /// Whether some path so far breaks a safety invariant or deadlocks: the verdict is then
    /// "violated" whatever the rest of the search finds.
    pub fn violated(&self) -> bool {
        Invariant::ALL.iter().any(|inv| inv.is_safety() && self.first[*inv as usize].is_some())
    }

    /// Whether some path so far breaks `inv`.
    pub fn broke(&self, inv: Invariant) -> bool {
        self.first[inv as usize].is_some()
    }

    /// Runs to the end.
    pub fn run(&mut self) -> Summary {
        while !self.step(4096).done {}
        self.summary()
    }

    fn advance_layer(&mut self) {
        if self.next.nodes.is_empty() {
            self.finish();
            return;
        }
        std::mem::swap(&mut self.layer, &mut self.next);
        self.next.nodes.clear();
        self.next.bytes.clear();
        self.index.clear();
        self.cursor = 0;
        self.depth += 1;
        if let Some(scratch) = &mut self.scratch {
            scratch.prev = None;
        }
    }

    /// The search is over: free the frontier and run the pass over the kept graph.
    fn finish(&mut self) {
        self.done = true;
        self.cursor = 0;
        self.layer = Layer::default();
        self.next = Layer::default();
        self.index = Index::default();
        if self.limit_hit {
            self.drop_graph();
        }
        if let Some(g) = &mut self.graph {
            g.close(self.parents.len());
            self.fewest = g.fewest_switches();
        }
    }

    fn expand(&mut self, ix: usize) {
        let node = &self.layer.nodes[ix];
        let (id, counts, range) = (node.id, node.counts, node.at..node.at + node.len as usize);
        if let Some(g) = &mut self.graph {
            g.open(id);
        }
        let Some(mut scratch) = self.scratch.take() else {
            unreachable!("the scratch buffers are put back after every expansion")
        };
        self.load(&mut scratch, range.clone());
        let world = self.world;
        let ready = |t: usize| exec::readiness(world, &scratch.base, ThreadId(t as u8)) == Readiness::Ready;
        let threads = match self.reduce.then(|| self.footprints.ample(&scratch.base, ready)).flatten() {
            Some(t) => t..t + 1,
            None => 0..world.n_threads(),
        };
        let mut any_ready = false;
        let mut unfinished = false;
        for t in threads {
            let t = ThreadId(t as u8);
            match exec::readiness(self.world, &scratch.base, t) {
                Readiness::Ready => any_ready = true,
                Readiness::Blocked(..) => {
                    unfinished = true;
                    continue;
                }
                Readiness::Finished => continue,
            }
            let staged = self.successor(&mut scratch, t, Image::Synced, range.clone());
            scratch.staged.push(staged);
            if exec::two_images(self.world, &scratch.base, t) {
                let staged = self.successor(&mut scratch, t, Image::Memory, range.clone());
                scratch.staged.push(staged);
            }
        }
        self.push_all(id, &counts, &scratch.staged);
        scratch.staged.clear();
        self.scratch = Some(scratch);
        if self.done {
            return;
        }
        if !any_ready {
            #[cfg(test)]
            self.terminals.extend(self.scratch.as_ref().map(|s| s.base.clone()));
            let mask = if unfinished { Invariant::Deadlock.bit() } else { 0 };
            if unfinished {
                self.record_first(mask, id, u8::MAX);
                if let Some(g) = &mut self.graph {
                    g.deadlocks.push(id);
                }
            }
            let mut overflow = false;
            self.terminal.add(&counts, mask, &mut overflow);
            if unfinished {
                self.deadlocked.add(&counts, 0, &mut overflow);
            }
            self.overflow |= overflow;
        }
    }

    /// Runs thread `t`'s step from `scratch.base` (the node at `range` of the current layer),
    /// a DMA through `image` of its STE and CD, and appends the successor's encoding to the next layer, staged for the lookup (whose
    /// index slot it reads now). `scratch.work` is left equal to `scratch.base`.
    fn successor(&mut self, scratch: &mut Scratch, t: ThreadId, image: Image, range: std::ops::Range<usize>) -> Staged {
        let pc = scratch.base.threads[t.ix()].pc;
        let plan = self.plans[t.ix()].get(usize::from(pc)).copied().unwrap_or(Plan::ALL);
        let work = &mut scratch.work;
        let outcome = exec::step_image(self.world, work, t, image, None);
        let checked = plan.check || outcome != Outcome::default();
        let mask = match checked {
            true => {
                let live = scratch.live.get(work, &scratch.base, plan.hw);
                check::after_step_in(self.world, work, &outcome, 0, None, live)
            }
            false => {
                debug_assert_invisible(self.world, work, &outcome);
                0
            }
        };
        let mut dirty = plan.dirty | if checked { self.layout.checked() } else { 0 };
        if let Some(sym) = self.symmetry.as_mut().filter(|_| plan.relabel) {
            dirty |= if sym.canonicalize(work) { self.layout.asids() } else { 0 };
        }
        let dirty = self.layout.differ(work, &scratch.base, dirty);
        let at = self.next.bytes.len();
        let base = &self.layer.bytes[range];
        self.packer.encode_from(work, (base, &scratch.bounds), dirty, plan.site, &mut self.next.bytes);
        debug_assert!(self.encodes_fully(work, at), "a step wrote outside its footprint");
        self.layout.restore(work, &scratch.base, dirty);
        debug_assert!(*work == scratch.base, "a step wrote outside its footprint");
        let fp = (self.fingerprint)(&self.next.bytes[at..]);
        self.index.touch(fp);
        let len = (self.next.bytes.len() - at) as u32;
        Staged { at, len, fp, choice: graph::choice_byte(t, image == Image::Memory), pc, mask: check::edge_mask(mask) }
    }

    /// Decodes the node at `range` of the current layer into `scratch.base` and `work`: only
    /// the parts that differ from the node decoded before it, when that was of this layer.
    fn load(&self, scratch: &mut Scratch, range: std::ops::Range<usize>) {
        let bytes = &self.layer.bytes;
        let changed = match scratch.prev.replace(range.clone()) {
            Some(prev) => {
                std::mem::swap(&mut scratch.bounds, &mut scratch.prev_bounds);
                let (s, b) = (&mut scratch.base, &mut scratch.bounds);
                self.packer.decode_from(&bytes[range], s, b, &bytes[prev], &scratch.prev_bounds)
            }
            None => {
                self.packer.decode(&bytes[range], &mut scratch.base, &mut scratch.bounds);
                u64::MAX
            }
        };
        self.layout.restore(&mut scratch.work, &scratch.base, changed);
        debug_assert!(scratch.work == scratch.base);
        scratch.live.base_ok = false;
    }

    /// Whether the incremental encoding of `state` at `next.bytes[at..]` equals its full
    /// encoding (a check of the footprints in debug builds).
    fn encodes_fully(&mut self, state: &State, at: usize) -> bool {
        let mut full = Vec::new();
        self.packer.encode(state, &mut full);
        full == self.next.bytes[at..]
    }

    fn record_first(&mut self, mask: Mask, parent: u32, thread: u8) {
        if mask == 0 {
            return;
        }
        for inv in Invariant::ALL {
            if mask & inv.bit() != 0 && self.first[inv as usize].is_none() {
                self.first[inv as usize] = Some((parent, thread));
            }
        }
        if mask & safety_mask() != 0 && self.first_safety.is_none() {
            self.first_safety = Some((parent, thread));
        }
    }

    /// Adds the transitions of one expansion, whose targets' encodings were staged one after
    /// another at the end of `next.bytes`, to the next layer, in order: the targets already
    /// there are dropped from the arena and the new ones moved down over them.
    fn push_all(&mut self, parent: u32, counts: &Counts, staged: &[Staged]) {
        let Some(first) = staged.first() else { return };
        let mut end = first.at;
        for s in staged {
            self.transitions += 1;
            let Some(to) = self.push(s, &mut end, parent, counts) else {
                return;
            };
            if let Some(g) = &mut self.graph {
                g.edges.push(Edge { to, pc: s.pc, choice: s.choice, mask: s.mask });
                if g.edges.len() >= u32::MAX as usize {
                    self.drop_graph();
                }
            }
        }
        self.next.bytes.truncate(end);
    }

    /// Adds a staged transition's target to the next layer: its id, or `None` at the state
    /// limit. The next layer's arena is kept up to `end`; a new target is moved there.
    fn push(&mut self, s: &Staged, end: &mut usize, parent: u32, counts: &Counts) -> Option<u32> {
        let (choice, mask, fp) = (s.choice, Mask::from(s.mask), s.fp);
        self.record_first(mask, parent, choice);
        let mut overflow = false;
        let bytes = &self.next.bytes[s.at..s.at + s.len as usize];
        let at_limit = self.parents.len() as u64 >= self.limits.max_states;
        let next = &self.next;
        let id = match self.index.find(fp, |i| next.state(&next.nodes[i as usize]) == bytes) {
            Ok(i) => {
                let node = &mut self.next.nodes[i as usize];
                node.counts.add(counts, mask, &mut overflow);
                node.id
            }
            Err(vacant) => {
                if at_limit {
                    self.limit_hit = true;
                    self.finish();
                    return None;
                }
                self.index.insert(vacant, fp, self.next.nodes.len() as u32);
                let id = self.parents.len() as u32;
                self.parents.push((parent, choice));
                if self.parents.len() as u64 > self.graph_limit {
                    self.drop_graph();
                }
                let mut c = Counts::default();
                c.add(counts, mask, &mut overflow);
                let (at, len) = (*end, s.len);
                self.next.bytes.copy_within(s.at..s.at + len as usize, at);
                *end += len as usize;
                self.next.nodes.push(Node { at, len, id, counts: c });
                id
            }
        };
        self.overflow |= overflow;
        Some(id)
    }

    /// The schedule from the start to `end`: a state and the choice byte of a last step
    /// from it (`u8::MAX` for none).
    fn path(&self, end: (u32, u8)) -> Schedule {
        let mut out = Vec::new();
        if end.1 != u8::MAX {
            out.push(graph::choice_of(end.1));
        }
        let mut id = end.0;
        while id != 0 && id != u32::MAX {
            let (parent, choice) = self.parents[id as usize];
            out.push(graph::choice_of(choice));
            id = parent;
        }
        out.reverse();
        Schedule::from_marked(out)
    }

    /// The kept graph, once the search has ended without hitting a limit.
    fn graph(&self) -> Option<&Graph> {
        self.graph.as_ref().filter(|_| self.done && !self.limit_hit)
    }

    /// The numbers so far (final once [`Progress::done`]).
    pub fn summary(&self) -> Summary {
        let total = self.terminal.total();
        let by_invariant = Invariant::ALL
            .iter()
            .map(|inv| match inv {
                Invariant::Deadlock => (*inv, self.deadlocked.total()),
                _ => (*inv, total.saturating_sub(self.terminal.clean(*inv))),
            })
            .collect();
        let shortest_by_invariant =
            Invariant::ALL.iter().filter_map(|inv| self.first[*inv as usize].map(|e| (*inv, self.path(e)))).collect();
        Summary {
            unique_states: self.parents.len() as u64,
            transitions: self.transitions,
            interleavings: total,
            violating: total.saturating_sub(self.terminal.clean_safety()),
            by_invariant,
            limit_hit: self.limit_hit,
            overflow: self.overflow,
            approx: self.overflow.then(|| {
                let (interleavings, violating) = self.terminal.approx();
                Approx { interleavings, violating }
            }),
            shortest: self.first_safety.map(|e| self.path(e)),
            shortest_by_invariant,
            fewest_switches: self.fewest.clone(),
            graph_dropped: self.graph_dropped,
            reduced: self.reduce,
            symmetry: self.symmetry.is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{builtin, Granularity, Variant, World};

    /// Deduplication is exact even when every fingerprint collides.
    #[test]
    fn colliding_fingerprints_give_the_same_summary() {
        let world = builtin::get("attach-storm-2").unwrap().compile(Variant::Pre, Granularity::Mail).unwrap();
        let normal = Explorer::new(&world, Limits::default()).run();
        let mut e = Explorer::new(&world, Limits::default());
        e.fingerprint = |bytes| bytes.len() as u64 % 3;
        assert_eq!(e.run(), normal);
        assert_eq!(normal.unique_states, 7597, "12,208 states, 7,597 up to ASID renaming");
    }

    /// The reduced search reaches exactly the terminal states (finished or deadlocked) of the
    /// full search: the reduction only drops interleavings that end where another one does.
    #[test]
    fn reduction_keeps_every_terminal_state() {
        let terminals = |world: &World, reduce: bool| {
            let mut e = Explorer::new(world, Limits::default()).with_reduction(reduce);
            e.run();
            let mut t = std::mem::take(&mut e.terminals);
            t.sort_by_key(|s| format!("{s:?}"));
            t
        };
        for id in ["seed-race", "release-race", "attach-storm-2", "unmap-during-asid-change", "sva-unbind-reuse"] {
            for v in Variant::ALL {
                for g in Granularity::ALL {
                    let world = builtin::get(id).unwrap().compile(v, g).unwrap();
                    let (full, reduced) = (terminals(&world, false), terminals(&world, true));
                    assert!(!full.is_empty());
                    assert!(full == reduced, "{id} {v} {g}: {} terminal states, {} reduced", full.len(), reduced.len());
                }
            }
        }
    }

    /// The floating-point estimates track the exact counts.
    #[test]
    fn estimates_agree_with_exact_counts() {
        for g in [Granularity::Mail, Granularity::Source] {
            let world = builtin::get("seed-race").unwrap().compile(Variant::Pre, g).unwrap();
            let mut e = Explorer::new(&world, Limits::default());
            let s = e.run();
            assert_eq!(s.approx, None, "no overflow, no estimate");
            let close = |a: f64, b: u128| (a - b as f64).abs() <= 1e-12 * b as f64;
            let (total, violating) = e.terminal.approx();
            assert!(close(total, s.interleavings));
            assert!(close(violating, s.violating));
        }
    }
}
