//! The web app in a real browser (headless Chromium through wasm-bindgen-test-runner):
//! `scripts/test-web.sh` runs these with the runner and driver set up.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)] // tests may unwrap (STYLE.md)

use shotline_web::browser::{self, yield_to_browser};
use shotline_web::{library, sync, App, AppAt, Route};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement, HtmlTextAreaElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts the app into a fresh container of its own, so tests do not see each other's pages,
/// with nothing saved in the browser from an earlier test.
fn mount() -> HtmlElement {
    mount_view(App)
}

/// Mounts the app showing one page, whatever the test page's own path is.
fn mount_at(route: Route) -> HtmlElement {
    mount_view(move || leptos::view! { <AppAt route=route/> })
}

/// The Workflows page, after "Use this template" on the first template (which would open the
/// editor: the path it went to is returned instead).
async fn workflows_with_a_copy() -> (HtmlElement, String) {
    let host = mount_at(Route::Workflows);
    settle().await;
    let went = std::rc::Rc::new(std::cell::RefCell::new(String::new()));
    let to = went.clone();
    browser::intercept_navigation(Some(Box::new(move |p| *to.borrow_mut() = p.to_string())));
    click(&all(&host, "use-template")[0]);
    settle().await;
    browser::intercept_navigation(None);
    let went = went.borrow().clone();
    (host, went)
}

fn mount_view<V: leptos::IntoView + 'static>(view: impl FnOnce() -> V + 'static) -> HtmlElement {
    clear_storage();
    let doc = web_sys::window().unwrap().document().unwrap();
    let host: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&host).unwrap();
    leptos::mount::mount_to(host.clone(), view).forget();
    host
}

fn clear_storage() {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    storage.remove_item(library::STORAGE_KEY).unwrap();
    storage.remove_item(sync::STORAGE_KEY).unwrap();
}

fn stored_library() -> library::Library {
    let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
    let text = storage
        .get_item(library::STORAGE_KEY)
        .unwrap()
        .unwrap_or_default();
    serde_json::from_str(&text).unwrap_or_default()
}

fn click(el: &Element) {
    el.unchecked_ref::<HtmlElement>().click();
}

/// Types into an input or textarea as a person would: the value, then an `input` event.
fn type_into(el: &Element, text: &str) {
    if let Some(area) = el.dyn_ref::<HtmlTextAreaElement>() {
        area.set_value(text);
    } else {
        el.unchecked_ref::<HtmlInputElement>().set_value(text);
    }
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let ev = web_sys::Event::new_with_event_init_dict("input", &init).unwrap();
    el.dispatch_event(&ev).unwrap();
}

async fn settle() {
    for _ in 0..3 {
        leptos::task::tick().await;
        yield_to_browser().await;
    }
}

fn text(el: &Element) -> String {
    el.text_content().unwrap_or_default()
}

