//! One generation in the history: live status and progress, its result (image, video or a
//! whole fight sequence), A2E's reason and Retry when it failed, and what to do next with it.

use super::actions::succeeded;
use super::notice::ErrorNotice;
use super::subject_actions::SubjectActions;
use crate::models::Generation;
use crate::server_fns::canvas::{CancelGeneration, RetryGeneration, Subject};
use leptos::prelude::*;

pub fn kind_label(kind: &str) -> &'static str {
    match kind {
        "scene" => "Scene",
        "motion_transfer" => "Motion transfer",
        "image_to_video" => "Animation",
        "lipsync" => "Lipsync",
        "fight_sequence" => "Fight sequence",
        _ => "Generation",
    }
}

#[component]
pub fn GenerationCard(
    generation: Generation,
    #[prop(into)] on_change: Callback<()>,
) -> impl IntoView {
    let g = generation;
    let cancel = ServerAction::<CancelGeneration>::new();
    let retry = ServerAction::<RetryGeneration>::new();
    Effect::new(move |_| {
        if succeeded(cancel) || succeeded(retry) {
            on_change.run(());
        }
    });
    let id = StoredValue::new(g.id.clone());
    let running = !g.is_finished();
    let who: Vec<String> = g
        .references
        .iter()
        .map(|r| format!("{} ({})", r.name, r.via))
        .collect();
    let prompt = g.inputs["prompt"]
        .as_str()
        .map(String::from)
        .filter(|p| !p.is_empty());
    let steps = g.work["steps"].as_array().map(|s| s.len()).unwrap_or(0);
    let step_now = g.work["current_step"].as_u64().unwrap_or(0);
    let result = result_view(&g);
    let next = (g.kind == "scene" && g.status == "completed")
        .then(|| g.result_urls.first().cloned())
        .flatten()
        .map(|url| view! { <SubjectActions subject=Subject::Image(url) on_created=on_change/> });
    view! {
        <article class="generation card" data-testid="generation" data-kind=g.kind.clone() data-status=g.status.clone()>
            <header class="generation-head">
                <strong>{kind_label(&g.kind)}</strong>
                <span class=format!("pill status-{}", g.status)>{g.status.clone()}</span>
                <span class="muted small">{format!("{} credits", g.cost)}</span>
            </header>
            {prompt.map(|p| view! { <p class="small">{p}</p> })}
            {(!who.is_empty()).then(|| view! { <p class="muted small" data-testid="references">{format!("With {}", who.join(", "))}</p> })}
            {running.then(|| view! {
                <progress class="progress" max="100" value=g.progress></progress>
                <small class="muted">
                    {if steps > 0 { format!("Move {} of {steps} · {}%", step_now.max(1), g.progress) } else { format!("{}%", g.progress) }}
                </small>
                <button class="link-button small" on:click=move |_| { cancel.dispatch(CancelGeneration { id: id.get_value() }); }>"Cancel"</button>
            })}
            {result}
            {(g.status == "failed" || g.status == "cancelled").then(|| view! {
                <p class="failure-reason small">{g.error.clone().unwrap_or_default()}</p>
                <button class="secondary small" on:click=move |_| { retry.dispatch(RetryGeneration { id: id.get_value() }); }>
                    {format!("Retry ({} credits)", g.cost)}
                </button>
            })}
            {next}
            <ErrorNotice result=cancel.value()/>
            <ErrorNotice result=retry.value()/>
        </article>
    }
}

fn result_view(g: &Generation) -> Option<AnyView> {
    if g.status != "completed" {
        return None;
    }
    let urls = g.result_urls.clone();
    Some(match g.kind.as_str() {
        "scene" => view! { <img class="result" src=urls.first().cloned().unwrap_or_default() alt="Generated scene"/> }.into_any(),
        "fight_sequence" => view! { <SequencePlayer urls/> }.into_any(),
        _ => view! { <video class="result" src=urls.first().cloned().unwrap_or_default() controls=true preload="auto" playsinline=true></video> }.into_any(),
    })
}

/// Plays the clips of a sequence one after another.
#[component]
pub fn SequencePlayer(urls: Vec<String>) -> impl IntoView {
    let count = urls.len();
    let urls = StoredValue::new(urls);
    let current = RwSignal::new(0usize);
    view! {
        <div class="sequence" data-testid="sequence-player">
            <video class="result" controls=true autoplay=true muted=true playsinline=true data-testid="sequence-video"
                data-clip=move || current.get().to_string()
                src=move || urls.with_value(|u| u.get(current.get()).cloned().unwrap_or_default())
                on:ended=move |_| current.update(|c| if *c + 1 < count { *c += 1 })></video>
            <ol class="sequence-steps">
                {(0..count).map(|i| view! {
                    <li><button type="button" class="link-button small" class:current=move || current.get() == i
                        on:click=move |_| current.set(i)>{format!("Move {}", i + 1)}</button></li>
                }).collect_view()}
            </ol>
        </div>
    }
}
