//! `shotline serve`: the web app, the REST API under `/api/v1`, and this process's run workers.

use crate::api::{self, AppState, Config};
use crate::objects::Objects;
use crate::store::Store;
use axum::Router;
use std::net::SocketAddr;
use std::path::PathBuf;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

/// Everything `shotline serve` needs to start.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    pub dist: PathBuf,
    pub addr: SocketAddr,
    pub data: PathBuf,
    /// `postgres://...` (or `sqlite://...`); the data directory's SQLite file when absent.
    pub database_url: Option<String>,
    pub config: Config,
    /// The neural cut-out model, loaded by the caller (see `cli::load_model`).
    pub segmenter: Option<std::sync::Arc<shotline_cutout::Cutout>>,
    /// The model's ONNX file, served at [`MODEL_PATH`] to the browser's engine workers.
    pub model_file: PathBuf,
}

/// Where the web app's engine worker fetches the cut-out model from (src/worker.rs).
pub const MODEL_PATH: &str = "/models/u2netp.onnx";

/// The whole app: `/healthz`, the API, and static files from `dist` with `index.html` for app
/// routes (`/s/{slug}` among them).
pub fn router(state: AppState, dist: PathBuf) -> Router {
    app(state, dist, None)
}

/// [`router`], plus the cut-out model file at [`MODEL_PATH`] when given. A missing file is a 404
/// there (not the app's index.html), so the worker can say the model is not installed.
pub fn app(state: AppState, dist: PathBuf, model_file: Option<PathBuf>) -> Router {
    let index = dist.join("index.html");
    let mut routes = Router::new();
    if let Some(file) = model_file {
        routes = routes.route_service(MODEL_PATH, ServeFile::new(file));
    }
    routes
        .route("/healthz", axum::routing::get(api::healthz))
        .with_state(state.clone())
        .nest("/api/v1", api::router(state))
        .fallback_service(ServeDir::new(dist).fallback(ServeFile::new(index)))
        .layer(TraceLayer::new_for_http())
}

/// Starts the server and the workers; on Ctrl+C or SIGTERM stops taking requests and runs, lets
/// running jobs finish (or re-queues them after the grace period), then returns.
pub async fn serve(opts: ServeOptions) -> anyhow::Result<()> {
    if !opts.dist.join("index.html").exists() {
        anyhow::bail!(
            "{} has no index.html: build the web app first (scripts/start.sh does)",
            opts.dist.display()
        );
    }
    let store = Store::open(opts.database_url.as_deref(), &opts.data)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the database: {e}"))?;
    let objects = Objects::from_env(&opts.data)?;
    tracing::info!(database = ?store.backend(), objects = %objects.description, "storage ready");
    let state = AppState::new(store.clone(), objects, opts.config.clone())
        .with_segmenter(opts.segmenter.clone());

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let worker_id = format!(
        "{}-{}",
        std::process::id(),
        crate::signature::random_token(4)
    );
    let workers = crate::queue::spawn_workers(state.clone(), worker_id, stop_rx);

    let listener = tokio::net::TcpListener::bind(opts.addr).await?;
    let local = listener.local_addr()?;
    println!("Shotline is running at http://{local}/");
    axum::serve(listener, app(state, opts.dist, Some(opts.model_file)))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    tracing::info!("stopping: finishing running jobs");
    let _ = stop_tx.send(true);
    for w in workers {
        let _ = w.await;
    }
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
