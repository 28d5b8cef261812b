//! Executes instructions: the meaning of every [`Op`] and [`Cond`] on the [`State`].
//!
//! This is the only module that mutates driver and hardware state. It knows nothing about
//! schedules or invariants; it reports what a step did that the checker needs to see
//! (a TLB invalidation, a DMA) in an [`Outcome`].

mod fetch;
mod inval;

pub use fetch::{Fetch, FetchCd};

use crate::ids::{CtxId, DomainId, LockId, MasterId, ThreadId};
use crate::program::{AsidArg, CdSrc, Cond, DomArg, Kind, LockArg, MasterArg, Op, SteTarget, StoreOrder, TlbiPurpose};
use crate::state::{Cd, CtxDesc, Notifier, Regs, Slot, Stage, State, SteWrite, Tag, TlbEntry};
use crate::ste::{self, Ste, SteConfig, WriteMode};
use crate::world::World;

/// How a device transaction ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmaResult {
    /// Terminated: abort or invalid STE, invalid CD, or unmapped address.
    Fault(&'static str),
    /// STE bypass: pa = iova.
    Bypass,
    /// IOTLB miss: walked the page table and filled an entry.
    Walk {
        /// The tag the new entry got.
        tag: Tag,
        /// The table walked.
        pt: crate::ids::PtId,
        /// The result.
        pa: u64,
    },
    /// IOTLB hit.
    Hit {
        /// The entry that matched.
        entry: TlbEntry,
        /// The table the CD in use points to now.
        cd_pt: crate::ids::PtId,
        /// What a fresh walk through that table gives.
        expected: Option<u64>,
    },
}

/// Which image of its STE and CD a transaction goes through. While a store to one of them
/// is pending (its memory image differs from the synced one) the SMMU may use either; the
/// synced image is the default, the memory image the other outcome ([`two_images`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Image {
    /// What the SMMU is known to use: the value at the last CFGI + CMD_SYNC.
    #[default]
    Synced,
    /// What the driver stored, not yet synced.
    Memory,
}

impl Image {
    fn of<T: Copy>(self, slot: &Slot<T>) -> T {
        match self {
            Image::Synced => slot.hw,
            Image::Memory => slot.mem,
        }
    }
}

/// A device transaction and its result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dma {
    /// The master.
    pub master: MasterId,
    /// Its substream (0 = no PASID).
    pub ssid: u8,
    /// Input address.
    pub iova: u64,
    /// What happened.
    pub result: DmaResult,
    /// Whether a transaction was issued; `false` for a walk that only fills the IOTLB.
    pub transaction: bool,
    /// The image of the STE and CD it went through.
    pub image: Image,
}

/// What a step did that the checker needs to know beyond the new state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// A retiring TLB invalidation of this tag.
    pub retire: Option<Tag>,
    /// Any TLB invalidation of this tag.
    pub flush: Option<Tag>,
    /// A device transaction.
    pub dma: Option<Dma>,
    /// A lock released by a thread that does not hold it, or held when its thread finished
    /// (only a patched driver does either).
    pub misuse: Option<LockMisuse>,
    /// An SMMU fetch of an STE.
    pub fetch: Option<Fetch>,
    /// An SMMU fetch of a CD.
    pub fetch_cd: Option<FetchCd>,
}

/// A lock used against its rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockMisuse {
    /// The lock.
    pub lock: LockId,
    /// The thread.
    pub thread: ThreadId,
    /// Held at the thread's end (else: released without being held).
    pub at_exit: bool,
}

/// Whether a thread can take its next step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Readiness {
    /// It can run.
    Ready,
    /// It waits for a lock another thread (or itself) holds.
    Blocked(LockId, ThreadId),
    /// Its program is done.
    Finished,
}

pub(crate) fn dom(state: &State, regs: &Regs, d: DomArg) -> Option<DomainId> {
    match d {
        DomArg::Id(d) => Some(d),
        DomArg::Old => regs.old_domain,
        DomArg::Found => regs.found.map(|c| DomainId(c.0)).filter(|d| d.ix() < state.domains.len()),
        DomArg::OfMaster(m) => state.masters[m.ix()].domain,
        DomArg::OfNotifier => notifier(state, regs).map(|n| n.domain),
    }
}

