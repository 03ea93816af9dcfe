//! What the document resources keep and answer, resource by resource: `since`, JSON merges,
//! refusals that change nothing, deletes, registrations, the Agents resource, ETags and
//! Last-Modified.

use super::*;

/// An xAPI timestamp (`2026-11-26T10:00:00.123456Z`) for a time.
fn timestamp(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[test]
fn since_lists_only_the_documents_stored_or_updated_after_it_on_every_document_resource() {
    // XAPI-00141, 00195/00221 (State), 00268/00275 (Agent Profile), 00294/00303 (Activity
    // Profile); the lists themselves XAPI-00193, 00270, 00289: "If "since" parameter is
    // specified, this is limited to entries that have been stored or updated since the
    // specified timestamp (exclusive)." (Communication 2.3, 2.6, 2.7, Multiple Document GET).
    let s = Server::in_process(XLRS);
    let pause = || std::thread::sleep(Duration::from_millis(20));
    for version in VERSIONS {
        for resource in RESOURCES {
            let context = resource.context();
            let doc = |id: &str| url(resource, &with(&context, resource.id_name(), id));
            let list = |since: Option<&str>| match since {
                Some(t) => url(resource, &with(&context, "since", t)),
                None => url(resource, &context),
            };
            let before = timestamp(SystemTime::now() - Duration::from_secs(60));
            assert_eq!(
                post_json(&s, version, &doc("early"), &json!({"n": 1})).status(),
                204
            );
            pause();
            let between = timestamp(SystemTime::now());
            pause();
            assert_eq!(
                post_json(&s, version, &doc("late"), &json!({"n": 2})).status(),
                204
            );
            let both = vec!["early".to_string(), "late".to_string()];
            assert_eq!(listed(&s, version, &list(None)), both, "{}", list(None));
            let since_before = list(Some(&before));
            assert_eq!(listed(&s, version, &since_before), both, "{since_before}");
            let since_between = list(Some(&between));
            assert_eq!(
                listed(&s, version, &since_between),
                vec!["late".to_string()],
                "GET {since_between}: only the document stored after `since`"
            );
            pause();
            let after = timestamp(SystemTime::now());
            let since_after = list(Some(&after));
            assert!(
                listed(&s, version, &since_after).is_empty(),
                "GET {since_after}: nothing was stored after it"
            );
            // Updating the early document brings it into the list since `between`.
            pause();
            assert_eq!(
                post_json(&s, version, &doc("early"), &json!({"n": 3})).status(),
                204
            );
            assert_eq!(
                listed(&s, version, &since_between),
                both,
                "GET {since_between}: an update counts as stored since"
            );
        }
    }
}

#[test]
fn a_json_post_merges_only_top_level_properties_on_every_document_resource() {
    // XAPI-00183 (nested objects are replaced whole), 00184 (duplicate keys take the new
    // value), 00234 (State), 00279 (Agent Profile), 00308 (Activity Profile); XAPI-00272 and
    // 00283 (an Agent Profile POST answers 204, new or existing). Communication 2.2: "Note
    // that only top-level properties are merged, even if a top-level property is an Object."
    let s = Server::in_process(XLRS);
    for version in VERSIONS {
        for resource in RESOURCES {
            let doc = url(resource, &resource.document("merged"));
            let first = json!({
                "car": {"make": "Ford", "model": "Escape"},
                "driver": "Dale",
                "seen": true
            });
            let second = json!({"car": {"make": "Dodge"}, "driver": "Jeff", "page": 4});
            assert_eq!(
                post_json(&s, version, &doc, &first).status(),
                204,
                "POST {doc} (new)"
            );
            assert_eq!(
                post_json(&s, version, &doc, &second).status(),
                204,
                "POST {doc} (merge)"
            );
            let got = get(&s, version, &doc);
            assert_eq!(got.status(), 200, "GET {doc}");
            assert!(
                header(&got, "content-type").starts_with("application/json"),
                "GET {doc}: a merged document is JSON"
            );
            assert_eq!(
                got.json::<Value>().expect("JSON"),
                json!({"car": {"make": "Dodge"}, "driver": "Jeff", "seen": true, "page": 4}),
                "GET {doc} ({version})"
            );
        }
    }
}

/// The body, content type and ETag of a document, to show a refused request changed nothing.
fn snapshot(s: &Server, url: &str) -> (String, String, String) {
    let r = get(s, "2.0.0", url);
    assert_eq!(r.status(), 200, "GET {url}");
    let content_type = header(&r, "content-type");
    let etag = header(&r, "etag");
    (r.text().expect("body"), content_type, etag)
}

#[test]
fn a_post_over_a_stored_document_that_is_not_json_is_refused_and_changes_nothing() {
    // XAPI-00232 (State), 00278 (Agent Profile), 00309 (Activity Profile). Communication 2.2:
    // "If the document being posted or any existing document does not have a Content-Type of
    // application/json […] the LRS MUST respond with HTTP status code 400 Bad Request, and MUST
    // NOT update the target document as a result of the request."
    let s = Server::in_process(XLRS);
    for version in VERSIONS {
        for resource in RESOURCES {
            let doc = url(resource, &resource.document("plain"));
            let put = s
                .xapi_version(Method::PUT, &doc, version)
                .header("If-None-Match", "*")
                .header("Content-Type", "text/plain")
                .body("dark mode")
                .send()
                .expect("PUT");
            assert_eq!(put.status(), 204, "PUT {doc}");
            let before = snapshot(&s, &doc);
            let r = post_json(&s, version, &doc, &json!({"a": 1}));
            assert_refused(r, &Method::POST, &doc, version);
            assert_eq!(snapshot(&s, &doc), before, "GET {doc}: unchanged");
            assert_eq!(before.0, "dark mode");
        }
    }
}

#[test]
fn a_post_whose_body_is_not_a_json_object_is_refused_and_changes_nothing() {
    // XAPI-00229/00235 (State), 00281 and 00284 (Agent Profile), 00313 and 00314 (Activity
    // Profile). Communication 2.2: "If the document being posted or any existing document does
    // not have a Content-Type of application/json, or if either document cannot be parsed as a
    // JSON Object, the LRS MUST respond with HTTP status code 400 Bad Request, and MUST NOT
    // update the target document as a result of the request."
    let s = Server::in_process(XLRS);
    let bodies = [
        ("application/json", "[1, 2]"),
        ("application/json", r#""a string""#),
        ("application/json", "42"),
        ("application/json", r#"{"a": 2"#),
        ("application/json", r#"{"a": 2}["#),
        ("application/octet-stream", "abcdefg"),
        ("text/plain", "abc"),
        ("not/json", r#"{"a": 2}"#),
    ];
    for version in VERSIONS {
        for resource in RESOURCES {
            let context = resource.context();
            let doc = url(resource, &with(&context, resource.id_name(), "json"));
            assert_eq!(
                put_json(&s, version, &doc, &json!({"a": 1})).status(),
                204,
                "PUT {doc}"
            );
            let before = snapshot(&s, &doc);
            for (content_type, body) in bodies {
                let r = post_raw(&s, version, &doc, content_type, body);
                assert_eq!(
                    r.status(),
                    400,
                    "POST {doc} ({version}) with {content_type} `{body}` must be refused"
                );
                assert_eq!(
                    snapshot(&s, &doc),
                    before,
                    "GET {doc}: unchanged by `{body}`"
                );
            }
            // A POST of invalid JSON sent as application/json creates nothing either.
            let fresh = url(resource, &with(&context, resource.id_name(), "fresh"));
            let r = post_raw(&s, version, &fresh, "application/json", r#"{"a": 1}["#);
            assert_refused(r, &Method::POST, &fresh, version);
            assert_eq!(get(&s, version, &fresh).status(), 404, "GET {fresh}");
        }
    }
}

#[test]
fn deleting_one_document_leaves_the_others_of_its_context() {
    // XAPI-00191, 00216 (State DELETE with stateId), 00271 (Agent Profile), 00285 (Activity
    // Profile): a DELETE naming a document answers 204 and removes that document only.
    let s = Server::in_process(XLRS);
    for version in VERSIONS {
        for resource in RESOURCES {
            let context = resource.context();
            let doc = |id: &str| url(resource, &with(&context, resource.id_name(), id));
            for id in ["a", "b"] {
                assert_eq!(
                    post_json(&s, version, &doc(id), &json!({"id": id})).status(),
                    204
                );
            }
            let delete = s
                .xapi_version(Method::DELETE, &doc("a"), version)
                .send()
                .expect("DELETE");
            assert_eq!(delete.status(), 204, "DELETE {}", doc("a"));
            assert_eq!(
                get(&s, version, &doc("a")).status(),
                404,
                "GET {}",
                doc("a")
            );
            assert_eq!(get_json(&s, version, &doc("b")), json!({"id": "b"}));
            let list = url(resource, &context);
            assert_eq!(listed(&s, version, &list), vec!["b".to_string()], "{list}");
        }
    }
}

#[test]
fn a_state_post_with_a_registration_is_kept_under_that_registration() {
    // XAPI-00227: the State resource processes a POST with "registration": the document
    // exists in the context of the Activity, Agent and that registration.
    let s = Server::in_process(XLRS);
    for version in VERSIONS {
        let context = Resource::State.context();
        let registration = uuid::Uuid::new_v4().to_string();
        let registered = with(&context, "registration", &registration);
        let doc = url(Resource::State, &with(&registered, "stateId", "s"));
        assert_eq!(
            post_json(&s, version, &doc, &json!({"a": 1})).status(),
            204,
            "POST {doc}"
        );
        assert_eq!(
            post_json(&s, version, &doc, &json!({"b": 2})).status(),
            204,
            "POST {doc}"
        );
        assert_eq!(get_json(&s, version, &doc), json!({"a": 1, "b": 2}));
        let unregistered = url(Resource::State, &with(&context, "stateId", "s"));
        assert_eq!(
            get(&s, version, &unregistered).status(),
            404,
            "GET {unregistered}: the document belongs to its registration"
        );
        let list = url(Resource::State, &registered);
        assert_eq!(listed(&s, version, &list), vec!["s".to_string()]);
    }
}

#[test]
fn the_agents_resource_answers_a_person_whose_properties_are_arrays() {
    // XAPI-00238 (name), 00240 (mbox_sha1sum), 00241 (openid), 00242 (account), 00246
    // (every attribute is an array), 00248. Communication 2.4, Person Properties: each
    // property is an array whose members have "the same definition as the similarly named
    // property from Agent Objects"; no other properties.
    let s = Server::in_process(XLRS);
    let u = unique();
    let agents = [
        json!({"objectType": "Agent", "name": "Ada", "mbox": format!("mailto:ada-{u}@example.org")}),
        json!({"name": "Bea", "mbox_sha1sum": format!("{:0>40}", &u[..16])}),
        json!({"openid": format!("http://example.org/openid/{u}")}),
        json!({"name": "Cy", "account": {"homePage": "http://example.org", "name": format!("cy-{u}")}}),
    ];
    for version in VERSIONS {
        for agent in &agents {
            let mut st = statement();
            st["actor"] = agent.clone();
            let stored = s
                .xapi_version(Method::POST, "/statements", version)
                .json(&st)
                .send()
                .expect("POST statement");
            assert_eq!(stored.status(), 200, "the statement by {agent} is stored");
            let url = format!("/agents?agent={}", enc(&agent.to_string()));
            let person = get_json(&s, version, &url);
            let person = person.as_object().expect("a Person object");
            assert_eq!(person["objectType"], "Person", "GET {url}");
            for (key, value) in person.iter().filter(|(k, _)| *k != "objectType") {
                assert!(
                    ["name", "mbox", "mbox_sha1sum", "openid", "account"].contains(&key.as_str()),
                    "GET {url}: `{key}` is not a Person property"
                );
                let members = value
                    .as_array()
                    .unwrap_or_else(|| panic!("GET {url}: `{key}` is not an array"));
                for member in members {
                    if key == "account" {
                        assert!(
                            member["homePage"].is_string() && member["name"].is_string(),
                            "GET {url}: an account is a complete Account object: {member}"
                        );
                    } else {
                        assert!(member.is_string(), "GET {url}: `{key}` holds {member}");
                    }
                }
            }
            for (key, value) in agent.as_object().unwrap() {
                if key != "objectType" {
                    assert!(
                        person[key].as_array().is_some_and(|a| a.contains(value)),
                        "GET {url}: the Person's `{key}` holds the agent's {value}"
                    );
                }
            }
        }
    }
}

#[test]
fn the_agents_resource_answers_a_person_for_an_agent_it_has_never_seen() {
    // XAPI-00247. Communication 2.4: "If an LRS does not have any additional information about
    // an Agent to return, the LRS MUST still return a Person Object when queried, but that
    // Person Object will only include the information associated with the requested Agent."
    let s = Server::in_process(XLRS);
    let u = unique();
    let cases = [
        (
            json!({"mbox": format!("mailto:never-{u}@example.org")}),
            json!({"objectType": "Person", "mbox": [format!("mailto:never-{u}@example.org")]}),
        ),
        (
            json!({"objectType": "Agent", "account": {"homePage": "http://example.org", "name": u}}),
            json!({"objectType": "Person", "account": [{"homePage": "http://example.org", "name": u}]}),
        ),
    ];
    for version in VERSIONS {
        for (agent, person) in &cases {
            let url = format!("/agents?agent={}", enc(&agent.to_string()));
            assert_eq!(
                &get_json(&s, version, &url),
                person,
                "GET {url} ({version})"
            );
        }
    }
}

#[test]
fn every_document_get_answers_an_etag_enclosed_in_quotes() {
    // xAPI 2.0 U-01 (Communication 3.1): "an LRS responding to a GET request MUST enclose the
    // header in quotes"; it changes with the document.
    let s = Server::in_process(XLRS);
    for resource in RESOURCES {
        let doc = url(resource, &resource.document("tagged"));
        assert_eq!(put_json(&s, "2.0.0", &doc, &json!({"a": 1})).status(), 204);
        let etag = header(&get(&s, "2.0.0", &doc), "etag");
        let opaque = etag.strip_prefix("W/").unwrap_or(&etag);
        assert!(
            opaque.len() >= 3 && opaque.starts_with('"') && opaque.ends_with('"'),
            "GET {doc}: ETag {etag} is not a quoted string"
        );
        let head = s.xapi(Method::HEAD, &doc).send().expect("HEAD");
        assert_eq!(header(&head, "etag"), etag, "HEAD {doc} has the same ETag");
        assert_eq!(post_json(&s, "2.0.0", &doc, &json!({"b": 2})).status(), 204);
        assert_ne!(
            header(&get(&s, "2.0.0", &doc), "etag"),
            etag,
            "GET {doc}: the ETag changes with the document"
        );
    }
}

#[test]
fn a_put_with_a_failed_precondition_changes_neither_the_document_nor_its_etag() {
    // xAPI 2.0 U-02 (Communication 3.1): "If the header precondition in either of the PUT
    // request cases above fails, the LRS: MUST return HTTP status 412 Precondition Failed. MUST
    // NOT make a modification to the resource." The right If-Match is accepted.
    let s = Server::in_process(XLRS);
    for resource in RESOURCES {
        let doc = url(resource, &resource.document("guarded"));
        assert_eq!(put_json(&s, "2.0.0", &doc, &json!({"v": 1})).status(), 204);
        let before = snapshot(&s, &doc);
        let put = |condition: (&str, &str), body: Value| {
            s.xapi(Method::PUT, &doc)
                .header(condition.0, condition.1)
                .json(&body)
                .send()
                .expect("PUT")
        };
        for condition in [
            ("If-Match", "\"0000000000000000000000000000000000000000\""),
            ("If-Match", "\"1234\""),
            ("If-None-Match", "*"),
        ] {
            let r = put(condition, json!({"v": 2}));
            assert_eq!(r.status(), 412, "PUT {doc} with {condition:?}");
            assert_eq!(
                snapshot(&s, &doc),
                before,
                "GET {doc}: body and ETag unchanged after {condition:?}"
            );
        }
        assert_eq!(
            put(("If-Match", before.2.as_str()), json!({"v": 3})).status(),
            204,
            "PUT {doc} with the current ETag"
        );
        let after = snapshot(&s, &doc);
        assert_eq!(after.0, json!({"v": 3}).to_string());
        assert_ne!(after.2, before.2, "GET {doc}: a new ETag for the new body");
    }
}

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

#[test]
fn every_document_get_carries_a_last_modified_that_follows_its_updates() {
    // xAPI 2.0 U-06 (Communication 2.2, Last Modified): "When returning a single document, the
    // LRS SHOULD* include a "Last-Modified" header indicating when the document was last
    // modified", and for multiple documents, "when the most recently modified document was
    // last modified". An HTTP date counts whole seconds, so each value is checked against the
    // seconds its write took, and the update is made in a later second than the first write.
    let s = Server::in_process(XLRS);
    let last_modified =
        |url: &str| http_date_seconds(&header(&get(&s, "2.0.0", url), "last-modified"));
    let mut written = Vec::new();
    for resource in RESOURCES {
        let context = resource.context();
        let doc = |id: &str| url(resource, &with(&context, resource.id_name(), id));
        let start = now_seconds();
        for id in ["older", "newer"] {
            assert_eq!(
                put_json(&s, "2.0.0", &doc(id), &json!({"v": 1})).status(),
                204
            );
        }
        let end = now_seconds();
        let first = last_modified(&doc("newer"));
        assert!(
            (start..=end).contains(&first),
            "GET {}: Last-Modified {first} is not within the write ({start}..={end})",
            doc("newer")
        );
        written.push((resource, context, first));
    }
    // Into the next whole second, so that an update cannot share the first write's second.
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    std::thread::sleep(Duration::from_millis(1020 - u64::from(now.subsec_millis())));
    for (resource, context, first) in written {
        let doc = |id: &str| url(resource, &with(&context, resource.id_name(), id));
        let start = now_seconds();
        assert_eq!(
            post_json(&s, "2.0.0", &doc("newer"), &json!({"v": 2})).status(),
            204
        );
        let end = now_seconds();
        let updated = last_modified(&doc("newer"));
        assert!(
            (start..=end).contains(&updated) && updated > first,
            "GET {}: Last-Modified {updated} does not follow the update ({start}..={end}, was {first})",
            doc("newer")
        );
        assert!(
            last_modified(&doc("older")) <= first,
            "GET {}: an untouched document keeps its Last-Modified",
            doc("older")
        );
        let list = url(resource, &context);
        assert_eq!(
            last_modified(&list),
            updated,
            "GET {list}: the list carries its most recent document's Last-Modified"
        );
    }
}

#[test]
fn activity_iris_are_compared_as_simple_strings() {
    // xAPI 2.0 U-13 (Data 4.2.7): "When storing or comparing IRIs, LRSs shall handle them only
    // by using one or more of the approaches described in 5.3.1 (Simple String Comparison) and
    // 5.3.2 (Syntax-Based Normalization) of RFC 3987". xlrs compares by simple string: an
    // activity stored with a dot-segment is found under exactly that IRI, and the normalised
    // IRI is another activity, one it knows no definition of.
    let s = Server::in_process(XLRS);
    let u = unique();
    let as_sent = format!("http://example.org/path/../{u}");
    let normalised = format!("http://example.org/{u}");
    let mut st = statement();
    st["object"] = json!({"id": as_sent, "definition": {"name": {"en-US": "Dotted"}}});
    assert_eq!(s.post(&st).status(), 200);

    let url = format!("/activities?activityId={}", enc(&as_sent));
    let activity = get_json(&s, "2.0.0", &url);
    assert_eq!(
        activity["id"],
        json!(as_sent),
        "GET {url}: the IRI as stored"
    );
    assert_eq!(
        activity["definition"]["name"]["en-US"], "Dotted",
        "GET {url}"
    );

    let url = format!("/activities?activityId={}", enc(&normalised));
    let other = get_json(&s, "2.0.0", &url);
    assert_eq!(
        other,
        json!({"objectType": "Activity", "id": normalised}),
        "GET {url}: another IRI, so another activity"
    );

    let found = s.query(&format!("activity={}", enc(&as_sent)));
    assert_eq!(found["statements"].as_array().map(Vec::len), Some(1));
    let not_found = s.query(&format!("activity={}", enc(&normalised)));
    assert_eq!(not_found["statements"], json!([]));
}

#[test]
fn a_document_etag_is_the_sha1_of_its_contents_in_lowercase_hexadecimal() {
    // Communication 3.1, LRS requirements: "An LRS responding to a GET request … MUST calculate
    // the value of the ETag header to be a hexadecimal string of the SHA-1 digest of the
    // contents. This hexadecimal string SHOULD be rendered using numbers and lowercase
    // characters only."
    use sha1::{Digest, Sha1};
    let s = Server::in_process(XLRS);
    let bodies: [(&str, &[u8]); 2] = [
        ("application/json", br#"{"page": 3, "seen": true}"#),
        ("application/octet-stream", &[0, 159, 146, 150, 255]),
    ];
    for resource in RESOURCES {
        for (content_type, body) in bodies {
            let doc = url(resource, &resource.document("d"));
            let put = s
                .xapi(Method::PUT, &doc)
                .header("If-None-Match", "*")
                .header("Content-Type", content_type)
                .body(body.to_vec())
                .send()
                .expect("PUT");
            assert_eq!(put.status(), 204, "PUT {doc}");
            let expected = format!("\"{}\"", hex::encode(Sha1::digest(body)));
            assert_eq!(
                header(&get(&s, "2.0.0", &doc), "etag"),
                expected,
                "GET {doc}"
            );
        }
    }
}

#[test]
fn the_agent_parameter_is_an_agent_and_never_a_group() {
    // Communication 2.3, 2.4 and 2.6: "The "agent" parameter is an Agent Object and not a
    // Group. Learning Record Providers wishing to store data against an Identified Group can
    // use the Identified Group's identifier within an Agent Object." The Agents resource: "It
    // is not a Person Object, nor is it a Group."
    let s = Server::in_process(XLRS);
    let mbox = format!("mailto:team-{}@example.org", unique());
    let group = json!({"objectType": "Group", "mbox": mbox}).to_string();
    let as_agent = json!({"objectType": "Agent", "mbox": mbox}).to_string();
    for version in VERSIONS {
        for resource in [Resource::State, Resource::AgentProfile] {
            for method in &METHODS {
                let document = resource.document(&format!("d-{version}"));
                let accepted = url(resource, &with(&document, "agent", &as_agent));
                assert_accepted(&s, version, method, &accepted);
                let refused = url(resource, &with(&document, "agent", &group));
                assert_refused(
                    call(&s, version, method, &refused),
                    method,
                    &refused,
                    version,
                );
            }
        }
        let person = get(&s, version, &format!("/agents?agent={}", enc(&as_agent)));
        assert_eq!(
            person.status(),
            200,
            "GET /agents with the Agent ({version})"
        );
        let path = format!("/agents?agent={}", enc(&group));
        assert_refused(get(&s, version, &path), &Method::GET, &path, version);
    }
}

#[test]
fn a_state_delete_takes_no_since_and_deletes_nothing_when_given_one() {
    // XAPI-00205 (Communication 2.3: the multiple-document DELETE takes activityId, agent and
    // registration only, and 3.2: an unrecognized parameter is a 400): "since", well formed or
    // not, is refused and every document stays.
    let s = Server::in_process(XLRS);
    let context = Resource::State.context();
    let doc = url(Resource::State, &with(&context, "stateId", "kept"));
    assert_eq!(put_json(&s, "2.0.0", &doc, &json!({"a": 1})).status(), 204);
    for version in VERSIONS {
        for since in ["2000-01-01T00:00:00Z", "yesterday"] {
            let delete = url(Resource::State, &with(&context, "since", since));
            let r = call(&s, version, &Method::DELETE, &delete);
            assert_refused(r, &Method::DELETE, &delete, version);
        }
    }
    assert_eq!(get(&s, "2.0.0", &doc).status(), 200, "nothing deleted");
}
