//! The studio's side of A2E avatars: one durable job per character carries it through its A2E
//! steps — portrait, training start, continue — each start exactly once (see `once`), each
//! charge settled or refunded by the job that holds it. A started training is then followed to
//! its end by the training watch (`training_watch`), with the others in flight.

use super::error::DomainError;
use super::media;
use super::once::{self, StepError, StepResult};
use super::studio::Studio;
use crate::a2e::{self, A2eError, TaskFamily, TaskStatus};
use crate::jobs::queue::{self, Fence};
use crate::jobs::{runner::backoff_ms, Job, JobHandler, NewJob, Outcome};
use crate::models::{AvatarStatus, Character, CharacterWork, EventKind, StartState, TrainingKind};
use crate::store::character_events as events;
use crate::store::characters::{self as rows, AvatarState};
use crate::store::media::{MediaKind, StoredMedia};
use crate::store::now_millis;
use sqlx::AnyConnection;

pub const CHARACTER_JOB: &str = "character";
/// The tracker kind of earlier versions (still queued in old databases).
pub const LEGACY_TRAINING_JOB: &str = "avatar_training";
pub const REMOVAL_JOB: &str = "avatar_removal";

/// Typical A2E durations, in A2E seconds, for the estimates users see.
const IMAGE_TRAINING_S: i64 = 210;
const VIDEO_TRAINING_S: i64 = 450;
const CONTINUE_TRAINING_S: i64 = 1800;

/// Queues the character's job inside the caller's transaction. `false` when one is running.
pub async fn enqueue_in(
    conn: &mut AnyConnection,
    studio: &Studio,
    user_id: &str,
    character_id: &str,
    reservation: Option<&str>,
) -> Result<bool, sqlx::Error> {
    let job = NewJob {
        reservation_key: reservation.map(String::from),
        deadline_ms: studio.job_deadline_ms,
        ..NewJob::about(
            CHARACTER_JOB,
            user_id,
            character_id,
            format!("character:{character_id}"),
        )
    };
    Ok(queue::enqueue_in(conn, job).await?.is_some())
}

/// Removes an avatar at A2E in the background (inside the caller's transaction).
pub async fn schedule_removal_in(
    conn: &mut AnyConnection,
    user_id: &str,
    avatar_id: &str,
) -> Result<(), sqlx::Error> {
    let job = NewJob {
        subject_id: None,
        payload: serde_json::to_value(Removal {
            avatar_id: avatar_id.to_string(),
        })
        .unwrap_or_default(),
        ..NewJob::about(REMOVAL_JOB, user_id, "", format!("removal:{avatar_id}"))
    };
    queue::enqueue_in(conn, job).await?;
    Ok(())
}

/// Keeps a reference image given by URL or data URL, checked like an upload and pre-flighted
/// for training.
pub async fn keep_reference_image(
    studio: &Studio,
    user_id: &str,
    reference: &str,
) -> Result<StoredMedia, DomainError> {
    let reference = reference.trim();
    if let Some(data) = reference.strip_prefix("data:") {
        let bytes = bytes::Bytes::from(decode_data_url(data)?);
        super::preflight::check_training_media(bytes.clone()).await?;
        return media::keep_upload(studio, user_id, bytes, MediaKind::Image).await;
    }
    if !(reference.starts_with("http://") || reference.starts_with("https://")) {
        return Err(DomainError::invalid(
            "invalid_reference_image",
            "referenceImage must be an http(s) URL or a data: URL.",
        ));
    }
    if let Some(own) = media::keep_own(studio, user_id, reference, MediaKind::Image).await {
        let own = own?;
        check_training_image(studio, &own).await?;
        return Ok(own);
    }
    let checked = studio
        .outbound
        .check(reference)
        .await
        .map_err(|refused| DomainError::invalid("url_refused", refused))?;
    let url = checked.url.as_str();
    let fetched =
        media::keep_user_url(studio, user_id, &checked.client, url, MediaKind::Image).await?;
    if let Err(err) = check_training_image(studio, &fetched).await {
        // Downloaded for this request only: it goes again.
        media::release(studio, user_id, std::slice::from_ref(&fetched.key)).await;
        return Err(err);
    }
    Ok(fetched)
}

