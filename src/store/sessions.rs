//! Login sessions in the database through tower-sessions' sqlx stores.
//! The stores are typed per database, so one enum lets a single layer serve both.

use super::session_cache::SessionCache;
use super::{Db, DbKind};
use sqlx::{PgPool, SqlitePool};
use std::sync::Arc;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

/// The session store: the database's, and a copy of recent records in memory.
#[derive(Debug, Clone)]
pub struct Sessions {
    store: Store,
    cache: Arc<SessionCache>,
}

/// Each store with its pool (the stores keep theirs private): saving goes through ours.
#[derive(Debug, Clone)]
enum Store {
    Sqlite(SqliteStore, SqlitePool),
    Postgres(PostgresStore, PgPool),
}

/// A save, on the stores' default tables (`SqliteStore::new`, `PostgresStore::new`).
const SQLITE_UPDATE: &str = "UPDATE tower_sessions SET data = ?, expiry_date = ? WHERE id = ?";
const POSTGRES_UPDATE: &str =
    r#"UPDATE "tower_sessions"."session" SET data = $1, expiry_date = $2 WHERE id = $3"#;

/// On PostgreSQL, true while the session `$2` is still stored and unexpired: read with the
/// account check of every request, so a copy kept here never outlives a log-out made by another
/// instance. (SQLite's sessions are all written by this process, which keeps its copy in step.)
pub const POSTGRES_STILL_STORED: &str = r#"EXISTS (SELECT 1 FROM "tower_sessions"."session"
    WHERE id = $2 AND expiry_date > now())"#;

impl Sessions {
    /// Opens a small typed pool beside the main one and creates the session table.
    pub async fn open(db: &Db) -> Result<Self, String> {
        let fail = |e: sqlx::Error| format!("cannot prepare the session store: {e}");
        let store = match db.kind {
            DbKind::Sqlite => {
                let pool = sqlx::sqlite::SqlitePoolOptions::new()
                    .test_before_acquire(db.kind.test_before_acquire())
                    .connect(&db.url)
                    .await
                    .map_err(fail)?;
                let store = SqliteStore::new(pool.clone());
                store.migrate().await.map_err(fail)?;
                Store::Sqlite(store, pool)
            }
            DbKind::Postgres => {
                let pool = sqlx::PgPool::connect(&db.url).await.map_err(fail)?;
                let store = PostgresStore::new(pool.clone());
                store.migrate().await.map_err(fail)?;
                Store::Postgres(store, pool)
            }
        };
        Ok(Self {
            store,
            cache: Arc::default(),
        })
    }

    /// How many session records are kept in memory.
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    /// Removes expired sessions every few minutes, for as long as the server runs.
    pub fn spawn_cleanup(&self) -> tokio::task::JoinHandle<()> {
        let every = tokio::time::Duration::from_secs(300);
        let store = self.store.clone();
        tokio::spawn(async move {
            let result = match store {
                Store::Sqlite(s, _) => s.continuously_delete_expired(every).await,
                Store::Postgres(s, _) => s.continuously_delete_expired(every).await,
            };
            if let Err(err) = result {
                tracing::warn!(error = %err, "session cleanup stopped");
            }
        })
    }
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        match &self.store {
            Store::Sqlite(s, _) => s.create(record).await?,
            Store::Postgres(s, _) => s.create(record).await?,
        }
        self.cache.keep_written(record);
        Ok(())
    }

    /// Updates a stored session, and only a stored one. The stores' own save is an upsert
    /// (insert, or update on conflict): a request that changed its session (the daily renewal)
    /// while another logged it out would write it back, logging the user in again. A session
    /// that is gone stays gone; its cookie then names nothing.
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data =
            rmp_serde::to_vec(record).map_err(|e| session_store::Error::Encode(e.to_string()))?;
        let writing = self.cache.writing(record.id);
        let id = record.id.to_string();
        let updated = match &self.store {
            // The same binds twice: the two pools are different types.
            Store::Sqlite(_, pool) => sqlx::query(SQLITE_UPDATE)
                .bind(data)
                .bind(record.expiry_date)
                .bind(id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()),
            Store::Postgres(_, pool) => sqlx::query(POSTGRES_UPDATE)
                .bind(data)
                .bind(record.expiry_date)
                .bind(id)
                .execute(pool)
                .await
                .map(|done| done.rows_affected()),
        };
        let updated = updated.map_err(|e| session_store::Error::Backend(e.to_string()))?;
        // A session found gone stays forgotten (the guard forgets it when dropped).
        if updated > 0 {
            writing.kept(record);
        }
        Ok(())
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let cache = &self.cache;
        if let Some(record) = cache.get(id) {
            return Ok(Some(record));
        }
        let started = cache.read_started();
        let loaded = self.store.load(id).await?;
        if let Some(record) = &loaded {
            cache.keep_read(started, record);
        }
        Ok(loaded)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        // Forgotten now and once the delete is over (or its future dropped midway).
        let _writing = self.cache.writing(*id);
        match &self.store {
            Store::Sqlite(s, _) => s.delete(id).await,
            Store::Postgres(s, _) => s.delete(id).await,
        }
    }
}

impl Store {
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Sqlite(s, _) => s.load(id).await,
            Self::Postgres(s, _) => s.load(id).await,
        }
    }
}
