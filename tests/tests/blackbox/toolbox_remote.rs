//! The toolbox's remote backends, `xlrs read|write|list --backend swift|ldp|ws`, against local
//! stand-ins: Swift (with Keystone) and LDP (OVH API, archive downloads, GELF input) are small
//! HTTP/TCP servers of the test crate implementing the documented endpoints, since neither can
//! be installed here; the WebSocket server is written below.

use std::process::{Command, Output};
use std::sync::{Arc, Mutex};

use futures::{SinkExt, StreamExt};
use serde_json::Value;
use tokio_tungstenite::tungstenite::handshake::server::{Request, Response};
use tokio_tungstenite::tungstenite::Message;
use xlrs_tests::remote::ldp::LdpServer;
use xlrs_tests::remote::swift::{self, SwiftServer};
use xlrs_tests::remote::Background;
use xlrs_tests::{run_piped, statement, statement_with_id};

use crate::XLRS;

/// Runs `xlrs ARGS` with `stdin` and the variables `env` (and no OpenStack or OVH variables of
/// the machine running the tests).
fn run(args: &[&str], stdin: &[u8], env: &[(&str, String)]) -> Output {
    let mut command = Command::new(XLRS);
    for (key, _) in std::env::vars() {
        if key.starts_with("OS_") || key.starts_with("OVH_") {
            command.env_remove(key);
        }
    }
    command
        .args(args)
        .env("XLRS_DATA_DIR", std::env::temp_dir())
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    run_piped(command, stdin)
}

