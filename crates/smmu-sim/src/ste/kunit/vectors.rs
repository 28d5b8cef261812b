//! Every transition of `arm-smmu-v3-test.c @1331fb664044` with the expected hitless flag and
//! sync count of each call: a short name, the line of the call, and the KUnit case that makes it.
//! The entries are those the cases build: `arm_smmu_test_make_cdtable_ste()` (`test.c:170-188`)
//! on `fake_cdtab_dma_addr` (`test.c:168`), `arm_smmu_test_make_s2_ste()` (`test.c:295-320`),
//! the suite's bypass and abort STEs (`test.c:596-601`), `arm_smmu_test_make_s1_cd()`
//! (`test.c:452-475`) and the SVA CDs (`test.c:502-519`).

use super::{Deviation, Expect, Kind, Vector};
use crate::ste::cd;
use crate::ste::layout::{self, Entry, Feat, FAKE_CDTAB, FAKE_TTBR, S1DSS_BYPASS, S1DSS_SSID0};

const SHCFG_S1DSS: &str = "the KUnit-era mask reads SHCFG of an S1 STE with S1DSS=BYPASS; the pinned \
     arm_smmu_get_ste_used() (arm-smmu-v3.c:994-1004 @71b0aa10b18d) does not, so the entry's SHCFG \
     lies outside its used bits and matches neither end. Not ec9098d6bffe, which leaves the mask alone";
const SHCFG_DISRUPTS: &str = "the target's SHCFG lies outside the pinned S1 mask \
     (arm-smmu-v3.c:994-1004 @71b0aa10b18d), so q1 never matches and is a second critical qword \
     besides q0: the pinned writer goes disruptive, clears only V (arm-smmu-v3.c:1144), and no sync \
     matches either end. The KUnit-era mask reads SHCFG when S1DSS=BYPASS; not ec9098d6bffe, which \
     leaves the mask alone";
const S2S_STALL: &str = "ce7cb08e22e0 (\"Match Stall behaviour for S2\") sets S2S in the S2 STE of a \
     stalling master and adds it to the mask; the pinned mask (arm-smmu-v3.c:1007-1015 @71b0aa10b18d) \
     lacks it";
const S2S_AND_Q0: &str = "ce7cb08e22e0 (S2S, as above) makes q2 a second critical qword, so the pinned \
     writer goes disruptive; its disruptive step clears only V (arm-smmu-v3.c:1144 @71b0aa10b18d; \
     0493e739ccc6 only wraps it in cpu_to_le64), so qword 0 is never 0 and no sync counts as an \
     invalid entry; the KUnit-era writer stores q0 = 0";
const Q0_AND_SHCFG: &str = "the pinned disruptive step clears only V (arm-smmu-v3.c:1144 \
     @71b0aa10b18d), so qword 0 is never 0 and the V=0 entry matches neither end; the final entry \
     (S1DSS=BYPASS) also has SHCFG outside the pinned used bits";

fn h(syncs: u32) -> Expect {
    Expect { hitless: true, syncs }
}

fn n(syncs: u32) -> Expect {
    Expect { hitless: false, syncs }
}

fn dev(got: Expect, bad_syncs: &'static [u32], why: &'static str) -> Option<Deviation> {
    Some(Deviation { got, bad_syncs, why })
}

type Row = (&'static str, u32, &'static str, Entry, Entry, Expect, Option<Deviation>);

