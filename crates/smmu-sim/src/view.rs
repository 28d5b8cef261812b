//! Presentation data for front ends: the timeline, the tables at a cursor, invariant status,
//! and schedule edits. Everything a page shows is computed here, so the page holds no model
//! logic and the same values are tested on the host.

pub mod bits;

use crate::check::{live_refs, Invariant};
use crate::diff::{self, Change};
use crate::ids::ThreadId;
use crate::sched::Schedule;
use crate::state::State;
use crate::trace::Trace;
use crate::world::World;

/// One lane of the timeline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    /// Thread name (`CPU0`, `DMA_A`).
    pub name: String,
    /// A device DMA lane rather than a CPU.
    pub device: bool,
    /// What the thread runs, e.g. `arm_smmu_attach_dev(A, y)`.
    pub title: String,
}

/// One block of the timeline: a step as it ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// Global position (step index).
    pub index: usize,
    /// Lane (thread index).
    pub lane: usize,
    /// Index of this step within its lane.
    pub nth: usize,
    /// Innermost kernel function.
    pub function: &'static str,
    /// Short label, with folded bookkeeping.
    pub label: String,
    /// The step's own label, without the folded bookkeeping.
    pub main: String,
    /// How many bookkeeping effects are folded into the step.
    pub folded: usize,
    /// `arm-smmu-v3.c:2547-2549 @71b0aa10b18d`.
    pub source: String,
    /// Link to the source lines at the pinned commit.
    pub url: Option<String>,
    /// Invariant ids violated at this step.
    pub violations: Vec<&'static str>,
    /// When deferred: the schedule position it was asked for and the lock it waited on.
    pub waited: Option<(usize, String)>,
    /// Chosen by the scheduler after the user's schedule ran out.
    pub auto: bool,
    /// A step a patch inserted (no kernel line of its own).
    pub patched: bool,
    /// A step a patch moved from its place in the kernel's order.
    pub moved: bool,
}

/// The whole timeline of a trace.
pub fn blocks(world: &World, trace: &Trace) -> Vec<Block> {
    let mut nth = vec![0usize; world.n_threads()];
    trace
        .steps
        .iter()
        .enumerate()
        .map(|(index, s)| {
            let lane = s.thread.ix();
            let mut label = s.label.clone();
            for f in &s.folded {
                label.push_str("; ");
                label.push_str(f);
            }
            let main = s.label.clone();
            let waited = match (s.waited, s.requested) {
                (Some((lock, owner)), Some(pos)) => Some((
                    pos,
                    format!("waited for {} held by {}", diff::lock_name(world, lock), world.programs[owner.ix()].name),
                )),
                _ => None,
            };
            let patched = s.src.part == crate::patch::INSERTED;
            let b = Block {
                index,
                lane,
                nth: nth[lane],
                function: s.function,
                label,
                main,
                folded: s.folded.len(),
                source: if patched { "inserted by the patch".to_string() } else { s.src.short() },
                url: if patched { None } else { s.src.url() },
                violations: s.violations.iter().map(|v| v.invariant.id()).collect(),
                waited,
                auto: s.auto,
                patched,
                moved: s.moved,
            };
            nth[lane] += 1;
            b
        })
        .collect()
}

/// The lanes, in thread order.
pub fn lanes(world: &World) -> Vec<Lane> {
    world
        .programs
        .iter()
        .map(|p| {
            let mut calls: Vec<&str> = Vec::new();
            for i in &p.instrs {
                let outer = i.stack.first().copied().unwrap_or(i.function);
                if calls.last() != Some(&outer) {
                    calls.push(outer);
                }
            }
            Lane { name: p.name.clone(), device: p.device, title: calls.join(", ") }
        })
        .collect()
}

/// Moves the block at global position `from` to position `to` of a schedule that names every
/// step (as [`Trace::schedule`] does). Steps of one thread keep their order: moving a step
/// past a step of its own thread moves that step along instead.
pub fn move_step(schedule: &Schedule, from: usize, to: usize) -> Schedule {
    let mut s = schedule.0.clone();
    if from >= s.len() {
        return Schedule(s, schedule.1.clone());
    }
    let t = s.remove(from);
    let to = to.min(s.len());
    s.insert(to, t);
    Schedule(s, schedule.1.clone())
}

/// Status of one invariant at a cursor.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvariantStatus {
    /// Which invariant.
    pub invariant: Invariant,
    /// Broken at the cursor: a state invariant that does not hold there, or an event
    /// invariant violated at or before it.
    pub broken: bool,
    /// The first step that violated it in the whole trace.
    pub first: Option<usize>,
    /// The message of the violation at or before the cursor, if any.
    pub message: Option<String>,
}

