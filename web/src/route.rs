//! The page's routes, read from the address's fragment: `#v1.…` (or nothing) is the
//! playground, `#embed/v1.…` (or `#embed`) the same link in the compact, read-only embed, and
//! `#gallery` the gallery of every built-in scenario with its verdicts.

/// The gallery's fragment.
pub const GALLERY: &str = "gallery";

/// Where a fragment leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    /// The compact embed instead of the full page.
    pub embed: bool,
    /// The gallery instead of the playground (no link).
    pub gallery: bool,
    /// The permalink (`v1.…`), empty for the default scenario.
    pub link: String,
}

/// The route of a fragment (with or without `#`).
pub fn parse(fragment: &str) -> Route {
    let text = fragment.trim().trim_start_matches('#');
    if text == GALLERY || text.strip_prefix(GALLERY).is_some_and(|rest| rest.starts_with('/')) {
        return Route { embed: false, gallery: true, link: String::new() };
    }
    match text.strip_prefix("embed") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => {
            Route { embed: true, gallery: false, link: rest.trim_start_matches('/').to_string() }
        }
        _ => Route { embed: false, gallery: false, link: text.to_string() },
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

    fn route(embed: bool, gallery: bool, link: &str) -> Route {
        Route { embed, gallery, link: link.into() }
    }

    #[test]
    fn embed_routes() {
        assert_eq!(parse("#embed/v1.abc"), route(true, false, "v1.abc"));
        assert_eq!(parse("embed"), route(true, false, ""));
        assert_eq!(parse("#embed/"), route(true, false, ""));
        assert_eq!(parse("#v1.abc"), route(false, false, "v1.abc"));
        assert_eq!(parse(""), route(false, false, ""));
        assert_eq!(parse("embedded"), route(false, false, "embedded"));
        assert_eq!(fragment(true, "v1.x"), "embed/v1.x");
        assert_eq!(fragment(true, ""), "embed");
        assert_eq!(fragment(false, "v1.x"), "v1.x");
    }

    #[test]
    fn the_gallery_route_carries_no_link() {
        assert_eq!(parse("#gallery"), route(false, true, ""));
        assert_eq!(parse(" gallery "), route(false, true, ""));
        assert_eq!(parse("#gallery/"), route(false, true, ""));
        // Not the gallery: a longer word is a (broken) link, as any other text.
        assert_eq!(parse("#gallery2"), route(false, false, "gallery2"));
        assert_eq!(parse("#embed/gallery"), route(true, false, "gallery"));
        assert_eq!(format!("#{GALLERY}"), "#gallery");
    }
}