/// `xlrs ARGS`, asserting success; its stdout.
fn xlrs(args: &[&str], stdin: &[u8], env: &[(&str, String)]) -> String {
    let out = run(args, stdin, env);
    assert!(
        out.status.success(),
        "xlrs {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

/// `xlrs ARGS`, asserting failure; its stderr.
fn xlrs_fails(args: &[&str], stdin: &[u8], env: &[(&str, String)]) -> String {
    let out = run(args, stdin, env);
    assert!(!out.status.success(), "xlrs {args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// `n` statements with ids, as JSON lines.
fn statements(n: usize) -> Vec<String> {
    (0..n)
        .map(|_| statement_with_id(&uuid::Uuid::new_v4().to_string()).to_string())
        .collect()
}

fn jsonl(lines: &[String]) -> String {
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// The statements of JSON-lines output, as values.
fn values(out: &str) -> Vec<Value> {
    out.lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

fn values_of(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("JSON"))
        .collect()
}

#[test]
fn statements_written_to_swift_are_listed_and_read_back_and_an_object_is_never_overwritten() {
    let swift = SwiftServer::start();
    swift.create_container("lrs-archive");
    let env = swift.settings();
    // Already there: an older gzipped object under the prefix, and objects that are not read.
    let older = statements(3);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, jsonl(&older).as_bytes()).unwrap();
    swift.put(
        "lrs-archive",
        "2026/11/a-older.jsonl.gz",
        &gz.finish().unwrap(),
    );
    swift.put("lrs-archive", "2026/11/notes.txt", b"not statements");
    swift.put("lrs-archive", "2026/10/elsewhere.jsonl", b"{}\n");

    let url = "swift://lrs-archive/2026/11";
    let written = statements(300);
    let write = [
        "write",
        "--backend",
        "swift",
        "--url",
        url,
        "--target",
        "day.jsonl",
    ];
    xlrs(&write, jsonl(&written).as_bytes(), &env);
    let stored = swift
        .object("lrs-archive", "2026/11/day.jsonl")
        .expect("stored");
    assert_eq!(String::from_utf8(stored).unwrap(), jsonl(&written));
    let upload = swift.uploads().pop().expect("an upload");
    assert!(
        upload.if_none_match && upload.chunked,
        "streamed, never overwriting: {upload:?}"
    );

    // Listing follows the markers over pages of two names.
    for name in ["b", "c", "d"] {
        swift.put("lrs-archive", &format!("2026/11/{name}.json"), b"");
    }
    let listed = xlrs(&["list", "--backend", "swift", "--url", url], b"", &env);
    let names: Vec<String> = values(&listed)
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "2026/11/a-older.jsonl.gz",
            "2026/11/b.json",
            "2026/11/c.json",
            "2026/11/d.json",
            "2026/11/day.jsonl"
        ]
    );
    assert!(listed.contains("\"bytes\":"), "{listed}");

    let read = xlrs(&["read", "--backend", "swift", "--url", url], b"", &env);
    let mut expected = values_of(&older);
    expected.extend(values_of(&written));
    assert_eq!(
        values(&read),
        expected,
        "every object's statements, by name"
    );
    let resumed = xlrs(
        &["read", "--backend", "swift", "--url", url, "--skip", "290"],
        b"",
        &env,
    );
    assert_eq!(values(&resumed), expected[290..]);
    let one = xlrs(
        &[
            "read",
            "--backend",
            "swift",
            "--url",
            url,
            "--object",
            "day.jsonl",
        ],
        b"",
        &env,
    );
    assert_eq!(values(&one), values_of(&written));

    // An existing object is never overwritten.
    let err = xlrs_fails(&write, jsonl(&statements(2)).as_bytes(), &env);
    assert!(err.contains("exists"), "{err}");
    let stored = swift.object("lrs-archive", "2026/11/day.jsonl").unwrap();
    assert_eq!(String::from_utf8(stored).unwrap(), jsonl(&written));

    // An invalid line ends the upload without its last chunk: nothing is stored.
    let mut bad = statements(2000);
    bad.push("not json".into());
    let target = [
        "write",
        "--backend",
        "swift",
        "--url",
        url,
        "--target",
        "bad.jsonl",
    ];
    let err = xlrs_fails(&target, jsonl(&bad).as_bytes(), &env);
    assert!(err.contains("line 2001"), "{err}");
    assert!(swift.object("lrs-archive", "2026/11/bad.jsonl").is_none());

    // Wrong credentials are refused by Keystone.
    let mut wrong = env.clone();
    wrong.push(("OS_PASSWORD", "wrong".into()));
    let err = xlrs_fails(&["list", "--backend", "swift", "--url", url], b"", &wrong);
    assert!(err.contains("401"), "{err}");

    // Pre-authenticated: a storage URL and a token, no Keystone.
    let preauth = [
        ("OS_STORAGE_URL", swift.storage_url()),
        ("OS_AUTH_TOKEN", swift::PREAUTH_TOKEN.to_string()),
    ];
    let more = statements(5);
    let write_more = [
        "write",
        "--backend",
        "swift",
        "--url",
        "swift://lrs-archive",
        "--target",
        "top.jsonl",
    ];
    xlrs(&write_more, jsonl(&more).as_bytes(), &preauth);
    let read = xlrs(
        &[
            "read",
            "--backend",
            "swift",
            "--url",
            "swift://lrs-archive",
            "--object",
            "top.jsonl",
        ],
        b"",
        &preauth,
    );
    assert_eq!(values(&read), values_of(&more));
}

#[test]
fn statements_sent_to_ldp_as_gelf_come_back_from_its_archives() {
    let token = "3f1a6b1c-ldp-stream-token";
    let ldp = LdpServer::start("ldp-xy-98765", "stream-42", token);
    let mut env = ldp.settings();
    env.push(("OVH_LDP_TOKEN", token.to_string()));
    let url = "ldp://ldp-xy-98765/stream-42";
    // An archive of the X-OVH-TO-FREEZE field alone: one statement per line.
    let frozen = statements(4);
    ldp.add_archive("2026-11-01.gz", &frozen, true);

    let sent = statements(50);
    let out = run(
        &[
            "write",
            "--backend",
            "ldp",
            "--url",
            url,
            "--endpoint",
            &ldp.gelf_input(),
        ],
        jsonl(&sent).as_bytes(),
        &env,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("50 statement(s) sent"));
    let archives = ldp.wait_for_archives(2);
    assert_eq!(archives.len(), 2, "the GELF messages became an archive");
    assert_eq!(ldp.refused(), 0, "every message carried the token");
    let gelf_archive = archives[1].id.clone();

    // An invalid line sends nothing at all.
    let mut bad = statements(3);
    bad.push("{not json".into());
    let connections = ldp.connections();
    let mut with_input = env.clone();
    with_input.push(("OVH_LDP_GELF", ldp.gelf_input()));
    let err = xlrs_fails(
        &["write", "--backend", "ldp", "--url", url],
        jsonl(&bad).as_bytes(),
        &with_input,
    );
    assert!(err.contains("line 4"), "{err}");
    assert_eq!(ldp.connections(), connections, "no connection was opened");

    let listed = xlrs(&["list", "--backend", "ldp", "--url", url], b"", &env);
    let listed = values(&listed);
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["filename"], "2026-11-01.gz");
    assert_eq!(listed[1]["id"], gelf_archive.as_str());
    assert_eq!(listed[1]["bytes"], archives[1].bytes.len());
    assert!(listed[1]["created"].is_string());

    let read = xlrs(&["read", "--backend", "ldp", "--url", url], b"", &env);
    let mut expected = values_of(&frozen);
    expected.extend(values_of(&sent));
    assert_eq!(
        values(&read),
        expected,
        "both archive formats give the statements"
    );
    let one = xlrs(
        &[
            "read",
            "--backend",
            "ldp",
            "--url",
            url,
            "--object",
            &gelf_archive,
            "--skip",
            "45",
        ],
        b"",
        &env,
    );
    assert_eq!(values(&one), values_of(&sent[45..]));

    // Every API request is signed: a wrong secret is refused.
    let mut wrong = env.clone();
    wrong.push(("OVH_APPLICATION_SECRET", "not-the-secret".into()));
    let err = xlrs_fails(&["read", "--backend", "ldp", "--url", url], b"", &wrong);
    assert!(err.contains("Invalid signature"), "{err}");
}

/// A WebSocket server: `/ingest` keeps the text messages it receives until the client closes;
/// `/feed` sends what was ingested (the first ten one by one, the rest as one JSON array) and
/// closes.
struct WsServer {
    url: String,
    received: Arc<Mutex<Vec<String>>>,
    _background: Background,
}

impl WsServer {
    fn start() -> WsServer {
        let background = Background::new();
        let (listener, addr) = background.listener();
        let received: Arc<Mutex<Vec<String>>> = Arc::default();
        let kept = received.clone();
        background.spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let mut path = String::new();
                    // The callback's error type is tungstenite's, large as it is.
                    #[allow(clippy::result_large_err)]
                    let callback = |request: &Request, response: Response| {
                        path = request.uri().path().to_string();
                        Ok(response)
                    };
                    let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(tcp, callback).await
                    else {
                        return;
                    };
                    if path == "/ingest" {
                        while let Some(Ok(message)) = socket.next().await {
                            if let Message::Text(text) = message {
                                kept.lock().unwrap().push(text.to_string());
                            }
                        }
                    } else {
                        let all = kept.lock().unwrap().clone();
                        let (single, rest) = all.split_at(all.len().min(10));
                        for text in single {
                            let _ = socket.send(Message::text(text.clone())).await;
                        }
                        let array = format!("[{}]", rest.join(","));
                        let _ = socket.send(Message::text(array)).await;
                        let _ = socket.close(None).await;
                        while let Some(Ok(_)) = socket.next().await {}
                    }
                });
            }
        });
        WsServer {
            url: format!("ws://{addr}"),
            received,
            _background: background,
        }
    }
}

