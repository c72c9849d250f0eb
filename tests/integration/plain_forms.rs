//! The UI's forms posted by the browser itself, before the page's script has loaded: every
//! answer is a redirect back to a page (never an error page), a failure's message travels in
//! that page's URL and the page shows it, and the page keeps its own query.

use crate::common::{same_origin, Backend, TestApp};
use avatar_studio::error::AppError;
use avatar_studio::server_fns::{auth, characters};
use leptos::server_fn::error::ServerFnUrlError;
use leptos::server_fn::ServerFn;
use reqwest::header::{ACCEPT, LOCATION, REFERER};
use reqwest::StatusCode;

on_both_databases!(
    plain_form_posts_go_back_to_their_page_with_any_error,
    edge_refusals_of_plain_form_posts_go_back_too,
);

const PASSWORD: &str = "correct horse battery";

/// A browser without the page's script: it posts forms as HTML forms do (accepting HTML), from
/// our own pages (their `Origin`); redirects are looked at, not followed.
fn browser(app: &TestApp) -> reqwest::Client {
    let mut headers = same_origin(&app.base);
    headers.insert(ACCEPT, "text/html,application/xhtml+xml".parse().unwrap());
    reqwest::Client::builder()
        .cookie_store(true)
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Posts `form` to the server function at `path` from the page `page`; the status and where
/// the browser goes next.
async fn post_form(
    client: &reqwest::Client,
    app: &TestApp,
    path: &str,
    page: &str,
    form: &[(&str, &str)],
) -> (StatusCode, String) {
    let res = client
        .post(app.url(path))
        .header(REFERER, page)
        .form(form)
        .send()
        .await
        .unwrap();
    let location = res
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (res.status(), location)
}

/// The error a redirect's URL carries, with the server function it came from.
fn error_in(location: &str) -> Option<(String, AppError)> {
    let url = url::Url::parse(location).unwrap();
    let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    let errors: Vec<&String> = pairs
        .iter()
        .filter(|(k, _)| k == "__err")
        .map(|(_, v)| v)
        .collect();
    assert!(errors.len() <= 1, "one error at most: {location}");
    let path = pairs.iter().find(|(k, _)| k == "__path")?.1.clone();
    Some((
        path,
        ServerFnUrlError::<AppError>::decode_err(errors.first()?),
    ))
}

async fn plain_form_posts_go_back_to_their_page_with_any_error(backend: Backend) {
    let app = TestApp::fast(backend, 100).await;
    let browser = browser(&app);
    // Signing up goes on to the canvas, logged in, as the page's script would navigate.
    let signup = app.url("/signup");
    let creds = [("email", "plain@example.com"), ("password", PASSWORD)];
    let (status, to) = post_form(&browser, &app, auth::SignUp::PATH, &signup, &creds).await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(to, "/");
    assert_eq!(app.credits(&browser).await, 100, "logged in");

    // A character from the prompt form: back to the page, its query kept.
    let page = app.url("/characters?q=mira");
    let form = [
        ("name", "Mira"),
        ("prompt", "a pilot with silver hair"),
        ("outfit_description", ""),
        ("model_version", "V2.1"),
    ];
    let (status, to) = post_form(
        &browser,
        &app,
        characters::CreateCharacter::PATH,
        &page,
        &form,
    )
    .await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(to, page);
    let list: Vec<serde_json::Value> = app.get_json(&browser, "/api/characters").await;
    assert_eq!(list.len(), 1);
    let id = list[0]["id"].as_str().unwrap().to_string();

    // A failure: still a redirect to the page (not an error page), the error in its URL.
    let delete = characters::DeleteCharacter::PATH;
    let (status, failed) = post_form(&browser, &app, delete, &page, &[("id", "nope")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(failed.starts_with(&format!("{page}&")), "{failed}");
    let (path, err) = error_in(&failed).expect("the error is in the URL");
    assert_eq!((path.as_str(), err.status), (delete, 404));
    // From that page, a second failure replaces the first error; a success clears it.
    let continue_fn = characters::ContinueTraining::PATH;
    let (status, again) = post_form(&browser, &app, continue_fn, &failed, &[("id", "nope")]).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(error_in(&again).unwrap().0, continue_fn);
    let (status, done) = post_form(&browser, &app, delete, &again, &[("id", &id)]).await;
    assert!(status.is_redirection(), "{status}");
    assert_eq!(done, page);
    let list: Vec<serde_json::Value> = app.get_json(&browser, "/api/characters").await;
    assert!(list.is_empty(), "deleted");

    // The page's script (same session, asking for JSON) still gets the error itself.
    let res = browser
        .post(app.url(delete))
        .header(ACCEPT, "application/json")
        .form(&[("id", "nope")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "a script's call is answered as before");

    // Logged out: back to the log-in page; a wrong password comes back to it with the reason.
    let (_, to) = post_form(&browser, &app, auth::LogOut::PATH, &page, &[]).await;
    assert_eq!(to, "/login");
    let login = app.url("/login");
    let wrong = [
        ("email", "plain@example.com"),
        ("password", "not it at all"),
    ];
    let (status, to) = post_form(&browser, &app, auth::LogIn::PATH, &login, &wrong).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, err) = error_in(&to).expect("the error is in the URL");
    assert_eq!(err.status, 401);
    // The page it comes back to shows the error, once.
    let html = browser.get(&to).send().await.unwrap().text().await.unwrap();
    assert_eq!(
        html.matches("data-testid=\"form-post-error\"").count(),
        1,
        "{html}"
    );
    assert!(html.contains(&err.message), "{html}");
    let (_, to) = post_form(&browser, &app, auth::LogIn::PATH, &login, &creds).await;
    assert_eq!(to, "/");
}

async fn edge_refusals_of_plain_form_posts_go_back_too(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.signup = "closed".into()).await;
    let browser = browser(&app);
    let signup = app.url("/signup");
    let creds = [("email", "closed@example.com"), ("password", PASSWORD)];
    let (status, to) = post_form(&browser, &app, auth::SignUp::PATH, &signup, &creds).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, err) = error_in(&to).expect("the refusal is in the URL");
    assert_eq!((err.status, err.code.as_str()), (403, "signup_closed"));
    // A post from another site is still refused outright, never sent anywhere.
    let res = browser
        .post(app.url(auth::SignUp::PATH))
        .header("origin", "https://evil.example")
        .header(REFERER, "https://evil.example/page")
        .form(&creds)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    assert!(res.headers().get(LOCATION).is_none());
}
