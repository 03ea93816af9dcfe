//! OIDC bearer tokens: a JWT signed by the issuer's key (JWKS from a file or a URL), with the
//! right issuer and audience and not expired, authenticates; its scope claim limits what it
//! may do, and its subject becomes the authority. Tokens are made with openssl here.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use reqwest::Method;
use serde_json::{json, Value};
use xlrs_tests::{openssl, statement, Server};

use crate::XLRS;

const ISSUER: &str = "https://idp.example.org/realms/learning";
const AUDIENCE: &str = "xlrs";

/// An RSA key `name.pem` in `dir`, and its public half as a JWK with key id `name`.
fn rsa_key(dir: &Path, name: &str) -> Value {
    openssl(
        dir,
        &["genrsa", "-out", &format!("{name}.pem"), "2048"],
        None,
    );
    let out = openssl(
        dir,
        &["rsa", "-in", &format!("{name}.pem"), "-noout", "-modulus"],
        None,
    );
    let hex = String::from_utf8(out).unwrap();
    let hex = hex.trim().trim_start_matches("Modulus=");
    let n: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    json!({"kty": "RSA", "kid": name, "use": "sig", "alg": "RS256",
           "n": URL_SAFE_NO_PAD.encode(n), "e": "AQAB"})
}

/// A token with these claims, signed RS256 by `key.pem`, announcing key id `kid`.
fn token(dir: &Path, key: &str, kid: &str, claims: &Value) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": kid}).to_string();
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature = openssl(
        dir,
        &["dgst", "-sha256", "-sign", &format!("{key}.pem")],
        Some(input.as_bytes()),
    );
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
}

fn claims(scope: &str) -> Value {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    json!({"iss": ISSUER, "aud": AUDIENCE, "sub": "learner-7", "exp": now + 600,
           "iat": now, "scope": scope})
}

fn with_token(s: &Server, method: Method, path: &str, token: &str) -> xlrs_tests::RequestBuilder {
    s.raw(method, &format!("/xAPI{path}"))
        .bearer_auth(token)
        .header("X-Experience-API-Version", "2.0.0")
}

/// A server trusting the keys of `jwks` (given as a file).
fn server_with_jwks(jwks: &Value) -> Server {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("jwks.json");
    std::fs::write(&file, jwks.to_string()).unwrap();
    Server::start_in(
        XLRS,
        dir,
        &[
            ("XLRS_OIDC__ISSUER", ISSUER),
            ("XLRS_OIDC__AUDIENCE", AUDIENCE),
            ("XLRS_OIDC__JWKS_FILE", file.to_str().unwrap()),
        ],
    )
}

#[test]
fn a_valid_token_authenticates_and_its_subject_is_the_authority() {
    let keys = tempfile::tempdir().unwrap();
    let jwk = rsa_key(keys.path(), "k1");
    let s = server_with_jwks(&json!({"keys": [jwk]}));
    let t = token(
        keys.path(),
        "k1",
        "k1",
        &claims("openid statements/write statements/read"),
    );
    let r = with_token(&s, Method::POST, "/statements", &t)
        .json(&statement())
        .send()
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().unwrap());
    let ids: Vec<String> = r.json().unwrap();
    let got: Value = with_token(
        &s,
        Method::GET,
        &format!("/statements?statementId={}", ids[0]),
        &t,
    )
    .send()
    .unwrap()
    .json()
    .unwrap();
    assert_eq!(
        got["authority"],
        json!({"objectType": "Agent", "account": {"homePage": ISSUER, "name": "learner-7"}})
    );
    // Basic credentials keep working beside tokens.
    assert_eq!(s.post(&statement()).status(), 200);
}

#[test]
fn a_token_may_do_only_what_its_scopes_allow() {
    let keys = tempfile::tempdir().unwrap();
    let jwk = rsa_key(keys.path(), "k1");
    let s = server_with_jwks(&json!({"keys": [jwk]}));
    let t = token(keys.path(), "k1", "k1", &claims("openid statements/read"));
    let r = with_token(&s, Method::POST, "/statements", &t)
        .json(&statement())
        .send()
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = with_token(&s, Method::GET, "/statements", &t)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn expired_foreign_or_forged_tokens_are_refused_with_401() {
    let keys = tempfile::tempdir().unwrap();
    let jwk = rsa_key(keys.path(), "k1");
    rsa_key(keys.path(), "other");
    let s = server_with_jwks(&json!({"keys": [jwk]}));
    let mut expired = claims("all");
    expired["exp"] = json!(1_000_000_000);
    let mut audience = claims("all");
    audience["aud"] = json!("someone-else");
    let mut issuer = claims("all");
    issuer["iss"] = json!("https://evil.example.org");
    let unsigned = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(json!({"alg": "none", "kid": "k1"}).to_string()),
        URL_SAFE_NO_PAD.encode(claims("all").to_string())
    );
    for (what, t) in [
        ("expired", token(keys.path(), "k1", "k1", &expired)),
        (
            "another audience",
            token(keys.path(), "k1", "k1", &audience),
        ),
        ("another issuer", token(keys.path(), "k1", "k1", &issuer)),
        (
            "signed by another key",
            token(keys.path(), "other", "k1", &claims("all")),
        ),
        (
            "an unknown key id",
            token(keys.path(), "other", "other", &claims("all")),
        ),
        ("unsigned (alg none)", unsigned),
        ("not a token", "abc.def".to_string()),
    ] {
        let r = with_token(&s, Method::GET, "/statements", &t)
            .send()
            .unwrap();
        assert_eq!(r.status(), 401, "{what}");
        let body: Value = r.json().unwrap();
        assert!(body["message"].is_string(), "{what}: {body}");
    }
}

#[test]
fn the_issuer_keys_can_come_from_a_jwks_url() {
    let keys = tempfile::tempdir().unwrap();
    let jwks = json!({"keys": [rsa_key(keys.path(), "k1")]}).to_string();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut stream = stream;
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            while reader.read_line(&mut line).unwrap_or(0) > 2 {
                line.clear();
            }
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{jwks}",
                jwks.len()
            );
        }
    });
    let s = Server::start_with(
        XLRS,
        &[
            ("XLRS_OIDC__ISSUER", ISSUER),
            ("XLRS_OIDC__AUDIENCE", AUDIENCE),
            (
                "XLRS_OIDC__JWKS_URL",
                &format!("http://127.0.0.1:{port}/certs"),
            ),
        ],
    );
    let t = token(keys.path(), "k1", "k1", &claims("all"));
    let r = with_token(&s, Method::GET, "/statements", &t)
        .send()
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[test]
fn without_oidc_settings_a_bearer_token_is_a_401() {
    let s = Server::start(XLRS);
    let r = with_token(&s, Method::GET, "/statements", "a.b.c")
        .send()
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().unwrap();
    assert!(body["message"].as_str().unwrap().contains("[oidc]"));
}
