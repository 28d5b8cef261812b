//! The page's routes, read from the address's fragment: `#v1.…` (or nothing) is the
//! playground, `#embed/v1.…` (or `#embed`) the same link in the compact, read-only embed.

/// Where a fragment leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The compact embed instead of the full page.
    pub embed: bool,
    /// The permalink (`v1.…`), empty for the default scenario.
    pub link: String,
}

/// The route of a fragment (with or without `#`).
pub fn parse(fragment: &str) -> Route {
    let text = fragment.trim().trim_start_matches('#');
    match text.strip_prefix("embed") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            Route { embed: true, link: rest.trim_start_matches('/').to_string() }
        }
        _ => Route { embed: false, link: text.to_string() },
    }
}

/// The fragment (without `#`) of a permalink in the full page or the embed.
pub fn fragment(embed: bool, link: &str) -> String {
    match (embed, link.is_empty()) {
        (false, _) => link.to_string(),
        (true, true) => "embed".to_string(),
        (true, false) => format!("embed/{link}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embed_routes() {
        assert_eq!(parse("#embed/v1.abc"), Route { embed: true, link: "v1.abc".into() });
        assert_eq!(parse("embed"), Route { embed: true, link: String::new() });
        assert_eq!(parse("#embed/"), Route { embed: true, link: String::new() });
        assert_eq!(parse("#v1.abc"), Route { embed: false, link: "v1.abc".into() });
        assert_eq!(parse(""), Route { embed: false, link: String::new() });
        assert_eq!(parse("embedded"), Route { embed: false, link: "embedded".into() });
        assert_eq!(fragment(true, "v1.x"), "embed/v1.x");
        assert_eq!(fragment(true, ""), "embed");
        assert_eq!(fragment(false, "v1.x"), "v1.x");
    }
}
