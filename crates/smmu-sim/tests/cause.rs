//! Causal chains: the steps whose writes a violated predicate reads, traced back.

mod common;

use common::*;
use smmu_sim::cause;
use smmu_sim::check::{Invariant, Object};
use smmu_sim::{builtin, diff, Granularity, Variant};

/// The thread's story of the seed race, derived from the trace: A leaves z's list (2),
/// share_asid's walk of z->devices skips CD_A[0] (7), the flush of ASID 1 (9), A's DMA
/// refills ASID 1 from PT_z (10), CD_B[1] installs ASID 1 (14), B's DMA hits the stale
/// entry (15).
#[test]
fn seed_race_dma_chain_is_the_threads_story() {
    let (w, t) = run_default("seed-race", Variant::Pre, Granularity::Mail);
    let v = t.violations.iter().find(|v| v.invariant == Invariant::Dma).expect("dma violated");
    let chain = cause::chain(&w, &t, v);
    for l in &chain {
        println!("{} {}: {}", l.step, t.steps[l.step].label, l.what);
    }
    let steps: Vec<usize> = chain.iter().map(|l| l.step).collect();
    assert_eq!(steps, [2, 7, 9, 10, 14, 15]);
    assert!(chain[0].what.contains("z->devices: [A] → []"), "{}", chain[0].what);
    assert!(chain[1].what.contains("skips the store to CD_A[0] (A is not on z->devices)"), "{}", chain[1].what);
    assert_eq!(t.steps[chain[1].step].function, "arm_smmu_update_ctx_desc_devices");
    assert!(chain[2].what.contains("flushes ASID 1"), "{}", chain[2].what);
    assert!(chain[3].what.contains("fill IOTLB ASID 1") && chain[3].what.contains("PT_z"), "{}", chain[3].what);
    assert!(chain[4].what.contains("CD_B[1]: invalid (TTB0 -) → V ASID 1 PT_P"), "{}", chain[4].what);
    assert!(chain[5].what.contains("dma broken"), "{}", chain[5].what);
}

#[test]
fn seed_race_chains_per_invariant() {
    let (w, t) = run_default("seed-race", Variant::Pre, Granularity::Mail);
    let chains = cause::chains(&w, &t);
    let of = |inv: Invariant| {
        let i = t.violations.iter().position(|v| v.invariant == inv).unwrap();
        chains[i].iter().map(|l| l.step).collect::<Vec<_>>()
    };
    assert_eq!(of(Invariant::Inv2), [2, 7, 9]);
    assert_eq!(of(Invariant::Inv1), [2, 7, 14]);
    assert_eq!(of(Invariant::Inv3), [2, 7, 9, 10, 14]);
}

/// The name `diff::changes` gives an object, to find the steps that changed it without
/// the chain's own bookkeeping.
fn change_name(w: &smmu_sim::World, o: Object) -> String {
    match o {
        Object::Ste(m) => format!("STE_{}", w.topo.master(m)),
        Object::Cd(m, s) => format!("CD_{}[{s}]", w.topo.master(m)),
        Object::Iotlb(..) => "IOTLB".into(),
        Object::Devices(d) => format!("{}->devices", w.topo.domain(d)),
    }
}

/// For every violation of every built-in's default schedule, in both variants and
/// granularities: the chain ends at the violating step, and for each object the violation
/// names, the last step at or before it that changed that object is on the chain.
#[test]
fn every_chain_holds_the_last_writer_of_what_the_predicate_reads() {
    let mut checked = 0;
    for id in builtin::ids() {
        for variant in Variant::ALL {
            for g in Granularity::ALL {
                let (w, t) = run_default(id, variant, g);
                let chains = cause::chains(&w, &t);
                for (v, chain) in t.violations.iter().zip(&chains) {
                    assert_eq!(chain.last().map(|l| l.step), Some(v.step), "{id} {variant} {g} {}", v.invariant.id());
                    for o in &v.objects {
                        let name = change_name(&w, *o);
                        let last = (0..=v.step).rev().find(|i| {
                            let c = diff::changes(&w, t.state_before(&w, *i), &t.states[*i]);
                            c.iter().any(|c| c.object == name)
                        });
                        if let Some(i) = last {
                            assert!(
                                chain.iter().any(|l| l.step == i),
                                "{id} {variant} {g} {}: {name} last changed at {i}, chain {chain:?}",
                                v.invariant.id()
                            );
                        }
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked > 10, "only {checked} violations checked");
}