/// Status of every invariant after step `cursor` (`None`: before the first step).
pub fn invariant_status(world: &World, trace: &Trace, cursor: Option<usize>) -> Vec<InvariantStatus> {
    let state = cursor.map_or(&world.initial, |c| &trace.states[c]);
    Invariant::ALL
        .iter()
        .map(|&inv| {
            let mut upto =
                trace.violations.iter().filter(|v| v.invariant == inv && cursor.is_some_and(|c| v.step <= c));
            let last = upto.next_back();
            let broken = match inv {
                Invariant::Inv1 | Invariant::Lock => state.broken & inv.bit() != 0,
                _ => last.is_some(),
            };
            InvariantStatus {
                invariant: inv,
                broken,
                first: trace.first(inv),
                message: last.filter(|_| broken).map(|v| v.message.clone()),
            }
        })
        .collect()
}

/// A row of a table in the state panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The object (`STE_A`, `CD_A[0]`, `z->devices`, ...): matches [`Change::object`].
    pub object: String,
    /// Cells.
    pub cells: Vec<String>,
}

/// The tables of the state panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tables {
    /// STE per master: master, STE.
    pub stes: Vec<Row>,
    /// CD slots: `master[slot]`, valid, ASID, page table, ASET, live.
    pub cds: Vec<Row>,
    /// IOTLB: tag, iova, pa, page table.
    pub iotlb: Vec<Row>,
    /// ASID xarray: ASID, owner.
    pub xa: Vec<Row>,
    /// Devices lists: domain, stage/ID, members.
    pub domains: Vec<Row>,
    /// Locks: lock, holder.
    pub locks: Vec<Row>,
}

/// The row name of an IOTLB entry: the IOTLB as a whole changes (see [`diff::changes`]),
/// each entry is named by its tag and input address.
fn iotlb_row(tag: crate::state::Tag, iova: u64) -> String {
    format!("IOTLB {tag} {iova:#x}")
}

/// The state-table row ([`Row::object`]) of an object a violation names, so a front end can
/// point at it.
pub fn object_row(world: &World, o: &crate::check::Object) -> String {
    use crate::check::Object;
    match *o {
        Object::Ste(m) => format!("STE_{}", world.topo.master(m)),
        Object::Cd(m, s) => format!("CD_{}[{s}]", world.topo.master(m)),
        Object::Iotlb(tag, iova) => iotlb_row(tag, iova),
        Object::Devices(d) => format!("{}->devices", world.topo.domain(d)),
    }
}

/// Whether a row changed when `changed` (from [`changes_at`]) names it: IOTLB rows change
/// with the IOTLB.
pub fn row_changed(row: &Row, changed: &[String]) -> bool {
    changed.iter().any(|c| *c == row.object || (c == "IOTLB" && row.object.starts_with("IOTLB ")))
}

/// The tables at a state.
pub fn tables(world: &World, state: &State) -> Tables {
    let live = live_refs(state);
    let mut t = Tables { stes: vec![], cds: vec![], iotlb: vec![], xa: vec![], domains: vec![], locks: vec![] };
    for (i, m) in state.masters.iter().enumerate() {
        let name = &world.topo.masters[i].name;
        let ste = |s: crate::ste::Ste| diff::ste_text(world, s.config());
        let pending =
            if m.ste.mem == m.ste.hw { String::new() } else { format!("SMMU may still use: {}", ste(m.ste.hw)) };
        t.stes.push(Row { object: format!("STE_{name}"), cells: vec![name.clone(), ste(m.ste.mem), pending] });
        for (s, slot) in m.cds.iter().enumerate() {
            let cd = slot.mem;
            let is_live = live.iter().any(|r| !r.ste && r.master.ix() == i && usize::from(r.ssid) == s);
            let pt = cd.ttb0.map_or("-".to_string(), |p| world.topo.pt(p).to_string());
            let pending = if slot.mem == slot.hw { String::new() } else { diff::cd_text(world, &slot.hw) };
            t.cds.push(Row {
                object: format!("CD_{name}[{s}]"),
                cells: vec![
                    format!("{name}[{s}]"),
                    if cd.valid { "V".into() } else { "-".into() },
                    if cd.valid { cd.asid.to_string() } else { String::new() },
                    pt,
                    u8::from(cd.aset).to_string(),
                    if is_live { "live".into() } else { String::new() },
                    pending,
                ],
            });
        }
    }
    for e in &state.iotlb {
        let cells =
            vec![e.tag.to_string(), format!("{:#x}", e.iova), format!("{:#x}", e.pa), world.topo.pt(e.pt).into()];
        t.iotlb.push(Row { object: iotlb_row(e.tag, e.iova), cells });
    }
    for (asid, c) in &state.xa {
        t.xa.push(Row {
            object: "arm_smmu_asid_xa".into(),
            cells: vec![asid.to_string(), diff::ctx_name(world, state, *c)],
        });
    }
    for (i, d) in state.domains.iter().enumerate() {
        let info = &world.topo.domains[i];
        let id = match info.stage {
            crate::state::Stage::S1 if d.finalised => format!("S1 ASID {}", state.ctxs[i].asid),
            crate::state::Stage::S2 if d.finalised => format!("S2 VMID {}", d.vmid),
            crate::state::Stage::Bypass => "bypass".into(),
            _ => format!("{:?} (not finalised)", info.stage),
        };
        let members: Vec<&str> = d.devices.iter().map(|m| world.topo.master(*m)).collect();
        let cells = vec![info.name.clone(), id, world.topo.pt(info.pt).into(), members.join(", ")];
        t.domains.push(Row { object: format!("{}->devices", info.name), cells });
    }
    for slot in diff::lock_slots(world).filter(|s| *s < state.locks.len()) {
        let lock = diff::lock_name(world, diff::lock_by_slot(slot));
        let holder =
            state.locks[slot].checked_sub(1).map_or("free".into(), |h| world.programs[usize::from(h)].name.clone());
        t.locks.push(Row { object: lock.clone(), cells: vec![lock, holder] });
    }
    t
}

