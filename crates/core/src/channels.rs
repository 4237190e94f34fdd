//! Marketplace channels: each a preset (a named macro of steps ending in an export) and a
//! compliance check that reads the exported bytes back and reports pass/fail with reasons.
//!
//! Each rule names its source (the marketplace help page) beside the number. Checks run on the
//! bytes as written, decoded again, so they see exactly what the marketplace will see.

use crate::codec::{self, Limits};
use crate::model::{Action, Export, Format, Step};
use crate::ops::background::Background;
use crate::ops::crop::CropToSubject;
use crate::ops::resize::{Fit, Resize};
use crate::raster::Raster;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The channels Shotline knows the rules of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    AmazonMain,
    ShopifySquare,
    Etsy,
    Ebay,
    InstagramSquare,
    InstagramPortrait,
    InstagramStory,
    FacebookCatalog,
    GoogleMerchant,
    Pinterest,
    Woocommerce,
}

impl Channel {
    pub const ALL: [Channel; 11] = [
        Channel::AmazonMain,
        Channel::ShopifySquare,
        Channel::Etsy,
        Channel::Ebay,
        Channel::InstagramSquare,
        Channel::InstagramPortrait,
        Channel::InstagramStory,
        Channel::FacebookCatalog,
        Channel::GoogleMerchant,
        Channel::Pinterest,
        Channel::Woocommerce,
    ];

    /// The snake_case id used in JSON and file names.
    pub fn id(self) -> &'static str {
        match self {
            Channel::AmazonMain => "amazon_main",
            Channel::ShopifySquare => "shopify_square",
            Channel::Etsy => "etsy",
            Channel::Ebay => "ebay",
            Channel::InstagramSquare => "instagram_square",
            Channel::InstagramPortrait => "instagram_portrait",
            Channel::InstagramStory => "instagram_story",
            Channel::FacebookCatalog => "facebook_catalog",
            Channel::GoogleMerchant => "google_merchant",
            Channel::Pinterest => "pinterest",
            Channel::Woocommerce => "woocommerce",
        }
    }

    /// Parses an id (`amazon_main`) or a short alias (`amazon`, `shopify`, `instagram`).
    pub fn parse(s: &str) -> Option<Channel> {
        let s = s.trim().to_ascii_lowercase().replace('-', "_");
        let alias = match s.as_str() {
            "amazon" => "amazon_main",
            "shopify" => "shopify_square",
            "instagram" => "instagram_square",
            "facebook" => "facebook_catalog",
            "google" => "google_merchant",
            "woo" => "woocommerce",
            other => other,
        };
        Channel::ALL.into_iter().find(|c| c.id() == alias)
    }

    /// The steps that prepare the image for this channel (run on a copy of the current image):
    /// crop around the subject to the channel's shape and fill, a white background where the
    /// marketplace wants one, and a Lanczos resize padded with white to the exact size.
    pub fn preset_steps(self) -> Vec<Step> {
        let Preset {
            size: (w, h),
            fill,
            white,
            ..
        } = self.preset();
        let mut steps = vec![crop_step(fill, w as f32 / h as f32)];
        if white {
            steps.push(white_background_step());
        }
        steps.push(Step::new(Action::Resize(Resize {
            width: Some(w),
            height: Some(h),
            fit: Fit::Pad,
            background: "#FFFFFF".into(),
            upscale: true,
        })));
        steps
    }

    /// The export this channel ends with: `{sku}-{channel}.{ext}`, checked against the rules.
    pub fn export(self) -> Export {
        let p = self.preset();
        Export {
            format: Format::Jpeg,
            quality: p.quality,
            max_bytes: p.max_bytes,
            name: "{sku}-{channel}.{ext}".into(),
            check: Some(self),
            ..Export::default()
        }
    }

    /// The numbers behind [`preset_steps`](Channel::preset_steps) and [`export`](Channel::export).
    fn preset(self) -> Preset {
        use Channel::*;
        let p = |size, fill, white, quality, max_bytes| Preset {
            size,
            fill,
            white,
            quality,
            max_bytes,
        };
        match self {
            // Fill 0.90 leaves margin above Amazon's 85 % minimum; 2000 px enables zoom.
            AmazonMain => p((2000, 2000), 0.90, true, 90, Some(AMAZON_MAX_BYTES)),
            ShopifySquare => p((2048, 2048), 0.85, true, 85, None),
            // Etsy's recommended 3000×2250 (4:3); shortest side 2250 ≥ 2000.
            Etsy => p((3000, 2250), 0.80, true, 85, None),
            // eBay asks for JPEG quality 90 or more; 92 keeps a margin.
            Ebay => p((1600, 1600), 0.85, true, 92, None),
            InstagramSquare => p((1080, 1080), 0.80, false, 90, None),
            InstagramPortrait => p((1080, 1350), 0.80, false, 90, None),
            InstagramStory => p((1080, 1920), 0.70, false, 90, None),
            FacebookCatalog => p((1024, 1024), 0.85, true, 88, None),
            GoogleMerchant => p((1500, 1500), 0.85, true, 90, Some(GOOGLE_MAX_BYTES)),
            Pinterest => p((1000, 1500), 0.80, false, 88, None),
            // Twice WooCommerce's default 600 px single-product width, for high-density screens.
            Woocommerce => p((1200, 1200), 0.85, true, 85, None),
        }
    }
}

