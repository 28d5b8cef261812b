//! What a step changed: a list of (object, before, after) in words, for traces and the page.

use crate::ids::{CtxId, LockId};
use crate::state::{Cd, State};
use crate::ste::SteConfig;
use crate::world::World;

/// One changed object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// `STE_A`, `CD_A[0]`, `z->devices`, `xa`, `IOTLB`, `arm_smmu_asid_lock`, ...
    pub object: String,
    /// Its value before the step.
    pub before: String,
    /// Its value after the step.
    pub after: String,
}

/// An STE in words.
pub fn ste_text(world: &World, c: SteConfig) -> String {
    match c {
        SteConfig::Invalid => "invalid".into(),
        SteConfig::Abort => "abort".into(),
        SteConfig::Bypass => "bypass".into(),
        SteConfig::S1 { ssid0: true } => "S1 → CD table (S1DSS=SSID0)".into(),
        SteConfig::S1 { ssid0: false } => "S1 → CD table".into(),
        SteConfig::S2 { vmid, pt: Some(pt) } if pt.ix() < world.topo.pts.len() => {
            format!("S2 VMID {vmid} {}", world.topo.pt(pt))
        }
        SteConfig::S2 { vmid, .. } => format!("S2 VMID {vmid}, S2TTB at no table"),
    }
}

/// A CD in words.
pub fn cd_text(world: &World, cd: &Cd) -> String {
    let ttb = cd.ttb0.map_or("-".to_string(), |p| world.topo.pt(p).to_string());
    match (cd.valid, cd.epd0) {
        (false, _) => format!("invalid (TTB0 {ttb})"),
        (true, true) => format!("V quiet ASID {}", cd.asid),
        (true, false) => format!("V ASID {} {ttb} ASET={}", cd.asid, u8::from(cd.aset)),
    }
}

fn push(out: &mut Vec<Change>, object: String, before: String, after: String) {
    if before != after {
        out.push(Change { object, before, after });
    }
}

fn names(world: &World, list: &[crate::ids::MasterId]) -> String {
    let v: Vec<&str> = list.iter().map(|m| world.topo.master(*m)).collect();
    format!("[{}]", v.join(", "))
}

/// Lists the changes from `a` to `b`.
pub fn changes(world: &World, a: &State, b: &State) -> Vec<Change> {
    let mut out = Vec::new();
    for (i, (ma, mb)) in a.masters.iter().zip(&b.masters).enumerate() {
        let m = &world.topo.masters[i].name;
        let ste = |s: &crate::state::Slot<crate::ste::Ste>| {
            let (mem, hw) = (ste_text(world, s.mem.config()), ste_text(world, s.hw.config()));
            if s.mem == s.hw {
                mem
            } else {
                format!("{mem} (SMMU may still use {hw})")
            }
        };
        push(&mut out, format!("STE_{m}"), ste(&ma.ste), ste(&mb.ste));
        for (s, (ca, cb)) in ma.cds.iter().zip(&mb.cds).enumerate() {
            let cd = |c: &crate::state::Slot<Cd>| {
                let (mem, hw) = (cd_text(world, &c.mem), cd_text(world, &c.hw));
                if c.mem == c.hw {
                    mem
                } else {
                    format!("{mem} (SMMU may still use {hw})")
                }
            };
            push(&mut out, format!("CD_{m}[{s}]"), cd(ca), cd(cb));
        }
        let dom = |d: Option<crate::ids::DomainId>| d.map_or("NULL".to_string(), |d| world.topo.domain(d).into());
        push(&mut out, format!("{m}->domain"), dom(ma.domain), dom(mb.domain));
    }
    for (i, (da, db)) in a.domains.iter().zip(&b.domains).enumerate() {
        let d = &world.topo.domains[i].name;
        push(&mut out, format!("{d}->devices"), names(world, &da.devices), names(world, &db.devices));
    }
    for (i, cb) in b.ctxs.iter().enumerate() {
        let before = a.ctxs.get(i).map_or(0, |c| c.asid);
        let owner = ctx_name(world, b, CtxId(i as u8));
        push(&mut out, format!("{owner}.asid"), before.to_string(), cb.asid.to_string());
    }
    push(&mut out, "arm_smmu_asid_xa".into(), xa_text(world, a), xa_text(world, b));
    push(&mut out, "IOTLB".into(), iotlb_text(world, a), iotlb_text(world, b));
    for slot in lock_slots(world).filter(|s| *s < a.locks.len().min(b.locks.len())) {
        let lock = lock_by_slot(slot);
        let holder = |s: &State| {
            s.locks[slot].checked_sub(1).map_or("free".to_string(), |t| world.programs[usize::from(t)].name.clone())
        };
        push(&mut out, lock_name(world, lock), holder(a), holder(b));
    }
    out
}

/// The slots of the locks a world has, in table order: the global locks, each domain's
/// `init_mutex` and `devices_lock`, and the `group->mutex` of each contended group.
pub fn lock_slots(world: &World) -> impl Iterator<Item = usize> + '_ {
    let domains = (0..world.topo.domains.len()).filter_map(crate::ids::DomainId::from_index);
    let groups = world.topo.contended.iter().enumerate().filter(|(_, c)| **c).map(|(g, _)| g);
    let groups = groups.filter_map(crate::ids::GroupId::from_index).map(LockId::Group);
    [LockId::Asid, LockId::Sva]
        .into_iter()
        .chain(domains.flat_map(|d| [LockId::Init(d), LockId::Devices(d)]))
        .chain(groups)
        .map(LockId::slot)
}

/// The lock with a given slot index.
pub fn lock_by_slot(slot: usize) -> LockId {
    LockId::by_slot(slot)
}

/// A lock's kernel name.
pub fn lock_name(world: &World, l: LockId) -> String {
    match l {
        LockId::Asid => "arm_smmu_asid_lock".into(),
        LockId::Sva => "sva_lock".into(),
        LockId::Init(d) => format!("{}->init_mutex", world.topo.domain(d)),
        LockId::Devices(d) => format!("{}->devices_lock", world.topo.domain(d)),
        LockId::Group(g) => format!("group {}->mutex", world.topo.group(g)),
    }
}

/// Whose context descriptor this is: `z->cd` or `cd(P)`.
pub fn ctx_name(world: &World, state: &State, c: CtxId) -> String {
    match world.topo.domains.get(c.ix()) {
        Some(d) => format!("{}->cd", d.name),
        None => match state.ctxs[c.ix()].mm {
            Some(mm) => format!("cd({})", world.topo.mm(mm)),
            None => format!("cd#{}", c.0),
        },
    }
}

/// The ASID xarray in words.
pub fn xa_text(world: &World, s: &State) -> String {
    let v: Vec<String> = s.xa.iter().map(|(a, c)| format!("{a}→{}", ctx_name(world, s, *c))).collect();
    v.join(" ")
}

/// The IOTLB in words.
pub fn iotlb_text(world: &World, s: &State) -> String {
    let v: Vec<String> =
        s.iotlb.iter().map(|e| format!("{} {:#x}→{:#x} ({})", e.tag, e.iova, e.pa, world.topo.pt(e.pt))).collect();
    if v.is_empty() {
        "empty".into()
    } else {
        v.join(", ")
    }
}