fn ste_rows() -> Vec<Row> {
    let (abort, bypass) = (layout::abort(), layout::bypass());
    let cdt = layout::cdtable(S1DSS_SSID0, FAKE_CDTAB, Feat::Ats);
    let dss = layout::cdtable(S1DSS_BYPASS, FAKE_CDTAB, Feat::Ats);
    let s2 = layout::s2(Feat::Ats);
    let (cdt_stall, s2_stall) = (layout::cdtable(S1DSS_SSID0, FAKE_CDTAB, Feat::Stall), layout::s2(Feat::Stall));
    let other = layout::cdtable(S1DSS_BYPASS, 0x4B_4B4B_4B4B, Feat::Ats);
    vec![
        ("bypass->abort", 198, "arm_smmu_v3_write_ste_test_bypass_to_abort", bypass, abort, h(2), None),
        ("abort->bypass", 209, "arm_smmu_v3_write_ste_test_abort_to_bypass", abort, bypass, h(2), None),
        ("cdtable->abort", 219, "arm_smmu_v3_write_ste_test_cdtable_to_abort", cdt, abort, h(2), None),
        ("abort->cdtable", 229, "arm_smmu_v3_write_ste_test_abort_to_cdtable", abort, cdt, h(2), None),
        ("cdtable->bypass", 239, "arm_smmu_v3_write_ste_test_cdtable_to_bypass", cdt, bypass, h(3), None),
        ("bypass->cdtable", 249, "arm_smmu_v3_write_ste_test_bypass_to_cdtable", bypass, cdt, h(3), None),
        (
            "s1dss-ssid0->s1dss-bypass",
            267,
            "arm_smmu_v3_write_ste_test_cdtable_s1dss_change",
            cdt,
            dss,
            h(1),
            dev(h(1), &[1], SHCFG_S1DSS),
        ),
        ("s1dss-bypass->s1dss-ssid0", 269, "arm_smmu_v3_write_ste_test_cdtable_s1dss_change", dss, cdt, h(1), None),
        (
            "s1dss-bypass->ste-bypass",
            280,
            "arm_smmu_v3_write_ste_test_s1dssbypass_to_stebypass",
            dss,
            bypass,
            h(2),
            None,
        ),
        (
            "ste-bypass->s1dss-bypass",
            291,
            "arm_smmu_v3_write_ste_test_stebypass_to_s1dssbypass",
            bypass,
            dss,
            h(2),
            dev(h(3), &[1, 2, 3], SHCFG_DISRUPTS),
        ),
        ("s2->abort", 327, "arm_smmu_v3_write_ste_test_s2_to_abort", s2, abort, h(2), None),
        ("abort->s2", 336, "arm_smmu_v3_write_ste_test_abort_to_s2", abort, s2, h(2), None),
        ("s2->bypass", 345, "arm_smmu_v3_write_ste_test_s2_to_bypass", s2, bypass, h(2), None),
        ("bypass->s2", 354, "arm_smmu_v3_write_ste_test_bypass_to_s2", bypass, s2, h(2), None),
        ("s1->s2", 366, "arm_smmu_v3_write_ste_test_s1_to_s2", cdt, s2, h(3), None),
        ("s2->s1", 378, "arm_smmu_v3_write_ste_test_s2_to_s1", s2, cdt, h(3), None),
        (
            "cdtable->other-cdtable-and-s1dss",
            396,
            "arm_smmu_v3_write_ste_test_non_hitless",
            cdt,
            other,
            n(3),
            dev(h(3), &[1, 2, 3], Q0_AND_SHCFG),
        ),
        (
            "s1->s2 (stall)",
            529,
            "arm_smmu_v3_write_ste_test_s1_to_s2_stall",
            cdt_stall,
            s2_stall,
            h(3),
            dev(h(3), &[1, 2, 3], S2S_AND_Q0),
        ),
        (
            "s2->s1 (stall)",
            541,
            "arm_smmu_v3_write_ste_test_s2_to_s1_stall",
            s2_stall,
            cdt_stall,
            h(3),
            dev(h(3), &[1], S2S_STALL),
        ),
    ]
}

fn cd_rows() -> Vec<Row> {
    let zero = [0; 8];
    let (s1_1997, s1_778) = (cd::s1(1997), cd::s1(778));
    let (sva, release) = (cd::sva(Some(FAKE_TTBR), 1997), cd::sva(None, 1997));
    vec![
        ("cd-0->s1-cd", 483, "arm_smmu_v3_write_cd_test_s1_clear", zero, s1_1997, n(2), None),
        ("s1-cd->cd-0", 485, "arm_smmu_v3_write_cd_test_s1_clear", s1_1997, zero, n(2), None),
        ("s1-cd-asid-778->1997", 496, "arm_smmu_v3_write_cd_test_s1_change_asid", s1_778, s1_1997, h(1), None),
        ("s1-cd-asid-1997->778", 498, "arm_smmu_v3_write_cd_test_s1_change_asid", s1_1997, s1_778, h(1), None),
        ("cd-0->sva-cd", 551, "arm_smmu_v3_write_cd_test_sva_clear", zero, sva, n(2), None),
        ("sva-cd->cd-0", 553, "arm_smmu_v3_write_cd_test_sva_clear", sva, zero, n(2), None),
        ("sva-cd->sva-release-cd", 564, "arm_smmu_v3_write_cd_test_sva_release", sva, release, h(2), None),
        ("sva-release-cd->sva-cd", 566, "arm_smmu_v3_write_cd_test_sva_release", release, sva, h(2), None),
    ]
}

fn vector(kind: Kind, (name, line, test, cur, target, expect, pinned): Row) -> Vector {
    Vector { name, test, line, kind, cur, target, expect, pinned }
}

/// Every transition of the suite: the STE cases, then the CD cases (the suite interleaves the
/// two stall cases with the CD ones; the order here groups by entry kind).
pub fn vectors() -> Vec<Vector> {
    let stes = ste_rows().into_iter().map(|r| vector(Kind::Ste, r));
    stes.chain(cd_rows().into_iter().map(|r| vector(Kind::Cd, r))).collect()
}
