//! Argument parsing and terminal output for `shotline`.

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use shotline_core::channels::{self, Channel, CheckContext};
use shotline_core::engine::{PhotoReport, RunOptions, RunReport, Status};
use shotline_core::products::ProductTable;
use shotline_core::{templates, Workflow};
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "shotline",
    version,
    about = "Turns product photos into marketplace-ready listing images"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a workflow over photos (files or folders) on all cores.
    Run {
        /// A workflow JSON file, or the id of a bundled workflow (see `shotline templates`).
        #[arg(long, short)]
        workflow: String,
        /// A products CSV (`file,sku,title,category,tags,price,...`), matched by file name.
        #[arg(long, short)]
        products: Option<PathBuf>,
        /// Where to write images, report.json and listing.csv.
        #[arg(long, short, default_value = "shotline-out")]
        out: PathBuf,
        /// Print report.json to standard output instead of the summary table.
        #[arg(long)]
        json: bool,
        /// Photos and folders of photos.
        #[arg(required = true)]
        photos: Vec<PathBuf>,
        #[command(flatten)]
        model: ModelArg,
    },
    /// Measure background removal against human masks: IoU, Boundary IoU, MAE, max F-measure.
    Eval(crate::eval::EvalArgs),
    /// Check image files against a channel's rules (amazon, shopify, etsy, ebay, instagram, ...).
    Check {
        #[arg(long, short)]
        channel: String,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// List the bundled workflows, or print one as JSON.
    Templates {
        /// Print this template's JSON.
        id: Option<String>,
    },
    /// Check a workflow file without running it.
    Validate { workflow: PathBuf },
    /// Print the JSON Schema of the workflow format.
    Schema,
    /// Serve the web app and the REST API (`/api/v1`), and work server-side runs.
    Serve(ServeArgs),
}

#[derive(clap::Args)]
struct ServeArgs {
    /// The built web app (Trunk's output).
    #[arg(long, default_value = "dist")]
    dist: PathBuf,
    /// Address to listen on; port 0 picks a free one (the URL is printed).
    #[arg(long, default_value = "127.0.0.1:8080", env = "SHOTLINE_ADDR")]
    addr: std::net::SocketAddr,
    /// Data directory: the SQLite database and stored photos and artifacts.
    #[arg(long, default_value = "data", env = "SHOTLINE_DATA")]
    data: PathBuf,
    /// PostgreSQL instead of SQLite, e.g. postgres://127.0.0.1/shotline.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Runs worked at once by this process (default: one per core).
    #[arg(long, env = "SHOTLINE_WORKERS")]
    workers: Option<usize>,
    /// Largest upload of one run, in megabytes.
    #[arg(long, default_value_t = 200, env = "SHOTLINE_MAX_UPLOAD_MB")]
    max_upload_mb: usize,
    /// Most photos in one run.
    #[arg(long, default_value_t = 50, env = "SHOTLINE_MAX_PHOTOS")]
    max_photos: usize,
    /// Largest photo, in megapixels.
    #[arg(long, default_value_t = 100, env = "SHOTLINE_MAX_MEGAPIXELS")]
    max_megapixels: u64,
    /// Requests a minute for one workspace token.
    #[arg(long, default_value_t = 1200, env = "SHOTLINE_RATE_PER_MINUTE")]
    rate_per_minute: i64,
    /// Let webhooks fetch images from (and notify) private and loopback addresses. For tests and
    /// closed networks only.
    #[arg(long, env = "SHOTLINE_ALLOW_PRIVATE_FETCH")]
    allow_private_fetch: bool,
    /// Only fetch webhook images from these hosts (comma-separated); any public host when empty.
    #[arg(long, value_delimiter = ',', env = "SHOTLINE_FETCH_HOSTS")]
    fetch_hosts: Vec<String>,
    /// Seconds a claimed run stays this process's without a heartbeat.
    #[arg(long, default_value_t = 30, env = "SHOTLINE_LEASE_SECS")]
    lease_secs: u64,
    /// First retry delay in milliseconds (doubles each attempt).
    #[arg(long, default_value_t = 2000, env = "SHOTLINE_RETRY_BASE_MS")]
    retry_base_ms: u64,
    #[command(flatten)]
    model: ModelArg,
}

/// Where the neural cut-out model is (`scripts/fetch-model.sh` puts it in `models/`).
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArg {
    /// The U²-Net-p ONNX model for `remove_background`. When the file is missing, `auto` uses the
    /// colour key and `neural` fails.
    #[arg(
        long = "model",
        default_value = "models/u2netp.onnx",
        env = "SHOTLINE_MODEL"
    )]
    pub path: PathBuf,
}

impl ModelArg {
    /// Loads the model once; `None` (logged as a warning) when it is missing or broken, so
    /// colour-key cut-outs keep working.
    pub fn load(&self) -> Option<std::sync::Arc<shotline_cutout::Cutout>> {
        self.try_load().map_err(|e| tracing::warn!("{e:#}")).ok()
    }

