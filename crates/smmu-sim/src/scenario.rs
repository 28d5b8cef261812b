//! The scenario file format (versioned JSON) and its compilation into a [`World`].
//!
//! A scenario names its objects; compilation resolves the names, checks them, builds the
//! initial state (attached masters have their STE and `CD[0]` installed and are on their
//! domain's devices list) and compiles every thread for a variant and granularity.

use crate::ids::{CtxId, DomainId, GroupId, LockId, MasterId, MmId, PtId, ThreadId};
use crate::kernel::{self, Builder, CoreFn};
use crate::limits::{self, MAX_DOMAINS, MAX_FILE, MAX_MASTERS, MAX_THREADS};
use crate::patch::{Body, Patch, UnitInfo};
use crate::program::{Kind, Op, Program};
use crate::state::{Cd, CtxDesc, Domain, Master, Slot, Stage, State, Thread};
use crate::ste::Ste;
use crate::text::quote;
use crate::variant::{Granularity, Variant};
use crate::world::{DomainInfo, MasterInfo, MmInfo, PageTable, Topology, World};
use serde::{Deserialize, Serialize};

mod expect;

pub use crate::mutation::Mutation;
pub use expect::{ByGranularity, Expect, Expected};

/// The current format version.
pub const FORMAT: u32 = 1;

/// A scenario as written in JSON.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// Format version; must be [`FORMAT`].
    pub format: u32,
    /// Short id, e.g. `seed-race`.
    pub id: String,
    /// One line.
    pub title: String,
    /// What it shows and what to try.
    #[serde(default)]
    pub description: String,
    /// The heading it is listed under (`The seed race`, `Mutations`, ...); none when empty.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group: String,
    /// The safety invariants the exhaustive explorer finds violated, per variant.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expect: Option<Expect>,
    /// Changes to the driver's scripts this scenario runs under ([`Mutation`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mutations: Vec<Mutation>,
    /// Edits to the step scripts of one variant ([`Patch`]), which then runs patched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch: Option<Patch>,
    /// Default kernel variant.
    pub variant: Variant,
    /// Default granularity.
    pub granularity: Granularity,
    /// `asid_bits` (8 or 16).
    #[serde(default = "default_asid_bits")]
    pub asid_bits: u8,
    /// Page tables.
    pub page_tables: Vec<PageTableSpec>,
    /// Processes for SVA.
    #[serde(default)]
    pub processes: Vec<ProcessSpec>,
    /// Domains.
    pub domains: Vec<DomainSpec>,
    /// Masters.
    pub masters: Vec<MasterSpec>,
    /// CPU threads.
    pub threads: Vec<ThreadSpec>,
    /// Device DMA lanes.
    #[serde(default)]
    pub dma: Vec<DmaSpec>,
    /// Default schedule, per granularity (see [`crate::sched::Schedule`]).
    #[serde(default)]
    pub schedules: Vec<ScheduleSpec>,
}

fn default_asid_bits() -> u8 {
    8
}

/// A page table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageTableSpec {
    /// Name.
    pub name: String,
    /// (iova, pa) pairs.
    pub map: Vec<(u64, u64)>,
}

/// A process.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProcessSpec {
    /// Name.
    pub name: String,
    /// Its CPU ASID.
    pub cpu_asid: u16,
    /// Its page table.
    pub page_table: String,
}

/// A domain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DomainSpec {
    /// Name.
    pub name: String,
    /// Stage.
    pub stage: Stage,
    /// Its io-pgtable.
    pub page_table: String,
    /// For a domain finalised before the scenario starts: its ASID (S1) or VMID (S2).
    #[serde(default)]
    pub id: Option<u16>,
}

/// A master.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MasterSpec {
    /// Name.
    pub name: String,
    /// The domain it is attached to at the start.
    #[serde(default)]
    pub domain: Option<String>,
    /// SVA enabled.
    #[serde(default)]
    pub sva: bool,
    /// ATS supported.
    #[serde(default)]
    pub ats: bool,
    /// Number of CD slots (SSIDs), at least 1.
    #[serde(default = "default_ssids")]
    pub ssids: u8,
    /// Its iommu group, shared with the masters that name the same group; a master without
    /// one is alone in its group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iommu_group: Option<String>,
}

fn default_ssids() -> u8 {
    2
}

