//! The exhaustive check in a web worker, so counting hundreds of millions of interleavings
//! never competes with the page for the main thread.
//!
//! The page sends a [`Request::Start`] with the scenario as a permalink code (variant,
//! granularity, no schedule); the worker explores in slices of [`SLICE_MS`], answering
//! [`Reply::Progress`] between slices, so a [`Request::Cancel`] is read within one slice.
//! Results cross as plain data: counts as decimal strings, schedules as text with thread
//! names, and the danger map. [`checked`] and [`danger`] turn them back into values the
//! page shows. The worker is its own wasm binary (`src/bin/explore_worker.rs`),
//! loaded only when a check starts.

use std::cell::Cell;
use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use gloo_worker::{HandlerId, Worker, WorkerScope};
use serde::{Deserialize, Serialize};
use smmu_sim::check::Invariant;
use smmu_sim::explore::{DangerMap, DangerStep, Explorer, Limits, Progress, Summary, Verdict};
use smmu_sim::ids::ThreadId;
use smmu_sim::sched::Schedule;
use smmu_sim::{share, World};
use wasm_bindgen::JsCast;

pub mod fix;

/// Milliseconds of exploring between progress replies (and reading a cancel).
pub const SLICE_MS: f64 = 50.0;

/// What the page asks of the worker.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Request {
    /// Explore a scenario: `link` is a permalink code carrying the scenario, variant and
    /// granularity. `run` tags the replies; a new start ends the previous run.
    Start {
        /// Tag of this run (non-zero).
        run: u64,
        /// The permalink code (`v1.…`).
        link: String,
        /// Also compute the danger windows.
        danger: bool,
        /// Stop after this many unique states (none: the explorer's default limit).
        #[serde(default)]
        max_states: Option<u64>,
    },
    /// Search the smallest lock placement that makes the scenario clean.
    FindFix {
        /// Tag of this run (non-zero).
        run: u64,
        /// What to search.
        query: fix::FixQuery,
    },
    /// Re-check the patches a merged find-fix result shows, and answer with it.
    Recheck {
        /// Tag of the run.
        run: u64,
        /// The query the shards searched (its link names the scenario).
        query: fix::FixQuery,
        /// The merged result.
        result: Box<fix::FixResult>,
    },
    /// Stop the run under way.
    Cancel,
}

/// Progress between slices.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressData {
    /// Unique states so far.
    pub states: u64,
    /// Transitions so far.
    pub transitions: u64,
    /// States waiting to be expanded.
    pub frontier: u64,
    /// Current depth.
    pub depth: u32,
}

/// A finished check, as plain data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryData {
    /// Unique states visited.
    pub unique_states: u64,
    /// Transitions taken.
    pub transitions: u64,
    /// Complete interleavings, in decimal.
    pub interleavings: String,
    /// Violating interleavings, in decimal.
    pub violating: String,
    /// Per invariant id, violating interleavings in decimal.
    pub by_invariant: Vec<(String, String)>,
    /// The state limit was hit.
    pub limit_hit: bool,
    /// A count overflowed.
    pub overflow: bool,
    /// Shortest violating schedule, with thread names.
    pub shortest: Option<String>,
    /// Per invariant id, a shortest schedule violating it.
    pub shortest_by_invariant: Vec<(String, String)>,
    /// Violating schedule with the fewest context switches.
    pub fewest_switches: Option<String>,
    /// The state graph was not kept.
    pub graph_dropped: bool,
    /// States were kept up to ASID renaming.
    pub symmetry: bool,
    /// The shared reading of the run: `violated`, `clean` or `incomplete`.
    pub verdict: String,
    /// That reading in one line: exact counts, a labelled estimate, or "counts unknown".
    pub headline: String,
    /// How the counts may be read: `exact`, `estimate` or `unknown`.
    #[serde(default)]
    pub counts: String,
}

/// One step of the danger map: thread, its name, index, function and label.
pub type StepData = (u8, String, u16, String, String);

