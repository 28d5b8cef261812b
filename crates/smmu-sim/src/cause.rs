//! Why a violation happened: the steps whose writes the violated predicate reads, traced back.
//!
//! A post-pass over a trace. A step *writes* what changed between the states around it (an
//! STE or CD image, a devices list, the IOTLB entries of a tag; a TLBI writes its tag even
//! when it drops nothing). It *reads* the SMMU-visible objects it used: a DMA reads the STE
//! and CD in use and the IOTLB entries of the tag it looked up; a CFGI + CMD_SYNC that makes
//! an image authoritative reads the memory image. A step that took a branch or left a loop
//! and so skipped stores that could have written an STE or CD *decides* that it stays as it
//! was: it stands for a writer of it and reads what its condition read (the devices list it
//! walked, the CD it tested).
//!
//! From the objects a [`Violation`] names, each object is followed to its last writer (and a
//! later decider) before the step that read it, and from there through what that step read.
//! Thread-local variables and locks are not followed: the chain is what one thread did to
//! state that another thread or the SMMU then used.

use crate::check::{Object, Violation};
use crate::exec::{self, DmaResult, Outcome};
use crate::ids::{DomainId, MasterId};
use crate::program::{Cond, Kind, MasterArg, Op};
use crate::state::{Regs, State, Tag};
use crate::ste::SteConfig;
use crate::trace::Trace;
use crate::world::World;
use std::collections::{BTreeMap, BTreeSet};

/// Most links followed for one violation (each is a (location, step) pair, so a trace of
/// `n` steps has at most a few times `n` of them; this only bounds hostile sizes).
pub const MAX_VISITS: usize = 1 << 16;

/// One step of a causal chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Index of the step in the trace.
    pub step: usize,
    /// What the step did that the chain needs, in kernel words.
    pub what: String,
}

/// A place in the state a step can write or read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Loc {
    /// A master's STE: memory (`false`) or authoritative (`true`) image.
    Ste(MasterId, bool),
    /// A master's CD at a substream, memory or authoritative image.
    Cd(MasterId, u8, bool),
    /// The IOTLB entries of a tag.
    Tlb(Tag),
    /// A domain's devices list.
    List(DomainId),
}

/// Which hardware stores a skipped instruction could have made.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct MayWrite {
    /// The master, or `None` for a list cursor (any master).
    master: Option<MasterId>,
    /// `None` for the STE, else the CD substream (`u8::MAX`: every CD).
    ssid: Option<u8>,
}

impl MayWrite {
    fn covers(self, loc: Loc) -> bool {
        let (m, ssid) = match loc {
            Loc::Ste(m, _) => (m, None),
            Loc::Cd(m, s, _) => (m, Some(s)),
            _ => return false,
        };
        let ssid_ok = match (self.ssid, ssid) {
            (None, None) => true,
            (Some(a), Some(b)) => a == b || a == u8::MAX,
            _ => false,
        };
        ssid_ok && self.master.is_none_or(|x| x == m)
    }
}

/// A taken branch that skipped hardware stores.
#[derive(Clone, Debug)]
struct Decision {
    skipped: Vec<MayWrite>,
    reads: Vec<Loc>,
}

/// What one step wrote, read and decided.
#[derive(Clone, Debug, Default)]
struct Effects {
    writes: Vec<Loc>,
    reads: Vec<Loc>,
    decisions: Vec<Decision>,
}

fn hw_writes(a: &State, b: &State, out: &mut Vec<Loc>) {
    for (i, (ma, mb)) in a.masters.iter().zip(&b.masters).enumerate() {
        let m = MasterId(i as u8);
        if ma.ste.mem != mb.ste.mem {
            out.push(Loc::Ste(m, false));
        }
        if ma.ste.hw != mb.ste.hw {
            out.push(Loc::Ste(m, true));
        }
        for (s, (ca, cb)) in ma.cds.iter().zip(&mb.cds).enumerate() {
            if ca.mem != cb.mem {
                out.push(Loc::Cd(m, s as u8, false));
            }
            if ca.hw != cb.hw {
                out.push(Loc::Cd(m, s as u8, true));
            }
        }
    }
}

fn writes(a: &State, b: &State, outcome: &Outcome) -> Vec<Loc> {
    let mut out = Vec::new();
    hw_writes(a, b, &mut out);
    for (i, (da, db)) in a.domains.iter().zip(&b.domains).enumerate() {
        if da.devices != db.devices {
            out.push(Loc::List(DomainId(i as u8)));
        }
    }
    let changed =
        a.iotlb.iter().filter(|e| !b.iotlb.contains(e)).chain(b.iotlb.iter().filter(|e| !a.iotlb.contains(e)));
    let mut tags: BTreeSet<Tag> = changed.map(|e| e.tag).collect();
    tags.extend(outcome.flush);
    out.extend(tags.into_iter().map(Loc::Tlb));
    out
}