/// The notifier in `regs.notifier`, while it exists.
fn notifier(state: &State, regs: &Regs) -> Option<Notifier> {
    regs.notifier.and_then(|n| state.notifiers.get(usize::from(n)).copied().flatten())
}

/// The ASID a TLBI reads when it is issued.
fn asid_of(state: &State, regs: &Regs, arg: AsidArg) -> u16 {
    match arg {
        AsidArg::Reg => regs.asid,
        AsidArg::Domain(d) => dom(state, regs, d).map_or(0, |d| state.ctxs[d.ix()].asid),
        AsidArg::RegCtx => regs.ctx.map_or(0, |c| state.ctxs[c.ix()].asid),
        AsidArg::Notifier => notifier(state, regs).map_or(0, |n| state.ctxs[n.ctx.ix()].asid),
    }
}

pub(crate) fn master(state: &State, regs: &Regs, m: MasterArg) -> Option<MasterId> {
    match m {
        MasterArg::Id(m) => Some(m),
        MasterArg::Cursor(d) => {
            let d = dom(state, regs, d)?;
            state.domains[d.ix()].devices.get(usize::from(regs.cursor)).copied()
        }
    }
}

fn lock(world: &World, state: &State, regs: &Regs, l: LockArg) -> Option<LockId> {
    Some(match l {
        LockArg::Asid => LockId::Asid,
        LockArg::Sva => LockId::Sva,
        LockArg::Init(d) => LockId::Init(dom(state, regs, d)?),
        LockArg::Devices(d) => LockId::Devices(dom(state, regs, d)?),
        LockArg::Group(m) => LockId::Group(world.topo.masters.get(m.ix())?.group),
    })
}

/// Whether thread `t` can take its next step now. A thread the world does not have has
/// nothing to run: it is `Finished` ([`crate::sched::run`] refuses schedules naming one).
pub fn readiness(world: &World, state: &State, t: ThreadId) -> Readiness {
    let (Some(th), Some(program)) = (state.threads.get(t.ix()), world.programs.get(t.ix())) else {
        return Readiness::Finished;
    };
    let Some(instr) = program.instrs.get(usize::from(th.pc)) else {
        return Readiness::Finished;
    };
    if let Kind::Op(Op::Lock(l)) = instr.kind {
        if let Some(id) = lock(world, state, &th.regs, l) {
            if let Some(owner) = state.lock_owner(id) {
                return Readiness::Blocked(id, owner);
            }
        }
    }
    Readiness::Ready
}

/// Runs thread `t`'s next step: its visible instruction and the silent ones after it.
pub fn step(world: &World, state: &mut State, t: ThreadId) -> Outcome {
    step_recording(world, state, t, None)
}

/// Like [`step`], also listing every instruction the step went through (effects and jumps),
/// each with the thread's registers just before it ran. A thread that is not
/// [`Readiness::Ready`] for lack of a program (finished, or not in the world) does nothing.
pub fn step_recording(world: &World, state: &mut State, t: ThreadId, ran: Option<&mut Vec<(u16, Regs)>>) -> Outcome {
    step_image(world, state, t, Image::Synced, ran)
}

