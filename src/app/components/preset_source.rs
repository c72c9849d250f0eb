//! Starting from a preset: pages opened with `?preset=<id>` load that preset and fill their
//! forms with its values.

use crate::account_types::Preset;
use crate::app::loaded::{load, Loaded};
use crate::server_fns::account::load_preset;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

/// The preset named by the page's `?preset=` (`None` without one, or when it is not the user's).
pub fn use_preset() -> Loaded<Option<Preset>> {
    let query = use_query_map();
    let id = Memo::new(move |_| query.read().get("preset").filter(|p| !p.is_empty()));
    load(
        move || id.get(),
        |id| async move {
            match id {
                Some(id) => load_preset(id).await.ok(),
                None => None,
            }
        },
    )
}

/// "Starting from preset X", shown above a form the preset filled.
#[component]
pub fn PresetNote(preset: Preset) -> impl IntoView {
    let extras = [
        preset.voice.as_ref().map(|v| format!("voice {v}")),
        preset
            .motion_clip_url
            .as_ref()
            .map(|u| format!("motion clip {u}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    view! {
        <p class="notice small" data-testid="preset-note">
            {format!("Starting from the preset “{}”.", preset.name)}
            {(!extras.is_empty()).then(|| view! { <span class="muted">{format!(" Its favourites: {extras}.")}</span> })}
        </p>
    }
}
