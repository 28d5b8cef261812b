//! Find a fix, in the patch view: the search runs split over workers of its own
//! ([`SHARDS`]: one shard each, progress summed, cancel to all); the page merges the shards'
//! patches, the first worker re-checks those it shows, and each loads into the patch view.

use std::rc::Rc;
use std::time::Duration;

use gloo_worker::{Spawnable, WorkerBridge};
use smmu_sim::patch::LockName;
use smmu_sim::sched::Schedule;
use smmu_sim::{share, Scenario};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::{group, use_app};
use crate::hooks::{WORKER_LOADER_JS, WORKER_SILENCE_MS};
use crate::state::Action;
use crate::worker::fix::{self, FixFound, FixProgress, FixQuery, FixResult, Shard, SHARDS};
use crate::worker::{ExploreWorker, Reply, Request};

/// What the search is doing, for the query `key` names.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Phase {
    /// Never started.
    #[default]
    Idle,
    /// Running (`heard`: every worker answered at least once; until then the total is not known
    /// and `progress` is empty).
    Running { progress: FixProgress, heard: bool },
    /// Finished.
    Done(Rc<FixResult>),
    /// Stopped by the user.
    Cancelled(FixProgress),
    /// Could not run.
    Failed(String),
}

/// The search's state: the tag of the run it follows, its query and its phase, each shard's
/// progress and result, and the merged result waiting for its re-check.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FixState {
    tag: u64,
    query: Option<FixQuery>,
    phase: Phase,
    began: f64,
    shards: Vec<Option<FixProgress>>,
    parts: Vec<Option<Rc<Shard>>>,
    to_recheck: Option<Rc<FixResult>>,
}

/// What moves the search's state; replies of an earlier run (another tag) are ignored.
pub enum FixAction {
    /// A run with this tag started at this time (ms).
    Start(u64, FixQuery, f64),
    /// The user stopped it.
    Cancel,
    /// A reply of the worker of a shard, and when it came (ms).
    Reply(usize, Reply, f64),
    /// The merged result went to be re-checked.
    RecheckSent,
    /// The worker's time to answer is up.
    Silence(u64),
    /// The search could not be asked for.
    Refused(String),
}

impl Reducible for FixState {
    type Action = FixAction;

    fn reduce(self: Rc<Self>, action: FixAction) -> Rc<Self> {
        let mut s = (*self).clone();
        let running = matches!(s.phase, Phase::Running { .. });
        s.phase = match action {
            FixAction::Start(tag, q, began) => {
                (s.tag, s.query, s.began, s.to_recheck) = (tag, Some(q), began, None);
                s.shards = vec![None; usize::from(SHARDS)];
                s.parts = vec![None; usize::from(SHARDS)];
                Phase::Running { progress: FixProgress::default(), heard: false }
            }
            FixAction::RecheckSent => {
                s.to_recheck = None;
                s.phase
            }
            FixAction::Cancel if running => match s.phase {
                Phase::Running { progress, .. } => Phase::Cancelled(progress),
                p => p,
            },
            FixAction::Reply(k, r, at) if running && r.run() == s.tag && k < s.shards.len() => match r {
                Reply::FixProgress(_, p) => {
                    s.shards[k] = Some(p);
                    running_phase(&s.shards)
                }
                Reply::FixShard(_, _, shard) => {
                    let clean = shard.found.len() as u64;
                    s.shards[k] = Some(FixProgress { tried: shard.total, total: shard.total, clean });
                    s.parts[k] = Some(Rc::new(*shard));
                    if let Some(parts) = s.parts.iter().cloned().collect::<Option<Vec<_>>>() {
                        let parts: Vec<Shard> = parts.iter().map(|p| (**p).clone()).collect();
                        s.to_recheck = Some(Rc::new(fix::merge(&parts, (at - s.began).max(0.0) as u64)));
                    }
                    running_phase(&s.shards)
                }
                Reply::FixDone(_, result) => Phase::Done(Rc::new(*result)),
                Reply::Failed(_, e) => Phase::Failed(e),
                _ => return self,
            },
            FixAction::Silence(tag) if tag == s.tag && matches!(s.phase, Phase::Running { heard: false, .. }) => {
                Phase::Failed(format!("the search's workers ({WORKER_LOADER_JS}) did not all answer"))
            }
            FixAction::Refused(e) => Phase::Failed(e),
            _ => return self,
        };
        Rc::new(s)
    }
}

