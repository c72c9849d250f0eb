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
        result.get().and_then(Result::err).map(|err| {
            view! { <p class="error" role="alert">{err.message}</p> }
        })
    }
}

/// The error of a form the browser posted by itself (before the page's script loaded): the
/// server sent it back to the page with the error in its URL (`__err`, server_fn's form
/// redirects), and it is shown here, once, at the top of the page.
#[component]
pub fn FormPostError() -> impl IntoView {
    use leptos::server_fn::error::ServerFnUrlError;
    let query = leptos_router::hooks::use_query_map();
    move || {
        let encoded = query.with(|q| q.get("__err"))?;
        let err = ServerFnUrlError::<AppError>::decode_err(&encoded);
        Some(
            view! { <p class="error" role="alert" data-testid="form-post-error">{err.message}</p> },
        )
    }
}
