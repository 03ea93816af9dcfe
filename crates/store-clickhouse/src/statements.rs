//! The statements table: its rows, the reads of one statement, and writing a round (events
//! table first, for Aspects, then the statements table, whose one INSERT makes it visible).

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use async_trait::async_trait;
use clickhouse::Row;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use xlrs_store::group_commit::{Positioned, RoundWriter, StatementReader};
use xlrs_store::rules::Stored;
use xlrs_store::{Page, StoreError, StoredStatement};
use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::statement::PreparedStatement;

use crate::known_ids::KnownIds;
use crate::{failed, ClickHouse};

/// A row of the statements table.
#[derive(Row, Serialize)]
pub(crate) struct StatementRow {
    #[serde(with = "clickhouse::serde::uuid")]
    pub(crate) id: Uuid,
    pub(crate) stored: i64,
    verb: String,
    agents: Vec<String>,
    direct_agents: Vec<String>,
    activities: Vec<String>,
    direct_activities: Vec<String>,
    registration: String,
    #[serde(with = "clickhouse::serde::uuid")]
    pub(crate) statement_ref: Uuid,
    #[serde(with = "clickhouse::serde::uuid")]
    voids: Uuid,
    authority: String,
    pub(crate) content_hash: String,
    pub(crate) body: String,
    /// The statement's `timestamp` in µs, else `stored`: Ralph's `emission_time` (not a
    /// column of this table).
    #[serde(skip)]
    pub(crate) emission_time: i64,
}

/// A row of Ralph's events table.
#[derive(Row, Serialize, Deserialize)]
pub(crate) struct EventRow {
    #[serde(with = "clickhouse::serde::uuid")]
    pub(crate) event_id: Uuid,
    /// The statement's `timestamp`, µs (DateTime64(6)).
    pub(crate) emission_time: i64,
    pub(crate) event: String,
}

/// What an insert needs to know of an id already stored.
#[derive(Row, Deserialize)]
pub(crate) struct Existing {
    #[serde(with = "clickhouse::serde::uuid")]
    id: Uuid,
    pub(crate) content_hash: String,
    #[serde(with = "clickhouse::serde::uuid")]
    voids: Uuid,
}

/// A statement as a single GET returns it.
#[derive(Row, Deserialize)]
struct FoundOne {
    stored: i64,
    body: String,
    voided: u8,
}

pub(crate) fn statement_row(s: &PreparedStatement, stored: i64, body: String) -> StatementRow {
    StatementRow {
        id: s.id,
        stored,
        verb: s.index.verb.clone(),
        agents: s.index.agent_keys(false),
        direct_agents: s.index.agent_keys(true),
        activities: s.index.activity_keys(false),
        direct_activities: s.index.activity_keys(true),
        registration: s.index.registration.clone().unwrap_or_default(),
        statement_ref: s.index.statement_ref.unwrap_or(Uuid::nil()),
        voids: s.index.voids.unwrap_or(Uuid::nil()),
        authority: s.index.authority.clone(),
        content_hash: s.content_hash.clone(),
        body,
        emission_time: s.index.timestamp.unwrap_or(stored),
    }
}