struct Preset {
    size: (u32, u32),
    /// Share of the frame the subject's long side takes.
    fill: f32,
    /// Whether the background is made pure white.
    white: bool,
    quality: u8,
    max_bytes: Option<u64>,
}

/// Amazon "Product image requirements" (Seller Central): files up to 10 MB.
const AMAZON_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Google Merchant Center Help, "Image link [image_link]": files up to 16 MB.
const GOOGLE_MAX_BYTES: u64 = 16 * 1024 * 1024;

// The crop and background parameter structs belong to other modules; they are built from JSON so
// only the fields named here are set and the rest keep their defaults.
fn crop_step(fill: f32, aspect: f32) -> Step {
    let p: CropToSubject =
        serde_json::from_value(json!({ "fill": fill, "aspect": aspect })).unwrap_or_default();
    Step::new(Action::CropToSubject(p))
}

fn white_background_step() -> Step {
    let p: Background = serde_json::from_value(json!({ "color": "#FFFFFF" })).unwrap_or_default();
    Step::new(Action::Background(p))
}

/// Facts about the run that the bytes alone cannot tell (e.g. whether a watermark was applied).
#[derive(Debug, Clone, Default)]
pub struct CheckContext {
    pub watermarked: bool,
}

/// One rule's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleResult {
    pub rule: String,
    pub pass: bool,
    pub detail: String,
}

/// The compliance report of one exported file for one channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Compliance {
    pub channel: Channel,
    pub pass: bool,
    pub rules: Vec<RuleResult>,
}

impl RuleResult {
    fn new(rule: &str, pass: bool, detail: impl Into<String>) -> Self {
        RuleResult {
            rule: rule.to_string(),
            pass,
            detail: detail.into(),
        }
    }
}

