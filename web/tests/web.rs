//! Browser tests: they mount the page into a real document in headless Chromium and check
//! what a user sees, and run the reducer in wasm.
//! Run with `cargo test --target wasm32-unknown-unknown -p smmu-web`.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;
use std::time::Duration;

use smmu_sim::{Granularity, Variant};
use smmu_web::state::{Action, AppState};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use yew::Reducible;

wasm_bindgen_test_configure!(run_in_browser);

/// How long a condition may take to come true before the test fails. Only a cap: every
/// test goes on as soon as its condition holds, so a busy machine only makes it slower.
const PATIENCE_MS: f64 = 60_000.0;

fn now() -> f64 {
    web_sys::window().unwrap().performance().unwrap().now()
}

/// Waits until `cond` holds, letting Yew render in between; fails after [`PATIENCE_MS`].
async fn until(what: &str, mut cond: impl FnMut() -> bool) {
    let start = now();
    while !cond() {
        assert!(now() - start < PATIENCE_MS, "waited {PATIENCE_MS} ms for: {what}");
        yew::platform::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Sets the address's fragment without a navigation (empty: no fragment).
fn set_hash(hash: &str) {
    let window = web_sys::window().unwrap();
    let loc = window.location();
    let url = format!("{}{}{hash}", loc.pathname().unwrap(), loc.search().unwrap());
    window.history().unwrap().replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url)).unwrap();
}

/// A mounted page. Dropping it unmounts the app, so no page of an earlier test rewrites the
/// address (its permalink) or reacts to keys while a later test runs.
struct Mounted {
    root: web_sys::Element,
    handle: Option<yew::AppHandle<smmu_web::App>>,
}

impl std::ops::Deref for Mounted {
    type Target = web_sys::Element;
    fn deref(&self) -> &web_sys::Element {
        &self.root
    }
}

impl Drop for Mounted {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            h.destroy();
        }
        self.root.remove();
    }
}

/// Mounts `App` into a fresh `div` on the first-visit address, with no saved session, and
/// waits for the first render.
async fn mount_app() -> Mounted {
    set_hash("");
    forget_session();
    mount_here().await
}

/// Removes the session an earlier test's page saved in this browser.
fn forget_session() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.remove_item(smmu_web::storage::KEY).unwrap();
}

/// Mounts `App` with the address as it is and waits until it has rendered.
async fn mount_here() -> Mounted {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    let handle = yew::Renderer::<smmu_web::App>::with_root(root.clone()).render();
    let page = Mounted { root, handle: Some(handle) };
    until("the app's first render", || found(&page, "#app-root")).await;
    page
}

fn found(root: &web_sys::Element, selector: &str) -> bool {
    root.query_selector(selector).unwrap().is_some()
}

fn text(root: &web_sys::Element, selector: &str) -> String {
    root.query_selector(selector).unwrap().and_then(|e| e.text_content()).unwrap_or_default()
}

fn attr(root: &web_sys::Element, selector: &str, name: &str) -> String {
    let el = root.query_selector(selector).unwrap().unwrap_or_else(|| panic!("{selector} is on the page"));
    el.get_attribute(name).unwrap_or_default()
}

fn click(root: &web_sys::Element, selector: &str) {
    let el = root.query_selector(selector).unwrap().unwrap();
    el.dyn_into::<web_sys::HtmlElement>().unwrap().click();
}

#[wasm_bindgen_test]
async fn app_shows_the_seed_race_with_inv1_and_inv2_violations() {
    let root = mount_app().await;
    let title = root.query_selector("#app-root header h1").unwrap().unwrap();
    assert_eq!(title.text_content().unwrap(), "smmu-playground");
    assert!(root.query_selector(".block[data-violations~='inv2']").unwrap().is_some());
    assert!(root.query_selector(".block[data-violations~='inv1']").unwrap().is_some());
    assert_ne!(attr(&root, "#inv-inv1", "data-first"), "");
    assert_ne!(attr(&root, "#inv-inv2", "data-first"), "");
    assert_eq!(attr(&root, "#fix-switch", "role"), "switch");
    assert_eq!(attr(&root, "#fix-switch", "aria-checked"), "false");
}

#[wasm_bindgen_test]
async fn the_fix_switch_clears_every_violation() {
    let root = mount_app().await;
    click(&root, "#fix-switch");
    until("the fix switch is on", || attr(&root, "#fix-switch", "aria-checked") == "true").await;
    assert!(root.query_selector(".block.viol").unwrap().is_none());
    for inv in ["inv1", "inv2", "inv3", "dma", "lock", "deadlock"] {
        assert_eq!(attr(&root, &format!("#inv-{inv}"), "data-first"), "", "{inv} holds everywhere");
    }
}

#[wasm_bindgen_test]
async fn clicking_a_first_violation_moves_the_cursor_there() {
    let root = mount_app().await;
    click(&root, "#cur-home");
    until("the cursor is on the initial state", || text(&root, "#cursor-pos") == "initial state").await;
    let first = attr(&root, "#inv-inv1", "data-first");
    click(&root, "#first-inv1");
    let want = format!("step {first} of");
    until(&format!("the cursor is on {want}"), || text(&root, "#cursor-pos").starts_with(&want)).await;
    assert_eq!(attr(&root, "#inv-inv1", "data-broken"), "true");
}

