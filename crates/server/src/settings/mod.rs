//! Settings: a TOML file plus `XLRS_*` environment variables (env wins, nested keys with `__`),
//! validated once at start-up.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::providers::{Format, Serialized, Toml};
use figment::Figment;
use serde::{Deserialize, Serialize};
use xlrs_store::settings::{check_http_url, SettingError};
use xlrs_store_clickhouse::ClickHouseSettings;
use xlrs_store_elasticsearch::ElasticsearchSettings;
use xlrs_store_mongodb::MongoSettings;
use xlrs_store_sqlite::SqliteSettings;
use xlrs_xapi::version::XapiVersion;

mod kinds;

pub use kinds::{is_plugin_name, LogFormat, StoreKind, XapiVersions};

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

impl From<SettingError> for ConfigError {
    fn from(e: SettingError) -> Self {
        Self::Value {
            key: e.key,
            message: e.message,
        }
    }
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
    /// Compiled plugins, by content hash (default `<data_dir>/plugin-cache`). Each entry is
    /// authenticated with `plugin_cache_key`: servers may share a cache when they share its key.
    pub plugin_cache: Option<PathBuf>,
    /// The secret that authenticates the cache's entries, created readable by this user only
    /// when missing (default `<data_dir>/plugin-cache.key`).
    pub plugin_cache_key: Option<PathBuf>,
    /// Where `xlrs plugin build` installs the npm and PyPI guest toolchains (default
    /// `~/.cache/xlrs/toolchains`).
    pub plugin_toolchains: Option<PathBuf>,
    /// The statement store: `sqlite` (default), `clickhouse`, `mongodb`, `elasticsearch`, or
    /// the name of a backend plugin.
    pub store: StoreKind,
    /// Who writes a database store: `many` (default; any number of processes, positions
    /// reserved in the database) or `one` (this process alone, positions reserved in memory).
    pub writers: xlrs_store::ledger::Writers,
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
    pub log_format: LogFormat,
    /// xAPI versions served, comma-separated (`2.0.0,1.0.3`); the first answers requests that
    /// name none (About, OPTIONS, and the 400 for a missing version header).
    pub xapi_versions: XapiVersions,
    /// The xAPI version a request without `X-Experience-API-Version` is taken to speak. xAPI
    /// requires the header (a request without it is a 400); set this only for producers that
    /// cannot send it. It must be one of `xapi_versions`.
    pub assume_xapi_version: Option<XapiVersion>,
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
    /// Erasure and retention.
    pub lifecycle: crate::lifecycle::LifecycleSettings,
    /// The operator console served at `/console/`.
    pub console: ConsoleSettings,
}

/// The operator console.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ConsoleSettings {
    /// Serve the console (default true); `false` answers 404 under `/console/`.
    pub enabled: bool,
    /// Serve the console's files from this directory instead of the copies compiled into the
    /// binary (for working on the console without rebuilding).
    pub dir: Option<PathBuf>,
    /// Refused requests kept in memory for the console (the newest; default 500).
    pub refusals_kept: usize,
    /// Largest plugin upload (component and manifest) through `/admin/plugins`, in bytes.
    pub max_plugin_bytes: usize,
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: None,
            refusals_kept: 500,
            max_plugin_bytes: 256 * 1024 * 1024,
        }
    }
}

/// One LRS accepted statements are forwarded to.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForwardingTarget {
    /// The target's xAPI base URL, e.g. `https://lrs.example.org/xAPI` (statements are POSTed
    /// to `<url>/statements`), or `plugin:<name>` for a reactor plugin (called with them).
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

impl ForwardingTarget {
    /// The reactor plugin this target calls (`url = "plugin:<name>"`), or None for an LRS.
    pub fn reactor(&self) -> Option<&str> {
        self.url.strip_prefix(REACTOR_SCHEME)
    }
}

/// The `url` prefix of a forwarding target that is a reactor plugin.
pub const REACTOR_SCHEME: &str = "plugin:";

fn yes() -> bool {
    true
}

fn forwarding_batch() -> usize {
    100
}

