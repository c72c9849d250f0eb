//! Where a character's avatar training stands: pending, training (progress, time left),
//! completed, or failed with A2E's reason.

use crate::models::{AvatarStatus, Character};
use leptos::prelude::*;

pub fn format_eta(seconds: i64) -> String {
    match seconds {
        s if s < 60 => "under a minute left".to_string(),
        s if s < 3600 => format!("about {} min left", (s + 59) / 60),
        s => format!("about {} h {} min left", s / 3600, (s % 3600) / 60),
    }
}

#[component]
pub fn AvatarBadge(character: Character) -> impl IntoView {
    let status = character.avatar_status;
    let label = match status {
        AvatarStatus::Training if character.continued => "Avatar: continuing training",
        AvatarStatus::Training => "Avatar: training",
        AvatarStatus::Completed => "Avatar: trained",
        AvatarStatus::Failed => "Avatar: training failed",
        AvatarStatus::Pending if character.image_url.is_none() && character.video_url.is_none() => {
            "Portrait: being drawn"
        }
        AvatarStatus::Pending => "Avatar: starting",
    };
    let progress = character.avatar_progress.unwrap_or(0).clamp(0, 100);
    let notice = character
        .notice
        .clone()
        .map(|n| view! { <small class="notice" data-testid="work-notice">{n}</small> });
    let detail = match status {
        AvatarStatus::Training => Some(
            view! {
                // A <progress> element, not a styled width: the CSP allows no inline styles.
                <progress class="progress" max="100" value=progress></progress>
                <small class="muted">
                    {format!("{progress}% · ")}
                    {character.eta_seconds.map(format_eta).unwrap_or_else(|| "estimating…".into())}
                </small>
            }
            .into_any(),
        ),
        AvatarStatus::Failed => Some(
            view! {
                <small class="failure-reason">
                    {character.avatar_error.clone().unwrap_or_else(|| "A2E gave no reason.".into())}
                </small>
            }
            .into_any(),
        ),
        _ => None,
    };
    view! {
        <div class=format!("avatar-badge status-{status}") data-testid="avatar-badge" data-status=status.as_str()
            aria-live="polite" aria-atomic="true">
            <span class="badge-label">{label}</span>
            {detail}
            {notice}
        </div>
    }
}
