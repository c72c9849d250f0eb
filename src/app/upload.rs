//! Sends a `<form>` as multipart to a JSON route (file uploads), with the API's error shape.

use crate::error::AppError;
use serde::de::DeserializeOwned;

#[cfg(feature = "hydrate")]
pub async fn post_form<T: DeserializeOwned>(
    url: &str,
    form: &web_sys::HtmlFormElement,
) -> Result<T, AppError> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    let offline =
        || AppError::unavailable("The upload did not reach the server. Check your connection.");
    let data = web_sys::FormData::new_with_form(form).map_err(|_| offline())?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&data);
    let window = web_sys::window().ok_or_else(offline)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_str_and_init(url, &init))
        .await
        .map_err(|_| offline())?
        .dyn_into()
        .map_err(|_| offline())?;
    let text = JsFuture::from(response.text().map_err(|_| offline())?)
        .await
        .map_err(|_| offline())?
        .as_string()
        .unwrap_or_default();
    decode(response.status(), &text)
}

/// Reads a JSON answer: the value on success, the `{"error":{…}}` otherwise.
pub fn decode<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, AppError> {
    if (200..300).contains(&status) {
        return serde_json::from_str(body).map_err(|_| {
            AppError::new(502, "bad_answer", "The server's answer could not be read.")
        });
    }
    #[derive(serde::Deserialize)]
    struct Envelope {
        error: Detail,
    }
    #[derive(serde::Deserialize)]
    struct Detail {
        code: String,
        message: String,
    }
    match serde_json::from_str::<Envelope>(body) {
        Ok(e) => Err(AppError::new(status, &e.error.code, e.error.message)),
        Err(_) => Err(AppError::new(
            status,
            "http_error",
            format!("The server answered {status}."),
        )),
    }
}