/// A kept file an avatar is to be trained from: an image A2E can train from.
async fn check_training_image(studio: &Studio, kept: &StoredMedia) -> Result<(), DomainError> {
    if !kept.content_type.starts_with("image/") {
        return Err(DomainError::UnsupportedMedia(
            "referenceImage must be a PNG, JPEG or WebP image.".into(),
        ));
    }
    let bytes = studio.media.read(&kept.key).await.unwrap_or_default();
    super::preflight::check_training_media(bytes).await?;
    Ok(())
}

fn decode_data_url(data: &str) -> Result<Vec<u8>, DomainError> {
    use base64::Engine;
    let bad = || {
        DomainError::invalid(
            "invalid_reference_image",
            "The data URL is not base64 image data.",
        )
    };
    let (meta, payload) = data.split_once(',').ok_or_else(bad)?;
    if !meta.ends_with(";base64") {
        return Err(bad());
    }
    base64::engine::general_purpose::STANDARD
        .decode(payload.trim())
        .map_err(|_| bad())
}

/// A training image must show exactly one face, front on.
fn portrait_prompt(prompt: &str, outfit: &str) -> String {
    let outfit = if outfit.is_empty() {
        String::new()
    } else {
        format!(" Wearing {outfit}.")
    };
    format!("Portrait of one person, facing the camera, plain background. {prompt}.{outfit}")
}

fn training_state(studio: &Studio, avatar_id: &str, expected_s: i64) -> AvatarState {
    let now = now_millis();
    AvatarState {
        avatar_id: Some(avatar_id.to_string()),
        progress: Some(0),
        started_at: Some(now),
        eta_at: Some(now + studio.clock.local_ms(expected_s)),
        ..AvatarState::of(AvatarStatus::Training)
    }
}

/// Reads the training's state at A2E and records any change. Returns the character as now
/// stored. Only while A2E is training it (not while a continue is still being asked).
pub async fn refresh(studio: &Studio, character: &Character) -> Result<Character, DomainError> {
    let Some(avatar_id) = &character.avatar_id else {
        return Ok(character.clone());
    };
    if character.avatar_status != AvatarStatus::Training {
        return Ok(character.clone());
    }
    let mut conn = studio.db.pool.acquire().await?;
    let work = rows::work(&mut conn, &character.id).await?;
    if !matches!(work, Some(CharacterWork::Track | CharacterWork::Idle)) {
        return Ok(character.clone());
    }
    drop(conn);
    let record = studio.a2e.training_status(avatar_id).await?;
    let state = state_from_record(studio, character, &record).await;
    let changed =
        state.status != character.avatar_status || state.progress != character.avatar_progress;
    if changed {
        let mut tx = studio.db.pool.begin().await?;
        rows::set_avatar_state(&mut *tx, &character.id, &state, None).await?;
        if state.status != AvatarStatus::Training {
            rows::set_work(&mut tx, &character.id, &CharacterWork::Idle, None).await?;
        }
        record_change(&mut tx, character, &state).await?;
        tx.commit().await?;
    }
    let now = rows::get(&studio.db.pool, &character.user_id, &character.id)
        .await?
        .ok_or_else(|| DomainError::not_found("Character"))?;
    if changed {
        studio.announce_character(&now);
    }
    Ok(now)
}

pub(super) async fn state_from_record(
    studio: &Studio,
    character: &Character,
    record: &a2e::Record,
) -> AvatarState {
    match record.current_status {
        TaskStatus::Completed => AvatarState {
            progress: Some(100),
            preview_url: keep_preview(studio, &character.user_id, record).await,
            ..AvatarState::of(AvatarStatus::Completed)
        },
        TaskStatus::Failed => AvatarState::failed(
            record
                .failed_message
                .clone()
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "A2E stopped the training without a reason.".into()),
        ),
        _ => AvatarState {
            progress: Some(estimated_progress(character)),
            eta_at: character.eta_seconds.map(|s| now_millis() + s * 1000),
            ..AvatarState::of(AvatarStatus::Training)
        },
    }
}

/// A2E's preview URLs expire: keep a copy. A preview is a nicety, so failing to copy is no error.
async fn keep_preview(studio: &Studio, user_id: &str, record: &a2e::Record) -> Option<String> {
    let url = record
        .preview_result_url
        .as_ref()
        .or(record.cover_url.as_ref())?;
    match media::keep_result(studio, user_id, url).await {
        Ok(media) => Some(media.url),
        Err(err) => {
            tracing::warn!(error = %err, "could not keep the avatar preview");
            None
        }
    }
}

