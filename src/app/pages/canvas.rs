//! The canvas: pick characters, sketch, generate scenes, animate them, run fight sequences;
//! every result keeps the characters' look because their trained avatars are used.

use crate::account_types::Preset;
use crate::app::components::actions::{price, succeeded};
use crate::app::components::character_picker::{waiting, CharacterPicker};
use crate::app::components::generation_card::GenerationCard;
use crate::app::components::keyed_rows::keyed_rows;
use crate::app::components::notice::ErrorNotice;
use crate::app::components::preset_source::{use_preset, PresetNote};
use crate::app::components::require_login::RequireLogin;
use crate::app::components::sketch::SketchPad;
use crate::app::components::subject_actions::SubjectActions;
use crate::app::live::use_live_reload;
use crate::app::loaded::{load, when_loaded, Loaded};
use crate::error::AppError;
use crate::models::{Character, Generation, Page};
use crate::server_fns::canvas::{load_prices, Fight, GenerateScene, Pick, Subject};
use crate::server_fns::characters::{picker_characters, PICKER_PAGE};
use crate::server_fns::library::generations_page;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn CanvasPage() -> impl IntoView {
    crate::app::components::confirm::provide_open_step();
    view! {
        <Title text="Canvas"/>
        <RequireLogin>
            <Canvas/>
        </RequireLogin>
    }
}

#[component]
fn Canvas() -> impl IntoView {
    let (reload, refresh) = use_live_reload();
    let picked = RwSignal::new(Vec::<Pick>::new());
    let preset = use_preset();
    let search = RwSignal::new(String::new());
    // A page of characters (a user may have thousands), plus the picked ones and the preset's.
    let characters = load(
        move || {
            let from_preset = preset.get().flatten().and_then(|p| p.character_id);
            (reload.get(), search.get(), from_preset)
        },
        move |(_, q, from_preset)| {
            let include = picked
                .get_untracked()
                .into_iter()
                .map(|p| p.character_id)
                .chain(from_preset)
                .collect();
            picker_characters(q, include, false)
        },
    );
    let generations = load(move || reload.get(), |_| generations_page(None));
    let prices = load(|| (), |_| load_prices());
    provide_context(prices);
    // Actions offer the user's own finished videos as driving videos.
    provide_context(generations);
    let known = known_characters(characters);
    pick_preset_character(preset, characters, picked);
    view! {
        <section class="card">
            <h1>"Canvas"</h1>
            <Transition fallback=|| ()>
                {move || preset.get().flatten().map(|p| view! { <PresetNote preset=p/> })}
            </Transition>
            <h2>"Characters"</h2>
            <PickerSearch search/>
            <Transition fallback=|| view! { <p class="muted">"Loading characters…"</p> }>
                {when_loaded(characters, move |answer| match answer {
                    Ok(page) => view! {
                        <CharacterPicker characters=page.items picked/>
                        {page.next_cursor.is_some().then(|| view! {
                            <p class="muted small" data-testid="picker-more">{format!(
                                "Your {PICKER_PAGE} most used characters are shown: search to find the others."
                            )}</p>
                        })}
                    }.into_any(),
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                })}
            </Transition>
            <PickedActions picked known on_created=refresh/>
        </section>
        <SceneForm picked known on_created=refresh preset/>
        <FightPanel picked known on_created=refresh/>
        <History generations=generations on_change=refresh/>
    }
}

type GenerationPage = Loaded<Result<crate::models::Page<Generation>, crate::error::AppError>>;

