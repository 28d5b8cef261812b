//! Side effects of the page: step keys on the window, focus and scrolling that follow the
//! state, the permalink in the address bar, and the exhaustive check, run in a web worker
//! ([`crate::worker`]) so the page never freezes.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use gloo_worker::{Spawnable, WorkerBridge};
use smmu_sim::sched::Schedule;
use smmu_sim::{share, World};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use yew::prelude::*;

use crate::components::timeline::label_width;
use crate::state::{Action, AppState, ExploreKey};
use crate::worker::{self, ExploreWorker, Reply, Request};

/// Quiet time before the address bar's permalink is rewritten.
const PERMALINK_DELAY_MS: u64 = 250;

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

/// The action of Ctrl (⌘) with a key: Z undo, Shift+Z or Y redo.
pub fn undo_key(key: &str, shift: bool) -> Option<Action> {
    match (key, shift) {
        ("z" | "Z", false) => Some(Action::Undo),
        ("z" | "Z", true) | ("y" | "Y", _) => Some(Action::Redo),
        _ => None,
    }
}

/// Whether a key is a step key only inside the timeline: the page's own scrolling keys.
fn timeline_only(key: &str) -> bool {
    matches!(key, "ArrowUp" | "ArrowDown" | "Home" | "End")
}

/// Whether the focus is inside the timeline.
fn in_timeline(e: &web_sys::KeyboardEvent) -> bool {
    let el = e.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok());
    el.and_then(|el| el.closest("#timeline").ok().flatten()).is_some()
}

