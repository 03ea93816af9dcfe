//! A backend plugin's calls: the v0.1 `backend` world (the plugin applies the xAPI rules) and
//! the v0.2 `storage` world (primitives; the host applies the rules).

use crate::bindings::v0_2::{self, IdStatus, Row, ScanFilter};
use crate::bindings::{PluginPage, PluginQuery, PluginStoreError, PluginStored, StatementRecord};
use crate::instance::{not_a, Bindings};
use crate::{CallFailure, PluginInstance};

/// What a v0.2 storage call answers.
pub type StorageResult<T> = Result<Result<T, v0_2::StoreError>, CallFailure>;

impl PluginInstance {
    /// True for a v0.2 `storage` backend, which stores under the host's rules.
    pub fn is_storage(&self) -> bool {
        matches!(self.prepared, crate::instance::Prepared::Storage(_))
    }

    /// Stores a batch in a v0.1 backend.
    pub fn insert(
        &self,
        batch: &[StatementRecord],
    ) -> Result<Result<(), PluginStoreError>, CallFailure> {
        self.run(|store, bindings| match bindings {
            Bindings::Backend(b) => b.store().call_insert(store, batch),
            _ => Err(not_a("v0.1 backend")),
        })
    }

    /// One statement by id from a v0.1 backend.
    pub fn get(
        &self,
        id: &str,
    ) -> Result<Result<Option<PluginStored>, PluginStoreError>, CallFailure> {
        self.run(|store, bindings| match bindings {
            Bindings::Backend(b) => b.store().call_get(store, id),
            _ => Err(not_a("v0.1 backend")),
        })
    }

    /// A page of a v0.1 backend's query results.
    pub fn query(
        &self,
        q: &PluginQuery,
    ) -> Result<Result<PluginPage, PluginStoreError>, CallFailure> {
        self.run(|store, bindings| match bindings {
            Bindings::Backend(b) => b.store().call_query(store, q),
            _ => Err(not_a("v0.1 backend")),
        })
    }

    /// What a storage backend keeps of these ids.
    pub fn status(&self, ids: &[String]) -> StorageResult<Vec<IdStatus>> {
        self.run(|store, bindings| match bindings {
            Bindings::Storage(b) => b.records().call_status(store, ids),
            _ => Err(not_a("storage backend")),
        })
    }

    /// Keeps new statements in a storage backend and marks `voided` ids voided.
    pub fn append(
        &self,
        statements: &[v0_2::StatementRecord],
        voided: &[String],
    ) -> StorageResult<()> {
        self.run(|store, bindings| match bindings {
            Bindings::Storage(b) => b.records().call_append(store, statements, voided),
            _ => Err(not_a("storage backend")),
        })
    }

    /// Replaces stored statements of a storage backend by id.
    pub fn rewrite(&self, statements: &[v0_2::StatementRecord]) -> StorageResult<()> {
        self.run(|store, bindings| match bindings {
            Bindings::Storage(b) => b.records().call_rewrite(store, statements),
            _ => Err(not_a("storage backend")),
        })
    }

    /// Removes statements from a storage backend.
    pub fn remove(&self, ids: &[String]) -> StorageResult<()> {
        self.run(|store, bindings| match bindings {
            Bindings::Storage(b) => b.records().call_remove(store, ids),
            _ => Err(not_a("storage backend")),
        })
    }

    /// One statement by id from a storage backend, voided or not.
    pub fn row(&self, id: &str) -> StorageResult<Option<Row>> {
        self.run(|store, bindings| match bindings {
            Bindings::Storage(b) => b.records().call_get(store, id),
            _ => Err(not_a("storage backend")),
        })
    }

    /// The statements a scan of a storage backend selects.
    pub fn scan(&self, filter: &ScanFilter) -> StorageResult<Vec<Row>> {
        self.run(|store, bindings| match bindings {
            Bindings::Storage(b) => b.records().call_scan(store, filter),
            _ => Err(not_a("storage backend")),
        })
    }
}
