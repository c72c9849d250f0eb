//! The binary itself: `--help` documents every setting; a bad database ends the start in one line.

use crate::common::{Backend, ThrowawayPg};
use avatar_studio::store::Db;
use sqlx::Row;
use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_avatar-studio");

#[test]
fn help_lists_every_setting_with_its_default() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for setting in [
        "DATABASE_URL",
        "LEPTOS_SITE_ADDR",
        "LEPTOS_SITE_ROOT",
        "MEDIA_DIR",
        "PUBLIC_BASE_URL",
        "A2E_API_KEY",
        "A2E_API_TOKEN",
        "A2E_BASE_URL",
        "A2E_SIMULATOR_SPEEDUP",
        "SIGNUP_CREDITS",
        "SIGNUP",
        "LOGIN_RATE_PER_MIN",
        "PAID_RATE_PER_MIN",
        "POLL_RATE_PER_MIN",
        "TRUSTED_PROXY",
    ] {
        assert!(help.contains(setting), "--help lacks {setting}:\n{help}");
    }
    assert!(help.contains("[default: sqlite://data/avatar-studio.db]"));
    assert!(help.contains("simulate-a2e"));
    assert!(help.contains("user") && help.contains("credits"));
}

#[test]
fn help_never_prints_the_a2e_key() {
    let out = Command::new(BIN)
        .arg("--help")
        .env("A2E_API_KEY", "sk_secret_value_123")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("sk_secret_value_123"));
}

fn start_with_database(url: &str) -> (bool, String) {
    let out = Command::new(BIN)
        .env("DATABASE_URL", url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "off")
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn unreachable_or_bad_database_urls_end_the_start_in_one_line() {
    for url in [
        "postgres://nobody:secretpw@127.0.0.1:1/none",
        "mysql://localhost/db",
        "sqlite:///proc/no/such/dir/x.db",
    ] {
        let (ok, stderr) = start_with_database(url);
        assert!(!ok, "{url} started");
        let lines: Vec<_> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{url}: {stderr}");
        assert!(lines[0].starts_with("avatar-studio: "), "{stderr}");
        assert!(!stderr.contains("secretpw"), "password leaked: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
    }
}

on_both_databases!(operator_commands_manage_accounts_and_credits);

/// Runs `avatar-studio ARGS…` on the database; (success, stdout, stderr).
fn operator(database_url: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let text = |b: Vec<u8>| String::from_utf8(b).unwrap();
    (out.status.success(), text(out.stdout), text(out.stderr))
}

fn refused(database_url: &str, args: &[&str], says: &str) {
    let (ok, stdout, stderr) = operator(database_url, args);
    assert!(!ok, "{args:?} succeeded: {stdout}");
    assert!(stderr.contains(says), "{args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

async fn operator_commands_manage_accounts_and_credits(backend: Backend) {
    let dir =
        std::env::temp_dir().join(format!("avatar-studio-cli-{}", crate::common::uuid_like()));
    let pg = match backend {
        Backend::Postgres => Some(ThrowawayPg::create().await),
        Backend::Sqlite => None,
    };
    let url = match &pg {
        Some(pg) => pg.url.clone(),
        None => format!("sqlite://{}/cli.db", dir.display()),
    };
    let password = "correct horse battery";
    let create = [
        "user",
        "create",
        "Ana@Example.com",
        "--password",
        password,
        "--credits",
        "50",
    ];
    let (ok, stdout, stderr) = operator(&url, &create);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("ana@example.com"), "{stdout}");
    refused(&url, &create, "already exists");
    refused(
        &url,
        &["user", "create", "not-an-email", "--password", password],
        "valid email",
    );
    refused(
        &url,
        &["user", "create", "bo@example.com", "--password", "short"],
        "8 characters",
    );

    let (ok, stdout, stderr) = operator(&url, &["credits", "grant", "ana@example.com", "25"]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("balance now 75"), "{stdout}");
    refused(
        &url,
        &["credits", "grant", "nobody@example.com", "5"],
        "no account",
    );
    for amount in ["ten", "-5", "0", "2.5"] {
        refused(
            &url,
            &["credits", "grant", "ana@example.com", amount],
            "amount",
        );
    }

    let (ok, stdout, _) = operator(&url, &["user", "list"]);
    assert!(ok);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("ana@example.com"))
        .unwrap_or_else(|| panic!("{stdout}"));
    assert!(line.split_whitespace().nth(1) == Some("75"), "{line}");
    assert_eq!(
        stdout.lines().count(),
        2,
        "a header and one account: {stdout}"
    );

    // The grant is a ledger entry that says who made it; the account logs in.
    let db = Db::connect(&url).await.unwrap();
    let notes: Vec<String> = sqlx::query(
        "SELECT l.note FROM credit_ledger l JOIN users u ON u.id = l.user_id
         WHERE u.email = $1 AND l.kind = 'grant' ORDER BY l.created_at",
    )
    .bind("ana@example.com")
    .fetch_all(&db.pool)
    .await
    .unwrap()
    .iter()
    .map(|row| row.try_get("note").unwrap())
    .collect();
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert_eq!(notes[1], "granted by operator (cli)");
    let user = avatar_studio::domain::accounts::log_in(&db, "ana@example.com", password).await;
    assert!(user.is_ok());
    db.pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
