//! Webhook signatures, token hashes and random secrets.
//!
//! ```text
//! verify_shopify   X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(secret, raw body))
//! sign_shotline    X-Shotline-Signature:  sha256=<hex HMAC-SHA256(secret, raw body)>  (generic hooks, notify POSTs)
//! token_hash       what the store keeps instead of a workspace token
//! random_token     secrets, slugs and ids
//! ```
//!
//! Every comparison of a secret-derived value runs in constant time, so the time a refusal takes says
//! nothing about how many leading bytes of a forged signature were right.

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::RngCore as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq as _;

type HmacSha256 = Hmac<Sha256>;

/// The prefix of `X-Shotline-Signature`, naming the algorithm so another can be added later.
const SHOTLINE_PREFIX: &str = "sha256=";

fn mac(secret: &[u8], body: &[u8]) -> HmacSha256 {
    // HMAC takes keys of any length (long ones are hashed first), so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC accepts keys of any length");
    mac.update(body);
    mac
}

/// Whether `header_b64` (the `X-Shopify-Hmac-Sha256` header) is Shopify's signature of `body`.
///
/// Surrounding whitespace is ignored; a header that is not base64 is simply a bad signature.
pub fn verify_shopify(secret: &[u8], body: &[u8], header_b64: &str) -> bool {
    match STANDARD.decode(header_b64.trim()) {
        Ok(tag) => mac(secret, body).verify_slice(&tag).is_ok(),
        Err(_) => false,
    }
}

/// The `X-Shotline-Signature` value for `body`: `sha256=` and the lowercase hex HMAC-SHA256.
pub fn sign_shotline(secret: &[u8], body: &[u8]) -> String {
    let tag = mac(secret, body).finalize().into_bytes();
    format!("{SHOTLINE_PREFIX}{}", hex::encode(tag))
}

/// Whether `header` (an `X-Shotline-Signature` value, `sha256=<hex>`) signs `body` with `secret`.
///
/// The `sha256=` prefix is required; hex digits may be of either case.
pub fn verify_shotline(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Some(hex_tag) = header.trim().strip_prefix(SHOTLINE_PREFIX) else {
        return false;
    };
    match hex::decode(hex_tag) {
        Ok(tag) => mac(secret, body).verify_slice(&tag).is_ok(),
        Err(_) => false,
    }
}

/// The lowercase hex SHA-256 of a token's secret: what the store keeps, so a leaked database
/// holds no usable tokens.
///
/// A plain hash is enough (no salt or slow KDF) because the secrets come from [`random_token`],
/// which leaves nothing to guess.
pub fn token_hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Whether `a` and `b` are equal, taking the same time wherever they differ.
///
/// Slices of different lengths are unequal at once: lengths are not secret here.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

/// `bytes` random bytes from the operating system, as unpadded base64url (safe in URLs and headers).
///
/// 32 bytes (43 characters) suits secrets; ids need fewer.
pub fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"hush";
    const BODY: &[u8] = br#"{"id":820982911946154508,"email":"jon@example.com"}"#;
    /// Computed independently with Python: base64(hmac.new(b"hush", BODY, sha256).digest()).
    const SHOPIFY_HEADER: &str = "D0UMXmhjwBRi4y66TmhJrDlhQABD7zI2fm3p6/QLMo8=";

    /// A signature computed outside this code, as Shopify sends it, verifies (with stray whitespace too).
    #[test]
    fn shopify_known_vector_verifies() {
        assert!(verify_shopify(SECRET, BODY, SHOPIFY_HEADER));
        assert!(verify_shopify(
            SECRET,
            BODY,
            &format!("  {SHOPIFY_HEADER}\n")
        ));
    }

    /// One changed byte in the body makes the Shopify signature fail.
    #[test]
    fn shopify_tampered_body_fails() {
        let tampered = br#"{"id":820982911946154509,"email":"jon@example.com"}"#;
        assert!(!verify_shopify(SECRET, tampered, SHOPIFY_HEADER));
    }

    /// The right body signed with another secret fails.
    #[test]
    fn shopify_wrong_secret_fails() {
        assert!(!verify_shopify(b"other", BODY, SHOPIFY_HEADER));
    }

    /// A header that is not base64, is empty, or is a truncated signature fails instead of panicking.
    #[test]
    fn shopify_bad_base64_fails() {
        assert!(!verify_shopify(SECRET, BODY, "not base64 !!"));
        assert!(!verify_shopify(SECRET, BODY, ""));
        assert!(!verify_shopify(SECRET, BODY, "D0UMXmhjwBRi4y66"));
    }

    /// The Shotline signature matches the RFC-style HMAC-SHA256 vector (computed with Python) and round-trips.
    #[test]
    fn shotline_known_vector_and_round_trip() {
        let body = b"The quick brown fox jumps over the lazy dog";
        let sig = sign_shotline(b"key", body);
        assert_eq!(
            sig,
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
        assert!(verify_shotline(b"key", body, &sig));
        assert!(verify_shotline(
            b"key",
            body,
            &sig.to_uppercase().replace("SHA256=", "sha256=")
        ));
    }

    /// A Shotline signature without the `sha256=` prefix, or over a changed body, or with another secret, fails.
    #[test]
    fn shotline_rejects_missing_prefix_tampering_and_wrong_secret() {
        let sig = sign_shotline(SECRET, BODY);
        let bare = sig.trim_start_matches("sha256=");
        assert!(!verify_shotline(SECRET, BODY, bare));
        assert!(!verify_shotline(SECRET, b"{}", &sig));
        assert!(!verify_shotline(b"other", BODY, &sig));
        assert!(!verify_shotline(SECRET, BODY, "sha256=zz"));
        assert!(!verify_shotline(SECRET, BODY, "sha256="));
    }

    /// The token hash is the plain hex SHA-256 (the FIPS 180-2 "abc" vector).
    #[test]
    fn token_hash_is_hex_sha256() {
        assert_eq!(
            token_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    /// Constant-time equality agrees with ordinary equality, including on different lengths.
    #[test]
    fn constant_time_eq_matches_eq() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
    }

    /// Random tokens have the base64url length for their byte count, use only URL-safe characters, and differ.
    #[test]
    fn random_tokens_are_url_safe_and_distinct() {
        let a = random_token(32);
        let b = random_token(32);
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(random_token(0), "");
    }
}
