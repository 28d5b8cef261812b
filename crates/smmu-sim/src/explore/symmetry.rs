//! ASID symmetry: states that differ only in which allocated ASID went to which descriptor.
//!
//! N threads that each finalise a fresh domain allocate N ASIDs in whatever order they run,
//! so the same outcome appears up to N! times, with the ASIDs dealt out differently. The
//! driver treats an ASID as a name: it compares ASIDs for equality, looks them up, flushes
//! them, and allocates the lowest free one. The checker too. So two states that differ by a
//! renaming π of ASIDs behave alike, step for step (same threads ready, same violations),
//! provided π keeps what the world or the allocator can tell apart:
//!
//! - ASIDs named by the world (each process's CPU ASID) and those of the initial state stay.
//! - π only permutes allocated ASIDs (keys of `arm_smmu_asid_xa`) among themselves, and only
//!   within a run of consecutive allocated values, so both states have the same allocated
//!   set and the allocator's lowest free value is the same in both.
//! - No ASID that π may move is ever freed. Once two allocated ASIDs of a run are freed,
//!   which one the allocator hands out again first depends on their order, and the two may
//!   leave different stale references behind (a CD, an IOTLB entry, a history): states that
//!   differ by a renaming no longer behave alike. So symmetry is used only in worlds with no
//!   step that can free a domain's or a shared descriptor's ASID (`arm_smmu_domain_free`,
//!   the unbind's `arm_smmu_free_asid`); the built-in scenarios have none. In such a world
//!   the allocated set only grows (the CPU ASID that `share_asid` erases is fixed).
//!
//! The explorer keeps one state per class: [`Symmetry::canonicalize`] renames each run's
//! movable ASIDs so that they are dealt out in a fixed order of the descriptors holding them.
//! The quotient graph has the same path counts as the full one (a state's class has, per
//! thread, successors in the same classes with the same violations), so every count, the
//! counterexample lengths and the danger windows stay exact. Tests check that property on
//! every reachable state of the small built-ins and of variations a user might write. VMIDs
//! are left as they are.

use crate::program::{Kind, Op};
use crate::state::{State, Tag};
use crate::world::World;

/// ASID renaming into canonical form.
#[derive(Debug)]
pub(super) struct Symmetry {
    /// ASIDs never renamed.
    fixed: Vec<u16>,
    /// The non-identity part of the renaming being applied, as (from, to).
    map: Vec<(u16, u16)>,
    /// One run's movable ASIDs, each with its ordering key.
    run: Vec<(Key, u16)>,
    /// That run's movable ASIDs, ascending: the values dealt out.
    vals: Vec<u16>,
}

/// What orders the movable ASIDs of a run, invariant under renaming: the descriptor the xa
/// maps the ASID to, and whether that descriptor holds another ASID (while `share_asid`
/// moves a descriptor, the xa maps both its old and its new ASID to it).
type Key = (u8, bool);

impl Symmetry {
    /// The symmetry of `world`, or `None` when a step of it can free a renamable ASID.
    pub(super) fn new(world: &World) -> Option<Self> {
        let frees = |kind: &Kind| matches!(kind, Kind::Op(Op::FreeDomainAsid(_) | Op::FreeCtx));
        if world.programs.iter().flat_map(|p| &p.instrs).any(|i| frees(&i.kind)) {
            return None;
        }
        let cpu = world.topo.mms.iter().map(|m| m.cpu_asid);
        let mut fixed: Vec<u16> = cpu.chain(world.initial.xa.iter().map(|(a, _)| *a)).collect();
        fixed.sort_unstable();
        fixed.dedup();
        Some(Symmetry { fixed, map: Vec::new(), run: Vec::new(), vals: Vec::new() })
    }

    /// Renames the ASIDs of `s` into the canonical form of its class; whether any changed.
    pub(super) fn canonicalize(&mut self, s: &mut State) -> bool {
        self.renaming(s);
        if self.map.is_empty() {
            return false;
        }
        self.apply(s);
        true
    }

