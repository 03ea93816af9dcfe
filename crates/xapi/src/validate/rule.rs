//! The rules a statement can break, by stable name: what a [`ValidationError`] names, what an
//! admission plugin may waive, what `/metrics` counts waivers by.
//!
//! [`ValidationError`]: super::ValidationError

use std::fmt;

/// A rule of the xAPI specification (Data, Communication) a statement can break.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Rule {
    /// A value of the wrong JSON type (object, string, array, number, boolean).
    Type,
    /// A property not allowed where it stands.
    UnknownProperty,
    /// A property that must not be null.
    Null,
    /// A required property is missing.
    Required,
    /// An Activity without an `id`.
    ActivityId,
    /// A value that must be an IRI (or IRL) is not one.
    Iri,
    /// A value that must be a UUID is not one.
    Uuid,
    /// An `objectType` not allowed where it stands.
    ObjectType,
    /// An Agent's or Group's identifiers (exactly one IFI, their forms).
    Identifier,
    /// A Group's members.
    Group,
    /// An authority's form (a Group authority for OAuth).
    Authority,
    /// A language map or language tag.
    Language,
    /// A timestamp that is not ISO 8601 with a time zone.
    Timestamp,
    /// A duration that is not ISO 8601.
    Duration,
    /// A score outside its range: `scaled` in [-1, 1], `min` < `max`, `raw` between them.
    Score,
    /// The statement's `version`.
    Version,
    /// An interaction activity's type and components.
    Interaction,
    /// An attachment's metadata.
    Attachment,
    /// A voiding statement's object must be a StatementRef.
    Voiding,
    /// A SubStatement inside a SubStatement.
    SubStatement,
    /// A context property where it may not stand.
    Context,
    /// A query parameter of a resource (not a statement's rule).
    Parameter,
}

impl Rule {
    /// Every rule.
    pub const ALL: [Rule; 22] = [
        Self::Type,
        Self::UnknownProperty,
        Self::Null,
        Self::Required,
        Self::ActivityId,
        Self::Iri,
        Self::Uuid,
        Self::ObjectType,
        Self::Identifier,
        Self::Group,
        Self::Authority,
        Self::Language,
        Self::Timestamp,
        Self::Duration,
        Self::Score,
        Self::Version,
        Self::Interaction,
        Self::Attachment,
        Self::Voiding,
        Self::SubStatement,
        Self::Context,
        Self::Parameter,
    ];

    /// The rule's stable name (`object-type`, `score`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Type => "type",
            Self::UnknownProperty => "unknown-property",
            Self::Null => "null",
            Self::Required => "required",
            Self::ActivityId => "activity-id",
            Self::Iri => "iri",
            Self::Uuid => "uuid",
            Self::ObjectType => "object-type",
            Self::Identifier => "identifier",
            Self::Group => "group",
            Self::Authority => "authority",
            Self::Language => "language",
            Self::Timestamp => "timestamp",
            Self::Duration => "duration",
            Self::Score => "score",
            Self::Version => "version",
            Self::Interaction => "interaction",
            Self::Attachment => "attachment",
            Self::Voiding => "voiding",
            Self::SubStatement => "sub-statement",
            Self::Context => "context",
            Self::Parameter => "parameter",
        }
    }

    /// The rule of a name.
    pub fn named(name: &str) -> Option<Rule> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }

    /// True for a rule the LRS can look past and still store, index and serve the statement
    /// (an admission plugin may waive it): the statement keeps its actor, verb, object and
    /// ids, so every query still finds it. Any other rule can only be met by repairing the
    /// statement.
    pub fn waivable(self) -> bool {
        matches!(
            self,
            Self::ObjectType | Self::Iri | Self::ActivityId | Self::Score
        )
    }
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rule_has_one_name_that_names_it_back() {
        for rule in Rule::ALL {
            assert_eq!(Rule::named(rule.as_str()), Some(rule));
        }
        let mut names: Vec<&str> = Rule::ALL.iter().map(|r| r.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Rule::ALL.len());
    }
}
