//! The gallery (`#gallery`): every built-in scenario with its title, paragraph and its verdicts
//! under pre, fix and v6.9, computed live in the check's worker, one run after another, and
//! cached per build (see [`crate::gallery`]). Each scenario links to its permalink.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use gloo_worker::{Spawnable, WorkerBridge};
use smmu_sim::Variant;
use yew::prelude::*;

use crate::gallery::{self, Entry, Outcome};
use crate::worker::{ExploreWorker, ProgressData, Reply, Request};

/// One run of the gallery: an entry under a variant.
#[derive(Clone, Debug, PartialEq)]
struct Job {
    key: String,
    entry: Entry,
    variant: Variant,
}

/// What the gallery knows: finished runs by key, failures, and the run under way.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GalleryState {
    done: BTreeMap<String, Outcome>,
    failed: BTreeMap<String, String>,
    progress: Option<(String, ProgressData)>,
    /// The cache has been read.
    loaded: bool,
    /// Runs computed on this visit (the rest came from the cache).
    computed: usize,
}

/// Changes of the gallery's state.
pub enum GalleryAction {
    /// The cached outcomes of this build.
    Cached(Vec<(String, Outcome)>),
    /// Progress of a run.
    Progress(String, ProgressData),
    /// A run finished.
    Done(String, Outcome),
    /// A run could not start.
    Failed(String, String),
}

impl Reducible for GalleryState {
    type Action = GalleryAction;

    fn reduce(self: Rc<Self>, action: GalleryAction) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            GalleryAction::Cached(cells) => {
                s.done.extend(cells);
                s.loaded = true;
            }
            GalleryAction::Progress(key, p) => s.progress = Some((key, p)),
            GalleryAction::Done(key, o) => {
                s.progress = None;
                s.computed += 1;
                s.done.insert(key, o);
            }
            GalleryAction::Failed(key, e) => {
                s.progress = None;
                s.failed.insert(key, e);
            }
        }
        Rc::new(s)
    }
}

impl GalleryState {
    fn finished(&self, key: &str) -> bool {
        self.done.contains_key(key) || self.failed.contains_key(key)
    }
}

