//! A pool of web workers running the engine, one per core (`navigator.hardwareConcurrency`).
//!
//! Files wait in a queue; each idle worker takes the next one, whose bytes are read here and
//! transferred (not copied) to the worker. A worker that panics or dies fails only the photo it
//! held, and is replaced. Cancel drops the queue and replaces the busy workers (a running photo
//! cannot be interrupted any other way). Where workers cannot start (the worker script is not
//! served, as under the component tests), a build with the `engine` feature runs the engine here,
//! one photo at a time, yielding between photos; the app's own page (built without it, to stay
//! small) fails each photo saying the worker could not start.

use crate::browser::{describe, drop_later, yield_to_browser};
use crate::cutout_model::ModelNews;
use crate::worker::{Job, Reply};
use js_sys::{Array, ArrayBuffer};
use leptos::task::spawn_local;
use shotline_core::engine::PhotoReport;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{ErrorEvent, MessageEvent, Worker};

/// Where Trunk puts the worker's loader (`data-loader-shim` in index.html). Absolute, so pages
/// under `/s/...` find it too.
const WORKER_URL: &str = "/shotline-worker_loader.js";
/// More workers than this would hold too many decoded 12 MP frames at once (≈ 50 MB each).
const MAX_WORKERS: usize = 8;

/// One photo to process.
pub struct Task {
    /// The caller's id for this photo; every [`Update`] names it.
    pub id: u64,
    pub file: web_sys::File,
    /// 1-based position in its batch (`{index}` in names).
    pub index: usize,
    pub workflow_json: Rc<str>,
    pub product_json: String,
}

/// What happened to a task, or to the workers' cut-out model.
pub enum Update {
    Started(u64),
    /// A worker's news about the background-removal model (first batch that needs it).
    Model(ModelNews),
    Finished {
        id: u64,
        report: Box<PhotoReport>,
        /// CRC-32 of each artifact, in order (for the ZIP).
        crcs: Vec<u32>,
    },
}

/// How the pool runs photos.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// No batch yet: no worker started.
    Idle,
    Workers,
    /// Workers could not start; the engine runs on the page's thread.
    Inline,
}

#[derive(Clone)]
pub struct Pool(Rc<RefCell<Inner>>);

struct Inner {
    mode: Mode,
    size: usize,
    slots: Vec<Slot>,
    queue: VecDeque<Task>,
    inline_busy: bool,
    on_update: Rc<dyn Fn(Update, Mode)>,
}

struct Slot {
    worker: Worker,
    /// Bumped on every replacement: messages from a replaced worker are ignored.
    generation: u64,
    ready: bool,
    /// The task this worker holds (its id and file name).
    job: Option<(u64, String)>,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Closure<dyn Fn(ErrorEvent)>,
}

impl Pool {
    /// `on_update` hears of every task's start and end, with the mode that ran it.
    pub fn new(on_update: impl Fn(Update, Mode) + 'static) -> Pool {
        let cores = web_sys::window()
            .map(|w| w.navigator().hardware_concurrency() as usize)
            .unwrap_or(1);
        Pool(Rc::new(RefCell::new(Inner {
            mode: Mode::Idle,
            size: cores.clamp(1, MAX_WORKERS),
            slots: Vec::new(),
            queue: VecDeque::new(),
            inline_busy: false,
            on_update: Rc::new(on_update),
        })))
    }

    pub fn mode(&self) -> Mode {
        self.0.borrow().mode
    }

    /// How many photos run at once.
    pub fn size(&self) -> usize {
        let inner = self.0.borrow();
        if inner.mode == Mode::Inline {
            1
        } else {
            inner.size
        }
    }

    /// Queues tasks; they start as workers free up.
    pub fn submit(&self, tasks: Vec<Task>) {
        let start = {
            let mut inner = self.0.borrow_mut();
            inner.queue.extend(tasks);
            inner.mode == Mode::Idle
        };
        if start {
            self.start_workers();
        }
        self.pump();
    }

