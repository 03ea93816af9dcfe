//! The data toolbox behind `xlrs validate`, `xlrs read`, `xlrs write` and `xlrs list`:
//! statements as JSON lines, checked and moved between backends outside a running server.
//! Every backend is a [`Backend`]: read, written, and (files, objects, archives) listed; the
//! command line opens the one named with [`open`] and calls it.

mod backends;
pub mod convert;
pub mod fs;
pub mod ldp;
pub mod lines;
pub mod lrs;
pub mod progress;
pub mod s3;
pub mod store;
pub mod swift;
pub mod validate;
pub mod voided;
pub mod ws;

pub use backends::{open, Backend, ReadFrom, WriteTo, Written};

/// Where statements are read from or written to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// JSON-lines files in a directory (`.gz` read too).
    Fs,
    /// An LRS over HTTP (the xAPI statements resource).
    Lrs,
    /// S3-compatible object storage (`--url s3://bucket/prefix`, `AWS_*` variables).
    S3,
    /// The embedded SQLite store (settings `[sqlite]`, or `--path` for its file).
    Sqlite,
    /// ClickHouse, in Ralph's layout (settings `[clickhouse]` / `XLRS_CLICKHOUSE__*`).
    Clickhouse,
    /// MongoDB, in Ralph's layout (settings `[mongodb]` / `XLRS_MONGODB__*`).
    Mongodb,
    /// Elasticsearch / OpenSearch, in Ralph's layout (`[elasticsearch]`).
    Elasticsearch,
    /// OpenStack Swift object storage (`--url swift://container/prefix`, `OS_*` variables).
    Swift,
    /// OVH Logs Data Platform: archives read through the OVH API, GELF written to an input
    /// (`--url ldp://service/stream`, `OVH_*` variables).
    Ldp,
    /// A WebSocket stream (`--url ws://…` or `wss://…`), one statement per text message.
    Ws,
}

impl BackendKind {
    /// The backend's name on the command line (for a built-in store, also its `store` setting).
    pub fn name(self) -> &'static str {
        match self {
            Self::Fs => "fs",
            Self::Lrs => "lrs",
            Self::S3 => "s3",
            Self::Sqlite => "sqlite",
            Self::Clickhouse => "clickhouse",
            Self::Mongodb => "mongodb",
            Self::Elasticsearch => "elasticsearch",
            Self::Swift => "swift",
            Self::Ldp => "ldp",
            Self::Ws => "ws",
        }
    }
}

/// The name a write gives its file or object when none is asked for.
pub fn default_name() -> String {
    format!(
        "statements-{}.jsonl",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ")
    )
}

/// The connection options `xlrs read|write|list` shares between backends; each backend reads
/// the ones it needs and falls back to its own environment variables.
#[derive(Debug, Clone, Default)]
pub struct Access {
    /// `--url`: where the statements are (`swift://…`, `ldp://…`, `ws://…`).
    pub url: Option<String>,
    /// `--auth-url`: the authentication service (Keystone, the OVH API).
    pub auth_url: Option<String>,
    /// `--username`.
    pub username: Option<String>,
    /// `--password`.
    pub password: Option<String>,
    /// `--project`: the OpenStack project.
    pub project: Option<String>,
    /// `--region`.
    pub region: Option<String>,
    /// `--token`: a Swift auth token, the LDP stream's write token.
    pub token: Option<String>,
    /// `--endpoint`: the Swift storage URL, the LDP GELF input.
    pub endpoint: Option<String>,
}

/// `flag` when given, else the first of the environment variables `vars` that is set and not
/// empty.
pub fn flag_or_env(flag: &Option<String>, vars: &[&str]) -> Option<String> {
    flag.clone().or_else(|| {
        vars.iter()
            .find_map(|v| std::env::var(v).ok().filter(|s| !s.is_empty()))
    })
}

/// `response` when it is a success, else an error naming the `service`, what was done, the
/// status and the answer (its JSON `message` when it has one).
pub fn success(
    response: reqwest::blocking::Response,
    service: &str,
    what: impl FnOnce() -> String,
) -> anyhow::Result<reqwest::blocking::Response> {
    let status = response.status();
    if status.is_success() {
        return Ok(response);
    }
    let body = response.text().unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["message"].as_str().map(str::to_string))
        .unwrap_or(body);
    anyhow::bail!("{service}: {} failed: {status} {}", what(), message.trim())
}
