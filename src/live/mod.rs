//! Live events for the UI: job and character updates fanned out to each user's open streams.
//! Within one instance through a broadcast channel; across instances on PostgreSQL through
//! `LISTEN/NOTIFY` (see [`postgres`]), so a page served here sees what a worker elsewhere did.

mod postgres;

use crate::store::{Db, DbKind};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LiveEvent {
    /// What changed: "character", "generation" or "credits".
    pub kind: &'static str,
    pub id: String,
    pub data: serde_json::Value,
}

impl LiveEvent {
    /// Tells a stream that some of its user's events may have been missed (its reader fell
    /// behind, or other instances' events were lost while the PostgreSQL listener was down):
    /// the page reloads what it shows, as it does for any event.
    pub fn resync() -> Self {
        Self {
            kind: "resync",
            id: String::new(),
            data: serde_json::Value::Null,
        }
    }
}

/// The owner of an event meant for every open stream (no user id is empty).
const EVERYONE: &str = "";

#[derive(Clone)]
pub struct EventHub {
    tx: broadcast::Sender<(String, LiveEvent)>,
    /// On PostgreSQL: events to announce to the other instances.
    relay: Option<mpsc::UnboundedSender<(String, LiveEvent)>>,
}

impl Default for EventHub {
    fn default() -> Self {
        Self::new()
    }
}

impl EventHub {
    /// A hub for this instance alone (SQLite: one instance owns the database).
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(1024);
        Self { tx, relay: None }
    }

    /// The hub for `db`: on PostgreSQL it also relays events to and from the other instances
    /// (started here, stopped by `shutdown`); elsewhere it is [`EventHub::new`].
    pub async fn for_database(db: &Db, shutdown: CancellationToken) -> Self {
        let mut hub = Self::new();
        if db.kind == DbKind::Postgres {
            hub.relay = Some(postgres::start(db, hub.tx.clone(), shutdown).await);
        }
        hub
    }

    /// Sends to the user's open streams, here and (on PostgreSQL) on every other instance;
    /// nobody listening is fine. Never waits: the relay sends in the background, in order.
    pub fn publish(&self, user_id: &str, event: LiveEvent) {
        if let Some(relay) = &self.relay {
            let _ = relay.send((user_id.to_string(), event.clone()));
        }
        let _ = self.tx.send((user_id.to_string(), event));
    }

    /// The user's events from now on. A slow reader that falls behind skips ahead and gets a
    /// [`LiveEvent::resync`] in place of what it skipped.
    pub fn subscribe(
        &self,
        user_id: String,
    ) -> impl futures::Stream<Item = LiveEvent> + Send + 'static {
        let rx = self.tx.subscribe();
        futures::stream::unfold((rx, user_id), |(mut rx, user_id)| async move {
            loop {
                match rx.recv().await {
                    Ok((owner, event)) if owner == user_id || owner == EVERYONE => {
                        return Some((event, (rx, user_id)))
                    }
                    Ok(_) => continue,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        return Some((LiveEvent::resync(), (rx, user_id)))
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
    }
}

/// Tells every open stream of this instance to reload (see [`LiveEvent::resync`]).
fn resync_everyone(local: &broadcast::Sender<(String, LiveEvent)>) {
    let _ = local.send((EVERYONE.to_string(), LiveEvent::resync()));
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::StreamExt;

    fn event(id: &str) -> LiveEvent {
        LiveEvent {
            kind: "character",
            id: id.into(),
            data: serde_json::json!({}),
        }
    }

    #[tokio::test]
    async fn users_only_see_their_own_events() {
        let hub = EventHub::new();
        let mut ana = Box::pin(hub.subscribe("ana".into()));
        hub.publish("bob", event("b1"));
        hub.publish("ana", event("a1"));
        assert_eq!(ana.next().await.unwrap().id, "a1");
    }

    #[tokio::test]
    async fn a_reader_that_fell_behind_is_told_to_resync() {
        let hub = EventHub::new();
        let mut ana = Box::pin(hub.subscribe("ana".into()));
        for n in 0..1100 {
            hub.publish("bob", event(&format!("b{n}")));
        }
        hub.publish("ana", event("a1"));
        assert_eq!(ana.next().await.unwrap(), LiveEvent::resync());
        assert_eq!(ana.next().await.unwrap().id, "a1");
    }

    #[tokio::test]
    async fn a_resync_for_everyone_reaches_every_stream() {
        let hub = EventHub::new();
        let mut ana = Box::pin(hub.subscribe("ana".into()));
        resync_everyone(&hub.tx);
        assert_eq!(ana.next().await.unwrap(), LiveEvent::resync());
    }
}
