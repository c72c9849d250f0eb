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
