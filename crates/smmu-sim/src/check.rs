//! The invariant checker, run after every step.
//!
//! Jason Gunthorpe's three ASID/VMID lifecycle rules (the thread in the seed), the hardware
//! consequence (`dma`), and the fix's design rule (`lock`). Violations are data: a step
//! index, an invariant id and a message naming the objects. State invariants (`inv1`,
//! `lock`) are reported at the step that breaks them; the state remembers which are broken
//! so a later step that leaves them broken does not report again.

use crate::exec::{DmaResult, Outcome};
use crate::ids::{DomainId, LockId, MasterId, PtId};
use crate::state::{Stage, State, Tag, TagHistory, TlbEntry, Unmapped};
use crate::ste::SteConfig;
use crate::world::World;
use serde::{Deserialize, Serialize};

/// An invariant the checker knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Invariant {
    /// All live CDs (and S2 STEs) using one ASID (VMID) point to the same translation.
    #[serde(rename = "inv1")]
    Inv1,
    /// A TLB flush that retires an ASID happens only when no live CD uses it.
    #[serde(rename = "inv2")]
    Inv2,
    /// An ASID is flushed before it is installed with a new translation.
    #[serde(rename = "inv3")]
    Inv3,
    /// Every DMA translation equals what a fresh walk through the CD in use gives now, except
    /// a hit on a page whose unmap from that table is still in flight.
    #[serde(rename = "dma")]
    Dma,
    /// While `arm_smmu_asid_lock` is free, devices lists and `CD[0]` agree.
    #[serde(rename = "lock")]
    Lock,
    /// Once an unmap has returned, no DMA translates that IOVA to the old page through an
    /// entry walked from that table.
    #[serde(rename = "unmap")]
    Unmap,
    /// A thread releases only a lock it holds, and finishes holding none.
    #[serde(rename = "lockuse")]
    LockUse,
    /// The SMMU never uses an entry that is neither the old one nor the new one on the bits it
    /// uses, nor an illegal one other than the invalid entry a disruptive writer makes.
    #[serde(rename = "torn")]
    Torn,
    /// Some thread can still run. Last: it is the only one a transition never violates (the
    /// path counts give every other one a lane by its bit, see `explore/counts.rs`).
    #[serde(rename = "deadlock")]
    Deadlock,
}

/// A set of invariants, by [`Invariant::bit`].
pub type Mask = u16;

/// The invariants a transition violated, in the eight low bits of a [`Mask`]: every
/// invariant but `deadlock` (the last), which only a terminal state has. The explorer keeps a
/// byte per transition.
pub type EdgeMask = u8;

/// A transition's [`Mask`] as an [`EdgeMask`].
pub fn edge_mask(m: Mask) -> EdgeMask {
    debug_assert!(m < 1 << (Invariant::Deadlock as u8), "no transition violates deadlock");
    m as EdgeMask
}

impl Invariant {
    /// Every invariant, in report order.
    pub const ALL: [Invariant; 9] = [
        Invariant::Inv1,
        Invariant::Inv2,
        Invariant::Inv3,
        Invariant::Dma,
        Invariant::Unmap,
        Invariant::Torn,
        Invariant::Lock,
        Invariant::Deadlock,
        Invariant::LockUse,
    ];