impl ClickHouse {
    /// Rows of the statements table for these ids.
    pub(crate) async fn existing(
        &self,
        ids: Vec<String>,
    ) -> Result<HashMap<Uuid, Existing>, StoreError> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<Existing> = self
            .client
            .query(&format!(
                "SELECT id, content_hash, voids FROM {} WHERE id IN {{ids:Array(UUID)}}",
                self.statements
            ))
            .param("ids", ids)
            .fetch_all()
            .await
            .map_err(failed)?;
        Ok(rows.into_iter().map(|r| (r.id, r)).collect())
    }

    /// Rows of the statements table for those of `ids` the filter of stored ids may hold, and
    /// (when other processes write) for every row past its cursor; `None` while the filter is
    /// being built.
    async fn known_by_filter(
        &self,
        known: &KnownIds,
        ids: &[Uuid],
    ) -> Result<Option<(HashMap<Uuid, Existing>, i64)>, StoreError> {
        let Some(filter) = known.filter() else {
            return Ok(None);
        };
        let maybe: Vec<String> = ids
            .iter()
            .filter(|id| filter.may_contain(**id))
            .map(Uuid::to_string)
            .collect();
        if !known.others_write() {
            let existing = self.existing(maybe).await?;
            return Ok(Some((existing, crate::races::NO_RIVALS)));
        }
        // Before the read: every row at or before `through` is visible from now on.
        let after = known.cursor();
        let through = xlrs_store::ledger::current(self).await?.through(after);
        let t = &self.statements;
        let mut sql =
            format!("SELECT id, content_hash, voids FROM {t} WHERE stored > {{after:Int64}}");
        if !maybe.is_empty() {
            sql.push_str(&format!(
                " UNION ALL SELECT id, content_hash, voids FROM {t} WHERE id IN {{ids:Array(UUID)}}"
            ));
        }
        let rows: Vec<Existing> = self
            .client
            .query(&sql)
            .param("after", after)
            .param("ids", maybe)
            .fetch_all()
            .await
            .map_err(failed)?;
        known.add(rows.iter().map(|r| r.id));
        known.advance(through);
        Ok(Some((
            rows.into_iter().map(|r| (r.id, r)).collect(),
            through,
        )))
    }

    /// Inserts the rows into the events table, in one insert.
    pub(crate) async fn insert_events(
        &self,
        events: &str,
        rows: &[StatementRow],
    ) -> Result<(), StoreError> {
        self.in_turn(|| async {
            let mut insert = self.client.insert::<EventRow>(events).await?;
            for r in rows {
                insert
                    .write(&EventRow {
                        event_id: r.id,
                        emission_time: r.emission_time,
                        event: r.body.clone(),
                    })
                    .await?;
            }
            insert.end().await
        })
        .await
    }

    /// Inserts rows into the statements table, in one insert (one block: visible whole).
    pub(crate) async fn insert_statement_rows(
        &self,
        rows: &[StatementRow],
    ) -> Result<(), StoreError> {
        self.insert_rows::<StatementRow>(&self.client, &self.statements, rows)
            .await
    }

    /// Notes a round's insert (before its POSTs are answered) and passes its `outcome` on:
    /// when one of its statements `refers` to another, done or failed, pages then include the
    /// StatementRef rules and the StatementRefs sets kept are stale (a failed insert may have
    /// been stored all the same, and its re-send stores nothing); when done, its newest
    /// position `last`.
    pub(crate) fn inserted(
        &self,
        outcome: Result<(), StoreError>,
        last: Option<i64>,
        refers: bool,
    ) -> Result<(), StoreError> {
        if refers {
            self.references
                .store(crate::references::REFERENCES_SEEN, Ordering::Release);
            self.known_refs.changed();
        }
        outcome?;
        if let Some(last) = last {
            self.indexed.wrote(last);
        }
        Ok(())
    }

    /// Writes the rows: events first (Aspects' table), then the statements table, whose one
    /// INSERT makes the batch visible. When the second fails, the events are taken back.
    pub(crate) async fn write_rows(&self, rows: &[StatementRow]) -> Result<(), StoreError> {
        if let Some(events) = &self.events {
            self.insert_events(events, rows).await?;
        }
        let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
        let outcome = self.insert_statement_rows(rows).await;
        if let (Err(e), Some(events)) = (&outcome, &self.events) {
            let undo = self
                .client
                .query(&format!(
                    "DELETE FROM {events} WHERE event_id IN {{ids:Array(UUID)}}"
                ))
                .param("ids", ids)
                .execute()
                .await;
            if let Err(undo) = undo {
                // Left in the events table; indexed (so served) at the next start.
                tracing::error!(error = %e, undo = %undo, "a failed batch stays in the events table");
            }
        }
        outcome
    }
}

impl RoundWriter for ClickHouse {
    /// A position through which every row was visible to the read of what is stored (see
    /// [`crate::races`]).
    type Known = i64;

