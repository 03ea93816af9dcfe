//! The parameters, merges and headers of the State, Activity Profile, Agent Profile and Agents
//! resources, method by method, as the conformance suite checks them (docs/conformance-map.md).
//!
//! Most tests are tables: one rule, every document resource, every method (and both versions
//! where the rule is the same in 1.0.3 and 2.0). A failing case names its method and URL.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::Response;
use xlrs_tests::{enc, header, http_date_seconds, statement, unique, Server};

use crate::XLRS;

/// The versions whose document resources take the same parameters.
const VERSIONS: [&str; 2] = ["2.0.0", "1.0.3"];

const METHODS: [Method; 4] = [Method::GET, Method::PUT, Method::POST, Method::DELETE];

/// The three document resources (Communication 2.3, 2.6, 2.7).
#[derive(Clone, Copy, Debug, PartialEq)]
enum Resource {
    State,
    ActivityProfile,
    AgentProfile,
}

const RESOURCES: [Resource; 3] = [
    Resource::State,
    Resource::ActivityProfile,
    Resource::AgentProfile,
];

/// Query parameters, values not yet encoded.
type Params = Vec<(&'static str, String)>;

impl Resource {
    fn path(self) -> &'static str {
        match self {
            Resource::State => "/activities/state",
            Resource::ActivityProfile => "/activities/profile",
            Resource::AgentProfile => "/agents/profile",
        }
    }

    /// `stateId` or `profileId`.
    fn id_name(self) -> &'static str {
        match self {
            Resource::State => "stateId",
            _ => "profileId",
        }
    }

    /// The parameters naming a fresh context (activity, agent or both), without a document id.
    fn context(self) -> Params {
        match self {
            Resource::State => vec![("activityId", activity_iri()), ("agent", agent_json())],
            Resource::ActivityProfile => vec![("activityId", activity_iri())],
            Resource::AgentProfile => vec![("agent", agent_json())],
        }
    }

    /// The parameters of the document `id` in a fresh context.
    fn document(self, id: &str) -> Params {
        with(&self.context(), self.id_name(), id)
    }

    /// The parameters a request with `method` must carry: the context, and the document id
    /// except for a GET (which then lists ids) and a State DELETE (which then deletes them all).
    fn required(self, method: &Method) -> Vec<&'static str> {
        let mut names: Vec<&'static str> = self.context().iter().map(|(n, _)| *n).collect();
        let id_optional =
            *method == Method::GET || (*method == Method::DELETE && self == Resource::State);
        if !id_optional {
            names.push(self.id_name());
        }
        names
    }
}

fn activity_iri() -> String {
    format!("http://example.org/activity/{}", unique())
}

fn agent_json() -> String {
    json!({"objectType": "Agent", "mbox": format!("mailto:{}@example.org", unique())}).to_string()
}

/// `params` with `name` set to `value` (replaced if present, appended otherwise).
fn with(params: &Params, name: &'static str, value: &str) -> Params {
    let mut out: Params = params.iter().filter(|(n, _)| *n != name).cloned().collect();
    out.push((name, value.to_string()));
    out
}

/// `params` without `name`.
fn without(params: &Params, name: &str) -> Params {
    params.iter().filter(|(n, _)| *n != name).cloned().collect()
}

/// The URL of a resource with its query, every value percent-encoded.
fn url(resource: Resource, params: &Params) -> String {
    let query: Vec<String> = params
        .iter()
        .map(|(n, v)| format!("{n}={}", enc(v)))
        .collect();
    format!("{}?{}", resource.path(), query.join("&"))
}

/// A well-formed request but for what the test changed: PUT and POST send a JSON object (PUT
/// with `If-None-Match: *`, which every version accepts for a new document), GET and DELETE
/// send nothing.
fn call(s: &Server, version: &str, method: &Method, url: &str) -> Response {
    let request = s.xapi_version(method.clone(), url, version);
    let request = match *method {
        Method::PUT => request.header("If-None-Match", "*").json(&json!({"a": 1})),
        Method::POST => request.json(&json!({"a": 1})),
        _ => request,
    };
    request.send().expect("request")
}

