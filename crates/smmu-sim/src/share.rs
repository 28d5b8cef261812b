//! Permalinks: a whole scenario, its variant, granularity, schedule and cursor in a short,
//! versioned string for a URL fragment.
//!
//! Format `v<N>.<payload>`: the payload is base64url (no padding) of raw DEFLATE of a postcard
//! encoding of the version's wire layout. The wire types are frozen per version and kept apart
//! from the JSON scenario format, so links made by an older build keep opening; a new layout
//! gets a new version prefix and its own decoder. `v1` carries what the first scenario format
//! had; `v2` adds calls (appended to its `Call` enum) and extension records (`Ext`) for what
//! came later. `v3` has v2's layout and is written whenever the scenario carries a patch of the
//! driver's step scripts, so a build from before patch mode says the link is newer instead of
//! reading it as damaged (v2 links with a patch, written by the first builds of patch mode, still
//! open). `v4`, the same layout again, is written when the link carries the title of a
//! scenario made in the editor (an `Ext` a v3 build does not know), and `v5` when a lane makes
//! SMMU configuration fetches (`Ext::Fetches`). A link is written in the oldest version that
//! carries it, so a link that needs nothing new still opens in a build that reads only `v1`. Decoding never panics: every failure is a
//! [`LinkError`] that says whether the link is damaged, too large or from a newer version.

use crate::builtin;
use crate::scenario::{
    Call, DmaSpec, DomainSpec, FetchSpec, MasterSpec, Mutation, PageTableSpec, ProcessSpec, Scenario, ThreadSpec,
};
use crate::sched::Schedule;
use crate::variant::{Granularity, Variant};
use base64::Engine as _;

/// The newest version this build writes and reads.
pub const VERSION: u32 = 5;

use crate::limits::{MAX_LINK, MAX_PAYLOAD, MAX_TRACE};

/// What a permalink carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The scenario (title and description come from the built-in of the same id when its
    /// topology is identical; prose does not travel in links).
    pub scenario: Scenario,
    /// Kernel variant.
    pub variant: Variant,
    /// Granularity.
    pub granularity: Granularity,
    /// The schedule.
    pub schedule: Schedule,
    /// The selected step, if any.
    pub cursor: Option<u32>,
}

/// Why a link cannot be opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LinkError {
    /// Not a link of this product, or corrupted in transit.
    Damaged(String),
    /// Made by a newer version of the playground.
    Newer(u64),
    /// The scenario is larger than a link can carry ([`MAX_PAYLOAD`] bytes).
    TooLarge,
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::Damaged(why) => write!(f, "this link is damaged ({why})"),
            LinkError::TooLarge => {
                write!(f, "the link's scenario is larger than {} KiB uncompressed (the limit)", MAX_PAYLOAD / 1024)
            }
            LinkError::Newer(v) => {
                write!(
                    f,
                    "this link is from a newer version of the playground (format v{v}; this one reads v1..v{VERSION})"
                )
            }
        }
    }
}

impl std::error::Error for LinkError {}

mod wire {
    //! The v1 layout. Never change these types; add a new version instead.
    use serde::{Deserialize, Serialize};

    /// `C` is [`Call`] in v1 and `super::wire2::Call` in v2; the layout is the same.
    #[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
    pub(super) struct Link<C> {
        pub id: String,
        pub asid_bits: u8,
        pub page_tables: Vec<(String, Vec<(u64, u64)>)>,
        pub processes: Vec<(String, u16, String)>,
        /// (name, stage 0=S1 1=S2 2=bypass, page table, id).
        pub domains: Vec<(String, u8, String, Option<u16>)>,
        /// (name, domain, sva, ats, ssids).
        pub masters: Vec<(String, Option<String>, bool, bool, u8)>,
        pub threads: Vec<(String, Vec<C>)>,
        pub dma: Vec<Lane>,
        /// 0 pre, 1 fix, 2 v6.9.
        pub variant: u8,
        /// 0 mail, 1 source.
        pub granularity: u8,
        /// Run-length encoded thread choices.
        pub schedule: Vec<(u8, u16)>,
        pub cursor: Option<u32>,
    }

