//! The `storage` functions (contract v0.2). The host applies the xAPI rules; this keeps
//! an append-only log and an [`Index`] of it in memory. A line is a record (the host's, as
//! JSON: a statement appended or rewritten), or `{"op":"void","ids":[…]}` or
//! `{"op":"remove","ids":[…]}`; replaying the lines in order gives the store. A file the v0.1
//! form wrote reads the same way (its records name the statement they void).

use serde_json::{json, Value};
use wasip2::filesystem::types::Descriptor;
use xlrs_plugin_sdk::config;
use xlrs_plugin_sdk::guest::storage::{
    IdStatus, Index, IndexKey, Row, ScanFilter, StatementRecord, Storage, StoreError,
};

use crate::file::{self, optional, text, Fault};

fn fault(f: Fault) -> StoreError {
    match f {
        Fault::Unavailable(m) => StoreError::Unavailable(m),
        Fault::Failure(m) => StoreError::Failure(m),
    }
}

struct JsonlStorage {
    /// The store the file holds, and its length, once read.
    loaded: Option<(Index, u64)>,
}

fn keys(v: &Value) -> Vec<IndexKey> {
    file::pairs(v).into_iter().map(|(key, direct)| IndexKey { key, direct }).collect()
}


/// A list of strings of a line (empty when absent).
fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|items| items.iter().filter_map(|s| s.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

/// Replays one line onto the index.
fn replay(index: &mut Index, line: &[u8]) -> Result<(), StoreError> {
    let v: Value = serde_json::from_slice(line)
        .map_err(|e| StoreError::Failure(format!("a line of the statements file is not JSON: {e}")))?;
    match v["op"].as_str() {
        Some("void") => index.void(strings(&v["ids"])),
        Some("remove") => index.remove(&strings(&v["ids"])),
        _ => {
            // A v0.1 line names the statement it voids.
            let voids = optional(&v, "voids");
            index.put(StatementRecord {
                id: text(&v, "id"),
                body: text(&v, "body"),
                stored: v["stored"].as_i64().unwrap_or_default(),
                content_hash: text(&v, "hash"),
                verb: text(&v, "verb"),
                agents: keys(&v["agents"]),
                activities: keys(&v["activities"]),
                registration: optional(&v, "registration"),
                statement_ref: optional(&v, "ref"),
                voiding: v["voiding"].as_bool().unwrap_or(voids.is_some()),
                authority: text(&v, "authority"),
                attachments: strings(&v["attachments"]),
            });
            index.void(voids);
        }
    }
    Ok(())
}

fn encode(r: &StatementRecord) -> String {
    let pairs = |list: &[IndexKey]| -> Vec<Value> {
        list.iter().map(|k| json!([k.key, k.direct])).collect()
    };
    let mut line = json!({
        "id": r.id, "stored": r.stored, "hash": r.content_hash, "verb": r.verb,
        "agents": pairs(&r.agents), "activities": pairs(&r.activities),
        "registration": r.registration, "ref": r.statement_ref, "voiding": r.voiding,
        "authority": r.authority, "attachments": r.attachments, "body": r.body,
    })
    .to_string();
    line.push('\n');
    line
}

fn op(name: &str, ids: &[String]) -> String {
    let mut line = json!({"op": name, "ids": ids}).to_string();
    line.push('\n');
    line
}

/// The store the file holds, and the length of the file it covers.
fn load(file: &Descriptor) -> Result<(Index, u64), StoreError> {
    let (bytes, len) = file::read_lines(file).map_err(fault)?;
    let mut index = Index::new();
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        replay(&mut index, line)?;
    }
    Ok((index, len))
}

impl JsonlStorage {
    /// The file, and the store it holds: read again unless its size is what this instance
    /// last saw.
    fn current(&mut self) -> Result<(Descriptor, &mut (Index, u64)), StoreError> {
        let file = file::open(config("file")).map_err(fault)?;
        let size = file::size(&file).map_err(fault)?;
        let loaded = match self.loaded.take() {
            Some(kept) if kept.1 == size => kept,
            _ => load(&file)?,
        };
        Ok((file, self.loaded.insert(loaded)))
    }

    /// Appends `lines` to the file and, once they are synced, applies `change` to the index.
    fn write(&mut self, lines: String, change: impl FnOnce(&mut Index)) -> Result<(), StoreError> {
        let (file, (index, len)) = self.current()?;
        if lines.is_empty() {
            return Ok(());
        }
        let at = *len;
        match file::append(&file, at, &lines) {
            Ok(()) => {
                change(index);
                *len = at + lines.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Read again on the next call: the file may hold part of what was written.
                self.loaded = None;
                Err(fault(e))
            }
        }
    }
}

impl Storage for JsonlStorage {
    fn new() -> Self {
        JsonlStorage { loaded: None }
    }

    fn status(&mut self, ids: Vec<String>) -> Result<Vec<IdStatus>, StoreError> {
        Ok(self.current()?.1 .0.status(&ids))
    }

    fn append(
        &mut self,
        statements: Vec<StatementRecord>,
        voided: Vec<String>,
    ) -> Result<(), StoreError> {
        let mut lines: String = statements.iter().map(encode).collect();
        if !voided.is_empty() {
            lines.push_str(&op("void", &voided));
        }
        self.write(lines, |index| index.append(statements, voided))
    }

    fn rewrite(&mut self, statements: Vec<StatementRecord>) -> Result<(), StoreError> {
        let held = &self.current()?.1 .0;
        let statements: Vec<StatementRecord> =
            statements.into_iter().filter(|r| held.contains(&r.id)).collect();
        let lines: String = statements.iter().map(encode).collect();
        self.write(lines, |index| index.rewrite(statements))
    }

    fn remove(&mut self, ids: Vec<String>) -> Result<(), StoreError> {
        let lines = if ids.is_empty() { String::new() } else { op("remove", &ids) };
        self.write(lines, |index| index.remove(&ids))
    }

    fn get(&mut self, id: String) -> Result<Option<Row>, StoreError> {
        Ok(self.current()?.1 .0.get(&id))
    }

    fn scan(&mut self, filter: ScanFilter) -> Result<Vec<Row>, StoreError> {
        Ok(self.current()?.1 .0.scan(&filter))
    }
}

xlrs_plugin_sdk::export_storage!(JsonlStorage);