/// Checks exported bytes against a channel's rules. The bytes are decoded again (default limits);
/// unreadable bytes give one failing `readable` rule. Never panics.
pub fn check(channel: Channel, bytes: &[u8], ctx: &CheckContext) -> Compliance {
    let decoded = match codec::decode(channel.id(), bytes, &Limits::default()) {
        Ok(d) => d,
        Err(e) => {
            let reason = match e {
                crate::Error::Decode { reason, .. } => reason,
                other => other.to_string(),
            };
            return Compliance {
                channel,
                pass: false,
                rules: vec![RuleResult::new(
                    "readable",
                    false,
                    format!("the exported file cannot be read back: {reason}"),
                )],
            };
        }
    };
    let img = &decoded.image;
    let (w, h) = img.dimensions();
    let mut rules = vec![RuleResult::new(
        "readable",
        true,
        format!("{w}×{h} {}", decoded.format.extension().to_uppercase()),
    )];
    let r = &mut rules;
    use Channel::*;
    match channel {
        // Amazon Seller Central, "Product image requirements" (main image): JPEG preferred,
        // pure white background RGB 255,255,255, product fills 85 % or more of the frame, at least
        // 1000 px on the longest side (for zoom), at most 10,000 px, up to 10 MB, no watermarks.
        AmazonMain => {
            format_is_jpeg(r, decoded.format, "Amazon");
            white_border(r, img);
            subject_fill(r, img, 0.85);
            long_side_at_least(r, w, h, 1000, "Amazon (for zoom)");
            long_side_at_most(r, w, h, 10_000, "Amazon");
            file_at_most(r, bytes.len(), AMAZON_MAX_BYTES, "Amazon");
            no_watermark(r, ctx, "Amazon's main image");
        }
        // Shopify Help Center, "Product media types and requirements": square 2048×2048 px
        // recommended for product images.
        ShopifySquare => exact_size(r, w, h, (2048, 2048), "Shopify's square product image"),
        // Etsy Help, "How to Add Photos to Your Listing": shortest side at least 2000 px.
        Etsy => {
            let short = w.min(h);
            r.push(RuleResult::new(
                "min_size",
                short >= 2000,
                format!("Etsy asks for at least 2000 px on the shortest side (yours: {short} px)"),
            ));
        }
        // eBay "Picture policy" and "Tips for taking photos": 1600 px on the longest side
        // recommended for zoom; save JPEGs at quality 90 or higher.
        Ebay => {
            long_side_at_least(r, w, h, 1600, "eBay (for zoom)");
            format_is_jpeg(r, decoded.format, "eBay");
            match codec::jpeg_quality(bytes) {
                Some(q) => r.push(RuleResult::new(
                    "jpeg_quality",
                    q >= 90,
                    format!("eBay asks for JPEG quality 90 or higher (yours: about {q})"),
                )),
                None => r.push(RuleResult::new(
                    "jpeg_quality",
                    false,
                    "eBay asks for JPEG quality 90 or higher (the quality could not be read)",
                )),
            }
        }
        // Instagram Help Center, "Image resolution on Instagram": 1080 px wide; square 1:1,
        // portrait 4:5 (1080×1350), Stories 9:16 (1080×1920).
        InstagramSquare => exact_size(r, w, h, (1080, 1080), "Instagram square posts"),
        InstagramPortrait => exact_size(r, w, h, (1080, 1350), "Instagram portrait posts"),
        InstagramStory => exact_size(r, w, h, (1080, 1920), "Instagram Stories"),
        // Meta Commerce Manager, "Image specifications for catalog items": 1024×1024 recommended.
        FacebookCatalog => exact_size(r, w, h, (1024, 1024), "Facebook catalog images"),
        // Google Merchant Center Help, "Image link [image_link]": at least 100×100 (non-apparel),
        // no watermarks or promotional overlays, up to 16 MB; larger images recommended
        // (1500×1500 here, for zoom).
        GoogleMerchant => {
            r.push(RuleResult::new(
                "min_size",
                w >= 100 && h >= 100,
                format!("Google requires at least 100×100 px (yours: {w}×{h})"),
            ));
            let big = w >= 1500 && h >= 1500;
            r.push(RuleResult::new(
                "recommended_size",
                true,
                if big {
                    format!("{w}×{h} meets the recommended 1500×1500 px")
                } else {
                    format!("advice: 1500×1500 px or more is recommended for zoom (yours: {w}×{h})")
                },
            ));
            no_watermark(r, ctx, "Google Merchant Center");
            file_at_most(r, bytes.len(), GOOGLE_MAX_BYTES, "Google");
        }
        // Pinterest Business Help, "Product Pin specs": 2:3, 1000×1500 px recommended.
        Pinterest => exact_size(r, w, h, (1000, 1500), "Pinterest product Pins"),
        // WooCommerce docs, "Adding product images and galleries": single product images are
        // shown 600 px wide by default (Customizer › WooCommerce › Product Images).
        Woocommerce => r.push(RuleResult::new(
            "min_size",
            w >= 600,
            format!("WooCommerce shows product images 600 px wide; yours is {w} px wide"),
        )),
    }
    Compliance {
        channel,
        pass: rules.iter().all(|r| r.pass),
        rules,
    }
}

fn format_is_jpeg(r: &mut Vec<RuleResult>, f: Format, who: &str) {
    r.push(RuleResult::new(
        "format",
        f == Format::Jpeg,
        format!("{who} wants JPEG (yours: {})", f.extension().to_uppercase()),
    ));
}

fn exact_size(r: &mut Vec<RuleResult>, w: u32, h: u32, want: (u32, u32), what: &str) {
    r.push(RuleResult::new(
        "size",
        (w, h) == want,
        format!("{what} are {}×{} px (yours: {w}×{h})", want.0, want.1),
    ));
}

fn long_side_at_least(r: &mut Vec<RuleResult>, w: u32, h: u32, min: u32, who: &str) {
    let long = w.max(h);
    r.push(RuleResult::new(
        "min_size",
        long >= min,
        format!("{who} needs at least {min} px on the longest side (yours: {long} px)"),
    ));
}

fn long_side_at_most(r: &mut Vec<RuleResult>, w: u32, h: u32, max: u32, who: &str) {
    let long = w.max(h);
    r.push(RuleResult::new(
        "max_size",
        long <= max,
        format!("{who} accepts at most {max} px on the longest side (yours: {long} px)"),
    ));
}

fn file_at_most(r: &mut Vec<RuleResult>, len: usize, max: u64, who: &str) {
    let mb = |b: f64| b / (1024.0 * 1024.0);
    r.push(RuleResult::new(
        "file_size",
        len as u64 <= max,
        format!(
            "{who} accepts files up to {:.0} MB (yours: {:.1} MB)",
            mb(max as f64),
            mb(len as f64)
        ),
    ));
}

