//! Where a candidate's critical section holds its lock, instruction by instruction, so that
//! find-fix can take a verdict from a candidate already checked instead of checking again.
//!
//! Two candidates of one lock and one move differ only in where their acquire and release
//! stand. Call them `N` and `W`, and say `W` holds the lock at every instruction `N` holds it
//! at (the *extra* instructions are those only `W` holds it at). When, on every path through
//! every emission of the function, each inserted acquire runs before its release and each
//! runs once (no branch enters or leaves a section past its ends), then:
//!
//! 1. Every interleaving of `W` is one of `N` with the same non-lock steps, provided no extra
//!    instruction takes or releases a lock that can be the same lock, and every step boundary
//!    of `W` is one of `N` (an inserted step `N` lacks is followed by a step of its own).
//!    `W` only forbids interleavings `N` allows. So a safety violation of `W` (a deadlock
//!    aside) is one of `N`, and so is a break of the lock rule; and where `N` is clean, `W`
//!    is safe and keeps the rule whenever `N` does.
//! 2. If moreover the two acquire at the same places and no extra instruction takes a lock
//!    another thread can name, a deadlock of `W` is one of `N`: a thread inside its extra
//!    instructions can run, or waits for a lock only it takes, as it does in `N`; so in a
//!    state where no thread can run, every lock is held as in `N`.
//!
//! [`Held::implies_violation`] and [`Held::implies_clean`] check those conditions. Only
//! locks whose object is fixed per call qualify; `old->devices_lock` is found at run time.

use super::apply::{apply, Call};
use super::{Edit, LockName, Patch};
use crate::explore::{lock_slots, LockOrder};
use crate::ids::MasterId;
use crate::program::{DomArg, Instr, Kind, LockArg, Op};

/// One emission of a function: instructions `start..end` of its thread's program and the
/// calls it makes, as [`crate::kernel::Builder`] records them.
#[derive(Clone, Debug)]
pub(crate) struct Emission {
    pub start: usize,
    pub end: usize,
    pub calls: Vec<Call>,
}

/// An emission's instructions, on their own: jump targets counted from its start, and
/// `quiet` standing for whether the instruction is local ([`crate::explore::local_instrs`]).
#[derive(Clone, Debug)]
pub(crate) struct Body {
    instrs: Vec<Instr>,
    calls: Vec<Call>,
    /// Whether what the thread runs after the function, up to its next step of its own (or
    /// its end), is local.
    then_local: bool,
    /// The order in which the other threads take locks, when no other thread runs the
    /// function.
    order: Option<LockOrder>,
}

impl Body {
    /// The body of emission `e` of a finished program; `None` when a branch of it jumps back
    /// to before the function (its paths are then not the function's own).
    pub(crate) fn of(program: &[Instr], local: &[bool], order: Option<&LockOrder>, e: &Emission) -> Option<Body> {
        // Labels and call stacks are not looked at here: left out, copies are cheap.
        let strip = |(i, l): (&Instr, &bool)| Instr { label: String::new(), stack: Vec::new(), quiet: *l, ..i.clone() };
        let mut instrs: Vec<Instr> =
            program.get(e.start..e.end)?.iter().zip(local.get(e.start..e.end)?).map(strip).collect();
        for i in &mut instrs {
            if let Kind::Jump(t) | Kind::JumpIf(_, t) | Kind::JumpUnless(_, t) = &mut i.kind {
                *t = t.checked_sub(u16::try_from(e.start).ok()?)?;
            }
        }
        // The thread's first effect is made a step of its own only when nothing visible is
        // before it, which an inserted step would be: it cannot be counted on as a boundary.
        if let Some(first) = program.iter().position(|i| matches!(i.kind, Kind::Op(_))) {
            if (e.start..e.end).contains(&first) {
                instrs[first - e.start].visible = false;
            }
        }
        let calls =
            e.calls.iter().map(|c| Call { start: c.start - e.start, end: c.end - e.start, name: c.name }).collect();
        let rest = program.iter().zip(local).skip(e.end);
        let then_local = rest.take_while(|(i, _)| !i.visible).all(|(i, l)| *l && matches!(i.kind, Kind::Op(_)));
        Some(Body { instrs, calls, then_local, order: order.cloned() })
    }
}

/// What an instruction of the function does with locks, as far as the two rules care.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    Plain,
    /// Takes a lock that cannot be the candidate's, and that another thread can name.
    TakesOther,
    /// Takes or releases a lock that can be the candidate's.
    Same,
}

