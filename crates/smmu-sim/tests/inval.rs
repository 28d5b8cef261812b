//! Map, unmap and the mmu notifier paths, one schedule at a time: what each invalidation
//! removes, when an unmap counts as returned, and the `cleared` shortcut.

mod common;

use common::*;
use smmu_sim::check::Invariant;
use smmu_sim::state::Tag;
use smmu_sim::{Granularity, Variant};

/// Steps of a trace by function.
fn ran(t: &smmu_sim::trace::Trace, function: &str) -> usize {
    t.steps.iter().filter(|s| s.function == function).count()
}

/// An unmap alone: `arm_smmu_iotlb_sync` removes A's entry by the ASID it reads, and a DMA
/// after the unmap faults.
#[test]
fn unmap_invalidates_the_page_by_the_current_asid() {
    for g in Granularity::ALL {
        let w = world("unmap-during-asid-change", Variant::Fix, g);
        let t = run(&w, "DMA_A CPU1*2 DMA_A CPU0*40");
        assert!(t.safety_violations().next().is_none(), "{g}: {:?}", t.violations);
        assert_eq!(ran(&t, "arm_smmu_tlb_inv_range_domain"), 1, "{g}");
        let second = t.steps.iter().filter(|s| s.function == "DMA").nth(1).unwrap();
        assert!(second.label.contains("A DMA"), "{g}");
    }
}

/// A hit on a page whose unmap has cleared the PTE but not yet returned is the window an
/// unmap may leave: neither `dma` nor `unmap` reports it.
#[test]
fn a_hit_while_the_unmap_is_in_flight_is_no_violation() {
    let w = world("unmap-during-asid-change", Variant::Fix, Granularity::Mail);
    let t = run(&w, "DMA_A CPU1 DMA_A CPU1 CPU0*40");
    assert!(
        t.violations.iter().all(|v| v.invariant != Invariant::Dma && v.invariant != Invariant::Unmap),
        "{:?}",
        t.violations
    );
}

/// The mm exit before the unbind: `arm_smmu_mm_release` quietens CD_B[1] and flushes ASID 1,
/// and the unbind's `arm_smmu_mmu_notifier_put` then skips its own flush.
#[test]
fn mm_release_first_makes_the_unbind_skip_its_flush() {
    for v in Variant::ALL {
        let w = world("sva-unbind-reuse", v, Granularity::Mail);
        let early = run(&w, "CPU0*6 DMA_B CPU1*7 CPU0*40 CPU2 DMA_D");
        assert!(early.safety_violations().next().is_none(), "{v}: {:?}", early.violations);
        assert_eq!(ran(&early, "arm_smmu_mmu_notifier_put"), 0, "{v}: cleared, so no flush in put");
        assert!(early.steps.iter().any(|s| s.function == "arm_smmu_mm_release" && s.label.contains("tlb_inv")));
        // Without the exit first, the unbind flushes.
        let late = run(&w, "CPU0*6 DMA_B CPU0*60 CPU1*9 CPU2 DMA_D");
        assert_eq!(ran(&late, "arm_smmu_mmu_notifier_put"), 1, "{v}");
        assert!(late.safety_violations().next().is_none(), "{v}: {:?}", late.violations);
    }
}

/// The CPU unmap of a bound process's page reaches the SMMU through the notifier: B's entry
/// for the page is gone after `arm_smmu_mm_arch_invalidate_secondary_tlbs`.
#[test]
fn mm_invalidate_flushes_the_page_through_each_notifier() {
    let w = world("sva-unbind-reuse", Variant::Fix, Granularity::Mail);
    let t = run(&w, "CPU0*6 DMA_B CPU2*2");
    assert_eq!(ran(&t, "arm_smmu_mm_arch_invalidate_secondary_tlbs"), 1);
    let fill = t.steps.iter().position(|s| s.label.contains("B DMA")).unwrap();
    let flush = t.steps.iter().position(|s| s.function == "arm_smmu_mm_arch_invalidate_secondary_tlbs").unwrap();
    assert!(fill < flush);
    assert!(t.safety_violations().next().is_none(), "{:?}", t.violations);
    let entry = |i: usize| t.states[i].iotlb.iter().any(|e| e.tag == Tag::Asid(1) && e.iova == 0x1000);
    assert!(entry(fill) && !entry(flush), "the entry B's DMA filled is gone after the flush");
}

