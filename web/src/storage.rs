//! The session saved in this browser: the permalink of what the page shows, kept in local
//! storage on every change, so closing the tab loses nothing. It is read once, at load, when
//! the address carries no link ([`crate::state::AppState::initial`]), and decoded like any
//! other link: whatever is stored there is untrusted input.
//!
//! Storage may be missing or refuse a write (private windows, quotas, sandboxed iframes);
//! saving is then skipped, and the page works as before.

/// The local-storage key; its version changes if the saved value ever stops being a link.
pub const KEY: &str = "smmu-playground.session.v1";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The saved session, if there is one.
pub fn load() -> Option<String> {
    storage()?.get_item(KEY).ok().flatten()
}

/// Saves the permalink of what the page shows; a refused write is skipped.
pub fn save(link: &str) {
    if let Some(s) = storage() {
        let _ = s.set_item(KEY, link);
    }
}

/// The local-storage key of an unfinished scenario: the editor's draft while it does not
/// compile (a valid one is the session's scenario, saved in its link).
pub const DRAFT_KEY: &str = "smmu-playground.draft.v1";

/// The saved unfinished scenario, if there is one.
pub fn load_draft() -> Option<String> {
    storage()?.get_item(DRAFT_KEY).ok().flatten()
}

/// Saves the unfinished scenario, or forgets it (`None`); a refused write is skipped.
pub fn save_draft(json: Option<&str>) {
    if let Some(s) = storage() {
        let _ = match json {
            Some(j) => s.set_item(DRAFT_KEY, j),
            None => s.remove_item(DRAFT_KEY),
        };
    }
}
