//! Browser side of sharing: the page's address for a permalink, the clipboard (with a
//! selected read-only field as the fallback), and downloads of exported files.

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// The page's address without fragment or query: origin and path.
pub fn page_base() -> String {
    let Some(loc) = web_sys::window().map(|w| w.location()) else { return String::new() };
    format!("{}{}", loc.origin().unwrap_or_default(), loc.pathname().unwrap_or_default())
}

/// The full page's URL for a permalink (`v1.…`).
pub fn page_url(link: &str) -> String {
    format!("{}#{link}", page_base())
}

/// The embed's URL for a permalink.
pub fn embed_url(link: &str) -> String {
    format!("{}#{}", page_base(), crate::route::fragment(true, link))
}

/// The iframe snippet that embeds a permalink in another page.
pub fn iframe_snippet(link: &str, title: &str) -> String {
    let title = title.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;");
    format!(
        r#"<iframe src="{}" width="760" height="460" title="{title}" style="border:1px solid #d0d7de;border-radius:6px" loading="lazy"></iframe>"#,
        embed_url(link).replace('&', "&amp;").replace('"', "&quot;")
    )
}

/// Writes text to the clipboard. `Err` when the browser refuses (no permission, no secure
/// context, no clipboard API): the caller then selects a field for the user to copy.
pub async fn copy(text: &str) -> Result<(), ()> {
    let window = web_sys::window().ok_or(())?;
    let clipboard = window.navigator().clipboard();
    // Older browsers and some embedders have no clipboard object at all.
    if clipboard.is_undefined() {
        return Err(());
    }
    JsFuture::from(clipboard.write_text(text)).await.map(|_| ()).map_err(|_| ())
}

/// Focuses and selects a text field or text area by id.
pub fn select_field(id: &str) {
    let Some(el) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id(id)) else { return };
    if let Some(input) = el.dyn_ref::<web_sys::HtmlInputElement>() {
        let _ = input.focus();
        input.select();
    } else if let Some(area) = el.dyn_ref::<web_sys::HtmlTextAreaElement>() {
        let _ = area.focus();
        area.select();
    }
}

/// Offers text as a file download (Blob, object URL, a clicked `download` anchor).
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), String> {
    let fail = |e: wasm_bindgen::JsValue| format!("download failed: {e:?}");
    let parts = js_sys::Array::of1(&wasm_bindgen::JsValue::from_str(text));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let blob = web_sys::Blob::new_with_str_sequence_and_options(&parts, &options).map_err(fail)?;
    let url = web_sys::Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let document = web_sys::window().and_then(|w| w.document()).ok_or("no document")?;
    let a: web_sys::HtmlAnchorElement = document.create_element("a").map_err(fail)?.unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.set_attribute("hidden", "").map_err(fail)?;
    if let Some(body) = document.body() {
        let _ = body.append_child(&a);
        a.click();
        let _ = body.remove_child(&a);
    }
    // The click has started the download; the URL is no longer needed once it returns.
    let later = url.clone();
    yew::platform::spawn_local(async move {
        yew::platform::time::sleep(std::time::Duration::from_secs(10)).await;
        let _ = web_sys::Url::revoke_object_url(&later);
    });
    Ok(())
}
