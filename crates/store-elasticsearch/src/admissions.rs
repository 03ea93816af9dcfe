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
    async fn admitted(
        &self,
        after: i64,
        through: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Uuid, String)>, StoreError> {
        let body = json!({
            "size": limit,
            "query": {"range": {"stored": {"gt": after, "lte": through}}},
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
        if found.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = found.iter().map(|(_, id, _)| id.clone()).collect();
        let stored = self.stored_of(&ids).await?;
        found
            .into_iter()
            .filter(|(at, id, _)| stored.iter().any(|(s, p)| s == id && p == at))
            .map(|(at, id, note)| {
                let id = Uuid::parse_str(&id).map_err(|e| StoreError::Internal(e.to_string()))?;
                Ok((at, id, note))
            })
            .collect()
    }
}
