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
        let client = reqwest::blocking::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if client
                .get(format!("{}/", self.url()))
                .send()
                .is_ok_and(|r| r.status().is_success())
            {
                return;
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("the Elasticsearch stand-in exited at start: {status}");
            }
            assert!(
                Instant::now() < deadline,
                "Elasticsearch did not answer GET / within 30 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server (SIGKILL); its data is lost.
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