/// Like [`step_recording`], with a DMA going through `image` of its STE and CD (the other
/// outcome of a step for which [`two_images`] holds; any other step ignores it).
pub fn step_image(
    world: &World,
    state: &mut State,
    t: ThreadId,
    image: Image,
    mut ran: Option<&mut Vec<(u16, Regs)>>,
) -> Outcome {
    let mut outcome = Outcome::default();
    let Some(program) = world.programs.get(t.ix()).map(|p| &p.instrs) else {
        return outcome;
    };
    if state.threads.len() <= t.ix() {
        return outcome;
    }
    let mut first = true;
    loop {
        let pc = state.threads[t.ix()].pc;
        let Some(instr) = program.get(usize::from(pc)) else { break };
        if instr.visible && !first {
            break;
        }
        first = false;
        // Programs are at most MAX_PROGRAM (< u16::MAX) instructions, so this never saturates.
        let mut next = pc.saturating_add(1);
        let regs = state.threads[t.ix()].regs;
        if let Some(ran) = ran.as_deref_mut() {
            ran.push((pc, regs));
        }
        match instr.kind {
            Kind::Op(op) => run_op(world, state, t, op, image, &mut outcome),
            Kind::Jump(to) => next = to,
            Kind::JumpIf(c, to) => next = if eval(world, state, &regs, c) { to } else { next },
            Kind::JumpUnless(c, to) => next = if eval(world, state, &regs, c) { next } else { to },
        }
        state.threads[t.ix()].pc = next;
    }
    let th = &mut state.threads[t.ix()];
    th.steps = th.steps.saturating_add(1);
    if usize::from(th.pc) >= program.len() {
        th.regs = Regs::default();
        if let Some(slot) = state.locks.iter().position(|o| *o == t.0 + 1) {
            let lock = LockId::by_slot(slot);
            outcome.misuse = outcome.misuse.or(Some(LockMisuse { lock, thread: t, at_exit: true }));
        }
    }
    outcome
}

/// Runs the silent instructions at the start of every program (jumps before the first step).
pub fn settle(world: &World, state: &mut State) {
    for (t, program) in world.programs.iter().enumerate() {
        loop {
            let th = &state.threads[t];
            let Some(instr) = program.instrs.get(usize::from(th.pc)) else {
                break;
            };
            let regs = th.regs;
            let next = match instr.kind {
                Kind::Op(_) => break,
                Kind::Jump(to) => to,
                Kind::JumpIf(c, to) => {
                    if eval(world, state, &regs, c) {
                        to
                    } else {
                        th.pc + 1
                    }
                }
                Kind::JumpUnless(c, to) => {
                    if eval(world, state, &regs, c) {
                        th.pc + 1
                    } else {
                        to
                    }
                }
            };
            state.threads[t].pc = next;
        }
    }
}

fn eval(world: &World, state: &State, regs: &Regs, c: Cond) -> bool {
    match c {
        Cond::SvaEnabled(m) => state.masters[m.ix()].sva_enabled,
        Cond::NoOldDomain => regs.old_domain.is_none(),
        Cond::StageIs(d, s) => dom(state, regs, d).is_some_and(|d| world.topo.domains[d.ix()].stage == s),
        Cond::Finalised(d) => dom(state, regs, d).is_some_and(|d| state.domains[d.ix()].finalised),
        Cond::Ats(m) => state.masters[m.ix()].ats,
        Cond::Cdtab(m) => state.masters[m.ix()].cdtab,
        Cond::CdLive(m, ssid) => {
            master(state, regs, m).is_some_and(|m| cd_slot(state, m, ssid).is_some_and(|c| c.mem.valid))
        }
        Cond::NotFound => regs.found.is_none(),
        Cond::FoundShared => regs.found.is_some_and(|c| state.ctxs[c.ix()].mm.is_some()),
        Cond::CursorDone(d) => {
            dom(state, regs, d).is_none_or(|d| usize::from(regs.cursor) >= state.domains[d.ix()].devices.len())
        }
        Cond::HaveNotifier => regs.notifier.is_some(),
        Cond::NotifierGone => notifier(state, regs).is_none_or(|n| n.refs == 0),
        Cond::SteDone => regs.ste_phase >= ste::phases(regs.ste_mode),
        Cond::StePhaseEmpty(m, t) => {
            let cur = state.masters[m.ix()].ste.mem;
            let target = ste_target(world, state, regs, m, t);
            ste::plan_phase(regs.ste_mode, regs.ste_phase, &cur, &target) == cur
        }
        Cond::CtxReferenced => regs.ctx.is_some_and(|c| state.ctxs[c.ix()].refs > 0),
        Cond::NewAsid => regs.new_asid != 0,
        Cond::HaveCtx => regs.ctx.is_some(),
        Cond::Gathered => regs.unmap.is_some(),
        Cond::NotifiersDone(mm) => !inval::notifiers_left(state, mm, regs.mn_cursor),
        Cond::Cleared => notifier(state, regs).is_none_or(|n| n.cleared),
    }
}

