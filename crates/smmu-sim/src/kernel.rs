//! The driver's functions as step scripts, one module per area of the source.
//!
//! Each script is written in the order of the C code at the selected [`Variant`]; the
//! [`Builder`] turns it into a flat program for one thread. At `mail` granularity the
//! builder folds bookkeeping stores into the previous step and emits whole CD and STE writes
//! as single steps; at `source` granularity every store, CFGI + CMD_SYNC and STE writer
//! phase is its own step. Locks are steps at both granularities, since they can block.

mod attach;
mod cd;
mod device;
mod domain;
mod mm;
mod pgtable;
mod ste;
mod sva;

pub use attach::{attach_dev, release_device};
pub use device::{dma, fetch_cd, fetch_ste, walk};
pub use domain::domain_free;
pub use mm::{mm_invalidate, mm_release};
pub use pgtable::{map, unmap};
pub use sva::{sva_remove_dev_pasid, sva_set_dev_pasid};

use crate::ids::{DomainId, MasterId};
use crate::limits::MAX_PROGRAM;
use crate::mutation::Mutation;
use crate::patch::{self, LockName, Patch};
use crate::program::{Cond, DomArg, Instr, Kind, LockArg, Op};
use crate::source::{File, Src};
use crate::variant::{Granularity, Variant};
use crate::world::Topology;

