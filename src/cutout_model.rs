//! The neural cut-out model in the browser: each engine worker fetches U²-Net-p (4.6 MB) the first
//! time a workflow needs it (a `remove_background` step with method `auto` or `neural`), tells the
//! page how far the download is, and keeps it for every photo after.
//!
//! ```text
//! worker -> page  ["model", "loading", bytes so far, total bytes (0 = unknown)]
//!                 ["model", "ready", milliseconds to fetch and load]
//!                 ["model", "failed", why]
//! ```
//! When the model cannot be had (not installed on the server, offline, corrupt), the steps that
//! need it fail with that reason and say to use `color_key`; every other step still runs.

use js_sys::Array;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// Where the server serves the model (`shotline serve`, `crates/server/src/web.rs`).
pub const MODEL_URL: &str = "/models/u2netp.onnx";

/// What a worker says about the model.
#[derive(Clone, Debug, PartialEq)]
pub enum ModelNews {
    Loading { loaded: u64, total: u64 },
    Ready { ms: u32 },
    Failed(String),
}

impl ModelNews {
    pub fn to_js(&self) -> Array {
        let a = Array::new();
        a.push(&"model".into());
        match self {
            ModelNews::Loading { loaded, total } => {
                a.push(&"loading".into());
                a.push(&JsValue::from_f64(*loaded as f64));
                a.push(&JsValue::from_f64(*total as f64));
            }
            ModelNews::Ready { ms } => {
                a.push(&"ready".into());
                a.push(&JsValue::from_f64(f64::from(*ms)));
            }
            ModelNews::Failed(why) => {
                a.push(&"failed".into());
                a.push(&JsValue::from_str(why));
            }
        }
        a
    }

    /// Decodes a worker's message; `None` if it is not about the model.
    pub fn from_js(v: &JsValue) -> Option<ModelNews> {
        let a: &Array = v.dyn_ref()?;
        if a.get(0).as_string()? != "model" {
            return None;
        }
        let num = |i| a.get(i).as_f64().filter(|n| n.is_finite() && *n >= 0.0);
        match a.get(1).as_string()?.as_str() {
            "loading" => Some(ModelNews::Loading {
                loaded: num(2)? as u64,
                total: num(3)? as u64,
            }),
            "ready" => Some(ModelNews::Ready { ms: num(2)? as u32 }),
            "failed" => Some(ModelNews::Failed(a.get(2).as_string()?)),
            _ => None,
        }
    }

    /// The line the Run screen shows.
    pub fn describe(&self) -> String {
        match self {
            // Downloaded; the worker is reading the network from the file.
            ModelNews::Loading { loaded, total } if *total > 0 && loaded >= total => format!(
                "Preparing the background-removal model ({} downloaded)",
                megabytes(*total)
            ),
            ModelNews::Loading { loaded, total } if *total > 0 => format!(
                "Loading the background-removal model: {} of {} ({}%)",
                megabytes(*loaded),
                megabytes(*total),
                (loaded * 100 / total).min(100)
            ),
            ModelNews::Loading { loaded, .. } => format!(
                "Loading the background-removal model: {}",
                megabytes(*loaded)
            ),
            ModelNews::Ready { ms } => format!(
                "Background-removal model ready (loaded in {:.1} s)",
                f64::from(*ms) / 1000.0
            ),
            ModelNews::Failed(why) => {
                let mut chars = why.chars();
                let first: String = chars
                    .next()
                    .map(|c| c.to_uppercase().collect())
                    .unwrap_or_default();
                format!(
                    "{first}{}. Steps that need it fail; the colour key (method \"color_key\") still works.",
                    chars.as_str()
                )
            }
        }
    }
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

#[cfg(feature = "engine")]
pub use worker_side::{known, segmenter_for, Pending, Unavailable};

/// The worker's side: the download, the model itself and what the engine gets.
#[cfg(feature = "engine")]
mod worker_side {
    use super::{ModelNews, MODEL_URL};
    use js_sys::{Reflect, Uint8Array};
    use shotline_core::engine::Segmenter;
    use shotline_core::raster::Raster;
    use shotline_cutout::Cutout;
    use std::cell::RefCell;
    use std::rc::Rc;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{Cache, DedicatedWorkerGlobalScope, ReadableStreamDefaultReader, Response};

    /// Where a worker keeps the downloaded model (Cache Storage, which outlives the page), so the
    /// other workers, the editor's preview and later visits read it from disk, not the network.
    /// Named after the start of the pinned model's SHA-256 (scripts/fetch-model.sh): another model
    /// gets another cache.
    const CACHE_NAME: &str = "shotline-model-u2netp-309c8469";

