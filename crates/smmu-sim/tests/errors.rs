//! The driver's error paths and the iommu core's group mutex, as the source has them.

mod common;

use common::*;
use smmu_sim::ids::{LockId, MasterId};
use smmu_sim::sched;
use smmu_sim::ste::SteConfig;
use smmu_sim::{Granularity, Scenario, State, Variant};

const BOTH: [Granularity; 2] = [Granularity::Mail, Granularity::Source];

fn no_cd_with_asid_0(states: &[State]) -> bool {
    states.iter().all(|s| s.masters.iter().all(|m| m.cds.iter().all(|c| !(c.mem.valid && c.mem.asid == 0))))
}

/// share_asid without a free ASID returns -ENOSPC: the bind writes nothing, z keeps ASID 1,
/// and no CD ever holds ASID 0.
#[test]
fn share_asid_without_a_free_asid_fails_with_enospc() {
    for v in Variant::ALL {
        for g in BOTH {
            let w = world("asid-exhaustion", v, g);
            let t = sched::run(&w, &sched::round_robin(&w)).unwrap();
            assert!(t.steps.iter().any(|s| s.label.contains("-ENOSPC")), "{v} {g}: no -ENOSPC step");
            assert!(no_cd_with_asid_0(&t.states), "{v} {g}: a CD was installed with ASID 0");
            let end = t.states.last().unwrap();
            assert_eq!(end.ctxs[0].asid, 1, "{v} {g}: z lost its ASID");
            assert!(end.masters[1].bonds.is_empty(), "{v} {g}: the failed bind left a bond");
            assert!(!end.masters[1].cds[1].mem.valid, "{v} {g}: the failed bind wrote CD_B[1]");
        }
    }
}

/// finalise without a free ASID fails the attach with -EBUSY. Before the fix the master was
/// already detached (abort STE); from the fix on it stays on its old domain.
#[test]
fn finalise_without_a_free_asid_fails_the_attach() {
    for v in Variant::ALL {
        for g in BOTH {
            let w = world("asid-exhaustion", v, g);
            let t = run(&w, "CPU0*40");
            assert!(t.steps.iter().any(|s| s.label.contains("-EBUSY")), "{v} {g}: no -EBUSY step");
            let end = t.states.last().unwrap();
            let a = &end.masters[0];
            assert!(!end.domains[3].finalised, "{v} {g}: y was finalised");
            assert!(end.domains[3].devices.is_empty(), "{v} {g}: A joined y");
            match v {
                Variant::Pre => {
                    assert_eq!(a.domain, None, "pre: A is left detached");
                    assert_eq!(a.ste.hw.config(), SteConfig::Abort);
                    assert!(!end.domains[0].devices.contains(&MasterId(0)));
                }
                _ => {
                    assert!(end.domains[0].devices.contains(&MasterId(0)), "{v}: A stays on z");
                    assert!(matches!(a.ste.hw.config(), SteConfig::S1 { .. }), "{v}: A's STE is untouched");
                    assert_eq!((a.cds[0].hw.valid, a.cds[0].hw.asid), (true, 1), "{v}: CD_A[0] keeps ASID 1");
                }
            }
        }
    }
}

/// Every interleaving of the exhaustion scenario is clean in every variant.
#[test]
fn allocation_failures_are_clean_in_every_variant() {
    for v in Variant::ALL {
        for g in BOTH {
            let s = explore(&world("asid-exhaustion", v, g));
            assert_eq!(s.violating, 0, "{v} {g}: {:?}", s.by_invariant);
        }
    }
}