    /// Fills `map` with the canonical renaming of `s` (its non-identity pairs).
    fn renaming(&mut self, s: &State) {
        self.map.clear();
        let mut start = 0;
        while start < s.xa.len() {
            let mut end = start + 1;
            while end < s.xa.len() && s.xa[end].0 == s.xa[end - 1].0 + 1 {
                end += 1;
            }
            self.rename_run(s, start..end);
            start = end;
        }
    }

    /// Deals the movable ASIDs of `s.xa[run]` out in key order, smallest value first.
    fn rename_run(&mut self, s: &State, run: std::ops::Range<usize>) {
        self.run.clear();
        for &(asid, ctx) in &s.xa[run] {
            if self.fixed.binary_search(&asid).is_err() {
                let held = s.ctxs.get(ctx.ix()).map(|c| c.asid);
                self.run.push(((ctx.0, held != Some(asid)), asid));
            }
        }
        if self.run.len() < 2 {
            return;
        }
        self.vals.clear();
        self.vals.extend(self.run.iter().map(|(_, a)| *a));
        self.run.sort_unstable();
        for (&(_, from), &to) in self.run.iter().zip(&self.vals) {
            if from != to {
                self.map.push((from, to));
            }
        }
    }

    fn apply(&self, s: &mut State) {
        let f = |a: &mut u16| {
            if let Some(&(_, to)) = self.map.iter().find(|(from, _)| from == a) {
                *a = to;
            }
        };
        let tag = |t: &mut Tag| {
            if let Tag::Asid(a) = t {
                f(a);
            }
        };
        s.xa.iter_mut().for_each(|(a, _)| f(a));
        s.xa.sort_unstable();
        s.ctxs.iter_mut().for_each(|c| f(&mut c.asid));
        for slot in s.masters.iter_mut().flat_map(|m| &mut m.cds) {
            f(&mut slot.mem.asid);
            f(&mut slot.hw.asid);
        }
        s.iotlb.iter_mut().for_each(|e| tag(&mut e.tag));
        s.iotlb.sort_unstable();
        s.history.iter_mut().for_each(|h| tag(&mut h.tag));
        s.history.sort_unstable();
        for t in &mut s.threads {
            f(&mut t.regs.asid);
            f(&mut t.regs.new_asid);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check;
    use crate::exec::{self, Readiness};
    use crate::ids::ThreadId;
    use crate::scenario::{Call, MasterSpec, PageTableSpec, ProcessSpec, Scenario, ThreadSpec};
    use crate::state::Stage;
    use crate::{builtin, Granularity, Variant};
    use std::collections::HashSet;

    /// A state's successor by thread `t`, checked, and its violations.
    fn succ(world: &World, s: &State, t: ThreadId) -> (State, crate::check::Mask) {
        let mut next = s.clone();
        let outcome = exec::step(world, &mut next, t);
        let mask = check::after_step(world, &mut next, &outcome, 0, None);
        (next, mask)
    }

    fn canon(sym: &mut Symmetry, s: &State) -> State {
        let mut c = s.clone();
        sym.canonicalize(&mut c);
        c
    }

    /// Steps every state of `world` reachable without renaming beside its canonical form
    /// (see below); the number of states renaming changes.
    fn assert_steps_alike(world: &World, sym: &mut Symmetry) -> usize {
        let (case, mut renamed) = (format!("{} {} {}", world.id, world.variant, world.granularity), 0);
        assert_eq!(canon(sym, &world.initial), world.initial, "{case}");
        let mut seen = HashSet::new();
        let mut todo = vec![world.initial.clone()];
        while let Some(s) = todo.pop() {
            if !seen.insert(s.clone()) {
                continue;
            }
            let c = canon(sym, &s);
            renamed += usize::from(c != s);
            assert_eq!(canon(sym, &c), c, "{case}: canonical forms are fixed points");
            for t in (0..world.n_threads()).map(|t| ThreadId(t as u8)) {
                let ready = exec::readiness(world, &s, t);
                assert_eq!(ready, exec::readiness(world, &c, t), "{case}: {s:?}");
                if ready != Readiness::Ready {
                    continue;
                }
                let ((a, mask_a), (b, mask_b)) = (succ(world, &s, t), succ(world, &c, t));
                assert_eq!(mask_a, mask_b, "{case}: {s:?} by {t:?}");
                assert_eq!(canon(sym, &a), canon(sym, &b), "{case}: {s:?} by {t:?}");
                todo.push(a);
            }
        }
        renamed
    }

    /// Over every state reachable without renaming, the state and its canonical form have
    /// the same threads ready and, per thread, successors of the same class with the same
    /// violations: what makes the explorer's counts over classes exact. Canonical forms are
    /// fixed points, and the initial state is one.
    #[test]
    fn a_state_and_its_canonical_form_step_alike() {
        let mut renamed = 0;
        for id in ["seed-race", "release-race", "attach-storm-1", "attach-storm-2"] {
            for v in Variant::ALL {
                for g in Granularity::ALL {
                    let world = builtin::get(id).unwrap().compile(v, g).unwrap();
                    let mut sym = Symmetry::new(&world).expect("the built-ins free no renamable ASID");
                    renamed += assert_steps_alike(&world, &mut sym);
                }
            }
        }
        assert!(renamed > 1000, "the built-in scenarios exercise renaming ({renamed} states renamed)");
    }

    /// The same over scenarios a user might write, built from attach-storm-2: M1 released
    /// after its move; y1 a stage-2 domain (VMIDs are not renamed); two ASID bits, so the
    /// allocator runs out; a second process whose CPU ASID 2 is one the allocator hands
    /// out, bound on a second SVA master; and P bound on two masters.
    #[test]
    fn user_scenarios_step_alike() {
        let storm = |id: &str| Scenario { id: id.into(), schedules: Vec::new(), ..builtin::attach_storm(2) };
        let mut release = storm("release");
        release.threads[1].calls.push(Call::ReleaseDevice { master: "M1".into() });
        let mut s2 = storm("s2");
        s2.domains[2].stage = Stage::S2;
        let tiny = Scenario { asid_bits: 2, ..storm("tiny-asids") };
        let bind = |s: &mut Scenario, process: &str| {
            let sva = MasterSpec {
                name: "S2".into(),
                domain: Some("z".into()),
                sva: true,
                ats: false,
                ssids: 2,
                iommu_group: None,
            };
            s.masters.push(sva);
            let call = Call::SvaSetDevPasid { master: "S2".into(), pasid: 1, process: process.into() };
            s.threads.push(ThreadSpec { name: "CPU3".into(), calls: vec![call] });
        };
        let mut two = storm("two-processes");
        two.page_tables.push(PageTableSpec { name: "PT_Q".into(), map: vec![(0x1000, 0x40000)] });
        two.processes.push(ProcessSpec { name: "Q".into(), cpu_asid: 2, page_table: "PT_Q".into() });
        bind(&mut two, "Q");
        let mut twice = storm("bind-twice");
        bind(&mut twice, "P");
        let (all, fix) = (&Variant::ALL[..], &[Variant::Fix][..]);
        let mut renamed = 0;
        for (scenario, variants) in [(release, all), (s2, all), (tiny, all), (two, fix), (twice, fix)] {
            for &v in variants {
                let world = scenario.compile(v, Granularity::Mail).unwrap();
                let mut sym = Symmetry::new(&world).expect("frees no renamable ASID");
                renamed += assert_steps_alike(&world, &mut sym);
            }
        }
        assert!(renamed > 1000, "these scenarios exercise renaming ({renamed} states renamed)");
    }
}
