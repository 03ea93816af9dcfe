//! A backend plugin as the statement store (`store = "<plugin name>"`): the host prepares each
//! statement (final body, `stored`, every query field) and the plugin keeps and finds them.
//! Attachments, canonical activity definitions and documents stay in the embedded store beside
//! it. Inserts run one at a time, so a plugin may keep plain files. The plugin is looked up on
//! every call, so a hot-swapped version serves the next request.
//!
//! Two contracts: a v0.1 `backend` applies the xAPI rules itself (`v0_1`); a v0.2 `storage`
//! backend offers primitives and the host applies the rules on top (`v0_2`), and removes and
//! rewrites statements for erasure and retention (`lifecycle`).

mod lifecycle;
mod v0_1;
mod v0_2;

use std::sync::Arc;

use async_trait::async_trait;
use uuid::Uuid;
use xlrs_plugin_host::{CallFailure, PluginInstance, PluginRegistry};
use xlrs_store::group_commit::Positioned;
use xlrs_store::positions::{Positions, Round};
use xlrs_store::{
    Attachment, ContentStore, Page, StatementStore, StoreError, StoredStatement, Stores,
};
use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::statement::PreparedStatement;

/// Statements in a backend plugin, the rest in the embedded store.
pub struct PluginStore {
    name: String,
    registry: Arc<PluginRegistry>,
    content: Arc<dyn ContentStore>,
    /// The last `stored` handed out; held for the whole insert, so inserts never overlap.
    last_stored: tokio::sync::Mutex<i64>,
    positions: Positions,
    /// The embedded store's removal, for the attachments and documents it keeps.
    embedded: Option<Arc<dyn xlrs_store::lifecycle::Lifecycle>>,
}

impl PluginStore {
    /// Uses the backend plugin `name` of `registry` for statements, and `embedded` for the
    /// rest; fails when the plugin is not loaded as a backend. A v0.2 storage backend can
    /// remove statements (erasure, retention); a v0.1 backend cannot.
    pub fn open(
        name: &str,
        registry: Arc<PluginRegistry>,
        embedded: Stores,
    ) -> Result<Stores, StoreError> {
        let plugin = registry.backend(name).map_err(StoreError::Unavailable)?;
        let store = Arc::new(Self {
            name: name.to_string(),
            registry,
            content: embedded.content.clone(),
            last_stored: tokio::sync::Mutex::new(0),
            positions: Positions::default(),
            embedded: embedded.lifecycle.clone(),
        });
        let lifecycle: Option<Arc<dyn xlrs_store::lifecycle::Lifecycle>> = if plugin.is_storage() {
            Some(store.clone())
        } else {
            None
        };
        Ok(Stores {
            statements: store,
            lifecycle,
            ..embedded
        })
    }

    /// The serving version of the plugin.
    fn plugin(&self) -> Result<Arc<PluginInstance>, StoreError> {
        self.registry
            .backend(&self.name)
            .map_err(StoreError::Unavailable)
    }

    /// Runs `call` on `plugin`, off the async runtime; `from` turns the plugin's own error
    /// into the store's.
    async fn call<T: Send + 'static, E: Send + 'static>(
        &self,
        plugin: Arc<PluginInstance>,
        call: impl FnOnce(&PluginInstance) -> Result<Result<T, E>, CallFailure> + Send + 'static,
        from: fn(&str, E) -> StoreError,
    ) -> Result<T, StoreError> {
        xlrs_plugin_host::threads::run(move || call(&plugin))
            .await
            .map_err(|e| StoreError::Internal(format!("backend plugin task failed: {e}")))?
            .map_err(|e| StoreError::Internal(format!("backend plugin `{}` {e}", self.name)))?
            .map_err(|e| from(&self.name, e))
    }

    /// A failure of the backend's answer itself (counted as the plugin's failure).
    fn bad_answer(&self, plugin: &PluginInstance, what: &str) -> StoreError {
        let message = format!("backend plugin `{}` {what}", self.name);
        plugin.count_failure(&message);
        StoreError::Internal(message)
    }
}

/// The statements a round writes, each at the round's next position.
fn place<'a>(
    positions: &mut Round<'_>,
    statements: impl IntoIterator<Item = &'a PreparedStatement>,
) -> Vec<Positioned<'a>> {
    statements
        .into_iter()
        .map(|statement| Positioned {
            statement,
            stored: positions.next_position(),
        })
        .collect()
}

/// What the host splices into responses must at least be a JSON object: a faulty plugin's
/// output becomes a 500, never a broken response body.
fn is_json_object(body: &str) -> bool {
    body.starts_with('{') && serde_json::from_str::<serde::de::IgnoredAny>(body).is_ok()
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
        let plugin = self.plugin()?;
        let definitions = if plugin.is_storage() {
            self.insert_v0_2(plugin, &batch, &mut last).await?
        } else {
            self.insert_v0_1(plugin, &batch, &mut last).await?
        };
        drop(last);
        self.content.keep_definitions(definitions).await
    }

    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError> {
        let plugin = self.plugin()?;
        let found = if plugin.is_storage() {
            self.get_v0_2(plugin.clone(), id).await?
        } else {
            self.get_v0_1(plugin.clone(), id).await?
        };
        match found {
            Some(s) if !is_json_object(&s.body) => {
                Err(self.bad_answer(&plugin, "returned a statement that is not a JSON object"))
            }
            found => Ok(found),
        }
    }

    /// A v0.1 backend cannot tell (it answers queries only): `None`.
    async fn referring_to(
        &self,
        target: Uuid,
        limit: usize,
    ) -> Result<Option<Vec<StoredStatement>>, StoreError> {
        let plugin = self.plugin()?;
        if !plugin.is_storage() {
            return Ok(None);
        }
        self.referring_to_v0_2(plugin, target, limit)
            .await
            .map(Some)
    }

    async fn query(&self, query: &StatementQuery) -> Result<Page, StoreError> {
        let plugin = self.plugin()?;
        let page = if plugin.is_storage() {
            self.query_v0_2(plugin.clone(), query).await?
        } else {
            self.query_v0_1(plugin.clone(), query).await?
        };
        if let Some(bad) = page.statements.iter().position(|s| !is_json_object(s)) {
            return Err(self.bad_answer(
                &plugin,
                &format!("returned statement {bad} of a page that is not a JSON object"),
            ));
        }
        if page.statements.len() > query.limit {
            return Err(self.bad_answer(
                &plugin,
                &format!(
                    "returned {} statements for a page of {}",
                    page.statements.len(),
                    query.limit
                ),
            ));
        }
        Ok(page)
    }

    async fn consistent_through(&self) -> Result<i64, StoreError> {
        Ok(self.positions.consistent_through())
    }
}
