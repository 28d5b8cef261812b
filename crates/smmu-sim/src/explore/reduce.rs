//! Partial-order reduction: persistent singletons of invisible steps.
//!
//! At a state where some thread's next step is *invisible* (it writes nothing the checker
//! reads) and *independent of everything every other thread may still do* (no other thread's
//! remaining program touches what the step writes, or writes what it reads), the explorer
//! runs only that step. Such a set `{t}` is persistent and invisible, so (the ample-set
//! conditions C0–C2; C3 holds because the state graph is acyclic) the reduced graph keeps
//! every reachable deadlock and, for every interleaving of the full graph, one that differs
//! only by moving invisible steps earlier. Those pass through the same sequence of
//! checker-visible states, so every invariant verdict is preserved: which invariants some
//! interleaving violates, and whether some interleaving deadlocks. Path counts over the
//! reduced graph count representatives, not all interleavings; the full search counts those.
//!
//! Footprints are static and over-approximate: an instruction's reads and writes over
//! resources (a master's domain pointer, its other software fields, its STE and CDs; a
//! domain's devices list and its state; descriptors; the ASID and VMID allocators; notifiers;
//! pinned CPU ASIDs; the IOTLB; each lock). An operand the C code computes at run time (the
//! old domain, a list cursor) stands for every object it could name. A step's footprint is
//! that of its visible instruction and every silent instruction it may run; a thread's future
//! is that of every instruction reachable from its program counter.

use super::parts::Writes;
use crate::ids::{DomainId, LockId, MasterId};
use crate::program::{AsidArg, CdSrc, Cond, DomArg, Kind, LockArg, MasterArg, Op, Program, SteTarget};
use crate::state::State;
use crate::world::World;

/// Reads and writes over resource bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Fp {
    r: u128,
    w: u128,
}

impl Fp {
    fn union(self, o: Fp) -> Fp {
        Fp { r: self.r | o.r, w: self.w | o.w }
    }

    /// Whether running the two in either order could differ.
    fn conflicts(self, o: Fp) -> bool {
        self.w & (o.r | o.w) != 0 || o.w & self.r != 0
    }
}

const MDOM: u32 = 0;
const MMISC: u32 = 16;
const MHW: u32 = 32;
const DLIST: u32 = 48;
const DSTATE: u32 = 64;
const CTX_DOM: u128 = 1 << 80;
const CTX_SHARED: u128 = 1 << 81;
const CTX: u128 = CTX_DOM | CTX_SHARED;
const IDS: u128 = 1 << 82;
const NOTIF: u128 = 1 << 83;
const MM: u128 = 1 << 84;
const TLB: u128 = 1 << 85;
/// The page tables' mappings and the returned unmaps.
const PTS: u128 = 1 << 86;
const LOCKS: u32 = 87;
// Two global locks and two per domain must fit above `LOCKS`.
const _: () = assert!(LOCKS as usize + 2 + 2 * crate::limits::MAX_DOMAINS <= 128);

/// What the checker reads: STEs and CDs, devices lists, domain state, the domains'
/// descriptors, the IOTLB and its history, and `arm_smmu_asid_lock` (lock slot 0). It also
/// reads the returned unmaps and the threads' unmaps in flight, but only after a DMA, which
/// writes the IOTLB; every step that changes those writes `PTS`, which a DMA reads.
const VISIBLE: u128 = (0xffff << MHW) | (0xffff << DLIST) | (0xffff << DSTATE) | CTX_DOM | TLB | (1 << LOCKS);

/// Resource bits of one kind for a set of objects (a 16-bit mask).
fn bits(base: u32, objects: u16) -> u128 {
    u128::from(objects) << base
}

/// The domains a [`DomArg`] may name, and what resolving it reads.
fn doms(d: DomArg) -> (u16, u128) {
    match d {
        DomArg::Id(d) => (1 << d.0, 0),
        DomArg::Old | DomArg::Found => (u16::MAX, 0),
        DomArg::OfMaster(m) => (u16::MAX, bits(MDOM, 1 << m.0)),
        DomArg::OfNotifier => (u16::MAX, NOTIF),
    }
}