/// Emits the instructions of one thread.
#[derive(Debug)]
pub struct Builder<'a> {
    /// Names for labels, and stages for compile-time choices.
    pub topo: &'a Topology,
    /// The kernel being followed.
    pub variant: Variant,
    granularity: Granularity,
    /// The scenario's [`Mutation`]s, which the scripts check where they apply.
    mutations: &'a [Mutation],
    instrs: Vec<Instr>,
    stack: Vec<(&'static str, File)>,
    /// Set once an instruction was refused for [`MAX_PROGRAM`]; [`Builder::finish`] then fails.
    too_long: bool,
    /// The patch the scripts run under (only when its base is `variant`).
    patch: Option<&'a Patch>,
    /// Per open function, the calls it has made so far.
    frames: Vec<Vec<patch::Call>>,
    /// Instruction indices of the jumps not landed yet, by [`Pending`] handle.
    pending: Vec<Option<usize>>,
    /// The first edit that could not be applied; [`Builder::finish`] then fails.
    patch_error: Option<String>,
    /// The master and domain of the driver call being emitted, for inserted locks.
    args: (Option<MasterId>, Option<DomainId>),
    /// When set, every emitted function's units: (function, anchor, label).
    recorded: Option<Vec<patch::UnitInfo>>,
    /// When set, where each emission of the named function lies.
    emissions: Option<(&'static str, Vec<patch::Emission>)>,
}

/// A jump whose target is not known yet.
#[derive(Debug)]
#[must_use]
pub struct Pending(usize);

impl<'a> Builder<'a> {
    /// A builder for an empty program of a driver changed by `mutations`.
    pub fn new(topo: &'a Topology, variant: Variant, granularity: Granularity, mutations: &'a [Mutation]) -> Self {
        Builder {
            topo,
            variant,
            granularity,
            mutations,
            instrs: Vec::new(),
            stack: Vec::new(),
            too_long: false,
            patch: None,
            frames: Vec::new(),
            pending: Vec::new(),
            patch_error: None,
            args: (None, None),
            recorded: None,
            emissions: None,
        }
    }

    /// Runs the scripts under `patch` when its base is this builder's variant.
    pub fn with_patch(mut self, patch: Option<&'a Patch>) -> Self {
        self.patch = patch.filter(|p| p.base == self.variant);
        self
    }

    /// Records every emitted function's units (see [`Builder::recorded`]).
    pub fn recording(mut self) -> Self {
        self.recorded = Some(Vec::new());
        self
    }

    /// The units recorded so far.
    pub fn recorded(&self) -> &[patch::UnitInfo] {
        self.recorded.as_deref().unwrap_or_default()
    }

    /// Records where each emission of `func` lies ([`Builder::emissions`]).
    pub(crate) fn recording_emissions(mut self, func: &'static str) -> Self {
        self.emissions = Some((func, Vec::new()));
        self
    }

    /// The emissions recorded so far.
    pub(crate) fn emissions(&self) -> &[patch::Emission] {
        self.emissions.as_ref().map_or(&[], |(_, e)| e.as_slice())
    }

    /// Names the master and domain of the driver call being emitted (for inserted locks).
    pub fn call_args(&mut self, m: Option<MasterId>, d: Option<DomainId>) {
        self.args = (m, d);
    }

    /// Whether the scripts run under mutation `m`.
    pub fn mutated(&self, m: Mutation) -> bool {
        self.mutations.contains(&m)
    }

    /// The finished instructions, or an error when the program would be longer than
    /// [`MAX_PROGRAM`] instructions.
    pub fn finish(mut self) -> Result<Vec<Instr>, String> {
        if self.too_long {
            return Err(format!("its program is longer than {MAX_PROGRAM} instructions (the limit)"));
        }
        if let Some(e) = self.patch_error {
            return Err(format!("the patch: {e}"));
        }
        // A thread's first effect is always a step of its own (decided here, after any
        // patch has reordered the scripts).
        if let Some(first) = self.instrs.iter_mut().take_while(|i| !i.visible).find(|i| matches!(i.kind, Kind::Op(_))) {
            first.visible = true;
            first.quiet = false;
        }
        Ok(self.instrs)
    }

    /// The order the STE writer stores in.
    pub fn store_order(&self) -> crate::program::StoreOrder {
        match self.mutated(Mutation::SteQ0First) {
            true => crate::program::StoreOrder::Q0First,
            false => crate::program::StoreOrder::Kernel,
        }
    }

    /// Whether every store is its own step.
    pub fn source(&self) -> bool {
        self.granularity == Granularity::Source
    }

    /// Emits `body` as the kernel function `name` of `file`.
    pub fn func(&mut self, name: &'static str, file: File, body: impl FnOnce(&mut Self)) {
        let start = self.instrs.len();
        self.stack.push((name, file));
        self.frames.push(Vec::new());
        body(self);
        let calls = self.frames.pop().unwrap_or_default();
        self.edit(name, start, &calls);
        self.stack.pop();
        let call = patch::Call { start, end: self.instrs.len(), name };
        if let Some(parent) = self.frames.last_mut() {
            parent.push(call);
        }
    }

    /// Records the units of the function just emitted at `start`, and applies the patch's
    /// edits to it.
    fn edit(&mut self, name: &'static str, start: usize, calls: &[patch::Call]) {
        if self.too_long || self.patch_error.is_some() {
            return;
        }
        if let Some((_, out)) = self.emissions.as_mut().filter(|(f, _)| *f == name) {
            out.push(patch::Emission { start, end: self.instrs.len(), calls: calls.to_vec() });
        }
        if let Some(rec) = &mut self.recorded {
            for u in patch::units(&self.instrs, start, calls) {
                let instrs = &self.instrs[u.start..u.end];
                let label = instrs.iter().find(|i| i.visible).or(instrs.first()).map(|i| i.label.clone());
                let lock = match instrs {
                    [Instr { kind: Kind::Op(Op::Lock(l)), .. }] => Some((true, LockName::of(*l))),
                    [Instr { kind: Kind::Op(Op::Unlock(l)), .. }] => Some((false, LockName::of(*l))),
                    _ => None,
                };
                rec.push(patch::UnitInfo { func: name, anchor: u.anchor, label: label.unwrap_or_default(), lock });
            }
        }
        let Some(patch) = self.patch else { return };
        let edits: Vec<_> = patch.edits_of(name).collect();
        if edits.is_empty() {
            return;
        }
        let mut instrs = std::mem::take(&mut self.instrs);
        let mut pending = std::mem::take(&mut self.pending);
        let insert = |acquire, lock| self.lock_step(acquire, lock);
        let result = patch::apply(&mut instrs, start, calls, &mut pending, &edits, &insert);
        (self.instrs, self.pending) = (instrs, pending);
        if let Err(e) = result {
            self.patch_error = Some(format!("{name}: {e}"));
        } else if self.instrs.len() > MAX_PROGRAM {
            self.too_long = true;
        }
    }

    /// An inserted lock or unlock step in the function being emitted.
    fn lock_step(&self, acquire: bool, lock: LockName) -> Result<Instr, String> {
        let (m, d) = self.args;
        let dom = |d: Option<DomainId>| d.ok_or_else(|| format!("this call has no domain for {}", lock.id()));
        let (arg, target) = match lock {
            LockName::Asid => (LockArg::Asid, "&arm_smmu_asid_lock".to_string()),
            LockName::Sva => (LockArg::Sva, "&sva_lock".to_string()),
            LockName::OldDevices => (LockArg::Devices(DomArg::Old), "old->devices_lock".to_string()),
            LockName::Devices => {
                let d = dom(d)?;
                (LockArg::Devices(DomArg::Id(d)), format!("{}->devices_lock", self.topo.domain(d)))
            }
            LockName::Init => {
                let d = dom(d)?;
                (LockArg::Init(DomArg::Id(d)), format!("{}->init_mutex", self.topo.domain(d)))
            }
            LockName::Group => {
                let m = m.ok_or("this call has no master for group->mutex")?;
                let g = self.topo.masters[m.ix()].group;
                (LockArg::Group(m), format!("&group {}->mutex", self.topo.group(g)))
            }
        };
        let verb = match (lock.spin(), acquire) {
            (true, true) => "spin_lock_irqsave",
            (true, false) => "spin_unlock_irqrestore",
            (false, true) => "mutex_lock",
            (false, false) => "mutex_unlock",
        };
        let op = if acquire { Op::Lock(arg) } else { Op::Unlock(arg) };
        let (function, file) = *self.stack.last().ok_or("an edit outside a function")?;
        let src = Src { file, func: function, part: patch::INSERTED, variant: self.variant };
        let stack = self.stack.iter().map(|(f, _)| *f).collect();
        let label = format!("{verb}({target})");
        Ok(Instr { kind: Kind::Op(op), visible: true, quiet: false, function, stack, label, src, moved: false })
    }

    fn push(&mut self, kind: Kind, visible: bool, part: &'static str, label: String) {
        let quiet = !visible && !matches!(kind, Kind::Op(_));
        self.push_instr(kind, visible, quiet, part, label);
    }

    fn push_instr(&mut self, kind: Kind, visible: bool, quiet: bool, part: &'static str, label: String) {
        if self.instrs.len() >= MAX_PROGRAM {
            self.too_long = true;
            return;
        }
        let (function, file) = *self.stack.last().expect("instruction outside a function");
        let src = Src { file, func: function, part, variant: self.variant };
        let stack = self.stack.iter().map(|(f, _)| *f).collect();
        let quiet = quiet && !visible;
        self.instrs.push(Instr { kind, visible, quiet, function, stack, label, src, moved: false });
    }

    /// A step at both granularities.
    pub fn step(&mut self, op: Op, part: &'static str, label: impl Into<String>) {
        self.push(Kind::Op(op), true, part, label.into());
    }

    /// A step at `source` granularity, folded into the previous step at `mail`.
    pub fn store(&mut self, op: Op, part: &'static str, label: impl Into<String>) {
        let visible = self.source();
        self.push(Kind::Op(op), visible, part, label.into());
    }

    /// Never a step of its own: runs with the previous step.
    pub fn silent(&mut self, op: Op, part: &'static str, label: impl Into<String>) {
        self.push_instr(Kind::Op(op), false, true, part, label.into());
    }

    /// The index the next instruction will get. A program never holds more than
    /// [`MAX_PROGRAM`] (< `u16::MAX`) instructions, so the index always fits.
    pub fn here(&self) -> u16 {
        u16::try_from(self.instrs.len()).unwrap_or(u16::MAX)
    }

    /// A jump to be patched, taken when `cond` holds.
    pub fn jump_if(&mut self, cond: Cond, part: &'static str) -> Pending {
        let label = format!("if ({})", cd::cond_text(self, cond));
        self.push(Kind::JumpIf(cond, 0), false, part, label);
        self.pend()
    }

    /// A handle on the jump just pushed (on nothing when it was refused for length).
    fn pend(&mut self) -> Pending {
        let i = (!self.too_long).then(|| self.instrs.len() - 1);
        self.pending.push(i);
        Pending(self.pending.len() - 1)
    }

    /// A jump to be patched, taken when `cond` does not hold.
    pub fn jump_unless(&mut self, cond: Cond, part: &'static str) -> Pending {
        let label = format!("if ({})", cd::negated(&cd::cond_text(self, cond)));
        self.push(Kind::JumpUnless(cond, 0), false, part, label);
        self.pend()
    }

    /// An unconditional jump to be patched.
    pub fn jump(&mut self, part: &'static str) -> Pending {
        self.push(Kind::Jump(0), false, part, "goto".to_string());
        self.pend()
    }

    /// A jump back to a known index.
    pub fn jump_to(&mut self, target: u16, part: &'static str) {
        self.push(Kind::Jump(target), false, part, "loop".to_string());
    }

    /// Points a pending jump at the next instruction (nothing once the program is too long,
    /// or when a patch deleted the jump).
    pub fn land(&mut self, pending: Pending) {
        let Some(Some(i)) = self.pending.get(pending.0).copied() else { return };
        self.pending[pending.0] = None;
        if self.too_long {
            return;
        }
        let target = self.here();
        match &mut self.instrs[i].kind {
            Kind::Jump(t) | Kind::JumpIf(_, t) | Kind::JumpUnless(_, t) => *t = target,
            Kind::Op(_) => unreachable!("patching a non-jump"),
        }
    }
}

/// The iommu core entry point that calls the driver with `group->mutex` held.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CoreFn {
    /// `iommu_attach_group()` → `__iommu_attach_group()` → `ops->attach_dev` for each device
    /// of the group.
    AttachGroup,
    /// `iommu_attach_device_pasid()` → `__iommu_set_group_pasid()` → `set_dev_pasid` for each
    /// device of the group.
    AttachPasid,
    /// `iommu_detach_device_pasid()` → `__iommu_remove_group_pasid()` → `remove_dev_pasid` for
    /// each device of the group.
    DetachPasid,
    /// `iommu_release_device()` → `__iommu_group_remove_device()` → `ops->release_device`.
    Release,
}

