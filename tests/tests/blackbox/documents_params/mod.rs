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

mod contents;

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
