//! Admission records: a document per admitted statement in `<query index>_admissions`, created
//! in the same bulk request as the statement (and taken back with it), listed in position
//! order only where the statement is stored at that position.

use async_trait::async_trait;
use elasticsearch::http::Method;
use serde_json::{json, Value};
use uuid::Uuid;
use xlrs_store::group_commit::AdmissionReader;
use xlrs_store::StoreError;

use crate::Elasticsearch;

/// The admissions index: position, statement, and the record as written (not indexed).
pub(crate) fn mapping() -> Value {
    json!({"mappings": {
        "dynamic": "strict",
        "properties": {
            "stored": {"type": "long"},
            "statement": {"type": "keyword"},
            "note": {"type": "text", "index": false},
        },
    }})
}

impl Elasticsearch {
    /// The admissions index.
    pub(crate) fn admissions_index(&self) -> String {
        format!("{}_admissions", self.query_index)
    }

    /// `stored` of each of `ids` in the query index, when there.
    async fn stored_of(&self, ids: &[String]) -> Result<Vec<(String, i64)>, StoreError> {
        let reply = self
            .es
            .json(
                Method::Post,
                &format!("/{}/_mget", self.query_index),
                &[("_source_includes", "stored")],
                &json!({"ids": ids}),
            )
            .await?;
        let docs = reply.get("docs").and_then(Value::as_array);
        Ok(docs
            .into_iter()
            .flatten()
            .filter(|d| d.get("found").and_then(Value::as_bool) == Some(true))
            .filter_map(|d| {
                let id = d.get("_id")?.as_str()?.to_string();
                Some((id, d.pointer("/_source/stored")?.as_i64()?))
            })
            .collect())
    }
}

#[async_trait]
impl AdmissionReader for Elasticsearch {
    /// Pages of the admissions index in position order until `limit` records whose statement is
    /// stored at that position are found (a record a failed round left behind is skipped).
    async fn admitted(
        &self,
        after: i64,
        through: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Uuid, String)>, StoreError> {
        let mut out = Vec::new();
        let mut from = after;
        while out.len() < limit {
            let body = json!({
                "size": limit,
                "query": {"range": {"stored": {"gt": from, "lte": through}}},
                "sort": [{"stored": "asc"}],
            });
            let hits = self.es.hits(&self.admissions_index(), &body).await?;
            let found: Vec<(i64, String, String)> = hits
                .iter()
                .filter_map(|h| {
                    let source = h.get("_source")?;
                    Some((
                        source.get("stored")?.as_i64()?,
                        source.get("statement")?.as_str()?.to_string(),
                        source.get("note")?.as_str()?.to_string(),
                    ))
                })
                .collect();
            let Some(&(last, ..)) = found.last() else {
                break;
            };
            let ids: Vec<String> = found.iter().map(|(_, id, _)| id.clone()).collect();
            let stored = self.stored_of(&ids).await?;
            for (at, id, note) in found {
                if out.len() < limit && stored.iter().any(|(s, p)| *s == id && *p == at) {
                    let id =
                        Uuid::parse_str(&id).map_err(|e| StoreError::Internal(e.to_string()))?;
                    out.push((at, id, note));
                }
            }
            if hits.len() < limit {
                break;
            }
            from = last;
        }
        Ok(out)
    }
}
