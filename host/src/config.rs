//! Settings: a TOML file plus `XLRS_*` environment variables (env wins, nested keys with `__`),
//! validated once at start-up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Env, Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};

use crate::xapi::version::XapiVersion;

/// Why settings could not be loaded; always a usage/config error (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file or environment held an unknown key or a value of the wrong type.
    #[error("invalid settings: {0}")]
    Invalid(String),
    /// A setting's value is well-formed but not acceptable.
    #[error("invalid setting `{key}`: {message}")]
    Value {
        /// The setting's name as an operator writes it.
        key: &'static str,
        /// What is wrong with it.
        message: String,
    },
}

/// Every setting of `xlrs serve` and the CLI.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Address to listen on; port 0 picks a free port (printed at start).
    pub listen: String,
    /// Directory holding the SQLite file, the credentials file and the plugins dir by default.
    pub data_dir: PathBuf,
    /// Credentials file (default `<data_dir>/credentials.json`).
    pub auth_file: Option<PathBuf>,
    /// Plugins directory (default `<data_dir>/plugins`).
    pub plugins_dir: Option<PathBuf>,
    /// Compiled plugins, by content hash (default `<data_dir>/plugin-cache`); servers may
    /// share one.
    pub plugin_cache: Option<PathBuf>,
    /// Where `xlrs plugin build` installs the npm and PyPI guest toolchains (default
    /// `~/.cache/xlrs/toolchains`).
    pub plugin_toolchains: Option<PathBuf>,
    /// The statement store: `sqlite` (default), `clickhouse`, `mongodb`, `elasticsearch`, or
    /// the name of a backend plugin.
    pub store: String,
    /// Username of the admin credential ensured at start-up (with `admin_password`).
    pub admin_user: Option<String>,
    /// Password of the admin credential ensured at start-up.
    pub admin_password: Option<String>,
    /// `homePage` of the account in authorities made from credentials without an agent.
    pub authority_home_page: String,
    /// Largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Most statements a single GET returns (also what `limit=0` means).
    pub max_page_size: usize,
    /// Most statements one POST may carry (a larger batch is a 413).
    pub max_batch_statements: usize,
    /// Longest a request may take, reading its body included (then a 408): slow clients cannot
    /// hold a request slot for ever.
    pub request_timeout_secs: u64,
    /// Most requests handled at once; beyond it requests get a 429 at once instead of queueing.
    pub max_concurrent_requests: usize,
    /// Longest a client may take to send a request's headers (then the connection is closed).
    pub header_read_timeout_secs: u64,
    /// Largest request head (request line and headers) in bytes, at least 8192 (then a 431).
    pub max_header_bytes: usize,
    /// Most connections open at once; beyond it new connections are closed at once.
    pub max_connections: usize,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info` or `xlrs=debug`.
    pub log: String,
    /// Log lines as `text` (default) or `json` (one object per line, with the request id).
    pub log_format: String,
    /// xAPI versions served, comma-separated (`2.0.0,1.0.3`); the first answers requests that
    /// name none (About, OPTIONS, and the 400 for a missing version header).
    pub xapi_versions: String,
    /// SQLite store settings.
    pub sqlite: SqliteSettings,
    /// ClickHouse store settings (used when `store = "clickhouse"`).
    pub clickhouse: ClickHouseSettings,
    /// MongoDB store settings (used when `store = "mongodb"`).
    pub mongodb: MongoSettings,
    /// Elasticsearch / OpenSearch store settings (used when `store = "elasticsearch"`).
    pub elasticsearch: ElasticsearchSettings,
    /// OIDC bearer tokens, accepted beside Basic credentials when set.
    pub oidc: Option<crate::auth::oidc::OidcSettings>,
    /// LRSs every accepted statement is forwarded to (Ralph's `XAPI_FORWARDINGS`); in the
    /// environment, `XLRS_FORWARDING` holds them as a JSON array.
    pub forwarding: Vec<ForwardingTarget>,
    /// The forwarding outbox, a SQLite file (default `<data_dir>/outbox.sqlite3`).
    pub forwarding_outbox: Option<PathBuf>,
}

/// One LRS accepted statements are forwarded to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardingTarget {
    /// The target's xAPI base URL, e.g. `https://lrs.example.org/xAPI` (statements are POSTed
    /// to `<url>/statements`).
    pub url: String,
    /// Basic auth username (with `password`).
    #[serde(default, alias = "basic_username")]
    pub username: Option<String>,
    /// Basic auth password.
    #[serde(default, alias = "basic_password")]
    pub password: Option<String>,
    /// False keeps the target configured but forwards nothing to it (Ralph's `is_active`).
    #[serde(default = "yes")]
    pub is_active: bool,
    /// Most statements per POST.
    #[serde(default = "forwarding_batch")]
    pub batch_size: usize,
    /// Seconds a POST may take before it counts as failed and is retried.
    #[serde(default = "forwarding_timeout", alias = "timeout")]
    pub timeout_secs: u64,
}