fn no_watermark(r: &mut Vec<RuleResult>, ctx: &CheckContext, who: &str) {
    r.push(RuleResult::new(
        "no_watermark",
        !ctx.watermarked,
        if ctx.watermarked {
            format!("{who} does not allow watermarks; remove the watermark step for this channel")
        } else {
            "no watermark".to_string()
        },
    ));
}

/// Every pixel of the outermost row and column must be exactly 255,255,255 (and opaque).
fn white_border(r: &mut Vec<RuleResult>, img: &Raster) {
    let (w, h) = img.dimensions();
    let mut bad = 0usize;
    let mut total = 0usize;
    let mut first: Option<(u32, u32, [u8; 4])> = None;
    let mut look = |x: u32, y: u32| {
        let p = img.get(x, y);
        total += 1;
        if p != [255, 255, 255, 255] {
            bad += 1;
            first.get_or_insert((x, y, p));
        }
    };
    for x in 0..w {
        look(x, 0);
        if h > 1 {
            look(x, h - 1);
        }
    }
    for y in 1..h.saturating_sub(1) {
        look(0, y);
        if w > 1 {
            look(w - 1, y);
        }
    }
    let detail = match first {
        None => "the background is pure white (255,255,255) all around the edge".to_string(),
        Some((x, y, p)) => format!(
            "Amazon needs a pure white background (255,255,255): {bad} of {total} edge pixels \
             are not, e.g. {},{},{} at ({x},{y}); add a white background step",
            p[0], p[1], p[2]
        ),
    };
    r.push(RuleResult::new("white_background", bad == 0, detail));
}

