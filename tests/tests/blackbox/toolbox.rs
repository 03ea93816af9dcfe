//! The data toolbox: `xlrs read|write|list` moving statements between an LRS over HTTP and
//! JSON-lines files, resumable and never storing a statement twice.

use std::process::{Command, Stdio};

use serde_json::{json, Value};
use xlrs_tests::{statement, Server, ADMIN_PASSWORD};

use crate::XLRS;

/// Runs `xlrs ARGS` with `stdin` as its input; returns stdout, asserting success.
fn xlrs(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let mut child = Command::new(XLRS)
        .args(args)
        .env("LRS_PASSWORD", ADMIN_PASSWORD)
        .env("XLRS_DATA_DIR", std::env::temp_dir())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xlrs runs");
    let mut input = child.stdin.take().expect("stdin");
    let bytes = stdin.to_vec();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut input, &bytes));
    let out = child.wait_with_output().expect("xlrs finishes");
    let _ = writer.join();
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

#[test]
fn statements_copied_from_one_lrs_to_files_and_into_another_lrs_arrive_once() {
    let from = Server::start(XLRS);
    let batch: Vec<Value> = (0..250).map(|_| statement()).collect();
    assert_eq!(from.post(&json!(batch)).status(), 200);
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
    assert_eq!(String::from_utf8_lossy(&lines).lines().count(), 250);

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
    assert_eq!(count(&to), 250);
    // Sent again (a retried copy): the ids are kept, so nothing is stored twice.
    xlrs(&write, &from_files);
    assert_eq!(count(&to), 250);

    let resumed = xlrs(
        &["read", "--backend", "fs", "--path", path, "--skip", "200"],
        b"",
    );
    assert_eq!(String::from_utf8_lossy(&resumed).lines().count(), 50);
}