    /// The stable id.
    pub fn id(self) -> &'static str {
        match self {
            Invariant::Inv1 => "inv1",
            Invariant::Inv2 => "inv2",
            Invariant::Inv3 => "inv3",
            Invariant::Dma => "dma",
            Invariant::Lock => "lock",
            Invariant::Unmap => "unmap",
            Invariant::Deadlock => "deadlock",
            Invariant::LockUse => "lockuse",
            Invariant::Torn => "torn",
        }
    }

    /// Parses an id.
    pub fn from_id(id: &str) -> Option<Invariant> {
        Invariant::ALL.into_iter().find(|i| i.id() == id)
    }

    /// One sentence.
    pub fn statement(self) -> &'static str {
        match self {
            Invariant::Inv1 => "All live CDs (and S2 STEs) using one ASID (VMID) point to the same translation.",
            Invariant::Inv2 => "A TLB flush that retires an ASID happens only when no live CD uses it.",
            Invariant::Inv3 => "An ASID is flushed before it is installed with a new translation.",
            Invariant::Dma => "Every DMA translation equals what a fresh walk through the CD in use gives now, except an IOTLB hit on a page whose unmap from that same table has cleared the PTE but not yet returned (the invalidation is still to come).",
            Invariant::Unmap => "Once an unmap (iommu_unmap through iotlb_sync, or a CPU PTE clear through the mmu notifiers) has returned, no DMA translates that IOVA to the old page through an entry walked from that table, under any ASID or VMID.",
            Invariant::Lock => "Whenever arm_smmu_asid_lock is free, each master is on a domain's devices list iff its live CD[0] holds that domain's ASID and page table.",
            Invariant::Deadlock => "While some thread has steps left, some thread can run.",
            Invariant::LockUse => "A thread releases only a lock it holds, and finishes holding none.",
            Invariant::Torn => "An SMMU fetch of an STE or CD, read qword by qword while the driver rewrites it, gives on the bits it uses either the entry before the write or its target; never a mix, and never an illegal entry other than an invalid one the writer makes on purpose.",
        }
    }

    /// Where it comes from.
    pub fn source(self) -> &'static str {
        match self {
            Invariant::Inv1 | Invariant::Inv2 | Invariant::Inv3 => {
                "Jason Gunthorpe, Re: [PATCH v4 06/16] iommu/arm-smmu-v3: Hold arm_smmu_asid_lock during all of attach_dev, 1 Feb 2024 (ASID/VMID lifecycle rule)"
            }
            Invariant::Dma => "SMMUv3 IOTLB entries are tagged by ASID/VMID, not by stream or substream; a hit must agree with the CD in use",
            Invariant::Lock => "commit 9f7c68911579: the devices list and the CD tables are observed consistent under arm_smmu_asid_lock",
            Invariant::Unmap => "the DMA API contract: after iommu_unmap() (with its iotlb_sync) returns, the page may be freed and reused, so the device must not reach it",
            Invariant::Deadlock => "lock ordering of the driver (sva_lock → arm_smmu_asid_lock → devices_lock)",
            Invariant::LockUse => {
                "mutex_unlock() by the owner only (kernel/locking/mutex.c); lockdep's bad unlock balance and lock held at return"
            }
            Invariant::Torn => {
                "the comment above arm_smmu_write_ste() @71b0aa10: 'HW is only required to have a 64 bit atomicity with stores from the CPU, while entries are many 64 bit values big'; KUnit's arm_smmu_entry_differs_in_used_bits()"
            }
        }
    }

    /// Safety properties count towards "violating interleavings"; `lock` is the fix's
    /// design rule and is reported on its own.
    pub fn is_safety(self) -> bool {
        self != Invariant::Lock
    }

    /// Bit in masks.
    pub fn bit(self) -> Mask {
        1 << (self as u8)
    }
}

/// One violation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// Index of the step (0-based) after which it was found.
    pub step: usize,
    /// Which invariant.
    pub invariant: Invariant,
    /// What broke, naming the objects.
    pub message: String,
    /// The objects the message names, for front ends to point at and for [`crate::cause`].
    #[serde(skip)]
    pub objects: Vec<Object>,
}

/// An object of the SMMU or the driver that a violation names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Object {
    /// A master's STE.
    Ste(MasterId),
    /// A master's CD at a substream.
    Cd(MasterId, u8),
    /// An IOTLB entry: tag and input address.
    Iotlb(Tag, u64),
    /// A domain's devices list.
    Devices(DomainId),
}

impl Object {
    /// The object a live reference was read from.
    pub fn of(r: &LiveRef) -> Object {
        match r.ste {
            true => Object::Ste(r.master),
            false => Object::Cd(r.master, r.ssid),
        }
    }
}

/// A live reference: some image of an STE and CD the SMMU may use translates `tag` via `pt`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LiveRef {
    /// ASID or VMID.
    pub tag: Tag,
    /// The page table.
    pub pt: PtId,
    /// Whose table.
    pub master: MasterId,
    /// CD slot (0 for S2 STEs).
    pub ssid: u8,
    /// Whether this is an S2 STE rather than a CD.
    pub ste: bool,
}

/// Every live reference, from both the memory and the authoritative images.
pub fn live_refs(state: &State) -> Vec<LiveRef> {
    let mut out = Vec::new();
    live_refs_into(state, &mut out);
    out
}

/// [`live_refs`] into a buffer the caller reuses.
pub(crate) fn live_refs_into(state: &State, out: &mut Vec<LiveRef>) {
    collect_live_refs(state, out);
    out.sort_unstable();
    out.dedup();
}

