//! Statement GET and query rules, the 1.0.3 alternate request syntax and multipart rules, as the
//! conformance suite checks them (docs/conformance-map.md).

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::Response;
use xlrs_tests::{
    attachment_statement, basic, enc, header, http_date_seconds, multipart_body, statement,
    statement_with_id, unique, Server, ADMIN_PASSWORD,
};

use crate::XLRS;

// ---------------------------------------------------------------------------------------------
// Helpers

/// A server that accepts xAPI 1.0.3 as well as 2.0.0.
fn start_with_1_0_3() -> Server {
    Server::in_process_with(XLRS, &[("XLRS_XAPI_VERSIONS", "1.0.3,2.0.0")])
}

fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// POSTs one statement as admin and returns its id (asserting the 200).
fn post_one(s: &Server, st: &Value) -> String {
    xlrs_tests::id_of(s.post(st))
}

/// A voiding statement for `target`.
fn voiding(target: &str) -> Value {
    json!({
        "actor": {"objectType": "Agent", "mbox": format!("mailto:voider-{}@example.org", unique())},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": target}
    })
}

/// GETs `/statements?{query}` (already url-encoded) at 2.0.0 with optional extra headers.
fn get(s: &Server, query: &str, headers: &[(&str, &str)]) -> Response {
    let mut request = s.xapi(Method::GET, &format!("/statements?{query}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().expect("GET /statements")
}

/// The body of a 200 answer as JSON.
fn ok_json(r: Response, what: &str) -> Value {
    assert_eq!(r.status(), 200, "{what}");
    r.json().expect("a JSON body")
}

/// The header fields of the alternate request syntax that stand in for HTTP headers.
fn header_fields(version: &str) -> Vec<(&'static str, String)> {
    vec![
        ("Authorization", basic("admin", ADMIN_PASSWORD)),
        ("X-Experience-API-Version", version.to_string()),
    ]
}

/// A 1.0.3 alternate-syntax request: `POST /xAPI{path}?method={method}` with `form` as an
/// `application/x-www-form-urlencoded` body and no Authorization or version HTTP header.
fn alternate(s: &Server, path: &str, method: &str, form: &[(&str, String)]) -> Response {
    s.raw(Method::POST, &format!("/xAPI{path}?method={method}"))
        .form(form)
        .send()
        .expect("alternate-syntax POST")
}

/// Seconds since 1970 of an ISO 8601 timestamp with its time zone (`stored`, Consistent-Through).
fn instant_seconds(timestamp: &str) -> f64 {
    let t = chrono::DateTime::parse_from_rfc3339(timestamp)
        .unwrap_or_else(|e| panic!("not an RFC 3339 timestamp: {timestamp}: {e}"));
    t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) / 1e9
}

// ---------------------------------------------------------------------------------------------
// The 1.0.3 alternate request syntax (Communication 1.3)

#[test]
fn an_alternate_syntax_post_carrying_a_get_returns_200_and_a_statement_result() {
    // XAPI-00148 (Communication 2.1.2.s2.b3, 1.3): "An LRS accepts a valid POST request
    // containing a GET request returning 200 OK and the StatementResult Object." Query
    // parameters go in the form (1.3.s3.b13), and headers either in the HTTP header or as form
    // fields (1.3.s3.b6/b7).
    let s = start_with_1_0_3();
    let mut mine = statement();
    mine["verb"]["id"] = json!(format!("http://example.org/verbs/{}", unique()));
    let mine_id = post_one(&s, &mine);
    post_one(&s, &statement());
    post_one(&s, &statement());

    // Headers in the HTTP header as usual, the query parameters as form fields.
    let r = s
        .xapi_version(Method::POST, "/statements?method=GET", "1.0.3")
        .form(&[("limit", "1")])
        .send()
        .unwrap();
    let page = ok_json(r, "method=GET with limit=1");
    assert_eq!(page["statements"].as_array().unwrap().len(), 1, "{page}");
    assert!(
        page["more"].is_string(),
        "a StatementResult has more: {page}"
    );
    assert!(
        !page["more"].as_str().unwrap().is_empty(),
        "three statements, one per page: {page}"
    );

    // Everything, headers included, in the form.
    let mut form = header_fields("1.0.3");
    form.push(("verb", mine["verb"]["id"].as_str().unwrap().to_string()));
    form.push(("agent", mine["actor"].to_string()));
    let page = ok_json(
        alternate(&s, "/statements", "GET", &form),
        "method=GET with filters",
    );
    assert_eq!(xlrs_tests::ids_of(&page), vec![mine_id.as_str()], "{page}");
    assert_eq!(page["more"], "");

    // A single statement by statementId.
    let mut form = header_fields("1.0.3");
    form.push(("statementId", mine_id.clone()));
    let got = ok_json(
        alternate(&s, "/statements", "GET", &form),
        "method=GET with statementId",
    );
    assert_eq!(got["id"], mine_id.as_str());
    assert_eq!(got["verb"], mine["verb"]);
}

#[test]
fn the_lrs_supports_the_alternate_syntax_for_put_post_get_and_delete_with_headers_as_form_fields() {
    // XAPI-00336 (Communication 1.3.s3.b15): "The LRS MUST support the syntax above."
    // 1.3.s3.b4: content goes in the form parameter "content"; b5: "The LRS MUST interpret this
    // content as a UTF-8 string"; b7: "The LRS MUST treat the form parameters listed above
    // [Authorization, X-Experience-API-Version, Content-Type, Content-Length, If-Match,
    // If-None-Match] as header parameters"; b14: other form parameters are query parameters.
    let s = start_with_1_0_3();

    // POST a statement (with non-ASCII text) through the form: 200 and its id.
    let id = new_id();
    let sent = statement_with_id(&id);
    let mut form = header_fields("1.0.3");
    form.push(("Content-Type", "application/json".into()));
    form.push(("content", sent.to_string()));
    let r = alternate(&s, "/statements", "POST", &form);
    assert_eq!(r.status(), 200, "method=POST");
    let ids: Vec<String> = r.json().unwrap();
    assert_eq!(ids, vec![id.clone()]);
    let got: Value = s
        .xapi_version(
            Method::GET,
            &format!("/statements?statementId={id}"),
            "1.0.3",
        )
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        got["object"]["definition"]["name"]["fr-FR"], "Algèbre",
        "the content is read as UTF-8"
    );

    // PUT a statement with every header as a form field and the statementId in the form.
    let put_id = new_id();
    let mut form = header_fields("1.0.3");
    form.push(("Content-Type", "application/json".into()));
    form.push(("statementId", put_id.clone()));
    form.push(("content", statement().to_string()));
    assert_eq!(
        alternate(&s, "/statements", "PUT", &form).status(),
        204,
        "method=PUT"
    );
    assert_eq!(s.get_statement(&put_id).status(), 200);

    // The Authorization form field is the request's credentials.
    let mut form = vec![
        ("Authorization", basic("admin", "not-the-password")),
        ("X-Experience-API-Version", "1.0.3".to_string()),
        ("limit", "1".to_string()),
    ];
    assert_eq!(
        alternate(&s, "/statements", "GET", &form).status(),
        401,
        "a wrong Authorization form field is refused like a wrong header"
    );
    form.remove(0);
    assert_eq!(
        alternate(&s, "/statements", "GET", &form).status(),
        401,
        "no credentials in the header or the form"
    );

    // The X-Experience-API-Version form field is the request's version.
    let unknown_version_id = new_id();
    let form = vec![
        ("Authorization", basic("admin", ADMIN_PASSWORD)),
        ("X-Experience-API-Version", "0.8".to_string()),
        ("statementId", unknown_version_id.clone()),
        ("content", statement().to_string()),
    ];
    assert_eq!(
        alternate(&s, "/statements", "PUT", &form).status(),
        400,
        "an unsupported version in the form is refused"
    );
    assert_eq!(s.get_statement(&unknown_version_id).status(), 404);

    // The Content-Type form field is the content's type.
    let text_id = new_id();
    let mut form = header_fields("1.0.3");
    form.push(("Content-Type", "text/plain".into()));
    form.push(("statementId", text_id.clone()));
    form.push(("content", statement().to_string()));
    assert_eq!(
        alternate(&s, "/statements", "PUT", &form).status(),
        400,
        "a statement declared as text/plain is refused as it would be in a header"
    );
    assert_eq!(s.get_statement(&text_id).status(), 404);
}