fn masters(m: MasterArg) -> (u16, u128) {
    match m {
        MasterArg::Id(m) => (1 << m.0, 0),
        MasterArg::Cursor(d) => {
            let (ds, r) = doms(d);
            (u16::MAX, r | bits(DLIST, ds))
        }
    }
}

/// A lock's bit above [`LOCKS`]: the domains' locks each have their own, all `group->mutex`es
/// share one (a coarser footprint is still sound).
fn lock_bit(id: LockId) -> u32 {
    match id {
        LockId::Asid => 0,
        LockId::Sva => 1,
        LockId::Init(d) => 2 + 2 * u32::from(d.0),
        LockId::Devices(d) => 3 + 2 * u32::from(d.0),
        LockId::Group(_) => 2 + 2 * crate::limits::MAX_DOMAINS as u32,
    }
}

/// The lock slots a [`LockArg`] may name, and what resolving it reads.
fn lock_bits(l: LockArg) -> (u128, u128) {
    let bit = |id: LockId| 1u128 << (LOCKS + lock_bit(id));
    let per_domain = |d: DomArg, lock: fn(DomainId) -> LockId| {
        let (ds, r) = doms(d);
        ((0..16u8).filter(|i| ds & (1 << i) != 0).fold(0, |acc, i| acc | bit(lock(DomainId(i)))), r)
    };
    match l {
        LockArg::Asid => (bit(LockId::Asid), 0),
        LockArg::Sva => (bit(LockId::Sva), 0),
        LockArg::Init(d) => per_domain(d, LockId::Init),
        LockArg::Devices(d) => per_domain(d, LockId::Devices),
        LockArg::Group(_) => (bit(LockId::Group(crate::ids::GroupId(0))), 0),
    }
}

fn ctx_src(src: CdSrc) -> u128 {
    match src {
        CdSrc::Clear | CdSrc::Quiet => 0,
        CdSrc::Domain(d) => CTX_DOM | doms(d).1,
        CdSrc::RegCtx | CdSrc::Found => CTX,
    }
}

/// What computing an STE target reads.
fn ste_reads(m: MasterId, t: SteTarget) -> u128 {
    let own = bits(MDOM, 1 << m.0) | bits(MMISC, 1 << m.0) | bits(DSTATE, u16::MAX);
    match t {
        SteTarget::Domain(d) => own | doms(d).1,
        _ => own,
    }
}

/// What resolving an [`AsidArg`] reads.
fn asid_reads(arg: AsidArg) -> u128 {
    match arg {
        AsidArg::Reg => 0,
        AsidArg::Domain(d) => CTX_DOM | doms(d).1,
        AsidArg::RegCtx => CTX,
        AsidArg::Notifier => CTX | NOTIF,
    }
}

fn rw(r: u128, w: u128) -> Fp {
    Fp { r: r | w, w }
}