/// The live references in the order of the tables, repeats included: what [`after_step_in`]
/// needs when it reports no messages, since which invariants a step violates does not depend
/// on the order (only the messages' order does).
pub(crate) fn collect_live_refs(state: &State, out: &mut Vec<LiveRef>) {
    out.clear();
    for (i, ms) in state.masters.iter().enumerate() {
        let master = MasterId(i as u8);
        for ste in ms.ste.images() {
            match ste.config() {
                SteConfig::S2 { vmid, pt: Some(pt) } => {
                    out.push(LiveRef { tag: Tag::Vmid(vmid), pt, master, ssid: 0, ste: true })
                }
                SteConfig::S1 { ssid0 } => {
                    for (s, slot) in ms.cds.iter().enumerate() {
                        if s == 0 && !ssid0 {
                            continue;
                        }
                        for cd in slot.images() {
                            if let Some((asid, pt)) = cd.translation() {
                                out.push(LiveRef { tag: Tag::Asid(asid), pt, master, ssid: s as u8, ste: false });
                            }
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

fn describe(world: &World, r: &LiveRef) -> String {
    let m = world.topo.master(r.master);
    match r.ste {
        true => format!("STE_{m} (S2)"),
        false => format!("CD_{m}[{}]", r.ssid),
    }
}

/// Two live references that give one tag different tables.
fn inv1(live: &[LiveRef]) -> Option<(LiveRef, LiveRef)> {
    live.iter()
        .enumerate()
        .find_map(|(i, a)| live[i + 1..].iter().find(|b| b.tag == a.tag && b.pt != a.pt).map(|b| (*a, *b)))
}

fn inv1_message(world: &World, (a, b): (LiveRef, LiveRef)) -> String {
    format!(
        "{} translates through {} ({}) and {} ({})",
        a.tag,
        world.topo.pt(a.pt),
        describe(world, &a),
        world.topo.pt(b.pt),
        describe(world, &b)
    )
}

/// A master and an S1 domain on whose relation the devices list and CD[0] disagree, and
/// whether the master is on the list.
fn lock_rule(world: &World, state: &State) -> Option<(usize, usize, bool)> {
    if state.lock_owner(LockId::Asid).is_some() {
        return None;
    }
    for (mi, ms) in state.masters.iter().enumerate().filter(|(_, m)| !m.released) {
        let s1 = matches!(ms.ste.mem.config(), SteConfig::S1 { ssid0: true });
        let cd0 = ms.cds.first().map(|s| s.mem).filter(|cd| s1 && cd.valid);
        for (di, ds) in state.domains.iter().enumerate() {
            let info = &world.topo.domains[di];
            if info.stage != Stage::S1 || !ds.finalised || ds.freed {
                continue;
            }
            let ctx = state.ctxs[di];
            let on_list = ds.devices.contains(&MasterId(mi as u8));
            let holds = cd0.is_some_and(|cd| cd.asid == ctx.asid && cd.ttb0 == ctx.ttb0);
            if on_list != holds {
                return Some((mi, di, on_list));
            }
        }
    }
    None
}

fn lock_message(world: &World, state: &State, (mi, di, on_list): (usize, usize, bool)) -> String {
    let (m, d) = (&world.topo.masters[mi].name, &world.topo.domains[di].name);
    let asid = state.ctxs[di].asid;
    match on_list {
        true => format!("{m} is on {d}->devices but CD_{m}[0] does not hold {d}'s ASID {asid} and table"),
        false => format!("CD_{m}[0] holds {d}'s ASID {asid} and table but {m} is not on {d}->devices"),
    }
}

/// What an `inv3` violation names: the new reference, the references still live with the
/// old table, and the IOTLB entries of the tag.
fn inv3_objects(state: &State, live: &[LiveRef], new: &LiveRef, old: PtId) -> Vec<Object> {
    let mut out = vec![Object::of(new)];
    out.extend(live.iter().filter(|r| r.tag == new.tag && r.pt == old).map(Object::of));
    out.extend(state.iotlb.iter().filter(|e| e.tag == new.tag).map(|e| Object::Iotlb(e.tag, e.iova)));
    out
}

/// What a `dma` violation names: the STE and CD in use and the entry that hit.
fn dma_objects(state: &State, dma: &crate::exec::Dma, entry: crate::state::TlbEntry) -> Vec<Object> {
    let s1 = matches!(state.masters[dma.master.ix()].ste.hw.config(), SteConfig::S1 { .. });
    let mut out = vec![Object::Ste(dma.master)];
    if s1 {
        out.push(Object::Cd(dma.master, dma.ssid));
    }
    out.push(Object::Iotlb(entry.tag, entry.iova));
    out
}

/// A page whose unmap has returned and that this DMA still reached, with what it names.
fn unmapped_use(state: &State, dma: &crate::exec::Dma) -> Option<(Unmapped, Vec<Object>)> {
    let (pt, pa, entry) = match dma.result {
        DmaResult::Hit { entry, .. } => (entry.pt, entry.pa, Some(entry)),
        DmaResult::Walk { pt, pa, .. } => (pt, pa, None),
        _ => return None,
    };
    let u = Unmapped { pt, iova: dma.iova, pa };
    state.unmapped.binary_search(&u).ok()?;
    let objects = match entry {
        Some(e) => dma_objects(state, dma, e),
        None => vec![Object::Ste(dma.master)],
    };
    Some((u, objects))
}

fn unmap_message(world: &World, dma: &crate::exec::Dma, u: Unmapped) -> String {
    let m = world.topo.master(dma.master);
    let how = match dma.result {
        DmaResult::Hit { entry, .. } => format!("an IOTLB entry {}", entry.tag),
        _ => "a walk".to_string(),
    };
    format!(
        "{m}'s DMA to {:#x} (ssid {}) reached {:#x} through {how} of {}, whose unmap has returned",
        u.iova,
        dma.ssid,
        u.pa,
        world.topo.pt(u.pt)
    )
}

/// Whether a hit is on a page some thread is unmapping from the table the CD in use points
/// to (its PTE is cleared, its invalidation still to come): the window an unmap may leave.
fn unmap_in_flight(state: &State, dma: &crate::exec::Dma, entry: TlbEntry, cd_pt: PtId) -> bool {
    let u = Unmapped { pt: entry.pt, iova: dma.iova, pa: entry.pa };
    entry.pt == cd_pt && state.threads.iter().any(|t| t.regs.unmap == Some(u))
}

/// Initialises the per-tag history and the broken-invariant mask of an initial state, and
/// returns violations already present in it.
pub fn init(world: &World, state: &mut State) -> Vec<Violation> {
    state.history.clear();
    state.broken = 0;
    let mut out = Vec::new();
    after_step(world, state, &Outcome::default(), 0, Some(&mut out));
    out
}

fn history_bits(state: &State, tag: Tag) -> u32 {
    state.history.iter().find(|h| h.tag == tag).map_or(0, |h| h.pts)
}

fn set_history(state: &mut State, tag: Tag, pts: u32) {
    let at = state.history.partition_point(|h| h.tag < tag);
    let present = state.history.get(at).is_some_and(|h| h.tag == tag);
    match (present, pts) {
        (true, 0) => {
            state.history.remove(at);
        }
        (true, _) => state.history[at].pts = pts,
        (false, 0) => {}
        (false, _) => state.history.insert(at, TagHistory { tag, pts }),
    }
}

fn bit(pt: PtId) -> u32 {
    1 << pt.0
}

fn fetch_message(world: &World, f: &crate::exec::Fetch, fault: crate::ste::fetch::Fault) -> String {
    use crate::ste::fetch::Fault;
    let why = match fault {
        Fault::Torn => "on the bits it uses, neither the STE before the write nor its target",
        Fault::Invalid => "V=0 although the writer never invalidates it on purpose (C_BAD_STE)",
        Fault::Illegal => "a reserved Config (C_BAD_STE)",
    };
    format!(
        "the SMMU {} — {why}",
        crate::trace::fetch_text(world, f).replacen("read", &format!("read STE_{} as", world.topo.master(f.master)), 1)
    )
}

/// Checks the state after a step and updates the checker's bookkeeping in it.
/// Returns the mask of invariants this step violated; with `messages`, also the violations.
pub fn after_step(
    world: &World,
    state: &mut State,
    outcome: &Outcome,
    step: usize,
    messages: Option<&mut Vec<Violation>>,
) -> Mask {
    let mut live = Vec::new();
    live_refs_into(state, &mut live);
    after_step_in(world, state, outcome, step, messages, &live)
}

/// [`after_step`] given the state's live references ([`live_refs_into`]), which the caller
/// keeps in a reused buffer, or reuses from a state with the same STEs and CDs (the
/// explorer's path). Without `messages` they may come in any order and with repeats
/// ([`collect_live_refs`]): the mask and the bookkeeping come out the same.
pub(crate) fn after_step_in(
    world: &World,
    state: &mut State,
    outcome: &Outcome,
    step: usize,
    mut messages: Option<&mut Vec<Violation>>,
    live: &[LiveRef],
) -> Mask {
    let mut mask: Mask = 0;
    let mut report = |inv: Invariant, msg: &dyn Fn() -> (String, Vec<Object>)| {
        mask |= inv.bit();
        if let Some(out) = messages.as_deref_mut() {
            let (message, objects) = msg();
            out.push(Violation { step, invariant: inv, message, objects });
        }
    };
    if let Some(m) = outcome.misuse {
        report(Invariant::LockUse, &|| {
            let lock = crate::diff::lock_name(world, m.lock);
            let what = if m.at_exit {
                format!("finished holding {lock}")
            } else {
                format!("released {lock}, which it does not hold")
            };
            (
                format!("{} {what}", world.programs.get(m.thread.ix()).map_or("a thread", |p| p.name.as_str())),
                Vec::new(),
            )
        });
    }
    if let Some(f) = outcome.fetch {
        if let Some(fault) = f.read.fault {
            report(Invariant::Torn, &|| (fetch_message(world, &f, fault), vec![Object::Ste(f.master)]));
        }
    }
    if let Some(f) = outcome.fetch_cd {
        if f.read.fault.is_some() {
            let msg = || {
                let what = crate::trace::fetch_cd_text(world, &f);
                let who = format!("CD_{}[{}]", world.topo.master(f.master), f.ssid);
                let why = "on the bits it uses, neither the CD before the write nor its target";
                (
                    format!("the SMMU {} — {why}", what.replacen("read", &format!("read {who} as"), 1)),
                    vec![Object::Cd(f.master, f.ssid)],
                )
            };
            report(Invariant::Torn, &msg);
        }
    }
    if let Some(tag) = outcome.retire {
        if let Some(r) = live.iter().find(|r| r.tag == tag) {
            report(Invariant::Inv2, &|| {
                (format!("{tag} flushed while {} still uses it", describe(world, r)), vec![Object::of(r)])
            });
        }
    }
    if let Some(tag) = outcome.flush {
        let pts = live.iter().filter(|r| r.tag == tag).fold(0, |acc, r| acc | bit(r.pt));
        set_history(state, tag, pts);
    }
    for r in live {
        let seen = history_bits(state, r.tag);
        if seen & bit(r.pt) == 0 {
            if seen != 0 {
                let old = (0..32u8).find(|p| seen & (1 << p) != 0).map(PtId).unwrap_or(r.pt);
                report(Invariant::Inv3, &|| {
                    let msg = format!(
                        "{} installs {} with {} while {} translations were not flushed",
                        describe(world, r),
                        r.tag,
                        world.topo.pt(r.pt),
                        world.topo.pt(old)
                    );
                    (msg, inv3_objects(state, live, r, old))
                });
            }
            set_history(state, r.tag, seen | bit(r.pt));
        }
    }
    if let Some(dma) = outcome.dma.filter(|d| d.transaction) {
        if let Some((u, objects)) = unmapped_use(state, &dma) {
            report(Invariant::Unmap, &|| (unmap_message(world, &dma, u), objects.clone()));
        }
        if let DmaResult::Hit { entry, cd_pt, expected } = dma.result {
            if expected != Some(entry.pa) && !unmap_in_flight(state, &dma, entry, cd_pt) {
                let m = world.topo.master(dma.master);
                report(Invariant::Dma, &|| {
                    let want = expected.map_or("a fault".to_string(), |pa| format!("{pa:#x}"));
                    let msg = format!(
                        "{m}'s DMA to {:#x} (ssid {}) hit an IOTLB entry {} → {:#x} walked from {}; the CD in use gives {} via {}",
                        dma.iova, dma.ssid, entry.tag, entry.pa, world.topo.pt(entry.pt), want, world.topo.pt(cd_pt)
                    );
                    (msg, dma_objects(state, &dma, entry))
                });
            }
        }
    }
    let before = state.broken;
    let mut now: Mask = 0;
    if let Some(pair) = inv1(live) {
        now |= Invariant::Inv1.bit();
        if before & Invariant::Inv1.bit() == 0 {
            report(Invariant::Inv1, &|| (inv1_message(world, pair), vec![Object::of(&pair.0), Object::of(&pair.1)]));
        }
    }
    if let Some(found) = lock_rule(world, state) {
        now |= Invariant::Lock.bit();
        if before & Invariant::Lock.bit() == 0 {
            report(Invariant::Lock, &|| {
                let objects = vec![Object::Cd(MasterId(found.0 as u8), 0), Object::Devices(DomainId(found.1 as u8))];
                (lock_message(world, state, found), objects)
            });
        }
    }
    state.broken = now;
    mask
}

/// Which state invariants hold in a state (for the status of every invariant at a cursor).
pub fn broken_now(state: &State) -> Mask {
    state.broken
}