/// What step `i` of a trace changed.
pub fn changes_at(world: &World, trace: &Trace, i: usize) -> Vec<Change> {
    diff::changes(world, trace.state_before(world, i), &trace.states[i])
}

/// What the TLB invalidation at step `i` did, in words, or `None` when the step flushes
/// nothing: which IOTLB entries of the flushed tag it dropped, or that none was cached. A
/// flush changes no descriptor, so without this the step would read as doing nothing.
pub fn flush_note(world: &World, trace: &Trace, i: usize) -> Option<String> {
    let tag = trace.steps.get(i)?.outcome.flush?;
    let dropped: Vec<String> = trace
        .state_before(world, i)
        .iotlb
        .iter()
        .filter(|e| e.tag == tag)
        .map(|e| format!("{tag} {:#x} -> {:#x}", e.iova, e.pa))
        .collect();
    Some(match dropped.len() {
        0 => format!("Invalidates {tag} in the IOTLB: no entry of {tag} was cached, so nothing was dropped."),
        n => format!(
            "Invalidates {tag} in the IOTLB: dropped {n} {} ({}).",
            if n == 1 { "entry" } else { "entries" },
            dropped.join(", ")
        ),
    })
}

/// Most seeded random runs [`violating_with_order`] tries.
pub const ORDER_TRIES: u64 = 500;

/// A violating run in which thread `a.0`'s step `a.1` (0-based among its steps) runs before
/// thread `b.0`'s step `b.1`, found among seeded random schedules ([`crate::sched::random`],
/// seeds 0 to [`ORDER_TRIES`]), so the same pair always gives the same run. `None` when none
/// of those runs has that order and violates (one may still exist).
pub fn violating_with_order(world: &World, a: (ThreadId, u16), b: (ThreadId, u16)) -> Option<Schedule> {
    let at = |t: &Trace, (thread, nth): (ThreadId, u16)| {
        t.steps.iter().enumerate().filter(|(_, s)| s.thread == thread).nth(usize::from(nth)).map(|(i, _)| i)
    };
    (0..ORDER_TRIES).find_map(|seed| {
        let schedule = crate::sched::random(world, seed);
        let t = crate::sched::run(world, &schedule).ok()?;
        let ordered = matches!((at(&t, a), at(&t, b)), (Some(x), Some(y)) if x < y);
        (ordered && t.safety_violations().next().is_some()).then(|| t.schedule())
    })
}

/// The name of a thread.
pub fn thread_name(world: &World, t: ThreadId) -> &str {
    &world.programs[t.ix()].name
}

/// Moves the block at global position `from` so it runs at position `to` of a schedule that
/// names every step (as [`Trace::schedule`] does), pushing lane-mates along: steps of the same
/// thread between `from` and `to` move with it, so program order is kept and the other
/// threads' steps in that range shift by the number of steps that moved. Returns the new
/// schedule and the position the moved block lands on.
pub fn move_block(schedule: &Schedule, from: usize, to: usize) -> (Schedule, usize) {
    let s = &schedule.0;
    if from >= s.len() {
        return (schedule.clone(), from);
    }
    let to = to.min(s.len() - 1);
    let t = s[from];
    let (lo, hi) = if to >= from { (from, to) } else { (to, from) };
    let others: Vec<ThreadId> = s[lo..=hi].iter().copied().filter(|x| *x != t).collect();
    let mine = hi - lo + 1 - others.len();
    let mut out = s[..lo].to_vec();
    let landed = if to >= from {
        out.extend(&others);
        let at = out.len();
        out.extend(std::iter::repeat_n(t, mine));
        at
    } else {
        out.extend(std::iter::repeat_n(t, mine));
        let at = out.len() - 1;
        out.extend(&others);
        at
    };
    out.extend(&s[hi + 1..]);
    (Schedule(out, schedule.1.clone()), landed)
}

/// Moves the block at `from` one step of another thread earlier (`later == false`) or later,
/// pushing lane-mates in between along. `None` when no other thread's step is on that side.
pub fn nudge_block(schedule: &Schedule, from: usize, later: bool) -> Option<(Schedule, usize)> {
    let s = &schedule.0;
    let t = *s.get(from)?;
    let to = if later { (from + 1..s.len()).find(|&i| s[i] != t)? } else { (0..from).rev().find(|&i| s[i] != t)? };
    Some(move_block(schedule, from, to))
}
