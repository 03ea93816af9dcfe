//! The position ledger (`xlrs_store::ledger`) in the index `<query_index>_positions`: one
//! document per reservation, its `_id` the position it follows, written with `create` so only
//! one reservation follows each (a second is a 409), every write refreshed so searches see it.
//! Reservations older than a day are pruned now and then, the newest always kept.

use async_trait::async_trait;
use elasticsearch::http::Method;
use serde_json::{json, Value};
use xlrs_store::ledger::{Ledger, LedgerState, Reservation, KEEP_MICROS};
use xlrs_store::positions::now_micros;
use xlrs_store::StoreError;

use crate::client::{reason, refused};
use crate::Elasticsearch;

/// The ledger index's mapping.
pub(crate) fn mapping() -> Value {
    json!({"mappings": {
        "dynamic": "strict",
        "properties": {
            "follows": {"type": "long"},
            "first": {"type": "long"},
            "last": {"type": "long"},
            "writer": {"type": "keyword"},
            "at": {"type": "long"},
            "released": {"type": "boolean"},
        },
    }})
}

fn entry(r: &Reservation, released: bool) -> Value {
    json!({
        "follows": r.follows,
        "first": r.first,
        "last": r.last,
        "writer": r.writer.to_string(),
        "at": r.at,
        "released": released,
    })
}

impl Elasticsearch {
    /// The ledger index.
    pub(crate) fn positions_index(&self) -> String {
        format!("{}_positions", self.query_index)
    }

    /// One field of the first hit of a search of the ledger.
    async fn first_hit(&self, body: Value, field: &str) -> Result<Option<i64>, StoreError> {
        let hits = self.es.hits(&self.positions_index(), &body).await?;
        Ok(hits
            .first()
            .and_then(|hit| hit.pointer(&format!("/_source/{field}")))
            .and_then(Value::as_i64))
    }

    /// Writes one ledger item (`create` or `index`) and refreshes; the item's status.
    async fn write_entry(
        &self,
        op: &str,
        r: &Reservation,
        released: bool,
    ) -> Result<u64, StoreError> {
        let lines = format!(
            "{}\n{}\n",
            json!({op: {"_index": self.positions_index(), "_id": r.follows.to_string()}}),
            entry(r, released)
        );
        let items = self.es.bulk(lines, "true").await?;
        let item = items.first().cloned().unwrap_or_default();
        let status = item.get("status").and_then(Value::as_u64).unwrap_or(500);
        if !(200..300).contains(&status) && status != 409 {
            let why = format!("Elasticsearch refused a ledger write: {}", reason(&item));
            return Err(refused(status, why));
        }
        Ok(status)
    }
}

#[async_trait]
impl Ledger for Elasticsearch {
    async fn ledger_state(&self, fresh_since: i64) -> Result<LedgerState, StoreError> {
        // The newest first, then the open ones: a reservation made in between starts after
        // the newest read, so the bound stays before it.
        let last = self
            .first_hit(
                json!({"size": 1, "_source": ["last"], "sort": [{"follows": "desc"}]}),
                "last",
            )
            .await?;
        let open_from = self
            .first_hit(
                json!({
                    "size": 1,
                    "_source": ["first"],
                    "query": {"bool": {"filter": [
                        {"term": {"released": false}},
                        {"range": {"at": {"gt": fresh_since}}},
                    ]}},
                    "sort": [{"first": "asc"}],
                }),
                "first",
            )
            .await?;
        Ok(LedgerState {
            last: last.unwrap_or(0),
            open_from,
        })
    }

    async fn reserve(&self, r: &Reservation) -> Result<bool, StoreError> {
        Ok(self.write_entry("create", r, false).await? != 409)
    }

    async fn release(&self, r: &Reservation) -> Result<(), StoreError> {
        self.write_entry("index", r, true).await?;
        if self.pruning.due() {
            self.es
                .json(
                    Method::Post,
                    &format!("/{}/_delete_by_query", self.positions_index()),
                    &[("refresh", "true")],
                    &json!({"query": {"bool": {"filter": [
                        {"range": {"follows": {"lt": r.follows}}},
                        {"range": {"at": {"lt": now_micros() - KEEP_MICROS}}},
                    ]}}}),
                )
                .await?;
        }
        Ok(())
    }
}
