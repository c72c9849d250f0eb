//! Credits: reserve before paid work, then settle on success or refund on failure.
//! Every operation carries an idempotency key, so a retried job never charges twice.

use crate::error::AppError;
use crate::store::ledger::{self, EntryKind, NewEntry};
use crate::store::Db;

pub async fn balance(db: &Db, user_id: &str) -> Result<i64, AppError> {
    Ok(ledger::balance(&db.pool, user_id).await?)
}

/// Adds credits (sign-up bonus, top-up). Repeating a key adds nothing.
pub async fn grant(
    db: &Db,
    user_id: &str,
    amount: i64,
    key: &str,
    note: &str,
) -> Result<(), AppError> {
    let mut tx = db.pool.begin().await?;
    if !ledger::lock_user(&mut tx, user_id).await? {
        return Err(AppError::not_found("User"));
    }
    let entry = NewEntry {
        user_id,
        kind: EntryKind::Grant,
        amount,
        idempotency_key: key,
        reservation_key: None,
        note,
    };
    ledger::append(&mut tx, &entry).await?;
    tx.commit().await?;
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
) -> Result<(), AppError> {
    if amount <= 0 {
        return Err(AppError::internal());
    }
    let mut tx = db.pool.begin().await?;
    if !ledger::lock_user(&mut tx, user_id).await? {
        return Err(AppError::not_found("User"));
    }
    if ledger::reservation(&mut tx, user_id, key).await?.is_some() {
        return Ok(());
    }
    let available = ledger::balance(&mut *tx, user_id).await?;
    if available < amount {
        return Err(AppError::payment_required(format!(
            "This costs {amount} credits and you have {available}."
        )));
    }
    let entry = NewEntry {
        user_id,
        kind: EntryKind::Reserve,
        amount: -amount,
        idempotency_key: key,
        reservation_key: Some(key),
        note,
    };
    ledger::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Makes a reservation final. No-op when already settled; refused when it was refunded.
pub async fn settle(db: &Db, user_id: &str, key: &str) -> Result<(), AppError> {
    close(db, user_id, key, EntryKind::Settle).await
}

/// Gives a reservation back. No-op when already refunded; refused when it was settled.
pub async fn refund(db: &Db, user_id: &str, key: &str) -> Result<(), AppError> {
    close(db, user_id, key, EntryKind::Refund).await
}

async fn close(db: &Db, user_id: &str, key: &str, how: EntryKind) -> Result<(), AppError> {
    let mut tx = db.pool.begin().await?;
    ledger::lock_user(&mut tx, user_id).await?;
    let Some(state) = ledger::reservation(&mut tx, user_id, key).await? else {
        return Err(AppError::not_found("Reservation"));
    };
    match state.closed_by {
        Some(done) if done == how => return Ok(()),
        Some(_) => {
            return Err(AppError::conflict(
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
    ledger::append(&mut tx, &entry).await?;
    tx.commit().await?;
    Ok(())
}
