//! The presets page (`/presets`): save a trained character's defaults under a name, and start
//! a new character (`/characters?preset=…`) or a canvas generation (`/?preset=…`) from one.

use crate::account_types::Preset;
use crate::app::components::actions::{own_result, succeeded};
use crate::app::components::notice::ErrorNotice;
use crate::app::components::require_login::RequireLogin;
use crate::app::components::voice_picker::{provide_voices, VoicePicker};
use crate::app::loaded::{load, when_loaded};
use crate::app::pages::canvas::PickerSearch;
use crate::models::Character;
use crate::server_fns::account::{list_presets, DeletePreset, SavePreset};
use crate::server_fns::characters::picker_characters;
use leptos::prelude::*;
use leptos_meta::Title;

const ASPECT_RATIOS: [&str; 5] = ["16:9", "1:1", "9:16", "4:3", "3:4"];

#[component]
pub fn PresetsPage() -> impl IntoView {
    view! {
        <Title text="Presets"/>
        <RequireLogin>
            <Presets/>
        </RequireLogin>
    }
}

#[component]
fn Presets() -> impl IntoView {
    let save = ServerAction::<SavePreset>::new();
    let delete = ServerAction::<DeletePreset>::new();
    let presets = load(
        move || (save.version().get(), delete.version().get()),
        |_| list_presets(),
    );
    provide_voices();
    // A page of trained characters (a user may have thousands); the search finds the others.
    let search = RwSignal::new(String::new());
    let characters = load(move || search.get(), |q| picker_characters(q, vec![], true));
    view! {
        <section class="card">
            <h1>"Presets"</h1>
            <p class="muted">"A preset keeps a trained character's look and your favourite settings, to start a new character or a canvas generation from."</p>
            <PickerSearch search/>
            <Transition fallback=|| view! { <p class="muted">"Loading characters…"</p> }>
                {when_loaded(characters, move |answer| match answer {
                    Ok(page) => {
                        let trained: Vec<Character> = page.items;
                        if trained.is_empty() && search.with(String::is_empty) {
                            view! { <p class="muted" data-testid="no-trained">"Train a character first: presets are saved from trained characters."</p> }.into_any()
                        } else {
                            view! { <SaveForm trained save/> }.into_any()
                        }
                    }
                    Err(err) => view! { <p class="error" role="alert">{err.message}</p> }.into_any(),
                })}
            </Transition>
            <ErrorNotice result=own_result(save)/>
            {move || succeeded(save).then(|| view! { <p class="notice" role="status">"Preset saved."</p> })}
        </section>
        <section class="card">
            <h2>"Your presets"</h2>
            <ErrorNotice result=own_result(delete)/>
            <Transition fallback=|| view! { <p class="muted">"Loading presets…"</p> }>
                {when_loaded(presets, move |answer| match answer {
                    Ok(list) if list.is_empty() => view! { <p class="muted">"No presets yet."</p> }.into_any(),
                    Ok(list) => view! {
                        <ul class="preset-list" data-testid="presets">
                            {list.into_iter().map(|p| preset_item(p, delete)).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.message}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn SaveForm(trained: Vec<Character>, save: ServerAction<SavePreset>) -> impl IntoView {
    view! {
        <ActionForm action=save attr:class="stack-form" attr:data-testid="save-preset">
            <label>"Character"
                <select name="character_id" required>
                    {trained.into_iter().map(|c| view! { <option value=c.id>{c.name}</option> }).collect_view()}
                </select>
            </label>
            <label>"Preset name"<input type="text" name="name" maxlength="60" required placeholder="Mira, rooftop noir"/></label>
            <label>"Outfit (empty: the character's)"<input type="text" name="outfit_description" maxlength="500"/></label>
            <label>"Avatar model"
                <select name="model_version">
                    <option value="">"The character's"</option>
                    <option value="V2.1">"V2.1"</option>
                    <option value="V1.0">"V1.0"</option>
                </select>
            </label>
            <VoicePicker name="voice" empty="None"/>
            <label>"Aspect ratio"
                <select name="aspect_ratio">
                    <option value="">"None"</option>
                    {ASPECT_RATIOS.into_iter().map(|a| view! { <option value=a>{a}</option> }).collect_view()}
                </select>
            </label>
            <label>"Favourite motion clip (URL)"<input type="url" name="motion_clip_url" maxlength="2000" placeholder="https://…"/></label>
            <button type="submit">"Save preset"</button>
        </ActionForm>
    }
}

fn preset_item(p: Preset, delete: ServerAction<DeletePreset>) -> impl IntoView {
    let who = p
        .character_name
        .clone()
        .unwrap_or_else(|| "its character was deleted".into());
    let facts = [
        Some(format!("model {}", p.model_version)),
        (!p.outfit_description.is_empty()).then(|| format!("outfit: {}", p.outfit_description)),
        p.voice.as_ref().map(|v| format!("voice {v}")),
        p.aspect_ratio.as_ref().map(|a| format!("aspect {a}")),
        p.motion_clip_url
            .as_ref()
            .map(|_| "a motion clip".to_string()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    let canvas = p.character_id.as_ref().map(
        |_| view! { <a class="button small" href=format!("/?preset={}", p.id)>"Use on canvas"</a> },
    );
    let label = format!("Delete preset {}", p.name);
    view! {
        <li class="preset" data-testid="preset">
            <div>
                <strong>{p.name.clone()}</strong>" · "{who}
                <p class="muted small">{facts}</p>
            </div>
            <div class="card-actions">
                <a class="button small secondary" href=format!("/characters?preset={}", p.id)>"New character from this"</a>
                {canvas}
                <ActionForm action=delete attr:class="inline-form">
                    <input type="hidden" name="id" value=p.id.clone()/>
                    <button type="submit" class="link-button danger-text" aria-label=label>"Delete"</button>
                </ActionForm>
            </div>
        </li>
    }
}