    /// (name, master, (ssid, iova) accesses).
    pub(super) type Lane = (String, String, Vec<(u8, u64)>);

    #[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
    pub(super) enum Call {
        AttachDev(String, String),
        SvaSetDevPasid(String, u8, String),
        SvaRemoveDevPasid(String, u8),
        ReleaseDevice(String),
        DomainFree(String),
    }
}

mod wire2 {
    //! The v2 layout: v1's, with calls that may be appended to (never reordered or changed),
    //! followed by extension records. A decoder that meets a call or record it does not know
    //! reads the link as unreadable, which is what a link from a newer build is.
    use serde::{Deserialize, Serialize};

    /// A call. Append new variants at the end only.
    #[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
    pub(super) enum Call {
        AttachDev(String, String),
        SvaSetDevPasid(String, u8, String),
        SvaRemoveDevPasid(String, u8),
        ReleaseDevice(String),
        DomainFree(String),
        /// (domain, iova, pa).
        Map(String, u64, u64),
        /// (domain, iova).
        Unmap(String, u64),
        /// (process, va).
        MmInvalidate(String, u64),
        /// (process).
        MmRelease(String),
    }

    /// What v1 cannot say. Append new variants at the end only.
    #[derive(Serialize, Deserialize, Debug, PartialEq, Eq)]
    pub(super) enum Ext {
        /// (master index, iommu group name).
        Group(u8, String),
        /// The scenario's mutations, by their codes (`super::MUTATION_CODES`).
        Mutations(Vec<u8>),
        /// A DMA lane (by index) that only walks: `walk_only`.
        WalkOnly(u8),
        /// The schedule's memory-image marks: (thread, index among its steps).
        Memory(Vec<(u8, u16)>),
        /// The scenario's patch: (base variant code, edit lines).
        Patch(u8, Vec<String>),
        /// The title of a scenario that is no built-in (one made in the editor), from v4.
        Title(String),
        /// A DMA lane's configuration fetches (by index): codes of `super::FETCH_CODES`.
        Fetches(u8, Vec<u8>),
    }

    /// The v2 payload.
    pub(super) type Link = (super::wire::Link<Call>, Vec<Ext>);
}

fn stage_code(s: crate::state::Stage) -> u8 {
    match s {
        crate::state::Stage::S1 => 0,
        crate::state::Stage::S2 => 1,
        crate::state::Stage::Bypass => 2,
    }
}

fn call_to_wire(c: &Call) -> wire2::Call {
    match c.clone() {
        Call::AttachDev { master, domain } => wire2::Call::AttachDev(master, domain),
        Call::SvaSetDevPasid { master, pasid, process } => wire2::Call::SvaSetDevPasid(master, pasid, process),
        Call::SvaRemoveDevPasid { master, pasid } => wire2::Call::SvaRemoveDevPasid(master, pasid),
        Call::ReleaseDevice { master } => wire2::Call::ReleaseDevice(master),
        Call::DomainFree { domain } => wire2::Call::DomainFree(domain),
        Call::Map { domain, iova, pa } => wire2::Call::Map(domain, iova, pa),
        Call::Unmap { domain, iova } => wire2::Call::Unmap(domain, iova),
        Call::MmInvalidate { process, va } => wire2::Call::MmInvalidate(process, va),
        Call::MmRelease { process } => wire2::Call::MmRelease(process),
    }
}

fn call_from_wire(c: wire2::Call) -> Call {
    match c {
        wire2::Call::AttachDev(master, domain) => Call::AttachDev { master, domain },
        wire2::Call::SvaSetDevPasid(master, pasid, process) => Call::SvaSetDevPasid { master, pasid, process },
        wire2::Call::SvaRemoveDevPasid(master, pasid) => Call::SvaRemoveDevPasid { master, pasid },
        wire2::Call::ReleaseDevice(master) => Call::ReleaseDevice { master },
        wire2::Call::DomainFree(domain) => Call::DomainFree { domain },
        wire2::Call::Map(domain, iova, pa) => Call::Map { domain, iova, pa },
        wire2::Call::Unmap(domain, iova) => Call::Unmap { domain, iova },
        wire2::Call::MmInvalidate(process, va) => Call::MmInvalidate { process, va },
        wire2::Call::MmRelease(process) => Call::MmRelease { process },
    }
}

