//! The page's end of the live preview: one web worker (the engine's, see [`crate::worker`]) that
//! holds the preview photo and answers [`crate::previewing`] requests, so a slider drag never
//! blocks the page.
//!
//! Only the latest request of each kind matters: while one is with the worker, newer ones wait
//! in one slot per kind (load, show, check) and replace each other. A worker that panics fails the
//! request it held and is replaced; the photo is sent to the new one. Where the worker cannot start
//! (its script is not served, as under the component tests) a build with the `engine` feature
//! answers on this thread; the app's own page, built without the engine, says why there is no
//! preview.

use crate::browser::{describe, drop_later};
use crate::previewing::{Reply, Request};
use crate::worker::Reply as WorkerReply;
use std::cell::RefCell;
use std::rc::{Rc, Weak};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{ErrorEvent, MessageEvent, Worker};

/// Where Trunk puts the worker's loader (`data-loader-shim` in index.html).
const WORKER_URL: &str = "/shotline-worker_loader.js";

#[derive(Clone, Debug, PartialEq)]
enum Mode {
    /// No request yet: no worker started.
    Idle,
    Worker,
    /// The worker could not start; requests are answered on this thread (`engine` builds).
    #[cfg_attr(not(feature = "engine"), allow(dead_code))]
    Here,
    /// The worker could not start and this build has no engine: every request fails with this.
    #[cfg_attr(feature = "engine", allow(dead_code))]
    Unavailable(String),
}

#[derive(Clone)]
pub struct Previewer(Rc<RefCell<Inner>>);

struct Inner {
    mode: Mode,
    slot: Option<Slot>,
    generation: u64,
    /// The id of the request the worker (or this thread) is working on.
    in_flight: Option<u64>,
    /// Waiting requests: load, show, check (sent in that order).
    pending: [Option<Request>; 3],
    /// The last photo loaded (its request id, name and bytes), for a replacement worker.
    photo: Option<(u64, String, Vec<u8>)>,
    next_id: u64,
    on_reply: Rc<dyn Fn(Reply)>,
    #[cfg(feature = "engine")]
    here: crate::previewing::Previewing,
}

struct Slot {
    worker: Worker,
    ready: bool,
    _on_message: Closure<dyn Fn(MessageEvent)>,
    _on_error: Closure<dyn Fn(ErrorEvent)>,
}

fn slot_of(req: &Request) -> usize {
    match req {
        Request::Load { .. } => 0,
        Request::Show { .. } => 1,
        Request::Check { .. } => 2,
    }
}

impl Previewer {
    /// `on_reply` hears every answer, in the order they come.
    pub fn new(on_reply: impl Fn(Reply) + 'static) -> Previewer {
        Previewer(Rc::new(RefCell::new(Inner {
            mode: Mode::Idle,
            slot: None,
            generation: 0,
            in_flight: None,
            pending: [None, None, None],
            photo: None,
            next_id: 1,
            on_reply: Rc::new(on_reply),
            #[cfg(feature = "engine")]
            here: Default::default(),
        })))
    }

    /// A fresh request id.
    pub fn next_id(&self) -> u64 {
        let mut inner = self.0.borrow_mut();
        inner.next_id += 1;
        inner.next_id
    }

    /// Queues a request (replacing a waiting one of its kind) and sends what can be sent.
    pub fn request(&self, req: Request) {
        let start = {
            let mut inner = self.0.borrow_mut();
            if let Request::Load { id, name, bytes } = &req {
                inner.photo = Some((*id, name.clone(), bytes.clone()));
            }
            let i = slot_of(&req);
            inner.pending[i] = Some(req);
            inner.mode == Mode::Idle
        };
        if start {
            self.0.borrow_mut().mode = Mode::Worker;
            self.spawn();
        }
        self.pump();
    }

