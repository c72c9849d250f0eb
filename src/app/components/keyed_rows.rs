//! A loaded page of rows, keyed as `<For>` keys them.

use leptos::prelude::*;
use leptos::tachys::view::keyed::SerializableKey;
use std::hash::Hash;

/// The rows of a loaded page, each built by `row` and keyed by `key`. In the browser this is a
/// `<For>`: when the page is loaded again (every live event), rows whose key is unchanged keep
/// their view and its state (an open tag editor, a confirmation). On the server the list is
/// built once, in place: `<For>` is a closure, and Leptos runs a boundary's closures each time
/// it checks the boundary for pending loads, building every card again (twice a render). The
/// markup is the same, so the browser hydrates it with its `<For>`.
pub fn keyed_rows<T, K, V>(
    rows: Vec<T>,
    key: impl Fn(&T) -> K + Clone + Send + Sync + 'static,
    row: impl Fn(T) -> V + Clone + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    K: Eq + Hash + SerializableKey + 'static,
    V: IntoView + 'static,
{
    #[cfg(feature = "ssr")]
    {
        use leptos::tachys::reactive_graph::OwnedView;
        // Each row under an owner of its own, as `<For>` makes them.
        let parent = Owner::current().expect("a reactive owner");
        leptos::tachys::view::keyed::keyed(rows, key, move |_, item| {
            let owner = parent.with(Owner::new);
            let view = owner.with(|| row(item));
            (drop, OwnedView::new_with_owner(view, owner))
        })
    }
    #[cfg(not(feature = "ssr"))]
    view! { <For each=move || rows.clone() key=key children=row/> }
}
