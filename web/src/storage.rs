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
