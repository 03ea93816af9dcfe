//! The Statements resource: POST, PUT and GET `/xAPI/statements`.

use std::collections::HashSet;
use std::sync::atomic::Ordering;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use serde_json::Value;
use sha2::{Digest, Sha256, Sha384, Sha512};
use uuid::Uuid;

use super::admission::{self, Admitted};
use super::multipart::{self, Part};
use super::{ApiError, AppState, Authenticated};
use crate::auth::Scope;
use xlrs_plugin_host::{PipelineError, Progress};
use xlrs_store::Attachment;
use xlrs_xapi::format::{self, Format};
use xlrs_xapi::query::{encode_cursor, parse_request, StatementQuery, StatementRequest};
use xlrs_xapi::signature;
use xlrs_xapi::statement::{authority_key, prepare, PreparedStatement};
use xlrs_xapi::time::{format_micros, http_date};
use xlrs_xapi::version::XapiVersion;

/// Header telling clients up to when query results are complete.
const CONSISTENT_THROUGH: &str = "X-Experience-API-Consistent-Through";
/// Header carrying an attachment part's SHA-2.
const HASH_HEADER: &str = "x-experience-api-hash";

/// Routes of the Statements resource.
pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route(
            "/statements",
            get(get_statements).post(post_statements).put(put_statement),
        )
        .layer(axum::middleware::from_fn_with_state(
            state,
            consistent_through,
        ))
}

/// Adds `X-Experience-API-Consistent-Through` to every Statements response, as the spec asks.
async fn consistent_through(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let mut response = next.run(request).await;
    if let Ok(micros) = state.statements.consistent_through().await {
        if let Ok(v) = HeaderValue::from_str(&format_micros(micros)) {
            response.headers_mut().insert(CONSISTENT_THROUGH, v);
        }
    }
    response
}

fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// The statements JSON of a request and the attachment parts that came with it.
struct Submission {
    statements: Value,
    parts: Vec<Part>,
}

fn read_body(headers: &HeaderMap, body: &[u8]) -> Result<Submission, ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| v.to_str().unwrap_or_default())
        .ok_or_else(|| {
            ApiError::bad(
                "statements must be sent with Content-Type application/json or multipart/mixed",
            )
        })?;
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/json")
        && !media_type.eq_ignore_ascii_case("multipart/mixed")
    {
        return Err(ApiError::BadRequest {
            message: format!(
                "statements must be sent as application/json or multipart/mixed, not `{media_type}`"
            ),
            field: Some("Content-Type".into()),
            statement_index: None,
        });
    }
    if let Some(boundary) = multipart::boundary(content_type) {
        let mut parts = multipart::parse(body, &boundary).map_err(ApiError::bad)?;
        if parts.is_empty() {
            return Err(ApiError::bad("the multipart body has no parts"));
        }
        let first = parts.remove(0);
        let is_json = first
            .header("content-type")
            .map(|ct| {
                ct.split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .eq_ignore_ascii_case("application/json")
            })
            .unwrap_or(false);
        if !is_json {
            return Err(ApiError::bad(
                "the first part of a multipart/mixed body must be the statements as application/json",
            ));
        }
        return Ok(Submission {
            statements: parse_json(&first.body)?,
            parts,
        });
    }
    if content_type.to_ascii_lowercase().starts_with("multipart/") {
        return Err(ApiError::bad(
            "multipart bodies must be multipart/mixed with a boundary",
        ));
    }
    Ok(Submission {
        statements: parse_json(body)?,
        parts: Vec::new(),
    })
}

fn parse_json(body: &[u8]) -> Result<Value, ApiError> {
    xlrs_xapi::strict_json::from_slice(body)
        .map_err(|e| ApiError::bad(format!("the body is not valid JSON: {e}")))
}

/// SHA-2 of `content` in the variant whose hex length matches `declared`.
fn sha2_hex(content: &[u8], declared: &str) -> String {
    match declared.len() {
        96 => hex::encode(Sha384::digest(content)),
        128 => hex::encode(Sha512::digest(content)),
        _ => hex::encode(Sha256::digest(content)),
    }
}