fn put_json(s: &Server, version: &str, url: &str, body: &Value) -> Response {
    s.xapi_version(Method::PUT, url, version)
        .header("If-None-Match", "*")
        .json(body)
        .send()
        .expect("PUT")
}

fn post_json(s: &Server, version: &str, url: &str, body: &Value) -> Response {
    s.xapi_version(Method::POST, url, version)
        .json(body)
        .send()
        .expect("POST")
}

fn post_raw(s: &Server, version: &str, url: &str, content_type: &str, body: &str) -> Response {
    s.xapi_version(Method::POST, url, version)
        .header("Content-Type", content_type)
        .body(body.to_string())
        .send()
        .expect("POST")
}

fn get(s: &Server, version: &str, url: &str) -> Response {
    s.xapi_version(Method::GET, url, version)
        .send()
        .expect("GET")
}

/// The JSON of a 200 answer to GET `url`.
fn get_json(s: &Server, version: &str, url: &str) -> Value {
    let r = get(s, version, url);
    assert_eq!(r.status(), 200, "GET {url} ({version})");
    r.json().expect("JSON")
}

/// The ids a GET without document id lists, sorted.
fn listed(s: &Server, version: &str, url: &str) -> Vec<String> {
    let mut ids: Vec<String> =
        serde_json::from_value(get_json(s, version, url)).expect("an array of ids");
    ids.sort();
    ids
}

/// Asserts that the well-formed request a refusal case departs from is accepted (a GET of a
/// document never written is a 404), so that the refusal is due to the one change.
fn assert_accepted(s: &Server, version: &str, method: &Method, url: &str) {
    let status = call(s, version, method, url).status();
    assert!(
        status.is_success() || (*method == Method::GET && status == 404),
        "{method} {url} ({version}) is well formed, yet answered {status}"
    );
}

/// Asserts a 400 for `method url`, naming both if it is not.
fn assert_refused(r: Response, method: &Method, url: &str, version: &str) {
    assert_eq!(
        r.status(),
        400,
        "{method} {url} ({version}) must be refused"
    );
}

/// Asserts, at both versions and with every method, that a document of each of `resources`
/// is accepted as well formed and refused with 400 once `name` is set to any of `bad`.
fn assert_every_method_refuses(
    s: &Server,
    resources: &[Resource],
    name: &'static str,
    bad: &[&str],
) {
    for version in VERSIONS {
        for &resource in resources {
            for method in &METHODS {
                let document = resource.document("d");
                assert_accepted(s, version, method, &url(resource, &document));
                for value in bad {
                    let url = url(resource, &with(&document, name, value));
                    assert_refused(call(s, version, method, &url), method, &url, version);
                }
            }
        }
    }
}

#[test]
fn every_document_resource_refuses_an_agent_that_is_not_an_agent_object() {
    // XAPI-00196, 00197, 00198, 00199 (State DELETE, GET, POST, PUT) and XAPI-00255, 00256,
    // 00257, 00258 (Agent Profile DELETE, POST, PUT, GET): "agent" is an Agent Object (JSON);
    // anything else is an invalid argument, 400. XAPI-00284 as the suite sends it: an agent
    // whose JSON encoding is broken.
    let s = Server::in_process(XLRS);
    let not_agents = [
        "not JSON".to_string(),
        r#"{"objectType":"Agent","account":{"homePage":"http://example.org","name":"x"}"#
            .to_string(),
        "true".to_string(),
        "1".to_string(),
        r#"{"key":"value"}"#.to_string(),
        r#"{"name":"no identifier"}"#.to_string(),
        r#"{"mbox":"ada@example.org"}"#.to_string(),
        r#"{"mbox":["mailto:ada@example.org"]}"#.to_string(),
        json!({"mbox": "mailto:ada@example.org", "openid": "http://example.org/ada"}).to_string(),
    ];
    let not_agents: Vec<&str> = not_agents.iter().map(String::as_str).collect();
    assert_every_method_refuses(
        &s,
        &[Resource::State, Resource::AgentProfile],
        "agent",
        &not_agents,
    );
}