#[test]
fn a_document_resource_is_written_read_and_deleted_through_the_alternate_syntax() {
    // XAPI-00336 (Communication 1.3.s3.b15, b7): PUT / GET / DELETE on the Activity Profile
    // Resource and POST on the State Resource, with If-Match and If-None-Match given as form
    // fields and treated as headers (Communication 3.1: 412 on a failed precondition, 409 for a
    // PUT over an existing document without either header).
    let s = start_with_1_0_3();
    let activity = format!("http://example.org/activity/{}", unique());
    let profile = |extra: &[(&'static str, String)]| {
        let mut form = header_fields("1.0.3");
        form.push(("activityId", activity.clone()));
        form.push(("profileId", "ars-profile".to_string()));
        form.extend(extra.iter().cloned());
        form
    };
    let content = |v: Value| {
        vec![
            ("Content-Type", "application/json".to_string()),
            ("content", v.to_string()),
        ]
    };
    let with = |mut a: Vec<(&'static str, String)>, b: &[(&'static str, String)]| {
        a.extend(b.iter().cloned());
        a
    };
    let put = |extra: Vec<(&'static str, String)>| {
        alternate(&s, "/activities/profile", "PUT", &profile(&extra))
            .status()
            .as_u16()
    };

    let if_none_match = [("If-None-Match", "*".to_string())];
    assert_eq!(
        put(with(content(json!({"v": 1})), &if_none_match)),
        204,
        "a new profile with If-None-Match: * in the form"
    );
    assert_eq!(
        put(with(content(json!({"v": 2})), &if_none_match)),
        412,
        "If-None-Match: * in the form over an existing profile fails its precondition"
    );
    assert_eq!(
        put(content(json!({"v": 2}))),
        409,
        "no If-Match or If-None-Match over an existing profile"
    );
    assert_eq!(
        put(with(
            content(json!({"v": 2})),
            &[(
                "If-Match",
                "\"0000000000000000000000000000000000000000\"".into()
            )]
        )),
        412,
        "a stale If-Match in the form"
    );

    let got = alternate(&s, "/activities/profile", "GET", &profile(&[]));
    assert_eq!(got.status(), 200, "method=GET on a document");
    let etag = header(&got, "etag");
    assert_eq!(got.json::<Value>().unwrap(), json!({"v": 1}));
    assert_eq!(
        put(with(content(json!({"v": 2})), &[("If-Match", etag)])),
        204,
        "the current ETag as If-Match in the form"
    );
    let got = alternate(&s, "/activities/profile", "GET", &profile(&[]));
    assert_eq!(got.json::<Value>().unwrap(), json!({"v": 2}));

    assert_eq!(
        alternate(&s, "/activities/profile", "DELETE", &profile(&[])).status(),
        204,
        "method=DELETE on a document"
    );
    assert_eq!(
        alternate(&s, "/activities/profile", "GET", &profile(&[])).status(),
        404,
        "the deleted profile is gone"
    );

    // POST merges JSON into a State document.
    let agent = json!({"mbox": format!("mailto:{}@example.org", unique())}).to_string();
    let state = |extra: Vec<(&'static str, String)>| {
        let mut form = header_fields("1.0.3");
        form.push(("activityId", activity.clone()));
        form.push(("agent", agent.clone()));
        form.push(("stateId", "ars-state".to_string()));
        form.extend(extra);
        form
    };
    for (n, body) in [json!({"a": 1}), json!({"b": 2})].into_iter().enumerate() {
        assert_eq!(
            alternate(&s, "/activities/state", "POST", &state(content(body))).status(),
            204,
            "method=POST #{n} on a state document"
        );
    }
    let got = alternate(&s, "/activities/state", "GET", &state(vec![]));
    assert_eq!(got.status(), 200);
    assert_eq!(got.json::<Value>().unwrap(), json!({"a": 1, "b": 2}));
}

