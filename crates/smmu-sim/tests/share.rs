//! Permalinks and mail text: round trips, frozen test vectors, corrupted input, snapshots.

mod common;

use common::*;
use expect_test::expect_file;
use proptest::prelude::*;
use smmu_sim::sched::{self, Schedule};
use smmu_sim::share::{self, Link, LinkError};
use smmu_sim::{builtin, mail, Granularity, Variant};

fn link_for(id: &str, v: Variant, g: Granularity, seed: u64) -> Link {
    let scenario = builtin::get(id).unwrap();
    let w = scenario.compile(v, g).unwrap();
    let schedule = sched::random(&w, seed);
    let cursor = seed.is_multiple_of(3).then_some(seed as u32 % 40);
    Link { scenario, variant: v, granularity: g, schedule, cursor }
}

#[test]
fn builtins_and_1000_random_schedules_round_trip() {
    let mut n = 0;
    for id in builtin::ids() {
        for v in Variant::ALL {
            for g in Granularity::ALL {
                for seed in 0..84 {
                    let link = link_for(id, v, g, seed);
                    assert_eq!(share::decode(&share::encode(&link).unwrap()).unwrap(), link, "{id} {v} {g} {seed}");
                    n += 1;
                }
            }
        }
    }
    assert!(n >= 1000);
}

