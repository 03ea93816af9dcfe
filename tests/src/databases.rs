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

/// A port nobody listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// The database every black-box test's server stores in under `TEST_STORE` (kept in the
/// xlrs data dir, so it survives xlrs restarts).
pub enum TestDatabase {
    /// `TEST_STORE=clickhouse`.
    ClickHouse(ClickHouse),
    /// `TEST_STORE=mongodb`.
    Mongo(Mongo),
}

impl TestDatabase {
    /// Starts the database `store` names, its data under `dir`.
    pub fn start(store: &str, dir: &Path) -> TestDatabase {
        match store {
            "clickhouse" => Self::ClickHouse(ClickHouse::start_at(&dir.join("clickhouse"))),
            "mongodb" => Self::Mongo(Mongo::start_at(&dir.join("mongodb"))),
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
        }
    }
}

/// A ClickHouse server: the real engine (chdb) serving ClickHouse's HTTP interface.
pub struct ClickHouse {
    child: Option<Child>,
    port: u16,
    dir: PathBuf,
    _owned: Option<tempfile::TempDir>,
}

impl ClickHouse {
    /// Starts a server with an empty data dir of its own.
    pub fn start() -> ClickHouse {
        let owned = tempfile::tempdir().expect("temp dir");
        let mut server = Self::start_at(owned.path());
        server._owned = Some(owned);
        server
    }

    /// Starts a server keeping its data in `dir` (created when missing), on a free port.
    pub fn start_at(dir: &Path) -> ClickHouse {
        let mut server = ClickHouse {
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
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/clickhouse_server.py");
        self.child = Some(
            Command::new(venv().join("bin/python"))
                .arg(script)
                .arg(&self.dir)
                .arg(self.port.to_string())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("the ClickHouse server starts"),
        );
        let client = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if client
                .get(format!("{}/ping", self.url()))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("the ClickHouse server exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "ClickHouse did not answer /ping within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server (SIGKILL); its data stays for [`ClickHouse::resume`].
    pub fn halt(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
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
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("the MongoDB server exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "MongoDB did not accept connections within 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server (SIGKILL: a crash, which its journal survives); its data stays for
    /// [`Mongo::resume`].
    pub fn halt(&mut self) {
        if let Some(mut child) = self.child.take() {
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
    fn drop(&mut self) {
        self.halt();
    }
}