/// The danger map, as plain data (counts in decimal).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DangerData {
    /// The steps.
    pub steps: Vec<StepData>,
    /// Violating interleavings running row before column.
    pub before: Vec<Vec<String>>,
    /// Violating interleavings running each step.
    pub occurs: Vec<String>,
    /// All interleavings running row before column.
    pub before_all: Vec<Vec<String>>,
    /// Complete interleavings.
    pub interleavings: String,
    /// Violating interleavings.
    pub violating: String,
    /// Unique states.
    pub unique_states: u64,
    /// Transitions.
    pub transitions: u64,
}

/// What the worker answers.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Reply {
    /// A slice ended.
    Progress(u64, ProgressData),
    /// The run finished: its summary and danger map (or why there is none).
    Done(u64, Box<SummaryData>, Option<Result<DangerData, String>>),
    /// The run could not start.
    Failed(u64, String),
    /// A slice of a find-fix search ended.
    FixProgress(u64, fix::FixProgress),
    /// A find-fix search finished.
    FixDone(u64, Box<fix::FixResult>),
    /// One shard of a find-fix search is done: the shard and what it found.
    FixShard(u64, u8, Box<fix::Shard>),
}

impl Reply {
    /// The tag of the run it answers.
    pub fn run(&self) -> u64 {
        match self {
            Reply::Progress(r, _) | Reply::Done(r, ..) | Reply::Failed(r, _) => *r,
            Reply::FixProgress(r, _) | Reply::FixDone(r, _) | Reply::FixShard(r, ..) => *r,
        }
    }
}

fn dec(n: u128) -> String {
    n.to_string()
}

fn num(s: &str) -> Result<u128, String> {
    s.parse().map_err(|_| format!("bad count '{s}' from the worker"))
}

fn inv(id: &str) -> Result<Invariant, String> {
    Invariant::ALL.into_iter().find(|i| i.id() == id).ok_or_else(|| format!("unknown invariant '{id}' from the worker"))
}

/// A summary as plain data; schedules are written with the world's thread names.
pub fn summary_data(s: &Summary, world: &World) -> SummaryData {
    SummaryData {
        unique_states: s.unique_states,
        transitions: s.transitions,
        interleavings: dec(s.interleavings),
        violating: dec(s.violating),
        by_invariant: s.by_invariant.iter().map(|(i, n)| (i.id().to_string(), dec(*n))).collect(),
        limit_hit: s.limit_hit,
        overflow: s.overflow,
        shortest: s.shortest.as_ref().map(|x| x.to_names(world)),
        shortest_by_invariant: s
            .shortest_by_invariant
            .iter()
            .map(|(i, x)| (i.id().to_string(), x.to_names(world)))
            .collect(),
        fewest_switches: s.fewest_switches.as_ref().map(|x| x.to_names(world)),
        graph_dropped: s.graph_dropped,
        symmetry: s.symmetry,
        verdict: Verdict::of(s, None).word().to_string(),
        headline: Verdict::of(s, None).headline("interleavings"),
        counts: Verdict::of(s, None).counts_word().to_string(),
    }
}

/// A finished check as the page shows it: the counts and the counterexamples to load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// Unique states visited.
    pub unique_states: u64,
    /// Transitions taken.
    pub transitions: u64,
    /// Complete interleavings.
    pub interleavings: u128,
    /// Interleavings violating a safety invariant.
    pub violating: u128,
    /// Per invariant, violating interleavings.
    pub by_invariant: Vec<(Invariant, u128)>,
    /// The state limit was hit: the counts are partial.
    pub limit_hit: bool,
    /// A count overflowed.
    pub overflow: bool,
    /// Shortest violating schedule.
    pub shortest: Option<Schedule>,
    /// Violating schedule with the fewest context switches.
    pub fewest_switches: Option<Schedule>,
    /// The states are counted up to ASID renaming.
    pub symmetry: bool,
    /// The shared reading of the run: `violated`, `clean` or `incomplete`.
    pub verdict: String,
    /// That reading in one line.
    pub headline: String,
}

