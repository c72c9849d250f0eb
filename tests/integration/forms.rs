//! Text fields of upload forms are small: a huge one is refused (400) before it is buffered,
//! and nothing is saved.

use crate::common::{Backend, TestApp};
use serde_json::Value;

on_both_databases!(huge_form_fields_are_refused);

async fn huge_form_fields_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (page, _) = app.user("forms@example.com").await;
    let png = std::fs::read("public/favicon.svg").unwrap_or_default();
    let form = reqwest::multipart::Form::new()
        .text("name", "Big talker")
        .text("prompt", "a".repeat(20_000))
        .part(
            "file",
            reqwest::multipart::Part::bytes(png).file_name("x.svg"),
        );
    let res = page
        .post(app.url("/api/characters"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        crate::common::error_code(res).await,
        (400, "field_too_long".into())
    );
    let list: Vec<Value> = app.get_json(&page, "/api/characters").await;
    assert!(list.is_empty(), "nothing saved");
}
