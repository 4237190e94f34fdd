//! The editor's live preview, as messages: what the page asks (load a photo, show a step, run the
//! channel checks) and what comes back, and — with the `engine` feature — the side that does the
//! work, in the worker binary (or on the page under the component tests).
//!
//! ```text
//! page -> worker  ["load", id, file name, ArrayBuffer (transferred)]
//!                 ["show", id, workflow JSON, step path, product category, refine]
//!                 ["check", id, workflow JSON, product category]
//! worker -> page  ["loaded", id, picture]                    the photo's proxy (the "before")
//!                 ["shown", id, ms, taken ("" | "then" | "else"), [picture…], refined]
//!                 ["checked", id, badges JSON]
//!                 ["failed", id, message]
//! picture = [width, height, RGBA ArrayBuffer (transferred)]
//! ```
//! The worker keeps the last loaded photo, so a slider move sends only the workflow. A "show" works
//! on the 1024 px proxy; once changes settle the page asks again with `refine`, which renders the
//! same step at up to [`REFINE_SIDE`] px from the full photo, so fine detail (edges, text) is
//! judged on a sharp picture.

use crate::cutout_model::ModelNews;
use js_sys::{Array, ArrayBuffer, Uint8Array};
use serde::{Deserialize, Serialize};
use shotline_core::preview::Branch;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The longer side of the preview proxy, in pixels.
pub const PROXY_SIDE: u32 = 1024;
/// The longer side of a refined preview, in pixels (capped by the photo's own size).
pub const REFINE_SIDE: u32 = 2048;

/// An RGBA picture, row-major, no padding.
#[derive(Clone, Debug, PartialEq)]
pub struct Picture {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// One channel's verdict on the previewed photo.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Badge {
    pub channel: String,
    pub pass: bool,
    pub reasons: Vec<String>,
}

/// What the page asks.
#[derive(Clone, Debug)]
pub enum Request {
    Load {
        id: u64,
        name: String,
        bytes: Vec<u8>,
    },
    Show {
        id: u64,
        workflow_json: String,
        path: String,
        category: String,
        /// Render from the full photo (up to [`REFINE_SIDE`]) instead of the proxy.
        refine: bool,
    },
    Check {
        id: u64,
        workflow_json: String,
        category: String,
    },
}

/// What comes back.
#[derive(Clone, Debug)]
pub enum Reply {
    Loaded {
        id: u64,
        picture: Picture,
    },
    /// One picture for a plain step; THEN's and OTHERWISE's for an IF step (`taken` says which
    /// one this photo takes).
    Shown {
        id: u64,
        ms: f64,
        taken: Option<Branch>,
        pictures: Vec<Picture>,
        refined: bool,
    },
    Checked {
        id: u64,
        badges: Vec<Badge>,
    },
    Failed {
        id: u64,
        message: String,
    },
    /// How the background-removal model is coming along: a preview that needs it waits for the
    /// worker to fetch it (no request id; the request it holds is answered after).
    Model(ModelNews),
}

impl Request {
    pub fn id(&self) -> u64 {
        match self {
            Request::Load { id, .. } | Request::Show { id, .. } | Request::Check { id, .. } => *id,
        }
    }

    /// The message, and the buffers to transfer with it.
    pub fn to_js(&self) -> (Array, Array) {
        let a = Array::new();
        let transfer = Array::new();
        match self {
            Request::Load { id, name, bytes } => {
                let buf = Uint8Array::from(bytes.as_slice()).buffer();
                a.push(&"load".into());
                a.push(&JsValue::from_f64(*id as f64));
                a.push(&name.into());
                a.push(&buf);
                transfer.push(&buf);
            }
            Request::Show {
                id,
                workflow_json,
                path,
                category,
                refine,
            } => {
                a.push(&"show".into());
                a.push(&JsValue::from_f64(*id as f64));
                a.push(&workflow_json.into());
                a.push(&path.into());
                a.push(&category.into());
                a.push(&JsValue::from_bool(*refine));
            }
            Request::Check {
                id,
                workflow_json,
                category,
            } => {
                a.push(&"check".into());
                a.push(&JsValue::from_f64(*id as f64));
                a.push(&workflow_json.into());
                a.push(&category.into());
            }
        }
        (a, transfer)
    }

