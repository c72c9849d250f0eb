//! Two smallest front ends, each the least a page of the studio needs from Leptos:
//! - fully hydrated (the studio's way): a router with two routes, data loaded by a server
//!   function in a `Suspense`, and a form posting to another server function;
//! - islands: one interactive island with a signal calling a server function; the rest of the
//!   page is HTML the browser never runs code for.
//!
//! Neither is served: `./dev bench` builds both and prints their sizes.

use leptos::prelude::*;

#[server]
pub async fn echo(text: String) -> Result<String, ServerFnError> {
    Ok(text)
}

#[cfg(not(feature = "islands"))]
mod hydrated {
    use super::*;
    use leptos_router::components::{Route, Router, Routes, A};
    use leptos_router::path;

    #[component]
    fn Home() -> impl IntoView {
        let (clicks, set_clicks) = signal(0);
        let answer = Resource::new(move || clicks.get(), |n| echo(n.to_string()));
        let send = ServerAction::<Echo>::new();
        view! {
            <button on:click=move |_| set_clicks.update(|n| *n += 1)>{clicks}</button>
            <Suspense fallback=|| "…">{move || answer.get().map(|r| format!("{r:?}"))}</Suspense>
            <ActionForm action=send>
                <input name="text"/>
                <button>"Send"</button>
            </ActionForm>
            <A href="/other">"Other"</A>
        }
    }

    #[component]
    pub fn App() -> impl IntoView {
        view! {
            <Router>
                <Routes fallback=|| "Not found">
                    <Route path=path!("") view=Home/>
                    <Route path=path!("other") view=|| "Other"/>
                </Routes>
            </Router>
        }
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    pub fn hydrate() {
        leptos::mount::hydrate_body(App);
    }
}

#[cfg(feature = "islands")]
mod islands {
    use super::*;

    #[island]
    pub fn Counter(start: i32) -> impl IntoView {
        let (clicks, set_clicks) = signal(start);
        let send = Action::new(|text: &String| echo(text.clone()));
        view! {
            <button on:click=move |_| {
                set_clicks.update(|n| *n += 1);
                send.dispatch(clicks.get().to_string());
            }>{clicks}</button>
            <p>{move || send.value().get().map(|r| format!("{r:?}"))}</p>
        }
    }

    #[wasm_bindgen::prelude::wasm_bindgen]
    pub fn hydrate() {
        leptos::mount::hydrate_islands();
    }
}
