//! xAPI versions: what a request asks for with `X-Experience-API-Version`, what we serve.

/// The header every xAPI request and response carries.
pub const VERSION_HEADER: &str = "X-Experience-API-Version";

/// An xAPI version this LRS serves (in settings, by its name: `1.0.3`, `2.0.0`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum XapiVersion {
    /// xAPI 1.0.3 (accepts requests for any 1.0.x).
    V1_0_3,
    /// IEEE 9274.1.1 — xAPI 2.0.0.
    V2_0_0,
}

impl TryFrom<String> for XapiVersion {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == name)
            .ok_or_else(|| format!("`{name}` is not a version xlrs serves (2.0.0, 1.0.3)"))
    }
}

impl From<XapiVersion> for String {
    fn from(version: XapiVersion) -> String {
        version.as_str().to_string()
    }
}

impl XapiVersion {
    /// Every version served, newest first (for `GET /about`).
    pub const ALL: [XapiVersion; 2] = [XapiVersion::V2_0_0, XapiVersion::V1_0_3];

    /// Reads a request's version header: `1.0`, `1.0.0`–`1.0.3` map to 1.0.3; `2.0`, `2.0.0` to 2.0.0.
    pub fn from_header(value: &str) -> Option<Self> {
        match value.trim() {
            "1.0" | "1.0.0" | "1.0.1" | "1.0.2" | "1.0.3" => Some(Self::V1_0_3),
            "2.0" | "2.0.0" => Some(Self::V2_0_0),
            _ => None,
        }
    }

    /// The version string sent back on every response.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1_0_3 => "1.0.3",
            Self::V2_0_0 => "2.0.0",
        }
    }

    /// The rules a statement was written under, from its `version`: 2.0.0 for `2.x`, else
    /// 1.0.3 (also when it has none).
    pub fn of_statement(statement: &serde_json::Value) -> Self {
        match statement["version"].as_str() {
            Some(v) if v.starts_with("2.") => Self::V2_0_0,
            _ => Self::V1_0_3,
        }
    }

    /// The version to send a batch of statements to another LRS with: 1.0.3, which every LRS
    /// in use serves, unless the batch holds a 2.0 statement.
    pub fn to_send<'a>(batch: impl IntoIterator<Item = &'a serde_json::Value>) -> Self {
        if batch
            .into_iter()
            .any(|s| Self::of_statement(s) == Self::V2_0_0)
        {
            Self::V2_0_0
        } else {
            Self::V1_0_3
        }
    }

    /// The `version` the LRS writes into a statement submitted without one.
    pub fn default_statement_version(self) -> &'static str {
        match self {
            Self::V1_0_3 => "1.0.0",
            Self::V2_0_0 => "2.0.0",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_1_0_x_request_is_served_as_1_0_3() {
        for v in ["1.0", "1.0.0", "1.0.1", "1.0.2", "1.0.3"] {
            assert_eq!(XapiVersion::from_header(v), Some(XapiVersion::V1_0_3));
        }
    }

    #[test]
    fn a_statement_is_read_under_the_rules_of_its_version() {
        let of = |v: serde_json::Value| XapiVersion::of_statement(&v);
        assert_eq!(
            of(serde_json::json!({"version": "2.0.0"})),
            XapiVersion::V2_0_0
        );
        assert_eq!(
            of(serde_json::json!({"version": "1.0.0"})),
            XapiVersion::V1_0_3
        );
        assert_eq!(of(serde_json::json!({})), XapiVersion::V1_0_3);
    }

    #[test]
    fn unsupported_versions_are_refused() {
        for v in ["", "0.95", "1.1.0", "3.0.0", "2.1.0", "1.0.4"] {
            assert_eq!(XapiVersion::from_header(v), None, "{v}");
        }
    }
}
