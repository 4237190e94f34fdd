//! The engine: runs a workflow over photos and reports, per photo and per step, what happened.
//!
//! One photo's failure never stops the others; a failing step stops only its own photo. Nothing
//! here reads files or spawns threads: callers (browser worker, CLI, server) hand in bytes and
//! parallelise over photos with [`run_one`].

use crate::channels::{self, CheckContext, Compliance};
use crate::codec::{self, Limits};
use crate::copy::Copy;
use crate::error::{Error, Result};
use crate::facts::{Facts, FileFacts, ImageFacts};
use crate::model::{Action, Export, Format, Step, Workflow};
use crate::ops::{self, Problem};
use crate::products::Product;
use crate::raster::Raster;
use crate::time::Instant;
use serde::{Deserialize, Serialize};

/// One photo to process.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The file name (used for `file.*` facts, CSV matching and output names).
    pub name: String,
    pub bytes: Vec<u8>,
    pub product: Product,
}

impl Input {
    pub fn new(name: impl Into<String>, bytes: Vec<u8>) -> Self {
        Input {
            name: name.into(),
            bytes,
            product: Product::default(),
        }
    }
}

/// A way to cut the subject out, supplied by the host (the neural model lives outside core so that
/// core stays free of model loading; the browser worker, server and CLI each provide one).
pub trait Segmenter: Sync {
    /// A short name for logs ("u2netp").
    fn name(&self) -> &str;
    /// An alpha mask, one byte per pixel (255 = subject), of the same size as `img`.
    fn segment(&self, img: &Raster) -> Result<Vec<u8>>;
}

/// Remembers the masks a [`Segmenter`] made for the last few pictures, so that asking again for
/// the same pixels costs a hash instead of an inference. The editor's preview re-runs a workflow
/// whenever a later step changes (a background colour, a shadow); the picture that reaches the
/// cut-out is then the same, and so is its mask. Keyed by the picture's size and a 64-bit hash of
/// every pixel; failures are not remembered.
#[derive(Default)]
pub struct MaskCache {
    /// Most recently used last.
    entries: std::sync::Mutex<Vec<(u64, Vec<u8>)>>,
}

impl MaskCache {
    /// How many masks are kept (a 2048 px preview's mask is 4 MB).
    pub const CAPACITY: usize = 4;

    /// `inner`, answering from this cache where it can.
    pub fn with<'a>(&'a self, inner: &'a dyn Segmenter) -> CachedSegmenter<'a> {
        CachedSegmenter { inner, cache: self }
    }

    /// How many masks are remembered now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Vec<u8>)>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A [`Segmenter`] in front of a [`MaskCache`] (see [`MaskCache::with`]).
pub struct CachedSegmenter<'a> {
    inner: &'a dyn Segmenter,
    cache: &'a MaskCache,
}

impl Segmenter for CachedSegmenter<'_> {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn segment(&self, img: &Raster) -> Result<Vec<u8>> {
        let key = pixel_key(img);
        {
            let mut entries = self.cache.lock();
            if let Some(i) = entries.iter().position(|(k, _)| *k == key) {
                let hit = entries.remove(i);
                let mask = hit.1.clone();
                entries.push(hit);
                return Ok(mask);
            }
        }
        let mask = self.inner.segment(img)?;
        let mut entries = self.cache.lock();
        if entries.len() >= MaskCache::CAPACITY {
            entries.remove(0);
        }
        entries.push((key, mask.clone()));
        Ok(mask)
    }
}

/// FxHash-style mixing of the size and every pixel, 8 bytes at a time: a few ms for a 2048 px
/// picture in WASM, next to the seconds of an inference.
fn pixel_key(img: &Raster) -> u64 {
    const K: u64 = 0x51_7c_c1_b7_27_22_0a_95;
    let mix = |h: u64, v: u64| (h.rotate_left(5) ^ v).wrapping_mul(K);
    let (w, h) = img.dimensions();
    let mut key = mix(mix(0, w as u64), h as u64);
    let raw = img.as_raw();
    let mut chunks = raw.chunks_exact(8);
    for c in &mut chunks {
        let mut b = [0u8; 8];
        b.copy_from_slice(c);
        key = mix(key, u64::from_le_bytes(b));
    }
    for &b in chunks.remainder() {
        key = mix(key, b as u64);
    }
    key
}

/// What the host provides to a run.
#[derive(Clone, Copy, Default)]
pub struct RunOptions<'a> {
    pub limits: Limits,
    pub segmenter: Option<&'a dyn Segmenter>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Ok,
    Skipped,
    Failed,
}

