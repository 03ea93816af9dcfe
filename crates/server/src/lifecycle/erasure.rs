//! Erasure of a person: every statement that names them (voided ones too) is found through the
//! store's agent index under each of their IFIs; those about them (actor, object, context
//! agents, group member) are removed, those that only mention them (authority, sub-statement,
//! extension) are pseudonymized or removed as the request says; or, pseudonymizing, every one
//! is kept with the person replaced by one stable opaque account. Their State and Agent
//! Profile documents, the attachments only removed statements named, and their entries in the
//! forwarding queue go too. A dry run reports the same without changing anything. The receipt
//! is kept as a server record that holds no personal data (keyed hashes of the IFIs).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use uuid::Uuid;
use xlrs_store::group_commit::Positioned;
use xlrs_store::lifecycle::{Lifecycle, Located};
use xlrs_store::{DocumentKind, DocumentScope, StoreError};
use xlrs_xapi::format::Format;
use xlrs_xapi::person::{Person, Role};
use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::statement::{prepare, PreparedStatement};
use xlrs_xapi::time::format_micros;
use xlrs_xapi::version::XapiVersion;

use super::key::ErasureKey;
use super::{bad, Context, LifecycleError};
use crate::records;

/// Statements read per page while finding a person's.
const PAGE: usize = 500;

/// An erasure as `POST /admin/erasure` and `xlrs erase` ask for it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErasureRequest {
    /// The person: an Agent, or a Person object listing several IFIs.
    pub agent: Value,
    /// True: report what would go, change nothing. Required, so nothing is erased by default.
    pub dry_run: Option<bool>,
    /// Keep every statement, with the person replaced by an opaque account.
    #[serde(default)]
    pub pseudonymize: bool,
    /// What happens to statements that only mention the person (when not pseudonymizing).
    #[serde(default)]
    pub mentions: Mentions,
    /// For an erasure above `erasure_confirm_above` statements: the number its dry run found.
    pub confirm: Option<u64>,
}

/// The policy for statements that only mention the person.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mentions {
    /// Kept, with the person replaced by the opaque account (the default).
    #[default]
    Pseudonymize,
    /// Removed like the statements about them.
    Remove,
}

/// A stored statement that names the person.
struct Found {
    located: Located,
    statement: Value,
    role: Role,
}

/// What an erasure removes and rewrites.
struct Plan {
    remove: Vec<Found>,
    rewrite: Vec<Found>,
    attachments: Vec<String>,
    documents: Vec<(DocumentScope, String)>,
}

/// Runs (or, as a dry run, plans) erasure `id`; the receipt. `by`: the credential asking.
pub async fn erase(
    cx: &Context<'_>,
    request: &ErasureRequest,
    by: &str,
    id: Uuid,
) -> Result<Value, LifecycleError> {
    let person = Person::from_json(&request.agent, "agent").map_err(|e| LifecycleError::Bad {
        field: e.field,
        message: e.message,
    })?;
    let dry_run = request
        .dry_run
        .ok_or_else(|| bad("dry_run", "say true (report only) or false (erase)"))?;
    let Some(lifecycle) = cx.lifecycle else {
        return Err(LifecycleError::Unsupported(
            "this store cannot erase: a v0.1 backend plugin (world `backend`) has no way to remove statements; a v0.2 `storage` backend has".into(),
        ));
    };
    let key = ErasureKey::load(cx.documents).await?;
    let keys: Vec<String> = person.keys().iter().cloned().collect();
    let pseudonym = json!({
        "homePage": cx.settings.pseudonym_home_page,
        "name": key.hash("pseudonym", &keys[0])[..32].to_string(),
    });
    let plan = plan(cx, lifecycle, &person, request).await?;
    let matched = (plan.remove.len() + plan.rewrite.len()) as u64;
    if !dry_run && matched > cx.settings.erasure_confirm_above && request.confirm != Some(matched) {
        return Err(bad(
            "confirm",
            format!(
                "this erasure matches {matched} statements, more than erasure_confirm_above ({}): run it as a dry run, then send \"confirm\": {matched}",
                cx.settings.erasure_confirm_above
            ),
        ));
    }
    let removed_ids: Vec<Uuid> = plan.remove.iter().map(|f| f.located.id).collect();
    let mut forwarding = 0;
    let mut attachments = plan.attachments.len() as u64;
    let mut documents = plan.documents.len() as u64;
    if let Some(forwarder) = cx.forwarder {
        forwarding = forwarder
            .forget(&removed_ids, dry_run)
            .await
            .map_err(|e| LifecycleError::Forwarding(e.to_string()))?;
    }
    if !dry_run {
        let rewritten = pseudonymized(&plan.rewrite, &person, &pseudonym)?;
        let positioned: Vec<Positioned<'_>> = rewritten
            .iter()
            .map(|(statement, stored)| Positioned {
                statement,
                stored: *stored,
            })
            .collect();
        lifecycle.rewrite_statements(&positioned, &keys).await?;
        let located: Vec<Located> = plan.remove.iter().map(|f| f.located).collect();
        attachments = lifecycle
            .remove_statements(&located, &plan.attachments)
            .await?;
        documents = lifecycle.remove_documents(&plan.documents, None).await?;
        lifecycle.forget_agents(&keys).await?;
    }
    let subject: Vec<String> = keys.iter().map(|k| key.hash("subject", k)).collect();
    let at = format_micros(xlrs_store::positions::now_micros());
    let counts = json!({
        "statements_removed": plan.remove.len(),
        "statements_pseudonymized": plan.rewrite.len(),
        "statements_about_the_person": plan.remove.iter().chain(&plan.rewrite)
            .filter(|f| f.role == Role::Subject).count(),
        "attachments": attachments,
        "state_documents": plan.documents.iter().filter(|(s, _)| s.kind == DocumentKind::State).count(),
        "agent_profile_documents": plan.documents.iter().filter(|(s, _)| s.kind == DocumentKind::AgentProfile).count(),
        "documents_removed": documents,
        "forwarding_entries": forwarding,
    });
    let mode = match request.pseudonymize {
        true => "pseudonymize",
        false => "remove",
    };
    let audit = json!({
        "id": id, "at": at, "by": by, "dry_run": dry_run, "mode": mode,
        "mentions": request.mentions, "subject": subject, "counts": counts,
    });
    if !dry_run {
        records::write(
            cx.documents,
            &records::scope("erasure-receipts", ""),
            &id.to_string(),
            &audit,
            None,
        )
        .await?;
    }
    tracing::info!(target: "xlrs::audit", by, action = "erasure", dry_run, receipt = %id, counts = %counts, "admin");
    let mut receipt = audit;
    receipt["statements"] = json!({
        "removed": plan.remove.iter().map(|f| f.located.id).collect::<Vec<_>>(),
        "pseudonymized": plan.rewrite.iter().map(|f| f.located.id).collect::<Vec<_>>(),
    });
    receipt["attachments"] = json!(plan.attachments);
    receipt["documents"] = plan.documents.iter().map(document_entry).collect();
    if request.pseudonymize || !plan.rewrite.is_empty() {
        receipt["pseudonym"] = pseudonym;
    }
    Ok(receipt)
}

