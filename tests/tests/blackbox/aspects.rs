//! What an Open edX Aspects site that used Ralph expects of its LRS beyond the statements:
//! paths with a trailing slash, Ralph's heartbeats, Ralph's credentials file with the same
//! passwords, and — only when the operator opts in — a version assumed for requests without
//! the header xAPI requires.

use std::path::Path;

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{statement, Server, ADMIN_PASSWORD};

use crate::XLRS;

#[test]
fn a_resource_path_with_a_trailing_slash_answers_as_without_it() {
    let s = Server::in_process(XLRS);
    let r = s
        .xapi(Method::POST, "/statements/")
        .json(&statement())
        .send()
        .expect("POST");
    assert_eq!(r.status(), 200);
    let ids: Vec<String> = r.json().expect("ids");
    let r = s
        .xapi(Method::GET, &format!("/statements/?statementId={}", ids[0]))
        .send()
        .expect("GET");
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().expect("JSON")["id"], ids[0].as_str());
    assert_eq!(
        s.raw(Method::GET, "/xAPI/about/")
            .send()
            .expect("about")
            .status(),
        200
    );
    let state = s
        .xapi(
            Method::GET,
            "/activities/state/?activityId=http%3A%2F%2Fexample.org%2Fa&agent=%7B%22mbox%22%3A%22mailto%3Aa%40example.org%22%7D",
        )
        .send()
        .expect("GET state");
    assert_eq!(state.status(), 200, "a list of no documents");
}

#[test]
fn ralphs_heartbeats_answer_without_credentials() {
    let s = Server::in_process(XLRS);
    let lb = s.raw(Method::GET, "/__lbheartbeat__").send().expect("lb");
    assert_eq!(lb.status(), 200);
    let hb = s
        .raw(Method::GET, "/__heartbeat__")
        .send()
        .expect("heartbeat");
    assert_eq!(hb.status(), 200);
    assert_eq!(hb.json::<Value>().expect("JSON"), json!({"database": "ok"}));
}

#[test]
fn a_request_without_a_version_header_is_refused_unless_the_operator_assumes_one() {
    let strict = Server::in_process(XLRS);
    let post = |s: &Server| {
        s.raw(Method::POST, "/xAPI/statements")
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .json(&statement())
            .send()
            .expect("POST")
    };
    assert_eq!(post(&strict).status(), 400);
    let lenient = Server::in_process_with(XLRS, &[("XLRS_ASSUME_XAPI_VERSION", "1.0.3")]);
    let r = post(&lenient);
    assert_eq!(r.status(), 200);
    assert_eq!(xlrs_tests::header(&r, "X-Experience-API-Version"), "1.0.3");
}

#[test]
fn an_assumed_version_that_is_not_served_stops_start_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = std::process::Command::new(XLRS)
        .arg("serve")
        .env("XLRS_DATA_DIR", dir.path())
        .env("XLRS_XAPI_VERSIONS", "2.0.0")
        .env("XLRS_ASSUME_XAPI_VERSION", "1.0.3")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("assume_xapi_version"));
}

#[test]
fn users_of_ralphs_auth_json_sign_in_with_their_ralph_passwords_and_scopes() {
    let s = Server::in_process(XLRS);
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/ralph/auth.json");
    let out = s.cli(&[
        "auth",
        "import",
        "--restrict-by-scopes",
        file.to_str().expect("a path"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("target"),
        "the Ralph feature left behind is named"
    );
    let as_user = |user: &str, password: &str, method: Method, path: &str| {
        s.raw(method, &format!("/xAPI{path}"))
            .basic_auth(user, Some(password))
            .header("X-Experience-API-Version", "1.0.3")
    };
    // erb: statements/write and statements/read/mine, authority its mbox.
    let r = as_user("erb", "erb-password", Method::POST, "/statements")
        .json(&statement())
        .send()
        .expect("POST");
    assert_eq!(r.status(), 200);
    let id = r.json::<Vec<String>>().expect("ids").remove(0);
    let mine = as_user(
        "erb",
        "erb-password",
        Method::GET,
        &format!("/statements?statementId={id}"),
    )
    .send()
    .expect("GET");
    assert_eq!(mine.status(), 200);
    assert_eq!(
        mine.json::<Value>().expect("JSON")["authority"]["mbox"],
        "mailto:erb@example.org"
    );
    assert_eq!(
        as_user("erb", "wrong", Method::GET, "/statements")
            .send()
            .expect("GET")
            .status(),
        401
    );
    // aspects: all/read (and state/write): reads everything, writes no statement.
    let reads = as_user("aspects", "aspects-password", Method::GET, "/statements")
        .send()
        .expect("GET");
    assert_eq!(reads.status(), 200);
    let writes = as_user("aspects", "aspects-password", Method::POST, "/statements")
        .json(&statement())
        .send()
        .expect("POST");
    assert_eq!(writes.status(), 403);
}

#[test]
fn without_ralphs_scope_restriction_imported_users_may_do_everything_as_in_ralph() {
    let s = Server::in_process(XLRS);
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/ralph/auth.json");
    let out = s.cli(&["auth", "import", file.to_str().expect("a path")]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = s
        .raw(Method::POST, "/xAPI/statements")
        .basic_auth("aspects", Some("aspects-password"))
        .header("X-Experience-API-Version", "1.0.3")
        .json(&statement())
        .send()
        .expect("POST");
    assert_eq!(
        r.status(),
        200,
        "Ralph let every user write when scopes were not restricted"
    );
}