/// One step's entry in a photo's log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepLog {
    /// Where the step is in the workflow (`steps[2].then[0]`).
    pub path: String,
    /// The step's type (`crop_to_subject`), or `decode`.
    pub step: String,
    pub status: Status,
    pub ms: f64,
    /// Why it was skipped, which branch an IF took, or the error.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// A file produced by a run.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Artifact {
    pub name: String,
    pub mime: String,
    pub width: u32,
    pub height: u32,
    /// Size in bytes.
    pub size: usize,
    /// The JPEG quality chosen (after a `max_bytes` search), when JPEG.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub quality: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compliance: Option<Compliance>,
    #[serde(skip)]
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Artifact {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Artifact({}, {}×{}, {} bytes)",
            self.name, self.width, self.height, self.size
        )
    }
}

/// Everything that happened to one photo.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PhotoReport {
    pub file: String,
    pub status: Status,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub warnings: Vec<String>,
    pub steps: Vec<StepLog>,
    pub artifacts: Vec<Artifact>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub copy: Option<Copy>,
    /// Facts of the decoded photo, before any step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facts: Option<ImageFacts>,
    pub product: Product,
    pub ms: f64,
}

impl PhotoReport {
    /// The report of a photo that failed before the engine could read it (e.g. the file could
    /// not be read from disk or from the browser).
    pub fn failed(file: &str, error: String) -> PhotoReport {
        PhotoReport {
            file: file.to_string(),
            status: Status::Failed,
            error: Some(error),
            warnings: Vec::new(),
            steps: Vec::new(),
            artifacts: Vec::new(),
            copy: None,
            facts: None,
            product: Product::default(),
            ms: 0.0,
        }
    }
}

/// A whole run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    pub workflow: String,
    pub ok: usize,
    pub failed: usize,
    pub photos: Vec<PhotoReport>,
}

impl RunReport {
    /// Collects photo reports, making artifact names unique across the run (`-2`, `-3`, ...).
    pub fn from_photos(workflow: &str, mut photos: Vec<PhotoReport>) -> RunReport {
        let mut seen = std::collections::HashSet::new();
        for p in &mut photos {
            for a in &mut p.artifacts {
                a.name = unique_name(&a.name, &mut seen);
            }
        }
        let ok = photos.iter().filter(|p| p.status == Status::Ok).count();
        RunReport {
            workflow: workflow.to_string(),
            ok,
            failed: photos.len() - ok,
            photos,
        }
    }

