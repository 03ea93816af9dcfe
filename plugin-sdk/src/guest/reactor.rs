//! Reactors (`wit/v0.2`): called with statements after the LRS stored them, in order, at least
//! once (from forwarding's durable queue: a target `url = "plugin:<name>"`); they answer the
//! statements they derive, which the LRS stores through its write path.

use serde_json::Value;

use super::bindings::reactor::xlrs::plugin::types as wit;

/// Why a reactor did not handle a batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReactionError {
    /// Not now: the batch is offered again later, after a growing wait.
    Retry(String),
    /// Never: the batch is set aside (a batch of several is offered again statement by
    /// statement, so only the statements refused alone are).
    Refuse(String),
}

/// A reactor plugin.
pub trait Reactor: 'static {
    /// Makes the plugin, once per instance, before its first call.
    fn new() -> Self
    where
        Self: Sized;

    /// Called with stored statements (with `stored`), in the order the LRS stored them.
    /// Answers the statements it derives (stored by the LRS as `reactor:<name>`; give each an
    /// `id` computed from its source so a batch offered again derives identical ones), or
    /// why it did not handle them.
    fn react(&mut self, statements: &[Value]) -> Result<Vec<Value>, ReactionError>;
}

#[doc(hidden)]
pub fn run_reactor<T: Reactor>(statements: Vec<String>) -> Result<Vec<String>, wit::ReactionError> {
    let parsed: Result<Vec<Value>, _> =
        statements.iter().map(|t| serde_json::from_str(t)).collect();
    let parsed =
        parsed.map_err(|e| wit::ReactionError::Retry(format!("a statement is not JSON: {e}")))?;
    super::with_instance(T::new, |plugin: &mut T| plugin.react(&parsed))
        .map(|derived| derived.iter().map(Value::to_string).collect())
        .map_err(|e| match e {
            ReactionError::Retry(why) => wit::ReactionError::Retry(why),
            ReactionError::Refuse(why) => wit::ReactionError::Refuse(why),
        })
}

/// Exports a type implementing [`Reactor`] as the plugin's `react`.
#[macro_export]
macro_rules! export_reactor {
    ($ty:ty) => {
        #[doc(hidden)]
        struct __XlrsExport;
        impl $crate::guest::bindings::reactor::Guest for __XlrsExport {
            fn react(
                statements: ::std::vec::Vec<::std::string::String>,
            ) -> ::std::result::Result<
                ::std::vec::Vec<::std::string::String>,
                $crate::guest::bindings::reactor::xlrs::plugin::types::ReactionError,
            > {
                $crate::guest::reactor::run_reactor::<$ty>(statements)
            }
        }
        $crate::guest::bindings::reactor::export_reactor_bindings!(
            __XlrsExport with_types_in $crate::guest::bindings::reactor
        );
    };
}
