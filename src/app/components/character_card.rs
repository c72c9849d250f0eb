//! One character: portrait, name, avatar badge, and its actions.

use super::actions::succeeded;
use super::avatar_badge::AvatarBadge;
use super::notice::ErrorNotice;
use crate::models::{AvatarStatus, Character, TrainingKind, CONTINUE_TRAINING_COST};
use crate::server_fns::characters::{ContinueTraining, DeleteCharacter, RetryTraining};
use leptos::prelude::*;

/// Which confirmation, if any, the card is asking for.
#[derive(Clone, Copy, PartialEq)]
enum Confirm {
    None,
    Continue,
    Delete,
}

#[component]
pub fn CharacterCard(character: Character, #[prop(into)] on_change: Callback<()>) -> impl IntoView {
    let confirm = RwSignal::new(Confirm::None);
    let continue_action = ServerAction::<ContinueTraining>::new();
    let retry_action = ServerAction::<RetryTraining>::new();
    let delete_action = ServerAction::<DeleteCharacter>::new();
    Effect::new(move |_| {
        if succeeded(continue_action) || succeeded(retry_action) || succeeded(delete_action) {
            confirm.set(Confirm::None);
            on_change.run(());
        }
    });
    let id = StoredValue::new(character.id.clone());
    let name = character.name.clone();
    let can_continue = character.avatar_status == AvatarStatus::Completed;
    let can_retry = character.avatar_status == AvatarStatus::Failed;
    let busy = move || {
        continue_action.pending().get()
            || retry_action.pending().get()
            || delete_action.pending().get()
    };
    view! {
        <article class="character-card card" data-testid="character-card" data-character-id=character.id.clone()>
            <Likeness character=character.clone()/>
            <div class="card-body">
                <h3>{character.name.clone()}</h3>
                {(!character.outfit_description.is_empty()).then(|| view! {
                    <p class="muted small">{format!("Outfit: {}", character.outfit_description)}</p>
                })}
                {(character.training_kind == TrainingKind::Video).then(|| view! {
                    <p class="muted small">"Trained from video"</p>
                })}
                <AvatarBadge character=character.clone()/>
                <div class="card-actions">
                    {can_continue.then(|| view! {
                        <button class="secondary" on:click=move |_| confirm.set(Confirm::Continue) disabled=busy>
                            "Continue training"
                        </button>
                    })}
                    {can_retry.then(|| view! {
                        <button class="secondary" disabled=busy
                            on:click=move |_| { retry_action.dispatch(RetryTraining { id: id.get_value() }); }>
                            "Retry training"
                        </button>
                    })}
                    <button class="link-button danger-text" on:click=move |_| confirm.set(Confirm::Delete) disabled=busy>
                        "Delete"
                    </button>
                </div>
                <Show when=move || confirm.get() == Confirm::Continue>
                    <div class="confirm" role="dialog" aria-label="Confirm continue training">
                        <p>{format!("Continue training costs {CONTINUE_TRAINING_COST} credits and takes about 30 more minutes.")}</p>
                        <button disabled=busy
                            on:click=move |_| { continue_action.dispatch(ContinueTraining { id: id.get_value() }); }>
                            {format!("Spend {CONTINUE_TRAINING_COST} credits")}
                        </button>
                        <button class="secondary" on:click=move |_| confirm.set(Confirm::None)>"Cancel"</button>
                    </div>
                </Show>
                <Show when=move || confirm.get() == Confirm::Delete>
                    <div class="confirm" role="dialog" aria-label="Confirm delete">
                        <p>{format!("Delete {name}? Its avatar at A2E is removed too.")}</p>
                        <button class="danger" disabled=busy
                            on:click=move |_| { delete_action.dispatch(DeleteCharacter { id: id.get_value() }); }>
                            "Delete for good"
                        </button>
                        <button class="secondary" on:click=move |_| confirm.set(Confirm::None)>"Cancel"</button>
                    </div>
                </Show>
                <ErrorNotice result=continue_action.value()/>
                <ErrorNotice result=retry_action.value()/>
                <ErrorNotice result=delete_action.value()/>
            </div>
        </article>
    }
}

/// The portrait; for a character made from a video, the avatar's preview or else the clip itself.
#[component]
fn Likeness(character: Character) -> impl IntoView {
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
