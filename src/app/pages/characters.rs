//! The user's characters.

use crate::app::components::require_login::RequireLogin;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CharactersPage() -> impl IntoView {
    view! {
        <Title text="Characters"/>
        <RequireLogin>
            <section class="card">
                <h1>"Characters"</h1>
                <p class="muted">"You have no characters yet."</p>
            </section>
        </RequireLogin>
    }
}