fn op_fp(op: Op) -> Fp {
    let one = |base, m: MasterId| bits(base, 1 << m.0);
    match op {
        Op::Lock(l) | Op::Unlock(l) => {
            let (slots, r) = lock_bits(l);
            rw(r, slots)
        }
        Op::Dma(m, ..) | Op::Walk(m, ..) => rw(one(MHW, m) | PTS, TLB),
        Op::FetchSte(m) | Op::FetchCd(m, _) => rw(one(MHW, m), 0),
        Op::TlbiAsid(AsidArg::Reg, _) => rw(0, TLB),
        Op::TlbiAsid(AsidArg::Domain(d), _) => rw(CTX_DOM | doms(d).1, TLB),
        Op::TlbiAsid(AsidArg::RegCtx, _) => rw(CTX, TLB),
        Op::TlbiAsid(AsidArg::Notifier, _) => rw(CTX | NOTIF, TLB),
        Op::TlbiVa(arg, _) => rw(asid_reads(arg), TLB),
        Op::TlbiIpa(d, _) => rw(bits(DSTATE, 1 << d.0), TLB),
        Op::PteSet(..) | Op::PteClear(..) | Op::UnmapDone => rw(0, PTS),
        Op::NotifierWalk => Fp::default(),
        Op::NotifierAt(_) => rw(NOTIF, 0),
        Op::SetCleared | Op::NotifierFree => rw(0, NOTIF),
        Op::TlbiVmid(d) => rw(bits(DSTATE, 1 << d.0), TLB),
        Op::ReadOldDomain(m) => rw(one(MDOM, m), 0),
        Op::SetDomain(m, d) => rw(d.map_or(0, |d| doms(d).1), one(MDOM, m) | one(MMISC, m)),
        Op::AtsOff(m) | Op::AtsSupported(m) | Op::CdtabAlloc(m) | Op::BondAdd(m, _) => rw(0, one(MMISC, m)),
        Op::AtsOn(_) | Op::SteNextPhase | Op::CursorNext | Op::CursorReset => Fp::default(),
        Op::ListDel(d, _) | Op::ListAdd(d, _) => rw(doms(d).1, bits(DLIST, doms(d).0)),
        Op::XaAllocDomain(d) => rw(0, IDS | CTX_DOM | bits(DSTATE, 1 << d.0)),
        Op::VmidAlloc(d) => rw(0, IDS | bits(DSTATE, 1 << d.0)),
        Op::MarkFinalised(d) | Op::MarkFreed(d) => rw(0, bits(DSTATE, 1 << d.0)),
        Op::CdWrite(m, _, src) | Op::CdStoreTtb(m, _, src) | Op::CdStoreQ0(m, _, src) => {
            let (ms, r) = masters(m);
            rw(r | ctx_src(src), bits(MHW, ms))
        }
        Op::CfgiCd(m, _) => {
            let (ms, r) = masters(m);
            rw(r, bits(MHW, ms))
        }
        Op::SteInstall(m, t) | Op::SteBegin(m, t, _) | Op::SteStore(m, t) => rw(ste_reads(m, t), one(MHW, m)),
        Op::CfgiSte(m) => rw(0, one(MHW, m)),
        Op::ContextGet(_)
        | Op::ContextPut(_)
        | Op::ContextPutCtx
        | Op::CtxAlloc
        | Op::CtxFill(_)
        | Op::SetFoundAsid
        | Op::CtxShareExisting
        | Op::ShareFailed
        | Op::XaLoad
        | Op::XaAllocMove
        | Op::XaEraseOld
        | Op::XaInsertCtx
        | Op::NotifierFind(..)
        | Op::NotifierRef
        | Op::NotifierPut
        | Op::NotifierAdd(..)
        | Op::BondDel(..)
        | Op::FreeCtx
        | Op::FreeDomainAsid(_)
        | Op::VmidFree(_)
        | Op::Release(_) => sva_fp(op),
    }
}

fn sva_fp(op: Op) -> Fp {
    match op {
        Op::ContextGet(_) | Op::ContextPut(_) => rw(0, MM),
        Op::ContextPutCtx => rw(CTX, MM),
        Op::CtxAlloc | Op::CtxFill(_) | Op::SetFoundAsid | Op::CtxShareExisting | Op::ShareFailed => rw(0, CTX),
        Op::XaLoad => rw(IDS, 0),
        Op::XaAllocMove | Op::XaEraseOld | Op::XaInsertCtx => rw(0, IDS),
        Op::NotifierFind(d, _) => rw(NOTIF | doms(d).1, 0),
        Op::NotifierRef | Op::NotifierPut => rw(0, NOTIF),
        Op::NotifierAdd(d, _) => rw(doms(d).1, NOTIF),
        Op::BondDel(m, _) => rw(NOTIF, bits(MMISC, 1 << m.0)),
        Op::FreeCtx => rw(0, CTX | IDS),
        Op::FreeDomainAsid(_) => rw(0, CTX_DOM | IDS),
        Op::VmidFree(d) => rw(bits(DSTATE, 1 << d.0), IDS),
        Op::Release(m) => rw(0, bits(MHW, 1 << m.0) | bits(MMISC, 1 << m.0)),
        // Not reached (`op_fp` routes only the ops above here); the safe answer regardless.
        _ => Fp { r: u128::MAX, w: u128::MAX },
    }
}

