//! The store contract: behaviours every statement and document store must have, as one generic
//! suite. Unit tests run it on SQLite; the integration tests run it on every database server.
//! Each check panics with the rule it found broken.

use serde_json::{json, Value};
use uuid::Uuid;

use xlrs_xapi::query::StatementQuery;
use xlrs_xapi::statement::{prepare, PreparedStatement, VOIDED_VERB};
use xlrs_xapi::version::XapiVersion;

use crate::{
    AdmissionLog, AdmissionRecord, Attachment, ContentStore, Document, DocumentKind, DocumentScope,
    DocumentStore, Page, Precondition, StatementStore, StoreError,
};

fn authority() -> Value {
    json!({"objectType": "Agent", "account": {"homePage": "http://localhost", "name": "contract"}})
}

/// A statement by a unique agent on a unique activity, unless told otherwise.
fn statement(actor: &str, verb: &str, activity: &str) -> Value {
    json!({
        "id": Uuid::new_v4().to_string(),
        "actor": {"objectType": "Agent", "mbox": format!("mailto:{actor}@example.org")},
        "verb": {"id": verb},
        "object": {"objectType": "Activity", "id": activity}
    })
}

fn prepared(v: Value) -> PreparedStatement {
    prepare(v, &authority(), XapiVersion::V2_0_0, Uuid::new_v4).expect("test statement prepares")
}

