//! Validators and transformers of `wit/v0.2` (feature `fields`): they read only the fields
//! they need from the statements the host holds, by JSON Pointer, and a transformer answers
//! only what it changes — no statement is serialized, parsed and serialized again whole.
//!
//! ```ignore
//! use xlrs_plugin_sdk::{export_field_validator, Fields, FieldValidator};
//!
//! struct NoTests;
//!
//! impl FieldValidator for NoTests {
//!     fn new() -> Self { NoTests }
//!     fn check(&mut self, statement: &Fields) -> Result<(), String> {
//!         match statement.string("/verb/id").as_deref() {
//!             Some("http://example.org/test") => Err("test statements are not kept".into()),
//!             _ => Ok(()),
//!         }
//!     }
//! }
//!
//! export_field_validator!(NoTests);
//! ```

use serde_json::Value;

use super::bindings::field_validator::xlrs::plugin::statements::Statement as Handle;
use super::bindings::field_validator::xlrs::plugin::types as wit;
use super::{with_instance, Rejection};

/// One statement of the batch, as the host holds it (after earlier transformers' changes).
pub struct Fields<'a> {
    handle: &'a Handle,
    index: usize,
}

impl Fields<'_> {
    /// Its index in the batch.
    pub fn index(&self) -> usize {
        self.index
    }

    /// The value at a JSON Pointer (RFC 6901: `/verb/id`, `/actor/member/0`); None when
    /// absent. [`pointer`] builds one from keys that hold `/` (extension IRIs).
    pub fn get(&self, pointer: &str) -> Option<Value> {
        self.parse(pointer)
    }

    /// True when the statement has a value at a JSON Pointer (a valid statement holds no
    /// `null`s).
    pub fn has(&self, pointer: &str) -> bool {
        self.handle.get(pointer).is_some()
    }

    /// The value at a JSON Pointer as a `T` (e.g. an [`crate::Actor`] at `/actor`); None
    /// when absent or not a `T`.
    pub fn parse<T: serde::de::DeserializeOwned>(&self, pointer: &str) -> Option<T> {
        self.text(pointer)
            .and_then(|text| serde_json::from_str(&text).ok())
    }

    /// The value at a JSON Pointer as JSON text (to parse as the plugin likes, or to key a
    /// cache of what the plugin made of it); None when absent.
    pub fn text(&self, pointer: &str) -> Option<String> {
        self.handle.get(pointer)
    }

    /// The string at a JSON Pointer; None when absent or not a string.
    pub fn string(&self, pointer: &str) -> Option<String> {
        self.handle.get_string(pointer)
    }

    /// The whole statement (parsed: what the fields spare a plugin, so use it only when the
    /// plugin needs most of the statement).
    pub fn whole(&self) -> Value {
        self.get("").unwrap_or(Value::Null)
    }
}

/// A JSON Pointer to the member reached through `keys` (each escaped: `~` as `~0`, `/` as
/// `~1`), e.g. `pointer(&["context", "extensions", "https://w3id.org/xapi/video/extensions/length"])`.
pub fn pointer(keys: &[&str]) -> String {
    keys.iter()
        .map(|k| format!("/{}", k.replace('~', "~0").replace('/', "~1")))
        .collect()
}

/// What a transformer does to one statement.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Nothing: the host keeps the statement, without validating it again.
    Unchanged,
    /// A JSON merge patch (RFC 7396): members set to `null` are removed, objects merge.
    Patch(Value),
    /// A JSON merge patch already written as JSON text: what a plugin saves by not building
    /// and serializing a [`Value`] (about 3 µs a statement in WebAssembly for a small patch).
    PatchJson(String),
    /// The whole statement instead.
    Replace(Value),
}

/// A validator that reads fields: sees each batch of spec-valid statements before it is stored
/// and may reject statements of it (a 400 listing every rejection).
pub trait FieldValidator: 'static {
    /// Makes the plugin, once per instance, before its first call.
    fn new() -> Self
    where
        Self: Sized;

    /// Checks one statement: `Err` rejects it with that message.
    fn check(&mut self, statement: &Fields) -> Result<(), String> {
        let _ = statement;
        Ok(())
    }

    /// Checks a batch; by default every statement with [`FieldValidator::check`]. A
    /// rejection without an index is a failure of the plugin (the call traps: a 500).
    fn check_batch(&mut self, statements: &[Fields]) -> Vec<Rejection> {
        statements
            .iter()
            .filter_map(|s| self.check(s).err().map(|m| Rejection::of(s.index, m)))
            .collect()
    }
}