fn cond_reads(c: Cond) -> u128 {
    match c {
        Cond::SvaEnabled(m) | Cond::Ats(m) | Cond::Cdtab(m) => bits(MMISC, 1 << m.0),
        Cond::NoOldDomain
        | Cond::NotFound
        | Cond::HaveNotifier
        | Cond::SteDone
        | Cond::NewAsid
        | Cond::HaveCtx
        | Cond::Gathered => 0,
        Cond::NotifiersDone(_) | Cond::Cleared => NOTIF,
        Cond::StageIs(d, _) => doms(d).1,
        Cond::Finalised(d) => doms(d).1 | bits(DSTATE, doms(d).0),
        Cond::CdLive(m, _) => masters(m).1 | bits(MHW, masters(m).0),
        Cond::FoundShared | Cond::CtxReferenced => CTX,
        Cond::CursorDone(d) => doms(d).1 | bits(DLIST, doms(d).0),
        Cond::NotifierGone => NOTIF,
        Cond::StePhaseEmpty(m, t) => bits(MHW, 1 << m.0) | ste_reads(m, t),
    }
}

fn instr_fp(kind: Kind) -> Fp {
    match kind {
        Kind::Op(op) => op_fp(op),
        Kind::Jump(_) => Fp::default(),
        Kind::JumpIf(c, _) | Kind::JumpUnless(c, _) => rw(cond_reads(c), 0),
    }
}

/// Instructions control may reach next from `pc`.
fn successors(p: &Program, pc: usize) -> impl Iterator<Item = usize> {
    let (a, b) = match p.instrs[pc].kind {
        Kind::Jump(to) => (Some(usize::from(to)), None),
        Kind::JumpIf(_, to) | Kind::JumpUnless(_, to) => (Some(pc + 1), Some(usize::from(to))),
        Kind::Op(_) => (Some(pc + 1), None),
    };
    let len = p.instrs.len();
    a.into_iter().chain(b).filter(move |n| *n < len)
}

/// The footprint of the step at `pc`: its instruction's and those of the silent instructions
/// it may run before the next visible one. `seen[i] == stamp` marks instructions already
/// visited for this `pc`, so the cost is that of the step's own instructions, not of the
/// program's length.
fn step_reach(p: &Program, fps: &[Fp], pc: usize, seen: &mut [usize], todo: &mut Vec<usize>, visits: &mut u64) -> Fp {
    let stamp = pc + 1;
    todo.clear();
    todo.push(pc);
    let mut out = Fp::default();
    while let Some(i) = todo.pop() {
        if seen[i] == stamp || (i != pc && p.instrs[i].visible) {
            continue;
        }
        seen[i] = stamp;
        *visits += 1;
        out = out.union(fps[i]);
        todo.extend(successors(p, i));
    }
    out
}

/// Per program counter, the union of the footprints of every instruction reachable from it,
/// in time linear in the program: one union per strongly connected component of the control
/// flow graph (a loop shares its future), taken in reverse topological order.
fn futures(p: &Program, fps: &[Fp]) -> Vec<Fp> {
    let n = fps.len();
    let edges = (0..n).flat_map(|i| successors(p, i).map(move |j| (i as u32, j as u32)));
    let mut g = petgraph::graph::DiGraph::<(), ()>::from_edges(edges);
    while g.node_count() < n {
        g.add_node(());
    }
    let mut out = vec![Fp::default(); n];
    let mut comp = vec![usize::MAX; n];
    // Successor components come first, so their futures are final when a component is met.
    for (c, scc) in petgraph::algo::tarjan_scc(&g).into_iter().enumerate() {
        scc.iter().for_each(|x| comp[x.index()] = c);
        let mut fp = Fp::default();
        for i in scc.iter().map(|x| x.index()) {
            fp = successors(p, i).filter(|j| comp[*j] != c).fold(fp.union(fps[i]), |f, j| f.union(out[j]));
        }
        scc.iter().for_each(|x| out[x.index()] = fp);
    }
    out
}

/// Per thread and program counter: the footprint of the step there, and of everything the
/// thread may still do from there. The explorer also uses the step footprints without the
/// reduction: to skip the checker after an invisible step and to re-encode only the parts of
/// a state a step may have written ([`Footprints::writes`]).
pub(super) struct Footprints {
    step: Vec<Vec<Fp>>,
    future: Vec<Vec<Fp>>,
    /// Instructions visited to compute the step footprints (the futures take one pass);
    /// read by the test that bounds the set-up's work.
    #[cfg_attr(not(test), allow(dead_code))]
    visits: u64,
}

