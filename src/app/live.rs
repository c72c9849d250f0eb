//! Live updates in the browser: the server-sent event stream of `/api/events`.
//!
//! One stream for the whole app, opened while someone is logged in: a stream per page would
//! close and reopen on every client-side navigation, and an event sent in between was lost.

use crate::app::session::use_session;
use leptos::prelude::*;

/// Counts the live events (and stream openings) seen since the app started.
#[derive(Clone, Copy)]
struct LiveCount(ReadSignal<u32>);

/// Opens the app's event stream for the logged-in user (again when someone else logs in).
/// Every event also fetches the header's balance again: any of them may move credits.
pub fn provide_live_updates() {
    let (count, set_count) = signal(0u32);
    provide_context(LiveCount(count));
    #[cfg(feature = "hydrate")]
    {
        let session = use_session();
        let user_id = Memo::new(move |_| session.user().map(|user| user.id));
        Effect::new(move |_| {
            if user_id.get().is_some() {
                subscribe(set_count, session);
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = set_count;
}

/// What a page's resources reload on: every live event, and every `refresh` after the user's
/// own actions (which may move credits too).
pub fn use_live_reload() -> (Signal<(u32, u32)>, Callback<()>) {
    let session = use_session();
    let live = expect_context::<LiveCount>().0;
    let reloads = RwSignal::new(0u32);
    let refresh = Callback::new(move |_| {
        reloads.update(|n| *n += 1);
        session.refresh_credits();
    });
    (Signal::derive(move || (live.get(), reloads.get())), refresh)
}

#[cfg(feature = "hydrate")]
fn subscribe(set_count: WriteSignal<u32>, session: crate::app::session::SessionCtx) {
    use send_wrapper::SendWrapper;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let Ok(source) = web_sys::EventSource::new("/api/events") else {
        return;
    };
    let on_event = Closure::<dyn Fn(web_sys::Event)>::new(move |_| {
        set_count.update(|n| *n += 1);
        session.refresh_credits();
    });
    // `open` counts too: events sent before the stream (re)opened, while the page was rendered
    // and hydrated or the connection was down, were missed, so what is shown is reloaded.
    // `resync`: the server may have dropped some of this user's events (see `LiveEvent::resync`).
    for kind in ["open", "character", "generation", "credits", "resync"] {
        let _ = source.add_event_listener_with_callback(kind, on_event.as_ref().unchecked_ref());
    }
    let guard = SendWrapper::new((source, on_event));
    on_cleanup(move || guard.0.close());
}
