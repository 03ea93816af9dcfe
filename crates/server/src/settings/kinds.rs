//! The settings whose values come from a fixed set, as types: a value outside the set is
//! refused when the settings are read, with the set in the message.

use std::fmt;

use serde::{Deserialize, Serialize};
use xlrs_xapi::version::XapiVersion;

/// Where statements are stored (`store`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum StoreKind {
    /// The embedded SQLite store (the default).
    #[default]
    Sqlite,
    /// ClickHouse (`[clickhouse]`).
    Clickhouse,
    /// MongoDB (`[mongodb]`).
    Mongodb,
    /// Elasticsearch or OpenSearch (`[elasticsearch]`).
    Elasticsearch,
    /// The backend plugin of this name (statements only; the rest stays embedded).
    Plugin(String),
}

impl StoreKind {
    /// Whether it is a database server several processes share (ClickHouse, MongoDB,
    /// Elasticsearch), where everything the LRS keeps lives in the database.
    pub fn is_database(&self) -> bool {
        matches!(self, Self::Clickhouse | Self::Mongodb | Self::Elasticsearch)
    }

    /// The stores built into this binary.
    pub const BUILT_IN: [StoreKind; 4] = [
        Self::Sqlite,
        Self::Clickhouse,
        Self::Mongodb,
        Self::Elasticsearch,
    ];

    /// The name as the setting holds it.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Sqlite => "sqlite",
            Self::Clickhouse => "clickhouse",
            Self::Mongodb => "mongodb",
            Self::Elasticsearch => "elasticsearch",
            Self::Plugin(name) => name,
        }
    }
}

/// Whether `name` can name a plugin in settings (a store, a reactor): letters, digits, `-`,
/// `_` — never a path.
pub fn is_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

impl TryFrom<String> for StoreKind {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        if let Some(built_in) = Self::BUILT_IN.into_iter().find(|k| k.as_str() == name) {
            return Ok(built_in);
        }
        if is_plugin_name(&name) {
            return Ok(Self::Plugin(name));
        }
        let built_in: Vec<&str> = Self::BUILT_IN.iter().map(StoreKind::as_str).collect();
        Err(format!(
            "`{name}` is neither a built-in store ({}) nor a plugin name (letters, digits, `-`, `_`)",
            built_in.join(", ")
        ))
    }
}

impl From<StoreKind> for String {
    fn from(kind: StoreKind) -> String {
        kind.as_str().to_string()
    }
}

impl fmt::Display for StoreKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How log lines are written (`log_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines (the default).
    #[default]
    Text,
    /// One JSON object per line, with the request's span (id, method, path).
    Json,
}

/// The xAPI versions served, the default first (`xapi_versions`, comma-separated).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct XapiVersions(Vec<XapiVersion>);

impl XapiVersions {
    /// The versions, the default first (never empty).
    pub fn as_slice(&self) -> &[XapiVersion] {
        &self.0
    }
}

impl Default for XapiVersions {
    fn default() -> Self {
        Self(vec![XapiVersion::V2_0_0, XapiVersion::V1_0_3])
    }
}

impl TryFrom<String> for XapiVersions {
    type Error = String;

    fn try_from(list: String) -> Result<Self, String> {
        let mut versions = Vec::new();
        for name in list.split(',').map(str::trim) {
            let version = XapiVersion::ALL
                .into_iter()
                .find(|v| v.as_str() == name)
                .ok_or_else(|| {
                    format!(
                        "`{name}` is not a version xlrs serves ({})",
                        XapiVersion::ALL.map(XapiVersion::as_str).join(", ")
                    )
                })?;
            if !versions.contains(&version) {
                versions.push(version);
            }
        }
        Ok(Self(versions))
    }
}

impl From<XapiVersions> for String {
    fn from(versions: XapiVersions) -> String {
        let names: Vec<&str> = versions.0.iter().map(|v| v.as_str()).collect();
        names.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_is_a_built_in_one_or_a_plugin_name() {
        assert_eq!(
            StoreKind::try_from("mongodb".to_string()),
            Ok(StoreKind::Mongodb)
        );
        assert_eq!(
            StoreKind::try_from("jsonl-store".to_string()),
            Ok(StoreKind::Plugin("jsonl-store".into()))
        );
        assert!(StoreKind::try_from("../nope".to_string()).is_err());
        assert!(StoreKind::try_from(String::new()).is_err());
    }

    #[test]
    fn versions_keep_their_order_once_each() {
        let v = XapiVersions::try_from("1.0.3, 2.0.0,1.0.3".to_string()).expect("valid");
        assert_eq!(v.as_slice(), [XapiVersion::V1_0_3, XapiVersion::V2_0_0]);
        assert!(XapiVersions::try_from("1.0.2".to_string()).is_err());
        assert_eq!(String::from(XapiVersions::default()), "2.0.0,1.0.3");
    }
}
