//! The data toolbox: `xlrs read|write|list` moving statements between an LRS over HTTP and
//! JSON-lines files, resumable, never storing a statement twice and losing no voided one.

use std::process::{Command, Stdio};

use serde_json::{json, Value};
use xlrs_tests::databases::{S3Server, TestDatabase};
use xlrs_tests::{run_piped, statement, statement_with_id, Server, ADMIN_PASSWORD};

use crate::XLRS;

/// Runs `xlrs ARGS` with `stdin` as its input; returns stdout, asserting success.
fn xlrs(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    xlrs_with(
        args,
        stdin,
        &[("XLRS_DATA_DIR", std::env::temp_dir().display().to_string())],
    )
}

/// `xlrs` with more environment (settings of a store).
fn xlrs_with(args: &[&str], stdin: &[u8], env: &[(&str, String)]) -> Vec<u8> {
    let mut command = Command::new(XLRS);
    command
        .args(args)
        .env("LRS_PASSWORD", ADMIN_PASSWORD)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())));
    let out = run_piped(command, stdin);
    assert!(
        out.status.success(),
        "xlrs {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn count(s: &Server) -> usize {
    let mut n = 0;
    let mut page = s.query("limit=500");
    loop {
        n += page["statements"].as_array().map_or(0, Vec::len);
        let Some(more) = page["more"].as_str().filter(|m| !m.is_empty()) else {
            return n;
        };
        let query = more
            .split_once('?')
            .map(|(_, q)| q.to_string())
            .unwrap_or_default();
        page = s.query(&query);
    }
}

/// A statement voiding statement `id`.
fn voiding(id: &str) -> Value {
    json!({
        "id": uuid::Uuid::new_v4().to_string(),
        "actor": {"mbox": "mailto:admin@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": id}
    })
}

#[test]
fn statements_copied_from_one_lrs_to_files_and_into_another_lrs_arrive_once() {
    let from = Server::start(XLRS);
    let batch: Vec<Value> = (0..250).map(|_| statement()).collect();
    let r = from.post(&json!(batch));
    assert_eq!(r.status(), 200);
    let ids: Vec<String> = r.json().unwrap();
    // One statement voided: the query leaves it out, the copy still carries it.
    assert_eq!(from.post(&voiding(&ids[7])).status(), 200);
    let source = format!("{}/xAPI", from.base());

    // Read across several pages of `more`.
    let lines = xlrs(
        &[
            "read",
            "--backend",
            "lrs",
            "--url",
            &source,
            "--username",
            "admin",
            "--query",
            "limit=100",
        ],
        b"",
    );
    assert_eq!(String::from_utf8_lossy(&lines).lines().count(), 251);

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    xlrs(
        &[
            "write",
            "--backend",
            "fs",
            "--path",
            path,
            "--target",
            "copy.jsonl",
        ],
        &lines,
    );
    let listed =
        String::from_utf8(xlrs(&["list", "--backend", "fs", "--path", path], b"")).unwrap();
    assert!(listed.contains("\"name\":\"copy.jsonl\""), "{listed}");
    let from_files = xlrs(&["read", "--backend", "fs", "--path", path], b"");
    assert_eq!(
        from_files, lines,
        "files give back what was written, in order"
    );

    let to = Server::start(XLRS);
    let target = format!("{}/xAPI", to.base());
    let write = [
        "write",
        "--backend",
        "lrs",
        "--url",
        &target,
        "--username",
        "admin",
        "--chunk-size",
        "60",
    ];
    xlrs(&write, &from_files);
    assert_eq!(count(&to), 250, "249 statements and the voiding one");
    let voided = to
        .xapi(
            reqwest::Method::GET,
            &format!("/statements?voidedStatementId={}", ids[7]),
        )
        .send()
        .unwrap();
    assert_eq!(
        voided.status(),
        200,
        "the voided statement is copied, voided"
    );
    // Sent again (a retried copy): the ids are kept, so nothing is stored twice.
    xlrs(&write, &from_files);
    assert_eq!(count(&to), 250);

    let resumed = xlrs(
        &["read", "--backend", "fs", "--path", path, "--skip", "200"],
        b"",
    );
    assert_eq!(String::from_utf8_lossy(&resumed).lines().count(), 51);
}

/// Writes 120 statements and one voiding the sixth into a built-in store with `xlrs write`,
/// twice, and reads them back with `xlrs read`: every statement once, in the order written,
/// the voided one just before the statement voiding it.
fn a_store_is_written_and_read_through_the_toolbox(store: &str) {
    let dir = tempfile::tempdir().unwrap();
    let database = (store != "sqlite").then(|| TestDatabase::start(store, dir.path()));
    let mut env: Vec<(&str, String)> = database.iter().flat_map(TestDatabase::settings).collect();
    env.push(("XLRS_DATA_DIR", dir.path().display().to_string()));
    let ids: Vec<String> = (0..120).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let void = voiding(&ids[5]);
    let input: String = ids
        .iter()
        .map(|id| statement_with_id(id))
        .chain([void.clone()])
        .map(|s| format!("{s}\n"))
        .collect();
    let write = ["write", "--backend", store, "--chunk-size", "50"];
    xlrs_with(&write, input.as_bytes(), &env);
    xlrs_with(&write, input.as_bytes(), &env);
    let out = xlrs_with(&["read", "--backend", store], b"", &env);
    let read: Vec<String> = String::from_utf8_lossy(&out)
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let mut expected = ids.clone();
    let voided = expected.remove(5);
    expected.extend([voided, void["id"].as_str().unwrap().to_string()]);
    assert_eq!(read, expected, "every statement once, oldest first");
}

#[test]
fn the_toolbox_writes_and_reads_the_embedded_store() {
    a_store_is_written_and_read_through_the_toolbox("sqlite");
}

#[test]
fn the_toolbox_writes_and_reads_the_clickhouse_store() {
    a_store_is_written_and_read_through_the_toolbox("clickhouse");
}

#[test]
fn the_toolbox_writes_and_reads_the_mongodb_store() {
    a_store_is_written_and_read_through_the_toolbox("mongodb");
}

#[test]
fn the_toolbox_writes_and_reads_the_elasticsearch_store() {
    a_store_is_written_and_read_through_the_toolbox("elasticsearch");
}

#[test]
fn statements_written_to_s3_are_listed_and_read_back_and_an_object_is_never_overwritten() {
    let s3 = S3Server::start();
    s3.create_bucket("lrs-archive");
    let env = s3.settings();
    let input: String = (0..300).map(|_| format!("{}\n", statement())).collect();
    let url = "s3://lrs-archive/2026/11";
    let write = [
        "write",
        "--backend",
        "s3",
        "--url",
        url,
        "--target",
        "day.jsonl",
    ];
    xlrs_with(&write, input.as_bytes(), &env);
    let listed = String::from_utf8(xlrs_with(
        &["list", "--backend", "s3", "--url", url],
        b"",
        &env,
    ))
    .unwrap();
    assert!(
        listed.contains("\"name\":\"2026/11/day.jsonl\""),
        "{listed}"
    );
    let read = xlrs_with(&["read", "--backend", "s3", "--url", url], b"", &env);
    assert_eq!(String::from_utf8_lossy(&read), input);
    let resumed = xlrs_with(
        &["read", "--backend", "s3", "--url", url, "--skip", "290"],
        b"",
        &env,
    );
    assert_eq!(String::from_utf8_lossy(&resumed).lines().count(), 10);

    let again = Command::new(XLRS)
        .args(write)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("XLRS_DATA_DIR", std::env::temp_dir())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists"));
}
