//! Admission records: one row per admitted statement, written in the statement's round just
//! before the statements table (so a statement is never visible without its record), and
//! listed only where the statement is stored at that position (a round that failed after its
//! records leaves rows no listing shows).

use async_trait::async_trait;
use clickhouse::Row;
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use xlrs_store::group_commit::{AdmissionReader, Positioned};
use xlrs_store::StoreError;

use crate::{failed, ClickHouse};

/// The admissions table of statements table `{t}`.
pub(crate) const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS {t} (
    stored Int64,
    statement UUID,
    note String
) ENGINE = MergeTree ORDER BY stored";

/// A row of the admissions table.
#[derive(Row, Serialize, Deserialize)]
struct AdmissionRow {
    stored: i64,
    #[serde(with = "clickhouse::serde::uuid")]
    statement: Uuid,
    note: String,
}

impl ClickHouse {
    /// The admissions table's name.
    pub(crate) fn admissions_table(&self) -> String {
        format!("{}_admissions", self.statements)
    }

    /// Writes the records of a round's admitted statements (none: no request).
    pub(crate) async fn write_admissions(
        &self,
        round: &[Positioned<'_>],
    ) -> Result<(), StoreError> {
        let mut admitted: Vec<AdmissionRow> = Vec::new();
        for p in round {
            if let Some(note) = &p.statement.admission {
                admitted.push(AdmissionRow {
                    stored: p.stored,
                    statement: p.statement.id,
                    note: note.clone(),
                });
            }
        }
        if admitted.is_empty() {
            return Ok(());
        }
        let table = self.admissions_table();
        self.insert_rows::<AdmissionRow>(&self.client, &table, &admitted)
            .await
    }
}

#[async_trait]
impl AdmissionReader for ClickHouse {
    async fn admitted(
        &self,
        after: i64,
        through: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Uuid, String)>, StoreError> {
        let rows: Vec<AdmissionRow> = self
            .client
            .query(&format!(
                "SELECT stored, statement, note FROM {a}
                 WHERE stored > {{after:Int64}} AND stored <= {{through:Int64}}
                   AND (statement, stored) IN (SELECT id, stored FROM {t}
                        WHERE stored > {{after:Int64}} AND stored <= {{through:Int64}})
                 ORDER BY stored LIMIT {limit}",
                a = self.admissions_table(),
                t = self.statements,
            ))
            .param("after", after)
            .param("through", through)
            .fetch_all()
            .await
            .map_err(failed)?;
        Ok(rows
            .into_iter()
            .map(|r| (r.stored, r.statement, r.note))
            .collect())
    }
}
