//! The append-only credit ledger: inserts and sums, no updates or deletes.

use sqlx::{Any, AnyConnection, Executor, Row};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryKind {
    Grant,
    Reserve,
    Settle,
    Refund,
}

impl EntryKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Grant => "grant",
            Self::Reserve => "reserve",
            Self::Settle => "settle",
            Self::Refund => "refund",
        }
    }
}

pub struct NewEntry<'a> {
    pub user_id: &'a str,
    pub kind: EntryKind,
    pub amount: i64,
    pub idempotency_key: &'a str,
    pub reservation_key: Option<&'a str>,
    pub note: &'a str,
}

/// Appends an entry; `Ok(false)` when its idempotency key was already used.
pub async fn append(conn: &mut AnyConnection, entry: &NewEntry<'_>) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO credit_ledger
            (id, user_id, kind, amount, idempotency_key, reservation_key, note, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (idempotency_key) DO NOTHING",
    )
    .bind(super::new_id())
    .bind(entry.user_id)
    .bind(entry.kind.as_str())
    .bind(entry.amount)
    .bind(entry.idempotency_key)
    .bind(entry.reservation_key)
    .bind(entry.note)
    .bind(super::now_millis())
    .execute(&mut *conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A user's balance as an SQL expression over `credit_ledger` rows. PostgreSQL sums BIGINT into
/// NUMERIC; the cast keeps one integer type on both databases.
pub const BALANCE: &str = "CAST(COALESCE(SUM(amount), 0) AS BIGINT)";

pub async fn balance<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT {BALANCE} AS balance FROM credit_ledger WHERE user_id = $1");
    let row = sqlx::query(&sql).bind(user_id).fetch_one(exec).await?;
    row.try_get("balance")
}

/// Takes the user's ledger lock for the rest of the transaction, so that concurrent
/// reservations see each other's entries. `false` when the user does not exist.
pub async fn lock_user(conn: &mut AnyConnection, user_id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE users SET ledger_seq = ledger_seq + 1 WHERE id = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The state of a reservation: its (positive) amount, and whether it was settled or refunded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReservationState {
    pub amount: i64,
    pub closed_by: Option<EntryKind>,
}

pub async fn reservation(
    conn: &mut AnyConnection,
    user_id: &str,
    reservation_key: &str,
) -> Result<Option<ReservationState>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT kind, amount FROM credit_ledger WHERE user_id = $1 AND reservation_key = $2",
    )
    .bind(user_id)
    .bind(reservation_key)
    .fetch_all(&mut *conn)
    .await?;
    let mut state: Option<ReservationState> = None;
    let mut closed_by = None;
    for row in &rows {
        let kind: String = row.try_get("kind")?;
        let amount: i64 = row.try_get("amount")?;
        match kind.as_str() {
            "reserve" => {
                state = Some(ReservationState {
                    amount: -amount,
                    closed_by: None,
                })
            }
            "settle" => closed_by = Some(EntryKind::Settle),
            "refund" => closed_by = Some(EntryKind::Refund),
            _ => {}
        }
    }
    Ok(state.map(|s| ReservationState { closed_by, ..s }))
}

/// Reservations older than `before` (ms) that were neither settled nor refunded.
pub async fn open_reservations(
    conn: &mut AnyConnection,
    before: i64,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT r.user_id, r.reservation_key FROM credit_ledger r
         WHERE r.kind = 'reserve' AND r.created_at < $1
           AND NOT EXISTS (SELECT 1 FROM credit_ledger c
                           WHERE c.reservation_key = r.reservation_key AND c.kind IN ('settle', 'refund'))
         ORDER BY r.created_at LIMIT $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("user_id")?, row.try_get("reservation_key")?)))
        .collect()
}

/// One ledger entry as the credits page shows it.
#[derive(Debug, Clone)]
pub struct EntryRow {
    pub id: String,
    pub kind: String,
    pub amount: i64,
    pub note: String,
    pub reservation_key: Option<String>,
    /// The note of the reservation a settle or refund closes (theirs is empty).
    pub reserve_note: Option<String>,
    pub created_at: i64,
}

/// The user's entries, newest first, strictly after the keyset position `after`
/// (`(created_at, id)` of the last entry already shown).
pub async fn page<'c>(
    exec: impl Executor<'c, Database = Any>,
    user_id: &str,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<EntryRow>, sqlx::Error> {
    // Without a position, one past the newest possible key: the same query serves every page.
    let (at, id) = after.unwrap_or((i64::MAX, ""));
    let rows = sqlx::query(
        "SELECT l.id, l.kind, l.amount, l.note, l.reservation_key, l.created_at,
             (SELECT r.note FROM credit_ledger r
              WHERE r.reservation_key = l.reservation_key AND r.kind = 'reserve'
                AND r.user_id = l.user_id) AS reserve_note
         FROM credit_ledger l
         WHERE l.user_id = $1 AND (l.created_at < $2 OR (l.created_at = $2 AND l.id < $3))
         ORDER BY l.created_at DESC, l.id DESC
         LIMIT $4",
    )
    .bind(user_id)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(exec)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(EntryRow {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                amount: r.try_get("amount")?,
                note: r.try_get("note")?,
                reservation_key: r.try_get("reservation_key")?,
                reserve_note: r.try_get("reserve_note")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}
