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

mod reads;

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