    /// `report.json`.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// `listing.csv`: one row per photo that generated copy (or produced files), with its texts and
    /// the names of its files.
    pub fn listing_csv(&self) -> String {
        use crate::copy::csv_field as f;
        let mut out = String::from(
            "file,sku,title,description,alt_text,instagram,facebook,colors,images,status\n",
        );
        for p in &self.photos {
            let c = p.copy.clone().unwrap_or_default();
            let images = p
                .artifacts
                .iter()
                .map(|a| a.name.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let status = match p.status {
                Status::Ok => "ok".to_string(),
                _ => format!("failed: {}", p.error.as_deref().unwrap_or("")),
            };
            let row = [
                f(&p.file),
                f(p.product.get("sku")),
                f(&c.title),
                f(&c.description),
                f(&c.alt_text),
                f(&c.instagram),
                f(&c.facebook),
                f(&c.colors.join(" ")),
                f(&images),
                f(&status),
            ];
            out.push_str(&row.join(","));
            out.push('\n');
        }
        out
    }
}

fn unique_name(name: &str, seen: &mut std::collections::HashSet<String>) -> String {
    if seen.insert(name.to_lowercase()) {
        return name.to_string();
    }
    let (stem, ext) = match name.rfind('.') {
        Some(i) if i > 0 => (&name[..i], &name[i..]),
        _ => (name, ""),
    };
    (2..)
        .map(|n| format!("{stem}-{n}{ext}"))
        .find(|c| seen.insert(c.to_lowercase()))
        .unwrap_or_else(|| name.to_string())
}

/// Applies an action that changes the picture itself (cut-out, background, colour, crop, size,
/// watermark, filter) and returns true; returns false, doing nothing, for the others (IF, export,
/// copy, channels, warnings, notifications). The engine and the editor's preview both go through
/// here, so a preview shows what a run does.
pub fn apply_picture(
    action: &Action,
    img: &mut Raster,
    segmenter: Option<&dyn Segmenter>,
) -> Result<bool> {
    match action {
        Action::RemoveBackground(p) => ops::remove_background::apply(img, p, segmenter)?,
        Action::Background(p) => ops::background::apply(img, p)?,
        Action::Shadow(p) => ops::shadow::apply(img, p)?,
        Action::AutoEnhance(p) => ops::enhance::auto_enhance(img, p)?,
        Action::Adjust(p) => ops::enhance::adjust(img, p)?,
        Action::ReduceGlare(p) => ops::glare::apply(img, p)?,
        Action::CropToSubject(p) => ops::crop::apply(img, p)?,
        Action::Resize(p) => ops::resize::apply(img, p)?,
        Action::Watermark(p) => ops::watermark::apply(img, p)?,
        Action::Filter(p) => ops::filter::apply(img, p)?,
        Action::If(_)
        | Action::Export(_)
        | Action::GenerateCopy(_)
        | Action::Channel(_)
        | Action::Warn(_)
        | Action::Notify(_) => return Ok(false),
    }
    Ok(true)
}

/// Runs a workflow over photos, one after the other. Fails only if the workflow itself is invalid;
/// photo failures are reported per photo.
pub fn run(wf: &Workflow, inputs: &[Input], opts: &RunOptions<'_>) -> Result<RunReport> {
    check(wf)?;
    let photos = inputs
        .iter()
        .enumerate()
        .map(|(i, input)| run_one(wf, input, i + 1, opts))
        .collect();
    Ok(RunReport::from_photos(&wf.name, photos))
}

/// Validates a workflow, returning every problem as one error.
pub fn check(wf: &Workflow) -> Result<()> {
    let problems = crate::validate::validate(wf);
    match problems.first() {
        None => Ok(()),
        Some(first) => Err(Error::Invalid {
            path: first.path.clone(),
            message: problems
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    if i == 0 {
                        p.message.clone()
                    } else {
                        p.to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join("; "),
        }),
    }
}

/// Runs a (validated) workflow on one photo. `index` is the photo's 1-based position, for `{index}`.
/// Never panics on user data; a panic inside an operation (a bug) becomes this photo's error on
/// native targets.
pub fn run_one(wf: &Workflow, input: &Input, index: usize, opts: &RunOptions<'_>) -> PhotoReport {
    let start = Instant::now();
    let file = FileFacts::new(&input.name, input.bytes.len(), codec::sniff(&input.bytes));
    let mut report = PhotoReport {
        file: file.name.clone(),
        status: Status::Ok,
        error: None,
        warnings: Vec::new(),
        steps: Vec::new(),
        artifacts: Vec::new(),
        copy: None,
        facts: None,
        product: input.product.clone(),
        ms: 0.0,
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let mut run = PhotoRun {
            wf,
            file: &file,
            product: &input.product,
            index,
            opts,
            report: &mut report,
            watermarked: false,
        };
        run.go(&input.bytes)
    }));
    let err = match outcome {
        Ok(Ok(())) => None,
        Ok(Err(e)) => Some(e.to_string()),
        Err(_) => Some(format!(
            "{}: an internal error stopped this photo (please report it)",
            file.name
        )),
    };
    if let Some(e) = err {
        report.status = Status::Failed;
        report.error = Some(e);
    }
    report.ms = start.elapsed().as_secs_f64() * 1000.0;
    report
}

/// Shrink-on-load: the JPEG reading scale (1, 2, 4 or 8) for a `w`×`h` photo whose workflow
/// starts with `first`. Only a `resize` first step qualifies (nothing else sees the full-size
/// pixels), and only when it shrinks the photo at least 2× in both directions: the largest scale
/// whose reduced photo still holds the resize's output, and gives the same output size as the full
/// photo would, is taken, which is sharp's and libvips' rule for JPEG shrink-on-load. The resize's
/// Lanczos3 then works from a photo at most 2× its output instead of up to 8×.
fn load_scale(first: Option<&Action>, w: u32, h: u32) -> u32 {
    let Some(Action::Resize(r)) = first else {
        return 1;
    };
    let want = ops::resize::plan(w, h, r);
    if want.crop {
        return 1;
    }
    let (cw, ch) = want.content;
    [8, 4, 2]
        .into_iter()
        .find(|&s| {
            let (sw, sh) = (w.div_ceil(s), h.div_ceil(s));
            cw as u64 * s as u64 <= w as u64
                && ch as u64 * s as u64 <= h as u64
                && ops::resize::plan(sw, sh, r) == want
        })
        .unwrap_or(1)
}

