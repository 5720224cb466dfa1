//! Process signals as a shutdown future.

/// Resolves on the first SIGINT (Ctrl-C) or SIGTERM.
pub async fn signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received; shutting down"),
        _ = term => tracing::info!("SIGTERM received; shutting down"),
    }
}

/// As [`signal`], but listening from the moment it is called, not from its first poll: a
/// SIGTERM or SIGINT that arrives in between still counts instead of killing the process
/// outright. A training box arms it before it says it is ready, so a box that starts it
/// and stops it at once (or dies at once) still gets its summary and its wipe.
pub fn armed() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal as listen};
        match (
            listen(SignalKind::terminate()),
            listen(SignalKind::interrupt()),
        ) {
            (Ok(mut term), Ok(mut int)) => {
                return Box::pin(async move {
                    tokio::select! {
                        _ = int.recv() => tracing::info!("SIGINT received; shutting down"),
                        _ = term.recv() => tracing::info!("SIGTERM received; shutting down"),
                    }
                });
            }
            (Err(e), _) | (_, Err(e)) => {
                tracing::error!(error = %e, "cannot listen for signals now: listening once running");
            }
        }
    }
    Box::pin(signal())
}
