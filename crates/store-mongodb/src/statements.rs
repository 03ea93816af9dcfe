//! Statements as documents in Ralph's layout (`_source`) with xlrs's fields (`xlrs`): the
//! conversions between JSON and BSON, the reads of one statement, and writing a round in one
//! transaction.

use std::collections::{HashMap, HashSet};

use async_trait::async_trait;
use mongodb::bson::{doc, oid::ObjectId, Bson, Document as Doc};
use mongodb::options::{Acknowledgment, WriteConcern};
use mongodb::ClientSession;
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;
use xlrs_store::group_commit::{AdmissionReader, Positioned, RoundWriter, StatementReader};
use xlrs_store::rules::Stored;
use xlrs_store::{Page, StoreError, StoredStatement};
use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::statement::PreparedStatement;
use xlrs_xapi::validate::parse_timestamp;

use mongodb::error::Error as MongoError;

use crate::{collect, duplicate_key, failed, Mongo};

/// How many times a transaction that conflicted with another is run again.
const TRANSIENT_TRIES: u64 = 20;

/// What a round needs to know of the ids it writes.
#[derive(Default)]
pub(crate) struct Known {
    /// Content hash of each id already stored.
    pub(crate) hashes: HashMap<Uuid, String>,
    /// Those that are voiding statements.
    voiding: HashSet<Uuid>,
    /// Those a stored statement voids.
    pub(crate) voided: HashSet<Uuid>,
}

/// A JSON value as BSON, and whether BSON holds it exactly (integers beyond `i64` become
/// doubles; keys holding NUL, which BSON cannot name, are left out).
pub(crate) fn to_bson(value: &Value, exact: &mut bool) -> Bson {
    match value {
        Value::Null => Bson::Null,
        Value::Bool(b) => Bson::Boolean(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => Bson::Int64(i),
            None => {
                *exact &= n.is_f64();
                Bson::Double(n.as_f64().unwrap_or(f64::NAN))
            }
        },
        Value::String(s) => Bson::String(s.clone()),
        Value::Array(items) => Bson::Array(items.iter().map(|v| to_bson(v, exact)).collect()),
        Value::Object(map) => {
            let mut doc = Doc::new();
            for (k, v) in map {
                if k.contains('\0') {
                    *exact = false;
                } else {
                    doc.insert(k.clone(), to_bson(v, exact));
                }
            }
            Bson::Document(doc)
        }
    }
}

