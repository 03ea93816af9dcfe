//! The xAPI data model and every rule of the specification xlrs applies (Data, Communication,
//! both versions): parsing, validation, the stored form and its query fields, statement
//! comparison, canonical formats, signatures, query parameters. Pure code: no I/O, no clock,
//! no randomness, so it builds for wasm32 too (the plugin SDK depends on it).

pub mod activity;
pub mod agent;
pub mod canonical;
pub mod format;
pub mod person;
pub mod query;
pub mod signature;
pub mod statement;
pub mod strict_json;
pub mod time;
pub mod validate;
pub mod version;

#[cfg(test)]
mod fuzz;
