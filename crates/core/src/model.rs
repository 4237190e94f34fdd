//! The workflow document: what a merchant builds in the editor, shares as a link and stores on the
//! server. JSON, versioned by `schema`; older versions are migrated on load (see [`Workflow::from_json`]).

use crate::condition::Condition;
use crate::ops;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The schema version this build writes. Documents with a lower number are migrated on load;
/// a higher number is refused with a message asking for a newer Shotline.
pub const SCHEMA_VERSION: u32 = 1;

/// A workflow: a trigger and the steps every photo goes through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Workflow {
    /// Format version of this document.
    pub schema: u32,
    /// What the merchant calls it ("Amazon main image").
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Where photos and product data come from.
    #[serde(default)]
    pub trigger: Trigger,
    /// The assembly line, run top to bottom for each photo.
    pub steps: Vec<Step>,
}

/// What starts a run. The engine runs the same steps whichever fired; the trigger only says where
/// the photos and product data come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Trigger {
    /// Photos given by the user, in the browser or on the command line, with optional product CSV.
    Manual(ManualTrigger),
    /// A store webhook: a generic JSON body or Shopify's product payload.
    Webhook(WebhookTrigger),
    /// A call to the REST API with photos and product JSON.
    Api(ApiTrigger),
}

impl Default for Trigger {
    fn default() -> Self {
        Trigger::Manual(ManualTrigger::default())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ManualTrigger {
    /// Product data source for the photos: none, or a CSV matched by file name.
    pub products: ProductSource,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ProductSource {
    #[default]
    None,
    /// A CSV with a `file` column (`file,sku,title,category,tags,price,...`).
    Csv,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct WebhookTrigger {
    /// The payload's shape.
    pub format: WebhookFormat,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// `{ "images": [{"url"|"base64", "name"}], "product": {...} }`.
    #[default]
    Generic,
    /// Shopify's `products/create` / `products/update` payload.
    Shopify,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ApiTrigger {}

/// One step of the line. `enabled: false` keeps a step in the document but skips it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    #[serde(flatten)]
    pub action: Action,
    /// Skipped when false.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// An optional name the merchant gave this step.
    #[serde(default)]
    pub label: Option<String>,
}

fn yes() -> bool {
    true
}

impl Step {
    /// An enabled, unlabelled step.
    pub fn new(action: Action) -> Self {
        Step {
            action,
            enabled: true,
            label: None,
        }
    }
}

impl From<Action> for Step {
    fn from(action: Action) -> Self {
        Step::new(action)
    }
}

/// Every kind of step. Closed and tagged by `type`; dispatch is a plain `match` in the engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    RemoveBackground(ops::remove_background::RemoveBackground),
    Background(ops::background::Background),
    Shadow(ops::shadow::Shadow),
    AutoEnhance(ops::enhance::AutoEnhance),
    Adjust(ops::enhance::Adjust),
    ReduceGlare(ops::glare::ReduceGlare),
    CropToSubject(ops::crop::CropToSubject),
    Resize(ops::resize::Resize),
    Watermark(ops::watermark::Watermark),
    Filter(ops::filter::Filter),
    Export(Export),
    GenerateCopy(crate::copy::GenerateCopy),
    /// A marketplace preset: its own steps run on a copy of the photo, then an export and the
    /// channel's compliance check. Several channel steps in a row give one image per channel.
    Channel(ChannelStep),
    /// Adds a warning to the photo's report (it does not fail the photo).
    Warn(Warn),
    /// IF `when` THEN `then` ELSE `else`, nested as deep as needed.
    If(IfStep),
    /// Server-side runs only: when the run ends, POST a JSON summary (artifact links, copy,
    /// compliance) to `url`, signed with `secret` when given. In the browser it does nothing.
    Notify(Notify),
}

impl Action {
    /// The `type` tag, as written in JSON.
    pub fn kind(&self) -> &'static str {
        match self {
            Action::RemoveBackground(_) => "remove_background",
            Action::Background(_) => "background",
            Action::Shadow(_) => "shadow",
            Action::AutoEnhance(_) => "auto_enhance",
            Action::Adjust(_) => "adjust",
            Action::ReduceGlare(_) => "reduce_glare",
            Action::CropToSubject(_) => "crop_to_subject",
            Action::Resize(_) => "resize",
            Action::Watermark(_) => "watermark",
            Action::Filter(_) => "filter",
            Action::Export(_) => "export",
            Action::GenerateCopy(_) => "generate_copy",
            Action::Channel(_) => "channel",
            Action::Warn(_) => "warn",
            Action::Notify(_) => "notify",
            Action::If(_) => "if",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct IfStep {
    pub when: Condition,
    #[serde(default)]
    pub then: Vec<Step>,
    #[serde(default, rename = "else")]
    pub otherwise: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Notify {
    /// Where the summary is POSTed (http or https).
    pub url: String,
    /// Signs the body: header `X-Shotline-Signature: sha256=<hex HMAC-SHA256(secret, body)>`.
    /// Never shown through a share link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Warn {
    /// Shown on the photo's report. `{{field}}` placeholders are filled in.
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ChannelStep {
    pub channel: crate::channels::Channel,
    /// File name template for this channel's image; defaults to `{sku}-{channel}.{ext}`.
    #[serde(default)]
    pub name: Option<String>,
}

/// Image file formats the engine writes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Jpeg,
    Png,
    /// Lossless WebP (the pure-Rust encoder that runs in the browser writes lossless only).
    Webp,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Jpeg => "jpg",
            Format::Png => "png",
            Format::Webp => "webp",
        }
    }
    pub fn mime(self) -> &'static str {
        match self {
            Format::Jpeg => "image/jpeg",
            Format::Png => "image/png",
            Format::Webp => "image/webp",
        }
    }
}

/// Writes the current image as a file of the run. The image itself is left as it was, so steps after
/// an export keep working on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Export {
    pub format: Format,
    /// JPEG quality 1–100 (the starting point when `max_bytes` is set).
    pub quality: u8,
    /// When set, the highest JPEG quality whose file fits this many bytes is chosen.
    pub max_bytes: Option<u64>,
    /// File name template: `{sku}`, `{stem}`, `{channel}`, `{index}`, `{ext}`. An empty `{sku}`
    /// falls back to the photo's stem. Default `{stem}.{ext}`.
    pub name: String,
    /// When set, the exported bytes are checked against this channel's rules.
    pub check: Option<crate::channels::Channel>,
    /// Colour that transparent pixels are flattened onto for JPEG (which has no alpha).
    pub matte: String,
}

impl Default for Export {
    fn default() -> Self {
        Export {
            format: Format::Jpeg,
            quality: 90,
            max_bytes: None,
            name: "{stem}.{ext}".into(),
            check: None,
            matte: "#FFFFFF".into(),
        }
    }
}

impl Workflow {
    /// Parses a workflow document of any supported schema version, migrating older ones.
    /// Unknown fields are reported (with their path) rather than silently dropped.
    pub fn from_json(text: &str) -> crate::Result<Workflow> {
        crate::validate::parse(text)
    }

    /// Pretty JSON in the current schema.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// The JSON Schema of the workflow document.
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Workflow)).unwrap_or_default()
    }

    /// Whether a run may ask the host for its neural model: an enabled `remove_background` step
    /// (at any depth of IF blocks) with method `auto` or `neural`. Hosts load the model (seconds,
    /// megabytes) only for such workflows.
    pub fn wants_segmenter(&self) -> bool {
        fn any(steps: &[Step]) -> bool {
            steps.iter().filter(|s| s.enabled).any(|s| match &s.action {
                Action::RemoveBackground(p) => p.method != ops::remove_background::Method::ColorKey,
                Action::If(b) => any(&b.then) || any(&b.otherwise),
                _ => false,
            })
        }
        any(&self.steps)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wf(steps: &str) -> Workflow {
        Workflow::from_json(&format!(r#"{{"schema":1,"name":"t","steps":{steps}}}"#))
            .expect("workflow")
    }

    #[test]
    fn only_cut_outs_that_may_use_the_model_want_it() {
        assert!(wf(r#"[{"type":"remove_background"}]"#).wants_segmenter());
        assert!(wf(r#"[{"type":"remove_background","method":"neural"}]"#).wants_segmenter());
        assert!(!wf(r#"[{"type":"remove_background","method":"color_key"}]"#).wants_segmenter());
        assert!(!wf(r#"[{"type":"remove_background","enabled":false}]"#).wants_segmenter());
        assert!(!wf(r#"[{"type":"resize","width":100,"height":100}]"#).wants_segmenter());
        let nested = r#"[{"type":"if","when":{"field":"product.category","op":"eq","value":"Mugs"},
            "then":[],"else":[{"type":"if","when":{"field":"image.width","op":"gt","value":10},
            "then":[{"type":"remove_background","method":"neural"}]}]}]"#;
        assert!(wf(nested).wants_segmenter());
    }
}
