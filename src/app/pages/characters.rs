//! The character library: every character as a card (grid or list), searched and filtered
//! through the URL (`?q=&status=&training=&tag=&sort=`, a plain GET form, so it works before
//! the WASM loads), a page at a time, with tags edited on the card and bulk delete.

use crate::app::components::actions::succeeded;
use crate::app::components::character_card::CharacterCard;
use crate::app::components::create_character::CreateCharacterPanel;
use crate::app::components::keyed_rows::keyed_rows;
use crate::app::components::notice::ErrorNotice;
use crate::app::components::require_login::RequireLogin;
use crate::app::live::use_live_reload;
use crate::app::loaded::{load, when_loaded};
use crate::models::{Character, GalleryQuery};
use crate::server_fns::library::{gallery_page, DeleteCharacters};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use std::collections::HashSet;

#[component]
pub fn CharactersPage() -> impl IntoView {
    crate::app::components::confirm::provide_open_step();
    view! {
        <Title text="Characters"/>
        <RequireLogin>
            <CharactersList/>
        </RequireLogin>
    }
}

/// The gallery's query, read from the page's URL.
fn url_query() -> Memo<GalleryQuery> {
    let params = use_query_map();
    Memo::new(move |_| {
        params.with(|p| GalleryQuery {
            q: p.get("q"),
            status: p.get("status"),
            training: p.get("training"),
            tag: p.get("tag"),
            sort: p.get("sort"),
            ..Default::default()
        })
    })
}

#[component]
fn CharactersList() -> impl IntoView {
    let (reload, refresh) = use_live_reload();
    let query = url_query();
    let first = load(
        move || (query.get(), reload.get()),
        |(q, _)| gallery_page(q),
    );
    // Pages loaded with "More", after the first; a new first page (new query) starts afresh.
    let more = RwSignal::new(Vec::<Character>::new());
    let next = RwSignal::new(None::<String>);
    let more_error = RwSignal::new(None::<String>);
    Effect::new(move |previous: Option<GalleryQuery>| {
        let now = query.get();
        if previous.is_some_and(|p| p != now) {
            more.set(vec![]);
            next.set(None);
        }
        now
    });
    let list_view = RwSignal::new(false);
    let selected = RwSignal::new(HashSet::<String>::new());
    // Loads the page after `first_next` (the first page's cursor) or after the last loaded.
    let load_more = move |first_next: Option<String>| {
        let Some(cursor) = next
            .get_untracked()
            .or(first_next)
            .filter(|c| !c.is_empty())
        else {
            return;
        };
        let mut q = query.get_untracked();
        q.cursor = Some(cursor);
        leptos::task::spawn_local(async move {
            match gallery_page(q).await {
                Ok(page) => {
                    more.update(|m| m.extend(page.items));
                    next.set(Some(page.next_cursor.unwrap_or_default()));
                    more_error.set(None);
                }
                Err(err) => more_error.set(Some(err.message)),
            }
        });
    };
    view! {
        <CreateCharacterPanel on_created=refresh/>
        <section class="characters">
            <h1>"Characters"</h1>
            <SearchForm query=query/>
            <div class="gallery-tools">
                <div class="view-toggle" role="group" aria-label="View">
                    <button type="button" class="secondary small" aria-pressed=move || (!list_view.get()).to_string()
                        on:click=move |_| list_view.set(false)>"Grid"</button>
                    <button type="button" class="secondary small" aria-pressed=move || list_view.get().to_string()
                        on:click=move |_| list_view.set(true)>"List"</button>
                </div>
                <BulkDelete selected=selected more=more on_deleted=refresh/>
            </div>
            // Awaited in a `Suspend`, not read with `.get()`: on the server a boundary runs a read
            // closure twice (once to find its resources, once to render), which built every card
            // twice; a `Suspend` builds them once, when the page has arrived.
            <Transition fallback=|| view! { <p class="muted">"Loading characters…"</p> }>
                {when_loaded(first, move |answer| match answer {
                    Ok(page) if page.items.is_empty() => view! {
                        <p class="muted" data-testid="gallery-empty">{empty_text(&query.get_untracked())}</p>
                    }.into_any(),
                    Ok(page) => {
                        let shown: HashSet<String> = page.items.iter().map(|c| c.id.clone()).collect();
                        let extra = move || more.get().into_iter().filter(|c| !shown.contains(&c.id)).collect::<Vec<_>>();
                        let rows = page.items.clone();
                        // Plain values, not a reactive one: while a reload is on its way the boundary still
                        // shows this view, whose reactive values are already disposed (a click on "More"
                        // then panicked the WASM).
                        let first_next = page.next_cursor.clone();
                        let first_has_next = first_next.is_some();
                        let on_more = move |_| load_more(first_next.clone());
                        // "More" shows while the last page loaded said there is more ("" once it said no more).
                        let has_more = move || match next.get() {
                            Some(cursor) => !cursor.is_empty(),
                            None => first_has_next,
                        };
                        view! {
                            <div class="character-grid" class:list-view=move || list_view.get() data-testid="gallery">
                                {keyed_rows(rows, |c| (c.id.clone(), c.updated_at, c.times_used),
                                    move |character| view! { <CharacterCard character on_change=refresh selection=selected/> })}
                                <For each=extra key=|c| (c.id.clone(), c.updated_at, c.times_used) let:character>
                                    <CharacterCard character on_change=refresh selection=selected/>
                                </For>
                            </div>
                            <Show when=has_more>
                                <button type="button" class="secondary" data-testid="more"
                                    on:click={on_more.clone()}>"More characters"</button>
                            </Show>
                        }.into_any()
                    }
                    Err(err) => view! { <p class="error" role="alert">{err.message}</p> }.into_any(),
                })}
            </Transition>
            {move || more_error.get().map(|m| view! { <p class="error" role="alert">{m}</p> })}
        </section>
    }
}