fn yes() -> bool {
    true
}

fn forwarding_batch() -> usize {
    100
}

fn forwarding_timeout() -> u64 {
    10
}

/// Settings of the embedded SQLite store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SqliteSettings {
    /// Database file (default `<data_dir>/xlrs.sqlite3`).
    pub path: Option<PathBuf>,
    /// Read connections kept open for queries.
    pub readers: usize,
}

/// Settings of the ClickHouse store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ClickHouseSettings {
    /// The server's HTTP interface, `http://` or `https://` (default `http://127.0.0.1:8123`).
    pub url: String,
    /// Database holding the tables; created when missing.
    pub database: String,
    /// User name (the server's `default` user when unset).
    pub user: Option<String>,
    /// Password of `user`.
    pub password: Option<String>,
    /// Ralph's table of events (`event_id`, `emission_time`, `event`), which Open edX Aspects
    /// reads: every stored statement is written there too, and rows found there at start-up
    /// are indexed and served. Empty: not written.
    pub events_table: String,
    /// The table xlrs queries: each statement with its query fields.
    pub statements_table: String,
}

impl Default for ClickHouseSettings {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:8123".into(),
            database: "xapi".into(),
            user: None,
            password: None,
            events_table: "xapi_events_all".into(),
            statements_table: "xlrs_statements".into(),
        }
    }
}

/// Settings of the MongoDB store.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MongoSettings {
    /// Connection string, `mongodb://` or `mongodb+srv://`: hosts, credentials, TLS and replica
    /// set options as MongoDB documents them (default `mongodb://127.0.0.1:27017`).
    pub uri: String,
    /// Database holding the collections.
    pub database: String,
    /// Statements, in Ralph's layout (`_source` is the statement) plus xlrs's query fields.
    pub collection: String,
    /// State, Activity Profile and Agent Profile documents.
    pub documents_collection: String,
}

impl Default for MongoSettings {
    fn default() -> Self {
        Self {
            uri: "mongodb://127.0.0.1:27017".into(),
            database: "xlrs".into(),
            collection: "statements".into(),
            documents_collection: "documents".into(),
        }
    }
}

/// Settings of the Elasticsearch store (Elasticsearch 8 or OpenSearch 2).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ElasticsearchSettings {
    /// The server, `http://` or `https://` (default `http://127.0.0.1:9200`).
    pub url: String,
    /// User name for Basic authentication (with `password`).
    pub username: Option<String>,
    /// Password of `username`.
    pub password: Option<String>,
    /// An API key, base64-encoded `id:key` (the `encoded` value Elasticsearch returns).
    pub api_key: Option<String>,
    /// PEM file of the CA that signed the server's certificate (a cluster's own CA, as
    /// Elasticsearch's security set-up makes); unset: the webpki roots.
    pub ca_file: Option<PathBuf>,
    /// Ralph's statements index (Ralph's `ES_INDEX`): each statement as a document, `_id` its
    /// id, `_source` the statement. Written on every insert; documents found there at
    /// start-up that xlrs has not indexed are adopted. Empty: not written.
    pub index: String,
    /// The index xlrs queries: each statement with its query fields.
    pub query_index: String,
    /// The documents index (State, Activity Profile, Agent Profile).
    pub documents_index: String,
}

impl Default for ElasticsearchSettings {
    fn default() -> Self {
        Self {
            url: "http://127.0.0.1:9200".into(),
            username: None,
            password: None,
            api_key: None,
            ca_file: None,
            index: "statements".into(),
            query_index: "xlrs_statements".into(),
            documents_index: "xlrs_documents".into(),
        }
    }
}

