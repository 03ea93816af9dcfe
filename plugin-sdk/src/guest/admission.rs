//! Admission plugins (`wit/v0.2`): asked only about statements the host's validation refused,
//! they answer per statement: not mine, accepted as sent (waiving exactly the rules named), or
//! replaced with a repaired statement.

use serde_json::Value;

use super::bindings::admission::xlrs::plugin::types as wit;

/// A rule of the xAPI specification a statement breaks, as the host's validation found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// The rule's stable name (`object-type`, `score`, `iri`, `activity-id`, …).
    pub rule: String,
    /// The JSON path of the offending property (`object.objectType`,
    /// `context.contextActivities.grouping[0].id`).
    pub path: String,
    /// What is wrong, in words.
    pub message: String,
}

/// What an admission plugin decides for one statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Not this plugin's to admit: the next admission plugin decides, else the statement is
    /// refused as it would be without plugins.
    Reject,
    /// Stored as sent, waiving exactly these rules (every violation's rule must be among
    /// them, else the host refuses the statement).
    Accept(Vec<String>),
    /// Stored as this repaired statement instead, validated again by the host.
    Replace(Value),
}

/// An admission plugin.
pub trait Admission: 'static {
    /// Makes the plugin, once per instance, before its first call.
    fn new() -> Self
    where
        Self: Sized;

    /// Decides for one statement that `credential` sent and that breaks `violations`.
    fn admit(&mut self, credential: &str, statement: &Value, violations: &[Violation]) -> Verdict;
}

/// The body of the exported `admit`: one verdict per candidate, in order. A candidate that
/// is not JSON is not this plugin's to admit.
#[doc(hidden)]
pub fn run_admission<T: Admission>(
    credential: String,
    candidates: Vec<wit::Candidate>,
) -> Vec<wit::Verdict> {
    super::with_instance(T::new, |plugin: &mut T| {
        candidates
            .into_iter()
            .map(|candidate| {
                let Ok(statement) = serde_json::from_str::<Value>(&candidate.statement) else {
                    return wit::Verdict::Reject;
                };
                let violations: Vec<Violation> = candidate
                    .violations
                    .into_iter()
                    .map(|v| Violation {
                        rule: v.rule,
                        path: v.path,
                        message: v.message,
                    })
                    .collect();
                match plugin.admit(&credential, &statement, &violations) {
                    Verdict::Reject => wit::Verdict::Reject,
                    Verdict::Accept(rules) => wit::Verdict::Accept(rules),
                    Verdict::Replace(repaired) => wit::Verdict::Replace(repaired.to_string()),
                }
            })
            .collect()
    })
}

/// Exports a type implementing [`Admission`] as the plugin's `admit`.
#[macro_export]
macro_rules! export_admission {
    ($ty:ty) => {
        #[doc(hidden)]
        struct __XlrsExport;
        impl $crate::guest::bindings::admission::Guest for __XlrsExport {
            fn admit(
                credential: ::std::string::String,
                candidates: ::std::vec::Vec<
                    $crate::guest::bindings::admission::xlrs::plugin::types::Candidate,
                >,
            ) -> ::std::vec::Vec<$crate::guest::bindings::admission::xlrs::plugin::types::Verdict>
            {
                $crate::guest::admission::run_admission::<$ty>(credential, candidates)
            }
        }
        $crate::guest::bindings::admission::export_admission_bindings!(
            __XlrsExport with_types_in $crate::guest::bindings::admission
        );
    };
}