fn all(host: &Element, testid: &str) -> Vec<Element> {
    let list = host
        .query_selector_all(&format!("[data-testid={testid}]"))
        .unwrap();
    (0..list.length())
        .filter_map(|i| list.item(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .collect()
}

fn one(host: &Element, testid: &str) -> Element {
    all(host, testid)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no [data-testid={testid}] on the page"))
}

/// Gives the page its input as the file picker would: files on the input, then a `change` event.
fn choose_files(host: &Element, files: &[web_sys::File]) {
    let dt = web_sys::DataTransfer::new().unwrap();
    for f in files {
        dt.items().add_with_file(f).unwrap();
    }
    let input: HtmlInputElement = one(host, "file-input").unchecked_into();
    input.set_files(dt.files().as_ref());
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let ev = web_sys::Event::new_with_event_init_dict("change", &init).unwrap();
    input.dispatch_event(&ev).unwrap();
}

fn file(name: &str, bytes: &[u8], mime: &str) -> web_sys::File {
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let opts = web_sys::FilePropertyBag::new();
    opts.set_type(mime);
    web_sys::File::new_with_u8_array_sequence_and_options(&parts, name, &opts).unwrap()
}

/// A small product-like photo: a dark square on a light grey background.
fn png(width: u32, height: u32) -> Vec<u8> {
    let img = image::RgbaImage::from_fn(width, height, |x, y| {
        let inside =
            (width / 4..width * 3 / 4).contains(&x) && (height / 4..height * 3 / 4).contains(&y);
        if inside {
            image::Rgba([40, 60, 140, 255])
        } else {
            image::Rgba([235, 235, 235, 255])
        }
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgba8(img)
        .write_to(&mut out, image::ImageOutputFormat::Png)
        .unwrap();
    out.into_inner()
}

/// Waits (up to ~60 s: the engine runs unoptimised-ish in tests) until `n` photo results show.
async fn wait_for_results(host: &Element, n: usize) -> Vec<Element> {
    for _ in 0..2400 {
        leptos::task::tick().await;
        let found = all(host, "photo-result");
        if found.len() >= n
            && one(host, "progress")
                .text_content()
                .unwrap_or_default()
                .is_empty()
        {
            return found;
        }
        yield_to_browser().await;
    }
    panic!("the page showed no result in time");
}

/// The page mounts with its header, a workflow picker listing at least one workflow (selected),
/// a labelled drop zone, and an empty state that says what to do.
#[wasm_bindgen_test]
async fn page_mounts_with_workflows_and_empty_state() {
    let host = mount();
    leptos::task::tick().await;
    assert!(host.text_content().unwrap().contains("Shotline"));
    let options = all(&host, "workflow-option");
    assert!(!options.is_empty(), "the picker lists no workflow");
    let first: HtmlInputElement = options[0]
        .query_selector("input[type=radio]")
        .unwrap()
        .unwrap()
        .unchecked_into();
    assert!(first.checked(), "the first workflow is not selected");
    for o in &options {
        assert!(!o.text_content().unwrap().trim().is_empty());
    }
    let input = one(&host, "file-input");
    let label = host
        .query_selector(&format!("label[for={}]", input.id()))
        .unwrap()
        .expect("the file input has no label");
    assert!(label.text_content().unwrap().contains("choose files"));
    assert!(one(&host, "empty-state")
        .text_content()
        .unwrap()
        .contains("Drop product photos"));
    host.remove();
}

/// A PNG chosen in the picker runs through the selected workflow: an artifact with an image type,
/// its dimensions and a download link appears, with the step log beside it.
#[wasm_bindgen_test]
async fn a_png_yields_a_downloadable_artifact() {
    let host = mount();
    leptos::task::tick().await;
    choose_files(&host, &[file("tiny.png", &png(64, 48), "image/png")]);
    let results = wait_for_results(&host, 1).await;
    let photo = &results[0];
    let error = all(photo, "photo-error")
        .first()
        .and_then(|e| e.text_content())
        .unwrap_or_default();
    assert_eq!(
        photo.get_attribute("data-status").as_deref(),
        Some("ok"),
        "{error}"
    );
    let artifact = one(photo, "artifact");
    assert!(artifact
        .get_attribute("data-mime")
        .unwrap()
        .starts_with("image/"));
    assert!(one(&artifact, "artifact-name")
        .text_content()
        .unwrap()
        .starts_with("tiny"));
    let facts = one(&artifact, "artifact-facts").text_content().unwrap();
    assert!(facts.contains(" × ") && facts.contains(" px"), "{facts}");
    let link = one(&artifact, "download");
    assert!(link.get_attribute("href").unwrap().starts_with("blob:"));
    assert!(link.get_attribute("download").unwrap().starts_with("tiny"));
    assert!(one(photo, "after")
        .get_attribute("src")
        .unwrap()
        .starts_with("blob:"));
    assert!(one(photo, "step-log")
        .text_content()
        .unwrap()
        .contains("decode"));
    assert!(all(&host, "empty-state").is_empty());
    host.remove();
}

/// A file that is not an image fails on its own card with the reason, and does not stop the
/// photo after it.
#[wasm_bindgen_test]
async fn a_text_file_fails_on_its_own_card() {
    let host = mount();
    leptos::task::tick().await;
    choose_files(
        &host,
        &[
            file("notes.txt", b"not a photo", "text/plain"),
            file("tiny.png", &png(32, 32), "image/png"),
        ],
    );
    let results = wait_for_results(&host, 2).await;
    let failed = results
        .iter()
        .find(|r| r.text_content().unwrap().contains("notes.txt"))
        .expect("no card for notes.txt");
    assert_eq!(
        failed.get_attribute("data-status").as_deref(),
        Some("failed")
    );
    let reason = one(failed, "photo-error").text_content().unwrap();
    assert!(reason.starts_with("notes.txt: "), "{reason}");
    assert!(reason.contains("not a JPEG, PNG or WebP image"), "{reason}");
    assert!(all(failed, "artifact").is_empty());
    let other = results
        .iter()
        .find(|r| r.text_content().unwrap().contains("tiny.png"))
        .expect("no card for tiny.png");
    assert_eq!(other.get_attribute("data-status").as_deref(), Some("ok"));
    host.remove();
}

/// "Use this template" copies a template into my workflows: it is stored in localStorage, listed,
/// the button opens the copy in the editor, and the photo picker offers it (first, marked as mine).
#[wasm_bindgen_test]
async fn a_template_used_from_the_gallery_is_stored_and_offered() {
    let host = mount_at(Route::Workflows);
    settle().await;
    assert!(text(&one(&host, "no-workflows")).contains("no workflows of your own"));
    let cards = all(&host, "template-card");
    assert!(
        cards.len() >= 5,
        "the gallery shows {} templates",
        cards.len()
    );
    for card in &cards {
        let imgs = card.query_selector_all("img").unwrap();
        assert_eq!(imgs.length(), 2, "a before and an after");
    }
    host.remove();
    let (host, went) = workflows_with_a_copy().await;
    let lib = stored_library();
    assert_eq!(lib.workflows.len(), 1);
    assert_eq!(went, format!("/workflows/{}", lib.workflows[0].id));
    let name = lib.workflows[0].workflow.name.clone();
    assert!(name.ends_with("(copy)"), "{name}");
    assert_eq!(text(&one(&host, "my-workflow-name")), name);
    host.remove();
    // Not cleared: the run page finds the copy in storage.
    let doc = web_sys::window().unwrap().document().unwrap();
    let home: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&home).unwrap();
    leptos::mount::mount_to(
        home.clone(),
        || leptos::view! { <AppAt route=Route::Home/> },
    )
    .forget();
    settle().await;
    let first = &all(&home, "workflow-option")[0];
    assert_eq!(first.get_attribute("data-mine").as_deref(), Some("true"));
    assert!(text(first).contains(&name));
    home.remove();
}

/// "Duplicate" adds a copy with its own name; "Export" and "Copy link" are offered per workflow,
/// and the link carries the workflow itself.
#[wasm_bindgen_test]
async fn duplicate_and_link_per_workflow() {
    let (host, _) = workflows_with_a_copy().await;
    click(&one(&host, "duplicate-workflow"));
    settle().await;
    let lib = stored_library();
    assert_eq!(lib.workflows.len(), 2);
    assert_ne!(
        lib.workflows[1].workflow.name,
        lib.workflows[0].workflow.name
    );
    assert!(lib.workflows[1]
        .workflow
        .name
        .starts_with(&lib.workflows[0].workflow.name));
    assert_eq!(
        lib.workflows[1].workflow.steps,
        lib.workflows[0].workflow.steps
    );
    assert_eq!(all(&host, "copy-link").len(), 2);
    assert_eq!(all(&host, "export-json").len(), 2);
    host.remove();
}

/// The editor saves valid edits as they are typed, shows the engine's parse and validation
/// messages under it, and never stores invalid JSON over the last good version.
#[wasm_bindgen_test]
async fn the_editor_saves_valid_json_and_refuses_invalid_json() {
    let (host, _) = workflows_with_a_copy().await;
    click(&one(&host, "edit-workflow"));
    settle().await;
    let json = one(&host, "workflow-json");
    let good = json.unchecked_ref::<HtmlTextAreaElement>().value();

    type_into(&json, "{ \"schema\": 1, \"name\": ");
    settle().await;
    let problems = text(&one(&host, "workflow-problems"));
    assert!(problems.contains("not valid JSON"), "{problems}");
    assert_eq!(text(&one(&host, "save-state")), "Not saved");
    assert!(stored_library().workflows[0]
        .workflow
        .name
        .ends_with("(copy)"));
    // What was typed stays in the editor.
    assert!(json
        .unchecked_ref::<HtmlTextAreaElement>()
        .value()
        .starts_with("{ \"schema\""));

    type_into(
        &json,
        &good.replace(
            "\"steps\": [",
            "\"steps\": [{\"type\": \"export\", \"quality\": 0},",
        ),
    );
    settle().await;
    let problems = text(&one(&host, "workflow-problems"));
    assert!(problems.contains("steps[0].quality"), "{problems}");

    let renamed = good.replacen("(copy)", "for mugs", 1);
    type_into(&json, &renamed);
    settle().await;
    assert!(all(&host, "workflow-problems").is_empty());
    assert_eq!(text(&one(&host, "save-state")), "Saved");
    let lib = stored_library();
    assert!(
        lib.workflows[0].workflow.name.ends_with("for mugs"),
        "{:?}",
        lib.workflows[0].workflow.name
    );
    assert!(lib.workflows[0].dirty);

    // An empty name is not saved either.
    type_into(&one(&host, "workflow-name"), "  ");
    settle().await;
    assert!(text(&one(&host, "name-problem")).contains("name"));
    assert!(stored_library().workflows[0]
        .workflow
        .name
        .ends_with("for mugs"));
    type_into(&one(&host, "workflow-name"), "Mugs");
    settle().await;
    assert_eq!(stored_library().workflows[0].workflow.name, "Mugs");
    assert_eq!(text(&one(&host, "my-workflow-name")), "Mugs");
    host.remove();
}

/// Deleting asks first, then removes the workflow from the list and from localStorage.
#[wasm_bindgen_test]
async fn deleting_asks_then_removes() {
    let (host, _) = workflows_with_a_copy().await;
    click(&one(&host, "delete-workflow"));
    settle().await;
    assert_eq!(
        stored_library().workflows.len(),
        1,
        "deleted without asking"
    );
    click(&one(&host, "confirm-delete-yes"));
    settle().await;
    assert!(all(&host, "my-workflow").is_empty());
    assert!(stored_library().workflows.is_empty());
    host.remove();
}

/// A conflict card shows both versions side by side (name, steps, revision), and "Use the other
/// device's" replaces this device's copy and settles the conflict.
#[wasm_bindgen_test]
async fn the_conflict_card_shows_both_versions_and_takes_theirs() {
    use leptos::prelude::*;
    use shotline_web::api::Record;
    use shotline_web::components::conflict_card::ConflictCard;
    use shotline_web::library::MyWorkflows;
    use shotline_web::sync::{Conflict, SyncState};

    let state = std::rc::Rc::new(std::cell::RefCell::new(None));
    let keep = state.clone();
    let host = mount_view(move || {
        let lib = MyWorkflows::load();
        lib.provide();
        let sync = SyncState::load();
        sync.provide();
        let mut mine = shotline_core::templates::get("by-category").unwrap();
        mine.name = "Rings (mine)".into();
        let mut theirs = mine.clone();
        theirs.name = "Rings (theirs)".into();
        theirs.steps.truncate(2);
        lib.update(|l| {
            l.add_remote("local-1".into(), mine, "wf_1".into(), 3, 0.0);
            let m = l.get_mut("local-1").unwrap();
            m.dirty = true;
        });
        let conflict = Conflict {
            local_id: "local-1".into(),
            theirs: Record {
                id: "wf_1".into(),
                name: "Rings (theirs)".into(),
                revision: 4,
                updated_at: 0.0,
                workflow: theirs,
            },
            error: None,
        };
        sync.conflicts.set(vec![conflict]);
        *keep.borrow_mut() = Some((lib, sync));
        view! {
            <For each=move || sync.conflicts.get() key=|c| c.local_id.clone() let:c>
                <ConflictCard conflict=c/>
            </For>
        }
    });
    settle().await;
    let card = one(&host, "conflict-card");
    let mine = one(&card, "conflict-mine");
    let theirs = one(&card, "conflict-theirs");
    assert_eq!(text(&one(&mine, "version-name")), "Rings (mine)");
    assert_eq!(text(&one(&theirs, "version-name")), "Rings (theirs)");
    assert!(text(&one(&mine, "version-revision")).contains("since revision 3"));
    assert!(text(&one(&theirs, "version-revision")).contains("Revision 4"));
    let (m, t) = (all(&mine, "step-line"), all(&theirs, "step-line"));
    assert!(m.len() > t.len() && !t.is_empty());
    // Nested IF/ELSE lines are indented.
    assert!(m
        .iter()
        .any(|l| l.get_attribute("data-depth").as_deref() == Some("1")));
    assert!(text(&m[0]).starts_with("If product category is one of"));

    click(&one(&card, "use-theirs"));
    settle().await;
    assert!(all(&host, "conflict-card").is_empty());
    let (lib, sync) = (*state.borrow()).unwrap();
    let local = lib.with_untracked(|l| l.get("local-1").cloned()).unwrap();
    assert_eq!(local.workflow.name, "Rings (theirs)");
    assert_eq!((local.remote_revision, local.dirty), (Some(4), false));
    assert!(sync.conflicts.get_untracked().is_empty());
    host.remove();
}

/// A share link the server does not know shows a clear message, never a blank page.
#[wasm_bindgen_test]
async fn an_unknown_share_link_says_so() {
    use leptos::prelude::*;
    use shotline_web::library::MyWorkflows;
    use shotline_web::pages::shared::SharedPage;

    let host = mount_view(|| {
        MyWorkflows::load().provide();
        view! { <SharedPage slug="no-such-link".to_string()/> }
    });
    for _ in 0..200 {
        settle().await;
        if !all(&host, "shared-error").is_empty() {
            break;
        }
    }
    let message = text(&one(&host, "shared-error"));
    // The test runner's server has no API: a 404 reads as a revoked link, anything else as an error.
    assert!(
        message.contains("revoked or does not exist") || message.contains("could not be loaded"),
        "{message}"
    );
    host.remove();
}

// ---- The workflow editor (/workflows/{id}) ----

const EDITOR_ID: &str = "local-editor-test";

/// Mounts the editor on a workflow of mine made from `json`.
fn mount_editor(json: &str) -> HtmlElement {
    let wf = shotline_core::validate::parse(json).unwrap();
    mount_view(move || {
        let mut lib = library::Library::default();
        lib.add(EDITOR_ID.to_string(), wf, None, 0.0);
        let storage = web_sys::window().unwrap().local_storage().unwrap().unwrap();
        storage
            .set_item(library::STORAGE_KEY, &serde_json::to_string(&lib).unwrap())
            .unwrap();
        leptos::view! { <AppAt route=Route::Editor(EDITOR_ID.to_string())/> }
    })
}

fn stored_steps() -> Vec<shotline_core::model::Step> {
    stored_library()
        .get(EDITOR_ID)
        .map(|r| r.workflow.steps.clone())
        .unwrap_or_default()
}

fn step_el(host: &Element, path: &str) -> Element {
    host.query_selector(&format!("[data-testid=step][data-path=\"{path}\"]"))
        .unwrap()
        .unwrap_or_else(|| panic!("no step at {path}"))
}

fn inside(el: &Element, selector: &str) -> Element {
    el.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("nothing matches {selector}"))
}

fn fire(el: &Element, kind: &str) {
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let ev = web_sys::Event::new_with_event_init_dict(kind, &init).unwrap();
    el.dispatch_event(&ev).unwrap();
}

fn save_state(host: &Element) -> String {
    one(host, "save-state")
        .get_attribute("data-state")
        .unwrap_or_default()
}

const TWO_STEPS: &str = r#"{"schema":1,"name":"Mugs","steps":[{"type":"auto_enhance"},{"type":"export","quality":85}]}"#;

/// A step added from the palette appears at the end of the list with its form open, and is
/// saved; moving its slider saves the new value; undo and redo (buttons and Ctrl+Z) walk back
/// and forth, and a drag of the slider is one undo step.
#[wasm_bindgen_test]
async fn the_editor_adds_from_the_palette_edits_a_slider_and_undoes() {
    let host = mount_editor(TWO_STEPS);
    settle().await;
    assert_eq!(all(&host, "step").len(), 2);
    click(&all(&host, "add-step")[0]);
    settle().await;
    let palette = one(&host, "palette");
    for group in [
        "Background",
        "Colour & light",
        "Size & crop",
        "Brand",
        "Export",
        "Copy",
        "Logic",
        "Channels",
    ] {
        assert!(text(&palette).contains(group), "palette lacks {group}");
    }
    click(&inside(&palette, "[data-kind=adjust]"));
    settle().await;
    let added = step_el(&host, "steps[2]");
    assert_eq!(added.get_attribute("data-kind").as_deref(), Some("adjust"));
    assert_eq!(stored_steps().len(), 3, "the new step was not saved");
    assert_eq!(save_state(&host), "saved");

    let field = inside(&added, "[data-field=brightness]");
    let slider = inside(&field, "input[type=range]");
    assert!(
        host.query_selector(&format!("label[for={}]", slider.id()))
            .unwrap()
            .is_some(),
        "the slider has no label"
    );
    for v in ["0.1", "0.2", "0.3"] {
        type_into(&slider, v);
        settle().await;
    }
    fire(&slider, "change");
    let brightness = || match &stored_steps()[2].action {
        shotline_core::model::Action::Adjust(a) => a.brightness,
        other => panic!("{other:?}"),
    };
    assert!(
        (brightness() - 0.3).abs() < 1e-6,
        "the slider's value was not saved"
    );
    assert_eq!(save_state(&host), "saved");
    let number: HtmlInputElement = inside(&field, "input[type=number]").unchecked_into();
    assert_eq!(number.value(), "0.3", "the number box follows the slider");

    click(&one(&host, "undo"));
    settle().await;
    assert_eq!(brightness(), 0.0, "one undo takes back the whole drag");
    click(&one(&host, "redo"));
    settle().await;
    assert!((brightness() - 0.3).abs() < 1e-6);
    // Ctrl+Z from inside the editor.
    let init = web_sys::KeyboardEventInit::new();
    init.set_key("z");
    init.set_ctrl_key(true);
    init.set_bubbles(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    slider.dispatch_event(&ev).unwrap();
    settle().await;
    assert_eq!(brightness(), 0.0, "Ctrl+Z undid the change");
    host.remove();
}

/// Switching a step off, duplicating, moving and deleting it change the stored workflow.
#[wasm_bindgen_test]
async fn the_editor_disables_duplicates_moves_and_deletes() {
    let host = mount_editor(TWO_STEPS);
    settle().await;
    click(&inside(
        &step_el(&host, "steps[0]"),
        "[data-testid=step-enabled]",
    ));
    settle().await;
    assert!(!stored_steps()[0].enabled, "switching off was not saved");
    assert_eq!(
        step_el(&host, "steps[0]")
            .get_attribute("data-enabled")
            .as_deref(),
        Some("false")
    );
    click(&inside(
        &step_el(&host, "steps[0]"),
        "[data-testid=step-duplicate]",
    ));
    settle().await;
    assert_eq!(stored_steps().len(), 3);
    click(&inside(
        &step_el(&host, "steps[2]"),
        "[data-testid=step-up]",
    ));
    settle().await;
    let kinds: Vec<&str> = stored_steps().iter().map(|s| s.action.kind()).collect();
    assert_eq!(kinds, ["auto_enhance", "export", "auto_enhance"]);
    click(&inside(
        &step_el(&host, "steps[0]"),
        "[data-testid=step-delete]",
    ));
    settle().await;
    let kinds: Vec<&str> = stored_steps().iter().map(|s| s.action.kind()).collect();
    assert_eq!(kinds, ["export", "auto_enhance"]);
    host.remove();
}

/// An invalid value shows its message on its own step (not on others), and the workflow is not
/// saved until it is fixed.
#[wasm_bindgen_test]
async fn validation_messages_sit_on_their_step() {
    let host = mount_editor(TWO_STEPS);
    settle().await;
    click(&inside(
        &step_el(&host, "steps[1]"),
        "[data-testid=step-title]",
    ));
    settle().await;
    let number = inside(
        &inside(&step_el(&host, "steps[1]"), "[data-field=quality]"),
        "input[type=number]",
    );
    type_into(&number, "0");
    fire(&number, "change");
    settle().await;
    let problems = all(&host, "step-problem");
    assert_eq!(problems.len(), 1, "one step has a problem");
    assert!(
        step_el(&host, "steps[1]").contains(Some(&problems[0])),
        "the message is on the export step"
    );
    assert!(
        text(&problems[0]).contains("quality"),
        "{}",
        text(&problems[0])
    );
    assert_eq!(save_state(&host), "not-saved");
    assert!(text(&one(&host, "save-state")).contains("Not saved"));
    assert!(
        matches!(&stored_steps()[1].action, shotline_core::model::Action::Export(e) if e.quality == 85),
        "the invalid value was stored"
    );
    type_into(&number, "70");
    fire(&number, "change");
    settle().await;
    assert!(all(&host, "step-problem").is_empty());
    assert_eq!(save_state(&host), "saved");
    assert!(
        matches!(&stored_steps()[1].action, shotline_core::model::Action::Export(e) if e.quality == 70)
    );
    host.remove();
}

/// An IF step shows THEN and OTHERWISE blocks; a step added in THEN is stored inside it, and the
/// rule's value is edited as a row of field / test / value.
#[wasm_bindgen_test]
async fn an_if_step_has_both_branches() {
    let host = mount_editor(TWO_STEPS);
    settle().await;
    click(&all(&host, "add-step")[0]);
    settle().await;
    click(&inside(&one(&host, "palette"), "[data-kind=if]"));
    settle().await;
    let iff = step_el(&host, "steps[2]");
    assert!(iff
        .query_selector("[data-testid=branch-then]")
        .unwrap()
        .is_some());
    assert!(iff
        .query_selector("[data-testid=branch-else]")
        .unwrap()
        .is_some());
    let value = inside(&iff, "[data-testid=rule-value]");
    type_into(&value, "Rings");
    settle().await;
    click(&inside(
        &iff,
        "[data-testid=add-step][data-list=\"steps[2].then\"]",
    ));
    settle().await;
    click(&inside(&one(&host, "palette"), "[data-kind=reduce_glare]"));
    settle().await;
    assert!(host
        .query_selector("[data-testid=step][data-path=\"steps[2].then[0]\"]")
        .unwrap()
        .is_some());
    match &stored_steps()[2].action {
        shotline_core::model::Action::If(i) => {
            assert_eq!(i.then.len(), 1);
            assert_eq!(i.then[0].action.kind(), "reduce_glare");
            assert!(i.otherwise.is_empty());
            assert!(format!("{:?}", i.when).contains("Rings"), "{:?}", i.when);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(save_state(&host), "saved");
    host.remove();
}

/// Presses Alt+`key` on an element, as on a focused step handle.
fn alt_key(el: &Element, key: &str) {
    let init = web_sys::KeyboardEventInit::new();
    init.set_key(key);
    init.set_alt_key(true);
    init.set_bubbles(true);
    let ev = web_sys::KeyboardEvent::new_with_keyboard_event_init_dict("keydown", &init).unwrap();
    el.dispatch_event(&ev).unwrap();
}

/// The `data-handle` of the focused element, once the browser has drawn a frame or two.
async fn focused_handle() -> Option<String> {
    let doc = web_sys::window().unwrap().document().unwrap();
    let mut last = None;
    for _ in 0..60 {
        settle().await;
        last = doc
            .active_element()
            .and_then(|e| e.get_attribute("data-handle"));
        if last.is_some() {
            break;
        }
    }
    last
}

fn handle(host: &Element, path: &str) -> Element {
    inside(&step_el(host, path), "[data-testid=step-handle]")
}

fn kinds_of(steps: &[shotline_core::model::Step]) -> Vec<&'static str> {
    steps.iter().map(|s| s.action.kind()).collect()
}

fn if_of(step: &shotline_core::model::Step) -> &shotline_core::model::IfStep {
    match &step.action {
        shotline_core::model::Action::If(i) => i,
        other => panic!("not an IF: {other:?}"),
    }
}

const WITH_IF: &str = r#"{"schema":1,"name":"Rings","steps":[
    {"type":"auto_enhance"},
    {"type":"if","when":{"field":"product.category","op":"eq","value":"Rings"},
     "then":[{"type":"reduce_glare"}],"else":[]},
    {"type":"export"}]}"#;

/// Alt+↓ on the step above an IF moves it into the top of THEN, with the focus on its handle and
/// the move announced; one undo takes it back. Alt+↑ on the step below the IF puts it at the end of
/// OTHERWISE, and Alt+↑ on the first step of a branch takes it out above the IF. At the top of
/// the workflow nothing moves and the live region says so.
#[wasm_bindgen_test]
async fn alt_arrows_move_steps_into_and_out_of_if_blocks() {
    let host = mount_editor(WITH_IF);
    settle().await;
    let start = stored_steps();
    alt_key(&handle(&host, "steps[0]"), "ArrowDown");
    settle().await;
    let steps = stored_steps();
    assert_eq!(kinds_of(&steps), ["if", "export"]);
    assert_eq!(
        kinds_of(&if_of(&steps[0]).then),
        ["auto_enhance", "reduce_glare"]
    );
    assert_eq!(
        step_el(&host, "steps[0].then[0]")
            .get_attribute("data-kind")
            .as_deref(),
        Some("auto_enhance")
    );
    assert_eq!(
        focused_handle().await.as_deref(),
        Some("steps[0].then[0]"),
        "the focus stays on the moved step's handle"
    );
    let said = text(&one(&host, "editor-announce"));
    assert_eq!(
        said,
        "Moved “Auto-enhance” to step 1 under Then of the IF at step 1"
    );
    click(&one(&host, "undo"));
    settle().await;
    assert_eq!(stored_steps(), start, "one undo takes the whole move back");

    // From below the IF, up: the end of OTHERWISE.
    alt_key(&handle(&host, "steps[2]"), "ArrowUp");
    settle().await;
    let steps = stored_steps();
    assert_eq!(kinds_of(&steps), ["auto_enhance", "if"]);
    assert_eq!(kinds_of(&if_of(&steps[1]).otherwise), ["export"]);
    assert_eq!(focused_handle().await.as_deref(), Some("steps[1].else[0]"));

    // The first step of THEN, up: out, just above the IF.
    alt_key(&handle(&host, "steps[1].then[0]"), "ArrowUp");
    settle().await;
    let steps = stored_steps();
    assert_eq!(kinds_of(&steps), ["auto_enhance", "reduce_glare", "if"]);
    assert!(if_of(&steps[2]).then.is_empty());
    assert_eq!(save_state(&host), "saved");

    // The top of the workflow: nothing moves, and it is said.
    let before = stored_steps();
    alt_key(&handle(&host, "steps[0]"), "ArrowUp");
    settle().await;
    assert_eq!(stored_steps(), before);
    assert!(
        text(&one(&host, "editor-announce")).contains("already at the top"),
        "{}",
        text(&one(&host, "editor-announce"))
    );
    host.remove();
}

const NESTED_RULE: &str = r#"{"schema":1,"name":"Rings","steps":[
    {"type":"if","when":{"all":[
        {"field":"product.category","op":"eq","value":"Rings"},
        {"any":[{"field":"product.brand","op":"eq","value":"Acme"},
                {"not":{"field":"image.width","op":"gte","value":1000}}]}]},
     "then":[{"type":"reduce_glare"}],"else":[]}]}"#;

