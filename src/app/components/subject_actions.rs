//! What can be made from a scene or a character: an animation, a motion transfer, a lipsync.

use super::actions::{price, succeeded};
use super::notice::ErrorNotice;
use super::voice_picker::VoicePicker;
use crate::app::loaded::Loaded;
use crate::app::upload::{UploadProgress, UploadProgressBar};
use crate::error::AppError;
use crate::models::{Generation, GenerationKind, GenerationStatus, Page};
use crate::server_fns::canvas::{Animate, Lipsync, Subject, TransferMotion};
use leptos::prelude::*;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    None,
    Animate,
    Motion,
    Lipsync,
}

/// The user's finished videos (of the newest page), newest first, as (label, URL).
fn own_videos() -> Vec<(String, String)> {
    let Some(page) = use_context::<Loaded<Result<Page<Generation>, AppError>>>()
        .and_then(|r| r.get())
        .and_then(Result::ok)
    else {
        return vec![];
    };
    page.items
        .into_iter()
        .filter(|g| g.status == GenerationStatus::Completed && g.kind() != GenerationKind::Scene)
        .flat_map(|g| {
            let label = super::generation_card::kind_label(g.kind());
            g.result_urls
                .into_iter()
                .enumerate()
                .map(move |(i, url)| (format!("{label} {}", i + 1), url))
        })
        .collect()
}

#[component]
pub fn SubjectActions(subject: Subject, #[prop(into)] on_created: Callback<()>) -> impl IntoView {
    let mode = RwSignal::new(Mode::None);
    let subject = StoredValue::new(subject);
    let animate = ServerAction::<Animate>::new();
    let motion = ServerAction::<TransferMotion>::new();
    let lipsync = ServerAction::<Lipsync>::new();
    let (animating, transferring, lipsyncing) =
        (animate.pending(), motion.pending(), lipsync.pending());
    Effect::new(move |_| {
        if succeeded(animate) || succeeded(motion) || succeeded(lipsync) {
            mode.set(Mode::None);
            on_created.run(());
        }
    });
    let toggle = move |m: Mode, label: &'static str| {
        view! {
            <button type="button" class="secondary small" aria-pressed=move || (mode.get() == m).to_string()
                on:click=move |_| mode.update(|now| *now = if *now == m { Mode::None } else { m })>{label}</button>
        }
    };
    let (prompt, duration) = (RwSignal::new(String::new()), RwSignal::new(5u32));
    // Each action keeps its own inputs: a driving video is never sent as lipsync audio.
    let (video_url, speech) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let (audio_url, voice) = (RwSignal::new(String::new()), RwSignal::new(String::new()));
    let uploading = RwSignal::new(None::<Result<String, AppError>>);
    view! {
        <div class="subject-actions">
            <div class="row-form">
                {toggle(Mode::Animate, "Animate")}
                {toggle(Mode::Motion, "Motion transfer")}
                {toggle(Mode::Lipsync, "Lipsync")}
            </div>
            <Show when=move || mode.get() == Mode::Animate>
                <div class="action-form">
                    <label>"What happens"<input type="text" maxlength="2000" placeholder="turns to the camera and smiles"
                        prop:value=prompt on:input=move |ev| prompt.set(event_target_value(&ev))/></label>
                    <label>"Length"
                        <select on:change=move |ev| duration.set(event_target_value(&ev).parse().unwrap_or(5))>
                            <option value="5">"5 s"</option><option value="10">"10 s"</option>
                            <option value="15">"15 s"</option><option value="20">"20 s"</option>
                        </select>
                    </label>
                    <button type="button" disabled=animating
                        on:click=move |_| { animate.dispatch(Animate { subject: subject.get_value(), prompt: prompt.get(), duration: duration.get() }); }>
                        {move || format!("Animate ({} credits)", price(|p| p.image_to_video))}
                    </button>
                    <ErrorNotice result=animate.value()/>
                </div>
            </Show>
            <Show when=move || mode.get() == Mode::Motion>
                <div class="action-form">
                    <UploadField label="Driving video (upload)" accept="video/mp4,video/webm,video/quicktime" target=video_url status=uploading/>
                    <label>"…or one of your videos"
                        <select on:change=move |ev| video_url.set(event_target_value(&ev))>
                            <option value="">"Choose…"</option>
                            {move || own_videos().into_iter().map(|(label, url)| view! { <option value=url>{label}</option> }).collect_view()}
                        </select>
                    </label>
                    <label>"…or its URL"<input type="url" placeholder="https://…/dance.mp4"
                        prop:value=video_url on:input=move |ev| video_url.set(event_target_value(&ev))/></label>
                    <button type="button" disabled=move || transferring.get() || video_url.get().is_empty()
                        on:click=move |_| { motion.dispatch(TransferMotion { subject: subject.get_value(), video_url: video_url.get(), prompt: String::new() }); }>
                        {move || format!("Transfer motion ({} credits)", price(|p| p.motion_transfer))}
                    </button>
                    <ErrorNotice result=motion.value()/>
                </div>
            </Show>
            <Show when=move || mode.get() == Mode::Lipsync>
                <div class="action-form">
                    <label>"Text to speak"<textarea rows="2" maxlength="1000" prop:value=speech
                        on:input=move |ev| speech.set(event_target_value(&ev))></textarea></label>
                    <VoicePicker voice=voice name="voice" empty="A2E's first voice"/>
                    <UploadField label="…or upload audio" accept="audio/*" target=audio_url status=uploading/>
                    {move || (!audio_url.get().is_empty()).then(|| view! {
                        <p class="muted small" data-testid="audio-chosen">"Audio uploaded: it is used when the text is empty."</p>
                    })}
                    <button type="button" disabled=lipsyncing
                        on:click=move |_| {
                            let text = Some(speech.get()).filter(|t| !t.trim().is_empty());
                            let audio_url = if text.is_none() { Some(audio_url.get()).filter(|u| !u.is_empty()) } else { None };
                            let voice = Some(voice.get()).filter(|v| !v.is_empty() && text.is_some());
                            lipsync.dispatch(Lipsync { subject: subject.get_value(), text, audio_url, voice });
                        }>
                        {move || format!("Make it speak ({} credits)", price(|p| p.lipsync))}
                    </button>
                    <ErrorNotice result=lipsync.value()/>
                </div>
            </Show>
            <ErrorNotice result=uploading/>
        </div>
    }
}

/// A file input that uploads at once to the media store and puts the stored URL in `target`.
#[component]
fn UploadField(
    label: &'static str,
    accept: &'static str,
    target: RwSignal<String>,
    status: RwSignal<Option<Result<String, AppError>>>,
) -> impl IntoView {
    let progress: UploadProgress = RwSignal::new(None);
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
                .and_then(|input| input.closest("form").ok().flatten())
                .and_then(|f| f.dyn_into::<web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            leptos::task::spawn_local(async move {
                #[derive(serde::Deserialize)]
                struct Stored {
                    url: String,
                }
                let answer = crate::app::upload::post_form::<Stored>("/api/media", &form, progress)
                    .await
                    .map(|s| s.url);
                if let Ok(url) = &answer {
                    target.set(url.clone());
                }
                status.set(Some(answer));
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (ev, target, status);
    };
    view! {
        <form class="upload-field" on:submit=|ev| ev.prevent_default()>
            <label>{label}<input type="file" name="file" accept=accept on:change=on_change/></label>
            <UploadProgressBar progress/>
        </form>
    }
}
