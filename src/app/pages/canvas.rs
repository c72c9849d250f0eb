//! The canvas: where characters are put into scenes.

use crate::app::components::require_login::RequireLogin;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

#[component]
pub fn CanvasPage() -> impl IntoView {
    view! {
        <Title text="Canvas"/>
        <RequireLogin>
            <section class="card">
                <h1>"Canvas"</h1>
                <p>
                    "Scenes use your characters' trained avatars so they look the same everywhere. "
                    "Start by creating a character."
                </p>
                <A href="/characters" attr:class="button">"Go to Characters"</A>
            </section>
        </RequireLogin>
    }
}