/// Step keys: `[` `]` `,` `.` wherever the focus is, except in text fields; ↑ ↓ Home End
/// only in the timeline, so they keep scrolling the page elsewhere.
#[hook]
pub fn use_global_keys(dispatch: UseReducerDispatcher<AppState>) {
    use_effect_with((), move |_| {
        let listener = Closure::<dyn Fn(web_sys::KeyboardEvent)>::new(move |e: web_sys::KeyboardEvent| {
            if e.default_prevented() || in_field(&e) || e.alt_key() {
                return;
            }
            if e.ctrl_key() || e.meta_key() {
                if let Some(a) = undo_key(&e.key(), e.shift_key()) {
                    e.prevent_default();
                    dispatch.dispatch(a);
                }
                return;
            }
            let key = e.key();
            if timeline_only(&key) && !in_timeline(&e) {
                return;
            }
            if let Some(a) = step_key(&key) {
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
            let view =
                View { scroll: f64::from(el.scroll_left()), width: f64::from(el.client_width()), label: label_width() };
            el.set_scroll_left(reveal(cursor.map(|c| c as f64), view) as i32);
        }
    });
}

/// The timeline's scroll box: its scroll offset, its width and the sticky labels' width,
/// which cover the left of it.
#[derive(Clone, Copy)]
struct View {
    scroll: f64,
    width: f64,
    label: f64,
}

/// The timeline's horizontal scroll that shows column `col` (`None`: the start), scrolling
/// only as far as needed, so the steps leading up to the cursor stay in view; only
/// horizontal, so the page itself never jumps.
fn reveal(col: Option<f64>, view: View) -> f64 {
    use crate::components::timeline::COL;
    let Some(col) = col else { return 0.0 };
    let visible = (view.width - view.label).max(COL);
    let (left, right) = (col * COL, (col + 1.0) * COL);
    if left < view.scroll {
        left
    } else if right > view.scroll + visible {
        right - visible
    } else {
        view.scroll
    }
}

/// The page's element with this id.
pub fn element(id: &str) -> Option<web_sys::HtmlElement> {
    let el = web_sys::window()?.document()?.get_element_by_id(id)?;
    el.dyn_into().ok()
}

/// Focuses the page's element with this id; whether it was there to focus.
pub fn focus(id: &str) -> bool {
    element(id).is_some_and(|el| el.focus().is_ok())
}

/// Where Trunk puts the worker's loader (`data-loader-shim`), next to the page. A worker
/// started from the page's own origin, rather than from a `blob:` URL, is what the page's
/// Content-Security-Policy (`worker-src 'self'`) allows.
pub const WORKER_LOADER_JS: &str = "explore_worker_loader.js";

/// How long a started worker may stay silent before the check is reported as failed (it
/// answers every 50 ms once running; the first answer waits for its wasm to load).
pub const WORKER_SILENCE_MS: u64 = 30_000;

/// The run the page waits for: its tag, key and world (to read the schedules back).
#[derive(Default)]
struct Run {
    tag: Cell<u64>,
    /// The last tag the worker answered for.
    heard: Cell<u64>,
    target: RefCell<Option<(ExploreKey, Rc<World>)>>,
}

/// Runs the exhaustive check of the first queued key in the explore worker, reporting its
/// progress. A new generation (start or cancel) cancels the old run; the worker is spawned
/// (and its wasm loaded) on the first check only.
#[hook]
pub fn use_explorer(state: &UseReducerHandle<AppState>) {
    let bridge = use_mut_ref(|| None::<WorkerBridge<ExploreWorker>>);
    let run = use_memo((), |_| Rc::new(Run::default()));
    let dispatch = state.dispatcher();
    let scenario = state.scenario.clone();
    let deps = (state.explore.generation, state.explore.queue.first().cloned());
    use_effect_with(deps, move |(_, key)| {
        let run: Rc<Run> = (*run).clone();
        // Replies of an earlier run are ignored from here on.
        run.tag.set(run.tag.get() + 1);
        let Some(key) = key.clone() else {
            if let Some(bridge) = bridge.borrow().as_ref() {
                bridge.send(Request::Cancel);
            }
            return;
        };
        let world = match scenario.compile(key.variant, key.granularity) {
            Ok(w) => Rc::new(w),
            Err(e) => return dispatch.dispatch(Action::ExploreFailed(e.to_string())),
        };
        let link = share::encode(&share::Link {
            scenario: (*scenario).clone(),
            variant: key.variant,
            granularity: key.granularity,
            schedule: Schedule::default(),
            cursor: None,
        });
        let link = match link {
            Ok(link) => link,
            Err(e) => return dispatch.dispatch(Action::ExploreFailed(e.to_string())),
        };
        *run.target.borrow_mut() = Some((key, world));
        let report = dispatch.clone();
        let mut bridge = bridge.borrow_mut();
        let bridge = bridge.get_or_insert_with(|| {
            let run = run.clone();
            ExploreWorker::spawner()
                .callback(move |reply: Reply| on_reply(reply, &run, &dispatch))
                .spawn_with_loader(WORKER_LOADER_JS)
        });
        let tag = run.tag.get();
        bridge.send(Request::Start { run: tag, link, danger: true, max_states: None });
        // A worker that cannot load (blocked script, no wasm) never answers: say so.
        yew::platform::spawn_local(async move {
            yew::platform::time::sleep(Duration::from_millis(WORKER_SILENCE_MS)).await;
            if run.tag.get() == tag && run.heard.get() != tag {
                report
                    .dispatch(Action::ExploreFailed(format!("the check's worker ({WORKER_LOADER_JS}) did not answer")));
            }
        });
    });
}

fn on_reply(reply: Reply, run: &Run, dispatch: &UseReducerDispatcher<AppState>) {
    let Some((key, world)) = run.target.borrow().clone() else { return };
    let tag = run.tag.get();
    run.heard.set(reply.run());
    match reply {
        Reply::Progress(r, p) if r == tag => dispatch.dispatch(Action::ExploreProgress(worker::progress(p))),
        Reply::Done(r, s, d) if r == tag => {
            let summary = match worker::checked(&s, &world) {
                Ok(s) => Rc::new(s),
                Err(e) => return dispatch.dispatch(Action::ExploreFailed(e)),
            };
            let danger = match d {
                Some(Ok(d)) => worker::danger(&d).map(Rc::new),
                Some(Err(e)) => Err(e),
                None => Err("not computed".into()),
            };
            dispatch.dispatch(Action::ExploreDone(key, summary, danger));
        }
        Reply::Failed(r, e) if r == tag => dispatch.dispatch(Action::ExploreFailed(e)),
        _ => {}
    }
}

/// Names what the page shows: every change of scenario, variant, granularity or schedule
/// re-runs (`runs`), and the cursor is the rest. `#app-root` carries it as `data-key`.
pub fn state_key(state: &AppState) -> String {
    format!("{}.{}", state.runs, state.cursor.map_or(-1, |c| c as i64))
}

/// Records on `#app-root` (`data-settled`) that the address bar (and the saved state) hold
/// what the page shows: tests wait for `data-settled == data-key` instead of a delay.
fn mark_settled(state: &AppState) {
    if let Some(root) = element("app-root") {
        let _ = root.set_attribute("data-settled", &state_key(state));
    }
}

/// Saves the session, unless the page still shows what it opened in place of a broken link
/// (`held`: that page's key, cleared by the first change).
fn autosave(held: &RefCell<Option<String>>, state: &AppState, link: Option<&str>) {
    if held.borrow().as_deref() == Some(state_key(state).as_str()) {
        return;
    }
    held.borrow_mut().take();
    if let Some(link) = link {
        crate::storage::save(link);
    }
}

/// Writes the fragment to the address bar when it differs: as a new history entry for an
/// edit, else in place of the current one.
fn show_in_address_bar(fragment: &str, edit: bool) {
    if location_hash() == fragment {
        return;
    }
    let Some(history) = web_sys::window().and_then(|w| w.history().ok()) else { return };
    let url = format!("#{fragment}");
    let _ = if edit {
        history.push_state_with_url(&JsValue::NULL, "", Some(&url))
    } else {
        history.replace_state_with_url(&JsValue::NULL, "", Some(&url))
    };
}

/// The address's fragment, without `#`.
pub fn location_hash() -> String {
    let hash = web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default();
    hash.trim_start_matches('#').to_string()
}

/// Keeps the editor's draft in local storage while it does not compile, and forgets it once
/// it does (the session's link then holds the scenario). The embed never saves.
#[hook]
pub fn use_draft_autosave(state: &UseReducerHandle<AppState>, embed: bool) {
    let draft = state.editor.clone();
    // The first render shows what was restored (or a link that wins over the saved draft,
    // which must not erase it): only later changes are saved.
    let mounted = use_mut_ref(|| false);
    use_effect_with(draft, move |draft| {
        if !embed && std::mem::replace(&mut *mounted.borrow_mut(), true) {
            let unfinished = draft.as_ref().filter(|d| d.error.is_some()).map(|d| d.value.to_string());
            crate::storage::save_draft(unfinished.as_deref());
        }
    });
}

/// Keeps the permalink of what the page shows in the address bar (an edit of the run adds a
/// history entry, a cursor move replaces it, so stepping does not flood the back button),
/// and opens a link pasted into it or reached with Back and Forward.
///
/// Encoding waits until the page has settled for a moment, so it never delays the repaint
/// after a drop or a step.
///
/// The full page also saves the link as the browser's session ([`crate::storage`]); the embed
/// never does. A page opened from a link that could not be opened shows the first visit, and
/// saves nothing until the user changes it, so a damaged link never overwrites the session.
#[hook]
pub fn use_permalink(state: &UseReducerHandle<AppState>, embed: bool) {
    let deps = (state.runs, state.cursor, state.variant, state.granularity, state.scenario.id.clone());
    let current = state.clone();
    let held = use_mut_ref(|| state.link_error.is_some().then(|| state_key(state)));
    // The run last written to the address bar: a new run (an edit) gets a history entry of
    // its own, so the browser's Back steps back through edits instead of leaving the page;
    // a cursor move only replaces the entry.
    let written = use_mut_ref(|| None::<u64>);
    use_effect_with(deps, move |_| {
        let alive = Rc::new(Cell::new(true));
        let later = alive.clone();
        yew::platform::spawn_local(async move {
            yew::platform::time::sleep(Duration::from_millis(PERMALINK_DELAY_MS)).await;
            if !later.get() {
                return;
            }
            let link = current.link();
            if let Some(link) = &link {
                // The embed only replaces: its entries would be the host page's Back button.
                let edit = !embed && written.borrow().is_some_and(|runs| runs != current.runs);
                show_in_address_bar(&crate::route::fragment(embed, link), edit);
                *written.borrow_mut() = Some(current.runs);
            }
            if !embed {
                autosave(&held, &current, link.as_deref());
            }
            mark_settled(&current);
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

/// Follows the address between the gallery (`#gallery`) and the playground.
#[hook]
pub fn use_gallery_route(set: UseStateSetter<bool>) {
    use_effect_with((), move |_| {
        let listener = Closure::<dyn Fn()>::new(move || set.set(crate::route::parse(&location_hash()).gallery));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::components::timeline::COL;

    #[test]
    fn reveal_scrolls_only_as_far_as_the_labels_leave_room() {
        // A phone: 390 px wide, 48 px of labels, so 342 px show blocks.
        let phone = View { scroll: 0.0, width: 390.0, label: 48.0 };
        assert_eq!(reveal(Some(1.0), phone), 0.0, "column 1 ends at 264 px: in view");
        assert_eq!(reveal(Some(2.0), phone), 3.0 * COL - 342.0, "just enough for column 2");
        // Wide labels leave less room, so the same column needs more scroll.
        let wide = View { label: 172.0, ..phone };
        assert_eq!(reveal(Some(2.0), wide), 3.0 * COL - 218.0);
        let scrolled = View { scroll: 500.0, ..phone };
        assert_eq!(reveal(Some(2.0), scrolled), 2.0 * COL, "a column left of the view comes to its left edge");
        assert_eq!(reveal(Some(4.0), scrolled), 500.0, "a column in view does not scroll");
        assert_eq!(reveal(None, scrolled), 0.0);
    }
}
