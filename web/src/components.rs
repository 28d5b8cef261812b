//! Views: each renders values from the shared [`crate::AppContext`] and dispatches actions.

mod bits;
mod danger;
mod details;
mod editor;
mod embed;
mod explore;
mod findfix;
mod gallery;
pub mod header;
mod intro;
mod invariants;
mod overview;
mod patch;
mod share;
mod state_panel;
pub mod timeline;
mod why;

pub use bits::BitView;
pub use danger::DangerPanel;
pub use details::Details;
pub use editor::ScenarioEditor;
pub use embed::Embed;
pub use explore::ExplorePanel;
pub use gallery::Gallery;
pub use header::Header;
pub use intro::Intro;
pub use invariants::InvariantPanel;
pub use patch::PatchView;
pub use share::ShareBar;
pub use state_panel::StatePanel;
pub use timeline::Timeline;
pub use why::WhyPanel;

/// The shared state, from the context `App` provides.
#[yew::hook]
fn use_app() -> crate::AppContext {
    yew::use_context::<crate::AppContext>().expect("components are rendered inside App")
}

/// A number with thin thousands separators, for counts of interleavings.
pub fn group(n: u128) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