fn ids(page: &Page) -> Vec<String> {
    page.statements
        .iter()
        .map(|b| {
            serde_json::from_str::<Value>(b).expect("stored JSON")["id"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

fn query() -> StatementQuery {
    StatementQuery {
        limit: 100,
        ..StatementQuery::default()
    }
}

/// Runs every statement-store check on a store and the content store it keeps attachments and
/// definitions in; a tag keeps the data apart from other runs on the same store.
pub async fn statement_store(store: &dyn StatementStore, side: &dyn ContentStore) {
    let tag = Uuid::new_v4().simple().to_string();
    stored_statements_come_back_with_stored_and_timestamp(store, &tag).await;
    an_identical_resend_is_a_no_op_and_a_different_one_conflicts(store, &tag).await;
    a_failing_batch_keeps_nothing(store, &tag).await;
    voided_statements_leave_queries_but_voiding_ones_stay(store, &tag).await;
    filters_select_what_they_name(store, &tag).await;
    pages_have_no_gaps_or_repeats_while_others_insert(store, &tag).await;
    activity_definitions_merge_every_statement_that_defines_them(store, side, &tag).await;
    attachments_are_kept_with_their_statements(store, side, &tag).await;
}

/// What a store read as a log (forwarding from several processes) does besides: a query
/// asked to include voided statements lists them, in position order, and its positions are
/// `stored`, so a reader resumes after the last statement it read.
pub async fn statement_log(store: &dyn StatementStore) {
    let tag = Uuid::new_v4().simple().to_string();
    let activity = format!("http://act/{tag}/log");
    let target = prepared(statement(&format!("l-{tag}"), "http://v/1", &activity));
    let target_id = target.id;
    let voiding = prepared(json!({
        "actor": {"mbox": format!("mailto:l-{tag}@example.org")},
        "verb": {"id": VOIDED_VERB},
        "object": {"objectType": "StatementRef", "id": target_id.to_string()}
    }));
    let voiding_id = voiding.id;
    store.insert(vec![target], vec![]).await.expect("insert");
    store.insert(vec![voiding], vec![]).await.expect("voiding");
    let q = StatementQuery {
        activity: Some(activity),
        ascending: true,
        include_voided: true,
        ..query()
    };
    let page = store.query(&q).await.expect("query");
    assert_eq!(
        ids(&page),
        vec![target_id.to_string(), voiding_id.to_string()],
        "the server's own reads list voided statements too, in position order"
    );
    let first = store.get(target_id).await.expect("get").expect("kept");
    let rest = StatementQuery {
        after: Some(first.stored),
        ..q
    };
    assert_eq!(
        ids(&store.query(&rest).await.expect("query")),
        vec![voiding_id.to_string()],
        "a reader resumes after the `stored` of the last statement it read"
    );
}

/// What a database store does with admission records: each is written with its statement and
/// listed at the statement's position, oldest first, from any process.
pub async fn admissions_with_statements(store: &dyn StatementStore, log: &dyn AdmissionLog) {
    let tag = Uuid::new_v4().simple().to_string();
    let plain = prepared(statement(&tag, "http://v/plain", "http://act/plain"));
    let mut admitted = prepared(statement(&tag, "http://v/admitted", "http://act/admitted"));
    let record = AdmissionRecord {
        seq: 0,
        statement: admitted.id,
        plugin: "openedx-compat".into(),
        rules: vec!["version".into(), "extension-value".into()],
        repaired: true,
        credential: "erb".into(),
        at: 1_796_000_000_000_000,
    };
    admitted.admission = Some(record.note());
    let id = admitted.id;
    store
        .insert(vec![plain, admitted], vec![])
        .await
        .expect("insert");
    let stored = store.get(id).await.expect("get").expect("kept").stored;
    let listed = log.admissions(None, 1000).await.expect("admissions");
    assert_eq!(
        listed,
        vec![AdmissionRecord {
            seq: stored,
            ..record
        }],
        "one record, the admitted statement's, at its position"
    );
    let after = log
        .admissions(Some(stored), 1000)
        .await
        .expect("admissions");
    assert!(after.is_empty(), "nothing after it: {after:?}");
}

async fn activity_definitions_merge_every_statement_that_defines_them(
    store: &dyn StatementStore,
    side: &dyn ContentStore,
    tag: &str,
) {
    let activity = format!("http://example.org/{tag}/defined");
    let with_definition = |definition: Value| {
        let mut s = statement(tag, "http://example.org/verb", &activity);
        s["object"]["definition"] = definition;
        prepared(s)
    };
    assert_eq!(
        side.activity_definition(&activity).await.expect("reads"),
        None,
        "an activity nobody defined has no definition"
    );
    store
        .insert(
            vec![with_definition(json!({"name": {"en-US": "meeting"}}))],
            vec![],
        )
        .await
        .expect("insert");
    store
        .insert(
            vec![with_definition(
                json!({"name": {"fr": "réunion"}, "type": "http://t"}),
            )],
            vec![],
        )
        .await
        .expect("insert");
    assert_eq!(
        side.activity_definition(&activity).await.expect("reads"),
        Some(json!({"name": {"en-US": "meeting", "fr": "réunion"}, "type": "http://t"})),
        "the canonical definition holds every language it was given"
    );
    store
        .insert(
            vec![
                with_definition(json!({"name": {"en-US": "meeting"}, "type": "http://u"})),
                with_definition(json!({"name": {"en-US": "seminar"}})),
                with_definition(json!({"name": {"en-US": "meeting"}, "type": "http://u"})),
            ],
            vec![],
        )
        .await
        .expect("insert");
    assert_eq!(
        side.activity_definition(&activity).await.expect("reads"),
        Some(json!({"name": {"en-US": "meeting", "fr": "réunion"}, "type": "http://u"})),
        "a definition given again, after another, wins again: the last one stored decides"
    );
    for (given, name) in [
        (json!({"name": {"en-US": "seminar"}}), "seminar"),
        (json!({"name": {"en-US": "seminar"}}), "seminar"),
        (
            json!({"name": {"en-US": "meeting"}, "type": "http://u"}),
            "meeting",
        ),
    ] {
        store
            .insert(vec![with_definition(given)], vec![])
            .await
            .expect("insert");
        assert_eq!(
            side.activity_definition(&activity)
                .await
                .expect("reads")
                .map(|d| d["name"]["en-US"].clone()),
            Some(json!(name)),
            "a definition stored before, given again in a later batch, is the last one again"
        );
    }
}

async fn attachments_are_kept_with_their_statements(
    store: &dyn StatementStore,
    side: &dyn ContentStore,
    tag: &str,
) {
    let content = format!("notes of {tag}").into_bytes();
    let sha2 = {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(&content))
    };
    let attachment = Attachment {
        sha2: sha2.clone(),
        content_type: "text/plain".into(),
        content,
    };
    let s = prepared(statement(
        tag,
        "http://v/attached",
        &format!("http://act/{tag}/a"),
    ));
    store
        .insert(vec![s], vec![attachment.clone()])
        .await
        .expect("insert with an attachment");
    assert_eq!(
        side.attachments(&[sha2, "0".repeat(64)])
            .await
            .expect("reads"),
        vec![attachment],
        "an attachment is found by its SHA-256, an unknown hash is left out"
    );
}

async fn stored_statements_come_back_with_stored_and_timestamp(
    store: &dyn StatementStore,
    tag: &str,
) {
    let s = prepared(statement(
        &format!("a-{tag}"),
        "http://v/1",
        &format!("http://act/{tag}/1"),
    ));
    let id = s.id;
    store.insert(vec![s], vec![]).await.expect("insert");
    let got = store
        .get(id)
        .await
        .expect("get")
        .expect("statement is stored");
    let v: Value = serde_json::from_str(&got.body).expect("JSON");
    assert!(v["stored"].is_string(), "stored is set");
    assert_eq!(
        v["timestamp"], v["stored"],
        "a missing timestamp is set to stored"
    );
    assert!(!got.voided);
}

async fn an_identical_resend_is_a_no_op_and_a_different_one_conflicts(
    store: &dyn StatementStore,
    tag: &str,
) {
    let original = statement(
        &format!("b-{tag}"),
        "http://v/1",
        &format!("http://act/{tag}/2"),
    );
    store
        .insert(vec![prepared(original.clone())], vec![])
        .await
        .expect("first insert");
    store
        .insert(vec![prepared(original.clone())], vec![])
        .await
        .expect("identical re-send accepted");
    let mut q = query();
    q.activity = Some(format!("http://act/{tag}/2"));
    assert_eq!(
        store.query(&q).await.expect("query").statements.len(),
        1,
        "no duplicate"
    );
    let mut changed = original;
    changed["verb"]["id"] = json!("http://v/other");
    let err = store.insert(vec![prepared(changed)], vec![]).await;
    assert!(
        matches!(err, Err(StoreError::Conflict(_))),
        "conflicting id is refused: {err:?}"
    );
}

async fn a_failing_batch_keeps_nothing(store: &dyn StatementStore, tag: &str) {
    let existing = statement(
        &format!("c-{tag}"),
        "http://v/1",
        &format!("http://act/{tag}/3"),
    );
    store
        .insert(vec![prepared(existing.clone())], vec![])
        .await
        .expect("insert");
    let fresh = statement(
        &format!("c-{tag}"),
        "http://v/1",
        &format!("http://act/{tag}/3"),
    );
    let fresh_id = Uuid::parse_str(fresh["id"].as_str().unwrap_or_default()).expect("uuid");
    let mut conflicting = existing;
    conflicting["verb"]["id"] = json!("http://v/changed");
    let r = store
        .insert(vec![prepared(fresh), prepared(conflicting)], vec![])
        .await;
    assert!(r.is_err(), "the batch fails");
    assert!(
        store.get(fresh_id).await.expect("get").is_none(),
        "nothing of a failed batch is kept"
    );
}

async fn voided_statements_leave_queries_but_voiding_ones_stay(
    store: &dyn StatementStore,
    tag: &str,
) {
    let activity = format!("http://act/{tag}/void");
    let target = prepared(statement(&format!("d-{tag}"), "http://v/1", &activity));
    let target_id = target.id;
    store.insert(vec![target], vec![]).await.expect("insert");
    let voiding = json!({
        "actor": {"mbox": format!("mailto:d-{tag}@example.org")},
        "verb": {"id": VOIDED_VERB},
        "object": {"objectType": "StatementRef", "id": target_id.to_string()}
    });
    let voiding = prepared(voiding);
    let voiding_id = voiding.id;
    store
        .insert(vec![voiding], vec![])
        .await
        .expect("voiding insert");
    assert!(
        store
            .get(target_id)
            .await
            .expect("get")
            .expect("kept")
            .voided,
        "target is voided"
    );
    let mut q = query();
    q.activity = Some(activity);
    let page = store.query(&q).await.expect("query");
    assert_eq!(
        ids(&page),
        vec![voiding_id.to_string()],
        "voided statement is left out; the voiding one matches through its StatementRef"
    );
    let void_the_voiding = json!({
        "actor": {"mbox": format!("mailto:d-{tag}@example.org")},
        "verb": {"id": VOIDED_VERB},
        "object": {"objectType": "StatementRef", "id": voiding_id.to_string()}
    });
    let r = store.insert(vec![prepared(void_the_voiding)], vec![]).await;
    assert!(
        matches!(r, Err(StoreError::Rejected(_))),
        "a voiding statement cannot be voided: {r:?}"
    );
}

async fn filters_select_what_they_name(store: &dyn StatementStore, tag: &str) {
    let registration = Uuid::new_v4();
    let mut with_context = statement(
        &format!("e-{tag}"),
        "http://v/filter",
        &format!("http://act/{tag}/f1"),
    );
    with_context["context"] = json!({
        "registration": registration.to_string(),
        "instructor": {"mbox": format!("mailto:teacher-{tag}@example.org")},
        "contextActivities": {"parent": [{"id": format!("http://act/{tag}/course")}]}
    });
    let other = statement(
        &format!("f-{tag}"),
        "http://v/other",
        &format!("http://act/{tag}/f2"),
    );
    let a = prepared(with_context);
    let a_id = a.id.to_string();
    store
        .insert(vec![a, prepared(other)], vec![])
        .await
        .expect("insert");
    let check = |q: StatementQuery, expect: Vec<String>, rule: &'static str| async move {
        assert_eq!(
            ids(&store.query(&q).await.expect("query")),
            expect,
            "{rule}"
        );
    };
    let mut q = query();
    q.agent = Some(format!("mbox:mailto:e-{tag}@example.org"));
    check(q, vec![a_id.clone()], "agent matches the actor").await;
    let mut q = query();
    q.agent = Some(format!("mbox:mailto:teacher-{tag}@example.org"));
    check(q.clone(), vec![], "an instructor is not the actor").await;
    q.related_agents = true;
    check(
        q,
        vec![a_id.clone()],
        "related_agents matches the instructor",
    )
    .await;
    let mut q = query();
    q.activity = Some(format!("http://act/{tag}/course"));
    check(q.clone(), vec![], "a parent activity is not the object").await;
    q.related_activities = true;
    check(
        q,
        vec![a_id.clone()],
        "related_activities matches context activities",
    )
    .await;
    let mut q = query();
    q.registration = Some(registration.to_string());
    check(q, vec![a_id.clone()], "registration matches").await;
    let mut q = query();
    q.verb = Some("http://v/filter".into());
    q.agent = Some(format!("mbox:mailto:e-{tag}@example.org"));
    check(q, vec![a_id], "filters combine with AND").await;
}

async fn pages_have_no_gaps_or_repeats_while_others_insert(store: &dyn StatementStore, tag: &str) {
    let verb = format!("http://v/paging/{tag}");
    let first: Vec<PreparedStatement> = (0..5)
        .map(|i| {
            prepared(statement(
                &format!("g-{tag}"),
                &verb,
                &format!("http://act/{tag}/p{i}"),
            ))
        })
        .collect();
    let mut expected: Vec<String> = first.iter().rev().map(|p| p.id.to_string()).collect();
    store.insert(first, vec![]).await.expect("insert");
    let mut q = query();
    q.verb = Some(verb.clone());
    q.limit = 2;
    let mut seen = Vec::new();
    let mut page = store.query(&q).await.expect("query");
    loop {
        seen.extend(ids(&page));
        // Someone else inserts between page fetches.
        store
            .insert(
                vec![prepared(statement(
                    &format!("g-{tag}"),
                    &verb,
                    "http://act/late",
                ))],
                vec![],
            )
            .await
            .expect("insert");
        let Some(position) = page.more else { break };
        q.after = Some(position);
        page = store.query(&q).await.expect("next page");
    }
    assert_eq!(
        seen, expected,
        "newest first, every statement once, later inserts not mixed in"
    );
    let mut asc = query();
    asc.verb = Some(verb);
    asc.ascending = true;
    asc.limit = 5;
    expected.reverse();
    assert_eq!(
        ids(&store.query(&asc).await.expect("query")),
        expected,
        "ascending is oldest first"
    );
}

/// Runs every document-store check.
pub async fn document_store(store: &dyn DocumentStore) {
    let tag = Uuid::new_v4().simple().to_string();
    let scope = DocumentScope {
        kind: DocumentKind::State,
        activity_id: format!("http://act/{tag}"),
        agent: format!("mbox:mailto:{tag}@example.org"),
        registration: String::new(),
    };
    let doc = |content: &str, etag: &str, updated: i64| Document {
        content: content.as_bytes().to_vec(),
        content_type: "application/json".into(),
        etag: etag.into(),
        updated,
    };
    store
        .put_document(&scope, "s1", doc("{\"a\":1}", "e1", 10), Precondition::None)
        .await
        .expect("put");
    let got = store
        .get_document(&scope, "s1")
        .await
        .expect("get")
        .expect("stored");
    assert_eq!(got.content, b"{\"a\":1}".to_vec());
    assert_eq!(got.etag, "e1");
    let r = store
        .put_document(
            &scope,
            "s1",
            doc("{}", "e2", 20),
            Precondition::IfMatch("nope".into()),
        )
        .await;
    assert!(
        matches!(r, Err(StoreError::PreconditionFailed(_))),
        "If-Match must match: {r:?}"
    );
    let r = store
        .put_document(&scope, "s1", doc("{}", "e2", 20), Precondition::IfNoneMatch)
        .await;
    assert!(
        matches!(r, Err(StoreError::PreconditionFailed(_))),
        "If-None-Match: * fails on an existing document"
    );
    store
        .put_document(
            &scope,
            "s1",
            doc("{}", "e2", 20),
            Precondition::IfMatch("e1".into()),
        )
        .await
        .expect("matching If-Match");
    store
        .put_document(&scope, "s2", doc("{}", "e3", 30), Precondition::IfNoneMatch)
        .await
        .expect("new document");
    assert_eq!(
        store.list_documents(&scope, None).await.expect("list").0,
        vec!["s1", "s2"]
    );
    assert_eq!(
        store
            .list_documents(&scope, Some(25))
            .await
            .expect("list")
            .0,
        vec!["s2"],
        "since filters by update time"
    );
    let with_registration = DocumentScope {
        registration: Uuid::new_v4().to_string(),
        ..scope.clone()
    };
    store
        .put_document(
            &with_registration,
            "s3",
            doc("{}", "e4", 40),
            Precondition::None,
        )
        .await
        .expect("put");
    assert_eq!(
        store
            .list_documents(&scope, None)
            .await
            .expect("list")
            .0
            .len(),
        2,
        "registrations are kept apart"
    );
    assert!(store
        .delete_document(&scope, "s2", Precondition::None)
        .await
        .expect("delete"));
    store.delete_documents(&scope).await.expect("delete all");
    assert!(
        store
            .get_document(&with_registration, "s3")
            .await
            .expect("get")
            .is_none(),
        "delete without registration removes every registration's"
    );
    assert!(store
        .list_documents(&scope, None)
        .await
        .expect("list")
        .0
        .is_empty());
}

/// What erasure and retention need of a store ([`crate::lifecycle::Lifecycle`]): a removed
/// statement's position is never given again, a rewritten statement keeps its id and position
/// and is found under its new agents only, and old documents are found (never the server's
/// own records) and removed.
pub async fn lifecycle(
    store: &dyn StatementStore,
    lifecycle: &dyn crate::lifecycle::Lifecycle,
    documents: &dyn DocumentStore,
) {
    let tag = Uuid::new_v4().simple().to_string();
    a_removed_statements_position_is_never_given_again(store, lifecycle, &tag).await;
    a_rewritten_statement_keeps_its_id_and_position_under_its_new_agents(store, lifecycle, &tag)
        .await;
    old_documents_are_found_and_removed(lifecycle, documents, &tag).await;
}

/// The position of a stored statement.
async fn located(store: &dyn StatementStore, id: Uuid) -> crate::lifecycle::Located {
    let found = store.get(id).await.expect("get").expect("stored");
    crate::lifecycle::Located {
        id,
        stored: found.stored,
    }
}

async fn a_removed_statements_position_is_never_given_again(
    store: &dyn StatementStore,
    lifecycle: &dyn crate::lifecycle::Lifecycle,
    tag: &str,
) {
    let activity = format!("http://act/{tag}/removed");
    let first = prepared(statement(&format!("r-{tag}"), "http://v/1", &activity));
    let newest = prepared(statement(&format!("r-{tag}"), "http://v/1", &activity));
    let (first_id, newest_id) = (first.id, newest.id);
    store.insert(vec![first], vec![]).await.expect("insert");
    store.insert(vec![newest], vec![]).await.expect("insert");
    // A reader's cursor at the newest statement: the position a newest-first page of one
    // stops at.
    let mut q = query();
    q.activity = Some(activity.clone());
    q.limit = 1;
    let cursor = store.query(&q).await.expect("query").more;
    assert!(cursor.is_some(), "a page of one of two has more");
    let removed = located(store, newest_id).await;
    lifecycle
        .remove_statements(&[removed], &[])
        .await
        .expect("removes");
    assert!(
        store.get(newest_id).await.expect("get").is_none(),
        "removed"
    );
    let next = prepared(statement(&format!("r-{tag}"), "http://v/1", &activity));
    let next_id = next.id;
    store.insert(vec![next], vec![]).await.expect("insert");
    let mut q = query();
    q.activity = Some(activity);
    q.ascending = true;
    let page = store.query(&q).await.expect("query");
    assert_eq!(ids(&page), [first_id.to_string(), next_id.to_string()]);
    q.after = cursor;
    let page = store.query(&q).await.expect("query");
    assert_eq!(
        ids(&page),
        [next_id.to_string()],
        "a statement stored after a removal comes after the removed one's position"
    );
}

async fn a_rewritten_statement_keeps_its_id_and_position_under_its_new_agents(
    store: &dyn StatementStore,
    lifecycle: &dyn crate::lifecycle::Lifecycle,
    tag: &str,
) {
    let original = statement(
        &format!("old-{tag}"),
        "http://v/1",
        &format!("http://act/{tag}/rw"),
    );
    let first = prepared(original.clone());
    let id = first.id;
    store.insert(vec![first], vec![]).await.expect("insert");
    let before = located(store, id).await;
    let mut changed = original;
    changed["actor"] = json!({"mbox": format!("mailto:new-{tag}@example.org")});
    changed["timestamp"] = json!("2026-01-01T00:00:00Z");
    let rewritten = prepare(changed, &authority(), XapiVersion::V2_0_0, || id).expect("prepares");
    let old_key = format!("mbox:mailto:old-{tag}@example.org");
    lifecycle
        .rewrite_statements(
            &[crate::group_commit::Positioned {
                statement: &rewritten,
                stored: before.stored,
            }],
            std::slice::from_ref(&old_key),
        )
        .await
        .expect("rewrites");
    let found = store.get(id).await.expect("get").expect("still stored");
    assert_eq!(found.stored, before.stored, "the position stays");
    assert!(found.body.contains(&format!("new-{tag}")), "{}", found.body);
    assert!(
        !found.body.contains(&format!("old-{tag}")),
        "{}",
        found.body
    );
    let mut q = query();
    q.agent = Some(old_key);
    assert!(store.query(&q).await.expect("query").statements.is_empty());
    q.agent = Some(format!("mbox:mailto:new-{tag}@example.org"));
    let page = store.query(&q).await.expect("query");
    assert_eq!(
        ids(&page),
        [id.to_string()],
        "found under its new agent, once"
    );
}

async fn old_documents_are_found_and_removed(
    lifecycle: &dyn crate::lifecycle::Lifecycle,
    documents: &dyn DocumentStore,
    tag: &str,
) {
    let now = crate::positions::now_micros();
    let scope = |kind| DocumentScope {
        kind,
        activity_id: format!("http://act/{tag}/docs"),
        agent: format!("mbox:mailto:d-{tag}@example.org"),
        registration: String::new(),
    };
    let document = |updated| Document {
        content: b"{}".to_vec(),
        content_type: "application/json".into(),
        etag: format!("e{updated}"),
        updated,
    };
    for (kind, id, updated) in [
        (DocumentKind::State, "old", 1_000),
        (DocumentKind::State, "new", now),
        (DocumentKind::Internal, "old", 1_000),
    ] {
        documents
            .put_document(&scope(kind), id, document(updated), Precondition::None)
            .await
            .expect("put");
    }
    let old = lifecycle
        .documents_before(now - 1_000_000, 10_000)
        .await
        .expect("lists");
    let ours: Vec<_> = old
        .iter()
        .filter(|(s, _)| s.activity_id == scope(DocumentKind::State).activity_id)
        .collect();
    assert_eq!(ours, [&(scope(DocumentKind::State), "old".to_string())]);
    let agents = [scope(DocumentKind::State).agent];
    assert_eq!(
        lifecycle
            .agent_documents(&agents)
            .await
            .expect("lists")
            .len(),
        2
    );
    lifecycle
        .remove_documents(&old, Some(now - 1_000_000))
        .await
        .expect("removes");
    let state = scope(DocumentKind::State);
    assert!(documents
        .get_document(&state, "old")
        .await
        .expect("get")
        .is_none());
    assert!(documents
        .get_document(&state, "new")
        .await
        .expect("get")
        .is_some());
    let internal = scope(DocumentKind::Internal);
    assert!(documents
        .get_document(&internal, "old")
        .await
        .expect("get")
        .is_some());
}
