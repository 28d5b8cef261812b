//! The timeline: one lane per thread, one column per step, blocks that can be dragged with a
//! pointer (mouse, pen or touch) or moved with the arrow keys.

use std::cell::RefCell;
use std::rc::Rc;

use smmu_sim::view::Block;
use yew::prelude::*;

use super::use_app;
use crate::state::Action;
use crate::AppContext;

/// Width of one step column in pixels (the CSS uses the same value).
pub const COL: f64 = 132.0;

/// Width of the sticky lane labels on a wide screen (CSS `--label-w`, which narrows with
/// the screen: [`label_width`] measures it).
pub const LABEL_W: f64 = 172.0;

/// A block's left margin inside its column (CSS `.block { margin-left }`).
const BLOCK_INSET: f64 = 4.0;

/// Where a pointer drag started: the pointer x and the left edge of the block's track.
#[derive(Clone, Copy, Default)]
struct Origin {
    x: f64,
    track_left: f64,
    scroll: f64,
    moved: bool,
}

/// The timeline's scroll container.
fn scroller() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.get_element_by_id("timeline-scroll")
}

impl Origin {
    /// The track's left edge now: the timeline may have scrolled since the drag started.
    fn track_left(&self) -> f64 {
        let scroll = scroller().map_or(self.scroll, |s| f64::from(s.scroll_left()));
        self.track_left - (scroll - self.scroll)
    }
}

/// The width of the lane labels as laid out now, or [`LABEL_W`] before there are any.
pub fn label_width() -> f64 {
    let label = scroller().and_then(|s| s.query_selector(".lane-label").ok().flatten());
    measured_or_default(label.map(|l| l.get_bounding_client_rect().width()))
}

/// A measured label width; none, or nothing (a hidden or detached element), is [`LABEL_W`].
fn measured_or_default(width: Option<f64>) -> f64 {
    width.filter(|w| w.is_finite() && *w > 0.0).unwrap_or(LABEL_W)
}

/// Scrolls the timeline when a drag nears its left or right edge (the left edge of the
/// blocks is the labels' right edge).
fn autoscroll(x: f64) {
    let Some(s) = scroller() else { return };
    let r = s.get_bounding_client_rect();
    let edge = 48.0;
    if x > r.right() - edge {
        s.set_scroll_left(s.scroll_left() + 32);
    } else if x < r.left() + label_width() + edge {
        s.set_scroll_left(s.scroll_left() - 32);
    }
}

/// Timeline options.
#[derive(Properties, PartialEq)]
pub struct TimelineProps {
    /// No dragging or keyboard moves (the embed): clicks only move the cursor.
    #[prop_or_default]
    pub readonly: bool,
}

/// The timeline of the current trace.
#[component]
pub fn Timeline(props: &TimelineProps) -> Html {
    let app = use_app();
    let readonly = props.readonly;
    let origin = use_mut_ref(|| None::<Origin>);
    let n = app.blocks.len();
    let width = format!("width: {}px", n as f64 * COL);
    let cursor_col = app.cursor;
    let columns = (0..n).map(|i| {
        let onclick = {
            let app = app.clone();
            Callback::from(move |_| app.dispatch(Action::Cursor(Some(i))))
        };
        let cls = classes!("colnum", (cursor_col == Some(i)).then_some("cur"));
        html! { <button type="button" class={cls} tabindex="-1" {onclick} aria-label={format!("cursor to step {i}")}>{ i }</button> }
    });
    let start = {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(Action::CursorHome))
    };
    let lanes = app.lanes.iter().enumerate().map(|(lane, l)| {
        let blocks = app.blocks.iter().filter(|b| b.lane == lane);
        let waits = app.blocks.iter().filter(|b| b.lane == lane).filter_map(wait_marker);
        let drop_here = app.drag.filter(|d| app.blocks.get(d.from).is_some_and(|b| b.lane == lane) && d.over != d.from);
        html! {
            <div class={classes!("lane", l.device.then_some("dma"))} role="group" aria-label={format!("{} lane", l.name)}>
                <div class="lane-label" title={l.title.clone()}>
                    <span class="lane-name">{ &l.name }</span>
                    <span class="lane-title">{ &l.title }</span>
                </div>
                <div class="track" style={width.clone()}>
                    if let Some(c) = cursor_col {
                        <div class="cursor-band" style={format!("left: {}px", c as f64 * COL)} aria-hidden="true"></div>
                    }
                    if let Some(d) = drop_here {
                        <div class="drop-ghost" style={format!("left: {}px", d.lands.unwrap_or(d.over) as f64 * COL)} aria-hidden="true">
                            if let Some(at) = d.lands {
                                <span class="lands">{ format!("lands at {at}, not {}", d.over) }</span>
                            }
                        </div>
                    }
                    { for waits }
                    { for blocks.map(|b| html! { <BlockView block={b.clone()} origin={origin.clone()} {readonly} /> }) }
                </div>
            </div>
        }
    });
    html! {
        <section class={classes!("timeline", readonly.then_some("readonly"))} id="timeline" aria-label="Timeline">
            <div class="tl-head">
                <h2>{ "Timeline" }</h2>
                <CursorButtons />
                <Legend />
            </div>
            if !readonly {
                <super::overview::Overview />
            }
            if let Some(why) = &app.move_note {
                <p class="move-note" id="move-note" role="status">{ why }</p>
            }
            if let Some(what) = &app.loaded {
                <p class="loaded" id="loaded-note" role="status">{ format!("Loaded {what}.") }</p>
            }
            <div class="tl-scroll" id="timeline-scroll">
                <div class="tl-grid">
                    <div class="lane cols">
                        <div class="lane-label">
                            <button type="button" id="col-start" class={classes!("colnum", "start", cursor_col.is_none().then_some("cur"))}
                                onclick={start} tabindex="-1">{ "initial" }</button>
                        </div>
                        <div class="track colnums" style={width.clone()}>{ for columns }</div>
                    </div>
                    { for lanes }
                </div>
            </div>
        </section>
    }
}

