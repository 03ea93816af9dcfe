//! Admission records: a document per admitted statement in `<query index>_admissions`, created
//! in the same bulk request as the statement (and taken back with it), listed in position
//! order only where the statement is stored at that position.

use async_trait::async_trait;
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
            let found: Vec<(i64, Uuid, String)> = hits
                .iter()
                .filter_map(|h| {
                    let source = h.get("_source")?;
                    Some((
                        source.get("stored")?.as_i64()?,
                        Uuid::parse_str(source.get("statement")?.as_str()?).ok()?,
                        source.get("note")?.as_str()?.to_string(),
                    ))
                })
                .collect();
            let Some(&(last, ..)) = found.last() else {
                break;
            };
            let stored = self
                .known_docs(found.iter().map(|(_, id, _)| *id).collect())
                .await?;
            for (at, id, note) in found {
                let there = stored.get(&id).is_some_and(|doc| doc.stored() == at);
                if out.len() < limit && there {
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
