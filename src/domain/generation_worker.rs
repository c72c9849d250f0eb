//! The job that carries a generation through A2E: start each task exactly once (see `once`),
//! poll it, copy the results home, then settle the charge — or end failed and refunded. One
//! short step per run; every write is fenced by the job's lease.

use super::credits::{self, Close};
use super::error::DomainError;
use super::generations::{announce, charge_key};
use super::once::{self, StepError, StepResult};
use super::studio::Studio;
use crate::a2e::{self, Record, TaskFamily, TaskStatus};
use crate::jobs::queue::Fence;
use crate::jobs::{Job, JobHandler, Outcome};
use crate::models::{Generation, GenerationSpec, GenerationStatus, Reference, StartState, TaskApi};
use crate::store::generations as rows;

/// What a step achieved.
enum Step {
    Waiting,
    Finished,
}

pub struct GenerationWorker(pub Studio);

#[async_trait::async_trait]
impl JobHandler for GenerationWorker {
    async fn run(&self, job: &Job) -> Outcome {
        let studio = &self.0;
        let (Some(user_id), Some(id)) = (&job.user_id, &job.subject_id) else {
            return Outcome::Failed {
                error: "generation job without its generation".into(),
            };
        };
        let mut g = match rows::get(&studio.db.pool, user_id, id).await {
            Ok(Some(g)) => g,
            Ok(None) => return Outcome::Done,
            Err(err) => return StepError::from(err).into_outcome(job),
        };
        let w = Worker {
            studio,
            fence: &job.fence,
        };
        if g.status == GenerationStatus::Cancelled {
            return w
                .finish_cancelled(&mut g)
                .await
                .unwrap_or_else(|e| e.into_outcome(job));
        }
        if g.is_finished() {
            return Outcome::Done;
        }
        match w.advance(&mut g).await {
            Ok(Step::Waiting) => {
                g.status = GenerationStatus::Running;
                g.notice = None;
                match w.save(&g).await {
                    Ok(()) => Outcome::Again {
                        after_ms: studio.clock.poll_ms,
                    },
                    Err(err) => err.into_outcome(job),
                }
            }
            Ok(Step::Finished) => match w.complete(&mut g).await {
                Ok(()) => Outcome::Done,
                Err(err) => err.into_outcome(job),
            },
            Err(err) => {
                if let Some(notice) = err.notice() {
                    g.notice = Some(notice.to_string());
                    let _ = w.save(&g).await;
                }
                err.into_outcome(job)
            }
        }
    }

    /// Ends the generation failed with `reason` and refunds it, in one transaction.
    async fn give_up(&self, job: &Job, reason: &str) -> Result<(), String> {
        let studio = &self.0;
        let (Some(user_id), Some(id)) = (&job.user_id, &job.subject_id) else {
            return Ok(());
        };
        let failed = async {
            let mut tx = studio.db.pool.begin().await?;
            if job.fence.hold(&mut tx).await.is_err() {
                return Ok::<_, DomainError>(None);
            }
            let Some(mut g) = rows::get(&mut *tx, user_id, id).await? else {
                return Ok(None);
            };
            g.status = GenerationStatus::Failed;
            g.error = Some(reason.to_string());
            g.notice = None;
            if rows::save_progress(&mut tx, &g).await? {
                credits::close_in(&mut tx, user_id, &charge_key(id), Close::Refund).await?;
            }
            tx.commit().await?;
            Ok(Some(g))
        };
        match failed.await {
            Ok(Some(g)) => {
                announce(studio, &g);
                Ok(())
            }
            Ok(None) => Ok(()),
            Err(err) => Err(err.to_string()),
        }
    }
}

/// What a lipsync says: an audio file, or text spoken in a voice.
struct Speech<'a> {
    audio_url: &'a Option<String>,
    text: &'a Option<String>,
    voice: &'a Option<String>,
}

struct Worker<'a> {
    studio: &'a Studio,
    fence: &'a Fence,
}

