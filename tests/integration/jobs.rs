//! The durable job queue: several workers (as several instances would) share one queue and each
//! job is worked exactly once; leases that run out are taken over; dedupe keys hold.

use crate::common::{Backend, TestApp};
use avatar_studio::jobs::{queue, NewJob, Outcome};
use std::collections::HashSet;

on_both_databases!(
    each_job_is_claimed_by_one_worker,
    lapsed_leases_are_taken_over_and_keys_dedupe,
    housekeeping_is_claimed_before_earlier_user_work
);

fn job(n: usize, key: Option<String>) -> NewJob {
    NewJob {
        kind: "test_job",
        user_id: None,
        subject_id: Some(format!("subject-{n}")),
        payload: serde_json::json!({ "n": n }),
        delay_ms: 0,
        dedupe_key: key,
        reservation_key: None,
        deadline_ms: queue::DEFAULT_DEADLINE_MS,
        priority: queue::USER_PRIORITY,
    }
}

async fn each_job_is_claimed_by_one_worker(backend: Backend) {
    // The app works no jobs, so only the test's workers touch the queue.
    let app = TestApp::spawn_with(backend, |c| c.run_jobs = false).await;
    let db = app.state.studio.db.clone();
    for n in 0..60 {
        queue::enqueue(&db, job(n, None)).await.unwrap();
    }
    // Four workers race for the queue until it is empty.
    let workers = (0..4).map(|w| {
        let db = db.clone();
        tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                let claimed = queue::claim(&db, &format!("test-worker-{w}"), 60_000, 5)
                    .await
                    .unwrap();
                let claimed: Vec<_> = claimed
                    .into_iter()
                    .filter(|j| j.kind == "test_job")
                    .collect();
                if claimed.is_empty() {
                    break;
                }
                for j in claimed {
                    queue::finish(&db, &j.fence, &Outcome::Done).await.unwrap();
                    mine.push(j.payload["n"].as_u64().unwrap());
                }
            }
            mine
        })
    });
    let all: Vec<u64> = futures::future::join_all(workers)
        .await
        .into_iter()
        .flat_map(|r| r.unwrap())
        .collect();
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 60, "every job worked, none twice: {all:?}");
    assert_eq!(unique.len(), 60);
}

async fn lapsed_leases_are_taken_over_and_keys_dedupe(backend: Backend) {
    // The app works no jobs, so only the test's workers touch the queue.
    let app = TestApp::spawn_with(backend, |c| c.run_jobs = false).await;
    let db = app.state.studio.db.clone();
    let key = Some("only-one".to_string());
    assert!(queue::enqueue(&db, job(1, key.clone()))
        .await
        .unwrap()
        .is_some());
    assert!(
        queue::enqueue(&db, job(2, key.clone()))
            .await
            .unwrap()
            .is_none(),
        "deduped while unfinished"
    );

    // A worker takes it with a lease that lapses at once (it "crashed")...
    let first = queue::claim(&db, "crashed", -1, 10).await.unwrap();
    let first: Vec<_> = first.into_iter().filter(|j| j.kind == "test_job").collect();
    assert_eq!(first.len(), 1);
    // ...so another takes it over, and the crashed one can no longer record an outcome.
    let second: Vec<_> = queue::claim(&db, "healthy", 60_000, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "test_job")
        .collect();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].id, first[0].id);
    // Its writes are fenced off: the old claim's token no longer holds the job.
    let mut tx = db.pool.begin().await.unwrap();
    assert!(first[0].fence.hold(&mut tx).await.is_err(), "fenced");
    assert!(
        second[0].fence.hold(&mut tx).await.is_ok(),
        "the new holder writes"
    );
    tx.commit().await.unwrap();
    assert!(!queue::renew(&db, &first[0].fence, 60_000).await.unwrap());
    assert!(queue::renew(&db, &second[0].fence, 60_000).await.unwrap());
    queue::finish(
        &db,
        &first[0].fence,
        &Outcome::Failed {
            error: "late".into(),
        },
    )
    .await
    .unwrap();
    queue::finish(&db, &second[0].fence, &Outcome::Again { after_ms: 0 })
        .await
        .unwrap();
    let again: Vec<_> = queue::claim(&db, "healthy", 60_000, 10)
        .await
        .unwrap()
        .into_iter()
        .filter(|j| j.kind == "test_job")
        .collect();
    assert_eq!(
        again.len(),
        1,
        "the late failure did not land; the job is due again"
    );
    queue::finish(&db, &again[0].fence, &Outcome::Done)
        .await
        .unwrap();
    assert!(
        queue::enqueue(&db, job(3, key)).await.unwrap().is_some(),
        "a finished job frees its key"
    );
}

async fn housekeeping_is_claimed_before_earlier_user_work(backend: Backend) {
    // The app works no jobs, so only the test claims.
    let app = TestApp::spawn_with(backend, |c| c.run_jobs = false).await;
    let db = app.state.studio.db.clone();
    for n in 0..40 {
        queue::enqueue(&db, job(n, None)).await.unwrap();
    }
    let watch = NewJob {
        delay_ms: 0,
        ..NewJob::recurring("test_housekeeping", 1_000, serde_json::Value::Null)
    };
    queue::enqueue(&db, watch).await.unwrap().expect("queued");
    // One job per claim: the first of the test's jobs out is the housekeeping one, though forty
    // user jobs fell due before it; then user work, in due order.
    assert_eq!(next_test_job(&db).await.kind, "test_housekeeping");
    let next = next_test_job(&db).await;
    assert_eq!(next.kind, "test_job");
    assert_eq!(next.payload["n"], 0);
}

/// Claims one job at a time until one of the test's comes out (the app's own housekeeping may
/// fall due meanwhile and come first).
async fn next_test_job(db: &avatar_studio::store::Db) -> queue::Job {
    loop {
        let claimed = queue::claim(db, "worker", 60_000, 1).await.unwrap();
        let job = claimed.into_iter().next().expect("a due job");
        if job.kind.starts_with("test_") {
            return job;
        }
    }
}
