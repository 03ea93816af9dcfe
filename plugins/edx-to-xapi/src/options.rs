//! Settings: what ERB takes from its Django environment (LMS URL, the learners' external ids
//! and e-mails, course names, its own version) given to the converter instead.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::ConvertError;

/// ERB's version at the commit the fixtures come from (`event-routing-backends@10.0.0`).
pub const DEFAULT_TRANSFORMER_VERSION: &str = "event-routing-backends@10.0.0";

/// How the actor is identified (ERB's `XAPI_AGENT_IFI_TYPE`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AgentIfi {
    /// `account: {homePage: platform_url, name: external user id}` (ERB's default).
    #[default]
    ExternalId,
    /// `mbox: mailto:<e-mail>`.
    Mbox,
    /// `mbox_sha1sum`: SHA-1 of the bare e-mail, as ERB computes it.
    MboxSha1sum,
}

impl AgentIfi {
    /// Parses ERB's setting value: `external_id`, `mbox` or `mbox_sha1sum`.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "external_id" | "" => Some(AgentIfi::ExternalId),
            "mbox" => Some(AgentIfi::Mbox),
            "mbox_sha1sum" => Some(AgentIfi::MboxSha1sum),
            _ => None,
        }
    }
}

/// Settings of the conversion (from the plugin's config); see the README for each one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    /// ERB's `LMS_ROOT_URL` (no trailing slash): the actors' `homePage` and the prefix of object ids.
    pub platform_url: String,
    /// UUID namespace of the actor names made for users missing from `external_user_ids`; `None`: `uuid5(NAMESPACE_URL, platform_url)`.
    pub uuid_namespace: Option<String>,
    /// The kind of actor identifier (ERB's `XAPI_AGENT_IFI_TYPE`).
    pub agent_ifi: AgentIfi,
    /// External user ids of type `xapi` by user id or username (`"*"`: any other user).
    pub external_user_ids: BTreeMap<String, String>,
    /// E-mail addresses by user id or username (`"*"`: any other user), for `mbox` actors.
    pub user_emails: BTreeMap<String, String>,
    /// Course display names by course id (`"*"`: any other course).
    pub course_names: BTreeMap<String, String>,
    /// Value of the `transformer-version` context extension.
    pub transformer_version: String,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            platform_url: String::new(),
            uuid_namespace: None,
            agent_ifi: AgentIfi::ExternalId,
            external_user_ids: BTreeMap::new(),
            user_emails: BTreeMap::new(),
            course_names: BTreeMap::new(),
            transformer_version: DEFAULT_TRANSFORMER_VERSION.to_string(),
        }
    }
}

impl Options {
    /// Options for an LMS at `platform_url`, everything else by default.
    pub fn for_lms(platform_url: &str) -> Self {
        Options {
            platform_url: platform_url.to_string(),
            ..Options::default()
        }
    }

    /// Reads the options from config values (the plugin's `[config]`), `config(key)` giving each one.
    pub fn from_config(config: impl Fn(&str) -> Option<String>) -> Result<Self, ConvertError> {
        let text = |key: &str| config(key).filter(|v| !v.trim().is_empty());
        let mut options = Options::default();
        if let Some(url) = text("lms_root_url").or_else(|| text("platform_url")) {
            options.platform_url = url.trim().to_string();
        }
        options.uuid_namespace = text("uuid_namespace").map(|n| n.trim().to_string());
        if let Some(ifi) = text("agent_ifi") {
            options.agent_ifi =
                AgentIfi::parse(&ifi).ok_or_else(|| ConvertError::InvalidOption {
                    option: "agent_ifi",
                    reason: format!("`{ifi}` is not external_id, mbox or mbox_sha1sum"),
                })?;
        }
        for (key, map) in [
            ("external_user_ids", &mut options.external_user_ids),
            ("user_emails", &mut options.user_emails),
            ("course_names", &mut options.course_names),
        ] {
            if let Some(json) = text(key) {
                *map = string_map(key, &json)?;
            }
        }
        if let Some(version) = config("transformer_version") {
            options.transformer_version = version;
        }
        Ok(options)
    }
}

/// A JSON object of strings, e.g. `{"3": "32e08e30-…", "*": "…"}`.
fn string_map(option: &'static str, json: &str) -> Result<BTreeMap<String, String>, ConvertError> {
    let invalid = |reason: String| ConvertError::InvalidOption { option, reason };
    let value: Value = serde_json::from_str(json)
        .map_err(|e| invalid(format!("not a JSON object of strings ({e})")))?;
    let Value::Object(object) = value else {
        return Err(invalid("not a JSON object of strings".into()));
    };
    object
        .into_iter()
        .map(|(key, value)| match value {
            Value::String(s) => Ok((key, s)),
            other => Err(invalid(format!(
                "the value of `{key}` is not a string: {other}"
            ))),
        })
        .collect()
}

/// The entry of `map` for `key`, else its `"*"` entry.
pub(crate) fn lookup<'a>(map: &'a BTreeMap<String, String>, key: &str) -> Option<&'a str> {
    map.get(key).or_else(|| map.get("*")).map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_values_fill_the_options() {
        let config = |key: &str| {
            match key {
                "lms_root_url" => Some("http://localhost:18000"),
                "agent_ifi" => Some("mbox"),
                "course_names" => Some(r#"{"*": "Demonstration Course"}"#),
                "transformer_version" => Some("event-routing-backends@1.1.1"),
                _ => None,
            }
            .map(String::from)
        };
        let options = Options::from_config(config).unwrap();
        assert_eq!(options.platform_url, "http://localhost:18000");
        assert_eq!(options.agent_ifi, AgentIfi::Mbox);
        assert_eq!(
            lookup(&options.course_names, "any"),
            Some("Demonstration Course")
        );
        assert_eq!(options.transformer_version, "event-routing-backends@1.1.1");
    }

    #[test]
    fn bad_config_values_are_named() {
        let err = Options::from_config(|k| (k == "course_names").then(|| "[1]".to_string()));
        assert!(err.unwrap_err().to_string().contains("course_names"));
        let err = Options::from_config(|k| (k == "agent_ifi").then(|| "email".to_string()));
        assert!(err.unwrap_err().to_string().contains("agent_ifi"));
    }
}