/// A kernel function a thread calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "fn", rename_all = "snake_case", deny_unknown_fields)]
pub enum Call {
    /// `arm_smmu_attach_dev(domain, master)`.
    AttachDev {
        /// The master.
        master: String,
        /// The new domain.
        domain: String,
    },
    /// `arm_smmu_sva_set_dev_pasid`.
    SvaSetDevPasid {
        /// The master.
        master: String,
        /// The PASID.
        pasid: u8,
        /// The process.
        process: String,
    },
    /// `arm_smmu_sva_remove_dev_pasid`.
    SvaRemoveDevPasid {
        /// The master.
        master: String,
        /// The PASID.
        pasid: u8,
    },
    /// `arm_smmu_release_device`.
    ReleaseDevice {
        /// The master.
        master: String,
    },
    /// `arm_smmu_domain_free`.
    DomainFree {
        /// The domain.
        domain: String,
    },
    /// `iommu_map` of one page on a paging domain: `arm_smmu_map_pages`.
    Map {
        /// The domain.
        domain: String,
        /// The page's address.
        iova: u64,
        /// Where it goes.
        pa: u64,
    },
    /// `iommu_unmap` of one page: `arm_smmu_unmap_pages`, then `arm_smmu_iotlb_sync`.
    Unmap {
        /// The domain.
        domain: String,
        /// The page's address.
        iova: u64,
    },
    /// The CPU unmaps a page of a process: the PTE clear, then the mmu notifiers'
    /// `arm_smmu_mm_arch_invalidate_secondary_tlbs`.
    MmInvalidate {
        /// The process.
        process: String,
        /// The page's address.
        va: u64,
    },
    /// The process exits: `arm_smmu_mm_release` for each of its notifiers, on the PASID
    /// the scenario binds it with.
    MmRelease {
        /// The process.
        process: String,
    },
}

impl Call {
    /// The master whose iommu group the core locks around this call, if any.
    pub fn group_master(&self) -> Option<&str> {
        match self {
            Call::AttachDev { master, .. }
            | Call::SvaSetDevPasid { master, .. }
            | Call::SvaRemoveDevPasid { master, .. }
            | Call::ReleaseDevice { master } => Some(master),
            // iommu_map/unmap work on the domain; the mm core calls the notifiers without it.
            Call::DomainFree { .. } | Call::Map { .. } | Call::Unmap { .. } => None,
            Call::MmInvalidate { .. } | Call::MmRelease { .. } => None,
        }
    }
}

/// A domain that has io-pgtable ops (`smmu_domain->pgtbl_ops`): S1 or S2.
fn paging(topo: &Topology, d: DomainId) -> Result<DomainId, ScenarioError> {
    match topo.domains[d.ix()].stage {
        Stage::Bypass => err(format!("domain '{}' is an identity domain: it has no page table to map", topo.domain(d))),
        _ => Ok(d),
    }
}

/// A CPU thread: a sequence of calls.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ThreadSpec {
    /// `CPU0`, ...
    pub name: String,
    /// Calls in order.
    pub calls: Vec<Call>,
}

/// A DMA lane: one device's transactions in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DmaSpec {
    /// `DMA A`, ...
    pub name: String,
    /// The master.
    pub master: String,
    /// (ssid, iova) per transaction.
    pub accesses: Vec<(u8, u64)>,
    /// Each access is a walk that fills the IOTLB through the STE and CD the SMMU may use,
    /// with no transaction: nothing is translated for the device, so the `dma` invariant
    /// has nothing to check. The architecture lets an SMMU cache translations from valid
    /// structures ahead of any access (speculative walks, prefetch); this asks whether a
    /// race needs the device to issue DMA at all.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub walk_only: bool,
    /// Configuration fetches the SMMU makes for this master before the lane's accesses:
    /// `"ste"` reads its STE qword by qword ([`crate::program::Op::FetchSte`]), `"cd0"`,
    /// `"cd1"`, ... its CD at that substream ([`crate::program::Op::FetchCd`]); the `torn` rule
    /// judges what they read. A lane may have fetches and no accesses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fetches: Vec<FetchSpec>,
}

/// A configuration fetch of a lane, written `ste` or `cd<ssid>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum FetchSpec {
    /// The master's STE.
    Ste,
    /// The master's CD at this substream.
    Cd(u8),
}

impl TryFrom<String> for FetchSpec {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let cd =
            s.strip_prefix("cd").filter(|n| !n.is_empty() && n.len() <= 3 && n.bytes().all(|b| b.is_ascii_digit()));
        match (s.as_str(), cd.and_then(|n| n.parse().ok())) {
            ("ste", _) => Ok(FetchSpec::Ste),
            (_, Some(ssid)) => Ok(FetchSpec::Cd(ssid)),
            _ => Err(format!("unknown fetch {} (expected ste, or cd and a substream: cd0)", quote(&s))),
        }
    }
}

