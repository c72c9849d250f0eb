//! Pages of lists kept in memory, each under its user's count of changes to their listed rows
//! (`change_count`), so a list nobody changed is not built again. A page is read from the
//! database after the count it is kept under, so it holds at least that count's changes; a
//! later change moves the count, and a kept page is answered only while its count is current.
//! The count lives in the database, so a change made by another process or instance is seen.
//!
//! Three things are kept: a page's rows as the database wrote them (JSON text, parsed and
//! converted for each use, so values computed at reading time stay current), a JSON list's
//! answer as sent, and a server-rendered page as sent (`server::kept_pages`), the last two only
//! when nothing in them changes with time (a training's ETA counts down): a repeated request
//! then costs a copy, its count read by the account check it makes anyway.

use super::paging::SortKey;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// At most this much kept text and key text in each cache (a page of 100 characters is about
/// 70 KB), and at most this many entries (many small ones: searches that matched nothing).
const CAPACITY_BYTES: usize = 8 * 1024 * 1024;
const CAPACITY_ENTRIES: usize = 2_000;

/// A page's query: its SQL and the values bound to it.
type Key = (String, Vec<SortKey>);

/// Pages of rows as the database wrote them, under their query.
pub type PageCache = VersionCache<Key, Arc<str>>;

/// Lists' answers as sent, under their user and the request's path and query (see
/// [`KeptAnswer`]).
pub type AnswerCache = VersionCache<(String, String), KeptAnswer>;

/// A list's answer as sent: its JSON text and the cursor of the page after it. Kept only when
/// nothing in it reads differently as time passes (a training's ETA counts down).
#[derive(Debug, Clone)]
pub struct KeptAnswer {
    pub body: bytes::Bytes,
    pub next_cursor: Option<String>,
}

/// Server-rendered pages as sent, under their user and the request's path and query.
pub type HtmlCache = VersionCache<(String, String), KeptHtml>;

/// A server-rendered page as sent: its HTML, where the CSP nonce of the response that made it
/// stood (each answer puts its own there), its content type, and until when it may be answered
/// (`None`: while its count stands; a page showing A2E's voices goes when their list would be
/// asked for again).
#[derive(Debug, Clone)]
pub struct KeptHtml {
    pub body: bytes::Bytes,
    pub nonce_at: Arc<[usize]>,
    pub nonce_len: usize,
    pub content_type: axum::http::HeaderValue,
    pub until: Option<std::time::Instant>,
}

/// The caches of kept lists and pages.
#[derive(Debug, Default)]
pub struct KeptLists {
    pub pages: PageCache,
    pub answers: AnswerCache,
    pub html: HtmlCache,
}

/// What an entry costs in memory, roughly.
pub trait Weight {
    fn weight(&self) -> usize;
}

impl Weight for Key {
    fn weight(&self) -> usize {
        let values: usize = self
            .1
            .iter()
            .map(|v| match v {
                SortKey::Int(_) => 8,
                SortKey::Text(t) => t.len(),
            })
            .sum();
        self.0.len() + values
    }
}

impl Weight for (String, String) {
    fn weight(&self) -> usize {
        self.0.len() + self.1.len()
    }
}

impl Weight for Arc<str> {
    fn weight(&self) -> usize {
        self.len()
    }
}

impl Weight for KeptHtml {
    fn weight(&self) -> usize {
        self.body.len() + self.nonce_at.len() * 8
    }
}

impl Weight for KeptAnswer {
    fn weight(&self) -> usize {
        self.body.len() + self.next_cursor.as_ref().map_or(0, String::len)
    }
}

/// Values kept under a key and the user's count of changes they were read after; the least
/// recently used go first when full.
#[derive(Debug)]
pub struct VersionCache<K, V> {
    inner: Mutex<Inner<K, V>>,
}

impl<K, V> Default for VersionCache<K, V> {
    fn default() -> Self {
        Self {
            inner: Mutex::new(Inner {
                entries: HashMap::new(),
                bytes: 0,
                clock: 0,
                stats: Stats::default(),
            }),
        }
    }
}