    /// `None` for anything that is not a preview request (a batch job, say).
    pub fn from_js(v: &JsValue) -> Option<Request> {
        let a: &Array = v.dyn_ref()?;
        let id = a.get(1).as_f64()? as u64;
        match a.get(0).as_string()?.as_str() {
            "load" => Some(Request::Load {
                id,
                name: a.get(2).as_string()?,
                bytes: Uint8Array::new(a.get(3).dyn_ref::<ArrayBuffer>()?).to_vec(),
            }),
            "show" => Some(Request::Show {
                id,
                workflow_json: a.get(2).as_string()?,
                path: a.get(3).as_string()?,
                category: a.get(4).as_string()?,
                refine: a.get(5).as_bool().unwrap_or(false),
            }),
            "check" => Some(Request::Check {
                id,
                workflow_json: a.get(2).as_string()?,
                category: a.get(3).as_string()?,
            }),
            _ => None,
        }
    }
}

fn picture_to_js(p: &Picture, transfer: &Array) -> Array {
    let buf = Uint8Array::from(p.rgba.as_slice()).buffer();
    transfer.push(&buf);
    Array::of3(
        &JsValue::from_f64(p.width as f64),
        &JsValue::from_f64(p.height as f64),
        &buf,
    )
}

fn picture_from_js(v: &JsValue) -> Option<Picture> {
    let a: &Array = v.dyn_ref()?;
    let width = a.get(0).as_f64()? as u32;
    let height = a.get(1).as_f64()? as u32;
    let buf = a.get(2);
    let rgba = Uint8Array::new(buf.dyn_ref::<ArrayBuffer>()?).to_vec();
    (rgba.len() == width as usize * height as usize * 4).then_some(Picture {
        width,
        height,
        rgba,
    })
}

impl Reply {
    pub fn id(&self) -> u64 {
        match self {
            Reply::Loaded { id, .. }
            | Reply::Shown { id, .. }
            | Reply::Checked { id, .. }
            | Reply::Failed { id, .. } => *id,
            Reply::Model(_) => 0,
        }
    }

    /// The message, and the buffers to transfer with it.
    pub fn to_js(&self) -> (Array, Array) {
        let a = Array::new();
        let transfer = Array::new();
        match self {
            Reply::Loaded { id, picture } => {
                a.push(&"loaded".into());
                a.push(&JsValue::from_f64(*id as f64));
                a.push(&picture_to_js(picture, &transfer));
            }
            Reply::Shown {
                id,
                ms,
                taken,
                pictures,
                refined,
            } => {
                a.push(&"shown".into());
                a.push(&JsValue::from_f64(*id as f64));
                a.push(&JsValue::from_f64(*ms));
                a.push(&taken.map_or("", Branch::key).into());
                let list = Array::new();
                for p in pictures {
                    list.push(&picture_to_js(p, &transfer));
                }
                a.push(&list);
                a.push(&JsValue::from_bool(*refined));
            }
            Reply::Checked { id, badges } => {
                a.push(&"checked".into());
                a.push(&JsValue::from_f64(*id as f64));
                a.push(&serde_json::to_string(badges).unwrap_or_default().into());
            }
            Reply::Failed { id, message } => {
                a.push(&"failed".into());
                a.push(&JsValue::from_f64(*id as f64));
                a.push(&message.into());
            }
            Reply::Model(news) => return (news.to_js(), transfer),
        }
        (a, transfer)
    }

