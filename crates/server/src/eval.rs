//! `shotline eval`: runs background removal on photos with human masks and reports, per method,
//! mean IoU, Boundary IoU, MAE and max F-measure (see `shotline_cutout::metrics`), per-photo rows
//! and the time per photo.
//!
//! The model's 320×320 map is computed once per photo and shared by `model` and `refined`; each
//! method's time includes that inference, so the figures are what a single cut-out costs. Photos
//! are processed one after the other so the times are not inflated by other photos' work.

use crate::cli::ModelArg;
use serde::Serialize;
use shotline_core::codec::{self, Limits};
use shotline_core::engine::Segmenter;
use shotline_core::ops::remove_background::{self, Method as RbMethod, RemoveBackground};
use shotline_core::Raster;
use shotline_cutout::{metrics, model::SIDE, refine, Refine};
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Folder of photos.
    #[arg(long)]
    images: PathBuf,
    /// Folder of masks, one per photo with the same stem (`0001.jpg` ↔ `0001.png`); white = subject.
    #[arg(long)]
    masks: PathBuf,
    /// Only this method: `color_key`, `model` (the raw network, as rembg), `refined` (the
    /// model with refinement) or `auto` (what a workflow's `remove_background` does by default:
    /// the colour key on plain backdrops, else `refined`). All four when absent.
    #[arg(long)]
    method: Option<String>,
    /// Print one JSON document (per-method means and per-photo rows) instead of tables.
    #[arg(long)]
    json: bool,
    /// Write each predicted alpha as an 8-bit PNG named after its photo (in a sub-folder per
    /// method when several are measured).
    #[arg(long)]
    save_masks: Option<PathBuf>,
    /// Extra refinement variants to measure beside the default, for experiments:
    /// `name:key=value,...` with keys work, radius, eps, guided, islands, band, gain, center.
    #[arg(long = "variant", hide = true)]
    variants: Vec<String>,
    #[command(flatten)]
    model: ModelArg,
}

#[derive(Debug, Clone, PartialEq)]
enum Method {
    ColorKey,
    Model,
    Refined(String, Refine),
    Auto,
}

impl Method {
    fn name(&self) -> &str {
        match self {
            Method::ColorKey => "color_key",
            Method::Model => "model",
            Method::Refined(n, _) => n,
            Method::Auto => "auto",
        }
    }
}

/// One photo measured with one method.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub photo: String,
    pub method: String,
    pub iou: f64,
    pub biou: f64,
    pub mae: f64,
    pub max_f: f64,
    pub ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A method's means over all photos.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub method: String,
    pub photos: usize,
    pub iou: f64,
    pub biou: f64,
    pub mae: f64,
    pub max_f: f64,
    pub ms_per_photo: f64,
}

#[derive(Serialize)]
struct Report<'a> {
    methods: &'a [Summary],
    rows: &'a [Row],
}

fn parse_variant(spec: &str) -> anyhow::Result<Method> {
    let (name, rest) = spec.split_once(':').unwrap_or((spec, ""));
    let mut r = Refine::default();
    for kv in rest.split(',').filter(|s| !s.is_empty()) {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| anyhow::anyhow!("variant `{spec}`: `{kv}` is not key=value"))?;
        let f: f32 = v
            .parse()
            .map_err(|_| anyhow::anyhow!("variant `{spec}`: `{v}` is not a number"))?;
        match k {
            "work" => r.work_side = f as usize,
            "radius" => r.radius = f,
            "eps" => r.eps = f,
            "guided" => r.guided = f != 0.0,
            "islands" => r.min_island = f,
            "band" => r.band = f != 0.0,
            "gain" => r.gain = f,
            "center" => r.center = f,
            _ => anyhow::bail!("variant `{spec}`: unknown key `{k}`"),
        }
    }
    Ok(Method::Refined(name.to_string(), r))
}

/// Photo and mask pairs, by stem, sorted.
fn pairs(images: &Path, masks: &Path) -> anyhow::Result<Vec<(PathBuf, PathBuf)>> {
    let photos = crate::batch::collect(&[images.to_path_buf()])?;
    let mask_files = crate::batch::collect(&[masks.to_path_buf()])?;
    let mut out = Vec::new();
    for p in photos {
        let stem = p.file_stem().map(|s| s.to_os_string());
        let m = mask_files
            .iter()
            .find(|m| m.file_stem().map(|s| s.to_os_string()) == stem)
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "{}: no mask with the same name in {}",
                    p.display(),
                    masks.display()
                )
            })?;
        out.push((p, m.clone()));
    }
    if out.is_empty() {
        anyhow::bail!("no photos found in {}", images.display());
    }
    Ok(out)
}

