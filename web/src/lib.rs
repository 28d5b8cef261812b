//! The smmu-playground web page.
//!
//! One reducer ([`state::AppState`] with [`state::Action`]) owns the page state; it is shared
//! through a context. Components in [`components`] render values computed by `smmu-sim` and
//! dispatch actions; [`hooks`] hold the side effects (keyboard, focus, the permalink, the
//! exhaustive check). [`route`] tells the full page from the embed (`#embed/v1.…`) and the
//! gallery (`#gallery`, [`gallery`] and [`components::Gallery`]), [`share`]
//! does the clipboard and downloads, [`storage`] keeps the session across a reload, [`theme`] the light or dark choice, and
//! [`worker`] is the check's web worker, built as its own binary (`src/bin/explore_worker.rs`). `src/main.rs` mounts [`App`] on the page body.

pub mod components;
pub mod editor;
pub mod gallery;
pub mod history;
pub mod hooks;
pub mod moves;
pub mod route;
pub mod share;
pub mod state;
pub mod storage;
pub mod theme;
pub mod worker;

use components::{
    BitView, DangerPanel, Details, Embed, ExplorePanel, Gallery, Header, Intro, InvariantPanel, PatchView,
    ScenarioEditor, ShareBar, StatePanel, Timeline, WhyPanel,
};
use state::AppState;
use yew::prelude::*;

/// The shared page state: the reducer handle, cloned into every component.
pub type AppContext = UseReducerHandle<AppState>;

/// Root component: the gallery at `#gallery`, else the playground (or its embed). Moving
/// between the gallery and a link (`hashchange`) swaps them; the playground then opens what the
/// address holds as on a fresh load.
#[component]
pub fn App() -> Html {
    let gallery = use_state(|| route::parse(&hooks::location_hash()).gallery);
    hooks::use_gallery_route(gallery.setter());
    if *gallery {
        html! { <Gallery /> }
    } else {
        html! { <Playground /> }
    }
}

/// The playground, or its embed.
#[component]
fn Playground() -> Html {
    // The route is fixed at load: a link opened later (hashchange) stays in the same mode.
    let embed = use_memo((), |_| route::parse(&hooks::location_hash()).embed);
    let state = use_reducer_eq(|| {
        let (hash, session) = (hooks::location_hash(), storage::load());
        let draft = storage::load_draft();
        AppState::initial(&hash, session.as_deref()).with_saved_draft(&hash, draft.as_deref(), session.as_deref())
    });
    hooks::use_global_keys(state.dispatcher());
    hooks::use_permalink(&state, *embed);
    hooks::use_draft_autosave(&state, *embed);
    hooks::use_focus_and_scroll(&state);
    hooks::use_explorer(&state);
    if *embed {
        return html! {
            <ContextProvider<AppContext> context={state.clone()}>
                <div id="app-root" class="embedded" data-runs={state.runs.to_string()} data-key={hooks::state_key(&state)}>
                    <Embed />
                </div>
            </ContextProvider<AppContext>>
        };
    }
    html! {
        <ContextProvider<AppContext> context={state.clone()}>
            <div id="app-root" data-runs={state.runs.to_string()} data-key={hooks::state_key(&state)}>
                <Header />
                <main>
                    <ShareBar />
                    <Intro />
                    <ScenarioEditor />
                    <PatchView />
                    <Timeline />
                    <div class="panels">
                        <div class="col">
                            <Details />
                            <StatePanel />
                            <BitView />
                        </div>
                        <div class="col">
                            <InvariantPanel />
                            <WhyPanel />
                            <ExplorePanel />
                        </div>
                    </div>
                    <DangerPanel />
                </main>
            </div>
        </ContextProvider<AppContext>>
    }
}
