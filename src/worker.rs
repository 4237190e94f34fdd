//! The engine inside a web worker (the `shotline-worker` binary), and the messages it exchanges
//! with the page's [`crate::pool`].
//!
//! ```text
//! page -> worker  [id, workflow JSON, file name, ArrayBuffer (transferred), index, product JSON]
//! worker -> page  ["ready"]                          once its wasm is loaded; earlier messages are lost
//!                 ["done", id, report JSON, [ArrayBuffer per artifact] (transferred), [crc32 per artifact]]
//!                 ["panic", message]                 just before the wasm instance aborts
//! ```
//! The same worker also answers the editor's preview requests ([`crate::previewing`]).
//!
//! Artifact bytes are not in the report JSON (`Artifact::bytes` is `serde(skip)`); they travel as
//! transferred buffers, in the order of the report's artifacts, so nothing large is copied twice.

use js_sys::{Array, ArrayBuffer, Uint8Array};
use shotline_core::engine::PhotoReport;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// What the page asks a worker to do.
pub struct Job {
    pub id: u64,
    pub workflow_json: String,
    pub name: String,
    pub bytes: ArrayBuffer,
    pub index: usize,
    pub product_json: String,
}

impl Job {
    pub fn to_js(&self) -> Array {
        let a = Array::new();
        a.push(&JsValue::from_f64(self.id as f64));
        a.push(&JsValue::from_str(&self.workflow_json));
        a.push(&JsValue::from_str(&self.name));
        a.push(&self.bytes);
        a.push(&JsValue::from_f64(self.index as f64));
        a.push(&JsValue::from_str(&self.product_json));
        a
    }

    pub fn from_js(v: &JsValue) -> Option<Job> {
        let a: &Array = v.dyn_ref()?;
        Some(Job {
            id: a.get(0).as_f64()? as u64,
            workflow_json: a.get(1).as_string()?,
            name: a.get(2).as_string()?,
            bytes: a.get(3).dyn_into().ok()?,
            index: a.get(4).as_f64()? as usize,
            product_json: a.get(5).as_string()?,
        })
    }
}

/// What a worker tells the page.
pub enum Reply {
    Ready,
    Done {
        id: u64,
        report: Box<PhotoReport>,
        crcs: Vec<u32>,
    },
    Panic(String),
}

impl Reply {
    /// Decodes a message from a worker. `None` for anything malformed (never from our worker).
    pub fn from_js(v: &JsValue) -> Option<Reply> {
        let a: &Array = v.dyn_ref()?;
        match a.get(0).as_string()?.as_str() {
            "ready" => Some(Reply::Ready),
            "panic" => Some(Reply::Panic(a.get(1).as_string().unwrap_or_default())),
            "done" => {
                let id = a.get(1).as_f64()? as u64;
                let mut report: PhotoReport = serde_json::from_str(&a.get(2).as_string()?).ok()?;
                let buffers: Array = a.get(3).dyn_into().ok()?;
                let crcs: Array = a.get(4).dyn_into().ok()?;
                for (i, art) in report.artifacts.iter_mut().enumerate() {
                    art.bytes = Uint8Array::new(&buffers.get(i as u32)).to_vec();
                }
                let crcs = crcs
                    .iter()
                    .map(|c| c.as_f64().unwrap_or(0.0) as u32)
                    .collect();
                Some(Reply::Done {
                    id,
                    report: Box::new(report),
                    crcs,
                })
            }
            _ => None,
        }
    }
}

#[cfg(feature = "engine")]
pub use engine_side::{main, run_job};

/// The worker's side: needs the engine, so only the worker binary (and the component tests, for
/// the page's fallbacks) is built with it.
#[cfg(feature = "engine")]
mod engine_side {
    use super::Job;
    use crate::zip::crc32;
    use js_sys::{Array, Uint8Array};
    use shotline_core::engine::{run_one, PhotoReport, RunOptions, Segmenter};
    use shotline_core::products::Product;
    use shotline_core::{Input, Workflow};
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

    /// Runs one job: what both the worker and the page's fallback (no workers) call.
    /// `segmenter`: the neural model for `remove_background` (or why it is missing), when the
    /// workflow wants it; `None` leaves `auto` to the colour key.
    pub fn run_job(
        workflow_json: &str,
        name: &str,
        bytes: Vec<u8>,
        index: usize,
        product_json: &str,
        segmenter: Option<&dyn Segmenter>,
    ) -> PhotoReport {
        let wf: Workflow = match serde_json::from_str(workflow_json) {
            Ok(wf) => wf,
            Err(e) => {
                return PhotoReport::failed(
                    name,
                    format!("{name}: the workflow could not be read ({e})"),
                )
            }
        };
        let mut input = Input::new(name, bytes);
        input.product = serde_json::from_str::<Product>(product_json).unwrap_or_default();
        let opts = RunOptions {
            segmenter,
            ..Default::default()
        };
        run_one(&wf, &input, index, &opts)
    }

