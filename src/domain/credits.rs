//! Credits: reserve before paid work, then settle on success or refund on failure.
//! Every operation carries an idempotency key, so a retried job never charges twice.

use super::error::DomainError;
use crate::store::ledger::{self, EntryKind, NewEntry};
use crate::store::Db;
use crate::telemetry::{self, CreditEvent};
use sqlx::AnyConnection;

pub async fn balance(db: &Db, user_id: &str) -> Result<i64, DomainError> {
    Ok(ledger::balance(&db.pool, user_id).await?)
}

/// Adds credits (sign-up bonus, top-up). Repeating a key adds nothing.
pub async fn grant(
    db: &Db,
    user_id: &str,
    amount: i64,
    key: &str,
    note: &str,
) -> Result<(), DomainError> {
    let mut tx = db.pool.begin().await?;
    if !ledger::lock_user(&mut tx, user_id).await? {
        return Err(DomainError::not_found("User"));
    }
    let entry = NewEntry {
        user_id,
        kind: EntryKind::Grant,
        amount,
        idempotency_key: key,
        reservation_key: None,
        note,
    };
    let added = ledger::append(&mut tx, &entry).await?;
    tx.commit().await?;
    if added {
        telemetry::credits(CreditEvent::Granted, amount);
    }
    Ok(())
}

/// Holds `amount` credits under `key`. Fails with 402 when the balance does not cover it;
/// reserving the same key twice holds the credits once.
pub async fn reserve(
    db: &Db,
    user_id: &str,
    amount: i64,
    key: &str,
    note: &str,
) -> Result<(), DomainError> {
    let mut tx = db.pool.begin().await?;
    reserve_in(&mut tx, user_id, amount, key, note).await?;
    tx.commit().await?;
    Ok(())
}

/// [`reserve`] inside the caller's transaction, so the hold, the work's row and its job are
/// written together or not at all.
pub async fn reserve_in(
    conn: &mut AnyConnection,
    user_id: &str,
    amount: i64,
    key: &str,
    note: &str,
) -> Result<(), DomainError> {
    if amount <= 0 {
        return Err(DomainError::invalid(
            "invalid_amount",
            "A charge must be positive.",
        ));
    }
    if !ledger::lock_user(conn, user_id).await? {
        return Err(DomainError::not_found("User"));
    }
    if ledger::reservation(conn, user_id, key).await?.is_some() {
        return Ok(());
    }
    let available = ledger::balance(&mut *conn, user_id).await?;
    if available < amount {
        return Err(DomainError::InsufficientCredits {
            needed: amount,
            available,
        });
    }
    let entry = NewEntry {
        user_id,
        kind: EntryKind::Reserve,
        amount: -amount,
        idempotency_key: key,
        reservation_key: Some(key),
        note,
    };
    // Counted when written, not when the caller commits: a transaction that fails after this
    // (rare: the work's own rows failing to write) is an error in the logs as well.
    if ledger::append(conn, &entry).await? {
        telemetry::credits(CreditEvent::Reserved, amount);
    }
    Ok(())
}

/// Makes a reservation final. No-op when already settled; refused when it was refunded.
pub async fn settle(db: &Db, user_id: &str, key: &str) -> Result<(), DomainError> {
    let mut tx = db.pool.begin().await?;
    close_in(&mut tx, user_id, key, EntryKind::Settle).await?;
    tx.commit().await?;
    Ok(())
}

/// Gives a reservation back. No-op when already refunded; refused when it was settled.
pub async fn refund(db: &Db, user_id: &str, key: &str) -> Result<(), DomainError> {
    let mut tx = db.pool.begin().await?;
    close_in(&mut tx, user_id, key, EntryKind::Refund).await?;
    tx.commit().await?;
    Ok(())
}

/// How an open reservation ends.
pub use ledger::EntryKind as Close;

/// Settles (`Close::Settle`) or refunds (`Close::Refund`) a reservation inside the caller's
/// transaction. Closing it the same way twice is a no-op; a missing reservation is fine too
/// (work that was never charged).
pub async fn close_in(
    conn: &mut AnyConnection,
    user_id: &str,
    key: &str,
    how: EntryKind,
) -> Result<(), DomainError> {
    ledger::lock_user(conn, user_id).await?;
    let Some(state) = ledger::reservation(conn, user_id, key).await? else {
        return Ok(());
    };
    match state.closed_by {
        Some(done) if done == how => return Ok(()),
        Some(_) => {
            return Err(DomainError::conflict(
                "reservation_closed",
                "This charge was already closed.",
            ))
        }
        None => {}
    }
    let (prefix, amount) = match how {
        EntryKind::Settle => ("settle", 0),
        _ => ("refund", state.amount),
    };
    let idempotency_key = format!("{prefix}:{key}");
    let entry = NewEntry {
        user_id,
        kind: how,
        amount,
        idempotency_key: &idempotency_key,
        reservation_key: Some(key),
        note: "",
    };
    if ledger::append(conn, &entry).await? {
        let event = match how {
            EntryKind::Settle => CreditEvent::Settled,
            _ => CreditEvent::Refunded,
        };
        telemetry::credits(event, state.amount);
    }
    Ok(())
}

/// Whether a reservation is still open (held, neither settled nor refunded).
pub async fn is_open(
    conn: &mut AnyConnection,
    user_id: &str,
    key: &str,
) -> Result<bool, DomainError> {
    Ok(ledger::reservation(conn, user_id, key)
        .await?
        .is_some_and(|r| r.closed_by.is_none()))
}
