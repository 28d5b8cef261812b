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
pub use device::{dma, walk};
pub use domain::domain_free;
pub use mm::{mm_invalidate, mm_release};
pub use pgtable::{map, unmap};
pub use sva::{sva_remove_dev_pasid, sva_set_dev_pasid};

use crate::limits::MAX_PROGRAM;
use crate::mutation::Mutation;
use crate::program::{Cond, Instr, Kind, LockArg, Op};
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
}

/// A jump whose target is not known yet.
#[derive(Debug)]
#[must_use]
pub struct Patch(usize);

impl<'a> Builder<'a> {
    /// A builder for an empty program of a driver changed by `mutations`.
    pub fn new(topo: &'a Topology, variant: Variant, granularity: Granularity, mutations: &'a [Mutation]) -> Self {
        Builder { topo, variant, granularity, mutations, instrs: Vec::new(), stack: Vec::new(), too_long: false }
    }

    /// Whether the scripts run under mutation `m`.
    pub fn mutated(&self, m: Mutation) -> bool {
        self.mutations.contains(&m)
    }

    /// The finished instructions, or an error when the program would be longer than
    /// [`MAX_PROGRAM`] instructions.
    pub fn finish(self) -> Result<Vec<Instr>, String> {
        if self.too_long {
            return Err(format!("its program is longer than {MAX_PROGRAM} instructions (the limit)"));
        }
        Ok(self.instrs)
    }

    /// Whether every store is its own step.
    pub fn source(&self) -> bool {
        self.granularity == Granularity::Source
    }

    /// Emits `body` as the kernel function `name` of `file`.
    pub fn func(&mut self, name: &'static str, file: File, body: impl FnOnce(&mut Self)) {
        self.stack.push((name, file));
        body(self);
        self.stack.pop();
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
        // A thread's first instruction is always a step of its own.
        let visible = visible || (matches!(kind, Kind::Op(_)) && !self.instrs.iter().any(|i| i.visible));
        let src = Src { file, func: function, part, variant: self.variant };
        let stack = self.stack.iter().map(|(f, _)| *f).collect();
        self.instrs.push(Instr { kind, visible, quiet: quiet && !visible, function, stack, label, src });
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
    pub fn jump_if(&mut self, cond: Cond, part: &'static str) -> Patch {
        self.push(Kind::JumpIf(cond, 0), false, part, format!("if {cond:?}"));
        Patch(self.instrs.len() - 1)
    }

    /// A jump to be patched, taken when `cond` does not hold.
    pub fn jump_unless(&mut self, cond: Cond, part: &'static str) -> Patch {
        self.push(Kind::JumpUnless(cond, 0), false, part, format!("if !{cond:?}"));
        Patch(self.instrs.len() - 1)
    }

    /// An unconditional jump to be patched.
    pub fn jump(&mut self, part: &'static str) -> Patch {
        self.push(Kind::Jump(0), false, part, "goto".to_string());
        Patch(self.instrs.len() - 1)
    }

    /// A jump back to a known index.
    pub fn jump_to(&mut self, target: u16, part: &'static str) {
        self.push(Kind::Jump(target), false, part, "loop".to_string());
    }

    /// Points a pending jump at the next instruction (nothing once the program is too long:
    /// the jump may not have been emitted, and the program is refused anyway).
    pub fn land(&mut self, patch: Patch) {
        if self.too_long {
            return;
        }
        let target = self.here();
        match &mut self.instrs[patch.0].kind {
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
