//! The web app in a real browser (headless Chromium through wasm-bindgen-test-runner):
//! `scripts/test-web.sh` runs these with the runner and driver set up.
#![cfg(target_arch = "wasm32")]
#![allow(clippy::unwrap_used)] // tests may unwrap (STYLE.md)

use shotline_web::browser::yield_to_browser;
use shotline_web::App;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

/// Mounts the app into a fresh container of its own, so tests do not see each other's pages.
fn mount() -> HtmlElement {
    let doc = web_sys::window().unwrap().document().unwrap();
    let host: HtmlElement = doc.create_element("div").unwrap().unchecked_into();
    doc.body().unwrap().append_child(&host).unwrap();
    leptos::mount::mount_to(host.clone(), App).forget();
    host
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
