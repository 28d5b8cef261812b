//! Determinism and bad input: schedules replay exactly; malformed schedules and scenario
//! files are errors with a message, never panics.

mod common;

use common::*;
use smmu_sim::sched::{self, Schedule};
use smmu_sim::{builtin, trace, Granularity, Scenario, Variant};

/// `sched::breaks`, which keeps no states, reads every schedule as `sched::run` does; both
/// outcomes occur, so the comparison can fail either way.
#[test]
fn breaks_agrees_with_a_full_run() {
    let (mut broke, mut held) = (0, 0);
    for id in builtin::ids() {
        for v in Variant::ALL {
            for g in Granularity::ALL {
                let w = world(id, v, g);
                for seed in 0..10 {
                    let s = sched::random(&w, seed);
                    let full = sched::run(&w, &s).expect("the schedule runs").safety_violations().next().is_some();
                    assert_eq!(sched::breaks(&w, &s).expect("the schedule runs"), full, "{id} {v} {g} {seed}");
                    if full {
                        broke += 1
                    } else {
                        held += 1
                    }
                }
            }
        }
    }
    assert!(broke > 0 && held > 0, "{broke} broke, {held} held");
}

#[test]
fn random_schedules_replay_to_identical_traces() {
    for id in builtin::ids() {
        for v in Variant::ALL {
            for g in Granularity::ALL {
                let w = world(id, v, g);
                for seed in 0..20 {
                    let s = sched::random(&w, seed);
                    assert_eq!(s, sched::random(&w, seed), "the same seed gives the same schedule");
                    let a = sched::run(&w, &s).expect("the schedule runs");
                    let b = sched::run(&w, &a.schedule()).expect("the schedule runs");
                    assert_eq!(trace::render(&w, &a), trace::render(&w, &b), "{id} {v} {g} seed {seed}");
                    assert_eq!(a.states, b.states);
                    let text = Schedule::parse(&s.to_text(), &w).unwrap();
                    assert_eq!(text, s, "the text form round-trips");
                    assert_eq!(Schedule::parse(&s.to_names(&w), &w).unwrap(), s, "the name form round-trips");
                }
            }
        }
    }
}

#[test]
fn round_robin_completes_every_thread() {
    let w = world("seed-race", Variant::Fix, Granularity::Source);
    let t = sched::run(&w, &sched::round_robin(&w)).expect("the schedule runs");
    assert!(!t.deadlock);
    assert!(t.steps.iter().all(|s| !s.auto), "round robin names every step");
}

#[test]
fn bad_schedules_are_errors() {
    let w = world("seed-race", Variant::Pre, Granularity::Mail);
    for (text, needle) in [
        ("CPU9", "unknown thread 'CPU9'"),
        ("0 1 7", "unknown thread '7'"),
        ("CPU0*x", "bad repeat count"),
        ("CPU0*0", "bad repeat count"),
        ("CPU0*99999", "longer than"),
        ("--", "unknown thread"),
    ] {
        let e = Schedule::parse(text, &w).unwrap_err();
        assert!(e.to_string().contains(needle), "{text}: {e}");
    }
    assert_eq!(Schedule::parse("", &w).unwrap(), Schedule::default(), "empty means run to completion");
}

/// A schedule that asks for a finished thread keeps a record of it.
#[test]
fn requests_for_finished_threads_are_recorded() {
    let w = world("seed-race", Variant::Pre, Granularity::Mail);
    let t = sched::run(&w, &Schedule::parse("DMA_A DMA_A", &w).unwrap()).expect("the schedule runs");
    assert_eq!(t.notes.len(), 1);
    assert!(trace::render(&w, &t).contains("already finished"));
}

#[test]
fn bad_scenarios_are_errors() {
    let base = builtin::get("seed-race").unwrap().to_json();
    let cases: Vec<(String, &str)> = vec![
        ("{".into(), "scenario JSON"),
        ("[]".into(), "scenario JSON"),
        (base.replace("\"format\": 1", "\"format\": 99"), "format 99"),
        (base.replace("\"domain\": \"y\"", "\"domain\": \"nowhere\""), "unknown domain 'nowhere'"),
        (base.replace("\"page_table\": \"PT_P\"", "\"page_table\": \"PT_Q\""), "unknown page table 'PT_Q'"),
        (base.replace("\"pasid\": 1", "\"pasid\": 9"), "pasid 9"),
        (base.replace("\"id\": 2", "\"id\": 1"), "ASID 1"),
        (base.replace("\"name\": \"B\"", "\"name\": \"A\""), "two masters"),
        (base.replace("\"stage\": \"s1\"", "\"stage\": \"s7\""), "scenario JSON"),
        (base.replace("\"asid_bits\": 8", "\"asid_bits\": 99"), "asid_bits"),
        (base.replace("\"sva\": true", "\"sva\": true, \"colour\": 3"), "unknown field"),
    ];
    for (json, needle) in cases {
        let result = Scenario::from_json(&json).and_then(|s| s.compile(Variant::Pre, Granularity::Mail));
        let e = result.map(|_| ()).unwrap_err();
        assert!(e.to_string().contains(needle), "expected '{needle}' in: {e}");
    }
}

#[test]
fn builtin_scenarios_round_trip_through_json() {
    for s in builtin::all() {
        assert_eq!(Scenario::from_json(&s.to_json()).unwrap(), s);
        for v in Variant::ALL {
            for g in Granularity::ALL {
                let text = s.default_schedule(v, g).expect("every built-in has default schedules");
                let w = s.compile(v, g).unwrap();
                Schedule::parse(text, &w).unwrap();
            }
        }
    }
}
