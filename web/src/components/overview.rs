//! The whole run at a glance, above the detailed timeline: verdict chips (each safety
//! invariant with its first violating step) and an overview strip that fits every step to
//! the page's width, one row per lane, so `list_del` and the flush are on screen together.

use smmu_sim::check::Invariant;
use yew::prelude::*;

use super::use_app;
use crate::state::Action;

/// The verdict chips and the overview strip.
#[component]
pub fn Overview() -> Html {
    let app = use_app();
    let Some(trace) = &app.trace else { return html! {} };
    let go = |at: Option<usize>| {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::Cursor(at)))
    };
    let chips = Invariant::ALL.into_iter().filter(|i| i.is_safety()).map(|inv| {
        let first = trace.first(inv);
        let (cls, text) = match first {
            Some(k) => ("bad", format!("{} broken at step {k}", inv.id())),
            None => ("ok", format!("{} holds", inv.id())),
        };
        html! {
            <li><button type="button" class={classes!("chip", cls)} id={format!("chip-{}", inv.id())}
                disabled={first.is_none()} onclick={go(first)}>{ text }</button></li>
        }
    });
    let broken: Vec<String> = Invariant::ALL
        .into_iter()
        .filter(|i| i.is_safety())
        .filter_map(|i| trace.first(i).map(|k| format!("{} at step {k}", i.id())))
        .collect();
    let said = match broken.is_empty() {
        true => format!("{} · {}: every invariant holds", app.variant, app.scenario.id),
        false => format!("{} · {}: violated: {}", app.variant, app.scenario.id, broken.join(", ")),
    };
    let n = app.blocks.len().max(1);
    let rows = app.lanes.iter().enumerate().map(|(lane, l)| {
        let cells = app.blocks.iter().filter(|b| b.lane == lane).map(|b| {
            let safety: Vec<&str> = b.violations.iter().copied().filter(|v| *v != "lock").collect();
            let cls = classes!(
                "ov-cell",
                (!safety.is_empty()).then_some("viol"),
                b.waited.is_some().then_some("waited"),
                (app.cursor == Some(b.index)).then_some("cur")
            );
            let left = format!("left: {:.4}%; width: {:.4}%", b.index as f64 * 100.0 / n as f64, 100.0 / n as f64);
            let title = format!("step {}: {} {}", b.index, b.function, b.label);
            html! { <button type="button" class={cls} style={left} {title} tabindex="-1" onclick={go(Some(b.index))}
            aria-label={format!("step {} ({})", b.index, l.name)}></button> }
        });
        html! {
            <div class="ov-row"><span class="ov-name">{ &l.name }</span><div class="ov-track">{ for cells }</div></div>
        }
    });
    html! {
        <div class="overview" aria-label="The whole run">
            <ul class="chips" aria-label="Verdict">{ for chips }</ul>
            // Screen readers hear the verdict change after a drop, a key or the fix switch.
            <p class="sr-only" id="verdict-live" aria-live="polite">{ said }</p>
            <div class="ov" id="overview">{ for rows }</div>
        </div>
    }
}
