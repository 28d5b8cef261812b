//! Where a moved block really lands, and why when that is not where it was dropped.
//!
//! A drop or a key asks for a schedule edit ([`smmu_sim::view::move_block`]); the scheduler
//! then runs it, and the step may land elsewhere: its thread's later steps keep their order
//! after it, so a step moved later can only pass the other threads' steps that are there, and
//! a step that meets a held lock waits until it is free. The page previews the landing while
//! dragging and says why in words, naming the lock and its holder.

use smmu_sim::sched::{self, Schedule};
use smmu_sim::trace::Trace;
use smmu_sim::view::{self, Block};
use smmu_sim::World;

/// Where a move lands.
#[derive(Clone, Debug)]
pub struct Landing {
    /// The edited schedule.
    pub schedule: Schedule,
    /// The column the user asked for.
    pub asked: usize,
    /// The column the block runs at.
    pub at: usize,
    /// Why `at` differs from `asked`, in words; `None` when it lands where asked.
    pub why: Option<String>,
    /// Whether the edited schedule differs from the current run's.
    pub changes: bool,
}

/// The landing of moving the block `block` (of `blocks`, run by `trace`) with `edit`.
pub fn land(world: &World, trace: &Trace, block: &Block, asked: usize, edit: (Schedule, usize)) -> Option<Landing> {
    let (schedule, _) = edit;
    let run = sched::run(world, &schedule).ok()?;
    let blocks = view::blocks(world, &run);
    let moved = blocks.iter().find(|b| b.lane == block.lane && b.nth == block.nth)?;
    let at = moved.index;
    let why = (at != asked).then(|| reason(world, block, moved, asked));
    // An edit that asks for another order is applied even when the run comes out the same
    // (a deferred step runs where it did), so the intent the user expressed is kept.
    let changes = schedule != trace.schedule();
    Some(Landing { schedule, asked, at, why, changes })
}

/// Why `moved` runs at its column rather than `asked`.
fn reason(world: &World, before: &Block, moved: &Block, asked: usize) -> String {
    let lane = view::thread_name(world, smmu_sim::ids::ThreadId(u8::try_from(before.lane).unwrap_or(u8::MAX)));
    let head = format!("{lane}'s {} runs at step {}, not {asked}", moved.function, moved.index);
    if let Some((_, why)) = &moved.waited {
        return format!("{head}: it {why}");
    }
    if moved.index < asked {
        format!("{head}: its thread's later steps keep their order after it, and no more steps of other threads can run before it there")
    } else {
        format!("{head}: its thread's earlier steps, or a lock another thread holds, must come first")
    }
}

/// The blocks of other lanes whose column changed between two runs (by lane and position in
/// the lane): what a move pushed along, for the page to highlight.
pub fn shifted(before: &[Block], after: &[Block], lane: usize) -> Vec<usize> {
    after
        .iter()
        .filter(|b| b.lane != lane)
        .filter(|b| before.iter().find(|o| o.lane == b.lane && o.nth == b.nth).is_none_or(|o| o.index != b.index))
        .map(|b| b.index)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use smmu_sim::{builtin, Granularity, Variant};

    fn seed() -> (World, Trace) {
        let sc = builtin::get("seed-race").unwrap();
        let w = sc.compile(Variant::Pre, Granularity::Mail).unwrap();
        let text = sc.default_schedule(Variant::Pre, Granularity::Mail).unwrap().to_string();
        let t = sched::run(&w, &Schedule::parse(&text, &w).unwrap()).unwrap();
        (w, t)
    }

    #[test]
    fn dropping_the_flush_later_says_why_it_lands_earlier() {
        let (w, t) = seed();
        let blocks = view::blocks(&w, &t);
        let flush = blocks.iter().find(|b| b.label.contains("tlb_inv_asid")).unwrap();
        let asked = 16;
        let edit = view::move_block(&t.schedule(), flush.index, asked);
        let l = land(&w, &t, flush, asked, edit).unwrap();
        assert!(l.at < asked, "{l:?}");
        let why = l.why.unwrap();
        assert!(why.starts_with(&format!("CPU1's arm_smmu_share_asid runs at step {}, not 16", l.at)), "{why}");
        assert!(why.contains("later steps keep their order"), "{why}");
    }

    #[test]
    fn a_step_that_meets_a_held_lock_names_it_and_its_holder() {
        let sc = builtin::get("seed-race").unwrap();
        let w = sc.compile(Variant::Fix, Granularity::Mail).unwrap();
        let t = sched::run(&w, &Schedule::parse("CPU0*6", &w).unwrap()).unwrap();
        let blocks = view::blocks(&w, &t);
        // CPU1's first step that takes arm_smmu_asid_lock, moved right after CPU0 took it.
        let lock = blocks.iter().find(|b| b.lane == 1 && b.label.contains("arm_smmu_asid_lock")).unwrap();
        let edit = view::move_block(&t.schedule(), lock.index, 7);
        let l = land(&w, &t, lock, 7, edit).unwrap();
        let why = l.why.unwrap_or_default();
        assert!(why.contains("arm_smmu_asid_lock") && why.contains("CPU0"), "{why}");
    }

    #[test]
    fn shifted_names_only_other_lanes_that_moved() {
        let (w, t) = seed();
        let before = view::blocks(&w, &t);
        let first = before.iter().find(|b| b.lane == 1).unwrap();
        let edit = view::move_block(&t.schedule(), first.index, before.len() - 1);
        let after = view::blocks(&w, &sched::run(&w, &edit.0).unwrap());
        let s = shifted(&before, &after, 1);
        assert!(!s.is_empty() && s.iter().all(|&i| after[i].lane != 1), "{s:?}");
    }
}