fn jobs(groups: &[(String, Vec<Entry>)]) -> Vec<Job> {
    let entries = groups.iter().flat_map(|(_, list)| list.iter());
    entries
        .flat_map(|e| {
            Variant::ALL.iter().map(move |&v| Job { key: gallery::run_key(&e.key, v), entry: e.clone(), variant: v })
        })
        .collect()
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// This build's cached outcomes; caches of other builds are removed.
fn load_cache(build: &str) -> Vec<(String, Outcome)> {
    let Some(s) = storage() else { return Vec::new() };
    let keep = gallery::cache_key(build);
    let n = s.length().unwrap_or(0);
    let keys: Vec<String> = (0..n).filter_map(|i| s.key(i).ok().flatten()).collect();
    for k in keys.iter().filter(|k| k.starts_with(gallery::KEY_PREFIX) && **k != keep) {
        let _ = s.remove_item(k);
    }
    s.get_item(&keep).ok().flatten().map(|t| gallery::decode_cache(&t, build)).unwrap_or_default()
}

/// Saves the outcomes; a refused write is skipped (the gallery recomputes next time).
fn save_cache(build: &str, done: &BTreeMap<String, Outcome>) {
    let cells: Vec<(String, Outcome)> = done.iter().map(|(k, o)| (k.clone(), o.clone())).collect();
    if let Some(s) = storage() {
        let _ = s.set_item(&gallery::cache_key(build), &gallery::encode_cache(build, &cells));
    }
}

/// The run the worker is on: its tag and key.
#[derive(Default)]
struct Current {
    tag: u64,
    key: String,
}

/// Runs the first job without an outcome in the worker; each reply moves on to the next.
#[hook]
fn use_runner(state: &UseReducerHandle<GalleryState>, jobs: Rc<Vec<Job>>, build: Rc<String>) {
    let bridge = use_mut_ref(|| None::<WorkerBridge<ExploreWorker>>);
    let current = use_mut_ref(Current::default);
    let next = state.loaded.then(|| jobs.iter().find(|j| !state.finished(&j.key)).cloned()).flatten();
    {
        let (dispatch, build) = (state.dispatcher(), build.clone());
        use_effect_with(state.loaded, move |loaded| {
            if !*loaded {
                dispatch.dispatch(GalleryAction::Cached(load_cache(&build)));
            }
        });
    }
    {
        let (done, loaded) = (state.done.clone(), state.loaded);
        use_effect_with(done.len(), move |_| {
            if loaded && !done.is_empty() {
                save_cache(&build, &done);
            }
        });
    }
    let dispatch = state.dispatcher();
    use_effect_with(next.as_ref().map(|j| j.key.clone()), move |_| {
        let Some(job) = next else { return };
        let link = match job.entry.run_link(job.variant) {
            Ok(l) => l,
            Err(e) => return dispatch.dispatch(GalleryAction::Failed(job.key, e)),
        };
        let mut cur = current.borrow_mut();
        cur.tag += 1;
        cur.key = job.key.clone();
        let tag = cur.tag;
        drop(cur);
        let mut bridge = bridge.borrow_mut();
        let bridge = bridge.get_or_insert_with(|| spawn(current.clone(), dispatch));
        bridge.send(Request::Start { run: tag, link, danger: false, max_states: Some(gallery::MAX_STATES) });
    });
}

fn spawn(current: Rc<RefCell<Current>>, dispatch: UseReducerDispatcher<GalleryState>) -> WorkerBridge<ExploreWorker> {
    ExploreWorker::spawner()
        .callback(move |reply: Reply| {
            let cur = current.borrow();
            match reply {
                Reply::Progress(r, p) if r == cur.tag => dispatch.dispatch(GalleryAction::Progress(cur.key.clone(), p)),
                Reply::Done(r, s, _) if r == cur.tag => {
                    dispatch.dispatch(GalleryAction::Done(cur.key.clone(), Outcome::of(&s)))
                }
                Reply::Failed(r, e) if r == cur.tag => dispatch.dispatch(GalleryAction::Failed(cur.key.clone(), e)),
                _ => {}
            }
        })
        .spawn_with_loader(crate::hooks::WORKER_LOADER_JS)
}

/// The gallery page.
#[component]
pub fn Gallery() -> Html {
    let groups = use_memo((), |_| gallery::entries(crate::storage::load().as_deref()));
    let all = use_memo(groups.clone(), |g| jobs(g));
    let build = use_memo((), |_| gallery::build_id());
    let state = use_reducer_eq(GalleryState::default);
    use_runner(&state, all.clone(), build.clone());
    let finished = all.iter().filter(|j| state.finished(&j.key)).count();
    html! {
        <div id="gallery-root" data-max-states={gallery::MAX_STATES.to_string()} data-build={(*build).clone()}
            data-finished={finished.to_string()} data-total={all.len().to_string()}
            data-computed={state.computed.to_string()}>
            <header class="top">
                <div class="brand">
                    <h1>{ "smmu-playground" }</h1>
                    <span class="sub">{ "gallery of every scenario" }</span>
                    <a class="gallery-link" id="playground-link" href="#">{ "Back to the playground" }</a>
                </div>
            </header>
            <main class="gallery">
                <p class="g-intro">
                    { "Every built-in scenario, with every interleaving explored at its granularity under each kernel. \
                       States are counted up to ASID renaming; a run that would keep more than " }
                    { super::group(u128::from(gallery::MAX_STATES)) }
                    { " states stops there and is too large to count here (the command line, " }
                    <code>{ "smmu-sim explore" }</code>{ ", goes further)." }
                </p>
                <GalleryStatus state={(*state).clone()} jobs={all.clone()} />
                { for groups.iter().map(|(g, list)| group_section(g, list, &state)) }
            </main>
        </div>
    }
}

#[derive(Properties, PartialEq)]
struct StatusProps {
    state: GalleryState,
    jobs: Rc<Vec<Job>>,
}

/// What is being computed, for everyone (`role="status"`).
#[component]
fn GalleryStatus(props: &StatusProps) -> Html {
    let (state, jobs) = (&props.state, &props.jobs);
    let finished = jobs.iter().filter(|j| state.finished(&j.key)).count();
    let text = match jobs.iter().position(|j| !state.finished(&j.key)) {
        None => format!("All {} verdicts computed.", jobs.len()),
        Some(at) => {
            let j = &jobs[at];
            let states = match &state.progress {
                Some((k, p)) if *k == j.key => format!(", {} states so far", super::group(u128::from(p.states))),
                _ => String::new(),
            };
            format!(
                "Computing {} of {}: {} under {}{states}…",
                finished + 1,
                jobs.len(),
                j.entry.scenario.id,
                j.variant.name()
            )
        }
    };
    html! {
        <p id="gallery-status" class="g-status" role="status" aria-live="polite">
            <progress max={jobs.len().to_string()} value={finished.to_string()} aria-hidden="true"></progress>
            { text }
        </p>
    }
}

fn group_section(group: &str, list: &[Entry], state: &GalleryState) -> Html {
    let id = format!("g-group-{}", slug(group));
    html! {
        <section class="g-group" aria-labelledby={id.clone()}>
            <h2 id={id}>{ group }</h2>
            <div class="g-cards">{ for list.iter().map(|e| card(e, state)) }</div>
        </section>
    }
}

fn slug(text: &str) -> String {
    text.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_lowercase() } else { '-' }).collect()
}

