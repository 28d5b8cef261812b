//! The bit view: one master's STE after the cursor step, qword by qword and field by field.
//! Used bits of its configuration are highlighted, bits the step changed are marked, and a
//! fetch step shows what the SMMU read, with the qwords it could have read either way.

use smmu_sim::ids::MasterId;
use smmu_sim::view::bits::{self, Bits, Qword};
use yew::prelude::*;

use super::use_app;

/// The bit view, folded until opened.
#[component]
pub fn BitView() -> Html {
    let app = use_app();
    // The master the reader picked; `None` follows the cursor (a fetch's master, or the STE
    // the step changed).
    let chosen = use_state(|| None::<MasterId>);
    let (Some(world), Some(trace)) = (&app.world, &app.trace) else { return html! {} };
    let m = chosen.filter(|m| m.ix() < world.topo.masters.len());
    let m = m.unwrap_or_else(|| bits::default_master(world, trace, app.cursor));
    let Some(view) = bits::ste_bits(world, trace, app.cursor, m) else { return html! {} };
    let pick = {
        let chosen = chosen.clone();
        Callback::from(move |e: Event| {
            let value = e.target_unchecked_into::<web_sys::HtmlSelectElement>().value();
            chosen.set(value.parse::<usize>().ok().and_then(MasterId::from_index));
        })
    };
    let at = app.cursor.map_or("initial state".to_string(), |c| format!("after step {c}"));
    html! {
        <details class="panel bits" id="bit-view">
            <summary><h2>{ "STE bits " }<span class="at">{ at }</span></h2></summary>
            <label class="bits-pick">{ "master " }
                <select id="bits-master" onchange={pick}>
                    { for world.topo.masters.iter().enumerate().map(|(i, info)| html! {
                        <option value={i.to_string()} selected={i == m.ix()}>{ &info.name }</option>
                    }) }
                </select>
            </label>
            { body(&view) }
        </details>
    }
}

fn body(view: &Bits) -> Html {
    html! {
        <>
            <p class="bits-meaning"><code>{ &view.object }</code>{ format!(" in memory: {}", view.meaning) }</p>
            if let Some((text, torn)) = &view.fetch {
                <p id="bits-fetch" class={classes!("bits-fetch", torn.then_some("torn"))} data-torn={torn.to_string()}>
                    { format!("SMMU fetch at this step: {text}") }
                </p>
            }
            <table class="bits-table">
                <thead><tr>
                    <th>{ "qword" }</th><th>{ "memory" }</th>
                    if view.fetch.is_some() { <th>{ "SMMU read" }</th> }
                </tr></thead>
                <tbody>{ for view.qwords.iter().map(|q| row(q, view.fetch.is_some())) }</tbody>
            </table>
            <p class="bits-key">{ "Fields in bold are used by this configuration (arm_smmu_get_ste_used); marked ones changed at this step. A synced value is what the SMMU may still use until CFGI_STE + CMD_SYNC." }</p>
        </>
    }
}

fn row(q: &Qword, fetch: bool) -> Html {
    let read = q.read.map(|(v, pending)| {
        let note = if pending { " (old or new: pending)" } else { "" };
        html! { <td class={classes!("hex", pending.then_some("pending"))} data-pending={pending.to_string()}>{ format!("{v:#018x}{note}") }</td> }
    });
    let span = if fetch { "3" } else { "2" };
    html! {
        <>
        <tr data-qword={q.index.to_string()} class="bits-q">
            <th scope="row">{ format!("q{}", q.index) }</th>
            <td class="hex">
                { format!("{:#018x}", q.memory) }
                if let Some(s) = q.synced { <div class="synced">{ format!("synced {s:#018x}") }</div> }
            </td>
            if fetch { { read.unwrap_or_default() } }
        </tr>
        <tr class="bits-f">
            <td colspan={span}><div class="fields">
                { for q.fields.iter().map(|f| {
                    let cls = classes!("field", f.used.then_some("used"), f.changed.then_some("changed"));
                    let bits = if f.bits.0 == f.bits.1 { f.bits.0.to_string() } else { format!("{}..{}", f.bits.1, f.bits.0) };
                    html! {
                        <span class={cls} data-field={f.name} title={format!("bits {bits}")}>{ format!("{}={:#x}", f.name, f.value) }</span>
                    }
                }) }
            </div></td>
        </tr>
        </>
    }
}