impl Worker<'_> {
    /// Saves progress (fenced). A generation cancelled meanwhile keeps only its results.
    async fn save(&self, g: &Generation) -> StepResult<()> {
        let mut tx = self.studio.db.pool.begin().await?;
        self.fence.hold(&mut tx).await?;
        let saved =
            rows::save_progress(&mut tx, g).await? || rows::save_cancelled(&mut tx, g).await?;
        tx.commit().await?;
        if saved {
            announce(self.studio, g);
        }
        Ok(())
    }

    /// Records the results and settles the charge, together.
    async fn complete(&self, g: &mut Generation) -> StepResult<()> {
        g.status = GenerationStatus::Completed;
        g.progress = 100;
        g.notice = None;
        let mut tx = self.studio.db.pool.begin().await?;
        self.fence.hold(&mut tx).await?;
        if rows::save_progress(&mut tx, g).await? {
            credits::close_in(&mut tx, &g.user_id, &charge_key(&g.id), Close::Settle).await?;
        } else {
            rows::save_cancelled(&mut tx, g).await?;
        }
        tx.commit().await?;
        announce(self.studio, g);
        Ok(())
    }

    /// A cancelled generation: nothing new is started. A start whose outcome was unknown at the
    /// cancel is looked up first; then the charge is settled if A2E started anything (and the
    /// task in flight is followed so its result is kept), refunded otherwise.
    async fn finish_cancelled(&self, g: &mut Generation) -> StepResult<Outcome> {
        for (api, start) in g.work.starts_mut() {
            if let StartState::Sent { .. } = start {
                *start = match once::recover(self.studio, family_of(api), start).await? {
                    Some(task_id) => StartState::Started { task_id },
                    None => StartState::NotSent,
                };
            }
        }
        let started = g.work.any_started();
        let how = if started {
            Close::Settle
        } else {
            Close::Refund
        };
        let mut tx = self.studio.db.pool.begin().await?;
        self.fence.hold(&mut tx).await?;
        credits::close_in(&mut tx, &g.user_id, &charge_key(&g.id), how).await?;
        rows::save_cancelled(&mut tx, g).await?;
        tx.commit().await?;
        let in_flight = match &g.spec {
            GenerationSpec::FightSequence { .. } => None,
            _ => g.work.task.task_id().map(String::from),
        };
        let (Some(task), Some(api)) = (in_flight, g.work.api) else {
            return Ok(Outcome::Done);
        };
        if !g.result_urls.is_empty() {
            return Ok(Outcome::Done);
        }
        let (status, urls) = poll(self.studio, api, &task).await?;
        match status {
            TaskStatus::Completed => {
                g.result_urls = keep_all(self.studio, &g.user_id, &urls).await?;
                self.save(g).await?;
                Ok(Outcome::Done)
            }
            TaskStatus::Failed => Ok(Outcome::Done),
            _ => Ok(Outcome::Again {
                after_ms: self.studio.clock.poll_ms,
            }),
        }
    }

    async fn advance(&self, g: &mut Generation) -> StepResult<Step> {
        if matches!(g.spec, GenerationSpec::FightSequence { .. }) {
            return self.advance_fight(g).await;
        }
        let api = g
            .work
            .api
            .ok_or_else(|| StepError::Fail("This generation has no A2E task kind.".into()))?;
        let Some(task) = g.work.task.task_id().map(String::from) else {
            let started = self
                .start_once(g, api, |g| g.work.task.clone(), |g, s| g.work.task = s)
                .await?;
            g.work.task = StartState::Started { task_id: started };
            g.progress = 5;
            return Ok(Step::Waiting);
        };
        let (status, urls) = poll(self.studio, api, &task).await?;
        match status {
            TaskStatus::Completed => {
                g.result_urls = keep_all(self.studio, &g.user_id, &urls).await?;
                Ok(Step::Finished)
            }
            TaskStatus::Failed => Err(StepError::Fail(
                urls.first()
                    .cloned()
                    .unwrap_or_else(|| "A2E could not make it.".into()),
            )),
            other => {
                g.progress = progress_of(&other, g.progress);
                Ok(Step::Waiting)
            }
        }
    }

    /// Starts one task exactly once: adopts it if a lost answer left it at A2E, else records the
    /// intent (fenced, and only while the generation is unfinished) and asks A2E.
    async fn start_once(
        &self,
        g: &mut Generation,
        api: TaskApi,
        read: impl Fn(&Generation) -> StartState,
        write: impl Fn(&mut Generation, StartState),
    ) -> StepResult<String> {
        let start = read(g);
        if let Some(found) = once::recover(self.studio, family_of(api), &start).await? {
            return Ok(found);
        }
        let sent = once::intent(&start, &task_name(g, api, &start));
        write(g, sent.clone());
        g.status = GenerationStatus::Running;
        self.save_intent(g).await?;
        match self.call_start(g, api, &sent).await {
            Ok(record) => Ok(record.id),
            Err(err) => {
                // Saved with the step's notice: a certain refusal leaves nothing started.
                write(g, once::after_error(&err, &sent));
                Err(once::start_error(self.studio, err, &sent))
            }
        }
    }

    /// Writes the intent; refuses (lease lost) when the generation was cancelled meanwhile,
    /// so a cancel that refunded can never be followed by a start.
    async fn save_intent(&self, g: &Generation) -> StepResult<()> {
        let mut tx = self.studio.db.pool.begin().await?;
        self.fence.hold(&mut tx).await?;
        if !rows::save_progress(&mut tx, g).await? {
            return Err(StepError::LeaseLost);
        }
        tx.commit().await?;
        Ok(())
    }

    async fn call_start(
        &self,
        g: &Generation,
        api: TaskApi,
        sent: &StartState,
    ) -> Result<Record, a2e::A2eError> {
        let StartState::Sent { name, .. } = sent else {
            unreachable!("a start is called with its intent")
        };
        let a2e = &self.studio.a2e;
        if let Some(step) = fight_step_of(g) {
            return self.start_fight_part(g, step, api, name).await;
        }
        let who = subject(g);
        match (&g.spec, api) {
            (
                GenerationSpec::Scene {
                    prompt, sketch_url, ..
                },
                _,
            ) => {
                let request = scene_request(g, name, prompt, sketch_url.as_deref());
                a2e.nano_banana_start(&request).await
            }
            (
                GenerationSpec::MotionTransfer {
                    prompt, video_url, ..
                },
                _,
            ) => {
                let request = a2e::MotionTransferRequest {
                    name: name.clone(),
                    image_url: who.image_url.clone(),
                    user_video_twin_id: who.avatar_id.clone(),
                    video_url: video_url.clone(),
                    positive_prompt: dressed(prompt, &g.references),
                    negative_prompt: String::new(),
                };
                a2e.motion_transfer_start(&request).await
            }
            (
                GenerationSpec::ImageToVideo {
                    prompt, duration, ..
                },
                _,
            ) => {
                let request = a2e::Image2VideoRequest {
                    name: name.clone(),
                    image_url: self.image_of(g, &who).await?,
                    user_video_twin_id: who.avatar_id.clone(),
                    prompt: dressed(prompt, &g.references),
                    model_type: "GENERAL".into(),
                    video_time: *duration,
                    ..Default::default()
                };
                a2e.image_to_video_start(&request).await
            }
            (
                GenerationSpec::Lipsync {
                    audio_url,
                    text,
                    voice,
                    ..
                },
                api,
            ) => {
                let speech = Speech {
                    audio_url,
                    text,
                    voice,
                };
                self.start_lipsync(g, &who, api, name, speech).await
            }
            (GenerationSpec::FightSequence { .. }, _) => unreachable!("fights start by step"),
        }
    }

    async fn start_lipsync(
        &self,
        g: &Generation,
        who: &Reference,
        api: TaskApi,
        name: &str,
        speech: Speech<'_>,
    ) -> Result<Record, a2e::A2eError> {
        let a2e = &self.studio.a2e;
        let audio = match speech.audio_url {
            Some(url) => url.clone(),
            None => {
                a2e.text_to_speech(&a2e::TtsRequest {
                    msg: speech.text.clone().unwrap_or_default(),
                    tts_id: self.voice_of(speech.voice).await?,
                })
                .await?
            }
        };
        match (api, &who.avatar_id) {
            // A trained avatar speaks through its anchor: A2E's avatar lipsync.
            (TaskApi::AvatarLipsync, Some(avatar)) => {
                let anchor = a2e
                    .anchors(avatar)
                    .await?
                    .into_iter()
                    .next()
                    .ok_or_else(|| a2e::A2eError::BadInput {
                        message: format!("{}'s avatar has no anchor at A2E yet.", who.name),
                    })?;
                let request = a2e::LipsyncRequest {
                    title: name.to_string(),
                    anchor_id: anchor.id,
                    anchor_type: 0,
                    audio_src: audio,
                };
                a2e.lipsync_start(&request).await
            }
            _ => {
                let request = a2e::TalkingPhotoRequest {
                    name: name.to_string(),
                    image_url: self.image_of(g, who).await?,
                    audio_url: audio,
                    prompt: String::new(),
                    duration: 10,
                };
                a2e.talking_photo_start(&request).await
            }
        }
    }

    /// The voice chosen with the generation; without one (made before voices could be chosen,
    /// or while A2E could not list them), A2E's first voice.
    async fn voice_of(&self, chosen: &Option<String>) -> Result<String, a2e::A2eError> {
        if let Some(voice) = chosen {
            return Ok(voice.clone());
        }
        match super::voices::first(self.studio).await {
            Ok(voice) => Ok(voice),
            Err(DomainError::A2e(err)) => Err(err),
            Err(err) => Err(a2e::A2eError::BadInput {
                message: err.to_string(),
            }),
        }
    }

    /// Image URL of a reference: avatars are still shown by their character's image where an
    /// API needs one (image-to-video), alongside the avatar id.
    async fn image_of(&self, g: &Generation, r: &Reference) -> Result<String, a2e::A2eError> {
        if let Some(url) = &r.image_url {
            return Ok(url.clone());
        }
        let id = r.character_id.as_deref().unwrap_or_default();
        let character = crate::store::characters::get(&self.studio.db.pool, &g.user_id, id)
            .await
            .ok()
            .flatten();
        character
            .and_then(|c| c.image_url)
            .ok_or_else(|| a2e::A2eError::BadInput {
                message: format!("{} has no image.", r.name),
            })
    }

    /// One move of a fight: a scene with the same avatars (continuing from the previous
    /// move's scene), then a clip animated from it.
    async fn advance_fight(&self, g: &mut Generation) -> StepResult<Step> {
        let Some(index) = g.work.steps.iter().position(|s| s.video_url.is_none()) else {
            g.result_urls = g
                .work
                .steps
                .iter()
                .filter_map(|s| s.video_url.clone())
                .collect();
            return Ok(Step::Finished);
        };
        let step = g.work.steps[index].clone();
        if step.scene.task_id().is_none() {
            let task = self
                .start_once(
                    g,
                    TaskApi::Scene,
                    move |g| g.work.steps[index].scene.clone(),
                    move |g, s| g.work.steps[index].scene = s,
                )
                .await?;
            g.work.steps[index].scene = StartState::Started { task_id: task };
        } else if step.scene_url.is_none() {
            let task = step.scene.task_id().unwrap_or_default();
            if let Some(url) =
                poll_move(self.studio, &g.user_id, TaskApi::Scene, task, index).await?
            {
                g.work.steps[index].scene_url = Some(url);
            }
        } else if step.video.task_id().is_none() {
            let task = self
                .start_once(
                    g,
                    TaskApi::I2v,
                    move |g| g.work.steps[index].video.clone(),
                    move |g, s| g.work.steps[index].video = s,
                )
                .await?;
            g.work.steps[index].video = StartState::Started { task_id: task };
        } else {
            let task = step.video.task_id().unwrap_or_default();
            if let Some(url) = poll_move(self.studio, &g.user_id, TaskApi::I2v, task, index).await?
            {
                g.work.steps[index].video_url = Some(url);
            }
        }
        let parts: usize = g
            .work
            .steps
            .iter()
            .map(|s| {
                [
                    s.scene.task_id().is_some(),
                    s.scene_url.is_some(),
                    s.video.task_id().is_some(),
                    s.video_url.is_some(),
                ]
                .iter()
                .filter(|done| **done)
                .count()
            })
            .sum();
        g.progress = (parts * 100 / (g.work.steps.len() * 4).max(1)).min(99) as i64;
        Ok(Step::Waiting)
    }

    async fn start_fight_part(
        &self,
        g: &Generation,
        index: usize,
        api: TaskApi,
        name: &str,
    ) -> Result<Record, a2e::A2eError> {
        let GenerationSpec::FightSequence { setting, .. } = &g.spec else {
            unreachable!("fight parts belong to fights")
        };
        let step = &g.work.steps[index];
        let a2e = &self.studio.a2e;
        match api {
            TaskApi::Scene => {
                let previous = index
                    .checked_sub(1)
                    .and_then(|i| g.work.steps[i].scene_url.clone());
                let prompt = format!(
                    "Fight scene, move {}: {}. {setting}",
                    index + 1,
                    step.action
                );
                let request = scene_request(g, name, &prompt, previous.as_deref());
                a2e.nano_banana_start(&request).await
            }
            _ => {
                let request = a2e::Image2VideoRequest {
                    name: name.to_string(),
                    image_url: step.scene_url.clone().unwrap_or_default(),
                    user_video_twin_id: g.references.iter().find_map(|r| r.avatar_id.clone()),
                    prompt: dressed(&step.action, &g.references),
                    model_type: "GENERAL".into(),
                    video_time: 5,
                    ..Default::default()
                };
                a2e.image_to_video_start(&request).await
            }
        }
    }
}

