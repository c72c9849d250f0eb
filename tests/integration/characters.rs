//! Characters and avatar training over the JSON API, on SQLite and PostgreSQL, against the
//! built-in A2E simulator (sped up).

use crate::common::{error_code, mp4_clip, png_of, portrait_png, Backend, TestApp};
use reqwest::Client;
use serde_json::{json, Value};
use std::time::Duration;

on_both_databases!(
    prompt_character_trains_by_itself,
    bad_character_requests_are_refused_without_charge,
    ids_of_other_users_answer_404,
    not_enough_credits_refuses_without_saving,
    a2e_refusals_refund_the_portrait,
    failed_training_keeps_the_reason_and_can_be_retried,
    continue_training_charges_once,
    avatar_status_routes_poll_and_validate,
    uploads_create_characters_from_images_and_videos,
    media_a2e_cannot_train_from_is_refused_before_anything_is_kept,
    delete_removes_the_avatar_at_a2e,
);

async fn character(client: &Client, app: &TestApp, id: &str) -> Value {
    app.get_json(client, &format!("/api/characters/{id}")).await
}

/// Waits (bounded) for the background job to move the avatar to `status`.
async fn until_status(client: &Client, app: &TestApp, id: &str, status: &str) -> Value {
    for _ in 0..200 {
        let c = character(client, app, id).await;
        if c["avatar_status"] == status {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "character {id} never reached {status}: {}",
        character(client, app, id).await
    );
}

async fn prompt_character_trains_by_itself(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (client, me) = app.user("maker@example.com").await;
    let res = app
        .post(
            &client,
            "/api/a2e/character",
            json!({
                "prompt": "a cheerful baker with flour on her nose",
                "name": "Baker Bea",
                "outfitDescription": "white apron",
                "model_version": "V1.0",
                "gender": "female",
                "userId": me["id"],
            }),
        )
        .await;
    assert_eq!(res.status(), 201);
    let created: Value = res.json().await.unwrap();
    assert_eq!(created["avatar_status"], "training");
    assert_eq!(created["name"], "Baker Bea");
    assert_eq!(created["outfit_description"], "white apron");
    let avatar_id = created["avatar_id"].as_str().unwrap();
    assert_eq!(avatar_id.len(), 24);
    let image_url = created["image_url"].as_str().unwrap();
    assert!(
        image_url.starts_with(&format!("{}/media/", app.base)),
        "kept in our store: {image_url}"
    );
    let image = reqwest::get(image_url).await.unwrap();
    assert_eq!(image.headers()["content-type"], "image/png");
    assert_eq!(
        app.credits(&client).await,
        98,
        "the portrait costs 2 credits"
    );

    // The training was started with our copy of the image and the chosen settings.
    let log = app.simulator_requests().await;
    let training = log
        .iter()
        .find(|r| r["path"] == "/api/v1/userVideoTwin/startTraining")
        .unwrap();
    assert_eq!(training["body"]["image_url"], image_url);
    assert_eq!(training["body"]["model_version"], "V1.0");
    assert_eq!(training["body"]["gender"], "female");
    assert!(
        log.iter().all(|r| !r.to_string().contains("sk_sim_")),
        "no key in the log"
    );

    // No browser, no polling by the caller: the job runner finishes it.
    let done = until_status(&client, &app, created["id"].as_str().unwrap(), "completed").await;
    assert_eq!(done["avatar_progress"], 100);
    let list: Vec<Value> = app.get_json(&client, "/api/characters").await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["avatar_id"], avatar_id);

    // waitForAvatar answers with the final state.
    let res = app
        .post(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "a tall lighthouse keeper", "waitForAvatar": true }),
        )
        .await;
    let waited: Value = res.json().await.unwrap();
    assert_eq!(waited["avatar_status"], "completed", "{waited}");
    assert_eq!(waited["name"], "a tall lighthouse keeper");
}

