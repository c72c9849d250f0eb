//! Pages that need an account show a way in instead of their content.

use crate::app::session::use_session;
use leptos::prelude::*;
use leptos_router::components::A;

/// Decides synchronously, outside any `<Suspense>`: Leptos builds a boundary's children again
/// each time it checks them for pending loads (several times a render, more under load), and a
/// page built there made its resources and server calls again each time.
#[component]
pub fn RequireLogin(children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let welcome = || {
        view! {
            <section class="card empty-state">
                <h1>"Welcome to Avatar Studio"</h1>
                <p>"Describe a character once, and it looks the same in every scene, animation and fight."</p>
                <p>
                    <A href="/signup" attr:class="button">"Create an account"</A>
                    " or "
                    <A href="/login">"log in"</A>
                </p>
            </section>
        }
    };
    move || match session.logged_in() {
        Some(true) => children().into_any(),
        Some(false) => welcome().into_any(),
        None => ().into_any(),
    }
}
