//! The error of a conversion.

use std::fmt;

/// Why an event of a handled type could not be converted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConvertError {
    /// A field the conversion needs is absent (or null); holds its dotted path, e.g. `event.id`.
    MissingField(String),
    /// A field is present but unusable; holds its dotted path and what is wrong with it.
    InvalidField {
        /// Dotted path of the field, e.g. `event.id`.
        field: String,
        /// What is wrong with the value.
        reason: String,
    },
    /// An option of [`crate::Options`] is unusable; holds the option name and the reason.
    InvalidOption {
        /// Name of the option, e.g. `platform_url` or `course_names`.
        option: &'static str,
        /// What is wrong with the value.
        reason: String,
    },
    /// The input line of [`crate::convert_line`] is not JSON; holds the parser's message.
    InvalidJson(String),
}

impl ConvertError {
    /// The error for an absent field at `field`.
    pub(crate) fn missing(field: &str) -> Self {
        ConvertError::MissingField(field.to_string())
    }

    /// The error for an unusable value at `field`.
    pub(crate) fn invalid(field: &str, reason: impl Into<String>) -> Self {
        ConvertError::InvalidField {
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    /// The dotted path of the field at fault, if the error is about an event field.
    pub fn field(&self) -> Option<&str> {
        match self {
            ConvertError::MissingField(field) | ConvertError::InvalidField { field, .. } => {
                Some(field)
            }
            _ => None,
        }
    }
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConvertError::MissingField(field) => write!(f, "missing field `{field}`"),
            ConvertError::InvalidField { field, reason } => {
                write!(f, "invalid field `{field}`: {reason}")
            }
            ConvertError::InvalidOption { option, reason } => {
                write!(f, "invalid option `{option}`: {reason}")
            }
            ConvertError::InvalidJson(message) => write!(f, "invalid JSON event: {message}"),
        }
    }
}

impl std::error::Error for ConvertError {}
