//! The credit reconciler: no reservation stays open without a live job to settle or refund it.
//! It runs as a recurring job (so exactly one instance runs it at a time) and refunds orphans —
//! work whose job was lost to a bug or a manual database change — logging each one.

use super::credits::{self, Close};
use super::studio::Studio;
use crate::jobs::{queue, Job, JobHandler, NewJob, Outcome};
use crate::store::{ledger, now_millis};

pub const RECONCILE_JOB: &str = "reconcile_credits";
/// Reservations younger than this are left alone (their job may not be claimable yet).
const GRACE_MS: i64 = 60_000;

/// Makes sure the reconciler is queued (once, whatever the number of instances).
pub async fn schedule(studio: &Studio, every_ms: i64) -> Result<(), sqlx::Error> {
    let every = Every {
        every_ms: every_ms.max(1_000),
    };
    let job = NewJob::recurring(
        RECONCILE_JOB,
        every_ms,
        serde_json::to_value(every).unwrap_or_default(),
    );
    queue::enqueue(&studio.db, job).await?;
    Ok(())
}

/// Refunds every open reservation that has no live job; answers how many.
pub async fn refund_orphans(
    studio: &Studio,
    grace_ms: i64,
) -> Result<usize, super::error::DomainError> {
    let mut conn = studio.db.pool.acquire().await?;
    let open = ledger::open_reservations(&mut conn, now_millis() - grace_ms, 500).await?;
    drop(conn);
    let mut refunded = 0;
    for (user_id, key) in open {
        let mut tx = studio.db.pool.begin().await?;
        // Taking the user's ledger lock first orders this with the owner's own settle/refund.
        ledger::lock_user(&mut tx, &user_id).await?;
        if queue::has_live_owner(&mut tx, &key).await?
            || !credits::is_open(&mut tx, &user_id, &key).await?
        {
            continue;
        }
        credits::close_in(&mut tx, &user_id, &key, Close::Refund).await?;
        tx.commit().await?;
        tracing::warn!(%user_id, reservation = %key, "refunded a reservation that had no live job");
        refunded += 1;
    }
    Ok(refunded)
}

/// The reconciler's rhythm, kept in its job.
#[derive(serde::Serialize, serde::Deserialize)]
struct Every {
    every_ms: i64,
}

pub struct Reconciler(pub Studio);

#[async_trait::async_trait]
impl JobHandler for Reconciler {
    async fn run(&self, job: &Job) -> Outcome {
        let every_ms = serde_json::from_value::<Every>(job.payload.clone())
            .map(|e| e.every_ms)
            .unwrap_or(60_000);
        if let Err(err) = refund_orphans(&self.0, GRACE_MS).await {
            tracing::warn!(error = %err, "credit reconciliation did not finish");
        }
        Outcome::Again { after_ms: every_ms }
    }
}