impl Footprints {
    pub(super) fn new(world: &World) -> Self {
        let (mut step, mut future, mut visits) = (Vec::new(), Vec::new(), 0);
        for p in &world.programs {
            let fps: Vec<Fp> = p.instrs.iter().map(|i| instr_fp(i.kind)).collect();
            let (mut seen, mut todo) = (vec![0; fps.len()], Vec::new());
            step.push((0..fps.len()).map(|pc| step_reach(p, &fps, pc, &mut seen, &mut todo, &mut visits)).collect());
            future.push(futures(p, &fps));
        }
        Footprints { step, future, visits }
    }

    /// A thread whose next step alone is a persistent, invisible set at this state, if any;
    /// `ready` tells whether a thread can run now.
    pub(super) fn ample(&self, state: &State, ready: impl Fn(usize) -> bool) -> Option<usize> {
        let pc = |t: usize| usize::from(state.threads[t].pc);
        let n = state.threads.len();
        (0..n).find(|&t| {
            let Some(fp) = self.step[t].get(pc(t)) else { return false };
            fp.w & VISIBLE == 0
                && ready(t)
                && (0..n).all(|u| u == t || self.future[u].get(pc(u)).is_none_or(|f| !fp.conflicts(*f)))
        })
    }

    /// What the step of thread `t` at `pc` may write, by part of the state.
    pub(super) fn writes(&self, t: usize, pc: usize) -> Writes {
        let w = self.step[t].get(pc).map_or(u128::MAX, |fp| fp.w);
        let per = |bases: &[u32]| bases.iter().fold(0u16, |acc, b| acc | (w >> b) as u16);
        let lock_slots = u128::MAX << LOCKS;
        let pts = w & PTS != 0;
        Writes {
            masters: per(&[MDOM, MMISC, MHW]),
            domains: per(&[DLIST, DSTATE]),
            ctxs: w & CTX != 0,
            ids: w & IDS != 0,
            notifiers: w & NOTIF != 0,
            mm_locks: w & (MM | lock_slots) != 0,
            tlb: w & TLB != 0,
            pts,
            hw: bits(MHW, u16::MAX) & w != 0,
            visible: w & VISIBLE != 0,
        }
    }
}

/// Per thread and instruction: whether it is *local*, no lock step, writing nothing the
/// checker reads and nothing any other thread's program touches, nor reading what one
/// writes. Such an instruction commutes with every step of every other thread, so where it
/// runs among them changes no verdict.
pub(crate) fn local_instrs(world: &World) -> Vec<Vec<bool>> {
    let fps: Vec<Vec<Fp>> =
        world.programs.iter().map(|p| p.instrs.iter().map(|i| instr_fp(i.kind)).collect()).collect();
    let all: Vec<Fp> = fps.iter().map(|f| f.iter().fold(Fp::default(), |a, b| a.union(*b))).collect();
    let others =
        |t: usize| all.iter().enumerate().filter(|(u, _)| *u != t).fold(Fp::default(), |a, (_, b)| a.union(*b));
    let locks = u128::MAX << LOCKS;
    fps.iter()
        .enumerate()
        .map(|(t, f)| {
            let o = others(t);
            f.iter().map(|fp| (fp.r | fp.w) & locks == 0 && fp.w & VISIBLE == 0 && !fp.conflicts(o)).collect()
        })
        .collect()
}

/// The order in which some threads may take locks: `a → b` when one of them may take `b`
/// while holding `a` (lock slots as in the footprints; a lock named at run time stands for
/// every lock it could be). Taking a lock only ever adds to what a thread may hold; a
/// release forgets the lock only when it names one lock.
#[derive(Clone, Debug)]
pub(crate) struct LockOrder {
    /// Per lock slot, every slot reachable from it by one or more edges.
    reach: Vec<u128>,
}

