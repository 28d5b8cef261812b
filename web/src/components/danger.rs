//! The danger-window heat map: for each pair of steps of different threads, the share of the
//! interleavings running one before the other that violate a safety invariant.

use std::rc::Rc;

use smmu_sim::explore::DangerMap;
use yew::prelude::*;

use super::{group, use_app};

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
        Some(Ok(map)) => html! { <HeatMap map={map.clone()} /> },
    };
    html! {
        <section class="panel danger" aria-label="Danger windows">
            <h2>{ "Danger windows " }<span class="at">{ format!("{} · {}", app.variant, app.granularity) }</span></h2>
            <p class="hint">
                { "Cell (row, column): of the interleavings that run the row's step before the column's, the share that violates. " }
                { "Red rows and columns are the windows that matter; hover a cell for the counts." }
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

#[derive(Properties)]
struct HeatMapProps {
    map: Rc<DangerMap>,
}

/// A map is computed once per check, so identity is equality (and much cheaper to test).
impl PartialEq for HeatMapProps {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.map, &other.map)
    }
}

/// The matrix; it re-renders only when a new check replaces the map, not on every step.
#[component]
fn HeatMap(props: &HeatMapProps) -> Html {
    let map = &*props.map;
    let n = map.steps.len();
    // Colours are scaled to the most dangerous order, so the windows stand out even when
    // every share is small; the tooltip gives the exact counts.
    let top = (0..n).flat_map(|a| (0..n).filter_map(move |b| share(map, a, b))).fold(0.0, f64::max).max(f64::EPSILON);
    let name = |i: usize| {
        let s = &map.steps[i];
        format!("{} #{} {}: {}", s.thread_name, s.index, s.function, s.label)
    };
    let head = (0..n).map(|b| {
        let s = &map.steps[b];
        let first = s.index == 0;
        html! {
            <th class={classes!("dcol", first.then_some("tstart"))} title={name(b)} scope="col">
                if first { <span class="tname">{ &s.thread_name }</span> }
                <span class="sidx">{ s.index }</span>
            </th>
        }
    });
    let rows = (0..n).map(|a| {
        let sa = &map.steps[a];
        let cells = (0..n).map(|b| {
            let sb = &map.steps[b];
            let start = sb.index == 0;
            if sa.thread == sb.thread {
                return html! { <td class={classes!("dc", "same", start.then_some("tstart"))}></td> };
            }
            let (bad, all) = (map.before[a][b], map.before_all[a][b]);
            if all == 0 {
                return html! { <td class={classes!("dc", "never", start.then_some("tstart"))} title="never in this order"></td> };
            }
            let share = bad as f64 / all as f64;
            let title = format!(
                "{} before {}: {} of {} interleavings violate ({:.1}%)",
                name(a),
                name(b),
                group(bad),
                group(all),
                share * 100.0
            );
            let style = format!("background: rgba(214, 40, 40, {:.3})", (share / top).clamp(0.0, 1.0) * 0.95);
            html! { <td class={classes!("dc", start.then_some("tstart"))} {style} {title}></td> }
        });
        html! {
            <tr class={classes!((sa.index == 0).then_some("tstart-row"))}>
                <th class="drow" scope="row" title={name(a)}>
                    <span class="tname">{ &sa.thread_name }</span>{ format!(" {} ", sa.index) }
                    <span class="fnname">{ sa.function.strip_prefix("arm_smmu_").unwrap_or(sa.function) }</span>
                </th>
                { for cells }
            </tr>
        }
    });
    html! {
        <>
        <p class="scale">
            <span class="swatch lo"></span>{ "0%" }
            <span class="swatch hi"></span>{ format!("{:.1}% (the most dangerous order here)", top * 100.0) }
        </p>
        <div class="heat-scroll">
            <table class="heat" id="danger-map">
                <thead><tr><th class="corner">{ "runs before →" }</th>{ for head }</tr></thead>
                <tbody>{ for rows }</tbody>
            </table>
        </div>
        </>
    }
}
