//! The test harness: starts the real `xlrs` binary on a free port with its own data directory
//! and talks to it over HTTP, or runs the same server in the test's process and hands requests
//! to its router; either way it stops the server when dropped.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use std::sync::Arc;

use base64::Engine;
use reqwest::blocking::Client;
use reqwest::Method;
use serde_json::{json, Value};

pub mod databases;
mod http;
pub mod remote;

use http::InProcess;
pub use http::{BodyError, RequestBuilder, Response};

use xlrs_store::{StoreError, Stores};
use xlrs_store_sqlite::SqliteStore;

/// The admin password every test server gets.
pub const ADMIN_PASSWORD: &str = "admin-password-for-tests";

/// A running server: the real binary in a process of its own, or the same server in the
/// test's process, answering through the router without a socket ([`Server::in_process`]).
pub struct Server {
    child: Option<Child>,
    local: Option<Arc<InProcess>>,
    /// The database it stores in, under `TEST_STORE`.
    _database: Option<databases::TestDatabase>,
    base: String,
    dir: tempfile::TempDir,
    client: Client,
    bin: String,
}

/// The settings every test server gets, as `XLRS_*` variables: its data dir, an admin
/// credential, quiet logs, and the compiled-plugin cache every test server shares with the key
/// that authenticates it (a component bundling a JS or Python engine then compiles once per
/// run instead of once per test); under `TEST_STORE` (unless the test chose a store), the
/// database it starts. The database is returned to be stopped with the server.
fn test_settings(
    dir: &Path,
    env: &[(&str, &str)],
) -> (Vec<(String, String)>, Option<databases::TestDatabase>) {
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target");
    let mut vars: Vec<(String, String)> = [
        ("XLRS_LISTEN", "127.0.0.1:0".to_string()),
        ("XLRS_DATA_DIR", dir.display().to_string()),
        ("XLRS_ADMIN_USER", "admin".to_string()),
        ("XLRS_ADMIN_PASSWORD", ADMIN_PASSWORD.to_string()),
        ("XLRS_LOG", "warn".to_string()),
        (
            "XLRS_PLUGIN_CACHE",
            target.join("test-plugin-cache").display().to_string(),
        ),
        (
            "XLRS_PLUGIN_CACHE_KEY",
            target.join("test-plugin-cache.key").display().to_string(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    vars.extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    // `TEST_STORE=clickhouse|mongodb|elasticsearch` runs every test that does not choose a
    // store on that database: one server per xlrs, kept across xlrs restarts.
    let database = std::env::var("TEST_STORE")
        .ok()
        .filter(|_| !env.iter().any(|(k, _)| *k == "XLRS_STORE"))
        .map(|store| databases::TestDatabase::start(&store, dir));
    for (k, v) in database.iter().flat_map(databases::TestDatabase::settings) {
        vars.push((k.to_string(), v.to_string()));
    }
    (vars, database)
}

impl Server {
    /// Starts `bin serve` with a fresh data dir and an `admin` credential.
    pub fn start(bin: &str) -> Server {
        Self::start_with(bin, &[])
    }

    /// Starts the server with extra environment variables.
    pub fn start_with(bin: &str, env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(bin, dir, env)
    }

    /// Starts the server on an existing data dir (to restart one).
    pub fn start_in(bin: &str, dir: tempfile::TempDir, env: &[(&str, &str)]) -> Server {
        let (vars, database) = test_settings(dir.path(), env);
        let mut command = Command::new(bin);
        command
            .arg("serve")
            .envs(vars)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = command.spawn().expect("xlrs starts");
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        let base = loop {
            match rx.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix("xlrs listening on ") {
                        break url.trim().to_string();
                    }
                }
                Err(_) => {
                    let _ = child.kill();
                    panic!(
                        "xlrs did not print its listening line (status: {:?})",
                        child.try_wait()
                    );
                }
            }
        };
        Self::new(Some(child), None, database, base, dir, bin)
    }

    /// The same server as [`Server::start`], in this process: requests go straight to its
    /// router (tower's `oneshot`), so a test needs no process, port or socket. `bin` is what
    /// [`Server::cli`] runs.
    pub fn in_process(bin: &str) -> Server {
        Self::in_process_with(bin, &[])
    }

    /// [`Server::in_process`] with extra settings, as `XLRS_*` variables.
    pub fn in_process_with(bin: &str, env: &[(&str, &str)]) -> Server {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::in_process_in(bin, dir, env)
    }

    /// [`Server::in_process`] on an existing data dir (to restart one).
    pub fn in_process_in(bin: &str, dir: tempfile::TempDir, env: &[(&str, &str)]) -> Server {
        let (vars, database) = test_settings(dir.path(), env);
        let settings = xlrs_server::settings::Settings::load_with(None, vars)
            .expect("the test's settings are valid");
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a runtime");
        let app = runtime
            .block_on(xlrs_server::App::open(settings, true))
            .expect("the server opens");
        let local = InProcess {
            service: app.service(),
            runtime,
        };
        let base = "http://in-process.invalid".to_string();
        Self::new(None, Some(Arc::new(local)), database, base, dir, bin)
    }

    fn new(
        child: Option<Child>,
        local: Option<Arc<InProcess>>,
        database: Option<databases::TestDatabase>,
        base: String,
        dir: tempfile::TempDir,
        bin: &str,
    ) -> Server {
        Server {
            child,
            local,
            _database: database,
            base,
            dir,
            client: Client::builder()
                .timeout(Duration::from_secs(60))
                .build()
                .expect("client"),
            bin: bin.to_string(),
        }
    }

    /// Stops the server and returns its data dir, to start another on it (under `TEST_STORE`,
    /// its database is stopped cleanly, or for the in-memory Elasticsearch kept running).
    pub fn stop(mut self) -> tempfile::TempDir {
        self.halt();
        match self._database.take() {
            // In memory only: kept running for the next server on this dir.
            Some(databases::TestDatabase::Elasticsearch(elasticsearch)) => {
                elasticsearch.keep_for(self.dir.path())
            }
            // Stopped cleanly; the next server on this dir starts it again on its data.
            Some(databases::TestDatabase::Mongo(mut mongo)) => mongo.halt(),
            _ => {}
        }
        let dir = tempfile::tempdir().expect("temp dir");
        std::mem::replace(&mut self.dir, dir)
    }

    /// Kills the process, or shuts the in-process server down.
    fn halt(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.local = None;
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// The plugins directory.
    pub fn plugins_dir(&self) -> PathBuf {
        self.dir.path().join("plugins")
    }

    /// Runs the CLI against this server's data dir.
    pub fn cli(&self, args: &[&str]) -> Output {
        run_cli(&self.bin, self.data_dir(), args)
    }

    /// Runs the CLI against this server's data dir and, under `TEST_STORE`, its database.
    pub fn cli_on_store(&self, args: &[&str]) -> Output {
        let mut command = Command::new(&self.bin);
        command
            .args(args)
            .env("XLRS_DATA_DIR", self.data_dir())
            .env_remove("XLRS_ADMIN_USER")
            .env_remove("XLRS_ADMIN_PASSWORD");
        for (k, v) in self
            ._database
            .iter()
            .flat_map(databases::TestDatabase::settings)
        {
            command.env(k, v);
        }
        command.output().expect("xlrs runs")
    }

    /// A request to an xAPI path with admin credentials and version 2.0.0.
    pub fn xapi(&self, method: Method, path: &str) -> RequestBuilder {
        self.xapi_version(method, path, "2.0.0")
    }

    /// A request to an xAPI path with admin credentials and the given version header.
    pub fn xapi_version(&self, method: Method, path: &str, version: &str) -> RequestBuilder {
        self.raw(method, &format!("/xAPI{path}"))
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .header("X-Experience-API-Version", version)
    }

    /// A request with nothing added.
    pub fn raw(&self, method: Method, path: &str) -> RequestBuilder {
        RequestBuilder::new(
            self.client.request(method, format!("{}{path}", self.base)),
            self.local.clone(),
        )
    }

    /// POSTs statements (one object or an array) as admin.
    pub fn post(&self, body: &Value) -> Response {
        self.xapi(Method::POST, "/statements")
            .json(body)
            .send()
            .expect("POST /statements")
    }

    /// PUTs one statement under `id` as admin.
    pub fn put_statement(&self, id: &str, body: &Value) -> Response {
        self.xapi(Method::PUT, &format!("/statements?statementId={id}"))
            .json(body)
            .send()
            .expect("PUT /statements")
    }

    /// POSTs a multipart/mixed body made by [`multipart_body`] (content type, bytes) as admin.
    pub fn post_multipart(&self, (content_type, body): (String, Vec<u8>)) -> Response {
        self.xapi(Method::POST, "/statements")
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .expect("POST /statements (multipart)")
    }

    /// GETs a statements query (already url-encoded) as admin; asserts 200 and returns the body.
    pub fn query(&self, query: &str) -> Value {
        let r = self
            .xapi(Method::GET, &format!("/statements?{query}"))
            .send()
            .expect("GET /statements");
        assert_eq!(r.status(), 200, "query {query}");
        r.json().expect("JSON")
    }

    /// GETs one statement by id as admin; the response.
    pub fn get_statement(&self, id: &str) -> Response {
        self.xapi(Method::GET, &format!("/statements?statementId={id}"))
            .send()
            .expect("GET statement")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Installs `component` (from target/plugins) as plugin `name` of a plugins directory, with a
/// manifest, the way an operator would: `<plugins_dir>/<name>/{plugin.toml,<name>.wasm}`.
pub fn install_plugin(plugins_dir: &Path, name: &str, component: &str, manifest: &str) {
    let dir = plugins_dir.join(name);
    std::fs::create_dir_all(&dir).expect("the plugin's folder");
    std::fs::write(dir.join("plugin.toml"), manifest).expect("its manifest");
    std::fs::copy(
        plugin_component(component),
        dir.join(format!("{name}.wasm")),
    )
    .expect("its component");
}

/// Runs `xlrs <args>` with `XLRS_DATA_DIR` set.
pub fn run_cli(bin: &str, data_dir: &Path, args: &[&str]) -> Output {
    Command::new(bin)
        .args(args)
        .env("XLRS_DATA_DIR", data_dir)
        .env_remove("XLRS_ADMIN_USER")
        .env_remove("XLRS_ADMIN_PASSWORD")
        .output()
        .expect("xlrs runs")
}

/// The id a successful statement POST answers with (asserting the 200).
pub fn id_of(response: Response) -> String {
    assert_eq!(response.status(), 200, "the statement is stored");
    let ids: Vec<String> = response.json().expect("ids");
    ids[0].clone()
}

/// The ids of a statements page, in order.
pub fn ids_of(page: &Value) -> Vec<&str> {
    page["statements"]
        .as_array()
        .expect("a statements array")
        .iter()
        .filter_map(|s| s["id"].as_str())
        .collect()
}

/// Runs a prepared command with `stdin` fed from a thread (so a large input cannot deadlock
/// against a full stdout pipe) and stdout/stderr captured.
pub fn run_piped(mut command: Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the command runs");
    let mut input = child.stdin.take().expect("stdin");
    let bytes = stdin.to_vec();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut input, &bytes));
    let out = child.wait_with_output().expect("the command finishes");
    let _ = writer.join();
    out
}

/// A unique value for this test run.
pub fn unique() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// A valid statement by a unique agent on a unique activity.
pub fn statement() -> Value {
    let u = unique();
    json!({
        "actor": {"objectType": "Agent", "mbox": format!("mailto:learner-{u}@example.org"), "name": "Learner"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/completed", "display": {"en-US": "completed", "fr-FR": "a terminé"}},
        "object": {"objectType": "Activity", "id": format!("http://example.org/activity/{u}"),
                   "definition": {"name": {"en-US": "Algebra", "fr-FR": "Algèbre"}}}
    })
}

/// A statement by the admin voiding statement `target`.
pub fn voiding(target: &str) -> Value {
    json!({
        "actor": {"mbox": "mailto:admin@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
        "object": {"objectType": "StatementRef", "id": target}
    })
}

/// A statement with a given id.
pub fn statement_with_id(id: &str) -> Value {
    let mut s = statement();
    s["id"] = json!(id);
    s
}

/// `Basic …` for a username and password.
pub fn basic(user: &str, password: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// URL-encodes a query value.
pub fn enc(value: &str) -> String {
    url_encode(value)
}

fn url_encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The component built from `plugins/<name>` by scripts/build-plugins.sh.
pub fn plugin_component(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/plugins")
        .join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/build-plugins.sh first (scripts/test.sh does)",
        path.display()
    );
    path
}

/// Runs `openssl` (an independent signer for JWS and JWT tests) in `dir`; its stdout.
pub fn openssl(dir: &std::path::Path, args: &[&str], input: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("openssl runs");
    if let Some(bytes) = input {
        child.stdin.take().unwrap().write_all(bytes).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Seconds since 1970 of an HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), as `Last-Modified`.
pub fn http_date_seconds(date: &str) -> i64 {
    let t = httpdate::parse_http_date(date).unwrap_or_else(|e| panic!("`{date}`: {e}"));
    t.duration_since(std::time::UNIX_EPOCH)
        .expect("after 1970")
        .as_secs() as i64
}

/// A response header's value, which must be there and be ASCII.
pub fn header(r: &Response, name: &str) -> String {
    r.headers()
        .get(name)
        .unwrap_or_else(|| panic!("{} has no {name} header", r.url()))
        .to_str()
        .expect("an ASCII header")
        .to_string()
}

/// A [`statement`] with one text/plain attachment of `content`, and the content's sha2.
pub fn attachment_statement(content: &[u8]) -> (Value, String) {
    use sha2::{Digest, Sha256};
    let sha2 = hex::encode(Sha256::digest(content));
    let mut st = statement();
    st["attachments"] = json!([{"usageType": "http://example.org/attachment-usage/test", "display": {"en-US": "notes"},
                                "contentType": "text/plain", "length": content.len(), "sha2": sha2}]);
    (st, sha2)
}

/// A multipart/mixed body (content type, bytes): a first part with the headers `first_headers`
/// (each ending in CRLF) holding `statement`, then one text/plain part per (sha2, content)
/// carrying `Content-Transfer-Encoding: encoding` (no such header for `None`).
pub fn multipart_body(
    first_headers: &str,
    statement: &Value,
    parts: &[(&str, &[u8])],
    encoding: Option<&str>,
) -> (String, Vec<u8>) {
    let boundary = "xlrs-test-boundary";
    let mut body = format!("--{boundary}\r\n{first_headers}\r\n{statement}\r\n").into_bytes();
    let encoding = encoding
        .map(|e| format!("Content-Transfer-Encoding: {e}\r\n"))
        .unwrap_or_default();
    for (hash, content) in parts {
        body.extend(format!("--{boundary}\r\nContent-Type: text/plain\r\n{encoding}X-Experience-API-Hash: {hash}\r\n\r\n").as_bytes());
        body.extend(*content);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/mixed; boundary={boundary}"), body)
}

/// Posts batches of 20 statements to the server at `base` (the admin credential, xAPI 2.0.0)
/// until `stop`, handing the ids of every batch answered 200 to `acknowledged` with the instant
/// the batch was sent. A request cut short (a killed server) gets no answer: only a 200
/// acknowledges.
pub fn post_batches_until(
    base: &str,
    stop: &std::sync::atomic::AtomicBool,
    acknowledged: impl FnMut(Vec<String>, std::time::Instant),
) {
    post_batches_of_until(base, stop, statement, acknowledged);
}

/// [`post_batches_until`] with statements `make` makes.
pub fn post_batches_of_until(
    base: &str,
    stop: &std::sync::atomic::AtomicBool,
    make: impl Fn() -> Value,
    mut acknowledged: impl FnMut(Vec<String>, std::time::Instant),
) {
    let url = format!("{base}/xAPI/statements");
    let http = Client::new();
    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
        let batch: Vec<Value> = (0..20).map(|_| make()).collect();
        let sent = std::time::Instant::now();
        match http
            .post(&url)
            .basic_auth("admin", Some(ADMIN_PASSWORD))
            .header("X-Experience-API-Version", "2.0.0")
            .json(&batch)
            .send()
        {
            Ok(r) if r.status() == 200 => {
                if let Ok(ids) = r.json::<Vec<String>>() {
                    acknowledged(ids, sent);
                }
            }
            Ok(_) => {}
            Err(_) => std::thread::sleep(Duration::from_millis(5)),
        }
    }
}

/// Opens stores with `open`, given the embedded store of a fresh data dir, and runs the whole
/// store contract on what it opened:
/// statements, attachments and definitions, and documents. First, the embedded store holds an
/// attachment and a definition as an earlier xlrs kept them there, and they must move into the
/// opened store: present there, gone from the data dir, moved once.
pub fn check_store_contract<F>(open: F)
where
    F: AsyncFnOnce(Stores) -> Result<Stores, StoreError>,
{
    let dir = tempfile::tempdir().expect("temp dir");
    let sqlite = Arc::new(
        SqliteStore::open(&dir.path().join("side.sqlite3"), 2).expect("the embedded store opens"),
    );
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(async {
            let embedded = SqliteStore::stores(sqlite.clone());
            let (attachment, activity) = keep_the_old_way(&embedded).await;
            let stores = open(embedded.clone()).await.expect("the store opens");
            let moved = sqlite
                .hand_over_content(stores.content.as_ref())
                .await
                .expect("hands over");
            if std::ptr::addr_eq(Arc::as_ptr(&stores.content), Arc::as_ptr(&embedded.content)) {
                // A backend plugin's content stays in the embedded store: nothing moves.
                assert_eq!(moved, xlrs_store_sqlite::Handover::default());
                return run_contract(&stores, false).await;
            }
            assert_eq!((moved.attachments, moved.definitions), (1, 1));
            let found = stores
                .content
                .attachments(std::slice::from_ref(&attachment.sha2))
                .await;
            assert_eq!(found.expect("reads"), vec![attachment.clone()]);
            let definition = stores.content.activity_definition(&activity).await;
            assert_eq!(
                definition.expect("reads"),
                Some(json!({"name": {"en-US": "kept the old way"}}))
            );
            let left = embedded.content.attachments(&[attachment.sha2]).await;
            assert_eq!(
                left.expect("reads"),
                vec![],
                "the data dir keeps nothing moved"
            );
            let again = sqlite.hand_over_content(stores.content.as_ref()).await;
            assert_eq!(
                again.expect("hands over"),
                xlrs_store_sqlite::Handover::default()
            );
            run_contract(&stores, true).await;
        });
}

/// The whole store contract on `stores`; `log`: a database store, read as a log too.
async fn run_contract(stores: &Stores, log: bool) {
    xlrs_store::contract::statement_store(stores.statements.as_ref(), stores.content.as_ref())
        .await;
    if log {
        xlrs_store::contract::statement_log(stores.statements.as_ref()).await;
        xlrs_store::contract::admissions_with_statements(
            stores.statements.as_ref(),
            stores.admissions.as_ref(),
        )
        .await;
    }
    xlrs_store::contract::document_store(stores.documents.as_ref()).await;
    if let Some(lifecycle) = &stores.lifecycle {
        xlrs_store::contract::lifecycle(
            stores.statements.as_ref(),
            lifecycle.as_ref(),
            stores.documents.as_ref(),
        )
        .await;
    }
}

/// Stores a statement with an attachment and an activity definition in the embedded store, as
/// xlrs before 2026-12 kept them for a database store; returns the attachment and activity.
async fn keep_the_old_way(embedded: &Stores) -> (xlrs_store::Attachment, String) {
    let content = format!("kept the old way {}", unique()).into_bytes();
    let (mut st, sha2) = attachment_statement(&content);
    let activity = format!("http://example.org/old-way/{}", unique());
    st["object"] = json!({"objectType": "Activity", "id": activity,
                          "definition": {"name": {"en-US": "kept the old way"}}});
    let authority = json!({"objectType": "Agent", "mbox": "mailto:tests@example.org"});
    let prepared = xlrs_xapi::statement::prepare(
        st,
        &authority,
        xlrs_xapi::version::XapiVersion::V2_0_0,
        uuid::Uuid::new_v4,
    )
    .expect("a valid statement");
    let attachment = xlrs_store::Attachment {
        sha2,
        content_type: "text/plain".into(),
        content,
    };
    embedded
        .statements
        .insert(vec![prepared], vec![attachment.clone()])
        .await
        .expect("stored");
    (attachment, activity)
}
