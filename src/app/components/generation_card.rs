//! One generation in the history: live status and progress, its result (image, video or a
//! whole fight sequence), A2E's reason and Retry when it failed, and what to do next with it.

use super::actions::{own_result, succeeded};
use super::confirm::{close_on_success, ConfirmStep, Step};
use super::notice::ErrorNotice;
use super::subject_actions::SubjectActions;
use crate::models::{Generation, GenerationKind, GenerationSpec, GenerationStatus};
use crate::server_fns::canvas::{CancelGeneration, RetryGeneration, Subject};
use crate::server_fns::library::{DeleteGeneration, RemakeGeneration};
use leptos::prelude::*;

pub fn kind_label(kind: GenerationKind) -> &'static str {
    match kind {
        GenerationKind::Scene => "Scene",
        GenerationKind::MotionTransfer => "Motion transfer",
        GenerationKind::ImageToVideo => "Animation",
        GenerationKind::Lipsync => "Lipsync",
        GenerationKind::FightSequence => "Fight sequence",
    }
}

/// One generation. With `remake`, it offers making it again (as it was, or with each
/// character's avatar of today).
#[component]
pub fn GenerationCard(
    generation: Generation,
    #[prop(into)] on_change: Callback<()>,
    #[prop(optional)] remake: bool,
) -> impl IntoView {
    let g = generation;
    let confirming = Step::new(format!("cancel:{}", g.id));
    let deleting = Step::new(format!("delete:{}", g.id));
    let cancel = ServerAction::<CancelGeneration>::new();
    let retry = ServerAction::<RetryGeneration>::new();
    let delete = ServerAction::<DeleteGeneration>::new();
    let (retrying, delete_pending) = (retry.pending(), delete.pending());
    close_on_success(
        [&confirming, &deleting],
        move || succeeded(cancel) || succeeded(retry) || succeeded(delete),
        on_change,
    );
    let id = StoredValue::new(g.id.clone());
    let running = !g.is_finished();
    let who: Vec<String> = g
        .references
        .iter()
        .map(|r| format!("{} ({})", r.name, r.via))
        .collect();
    let prompt = Some(g.spec.prompt().to_string()).filter(|p| !p.is_empty());
    let steps = g.work.steps.len();
    let step_now = g.work.current_step();
    let result = result_view(&g);
    let kind = g.kind();
    let status = g.status;
    let started = g.work.may_have_started();
    let next = (kind == GenerationKind::Scene && status == GenerationStatus::Completed)
        .then(|| g.result_urls.first().cloned())
        .flatten()
        .map(|url| view! { <SubjectActions subject=Subject::Image(url) on_created=on_change/> });
    let moves = fight_moves(&g);
    let downloads = downloads(&g);
    let finished = g.is_finished();
    let remakes =
        remake.then(|| view! { <Remake id=g.id.clone() cost=g.cost on_change=on_change/> });
    view! {
        <article class="generation card" data-testid="generation" data-generation-id=g.id.clone() data-kind=kind.as_str() data-status=status.as_str() data-updated=g.updated_at>
            <header class="generation-head">
                <strong>{kind_label(kind)}</strong>
                <span class=format!("pill status-{status}")>{status.as_str()}</span>
                <span class="muted small">{format!("{} credits", g.cost)}</span>
            </header>
            {prompt.map(|p| view! { <p class="small">{p}</p> })}
            {(!who.is_empty()).then(|| view! { <p class="muted small" data-testid="references">{format!("With {}", who.join(", "))}</p> })}
            {running.then(|| view! {
                <progress class="progress" max="100" value=g.progress></progress>
                <small class="muted">
                    {if steps > 0 { format!("Move {} of {steps} · {}%", step_now.max(1), g.progress) } else { format!("{}%", g.progress) }}
                </small>
                <TimeLeft since=g.created_at expected_ms=g.work.expected_ms/>
                {g.notice.clone().map(|n| view! { <p class="notice small" data-testid="work-notice">{n}</p> })}
                <CancelControl id=id.get_value() started cost=g.cost confirming action=cancel/>
            })}
            {result}
            {moves}
            {downloads}
            {matches!(status, GenerationStatus::Failed | GenerationStatus::Cancelled).then(|| view! {
                <p class="failure-reason small">{g.error.clone().unwrap_or_default()}</p>
                <ActionForm action=retry attr:class="inline-form">
                    <input type="hidden" name="id" value=id.get_value()/>
                    <button type="submit" class="secondary small" disabled=retrying>
                        {format!("Retry ({} credits)", g.cost)}
                    </button>
                </ActionForm>
            })}
            {next}
            {remakes}
            {finished.then(|| view! {
                <ConfirmStep ask="Delete" class="link-button small danger-text" testid="delete-generation"
                    label="Confirm delete" role="alertdialog" keep="Keep it" open=deleting>
                    <p>"Delete this from your history? Its credits are not affected."</p>
                    <ActionForm action=delete attr:class="inline-form">
                        <input type="hidden" name="id" value=id.get_value()/>
                        <button type="submit" class="danger small" disabled=delete_pending>"Delete for good"</button>
                    </ActionForm>
                </ConfirmStep>
            })}
            <ErrorNotice result=own_result(cancel)/>
            <ErrorNotice result=own_result(retry)/>
            <ErrorNotice result=own_result(delete)/>
        </article>
    }
}

