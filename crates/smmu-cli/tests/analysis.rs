//! `smmu-sim shrink` and the analyses of `smmu-sim explore` end to end: the counterexample
//! objects, the danger windows and shrink's output and exit codes.

use serde_json::Value;
use std::process::{Command, Output};

fn sim(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smmu-sim")).args(args).output().expect("runs")
}

fn json(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout).expect("JSON on stdout")
}

const LONG: &str = "CPU0*4 CPU1*6 DMA_A CPU1*4 DMA_B CPU1 CPU0*14";

#[test]
fn explore_json_has_both_counterexamples() {
    let o = sim(&["explore", "seed-race", "--variant", "pre", "--json"]);
    assert_eq!(o.status.code(), Some(1));
    let v = json(&o);
    assert_eq!(v["counterexample"]["schedule"], v["shortest"]["schedule"]);
    let (short, few) = (&v["shortest"], &v["fewest_switches"]);
    for c in [short, few] {
        assert!(c["steps"].as_array().is_some_and(|s| !s.is_empty()));
        assert!(c["violations"].as_array().is_some_and(|s| !s.is_empty()));
    }
    assert!(few["switches"].as_u64() <= short["switches"].as_u64());
    assert!(v.get("danger_windows").is_none(), "only with --danger");
    let fix = json(&sim(&["explore", "seed-race", "--variant", "fix", "--json"]));
    assert!(fix["fewest_switches"].is_null() && fix["shortest"].is_null());
}

#[test]
fn explore_danger_gives_a_labelled_square_matrix() {
    let o = sim(&["explore", "attach-storm-1", "--json", "--danger"]);
    let d = &json(&o)["danger_windows"];
    let n = d["steps"].as_array().unwrap().len();
    assert!(n > 10);
    assert!(d["steps"][0]["thread"].is_string() && d["steps"][0]["label"].is_string());
    for key in ["before", "before_all", "fraction", "share"] {
        let m = d[key].as_array().unwrap();
        assert_eq!(m.len(), n);
        assert!(m.iter().all(|r| r.as_array().unwrap().len() == n));
    }
    assert_eq!(d["violating_interleavings"], "61635");
    let o = sim(&["explore", "attach-storm-3", "--danger", "--max-states", "1000"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("danger windows: "));
    let text = String::from_utf8_lossy(&sim(&["explore", "seed-race", "--danger"]).stdout).into_owned();
    assert!(text.contains("fewest context switches") && text.contains("danger windows"), "{text}");
}

#[test]
fn shrink_prints_a_smaller_violating_schedule() {
    let o = sim(&["shrink", "seed-race", "--variant", "pre", "--schedule", LONG, "--json"]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    let v = json(&o);
    assert_eq!(v["invariant"], "inv2");
    assert_eq!(v["input"]["length"], 31);
    let len = v["shrunk"]["length"].as_u64().unwrap();
    assert!(len < 31);
    let violations = v["shrunk"]["violations"].as_array().unwrap();
    assert!(violations.iter().any(|x| x["invariant"] == "inv2"));
    let o = sim(&["shrink", "seed-race", "--variant", "pre", "--schedule", LONG, "--invariant", "dma"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("invariant dma") && text.contains("dma:"), "{text}");
}

#[test]
fn shrink_bad_input_is_one_line_and_exit_2() {
    let cases: [(&[&str], &str); 4] = [
        (&["shrink", "seed-race", "--schedule", "CPU9"], "unknown thread"),
        (&["shrink", "seed-race", "--schedule", LONG, "--invariant", "inv9"], "unknown invariant"),
        (&["shrink", "seed-race", "--variant", "fix", "--schedule", LONG], "nothing to shrink"),
        (&["shrink", "seed-race", "--schedule", LONG, "--invariant", "deadlock"], "does not violate deadlock"),
    ];
    for (args, needle) in cases {
        let o = sim(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
