//! The character library over the JSON API, on SQLite and PostgreSQL: the gallery's search,
//! filters, sorts and keyset pages (`Link: rel="next"`), editing characters, their training
//! history, provenance and "make again", the paged generation history and deleting from it.
//! Every route is tried with bad input and with another user's ids (404).

use crate::common::{error_code, Backend, TestApp};
use reqwest::{Client, Response};
use serde_json::{json, Value};
use std::time::Duration;

on_both_databases!(
    gallery_searches_filters_and_sorts,
    gallery_pages_follow_the_link_header,
    gallery_refuses_bad_queries,
    patch_edits_name_tags_and_outfit,
    events_record_the_training_history,
    provenance_lists_uses_and_remake_makes_again,
    remake_refuses_what_cannot_be_made_again,
    generation_history_pages,
    deleting_generations_keeps_money_and_running_work,
    other_users_ids_answer_404,
    migration_0008_carries_existing_rows_over,
    kept_pages_follow_every_change,
);

/// A character from a prompt (2 credits), its training accepted by A2E.
async fn character(app: &TestApp, client: &Client, body: Value) -> Value {
    let res = app.post(client, "/api/a2e/character", body).await;
    assert_eq!(res.status(), 201);
    res.json().await.unwrap()
}

pub(crate) async fn named(
    app: &TestApp,
    client: &Client,
    name: &str,
    prompt: &str,
    extra: Value,
) -> Value {
    let mut body = json!({ "name": name, "prompt": prompt });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    character(app, client, body).await
}

async fn get(client: &Client, app: &TestApp, path: &str) -> Response {
    client.get(app.url(path)).send().await.unwrap()
}

/// The names in a list answer.
async fn names(client: &Client, app: &TestApp, path: &str) -> Vec<String> {
    let res = get(client, app, path).await;
    assert_eq!(res.status(), 200, "{path}");
    let list: Vec<Value> = res.json().await.unwrap();
    list.iter()
        .map(|c| c["name"].as_str().unwrap().to_string())
        .collect()
}

fn next_link(res: &Response) -> Option<String> {
    let link = res.headers().get("link")?.to_str().unwrap().to_string();
    assert!(link.ends_with("; rel=\"next\""), "{link}");
    Some(link[1..link.find('>').unwrap()].to_string())
}