    /// The worker's entry point: answers jobs until the page terminates it.
    pub fn main() {
        use crate::previewing::{self, Previewing};
        use std::cell::RefCell;
        let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
        // On wasm32 a panic aborts this instance. Say why first, so the page can fail the photo with a
        // reason and start a fresh worker.
        std::panic::set_hook(Box::new(|info| {
            let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
            let msg = Array::of2(&"panic".into(), &info.to_string().into());
            let _ = scope.post_message(&msg);
        }));
        let reply_to = scope.clone();
        let previews = std::rc::Rc::new(RefCell::new(Previewing::default()));
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
            let data = ev.data();
            if let Some(job) = Job::from_js(&data) {
                // The page sends a worker its next photo only after this one's answer, so jobs
                // never overlap, even while the first one waits for the model.
                let scope = reply_to.clone();
                wasm_bindgen_futures::spawn_local(async move { answer(&scope, job).await });
            } else if let Some(req) = previewing::Request::from_js(&data) {
                // The page sends the next preview request only after this one's answer.
                let (scope, previews) = (reply_to.clone(), previews.clone());
                wasm_bindgen_futures::spawn_local(async move {
                    let reply = preview(&scope, &previews, req).await;
                    let (msg, transfer) = reply.to_js();
                    let _ = scope.post_message_with_transfer(&msg, &transfer);
                });
            }
        });
        scope.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        let _ = scope.post_message(&Array::of1(&"ready".into()));
    }

    /// Answers a preview request. A cut-out in it that asks for the model (`neural`, or `auto` off
    /// a plain backdrop) waits for this worker to fetch it, as a run does; the page hears the
    /// progress, then the answer.
    async fn preview(
        scope: &DedicatedWorkerGlobalScope,
        previews: &std::cell::RefCell<crate::previewing::Previewing>,
        req: crate::previewing::Request,
    ) -> crate::previewing::Reply {
        use crate::cutout_model::{known, segmenter_for, Pending};
        use crate::previewing::Request;
        if let Some(model) = known() {
            return previews.borrow_mut().answer(req, Some(&*model));
        }
        let again = (!matches!(req, Request::Load { .. })).then(|| req.clone());
        let pending = Pending::default();
        let first = previews.borrow_mut().answer(req, Some(&pending));
        match again {
            Some(req) if pending.asked() => {
                let model = segmenter_for(scope).await;
                previews.borrow_mut().answer(req, Some(&*model))
            }
            _ => first,
        }
    }

    async fn answer(scope: &DedicatedWorkerGlobalScope, job: Job) {
        use crate::cutout_model::{known, segmenter_for, Pending};
        let wants_model = Workflow::from_json(&job.workflow_json)
            .map(|wf| wf.wants_segmenter())
            .unwrap_or(false);
        let bytes = Uint8Array::new(&job.bytes).to_vec();
        let run = |bytes, segmenter: Option<&dyn Segmenter>| {
            run_job(
                &job.workflow_json,
                &job.name,
                bytes,
                job.index,
                &job.product_json,
                segmenter,
            )
        };
        let mut report = match (wants_model, known()) {
            (false, _) => run(bytes, None),
            (true, Some(model)) => run(bytes, Some(&*model)),
            // The model is fetched only when a cut-out really asks for it; then this photo
            // runs again with it.
            (true, None) => {
                let pending = Pending::default();
                let first = run(bytes.clone(), Some(&pending));
                if pending.asked() {
                    let model = segmenter_for(scope).await;
                    run(bytes, Some(&*model))
                } else {
                    first
                }
            }
        };
        let buffers = Array::new();
        let crcs = Array::new();
        for art in &mut report.artifacts {
            let bytes = std::mem::take(&mut art.bytes);
            crcs.push(&JsValue::from_f64(crc32(&bytes) as f64));
            buffers.push(&Uint8Array::from(bytes.as_slice()).buffer());
        }
        let json = serde_json::to_string(&report).unwrap_or_default();
        let msg = Array::new();
        msg.push(&"done".into());
        msg.push(&JsValue::from_f64(job.id as f64));
        msg.push(&json.into());
        msg.push(&buffers);
        msg.push(&crcs);
        let _ = scope.post_message_with_transfer(&msg, &buffers);
    }
}
