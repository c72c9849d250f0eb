//! Live events: a page's `GET /api/events` stream sees changes made through any instance
//! (PostgreSQL `LISTEN/NOTIFY`), each event exactly once; on SQLite, within the one instance.

use crate::common::{Backend, TestApp, ThrowawayPg};
use avatar_studio::live::{EventHub, LiveEvent};
use avatar_studio::store::Db;
use futures::StreamExt;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

on_both_databases!(a_page_sees_changes_made_through_another_instance);

/// Bounds every wait for an event: a failure guard, not a measurement.
const PATIENCE: Duration = Duration::from_secs(30);

/// `(event name, JSON data)` of each server-sent event on the user's stream, as they come.
async fn event_stream(
    app: &TestApp,
    client: &reqwest::Client,
) -> mpsc::UnboundedReceiver<(String, Value)> {
    let res = client.get(app.url("/api/events")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (tx, rx) = mpsc::unbounded_channel();
    let mut body = res.bytes_stream();
    tokio::spawn(async move {
        let mut buffer = String::new();
        while let Some(Ok(chunk)) = body.next().await {
            buffer.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buffer.find("\n\n") {
                let block: String = buffer.drain(..end + 2).collect();
                if let Some(event) = parse_event(&block) {
                    if tx.send(event).is_err() {
                        return;
                    }
                }
            }
        }
    });
    rx
}

fn parse_event(block: &str) -> Option<(String, Value)> {
    let (mut name, mut data) = (None, None);
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            name = Some(v.trim().to_string());
        } else if let Some(v) = line.strip_prefix("data:") {
            data = serde_json::from_str(v.trim()).ok();
        }
    }
    Some((name?, data?))
}

/// Waits (bounded) for an event of `kind` about `id`.
async fn until_event(events: &mut mpsc::UnboundedReceiver<(String, Value)>, kind: &str, id: &str) {
    let found = tokio::time::timeout(PATIENCE, async {
        while let Some((name, data)) = events.recv().await {
            if name == kind && data["id"] == id {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(found, Ok(true), "a {kind} event about {id}");
}

async fn a_page_sees_changes_made_through_another_instance(backend: Backend) {
    // A serves the page and works no jobs; B (on PostgreSQL, a second instance on the same
    // database; on SQLite, A itself) takes the request and works it.
    let a = TestApp::spawn_with(backend, |c| {
        c.a2e_simulator_speedup = 600.0;
        c.run_jobs = matches!(backend, Backend::Sqlite);
    })
    .await;
    let b_own;
    let b = match backend {
        Backend::Sqlite => &a,
        Backend::Postgres => {
            let url = a.state.config.database_url.clone();
            b_own = TestApp::spawn_with(backend, move |c| {
                c.database_url = url;
                c.a2e_simulator_speedup = 600.0;
                c.job_tick_ms = 50;
            })
            .await;
            &b_own
        }
    };
    // One browser: the session cookie is valid on both instances (sessions live in the database).
    let (client, _) = a.user("live@example.com").await;
    let mut events = event_stream(&a, &client).await;
    // The same browser on B's pages (B's own Origin, as the CSRF check wants).
    let res = client
        .post(b.url("/api/a2e/character"))
        .header("origin", &b.base)
        .json(&json!({ "prompt": "a lighthouse keeper" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    until_event(&mut events, "character", created["id"].as_str().unwrap()).await;
}

fn event(id: &str) -> LiveEvent {
    LiveEvent {
        kind: "generation",
        id: id.into(),
        data: json!({ "step": id }),
    }
}

/// The next event of `stream`, bounded.
async fn next_event(stream: &mut (impl futures::Stream<Item = LiveEvent> + Unpin)) -> LiveEvent {
    tokio::time::timeout(PATIENCE, stream.next())
        .await
        .expect("an event arrives")
        .expect("the stream is open")
}

async fn next_id(stream: &mut (impl futures::Stream<Item = LiveEvent> + Unpin)) -> String {
    next_event(stream).await.id
}

/// Three instances' hubs on one database. Each event reaches each subscriber once: the
/// publishing instance's own streams are not sent their event a second time by NOTIFY.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_events_reach_each_subscriber_exactly_once() {
    let pg = ThrowawayPg::create().await;
    let db = Db::connect(&pg.url).await.unwrap();
    let shutdown = CancellationToken::new();
    let a = EventHub::for_database(&db, shutdown.clone()).await;
    let b = EventHub::for_database(&db, shutdown.clone()).await;
    let c = EventHub::for_database(&db, shutdown.clone()).await;
    let mut on_a = Box::pin(a.subscribe("ana".into()));
    let mut on_c = Box::pin(c.subscribe("ana".into()));
    let mut bob_on_c = Box::pin(c.subscribe("bob".into()));

    a.publish("ana", event("e1"));
    assert_eq!(
        next_id(&mut on_a).await,
        "e1",
        "delivered where it was published"
    );
    // C has it by NOTIFY, so the notification is committed and A's listener meets it
    // before any later one: if A did not skip its own, e1 would come again before s.
    assert_eq!(next_id(&mut on_c).await, "e1");
    b.publish("ana", event("s"));
    assert_eq!(
        next_id(&mut on_a).await,
        "s",
        "e1 once, then s from elsewhere"
    );
    assert_eq!(next_id(&mut on_c).await, "s");

    // Another user's events stay theirs; an event too big for NOTIFY still arrives, bare.
    b.publish("bob", event("b1"));
    let big = LiveEvent {
        data: Value::String("x".repeat(10_000)),
        ..event("big")
    };
    b.publish("ana", big);
    let got = tokio::time::timeout(PATIENCE, on_c.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.id.as_str(), got.data), ("big", Value::Null));
    assert_eq!(next_id(&mut bob_on_c).await, "b1");
    assert_eq!(next_id(&mut on_a).await, "big", "bob's event is not ana's");
    shutdown.cancel();
}

/// When an instance's PostgreSQL listener loses its connection, what other instances announce
/// meanwhile never reaches it; once it listens again, every open stream is told to reload, and
/// events from elsewhere flow again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_postgres_listener_makes_every_stream_resync() {
    let pg = ThrowawayPg::create().await;
    let db = Db::connect(&pg.url).await.unwrap();
    let shutdown = CancellationToken::new();
    let here = EventHub::for_database(&db, shutdown.clone()).await;
    let elsewhere = EventHub::for_database(&db, shutdown.clone()).await;
    let mut ana = Box::pin(here.subscribe("ana".into()));
    let mut bob = Box::pin(here.subscribe("bob".into()));

    // Cut both instances' listeners (this throwaway database's only `LISTEN` sessions).
    let cut: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(cut, vec![true, true], "both listeners cut");

    assert_eq!(next_event(&mut ana).await, LiveEvent::resync());
    assert_eq!(next_event(&mut bob).await, LiveEvent::resync());
    elsewhere.publish("ana", event("after"));
    assert_eq!(next_id(&mut ana).await, "after", "listening again");
    shutdown.cancel();
}
