//! What the scenario is and what to try, plus the schedule line and errors.

use smmu_sim::{Granularity, Variant};
use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::use_app;
use crate::state::Action;

/// The narrow-screen (phone) breakpoint, as in `web/narrow.css`.
const NARROW: &str = "(max-width: 600px)";

/// Whether the page opened on a narrow screen: the description then starts folded, so the
/// timeline is on the first screen.
fn narrow() -> bool {
    let query = web_sys::window().and_then(|w| w.match_media(NARROW).ok().flatten());
    query.is_some_and(|q| q.matches())
}

/// The scenario's mutations and the verdicts every interleaving gives per variant (the
/// scenario's `expect`, held by the model's tests), the shown variant marked.
#[component]
fn Expected() -> Html {
    let app = use_app();
    let s = &app.scenario;
    let mutations = s.mutations.iter().map(|m| {
        html! {
            <p class="mutation"><strong>{ "Mutation " }</strong><code>{ m.id() }</code>{ ": " }{ m.statement() }</p>
        }
    });
    let Some(e) = &s.expect else {
        return html! { <>{ for mutations }</> };
    };
    let cells = Variant::ALL.iter().map(|&v| {
        let summary = e.of(v).summary();
        let clean = e.of(v).at(Granularity::Mail).is_empty() && e.of(v).at(Granularity::Source).is_empty();
        let shown = v == app.variant;
        html! {
            <li class={classes!(if clean { "ok" } else { "bad" }, shown.then_some("shown"))}
                aria-current={shown.then_some("true")}>
                <span class="v">{ v.name() }</span>{ " " }<span class="r">{ summary }</span>
            </li>
        }
    });
    html! {
        <>
            { for mutations }
            <div class="expect" id="scenario-expect">
                <span class="lead">{ "Every interleaving, expected:" }</span>
                <ul>{ for cells }</ul>
            </div>
        </>
    }
}

/// A patched scenario says so, before anything else: which variant runs patched, its edits,
/// and the diff of the step scripts one click away.
#[component]
pub fn Patched() -> Html {
    let app = use_app();
    let Some(p) = &app.scenario.patch else { return html! {} };
    let shown = if p.base == app.variant { "runs patched now" } else { "the shown variant runs unpatched" };
    let text = smmu_sim::patch::print(p, Some(&app.scenario));
    html! {
        <div class="patched" id="scenario-patch" role="note">
            <p><strong class="badge">{ "patched" }</strong>{ " " }
                { format!("{} with {} edit{} ({shown}); the expected verdicts below are the unpatched driver's.",
                    p.base, p.edits.len(), if p.edits.len() == 1 { "" } else { "s" }) }
            </p>
            <details><summary>{ "the patch and its diff of the step scripts" }</summary>
                <pre id="patch-text">{ text }</pre>
            </details>
        </div>
    }
}

/// Scenario description, what to try, keys, the editable schedule and any error.
#[component]
pub fn Intro() -> Html {
    let app = use_app();
    let input = use_node_ref();
    // Only the first render sets it: the user's unfolding or folding stays as they left it.
    let open = *use_memo((), |_| !narrow());
    let apply = {
        let app = app.clone();
        let input = input.clone();
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(i) = input.cast::<HtmlInputElement>() {
                app.dispatch(Action::LoadText(i.value()));
            }
        })
    };
    let reset = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::Reset))
    };
    let dismiss = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::DismissError))
    };
    let executed = match (&app.world, &app.trace) {
        (Some(w), Some(t)) => t.schedule().to_names(w),
        _ => String::new(),
    };
    let seed = app.scenario.id == "seed-race" && app.scenario.patch.is_none();
    html! {
        <section class="intro" aria-label="Scenario">
            <details class="about" {open}>
                <summary><h2>{ &app.scenario.title }</h2></summary>
                <Patched />
                <p class="desc" id="scenario-desc">{ &app.scenario.description }</p>
                <Expected />
                if seed {
                    <p class="try" id="try"><strong>{ "Try: " }</strong>
                        { "the default schedule is the race from the mailing-list thread: CPU0's " }
                        <code>{ "list_del" }</code>{ " runs, then CPU1's " }<code>{ "share_asid" }</code>
                        { ". Drag CPU1's first step to the end of the timeline: CPU1 then runs after CPU0's attach completes, and inv1, inv2, inv3 and dma hold (the fix's design rule, lock, breaks in every run before the fix); " }
                        <strong>{ "Reset" }</strong>{ " brings the race back. Or flip the fix: the same interleaving runs with CPU1 waiting for " }
                        <code>{ "arm_smmu_asid_lock" }</code>{ " (amber) until CPU0's attach is done, and every invariant holds." }
                    </p>
                }
                <p class="keys">
                    <kbd>{ "drag" }</kbd>{ " a block, or focus it and " }<kbd>{ "←" }</kbd><kbd>{ "→" }</kbd>
                    { " to move it · " }<kbd>{ "Enter" }</kbd>{ " select · " }
                    <kbd>{ "[" }</kbd><kbd>{ "]" }</kbd>{ " or " }<kbd>{ "," }</kbd><kbd>{ "." }</kbd>
                    { " step the cursor (in the timeline also " }<kbd>{ "↑" }</kbd><kbd>{ "↓" }</kbd>
                    { ", and " }<kbd>{ "Home" }</kbd><kbd>{ "End" }</kbd>{ " for the first and last step)" }
                </p>
            </details>
            <form class="sched" onsubmit={apply}>
                <label for="schedule">{ "schedule" }</label>
                <input id="schedule" ref={input} spellcheck="false" autocomplete="off"
                    value={app.field_text()}
                    title="thread names or indices, NAME*k repeats: CPU0*4 CPU1*6" />
                <button type="submit">{ "Apply" }</button>
                <button type="button" id="reset" onclick={reset}>{ "Reset" }</button>
                <span class="ran" title="the schedule as it ran (replays this trace exactly)">
                    { "ran: " }<code id="executed">{ executed }</code>
                    { " · the address bar holds a permalink to this run and cursor" }
                </span>
            </form>
            if let Some(e) = &app.error {
                <div class="error" role="alert">
                    <span>{ e }</span>
                    <button type="button" onclick={dismiss} aria-label="dismiss">{ "×" }</button>
                </div>
            }
        </section>
    }
}
