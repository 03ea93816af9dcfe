//! The admin API (`/admin`): credentials created, changed, rotated and removed over HTTP work
//! at once; only the `admin` scope reaches it; bad input gets a 400 naming the field; no
//! browser reaches it across origins.

use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{statement, Server, ADMIN_PASSWORD};

use crate::XLRS;

/// An admin API request as the admin credential.
fn admin(server: &Server, method: Method, path: &str) -> xlrs_tests::RequestBuilder {
    server
        .raw(method, &format!("/admin{path}"))
        .basic_auth("admin", Some(ADMIN_PASSWORD))
}

/// Creates a credential with `body`; the answer (with its secret).
pub(crate) fn create(server: &Server, body: &Value) -> Value {
    let r = admin(server, Method::POST, "/credentials")
        .json(body)
        .send()
        .expect("POST");
    assert_eq!(r.status(), 201, "{}", r.text().unwrap_or_default());
    r.json().expect("JSON")
}

/// The status of a statement POST made with `key` and `secret`.
pub(crate) fn post_as(server: &Server, key: &str, secret: &str) -> u16 {
    server
        .raw(Method::POST, "/xAPI/statements")
        .basic_auth(key, Some(secret))
        .header("X-Experience-API-Version", "2.0.0")
        .json(&statement())
        .send()
        .expect("POST")
        .status()
        .as_u16()
}

