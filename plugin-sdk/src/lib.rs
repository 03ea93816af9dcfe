//! What an xlrs plugin author depends on: typed xAPI statements and helpers.
//!
//! The WebAssembly glue (a trait per world and a registration macro hiding `wit_bindgen`) comes
//! with the plugin runtime; these types and helpers are usable today, in plugins and tools.

pub mod ifi;
pub mod statement;

/// The plugin contract version this SDK targets (the `wit/v0.1` package).
pub const WIT_VERSION: &str = "0.1.0";

pub use statement::{Actor, Statement, Verb};
