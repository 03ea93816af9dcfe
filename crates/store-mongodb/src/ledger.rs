//! The position ledger (`xlrs_store::ledger`) in the collection `<collection>_positions`: one
//! document per reservation, its `_id` the position it follows, so the unique `_id` lets only
//! one reservation follow each. Reservations older than a day are pruned now and then, the
//! newest always kept.

use async_trait::async_trait;
use mongodb::bson::{doc, Document as Doc};
use xlrs_store::ledger::{Ledger, LedgerState, Reservation, KEEP_MICROS};
use xlrs_store::positions::now_micros;
use xlrs_store::StoreError;

use crate::{duplicate_key, failed, Mongo};

fn number(d: &Doc, key: &str) -> i64 {
    d.get_i64(key).unwrap_or_default()
}

#[async_trait]
impl Ledger for Mongo {
    async fn ledger_state(&self, fresh_since: i64) -> Result<LedgerState, StoreError> {
        // The newest first, then the open ones: a reservation made in between starts after
        // the newest read, so the bound stays before it.
        let newest = self
            .positions
            .find_one(doc! {})
            .sort(doc! { "_id": -1 })
            .await
            .map_err(failed)?;
        let open = self
            .positions
            .find_one(doc! { "released": false, "at": { "$gt": fresh_since } })
            .sort(doc! { "first": 1 })
            .await
            .map_err(failed)?;
        Ok(LedgerState {
            last: newest.map_or(0, |d| number(&d, "last")),
            open_from: open.map(|d| number(&d, "first")),
        })
    }

    async fn reserve(&self, r: &Reservation) -> Result<bool, StoreError> {
        let entry = doc! {
            "_id": r.follows,
            "first": r.first,
            "last": r.last,
            "writer": r.writer.to_string(),
            "at": r.at,
            "released": false,
        };
        match self.positions.insert_one(entry).await {
            Ok(_) => Ok(true),
            Err(e) if duplicate_key(&e) => Ok(false),
            Err(e) => Err(failed(e)),
        }
    }

    async fn release(&self, r: &Reservation) -> Result<(), StoreError> {
        self.positions
            .update_one(
                doc! { "_id": r.follows, "writer": r.writer.to_string() },
                doc! { "$set": { "released": true } },
            )
            .await
            .map_err(failed)?;
        if self.pruning.due() {
            self.positions
                .delete_many(doc! {
                    "_id": { "$lt": r.follows },
                    "at": { "$lt": now_micros() - KEEP_MICROS },
                })
                .await
                .map_err(failed)?;
        }
        Ok(())
    }
}
