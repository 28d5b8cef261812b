//! The patch view: one function's step script as the edits leave it, with buttons (keyboard
//! operable) to move, delete and insert lock steps, lines that drag to move, the presets,
//! find-fix, and the patch as text.

use smmu_sim::patch::script::{self, Row};
use smmu_sim::patch::{presets, Anchor, Edit, LockName, Patch, Pos};
use smmu_sim::Scenario;
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use super::use_app;
use crate::state::Action;

/// The function shown first, the one the fix changes.
const FIRST_FUNCTION: &str = "arm_smmu_attach_dev";

fn select_value(e: &Event) -> Option<String> {
    e.target_dyn_into::<HtmlSelectElement>().map(|s| s.value())
}

/// One row's buttons: each dispatches the patch with one more edit (or one edit less).
fn row_buttons(app: &crate::AppContext, rows: &[Row], i: usize, func: &str, lock: LockName) -> Html {
    let patch = app.scenario.patch.clone().filter(|p| p.base == app.variant);
    let push = |edit: Edit| {
        let (app, patch) = (app.clone(), patch.clone());
        let base = app.variant;
        Callback::from(move |_: MouseEvent| {
            app.dispatch(Action::SetPatch(Some(script::with_edit(patch.as_ref(), base, edit.clone()))))
        })
    };
    let f = func.to_string();
    match &rows[i] {
        Row::Inserted(_, _, n) => {
            let (app, n) = (app.clone(), *n);
            let drop = Callback::from(move |_: MouseEvent| {
                let p = app.scenario.patch.as_ref().and_then(|p| script::without_edit(p, n));
                app.dispatch(Action::SetPatch(p))
            });
            html! { <button type="button" class="pv-del" onclick={drop} title="remove this inserted step">{ "✕" }</button> }
        }
        Row::Base(a, _) => {
            let above = rows[..i].iter().rev().find_map(|r| r.anchor().cloned());
            let below = rows[i + 1..].iter().find_map(|r| r.anchor().cloned());
            let mv = |to: Pos| Edit::Move { func: f.clone(), step: a.clone(), to };
            let ins = |acquire: bool, at: Pos| Edit::Insert { func: f.clone(), acquire, lock, at };
            let up = above.map(|b: Anchor| push(mv(Pos::Before(b))));
            let down = below.map(|b: Anchor| push(mv(Pos::After(b))));
            let del = push(Edit::Delete { func: f.clone(), step: a.clone() });
            let lock_before = push(ins(true, Pos::Before(a.clone())));
            let unlock_after = push(ins(false, Pos::After(a.clone())));
            html! {
                <>
                    <button type="button" class="pv-up" disabled={up.is_none()} onclick={up.unwrap_or_default()}
                        title="move this step up">{ "↑" }</button>
                    <button type="button" class="pv-down" disabled={down.is_none()} onclick={down.unwrap_or_default()}
                        title="move this step down">{ "↓" }</button>
                    <button type="button" class="pv-del" onclick={del} title="delete this step">{ "✕" }</button>
                    <button type="button" class="pv-lock" onclick={lock_before}
                        title={format!("insert mutex_lock({}) before this step", lock.id())}>{ "+lock" }</button>
                    <button type="button" class="pv-unlock" onclick={unlock_after}
                        title={format!("insert mutex_unlock({}) after this step", lock.id())}>{ "+unlock" }</button>
                </>
            }
        }
    }
}

/// Whether the patch moves (or swaps) the step `a` of `func`.
fn moved_here(patch: Option<&Patch>, func: &str, a: &Anchor) -> bool {
    patch.is_some_and(|p| {
        p.edits.iter().any(|e| match e {
            Edit::Move { func: f, step, .. } => f == func && step == a,
            Edit::Swap { func: f, a: x, b: y } => f == func && (x == a || y == a),
            _ => false,
        })
    })
}

type DragHandlers = (Callback<DragEvent>, Callback<DragEvent>, Callback<DragEvent>, Callback<DragEvent>);

/// Dragging a line onto another moves it there: above the target when dragged up, below it
/// when dragged down (the ↑ and ↓ buttons do the same a line at a time).
fn drag_handlers(
    app: &crate::AppContext,
    drag: &UseStateHandle<Option<usize>>,
    rows: &[Row],
    i: usize,
    func: &str,
) -> DragHandlers {
    let start = {
        let drag = drag.clone();
        Callback::from(move |e: DragEvent| {
            if let Some(t) = e.data_transfer() {
                let _ = t.set_data("text/plain", &i.to_string());
            }
            drag.set(Some(i))
        })
    };
    let over = Callback::from(|e: DragEvent| e.prevent_default());
    let end = {
        let drag = drag.clone();
        Callback::from(move |_: DragEvent| drag.set(None))
    };
    let target = rows[i].anchor().cloned();
    let anchors: Vec<Option<Anchor>> = rows.iter().map(|r| r.anchor().cloned()).collect();
    let (app, drag, func) = (app.clone(), drag.clone(), func.to_string());
    let drop = Callback::from(move |e: DragEvent| {
        e.prevent_default();
        let from = drag.as_ref().copied();
        drag.set(None);
        let (Some(from), Some(to)) = (from, target.clone()) else { return };
        let Some(Some(step)) = anchors.get(from).cloned() else { return };
        if from == i {
            return;
        }
        let to = if i < from { Pos::Before(to) } else { Pos::After(to) };
        let patch = app.scenario.patch.clone().filter(|p| p.base == app.variant);
        let edit = Edit::Move { func: func.clone(), step, to };
        app.dispatch(Action::SetPatch(Some(script::with_edit(patch.as_ref(), app.variant, edit))))
    });
    (start, over, drop, end)
}

