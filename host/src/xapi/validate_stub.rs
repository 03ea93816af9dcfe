//! TEMPORARY stand-in for validate.rs while it is being written.
use crate::xapi::version::XapiVersion;
/// A broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationError {
    /// Path.
    pub path: String,
    /// Rule.
    pub message: String,
}
impl std::fmt::Display for ValidationError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}
impl std::error::Error for ValidationError {}
/// Stub.
pub fn validate_statement(s: &serde_json::Value, _v: XapiVersion) -> Result<(), ValidationError> {
    for k in ["actor", "verb", "object"] {
        if s.get(k).is_none() {
            return Err(ValidationError {
                path: k.into(),
                message: "is required".into(),
            });
        }
    }
    Ok(())
}
/// Stub.
pub fn validate_agent(
    a: &serde_json::Value,
    path: &str,
    _v: XapiVersion,
) -> Result<(), ValidationError> {
    if a.is_object() {
        Ok(())
    } else {
        Err(ValidationError {
            path: path.into(),
            message: "must be an object".into(),
        })
    }
}
/// Stub.
pub fn parse_timestamp(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::parse_from_rfc3339(s)
        .ok()
        .map(|d| d.with_timezone(&chrono::Utc))
}
/// Stub.
pub fn is_iri(s: &str) -> bool {
    s.contains(':') && !s.contains(' ')
}