/// The check's result back from plain data, schedules parsed against the same world.
pub fn checked(d: &SummaryData, world: &World) -> Result<Checked, String> {
    let sched = |t: &str| Schedule::parse(t, world).map_err(|e| e.to_string());
    Ok(Checked {
        unique_states: d.unique_states,
        transitions: d.transitions,
        interleavings: num(&d.interleavings)?,
        violating: num(&d.violating)?,
        by_invariant: d.by_invariant.iter().map(|(i, n)| Ok((inv(i)?, num(n)?))).collect::<Result<_, String>>()?,
        limit_hit: d.limit_hit,
        overflow: d.overflow,
        shortest: d.shortest.as_deref().map(sched).transpose()?,
        fewest_switches: d.fewest_switches.as_deref().map(sched).transpose()?,
        symmetry: d.symmetry,
        verdict: d.verdict.clone(),
        headline: d.headline.clone(),
    })
}

/// A danger map as plain data.
pub fn danger_data(m: &DangerMap) -> DangerData {
    let grid = |g: &Vec<Vec<u128>>| g.iter().map(|r| r.iter().map(|n| dec(*n)).collect()).collect();
    DangerData {
        steps: m
            .steps
            .iter()
            .map(|s| (s.thread.0, s.thread_name.clone(), s.index, s.function.to_string(), s.label.clone()))
            .collect(),
        before: grid(&m.before),
        occurs: m.occurs.iter().map(|n| dec(*n)).collect(),
        before_all: grid(&m.before_all),
        interleavings: dec(m.interleavings),
        violating: dec(m.violating),
        unique_states: m.unique_states,
        transitions: m.transitions,
    }
}

thread_local! {
    /// Function names of danger steps: the model names them with `&'static str`, so names
    /// that crossed from the worker are kept once for the page's lifetime.
    static NAMES: std::cell::RefCell<BTreeSet<&'static str>> = const { std::cell::RefCell::new(BTreeSet::new()) };
}

fn static_name(name: &str) -> &'static str {
    NAMES.with(|n| {
        let mut n = n.borrow_mut();
        if let Some(s) = n.get(name) {
            return *s;
        }
        let s: &'static str = Box::leak(name.to_string().into_boxed_str());
        n.insert(s);
        s
    })
}

/// The danger map back from plain data.
pub fn danger(d: &DangerData) -> Result<DangerMap, String> {
    let grid = |g: &Vec<Vec<String>>| -> Result<Vec<Vec<u128>>, String> {
        g.iter().map(|r| r.iter().map(|n| num(n)).collect()).collect()
    };
    Ok(DangerMap {
        steps: d
            .steps
            .iter()
            .map(|(t, name, index, function, label)| DangerStep {
                thread: ThreadId(*t),
                thread_name: name.clone(),
                index: *index,
                function: static_name(function),
                label: label.clone(),
            })
            .collect(),
        before: grid(&d.before)?,
        occurs: d.occurs.iter().map(|n| num(n)).collect::<Result<_, _>>()?,
        before_all: grid(&d.before_all)?,
        interleavings: num(&d.interleavings)?,
        violating: num(&d.violating)?,
        unique_states: d.unique_states,
        transitions: d.transitions,
    })
}

/// Progress as the model reports it.
pub fn progress(p: ProgressData) -> Progress {
    Progress { states: p.states, transitions: p.transitions, frontier: p.frontier, depth: p.depth, done: false }
}

fn now() -> f64 {
    let global = js_sys::global();
    let perf = js_sys::Reflect::get(&global, &"performance".into()).ok();
    let now = perf.as_ref().and_then(|p| js_sys::Reflect::get(p, &"now".into()).ok());
    match (perf, now.and_then(|f| f.dyn_into::<js_sys::Function>().ok())) {
        (Some(p), Some(f)) => f.call0(&p).ok().and_then(|v| v.as_f64()).unwrap_or(0.0),
        _ => js_sys::Date::now(),
    }
}

/// The worker: one run at a time; a new start or a cancel ends the one under way.
pub struct ExploreWorker {
    /// Tag of the run allowed to go on (0: none).
    current: Rc<Cell<u64>>,
}

impl Worker for ExploreWorker {
    type Message = ();
    type Input = Request;
    type Output = Reply;