/// The user's generations, newest first: the first page live, older ones with "More".
#[component]
fn History(generations: GenerationPage, on_change: Callback<()>) -> impl IntoView {
    let more = RwSignal::new(Vec::<Generation>::new());
    let next = RwSignal::new(None::<String>);
    let load_more = move |first_next: Option<String>| {
        let Some(cursor) = next
            .get_untracked()
            .or(first_next)
            .filter(|c| !c.is_empty())
        else {
            return;
        };
        leptos::task::spawn_local(async move {
            if let Ok(page) = generations_page(Some(cursor)).await {
                more.update(|m| m.extend(page.items));
                next.set(Some(page.next_cursor.unwrap_or_default()));
            }
        });
    };
    view! {
        <section class="history">
            <h2>"Your generations"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {when_loaded(generations, move |answer| match answer {
                    Ok(page) if page.items.is_empty() => view! { <p class="muted">"Nothing generated yet."</p> }.into_any(),
                    Ok(page) => {
                        let list = page.items.clone();
                        let shown: std::collections::HashSet<String> = list.iter().map(|g| g.id.clone()).collect();
                        // Plain values, not a reactive one: while a reload is on its way the boundary still
                        // shows this view, whose reactive values are already disposed (a click on "More"
                        // then panicked the WASM).
                        let first_next = page.next_cursor.clone();
                        let first_has_next = first_next.is_some();
                        let on_more = move |_| load_more(first_next.clone());
                        let extra = move || more.get().into_iter().filter(|g| !shown.contains(&g.id)).collect::<Vec<_>>();
                        let has_more = move || match next.get() {
                            Some(c) => !c.is_empty(),
                            None => first_has_next,
                        };
                        view! {
                            <div class="generation-strip" data-testid="history">
                                {keyed_rows(list, |g| (g.id.clone(), g.updated_at, g.status),
                                    move |g| view! { <GenerationCard generation=g on_change=on_change/> })}
                                <For each=extra
                                    key=|g| (g.id.clone(), g.updated_at, g.status) let:g>
                                    <GenerationCard generation=g on_change=on_change/>
                                </For>
                            </div>
                            <Show when=has_more>
                                <button type="button" class="secondary" data-testid="more-generations"
                                    on:click={on_more.clone()}>"Older generations"</button>
                            </Show>
                        }.into_any()
                    }
                    Err(e) => view! { <p class="error" role="alert">{e.message}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}

/// With exactly one character picked: animate it, transfer motion to it, or make it speak.
#[component]
fn PickedActions(
    picked: RwSignal<Vec<Pick>>,
    known: Signal<Vec<Character>>,
    on_created: Callback<()>,
) -> impl IntoView {
    move || {
        let picks = picked.get();
        let [one] = picks.as_slice() else { return None };
        let name = known
            .get()
            .into_iter()
            .find(|c| c.id == one.character_id)
            .map(|c| c.name)?;
        Some(view! {
            <div class="picked-actions">
                <p class="small muted">{format!("With {name}:")}</p>
                <SubjectActions subject=Subject::Character(one.character_id.clone()) on_created/>
            </div>
        })
    }
}

/// Opened from a preset (`?preset=`): its character is picked, once, when it still exists.
type PickerPage = Loaded<Result<Page<Character>, AppError>>;

/// Every character the page has shown (this search's and earlier ones'), so picks made in an
/// earlier search keep their names and badges.
fn known_characters(characters: PickerPage) -> Signal<Vec<Character>> {
    let seen = RwSignal::new(Vec::<Character>::new());
    let current = move || characters.get().and_then(Result::ok).map(|p| p.items);
    Effect::new(move |_| {
        if let Some(items) = current() {
            seen.update(|s| {
                s.retain(|c| !items.iter().any(|i| i.id == c.id));
                s.extend(items);
            });
        }
    });
    Signal::derive(move || {
        let mut all = current().unwrap_or_default();
        seen.with(|s| {
            let earlier = s.iter().filter(|c| !all.iter().any(|a| a.id == c.id));
            let earlier: Vec<Character> = earlier.cloned().collect();
            all.extend(earlier);
        });
        all
    })
}

/// Finds characters by name, prompt or outfit (pickers show a page of them).
#[component]
pub fn PickerSearch(search: RwSignal<String>) -> impl IntoView {
    view! {
        <label class="picker-search">"Find a character"
            <input type="search" placeholder="name, description or outfit" maxlength="100"
                prop:value=search on:input=move |ev| search.set(event_target_value(&ev))/>
        </label>
    }
}

fn pick_preset_character(
    preset: Loaded<Option<Preset>>,
    characters: PickerPage,
    picked: RwSignal<Vec<Pick>>,
) {
    let applied = StoredValue::new(false);
    Effect::new(move |_| {
        let (Some(Some(p)), Some(Ok(Page { items: list, .. }))) = (preset.get(), characters.get())
        else {
            return;
        };
        if applied.get_value() {
            return;
        }
        applied.set_value(true);
        if let Some(id) = p.character_id.filter(|id| list.iter().any(|c| &c.id == id)) {
            picked.set(vec![Pick {
                character_id: id,
                use_image: false,
            }]);
        }
    });
}

#[component]
fn SceneForm(
    picked: RwSignal<Vec<Pick>>,
    known: Signal<Vec<Character>>,
    on_created: Callback<()>,
    preset: Loaded<Option<Preset>>,
) -> impl IntoView {
    let prompt = RwSignal::new(String::new());
    let aspect = RwSignal::new("16:9".to_string());
    Effect::new(move |_| {
        if let Some(a) = preset.get().flatten().and_then(|p| p.aspect_ratio) {
            aspect.set(a);
        }
    });
    let sketch = RwSignal::new(None::<String>);
    let action = ServerAction::<GenerateScene>::new();
    let pending = action.pending();
    Effect::new(move |_| {
        if succeeded(action) {
            on_created.run(());
        }
    });
    let cost = move || price(|p| p.scene);
    let blocked = move || known.with(|k| waiting(&picked.get(), k));
    view! {
        <section class="card">
            <h2>"Scene"</h2>
            <label>"Prompt"<textarea rows="2" maxlength="2000" placeholder="The two of them face off on a rainy rooftop"
                prop:value=prompt on:input=move |ev| prompt.set(event_target_value(&ev))></textarea></label>
            <SketchPad sketch/>
            <div class="row-form">
                <label>"Aspect ratio"
                    <select prop:value=aspect on:change=move |ev| aspect.set(event_target_value(&ev))>
                        {["16:9", "1:1", "9:16", "4:3", "3:4"].into_iter().map(|a| view! { <option value=a>{a}</option> }).collect_view()}
                    </select>
                </label>
            </div>
            <p class="muted small">{move || format!("Costs {} credits.", cost())}</p>
            {move || blocked().then(|| view! { <p class="notice small">"Waiting for a picked character's avatar to finish training…"</p> })}
            <button type="button" disabled=move || pending.get() || blocked() || prompt.get().trim().is_empty()
                on:click=move |_| {
                    action.dispatch(GenerateScene { prompt: prompt.get(), picks: picked.get(), sketch: sketch.get(), aspect_ratio: aspect.get() });
                }>
                {move || if pending.get() { "Submitting…".to_string() } else { format!("Generate ({} credits)", cost()) }}
            </button>
            <ErrorNotice result=action.value()/>
        </section>
    }
}

#[component]
fn FightPanel(
    picked: RwSignal<Vec<Pick>>,
    known: Signal<Vec<Character>>,
    on_created: Callback<()>,
) -> impl IntoView {
    let moves = RwSignal::new(vec![String::new()]);
    let action = ServerAction::<Fight>::new();
    let pending = action.pending();
    Effect::new(move |_| {
        if succeeded(action) {
            on_created.run(());
        }
    });
    let cost = move || price(|p| p.fight_move) * moves.with(|m| m.len()) as i64;
    let blocked = move || known.with(|k| waiting(&picked.get(), k));
    let edit = move |i: usize, f: &dyn Fn(&mut Vec<String>)| {
        moves.update(|m| {
            if i < m.len() {
                f(m)
            }
        })
    };
    view! {
        <section class="card">
            <h2>"Fight sequence"</h2>
            <p class="muted small">"Each move is a scene of the picked characters, animated; the moves play in order."</p>
            <ol class="moves" data-testid="moves">
                {move || (0..moves.with(|m| m.len())).map(|i| view! {
                    <li class="move-row">
                        <input type="text" maxlength="2000" aria-label=format!("Move {}", i + 1) placeholder="a flying kick"
                            prop:value=move || moves.with(|m| m.get(i).cloned().unwrap_or_default())
                            on:input=move |ev| { let v = event_target_value(&ev); edit(i, &|m| m[i] = v.clone()); }/>
                        <button type="button" class="secondary small" aria-label=format!("Move {} up", i + 1) disabled=i == 0
                            on:click=move |_| edit(i, &|m| m.swap(i - 1, i))>"↑"</button>
                        <button type="button" class="secondary small" aria-label=format!("Move {} down", i + 1)
                            on:click=move |_| edit(i, &|m| if i + 1 < m.len() { m.swap(i, i + 1) })>"↓"</button>
                        <button type="button" class="secondary small" aria-label=format!("Remove move {}", i + 1)
                            on:click=move |_| edit(i, &|m| { m.remove(i); })>"✕"</button>
                    </li>
                }).collect_view()}
            </ol>
            <button type="button" class="secondary small" on:click=move |_| moves.update(|m| m.push(String::new()))>"Add move"</button>
            <p class="muted small">{move || format!("Costs {} credits.", cost())}</p>
            <button type="button" disabled=move || pending.get() || blocked() || picked.with(|p| p.is_empty())
                on:click=move |_| { action.dispatch(Fight { picks: picked.get(), moves: moves.get() }); }>
                {move || format!("Start fight ({} credits)", cost())}
            </button>
            <ErrorNotice result=action.value()/>
        </section>
    }
}