/// BSON as JSON: the statement types exactly, anything else as relaxed Extended JSON.
pub(crate) fn to_json(value: Bson) -> Value {
    match value {
        Bson::Null => Value::Null,
        Bson::Boolean(b) => Value::Bool(b),
        Bson::Int32(i) => Value::from(i),
        Bson::Int64(i) => Value::from(i),
        Bson::Double(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Bson::String(s) => Value::String(s),
        Bson::Array(items) => Value::Array(items.into_iter().map(to_json).collect()),
        Bson::Document(doc) => {
            Value::Object(doc.into_iter().map(|(k, v)| (k, to_json(v))).collect())
        }
        other => other.into_relaxed_extjson(),
    }
}

/// The `_id` Ralph gives a statement: its timestamp in seconds (4 bytes, big-endian) then the
/// first 8 bytes of the SHA-256 of its id, so Ralph's readers page through xlrs's writes.
pub(crate) fn ralph_object_id(statement: &Value, id: Uuid) -> ObjectId {
    let seconds = statement
        .get("timestamp")
        .and_then(Value::as_str)
        .and_then(parse_timestamp)
        .and_then(|t| u32::try_from(t.timestamp()).ok())
        .unwrap_or(0);
    let digest = Sha256::digest(id.to_string().as_bytes());
    let mut bytes = [0u8; 12];
    bytes[..4].copy_from_slice(&seconds.to_be_bytes());
    bytes[4..].copy_from_slice(&digest[..8]);
    ObjectId::from_bytes(bytes)
}

/// The `xlrs` field of a statement: its query fields and position.
pub(crate) fn index_fields(s: &PreparedStatement, stored: i64, voided: bool) -> Doc {
    let mut fields = doc! {
        "id": s.id.to_string(),
        "stored": stored,
        "verb": &s.index.verb,
        "agents": s.index.agent_keys(false),
        "direct_agents": s.index.agent_keys(true),
        "activities": s.index.activity_keys(false),
        "direct_activities": s.index.activity_keys(true),
        "authority": &s.index.authority,
        "hash": &s.content_hash,
        "voided": voided,
    };
    if let Some(registration) = &s.index.registration {
        fields.insert("registration", registration);
    }
    if let Some(target) = s.index.statement_ref {
        fields.insert("ref", target.to_string());
    }
    if let Some(target) = s.index.voids {
        fields.insert("voids", target.to_string());
    }
    if let Some(note) = &s.admission {
        fields.insert("admission", note);
    }
    fields
}

/// The statement (`body`, with `stored` set) as `_source`, plus `body` in `xlrs` when BSON
/// cannot hold it exactly.
pub(crate) fn source_of(body: &str) -> Result<(Value, Bson, Option<String>), StoreError> {
    let value: Value = serde_json::from_str(body)
        .map_err(|e| StoreError::Internal(format!("a prepared statement is not JSON: {e}")))?;
    let mut exact = true;
    let source = to_bson(&value, &mut exact);
    Ok((value, source, (!exact).then(|| body.to_string())))
}

/// A statement's document in Ralph's layout with xlrs's fields.
pub(crate) fn statement_doc(
    s: &PreparedStatement,
    stored: i64,
    body: &str,
    voided: bool,
) -> Result<Doc, StoreError> {
    let (value, source, inexact) = source_of(body)?;
    let mut fields = index_fields(s, stored, voided);
    if let Some(body) = inexact {
        fields.insert("body", body);
    }
    Ok(doc! {
        "_id": ralph_object_id(&value, s.id),
        "_source": source,
        "xlrs": fields,
    })
}

/// `(stored, body)` of a found statement document.
pub(crate) fn found(mut doc: Doc) -> Result<(i64, String), StoreError> {
    let mut fields = doc
        .get_document_mut("xlrs")
        .map(std::mem::take)
        .unwrap_or_default();
    let stored = fields.get_i64("stored").unwrap_or_default();
    if let Some(Bson::String(body)) = fields.remove("body") {
        return Ok((stored, body));
    }
    let source = doc.remove("_source").unwrap_or(Bson::Null);
    let body = serde_json::to_string(&to_json(source))
        .map_err(|e| StoreError::Internal(format!("a stored statement: {e}")))?;
    Ok((stored, body))
}

/// A statement document read with [`projection`], with whether it is voided.
fn stored_statement(doc: Doc) -> Result<StoredStatement, StoreError> {
    let voided = doc
        .get_document("xlrs")
        .ok()
        .and_then(|f| f.get_bool("voided").ok())
        .unwrap_or(false);
    let (stored, body) = found(doc)?;
    Ok(StoredStatement {
        body,
        voided,
        stored,
    })
}

/// What queries read of a statement document.
pub(crate) fn projection() -> Doc {
    doc! { "_id": 0, "_source": 1, "xlrs.stored": 1, "xlrs.body": 1, "xlrs.voided": 1 }
}

impl Mongo {
    /// What the collection knows of these ids: content hashes, which are voiding statements,
    /// and which a stored statement voids.
    pub(crate) async fn known_ids(&self, ids: &[Uuid]) -> Result<Known, StoreError> {
        let mut known = Known::default();
        if ids.is_empty() {
            return Ok(known);
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let cursor = self
            .statements
            .find(doc! { "$or": [ { "xlrs.id": { "$in": &ids } }, { "xlrs.voids": { "$in": &ids } } ] })
            .projection(doc! { "_id": 0, "xlrs.id": 1, "xlrs.hash": 1, "xlrs.voids": 1 })
            .await
            .map_err(failed)?;
        let asked: HashSet<&str> = ids.iter().map(String::as_str).collect();
        for doc in collect(cursor).await? {
            let Ok(fields) = doc.get_document("xlrs") else {
                continue;
            };
            let voids = fields.get_str("voids").ok();
            if let Some(target) = voids.filter(|t| asked.contains(t)) {
                known.voided.extend(Uuid::parse_str(target).ok());
            }
            let Some(id) = fields.get_str("id").ok().filter(|id| asked.contains(id)) else {
                continue;
            };
            let Ok(id) = Uuid::parse_str(id) else {
                continue;
            };
            let hash = fields.get_str("hash").unwrap_or_default().to_string();
            known.hashes.insert(id, hash);
            if voids.is_some() {
                known.voiding.insert(id);
            }
        }
        Ok(known)
    }

    /// Writes a round's documents and marks the statements they void, in one transaction. A
    /// transaction that conflicted with another process's (`TransientTransactionError`) is
    /// run again, as MongoDB advises; nothing of it was kept.
    pub(crate) async fn write_docs(
        &self,
        docs: Vec<Doc>,
        voided: Vec<String>,
    ) -> Result<(), StoreError> {
        let mut attempt = 0;
        loop {
            match self.write_once(&docs, &voided).await {
                Err(e)
                    if e.contains_label("TransientTransactionError")
                        && attempt < TRANSIENT_TRIES =>
                {
                    attempt += 1;
                    let pause = u64::from(uuid::Uuid::new_v4().as_u128() as u8) * attempt;
                    tokio::time::sleep(std::time::Duration::from_micros(50 * pause)).await;
                }
                Err(e) if duplicate_key(&e) => {
                    // Our checks passed, so another process wrote the same id meanwhile; the
                    // transaction kept nothing, and group commit checks the round again.
                    return Err(StoreError::Raced(format!("MongoDB: {e}")));
                }
                outcome => return outcome.map_err(failed),
            }
        }
    }

    /// One transaction of [`Mongo::write_docs`].
    async fn write_once(&self, docs: &[Doc], voided: &[String]) -> Result<(), MongoError> {
        let mut session = self.client.start_session().await?;
        // Acknowledged once a majority of the replica set has it in its journal: durable on
        // acknowledgement, as the embedded store is.
        let durable = WriteConcern::builder()
            .w(Acknowledgment::Majority)
            .journal(true)
            .build();
        session.start_transaction().write_concern(durable).await?;
        if let Err(e) = self.write_in(&mut session, docs, voided).await {
            let _ = session.abort_transaction().await;
            return Err(e);
        }
        // The driver's advice: a commit whose outcome is unknown (connection lost meanwhile)
        // may be retried; the server answers the retry with the first commit's outcome.
        let mut attempts = 0;
        loop {
            match session.commit_transaction().await {
                Ok(()) => return Ok(()),
                Err(e) if e.contains_label("UnknownTransactionCommitResult") && attempts < 3 => {
                    attempts += 1;
                }
                Err(e) => return Err(e),
            }
        }
    }

    async fn write_in(
        &self,
        session: &mut ClientSession,
        docs: &[Doc],
        voided: &[String],
    ) -> Result<(), MongoError> {
        self.statements
            .insert_many(docs)
            .session(&mut *session)
            .await?;
        if !voided.is_empty() {
            self.statements
                .update_many(
                    doc! { "xlrs.id": { "$in": voided } },
                    doc! { "$set": { "xlrs.voided": true } },
                )
                .session(&mut *session)
                .await?;
        }
        Ok(())
    }
}

impl RoundWriter for Mongo {
    /// The ids a stored statement voids.
    type Known = HashSet<Uuid>;

    async fn known(&self, ids: Vec<Uuid>) -> Result<(Stored, HashSet<Uuid>), StoreError> {
        let known = self.known_ids(&ids).await?;
        let stored = Stored {
            hashes: known.hashes,
            voiding: known.voiding,
        };
        Ok((stored, known.voided))
    }

    /// Writes the round's statements, voided when a stored statement or one of the round
    /// voids them, and marks the stored statements the round voids.
    async fn write(
        &self,
        round: &[Positioned<'_>],
        already_voided: &HashSet<Uuid>,
    ) -> Result<(), StoreError> {
        let targets: HashSet<Uuid> = round
            .iter()
            .filter_map(|p| p.statement.index.voids)
            .collect();
        let mut docs = Vec::with_capacity(round.len());
        for p in round {
            let s = p.statement;
            let voided = already_voided.contains(&s.id) || targets.contains(&s.id);
            docs.push(statement_doc(s, p.stored, &p.body(), voided)?);
        }
        self.write_docs(docs, targets.iter().map(Uuid::to_string).collect())
            .await
    }
}

#[async_trait]
impl StatementReader for Mongo {
    async fn get(&self, id: Uuid) -> Result<Option<StoredStatement>, StoreError> {
        let doc = self
            .statements
            .find_one(doc! { "xlrs.id": id.to_string(), "xlrs.stored": { "$exists": true } })
            .projection(projection())
            .await
            .map_err(failed)?;
        doc.map(stored_statement).transpose()
    }

    async fn query(&self, q: &StatementQuery) -> Result<Page, StoreError> {
        self.query_page(q).await
    }

    async fn referring_to(
        &self,
        target: Uuid,
        limit: usize,
    ) -> Result<Vec<StoredStatement>, StoreError> {
        let cursor = self
            .statements
            .find(doc! { "xlrs.ref": target.to_string(), "xlrs.stored": { "$exists": true } })
            .sort(doc! { "xlrs.stored": -1 })
            .limit(limit as i64)
            .projection(projection())
            .await
            .map_err(failed)?;
        let statements = crate::collect(cursor)
            .await?
            .into_iter()
            .map(stored_statement)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(statements)
    }
}

/// Admission records are the `admission` field of their statements, written in the same
/// transaction.
#[async_trait]
impl AdmissionReader for Mongo {
    async fn admitted(
        &self,
        after: i64,
        through: i64,
        limit: usize,
    ) -> Result<Vec<(i64, Uuid, String)>, StoreError> {
        let cursor = self
            .statements
            .find(doc! {
                "xlrs.admission": { "$exists": true },
                "xlrs.stored": { "$gt": after, "$lte": through },
            })
            .sort(doc! { "xlrs.stored": 1 })
            .limit(i64::try_from(limit).unwrap_or(i64::MAX))
            .projection(doc! { "_id": 0, "xlrs.id": 1, "xlrs.stored": 1, "xlrs.admission": 1 })
            .await
            .map_err(failed)?;
        collect(cursor)
            .await?
            .iter()
            .map(|doc| {
                let fields = doc
                    .get_document("xlrs")
                    .map_err(|e| failed_field("xlrs", e))?;
                let id = fields
                    .get_str("id")
                    .map_err(|e| failed_field("xlrs.id", e))?;
                let id = Uuid::parse_str(id).map_err(|e| StoreError::Internal(e.to_string()))?;
                let stored = fields
                    .get_i64("stored")
                    .map_err(|e| failed_field("xlrs.stored", e))?;
                let note = fields
                    .get_str("admission")
                    .map_err(|e| failed_field("xlrs.admission", e))?;
                Ok((stored, id, note.to_string()))
            })
            .collect()
    }
}

/// A stored document lacks a field xlrs wrote.
fn failed_field(field: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Internal(format!("a statement document's `{field}`: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_statement_reads_back_from_bson_exactly_as_it_was_stored() {
        let body = r#"{"id":"2b3c4d5e-0000-4000-8000-000000000001","actor":{"mbox":"mailto:a@example.org"},"verb":{"id":"http://adlnet.gov/expapi/verbs/scored","display":{"en-US":"scored","zh-Hans":"得分"}},"object":{"id":"http://example.org/a.b?c=d"},"result":{"score":{"scaled":0.5,"raw":1.0,"min":-3,"max":1e+21},"extensions":{"http://example.org/ext.v1":{"$weird":[1,2.5,null,true,"x\u0000y"]}}},"timestamp":"2024-01-01T00:00:00.123456Z","stored":"2024-01-01T00:00:01.000000Z"}"#;
        let (_, source, inexact) = source_of(body).expect("JSON");
        assert!(inexact.is_none(), "BSON holds it exactly");
        assert_eq!(serde_json::to_string(&to_json(source)).expect("JSON"), body);
    }

    #[test]
    fn what_bson_cannot_hold_is_kept_as_text_too() {
        let body = r#"{"result":{"extensions":{"http://e.org/big":18446744073709551615}}}"#;
        let (_, _, inexact) = source_of(body).expect("JSON");
        assert_eq!(inexact.as_deref(), Some(body));
    }

    #[test]
    fn the_object_id_is_the_one_ralph_computes() {
        // Ralph: ObjectId(struct.pack(">I", int(timestamp)) + sha256(id)[:16 hex digits]).
        let id = Uuid::parse_str("2b3c4d5e-0000-4000-8000-000000000001").expect("uuid");
        let oid = ralph_object_id(
            &serde_json::json!({"timestamp": "2024-01-01T00:00:00.9Z"}),
            id,
        );
        let digest = hex::encode(Sha256::digest(id.to_string().as_bytes()));
        assert_eq!(
            oid.to_hex(),
            format!("{:08x}{}", 1_704_067_200u32, &digest[..16])
        );
    }
}
