//! One character: its portrait or clip, the settings it was made with, its training history
//! (an event table with durations) and every generation that used it, each made again in one
//! click — as it was, or with today's avatar.

use crate::app::components::avatar_badge::AvatarBadge;
use crate::app::components::character_card::Likeness;
use crate::app::components::generation_card::GenerationCard;
use crate::app::components::keyed_rows::keyed_rows;
use crate::app::components::require_login::RequireLogin;
use crate::app::components::time::{duration, utc};
use crate::app::live::use_live_reload;
use crate::app::loaded::{load, when_loaded};
use crate::models::{Character, CharacterEvent, EventKind, Generation};
use crate::server_fns::library::{character_detail, character_generations};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

#[component]
pub fn CharacterPage() -> impl IntoView {
    crate::app::components::confirm::provide_open_step();
    view! {
        <Title text="Character"/>
        <RequireLogin>
            <Detail/>
        </RequireLogin>
    }
}

#[component]
fn Detail() -> impl IntoView {
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").unwrap_or_default()));
    let (reload, refresh) = use_live_reload();
    let detail = load(
        move || (id.get(), reload.get()),
        |(id, _)| character_detail(id),
    );
    view! {
        <p class="small"><A href="/characters">"← All characters"</A></p>
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {when_loaded(detail, move |answer| match answer {
                Ok(d) => view! {
                    <Title text=d.character.name.clone()/>
                    <Overview character=d.character.clone()/>
                    <History events=d.events/>
                }.into_any(),
                Err(err) => view! { <section class="card"><p class="error" role="alert">{err.message}</p></section> }.into_any(),
            })}
        </Transition>
        <Provenance id=id reload=reload on_change=refresh/>
    }
}

/// The likeness and the settings it was made with.
#[component]
fn Overview(character: Character) -> impl IntoView {
    let c = character;
    let fact = |label: &'static str, value: String| {
        view! { <dt>{label}</dt><dd>{if value.is_empty() { "—".to_string() } else { value }}</dd> }
    };
    let source = match c.source {
        crate::models::Source::Generated => "Drawn from the description",
        crate::models::Source::UploadedImage => "An uploaded image",
        crate::models::Source::UploadedVideo => "An uploaded video",
    };
    view! {
        <section class="card character-detail" data-testid="character-detail">
            <div class="detail-likeness">
                <Likeness character=c.clone()/>
                {c.video_url.clone().filter(|_| c.image_url.is_some() || c.preview_url.is_some()).map(|src| view! {
                    <video class="portrait" src=src controls playsinline preload="metadata" aria-label="Training clip"></video>
                })}
            </div>
            <div class="detail-facts">
                <h1>{c.name.clone()}</h1>
                <AvatarBadge character=c.clone()/>
                <dl class="facts" data-testid="settings">
                    {fact("Description", c.prompt.clone())}
                    {fact("Outfit", c.outfit_description.clone())}
                    {fact("Made from", source.to_string())}
                    {fact("Model version", c.model_version.clone())}
                    {fact("Trained from", c.training_kind.as_str().to_string())}
                    {fact("Gender", c.gender.clone().unwrap_or_default())}
                    {fact("Continued", if c.continued { "yes".into() } else { "no".into() })}
                    {fact("Tags", c.tags.join(", "))}
                    {fact("Times used", c.times_used.to_string())}
                    {fact("Avatar id", c.avatar_id.clone().unwrap_or_default())}
                    {fact("Created", utc(c.created_at))}
                </dl>
            </div>
        </section>
    }
}

fn event_label(kind: EventKind) -> &'static str {
    match kind {
        EventKind::Queued => "Queued",
        EventKind::PortraitDrawn => "Portrait drawn",
        EventKind::TrainingStarted => "Training started",
        EventKind::Progress => "Progress",
        EventKind::Continued => "Continued",
        EventKind::Failed => "Failed",
        EventKind::Done => "Done",
    }
}

