//! The embed: a compact, read-only view of a permalink for other pages' iframes: the whole
//! run fitted to the frame's width with its lanes named, the verdict and the first
//! violation's message, the fix switch, a "patched" badge with the diff one click away
//! when the link carries a patch, and a link to the full playground.

use smmu_sim::check::Invariant;
use yew::prelude::*;

use super::header::FixSwitch;
use super::intro::Patched;
use super::overview::Overview;
use super::use_app;
use crate::share;

/// The embedded view.
#[component]
pub fn Embed() -> Html {
    let app = use_app();
    let broken: Vec<&'static str> = match &app.trace {
        Some(t) => Invariant::ALL
            .into_iter()
            .filter(|i| t.safety_violations().any(|v| v.invariant == *i))
            .map(Invariant::id)
            .collect(),
        None => Vec::new(),
    };
    let (cls, verdict) = if broken.is_empty() {
        ("ok", "all invariants hold".to_string())
    } else {
        ("bad", format!("VIOLATED: {}", broken.join(", ")))
    };
    let full = app.link().map(|l| share::page_url(&l)).unwrap_or_else(share::page_base);
    let first = app.trace.as_ref().and_then(|t| t.safety_violations().min_by_key(|v| v.step).cloned());
    let at = app.cursor_block().map(|b| {
        let lane = app.lanes.get(b.lane).map_or("", |l| l.name.as_str());
        format!("step {} · {lane} · {}: {}", b.index, b.function, b.label)
    });
    html! {
        <main class="embed" id="embed-root">
            <header class="top embed-top">
                <div class="brand">
                    <h1 class="embed-title" title={app.scenario.description.clone()}>{ &app.scenario.title }</h1>
                    <span class="sub">{ format!("{} · {}", app.variant, app.granularity) }</span>
                </div>
                <a class="open-full" id="open-playground" href={full} target="_blank" rel="noopener">{ "Open in playground ↗" }</a>
                <div class="embed-row">
                    <span class={classes!("verdict", cls)} id="verdict" data-violated={broken.join(" ")}>{ verdict }</span>
                    <FixSwitch />
                </div>
            </header>
            if let Some(e) = app.link_error.as_ref().or(app.error.as_ref()) {
                <div class="error" id="link-error" role="alert"><span>{ e }</span></div>
            }
            <Patched />
            <section class="embed-run" aria-label="The run">
                <Overview />
                if let Some(v) = &first {
                    <p class="first-violation" id="first-violation">
                        <strong>{ format!("{} at step {}: ", v.invariant.id(), v.step) }</strong>{ &v.message }
                    </p>
                }
                if let Some(at) = at {
                    <p class="embed-at" id="embed-at" aria-live="polite">{ at }</p>
                }
            </section>
        </main>
    }
}
