//! The training pre-flight in the browser: the file is judged from what the browser reads of
//! it (an image's size, a video's metadata) before it is sent, so a wrong 200 MB clip is turned
//! down at once rather than after its upload. The server judges again by the same rules
//! (`crate::training_media`); whatever the browser cannot read is left to it.

use crate::error::AppError;
use crate::training_media::{judge, Probe, NOT_MP4};
use wasm_bindgen::JsCast;
use web_sys::{File, HtmlFormElement, HtmlImageElement, HtmlInputElement, HtmlVideoElement, Url};

/// `Err` (the server's own sentence) when the form's `file` cannot train an avatar.
pub async fn check_form(form: &HtmlFormElement) -> Result<(), AppError> {
    let Some(file) = chosen_file(form) else {
        return Ok(());
    };
    let kind = file.type_();
    let probe = if kind.starts_with("image/") {
        probe_image(&file).await
    } else if kind == "video/webm" {
        return Err(unsuitable(NOT_MP4.to_string()));
    } else if kind.starts_with("video/") {
        probe_video(&file).await
    } else {
        None
    };
    match probe.map(judge) {
        Some(Err(sentence)) => Err(unsuitable(sentence)),
        _ => Ok(()),
    }
}

fn unsuitable(sentence: String) -> AppError {
    AppError::bad_request("unsuitable_for_training", sentence)
}

fn chosen_file(form: &HtmlFormElement) -> Option<File> {
    let input = form.query_selector("input[name=file]").ok()??;
    input.dyn_into::<HtmlInputElement>().ok()?.files()?.get(0)
}

async fn probe_image(file: &File) -> Option<Probe> {
    let image = HtmlImageElement::new().ok()?;
    let loaded = with_object_url(file, |url| {
        image.set_src(url);
        wait_for(&image, "load")
    })
    .await;
    loaded.then(|| Probe::Image {
        width: image.natural_width(),
        height: image.natural_height(),
    })
}

async fn probe_video(file: &File) -> Option<Probe> {
    let video: HtmlVideoElement = web_sys::window()?
        .document()?
        .create_element("video")
        .ok()?
        .dyn_into()
        .ok()?;
    video.set_preload("metadata");
    let loaded = with_object_url(file, |url| {
        video.set_src(url);
        wait_for(&video, "loadedmetadata")
    })
    .await;
    let seconds = video.duration();
    (loaded && seconds.is_finite()).then(|| Probe::Video {
        width: video.video_width(),
        height: video.video_height(),
        seconds,
    })
}

/// Runs `read` on a temporary URL of the file, released afterwards; `true` when it loaded.
async fn with_object_url<F>(file: &File, read: impl FnOnce(&str) -> F) -> bool
where
    F: std::future::Future<Output = bool>,
{
    let Ok(url) = Url::create_object_url_with_blob(file) else {
        return false;
    };
    let loaded = read(&url).await;
    let _ = Url::revoke_object_url(&url);
    loaded
}

/// How long the browser may take to read a file's header before the server is left to judge.
const READ_TIMEOUT_MS: i32 = 5_000;

/// Waits for the element's `event` (`true`), or its `error` or the timeout (`false`): a file
/// the browser cannot read must never hold its upload back.
async fn wait_for(element: &web_sys::EventTarget, event: &str) -> bool {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        let _ = element.add_event_listener_with_callback(event, &resolve);
        let _ = element.add_event_listener_with_callback("error", &reject);
        if let Some(window) = web_sys::window() {
            let _ = window
                .set_timeout_with_callback_and_timeout_and_arguments_0(&reject, READ_TIMEOUT_MS);
        }
    });
    wasm_bindgen_futures::JsFuture::from(promise).await.is_ok()
}
