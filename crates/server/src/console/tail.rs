//! `GET /console/api/tail`: a live tail of arriving statements as server-sent events, with the
//! statement query's filters. It reads the store (not this process's writes), so a console on
//! one replica shows what every replica stores.

use std::collections::HashSet;
use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{RawQuery, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use xlrs_xapi::query::{parse_request, StatementQuery, StatementRequest};
use xlrs_xapi::version::XapiVersion;

use crate::api::{ApiError, AppState, Authenticated};

/// The statement query's parameters the tail takes (the rest make no sense for a tail).
const FILTERS: [&str; 7] = [
    "agent",
    "verb",
    "activity",
    "registration",
    "related_activities",
    "related_agents",
    "since",
];

/// How often the store is asked for what arrived.
const EVERY: Duration = Duration::from_millis(500);

/// Statements read per query of a round.
const ROUND: usize = 200;

/// Events: `statement` (the statement as stored) and `error` (`{"message"}`, the tail goes on).
pub async fn tail(
    State(state): State<AppState>,
    auth: Authenticated,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let mine = auth.statements_readable()?;
    let pairs: Vec<(String, String)> =
        form_urlencoded::parse(query.as_deref().unwrap_or("").as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    if let Some((name, _)) = pairs.iter().find(|(n, _)| !FILTERS.contains(&n.as_str())) {
        return Err(ApiError::BadRequest {
            message: format!(
                "the tail takes no parameter `{name}` (it takes {})",
                FILTERS.join(", ")
            ),
            field: Some(name.clone()),
            statement_index: None,
        });
    }
    let mut q = match parse_request(&pairs, XapiVersion::V2_0_0, ROUND)
        .map_err(|e| ApiError::invalid(e, None))?
    {
        StatementRequest::Query(q) => q,
        StatementRequest::Single { .. } => return Err(ApiError::bad("the tail takes filters")),
    };
    q.authority = mine;
    q.ascending = true;
    q.limit = ROUND;
    // From `since` (exclusive), or from now.
    let from = q
        .since
        .map(|s| s + 1)
        .unwrap_or_else(xlrs_store::positions::now_micros);
    let (tx, rx) = tokio::sync::mpsc::channel::<Event>(ROUND);
    tokio::spawn(follow(state, q, from, tx));
    let events = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|e| (Ok::<_, Infallible>(e), rx))
    });
    Ok(Sse::new(events)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}

/// Reads what arrives from `from` (µs, inclusive) on, until the client goes away. A statement
/// stored at the very instant of the newest one sent is still found: each round asks from
/// that instant again and skips the ids it already sent for it.
async fn follow(
    state: AppState,
    filters: StatementQuery,
    from: i64,
    tx: tokio::sync::mpsc::Sender<Event>,
) {
    let mut cursor = from;
    let mut sent_at_cursor: HashSet<String> = HashSet::new();
    loop {
        let mut q = filters.clone();
        q.since = Some(cursor - 1);
        loop {
            let page = match state.statements.query(&q).await {
                Ok(page) => page,
                Err(e) => {
                    let message = serde_json::json!({ "message": e.to_string() }).to_string();
                    if tx
                        .send(Event::default().event("error").data(message))
                        .await
                        .is_err()
                    {
                        return;
                    }
                    break;
                }
            };
            for body in &page.statements {
                let Ok(statement) = serde_json::from_str::<Value>(body) else {
                    continue;
                };
                let id = statement["id"].as_str().unwrap_or_default().to_string();
                let stored = statement["stored"]
                    .as_str()
                    .and_then(xlrs_xapi::validate::parse_timestamp)
                    .map(|t| t.timestamp_micros())
                    .unwrap_or(cursor);
                if stored < cursor || (stored == cursor && sent_at_cursor.contains(&id)) {
                    continue;
                }
                if stored > cursor {
                    cursor = stored;
                    sent_at_cursor.clear();
                }
                sent_at_cursor.insert(id);
                if tx
                    .send(Event::default().event("statement").data(body.as_str()))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            match page.more {
                Some(after) => q.after = Some(after),
                None => break,
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(EVERY) => {}
            _ = tx.closed() => return,
        }
    }
}