#[test]
fn statements_written_to_a_websocket_are_read_back_from_it() {
    let ws = WsServer::start();
    let sent: Vec<String> = (0..40).map(|_| statement().to_string()).collect();
    let ingest = format!("{}/ingest", ws.url);
    let out = xlrs(
        &["write", "--backend", "ws", "--url", &ingest],
        jsonl(&sent).as_bytes(),
        &[],
    );
    assert!(out.is_empty());
    assert_eq!(
        *ws.received.lock().unwrap(),
        sent,
        "one message per statement"
    );

    let feed = format!("{}/feed", ws.url);
    let read = xlrs(&["read", "--backend", "ws", "--url", &feed], b"", &[]);
    assert_eq!(
        values(&read),
        values_of(&sent),
        "single messages and an array"
    );
    let resumed = xlrs(
        &["read", "--backend", "ws", "--url", &feed, "--skip", "35"],
        b"",
        &[],
    );
    assert_eq!(values(&resumed), values_of(&sent[35..]));

    // An invalid line sends nothing.
    let before = ws.received.lock().unwrap().len();
    let err = xlrs_fails(
        &["write", "--backend", "ws", "--url", &ingest],
        b"{}\n[oops\n",
        &[],
    );
    assert!(err.contains("line 2"), "{err}");
    assert_eq!(ws.received.lock().unwrap().len(), before);
    let err = xlrs_fails(&["list", "--backend", "ws", "--url", &feed], b"", &[]);
    assert!(err.contains("listing is for"), "{err}");
}