#[test]
fn seed_race_with_a_custom_schedule_fits_in_300_characters() {
    let link = link_for("seed-race", Variant::Pre, Granularity::Source, 7);
    let text = share::encode(&link).unwrap();
    assert!(text.len() <= 300, "{} chars", text.len());
    assert!(text.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
}

#[test]
fn whole_urls_and_embed_fragments_decode() {
    let link = link_for("seed-race", Variant::Fix, Granularity::Mail, 1);
    let code = share::encode(&link).unwrap();
    for text in [format!("http://127.0.0.1:8080/#{code}"), format!("#embed/{code}"), code.clone()] {
        assert_eq!(share::decode(&text).unwrap(), link);
    }
}

/// Links written by earlier builds: each line is `name<TAB>link`. Never edit or delete a line;
/// append new vectors when the format gains a version.
#[test]
fn old_links_keep_opening() {
    let vectors = include_str!("vectors/links-v1.txt");
    let mut n = 0;
    for line in vectors.lines().filter(|l| !l.trim().is_empty()) {
        let (name, code) = line.split_once('\t').unwrap();
        let link = share::decode(code).unwrap_or_else(|e| panic!("{name}: {e}"));
        let w = link.scenario.compile(link.variant, link.granularity).unwrap();
        let t = sched::run(&w, &link.schedule).expect("the schedule runs");
        assert!(!t.steps.is_empty(), "{name}");
        n += 1;
    }
    assert!(n >= 3);
}

/// v2 links written by this build (a master's iommu group) keep opening with their group.
#[test]
fn v2_links_keep_opening() {
    for line in include_str!("vectors/links-v2.txt").lines().filter(|l| !l.trim().is_empty()) {
        let (name, code) = line.split_once('\t').unwrap();
        assert!(code.starts_with("v2."), "{name}");
        let link = share::decode(code).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(link.scenario.masters[0].iommu_group.as_deref(), Some("g0"), "{name}");
        let w = link.scenario.compile(link.variant, link.granularity).unwrap();
        assert!(!sched::run(&w, &link.schedule).expect("the schedule runs").steps.is_empty(), "{name}");
    }
}

/// Patched links: v2 from the first builds of patch mode, v3 since; both carry the 9f7c6891
/// preset on pre, and a patched link is written as v3 now.
#[test]
fn patched_links_keep_opening_and_are_written_as_v3() {
    let preset = smmu_sim::patch::presets::get("9f7c6891").unwrap().patch();
    let mut versions = Vec::new();
    for line in include_str!("vectors/links-patch.txt").lines().filter(|l| !l.trim().is_empty()) {
        let (name, code) = line.split_once('\t').unwrap();
        let link = share::decode(code).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(link.scenario.patch.as_ref(), Some(&preset), "{name}");
        let w = link.scenario.compile(link.variant, link.granularity).unwrap();
        let t = sched::run(&w, &link.schedule).expect("the schedule runs");
        assert_eq!(t.safety_violations().count(), 0, "{name}: the patched driver holds on the race");
        assert_eq!(
            link.scenario.title,
            builtin::get("seed-race").unwrap().title,
            "{name}: a patch is not a custom scenario"
        );
        versions.push(&code[..3]);
        assert_eq!(share::encode(&link).unwrap()[..3], *"v3.", "{name}");
    }
    assert_eq!(versions, ["v2.", "v3."]);
}

#[test]
fn newer_and_malformed_links_are_errors() {
    assert!(matches!(share::decode("v9.AAAA"), Err(LinkError::Newer(9))));
    for bad in ["", "#", "v1.", "v1.!!!", "x1.AAAA", "v0.AAAA", "vx.AAAA", "v1.AAAA", "hello"] {
        assert!(matches!(share::decode(bad), Err(LinkError::Damaged(_))), "{bad:?}");
    }
    let msg = share::decode("v6.AAAA").unwrap_err().to_string();
    assert!(msg.contains("newer version"), "{msg}");
}

/// A link that needs nothing v1 lacks is written as v1, so older builds open it; one with an
/// iommu group is written as v2 and keeps the group.
#[test]
fn links_use_the_oldest_version_that_carries_them() {
    let plain = link_for("seed-race", Variant::Pre, Granularity::Mail, 1);
    assert!(share::encode(&plain).unwrap().starts_with("v1."));
    let mut grouped = plain.clone();
    grouped.scenario.masters[0].iommu_group = Some("g0".into());
    grouped.scenario.masters[1].iommu_group = Some("g0".into());
    let code = share::encode(&grouped).unwrap();
    assert!(code.starts_with("v2."), "{code}");
    let back = share::decode(&code).unwrap();
    assert_eq!(back.scenario.masters[0].iommu_group.as_deref(), Some("g0"));
    assert_eq!(back.scenario.masters[1].iommu_group.as_deref(), Some("g0"));
    assert_eq!(back.scenario.masters, grouped.scenario.masters);
}

/// Mutations travel in a v2 extension record: a mutated built-in comes back as itself (prose,
/// expected verdicts and all), and a scenario that drops or adds a mutation is custom.
#[test]
fn mutations_travel_in_v2_links() {
    use smmu_sim::scenario::Mutation;
    let swapped = link_for("list-before-cd-swapped", Variant::Pre, Granularity::Mail, 2);
    let code = share::encode(&swapped).unwrap();
    assert!(code.starts_with("v2."), "{code}");
    let back = share::decode(&code).unwrap();
    assert_eq!(back.scenario.mutations, [Mutation::CdBeforeList]);
    assert_eq!(back, swapped, "the built-in's title, group and expectations come back");
    let mut dropped = swapped.clone();
    dropped.scenario.mutations.clear();
    let back = share::decode(&share::encode(&dropped).unwrap()).unwrap();
    assert!(back.scenario.title.ends_with("(custom)") && back.scenario.expect.is_none(), "{}", back.scenario.title);
    let mut added = link_for("seed-race", Variant::Fix, Granularity::Source, 3);
    added.scenario.mutations = vec![Mutation::VmidFreeBeforeFlush, Mutation::NoCdClear];
    let back = share::decode(&share::encode(&added).unwrap()).unwrap();
    assert_eq!(back.scenario.mutations, added.scenario.mutations);
    assert!(back.scenario.title.ends_with("(custom)"));
}

/// A v2 link with a mutation record, as this build first wrote it: never edit it.
#[test]
fn a_frozen_v2_link_with_mutations_keeps_opening() {
    let link = share::decode(FROZEN_MUTATED).expect("opens");
    assert_eq!(link.scenario.id, "stale-cd-reuse");
    assert_eq!(link.scenario.mutations, [smmu_sim::scenario::Mutation::NoCdClear]);
    assert!(link.scenario.expect.is_some(), "recognised as the built-in");
}

const FROZEN_MUTATED: &str = "v2.JYo7DkBAFEXffUhU1mADEluYjFaioBZhOpVPMapZmqVYisu85p2cc4v9mFZXzUu1uXN3uaZdP14IZbh_9B8-KopLYgK8xKIKA3pG-1n-1HZDDaH3mjWtGQ1RQvmz5YwskiikAGe8Fw";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Flipped bytes and truncation never panic; the result is an error or a link.
    #[test]
    fn corrupted_links_never_panic(seed in 0u64..50, pos in 0usize..400, byte in 0u8..128, cut in 0usize..400) {
        let code = share::encode(&link_for("seed-race", Variant::Pre, Granularity::Mail, seed)).unwrap();
        let mut bytes = code.into_bytes();
        let at = pos % bytes.len();
        bytes[at] = byte;
        let flipped = String::from_utf8_lossy(&bytes).to_string();
        let _ = share::decode(&flipped);
        let truncated: String = flipped.chars().take(cut).collect();
        let _ = share::decode(&truncated);
    }

    /// Arbitrary payloads behind a valid prefix never panic (huge lengths included).
    #[test]
    fn arbitrary_payloads_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..600)) {
        use base64::Engine as _;
        let packed = miniz_oxide::deflate::compress_to_vec(&payload, 6);
        let _ = share::decode(&format!("v1.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&packed)));
        let _ = share::decode(&format!("v1.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&payload)));
    }
}

#[test]
fn seed_race_mail_text() {
    let (w, t) = run_default("seed-race", Variant::Pre, Granularity::Mail);
    let text = mail::render(&w, &t, Some("http://127.0.0.1:8080/#v1.example"));
    for line in text.lines().filter(|l| !l.starts_with("Link: ")) {
        assert!(line.chars().count() <= mail::WIDTH, "too wide: {line}");
        assert!(line.is_ascii(), "not ASCII: {line}");
    }
    assert!(text.contains("Why dma broke at step 15:"), "{text}");
    expect_file!["snapshots/seed-race-pre-mail.mail.txt"].assert_eq(&text);
}

#[test]
fn schedules_in_links_replay_the_same_trace() {
    let link = link_for("release-race", Variant::Fix, Granularity::Source, 3);
    let back = share::decode(&share::encode(&link).unwrap()).unwrap();
    let w = back.scenario.compile(back.variant, back.granularity).unwrap();
    let w0 = link.scenario.compile(link.variant, link.granularity).unwrap();
    assert_eq!(
        sched::run(&w, &back.schedule).expect("the schedule runs").states,
        sched::run(&w0, &link.schedule).expect("the schedule runs").states
    );
    assert_eq!(Schedule::parse(&back.schedule.to_text(), &w).unwrap(), back.schedule);
}

/// A whole mail, as pasted from a reply, opens through its `Link:` line.
#[test]
fn pasted_mail_text_opens_through_its_link_line() {
    let (w, t) = run_default("seed-race", Variant::Pre, Granularity::Mail);
    let link = Link {
        scenario: builtin::get("seed-race").unwrap(),
        variant: Variant::Pre,
        granularity: Granularity::Mail,
        schedule: t.schedule(),
        cursor: None,
    };
    let url = format!("http://127.0.0.1:8080/#{}", share::encode(&link).unwrap());
    let text = format!("> quoted reply\n{}\n", mail::render(&w, &t, Some(&url)));
    assert_eq!(share::decode(&text).unwrap(), link);
}

/// A lane that only walks travels in a v2 extension record; without one the link stays v1.
#[test]
fn a_walk_only_lane_travels_in_a_v2_link() {
    let mut link = link_for("seed-race", Variant::Pre, Granularity::Mail, 1);
    assert!(share::encode(&link).unwrap().starts_with("v1."));
    link.scenario.dma[0].walk_only = true;
    let code = share::encode(&link).unwrap();
    assert!(code.starts_with("v2."), "{code}");
    let back = share::decode(&code).unwrap();
    assert!(back.scenario.dma[0].walk_only && !back.scenario.dma[1].walk_only);
    assert_eq!(back.schedule, link.schedule);
}

/// A lane's SMMU fetches travel in a v5 link (a v4 build says "newer"), and a link naming a
/// fetch this build does not know, or a lane that is not there, is damaged.
#[test]
fn a_lane_s_fetches_travel_in_a_v5_link() {
    let link = link_for("ste-fetch", Variant::V69, Granularity::Source, 5);
    let code = share::encode(&link).unwrap();
    assert!(code.starts_with("v5."), "{code}");
    let back = share::decode(&code).unwrap();
    assert_eq!(back, link);
    use smmu_sim::scenario::FetchSpec;
    assert_eq!(back.scenario.dma[1].fetches, [FetchSpec::Ste, FetchSpec::Cd(0)]);
    let mut plain = link_for("seed-race", Variant::Pre, Granularity::Mail, 1);
    assert!(share::encode(&plain).unwrap().starts_with("v1."), "no fetch, no new version");
    plain.scenario.dma[0].fetches = vec![FetchSpec::Cd(1); smmu_sim::limits::MAX_ACCESSES + 1];
    assert!(share::encode(&plain).is_err() || share::decode(&share::encode(&plain).unwrap()).is_err());
}

/// A scenario made in the editor carries its title, in a v4 link (a v3 build says "newer");
/// one without a title of its own is written as before and opens titled by its id.
#[test]
fn an_edited_scenario_keeps_its_title_in_a_v4_link() {
    for line in include_str!("vectors/links-v4.txt").lines().filter(|l| !l.trim().is_empty()) {
        let (name, code) = line.split_once('\t').unwrap();
        assert!(code.starts_with("v4."), "{name}");
        let link = share::decode(code).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(link.scenario.title, "Two masters, a bind and an attach", "{name}");
        assert_eq!(share::encode(&link).unwrap(), code, "{name}: written the same way");
        let w = link.scenario.compile(link.variant, link.granularity).unwrap();
        assert!(!sched::run(&w, &link.schedule).expect("the schedule runs").steps.is_empty(), "{name}");
    }
    let mut s = builtin::get("seed-race").unwrap();
    s.id = "custom".into();
    s.title = "custom (custom)".into();
    let link = Link {
        scenario: s,
        variant: Variant::Pre,
        granularity: Granularity::Mail,
        schedule: Default::default(),
        cursor: None,
    };
    let code = share::encode(&link).unwrap();
    assert!(code.starts_with("v1."), "{code}");
    assert_eq!(share::decode(&code).unwrap().scenario.title, "custom (custom)");
    // A built-in's own title never travels: it comes from the build.
    let seed = Link { scenario: builtin::get("seed-race").unwrap(), ..link };
    assert!(share::encode(&seed).unwrap().starts_with("v1."));
}
