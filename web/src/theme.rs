//! The colour theme: follow the system (`prefers-color-scheme`), or light or dark as chosen
//! in the header. The choice is kept in local storage, read once at load ([`load`]) and shown
//! as `data-theme` on the document element, which `web/theme.css` reads; with no attribute the
//! style sheet follows the system.
//!
//! Whatever is stored under [`KEY`] is untrusted: anything but a known name means "system".

/// The local-storage key of the chosen theme.
pub const KEY: &str = "smmu-playground.theme";

/// A theme choice.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Theme {
    /// Follow the system's light or dark setting.
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    /// Every choice, in the order the header shows them.
    pub const ALL: [Theme; 3] = [Theme::System, Theme::Light, Theme::Dark];

    /// The choice a stored value names; a missing or unknown value is [`Theme::System`].
    pub fn parse(stored: Option<&str>) -> Theme {
        match stored.map(str::trim) {
            Some("light") => Theme::Light,
            Some("dark") => Theme::Dark,
            _ => Theme::System,
        }
    }

    /// The value stored and set as `data-theme` (`None`: neither, the system decides).
    pub fn attr(self) -> Option<&'static str> {
        match self {
            Theme::System => None,
            Theme::Light => Some("light"),
            Theme::Dark => Some("dark"),
        }
    }

    /// What the header's toggle says.
    pub fn label(self) -> &'static str {
        match self {
            Theme::System => "auto",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    /// The toggle's tooltip.
    pub fn title(self) -> &'static str {
        match self {
            Theme::System => "colours follow the system's light or dark setting",
            Theme::Light => "light colours",
            Theme::Dark => "dark colours",
        }
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

fn root() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.document_element()
}

/// The stored choice (storage may be missing or refuse to be read: then the system's).
pub fn load() -> Theme {
    let stored = storage().and_then(|s| s.get_item(KEY).ok().flatten());
    Theme::parse(stored.as_deref())
}

/// Stores a choice; "system" removes the key. A refused write is skipped.
pub fn save(theme: Theme) {
    let Some(s) = storage() else { return };
    let _ = match theme.attr() {
        Some(v) => s.set_item(KEY, v),
        None => s.remove_item(KEY),
    };
}

/// Shows a choice: sets or removes `data-theme` on the document element.
pub fn apply(theme: Theme) {
    let Some(root) = root() else { return };
    let _ = match theme.attr() {
        Some(v) => root.set_attribute("data-theme", v),
        None => root.remove_attribute("data-theme"),
    };
}

/// The choice the page shows now (what [`apply`] last set).
pub fn shown() -> Theme {
    Theme::parse(root().and_then(|r| r.get_attribute("data-theme")).as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_values_parse_and_bad_ones_mean_system() {
        assert_eq!(Theme::parse(Some("light")), Theme::Light);
        assert_eq!(Theme::parse(Some("dark")), Theme::Dark);
        assert_eq!(Theme::parse(Some(" dark\n")), Theme::Dark);
        for bad in ["", "system", "Dark", "DARK", "dark;", "{\"dark\":1}", "\u{0}", "ダーク"] {
            assert_eq!(Theme::parse(Some(bad)), Theme::System, "{bad:?}");
        }
        assert_eq!(Theme::parse(Some(&"dark".repeat(10_000))), Theme::System);
        assert_eq!(Theme::parse(None), Theme::System);
    }

    #[test]
    fn every_choice_round_trips_through_its_stored_value() {
        for t in Theme::ALL {
            assert_eq!(Theme::parse(t.attr()), t);
        }
    }
}
