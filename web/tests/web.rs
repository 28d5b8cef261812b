//! Browser tests: they mount components into a real page in headless Chromium.
//! Run with `cargo test --target wasm32-unknown-unknown -p smmu-web`.
#![cfg(target_arch = "wasm32")]

use std::time::Duration;

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts `App` into a fresh `div` and waits for Yew's asynchronous first render.
async fn mount_app() -> web_sys::Element {
    let document = web_sys::window().unwrap().document().unwrap();
    let root = document.create_element("div").unwrap();
    document.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<smmu_web::App>::with_root(root.clone()).render();
    yew::platform::time::sleep(Duration::from_millis(20)).await;
    root
}

#[wasm_bindgen_test]
async fn app_renders_header() {
    let root = mount_app().await;
    let header = root.query_selector("#app-root header h1").unwrap();
    let header = header.expect("the app root should contain a header");
    assert_eq!(header.text_content().unwrap(), "smmu-playground");
}