#[test]
fn an_alternate_syntax_put_without_a_content_form_field_is_400() {
    // XAPI-00336 (Communication 1.3.s3.b4): "If the xAPI call involved sending content, the
    // Learning Record Provider MUST URL encode that content and include it as a form parameter
    // called "content"."
    let s = start_with_1_0_3();
    let form_for = |id: &str| {
        let mut form = header_fields("1.0.3");
        form.push(("Content-Type", "application/json".into()));
        form.push(("statementId", id.to_string()));
        form
    };
    let id = new_id();
    assert_eq!(
        alternate(&s, "/statements", "PUT", &form_for(&id)).status(),
        400,
        "a PUT without content"
    );
    let control = new_id();
    let mut with_content = form_for(&control);
    with_content.push(("content", statement().to_string()));
    assert_eq!(
        alternate(&s, "/statements", "PUT", &with_content).status(),
        204,
        "the same PUT with its content"
    );
    // The statement sent as the raw body instead of a "content" field is no better.
    let r = s
        .raw(Method::POST, "/xAPI/statements?method=PUT")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(
            json!({
                "statementId": id,
                "Authorization": basic("admin", ADMIN_PASSWORD),
                "X-Experience-API-Version": "1.0.3",
                "content": statement()
            })
            .to_string(),
        )
        .send()
        .unwrap();
    assert_eq!(
        r.status(),
        400,
        "a body that is not url-encoded form fields"
    );
    assert_eq!(s.get_statement(&id).status(), 404, "nothing was stored");
}

