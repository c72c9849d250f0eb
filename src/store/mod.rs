//! Database access (sqlx, one set of queries for SQLite and PostgreSQL) and the media store.

pub mod change_count;
pub mod character_events;
pub mod character_page;
pub mod characters;
pub mod closing;
pub mod db;
pub mod generations;
pub mod imports;
pub mod json_rows;
pub mod ledger;
pub mod media;
pub mod media_usage;
pub mod page_cache;
pub mod paging;
pub mod presets;
pub mod session_cache;
pub mod sessions;
pub mod subjects;
pub mod tokens;
pub mod users;

pub use db::{Db, DbKind};

/// Milliseconds since the Unix epoch: the one time format stored in the database.
pub fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

// Time-ordered (UUID v7, monotonic within the process): rows made in the same millisecond
// still list in the order they were made where lists break ties on the id (the ledger).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}