    /// `None` for anything that is not a preview reply.
    pub fn from_js(v: &JsValue) -> Option<Reply> {
        let a: &Array = v.dyn_ref()?;
        let kind = a.get(0).as_string()?;
        if kind == "model" {
            return ModelNews::from_js(v).map(Reply::Model);
        }
        let id = a.get(1).as_f64()? as u64;
        match kind.as_str() {
            "loaded" => Some(Reply::Loaded {
                id,
                picture: picture_from_js(&a.get(2))?,
            }),
            "shown" => {
                let taken = match a.get(3).as_string()?.as_str() {
                    "then" => Some(Branch::Then),
                    "else" => Some(Branch::Else),
                    _ => None,
                };
                let list: Array = a.get(4).dyn_into().ok()?;
                let pictures = list
                    .iter()
                    .map(|p| picture_from_js(&p))
                    .collect::<Option<Vec<_>>>()?;
                Some(Reply::Shown {
                    id,
                    ms: a.get(2).as_f64()?,
                    taken,
                    pictures,
                    refined: a.get(5).as_bool().unwrap_or(false),
                })
            }
            "checked" => Some(Reply::Checked {
                id,
                badges: serde_json::from_str(&a.get(2).as_string()?).ok()?,
            }),
            "failed" => Some(Reply::Failed {
                id,
                message: a.get(2).as_string()?,
            }),
            _ => None,
        }
    }
}

#[cfg(feature = "engine")]
pub use engine_side::Previewing;

#[cfg(feature = "engine")]
mod engine_side {
    use super::{Badge, Picture, Reply, Request, PROXY_SIDE, REFINE_SIDE};
    use crate::describe;
    use shotline_core::codec::{self, Limits};
    use shotline_core::engine::{MaskCache, RunOptions, Segmenter};
    use shotline_core::facts::FileFacts;
    use shotline_core::model::{Format, Workflow};
    use shotline_core::preview::{self, Context, Preview, StepPath};
    use shotline_core::products::Product;
    use shotline_core::raster::Raster;
    use shotline_core::time::Instant;

    /// The photo being previewed.
    struct Photo {
        name: String,
        proxy: Raster,
        /// The photo at up to `REFINE_SIDE`, when that is larger than the proxy.
        sharp: Option<Raster>,
        /// The proxy as a JPEG, for the compliance run (the engine reads bytes).
        jpeg: Vec<u8>,
    }

    fn picture(r: &Raster) -> Picture {
        Picture {
            width: r.width(),
            height: r.height(),
            rgba: r.as_raw().to_vec(),
        }
    }

    fn product(category: &str) -> Product {
        let mut product = Product::default();
        if !category.trim().is_empty() {
            product.set("category", category.trim());
        }
        product
    }

    fn workflow(json: &str) -> Result<Workflow, String> {
        serde_json::from_str(json).map_err(|e| format!("the workflow could not be read ({e})"))
    }

    /// Answers preview requests; keeps the last loaded photo, and the model's masks of the last
    /// few pictures a cut-out saw, so a change after the cut-out previews without a new inference.
    #[derive(Default)]
    pub struct Previewing {
        photo: Option<Photo>,
        masks: MaskCache,
    }

    impl Previewing {
        /// `segmenter`: the neural model for `remove_background` steps, if the host has it (as
        /// in a run; without one `auto` uses the colour key and `neural` says it is missing).
        pub fn answer(&mut self, req: Request, segmenter: Option<&dyn Segmenter>) -> Reply {
            let cached = segmenter.map(|s| self.masks.with(s));
            let segmenter = cached.as_ref().map(|c| c as &dyn Segmenter);
            let id = req.id();
            let result = match req {
                Request::Load { name, bytes, .. } => self
                    .load(&name, &bytes)
                    .map(|picture| Reply::Loaded { id, picture }),
                Request::Show {
                    workflow_json,
                    path,
                    category,
                    refine,
                    ..
                } => self.show(id, &workflow_json, &path, &category, refine, segmenter),
                Request::Check {
                    workflow_json,
                    category,
                    ..
                } => self
                    .check(&workflow_json, &category, segmenter)
                    .map(|badges| Reply::Checked { id, badges }),
            };
            result.unwrap_or_else(|message| Reply::Failed { id, message })
        }