/// The fight move whose part is being started (the first one without its clip).
fn fight_step_of(g: &Generation) -> Option<usize> {
    match g.spec {
        GenerationSpec::FightSequence { .. } => {
            g.work.steps.iter().position(|s| s.video_url.is_none())
        }
        _ => None,
    }
}

/// A name unique to the task, so a start whose answer was lost is found at A2E by it.
fn task_name(g: &Generation, api: TaskApi, start: &StartState) -> String {
    if let StartState::Sent { name, .. } | StartState::Waiting { name, .. } = start {
        return name.clone();
    }
    match fight_step_of(g) {
        Some(i) => {
            let part = if api == TaskApi::Scene {
                "scene"
            } else {
                "clip"
            };
            format!("fight {} move {} {part}", g.id, i + 1)
        }
        None => format!("{} {}", g.kind(), g.id),
    }
}

fn family_of(api: TaskApi) -> TaskFamily {
    match api {
        TaskApi::Scene => TaskFamily::NanoBanana,
        TaskApi::Motion => TaskFamily::MotionTransfer,
        TaskApi::I2v => TaskFamily::Image2Video,
        TaskApi::TalkingPhoto => TaskFamily::TalkingPhoto,
        TaskApi::AvatarLipsync => TaskFamily::Lipsync,
    }
}

