//! Choosing a voice from A2E's list (lipsync text, presets).

use crate::app::loaded::{load, Loaded};
use crate::server_fns::canvas::list_voices;
use leptos::prelude::*;

/// A2E's voices, loaded once for a page. A page that shows a picker only once other data has
/// loaded (inside a `<Transition>`) provides it at its top ([`provide_voices`]): a resource made
/// that late is not matched with the server's answer while hydrating, and hydration fails.
#[derive(Clone, Copy)]
pub struct Voices(Loaded<Result<Vec<crate::models::Voice>, crate::error::AppError>>);

pub fn provide_voices() {
    provide_context(Voices(load(|| (), |_| list_voices())));
}

/// A `<select>` of A2E's voices named `name` (for forms), its first option `empty` (value "":
/// the server's default); `voice` follows the choice when given.
#[component]
pub fn VoicePicker(
    name: &'static str,
    empty: &'static str,
    #[prop(optional)] voice: Option<RwSignal<String>>,
) -> impl IntoView {
    let voices = match use_context::<Voices>() {
        Some(Voices(voices)) => voices,
        None => load(|| (), |_| list_voices()),
    };
    let options = move || {
        voices.get().map(|answer| match answer {
            Ok(list) => list
                .into_iter()
                .map(|v| {
                    let label = match v.group.is_empty() {
                        true => v.name,
                        false => format!("{} · {}", v.name, v.group),
                    };
                    view! { <option value=v.id>{label}</option> }
                })
                .collect_view()
                .into_any(),
            Err(_) => {
                view! { <option value="" disabled=true>"A2E's voices could not be loaded"</option> }
                    .into_any()
            }
        })
    };
    view! {
        <label>"Voice"
            <select name=name data-testid="voice"
                on:change=move |ev| if let Some(voice) = voice { voice.set(event_target_value(&ev)) }>
                <option value="">{empty}</option>
                <Suspense fallback=|| ()>{options}</Suspense>
            </select>
        </label>
    }
}