        fn load(&mut self, name: &str, bytes: &[u8]) -> Result<Picture, String> {
            let decoded =
                codec::decode(name, bytes, &Limits::default()).map_err(|e| e.to_string())?;
            let proxy = preview::proxy(&decoded.image, PROXY_SIDE).map_err(|e| e.to_string())?;
            let jpeg = codec::encode(&proxy, Format::Jpeg, 92, [255, 255, 255, 255])
                .map_err(|e| e.to_string())?;
            // An opaque proxy is shown as the compliance run decodes it, so both hand a cut-out
            // the same pixels and the run reuses the preview's mask instead of asking the model
            // again. (A transparent one keeps its alpha; JPEG would flatten it.)
            let proxy = if proxy.has_transparency() {
                proxy
            } else {
                codec::decode(name, &jpeg, &Limits::default())
                    .map_err(|e| e.to_string())?
                    .image
            };
            let before = picture(&proxy);
            let sharp = if decoded.image.width().max(decoded.image.height()) > PROXY_SIDE {
                Some(preview::proxy(&decoded.image, REFINE_SIDE).map_err(|e| e.to_string())?)
            } else {
                None
            };
            self.photo = Some(Photo {
                name: name.to_string(),
                proxy,
                sharp,
                jpeg,
            });
            Ok(before)
        }

        fn photo(&self) -> Result<&Photo, String> {
            self.photo
                .as_ref()
                .ok_or_else(|| "no photo is loaded for the preview yet".to_string())
        }

        fn show(
            &self,
            id: u64,
            workflow_json: &str,
            path: &str,
            category: &str,
            refine: bool,
            segmenter: Option<&dyn Segmenter>,
        ) -> Result<Reply, String> {
            let photo = self.photo()?;
            let wf = workflow(workflow_json)?;
            let path = StepPath::parse(path).ok_or_else(|| format!("no step at “{path}”"))?;
            let product = product(category);
            let file = FileFacts::new(&photo.name, photo.jpeg.len(), Some(Format::Jpeg));
            let ctx = Context {
                product: &product,
                file: &file,
                segmenter,
            };
            let (img, refined) = match (&photo.sharp, refine) {
                (Some(sharp), true) => (sharp, true),
                _ => (&photo.proxy, false),
            };
            let t = Instant::now();
            let result = preview::preview(&wf, img, &path, ctx).map_err(|e| e.to_string())?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            Ok(match result {
                Preview::Single(img) => Reply::Shown {
                    id,
                    ms,
                    taken: None,
                    pictures: vec![picture(&img)],
                    refined,
                },
                Preview::Branches {
                    then,
                    otherwise,
                    taken,
                } => Reply::Shown {
                    id,
                    ms,
                    taken: Some(taken),
                    pictures: vec![picture(&then), picture(&otherwise)],
                    refined,
                },
            })
        }

        /// The real engine on the proxy, with each channel's export and check.
        fn check(
            &self,
            workflow_json: &str,
            category: &str,
            segmenter: Option<&dyn Segmenter>,
        ) -> Result<Vec<Badge>, String> {
            let photo = self.photo()?;
            let wf = workflow(workflow_json)?;
            if !shotline_core::validate::validate(&wf).is_empty() {
                return Err("the workflow has problems to fix first".into());
            }
            let mut input = shotline_core::Input::new(photo.name.clone(), photo.jpeg.clone());
            input.product = product(category);
            let opts = RunOptions {
                segmenter,
                ..Default::default()
            };
            let report = shotline_core::run_one(&wf, &input, 1, &opts);
            Ok(report
                .artifacts
                .iter()
                .filter_map(|a| a.compliance.as_ref())
                .map(|c| Badge {
                    channel: describe::channel(c.channel).to_string(),
                    pass: c.pass,
                    reasons: c
                        .rules
                        .iter()
                        .filter(|r| !r.pass)
                        .map(|r| r.detail.clone())
                        .collect(),
                })
                .collect())
        }
    }
}