#[test]
fn an_alternate_syntax_method_that_is_not_get_put_post_or_delete_is_400() {
    // XAPI-00336 (Communication 1.3.s3.b2): "The intended xAPI method MUST be included as the
    // value of the "method" query string parameter" — and xAPI defines GET, PUT, POST, DELETE.
    let s = start_with_1_0_3();
    for method in ["PATCH", "FETCH", "HEAD-ISH", ""] {
        let mut form = header_fields("1.0.3");
        form.push(("limit", "1".into()));
        let r = alternate(&s, "/statements", method, &form);
        assert_eq!(r.status(), 400, "method={method}");
    }
}

#[test]
fn an_alternate_syntax_request_with_other_query_string_parameters_or_not_issued_as_post_is_400() {
    // XAPI-00336 (Communication 1.3.s3.b1): "All xAPI requests issued MUST be POST."; b3: "The
    // Learning Record Provider MUST NOT include any other query string parameters on the
    // request."; b13: "Any query string parameters other than "method" MUST instead be
    // included as a form parameter with the same name."
    let s = start_with_1_0_3();
    let id = new_id();
    let mut form = header_fields("1.0.3");
    form.push(("Content-Type", "application/json".into()));
    form.push(("statementId", id.clone()));
    form.push(("content", statement().to_string()));
    let r = s
        .raw(
            Method::POST,
            &format!("/xAPI/statements?method=PUT&statementId={id}"),
        )
        .form(&form)
        .send()
        .unwrap();
    assert_eq!(
        r.status(),
        400,
        "statementId in the URL as well as the form"
    );
    let r = s
        .raw(Method::POST, "/xAPI/statements?method=GET&limit=1")
        .form(&header_fields("1.0.3"))
        .send()
        .unwrap();
    assert_eq!(r.status(), 400, "limit in the URL");
    let r = s
        .raw(Method::PUT, "/xAPI/statements?method=PUT")
        .form(&form)
        .send()
        .unwrap();
    assert_eq!(r.status(), 400, "the alternate syntax issued as a PUT");
    assert_eq!(s.get_statement(&id).status(), 404, "nothing was stored");
}

#[test]
fn a_form_encoded_request_without_a_method_parameter_is_400() {
    // XAPI-00336 (Communication 3.2.s3.b6, 1.0.3): "If the content type is
    // application/x-www-form-urlencoded it is expected that the request will include a method
    // parameter as outlined in Alternate Request Syntax."
    let s = start_with_1_0_3();
    let mut form = header_fields("1.0.3");
    form.push(("content", statement().to_string()));
    let r = s
        .xapi_version(Method::POST, "/statements", "1.0.3")
        .form(&form)
        .send()
        .unwrap();
    assert_eq!(r.status(), 400);
}

// ---------------------------------------------------------------------------------------------
// voidedStatementId, statementId and the parameters that may accompany them (Communication 2.1.3)