impl CoreFn {
    fn name(self) -> &'static str {
        match self {
            CoreFn::AttachGroup => "iommu_attach_group",
            CoreFn::AttachPasid => "iommu_attach_device_pasid",
            CoreFn::DetachPasid => "iommu_detach_device_pasid",
            CoreFn::Release => "__iommu_group_remove_device",
        }
    }
}

/// A driver call the core makes for master `m` under its group's `group->mutex`. The mutex
/// is a step only when another thread calls into the same group (`Topology::contended`):
/// otherwise it can never block, and its two steps would only add orders.
pub fn core_call(b: &mut Builder<'_>, m: crate::ids::MasterId, f: CoreFn, body: impl FnOnce(&mut Builder<'_>)) {
    let g = b.topo.masters[m.ix()].group;
    if !b.topo.contended.get(g.ix()).copied().unwrap_or(false) {
        return body(b);
    }
    let group = b.topo.group(g).to_string();
    b.func(f.name(), File::Core, |b| {
        b.step(Op::Lock(LockArg::Group(m)), "group_lock", format!("mutex_lock(&group {group}->mutex)"));
        body(b);
        b.step(Op::Unlock(LockArg::Group(m)), "group_unlock", format!("mutex_unlock(&group {group}->mutex)"));
    });
}
