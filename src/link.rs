//! Workflows shared inside the link itself: `/link#w1.<data>`, where the data is the workflow's
//! JSON, deflated and base64url-encoded. The fragment never reaches a server, so such a link works
//! with no backend and no account.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use shotline_core::Workflow;

/// The format of the data after `#`; a future format gets a new prefix.
const PREFIX: &str = "w1.";
/// A workflow is a few kilobytes; anything that inflates beyond this is not one of ours.
const MAX_JSON: usize = 1 << 20;

/// Why a link could not be opened, in words for the person who clicked it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkError {
    /// Nothing after `#`.
    Empty,
    /// Cut short, mistyped, or not a Shotline link.
    Damaged,
    /// A complete link whose workflow this version cannot use (newer schema, invalid steps).
    Unusable(Vec<String>),
}

impl std::fmt::Display for LinkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LinkError::Empty => f.write_str(
                "This link has no workflow in it. Ask the person who shared it to copy the link again.",
            ),
            LinkError::Damaged => f.write_str(
                "This link is damaged: part of it is missing or was changed. Ask the person who shared it to copy the whole link again.",
            ),
            LinkError::Unusable(problems) => write!(
                f,
                "This workflow cannot be opened here: {}",
                problems.join("; ")
            ),
        }
    }
}

/// The fragment (without `#`) that carries `wf`.
pub fn encode(wf: &Workflow) -> String {
    let json = serde_json::to_vec(wf).unwrap_or_default();
    let packed = miniz_oxide::deflate::compress_to_vec(&json, 9);
    format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(packed))
}

/// The full link for `wf` on this app's `origin` (`https://shotline.example`).
pub fn url(origin: &str, wf: &Workflow) -> String {
    format!("{origin}/link#{}", encode(wf))
}

/// The workflow in a fragment (with or without its `#`), validated like any imported document.
pub fn decode(fragment: &str) -> Result<Workflow, LinkError> {
    let fragment = fragment.trim().trim_start_matches('#');
    if fragment.is_empty() {
        return Err(LinkError::Empty);
    }
    let data = fragment.strip_prefix(PREFIX).ok_or(LinkError::Damaged)?;
    // Chat apps and mail clients sometimes append punctuation or padding: tolerate `=`.
    let packed = URL_SAFE_NO_PAD
        .decode(data.trim_end_matches('='))
        .map_err(|_| LinkError::Damaged)?;
    let json = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, MAX_JSON)
        .map_err(|_| LinkError::Damaged)?;
    let text = String::from_utf8(json).map_err(|_| LinkError::Damaged)?;
    crate::library::check(&text).map_err(LinkError::Unusable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bundled() -> Vec<Workflow> {
        shotline_core::templates::all()
            .into_iter()
            .map(|(_, w)| w)
            .collect()
    }

    /// Every bundled workflow survives the trip through a link unchanged, and links stay short
    /// enough for chat apps (well under 2,000 characters for these).
    #[test]
    fn links_round_trip() {
        for wf in bundled() {
            let link = url("https://example.test", &wf);
            let (_, fragment) = link.split_once('#').expect("a fragment");
            assert!(fragment.starts_with("w1."));
            assert!(
                fragment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)),
                "only URL-safe characters: {fragment}"
            );
            assert!(link.len() < 2000, "{}: {} characters", wf.name, link.len());
            assert_eq!(decode(&format!("#{fragment}")).expect("decodes"), wf);
        }
    }

    /// A cut-short, altered or foreign fragment says the link is damaged; an empty one says so.
    #[test]
    fn damaged_links_are_named() {
        let wf = bundled().remove(0);
        let good = encode(&wf);
        assert_eq!(decode(""), Err(LinkError::Empty));
        assert_eq!(decode("#"), Err(LinkError::Empty));
        assert_eq!(decode(&good[..good.len() / 2]), Err(LinkError::Damaged));
        assert_eq!(decode("x1.abc"), Err(LinkError::Damaged));
        assert_eq!(decode("w1.!!!"), Err(LinkError::Damaged));
        assert_eq!(
            decode(&good.replace("w1.", "w1.AAAA")),
            Err(LinkError::Damaged)
        );
        assert!(LinkError::Damaged.to_string().contains("damaged"));
    }

    /// A complete link to a workflow from a newer Shotline, or to an invalid one, says why.
    #[test]
    fn unusable_workflows_say_why() {
        let pack = |json: &str| {
            format!(
                "w1.{}",
                URL_SAFE_NO_PAD.encode(miniz_oxide::deflate::compress_to_vec(json.as_bytes(), 6))
            )
        };
        let newer = decode(&pack(r#"{"schema":99,"name":"x","steps":[]}"#)).unwrap_err();
        assert!(newer.to_string().contains("newer Shotline"), "{newer}");
        let bad = decode(&pack(
            r#"{"schema":1,"name":"x","steps":[{"type":"export","quality":500}]}"#,
        ))
        .unwrap_err();
        assert!(bad.to_string().contains("quality"), "{bad}");
        // A zip bomb is refused, not inflated.
        let bomb = pack(&" ".repeat(4 << 20));
        assert_eq!(decode(&bomb), Err(LinkError::Damaged));
    }
}
