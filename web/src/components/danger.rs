//! The danger-window heat map: for each pair of steps of different threads, the share of the
//! interleavings running one before the other that violate a safety invariant.

use std::rc::Rc;

use smmu_sim::explore::DangerMap;
use yew::prelude::*;

use super::{group, use_app};
use crate::state::{Action, AppState};

/// Heat map of the current view's danger windows, once the check has run.
#[component]
pub fn DangerPanel() -> Html {
    let app = use_app();
    let key = app.key(app.variant);
    let body = match app.explore.danger(&key) {
        None => return html! {},
        Some(Err(e)) => html! { <p class="empty">{ format!("No danger map: {e}.") }</p> },
        Some(Ok(map)) if map.violating == 0 => html! {
            <p class="empty">{ format!("No interleaving of {} violates, so no order of steps is dangerous.", app.variant) }</p>
        },
        Some(Ok(map)) => html! { <HeatMap map={map.clone()} pick={app.dispatcher()} /> },
    };
    html! {
        <section class="panel danger" aria-label="Danger windows">
            <h2>{ "Danger windows " }<span class="at">{ format!("{} · {}", app.variant, app.granularity) }</span></h2>
            <p class="hint">
                { "Cell (row, column): of the interleavings that run the row's step before the column's, the share that violates, " }
                { "against the share of all interleavings. Hover a cell for the counts; click one to load a violating interleaving with that order." }
            </p>
            { body }
        </section>
    }
}

/// The share of the interleavings running `a` before `b` that violate, when any run so.
fn share(map: &DangerMap, a: usize, b: usize) -> Option<f64> {
    let all = map.before_all[a][b];
    (all > 0 && map.steps[a].thread != map.steps[b].thread).then(|| map.before[a][b] as f64 / all as f64)
}

/// The share of all interleavings that violate: what an order is compared with.
fn base(map: &DangerMap) -> f64 {
    map.violating as f64 / map.interleavings.max(1) as f64
}

/// A step's name in the map: thread, its step number, and what it does.
fn name(map: &DangerMap, i: usize) -> String {
    let s = &map.steps[i];
    format!("{} #{} {}: {}", s.thread_name, s.index, s.function, s.label)
}

/// The most dangerous orders, most dangerous first: (a, b, share), at most `k`.
fn top(map: &DangerMap, k: usize) -> Vec<(usize, usize, f64)> {
    let n = map.steps.len();
    let mut all: Vec<(usize, usize, f64)> = (0..n)
        .flat_map(|a| (0..n).filter_map(move |b| share(map, a, b).map(|s| (a, b, s))))
        .filter(|&(a, b, _)| map.before[a][b] > 0)
        .collect();
    all.sort_by(|x, y| y.2.total_cmp(&x.2).then((x.0, x.1).cmp(&(y.0, y.1))));
    all.truncate(k);
    all
}

#[derive(Properties)]
struct HeatMapProps {
    map: Rc<DangerMap>,
    pick: UseReducerDispatcher<AppState>,
}

/// A map is computed once per check, so identity is equality (and much cheaper to test).
impl PartialEq for HeatMapProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.map, &other.map) && self.pick == other.pick
    }
}

/// The action that loads a violating interleaving running `a` before `b`.
fn pick(map: &DangerMap, a: usize, b: usize) -> Action {
    let (sa, sb) = (&map.steps[a], &map.steps[b]);
    Action::PickOrder {
        a: (sa.thread, sa.index),
        b: (sb.thread, sb.index),
        what: format!("{} before {}", name(map, a), name(map, b)),
    }
}

/// Cell colour against the base rate: red where an order violates more often than the
/// interleavings as a whole (darkest at the most dangerous order), blue where less often.
fn colour(share: f64, base: f64, top: f64) -> String {
    if share >= base {
        let k = ((share - base) / (top - base).max(f64::EPSILON)).clamp(0.0, 1.0);
        format!("background: rgba(214, 40, 40, {:.3})", 0.08 + k * 0.87)
    } else {
        let k = ((base - share) / base.max(f64::EPSILON)).clamp(0.0, 1.0);
        format!("background: rgba(9, 105, 218, {:.3})", k * 0.45)
    }
}

/// The matrix and the list of the most dangerous orders; it re-renders only when a new
/// check replaces the map, not on every step.
#[component]
fn HeatMap(props: &HeatMapProps) -> Html {
    let map = &*props.map;
    let n = map.steps.len();
    let base = base(map);
    let top_share = top(map, 1).first().map_or(base, |t| t.2);
    let dispatch = props.pick.clone();
    let on = move |a: usize, b: usize, map: &DangerMap| {
        let dispatch = dispatch.clone();
        let action = pick(map, a, b);
        Callback::from(move |_: MouseEvent| dispatch.dispatch(action.clone()))
    };
    let head = (0..n).map(|b| {
        let s = &map.steps[b];
        let first = s.index == 0;
        html! {
            <th class={classes!("dcol", first.then_some("tstart"))} title={name(map, b)} scope="col">
                if first { <span class="tname">{ &s.thread_name }</span> }
                <span class="sidx">{ s.index }</span>
            </th>
        }
    });
    let rows = (0..n).map(|a| {
        let sa = &map.steps[a];
        let cells = (0..n).map(|b| {
            let start = map.steps[b].index == 0;
            let Some(sh) = share(map, a, b) else {
                let (cls, title) = if sa.thread == map.steps[b].thread { ("same", None) } else { ("never", Some("never in this order")) };
                return html! { <td class={classes!("dc", cls, start.then_some("tstart"))} {title}></td> };
            };
            let (bad, all) = (map.before[a][b], map.before_all[a][b]);
            let title = format!(
                "{} before {}: {} of {} interleavings violate ({:.1}%; base {:.1}%){}",
                name(map, a), name(map, b), group(bad), group(all), sh * 100.0, base * 100.0,
                if bad > 0 { "; click to load one" } else { "" }
            );
            let onclick = (bad > 0).then(|| on(a, b, map));
            html! { <td class={classes!("dc", start.then_some("tstart"), (bad > 0).then_some("pick"))} style={colour(sh, base, top_share)} {title} {onclick}></td> }
        });
        html! {
            <tr class={classes!((sa.index == 0).then_some("tstart-row"))}>
                <th class="drow" scope="row" title={name(map, a)}>
                    <span class="tname">{ &sa.thread_name }</span>{ format!(" {} ", sa.index) }
                    <span class="fnname">{ &sa.label }</span>
                </th>
                { for cells }
            </tr>
        }
    });
    let list = top(map, 5).into_iter().map(|(a, b, sh)| html! {
        <li><button type="button" class="order" onclick={on(a, b, map)}>
            { format!("{} before {}: {:.1}% of {} interleavings violate", name(map, a), name(map, b), sh * 100.0, group(map.before_all[a][b])) }
        </button></li>
    });
    html! {
        <>
        <p class="scale">
            { format!("Base rate: {:.1}% of all interleavings violate. ", base * 100.0) }
            <span class="swatch lo"></span>{ "less often than that · " }
            <span class="swatch hi"></span>{ format!("more often, up to {:.1}%", top_share * 100.0) }
        </p>
        <h3>{ "The most dangerous orders" }</h3>
        <ol class="top-orders" id="top-orders">{ for list }</ol>
        <div class="heat-scroll" aria-hidden="true">
            <table class="heat" id="danger-map">
                <thead><tr><th class="corner">{ "runs before →" }</th>{ for head }</tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
        </div>
        </>
    }
}