/// Runs `xlrs` on the server's store, asserting it succeeds.
fn cli_ok(server: &Server, args: &[&str]) {
    let out = server.cli_on_store(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn keys(server: &Server) -> Vec<String> {
    let r = admin(server, Method::GET, "/credentials")
        .send()
        .expect("GET");
    assert_eq!(r.status(), 200);
    let listed: Value = r.json().expect("JSON");
    listed["credentials"]
        .as_array()
        .expect("a list")
        .iter()
        .map(|c| {
            assert!(c.get("hash").is_none() && c.get("secret").is_none());
            c["key"].as_str().expect("key").to_string()
        })
        .collect()
}

#[test]
fn a_credential_created_through_the_admin_api_works_at_once_and_its_secret_is_shown_once() {
    let server = Server::in_process(XLRS);
    let created = create(&server, &json!({"scopes": ["statements/write"]}));
    let (key, secret) = (
        created["key"].as_str().expect("a generated key"),
        created["secret"].as_str().expect("a generated secret"),
    );
    assert!(secret.len() >= 32, "a long generated secret");
    assert_eq!(post_as(&server, key, secret), 200);
    assert_eq!(post_as(&server, key, "not the secret"), 401);
    assert!(
        keys(&server).contains(&key.to_string()),
        "listed, without its secret"
    );

    let named = create(
        &server,
        &json!({"key": "lms-prod", "secret": "a secret of my own", "scopes": ["all"],
                "agent": {"mbox": "mailto:lms@example.org"}}),
    );
    assert_eq!(named["key"], "lms-prod");
    // The embedded store keeps them in its file; a database store in the database.
    let home = match xlrs_tests::databases::database_store() {
        true => "database",
        false => "file",
    };
    assert_eq!(named["source"], home);
    let id = {
        let r = server
            .raw(Method::POST, "/xAPI/statements")
            .basic_auth("lms-prod", Some("a secret of my own"))
            .header("X-Experience-API-Version", "2.0.0")
            .json(&statement())
            .send()
            .expect("POST");
        assert_eq!(r.status(), 200);
        r.json::<Vec<String>>().expect("ids")[0].clone()
    };
    let stored: Value = server.get_statement(&id).json().expect("JSON");
    assert_eq!(
        stored["authority"]["mbox"], "mailto:lms@example.org",
        "the credential's agent is the authority"
    );
}

#[test]
fn changing_rotating_and_removing_a_credential_take_effect_at_once() {
    let server = Server::in_process(XLRS);
    create(
        &server,
        &json!({"key": "reader", "secret": "first secret 123", "scopes": ["statements/read"]}),
    );
    assert_eq!(post_as(&server, "reader", "first secret 123"), 403);
    let r = admin(&server, Method::PUT, "/credentials/reader")
        .json(&json!({"scopes": ["statements/write"]}))
        .send()
        .expect("PUT");
    assert_eq!(r.status(), 200);
    assert_eq!(post_as(&server, "reader", "first secret 123"), 200);

    let r = admin(&server, Method::POST, "/credentials/reader/rotate")
        .send()
        .expect("rotate");
    assert_eq!(r.status(), 200);
    let rotated: Value = r.json().expect("JSON");
    let new_secret = rotated["secret"].as_str().expect("a new secret");
    assert_eq!(
        post_as(&server, "reader", "first secret 123"),
        401,
        "the old secret is retired"
    );
    assert_eq!(post_as(&server, "reader", new_secret), 200);

    let r = admin(&server, Method::DELETE, "/credentials/reader")
        .send()
        .expect("DELETE");
    assert_eq!(r.status(), 204);
    assert_eq!(post_as(&server, "reader", new_secret), 401);
    assert!(!keys(&server).contains(&"reader".to_string()));
    let r = admin(&server, Method::DELETE, "/credentials/reader")
        .send()
        .expect("DELETE");
    assert_eq!(r.status(), 404);
}

#[test]
fn only_the_admin_scope_reaches_the_admin_api() {
    let server = Server::in_process(XLRS);
    let all = create(&server, &json!({"scopes": ["all"]}));
    let r = server
        .raw(Method::GET, "/admin/credentials")
        .basic_auth(all["key"].as_str().expect("key"), all["secret"].as_str())
        .send()
        .expect("GET");
    assert_eq!(
        r.status(),
        403,
        "`all` is the whole xAPI, not the admin API"
    );
    let refusal: Value = r.json().expect("JSON");
    assert!(
        refusal["message"]
            .as_str()
            .unwrap_or_default()
            .ends_with("(needs one of: admin)"),
        "{refusal}"
    );
    let r = server
        .raw(Method::GET, "/admin/credentials")
        .send()
        .expect("GET");
    assert_eq!(r.status(), 401);
    let only_admin = create(&server, &json!({"scopes": ["admin"]}));
    let (key, secret) = (
        only_admin["key"].as_str().expect("key"),
        only_admin["secret"].as_str().expect("secret"),
    );
    let r = server
        .raw(Method::GET, "/admin/credentials")
        .basic_auth(key, Some(secret))
        .send()
        .expect("GET");
    assert_eq!(r.status(), 200);
    assert_eq!(
        post_as(&server, key, secret),
        403,
        "and `admin` is not the xAPI"
    );
}

#[test]
fn bad_input_to_the_admin_api_gets_a_400_naming_the_field() {
    let server = Server::in_process(XLRS);
    for (body, field) in [
        (json!({"scopes": []}), "scopes"),
        (json!({"scopes": ["everything"]}), "scopes"),
        (json!({"key": "a:b", "scopes": ["all"]}), "key"),
        (json!({"secret": "short", "scopes": ["all"]}), "secret"),
        (
            json!({"scopes": ["all"], "agent": {"name": "no IFI"}}),
            "agent",
        ),
        (json!({"scopes": ["all"], "colour": "blue"}), "body"),
    ] {
        let r = admin(&server, Method::POST, "/credentials")
            .json(&body)
            .send()
            .expect("POST");
        assert_eq!(r.status(), 400, "{body}");
        let error: Value = r.json().expect("JSON");
        assert!(
            error["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with(field),
            "{body}: {error}"
        );
    }
    create(&server, &json!({"key": "twice", "scopes": ["all"]}));
    let r = admin(&server, Method::POST, "/credentials")
        .json(&json!({"key": "twice", "scopes": ["all"]}))
        .send()
        .expect("POST");
    assert_eq!(r.status(), 409, "a key that exists");
    let r = admin(&server, Method::PUT, "/credentials/nobody")
        .json(&json!({"scopes": ["all"]}))
        .send()
        .expect("PUT");
    assert_eq!(r.status(), 404);
}

#[test]
fn no_page_of_another_origin_reaches_the_admin_api() {
    let server = Server::in_process(XLRS);
    let preflight = server
        .raw(Method::OPTIONS, "/admin/credentials")
        .header("Origin", "https://evil.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .expect("OPTIONS");
    assert_eq!(preflight.status(), 403);
    assert!(preflight
        .headers()
        .get("access-control-allow-origin")
        .is_none());
    let r = admin(&server, Method::GET, "/credentials")
        .header("Origin", "https://evil.example")
        .send()
        .expect("GET");
    assert_eq!(r.status(), 403);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    // A "simple" cross-origin POST needs no preflight: it is refused before it acts.
    let forged = admin(&server, Method::POST, "/credentials")
        .header("Origin", "https://evil.example")
        .header("Content-Type", "text/plain")
        .body(r#"{"key": "planted", "secret": "chosen by them", "scopes": ["admin"]}"#)
        .send()
        .expect("POST");
    assert_eq!(forged.status(), 403);
    let fetched = admin(&server, Method::POST, "/credentials/admin/rotate")
        .header("Sec-Fetch-Site", "cross-site")
        .send()
        .expect("POST");
    assert_eq!(fetched.status(), 403);
    assert!(!keys(&server).contains(&"planted".to_string()));
    assert_eq!(
        post_as(&server, "admin", ADMIN_PASSWORD),
        200,
        "the admin secret is unchanged"
    );
    // The console, served from the LRS's own origin, is let through.
    let own = admin(&server, Method::GET, "/credentials")
        .header("Host", "lrs.example.org")
        .header("Origin", "https://lrs.example.org")
        .header("Sec-Fetch-Site", "same-origin")
        .send()
        .expect("GET");
    assert_eq!(own.status(), 200);
    let xapi = server
        .raw(Method::OPTIONS, "/xAPI/statements")
        .header("Origin", "https://course.example")
        .header("Access-Control-Request-Method", "POST")
        .send()
        .expect("OPTIONS");
    assert!(
        xapi.headers().get("access-control-allow-origin").is_some(),
        "while the xAPI still answers browsers"
    );
}

#[test]
fn the_status_tells_an_operator_the_version_store_plugins_and_forwarding_queues() {
    let forwarding = json!([{"url": "http://127.0.0.1:9/xAPI"}]).to_string();
    let server = Server::start_with(XLRS, &[("XLRS_FORWARDING", forwarding.as_str())]);
    assert_eq!(
        server.post(&json!([statement(), statement()])).status(),
        200
    );
    let r = admin(&server, Method::GET, "/status").send().expect("GET");
    assert_eq!(r.status(), 200);
    let status: Value = r.json().expect("JSON");
    assert_eq!(status["version"], env!("CARGO_PKG_VERSION"));
    let store = std::env::var("TEST_STORE").unwrap_or_else(|_| "sqlite".into());
    assert_eq!(status["store"]["kind"], store);
    assert_eq!(status["store"]["answers"], true);
    assert!(status["plugins"].is_object() || status["plugins"].is_array());
    assert_eq!(status["statements"]["stored_since_start"], 2);
    let queue = &status["forwarding"][0];
    assert_eq!(queue["target"], "http://127.0.0.1:9/xAPI");
    assert_eq!(queue["forwarded"], 0, "nothing listens there");
    let all = create(&server, &json!({"scopes": ["all/read"]}));
    let r = server
        .raw(Method::GET, "/admin/status")
        .basic_auth(all["key"].as_str().expect("key"), all["secret"].as_str())
        .send()
        .expect("GET");
    assert_eq!(r.status(), 403);
}

#[test]
fn xlrs_auth_manages_the_credentials_where_the_admin_api_keeps_them() {
    let server = Server::in_process(XLRS);
    cli_ok(
        &server,
        &[
            "auth",
            "add",
            "--username",
            "from-cli",
            "--password",
            "cli secret 123",
            "--scope",
            "statements/write",
        ],
    );
    // Read again by the server within about a second (the database), or at the next
    // request (the file).
    crate::forwarding::eventually_within(
        std::time::Duration::from_secs(5),
        "the server accepts the credential the CLI added",
        || post_as(&server, "from-cli", "cli secret 123") == 200,
    );
    let listed = keys(&server);
    assert!(listed.contains(&"from-cli".to_string()), "{listed:?}");
    let out = server.cli_on_store(&["auth", "list"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("from-cli\tstatements/write"));
    cli_ok(&server, &["auth", "remove", "--username", "from-cli"]);
    crate::forwarding::eventually_within(
        std::time::Duration::from_secs(5),
        "the server refuses the credential the CLI removed",
        || post_as(&server, "from-cli", "cli secret 123") == 401,
    );
    cli_ok(
        &server,
        &[
            "auth",
            "--in-file",
            "add",
            "--username",
            "local-only",
            "--password",
            "local secret 123",
            "--scope",
            "all",
        ],
    );
    let r = admin(&server, Method::GET, "/credentials")
        .send()
        .expect("GET");
    let listed: Value = r.json().expect("JSON");
    let local = listed["credentials"]
        .as_array()
        .expect("a list")
        .iter()
        .find(|c| c["key"] == "local-only")
        .cloned()
        .expect("listed");
    assert_eq!(
        local["source"], "file",
        "--in-file: this process's own file"
    );
}