/// Records what a change of the training's state means in its history: done, failed (why),
/// or a quarter mark of progress passed.
pub(super) async fn record_change(
    conn: &mut AnyConnection,
    before: &Character,
    state: &AvatarState,
) -> Result<(), sqlx::Error> {
    let (user, id) = (&before.user_id, &before.id);
    // The job and a caller's status poll may both see the end: it is recorded once.
    let ended = match state.status {
        AvatarStatus::Completed => Some(EventKind::Done),
        AvatarStatus::Failed => Some(EventKind::Failed),
        _ => None,
    };
    if ended.is_some() && events::last_kind(conn, id).await? == ended {
        return Ok(());
    }
    match state.status {
        AvatarStatus::Completed => {
            events::record(conn, user, id, EventKind::Done, "", Some(100)).await
        }
        AvatarStatus::Failed => {
            let why = state.error.as_deref().unwrap_or_default();
            events::record(conn, user, id, EventKind::Failed, why, state.progress).await
        }
        AvatarStatus::Training => {
            let (was, now) = (
                before.avatar_progress.unwrap_or(0),
                state.progress.unwrap_or(0),
            );
            if now / 25 > was / 25 {
                let mark = Some(now / 25 * 25);
                events::record(conn, user, id, EventKind::Progress, "", mark).await?;
            }
            Ok(())
        }
        AvatarStatus::Pending => Ok(()),
    }
}

/// Elapsed share of the expected training time, held below 100 until A2E says it is done.
fn estimated_progress(c: &Character) -> i64 {
    let floor = c.avatar_progress.unwrap_or(0);
    let (Some(started), Some(eta_s)) = (c.training_started_at, c.eta_seconds) else {
        return floor;
    };
    let elapsed = (now_millis() - started).max(0) as f64 / 1000.0;
    let total = elapsed + eta_s as f64;
    let share = if total > 0.0 {
        100.0 * elapsed / total
    } else {
        95.0
    };
    (share as i64).clamp(floor.min(95), 95)
}

/// What a step leads to.
enum Next {
    /// Run the next step now.
    Now,
    /// Look again after this many milliseconds.
    After(i64),
    /// The character's work is over.
    Done,
}

/// Carries one character through its A2E steps.
pub struct CharacterJob(pub Studio);

/// One run's view: the studio, the job's fence, the character.
struct Ctx<'a> {
    studio: &'a Studio,
    fence: &'a Fence,
    character: Character,
}

impl Ctx<'_> {
    /// Writes `change` in one transaction that first proves this run still holds the job.
    async fn write<F>(&self, change: F) -> StepResult<()>
    where
        F: for<'c> FnOnce(
            &'c mut AnyConnection,
        ) -> futures::future::BoxFuture<'c, Result<(), DomainError>>,
    {
        let mut tx = self.studio.db.pool.begin().await?;
        self.fence.hold(&mut tx).await?;
        change(&mut tx).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn set_work(&self, work: CharacterWork) -> StepResult<()> {
        let id = self.character.id.clone();
        self.write(move |c| Box::pin(async move { Ok(rows::set_work(c, &id, &work, None).await?) }))
            .await
    }

    async fn announce(&self) {
        let c = &self.character;
        if let Ok(Some(now)) = rows::get(&self.studio.db.pool, &c.user_id, &c.id).await {
            self.studio.announce_character(&now);
        }
    }
}

#[async_trait::async_trait]
impl JobHandler for CharacterJob {
    async fn run(&self, job: &Job) -> Outcome {
        let studio = &self.0;
        let (Some(user_id), Some(character_id)) = (&job.user_id, &job.subject_id) else {
            return Outcome::Failed {
                error: "character job without its character".into(),
            };
        };
        let character = match rows::get(&studio.db.pool, user_id, character_id).await {
            Ok(Some(c)) => c,
            Ok(None) => return Outcome::Done,
            Err(err) => return StepError::from(err).into_outcome(job),
        };
        let ctx = Ctx {
            studio,
            fence: &job.fence,
            character,
        };
        match step(&ctx).await {
            Ok(Next::Now) => Outcome::Again { after_ms: 0 },
            Ok(Next::After(ms)) => Outcome::Again { after_ms: ms },
            Ok(Next::Done) => Outcome::Done,
            Err(err) => {
                if let Some(notice) = err.notice() {
                    show_notice(&ctx, notice).await;
                }
                err.into_outcome(job)
            }
        }
    }

