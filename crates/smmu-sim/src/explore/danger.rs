//! Danger windows: for each pair of steps in different threads, how many violating
//! interleavings run one before the other.
//!
//! A step is named by its thread and its index among that thread's steps (the thread's step
//! counter before it runs). Exact, by path counting over the kept state graph:
//!
//! * forward, in id order: `F(s)`, the paths from the start to `s`, and `Fc(s)`, those with
//!   no safety violation yet; and each state's step counters;
//! * backward, in reverse id order: `B(s)`, the complete paths from `s`, and `Bc(s)`, those
//!   that finish without a safety violation or deadlock;
//! * an edge `e: s → t` lies on `V(e) = F(s)·B(t) − [e clean]·Fc(s)·Bc(t)` violating
//!   interleavings. If `e` is step `m` of thread `j`, every other thread `i` has run exactly
//!   its first `steps_i(s)` steps before it, so `V(e)` counts towards "step `(i, k)` before
//!   step `(j, m)`" for every `k < steps_i(s)`: bucket by `steps_i(s)`, then sum suffixes.
//!
//! The cost is one exploration with the graph kept (so the state bound of [`Limits`] is also
//! the bound of exactness: past it there is no answer, never an approximate one), 64 bytes of
//! counts a state, and `O(transitions × threads + steps²)` work. Every edge also counts
//! towards the same matrix over all interleavings (`F(s)·B(t)`), which gives the share of an
//! order that violates.

use super::graph::Graph;
use super::{safety_mask, Explorer, Limits};
use crate::ids::ThreadId;
use crate::world::World;
use std::collections::BTreeSet;

/// A step of one thread, as a row and column of a [`DangerMap`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DangerStep {
    /// The thread.
    pub thread: ThreadId,
    /// Its name (`CPU0`, `DMA_A`).
    pub thread_name: String,
    /// Index among the thread's steps (0-based).
    pub index: u16,
    /// Innermost kernel function. When different paths run different instructions as this
    /// step (loops, branches), the one with the lowest program counter.
    pub function: &'static str,
    /// Label of the step; alternatives joined by ` | ` when paths differ.
    pub label: String,
}

/// The danger-window matrix of a scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DangerMap {
    /// The steps, thread by thread, in step order.
    pub steps: Vec<DangerStep>,
    /// `before[a][b]`: violating interleavings that run step `a` before step `b` (both run).
    /// 0 when `a` and `b` are steps of one thread.
    pub before: Vec<Vec<u128>>,
    /// `occurs[a]`: violating interleavings that run step `a` at all.
    pub occurs: Vec<u128>,
    /// `before_all[a][b]`: all interleavings, violating or not, that run `a` before `b`; so
    /// `before[a][b] / before_all[a][b]` is the share of that order that violates.
    pub before_all: Vec<Vec<u128>>,
    /// Complete interleavings.
    pub interleavings: u128,
    /// Interleavings violating a safety invariant.
    pub violating: u128,
    /// Unique states of the graph.
    pub unique_states: u64,
    /// Transitions of the graph.
    pub transitions: u64,
}

impl DangerMap {
    /// The share of interleavings running step `a` before step `b` that violate (0 when no
    /// interleaving runs them in that order).
    pub fn share(&self, a: usize, b: usize) -> f64 {
        match self.before_all[a][b] {
            0 => 0.0,
            all => self.before[a][b] as f64 / all as f64,
        }
    }
}

/// Why there is no danger map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DangerError {
    /// The search was not finished, or the graph has more states than the bound (the
    /// state limit, or the graph limit of the explorer).
    LimitHit(u64),
    /// A count exceeded `u128`.
    Overflow,
}

impl std::fmt::Display for DangerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DangerError::LimitHit(n) => {
                write!(
                    f,
                    "danger windows need the complete state graph: the search stopped early or the graph has more than {n} states"
                )
            }
            DangerError::Overflow => f.write_str("a path count exceeded u128"),
        }
    }
}

impl std::error::Error for DangerError {}

fn add(a: &mut u128, b: u128) -> Result<(), DangerError> {
    *a = a.checked_add(b).ok_or(DangerError::Overflow)?;
    Ok(())
}

fn mul(a: u128, b: u128) -> Result<u128, DangerError> {
    a.checked_mul(b).ok_or(DangerError::Overflow)
}

/// Explores `world` keeping the whole graph (up to `limits.max_states` states) and computes
/// the danger windows exactly.
pub fn danger_windows(world: &World, limits: Limits) -> Result<DangerMap, DangerError> {
    let mut explorer = Explorer::new(world, limits).with_graph_limit(limits.max_states);
    explorer.run();
    explorer.danger_windows()
}

impl Explorer<'_> {
    /// The danger windows of a finished search over its kept graph (see
    /// [`Explorer::with_graph_limit`]).
    pub fn danger_windows(&self) -> Result<DangerMap, DangerError> {
        let summary = self.summary();
        if summary.overflow {
            return Err(DangerError::Overflow);
        }
        let Some(graph) = self.graph() else {
            let bound = if summary.limit_hit { self.limits.max_states } else { self.graph_limit };
            return Err(DangerError::LimitHit(bound));
        };
        let initial_clean = self.world.initial.broken & safety_mask() == 0;
        let mut map = compute(self.world, graph, initial_clean)?;
        map.unique_states = summary.unique_states;
        map.transitions = summary.transitions;
        debug_assert_eq!(map.interleavings, summary.interleavings);
        debug_assert_eq!(map.violating, summary.violating);
        Ok(map)
    }
}

