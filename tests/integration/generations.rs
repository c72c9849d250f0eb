//! Generations with characters on both databases: trained avatars are sent by avatar id, other
//! characters by image; results land in our store; charges settle or refund.

use crate::common::{error_code, Backend, TestApp};
use reqwest::Client;
use serde_json::{json, Value};
use std::time::Duration;

on_both_databases!(
    scenes_use_avatar_ids_for_trained_characters,
    videos_lipsyncs_and_motion_transfers_complete,
    fight_sequences_run_every_move_with_the_same_avatars,
    bad_generation_requests_are_refused_without_charge,
    failures_refund_and_cancel_refunds,
    outfits_are_written_into_scene_and_video_prompts,
);

async fn trained_character(client: &Client, app: &TestApp, prompt: &str) -> Value {
    let body = json!({ "prompt": prompt, "waitForAvatar": true });
    let c = app.post_json(client, "/api/a2e/character", body).await;
    assert_eq!(c["avatar_status"], "completed", "{c}");
    c
}

async fn finished(client: &Client, app: &TestApp, id: &str) -> Value {
    for _ in 0..400 {
        let g: Value = app
            .get_json(client, &format!("/api/generations/{id}"))
            .await;
        if ["completed", "failed", "cancelled"].contains(&g["status"].as_str().unwrap_or_default())
        {
            return g;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("generation {id} never finished");
}

async fn scenes_use_avatar_ids_for_trained_characters(backend: Backend) {
    let app = TestApp::fast(backend, 500).await;
    let (client, _) = app.user("director@example.com").await;
    let hero = trained_character(&client, &app, "a hero with a blue cape").await;
    let rival = trained_character(&client, &app, "a rival with a red mask").await;
    let before = app.credits(&client).await;
    let sketch = format!("data:image/png;base64,{}", "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==");
    // References as full rows (as GET /api/characters returns them), by avatar id, and by image.
    let res = app.post(&client, "/api/a2e/nanobanana", json!({
        "prompt": "a standoff on a rooftop at night",
        "characterRefs": [hero.clone(), { "avatar_id": rival["avatar_id"] }, { "image_url": "https://example.com/cat.png", "name": "Cat" }],
        "sketch": sketch,
        "aspect_ratio": "16:9",
    }))
    .await;
    assert_eq!(res.status(), 202);
    let submitted: Value = res.json().await.unwrap();
    assert_eq!(submitted["cost"], 4);
    // The time it typically takes (A2E's 20 s at the simulator's 600× speed, plus one poll).
    let id = submitted["id"].as_str().unwrap();
    let stored: Value = app
        .get_json(&client, &format!("/api/generations/{id}"))
        .await;
    let expected = stored["work"]["expected_ms"].as_i64().unwrap_or_default();
    assert!(
        (1..60_000).contains(&expected),
        "expected_ms {expected}: {stored}"
    );
    let refs = submitted["references"].as_array().unwrap();
    assert_eq!(refs[0]["via"], "avatar");
    assert_eq!(refs[0]["avatar_id"], hero["avatar_id"]);
    assert_eq!(refs[1]["via"], "avatar");
    assert_eq!(refs[2]["via"], "image");
    assert_eq!(app.credits(&client).await, before - 4, "reserved on submit");

    let done = finished(&client, &app, submitted["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    let url = done["result_urls"][0].as_str().unwrap();
    assert!(url.starts_with(&app.url("/media/")), "kept in our store");
    assert_eq!(
        reqwest::get(url).await.unwrap().headers()["content-type"],
        "image/png"
    );
    assert_eq!(app.credits(&client).await, before - 4, "settled");
    // The scene's first figure wears the hero's face: the look came through the trained avatar.
    let face = |url: String| async move {
        let png = reqwest::get(url).await.unwrap().bytes().await.unwrap();
        avatar_studio::simulator::face_in_picture(&png).expect("a simulated picture")
    };
    let portrait = face(hero["image_url"].as_str().unwrap().to_string()).await;
    assert_eq!(
        face(url.to_string()).await,
        portrait,
        "same face as the portrait"
    );

    // The simulator saw avatar ids for the trained two, and no image URL of theirs.
    let sent = &app
        .simulator_requests_to("/api/v1/userNanoBanana/start")
        .await[0]["body"];
    assert_eq!(
        sent["user_video_twin_ids"],
        json!([hero["avatar_id"], rival["avatar_id"]])
    );
    let images = sent["input_images"].as_array().unwrap();
    assert!(images.contains(&json!("https://example.com/cat.png")));
    assert!(!images.contains(&hero["image_url"]) && !images.contains(&rival["image_url"]));
    assert_eq!(images.len(), 2, "the cat and the sketch");

    let list: Vec<Value> = app.get_json(&client, "/api/generations").await;
    assert_eq!(list.len(), 1);
}

async fn videos_lipsyncs_and_motion_transfers_complete(backend: Backend) {
    let app = TestApp::fast(backend, 500).await;
    let (client, _) = app.user("animator@example.com").await;
    let hero = trained_character(&client, &app, "a dancer in yellow").await;
    let avatar = hero["avatar_id"].as_str().unwrap();
    let jobs = [
        (
            "/api/a2e/i2v",
            json!({ "characterId": hero["id"], "prompt": "spins around", "duration": 5 }),
            "image_to_video",
        ),
        (
            "/api/a2e/motion-transfer",
            json!({ "avatarId": avatar, "videoUrl": "https://example.com/moves.mp4" }),
            "motion_transfer",
        ),
        (
            "/api/a2e/lipsync",
            json!({ "avatarId": avatar, "text": "Hello, I am a dancer." }),
            "lipsync",
        ),
        (
            "/api/a2e/lipsync",
            json!({ "image": "https://example.com/face.png", "audioUrl": "https://example.com/hi.wav" }),
            "lipsync",
        ),
    ];
    for (path, body, kind) in jobs {
        let res = app.post(&client, path, body.clone()).await;
        assert_eq!(res.status(), 202, "{path}");
        let submitted: Value = res.json().await.unwrap();
        let done = finished(&client, &app, submitted["id"].as_str().unwrap()).await;
        assert_eq!(
            (
                done["kind"].as_str().unwrap(),
                done["status"].as_str().unwrap()
            ),
            (kind, "completed"),
            "{done}"
        );
        let video = reqwest::get(done["result_urls"][0].as_str().unwrap())
            .await
            .unwrap();
        assert_eq!(video.headers()["content-type"], "video/webm", "{path}");
    }
    assert_eq!(
        app.simulator_requests_to("/api/v1/motionTransfer/start")
            .await[0]["body"]["user_video_twin_id"],
        avatar
    );
    assert!(app
        .simulator_requests_to("/api/v1/motionTransfer/start")
        .await[0]["body"]
        .get("image_url")
        .is_none());
    assert_eq!(
        app.simulator_requests_to("/api/v1/video/send_tts").await[0]["body"]["msg"],
        "Hello, I am a dancer."
    );
    assert_eq!(
        app.simulator_requests_to("/api/v1/video/generate")
            .await
            .len(),
        1,
        "the avatar spoke through its anchor"
    );
    assert_eq!(
        app.simulator_requests_to("/api/v1/talkingPhoto/start")
            .await
            .len(),
        1,
        "the plain image as a talking photo"
    );
}

async fn fight_sequences_run_every_move_with_the_same_avatars(backend: Backend) {
    let app = TestApp::fast(backend, 500).await;
    let (client, _) = app.user("fighter@example.com").await;
    let a = trained_character(&client, &app, "a boxer").await;
    let b = trained_character(&client, &app, "a ninja").await;
    let before = app.credits(&client).await;
    let moves = ["jab", "roundhouse kick", "final bow"];
    let res = app
        .post(
            &client,
            "/api/a2e/fight-sequence",
            json!({ "characterRefs": [{ "id": a["id"] }, { "id": b["id"] }], "moves": moves }),
        )
        .await;
    assert_eq!(res.status(), 202);
    let submitted: Value = res.json().await.unwrap();
    assert_eq!(submitted["cost"], 36);
    let done = finished(&client, &app, submitted["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed", "{done}");
    assert_eq!(
        done["result_urls"].as_array().unwrap().len(),
        3,
        "one clip per move, in order"
    );
    let steps = done["work"]["steps"].as_array().unwrap();
    assert_eq!(
        steps
            .iter()
            .map(|s| s["move"].as_str().unwrap())
            .collect::<Vec<_>>(),
        moves
    );
    let scenes = app
        .simulator_requests_to("/api/v1/userNanoBanana/start")
        .await;
    assert_eq!(scenes.len(), 3);
    for scene in &scenes {
        assert_eq!(
            scene["body"]["user_video_twin_ids"],
            json!([a["avatar_id"], b["avatar_id"]]),
            "same avatars every move"
        );
    }
    // Each move after the first starts from the previous move's scene.
    assert_eq!(
        scenes[1]["body"]["input_images"],
        json!([steps[0]["scene_url"]])
    );
    assert_eq!(app.credits(&client).await, before - 36);
}

async fn bad_generation_requests_are_refused_without_charge(backend: Backend) {
    let app = TestApp::fast(backend, 500).await;
    let (client, _) = app.user("strict@example.com").await;
    let (other, _) = app.user("stranger@example.com").await;
    let theirs = trained_character(&other, &app, "someone else's hero").await;
    let cases = [
        (
            "/api/a2e/nanobanana",
            json!({ "characterRefs": [] }),
            400,
            "missing_prompt",
        ),
        (
            "/api/a2e/nanobanana",
            json!({ "prompt": "x", "characterRefs": [{ "id": theirs["id"] }] }),
            404,
            "not_found",
        ),
        (
            "/api/a2e/nanobanana",
            json!({ "prompt": "x", "characterRefs": [{ "avatar_id": theirs["avatar_id"] }] }),
            404,
            "not_found",
        ),
        (
            "/api/a2e/nanobanana",
            json!({ "prompt": "x", "characterRefs": [{ "name": "nobody" }] }),
            400,
            "invalid_reference",
        ),
        (
            "/api/a2e/nanobanana",
            json!({ "prompt": "x", "aspect_ratio": "2:7" }),
            400,
            "invalid_aspect_ratio",
        ),
        (
            "/api/a2e/nanobanana",
            json!({ "prompt": "x", "sketch": "data:text/html;base64,PGI+" }),
            400,
            "invalid_sketch",
        ),
        (
            "/api/a2e/nanobanana",
            json!({ "prompt": "x", "userId": theirs["user_id"] }),
            403,
            "forbidden",
        ),
        (
            "/api/a2e/i2v",
            json!({ "prompt": "x" }),
            400,
            "missing_subject",
        ),
        (
            "/api/a2e/i2v",
            json!({ "image": "https://example.com/a.png", "prompt": "x", "duration": 7 }),
            400,
            "invalid_duration",
        ),
        (
            "/api/a2e/i2v",
            json!({ "avatarId": theirs["avatar_id"], "prompt": "x" }),
            404,
            "not_found",
        ),
        (
            "/api/a2e/motion-transfer",
            json!({ "image": "https://example.com/a.png" }),
            400,
            "missing_video",
        ),
        (
            "/api/a2e/motion-transfer",
            json!({ "image": "https://example.com/a.png", "videoUrl": "file:///etc/passwd" }),
            400,
            "invalid_url",
        ),
        (
            "/api/a2e/lipsync",
            json!({ "image": "https://example.com/a.png" }),
            400,
            "missing_speech",
        ),
        (
            "/api/a2e/lipsync",
            json!({ "image": "https://example.com/a.png", "text": "x".repeat(1001) }),
            400,
            "invalid_field",
        ),
        (
            "/api/a2e/fight-sequence",
            json!({ "characterRefs": [], "moves": ["jab"] }),
            400,
            "missing_references",
        ),
        (
            "/api/a2e/fight-sequence",
            json!({ "characterRefs": [{ "image_url": "https://example.com/a.png" }], "moves": [] }),
            400,
            "invalid_moves",
        ),
        (
            "/api/a2e/fight-sequence",
            json!({ "characterRefs": [{ "image_url": "https://example.com/a.png" }], "moves": ["jab", " "] }),
            400,
            "invalid_moves",
        ),
    ];
    for (path, body, status, code) in cases {
        let res = app.post(&client, path, body.clone()).await;
        assert_eq!(
            error_code(res).await,
            (status, code.to_string()),
            "{path} {body}"
        );
    }
    let res = client
        .get(app.url(&format!("/api/generations/{}", "nope")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(app.credits(&client).await, 500);
    let list: Vec<Value> = app.get_json(&client, "/api/generations").await;
    assert!(list.is_empty(), "nothing half-saved");

    let poor = TestApp::spawn_with(Backend::Sqlite, |c| c.signup_credits = 3).await;
    let (broke, _) = poor.user("broke@example.com").await;
    let res = poor
        .post(&broke, "/api/a2e/nanobanana", json!({ "prompt": "x" }))
        .await;
    assert_eq!(error_code(res).await, (402, "insufficient_credits".into()));
}

async fn failures_refund_and_cancel_refunds(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.a2e_simulator_speedup = 2.0;
        c.job_tick_ms = 50;
        c.signup_credits = 500;
    })
    .await;
    let (client, _) = app.user("refunds@example.com").await;
    // A2E refuses the start: the generation fails with A2E's reason and is refunded.
    reqwest::Client::new()
        .post(app.url("/a2e-sim/_simulator/faults"))
        .json(&json!({ "rate": 1.0, "kinds": ["moderation"] }))
        .send()
        .await
        .unwrap();
    let submitted: Value = app
        .post(
            &client,
            "/api/a2e/nanobanana",
            json!({ "prompt": "something forbidden" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let failed = finished(&client, &app, submitted["id"].as_str().unwrap()).await;
    reqwest::Client::new()
        .post(app.url("/a2e-sim/_simulator/faults"))
        .json(&json!({ "rate": 0.0, "kinds": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(failed["status"], "failed");
    assert!(
        failed["error"].as_str().unwrap().contains("content rules"),
        "{failed}"
    );
    assert_eq!(app.credits(&client).await, 500);

    // Retry makes a new generation; one A2E has not started yet (A2E refusing work with 503s)
    // is cancelled with a full refund.
    app.simulator_faults(1.0, &["server_error"]).await;
    let res = client
        .post(app.url(&format!(
            "/api/generations/{}/retry",
            failed["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    let retried: Value = res.json().await.unwrap();
    assert_ne!(retried["id"], failed["id"]);
    assert_eq!(app.credits(&client).await, 496);
    let retried_id = retried["id"].as_str().unwrap();
    for _ in 0..400 {
        let g: Value = app
            .get_json(&client, &format!("/api/generations/{retried_id}"))
            .await;
        if g["notice"].is_string() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let res = client
        .post(app.url(&format!(
            "/api/generations/{}/cancel",
            retried["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cancelled: Value = res.json().await.unwrap();
    assert_eq!(cancelled["status"], "cancelled");
    // Refunded at once, or — if a retry was in flight — once A2E's refusal comes back.
    for _ in 0..200 {
        if app.credits(&client).await == 500 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    app.simulator_faults(0.0, &[]).await;
    assert_eq!(app.credits(&client).await, 500);
    let res = client
        .post(app.url(&format!(
            "/api/generations/{}/cancel",
            retried["id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (409, "already_finished".into()));
}

async fn outfits_are_written_into_scene_and_video_prompts(backend: Backend) {
    let app = TestApp::fast(backend, 500).await;
    let (client, _) = app.user("tailor@example.com").await;
    let body = json!({
        "name": "Ada",
        "prompt": "a pilot with short grey hair",
        "outfit_description": "a leather flight jacket",
        "waitForAvatar": true,
    });
    let ada = app.post_json(&client, "/api/a2e/character", body).await;
    assert_eq!(ada["avatar_status"], "completed", "{ada}");
    let refs = json!([{ "id": ada["id"] }]);
    let res = app
        .post(
            &client,
            "/api/a2e/nanobanana",
            json!({ "prompt": "a hangar at dawn", "characterRefs": refs }),
        )
        .await;
    assert_eq!(res.status(), 202);
    let res = app
        .post(
            &client,
            "/api/a2e/i2v",
            json!({ "characterId": ada["id"], "prompt": "waves" }),
        )
        .await;
    assert_eq!(res.status(), 202);
    let i2v: Value = res.json().await.unwrap();
    finished(&client, &app, i2v["id"].as_str().unwrap()).await;

    let scene = &app
        .simulator_requests_to("/api/v1/userNanoBanana/start")
        .await[0]["body"];
    assert_eq!(
        scene["prompt"],
        "a hangar at dawn. Characters: Ada (wearing a leather flight jacket)."
    );
    let clip = &app
        .simulator_requests_to("/api/v1/userImage2Video/start")
        .await[0]["body"];
    assert_eq!(clip["prompt"], "waves. Ada wears a leather flight jacket.");
}