#[test]
fn a_voided_statement_id_with_any_parameter_but_attachments_or_format_is_400() {
    // XAPI-00150 (Communication 2.1.3): "The LRS MUST reject with an 400 Bad Request error any
    // requests to this resource which contain statementId or voidedStatementId parameters, and
    // also contain any other parameter besides "attachments" or "format"."
    let s = Server::in_process(XLRS);
    let target = statement();
    let target_id = post_one(&s, &target);
    let stored = ok_json(s.get_statement(&target_id), "the target")["stored"]
        .as_str()
        .unwrap()
        .to_string();
    post_one(&s, &voiding(&target_id));
    let others = [
        format!("agent={}", enc(&target["actor"].to_string())),
        format!("verb={}", enc(target["verb"]["id"].as_str().unwrap())),
        format!("activity={}", enc(target["object"]["id"].as_str().unwrap())),
        format!("registration={}", new_id()),
        "related_activities=true".to_string(),
        "related_agents=true".to_string(),
        format!("since={}", enc("2000-01-01T00:00:00Z")),
        format!("until={}", enc(&stored)),
        "limit=1".to_string(),
        "ascending=true".to_string(),
        format!("statementId={}", new_id()),
    ];
    for other in &others {
        let query = format!("voidedStatementId={target_id}&{other}");
        assert_eq!(get(&s, &query, &[]).status(), 400, "{query}");
        let query = format!("statementId={target_id}&{other}");
        if !other.starts_with("statementId") {
            assert_eq!(get(&s, &query, &[]).status(), 400, "{query}");
        }
    }
    for allowed in [
        "format=exact",
        "format=ids",
        "format=canonical",
        "attachments=false",
        "attachments=true&format=exact",
    ] {
        let query = format!("voidedStatementId={target_id}&{allowed}");
        let r = get(&s, &query, &[]);
        assert_eq!(r.status(), 200, "{query}");
        if !allowed.contains("attachments=true") {
            let got: Value = r.json().unwrap();
            assert_eq!(got["id"], target_id.as_str(), "{query}");
        }
    }
}

#[test]
fn a_get_by_voided_statement_id_returns_the_voided_statement_itself() {
    // XAPI-00155 (Communication 2.1.3): "If the statementId or voidedStatementId parameter is
    // specified a single Statement is returned." — the voided one, with that "id".
    let s = Server::in_process(XLRS);
    let target_id = post_one(&s, &statement());
    let before = ok_json(s.get_statement(&target_id), "the target before voiding");
    let voiding_id = post_one(&s, &voiding(&target_id));
    let r = get(&s, &format!("voidedStatementId={target_id}"), &[]);
    assert_eq!(r.status(), 200);
    assert!(
        header(&r, "content-type").starts_with("application/json"),
        "a single statement as JSON"
    );
    let got: Value = r.json().unwrap();
    assert!(
        got.get("statements").is_none(),
        "a Statement, not a StatementResult: {got}"
    );
    assert_eq!(got["id"], target_id.as_str());
    assert_ne!(got["id"], voiding_id.as_str());
    assert_eq!(got, before, "the voided statement, unchanged");
}

#[test]
fn a_statement_get_answers_content_type_application_json_when_no_attachments_are_asked_for() {
    // XAPI-00165 (Communication 2.1.3, attachments parameter): "If false, the LRS sends the
    // prescribed response with Content-Type application/json and does not send attachment
    // data." (attachments defaults to false)
    let s = Server::in_process(XLRS);
    let id = post_one(&s, &statement());
    let voided = post_one(&s, &statement());
    post_one(&s, &voiding(&voided));
    for query in [
        String::new(),
        "limit=1".to_string(),
        format!("statementId={id}"),
        format!("statementId={id}&format=ids"),
        format!("statementId={id}&format=canonical"),
        format!("voidedStatementId={voided}"),
        format!("verb={}", enc("http://adlnet.gov/expapi/verbs/completed")),
    ] {
        let r = get(&s, &query, &[]);
        assert_eq!(r.status(), 200, "{query}");
        let content_type = header(&r, "content-type");
        assert!(
            content_type.starts_with("application/json"),
            "?{query}: {content_type}"
        );
        let _: Value = r.json().expect("the body is JSON");
    }
}

// ---------------------------------------------------------------------------------------------
// format and Accept-Language (Communication 2.1.3)

/// A statement with language maps in the verb, the activity's name, description and
/// interaction components, a Group actor and a SubStatement.
fn multilingual_statement() -> Value {
    let u = unique();
    json!({
        "actor": {"objectType": "Group", "name": "Team", "mbox": format!("mailto:team-{u}@example.org"),
                  "member": [{"objectType": "Agent", "name": "Ada", "mbox": format!("mailto:ada-{u}@example.org")}]},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/answered",
                 "display": {"en-US": "answered", "fr-FR": "a répondu", "de-DE": "beantwortete"}},
        "object": {"objectType": "Activity", "id": format!("http://example.org/question/{u}"),
                   "definition": {
                       "name": {"en-US": "Colour", "fr-FR": "Couleur"},
                       "description": {"en-US": "Pick a colour", "fr-FR": "Choisissez une couleur"},
                       "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                       "interactionType": "choice",
                       "correctResponsesPattern": ["red"],
                       "choices": [
                           {"id": "red", "description": {"en-US": "Red", "fr-FR": "Rouge"}},
                           {"id": "blue", "description": {"en-US": "Blue", "fr-FR": "Bleu"}}
                       ]}},
        "result": {"response": "red", "success": true},
        "context": {"instructor": {"objectType": "Agent", "name": "Teacher", "mbox": format!("mailto:teacher-{u}@example.org")},
                    "contextActivities": {"parent": [{"objectType": "Activity", "id": format!("http://example.org/quiz/{u}"),
                                                      "definition": {"name": {"en-US": "Quiz", "fr-FR": "Quiz FR"}}}]}}
    })
}

