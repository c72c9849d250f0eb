//! Picking characters for a generation, each with its avatar badge. A character still training
//! asks whether to wait for its avatar or to use its image now; one whose training failed uses
//! its image, or its training can be retried from here.

use super::avatar_badge::AvatarBadge;
use super::notice::ErrorNotice;
use crate::models::{AvatarStatus, Character};
use crate::server_fns::canvas::Pick;
use crate::server_fns::characters::RetryTraining;
use leptos::prelude::*;

/// The picked characters, in picking order; `use_image` when the user chose not to wait.
pub type Picked = RwSignal<Vec<Pick>>;

/// True when a pick waits for an avatar that is still on its way (a failed one never comes).
pub fn waiting(picks: &[Pick], characters: &[Character]) -> bool {
    picks.iter().any(|p| {
        !p.use_image
            && characters.iter().any(|c| {
                c.id == p.character_id
                    && matches!(
                        c.avatar_status,
                        AvatarStatus::Pending | AvatarStatus::Training
                    )
            })
    })
}

#[component]
pub fn CharacterPicker(characters: Vec<Character>, picked: Picked) -> impl IntoView {
    if characters.is_empty() {
        return view! {
            <p class="muted">"No characters yet: "<a href="/characters">"create one"</a>" to use it here."</p>
        }
        .into_any();
    }
    view! {
        <ul class="picker" data-testid="character-picker">
            {characters.into_iter().map(|c| view! { <PickerItem character=c picked/> }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn PickerItem(character: Character, picked: Picked) -> impl IntoView {
    let id = StoredValue::new(character.id.clone());
    let trained = character.avatar_status == AvatarStatus::Completed;
    let failed = character.avatar_status == AvatarStatus::Failed;
    let retry = ServerAction::<RetryTraining>::new();
    let retrying = retry.pending();
    // `try_with_value`: `picked` is the page's and outlives this item, which a reload may drop
    // while it is still told of a change to `picked` (a plain read of a dropped value panics).
    let is_mine = move |x: &Pick| id.try_with_value(|me| x.character_id == *me) == Some(true);
    let is_picked = move || picked.with(|p| p.iter().any(is_mine));
    let uses_image = move || picked.with(|p| p.iter().any(|x| is_mine(x) && x.use_image));
    // Owned ids, not the item's `StoredValue`: a click on an item a reload is replacing may
    // reach its handler after the item was dropped, and it must still count (for the page's
    // `picked`, which outlives it) rather than panic.
    let mine = character.id.clone();
    let toggle = move |_| {
        picked.update(|p| {
            if let Some(i) = p.iter().position(|x| x.character_id == mine) {
                p.remove(i);
            } else {
                p.push(Pick {
                    character_id: mine.clone(),
                    use_image: failed,
                });
            }
        })
    };
    let set_image = move |use_image: bool| {
        picked.update(|p| {
            for x in p.iter_mut().filter(|x| is_mine(x)) {
                x.use_image = use_image;
            }
        })
    };
    let label = format!("Use {}", character.name);
    view! {
        <li class="picker-item" class:picked=is_picked data-testid="pick" data-name=character.name.clone()>
            <label class="pick-label">
                <input type="checkbox" prop:checked=is_picked on:change=toggle aria-label=label/>
                {character.image_url.clone().map(|src| view! { <img src=src alt="" class="thumb"/> })}
                <span class="pick-name">{character.name.clone()}</span>
            </label>
            <AvatarBadge character=character.clone()/>
            {failed.then(|| view! {
                <Show when=is_picked>
                    <div class="pick-choice" role="group" aria-label="Avatar training failed">
                        <small>"Its avatar training failed: its image is used."</small>
                        <button type="button" class="secondary small" disabled=retrying
                            on:click=move |_| { retry.dispatch(RetryTraining { id: id.get_value() }); }>"Retry training"</button>
                        <ErrorNotice result=retry.value()/>
                    </div>
                </Show>
            })}
            {(!trained && !failed).then(|| view! {
                <Show when=is_picked>
                    <div class="pick-choice" role="group" aria-label="Avatar not ready">
                        <small>"Its avatar is still training."</small>
                        <button type="button" class="secondary small" aria-pressed=move || (!uses_image()).to_string()
                            on:click=move |_| set_image(false)>"Wait for the avatar"</button>
                        <button type="button" class="secondary small" aria-pressed=move || uses_image().to_string()
                            on:click=move |_| set_image(true)>"Use the image now"</button>
                    </div>
                </Show>
            })}
        </li>
    }
}