impl From<FetchSpec> for String {
    fn from(f: FetchSpec) -> String {
        match f {
            FetchSpec::Ste => "ste".into(),
            FetchSpec::Cd(ssid) => format!("cd{ssid}"),
        }
    }
}

/// A default schedule for one granularity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScheduleSpec {
    /// Granularity it is written for.
    pub granularity: Granularity,
    /// Variant it is written for (any when absent).
    #[serde(default)]
    pub variant: Option<Variant>,
    /// The schedule text.
    pub schedule: String,
}

/// A scenario that cannot be used, with the reason and, where one field is at fault, its
/// path in the JSON (`masters.1.domain`, `threads.0.calls.2.master`), which the page's
/// editor shows the message at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScenarioError {
    /// The reason, in words.
    pub message: String,
    /// The field at fault, as a dotted JSON path; `None` when it is the scenario as a whole.
    pub field: Option<String>,
}

impl ScenarioError {
    /// An error of the scenario as a whole.
    pub fn new(message: impl Into<String>) -> Self {
        ScenarioError { message: message.into(), field: None }
    }

    /// The same error at `field`, unless it already names a field (the innermost one wins).
    pub fn or_at(self, field: impl FnOnce() -> String) -> Self {
        ScenarioError { field: self.field.or_else(|| Some(field())), ..self }
    }

    /// The same error inside `prefix`: its field, if any, is relative to it.
    pub fn under(self, prefix: &str) -> Self {
        let field = Some(self.field.map_or_else(|| prefix.to_string(), |f| format!("{prefix}.{f}")));
        ScenarioError { field, ..self }
    }
}

/// `Result::map_err` adapter: put an error at a field (see [`ScenarioError::or_at`]).
fn at(field: impl FnOnce() -> String) -> impl FnOnce(ScenarioError) -> ScenarioError {
    move |e| e.or_at(field)
}

impl std::fmt::Display for ScenarioError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ScenarioError {}

fn err<T>(msg: impl Into<String>) -> Result<T, ScenarioError> {
    Err(ScenarioError::new(msg.into()))
}

fn find<T>(items: &[T], name: &str, what: &str, key: impl Fn(&T) -> &str) -> Result<u8, ScenarioError> {
    match items.iter().position(|i| key(i) == name).map(u8::try_from) {
        Some(Ok(i)) => Ok(i),
        Some(Err(_)) => err(format!("{what} {} is past the 256th", quote(name))),
        None => err(format!("unknown {what} {}", quote(name))),
    }
}

/// Names are non-empty and distinct (n log n). `field(i)` is the path of the `i`th name.
fn unique<'a>(
    names: impl Iterator<Item = &'a str>,
    what: &str,
    field: impl Fn(usize) -> String,
) -> Result<(), ScenarioError> {
    let mut seen = std::collections::BTreeSet::new();
    for (i, name) in names.enumerate() {
        if name.is_empty() {
            return err(format!("a {what} has an empty name")).map_err(at(|| field(i)));
        }
        if !seen.insert(name) {
            return err(format!("two {what}s are named {}", quote(name))).map_err(at(|| field(i)));
        }
    }
    Ok(())
}

/// The path of the `i`th name of a list.
fn name_at(list: &'static str) -> impl Fn(usize) -> String {
    move |i| format!("{list}.{i}.name")
}

/// The path of the `i`th thread's name, counting CPU threads and then DMA lanes.
fn thread_name_at(cpus: usize) -> impl Fn(usize) -> String {
    move |i| if i < cpus { format!("threads.{i}.name") } else { format!("dma.{}.name", i - cpus) }
}

/// No thread is named like another thread's index: a schedule names every thread by its
/// index as well (`0.1.2`), and could not tell the two apart.
fn no_index_names<'a>(
    names: impl Iterator<Item = &'a str> + Clone,
    field: impl Fn(usize) -> String,
) -> Result<(), ScenarioError> {
    let n = names.clone().count();
    for (i, name) in names.enumerate() {
        if let Some(k) = (0..n).find(|k| *k != i && k.to_string() == name) {
            return err(format!("thread {} is named like thread {k}'s index, which schedules use", quote(name)))
                .map_err(at(|| field(i)));
        }
    }
    Ok(())
}

