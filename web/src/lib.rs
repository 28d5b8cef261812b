//! The smmu-playground web app.
//!
//! `App` is the root component; `src/main.rs` mounts it on the page body.

use yew::prelude::*;

/// Root component of the playground.
#[function_component(App)]
pub fn app() -> Html {
    html! {
        <div id="app-root">
            <header>
                <h1>{ "smmu-playground" }</h1>
            </header>
        </div>
    }
}
