//! Properties of the entry points that read input from strangers (links, scenario JSON,
//! schedule text) and of the scheduler that runs what they give: nothing panics, what is
//! accepted round-trips, and a run is a function of its inputs. The fuzz targets in `fuzz/`
//! search the same entry points for longer.

use proptest::prelude::*;
use smmu_sim::ids::ThreadId;
use smmu_sim::limits::{MAX_SCHEDULE, MAX_TRACE};
use smmu_sim::sched::{self, Schedule};
use smmu_sim::share::{self, Link};
use smmu_sim::trace::Trace;
use smmu_sim::{builtin, Granularity, Scenario, Variant, World};
use std::sync::OnceLock;

/// Every built-in for every variant and granularity, compiled once.
fn worlds() -> &'static [(Scenario, World)] {
    static WORLDS: OnceLock<Vec<(Scenario, World)>> = OnceLock::new();
    WORLDS.get_or_init(|| {
        let mut out = Vec::new();
        for s in builtin::all() {
            for v in Variant::ALL {
                for g in Granularity::ALL {
                    out.push((s.clone(), s.compile(v, g).expect("built-ins compile")));
                }
            }
        }
        out
    })
}

fn world_ix() -> impl Strategy<Value = usize> {
    0..worlds().len()
}

/// `base` with the `cut` characters at character `at` (wrapped) replaced by `insert`.
fn edited(base: String, at: usize, cut: usize, insert: String) -> String {
    let chars: Vec<char> = base.chars().collect();
    let at = at % (chars.len() + 1);
    let end = (at + cut).min(chars.len());
    chars[..at].iter().chain(insert.chars().collect::<Vec<_>>().iter()).chain(&chars[end..]).collect()
}

/// The seed race's link, with its round-robin schedule and a cursor.
fn seed_link_text() -> String {
    let (scenario, world) = &worlds()[0];
    let link = Link {
        scenario: scenario.clone(),
        variant: world.variant,
        granularity: world.granularity,
        schedule: sched::round_robin(world),
        cursor: Some(3),
    };
    share::encode(&link).expect("the seed race encodes")
}

fn edited_link((at, cut, insert): (usize, usize, String)) -> String {
    edited(seed_link_text(), at, cut, insert)
}

/// Link-like text: arbitrary, a `v1.` prefix with base64url, or an edited valid link.
fn link_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "(%23|#|https?://[a-z.:0-9]{0,12}/#)?v[0-9]{0,3}\\.[A-Za-z0-9_%-]{0,300}",
        (any::<usize>(), 0usize..4, "[A-Za-z0-9_.#%-]{0,3}").prop_map(edited_link),
    ]
}

fn edited_json((id, at, cut, insert): (&str, usize, usize, String)) -> String {
    edited(builtin::get(id).unwrap().to_json(), at, cut, insert)
}

/// JSON-like text: arbitrary, or a built-in's JSON with a span replaced by a JSON fragment.
fn json_text() -> impl Strategy<Value = String> {
    let fragment = prop_oneof![
        Just(String::new()),
        "[\\[\\]{}\",:0-9a-z -]{1,6}",
        Just("-1".to_string()),
        Just("99999999999999999999".to_string()),
        Just("\"\\u001b\"".to_string()),
    ];
    let ids: Vec<&'static str> = builtin::ids().collect();
    prop_oneof![
        any::<String>(),
        (proptest::sample::select(ids), any::<usize>(), 0usize..12, fragment).prop_map(edited_json),
    ]
}

/// Schedule-like text: thread names in any case, indices, junk and repeat counts, with any of
/// the separators.
fn schedule_text() -> impl Strategy<Value = String> {
    let name = prop_oneof![
        proptest::sample::select(vec!["CPU0", "cpu1", "CPU2", "DMA_A", "dma_b", "S", "0", "1", "3", "7", "256"]),
        Just("-1"),
        Just(""),
        Just("*"),
        Just("CPU0*"),
    ]
    .prop_map(str::to_string);
    let token = prop_oneof![
        4 => name.clone(),
        2 => (name, prop_oneof![0u64..30, Just(u64::MAX), Just(MAX_SCHEDULE as u64 + 1)])
            .prop_map(|(n, k)| format!("{n}*{k}")),
        1 => "[A-Za-z0-9_*.,]{1,8}",
    ];
    let sep = proptest::sample::select(vec![" ", ",", ".", "\t", "  ", "\u{a0}", "\n"]);
    proptest::collection::vec((token, sep), 0..24).prop_map(|ts| ts.into_iter().map(|(t, s)| t + s).collect())
}

/// A schedule of `world`'s own threads.
fn valid_schedule(len: usize) -> impl Strategy<Value = (usize, Vec<u8>)> {
    (world_ix(), proptest::collection::vec(any::<u8>(), 0..len))
}

