//! The SMMU as an actor: fetches of STEs and a CD, placed by the explorer between every two of
//! the driver's steps, and the `torn` rule that judges what they read.

mod common;

use common::{count, explore, run, run_default, world};
use smmu_sim::check::Invariant;
use smmu_sim::{Granularity, Variant};

/// Steps of the one CPU thread of a fetch scenario.
fn cpu_steps(id: &str, v: Variant, g: Granularity) -> u128 {
    let w = world(id, v, g);
    let t = run(&w, "CPU0*500");
    t.steps.iter().filter(|s| s.thread.0 == 0).count() as u128
}

/// Every position of the three fetches is explored: one CPU thread of `n` steps, a lane of one
/// fetch and a lane of two interleave in exactly (n + 3)! / (n! 2!) = (n + 1)(n + 2)(n + 3) / 2
/// ways, and the real writers never let the SMMU read a torn STE or CD in any of them.
#[test]
fn the_kernel_writer_never_tears_at_any_fetch_position() {
    for v in Variant::ALL {
        for g in Granularity::ALL {
            let n = cpu_steps("ste-fetch", v, g);
            let s = explore(&world("ste-fetch", v, g));
            assert_eq!(s.interleavings, (n + 1) * (n + 2) * (n + 3) / 2, "{v} {g}: every fetch position");
            assert_eq!(count(&s, Invariant::Torn), 0, "{v} {g}");
            assert_eq!(s.violating, 0, "{v} {g}");
        }
    }
}

/// The writer that stores q0 first tears at `source` granularity in every variant, from the
/// fetches between its first store and its last sync; at `mail` an install is one step.
#[test]
fn the_q0_first_writer_tears_only_where_a_fetch_fits_between_its_stores() {
    for v in Variant::ALL {
        let mail = explore(&world("ste-fetch-q0-first", v, Granularity::Mail));
        assert_eq!(mail.violating, 0, "{v} mail");
        let source = explore(&world("ste-fetch-q0-first", v, Granularity::Source));
        let torn = count(&source, Invariant::Torn);
        assert!(torn > 0 && torn == source.violating, "{v}: torn {torn} of {}", source.violating);
        assert!(torn < source.interleavings, "{v}: a fetch before or after the update is fine");
    }
}

/// The CD writer that stores q0 before TTB0 tears B's CD at `source` granularity in every
/// variant, and only the CD: the STEs read clean.
#[test]
fn the_q0_first_cd_writer_tears_the_cd() {
    for v in Variant::ALL {
        assert_eq!(explore(&world("cd-fetch-q0-first", v, Granularity::Mail)).violating, 0, "{v} mail");
        let source = explore(&world("cd-fetch-q0-first", v, Granularity::Source));
        assert!(count(&source, Invariant::Torn) > 0, "{v}");
        let (_, t) = run_default("cd-fetch-q0-first", v, Granularity::Source);
        let torn: Vec<_> = t.violations.iter().filter(|x| x.invariant == Invariant::Torn).collect();
        assert_eq!(torn.len(), 1, "{v}: only the CD fetch");
        assert!(torn[0].message.starts_with("the SMMU read CD_B[0] as V ASID"), "{}", torn[0].message);
    }
}

/// The default schedule puts each fetch right after the store that makes its master's STE
/// S2, before that store's sync: the real writer's read is clean there and names the qword
/// still pending; the q0-first writer's read is torn and the message shows what it read.
#[test]
fn a_fetch_between_a_store_and_its_sync_shows_what_the_smmu_read() {
    let (_, t) = run_default("ste-fetch", Variant::Pre, Granularity::Source);
    let fetch = t.steps.iter().find_map(|s| s.outcome.fetch).expect("a fetch");
    assert_eq!(fetch.read.pending, 1, "q0 is stored and not yet synced");
    assert!(fetch.read.fault.is_none());
    assert!(t.violations.iter().all(|v| v.invariant != Invariant::Torn));
    let (_, t) = run_default("ste-fetch-q0-first", Variant::Pre, Granularity::Source);
    let torn: Vec<_> = t.violations.iter().filter(|v| v.invariant == Invariant::Torn).collect();
    assert_eq!(torn.len(), 1, "A's fetch reads a torn STE (B's is read before B's update)");
    assert!(torn[0].message.contains("STE_A as 0x000000000000000d 0x0000000000000000"), "{}", torn[0].message);
    assert!(torn[0].message.contains("neither the STE before the write nor its target"), "{}", torn[0].message);
}

/// Why the `dma_wmb()` of 6fabce53f6b9 cannot change a verdict in the model: among the STEs
/// one master's slot can hold (its own CD table; S2 domains with distinct VMIDs, since a VMID
/// stays with its domain until the domain is freed, after its masters have left), an update
/// that makes a pointer (`S1ContextPtr`, `S2TTB`) live goes through V=0 or stores and syncs
/// another qword first, and that CMD_SYNC orders the stores before it. The one shape the
/// commit is about, S2TTB changed under the same VMID, would be hitless with nothing synced
/// before the critical store; no scenario can reach it (the README says so).
#[test]
fn every_pointer_an_update_makes_live_follows_a_sync() {
    use smmu_sim::ids::{MasterId, PtId};
    use smmu_sim::ste::{field_mask, plan_phase, write_mode, Ste, WriteMode};
    let pointers = [(0usize, field_mask(6, 51)), (3, field_mask(4, 51))];
    let unsynced_pointer = |cur: &Ste, target: &Ste| {
        let mode = write_mode(cur, target);
        let WriteMode::Hitless { critical } = mode else { return false };
        let (q, used) = (usize::from(critical), target.used());
        let live = pointers.iter().any(|&(p, m)| p == q && used.0[q] & m != 0 && (cur.0[q] ^ target.0[q]) & m != 0);
        live && plan_phase(mode, 0, cur, target) == *cur
    };
    let mut entries = vec![Ste::abort(), Ste::bypass()];
    for ats in [false, true] {
        entries.extend([Ste::cdtable(MasterId(0), ats), Ste::s2(1, PtId(0), ats), Ste::s2(2, PtId(1), ats)]);
    }
    let mut hitless = 0;
    for cur in &entries {
        for target in &entries {
            hitless += usize::from(matches!(write_mode(cur, target), WriteMode::Hitless { .. }));
            assert!(
                !unsynced_pointer(cur, target),
                "{cur:?} -> {target:?}: a pointer made live with no sync before it"
            );
        }
    }
    assert!(hitless >= 10, "{hitless} hitless transitions checked");
    assert!(unsynced_pointer(&Ste::s2(1, PtId(0), false), &Ste::s2(1, PtId(1), false)), "the commit's shape");
}
