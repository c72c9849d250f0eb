//! One character: portrait, name, avatar badge, and its actions.

use super::actions::{own_result, succeeded};
use super::avatar_badge::AvatarBadge;
use super::confirm::{close_on_success, ConfirmStep, Step};
use super::notice::ErrorNotice;
use crate::models::{AvatarStatus, Character, TrainingKind, CONTINUE_TRAINING_COST};
use crate::server_fns::characters::{ContinueTraining, DeleteCharacter, RetryTraining};
use crate::server_fns::library::EditCharacter;
use leptos::prelude::*;
use leptos_router::components::A;
use std::collections::HashSet;

/// A character's card. With `selection`, it has a checkbox for bulk actions.
#[component]
pub fn CharacterCard(
    character: Character,
    #[prop(into)] on_change: Callback<()>,
    #[prop(optional)] selection: Option<RwSignal<HashSet<String>>>,
) -> impl IntoView {
    // The confirmation steps, each open or not (closed again once its action succeeded).
    let confirm_continue = Step::new(format!("continue:{}", character.id));
    let confirm_delete = Step::new(format!("delete:{}", character.id));
    let continue_action = ServerAction::<ContinueTraining>::new();
    let retry_action = ServerAction::<RetryTraining>::new();
    let delete_action = ServerAction::<DeleteCharacter>::new();
    close_on_success(
        [&confirm_continue, &confirm_delete],
        move || succeeded(continue_action) || succeeded(retry_action) || succeeded(delete_action),
        on_change,
    );
    let id = StoredValue::new(character.id.clone());
    let name = character.name.clone();
    let can_continue = character.avatar_status == AvatarStatus::Completed;
    let can_retry = character.avatar_status == AvatarStatus::Failed;
    // One memo per action, made here: `pending()` makes a new memo on every call.
    let pending = [
        continue_action.pending(),
        retry_action.pending(),
        delete_action.pending(),
    ];
    let busy = move || pending.iter().any(|p| p.get());
    let href = format!("/characters/{}", character.id);
    let title = character.name.clone();
    let select = selection.map(|selected| {
        let label = format!("Select {}", character.name);
        // Owned ids, not the card's `StoredValue`: the page's selection outlives the card, and a
        // card dropped on a reload may still be told of a change to it before its view goes.
        let (shown, toggled) = (character.id.clone(), character.id.clone());
        view! {
            <label class="select-box">
                <input type="checkbox" aria-label=label data-testid="select"
                    prop:checked=move || selected.with(|s| s.contains(&shown))
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        selected.update(|s| { if on { s.insert(toggled.clone()); } else { s.remove(&toggled); } });
                    }/>
            </label>
        }
    });
    view! {
        <article class="character-card card" data-testid="character-card" data-character-id=character.id.clone()>
            {select}
            <Likeness character=character.clone()/>
            <div class="card-body">
                <h3><A href=href>{title}</A></h3>
                <Meta character=character.clone()/>
                <TagEditor character=character.clone() on_change=on_change/>
                {(!character.outfit_description.is_empty()).then(|| view! {
                    <p class="muted small">{format!("Outfit: {}", character.outfit_description)}</p>
                })}
                {(character.training_kind == TrainingKind::Video).then(|| view! {
                    <p class="muted small">"Trained from video"</p>
                })}
                <AvatarBadge character=character.clone()/>
                // Real forms posting the server functions: with the script they run as actions
                // (no reload); before it loads, the browser posts them and comes back here.
                <div class="card-actions">
                    {can_continue.then(|| view! {
                        <ConfirmStep ask="Continue training" class="button secondary" testid="continue-training"
                            label="Confirm continue training" keep="Cancel" open=confirm_continue>
                            <p>{format!("Continue training costs {CONTINUE_TRAINING_COST} credits and takes about 30 more minutes.")}</p>
                            <ActionForm action=continue_action attr:class="inline-form">
                                <input type="hidden" name="id" value=id.get_value()/>
                                <button type="submit" disabled=busy>{format!("Spend {CONTINUE_TRAINING_COST} credits")}</button>
                            </ActionForm>
                        </ConfirmStep>
                    })}
                    {can_retry.then(|| view! {
                        <ActionForm action=retry_action attr:class="inline-form">
                            <input type="hidden" name="id" value=id.get_value()/>
                            <button type="submit" class="secondary" disabled=busy>"Retry training"</button>
                        </ActionForm>
                    })}
                    <ConfirmStep ask="Delete" class="link-button danger-text" testid="delete-character"
                        label="Confirm delete" keep="Cancel" open=confirm_delete>
                        <p>{format!("Delete {name}? Its avatar at A2E is removed too.")}</p>
                        <ActionForm action=delete_action attr:class="inline-form">
                            <input type="hidden" name="id" value=id.get_value()/>
                            <button type="submit" class="danger" disabled=busy>"Delete for good"</button>
                        </ActionForm>
                    </ConfirmStep>
                </div>
                <ErrorNotice result=own_result(continue_action)/>
                <ErrorNotice result=own_result(retry_action)/>
                <ErrorNotice result=own_result(delete_action)/>
            </div>
        </article>
    }
}

