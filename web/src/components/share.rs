//! Sharing: copy the permalink or the mail text, export JSON or SVG, import JSON or a link,
//! and the iframe snippet of the embed.

use smmu_sim::{mail, svg};
use web_sys::HtmlTextAreaElement;
use yew::prelude::*;

use super::use_app;
use crate::share;
use crate::state::Action;

/// What the share bar has open below its buttons.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Open {
    Nothing,
    Import,
}

/// The text last handed to the clipboard (shown in a read-only field, selected when the
/// clipboard is refused) and what became of it.
#[derive(Clone, PartialEq)]
struct Out {
    what: &'static str,
    text: String,
    copied: Option<bool>,
}

/// Buttons to share what the page shows, and the import dialog.
#[component]
pub fn ShareBar() -> Html {
    let app = use_app();
    let out = use_state(|| None::<Out>);
    let open = use_state(|| Open::Nothing);
    let note = use_state(|| None::<String>);
    let import_text = use_node_ref();

    // Copies `text` and shows it; when the browser refuses, the field is selected instead.
    let copy = {
        let out = out.clone();
        move |what: &'static str, text: String| {
            let out = out.clone();
            out.set(Some(Out { what, text: text.clone(), copied: None }));
            yew::platform::spawn_local(async move {
                let ok = share::copy(&text).await.is_ok();
                out.set(Some(Out { what, text, copied: Some(ok) }));
                if !ok {
                    yew::platform::time::sleep(std::time::Duration::ZERO).await;
                    share::select_field("share-out");
                }
            });
        }
    };
    let copy_link = {
        let (app, copy) = (app.clone(), copy.clone());
        Callback::from(move |_| {
            if let Some(link) = app.link() {
                copy("link", share::page_url(&link));
            }
        })
    };
    let copy_mail = {
        let (app, copy) = (app.clone(), copy.clone());
        Callback::from(move |_| {
            let (Some(world), Some(trace), Some(link)) = (&app.world, &app.trace, app.link()) else { return };
            copy("mail text", mail::render(world, trace, Some(&share::page_url(&link))));
        })
    };
    let copy_embed = {
        let (app, copy) = (app.clone(), copy.clone());
        Callback::from(move |_| {
            if let Some(link) = app.link() {
                let title = format!("smmu-playground: {} ({})", app.scenario.id, app.variant);
                copy("iframe snippet", share::iframe_snippet(&link, &title));
            }
        })
    };
    let file_stem = format!("{}-{}", app.scenario.id, app.variant.name());
    let export_json = {
        let (app, note, stem) = (app.clone(), note.clone(), file_stem.clone());
        Callback::from(move |_| {
            let (Some(world), Some(trace)) = (&app.world, &app.trace) else { return };
            let json = format!("{}\n", app.scenario.with_schedule(world, &trace.schedule()).to_json());
            let name = format!("{stem}.json");
            note.set(Some(
                share::download(&name, "application/json", &json).map_or_else(|e| e, |_| format!("saved {name}")),
            ));
        })
    };
    let export_svg = {
        let (app, note, stem) = (app.clone(), note.clone(), file_stem);
        Callback::from(move |_| {
            let (Some(world), Some(trace)) = (&app.world, &app.trace) else { return };
            let name = format!("{stem}.svg");
            let text = svg::render(world, trace);
            note.set(Some(
                share::download(&name, "image/svg+xml", &text).map_or_else(|e| e, |_| format!("saved {name}")),
            ));
        })
    };
    let toggle_import = {
        let (open, app) = (open.clone(), app.clone());
        Callback::from(move |_| {
            app.dispatch(Action::ImportDismiss);
            open.set(if *open == Open::Import { Open::Nothing } else { Open::Import });
        })
    };
    let do_import = {
        let (app, area) = (app.clone(), import_text.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(area) = area.cast::<HtmlTextAreaElement>() {
                app.dispatch(Action::Import(area.value()));
            }
        })
    };
    {
        // A successful import closes the dialog.
        let open = open.clone();
        use_effect_with(app.imports, move |n| {
            if *n > 0 {
                open.set(Open::Nothing);
            }
        });
    }
    let status = out.as_ref().and_then(|o| {
        let (cls, text) = match o.copied? {
            true => ("ok", format!("Copied the {} to the clipboard.", o.what)),
            false => (
                "warn",
                format!(
                    "The browser did not allow the clipboard: the {} is selected below, press Ctrl+C (⌘C).",
                    o.what
                ),
            ),
        };
        Some(html! { <span class={classes!("share-status", cls)} id="share-status" role="status">{ text }</span> })
    });
    let close_out = {
        let out = out.clone();
        Callback::from(move |_: MouseEvent| out.set(None))
    };
    let close_on_escape = {
        let out = out.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Escape" {
                out.set(None);
            }
        })
    };
    let dismiss_link_error = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::DismissLinkError))
    };
    html! {
        <section class="share" aria-label="Share">
            if let Some(e) = &app.link_error {
                <div class="error banner" id="link-error" role="alert">
                    <span>{ e }</span>
                    <button type="button" onclick={dismiss_link_error} aria-label="dismiss">{ "×" }</button>
                </div>
            }
            <div class="row share-buttons">
                <button type="button" id="copy-link" onclick={copy_link} title="copy the URL of this run and cursor">{ "Copy link" }</button>
                <button type="button" id="copy-mail" onclick={copy_mail} title="lockdep-style text for a mailing list, with a Link: line">{ "Copy as mail text" }</button>
                <span class="sep" aria-hidden="true"></span>
                <span class="lbl">{ "Export" }</span>
                <button type="button" id="export-json" onclick={export_json} title="scenario and schedule, the CLI's input format">{ "JSON" }</button>
                <button type="button" id="export-svg" onclick={export_svg} title="the timeline as an SVG picture">{ "SVG" }</button>
                <span class="sep" aria-hidden="true"></span>
                <button type="button" id="import" onclick={toggle_import.clone()} aria-expanded={(*open == Open::Import).to_string()}>{ "Import…" }</button>
                <button type="button" id="embed" onclick={copy_embed} title="an iframe that shows this run in another page">{ "Embed" }</button>
                { for status }
                if let Some(n) = &*note { <span class="share-status" id="export-note">{ n }</span> }
            </div>
            if let Some(o) = &*out {
                <div class="share-out-box" onkeydown={close_on_escape}>
                    <textarea id="share-out" class="share-out" readonly=true spellcheck="false" aria-label={o.what}
                        rows={o.text.lines().count().clamp(1, 12).to_string()} value={o.text.clone()} />
                    <button type="button" id="share-out-close" onclick={close_out} aria-label={format!("close the {}", o.what)}
                        title="close (Esc)">{ "×" }</button>
                </div>
            }
            if *open == Open::Import {
                <form class="import" id="import-dialog" onsubmit={do_import} aria-label="Import">
                    <label for="import-text">{ "Paste scenario JSON (as exported, or from " }<code>{ "smmu-sim export --format json" }</code>{ "), a permalink or a whole URL:" }</label>
                    <textarea id="import-text" ref={import_text} rows="8" spellcheck="false" />
                    if let Some(e) = &app.import_error {
                        <div class="error" id="import-error" role="alert"><span>{ e }</span></div>
                    }
                    <div class="row">
                        <button type="submit" class="primary" id="import-go">{ "Open" }</button>
                        <button type="button" onclick={toggle_import}>{ "Cancel" }</button>
                    </div>
                </form>
            }
        </section>
    }
}
