#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    avatar_studio::server::run_cli().await
}

// The browser build starts from `hydrate()` in lib.rs; this binary is server-only.
#[cfg(not(feature = "ssr"))]
fn main() {}
