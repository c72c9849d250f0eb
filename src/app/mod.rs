//! The Leptos UI: rendered on the server, hydrated in the browser.

pub mod components;
pub mod live;
pub mod loaded;
pub mod pages;
#[cfg(feature = "hydrate")]
pub mod preflight;
pub mod session;
pub mod upload;

use components::header::Header;
use components::notice::FormPostError;
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
    credits::CreditsPage,
    not_found::NotFound,
    presets::PresetsPage,
};

/// Where pages load this build's scripts and style from (e.g. `/_v/3f2a…`): URLs whose
/// content never changes, so browsers cache them for good. Provided by the server.
#[derive(Debug, Clone, Default)]
pub struct AssetRoot(pub String);

/// The HTML document around the app (server side only).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server::guard::headers::adopt_nonce();
    let root = use_context::<AssetRoot>().unwrap_or_default().0;
    let style = format!("{root}/pkg/avatar-studio.css");
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options root/>
                <link rel="stylesheet" id="leptos" href=style/>
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
    #[cfg(feature = "ssr")]
    if let Some(pages) = use_context::<crate::server::pages::PagesInMemory>() {
        pages.count_this_page();
    }
    session::provide_session();
    live::provide_live_updates();
    components::confirm::provide_scripted();
    // Async: the server waits for the session before sending, so hydration changes nothing visible.
    let ssr = SsrMode::Async;
    view! {
        <Title formatter=|page: String| format!("{page} · Avatar Studio")/>
        <Router>
            <Header/>
            <main class="page">
                <FormPostError/>
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=CanvasPage ssr=ssr.clone()/>
                    <Route path=path!("/characters") view=CharactersPage ssr=ssr.clone()/>
                    <Route path=path!("/characters/:id") view=CharacterPage ssr=ssr.clone()/>
                    <Route path=path!("/account") view=AccountPage ssr=ssr.clone()/>
                    <Route path=path!("/account/credits") view=CreditsPage ssr=ssr.clone()/>
                    <Route path=path!("/presets") view=PresetsPage ssr=ssr.clone()/>
                    <Route path=path!("/login") view=LoginPage ssr=ssr.clone()/>
                    <Route path=path!("/signup") view=SignupPage ssr=ssr/>
                </Routes>
            </main>
        </Router>
    }
}