    async fn known(&self, ids: Vec<Uuid>) -> Result<(Stored, i64), StoreError> {
        let existing = match &self.known_ids {
            Some(known) => self.known_by_filter(known, &ids).await?,
            None => None,
        };
        let (existing, seen) = match existing {
            Some(found) => found,
            None => {
                let seen = if self.indexed.sole_writer() {
                    crate::races::NO_RIVALS
                } else {
                    i64::MIN
                };
                let existing = self
                    .existing(ids.iter().map(Uuid::to_string).collect())
                    .await?;
                (existing, seen)
            }
        };
        let stored = existing
            .into_values()
            .map(|e| (e.id, e.content_hash, !e.voids.is_nil()))
            .collect();
        Ok((stored, seen))
    }

    async fn write(&self, round: &[Positioned<'_>], seen: &i64) -> Result<(), StoreError> {
        let _round = self.indexed.writing();
        let _writing = match &self.known_ids {
            Some(known) => Some(known.writing(round.iter().map(|p| p.statement.id)).await),
            None => None,
        };
        let rows: Vec<StatementRow> = round
            .iter()
            .map(|p| statement_row(p.statement, p.stored, p.body()))
            .collect();
        let refers = rows.iter().any(|r| !r.statement_ref.is_nil());
        self.write_admissions(round).await?;
        let written = self.write_rows(&rows).await;
        self.inserted(written, round.last().map(|p| p.stored), refers)?;
        self.first_to_land(round, &rows, *seen).await
    }
}

#[async_trait]
impl StatementReader for ClickHouse {
    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError> {
        // Two processes writing one id at the same instant may both store it (README,
        // "Several processes over one database"): the first stored is the one served.
        let found: Option<FoundOne> = self
            .client
            .query(&format!(
                "SELECT stored, body,
                        id IN (SELECT target FROM {t}_refs WHERE target = {{id:UUID}} AND voiding = 1)
                          AS voided
                 FROM {t} WHERE id = {{id:UUID}} ORDER BY stored LIMIT 1",
                t = self.statements
            ))
            .param("id", id.to_string())
            .fetch_optional()
            .await
            .map_err(failed)?;
        Ok(found.map(|f| StoredStatement {
            body: f.body,
            voided: f.voided != 0,
            stored: f.stored,
        }))
    }

    async fn query(&self, q: &StatementQuery) -> Result<Page, StoreError> {
        self.query_page(q).await
    }

    async fn referring_to(
        &self,
        target: Uuid,
        limit: usize,
    ) -> Result<Vec<StoredStatement>, StoreError> {
        let found: Vec<FoundOne> = self
            .client
            .query(&format!(
                "SELECT stored, body,
                        id IN (SELECT target FROM {t}_refs WHERE voiding = 1) AS voided
                 FROM {t}
                 WHERE stored IN (SELECT stored FROM {t}_refs WHERE target = {{target:UUID}})
                   AND statement_ref = {{target:UUID}}
                 ORDER BY stored DESC LIMIT 1 BY id LIMIT {limit}",
                t = self.statements
            ))
            .param("target", target.to_string())
            .fetch_all()
            .await
            .map_err(failed)?;
        Ok(found
            .into_iter()
            .map(|f| StoredStatement {
                body: f.body,
                voided: f.voided != 0,
                stored: f.stored,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use xlrs_xapi::version::XapiVersion;

    #[test]
    fn emission_time_is_the_timestamp_in_utc_or_else_stored() {
        let authority = serde_json::json!({"mbox": "mailto:lrs@example.com"});
        let statement = |timestamp: Option<&str>| {
            let mut s = serde_json::json!({
                "actor": {"mbox": "mailto:a@example.com"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                "object": {"id": "http://example.com/a"}
            });
            if let Some(t) = timestamp {
                s["timestamp"] = t.into();
            }
            xlrs_xapi::statement::prepare(s, &authority, XapiVersion::V2_0_0, Uuid::new_v4)
                .expect("a valid statement")
        };
        let row = statement_row(
            &statement(Some("2024-01-01T01:00:00.5+01:00")),
            7,
            String::new(),
        );
        assert_eq!(row.emission_time, 1_704_067_200_500_000);
        let row = statement_row(&statement(None), 7, String::new());
        assert_eq!(row.emission_time, 7);
    }
}
