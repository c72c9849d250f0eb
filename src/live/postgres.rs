//! Live events across instances on PostgreSQL: each event is announced with
//! `pg_notify('studio_events', {instance, user_id, event})`, and every instance keeps one
//! `LISTEN studio_events` connection that hands what the others announced to its own streams.
//!
//! Exactly once per subscriber: an instance delivers its own events to its own streams at once
//! (no database round trip, and they keep flowing while the listener reconnects) and tags what
//! it announces with its instance id; its listener skips its own. Delivering only through
//! NOTIFY would be as exact, but would make every page depend on the listener connection.

use super::LiveEvent;
use crate::store::Db;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::postgres::PgListener;
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

pub const CHANNEL: &str = "studio_events";
/// PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
const PAYLOAD_LIMIT: usize = 8000;
/// How long start-up waits for the first LISTEN before going on (it keeps trying after).
const FIRST_LISTEN_WAIT: Duration = Duration::from_secs(10);

type Local = broadcast::Sender<(String, LiveEvent)>;

#[derive(Serialize)]
struct Outgoing<'a> {
    instance: &'a str,
    user_id: &'a str,
    event: &'a LiveEvent,
}

#[derive(Deserialize)]
struct Incoming {
    instance: String,
    user_id: String,
    event: IncomingEvent,
}

#[derive(Deserialize)]
struct IncomingEvent {
    kind: String,
    id: String,
    #[serde(default)]
    data: Value,
}

/// Starts the announcer and the listener; answers the sender `publish` feeds. Waits (bounded)
/// until this instance listens, so events from elsewhere reach it once it serves.
pub(super) async fn start(
    db: &Db,
    local: Local,
    shutdown: CancellationToken,
) -> mpsc::UnboundedSender<(String, LiveEvent)> {
    let instance = crate::store::new_id();
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(announce(db.clone(), instance.clone(), rx));
    let (ready_tx, ready_rx) = oneshot::channel();
    tokio::spawn(listen(db.url.clone(), instance, local, shutdown, ready_tx));
    if !matches!(
        tokio::time::timeout(FIRST_LISTEN_WAIT, ready_rx).await,
        Ok(Ok(()))
    ) {
        tracing::warn!("live events: not listening on PostgreSQL yet; retrying in the background");
    }
    tx
}

/// Sends this instance's events, one at a time and in order, until the hub is gone. An event
/// that cannot be sent is logged and dropped: pages reload on the next one.
async fn announce(db: Db, instance: String, mut rx: mpsc::UnboundedReceiver<(String, LiveEvent)>) {
    while let Some((user_id, event)) = rx.recv().await {
        // `pg_notify` returns `void`, a type the `Any` driver cannot read: ask a boolean.
        let sent = sqlx::query("SELECT pg_notify($1, $2) IS NULL AS sent")
            .bind(CHANNEL)
            .bind(payload(&instance, &user_id, &event))
            .execute(&db.pool)
            .await;
        if let Err(err) = sent {
            tracing::warn!(%err, kind = event.kind, "live events: could not announce an event");
        }
    }
}

/// The NOTIFY payload; an event too big for it goes without its `data` (the UI reloads its
/// data on every event, so only the nudge matters).
fn payload(instance: &str, user_id: &str, event: &LiveEvent) -> String {
    let text = |event: &LiveEvent| {
        serde_json::to_string(&Outgoing {
            instance,
            user_id,
            event,
        })
        .unwrap_or_default()
    };
    let full = text(event);
    if full.len() < PAYLOAD_LIMIT {
        return full;
    }
    text(&LiveEvent {
        data: Value::Null,
        ..event.clone()
    })
}

