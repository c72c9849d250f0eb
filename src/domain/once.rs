//! A2E work exactly once: how a job step starts a task at A2E, and how a step ends.
//!
//! Before a start call the step records its intent (`StartState::Sent`, with a name unique to
//! the task). If the answer is lost (timeout, dropped connection, crash before the write), the
//! next run looks the name up at A2E and adopts what it finds instead of starting again. A start
//! that certainly did not reach A2E (refused connection, 503, 429) is retried until the retry
//! deadline, while the user sees that the work is waiting for A2E.

use super::error::DomainError;
use super::studio::Studio;
use crate::a2e::{A2eError, TaskFamily};
use crate::jobs::queue::FenceError;
use crate::jobs::{runner::backoff_ms, Job, Outcome};
use crate::models::StartState;
use crate::store::now_millis;

/// Why a step did not finish its work.
#[derive(Debug)]
pub enum StepError {
    /// Not a failure: look again after `after_ms`; `notice` tells the user why it waits.
    Wait { after_ms: i64, notice: String },
    /// A transient failure (database, A2E hiccup while polling): retry, counting the attempt.
    Later { reason: String },
    /// The work ends failed (and is refunded), for the reason given in the user's words.
    Fail(String),
    /// Another worker holds the job now (or it was cancelled): write nothing more.
    LeaseLost,
}

pub type StepResult<T> = Result<T, StepError>;

impl From<FenceError> for StepError {
    fn from(err: FenceError) -> Self {
        match err {
            FenceError::Lost(_) => Self::LeaseLost,
            FenceError::Db(err) => err.into(),
        }
    }
}

impl From<sqlx::Error> for StepError {
    fn from(err: sqlx::Error) -> Self {
        tracing::warn!(error = %err, "database error in a job step");
        Self::Later {
            reason: "database unavailable".into(),
        }
    }
}

impl From<DomainError> for StepError {
    /// Whether to try again is A2E's or the database's to say, never a status number's.
    fn from(err: DomainError) -> Self {
        match err {
            DomainError::A2e(err) => poll_error(err),
            DomainError::Database(err) => err.into(),
            DomainError::Media(err) => Self::Later {
                reason: err.to_string(),
            },
            other => Self::Fail(other.to_string()),
        }
    }
}

impl StepError {
    /// How the runner records it.
    pub fn into_outcome(self, job: &Job) -> Outcome {
        match self {
            Self::Wait { after_ms, .. } => Outcome::Again { after_ms },
            Self::Later { reason } => Outcome::Retry {
                after_ms: backoff_ms(job.attempts, 1_000, 60_000),
                error: reason,
            },
            Self::Fail(reason) => Outcome::Failed { error: reason },
            Self::LeaseLost => Outcome::LeaseLost,
        }
    }

    /// The notice to show while it waits, if it does.
    pub fn notice(&self) -> Option<&str> {
        match self {
            Self::Wait { notice, .. } => Some(notice),
            _ => None,
        }
    }
}

/// An A2E error met while following work already started (a status poll).
pub fn poll_error(err: A2eError) -> StepError {
    if err.is_transient() {
        return StepError::Later {
            reason: err.to_string(),
        };
    }
    match err {
        A2eError::NotFound => StepError::Fail("A2E no longer knows this task.".into()),
        other => StepError::Fail(other.user_message()),
    }
}

/// After a lost answer: the task A2E has under the intent's name, if any. `Fail` when A2E
/// offers no way to look it up: the work must not be started twice.
pub async fn recover(
    studio: &Studio,
    family: TaskFamily,
    start: &StartState,
) -> StepResult<Option<String>> {
    let StartState::Sent { name, .. } = start else {
        return Ok(None);
    };
    match studio.a2e.find_by_name(family, name).await {
        Ok(found) => {
            if let Some(record) = &found {
                tracing::info!(task = %record.id, %name, "adopted an A2E task whose start answer was lost");
            }
            Ok(found.map(|r| r.id))
        }
        Err(A2eError::NotFound) => Err(StepError::Fail(
            "The outcome is unknown at A2E (its answer was lost), so it was not started again."
                .into(),
        )),
        Err(err) => Err(poll_error(err)),
    }
}

/// The intent to write before calling A2E: `name`, and when asking began.
pub fn intent(start: &StartState, name: &str) -> StartState {
    let since = since_of(start);
    StartState::Sent {
        name: name.to_string(),
        since,
    }
}

pub const WAITING_FOR_A2E: &str =
    "Waiting for A2E: it is unavailable right now. The studio keeps trying.";

fn since_of(start: &StartState) -> i64 {
    match start {
        StartState::Sent { since, .. } | StartState::Waiting { since, .. } => *since,
        _ => now_millis(),
    }
}

/// What to record after a failed start call: `Waiting` when it certainly did not reach A2E
/// (so a cancel meanwhile refunds in full and the next try needs no lookup), else the intent.
pub fn after_error(err: &A2eError, sent: &StartState) -> StartState {
    match sent {
        StartState::Sent { name, since } if err.not_started() => StartState::Waiting {
            name: name.clone(),
            since: *since,
        },
        other => other.clone(),
    }
}

/// How a failed start call ends the step.
pub fn start_error(studio: &Studio, err: A2eError, start: &StartState) -> StepError {
    let since = since_of(start);
    if err.not_started() {
        if now_millis() - since > studio.retry_deadline_ms {
            return StepError::Fail(format!(
                "A2E stayed unavailable for {}, so the work was stopped.",
                spoken_duration(studio.retry_deadline_ms)
            ));
        }
        let after_ms = match &err {
            A2eError::RateLimited {
                retry_after: Some(wait),
            } => wait.as_millis() as i64,
            _ => backoff_ms(((now_millis() - since) / 5_000).min(6), 1_000, 30_000),
        };
        return StepError::Wait {
            after_ms,
            notice: WAITING_FOR_A2E.into(),
        };
    }
    if err.is_transient() {
        // The answer was lost: the next run looks the task up by name before anything else.
        return StepError::Later {
            reason: err.to_string(),
        };
    }
    StepError::Fail(err.user_message())
}

/// "30 minutes", "45 seconds".
fn spoken_duration(ms: i64) -> String {
    match ms / 1000 {
        s if s < 120 => format!("{s} seconds"),
        s => format!("{} minutes", s / 60),
    }
}
