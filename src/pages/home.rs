//! The Run screen: pick a workflow, drop photos (or a folder, or paste them) and optionally a
//! products CSV; a pool of web workers processes them while the page shows each photo's status,
//! the batch's progress and time left; results come back as cards, one file or all as a ZIP.

use crate::browser::{now, ObjectUrl};
use crate::components::drop_zone::DropZone;
use crate::components::model_line::ModelLine;
use crate::components::photo_result::PhotoCard;
use crate::components::workflow_picker::WorkflowPicker;
use crate::cutout_model::ModelNews;
use crate::files;
use crate::library::MyWorkflows;
use crate::pool::{Mode, Pool, Task, Update as PoolUpdate};
use crate::process::{format_size, into_result, Bundle, PhotoResult};
use crate::sync::SyncState;
use crate::workflows;
use leptos::prelude::*;
use leptos::task::spawn_local;
use shotline_core::products::ProductTable;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// Where one photo of the grid is.
#[derive(Clone)]
enum Stage {
    Queued,
    Processing,
    Done(Arc<PhotoResult>),
    Cancelled,
}

/// One photo in the grid, from the moment it is dropped.
#[derive(Clone)]
struct Item {
    id: u64,
    file: String,
    workflow: Arc<str>,
    before: Option<Arc<ObjectUrl>>,
    stage: ArcRwSignal<Stage>,
}

/// The batch being processed.
#[derive(Clone, Debug, PartialEq)]
struct Run {
    total: usize,
    done: usize,
    failed: usize,
    started: f64,
    last_done: f64,
}

/// The products CSV in use, matched to photos by file name.
#[derive(Clone)]
struct Products {
    name: String,
    table: Arc<ProductTable>,
}

