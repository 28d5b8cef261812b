//! Inputs from strangers: every decoder refuses what it cannot run, with the limit or the
//! problem named, and never panics, wraps or changes a verdict. One test per kind of input
//! found to break an earlier build.

use serde_json::{json, Value};
use smmu_sim::ids::ThreadId;
use smmu_sim::limits::{MAX_PAYLOAD, MAX_PROCESSES, MAX_SCHEDULE};
use smmu_sim::sched::{self, Schedule};
use smmu_sim::share::{self, Link};
use smmu_sim::{builtin, Granularity, Scenario, Variant};

fn seed_json() -> Value {
    serde_json::from_str(&builtin::get("seed-race").unwrap().to_json()).unwrap()
}

fn load(v: &Value) -> Result<Scenario, String> {
    Scenario::from_json(&v.to_string()).map_err(|e| e.to_string())
}

fn seed_link() -> Link {
    let scenario = builtin::get("seed-race").unwrap();
    let world = scenario.compile(Variant::Pre, Granularity::Mail).unwrap();
    let schedule = sched::round_robin(&world);
    Link { scenario, variant: Variant::Pre, granularity: Granularity::Mail, schedule, cursor: None }
}

fn decode_err(text: &str) -> String {
    share::decode(text).expect_err(text).to_string()
}

