//! Each user's count of changes to their listed rows: what the kept lists and pages
//! (`page_cache`) are kept under. A page read after the count stood at `n` holds at least the
//! changes counted up to `n`, so it is right while the count still reads `n`.
//!
//! Why it is right: triggers in the database (installed at start by [`install_triggers`]) count
//! every insert, update and delete of a listed row in the transaction that makes it, whichever
//! process writes it (the server, its job runner, another instance, the operator's command
//! line), so a change is counted exactly when it commits. The count only grows.
//!
//! Where it is kept differs, because the databases' writers do:
//! - SQLite takes the whole database's lock for every write anyway: its triggers add one to the
//!   user's row (`users.lists_version`).
//! - On PostgreSQL one row per user would be locked by each of the user's writes until they
//!   commit: the job runner's writes would queue on it, and two transactions changing two users'
//!   rows in different orders could deadlock. So each database connection counts in a row of
//!   its own (`list_changes`, keyed by user and the connection's server process), which no other
//!   transaction ever waits for. The count is the user's row plus their connections' rows;
//!   the rows of connections that have ended are folded into the user's row now and then
//!   ([`fold_ended_connections`]), in one statement that leaves the sum as it was.

use super::DbKind;
use sqlx::AnyPool;

/// The tables whose rows the lists and kept pages show (each has the `user_id` its triggers
/// count for). The ledger's entries name the characters and generations they paid for; a
/// character's page shows its events, the account page its tokens (their last use moves at most
/// once a minute), the presets page the presets.
const LISTED: [&str; 8] = [
    "character_references",
    "character_tags",
    "character_events",
    "generations",
    "generation_characters",
    "credit_ledger",
    "api_tokens",
    "presets",
];

/// The count of the user of the `users` row in scope, as SQL (one index lookup besides the row).
pub const COUNT_SQL: &str = "users.lists_version + CAST(COALESCE(\
     (SELECT SUM(c.n) FROM list_changes c WHERE c.user_id = users.id), 0) AS BIGINT)";

/// The user's count of changes to listed rows; `None` for an unknown user.
pub async fn count_of(pool: &AnyPool, user_id: &str) -> Result<Option<i64>, sqlx::Error> {
    use sqlx::Row;
    let sql = format!("SELECT {COUNT_SQL} FROM users WHERE id = $1");
    let row = sqlx::query(&sql).bind(user_id).fetch_optional(pool).await?;
    row.map(|r| r.try_get(0)).transpose()
}

/// Installs the triggers that count every change to a listed row, in one transaction.
pub async fn install_triggers(pool: &AnyPool, kind: DbKind) -> Result<(), sqlx::Error> {
    match kind {
        DbKind::Sqlite => install_sqlite(pool).await,
        DbKind::Postgres => install_postgres(pool).await,
    }
}

/// SQLite: (re)creates each trigger, so they are always exactly the definitions below.
async fn install_sqlite(pool: &AnyPool) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    for (name, sql) in sqlite_triggers() {
        sqlx::query(&format!("DROP TRIGGER IF EXISTS {name}"))
            .execute(&mut *tx)
            .await?;
        sqlx::query(&sql).execute(&mut *tx).await?;
    }
    tx.commit().await
}

/// Each SQLite trigger's name and definition: insert, update and delete on every listed table.
fn sqlite_triggers() -> Vec<(String, String)> {
    let events = [
        ("insert", "INSERT", "NEW"),
        ("update", "UPDATE", "NEW"),
        ("delete", "DELETE", "OLD"),
    ];
    let mut all = Vec::new();
    for table in LISTED {
        for (word, event, row) in events {
            let name = format!("lists_version_{table}_{word}");
            let sql = format!(
                "CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW BEGIN \
                 UPDATE users SET lists_version = lists_version + 1 WHERE id = {row}.user_id; END"
            );
            all.push((name, sql));
        }
    }
    all
}

/// Counts one change in the writing connection's own row (see the module's comment).
const POSTGRES_COUNT_FUNCTION: &str = "CREATE OR REPLACE FUNCTION count_list_change() \
RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE changed_user TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN changed_user := OLD.user_id; ELSE changed_user := NEW.user_id; END IF;
    INSERT INTO list_changes (user_id, backend, n) VALUES (changed_user, pg_backend_pid(), 1)
        ON CONFLICT (user_id, backend) DO UPDATE SET n = list_changes.n + 1;
    RETURN NULL;
END $$";

