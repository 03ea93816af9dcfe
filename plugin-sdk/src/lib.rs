//! What an xlrs plugin author depends on: typed xAPI statements, helpers (IFI hashing,
//! extensions, language maps) and, when built for WebAssembly, one trait per plugin world with
//! an export macro that hides `wit_bindgen` (see [`guest`]).

pub mod ifi;
pub mod language;
pub mod statement;

#[cfg(target_arch = "wasm32")]
pub mod guest;

/// The released plugin contract this SDK targets (the `wit/v0.1` package): validators,
/// transformers, storage backends.
pub const WIT_VERSION: &str = "0.1.0";

/// The second released contract (the `wit/v0.2` package): admission plugins,
/// reactors, storage backends under the host's rules, and validators and transformers that
/// read fields, with the SDK's `admission`, `reactor`, `storage` and `fields` features.
pub const WIT_NEXT_VERSION: &str = "0.2.0";

pub use statement::{Account, Actor, Statement, Verb};

#[cfg(target_arch = "wasm32")]
pub use guest::{
    config, log, Backend, IndexKey, Level, MemoryStore, Page, Rejection, StatementQuery,
    StatementRecord, StoreError, StoredStatement, Transformer, Validator,
};
#[cfg(all(target_arch = "wasm32", feature = "fields"))]
pub use guest::{pointer, Change, FieldTransformer, FieldValidator, Fields};
#[cfg(all(target_arch = "wasm32", feature = "admission"))]
pub use guest::{Admission, Verdict, Violation};
#[cfg(all(target_arch = "wasm32", feature = "reactor"))]
pub use guest::{ReactionError, Reactor};