#[component]
pub fn HomePage() -> impl IntoView {
    let lib = MyWorkflows::expect();
    let sync = SyncState::expect();
    let choices = Memo::new(move |_| lib.with(workflows::choices));
    let selected = RwSignal::new(None::<String>);
    let items = RwSignal::new(Vec::<Item>::new());
    let run = RwSignal::new(None::<Run>);
    let summary = RwSignal::new(None::<String>);
    let notice = RwSignal::new(None::<String>);
    let products = RwSignal::new(None::<Products>);
    let engine = RwSignal::new("");
    let clock = RwSignal::new(now());
    let zip_url = StoredValue::new(None::<ObjectUrl>);
    let next_id = StoredValue::new(0u64);
    let busy = Signal::derive(move || run.with(Option::is_some));

    let model = RwSignal::new(None::<ModelNews>);

    let on_update = move |update: PoolUpdate, mode: Mode| {
        engine.set(if mode == Mode::Inline {
            "page"
        } else {
            "workers"
        });
        let id = match &update {
            PoolUpdate::Model(news) => {
                // Every worker loads its own copy: the line shows the one furthest along, so a
                // second worker starting its download does not take it back to 0 %, nor back to
                // "loading" once one is ready (or failed).
                let behind = model.with_untracked(|m| match (m, news) {
                    (
                        Some(ModelNews::Ready { .. } | ModelNews::Failed(_)),
                        ModelNews::Loading { .. },
                    ) => true,
                    (
                        Some(ModelNews::Loading { loaded: shown, .. }),
                        ModelNews::Loading { loaded, .. },
                    ) => loaded < shown,
                    _ => false,
                });
                if !behind {
                    model.set(Some(news.clone()));
                }
                return;
            }
            PoolUpdate::Started(id) | PoolUpdate::Finished { id, .. } => *id,
        };
        let Some(item) = items.with_untracked(|all| all.iter().find(|i| i.id == id).cloned())
        else {
            return;
        };
        if matches!(item.stage.get_untracked(), Stage::Cancelled) {
            return;
        }
        match update {
            PoolUpdate::Model(_) => {}
            PoolUpdate::Started(_) => item.stage.set(Stage::Processing),
            PoolUpdate::Finished { report, crcs, .. } => {
                let result = into_result(id, *report, &crcs, item.before.clone());
                let ok = result.ok();
                item.stage.set(Stage::Done(Arc::new(result)));
                let t = now();
                let finished = run.try_update(|r| {
                    let r = r.as_mut()?;
                    r.done += 1;
                    r.failed += usize::from(!ok);
                    r.last_done = t;
                    (r.done >= r.total).then(|| r.clone())
                });
                if let Some(Some(r)) = finished {
                    run.set(None);
                    summary.set(Some(finished_line(&r, t)));
                }
            }
        }
    };
    let pool = StoredValue::new_local(Pool::new(on_update));

    // The time left is re-estimated every second while a batch runs.
    let ticker = set_interval_with_handle(
        move || {
            if run.with_untracked(Option::is_some) {
                clock.set(now());
            }
        },
        std::time::Duration::from_secs(1),
    )
    .ok();
    on_cleanup(move || {
        if let Some(t) = ticker {
            t.clear();
        }
    });

    let start_batch = move |photos: Vec<web_sys::File>| {
        let Some(choice) = choices
            .with_untracked(|c| workflows::pick(c, selected.get_untracked().as_deref()).cloned())
        else {
            return;
        };
        if let Err(e) = shotline_core::engine::check(&choice.workflow) {
            notice.set(Some(format!("{}: {e}", choice.workflow.name)));
            return;
        }
        let workflow_json: std::rc::Rc<str> = serde_json::to_string(&choice.workflow)
            .unwrap_or_default()
            .into();
        let workflow: Arc<str> = choice.workflow.name.as_str().into();
        let table = products.with_untracked(|p| p.as_ref().map(|p| p.table.clone()));
        let mut batch = Vec::with_capacity(photos.len());
        let mut tasks = Vec::with_capacity(photos.len());
        for (i, file) in photos.into_iter().enumerate() {
            let id = next_id.with_value(|n| *n);
            next_id.set_value(id + 1);
            let name = file.name();
            let product_json = table
                .as_ref()
                .and_then(|t| t.lookup(&name))
                .and_then(|p| serde_json::to_string(p).ok())
                .unwrap_or_else(|| "{}".into());
            let before = file
                .type_()
                .starts_with("image/")
                .then(|| ObjectUrl::from_blob(&file).ok().map(Arc::new))
                .flatten();
            batch.push(Item {
                id,
                file: name,
                workflow: workflow.clone(),
                before,
                stage: ArcRwSignal::new(Stage::Queued),
            });
            tasks.push(Task {
                id,
                file,
                index: i + 1,
                workflow_json: workflow_json.clone(),
                product_json,
            });
        }
        let t = now();
        run.set(Some(Run {
            total: tasks.len(),
            done: 0,
            failed: 0,
            started: t,
            last_done: t,
        }));
        clock.set(t);
        summary.set(None);
        // The newest batch goes on top, in the order its files were given.
        items.update(|all| {
            batch.append(all);
            *all = batch;
        });
        pool.with_value(|p| p.submit(tasks));
    };

    let on_files = Callback::new(move |files: Vec<web_sys::File>| {
        if files.is_empty() || busy.get_untracked() {
            return;
        }
        notice.set(None);
        let (csvs, photos): (Vec<_>, Vec<_>) = files.into_iter().partition(is_csv);
        spawn_local(async move {
            if let Some(csv) = csvs.into_iter().next() {
                load_products(csv, products, notice).await;
            }
            if !photos.is_empty() {
                start_batch(photos);
            }
        });
    });

    let cancel = move |_| {
        pool.with_value(Pool::cancel);
        let mut left = 0;
        items.with_untracked(|all| {
            for item in all {
                if matches!(
                    item.stage.get_untracked(),
                    Stage::Queued | Stage::Processing
                ) {
                    item.stage.set(Stage::Cancelled);
                    left += 1;
                }
            }
        });
        if let Some(r) = run.get_untracked() {
            summary.set(Some(format!(
                "Cancelled: {} of {} photos done, {left} not processed.",
                r.done, r.total
            )));
        }
        run.set(None);
    };

    let download_all = move |_| {
        let (results, names): (Vec<Arc<PhotoResult>>, Vec<Arc<str>>) =
            items.with_untracked(|all| {
                all.iter()
                    .filter_map(|i| match i.stage.get_untracked() {
                        Stage::Done(r) => Some((r, i.workflow.clone())),
                        _ => None,
                    })
                    .unzip()
            });
        let mut workflows: Vec<&str> = names.iter().map(|n| &**n).collect();
        workflows.dedup();
        let bundle = Bundle::new(&workflows.join(" + "), &results);
        let saved = bundle.zip(&results).and_then(|chunks| {
            let parts: Vec<&[u8]> = chunks.iter().map(|c| c.bytes()).collect();
            files::save(&parts, "shotline-results.zip", "application/zip")
        });
        match saved {
            // Kept until the next download: revoking at once can cancel the download.
            Ok(url) => zip_url.set_value(Some(url)),
            Err(e) => notice.set(Some(format!("The ZIP could not be made: {e}"))),
        }
    };

    // A photo dropped outside the zone would otherwise make the browser open it and lose the page.
    let guard = |ev: web_sys::DragEvent| ev.prevent_default();
    let _ = window_event_listener(leptos::ev::dragover, guard);
    let _ = window_event_listener(leptos::ev::drop, guard);
    // Pasted photos (a screenshot, images copied from a file manager) join like dropped ones.
    let _ = window_event_listener(leptos::ev::paste, move |ev: web_sys::ClipboardEvent| {
        let files = ev
            .clipboard_data()
            .and_then(|dt| dt.files())
            .map(|list| {
                (0..list.length())
                    .filter_map(|i| list.item(i))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        if !files.is_empty() {
            ev.prevent_default();
            on_files.run(files);
        }
    });

    // A connected device catches up with the workspace when it opens.
    sync.sync_now(lib);

    let has_done = move || {
        items.with(|all| {
            all.iter()
                .any(|i| matches!(i.stage.get(), Stage::Done(ref r) if !r.artifacts.is_empty()))
        })
    };
    let zip_size = move || {
        items.with(|all| {
            all.iter()
                .filter_map(|i| match i.stage.get() {
                    Stage::Done(r) => {
                        Some(r.artifacts.iter().map(|a| a.bytes.len()).sum::<usize>())
                    }
                    _ => None,
                })
                .sum::<usize>()
        })
    };

    view! {
        <main class="layout">
            <section class="card" aria-labelledby="process-title">
                <h2 id="process-title">"Process photos"</h2>
                <p class="subdued">
                    "Choose a workflow, then add photos. Each photo goes through the workflow's steps and comes back as files ready for your store."
                </p>
                <WorkflowPicker choices=choices selected=selected disabled=busy/>
                <DropZone on_files=on_files disabled=busy/>
                <ProductsPicker products=products notice=notice disabled=busy/>
                <RunProgress run=run clock=clock on_cancel=Callback::new(cancel)/>
                {move || model.get().map(|news| view! { <ModelLine news=news/> })}
                {move || {
                    notice
                        .get()
                        .map(|e| view! { <p class="error" role="alert" data-testid="batch-error">{e}</p> })
                }}
            </section>
            <section
                class="card"
                aria-labelledby="results-title"
                data-testid="results"
                data-engine=move || engine.get()
            >
                <div class="card-head">
                    <h2 id="results-title">"Results"</h2>
                    <div class="actions">
                        <Show when=move || has_done() && !busy.get()>
                            <button
                                class="button"
                                data-testid="download-zip"
                                title="Every file, listing.csv and report.json"
                                on:click=download_all
                            >
                                {move || format!("Download all (ZIP, {})", format_size(zip_size()))}
                            </button>
                        </Show>
                        <Show when=move || !items.with(Vec::is_empty) && !busy.get()>
                            <button
                                class="button plain"
                                data-testid="clear"
                                on:click=move |_| {
                                    items.set(Vec::new());
                                    summary.set(None);
                                }
                            >
                                "Clear"
                            </button>
                        </Show>
                    </div>
                </div>
                {move || summary.get().map(|s| view! { <p class="subdued" data-testid="run-summary">{s}</p> })}
                <Show
                    when=move || !items.with(Vec::is_empty)
                    fallback=move || {
                        view! {
                            <p class="empty" data-testid="empty-state">
                                "No photos yet. Drop product photos above: each one comes back here with a before and after, its files to download, and whether they meet the marketplace's rules."
                            </p>
                        }
                    }
                >
                    <div class="photos">
                        <For each=move || items.get() key=|i| i.id let:item>
                            <ItemCard item=item/>
                        </For>
                    </div>
                </Show>
            </section>
        </main>
    }
}

/// A photo's card: its result once done, its status before.
#[component]
fn ItemCard(item: Item) -> impl IntoView {
    let stage = item.stage.clone();
    move || match stage.get() {
        Stage::Done(result) => view! { <PhotoCard result=result/> }.into_any(),
        pending => {
            let (status, badge, class) = match pending {
                Stage::Processing => ("processing", "Processing", "badge info"),
                Stage::Cancelled => ("cancelled", "Cancelled", "badge"),
                _ => ("queued", "Queued", "badge"),
            };
            let src = item.before.as_ref().map(|u| u.as_str().to_string());
            view! {
                <article class="photo pending" data-testid="photo-result" data-status=status aria-busy=(status == "processing").to_string()>
                    {match src {
                        Some(src) => view! {
                            <img class="mini" src=src alt="" decoding="async" loading="lazy"/>
                        }.into_any(),
                        None => view! { <span class="mini" aria-hidden="true"></span> }.into_any(),
                    }}
                    <div class="pending-main">
                        <header class="photo-head">
                            <h3 class="photo-name">{item.file.clone()}</h3>
                            <span class=class>{badge}</span>
                        </header>
                        {(status == "processing").then(|| view! { <div class="bar indeterminate" aria-hidden="true"><span></span></div> })}
                    </div>
                </article>
            }
            .into_any()
        }
    }
}

/// The batch's progress: a bar, "7 of 20 done", the time left, and Cancel.
#[component]
fn RunProgress(
    run: RwSignal<Option<Run>>,
    clock: RwSignal<f64>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let line = move || {
        run.get()
            .map(|r| {
                let left = time_left(&r, clock.get());
                format!("Processing: {} of {} done{}", r.done, r.total, left)
            })
            .unwrap_or_default()
    };
    view! {
        <div class="run" class:running=move || run.with(Option::is_some)>
            <Show when=move || run.with(Option::is_some)>
                <progress
                    class="run-bar"
                    data-testid="run-bar"
                    aria-label="Photos processed"
                    max=move || run.with(|r| r.as_ref().map_or(1, |r| r.total)).to_string()
                    value=move || run.with(|r| r.as_ref().map_or(0, |r| r.done)).to_string()
                ></progress>
            </Show>
            <div class="run-line">
                <p class="progress" role="status" aria-live="polite" data-testid="progress">{line}</p>
                <Show when=move || run.with(Option::is_some)>
                    <button
                        class="button secondary"
                        data-testid="cancel"
                        on:click=move |_| on_cancel.run(())
                    >
                        "Cancel"
                    </button>
                </Show>
            </div>
        </div>
    }
}

/// The optional products CSV: which file is in use, or a button to add one.
#[component]
fn ProductsPicker(
    products: RwSignal<Option<Products>>,
    notice: RwSignal<Option<String>>,
    #[prop(into)] disabled: Signal<bool>,
) -> impl IntoView {
    let input = NodeRef::<leptos::html::Input>::new();
    let on_change = move |ev: web_sys::Event| {
        let Some(el) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let file = el.files().and_then(|l| l.item(0));
        el.set_value("");
        if let Some(file) = file {
            spawn_local(load_products(file, products, notice));
        }
    };
    view! {
        <div class="products" data-testid="products">
            <input
                type="file"
                id="csv-input"
                class="visually-hidden"
                accept=".csv,text/csv"
                tabindex="-1"
                aria-label="Products CSV"
                data-testid="csv-input"
                node_ref=input
                on:change=on_change
            />
            {move || match products.get() {
                Some(p) => view! {
                    <span class="badge success">"Products"</span>
                    <span data-testid="products-name">
                        {format!("{} · {} product{}", p.name, p.table.len(), if p.table.len() == 1 { "" } else { "s" })}
                    </span>
                    <button
                        class="button plain"
                        data-testid="products-remove"
                        prop:disabled=move || disabled.get()
                        on:click=move |_| products.set(None)
                    >
                        "Remove"
                    </button>
                }
                .into_any(),
                None => view! {
                    <button
                        class="button secondary"
                        data-testid="products-add"
                        prop:disabled=move || disabled.get()
                        on:click=move |_| {
                            if let Some(el) = input.get() {
                                el.click();
                            }
                        }
                    >
                        "Add products CSV"
                    </button>
                    <span class="subdued">
                        "Optional: a CSV with a " <code>"file"</code>
                        " column fills in each photo's title, SKU and price."
                    </span>
                }
                .into_any(),
            }}
        </div>
    }
}

fn is_csv(file: &web_sys::File) -> bool {
    file.name().to_ascii_lowercase().ends_with(".csv") || file.type_() == "text/csv"
}

async fn load_products(
    file: web_sys::File,
    products: RwSignal<Option<Products>>,
    notice: RwSignal<Option<String>>,
) {
    let name = file.name();
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .map(|t| t.as_string().unwrap_or_default());
    match text {
        Ok(text) => match ProductTable::from_csv(&text) {
            Ok(table) => products.set(Some(Products {
                name,
                table: Arc::new(table),
            })),
            Err(e) => notice.set(Some(format!("{name}: {e}"))),
        },
        Err(e) => notice.set(Some(format!(
            "{name}: the browser could not read the file ({})",
            crate::browser::describe(e)
        ))),
    }
}

/// " · about 40 s left", from the pace so far (the pool's parallelism is in that pace).
fn time_left(r: &Run, now: f64) -> String {
    if r.done == 0 {
        return " · estimating time left".into();
    }
    let per_photo = (r.last_done - r.started) / r.done as f64;
    let left = (per_photo * (r.total - r.done) as f64 - (now - r.last_done)).max(1000.0);
    format!(" · about {} left", duration(left))
}

fn finished_line(r: &Run, now: f64) -> String {
    let ok = r.done - r.failed;
    let failed = if r.failed > 0 {
        format!(", {} failed", r.failed)
    } else {
        String::new()
    };
    format!(
        "{} photo{} in {}: {ok} ready{failed}.",
        r.total,
        if r.total == 1 { "" } else { "s" },
        duration(now - r.started)
    )
}

fn duration(ms: f64) -> String {
    let s = (ms / 1000.0).round() as u64;
    if s < 60 {
        format!("{} s", s.max(1))
    } else {
        format!("{} min {} s", s / 60, s % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(done: usize, total: usize, last_done: f64) -> Run {
        Run {
            total,
            done,
            failed: 0,
            started: 0.0,
            last_done,
        }
    }

    /// The time left follows the pace so far, counts down between photos, and never says "0 s".
    #[test]
    fn time_left_follows_the_pace() {
        assert_eq!(
            time_left(&run(0, 20, 0.0), 5000.0),
            " · estimating time left"
        );
        // 5 photos in 10 s: 2 s a photo, 15 to go.
        assert_eq!(
            time_left(&run(5, 20, 10_000.0), 10_000.0),
            " · about 30 s left"
        );
        assert_eq!(
            time_left(&run(5, 20, 10_000.0), 14_000.0),
            " · about 26 s left"
        );
        assert_eq!(
            time_left(&run(19, 20, 10_000.0), 60_000.0),
            " · about 1 s left"
        );
        assert_eq!(
            time_left(&run(1, 100, 3_000.0), 3_000.0),
            " · about 4 min 57 s left"
        );
    }
}