#[test]
fn a_get_without_format_returns_the_statement_as_format_exact_does() {
    // XAPI-00168 (Communication 2.1.3, format parameter: default "exact"): "The Statement API
    // MUST return 200 OK, StatementResult Object with results in the requested format or in
    // "exact" if the "format" parameter is absent."
    let s = Server::in_process(XLRS);
    let st = multilingual_statement();
    let id = post_one(&s, &st);
    let mut sub = statement();
    sub["object"] = json!({"objectType": "SubStatement", "actor": st["actor"], "verb": st["verb"],
                           "object": st["object"]});
    let sub_id = post_one(&s, &sub);

    for (plain, exact) in [
        (
            format!("statementId={id}"),
            format!("statementId={id}&format=exact"),
        ),
        (
            format!("statementId={sub_id}"),
            format!("statementId={sub_id}&format=exact"),
        ),
        (
            format!("activity={}", enc(st["object"]["id"].as_str().unwrap())),
            format!(
                "activity={}&format=exact",
                enc(st["object"]["id"].as_str().unwrap())
            ),
        ),
        ("limit=10".to_string(), "limit=10&format=exact".to_string()),
    ] {
        let without = ok_json(get(&s, &plain, &[]), &plain);
        let with = ok_json(get(&s, &exact, &[]), &exact);
        assert_eq!(without, with, "?{plain} against ?{exact}");
    }
    let got = ok_json(s.get_statement(&id), "the statement");
    for field in ["actor", "verb", "object", "result", "context"] {
        assert_eq!(got[field], st[field], "{field} exactly as sent");
    }
}