/// A stage-2 domain: the unmap invalidates by VMID (`TLBI_S2_IPA`), and a page mapped again
/// elsewhere is walked afresh.
#[test]
fn s2_unmap_invalidates_by_vmid_and_map_installs_a_new_page() {
    let json = r#"{
      "format": 1, "id": "s2-unmap", "title": "S2 unmap and map", "variant": "fix", "granularity": "mail",
      "page_tables": [ { "name": "PT_s", "map": [[4096, 40960]] } ],
      "domains": [ { "name": "s", "stage": "s2", "page_table": "PT_s", "id": 7 } ],
      "masters": [ { "name": "A", "domain": "s", "ssids": 1 } ],
      "threads": [ { "name": "CPU0", "calls": [
        { "fn": "unmap", "domain": "s", "iova": 4096 },
        { "fn": "map", "domain": "s", "iova": 4096, "pa": 49152 } ] } ],
      "dma": [ { "name": "DMA_A", "master": "A", "accesses": [[0, 4096], [0, 4096], [0, 4096]] } ]
    }"#;
    let s = smmu_sim::Scenario::from_json(json).unwrap();
    for v in Variant::ALL {
        for g in Granularity::ALL {
            let w = s.compile(v, g).unwrap();
            let t = run(&w, "DMA_A CPU0*2 DMA_A CPU0 DMA_A");
            assert!(t.safety_violations().next().is_none(), "{v} {g}: {:?}", t.violations);
            assert!(t.steps.iter().any(|s| s.label.contains("TLBI_S2_IPA")), "{v} {g}");
            let vmid =
                |i: usize| t.states[i].iotlb.iter().filter(|e| e.tag == Tag::Vmid(7)).map(|e| e.pa).collect::<Vec<_>>();
            let dmas: Vec<usize> = (0..t.steps.len()).filter(|&i| t.steps[i].function == "DMA").collect();
            assert_eq!(vmid(dmas[0]), vec![0xa000], "{v} {g}: the first DMA fills");
            assert_eq!(vmid(dmas[1]), Vec::<u64>::new(), "{v} {g}: unmapped and invalidated: a fault, no fill");
            assert_eq!(vmid(dmas[2]), vec![0xc000], "{v} {g}: the new mapping is walked");
        }
    }
    let bypass =
        json.replace(r#""stage": "s2", "page_table": "PT_s", "id": 7"#, r#""stage": "bypass", "page_table": "PT_s""#);
    let e = smmu_sim::Scenario::from_json(&bypass).unwrap().compile(Variant::Fix, Granularity::Mail).unwrap_err();
    assert!(e.message.contains("identity domain"), "{e}");
}

/// The default schedule is the window: A's second DMA hits the entry of the unmapped page.
#[test]
fn unmap_during_asid_change_default_schedule_shows_the_window() {
    for v in Variant::ALL {
        for g in Granularity::ALL {
            let (_, t) = run_default("unmap-during-asid-change", v, g);
            let (f, _) = first_step(&t, Invariant::Unmap);
            assert_eq!(f, "DMA", "{v} {g}");
            let unmap = t.violations.iter().find(|x| x.invariant == Invariant::Unmap).unwrap();
            assert!(unmap.message.contains("ASID 1") && unmap.message.contains("PT_z"), "{}", unmap.message);
            assert!(t.steps.iter().any(|s| s.function == "arm_smmu_tlb_inv_range_domain"), "{v} {g}");
        }
    }
}
