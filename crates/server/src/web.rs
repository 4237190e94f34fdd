//! `shotline serve`: serves the built web app. The REST API under `/api/v1` comes with the backend.

use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;
use tower_http::services::{ServeDir, ServeFile};

/// The router: static files from `dist`, falling back to `index.html` for app routes.
pub fn router(dist: PathBuf) -> Router {
    let index = dist.join("index.html");
    Router::new()
        .route("/healthz", axum::routing::get(|| async { "ok" }))
        .fallback_service(ServeDir::new(dist).fallback(ServeFile::new(index)))
}

/// Serves until Ctrl+C.
pub async fn serve(dist: PathBuf, addr: SocketAddr) -> anyhow::Result<()> {
    if !dist.join("index.html").exists() {
        anyhow::bail!(
            "{} has no index.html: build the web app first (scripts/start.sh does)",
            dist.display()
        );
    }
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    println!("Shotline is running at http://{local}/");
    axum::serve(listener, router(dist))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