#[test]
fn accept_language_chooses_the_language_only_with_format_canonical() {
    // XAPI-00172 (Communication 2.1.3): "If the "Accept-Language" header is present as part of
    // the GET request to the Statement API and the "format" parameter is set to "canonical",
    // the LRS MUST apply this data to choose the matching language in the response." With
    // "exact" (and no format), objects are "populated exactly as they were when the Statement
    // was received"; "ids" carries no language maps at all.
    let s = Server::in_process(XLRS);
    let st = multilingual_statement();
    let id = post_one(&s, &st);
    let activity = enc(st["object"]["id"].as_str().unwrap());
    let french = [("Accept-Language", "fr-FR")];

    for (single, list) in [
        (format!("statementId={id}"), format!("activity={activity}")),
        (
            format!("statementId={id}&format=exact"),
            format!("activity={activity}&format=exact"),
        ),
        (
            format!("statementId={id}&format=ids"),
            format!("activity={activity}&format=ids"),
        ),
    ] {
        let got = ok_json(get(&s, &single, &french), &single);
        let plain = ok_json(get(&s, &single, &[]), &single);
        assert_eq!(got, plain, "?{single}: Accept-Language changes nothing");
        let page = ok_json(get(&s, &list, &french), &list);
        let plain_page = ok_json(get(&s, &list, &[]), &list);
        assert_eq!(page, plain_page, "?{list}: Accept-Language changes nothing");
        assert_eq!(page["statements"][0], got, "?{list}");
        if !single.contains("format=ids") {
            assert_eq!(got["verb"]["display"], st["verb"]["display"], "?{single}");
            assert_eq!(got["object"]["definition"], st["object"]["definition"]);
            assert_eq!(got["context"], st["context"], "?{single}");
        }
    }

    for query in [
        format!("statementId={id}&format=canonical"),
        format!("activity={activity}&format=canonical"),
    ] {
        let answer = ok_json(get(&s, &query, &french), &query);
        let got = answer.get("statements").map_or(&answer, |list| &list[0]);
        assert_eq!(
            got["verb"]["display"],
            json!({"fr-FR": "a répondu"}),
            "?{query}"
        );
        let definition = &got["object"]["definition"];
        assert_eq!(definition["name"], json!({"fr-FR": "Couleur"}), "?{query}");
        assert_eq!(
            definition["description"],
            json!({"fr-FR": "Choisissez une couleur"}),
            "?{query}"
        );
        assert_eq!(
            definition["choices"][0]["description"],
            json!({"fr-FR": "Rouge"}),
            "?{query}: an interaction component's map"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Parameter names (Communication 3.2)

#[test]
fn a_statement_parameter_whose_name_differs_only_in_case_is_400() {
    // XAPI-00325 (Communication 3.2.s3.b8): "The LRS MUST reject with 400 Bad Request status
    // any requests that use any parameters matching parameters described in this specification
    // in all but case."
    let s = Server::in_process(XLRS);
    let st = statement();
    let id = post_one(&s, &st);
    let voided = post_one(&s, &statement());
    post_one(&s, &voiding(&voided));
    let agent = enc(&st["actor"].to_string());
    let verb = enc(st["verb"]["id"].as_str().unwrap());
    let activity = enc(st["object"]["id"].as_str().unwrap());
    let since = enc("2000-01-01T00:00:00Z");
    let cases = [
        (format!("statementId={id}"), format!("StatementId={id}")),
        (format!("statementId={id}"), format!("statementID={id}")),
        (
            format!("voidedStatementId={voided}"),
            format!("VoidedStatementId={voided}"),
        ),
        (
            format!("voidedStatementId={voided}"),
            format!("voidedStatementID={voided}"),
        ),
        (format!("agent={agent}"), format!("Agent={agent}")),
        (format!("verb={verb}"), format!("Verb={verb}")),
        (
            format!("activity={activity}"),
            format!("Activity={activity}"),
        ),
        (
            format!("registration={}", new_id()),
            format!("Registration={}", new_id()),
        ),
        (
            format!("activity={activity}&related_activities=true"),
            format!("activity={activity}&Related_Activities=true"),
        ),
        (
            format!("agent={agent}&related_agents=true"),
            format!("agent={agent}&Related_Agents=true"),
        ),
        (format!("since={since}"), format!("Since={since}")),
        (format!("until={since}"), format!("UNTIL={since}")),
        ("limit=1".to_string(), "Limit=1".to_string()),
        ("format=ids".to_string(), "Format=ids".to_string()),
        (
            "attachments=false".to_string(),
            "Attachments=false".to_string(),
        ),
        ("ascending=true".to_string(), "Ascending=true".to_string()),
    ];
    for (right, wrong) in cases {
        assert_eq!(get(&s, &right, &[]).status(), 200, "?{right}");
        assert_eq!(get(&s, &wrong, &[]).status(), 400, "?{wrong}");
    }

    let put_id = new_id();
    for wrong in ["StatementId", "statementID", "STATEMENTID"] {
        let r = s
            .xapi(Method::PUT, &format!("/statements?{wrong}={put_id}"))
            .json(&statement_with_id(&put_id))
            .send()
            .unwrap();
        assert_eq!(r.status(), 400, "PUT ?{wrong}=");
    }
    assert_eq!(s.get_statement(&put_id).status(), 404, "nothing was stored");
}

// ---------------------------------------------------------------------------------------------
// Headers of statement GETs (Communication 2.1.3)

#[test]
fn last_modified_of_a_statement_get_is_its_stored_time_to_the_second() {
    // U-07 (xAPI 2.0, Communication 2.1.3): "The LRS SHOULD* include a "Last-Modified" header
    // which matches the "stored" Timestamp of the Statement." HTTP dates have whole seconds.
    let s = Server::in_process(XLRS);
    let mut stored = Vec::new();
    for _ in 0..3 {
        let id = post_one(&s, &statement());
        let r = s.get_statement(&id);
        assert_eq!(r.status(), 200);
        let last_modified = http_date_seconds(&header(&r, "last-modified"));
        let got: Value = r.json().unwrap();
        let stored_at = instant_seconds(got["stored"].as_str().unwrap());
        assert_eq!(
            last_modified as f64,
            stored_at.floor(),
            "Last-Modified against stored {}",
            got["stored"]
        );
        stored.push(stored_at);
    }
    let r = get(&s, "limit=10", &[]);
    assert_eq!(r.status(), 200);
    let last_modified = http_date_seconds(&header(&r, "last-modified"));
    let newest = stored.iter().copied().fold(f64::MIN, f64::max);
    assert_eq!(
        last_modified as f64,
        newest.floor(),
        "a page's Last-Modified is its newest statement's stored"
    );
}

#[test]
fn consistent_through_is_not_earlier_than_any_stored_of_the_page_returned() {
    // XAPI-00152 (dropped by ADL; Communication 2.1.3): X-Experience-API-Consistent-Through is
    // "the timestamp for which all Statements that have or will have a "stored" property before
    // that time are known with reasonable certainty to be available for retrieval" — so no
    // statement returned can be stored after it.
    let s = Server::in_process(XLRS);
    let mut last_id = String::new();
    for _ in 0..4 {
        last_id = post_one(&s, &statement());
    }
    for query in ["limit=10".to_string(), format!("statementId={last_id}")] {
        let r = get(&s, &query, &[]);
        assert_eq!(r.status(), 200, "{query}");
        let through = instant_seconds(&header(&r, "x-experience-api-consistent-through"));
        let answer: Value = r.json().unwrap();
        let statements = match answer.get("statements") {
            Some(list) => list.as_array().unwrap().clone(),
            None => vec![answer.clone()],
        };
        assert!(!statements.is_empty());
        for st in statements {
            let stored = instant_seconds(st["stored"].as_str().unwrap());
            assert!(
                through >= stored,
                "?{query}: Consistent-Through is before stored {}",
                st["stored"]
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Durations (Data 4.6, xAPI 2.0)

#[test]
fn a_duration_beyond_hundredths_is_accepted_and_compared_only_to_hundredths() {
    // U-12 (xAPI 2.0, Data 4.6 ISO 8601 Durations): "On receiving a Duration with more than
    // 0.01 second precision, the LRS SHOULD* NOT reject the request but MAY truncate the
    // "duration" property to 0.01 second precision." and "When comparing Durations, any
    // precision beyond 0.01 second precision SHOULD* NOT be included in the comparison."
    let s = Server::in_process(XLRS);
    let id = new_id();
    let mut precise = statement_with_id(&id);
    precise["result"] = json!({"duration": "PT1.2371S"});
    assert_eq!(s.post(&precise).status(), 200, "PT1.2371S is accepted");

    let mut hundredths = precise.clone();
    hundredths["result"]["duration"] = json!("PT1.23S");
    let r = s.put_statement(&id, &hundredths);
    assert_eq!(r.status(), 204, "PUT with PT1.23S is the same statement");
    assert_eq!(
        s.post(&hundredths).status(),
        200,
        "POST with PT1.23S is the same statement"
    );

    let mut other = precise.clone();
    other["result"]["duration"] = json!("PT1.24S");
    assert_eq!(
        s.post(&other).status(),
        409,
        "a duration differing in hundredths is another statement"
    );
    let page = s.query(&format!(
        "verb={}",
        enc(precise["verb"]["id"].as_str().unwrap())
    ));
    assert_eq!(xlrs_tests::ids_of(&page), vec![id.as_str()], "stored once");
}

// ---------------------------------------------------------------------------------------------
// multipart/mixed (Communication 1.5.2)

/// A multipart/mixed statement POST whose first part has `first_headers` (each ending in
/// CRLF), with one proper attachment part.
#[test]
fn a_multipart_whose_first_part_is_not_labelled_application_json_is_400() {
    // XAPI-00134 (Communication 1.5.2): "SHOULD include a Content-Type parameter in each part's
    // header. For the first part (containing the Statement) this MUST be application/json."
    let s = Server::in_process(XLRS);
    let content = b"attachment text for the first-part test";
    let post = |first_headers: &str| {
        let (mut st, sha2) = attachment_statement(content);
        let id = new_id();
        st["id"] = json!(id);
        let body = multipart_body(first_headers, &st, &[(&sha2, content)], Some("binary"));
        (id, s.post_multipart(body).status().as_u16())
    };
    for first in [
        "Content-Type: text/plain\r\n",
        "",
        "Content-Type: application/octet-stream\r\n",
    ] {
        let (id, status) = post(first);
        assert_eq!(status, 400, "first part headers {first:?}");
        assert_eq!(s.get_statement(&id).status(), 404, "nothing was stored");
    }
    let (id, status) = post("Content-Type: application/json\r\n");
    assert_eq!(status, 200, "the same request labelled application/json");
    assert_eq!(s.get_statement(&id).status(), 200);
}
