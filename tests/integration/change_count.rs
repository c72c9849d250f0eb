//! The count of a user's changes on PostgreSQL (`store::change_count`): each connection counts
//! in a row of its own, so two transactions writing one user's rows never wait for each other;
//! a change is counted when it commits; a rewrite that changes nothing is no change; and folding
//! the rows of ended connections into the user's leaves the count as it was.

use crate::common::{Backend, TestApp};
use avatar_studio::store::change_count::{count_of, fold_ended_connections};
use sqlx::{AnyConnection, Connection, Row};
use std::time::Duration;

/// A preset of the user's, written on a connection of its own.
async fn add_preset(conn: &mut AnyConnection, user_id: &str, name: &str) {
    sqlx::query("INSERT INTO presets (id, user_id, name, created_at) VALUES ($1, $2, $3, 0)")
        .bind(format!("preset-{name}"))
        .bind(user_id)
        .bind(name)
        .execute(&mut *conn)
        .await
        .unwrap();
}

async fn server_process(conn: &mut AnyConnection) -> i32 {
    let row = sqlx::query("SELECT pg_backend_pid()")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    row.try_get(0).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_counts_without_waiting_and_folds_to_the_same_sum() {
    let app = TestApp::spawn(Backend::Postgres).await;
    let (_, me) = app.user("counted@example.com").await;
    let user_id = me["id"].as_str().unwrap();
    let pool = &app.state.studio.db.pool;
    let count = || async { count_of(pool, user_id).await.unwrap().unwrap() };
    let start = count().await;

    // One transaction holds its change open; another connection's change goes through at once
    // (a lock wait would fail it, not stall it) and is counted when it commits.
    let mut first = AnyConnection::connect(&app.database_url).await.unwrap();
    let mut second = AnyConnection::connect(&app.database_url).await.unwrap();
    let processes = [
        server_process(&mut first).await,
        server_process(&mut second).await,
    ];
    sqlx::query("BEGIN").execute(&mut first).await.unwrap();
    add_preset(&mut first, user_id, "open").await;
    sqlx::query("SET lock_timeout = '5s'")
        .execute(&mut second)
        .await
        .unwrap();
    add_preset(&mut second, user_id, "beside").await;
    assert_eq!(count().await, start + 1, "only the committed change");
    sqlx::query("COMMIT").execute(&mut first).await.unwrap();
    assert_eq!(count().await, start + 2);

    // Rewriting a row as it was (how a row is locked) is no change; a real one is.
    let rewrite = "UPDATE presets SET name = name WHERE user_id = $1";
    sqlx::query(rewrite)
        .bind(user_id)
        .execute(&mut second)
        .await
        .unwrap();
    assert_eq!(count().await, start + 2, "nothing changed");
    sqlx::query("UPDATE presets SET voice = 'v' WHERE id = 'preset-open'")
        .execute(&mut second)
        .await
        .unwrap();
    assert_eq!(count().await, start + 3);

    // The two connections end; folding their rows into the user's leaves the sum.
    first.close().await.unwrap();
    second.close().await.unwrap();
    until_ended(pool, &processes).await;
    assert!(fold_ended_connections(pool).await.unwrap() >= 1);
    assert_eq!(count().await, start + 3, "the same count after the fold");
    let left = "SELECT COUNT(*) FROM list_changes WHERE backend = $1 OR backend = $2";
    assert_eq!(
        how_many(pool, left, &processes).await,
        0,
        "their rows are gone"
    );
    let mut third = AnyConnection::connect(&app.database_url).await.unwrap();
    add_preset(&mut third, user_id, "after").await;
    assert_eq!(count().await, start + 4, "and counting goes on");
}

/// Waits (bounded) until the server processes of closed connections have gone; a failure
/// guard, not a measurement.
async fn until_ended(pool: &sqlx::AnyPool, processes: &[i32; 2]) {
    let running = "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1 OR pid = $2";
    for _ in 0..200 {
        if how_many(pool, running, processes).await == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the closed connections' processes did not end");
}

/// The count `sql` reads for the two server processes.
async fn how_many(pool: &sqlx::AnyPool, sql: &str, processes: &[i32; 2]) -> i64 {
    let row = sqlx::query(sql)
        .bind(processes[0])
        .bind(processes[1])
        .fetch_one(pool)
        .await
        .unwrap();
    row.try_get(0).unwrap()
}