#[test]
fn a_schedule_naming_a_foreign_thread_is_refused_not_run() {
    let mut link = seed_link();
    link.schedule = Schedule::of(vec![ThreadId(99)]);
    let world = link.scenario.compile(link.variant, link.granularity).unwrap();
    assert!(sched::run(&world, &link.schedule).is_err(), "run refuses thread 99");
    assert!(link.schedule.check(&world).is_err());
    match share::encode(&link) {
        Ok(text) => assert!(!decode_err(&text).is_empty()),
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

#[test]
fn a_repeat_count_past_the_schedule_limit_is_refused() {
    let world = builtin::get("seed-race").unwrap().compile(Variant::Pre, Granularity::Mail).unwrap();
    for text in ["CPU0 CPU0*18446744073709551615", "CPU0*18446744073709551616", &format!("CPU0*{}", MAX_SCHEDULE + 1)] {
        let err = Schedule::parse(text, &world).expect_err(text).to_string();
        assert!(!err.is_empty(), "{text}");
    }
}

#[test]
fn too_many_calls_in_a_thread_is_an_error_not_a_wrapped_pc() {
    let mut v = seed_json();
    let call = v["threads"][0]["calls"][0].clone();
    v["threads"][0]["calls"] = Value::Array(vec![call; 2_115]);
    let err = load(&v).expect_err("2,115 calls");
    assert!(err.contains("limit"), "{err}");
}

#[test]
fn the_257th_process_cannot_alias_the_first() {
    let mut v = seed_json();
    let procs: Vec<Value> =
        (0..257).map(|i| json!({ "name": format!("Q{i}"), "cpu_asid": 200, "page_table": "PT_P" })).collect();
    v["processes"] = Value::Array(procs);
    let err = load(&v).expect_err("257 processes");
    assert!(err.contains(&MAX_PROCESSES.to_string()), "{err}");
}

#[test]
fn counts_are_checked_before_anything_that_grows_with_them() {
    let mut v = seed_json();
    let pt = v["page_tables"][0].clone();
    v["page_tables"] = Value::Array(vec![pt; 100_000]);
    let err = load(&v).expect_err("100,000 page tables");
    assert!(err.contains("limit"), "{err}");
    let mut v = seed_json();
    v["dma"][0]["accesses"] = Value::Array(vec![json!([0, 4096]); 1_000_000]);
    let err = load(&v).expect_err("a million accesses");
    assert!(err.contains("limit"), "{err}");
    let mut v = seed_json();
    v["dma"][0]["fetches"] = Value::Array(vec![json!("ste"); 100_000]);
    let err = load(&v).expect_err("100,000 fetches");
    assert!(err.contains("limit") && err.contains("fetches"), "{err}");
    let mut v = seed_json();
    v["dma"][0]["fetches"] = json!(["tlb"]);
    let err = load(&v).expect_err("an unknown fetch");
    assert!(err.contains("unknown fetch 'tlb'"), "{err}");
    v["dma"][0]["fetches"] = json!(["cd9"]);
    let compiled =
        load(&v).and_then(|s| s.compile(Variant::Pre, Granularity::Mail).map(|_| ()).map_err(|e| e.to_string()));
    let err = compiled.expect_err("a CD beyond the table");
    assert!(err.contains("fetch cd9 is beyond A's CD table"), "{err}");
    v["dma"][0]["fetches"] = json!(["cd99999999999999999999"]);
    assert!(load(&v).expect_err("a huge substream").contains("unknown fetch"));
}

#[test]
fn names_with_control_characters_are_refused() {
    let mut v = seed_json();
    v["threads"][0]["name"] = json!("CPU0\u{1b}[31m\nrm -rf");
    assert!(load(&v).is_err());
}

#[test]
fn a_utf8_bom_before_json_is_skipped() {
    let text = format!("\u{feff}{}", seed_json());
    assert!(Scenario::from_json(&text).is_ok());
}

#[test]
fn links_say_what_is_wrong_with_them() {
    let good = share::encode(&seed_link()).unwrap();
    assert_eq!(share::decode(&good).unwrap(), seed_link());
    // Bytes after the payload: damaged, never opened as if intact.
    assert!(share::decode(&format!("{good}ZZZZ")).is_err());
    // Mailers escape the fragment: it is decoded first.
    let escaped = format!("%23{}", good.replacen('.', "%2E", 1));
    assert_eq!(share::decode(&escaped).unwrap(), seed_link(), "{escaped}");
    // A version far past this build's is a newer version, not a missing prefix.
    assert!(decode_err("v99999999999.AAAA").contains("newer"));
}

#[test]
fn a_deflate_bomb_is_refused_by_its_size() {
    use base64::Engine as _;
    let zeros = vec![0u8; MAX_PAYLOAD * 4];
    let packed = miniz_oxide::deflate::compress_to_vec(&zeros, 10);
    let text = format!("v1.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(packed));
    let err = decode_err(&text);
    assert!(err.contains("64 KiB"), "{err}");
}

/// The seed race with its four threads (CPU0, CPU1, DMA_A, DMA_B) renamed.
fn seed_named(names: [&str; 4]) -> Result<smmu_sim::World, String> {
    let mut s = builtin::get("seed-race").unwrap();
    s.schedules.clear();
    for (t, n) in s.threads.iter_mut().zip(&names[..2]) {
        t.name = n.to_string();
    }
    for (l, n) in s.dma.iter_mut().zip(&names[2..]) {
        l.name = n.to_string();
    }
    s.compile(Variant::Pre, Granularity::Mail).map_err(|e| e.to_string())
}

#[test]
fn schedule_text_reads_back_whatever_the_threads_are_called() {
    // A separator as a name read back as nothing; a case twin read back as its twin.
    let cases = [
        ["DMA_A", "CPU0", ".", "cpu0"],
        ["a b", "a", "b", "x*2"],
        ["cpu0", "CPU0", "2", "\u{a0}"],
        ["*", "1\u{a0}", "x", "y"],
    ];
    for names in cases {
        let world = seed_named(names).expect("compiles");
        let schedule = Schedule::of((0..4).chain([3, 3, 1, 2, 0]).map(ThreadId).collect());
        let text = schedule.to_names(&world);
        assert_eq!(Schedule::parse(&text, &world), Ok(schedule.clone()), "{names:?}: {text}");
        assert_eq!(Schedule::parse(&schedule.to_text(), &world), Ok(schedule), "{names:?}");
    }
}

#[test]
fn a_thread_named_like_another_threads_index_is_refused() {
    let err = seed_named(["1", "CPU1", "DMA_A", "DMA_B"]).expect_err("'1' is thread 1's index");
    assert!(err.contains("index"), "{err}");
    assert!(seed_named(["0", "1", "DMA_A", "7"]).is_ok(), "a thread may be named like its own index");
}