struct PhotoRun<'a, 'o> {
    wf: &'a Workflow,
    file: &'a FileFacts,
    product: &'a Product,
    index: usize,
    opts: &'a RunOptions<'o>,
    report: &'a mut PhotoReport,
    watermarked: bool,
}

impl PhotoRun<'_, '_> {
    fn go(&mut self, bytes: &[u8]) -> Result<()> {
        let t = Instant::now();
        let first = self.wf.steps.iter().find(|s| s.enabled).map(|s| &s.action);
        let decoded = codec::decode_at(&self.file.name, bytes, &self.opts.limits, &|w, h| {
            load_scale(first, w, h)
        });
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let mut full = None;
        let mut img = match decoded {
            Ok(d) => {
                let (w, h) = d.image.dimensions();
                let msg = if d.full == (w, h) {
                    format!("{w}×{h}")
                } else {
                    full = Some(d.full);
                    format!(
                        "{}×{}, read at {w}×{h} for the resize that follows",
                        d.full.0, d.full.1
                    )
                };
                self.log("decode", "decode", Status::Ok, ms, Some(msg));
                d.image
            }
            Err(e) => {
                self.log("decode", "decode", Status::Failed, ms, Some(e.to_string()));
                return Err(e);
            }
        };
        let mut facts = ImageFacts::measure(&img);
        if let Some((w, h)) = full {
            // Read smaller for the resize: the photo's facts are still those of the photo.
            facts.width = w;
            facts.height = h;
            facts.megapixels = w as f64 * h as f64 / 1e6;
            facts.aspect = w as f64 / h.max(1) as f64;
        }
        self.report.facts = Some(facts);
        let steps = &self.wf.steps;
        self.steps(steps, "steps", &mut img)
    }

    fn log(&mut self, path: &str, step: &str, status: Status, ms: f64, message: Option<String>) {
        self.report.steps.push(StepLog {
            path: path.into(),
            step: step.into(),
            status,
            ms,
            message,
        });
    }

    fn steps(&mut self, steps: &[Step], path: &str, img: &mut Raster) -> Result<()> {
        self.steps_from(steps, 0, path, img)
    }

    /// [`Self::steps`] for `steps`, which are the list at `path` from index `first` on.
    fn steps_from(
        &mut self,
        steps: &[Step],
        first: usize,
        path: &str,
        img: &mut Raster,
    ) -> Result<()> {
        for (i, s) in steps.iter().enumerate() {
            let here = format!("{path}[{}]", first + i);
            let kind = s.action.kind();
            if !s.enabled {
                self.log(&here, kind, Status::Skipped, 0.0, Some("disabled".into()));
                continue;
            }
            let t = Instant::now();
            // IF logs itself before running its branch, so its entry comes first.
            if let Action::If(iff) = &s.action {
                let image = ImageFacts::measure(img);
                let facts = Facts {
                    product: self.product,
                    file: self.file,
                    image: &image,
                };
                let yes = iff.when.eval(&|f| facts.get(f));
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                self.log(
                    &here,
                    kind,
                    Status::Ok,
                    ms,
                    Some(if yes { "then".into() } else { "else".into() }),
                );
                let (branch, name) = if yes {
                    (&iff.then, "then")
                } else {
                    (&iff.otherwise, "else")
                };
                self.steps(branch, &format!("{here}.{name}"), img)?;
                continue;
            }
            let result = self.action(&s.action, &here, img);
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            match result {
                Ok(msg) => self.log(&here, kind, Status::Ok, ms, msg),
                Err(e) => {
                    let label = s.label.as_deref().unwrap_or(kind);
                    self.log(&here, kind, Status::Failed, ms, Some(e.to_string()));
                    return Err(Error::op(format!(
                        "{}: step {here} ({label}) failed: {e}",
                        self.file.name
                    )));
                }
            }
        }
        Ok(())
    }