/// The stored IF rule of the first step, as JSON.
fn stored_rule() -> serde_json::Value {
    serde_json::to_value(&if_of(&stored_steps()[0]).when).unwrap()
}

/// A rule with a group inside a group is edited in the form: the inner group shows its own
/// all / any choice and its conditions (NOT ticked where negated); a condition and a group are
/// added where asked, "none of these" wraps the group in a NOT, a wrong value is flagged on its
/// line and its message shows on the step, and a group is removed with its conditions. Every
/// control has a label.
#[wasm_bindgen_test]
async fn nested_rule_groups_are_edited_in_the_form() {
    let host = mount_editor(NESTED_RULE);
    settle().await;
    click(&inside(
        &step_el(&host, "steps[0]"),
        "[data-testid=step-title]",
    ));
    settle().await;
    let editor = one(&host, "rule-editor");
    assert!(all(&host, "rule-json-only").is_empty());
    assert_eq!(all(&editor, "rule-row").len(), 3);
    let sub = one(&editor, "rule-subgroup");
    assert_eq!(sub.get_attribute("data-group").as_deref(), Some("1"));
    let sub_select: web_sys::HtmlSelectElement =
        inside(&sub, "[data-testid=rule-group]").unchecked_into();
    assert_eq!(sub_select.value(), "any");
    let nots = all(&sub, "rule-not");
    assert!(!nots[0].unchecked_ref::<HtmlInputElement>().checked());
    assert!(
        nots[1].unchecked_ref::<HtmlInputElement>().checked(),
        "the negated condition shows NOT"
    );
    let ctl = editor.query_selector_all("input, select").unwrap();
    for i in 0..ctl.length() {
        let el: Element = ctl.item(i).unwrap().unchecked_into();
        let labelled = (!el.id().is_empty()
            && editor
                .query_selector(&format!("label[for=\"{}\"]", el.id()))
                .unwrap()
                .is_some())
            || el.closest("label").unwrap().is_some();
        assert!(labelled, "a rule control has no label: {}", el.outer_html());
    }

    // A condition into the inner group, a group into the top one.
    click(&inside(&sub, "[data-testid=add-rule][data-group=\"1\"]"));
    settle().await;
    assert_eq!(stored_rule()["all"][1]["any"].as_array().unwrap().len(), 3);
    // The form was drawn again for the new line: find it anew.
    let editor = one(&host, "rule-editor");
    assert_eq!(all(&editor, "rule-row").len(), 4);
    click(&inside(
        &editor,
        "[data-testid=add-rule-group][data-group=top]",
    ));
    settle().await;
    let editor = one(&host, "rule-editor");
    let rule = stored_rule();
    assert_eq!(rule["all"].as_array().unwrap().len(), 3);
    assert_eq!(rule["all"][2]["any"][0]["field"], "product.category");
    assert_eq!(all(&editor, "rule-subgroup").len(), 2);
    assert_eq!(all(&editor, "rule-row").len(), 5);

    // "None of these" for the inner group: a NOT around its ANY.
    let sub = inside(&editor, "[data-testid=rule-subgroup][data-group=\"1\"]");
    let sub_select: web_sys::HtmlSelectElement =
        inside(&sub, "[data-testid=rule-group]").unchecked_into();
    sub_select.set_value("none");
    fire(&sub_select, "change");
    settle().await;
    assert_eq!(stored_rule()["all"][1]["not"]["any"][0]["value"], "Acme");

    // A number field compared with text: the line is flagged and the step says why.
    let row = all(&sub, "rule-row").into_iter().next().unwrap();
    let field = inside(&row, "[data-testid=rule-field]");
    field
        .unchecked_ref::<HtmlInputElement>()
        .set_value("image.width");
    fire(&field, "change");
    settle().await;
    let problems = all(&step_el(&host, "steps[0]"), "step-problem");
    assert_eq!(problems.len(), 1);
    assert!(
        text(&problems[0]).contains("is a number"),
        "{}",
        text(&problems[0])
    );
    assert_eq!(
        inside(&row, "[data-testid=rule-value]")
            .get_attribute("aria-invalid")
            .as_deref(),
        Some("true")
    );
    assert_eq!(save_state(&host), "not-saved");
    let value = inside(&row, "[data-testid=rule-value]");
    type_into(&value, "1200");
    settle().await;
    assert_eq!(stored_rule()["all"][1]["not"]["any"][0]["value"], 1200);
    assert_eq!(save_state(&host), "saved");

    // Remove the inner group with everything in it.
    click(&inside(&sub, "[data-testid=remove-rule-group]"));
    settle().await;
    let rule = stored_rule();
    assert_eq!(rule["all"].as_array().unwrap().len(), 2);
    assert!(
        rule["all"][1].get("any").is_some(),
        "the added group is left"
    );
    host.remove();

    // A NOT around a NOT is left to the JSON editor, and said so.
    let host = mount_editor(
        r#"{"schema":1,"name":"x","steps":[{"type":"if","when":{"not":{"not":{"field":"product.sku","op":"is_empty"}}},"then":[]}]}"#,
    );
    settle().await;
    click(&inside(
        &step_el(&host, "steps[0]"),
        "[data-testid=step-title]",
    ));
    settle().await;
    assert!(text(&one(&host, "rule-json-only")).contains("Edit as JSON"));
    assert!(all(&host, "rule-row").is_empty());
    host.remove();
}

