//! The editor's live preview: a sample photo (bundled, or the merchant's own), shown before and
//! after the selected step with a draggable split; for an IF step, both branches side by side;
//! and each channel's compliance badge.
//!
//! Work happens in the engine's web worker ([`crate::previewer`]) on a proxy of the photo (longer
//! side ≤ 1024 px, [`crate::previewing::PROXY_SIDE`]), a short moment after the last change; only
//! the latest request runs, so a slider drag redraws as fast as the engine allows and the page
//! never waits for it. Once changes settle, the same step is rendered again from the full photo
//! (up to [`crate::previewing::REFINE_SIDE`] px) and replaces the proxy's picture. The compliance run (the real engine on the proxy, with each channel's
//! export and check) follows once changes have settled.

use crate::components::flow_editor::Editing;
use crate::components::model_line::ModelLine;
use crate::cutout_model::ModelNews;
use crate::editing;
use crate::previewer::Previewer;
use crate::previewing::{Badge, Picture, Reply, Request};
use leptos::prelude::*;
use shotline_core::preview::{self, Branch, ListPath, StepPath};
use std::sync::Arc;
use std::time::Duration;
use wasm_bindgen::{Clamped, JsCast};

/// The bundled sample photos (public/samples/), as `(file, name)`.
const SAMPLES: &[(&str, &str)] = &[
    ("mug.jpg", "Mug"),
    ("ring.jpg", "Ring"),
    ("shoe.jpg", "Shoe"),
];

fn draw(canvas: Option<web_sys::HtmlCanvasElement>, img: &Picture) {
    let Some(canvas) = canvas else { return };
    canvas.set_width(img.width);
    canvas.set_height(img.height);
    let ctx = canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<web_sys::CanvasRenderingContext2d>().ok());
    let data = web_sys::ImageData::new_with_u8_clamped_array_and_sh(
        Clamped(&img.rgba),
        img.width,
        img.height,
    );
    if let (Some(ctx), Ok(data)) = (ctx, data) {
        let _ = ctx.put_image_data(&data, 0.0, 0.0);
    }
}

/// A cheap fingerprint of a picture, so tests can tell that the preview changed.
fn fingerprint(img: &Picture) -> u64 {
    let stride = (img.rgba.len() / 4096).max(1);
    img.rgba
        .iter()
        .step_by(stride)
        .fold(img.width as u64 * 31 + img.height as u64, |h, b| {
            h.wrapping_mul(1_099_511_628_211).wrapping_add(*b as u64)
        })
}

fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// The ids of the latest request of each kind, and when the latest "show" was asked.
#[derive(Default, Clone, Copy)]
struct Latest {
    load: u64,
    /// The load whose photo is shown (a replacement worker gets it again under the same id).
    shown_load: u64,
    show: u64,
    show_at: f64,
    /// The refine of the latest show, if one was asked.
    refine: u64,
    check: u64,
}

/// How long changes must rest before the preview is refined from the full photo.
const REFINE_AFTER: Duration = Duration::from_millis(350);

