//! The JSON API's lists (gallery, history, provenance, ledger): arrays paged by keyset, with
//! GitHub's `Link: <…>; rel="next"` when there is more, kept as sent while nothing they show
//! has changed.

use crate::error::AppError;
use crate::models::{ChangesWithTime, Page};
use crate::server::session::CurrentUser;
use crate::server::state::AppState;
use crate::store::page_cache::{self, KeptAnswer};
use axum::http::{header, HeaderValue, Uri};
use axum::response::{IntoResponse, Response};

/// The query string's pairs, in order.
pub(crate) fn pairs(uri: &Uri) -> Vec<(String, String)> {
    url::form_urlencoded::parse(uri.query().unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

pub(crate) fn query_value<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The page as a JSON array, and the next page's URL (this request's, with the next cursor).
fn paged(uri: &Uri, answer: KeptAnswer) -> Response {
    let json = HeaderValue::from_static("application/json");
    let mut response = ([(header::CONTENT_TYPE, json)], answer.body).into_response();
    if let Some(cursor) = answer.next_cursor {
        let mut next = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs(uri).iter().filter(|(k, _)| k != "cursor") {
            next.append_pair(k, v);
        }
        next.append_pair("cursor", &cursor);
        let link = format!("<{}?{}>; rel=\"next\"", uri.path(), next.finish());
        if let Ok(value) = HeaderValue::from_str(&link) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    response
}

/// A list's page as its answer: `read`'s, or the same answer kept as sent while the
/// user's listed rows are unchanged and nothing in it changes with time (see
/// [`page_cache::answer`]).
pub(crate) async fn list_answer<T: serde::Serialize + ChangesWithTime, E>(
    state: &AppState,
    user: &CurrentUser,
    uri: &Uri,
    read: impl std::future::Future<Output = Result<Page<T>, E>>,
) -> Result<Response, AppError>
where
    AppError: From<E>,
{
    let key = uri.path_and_query().map_or(uri.path(), |pq| pq.as_str());
    let make = async {
        let page = read.await?;
        let keep = !page.items.iter().any(ChangesWithTime::changes_with_time);
        let body = serde_json::to_vec(&page.items).map_err(|e| {
            tracing::error!(error = %e, "a list's answer could not be written");
            AppError::internal()
        })?;
        let next_cursor = page.next_cursor;
        Ok::<_, AppError>((
            KeptAnswer {
                body: body.into(),
                next_cursor,
            },
            keep,
        ))
    };
    let (db, version) = (&state.studio.db, user.lists_version);
    let answer = page_cache::answer(db, &user.id, version, key.to_string(), make).await?;
    Ok(paged(uri, answer))
}
