//! `{{name}}` — a storage backend (contract v0.2, world `storage`), started from xlrs's
//! jsonl-store example: statements as JSON lines in one file of the directory its manifest
//! grants (`[capabilities] dir`, seen here as `/data`), with an index in memory.
//!
//! The host applies every xAPI rule (duplicates, conflicts, voiding, StatementRef filters,
//! paging) and calls `status`, `append`, `rewrite`, `remove`, `get` and `scan` (src/store.rs);
//! src/file.rs reads and appends the file. Keep the functions, change where records go.

mod file;
mod store;
