//! The binary itself: `--help` documents every setting; a bad database ends the start in one line.

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
    ] {
        assert!(help.contains(setting), "--help lacks {setting}:\n{help}");
    }
    assert!(help.contains("[default: sqlite://data/avatar-studio.db]"));
    assert!(help.contains("simulate-a2e"));
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
