//! v6.9 attach paths as 327e10b4 orders them: ATS is decided before the STE is built, and
//! the static identity domain is attached through `arm_smmu_attach_dev_ste()`.

use smmu_sim::ids::{DomainId, MasterId};
use smmu_sim::sched;
use smmu_sim::ste::Ste;
use smmu_sim::trace::Trace;
use smmu_sim::{Granularity, Scenario, Variant};

/// Master A (ATS, on S1 domain z) moves to `to` (S1 domain y, or the identity domain id).
fn attach(to: &str) -> Trace {
    let json = r#"{
      "format": 1, "id": "v69-attach", "title": "t", "variant": "v6.9", "granularity": "source",
      "page_tables": [{ "name": "PT_z", "map": [[4096, 40960]] }, { "name": "PT_y", "map": [[4096, 45056]] }],
      "domains": [
        { "name": "z", "stage": "s1", "page_table": "PT_z", "id": 1 },
        { "name": "y", "stage": "s1", "page_table": "PT_y" },
        { "name": "id", "stage": "bypass", "page_table": "PT_y" }
      ],
      "masters": [{ "name": "A", "domain": "z", "ats": true, "ssids": 1 }],
      "threads": [{ "name": "CPU0", "calls": [{ "fn": "attach_dev", "master": "A", "domain": "TO" }] }]
    }"#;
    let world =
        Scenario::from_json(&json.replace("TO", to)).unwrap().compile(Variant::V69, Granularity::Source).unwrap();
    sched::run(&world, &sched::round_robin(&world)).expect("runs")
}

/// The last step whose label contains `what`.
fn index(t: &Trace, what: &str) -> usize {
    let at = t.steps.iter().rposition(|s| s.label.contains(what));
    at.unwrap_or_else(|| panic!("no step {what}: {:?}", t.steps.iter().map(|s| &s.label).collect::<Vec<_>>()))
}

/// v69.c:2583 sets `ats_enabled` before the STE is built (2610), so the cdtable STE keeps
/// EATS and `arm_smmu_enable_ats()` runs (2622).
#[test]
fn an_ats_master_keeps_eats_and_enables_ats() {
    let t = attach("y");
    let eats = Ste::cdtable(MasterId(0), true);
    for (i, s) in t.states.iter().enumerate() {
        assert_eq!(s.masters[0].ste.mem, eats, "step {i} ({}) changed the STE", t.steps[i].label);
    }
    let (ats, unlock) =
        (index(&t, "master->ats_enabled = arm_smmu_ats_supported(A)"), index(&t, "mutex_unlock(&arm_smmu_asid_lock)"));
    assert!(ats < index(&t, "list_add(A)"));
    assert!(index(&t, "arm_smmu_enable_ats(A)") < unlock);
}

/// v69.c:2671-2678 → 2635-2669: the identity domain takes `arm_smmu_asid_lock` around
/// detach and the bypass STE, joins no devices list and clears CD[0] after the unlock.
#[test]
fn the_identity_domain_attaches_through_attach_dev_ste() {
    let t = attach("id");
    assert!(t.steps.iter().all(|s| s.stack.starts_with(&["arm_smmu_attach_dev_identity", "arm_smmu_attach_dev_ste"])));
    assert!(t.steps.iter().all(|s| !s.label.contains("list_add")));
    let (lock, del, unlock) = (
        index(&t, "mutex_lock(&arm_smmu_asid_lock)"),
        index(&t, "list_del(A)"),
        index(&t, "mutex_unlock(&arm_smmu_asid_lock)"),
    );
    let (ste, clear) = (index(&t, "STE_A: store"), index(&t, "CD_A[0].q0 := 0"));
    assert!(lock < del && del < ste && ste < unlock && unlock < clear, "{lock} {del} {ste} {unlock} {clear}");
    let end = t.states.last().unwrap();
    assert_eq!(end.masters[0].ste.mem, Ste::bypass());
    assert_eq!(end.masters[0].domain, Some(DomainId(2)));
    assert!(end.domains.iter().all(|d| d.devices.is_empty()));
    assert!(!end.masters[0].ats);
}

/// A master on the identity domain leaves no devices list when it moves on: v6.9's detach
/// returns at once for a domain that is not a paging domain (v69.c:2523-2524).
#[test]
fn detach_from_the_identity_domain_touches_no_list() {
    let json = r#"{
      "format": 1, "id": "v69-from-identity", "title": "t", "variant": "v6.9", "granularity": "source",
      "page_tables": [{ "name": "PT_y", "map": [[4096, 45056]] }],
      "domains": [{ "name": "id", "stage": "bypass", "page_table": "PT_y" }, { "name": "y", "stage": "s1", "page_table": "PT_y" }],
      "masters": [{ "name": "A", "domain": "id", "ssids": 1 }],
      "threads": [{ "name": "CPU0", "calls": [{ "fn": "attach_dev", "master": "A", "domain": "y" }] }]
    }"#;
    let world = Scenario::from_json(json).unwrap().compile(Variant::V69, Granularity::Source).unwrap();
    let t = sched::run(&world, &sched::round_robin(&world)).expect("runs");
    assert!(
        t.steps.iter().all(|s| !s.label.contains("list_del")),
        "{:?}",
        t.steps.iter().map(|s| &s.label).collect::<Vec<_>>()
    );
    assert_eq!(t.states.last().unwrap().masters[0].ste.mem, Ste::cdtable(MasterId(0), false));
}