/// Where a candidate holds its lock: per instruction of every emission (inserted ones left
/// out), in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Held {
    /// 0 free, 1 held, 2 never reached.
    depth: Vec<u8>,
    class: Vec<Class>,
    /// The inserted steps: (the instruction they stand before, acquire, followed by a step
    /// of its own).
    inserted: Vec<(usize, bool, bool)>,
    /// The branches out of the function (early returns) that leave holding the lock.
    exits: Vec<usize>,
}

const UNREACHED: u8 = 2;

/// The function of an inserted step in the copies analysed here: a name no script has.
const MARK: &str = "\u{0}inserted";

/// Whether lock `a` can be the same object as the candidate's lock `l`.
fn same_lock(a: LockArg, l: LockName) -> bool {
    match (LockName::of(a), l) {
        (LockName::OldDevices | LockName::Devices, LockName::OldDevices | LockName::Devices) => true,
        (x, y) => x == y,
    }
}

/// The lock slots the candidate's lock may be, whichever call's domain or group it names.
fn slots(l: LockName) -> u128 {
    lock_slots(match l {
        LockName::Asid => LockArg::Asid,
        LockName::Sva => LockArg::Sva,
        LockName::OldDevices | LockName::Devices => LockArg::Devices(DomArg::Old),
        LockName::Init => LockArg::Init(DomArg::Old),
        LockName::Group => LockArg::Group(MasterId(0)),
    })
}

/// A lock taken while holding the candidate's can close a cycle of waits only if it is
/// local to the thread, or another thread may go on from holding it to waiting for the
/// candidate's (with no such chain, a deadlock of the wide candidate is one of the narrow).
fn class(instr: &Instr, l: LockName, order: Option<&LockOrder>) -> Class {
    match instr.kind {
        Kind::Op(Op::Lock(a) | Op::Unlock(a)) if same_lock(a, l) => Class::Same,
        Kind::Op(Op::Lock(a)) if !instr.quiet && order.is_none_or(|o| o.leads(a, slots(l))) => Class::TakesOther,
        _ => Class::Plain,
    }
}

/// Where `patch` (one critical section of `lock`, inserted into every body) holds the lock;
/// `None` when some path runs an inserted step out of turn, or the lock is found at run time.
pub(crate) fn held(bodies: &[Body], func: &str, patch: &Patch, lock: LockName) -> Option<Held> {
    if lock == LockName::OldDevices {
        return None;
    }
    let edits: Vec<(usize, &Edit)> = patch.edits_of(func).collect();
    let mut out = Held { depth: Vec::new(), class: Vec::new(), inserted: Vec::new(), exits: Vec::new() };
    for body in bodies {
        let mut instrs = body.instrs.clone();
        let template = instrs.first()?.clone();
        let insert = |acquire: bool, _: LockName| {
            let op = if acquire { Op::Lock(LockArg::Asid) } else { Op::Unlock(LockArg::Asid) };
            Ok(Instr { kind: Kind::Op(op), visible: true, function: MARK, ..template.clone() })
        };
        apply(&mut instrs, 0, &body.calls, &mut [], &edits, &insert).ok()?;
        walk(&instrs, body, lock, &mut out)?;
    }
    Some(out)
}