/// Gives a logo picker its file as a person choosing one would.
fn choose_logo(host: &Element, f: &web_sys::File) {
    let dt = web_sys::DataTransfer::new().unwrap();
    dt.items().add_with_file(f).unwrap();
    let input: HtmlInputElement = one(host, "logo-file").unchecked_into();
    input.set_files(dt.files().as_ref());
    fire(&input, "change");
}

fn stored_logo() -> (Option<String>, Option<String>) {
    match &stored_steps()[0].action {
        shotline_core::model::Action::Watermark(m) => (m.image.clone(), m.text.clone()),
        other => panic!("{other:?}"),
    }
}

/// Waits (the file is read asynchronously) until `done` holds.
async fn until(done: impl Fn() -> bool) {
    for _ in 0..200 {
        settle().await;
        if done() {
            return;
        }
    }
}

/// A lossless 1×1 WebP (the one Modernizr uses to detect WebP support).
const WEBP_1X1: &str = "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==";

/// The watermark's logo is chosen with a file picker: a PNG becomes the step's data URL (replacing
/// the text) with a thumbnail; a file over 2 MB is refused with its name and the logo is kept; a
/// WebP is stored as PNG, which the watermark step reads; "Remove logo" clears it, and undo brings
/// it back.
#[wasm_bindgen_test]
async fn a_logo_is_chosen_shown_refused_and_removed() {
    use base64::Engine as _;
    let host = mount_editor(
        r#"{"schema":1,"name":"Shop","steps":[{"type":"watermark","text":"My shop"}]}"#,
    );
    settle().await;
    click(&inside(
        &step_el(&host, "steps[0]"),
        "[data-testid=step-title]",
    ));
    settle().await;
    let field = inside(&host, "[data-field=image]");
    assert!(text(&field).contains("Logo"));
    let input = one(&field, "logo-file");
    assert_eq!(
        input.get_attribute("accept").as_deref(),
        Some("image/png,image/jpeg,image/webp")
    );
    assert!(host
        .query_selector(&format!("label[for=\"{}\"]", input.id()))
        .unwrap()
        .is_some());
    assert!(all(&field, "logo-thumb").is_empty() && all(&field, "logo-remove").is_empty());

    let bytes = png(8, 8);
    choose_logo(&host, &file("logo.png", &bytes, "image/png"));
    until(|| stored_logo().0.is_some()).await;
    let (image, text_now) = stored_logo();
    let image = image.expect("the logo was not stored");
    assert_eq!(
        image,
        format!(
            "data:image/png;base64,{}",
            base64::engine::general_purpose::STANDARD.encode(&bytes)
        )
    );
    assert_eq!(text_now, None, "the logo replaced the text");
    assert_eq!(save_state(&host), "saved");
    let thumb = one(&host, "logo-thumb");
    assert_eq!(thumb.get_attribute("src").as_deref(), Some(image.as_str()));
    assert!(!thumb.get_attribute("alt").unwrap_or_default().is_empty());

    // Too big: refused with the file's name; the logo stays.
    let big = vec![0u8; 2 * 1024 * 1024 + 10];
    choose_logo(&host, &file("huge-logo.png", &big, "image/png"));
    until(|| !all(&host, "logo-error").is_empty()).await;
    let message = text(&one(&host, "logo-error"));
    assert!(
        message.contains("huge-logo.png") && message.contains("2 MB"),
        "{message}"
    );
    assert_eq!(stored_logo().0.as_deref(), Some(image.as_str()));

    // WebP: stored as a PNG the engine can read.
    let webp = base64::engine::general_purpose::STANDARD
        .decode(WEBP_1X1)
        .unwrap();
    choose_logo(&host, &file("logo.webp", &webp, "image/webp"));
    until(|| stored_logo().0.is_some_and(|i| i != image)).await;
    let stored = stored_logo().0.unwrap();
    assert!(
        stored.starts_with("data:image/png;base64,iVBOR"),
        "{}",
        &stored[..40.min(stored.len())]
    );
    assert!(
        all(&host, "logo-error").is_empty(),
        "the error went with a good file"
    );
    assert_eq!(
        save_state(&host),
        "saved",
        "the engine accepts the converted logo"
    );

    // Without a logo or text the mark is incomplete: not saved, and the step says why.
    click(&one(&host, "logo-remove"));
    settle().await;
    assert!(all(&host, "logo-thumb").is_empty());
    assert!(!all(&host, "logo-none").is_empty());
    assert_eq!(save_state(&host), "not-saved");
    let problem = text(&one(&step_el(&host, "steps[0]"), "step-problem"));
    assert!(problem.contains("text or image"), "{problem}");
    click(&one(&host, "undo"));
    settle().await;
    assert_eq!(save_state(&host), "saved");
    assert_eq!(stored_logo().0.as_deref(), Some(stored.as_str()));
    assert!(!all(&host, "logo-thumb").is_empty());
    host.remove();
}

