//! The data toolbox behind `xlrs validate`, `xlrs read`, `xlrs write` and `xlrs list`:
//! statements as JSON lines, checked and moved between backends outside a running server.

pub mod convert;
pub mod fs;
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
    /// The store name a built-in store has in the `store` setting.
    pub fn store_name(self) -> Option<&'static str> {
        match self {
            Self::Sqlite => Some("sqlite"),
            Self::Clickhouse => Some("clickhouse"),
            Self::Mongodb => Some("mongodb"),
            Self::Elasticsearch => Some("elasticsearch"),
            Self::Fs | Self::Lrs | Self::S3 => None,
        }
    }
}
