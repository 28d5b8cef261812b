//! The step at the cursor: what it does, where it waited, what it changed and broke, and
//! its source line at the pinned commit.

use smmu_sim::view;
use yew::prelude::*;

use super::use_app;

/// The step details panel.
#[component]
pub fn Details() -> Html {
    let app = use_app();
    let (Some(world), Some(trace)) = (&app.world, &app.trace) else { return html! {} };
    let Some(b) = app.cursor_block() else {
        return html! {
            <section class="panel details" aria-label="Step">
                <h2>{ "Step" }</h2>
                <p class="empty">{ "The initial state. Select a block, or step forward with ↓ or ]." }</p>
            </section>
        };
    };
    let step = &trace.steps[b.index];
    let lane = app.lanes.get(b.lane).map_or("", |l| l.name.as_str());
    let changes = view::changes_at(world, trace, b.index);
    let flush = view::flush_note(world, trace, b.index);
    let chain = step.stack.join(" → ");
    html! {
        <section class="panel details" aria-label="Step">
            <h2>{ format!("Step {} ", b.index) }<span class="at">{ format!("{lane} · step {} of its lane", b.nth) }</span></h2>
            <div class="fnline"><code class="fn">{ b.function }</code>
                if !chain.is_empty() { <span class="chain">{ format!("called from {chain}") }</span> }
            </div>
            <p class="label"><code>{ &step.label }</code></p>
            if !step.folded.is_empty() {
                <div class="folded">
                    <span class="at">{ "with the bookkeeping folded into this step at mail granularity:" }</span>
                    <ul>{ for step.folded.iter().map(|f| html! { <li><code>{ f }</code></li> }) }</ul>
                </div>
            }
            <p class="srcline">
                if let Some(url) = &b.url {
                    <a id="source-link" href={url.clone()} target="_blank" rel="noopener">{ &b.source }{ " ↗" }</a>
                } else {
                    <span>{ &b.source }</span>
                }
            </p>
            if let Some((pos, why)) = &b.waited {
                <p class="waitnote">{ format!("Asked for at position {pos}; {why}.") }</p>
            }
            if b.auto {
                <p class="autonote">{ "Run by the scheduler after the schedule ran out (lowest thread first)." }</p>
            }
            if !step.violations.is_empty() {
                <ul class="viols">{ for step.violations.iter().map(|v| html! {
                    <li class={classes!((v.invariant.id() == "lock").then_some("lock"))}>
                        <code>{ v.invariant.id() }</code>{ " " }{ &v.message }
                    </li>
                }) }</ul>
            }
            if let Some(note) = &flush {
                <p class="flushnote" id="flush-note">{ note }</p>
            }
            if changes.is_empty() && flush.is_none() {
                <p class="empty">{ "No object changed (a lock, a read or a check)." }</p>
            } else if !changes.is_empty() {
                <table class="changes">
                    <thead><tr><th>{ "changed" }</th><th>{ "before" }</th><th>{ "after" }</th></tr></thead>
                    <tbody>{ for changes.iter().map(|c| html! {
                        <tr><td><code>{ &c.object }</code></td><td>{ &c.before }</td><td>{ &c.after }</td></tr>
                    }) }</tbody>
                </table>
            }
        </section>
    }
}
