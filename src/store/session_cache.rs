//! Session records kept in memory, so a logged-in request does not read its session from the
//! database every time (one query of the three an authenticated page or list costs).
//!
//! Every write to the session table made by this process goes through
//! [`super::sessions::Sessions`], which keeps this copy in step. Other writers: on PostgreSQL,
//! other instances log sessions out too, so there the account check every request makes
//! (`users::standing`) also asks whether the session is still stored, in the same query; a copy
//! whose session is gone is refused and forgotten. Another instance's daily renewal can leave a
//! copy's expiry behind (a copy past it is read again) and is otherwise harmless: a session's
//! user and log-in time never change.
//!
//! A read from the database is kept only if no write came in between: a log-out (or a save)
//! landing while a request was still reading the old record must not be overwritten by it.
//! The account behind a session is still checked on every request (`accounts::session_standing`),
//! so a password change or a deleted account ends its sessions at once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tower_sessions::session::{Id, Record};

/// How long a copy is trusted before the database is read again.
const KEEP_FOR: Duration = Duration::from_secs(60);
/// At most this many records (a few hundred bytes each).
const CAPACITY: usize = 10_000;

#[derive(Debug, Default)]
pub struct SessionCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    records: HashMap<Id, Kept>,
    /// Counts every write, so a read can tell whether one happened while it went to the database.
    writes: u64,
}

#[derive(Debug)]
struct Kept {
    record: Record,
    at: Instant,
}

/// The write count when a database read began (see [`SessionCache::keep_read`]).
#[derive(Debug, Clone, Copy)]
pub struct ReadStarted(u64);

impl SessionCache {
    /// The kept record, if it is recent and its session has not expired.
    pub fn get(&self, id: &Id) -> Option<Record> {
        let inner = self.lock();
        let kept = inner.records.get(id)?;
        let live = kept.at.elapsed() < KEEP_FOR
            && kept.record.expiry_date > time::OffsetDateTime::now_utc();
        live.then(|| kept.record.clone())
    }

    /// Call before reading a record from the database.
    pub fn read_started(&self) -> ReadStarted {
        ReadStarted(self.lock().writes)
    }

    /// Keeps what the database answered, unless a write came in since the read began.
    pub fn keep_read(&self, started: ReadStarted, record: &Record) {
        let mut inner = self.lock();
        if inner.writes == started.0 {
            inner.keep(record);
        }
    }

    /// Keeps a record just written to the database.
    pub fn keep_written(&self, record: &Record) {
        let mut inner = self.lock();
        inner.writes += 1;
        inner.keep(record);
    }

    /// Call before writing a record to the database (a save or a delete): forgets it now, and
    /// again when the guard goes unless [`Writing::kept`] keeps what was written. So a read
    /// that began during the write cannot keep what the write replaced, even when the write's
    /// future is dropped midway (a client hanging up).
    pub fn writing(&self, id: Id) -> Writing<'_> {
        self.forget(&id);
        Writing {
            cache: self,
            id,
            kept: false,
        }
    }

    /// Forgets a record deleted from the database (or found gone).
    pub fn forget(&self, id: &Id) {
        let mut inner = self.lock();
        inner.writes += 1;
        inner.records.remove(id);
    }

    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves plain data behind: still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A write under way (see [`SessionCache::writing`]).
pub struct Writing<'a> {
    cache: &'a SessionCache,
    id: Id,
    kept: bool,
}

impl Writing<'_> {
    /// The write went through: keep what was written.
    pub fn kept(mut self, record: &Record) {
        self.cache.keep_written(record);
        self.kept = true;
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        if !self.kept {
            self.cache.forget(&self.id);
        }
    }
}

impl Inner {
    fn keep(&mut self, record: &Record) {
        if self.records.len() >= CAPACITY && !self.records.contains_key(&record.id) {
            self.records.retain(|_, k| k.at.elapsed() < KEEP_FOR);
            if self.records.len() >= CAPACITY {
                self.records.clear();
            }
        }
        let kept = Kept {
            record: record.clone(),
            at: Instant::now(),
        };
        self.records.insert(record.id, kept);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(expires_in: time::Duration) -> Record {
        Record {
            id: Id::default(),
            data: HashMap::from([("user_id".to_string(), "u1".into())]),
            expiry_date: time::OffsetDateTime::now_utc() + expires_in,
        }
    }

    #[test]
    fn keeps_what_it_read_and_forgets_what_is_deleted() {
        let cache = SessionCache::default();
        let r = record(time::Duration::hours(1));
        cache.keep_read(cache.read_started(), &r);
        assert_eq!(cache.get(&r.id).map(|k| k.data), Some(r.data.clone()));
        cache.forget(&r.id);
        assert!(cache.get(&r.id).is_none());
    }

    #[test]
    fn a_read_overtaken_by_a_write_is_not_kept() {
        let cache = SessionCache::default();
        let r = record(time::Duration::hours(1));
        let started = cache.read_started();
        cache.forget(&r.id); // a log-out lands while the old record is being read
        cache.keep_read(started, &r);
        assert!(
            cache.get(&r.id).is_none(),
            "the logged-out record stays out"
        );
    }

    #[test]
    fn a_write_forgets_what_it_replaces_even_when_dropped_midway() {
        let cache = SessionCache::default();
        let r = record(time::Duration::hours(1));
        cache.keep_written(&r);
        let writing = cache.writing(r.id);
        assert!(cache.get(&r.id).is_none(), "forgotten as the write begins");
        let started = cache.read_started(); // a read of the old row, during the write
        drop(writing); // the write's future is dropped before it could keep anything
        cache.keep_read(started, &r);
        assert!(cache.get(&r.id).is_none(), "the old record is not kept");

        let mut renewed = r.clone();
        renewed.data.insert("renewed".into(), 1.into());
        cache.writing(r.id).kept(&renewed);
        assert_eq!(cache.get(&r.id).map(|k| k.data), Some(renewed.data));
    }

    #[test]
    fn an_expired_session_is_not_answered() {
        let cache = SessionCache::default();
        let r = record(time::Duration::seconds(-1));
        cache.keep_written(&r);
        assert!(cache.get(&r.id).is_none());
    }

    #[test]
    fn stays_within_its_capacity() {
        let cache = SessionCache::default();
        for _ in 0..CAPACITY + 5 {
            cache.keep_written(&record(time::Duration::hours(1)));
        }
        assert!(cache.len() <= CAPACITY, "{} kept", cache.len());
        assert!(!cache.is_empty());
    }
}