fn cd_slot(state: &State, m: MasterId, ssid: u8) -> Option<&crate::state::Slot<Cd>> {
    state.masters[m.ix()].cds.get(usize::from(ssid))
}

/// The STE the writer aims for.
fn ste_target(world: &World, state: &State, regs: &Regs, m: MasterId, t: SteTarget) -> Ste {
    let d = match t {
        SteTarget::Abort => None,
        SteTarget::FromMaster => state.masters[m.ix()].domain,
        SteTarget::Domain(d) => dom(state, regs, d),
    };
    let ats = state.masters[m.ix()].ats;
    match d {
        None => Ste::abort(),
        Some(d) => match world.topo.domains[d.ix()].stage {
            Stage::S1 => Ste::cdtable(m, ats),
            Stage::S2 => Ste::s2(state.domains[d.ix()].vmid, world.topo.domains[d.ix()].pt, ats),
            Stage::Bypass => Ste::bypass(),
        },
    }
}

fn ctx_of(state: &State, regs: &Regs, src: CdSrc) -> Option<CtxId> {
    match src {
        CdSrc::Clear | CdSrc::Quiet => None,
        CdSrc::Domain(d) => dom(state, regs, d).map(|d| CtxId(d.0)),
        CdSrc::RegCtx => regs.ctx,
        CdSrc::Found => regs.found,
    }
}

/// The new q0 of a CD store, following `arm_smmu_write_ctx_desc()`'s cases.
fn store_q0(cd: &mut Cd, src: CdSrc, ctx: Option<CtxDesc>) {
    match (src, ctx) {
        (CdSrc::Clear, _) => {
            let ttb0 = cd.ttb0;
            *cd = Cd { ttb0, ..Cd::default() };
        }
        (CdSrc::Quiet, _) => cd.epd0 = true,
        (_, Some(ctx)) if cd.valid => cd.asid = ctx.asid,
        (_, Some(ctx)) => *cd = Cd { valid: true, epd0: false, aset: ctx.mm.is_none(), asid: ctx.asid, ttb0: cd.ttb0 },
        (_, None) => {}
    }
}

fn lowest_free(used: impl Iterator<Item = u16> + Clone, max: u16) -> Option<u16> {
    (1..=max).find(|a| !used.clone().any(|u| u == *a))
}

fn xa_insert(state: &mut State, asid: u16, ctx: CtxId) {
    let at = state.xa.partition_point(|(a, _)| *a < asid);
    state.xa.insert(at, (asid, ctx));
}

fn xa_erase(state: &mut State, asid: u16) {
    state.xa.retain(|(a, _)| *a != asid);
}

fn flush(state: &mut State, tag: Tag, retire: bool, outcome: &mut Outcome) {
    state.iotlb.retain(|e| e.tag != tag);
    outcome.flush = Some(tag);
    outcome.retire = retire.then_some(tag);
}

/// Whether a TLBI issued for `purpose` retires its tag, decided when it is issued.
fn retires(state: &State, regs: &Regs, purpose: TlbiPurpose) -> bool {
    match purpose {
        TlbiPurpose::Retire => true,
        TlbiPurpose::RetireIfLastRef => regs.ctx.is_none_or(|c| state.ctxs[c.ix()].refs <= 1),
        TlbiPurpose::Invalidate => false,
    }
}

