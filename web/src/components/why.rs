//! Why each invariant broke: the causal chain of its first violation, derived from the trace
//! by `smmu_sim::cause` (the steps that last wrote what the broken predicate reads, and what
//! those steps read in turn), each step a link to its block.

use std::rc::Rc;

use smmu_sim::cause;
use yew::prelude::*;

use super::use_app;
use crate::state::Action;

/// The "why it broke" panel: one chain per violated safety invariant.
#[component]
pub fn WhyPanel() -> Html {
    let app = use_app();
    let trace = app.trace.clone();
    let world = app.world.clone();
    let chains =
        use_memo((trace.as_ref().map(Rc::as_ptr), world.as_ref().map(Rc::as_ptr)), move |_| match (&world, &trace) {
            (Some(w), Some(t)) => first_chains(w, t),
            _ => Vec::new(),
        });
    if chains.is_empty() {
        return html! {};
    }
    let lanes = app.lanes.clone();
    let item = |link: &Step| {
        let app = app.clone();
        let at = link.step;
        let onclick = Callback::from(move |_| app.dispatch(Action::Cursor(Some(at))));
        let lane = lanes.get(link.lane).map_or("", |l| l.name.as_str());
        html! {
            <li>
                <button type="button" class="why-step" {onclick} aria-label={format!("cursor to step {at}")}>
                    { format!("step {at}") }
                </button>
                <span class="why-lane">{ lane }</span>{ " " }
                <code class="why-fn">{ link.function }</code>{ " " }
                <code class="why-label">{ &link.label }</code>
                <span class="why-what">{ format!("({})", link.what) }</span>
            </li>
        }
    };
    html! {
        <section class="panel why" id="why" aria-label="Why it broke">
            <h2>{ "Why it broke" }</h2>
            { for chains.iter().map(|c| html! {
                <div class="why-chain" id={format!("why-{}", c.invariant)}>
                    <h3>{ format!("{} at step {}", c.invariant, c.step) }</h3>
                    <ol>{ for c.links.iter().map(item) }</ol>
                </div>
            }) }
        </section>
    }
}

/// The chain of one invariant's first violation.
#[derive(PartialEq)]
struct Chain {
    invariant: &'static str,
    step: usize,
    links: Vec<Step>,
}

/// One step of a chain, with what the page shows of it.
#[derive(PartialEq)]
struct Step {
    step: usize,
    lane: usize,
    function: &'static str,
    label: String,
    what: String,
}

fn first_chains(world: &smmu_sim::World, trace: &smmu_sim::trace::Trace) -> Vec<Chain> {
    let mut seen = Vec::new();
    let mut out = Vec::new();
    for v in trace.violations.iter().filter(|v| v.invariant.is_safety()) {
        if seen.contains(&v.invariant) {
            continue;
        }
        seen.push(v.invariant);
        let links = cause::chain(world, trace, v)
            .into_iter()
            .filter_map(|l| {
                let s = trace.steps.get(l.step)?;
                Some(Step {
                    step: l.step,
                    lane: s.thread.ix(),
                    function: s.function,
                    label: s.label.clone(),
                    what: l.what,
                })
            })
            .collect();
        out.push(Chain { invariant: v.invariant.id(), step: v.step, links });
    }
    out
}
