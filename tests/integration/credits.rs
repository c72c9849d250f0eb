//! The credit ledger: reservations never overdraw, even when raced; settle and refund are idempotent.

use crate::common::{Backend, TestApp};
use avatar_studio::domain::credits;
use avatar_studio::domain::error::DomainError;

on_both_databases!(
    concurrent_reservations_never_overdraw,
    settle_and_refund_close_once
);

async fn user_id(app: &TestApp, email: &str) -> String {
    let (_, me) = app.user(email).await;
    me["id"].as_str().unwrap().to_string()
}

async fn concurrent_reservations_never_overdraw(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = user_id(&app, "racer@example.com").await;
    let db = app.state.studio.db.clone();
    let attempts = (0..25).map(|i| {
        let (db, user) = (db.clone(), user.clone());
        tokio::spawn(
            async move { credits::reserve(&db, &user, 10, &format!("race-{i}"), "").await },
        )
    });
    let results = futures::future::join_all(attempts).await;
    let granted = results.iter().filter(|r| matches!(r, Ok(Ok(())))).count();
    let refused: Vec<_> = results
        .into_iter()
        .filter_map(|r| r.unwrap().err())
        .collect();
    assert_eq!(
        granted, 10,
        "100 credits cover exactly ten reservations of 10"
    );
    assert!(
        refused
            .iter()
            .all(|e| matches!(e, DomainError::InsufficientCredits { needed: 10, .. })),
        "{refused:?}"
    );
    assert_eq!(credits::balance(&db, &user).await.unwrap(), 0);
    // These holds belong to no job: the reconciler gives every one of them back.
    let studio = &app.state.studio;
    let refunded = avatar_studio::domain::reconciler::refund_orphans(studio, 0)
        .await
        .unwrap();
    assert_eq!(refunded, 10);
    assert_eq!(credits::balance(&db, &user).await.unwrap(), 100);
}

async fn settle_and_refund_close_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = user_id(&app, "ledger@example.com").await;
    let db = &app.state.studio.db;

    credits::reserve(db, &user, 30, "job-1", "scene")
        .await
        .unwrap();
    credits::reserve(db, &user, 30, "job-1", "scene")
        .await
        .unwrap();
    assert_eq!(
        credits::balance(db, &user).await.unwrap(),
        70,
        "same key reserves once"
    );

    credits::refund(db, &user, "job-1").await.unwrap();
    credits::refund(db, &user, "job-1").await.unwrap();
    assert_eq!(
        credits::balance(db, &user).await.unwrap(),
        100,
        "refunds once"
    );
    let err = credits::settle(db, &user, "job-1").await.unwrap_err();
    assert!(matches!(err, DomainError::Conflict { .. }), "{err:?}");

    credits::reserve(db, &user, 40, "job-2", "").await.unwrap();
    credits::settle(db, &user, "job-2").await.unwrap();
    credits::settle(db, &user, "job-2").await.unwrap();
    assert!(credits::refund(db, &user, "job-2").await.is_err());
    assert_eq!(credits::balance(db, &user).await.unwrap(), 60);

    let err = credits::reserve(db, &user, 61, "job-3", "")
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        DomainError::InsufficientCredits {
            needed: 61,
            available: 60
        }
    ));
    assert_eq!(
        avatar_studio::error::AppError::from(err).status,
        402,
        "answered as payment required"
    );
    // Closing a hold that never existed (work that was never charged) changes nothing.
    credits::refund(db, &user, "unknown").await.unwrap();
    assert_eq!(credits::balance(db, &user).await.unwrap(), 60);
}
