//! A backend plugin as the statement store (`store = "<plugin name>"`): the host prepares each
//! statement (final body, `stored`, every query field) and the plugin keeps and finds them.
//! Attachments, canonical activity definitions and documents stay in the embedded store beside
//! it. Inserts run one at a time, so a plugin may keep plain files; reads run in parallel. The
//! plugin is looked up on every call, so a hot-swapped version serves the next request.

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;
use xlrs_plugin_host::bindings::{
    IndexKey, PluginQuery, PluginStoreError, PluginStored, StatementRecord,
};
use xlrs_plugin_host::{CallFailure, PluginInstance, PluginRegistry};
use xlrs_store::definitions::of_round;
use xlrs_store::group_commit::Positioned;
use xlrs_store::positions::Positions;
use xlrs_store::{Attachment, Page, StatementStore, StoreError, StoredStatement, Stores};
use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::statement::PreparedStatement;

/// Statements in a backend plugin, the rest in the embedded store.
pub struct PluginStore {
    name: String,
    registry: Arc<PluginRegistry>,
    content: Arc<dyn xlrs_store::ContentStore>,
    /// The last `stored` handed out; held for the whole insert, so inserts never overlap.
    last_stored: tokio::sync::Mutex<i64>,
    positions: Positions,
}

impl PluginStore {
    /// Uses the backend plugin `name` of `registry` for statements, and `embedded` for the
    /// rest; fails when the plugin is not loaded as a backend.
    pub fn open(
        name: &str,
        registry: Arc<PluginRegistry>,
        embedded: Stores,
    ) -> Result<Stores, StoreError> {
        registry.backend(name).map_err(StoreError::Unavailable)?;
        let statements = Self {
            name: name.to_string(),
            registry,
            content: embedded.content.clone(),
            last_stored: tokio::sync::Mutex::new(0),
            positions: Positions::default(),
        };
        Ok(Stores {
            statements: Arc::new(statements),
            lifecycle: None,
            ..embedded
        })
    }

    /// Runs `call` on the serving version of the plugin, off the async runtime.
    async fn call<T: Send + 'static>(
        &self,
        call: impl FnOnce(&PluginInstance) -> Result<Result<T, PluginStoreError>, CallFailure>
            + Send
            + 'static,
    ) -> Result<T, StoreError> {
        let plugin = self
            .registry
            .backend(&self.name)
            .map_err(StoreError::Unavailable)?;
        xlrs_plugin_host::threads::run(move || call(&plugin))
            .await
            .map_err(|e| StoreError::Internal(format!("backend plugin task failed: {e}")))?
            .map_err(|e| StoreError::Internal(format!("backend plugin `{}` {e}", self.name)))?
            .map_err(|e| from_plugin(&self.name, e))
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

/// What the host splices into responses must at least be a JSON object: a faulty plugin's
/// output becomes a 500, never a broken response body.
fn is_json_object(body: &str) -> bool {
    body.starts_with('{') && serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok()
}

fn stored_statement(s: PluginStored) -> StoredStatement {
    StoredStatement {
        body: s.body,
        voided: s.voided,
        stored: s.stored,
    }
}

#[async_trait]
impl StatementStore for PluginStore {
    async fn insert(
        &self,
        batch: Vec<PreparedStatement>,
        attachments: Vec<Attachment>,
    ) -> Result<(), StoreError> {
        let mut last = self.last_stored.lock().await;
        // Attachments first: content-addressed, so a failed batch leaves only unreferenced
        // bytes, never a statement whose attachment is missing.
        if !attachments.is_empty() {
            self.content.keep_attachments(attachments).await?;
        }
        let mut positions = self.positions.start(*last);
        let round: Vec<Positioned> = batch
            .iter()
            .map(|statement| Positioned {
                statement,
                stored: positions.next_position(),
            })
            .collect();
        let records: Vec<StatementRecord> = round.iter().copied().map(record).collect();
        let definitions = of_round(&round);
        self.call(move |p| p.insert(&records)).await?;
        *last = positions.last();
        drop(positions);
        self.content.keep_definitions(definitions).await
    }

    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError> {
        let id = id.to_string();
        match self.call(move |p| p.get(&id)).await? {
            Some(s) if !is_json_object(&s.body) => Err(StoreError::Internal(format!(
                "backend plugin `{}` returned a statement that is not a JSON object",
                self.name
            ))),
            found => Ok(found.map(stored_statement)),
        }
    }

    async fn query(&self, query: &StatementQuery) -> Result<Page, StoreError> {
        if query.include_voided {
            return Err(StoreError::Internal(format!(
                "backend plugin `{}` cannot list voided statements (contract v0.1)",
                self.name
            )));
        }
        let q = plugin_query(query);
        let page = self.call(move |p| p.query(&q)).await?;
        if let Some(bad) = page
            .statements
            .iter()
            .position(|s| !is_json_object(&s.body))
        {
            return Err(StoreError::Internal(format!(
                "backend plugin `{}` returned statement {bad} of a page that is not a JSON object",
                self.name
            )));
        }
        if page.statements.len() > query.limit {
            return Err(StoreError::Internal(format!(
                "backend plugin `{}` returned {} statements for a page of {}",
                self.name,
                page.statements.len(),
                query.limit
            )));
        }
        Ok(Page {
            last_stored: page.statements.iter().map(|s| s.stored).max(),
            statements: page.statements.into_iter().map(|s| s.body).collect(),
            more: page.more,
        })
    }

    async fn consistent_through(&self) -> Result<i64, StoreError> {
        Ok(self.positions.consistent_through())
    }
}
