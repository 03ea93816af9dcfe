//! Database servers for the store tests, installed by scripts/databases.sh: each test starts
//! its own on a free port with its own data dir, and it stops when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The virtualenv scripts/databases.sh installs the servers into.
fn venv() -> PathBuf {
    let venv = std::env::var_os("XLRS_DB_VENV").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/db-venv"),
        PathBuf::from,
    );
    assert!(
        venv.join("bin/python").is_file(),
        "{} is missing: run scripts/databases.sh first (scripts/test.sh does)",
        venv.display()
    );
    venv
}

/// Waits until `ready` holds for the server just started, failing the test when it exits or
/// is not ready within `secs` seconds.
fn wait_until_ready(child: &mut Option<Child>, what: &str, secs: u64, ready: impl Fn() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !ready() {
        if let Some(Ok(Some(status))) = child.as_mut().map(Child::try_wait) {
            panic!("the {what} server exited at start: {status}");
        }
        assert!(
            Instant::now() < deadline,
            "{what} was not ready within {secs} s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// True when a GET of `url` answers 2xx.
fn answers(url: &str) -> bool {
    reqwest::blocking::get(url).is_ok_and(|r| r.status().is_success())
}

/// Kills the server process, if running, and reaps it (SIGKILL).
fn kill(child: &mut Option<Child>) {
    if let Some(mut child) = child.take() {
        let _ = child.kill();
        let _ = child.wait();
    }
}

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Whether this pass's `TEST_STORE` is a database store (ClickHouse, MongoDB, Elasticsearch),
/// which keeps credentials and the forwarding queue in the database; the embedded store and a
/// backend plugin keep them in files of the data dir.
pub fn database_store() -> bool {
    std::env::var("TEST_STORE").is_ok_and(|s| s != "jsonl-store")
}

/// The database every black-box test's server stores in under `TEST_STORE`, surviving xlrs
/// restarts (its data in the xlrs data dir; the in-memory Elasticsearch kept running).
pub enum TestDatabase {
    /// `TEST_STORE=clickhouse`.
    ClickHouse(ClickHouse),
    /// `TEST_STORE=mongodb`.
    Mongo(Mongo),
    /// `TEST_STORE=elasticsearch` (in memory: kept running between two xlrs on one data dir).
    Elasticsearch(Elasticsearch),
    /// `TEST_STORE=jsonl-store`: the example storage backend (contract v0.2), installed in the
    /// data dir's plugins, the host applying the xAPI rules over its primitives.
    JsonlStore,
}

impl TestDatabase {
    /// Starts the database `store` names, its data under `dir`.
    pub fn start(store: &str, dir: &Path) -> TestDatabase {
        match store {
            "clickhouse" => Self::ClickHouse(ClickHouse::start_at(&dir.join("clickhouse"))),
            "mongodb" => Self::Mongo(Mongo::start_at(&dir.join("mongodb"))),
            "elasticsearch" => Self::Elasticsearch(
                Elasticsearch::kept_for(dir).unwrap_or_else(Elasticsearch::start),
            ),
            "jsonl-store" => {
                crate::install_plugin(
                    &dir.join("plugins"),
                    "jsonl-store",
                    "jsonl-store",
                    "kind = \"backend\"\n[capabilities]\ndir = \"jsonl-store\"\n[limits]\nmemory_mb = 512\n",
                );
                Self::JsonlStore
            }
            other => panic!("TEST_STORE={other}: not a store the tests know"),
        }
    }

    /// The `XLRS_*` settings that make xlrs store in it.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        match self {
            Self::ClickHouse(c) => vec![
                ("XLRS_STORE", "clickhouse".into()),
                ("XLRS_CLICKHOUSE__URL", c.url()),
            ],
            Self::Mongo(m) => vec![
                ("XLRS_STORE", "mongodb".into()),
                ("XLRS_MONGODB__URI", m.uri()),
            ],
            Self::Elasticsearch(e) => vec![
                ("XLRS_STORE", "elasticsearch".into()),
                ("XLRS_ELASTICSEARCH__URL", e.url()),
            ],
            Self::JsonlStore => vec![("XLRS_STORE", "jsonl-store".into())],
        }
    }
}

/// A ClickHouse server: the real engine (chdb) serving ClickHouse's HTTP interface.
pub struct ClickHouse {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    /// How the engine is configured.
    engine: Engine,
    _owned: Option<tempfile::TempDir>,
}

/// How a test's ClickHouse engine differs from a default one.
#[derive(Default, Clone)]
struct Engine {
    /// The database Aspects' LRS user `lrs` may read and write, when the server has that user.
    lrs_database: Option<String>,
    /// Whether queries may give `throwIf` an error code of their own.
    throwif_codes: bool,
    /// Whether the engine keeps `system.query_log` and `system.part_log`.
    query_log: bool,
    /// The threads each query may use (`max_threads`), when not one per core.
    max_threads: Option<u32>,
}

impl ClickHouse {
    /// Starts a server with an empty data dir of its own.
    pub fn start() -> ClickHouse {
        Self::start_owned(Engine::default())
    }

    /// Starts a server keeping its data in `dir` (created when missing), on a free port.
    pub fn start_at(dir: &Path) -> ClickHouse {
        Self::launch(dir, Engine::default())
    }

    /// Starts a server that also has Aspects' LRS user: `lrs` / `lrs-password`, with only
    /// INSERT and SELECT on `database` (what tutor-contrib-aspects grants it).
    pub fn start_with_lrs_user(database: &str) -> ClickHouse {
        Self::start_owned(Engine {
            lrs_database: Some(database.to_string()),
            ..Engine::default()
        })
    }

    /// Starts a server whose queries may give `throwIf` an error code of their own
    /// (`allow_custom_error_code_in_throwif`): a table constraint throwing a cluster's code
    /// makes this one server refuse inserts as a cluster would; `system.query_log` says which
    /// were refused.
    pub fn start_with_throwif_codes() -> ClickHouse {
        Self::start_owned(Engine {
            throwif_codes: true,
            query_log: true,
            ..Engine::default()
        })
    }

    /// Starts a server keeping `system.query_log` and `system.part_log`, flushed by
    /// `SYSTEM FLUSH LOGS`: what each query did and when.
    pub fn start_with_query_log() -> ClickHouse {
        Self::start_owned(Engine {
            query_log: true,
            ..Engine::default()
        })
    }

    /// Starts a server giving each query at most `threads` threads (`max_threads` in its
    /// default profile), as a server with that many cores would.
    pub fn start_with_max_threads(threads: u32) -> ClickHouse {
        Self::start_owned(Engine {
            max_threads: Some(threads),
            ..Engine::default()
        })
    }

    /// Starts a server in a data dir of its own, dropped with it.
    fn start_owned(engine: Engine) -> ClickHouse {
        let owned = tempfile::tempdir().expect("temp dir");
        let mut server = Self::launch(owned.path(), engine);
        server._owned = Some(owned);
        server
    }

    /// Starts a server configured as `engine` on `dir`, on a free port.
    fn launch(dir: &Path, engine: Engine) -> ClickHouse {
        let mut server = ClickHouse {
            child: None,
            port: free_port(),
            dir: dir.to_path_buf(),
            engine,
            _owned: None,
        };
        server.resume();
        server
    }

    /// Starts the stopped server again, on the same port and data.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/clickhouse_server.py");
        let flag = |on: bool| if on { "1" } else { "0" };
        let max_threads = self.engine.max_threads.map(|n| n.to_string());
        self.child = Some(
            Command::new(venv().join("bin/python"))
                .arg(script)
                .arg(&self.dir)
                .arg(self.port.to_string())
                .args(&self.engine.lrs_database)
                .env("CLICKHOUSE_THROWIF_CODES", flag(self.engine.throwif_codes))
                .env("CLICKHOUSE_QUERY_LOG", flag(self.engine.query_log))
                .env("CLICKHOUSE_MAX_THREADS", max_threads.unwrap_or_default())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("the ClickHouse server starts"),
        );
        let ping = format!("{}/ping", self.url());
        wait_until_ready(&mut self.child, "ClickHouse", 60, || answers(&ping));
    }

    /// Stops the server (SIGKILL); its data stays for [`ClickHouse::resume`].
    pub fn halt(&mut self) {
        kill(&mut self.child);
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Runs one SQL statement; its output (TabSeparated). Panics on an error.
    pub fn sql(&self, sql: &str) -> String {
        let response = reqwest::blocking::Client::new()
            .post(format!("{}/", self.url()))
            .body(sql.to_string())
            .send()
            .expect("ClickHouse answers");
        let status = response.status();
        let text = response.text().unwrap_or_default();
        assert!(status.is_success(), "`{sql}` failed: {text}");
        text
    }
}

impl Drop for ClickHouse {
    fn drop(&mut self) {
        self.halt();
    }
}

/// Elasticsearch servers kept between two xlrs processes on one data dir.
static KEPT: std::sync::Mutex<Vec<(PathBuf, Elasticsearch)>> = std::sync::Mutex::new(Vec::new());

/// An Elasticsearch stand-in: osmem-server, an in-memory server of the OpenSearch REST API.
/// It keeps nothing across a restart.
pub struct Elasticsearch {
    child: Option<Child>,
    port: u16,
}

impl Elasticsearch {
    /// Starts an empty server on a free port.
    pub fn start() -> Elasticsearch {
        let mut server = Elasticsearch {
            child: None,
            port: free_port(),
        };
        server.resume();
        server
    }

    /// Keeps the running server for the next xlrs on `data_dir` (see [`Elasticsearch::kept_for`]):
    /// the stand-in keeps data in memory only, so it outlives the xlrs that used it.
    pub fn keep_for(self, data_dir: &Path) {
        KEPT.lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((data_dir.to_path_buf(), self));
    }

    /// The server kept for `data_dir`, if any.
    pub fn kept_for(data_dir: &Path) -> Option<Elasticsearch> {
        let mut kept = KEPT.lock().unwrap_or_else(|p| p.into_inner());
        let at = kept.iter().position(|(dir, _)| dir == data_dir)?;
        Some(kept.swap_remove(at).1)
    }

    /// Starts the stopped server again on the same port: empty (osmem keeps data in memory).
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        let lib = venv().join("lib");
        let binary = std::fs::read_dir(&lib)
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|python| {
                python
                    .path()
                    .join("site-packages/osmem_server/bin/osmem-server")
            })
            .find(|binary| binary.is_file())
            .unwrap_or_else(|| {
                panic!(
                    "osmem-server is missing under {}: run scripts/databases.sh",
                    lib.display()
                )
            });
        self.child = Some(
            Command::new(binary)
                .arg("-addr")
                .arg(format!("127.0.0.1:{}", self.port))
                .arg("-no-stdin-watch")
                .arg("-parent-pid")
                .arg(std::process::id().to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("the Elasticsearch stand-in starts"),
        );
        let root = format!("{}/", self.url());
        wait_until_ready(&mut self.child, "Elasticsearch", 30, || answers(&root));
    }

    /// Stops the server (SIGKILL); its data is lost.
    pub fn halt(&mut self) {
        kill(&mut self.child);
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sends a request with a JSON (or NDJSON) body; the JSON answer. Panics unless 2xx.
    pub fn request(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<String>,
    ) -> serde_json::Value {
        let mut request =
            reqwest::blocking::Client::new().request(method, format!("{}{path}", self.url()));
        if let Some(body) = body {
            let content_type = if path.contains("_bulk") {
                "application/x-ndjson"
            } else {
                "application/json"
            };
            request = request.header("Content-Type", content_type).body(body);
        }
        let response = request.send().expect("Elasticsearch answers");
        let status = response.status();
        let text = response.text().unwrap_or_default();
        assert!(status.is_success(), "{path} failed: {status} {text}");
        serde_json::from_str(&text).unwrap_or(serde_json::Value::Null)
    }
}

impl Drop for Elasticsearch {
    fn drop(&mut self) {
        self.halt();
    }
}

/// A MongoDB-compatible server (SecantusDB: MongoDB's wire protocol on WiredTiger, reporting a
/// single-member replica set, so transactions work).
pub struct Mongo {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    _owned: Option<tempfile::TempDir>,
}

impl Mongo {
    /// Starts a server with an empty data dir of its own.
    pub fn start() -> Mongo {
        let owned = tempfile::tempdir().expect("temp dir");
        let mut server = Self::start_at(owned.path());
        server._owned = Some(owned);
        server
    }

    /// Starts a server keeping its data in `dir` (created when missing), on a free port.
    pub fn start_at(dir: &Path) -> Mongo {
        std::fs::create_dir_all(dir).expect("data dir");
        let mut server = Mongo {
            child: None,
            port: free_port(),
            dir: dir.to_path_buf(),
            _owned: None,
        };
        server.resume();
        server
    }

    /// Starts the stopped server again, on the same port and data.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        self.child = Some(
            Command::new(venv().join("bin/secantusd-py"))
                .args(["--host", "127.0.0.1", "--port", &self.port.to_string()])
                .arg("--storage-path")
                .arg(&self.dir)
                .args(["--log-level", "WARNING"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("the MongoDB server starts"),
        );
        let port = self.port;
        wait_until_ready(&mut self.child, "MongoDB", 60, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
    }

    /// Stops the server as an operator or a failover would (SIGTERM, SIGKILL after 20 s); its
    /// data stays for [`Mongo::resume`].
    pub fn halt(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// `mongodb://127.0.0.1:PORT`.
    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}", self.port)
    }

    /// Runs a Python snippet with `db` bound to database `database` (pymongo, installed by
    /// scripts/databases.sh); its standard output. Panics when it fails.
    pub fn python(&self, database: &str, code: &str) -> String {
        let script = format!(
            "import pymongo, json\nclient = pymongo.MongoClient({uri:?})\ndb = client[{database:?}]\n{code}\n",
            uri = self.uri()
        );
        let output = Command::new(venv().join("bin/python"))
            .arg("-c")
            .arg(script)
            .output()
            .expect("python runs");
        assert!(
            output.status.success(),
            "the snippet failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

impl Drop for Mongo {
    /// A test is over: SIGKILL, at once (whatever must outlive it is stopped with `halt`).
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

/// An S3-compatible server: moto's, in memory, on a free port, stopped on drop.
pub struct S3Server {
    child: Option<Child>,
    port: u16,
}

impl S3Server {
    /// Starts an empty server.
    pub fn start() -> S3Server {
        let port = free_port();
        let child = Command::new(venv().join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("moto_server starts (scripts/databases.sh installs it)");
        let mut server = S3Server {
            child: Some(child),
            port,
        };
        let url = format!("{}/moto-api/", server.url());
        wait_until_ready(&mut server.child, "S3 (moto)", 60, || answers(&url));
        server
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Creates a bucket.
    pub fn create_bucket(&self, bucket: &str) {
        let r = reqwest::blocking::Client::new()
            .put(format!("{}/{bucket}", self.url()))
            .send()
            .expect("S3 answers");
        assert!(
            r.status().is_success(),
            "creating bucket {bucket}: {}",
            r.status()
        );
    }

    /// The `AWS_*` settings that reach this server.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.url()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}