/// The shards' progress as one search's, once every shard has reported (a sum over some of
/// them would give too small a total).
fn running_phase(shards: &[Option<FixProgress>]) -> Phase {
    let Some(all) = shards.iter().copied().collect::<Option<Vec<_>>>() else {
        return Phase::Running { progress: FixProgress::default(), heard: false };
    };
    let progress = all.iter().fold(FixProgress::default(), |a, p| FixProgress {
        tried: a.tried + p.tried,
        total: a.total + p.total,
        clean: a.clean + p.clean,
    });
    Phase::Running { progress, heard: true }
}

/// The query for the current page: the unpatched scenario at its variant and granularity.
fn query(scenario: &Scenario, app: &crate::AppContext, function: &str, lock: LockName) -> Result<FixQuery, String> {
    let link = share::encode(&share::Link {
        scenario: Scenario { patch: None, ..scenario.clone() },
        variant: app.variant,
        granularity: app.granularity,
        schedule: Schedule::default(),
        cursor: None,
    })
    .map_err(|e| e.to_string())?;
    Ok(FixQuery { link, function: function.to_string(), lock: lock.id().to_string(), shard: (0, 1) })
}

/// Props: the function and lock the patch view has chosen.
#[derive(Properties, PartialEq)]
pub struct FindFixProps {
    /// The function to patch.
    pub function: AttrValue,
    /// The lock of the critical section.
    pub lock: LockName,
}

/// The find-fix block.
#[component]
pub fn FindFix(props: &FindFixProps) -> Html {
    let app = use_app();
    let state = use_reducer_eq(FixState::default);
    let bridges = use_mut_ref(Vec::<WorkerBridge<ExploreWorker>>::new);
    let lock_rule = use_state(|| false);
    let current = query(&app.scenario, &app, &props.function, props.lock);
    {
        // The merged result goes to the first worker to be re-checked.
        let (bridges, state) = (bridges.clone(), state.clone());
        use_effect_with(state.to_recheck.clone(), move |pending| {
            if let (Some(result), Some(query), Some(b)) = (pending, &state.query, bridges.borrow().first()) {
                let result = Box::new((**result).clone());
                b.send(Request::Recheck { run: state.tag, query: query.clone(), result });
                state.dispatch(FixAction::RecheckSent);
            }
        });
    }
    let start = {
        let (state, current, bridges) = (state.clone(), current.clone(), bridges.clone());
        Callback::from(move |_: MouseEvent| {
            let q = match current.clone() {
                Ok(q) => q,
                Err(e) => return state.dispatch(FixAction::Refused(e)),
            };
            let tag = state.tag + 1;
            state.dispatch(FixAction::Start(tag, q.clone(), js_sys::Date::now()));
            let mut b = bridges.borrow_mut();
            while b.len() < usize::from(SHARDS) {
                let (d, k) = (state.dispatcher(), b.len());
                let bridge = ExploreWorker::spawner()
                    .callback(move |r: Reply| d.dispatch(FixAction::Reply(k, r, js_sys::Date::now())))
                    .spawn_with_loader(WORKER_LOADER_JS);
                b.push(bridge);
            }
            for (k, bridge) in (0..SHARDS).zip(b.iter()) {
                bridge.send(Request::FindFix { run: tag, query: FixQuery { shard: (k, SHARDS), ..q.clone() } });
            }
            let d = state.dispatcher();
            yew::platform::spawn_local(async move {
                yew::platform::time::sleep(Duration::from_millis(WORKER_SILENCE_MS)).await;
                d.dispatch(FixAction::Silence(tag));
            });
        })
    };
    let cancel = {
        let state = state.clone();
        Callback::from(move |_: MouseEvent| {
            for b in bridges.borrow().iter() {
                b.send(Request::Cancel);
            }
            state.dispatch(FixAction::Cancel)
        })
    };
    let stale = state.query.is_some() && current.as_ref().ok() != state.query.as_ref();
    let running = matches!(state.phase, Phase::Running { .. });
    let on_rule = {
        let lock_rule = lock_rule.clone();
        Callback::from(move |e: Event| {
            if let Some(i) = e.target_dyn_into::<HtmlInputElement>() {
                lock_rule.set(i.checked())
            }
        })
    };
    html! {
        <div class="find-fix" id="find-fix" data-phase={phase_word(&state.phase)} data-stale={stale.to_string()}>
            <div class="ff-bar">
                <button type="button" id="ff-run" onclick={start} disabled={running || current.is_err()}>{ "Find a fix" }</button>
                if running {
                    <button type="button" id="ff-cancel" onclick={cancel}>{ "Cancel" }</button>
                }
                <span class="ff-what">{ format!(
                    "the smallest patches to {} of the unpatched {}: one {} critical section, and at most one move",
                    props.function, app.variant, props.lock.id()) }</span>
            </div>
            <div class="ff-status" role="status" aria-live="polite">{ status(&state.phase, stale) }</div>
            if let Phase::Done(r) = &state.phase {
                { results(&app, r, *lock_rule, on_rule, stale) }
            }
        </div>
    }
}

