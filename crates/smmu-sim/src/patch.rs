//! Patches: ordered edits to the step scripts of one base variant.
//!
//! An edit names a kernel function and steps of it by *anchor*, `part#n`: the n-th run of the
//! function's own steps with that part name (`asid_lock#1`), or the n-th call it makes to a
//! function (`arm_smmu_detach_dev#1`), counted in the unpatched script. Positions are
//! `before A` (on every path into A: branches that land at A run the moved step too),
//! `after A` (on the path out of A only: a branch landing right after A skips it) and `end`
//! (the end of the fall-through path: early returns skip it).
//!
//! Edits apply inside [`crate::kernel::Builder::func`] each time the function is emitted, so
//! an edit to a function applies wherever it is called. A step that a particular call does
//! not emit (the CD write of an S2 attach) leaves the edits naming it with nothing to do
//! there; [`check`] refuses anchors that no script of the variant has. A patched driver that
//! deadlocks or leaves a lock unbalanced is a verdict of the checker, not an error here.

mod apply;
mod bracket;
mod catalogue;
pub mod find;
pub mod presets;
pub mod script;
mod text;

pub(crate) use apply::{apply, units, Call};
pub(crate) use bracket::{Body, Emission};
pub use catalogue::{catalogue, check, Catalogue, StepInfo};
pub use text::{diff, parse, print};

use crate::variant::Variant;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The part name of an inserted step.
pub const INSERTED: &str = "patch";

/// Edits per patch.
pub const MAX_EDITS: usize = 32;
/// Bytes of a patch's text (edit lines, diff and headers).
pub const MAX_PATCH_TEXT: usize = 64 * 1024;
/// Highest occurrence number an anchor may give (`part#64`).
pub const MAX_OCCURRENCE: u16 = 64;
/// Characters in a function or part name.
pub const MAX_IDENT: usize = 64;

/// A unit of an emitted function, as [`crate::kernel::Builder::recorded`] lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnitInfo {
    /// The function.
    pub func: &'static str,
    /// Its anchor.
    pub anchor: Anchor,
    /// The label of its first step.
    pub label: String,
    /// When the unit is one lock or unlock step: (acquire, which lock).
    pub lock: Option<(bool, LockName)>,
}

/// A patch on one variant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Patch {
    /// The variant whose scripts the edits change; other variants run unpatched.
    pub base: Variant,
    /// The edits, applied in order.
    pub edits: Vec<Edit>,
}

/// A step (or call) of a function, named as in the unpatched script.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Anchor {
    /// The part name (`asid_lock`) or the called function's name.
    pub part: String,
    /// Which run of it, from 1.
    pub n: u16,
}

/// Where an edit puts a step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Pos {
    /// Right before the anchor, after any branch landing there.
    Before(Anchor),
    /// Right after the anchor, before any branch landing there.
    After(Anchor),
    /// At the end of the function's fall-through path.
    End,
}

/// A lock an inserted step takes or releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LockName {
    /// `arm_smmu_asid_lock`.
    Asid,
    /// `sva_lock`.
    Sva,
    /// `devices_lock` of the domain detach found (`old`).
    OldDevices,
    /// `devices_lock` of the call's domain.
    Devices,
    /// `init_mutex` of the call's domain.
    Init,
    /// The iommu core's `group->mutex` of the call's master.
    Group,
}

impl LockName {
    /// Every lock, in the order `patch steps` lists them.
    pub const ALL: [LockName; 6] =
        [LockName::Asid, LockName::Sva, LockName::OldDevices, LockName::Devices, LockName::Init, LockName::Group];

    /// The name in edit lines.
    pub fn id(self) -> &'static str {
        match self {
            LockName::Asid => "arm_smmu_asid_lock",
            LockName::Sva => "sva_lock",
            LockName::OldDevices => "old->devices_lock",
            LockName::Devices => "domain->devices_lock",
            LockName::Init => "domain->init_mutex",
            LockName::Group => "group->mutex",
        }
    }

    /// The lock a script's lock step names.
    pub fn of(arg: crate::program::LockArg) -> LockName {
        use crate::program::{DomArg, LockArg};
        match arg {
            LockArg::Asid => LockName::Asid,
            LockArg::Sva => LockName::Sva,
            LockArg::Devices(DomArg::Old) => LockName::OldDevices,
            LockArg::Devices(_) => LockName::Devices,
            LockArg::Init(_) => LockName::Init,
            LockArg::Group(_) => LockName::Group,
        }
    }

    /// Whether it is a spinlock (taken with irqsave) rather than a mutex.
    pub fn spin(self) -> bool {
        matches!(self, LockName::OldDevices | LockName::Devices)
    }
}

/// One edit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Edit {
    /// Move a step to another position in its function.
    Move {
        /// The function.
        func: String,
        /// The step.
        step: Anchor,
        /// Where to.
        to: Pos,
    },
    /// Delete a step.
    Delete {
        /// The function.
        func: String,
        /// The step.
        step: Anchor,
    },
    /// Swap two steps.
    Swap {
        /// The function.
        func: String,
        /// One step.
        a: Anchor,
        /// The other.
        b: Anchor,
    },
    /// Insert a lock or unlock.
    Insert {
        /// The function.
        func: String,
        /// Take (`lock`) or release (`unlock`).
        acquire: bool,
        /// Which lock.
        lock: LockName,
        /// Where.
        at: Pos,
    },
}

impl Edit {
    /// The function it edits.
    pub fn func(&self) -> &str {
        match self {
            Edit::Move { func, .. }
            | Edit::Delete { func, .. }
            | Edit::Swap { func, .. }
            | Edit::Insert { func, .. } => func,
        }
    }

