//! Golden text traces. Run with `UPDATE_EXPECT=1` to rewrite them after an intended change.

mod common;

use common::*;
use expect_test::expect_file;
use smmu_sim::{trace, Granularity, Variant};

fn text(id: &str, v: Variant, g: Granularity) -> String {
    let (w, t) = run_default(id, v, g);
    trace::render(&w, &t)
}

#[test]
fn seed_race_pre_mail() {
    expect_file!["snapshots/seed-race-pre-mail.txt"].assert_eq(&text("seed-race", Variant::Pre, Granularity::Mail));
}

#[test]
fn seed_race_fix_mail() {
    expect_file!["snapshots/seed-race-fix-mail.txt"].assert_eq(&text("seed-race", Variant::Fix, Granularity::Mail));
}

#[test]
fn seed_race_pre_source() {
    let t = text("seed-race", Variant::Pre, Granularity::Source);
    expect_file!["snapshots/seed-race-pre-source.txt"].assert_eq(&t);
}

#[test]
fn release_race_fix_mail() {
    let t = text("release-race", Variant::Fix, Granularity::Mail);
    expect_file!["snapshots/release-race-fix-mail.txt"].assert_eq(&t);
}