/// Share of the frame the subject takes: the bounding box of pixels that are visibly not white
/// (some channel below 245, i.e. more than JPEG noise) and not transparent, its larger ratio to
/// the frame along either axis.
pub fn fill_ratio(img: &Raster) -> f32 {
    let (w, h) = img.dimensions();
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0u32, 0u32);
    for (y, row) in img.as_raw().chunks_exact(w.max(1) as usize * 4).enumerate() {
        for (x, p) in row.chunks_exact(4).enumerate() {
            if p[3] > 16 && p[0].min(p[1]).min(p[2]) < 245 {
                let (x, y) = (x as u32, y as u32);
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
    }
    if x0 > x1 || w == 0 || h == 0 {
        return 0.0;
    }
    let fx = (x1 - x0 + 1) as f32 / w as f32;
    let fy = (y1 - y0 + 1) as f32 / h as f32;
    fx.max(fy)
}

fn subject_fill(r: &mut Vec<RuleResult>, img: &Raster, min: f32) {
    let f = fill_ratio(img);
    r.push(RuleResult::new(
        "subject_fill",
        f >= min,
        format!(
            "Amazon wants the product to fill at least {:.0} % of the frame (yours: {:.0} %); \
             crop closer to the subject",
            min * 100.0,
            f * 100.0
        ),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A product on pure white: a dark rectangle spanning `fill` of the frame's width.
    fn product(w: u32, h: u32, fill: f32, bg: [u8; 4]) -> Raster {
        let mut img = Raster::new(w, h, bg);
        let pw = (w as f32 * fill) as u32;
        let ph = (h as f32 * fill * 0.8) as u32;
        let (x0, y0) = ((w - pw) / 2, (h - ph) / 2);
        for y in y0..y0 + ph {
            for x in x0..x0 + pw {
                img.put(x, y, [60, 90, 150, 255]);
            }
        }
        img
    }

    fn jpeg(img: &Raster, q: u8) -> Vec<u8> {
        codec::encode(img, Format::Jpeg, q, [255; 4]).unwrap()
    }

    fn failing(c: &Compliance) -> Vec<&str> {
        c.rules
            .iter()
            .filter(|r| !r.pass)
            .map(|r| r.rule.as_str())
            .collect()
    }

    /// A compliant Amazon main image passes every rule.
    #[test]
    fn compliant_amazon_image_passes() {
        let bytes = jpeg(&product(1200, 1200, 0.9, [255; 4]), 90);
        let c = check(Channel::AmazonMain, &bytes, &CheckContext::default());
        assert!(c.pass, "{:#?}", c.rules);
        assert!(c.rules.len() >= 7);
    }

    /// Off-white background, a small image and a low fill each fail with the right rule named.
    #[test]
    fn amazon_failures_name_the_rule() {
        let ctx = CheckContext::default();
        let off_white = jpeg(&product(1200, 1200, 0.9, [250, 250, 250, 255]), 90);
        let c = check(Channel::AmazonMain, &off_white, &ctx);
        assert_eq!(failing(&c), ["white_background"]);
        assert!(c.rules.iter().any(|r| r.detail.contains("250,250,250")));

        let small = jpeg(&product(800, 800, 0.9, [255; 4]), 90);
        assert_eq!(
            failing(&check(Channel::AmazonMain, &small, &ctx)),
            ["min_size"]
        );

        let low = jpeg(&product(1200, 1200, 0.6, [255; 4]), 90);
        let c = check(Channel::AmazonMain, &low, &ctx);
        assert_eq!(failing(&c), ["subject_fill"]);
        assert!(
            c.rules.iter().any(|r| r.detail.contains("60 %")),
            "{:#?}",
            c.rules
        );

        let png = codec::encode(
            &product(1200, 1200, 0.9, [255; 4]),
            Format::Png,
            90,
            [255; 4],
        )
        .unwrap();
        assert_eq!(failing(&check(Channel::AmazonMain, &png, &ctx)), ["format"]);

        let marked = CheckContext { watermarked: true };
        let ok = jpeg(&product(1200, 1200, 0.9, [255; 4]), 90);
        assert_eq!(
            failing(&check(Channel::AmazonMain, &ok, &marked)),
            ["no_watermark"]
        );
    }

    /// eBay's quality rule reads the quantisation tables: q95 passes, q70 fails.
    #[test]
    fn ebay_quality_estimate() {
        let img = product(1600, 1600, 0.8, [255; 4]);
        let ctx = CheckContext::default();
        let c = check(Channel::Ebay, &jpeg(&img, 95), &ctx);
        assert!(c.pass, "{:#?}", c.rules);
        let c = check(Channel::Ebay, &jpeg(&img, 70), &ctx);
        assert_eq!(failing(&c), ["jpeg_quality"]);
    }

    /// Corrupt bytes give one failing `readable` rule, not a panic.
    #[test]
    fn corrupt_bytes_fail_readable() {
        let mut bytes = jpeg(&product(64, 64, 0.5, [255; 4]), 90);
        bytes.truncate(40);
        for ch in Channel::ALL {
            let c = check(ch, &bytes, &CheckContext::default());
            assert!(!c.pass);
            assert_eq!(c.rules[0].rule, "readable");
            let c = check(ch, b"nonsense", &CheckContext::default());
            assert_eq!(failing(&c), ["readable"]);
        }
    }

    /// Sizes per channel: exact sizes pass only when exact, minimums at the threshold.
    #[test]
    fn size_rules() {
        let ctx = CheckContext::default();
        for ch in Channel::ALL {
            let p = ch.preset();
            let img = product(p.size.0, p.size.1, p.fill, [255; 4]);
            let bytes = codec::encode(&img, Format::Jpeg, p.quality, [255; 4]).unwrap();
            let c = check(ch, &bytes, &ctx);
            assert!(
                c.pass,
                "{ch:?}: the preset's own output must comply: {:#?}",
                c.rules
            );
        }
        let small = jpeg(&product(1080, 1000, 0.8, [255; 4]), 90);
        assert_eq!(
            failing(&check(Channel::InstagramSquare, &small, &ctx)),
            ["size"]
        );
        assert_eq!(failing(&check(Channel::Etsy, &small, &ctx)), ["min_size"]);
        let tiny = jpeg(&product(90, 90, 0.8, [255; 4]), 90);
        assert_eq!(
            failing(&check(Channel::GoogleMerchant, &tiny, &ctx)),
            ["min_size"]
        );
        let c = check(Channel::GoogleMerchant, &small, &ctx);
        assert!(c.pass);
        assert!(c.rules.iter().any(|r| r.detail.starts_with("advice")));
    }

    /// Presets and exports: steps in order, exact pad size, names and checks.
    #[test]
    fn presets_and_exports() {
        for ch in Channel::ALL {
            let steps = ch.preset_steps();
            assert!(matches!(steps[0].action, Action::CropToSubject(_)));
            let Some(Step {
                action: Action::Resize(r),
                ..
            }) = steps.last()
            else {
                panic!("{ch:?} must end with a resize");
            };
            assert_eq!(r.fit, Fit::Pad);
            assert!(r.validate().is_empty());
            let e = ch.export();
            assert_eq!(e.check, Some(ch));
            assert_eq!(e.name, "{sku}-{channel}.{ext}");
            assert!(crate::engine::validate_export(&e).is_empty());
        }
        assert_eq!(
            Channel::AmazonMain.export().max_bytes,
            Some(10 * 1024 * 1024)
        );
        assert!(Channel::Ebay.export().quality >= 90);
    }
}