    /// Runs one non-IF action. Returns an optional note for the log.
    fn action(&mut self, action: &Action, path: &str, img: &mut Raster) -> Result<Option<String>> {
        if apply_picture(action, img, self.opts.segmenter)? {
            self.watermarked |= matches!(action, Action::Watermark(_));
            return Ok(None);
        }
        match action {
            Action::Export(e) => return self.export(e, None, img).map(Some),
            Action::GenerateCopy(g) => {
                let image = ImageFacts::measure(img);
                let facts = Facts {
                    product: self.product,
                    file: self.file,
                    image: &image,
                };
                self.report.copy = Some(g.generate(&facts, img));
            }
            Action::Channel(c) => {
                // The preset works on its own image, so channels in a row all start from the same
                // one. Presets start by cropping to the subject: that crop reads the shared photo
                // and writes the smaller framed image, which saves copying the full photo first.
                let watermarked = self.watermarked;
                let preset = c.channel.preset_steps();
                let preset_path = format!("{path}.preset");
                let (mut copy, done) = match preset.first() {
                    Some(Step {
                        action: Action::CropToSubject(p),
                        enabled: true,
                        ..
                    }) => {
                        let here = format!("{preset_path}[0]");
                        let t = Instant::now();
                        let framed = ops::crop::cropped(img, p);
                        let ms = t.elapsed().as_secs_f64() * 1000.0;
                        match framed {
                            Ok(framed) => {
                                self.log(&here, "crop_to_subject", Status::Ok, ms, None);
                                (framed.unwrap_or_else(|| img.clone()), 1)
                            }
                            Err(e) => {
                                self.log(
                                    &here,
                                    "crop_to_subject",
                                    Status::Failed,
                                    ms,
                                    Some(e.to_string()),
                                );
                                return Err(Error::op(format!(
                                    "{}: step {here} (crop_to_subject) failed: {e}",
                                    self.file.name
                                )));
                            }
                        }
                    }
                    _ => (img.clone(), 0),
                };
                self.steps_from(&preset[done..], done, &preset_path, &mut copy)?;
                let mut export = c.channel.export();
                if let Some(n) = &c.name {
                    export.name = n.clone();
                }
                let note = self.export(&export, Some(c.channel.id()), &copy);
                self.watermarked = watermarked;
                return note.map(Some);
            }
            Action::Warn(w) => {
                let image = ImageFacts::measure(img);
                let facts = Facts {
                    product: self.product,
                    file: self.file,
                    image: &image,
                };
                let msg = fill_fields(&w.message, &facts);
                self.report.warnings.push(msg.clone());
                return Ok(Some(msg));
            }
            Action::Notify(_) => {
                return Ok(Some("sent by the server when the run ends".into()));
            }
            Action::If(_) => unreachable_if(),
            // Done by `apply_picture` above.
            Action::RemoveBackground(_)
            | Action::Background(_)
            | Action::Shadow(_)
            | Action::AutoEnhance(_)
            | Action::Adjust(_)
            | Action::ReduceGlare(_)
            | Action::CropToSubject(_)
            | Action::Resize(_)
            | Action::Watermark(_)
            | Action::Filter(_) => {}
        }
        Ok(None)
    }

    fn export(&mut self, e: &Export, channel: Option<&str>, img: &Raster) -> Result<String> {
        let channel = channel.or(e.check.map(|c| c.id()));
        let name = expand_name(
            &e.name,
            self.file,
            self.product,
            channel,
            self.index,
            e.format,
        );
        let matte = ops::parse_hex_color(&e.matte).unwrap_or([255, 255, 255, 255]);
        let (bytes, quality) = codec::encode_within(img, e.format, e.quality, e.max_bytes, matte)?;
        let compliance = e.check.map(|c| {
            channels::check(
                c,
                &bytes,
                &CheckContext {
                    watermarked: self.watermarked,
                },
            )
        });
        let mut existing: std::collections::HashSet<String> = self
            .report
            .artifacts
            .iter()
            .map(|a| a.name.to_lowercase())
            .collect();
        let name = unique_name(&name, &mut existing);
        let note = format!(
            "{name}: {}×{}, {} KB{}",
            img.width(),
            img.height(),
            bytes.len().div_ceil(1024),
            compliance
                .as_ref()
                .map(|c| if c.pass {
                    ", compliant".to_string()
                } else {
                    ", not compliant".to_string()
                })
                .unwrap_or_default()
        );
        self.report.artifacts.push(Artifact {
            name,
            mime: e.format.mime().into(),
            width: img.width(),
            height: img.height(),
            size: bytes.len(),
            quality: (e.format == Format::Jpeg).then_some(quality),
            compliance,
            bytes,
        });
        Ok(note)
    }
}

#[cold]
fn unreachable_if() -> ! {
    // IF steps are handled in `steps` before dispatch; reaching here is a bug in this file.
    panic!("IF step dispatched as an action")
}

