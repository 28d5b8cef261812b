//! A scenario that cannot compile names the field at fault, as a JSON path the page's editor
//! shows its message at. One case per mistake a user can make while building a scenario.

use smmu_sim::scenario::{Call, DmaSpec, ProcessSpec, ThreadSpec};
use smmu_sim::{builtin, Granularity, Scenario, Variant};

fn seed() -> Scenario {
    builtin::get("seed-race").unwrap()
}

/// The (field, message) of compiling `s` at pre, mail granularity.
fn fault(s: &Scenario) -> (String, String) {
    let e = s.compile(Variant::Pre, Granularity::Mail).expect_err("the scenario should not compile");
    (e.field.unwrap_or_default(), e.message)
}

fn assert_fault(s: &Scenario, field: &str, message: &str) {
    let (f, m) = fault(s);
    assert_eq!(f, field, "{m}");
    assert!(m.contains(message), "{m:?} does not say {message:?}");
}

#[test]
fn the_seed_race_compiles() {
    assert!(seed().compile(Variant::Pre, Granularity::Mail).is_ok());
}

#[test]
fn an_asid_beyond_asid_bits_is_refused_at_the_domain() {
    let mut s = seed();
    s.asid_bits = 8;
    let i = s.domains.iter().position(|d| d.id.is_some() && d.stage == smmu_sim::state::Stage::S1).unwrap();
    s.domains[i].id = Some(256);
    assert_fault(&s, &format!("domains.{i}.id"), "ASID 256 is out of range 1..=255 (asid_bits 8");
}

#[test]
fn an_asid_two_domains_hold_names_the_holder() {
    let mut s = seed();
    let s1: Vec<usize> = (0..s.domains.len()).filter(|&i| s.domains[i].stage == smmu_sim::state::Stage::S1).collect();
    let (a, b) = (s1[0], s1[1]);
    s.domains[a].id = Some(7);
    s.domains[b].id = Some(7);
    let holder = format!("taken by domain '{}'", s.domains[a].name);
    assert_fault(&s, &format!("domains.{b}.id"), &holder);
}

#[test]
fn two_processes_with_one_cpu_asid_are_refused_because_arm64_never_does_that() {
    let mut s = seed();
    let pt = s.page_tables[0].name.clone();
    let asid = s.processes[0].cpu_asid;
    s.processes.push(ProcessSpec { name: "other".into(), cpu_asid: asid, page_table: pt });
    let i = s.processes.len() - 1;
    assert_fault(&s, &format!("processes.{i}.cpu_asid"), "arm64 gives each live process its own");
}

#[test]
fn a_group_split_over_two_domains_is_refused_at_the_master() {
    // A master is on at most one domain by the format's shape; what can go wrong is a group
    // whose masters start on different domains.
    let mut s = seed();
    s.masters[0].iommu_group = Some("g".into());
    s.masters[1].iommu_group = Some("g".into());
    s.masters[1].domain = s.domains.iter().map(|d| d.name.clone()).find(|d| Some(d) != s.masters[0].domain.as_ref());
    assert_fault(&s, "masters.1.domain", "the core attaches a group as a whole");
}

#[test]
fn a_call_on_a_missing_master_is_refused_at_its_argument() {
    let mut s = seed();
    let c = s.threads[1].calls.len();
    s.threads[1].calls.push(Call::ReleaseDevice { master: "nobody".into() });
    assert_fault(&s, &format!("threads.1.calls.{c}.master"), "unknown master 'nobody'");
}

#[test]
fn a_pasid_beyond_the_cd_table_is_refused_at_the_pasid() {
    let mut s = seed();
    let (t, c) = s
        .threads
        .iter()
        .enumerate()
        .find_map(|(t, th)| th.calls.iter().position(|c| matches!(c, Call::SvaSetDevPasid { .. })).map(|c| (t, c)))
        .unwrap();
    if let Call::SvaSetDevPasid { pasid, .. } = &mut s.threads[t].calls[c] {
        *pasid = 200;
    }
    assert_fault(&s, &format!("threads.{t}.calls.{c}.pasid"), "pasid 200 is not a valid SSID");
}

#[test]
fn duplicate_and_empty_names_are_refused_at_the_second_name() {
    let mut s = seed();
    s.masters[1].name = s.masters[0].name.clone();
    assert_fault(&s, "masters.1.name", "two masters are named");
    let mut s = seed();
    s.domains[0].name = String::new();
    assert_fault(&s, "domains.0.name", "empty name");
    let mut s = seed();
    s.threads.push(ThreadSpec { name: s.threads[0].name.clone(), calls: s.threads[0].calls.clone() });
    assert_fault(&s, &format!("threads.{}.name", s.threads.len() - 1), "two threads are named");
}

#[test]
fn a_thread_without_calls_and_a_lane_without_accesses_are_refused() {
    let mut s = seed();
    s.threads.push(ThreadSpec { name: "CPU9".into(), calls: Vec::new() });
    assert_fault(&s, &format!("threads.{}.calls", s.threads.len() - 1), "calls nothing");
    let mut s = seed();
    let master = s.masters[0].name.clone();
    s.dma.push(DmaSpec {
        name: "DMA Z".into(),
        master: master.clone(),
        accesses: Vec::new(),
        walk_only: false,
        fetches: Vec::new(),
    });
    assert_fault(&s, &format!("dma.{}.accesses", s.dma.len() - 1), "has no accesses");
    let mut s = seed();
    s.dma.push(DmaSpec {
        name: "DMA Z".into(),
        master,
        accesses: vec![(0, 0x1000), (99, 0x1000)],
        walk_only: false,
        fetches: Vec::new(),
    });
    assert_fault(&s, &format!("dma.{}.accesses.1", s.dma.len() - 1), "ssid 99 is beyond");
}

#[test]
fn an_empty_scenario_is_refused_at_its_threads_and_limits_at_their_list() {
    let mut s = seed();
    s.threads.clear();
    s.dma.clear();
    assert_fault(&s, "threads", "a scenario has 1 to");
    let mut s = seed();
    s.masters[0].ssids = 255;
    assert_fault(&s, "masters.0.ssids", "SSIDs (the limit is");
    let mut s = seed();
    s.domains[0].page_table = "missing".into();
    assert_fault(&s, "domains.0.page_table", "unknown page table 'missing'");
}
