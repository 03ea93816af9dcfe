//! `jsonl-store` — a storage backend keeping statements as JSON lines in one file of the
//! directory its manifest grants (`[capabilities] dir`, seen here as `/data`).
//!
//! One line per statement: the host's record (body, stored, query fields) as JSON. Appends are
//! whole batches in one write followed by `sync_data`, so a batch is kept entirely or — if the
//! process dies mid-write — leaves a torn last line that readers ignore and the next insert
//! cuts off. The instance keeps what it read between calls (the host keeps a backend's one
//! instance across calls): it reads the file once, then an insert costs O(batch) and a page of
//! an unfiltered query O(page); a call that finds the file's size not what it last wrote
//! (another writer, a torn line) reads it again. A model for plugin authors, meant for small
//! stores and demos (filtered queries scan until a page is full).
//!
//! Config: `file` (default `statements.jsonl`).

use serde_json::{json, Value};
use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{Descriptor, DescriptorFlags, OpenFlags, PathFlags};
use xlrs_plugin_sdk::guest::IndexKey;
use xlrs_plugin_sdk::{
    config, export_backend, Backend, MemoryStore, Page, StatementQuery, StatementRecord,
    StoreError, StoredStatement,
};

/// Bytes read per call when loading the file.
const CHUNK: u64 = 1 << 20;

struct JsonlStore {
    /// The statements the file holds, and its length, once read.
    loaded: Option<(MemoryStore, u64)>,
}

/// The statements file, opened for reading and writing.
fn open() -> Result<Descriptor, StoreError> {
    let (dir, _) = get_directories()
        .into_iter()
        .find(|(_, path)| path == "/data")
        .ok_or_else(|| {
            StoreError::Unavailable("no directory granted: set [capabilities] dir".into())
        })?;
    let name = config("file").unwrap_or_else(|| "statements.jsonl".into());
    dir.open_at(
        PathFlags::empty(),
        &name,
        OpenFlags::CREATE,
        DescriptorFlags::READ | DescriptorFlags::WRITE,
    )
    .map_err(|e| StoreError::Unavailable(format!("cannot open /data/{name}: {e:?}")))
}

fn io(what: &str) -> impl FnOnce(wasip2::filesystem::types::ErrorCode) -> StoreError + '_ {
    move |e| StoreError::Failure(format!("{what}: {e:?}"))
}

/// Reads the whole file; returns its complete lines and the length they cover (a torn last
/// line, without its newline, is left out).
fn read_lines(file: &Descriptor) -> Result<(Vec<u8>, u64), StoreError> {
    let mut bytes = Vec::new();
    loop {
        let (chunk, end) = file
            .read(CHUNK, bytes.len() as u64)
            .map_err(io("reading the statements file"))?;
        bytes.extend_from_slice(&chunk);
        if end || chunk.is_empty() {
            break;
        }
    }
    let complete = bytes.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    bytes.truncate(complete);
    Ok((bytes, complete as u64))
}

fn keys(v: &Value) -> Vec<IndexKey> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|k| {
                    Some(IndexKey { key: k[0].as_str()?.to_string(), direct: k[1].as_bool()? })
                })
                .collect()
        })
        .unwrap_or_default()
}

fn text(v: &Value, key: &str) -> String {
    v[key].as_str().unwrap_or_default().to_string()
}

fn optional(v: &Value, key: &str) -> Option<String> {
    v[key].as_str().map(str::to_string)
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
    let (bytes, len) = read_lines(file)?;
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
        let file = open()?;
        let size = file.stat().map_err(io("reading the file's size"))?.size;
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
        let written = append(&file, at, &out);
        match written {
            Ok(()) => {
                store.add(fresh);
                *len = at + out.len() as u64;
                Ok(())
            }
            Err(e) => {
                self.loaded = None;
                Err(e)
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

/// Cuts a torn line left by a crash (the file is `len` long where its last whole line ends),
/// then appends `out` in one write and syncs it.
fn append(file: &Descriptor, len: u64, out: &str) -> Result<(), StoreError> {
    file.set_size(len).map_err(io("truncating a torn line"))?;
    let mut written = 0usize;
    while written < out.len() {
        let n = file
            .write(&out.as_bytes()[written..], len + written as u64)
            .map_err(io("appending"))?;
        written += n as usize;
    }
    file.sync_data().map_err(io("syncing"))
}

export_backend!(JsonlStore);