fn card(e: &Entry, state: &GalleryState) -> Html {
    let s = &e.scenario;
    let head = format!("g-{}", slug(&e.key));
    html! {
        <article class="g-card" id={head.clone()} data-scenario={e.key.clone()} aria-labelledby={format!("{head}-h")}>
            <h3 id={format!("{head}-h")}><code>{ s.id.clone() }</code>{ " " }<span class="g-title">{ s.title.clone() }</span></h3>
            <p class="g-desc">{ s.description.clone() }</p>
            <table class="g-verdicts">
                <caption class="sr-only">{ format!("Verdicts of {} at {} granularity", s.id, e.granularity) }</caption>
                <thead><tr>
                    <th scope="col">{ "kernel" }</th>
                    <th scope="col">{ "verdict" }</th>
                    <th scope="col">{ "states · interleavings · violating" }</th>
                </tr></thead>
                <tbody>{ for Variant::ALL.iter().map(|&v| row(e, v, state)) }</tbody>
            </table>
            <p class="g-open">
                <span class="g-gran">{ format!("{} granularity", e.granularity) }</span>
                <a href={format!("#{}", e.open)}>
                    { "Open in playground" }<span class="sr-only">{ format!(": {}", s.id) }</span>
                </a>
            </p>
        </article>
    }
}

fn row(e: &Entry, v: Variant, state: &GalleryState) -> Html {
    let key = gallery::run_key(&e.key, v);
    let (status, verdict, counts) = if let Some(o) = state.done.get(&key) {
        ("done", o.verdict_text(), o.counts_text())
    } else if let Some(err) = state.failed.get(&key) {
        ("failed", "could not run".to_string(), err.clone())
    } else if let Some((_, p)) = state.progress.as_ref().filter(|(k, _)| *k == key) {
        ("running", "computing…".to_string(), format!("{} states so far", super::group(u128::from(p.states))))
    } else {
        ("pending", "waiting".to_string(), String::new())
    };
    let o = state.done.get(&key);
    let attr = |f: fn(&Outcome) -> String| o.map(f).unwrap_or_default();
    html! {
        <tr class={classes!("g-row", status)} data-variant={v.name()} data-status={status}
            aria-busy={(status == "running" || status == "pending").to_string()}
            data-verdict={attr(|o| o.verdict.clone())} data-counts={attr(|o| o.counts.clone())}
            data-states={attr(|o| o.states.to_string())}
            data-interleavings={attr(|o| o.interleavings.clone().unwrap_or_default())}
            data-violating={attr(|o| o.violating.clone().unwrap_or_default())}
            data-violated={attr(|o| o.violated.join(","))}>
            <th scope="row">{ v.name() }</th>
            <td class="g-verdict">{ verdict }</td>
            <td class="g-counts">{ counts }</td>
        </tr>
    }
}
