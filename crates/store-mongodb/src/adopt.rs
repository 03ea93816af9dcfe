//! Adopting the statements Ralph wrote: documents without xlrs's fields are indexed at
//! start-up, oldest first, so a Ralph deployment switches to xlrs without a migration.

use std::collections::{HashMap, HashSet};

use mongodb::bson::{doc, Bson};
use serde_json::Value;
use uuid::Uuid;
use xlrs_store::adopt::adoptable;
use xlrs_store::group_commit::GroupCommitted;
use xlrs_store::StoreError;

use crate::statements::{index_fields, source_of, to_json};
use crate::{collect, failed, Mongo};

/// Statements Ralph wrote indexed per round at start-up.
const ADOPT_CHUNK: i64 = 10_000;

impl Mongo {
    /// Indexes the documents Ralph wrote (those without `xlrs`), oldest first; returns how
    /// many. One that cannot be served (not a valid statement, an id already served) is
    /// marked with why, and logged.
    pub(crate) async fn adopt_ralph_documents(
        &self,
        statements: &GroupCommitted<Mongo>,
    ) -> Result<u64, StoreError> {
        let mut adopted = 0;
        loop {
            let cursor = self
                .statements
                .find(doc! { "xlrs": { "$exists": false } })
                .sort(doc! { "_id": 1 })
                .limit(ADOPT_CHUNK)
                .await
                .map_err(failed)?;
            let docs = collect(cursor).await?;
            if docs.is_empty() {
                return Ok(adopted);
            }
            let mut ready = Vec::with_capacity(docs.len());
            let mut skipped: Vec<(Bson, String)> = Vec::new();
            for mut doc in docs {
                let id = doc.remove("_id").unwrap_or(Bson::Null);
                let created = match &id {
                    Bson::ObjectId(oid) => oid.timestamp().timestamp_millis() * 1000,
                    _ => 0,
                };
                let source = to_json(doc.remove("_source").unwrap_or(Bson::Null));
                let statement_id = source
                    .get("id")
                    .and_then(Value::as_str)
                    .and_then(|id| Uuid::parse_str(id).ok());
                let Some(statement_id) = statement_id else {
                    skipped.push((id, "its statement has no valid id".into()));
                    continue;
                };
                match adoptable(source, statement_id, created, "ralph") {
                    Ok((stored, s)) => ready.push((id, stored, s)),
                    Err(why) => skipped.push((id, why)),
                }
            }
            let ids: Vec<Uuid> = ready.iter().map(|(_, _, s)| s.id).collect();
            let known = self.known_ids(&ids).await?;
            ready.sort_by_key(|(_, stored, s)| (*stored, s.id));
            let targets: HashSet<Uuid> =
                ready.iter().filter_map(|(_, _, s)| s.index.voids).collect();
            let mut documents: HashMap<Uuid, Bson> = HashMap::new();
            let mut found = Vec::with_capacity(ready.len());
            for (id, stored, s) in ready {
                if known.hashes.contains_key(&s.id) || documents.contains_key(&s.id) {
                    skipped.push((id, format!("statement {} is already served", s.id)));
                    continue;
                }
                documents.insert(s.id, id);
                found.push((stored, s));
            }
            adopted += statements
                .adopt(found, async |round| {
                    for p in round {
                        let s = p.statement;
                        let (_, source, inexact) = source_of(&p.body())?;
                        let voided = known.voided.contains(&s.id) || targets.contains(&s.id);
                        let mut fields = index_fields(s, p.stored, voided);
                        if let Some(body) = inexact {
                            fields.insert("body", body);
                        }
                        let id = documents.get(&s.id).cloned().unwrap_or(Bson::Null);
                        self.statements
                            .update_one(
                                doc! { "_id": id },
                                doc! { "$set": { "_source": source, "xlrs": fields } },
                            )
                            .await
                            .map_err(failed)?;
                    }
                    Ok(())
                })
                .await?;
            if !targets.is_empty() {
                let targets: Vec<String> = targets.iter().map(Uuid::to_string).collect();
                self.statements
                    .update_many(
                        doc! { "xlrs.id": { "$in": targets } },
                        doc! { "$set": { "xlrs.voided": true } },
                    )
                    .await
                    .map_err(failed)?;
            }
            for (id, why) in skipped {
                tracing::warn!(%id, "a statement Ralph wrote is not served: {why}");
                self.statements
                    .update_one(doc! { "_id": id }, doc! { "$set": { "xlrs.skipped": why } })
                    .await
                    .map_err(failed)?;
            }
        }
    }
}