pub(crate) async fn until_character(
    client: &Client,
    app: &TestApp,
    id: &str,
    status: &str,
) -> Value {
    for _ in 0..400 {
        let c: Value = app.get_json(client, &format!("/api/characters/{id}")).await;
        if c["avatar_status"] == status {
            return c;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("character {id} never reached {status}");
}

pub(crate) async fn until_finished(client: &Client, app: &TestApp, id: &str) -> Value {
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

pub(crate) async fn scene(app: &TestApp, client: &Client, refs: Value) -> Value {
    let body = json!({ "prompt": "a walk in the park", "characterRefs": refs });
    let res = app.post(client, "/api/a2e/nanobanana", body).await;
    assert_eq!(res.status(), 202);
    res.json().await.unwrap()
}

async fn sql(app: &TestApp, statement: &str, id: &str) {
    sqlx::query(statement)
        .bind(id)
        .execute(&app.state.studio.db.pool)
        .await
        .unwrap();
}

async fn gallery_searches_filters_and_sorts(backend: Backend) {
    let app = TestApp::fast(backend, 1000).await;
    let (client, _) = app.user("librarian@example.com").await;
    let ada = named(
        &app,
        &client,
        "Ada",
        "a mathematician with ink on her fingers",
        json!({ "outfitDescription": "a victorian dress", "tags": ["Hero", "sci-fi"] }),
    )
    .await;
    let bob = named(
        &app,
        &client,
        "bob",
        "a builder with a hammer",
        json!({ "tags": ["hero"] }),
    )
    .await;
    let cyra = named(
        &app,
        &client,
        "Cyra",
        "a pilot",
        json!({ "outfit_description": "a RED flight suit" }),
    )
    .await;
    let dax = named(&app, &client, "Dax", "a 100% real wizard", json!({})).await;
    let armed = reqwest::Client::new()
        .post(app.url("/a2e-sim/_simulator/fail-next-training"))
        .json(&json!({ "reason": "No face found" }))
        .send()
        .await
        .unwrap();
    assert!(armed.status().is_success());
    let eve = named(&app, &client, "Eve", "a keeper of 100 ducks", json!({})).await;
    until_character(&client, &app, eve["id"].as_str().unwrap(), "failed").await;
    for c in [&ada, &bob, &cyra, &dax] {
        until_character(&client, &app, c["id"].as_str().unwrap(), "completed").await;
    }

    // Search: name, prompt or outfit, any case; LIKE's wildcards are taken literally.
    let search = |q: &str| format!("/api/characters?q={q}");
    assert_eq!(names(&client, &app, &search("ADA")).await, ["Ada"]);
    assert_eq!(names(&client, &app, &search("hammer")).await, ["bob"]);
    assert_eq!(
        names(&client, &app, &search("red%20flight")).await,
        ["Cyra"]
    );
    assert_eq!(names(&client, &app, &search("100%25")).await, ["Dax"]);
    assert_eq!(
        names(&client, &app, &search("_")).await,
        Vec::<String>::new()
    );
    // Filters, alone and together.
    assert_eq!(
        names(&client, &app, "/api/characters?tag=HERO&sort=name").await,
        ["Ada", "bob"]
    );
    assert_eq!(
        names(&client, &app, "/api/characters?tag=villain").await,
        Vec::<String>::new()
    );
    assert_eq!(
        names(&client, &app, "/api/characters?status=failed").await,
        ["Eve"]
    );
    assert_eq!(
        names(
            &client,
            &app,
            "/api/characters?status=completed&tag=hero&q=builder"
        )
        .await,
        ["bob"]
    );
    let cyra_id = cyra["id"].as_str().unwrap();
    sql(
        &app,
        "UPDATE character_references SET training_kind = 'video' WHERE id = $1",
        cyra_id,
    )
    .await;
    assert_eq!(
        names(&client, &app, "/api/characters?training=video").await,
        ["Cyra"]
    );
    assert_eq!(
        names(&client, &app, "/api/characters?training=image&sort=name")
            .await
            .len(),
        4
    );

    // Sorts: newest first by default, by name regardless of case, by use.
    assert_eq!(
        names(&client, &app, "/api/characters").await,
        ["Eve", "Dax", "Cyra", "bob", "Ada"]
    );
    assert_eq!(
        names(&client, &app, "/api/characters?sort=name").await,
        ["Ada", "bob", "Cyra", "Dax", "Eve"]
    );
    for refs in [
        json!([{ "id": cyra_id }]),
        json!([{ "id": cyra_id }, bob.clone()]),
        json!([{ "id": cyra_id }]),
    ] {
        scene(&app, &client, refs).await;
    }
    let used = names(&client, &app, "/api/characters?sort=most_used").await;
    assert_eq!(&used[..2], ["Cyra", "bob"]);
    let list: Vec<Value> = app
        .get_json(&client, "/api/characters?sort=most_used&limit=2")
        .await;
    assert_eq!(
        (
            list[0]["times_used"].as_i64(),
            list[1]["times_used"].as_i64()
        ),
        (Some(3), Some(1))
    );
    assert_eq!(list[0]["tags"], json!([]));
    let ada_now: Value = app
        .get_json(
            &client,
            &format!("/api/characters/{}", ada["id"].as_str().unwrap()),
        )
        .await;
    assert_eq!(
        ada_now["tags"],
        json!(["hero", "sci-fi"]),
        "tags are stored lowercase"
    );
}

async fn gallery_pages_follow_the_link_header(backend: Backend) {
    let app = TestApp::fast(backend, 1000).await;
    let (client, _) = app.user("pager@example.com").await;
    let mut made = vec![];
    for name in ["Kai", "lena", "Milo", "nora", "Otto"] {
        made.push(named(&app, &client, name, "a person", json!({ "tags": ["crew"] })).await);
    }
    for (sort, expected) in [
        ("name", vec!["Kai", "lena", "Milo", "nora", "Otto"]),
        ("newest", vec!["Otto", "nora", "Milo", "lena", "Kai"]),
        ("most_used", vec!["Otto", "nora", "Milo", "lena", "Kai"]),
    ] {
        let mut seen = vec![];
        let mut path = Some(format!("/api/characters?sort={sort}&tag=crew&limit=2"));
        let mut pages = 0;
        while let Some(p) = path {
            let res = get(&client, &app, &p).await;
            assert_eq!(res.status(), 200, "{p}");
            path = next_link(&res);
            if let Some(next) = &path {
                assert!(next.starts_with("/api/characters?"), "{next}");
                assert!(
                    next.contains(&format!("sort={sort}"))
                        && next.contains("tag=crew")
                        && next.contains("limit=2")
                );
            }
            let page: Vec<Value> = res.json().await.unwrap();
            assert!(page.len() <= 2);
            seen.extend(page.iter().map(|c| c["name"].as_str().unwrap().to_string()));
            pages += 1;
        }
        // most_used ties (all 0) break by id: compare as a set, the others in order.
        if sort == "most_used" {
            let (mut a, mut b) = (seen.clone(), expected.clone());
            a.sort();
            b.sort();
            assert_eq!(a, b);
        } else {
            assert_eq!(seen, expected, "{sort}");
        }
        assert_eq!(pages, 3, "{sort}: 2 + 2 + 1, the last without a Link");
    }
    // A page that ends exactly at the end has no Link.
    let res = get(&client, &app, "/api/characters?limit=5").await;
    assert!(next_link(&res).is_none());
    // Without limit: the default page (50) holds them all.
    let res = get(&client, &app, "/api/characters").await;
    assert!(next_link(&res).is_none());
    assert_eq!(res.json::<Vec<Value>>().await.unwrap().len(), 5);
}

async fn gallery_refuses_bad_queries(backend: Backend) {
    let app = TestApp::fast(backend, 1000).await;
    let (client, _) = app.user("strict@example.com").await;
    for name in ["A", "B", "C"] {
        named(&app, &client, name, "someone", json!({})).await;
    }
    let first = get(&client, &app, "/api/characters?sort=name&limit=1").await;
    let next = next_link(&first).unwrap();
    let cursor = next.split("cursor=").nth(1).unwrap().to_string();
    let long_tag = "t".repeat(41);
    let cases = [
        (
            "/api/characters?cursor=not-a-cursor".to_string(),
            "invalid_cursor",
        ),
        (
            "/api/characters?cursor=eyJzIjoibmFtZSJ9".to_string(),
            "invalid_cursor",
        ),
        // A cursor of one sort order is refused by another.
        (
            format!("/api/characters?sort=newest&cursor={cursor}"),
            "invalid_cursor",
        ),
        ("/api/characters?limit=0".to_string(), "invalid_limit"),
        ("/api/characters?limit=201".to_string(), "invalid_limit"),
        (
            "/api/characters?limit=99999999999999999999".to_string(),
            "invalid_limit",
        ),
        ("/api/characters?limit=ten".to_string(), "invalid_limit"),
        ("/api/characters?sort=oldest".to_string(), "invalid_sort"),
        ("/api/characters?status=done".to_string(), "invalid_status"),
        (
            "/api/characters?training=audio".to_string(),
            "invalid_training",
        ),
        (format!("/api/characters?tag={long_tag}"), "invalid_tag"),
        ("/api/characters?tag=a,b".to_string(), "invalid_tag"),
        (
            format!("/api/characters?q={}", "x".repeat(201)),
            "invalid_query",
        ),
    ];
    for (path, code) in cases {
        let res = get(&client, &app, &path).await;
        assert_eq!(error_code(res).await, (400, code.to_string()), "{path}");
    }
    // The same cursor, with its own order, works; limit at its maximum works.
    let res = get(&client, &app, &next).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        names(&client, &app, "/api/characters?limit=200&sort=name").await,
        ["A", "B", "C"]
    );
    // Logged out: 401.
    let res = reqwest::get(app.url("/api/characters")).await.unwrap();
    assert_eq!(error_code(res).await, (401, "unauthorized".into()));
}

pub(crate) async fn patch(client: &Client, app: &TestApp, id: &str, body: Value) -> Response {
    client
        .patch(app.url(&format!("/api/characters/{id}")))
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn patch_edits_name_tags_and_outfit(backend: Backend) {
    let app = TestApp::fast(backend, 1000).await;
    let (client, _) = app.user("editor@example.com").await;
    let c = named(
        &app,
        &client,
        "Zed",
        "a quiet monk",
        json!({ "tags": ["old"] }),
    )
    .await;
    let id = c["id"].as_str().unwrap();
    let res = patch(&client, &app, id, json!({
        "name": "  Abel  ", "tags": ["Hero", "hero ", "Villain", ""], "outfitDescription": "grey robes",
    }))
    .await;
    assert_eq!(res.status(), 200);
    let edited: Value = res.json().await.unwrap();
    assert_eq!(edited["name"], "Abel");
    assert_eq!(edited["tags"], json!(["hero", "villain"]));
    assert_eq!(edited["outfit_description"], "grey robes");
    assert_eq!(edited["prompt"], "a quiet monk", "untouched");
    assert_eq!(
        names(&client, &app, "/api/characters?tag=villain").await,
        ["Abel"]
    );
    assert!(
        names(&client, &app, "/api/characters?tag=old")
            .await
            .is_empty(),
        "tags are replaced"
    );
    assert_eq!(
        names(&client, &app, "/api/characters?q=robes").await,
        ["Abel"]
    );
    // Only tags: the rest stays; an empty list clears them.
    let res = patch(&client, &app, id, json!({ "tags": [] })).await;
    let cleared: Value = res.json().await.unwrap();
    assert_eq!(
        (cleared["tags"].clone(), cleared["name"].clone()),
        (json!([]), json!("Abel"))
    );
    // Renamed characters sort by their new name.
    named(&app, &client, "Bea", "a baker", json!({})).await;
    assert_eq!(
        names(&client, &app, "/api/characters?sort=name").await,
        ["Abel", "Bea"]
    );

    let too_many: Vec<String> = (0..21).map(|i| format!("t{i}")).collect();
    let cases = [
        (json!({}), 400, "empty_patch"),
        (json!({ "name": "   " }), 400, "invalid_field"),
        (json!({ "name": "n".repeat(101) }), 400, "invalid_field"),
        (
            json!({ "outfit_description": "o".repeat(501) }),
            400,
            "invalid_field",
        ),
        (json!({ "tags": too_many }), 400, "invalid_tags"),
        (json!({ "tags": ["t".repeat(41)] }), 400, "invalid_tags"),
        (json!({ "tags": "hero" }), 400, "invalid_request"),
        (json!({ "nickname": "Al" }), 400, "invalid_request"),
        // Half good, half bad: nothing is saved.
        (
            json!({ "name": "Half", "tags": too_many }),
            400,
            "invalid_tags",
        ),
    ];
    for (body, status, code) in cases {
        let res = patch(&client, &app, id, body.clone()).await;
        assert_eq!(error_code(res).await, (status, code.to_string()), "{body}");
    }
    let res = client
        .patch(app.url(&format!("/api/characters/{id}")))
        .body("name=x")
        .send()
        .await
        .unwrap();
    assert_eq!(
        error_code(res).await,
        (415, "unsupported_media_type".into())
    );
    let now: Value = app
        .get_json(&client, &format!("/api/characters/{id}"))
        .await;
    assert_eq!(now["name"], "Abel", "nothing half-saved");
    let res = patch(&client, &app, "no-such-id", json!({ "name": "X" })).await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
}

fn kinds(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_string())
        .collect()
}

async fn events_of(client: &Client, app: &TestApp, id: &str) -> Vec<Value> {
    let res = get(client, app, &format!("/api/characters/{id}/events")).await;
    assert_eq!(res.status(), 200);
    res.json().await.unwrap()
}

async fn events_record_the_training_history(backend: Backend) {
    let app = TestApp::fast(backend, 1000).await;
    let (client, _) = app.user("historian@example.com").await;
    let c = named(&app, &client, "Hana", "a historian", json!({})).await;
    let id = c["id"].as_str().unwrap();
    until_character(&client, &app, id, "completed").await;
    let events = events_of(&client, &app, id).await;
    let seen = kinds(&events);
    assert_eq!(
        &seen[..3],
        ["queued", "portrait_drawn", "training_started"],
        "{events:?}"
    );
    assert_eq!(seen.last().unwrap(), "done");
    assert!(
        seen[3..seen.len() - 1].iter().all(|k| k == "progress"),
        "{seen:?}"
    );
    assert_eq!(events[0]["detail"], "Created from a description");
    assert_eq!(events[2]["detail"], "From the image");
    let times: Vec<i64> = events
        .iter()
        .map(|e| e["created_at"].as_i64().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "oldest first");

    // Continue: asked, continued, done again.
    let res = app
        .post(
            &client,
            &format!("/api/characters/{id}/continue-training"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    until_character(&client, &app, id, "completed").await;
    let events = events_of(&client, &app, id).await;
    let after: Vec<String> = kinds(&events)
        .into_iter()
        .skip(seen.len())
        .filter(|k| k != "progress")
        .collect();
    assert_eq!(after, ["queued", "continued", "done"]);

    // A failed training says why; a retry is in the history too.
    let armed = reqwest::Client::new()
        .post(app.url("/a2e-sim/_simulator/fail-next-training"))
        .json(&json!({ "reason": "Two faces in the picture" }))
        .send()
        .await
        .unwrap();
    assert!(armed.status().is_success());
    let f = named(&app, &client, "Twins", "two people", json!({})).await;
    let fid = f["id"].as_str().unwrap();
    until_character(&client, &app, fid, "failed").await;
    let events = events_of(&client, &app, fid).await;
    let failed = events.iter().find(|e| e["kind"] == "failed").unwrap();
    assert_eq!(failed["detail"], "Two faces in the picture");
    let res = app
        .post(
            &client,
            &format!("/api/characters/{fid}/retry-training"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    until_character(&client, &app, fid, "completed").await;
    let events = events_of(&client, &app, fid).await;
    let retried = events
        .iter()
        .position(|e| e["detail"] == "Retry requested")
        .unwrap();
    let rest: Vec<String> = kinds(&events[retried..])
        .into_iter()
        .filter(|k| k != "progress")
        .collect();
    assert_eq!(rest, ["queued", "training_started", "done"]);

    let res = get(&client, &app, "/api/characters/no-such-id/events").await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
}

async fn remake(client: &Client, app: &TestApp, id: &str, body: Option<Value>) -> Response {
    let req = client.post(app.url(&format!("/api/generations/{id}/remake")));
    let req = match body {
        Some(b) => req.json(&b),
        None => req,
    };
    req.send().await.unwrap()
}

async fn provenance_lists_uses_and_remake_makes_again(backend: Backend) {
    let app = TestApp::fast(backend, 1000).await;
    let (client, _) = app.user("maker@example.com").await;
    let c = named(&app, &client, "Iris", "a gardener", json!({})).await;
    let id = c["id"].as_str().unwrap();
    // Used while still training: sent by its image.
    let early = scene(&app, &client, json!([{ "id": id }])).await;
    assert_eq!(early["references"][0]["via"], "image");
    let trained = until_character(&client, &app, id, "completed").await;
    let late = scene(&app, &client, json!([{ "id": id }])).await;
    assert_eq!(late["references"][0]["via"], "avatar");
    let other = named(&app, &client, "Other", "someone else", json!({})).await;
    scene(&app, &client, json!([{ "id": other["id"] }])).await;

    // Provenance: newest first, only the generations that used it, paged with Link.
    let res = get(&client, &app, &format!("/api/characters/{id}/generations")).await;
    let used: Vec<Value> = res.json().await.unwrap();
    let ids: Vec<&str> = used.iter().map(|g| g["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [late["id"].as_str().unwrap(), early["id"].as_str().unwrap()]
    );
    let res = get(
        &client,
        &app,
        &format!("/api/characters/{id}/generations?limit=1"),
    )
    .await;
    let next = next_link(&res).expect("a second page");
    let page: Vec<Value> = get(&client, &app, &next).await.json().await.unwrap();
    assert_eq!(page[0]["id"], early["id"]);
    let res = get(
        &client,
        &app,
        &format!("/api/characters/{id}/generations?cursor=zzz"),
    )
    .await;
    assert_eq!(error_code(res).await, (400, "invalid_cursor".into()));
    let res = get(
        &client,
        &app,
        &format!("/api/characters/{id}/generations?limit=500"),
    )
    .await;
    assert_eq!(error_code(res).await, (400, "invalid_limit".into()));

    // Make again, as it was: the same spec and the same references (the image), charged.
    let early_id = early["id"].as_str().unwrap();
    let before = app.credits(&client).await;
    let res = remake(&client, &app, early_id, None).await;
    assert_eq!(res.status(), 202);
    let again: Value = res.json().await.unwrap();
    assert_ne!(again["id"], early["id"]);
    assert_eq!(again["references"][0]["via"], "image");
    assert_eq!(
        again["inputs"],
        early_full(&client, &app, early_id).await["inputs"]
    );
    assert_eq!(
        app.credits(&client).await,
        before - again["cost"].as_i64().unwrap()
    );
    // With today's avatar: the trained avatar.
    let res = remake(
        &client,
        &app,
        early_id,
        Some(json!({ "use_current_avatar": true })),
    )
    .await;
    assert_eq!(res.status(), 202);
    let today: Value = res.json().await.unwrap();
    assert_eq!(today["references"][0]["via"], "avatar");
    assert_eq!(today["references"][0]["avatar_id"], trained["avatar_id"]);
    let done = until_finished(&client, &app, today["id"].as_str().unwrap()).await;
    assert_eq!(done["status"], "completed");
    let res = remake(
        &client,
        &app,
        early_id,
        Some(json!({ "useCurrentAvatar": false })),
    )
    .await;
    assert_eq!(res.status(), 202);
    // Every remake is a use too.
    let now: Value = app
        .get_json(&client, &format!("/api/characters/{id}"))
        .await;
    assert_eq!(now["times_used"], 5);
    let used: Vec<Value> = app
        .get_json(&client, &format!("/api/characters/{id}/generations"))
        .await;
    assert_eq!(used.len(), 5);
}

async fn early_full(client: &Client, app: &TestApp, id: &str) -> Value {
    app.get_json(client, &format!("/api/generations/{id}"))
        .await
}

async fn remake_refuses_what_cannot_be_made_again(backend: Backend) {
    let app = TestApp::fast(backend, 1000).await;
    let (client, _) = app.user("refuser@example.com").await;
    let c = named(&app, &client, "Jo", "a juggler", json!({})).await;
    let id = c["id"].as_str().unwrap();
    until_character(&client, &app, id, "completed").await;
    let g = scene(&app, &client, json!([{ "id": id }])).await;
    let gid = g["id"].as_str().unwrap();
    for body in [
        json!({ "use_current_avatar": "yes" }),
        json!({ "again": true }),
        json!([1]),
    ] {
        let res = remake(&client, &app, gid, Some(body.clone())).await;
        assert_eq!(
            error_code(res).await,
            (400, "invalid_request".into()),
            "{body}"
        );
    }
    // The avatar it used is gone (replaced): as it was, refused; with today's avatar, made.
    sql(
        &app,
        "UPDATE character_references SET avatar_id = 'replaced0000000000000000' WHERE id = $1",
        id,
    )
    .await;
    let before = app.credits(&client).await;
    let res = remake(&client, &app, gid, None).await;
    assert_eq!(error_code(res).await, (409, "avatar_replaced".into()));
    assert_eq!(app.credits(&client).await, before, "nothing charged");
    let res = remake(
        &client,
        &app,
        gid,
        Some(json!({ "use_current_avatar": true })),
    )
    .await;
    assert_eq!(res.status(), 202);
    let made: Value = res.json().await.unwrap();
    assert_eq!(
        made["references"][0]["avatar_id"],
        "replaced0000000000000000"
    );
    until_finished(&client, &app, made["id"].as_str().unwrap()).await;
    until_finished(&client, &app, gid).await;
    // Not enough credits: 402, nothing saved (a user with one scene's worth).
    let small = TestApp::fast(backend, 6).await;
    let (poor, _) = small.user("poor@example.com").await;
    let first = scene(&small, &poor, json!([])).await;
    until_finished(&poor, &small, first["id"].as_str().unwrap()).await;
    let res = remake(&poor, &small, first["id"].as_str().unwrap(), None).await;
    assert_eq!(error_code(res).await, (402, "insufficient_credits".into()));
    let after: Vec<Value> = small.get_json(&poor, "/api/generations").await;
    assert_eq!(after.len(), 1, "nothing saved");
    assert_eq!(small.credits(&poor).await, 2);
    // The character deleted: refused, and its provenance is gone with it.
    let res = client
        .delete(app.url(&format!("/api/characters/{id}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let res = remake(&client, &app, gid, None).await;
    assert_eq!(error_code(res).await, (409, "character_gone".into()));
    let res = get(&client, &app, &format!("/api/characters/{id}/generations")).await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
    let res = remake(&client, &app, "no-such-generation", None).await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
}

async fn generation_history_pages(backend: Backend) {
    let app = TestApp::fast(backend, 1000).await;
    let (client, _) = app.user("archivist@example.com").await;
    let mut made = vec![];
    for _ in 0..5 {
        made.push(
            scene(&app, &client, json!([])).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    made.reverse();
    let mut seen = vec![];
    let mut path = Some("/api/generations?limit=2".to_string());
    let mut pages = 0;
    while let Some(p) = path {
        let res = get(&client, &app, &p).await;
        assert_eq!(res.status(), 200, "{p}");
        path = next_link(&res);
        let page: Vec<Value> = res.json().await.unwrap();
        seen.extend(page.iter().map(|g| g["id"].as_str().unwrap().to_string()));
        pages += 1;
    }
    assert_eq!(seen, made, "newest first, each once");
    assert_eq!(pages, 3);
    let all: Vec<Value> = app.get_json(&client, "/api/generations").await;
    assert_eq!(all.len(), 5);
    for (path, code) in [
        ("/api/generations?limit=1000", "invalid_limit"),
        ("/api/generations?limit=-3", "invalid_limit"),
        ("/api/generations?cursor=%%%", "invalid_cursor"),
        (
            "/api/generations?cursor=eyJzIjoibmFtZSIsImsiOiJhIiwiaWQiOiJ4In0",
            "invalid_cursor",
        ),
    ] {
        let res = get(&client, &app, path).await;
        assert_eq!(error_code(res).await, (400, code.to_string()), "{path}");
    }
    for id in &made {
        until_finished(&client, &app, id).await;
    }
}

async fn delete_generation(client: &Client, app: &TestApp, id: &str) -> Response {
    client
        .delete(app.url(&format!("/api/generations/{id}")))
        .send()
        .await
        .unwrap()
}

async fn deleting_generations_keeps_money_and_running_work(backend: Backend) {
    let app = TestApp::fast(backend, 1000).await;
    let (client, _) = app.user("tidy@example.com").await;
    let c = named(&app, &client, "Kit", "a kite flyer", json!({})).await;
    let cid = c["id"].as_str().unwrap();
    until_character(&client, &app, cid, "completed").await;
    let g = scene(&app, &client, json!([{ "id": cid }])).await;
    let gid = g["id"].as_str().unwrap();
    until_finished(&client, &app, gid).await;
    let before = app.credits(&client).await;
    let res = delete_generation(&client, &app, gid).await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        app.credits(&client).await,
        before,
        "deleting moves no credits"
    );
    let res = get(&client, &app, &format!("/api/generations/{gid}")).await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
    let res = delete_generation(&client, &app, gid).await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
    let now: Value = app
        .get_json(&client, &format!("/api/characters/{cid}"))
        .await;
    assert_eq!(now["times_used"], 0, "its use is no longer counted");
    let used: Vec<Value> = app
        .get_json(&client, &format!("/api/characters/{cid}/generations"))
        .await;
    assert!(used.is_empty());

    // While A2E is slow to answer, the generation runs: deleting it is refused (409), and
    // so is deleting it once cancelled while its job still winds up; after that, it goes.
    app.simulator_faults(1.0, &["slow"]).await; // each A2E answer takes 3 s
    let running = scene(&app, &client, json!([])).await;
    let rid = running["id"].as_str().unwrap();
    let res = delete_generation(&client, &app, rid).await;
    assert_eq!(error_code(res).await, (409, "still_running".into()));
    // Cancelled once A2E was asked (its answer still out): the job decides the money later.
    let mut asked = false;
    for _ in 0..200 {
        let g: Value = app
            .get_json(&client, &format!("/api/generations/{rid}"))
            .await;
        if g["work"]["task"]["state"] == "sent" {
            asked = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(asked, "the start was sent to A2E");
    let res = app
        .post(
            &client,
            &format!("/api/generations/{rid}/cancel"),
            json!({}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let res = delete_generation(&client, &app, rid).await;
    assert_eq!(error_code(res).await, (409, "still_settling".into()));
    app.simulator_faults(0.0, &[]).await;
    let mut gone = false;
    for _ in 0..300 {
        let res = delete_generation(&client, &app, rid).await;
        if res.status() == 204 {
            gone = true;
            break;
        }
        assert_eq!(error_code(res).await, (409, "still_settling".into()));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "deleted once its job ended");
}

async fn other_users_ids_answer_404(backend: Backend) {
    let app = TestApp::fast(backend, 1000).await;
    let (alice, _) = app.user("alice@example.com").await;
    let (mallory, _) = app.user("mallory@example.com").await;
    let c = named(
        &app,
        &alice,
        "Private",
        "a secret agent",
        json!({ "tags": ["spy"] }),
    )
    .await;
    let id = c["id"].as_str().unwrap();
    let g = scene(&app, &alice, json!([{ "id": id }])).await;
    let gid = g["id"].as_str().unwrap();
    until_finished(&alice, &app, gid).await;

    let reads = [
        format!("/api/characters/{id}/events"),
        format!("/api/characters/{id}/generations"),
        format!("/api/generations/{gid}"),
    ];
    for path in &reads {
        let res = get(&mallory, &app, path).await;
        assert_eq!(error_code(res).await, (404, "not_found".into()), "{path}");
    }
    let res = patch(&mallory, &app, id, json!({ "name": "Mine" })).await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
    let res = remake(&mallory, &app, gid, None).await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
    let res = delete_generation(&mallory, &app, gid).await;
    assert_eq!(error_code(res).await, (404, "not_found".into()));
    // Mallory's lists hold nothing of Alice's, whatever the filter.
    assert!(names(&mallory, &app, "/api/characters?tag=spy")
        .await
        .is_empty());
    assert!(names(&mallory, &app, "/api/characters?q=secret")
        .await
        .is_empty());
    let list: Vec<Value> = app.get_json(&mallory, "/api/generations").await;
    assert!(list.is_empty());
    // Alice's things are untouched.
    let still: Value = app.get_json(&alice, &format!("/api/characters/{id}")).await;
    assert_eq!(still["name"], "Private");
    let res = get(&alice, &app, &format!("/api/generations/{gid}")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        names(&alice, &app, "/api/characters?tag=spy").await,
        ["Private"]
    );
}

/// Migration 0008 on a database that already holds characters and generations: the comma tags
/// become tag rows (lowercase), uses are counted from the generations' references, and each
/// character gets the history its row still tells.
async fn migration_0008_carries_existing_rows_over(backend: Backend) {
    use sqlx::{Connection, Row};
    sqlx::any::install_default_drivers();
    let dir =
        std::env::temp_dir().join(format!("library-migration-{}", crate::common::uuid_like()));
    std::fs::create_dir_all(&dir).unwrap();
    let (url, _pg) = match backend {
        Backend::Sqlite => (format!("sqlite://{}/m.db?mode=rwc", dir.display()), None),
        Backend::Postgres => {
            let pg = crate::common::ThrowawayPg::create().await;
            (pg.url.clone(), Some(pg))
        }
    };
    let mut conn = sqlx::AnyConnection::connect(&url).await.unwrap();
    let mut files: Vec<_> = std::fs::read_dir("migrations")
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (before, ours): (Vec<_>, Vec<_>) = files
        .into_iter()
        .partition(|f| f.file_name().unwrap().to_str().unwrap() < "0008");
    for file in before {
        let sql = std::fs::read_to_string(&file).unwrap();
        sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
    }
    let seed = r#"
        INSERT INTO users (id, email, password_hash, created_at) VALUES ('u1', 'old@example.com', 'x', 1);
        INSERT INTO character_references (id, user_id, name, prompt, source, avatar_status, avatar_error,
            training_started_at, tags, created_at, updated_at)
        VALUES ('c1', 'u1', 'Old Hero', 'p', 'generated', 'completed', NULL, 5, 'Hero,Sci-Fi, x ', 2, 9),
               ('c2', 'u1', 'Broken', 'p', 'generated', 'failed', 'No face', NULL, '', 3, 7);
        INSERT INTO generations (id, user_id, kind, status, inputs, refs, cost, created_at, updated_at)
        VALUES ('g1', 'u1', 'scene', 'completed', '{}',
                '[{"name":"Old Hero","via":"avatar","character_id":"c1","avatar_id":"a"}]', 4, 10, 10),
               ('g2', 'u1', 'scene', 'completed', '{}',
                '[{"name":"Old Hero","via":"avatar","character_id":"c1"},{"name":"Broken","via":"image","character_id":"c2"}]', 4, 11, 11);
    "#;
    sqlx::raw_sql(seed).execute(&mut conn).await.unwrap();
    for file in ours {
        let sql = std::fs::read_to_string(&file).unwrap();
        sqlx::raw_sql(&sql).execute(&mut conn).await.unwrap();
    }
    let tags: Vec<String> =
        sqlx::query("SELECT tag FROM character_tags WHERE character_id = 'c1' ORDER BY tag")
            .fetch_all(&mut conn)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>("tag"))
            .collect();
    assert_eq!(tags, ["hero", "sci-fi", "x"]);
    let used = |id: &'static str| {
        sqlx::query("SELECT times_used, sort_name FROM character_references WHERE id = $1").bind(id)
    };
    let row = used("c1").fetch_one(&mut conn).await.unwrap();
    assert_eq!(row.get::<i64, _>("times_used"), 2);
    assert_eq!(row.get::<String, _>("sort_name"), "old hero");
    let row = used("c2").fetch_one(&mut conn).await.unwrap();
    assert_eq!(row.get::<i64, _>("times_used"), 1);
    let kinds = |id: &'static str| {
        sqlx::query("SELECT kind, detail FROM character_events WHERE character_id = $1 ORDER BY created_at, kind")
            .bind(id)
    };
    let rows = kinds("c1").fetch_all(&mut conn).await.unwrap();
    let seen: Vec<String> = rows.iter().map(|r| r.get::<String, _>("kind")).collect();
    assert_eq!(seen, ["queued", "training_started", "done"]);
    let rows = kinds("c2").fetch_all(&mut conn).await.unwrap();
    assert_eq!(rows[1].get::<String, _>("kind"), "failed");
    assert_eq!(rows[1].get::<String, _>("detail"), "No face");
    conn.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Every sort order reads its page along an index, in order: no sorting of all the user's rows
/// (SQLite's plan; PostgreSQL's depends on its statistics, so it is not asserted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gallery_pages_read_along_an_index() {
    use avatar_studio::store::character_page::{query, Filter, Sort};
    use avatar_studio::store::paging::{After, SortKey};
    use sqlx::Row;
    let app = TestApp::spawn(Backend::Sqlite).await;
    for sort in [Sort::Newest, Sort::Name, Sort::MostUsed] {
        let key = match sort {
            Sort::Name => SortKey::Text("m".into()),
            _ => SortKey::Int(5),
        };
        let after = After {
            key,
            id: "x".into(),
        };
        for tag in [None, Some("hero".to_string())] {
            let filter = Filter {
                sort,
                tag: tag.clone(),
                ..Default::default()
            };
            let (sql, params) = query("u", &filter, Some(&after), 25);
            let explain = format!("EXPLAIN QUERY PLAN {sql}");
            let rows = params
                .bind(sqlx::query(&explain))
                .fetch_all(&app.state.studio.db.pool)
                .await
                .unwrap();
            let plan: Vec<String> = rows.iter().map(|r| r.get::<String, _>("detail")).collect();
            let text = plan.join(" | ");
            assert!(
                !text.contains("TEMP B-TREE"),
                "{sort:?} {tag:?} sorts: {text}"
            );
            assert!(
                text.contains("INDEX character_references_user_"),
                "{sort:?} {tag:?}: {text}"
            );
        }
    }
}

/// The ids in a list answer.
async fn ids(client: &Client, app: &TestApp, path: &str) -> Vec<String> {
    let list: Vec<Value> = app.get_json(client, path).await;
    list.iter()
        .map(|v| v["id"].as_str().unwrap().to_string())
        .collect()
}

/// Pages of lists are kept in memory under the user's count of changes to listed rows; every
/// change shows in the next answer, whether the API, the job runner or another process (the
/// operator's command line, another instance) wrote it.
async fn kept_pages_follow_every_change(backend: Backend) {
    use sqlx::Connection;
    let app = TestApp::fast(backend, 1000).await;
    let (client, _) = app.user("keeper@example.com").await;
    let (neighbour, _) = app.user("neighbour@example.com").await;
    let c = named(&app, &client, "Ada", "a mathematician", json!({})).await;
    let id = c["id"].as_str().unwrap();
    // Trained first: a training's answers are not kept (see below).
    until_character(&client, &app, id, "completed").await;
    let lists = &app.state.studio.db.lists;
    let kept = || lists.pages.len();
    let answers = || lists.answers.len();
    for _ in 0..2 {
        assert_eq!(names(&client, &app, "/api/characters").await, ["Ada"]);
    }
    assert_eq!((kept(), answers()), (1, 1), "the page and answer kept");
    assert!(
        names(&neighbour, &app, "/api/characters").await.is_empty(),
        "another user's page is their own"
    );

    // Through the API: a new name and a tag, in the list and its tag filter at once.
    let res = patch(
        &client,
        &app,
        id,
        json!({ "name": "Grace", "tags": ["hero"] }),
    )
    .await;
    assert_eq!(res.status(), 200);
    assert_eq!(names(&client, &app, "/api/characters").await, ["Grace"]);
    assert_eq!(
        names(&client, &app, "/api/characters?tag=hero").await,
        ["Grace"]
    );

    // Another process, on a connection of its own.
    let mut other = sqlx::AnyConnection::connect(&app.database_url)
        .await
        .unwrap();
    sqlx::query(
        "UPDATE character_references SET name = 'Hopper', sort_name = 'hopper' WHERE id = $1",
    )
    .bind(id)
    .execute(&mut other)
    .await
    .unwrap();
    assert_eq!(names(&client, &app, "/api/characters").await, ["Hopper"]);
    sqlx::query("DELETE FROM character_tags WHERE character_id = $1")
        .bind(id)
        .execute(&mut other)
        .await
        .unwrap();
    assert!(names(&client, &app, "/api/characters?tag=hero")
        .await
        .is_empty());

    // A training's ETA counts down: an answer showing one is made afresh every time.
    let eta_at = avatar_studio::store::now_millis() + 90_000;
    sqlx::query("UPDATE character_references SET avatar_status = 'training', training_eta_at = $2 WHERE id = $1")
        .bind(id)
        .bind(eta_at)
        .execute(&mut other)
        .await
        .unwrap();
    let before = answers();
    let list: Vec<Value> = app.get_json(&client, "/api/characters?limit=7").await;
    let eta = list[0]["eta_seconds"]
        .as_i64()
        .expect("an ETA while training");
    assert!((1..=90).contains(&eta), "{eta}");
    assert_eq!(answers(), before, "not kept: it would go stale");
    sqlx::query("UPDATE character_references SET avatar_status = 'completed', training_eta_at = NULL WHERE id = $1")
        .bind(id)
        .execute(&mut other)
        .await
        .unwrap();
    let list: Vec<Value> = app.get_json(&client, "/api/characters?limit=7").await;
    assert!(list[0]["eta_seconds"].is_null());
    assert_eq!(answers(), before + 1, "kept once nothing in it counts down");

    // The job runner: a generation read while it runs, then as it finished, in both lists
    // that show it, and the use counted on the character.
    let used = format!("/api/characters/{id}/generations");
    assert!(ids(&client, &app, &used).await.is_empty());
    let ledger = || ids(&client, &app, "/api/ledger");
    let entries = ledger().await;
    assert_eq!(ledger().await, entries, "the ledger, kept, is the same");
    let g = scene(&app, &client, json!([{ "id": id }])).await;
    let g_id = g["id"].as_str().unwrap();
    assert_eq!(ids(&client, &app, "/api/generations").await, [g_id]);
    assert_eq!(ids(&client, &app, &used).await, [g_id]);
    let finished = until_finished(&client, &app, g_id).await;
    for path in ["/api/generations", used.as_str()] {
        let list: Vec<Value> = app.get_json(&client, path).await;
        assert_eq!(list[0]["status"], finished["status"], "{path}");
        assert_eq!(list[0]["result_urls"], finished["result_urls"], "{path}");
    }
    let gallery: Vec<Value> = app.get_json(&client, "/api/characters").await;
    assert_eq!(gallery[0]["times_used"], 1);
    let charged = ledger().await;
    assert!(charged.len() >= entries.len() + 2, "reserved and settled");
    assert_eq!(
        charged[charged.len() - entries.len()..],
        entries[..],
        "the newest first"
    );

    // Deleted: gone from both lists.
    let res = delete_generation(&client, &app, g_id).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert!(ids(&client, &app, "/api/generations").await.is_empty());
    assert!(ids(&client, &app, &used).await.is_empty());
    assert!(kept() >= 4, "{} pages kept", kept());
    assert!(answers() >= 4, "{} answers kept", answers());
}