/// A model that counts its inferences and cuts out the middle box of [`png`]'s photo.
#[cfg(feature = "engine")]
struct CountingModel(std::sync::atomic::AtomicUsize);

#[cfg(feature = "engine")]
impl shotline_core::engine::Segmenter for CountingModel {
    fn name(&self) -> &str {
        "counting"
    }
    fn segment(&self, img: &shotline_core::Raster) -> shotline_core::Result<Vec<u8>> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let (w, h) = img.dimensions();
        Ok((0..w * h)
            .map(|i| {
                let (x, y) = (i % w, i / w);
                let inside = (w / 4..w * 3 / 4).contains(&x) && (h / 4..h * 3 / 4).contains(&y);
                if inside {
                    255
                } else {
                    0
                }
            })
            .collect())
    }
}

/// The editor's preview of a neural cut-out and its compliance badges need one inference between
/// them, not two: the badges' run decodes the same pixels the preview showed, so the mask cache
/// answers it.
#[cfg(feature = "engine")]
#[wasm_bindgen_test]
fn the_badges_reuse_the_previews_cut_out() {
    use shotline_web::previewing::{Previewing, Reply, Request};
    let model = CountingModel(std::sync::atomic::AtomicUsize::new(0));
    let asked = || model.0.load(std::sync::atomic::Ordering::Relaxed);
    let mut previews = Previewing::default();
    let loaded = previews.answer(
        Request::Load {
            id: 1,
            name: "box.png".into(),
            bytes: png(400, 300),
        },
        Some(&model),
    );
    assert!(matches!(loaded, Reply::Loaded { .. }), "{loaded:?}");
    let json = r#"{"schema":1,"name":"x","steps":[
        {"type":"remove_background","method":"neural"},
        {"type":"channel","channel":"amazon_main"}]}"#;
    let shown = previews.answer(
        Request::Show {
            id: 2,
            workflow_json: json.into(),
            path: "steps[0]".into(),
            category: String::new(),
            refine: false,
        },
        Some(&model),
    );
    let Reply::Shown { pictures, .. } = shown else {
        panic!("{shown:?}")
    };
    assert_eq!(pictures[0].rgba[3], 0, "the corner is cut away");
    assert_eq!(asked(), 1);
    let checked = previews.answer(
        Request::Check {
            id: 3,
            workflow_json: json.into(),
            category: String::new(),
        },
        Some(&model),
    );
    let Reply::Checked { badges, .. } = checked else {
        panic!("{checked:?}")
    };
    assert_eq!(badges.len(), 1, "{badges:?}");
    assert_eq!(asked(), 1, "the check asked the model again");
}

