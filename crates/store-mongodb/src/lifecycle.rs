//! Erasure and retention in MongoDB: statement documents deleted by id (their admission notes
//! go with them), or updated in place with the new statement and query fields; attachment
//! parts no statement names any more deleted; an agent's documents found and deleted.

use async_trait::async_trait;
use mongodb::bson::{doc, Document as Doc};
use xlrs_store::group_commit::Positioned;
use xlrs_store::lifecycle::{xapi_kind, Lifecycle, Located, XAPI_KINDS};
use xlrs_store::{DocumentScope, StoreError};

use crate::statements::source_of;
use crate::{collect, failed, Mongo};

impl Mongo {
    /// Deletes the parts of `attachments` no statement names any more; how many attachments.
    async fn remove_unreferenced(&self, attachments: &[String]) -> Result<u64, StoreError> {
        let mut removed = 0;
        for sha2 in attachments {
            let named = doc! { "$regex": format!("^{sha2}$"), "$options": "i" };
            let referenced = self
                .statements
                .find_one(doc! { "$or": [
                    { "_source.attachments.sha2": named.clone() },
                    { "_source.object.attachments.sha2": named },
                ] })
                .projection(doc! { "_id": 1 })
                .await
                .map_err(failed)?;
            if referenced.is_none() {
                let deleted = self
                    .attachments
                    .delete_many(doc! { "sha2": sha2 })
                    .await
                    .map_err(failed)?;
                removed += u64::from(deleted.deleted_count > 0);
            }
        }
        Ok(removed)
    }
}

impl Mongo {
    /// The documents `filter` selects (at most `limit`, oldest update first), as scope and id.
    async fn scoped_documents(
        &self,
        filter: Doc,
        limit: Option<usize>,
    ) -> Result<Vec<(DocumentScope, String)>, StoreError> {
        let mut find = self
            .documents
            .find(filter)
            .projection(doc! { "_id": 0, "kind": 1, "activity_id": 1, "agent": 1, "registration": 1, "id": 1 })
            .sort(doc! { "updated": 1 });
        if let Some(limit) = limit {
            find = find.limit(limit as i64);
        }
        let cursor = find.await.map_err(failed)?;
        let text = |d: &Doc, key: &str| d.get_str(key).unwrap_or_default().to_string();
        Ok(collect(cursor)
            .await?
            .iter()
            .filter_map(|d| {
                let scope = DocumentScope {
                    kind: xapi_kind(d.get_str("kind").ok()?)?,
                    activity_id: text(d, "activity_id"),
                    agent: text(d, "agent"),
                    registration: text(d, "registration"),
                };
                Some((scope, text(d, "id")))
            })
            .collect())
    }
}

#[async_trait]
impl Lifecycle for Mongo {
    async fn remove_statements(
        &self,
        statements: &[Located],
        attachments: &[String],
    ) -> Result<u64, StoreError> {
        for chunk in statements.chunks(10_000) {
            let ids: Vec<String> = chunk.iter().map(|s| s.id.to_string()).collect();
            self.statements
                .delete_many(doc! { "xlrs.id": { "$in": ids } })
                .await
                .map_err(failed)?;
        }
        self.remove_unreferenced(attachments).await
    }

    async fn rewrite_statements(
        &self,
        statements: &[Positioned<'_>],
        _erased: &[String],
    ) -> Result<(), StoreError> {
        for p in statements {
            let s = p.statement;
            let (_, source, inexact) = source_of(&p.body())?;
            let mut set = doc! {
                "_source": source,
                "xlrs.agents": s.index.agent_keys(false),
                "xlrs.direct_agents": s.index.agent_keys(true),
                "xlrs.authority": &s.index.authority,
            };
            let mut update = Doc::new();
            match inexact {
                Some(body) => {
                    set.insert("xlrs.body", body);
                }
                None => {
                    update.insert("$unset", doc! { "xlrs.body": "" });
                }
            }
            update.insert("$set", set);
            self.statements
                .update_one(doc! { "xlrs.id": s.id.to_string() }, update)
                .await
                .map_err(failed)?;
        }
        Ok(())
    }

    async fn agent_documents(
        &self,
        agents: &[String],
    ) -> Result<Vec<(DocumentScope, String)>, StoreError> {
        self.scoped_documents(
            doc! {
                "agent": { "$in": agents },
                "kind": { "$in": ["state", "agent_profile"] },
            },
            None,
        )
        .await
    }

    async fn documents_before(
        &self,
        before: i64,
        limit: usize,
    ) -> Result<Vec<(DocumentScope, String)>, StoreError> {
        self.scoped_documents(
            doc! { "updated": { "$lt": before }, "kind": { "$in": XAPI_KINDS.to_vec() } },
            Some(limit),
        )
        .await
    }

    async fn remove_documents(
        &self,
        documents: &[(DocumentScope, String)],
        updated_before: Option<i64>,
    ) -> Result<u64, StoreError> {
        let mut removed = 0;
        for (scope, id) in documents {
            let mut filter = crate::documents::key(scope, id);
            if let Some(before) = updated_before {
                filter.insert("updated", doc! { "$lt": before });
            }
            removed += self
                .documents
                .delete_many(filter)
                .await
                .map_err(failed)?
                .deleted_count;
        }
        Ok(removed)
    }
}