fn forwarding_timeout() -> u64 {
    10
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8100".into(),
            data_dir: PathBuf::from("./xlrs-data"),
            auth_file: None,
            plugins_dir: None,
            plugin_cache: None,
            plugin_cache_key: None,
            plugin_toolchains: None,
            store: StoreKind::Sqlite,
            writers: xlrs_store::ledger::Writers::Many,
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
            log_format: LogFormat::Text,
            xapi_versions: XapiVersions::default(),
            assume_xapi_version: None,
            sqlite: SqliteSettings::default(),
            clickhouse: ClickHouseSettings::default(),
            mongodb: MongoSettings::default(),
            elasticsearch: ElasticsearchSettings::default(),
            oidc: None,
            forwarding: Vec::new(),
            forwarding_outbox: None,
            lifecycle: Default::default(),
            console: ConsoleSettings::default(),
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
    "plugin_cache_key",
    "plugin_toolchains",
    "store",
    "admin_user",
    "admin_password",
    "authority_home_page",
    "log",
    "log_format",
    "xapi_versions",
    "assume_xapi_version",
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
    "lifecycle__pseudonym_home_page",
    "lifecycle__statements_max_age",
    "lifecycle__statements_age_by",
    "lifecycle__documents_max_age",
    "lifecycle__retention_interval",
    "console__dir",
    "oidc__issuer",
    "oidc__audience",
    "oidc__jwks_file",
    "oidc__jwks_url",
    "oidc__scope_claim",
];

