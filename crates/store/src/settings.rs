//! What the settings of the stores share: the error a value that cannot work is, and the
//! checks several of them make. Each store validates its own settings at start-up.

/// A setting whose value is well-formed but cannot work.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid setting `{key}`: {message}")]
pub struct SettingError {
    /// The setting's name as an operator writes it (`clickhouse.url`).
    pub key: &'static str,
    /// What is wrong with it.
    pub message: String,
}

impl SettingError {
    /// The error of setting `key`.
    pub fn new(key: &'static str, message: impl Into<String>) -> Self {
        Self {
            key,
            message: message.into(),
        }
    }
}

/// Refuses a setting `key` whose value is not an `http://` or `https://` URL.
pub fn check_http_url(key: &'static str, url: &str) -> Result<(), SettingError> {
    if (url.starts_with("http://") || url.starts_with("https://")) && url::Url::parse(url).is_ok() {
        return Ok(());
    }
    Err(SettingError::new(
        key,
        format!("`{url}` is not an http:// or https:// URL"),
    ))
}