/// The engine's JPEG decoder as the browser runs it (wasm32 with SIMD128): libjpeg's progressive
/// twins of baseline JPEGs (`fixtures/twins`: refinement scans, one pair with restart markers)
/// decode to the baseline's bytes at full size and at 1/2, 1/4 and 1/8, and the SIMD128 RGBA
/// conversion gives the bytes of the scalar RGB one.
#[wasm_bindgen_test]
fn jpeg_decoding_in_wasm_matches_its_reference_paths() {
    use shotline_core::codec::{decode_at, Limits};
    use zune_jpeg::zune_core::{colorspace::ColorSpace, options::DecoderOptions};
    macro_rules! twin {
        ($n:literal) => {
            (
                $n,
                &include_bytes!(concat!("../fixtures/twins/base", $n, ".jpg"))[..],
                &include_bytes!(concat!("../fixtures/twins/prog", $n, ".jpg"))[..],
            )
        };
    }
    for (name, base, prog) in [twin!("420r"), twin!("422"), twin!("444"), twin!("L")] {
        for s in [1u32, 2, 4, 8] {
            let b = decode_at("b.jpg", base, &Limits::default(), &|_, _| s).unwrap();
            let p = decode_at("p.jpg", prog, &Limits::default(), &|_, _| s).unwrap();
            assert_eq!(
                b.image.dimensions(),
                (213u32.div_ceil(s), 141u32.div_ceil(s))
            );
            assert!(
                b.image.as_raw() == p.image.as_raw(),
                "{name} 1/{s}: the twins differ"
            );
        }
    }
    let coffee = include_bytes!("../fixtures/photos/coffee.jpg");
    for bytes in [&coffee[..], twin!("422").1, twin!("444").2] {
        let decode = |cs| {
            let options = DecoderOptions::default().jpeg_set_out_colorspace(cs);
            zune_jpeg::JpegDecoder::new_with_options(bytes, options)
                .decode()
                .unwrap()
        };
        let (rgb, rgba) = (decode(ColorSpace::RGB), decode(ColorSpace::RGBA));
        assert_eq!(rgb.len() / 3, rgba.len() / 4);
        for (a, b) in rgb.chunks_exact(3).zip(rgba.chunks_exact(4)) {
            assert_eq!((a, b[3]), (&b[..3], 255));
        }
    }
}