    /// Loads the model, or says why it cannot.
    pub fn try_load(&self) -> anyhow::Result<std::sync::Arc<shotline_cutout::Cutout>> {
        let path = &self.path;
        let bytes = std::fs::read(path).map_err(|e| {
            anyhow::anyhow!(
                "{}: cannot read the background-removal model ({e}); neural cut-outs are off, \
                 `auto` uses the colour key. Run scripts/fetch-model.sh, or pass --model / SHOTLINE_MODEL",
                path.display()
            )
        })?;
        let t = std::time::Instant::now();
        let model = shotline_cutout::Cutout::from_bytes(&bytes)
            .map_err(|e| anyhow::anyhow!("{}: {e}; neural cut-outs are off", path.display()))?;
        tracing::info!(
            model = %path.display(),
            ms = t.elapsed().as_millis() as u64,
            "background-removal model loaded"
        );
        Ok(std::sync::Arc::new(model))
    }
}

impl ServeArgs {
    fn into_options(self) -> crate::web::ServeOptions {
        let segmenter = self.model.load();
        let mut config = crate::api::Config {
            max_upload_bytes: self.max_upload_mb * 1024 * 1024,
            max_photos_per_run: self.max_photos.max(1),
            max_photo_pixels: self.max_megapixels * 1_000_000,
            rate_per_minute: self.rate_per_minute,
            lease: std::time::Duration::from_secs(self.lease_secs.max(1)),
            retry_base: std::time::Duration::from_millis(self.retry_base_ms),
            ..Default::default()
        };
        config.fetch.allow_private = self.allow_private_fetch;
        config.fetch.allowed_hosts = self
            .fetch_hosts
            .into_iter()
            .filter(|h| !h.is_empty())
            .collect();
        if let Some(w) = self.workers {
            config.workers = w.max(1);
        }
        crate::web::ServeOptions {
            dist: self.dist,
            addr: self.addr,
            data: self.data,
            database_url: self.database_url.filter(|u| !u.is_empty()),
            config,
            segmenter,
            model_file: self.model.path,
        }
    }
}

/// Entry point; returns the process exit code (0 ok, 1 some photo failed / check failed, 2 usage).
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match dispatch(cli.command) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            2
        }
    }
}

fn dispatch(cmd: Command) -> anyhow::Result<i32> {
    match cmd {
        Command::Run {
            workflow,
            products,
            out,
            json,
            photos,
            model,
        } => run(&workflow, products.as_deref(), &out, json, &photos, &model),
        Command::Eval(args) => crate::eval::eval(&args),
        Command::Check { channel, files } => check(&channel, &files),
        Command::Templates { id } => {
            match id {
                Some(id) => match templates::get(&id) {
                    Some(wf) => println!("{}", wf.to_json()),
                    None => {
                        anyhow::bail!("no bundled workflow `{id}`; `shotline templates` lists them")
                    }
                },
                None => {
                    for (id, wf) in templates::all() {
                        println!("{id:<24} {}\n{:<24} {}\n", wf.name, "", wf.description);
                    }
                }
            }
            Ok(0)
        }
        Command::Validate { workflow } => {
            let wf = load_workflow(&workflow.to_string_lossy())?;
            println!("{}: ok ({} steps)", wf.name, wf.steps.len());
            Ok(0)
        }
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&Workflow::json_schema())?
            );
            Ok(0)
        }
        Command::Serve(args) => {
            init_logging();
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(crate::web::serve(args.into_options()))?;
            Ok(0)
        }
    }
}

/// Reads a workflow from a file, or a bundled one by id, and validates it.
pub fn load_workflow(arg: &str) -> anyhow::Result<Workflow> {
    let path = Path::new(arg);
    let text = if path.exists() {
        std::fs::read_to_string(path)
            .map_err(|e| anyhow::anyhow!("{arg}: cannot read the workflow ({e})"))?
    } else if let Some((_, json)) = templates::BUNDLED.iter().find(|(id, _)| *id == arg) {
        json.to_string()
    } else {
        anyhow::bail!("{arg}: no such file, and no bundled workflow has that id (`shotline templates` lists them)");
    };
    let wf = shotline_core::validate::parse(&text).map_err(|e| anyhow::anyhow!("{arg}: {e}"))?;
    let problems = shotline_core::validate::validate(&wf);
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        anyhow::bail!(
            "{arg}: the workflow has {} problem(s):\n{}",
            problems.len(),
            list.join("\n")
        );
    }
    Ok(wf)
}