/// The v1 form of a v2 call, if v1 has it.
fn call_to_v1(c: &wire2::Call) -> Option<wire::Call> {
    Some(match c {
        wire2::Call::AttachDev(m, d) => wire::Call::AttachDev(m.clone(), d.clone()),
        wire2::Call::SvaSetDevPasid(m, p, mm) => wire::Call::SvaSetDevPasid(m.clone(), *p, mm.clone()),
        wire2::Call::SvaRemoveDevPasid(m, p) => wire::Call::SvaRemoveDevPasid(m.clone(), *p),
        wire2::Call::ReleaseDevice(m) => wire::Call::ReleaseDevice(m.clone()),
        wire2::Call::DomainFree(d) => wire::Call::DomainFree(d.clone()),
        wire2::Call::Map(..) | wire2::Call::Unmap(..) | wire2::Call::MmInvalidate(..) | wire2::Call::MmRelease(_) => {
            return None
        }
    })
}

fn call_from_v1(c: wire::Call) -> wire2::Call {
    match c {
        wire::Call::AttachDev(m, d) => wire2::Call::AttachDev(m, d),
        wire::Call::SvaSetDevPasid(m, p, mm) => wire2::Call::SvaSetDevPasid(m, p, mm),
        wire::Call::SvaRemoveDevPasid(m, p) => wire2::Call::SvaRemoveDevPasid(m, p),
        wire::Call::ReleaseDevice(m) => wire2::Call::ReleaseDevice(m),
        wire::Call::DomainFree(d) => wire2::Call::DomainFree(d),
    }
}

/// The wire code of each mutation, frozen: a mutation's code is its index here, and new
/// mutations are appended.
const MUTATION_CODES: [Mutation; 5] = [
    Mutation::CdBeforeList,
    Mutation::NoCdClear,
    Mutation::VmidFreeBeforeFlush,
    Mutation::SteQ0First,
    Mutation::CdQ0First,
];

/// A fetch's code in links: 0 the STE, 1 + ssid a CD (ssids past 254 are beyond any CD table
/// the limits allow).
fn fetch_code(f: FetchSpec) -> u8 {
    match f {
        FetchSpec::Ste => 0,
        FetchSpec::Cd(ssid) => ssid.saturating_add(1),
    }
}

fn fetch_of(code: u8) -> FetchSpec {
    match code.checked_sub(1) {
        None => FetchSpec::Ste,
        Some(ssid) => FetchSpec::Cd(ssid),
    }
}

fn mutation_code(m: Mutation) -> u8 {
    MUTATION_CODES.iter().position(|x| *x == m).map_or(u8::MAX, |i| i as u8)
}

/// The extension records of a scenario: what v1 cannot carry.
fn exts_of(s: &Scenario) -> Vec<wire2::Ext> {
    let mut out = Vec::new();
    if !s.mutations.is_empty() {
        out.push(wire2::Ext::Mutations(s.mutations.iter().map(|m| mutation_code(*m)).collect()));
    }
    for (i, m) in s.masters.iter().enumerate() {
        if let (Some(group), Ok(i)) = (&m.iommu_group, u8::try_from(i)) {
            out.push(wire2::Ext::Group(i, group.clone()));
        }
    }
    for (i, l) in s.dma.iter().enumerate() {
        if let (true, Ok(i)) = (l.walk_only, u8::try_from(i)) {
            out.push(wire2::Ext::WalkOnly(i));
        }
        if let (false, Ok(i)) = (l.fetches.is_empty(), u8::try_from(i)) {
            out.push(wire2::Ext::Fetches(i, l.fetches.iter().map(|f| fetch_code(*f)).collect()));
        }
    }
    if let Some(p) = &s.patch {
        let base = Variant::ALL.iter().position(|v| *v == p.base).map_or(u8::MAX, |i| i as u8);
        out.push(wire2::Ext::Patch(base, p.edits.iter().map(|e| e.to_string()).collect()));
    }
    if custom_title(s) {
        out.push(wire2::Ext::Title(s.title.clone()));
    }
    out
}

