//! Erasure and retention over a v0.2 storage backend: statements removed and rewritten through
//! its `remove` and `rewrite`, attachment contents no remaining statement names (a scan by
//! attachment finds none) and documents removed from the embedded store that keeps them.

use std::sync::Arc;

use async_trait::async_trait;
use xlrs_plugin_host::bindings::v0_2::{ScanFilter, StatementRecord};
use xlrs_plugin_host::PluginInstance;
use xlrs_store::group_commit::Positioned;
use xlrs_store::lifecycle::{Lifecycle, Located};
use xlrs_store::{DocumentScope, StoreError};

use crate::v0_2::{from_plugin, record, unfiltered};
use crate::PluginStore;

impl PluginStore {
    /// The serving version, which must be a v0.2 storage backend to remove anything.
    fn storage(&self) -> Result<Arc<PluginInstance>, StoreError> {
        let plugin = self.plugin()?;
        if plugin.is_storage() {
            Ok(plugin)
        } else {
            Err(StoreError::Internal(format!(
                "backend plugin `{}` now serves contract v0.1, which cannot remove statements",
                self.name
            )))
        }
    }

    /// The embedded store's removal, for what it keeps beside the backend.
    fn embedded(&self) -> Result<&dyn Lifecycle, StoreError> {
        self.embedded.as_deref().ok_or_else(|| {
            StoreError::Internal("the embedded store cannot remove documents".into())
        })
    }
}

#[async_trait]
impl Lifecycle for PluginStore {
    async fn remove_statements(
        &self,
        statements: &[Located],
        attachments: &[String],
    ) -> Result<u64, StoreError> {
        let plugin = self.storage()?;
        if !statements.is_empty() {
            let ids: Vec<String> = statements.iter().map(|s| s.id.to_string()).collect();
            self.call(plugin.clone(), move |p| p.remove(&ids), from_plugin)
                .await?;
        }
        let mut unnamed = Vec::new();
        for sha2 in attachments {
            let naming = ScanFilter {
                attachment: Some(sha2.clone()),
                voided: true,
                ..unfiltered(false)
            };
            if self.scan(plugin.clone(), naming).await?.is_empty() {
                unnamed.push(sha2.clone());
            }
        }
        if unnamed.is_empty() {
            return Ok(0);
        }
        // The embedded store holds no statements: it removes every content it is given.
        self.embedded()?.remove_statements(&[], &unnamed).await
    }

    async fn rewrite_statements(
        &self,
        statements: &[Positioned<'_>],
        _erased: &[String],
    ) -> Result<(), StoreError> {
        let plugin = self.storage()?;
        let records: Vec<StatementRecord> = statements.iter().copied().map(record).collect();
        self.call(plugin, move |p| p.rewrite(&records), from_plugin)
            .await
    }

    async fn agent_documents(
        &self,
        agents: &[String],
    ) -> Result<Vec<(DocumentScope, String)>, StoreError> {
        self.embedded()?.agent_documents(agents).await
    }

    async fn remove_documents(
        &self,
        documents: &[(DocumentScope, String)],
        updated_before: Option<i64>,
    ) -> Result<u64, StoreError> {
        self.embedded()?
            .remove_documents(documents, updated_before)
            .await
    }

    async fn documents_before(
        &self,
        before: i64,
        limit: usize,
    ) -> Result<Vec<(DocumentScope, String)>, StoreError> {
        self.embedded()?.documents_before(before, limit).await
    }
}
