//! A DMA while a store to its STE or CD is pending: the two images it may go through.

use smmu_sim::exec::{self, Image, Readiness};
use smmu_sim::explore::{Explorer, Limits};
use smmu_sim::ids::ThreadId;
use smmu_sim::sched::{self, Schedule};
use smmu_sim::share::{self, Link};
use smmu_sim::state::State;
use smmu_sim::trace::{self, Note, Trace};
use smmu_sim::{builtin, check, Granularity, Variant, World};
use std::collections::{HashMap, HashSet};

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

/// Paths from a state to the end, and how many of them never violate a safety invariant,
/// every DMA with a pending store taken both ways.
fn paths(w: &World, s: &State, memo: &mut HashMap<State, (u128, u128)>) -> (u128, u128) {
    if let Some(n) = memo.get(s) {
        return *n;
    }
    let (mut all, mut clean) = (0, 0);
    let mut ready = false;
    for t in (0..w.n_threads()).map(|t| ThreadId(t as u8)) {
        if exec::readiness(w, s, t) != Readiness::Ready {
            continue;
        }
        ready = true;
        let images: &[Image] =
            if exec::two_images(w, s, t) { &[Image::Synced, Image::Memory] } else { &[Image::Synced] };
        for &image in images {
            let mut next = s.clone();
            let outcome = exec::step_image(w, &mut next, t, image, None);
            let mut found = Vec::new();
            check::after_step(w, &mut next, &outcome, 0, Some(&mut found));
            let (a, c) = paths(w, &next, memo);
            all += a;
            if !found.iter().any(|v| v.invariant.is_safety()) {
                clean += c;
            }
        }
    }
    let n = if ready { (all, clean) } else { (1, 1) };
    memo.insert(s.clone(), n);
    n
}

/// The explorer's counts are those of every path with both outcomes of each such DMA, found
/// here by a plain search over states that shares nothing with the explorer.
#[test]
fn the_explorer_counts_both_images_of_a_dma() {
    for (id, v) in [("unmap-during-asid-change", Variant::Pre), ("seed-race", Variant::V69)] {
        let w = builtin::get(id).unwrap().compile(v, Granularity::Source).unwrap();
        let (all, clean) = paths(&w, &w.initial, &mut HashMap::new());
        let s = Explorer::new(&w, Limits::default()).run();
        assert!(!s.limit_hit && !s.overflow);
        assert_eq!((s.interleavings, s.violating), (all, all - clean), "{id} {v}");
    }
}

/// A schedule whose DMA meets a pending store, the DMA marked for the memory image.
fn marked_run(w: &World) -> (Schedule, Trace) {
    for seed in 0..500 {
        let plain = sched::random(w, seed);
        let mut nth = vec![0u16; w.n_threads()];
        for &t in &plain.0 {
            let k = nth[t.ix()];
            nth[t.ix()] += 1;
            if !w.programs[t.ix()].device {
                continue;
            }
            let marked = Schedule(plain.0.clone(), [(t, k)].into());
            let trace = sched::run(w, &marked).unwrap();
            if trace.notes.is_empty() {
                return (marked, trace);
            }
        }
    }
    panic!("no random run of the seed race meets a pending store");
}

/// `DMA_A:mem` runs that DMA through the memory image; the mark reads back from the text,
/// the trace and a link, and a mark on a step with one outcome is noted and ignored.
#[test]
fn a_schedule_marks_a_dma_for_the_memory_image() {
    let scenario = builtin::get("seed-race").unwrap();
    let w = scenario.compile(Variant::Pre, Granularity::Source).unwrap();
    let (marked, trace) = marked_run(&w);
    let text = marked.to_names(&w);
    assert!(text.contains(":mem"), "{text}");
    assert_eq!(Schedule::parse(&text, &w), Ok(marked.clone()));
    assert_eq!(Schedule::parse(&marked.to_text(), &w), Ok(marked.clone()));
    assert_eq!(trace.schedule(), marked);
    assert!(trace::render(&w, &trace).contains("used the memory image (store pending)"));
    let plain = sched::run(&w, &Schedule::of(marked.0.clone())).unwrap();
    assert!(!trace::render(&w, &plain).contains("memory image"));
    let link = Link {
        scenario: scenario.clone(),
        variant: Variant::Pre,
        granularity: Granularity::Source,
        schedule: marked.clone(),
        cursor: None,
    };
    let code = share::encode(&link).unwrap();
    assert!(code.starts_with("v2."), "marks need the v2 layout");
    assert_eq!(share::decode(&code).unwrap().schedule, marked);
    // The same mark on CPU0's first step: not a DMA, so noted and ignored.
    let cpu = Schedule(marked.0.clone(), [(ThreadId(0), 0)].into());
    let ignored = sched::run(&w, &cpu).unwrap();
    assert_eq!(ignored.notes, vec![Note::NoMemoryImage { thread: ThreadId(0), step: 0 }]);
    assert_eq!(ignored.steps, plain.steps);
    assert!(matches!(Schedule::parse("CPU0:pending", &w), Err(e) if e.0.contains("only :mem")));
}