/// Fills `{{field}}` placeholders (any condition field, or a bare product column).
pub fn fill_fields(t: &str, facts: &Facts<'_>) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(i) = rest.find("{{") {
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(j) = after.find("}}") else {
            out.push_str(&rest[i..]);
            rest = "";
            break;
        };
        let key = after[..j].trim();
        let full = if key.contains('.') {
            key.to_string()
        } else {
            format!("product.{key}")
        };
        out.push_str(&facts.get(&full).as_text());
        rest = &after[j + 2..];
    }
    out.push_str(rest);
    out
}

/// Placeholders accepted in export file names, besides `{product.<column>}`.
const NAME_FIELDS: [&str; 7] = [
    "sku", "stem", "channel", "index", "ext", "title", "category",
];

/// Expands an export name template. An empty `{sku}` becomes the photo's stem; the result is made
/// safe as a file name, and gets the format's extension if it has none.
pub fn expand_name(
    t: &str,
    file: &FileFacts,
    product: &Product,
    channel: Option<&str>,
    index: usize,
    format: Format,
) -> String {
    let mut out = String::new();
    let mut rest = t;
    while let Some(i) = rest.find('{') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else {
            out.push_str(&rest[i..]);
            rest = "";
            break;
        };
        let key = after[..j].trim().trim_start_matches("product.");
        let value = match key {
            "sku" if product.get("sku").trim().is_empty() => file.stem.clone(),
            "sku" => product.get("sku").trim().to_string(),
            "stem" => file.stem.clone(),
            "channel" => channel.unwrap_or("image").to_string(),
            "index" => index.to_string(),
            "ext" => format.extension().to_string(),
            other => slug(product.get(other)),
        };
        out.push_str(&value);
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    let mut name: String = out
        .chars()
        .map(|c| {
            if c.is_control() || "/\\:*?\"<>|".contains(c) {
                '-'
            } else {
                c
            }
        })
        .collect::<String>()
        .trim_matches(|c: char| c == '.' || c == '-' || c.is_whitespace())
        .to_string();
    if name.is_empty() {
        name = if file.stem.is_empty() {
            format!("photo-{index}")
        } else {
            file.stem.clone()
        };
    }
    let ext = format.extension();
    let lower = name.to_lowercase();
    let has_ext =
        lower.ends_with(&format!(".{ext}")) || (format == Format::Jpeg && lower.ends_with(".jpeg"));
    if !has_ext {
        name = format!("{name}.{ext}");
    }
    name
}

