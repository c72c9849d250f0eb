//! Waiting for the operator to stop the process: shared by the studio and the standalone simulator.

/// Resolves on Ctrl-C or SIGTERM, letting in-flight requests finish.
pub async fn signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Runs `task` at once and then every `period` (housekeeping), until `shutdown` or until the
/// task answers that there is nothing left to look after (`false`).
pub fn every<F, Fut>(
    period: std::time::Duration,
    shutdown: tokio_util::sync::CancellationToken,
    mut task: F,
) where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(period);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            if !task().await {
                return;
            }
        }
    });
}

/// Runs a chore at once and then every hour, logging how many things it did (when any) or why
/// it failed (the next hour tries again).
pub fn hourly<F, Fut, E>(
    shutdown: tokio_util::sync::CancellationToken,
    what: &'static str,
    chore: F,
) where
    F: Fn() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = Result<u64, E>> + Send,
    E: std::fmt::Display,
{
    let hour = std::time::Duration::from_secs(60 * 60);
    every(hour, shutdown, move || {
        let done = chore();
        async move {
            match done.await {
                Ok(0) => {}
                Ok(n) => tracing::info!(count = n, "{what}"),
                Err(err) => tracing::warn!(error = %err, "{what}: failed"),
            }
            true
        }
    });
}
