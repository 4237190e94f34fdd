//! Marketplace channels: each a preset (a named macro of steps ending in an export) and a
//! compliance check that reads the exported bytes back and reports pass/fail with reasons.
//! (Owned by a helper.)

use crate::model::{Export, Step};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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

    /// The steps that prepare the image for this channel (run on a copy of the current image).
    pub fn preset_steps(self) -> Vec<Step> {
        Vec::new()
    }

    /// The export this channel ends with.
    pub fn export(self) -> Export {
        Export {
            check: Some(self),
            ..Export::default()
        }
    }
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

/// Checks exported bytes against a channel's rules.
pub fn check(channel: Channel, bytes: &[u8], ctx: &CheckContext) -> Compliance {
    let _ = (bytes, ctx);
    Compliance {
        channel,
        pass: false,
        rules: Vec::new(),
    }
}