impl Settings {
    /// Loads defaults, then the TOML file (if given), then `XLRS_*` variables, and validates.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::load_with(file, std::env::vars())
    }

    /// [`Settings::load`] with `XLRS_*` variables taken from `vars` instead of the process's
    /// environment (other names are ignored).
    pub fn load_with(
        file: Option<&Path>,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
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
        for (name, value) in vars {
            let Some(key) = name.strip_prefix("XLRS_").filter(|k| !k.is_empty()) else {
                continue;
            };
            let key = key.to_ascii_lowercase();
            let path = key.replace("__", ".");
            figment = if key == "forwarding" {
                // The forwarding targets come as a JSON array, as Ralph's XAPI_FORWARDINGS.
                let targets: Vec<ForwardingTarget> =
                    serde_json::from_str(&value).map_err(|e| ConfigError::Value {
                        key: "forwarding",
                        message: format!("XLRS_FORWARDING must be a JSON array of targets: {e}"),
                    })?;
                figment.merge(Serialized::default("forwarding", targets))
            } else if STRING_KEYS.contains(&key.as_str()) {
                // Values are otherwise parsed as TOML-ish values, so `XLRS_ADMIN_PASSWORD=12345678`
                // would become a number: settings that are text take the variable as it is.
                figment.merge(Serialized::default(&path, value))
            } else {
                let parsed: figment::value::Value = value
                    .parse()
                    .unwrap_or_else(|never: std::convert::Infallible| match never {});
                figment.merge(Serialized::default(&path, parsed))
            };
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
        if self.max_header_bytes < 8192 {
            return Err(ConfigError::Value {
                key: "max_header_bytes",
                message: "must be at least 8192".into(),
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
            ("console.refusals_kept", self.console.refusals_kept as u64),
            (
                "console.max_plugin_bytes",
                self.console.max_plugin_bytes as u64,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Value {
                    key,
                    message: "must be at least 1".into(),
                });
            }
        }
        if let Err((key, message)) = self.lifecycle.validate() {
            return Err(ConfigError::Value { key, message });
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
        if !xlrs_xapi::validate::is_iri(&self.authority_home_page) {
            return Err(ConfigError::Value {
                key: "authority_home_page",
                message: "must be an absolute IRL such as https://lrs.example.org".into(),
            });
        }
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
        if let Some(assumed) = self.assume_xapi_version {
            if !self.xapi_versions.as_slice().contains(&assumed) {
                return Err(ConfigError::Value {
                    key: "assume_xapi_version",
                    message: format!("{} is not among xapi_versions", assumed.as_str()),
                });
            }
        }
        self.clickhouse.validate()?;
        self.mongodb.validate()?;
        self.elasticsearch.validate()?;
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
            match target.reactor() {
                Some(name) if !kinds::is_plugin_name(name) => {
                    return Err(fail(format!(
                        "`{url}`: name a reactor plugin, plugin:<name> (letters, digits, `-`, `_`)"
                    )))
                }
                Some(_) => {}
                None => check_http_url("forwarding", url)?,
            }
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

    /// Where plugins are found, cached and granted directories live.
    pub fn plugin_paths(&self) -> xlrs_plugin_host::PluginPaths {
        xlrs_plugin_host::PluginPaths {
            dir: self.plugins_dir(),
            cache: self
                .plugin_cache
                .clone()
                .unwrap_or_else(|| self.data_dir.join("plugin-cache")),
            cache_key: self
                .plugin_cache_key
                .clone()
                .unwrap_or_else(|| self.data_dir.join("plugin-cache.key")),
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

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        Settings::default().validate().expect("defaults validate");
    }

    #[test]
    fn variables_set_nested_settings_and_text_stays_text() {
        let s = Settings::load_with(
            None,
            vars(&[
                ("XLRS_STORE", "clickhouse"),
                ("XLRS_CLICKHOUSE__DATABASE", "aspects"),
                ("XLRS_MAX_PAGE_SIZE", "50"),
                ("XLRS_ADMIN_USER", "admin"),
                ("XLRS_ADMIN_PASSWORD", "12345678"),
                ("OTHER_STORE", "mongodb"),
            ]),
        )
        .expect("valid");
        assert_eq!(s.store, StoreKind::Clickhouse);
        assert_eq!(s.clickhouse.database, "aspects");
        assert_eq!(s.max_page_size, 50);
        assert_eq!(s.admin_password.as_deref(), Some("12345678"));
    }

    #[test]
    fn a_store_that_is_neither_built_in_nor_a_plugin_name_is_refused() {
        let plugin = Settings::load_with(None, vars(&[("XLRS_STORE", "jsonl-store")]))
            .expect("a plugin name");
        assert_eq!(plugin.store, StoreKind::Plugin("jsonl-store".into()));
        let refused = Settings::load_with(None, vars(&[("XLRS_STORE", "../nope")]));
        assert!(
            matches!(&refused, Err(ConfigError::Invalid(m)) if m.contains("neither a built-in store")),
            "{refused:?}"
        );
    }

    #[test]
    fn a_log_format_or_version_outside_the_set_is_refused() {
        for (name, value) in [
            ("XLRS_LOG_FORMAT", "yaml"),
            ("XLRS_XAPI_VERSIONS", "2.0.0,0.95"),
        ] {
            let refused = Settings::load_with(None, vars(&[(name, value)]));
            assert!(matches!(refused, Err(ConfigError::Invalid(_))), "{name}");
        }
        let json = Settings::load_with(None, vars(&[("XLRS_LOG_FORMAT", "json")]));
        assert_eq!(json.expect("valid").log_format, LogFormat::Json);
    }

    #[test]
    fn a_store_setting_that_cannot_work_is_refused_with_its_name() {
        let refused = Settings::load_with(None, vars(&[("XLRS_CLICKHOUSE__URL", "tcp://x:9000")]));
        assert!(matches!(
            refused,
            Err(ConfigError::Value {
                key: "clickhouse.url",
                ..
            })
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
    fn a_forwarding_target_may_name_a_reactor_plugin_but_not_an_empty_one() {
        let reactor = Settings::load_with(
            None,
            vars(&[("XLRS_FORWARDING", r#"[{"url": "plugin:webhook"}]"#)]),
        )
        .expect("a reactor target");
        assert_eq!(reactor.forwarding[0].reactor(), Some("webhook"));
        for bad in [
            "plugin:",
            "plugin:../x",
            "plugin: webhook",
            "plugin:.hidden",
        ] {
            let forwarding = format!(r#"[{{"url": "{bad}"}}]"#);
            let refused = Settings::load_with(None, vars(&[("XLRS_FORWARDING", &forwarding)]));
            assert!(refused.is_err(), "{bad}");
        }
    }
}
