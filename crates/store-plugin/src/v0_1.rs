//! The v0.1 `backend` contract: the plugin applies the duplicate, conflict, voiding and
//! StatementRef rules itself; the host hands it prepared records and typed queries.

use std::sync::Arc;

use uuid::Uuid;
use xlrs_plugin_host::bindings::{
    IndexKey, PluginQuery, PluginStoreError, PluginStored, StatementRecord,
};
use xlrs_plugin_host::PluginInstance;
use xlrs_store::definitions::of_round;
use xlrs_store::group_commit::Positioned;
use xlrs_store::{Definition, Page, StoreError, StoredStatement};
use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::statement::PreparedStatement;

use crate::{place, PluginStore};

impl PluginStore {
    /// Stores a batch through a v0.1 backend; the definitions it carries.
    pub(crate) async fn insert_v0_1(
        &self,
        plugin: Arc<PluginInstance>,
        batch: &[PreparedStatement],
        last: &mut i64,
    ) -> Result<Vec<Definition>, StoreError> {
        let mut positions = self.positions.start(*last);
        let round = place(&mut positions, batch);
        let records: Vec<StatementRecord> = round.iter().copied().map(record).collect();
        let definitions = of_round(&round);
        self.call(plugin, move |p| p.insert(&records), from_plugin)
            .await?;
        *last = positions.last();
        Ok(definitions)
    }

    /// One statement by id from a v0.1 backend.
    pub(crate) async fn get_v0_1(
        &self,
        plugin: Arc<PluginInstance>,
        id: Uuid,
    ) -> Result<Option<StoredStatement>, StoreError> {
        let id = id.to_string();
        let found = self.call(plugin, move |p| p.get(&id), from_plugin).await?;
        Ok(found.map(stored_statement))
    }

    /// A page of a v0.1 backend's query results.
    pub(crate) async fn query_v0_1(
        &self,
        plugin: Arc<PluginInstance>,
        query: &StatementQuery,
    ) -> Result<Page, StoreError> {
        if query.include_voided {
            return Err(StoreError::Internal(format!(
                "backend plugin `{}` cannot list voided statements (contract v0.1)",
                self.name
            )));
        }
        let q = plugin_query(query);
        let page = self.call(plugin, move |p| p.query(&q), from_plugin).await?;
        Ok(Page {
            last_stored: page.statements.iter().map(|s| s.stored).max(),
            statements: page.statements.into_iter().map(|s| s.body).collect(),
            more: page.more,
        })
    }
}

fn from_plugin(name: &str, e: PluginStoreError) -> StoreError {
    match e {
        PluginStoreError::Conflict(id) => match Uuid::parse_str(&id) {
            Ok(id) => StoreError::Conflict(id),
            Err(_) => StoreError::Internal(format!(
                "backend plugin `{name}` reported a conflict on `{id}`, which is not an id"
            )),
        },
        PluginStoreError::Rejected(m) => StoreError::Rejected(m),
        PluginStoreError::Unavailable(m) => {
            StoreError::Unavailable(format!("backend plugin `{name}`: {m}"))
        }
        PluginStoreError::Failure(m) => {
            StoreError::Internal(format!("backend plugin `{name}` failed: {m}"))
        }
    }
}

fn keys(list: &[(String, bool)]) -> Vec<IndexKey> {
    list.iter()
        .map(|(key, direct)| IndexKey {
            key: key.clone(),
            direct: *direct,
        })
        .collect()
}

fn record(positioned: Positioned<'_>) -> StatementRecord {
    let (s, stored) = (positioned.statement, positioned.stored);
    StatementRecord {
        id: s.id.to_string(),
        body: positioned.body(),
        stored,
        content_hash: s.content_hash.clone(),
        verb: s.index.verb.clone(),
        agents: keys(&s.index.agents),
        activities: keys(&s.index.activities),
        registration: s.index.registration.clone(),
        statement_ref: s.index.statement_ref.map(|u| u.to_string()),
        voids: s.index.voids.map(|u| u.to_string()),
        authority: s.index.authority.clone(),
    }
}

fn plugin_query(q: &StatementQuery) -> PluginQuery {
    PluginQuery {
        agent: q.agent.clone(),
        verb: q.verb.clone(),
        activity: q.activity.clone(),
        registration: q.registration.clone(),
        related_activities: q.related_activities,
        related_agents: q.related_agents,
        since: q.since,
        until: q.until,
        authority: q.authority.clone(),
        limit: q.limit.clamp(1, u32::MAX as usize) as u32,
        ascending: q.ascending,
        after: q.after,
    }
}

fn stored_statement(s: PluginStored) -> StoredStatement {
    StoredStatement {
        body: s.body,
        voided: s.voided,
        stored: s.stored,
    }
}