#[derive(Debug)]
struct Inner<K, V> {
    entries: HashMap<K, Kept<V>>,
    bytes: usize,
    /// Counts lookups, so the least recently used entry can go first when full.
    clock: u64,
    stats: Stats,
}

/// What a cache holds and how its lookups went, since the process started (for `/metrics`).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    pub entries: usize,
    pub bytes: usize,
    /// Lookups answered from memory.
    pub hits: u64,
    /// Lookups that found nothing current: the list was read or made again.
    pub misses: u64,
}

#[derive(Debug)]
struct Kept<V> {
    version: i64,
    value: V,
    used: u64,
}

impl<K: Hash + Eq + Clone + Weight, V: Clone + Weight> VersionCache<K, V> {
    /// The value kept for `key` at `version`, if any.
    pub fn get(&self, key: &K, version: i64) -> Option<V> {
        self.get_usable(key, version, |_| true)
    }

    /// The value kept for `key` at `version` if it is still `usable` (a page showing what A2E
    /// holds is kept for a while only); one that is not counts as not found.
    pub fn get_usable(&self, key: &K, version: i64, usable: impl Fn(&V) -> bool) -> Option<V> {
        let mut inner = self.lock();
        inner.clock += 1;
        let now = inner.clock;
        let found = match inner.entries.get_mut(key) {
            Some(kept) if kept.version == version && usable(&kept.value) => {
                kept.used = now;
                Some(kept.value.clone())
            }
            _ => None,
        };
        match found {
            Some(_) => inner.stats.hits += 1,
            None => inner.stats.misses += 1,
        }
        found
    }

    /// Keeps a value read after its user's count was `version`, unless a newer one is kept.
    pub fn keep(&self, key: K, version: i64, value: V) {
        if value.weight() > CAPACITY_BYTES / 4 {
            return;
        }
        let mut inner = self.lock();
        if inner.entries.get(&key).is_some_and(|k| k.version > version) {
            return;
        }
        inner.clock += 1;
        let kept = Kept {
            version,
            used: inner.clock,
            value,
        };
        inner.bytes += size(&key, &kept);
        if let Some(old) = inner.entries.remove(&key) {
            inner.bytes -= size(&key, &old);
        }
        inner.entries.insert(key, kept);
        inner.make_room();
    }

    /// How many values are kept.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    pub fn stats(&self) -> Stats {
        let inner = self.lock();
        Stats {
            entries: inner.entries.len(),
            bytes: inner.bytes,
            ..inner.stats
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner<K, V>> {
        // Nothing that runs under the lock panics midway, so a poisoned lock still holds a whole map.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<K: Hash + Eq + Clone + Weight, V: Weight> Inner<K, V> {
    /// Drops the least recently used entries until the rest fits.
    fn make_room(&mut self) {
        while self.bytes > CAPACITY_BYTES || self.entries.len() > CAPACITY_ENTRIES {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, kept)| kept.used)
                .map(|(key, _)| key.clone())
            else {
                return;
            };
            if let Some(gone) = self.entries.remove(&oldest) {
                self.bytes -= size(&oldest, &gone);
            }
        }
    }
}

/// What an entry costs in memory, roughly: its value, its key and their bookkeeping.
fn size<K: Weight, V: Weight>(key: &K, kept: &Kept<V>) -> usize {
    kept.value.weight() + key.weight() + 128
}