fn row_text(row: &Row) -> Html {
    match row {
        Row::Base(a, label) => html! { <><code class="pv-anchor">{ a.to_string() }</code>{ " " }{ label.clone() }</> },
        Row::Inserted(acquire, lock, _) => {
            let verb = if *acquire { "lock" } else { "unlock" };
            html! { <><code class="pv-anchor">{ "inserted" }</code>{ format!(" {verb} {}", lock.id()) }</> }
        }
    }
}

/// The patch view.
#[component]
pub fn PatchView() -> Html {
    let app = use_app();
    let func = use_state(|| FIRST_FUNCTION.to_string());
    let lock = use_state(|| LockName::Asid);
    let unpatched = Scenario { patch: None, ..(*app.scenario).clone() };
    let units = unpatched.units(app.variant, app.granularity).unwrap_or_default();
    let mut funcs: Vec<&'static str> = Vec::new();
    for u in &units {
        if !funcs.contains(&u.func) {
            funcs.push(u.func);
        }
    }
    let shown = funcs.iter().copied().find(|f| *f == func.as_str()).or(funcs.first().copied()).unwrap_or("");
    let patch = app.scenario.patch.as_ref().filter(|p| p.base == app.variant);
    let rows = script::rows(&units, shown, patch);
    let on_func = {
        let func = func.clone();
        Callback::from(move |e: Event| {
            if let Some(v) = select_value(&e) {
                func.set(v)
            }
        })
    };
    let on_lock = {
        let lock = lock.clone();
        Callback::from(move |e: Event| {
            if let Some(l) = select_value(&e).and_then(|v| v.parse().ok()) {
                lock.set(l)
            }
        })
    };
    let on_preset = {
        let app = app.clone();
        Callback::from(move |e: Event| {
            if let Some(p) = select_value(&e).and_then(|v| presets::get(&v)) {
                app.dispatch(Action::SetPatch(Some(p.patch())))
            }
        })
    };
    let clear = {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| app.dispatch(Action::SetPatch(None)))
    };
    let drag = use_state(|| None::<usize>);
    let items = (0..rows.len()).map(|i| {
        let inserted = matches!(rows[i], Row::Inserted(..));
        let moved = rows[i].anchor().is_some_and(|a| moved_here(patch, shown, a));
        let (start, over, drop, end) = drag_handlers(&app, &drag, &rows, i, shown);
        let cls = classes!(
            inserted.then_some("inserted"),
            moved.then_some("moved"),
            (*drag == Some(i)).then_some("dragging")
        );
        html! {
            <li class={cls}
                draggable={(!inserted).to_string()} ondragstart={start} ondragover={over} ondrop={drop} ondragend={end}>
                <span class="pv-text">{ row_text(&rows[i]) }</span>
                <span class="pv-buttons">{ row_buttons(&app, &rows, i, shown, *lock) }</span>
            </li>
        }
    });
    let text = patch.map(|p: &Patch| smmu_sim::patch::print(p, Some(&app.scenario)));
    let preset_options = presets::PRESETS.iter().filter(|p| p.base == app.variant).map(|p| {
        html! { <option value={p.id}>{ format!("{} — {}", p.id, p.title) }</option> }
    });
    html! {
        <details class="patch-view" id="patch-view">
            <summary><h2>{ "Patch the driver" }</h2>
                { format!(" {} · edits of the model's step scripts; every edit re-runs the timeline", app.variant) }</summary>
            <div class="pv-bar">
                <label>{ "function " }
                    <select id="pv-function" onchange={on_func}>
                        { for funcs.iter().map(|f| html! { <option value={*f} selected={*f == shown}>{ *f }</option> }) }
                    </select>
                </label>
                <label>{ " lock to insert " }
                    <select id="pv-lock" onchange={on_lock}>
                        { for LockName::ALL.iter().map(|l| html! { <option value={l.id()} selected={*l == *lock}>{ l.id() }</option> }) }
                    </select>
                </label>
                <label>{ " preset " }
                    <select id="pv-preset" onchange={on_preset}>
                        <option value="" selected=true>{ "choose…" }</option>
                        { for preset_options }
                    </select>
                </label>
                <button type="button" id="pv-clear" onclick={clear} disabled={patch.is_none()}>{ "Unpatch" }</button>
            </div>
            <ol class="pv-rows" id="pv-rows" aria-label={format!("steps of {shown}")}>{ for items }</ol>
            <super::findfix::FindFix function={shown.to_string()} lock={*lock} />
            if let Some(text) = text {
                <pre class="pv-diff" id="pv-diff">{ text }</pre>
            }
        </details>
    }
}
