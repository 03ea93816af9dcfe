//! `jsonl-store` — a storage backend keeping statements as JSON lines in one file of the
//! directory its manifest grants (`[capabilities] dir`, seen here as `/data`).
//!
//! One line per statement: the host's record (body, stored, query fields) as JSON. Appends are
//! whole batches in one write followed by `sync_data`, so a batch is kept entirely or — if the
//! process dies mid-write — leaves a torn last line that readers ignore and the next insert
//! cuts off. Every call reads the file: simple and durable, meant for small stores, demos and
//! as a model for plugin authors (queries cost O(statements)).
//!
//! Config: `file` (default `statements.jsonl`).

wit_bindgen::generate!({ world: "backend", path: "../../wit/v0.1" });

use std::collections::{HashMap, HashSet};

use exports::store::Guest;
use serde_json::{json, Value};
use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{Descriptor, DescriptorFlags, OpenFlags, PathFlags};
use xlrs::plugin::host::config;
use xlrs::plugin::types::{
    IndexKey, Page, StatementQuery, StatementRecord, StoreError, StoredStatement,
};

/// Bytes read per call when loading the file.
const CHUNK: u64 = 1 << 20;

struct JsonlStore;

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

/// One stored line, parsed.
struct Line {
    id: String,
    body: String,
    stored: i64,
    hash: String,
    verb: String,
    agents: Vec<(String, bool)>,
    activities: Vec<(String, bool)>,
    registration: Option<String>,
    statement_ref: Option<String>,
    voids: Option<String>,
    authority: String,
}

fn keys(v: &Value) -> Vec<(String, bool)> {
    v.as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|k| Some((k[0].as_str()?.to_string(), k[1].as_bool()?)))
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

fn parse(line: &[u8]) -> Result<Line, StoreError> {
    let v: Value = serde_json::from_slice(line)
        .map_err(|e| StoreError::Failure(format!("a line of the statements file is not JSON: {e}")))?;
    Ok(Line {
        id: text(&v, "id"),
        body: text(&v, "body"),
        stored: v["stored"].as_i64().unwrap_or_default(),
        hash: text(&v, "hash"),
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

/// Every stored line in insertion order, and the length of the file they cover.
fn load(file: &Descriptor) -> Result<(Vec<Line>, u64), StoreError> {
    let (bytes, len) = read_lines(file)?;
    let lines = bytes
        .split(|b| *b == b'\n')
        .filter(|l| !l.is_empty())
        .map(parse)
        .collect::<Result<_, _>>()?;
    Ok((lines, len))
}

/// Ids named by a voiding statement.
fn voided(lines: &[Line]) -> HashSet<&str> {
    lines.iter().filter_map(|l| l.voids.as_deref()).collect()
}

fn has(list: &[(String, bool)], key: &str, related: bool) -> bool {
    list.iter().any(|(k, direct)| k == key && (*direct || related))
}

/// Whether a line matches the query's filters itself.
fn matches(l: &Line, q: &StatementQuery) -> bool {
    q.agent.as_deref().is_none_or(|a| has(&l.agents, a, q.related_agents))
        && q.verb.as_deref().is_none_or(|v| l.verb == v)
        && q.activity.as_deref().is_none_or(|a| has(&l.activities, a, q.related_activities))
        && q.registration.as_deref().is_none_or(|r| l.registration.as_deref() == Some(r))
}

impl Guest for JsonlStore {
    fn insert(batch: Vec<StatementRecord>) -> Result<(), StoreError> {
        let file = open()?;
        let (lines, len) = load(&file)?;
        // What is stored: id → (content hash, is a voiding statement).
        let mut known: HashMap<String, (String, bool)> = lines
            .into_iter()
            .map(|l| (l.id, (l.hash, l.voids.is_some())))
            .collect();
        let mut out = String::new();
        for r in &batch {
            if let Some((hash, _)) = known.get(&r.id) {
                if *hash == r.content_hash {
                    continue;
                }
                return Err(StoreError::Conflict(r.id.clone()));
            }
            if let Some(target) = &r.voids {
                if let Some((_, true)) = known.get(target) {
                    return Err(StoreError::Rejected(format!(
                        "statement {} voids {target}, which is itself a voiding statement; a voiding statement cannot be voided",
                        r.id
                    )));
                }
            }
            known.insert(r.id.clone(), (r.content_hash.clone(), r.voids.is_some()));
            out.push_str(&encode(r));
        }
        if out.is_empty() {
            return Ok(());
        }
        // Cut a torn line left by a crash, then append the batch in one write.
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

    fn get(id: String) -> Result<Option<StoredStatement>, StoreError> {
        let (lines, _) = load(&open()?)?;
        let voided = voided(&lines);
        Ok(lines.iter().find(|l| l.id == id).map(|l| StoredStatement {
            body: l.body.clone(),
            stored: l.stored,
            voided: voided.contains(l.id.as_str()),
        }))
    }

    fn query(q: StatementQuery) -> Result<Page, StoreError> {
        let (lines, _) = load(&open()?)?;
        let voided = voided(&lines);
        let by_id: HashMap<&str, &Line> = lines.iter().map(|l| (l.id.as_str(), l)).collect();
        let filtered = q.agent.is_some()
            || q.verb.is_some()
            || q.activity.is_some()
            || q.registration.is_some();
        // Positions are line numbers, from 1.
        let selected = |(i, l): &(usize, &Line)| -> bool {
            let position = *i as i64 + 1;
            !voided.contains(l.id.as_str())
                && q.since.is_none_or(|s| l.stored > s)
                && q.until.is_none_or(|u| l.stored <= u)
                && q.authority.as_deref().is_none_or(|a| l.authority == a)
                && q.after.is_none_or(|a| if q.ascending { position > a } else { position < a })
                && (matches(l, &q)
                    || (filtered
                        && l.statement_ref
                            .as_deref()
                            .and_then(|t| by_id.get(t))
                            .is_some_and(|t| matches(t, &q))))
        };
        let limit = q.limit.max(1) as usize;
        let mut hits: Vec<(usize, &Line)> = if q.ascending {
            lines.iter().enumerate().filter(selected).take(limit + 1).collect()
        } else {
            lines.iter().enumerate().rev().filter(selected).take(limit + 1).collect()
        };
        let more = (hits.len() > limit).then(|| hits[limit - 1].0 as i64 + 1);
        hits.truncate(limit);
        Ok(Page {
            statements: hits
                .into_iter()
                .map(|(_, l)| StoredStatement {
                    body: l.body.clone(),
                    stored: l.stored,
                    voided: false,
                })
                .collect(),
            more,
        })
    }
}

export!(JsonlStore);
