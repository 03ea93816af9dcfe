//! `jsonl-store` — a storage backend keeping statements as JSON lines in one file of the
//! directory its manifest grants (`[capabilities] dir`, seen here as `/data`).
//!
//! Appends are whole calls in one write followed by `sync_data`, so a call's lines are kept
//! entirely or — if the process dies mid-write — leave a torn last line that readers ignore
//! and the next write cuts off. The instance keeps what it read between calls (the host keeps
//! a backend's one instance across calls): it reads the file once, then a write costs
//! O(batch) and a page of an unfiltered query O(page); a call that finds the file's size not
//! what it last wrote (another writer, a torn line) reads it again. A model for plugin
//! authors, meant for small stores and demos (filtered queries scan until a page is full).
//!
//! Two forms: the v0.2 `storage` world (default: the host applies the xAPI rules, and
//! erasure and retention can remove statements), and the v0.1 `backend` world
//! (`--no-default-features`: the plugin applies the rules through the SDK's `MemoryStore`).
//!
//! Config: `file` (default `statements.jsonl`).

mod file;
#[cfg(not(feature = "storage"))]
mod v0_1;
#[cfg(feature = "storage")]
mod v0_2;