/// True for a name Elasticsearch accepts for an index: lowercase, at most 255 bytes, not `.`
/// or `..`, not starting with `-`, `_` or `+`, none of `\ / * ? " < > | , # :` or spaces.
fn is_index_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && !name.starts_with(['-', '_', '+'])
        && name
            .chars()
            .all(|c| !c.is_uppercase() && !c.is_whitespace() && !"\\/*?\"<>|,#:".contains(c))
}

/// Refuses a setting `key` whose value is not an `http://` or `https://` URL.
fn check_http_url(key: &'static str, url: &str) -> Result<(), ConfigError> {
    if (url.starts_with("http://") || url.starts_with("https://"))
        && reqwest::Url::parse(url).is_ok()
    {
        return Ok(());
    }
    Err(ConfigError::Value {
        key,
        message: format!("`{url}` is not an http:// or https:// URL"),
    })
}

/// True for a plain SQL identifier: a letter or `_`, then letters, digits or `_`.
fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8100".into(),
            data_dir: PathBuf::from("./xlrs-data"),
            auth_file: None,
            plugins_dir: None,
            plugin_cache: None,
            plugin_toolchains: None,
            store: "sqlite".into(),
            admin_user: None,
            admin_password: None,
            authority_home_page: "http://localhost".into(),
            max_body_bytes: 64 * 1024 * 1024,
            max_page_size: 1000,
            max_batch_statements: 10_000,
            request_timeout_secs: 60,
            max_concurrent_requests: 1024,
            header_read_timeout_secs: 30,
            max_header_bytes: 64 * 1024,
            max_connections: 10_000,
            log: "info".into(),
            log_format: "text".into(),
            xapi_versions: "2.0.0,1.0.3".into(),
            sqlite: SqliteSettings::default(),
            clickhouse: ClickHouseSettings::default(),
            mongodb: MongoSettings::default(),
            elasticsearch: ElasticsearchSettings::default(),
            oidc: None,
            forwarding: Vec::new(),
            forwarding_outbox: None,
        }
    }
}

impl Default for SqliteSettings {
    fn default() -> Self {
        Self {
            path: None,
            readers: 4,
        }
    }
}

/// Settings whose values are text, named as in `XLRS_*` variables (lowercase, `__` nesting).
const STRING_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "auth_file",
    "plugins_dir",
    "plugin_cache",
    "plugin_toolchains",
    "store",
    "admin_user",
    "admin_password",
    "authority_home_page",
    "log",
    "log_format",
    "xapi_versions",
    "sqlite__path",
    "clickhouse__url",
    "clickhouse__database",
    "clickhouse__user",
    "clickhouse__password",
    "clickhouse__events_table",
    "clickhouse__statements_table",
    "mongodb__uri",
    "mongodb__database",
    "mongodb__collection",
    "mongodb__documents_collection",
    "elasticsearch__url",
    "elasticsearch__username",
    "elasticsearch__password",
    "elasticsearch__api_key",
    "elasticsearch__ca_file",
    "elasticsearch__index",
    "elasticsearch__query_index",
    "elasticsearch__documents_index",
    "forwarding_outbox",
    "oidc__issuer",
    "oidc__audience",
    "oidc__jwks_file",
    "oidc__jwks_url",
    "oidc__scope_claim",
];

/// The stores built into this binary.
pub const BUILT_IN_STORES: &[&str] = &["sqlite", "clickhouse", "mongodb", "elasticsearch"];