async fn bad_character_requests_are_refused_without_charge(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (client, _) = app.user("careful@example.com").await;
    let cases = [
        (json!({ "name": "No prompt" }), 400, "missing_prompt"),
        (json!({ "prompt": "   " }), 400, "missing_prompt"),
        (json!({ "prompt": "x".repeat(2001) }), 400, "invalid_field"),
        (
            json!({ "prompt": "ok", "name": "n".repeat(101) }),
            400,
            "invalid_field",
        ),
        (
            json!({ "prompt": "ok", "model_version": "V9" }),
            400,
            "invalid_model_version",
        ),
        (
            json!({ "prompt": "ok", "gender": "robot" }),
            400,
            "invalid_gender",
        ),
        (
            json!({ "prompt": "ok", "userId": "someone-else" }),
            403,
            "forbidden",
        ),
        (json!({ "prompt": 42 }), 400, "invalid_request"),
        (
            json!({ "referenceImage": "ftp://example.com/x.png" }),
            400,
            "invalid_reference_image",
        ),
    ];
    for (body, status, code) in cases {
        let res = app.post(&client, "/api/a2e/character", body.clone()).await;
        assert_eq!(error_code(res).await, (status, code.to_string()), "{body}");
    }
    let res = client
        .post(app.url("/api/a2e/character"))
        .header("content-type", "application/json")
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (400, "invalid_json".into()));
    let res = reqwest::Client::new()
        .post(app.url("/api/a2e/character"))
        .json(&json!({ "prompt": "x" }))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
    assert_eq!(app.credits(&client).await, 100);
    let list: Vec<Value> = app.get_json(&client, "/api/characters").await;
    assert!(list.is_empty(), "nothing half-saved");
}

