//! `--patch` and `smmu-sim patch` end to end: presets, a patch file read back, the link
//! that carries it, and one clear line with exit 2 for a bad patch.

use std::process::{Command, Output};

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smmu-sim")).args(args).output().expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn the_fix_preset_closes_the_seed_race() {
    assert_eq!(sim(&["explore", "seed-race", "--variant", "pre"]).status.code(), Some(1));
    let o = sim(&["explore", "seed-race", "--patch", "9f7c6891"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn a_shown_patch_reads_back_from_a_file() {
    let shown = stdout(&sim(&["patch", "show", "9f7c6891"]));
    assert!(shown.contains("@@ -") && shown.contains("+mutex_unlock(&arm_smmu_asid_lock)  /* inserted */"), "{shown}");
    let dir = std::env::temp_dir().join(format!("smmu-patch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("fix.patch");
    std::fs::write(&file, &shown).unwrap();
    let o = sim(&["explore", "seed-race", "--patch", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn the_link_carries_the_patch() {
    let code = stdout(&sim(&["link", "seed-race", "--patch", "lock-after-detach"]));
    let json = stdout(&sim(&["import", code.trim()]));
    assert!(json.contains("move arm_smmu_attach_dev asid_lock#1 after arm_smmu_detach_dev#1"), "{json}");
}

#[test]
fn the_mail_text_has_the_diff() {
    let text = stdout(&sim(&["export", "seed-race", "--patch", "9f7c6891"]));
    assert!(text.contains("A diff of the model's step scripts"), "{text}");
}

#[test]
fn bad_patches_give_one_line_and_exit_2() {
    let dir = std::env::temp_dir().join(format!("smmu-badpatch-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (text, says) in [
        ("Base: pre\nEdits:\n  delete arm_smmu_attach_dev asid_lock#7\n", "has no step asid_lock#7"),
        ("Base: pre\nEdits:\n  twist arm_smmu_attach_dev\n", "line 3"),
        ("hello", "starts with a line `Base:"),
    ] {
        let file = dir.join("bad.patch");
        std::fs::write(&file, text).unwrap();
        let o = sim(&["check", "seed-race", "--patch", file.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{text}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(says), "{err}");
    }
    let o = sim(&["check", "seed-race", "--patch", "no-such-preset"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("presets: 9f7c6891"));
}