fn two_attaches(groups: [Option<&str>; 2], masters: [&str; 2]) -> Scenario {
    let group = |g: Option<&str>| g.map_or(String::new(), |g| format!(r#", "iommu_group": "{g}""#));
    let json = format!(
        r#"{{ "format": 1, "id": "two-attaches", "title": "t", "variant": "pre", "granularity": "mail",
        "page_tables": [{{ "name": "PT_z", "map": [[4096, 40960]] }}, {{ "name": "PT_y", "map": [[4096, 45056]] }},
                        {{ "name": "PT_w", "map": [[4096, 49152]] }}],
        "domains": [{{ "name": "z", "stage": "s1", "page_table": "PT_z", "id": 1 }},
                    {{ "name": "y", "stage": "s1", "page_table": "PT_y" }},
                    {{ "name": "w", "stage": "s1", "page_table": "PT_w" }}],
        "masters": [{{ "name": "A", "domain": "z"{} }}, {{ "name": "A2", "domain": "z"{} }}],
        "threads": [{{ "name": "CPU0", "calls": [{{ "fn": "attach_dev", "master": "{}", "domain": "y" }}] }},
                    {{ "name": "CPU1", "calls": [{{ "fn": "attach_dev", "master": "{}", "domain": "w" }}] }}] }}"#,
        group(groups[0]),
        group(groups[1]),
        masters[0],
        masters[1]
    );
    Scenario::from_json(&json).unwrap()
}

fn has_group_steps(s: &Scenario) -> bool {
    let w = s.compile(Variant::Pre, Granularity::Mail).unwrap();
    w.programs.iter().any(|p| p.instrs.iter().any(|i| i.label.contains("group")))
}

/// The core's group->mutex is a step only where two threads call into one group.
#[test]
fn group_mutex_is_modelled_where_it_can_block() {
    assert!(has_group_steps(&two_attaches([None, None], ["A", "A"])), "two threads on one master");
    assert!(has_group_steps(&two_attaches([Some("g"), Some("g")], ["A", "A2"])), "two masters of one group");
    assert!(!has_group_steps(&two_attaches([None, None], ["A", "A2"])), "two groups");
    for id in smmu_sim::builtin::ids() {
        assert!(!has_group_steps(&smmu_sim::builtin::get(id).unwrap()), "{id}: each group has one caller");
    }
}

/// Two threads cannot drive one group at once: the second waits on group->mutex, and in
/// every interleaving the two attaches run one after the other.
#[test]
fn the_second_caller_waits_for_the_group() {
    for v in Variant::ALL {
        let w = two_attaches([None, None], ["A", "A"]).compile(v, Granularity::Source).unwrap();
        let t = run(&w, "CPU0 CPU1 CPU0");
        let waited = t.steps.iter().find_map(|s| s.waited);
        assert!(matches!(waited, Some((LockId::Group(_), _))), "{v}: {waited:?}");
        let s = explore(&w);
        // Serialised, the interleavings are the two orders of the whole calls.
        assert_eq!(s.interleavings, 2, "{v}");
        assert_eq!(s.violating, 0, "{v}: {:?}", s.by_invariant);
    }
}

/// The core attaches a group as a whole: attaching one master of a group moves them all, and
/// a scenario that starts a group's masters on two domains is refused.
#[test]
fn a_group_moves_as_a_whole() {
    let s = two_attaches([Some("g"), Some("g")], ["A", "A2"]);
    let w = s.compile(Variant::Fix, Granularity::Mail).unwrap();
    let t = run(&w, "CPU0*60");
    assert!(t.states.iter().any(|s| s.domains[1].devices.len() == 2), "CPU0 moves both masters of g to y");
    let end = t.states.last().unwrap();
    assert_eq!(end.domains[2].devices.len(), 2, "then CPU1 moves both to w: {:?}", end.domains[2].devices);
    let mut split = s.clone();
    split.masters[1].domain = None;
    let e = split.compile(Variant::Fix, Granularity::Mail).unwrap_err();
    assert!(e.message.contains("share iommu group"), "{e}");
}

/// CPU ASIDs are what arm64 can hand out: non-zero, within asid_bits, one per process.
#[test]
fn cpu_asids_are_checked() {
    let base = smmu_sim::builtin::get("seed-race").unwrap();
    let mut zero = base.clone();
    zero.processes[0].cpu_asid = 0;
    let mut wide = base.clone();
    wide.processes[0].cpu_asid = 300;
    let mut twice = base.clone();
    let mut q = twice.processes[0].clone();
    q.name = "Q".into();
    twice.processes.push(q);
    for (s, needle) in [(zero, "out of range"), (wide, "out of range"), (twice, "same CPU ASID")] {
        let e = s.compile(Variant::Pre, Granularity::Mail).unwrap_err();
        assert!(e.message.contains(needle), "{e}");
    }
}