/// Step back / forward buttons and the cursor position.
#[component]
fn CursorButtons() -> Html {
    let app = use_app();
    let go = |a: Action| {
        let app = app.clone();
        Callback::from(move |_| app.dispatch(a.clone()))
    };
    let pos = match app.cursor {
        Some(c) => {
            html! { <>{ format!("step {c} of {}", app.blocks.len()) }<span class="pos-more">{ " (numbered from 0)" }</span></> }
        }
        None => html! { "initial state" },
    };
    html! {
        <>
        <div class="cursor-ctl" role="toolbar" aria-label="cursor">
            <button type="button" id="cur-home" aria-label="initial state" onclick={go(Action::CursorHome)} title="initial state (Home)">{ "⇤" }</button>
            <button type="button" id="cur-back" aria-label="step back" onclick={go(Action::CursorBy(-1))} title="step back (↑ [ ,)">{ "◀" }</button>
            <span class="pos" id="cursor-pos" aria-live="polite">{ pos }</span>
            <button type="button" id="cur-fwd" aria-label="step forward" onclick={go(Action::CursorBy(1))} title="step forward (↓ ] .)">{ "▶" }</button>
            <button type="button" id="cur-end" aria-label="last step" onclick={go(Action::CursorEnd)} title="last step (End)">{ "⇥" }</button>
        </div>
        <div class="undo-ctl" role="toolbar" aria-label="edits">
            <button type="button" id="undo" onclick={go(Action::Undo)} disabled={!app.history.can_undo()}
                title="undo the last edit of the run (Ctrl+Z)">{ "Undo" }</button>
            <button type="button" id="redo" onclick={go(Action::Redo)} disabled={!app.history.can_redo()}
                title="redo (Ctrl+Shift+Z or Ctrl+Y)">{ "Redo" }</button>
        </div>
        </>
    }
}

#[component]
fn Legend() -> Html {
    html! {
        <div class="legend" aria-hidden="true">
            <span class="lg viol">{ "violated" }</span>
            <span class="lg lockrule">{ "lock rule" }</span>
            <span class="lg wait">{ "waited for a lock" }</span>
            <span class="lg auto">{ "auto (after the schedule)" }</span>
        </div>
    }
}

#[derive(Properties, Clone)]
struct BlockProps {
    block: Block,
    origin: OriginRef,
    readonly: bool,
}

impl PartialEq for BlockProps {
    fn eq(&self, o: &Self) -> bool {
        self.block == o.block && self.readonly == o.readonly
    }
}

fn tooltip(b: &Block) -> String {
    let mut t = format!("{}: {}\n{}", b.function, b.label, b.source);
    if let Some((pos, why)) = &b.waited {
        t.push_str(&format!("\nasked for at position {pos}; {why}"));
    }
    if b.auto {
        t.push_str("\nrun by the scheduler after the schedule ran out");
    }
    if b.moved {
        t.push_str("\nmoved by the patch from its place in the kernel's order");
    }
    if !b.violations.is_empty() {
        t.push_str(&format!("\nviolates: {}", b.violations.join(", ")));
    }
    t
}