/// Whether a scenario's title travels: its id is no built-in's (a changed built-in opens as
/// "<id> (custom)", since its title would claim what it no longer is), and its title is its
/// own (not the one a link without a title gets).
fn custom_title(s: &Scenario) -> bool {
    builtin::get(&s.id).is_none() && !s.title.is_empty() && s.title != untitled(&s.id)
}

/// The title of a custom scenario whose link carries none.
fn untitled(id: &str) -> String {
    format!("{id} (custom)")
}

fn patch_from_wire(base: u8, edits: Vec<String>) -> Result<crate::patch::Patch, LinkError> {
    let base = *Variant::ALL.get(usize::from(base)).ok_or_else(|| damaged("a patch of an unknown variant"))?;
    if edits.len() > crate::patch::MAX_EDITS {
        return Err(damaged("a patch with more edits than the limit"));
    }
    let edits = edits.iter().map(|e| e.parse()).collect::<Result<_, String>>();
    let edits = edits.map_err(|e| damaged(format!("its patch: {e}")))?;
    Ok(crate::patch::Patch { base, edits })
}

/// Applies extension records to a decoded scenario.
fn apply_exts(s: &mut Scenario, exts: Vec<wire2::Ext>) -> Result<(), LinkError> {
    for e in exts {
        match e {
            wire2::Ext::Group(m, group) => {
                let m = s.masters.get_mut(usize::from(m)).ok_or_else(|| damaged("a group names a missing master"))?;
                m.iommu_group = Some(group);
            }
            wire2::Ext::WalkOnly(l) => {
                let l = s.dma.get_mut(usize::from(l)).ok_or_else(|| damaged("a walk names a missing DMA lane"))?;
                l.walk_only = true;
            }
            wire2::Ext::Fetches(l, codes) => {
                let l = s.dma.get_mut(usize::from(l)).ok_or_else(|| damaged("a fetch names a missing DMA lane"))?;
                if !l.fetches.is_empty() || codes.len() > crate::limits::MAX_ACCESSES {
                    return Err(damaged("a lane's fetches twice, or too many"));
                }
                l.fetches.extend(codes.into_iter().map(fetch_of));
            }
            wire2::Ext::Memory(_) => return Err(damaged("a second set of memory-image marks")),
            wire2::Ext::Title(title) => {
                if !s.title.is_empty() {
                    return Err(damaged("a second title"));
                }
                s.title = title;
            }
            wire2::Ext::Patch(base, edits) => {
                if s.patch.is_some() {
                    return Err(damaged("a second patch"));
                }
                s.patch = Some(patch_from_wire(base, edits)?);
            }
            wire2::Ext::Mutations(codes) => {
                // At most one of each (checked with the rest of the scenario after this).
                if codes.len() > MUTATION_CODES.len() {
                    return Err(damaged("more mutations than there are"));
                }
                for c in codes {
                    let m = MUTATION_CODES.get(usize::from(c)).ok_or_else(|| damaged("an unknown mutation"))?;
                    s.mutations.push(*m);
                }
            }
        }
    }
    Ok(())
}

fn to_wire(link: &Link) -> wire2::Link {
    let s = &link.scenario;
    let calls = |t: &ThreadSpec| t.calls.iter().map(call_to_wire).collect();
    let mut runs: Vec<(u8, u16)> = Vec::new();
    for t in &link.schedule.0 {
        match runs.last_mut() {
            Some((last, n)) if *last == t.0 && *n < u16::MAX => *n += 1,
            _ => runs.push((t.0, 1)),
        }
    }
    let base = wire::Link {
        id: s.id.clone(),
        asid_bits: s.asid_bits,
        page_tables: s.page_tables.iter().map(|p| (p.name.clone(), p.map.clone())).collect(),
        processes: s.processes.iter().map(|p| (p.name.clone(), p.cpu_asid, p.page_table.clone())).collect(),
        domains: s.domains.iter().map(|d| (d.name.clone(), stage_code(d.stage), d.page_table.clone(), d.id)).collect(),
        masters: s.masters.iter().map(|m| (m.name.clone(), m.domain.clone(), m.sva, m.ats, m.ssids)).collect(),
        threads: s.threads.iter().map(|t| (t.name.clone(), calls(t))).collect(),
        dma: s.dma.iter().map(|d| (d.name.clone(), d.master.clone(), d.accesses.clone())).collect(),
        variant: Variant::ALL.iter().position(|v| *v == link.variant).unwrap_or(0) as u8,
        granularity: Granularity::ALL.iter().position(|g| *g == link.granularity).unwrap_or(0) as u8,
        schedule: runs,
        cursor: link.cursor,
    };
    let mut exts = exts_of(s);
    if !link.schedule.1.is_empty() {
        exts.push(wire2::Ext::Memory(link.schedule.1.iter().map(|(t, k)| (t.0, *k)).collect()));
    }
    (base, exts)
}