/// Checks the attachment parts against what the statements declare; returns their contents.
fn match_attachments(statements: &[Value], parts: Vec<Part>) -> Result<Vec<Attachment>, ApiError> {
    let mut declared: Vec<(String, bool)> = Vec::new();
    for s in statements {
        for a in s
            .get("attachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(sha2) = a.get("sha2").and_then(Value::as_str) {
                declared.push((sha2.to_ascii_lowercase(), a.get("fileUrl").is_some()));
            }
        }
    }
    let mut provided = HashSet::new();
    let mut attachments = Vec::new();
    for (i, part) in parts.into_iter().enumerate() {
        let hash = part
            .header(HASH_HEADER)
            .ok_or_else(|| {
                ApiError::bad(format!(
                    "attachment part {} has no X-Experience-API-Hash header",
                    i + 1
                ))
            })?
            .to_ascii_lowercase();
        // Communication 1.5.2: every part after the first MUST say it is binary.
        match part.header("content-transfer-encoding") {
            Some(encoding) if encoding.eq_ignore_ascii_case("binary") => {}
            Some(encoding) => {
                return Err(ApiError::bad(format!(
                    "attachment part {} has Content-Transfer-Encoding `{encoding}`; it must be binary",
                    i + 1
                )))
            }
            None => {
                return Err(ApiError::bad(format!(
                    "attachment part {} has no Content-Transfer-Encoding header; it must be `Content-Transfer-Encoding: binary`",
                    i + 1
                )))
            }
        }
        if !declared.iter().any(|(d, _)| *d == hash) {
            return Err(ApiError::bad(format!(
                "attachment part {} (hash {hash}) matches no attachment declared in the statements",
                i + 1
            )));
        }
        let actual = sha2_hex(&part.body, &hash);
        if actual != hash {
            return Err(ApiError::bad(format!(
                "attachment part {} declares hash {hash} but its content hashes to {actual}",
                i + 1
            )));
        }
        provided.insert(hash.clone());
        attachments.push(Attachment {
            sha2: hash,
            content_type: part
                .header("content-type")
                .unwrap_or("application/octet-stream")
                .to_string(),
            content: part.body,
        });
    }
    if let Some((missing, _)) = declared
        .iter()
        .find(|(sha2, has_url)| !has_url && !provided.contains(sha2))
    {
        return Err(ApiError::bad(format!(
            "attachment {missing} has no fileUrl and its content is not in the request (send it as a multipart/mixed part)"
        )));
    }
    Ok(attachments)
}

/// Gives every statement of a validated batch its id (plugins see final ids and may not
/// change them); an id twice in the batch fails it.
fn assign_ids(statements: &mut [Value]) -> Result<(), ApiError> {
    let batch = statements.len() > 1;
    let mut ids = HashSet::new();
    for (i, statement) in statements.iter_mut().enumerate() {
        let index = batch.then_some(i);
        let id = match statement.get("id").and_then(Value::as_str) {
            Some(given) => Uuid::parse_str(given).map_err(|_| ApiError::BadRequest {
                message: "id must be a UUID".into(),
                field: Some("id".into()),
                statement_index: index,
            })?,
            None => Uuid::new_v4(),
        };
        statement["id"] = Value::String(id.to_string());
        if !ids.insert(id) {
            return Err(ApiError::BadRequest {
                message: format!("statement id {id} appears more than once in the batch"),
                field: Some("id".into()),
                statement_index: index,
            });
        }
    }
    Ok(())
}

/// Checks every signed statement's JWS against the statement it came with (xAPI Data 2.6).
fn check_signatures(statements: &[Value], attachments: &[Attachment]) -> Result<(), ApiError> {
    let batch = statements.len() > 1;
    for (i, statement) in statements.iter().enumerate() {
        for sha2 in signature::signature_hashes(statement) {
            let fail = |message: String| ApiError::BadRequest {
                message,
                field: Some("attachments".into()),
                statement_index: batch.then_some(i),
            };
            let part = attachments.iter().find(|a| a.sha2 == sha2).ok_or_else(|| {
                fail(format!(
                    "the signature attachment {sha2} must be sent in the request as a multipart/mixed part"
                ))
            })?;
            signature::check(statement, &part.content)
                .map_err(|e| fail(format!("invalid statement signature: {e}")))?;
        }
    }
    Ok(())
}

/// Runs the plugin pipeline in force now over a validated batch, off the async workers; the
/// statements admission let through may still break the rules it waived.
async fn run_plugins(
    state: &AppState,
    statements: Vec<Value>,
    version: XapiVersion,
    admitted: &[Admitted],
) -> Result<Vec<Value>, ApiError> {
    let pipeline = state.plugins.pipeline();
    if pipeline.is_empty() {
        return Ok(statements);
    }
    let mut waived = vec![Vec::new(); statements.len()];
    for a in admitted {
        if let Some(rules) = waived.get_mut(a.index) {
            *rules = a.waived();
        }
    }
    // Plugins that may run on this thread do (a batch's hop to a plugin thread and back cost
    // more than their work); the rest of the pipeline moves to a plugin thread when one of
    // them runs past the inline budget.
    let outcome = if pipeline.runs_inline() {
        match pipeline.run_inline(statements, version, &waived) {
            Progress::Done(result) => Ok(result),
            Progress::Handover(rest) => {
                xlrs_plugin_host::threads::run(move || pipeline.resume(rest, version, &waived))
                    .await
            }
        }
    } else {
        xlrs_plugin_host::threads::run(move || pipeline.run_waiving(statements, version, &waived))
            .await
    };
    outcome
        .map_err(|e| ApiError::Internal(format!("plugin task failed: {e}")))?
        .map_err(|e| match e {
            PipelineError::Rejected { ref errors, .. } => ApiError::PluginRejected {
                message: e.to_string(),
                errors: errors.clone(),
            },
            PipelineError::Failed { .. } => ApiError::PluginFailed(e.to_string()),
        })
}

