//! Every KUnit vector of `arm-smmu-v3-test.c @1331fb664044` against the model's used-bits writer:
//! the hitless flag, the number of syncs, memory equal to the target at the end, and the KUnit
//! checker's rule at every sync (qword 0 is 0, or the entry restricted to its used bits equals
//! the initial or the target entry). With the KUnit-era masks every vector meets the table; with
//! the pinned ones (71b0aa10b18d) the vectors that differ say what they give and which commit
//! explains it.

use smmu_sim::ste::kunit::{self, Era, Kind};
use smmu_sim::ste::{cd, layout};

#[test]
fn the_suite_has_every_transition() {
    let v = kunit::vectors();
    assert_eq!(v.iter().filter(|v| v.kind == Kind::Ste).count(), 19);
    assert_eq!(v.iter().filter(|v| v.kind == Kind::Cd).count(), 8);
    let cases: std::collections::BTreeSet<_> = v.iter().map(|v| v.test).collect();
    assert_eq!(cases.len(), 22, "one per KUnit case");
    let lines: std::collections::BTreeSet<_> = v.iter().map(|v| v.line).collect();
    assert_eq!(lines.len(), 27, "one call each");
}

#[test]
fn every_vector_meets_the_table_with_the_kunit_era_writer() {
    for v in kunit::vectors() {
        let o = kunit::run(&v, Era::Kunit);
        assert!(o.meets(v.expect), "{}: {o:?}, table {:?}", v.name, v.expect);
    }
}

#[test]
fn the_pinned_writer_meets_the_table_or_says_why_not() {
    for v in kunit::vectors() {
        let o = kunit::run(&v, Era::Pinned);
        assert!(o.reached_target, "{}", v.name);
        match v.pinned {
            None => assert!(o.meets(v.expect), "{}: {o:?}, table {:?}", v.name, v.expect),
            Some(d) => {
                assert!(!o.meets(v.expect), "{}: recorded as differing but meets the table", v.name);
                assert_eq!((o.got(), o.bad_syncs.as_slice()), (d.got, d.bad_syncs), "{}", v.name);
            }
        }
    }
}

#[test]
fn exactly_the_stall_s1dss_and_non_hitless_ste_vectors_differ_when_pinned() {
    let differ: Vec<_> = kunit::vectors().into_iter().filter(|v| v.pinned.is_some()).map(|v| v.name).collect();
    assert_eq!(
        differ,
        [
            "s1dss-ssid0->s1dss-bypass",
            "ste-bypass->s1dss-bypass",
            "cdtable->other-cdtable-and-s1dss",
            "s1->s2 (stall)",
            "s2->s1 (stall)"
        ]
    );
}

/// `arm_smmu_entry_qword_diff()` warns when a constructor sets a bit its used function does not
/// list; the KUnit-era masks cover every bit the constructors set.
#[test]
fn constructors_set_only_used_bits() {
    for v in kunit::vectors() {
        for e in [v.cur, v.target] {
            let used = match v.kind {
                Kind::Ste => layout::kunit_used(&e),
                Kind::Cd => cd::used(&e),
            };
            assert!((0..8).all(|i| e[i] & !used[i] == 0), "{}: {e:x?}", v.name);
        }
    }
}

#[test]
fn the_sva_release_cd_ignores_ttb0() {
    let release = cd::sva(None, 1997);
    assert_ne!(release[0] & cd::EPD0, 0);
    assert_eq!(cd::used(&release)[1] & 0x000f_ffff_ffff_fff0, 0, "TTB0 is IGNORED with EPD0");
    assert_eq!(cd::used(&cd::s1(1)), [u64::MAX; 8]);
    assert_eq!(cd::used(&[0; 8]), [cd::CD_V, 0, 0, 0, 0, 0, 0, 0]);
}
