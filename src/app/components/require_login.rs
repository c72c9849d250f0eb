//! Pages that need an account show a way in instead of their content.

use crate::app::session::use_session;
use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn RequireLogin(children: ChildrenFn) -> impl IntoView {
    let session = use_session();
    let children = StoredValue::new(children);
    // The session reloads only on log-in and log-out, so a page re-renders only then.
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let logged_in = session.info.await.ok().and_then(|i| i.user).is_some();
                if logged_in {
                    children.read_value()().into_any()
                } else {
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
                    }.into_any()
                }
            })}
        </Transition>
    }
}
