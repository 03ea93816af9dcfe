//! The position ledger (`xlrs_store::ledger`) in the table `<statements>_positions`. ClickHouse
//! has no create-if-absent, so a reservation is inserted with the insert deduplication token
//! `<follows>:<salt>`: the engine keeps only the first block with a token, and a writer reads
//! back whose reservation follows that position. Rows live a day (TTL); should the row of a
//! token still in the deduplication window be gone, every writer finds none for it and moves
//! on to the next salt, all in the same order.

use async_trait::async_trait;
use clickhouse::Row;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use xlrs_store::ledger::{Ledger, LedgerState, Reservation};
use xlrs_store::StoreError;

use crate::{failed, ClickHouse};

/// Salts a writer tries for one position before giving up.
const SALTS: u8 = 8;

/// The ledger table; `{t}` is its name.
pub(crate) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS {t} (
    follows Int64,
    salt UInt8,
    first Int64,
    last Int64,
    writer UUID,
    at Int64,
    released UInt8,
    INDEX at_range at TYPE minmax GRANULARITY 1
) ENGINE = MergeTree ORDER BY (follows, salt)
TTL toDateTime(intDiv(at, 1000000)) + INTERVAL 1 DAY
SETTINGS non_replicated_deduplication_window = 100000";

/// A row of the ledger: a reservation, or its release.
#[derive(Row, Serialize)]
struct Entry {
    follows: i64,
    salt: u8,
    first: i64,
    last: i64,
    #[serde(with = "clickhouse::serde::uuid")]
    writer: Uuid,
    at: i64,
    released: u8,
}

impl Entry {
    fn of(r: &Reservation, salt: u8, released: u8) -> Self {
        Self {
            follows: r.follows,
            salt,
            first: r.first,
            last: r.last,
            writer: r.writer,
            at: r.at,
            released,
        }
    }
}

/// The fresh part of the ledger, summed up.
#[derive(Row, Deserialize)]
struct Fresh {
    entries: u64,
    last: i64,
    opened: u64,
    open_from: i64,
}

/// Whose reservation the engine kept.
#[derive(Row, Deserialize)]
struct Holder {
    #[serde(with = "clickhouse::serde::uuid")]
    writer: Uuid,
}

impl ClickHouse {
    /// The ledger table.
    pub(crate) fn positions_table(&self) -> String {
        format!("{}_positions", self.statements)
    }

    async fn insert_entry(&self, entry: &Entry, token: Option<String>) -> Result<(), StoreError> {
        let mut client = self.client.clone();
        if let Some(token) = token {
            client = client.with_setting("insert_deduplication_token", token);
        }
        let table = self.positions_table();
        self.insert_rows::<Entry>(&client, &table, std::slice::from_ref(entry))
            .await
    }
}

#[async_trait]
impl Ledger for ClickHouse {
    async fn ledger_state(&self, fresh_since: i64) -> Result<LedgerState, StoreError> {
        let t = self.positions_table();
        // One read of the fresh rows: the newest reservation is among them when any is.
        let fresh: Fresh = self
            .client
            .query(&format!(
                "SELECT count() AS entries, max(last_at) AS last, countIf(is_open) AS opened,
                        minIf(first_at, is_open) AS open_from
                 FROM (SELECT follows, any(first) AS first_at, any(last) AS last_at,
                              max(released) = 0 AS is_open
                       FROM {t} WHERE at > {{fresh:Int64}} GROUP BY follows)"
            ))
            .param("fresh", fresh_since)
            // A small read, done with less CPU on one engine thread than on several.
            .with_setting("max_threads", "1")
            .fetch_one()
            .await
            .map_err(failed)?;
        if fresh.entries > 0 {
            return Ok(LedgerState {
                last: fresh.last,
                open_from: (fresh.opened > 0).then_some(fresh.open_from),
            });
        }
        let last: Option<i64> = self
            .client
            .query(&format!(
                "SELECT last FROM {t} WHERE at <= {{fresh:Int64}} ORDER BY follows DESC LIMIT 1"
            ))
            .param("fresh", fresh_since)
            .fetch_optional()
            .await
            .map_err(failed)?;
        Ok(LedgerState {
            last: last.unwrap_or(0),
            open_from: None,
        })
    }

    async fn reserve(&self, reservation: &Reservation) -> Result<bool, StoreError> {
        let t = self.positions_table();
        for salt in 0..SALTS {
            let token = format!("{}:{salt}", reservation.follows);
            self.insert_entry(&Entry::of(reservation, salt, 0), Some(token))
                .await?;
            let holder: Option<Holder> = self
                .client
                .query(&format!(
                    "SELECT writer FROM {t}
                     WHERE follows = {{follows:Int64}} AND salt = {{salt:UInt8}} AND released = 0
                     ORDER BY at, writer LIMIT 1"
                ))
                .param("follows", reservation.follows)
                .param("salt", salt)
                .fetch_optional()
                .await
                .map_err(failed)?;
            if let Some(holder) = holder {
                return Ok(holder.writer == reservation.writer);
            }
        }
        Err(StoreError::Internal(format!(
            "no reservation following position {} could be recorded in {SALTS} salts",
            reservation.follows
        )))
    }

    async fn release(&self, reservation: &Reservation) -> Result<(), StoreError> {
        self.insert_entry(&Entry::of(reservation, 0, 1), None).await
    }
}
