//! Built-in scenarios. Most are JSON files in `scenarios/` so they double as examples of the
//! file format; the `attach-storm-N` family is generated here, one scenario per size.

use crate::scenario::{
    Call, DomainSpec, Expect, Expected, MasterSpec, PageTableSpec, ProcessSpec, Scenario, ScheduleSpec, ThreadSpec,
    FORMAT,
};
use crate::state::Stage;
use crate::variant::{Granularity, Variant};

const FILES: &[(&str, &str)] = &[
    ("seed-race", include_str!("../scenarios/seed-race.json")),
    ("seed-race-walk", include_str!("../scenarios/seed-race-walk.json")),
    ("release-race", include_str!("../scenarios/release-race.json")),
    ("asid-exhaustion", include_str!("../scenarios/asid-exhaustion.json")),
    ("list-before-cd", include_str!("../scenarios/list-before-cd.json")),
    ("list-before-cd-swapped", include_str!("../scenarios/list-before-cd-swapped.json")),
    ("stale-cd-cleared", include_str!("../scenarios/stale-cd-cleared.json")),
    ("stale-cd-reuse", include_str!("../scenarios/stale-cd-reuse.json")),
    ("vmid-lifecycle", include_str!("../scenarios/vmid-lifecycle.json")),
    ("vmid-lifecycle-swapped", include_str!("../scenarios/vmid-lifecycle-swapped.json")),
    ("two-bonds-unbind", include_str!("../scenarios/two-bonds-unbind.json")),
    ("unmap-during-asid-change", include_str!("../scenarios/unmap-during-asid-change.json")),
    ("sva-unbind-reuse", include_str!("../scenarios/sva-unbind-reuse.json")),
    ("ste-fetch", include_str!("../scenarios/ste-fetch.json")),
    ("ste-fetch-q0-first", include_str!("../scenarios/ste-fetch-q0-first.json")),
    ("cd-fetch-q0-first", include_str!("../scenarios/cd-fetch-q0-first.json")),
];

/// Ids of the `attach-storm-N` family, smallest first.
const STORMS: &[&str] = &["attach-storm-1", "attach-storm-2", "attach-storm-3", "attach-storm-4", "attach-storm-5"];

/// Largest `N` of `attach-storm-N` (`N` attach threads and one SVA thread).
pub const MAX_STORM: usize = STORMS.len();

/// Ids of the built-in scenarios.
pub fn ids() -> impl Iterator<Item = &'static str> {
    FILES.iter().map(|(id, _)| *id).chain(STORMS.iter().copied())
}

/// A built-in scenario by id.
pub fn get(id: &str) -> Option<Scenario> {
    if let Some(n) = id.strip_prefix("attach-storm-") {
        return n.parse::<usize>().ok().filter(|n| (1..=MAX_STORM).contains(n)).map(attach_storm);
    }
    let (_, text) = FILES.iter().find(|(i, _)| *i == id)?;
    Some(Scenario::from_json(text).expect("built-in scenarios parse"))
}

/// Every built-in scenario.
pub fn all() -> Vec<Scenario> {
    ids().filter_map(get).collect()
}

/// `attach-storm-N`: the seed race scaled up, with the seed race's roles. Masters `M0`, …,
/// `M(N-1)` start on S1 domain `z` (ASID 1); CPU thread `CPUi` moves `Mi` to its own fresh S1
/// domain `yi` with `attach_dev`, as `CPU0` moves `A` in the seed race. Meanwhile `CPUN` binds
/// process `P`, whose CPU ASID is 1, to the SVA master `S` (also on `z`) through PASID 1, as
/// `CPU1` binds `B` there, so `share_asid` moves `z` to a new ASID while up to `N` masters are
/// between `list_del` and their new CD. No DMA lanes, so it stays tractable: `N + 1` threads.
///
/// # Panics
/// If `n` is 0 or more than [`MAX_STORM`].
pub fn attach_storm(n: usize) -> Scenario {
    assert!((1..=MAX_STORM).contains(&n), "attach-storm-N has 1 <= N <= {MAX_STORM}");
    let pt = |name: String, pa: u64| PageTableSpec { name, map: vec![(0x1000, pa)] };
    let mut page_tables = vec![pt("PT_z".into(), 0xa000), pt("PT_P".into(), 0xd000)];
    let mut domains = vec![DomainSpec { name: "z".into(), stage: Stage::S1, page_table: "PT_z".into(), id: Some(1) }];
    let mut masters = vec![MasterSpec {
        name: "S".into(),
        domain: Some("z".into()),
        sva: true,
        ats: false,
        ssids: 2,
        iommu_group: None,
    }];
    let mut threads = Vec::new();
    for i in 0..n {
        page_tables.push(pt(format!("PT_y{i}"), 0x10000 + 0x1000 * (i as u64 + 1)));
        domains.push(DomainSpec { name: format!("y{i}"), stage: Stage::S1, page_table: format!("PT_y{i}"), id: None });
        masters.push(MasterSpec {
            name: format!("M{i}"),
            domain: Some("z".into()),
            sva: false,
            ats: false,
            ssids: 1,
            iommu_group: None,
        });
        threads.push(ThreadSpec {
            name: format!("CPU{i}"),
            calls: vec![Call::AttachDev { master: format!("M{i}"), domain: format!("y{i}") }],
        });
    }
    threads.push(ThreadSpec {
        name: format!("CPU{n}"),
        calls: vec![Call::SvaSetDevPasid { master: "S".into(), pasid: 1, process: "P".into() }],
    });
    Scenario {
        format: FORMAT,
        id: format!("attach-storm-{n}"),
        title: format!("{n} attach_dev call{} racing one SVA bind that shares z's ASID", if n == 1 { "" } else { "s" }),
        description: storm_description(n),
        group: "Scaling".into(),
        expect: (n <= MAX_STORM_EXPECTED).then(storm_expect),
        mutations: Vec::new(),
        patch: None,
        variant: Variant::Pre,
        granularity: Granularity::Mail,
        asid_bits: 8,
        page_tables,
        processes: vec![ProcessSpec { name: "P".into(), cpu_asid: 1, page_table: "PT_P".into() }],
        domains,
        masters,
        threads,
        dma: Vec::new(),
        schedules: vec![storm_schedule(n, Granularity::Mail, 4, 12), storm_schedule(n, Granularity::Source, 5, 22)],
    }
}