fn slug(s: &str) -> String {
    let s: String = s
        .chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

/// Problems with a file-name template.
pub fn validate_name_template(t: &str) -> Vec<String> {
    let mut out = Vec::new();
    if t.trim().is_empty() {
        out.push("give a file name, e.g. {sku}-{channel}.jpg".to_string());
    }
    let mut rest = t;
    while let Some(i) = rest.find('{') {
        let after = &rest[i + 1..];
        let Some(j) = after.find('}') else {
            out.push("a `{` has no matching `}`".into());
            break;
        };
        let key = after[..j].trim();
        if !NAME_FIELDS.contains(&key)
            && !(key.starts_with("product.") && crate::facts::field_kind(key).is_some())
        {
            out.push(format!("unknown name field `{{{key}}}`; use {{sku}}, {{stem}}, {{channel}}, {{index}}, {{ext}}, {{title}} or {{product.<column>}}"));
        }
        rest = &after[j + 1..];
    }
    out
}

/// Problems with an export step.
pub fn validate_export(e: &Export) -> Vec<Problem> {
    let mut p = Vec::new();
    if !(1..=100).contains(&e.quality) {
        p.push(Problem::new(
            "quality",
            format!("must be between 1 and 100 (got {})", e.quality),
        ));
    }
    if let Some(m) = e.max_bytes {
        if m < 1024 {
            p.push(Problem::new(
                "max_bytes",
                format!("must be at least 1024 bytes (got {m})"),
            ));
        }
    }
    for m in validate_name_template(&e.name) {
        p.push(Problem::new("name", m));
    }
    if ops::parse_hex_color(&e.matte).is_none() {
        p.push(Problem::new(
            "matte",
            format!("`{}` is not a colour; use #RRGGBB", e.matte),
        ));
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A segmenter that counts its inferences and cuts out the left half.
    struct Counting(std::sync::atomic::AtomicUsize);

    impl Segmenter for Counting {
        fn name(&self) -> &str {
            "counting"
        }
        fn segment(&self, img: &Raster) -> Result<Vec<u8>> {
            self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if img.get(0, 0)[0] == 13 {
                return Err(Error::op("the model failed"));
            }
            let (w, h) = img.dimensions();
            Ok((0..w * h)
                .map(|i| if i % w < w / 2 { 255 } else { 0 })
                .collect())
        }
    }

    /// The same pixels are segmented once; other pixels, or another size, run the model again;
    /// failures are not remembered; the oldest mask goes first.
    #[test]
    fn the_mask_cache_answers_repeated_pictures() {
        use std::sync::atomic::Ordering::Relaxed;
        let model = Counting(Default::default());
        let cache = MaskCache::default();
        let s = cache.with(&model);
        let a = Raster::new(8, 4, [200, 10, 10, 255]);
        let first = s.segment(&a).unwrap();
        assert_eq!(s.segment(&a.clone()).unwrap(), first);
        assert_eq!(
            model.0.load(Relaxed),
            1,
            "the second ask came from the cache"
        );
        let mut b = a.clone();
        b.put(7, 3, [200, 10, 11, 255]);
        s.segment(&b).unwrap();
        assert_eq!(
            model.0.load(Relaxed),
            2,
            "one changed pixel is another picture"
        );
        s.segment(&Raster::new(4, 8, [200, 10, 10, 255])).unwrap();
        assert_eq!(model.0.load(Relaxed), 3, "same bytes, another shape");
        let bad = Raster::new(2, 2, [13, 0, 0, 255]);
        assert!(s.segment(&bad).is_err());
        assert!(s.segment(&bad).is_err());
        assert_eq!(model.0.load(Relaxed), 5, "failures are asked again");
        assert_eq!(cache.len(), 3);
        for v in 0..MaskCache::CAPACITY as u8 {
            s.segment(&Raster::new(3, 3, [v, 99, 0, 255])).unwrap();
        }
        assert_eq!(cache.len(), MaskCache::CAPACITY);
        let before = model.0.load(Relaxed);
        s.segment(&a).unwrap();
        assert_eq!(
            model.0.load(Relaxed),
            before + 1,
            "the oldest mask was dropped"
        );
    }

    /// Two channel presets in a row each start from the same photo (the first one's crop must not
    /// change what the second sees), and each logs its preset steps with their own paths.
    /// A workflow that starts by shrinking the photo 2× or more reads the JPEG at a reduced
    /// size; the photo's facts keep its own size, the output has the size it always had, and
    /// its pixels are close to those of the full-size path (here forced by an `adjust` that
    /// changes nothing, placed first).
    #[test]
    fn a_first_resize_reads_the_jpeg_smaller_and_changes_nothing_else() {
        let steps = r#"{"type":"resize","width":280,"height":280,"fit":"pad"},
                       {"type":"export","format":"png"}"#;
        let small = Workflow::from_json(&format!(r#"{{"schema":1,"name":"s","steps":[{steps}]}}"#))
            .expect("workflow");
        let full = Workflow::from_json(&format!(
            r#"{{"schema":1,"name":"f","steps":[{{"type":"adjust"}},{steps}]}}"#
        ))
        .expect("workflow");
        let bytes = include_bytes!("../../../fixtures/photos/coffee.jpg").to_vec();
        let input = Input::new("coffee.jpg", bytes);
        let a = run_one(&small, &input, 1, &RunOptions::default());
        let b = run_one(&full, &input, 1, &RunOptions::default());
        assert!(
            a.error.is_none() && b.error.is_none(),
            "{:?} {:?}",
            a.error,
            b.error
        );
        let decode = |r: &PhotoReport| r.steps[0].message.clone().unwrap_or_default();
        assert_eq!(
            decode(&a),
            "600×400, read at 300×200 for the resize that follows"
        );
        assert_eq!(decode(&b), "600×400");
        for r in [&a, &b] {
            let f = r.facts.as_ref().unwrap();
            assert_eq!((f.width, f.height, f.megapixels), (600, 400, 0.24));
            assert_eq!((r.artifacts[0].width, r.artifacts[0].height), (280, 280));
        }
        let px = |r: &PhotoReport| {
            codec::decode("o.png", &r.artifacts[0].bytes, &Default::default())
                .unwrap()
                .image
        };
        let (pa, pb) = (px(&a), px(&b));
        let diff: u64 = pa
            .as_raw()
            .iter()
            .zip(pb.as_raw())
            .map(|(x, y)| x.abs_diff(*y) as u64)
            .sum();
        let mean = diff as f64 / pa.as_raw().len() as f64;
        assert!(
            mean < 1.5,
            "mean difference {mean:.2} from the full-size path"
        );
    }

    #[test]
    fn only_a_first_resize_that_shrinks_twice_or_more_reads_smaller() {
        let first = |json: &str| -> Action { serde_json::from_str(json).unwrap() };
        let pad = first(r#"{"type":"resize","width":2048,"height":2048,"fit":"pad"}"#);
        // sharp's examples: 4224×3168 → 2048 is a 2.06× shrink; 4000×3000 → 500 is 8×.
        assert_eq!(load_scale(Some(&pad), 4224, 3168), 2);
        assert_eq!(load_scale(Some(&pad), 4000, 3000), 1, "1.95×: full size");
        let small = first(r#"{"type":"resize","width":500}"#);
        assert_eq!(load_scale(Some(&small), 4000, 3000), 8);
        assert_eq!(load_scale(Some(&small), 3999, 3000), 4, "7.998×");
        let cover = first(r#"{"type":"resize","width":500,"height":500,"fit":"cover"}"#);
        assert_eq!(load_scale(Some(&cover), 4000, 3000), 1, "cover crops first");
        let other = first(r#"{"type":"adjust"}"#);
        assert_eq!(load_scale(Some(&other), 4000, 3000), 1);
        assert_eq!(load_scale(None, 4000, 3000), 1);
    }

    #[test]
    fn channels_start_from_the_same_photo_and_log_their_presets() {
        let wf = Workflow::from_json(
            r#"{"schema":1,"name":"two","steps":[
                {"type":"remove_background"},
                {"type":"channel","channel":"amazon_main"},
                {"type":"channel","channel":"instagram_square"}]}"#,
        )
        .expect("workflow");
        let bytes = include_bytes!("../../../fixtures/scenes/mug.jpg").to_vec();
        let r = run_one(
            &wf,
            &Input::new("mug.jpg", bytes),
            1,
            &RunOptions::default(),
        );
        assert!(r.error.is_none(), "{:?}", r.error);
        let paths: Vec<(&str, &str)> = r
            .steps
            .iter()
            .map(|s| (s.path.as_str(), s.step.as_str()))
            .collect();
        for want in [
            ("steps[1].preset[0]", "crop_to_subject"),
            ("steps[1].preset[1]", "background"),
            ("steps[1].preset[2]", "resize"),
            ("steps[1]", "channel"),
            ("steps[2].preset[0]", "crop_to_subject"),
            ("steps[2].preset[1]", "resize"),
        ] {
            assert!(paths.contains(&want), "{want:?} missing from {paths:?}");
        }
        let sizes: Vec<(u32, u32)> = r.artifacts.iter().map(|a| (a.width, a.height)).collect();
        assert_eq!(sizes, vec![(2000, 2000), (1080, 1080)]);
        assert!(r
            .artifacts
            .iter()
            .all(|a| a.compliance.as_ref().is_some_and(|c| c.pass)));
    }

    #[test]
    fn names_fall_back_to_the_stem_and_are_safe() {
        let file = FileFacts::new("IMG 1.HEIC.jpg", 1, None);
        let mut product = Product::default();
        assert_eq!(
            expand_name(
                "{sku}-{channel}.jpg",
                &file,
                &product,
                Some("amazon_main"),
                3,
                Format::Jpeg
            ),
            "IMG 1.HEIC-amazon_main.jpg"
        );
        product.set("sku", "R/1");
        product.set("title", "Silver Ring, 925!");
        assert_eq!(
            expand_name("{sku}_{title}", &file, &product, None, 3, Format::Png),
            "R-1_silver-ring-925.png"
        );
        assert_eq!(
            expand_name("{index}", &file, &product, None, 7, Format::Jpeg),
            "7.jpg"
        );
        assert_eq!(
            expand_name("../../etc/passwd", &file, &product, None, 1, Format::Jpeg),
            "etc-passwd.jpg"
        );
    }

    #[test]
    fn unique_names() {
        let mut seen = std::collections::HashSet::new();
        assert_eq!(unique_name("a.jpg", &mut seen), "a.jpg");
        assert_eq!(unique_name("A.jpg", &mut seen), "A-2.jpg");
        assert_eq!(unique_name("a.jpg", &mut seen), "a-3.jpg");
    }

    #[test]
    fn name_templates_are_checked() {
        assert!(validate_name_template("{sku}-{channel}.jpg").is_empty());
        assert!(validate_name_template("{product.color}.jpg").is_empty());
        assert_eq!(validate_name_template("{skew}.jpg").len(), 1);
        assert_eq!(validate_name_template("{sku.jpg").len(), 1);
    }
}