#[test]
fn every_document_resource_refuses_an_activity_id_that_is_not_an_iri() {
    // Communication 2.3 and 2.7: "activityId" is an Activity id (IRI); the values the
    // Parameters folder sends for a "non-string" activityId (1, true, a JSON object) are not
    // IRIs, so the request is refused with 400 on every method.
    let s = Server::in_process(XLRS);
    assert_every_method_refuses(
        &s,
        &[Resource::State, Resource::ActivityProfile],
        "activityId",
        &["1", "true", r#"{"key":"value"}"#, "not an iri", ""],
    );
}

#[test]
fn the_state_resource_refuses_a_registration_that_is_not_a_uuid() {
    // XAPI-00200, 00201, 00202, 00203: State DELETE, GET, POST, PUT with a "registration"
    // that is not a UUID → 400.
    let s = Server::in_process(XLRS);
    let registration = uuid::Uuid::new_v4().to_string();
    for version in VERSIONS {
        for method in &METHODS {
            let params = with(
                &Resource::State.document("d"),
                "registration",
                &registration,
            );
            assert_accepted(&s, version, method, &url(Resource::State, &params));
        }
    }
    assert_every_method_refuses(
        &s,
        &[Resource::State],
        "registration",
        &[
            "nope",
            "true",
            "1",
            "0000-0000",
            "6a1b2c3d-0000-0000-0000-00000000000g",
        ],
    );
}

#[test]
fn every_id_list_refuses_a_since_that_is_not_a_timestamp() {
    // XAPI-00204 (State), 00260 (Agent Profile), 00295 (Activity Profile): a multiple-document
    // GET whose "since" is not a Timestamp → 400.
    let s = Server::in_process(XLRS);
    for version in VERSIONS {
        for resource in RESOURCES {
            let since = with(&resource.context(), "since", "2020-01-01T00:00:00Z");
            assert_accepted(&s, version, &Method::GET, &url(resource, &since));
            for bad in ["yesterday", "true", "2024-13-45T00:00:00Z", "12:00:00"] {
                let url = url(resource, &with(&resource.context(), "since", bad));
                assert_refused(get(&s, version, &url), &Method::GET, &url, version);
            }
        }
    }
}

#[test]
fn every_document_resource_refuses_a_request_without_a_required_parameter() {
    // State: without activityId XAPI-00207 (DELETE), 00208 (GET), 00209 (POST), 00210 (PUT);
    // without agent 00212 (DELETE), 00213 (GET), 00214 (POST), 00215 (PUT); without stateId
    // 00206 (PUT), 00211 (POST).
    // Agent Profile: without agent 00261 (GET), 00262 (DELETE), 00263 (POST), 00264 (PUT);
    // without profileId 00265 (DELETE), 00266 (POST), 00267 (PUT).
    // Activity Profile: without activityId 00296 (GET), 00297 (DELETE), 00298 (POST),
    // 00299 (PUT); without profileId 00300 (DELETE), 00301 (POST), 00302 (PUT).
    // Only a GET (any resource) and a State DELETE may leave the document id out.
    let s = Server::in_process(XLRS);
    for version in VERSIONS {
        for resource in RESOURCES {
            for method in &METHODS {
                assert_accepted(&s, version, method, &url(resource, &resource.document("d")));
                for missing in resource.required(method) {
                    let params = without(&resource.document("d"), missing);
                    let url = url(resource, &params);
                    assert_refused(call(&s, version, method, &url), method, &url, version);
                }
            }
        }
    }
}

#[test]
fn every_document_resource_refuses_a_parameter_it_does_not_define() {
    // Communication 3.2: "The LRS MUST reject with 400 Bad Request status any requests that use
    // any parameters which the LRS does not recognize in their intended context", and "…any
    // parameters matching parameters described in this specification in all but case".
    // XAPI-00304 as the suite reads it (Activity Profile takes no "agent"), and what the
    // Parameters folder sends for XAPI-00306/00307 (an "agent" on an Activity Profile request).
    let s = Server::in_process(XLRS);
    let agent = agent_json();
    let activity = activity_iri();
    let registration = uuid::Uuid::new_v4().to_string();
    for version in VERSIONS {
        for resource in RESOURCES {
            let foreign: Vec<(&'static str, &str)> = match resource {
                Resource::State => vec![("profileId", "p"), ("foo", "bar")],
                Resource::ActivityProfile => vec![
                    ("agent", agent.as_str()),
                    ("stateId", "s"),
                    ("registration", registration.as_str()),
                ],
                Resource::AgentProfile => vec![
                    ("activityId", activity.as_str()),
                    ("stateId", "s"),
                    ("registration", registration.as_str()),
                ],
            };
            for method in &METHODS {
                let document = resource.document("d");
                assert_accepted(&s, version, method, &url(resource, &document));
                let mut cases: Vec<Params> = foreign
                    .iter()
                    .map(|(name, value)| with(&document, name, value))
                    .collect();
                // The same parameters, one of them spelt with other capitals.
                for (name, value) in &document {
                    let mut renamed = without(&document, name);
                    let upper: &'static str = match *name {
                        "activityId" => "activityID",
                        "agent" => "Agent",
                        "stateId" => "StateId",
                        _ => "ProfileID",
                    };
                    renamed.push((upper, value.clone()));
                    cases.push(renamed);
                }
                for params in cases {
                    let url = url(resource, &params);
                    assert_refused(call(&s, version, method, &url), method, &url, version);
                }
            }
        }
        // The Agents and Activities resources take one parameter each.
        for url in [
            format!("/agents?agent={}&profileId=p", enc(&agent)),
            format!("/agents?Agent={}", enc(&agent)),
            format!(
                "/activities?activityId={}&agent={}",
                enc(&activity),
                enc(&agent)
            ),
            format!("/activities?activityID={}", enc(&activity)),
        ] {
            assert_refused(get(&s, version, &url), &Method::GET, &url, version);
        }
    }
}