fn compute(world: &World, g: &Graph, initial_clean: bool) -> Result<DangerMap, DangerError> {
    let n = g.n_threads;
    let states = g.states();
    let safety = safety_mask();
    // Backward: complete paths, and clean complete paths, from each state.
    let mut back = vec![(0u128, 0u128); states];
    for s in (0..states).rev() {
        let out = g.out(s);
        if out.is_empty() {
            back[s] = (1, u128::from(!g.is_deadlock(s)));
            continue;
        }
        let (mut total, mut clean) = (0u128, 0u128);
        for e in out {
            let (t, c) = back[e.to as usize];
            add(&mut total, t)?;
            if crate::check::Mask::from(e.mask) & safety == 0 {
                add(&mut clean, c)?;
            }
        }
        back[s] = (total, clean);
    }
    // Forward: paths and clean paths from the start, and the step counters.
    let mut fwd = vec![(0u128, 0u128); states];
    fwd[0] = (1, u128::from(initial_clean));
    let mut steps = vec![0u16; states * n];
    // Step counts per thread: the number of distinct step indices seen.
    let mut len = vec![0usize; n];
    for s in 0..states {
        for e in g.out(s) {
            let t = usize::from(e.thread());
            let to = e.to as usize;
            let (f, fc) = fwd[s];
            add(&mut fwd[to].0, f)?;
            if crate::check::Mask::from(e.mask) & safety == 0 {
                add(&mut fwd[to].1, fc)?;
            }
            let (a, b) = (s * n, to * n);
            for i in 0..n {
                steps[b + i] = steps[a + i] + u16::from(i == t);
            }
            len[t] = len[t].max(usize::from(steps[a + t]) + 1);
        }
    }
    let (mut interleavings, mut clean_total) = (0u128, 0u128);
    for (s, (f, fc)) in fwd.iter().enumerate() {
        if g.out(s).is_empty() {
            add(&mut interleavings, *f)?;
            if !g.is_deadlock(s) {
                add(&mut clean_total, *fc)?;
            }
        }
    }
    // Rows: thread by thread. Buckets: per thread i, counters 0..=len[i].
    let row: Vec<usize> = (0..n).scan(0, |acc, i| Some(std::mem::replace(acc, *acc + len[i]))).collect();
    let rows: usize = len.iter().sum();
    let bucket: Vec<usize> = (0..n).scan(0, |acc, i| Some(std::mem::replace(acc, *acc + len[i] + 1))).collect();
    let buckets: usize = len.iter().map(|l| l + 1).sum();
    let mut hist = vec![0u128; rows * buckets];
    let mut hist_all = vec![0u128; rows * buckets];
    let mut occurs = vec![0u128; rows];
    let mut pcs: Vec<BTreeSet<u16>> = vec![BTreeSet::new(); rows];
    for s in 0..states {
        let (f, fc) = fwd[s];
        for e in g.out(s) {
            let j = usize::from(e.thread());
            let (bt, bc) = back[e.to as usize];
            let clean = if crate::check::Mask::from(e.mask) & safety == 0 { mul(fc, bc)? } else { 0 };
            let all = mul(f, bt)?;
            let v = all - clean;
            let b = row[j] + usize::from(steps[s * n + j]);
            pcs[b].insert(e.pc);
            add(&mut occurs[b], v)?;
            for i in (0..n).filter(|i| *i != j) {
                let at = b * buckets + bucket[i] + usize::from(steps[s * n + i]);
                add(&mut hist[at], v)?;
                add(&mut hist_all[at], all)?;
            }
        }
    }
    let mut before = vec![vec![0u128; rows]; rows];
    let mut before_all = vec![vec![0u128; rows]; rows];
    for b in 0..rows {
        for i in 0..n {
            if b >= row[i] && b < row[i] + len[i] {
                continue;
            }
            // before[(i, k)][b] = sum of hist[b][(i, c)] for c > k.
            let (mut acc, mut acc_all) = (0u128, 0u128);
            for k in (0..len[i]).rev() {
                add(&mut acc, hist[b * buckets + bucket[i] + k + 1])?;
                add(&mut acc_all, hist_all[b * buckets + bucket[i] + k + 1])?;
                before[row[i] + k][b] = acc;
                before_all[row[i] + k][b] = acc_all;
            }
        }
    }
    let mut labels = Vec::with_capacity(rows);
    for (i, program) in world.programs.iter().enumerate() {
        for k in 0..len[i] {
            let set = &pcs[row[i] + k];
            let instrs: Vec<_> = set.iter().filter_map(|pc| program.instrs.get(usize::from(*pc))).collect();
            let mut names: Vec<&str> = Vec::new();
            for instr in &instrs {
                if !names.contains(&instr.label.as_str()) {
                    names.push(&instr.label);
                }
            }
            labels.push(DangerStep {
                thread: ThreadId(i as u8),
                thread_name: program.name.clone(),
                index: k as u16,
                function: instrs.first().map_or("", |i| i.function),
                label: names.join(" | "),
            });
        }
    }
    Ok(DangerMap {
        steps: labels,
        before,
        occurs,
        before_all,
        interleavings,
        violating: interleavings - clean_total,
        unique_states: 0,
        transitions: 0,
    })
}