fn progress_of(status: &TaskStatus, previous: i64) -> i64 {
    let floor = match status {
        TaskStatus::Initialized => 5,
        TaskStatus::Sent => 10,
        TaskStatus::Pending => 20,
        _ => 30,
    };
    floor.max((previous + 8).min(90))
}

fn subject(g: &Generation) -> Reference {
    g.references.first().cloned().unwrap_or(Reference {
        name: String::new(),
        via: crate::models::Via::Image,
        character_id: None,
        avatar_id: None,
        image_url: None,
        outfit: None,
    })
}

/// A video prompt with what the characters wear, so a clip keeps their look.
fn dressed(prompt: &str, refs: &[Reference]) -> String {
    let outfits: Vec<String> = refs
        .iter()
        .filter_map(|r| Some(format!("{} wears {}", r.name, r.outfit.as_ref()?)))
        .collect();
    match outfits.is_empty() {
        true => prompt.to_string(),
        false => format!("{prompt}. {}.", outfits.join("; ")),
    }
}

fn scene_request(
    g: &Generation,
    name: &str,
    prompt: &str,
    extra_image: Option<&str>,
) -> a2e::NanoBananaRequest {
    let refs = &g.references;
    let mut input_images: Vec<String> = refs.iter().filter_map(|r| r.image_url.clone()).collect();
    input_images.extend(extra_image.map(String::from));
    let names: Vec<String> = refs.iter().map(Reference::described).collect();
    let prompt = if names.is_empty() {
        prompt.to_string()
    } else {
        format!("{prompt}. Characters: {}.", names.join(", "))
    };
    let aspect_ratio = match &g.spec {
        GenerationSpec::Scene { aspect_ratio, .. }
        | GenerationSpec::FightSequence { aspect_ratio, .. } => Some(aspect_ratio.clone()),
        _ => None,
    };
    a2e::NanoBananaRequest {
        name: name.to_string(),
        prompt,
        input_images,
        user_video_twin_ids: refs.iter().filter_map(|r| r.avatar_id.clone()).collect(),
        model: "nano-banana-pro".into(),
        aspect_ratio,
        image_size: None,
    }
}