fn run_op(world: &World, state: &mut State, t: ThreadId, op: Op, image: Image, outcome: &mut Outcome) {
    let regs = state.threads[t.ix()].regs;
    match op {
        Op::Lock(l) => {
            if let Some(id) = lock(world, state, &regs, l) {
                state.locks[id.slot()] = t.0 + 1;
            }
        }
        Op::Unlock(l) => {
            if let Some(id) = lock(world, state, &regs, l) {
                // Only the owner releases; anything else is reported and changes nothing.
                if state.locks[id.slot()] == t.0 + 1 {
                    state.locks[id.slot()] = 0;
                } else {
                    outcome.misuse = Some(LockMisuse { lock: id, thread: t, at_exit: false });
                }
            }
        }
        Op::Dma(m, ssid, iova) => outcome.dma = Some(dma(world, state, m, ssid, iova, image)),
        Op::Walk(m, ssid, iova) => outcome.dma = Some(walk(world, state, m, ssid, iova, image)),
        Op::FetchSte(m) => outcome.fetch = Some(fetch::fetch_ste(state, m)),
        Op::FetchCd(m, ssid) => outcome.fetch_cd = fetch::fetch_cd(state, m, ssid),
        Op::TlbiAsid(arg, purpose) => {
            let asid = asid_of(state, &regs, arg);
            let retire = retires(state, &regs, purpose);
            flush(state, Tag::Asid(asid), retire, outcome);
        }
        Op::TlbiVmid(d) => flush(state, Tag::Vmid(state.domains[d.ix()].vmid), true, outcome),
        Op::PteSet(..)
        | Op::PteClear(..)
        | Op::TlbiVa(..)
        | Op::TlbiIpa(..)
        | Op::UnmapDone
        | Op::NotifierWalk
        | Op::NotifierAt(_)
        | Op::SetCleared
        | Op::NotifierFree => inval::run(state, t, op),
        _ => run_driver_op(world, state, t, op),
    }
}

fn run_driver_op(world: &World, state: &mut State, t: ThreadId, op: Op) {
    let mut regs = state.threads[t.ix()].regs;
    match op {
        Op::ReadOldDomain(m) => regs.old_domain = state.masters[m.ix()].domain,
        Op::SetDomain(m, d) => {
            let d = d.and_then(|d| dom(state, &regs, d));
            let ms = &mut state.masters[m.ix()];
            ms.domain = d;
            ms.ats = d.is_some_and(|d| {
                world.topo.masters[m.ix()].ats_supported && world.topo.domains[d.ix()].stage != Stage::Bypass
            });
        }
        Op::AtsOff(m) => state.masters[m.ix()].ats = false,
        Op::AtsSupported(m) => state.masters[m.ix()].ats = world.topo.masters[m.ix()].ats_supported,
        Op::AtsOn(_) => {}
        Op::ListDel(d, m) => {
            if let Some(d) = dom(state, &regs, d) {
                state.domains[d.ix()].devices.retain(|x| *x != m);
            }
        }
        Op::ListAdd(d, m) => {
            if let Some(d) = dom(state, &regs, d) {
                state.domains[d.ix()].devices.insert(0, m);
            }
        }
        Op::CdtabAlloc(m) => state.masters[m.ix()].cdtab = true,
        Op::CdWrite(..) | Op::CdStoreTtb(..) | Op::CdStoreQ0(..) | Op::CfgiCd(..) => cd_op(world, state, &mut regs, op),
        Op::SteInstall(..) | Op::SteBegin(..) | Op::SteStore(..) | Op::CfgiSte(_) | Op::SteNextPhase => {
            ste_op(world, state, &mut regs, op)
        }
        _ => id_op(world, state, &mut regs, op),
    }
    state.threads[t.ix()].regs = regs;
}

fn cd_op(world: &World, state: &mut State, regs: &mut Regs, op: Op) {
    let (m, ssid, src) = match op {
        Op::CdWrite(m, s, src) | Op::CdStoreTtb(m, s, src) | Op::CdStoreQ0(m, s, src) => (m, s, Some(src)),
        Op::CfgiCd(m, s) => (m, s, None),
        _ => return,
    };
    let Some(m) = master(state, regs, m) else {
        return;
    };
    let ctx = src.and_then(|s| ctx_of(state, regs, s)).map(|c| state.ctxs[c.ix()]);
    let Some(slot) = state.masters[m.ix()].cds.get_mut(usize::from(ssid)) else {
        return;
    };
    let before = slot.mem;
    match (op, src) {
        (Op::CdWrite(..), Some(src)) => {
            if !slot.mem.valid {
                if let Some(ctx) = ctx {
                    slot.mem.ttb0 = ctx.ttb0;
                }
            }
            store_q0(&mut slot.mem, src, ctx);
            slot.sync();
        }
        (Op::CdStoreTtb(..), _) => slot.mem.ttb0 = ctx.and_then(|c| c.ttb0),
        (Op::CdStoreQ0(..), Some(src)) => store_q0(&mut slot.mem, src, ctx),
        _ => slot.sync(),
    }
    if world.fetches {
        let after = slot.mem;
        fetch::track_cd_write(regs, (m, ssid), op, (before, after), src.map(|s| (s, ctx)));
    }
}