fn decode(path: &Path) -> anyhow::Result<Raster> {
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("{}: cannot read ({e})", path.display()))?;
    let name = path.display().to_string();
    let limits = Limits {
        max_pixels: u64::MAX,
        max_file_bytes: usize::MAX,
        ..Default::default()
    };
    Ok(codec::decode(&name, &bytes, &limits)?.image)
}

/// The refined method's segmenter: refines a map computed beforehand.
struct Precomputed<'a> {
    map: &'a [f32],
    refine: &'a Refine,
    /// Whether the engine asked for the mask (`auto` may use the colour key instead).
    asked: std::sync::atomic::AtomicBool,
}

impl Segmenter for Precomputed<'_> {
    fn name(&self) -> &str {
        "u2netp"
    }
    fn segment(&self, img: &Raster) -> shotline_core::Result<Vec<u8>> {
        self.asked.store(true, std::sync::atomic::Ordering::Relaxed);
        Ok(refine::refine(self.map, SIDE, img, self.refine))
    }
}

/// Entry point of `shotline eval`; exit code 0, or an error (exit 2).
pub fn eval(args: &EvalArgs) -> anyhow::Result<i32> {
    let mut methods = match args.method.as_deref() {
        None => vec![
            Method::ColorKey,
            Method::Model,
            Method::Refined("refined".into(), Refine::default()),
            Method::Auto,
        ],
        Some("color_key") => vec![Method::ColorKey],
        Some("auto") => vec![Method::Auto],
        Some("model") => vec![Method::Model],
        Some("refined") => vec![Method::Refined("refined".into(), Refine::default())],
        Some(other) => {
            anyhow::bail!("unknown method `{other}`; use color_key, model, refined or auto")
        }
    };
    for v in &args.variants {
        methods.push(parse_variant(v)?);
    }
    let needs_model = methods.iter().any(|m| m != &Method::ColorKey);
    let net = if needs_model {
        Some(args.model.try_load().map_err(|e| {
            anyhow::anyhow!("{e:#}\n(`--method color_key` measures without the model)")
        })?)
    } else {
        None
    };
    let pairs = pairs(&args.images, &args.masks)?;
    if let Some(dir) = &args.save_masks {
        for m in &methods {
            let d = if methods.len() > 1 {
                dir.join(m.name())
            } else {
                dir.clone()
            };
            std::fs::create_dir_all(&d)
                .map_err(|e| anyhow::anyhow!("{}: cannot create ({e})", d.display()))?;
        }
    }

    let mut rows = Vec::new();
    for (photo, mask_path) in &pairs {
        let name = photo
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let img = decode(photo)?;
        let gt: Vec<u8> = decode(mask_path)?.pixels().map(|p| p[0]).collect();
        if gt.len() != img.pixel_count() {
            anyhow::bail!(
                "{}: the mask is not the photo's size ({}×{})",
                mask_path.display(),
                img.width(),
                img.height()
            );
        }
        let inference = match &net {
            Some(n) => {
                let t = Instant::now();
                let map = n.net().predict(&img)?;
                Some((map, t.elapsed().as_secs_f64() * 1000.0))
            }
            None => None,
        };
        for m in &methods {
            let t = Instant::now();
            let (alpha, extra_ms, error) = match m {
                Method::ColorKey => {
                    let mut out = img.clone();
                    let p = RemoveBackground {
                        method: RbMethod::ColorKey,
                        ..Default::default()
                    };
                    match remove_background::apply(&mut out, &p, None) {
                        Ok(()) => (out.alpha(), 0.0, None),
                        Err(e) => (vec![0; img.pixel_count()], 0.0, Some(e.to_string())),
                    }
                }
                Method::Auto => {
                    let Some((map, ms)) = &inference else {
                        anyhow::bail!("the model is not loaded");
                    };
                    let refine = Refine::default();
                    let seg = Precomputed {
                        map,
                        refine: &refine,
                        asked: Default::default(),
                    };
                    let mut out = img.clone();
                    let p = RemoveBackground::default();
                    let r = remove_background::apply(&mut out, &p, Some(&seg));
                    // The inference counts only where the model was used.
                    let ms = if seg.asked.into_inner() { *ms } else { 0.0 };
                    match r {
                        Ok(()) => (out.alpha(), ms, None),
                        Err(e) => (vec![0; img.pixel_count()], ms, Some(e.to_string())),
                    }
                }
                Method::Model | Method::Refined(..) => {
                    let Some((map, ms)) = &inference else {
                        anyhow::bail!("the model is not loaded");
                    };
                    if let Method::Refined(_, r) = m {
                        let seg = Precomputed {
                            map,
                            refine: r,
                            asked: Default::default(),
                        };
                        let mut out = img.clone();
                        let p = RemoveBackground {
                            method: RbMethod::Neural,
                            ..Default::default()
                        };
                        match remove_background::apply(&mut out, &p, Some(&seg)) {
                            Ok(()) => (out.alpha(), *ms, None),
                            Err(e) => (vec![0; img.pixel_count()], *ms, Some(e.to_string())),
                        }
                    } else {
                        (refine::plain(map, SIDE, &img), *ms, None)
                    }
                }
            };
            let ms = t.elapsed().as_secs_f64() * 1000.0 + extra_ms;
            let (w, h) = (img.width() as usize, img.height() as usize);
            rows.push(Row {
                photo: name.clone(),
                method: m.name().to_string(),
                iou: metrics::iou(&alpha, &gt),
                biou: metrics::boundary_iou(&alpha, &gt, w, h),
                mae: metrics::mae(&alpha, &gt),
                max_f: metrics::max_f(&alpha, &gt),
                ms,
                error,
            });
            if let Some(dir) = &args.save_masks {
                let d = if methods.len() > 1 {
                    dir.join(m.name())
                } else {
                    dir.clone()
                };
                let stem = photo
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| name.clone());
                let out = d.join(format!("{stem}.png"));
                image::save_buffer(&out, &alpha, w as u32, h as u32, image::ColorType::L8)
                    .map_err(|e| anyhow::anyhow!("{}: cannot write ({e})", out.display()))?;
            }
        }
    }

    let summaries: Vec<Summary> = methods.iter().map(|m| summarise(m.name(), &rows)).collect();
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&Report {
                methods: &summaries,
                rows: &rows
            })?
        );
    } else {
        print!("{}", table(&summaries, &rows));
    }
    Ok(0)
}