/// Sets what the LRS owns (authority, version) and computes the query fields.
fn prepare_batch(
    statements: Vec<Value>,
    auth: &Authenticated,
    version: XapiVersion,
) -> Result<Vec<PreparedStatement>, ApiError> {
    statements
        .into_iter()
        .map(|statement| {
            prepare(statement, &auth.0.authority, version, Uuid::new_v4)
                .map_err(|e| ApiError::bad(e.to_string()))
        })
        .collect()
}

pub(crate) async fn store_batch(
    state: &AppState,
    auth: &Authenticated,
    version: XapiVersion,
    statements: Vec<Value>,
    parts: Vec<Part>,
) -> Result<Vec<Uuid>, ApiError> {
    // Refused before anything is counted, as a POST's body would be.
    if statements.len() > state.settings.max_batch_statements {
        return Err(ApiError::TooLarge(format!(
            "a batch of {} statements is more than max_batch_statements ({})",
            statements.len(),
            state.settings.max_batch_statements
        )));
    }
    let count = statements.len() as u64;
    let outcome = async {
        let mut statements = statements;
        let attachments = match_attachments(&statements, parts)?;
        let admitted = admission::validate(state, auth, &mut statements, version).await?;
        assign_ids(&mut statements)?;
        check_signatures(&statements, &attachments)?;
        let statements = run_plugins(state, statements, version, &admitted).await?;
        let mut prepared = prepare_batch(statements, auth, version)?;
        let ids: Vec<Uuid> = prepared.iter().map(|p| p.id).collect();
        let records = admission::records_of(auth, &admitted, &ids);
        for (index, record) in &records {
            prepared[*index].admission = Some(record.note());
        }
        state.statements.insert(prepared, attachments).await?;
        admission::record(state, &admitted, records).await;
        if let Some(forwarder) = &state.forwarder {
            // Stored but not queued: the client's re-send (identical, so accepted again) queues it.
            forwarder.enqueue(&ids).await.map_err(|e| {
                ApiError::Internal(format!(
                    "the statements were stored but not queued for forwarding ({e}); send them again"
                ))
            })?;
        }
        Ok(ids)
    }
    .await;
    let counter = match outcome {
        Ok(_) => &state.metrics.statements_stored,
        Err(_) => &state.metrics.statements_rejected,
    };
    counter.fetch_add(count, Ordering::Relaxed);
    outcome
}

async fn post_statements(
    State(state): State<AppState>,
    Extension(version): Extension<XapiVersion>,
    auth: Authenticated,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require(&[Scope::StatementsWrite], true)?;
    if let Some((name, _)) = query_pairs(query.as_deref()).first() {
        return Err(ApiError::BadRequest {
            message: format!("POST /statements takes no query parameter `{name}`"),
            field: Some(name.clone()),
            statement_index: None,
        });
    }
    let submission = read_body(&headers, &body)?;
    let statements = match submission.statements {
        Value::Array(items) => items,
        object @ Value::Object(_) => vec![object],
        _ => {
            return Err(ApiError::bad(
                "the body must be a statement object or an array of statements",
            ))
        }
    };
    let ids = store_batch(&state, &auth, version, statements, submission.parts).await?;
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    Ok(Json(ids).into_response())
}

