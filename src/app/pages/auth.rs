//! Log-in and sign-up pages.

use crate::app::components::actions::own_result;
use crate::app::components::notice::ErrorNotice;
use crate::app::session::{start_afresh, use_session};
use crate::server_fns::auth::{LogIn, SignUp};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// After a successful account action: the canvas, as a new page for the new session.
fn on_success<A>(action: ServerAction<A>)
where
    A: leptos::server_fn::ServerFn<Output = (), Error = crate::error::AppError>
        + Clone
        + Send
        + Sync
        + 'static,
{
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            start_afresh("/");
        }
    });
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<LogIn>::new();
    let pending = action.pending();
    on_success(action);
    view! {
        <Title text="Log in"/>
        <section class="card auth-card">
            <h1>"Log in"</h1>
            <ActionForm action=action>
                <label>"Email"<input type="email" name="email" required autocomplete="email"/></label>
                <label>"Password"<input type="password" name="password" required autocomplete="current-password"/></label>
                <button type="submit" disabled=pending>"Log in"</button>
            </ActionForm>
            <ErrorNotice result=own_result(action)/>
            <p class="muted">"No account yet? "<A href="/signup">"Sign up"</A></p>
        </section>
    }
}

#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    let pending = action.pending();
    on_success(action);
    let session = use_session();
    let closed = move || {
        session
            .info
            .get()
            .and_then(Result::ok)
            .is_some_and(|i| !i.signup_open)
    };
    view! {
        <Title text="Sign up"/>
        <section class="card auth-card">
            <h1>"Create your account"</h1>
            <Transition fallback=|| ()>
            <Show when=move || !closed() fallback=|| view! {
                <p class="notice" role="status" data-testid="signup-closed">
                    "Sign-up is closed on this studio. Ask its operator to create an account for you."
                </p>
            }>
            <ActionForm action=action>
                <label>"Email"<input type="email" name="email" required autocomplete="email"/></label>
                <label>
                    "Password"
                    <input type="password" name="password" required minlength="8" autocomplete="new-password"/>
                    <small class="muted">"At least 8 characters."</small>
                </label>
                <button type="submit" disabled=pending>"Sign up"</button>
            </ActionForm>
            </Show>
            </Transition>
            <ErrorNotice result=own_result(action)/>
            <p class="muted">"Already have an account? "<A href="/login">"Log in"</A></p>
        </section>
    }
}