async fn ids_of_other_users_answer_404(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (owner, _) = app.user("owner@example.com").await;
    let (other, _) = app.user("other@example.com").await;
    let created: Value = app
        .post(
            &owner,
            "/api/a2e/character",
            json!({ "prompt": "a quiet librarian" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let avatar = created["avatar_id"].as_str().unwrap();
    for path in [
        format!("/api/characters/{id}"),
        format!("/api/a2e/avatar-status?avatar_id={avatar}"),
        "/api/characters/nope".to_string(),
    ] {
        let res = other.get(app.url(&path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    for path in [
        format!("/api/characters/{id}/continue-training"),
        format!("/api/characters/{id}/retry-training"),
    ] {
        assert_eq!(
            other.post(app.url(&path)).send().await.unwrap().status(),
            404,
            "{path}"
        );
    }
    assert_eq!(
        other
            .delete(app.url(&format!("/api/characters/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let res = app
        .post(
            &other,
            "/api/a2e/avatar-status",
            json!({ "avatar_id": avatar }),
        )
        .await;
    assert_eq!(res.status(), 404);
    assert_eq!(
        character(&owner, &app, id).await["id"],
        id,
        "still there for its owner"
    );
}

async fn not_enough_credits_refuses_without_saving(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.signup_credits = 3).await;
    let (client, _) = app.user("poor@example.com").await;
    let res = app
        .post(&client, "/api/a2e/character", json!({ "prompt": "first" }))
        .await;
    assert_eq!(res.status(), 201);
    let res = app
        .post(&client, "/api/a2e/character", json!({ "prompt": "second" }))
        .await;
    assert_eq!(error_code(res).await, (402, "insufficient_credits".into()));
    assert_eq!(app.credits(&client).await, 1);
    let list: Vec<Value> = app.get_json(&client, "/api/characters").await;
    assert_eq!(list.len(), 1);
}

async fn a2e_refusals_refund_the_portrait(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (client, _) = app.user("refused@example.com").await;
    // A refusal is kept as a failed character with A2E's reason (Retry draws it again).
    for (kind, reason) in [
        ("moderation", "content rules"),
        ("code_nonzero", "refused the input"),
    ] {
        app.simulator_faults(1.0, &[kind]).await;
        let res = app
            .post(
                &client,
                "/api/a2e/character",
                json!({ "prompt": "anything" }),
            )
            .await;
        assert_eq!(res.status(), 201, "{kind}");
        let failed: Value = res.json().await.unwrap();
        assert_eq!(failed["avatar_status"], "failed", "{kind}: {failed}");
        let error = failed["avatar_error"].as_str().unwrap_or_default();
        assert!(error.contains(reason), "{kind}: {error}");
        assert_eq!(app.credits(&client).await, 100, "{kind}: refunded");
    }
    // A failed portrait is drawn again on Retry, and charged again only then.
    app.simulator_faults(0.0, &[]).await;
    let list: Vec<Value> = app.get_json(&client, "/api/characters").await;
    let retry = format!(
        "/api/characters/{}/retry-training",
        list[0]["id"].as_str().unwrap()
    );
    let redrawn: Value = app.post_json(&client, &retry, json!({})).await;
    assert!(redrawn["image_url"].is_string(), "{redrawn}");
    assert_eq!(redrawn["avatar_status"], "training", "{redrawn}");
    assert_eq!(app.credits(&client).await, 98);
    for c in app.get_json::<Vec<Value>>(&client, "/api/characters").await {
        if c["avatar_status"] == "failed" {
            let path = format!("/api/characters/{}", c["id"].as_str().unwrap());
            client.delete(app.url(&path)).send().await.unwrap();
        }
    }
    // Transient faults are retried: a flaky A2E still gets the character made.
    app.simulator_faults(0.3, &["server_error", "rate_limit"])
        .await;
    let res = app
        .post(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "persistent" }),
        )
        .await;
    let status = res.status().as_u16();
    app.simulator_faults(0.0, &[]).await;
    assert!(status == 201 || status == 503 || status == 429, "{status}");
    let list: Vec<Value> = app.get_json(&client, "/api/characters").await;
    let kept = list
        .iter()
        .filter(|c| c["source"] == "generated" && c["avatar_status"] != "failed")
        .count() as i64;
    assert_eq!(app.credits(&client).await, 100 - 2 * kept);
}

async fn failed_training_keeps_the_reason_and_can_be_retried(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (client, _) = app.user("unlucky@example.com").await;
    let reason = "No face could be found in the image";
    reqwest::Client::new()
        .post(app.url("/a2e-sim/_simulator/fail-next-training"))
        .json(&json!({ "reason": reason }))
        .send()
        .await
        .unwrap();
    let created: Value = app
        .post(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "a foggy landscape" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let failed = until_status(&client, &app, id, "failed").await;
    assert_eq!(failed["avatar_error"], reason);
    let status: Value = client
        .get(app.url(&format!(
            "/api/a2e/avatar-status?avatar_id={}",
            created["avatar_id"].as_str().unwrap()
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"], "failed");
    assert_eq!(status["is_complete"], true);
    assert_eq!(status["error"], reason);

    let retry = app.url(&format!("/api/characters/{id}/retry-training"));
    app.simulator_faults(1.0, &["code_nonzero"]).await;
    let res = client.post(&retry).send().await.unwrap();
    assert_eq!(error_code(res).await.0, 422, "A2E's refusal is the answer");
    app.simulator_faults(0.0, &[]).await;
    let still = character(&client, &app, id).await;
    assert_eq!(
        still["avatar_status"], "failed",
        "a refused retry leaves it failed"
    );
    assert!(
        still["avatar_error"]
            .as_str()
            .is_some_and(|e| e.contains("refused")),
        "{still}"
    );

    let starts = app
        .simulator_requests_to("/api/v1/userVideoTwin/startTraining")
        .await
        .len();
    let (a, b) = tokio::join!(client.post(&retry).send(), client.post(&retry).send());
    let (a, b) = (a.unwrap(), b.unwrap());
    let mut statuses = [a.status().as_u16(), b.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "a double click retries once");
    let retried: Value = if a.status() == 200 { a } else { b }.json().await.unwrap();
    let after = app
        .simulator_requests_to("/api/v1/userVideoTwin/startTraining")
        .await
        .len();
    assert_eq!(after, starts + 1, "one new training at A2E");
    assert_ne!(
        retried["avatar_id"], created["avatar_id"],
        "a fresh training"
    );
    until_status(&client, &app, id, "completed").await;
    let res = client
        .post(app.url(&format!("/api/characters/{id}/retry-training")))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (409, "not_failed".into()));
    assert_eq!(app.credits(&client).await, 98, "retrying is free");
}

async fn continue_training_charges_once(backend: Backend) {
    let app = TestApp::fast(backend, 250).await;
    let (client, _) = app.user("patient@example.com").await;
    let created: Value = app
        .post(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "a marathon runner" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let path = format!("/api/characters/{id}/continue-training");
    let res = client.post(app.url(&path)).send().await.unwrap();
    assert_eq!(
        error_code(res).await,
        (409, "not_trained".into()),
        "not before the first training ends"
    );
    until_status(&client, &app, id, "completed").await;

    // A2E refusing leaves the avatar trained as it was, and nothing charged.
    app.simulator_faults(1.0, &["code_nonzero"]).await;
    let res = client.post(app.url(&path)).send().await.unwrap();
    assert!(
        res.status().is_client_error() || res.status() == 502,
        "{}",
        res.status()
    );
    app.simulator_faults(0.0, &[]).await;
    assert_eq!(app.credits(&client).await, 248, "refunded");
    assert_eq!(
        character(&client, &app, id).await["avatar_status"],
        "completed"
    );

    let (a, b) = tokio::join!(
        client.post(app.url(&path)).send(),
        client.post(app.url(&path)).send()
    );
    let mut statuses = [a.unwrap().status().as_u16(), b.unwrap().status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409], "one continues, the other is told so");
    assert_eq!(
        app.credits(&client).await,
        248 - 100,
        "a double click charges once"
    );
    let continuing = character(&client, &app, id).await;
    assert_eq!(continuing["avatar_status"], "training");
    assert_eq!(continuing["continued"], true);
    let eta = continuing["eta_seconds"].as_i64().unwrap();
    assert!(eta >= 1, "about 30 A2E minutes, sped up: {eta}");
    let asked = app
        .simulator_requests_to("/api/v1/userVideoTwin/continueTraining")
        .await;
    assert_eq!(
        asked.len(),
        2,
        "the refused call, then one for the double click: {asked:?}"
    );
}

async fn avatar_status_routes_poll_and_validate(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (client, _) = app.user("poller@example.com").await;
    let created: Value = app
        .post(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "a jazz trumpeter" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let avatar = created["avatar_id"].as_str().unwrap();
    for (body, code) in [
        (
            json!({ "avatar_id": avatar, "max_attempts": 0 }),
            "invalid_max_attempts",
        ),
        (
            json!({ "avatar_id": avatar, "max_attempts": 100000 }),
            "invalid_max_attempts",
        ),
        (
            json!({ "avatar_id": avatar, "interval_ms": 1 }),
            "invalid_interval_ms",
        ),
        (
            json!({ "avatar_id": avatar, "max_attempts": 120, "interval_ms": 60000 }),
            "invalid_interval_ms",
        ),
    ] {
        let res = app
            .post(&client, "/api/a2e/avatar-status", body.clone())
            .await;
        assert_eq!(error_code(res).await, (400, code.to_string()), "{body}");
    }
    let res = client
        .get(app.url("/api/a2e/avatar-status"))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (400, "missing_avatar_id".into()));
    let res = app
        .post(
            &client,
            "/api/a2e/avatar-status",
            json!({ "avatarId": avatar, "maxAttempts": 100, "intervalMs": 100 }),
        )
        .await;
    let status: Value = res.json().await.unwrap();
    assert_eq!(status["status"], "completed", "{status}");
    assert_eq!(status["is_complete"], true);
    assert_eq!(
        character(&client, &app, created["id"].as_str().unwrap()).await["avatar_status"],
        "completed",
        "written to the database"
    );
}

pub(crate) async fn upload(
    client: &Client,
    app: &TestApp,
    name: &str,
    file: Vec<u8>,
    filename: &str,
) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("name", name.to_string())
        .text("gender", "male")
        .part(
            "file",
            reqwest::multipart::Part::bytes(file).file_name(filename.to_string()),
        );
    client
        .post(app.url("/api/characters"))
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn uploads_create_characters_from_images_and_videos(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (client, _) = app.user("uploader@example.com").await;
    let res = upload(&client, &app, "Photo", portrait_png(), "me.png").await;
    assert_eq!(res.status(), 201);
    let photo: Value = res.json().await.unwrap();
    assert_eq!(photo["source"], "uploaded_image");
    assert_eq!(photo["training_kind"], "image");

    let res = upload(&client, &app, "Clip", mp4_clip(10, 640, 360), "clip.mp4").await;
    assert_eq!(res.status(), 201);
    let clip: Value = res.json().await.unwrap();
    assert_eq!(clip["source"], "uploaded_video");
    assert_eq!(clip["training_kind"], "video");
    assert!(clip["image_url"].is_null());
    let log = app.simulator_requests().await;
    assert!(log
        .iter()
        .any(|r| r["path"] == "/api/v1/userVideoTwin/startTraining"
            && r["body"]["video_url"] == clip["video_url"]));
    assert_eq!(app.credits(&client).await, 100, "uploads are free");

    let res = upload(
        &client,
        &app,
        "Fake",
        b"<html>not an image</html>".to_vec(),
        "fake.png",
    )
    .await;
    assert_eq!(
        error_code(res).await,
        (415, "unsupported_media_type".into())
    );
    let form = reqwest::multipart::Form::new().text("name", "Nothing");
    let res = client
        .post(app.url("/api/characters"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(res).await, (400, "missing_file".into()));
    let list: Vec<Value> = app.get_json(&client, "/api/characters").await;
    assert_eq!(list.len(), 2);
}

async fn delete_removes_the_avatar_at_a2e(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (client, _) = app.user("deleter@example.com").await;
    let created: Value = app
        .post(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "a fleeting idea" }),
        )
        .await
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();
    let res = client
        .delete(app.url(&format!("/api/characters/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(
        client
            .get(app.url(&format!("/api/characters/{id}")))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let avatar = created["avatar_id"].as_str().unwrap();
    for _ in 0..100 {
        let log = app.simulator_requests().await;
        if log
            .iter()
            .any(|r| r["path"] == "/api/v1/userVideoTwin/remove" && r["body"]["_id"] == avatar)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the avatar was never removed at A2E");
}

/// Pre-flight: what A2E could not train from is refused with a sentence saying what to change,
/// before anything is stored, charged or sent to A2E.
async fn media_a2e_cannot_train_from_is_refused_before_anything_is_kept(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let (client, _) = app.user("preflight@example.com").await;
    let webm = {
        let out = std::process::Command::new("ffmpeg")
            .args(["-loglevel", "error", "-f", "lavfi", "-i"])
            .args(["testsrc=duration=11:size=640x360:rate=5", "-c:v", "libvpx"])
            .args(["-f", "webm", "pipe:1"])
            .output()
            .unwrap();
        out.stdout
    };
    let cases = [
        (png_of(120, 90), "tiny.png", "120×90"),
        (png_of(1200, 300), "banner.png", "at most 3:1"),
        (mp4_clip(4, 640, 360), "short.mp4", "4.0 s"),
        (mp4_clip(12, 320, 240), "blurry.mp4", "320×240"),
        (webm, "clip.webm", "MP4 or MOV"),
        (
            b"\0\0\0\x18ftypisom broken".to_vec(),
            "broken.mp4",
            "could not be read",
        ),
    ];
    for (bytes, name, says) in cases {
        let res = upload(&client, &app, "Nope", bytes, name).await;
        assert_eq!(res.status(), 400, "{name}");
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unsuitable_for_training", "{name}");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(says), "{name}: {message}");
    }
    // The same rules for an image given by URL or data URL.
    use base64::Engine;
    let tiny = base64::engine::general_purpose::STANDARD.encode(png_of(64, 64));
    let res = app
        .post(
            &client,
            "/api/a2e/character",
            json!({ "prompt": "me", "referenceImage": format!("data:image/png;base64,{tiny}") }),
        )
        .await;
    assert_eq!(
        error_code(res).await,
        (400, "unsuitable_for_training".into())
    );
    let list: Vec<Value> = app.get_json(&client, "/api/characters").await;
    assert!(list.is_empty(), "nothing saved");
    let me: Value = app.get_json(&client, "/api/me").await;
    assert_eq!(me["storage_used"], 0, "nothing kept: {me}");
    assert_eq!(app.credits(&client).await, 100, "nothing charged");
    assert!(
        app.simulator_requests_to("/api/v1/userVideoTwin/startTraining")
            .await
            .is_empty(),
        "nothing sent to A2E"
    );
}
