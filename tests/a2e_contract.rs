//! Contract tests: the typed A2E client against the simulator, for every call, on success and
//! under every fault kind; and the client reading sample answers in A2E's documented shapes.

use avatar_studio::a2e::*;
use avatar_studio::simulator::{self, SimulatorConfig};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

struct Sim {
    base: String,
}

async fn simulator(speedup: f64) -> Sim {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = simulator::router(SimulatorConfig {
        speedup,
        public_base_url: base.clone(),
    });
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Sim { base }
}

fn client(sim: &Sim, key: &str) -> A2eClient {
    A2eClient::new(A2eConfig {
        base_url: sim.base.clone(),
        api_key: key.into(),
        timeout: Duration::from_millis(800),
        max_retries: 3,
    })
    .unwrap()
}

impl Sim {
    async fn control(&self, path: &str, body: Value) {
        let res = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{path}");
    }

    async fn requests(&self) -> Vec<Value> {
        let v: Value = reqwest::get(format!("{}/_simulator/requests", self.base))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["requests"].as_array().unwrap().clone()
    }
}

async fn until_done<F, Fut>(mut poll: F) -> Record
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Record, A2eError>>,
{
    for _ in 0..200 {
        let record = poll().await.unwrap();
        if record.current_status.is_final() {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never finished");
}

async fn fetch(url: &str) -> (StatusCode, String, usize) {
    let res = reqwest::get(url).await.unwrap();
    let status = res.status();
    let kind = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (status, kind, res.bytes().await.unwrap().len())
}

#[tokio::test]
async fn every_call_succeeds_against_the_simulator() {
    let sim = simulator(2000.0).await;
    let a2e = client(&sim, "sk_contract");
    let before = a2e.balance().await.unwrap();
    assert!(before.coins > 0.0);

    let t2i = a2e
        .text_to_image_start(&Text2ImageRequest {
            name: "p".into(),
            prompt: "a red fox".into(),
            req_key: "high_aes".into(),
            width: 512,
            height: 512,
        })
        .await
        .unwrap();
    assert_eq!(t2i.id.len(), 24);
    assert!(t2i.id.chars().all(|c| c.is_ascii_hexdigit()));
    let done = until_done(|| a2e.text_to_image_status(&t2i.id)).await;
    assert_eq!(done.current_status, TaskStatus::Completed);
    let (status, kind, len) = fetch(&done.image_urls[0]).await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "image/png"));
    assert!(len > 100);
    assert!(
        a2e.balance().await.unwrap().coins < before.coins,
        "paid calls cost coins"
    );

    let training = TrainingRequest {
        name: "fox".into(),
        image_url: Some(done.image_urls[0].clone()),
        gender: "female".into(),
        model_version: "V2.1".into(),
        ..Default::default()
    };
    let avatar = a2e.start_training(&training).await.unwrap();
    let trained = until_done(|| a2e.training_status(&avatar.id)).await;
    assert_eq!(trained.current_status, TaskStatus::Completed);
    assert!(trained.preview_result_url.is_some());
    let page = a2e.list_avatars(1, 10, Some("completed")).await.unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.list[0].id, avatar.id);
    let anchors = a2e.anchors(&avatar.id).await.unwrap();
    assert_eq!(
        anchors[0].user_video_twin_id.as_deref(),
        Some(avatar.id.as_str())
    );

    let scene = a2e
        .nano_banana_start(&NanoBananaRequest {
            name: "s".into(),
            prompt: "a duel at dawn".into(),
            user_video_twin_ids: vec![avatar.id.clone()],
            model: "nano-banana-pro".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let scene = until_done(|| a2e.nano_banana_status(&scene.id)).await;
    assert_eq!(fetch(&scene.image_urls[0]).await.1, "image/png");

    let motion = a2e
        .motion_transfer_start(&MotionTransferRequest {
            user_video_twin_id: Some(avatar.id.clone()),
            video_url: "https://example.com/dance.mp4".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(until_done(|| a2e.motion_transfer_status(&motion.id))
        .await
        .result_url
        .is_some());
    let i2v = a2e
        .image_to_video_start(&Image2VideoRequest {
            name: "v".into(),
            image_url: done.image_urls[0].clone(),
            prompt: "turns around".into(),
            model_type: "GENERAL".into(),
            video_time: 5,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(until_done(|| a2e.image_to_video_status(&i2v.id))
        .await
        .result_url
        .is_some());

    let audio = a2e
        .text_to_speech(&TtsRequest {
            msg: "Hello there".into(),
            tts_id: "en-US-1".into(),
        })
        .await
        .unwrap();
    let (status, kind, _) = fetch(&audio).await;
    assert_eq!((status, kind.as_str()), (StatusCode::OK, "audio/wav"));
    let talking = a2e
        .talking_photo_start(&TalkingPhotoRequest {
            name: "t".into(),
            image_url: done.image_urls[0].clone(),
            audio_url: audio.clone(),
            duration: 3,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(until_done(|| a2e.talking_photo_status(&talking.id))
        .await
        .result_url
        .is_some());
    let lipsync = a2e
        .lipsync_start(&LipsyncRequest {
            title: "hi".into(),
            anchor_id: anchors[0].id.clone(),
            anchor_type: 0,
            audio_src: audio,
        })
        .await
        .unwrap();
    let mut result = a2e.lipsync_status(&lipsync.id).await.unwrap();
    for _ in 0..200 {
        if result.status.is_final() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        result = a2e.lipsync_status(&lipsync.id).await.unwrap();
    }
    assert_eq!(result.status, TaskStatus::Completed);
    assert_eq!(result.process, 100.0);

    // Continue, remove, then the avatar is unknown.
    a2e.continue_training(&avatar.id).await.unwrap();
    assert_eq!(
        a2e.training_status(&avatar.id)
            .await
            .unwrap()
            .current_status,
        TaskStatus::Processing
    );
    a2e.remove_avatar(&avatar.id).await.unwrap();
    assert!(matches!(
        a2e.training_status(&avatar.id).await,
        Err(A2eError::NotFound)
    ));

    // What the client sent is what the contract says, and the key is never logged.
    let log = sim.requests().await;
    let start = log
        .iter()
        .find(|r| r["path"] == "/api/v1/userVideoTwin/startTraining")
        .unwrap();
    assert_eq!(start["body"]["model_version"], "V2.1");
    assert!(
        start["body"].get("video_url").is_none(),
        "strict: no empty fields sent"
    );
    assert!(!serde_json::to_string(&log).unwrap().contains("sk_contract"));
    assert!(!format!("{a2e:?}").contains("sk_contract"));
}

#[tokio::test]
async fn state_is_kept_per_api_key() {
    let sim = simulator(1000.0).await;
    let (ana, bob) = (client(&sim, "sk_ana"), client(&sim, "sk_bob"));
    let avatar = ana
        .start_training(&TrainingRequest {
            name: "a".into(),
            image_url: Some("https://example.com/a.png".into()),
            gender: "male".into(),
            model_version: "V2.1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(ana.training_status(&avatar.id).await.is_ok());
    assert!(matches!(
        bob.training_status(&avatar.id).await,
        Err(A2eError::NotFound)
    ));
    let no_key = client(&sim, "");
    assert!(matches!(no_key.balance().await, Err(A2eError::BadKey)));
}

#[tokio::test]
async fn bad_input_and_failed_trainings_come_back_as_such() {
    let sim = simulator(1000.0).await;
    let a2e = client(&sim, "sk_input");
    let bad = TrainingRequest {
        name: "x".into(),
        image_url: Some("not a url".into()),
        gender: "male".into(),
        model_version: "V2.1".into(),
        ..Default::default()
    };
    assert!(matches!(
        a2e.start_training(&bad).await,
        Err(A2eError::BadInput { .. })
    ));
    sim.control(
        "/_simulator/fail-next-training",
        json!({ "reason": "two faces found" }),
    )
    .await;
    let ok = TrainingRequest {
        image_url: Some("https://example.com/x.png".into()),
        ..bad
    };
    let avatar = a2e.start_training(&ok).await.unwrap();
    let record = until_done(|| a2e.training_status(&avatar.id)).await;
    assert_eq!(record.current_status, TaskStatus::Failed);
    assert_eq!(record.failed_message.as_deref(), Some("two faces found"));
}

#[tokio::test]
async fn each_fault_kind_maps_to_its_error() {
    let sim = simulator(1000.0).await;
    let a2e = client(&sim, "sk_faults");
    type Check = fn(&A2eError) -> bool;
    let cases: [(&str, Check); 6] = [
        ("server_error", |e| {
            matches!(e, A2eError::Unavailable { .. })
        }),
        ("rate_limit", |e| matches!(e, A2eError::RateLimited { .. })),
        ("timeout", |e| matches!(e, A2eError::Unavailable { .. })),
        ("malformed", |e| matches!(e, A2eError::Malformed { .. })),
        ("code_nonzero", |e| matches!(e, A2eError::BadInput { .. })),
        ("moderation", |e| matches!(e, A2eError::Moderation { .. })),
    ];
    let request = Text2ImageRequest {
        name: "n".into(),
        prompt: "p".into(),
        req_key: "high_aes".into(),
        width: 64,
        height: 64,
    };
    for (kind, expected) in cases {
        sim.control(
            "/_simulator/faults",
            json!({ "rate": 1.0, "kinds": [kind] }),
        )
        .await;
        let err = a2e.text_to_image_start(&request).await.unwrap_err();
        assert!(expected(&err), "{kind}: {err:?}");
        assert!(!err.user_message().contains("sk_faults"));
    }
    // A start is never sent twice after a 5xx (it may have begun paid work); a status read is.
    sim.control(
        "/_simulator/faults",
        json!({ "rate": 1.0, "kinds": ["server_error"] }),
    )
    .await;
    reqwest::Client::new()
        .delete(format!("{}/_simulator/requests", sim.base))
        .send()
        .await
        .unwrap();
    let _ = a2e.text_to_image_start(&request).await;
    assert_eq!(sim.requests().await.len(), 1, "no blind retry of a start");
    let _ = a2e.text_to_image_status("0123456789abcdef01234567").await;
    assert_eq!(
        sim.requests().await.len(),
        1 + 4,
        "a status read is retried (3 retries)"
    );

    // With some faults, retries carry idempotent calls through. Faults are random: a call fails
    // only when all 4 tries do (0.2⁴), so 2 failures in 30 are a 1-in-1000 event, while without
    // retries at most 1 failure in 30 happens 1 time in 100.
    sim.control(
        "/_simulator/faults",
        json!({ "rate": 0.2, "kinds": ["server_error", "rate_limit"] }),
    )
    .await;
    let mut failed = 0;
    for _ in 0..30 {
        failed += usize::from(a2e.balance().await.is_err());
    }
    assert!(
        failed <= 1,
        "{failed} of 30 balance reads failed despite retries"
    );
    sim.control("/_simulator/faults", json!({ "rate": 0.0, "kinds": [] }))
        .await;
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/a2e/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(path).unwrap();
    read_envelope(StatusCode::OK, &text, None).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn documented_answers_are_read_leniently() {
    let record: Record = serde_json::from_value(fixture("text2image_done.json")).unwrap();
    assert_eq!(record.current_status, TaskStatus::Completed);
    assert_eq!(record.image_urls.len(), 1);
    assert_eq!(record.coins, Some(1.0));

    let failed: Record = serde_json::from_value(fixture("training_failed.json")).unwrap();
    assert_eq!(failed.current_status, TaskStatus::Failed);
    assert_eq!(failed.failed_code.as_deref(), Some("1008"));
    assert_eq!(
        failed.failed_message.as_deref(),
        Some("No face detected in the image")
    );

    let page: Page = serde_json::from_value(fixture("avatar_records.json")).unwrap();
    assert_eq!(
        (page.total, page.list[1].current_status.clone()),
        (2, TaskStatus::Processing)
    );
    assert_eq!(fixture("tts.json"), json!("https://cdn.a2e.ai/tts/abc.mp3"));
    let lipsync: LipsyncResult =
        serde_json::from_value(fixture("lipsync_result.json")[0].clone()).unwrap();
    assert_eq!(
        (lipsync.status, lipsync.process),
        (TaskStatus::Processing, 42.0)
    );
    let balance: Balance = serde_json::from_value(fixture("balance.json")).unwrap();
    assert_eq!((balance.coins, balance.diamonds), (1520.5, 3.0));

    let path = format!(
        "{}/tests/fixtures/a2e/error_nonzero.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let err = read_envelope(
        StatusCode::OK,
        &std::fs::read_to_string(path).unwrap(),
        None,
    )
    .unwrap_err();
    assert!(
        matches!(err, A2eError::Moderation { ref reason } if reason.contains("sensitive")),
        "{err:?}"
    );
    assert!(matches!(
        read_envelope(StatusCode::OK, "<html>", None),
        Err(A2eError::Malformed { .. })
    ));
    assert!(matches!(
        read_envelope(StatusCode::PAYMENT_REQUIRED, "{}", None),
        Err(A2eError::InsufficientBalance)
    ));
    let limited = read_envelope(
        StatusCode::TOO_MANY_REQUESTS,
        "",
        Some(Duration::from_secs(7)),
    )
    .unwrap_err();
    assert!(matches!(limited, A2eError::RateLimited { retry_after: Some(d) } if d.as_secs() == 7));
}
