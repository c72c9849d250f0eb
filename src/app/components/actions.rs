//! Glue shared by the forms that run server actions and show prices.

use crate::app::loaded::Loaded;
use crate::error::AppError;
use crate::models::Prices;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;

/// Whether the action's last run succeeded; read inside an effect, it re-runs on each result.
pub fn succeeded<A>(action: ServerAction<A>) -> bool
where
    A: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    A::Output: Send + Sync + 'static,
{
    action.value().with(|v| matches!(v, Some(Ok(_))))
}

/// The action's latest result from a run of this page's own (by script). A plain form post's
/// error (one sent before the script loaded) comes back in the page's URL and would otherwise
/// be shown by every form of its kind on the page, e.g. each card's "Delete";
/// [`super::notice::FormPostError`] shows it once instead.
pub fn own_result<A>(action: ServerAction<A>) -> Signal<Option<Result<A::Output, AppError>>>
where
    A: ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    A::Output: Clone + Send + Sync + 'static,
{
    let version = action.version();
    let value = action.value();
    Signal::derive(move || (version.get() > 0).then(|| value.get()).flatten())
}

/// One price from the list the page loaded (0 until it arrives), so buttons show the cost.
pub fn price(pick: fn(&Prices) -> i64) -> i64 {
    use_context::<Loaded<Result<Prices, AppError>>>()
        .and_then(|r| r.get())
        .and_then(Result::ok)
        .map(|p| pick(&p))
        .unwrap_or_default()
}