#[wasm_bindgen_test]
fn reducer_moves_a_block_and_keeps_lane_order() {
    let s = Rc::new(AppState::default());
    let first = s.blocks.iter().find(|b| b.lane == 1).unwrap().index;
    let n = s.blocks.len();
    let s = s.reduce(Action::Move { from: first, to: n - 1 });
    let lanes: Vec<usize> = s.blocks.iter().map(|b| b.lane).collect();
    assert!(lanes.iter().position(|l| *l == 1) > lanes.iter().rposition(|l| *l == 0), "{lanes:?}");
    assert!(s.blocks.iter().all(|b| !b.violations.contains(&"inv1") && !b.violations.contains(&"inv2")));
}

/// The page runs the check in a web worker (the E2E tests drive it); here the worker's side
/// runs in-process and its replies are read back as the page reads them.
#[wasm_bindgen_test]
fn the_worker_replies_carry_the_exact_counts_and_schedules() {
    use smmu_sim::explore::{Explorer, Limits};
    use smmu_web::worker;
    for (variant, violating, total) in [(Variant::Pre, 57320550u128, 534628728u128), (Variant::Fix, 0, 5978820)] {
        let world = smmu_sim::builtin::get("seed-race").unwrap().compile(variant, Granularity::Mail).unwrap();
        let mut explorer = Explorer::new(&world, Limits::default());
        let summary = explorer.run();
        let data = worker::summary_data(&summary, &world);
        assert_eq!(
            (data.violating.as_str(), data.interleavings.as_str()),
            (violating.to_string().as_str(), total.to_string().as_str())
        );
        let back = worker::checked(&data, &world).unwrap();
        assert_eq!((back.interleavings, back.violating), (summary.interleavings, summary.violating));
        assert_eq!(back.by_invariant, summary.by_invariant);
        assert_eq!((&back.shortest, &back.fewest_switches), (&summary.shortest, &summary.fewest_switches));
        let map = explorer.danger_windows().unwrap();
        assert_eq!(worker::danger(&worker::danger_data(&map)).unwrap(), map);
    }
}

#[wasm_bindgen_test]
fn import_errors_are_shown_not_panics() {
    let s = Rc::new(AppState::default());
    for (text, want) in [
        ("{ not json", "scenario JSON"),
        ("v1.AAAA", "damaged"),
        ("#v6.AAAA", "newer version"),
        ("{\"format\": 1, \"id\": \"x\"}", "scenario JSON"),
    ] {
        let t = s.clone().reduce(Action::Import(text.into()));
        let e = t.import_error.clone().unwrap_or_default();
        assert!(e.contains(want), "{text}: {e}");
        assert_eq!(t.scenario.id, "seed-race");
    }
}

#[wasm_bindgen_test]
fn embed_routes_are_parsed() {
    use smmu_web::route::{parse, Route};
    assert_eq!(parse("#embed/v1.abc"), Route { embed: true, gallery: false, link: "v1.abc".into() });
    assert_eq!(parse("#embed"), Route { embed: true, gallery: false, link: String::new() });
    assert_eq!(parse("#v1.abc"), Route { embed: false, gallery: false, link: "v1.abc".into() });
    assert_eq!(parse("#gallery"), Route { embed: false, gallery: true, link: String::new() });
}

#[wasm_bindgen_test]
async fn the_embed_shows_a_verdict_and_the_fix_switch_works() {
    set_hash("#embed");
    let root = mount_here().await;
    assert!(root.query_selector("#embed-root").unwrap().is_some());
    assert!(root.query_selector("#explore").unwrap().is_none(), "no full-page panels");
    let verdict = || root.query_selector("#verdict").unwrap().unwrap().text_content().unwrap();
    assert!(verdict().starts_with("VIOLATED: inv1, inv2"), "{}", verdict());
    click(&root, "#fix-switch");
    until("the embed's verdict follows the fix", || verdict() == "all invariants hold").await;
    drop(root);
    set_hash("");
}

#[wasm_bindgen_test]
async fn a_permalink_opens_the_run_it_names() {
    let s = Rc::new(AppState::default()).reduce(Action::ToggleFix);
    let s = s.reduce(Action::Cursor(Some(3)));
    set_hash(&format!("#{}", s.link().unwrap()));
    let root = mount_here().await;
    assert_eq!(attr(&root, "#fix-switch", "aria-checked"), "true");
    let pos = text(&root, "#cursor-pos");
    assert!(pos.starts_with("step 3 of"), "{pos}");
    // Unmounted first: a live page would put its own permalink back into the address.
    drop(root);
    set_hash("#v1.damaged");
    let root = mount_here().await;
    until("the link's error is shown", || found(&root, "#link-error")).await;
    assert!(text(&root, "#link-error").contains("damaged"), "{}", text(&root, "#link-error"));
    drop(root);
    set_hash("");
}