    /// Ends the character's work: a failed portrait or training leaves a failed avatar the user
    /// can retry; a failed continue leaves the avatar trained as it was. Held credits go back.
    async fn give_up(&self, job: &Job, reason: &str) -> Result<(), String> {
        let studio = &self.0;
        let (Some(user_id), Some(id)) = (&job.user_id, &job.subject_id) else {
            return Ok(());
        };
        let close = async {
            let mut tx = studio.db.pool.begin().await?;
            if job.fence.hold(&mut tx).await.is_err() {
                return Ok::<_, DomainError>(());
            }
            let work = rows::work(&mut tx, id).await?.unwrap_or_default();
            // Only a hold still open goes back: the portrait's, once settled, was earned (a
            // training refused after it must not make giving up fail for ever).
            let holds = [work.charge(), job.reservation_key.as_deref()];
            for charge in holds.into_iter().flatten() {
                if super::credits::is_open(&mut tx, user_id, charge).await? {
                    let refund = super::credits::Close::Refund;
                    super::credits::close_in(&mut tx, user_id, charge, refund).await?;
                }
            }
            let state = match work {
                CharacterWork::Continue { .. } => AvatarState {
                    error: Some(format!("Continuing the training did not work: {reason}")),
                    ..AvatarState::of(AvatarStatus::Completed)
                },
                _ => AvatarState::failed(reason),
            };
            let why = state.error.clone().unwrap_or_default();
            events::record(&mut tx, user_id, id, EventKind::Failed, &why, None).await?;
            rows::set_avatar_state(&mut *tx, id, &state, None).await?;
            rows::set_work(&mut tx, id, &CharacterWork::Idle, None).await?;
            tx.commit().await?;
            Ok(())
        };
        close.await.map_err(|e| e.to_string())?;
        if let Ok(Some(c)) = rows::get(&studio.db.pool, user_id, id).await {
            studio.announce_character(&c);
        }
        Ok(())
    }
}

async fn show_notice(ctx: &Ctx<'_>, notice: &str) {
    if ctx.character.notice.as_deref() == Some(notice) {
        return;
    }
    let (id, notice) = (ctx.character.id.clone(), notice.to_string());
    let written = ctx
        .write(move |c| {
            Box::pin(async move {
                let work = rows::work(c, &id).await?.unwrap_or_default();
                Ok(rows::set_work(c, &id, &work, Some(&notice)).await?)
            })
        })
        .await;
    if written.is_ok() {
        ctx.announce().await;
    }
}

async fn step(ctx: &Ctx<'_>) -> StepResult<Next> {
    let mut conn = ctx.studio.db.pool.acquire().await?;
    let work = rows::work(&mut conn, &ctx.character.id)
        .await?
        .unwrap_or_default();
    drop(conn);
    match work {
        CharacterWork::Portrait { start, charge } => portrait_step(ctx, start, charge).await,
        CharacterWork::Train { start, attempt } => train_step(ctx, start, attempt).await,
        CharacterWork::Continue { start, charge } => continue_step(ctx, start, charge).await,
        CharacterWork::Track | CharacterWork::Idle => hand_to_watch(ctx).await,
    }
}

