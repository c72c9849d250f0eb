//! The account page: who you are, your credits, personal API tokens.

use crate::app::components::notice::ErrorNotice;
use crate::app::components::require_login::RequireLogin;
use crate::app::session::use_session;
use crate::server_fns::auth::CreateApiToken;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    let session = use_session();
    let create_token = ServerAction::<CreateApiToken>::new();
    view! {
        <Title text="Account"/>
        <RequireLogin>
            <section class="card">
                <h1>"Account"</h1>
                {move || session.user().map(|user| view! {
                    <dl class="facts">
                        <dt>"Email"</dt><dd data-testid="account-email">{user.email}</dd>
                        <dt>"Credits"</dt><dd>{user.credits}</dd>
                    </dl>
                })}
            </section>
            <section class="card">
                <h2>"API tokens"</h2>
                <p class="muted">
                    "Scripts can call the JSON API with "<code>"Authorization: Bearer <token>"</code>"."
                </p>
                <ActionForm action=create_token attr:class="row-form">
                    <input type="text" name="name" placeholder="Token name" maxlength="100" required/>
                    <button type="submit">"Create token"</button>
                </ActionForm>
                <ErrorNotice result=create_token.value()/>
                {move || create_token.value().get().and_then(Result::ok).map(|token| view! {
                    <p class="notice">"Copy it now; it is not shown again:"</p>
                    <code class="secret" data-testid="new-token">{token}</code>
                })}
            </section>
        </RequireLogin>
    }
}
