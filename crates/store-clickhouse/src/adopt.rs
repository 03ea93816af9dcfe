//! Adopting Ralph's events table: rows the statements table lacks (written by Ralph, or by a
//! round whose statements-table insert failed) are indexed at start-up, oldest first, so a
//! Ralph deployment switches to xlrs without a migration.

use uuid::Uuid;
use xlrs_store::adopt::adoptable;
use xlrs_store::group_commit::GroupCommitted;
use xlrs_store::StoreError;

use crate::statements::{statement_row, EventRow};
use crate::{failed, ClickHouse};

/// Rows of the events table indexed per round at start-up.
const ADOPT_CHUNK: u64 = 10_000;

impl ClickHouse {
    /// Indexes the events the statements table lacks, oldest first; returns how many.
    pub(crate) async fn adopt_events(
        &self,
        statements: &GroupCommitted<ClickHouse>,
    ) -> Result<u64, StoreError> {
        let Some(events) = &self.events else {
            return Ok(0);
        };
        let mut adopted = 0;
        let mut after: Option<(i64, Uuid)> = None;
        loop {
            let resume = if after.is_some() {
                "(emission_time, event_id) > (fromUnixTimestamp64Micro({t:Int64}), {id:UUID}) AND"
            } else {
                ""
            };
            let (t, id) = after.unwrap_or_default();
            let rows: Vec<EventRow> = self
                .client
                .query(&format!(
                    "SELECT event_id, emission_time, event FROM {events}
                     WHERE {resume} event_id NOT IN (SELECT id FROM {})
                     ORDER BY emission_time, event_id LIMIT {ADOPT_CHUNK}",
                    self.statements
                ))
                .param("t", t)
                .param("id", id.to_string())
                .fetch_all()
                .await
                .map_err(failed)?;
            let Some(tail) = rows.last() else {
                return Ok(adopted);
            };
            after = Some((tail.emission_time, tail.event_id));
            let mut found = Vec::with_capacity(rows.len());
            for row in &rows {
                let adoptable = serde_json::from_str(&row.event)
                    .map_err(|e| format!("not JSON: {e}"))
                    .and_then(|event| {
                        adoptable(event, row.event_id, row.emission_time, "events-table")
                    });
                match adoptable {
                    Ok(statement) => found.push(statement),
                    Err(why) => tracing::warn!(event_id = %row.event_id, "event not served: {why}"),
                }
            }
            // The events are there already: only the statements table is written.
            adopted += statements
                .adopt(found, async |round| {
                    let _round = self.indexed.writing();
                    let rows: Vec<_> = round
                        .iter()
                        .map(|p| statement_row(p.statement, p.stored, p.body()))
                        .collect();
                    let refers = rows.iter().any(|r| !r.statement_ref.is_nil());
                    let ended = self.insert_statement_rows(&rows).await;
                    self.inserted(ended, round.last().map(|p| p.stored), refers)
                })
                .await?;
        }
    }
}
