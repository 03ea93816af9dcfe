//! The server's own records (forwarding cursors and refusals, the credentials the admin API
//! manages), kept as JSON documents of the internal kind in the document store, so every
//! store's atomic `If-Match` / `If-None-Match` applies to them; no xAPI resource reaches them.

use serde::de::DeserializeOwned;
use serde::Serialize;
use sha1::{Digest, Sha1};
use xlrs_store::positions::now_micros;
use xlrs_store::{Document, DocumentKind, DocumentScope, DocumentStore, Precondition, StoreError};

/// Where records of kind `name` live, under `under` ("" when they need no grouping).
pub fn scope(name: &str, under: &str) -> DocumentScope {
    DocumentScope {
        kind: DocumentKind::Internal,
        activity_id: name.into(),
        agent: under.into(),
        registration: String::new(),
    }
}

/// A record as a JSON document, with its ETag.
pub fn document(value: &impl Serialize) -> Document {
    let content = serde_json::to_vec(value).unwrap_or_default();
    Document {
        etag: hex::encode(Sha1::digest(&content)),
        content,
        content_type: "application/json".into(),
        updated: now_micros(),
    }
}

/// Record `id` of `scope` with the ETag it was read at; `None` when there is none.
pub async fn read<T: DeserializeOwned>(
    documents: &dyn DocumentStore,
    scope: &DocumentScope,
    id: &str,
) -> Result<Option<(T, String)>, StoreError> {
    let Some(found) = documents.get_document(scope, id).await? else {
        return Ok(None);
    };
    let value = serde_json::from_slice(&found.content).map_err(|e| {
        StoreError::Internal(format!(
            "the record {} {id} is malformed: {e}",
            scope.activity_id
        ))
    })?;
    Ok(Some((value, found.etag)))
}

/// Writes record `id` of `scope` if it is still at `etag` (`None`: if there is none yet);
/// its new ETag. Another writer first is [`StoreError::PreconditionFailed`].
pub async fn write(
    documents: &dyn DocumentStore,
    scope: &DocumentScope,
    id: &str,
    value: &impl Serialize,
    etag: Option<String>,
) -> Result<String, StoreError> {
    let document = document(value);
    let written = document.etag.clone();
    let precondition = etag.map_or(Precondition::IfNoneMatch, Precondition::IfMatch);
    documents
        .put_document(scope, id, document, precondition)
        .await?;
    Ok(written)
}