/// The answer to `key` (a request's path and query) of `user_id`'s lists, whose count of
/// changes was `version` when the request began (read with its account check): the answer kept
/// at that count, else `make`'s, kept when it says so.
pub async fn answer<E>(
    db: &super::Db,
    user_id: &str,
    version: i64,
    key: String,
    make: impl std::future::Future<Output = Result<(KeptAnswer, bool), E>>,
) -> Result<KeptAnswer, E> {
    let lists = &db.lists;
    let key = (user_id.to_string(), key);
    if let Some(kept) = lists.answers.get(&key, version) {
        return Ok(kept);
    }
    // Made after the version was read: it holds at least that version's changes.
    let (answer, keep) = make.await?;
    if keep {
        lists.answers.keep(key, version, answer.clone());
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(sql: &str) -> Key {
        (sql.to_string(), vec![SortKey::Text("u1".into())])
    }

    #[test]
    fn a_page_is_answered_only_at_its_version() {
        let cache = PageCache::default();
        cache.keep(key("a"), 3, "[1]".into());
        assert_eq!(cache.get(&key("a"), 3).as_deref(), Some("[1]"));
        assert_eq!(cache.get(&key("a"), 4), None, "changed since");
        assert_eq!(cache.get(&key("b"), 3), None, "another query");
        let other_user = ("a".to_string(), vec![SortKey::Text("u2".into())]);
        assert_eq!(cache.get(&other_user, 3), None, "another user's values");
    }

    #[test]
    fn lookups_are_counted() {
        let cache = PageCache::default();
        assert_eq!(cache.get(&key("a"), 1), None);
        cache.keep(key("a"), 1, "[1]".into());
        assert!(cache.get(&key("a"), 1).is_some());
        assert_eq!(cache.get(&key("a"), 2), None, "changed since");
        let stats = cache.stats();
        assert_eq!((stats.entries, stats.hits, stats.misses), (1, 1, 2));
        assert_eq!(
            stats.bytes,
            size(&key("a"), &cache.lock().entries[&key("a")])
        );
    }

    #[test]
    fn a_value_no_longer_usable_counts_as_not_found() {
        let cache = PageCache::default();
        cache.keep(key("a"), 1, "[1]".into());
        assert_eq!(cache.get_usable(&key("a"), 1, |v| v.len() > 9), None);
        assert!(cache.get_usable(&key("a"), 1, |v| v.len() == 3).is_some());
        let stats = cache.stats();
        assert_eq!((stats.hits, stats.misses), (1, 1));
    }

    #[test]
    fn a_late_read_does_not_replace_a_newer_page() {
        let cache = PageCache::default();
        cache.keep(key("a"), 5, "[5]".into());
        cache.keep(key("a"), 4, "[4]".into());
        assert_eq!(cache.get(&key("a"), 5).as_deref(), Some("[5]"));
        cache.keep(key("a"), 6, "[6]".into());
        assert_eq!(cache.get(&key("a"), 6).as_deref(), Some("[6]"));
        assert_eq!(cache.len(), 1);
    }

    #[test]
    fn the_least_recently_used_page_goes_when_full() {
        let cache = PageCache::default();
        let page: Arc<str> = "x".repeat(CAPACITY_BYTES / 5 - 1024).into();
        for name in ["a", "b", "c", "d", "e"] {
            cache.keep(key(name), 1, page.clone());
        }
        assert!(cache.get(&key("a"), 1).is_some(), "a is used again");
        cache.keep(key("f"), 1, page.clone());
        assert_eq!(cache.len(), 5);
        assert!(cache.get(&key("a"), 1).is_some());
        assert!(
            cache.get(&key("b"), 1).is_none(),
            "b was the least recently used"
        );
        cache.keep(key("huge"), 1, "x".repeat(CAPACITY_BYTES).into());
        assert!(cache.get(&key("huge"), 1).is_none(), "too big to keep");
    }

    #[test]
    fn many_small_pages_are_bounded_too() {
        let cache = PageCache::default();
        for n in 0..CAPACITY_ENTRIES + 10 {
            cache.keep(key(&format!("search {n}")), 1, "[]".into());
        }
        assert_eq!(cache.len(), CAPACITY_ENTRIES);
        assert!(cache.get(&key("search 0"), 1).is_none(), "the oldest went");
        assert!(cache.lock().bytes < CAPACITY_BYTES);
    }
}