/// `M0`, `M0 and M1`, `M0, M1 and M2`: the first `n` names with `prefix`, as a sentence lists them.
fn names(prefix: &str, n: usize) -> String {
    let all: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
    match all.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// The storm's paragraph, in the seed race's terms: one mover reads as the seed race itself.
fn storm_description(n: usize) -> String {
    let movers = if n == 1 {
        "Master M0 starts on domain z (ASID 1); CPU0 moves it to a fresh domain y0, as CPU0 moves A in the seed race."
            .to_string()
    } else {
        format!(
            "Masters {} start on domain z (ASID 1); {} each move one of them to its own fresh domain ({}), as CPU0 \
             moves A in the seed race.",
            names("M", n),
            names("CPU", n),
            names("y", n)
        )
    };
    let anyone = if n == 1 { "the mover is" } else { "any of the movers may be" };
    format!(
        "Scaling family of the seed race. {movers} CPU{n} binds process P (CPU ASID 1) to the SVA master S, also on \
         z, so share_asid moves z to a new ASID while {anyone} off z's devices list with CD[0] still on ASID 1. No \
         DMA lanes; {} threads.",
        n + 1
    )
}

/// Largest `N` whose `attach-storm-N` carries expected verdicts: a test explores every
/// scenario with `expect` at every variant and granularity, and attach-storm-3 under `pre` at
/// `source` granularity has millions of states, far beyond that test's budget.
pub const MAX_STORM_EXPECTED: usize = 2;

/// The storm's verdicts: the seed race without DMA lanes (so no `dma`) before the fix, clean
/// after.
fn storm_expect() -> Expect {
    use crate::check::Invariant::{Inv1, Inv2, Inv3};
    Expect { pre: Expected::Same(vec![Inv1, Inv2, Inv3]), fix: Expected::Same(vec![]), v69: Expected::Same(vec![]) }
}

/// Every mover runs `k` steps (past its `list_del`), then the bind runs all its `bind` steps
/// before the movers finish (the rest of a run goes to the lowest thread first): the race in PRE.
fn storm_schedule(n: usize, granularity: Granularity, k: usize, bind: usize) -> ScheduleSpec {
    let movers: Vec<String> = (0..n).map(|i| format!("CPU{i}*{k}")).collect();
    ScheduleSpec { granularity, variant: None, schedule: format!("{} CPU{n}*{bind}", movers.join(" ")) }
}

/// Heading for built-ins without a group.
pub const NO_GROUP: &str = "Other";

/// The built-ins by group, groups in the order of their first member and ungrouped ones
/// last under [`NO_GROUP`]: how listings and pickers show the library.
pub fn grouped() -> Vec<(String, Vec<Scenario>)> {
    let mut out: Vec<(String, Vec<Scenario>)> = Vec::new();
    let mut other = Vec::new();
    for s in all() {
        if s.group.is_empty() {
            other.push(s);
        } else if let Some((_, list)) = out.iter_mut().find(|(g, _)| *g == s.group) {
            list.push(s);
        } else {
            out.push((s.group.clone(), vec![s]));
        }
    }
    if !other.is_empty() {
        out.push((NO_GROUP.to_string(), other));
    }
    out
}
