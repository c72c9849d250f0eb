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
