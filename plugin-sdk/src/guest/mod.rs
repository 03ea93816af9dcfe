//! Writing a plugin: one trait per world, with default methods, and one macro per world that
//! exports a type implementing it (as Zed's extension API does). Only built for WebAssembly.
//!
//! ```ignore
//! use xlrs_plugin_sdk::{export_validator, Statement, Validator};
//!
//! struct NoTests;
//!
//! impl Validator for NoTests {
//!     fn new() -> Self { NoTests }
//!     fn validate(&mut self, statement: &Statement) -> Result<(), String> {
//!         match statement.verb.id.as_str() {
//!             "http://example.org/test" => Err("test statements are not kept".into()),
//!             _ => Ok(()),
//!         }
//!     }
//! }
//!
//! export_validator!(NoTests);
//! ```

#[cfg(feature = "admission")]
pub mod admission;
pub mod bindings;
#[cfg(feature = "fields")]
pub mod fields;
pub mod http;
mod instance;
pub mod memory;
#[cfg(feature = "reactor")]
pub mod reactor;
#[cfg(feature = "storage")]
pub mod storage;

use crate::Statement;

#[cfg(feature = "admission")]
pub use admission::{Admission, Verdict, Violation};
pub use bindings::types::{
    IndexKey, Level, Page, StatementQuery, StatementRecord, StoreError, StoredStatement,
};
#[cfg(feature = "fields")]
pub use fields::{pointer, Change, FieldTransformer, FieldValidator, Fields};
#[doc(hidden)]
pub use instance::with_instance;
pub use memory::MemoryStore;
#[cfg(feature = "reactor")]
pub use reactor::{ReactionError, Reactor};

/// Writes a line to the server's log, tagged with the plugin's name.
pub fn log(level: Level, message: &str) {
    bindings::host::log(level, message);
}

/// A value of the plugin's `[config]` table in its manifest.
pub fn config(key: &str) -> Option<String> {
    bindings::host::config(key)
}

/// A statement a validator or transformer turns down, or a plugin failure (no index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// What is wrong, for the client (400) or the operator (500 when no statement is named).
    pub message: String,
    /// Index of the statement concerned in the batch.
    pub index: Option<usize>,
}

impl Rejection {
    /// A rejection of the statement at `index`.
    pub fn of(index: usize, message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            index: Some(index),
        }
    }

    /// A failure of the plugin itself (a 500 for the client, logged for the operator).
    pub fn failure(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            index: None,
        }
    }
}

impl From<Rejection> for bindings::types::Error {
    fn from(r: Rejection) -> Self {
        Self {
            message: r.message,
            statement_index: r.index.map(|i| i as u32),
        }
    }
}

/// A validator: sees each batch of spec-valid statements before it is stored and may reject
/// statements of it (the client gets a 400 naming the plugin, the index and the message).
pub trait Validator: 'static {
    /// Makes the plugin, once per instance, before its first call.
    fn new() -> Self
    where
        Self: Sized;

    /// Checks one statement: `Err` rejects it with that message.
    fn validate(&mut self, statement: &Statement) -> Result<(), String> {
        let _ = statement;
        Ok(())
    }

    /// Checks a batch; by default every statement with [`Validator::validate`].
    fn validate_batch(&mut self, statements: &[Statement]) -> Result<(), Vec<Rejection>> {
        let rejections: Vec<Rejection> = statements
            .iter()
            .enumerate()
            .filter_map(|(i, s)| self.validate(s).err().map(|m| Rejection::of(i, m)))
            .collect();
        if rejections.is_empty() {
            Ok(())
        } else {
            Err(rejections)
        }
    }
}

/// A transformer: rewrites each batch before it is stored, one statement out per statement in
/// with its id unchanged (the host validates the output again).
pub trait Transformer: 'static {
    /// Makes the plugin, once per instance, before its first call.
    fn new() -> Self
    where
        Self: Sized;

    /// Rewrites one statement: `Err` rejects it (400) with that message.
    fn transform(&mut self, statement: Statement) -> Result<Statement, String> {
        Ok(statement)
    }

    /// Rewrites a batch; by default every statement with [`Transformer::transform`].
    fn transform_batch(&mut self, statements: Vec<Statement>) -> Result<Vec<Statement>, Rejection> {
        statements
            .into_iter()
            .enumerate()
            .map(|(i, s)| self.transform(s).map_err(|m| Rejection::of(i, m)))
            .collect()
    }

    /// Rewrites a batch of JSON texts as the host sends them; by default parses them as
    /// statements for [`Transformer::transform_batch`]. Override it to take input that is not
    /// a statement yet (e.g. `xlrs convert` feeding tracking-log events).
    fn transform_texts(&mut self, texts: Vec<String>) -> Result<Vec<String>, Rejection> {
        let parsed = parse(&texts).map_err(|mut r| r.swap_remove(0))?;
        self.transform_batch(parsed)?
            .iter()
            .enumerate()
            .map(|(i, s)| {
                s.to_json()
                    .map_err(|e| Rejection::of(i, format!("cannot serialize: {e}")))
            })
            .collect()
    }
}

