//! Undo and redo of the user's edits to the run: moves, loaded schedules, Reset, the fix
//! switch and the kernel radio. A snapshot is what those edits change: variant, schedule
//! and cursor. Choosing another scenario or granularity starts a new history, since the
//! schedules of one world mean nothing in another.

use smmu_sim::sched::Schedule;
use smmu_sim::Variant;

/// Most edits kept for undo; the oldest go first.
pub const MAX_UNDO: usize = 100;

/// What an edit changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// Kernel variant.
    pub variant: Variant,
    /// The user's schedule.
    pub intent: Schedule,
    /// The cursor.
    pub cursor: Option<usize>,
}

/// The undo and redo stacks, newest last.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct History {
    undo: Vec<Snapshot>,
    redo: Vec<Snapshot>,
}

impl History {
    /// Records the state before an edit; a new edit forgets what could be redone.
    pub fn record(&mut self, before: Snapshot) {
        if self.undo.len() == MAX_UNDO {
            self.undo.remove(0);
        }
        self.undo.push(before);
        self.redo.clear();
    }

    /// The snapshot to go back to, with `now` kept for redo.
    pub fn undo(&mut self, now: Snapshot) -> Option<Snapshot> {
        let back = self.undo.pop()?;
        self.redo.push(now);
        Some(back)
    }

    /// The snapshot to go forward to, with `now` kept for undo.
    pub fn redo(&mut self, now: Snapshot) -> Option<Snapshot> {
        let forward = self.redo.pop()?;
        self.undo.push(now);
        Some(forward)
    }

    /// Whether there is an edit to undo.
    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    /// Whether there is an edit to redo.
    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(c: usize) -> Snapshot {
        Snapshot { variant: Variant::Pre, intent: Schedule::default(), cursor: Some(c) }
    }

    #[test]
    fn undo_redo_and_a_new_edit_forgets_the_redo() {
        let mut h = History::default();
        h.record(at(0));
        h.record(at(1));
        assert_eq!(h.undo(at(2)), Some(at(1)));
        assert_eq!(h.redo(at(1)), Some(at(2)));
        assert_eq!(h.undo(at(2)), Some(at(1)));
        h.record(at(1));
        assert!(!h.can_redo());
        for c in 0..MAX_UNDO + 5 {
            h.record(at(c));
        }
        let mut n = 0;
        while h.undo(at(0)).is_some() {
            n += 1;
        }
        assert_eq!(n, MAX_UNDO);
    }
}