#[component]
pub fn PreviewPanel() -> impl IntoView {
    let ed = Editing::expect();
    // The photo's proxy: the "before" picture.
    let source = RwSignal::new(None::<Arc<Picture>>);
    let status = RwSignal::new(String::from("Loading the sample photo…"));
    let sample = RwSignal::new(SAMPLES[0].0.to_string());
    let category = RwSignal::new(String::new());
    let split = RwSignal::new(50.0_f64);
    let ms = RwSignal::new(None::<f64>);
    let version = RwSignal::new(0_u64);
    let hash = RwSignal::new(0_u64);
    let mode = RwSignal::new("empty");
    let taken = RwSignal::new(None::<Branch>);
    let error = RwSignal::new(None::<String>);
    let badges = RwSignal::new(None::<Vec<Badge>>);
    let check_note = RwSignal::new(None::<String>);
    // The background-removal model, while a preview waits for the worker to fetch it.
    let model = RwSignal::new(None::<ModelNews>);
    let before = NodeRef::<leptos::html::Canvas>::new();
    let after = NodeRef::<leptos::html::Canvas>::new();
    let then_c = NodeRef::<leptos::html::Canvas>::new();
    let else_c = NodeRef::<leptos::html::Canvas>::new();
    let generation = StoredValue::new(0_u64);
    let latest = StoredValue::new(Latest::default());
    let aspect = RwSignal::new(1.0_f64);
    let refined = RwSignal::new(false);
    // Set below, once the previewer exists: asks for the refine of show `id`.
    let refine_later = StoredValue::new_local(None::<std::rc::Rc<dyn Fn(u64)>>);

    let on_reply = move |reply: Reply| match reply {
        Reply::Loaded { id, picture } => {
            let l = latest.get_value();
            if id >= l.load && id != l.shown_load {
                latest.update_value(|l| l.shown_load = id);
                source.set(Some(Arc::new(picture)));
                status.set(String::new());
            }
        }
        Reply::Shown {
            id,
            ms: engine_ms,
            taken: t,
            pictures,
            refined: sharp,
        } => {
            let Latest {
                show,
                show_at,
                refine,
                ..
            } = latest.get_value();
            if id == refine && refine != 0 {
                // The same step from the full photo: only the pictures change.
                let mut pictures = pictures.into_iter().map(Arc::new);
                match (t, pictures.next(), pictures.next()) {
                    (None, Some(img), _) => draw(after.get_untracked(), &img),
                    (Some(_), Some(a), Some(b)) => {
                        draw(then_c.get_untracked(), &a);
                        draw(else_c.get_untracked(), &b);
                    }
                    _ => {}
                }
                refined.set(sharp);
                return;
            }
            if id != show {
                return;
            }
            refined.set(false);
            if let Some(f) = refine_later.get_value() {
                f(id);
            }
            let took = now_ms() - show_at;
            let mut pictures = pictures.into_iter().map(Arc::new);
            match (t, pictures.next(), pictures.next()) {
                (None, Some(img), _) => {
                    aspect.set(img.width as f64 / img.height.max(1) as f64);
                    mode.set("single");
                    taken.set(None);
                    hash.set(fingerprint(&img));
                    // The canvas exists once the mode has rendered it.
                    draw(after.get_untracked(), &img);
                    let src = source.get_untracked();
                    request_animation_frame(move || {
                        if let Some(src) = src {
                            draw(before.get_untracked(), &src);
                        }
                        draw(after.get_untracked(), &img);
                    });
                }
                (Some(t), Some(a), Some(b)) => {
                    mode.set("branches");
                    taken.set(Some(t));
                    hash.set(fingerprint(&a) ^ fingerprint(&b).rotate_left(1));
                    draw(then_c.get_untracked(), &a);
                    draw(else_c.get_untracked(), &b);
                    request_animation_frame(move || {
                        draw(then_c.get_untracked(), &a);
                        draw(else_c.get_untracked(), &b);
                    });
                }
                _ => {}
            }
            error.set(None);
            ms.set(Some(took));
            version.update(|v| *v += 1);
            leptos::logging::log!(
                "shotline preview: {took:.1} ms on the page ({engine_ms:.1} ms in the engine)"
            );
        }
        Reply::Checked { id, badges: list } => {
            if id == latest.with_value(|l| l.check) {
                check_note.set(None);
                badges.set(Some(list));
            }
        }
        Reply::Model(news) => match news {
            ModelNews::Ready { .. } => model.set(None),
            news => model.set(Some(news)),
        },
        Reply::Failed { id, message } => {
            let l = latest.get_value();
            if id == l.refine && l.refine != 0 {
                // The proxy's picture stays; a refine that fails is not worth a message.
            } else if id == l.show {
                error.set(Some(message));
                ms.set(None);
                version.update(|v| *v += 1);
            } else if id == l.check {
                check_note.set(Some(message));
            } else if id >= l.load {
                status.set(format!("This photo could not be shown: {message}"));
            }
        }
    };
    let previewer = StoredValue::new_local(Previewer::new(on_reply));

    let load = move |name: String, bytes: Vec<u8>| {
        previewer.with_value(|p| {
            let id = p.next_id();
            latest.update_value(|l| l.load = id);
            p.request(Request::Load { id, name, bytes });
        });
    };

    let fetch_sample = move |file: String| {
        status.set("Loading the sample photo…".into());
        leptos::task::spawn_local(async move {
            let url = format!("/samples/{file}");
            let bytes = match gloo_net::http::Request::get(&url).send().await {
                Ok(r) if r.ok() => r.binary().await.map_err(|e| e.to_string()),
                Ok(r) => Err(format!("the sample could not be loaded ({})", r.status())),
                Err(e) => Err(e.to_string()),
            };
            match bytes {
                Ok(b) => load(file, b),
                Err(e) => status.set(format!("The sample photo could not be shown: {e}")),
            }
        });
    };
    fetch_sample(SAMPLES[0].0.to_string());

    let on_file = move |ev: web_sys::Event| {
        let input: web_sys::HtmlInputElement = event_target(&ev);
        let Some(file) = input.files().and_then(|f| f.get(0)) else {
            return;
        };
        status.set("Reading your photo…".into());
        leptos::task::spawn_local(async move {
            let name = file.name();
            match crate::browser::read_bytes(&file).await {
                Ok(b) => load(name, b),
                Err(e) => status.set(format!("This photo could not be read: {e}")),
            }
        });
    };

    // Which step the preview shows: the selected one, else the last top-level step.
    let target = Memo::new(move |_| {
        ed.selected.get().or_else(|| {
            ed.wf
                .with(|w| w.steps.len().checked_sub(1).map(|i| ListPath::root().at(i)))
        })
    });

    let workflow_json = move || serde_json::to_string(&ed.wf.get_untracked()).unwrap_or_default();

    // Asks for the selected step: on the proxy, or (`refine`) from the full photo.
    let ask_show = move |path: StepPath, refine: bool| {
        previewer.with_value(|p| {
            let id = p.next_id();
            latest.update_value(|l| {
                if refine {
                    l.refine = id;
                } else {
                    l.show = id;
                    l.show_at = now_ms();
                    l.refine = 0;
                }
            });
            p.request(Request::Show {
                id,
                workflow_json: workflow_json(),
                path: path.to_string(),
                category: category.get_untracked(),
                refine,
            });
        });
    };

    let compute = move || {
        let Some(src) = source.get_untracked() else {
            return;
        };
        draw(before.get_untracked(), &src);
        match target.get_untracked() {
            Some(path) => ask_show(path, false),
            None => mode.set("empty"),
        }
    };

    // After show `shown` has come back, and if nothing newer was asked meanwhile, the same step
    // again from the full photo.
    refine_later.set_value(Some(std::rc::Rc::new(move |shown: u64| {
        set_timeout(
            move || {
                if latest.with_value(|l| l.show) == shown {
                    if let Some(path) = target.get_untracked() {
                        ask_show(path, true);
                    }
                }
            },
            REFINE_AFTER,
        );
    })));

    let check = move || {
        if source.with_untracked(Option::is_none) {
            return;
        }
        if !shotline_core::validate::validate(&ed.wf.get_untracked()).is_empty() {
            return;
        }
        previewer.with_value(|p| {
            let id = p.next_id();
            latest.update_value(|l| l.check = id);
            p.request(Request::Check {
                id,
                workflow_json: workflow_json(),
                category: category.get_untracked(),
            });
        });
    };

    // Recompute a moment after anything the preview depends on changes; only the latest
    // request runs.
    Effect::new(move |_| {
        ed.wf.track();
        target.track();
        source.track();
        category.track();
        let g = generation.with_value(|g| g + 1);
        generation.set_value(g);
        set_timeout(
            move || {
                if generation.get_value() == g {
                    compute();
                    set_timeout(
                        move || {
                            if generation.get_value() == g {
                                check();
                            }
                        },
                        Duration::from_millis(500),
                    );
                }
            },
            Duration::from_millis(30),
        );
    });

    let split_from_pointer = move |ev: &web_sys::PointerEvent| {
        let Some(el) = ev
            .current_target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
        else {
            return;
        };
        let rect = el.get_bounding_client_rect();
        if rect.width() > 0.0 {
            split.set(
                ((ev.client_x() as f64 - rect.left()) / rect.width() * 100.0).clamp(0.0, 100.0),
            );
        }
    };
    let dragging = RwSignal::new(false);

    let step_name = move || {
        target.get().and_then(|p: StepPath| {
            ed.wf.with(|w| {
                preview::step_at(&w.steps, &p)
                    .map(|s| editing::kind_name(s.action.kind()).to_string())
            })
        })
    };
    let sample_options = SAMPLES
        .iter()
        .map(|(f, n)| view! { <option value=*f>{*n}</option> })
        .collect_view();

    view! {
        <div class="preview" data-testid="preview"
            data-mode=move || mode.get()
            data-version=move || version.get().to_string()
            data-hash=move || hash.get().to_string()
            data-ms=move || ms.get().map(|m| format!("{m:.1}")).unwrap_or_default()
            data-refined=move || refined.get().to_string()>
            <div class="preview-head">
                <h3>"Live preview"</h3>
                <span class="subdued preview-time" data-testid="preview-time">
                    {move || ms.get().map(|m| format!("{m:.0} ms"))}
                    {move || refined.get().then_some(" · full detail")}
                </span>
            </div>
            <div class="preview-controls">
                <div class="field">
                    <label class="label" for="preview-sample">"Sample photo"</label>
                    <select id="preview-sample" class="input" data-testid="preview-sample"
                        prop:value=move || sample.get()
                        on:change=move |ev| { let f = event_target_value(&ev); sample.set(f.clone()); fetch_sample(f) }>
                        {sample_options}
                    </select>
                </div>
                <div class="field">
                    <label class="label" for="preview-own">"Or your own photo"</label>
                    <input id="preview-own" type="file" class="input" accept="image/jpeg,image/png,image/webp"
                        data-testid="preview-file" on:change=on_file/>
                </div>
                <div class="field">
                    <label class="label" for="preview-category">"Product category (for rules)"</label>
                    <input id="preview-category" class="input" placeholder="e.g. Rings" data-testid="preview-category"
                        prop:value=move || category.get() on:input=move |ev| category.set(event_target_value(&ev))/>
                </div>
            </div>
            {move || (!status.get().is_empty()).then(|| view! { <p class="subdued" role="status">{status.get()}</p> })}
            {move || model.get().map(|news| view! { <ModelLine news=news/> })}
            {move || error.get().map(|e| view! { <p class="error" role="alert" data-testid="preview-error">{format!("This step cannot be previewed: {e}")}</p> })}
            <p class="preview-caption">
                {move || match step_name() {
                    Some(n) if ed.selected.with(Option::is_some) => format!("After “{n}”"),
                    Some(_) => "After all steps (select a step to see it alone)".to_string(),
                    None => "Add a step to see what it does.".to_string(),
                }}
            </p>
            <Show when=move || mode.get() != "branches">
                <div class="split" data-testid="preview-split"
                    style=move || format!("aspect-ratio: {:.4}", aspect.get())
                    on:pointerdown=move |ev: web_sys::PointerEvent| {
                        dragging.set(true);
                        if let Some(el) = ev.current_target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) {
                            let _ = el.set_pointer_capture(ev.pointer_id());
                        }
                        split_from_pointer(&ev)
                    }
                    on:pointermove=move |ev: web_sys::PointerEvent| { if dragging.get_untracked() { split_from_pointer(&ev) } }
                    on:pointerup=move |_| dragging.set(false)>
                    <canvas class="before" node_ref=before aria-label="The photo before" role="img"></canvas>
                    <canvas class="after" node_ref=after aria-label="The photo after" role="img" data-testid="preview-after"
                        style=move || format!("clip-path: inset(0 0 0 {:.2}%)", split.get())></canvas>
                    <div class="split-line" aria-hidden="true" style=move || format!("left: {:.2}%", split.get())>
                        <span class="split-knob">"⇔"</span>
                    </div>
                    <span class="split-tag left" aria-hidden="true">"Before"</span>
                    <span class="split-tag right" aria-hidden="true">"After"</span>
                </div>
                <label class="sr-only" for="split-range">"Before / after split"</label>
                <input id="split-range" class="split-range" type="range" min="0" max="100" step="1"
                    data-testid="preview-split-range"
                    prop:value=move || split.get().round().to_string()
                    on:input=move |ev| { if let Ok(v) = event_target_value(&ev).parse::<f64>() { split.set(v) } }/>
            </Show>
            <Show when=move || mode.get() == "branches">
                <div class="branch-previews" data-testid="preview-branches">
                    <figure class:taken=move || taken.get() == Some(Branch::Then)>
                        <canvas node_ref=then_c role="img" aria-label="The photo after THEN" data-testid="preview-then"></canvas>
                        <figcaption>"Then" {move || (taken.get() == Some(Branch::Then)).then_some(" · this photo")}</figcaption>
                    </figure>
                    <figure class:taken=move || taken.get() == Some(Branch::Else)>
                        <canvas node_ref=else_c role="img" aria-label="The photo after OTHERWISE" data-testid="preview-else"></canvas>
                        <figcaption>"Otherwise" {move || (taken.get() == Some(Branch::Else)).then_some(" · this photo")}</figcaption>
                    </figure>
                </div>
            </Show>
            <div class="compliance" data-testid="compliance">
                <h4>"Marketplace checks"</h4>
                {move || match badges.get() {
                    None => view! { <p class="subdued">{move || check_note.get().map_or_else(|| "Checking…".to_string(), |n| format!("The checks could not run: {n}"))}</p> }.into_any(),
                    Some(list) if list.is_empty() => view! {
                        <p class="subdued">"No channel checks in this workflow. Add a Channels step to see them."</p>
                    }.into_any(),
                    Some(list) => list.into_iter().map(|b| {
                        let reasons = b.reasons.join("; ");
                        view! {
                            <div class="compliance-row" data-testid="compliance-badge" data-pass=if b.pass { "true" } else { "false" }>
                                <span class=if b.pass { "badge success" } else { "badge critical" }>
                                    {if b.pass { "✓ Passes" } else { "✗ Fails" }}
                                </span>
                                <span class="compliance-channel">{b.channel}</span>
                                {(!b.pass).then(|| view! { <span class="subdued">{reasons}</span> })}
                            </div>
                        }
                    }).collect_view().into_any(),
                }}
                <p class="subdued small">"Checked on a preview-size copy of the photo."</p>
            </div>
        </div>
    }
}
