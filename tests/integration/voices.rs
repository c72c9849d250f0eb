//! Lipsync voices: A2E's list through the studio, the chosen voice sent to A2E's speech call,
//! unknown voices refused before anything is charged.

use crate::common::{error_code, Backend, TestApp};
use serde_json::{json, Value};

on_both_databases!(
    lipsync_text_is_read_in_the_chosen_voice,
    lipsync_waits_for_a2e_when_it_cannot_list_voices,
);

async fn lipsync_text_is_read_in_the_chosen_voice(backend: Backend) {
    let app = TestApp::fast(backend, 500).await;
    let (client, _) = app.user("speaker@example.com").await;
    let voices: Vec<Value> = app.get_json(&client, "/api/a2e/voices").await;
    assert!(voices.len() >= 3, "{voices:?}");
    let british = voices
        .iter()
        .find(|v| v["group"] == "English (UK)")
        .expect("grouped as A2E groups them");
    assert!(!british["name"].as_str().unwrap().is_empty());
    let anonymous = reqwest::get(app.url("/api/a2e/voices")).await.unwrap();
    assert_eq!(anonymous.status(), 401);

    let image = "https://example.com/face.png";
    let spoken = |voice: Option<&Value>| {
        let mut body = json!({ "image": image, "text": "Hello there." });
        if let Some(v) = voice {
            body["voice"] = v.clone();
        }
        body
    };
    let res = app
        .post(&client, "/api/a2e/lipsync", spoken(Some(&british["id"])))
        .await;
    assert_eq!(res.status(), 202);
    let made = generation(&app, &client, res).await;
    assert_eq!(made["inputs"]["voice"], british["id"], "kept with the spec");
    let res = app.post(&client, "/api/a2e/lipsync", spoken(None)).await;
    assert_eq!(res.status(), 202);
    let default = generation(&app, &client, res).await;
    assert_eq!(
        default["inputs"]["voice"], voices[0]["id"],
        "A2E's first voice"
    );

    // Each speech call carries its generation's voice.
    let mut sent = Vec::new();
    for _ in 0..200 {
        sent = app.simulator_requests_to("/api/v1/video/send_tts").await;
        if sent.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let mut ids: Vec<_> = sent.iter().map(|r| r["body"]["tts_id"].clone()).collect();
    ids.sort_by_key(|v| v.to_string());
    let mut want = vec![british["id"].clone(), voices[0]["id"].clone()];
    want.sort_by_key(|v| v.to_string());
    assert_eq!(ids, want);

    let before = app.credits(&client).await;
    let refused = [
        (spoken(Some(&json!("no-such-voice"))), "unknown_voice"),
        (
            json!({ "image": image, "audioUrl": "https://example.com/hi.wav", "voice": british["id"] }),
            "voice_without_text",
        ),
    ];
    for (body, code) in refused {
        let res = app.post(&client, "/api/a2e/lipsync", body).await;
        assert_eq!(error_code(res).await, (400, code.to_string()));
    }
    assert_eq!(app.credits(&client).await, before, "nothing charged");
}

async fn generation(app: &TestApp, client: &reqwest::Client, res: reqwest::Response) -> Value {
    let submitted: Value = res.json().await.unwrap();
    let id = submitted["id"].as_str().unwrap();
    app.get_json(client, &format!("/api/generations/{id}"))
        .await
}

/// A2E down before any voice list is known: a spoken lipsync is accepted and waits, like any
/// other work (not refused), and speaks in A2E's first voice once A2E answers again.
async fn lipsync_waits_for_a2e_when_it_cannot_list_voices(backend: Backend) {
    let app = TestApp::fast(backend, 500).await;
    let (client, _) = app.user("patient-speaker@example.com").await;
    app.simulator_faults(1.0, &["server_error"]).await;
    let body = json!({ "image": "https://example.com/face.png", "text": "Still here." });
    let res = app.post(&client, "/api/a2e/lipsync", body).await;
    assert_eq!(res.status(), 202);
    let made = generation(&app, &client, res).await;
    assert!(
        made["inputs"]["voice"].is_null(),
        "chosen when A2E answers: {made}"
    );
    app.simulator_faults(0.0, &[]).await;
    let id = made["id"].as_str().unwrap();
    let mut done = made.clone();
    for _ in 0..400 {
        done = app
            .get_json(&client, &format!("/api/generations/{id}"))
            .await;
        if done["status"] == "completed" || done["status"] == "failed" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(done["status"], "completed", "{done}");
    let sent = app.simulator_requests_to("/api/v1/video/send_tts").await;
    assert_eq!(sent.last().unwrap()["body"]["tts_id"], "en-US-female-1");
}