/// A storage backend for statements (`XLRS_STORE=<plugin name>`); the host computes every
/// query field, so a backend needs no xAPI knowledge beyond the rules on `insert`.
pub trait Backend: 'static {
    /// Makes the backend, once per instance, before its first call.
    fn new() -> Self
    where
        Self: Sized;

    /// Stores a batch atomically: all of it or nothing. An id already stored with the same
    /// content hash is skipped, with another hash the batch fails (`Conflict`); voiding a
    /// voiding statement fails it (`Rejected`); a statement named by a voiding statement's
    /// `voids` is voided, also when the voiding statement came first.
    fn insert(&mut self, batch: Vec<StatementRecord>) -> Result<(), StoreError>;

    /// One statement by id, voided or not.
    fn get(&mut self, id: &str) -> Result<Option<StoredStatement>, StoreError>;

    /// A page of matching statements (see `statement-query` in the WIT for the rules).
    fn query(&mut self, query: StatementQuery) -> Result<Page, StoreError>;
}

/// Parses a batch as the host sends it; a statement that does not parse is a rejection.
fn parse(statements: &[String]) -> Result<Vec<Statement>, Vec<Rejection>> {
    let mut parsed = Vec::with_capacity(statements.len());
    let mut rejections = Vec::new();
    for (i, text) in statements.iter().enumerate() {
        match Statement::from_json(text) {
            Ok(s) => parsed.push(s),
            Err(e) => rejections.push(Rejection::of(i, format!("not a statement: {e}"))),
        }
    }
    if rejections.is_empty() {
        Ok(parsed)
    } else {
        Err(rejections)
    }
}

/// The body of the exported `validate`: parses the batch and calls the plugin.
#[doc(hidden)]
pub fn run_validator<T: Validator>(
    statements: Vec<String>,
) -> Result<(), Vec<bindings::types::Error>> {
    let into_errors = |r: Vec<Rejection>| r.into_iter().map(Into::into).collect();
    let parsed = parse(&statements).map_err(into_errors)?;
    with_instance(T::new, |plugin: &mut T| plugin.validate_batch(&parsed)).map_err(into_errors)
}

/// The body of the exported `transform`: hands the batch to the plugin.
#[doc(hidden)]
pub fn run_transformer<T: Transformer>(
    statements: Vec<String>,
) -> Result<Vec<String>, bindings::types::Error> {
    Ok(with_instance(T::new, |plugin: &mut T| {
        plugin.transform_texts(statements)
    })?)
}

/// Exports a type implementing [`Validator`] as the plugin's `validate`.
#[macro_export]
macro_rules! export_validator {
    ($ty:ty) => {
        #[doc(hidden)]
        struct __XlrsExport;
        impl $crate::guest::bindings::validator::Guest for __XlrsExport {
            fn validate(
                statements: ::std::vec::Vec<::std::string::String>,
            ) -> ::std::result::Result<(), ::std::vec::Vec<$crate::guest::bindings::types::Error>> {
                $crate::guest::run_validator::<$ty>(statements)
            }
        }
        $crate::guest::bindings::validator::export_validator_bindings!(
            __XlrsExport with_types_in $crate::guest::bindings::validator
        );
    };
}

/// Exports a type implementing [`Transformer`] as the plugin's `transform`.
#[macro_export]
macro_rules! export_transformer {
    ($ty:ty) => {
        #[doc(hidden)]
        struct __XlrsExport;
        impl $crate::guest::bindings::transformer::Guest for __XlrsExport {
            fn transform(
                statements: ::std::vec::Vec<::std::string::String>,
            ) -> ::std::result::Result<
                ::std::vec::Vec<::std::string::String>,
                $crate::guest::bindings::types::Error,
            > {
                $crate::guest::run_transformer::<$ty>(statements)
            }
        }
        $crate::guest::bindings::transformer::export_transformer_bindings!(
            __XlrsExport with_types_in $crate::guest::bindings::transformer
        );
    };
}

/// Exports a type implementing [`Backend`] as the plugin's `store` interface.
#[macro_export]
macro_rules! export_backend {
    ($ty:ty) => {
        #[doc(hidden)]
        struct __XlrsExport;
        impl $crate::guest::bindings::backend::exports::store::Guest for __XlrsExport {
            fn insert(
                batch: ::std::vec::Vec<$crate::guest::StatementRecord>,
            ) -> ::std::result::Result<(), $crate::guest::StoreError> {
                $crate::guest::with_instance(<$ty as $crate::guest::Backend>::new, |b: &mut $ty| {
                    $crate::guest::Backend::insert(b, batch)
                })
            }
            fn get(
                id: ::std::string::String,
            ) -> ::std::result::Result<
                ::std::option::Option<$crate::guest::StoredStatement>,
                $crate::guest::StoreError,
            > {
                $crate::guest::with_instance(<$ty as $crate::guest::Backend>::new, |b: &mut $ty| {
                    $crate::guest::Backend::get(b, &id)
                })
            }
            fn query(
                q: $crate::guest::StatementQuery,
            ) -> ::std::result::Result<$crate::guest::Page, $crate::guest::StoreError> {
                $crate::guest::with_instance(<$ty as $crate::guest::Backend>::new, |b: &mut $ty| {
                    $crate::guest::Backend::query(b, q)
                })
            }
        }
        $crate::guest::bindings::backend::export_backend_bindings!(
            __XlrsExport with_types_in $crate::guest::bindings::backend
        );
    };
}
