//! Statement GET rules (voidedStatementId, formats, parameter names, Last-Modified,
//! Consistent-Through), durations, and multipart POSTs, as the conformance suite checks them.

use super::*;

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
