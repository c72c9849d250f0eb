//! The user's characters, each with the live state of its avatar training.

use crate::app::components::character_card::CharacterCard;
use crate::app::components::create_character::CreateCharacterPanel;
use crate::app::components::require_login::RequireLogin;
use crate::app::live::use_live_reload;
use crate::server_fns::characters::list_characters;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CharactersPage() -> impl IntoView {
    view! {
        <Title text="Characters"/>
        <RequireLogin>
            <CharactersList/>
        </RequireLogin>
    }
}

#[component]
fn CharactersList() -> impl IntoView {
    let (reload, refresh) = use_live_reload();
    let characters = Resource::new(move || reload.get(), |_| list_characters());
    view! {
        <CreateCharacterPanel on_created=refresh/>
        <section class="characters">
            <h1>"Characters"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading characters…"</p> }>
                {move || characters.get().map(|answer| match answer {
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"No characters yet. Describe one above, or upload a photo or video."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <div class="character-grid">
                            <For each=move || list.clone() key=|c| (c.id.clone(), c.updated_at) let:character>
                                <CharacterCard character on_change=refresh/>
                            </For>
                        </div>
                    }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.message}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}