    fn spawn(&self) {
        let generation = {
            let mut inner = self.0.borrow_mut();
            if let Some(old) = inner.slot.take() {
                old.worker.terminate();
                drop_later(old);
            }
            inner.generation += 1;
            inner.in_flight = None;
            inner.generation
        };
        let worker = match Worker::new(WORKER_URL) {
            Ok(w) => w,
            Err(e) => return self.no_worker(describe(e)),
        };
        let weak = Rc::downgrade(&self.0);
        let on_message = Closure::<dyn Fn(MessageEvent)>::new(move |ev: MessageEvent| {
            if let Some(p) = upgrade(&weak) {
                p.on_message(generation, ev.data());
            }
        });
        let weak = Rc::downgrade(&self.0);
        let on_error = Closure::<dyn Fn(ErrorEvent)>::new(move |ev: ErrorEvent| {
            ev.prevent_default();
            if let Some(p) = upgrade(&weak) {
                p.on_error(generation, ev.message());
            }
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        self.0.borrow_mut().slot = Some(Slot {
            worker,
            ready: false,
            _on_message: on_message,
            _on_error: on_error,
        });
    }

    fn current(&self, generation: u64) -> bool {
        let inner = self.0.borrow();
        inner.generation == generation && inner.slot.is_some()
    }

    fn on_message(&self, generation: u64, data: JsValue) {
        if !self.current(generation) {
            return;
        }
        if let Some(reply) = Reply::from_js(&data) {
            if matches!(reply, Reply::Model(_)) {
                // News while the request in flight waits for the model.
                return self.emit(reply);
            }
            self.0.borrow_mut().in_flight = None;
            self.emit(reply);
            self.pump();
            return;
        }
        match WorkerReply::from_js(&data) {
            Some(WorkerReply::Ready) => {
                if let Some(slot) = self.0.borrow_mut().slot.as_mut() {
                    slot.ready = true;
                }
                self.pump();
            }
            Some(WorkerReply::Panic(message)) => self.died(&message),
            _ => {}
        }
    }

    fn on_error(&self, generation: u64, message: String) {
        if !self.current(generation) {
            return;
        }
        let ready = self.0.borrow().slot.as_ref().is_some_and(|s| s.ready);
        if ready {
            self.died(&message);
        } else {
            self.no_worker(message);
        }
    }

    /// The worker stopped mid-request: that request fails, a fresh worker gets the photo again.
    fn died(&self, message: &str) {
        let held = self.0.borrow_mut().in_flight.take();
        if let Some(id) = held {
            self.emit(Reply::Failed {
                id,
                message: format!("the preview engine stopped ({message})"),
            });
        }
        // Under its first id: the page already shows that photo, so the answer changes nothing
        // there (and asks for no new preview that could stop the engine again).
        let resend = {
            let inner = self.0.borrow();
            match (&inner.pending[0], inner.photo.clone()) {
                (None, Some((id, name, bytes))) => Some(Request::Load { id, name, bytes }),
                _ => None,
            }
        };
        if let Some(req) = resend {
            self.0.borrow_mut().pending[0] = Some(req);
        }
        self.spawn();
        self.pump();
    }

    /// The worker never started.
    fn no_worker(&self, reason: String) {
        {
            let mut inner = self.0.borrow_mut();
            if let Some(old) = inner.slot.take() {
                old.worker.terminate();
                drop_later(old);
            }
            inner.in_flight = None;
            inner.mode = if cfg!(feature = "engine") {
                Mode::Here
            } else {
                Mode::Unavailable(format!(
                    "the preview runs in a background worker, which could not start ({reason}); reload the page to try again"
                ))
            };
        }
        self.pump();
    }

    fn emit(&self, reply: Reply) {
        let f = self.0.borrow().on_reply.clone();
        f(reply);
    }

    /// Sends the next waiting request, if nothing is in flight.
    fn pump(&self) {
        loop {
            let (mode, req) = {
                let mut inner = self.0.borrow_mut();
                let ready = inner.slot.as_ref().is_some_and(|s| s.ready);
                if inner.in_flight.is_some() || (inner.mode == Mode::Worker && !ready) {
                    return;
                }
                let Some(req) = inner.pending.iter_mut().find_map(Option::take) else {
                    return;
                };
                inner.in_flight = Some(req.id());
                (inner.mode.clone(), req)
            };
            match mode {
                Mode::Worker => {
                    let worker = self.0.borrow().slot.as_ref().map(|s| s.worker.clone());
                    let (msg, transfer) = req.to_js();
                    match worker.map(|w| w.post_message_with_transfer(&msg, &transfer)) {
                        Some(Ok(())) => return,
                        Some(Err(e)) => return self.died(&describe(e)),
                        None => return,
                    }
                }
                Mode::Here => return self.answer_here(req),
                Mode::Unavailable(message) => {
                    self.0.borrow_mut().in_flight = None;
                    self.emit(Reply::Failed {
                        id: req.id(),
                        message,
                    });
                }
                Mode::Idle => return,
            }
        }
    }

    #[cfg(feature = "engine")]
    fn answer_here(&self, req: Request) {
        let me = self.clone();
        leptos::task::spawn_local(async move {
            crate::browser::yield_to_browser().await;
            let reply = me.0.borrow_mut().here.answer(req, None);
            me.0.borrow_mut().in_flight = None;
            me.emit(reply);
            me.pump();
        });
    }

    #[cfg(not(feature = "engine"))]
    fn answer_here(&self, req: Request) {
        self.0.borrow_mut().in_flight = None;
        self.emit(Reply::Failed {
            id: req.id(),
            message: "this build has no preview engine".into(),
        });
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(slot) = &self.slot {
            slot.worker.terminate();
        }
    }
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

fn upgrade(weak: &Weak<RefCell<Inner>>) -> Option<Previewer> {
    weak.upgrade().map(Previewer)
}
