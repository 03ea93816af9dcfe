//! Writing rounds of statements to the Elasticsearch indices: the query-index documents, the
//! one bulk request per round, the marks a round sets on statements already stored (voided,
//! reference targets), and taking a failed round back.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::Ordering;

use elasticsearch::http::Method;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;

use xlrs_store::group_commit::Positioned;
use xlrs_store::StoreError;
use xlrs_xapi::statement::{attachment_hashes, PreparedStatement};
use xlrs_xapi::time::format_micros;

use crate::client::{reason, refused};
use crate::{Elasticsearch, CHUNK};

/// The filter fields of a statement, also copied into the statements that reference it.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Filters {
    /// Position: `stored` in µs.
    pub(crate) stored: i64,
    #[serde(default)]
    verb: String,
    #[serde(default)]
    agents: Vec<String>,
    #[serde(default)]
    direct_agents: Vec<String>,
    #[serde(default)]
    activities: Vec<String>,
    #[serde(default)]
    direct_activities: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    registration: Option<String>,
}

/// A document of the query index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueryDoc {
    #[serde(flatten)]
    pub(crate) filters: Filters,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    statement_ref: Option<Uuid>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) voids: Option<Uuid>,
    #[serde(default)]
    authority: String,
    #[serde(default)]
    pub(crate) content_hash: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    voided_at: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    target: Option<Filters>,
    #[serde(default)]
    body: String,
    /// The SHA-256 of each attachment the statement names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) attachments: Vec<String>,
    /// True when `attachments` was written (layout 2): a document without it may name any.
    #[serde(default)]
    pub(crate) attachments_listed: bool,
}

impl QueryDoc {
    /// The statement's position.
    pub(crate) fn stored(&self) -> i64 {
        self.filters.stored
    }
}

/// A stored statement whose StatementRef points at a statement being written.
pub(crate) struct Referrer {
    pub(crate) id: Uuid,
    pub(crate) statement_ref: Uuid,
    /// The statement it voids, when it is a voiding statement.
    voids: Option<Uuid>,
    /// Whether its `target` is set already.
    has_target: bool,
    /// Its position.
    stored: i64,
}

/// One write of a round, remembered to take it back.
#[derive(Debug, Clone)]
pub(crate) enum Op {
    /// A statement created in an index at a position.
    Create {
        index: String,
        id: Uuid,
        stored: i64,
    },
    /// `voided_at` set on a statement that had none.
    SetVoided { id: Uuid },
    /// `target` set on a statement that had none.
    SetTarget { id: Uuid },
}

pub(crate) fn query_doc(s: &PreparedStatement, stored: i64, body: String) -> QueryDoc {
    let attachments = match body.contains("\"attachments\"") {
        true => serde_json::from_str::<Value>(&body)
            .map(|statement| attachment_hashes([&statement]))
            .unwrap_or_default(),
        false => Vec::new(),
    };
    QueryDoc {
        attachments,
        attachments_listed: true,
        filters: Filters {
            stored,
            verb: s.index.verb.clone(),
            agents: s.index.agent_keys(false),
            direct_agents: s.index.agent_keys(true),
            activities: s.index.activity_keys(false),
            direct_activities: s.index.activity_keys(true),
            registration: s.index.registration.clone(),
        },
        statement_ref: s.index.statement_ref,
        voids: s.index.voids,
        authority: s.index.authority.clone(),
        content_hash: s.content_hash.clone(),
        voided_at: None,
        target: None,
        body,
    }
}

/// One NDJSON line.
pub(crate) fn line(out: &mut String, value: &Value) {
    out.push_str(&value.to_string());
    out.push('\n');
}

