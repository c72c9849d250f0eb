//! Deleting an account with everything in it, all or nothing: in one transaction its running
//! jobs are cancelled, every open credit reservation is closed the way the work stands (settled
//! when A2E may have started it, refunded otherwise), the removal of its A2E avatars is queued
//! (as jobs that outlive the account), and the user row is deleted — every table that belongs
//! to the user goes with it (ON DELETE CASCADE). Only then are its stored files removed, those
//! no other user keeps (`domain::media`).

use super::accounts;
use super::avatars::{CHARACTER_JOB, REMOVAL_JOB};
use super::credits::{self, Close};
use super::error::DomainError;
use super::generations::GENERATION_JOB;
use super::studio::Studio;
use crate::jobs::{queue, NewJob};
use crate::models::StartState;
use crate::store::{characters, closing, generations, ledger, media_usage, users};
use sqlx::AnyConnection;

/// Deletes the account after checking its password.
pub async fn delete_account(
    studio: &Studio,
    user_id: &str,
    password: &str,
) -> Result<(), DomainError> {
    accounts::check_password(&studio.db, user_id, password).await?;
    let mut tx = studio.db.pool.begin().await?;
    // The ledger lock orders this with the user's own reservations and the reconciler.
    if !ledger::lock_user(&mut tx, user_id).await? {
        return Err(DomainError::not_found("User"));
    }
    for job in closing::cancel_jobs(&mut tx, user_id, REMOVAL_JOB).await? {
        if let Some(key) = &job.reservation_key {
            let how = close_for(&mut tx, user_id, &job).await?;
            credits::close_in(&mut tx, user_id, key, how).await?;
        }
    }
    // Holds no job carries any more (the reconciler would refund them): refunded now.
    for key in closing::open_reservations(&mut tx, user_id).await? {
        credits::close_in(&mut tx, user_id, &key, Close::Refund).await?;
    }
    for (avatar_id, imported) in closing::avatars(&mut tx, user_id).await? {
        // An adopted avatar was trained elsewhere: it goes back to the A2E account's list.
        if !imported {
            schedule_removal(&mut tx, &avatar_id).await?;
        }
    }
    let keys = media_usage::keys_of(&mut tx, user_id).await?;
    if !users::delete(&mut *tx, user_id).await? {
        return Err(DomainError::not_found("User"));
    }
    tx.commit().await?;
    studio.jobs.nudge();
    tracing::info!(%user_id, "account deleted");
    super::media::remove_unkept(studio, &keys).await;
    Ok(())
}

/// How a cancelled job's reservation ends: kept when A2E may have started the work (A2E
/// charged the operator), given back when it certainly did not.
async fn close_for(
    conn: &mut AnyConnection,
    user_id: &str,
    job: &closing::LiveJob,
) -> Result<Close, DomainError> {
    let Some(subject) = &job.subject_id else {
        return Ok(Close::Refund);
    };
    let started = match job.kind.as_str() {
        CHARACTER_JOB => characters::work(conn, subject)
            .await?
            .and_then(|w| w.start().map(StartState::may_have_started))
            .unwrap_or(false),
        GENERATION_JOB => generations::get(&mut *conn, user_id, subject)
            .await?
            .is_some_and(|g| g.work.any_started() || g.work.any_unknown()),
        _ => false,
    };
    Ok(if started {
        Close::Settle
    } else {
        Close::Refund
    })
}

/// Queues an avatar's removal at A2E as a job of no user, so deleting the user keeps it.
async fn schedule_removal(conn: &mut AnyConnection, avatar_id: &str) -> Result<(), sqlx::Error> {
    let job = NewJob {
        user_id: None,
        subject_id: None,
        payload: serde_json::json!({ "avatar_id": avatar_id }),
        ..NewJob::about(REMOVAL_JOB, "", "", format!("removal:{avatar_id}"))
    };
    queue::enqueue_in(conn, job).await?;
    Ok(())
}