fn ste_op(world: &World, state: &mut State, regs: &mut Regs, op: Op) {
    match op {
        Op::SteInstall(m, t) => {
            let target = ste_target(world, state, regs, m, t);
            let slot = &mut state.masters[m.ix()].ste;
            slot.mem = target;
            slot.sync();
        }
        Op::SteBegin(m, t, order) => {
            let target = ste_target(world, state, regs, m, t);
            let before = state.masters[m.ix()].ste.mem;
            regs.ste_mode = match ste::write_mode(&before, &target) {
                WriteMode::Direct => WriteMode::Direct,
                _ if order == StoreOrder::Q0First => WriteMode::Q0First,
                mode => mode,
            };
            regs.ste_phase = 0;
            if world.fetches {
                let disruptive = regs.ste_mode == WriteMode::Disruptive;
                regs.ste_write = Some(SteWrite { master: m, before, target, disruptive });
            }
        }
        Op::SteStore(m, t) => {
            let target = ste_target(world, state, regs, m, t);
            let slot = &mut state.masters[m.ix()].ste;
            slot.mem = ste::plan_phase(regs.ste_mode, regs.ste_phase, &slot.mem, &target);
        }
        Op::CfgiSte(m) => {
            state.masters[m.ix()].ste.sync();
            regs.ste_phase += 1;
        }
        Op::SteNextPhase => regs.ste_phase += 1,
        _ => {}
    }
}

fn id_op(world: &World, state: &mut State, regs: &mut Regs, op: Op) {
    let asid_max = world.topo.asid_max();
    match op {
        Op::XaAllocDomain(d) => {
            let used = state.xa.iter().map(|(a, _)| *a).collect::<Vec<_>>();
            if let Some(asid) = lowest_free(used.iter().copied(), asid_max) {
                xa_insert(state, asid, CtxId(d.0));
                let pt = Some(world.topo.domains[d.ix()].pt);
                state.ctxs[d.ix()] = CtxDesc { asid, ttb0: pt, mm: None, refs: 1 };
                state.domains[d.ix()].finalised = true;
            }
        }
        Op::VmidAlloc(d) => {
            if let Some(vmid) = lowest_free(state.vmids.clone().into_iter(), u16::MAX) {
                let at = state.vmids.partition_point(|v| *v < vmid);
                state.vmids.insert(at, vmid);
                state.domains[d.ix()].vmid = vmid;
                state.domains[d.ix()].finalised = true;
            }
        }
        Op::MarkFinalised(d) => state.domains[d.ix()].finalised = true,
        Op::XaLoad => regs.found = state.xa_load(regs.asid),
        Op::XaAllocMove => {
            let used = state.xa.iter().map(|(a, _)| *a).collect::<Vec<_>>();
            regs.new_asid = 0;
            if let (Some(new), Some(found)) = (lowest_free(used.iter().copied(), asid_max), regs.found) {
                xa_insert(state, new, found);
                regs.new_asid = new;
            }
        }
        Op::ShareFailed => {
            if let Some(c) = regs.ctx.take() {
                state.ctxs[c.ix()] = CtxDesc::default();
            }
        }
        Op::SetFoundAsid => {
            if let Some(c) = regs.found {
                state.ctxs[c.ix()].asid = regs.new_asid;
            }
        }
        Op::XaEraseOld => xa_erase(state, regs.asid),
        Op::XaInsertCtx => {
            if let Some(c) = regs.ctx {
                xa_insert(state, regs.asid, c);
            }
        }
        _ => sva_op(world, state, regs, op),
    }
}