impl Scenario {
    /// Parses JSON (a leading UTF-8 byte order mark is skipped), with a message that says
    /// where it went wrong, and checks it against the [`limits`](crate::limits).
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        if text.len() > MAX_FILE {
            return err(format!("the scenario is larger than {} KiB (the limit)", MAX_FILE / 1024));
        }
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let s: Scenario = serde_json::from_str(text).map_err(|e| ScenarioError::new(format!("scenario JSON: {e}")))?;
        if s.format != FORMAT {
            return err(format!("scenario format {} is not supported (this build reads format {FORMAT})", s.format));
        }
        limits::check_scenario(&s)?;
        Ok(s)
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("a scenario always serialises")
    }

    /// This scenario fixed to a world's variant and granularity, with `schedule` as its default
    /// schedule for that granularity: the JSON the CLI reads back (`export --format json`).
    pub fn with_schedule(&self, world: &World, schedule: &crate::sched::Schedule) -> Scenario {
        let mut s = self.clone();
        s.variant = world.variant;
        s.granularity = world.granularity;
        s.schedules.retain(|x| x.granularity != world.granularity || x.variant.is_some());
        s.schedules.push(ScheduleSpec {
            granularity: world.granularity,
            variant: None,
            schedule: schedule.to_names(world),
        });
        s
    }

    /// The default schedule text for a variant and granularity, if any.
    pub fn default_schedule(&self, variant: Variant, granularity: Granularity) -> Option<&str> {
        let fits = |s: &&ScheduleSpec| s.granularity == granularity;
        let exact = self.schedules.iter().filter(fits).find(|s| s.variant == Some(variant));
        exact.or_else(|| self.schedules.iter().filter(fits).find(|s| s.variant.is_none())).map(|s| s.schedule.as_str())
    }

    fn topology(&self) -> Result<Topology, ScenarioError> {
        limits::check_scenario(self)?;
        unique(self.page_tables.iter().map(|p| p.name.as_str()), "page table", name_at("page_tables"))?;
        unique(self.processes.iter().map(|p| p.name.as_str()), "process", name_at("processes"))?;
        unique(self.domains.iter().map(|d| d.name.as_str()), "domain", name_at("domains"))?;
        unique(self.masters.iter().map(|m| m.name.as_str()), "master", name_at("masters"))?;
        if !(1..=16).contains(&self.asid_bits) {
            return err(format!("asid_bits {} is out of range 1..=16", self.asid_bits))
                .map_err(at(|| "asid_bits".into()));
        }
        let pt = |n: &str| find(&self.page_tables, n, "page table", |p| &p.name).map(PtId);
        let pts = self.page_tables.iter().map(|p| {
            let mut map = p.map.clone();
            map.sort();
            PageTable { name: p.name.clone(), map }
        });
        let mut domains = Vec::new();
        for (i, d) in self.domains.iter().enumerate() {
            let pt = pt(&d.page_table).map_err(at(|| format!("domains.{i}.page_table")))?;
            domains.push(DomainInfo { name: d.name.clone(), stage: d.stage, pt });
        }
        let mut mms: Vec<MmInfo> = Vec::new();
        for (i, p) in self.processes.iter().enumerate() {
            check_cpu_asid(p, &mms, self.asid_bits).map_err(at(|| format!("processes.{i}.cpu_asid")))?;
            let pgd = pt(&p.page_table).map_err(at(|| format!("processes.{i}.page_table")))?;
            mms.push(MmInfo { name: p.name.clone(), cpu_asid: p.cpu_asid, pgd });
        }
        let mut groups: Vec<String> = Vec::new();
        let mut masters = Vec::new();
        for m in &self.masters {
            let name = m.iommu_group.as_ref().map_or_else(|| m.name.clone(), |g| g.clone());
            let ix = groups.iter().position(|g| *g == name).unwrap_or_else(|| {
                groups.push(name);
                groups.len() - 1
            });
            // At most MAX_MASTERS (< 256) groups.
            let group =
                GroupId::from_index(ix).ok_or_else(|| ScenarioError::new(limits::over("groups", ix, MAX_MASTERS)))?;
            masters.push(MasterInfo { name: m.name.clone(), ssids: m.ssids.max(1), ats_supported: m.ats, group });
        }
        for (i, a) in self.masters.iter().enumerate() {
            if let Some(b) = self.masters[..i].iter().zip(&masters).find(|(_, info)| info.group == masters[i].group) {
                if b.0.domain != a.domain {
                    return err(format!(
                        "masters {} and {} share iommu group {} but start on different domains (the core attaches a group as a whole)",
                        quote(&b.0.name),
                        quote(&a.name),
                        quote(&groups[masters[i].group.ix()])
                    ))
                    .map_err(at(|| format!("masters.{i}.domain")));
                }
            }
        }
        let contended = self.contended_groups(&masters, groups.len());
        Ok(Topology { asid_bits: self.asid_bits, masters, domains, pts: pts.collect(), mms, groups, contended })
    }

    /// Per group: whether two CPU threads call into masters of it. Only then can its
    /// `group->mutex` block anyone; an uncontended one is left out of the programs, since its
    /// steps would change no outcome and only add orders.
    fn contended_groups(&self, masters: &[MasterInfo], n_groups: usize) -> Vec<bool> {
        let mut first: Vec<Option<usize>> = vec![None; n_groups];
        let mut contended = vec![false; n_groups];
        for (t, thread) in self.threads.iter().enumerate() {
            for call in &thread.calls {
                let Some(name) = call.group_master() else { continue };
                let Some(g) = self.masters.iter().position(|m| m.name == name).map(|i| masters[i].group.ix()) else {
                    continue;
                };
                match first[g] {
                    None => first[g] = Some(t),
                    Some(u) if u != t => contended[g] = true,
                    Some(_) => {}
                }
            }
        }
        contended
    }

    /// Compiles the scenario for a variant and granularity. Checks the limits first.
    pub fn compile(&self, variant: Variant, granularity: Granularity) -> Result<World, ScenarioError> {
        let topo = self.topology()?;
        if self.threads.is_empty() && self.dma.is_empty() {
            return err(format!("a scenario has 1 to {MAX_THREADS} threads (CPUs and DMA lanes together)"))
                .map_err(at(|| "threads".into()));
        }
        let names = self.threads.iter().map(|t| t.name.as_str()).chain(self.dma.iter().map(|l| l.name.as_str()));
        unique(names.clone(), "thread", thread_name_at(self.threads.len()))?;
        no_index_names(names, thread_name_at(self.threads.len()))?;
        let mut programs = Vec::new();
        for (i, t) in self.threads.iter().enumerate() {
            programs
                .push(self.cpu_program(&topo, variant, granularity, t).map_err(|e| e.under(&format!("threads.{i}")))?);
        }
        for (i, lane) in self.dma.iter().enumerate() {
            programs
                .push(self.dma_program(&topo, variant, granularity, lane).map_err(|e| e.under(&format!("dma.{i}")))?);
        }
        let initial = self.initial_state(&topo, programs.len())?;
        let fetches = programs
            .iter()
            .flat_map(|p| &p.instrs)
            .any(|i| matches!(i.kind, Kind::Op(Op::FetchSte(_) | Op::FetchCd(..))));
        let mut world =
            World { id: self.id.clone(), variant, granularity, topo, programs, initial: initial.clone(), fetches };
        let mut state = initial;
        crate::exec::settle(&world, &mut state);
        crate::check::init(&world, &mut state);
        world.initial = state;
        Ok(world)
    }

    fn cpu_program(
        &self,
        topo: &Topology,
        v: Variant,
        g: Granularity,
        t: &ThreadSpec,
    ) -> Result<Program, ScenarioError> {
        let mut b = Builder::new(topo, v, g, &self.mutations).with_patch(self.patch.as_ref());
        self.emit_calls(&mut b, topo, t)?;
        let instrs = b.finish().map_err(|e| ScenarioError::new(format!("thread {}: {e}", quote(&t.name))))?;
        Ok(Program { name: t.name.clone(), device: false, instrs })
    }

    /// The units of every function the CPU threads call, unpatched, in emission order,
    /// repeats included.
    pub fn units(&self, v: Variant, g: Granularity) -> Result<Vec<UnitInfo>, ScenarioError> {
        let topo = self.topology()?;
        let mut out = Vec::new();
        for t in &self.threads {
            let mut b = Builder::new(&topo, v, g, &self.mutations).recording();
            self.emit_calls(&mut b, &topo, t)?;
            out.extend_from_slice(b.recorded());
        }
        Ok(out)
    }

    /// Each emission of `func` in the CPU threads, unpatched, as a body of its own; none at
    /// all when one of them branches back before itself.
    pub(crate) fn bodies(&self, v: Variant, g: Granularity, func: &'static str) -> Result<Vec<Body>, ScenarioError> {
        let topo = self.topology()?;
        let world = Scenario { patch: None, ..self.clone() }.compile(v, g)?;
        let local = crate::explore::local_instrs(&world);
        let mut per_thread = Vec::new();
        for (spec, program) in self.threads.iter().zip(&world.programs) {
            let mut b = Builder::new(&topo, v, g, &self.mutations).recording_emissions(func);
            self.emit_calls(&mut b, &topo, spec)?;
            let emissions = b.emissions().to_vec();
            if b.finish().ok().as_ref() != Some(&program.instrs) {
                return Ok(Vec::new());
            }
            per_thread.push(emissions);
        }
        let mut running = per_thread.iter().enumerate().filter(|(_, e)| !e.is_empty()).map(|(t, _)| t);
        let order = match (running.next(), running.next()) {
            (Some(t), None) => Some(crate::explore::LockOrder::of(&world, t)),
            _ => None,
        };
        let mut out = Vec::new();
        for (t, emissions) in per_thread.iter().enumerate() {
            for e in emissions {
                let Some(body) = Body::of(&world.programs[t].instrs, &local[t], order.as_ref(), e) else {
                    return Ok(Vec::new());
                };
                out.push(body);
            }
        }
        Ok(out)
    }

    fn emit_calls(&self, b: &mut Builder<'_>, topo: &Topology, t: &ThreadSpec) -> Result<(), ScenarioError> {
        for (c, call) in t.calls.iter().enumerate() {
            self.emit_call(b, topo, call).map_err(|e| e.under(&format!("calls.{c}")))?;
        }
        if t.calls.is_empty() {
            return err(format!("thread '{}' calls nothing", t.name)).map_err(at(|| "calls".into()));
        }
        Ok(())
    }

    fn emit_call(&self, b: &mut Builder<'_>, topo: &Topology, call: &Call) -> Result<(), ScenarioError> {
        let master =
            |n: &str| find(&self.masters, n, "master", |m| &m.name).map(MasterId).map_err(at(|| "master".into()));
        let domain =
            |n: &str| find(&self.domains, n, "domain", |d| &d.name).map(DomainId).map_err(at(|| "domain".into()));
        match call {
            Call::AttachDev { master: m, domain: d } => {
                let (m, d) = (master(m)?, domain(d)?);
                let group = topo.group_of(m);
                kernel::core_call(b, m, CoreFn::AttachGroup, |b| {
                    group.iter().for_each(|g| kernel::attach_dev(b, *g, d))
                })
            }
            Call::SvaSetDevPasid { master: m, pasid, process } => {
                let mm = self.process(process)?;
                let m = master(m)?;
                let group = topo.group_of(m);
                group.iter().try_for_each(|g| check_pasid(topo, *g, *pasid)).map_err(at(|| "pasid".into()))?;
                kernel::core_call(b, m, CoreFn::AttachPasid, |b| {
                    group.iter().for_each(|g| kernel::sva_set_dev_pasid(b, *g, *pasid, mm))
                })
            }
            Call::SvaRemoveDevPasid { master: m, pasid } => {
                let m = master(m)?;
                let group = topo.group_of(m);
                group.iter().try_for_each(|g| check_pasid(topo, *g, *pasid)).map_err(at(|| "pasid".into()))?;
                kernel::core_call(b, m, CoreFn::DetachPasid, |b| {
                    group.iter().for_each(|g| kernel::sva_remove_dev_pasid(b, *g, *pasid))
                })
            }
            Call::ReleaseDevice { master: m } => {
                let m = master(m)?;
                kernel::core_call(b, m, CoreFn::Release, |b| kernel::release_device(b, m))
            }
            Call::DomainFree { domain: d } => kernel::domain_free(b, domain(d)?),
            Call::Map { domain: d, iova, pa } => {
                kernel::map(b, paging(topo, domain(d)?).map_err(at(|| "domain".into()))?, *iova, *pa)
            }
            Call::Unmap { domain: d, iova } => {
                kernel::unmap(b, paging(topo, domain(d)?).map_err(at(|| "domain".into()))?, *iova)
            }
            Call::MmInvalidate { process, va } => kernel::mm_invalidate(b, self.process(process)?, *va),
            Call::MmRelease { process } => {
                let mm = self.process(process)?;
                kernel::mm_release(b, mm, self.pasid_of(process))
            }
        }
        Ok(())
    }

    fn process(&self, name: &str) -> Result<MmId, ScenarioError> {
        find(&self.processes, name, "process", |p| &p.name).map(MmId).map_err(at(|| "process".into()))
    }

    /// `mm_get_enqcmd_pasid(mm)`: the one PASID of a process, the one its first bind uses
    /// (1 when the scenario never binds it).
    fn pasid_of(&self, process: &str) -> u8 {
        let binds = self.threads.iter().flat_map(|t| &t.calls);
        binds
            .filter_map(|c| match c {
                Call::SvaSetDevPasid { process: p, pasid, .. } if p == process => Some(*pasid),
                _ => None,
            })
            .next()
            .unwrap_or(1)
    }

    fn dma_program(&self, topo: &Topology, v: Variant, g: Granularity, l: &DmaSpec) -> Result<Program, ScenarioError> {
        let m = find(&self.masters, &l.master, "master", |m| &m.name).map(MasterId).map_err(at(|| "master".into()))?;
        let mut b = Builder::new(topo, v, g, &self.mutations).with_patch(self.patch.as_ref());
        if l.accesses.is_empty() && l.fetches.is_empty() {
            return err(format!("DMA lane '{}' has no accesses", l.name)).map_err(at(|| "accesses".into()));
        }
        for (i, f) in l.fetches.iter().enumerate() {
            match *f {
                FetchSpec::Ste => kernel::fetch_ste(&mut b, m),
                FetchSpec::Cd(ssid) if ssid < topo.masters[m.ix()].ssids => kernel::fetch_cd(&mut b, m, ssid),
                FetchSpec::Cd(ssid) => {
                    return err(format!("DMA lane '{}': fetch cd{ssid} is beyond {}'s CD table", l.name, l.master))
                        .map_err(at(|| format!("fetches.{i}")));
                }
            }
        }
        for (i, (ssid, iova)) in l.accesses.iter().enumerate() {
            if *ssid >= topo.masters[m.ix()].ssids {
                return err(format!("DMA lane '{}': ssid {ssid} is beyond {}'s CD table", l.name, l.master))
                    .map_err(at(|| format!("accesses.{i}")));
            }
            if l.walk_only {
                kernel::walk(&mut b, m, *ssid, *iova);
            } else {
                kernel::dma(&mut b, m, *ssid, *iova);
            }
        }
        let instrs = b.finish().map_err(|e| ScenarioError::new(format!("DMA lane {}: {e}", quote(&l.name))))?;
        Ok(Program { name: l.name.clone(), device: true, instrs })
    }

    fn initial_state(&self, topo: &Topology, n_threads: usize) -> Result<State, ScenarioError> {
        let mut ctxs = vec![CtxDesc::default(); topo.domains.len()];
        let mut xa: Vec<(u16, CtxId)> = Vec::new();
        let mut vmids = Vec::new();
        let mut domains = Vec::new();
        for (i, d) in self.domains.iter().enumerate() {
            let finalised = d.id.is_some() || d.stage == Stage::Bypass;
            let mut vmid = 0;
            match (d.stage, d.id) {
                (Stage::S1, Some(asid)) => {
                    let field = || format!("domains.{i}.id");
                    if asid == 0 || asid > topo.asid_max() {
                        let (max, bits) = (topo.asid_max(), self.asid_bits);
                        let why =
                            format!("ASID {asid} is out of range 1..={max} (asid_bits {bits}; ASID 0 is reserved)");
                        return err(format!("domain {}: {why}", quote(&d.name))).map_err(at(field));
                    }
                    if let Some((_, c)) = xa.iter().find(|(a, _)| *a == asid) {
                        let other = quote(&self.domains[c.ix()].name);
                        return err(format!("domain {}: ASID {asid} is taken by domain {other}", quote(&d.name)))
                            .map_err(at(field));
                    }
                    xa.push((
                        asid,
                        CtxId::from_index(i)
                            .ok_or_else(|| ScenarioError::new(limits::over("domains", i, MAX_DOMAINS)))?,
                    ));
                    ctxs[i] = CtxDesc { asid, ttb0: Some(topo.domains[i].pt), mm: None, refs: 1 };
                }
                (Stage::S2, Some(v)) => {
                    if v == 0 || vmids.contains(&v) {
                        let why = if v == 0 { "VMID 0 is reserved".to_string() } else { format!("VMID {v} is taken") };
                        return err(format!("domain {}: {why}", quote(&d.name)))
                            .map_err(at(|| format!("domains.{i}.id")));
                    }
                    vmids.push(v);
                    vmid = v;
                }
                _ => {}
            }
            domains.push(Domain { finalised, vmid, devices: Vec::new(), freed: false });
        }
        xa.sort();
        vmids.sort();
        let mut masters = Vec::new();
        for (i, m) in self.masters.iter().enumerate() {
            let id =
                MasterId::from_index(i).ok_or_else(|| ScenarioError::new(limits::over("masters", i, MAX_MASTERS)))?;
            masters.push(
                self.initial_master(topo, &mut domains, &ctxs, id, m).map_err(at(|| format!("masters.{i}.domain")))?,
            );
        }
        Ok(State {
            masters,
            domains,
            ctxs,
            xa,
            vmids,
            notifiers: Vec::new(),
            mm_pinned: vec![0; topo.mms.len()],
            locks: vec![0; LockId::slots(topo.domains.len(), topo.groups.len())],
            iotlb: Vec::new(),
            history: Vec::new(),
            pts: topo.pts.iter().map(|p| p.map.clone()).collect(),
            unmapped: Vec::new(),
            threads: vec![Thread::default(); n_threads],
            broken: 0,
        })
    }

    fn initial_master(
        &self,
        topo: &Topology,
        domains: &mut [Domain],
        ctxs: &[CtxDesc],
        id: MasterId,
        m: &MasterSpec,
    ) -> Result<Master, ScenarioError> {
        let mut ms = Master {
            domain: None,
            ats: false,
            sva_enabled: m.sva,
            cdtab: false,
            ste: Slot { mem: Ste::abort(), hw: Ste::abort() },
            cds: vec![Slot::default(); usize::from(m.ssids.max(1))],
            bonds: Vec::new(),
            released: false,
        };
        let Some(dname) = &m.domain else {
            return Ok(ms);
        };
        let d = find(&self.domains, dname, "domain", |d| &d.name)?;
        let info = &topo.domains[usize::from(d)];
        if !domains[usize::from(d)].finalised {
            return err(format!("master '{}' starts on domain '{dname}', which has no id (ASID/VMID)", m.name));
        }
        ms.domain = Some(DomainId(d));
        ms.ats = m.ats && info.stage != Stage::Bypass;
        domains[usize::from(d)].devices.insert(0, id);
        let ste = match info.stage {
            Stage::S1 => {
                ms.cdtab = true;
                let ctx = ctxs[usize::from(d)];
                let cd = Cd { valid: true, epd0: false, aset: true, asid: ctx.asid, ttb0: ctx.ttb0 };
                ms.cds[0] = Slot { mem: cd, hw: cd };
                Ste::cdtable(id, ms.ats)
            }
            Stage::S2 => Ste::s2(domains[usize::from(d)].vmid, info.pt, ms.ats),
            Stage::Bypass => Ste::bypass(),
        };
        ms.ste = Slot { mem: ste, hw: ste };
        Ok(ms)
    }
}

