//! Applying edits to one emitted function: its instructions are cut into units (a run of the
//! function's own instructions with one part name, or one call it makes), the units are
//! reordered, and every branch is pointed again at what it meant.
//!
//! A branch inside a unit moves with it. A branch to the start of another unit lands on the
//! *place* before that unit (a label): moving the unit away leaves the label where it was.
//! A branch to the function's end keeps going there. A branch into the middle of another
//! unit follows that unit. An edit that would turn a forward branch into a backward one (a
//! loop the C code does not have) or delete a step a branch lands inside is refused.

use super::{Anchor, Edit, LockName, Pos};
use crate::program::{Instr, Kind};

/// A call the function made: the callee's instructions `start..end`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Call {
    /// First instruction.
    pub start: usize,
    /// One past the last.
    pub end: usize,
    /// The callee.
    pub name: &'static str,
}

/// A unit: instructions `start..end`, named by `anchor`.
#[derive(Clone, Debug)]
pub(crate) struct Unit {
    pub start: usize,
    pub end: usize,
    pub anchor: Anchor,
}

/// Cuts `instrs[start..]` (one function) into units; `calls` are its direct calls in order.
pub(crate) fn units(instrs: &[Instr], start: usize, calls: &[Call]) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    let mut seen: Vec<(&str, u16)> = Vec::new();
    let mut name = |part: &'static str| {
        let n = match seen.iter_mut().find(|(p, _)| *p == part) {
            Some((_, n)) => {
                *n = n.saturating_add(1);
                *n
            }
            None => {
                seen.push((part, 1));
                1
            }
        };
        Anchor { part: part.to_string(), n }
    };
    let (mut i, mut calls) = (start, calls.iter().peekable());
    while i < instrs.len() {
        if let Some(c) = calls.next_if(|c| c.start == i) {
            out.push(Unit { start: c.start, end: c.end, anchor: name(c.name) });
            i = c.end;
            continue;
        }
        let (s, part) = (i, instrs[i].src.part);
        let next_call = calls.peek().map_or(usize::MAX, |c| c.start);
        while i < instrs.len() && i < next_call && instrs[i].src.part == part {
            i += 1;
        }
        out.push(Unit { start: s, end: i, anchor: name(part) });
    }
    out
}

/// Where a landed branch goes, in terms that survive reordering.
#[derive(Clone, Copy, Debug)]
enum Target {
    /// Inside (or at the end of) unit `u`, `off` instructions from its start.
    In(usize, usize),
    /// The label before unit `u`.
    Label(usize),
    /// The function's end.
    End,
    /// Before the function: unchanged.
    Fixed(usize),
}

#[derive(Clone, Debug)]
enum Item {
    Unit(usize),
    Label(usize),
    New(Box<Instr>),
}

fn target_of(kind: &Kind) -> Option<u16> {
    match kind {
        Kind::Jump(t) | Kind::JumpIf(_, t) | Kind::JumpUnless(_, t) => Some(*t),
        Kind::Op(_) => None,
    }
}

fn set_target(kind: &mut Kind, to: u16) {
    if let Kind::Jump(t) | Kind::JumpIf(_, t) | Kind::JumpUnless(_, t) = kind {
        *t = to;
    }
}

/// Every landed branch of the function: (its index, its unit, where it goes).
fn branches(instrs: &[Instr], units: &[Unit], pending: &[Option<usize>]) -> Vec<(usize, usize, Target)> {
    let start = units.first().map_or(instrs.len(), |u| u.start);
    let unit_at = |i: usize| units.iter().position(|u| u.start <= i && i < u.end);
    let mut out = Vec::new();
    for (j, instr) in instrs.iter().enumerate().skip(start) {
        let Some(t) = target_of(&instr.kind).map(usize::from) else { continue };
        if pending.contains(&Some(j)) {
            continue;
        }
        let Some(u) = unit_at(j) else { continue };
        let target = if units[u].start <= t && t <= units[u].end {
            Target::In(u, t - units[u].start)
        } else if t >= instrs.len() {
            Target::End
        } else if t < start {
            Target::Fixed(t)
        } else if let Some(v) = units.iter().position(|v| v.start == t) {
            Target::Label(v)
        } else {
            let v = unit_at(t).unwrap_or(u);
            Target::In(v, t - units[v].start)
        };
        out.push((j, u, target));
    }
    out
}

/// Applies `edits` (numbered from 1 in the patch) to the function whose instructions are
/// `instrs[start..]`. `pending` holds the indices of branches not landed yet (the caller's),
/// which are moved along; `insert` builds an inserted lock step.
pub(crate) fn apply(
    instrs: &mut Vec<Instr>,
    start: usize,
    calls: &[Call],
    pending: &mut [Option<usize>],
    edits: &[(usize, &Edit)],
    insert: &dyn Fn(bool, LockName) -> Result<Instr, String>,
) -> Result<(), String> {
    let units = units(instrs, start, calls);
    let branches = branches(instrs, &units, pending);
    let mut order: Vec<Item> = Vec::new();
    for u in 0..units.len() {
        if branches.iter().any(|b| matches!(b.2, Target::Label(v) if v == u)) {
            order.push(Item::Label(u));
        }
        order.push(Item::Unit(u));
    }
    let mut moved = vec![false; units.len()];
    for (n, edit) in edits {
        let at = |e: String| format!("edit {n} ({edit}): {e}");
        for u in edit_order(&mut order, &units, &branches, edit, insert).map_err(at)? {
            moved[u] = true;
        }
        turned(&order, &units, &branches).map_err(at)?;
    }
    for unit in units.iter().zip(&moved).filter(|(_, m)| **m).map(|(u, _)| u) {
        instrs[unit.start..unit.end].iter_mut().for_each(|i| i.moved = true);
    }
    relink(instrs, start, &units, &branches, pending, order);
    Ok(())
}