/// How long each training took: from its start (or continue) to done or failed.
fn trainings(events: &[CharacterEvent]) -> Vec<(bool, i64)> {
    let mut out = vec![];
    let mut started = None;
    for e in events {
        match e.kind {
            EventKind::TrainingStarted | EventKind::Continued => started = Some(e.created_at),
            EventKind::Done | EventKind::Failed => {
                if let Some(at) = started.take() {
                    out.push((e.kind == EventKind::Done, e.created_at - at));
                }
            }
            _ => {}
        }
    }
    out
}

/// The training history as a table: each event, when, and how long after the one before.
#[component]
fn History(events: Vec<CharacterEvent>) -> impl IntoView {
    let summary = trainings(&events)
        .into_iter()
        .map(|(ok, ms)| {
            let how = if ok { "took" } else { "failed after" };
            format!("Training {how} {}", duration(ms))
        })
        .collect::<Vec<_>>()
        .join(" · ");
    let mut previous = None::<i64>;
    let rows = events
        .into_iter()
        .map(|e| {
            let after = previous.map(|p| format!("+{}", duration(e.created_at - p)));
            previous = Some(e.created_at);
            let progress = e.progress.map(|p| format!("{p}%")).unwrap_or_default();
            view! {
                <tr data-kind=e.kind.as_str()>
                    <td>{utc(e.created_at)}</td>
                    <td>{event_label(e.kind)}</td>
                    <td class:failure-reason=e.kind == EventKind::Failed>{e.detail}</td>
                    <td>{progress}</td>
                    <td class="muted">{after.unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="card">
            <h2>"Training history"</h2>
            {(!summary.is_empty()).then(|| view! { <p class="small" data-testid="training-summary">{summary}</p> })}
            <div class="table-wrap">
                <table class="events" data-testid="events">
                    <thead><tr><th scope="col">"When"</th><th scope="col">"Event"</th><th scope="col">"Detail"</th>
                        <th scope="col">"Progress"</th><th scope="col">"After"</th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        </section>
    }
}

/// Every generation that used the character, newest first, a page at a time.
#[component]
fn Provenance(
    id: Memo<String>,
    reload: Signal<(u32, u32)>,
    on_change: Callback<()>,
) -> impl IntoView {
    let first = load(
        move || (id.get(), reload.get()),
        |(id, _)| character_generations(id, None),
    );
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
            if let Ok(page) = character_generations(id.get_untracked(), Some(cursor)).await {
                more.update(|m| m.extend(page.items));
                next.set(Some(page.next_cursor.unwrap_or_default()));
            }
        });
    };
    view! {
        <section class="card">
            <h2>"Made with this character"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {when_loaded(first, move |answer| match answer {
                    Ok(page) if page.items.is_empty() => view! {
                        <p class="muted">"Nothing made with this character yet. Pick it on the Canvas."</p>
                    }.into_any(),
                    Ok(page) => {
                        let rows = page.items.clone();
                        let shown: std::collections::HashSet<String> = rows.iter().map(|g| g.id.clone()).collect();
                        let first_next = StoredValue::new(page.next_cursor.clone());
                        let extra = move || more.get().into_iter().filter(|g| !shown.contains(&g.id)).collect::<Vec<_>>();
                        let has_more = move || match next.get() {
                            Some(c) => !c.is_empty(),
                            None => first_next.with_value(Option::is_some),
                        };
                        view! {
                            <div class="generation-strip" data-testid="provenance">
                                {keyed_rows(rows, |g| (g.id.clone(), g.updated_at, g.status),
                                    move |g| view! { <GenerationCard generation=g on_change=on_change remake=true/> })}
                                <For each=extra
                                    key=|g| (g.id.clone(), g.updated_at, g.status) let:g>
                                    <GenerationCard generation=g on_change=on_change remake=true/>
                                </For>
                            </div>
                            <Show when=has_more>
                                <button type="button" class="secondary" data-testid="more-provenance"
                                    on:click=move |_| load_more(first_next.get_value())>"More"</button>
                            </Show>
                        }.into_any()
                    }
                    Err(err) => view! { <p class="error" role="alert">{err.message}</p> }.into_any(),
                })}
            </Transition>
        </section>
    }
}