/// "Make again": the same spec as a new generation, charged like any other.
#[component]
fn Remake(id: String, cost: i64, on_change: Callback<()>) -> impl IntoView {
    let action = ServerAction::<RemakeGeneration>::new();
    let remaking = action.pending();
    Effect::new(move |_| {
        if succeeded(action) {
            on_change.run(());
        }
    });
    let id = StoredValue::new(id);
    let run = move |use_current_avatar: bool| {
        action.dispatch(RemakeGeneration {
            id: id.get_value(),
            use_current_avatar,
        });
    };
    view! {
        <div class="card-actions">
            <button class="secondary small" disabled=remaking
                title="The same request with the same avatars as then"
                on:click=move |_| run(false)>{format!("Make again ({cost} credits)")}</button>
            <button class="secondary small" disabled=remaking
                title="The same request with each character's avatar as it is today"
                on:click=move |_| run(true)>"Make again with today's avatar"</button>
        </div>
        {move || action.value().get().and_then(Result::ok).map(|_| view! {
            <p class="notice small" role="status">"Made again: the new one is queued."</p>
        })}
        <ErrorNotice result=action.value()/>
    }
}

/// A fight's moves, each with where it stands.
fn fight_moves(g: &Generation) -> Option<AnyView> {
    let GenerationSpec::FightSequence { moves, .. } = &g.spec else {
        return None;
    };
    let rows = moves
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let step = g.work.steps.get(i);
            let state = match step {
                Some(s) if s.video_url.is_some() => "clip ready",
                Some(s) if s.scene_url.is_some() => "animating",
                Some(s) if s.scene.may_have_started() => "drawing the scene",
                _ => "waiting",
            };
            view! { <li>{m.clone()}<span class="muted">{format!(" · {state}")}</span></li> }
        })
        .collect_view();
    Some(view! { <ol class="fight-moves small" data-testid="fight-moves">{rows}</ol> }.into_any())
}

/// Links that save each result file.
fn downloads(g: &Generation) -> Option<AnyView> {
    if g.result_urls.is_empty() {
        return None;
    }
    let many = g.result_urls.len() > 1;
    let links = g
        .result_urls
        .iter()
        .enumerate()
        .map(|(i, url)| {
            let label = if many { format!("Download {}", i + 1) } else { "Download".to_string() };
            view! { <a class="small" href=url.clone() download="" data-testid="download">{label}</a> }
        })
        .collect_view();
    Some(view! { <p class="downloads">{links}</p> }.into_any())
}

/// The cancel policy, said before the click: before A2E started, the price comes back; after,
/// A2E has charged the studio, so the charge stays (and the result is kept if it arrives), and
/// Cancel asks first.
#[component]
fn CancelControl(
    id: String,
    started: bool,
    cost: i64,
    confirming: Step,
    action: ServerAction<CancelGeneration>,
) -> impl IntoView {
    let pending = action.pending();
    if !started {
        return view! {
            <ActionForm action=action attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="link-button small" data-testid="cancel" disabled=pending
                    title="Not started at A2E yet: refunded in full">{format!("Cancel (refund {cost} credits)")}</button>
            </ActionForm>
        }
        .into_any();
    }
    view! {
        <ConfirmStep ask="Cancel" class="link-button small" testid="cancel" label="Confirm cancel"
            role="alertdialog" body_testid="cancel-confirm" keep="Keep it running" open=confirming>
            <p>{format!("A2E has already started this, so its {cost} credits are kept. If the result still arrives, it is kept too.")}</p>
            <ActionForm action=action attr:class="inline-form">
                <input type="hidden" name="id" value=id/>
                <button type="submit" class="danger small" disabled=pending>"Cancel anyway"</button>
            </ActionForm>
        </ConfirmStep>
    }
    .into_any()
}

fn result_view(g: &Generation) -> Option<AnyView> {
    let kept_after_cancel = g.status == GenerationStatus::Cancelled && !g.result_urls.is_empty();
    if g.status != GenerationStatus::Completed && !kept_after_cancel {
        return None;
    }
    let urls = g.result_urls.clone();
    Some(match g.kind() {
        GenerationKind::Scene => view! { <img class="result" src=urls.first().cloned().unwrap_or_default() alt="Generated scene"/> }.into_any(),
        GenerationKind::FightSequence => view! { <SequencePlayer urls/> }.into_any(),
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

/// The time a running generation has left, from its typical duration; counted down in the
/// browser once a second (the server renders nothing, so hydration sees the same page).
#[component]
fn TimeLeft(since: i64, expected_ms: i64) -> impl IntoView {
    let now = RwSignal::new(None::<i64>);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let tick = move || now.set(Some(js_sys::Date::now() as i64));
        tick();
        if let Ok(handle) = set_interval_with_handle(tick, std::time::Duration::from_secs(1)) {
            on_cleanup(move || handle.clear());
        }
    });
    move || {
        let now = now.get().filter(|_| expected_ms > 0)?;
        let left_s = (since + expected_ms - now) / 1000;
        let text = if left_s > 0 {
            super::avatar_badge::format_eta(left_s)
        } else {
            "taking longer than usual…".to_string()
        };
        Some(view! { <small class="muted" data-testid="time-left">{text}</small> })
    }
}
