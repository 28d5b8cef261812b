//! Side effects of the page: step keys on the window, focus and scrolling that follow the
//! state, the permalink in the address bar, and the exhaustive check run in time slices so
//! the page never freezes.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use smmu_sim::explore::{Explorer, Limits};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::state::{Action, AppState};

/// Quiet time before the address bar's permalink is rewritten.
const PERMALINK_DELAY_MS: u64 = 250;

/// Milliseconds of exploring per slice before yielding to the browser.
const SLICE_MS: f64 = 12.0;

fn now() -> f64 {
    web_sys::window().and_then(|w| w.performance()).map_or(0.0, |p| p.now())
}

/// Whether a key event comes from a text field or a select, where keys are the field's own.
fn in_field(e: &web_sys::KeyboardEvent) -> bool {
    let Some(el) = e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return false };
    matches!(el.tag_name().as_str(), "INPUT" | "SELECT" | "TEXTAREA")
}

/// The action a step key asks for: `[` `,` `↑` back, `]` `.` `↓` forward, Home, End.
pub fn step_key(key: &str) -> Option<Action> {
    Some(match key {
        "[" | "," | "ArrowUp" => Action::CursorBy(-1),
        "]" | "." | "ArrowDown" => Action::CursorBy(1),
        "Home" => Action::CursorHome,
        "End" => Action::CursorEnd,
        _ => return None,
    })
}

/// Step keys work wherever the focus is, except in text fields.
#[hook]
pub fn use_global_keys(dispatch: UseReducerDispatcher<AppState>) {
    use_effect_with((), move |_| {
        let listener = Closure::<dyn Fn(web_sys::KeyboardEvent)>::new(move |e: web_sys::KeyboardEvent| {
            if e.default_prevented() || in_field(&e) || e.ctrl_key() || e.meta_key() || e.alt_key() {
                return;
            }
            if let Some(a) = step_key(&e.key()) {
                e.prevent_default();
                dispatch.dispatch(a);
            }
        });
        let window = web_sys::window();
        if let Some(w) = &window {
            let _ = w.add_event_listener_with_callback("keydown", listener.as_ref().unchecked_ref());
        }
        move || {
            if let Some(w) = &window {
                let _ = w.remove_event_listener_with_callback("keydown", listener.as_ref().unchecked_ref());
            }
        }
    });
}

/// Focuses a block a keyboard move asked for, and keeps the cursor's block in view.
#[hook]
pub fn use_focus_and_scroll(state: &UseReducerHandle<AppState>) {
    let dispatch = state.dispatcher();
    use_effect_with(state.focus, move |focus| {
        if let Some(i) = *focus {
            if let Some(el) = element(&format!("blk-{i}")) {
                let _ = el.focus();
            }
            dispatch.dispatch(Action::Focused);
        }
    });
    use_effect_with(state.cursor, |cursor| {
        if let Some(el) = element("timeline-scroll") {
            let left = reveal(cursor.map(|c| c as f64), f64::from(el.scroll_left()), f64::from(el.client_width()));
            el.set_scroll_left(left as i32);
        }
    });
}

/// The timeline's horizontal scroll that shows column `col` (`None`: the start), scrolling
/// only as far as needed, so the steps leading up to the cursor stay in view; only
/// horizontal, so the page itself never jumps.
fn reveal(col: Option<f64>, scroll: f64, width: f64) -> f64 {
    use crate::components::timeline::{COL, LABEL_W};
    let Some(col) = col else { return 0.0 };
    let visible = (width - LABEL_W).max(COL);
    let (left, right) = (col * COL, (col + 1.0) * COL);
    if left < scroll {
        left
    } else if right > scroll + visible {
        right - visible
    } else {
        scroll
    }
}

fn element(id: &str) -> Option<web_sys::HtmlElement> {
    let el = web_sys::window()?.document()?.get_element_by_id(id)?;
    el.dyn_into().ok()
}

/// Runs the exhaustive check of the first queued key in slices of about [`SLICE_MS`],
/// reporting progress between slices. A new generation (start or cancel) ends the old run.
#[hook]
pub fn use_explorer(state: &UseReducerHandle<AppState>) {
    let dispatch = state.dispatcher();
    let scenario = state.scenario.clone();
    let deps = (state.explore.generation, state.explore.queue.first().cloned());
    use_effect_with(deps, move |(_, key)| {
        let alive = Rc::new(Cell::new(true));
        if let Some(key) = key.clone() {
            let alive = alive.clone();
            yew::platform::spawn_local(async move {
                // Let the page paint the "running" state first.
                yew::platform::time::sleep(Duration::ZERO).await;
                let world = match scenario.compile(key.variant, key.granularity) {
                    Ok(w) => w,
                    Err(e) => {
                        dispatch.dispatch(Action::ExploreFailed(e.to_string()));
                        return;
                    }
                };
                let mut explorer = Explorer::new(&world, Limits::default());
                loop {
                    let start = now();
                    let mut progress = explorer.step(64);
                    while !progress.done && now() - start < SLICE_MS {
                        progress = explorer.step(64);
                    }
                    if !alive.get() {
                        return;
                    }
                    if progress.done {
                        let summary = Rc::new(explorer.summary());
                        let danger = explorer.danger_windows().map(Rc::new).map_err(|e| e.to_string());
                        dispatch.dispatch(Action::ExploreDone(key, summary, danger));
                        return;
                    }
                    dispatch.dispatch(Action::ExploreProgress(progress));
                    yew::platform::time::sleep(Duration::ZERO).await;
                    if !alive.get() {
                        return;
                    }
                }
            });
        }
        move || alive.set(false)
    });
}

/// The address's fragment, without `#`.
pub fn location_hash() -> String {
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    hash.trim_start_matches('#').to_string()
}

/// Keeps the permalink of what the page shows in the address bar (replacing the history
/// entry, so stepping does not flood the back button), and opens a link pasted into it.
///
/// Encoding waits until the page has settled for a moment, so it never delays the repaint
/// after a drop or a step.
#[hook]
pub fn use_permalink(state: &UseReducerHandle<AppState>, embed: bool) {
    let deps = (state.runs, state.cursor, state.variant, state.granularity, state.scenario.id.clone());
    let current = state.clone();
    use_effect_with(deps, move |_| {
        let alive = Rc::new(Cell::new(true));
        let later = alive.clone();
        yew::platform::spawn_local(async move {
            yew::platform::time::sleep(Duration::from_millis(PERMALINK_DELAY_MS)).await;
            if !later.get() {
                return;
            }
            let Some(link) = current.link() else { return };
            let link = crate::route::fragment(embed, &link);
            if location_hash() == link {
                return;
            }
            if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
                let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(&format!("#{link}")));
            }
        });
        move || alive.set(false)
    });
    let dispatch = state.dispatcher();
    use_effect_with((), move |_| {
        let listener = Closure::<dyn Fn()>::new(move || dispatch.dispatch(Action::OpenLink(location_hash())));
        let window = web_sys::window();
        if let Some(w) = &window {
            let _ = w.add_event_listener_with_callback("hashchange", listener.as_ref().unchecked_ref());
        }
        move || {
            if let Some(w) = &window {
                let _ = w.remove_event_listener_with_callback("hashchange", listener.as_ref().unchecked_ref());
            }
        }
    });
}