fn find(order: &[Item], units: &[Unit], a: &Anchor) -> Option<usize> {
    order.iter().position(|it| matches!(it, Item::Unit(u) if units[*u].anchor == *a))
}

/// The index in `order` where an item goes for `pos`; `None` when the anchor is absent here.
fn place(order: &[Item], units: &[Unit], pos: &Pos) -> Option<usize> {
    match pos {
        Pos::End => Some(order.len()),
        Pos::Before(a) => find(order, units, a),
        Pos::After(a) => find(order, units, a).map(|i| i + 1),
    }
}

/// Applies one edit to `order`; returns the units it moved.
fn edit_order(
    order: &mut Vec<Item>,
    units: &[Unit],
    branches: &[(usize, usize, Target)],
    edit: &Edit,
    insert: &dyn Fn(bool, LockName) -> Result<Instr, String>,
) -> Result<Vec<usize>, String> {
    let lands_inside = |u: usize| {
        branches.iter().any(|&(_, from, t)| from != u && matches!(t, Target::In(v, off) if v == u && off > 0))
    };
    match edit {
        Edit::Delete { step, .. } => {
            let Some(i) = find(order, units, step) else { return Ok(Vec::new()) };
            let Item::Unit(u) = order[i] else { unreachable!("find returns units") };
            if lands_inside(u) {
                return Err(format!("a branch of the function lands inside {step}"));
            }
            order.remove(i);
            Ok(Vec::new())
        }
        Edit::Move { step, to, .. } => {
            if matches!(to, Pos::Before(a) | Pos::After(a) if a == step) {
                return Err(format!("{step} cannot move relative to itself"));
            }
            let (Some(i), Some(_)) = (find(order, units, step), place(order, units, to)) else { return Ok(Vec::new()) };
            let item = order.remove(i);
            let j = place(order, units, to).unwrap_or(order.len());
            let moved = unit_of(&item);
            order.insert(j, item);
            Ok(moved)
        }
        Edit::Swap { a, b, .. } => {
            if a == b {
                return Err(format!("{a} cannot swap with itself"));
            }
            let (Some(i), Some(j)) = (find(order, units, a), find(order, units, b)) else { return Ok(Vec::new()) };
            order.swap(i, j);
            Ok([unit_of(&order[i]), unit_of(&order[j])].concat())
        }
        Edit::Insert { acquire, lock, at, .. } => {
            let Some(j) = place(order, units, at) else { return Ok(Vec::new()) };
            order.insert(j, Item::New(Box::new(insert(*acquire, *lock)?)));
            Ok(Vec::new())
        }
    }
}

fn unit_of(item: &Item) -> Vec<usize> {
    match item {
        Item::Unit(u) => vec![*u],
        _ => Vec::new(),
    }
}

/// Refuses an order in which a branch between units changed direction (a forward branch that
/// would now jump back, making a loop the C code does not have, or the reverse).
fn turned(order: &[Item], units: &[Unit], branches: &[(usize, usize, Target)]) -> Result<(), String> {
    let (mut at, mut unit_at, mut label_at) = (0, vec![None; units.len()], vec![0; units.len()]);
    for item in order {
        match item {
            Item::Label(u) => label_at[*u] = at,
            Item::New(_) => at += 1,
            Item::Unit(u) => {
                unit_at[*u] = Some(at);
                at += units[*u].end - units[*u].start;
            }
        }
    }
    for &(j, u, target) in branches {
        let Some(s) = unit_at[u] else { continue };
        let from = s + (j - units[u].start);
        let (old_to, to) = match target {
            Target::Label(v) => (units[v].start, label_at[v]),
            Target::In(v, off) if v != u => (units[v].start + off, unit_at[v].map_or(at, |s| s + off)),
            _ => continue,
        };
        if (old_to > j) != (to > from) {
            return Err(format!(
                "{} would branch back to before itself: a loop the C code does not have",
                units[u].anchor
            ));
        }
    }
    Ok(())
}

/// Writes the reordered function back and points every branch again.
fn relink(
    instrs: &mut Vec<Instr>,
    start: usize,
    units: &[Unit],
    branches: &[(usize, usize, Target)],
    pending: &mut [Option<usize>],
    order: Vec<Item>,
) {
    let old_len = instrs.len();
    let body = instrs.split_off(start);
    let mut moved = vec![None; old_len];
    let mut unit_at = vec![None; units.len()];
    let mut label_at = vec![0; units.len()];
    for item in order {
        match item {
            Item::Label(u) => label_at[u] = instrs.len(),
            Item::New(instr) => instrs.push(*instr),
            Item::Unit(u) => {
                unit_at[u] = Some(instrs.len());
                for i in units[u].start..units[u].end {
                    moved[i] = Some(instrs.len());
                    instrs.push(body[i - start].clone());
                }
            }
        }
    }
    let end = instrs.len();
    for &(j, _, target) in branches {
        let Some(from) = moved[j] else { continue };
        let to = match target {
            Target::In(v, off) => unit_at[v].map_or(end, |s| s + off),
            Target::Label(v) => label_at[v],
            Target::End => end,
            Target::Fixed(t) => t,
        };
        set_target(&mut instrs[from].kind, u16::try_from(to).unwrap_or(u16::MAX));
    }
    for p in pending.iter_mut() {
        if let Some(i) = *p {
            if i >= start {
                *p = moved.get(i).copied().flatten();
            }
        }
    }
}
