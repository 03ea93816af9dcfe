//! The indices and their mappings: xlrs's query index, Ralph's statements index, the documents
//! index, and the attachments and definitions indices.

use std::sync::atomic::Ordering;

use elasticsearch::http::Method;
use serde_json::{json, Value};
use xlrs_store::StoreError;

use crate::Elasticsearch;

/// Layout version of the query index (in its mapping's `_meta`); bump with a migration.
const LAYOUT_VERSION: u64 = 2;

/// The query index: keywords for the filters, longs for positions, the statement unindexed.
fn query_mapping() -> Value {
    let filters = json!({
        "stored": {"type": "long"},
        "verb": {"type": "keyword"},
        "agents": {"type": "keyword"},
        "direct_agents": {"type": "keyword"},
        "activities": {"type": "keyword"},
        "direct_activities": {"type": "keyword"},
        "registration": {"type": "keyword"},
    });
    let mut properties = filters.clone();
    for (name, mapping) in [
        ("statement_ref", json!({"type": "keyword"})),
        ("voids", json!({"type": "keyword"})),
        ("authority", json!({"type": "keyword"})),
        ("content_hash", json!({"type": "keyword", "index": false})),
        ("voided_at", json!({"type": "long"})),
        ("target", json!({"properties": filters})),
        ("body", json!({"type": "text", "index": false})),
    ]
    .into_iter()
    .chain(added_in_2())
    {
        properties[name] = mapping;
    }
    json!({"mappings": {
        "_meta": {"xlrs_layout": LAYOUT_VERSION},
        "dynamic": "strict",
        "properties": properties,
    }})
}

/// Fields layout 2 added: the attachments a statement names (so erasure knows which contents
/// other statements still need), and a mark that the list was written.
fn added_in_2() -> [(&'static str, Value); 2] {
    [
        ("attachments", json!({"type": "keyword"})),
        ("attachments_listed", json!({"type": "boolean"})),
    ]
}

/// Ralph's index when xlrs creates it: mapped dynamically as Ralph's own is (so Ralph's
/// `verb.id.keyword` style queries work), with `timestamp` and `stored` as dates (Ralph sorts
/// and filters on `timestamp`) and extensions not indexed: their values may have any type,
/// and a dynamic mapping would refuse a statement whose extension changed type.
fn ralph_mapping() -> Value {
    json!({"mappings": {
        "dynamic_templates": [{"xapi_extensions": {
            "path_match": "*extensions",
            "match_mapping_type": "object",
            "mapping": {"type": "object", "enabled": false},
        }}],
        "properties": {
            "timestamp": {"type": "date"},
            "stored": {"type": "date"},
        },
    }})
}

impl Elasticsearch {
    /// Creates the indices that are missing and refuses a query index of a newer layout.
    /// Runs at start and again after the server was lost (a server that lost its data gets
    /// empty indices back, so writes work again).
    pub(crate) async fn ensure_layout(&self) -> Result<(), StoreError> {
        let q = &self.query_index;
        if self.es.exists(q).await? {
            let mapping = self
                .es
                .json(Method::Get, &format!("/{q}/_mapping"), &[], &Value::Null)
                .await?;
            let version = mapping
                .as_object()
                .and_then(|m| m.values().next())
                .and_then(|m| m.pointer("/mappings/_meta/xlrs_layout"))
                .and_then(Value::as_u64)
                .unwrap_or(0);
            if version > LAYOUT_VERSION {
                return Err(StoreError::Internal(format!(
                    "the index {q} has layout version {version}, newer than this xlrs knows ({LAYOUT_VERSION}); upgrade xlrs"
                )));
            }
            if version < 2 {
                let properties: serde_json::Map<String, Value> = added_in_2()
                    .into_iter()
                    .map(|(name, mapping)| (name.to_string(), mapping))
                    .collect();
                let mapping =
                    json!({"_meta": {"xlrs_layout": LAYOUT_VERSION}, "properties": properties});
                self.es
                    .json(Method::Put, &format!("/{q}/_mapping"), &[], &mapping)
                    .await?;
            }
        } else {
            self.create_index(q, &query_mapping()).await?;
        }
        if let Some(ralph) = &self.ralph {
            if !self.es.exists(ralph).await? {
                self.create_index(ralph, &ralph_mapping()).await?;
            }
        }
        for (index, mapping) in [
            (self.documents_index.clone(), crate::documents::mapping()),
            (
                self.attachments_index(),
                crate::content::attachments_mapping(),
            ),
            (
                self.definitions_index(),
                crate::content::definitions_mapping(),
            ),
            (self.positions_index(), crate::ledger::mapping()),
            (self.admissions_index(), crate::admissions::mapping()),
        ] {
            if !self.es.exists(&index).await? {
                self.create_index(&index, &mapping).await?;
            }
        }
        self.es.layout_ok.store(true, Ordering::SeqCst);
        Ok(())
    }

    async fn create_index(&self, index: &str, mapping: &Value) -> Result<(), StoreError> {
        let reply = self
            .es
            .call(
                Method::Put,
                &format!("/{index}"),
                &[],
                Some(mapping.to_string()),
                false,
            )
            .await;
        match reply {
            Ok(_) => Ok(()),
            // Created meanwhile by another process: fine.
            Err(StoreError::Internal(m)) if m.contains("resource_already_exists_exception") => {
                Ok(())
            }
            Err(e) => Err(e),
        }
    }
}
