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
        return Err(ScenarioError(over(what, n, max)));
    }
    Ok(())
}

/// Checks every count and name of a scenario against the limits, counts first. Linear in the
/// scenario's size.
pub fn check_scenario(s: &Scenario) -> Result<(), ScenarioError> {
    count("page tables", s.page_tables.len(), MAX_PAGE_TABLES)?;
    count("processes", s.processes.len(), MAX_PROCESSES)?;
    count("domains", s.domains.len(), MAX_DOMAINS)?;
    count("masters", s.masters.len(), MAX_MASTERS)?;
    count("threads (CPUs and DMA lanes together)", s.threads.len() + s.dma.len(), MAX_THREADS)?;
    count("default schedules", s.schedules.len(), MAX_DEFAULT_SCHEDULES)?;
    for p in &s.page_tables {
        count(&format!("mappings in page table {}", crate::text::quote(&p.name)), p.map.len(), MAX_MAPPINGS)?;
    }
    for t in &s.threads {
        count(&format!("calls in thread {}", crate::text::quote(&t.name)), t.calls.len(), MAX_CALLS)?;
    }
    for l in &s.dma {
        count(&format!("accesses in DMA lane {}", crate::text::quote(&l.name)), l.accesses.len(), MAX_ACCESSES)?;
    }
    let binds = s.threads.iter().flat_map(|t| &t.calls).filter(|c| matches!(c, Call::SvaSetDevPasid { .. }));
    count("sva_set_dev_pasid calls", binds.count(), MAX_SVA_BINDS)?;
    for m in &s.masters {
        if m.ssids > MAX_SSIDS {
            return Err(ScenarioError(format!(
                "master {} has {} SSIDs (the limit is {MAX_SSIDS})",
                crate::text::quote(&m.name),
                m.ssids
            )));
        }
    }
    check_mutations(s)?;
    if let Some(p) = &s.patch {
        p.check_limits().map_err(ScenarioError)?;
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
            return Err(ScenarioError(format!("mutation {} is listed twice", m.id())));
        }
    }
    Ok(())
}

fn check_texts(s: &Scenario) -> Result<(), ScenarioError> {
    crate::text::check_line("title", &s.title, MAX_TITLE)?;
    crate::text::check_line("group", &s.group, MAX_GROUP)?;
    crate::text::check_prose("description", &s.description, MAX_DESCRIPTION)?;
    for sch in &s.schedules {
        crate::text::check_prose("default schedule", &sch.schedule, MAX_SCHEDULE * (MAX_NAME + 8))?;
    }
    let name = |n: &str| crate::text::check_name(n);
    name(&s.id)?;
    s.page_tables.iter().try_for_each(|p| name(&p.name))?;
    s.processes.iter().try_for_each(|p| name(&p.name).and(name(&p.page_table)))?;
    s.domains.iter().try_for_each(|d| name(&d.name).and(name(&d.page_table)))?;
    s.masters.iter().try_for_each(|m| name(&m.name).and(m.domain.as_deref().map_or(Ok(()), name)))?;
    s.dma.iter().try_for_each(|l| name(&l.name).and(name(&l.master)))?;
    for t in &s.threads {
        name(&t.name)?;
        t.calls.iter().try_for_each(|c| call_names(c).into_iter().try_for_each(name))?;
    }
    Ok(())
}

fn call_names(c: &Call) -> Vec<&str> {
    match c {
        Call::AttachDev { master, domain } => vec![master, domain],
        Call::SvaSetDevPasid { master, process, .. } => vec![master, process],
        Call::SvaRemoveDevPasid { master, .. } | Call::ReleaseDevice { master } => vec![master],
        Call::DomainFree { domain } | Call::Map { domain, .. } | Call::Unmap { domain, .. } => vec![domain],
        Call::MmInvalidate { process, .. } | Call::MmRelease { process } => vec![process],
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
