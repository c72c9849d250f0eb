//! One pool for both databases: sqlx's `Any` driver runs the same SQL on SQLite and PostgreSQL.

use super::change_count;
use super::page_cache::KeptLists;
use sqlx::any::{install_default_drivers, AnyPoolOptions};
use sqlx::AnyPool;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DbKind {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pub pool: AnyPool,
    pub kind: DbKind,
    /// The URL as connected (SQLite URLs get `mode=rwc`), needed by the typed session pool.
    pub url: String,
    /// Lists' pages and answers kept in memory (see [`super::page_cache`]).
    pub lists: Arc<KeptLists>,
}

impl DbKind {
    /// Whether a pooled connection is pinged before each use. A PostgreSQL connection can die
    /// with its server or the network; a SQLite one is a file opened in this process, and its
    /// ping is only a round trip to sqlx's worker thread.
    pub fn test_before_acquire(self) -> bool {
        self == Self::Postgres
    }

    pub fn of_url(url: &str) -> Result<Self, String> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Self::Postgres)
        } else {
            Err("DATABASE_URL must start with sqlite:// or postgres://".into())
        }
    }
}

impl Db {
    /// Connects and runs the migrations. Errors are one line, fit to print at start-up.
    pub async fn connect(url: &str) -> Result<Self, String> {
        install_default_drivers();
        let kind = DbKind::of_url(url)?;
        let url = match kind {
            DbKind::Sqlite => prepare_sqlite_url(url)?,
            DbKind::Postgres => url.to_string(),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(if kind == DbKind::Sqlite { 8 } else { 16 })
            .test_before_acquire(kind.test_before_acquire())
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if kind == DbKind::Sqlite {
                        // WAL lets readers run while the job runner writes.
                        sqlx::query("PRAGMA journal_mode = WAL")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA busy_timeout = 10000")
                            .execute(&mut *conn)
                            .await?;
                        sqlx::query("PRAGMA foreign_keys = ON")
                            .execute(&mut *conn)
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(&url)
            .await
            .map_err(|e| format!("cannot open database {}: {e}", redact_url(&url)))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| format!("database migration failed: {e}"))?;
        change_count::install_triggers(&pool, kind)
            .await
            .map_err(|e| format!("database triggers: {e}"))?;
        Ok(Self {
            pool,
            kind,
            url,
            lists: Arc::new(KeptLists::default()),
        })
    }

    /// True once the database answers a trivial query.
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// Hides a password in a database URL (`postgres://user:secret@host` → `postgres://user:***@host`).
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => raw.to_string(),
    }
}

/// Adds `mode=rwc` so a missing file is created, and creates its folder.
fn prepare_sqlite_url(url: &str) -> Result<String, String> {
    let path_part = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = path_part.split_once('?').unwrap_or((path_part, ""));
    if path.is_empty() || path == ":memory:" {
        return Err("DATABASE_URL: give SQLite a file, e.g. sqlite://data/avatar-studio.db".into());
    }
    if let Some(dir) = std::path::Path::new(path).parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)
                .map_err(|e| format!("cannot create database folder {}: {e}", dir.display()))?;
        }
    }
    let query = if query.contains("mode=") {
        query.to_string()
    } else if query.is_empty() {
        "mode=rwc".to_string()
    } else {
        format!("{query}&mode=rwc")
    };
    Ok(format!("sqlite://{path}?{query}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_get_create_mode() {
        let dir = std::env::temp_dir().join(format!("as-db-{}", std::process::id()));
        let url = format!("sqlite://{}/x.db", dir.display());
        assert_eq!(prepare_sqlite_url(&url).unwrap(), format!("{url}?mode=rwc"));
        assert!(dir.exists());
        let kept = format!("sqlite://{}/x.db?mode=ro", dir.display());
        assert_eq!(prepare_sqlite_url(&kept).unwrap(), kept);
        assert!(prepare_sqlite_url("sqlite::memory:").is_err());
    }

    #[test]
    fn unknown_schemes_are_refused() {
        assert!(DbKind::of_url("mysql://x").is_err());
        assert_eq!(DbKind::of_url("postgresql://a/b"), Ok(DbKind::Postgres));
    }
}
