//! Glue shared by the forms that run server actions and show prices.

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

/// One price from the list the page loaded (0 until it arrives), so buttons show the cost.
pub fn price(pick: fn(&Prices) -> i64) -> i64 {
    use_context::<Resource<Result<Prices, AppError>>>()
        .and_then(|r| r.get())
        .and_then(Result::ok)
        .map(|p| pick(&p))
        .unwrap_or_default()
}