fn empty_text(q: &GalleryQuery) -> &'static str {
    let filtered = [&q.q, &q.status, &q.training, &q.tag]
        .iter()
        .any(|v| v.as_deref().is_some_and(|s| !s.is_empty()));
    if filtered {
        "No character matches this search."
    } else {
        "No characters yet. Describe one above, or upload a photo or video."
    }
}

/// Search and filters: a GET form whose fields are the URL's query. Each select has its label
/// beside it, not around it: a label around a select would also name it by its options' words.
#[component]
fn SearchForm(query: Memo<GalleryQuery>) -> impl IntoView {
    let value = move |f: fn(&GalleryQuery) -> &Option<String>| {
        move || query.with(|q| f(q).clone().unwrap_or_default())
    };
    let option = move |f: fn(&GalleryQuery) -> &Option<String>,
                       v: &'static str,
                       label: &'static str| {
        view! { <option value=v selected=move || query.with(|q| f(q).as_deref().unwrap_or_default() == v)>{label}</option> }
    };
    view! {
        <Form method="GET" action="/characters" attr:class="gallery-search" attr:role="search">
            <label>"Search"
                <input type="search" name="q" placeholder="Words from a name, prompt or outfit" maxlength="200"
                    prop:value=value(|q| &q.q)/>
            </label>
            <div class="field"><label for="gallery-status">"Avatar"</label>
                <select id="gallery-status" name="status">
                    {option(|q| &q.status, "", "Any status")}
                    {option(|q| &q.status, "completed", "Trained")}
                    {option(|q| &q.status, "training", "Training")}
                    {option(|q| &q.status, "pending", "Starting")}
                    {option(|q| &q.status, "failed", "Failed")}
                </select>
            </div>
            <div class="field"><label for="gallery-training">"Trained from"</label>
                <select id="gallery-training" name="training">
                    {option(|q| &q.training, "", "Image or video")}
                    {option(|q| &q.training, "image", "Image")}
                    {option(|q| &q.training, "video", "Video")}
                </select>
            </div>
            <label>"Tag"
                <input type="text" name="tag" maxlength="40" placeholder="hero" prop:value=value(|q| &q.tag)/>
            </label>
            <div class="field"><label for="gallery-sort">"Sort"</label>
                <select id="gallery-sort" name="sort">
                    {option(|q| &q.sort, "newest", "Newest")}
                    {option(|q| &q.sort, "name", "A to Z")}
                    {option(|q| &q.sort, "most_used", "Most used")}
                </select>
            </div>
            <button type="submit">"Search"</button>
        </Form>
    }
}

/// Deletes the selected characters after a confirmation.
#[component]
fn BulkDelete(
    selected: RwSignal<HashSet<String>>,
    more: RwSignal<Vec<Character>>,
    on_deleted: Callback<()>,
) -> impl IntoView {
    let confirming = RwSignal::new(false);
    let action = ServerAction::<DeleteCharacters>::new();
    let pending = action.pending();
    Effect::new(move |_| {
        if succeeded(action) {
            let gone = selected.get_untracked();
            more.update(|m| m.retain(|c| !gone.contains(&c.id)));
            selected.set(HashSet::new());
            confirming.set(false);
            on_deleted.run(());
        }
    });
    let count = move || selected.with(HashSet::len);
    let asking = move || confirming.get() && count() > 0;
    view! {
        <div class="bulk">
            <button type="button" class="secondary small" disabled=move || count() == 0
                on:click=move |_| confirming.set(true)>{move || format!("Delete selected ({})", count())}</button>
            <Show when=asking>
                <div class="confirm" role="dialog" aria-label="Confirm bulk delete">
                    <p>{move || format!("Delete {} characters? Their avatars at A2E are removed too.", count())}</p>
                    <button class="danger" disabled=pending
                        on:click=move |_| { action.dispatch(DeleteCharacters { ids: selected.get().into_iter().collect() }); }>
                        "Delete them for good"
                    </button>
                    <button class="secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                </div>
            </Show>
            <ErrorNotice result=action.value()/>
        </div>
    }
}