impl Elasticsearch {
    /// Query-index documents of these ids (without the statement), by id.
    pub(crate) async fn known_docs(
        &self,
        ids: Vec<Uuid>,
    ) -> Result<HashMap<Uuid, QueryDoc>, StoreError> {
        let ids: HashSet<Uuid> = ids.into_iter().collect();
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let reply = self
            .es
            .json(
                Method::Post,
                &format!("/{}/_mget", self.query_index),
                &[("_source_excludes", "body")],
                &json!({"ids": ids}),
            )
            .await?;
        let mut known = HashMap::new();
        for doc in reply
            .get("docs")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if doc.get("found").and_then(Value::as_bool) != Some(true) {
                continue;
            }
            let id = doc
                .get("_id")
                .and_then(Value::as_str)
                .and_then(|id| Uuid::parse_str(id).ok());
            let source = doc.get("_source").cloned().unwrap_or(Value::Null);
            match (id, serde_json::from_value::<QueryDoc>(source)) {
                (Some(id), Ok(found)) => {
                    known.insert(id, found);
                }
                (_, Err(e)) => {
                    return Err(StoreError::Internal(format!(
                        "a document of {} is not what xlrs wrote: {e}",
                        self.query_index
                    )))
                }
                (None, _) => {}
            }
        }
        Ok(known)
    }

    /// Statements already stored whose StatementRef points at one of `ids`.
    pub(crate) async fn referring(&self, ids: &[Uuid]) -> Result<Vec<Referrer>, StoreError> {
        let mut out = Vec::new();
        let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        let mut after: Option<i64> = None;
        loop {
            let mut body = json!({
                "size": CHUNK,
                "_source": ["stored", "voids", "statement_ref", "target.stored"],
                "query": {"terms": {"statement_ref": ids}},
                "sort": [{"stored": "asc"}],
            });
            if let Some(after) = after {
                body["search_after"] = json!([after]);
            }
            let hits = self.es.hits(&self.query_index, &body).await?;
            let uuid = |v: Option<&Value>| {
                v.and_then(Value::as_str)
                    .and_then(|s| Uuid::parse_str(s).ok())
            };
            for hit in &hits {
                let source = hit.get("_source").unwrap_or(&Value::Null);
                let stored = source.get("stored").and_then(Value::as_i64).unwrap_or(0);
                if let (Some(id), Some(statement_ref)) =
                    (uuid(hit.get("_id")), uuid(source.get("statement_ref")))
                {
                    out.push(Referrer {
                        id,
                        statement_ref,
                        voids: uuid(source.get("voids")),
                        has_target: source.get("target").is_some_and(|t| !t.is_null()),
                        stored,
                    });
                }
                after = Some(stored);
            }
            if hits.len() < CHUNK {
                return Ok(out);
            }
        }
    }

    /// Writes one round: the statements at their positions (in Ralph's index too when
    /// `ralph`), the voided marks and reference targets they set on stored statements, in one
    /// bulk request; then raises the watermark. On any failure, takes everything back.
    pub(crate) async fn write_round(
        &self,
        round: &[Positioned<'_>],
        known: &HashMap<Uuid, QueryDoc>,
        ralph: bool,
    ) -> Result<(), StoreError> {
        let Some(first) = round.first().map(|p| p.stored) else {
            return Ok(());
        };
        self.writing_since.store(first, Ordering::SeqCst);
        self.rounds.fetch_add(1, Ordering::SeqCst);
        let outcome = self.write_positioned(round, known, ralph).await;
        self.writing_since.store(0, Ordering::SeqCst);
        outcome
    }

    /// [`Elasticsearch::write_round`] without the in-flight marker.
    async fn write_positioned(
        &self,
        round: &[Positioned<'_>],
        known: &HashMap<Uuid, QueryDoc>,
        ralph: bool,
    ) -> Result<(), StoreError> {
        let statements: Vec<(&PreparedStatement, i64)> =
            round.iter().map(|p| (p.statement, p.stored)).collect();
        let new_ids: Vec<Uuid> = statements.iter().map(|(s, _)| s.id).collect();
        let referring = self.referring(&new_ids).await?;
        let mut docs: Vec<QueryDoc> = Vec::with_capacity(statements.len());
        let mut bodies: Vec<String> = Vec::with_capacity(statements.len());
        let mut by_id: HashMap<Uuid, usize> = HashMap::new();
        for p in round {
            let body = p.body();
            by_id.insert(p.statement.id, docs.len());
            docs.push(query_doc(p.statement, p.stored, body.clone()));
            bodies.push(body);
        }
        // Voided marks: the earliest voiding statement of each target counts.
        let mut voided_at: HashMap<Uuid, i64> = HashMap::new();
        let voiders = docs
            .iter()
            .filter_map(|d| d.voids.map(|t| (t, d.filters.stored)))
            .chain(
                referring
                    .iter()
                    .filter_map(|r| r.voids.map(|t| (t, r.stored))),
            );
        for (target, at) in voiders {
            let entry = voided_at.entry(target).or_insert(at);
            *entry = (*entry).min(at);
        }
        let filters_of = |id: &Uuid| -> Option<Filters> {
            by_id
                .get(id)
                .map(|&i| docs[i].filters.clone())
                .or_else(|| known.get(id).map(|k| k.filters.clone()))
        };
        let targets: Vec<Option<Filters>> = docs
            .iter()
            .map(|d| d.statement_ref.as_ref().and_then(filters_of))
            .collect();
        for (((s, _), doc), target) in statements.iter().zip(docs.iter_mut()).zip(targets) {
            doc.target = target;
            doc.voided_at = voided_at.get(&s.id).copied();
        }
        let mut lines = String::new();
        let mut ops = Vec::new();
        for ((s, stored), (doc, body)) in statements.iter().zip(docs.iter().zip(&bodies)) {
            if let (true, Some(index)) = (ralph, &self.ralph) {
                line(
                    &mut lines,
                    &json!({"create": {"_index": index, "_id": s.id.to_string()}}),
                );
                lines.push_str(body);
                lines.push('\n');
                ops.push(Op::Create {
                    index: index.clone(),
                    id: s.id,
                    stored: *stored,
                });
            }
            line(
                &mut lines,
                &json!({"create": {"_index": self.query_index, "_id": s.id.to_string()}}),
            );
            let source =
                serde_json::to_value(doc).map_err(|e| StoreError::Internal(e.to_string()))?;
            line(&mut lines, &source);
            ops.push(Op::Create {
                index: self.query_index.clone(),
                id: s.id,
                stored: *stored,
            });
            if let Some(note) = &s.admission {
                let index = self.admissions_index();
                // `index`: a record a failed round left behind is replaced, not a conflict.
                line(
                    &mut lines,
                    &json!({"index": {"_index": index, "_id": s.id.to_string()}}),
                );
                line(
                    &mut lines,
                    &json!({"stored": stored, "statement": s.id.to_string(), "note": note}),
                );
                ops.push(Op::Create {
                    index,
                    id: s.id,
                    stored: *stored,
                });
            }
        }
        for (target, at) in &voided_at {
            if known.get(target).is_some_and(|k| k.voided_at.is_none()) {
                update(
                    &mut lines,
                    &self.query_index,
                    target,
                    json!({"voided_at": at}),
                );
                ops.push(Op::SetVoided { id: *target });
            }
        }
        for r in referring.iter().filter(|r| !r.has_target) {
            if let Some(&i) = by_id.get(&r.statement_ref) {
                let target = serde_json::to_value(&docs[i].filters)
                    .map_err(|e| StoreError::Internal(e.to_string()))?;
                update(
                    &mut lines,
                    &self.query_index,
                    &r.id,
                    json!({"target": target}),
                );
                ops.push(Op::SetTarget { id: r.id });
            }
        }
        let outcome = self.es.bulk(lines, "wait_for").await.and_then(|items| {
            if items.len() != ops.len() {
                return Err(StoreError::Internal(format!(
                    "Elasticsearch answered {} items to a bulk request of {}",
                    items.len(),
                    ops.len()
                )));
            }
            match items
                .iter()
                .zip(&ops)
                .find_map(|(item, op)| item_error(item, op, &self.ralph))
            {
                Some(e) => Err(e),
                None => Ok(()),
            }
        });
        match outcome {
            Ok(()) => {
                let last = statements.iter().map(|(_, s)| *s).max().unwrap_or(0);
                self.committed.fetch_max(last, Ordering::SeqCst);
                Ok(())
            }
            Err(e) => {
                if let Err(undo) = self.undo(&ops).await {
                    tracing::error!(error = %e, undo = %undo, "a failed round is not taken back yet; no round is written until it is");
                    self.undo_pending.store(true, Ordering::SeqCst);
                    *self.undo.lock().await = ops;
                    // Part of the round may stay: not a race group commit may check again.
                    if let StoreError::Raced(why) = e {
                        return Err(StoreError::Internal(why));
                    }
                }
                Err(e)
            }
        }
    }

    /// Takes back the writes of a failed round: the statements it created (those at its
    /// positions: an item that failed may name a document someone else wrote), the marks it
    /// set (they were unset before).
    pub(crate) async fn undo(&self, ops: &[Op]) -> Result<(), StoreError> {
        let creates: Vec<(&String, &Uuid, i64)> = ops
            .iter()
            .filter_map(|op| match op {
                Op::Create { index, id, stored } => Some((index, id, *stored)),
                _ => None,
            })
            .collect();
        let mut lines = String::new();
        if !creates.is_empty() {
            let docs: Vec<Value> = creates
                .iter()
                .map(|(index, id, _)| json!({"_index": index, "_id": id.to_string(), "_source": ["stored"]}))
                .collect();
            let found = self
                .es
                .json(Method::Post, "/_mget", &[], &json!({"docs": docs}))
                .await?;
            let found = found
                .get("docs")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for ((index, id, stored), doc) in creates.iter().zip(found) {
                let theirs = doc.pointer("/_source/stored");
                let ours = theirs.and_then(Value::as_i64) == Some(*stored)
                    || theirs.and_then(Value::as_str) == Some(format_micros(*stored).as_str());
                if ours {
                    line(
                        &mut lines,
                        &json!({"delete": {"_index": index, "_id": id.to_string()}}),
                    );
                }
            }
        }
        for op in ops {
            match op {
                Op::SetVoided { id } => update(
                    &mut lines,
                    &self.query_index,
                    id,
                    json!({"voided_at": null}),
                ),
                Op::SetTarget { id } => {
                    update(&mut lines, &self.query_index, id, json!({"target": null}))
                }
                Op::Create { .. } => {}
            }
        }
        if lines.is_empty() {
            return Ok(());
        }
        let items = self.es.bulk(lines, "true").await?;
        for item in items {
            let status = item.get("status").and_then(Value::as_u64).unwrap_or(0);
            if !(200..300).contains(&status) && status != 404 {
                return Err(StoreError::Unavailable(format!(
                    "Elasticsearch at {}: taking back a failed round: {}",
                    self.es.url,
                    reason(&item)
                )));
            }
        }
        Ok(())
    }
}

/// A partial update of a query-index document, as a bulk item.
pub(crate) fn update(lines: &mut String, index: &str, id: &Uuid, doc: Value) {
    line(
        lines,
        &json!({"update": {"_index": index, "_id": id.to_string(), "retry_on_conflict": 3}}),
    );
    line(lines, &json!({ "doc": doc }));
}

/// Why a bulk item failed, as the store error to answer with; `None` when it did its part.
fn item_error(item: &Value, op: &Op, ralph: &Option<String>) -> Option<StoreError> {
    let status = item.get("status").and_then(Value::as_u64).unwrap_or(0);
    if (200..300).contains(&status) {
        return None;
    }
    let (created_in, id) = match op {
        Op::Create { index, id, .. } => (Some(index.as_str()), *id),
        Op::SetVoided { id } | Op::SetTarget { id } => (None, *id),
    };
    // Ralph wrote this statement meanwhile: its copy stays, xlrs indexes its own.
    if status == 409 && created_in.is_some() && created_in == ralph.as_deref() {
        return None;
    }
    let why = format!("Elasticsearch refused statement {id}: {}", reason(item));
    Some(match status {
        // Another writer stored this id in the query index since it was checked: once the
        // round is taken back, group commit checks it again.
        409 if created_in.is_some() => StoreError::Raced(why),
        _ => refused(status, why),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create(index: &str) -> Op {
        Op::Create {
            index: index.into(),
            id: Uuid::nil(),
            stored: 1,
        }
    }

    #[test]
    fn a_statement_ralph_already_has_is_not_an_error_but_one_in_the_query_index_conflicts() {
        let ralph = Some("statements".to_string());
        let exists = json!({"status": 409, "error": {"type": "version_conflict_engine_exception"}});
        assert!(item_error(&exists, &create("statements"), &ralph).is_none());
        assert!(matches!(
            item_error(&exists, &create("xlrs_statements"), &ralph),
            Some(StoreError::Raced(_))
        ));
        assert!(matches!(
            item_error(&exists, &Op::SetVoided { id: Uuid::nil() }, &ralph),
            Some(StoreError::Internal(_))
        ));
    }

    #[test]
    fn an_overloaded_or_failing_server_is_unavailable_and_a_refused_document_is_internal() {
        let ralph = None;
        let op = create("xlrs_statements");
        for status in [429, 500, 503] {
            assert!(matches!(
                item_error(&json!({"status": status}), &op, &ralph),
                Some(StoreError::Unavailable(_))
            ));
        }
        let refused = json!({"status": 400, "error": {"type": "mapper_parsing_exception"}});
        assert!(matches!(
            item_error(&refused, &op, &ralph),
            Some(StoreError::Internal(m)) if m.contains("mapper_parsing_exception")
        ));
        assert!(item_error(&json!({"status": 201}), &op, &ralph).is_none());
    }
}