    /// Stands in for the model when it could not be loaded: every cut-out that needs it fails with
    /// the reason, so the photo's report says what went wrong and what to do.
    #[derive(Debug)]
    pub struct Unavailable(pub String);

    impl Segmenter for Unavailable {
        fn name(&self) -> &str {
            "u2netp (not loaded)"
        }
        fn segment(&self, _img: &Raster) -> shotline_core::Result<Vec<u8>> {
            Err(shotline_core::Error::op(format!(
                "remove_background: {}; use method \"color_key\", which works offline on plain backdrops",
                self.0
            )))
        }
    }

    /// Stands in for the model before this worker has it: notes that a cut-out asked for it (an
    /// `auto` cut-out on a plain backdrop never does), so the worker fetches the model and runs
    /// that photo again, and never fetches it for workflows that turn out not to need it.
    #[derive(Debug, Default)]
    pub struct Pending(std::sync::atomic::AtomicBool);

    impl Pending {
        pub fn asked(&self) -> bool {
            self.0.load(std::sync::atomic::Ordering::Relaxed)
        }
    }

    impl Segmenter for Pending {
        fn name(&self) -> &str {
            "u2netp (not loaded yet)"
        }
        fn segment(&self, _img: &Raster) -> shotline_core::Result<Vec<u8>> {
            self.0.store(true, std::sync::atomic::Ordering::Relaxed);
            Err(shotline_core::Error::op(
                "remove_background: the background-removal model is still loading",
            ))
        }
    }

    /// The model (or why it is missing) if this worker has tried to load it.
    pub fn known() -> Option<Rc<dyn Segmenter>> {
        MODEL.with(|m| {
            m.borrow().clone().map(|s| -> Rc<dyn Segmenter> {
                match s {
                    State::Ready(m) => m,
                    State::Failed(u) => u,
                }
            })
        })
    }

    #[derive(Clone)]
    enum State {
        Ready(Rc<Cutout>),
        Failed(Rc<Unavailable>),
    }

    thread_local! {
        static MODEL: RefCell<Option<State>> = const { RefCell::new(None) };
    }

    /// What the engine should use for a cut-out: the model, fetched and loaded on first use (the
    /// page hears of the progress), or the reason it is not there. A failed load is not retried
    /// in this worker: the page starts fresh workers for the next batch.
    pub async fn segmenter_for(scope: &DedicatedWorkerGlobalScope) -> Rc<dyn Segmenter> {
        let known = MODEL.with(|m| m.borrow().clone());
        let state = match known {
            Some(s) => s,
            None => {
                let state = match load(scope).await {
                    Ok(model) => State::Ready(Rc::new(model)),
                    Err(why) => {
                        tell(scope, &ModelNews::Failed(why.clone()));
                        State::Failed(Rc::new(Unavailable(why)))
                    }
                };
                MODEL.with(|m| *m.borrow_mut() = Some(state.clone()));
                state
            }
        };
        match state {
            State::Ready(m) => m,
            State::Failed(u) => u,
        }
    }

    fn tell(scope: &DedicatedWorkerGlobalScope, news: &ModelNews) {
        let _ = scope.post_message(&news.to_js());
    }

    async fn load(scope: &DedicatedWorkerGlobalScope) -> Result<Cutout, String> {
        let started = js_sys::Date::now();
        let cache = model_cache(scope).await;
        let kept = match &cache {
            Some(c) => cached(c).await,
            None => None,
        };
        let model = match kept.map(|bytes| Cutout::from_bytes(&bytes)) {
            Some(Ok(model)) => model,
            // Nothing kept, or a copy that does not load (cut short, say): the network's.
            kept => {
                if let (Some(c), Some(_)) = (&cache, kept) {
                    let _ = JsFuture::from(c.delete_with_str(MODEL_URL)).await;
                }
                let bytes = download(scope).await?;
                let model = Cutout::from_bytes(&bytes).map_err(|e| {
                    format!("the background-removal model at {MODEL_URL} is not usable ({e})")
                })?;
                if let Some(c) = &cache {
                    keep(c, &bytes).await;
                }
                model
            }
        };
        let ms = (js_sys::Date::now() - started).max(0.0) as u32;
        tell(scope, &ModelNews::Ready { ms });
        Ok(model)
    }

