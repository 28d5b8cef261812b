//! A function's script as a patch shows it: the unpatched units in order, with a function's
//! edits applied to the list (moves, deletions, swaps, inserted lock steps). This is the view
//! of the edits, not of the branches; [`super::apply`] is what runs.

use super::{Anchor, Edit, LockName, Patch, Pos, UnitInfo};

/// One line of a patched script.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Row {
    /// An unpatched unit (possibly moved), with the label of its first step.
    Base(Anchor, String),
    /// An inserted lock step: (acquire, lock, the number of its edit from 1).
    Inserted(bool, LockName, usize),
}

impl Row {
    /// The anchor of a base row.
    pub fn anchor(&self) -> Option<&Anchor> {
        match self {
            Row::Base(a, _) => Some(a),
            Row::Inserted(..) => None,
        }
    }
}

/// The script of `func` (whose unpatched units are `units`, in order) under `patch`.
pub fn rows(units: &[UnitInfo], func: &str, patch: Option<&Patch>) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    for u in units.iter().filter(|u| u.func == func) {
        if !rows.iter().any(|r| r.anchor() == Some(&u.anchor)) {
            rows.push(Row::Base(u.anchor.clone(), u.label.clone()));
        }
    }
    let Some(patch) = patch else { return rows };
    for (n, e) in patch.edits_of(func) {
        edit(&mut rows, n, e);
    }
    rows
}

fn find(rows: &[Row], a: &Anchor) -> Option<usize> {
    rows.iter().position(|r| r.anchor() == Some(a))
}

fn place(rows: &[Row], pos: &Pos) -> Option<usize> {
    match pos {
        Pos::End => Some(rows.len()),
        Pos::Before(a) => find(rows, a),
        Pos::After(a) => find(rows, a).map(|i| i + 1),
    }
}

fn edit(rows: &mut Vec<Row>, n: usize, e: &Edit) {
    match e {
        Edit::Delete { step, .. } => {
            if let Some(i) = find(rows, step) {
                rows.remove(i);
            }
        }
        Edit::Move { step, to, .. } => {
            if let Some(i) = find(rows, step).filter(|_| place(rows, to).is_some()) {
                let row = rows.remove(i);
                let j = place(rows, to).unwrap_or(rows.len());
                rows.insert(j, row);
            }
        }
        Edit::Swap { a, b, .. } => {
            if let (Some(i), Some(j)) = (find(rows, a), find(rows, b)) {
                rows.swap(i, j);
            }
        }
        Edit::Insert { acquire, lock, at, .. } => {
            if let Some(j) = place(rows, at) {
                rows.insert(j, Row::Inserted(*acquire, *lock, n));
            }
        }
    }
}

/// The patch with `edit` appended (a new patch on `base` when there is none).
pub fn with_edit(patch: Option<&Patch>, base: crate::Variant, edit: Edit) -> Patch {
    let mut p = patch.cloned().filter(|p| p.base == base).unwrap_or(Patch { base, edits: Vec::new() });
    p.edits.push(edit);
    p
}

/// The patch without its edit number `n` (from 1); `None` when no edit is left.
pub fn without_edit(patch: &Patch, n: usize) -> Option<Patch> {
    let mut p = patch.clone();
    if n >= 1 && n <= p.edits.len() {
        p.edits.remove(n - 1);
    }
    (!p.edits.is_empty()).then_some(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::patch::presets;
    use crate::{builtin, Granularity, Variant};

    #[test]
    fn the_fix_preset_reads_as_the_fix_script() {
        let s = builtin::get("seed-race").unwrap();
        let units = s.units(Variant::Pre, Granularity::Mail).unwrap();
        let fix = presets::get("9f7c6891").unwrap().patch();
        let rows = rows(&units, "arm_smmu_attach_dev", Some(&fix));
        let names: Vec<String> = rows
            .iter()
            .map(|r| match r {
                Row::Base(a, _) => a.to_string(),
                Row::Inserted(acquire, l, _) => format!("{} {}", if *acquire { "lock" } else { "unlock" }, l.id()),
            })
            .collect();
        let want = "init_mutex_lock#1 finalise#1 arm_smmu_domain_finalise#1 init_mutex_unlock#1 finalise_fail#1 \
                    lock arm_smmu_asid_lock arm_smmu_detach_dev#1 set_domain#1 list_add#1 cd_alloc#1 \
                    arm_smmu_write_ctx_desc#1 arm_smmu_install_ste_for_dev#1 enable_ats#1 unlock arm_smmu_asid_lock";
        assert_eq!(names.join(" "), format!("sva_check#1 {want}"));
    }
}
