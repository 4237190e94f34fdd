//! Code the integration tests share.

pub mod tract_ref;