/// A CPU ASID the SMMU can share: arm64 gives a live process a non-zero ASID of its own
/// (`arm64_mm_context_get()` returns 0 when it cannot pin one), and SVA needs the SMMU's
/// ASIDs to be at least as wide as the CPU's (`arm_smmu_sva_supported()`).
fn check_cpu_asid(p: &ProcessSpec, earlier: &[MmInfo], asid_bits: u8) -> Result<(), ScenarioError> {
    let max = (1u32 << asid_bits) - 1;
    if p.cpu_asid == 0 || u32::from(p.cpu_asid) > max {
        return err(format!(
            "process {}: CPU ASID {} is out of range 1..={max} (asid_bits {asid_bits}; arm64 never pins ASID 0)",
            quote(&p.name),
            p.cpu_asid
        ));
    }
    if let Some(o) = earlier.iter().find(|o| o.cpu_asid == p.cpu_asid) {
        return err(format!(
            "processes {} and {} have the same CPU ASID {} (arm64 gives each live process its own)",
            quote(&o.name),
            quote(&p.name),
            p.cpu_asid
        ));
    }
    Ok(())
}

fn check_pasid(topo: &Topology, m: MasterId, pasid: u8) -> Result<(), ScenarioError> {
    if pasid == 0 || pasid >= topo.masters[m.ix()].ssids {
        return err(format!(
            "pasid {pasid} is not a valid SSID of master '{}' (1..{})",
            topo.master(m),
            topo.masters[m.ix()].ssids
        ));
    }
    Ok(())
}

/// A thread's id by name (the exact name first, then ignoring ASCII case) or index.
pub fn thread_by_name(world: &World, name: &str) -> Option<ThreadId> {
    let names = || world.programs.iter().map(|p| p.name.as_str());
    let exact = names().position(|n| n == name);
    let folded = || names().position(|n| n.eq_ignore_ascii_case(name));
    let by_index = || name.parse::<usize>().ok().filter(|i| *i < world.programs.len());
    exact.or_else(folded).or_else(by_index).and_then(ThreadId::from_index)
}