/// Status of a task and, when done, its result URLs (or, when failed, its reason first).
async fn poll(studio: &Studio, api: TaskApi, task: &str) -> StepResult<(TaskStatus, Vec<String>)> {
    let a2e = &studio.a2e;
    let record = match api {
        TaskApi::Scene => a2e.nano_banana_status(task).await,
        TaskApi::Motion => a2e.motion_transfer_status(task).await,
        TaskApi::I2v => a2e.image_to_video_status(task).await,
        TaskApi::TalkingPhoto => a2e.talking_photo_status(task).await,
        TaskApi::AvatarLipsync => {
            let r = a2e.lipsync_status(task).await.map_err(once::poll_error)?;
            let urls = match r.status {
                TaskStatus::Failed => r.failed_message.into_iter().collect(),
                _ => r.result.into_iter().collect(),
            };
            return Ok((r.status, urls));
        }
    }
    .map_err(once::poll_error)?;
    let urls = match record.current_status {
        TaskStatus::Failed => record.failed_message.into_iter().collect(),
        _ if !record.image_urls.is_empty() => record.image_urls,
        _ => record.result_url.into_iter().collect(),
    };
    Ok((record.current_status, urls))
}

async fn keep_all(studio: &Studio, user_id: &str, urls: &[String]) -> StepResult<Vec<String>> {
    if urls.is_empty() {
        return Err(StepError::Fail("A2E finished but sent no result.".into()));
    }
    let mut kept = Vec::with_capacity(urls.len());
    for url in urls {
        let media = super::media::keep_result(studio, user_id, url)
            .await
            .map_err(|e| StepError::Later {
                reason: e.to_string(),
            })?;
        kept.push(media.url);
    }
    Ok(kept)
}

/// Polls one task of a fight move: its result, kept in our store, once done.
async fn poll_move(
    studio: &Studio,
    user_id: &str,
    api: TaskApi,
    task: &str,
    index: usize,
) -> StepResult<Option<String>> {
    let (status, urls) = poll(studio, api, task).await?;
    match status {
        TaskStatus::Completed => Ok(keep_all(studio, user_id, &urls).await?.into_iter().next()),
        TaskStatus::Failed => {
            let reason = urls.first().cloned().unwrap_or_default();
            Err(StepError::Fail(format!("Move {}: {reason}", index + 1)))
        }
        _ => Ok(None),
    }
}
