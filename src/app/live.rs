//! Live updates in the browser: the server-sent event stream of `/api/events`.

use leptos::prelude::*;

/// What a page's resources reload on: every live event, and every `refresh` after the user's
/// own actions. Both may move credits, so the header's balance is fetched again with them.
pub fn use_live_reload() -> (Signal<(u32, u32)>, Callback<()>) {
    let session = crate::app::session::use_session();
    let live = use_live_updates();
    let reloads = RwSignal::new(0u32);
    let refresh = Callback::new(move |_| {
        reloads.update(|n| *n += 1);
        session.refresh_credits();
    });
    Effect::new(move |previous: Option<u32>| {
        let now = live.get();
        if previous.is_some_and(|p| p != now) {
            session.refresh_credits();
        }
        now
    });
    (Signal::derive(move || (live.get(), reloads.get())), refresh)
}

/// Counts the live events received while the calling component is mounted; resources that
/// read it reload on every change of the user's characters, generations or credits.
pub fn use_live_updates() -> ReadSignal<u32> {
    let (count, set_count) = signal(0u32);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| subscribe(set_count));
    #[cfg(not(feature = "hydrate"))]
    let _ = set_count;
    count
}

#[cfg(feature = "hydrate")]
fn subscribe(set_count: WriteSignal<u32>) {
    use send_wrapper::SendWrapper;
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;

    let Ok(source) = web_sys::EventSource::new("/api/events") else {
        return;
    };
    let on_event = Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |_| {
        set_count.update(|n| *n += 1);
    });
    for kind in ["character", "generation", "credits"] {
        let _ = source.add_event_listener_with_callback(kind, on_event.as_ref().unchecked_ref());
    }
    let guard = SendWrapper::new((source, on_event));
    on_cleanup(move || guard.0.close());
}