impl LockOrder {
    /// The order of every thread of `world` but `skip`.
    pub(crate) fn of(world: &World, skip: usize) -> LockOrder {
        let mut next = vec![0u128; 128];
        for p in world.programs.iter().enumerate().filter(|(t, _)| *t != skip).map(|(_, p)| p) {
            let n = p.instrs.len();
            let mut held: Vec<Option<u128>> = vec![None; n + 1];
            let mut todo = vec![0];
            held[0] = Some(0);
            while let Some(i) = todo.pop() {
                let (Some(instr), Some(h)) = (p.instrs.get(i), held[i]) else { continue };
                let out = match instr.kind {
                    Kind::Op(Op::Lock(l)) => {
                        let b = lock_bits(l).0;
                        (0..128).filter(|x| h >> x & 1 == 1).for_each(|x| next[x] |= b);
                        h | b
                    }
                    Kind::Op(Op::Unlock(l)) if lock_bits(l).0.count_ones() == 1 => h & !lock_bits(l).0,
                    _ => h,
                };
                for s in successors(p, i).chain((i + 1 >= n).then_some(n)) {
                    let joined = held[s].map_or(out, |x| x | out);
                    if held[s] != Some(joined) {
                        held[s] = Some(joined);
                        todo.push(s);
                    }
                }
            }
        }
        let mut reach = next.clone();
        loop {
            let grown: Vec<u128> =
                reach.iter().map(|r| (0..128).filter(|x| r >> x & 1 == 1).fold(*r, |a, x| a | next[x])).collect();
            if grown == reach {
                return LockOrder { reach };
            }
            reach = grown;
        }
    }

    /// Whether some chain of those threads leads from holding lock `from` to waiting for one
    /// of the locks `to` (slots, as [`lock_slots`] gives them).
    pub(crate) fn leads(&self, from: LockArg, to: u128) -> bool {
        let b = lock_bits(from).0;
        (0..128).filter(|x| b >> x & 1 == 1).any(|x| self.reach[x] & to != 0)
    }
}

/// The lock slots a lock may be.
pub(crate) fn lock_slots(l: LockArg) -> u128 {
    lock_bits(l).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{builtin, Granularity, Scenario, Variant};

    /// The union of footprints of every instruction reachable from `pc` (with `step`, only up
    /// to the next visible one), by a search of its own: the definition the fast passes meet.
    fn reach(p: &Program, fps: &[Fp], pc: usize, step: bool) -> Fp {
        let mut seen = vec![false; p.instrs.len()];
        let mut todo = vec![pc];
        let mut out = Fp::default();
        while let Some(i) = todo.pop() {
            if seen[i] || (step && i != pc && p.instrs[i].visible) {
                continue;
            }
            seen[i] = true;
            out = out.union(fps[i]);
            todo.extend(successors(p, i));
        }
        out
    }

    /// Every built-in, every variant and granularity: the footprints are those of the
    /// definition, loops (the devices-list walks) included.
    #[test]
    fn footprints_match_a_search_from_every_pc() {
        for s in builtin::all() {
            for v in Variant::ALL {
                for g in Granularity::ALL {
                    let world = s.compile(v, g).unwrap();
                    let f = Footprints::new(&world);
                    for (t, p) in world.programs.iter().enumerate() {
                        let fps: Vec<Fp> = p.instrs.iter().map(|i| instr_fp(i.kind)).collect();
                        for pc in 0..fps.len() {
                            assert_eq!(f.step[t][pc], reach(p, &fps, pc, true), "{} {v} {g} step {t}:{pc}", s.id);
                            assert_eq!(f.future[t][pc], reach(p, &fps, pc, false), "{} {v} {g} future {t}:{pc}", s.id);
                        }
                    }
                }
            }
        }
    }

    /// A thread of as many calls as a scenario may have: setting up the footprints visits each
    /// instruction a bounded number of times, not once per program counter before it.
    #[test]
    fn footprints_of_a_long_program_take_linear_work() {
        let mut json: serde_json::Value = serde_json::from_str(&builtin::get("seed-race").unwrap().to_json()).unwrap();
        let calls: Vec<_> = (0..crate::limits::MAX_CALLS)
            .map(|i| serde_json::json!({ "fn": "attach_dev", "master": "A", "domain": if i % 2 == 0 { "y" } else { "z" } }))
            .collect();
        json["threads"][0]["calls"] = serde_json::Value::Array(calls);
        let scenario = Scenario::from_json(&json.to_string()).unwrap();
        let world = scenario.compile(Variant::Pre, Granularity::Source).unwrap();
        let n: usize = world.programs.iter().map(|p| p.instrs.len()).sum();
        assert!(n > 500, "{n} instructions");
        let f = Footprints::new(&world);
        assert!(f.visits <= 4 * n as u64, "{} visits for {n} instructions", f.visits);
    }
}