async fn put_statement(
    State(state): State<AppState>,
    Extension(version): Extension<XapiVersion>,
    auth: Authenticated,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    auth.require(&[Scope::StatementsWrite], true)?;
    let pairs = query_pairs(query.as_deref());
    if let Some((name, _)) = pairs.iter().find(|(n, _)| n != "statementId") {
        return Err(ApiError::bad(format!(
            "PUT /statements takes only statementId, not `{name}`"
        )));
    }
    let id = pairs
        .iter()
        .find(|(n, _)| n == "statementId")
        .ok_or_else(|| ApiError::bad("PUT /statements requires the statementId parameter"))?;
    let id = Uuid::parse_str(&id.1).map_err(|_| ApiError::BadRequest {
        message: "statementId must be a UUID".into(),
        field: Some("statementId".into()),
        statement_index: None,
    })?;
    let mut submission = read_body(&headers, &body)?;
    let Value::Object(map) = &mut submission.statements else {
        return Err(ApiError::bad("PUT /statements takes one statement object"));
    };
    match map.get("id") {
        Some(Value::String(given)) if Uuid::parse_str(given).ok() == Some(id) => {}
        Some(_) => {
            return Err(ApiError::BadRequest {
                message: format!("the statement's id does not match statementId {id}"),
                field: Some("id".into()),
                statement_index: None,
            })
        }
        None => {
            map.insert("id".into(), Value::String(id.to_string()));
        }
    }
    store_batch(
        &state,
        &auth,
        version,
        vec![submission.statements],
        submission.parts,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn get_statements(
    State(state): State<AppState>,
    Extension(version): Extension<XapiVersion>,
    auth: Authenticated,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let mine = auth.statements_readable()?;
    let languages = format::accept_languages(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    );
    let pairs = query_pairs(query.as_deref());
    let request = parse_request(&pairs, version, state.settings.max_page_size)
        .map_err(|e| ApiError::invalid(e, None))?;
    let response = match request {
        StatementRequest::Single {
            id,
            voided,
            format,
            attachments,
        } => {
            let found = state
                .statements
                .get(id)
                .await?
                .filter(|s| s.voided == voided)
                .ok_or_else(|| {
                    ApiError::NotFound(if voided {
                        format!("no voided statement {id}")
                    } else {
                        format!("no statement {id} (or it is voided: ask with voidedStatementId)")
                    })
                })?;
            let mut value: Value = serde_json::from_str(&found.body).map_err(|e| {
                ApiError::Internal(format!("stored statement {id} is not JSON: {e}"))
            })?;
            if let Some(mine) = &mine {
                if value.get("authority").map(authority_key).as_ref() != Some(mine) {
                    return Err(ApiError::NotFound(format!("no statement {id}")));
                }
            }
            format::apply(&mut value, format, &languages);
            let body =
                serde_json::to_string(&value).map_err(|e| ApiError::Internal(e.to_string()))?;
            let mut response =
                respond(&state, body, std::slice::from_ref(&value), attachments).await?;
            if let Ok(v) = HeaderValue::from_str(&http_date(found.stored)) {
                response.headers_mut().insert(header::LAST_MODIFIED, v);
            }
            response
        }
        StatementRequest::Query(mut q) => {
            q.authority = mine;
            q.limit = q.limit.clamp(1, state.settings.max_page_size);
            query_response(&state, q, &languages).await?
        }
    };
    Ok(response)
}

async fn query_response(
    state: &AppState,
    q: StatementQuery,
    languages: &[String],
) -> Result<Response, ApiError> {
    let page = state.statements.query(&q).await?;
    let more = page
        .more
        .map(|position| format!("/xAPI/statements?more={}", encode_cursor(&q, position)))
        .unwrap_or_default();
    let needs_values = q.format != Format::Exact || q.attachments;
    let mut values = Vec::new();
    let statements_json = if needs_values {
        for body in &page.statements {
            let mut v: Value = serde_json::from_str(body)
                .map_err(|e| ApiError::Internal(format!("a stored statement is not JSON: {e}")))?;
            format::apply(&mut v, q.format, languages);
            values.push(v);
        }
        serde_json::to_string(&values).map_err(|e| ApiError::Internal(e.to_string()))?
    } else {
        let mut out =
            String::with_capacity(page.statements.iter().map(|s| s.len() + 1).sum::<usize>() + 2);
        out.push('[');
        for (i, body) in page.statements.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(body);
        }
        out.push(']');
        out
    };
    let more_json = serde_json::to_string(&more).map_err(|e| ApiError::Internal(e.to_string()))?;
    let body = format!("{{\"statements\":{statements_json},\"more\":{more_json}}}");
    let mut response = respond(state, body, &values, q.attachments).await?;
    if let Some(stored) = page.last_stored {
        if let Ok(v) = HeaderValue::from_str(&http_date(stored)) {
            response.headers_mut().insert(header::LAST_MODIFIED, v);
        }
    }
    Ok(response)
}

/// A JSON response, or multipart/mixed with the attachments of `statements` when asked.
async fn respond(
    state: &AppState,
    json: String,
    statements: &[Value],
    with_attachments: bool,
) -> Result<Response, ApiError> {
    if !with_attachments {
        return Ok(([(header::CONTENT_TYPE, "application/json")], json).into_response());
    }
    let wanted = multipart::attachment_hashes(statements);
    let found = state.content.attachments(&wanted).await?;
    let (content_type, body) = multipart::with_attachments(json.into_bytes(), found);
    Ok(([(header::CONTENT_TYPE, content_type)], body).into_response())
}