fn phase_word(p: &Phase) -> &'static str {
    match p {
        Phase::Idle => "idle",
        Phase::Running { .. } => "running",
        Phase::Done(_) => "done",
        Phase::Cancelled(_) => "cancelled",
        Phase::Failed(_) => "failed",
    }
}

fn tried(p: &FixProgress) -> String {
    format!(
        "tried {} of {} candidates, {} clean so far",
        group(p.tried.into()),
        group(p.total.into()),
        group(p.clean.into())
    )
}

fn status(phase: &Phase, stale: bool) -> Html {
    let note =
        stale.then_some(" These results are for an earlier scenario, variant, function or lock; run the search again.");
    match phase {
        Phase::Idle => html! {},
        Phase::Running { heard: false, .. } => html! { { "Starting the search's workers…" } },
        Phase::Running { progress, .. } => html! {
            <>
                <progress id="ff-progress" aria-label="candidates tried" max={progress.total.max(1).to_string()} value={progress.tried.to_string()} />
                { " " }{ tried(progress) }
            </>
        },
        Phase::Cancelled(p) if p.total == 0 => {
            html! { <>{ "Cancelled before the search's workers answered. Nothing is reported." }{ note }</> }
        }
        Phase::Cancelled(p) => {
            html! { <>{ format!("Cancelled: {}. Nothing is reported from a search that did not finish.", tried(p)) }{ note }</> }
        }
        Phase::Failed(e) => {
            html! { <span class="ff-error" id="ff-error">{ format!("The search could not run: {e}") }</span> }
        }
        Phase::Done(r) => html! { <span id="ff-summary">{ summary(r) }{ note }</span> },
    }
}

fn summary(r: &FixResult) -> String {
    let g = |n: u64| group(n.into());
    let mut s = format!(
        "{} candidates: {} clean, {} of them keeping the lock rule; {} the script cannot express; {:.1} s.",
        g(r.total),
        g(r.clean),
        g(r.clean_lock_rule),
        g(r.refused),
        r.millis as f64 / 1000.0
    );
    if r.undecided > 0 {
        s.push_str(&format!(" {} undecided at the state bound (neither clean nor violated).", g(r.undecided)));
    }
    if r.clean == 0 {
        s.push_str(" No patch of this shape makes the scenario clean.");
    }
    for (id, rank, kept) in &r.presets {
        let kept = kept.map(|k| format!(", #{} of those keeping the lock rule", g(k))).unwrap_or_default();
        s.push_str(&format!(" Preset {id} ranks #{}{kept}.", g(*rank)));
    }
    s
}

fn results(app: &crate::AppContext, r: &FixResult, lock_rule: bool, on_rule: Callback<Event>, stale: bool) -> Html {
    let list = if lock_rule { &r.top_lock_rule } else { &r.top };
    html! {
        <>
            <label class="ff-rule"><input type="checkbox" id="ff-lock-rule" checked={lock_rule} onchange={on_rule} />
                { " only those that also keep the lock rule (lists and CDs agree whenever arm_smmu_asid_lock is free)" }</label>
            <ol class="ff-results" id="ff-results" tabindex="0" aria-label="clean patches found">{ for list.iter().map(|f| found_item(app, f, stale)) }</ol>
        </>
    }
}

