//! The canvas's server functions: generations with characters, their history, prices.

use crate::error::AppError;
use crate::models::{Generation, Prices, Voice};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;
use serde::{Deserialize, Serialize};

/// Who a video is made of: one of the user's characters, or an image (a scene result).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Subject {
    Character(String),
    Image(String),
}

/// A picked character: by its id (its avatar when trained), or forced to use its image.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pick {
    pub character_id: String,
    pub use_image: bool,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;
    use crate::domain::generations::{RefInput, SubjectInput};

    pub async fn refs(
        studio: &crate::domain::studio::Studio,
        user: &str,
        picks: Vec<Pick>,
    ) -> Result<Vec<RefInput>, crate::domain::error::DomainError> {
        let mut out = Vec::new();
        for pick in picks {
            let c = crate::domain::characters::get(studio, user, &pick.character_id).await?;
            out.push(if pick.use_image {
                RefInput {
                    image_url: c.image_url.clone(),
                    name: Some(c.name.clone()),
                    ..Default::default()
                }
            } else {
                RefInput {
                    id: Some(c.id),
                    ..Default::default()
                }
            });
        }
        Ok(out)
    }

    pub fn subject(s: Subject) -> SubjectInput {
        match s {
            Subject::Character(id) => SubjectInput {
                character_id: Some(id),
                ..Default::default()
            },
            Subject::Image(url) => SubjectInput {
                image: Some(url),
                ..Default::default()
            },
        }
    }
}

#[server(prefix = "/sfn")]
pub async fn load_prices() -> Result<Prices, AppError> {
    Ok(super::context::state()?.studio.prices)
}

#[server(prefix = "/sfn", input = Json)]
pub async fn generate_scene(
    prompt: String,
    picks: Vec<Pick>,
    sketch: Option<String>,
    aspect_ratio: String,
) -> Result<Generation, AppError> {
    use super::context;
    use crate::domain::generations::{create_scene, SceneInput};
    context::for_user(move |studio, user| async move {
        let character_refs = convert::refs(&studio, &user, picks).await?;
        create_scene(
            &studio,
            &user,
            SceneInput {
                prompt,
                character_refs,
                sketch,
                aspect_ratio: Some(aspect_ratio),
            },
        )
        .await
    })
    .await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn animate(
    subject: Subject,
    prompt: String,
    duration: u32,
) -> Result<Generation, AppError> {
    use super::context;
    use crate::domain::generations::{create_image_to_video, VideoInput};
    context::for_user(move |studio, user| async move {
        create_image_to_video(
            &studio,
            &user,
            VideoInput {
                subject: convert::subject(subject),
                prompt,
                duration: Some(duration),
            },
        )
        .await
    })
    .await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn transfer_motion(
    subject: Subject,
    video_url: String,
    prompt: String,
) -> Result<Generation, AppError> {
    use super::context;
    use crate::domain::generations::{create_motion_transfer, MotionInput};
    context::for_user(move |studio, user| async move {
        create_motion_transfer(
            &studio,
            &user,
            MotionInput {
                subject: convert::subject(subject),
                video_url,
                prompt,
            },
        )
        .await
    })
    .await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn lipsync(
    subject: Subject,
    text: Option<String>,
    audio_url: Option<String>,
    voice: Option<String>,
) -> Result<Generation, AppError> {
    use super::context;
    use crate::domain::generations::{create_lipsync, LipsyncInput};
    context::for_user(move |studio, user| async move {
        create_lipsync(
            &studio,
            &user,
            LipsyncInput {
                subject: convert::subject(subject),
                audio_url,
                text,
                voice,
            },
        )
        .await
    })
    .await
}

/// A2E's voices, for reading a lipsync's text.
#[server(prefix = "/sfn", input = Json)]
pub async fn list_voices() -> Result<Vec<Voice>, AppError> {
    use super::context;
    context::read_counted(move |studio, _user| async move {
        let voices = crate::domain::voices::list(&studio).await?;
        // Not the user's rows: a page showing them is kept until they would be asked for again.
        let asked_again = std::time::Instant::now() + crate::domain::voices::KEEP;
        context::tell_page(|shown| shown.until(asked_again));
        Ok::<_, crate::domain::error::DomainError>(voices.as_ref().clone())
    })
    .await
}

#[server(prefix = "/sfn", input = Json)]
pub async fn fight(picks: Vec<Pick>, moves: Vec<String>) -> Result<Generation, AppError> {
    use super::context;
    use crate::domain::generations::{create_fight_sequence, FightInput};
    context::for_user(move |studio, user| async move {
        let character_refs = convert::refs(&studio, &user, picks).await?;
        create_fight_sequence(
            &studio,
            &user,
            FightInput {
                character_refs,
                moves,
                ..Default::default()
            },
        )
        .await
    })
    .await
}

#[server(prefix = "/sfn")]
pub async fn cancel_generation(id: String) -> Result<Generation, AppError> {
    use super::context;
    context::for_user(move |studio, user| async move {
        crate::domain::generations::cancel(&studio, &user, &id).await
    })
    .await
}

#[server(prefix = "/sfn")]
pub async fn retry_generation(id: String) -> Result<Generation, AppError> {
    use super::context;
    context::for_user(move |studio, user| async move {
        crate::domain::generations::retry(&studio, &user, &id).await
    })
    .await
}
