//! The scenario editor: the topology, the threads' calls and the DMA lanes as forms. Every
//! field commits on change; a valid result re-runs the page at once, an invalid one keeps the
//! draft with the loader's message at the field at fault ([`crate::editor`]).

use serde_json::Value;
use smmu_sim::limits::{MAX_CALLS, MAX_DOMAINS, MAX_MASTERS, MAX_PAGE_TABLES, MAX_PROCESSES, MAX_SSIDS, MAX_THREADS};
use web_sys::{HtmlInputElement, HtmlSelectElement};
use yew::prelude::*;

use super::use_app;
use crate::editor::{self, Draft, Edit, Input};
use crate::state::Action;

/// How a column is edited.
#[derive(Clone, Copy)]
enum Widget {
    Field(Input),
    /// One of the names of a list.
    Pick(&'static str),
    /// One of the names of a list, or none.
    PickOpt(&'static str),
    /// One of fixed words.
    Fixed(&'static [&'static str]),
}

/// A column: its JSON key, label and widget.
type Col = (&'static str, &'static str, Widget);

const PAGE_TABLE: &[Col] =
    &[("name", "name", Widget::Field(Input::Text)), ("map", "iova=pa", Widget::Field(Input::Map))];
const PROCESS: &[Col] = &[
    ("name", "name", Widget::Field(Input::Text)),
    ("cpu_asid", "CPU ASID", Widget::Field(Input::Num)),
    ("page_table", "page table", Widget::Pick("page_tables")),
];
const DOMAIN: &[Col] = &[
    ("name", "name", Widget::Field(Input::Text)),
    ("stage", "stage", Widget::Fixed(&["s1", "s2", "bypass"])),
    ("page_table", "page table", Widget::Pick("page_tables")),
    ("id", "ASID/VMID (empty: not finalised)", Widget::Field(Input::OptNum)),
];
const MASTER: &[Col] = &[
    ("name", "name", Widget::Field(Input::Text)),
    ("domain", "domain", Widget::PickOpt("domains")),
    ("sva", "SVA", Widget::Field(Input::Check)),
    ("ats", "ATS", Widget::Field(Input::Check)),
    ("ssids", "SSIDs", Widget::Field(Input::Num)),
    ("iommu_group", "iommu group (empty: its own)", Widget::Field(Input::OptText)),
];
const DMA: &[Col] = &[
    ("name", "name", Widget::Field(Input::Text)),
    ("master", "master", Widget::Pick("masters")),
    ("accesses", "ssid:iova", Widget::Field(Input::Accesses)),
    ("walk_only", "walk only", Widget::Field(Input::Check)),
    ("fetches", "SMMU fetches first (ste, cd0, ...)", Widget::Field(Input::Words)),
];
/// The arguments a call may have, in the order they are shown.
const ARGS: &[Col] = &[
    ("master", "master", Widget::Pick("masters")),
    ("domain", "domain", Widget::Pick("domains")),
    ("process", "process", Widget::Pick("processes")),
    ("pasid", "PASID", Widget::Field(Input::Num)),
    ("iova", "iova", Widget::Field(Input::Addr)),
    ("pa", "pa", Widget::Field(Input::Addr)),
    ("va", "va", Widget::Field(Input::Addr)),
];

/// The element id of a field.
pub fn field_id(path: &str) -> String {
    format!("ed-{}", path.replace('.', "-"))
}

fn edit(app: &crate::AppContext, e: Edit) -> Callback<MouseEvent> {
    let app = app.clone();
    Callback::from(move |_| app.dispatch(Action::Edit(e.clone())))
}

fn value_of(e: &Event, check: bool) -> String {
    if let Some(i) = e.target_dyn_into::<HtmlInputElement>() {
        return if check { i.checked().to_string() } else { i.value() };
    }
    e.target_dyn_into::<HtmlSelectElement>().map(|s| s.value()).unwrap_or_default()
}

/// The message at a field, when the draft's error is there.
fn message_at(draft: &Draft, path: &str) -> Option<String> {
    draft.error.as_ref().filter(|e| e.field.as_deref() == Some(path)).map(|e| e.message.clone())
}

fn field(app: &crate::AppContext, draft: &Draft, path: String, col: &Col) -> Html {
    let (key, label, widget) = *col;
    let v = editor::get(&draft.value, &path);
    let input = match widget {
        Widget::Field(i) => i,
        Widget::PickOpt(_) => Input::OptText,
        Widget::Pick(_) | Widget::Fixed(_) => Input::Text,
    };
    let onchange = {
        let (app, path) = (app.clone(), path.clone());
        Callback::from(move |e: Event| {
            let text = value_of(&e, input == Input::Check);
            app.dispatch(Action::Edit(Edit::Set { path: path.clone(), input, text }))
        })
    };
    let id = field_id(&path);
    let msg = message_at(draft, &path);
    let invalid = msg.is_some().then_some("true");
    let shown = draft.shown(input, &path);
    let options = |names: Vec<String>, none: bool| {
        let none = none.then(|| html! { <option value="" selected={shown.is_empty()}>{ "(none)" }</option> });
        let known = names.contains(&shown) || shown.is_empty();
        let stale = (!known)
            .then(|| html! { <option value={shown.clone()} selected=true>{ format!("{shown} (missing)") }</option> });
        let items = names.into_iter().map(|n| html! { <option value={n.clone()} selected={n == shown}>{ n }</option> });
        html! { <>{ none }{ stale }{ for items }</> }
    };
    let control = match widget {
        Widget::Field(Input::Check) => {
            let checked = v.and_then(Value::as_bool).unwrap_or(false);
            html! { <input type="checkbox" {id} {checked} {onchange} aria-invalid={invalid} /> }
        }
        Widget::Field(_) => {
            html! { <input type="text" {id} value={shown.clone()} {onchange} aria-invalid={invalid} /> }
        }
        Widget::Pick(list) | Widget::PickOpt(list) => {
            let opts = options(editor::names(&draft.value, list), matches!(widget, Widget::PickOpt(_)));
            html! { <select {id} {onchange} aria-invalid={invalid}>{ opts }</select> }
        }
        Widget::Fixed(words) => {
            let opts = options(words.iter().map(|w| w.to_string()).collect(), false);
            html! { <select {id} {onchange} aria-invalid={invalid}>{ opts }</select> }
        }
    };
    html! {
        <label class={classes!("ed-field", format!("ed-{key}"))}>
            <span class="ed-label">{ label }</span>{ control }
            if let Some(m) = msg { <span class="ed-msg" role="alert">{ m }</span> }
        </label>
    }
}

fn items(draft: &Draft, path: &str) -> usize {
    editor::get(&draft.value, path).and_then(Value::as_array).map_or(0, Vec::len)
}

/// A list of objects with the same columns: one row each, with Remove, and Add below.
fn section(app: &crate::AppContext, draft: &Draft, list: &'static str, title: String, cols: &[Col]) -> Html {
    let rows = (0..items(draft, list)).map(|i| {
        let path = format!("{list}.{i}");
        let fields = cols.iter().map(|c| field(app, draft, format!("{path}.{}", c.0), c));
        let remove = edit(app, Edit::Remove { path: path.clone() });
        html! {
            <li class="ed-row" id={field_id(&path)}>{ for fields }
                <button type="button" class="ed-remove" onclick={remove} aria-label={format!("remove {path}")}>{ "Remove" }</button>
                if let Some(m) = message_at(draft, &path) { <span class="ed-msg" role="alert">{ m }</span> }
            </li>
        }
    });
    let add = edit(app, Edit::Add { path: list.into(), kind: String::new() });
    html! {
        <fieldset class="ed-section" id={field_id(list)}>
            <legend>{ title }</legend>
            <ol class="ed-rows">{ for rows }</ol>
            if let Some(m) = message_at(draft, list) { <p class="ed-msg" role="alert">{ m }</p> }
            <button type="button" class={format!("ed-add ed-add-{list}")} onclick={add}>{ "Add" }</button>
        </fieldset>
    }
}

fn call_row(app: &crate::AppContext, draft: &Draft, path: String) -> Html {
    let call = editor::get(&draft.value, &path);
    let name = call.and_then(|c| c.get("fn")).and_then(Value::as_str).unwrap_or_default().to_string();
    let c_name = editor::CALLS.iter().find(|(k, _)| *k == name).map_or(name.as_str(), |(_, c)| c);
    let args = ARGS.iter().filter(|a| call.is_some_and(|c| c.get(a.0).is_some()));
    let fields = args.map(|a| field(app, draft, format!("{path}.{}", a.0), a));
    let remove = edit(app, Edit::Remove { path: path.clone() });
    html! {
        <li class="ed-call" id={field_id(&path)}><code>{ c_name }</code>{ for fields }
            <button type="button" class="ed-remove" onclick={remove} aria-label={format!("remove {path}")}>{ "Remove" }</button>
            if let Some(m) = message_at(draft, &path) { <span class="ed-msg" role="alert">{ m }</span> }
        </li>
    }
}

/// The palette's choice per thread (attach_dev until one is picked).
type Palette = UseStateHandle<std::collections::BTreeMap<usize, String>>;

fn thread_row(app: &crate::AppContext, draft: &Draft, i: usize, palette: &Palette) -> Html {
    let kind = palette.get(&i).cloned().unwrap_or_else(|| editor::CALLS[0].0.to_string());
    let path = format!("threads.{i}");
    let calls = format!("{path}.calls");
    let rows = (0..items(draft, &calls)).map(|c| call_row(app, draft, format!("{calls}.{c}")));
    let name = field(app, draft, format!("{path}.name"), &("name", "name", Widget::Field(Input::Text)));
    let add = edit(app, Edit::Add { path: calls.clone(), kind: kind.clone() });
    let remove = edit(app, Edit::Remove { path: path.clone() });
    let pick = {
        let palette = palette.clone();
        Callback::from(move |e: Event| {
            let mut choice = (*palette).clone();
            choice.insert(i, value_of(&e, false));
            palette.set(choice)
        })
    };
    let palette = editor::CALLS.iter().map(|(k, c)| html! { <option value={*k} selected={kind == *k}>{ *c }</option> });
    html! {
        <li class="ed-row ed-thread" id={field_id(&path)}>{ name }
            <button type="button" class="ed-remove" onclick={remove} aria-label={format!("remove {path}")}>{ "Remove" }</button>
            if let Some(m) = message_at(draft, &path) { <span class="ed-msg" role="alert">{ m }</span> }
            <ol class="ed-calls">{ for rows }</ol>
            if let Some(m) = message_at(draft, &calls) { <p class="ed-msg" role="alert">{ m }</p> }
            <label class="ed-palette"><span class="ed-label">{ "call" }</span>
                <select id={field_id(&format!("{calls}.new"))} onchange={pick}>{ for palette }</select></label>
            <button type="button" class="ed-add-call" onclick={add}>{ format!("Add call (at most {MAX_CALLS})") }</button>
        </li>
    }
}

fn threads(app: &crate::AppContext, draft: &Draft, palette: &Palette) -> Html {
    let rows = (0..items(draft, "threads")).map(|i| thread_row(app, draft, i, palette));
    let add = edit(app, Edit::Add { path: "threads".into(), kind: String::new() });
    html! {
        <fieldset class="ed-section" id="ed-threads">
            <legend>{ format!("CPU threads: driver calls in order (CPUs and DMA lanes: at most {MAX_THREADS})") }</legend>
            <ol class="ed-rows">{ for rows }</ol>
            if let Some(m) = message_at(draft, "threads") { <p class="ed-msg" role="alert">{ m }</p> }
            <button type="button" class="ed-add ed-add-threads" onclick={add}>{ "Add thread" }</button>
        </fieldset>
    }
}

fn start_from(app: &crate::AppContext, from: &UseStateHandle<String>) -> Html {
    let pick = {
        let from = from.clone();
        Callback::from(move |e: Event| from.set(value_of(&e, false)))
    };
    let start = {
        let (app, from) = (app.clone(), from.clone());
        Callback::from(move |_: MouseEvent| {
            let id = (!from.is_empty()).then(|| (*from).clone());
            app.dispatch(Action::Edit(Edit::Start(id)))
        })
    };
    let builtins =
        smmu_sim::builtin::all().into_iter().map(|s| html! { <option value={s.id.clone()}>{ s.id }</option> });
    html! {
        <p class="ed-start">
            <label>{ "Start from " }<select id="ed-start-from" onchange={pick}>
                <option value="" selected={from.is_empty()}>{ "an empty topology" }</option>{ for builtins }</select></label>
            { " " }<button type="button" id="ed-start" onclick={start}>{ "Start" }</button>
        </p>
    }
}

fn scenario_fields(app: &crate::AppContext, draft: &Draft) -> Html {
    let title = field(app, draft, "title".into(), &("title", "title", Widget::Field(Input::Text)));
    let bits = field(app, draft, "asid_bits".into(), &("asid_bits", "asid_bits (1 to 16)", Widget::Field(Input::Num)));
    html! { <div class="ed-scenario">{ title }{ bits }</div> }
}

/// The editor panel.
#[component]
pub fn ScenarioEditor() -> Html {
    let app = use_app();
    let palette = use_state(std::collections::BTreeMap::new);
    let from = use_state(String::new);
    let draft = app.draft();
    let status = match &draft.error {
        Some(e) => {
            let at = e.field.as_deref().map_or_else(String::new, |f| format!(" (at {f})"));
            html! { <p class="error" id="ed-error" role="alert">{ format!("Not applied: {}{at}. The page shows the last valid scenario.", e.message) }</p> }
        }
        None => {
            html! { <p class="ed-ok" id="ed-status" aria-live="polite">{ format!("Applied: the page runs {} ({}).", draft_title(&draft), app.scenario.id) }</p> }
        }
    };
    let sections = [
        ("page_tables", format!("Page tables (at most {MAX_PAGE_TABLES})"), PAGE_TABLE),
        ("processes", format!("Processes for SVA (at most {MAX_PROCESSES}; each its own CPU ASID)"), PROCESS),
        ("domains", format!("Domains (at most {MAX_DOMAINS})"), DOMAIN),
        ("masters", format!("Masters (at most {MAX_MASTERS}; at most {MAX_SSIDS} SSIDs each)"), MASTER),
    ];
    let sections = sections.into_iter().map(|(list, title, cols)| section(&app, &draft, list, title, cols));
    let dma = section(&app, &draft, "dma", "Device DMA lanes: master, then ssid:iova per access".into(), DMA);
    html! {
        <details class="editor" id="editor">
            <summary><h2>{ "Edit the scenario" }</h2>{ " · topology, threads and DMA lanes; every valid edit re-runs the page" }</summary>
            { start_from(&app, &from) }
            { status }
            { scenario_fields(&app, &draft) }
            { for sections }
            { threads(&app, &draft, &palette) }
            { dma }
        </details>
    }
}

fn draft_title(d: &Draft) -> String {
    d.value.get("title").and_then(Value::as_str).unwrap_or_default().to_string()
}