/// Follows every path of one patched body, appending what it finds to `out`. A path may
/// leave by an early return holding the lock (both candidates compared must then do so);
/// anything else out of turn makes the body unfit.
fn walk(instrs: &[Instr], body: &Body, lock: LockName, out: &mut Held) -> Option<()> {
    let n = instrs.len();
    let mut depth = vec![UNREACHED; n + 1];
    let mut todo = vec![0];
    let mut exits = Vec::new();
    depth[0] = 0;
    while let Some(i) = todo.pop() {
        let Some(instr) = instrs.get(i) else { continue };
        let mut d = depth[i];
        if instr.function == MARK {
            let acquire = matches!(instr.kind, Kind::Op(Op::Lock(_)));
            d = match (acquire, d) {
                (true, 0) => 1,
                (false, 1) => 0,
                _ => return None,
            };
        }
        let mut next = |t: u16| {
            let t = usize::from(t);
            (t < n).then_some(t).or_else(|| {
                if d == 1 {
                    exits.push(i);
                }
                None
            })
        };
        let succ = match instr.kind {
            Kind::Jump(t) => [next(t), None],
            Kind::JumpIf(_, t) | Kind::JumpUnless(_, t) => [Some(i + 1), next(t)],
            Kind::Op(_) => [Some(i + 1), None],
        };
        for s in succ.into_iter().flatten() {
            match depth[s] {
                UNREACHED => {
                    depth[s] = d;
                    todo.push(s);
                }
                x if x != d => return None,
                _ => {}
            }
        }
    }
    if depth[n] == 1 {
        return None;
    }
    let base = out.depth.len();
    let mut plain = 0;
    for (i, instr) in instrs.iter().enumerate() {
        if exits.contains(&i) {
            out.exits.push(base + plain);
        }
        plain += usize::from(instr.function != MARK);
        if instr.function == MARK {
            let acquire = matches!(instr.kind, Kind::Op(Op::Lock(_)));
            let cut = rest_is_local(instrs, i, body.then_local);
            out.inserted.push((out.depth.len(), acquire, cut));
        } else {
            out.depth.push(depth[i]);
            out.class.push(class(instr, lock, body.order.as_ref()));
        }
    }
    Some(())
}

/// Whether the rest of the step that inserted step `i` starts (the silent instructions after
/// it, on every path) is local: then that step boundary changes no verdict, even where the
/// other candidate runs those instructions with the step before.
fn rest_is_local(instrs: &[Instr], i: usize, then_local: bool) -> bool {
    let mut todo = vec![i + 1];
    let mut seen = vec![false; instrs.len()];
    while let Some(j) = todo.pop() {
        let Some(instr) = instrs.get(j) else {
            if then_local {
                continue;
            }
            return false;
        };
        if instr.visible || seen[j] {
            continue;
        }
        if !instr.quiet {
            return false;
        }
        seen[j] = true;
        match instr.kind {
            Kind::Jump(t) => todo.push(usize::from(t)),
            Kind::JumpIf(_, t) | Kind::JumpUnless(_, t) => todo.extend([j + 1, usize::from(t)]),
            Kind::Op(_) => todo.push(j + 1),
        }
    }
    true
}

impl Held {
    /// Whether `wide` holds the lock wherever `self` does and rule 1 holds: then a safety
    /// violation of `wide` is one of `self`.
    pub(crate) fn implies_violation(&self, wide: &Held) -> bool {
        self.covered_by(wide, |c| c != Class::Same)
    }

    /// Whether rules 1 and 2 hold between `self` (narrow) and `wide`: then, `self` being
    /// clean and keeping the lock rule, so is `wide`.
    pub(crate) fn implies_clean(&self, wide: &Held) -> bool {
        let acquires = |h: &Held| h.inserted.iter().filter(|x| x.1).map(|x| x.0).collect::<Vec<_>>();
        acquires(self) == acquires(wide) && self.covered_by(wide, |c| c == Class::Plain)
    }

