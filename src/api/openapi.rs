//! `GET /api/openapi.json` (OpenAPI 3.1) and a readable page of it at `GET /api`. Both are made
//! from the handlers' `#[utoipa::path]` annotations; a test checks that every route the JSON
//! router serves, with each of its methods, is described.

use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use std::sync::OnceLock;
use utoipa::openapi::path::{Operation, ParameterIn, PathItem};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// Every failure: `{"error":{"code","message"}}`.
#[derive(ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(ToSchema)]
pub struct ErrorDetail {
    /// A stable word to branch on, e.g. `insufficient_credits`.
    pub code: String,
    /// A sentence for people.
    pub message: String,
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Avatar Studio",
        description = "Consistent AI characters with trained A2E avatars. Authenticate with the \
            session cookie (log in) or `Authorization: Bearer <token>` (make a token with \
            `POST /api/tokens`). Bodies are JSON: snake_case out, camelCase accepted in. Paid \
            routes honour `Idempotency-Key`."
    ),
    paths(
        super::auth::signup,
        super::auth::login,
        super::auth::logout,
        super::auth::me,
        super::auth::create_token,
        super::auth::list_tokens,
        super::auth::revoke_token,
        super::events::stream,
        super::characters::create,
        super::characters::status,
        super::characters::poll,
        super::library::list_characters,
        super::library::update_character,
        super::library::character_events,
        super::library::character_generations,
        super::characters::upload,
        super::characters::get,
        super::characters::delete,
        super::characters::continue_training,
        super::characters::retry_training,
        super::characters::upload_media,
        super::generations::scene,
        super::generations::motion_transfer,
        super::generations::image_to_video,
        super::generations::lipsync,
        super::generations::voices,
        super::generations::fight_sequence,
        super::library::list_generations,
        super::library::remake,
        super::library::delete_generation,
        super::generations::get,
        super::generations::cancel,
        super::generations::retry,
        super::generations::prices,
        super::account::ledger,
        super::account::credits,
        super::account::change_password,
        super::account::delete_me,
        super::imports::list,
        super::imports::import,
        super::presets::list,
        super::presets::create,
        super::presets::delete,
        openapi_json,
        page,
    ),
    components(schemas(ErrorBody, ErrorDetail)),
    modifiers(&Credentials),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "account", description = "Sign-up, log-in, API tokens"),
        (name = "characters", description = "Characters and their A2E avatars"),
        (name = "generations", description = "Scenes, clips, lipsyncs, fight sequences"),
        (name = "meta", description = "This description, live events, prices")
    )
)]
pub struct ApiDoc;

struct Credentials;

impl Modify for Credentials {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::server::router::SESSION_COOKIE,
            ))),
        );
    }
}

/// The description, made once per process.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOC: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOC.get_or_init(ApiDoc::openapi)
}

/// `GET /api/openapi.json`.
#[utoipa::path(
    get,
    path = "/api/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "This description (OpenAPI 3.1)", body = Object))
)]
pub async fn openapi_json() -> Response {
    static JSON: OnceLock<String> = OnceLock::new();
    let body = JSON.get_or_init(|| document().to_pretty_json().unwrap_or_default());
    ([(header::CONTENT_TYPE, "application/json")], body.as_str()).into_response()
}

/// `GET /api`: the description as a page to read.
#[utoipa::path(
    get,
    path = "/api",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The routes as an HTML page", content_type = "text/html"))
)]
pub async fn page() -> Html<&'static str> {
    static PAGE: OnceLock<String> = OnceLock::new();
    Html(PAGE.get_or_init(|| render(document())))
}

/// The methods a path item describes, upper-case, each with its operation.
pub fn operations(item: &PathItem) -> Vec<(&'static str, &Operation)> {
    [
        ("GET", &item.get),
        ("POST", &item.post),
        ("PUT", &item.put),
        ("PATCH", &item.patch),
        ("DELETE", &item.delete),
        ("HEAD", &item.head),
        ("OPTIONS", &item.options),
        ("TRACE", &item.trace),
    ]
    .into_iter()
    .filter_map(|(method, op)| op.as_ref().map(|op| (method, op)))
    .collect()
}

fn render(doc: &utoipa::openapi::OpenApi) -> String {
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>API · Avatar Studio</title></head><body><main>",
    );
    html.push_str(&format!("<h1>{} API</h1>", escape(&doc.info.title)));
    if let Some(text) = &doc.info.description {
        html.push_str(&format!("<p>{}</p>", inline(text)));
    }
    html.push_str(
        "<p>Machine-readable: <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI 3.1). \
         Errors are <code>{\"error\":{\"code\",\"message\"}}</code>.</p>",
    );
    for (path, item) in &doc.paths.paths {
        for (method, op) in operations(item) {
            render_operation(&mut html, method, path, op);
        }
    }
    html.push_str("</main></body></html>");
    html
}

fn render_operation(html: &mut String, method: &str, path: &str, op: &Operation) {
    html.push_str(&format!(
        "<section><h2><code>{method} {}</code></h2>",
        escape(path)
    ));
    for text in [&op.summary, &op.description].into_iter().flatten() {
        html.push_str(&format!("<p>{}</p>", inline(text)));
    }
    if let Some(params) = op.parameters.as_ref().filter(|p| !p.is_empty()) {
        html.push_str("<h3>Parameters</h3><ul>");
        for p in params {
            let about = p.description.as_deref().unwrap_or_default();
            let place = match p.parameter_in {
                ParameterIn::Path => "path",
                ParameterIn::Query => "query",
                ParameterIn::Header => "header",
                ParameterIn::Cookie => "cookie",
            };
            html.push_str(&format!(
                "<li><code>{}</code> ({place}): {}</li>",
                escape(&p.name),
                escape(about)
            ));
        }
        html.push_str("</ul>");
    }
    if let Some(body) = &op.request_body {
        let kinds: Vec<&str> = body.content.keys().map(String::as_str).collect();
        let about = body.description.as_deref().unwrap_or_default();
        html.push_str(&format!(
            "<h3>Body</h3><p><code>{}</code> {}</p>",
            escape(&kinds.join(", ")),
            inline(about)
        ));
    }
    html.push_str("<h3>Answers</h3><ul>");
    for (status, answer) in &op.responses.responses {
        let about = match answer {
            utoipa::openapi::RefOr::T(r) => r.description.clone(),
            utoipa::openapi::RefOr::Ref(r) => r.ref_location.clone(),
        };
        html.push_str(&format!(
            "<li><code>{}</code> {}</li>",
            escape(status),
            inline(&about)
        ));
    }
    html.push_str("</ul></section>");
}

/// Escaped text whose `backticked` parts are set as code.
fn inline(text: &str) -> String {
    escape(text)
        .split('`')
        .enumerate()
        .map(|(i, part)| match i % 2 {
            1 => format!("<code>{part}</code>"),
            _ => part.to_string(),
        })
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
