//! Where a character's avatar training stands: pending, training (progress, time left),
//! completed, or failed with A2E's reason.

use crate::models::{Character, AVATAR_COMPLETED, AVATAR_FAILED, AVATAR_TRAINING};
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
    let status = character.avatar_status.clone();
    let label = match status.as_str() {
        AVATAR_TRAINING if character.continued => "Avatar: continuing training",
        AVATAR_TRAINING => "Avatar: training",
        AVATAR_COMPLETED => "Avatar: trained",
        AVATAR_FAILED => "Avatar: training failed",
        _ => "Avatar: pending",
    };
    let progress = character.avatar_progress.unwrap_or(0).clamp(0, 100);
    let detail = match status.as_str() {
        AVATAR_TRAINING => Some(
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
        AVATAR_FAILED => Some(
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
        <div class=format!("avatar-badge status-{status}") data-testid="avatar-badge" data-status=status.clone()>
            <span class="badge-label">{label}</span>
            {detail}
        </div>
    }
}