/// What a step read: a DMA's STE, CD and IOTLB tag; a sync's memory image.
fn reads(before: &State, after: &State, outcome: &Outcome, written: &[Loc]) -> Vec<Loc> {
    let mut out = Vec::new();
    if let Some(d) = outcome.dma {
        let synced = d.image == exec::Image::Synced;
        let ste = &before.masters[d.master.ix()].ste;
        out.push(Loc::Ste(d.master, synced));
        if matches!(if synced { ste.hw } else { ste.mem }.config(), SteConfig::S1 { .. }) {
            out.push(Loc::Cd(d.master, d.ssid, synced));
        }
        match d.result {
            DmaResult::Walk { tag, .. } => out.push(Loc::Tlb(tag)),
            DmaResult::Hit { entry, .. } => out.push(Loc::Tlb(entry.tag)),
            DmaResult::Fault(_) | DmaResult::Bypass => {}
        }
    }
    for loc in written {
        let mem = match *loc {
            Loc::Ste(m, true) if after.masters[m.ix()].ste.hw == after.masters[m.ix()].ste.mem => Loc::Ste(m, false),
            Loc::Cd(m, s, true) if synced(&after.masters[m.ix()].cds[usize::from(s)]) => Loc::Cd(m, s, false),
            _ => continue,
        };
        if !written.contains(&mem) {
            out.push(mem);
        }
    }
    out
}

fn synced<T: PartialEq>(slot: &crate::state::Slot<T>) -> bool {
    slot.hw == slot.mem
}

fn may_write(kind: Kind) -> Option<MayWrite> {
    let at = |m: MasterArg| match m {
        MasterArg::Id(m) => Some(m),
        MasterArg::Cursor(_) => None,
    };
    match kind {
        Kind::Op(Op::CdWrite(m, s, _) | Op::CdStoreTtb(m, s, _) | Op::CdStoreQ0(m, s, _) | Op::CfgiCd(m, s)) => {
            Some(MayWrite { master: at(m), ssid: Some(s) })
        }
        Kind::Op(Op::SteInstall(m, _) | Op::SteStore(m, _) | Op::CfgiSte(m)) => {
            Some(MayWrite { master: Some(m), ssid: None })
        }
        Kind::Op(Op::Release(m)) => Some(MayWrite { master: Some(m), ssid: Some(u8::MAX) }),
        _ => None,
    }
}

/// The followed objects a condition reads.
fn cond_reads(state: &State, regs: &Regs, c: Cond) -> Vec<Loc> {
    match c {
        Cond::CursorDone(d) => exec::dom(state, regs, d).map(Loc::List).into_iter().collect(),
        Cond::CdLive(m, s) => exec::master(state, regs, m).map(|m| Loc::Cd(m, s, false)).into_iter().collect(),
        Cond::StePhaseEmpty(m, _) => vec![Loc::Ste(m, false)],
        _ => Vec::new(),
    }
}

/// The taken forward branches of a step that skipped hardware stores.
fn decisions(world: &World, before: &State, after: &State, t: usize, ran: &[(u16, Regs)]) -> Vec<Decision> {
    let program = &world.programs[t].instrs;
    let mut out = Vec::new();
    for (k, (pc, regs)) in ran.iter().enumerate() {
        let pc = usize::from(*pc);
        let (Kind::JumpIf(c, to) | Kind::JumpUnless(c, to)) = program[pc].kind else { continue };
        let to = usize::from(to);
        let next = ran.get(k + 1).map_or(usize::from(after.threads[t].pc), |(p, _)| usize::from(*p));
        if next != to || to <= pc + 1 {
            continue;
        }
        let skipped: Vec<MayWrite> =
            program[pc + 1..to.min(program.len())].iter().filter_map(|i| may_write(i.kind)).collect();
        if !skipped.is_empty() {
            out.push(Decision { skipped, reads: cond_reads(before, regs, c) });
        }
    }
    out
}

fn effects(world: &World, trace: &Trace) -> Vec<Effects> {
    let mut out = Vec::with_capacity(trace.steps.len());
    for (i, s) in trace.steps.iter().enumerate() {
        let before = trace.state_before(world, i);
        let after = &trace.states[i];
        let mut replay = before.clone();
        let mut ran = Vec::new();
        exec::step_recording(world, &mut replay, s.thread, Some(&mut ran));
        let w = writes(before, after, &s.outcome);
        let r = reads(before, after, &s.outcome, &w);
        out.push(Effects { reads: r, decisions: decisions(world, before, after, s.thread.ix(), &ran), writes: w });
    }
    out
}

fn locs(o: Object) -> Vec<Loc> {
    match o {
        Object::Ste(m) => vec![Loc::Ste(m, false), Loc::Ste(m, true)],
        Object::Cd(m, s) => vec![Loc::Cd(m, s, false), Loc::Cd(m, s, true)],
        Object::Iotlb(tag, _) => vec![Loc::Tlb(tag)],
        Object::Devices(d) => vec![Loc::List(d)],
    }
}

