//! Small wrappers over the browser APIs the app needs.

use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// A `blob:` URL that is revoked when the last holder drops it, so thumbnails and downloads of
/// cleared results do not keep their bytes alive.
#[derive(Debug, PartialEq, Eq)]
pub struct ObjectUrl(String);

impl ObjectUrl {
    /// A URL for bytes with a MIME type (an exported artifact).
    pub fn from_bytes(bytes: &[u8], mime: &str) -> Result<ObjectUrl, String> {
        let array = js_sys::Uint8Array::from(bytes);
        let parts = js_sys::Array::of1(&array);
        let opts = web_sys::BlobPropertyBag::new();
        opts.set_type(mime);
        let blob = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &opts)
            .map_err(describe)?;
        Self::from_blob(&blob)
    }

    /// A URL for a blob the browser already holds (a dropped file: no copy is made).
    pub fn from_blob(blob: &web_sys::Blob) -> Result<ObjectUrl, String> {
        web_sys::Url::create_object_url_with_blob(blob)
            .map(ObjectUrl)
            .map_err(describe)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Drop for ObjectUrl {
    fn drop(&mut self) {
        let _ = web_sys::Url::revoke_object_url(&self.0);
    }
}

/// Reads a file's bytes.
pub async fn read_bytes(file: &web_sys::File) -> Result<Vec<u8>, String> {
    let buffer = JsFuture::from(file.array_buffer())
        .await
        .map_err(describe)?;
    Ok(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Lets the browser run its queued work (rendering, input) before the caller continues: a
/// zero-delay timeout is a new task, and the browser may paint between tasks.
pub async fn yield_to_browser() {
    let promise = js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(window) = web_sys::window() {
            if window
                .set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, 0)
                .is_ok()
            {
                return;
            }
        }
        let _ = resolve.call0(&JsValue::NULL);
    });
    let _ = JsFuture::from(promise).await;
}

/// A JS error as text, for messages shown on the page.
pub fn describe(err: JsValue) -> String {
    err.dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| err.as_string())
        .unwrap_or_else(|| format!("{err:?}"))
}

fn local_storage() -> Result<web_sys::Storage, String> {
    web_sys::window()
        .ok_or("no window")?
        .local_storage()
        .map_err(describe)?
        .ok_or_else(|| "localStorage is turned off".to_string())
}

/// The text stored under `key` in localStorage, if any.
pub fn storage_get(key: &str) -> Result<Option<String>, String> {
    local_storage()?.get_item(key).map_err(describe)
}

/// Stores text under `key` in localStorage (fails when the browser's quota is used up).
pub fn storage_set(key: &str, value: &str) -> Result<(), String> {
    local_storage()?.set_item(key, value).map_err(describe)
}

pub fn storage_remove(key: &str) -> Result<(), String> {
    local_storage()?.remove_item(key).map_err(describe)
}

/// Puts text on the clipboard. Fails where the browser refuses (no permission, page not focused).
pub async fn copy_text(text: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let promise = window.navigator().clipboard().write_text(text);
    JsFuture::from(promise).await.map(|_| ()).map_err(describe)
}

/// Unix time in milliseconds.
pub fn now() -> f64 {
    js_sys::Date::now()
}

/// A time of day in the merchant's locale ("14:03:12"), for "Last synced at …".
pub fn time_of_day(unix_ms: f64) -> String {
    let date = js_sys::Date::new(&JsValue::from_f64(unix_ms));
    String::from(date.to_locale_time_string("default"))
}

/// The page's path (`/`, `/s/abc123`).
pub fn pathname() -> String {
    web_sys::window()
        .and_then(|w| w.location().pathname().ok())
        .unwrap_or_else(|| "/".into())
}

/// Offers `text` as a file download named `name`; the blob is released a little later, once the
/// browser has started the download.
pub fn download_text(name: &str, text: &str, mime: &str) -> Result<(), String> {
    let url = crate::files::save(&[text.as_bytes()], name, mime)?;
    let release = wasm_bindgen::closure::Closure::once_into_js(move || drop(url));
    if let Some(w) = web_sys::window() {
        let _ = w
            .set_timeout_with_callback_and_timeout_and_arguments_0(release.unchecked_ref(), 10_000);
    }
    Ok(())
}

/// The page's fragment, without its `#` (empty when there is none).
pub fn hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .map(|h| h.trim_start_matches('#').to_string())
        .unwrap_or_default()
}

/// The page's origin (`http://127.0.0.1:8080`), for links to share.
pub fn origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

thread_local! {
    static NAVIGATION: std::cell::RefCell<Option<Box<dyn Fn(&str)>>> =
        const { std::cell::RefCell::new(None) };
}

/// Loads another page of the app (or hands the path to the hook set by [`intercept_navigation`]).
pub fn go_to(path: &str) {
    let hooked = NAVIGATION.with(|n| n.borrow().as_ref().map(|f| f(path)).is_some());
    if hooked {
        return;
    }
    if let Some(w) = web_sys::window() {
        let _ = w.location().set_href(path);
    }
}

/// Makes [`go_to`] call `hook` instead of leaving the page (the component tests check where a
/// button would go without losing their page). `None` restores real navigation.
pub fn intercept_navigation(hook: Option<Box<dyn Fn(&str)>>) {
    NAVIGATION.with(|n| *n.borrow_mut() = hook);
}

/// Drops `value` once the current event callback has returned. A worker's message handler that
/// replaces its worker must not drop that handler's own closure while it runs (wasm-bindgen then
/// throws "closure invoked recursively or after being dropped").
pub fn drop_later<T: 'static>(value: T) {
    wasm_bindgen_futures::spawn_local(async move { drop(value) });
}
