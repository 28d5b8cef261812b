//! A DMA while a store to its STE or CD is pending: the two images it may go through.

use smmu_sim::exec::{self, Image, Readiness};
use smmu_sim::ids::ThreadId;
use smmu_sim::state::State;
use smmu_sim::{builtin, trace, Granularity, Variant, World};
use std::collections::HashSet;

/// Every reachable state of a world with every ready thread, by depth-first search.
fn each_step(w: &World, mut f: impl FnMut(&State, ThreadId)) {
    let mut seen = HashSet::new();
    let mut stack = vec![w.initial.clone()];
    while let Some(s) = stack.pop() {
        if !seen.insert(s.clone()) {
            continue;
        }
        for t in (0..w.n_threads()).map(|t| ThreadId(t as u8)) {
            if exec::readiness(w, &s, t) == Readiness::Ready {
                f(&s, t);
                let mut next = s.clone();
                exec::step(w, &mut next, t);
                stack.push(next);
            }
        }
    }
}

/// At `source` granularity the seed race reaches DMAs whose memory image routes them
/// elsewhere than the synced one; both images are steps, and the trace text says which.
#[test]
fn a_pending_store_gives_a_dma_two_outcomes_at_source_granularity() {
    for v in Variant::ALL {
        let w = builtin::get("seed-race").unwrap().compile(v, Granularity::Source).unwrap();
        let mut two = 0;
        each_step(&w, |s, t| {
            let (mut a, mut b) = (s.clone(), s.clone());
            let synced = exec::step_image(&w, &mut a, t, Image::Synced, None);
            let memory = exec::step_image(&w, &mut b, t, Image::Memory, None);
            if !exec::two_images(&w, s, t) {
                assert_eq!((a, synced.dma.map(|d| d.result)), (b, memory.dma.map(|d| d.result)), "{v}");
                return;
            }
            two += 1;
            let (d, m) = (synced.dma.unwrap(), memory.dma.unwrap());
            assert_ne!(d.result, m.result, "{v}: the images route the DMA differently");
            assert!(!trace::access_text(&w, &d).contains("memory image"));
            assert!(trace::access_text(&w, &m).ends_with("used the memory image (store pending)"));
        });
        assert!(two > 0, "{v}: some DMA meets a pending store");
    }
}

/// At `mail` granularity every store is synced with its write: no DMA has two outcomes.
#[test]
fn no_dma_has_two_outcomes_at_mail_granularity() {
    for id in ["seed-race", "release-race"] {
        for v in Variant::ALL {
            let w = builtin::get(id).unwrap().compile(v, Granularity::Mail).unwrap();
            each_step(&w, |s, t| assert!(!exec::two_images(&w, s, t), "{id} {v}"));
        }
    }
}