fn run(
    workflow: &str,
    products: Option<&Path>,
    out: &Path,
    json: bool,
    photos: &[PathBuf],
    model: &ModelArg,
) -> anyhow::Result<i32> {
    let wf = load_workflow(workflow)?;
    let table = match products {
        Some(p) => {
            let text = std::fs::read_to_string(p).map_err(|e| {
                anyhow::anyhow!("{}: cannot read the products CSV ({e})", p.display())
            })?;
            Some(
                ProductTable::from_csv(&text)
                    .map_err(|e| anyhow::anyhow!("{}: {e}", p.display()))?,
            )
        }
        None => None,
    };
    let files = crate::batch::collect(photos)?;
    if files.is_empty() {
        anyhow::bail!(
            "no photos found (looked for {} files)",
            crate::batch::PHOTO_EXTENSIONS.join(", ")
        );
    }
    let bar = ProgressBar::new(files.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} [{bar:30}] {pos}/{len} photos  {elapsed_precise} (about {eta} left)  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    // Only workflows that cut out need the model (loading it costs a second).
    let segmenter = wf
        .to_json()
        .contains("\"remove_background\"")
        .then(|| {
            model
                .try_load()
                .map_err(|e| eprintln!("warning: {e:#}"))
                .ok()
        })
        .flatten();
    let opts = RunOptions {
        segmenter: segmenter
            .as_deref()
            .map(|s| s as &dyn shotline_core::engine::Segmenter),
        ..Default::default()
    };
    let on_done = |p: &PhotoReport| {
        bar.set_message(p.file.clone());
        bar.inc(1);
    };
    let report = crate::batch::run(&wf, &files, table.as_ref(), out, &opts, &on_done)?;
    bar.finish_and_clear();
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", summary(&report));
        println!(
            "\nWrote {} files, report.json and listing.csv to {}",
            report
                .photos
                .iter()
                .map(|p| p.artifacts.len())
                .sum::<usize>(),
            out.display()
        );
    }
    Ok(if report.failed > 0 { 1 } else { 0 })
}

/// The summary table: per photo, status, files and compliance.
pub fn summary(report: &RunReport) -> String {
    let mut s = format!(
        "{}: {} ok, {} failed\n\n",
        report.workflow, report.ok, report.failed
    );
    let w = report
        .photos
        .iter()
        .map(|p| p.file.chars().count())
        .max()
        .unwrap_or(4)
        .clamp(4, 40);
    s.push_str(&format!(
        "{:<w$}  {:<6}  {}\n",
        "PHOTO", "STATUS", "FILES AND COMPLIANCE"
    ));
    for p in &report.photos {
        let status = if p.status == Status::Ok {
            "ok"
        } else {
            "FAILED"
        };
        let mut details: Vec<String> = p
            .artifacts
            .iter()
            .map(|a| {
                let c = a.compliance.as_ref().map(|c| {
                    if c.pass {
                        format!(" [{} ✓]", c.channel.id())
                    } else {
                        let why: Vec<&str> = c
                            .rules
                            .iter()
                            .filter(|r| !r.pass)
                            .map(|r| r.detail.as_str())
                            .collect();
                        format!(" [{} ✗ {}]", c.channel.id(), why.join("; "))
                    }
                });
                format!(
                    "{} {}×{}{}",
                    a.name,
                    a.width,
                    a.height,
                    c.unwrap_or_default()
                )
            })
            .collect();
        if let Some(e) = &p.error {
            details.push(e.clone());
        }
        for warn in &p.warnings {
            details.push(format!("warning: {warn}"));
        }
        let name: String = p.file.chars().take(w).collect();
        let mut first = true;
        for d in if details.is_empty() {
            vec![String::new()]
        } else {
            details
        } {
            if first {
                s.push_str(&format!("{name:<w$}  {status:<6}  {d}\n"));
                first = false;
            } else {
                s.push_str(&format!("{:<w$}  {:<6}  {d}\n", "", ""));
            }
        }
    }
    s
}

fn check(channel: &str, files: &[PathBuf]) -> anyhow::Result<i32> {
    let ch = Channel::parse(channel).ok_or_else(|| {
        let ids: Vec<&str> = Channel::ALL.iter().map(|c| c.id()).collect();
        anyhow::anyhow!("unknown channel `{channel}`; use one of {}", ids.join(", "))
    })?;
    let mut all_pass = true;
    for f in files {
        let name = f.display();
        let bytes = match std::fs::read(f) {
            Ok(b) => b,
            Err(e) => {
                println!("{name}: FAIL cannot read the file ({e})");
                all_pass = false;
                continue;
            }
        };
        let c = channels::check(ch, &bytes, &CheckContext::default());
        all_pass &= c.pass;
        println!(
            "{name}: {} for {}",
            if c.pass { "PASS" } else { "FAIL" },
            ch.id()
        );
        for r in &c.rules {
            println!(
                "  {} {:<22} {}",
                if r.pass { "✓" } else { "✗" },
                r.rule,
                r.detail
            );
        }
    }
    Ok(if all_pass { 0 } else { 1 })
}

/// Structured logs on standard error: `RUST_LOG` filters (default `info`), `SHOTLINE_LOG=json`
/// for one JSON object a line.
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_http=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if std::env::var("SHOTLINE_LOG").as_deref() == Ok("json") {
        let _ = builder.json().try_init();
    } else {
        let _ = builder.try_init();
    }
}
