//! The S3 backend (any S3-compatible object storage, through `object_store`): statements as
//! JSON-lines objects under a prefix, as Ralph's `s3` backend keeps them. Credentials, region
//! and endpoint come from the usual `AWS_*` variables (`AWS_ENDPOINT` and `AWS_ALLOW_HTTP=true`
//! for a local server).

use std::io::{BufRead, Write};

use anyhow::{bail, Context};
use futures::{StreamExt, TryStreamExt};
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, WriteMultipart};
use serde_json::json;
use tokio::io::AsyncBufReadExt;

use super::backends::AsyncBackend;
use super::progress::LineCopy;
use super::{ReadFrom, WriteTo, Written};

/// Bytes per part of a multipart upload.
const PART: usize = 8 << 20;

/// A bucket and a prefix in it.
pub struct S3 {
    store: Box<dyn ObjectStore>,
    prefix: String,
}

impl S3 {
    /// Opens `s3://bucket/prefix` with the `AWS_*` settings of the environment.
    pub fn open(url: &str) -> anyhow::Result<Self> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| anyhow::anyhow!("--url must be s3://BUCKET[/PREFIX], got {url}"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let store = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .context("configuring S3 (AWS_* variables)")?;
        Ok(Self {
            store: Box::new(store),
            prefix: prefix.trim_matches('/').to_string(),
        })
    }

    fn path(&self, name: &str) -> ObjectPath {
        if self.prefix.is_empty() {
            ObjectPath::from(name)
        } else {
            ObjectPath::from(format!("{}/{name}", self.prefix))
        }
    }

    /// The statement objects under the prefix, by name.
    async fn objects(&self) -> anyhow::Result<Vec<object_store::ObjectMeta>> {
        let prefix = (!self.prefix.is_empty()).then(|| ObjectPath::from(self.prefix.as_str()));
        let mut found: Vec<_> = self.store.list(prefix.as_ref()).try_collect().await?;
        found.retain(|o| {
            let name = o.location.as_ref();
            name.ends_with(".jsonl") || name.ends_with(".json")
        });
        found.sort_by(|a, b| a.location.cmp(&b.location));
        Ok(found)
    }

    /// Writes the statements of one object (`name`), or of every object under the prefix, to
    /// `out`, skipping the first `skip`. Objects are streamed, never held whole.
    pub async fn read(
        &self,
        name: Option<&str>,
        skip: u64,
        out: &mut dyn Write,
    ) -> anyhow::Result<u64> {
        let paths = match name {
            Some(n) => vec![self.path(n)],
            None => self
                .objects()
                .await?
                .into_iter()
                .map(|o| o.location)
                .collect(),
        };
        let mut copy = LineCopy::new(skip, "read");
        for path in paths {
            let stream = self
                .store
                .get(&path)
                .await
                .with_context(|| format!("reading s3 object {path}"))?
                .into_stream()
                .map(|r| r.map_err(std::io::Error::other));
            let mut lines = tokio_util::io::StreamReader::new(stream).lines();
            let mut number = 0usize;
            while let Some(line) = lines.next_line().await? {
                number += 1;
                copy.line(&line, out, || format!("s3 object {path}, line {number}"))?;
            }
        }
        Ok(copy.finish())
    }

    /// Uploads the JSON lines of `input` as a new object `name` (default
    /// `statements-<time>.jsonl`) in one multipart upload: the object appears whole, or not at
    /// all when anything fails; an existing object is never overwritten.
    pub async fn write(
        &self,
        name: Option<&str>,
        input: &mut dyn BufRead,
    ) -> anyhow::Result<(String, u64)> {
        let name = name.map_or_else(super::default_name, str::to_string);
        let path = self.path(&name);
        if self.store.head(&path).await.is_ok() {
            bail!("s3 object {path} exists: pick another --target");
        }
        let upload = self.store.put_multipart(&path).await?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART);
        let mut copy = LineCopy::new(0, "written");
        let mut line_out = Vec::new();
        let mut copied = Ok(());
        for (number, line) in input.lines().enumerate() {
            line_out.clear();
            copied = match line {
                Ok(line) => copy.line(&line, &mut line_out, || {
                    format!("input line {}", number + 1)
                }),
                Err(e) => Err(anyhow::anyhow!("reading stdin: {e}")),
            };
            if copied.is_err() {
                break;
            }
            writer.wait_for_capacity(4).await?;
            writer.write(&line_out);
        }
        let count = copy.finish();
        if let Err(e) = copied {
            let _ = writer.abort().await;
            return Err(e);
        }
        writer
            .finish()
            .await
            .with_context(|| format!("completing s3 object {path}"))?;
        Ok((path.to_string(), count))
    }

    /// The statement objects under the prefix, one JSON object each (name, bytes, modified).
    pub async fn list(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        for o in self.objects().await? {
            let entry = json!({
                "name": o.location.as_ref(),
                "bytes": o.size,
                "modified": o.last_modified.to_rfc3339(),
            });
            writeln!(out, "{entry}")?;
        }
        Ok(())
    }
}

impl AsyncBackend for S3 {
    async fn read(&self, from: &ReadFrom, out: &mut dyn Write) -> anyhow::Result<u64> {
        S3::read(self, from.object.as_deref(), from.skip, out).await
    }

    async fn write(&self, to: &WriteTo, input: &mut dyn BufRead) -> anyhow::Result<Written> {
        let (object, count) = S3::write(self, to.target.as_deref(), input).await?;
        Ok(Written {
            count,
            place: format!("written to s3 object {object}"),
        })
    }

    async fn list(&self, out: &mut dyn Write) -> anyhow::Result<()> {
        S3::list(self, out).await
    }
}
