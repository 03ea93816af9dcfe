//! Attachments and canonical activity definitions in MongoDB, so every process over the
//! database sees them. Attachments are content-addressed and kept in parts of at most
//! [`PART_BYTES`] (a MongoDB document holds 16 MiB), each written idempotently; an attachment
//! is found only when all its parts are. Definitions are contributions
//! (`xlrs_store::definitions`): one document per distinct definition of an activity, whose
//! `stored` only ever rises to the last position it was stored at (`$max`).

use async_trait::async_trait;
use futures::future::try_join_all;
use mongodb::bson::{doc, spec::BinarySubtype, Binary, Document as Doc};
use mongodb::IndexModel;
use serde_json::Value;
use xlrs_store::definitions::{canonical_of_texts, last_occurrences};
use xlrs_store::{Attachment, ContentStore, Definition, StoreError};

use crate::{collect, duplicate_key, failed, Mongo};

/// The largest part of an attachment, in bytes.
pub(crate) const PART_BYTES: usize = 8 * 1024 * 1024;

impl Mongo {
    /// Creates the content collections' indexes (a no-op when they exist).
    pub(crate) async fn migrate_content(&self) -> Result<(), StoreError> {
        self.attachments
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "sha2": 1, "part": 1 })
                    .build(),
            )
            .await
            .map_err(failed)?;
        self.definitions
            .create_index(
                IndexModel::builder()
                    .keys(doc! { "activity": 1, "stored": 1 })
                    .build(),
            )
            .await
            .map_err(failed)?;
        Ok(())
    }
}

/// The parts of an attachment as documents.
fn parts(a: &Attachment) -> Vec<Doc> {
    let chunks: Vec<&[u8]> = if a.content.is_empty() {
        vec![&[][..]]
    } else {
        a.content.chunks(PART_BYTES).collect()
    };
    let count = chunks.len() as i64;
    chunks
        .into_iter()
        .enumerate()
        .map(|(n, bytes)| {
            doc! {
                "_id": format!("{}/{n}", a.sha2),
                "sha2": &a.sha2,
                "part": n as i64,
                "parts": count,
                "content_type": &a.content_type,
                "content": Binary { subtype: BinarySubtype::Generic, bytes: bytes.to_vec() },
            }
        })
        .collect()
}

/// An attachment put together from its parts (in part order), when all of them are there.
fn assemble(sha2: &str, found: &[Doc]) -> Option<Attachment> {
    let mine: Vec<&Doc> = found
        .iter()
        .filter(|d| d.get_str("sha2") == Ok(sha2))
        .collect();
    let first = mine.first()?;
    let count = first.get_i64("parts").ok()?;
    let mut content = Vec::new();
    for n in 0..count {
        let part = mine.iter().find(|d| d.get_i64("part") == Ok(n))?;
        content.extend_from_slice(&part.get_binary_generic("content").ok()?[..]);
    }
    Some(Attachment {
        sha2: sha2.to_string(),
        content_type: first.get_str("content_type").ok()?.to_string(),
        content,
    })
}

#[async_trait]
impl ContentStore for Mongo {
    async fn keep_attachments(&self, attachments: Vec<Attachment>) -> Result<(), StoreError> {
        let writes = attachments.iter().flat_map(parts).map(|part| async move {
            let id = part
                .get_str("_id")
                .map_err(|e| StoreError::Internal(e.to_string()))?;
            let write = || {
                self.attachments
                    .replace_one(doc! { "_id": id }, part.clone())
                    .upsert(true)
            };
            // Two processes upserting one id at once: the loser's insert meets the winner's
            // document, and writing again replaces it with the same bytes.
            match write().await {
                Err(e) if duplicate_key(&e) => write().await.map_err(failed),
                outcome => outcome.map_err(failed),
            }
        });
        try_join_all(writes).await.map(|_| ())
    }

    async fn keep_definitions(&self, definitions: Vec<Definition>) -> Result<(), StoreError> {
        let writes = last_occurrences(definitions)
            .into_iter()
            .map(|(key, d)| async move {
                let write = || {
                    self.definitions
                        .update_one(
                            doc! { "_id": &key },
                            doc! {
                                "$setOnInsert": {
                                    "activity": &d.activity,
                                    "definition": d.definition.to_string(),
                                },
                                "$max": { "stored": d.stored },
                            },
                        )
                        .upsert(true)
                };
                match write().await {
                    Err(e) if duplicate_key(&e) => write().await.map_err(failed),
                    outcome => outcome.map_err(failed),
                }
            });
        try_join_all(writes).await.map(|_| ())
    }

    async fn attachments(&self, sha2s: &[String]) -> Result<Vec<Attachment>, StoreError> {
        if sha2s.is_empty() {
            return Ok(Vec::new());
        }
        let found = collect(
            self.attachments
                .find(doc! { "sha2": { "$in": sha2s } })
                .await
                .map_err(failed)?,
        )
        .await?;
        Ok(sha2s
            .iter()
            .filter_map(|sha2| assemble(sha2, &found))
            .collect())
    }

    async fn activity_definition(&self, id: &str) -> Result<Option<Value>, StoreError> {
        let found = collect(
            self.definitions
                .find(doc! { "activity": id })
                .sort(doc! { "stored": 1, "_id": 1 })
                .await
                .map_err(failed)?,
        )
        .await?;
        let texts = found
            .iter()
            .map(|d| {
                d.get_str("definition")
                    .map_err(|e| StoreError::Internal(e.to_string()))
            })
            .collect::<Result<Vec<&str>, _>>()?;
        canonical_of_texts(texts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_attachment_comes_back_whole_from_its_parts_and_not_at_all_with_one_missing() {
        let a = Attachment {
            sha2: "ab".into(),
            content_type: "application/octet-stream".into(),
            content: (0..PART_BYTES * 2 + 5).map(|i| (i % 251) as u8).collect(),
        };
        let docs = parts(&a);
        assert_eq!(docs.len(), 3);
        assert_eq!(assemble("ab", &docs), Some(a.clone()));
        let mut reversed = docs.clone();
        reversed.reverse();
        assert_eq!(assemble("ab", &reversed), Some(a), "parts in any order");
        assert_eq!(
            assemble("ab", &docs[..2]),
            None,
            "a part missing: not found"
        );
        let empty = Attachment {
            sha2: "e".into(),
            content_type: "text/plain".into(),
            content: Vec::new(),
        };
        assert_eq!(assemble("e", &parts(&empty)), Some(empty));
    }
}
