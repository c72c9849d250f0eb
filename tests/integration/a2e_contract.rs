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
        only_key: None,
        controls: true,
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

fn text2image(name: &str) -> Text2ImageRequest {
    Text2ImageRequest {
        name: name.into(),
        prompt: "p".into(),
        req_key: "high_aes".into(),
        width: 64,
        height: 64,
    }
}

impl Sim {
    async fn fault(&self, body: Value) {
        self.control("/_simulator/faults", body).await
    }

    async fn clear_requests(&self) {
        let res = reqwest::Client::new()
            .delete(format!("{}/_simulator/requests", self.base))
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success());
    }

    /// Start calls at `path` the simulator received for a task named `name`.
    async fn starts_named(&self, path: &str, name: &str) -> usize {
        self.requests()
            .await
            .iter()
            .filter(|r| r["path"] == path && r["body"]["name"] == name)
            .count()
    }

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

    // Speech in one of the listed voices (A2E groups them by language).
    let voices = a2e.voices().await.unwrap();
    assert!(voices
        .iter()
        .all(|v| !v.id.is_empty() && !v.group.is_empty()));
    let audio = a2e
        .text_to_speech(&TtsRequest {
            msg: "Hello there".into(),
            tts_id: voices[0].id.clone(),
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
    let cases: [(&str, Check); 7] = [
        ("server_error", |e| {
            matches!(e, A2eError::Unavailable { .. })
        }),
        ("rate_limit", |e| matches!(e, A2eError::RateLimited { .. })),
        ("timeout", |e| matches!(e, A2eError::OutcomeUnknown { .. })),
        ("lost_response", |e| {
            matches!(e, A2eError::OutcomeUnknown { .. })
        }),
        ("malformed", |e| matches!(e, A2eError::Malformed { .. })),
        ("code_nonzero", |e| matches!(e, A2eError::BadInput { .. })),
        ("moderation", |e| matches!(e, A2eError::Moderation { .. })),
    ];
    let request = text2image("n");
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
    // A start whose answer was lost is never sent again (it may have begun paid work)...
    for kind in ["timeout", "lost_response"] {
        sim.fault(json!({ "rate": 1.0, "kinds": [kind] })).await;
        sim.clear_requests().await;
        let _ = a2e.text_to_image_start(&request).await;
        assert_eq!(
            sim.requests().await.len(),
            1,
            "{kind}: no blind retry of a start"
        );
    }
    // ...but a start A2E certainly refused is (3 retries), and so is a status read after a lost answer.
    for kind in ["server_error", "rate_limit"] {
        sim.fault(json!({ "rate": 1.0, "kinds": [kind] })).await;
        sim.clear_requests().await;
        let _ = a2e.text_to_image_start(&request).await;
        assert_eq!(
            sim.requests().await.len(),
            1 + 3,
            "{kind}: a refused start is retried"
        );
    }
    sim.fault(json!({ "rate": 1.0, "kinds": ["lost_response"] }))
        .await;
    sim.clear_requests().await;
    let _ = a2e.text_to_image_status("0123456789abcdef01234567").await;
    assert_eq!(
        sim.requests().await.len(),
        1 + 3,
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

/// What the starts of every family need: a finished portrait, a trained avatar, its anchor, audio.
struct Inputs {
    image: String,
    avatar: String,
    anchor: String,
    audio: String,
}

async fn inputs(a2e: &A2eClient) -> Inputs {
    let portrait = a2e
        .text_to_image_start(&Text2ImageRequest {
            prompt: "a lighthouse keeper".into(),
            ..text2image("setup-portrait")
        })
        .await
        .unwrap();
    let portrait = until_done(|| a2e.text_to_image_status(&portrait.id)).await;
    let image = portrait.image_urls[0].clone();
    let avatar = a2e
        .start_training(&TrainingRequest {
            name: "setup-avatar".into(),
            image_url: Some(image.clone()),
            gender: "female".into(),
            model_version: "V2.1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    until_done(|| a2e.training_status(&avatar.id)).await;
    let anchor = a2e.anchors(&avatar.id).await.unwrap()[0].id.clone();
    let audio = a2e
        .text_to_speech(&TtsRequest {
            msg: "Hello".into(),
            tts_id: "en-US-female-1".into(),
        })
        .await
        .unwrap();
    Inputs {
        image,
        avatar: avatar.id,
        anchor,
        audio,
    }
}

/// Starts one task of `family` named `name`.
async fn start_named(
    a2e: &A2eClient,
    family: TaskFamily,
    name: &str,
    inputs: &Inputs,
) -> Result<Record, A2eError> {
    let name = name.to_string();
    match family {
        TaskFamily::Text2Image => a2e.text_to_image_start(&text2image(&name)).await,
        TaskFamily::Avatar => {
            a2e.start_training(&TrainingRequest {
                name,
                image_url: Some(inputs.image.clone()),
                gender: "male".into(),
                model_version: "V2.1".into(),
                ..Default::default()
            })
            .await
        }
        TaskFamily::NanoBanana => {
            a2e.nano_banana_start(&NanoBananaRequest {
                name,
                prompt: "a duel at dawn".into(),
                user_video_twin_ids: vec![inputs.avatar.clone()],
                model: "nano-banana-pro".into(),
                ..Default::default()
            })
            .await
        }
        TaskFamily::MotionTransfer => {
            let request = MotionTransferRequest {
                user_video_twin_id: Some(inputs.avatar.clone()),
                video_url: "https://example.com/dance.mp4".into(),
                ..Default::default()
            };
            a2e.motion_transfer_start_named(&name, &request).await
        }
        TaskFamily::Image2Video => {
            a2e.image_to_video_start(&Image2VideoRequest {
                name,
                image_url: inputs.image.clone(),
                prompt: "turns around".into(),
                model_type: "GENERAL".into(),
                video_time: 5,
                ..Default::default()
            })
            .await
        }
        TaskFamily::TalkingPhoto => {
            a2e.talking_photo_start(&TalkingPhotoRequest {
                name,
                image_url: inputs.image.clone(),
                audio_url: inputs.audio.clone(),
                duration: 3,
                ..Default::default()
            })
            .await
        }
        TaskFamily::Lipsync => {
            a2e.lipsync_start(&LipsyncRequest {
                title: name,
                anchor_id: inputs.anchor.clone(),
                anchor_type: 0,
                audio_src: inputs.audio.clone(),
            })
            .await
        }
    }
}

const UNKNOWN_ID: &str = "0123456789abcdef01234567";

#[tokio::test]
async fn every_family_finds_its_tasks_by_name_and_by_id() {
    let sim = simulator(2000.0).await;
    let a2e = client(&sim, "sk_lookup");
    let inputs = inputs(&a2e).await;
    for family in TaskFamily::ALL {
        let name = format!("job-{family:?}");
        let started = start_named(&a2e, family, &name, &inputs).await.unwrap();
        let found = a2e.find_by_name(family, &name).await.unwrap();
        let found = found.unwrap_or_else(|| panic!("{family:?}: {name} not found"));
        assert_eq!(found.id, started.id, "{family:?}");
        assert_ne!(found.current_status, TaskStatus::Unknown, "{family:?}");
        assert_eq!(
            a2e.find_by_name(family, "never-started").await.unwrap(),
            None,
            "{family:?}"
        );
        let ids = [started.id.clone(), UNKNOWN_ID.into(), "not/an/id".into()];
        let detail = a2e.batch_detail(family, &ids).await.unwrap();
        let detail: Vec<&str> = detail.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(detail, [started.id.as_str()], "{family:?}");
    }
    // Lists are per family: a portrait's name is not found among the scenes.
    assert!(a2e
        .find_by_name(TaskFamily::NanoBanana, "setup-portrait")
        .await
        .unwrap()
        .is_none());
    assert!(a2e
        .find_by_name(TaskFamily::Text2Image, "setup-portrait")
        .await
        .unwrap()
        .is_some());
    // Finished lipsync videos are read in their own words.
    let lipsync = a2e
        .find_by_name(TaskFamily::Lipsync, "job-Lipsync")
        .await
        .unwrap()
        .unwrap();
    let mut done = lipsync;
    for _ in 0..200 {
        if done.current_status.is_final() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        done = a2e
            .batch_detail(TaskFamily::Lipsync, std::slice::from_ref(&done.id))
            .await
            .unwrap()
            .remove(0);
    }
    assert_eq!(done.current_status, TaskStatus::Completed);
    assert!(done.result_url.is_some());
}

#[tokio::test]
async fn record_lists_page_newest_first() {
    let sim = simulator(1000.0).await;
    let a2e = client(&sim, "sk_pages");
    for n in 0..130 {
        a2e.text_to_image_start(&text2image(&format!("n{n}")))
            .await
            .unwrap();
    }
    sim.clear_requests().await;
    let oldest = a2e
        .find_by_name(TaskFamily::Text2Image, "n0")
        .await
        .unwrap();
    assert_eq!(oldest.unwrap().name, "n0");
    let pages: Vec<String> = sim
        .requests()
        .await
        .iter()
        .map(|r| r["query"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        pages,
        ["pageNum=1&pageSize=100", "pageNum=2&pageSize=100"],
        "the oldest is on the second page"
    );
    // Read raw: newest first, with the total.
    let page: Value = reqwest::Client::new()
        .get(format!(
            "{}/api/v1/userText2Image/allRecords?pageNum=1&pageSize=3",
            sim.base
        ))
        .bearer_auth("sk_pages")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let names: Vec<&str> = page["data"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["n129", "n128", "n127"]);
    assert_eq!(page["data"]["total"], 130);
    // The avatar list pages the same way and carries names.
    for n in 0..3 {
        start_named(
            &a2e,
            TaskFamily::Avatar,
            &format!("a{n}"),
            &Inputs {
                // Served here (a 404): the simulator looks at training pictures.
                image: format!("{}/files/none/a.png", sim.base),
                avatar: String::new(),
                anchor: String::new(),
                audio: String::new(),
            },
        )
        .await
        .unwrap();
    }
    let avatars = a2e.list_avatars(1, 2, None).await.unwrap();
    let names: Vec<&str> = avatars.list.iter().map(|r| r.name.as_str()).collect();
    assert_eq!((names, avatars.total), (vec!["a2", "a1"], 3));
}

#[tokio::test]
async fn a_lost_answer_leaves_a_task_that_is_found_by_name() {
    let sim = simulator(2000.0).await;
    let a2e = client(&sim, "sk_lost");
    for flavour in ["dropped_connection", "gateway_timeout"] {
        let name = format!("lost-{flavour}");
        sim.fault(json!({ "rate": 1.0, "kinds": ["lost_response"], "flavour": flavour }))
            .await;
        sim.clear_requests().await;
        let err = a2e
            .text_to_image_start(&text2image(&name))
            .await
            .unwrap_err();
        // A 504 is read as an answer; a dropped connection as a transport failure.
        let A2eError::OutcomeUnknown { detail } = &err else {
            panic!("{flavour}: {err:?}");
        };
        assert_eq!(
            detail == "HTTP 504",
            flavour == "gateway_timeout",
            "{flavour}: {detail}"
        );
        assert!(err.is_transient() && !err.not_started());
        let path = "/api/v1/userText2Image/start";
        assert_eq!(
            sim.starts_named(path, &name).await,
            1,
            "{flavour}: started once"
        );
        sim.fault(json!({ "rate": 0.0, "kinds": [] })).await;
        // The call took effect: the task exists and runs to the end.
        let found = a2e
            .find_by_name(TaskFamily::Text2Image, &name)
            .await
            .unwrap()
            .unwrap_or_else(|| panic!("{flavour}: the task exists"));
        let done = until_done(|| a2e.text_to_image_status(&found.id)).await;
        assert_eq!(done.current_status, TaskStatus::Completed, "{flavour}");
    }
}

#[tokio::test]
async fn a_slow_call_takes_effect_even_when_the_caller_stops_waiting() {
    let sim = simulator(2000.0).await;
    let a2e = client(&sim, "sk_slow");
    // Slower than nothing, faster than the client's 800 ms: answered as usual.
    sim.fault(json!({ "rate": 1.0, "kinds": ["slow"], "delay_ms": 300 }))
        .await;
    let began = std::time::Instant::now();
    let started = a2e.text_to_image_start(&text2image("slow")).await.unwrap();
    assert!(began.elapsed() >= Duration::from_millis(300), "it waited");
    // Slower than the client waits: the answer is lost, the work still happens.
    sim.fault(json!({ "rate": 1.0, "kinds": ["slow"], "delay_ms": 1500 }))
        .await;
    let err = a2e
        .text_to_image_start(&text2image("slower"))
        .await
        .unwrap_err();
    assert!(matches!(err, A2eError::OutcomeUnknown { .. }), "{err:?}");
    sim.fault(json!({ "rate": 0.0, "kinds": [] })).await;
    let mut late = None;
    for _ in 0..100 {
        late = a2e
            .find_by_name(TaskFamily::Text2Image, "slower")
            .await
            .unwrap();
        if late.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(late.is_some(), "the slow start took effect");
    assert_eq!(
        sim.starts_named("/api/v1/userText2Image/start", "slower")
            .await,
        1
    );
    assert!(a2e.text_to_image_status(&started.id).await.is_ok());
}

#[tokio::test]
async fn fault_settings_are_checked() {
    let sim = simulator(1.0).await;
    for body in [
        json!({ "rate": 1.0, "kinds": ["lost_response"], "flavour": "sideways" }),
        json!({ "rate": 1.0, "kinds": ["slow"], "delay_ms": 10_000_000 }),
        json!({ "rate": 1.0, "kinds": ["gremlins"] }),
    ] {
        let res = reqwest::Client::new()
            .post(format!("{}/_simulator/faults", sim.base))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST, "{body}");
    }
}

#[tokio::test]
async fn a2e_out_of_reach_is_not_started() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let a2e = client(
        &Sim {
            base: format!("http://{closed}"),
        },
        "sk_nowhere",
    );
    let err = a2e.text_to_image_start(&text2image("x")).await.unwrap_err();
    assert!(matches!(err, A2eError::Unavailable { .. }), "{err:?}");
    assert!(err.not_started());
}

#[tokio::test]
async fn continuing_needs_a_trained_avatar_and_shows_as_training() {
    let sim = simulator(100.0).await;
    let a2e = client(&sim, "sk_continue");
    let avatar = a2e
        .start_training(&TrainingRequest {
            name: "c".into(),
            image_url: Some(format!("{}/files/none/c.png", sim.base)),
            gender: "male".into(),
            model_version: "V2.1".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(matches!(
        a2e.continue_training(&avatar.id).await,
        Err(A2eError::BadInput { .. })
    ));
    let trained = until_done_slowly(|| a2e.training_status(&avatar.id)).await;
    assert_eq!(trained.current_status, TaskStatus::Completed);
    a2e.continue_training(&avatar.id).await.unwrap();
    let again = a2e.training_status(&avatar.id).await.unwrap();
    assert_eq!(again.current_status, TaskStatus::Processing);
    assert!(matches!(
        a2e.continue_training(&avatar.id).await,
        Err(A2eError::BadInput { .. })
    ));
}

/// Like `until_done`, for trainings at a slower clock (a few seconds of real time).
async fn until_done_slowly<F, Fut>(mut poll: F) -> Record
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Record, A2eError>>,
{
    for _ in 0..300 {
        let record = poll().await.unwrap();
        if record.current_status.is_final() {
            return record;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("never finished");
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
