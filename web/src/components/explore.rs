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
    // The button stays focusable while a check runs (aria-disabled, not disabled), so
    // starting a check does not drop the keyboard focus to the page.
    let start = {
        let app = app.clone();
        Callback::from(move |_| {
            if !app.explore.running() {
                app.dispatch(Action::ExploreStart);
                refocus("explore");
            }
        })
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
                <button type="button" id="explore" class="primary" onclick={start} aria-disabled={running.to_string()}>
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
    let load = |schedule: Schedule, what: String| {
        let app = app.clone();
        Callback::from(move |_| {
            if app.variant != v {
                app.dispatch(Action::Variant(v));
            }
            app.dispatch(Action::LoadSchedule(schedule.clone(), what.clone()));
            if let Some(el) = crate::hooks::element("timeline") {
                el.scroll_into_view();
            }
        })
    };
    let (class, exact, line) = reading(&s);
    html! {
        <div class={classes!("side", class)} id={format!("result-{}", v.name())} data-verdict={s.verdict.clone()}
            data-violating={exact.then(|| s.violating.to_string())} data-total={exact.then(|| s.interleavings.to_string())}>
            { label }
            <p class={classes!("count", (!exact).then_some("headline"))}>{ line }</p>
            <ul class="byinv">{ for by_invariant(&s) }</ul>
            <p class="meta" title={s.symmetry.then_some(SYMMETRY_NOTE)}>
                { group(s.unique_states.into()) }{ if s.symmetry { " states up to ASID renaming, " } else { " states, " } }
                { group(s.transitions.into()) }{ " transitions" }
            </p>
            <div class="row">{ for counterexamples(&s, v).into_iter().map(|(id, button, what, schedule)| html! {
                <button type="button" class={id} onclick={load(schedule, what.clone())} title={what.clone()}>{ button }</button>
            }) }</div>
        </div>
    }
}

/// Puts the focus back on an element once the page has re-rendered (a re-render may
/// replace the focused button, which would drop the focus to the page).
fn refocus(id: &'static str) {
    yew::platform::spawn_local(async move {
        yew::platform::time::sleep(std::time::Duration::ZERO).await;
        crate::hooks::focus(id);
    });
}

/// How a result box reads: its class (`bad` when a violation was found, whatever the
/// counts; `ok` only for a complete clean run; `partial` else), whether its counts are
/// exact, and its count line. Counts are printed only when exact; otherwise the shared
/// headline, which says "counts unknown" or labels an estimate, never a 0.
pub fn reading(s: &Checked) -> (&'static str, bool, String) {
    let exact = !s.limit_hit && !s.overflow;
    let class = match s.verdict.as_str() {
        "violated" => "bad",
        "clean" => "ok",
        _ => "partial",
    };
    let line = match exact {
        true => format!("{} of {} interleavings violate", group(s.violating), group(s.interleavings)),
        false => s.headline.clone(),
    };
    (class, exact, line)
}

/// The counterexample buttons: (class, label, what it loads, schedule). When the shortest
/// is also a fewest-switch one, one button says so instead of two that do the same.
fn counterexamples(s: &Checked, v: Variant) -> Vec<(&'static str, String, String, Schedule)> {
    let describe = |kind: &str, c: &Schedule| {
        let k = smmu_sim::explore::switches(c);
        format!(
            "the {kind} counterexample of {v}: {} steps, {k} {}",
            c.0.len(),
            if k == 1 { "switch" } else { "switches" }
        )
    };
    let fewest = s.fewest_switches.as_ref();
    let same = |a: &Schedule| fewest.is_some_and(|f| smmu_sim::explore::switches(f) == smmu_sim::explore::switches(a));
    let mut out = Vec::new();
    if let Some(sh) = &s.shortest {
        if same(sh) {
            let what = describe("shortest", sh) + " (also the fewest switches)";
            out.push((
                "load-shortest",
                "Load counterexample (shortest, fewest switches)".to_string(),
                what,
                sh.clone(),
            ));
            return out;
        }
        out.push(("load-shortest", "Load shortest counterexample".to_string(), describe("shortest", sh), sh.clone()));
    }
    if let Some(f) = fewest {
        out.push((
            "load-fewest",
            "Load fewest-switch counterexample".to_string(),
            describe("fewest-switch", f),
            f.clone(),
        ));
    }
    out
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::{checked, summary_data};
    use smmu_sim::explore::{Explorer, Limits};
    use smmu_sim::{builtin, Granularity, Variant};

    fn read(id: &str, v: Variant, max_states: u64) -> (&'static str, bool, String, bool) {
        let w = builtin::get(id).unwrap().compile(v, Granularity::Mail).unwrap();
        let summary = Explorer::new(&w, Limits { max_states }).run();
        let c = checked(&summary_data(&summary, &w), &w).unwrap();
        let (class, exact, line) = reading(&c);
        (class, exact, line, c.shortest.is_some())
    }

    /// No result box prints a count of 0 beside a found counterexample, and only a complete
    /// clean run is green.
    #[test]
    fn a_box_is_red_when_a_violation_was_found_and_never_says_0_beside_it() {
        let cases = [
            ("seed-race", Variant::Pre, 5_000_000),
            ("attach-storm-4", Variant::Pre, 20_000),
            ("seed-race", Variant::Fix, 5_000_000),
            ("attach-storm-4", Variant::Pre, 3),
        ];
        let mut seen = Vec::new();
        for (id, v, max) in cases {
            let (class, exact, line, found) = read(id, v, max);
            if found {
                assert_eq!(class, "bad", "{id} {v} {max}: {line}");
                assert!(!line.starts_with("0 of ") && !line.contains(" 0 of "), "{id} {v} {max}: {line}");
            } else if !exact {
                assert_eq!(class, "partial", "{id} {v} {max}: {line}");
                assert!(line.contains("unknown"), "{id} {v} {max}: {line}");
            } else {
                assert_eq!(class, "ok", "{id} {v} {max}: {line}");
            }
            seen.push((class, exact));
        }
        assert_eq!(
            seen,
            [("bad", true), ("bad", false), ("ok", true), ("partial", false)],
            "every reading is exercised"
        );
    }
}