fn threads_of(world: &World, picks: &[u8]) -> Schedule {
    let n = world.n_threads() as u8;
    Schedule::of(picks.iter().map(|p| ThreadId(p % n)).collect())
}

fn assert_same(a: &Trace, b: &Trace) {
    assert_eq!(a.steps, b.steps);
    assert_eq!(a.states, b.states);
    assert_eq!(a.violations, b.violations);
    assert_eq!(a.initial_violations, b.initial_violations);
    assert_eq!(a.notes, b.notes);
    assert_eq!(a.deadlock, b.deadlock);
}

/// Thread names with separators, spaces, case twins and digits.
fn thread_name() -> impl Strategy<Value = String> {
    prop_oneof![
        proptest::sample::select(vec!["CPU0", "cpu0", "CPU1", "cpu1", "DMA_A", "dma_a", "0", "1", "2", "3", "9"])
            .prop_map(str::to_string),
        "[a-cA-C0-3 .,*_\u{a0}\t]{1,5}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Any text: decoding never panics, and a link that opens re-encodes to the same link.
    #[test]
    fn any_text_decodes_or_is_refused(text in link_text()) {
        if let Ok(link) = share::decode(&text) {
            let code = share::encode(&link).expect("a decoded link encodes");
            prop_assert_eq!(share::decode(&code), Ok(link));
        }
    }

    /// Any text: parsing a scenario never panics, and what parses reads back equal.
    #[test]
    fn any_text_parses_as_a_scenario_or_is_refused(text in json_text()) {
        if let Ok(s) = Scenario::from_json(&text) {
            prop_assert_eq!(Scenario::from_json(&s.to_json()), Ok(s));
        }
    }

    /// Any schedule text: parsing and running never panic; what parses names only the world's
    /// threads, fits the limit, and reads back from both of its text forms.
    #[test]
    fn any_schedule_text_parses_and_runs_or_is_refused(w in world_ix(), text in schedule_text()) {
        let world = &worlds()[w].1;
        if let Ok(s) = Schedule::parse(&text, world) {
            prop_assert!(s.check(world).is_ok());
            prop_assert!(s.0.len() <= MAX_SCHEDULE);
            prop_assert_eq!(Schedule::parse(&s.to_names(world), world), Ok(s.clone()));
            prop_assert_eq!(Schedule::parse(&s.to_text(), world), Ok(s.clone()));
            if let Ok(trace) = sched::run(world, &s) {
                prop_assert_eq!(trace.steps.len(), trace.states.len());
                prop_assert!(trace.steps.len() <= MAX_TRACE);
            }
        }
    }

    /// A schedule of the world's threads runs to the same trace every time, and the trace's
    /// own schedule (the threads in the order they ran) replays it step for step.
    #[test]
    fn runs_are_deterministic_and_replay((w, picks) in valid_schedule(120)) {
        let world = &worlds()[w].1;
        let schedule = threads_of(world, &picks);
        let first = sched::run(world, &schedule).expect("a schedule of the world's threads runs");
        let second = sched::run(world, &schedule).expect("and runs again");
        assert_same(&first, &second);
        let replay = sched::run(world, &first.schedule()).expect("the trace's schedule runs");
        prop_assert_eq!(&replay.states, &first.states);
        prop_assert_eq!(&replay.violations, &first.violations);
    }

    /// A link of any built-in with any schedule of its threads and any cursor reads back equal.
    #[test]
    fn links_of_builtins_round_trip((w, picks) in valid_schedule(300), cursor in proptest::option::of(0..MAX_TRACE as u32)) {
        let (scenario, world) = &worlds()[w];
        let link = Link {
            scenario: scenario.clone(),
            variant: world.variant,
            granularity: world.granularity,
            schedule: threads_of(world, &picks),
            cursor,
        };
        let code = share::encode(&link).expect("a built-in's link encodes");
        prop_assert_eq!(share::decode(&code), Ok(link));
    }

    /// Whatever the threads of a scenario that compiles are called, both text forms of a
    /// schedule (what `export`, `check` and the page write) read back as the same schedule.
    #[test]
    fn schedule_names_read_back_whatever_the_thread_names(
        names in proptest::collection::vec(thread_name(), 4),
        picks in proptest::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut s = builtin::get("seed-race").unwrap();
        s.schedules.clear();
        for (t, n) in s.threads.iter_mut().zip(&names[..2]) {
            t.name = n.clone();
        }
        for (l, n) in s.dma.iter_mut().zip(&names[2..]) {
            l.name = n.clone();
        }
        let Ok(world) = s.compile(Variant::Pre, Granularity::Mail) else { return Ok(()) };
        let schedule = threads_of(&world, &picks);
        prop_assert_eq!(Schedule::parse(&schedule.to_names(&world), &world), Ok(schedule.clone()));
        prop_assert_eq!(Schedule::parse(&schedule.to_text(), &world), Ok(schedule));
    }
}
