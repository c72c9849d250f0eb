//! Readable error notices for failed actions.

use crate::error::AppError;
use leptos::prelude::*;

/// Shows the message of the latest failed result, if any.
#[component]
pub fn ErrorNotice<T>(#[prop(into)] result: Signal<Option<Result<T, AppError>>>) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
{
    move || {
        // `try_get`: a card dropped by a list reload while its action was answering must not panic.
        result.try_get().flatten().and_then(Result::err).map(|err| {
            view! { <p class="error" role="alert">{err.message}</p> }
        })
    }
}

/// The error of a form the browser posted by itself (before the page's script loaded): the
/// server sent it back to the page with the error in its URL (`__err`, server_fn's form
/// redirects) and its message in a cookie only our own answers set; it is shown here, once, at
/// the top of the page. The message comes from the cookie, never from the URL: a crafted link
/// cannot put words on the page.
#[component]
pub fn FormPostError() -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    move || {
        query.with(|q| q.get("__err"))?;
        let message = banner_message()?;
        Some(view! { <p class="error" role="alert" data-testid="form-post-error">{message}</p> })
    }
}

/// The cookie that carries a form error's message back to its page.
pub const BANNER_COOKIE: &str = "form_error";
/// Enough for any error sentence; cookies stay far below their 4 KB.
const BANNER_MAX: usize = 1000;

/// Hex of the message's UTF-8 (cookie-safe, read alike on the server and in the browser).
pub fn encode_banner(message: &str) -> String {
    let mut end = message.len().min(BANNER_MAX);
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message.as_bytes()[..end]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn decode_banner(hex: &str) -> Option<String> {
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<Vec<u8>>>()?;
    String::from_utf8(bytes).ok().filter(|m| !m.is_empty())
}

fn banner_in(cookies: &str) -> Option<String> {
    cookies
        .split(';')
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == BANNER_COOKIE)
        .and_then(|(_, value)| decode_banner(value))
}

/// The banner cookie of the request being rendered (server) or of the page (browser).
fn banner_message() -> Option<String> {
    #[cfg(feature = "ssr")]
    {
        let parts = use_context::<axum::http::request::Parts>()?;
        let cookies = parts
            .headers
            .get(axum::http::header::COOKIE)?
            .to_str()
            .ok()?;
        let banner = banner_in(cookies);
        if banner.is_some() {
            // This request's own message: a page showing it is not kept for the next.
            crate::server::kept_pages::tell_page(crate::server::kept_pages::Shown::not_counted);
        }
        banner
    }
    #[cfg(not(feature = "ssr"))]
    {
        use wasm_bindgen::JsCast;
        let document = web_sys::window()?.document()?;
        let cookies = document
            .dyn_into::<web_sys::HtmlDocument>()
            .ok()?
            .cookie()
            .ok()?;
        banner_in(&cookies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn banners_survive_the_cookie_and_are_found_among_others() {
        let message = "This costs 100 credits and you have 5 — top up first.";
        let cookies = format!(
            "id=abc; {BANNER_COOKIE}={}; theme=dark",
            encode_banner(message)
        );
        assert_eq!(banner_in(&cookies).as_deref(), Some(message));
        assert_eq!(banner_in("id=abc").as_deref(), None);
        assert_eq!(banner_in(&format!("{BANNER_COOKIE}=zz")).as_deref(), None);
        assert!(encode_banner(&"é".repeat(800)).len() <= 2 * BANNER_MAX);
    }
}