fn sva_op(world: &World, state: &mut State, regs: &mut Regs, op: Op) {
    match op {
        Op::ContextGet(mm) => {
            regs.asid = world.topo.mms[mm.ix()].cpu_asid;
            state.mm_pinned[mm.ix()] += 1;
        }
        Op::ContextPut(mm) => state.mm_pinned[mm.ix()] = state.mm_pinned[mm.ix()].saturating_sub(1),
        Op::ContextPutCtx => {
            if let Some(mm) = regs.ctx.and_then(|c| state.ctxs[c.ix()].mm) {
                state.mm_pinned[mm.ix()] = state.mm_pinned[mm.ix()].saturating_sub(1);
            }
        }
        Op::CtxAlloc => {
            state.ctxs.push(CtxDesc { refs: 1, ..CtxDesc::default() });
            // At most MAX_DOMAINS + MAX_SVA_BINDS (< 256) descriptors exist.
            regs.ctx = CtxId::from_index(state.ctxs.len() - 1);
        }
        Op::CtxShareExisting => {
            if let (Some(found), Some(new)) = (regs.found, regs.ctx) {
                state.ctxs[found.ix()].refs += 1;
                state.ctxs[new.ix()] = CtxDesc::default();
                regs.ctx = Some(found);
            }
        }
        Op::CtxFill(mm) => {
            if let Some(c) = regs.ctx {
                let info = &world.topo.mms[mm.ix()];
                let ctx = &mut state.ctxs[c.ix()];
                (ctx.asid, ctx.ttb0, ctx.mm) = (regs.asid, Some(info.pgd), Some(mm));
            }
        }
        _ => notifier_op(state, regs, op),
    }
}

fn notifier_op(state: &mut State, regs: &mut Regs, op: Op) {
    match op {
        Op::NotifierFind(d, mm) => {
            let d = dom(state, regs, d);
            regs.notifier = state
                .notifiers
                .iter()
                .position(|n| n.is_some_and(|n| n.refs > 0 && Some(n.domain) == d && n.mm == mm))
                .and_then(|i| u8::try_from(i).ok());
        }
        Op::NotifierRef => {
            if let Some(n) = regs.notifier.and_then(|n| state.notifiers[usize::from(n)].as_mut()) {
                n.refs += 1;
                regs.ctx = Some(n.ctx);
            }
        }
        Op::NotifierAdd(d, mm) => {
            if let (Some(domain), Some(ctx)) = (dom(state, regs, d), regs.ctx) {
                state.notifiers.push(Some(Notifier { domain, mm, ctx, refs: 1, cleared: false }));
                // At most MAX_SVA_BINDS (< 256) notifiers exist.
                regs.notifier = u8::try_from(state.notifiers.len() - 1).ok();
            }
        }
        Op::BondAdd(m, pasid) => {
            if let Some(n) = regs.notifier {
                state.masters[m.ix()].bonds.push((pasid, n));
            }
        }
        Op::BondDel(m, pasid) => {
            let bonds = &mut state.masters[m.ix()].bonds;
            regs.notifier = bonds.iter().find(|(p, _)| *p == pasid).map(|(_, n)| *n);
            bonds.retain(|(p, _)| *p != pasid);
            regs.ctx = regs.notifier.and_then(|n| state.notifiers[usize::from(n)]).map(|n| n.ctx);
        }
        Op::NotifierPut => {
            // The last put unlists it (refs 0); `NotifierFree` unregisters it.
            if let Some(n) = regs.notifier.and_then(|n| state.notifiers[usize::from(n)].as_mut()) {
                n.refs = n.refs.saturating_sub(1);
            }
        }
        _ => free_op(state, regs, op),
    }
}

fn free_op(state: &mut State, regs: &mut Regs, op: Op) {
    let release = |state: &mut State, c: CtxId| {
        let ctx = &mut state.ctxs[c.ix()];
        ctx.refs = ctx.refs.saturating_sub(1);
        if ctx.refs == 0 {
            let asid = ctx.asid;
            if state.xa_load(asid) == Some(c) {
                xa_erase(state, asid);
            }
        }
    };
    match op {
        Op::FreeCtx => {
            if let Some(c) = regs.ctx {
                release(state, c);
            }
        }
        Op::FreeDomainAsid(d) => release(state, CtxId(d.0)),
        Op::VmidFree(d) => {
            let vmid = state.domains[d.ix()].vmid;
            state.vmids.retain(|v| *v != vmid);
        }
        Op::MarkFreed(d) => state.domains[d.ix()].freed = true,
        Op::Release(m) => {
            let ms = &mut state.masters[m.ix()];
            ms.released = true;
            ms.cdtab = false;
            ms.cds.iter_mut().for_each(|c| *c = Default::default());
        }
        Op::CursorNext => regs.cursor += 1,
        Op::CursorReset => regs.cursor = 0,
        _ => {}
    }
}