/// One step block.
#[component]
fn BlockView(props: &BlockProps) -> Html {
    let app = use_app();
    let b = &props.block;
    let i = b.index;
    let safety: Vec<&str> = b.violations.iter().copied().filter(|v| *v != "lock").collect();
    let lock_only = safety.is_empty() && b.violations.contains(&"lock");
    let selected = app.cursor == Some(i);
    let dragging = app.drag.is_some_and(|d| d.from == i);
    let cls = classes!(
        "block",
        (!safety.is_empty()).then_some("viol"),
        lock_only.then_some("lockrule"),
        b.waited.is_some().then_some("waited"),
        b.auto.then_some("auto"),
        b.patched.then_some("patched"),
        b.moved.then_some("moved"),
        selected.then_some("sel"),
        dragging.then_some("dragging"),
        app.shifted.contains(&i).then_some("shifted"),
    );
    let ro = props.readonly;
    let onpointerdown = (!ro).then(|| pointer_down(&app, &props.origin, i));
    let onpointermove = (!ro).then(|| pointer_move(&app, &props.origin));
    let onpointerup = (!ro).then(|| pointer_up(&app, &props.origin, i));
    let onclick = ro.then(|| {
        let app = app.clone();
        Callback::from(move |_: MouseEvent| app.dispatch(Action::Cursor(Some(i))))
    });
    let onpointercancel = {
        let app = app.clone();
        let origin = props.origin.clone();
        Callback::from(move |_| {
            *origin.borrow_mut() = None;
            app.dispatch(Action::DragCancel);
        })
    };
    let n = app.blocks.len();
    let onkeydown = {
        let app = app.clone();
        Callback::from(move |e: KeyboardEvent| {
            if e.key() == "Tab" && tab_in_time_order(i, n, e.shift_key()) {
                e.prevent_default();
                return;
            }
            let a = match e.key().as_str() {
                "ArrowLeft" if !ro => Action::Nudge { from: i, later: false },
                "ArrowRight" if !ro => Action::Nudge { from: i, later: true },
                "Enter" | " " => Action::Cursor(Some(i)),
                _ => return,
            };
            e.prevent_default();
            app.dispatch(a);
        })
    };
    let lane = app.lanes.get(b.lane).map_or("", |l| l.name.as_str());
    let aria = block_about(b, lane);
    html! {
        <div id={format!("blk-{i}")} class={cls} role="button" tabindex="0" aria-pressed={selected.to_string()}
            aria-roledescription={if ro { "step" } else { "draggable step" }}
            aria-describedby={format!("blk-{i}-about")} title={tooltip(b)} data-lane={b.lane.to_string()} data-nth={b.nth.to_string()}
            data-index={i.to_string()} data-violations={b.violations.join(" ")}
            style={format!("left: {}px", i as f64 * COL)}
            {onpointerdown} {onpointermove} {onpointerup} {onpointercancel} {onkeydown} {onclick}>
            // The spaces keep the visible text readable as words ("detach_dev smmu_domain
            // = …"), which the accessible name begins with; flex layout ignores them.
            <span class="fn">{ short_fn(b.function) }</span>{ " " }
            <span class="lbl">{ breakable(&b.main) }
                if b.folded > 0 {
                    { " " }<span class="more" title="bookkeeping folded into this step: see its details">{ format!("+{}", b.folded) }</span>
                }
            </span>
            if !b.violations.is_empty() {
                { " " }<span class="badges">{ for b.violations.iter().map(|v| html! {
                    <>{ " " }<span class={classes!("badge", (*v == "lock").then_some("lock"))}>{ *v }</span></>
                }) }</span>
            }
            if b.waited.is_some() {
                { " " }<span class="wait-icon" aria-hidden="true">{ "waited" }</span>
            }
            // Its name is its visible text; this, hidden, is its description.
            <span id={format!("blk-{i}-about")} hidden=true>{ aria }</span>
        </div>
    }
}

/// A dashed line from the column a waiting step was asked for to the column it ran in.
fn wait_marker(b: &Block) -> Option<Html> {
    let (pos, why) = b.waited.as_ref()?;
    let from = (*pos as f64 + 0.5) * COL;
    let to = b.index as f64 * COL + BLOCK_INSET;
    let title = format!("step {} asked for at position {pos}; {why}", b.index);
    Some(html! {
        <>
            <div class="wait-line" style={format!("left: {from}px; width: {}px", (to - from).max(0.0))} title={title.clone()}></div>
            <div class="wait-from" style={format!("left: {}px", from - 5.0)} title={title}></div>
        </>
    })
}

/// `arm_smmu_share_asid` → `share_asid`: the lane already says which driver it is.
fn short_fn(f: &str) -> &str {
    f.strip_prefix("arm_smmu_").unwrap_or(f)
}

type OriginRef = Rc<RefCell<Option<Origin>>>;

