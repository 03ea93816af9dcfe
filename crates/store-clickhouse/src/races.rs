//! One statement id written through two processes at once. Nothing in ClickHouse refuses a
//! second row with an id, and each process checks a round's ids before writing it, so two
//! rounds whose checks both began before either insert ended could both store an id. After
//! its insert, a round of a database that others write looks for rows of its ids that its
//! check could not see (past the position through which every row was visible to it) and
//! compares the numbers of the blocks they were inserted in (`_block_number`: given under the
//! table's lock as a part is added, so in the order inserts became visible). The round whose
//! block came later always sees the other, since its check follows its insert: it takes its
//! rows back and is checked again ([`StoreError::Raced`]), so the id is stored once, an
//! identical re-send is acknowledged and a conflicting one refused.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use clickhouse::Row;
use serde::Deserialize;
use uuid::Uuid;
use xlrs_store::group_commit::Positioned;
use xlrs_store::StoreError;

use crate::statements::StatementRow;
use crate::{failed, ClickHouse};

/// [`RoundWriter::Known`](xlrs_store::group_commit::RoundWriter::Known) of a process that
/// alone writes: no other process's row can race its rounds.
pub(crate) const NO_RIVALS: i64 = i64::MAX;

/// A row of one of a round's ids, and the block it was inserted in.
#[derive(Row, Deserialize, Debug, Clone, Copy)]
pub(crate) struct Landed {
    /// The statement id.
    #[serde(with = "clickhouse::serde::uuid")]
    pub(crate) id: Uuid,
    /// Its position.
    pub(crate) stored: i64,
    /// The number of the block its insert made.
    pub(crate) block: u64,
}

/// The ids of `ours` (position → id) of which another row landed in an earlier block.
pub(crate) fn lost(landed: &[Landed], ours: &HashMap<i64, Uuid>) -> Vec<Uuid> {
    let mut first: HashMap<Uuid, u64> = HashMap::new();
    for row in landed.iter().filter(|r| ours.get(&r.stored) != Some(&r.id)) {
        let block = first.entry(row.id).or_insert(row.block);
        *block = (*block).min(row.block);
    }
    let mut lost: Vec<Uuid> = landed
        .iter()
        .filter(|r| ours.get(&r.stored) == Some(&r.id))
        .filter(|r| first.get(&r.id).is_some_and(|other| *other < r.block))
        .map(|r| r.id)
        .collect();
    lost.sort_unstable();
    lost.dedup();
    lost
}

impl ClickHouse {
    /// After a round's insert: when another process's row of one of its ids landed first (in
    /// an earlier block, past `seen`, the position through which the round's check saw every
    /// row), takes the round back and answers [`StoreError::Raced`]. Nothing to do for a
    /// process that alone writes, or a table that does not number its blocks.
    pub(crate) async fn first_to_land(
        &self,
        round: &[Positioned<'_>],
        rows: &[StatementRow],
        seen: i64,
    ) -> Result<(), StoreError> {
        if seen == NO_RIVALS || rows.is_empty() || !self.block_numbers.load(Ordering::Acquire) {
            return Ok(());
        }
        let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
        let landed: Vec<Landed> = self
            .client
            .query(&format!(
                "SELECT id, stored, _block_number AS block FROM {} \
                 WHERE stored > {{seen:Int64}} AND id IN {{ids:Array(UUID)}}",
                self.statements
            ))
            .param("seen", seen)
            .param("ids", ids)
            .with_setting("max_threads", "1")
            .fetch_all()
            .await
            .map_err(failed)?;
        let ours: HashMap<i64, Uuid> = rows.iter().map(|r| (r.stored, r.id)).collect();
        let lost = lost(&landed, &ours);
        let Some(first) = lost.first() else {
            return Ok(());
        };
        if let Err(e) = self.take_back(round, rows).await {
            return Err(StoreError::Internal(format!(
                "statement {first} was stored by another process first, and this round could \
                 not be taken back, so it stays stored too: {e}"
            )));
        }
        Err(StoreError::Raced(format!(
            "ClickHouse: {} of the round's ids (e.g. {first}) landed first through another process",
            lost.len()
        )))
    }

    /// Deletes what a round wrote: its statements, StatementRefs and admission records (at
    /// its positions) and its rows of Ralph's events table (by id and body, which holds the
    /// round's `stored`: another process's row of the same id stays; within the round's
    /// emission times, so the deletion reads only their part of that table's order).
    async fn take_back(
        &self,
        round: &[Positioned<'_>],
        rows: &[StatementRow],
    ) -> Result<(), StoreError> {
        let positions: Vec<i64> = rows.iter().map(|r| r.stored).collect();
        let at_positions = "stored IN {positions:Array(Int64)}";
        if let Some(events) = &self.events {
            let ids: Vec<String> = rows.iter().map(|r| r.id.to_string()).collect();
            let bodies: Vec<&str> = rows.iter().map(|r| r.body.as_str()).collect();
            let times = rows.iter().map(|r| r.emission_time);
            self.client
                .query(&format!(
                    "DELETE FROM {events} WHERE emission_time \
                     BETWEEN fromUnixTimestamp64Micro({{from:Int64}}) \
                     AND fromUnixTimestamp64Micro({{to:Int64}}) \
                     AND event_id IN {{ids:Array(UUID)}} AND event IN {{bodies:Array(String)}}"
                ))
                .param("from", times.clone().min().unwrap_or(i64::MIN))
                .param("to", times.max().unwrap_or(i64::MAX))
                .param("ids", ids)
                .param("bodies", bodies)
                .with_setting("lightweight_deletes_sync", "2")
                .execute()
                .await
                .map_err(failed)?;
        }
        if rows.iter().any(|r| !r.statement_ref.is_nil()) {
            let refs = format!("{}_refs", self.statements);
            self.delete_where(&refs, at_positions, "positions", &positions)
                .await?;
        }
        if round.iter().any(|p| p.statement.admission.is_some()) {
            self.delete_where(
                &self.admissions_table(),
                at_positions,
                "positions",
                &positions,
            )
            .await?;
        }
        self.delete_where(&self.statements, at_positions, "positions", &positions)
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: u128, stored: i64, block: u64) -> Landed {
        Landed {
            id: Uuid::from_u128(id),
            stored,
            block,
        }
    }

    #[test]
    fn a_round_loses_the_ids_another_process_inserted_in_an_earlier_block() {
        let ours: HashMap<i64, Uuid> = [(10, Uuid::from_u128(1)), (11, Uuid::from_u128(2))]
            .into_iter()
            .collect();
        let landed = [
            row(1, 10, 7),
            row(2, 11, 7),
            // Id 1 at a higher position, but its block landed first.
            row(1, 20, 5),
            // Id 2 again, landed after ours: that round loses, not this one.
            row(2, 5, 9),
        ];
        assert_eq!(lost(&landed, &ours), [Uuid::from_u128(1)]);
        assert!(lost(&landed[..2], &ours).is_empty(), "no other row");
        assert!(
            lost(&[row(1, 10, 7), row(1, 3, 8)], &ours).is_empty(),
            "only a later one"
        );
    }
}