    /// Drops every queued task and replaces the workers that are busy. Returns nothing: the caller
    /// already knows which of its tasks have not finished, and no update comes for them.
    pub fn cancel(&self) {
        let busy: Vec<usize> = {
            let mut inner = self.0.borrow_mut();
            inner.queue.clear();
            inner
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.job.is_some())
                .map(|(i, _)| i)
                .collect()
        };
        for i in busy {
            self.replace(i);
        }
    }

    fn start_workers(&self) {
        let size = {
            let mut inner = self.0.borrow_mut();
            inner.mode = Mode::Workers;
            inner.size
        };
        for i in 0..size {
            match self.spawn(i, 0) {
                Ok(slot) => self.0.borrow_mut().slots.push(slot),
                Err(_) => {
                    self.go_inline();
                    return;
                }
            }
        }
    }

    fn spawn(&self, index: usize, generation: u64) -> Result<Slot, JsValue> {
        let worker = Worker::new(WORKER_URL)?;
        let weak = Rc::downgrade(&self.0);
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(pool) = upgrade(&weak) {
                pool.on_message(index, generation, ev.data());
            }
        });
        let weak = Rc::downgrade(&self.0);
        let on_error = Closure::<dyn Fn(ErrorEvent)>::new(move |ev: ErrorEvent| {
            // Handled here: the reason goes on the photo, not to the console as well.
            ev.prevent_default();
            if let Some(pool) = upgrade(&weak) {
                pool.on_error(index, generation, ev.message());
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        Ok(Slot {
            worker,
            generation,
            ready: false,
            job: None,
            _on_message: on_message,
            _on_error: on_error,
        })
    }

    /// Terminates worker `i` and starts a fresh one in its place.
    fn replace(&self, i: usize) {
        let generation = {
            let inner = self.0.borrow();
            let Some(slot) = inner.slots.get(i) else {
                return;
            };
            slot.worker.terminate();
            slot.generation + 1
        };
        match self.spawn(i, generation) {
            Ok(slot) => drop_later(std::mem::replace(&mut self.0.borrow_mut().slots[i], slot)),
            Err(_) => self.go_inline(),
        }
    }

    fn current(&self, i: usize, generation: u64) -> bool {
        self.0
            .borrow()
            .slots
            .get(i)
            .is_some_and(|s| s.generation == generation)
    }

    fn on_message(&self, i: usize, generation: u64, data: JsValue) {
        if !self.current(i, generation) {
            return;
        }
        if let Some(news) = ModelNews::from_js(&data) {
            self.emit(Update::Model(news));
            return;
        }
        match Reply::from_js(&data) {
            Some(Reply::Ready) => {
                self.0.borrow_mut().slots[i].ready = true;
                self.pump();
            }
            Some(Reply::Done { id, report, crcs }) => {
                self.0.borrow_mut().slots[i].job = None;
                self.emit(Update::Finished { id, report, crcs });
                self.pump();
            }
            Some(Reply::Panic(message)) => self.worker_died(i, &message),
            None => {}
        }
    }

    fn on_error(&self, i: usize, generation: u64, message: String) {
        if !self.current(i, generation) {
            return;
        }
        let ready = self.0.borrow().slots[i].ready;
        if ready {
            self.worker_died(i, &message);
        } else {
            // The worker never started (script missing, or wasm refused): use this thread.
            self.go_inline();
        }
    }

    /// Fails the photo worker `i` held, with the reason, and replaces the worker.
    fn worker_died(&self, i: usize, message: &str) {
        let job = self.0.borrow_mut().slots[i].job.take();
        self.replace(i);
        if let Some((id, name)) = job {
            let report = PhotoReport::failed(
                &name,
                format!("{name}: the engine stopped on this photo ({message}); the other photos carry on"),
            );
            self.emit(Update::Finished {
                id,
                report: Box::new(report),
                crcs: Vec::new(),
            });
        }
        self.pump();
    }

    fn go_inline(&self) {
        let orphans: Vec<(u64, String)> = {
            let mut inner = self.0.borrow_mut();
            inner.mode = Mode::Inline;
            let mut slots = std::mem::take(&mut inner.slots);
            let orphans = slots
                .iter_mut()
                .filter_map(|s| {
                    s.worker.terminate();
                    s.job.take()
                })
                .collect();
            drop_later(slots);
            orphans
        };
        for (id, name) in orphans {
            self.emit(Update::Finished {
                id,
                report: Box::new(PhotoReport::failed(
                    &name,
                    format!("{name}: the photo worker stopped"),
                )),
                crcs: Vec::new(),
            });
        }
        self.pump();
    }

    fn emit(&self, update: Update) {
        let (f, mode) = {
            let inner = self.0.borrow();
            (inner.on_update.clone(), inner.mode)
        };
        f(update, mode);
    }

    /// Hands queued tasks to idle workers (or to the inline runner).
    fn pump(&self) {
        loop {
            let next = {
                let mut inner = self.0.borrow_mut();
                let mode = inner.mode;
                match mode {
                    Mode::Idle => None,
                    Mode::Inline => {
                        let start = !inner.inline_busy && !inner.queue.is_empty();
                        inner.inline_busy |= start;
                        drop(inner);
                        if start {
                            self.run_inline();
                        }
                        return;
                    }
                    Mode::Workers => {
                        let free = inner.slots.iter().position(|s| s.ready && s.job.is_none());
                        match (free, inner.queue.is_empty()) {
                            (Some(i), false) => {
                                let task = inner.queue.pop_front();
                                task.map(|t| {
                                    inner.slots[i].job = Some((t.id, t.file.name()));
                                    (i, inner.slots[i].generation, t)
                                })
                            }
                            _ => None,
                        }
                    }
                }
            };
            let Some((i, generation, task)) = next else {
                return;
            };
            self.emit(Update::Started(task.id));
            let pool = self.clone();
            spawn_local(async move { pool.send(i, generation, task).await });
        }
    }

    async fn send(&self, i: usize, generation: u64, task: Task) {
        let name = task.file.name();
        let buffer = JsFuture::from(task.file.array_buffer()).await;
        if !self.current(i, generation) {
            return; // cancelled while reading
        }
        let buffer: ArrayBuffer = match buffer.map(JsCast::unchecked_into) {
            Ok(b) => b,
            Err(e) => {
                self.0.borrow_mut().slots[i].job = None;
                self.emit(Update::Finished {
                    id: task.id,
                    report: Box::new(unreadable(&name, &describe(e))),
                    crcs: Vec::new(),
                });
                self.pump();
                return;
            }
        };
        let job = Job {
            id: task.id,
            workflow_json: task.workflow_json.to_string(),
            name,
            bytes: buffer.clone(),
            index: task.index,
            product_json: task.product_json,
        };
        let worker = self.0.borrow().slots[i].worker.clone();
        if let Err(e) = worker.post_message_with_transfer(&job.to_js(), &Array::of1(&buffer)) {
            self.worker_died(i, &describe(e));
        }
    }

    /// The fallback: one photo at a time on this thread, yielding so the page can paint.
    fn run_inline(&self) {
        let pool = self.clone();
        spawn_local(async move {
            loop {
                let task = pool.0.borrow_mut().queue.pop_front();
                let Some(task) = task else { break };
                pool.emit(Update::Started(task.id));
                yield_to_browser().await;
                let report = run_here(&task).await;
                let crcs = report
                    .artifacts
                    .iter()
                    .map(|a| crate::zip::crc32(&a.bytes))
                    .collect();
                pool.emit(Update::Finished {
                    id: task.id,
                    report: Box::new(report),
                    crcs,
                });
            }
            pool.0.borrow_mut().inline_busy = false;
        });
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        for slot in &self.slots {
            slot.worker.terminate();
        }
    }
}

/// One photo on this thread (the `engine` feature's fallback).
#[cfg(feature = "engine")]
async fn run_here(task: &Task) -> PhotoReport {
    let name = task.file.name();
    match crate::browser::read_bytes(&task.file).await {
        Ok(bytes) => crate::worker::run_job(
            &task.workflow_json,
            &name,
            bytes,
            task.index,
            &task.product_json,
            // On the page's own thread there is no model: `auto` uses the colour key.
            None,
        ),
        Err(e) => unreadable(&name, &e),
    }
}

/// Without the engine on this thread, a photo can only be processed by a worker.
#[cfg(not(feature = "engine"))]
async fn run_here(task: &Task) -> PhotoReport {
    let name = task.file.name();
    PhotoReport::failed(
        &name,
        format!(
            "{name}: photos are processed in a background worker, which could not start in this \
             browser tab; reload the page and try again"
        ),
    )
}

/// A retired worker: stopped, and deaf, so a message or error event already on its way cannot
/// reach a handler that is gone.
impl Drop for Slot {
    fn drop(&mut self) {
        self.worker.set_onmessage(None);
        self.worker.set_onerror(None);
        self.worker.terminate();
    }
}

fn upgrade(weak: &Weak<RefCell<Inner>>) -> Option<Pool> {
    weak.upgrade().map(Pool)
}

pub fn unreadable(name: &str, reason: &str) -> PhotoReport {
    PhotoReport::failed(
        name,
        format!("{name}: the browser could not read the file ({reason})"),
    )
}