/// Draws the portrait at A2E, keeps it, settles its price, and moves on to training.
async fn portrait_step(ctx: &Ctx<'_>, start: StartState, charge: String) -> StepResult<Next> {
    let studio = ctx.studio;
    let c = &ctx.character;
    let Some(task) = start.task_id().map(String::from) else {
        let name = format!("portrait {}", c.id);
        let found = once::recover(studio, TaskFamily::Text2Image, &start).await?;
        let sent = match found {
            Some(task_id) => StartState::Started { task_id },
            None => {
                let sent = once::intent(&start, &name);
                ctx.set_work(CharacterWork::Portrait {
                    start: sent.clone(),
                    charge: charge.clone(),
                })
                .await?;
                let request = a2e::Text2ImageRequest {
                    name,
                    prompt: portrait_prompt(&c.prompt, &c.outfit_description),
                    req_key: "high_aes_general_v21_L".into(),
                    width: 768,
                    height: 1024,
                };
                match studio.a2e.text_to_image_start(&request).await {
                    Ok(record) => StartState::Started { task_id: record.id },
                    Err(err) => {
                        let start = once::after_error(&err, &sent);
                        ctx.set_work(CharacterWork::Portrait { start, charge })
                            .await?;
                        return Err(once::start_error(studio, err, &sent));
                    }
                }
            }
        };
        ctx.set_work(CharacterWork::Portrait {
            start: sent,
            charge,
        })
        .await?;
        return Ok(Next::After(portrait_poll_ms(studio)));
    };
    let record = studio
        .a2e
        .text_to_image_status(&task)
        .await
        .map_err(once::poll_error)?;
    match record.current_status {
        TaskStatus::Completed => {}
        TaskStatus::Failed => {
            return Err(StepError::Fail(
                record
                    .failed_message
                    .unwrap_or_else(|| "A2E could not generate the portrait.".into()),
            ))
        }
        _ => return Ok(Next::After(portrait_poll_ms(studio))),
    }
    let url = record
        .image_urls
        .first()
        .ok_or_else(|| StepError::Fail("A2E finished the portrait but sent no image.".into()))?;
    let image = media::keep_result(studio, &c.user_id, url)
        .await
        .map_err(|e| StepError::Later {
            reason: e.to_string(),
        })?;
    let (id, user_id) = (c.id.clone(), c.user_id.clone());
    let next = CharacterWork::Train {
        start: StartState::NotSent,
        attempt: 1,
    };
    ctx.write(move |conn| {
        Box::pin(async move {
            rows::set_image(conn, &id, &image.url).await?;
            super::credits::close_in(conn, &user_id, &charge, super::credits::Close::Settle)
                .await?;
            events::record(conn, &user_id, &id, EventKind::PortraitDrawn, "", None).await?;
            Ok(rows::set_work(conn, &id, &next, None).await?)
        })
    })
    .await?;
    ctx.announce().await;
    Ok(Next::Now)
}

fn portrait_poll_ms(studio: &Studio) -> i64 {
    studio.clock.poll_ms.min(2_000)
}

/// The avatar's name at A2E carries the character's id (and the attempt), so a start whose
/// answer was lost is found in A2E's list of avatars.
fn avatar_name(c: &Character, attempt: u32) -> String {
    let short: String = c.name.chars().take(60).collect();
    format!("{short} [{}.{attempt}]", c.id)
}

/// Asks A2E to train the character's avatar, exactly once.
async fn train_step(ctx: &Ctx<'_>, start: StartState, attempt: u32) -> StepResult<Next> {
    let studio = ctx.studio;
    let c = &ctx.character;
    let (image_url, video_url) = match (c.training_kind, &c.video_url, &c.image_url) {
        (TrainingKind::Video, Some(video), _) => (None, Some(video.clone())),
        (_, _, Some(image)) => (Some(image.clone()), None),
        _ => {
            return Err(StepError::Fail(
                "This character has no image or video to train from.".into(),
            ))
        }
    };
    let name = avatar_name(c, attempt);
    let avatar_id = match once::recover(studio, TaskFamily::Avatar, &start).await? {
        Some(found) => found,
        None => {
            let sent = once::intent(&start, &name);
            ctx.set_work(CharacterWork::Train {
                start: sent.clone(),
                attempt,
            })
            .await?;
            let request = a2e::TrainingRequest {
                name,
                image_url,
                video_url: video_url.clone(),
                gender: c.gender.clone().unwrap_or_else(|| "female".into()),
                model_version: c.model_version.clone(),
                prompt: c.prompt.chars().take(500).collect(),
                ..Default::default()
            };
            match studio.a2e.start_training(&request).await {
                Ok(record) => record.id,
                Err(err) => {
                    let start = once::after_error(&err, &sent);
                    ctx.set_work(CharacterWork::Train { start, attempt })
                        .await?;
                    return Err(once::start_error(studio, err, &sent));
                }
            }
        }
    };
    let expected = match video_url {
        Some(_) => VIDEO_TRAINING_S,
        None => IMAGE_TRAINING_S,
    };
    let state = training_state(studio, &avatar_id, expected);
    let (id, user_id) = (c.id.clone(), c.user_id.clone());
    let from = match expected {
        VIDEO_TRAINING_S => "From the video",
        _ => "From the image",
    };
    ctx.write(move |conn| {
        Box::pin(async move {
            events::record(
                conn,
                &user_id,
                &id,
                EventKind::TrainingStarted,
                from,
                Some(0),
            )
            .await?;
            rows::set_avatar_state(&mut *conn, &id, &state, Some(false)).await?;
            Ok(rows::set_work(conn, &id, &CharacterWork::Track, None).await?)
        })
    })
    .await?;
    ctx.announce().await;
    // The training watch follows it from here (see `training_watch`).
    Ok(Next::Done)
}