/// A transformer that answers changes: one [`Change`] per statement, the host applies it and
/// validates the changed statements again (the `id` may not change).
pub trait FieldTransformer: 'static {
    /// Makes the plugin, once per instance, before its first call.
    fn new() -> Self
    where
        Self: Sized;

    /// The change to one statement: `Err` rejects it (400) with that message.
    fn change(&mut self, statement: &Fields) -> Result<Change, String> {
        let _ = statement;
        Ok(Change::Unchanged)
    }

    /// The changes to a batch; by default every statement's with [`FieldTransformer::change`],
    /// rejecting the batch with every statement refused. A rejection without an index is a
    /// failure of the plugin (the call traps: a 500).
    fn change_batch(&mut self, statements: &[Fields]) -> Result<Vec<Change>, Vec<Rejection>> {
        let mut changes = Vec::with_capacity(statements.len());
        let mut rejections = Vec::new();
        for s in statements {
            match self.change(s) {
                Ok(change) => changes.push(change),
                Err(m) => rejections.push(Rejection::of(s.index, m)),
            }
        }
        if rejections.is_empty() {
            Ok(changes)
        } else {
            Err(rejections)
        }
    }
}

fn fields(handles: &[Handle]) -> Vec<Fields<'_>> {
    handles
        .iter()
        .enumerate()
        .map(|(index, handle)| Fields { handle, index })
        .collect()
}

/// Rejections for the host; one without an index is the plugin's failure: a trap, whose
/// message the panic hook logs.
fn rejections(list: Vec<Rejection>) -> Vec<wit::Rejection> {
    list.into_iter()
        .map(|r| match r.index {
            Some(i) => wit::Rejection {
                statement_index: i as u32,
                message: r.message,
            },
            None => panic!("{}", r.message),
        })
        .collect()
}

#[doc(hidden)]
pub fn run_field_validator<T: FieldValidator>(handles: Vec<Handle>) -> Vec<wit::Rejection> {
    let fields = fields(&handles);
    rejections(with_instance(T::new, |plugin: &mut T| {
        plugin.check_batch(&fields)
    }))
}

#[doc(hidden)]
pub fn run_field_transformer<T: FieldTransformer>(
    handles: Vec<Handle>,
) -> Result<Vec<wit::Change>, Vec<wit::Rejection>> {
    let fields = fields(&handles);
    let changes =
        with_instance(T::new, |plugin: &mut T| plugin.change_batch(&fields)).map_err(rejections)?;
    Ok(changes
        .into_iter()
        .map(|c| match c {
            Change::Unchanged => wit::Change::Unchanged,
            Change::Patch(v) => wit::Change::Patch(v.to_string()),
            Change::PatchJson(text) => wit::Change::Patch(text),
            Change::Replace(v) => wit::Change::Replace(v.to_string()),
        })
        .collect())
}

/// Exports a type implementing [`FieldValidator`] as the plugin's `validate` (`wit/v0.2`).
#[macro_export]
macro_rules! export_field_validator {
    ($ty:ty) => {
        #[doc(hidden)]
        struct __XlrsExport;
        impl $crate::guest::bindings::field_validator::Guest for __XlrsExport {
            fn validate(
                statements: ::std::vec::Vec<
                    $crate::guest::bindings::field_validator::xlrs::plugin::statements::Statement,
                >,
            ) -> ::std::vec::Vec<$crate::guest::bindings::field_validator::xlrs::plugin::types::Rejection>
            {
                $crate::guest::fields::run_field_validator::<$ty>(statements)
            }
        }
        $crate::guest::bindings::field_validator::export_field_validator_bindings!(
            __XlrsExport with_types_in $crate::guest::bindings::field_validator
        );
    };
}

/// Exports a type implementing [`FieldTransformer`] as the plugin's `transform` (`wit/v0.2`).
#[macro_export]
macro_rules! export_field_transformer {
    ($ty:ty) => {
        #[doc(hidden)]
        struct __XlrsExport;
        impl $crate::guest::bindings::field_transformer::Guest for __XlrsExport {
            fn transform(
                statements: ::std::vec::Vec<
                    $crate::guest::bindings::field_validator::xlrs::plugin::statements::Statement,
                >,
            ) -> ::std::result::Result<
                ::std::vec::Vec<$crate::guest::bindings::field_validator::xlrs::plugin::types::Change>,
                ::std::vec::Vec<$crate::guest::bindings::field_validator::xlrs::plugin::types::Rejection>,
            > {
                $crate::guest::fields::run_field_transformer::<$ty>(statements)
            }
        }
        $crate::guest::bindings::field_transformer::export_field_transformer_bindings!(
            __XlrsExport with_types_in $crate::guest::bindings::field_transformer
        );
    };
}
