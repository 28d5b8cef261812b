//! Every size limit on input, in one place.
//!
//! Links and scenario files come from strangers, so every count in them is checked against a
//! limit here before any work whose cost grows with it: [`check_scenario`] is O(size of the
//! scenario) and runs right after a scenario is read (JSON or link) and again at the start of
//! compilation. The values fit every built-in many times over and keep the worst accepted
//! input (a run of [`MAX_TRACE`] steps over the largest world) within a second and well under
//! 100 MiB. The README's "Limits" section lists them; messages name the limit they hit.

use crate::scenario::{Call, Mutation, Scenario, ScenarioError};

/// Page tables per scenario.
pub const MAX_PAGE_TABLES: usize = 32;
/// (iova, pa) mappings per page table.
pub const MAX_MAPPINGS: usize = 64;
/// Processes (SVA `mm`s) per scenario.
pub const MAX_PROCESSES: usize = 16;
/// Domains per scenario.
pub const MAX_DOMAINS: usize = 16;
/// Masters per scenario.
pub const MAX_MASTERS: usize = 16;
/// CD slots (SSIDs) per master.
pub const MAX_SSIDS: u8 = 16;
/// Threads per scenario: CPUs and DMA lanes together.
pub const MAX_THREADS: usize = 8;
/// Kernel function calls per CPU thread.
pub const MAX_CALLS: usize = 32;
/// `sva_set_dev_pasid` calls in a whole scenario (each may allocate a context descriptor and
/// a notifier, which are numbered by a byte together with the domains' descriptors).
pub const MAX_SVA_BINDS: usize = 64;
/// DMA accesses per lane.
pub const MAX_ACCESSES: usize = 64;
/// Instructions in one compiled thread program (program counters and jump targets are `u16`).
pub const MAX_PROGRAM: usize = 2_048;
/// Characters in a name (scenario id, object, thread).
pub const MAX_NAME: usize = 64;
/// Characters in a scenario's title.
pub const MAX_TITLE: usize = 200;
/// Characters in a scenario's group heading.
pub const MAX_GROUP: usize = 64;
/// Characters in a scenario's description.
pub const MAX_DESCRIPTION: usize = 4_000;
/// Default schedules a scenario carries.
pub const MAX_DEFAULT_SCHEDULES: usize = 16;
/// Thread choices in a schedule.
pub const MAX_SCHEDULE: usize = 10_000;
/// Steps in one run, automatically completed steps included. Equal to [`MAX_SCHEDULE`], so
/// the schedule of every run (what `export --format json` and links write) reads back.
pub const MAX_TRACE: usize = MAX_SCHEDULE;

/// Most unique states one exhaustive check may keep: states are numbered with `u32` ids, so
/// a larger `--max-states` is lowered to this (about 4.3e9; memory runs out long before).
pub const MAX_EXPLORED_STATES: u64 = u32::MAX as u64;
/// Characters of a link (the whole text given to the decoder, URL included).
pub const MAX_LINK: usize = 128 * 1024;
/// Bytes of a link's decompressed payload.
pub const MAX_PAYLOAD: usize = 64 * 1024;
/// Bytes of a scenario file.
pub const MAX_FILE: usize = 1024 * 1024;

/// `n` objects of a kind are more than `max`: the message names the limit.
pub fn over(what: &str, n: usize, max: usize) -> String {
    format!("too many {what}: {n} (the limit is {max})")
}

fn count(what: &str, n: usize, max: usize) -> Result<(), ScenarioError> {
    if n > max {
        return Err(ScenarioError::new(over(what, n, max)));
    }
    Ok(())
}

/// [`count`] with the list's path as the field at fault.
fn count_at(field: String, what: &str, n: usize, max: usize) -> Result<(), ScenarioError> {
    count(what, n, max).map_err(|e| e.or_at(|| field))
}