/// Takes the memory-image marks out of the extension records, checked against the threads.
fn take_memory(exts: &mut Vec<wire2::Ext>, threads: usize) -> Result<crate::sched::Memory, LinkError> {
    let Some(i) = exts.iter().position(|e| matches!(e, wire2::Ext::Memory(_))) else {
        return Ok(crate::sched::Memory::new());
    };
    let wire2::Ext::Memory(marks) = exts.remove(i) else { unreachable!("found by position") };
    if marks.len() > crate::sched::MAX_LEN {
        return Err(damaged(format!("more than {} memory-image marks, the limit", crate::sched::MAX_LEN)));
    }
    let mut out = crate::sched::Memory::new();
    for (t, k) in marks {
        if usize::from(t) >= threads {
            return Err(damaged(format!(
                "a memory-image mark names thread {t}, but the scenario has {threads} threads"
            )));
        }
        if usize::from(k) >= MAX_TRACE {
            return Err(damaged("a memory-image mark is past the longest run"));
        }
        out.insert((crate::ids::ThreadId(t), k));
    }
    Ok(out)
}

/// The v1 layout of a link, when it needs nothing v1 lacks.
fn to_v1((w, exts): &wire2::Link) -> Option<wire::Link<wire::Call>> {
    if !exts.is_empty() {
        return None;
    }
    let mut threads = Vec::new();
    for (name, calls) in &w.threads {
        threads.push((name.clone(), calls.iter().map(call_to_v1).collect::<Option<Vec<_>>>()?));
    }
    Some(wire::Link {
        id: w.id.clone(),
        asid_bits: w.asid_bits,
        page_tables: w.page_tables.clone(),
        processes: w.processes.clone(),
        domains: w.domains.clone(),
        masters: w.masters.clone(),
        threads,
        dma: w.dma.clone(),
        variant: w.variant,
        granularity: w.granularity,
        schedule: w.schedule.clone(),
        cursor: w.cursor,
    })
}

/// A v1 link in the v2 layout.
fn from_v1(w: wire::Link<wire::Call>) -> wire2::Link {
    let threads =
        w.threads.into_iter().map(|(name, calls)| (name, calls.into_iter().map(call_from_v1).collect())).collect();
    let base = wire::Link {
        id: w.id,
        asid_bits: w.asid_bits,
        page_tables: w.page_tables,
        processes: w.processes,
        domains: w.domains,
        masters: w.masters,
        threads,
        dma: w.dma,
        variant: w.variant,
        granularity: w.granularity,
        schedule: w.schedule,
        cursor: w.cursor,
    };
    (base, Vec::new())
}

fn damaged(why: impl Into<String>) -> LinkError {
    LinkError::Damaged(why.into())
}

