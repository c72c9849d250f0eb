//! Server start-up: configuration, database, router, graceful shutdown.

pub mod assets;
pub mod cli;
pub mod compression;
pub mod guard;
pub mod kept_pages;
pub mod pages;
pub mod router;
pub mod session;
pub mod state;

use crate::config::{Cli, Command, Config};
use clap::Parser;
use std::process::ExitCode;
use tokio::net::TcpListener;

/// Entry point of the binary: parses the command line and runs the chosen command.
pub async fn run_cli() -> ExitCode {
    // A missing .env is normal; settings then come from the environment and defaults.
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    // Operator commands print their results on stdout; log lines would get in the way.
    let logs = !matches!(cli.command, Some(Command::User(_) | Command::Credits(_)));
    if logs {
        crate::telemetry::logs::init(&cli.config.log_format);
    }
    let json_logs = logs && crate::telemetry::logs::is_json(&cli.config.log_format);
    let result = match cli.command {
        Some(Command::SimulateA2e { addr }) => simulate_a2e(addr, &cli.config).await,
        Some(Command::User(command)) => cli::user(command, &cli.config).await,
        Some(Command::Credits(command)) => cli::credits(command, &cli.config).await,
        Some(Command::Serve) | None => serve(cli.config).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // With JSON logs every line a collector reads must be JSON, this one too.
        Err(message) if json_logs => {
            tracing::error!(error = %message, "avatar-studio stopped");
            ExitCode::FAILURE
        }
        Err(message) => {
            eprintln!("avatar-studio: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config) -> Result<(), String> {
    let addr = config.site_addr;
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let router::Built {
        router,
        state,
        runner,
    } = router::build(config).await?;
    let mode = if state.config.demo_mode() {
        "demo mode: simulated A2E"
    } else {
        "A2E connected"
    };
    let url = format!("http://{addr}");
    if crate::telemetry::logs::is_json(&state.config.log_format) {
        tracing::info!(%url, mode, "Avatar Studio is running");
    } else {
        println!("Avatar Studio is running at {url} ({mode})");
    }
    tracing::info!(config = ?state.config, "started");
    let shutdown = state.shutdown.clone();
    // Connection info gives the rate limits the client's address.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            crate::shutdown::signal().await;
            shutdown.cancel();
        })
        .await
        .map_err(|e| format!("server error: {e}"))?;
    // The runner finishes the steps it is in and hands its leased jobs back.
    let _ = runner.await;
    tracing::info!("stopped");
    Ok(())
}

async fn simulate_a2e(addr: std::net::SocketAddr, config: &Config) -> Result<(), String> {
    crate::simulator::serve(
        addr,
        config.a2e_simulator_speedup,
        config.simulator_controls,
    )
    .await
}
