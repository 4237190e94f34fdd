//! Where run inputs and artifacts live: the data directory by default, or S3-compatible storage
//! when `SHOTLINE_S3_BUCKET` is set (credentials, region and endpoint from the usual `AWS_*`
//! variables, e.g. `AWS_ENDPOINT=http://127.0.0.1:9000` and `AWS_ALLOW_HTTP=true` for MinIO).
//! Several server processes share runs only through the database and this store.

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use std::path::Path;
use std::sync::Arc;

#[derive(Clone)]
pub struct Objects {
    inner: Arc<dyn ObjectStore>,
    pub description: String,
}

impl Objects {
    /// The configured store: S3 when `SHOTLINE_S3_BUCKET` is set, else `data_dir/objects`.
    pub fn from_env(data_dir: &Path) -> anyhow::Result<Objects> {
        if let Ok(bucket) = std::env::var("SHOTLINE_S3_BUCKET") {
            let s3 = AmazonS3Builder::from_env()
                .with_bucket_name(&bucket)
                .build()?;
            return Ok(Objects {
                inner: Arc::new(s3),
                description: format!("s3://{bucket}"),
            });
        }
        Self::local(&data_dir.join("objects"))
    }

    pub fn local(dir: &Path) -> anyhow::Result<Objects> {
        std::fs::create_dir_all(dir)?;
        Ok(Objects {
            inner: Arc::new(LocalFileSystem::new_with_prefix(dir)?),
            description: dir.display().to_string(),
        })
    }

    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> object_store::Result<()> {
        self.inner
            .put(&ObjectPath::from(key), PutPayload::from(bytes))
            .await?;
        Ok(())
    }

    pub async fn get(&self, key: &str) -> object_store::Result<bytes::Bytes> {
        self.inner.get(&ObjectPath::from(key)).await?.bytes().await
    }
}

/// Object keys are built from ids the server made and from file names a user gave: keep only
/// characters that are safe in any store and in a URL path.
pub fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = cleaned.trim_start_matches('.');
    if trimmed.is_empty() {
        "file".into()
    } else {
        trimmed.chars().take(120).collect()
    }
}