/// A document as the receipt lists it (its agent left out: that is the person).
fn document_entry((scope, id): &(DocumentScope, String)) -> Value {
    let mut entry = json!({
        "resource": match scope.kind {
            DocumentKind::State => "activities/state",
            _ => "agents/profile",
        },
        "id": id,
    });
    if scope.kind == DocumentKind::State {
        entry["activityId"] = json!(scope.activity_id);
        if !scope.registration.is_empty() {
            entry["registration"] = json!(scope.registration);
        }
    }
    entry
}

/// Finds everything the erasure touches.
async fn plan(
    cx: &Context<'_>,
    lifecycle: &dyn Lifecycle,
    person: &Person,
    request: &ErasureRequest,
) -> Result<Plan, LifecycleError> {
    let mut found: BTreeMap<Uuid, Found> = BTreeMap::new();
    for key in person.keys() {
        let mut after = None;
        loop {
            let query = StatementQuery {
                agent: Some(key.clone()),
                related_agents: true,
                include_voided: true,
                ascending: true,
                limit: PAGE,
                after,
                format: Format::Exact,
                ..StatementQuery::default()
            };
            let page = cx.statements.query(&query).await?;
            for body in &page.statements {
                let one = located(body)?;
                // A query also returns the statements that refer to a match (a voiding
                // statement, say): those that do not name the person themselves stay.
                let Some(role) = person.role_in(&one.1) else {
                    continue;
                };
                found.entry(one.0.id).or_insert(Found {
                    located: one.0,
                    statement: one.1,
                    role,
                });
            }
            match page.more {
                Some(more) if !page.statements.is_empty() => after = Some(more),
                _ => break,
            }
        }
    }
    let (remove, rewrite): (Vec<Found>, Vec<Found>) =
        found
            .into_values()
            .partition(|f| match request.pseudonymize {
                true => false,
                false => f.role == Role::Subject || request.mentions == Mentions::Remove,
            });
    let attachments = super::attachments_of(remove.iter().map(|f| &f.statement));
    let keys: Vec<String> = person.keys().iter().cloned().collect();
    let documents = lifecycle.agent_documents(&keys).await?;
    Ok(Plan {
        remove,
        rewrite,
        attachments,
        documents,
    })
}

/// The id, position and JSON of a stored statement.
pub(super) fn located(body: &str) -> Result<(Located, Value), StoreError> {
    let statement: Value = serde_json::from_str(body)
        .map_err(|e| StoreError::Internal(format!("a stored statement: {e}")))?;
    let id = statement
        .get("id")
        .and_then(Value::as_str)
        .and_then(|id| Uuid::parse_str(id).ok());
    let stored = statement
        .get("stored")
        .and_then(Value::as_str)
        .and_then(xlrs_xapi::validate::parse_timestamp)
        .map(|t| t.timestamp_micros());
    match (id, stored) {
        (Some(id), Some(stored)) => Ok((Located { id, stored }, statement)),
        _ => Err(StoreError::Internal(
            "a stored statement without id or stored".into(),
        )),
    }
}

/// The statements with the person replaced by `pseudonym`, prepared again (same id; the
/// authority as now pseudonymized) at their positions.
fn pseudonymized(
    found: &[Found],
    person: &Person,
    pseudonym: &Value,
) -> Result<Vec<(PreparedStatement, i64)>, StoreError> {
    found
        .iter()
        .map(|f| {
            let mut statement = f.statement.clone();
            person.pseudonymize(&mut statement, pseudonym);
            let authority = statement.get("authority").cloned().unwrap_or(Value::Null);
            let id = f.located.id;
            let prepared = prepare(statement, &authority, XapiVersion::V1_0_3, || id)
                .map_err(|e| StoreError::Internal(format!("statement {id}: {e}")))?;
            Ok((prepared, f.located.stored))
        })
        .collect()
}
