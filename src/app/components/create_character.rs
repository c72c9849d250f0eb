//! Creating a character: from a prompt (a generated portrait), or from an uploaded image or video.

use super::actions::{own_result, succeeded};
use super::notice::ErrorNotice;
use super::preset_source::{use_preset, PresetNote};
use crate::app::upload::{UploadProgress, UploadProgressBar};
use crate::error::AppError;
use crate::models::{Character, CHARACTER_IMAGE_COST};
use crate::server_fns::characters::CreateCharacter;
use leptos::prelude::*;

#[derive(Clone, Copy, PartialEq)]
enum Source {
    Prompt,
    Image,
    Video,
}

#[component]
pub fn CreateCharacterPanel(#[prop(into)] on_created: Callback<()>) -> impl IntoView {
    let source = RwSignal::new(Source::Prompt);
    let tab = move |which: Source, label: &'static str| {
        view! {
            <button type="button" role="tab" class="tab" aria-selected=move || (source.get() == which).to_string()
                on:click=move |_| source.set(which)>{label}</button>
        }
    };
    view! {
        <section class="card create-character">
            <h2>"New character"</h2>
            <div class="tabs" role="tablist">
                {tab(Source::Prompt, "Describe")}
                {tab(Source::Image, "Upload image")}
                {tab(Source::Video, "Upload video")}
            </div>
            {move || match source.get() {
                Source::Prompt => view! { <PromptForm on_created/> }.into_any(),
                Source::Image => view! { <UploadForm video=false on_created/> }.into_any(),
                Source::Video => view! { <UploadForm video=true on_created/> }.into_any(),
            }}
        </section>
    }
}

#[component]
fn PromptForm(on_created: Callback<()>) -> impl IntoView {
    let action = ServerAction::<CreateCharacter>::new();
    let pending = action.pending();
    Effect::new(move |_| {
        if succeeded(action) {
            on_created.run(());
        }
    });
    // Opened from a preset (`?preset=`): its outfit and model version fill the form.
    let preset = use_preset();
    view! {
        <ActionForm action=action attr:class="create-form">
            <Transition fallback=|| ()>
                {move || preset.get().flatten().map(|p| view! { <PresetNote preset=p/> })}
            </Transition>
            <label>"Name"<input type="text" name="name" maxlength="100" placeholder="Captain Mira"/></label>
            <label>
                "Description"
                <textarea name="prompt" required maxlength="2000" rows="3"
                    placeholder="A confident space pilot with short silver hair and a scar over one eyebrow"></textarea>
            </label>
            <Transition fallback=|| view! { <OutfitAndModel outfit=String::new() model=String::new()/> }>
                {move || preset.get().map(|p| {
                    let (outfit, model) = p
                        .map(|p| (p.outfit_description, p.model_version))
                        .unwrap_or_default();
                    view! { <OutfitAndModel outfit model/> }
                })}
            </Transition>
            <p class="muted small">{format!("Costs {CHARACTER_IMAGE_COST} credits. Training the avatar afterwards is free and starts by itself.")}</p>
            <button type="submit" disabled=pending>
                {move || if pending.get() { "Creating portrait…" } else { "Create character" }}
            </button>
        </ActionForm>
        <ErrorNotice result=own_result(action)/>
    }
}

/// The outfit field and model choice, filled with a preset's values when there is one.
#[component]
fn OutfitAndModel(outfit: String, model: String) -> impl IntoView {
    view! {
        <label>"Outfit"<input type="text" name="outfit_description" maxlength="500" value=outfit
            placeholder="Navy flight suit with orange patches"/></label>
        <ModelVersionSelect model/>
    }
}

#[component]
fn ModelVersionSelect(#[prop(optional, into)] model: String) -> impl IntoView {
    let v1 = model == "V1.0";
    view! {
        <label>
            "Avatar model"
            <select name="model_version">
                <option value="V2.1" selected=!v1>"V2.1 (recommended)"</option>
                <option value="V1.0" selected=v1>"V1.0"</option>
            </select>
        </label>
    }
}

#[component]
fn UploadForm(video: bool, on_created: Callback<()>) -> impl IntoView {
    let result: RwSignal<Option<Result<Character, AppError>>> = RwSignal::new(None);
    let pending = RwSignal::new(false);
    let progress: UploadProgress = RwSignal::new(None);
    #[cfg(not(feature = "hydrate"))]
    let _ = on_created;
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(form) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlFormElement>().ok())
            else {
                return;
            };
            pending.set(true);
            leptos::task::spawn_local(async move {
                // Judged here first: a clip A2E cannot train from is not uploaded at all.
                if let Err(refused) = crate::app::preflight::check_form(&form).await {
                    result.set(Some(Err(refused)));
                    pending.set(false);
                    return;
                }
                let answer =
                    crate::app::upload::post_form::<Character>("/api/characters", &form, progress)
                        .await;
                if answer.is_ok() {
                    form.reset();
                    on_created.run(());
                }
                result.set(Some(answer));
                pending.set(false);
            });
        }
    };
    let (accept, hint) = if video {
        ("video/mp4,video/quicktime", "A clip of one person facing the camera: MP4 or MOV, at least 10 seconds, 360p or sharper. Video-trained avatars lip-sync best. Free.")
    } else {
        (
            "image/png,image/jpeg,image/webp",
            "A clear photo showing exactly one face, at least 256 pixels on each side. Free.",
        )
    };
    view! {
        <form class="create-form" on:submit=on_submit>
            <label>"Name"<input type="text" name="name" maxlength="100" required placeholder="Me, animated"/></label>
            <label>{if video { "Video" } else { "Image" }}<input type="file" name="file" accept=accept required/></label>
            <label>"Outfit"<input type="text" name="outfit_description" maxlength="500"/></label>
            <label>
                "Gender (helps A2E pick a voice)"
                <select name="gender">
                    <option value="">"Not set"</option>
                    <option value="female">"Female"</option>
                    <option value="male">"Male"</option>
                </select>
            </label>
            <ModelVersionSelect/>
            <p class="muted small">{hint}</p>
            <button type="submit" disabled=move || pending.get()>
                {move || if pending.get() { "Uploading…" } else { "Upload and train" }}
            </button>
            <UploadProgressBar progress/>
        </form>
        <ErrorNotice result=result/>
    }
}
