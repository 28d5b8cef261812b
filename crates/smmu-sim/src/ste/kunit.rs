//! The kernel's KUnit entry-writer vectors, run against the model's writer ([`super::writer`]).
//!
//! Source: `drivers/iommu/arm/arm-smmu-v3/arm-smmu-v3-test.c @1331fb664044` (suite
//! `arm-smmu-v3-kunit-test`; `test.c:N` below). Each vector is one
//! `arm_smmu_v3_test_{ste,cd}_expect_transition()` call (`test.c:116-150`, `test.c:400-434`):
//! the writer goes from `cur` to `target`, every sync is recorded, and the test expects
//!
//! - `invalid_entry_written == !hitless` (`test.c:147`), where a sync counts as an invalid
//!   entry written when qword 0 is 0 (`arm_smmu_test_writer_record_syncs()`, `test.c:72-73`);
//! - at every other sync, the entry restricted to the bits its current configuration uses equals
//!   the initial or the target entry (`test.c:74-90`; `arm_smmu_entry_differs_in_used_bits()`,
//!   `test.c:38-51`, compares the masked entry with the whole initial or target entry);
//! - the expected number of syncs, and memory equal to the target at the end (`test.c:148-149`).
//!
//! Each vector runs in two [`Era`]s: with the model's writer as pinned (71b0aa10b18d) and with
//! the used bits and disruptive step of the kernels the table was written for. Where the pinned
//! writer gives another result, the vector records it and the commit that explains it
//! ([`Deviation`]). The "update_safe" bits of 2781f2a930ab explain none: they came after the
//! table (the test's writer ops at 1331fb664044 have no `get_update_safe`).

use super::cd;
use super::layout::{self, Entry};
use super::writer::{phases, Disrupt, Writer};

mod vectors;

pub use vectors::vectors;

/// Which entry a vector writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A stream table entry (`test_ste_ops`).
    Ste,
    /// A context descriptor (`test_cd_ops`).
    Cd,
}

/// Which writer a vector runs against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Era {
    /// The model's writer as pinned: `arm_smmu_get_ste_used()` of 71b0aa10b18d, and a disruptive
    /// step that clears only V (`arm-smmu-v3.c:1144`). That commit has no used-bits CD writer;
    /// a CD keeps the later CD mask and has its own V cleared.
    Pinned,
    /// The used bits ([`layout::kunit_used`], [`cd::used`]) and the disruptive step (q0 = 0) of
    /// the kernels the KUnit table was written for.
    Kunit,
}

/// What a vector expects: the KUnit table's values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expect {
    /// No sync saw qword 0 equal to 0.
    pub hitless: bool,
    /// Number of syncs.
    pub syncs: u32,
}

/// A pinned-era result that differs from the table, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deviation {
    /// What the pinned writer gives.
    pub got: Expect,
    /// The syncs (1-based) at which the checker's rule fails.
    pub bad_syncs: &'static [u32],
    /// The commit (or pinned source line) that explains the difference.
    pub why: &'static str,
}

/// One transition of the KUnit suite.
#[derive(Clone, Debug)]
pub struct Vector {
    /// Short name, `from->to`.
    pub name: &'static str,
    /// The KUnit case that runs it.
    pub test: &'static str,
    /// The line of its `expect_*_transition()` call in `arm-smmu-v3-test.c @1331fb664044`.
    pub line: u32,
    /// STE or CD.
    pub kind: Kind,
    /// The initial entry.
    pub cur: Entry,
    /// The target entry.
    pub target: Entry,
    /// The table's values.
    pub expect: Expect,
    /// How the pinned writer differs, if it does.
    pub pinned: Option<Deviation>,
}

/// What running one vector gave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// No sync saw qword 0 equal to 0.
    pub hitless: bool,
    /// Number of syncs.
    pub syncs: u32,
    /// Memory equals the target at the end.
    pub reached_target: bool,
    /// The syncs (1-based) at which the checker's rule fails.
    pub bad_syncs: Vec<u32>,
}

impl Outcome {
    /// Every check of the KUnit test passes for these expectations.
    pub fn meets(&self, expect: Expect) -> bool {
        self.got() == expect && self.reached_target && self.bad_syncs.is_empty()
    }

    /// The hitless flag and sync count.
    pub fn got(&self) -> Expect {
        Expect { hitless: self.hitless, syncs: self.syncs }
    }
}

fn writer(kind: Kind, era: Era) -> Writer<8> {
    match (kind, era) {
        (Kind::Ste, Era::Pinned) => Writer { used: layout::pinned_used, disrupt: Disrupt::ClearBit(layout::STE_V) },
        (Kind::Ste, Era::Kunit) => Writer { used: layout::kunit_used, disrupt: Disrupt::Zero },
        (Kind::Cd, Era::Pinned) => Writer { used: cd::used, disrupt: Disrupt::ClearBit(cd::CD_V) },
        (Kind::Cd, Era::Kunit) => Writer { used: cd::used, disrupt: Disrupt::Zero },
    }
}

/// `arm_smmu_entry_differs_in_used_bits()`.
fn differs(entry: &Entry, used: &Entry, other: &Entry) -> bool {
    (0..8).any(|i| entry[i] & used[i] != other[i])
}

/// Runs `v` through the writer of `era`, phase by phase, applying the KUnit checker at every sync.
pub fn run(v: &Vector, era: Era) -> Outcome {
    let w = writer(v.kind, era);
    let mode = w.write_mode(&v.cur, &v.target);
    let mut out = Outcome { hitless: true, syncs: 0, reached_target: false, bad_syncs: Vec::new() };
    let mut entry = v.cur;
    for phase in 0..phases(mode) {
        let next = w.plan_phase(mode, phase, &entry, &v.target);
        if next == entry {
            continue;
        }
        entry = next;
        out.syncs += 1;
        if entry[0] == 0 {
            out.hitless = false;
        } else {
            let used = (w.used)(&entry);
            if differs(&entry, &used, &v.cur) && differs(&entry, &used, &v.target) {
                out.bad_syncs.push(out.syncs);
            }
        }
    }
    out.reached_target = entry == v.target;
    out
}
