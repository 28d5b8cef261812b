//! The exhaustive check: progress and cancel, and the counts before and after the fix.

use std::rc::Rc;

use smmu_sim::check::Invariant;
use smmu_sim::sched::Schedule;
use smmu_sim::Variant;
use yew::prelude::*;

use super::{group, use_app};
use crate::state::{Action, ExploreKey};
use crate::worker::Checked;

/// What "up to ASID renaming" means, on hover.
const SYMMETRY_NOTE: &str = "States that differ only in which allocated ASID went to which context descriptor are \
    kept once: the driver only compares, looks up and flushes ASIDs. Every count above is exact all the same.";

/// The explore panel.
#[component]
pub fn ExplorePanel() -> Html {
    let app = use_app();
    let start = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::ExploreStart))
    };
    let cancel = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::ExploreCancel))
    };
    let running = app.explore.running();
    let progress = app.explore.queue.first().map(|k| {
        let p = app.explore.progress;
        let text = match p {
            Some(p) => format!(
                "checking {} · depth {} · {} states · {} transitions · {} queued",
                k.variant,
                p.depth,
                group(p.states.into()),
                group(p.transitions.into()),
                group(p.frontier.into())
            ),
            None => format!("checking {} …", k.variant),
        };
        html! { <p class="progress" id="explore-progress" role="status"><span class="spinner" aria-hidden="true"></span>{ text }</p> }
    });
    // Oldest kernel on the left: before the fix, the fix, v6.9.
    let sides = Variant::ALL;
    html! {
        <section class="panel explore" aria-label="Every interleaving">
            <h2>{ "Every interleaving" }</h2>
            <p class="hint">{ format!(
                "Counts every complete interleaving of {} at {} granularity for each kernel: before the fix (pre), with it (fix), and v6.9.",
                app.scenario.id, app.granularity) }</p>
            <div class="row">
                <button type="button" id="explore" class="primary" onclick={start} disabled={running}>
                    { "Check every interleaving" }
                </button>
                if running {
                    <button type="button" id="explore-cancel" onclick={cancel}>{ "Cancel" }</button>
                }
            </div>
            { for progress }
            if app.explore.cancelled {
                <p class="empty">{ "Cancelled." }</p>
            }
            <div class="results">
                { for sides.iter().map(|&v| html! { <Side variant={v} /> }) }
            </div>
        </section>
    }
}

#[derive(Properties, PartialEq)]
struct SideProps {
    variant: Variant,
}

/// The result for one variant.
#[component]
fn Side(props: &SideProps) -> Html {
    let app = use_app();
    let v = props.variant;
    let key: ExploreKey = app.key(v);
    let current = v == app.variant;
    let label = html! {
        <div class="side-head">
            <code>{ v.name() }</code>{ " " }<span class="commit">{ &v.commit()[..12] }</span>
            if current { <span class="tag">{ "shown" }</span> }
        </div>
    };
    let Some(s) = app.explore.result(&key).cloned() else {
        return html! { <div class="side" id={format!("result-{}", v.name())}>{ label }<p class="empty">{ "not checked yet" }</p></div> };
    };
    let load = |schedule: Schedule| {
        let app = app.clone();
        Callback::from(move |_| {
            if app.variant != v {
                app.dispatch(Action::Variant(v));
            }
            app.dispatch(Action::LoadSchedule(schedule.clone()));
        })
    };
    let exact = !s.limit_hit && !s.overflow;
    let class = match s.verdict.as_str() {
        "violated" => "bad",
        "clean" => "ok",
        _ => "partial",
    };
    html! {
        <div class={classes!("side", class)} id={format!("result-{}", v.name())} data-verdict={s.verdict.clone()}
            data-violating={exact.then(|| s.violating.to_string())} data-total={exact.then(|| s.interleavings.to_string())}>
            { label }
            if exact {
                <p class="count">
                    <strong>{ group(s.violating) }</strong>{ " of " }<strong>{ group(s.interleavings) }</strong>
                    { " interleavings violate" }
                </p>
            } else {
                <p class="count headline">{ &s.headline }</p>
            }
            <ul class="byinv">{ for by_invariant(&s) }</ul>
            <p class="meta" title={s.symmetry.then_some(SYMMETRY_NOTE)}>
                { group(s.unique_states.into()) }{ if s.symmetry { " states up to ASID renaming, " } else { " states, " } }
                { group(s.transitions.into()) }{ " transitions" }
            </p>
            <div class="row">
                if let Some(sh) = s.shortest.clone() {
                    <button type="button" class="load-shortest" onclick={load(sh.clone())}
                        title={format!("{} steps, then the scheduler completes the run", sh.0.len())}>
                        { "Load shortest counterexample" }
                    </button>
                }
                if let Some(f) = s.fewest_switches.clone() {
                    <button type="button" class="load-fewest" onclick={load(f.clone())}
                        title={format!("{} context switches, {} steps", smmu_sim::explore::switches(&f), f.0.len())}>
                        { "Load fewest-switch counterexample" }
                    </button>
                }
            </div>
        </div>
    }
}

fn by_invariant(s: &Rc<Checked>) -> Vec<Html> {
    if s.limit_hit || s.overflow {
        return Vec::new();
    }
    s.by_invariant
        .iter()
        .filter(|(_, n)| *n > 0)
        .map(|(inv, n)| {
            let lock = *inv == Invariant::Lock;
            html! {
                <li class={classes!(lock.then_some("lock"))}>
                    <code>{ inv.id() }</code>{ " " }{ group(*n) }
                    if lock { <span class="why">{ " (design rule, not counted)" }</span> }
                </li>
            }
        })
        .collect()
}
