//! Every invariant with its status at the cursor; the fix's design rule (`lock`) apart.

use smmu_sim::check::Invariant;
use smmu_sim::view::{self, InvariantStatus};
use yew::prelude::*;

use super::use_app;
use crate::state::Action;

/// The invariant panel.
#[component]
pub fn InvariantPanel() -> Html {
    let app = use_app();
    let (Some(world), Some(trace)) = (&app.world, &app.trace) else { return html! {} };
    let status = view::invariant_status(world, trace, app.cursor);
    let row = |s: &InvariantStatus| {
        let inv = s.invariant;
        // The status at the cursor and where the run first breaks it read apart: a red mark
        // only beside a red status; when it holds here, a plain link to where it breaks.
        let go = s.first.map(|k| {
            let later = app.cursor.is_none_or(|c| c < k);
            let app = app.clone();
            let onclick = Callback::from(move |_| app.dispatch(Action::Cursor(Some(k))));
            let (cls, text) = match (s.broken, later) {
                (true, _) => ("first", format!("first at step {k} →")),
                (false, true) => ("first apart", format!("violated later, first at step {k} →")),
                (false, false) => ("first apart", format!("violated earlier, first at step {k} →")),
            };
            html! {
                <button type="button" class={cls} id={format!("first-{}", inv.id())} {onclick}
                    title="move the cursor to the first step that violates it">
                    { text }
                </button>
            }
        });
        let (cls, word) = if s.broken { ("bad", "violated") } else { ("ok", "holds") };
        html! {
            <li class={classes!("inv", cls)} id={format!("inv-{}", inv.id())} data-broken={s.broken.to_string()}
                data-first={s.first.map(|f| f.to_string()).unwrap_or_default()}>
                <div class="inv-head">
                    <span class={classes!("pill", cls)}>{ word }</span>
                    <code class="inv-id">{ inv.id() }</code>
                    <span class="stmt">{ inv.statement() }</span>
                    { for go }
                </div>
                if let Some(m) = &s.message {
                    <div class="msg">{ m }</div>
                }
                <div class="src">{ inv.source() }</div>
            </li>
        }
    };
    let safety = status.iter().filter(|s| s.invariant != Invariant::Lock).map(row);
    let lock = status.iter().filter(|s| s.invariant == Invariant::Lock).map(row);
    let at = app.cursor.map_or("the initial state".to_string(), |c| format!("step {c}"));
    html! {
        <section class="panel invariants" aria-label="Invariants">
            <h2>{ "Invariants " }<span class="at">{ format!("after {at}") }</span></h2>
            <ul class="invs">{ for safety }</ul>
            <h3>{ "Design rule of the fix" }</h3>
            <ul class="invs">{ for lock }</ul>
        </section>
    }
}
