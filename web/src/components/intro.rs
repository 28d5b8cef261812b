//! What the scenario is and what to try, plus the schedule line and errors.

use web_sys::HtmlInputElement;
use yew::prelude::*;

use super::use_app;
use crate::state::Action;

/// Scenario description, what to try, keys, the editable schedule and any error.
#[component]
pub fn Intro() -> Html {
    let app = use_app();
    let input = use_node_ref();
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
    let seed = app.scenario.id == "seed-race";
    html! {
        <section class="intro" aria-label="Scenario">
            <div class="about">
                <h2>{ &app.scenario.title }</h2>
                <p class="desc">{ &app.scenario.description }</p>
                if seed {
                    <p class="try"><strong>{ "Try: " }</strong>
                        { "the default schedule below is the race from the mailing-list thread. Drag CPU1's " }
                        <code>{ "share_asid" }</code>{ " steps before CPU0's " }<code>{ "list_del" }</code>
                        { ", or after CPU0's attach completes, and watch inv1/inv2 clear. Then flip the fix: CPU1 now waits for " }
                        <code>{ "arm_smmu_asid_lock" }</code>{ " (amber) and every invariant holds, whatever the order." }
                    </p>
                }
                <p class="keys">
                    <kbd>{ "drag" }</kbd>{ " a block, or focus it and " }<kbd>{ "←" }</kbd><kbd>{ "→" }</kbd>
                    { " to move it · " }<kbd>{ "Enter" }</kbd>{ " select · " }
                    <kbd>{ "↑" }</kbd><kbd>{ "↓" }</kbd>{ " or " }<kbd>{ "[" }</kbd><kbd>{ "]" }</kbd>{ " or " }<kbd>{ "," }</kbd><kbd>{ "." }</kbd>
                    { " step the cursor · " }<kbd>{ "Home" }</kbd><kbd>{ "End" }</kbd>
                </p>
            </div>
            <form class="sched" onsubmit={apply}>
                <label for="schedule">{ "schedule" }</label>
                <input id="schedule" ref={input} spellcheck="false" autocomplete="off"
                    value={app.intent_text()}
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