    /// The anchors it names, subject first.
    pub fn anchors(&self) -> Vec<&Anchor> {
        fn pos(p: &Pos) -> Vec<&Anchor> {
            match p {
                Pos::Before(a) | Pos::After(a) => vec![a],
                Pos::End => Vec::new(),
            }
        }
        match self {
            Edit::Move { step, to, .. } => [vec![step], pos(to)].concat(),
            Edit::Delete { step, .. } => vec![step],
            Edit::Swap { a, b, .. } => vec![a, b],
            Edit::Insert { at, .. } => pos(at),
        }
    }
}

impl fmt::Display for Anchor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}#{}", self.part, self.n)
    }
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pos::Before(a) => write!(f, "before {a}"),
            Pos::After(a) => write!(f, "after {a}"),
            Pos::End => f.write_str("end"),
        }
    }
}

impl fmt::Display for Edit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Edit::Move { func, step, to } => write!(f, "move {func} {step} {to}"),
            Edit::Delete { func, step } => write!(f, "delete {func} {step}"),
            Edit::Swap { func, a, b } => write!(f, "swap {func} {a} {b}"),
            Edit::Insert { func, acquire, lock, at } => {
                write!(f, "insert {func} {} {} {at}", if *acquire { "lock" } else { "unlock" }, lock.id())
            }
        }
    }
}

fn ident(word: &str, what: &str) -> Result<String, String> {
    let ok = !word.is_empty()
        && word.len() <= MAX_IDENT
        && word.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.');
    if ok {
        Ok(word.to_string())
    } else {
        Err(format!("{what} {word:?} is not a name (letters, digits and _, at most {MAX_IDENT})"))
    }
}

impl FromStr for Anchor {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (part, n) = s.split_once('#').ok_or_else(|| format!("step {s:?} is not part#n (asid_lock#1)"))?;
        let n: u16 = n.parse().map_err(|_| format!("step {s:?}: {n:?} is not a number"))?;
        if n == 0 || n > MAX_OCCURRENCE {
            return Err(format!("step {s:?}: the occurrence must be 1..={MAX_OCCURRENCE}"));
        }
        Ok(Anchor { part: ident(part, "step")?, n })
    }
}

fn pos(words: &[&str]) -> Result<Pos, String> {
    match words {
        ["end"] => Ok(Pos::End),
        ["before", a] => Ok(Pos::Before(a.parse()?)),
        ["after", a] => Ok(Pos::After(a.parse()?)),
        _ => Err(format!("{:?} is not a position (before A, after A or end)", words.join(" "))),
    }
}

impl FromStr for LockName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        LockName::ALL.into_iter().find(|l| l.id() == s).ok_or_else(|| {
            let names: Vec<_> = LockName::ALL.iter().map(|l| l.id()).collect();
            format!("{s:?} is not a lock the model has ({})", names.join(", "))
        })
    }
}

impl FromStr for Edit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let w: Vec<&str> = s.split_whitespace().collect();
        let func = || ident(w.get(1).copied().unwrap_or(""), "function");
        match w.as_slice() {
            ["move", _, step, rest @ ..] => Ok(Edit::Move { func: func()?, step: step.parse()?, to: pos(rest)? }),
            ["delete", _, step] => Ok(Edit::Delete { func: func()?, step: step.parse()? }),
            ["swap", _, a, b] => Ok(Edit::Swap { func: func()?, a: a.parse()?, b: b.parse()? }),
            ["insert", _, op @ ("lock" | "unlock"), lock, rest @ ..] => {
                Ok(Edit::Insert { func: func()?, acquire: *op == "lock", lock: lock.parse()?, at: pos(rest)? })
            }
            _ => Err(format!(
                "{s:?} is not an edit: move F A before|after B|end, delete F A, swap F A B, \
                 insert F lock|unlock LOCK before|after B|end"
            )),
        }
    }
}

impl TryFrom<String> for Edit {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Edit> for String {
    fn from(e: Edit) -> String {
        e.to_string()
    }
}

impl Patch {
    /// Checks the counts; anchors are checked against the scripts by [`check`].
    pub fn check_limits(&self) -> Result<(), String> {
        if self.edits.len() > MAX_EDITS {
            return Err(format!("the patch has {} edits; the limit is {MAX_EDITS}", self.edits.len()));
        }
        Ok(())
    }

    /// The edits to function `name`, in order, with their numbers from 1.
    pub fn edits_of<'a>(&'a self, name: &'a str) -> impl Iterator<Item = (usize, &'a Edit)> + 'a {
        self.edits.iter().enumerate().filter(move |(_, e)| e.func() == name).map(|(i, e)| (i + 1, e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_lines_round_trip() {
        for line in [
            "move arm_smmu_attach_dev arm_smmu_detach_dev#1 before set_domain#1",
            "delete arm_smmu_attach_dev asid_lock#1",
            "swap arm_smmu_attach_dev list_add#1 arm_smmu_write_ctx_desc#1",
            "insert arm_smmu_attach_dev unlock arm_smmu_asid_lock end",
            "insert arm_smmu_attach_dev lock old->devices_lock after enable_ats#2",
        ] {
            let e: Edit = line.parse().unwrap();
            assert_eq!(e.to_string(), line);
        }
    }

    #[test]
    fn bad_edit_lines_say_why() {
        for (line, says) in [
            ("move f a#1 sideways b#1", "not a position"),
            ("delete f a", "not part#n"),
            ("delete f a#0", "1..=64"),
            ("delete f a#65", "1..=64"),
            ("insert f lock big_lock end", "not a lock"),
            ("delete f\u{0} a#1", "not a name"),
            ("frobnicate", "not an edit"),
        ] {
            let err = line.parse::<Edit>().unwrap_err();
            assert!(err.contains(says), "{line}: {err}");
        }
    }
}
