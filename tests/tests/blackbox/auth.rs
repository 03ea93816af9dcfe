//! HTTP Basic authentication and xAPI scopes.

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{basic, statement, Server};

use crate::XLRS;

fn add(s: &Server, user: &str, scopes: &[&str], agent: Option<&str>) {
    let mut args = vec![
        "auth",
        "add",
        "--username",
        user,
        "--password",
        "pass-word-1",
    ];
    for scope in scopes {
        args.extend(["--scope", scope]);
    }
    if let Some(a) = agent {
        args.extend(["--agent", a]);
    }
    let out = s.cli(&args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn as_user(s: &Server, method: Method, path: &str, user: &str) -> xlrs_tests::RequestBuilder {
    s.raw(method, &format!("/xAPI{path}"))
        .header("Authorization", basic(user, "pass-word-1"))
        .header("X-Experience-API-Version", "2.0.0")
}

#[test]
fn a_request_without_credentials_is_401_with_a_basic_challenge() {
    let s = Server::in_process(XLRS);
    let r = s
        .raw(Method::GET, "/xAPI/statements")
        .header("X-Experience-API-Version", "2.0.0")
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    let body: Value = r.json().unwrap();
    assert_eq!(body["error"], "unauthorized");
}

#[test]
fn a_wrong_password_is_401() {
    let s = Server::in_process(XLRS);
    let r = s
        .raw(Method::GET, "/xAPI/statements")
        .header("Authorization", basic("admin", "wrong"))
        .header("X-Experience-API-Version", "2.0.0")
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
}

#[test]
fn a_credential_without_the_scope_is_403() {
    let s = Server::in_process(XLRS);
    add(&s, "reader", &["statements/read"], None);
    let r = as_user(&s, Method::POST, "/statements", "reader")
        .json(&statement())
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = as_user(&s, Method::GET, "/statements", "reader")
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
    add(&s, "writer", &["statements/write"], None);
    let r = as_user(&s, Method::GET, "/statements", "writer")
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
}

#[test]
fn all_read_reads_but_does_not_write() {
    let s = Server::in_process(XLRS);
    add(&s, "auditor", &["all/read"], None);
    assert_eq!(
        as_user(&s, Method::GET, "/statements", "auditor")
            .send()
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        as_user(&s, Method::POST, "/statements", "auditor")
            .json(&statement())
            .send()
            .unwrap()
            .status(),
        403
    );
}

#[test]
fn the_authority_is_taken_from_the_credential_not_the_client() {
    let s = Server::in_process(XLRS);
    let agent = r#"{"objectType":"Agent","name":"LMS","mbox":"mailto:lms@example.org"}"#;
    add(
        &s,
        "lms",
        &["statements/write", "statements/read"],
        Some(agent),
    );
    let mut st = statement();
    st["authority"] = json!({"mbox": "mailto:forged@example.org"});
    let ids: Value = as_user(&s, Method::POST, "/statements", "lms")
        .json(&st)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let got: Value = s.get_statement(ids[0].as_str().unwrap()).json().unwrap();
    assert_eq!(got["authority"]["mbox"], "mailto:lms@example.org");
}

#[test]
fn read_mine_sees_only_statements_of_its_own_authority() {
    let s = Server::in_process(XLRS);
    add(
        &s,
        "mine",
        &["statements/write", "statements/read/mine"],
        None,
    );
    let theirs: Value = s.post(&statement()).json().unwrap();
    let ours: Value = as_user(&s, Method::POST, "/statements", "mine")
        .json(&statement())
        .send()
        .unwrap()
        .json()
        .unwrap();
    let page: Value = as_user(&s, Method::GET, "/statements", "mine")
        .send()
        .unwrap()
        .json()
        .unwrap();
    let ids: Vec<&str> = page["statements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![ours[0].as_str().unwrap()]);
    let r = as_user(
        &s,
        Method::GET,
        &format!("/statements?statementId={}", theirs[0].as_str().unwrap()),
        "mine",
    )
    .send()
    .unwrap();
    assert_eq!(r.status(), 404);
}

#[test]
fn a_credential_added_while_running_works_at_once() {
    let s = Server::in_process(XLRS);
    add(&s, "late", &["all"], None);
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert_eq!(
        as_user(&s, Method::GET, "/statements", "late")
            .send()
            .unwrap()
            .status(),
        200
    );
    let out = s.cli(&["auth", "remove", "--username", "late"]);
    assert!(out.status.success());
    std::thread::sleep(std::time::Duration::from_millis(400));
    assert_eq!(
        as_user(&s, Method::GET, "/statements", "late")
            .send()
            .unwrap()
            .status(),
        401
    );
}

#[test]
fn every_resource_checks_the_scope_it_needs_for_every_scope() {
    let s = Server::in_process(XLRS);
    let scopes = [
        "statements/write",
        "statements/read",
        "statements/read/mine",
        "state",
        "define",
        "profile",
        "all/read",
        "all",
    ];
    for scope in scopes {
        add(
            &s,
            &format!("u-{}", scope.replace('/', "-")),
            &[scope],
            None,
        );
    }
    let activity = xlrs_tests::enc("http://example.org/scoped");
    let agent = xlrs_tests::enc(r#"{"mbox":"mailto:scoped@example.org"}"#);
    let state = format!("/activities/state?activityId={activity}&agent={agent}&stateId=s");
    let activity_profile = format!("/activities/profile?activityId={activity}&profileId=p");
    let agent_profile = format!("/agents/profile?agent={agent}&profileId=p");
    // (method, path, scopes that grant it besides `all`; a read is also granted by all/read)
    let resources: Vec<(Method, String, &[&str])> = vec![
        (Method::POST, "/statements".into(), &["statements/write"]),
        (
            Method::GET,
            "/statements".into(),
            &["statements/read", "statements/read/mine"],
        ),
        (Method::PUT, state.clone(), &["state"]),
        (Method::GET, state, &["state"]),
        (Method::PUT, activity_profile.clone(), &["profile"]),
        (Method::GET, activity_profile, &["profile"]),
        (Method::PUT, agent_profile.clone(), &["profile"]),
        (Method::GET, agent_profile, &["profile"]),
        (
            Method::GET,
            format!("/activities?activityId={activity}"),
            &["define", "statements/read", "profile"],
        ),
        (
            Method::GET,
            format!("/agents?agent={agent}"),
            &["define", "statements/read", "profile"],
        ),
    ];
    for (method, path, granting) in &resources {
        for scope in scopes {
            let user = format!("u-{}", scope.replace('/', "-"));
            let mut request = as_user(&s, method.clone(), path, &user);
            if *method != Method::GET {
                request = request
                    .header("If-None-Match", "*")
                    .json(&if path == "/statements" {
                        statement()
                    } else {
                        json!({"a": 1})
                    });
            }
            let status = request.send().unwrap().status().as_u16();
            let granted = scope == "all"
                || (scope == "all/read" && *method == Method::GET)
                || granting.contains(&scope);
            if granted {
                assert!(
                    ![401, 403].contains(&status) && status < 500,
                    "{scope} may {method} {path}: got {status}"
                );
            } else {
                assert_eq!(status, 403, "{scope} may not {method} {path}");
            }
        }
    }
    let plugins = |user: &str| {
        s.raw(Method::GET, "/plugins")
            .header("Authorization", basic(user, "pass-word-1"))
            .send()
            .unwrap()
            .status()
    };
    assert_eq!(plugins("u-all-read"), 200);
    assert_eq!(plugins("u-statements-read"), 403);
}