/// Whether thread `t`'s next step is a DMA (or a walk-only access) whose STE and CD would route it differently in
/// their memory images than in their synced ones: a step with two outcomes. At `mail`
/// granularity every store is synced with its write, so this never holds there.
pub fn two_images(world: &World, state: &State, t: ThreadId) -> bool {
    let (Some(th), Some(program)) = (state.threads.get(t.ix()), world.programs.get(t.ix())) else {
        return false;
    };
    match program.instrs.get(usize::from(th.pc)).map(|i| i.kind) {
        Some(Kind::Op(Op::Dma(m, ssid, _) | Op::Walk(m, ssid, _))) => {
            route(state, m, ssid, Image::Synced) != route(state, m, ssid, Image::Memory)
        }
        _ => false,
    }
}

fn dma(world: &World, state: &mut State, m: MasterId, ssid: u8, iova: u64, image: Image) -> Dma {
    let result = translate(world, state, m, ssid, iova, image);
    Dma { master: m, ssid, iova, result, transaction: true, image }
}

/// A walk without a transaction: the IOTLB fill of a miss, through the STE and CD the SMMU
/// uses; a hit or a fault leaves everything as it was.
fn walk(world: &World, state: &mut State, m: MasterId, ssid: u8, iova: u64, image: Image) -> Dma {
    let result = translate(world, state, m, ssid, iova, image);
    Dma { master: m, ssid, iova, result, transaction: false, image }
}

/// Where a transaction of `m` with substream `ssid` goes through `image` of its STE and CD:
/// a fault, bypass (`None`), or the tag and table of its lookup.
fn route(state: &State, m: MasterId, ssid: u8, image: Image) -> Result<Option<(Tag, crate::ids::PtId)>, &'static str> {
    let ms = &state.masters[m.ix()];
    match image.of(&ms.ste).config() {
        SteConfig::Invalid => Err("invalid STE"),
        SteConfig::Abort => Err("abort STE"),
        SteConfig::Bypass => Ok(None),
        SteConfig::S2 { vmid, pt: Some(pt) } => Ok(Some((Tag::Vmid(vmid), pt))),
        SteConfig::S2 { pt: None, .. } => Err("S2TTB points at no table"),
        SteConfig::S1 { ssid0 } => {
            if ssid == 0 && !ssid0 {
                return Err("S1DSS does not use CD[0]");
            }
            let slot = ms.cds.get(usize::from(ssid)).ok_or("SSID beyond S1CDMAX")?;
            let (asid, pt) = image.of(slot).translation().ok_or("CD not valid")?;
            Ok(Some((Tag::Asid(asid), pt)))
        }
    }
}

fn translate(_world: &World, state: &mut State, m: MasterId, ssid: u8, iova: u64, image: Image) -> DmaResult {
    let (tag, pt) = match route(state, m, ssid, image) {
        Err(why) => return DmaResult::Fault(why),
        Ok(None) => return DmaResult::Bypass,
        Ok(Some(r)) => r,
    };
    let expected = state.walk(pt, iova);
    if let Some(entry) = state.iotlb.iter().find(|e| e.tag == tag && e.iova == iova) {
        return DmaResult::Hit { entry: *entry, cd_pt: pt, expected };
    }
    let Some(pa) = expected else {
        return DmaResult::Fault("translation fault");
    };
    let entry = TlbEntry { tag, iova, pt, pa };
    let at = state.iotlb.partition_point(|e| *e < entry);
    state.iotlb.insert(at, entry);
    DmaResult::Walk { tag, pt, pa }
}
