//! The v0.1 form (`--no-default-features`): a `backend` that applies the xAPI rules itself,
//! through the SDK's [`MemoryStore`]. One line per statement: the host's record as JSON.

use serde_json::{json, Value};
use wasip2::filesystem::types::Descriptor;
use xlrs_plugin_sdk::guest::IndexKey;
use xlrs_plugin_sdk::{
    config, export_backend, Backend, MemoryStore, Page, StatementQuery, StatementRecord,
    StoreError, StoredStatement,
};

use crate::file::{self, optional, text, Fault};

impl From<Fault> for StoreError {
    fn from(f: Fault) -> Self {
        match f {
            Fault::Unavailable(m) => StoreError::Unavailable(m),
            Fault::Failure(m) => StoreError::Failure(m),
        }
    }
}

struct JsonlStore {
    /// The statements the file holds, and its length, once read.
    loaded: Option<(MemoryStore, u64)>,
}

fn keys(v: &Value) -> Vec<IndexKey> {
    file::pairs(v).into_iter().map(|(key, direct)| IndexKey { key, direct }).collect()
}

/// One stored line, parsed back into the host's record.
fn parse(line: &[u8]) -> Result<StatementRecord, StoreError> {
    let v: Value = serde_json::from_slice(line)
        .map_err(|e| StoreError::Failure(format!("a line of the statements file is not JSON: {e}")))?;
    Ok(StatementRecord {
        id: text(&v, "id"),
        body: text(&v, "body"),
        stored: v["stored"].as_i64().unwrap_or_default(),
        content_hash: text(&v, "hash"),
        verb: text(&v, "verb"),
        agents: keys(&v["agents"]),
        activities: keys(&v["activities"]),
        registration: optional(&v, "registration"),
        statement_ref: optional(&v, "ref"),
        voids: optional(&v, "voids"),
        authority: text(&v, "authority"),
    })
}

fn encode(r: &StatementRecord) -> String {
    let pairs = |list: &[IndexKey]| -> Vec<Value> {
        list.iter().map(|k| json!([k.key, k.direct])).collect()
    };
    let mut line = json!({
        "id": r.id, "stored": r.stored, "hash": r.content_hash, "verb": r.verb,
        "agents": pairs(&r.agents), "activities": pairs(&r.activities),
        "registration": r.registration, "ref": r.statement_ref, "voids": r.voids,
        "authority": r.authority, "body": r.body,
    })
    .to_string();
    line.push('\n');
    line
}

/// Every stored statement, and the length of the file they cover.
fn load(file: &Descriptor) -> Result<(MemoryStore, u64), StoreError> {
    let (bytes, len) = file::read_lines(file)?;
    let mut store = MemoryStore::new();
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        store.add([parse(line)?]);
    }
    Ok((store, len))
}

impl JsonlStore {
    /// The file, and the statements it holds: read again unless its size is what this
    /// instance last saw.
    fn current(&mut self) -> Result<(Descriptor, &mut (MemoryStore, u64)), StoreError> {
        let file = file::open(config("file"))?;
        let size = file::size(&file)?;
        let loaded = match self.loaded.take() {
            Some(kept) if kept.1 == size => kept,
            _ => load(&file)?,
        };
        Ok((file, self.loaded.insert(loaded)))
    }
}

impl Backend for JsonlStore {
    fn new() -> Self {
        JsonlStore { loaded: None }
    }

    fn insert(&mut self, batch: Vec<StatementRecord>) -> Result<(), StoreError> {
        let (file, (store, len)) = self.current()?;
        let fresh = store.check(batch)?;
        let out: String = fresh.iter().map(encode).collect();
        if out.is_empty() {
            return Ok(());
        }
        let at = *len;
        // Whatever happens next, the file is read again on the next call unless it ends well.
        let written = file::append(&file, at, &out);
        match written {
            Ok(()) => {
                store.add(fresh);
                *len = at + out.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.loaded = None;
                Err(e.into())
            }
        }
    }

    fn get(&mut self, id: &str) -> Result<Option<StoredStatement>, StoreError> {
        Ok(self.current()?.1 .0.get(id))
    }

    fn query(&mut self, query: StatementQuery) -> Result<Page, StoreError> {
        Ok(self.current()?.1 .0.query(&query))
    }
}

export_backend!(JsonlStore);