fn found_item(app: &crate::AppContext, f: &FixFound, stale: bool) -> Html {
    let patch = smmu_sim::patch::parse(&f.patch);
    let load = {
        let (app, patch) = (app.clone(), patch.clone());
        Callback::from(move |_: MouseEvent| {
            if let Ok(p) = patch.clone() {
                app.dispatch(Action::SetPatch(Some(p)))
            }
        })
    };
    let check = match f.recheck.as_str() {
        "clean" => match f.interleavings.parse::<u128>() {
            Ok(n) => format!("re-checked clean over {} interleavings", group(n)),
            Err(_) => format!("re-checked clean over {} interleavings", f.interleavings),
        },
        "violated" => "NOT clean on a full re-check".to_string(),
        _ => "the full re-check hit its bound: not confirmed".to_string(),
    };
    let rule = if f.keeps_lock_rule { "keeps" } else { "breaks" };
    let edits: Vec<String> = match &patch {
        Ok(p) => p.edits.iter().map(|e| e.to_string()).collect(),
        Err(e) => vec![format!("unreadable patch: {e}")],
    };
    html! {
        <li class="ff-found" data-recheck={f.recheck.clone()}>
            <div>{ format!("#{} · {} edit(s), the section holds {} step(s), {rule} the lock rule · {check}",
                group(f.rank.into()), f.size, f.held) }
                { " " }<button type="button" class="ff-load" onclick={load} disabled={stale || patch.is_err()}>{ "Load" }</button></div>
            <pre class="ff-edits">{ edits.join("\n") }</pre>
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q() -> FixQuery {
        let (link, function, lock) = ("v2.x".into(), "arm_smmu_attach_dev".into(), "arm_smmu_asid_lock".into());
        FixQuery { link, function, lock, shard: (0, 1) }
    }

    fn progress(tried: u64) -> FixProgress {
        FixProgress { tried, total: 10, clean: 1 }
    }

    fn reply(k: usize, r: Reply) -> FixAction {
        FixAction::Reply(k, r, 0.0)
    }

    #[test]
    fn replies_of_an_earlier_run_and_after_a_cancel_are_ignored() {
        let both = |s: Rc<FixState>, tag, p| {
            s.reduce(reply(0, Reply::FixProgress(tag, p))).reduce(reply(1, Reply::FixProgress(tag, p)))
        };
        let s = both(Rc::new(FixState::default()).reduce(FixAction::Start(1, q(), 0.0)), 1, progress(3));
        assert_eq!(s.phase, Phase::Running { progress: FixProgress { tried: 6, total: 20, clean: 2 }, heard: true });
        let s = s.reduce(FixAction::Start(2, q(), 0.0));
        let s = both(s, 1, progress(7));
        assert_eq!(s.phase, Phase::Running { progress: FixProgress::default(), heard: false });
        let s = both(s, 2, progress(4)).reduce(FixAction::Cancel);
        let four = FixProgress { tried: 8, total: 20, clean: 2 };
        assert_eq!(s.phase, Phase::Cancelled(four));
        let s = both(s, 2, progress(5));
        assert_eq!(s.phase, Phase::Cancelled(four));
    }

    #[test]
    fn a_silent_worker_fails_the_run_but_one_that_answered_does_not() {
        let s = Rc::new(FixState::default()).reduce(FixAction::Start(1, q(), 0.0));
        assert!(matches!(s.clone().reduce(FixAction::Silence(1)).phase, Phase::Failed(_)));
        let one = s.reduce(reply(1, Reply::FixProgress(1, progress(1))));
        assert_eq!(one.phase, Phase::Running { progress: FixProgress::default(), heard: false }, "no partial total");
        assert!(matches!(one.clone().reduce(FixAction::Silence(1)).phase, Phase::Failed(_)), "one worker is silent");
        let heard = one.reduce(reply(0, Reply::FixProgress(1, progress(1))));
        assert_eq!(heard.clone().reduce(FixAction::Silence(1)).phase, heard.phase);
        let early = Rc::new(FixState::default()).reduce(FixAction::Start(1, q(), 0.0)).reduce(FixAction::Cancel);
        assert_eq!(early.phase, Phase::Cancelled(FixProgress::default()), "cancelled before any total");
    }

    /// Progress is the shards' sum; the merged result waits for the last shard, and the run
    /// is done only when the re-checked result comes back.
    #[test]
    fn shards_are_summed_then_merged_then_rechecked() {
        let s = Rc::new(FixState::default()).reduce(FixAction::Start(1, q(), 100.0));
        let s =
            s.reduce(reply(0, Reply::FixProgress(1, progress(3)))).reduce(reply(1, Reply::FixProgress(1, progress(4))));
        assert_eq!(s.phase, Phase::Running { progress: FixProgress { tried: 7, total: 20, clean: 2 }, heard: true });
        let part = |total| Box::new(Shard { found: Vec::new(), total, undecided: 0, refused: 1 });
        let s = s.reduce(FixAction::Reply(0, Reply::FixShard(1, 0, part(10)), 900.0));
        assert!(s.to_recheck.is_none(), "one shard is still searching");
        let s = s.reduce(FixAction::Reply(1, Reply::FixShard(1, 1, part(12)), 1100.0));
        let merged = s.to_recheck.clone().expect("both shards are in");
        assert_eq!((merged.total, merged.refused, merged.millis), (22, 2, 1000));
        assert!(matches!(s.phase, Phase::Running { .. }));
        let s = s.reduce(FixAction::RecheckSent);
        assert!(s.to_recheck.is_none());
        let s = s.reduce(reply(0, Reply::FixDone(1, Box::new((*merged).clone()))));
        assert_eq!(s.phase, Phase::Done(merged));
    }
}