    fn create(_scope: &WorkerScope<Self>) -> Self {
        ExploreWorker { current: Rc::new(Cell::new(0)) }
    }

    fn update(&mut self, _scope: &WorkerScope<Self>, _msg: ()) {}

    fn received(&mut self, scope: &WorkerScope<Self>, msg: Request, id: HandlerId) {
        match msg {
            Request::Cancel => self.current.set(0),
            Request::Start { run, link, danger, max_states } => {
                self.current.set(run);
                let job = Job { run, current: self.current.clone(), scope: scope.clone(), id };
                wasm_bindgen_futures::spawn_local(explore(job, link, danger, max_states));
            }
            Request::FindFix { run, query } => {
                self.current.set(run);
                let job = Job { run, current: self.current.clone(), scope: scope.clone(), id };
                wasm_bindgen_futures::spawn_local(find_fix(job, query));
            }
            Request::Recheck { run, query, mut result } => {
                let job = Job { run, current: self.current.clone(), scope: scope.clone(), id };
                match fix::recheck_target(&query) {
                    Ok((scenario, granularity)) => {
                        fix::recheck_shown(&scenario, granularity, &mut result);
                        job.respond(Reply::FixDone(run, result));
                    }
                    Err(e) => job.respond(Reply::Failed(run, e)),
                }
            }
        }
    }
}

/// A run under way: its tag, the tag allowed to go on, and where to answer.
struct Job {
    run: u64,
    current: Rc<Cell<u64>>,
    scope: WorkerScope<ExploreWorker>,
    id: HandlerId,
}

impl Job {
    fn live(&self) -> bool {
        self.current.get() == self.run
    }

    fn respond(&self, reply: Reply) {
        self.scope.respond(self.id, reply)
    }

    /// Lets a cancel or a new start posted meanwhile be read (a macrotask); whether this
    /// run may go on.
    async fn yield_now(&self) -> bool {
        yew::platform::time::sleep(Duration::ZERO).await;
        self.live()
    }
}

async fn explore(job: Job, link: String, want_danger: bool, max_states: Option<u64>) {
    let world = match share::decode(&link)
        .map_err(|e| e.to_string())
        .and_then(|l| l.scenario.compile(l.variant, l.granularity).map_err(|e| e.to_string()))
    {
        Ok(w) => w,
        Err(e) => return job.respond(Reply::Failed(job.run, e)),
    };
    let limits = max_states.map_or_else(Limits::default, |max_states| Limits { max_states });
    let mut explorer = Explorer::new(&world, limits);
    loop {
        let start = now();
        let mut p = explorer.step(256);
        while !p.done && now() - start < SLICE_MS {
            p = explorer.step(256);
        }
        if !job.live() {
            return;
        }
        if p.done {
            let summary = summary_data(&explorer.summary(), &world);
            let danger =
                want_danger.then(|| explorer.danger_windows().map(|m| danger_data(&m)).map_err(|e| e.to_string()));
            job.current.set(0);
            return job.respond(Reply::Done(job.run, Box::new(summary), danger));
        }
        let data = ProgressData { states: p.states, transitions: p.transitions, frontier: p.frontier, depth: p.depth };
        job.respond(Reply::Progress(job.run, data));
        if !job.yield_now().await {
            return;
        }
    }
}

async fn find_fix(job: Job, query: fix::FixQuery) {
    let mut search = match fix::Search::start(&query) {
        Ok(s) => s,
        Err(e) => return job.respond(Reply::Failed(job.run, e)),
    };
    let began = now();
    loop {
        let start = now();
        let mut p = search.step();
        while !search.done() && now() - start < SLICE_MS {
            p = search.step();
        }
        if !job.live() {
            return;
        }
        if search.done() {
            job.current.set(0);
            if query.shard.1 > 1 {
                return job.respond(Reply::FixShard(job.run, query.shard.0, Box::new(search.shard())));
            }
            let result = search.result((now() - began) as u64);
            return job.respond(Reply::FixDone(job.run, Box::new(result)));
        }
        job.respond(Reply::FixProgress(job.run, p));
        if !job.yield_now().await {
            return;
        }
    }
}
