//! `{{name}}` — an xlrs storage backend keeping statements in memory (they are lost when the
//! server stops). Serve with `XLRS_STORE={{name}}`. To keep them elsewhere, load what you have
//! into a `MemoryStore`, let `check` apply the rules to a batch, and write what it returns.

use xlrs_plugin_sdk::{
    export_backend, Backend, MemoryStore, Page, StatementQuery, StatementRecord, StoreError,
    StoredStatement,
};

struct Plugin {
    /// Every statement inserted since the instance started.
    statements: MemoryStore,
}

impl Backend for Plugin {
    fn new() -> Self {
        Plugin { statements: MemoryStore::new() }
    }

    fn insert(&mut self, batch: Vec<StatementRecord>) -> Result<(), StoreError> {
        self.statements.insert(batch)
    }

    fn get(&mut self, id: &str) -> Result<Option<StoredStatement>, StoreError> {
        Ok(self.statements.get(id))
    }

    fn query(&mut self, query: StatementQuery) -> Result<Page, StoreError> {
        Ok(self.statements.query(&query))
    }
}

export_backend!(Plugin);