fn from_wire((w, mut exts): wire2::Link) -> Result<Link, LinkError> {
    let stage = |c: u8| match c {
        0 => Ok(crate::state::Stage::S1),
        1 => Ok(crate::state::Stage::S2),
        2 => Ok(crate::state::Stage::Bypass),
        _ => Err(damaged("unknown domain stage")),
    };
    let mut domains = Vec::new();
    for (name, st, page_table, id) in w.domains {
        domains.push(DomainSpec { name, stage: stage(st)?, page_table, id });
    }
    let variant = *Variant::ALL.get(usize::from(w.variant)).ok_or_else(|| damaged("unknown variant"))?;
    let granularity =
        *Granularity::ALL.get(usize::from(w.granularity)).ok_or_else(|| damaged("unknown granularity"))?;
    let total: usize = w.schedule.iter().map(|(_, n)| usize::from(*n)).sum();
    if total > crate::sched::MAX_LEN {
        return Err(damaged(format!("schedule longer than {} steps, the limit", crate::sched::MAX_LEN)));
    }
    let threads = w.threads.len() + w.dma.len();
    if let Some((t, _)) = w.schedule.iter().find(|(t, _)| usize::from(*t) >= threads) {
        return Err(damaged(format!("the schedule names thread {t}, but the scenario has {threads} threads")));
    }
    let memory = take_memory(&mut exts, threads)?;
    if w.cursor.is_some_and(|c| usize::try_from(c).is_ok_and(|c| c >= MAX_TRACE)) {
        return Err(damaged("the selected step is past the longest run"));
    }
    let schedule = w.schedule.iter().flat_map(|(t, n)| std::iter::repeat_n(crate::ids::ThreadId(*t), usize::from(*n)));
    let mut scenario = Scenario {
        format: crate::scenario::FORMAT,
        id: w.id,
        title: String::new(),
        description: String::new(),
        group: String::new(),
        expect: None,
        mutations: Vec::new(),
        patch: None,
        variant,
        granularity,
        asid_bits: w.asid_bits,
        page_tables: w.page_tables.into_iter().map(|(name, map)| PageTableSpec { name, map }).collect(),
        processes: w
            .processes
            .into_iter()
            .map(|(name, cpu_asid, page_table)| ProcessSpec { name, cpu_asid, page_table })
            .collect(),
        domains,
        masters: w
            .masters
            .into_iter()
            .map(|(name, domain, sva, ats, ssids)| MasterSpec { name, domain, sva, ats, ssids, iommu_group: None })
            .collect(),
        threads: w
            .threads
            .into_iter()
            .map(|(name, calls)| ThreadSpec { name, calls: calls.into_iter().map(call_from_wire).collect() })
            .collect(),
        dma: w
            .dma
            .into_iter()
            .map(|(name, master, accesses)| DmaSpec { name, master, accesses, walk_only: false, fetches: Vec::new() })
            .collect(),
        schedules: Vec::new(),
    };
    apply_exts(&mut scenario, exts)?;
    crate::limits::check_scenario(&scenario).map_err(|e| damaged(e.message))?;
    restore_prose(&mut scenario);
    Ok(Link { scenario, variant, granularity, schedule: Schedule(schedule.collect(), memory), cursor: w.cursor })
}

/// Title, description, group, expected verdicts and default schedules come from the
/// built-in with the same id, topology and mutations; anything else is a custom scenario.
/// A patch does not make a scenario custom: the page says it runs patched, and that the
/// expected verdicts it shows are the unpatched driver's.
fn restore_prose(s: &mut Scenario) {
    match builtin::get(&s.id) {
        Some(b) if strip(&b) == strip(s) => {
            s.title = b.title;
            s.description = b.description;
            s.group = b.group;
            s.expect = b.expect;
            s.schedules = b.schedules;
            s.variant = b.variant;
            s.granularity = b.granularity;
        }
        _ if !s.title.is_empty() => {}
        _ => s.title = untitled(&s.id),
    }
}

fn strip(s: &Scenario) -> Scenario {
    Scenario {
        title: String::new(),
        description: String::new(),
        group: String::new(),
        expect: None,
        schedules: Vec::new(),
        variant: Variant::Pre,
        granularity: Granularity::Mail,
        patch: None,
        ..s.clone()
    }
}