    fn covered_by(&self, wide: &Held, extra_ok: impl Fn(Class) -> bool) -> bool {
        if self.depth.len() != wide.depth.len() || self.class != wide.class || self.exits != wide.exits {
            return false;
        }
        let held = self.depth.iter().zip(&wide.depth).zip(&self.class).all(|((&n, &w), &c)| match (n, w) {
            (0, 1) => extra_ok(c),
            (n, w) => n == w,
        });
        let boundaries = wide
            .inserted
            .iter()
            .all(|&(at, acquire, cut)| cut || self.inserted.iter().any(|&(a, q, _)| a == at && q == acquire));
        held && boundaries
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::{Anchor, Pos};
    use crate::{builtin, Granularity, Variant};

    fn section(lock: LockName, from: &str, to: Option<&str>) -> Patch {
        let func = "arm_smmu_attach_dev".to_string();
        let at = |p: &str| Pos::Before(p.parse::<Anchor>().unwrap());
        let mut edits = vec![
            Edit::Delete { func: func.clone(), step: "asid_lock#1".parse().unwrap() },
            Edit::Delete { func: func.clone(), step: "asid_unlock#1".parse().unwrap() },
        ];
        edits.push(Edit::Insert { func: func.clone(), acquire: true, lock, at: at(from) });
        edits.push(Edit::Insert { func, acquire: false, lock, at: to.map_or(Pos::End, at) });
        Patch { base: Variant::Pre, edits }
    }

    fn bodies() -> Vec<Body> {
        let s = builtin::get("seed-race").unwrap();
        s.bodies(Variant::Pre, Granularity::Mail, "arm_smmu_attach_dev").unwrap()
    }

    fn held_of(p: &Patch) -> Option<Held> {
        held(&bodies(), "arm_smmu_attach_dev", p, LockName::Asid)
    }

    /// A section over an early return (`if (!smmu_domain->smmu)`) leaves holding the lock
    /// on that path, so only a section that does the same is comparable with it.
    #[test]
    fn an_early_return_that_leaves_holding_is_kept_apart() {
        let over = held_of(&section(LockName::Asid, "arm_smmu_detach_dev#1", Some("list_add#1"))).unwrap();
        let more =
            held_of(&section(LockName::Asid, "arm_smmu_detach_dev#1", Some("arm_smmu_write_ctx_desc#1"))).unwrap();
        let before = held_of(&section(LockName::Asid, "arm_smmu_detach_dev#1", Some("init_mutex_lock#1"))).unwrap();
        assert_eq!(over.exits.len(), 1);
        assert!(before.exits.is_empty());
        assert!(!before.implies_violation(&over), "over leaves holding where before does not");
        assert!(over.implies_violation(&more));
        assert!(held(
            &bodies(),
            "arm_smmu_attach_dev",
            &section(LockName::OldDevices, "set_domain#1", None),
            LockName::OldDevices
        )
        .is_none());
    }

    /// CPU1 takes arm_smmu_asid_lock under sva_lock, and devices_lock under
    /// arm_smmu_asid_lock: the order the rules consult has those chains and no others.
    #[test]
    fn the_other_threads_lock_order() {
        let s = builtin::get("seed-race").unwrap();
        let world = s.compile(Variant::Pre, Granularity::Mail).unwrap();
        let order = LockOrder::of(&world, 0);
        let y = LockArg::Devices(DomArg::Id(crate::ids::DomainId(1)));
        assert!(order.leads(LockArg::Sva, slots(LockName::Asid)));
        assert!(order.leads(LockArg::Asid, slots(LockName::Devices)));
        assert!(order.leads(LockArg::Sva, slots(LockName::Devices)), "through arm_smmu_asid_lock");
        assert!(!order.leads(y, slots(LockName::Asid)));
        assert!(!order.leads(LockArg::Asid, slots(LockName::Sva)));
    }

    /// Widening a section at its end: the narrow one's verdicts carry over while the extra
    /// steps take no lock; an extra lock, or a wider start, keeps only the violation rule.
    #[test]
    fn the_rules_see_what_the_extra_steps_do() {
        let from = |a, b| held_of(&section(LockName::Asid, a, b)).unwrap();
        let (to_list, to_cd) = (from("set_domain#1", Some("list_add#1")), from("set_domain#1", Some("cd_alloc#1")));
        let to_write = from("set_domain#1", Some("arm_smmu_write_ctx_desc#1"));
        assert!(to_cd.implies_violation(&to_write) && to_cd.implies_clean(&to_write), "over cd_alloc");
        // list_add takes y->devices_lock, which CPU1 takes (as the found domain's) only while
        // holding arm_smmu_asid_lock, never the other way round: no cycle of waits can close.
        assert!(to_list.implies_violation(&to_write) && to_list.implies_clean(&to_write), "over list_add");
        // A release before cd_alloc is a step that runs cd_alloc's first instructions, which
        // the narrow section runs with list_add's unlock; they touch only A's CD table
        // pointer, which no other thread reads, so the boundary changes nothing.
        assert!(to_list.implies_violation(&to_cd));
        assert!(!to_write.implies_violation(&to_cd) && !to_write.implies_clean(&to_cd), "narrower");
        let wide = from("list_add#1", Some("arm_smmu_install_ste_for_dev#1"));
        let later = from("arm_smmu_write_ctx_desc#1", Some("arm_smmu_install_ste_for_dev#1"));
        assert!(later.implies_violation(&wide));
        assert!(!later.implies_clean(&wide), "the wide one acquires earlier");
        let from_set = from("set_domain#1", Some("arm_smmu_install_ste_for_dev#1"));
        assert!(later.implies_violation(&from_set), "set_domain is local: its boundary changes nothing");
        let to_end = from("set_domain#1", None);
        assert!(to_write.implies_clean(&to_end));
    }
}
