//! Login sessions in the database through tower-sessions' sqlx stores.
//! The stores are typed per database, so one enum lets a single layer serve both.

use super::{Db, DbKind};
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

#[derive(Debug, Clone)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

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
                let store = SqliteStore::new(pool);
                store.migrate().await.map_err(fail)?;
                Self::Sqlite(store)
            }
            DbKind::Postgres => {
                let pool = sqlx::PgPool::connect(&db.url).await.map_err(fail)?;
                let store = PostgresStore::new(pool);
                store.migrate().await.map_err(fail)?;
                Self::Postgres(store)
            }
        };
        Ok(store)
    }

    /// Removes expired sessions every few minutes, for as long as the server runs.
    pub fn spawn_cleanup(&self) -> tokio::task::JoinHandle<()> {
        let every = tokio::time::Duration::from_secs(300);
        let store = self.clone();
        tokio::spawn(async move {
            let result = match store {
                Self::Sqlite(s) => s.continuously_delete_expired(every).await,
                Self::Postgres(s) => s.continuously_delete_expired(every).await,
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
        match self {
            Self::Sqlite(s) => s.create(record).await,
            Self::Postgres(s) => s.create(record).await,
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.save(record).await,
            Self::Postgres(s) => s.save(record).await,
        }
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        match self {
            Self::Sqlite(s) => s.load(id).await,
            Self::Postgres(s) => s.load(id).await,
        }
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        match self {
            Self::Sqlite(s) => s.delete(id).await,
            Self::Postgres(s) => s.delete(id).await,
        }
    }
}
