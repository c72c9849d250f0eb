//! Data for the bench, written straight into the server's database with the studio's own
//! store functions (the rows are what the studio itself writes, in seconds instead of the
//! hours real trainings take). Accounts are made through the API, to get a real session.

use avatar_studio::jobs::NewJob;
use avatar_studio::models::{
    AvatarStatus, CharacterWork, EventKind, Generation, GenerationSpec, GenerationStatus,
    Reference, Source, StartState, SubjectChoice, TrainingKind, Via,
};
use avatar_studio::store::characters::{self, AvatarState, NewCharacter};
use avatar_studio::store::{character_events, generations, new_id, now_millis, Db, DbKind};
use sqlx::AnyConnection;

/// A signed-up user: its id and the `Cookie` header of its session.
pub struct Account {
    pub id: String,
    pub cookie: String,
}

/// Signs up through the API (no cookie sent, so no CSRF check applies).
pub async fn sign_up(base: &str, email: &str) -> Account {
    let client = reqwest::Client::new();
    let res = client
        .post(format!("{base}/api/auth/signup"))
        .json(&serde_json::json!({ "email": email, "password": "bench passphrase 1234" }))
        .send()
        .await
        .expect("sign-up answers");
    assert_eq!(
        res.status(),
        201,
        "sign-up: {}",
        res.text().await.unwrap_or_default()
    );
    let cookie = res
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or_default().to_string())
        .next()
        .expect("a session cookie");
    let me: serde_json::Value = client
        .get(format!("{base}/api/me"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("/api/me answers")
        .json()
        .await
        .expect("/api/me is JSON");
    Account {
        id: me["id"].as_str().expect("user id").to_string(),
        cookie: format!("Cookie: {cookie}"),
    }
}

/// What the pages are measured with: the ids to visit.
pub struct Library {
    /// The character every generation used (its detail page lists 1,000 generations).
    pub busiest_character: String,
}

/// `characters` trained characters and `generations` finished scenes; every scene uses the
/// first character and one other, so the first character has the longest history.
pub async fn library(db: &Db, user_id: &str, characters: usize, generations: usize) -> Library {
    let mut tx = db.pool.begin().await.expect("a transaction");
    let now = now_millis();
    let mut ids = Vec::with_capacity(characters);
    for i in 0..characters {
        ids.push(trained_character(&mut tx, user_id, i).await);
    }
    for i in 0..generations {
        let others = [&ids[0], &ids[(i + 1) % ids.len()]];
        let g = scene(user_id, i, &others, now - (generations - i) as i64 * 1_000);
        generations::insert(&mut tx, &g).await.expect("generation");
        generations::link_characters(&mut tx, &g)
            .await
            .expect("generation's characters");
    }
    tx.commit().await.expect("seed committed");
    // A PostgreSQL library grown over months has planner statistics (autovacuum gathers them);
    // one written in a second has none yet, and PostgreSQL would then join all of a character's
    // generations before taking a page of them. (SQLite gathers none unless asked: left as is.)
    // Nor would its rows still wait for autovacuum and the checkpointer, which would otherwise
    // do that work during whichever route is being measured then.
    if db.kind == DbKind::Postgres {
        sqlx::raw_sql("VACUUM ANALYZE")
            .execute(&db.pool)
            .await
            .expect("statistics gathered");
        if let Err(e) = sqlx::raw_sql("CHECKPOINT").execute(&db.pool).await {
            println!("(no CHECKPOINT after seeding: {e})");
        }
    }
    Library {
        busiest_character: ids[0].clone(),
    }
}

async fn trained_character(conn: &mut AnyConnection, user_id: &str, i: usize) -> String {
    let id = new_id();
    let new = NewCharacter {
        id: id.clone(),
        user_id: user_id.to_string(),
        name: format!("Character {i:04}"),
        prompt: format!("A portrait of character number {i}, three-quarter view, soft light"),
        outfit_description: "a long red coat".into(),
        image_url: Some(format!("http://127.0.0.1:9/media/{id}.png")),
        video_url: None,
        source: Source::UploadedImage,
        gender: Some("female".into()),
        model_version: "V2.1".into(),
        training_kind: TrainingKind::Image,
        tags: vec!["bench".into(), ["hero", "villain", "extra"][i % 3].into()],
        work: CharacterWork::Idle,
    };
    characters::insert(conn, &new, AvatarStatus::Pending)
        .await
        .expect("character");
    let trained = AvatarState {
        avatar_id: Some(new_id()),
        progress: Some(100),
        started_at: Some(now_millis() - 300_000),
        preview_url: new.image_url.clone(),
        ..AvatarState::of(AvatarStatus::Completed)
    };
    characters::set_avatar_state(&mut *conn, &id, &trained, Some(false))
        .await
        .expect("trained");
    for (kind, progress) in [
        (EventKind::Queued, None),
        (EventKind::TrainingStarted, Some(0)),
        (EventKind::Done, Some(100)),
    ] {
        character_events::record(conn, user_id, &id, kind, "", progress)
            .await
            .expect("event");
    }
    id
}

fn scene(user_id: &str, i: usize, character_ids: &[&String], at: i64) -> Generation {
    let references = character_ids
        .iter()
        .map(|id| Reference {
            name: format!("Character of {id}"),
            via: Via::Avatar,
            character_id: Some(id.to_string()),
            avatar_id: None,
            image_url: None,
            outfit: Some("a long red coat".into()),
        })
        .collect();
    let characters = character_ids
        .iter()
        .map(|id| SubjectChoice {
            character_id: Some(id.to_string()),
            ..Default::default()
        })
        .collect();
    Generation {
        id: new_id(),
        user_id: user_id.to_string(),
        spec: GenerationSpec::Scene {
            prompt: format!("Scene {i}: the two of them meet on a rainy street at night"),
            aspect_ratio: "16:9".into(),
            sketch_url: None,
            characters,
        },
        status: GenerationStatus::Completed,
        progress: 100,
        references,
        work: Default::default(),
        result_urls: vec![format!("http://127.0.0.1:9/media/scene-{i}.png")],
        error: None,
        notice: None,
        cost: 4,
        created_at: at,
        updated_at: at,
    }
}

/// `count` characters waiting for their avatar's training to start, each with its queued job,
/// committed at once: the job runner then has `count` trainings to start and follow.
pub async fn trainings(db: &Db, user_id: &str, count: usize, image_url: &str) {
    let mut tx = db.pool.begin().await.expect("a transaction");
    for i in 0..count {
        let id = new_id();
        let new = NewCharacter {
            id: id.clone(),
            user_id: user_id.to_string(),
            name: format!("Trainee {i:05}"),
            prompt: String::new(),
            outfit_description: String::new(),
            image_url: Some(image_url.to_string()),
            video_url: None,
            source: Source::UploadedImage,
            gender: Some("male".into()),
            model_version: "V2.1".into(),
            training_kind: TrainingKind::Image,
            tags: Vec::new(),
            work: CharacterWork::Train {
                start: StartState::NotSent,
                attempt: 1,
            },
        };
        characters::insert(&mut tx, &new, AvatarStatus::Pending)
            .await
            .expect("character");
        let job = NewJob::about(
            avatar_studio::domain::avatars::CHARACTER_JOB,
            user_id,
            &id,
            format!("character:{id}"),
        );
        avatar_studio::jobs::queue::enqueue_in(&mut tx, job)
            .await
            .expect("job");
    }
    tx.commit().await.expect("trainings committed");
}