fn pointer_down(app: &AppContext, origin: &OriginRef, i: usize) -> Callback<PointerEvent> {
    let app = app.clone();
    let origin = origin.clone();
    Callback::from(move |e: PointerEvent| {
        if e.button() != 0 {
            return;
        }
        // Yew delegates events, so the block is found from the target, not currentTarget.
        let target = e.target().and_then(|t| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(t).ok());
        let Some(el) = target.and_then(|t| t.closest(".block").ok().flatten()) else {
            return;
        };
        let _ = el.set_pointer_capture(e.pointer_id());
        let left = el.get_bounding_client_rect().left();
        let x = f64::from(e.client_x());
        let scroll = scroller().map_or(0.0, |s| f64::from(s.scroll_left()));
        let track_left = left - BLOCK_INSET - i as f64 * COL;
        *origin.borrow_mut() = Some(Origin { x, track_left, scroll, moved: false });
        app.dispatch(Action::DragStart(i));
    })
}

fn pointer_move(app: &AppContext, origin: &OriginRef) -> Callback<PointerEvent> {
    let app = app.clone();
    let origin = origin.clone();
    Callback::from(move |e: PointerEvent| {
        let Some(mut o) = *origin.borrow() else { return };
        let x = f64::from(e.client_x());
        if !o.moved && (x - o.x).abs() < 6.0 {
            return;
        }
        o.moved = true;
        *origin.borrow_mut() = Some(o);
        autoscroll(x);
        let n = app.blocks.len();
        let col = ((x - o.track_left()) / COL).floor().max(0.0) as usize;
        app.dispatch(Action::DragOver(col.min(n.saturating_sub(1))));
    })
}

fn pointer_up(app: &AppContext, origin: &OriginRef, i: usize) -> Callback<PointerEvent> {
    let app = app.clone();
    let origin = origin.clone();
    Callback::from(move |e: PointerEvent| {
        let Some(o) = origin.borrow_mut().take() else { return };
        let n = app.blocks.len();
        let col = ((f64::from(e.client_x()) - o.track_left()) / COL).floor().max(0.0) as usize;
        let col = col.min(n.saturating_sub(1));
        if o.moved && col != i {
            app.dispatch(Action::Move { from: i, to: col });
        } else {
            app.dispatch(Action::DragCancel);
            app.dispatch(Action::Cursor(Some(i)));
        }
    })
}

/// A label that wraps only between tokens: after `(`, `,`, `=` or a space, and before
/// `->`, never inside an identifier such as `arm_smmu_tlb_inv_asid` nor after the `-` of
/// `->` (each token is a `nowrap` span; a `<wbr>` marks each break point).
fn breakable(label: &str) -> Html {
    let mut parts = Vec::new();
    let mut start = 0;
    for (i, c) in label.char_indices() {
        let before_arrow = label[i..].starts_with("->") && i > start;
        if before_arrow {
            parts.push(&label[start..i]);
            start = i;
        } else if matches!(c, '(' | ',' | '=' | ' ') {
            let end = i + c.len_utf8();
            parts.push(&label[start..end]);
            start = end;
        }
    }
    parts.push(&label[start..]);
    let n = parts.len();
    let pieces = parts.into_iter().enumerate().map(|(k, p)| {
        html! { <><span class="tok">{ p }</span>if k + 1 < n { <wbr /> }</> }
    });
    html! { <>{ for pieces }</> }
}

/// A block's accessible description (its name is its visible text: function, label, badges):
/// its step and lane, what is folded into it, where it waited, what it violates.
fn block_about(b: &Block, lane: &str) -> String {
    let mut name = format!("step {} of {lane}", b.index);
    if b.folded > 0 {
        name.push_str(&format!("; with {}", &b.label[b.main.len()..].trim_start_matches("; ")));
    }
    if let Some((pos, why)) = &b.waited {
        name.push_str(&format!("; asked for at position {pos}; {why}"));
    }
    if !b.violations.is_empty() {
        name.push_str(&format!("; violates {}", b.violations.join(", ")));
    }
    name
}

/// Tab and Shift+Tab on a block go to the next or previous step in time order (the DOM
/// holds blocks lane by lane); past the first or last step they leave the timeline as usual.
/// Whether the focus moved.
fn tab_in_time_order(i: usize, n: usize, back: bool) -> bool {
    let to = if back { i.checked_sub(1) } else { Some(i + 1).filter(|&j| j < n) };
    to.is_some_and(|j| crate::hooks::focus(&format!("blk-{j}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_label_width_is_measured_or_the_wide_default() {
        assert_eq!(measured_or_default(Some(48.0)), 48.0);
        assert_eq!(measured_or_default(Some(110.5)), 110.5);
        for none in [None, Some(0.0), Some(-3.0), Some(f64::NAN), Some(f64::INFINITY)] {
            assert_eq!(measured_or_default(none), LABEL_W, "{none:?}");
        }
    }
}