/// Keeps one listener connection, reconnecting with backoff when it drops, until shutdown.
async fn listen(
    url: String,
    instance: String,
    local: Local,
    shutdown: CancellationToken,
    ready: oneshot::Sender<()>,
) {
    let mut ready = Some(ready);
    let mut failures = 0u32;
    loop {
        match subscribe(&url).await {
            Ok(mut listener) => {
                failures = 0;
                // What the others announced while this instance was not listening (after a
                // lost connection, or a start-up that went on without it) is gone.
                let listening_since_start = ready.take().is_some_and(|r| r.send(()).is_ok());
                if !listening_since_start {
                    super::resync_everyone(&local);
                }
                // `try_recv`, not `recv`: `recv` reconnects by itself, silently losing what was
                // announced meanwhile; reconnecting here is what tells the streams.
                loop {
                    let next = tokio::select! {
                        _ = shutdown.cancelled() => return,
                        next = listener.try_recv() => next,
                    };
                    match next {
                        Ok(Some(note)) => deliver(&instance, note.payload(), &local),
                        Ok(None) => {
                            tracing::warn!("live events: lost the PostgreSQL listener");
                            break;
                        }
                        Err(err) => {
                            tracing::warn!(%err, "live events: lost the PostgreSQL listener");
                            break;
                        }
                    }
                }
            }
            Err(err) => tracing::warn!(%err, "live events: cannot listen on PostgreSQL"),
        }
        failures += 1;
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(backoff(failures)) => {}
        }
    }
}

async fn subscribe(url: &str) -> Result<PgListener, sqlx::Error> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

fn backoff(failures: u32) -> Duration {
    Duration::from_millis((250u64 << failures.min(6)).min(10_000))
}

/// Hands another instance's event to this instance's streams.
fn deliver(instance: &str, payload: &str, local: &Local) {
    let incoming: Incoming = match serde_json::from_str(payload) {
        Ok(incoming) => incoming,
        Err(err) => {
            tracing::warn!(%err, "live events: unreadable notification");
            return;
        }
    };
    if incoming.instance == instance {
        return; // already delivered here when it was published
    }
    let Some(kind) = intern(&incoming.event.kind) else {
        return;
    };
    let event = LiveEvent {
        kind,
        id: incoming.event.id,
        data: incoming.event.data,
    };
    let _ = local.send((incoming.user_id, event));
}

/// `LiveEvent::kind` is a `&'static str` (a handful of fixed words); words that arrive from
/// other instances are kept once each, with a cap so a stranger on the channel cannot grow it.
fn intern(kind: &str) -> Option<&'static str> {
    static KINDS: Mutex<Vec<&'static str>> = Mutex::new(Vec::new());
    let mut kinds = KINDS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = kinds.iter().find(|k| **k == kind) {
        return Some(known);
    }
    if kinds.len() >= 32 || kind.is_empty() || kind.len() > 32 {
        tracing::warn!("live events: ignored an event of unexpected kind");
        return None;
    }
    let kept: &'static str = Box::leak(kind.to_owned().into_boxed_str());
    kinds.push(kept);
    Some(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(data: Value) -> LiveEvent {
        LiveEvent {
            kind: "generation",
            id: "g1".into(),
            data,
        }
    }

    #[test]
    fn big_events_travel_without_their_data() {
        let small = payload("i", "u", &event(serde_json::json!({ "n": 1 })));
        assert!(small.contains("\"n\":1"));
        let big = payload("i", "u", &event(Value::String("x".repeat(9000))));
        assert!(big.len() < PAYLOAD_LIMIT, "{}", big.len());
        let read: Incoming = serde_json::from_str(&big).unwrap();
        assert_eq!(
            (read.event.kind.as_str(), read.event.data),
            ("generation", Value::Null)
        );
    }

    #[tokio::test]
    async fn own_events_are_not_delivered_twice() {
        let (local, mut rx) = broadcast::channel(8);
        let mine = payload("me", "u", &event(Value::Null));
        let theirs = payload("other", "u", &event(Value::Null));
        deliver("me", &mine, &local);
        deliver("me", &theirs, &local);
        deliver("me", "not json", &local);
        assert_eq!(rx.recv().await.unwrap().1.kind, "generation");
        assert!(rx.try_recv().is_err(), "only the other instance's event");
    }
}
