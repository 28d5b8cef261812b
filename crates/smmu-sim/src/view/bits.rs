//! The bit view: one master's STE at a step, qword by qword and field by field, with the bits
//! its configuration uses, the bits the step changed, and what an SMMU fetch there read.

use crate::exec::Fetch;
use crate::ids::MasterId;
use crate::ste::{field_mask, Ste, FIELDS};
use crate::trace::Trace;
use crate::world::World;

/// One field of a qword.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Field {
    /// `Config`, `S2TTB`, ...
    pub name: &'static str,
    /// Lowest and highest bit in the qword.
    pub bits: (u8, u8),
    /// Its value, shifted down.
    pub value: u64,
    /// The configuration in memory uses it (`arm_smmu_get_ste_used()`).
    pub used: bool,
    /// The step changed it in memory.
    pub changed: bool,
}

/// One qword.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Qword {
    /// 0..3.
    pub index: u8,
    /// In memory after the step.
    pub memory: u64,
    /// Stored but not yet synced: the SMMU's cached copy may still be `synced`.
    pub synced: Option<u64>,
    /// Its fields, low bits first.
    pub fields: Vec<Field>,
    /// What a fetch at this step read of it, and whether it was pending (either value).
    pub read: Option<(u64, bool)>,
}

/// The STE of one master at one step.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bits {
    /// `STE_A`.
    pub object: String,
    /// The memory image in words.
    pub meaning: String,
    /// The qwords.
    pub qwords: Vec<Qword>,
    /// An SMMU fetch of this STE at this step: what it read, in words, and whether it broke
    /// the `torn` rule.
    pub fetch: Option<(String, bool)>,
}

/// The master to show first at a step: the one a fetch there read, else one whose STE the
/// step changed, else the first.
pub fn default_master(world: &World, trace: &Trace, cursor: Option<usize>) -> MasterId {
    let step = cursor.and_then(|c| trace.steps.get(c));
    let fetched = step.and_then(|s| s.outcome.fetch).map(|f| f.master);
    let changed = cursor.and_then(|c| {
        let before = trace.state_before(world, c);
        let after = trace.states.get(c)?;
        let m = (0..after.masters.len()).find(|&i| before.masters[i].ste != after.masters[i].ste)?;
        MasterId::from_index(m)
    });
    fetched.or(changed).unwrap_or(MasterId(0))
}

/// Master `m`'s STE after step `cursor` (the initial state without one).
pub fn ste_bits(world: &World, trace: &Trace, cursor: Option<usize>, m: MasterId) -> Option<Bits> {
    let after = cursor.map_or(Some(&world.initial), |c| trace.states.get(c))?;
    let before = cursor.map_or(&world.initial, |c| trace.state_before(world, c));
    let slot = after.masters.get(m.ix())?.ste;
    let was = before.masters.get(m.ix())?.ste.mem;
    let fetch = cursor.and_then(|c| trace.steps.get(c)).and_then(|s| s.outcome.fetch).filter(|f| f.master == m);
    let used = slot.mem.used();
    let qwords = (0..4u8).map(|q| qword(q, &slot.mem, &slot.hw, &was, &used, fetch.as_ref())).collect();
    Some(Bits {
        object: format!("STE_{}", world.topo.master(m)),
        meaning: crate::diff::ste_text(world, slot.mem.config()),
        qwords,
        fetch: fetch.map(|f| (crate::trace::fetch_text(world, &f), f.read.fault.is_some())),
    })
}

fn qword(q: u8, mem: &Ste, hw: &Ste, was: &Ste, used: &Ste, fetch: Option<&Fetch>) -> Qword {
    let i = usize::from(q);
    let fields = FIELDS.iter().filter(|f| f.0 == q).map(|&(_, name, lo, hi)| {
        let mask = field_mask(lo, hi);
        Field {
            name,
            bits: (lo, hi),
            value: (mem.0[i] & mask) >> lo,
            used: used.0[i] & mask != 0,
            changed: (mem.0[i] ^ was.0[i]) & mask != 0,
        }
    });
    Qword {
        index: q,
        memory: mem.0[i],
        synced: (hw.0[i] != mem.0[i]).then_some(hw.0[i]),
        fields: fields.collect(),
        read: fetch.map(|f| (f.read.entry.0[i], f.read.pending >> q & 1 != 0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{builtin, Granularity, Variant};

    /// The fields cover every bit the used-bits function can name, and no two overlap.
    #[test]
    fn fields_cover_the_used_bits() {
        let mut all = [0u64; 4];
        for &(q, _, lo, hi) in FIELDS {
            let m = field_mask(lo, hi);
            assert_eq!(all[usize::from(q)] & m, 0, "overlap at q{q} {lo}..{hi}");
            all[usize::from(q)] |= m;
        }
        let (a, b) = (crate::ids::MasterId(0), crate::ids::PtId(0));
        for ste in [Ste::abort(), Ste::bypass(), Ste::cdtable(a, true), Ste::s2(1, b, true)] {
            let used = ste.used();
            assert!((0..4).all(|i| used.0[i] & !all[i] == 0), "{ste:?}");
            assert!((0..4).all(|i| ste.0[i] & !all[i] == 0), "{ste:?}");
        }
    }

    /// At the fetch of the default schedule, the view shows what it read, q0 pending, and the
    /// Config field changed by the store just before.
    #[test]
    fn a_fetch_shows_its_read_and_the_pending_qword() {
        let s = builtin::get("ste-fetch").unwrap();
        let w = s.compile(Variant::Pre, Granularity::Source).unwrap();
        let text = s.default_schedule(Variant::Pre, Granularity::Source).unwrap();
        let t = crate::sched::run(&w, &crate::sched::Schedule::parse(text, &w).unwrap()).unwrap();
        let at = t.steps.iter().position(|s| s.outcome.fetch.is_some()).unwrap();
        assert_eq!(default_master(&w, &t, Some(at)), MasterId(0));
        let b = ste_bits(&w, &t, Some(at), MasterId(0)).unwrap();
        assert_eq!(b.object, "STE_A");
        assert!(b.fetch.as_ref().is_some_and(|(_, torn)| !torn));
        assert_eq!(b.qwords[0].read.map(|r| r.1), Some(true), "q0 is pending");
        assert_eq!(b.qwords[1].read.map(|r| r.1), Some(false));
        let store = ste_bits(&w, &t, Some(at - 1), MasterId(0)).unwrap();
        let config = store.qwords[0].fields.iter().find(|f| f.name == "Config").unwrap();
        assert!(config.changed && config.used && config.value == 6, "{config:?}");
        assert_eq!(store.qwords[0].synced.map(|v| v & 0b1110), Some(0), "the SMMU may still use abort");
    }
}
