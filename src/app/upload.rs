//! Sends a `<form>` as multipart to a JSON route (file uploads), with the API's error shape.

use crate::error::AppError;
use serde::de::DeserializeOwned;

/// How far an upload has gone, in percent (`None`: none under way).
pub type UploadProgress = leptos::prelude::RwSignal<Option<u8>>;

/// Sends the form with XMLHttpRequest (fetch reports no upload progress), reporting progress.
#[cfg(feature = "hydrate")]
pub async fn post_form<T: DeserializeOwned>(
    url: &str,
    form: &web_sys::HtmlFormElement,
    progress: UploadProgress,
) -> Result<T, AppError> {
    use leptos::prelude::Set;
    progress.set(Some(0));
    let answer = send(url, form, progress).await;
    progress.set(None);
    let (status, text) = answer.map_err(|_| {
        AppError::unavailable("The upload did not reach the server. Check your connection.")
    })?;
    decode(status, &text)
}

#[cfg(feature = "hydrate")]
async fn send(
    url: &str,
    form: &web_sys::HtmlFormElement,
    progress: UploadProgress,
) -> Result<(u16, String), wasm_bindgen::JsValue> {
    use leptos::prelude::Set;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let data = web_sys::FormData::new_with_form(form)?;
    let xhr = web_sys::XmlHttpRequest::new()?;
    xhr.open("POST", url)?;
    let on_progress =
        Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
            if ev.length_computable() && ev.total() > 0.0 {
                progress.set(Some((ev.loaded() / ev.total() * 100.0).min(100.0) as u8));
            }
        });
    xhr.upload()?
        .set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        xhr.set_onload(Some(&resolve));
        xhr.set_onerror(Some(&reject));
        xhr.set_onabort(Some(&reject));
    });
    xhr.send_with_opt_form_data(Some(&data))?;
    wasm_bindgen_futures::JsFuture::from(done).await?;
    drop(on_progress);
    let text = xhr.response_text()?.unwrap_or_default();
    Ok((xhr.status()?, text))
}

/// The progress of an upload under way, as a bar with its percentage.
#[leptos::component]
pub fn UploadProgressBar(progress: UploadProgress) -> impl leptos::IntoView {
    use leptos::prelude::*;
    move || {
        progress.get().map(|percent| {
            view! {
                <div class="upload-progress" data-testid="upload-progress" role="status">
                    <progress max="100" value=percent aria-label="Upload progress"></progress>
                    <small class="muted">{format!("Uploading… {percent}%")}</small>
                </div>
            }
        })
    }
}

/// Reads a JSON answer: the value on success, the `{"error":{…}}` otherwise (from bytes, as
/// every JSON the browser reads: see `loaded`).
pub fn decode<T: DeserializeOwned>(status: u16, body: &str) -> Result<T, AppError> {
    if (200..300).contains(&status) {
        return serde_json::from_slice(body.as_bytes()).map_err(|_| {
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
    match serde_json::from_slice::<Envelope>(body.as_bytes()) {
        Ok(e) => Err(AppError::new(status, &e.error.code, e.error.message)),
        Err(_) => Err(AppError::new(
            status,
            "http_error",
            format!("The server answered {status}."),
        )),
    }
}