/// Encodes a link as `v1.<base64url>`, or `v2.` when it needs what v1 lacks, `v3.` when it
/// carries a patch, `v4.` when it carries a custom scenario's title, or `v5.` when a lane
/// fetches configuration. Refuses a link
/// [`decode`] would refuse for its size: a payload over [`MAX_PAYLOAD`] bytes or a code over
/// [`MAX_LINK`] characters.
pub fn encode(link: &Link) -> Result<String, LinkError> {
    let w = to_wire(link);
    let written = match to_v1(&w) {
        Some(v1) => postcard::to_allocvec(&v1).map(|b| (1, b)),
        None => {
            let has = |f: fn(&wire2::Ext) -> bool| w.1.iter().any(f);
            let version = if has(|e| matches!(e, wire2::Ext::Fetches(..))) {
                5
            } else if has(|e| matches!(e, wire2::Ext::Title(..))) {
                4
            } else if has(|e| matches!(e, wire2::Ext::Patch(..))) {
                3
            } else {
                2
            };
            postcard::to_allocvec(&w).map(|b| (version, b))
        }
    };
    let (version, bytes) = written.map_err(|_| damaged("the scenario cannot be written"))?;
    if bytes.len() > MAX_PAYLOAD {
        return Err(LinkError::TooLarge);
    }
    let packed = miniz_oxide::deflate::compress_to_vec(&bytes, 10);
    let code = format!("v{version}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(packed));
    if code.len() > MAX_LINK {
        return Err(LinkError::TooLarge);
    }
    Ok(code)
}

/// The `v<N>.<payload>` code of a link, a fragment (`#v1.…`) or a whole URL containing one,
/// percent-decoded first (mailers and chat apps write `#` as `%23`).
fn code_of(text: &str) -> Result<String, LinkError> {
    if text.len() > MAX_LINK {
        return Err(damaged(format!("longer than {} KiB, the limit", MAX_LINK / 1024)));
    }
    let text = percent_encoding::percent_decode_str(text.trim())
        .decode_utf8()
        .map_err(|_| damaged("percent-encoding that is not UTF-8"))?;
    let frag = text.rsplit_once('#').map_or(&*text, |(_, f)| f);
    Ok(frag.rsplit('/').next().unwrap_or(frag).trim().to_string())
}

/// The version of a `v<N>.` prefix.
fn version_of(prefix: &str) -> Result<u64, LinkError> {
    let digits = prefix.strip_prefix('v').filter(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
    let digits = digits.ok_or_else(|| damaged("no version prefix"))?;
    digits.parse().map_err(|_| damaged(format!("unsupported version v{}…", &digits[..digits.len().min(20)])))
}

/// Raw DEFLATE of at most [`MAX_PAYLOAD`] bytes that ends exactly where `packed` ends.
fn inflate(packed: &[u8]) -> Result<Vec<u8>, LinkError> {
    use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
    use miniz_oxide::inflate::TINFLStatus;
    let mut out = vec![0; MAX_PAYLOAD];
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let (status, read, written) = decompress(&mut DecompressorOxide::new(), packed, &mut out, 0, flags);
    match status {
        TINFLStatus::Done if read == packed.len() => {
            out.truncate(written);
            Ok(out)
        }
        TINFLStatus::Done => Err(damaged("trailing bytes after the payload")),
        TINFLStatus::HasMoreOutput => Err(LinkError::TooLarge),
        _ => Err(damaged("compressed data is corrupt or truncated")),
    }
}

/// Decodes a link, a fragment (`#v1.…`), or a whole URL containing one. Sizes are checked
/// first (the text against [`MAX_LINK`], the payload against [`MAX_PAYLOAD`]); a link carries
/// exactly one payload, and anything after it makes the link damaged.
pub fn decode(text: &str) -> Result<Link, LinkError> {
    let code = code_of(text)?;
    let (version, payload) = code.split_once('.').ok_or_else(|| damaged("no version prefix"))?;
    let version = version_of(version)?;
    if version > u64::from(VERSION) {
        return Err(LinkError::Newer(version));
    }
    if version == 0 {
        return Err(damaged("version 0"));
    }
    let packed =
        base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(payload).map_err(|_| damaged("not base64url"))?;
    let bytes = inflate(&packed)?;
    let (w, rest) = match version {
        1 => postcard::take_from_bytes::<wire::Link<wire::Call>>(&bytes).map(|(w, rest)| (from_v1(w), rest)),
        _ => postcard::take_from_bytes::<wire2::Link>(&bytes),
    }
    .map_err(|_| damaged("unreadable payload"))?;
    if !rest.is_empty() {
        return Err(damaged("trailing bytes"));
    }
    from_wire(w)
}
