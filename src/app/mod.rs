//! The Leptos UI: rendered on the server, hydrated in the browser.

pub mod components;
pub mod live;
pub mod pages;
pub mod session;
pub mod upload;

use components::header::Header;
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};
use pages::{
    account::AccountPage,
    auth::{LoginPage, SignupPage},
    canvas::CanvasPage,
    character::CharacterPage,
    characters::CharactersPage,
    not_found::NotFound,
};

/// The HTML document around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::guard::headers::adopt_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <link rel="stylesheet" id="leptos" href="/pkg/avatar-studio.css"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    session::provide_session();
    // Async: the server waits for the session before sending, so hydration changes nothing visible.
    let ssr = SsrMode::Async;
    view! {
        <Title formatter=|page: String| format!("{page} · Avatar Studio")/>
        <Router>
            <Header/>
            <main class="page">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=CanvasPage ssr=ssr.clone()/>
                    <Route path=path!("/characters") view=CharactersPage ssr=ssr.clone()/>
                    <Route path=path!("/characters/:id") view=CharacterPage ssr=ssr.clone()/>
                    <Route path=path!("/account") view=AccountPage ssr=ssr.clone()/>
                    <Route path=path!("/login") view=LoginPage ssr=ssr.clone()/>
                    <Route path=path!("/signup") view=SignupPage ssr=ssr/>
                </Routes>
            </main>
        </Router>
    }
}
