//! The hardware and driver tables after the cursor step, with what that step changed marked.

use smmu_sim::view::{self, Row};
use yew::prelude::*;

use super::use_app;

/// The state panel.
#[component]
pub fn StatePanel() -> Html {
    let app = use_app();
    let (Some(world), Some(trace)) = (&app.world, &app.trace) else { return html! {} };
    let state = app.cursor.and_then(|c| trace.states.get(c)).unwrap_or(&world.initial);
    let t = view::tables(world, state);
    let changed: Vec<String> = app
        .cursor
        .map(|c| view::changes_at(world, trace, c).into_iter().map(|c| c.object).collect())
        .unwrap_or_default();
    // The rows the violations found at this step name: what the broken invariant is about.
    let named: Vec<(String, &'static str)> = app
        .cursor
        .and_then(|c| trace.steps.get(c))
        .map(|s| {
            let objects = s.violations.iter().filter(|v| v.invariant.is_safety());
            objects.flat_map(|v| v.objects.iter().map(|o| (view::object_row(world, o), v.invariant.id()))).collect()
        })
        .unwrap_or_default();
    let table = |title: &str, id: &str, head: &[&str], rows: &[Row], empty: &str| {
        let body = rows.iter().map(|r| {
            let hot = view::row_changed(r, &changed);
            let invs: Vec<&str> = named.iter().filter(|(o, _)| *o == r.object).map(|(_, i)| *i).collect();
            let title = match (hot, invs.is_empty()) {
                (_, false) => Some(format!("named by the {} violation at this step", invs.join(", "))),
                (true, true) => Some("changed at this step".to_string()),
                (false, true) => None,
            };
            let cls = classes!(hot.then_some("changed"), (!invs.is_empty()).then_some("named"));
            html! {
                <tr class={cls} {title} data-named={(!invs.is_empty()).then(|| invs.join(" "))}>
                    { for r.cells.iter().enumerate().map(|(i, c)| html! {
                        <td class={classes!((i + 1 == r.cells.len() && head.len() < r.cells.len()).then_some("note"))}>{ c }</td>
                    }) }
                </tr>
            }
        });
        html! {
            <div class="tbl" id={id.to_string()}>
                <h3>{ title }</h3>
                if rows.is_empty() {
                    <p class="empty">{ empty }</p>
                } else {
                    <table>
                        <thead><tr>{ for head.iter().map(|h| html! { <th>{ *h }</th> }) }</tr></thead>
                        <tbody>{ for body }</tbody>
                    </table>
                }
            </div>
        }
    };
    let at = app.cursor.map_or("initial state".to_string(), |c| format!("after step {c}"));
    html! {
        <section class="panel state" aria-label="State">
            <h2>{ "SMMU and driver state " }<span class="at">{ at }</span></h2>
            <div class="tables">
                { table("STE", "t-ste", &["master", "STE", "SMMU may still use"], &t.stes, "") }
                { table("CD", "t-cd", &["slot", "V", "ASID", "table", "ASET", "live", "SMMU may still use"], &t.cds, "") }
                { table("IOTLB", "t-iotlb", &["tag", "iova", "pa", "walked"], &t.iotlb, "empty") }
                { table("arm_smmu_asid_xa", "t-xa", &["ASID", "owner"], &t.xa, "empty") }
                { table("domains", "t-dom", &["domain", "id", "table", "devices"], &t.domains, "") }
                { table("locks", "t-locks", &["lock", "holder"], &t.locks, "") }
            </div>
        </section>
    }
}