/// Means of one method's rows.
pub fn summarise(method: &str, rows: &[Row]) -> Summary {
    let mine: Vec<&Row> = rows.iter().filter(|r| r.method == method).collect();
    let n = mine.len().max(1) as f64;
    let mean = |f: fn(&Row) -> f64| mine.iter().map(|r| f(r)).sum::<f64>() / n;
    Summary {
        method: method.to_string(),
        photos: mine.len(),
        iou: mean(|r| r.iou),
        biou: mean(|r| r.biou),
        mae: mean(|r| r.mae),
        max_f: mean(|r| r.max_f),
        ms_per_photo: mean(|r| r.ms),
    }
}

fn table(summaries: &[Summary], rows: &[Row]) -> String {
    let w = rows
        .iter()
        .map(|r| r.photo.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, 40);
    let mw = rows
        .iter()
        .map(|r| r.method.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let mut s = format!(
        "{:<w$}  {:<mw$}  {:>6}  {:>6}  {:>6}  {:>6}  {:>8}\n",
        "PHOTO", "METHOD", "IoU", "BIoU", "MAE", "maxF", "ms"
    );
    for r in rows {
        s.push_str(&format!(
            "{:<w$}  {:<mw$}  {:>6.3}  {:>6.3}  {:>6.3}  {:>6.3}  {:>8.1}{}\n",
            r.photo,
            r.method,
            r.iou,
            r.biou,
            r.mae,
            r.max_f,
            r.ms,
            r.error
                .as_ref()
                .map(|e| format!("  ({e})"))
                .unwrap_or_default()
        ));
    }
    s.push_str(&format!(
        "\n{:<mw$}  {:>6}  {:>6}  {:>6}  {:>6}  {:>6}  {:>8}\n",
        "METHOD", "photos", "IoU", "BIoU", "MAE", "maxF", "ms/photo"
    ));
    for m in summaries {
        s.push_str(&format!(
            "{:<mw$}  {:>6}  {:>6.3}  {:>6.3}  {:>6.3}  {:>6.3}  {:>8.1}\n",
            m.method, m.photos, m.iou, m.biou, m.mae, m.max_f, m.ms_per_photo
        ));
    }
    s
}