/// The causal chain of every violation of a trace, in the order of `trace.violations`.
pub fn chains(world: &World, trace: &Trace) -> Vec<Vec<Link>> {
    let fx = effects(world, trace);
    trace.violations.iter().map(|v| chain_in(world, trace, &fx, v)).collect()
}

/// The causal chain of one violation of `trace`: its steps in order, the violating step last.
pub fn chain(world: &World, trace: &Trace, v: &Violation) -> Vec<Link> {
    chain_in(world, trace, &effects(world, trace), v)
}

/// Why each step is on the chain: the locations it wrote, and those it decided.
#[derive(Default)]
struct Roles {
    wrote: BTreeSet<Loc>,
    decided: BTreeMap<Loc, Vec<Loc>>,
}

fn chain_in(world: &World, trace: &Trace, fx: &[Effects], v: &Violation) -> Vec<Link> {
    let mut roles: BTreeMap<usize, Roles> = BTreeMap::new();
    let Some(own) = fx.get(v.step) else { return Vec::new() };
    roles.entry(v.step).or_default();
    let mut todo: Vec<(Loc, usize)> = v.objects.iter().flat_map(|o| locs(*o)).map(|l| (l, v.step + 1)).collect();
    todo.extend(own.reads.iter().map(|l| (*l, v.step)));
    let mut seen = BTreeSet::new();
    while let Some((loc, upto)) = todo.pop() {
        if seen.len() >= MAX_VISITS || !seen.insert((loc, upto)) {
            continue;
        }
        let writer = (0..upto).rev().find(|j| fx[*j].writes.contains(&loc));
        let from = writer.map_or(0, |w| w + 1);
        let decider = (from..upto)
            .rev()
            .find_map(|k| fx[k].decisions.iter().find(|d| d.skipped.iter().any(|m| m.covers(loc))).map(|d| (k, d)));
        if let Some(j) = writer {
            roles.entry(j).or_default().wrote.insert(loc);
            todo.extend(fx[j].reads.iter().map(|l| (*l, j)));
        }
        if let Some((k, d)) = decider {
            roles.entry(k).or_default().decided.insert(loc, d.reads.clone());
            todo.extend(d.reads.iter().map(|l| (*l, k)));
        }
    }
    roles.into_iter().map(|(step, r)| Link { step, what: describe(world, trace, step, v, &r) }).collect()
}

fn loc_name(world: &World, loc: Loc) -> String {
    match loc {
        Loc::Ste(m, _) => format!("STE_{}", world.topo.master(m)),
        Loc::Cd(m, s, _) => format!("CD_{}[{s}]", world.topo.master(m)),
        Loc::Tlb(tag) => format!("IOTLB {tag}"),
        Loc::List(d) => format!("{}->devices", world.topo.domain(d)),
    }
}

/// Names once each, in order (the two images of an STE or CD are one name).
fn names(world: &World, locs: &BTreeSet<Loc>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in locs {
        let n = loc_name(world, *l);
        if !out.contains(&n) {
            out.push(n);
        }
    }
    out
}

fn describe(world: &World, trace: &Trace, step: usize, v: &Violation, r: &Roles) -> String {
    let s = &trace.steps[step];
    let mut parts = Vec::new();
    if let Some(d) = s.outcome.dma {
        parts.push(crate::trace::access_text(world, &d));
    } else if let Some(tag) = s.outcome.flush {
        parts.push(format!("flushes {tag}"));
    }
    let before = trace.state_before(world, step);
    let changes = crate::diff::changes(world, before, &trace.states[step]);
    for n in names(world, &r.wrote) {
        if let Some(c) = changes.iter().find(|c| c.object == n) {
            parts.push(format!("{}: {} → {}", c.object, c.before, c.after));
        }
    }
    let decided: BTreeSet<Loc> = r.decided.keys().copied().collect();
    for n in names(world, &decided) {
        let (loc, walked) = r.decided.iter().find(|(l, _)| loc_name(world, **l) == n).expect("named from these");
        parts.push(format!("skips the store to {n}{}", absent(world, before, walked, *loc)));
    }
    if step == v.step {
        parts.push(format!("{} broken: {}", v.invariant.id(), v.message));
    }
    parts.join("; ")
}

/// " (A is not on z->devices)" when the decision walked a list the object's master is not on.
fn absent(world: &World, before: &State, walked: &[Loc], loc: Loc) -> String {
    let (Loc::Ste(m, _) | Loc::Cd(m, _, _)) = loc else { return String::new() };
    let list = walked.iter().find_map(|l| match l {
        Loc::List(d) if !before.domains[d.ix()].devices.contains(&m) => Some(*d),
        _ => None,
    });
    list.map_or(String::new(), |d| format!(" ({} is not on {}->devices)", world.topo.master(m), world.topo.domain(d)))
}