/// Asks A2E to continue the trained avatar, exactly once: a continue whose answer was lost is
/// seen in the avatar's status (no longer completed) and not asked again.
async fn continue_step(ctx: &Ctx<'_>, start: StartState, charge: String) -> StepResult<Next> {
    let studio = ctx.studio;
    let c = &ctx.character;
    let Some(avatar_id) = c.avatar_id.clone() else {
        return Err(StepError::Fail("This character has no avatar.".into()));
    };
    let mut taken = false;
    if matches!(start, StartState::Sent { .. }) {
        let record = studio
            .a2e
            .training_status(&avatar_id)
            .await
            .map_err(once::poll_error)?;
        taken = record.current_status != TaskStatus::Completed;
    }
    if !taken {
        let sent = once::intent(&start, &avatar_id);
        ctx.set_work(CharacterWork::Continue {
            start: sent.clone(),
            charge: charge.clone(),
        })
        .await?;
        if let Err(err) = studio.a2e.continue_training(&avatar_id).await {
            let start = once::after_error(&err, &sent);
            ctx.set_work(CharacterWork::Continue { start, charge })
                .await?;
            return Err(once::start_error(studio, err, &sent));
        }
    }
    let state = training_state(studio, &avatar_id, CONTINUE_TRAINING_S);
    let (id, user_id) = (c.id.clone(), c.user_id.clone());
    ctx.write(move |conn| {
        Box::pin(async move {
            super::credits::close_in(conn, &user_id, &charge, super::credits::Close::Settle)
                .await?;
            let what = "About 30 more minutes";
            events::record(conn, &user_id, &id, EventKind::Continued, what, Some(0)).await?;
            rows::set_avatar_state(&mut *conn, &id, &state, Some(true)).await?;
            Ok(rows::set_work(conn, &id, &CharacterWork::Track, None).await?)
        })
    })
    .await?;
    ctx.announce().await;
    // The training watch follows it from here (see `training_watch`).
    Ok(Next::Done)
}

/// A running training is the training watch's to follow (see `training_watch`). A row from
/// before work steps were kept says `Idle` while training: it is marked for the watch.
async fn hand_to_watch(ctx: &Ctx<'_>) -> StepResult<Next> {
    let c = &ctx.character;
    if c.avatar_status == AvatarStatus::Training && c.avatar_id.is_some() {
        ctx.set_work(CharacterWork::Track).await?;
    }
    Ok(Next::Done)
}

/// What a removal job removes.
#[derive(serde::Serialize, serde::Deserialize)]
struct Removal {
    avatar_id: String,
}

/// Removes a deleted character's avatar at A2E.
pub struct AvatarRemover(pub Studio);

#[async_trait::async_trait]
impl JobHandler for AvatarRemover {
    async fn run(&self, job: &Job) -> Outcome {
        let Ok(Removal { avatar_id }) = serde_json::from_value(job.payload.clone()) else {
            return Outcome::Failed {
                error: "removal job without an avatar id".into(),
            };
        };
        match self.0.a2e.remove_avatar(&avatar_id).await {
            Ok(()) => Outcome::Done,
            Err(A2eError::NotFound) => Outcome::Done,
            Err(err) if err.is_transient() => Outcome::Retry {
                after_ms: backoff_ms(job.attempts, 2_000, 300_000),
                error: err.to_string(),
            },
            Err(err) => Outcome::Failed {
                error: err.to_string(),
            },
        }
    }
}