impl Settings {
    /// Loads defaults, then the TOML file (if given), then `XLRS_*` variables, and validates.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(file) = file {
            if !file.is_file() {
                return Err(ConfigError::Invalid(format!(
                    "config file {} does not exist",
                    file.display()
                )));
            }
            figment = figment.merge(Toml::file(file));
        }
        // Env values are parsed as TOML-ish values, so `XLRS_ADMIN_PASSWORD=12345678` would
        // become a number: settings that are strings take the variable's text as it is.
        figment = figment.merge(
            Env::prefixed("XLRS_")
                .filter(|k| {
                    let key = k.as_str().to_ascii_lowercase();
                    !STRING_KEYS.contains(&key.as_str()) && key != "forwarding"
                })
                .split("__"),
        );
        // The forwarding targets come as a JSON array, as Ralph's XAPI_FORWARDINGS.
        if let Ok(json) = std::env::var("XLRS_FORWARDING") {
            let targets: Vec<ForwardingTarget> =
                serde_json::from_str(&json).map_err(|e| ConfigError::Value {
                    key: "forwarding",
                    message: format!("XLRS_FORWARDING must be a JSON array of targets: {e}"),
                })?;
            figment = figment.merge(Serialized::default("forwarding", targets));
        }
        for (key, value) in Env::prefixed("XLRS_").iter() {
            let key = key.as_str().to_ascii_lowercase();
            if STRING_KEYS.contains(&key.as_str()) {
                figment = figment.merge(Serialized::default(&key.replace("__", "."), value));
            }
        }
        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Invalid(e.to_string()))?;
        settings.validate()?;
        Ok(settings)
    }

    /// Checks values that deserialize fine but cannot work.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.listen_addr()?;
        let plugin_name = !self.store.is_empty()
            && self
                .store
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !BUILT_IN_STORES.contains(&self.store.as_str()) && !plugin_name {
            return Err(ConfigError::Value {
                key: "store",
                message: format!(
                    "`{}` is neither a built-in store ({}) nor a plugin name (letters, digits, `-`, `_`)",
                    self.store,
                    BUILT_IN_STORES.join(", ")
                ),
            });
        }
        if self.max_header_bytes < 8192 {
            return Err(ConfigError::Value {
                key: "max_header_bytes",
                message: "must be at least 8192".into(),
            });
        }
        if !["text", "json"].contains(&self.log_format.as_str()) {
            return Err(ConfigError::Value {
                key: "log_format",
                message: format!("`{}` is neither `text` nor `json`", self.log_format),
            });
        }
        for (key, value) in [
            ("max_body_bytes", self.max_body_bytes as u64),
            ("max_page_size", self.max_page_size as u64),
            ("max_batch_statements", self.max_batch_statements as u64),
            ("request_timeout_secs", self.request_timeout_secs),
            (
                "max_concurrent_requests",
                self.max_concurrent_requests as u64,
            ),
            ("header_read_timeout_secs", self.header_read_timeout_secs),
            ("max_connections", self.max_connections as u64),
        ] {
            if value == 0 {
                return Err(ConfigError::Value {
                    key,
                    message: "must be at least 1".into(),
                });
            }
        }
        if self.admin_user.is_some() != self.admin_password.is_some() {
            return Err(ConfigError::Value {
                key: "admin_user/admin_password",
                message: "set both or neither".into(),
            });
        }
        if let Some(p) = &self.admin_password {
            if p.len() < 8 {
                return Err(ConfigError::Value {
                    key: "admin_password",
                    message: "must be at least 8 characters".into(),
                });
            }
        }
        if !crate::xapi::validate::is_iri(&self.authority_home_page) {
            return Err(ConfigError::Value {
                key: "authority_home_page",
                message: "must be an absolute IRL such as https://lrs.example.org".into(),
            });
        }
        self.versions()?;
        if self.max_page_size == 0 {
            return Err(ConfigError::Value {
                key: "max_page_size",
                message: "must be at least 1".into(),
            });
        }
        if self.sqlite.readers == 0 {
            return Err(ConfigError::Value {
                key: "sqlite.readers",
                message: "must be at least 1".into(),
            });
        }
        self.validate_clickhouse()?;
        self.validate_mongodb()?;
        self.validate_elasticsearch()?;
        self.validate_forwarding()?;
        tracing_subscriber::EnvFilter::try_new(&self.log).map_err(|e| ConfigError::Value {
            key: "log",
            message: e.to_string(),
        })?;
        Ok(())
    }

    fn validate_forwarding(&self) -> Result<(), ConfigError> {
        let mut urls = std::collections::HashSet::new();
        for target in &self.forwarding {
            let fail = |message: String| ConfigError::Value {
                key: "forwarding",
                message,
            };
            let url = &target.url;
            check_http_url("forwarding", url)?;
            if !urls.insert(url.trim_end_matches('/')) {
                return Err(fail(format!("`{url}` is listed twice")));
            }
            if target.batch_size == 0 || target.timeout_secs == 0 {
                return Err(fail(format!(
                    "batch_size and timeout_secs of `{url}` must be at least 1"
                )));
            }
        }
        Ok(())
    }

    fn validate_clickhouse(&self) -> Result<(), ConfigError> {
        let c = &self.clickhouse;
        check_http_url("clickhouse.url", &c.url)?;
        for (key, name, may_be_empty) in [
            ("clickhouse.database", &c.database, false),
            ("clickhouse.events_table", &c.events_table, true),
            ("clickhouse.statements_table", &c.statements_table, false),
        ] {
            if !(is_identifier(name) || may_be_empty && name.is_empty()) {
                return Err(ConfigError::Value {
                    key,
                    message: format!(
                        "`{name}` is not a plain identifier (a letter or `_`, then letters, digits, `_`)"
                    ),
                });
            }
        }
        if c.events_table == c.statements_table {
            return Err(ConfigError::Value {
                key: "clickhouse.statements_table",
                message: "must differ from clickhouse.events_table".into(),
            });
        }
        Ok(())
    }

    fn validate_elasticsearch(&self) -> Result<(), ConfigError> {
        let e = &self.elasticsearch;
        check_http_url("elasticsearch.url", &e.url)?;
        if e.username.is_some() != e.password.is_some() {
            return Err(ConfigError::Value {
                key: "elasticsearch.username/elasticsearch.password",
                message: "set both or neither".into(),
            });
        }
        if e.username.is_some() && e.api_key.is_some() {
            return Err(ConfigError::Value {
                key: "elasticsearch.api_key",
                message: "set either api_key or username and password, not both".into(),
            });
        }
        if let Some(ca) = e.ca_file.as_ref().filter(|ca| !ca.is_file()) {
            return Err(ConfigError::Value {
                key: "elasticsearch.ca_file",
                message: format!("{} is not a file", ca.display()),
            });
        }
        for (key, name, may_be_empty) in [
            ("elasticsearch.index", &e.index, true),
            ("elasticsearch.query_index", &e.query_index, false),
            ("elasticsearch.documents_index", &e.documents_index, false),
        ] {
            if !(is_index_name(name) || may_be_empty && name.is_empty()) {
                return Err(ConfigError::Value {
                    key,
                    message: format!("`{name}` is not an index name (lowercase, no spaces or \\/*?\"<>|,#:, not starting with -_+)"),
                });
            }
        }
        if e.index == e.query_index
            || e.index == e.documents_index
            || e.query_index == e.documents_index
        {
            return Err(ConfigError::Value {
                key: "elasticsearch.query_index",
                message: "index, query_index and documents_index must be three different indices"
                    .into(),
            });
        }
        Ok(())
    }

    fn validate_mongodb(&self) -> Result<(), ConfigError> {
        let m = &self.mongodb;
        if !(m.uri.starts_with("mongodb://") || m.uri.starts_with("mongodb+srv://")) {
            return Err(ConfigError::Value {
                key: "mongodb.uri",
                message: format!("`{}` is not a mongodb:// or mongodb+srv:// URI", m.uri),
            });
        }
        // MongoDB's naming rules: a database name has none of `/\. "$` and is at most 63
        // bytes; a collection name has no `$`, does not start with `system.`.
        if m.database.is_empty()
            || m.database.len() > 63
            || m.database.contains(['/', '\\', '.', ' ', '"', '$', '\0'])
        {
            return Err(ConfigError::Value {
                key: "mongodb.database",
                message: format!("`{}` is not a MongoDB database name", m.database),
            });
        }
        for (key, name) in [
            ("mongodb.collection", &m.collection),
            ("mongodb.documents_collection", &m.documents_collection),
        ] {
            if name.is_empty() || name.contains(['$', '\0']) || name.starts_with("system.") {
                return Err(ConfigError::Value {
                    key,
                    message: format!("`{name}` is not a MongoDB collection name"),
                });
            }
        }
        if m.collection == m.documents_collection {
            return Err(ConfigError::Value {
                key: "mongodb.documents_collection",
                message: "must differ from mongodb.collection".into(),
            });
        }
        Ok(())
    }

    /// The xAPI versions served, in `xapi_versions` order (never empty).
    pub fn versions(&self) -> Result<Vec<XapiVersion>, ConfigError> {
        let mut versions = Vec::new();
        for name in self.xapi_versions.split(',').map(str::trim) {
            let version = XapiVersion::ALL
                .into_iter()
                .find(|v| v.as_str() == name)
                .ok_or_else(|| ConfigError::Value {
                    key: "xapi_versions",
                    message: format!(
                        "`{name}` is not a version xlrs serves ({})",
                        XapiVersion::ALL.map(XapiVersion::as_str).join(", ")
                    ),
                })?;
            if !versions.contains(&version) {
                versions.push(version);
            }
        }
        Ok(versions)
    }

    /// The socket address from `listen`.
    pub fn listen_addr(&self) -> Result<SocketAddr, ConfigError> {
        self.listen.parse().map_err(|_| ConfigError::Value {
            key: "listen",
            message: format!("`{}` is not an address like 127.0.0.1:8100", self.listen),
        })
    }

    /// The credentials file in effect.
    pub fn auth_file(&self) -> PathBuf {
        self.auth_file
            .clone()
            .unwrap_or_else(|| self.data_dir.join("credentials.json"))
    }

    /// The plugins directory in effect.
    pub fn plugins_dir(&self) -> PathBuf {
        self.plugins_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("plugins"))
    }

    /// True when `store` names a backend plugin rather than a built-in store.
    pub fn store_is_plugin(&self) -> bool {
        !BUILT_IN_STORES.contains(&self.store.as_str())
    }

    /// Where plugins are found, cached and granted directories live.
    pub fn plugin_paths(&self) -> crate::plugins::PluginPaths {
        crate::plugins::PluginPaths {
            dir: self.plugins_dir(),
            cache: self
                .plugin_cache
                .clone()
                .unwrap_or_else(|| self.data_dir.join("plugin-cache")),
            data: self.data_dir.join("plugin-data"),
        }
    }

    /// The forwarding outbox file in effect.
    pub fn forwarding_outbox(&self) -> PathBuf {
        self.forwarding_outbox
            .clone()
            .unwrap_or_else(|| self.data_dir.join("outbox.sqlite3"))
    }

    /// The SQLite database file in effect.
    pub fn sqlite_path(&self) -> PathBuf {
        self.sqlite
            .path
            .clone()
            .unwrap_or_else(|| self.data_dir.join("xlrs.sqlite3"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        Settings::default().validate().expect("defaults validate");
    }

    #[test]
    fn a_store_that_is_neither_built_in_nor_a_plugin_name_is_refused() {
        let plugin = Settings {
            store: "jsonl-store".into(),
            ..Settings::default()
        };
        assert!(plugin.validate().is_ok() && plugin.store_is_plugin());
        let s = Settings {
            store: "../nope".into(),
            ..Settings::default()
        };
        assert!(matches!(
            s.validate(),
            Err(ConfigError::Value { key: "store", .. })
        ));
    }

    #[test]
    fn limits_of_zero_are_refused() {
        for s in [
            Settings {
                max_connections: 0,
                ..Settings::default()
            },
            Settings {
                header_read_timeout_secs: 0,
                ..Settings::default()
            },
            Settings {
                max_batch_statements: 0,
                ..Settings::default()
            },
        ] {
            assert!(matches!(s.validate(), Err(ConfigError::Value { .. })));
        }
    }

    #[test]
    fn a_bad_listen_address_is_refused() {
        let s = Settings {
            listen: "nonsense".into(),
            ..Settings::default()
        };
        assert!(s.validate().is_err());
    }

    #[test]
    fn clickhouse_settings_that_cannot_work_are_refused_at_start() {
        let with = |c: ClickHouseSettings| Settings {
            store: "clickhouse".into(),
            clickhouse: c,
            ..Settings::default()
        };
        assert!(with(ClickHouseSettings::default()).validate().is_ok());
        for (bad, key) in [
            (
                ClickHouseSettings {
                    url: "tcp://127.0.0.1:9000".into(),
                    ..ClickHouseSettings::default()
                },
                "clickhouse.url",
            ),
            (
                ClickHouseSettings {
                    database: "xapi; DROP TABLE x".into(),
                    ..ClickHouseSettings::default()
                },
                "clickhouse.database",
            ),
            (
                ClickHouseSettings {
                    statements_table: "xapi_events_all".into(),
                    ..ClickHouseSettings::default()
                },
                "clickhouse.statements_table",
            ),
        ] {
            assert!(
                matches!(with(bad).validate(), Err(ConfigError::Value { key: k, .. }) if k == key),
                "{key} is checked"
            );
        }
        let without_events = ClickHouseSettings {
            events_table: String::new(),
            ..ClickHouseSettings::default()
        };
        assert!(
            with(without_events).validate().is_ok(),
            "an empty events table turns it off"
        );
    }

    #[test]
    fn elasticsearch_settings_that_cannot_work_are_refused_at_start() {
        let with = |e: ElasticsearchSettings| Settings {
            store: "elasticsearch".into(),
            elasticsearch: e,
            ..Settings::default()
        };
        assert!(with(ElasticsearchSettings::default()).validate().is_ok());
        for (bad, key) in [
            (
                ElasticsearchSettings {
                    url: "127.0.0.1:9200".into(),
                    ..ElasticsearchSettings::default()
                },
                "elasticsearch.url",
            ),
            (
                ElasticsearchSettings {
                    username: Some("elastic".into()),
                    ..ElasticsearchSettings::default()
                },
                "elasticsearch.username/elasticsearch.password",
            ),
            (
                ElasticsearchSettings {
                    username: Some("elastic".into()),
                    password: Some("secret".into()),
                    api_key: Some("aWQ6a2V5".into()),
                    ..ElasticsearchSettings::default()
                },
                "elasticsearch.api_key",
            ),
            (
                ElasticsearchSettings {
                    ca_file: Some("/nonexistent/ca.pem".into()),
                    ..ElasticsearchSettings::default()
                },
                "elasticsearch.ca_file",
            ),
            (
                ElasticsearchSettings {
                    index: "Statements".into(),
                    ..ElasticsearchSettings::default()
                },
                "elasticsearch.index",
            ),
            (
                ElasticsearchSettings {
                    documents_index: "_docs".into(),
                    ..ElasticsearchSettings::default()
                },
                "elasticsearch.documents_index",
            ),
            (
                ElasticsearchSettings {
                    query_index: "statements".into(),
                    ..ElasticsearchSettings::default()
                },
                "elasticsearch.query_index",
            ),
        ] {
            assert!(
                matches!(with(bad).validate(), Err(ConfigError::Value { key: k, .. }) if k == key),
                "{key} is checked"
            );
        }
        let without_ralph = ElasticsearchSettings {
            index: String::new(),
            ..ElasticsearchSettings::default()
        };
        assert!(
            with(without_ralph).validate().is_ok(),
            "an empty index turns Ralph's index off"
        );
    }

    #[test]
    fn mongodb_settings_that_cannot_work_are_refused_at_start() {
        let with = |m: MongoSettings| Settings {
            store: "mongodb".into(),
            mongodb: m,
            ..Settings::default()
        };
        assert!(with(MongoSettings::default()).validate().is_ok());
        let srv = MongoSettings {
            uri: "mongodb+srv://u:p@cluster0.example.net/?tls=true".into(),
            ..MongoSettings::default()
        };
        assert!(with(srv).validate().is_ok(), "SRV connection strings work");
        for (bad, key) in [
            (
                MongoSettings {
                    uri: "http://127.0.0.1:27017".into(),
                    ..MongoSettings::default()
                },
                "mongodb.uri",
            ),
            (
                MongoSettings {
                    database: "my.db".into(),
                    ..MongoSettings::default()
                },
                "mongodb.database",
            ),
            (
                MongoSettings {
                    collection: "system.users".into(),
                    ..MongoSettings::default()
                },
                "mongodb.collection",
            ),
            (
                MongoSettings {
                    documents_collection: "statements".into(),
                    ..MongoSettings::default()
                },
                "mongodb.documents_collection",
            ),
        ] {
            assert!(
                matches!(with(bad).validate(), Err(ConfigError::Value { key: k, .. }) if k == key),
                "{key} is checked"
            );
        }
    }
}