/// PostgreSQL: replaces the counting function and adds the triggers that are missing, under a
/// lock so instances starting together do not collide. Existing triggers are left standing
/// (dropping one would lock its table against every reader): a trigger whose definition
/// changes must take a new name.
async fn install_postgres(pool: &AnyPool) -> Result<(), sqlx::Error> {
    use sqlx::Row;
    let mut tx = pool.begin().await?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('avatar_studio.list_changes'))")
        .execute(&mut *tx)
        .await?;
    sqlx::raw_sql(POSTGRES_COUNT_FUNCTION)
        .execute(&mut *tx)
        .await?;
    let standing: Vec<String> =
        sqlx::query("SELECT tgname::TEXT FROM pg_trigger WHERE tgname LIKE 'lists_version_%'")
            .fetch_all(&mut *tx)
            .await?
            .iter()
            .map(|row| row.try_get(0))
            .collect::<Result<_, _>>()?;
    for (name, sql) in postgres_triggers() {
        if !standing.contains(&name) {
            sqlx::query(&sql).execute(&mut *tx).await?;
        }
    }
    tx.commit().await
}

/// Each PostgreSQL trigger's name and definition: inserts and deletes on every listed table,
/// and updates that change something (a row locked by rewriting it as it was is no change).
fn postgres_triggers() -> Vec<(String, String)> {
    let mut all = Vec::new();
    for table in LISTED {
        let name = format!("lists_version_{table}_insert_delete");
        let sql = format!(
            "CREATE TRIGGER {name} AFTER INSERT OR DELETE ON {table} \
             FOR EACH ROW EXECUTE FUNCTION count_list_change()"
        );
        all.push((name, sql));
        let name = format!("lists_version_{table}_update");
        let sql = format!(
            "CREATE TRIGGER {name} AFTER UPDATE ON {table} FOR EACH ROW \
             WHEN (OLD.* IS DISTINCT FROM NEW.*) EXECUTE FUNCTION count_list_change()"
        );
        all.push((name, sql));
    }
    all
}

/// PostgreSQL: moves the counts of connections that have ended into their users' rows, in one
/// statement (a count read during it sees the sum before or after, the same). A connection's
/// server process that no longer runs writes no more; a new one that got its number again
/// counts on in the same row, which this then folds or leaves whole. Does not wait long for a
/// user's row (a ledger write holds it): the next fold moves what this one could not. Returns
/// how many users' rows took counts.
pub async fn fold_ended_connections(pool: &AnyPool) -> Result<u64, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query("SET LOCAL lock_timeout = '2s'")
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query(
        "WITH ended AS (
             DELETE FROM list_changes
             WHERE backend NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)
             RETURNING user_id, n
         ), by_user AS (SELECT user_id, SUM(n) AS n FROM ended GROUP BY user_id)
         UPDATE users SET lists_version = users.lists_version + CAST(by_user.n AS BIGINT)
         FROM by_user WHERE users.id = by_user.user_id",
    )
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(done.rows_affected())
}

/// PostgreSQL: folds the counts of ended connections every hour (and once at start), so a
/// user's count stays a read of a few rows.
pub fn spawn_folds(db: &super::Db, shutdown: tokio_util::sync::CancellationToken) {
    if db.kind != DbKind::Postgres {
        return;
    }
    let pool = db.pool.clone();
    let what = "ended connections' change counts folded into their users' rows";
    crate::shutdown::hourly(shutdown, what, move || {
        let pool = pool.clone();
        async move { fold_ended_connections(&pool).await }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_change_to_every_listed_table_has_a_sqlite_trigger() {
        let all = sqlite_triggers();
        assert_eq!(all.len(), LISTED.len() * 3);
        for table in LISTED {
            for event in ["INSERT", "UPDATE", "DELETE"] {
                assert!(
                    all.iter()
                        .any(|(_, sql)| sql.contains(&format!("AFTER {event} ON {table} "))),
                    "{event} on {table}"
                );
            }
        }
    }

    #[test]
    fn every_change_to_every_listed_table_has_a_postgres_trigger() {
        let all = postgres_triggers();
        assert_eq!(all.len(), LISTED.len() * 2);
        for table in LISTED {
            let on = |events: &str| format!("AFTER {events} ON {table} ");
            assert!(all
                .iter()
                .any(|(_, sql)| sql.contains(&on("INSERT OR DELETE"))));
            assert!(all.iter().any(|(_, sql)| sql.contains(&on("UPDATE"))));
        }
        let names: std::collections::HashSet<_> = all.iter().map(|(name, _)| name).collect();
        assert_eq!(names.len(), all.len(), "each trigger has a name of its own");
    }
}