#[test]
fn a_document_id_is_any_string_even_one_that_looks_like_a_number_or_json() {
    // XAPI-00224-00228, 00276, 00277, 00305-00307 (Parameters folder): stateId and profileId
    // are of type String. A query string carries only strings, so the values that folder sends
    // as "non-string" ids (1, true, {"key":"value"} URL-encoded) are ordinary string ids:
    // stored, read, listed and deleted under exactly that text.
    let s = Server::in_process(XLRS);
    let ids = ["1", "true", r#"{"key":"value"}"#, "état / ?&=#+ ünïcode"];
    for resource in RESOURCES {
        let context = resource.context();
        for id in ids {
            let doc = url(resource, &with(&context, resource.id_name(), id));
            let put = put_json(&s, "2.0.0", &doc, &json!({"id": id}));
            assert_eq!(put.status(), 204, "PUT {doc}");
            let post = post_json(&s, "2.0.0", &doc, &json!({"posted": true}));
            assert_eq!(post.status(), 204, "POST {doc}");
            assert_eq!(
                get_json(&s, "2.0.0", &doc),
                json!({"id": id, "posted": true}),
                "GET {doc}"
            );
        }
        let list = url(resource, &context);
        let mut expected: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
        expected.sort();
        assert_eq!(listed(&s, "2.0.0", &list), expected, "GET {list}");
        let first = url(resource, &with(&context, resource.id_name(), ids[2]));
        let delete = s.xapi(Method::DELETE, &first).send().expect("DELETE");
        assert_eq!(delete.status(), 204, "DELETE {first}");
        assert_eq!(get(&s, "2.0.0", &first).status(), 404, "GET {first}");
    }
}

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
