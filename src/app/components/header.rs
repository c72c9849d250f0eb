//! The top bar: name, navigation, credits and account actions, and the demo-mode notice.

use crate::app::loaded::when_loaded;
use crate::app::session::{start_afresh, use_session};
use crate::server_fns::auth::LogOut;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn Header() -> impl IntoView {
    let session = use_session();
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Avatar Studio"</a>
            <nav class="nav">
                <A href="/" exact=true>"Canvas"</A>
                <A href="/characters">"Characters"</A>
                <A href="/account">"Account"</A>
            </nav>
            <div class="account-area">
                <Transition fallback=|| view! { <span class="muted">"…"</span> }>
                    {when_loaded(session.info, move |info| {
                        match info.ok().and_then(|i| i.user) {
                            Some(user) => {
                                let loaded = user.credits;
                                view! {
                                    <span class="credits" data-testid="credits" title="Your credits">
                                        <strong>{move || session.credits_or(loaded)}</strong>" credits"
                                    </span>
                                    <span class="email muted">{user.email}</span>
                                    <LogOutButton/>
                                }.into_any()
                            }
                            None => view! {
                                <A href="/login">"Log in"</A>
                                <A href="/signup" attr:class="button small">"Sign up"</A>
                            }.into_any(),
                        }
                    })}
                </Transition>
            </div>
        </header>
        <Transition fallback=|| ()>
            {when_loaded(session.info, |info| {
                info.ok().filter(|i| i.demo_mode).map(|_| view! {
                    <p class="demo-banner" role="status">
                        "Demo mode: simulated A2E. Set A2E_API_KEY to use the real service."
                    </p>
                })
            })}
        </Transition>
    }
}

#[component]
fn LogOutButton() -> impl IntoView {
    let action = ServerAction::<LogOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            start_afresh("/login");
        }
    });
    view! {
        <ActionForm action=action attr:class="inline-form">
            <button type="submit" class="link-button">"Log out"</button>
        </ActionForm>
    }
}
