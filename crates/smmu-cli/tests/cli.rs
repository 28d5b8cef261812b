//! The `smmu-sim` binary end to end: outputs, JSON shape and exit codes (0 clean, 1 violated,
//! 2 bad input with one line on stderr, 3 an exploration that stopped at a bound without
//! finding a violation).

use std::process::{Command, Output};

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smmu-sim")).args(args).output().expect("runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn assert_usage_error(args: &[&str], needle: &str) {
    let o = sim(args);
    assert_eq!(o.status.code(), Some(2), "{args:?}");
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line: {err}");
    assert!(err.contains(needle), "{args:?}: {err}");
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    assert_usage_error(&["check", "no-such-scenario"], "unknown scenario 'no-such-scenario'");
    assert_usage_error(&["check", "seed-race", "--schedule", "CPU7"], "unknown thread 'CPU7'");
    assert_usage_error(&["check", "seed-race", "--variant", "v7"], "unknown variant 'v7'");
    assert_usage_error(&["check", "seed-race", "--granularity", "fine"], "unknown granularity");
    assert_usage_error(&["check", "seed-race", "--frobnicate"], "--frobnicate");
    assert_usage_error(&["import", "v1.####"], "damaged");
    assert_usage_error(&["import", "v9.AAAA"], "newer version");
    assert_usage_error(&["export", "seed-race", "--format", "pdf"], "unknown format");
    let dir = std::env::temp_dir().join(format!("smmu-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.json");
    std::fs::write(&bad, "{ \"format\": 1, ").unwrap();
    assert_usage_error(&["check", bad.to_str().unwrap()], "scenario JSON");
}

#[test]
fn check_exits_1_on_violation_and_0_when_clean() {
    let pre = sim(&["check", "seed-race"]);
    assert_eq!(pre.status.code(), Some(1));
    assert!(stdout(&pre).contains("verdict: VIOLATED: inv1 at step 14, inv2 at step 9"));
    let fix = sim(&["check", "seed-race", "--variant", "fix"]);
    assert_eq!(fix.status.code(), Some(0));
    assert!(stdout(&fix).contains("verdict: no safety invariant violated"));
}

#[test]
fn explore_json_reports_counts_as_decimal_strings() {
    let o = sim(&["explore", "seed-race", "--variant", "pre", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["scenario"], "seed-race");
    assert_eq!(v["interleavings"], "534628728");
    assert_eq!(v["violating_interleavings"], "57320550");
    for inv in ["inv1", "inv2", "inv3", "dma"] {
        assert_ne!(v["violations_by_invariant"][inv], "0", "{inv}");
    }
    let ce = &v["counterexample"];
    assert!(ce["schedule"].is_string());
    assert!(ce["steps"][0]["function"].is_string());
    assert!(ce["violations"][0]["invariant"].is_string());
    let fix = sim(&["explore", "seed-race", "--variant", "fix", "--json"]);
    assert_eq!(fix.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&fix.stdout).unwrap();
    assert_eq!(v["violating_interleavings"], "0");
    assert!(v["counterexample"].is_null());
}

#[test]
fn explore_reduce_keeps_the_verdict_and_says_what_it_counts() {
    for (variant, code) in [("pre", 1), ("fix", 0)] {
        let o = sim(&["explore", "seed-race", "--variant", variant, "--json", "--reduce", "--no-symmetry"]);
        assert_eq!(o.status.code(), Some(code), "{variant}");
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["reduction"], true);
        assert_eq!(v["unique_states"], if variant == "pre" { "1706" } else { "936" });
        assert_eq!(v["counterexample"].is_null(), code == 0);
    }
    let text = stdout(&sim(&["explore", "seed-race", "--reduce"]));
    assert!(text.contains("1140000 of 5217966 representative interleavings violate"), "{text}");
    assert_usage_error(&["explore", "seed-race", "--reduce", "--danger"], "cannot be used with");
}

#[test]
fn explore_symmetry_keeps_the_counts_and_merges_states() {
    let json = |args: &[&str]| -> serde_json::Value {
        let o = sim(&[&["explore", "attach-storm-2", "--json"], args].concat());
        assert_eq!(o.status.code(), Some(1));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let (sym, all) = (json(&[]), json(&["--no-symmetry"]));
    assert_eq!((&sym["symmetry"], &all["symmetry"]), (&true.into(), &false.into()));
    assert_eq!((&sym["unique_states"], &all["unique_states"]), (&"7597".into(), &"12208".into()));
    for key in ["interleavings", "violating_interleavings", "violations_by_invariant"] {
        assert_eq!(sym[key], all[key], "{key}");
    }
    let text = stdout(&sim(&["explore", "attach-storm-2"]));
    assert!(text.contains("7597 unique states (up to ASID renaming)"), "{text}");
}

#[test]
fn link_import_round_trip_and_export_formats() {
    let link = sim(&["link", "seed-race", "--schedule", "CPU1*3 CPU0"]);
    assert_eq!(link.status.code(), Some(0));
    let code = stdout(&link).trim().to_string();
    assert!(code.starts_with("v1."));
    let json = sim(&["import", &code]);
    assert_eq!(json.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["id"], "seed-race");
    let text = stdout(&sim(&["export", "seed-race", "--format", "text"]));
    assert!(text.contains("Link: http://127.0.0.1:8080/#v1."));
    assert!(stdout(&sim(&["export", "seed-race", "--format", "svg"])).starts_with("<svg"));
    let exported = stdout(&sim(&["export", "seed-race", "--format", "json"]));
    assert!(smmu_sim_parse(&exported));
}

fn smmu_sim_parse(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v["format"] == 1)
}

#[test]
fn a_bounded_explore_never_reads_as_safe() {
    let json = |args: &[&str], code: i32| -> serde_json::Value {
        let o = sim(&[&["explore", "--json"], args].concat());
        assert_eq!(o.status.code(), Some(code), "{args:?}");
        serde_json::from_slice(&o.stdout).unwrap()
    };
    // Stopped before any violation: its own exit code, and no count at all.
    let v = json(&["seed-race", "--variant", "fix", "--max-states", "10"], 3);
    assert_eq!((&v["verdict"], &v["counts"]), (&"incomplete".into(), &"unknown".into()));
    assert!(v["violating_interleavings"].is_null() && v["interleavings"].is_null());
    assert!(v["violations_by_invariant"]["inv1"].is_null());
    // Stopped after a counterexample was found: violated, exit 1, counts unknown, never "0".
    let v = json(&["attach-storm-4", "--max-states", "20000"], 1);
    assert_eq!((&v["verdict"], &v["counts"]), (&"violated".into(), &"unknown".into()));
    assert!(v["counterexample"].is_object());
    assert!(v["violating_interleavings"].is_null(), "{}", v["violating_interleavings"]);
    let text = stdout(&sim(&["explore", "attach-storm-4", "--max-states", "20000"]));
    assert!(
        text.contains("VIOLATED: a counterexample was found; counts unknown: stopped at the state limit"),
        "{text}"
    );
    assert!(!text.contains(" 0 of "), "{text}");
    // A complete run keeps exact counts and says which way it went.
    let v = json(&["seed-race", "--variant", "fix"], 0);
    assert_eq!((&v["verdict"], &v["counts"]), (&"clean".into(), &"exact".into()));
}

#[test]
fn hostile_files_and_schedules_are_one_line_and_exit_2() {
    assert_usage_error(&["check", "/dev/zero"], "larger than 1024 KiB");
    assert_usage_error(&["check", "seed-race", "--schedule", "CPU0 CPU0*18446744073709551615"], "the limit");
    assert_usage_error(&["shrink", "seed-race", "--schedule", "CPU0 CPU0*18446744073709551615"], "the limit");
    let dir = std::env::temp_dir().join(format!("smmu-cli-hostile-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bom = dir.join("bom.json");
    let json = stdout(&sim(&["export", "seed-race", "--format", "json"]));
    std::fs::write(&bom, format!("\u{feff}{json}")).unwrap();
    assert_eq!(sim(&["check", bom.to_str().unwrap()]).status.code(), Some(1), "a BOM is skipped");
    let link = stdout(&sim(&["link", "seed-race"])).trim().to_string();
    assert_usage_error(&["import", &format!("{link}ZZZZ")], "");
    assert_eq!(sim(&["import", &link.replacen("v1.", "%23v1.", 1)]).status.code(), Some(0), "escaped '#'");
}

#[test]
fn scenarios_json_lists_the_library_with_expected_verdicts() {
    let o = sim(&["scenarios", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let list = v.as_array().unwrap();
    let ids: Vec<&str> = list.iter().map(|s| s["id"].as_str().unwrap()).collect();
    assert_eq!(ids, smmu_sim::builtin::ids().collect::<Vec<_>>());
    let get = |id: &str| list.iter().find(|s| s["id"] == id).unwrap();
    let seed = get("seed-race");
    assert_eq!(seed["group"], "The seed race");
    assert!(seed["description"].as_str().unwrap().contains("share_asid"));
    assert_eq!(seed["expect"]["pre"]["mail"], serde_json::json!(["inv1", "inv2", "inv3", "dma"]));
    assert_eq!(seed["expect"]["fix"]["summary"], "clean");
    assert_eq!(get("stale-cd-reuse")["mutations"], serde_json::json!(["no-cd-clear"]));
    assert!(get("attach-storm-4")["expect"].is_null(), "too large to check: no expectation");
}

#[test]
fn scenarios_lists_each_group_under_its_heading() {
    let out = stdout(&sim(&["scenarios"]));
    let heading = |h: &str| out.lines().position(|l| l == h).unwrap_or_else(|| panic!("no heading {h}:\n{out}"));
    let line = |id: &str| out.lines().position(|l| l.trim_start().starts_with(&format!("{id} "))).unwrap();
    let (seed, mutations, scaling) = (heading("The seed race"), heading("Mutations"), heading("Scaling"));
    assert!(seed < line("seed-race") && line("release-race") < mutations, "{out}");
    assert!(mutations < line("list-before-cd-swapped") && line("attach-storm-1") > scaling, "{out}");
}

#[test]
fn kunit_meets_the_table_and_the_pinned_writer_says_why_not() {
    let o = sim(&["kunit"]);
    assert_eq!(o.status.code(), Some(0));
    let text = stdout(&o);
    assert!(text.contains("ok   ste s1->s2 (stall)"), "{text}");
    assert!(text.ends_with("27 transitions, 0 failed\n"), "{text}");

    let o = sim(&["kunit", "--json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), 27);
    let clear = list.iter().find(|t| t["name"] == "cd-0->s1-cd").unwrap();
    assert_eq!(clear["hitless"], false);
    assert_eq!(clear["syncs"], 2);
    assert_eq!(clear["expected"]["hitless"], false);
    assert_eq!(clear["ok"], true);
    assert!(list.iter().all(|t| t["ok"] == true));

    let o = sim(&["kunit", "--pinned", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let failed: Vec<_> = v.as_array().unwrap().iter().filter(|t| t["ok"] == false).collect();
    assert_eq!(failed.len(), 5);
    assert!(failed.iter().all(|t| t["differs_because"].is_string()));
    let stall = failed.iter().find(|t| t["name"] == "s2->s1 (stall)").unwrap();
    assert!(stall["differs_because"].as_str().unwrap().contains("ce7cb08e22e0"));
}
