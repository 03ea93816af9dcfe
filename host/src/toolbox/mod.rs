//! The data toolbox behind `xlrs validate`, `xlrs read`, `xlrs write` and `xlrs list`:
//! statements as JSON lines, checked and moved between backends outside a running server.

pub mod convert;
pub mod fs;
pub mod lines;
pub mod lrs;
pub mod progress;
pub mod s3;
pub mod store;
pub mod validate;

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