    /// The model's cache; `None` where there is no Cache Storage (a page served over plain HTTP
    /// from another machine is not a secure context), and the model comes from the network.
    async fn model_cache(scope: &DedicatedWorkerGlobalScope) -> Option<Cache> {
        let storage = scope.caches().ok()?;
        JsFuture::from(storage.open(CACHE_NAME))
            .await
            .ok()?
            .dyn_into()
            .ok()
    }

    async fn cached(cache: &Cache) -> Option<Vec<u8>> {
        let hit = JsFuture::from(cache.match_with_str(MODEL_URL)).await.ok()?;
        let resp: Response = hit.dyn_into().ok()?;
        let buf = JsFuture::from(resp.array_buffer().ok()?).await.ok()?;
        Some(Uint8Array::new(&buf).to_vec())
    }

    /// Keeps a model that loaded; a full disk only means the next visit downloads it again.
    async fn keep(cache: &Cache, bytes: &[u8]) {
        let body = Uint8Array::from(bytes);
        if let Ok(resp) = Response::new_with_opt_buffer_source(Some(&body)) {
            let _ = JsFuture::from(cache.put_with_str(MODEL_URL, &resp)).await;
        }
    }

    /// Fetches the model, reporting progress at most every 2 % of it.
    async fn download(scope: &DedicatedWorkerGlobalScope) -> Result<Vec<u8>, String> {
        let cannot = |why: String| {
            format!("the background-removal model could not be loaded from {MODEL_URL} ({why})")
        };
        let js = crate::browser::describe;
        let resp: Response = JsFuture::from(scope.fetch_with_str(MODEL_URL))
            .await
            .map_err(|e| cannot(js(e)))?
            .dyn_into()
            .map_err(|_| cannot("no response".into()))?;
        if !resp.ok() {
            let why = if resp.status() == 404 {
                "HTTP 404: it is not installed on this server; scripts/fetch-model.sh installs it"
                    .to_string()
            } else {
                format!("HTTP {}", resp.status())
            };
            return Err(cannot(why));
        }
        let total: u64 = resp
            .headers()
            .get("content-length")
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let Some(body) = resp.body() else {
            return Err(cannot("the response has no body".into()));
        };
        let reader: ReadableStreamDefaultReader = body
            .get_reader()
            .dyn_into()
            .map_err(|_| cannot("the download cannot be read".into()))?;
        let mut bytes = Vec::with_capacity(total as usize);
        let step = (total / 50).max(64 * 1024);
        let mut told = 0u64;
        tell(scope, &ModelNews::Loading { loaded: 0, total });
        loop {
            let chunk = JsFuture::from(reader.read())
                .await
                .map_err(|e| cannot(js(e)))?;
            let done = Reflect::get(&chunk, &"done".into())
                .ok()
                .and_then(|d| d.as_bool())
                .unwrap_or(true);
            if done {
                break;
            }
            let value = Reflect::get(&chunk, &"value".into()).map_err(|e| cannot(js(e)))?;
            let part: Uint8Array = value
                .dyn_into()
                .map_err(|_| cannot("the download sent something that is not bytes".into()))?;
            bytes.extend_from_slice(&part.to_vec());
            let loaded = bytes.len() as u64;
            if loaded - told >= step {
                told = loaded;
                tell(scope, &ModelNews::Loading { loaded, total });
            }
        }
        let loaded = bytes.len() as u64;
        tell(scope, &ModelNews::Loading { loaded, total });
        if total > 0 && loaded != total {
            return Err(cannot(format!(
                "the download stopped at {loaded} of {total} bytes"
            )));
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::ModelNews;

    #[test]
    fn progress_reads_as_megabytes_and_percent() {
        let n = ModelNews::Loading {
            loaded: 2_300_000,
            total: 4_574_861,
        };
        assert_eq!(
            n.describe(),
            "Loading the background-removal model: 2.3 MB of 4.6 MB (50%)"
        );
        let n = ModelNews::Loading {
            loaded: 4_574_861,
            total: 4_574_861,
        };
        assert_eq!(
            n.describe(),
            "Preparing the background-removal model (4.6 MB downloaded)"
        );
        let n = ModelNews::Ready { ms: 1234 };
        assert_eq!(
            n.describe(),
            "Background-removal model ready (loaded in 1.2 s)"
        );
        let n = ModelNews::Failed("the model could not be loaded (HTTP 404)".into());
        assert!(n
            .describe()
            .starts_with("The model could not be loaded (HTTP 404). "));
        assert!(n.describe().contains("color_key"));
    }
}