/// Model version, what the avatar is trained from, whether it was continued, times used.
#[component]
fn Meta(character: Character) -> impl IntoView {
    let kind = match character.training_kind {
        TrainingKind::Image => "image training",
        TrainingKind::Video => "video training",
    };
    let continued = if character.continued {
        " · continued"
    } else {
        ""
    };
    let used = match character.times_used {
        0 => "never used".to_string(),
        1 => "used once".to_string(),
        n => format!("used {n}×"),
    };
    view! {
        <p class="muted small" data-testid="card-meta">
            {format!("Model {} · {kind}{continued} · {used}", character.model_version)}
        </p>
    }
}

/// The tags, and editing them in place (comma-separated).
#[component]
fn TagEditor(character: Character, on_change: Callback<()>) -> impl IntoView {
    let editing = RwSignal::new(false);
    let text = RwSignal::new(character.tags.join(", "));
    let save = ServerAction::<EditCharacter>::new();
    let saving = save.pending();
    Effect::new(move |_| {
        if succeeded(save) {
            editing.set(false);
            on_change.run(());
        }
    });
    let id = StoredValue::new(character.id.clone());
    let tags = character.tags.clone();
    let label = format!("Tags of {}", character.name);
    let submit = move || {
        let tags = text
            .get()
            .split(',')
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        save.dispatch(EditCharacter {
            id: id.get_value(),
            name: None,
            tags: Some(tags),
            outfit_description: None,
        });
    };
    view! {
        <div class="tags" data-testid="tags">
            <Show when=move || !editing.get() fallback=move || view! {
                <form class="tag-form" on:submit=move |ev| { ev.prevent_default(); submit(); }>
                    <input type="text" aria-label=label.clone() placeholder="hero, sci-fi" maxlength="900"
                        prop:value=text on:input=move |ev| text.set(event_target_value(&ev))/>
                    <button type="submit" class="small" disabled=saving>"Save tags"</button>
                    <button type="button" class="secondary small" on:click=move |_| editing.set(false)>"Cancel"</button>
                </form>
            }>
                <ul class="tag-list">
                    {tags.iter().map(|t| view! { <li class="tag">{t.clone()}</li> }).collect_view()}
                </ul>
                <button type="button" class="link-button small" on:click=move |_| editing.set(true)>"Edit tags"</button>
            </Show>
            <ErrorNotice result=save.value()/>
        </div>
    }
}

/// The portrait; for a character made from a video, the avatar's preview or else the clip itself.
#[component]
pub fn Likeness(character: Character) -> impl IntoView {
    let alt = format!("Portrait of {}", character.name);
    match (character.image_url.or(character.preview_url), character.video_url) {
        (Some(src), _) => view! { <img class="portrait" src=src alt=alt loading="lazy"/> }.into_any(),
        (None, Some(src)) => view! {
            <video class="portrait" src=src aria-label=alt muted loop playsinline controls preload="metadata"></video>
        }
        .into_any(),
        (None, None) => view! {
            <div class="portrait placeholder" role="img" aria-label=alt>"Drawing the portrait…"</div>
        }
        .into_any(),
    }
}
