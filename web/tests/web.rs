//! Browser tests: they mount the page into a real document in headless Chromium and check
//! what a user sees, and run the reducer in wasm.
//! Run with `cargo test --target wasm32-unknown-unknown -p smmu-web`.
#![cfg(target_arch = "wasm32")]

use std::rc::Rc;
use std::time::Duration;

use smmu_web::state::{Action, AppState};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use yew::Reducible;

wasm_bindgen_test_configure!(run_in_browser);

/// Yew renders asynchronously: give it a moment after a render or an event.
async fn settle() {
    yew::platform::time::sleep(Duration::from_millis(30)).await;
}

/// Sets the address's fragment without a navigation (empty: no fragment).
fn set_hash(hash: &str) {
    let window = web_sys::window().unwrap();
    let loc = window.location();
    let url = format!("{}{}{hash}", loc.pathname().unwrap(), loc.search().unwrap());
    window.history().unwrap().replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url)).unwrap();
}

/// Mounts `App` into a fresh `div` and waits for the first render. Earlier tests' pages
/// leave their permalink in the address, so it is cleared first.
async fn mount_app() -> web_sys::Element {
    set_hash("");
    mount_here().await
}

/// Mounts `App` with the address as it is.
async fn mount_here() -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<smmu_web::App>::with_root(root.clone()).render();
    settle().await;
    root
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
    settle().await;
    assert_eq!(attr(&root, "#fix-switch", "aria-checked"), "true");
    assert!(root.query_selector(".block.viol").unwrap().is_none());
    for inv in ["inv1", "inv2", "inv3", "dma", "lock", "deadlock"] {
        assert_eq!(attr(&root, &format!("#inv-{inv}"), "data-first"), "", "{inv} holds everywhere");
    }
}

#[wasm_bindgen_test]
async fn clicking_a_first_violation_moves_the_cursor_there() {
    let root = mount_app().await;
    click(&root, "#cur-home");
    settle().await;
    assert_eq!(root.query_selector("#cursor-pos").unwrap().unwrap().text_content().unwrap(), "initial state");
    let first = attr(&root, "#inv-inv1", "data-first");
    click(&root, "#first-inv1");
    settle().await;
    let pos = root.query_selector("#cursor-pos").unwrap().unwrap().text_content().unwrap();
    assert!(pos.starts_with(&format!("step {first} of")), "{pos}");
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

#[wasm_bindgen_test]
async fn the_explorer_counts_both_sides_of_the_fix() {
    let root = mount_app().await;
    click(&root, "#explore");
    for _ in 0..200 {
        settle().await;
        if root.query_selector("#result-fix[data-total]").unwrap().is_some() {
            break;
        }
    }
    assert_eq!(attr(&root, "#result-pre", "data-violating"), "57320550");
    assert_eq!(attr(&root, "#result-pre", "data-total"), "534628728");
    assert_eq!(attr(&root, "#result-fix", "data-violating"), "0");
    assert_eq!(attr(&root, "#result-fix", "data-total"), "5978820");
}

#[wasm_bindgen_test]
async fn a_permalink_opens_the_run_it_names() {
    let s = Rc::new(AppState::default()).reduce(Action::ToggleFix);
    let s = s.reduce(Action::Cursor(Some(3)));
    set_hash(&format!("#{}", s.link().unwrap()));
    let root = mount_here().await;
    assert_eq!(attr(&root, "#fix-switch", "aria-checked"), "true");
    let pos = root.query_selector("#cursor-pos").unwrap().unwrap().text_content().unwrap();
    assert!(pos.starts_with("step 3 of"), "{pos}");
    set_hash("#v1.damaged");
    let root = mount_here().await;
    let error = root.query_selector(".error").unwrap().expect("the error is shown");
    assert!(error.text_content().unwrap().contains("damaged"));
    set_hash("");
}