/// Checks every count and name of a scenario against the limits, counts first. Linear in the
/// scenario's size.
pub fn check_scenario(s: &Scenario) -> Result<(), ScenarioError> {
    count_at("page_tables".into(), "page tables", s.page_tables.len(), MAX_PAGE_TABLES)?;
    count_at("processes".into(), "processes", s.processes.len(), MAX_PROCESSES)?;
    count_at("domains".into(), "domains", s.domains.len(), MAX_DOMAINS)?;
    count_at("masters".into(), "masters", s.masters.len(), MAX_MASTERS)?;
    count_at("threads".into(), "threads (CPUs and DMA lanes together)", s.threads.len() + s.dma.len(), MAX_THREADS)?;
    count("default schedules", s.schedules.len(), MAX_DEFAULT_SCHEDULES)?;
    for (i, p) in s.page_tables.iter().enumerate() {
        let what = format!("mappings in page table {}", crate::text::quote(&p.name));
        count_at(format!("page_tables.{i}.map"), &what, p.map.len(), MAX_MAPPINGS)?;
    }
    for (i, t) in s.threads.iter().enumerate() {
        let what = format!("calls in thread {}", crate::text::quote(&t.name));
        count_at(format!("threads.{i}.calls"), &what, t.calls.len(), MAX_CALLS)?;
    }
    for (i, l) in s.dma.iter().enumerate() {
        let what = format!("accesses in DMA lane {}", crate::text::quote(&l.name));
        count_at(format!("dma.{i}.accesses"), &what, l.accesses.len(), MAX_ACCESSES)?;
        let what = format!("fetches in DMA lane {}", crate::text::quote(&l.name));
        count_at(format!("dma.{i}.fetches"), &what, l.fetches.len(), MAX_ACCESSES)?;
    }
    let binds = s.threads.iter().flat_map(|t| &t.calls).filter(|c| matches!(c, Call::SvaSetDevPasid { .. }));
    count("sva_set_dev_pasid calls", binds.count(), MAX_SVA_BINDS)?;
    for (i, m) in s.masters.iter().enumerate() {
        if m.ssids > MAX_SSIDS {
            return Err(ScenarioError {
                message: format!(
                    "master {} has {} SSIDs (the limit is {MAX_SSIDS})",
                    crate::text::quote(&m.name),
                    m.ssids
                ),
                field: Some(format!("masters.{i}.ssids")),
            });
        }
    }
    check_mutations(s)?;
    if let Some(p) = &s.patch {
        p.check_limits().map_err(ScenarioError::new)?;
    }
    if let Some(e) = &s.expect {
        e.check()?;
    }
    check_texts(s)
}

/// Each mutation at most once (so there are at most [`Mutation::ALL`] of them).
fn check_mutations(s: &Scenario) -> Result<(), ScenarioError> {
    count("mutations", s.mutations.len(), Mutation::ALL.len())?;
    for (i, m) in s.mutations.iter().enumerate() {
        if s.mutations[..i].contains(m) {
            return Err(ScenarioError::new(format!("mutation {} is listed twice", m.id())));
        }
    }
    Ok(())
}

fn check_texts(s: &Scenario) -> Result<(), ScenarioError> {
    crate::text::check_line("title", &s.title, MAX_TITLE).map_err(|e| e.or_at(|| "title".into()))?;
    crate::text::check_line("group", &s.group, MAX_GROUP)?;
    crate::text::check_prose("description", &s.description, MAX_DESCRIPTION)
        .map_err(|e| e.or_at(|| "description".into()))?;
    for sch in &s.schedules {
        crate::text::check_prose("default schedule", &sch.schedule, MAX_SCHEDULE * (MAX_NAME + 8))?;
    }
    let name = |n: &str, field: String| crate::text::check_name(n).map_err(|e| e.or_at(|| field));
    name(&s.id, "id".into())?;
    for (i, p) in s.page_tables.iter().enumerate() {
        name(&p.name, format!("page_tables.{i}.name"))?;
    }
    for (i, p) in s.processes.iter().enumerate() {
        name(&p.name, format!("processes.{i}.name"))?;
        name(&p.page_table, format!("processes.{i}.page_table"))?;
    }
    for (i, d) in s.domains.iter().enumerate() {
        name(&d.name, format!("domains.{i}.name"))?;
        name(&d.page_table, format!("domains.{i}.page_table"))?;
    }
    for (i, m) in s.masters.iter().enumerate() {
        name(&m.name, format!("masters.{i}.name"))?;
        m.domain.as_deref().map_or(Ok(()), |d| name(d, format!("masters.{i}.domain")))?;
    }
    for (i, l) in s.dma.iter().enumerate() {
        name(&l.name, format!("dma.{i}.name"))?;
        name(&l.master, format!("dma.{i}.master"))?;
    }
    for (i, t) in s.threads.iter().enumerate() {
        name(&t.name, format!("threads.{i}.name"))?;
        for (c, call) in t.calls.iter().enumerate() {
            for (arg, n) in call_names(call) {
                name(n, format!("threads.{i}.calls.{c}.{arg}"))?;
            }
        }
    }
    Ok(())
}

fn call_names(c: &Call) -> Vec<(&'static str, &str)> {
    match c {
        Call::AttachDev { master, domain } => vec![("master", master), ("domain", domain)],
        Call::SvaSetDevPasid { master, process, .. } => vec![("master", master), ("process", process)],
        Call::SvaRemoveDevPasid { master, .. } | Call::ReleaseDevice { master } => vec![("master", master)],
        Call::DomainFree { domain } | Call::Map { domain, .. } | Call::Unmap { domain, .. } => vec![("domain", domain)],
        Call::MmInvalidate { process, .. } | Call::MmRelease { process } => vec![("process", process)],
    }
}

// Indices are bytes and program counters `u16`: the limits keep every one in range.
const _: () = assert!(MAX_PROGRAM < u16::MAX as usize);
const _: () = assert!(MAX_DOMAINS + MAX_SVA_BINDS <= u8::MAX as usize);
const _: () = assert!(MAX_PAGE_TABLES <= u8::MAX as usize);
const _: () = assert!(MAX_PROCESSES <= u8::MAX as usize);
const _: () = assert!(MAX_MASTERS <= u8::MAX as usize);
const _: () = assert!(MAX_THREADS <= u8::MAX as usize);
const _: () = assert!(MAX_TRACE <= MAX_SCHEDULE);
